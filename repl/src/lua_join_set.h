/*
 * lua_join_set.h — rt.task.JoinSet: tasks awaited in the order they finish.
 */
#ifndef LUA_JOIN_SET_H
#define LUA_JOIN_SET_H

#include <lua.h>

/* Fill rt.task.JoinSet (rt at stack index rt, which has a `task` table). */
void al_lua_open_join_set(lua_State *L, int rt);

#endif
