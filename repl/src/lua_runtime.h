/*
 * lua_runtime.h — rt.runtime: Builder, Runtime, Handle, default().
 */
#ifndef LUA_RUNTIME_H
#define LUA_RUNTIME_H

#include <lua.h>

/* Add rt.runtime to rt (the table at stack index rt). */
void al_lua_open_runtime(lua_State *L, int rt);
/* The runtime of the Runtime handle at idx; raises a "bad argument" error
 * for anything else. */
struct al_runtime *al_lua_check_runtime(lua_State *L, int idx);

#endif
