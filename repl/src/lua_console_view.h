/*
 * lua_console_view.h — rt.console{sort=..., limit=..., done=...}: the
 * console's task table, ordered and trimmed.
 */
#ifndef LUA_CONSOLE_VIEW_H
#define LUA_CONSOLE_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "asynclab.h"

typedef struct {
    int sort;        /* column index (see lua_console_view.c) */
    long long limit; /* -1: no limit */
    bool done;       /* show finished tasks too */
} al_lua_console_opts_t;

/* Read the options table at stack index idx (rt.console's argument #1);
 * raises a "bad argument" error for unknown options or values. */
void al_lua_console_opts(lua_State *L, int idx, al_lua_console_opts_t *o);

/* Push the console text `text` (printed from s by al_console_print) with its
 * TASKS table arranged as o says. */
void al_lua_console_view(lua_State *L, const al_lua_console_opts_t *o,
                         const al_console_snapshot_t *s, const char *text, size_t len);

#endif
