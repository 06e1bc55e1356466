/*
 * lua_complete.h — tab completion of globals, rt./std. paths and methods.
 */
#ifndef LUA_COMPLETE_H
#define LUA_COMPLETE_H

#include <lua.h>

/* Complete from L's globals at the readline prompt. */
void al_lua_complete_install(lua_State *L);

#endif
