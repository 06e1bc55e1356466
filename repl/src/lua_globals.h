/*
 * lua_globals.h — the globals a function's code names, so that a task sees
 * the globals it uses: at spawn, the values those names have for the
 * spawning code are copied into the task's environment (a snapshot, like
 * every other value that moves; standard globals such as print or rt are
 * the task state's own and are not copied).
 */
#ifndef LUA_GLOBALS_H
#define LUA_GLOBALS_H

#include <stdbool.h>

#include <lua.h>

/* Push a set (table name -> true) of the names the Lua function at fn may
 * read as globals (a superset: every short string constant). False when
 * its bytecode could not be read (the set is then incomplete). */
bool al_lua_global_names(lua_State *L, int fn);

/* Push a table with the values, as seen by the function at fn, of the
 * non-standard globals it may read (nil ones left out). Cached per
 * function prototype. Never raises on a value: the caller packs the table
 * and decides. */
void al_lua_used_globals(lua_State *L, int fn);

#endif
