/*
 * lua_rwlock.h — rt.sync.RwLock: many readers or one writer.
 */
#ifndef LUA_RWLOCK_H
#define LUA_RWLOCK_H

#include <lua.h>

/* Fill rt.sync.RwLock (rt at stack index rt, which has a `sync` table). */
void al_lua_open_rwlock(lua_State *L, int rt);

#endif
