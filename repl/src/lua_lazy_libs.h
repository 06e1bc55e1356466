/*
 * lua_lazy_libs.h — cheap task states: libraries opened on first use.
 *
 * Every Lua task owns a whole Lua state (so tasks run in parallel and move
 * between workers), and a state with the standard libraries and the rt /
 * std modules weighs ~60 KiB of Lua heap, most of it names and tables the
 * task never touches. A lazy state starts bare (~5 KiB, what lua_newstate
 * itself allocates) and opens what the task's code names, when it first
 * names it:
 *   - a base function (print, pairs, error...) or _G / _VERSION: just that
 *     global (the functions are the base library's own C functions);
 *   - string, table, math, io, os, coroutine, utf8, debug, package (and
 *     require): that library, as luaL_openlibs would;
 *   - rt, std: two small tables whose submodules and functions are made
 *     on first read in turn (al_lua_open_rt_lazy, pairs(rt) makes all);
 *   - a method call or arithmetic on a string: the string library;
 *   - require "x" / package.loaded.x of any of the above: the same.
 * Code sees the same globals as in an eagerly opened state; only raw
 * access (rawget(_G, "print"), pairs(_G)) shows what was opened so far.
 * What a state opened stays open when the state is recycled.
 */
#ifndef LUA_LAZY_LIBS_H
#define LUA_LAZY_LIBS_H

#include <stdbool.h>

#include <lua.h>

/* Make L (a bare state, no libraries) lazy: globals, string metatable and
 * package.loaded._G as above. Raises only on memory errors (call it in a
 * protected way or on a fresh state where that means failure). */
void al_lua_lazy_setup(lua_State *L);

/* Whether L's globals still have the lazy metatable (a task may replace it:
 * setmetatable(_G, ...)). A state whose globals lost it is not recycled. */
bool al_lua_lazy_intact(lua_State *L);

/* Push package.loaded[name] of L, opening it first when it is one of the
 * libraries a lazy state opens on first use. Returns false (pushing
 * nothing) when name is no such library and is not loaded. */
bool al_lua_lazy_require(lua_State *L, const char *name);

#endif
