/*
 * lua_interrupt.h — Ctrl-C at the prompt (see lua_interrupt.c).
 */
#ifndef LUA_INTERRUPT_H
#define LUA_INTERRUPT_H

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>

#include <lua.h>

#include "asynclab.h"

/* Where SIGINT jumps while the prompt reads a line (when al_lua_at_prompt). */
extern sigjmp_buf al_lua_prompt_jmp;
extern volatile sig_atomic_t al_lua_at_prompt;

/* Route SIGINT to interrupting L's running line. 0, or -1 on failure. */
int al_lua_interrupt_install(lua_State *L);
/* For a top-level await's poll: true once Ctrl-C was pressed (the poll is
 * woken when it is). */
bool al_lua_interrupted(al_context_t *cx);
/* Before each new line. */
void al_lua_interrupt_clear(void);

#endif
