/*
 * lua_select.h — rt.select and rt.time.timeout.
 */
#ifndef LUA_SELECT_H
#define LUA_SELECT_H

#include <lua.h>

/* Add rt.select to rt (the table at stack index rt). */
void al_lua_open_select(lua_State *L, int rt);
/* rt.time.timeout (Lua code over rt.select; apart: a task state opens it on
 * first read). */
void al_lua_open_timeout(lua_State *L, int rt);

#endif
