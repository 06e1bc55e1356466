/*
 * lua_sync.h — rt.sync.Mutex / Semaphore / Notify and std.sync.Mutex.
 */
#ifndef LUA_SYNC_H
#define LUA_SYNC_H

#include <lua.h>

/* Fill rt.sync and std.sync (tables at stack indices rt and std, which
 * already have a `sync` table each). */
void al_lua_open_sync(lua_State *L, int rt, int std);

#endif
