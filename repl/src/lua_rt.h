/*
 * lua_rt.h — the asynclab Lua API (lua-api.md): the `rt` and `std` globals.
 */
#ifndef LUA_RT_H
#define LUA_RT_H

#include <lauxlib.h>
#include <lua.h>

/* t[field] = a new table of fns, where t is at the top of the stack; also
 * registered as package.loaded[path], so that errors in functions called
 * without a name still name them ("bad argument #1 to 'rt.time.sleep'"). */
void al_lua_module(lua_State *L, const char *field, const char *path, const luaL_Reg *fns);

/* Define `rt` and `std` in L (globals, and package.loaded rt / std /
 * asynclab), with every module and function; pops nothing, pushes nothing. */
void al_lua_open_rt(lua_State *L);
/* The same, but rt and std start nearly empty: each submodule or function
 * (rt.time, rt.sync.oneshot, rt.help...) is made when first read, and
 * pairs(rt) / pairs(rt.sync) make everything under the table first. For
 * task states (lua_lazy_libs.h). */
void al_lua_open_rt_lazy(lua_State *L);
/* Make every part of rt / std not made yet in L (rt must be open). */
void al_lua_rt_open_all(lua_State *L);
/* Make the parts that define the dotted name ("rt.sync.mpsc") and the
 * tables above it, so that package.loaded[name] is set if it exists. */
void al_lua_rt_open_name(lua_State *L, const char *name);
/* Make task states the way the program does (libraries, rt, std): for a
 * host that opens rt in a state of its own (the asynclab.so module). */
void al_lua_use_task_states(void);
/* A state for the program's top level: standard libraries, rt, std. Also
 * sets up how task states are made. NULL when out of memory. */
lua_State *al_lua_main_state(void);

#endif
