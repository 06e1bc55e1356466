/*
 * lua_broadcast.h — rt.sync.broadcast: every receiver sees every value.
 */
#ifndef LUA_BROADCAST_H
#define LUA_BROADCAST_H

#include <lua.h>

/* Fill rt.sync.broadcast (rt at stack index rt, which has a `sync` table). */
void al_lua_open_broadcast(lua_State *L, int rt);

#endif
