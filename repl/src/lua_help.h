/*
 * lua_help.h — rt.help: the API documented at the prompt.
 */
#ifndef LUA_HELP_H
#define LUA_HELP_H

#include <lua.h>

/* Add rt.help to rt (the table at stack index rt). */
void al_lua_open_help(lua_State *L, int rt);

#endif
