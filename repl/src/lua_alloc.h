/*
 * lua_alloc.h — Lua states with a memory budget: a task whose state grows
 * past its limit gets Lua's "not enough memory" error (its panic), instead
 * of the process running out of memory. The same per-state record counts
 * the finalized values (handles) made in the state, so that a recycled
 * task state is collected only when a collection has something to release.
 */
#ifndef LUA_ALLOC_H
#define LUA_ALLOC_H

#include <stdbool.h>
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
/* Bytes L holds from the system: its large blocks and its slabs of small
 * ones, free or not (what closing it would give back). */
size_t al_lua_alloc_footprint(lua_State *L);
/* Note that a value with a finalizer that releases something (a handle)
 * was made in L. */
void al_lua_alloc_note_finalizer(lua_State *L);
/* Keep noting: every recycle of L collects (io opened: files close at
 * collection). */
void al_lua_alloc_always_collect(lua_State *L);
/* Whether finalizers were noted since the last call (and reset the count). */
bool al_lua_alloc_take_finalizers(lua_State *L);

#endif
