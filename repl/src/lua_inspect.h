/*
 * lua_inspect.h — rt.metrics / console / tasks / dump / lints / trace, and
 * the observers the program keeps on its default runtime.
 */
#ifndef LUA_INSPECT_H
#define LUA_INSPECT_H

#include <lua.h>

#include "asynclab.h"

/* Follow rt (the default runtime) with a console model, the lint engine and
 * a SIGQUIT task dump. ASYNCLAB_NO_CONSOLE=1 in the environment skips it. */
void al_lua_inspect_attach(al_runtime_t *rt);
/* After the runtime was freed: stop recording, free the observers. */
void al_lua_inspect_detach(void);
/* The console model's state of a task of the default runtime ("idle",
 * "scheduled", "running", "blocked", "done"), or NULL when unknown. */
const char *al_lua_task_state_name(uint64_t id);
/* Push rt's metrics as rt.metrics() returns them (runtime:metrics() too). */
void al_lua_push_metrics(lua_State *L, al_runtime_t *rt);
/* Add the functions to rt (the table at stack index rt). */
void al_lua_open_inspect(lua_State *L, int rt);

#endif
