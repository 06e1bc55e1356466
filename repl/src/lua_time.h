/*
 * lua_time.h — rt.time.interval, rt.time.Instant, rt.time.sleep_until and
 * paused test time (rt.time.pause / advance / resume).
 */
#ifndef LUA_TIME_H
#define LUA_TIME_H

#include <lua.h>

/* Fill rt.time (rt at stack index rt, which has a `time` table). */
void al_lua_open_time(lua_State *L, int rt);

#endif
