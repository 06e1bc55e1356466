/*
 * lua_local_set.h — rt.runtime.LocalSet and rt.task.spawn_local.
 */
#ifndef LUA_LOCAL_SET_H
#define LUA_LOCAL_SET_H

#include <lua.h>

/* Fill rt.runtime.LocalSet and rt.task.spawn_local (rt at stack index rt,
 * which has `runtime` and `task` tables). */
void al_lua_open_local_set(lua_State *L, int rt);
/* rt.task.spawn_local (apart: a task state opens the two on first read). */
void al_lua_open_spawn_local(lua_State *L, int rt);

#endif
