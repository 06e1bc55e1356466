/*
 * lua_chan.h — rt.sync.mpsc and rt.sync.oneshot.
 */
#ifndef LUA_CHAN_H
#define LUA_CHAN_H

#include <lua.h>

/* Fill rt.sync (the table at stack index sync) with mpsc and oneshot. */
void al_lua_open_chan(lua_State *L, int sync);

#endif
