/*
 * lua_watch.h — rt.sync.watch: one current value that receivers watch.
 */
#ifndef LUA_WATCH_H
#define LUA_WATCH_H

#include <lua.h>

/* Fill rt.sync.watch (rt at stack index rt, which has a `sync` table). */
void al_lua_open_watch(lua_State *L, int rt);

#endif
