/*
 * lua_rt.h — the asynclab Lua API (lua-api.md): the `rt` and `std` globals.
 */
#ifndef LUA_RT_H
#define LUA_RT_H

#include <lua.h>

/* Define `rt` and `std` in L. */
void al_lua_open_rt(lua_State *L);
/* A state for the program's top level: standard libraries, rt, std. Also
 * sets up how task states are made. NULL when out of memory. */
lua_State *al_lua_main_state(void);

#endif
