/*
 * lua_viz_hooks.h — the lesson hooks of rt.viz: rt.viz.caption(text),
 * rt.viz.highlight(...) and rt.viz.marker(name). Each records an event
 * (CAPTION, HIGHLIGHT, MARKER; al_stream.h) on the runtime the caller runs on,
 * so a live visualizer and every replay of a recording show it.
 */
#ifndef LUA_VIZ_HOOKS_H
#define LUA_VIZ_HOOKS_H

#include <lua.h>

/* Add caption / highlight / marker to rt.viz (rt at stack index rt), making
 * rt.viz (also package.loaded["rt.viz"]) if it does not exist yet. Call it
 * after whatever else fills rt.viz (rt.viz.open / close), so that the table
 * is shared rather than replaced. */
void al_lua_open_viz_hooks(lua_State *L, int rt);

#endif
