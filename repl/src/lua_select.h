/*
 * lua_select.h — rt.select and rt.time.timeout.
 */
#ifndef LUA_SELECT_H
#define LUA_SELECT_H

#include <lua.h>

/* Add rt.select and rt.time.timeout (rt.time must exist) to rt (the table
 * at stack index rt). */
void al_lua_open_select(lua_State *L, int rt);

#endif
