/*
 * lua_repl.h — the interactive prompt: return-first evaluation (so that
 * expressions print), `=expr`, continuation lines for incomplete input,
 * _PROMPT / _PROMPT2, line editing and history with GNU readline when stdin
 * is a terminal, plain line reading when input is piped.
 */
#ifndef LUA_REPL_H
#define LUA_REPL_H

#include <lua.h>

/* Read-eval-print until end of input. Returns 0. */
int al_lua_repl(lua_State *L);

#endif
