/*
 * lua_viz.h — rt.viz: the visualizer window on a running runtime from Lua
 * (viz/src/viz_live.h), and the runtime's step mode.
 *
 * One window at a time, on the default runtime or a Runtime given. The
 * program closes it before a runtime it shows is freed (al_lua_viz_forget)
 * and before exit (al_lua_viz_close_all). Built without the visualizer (the
 * `require "asynclab"` module), rt.viz.open returns nil and a message.
 */
#ifndef LUA_VIZ_H
#define LUA_VIZ_H

#include <lua.h>
#include <stdbool.h>

struct al_runtime;

/* Add rt.viz to rt (the table at stack index rt). */
void al_lua_open_viz(lua_State *L, int rt);
/* Close the window if it shows rt (rt is about to be freed). */
void al_lua_viz_forget(struct al_runtime *rt);
/* Close the window, if any. */
void al_lua_viz_close_all(void);
/* Open a window on the default runtime (asynclab --viz): false with a message
 * in err when it cannot. */
bool al_lua_viz_open_default(char *err, size_t cap);
/* Wait until the user closes the window (asynclab --viz, after the script). */
void al_lua_viz_wait_closed(void);

#endif
