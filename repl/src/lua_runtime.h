/*
 * lua_runtime.h — rt.runtime: Builder, Runtime, Handle, default().
 */
#ifndef LUA_RUNTIME_H
#define LUA_RUNTIME_H

#include <lua.h>

/* Add rt.runtime to rt (the table at stack index rt). */
void al_lua_open_runtime(lua_State *L, int rt);

#endif
