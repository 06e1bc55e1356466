/*
 * lua_alloc.h — Lua states with a memory budget: a task whose state grows
 * past its limit gets Lua's "not enough memory" error (its panic), instead
 * of the process running out of memory.
 */
#ifndef LUA_ALLOC_H
#define LUA_ALLOC_H

#include <stddef.h>

#include <lua.h>

/* A new state (no libraries) whose allocator counts its bytes. */
lua_State *al_lua_alloc_state(void);
/* Allow L (made by al_lua_alloc_state) at most limit bytes in all;
 * SIZE_MAX: no limit. The current size is not changed, only future growth
 * refused. */
void al_lua_alloc_set_limit(lua_State *L, size_t limit);
/* Close L and free its budget (instead of lua_close). */
void al_lua_alloc_close(lua_State *L);
/* Bytes L uses now. */
size_t al_lua_alloc_used(lua_State *L);

#endif
