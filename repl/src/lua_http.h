/*
 * lua_http.h — rt.net.http_get: a tiny HTTP/1.0 client for loopback health
 * checks in lessons (no TLS, no name lookup, no redirects).
 */
#ifndef LUA_HTTP_H
#define LUA_HTTP_H

#include <lua.h>

/* rt.net.http_get, in the table at stack index net. */
void al_lua_open_http(lua_State *L, int net);

#endif
