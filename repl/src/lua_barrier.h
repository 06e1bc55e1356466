/*
 * lua_barrier.h — rt.sync.Barrier: n tasks wait until all n have arrived.
 */
#ifndef LUA_BARRIER_H
#define LUA_BARRIER_H

#include <lua.h>

/* Fill rt.sync.Barrier (rt at stack index rt, which has a `sync` table). */
void al_lua_open_barrier(lua_State *L, int rt);

#endif
