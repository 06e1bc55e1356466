/*
 * lua_future.h — rt.future{ poll = ... }, rt.PENDING and wakers.
 */
#ifndef LUA_FUTURE_H
#define LUA_FUTURE_H

#include <lua.h>

/* Add rt.future and rt.PENDING to rt (the table at stack index rt). */
void al_lua_open_future(lua_State *L, int rt);

#endif
