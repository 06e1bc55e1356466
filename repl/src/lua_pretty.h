/*
 * lua_pretty.h — rt.pretty: values printed for people (the REPL uses it).
 */
#ifndef LUA_PRETTY_H
#define LUA_PRETTY_H

#include <lua.h>

/* Add rt.pretty to rt (the table at stack index rt). */
void al_lua_open_pretty(lua_State *L, int rt);

#endif
