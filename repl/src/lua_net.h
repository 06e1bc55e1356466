/*
 * lua_net.h — rt.net: TCP listeners and streams on loopback, through the
 * runtime's I/O driver (al_net.h), and rt.net.http_get (lua_http.h).
 */
#ifndef LUA_NET_H
#define LUA_NET_H

#include <lua.h>

/* rt.net (in the rt table at stack index rt): TcpListener, TcpStream and
 * http_get; registers the TcpListener / TcpStream classes in L. */
void al_lua_open_net(lua_State *L, int rt);

#endif
