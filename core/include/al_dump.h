/*
 * al_dump.h — task dumps on demand: `kill -QUIT <pid>` prints one.
 *
 * al_dump_on_sigquit installs a SIGQUIT handler that only writes a byte to a
 * pipe; a watcher thread of its own reads it and calls the dump function
 * there. So a dump never needs a runtime worker: it works while every worker
 * is blocked (in std.thread.sleep, a std mutex, a spin), which is when one
 * is needed most. The dump function itself usually formats the console model
 * (al_console.h), which the stream's collector keeps up to date.
 *
 * Actions (al_dump_action_add) run on the same watcher, after the dump, on
 * every SIGQUIT: e.g. a flight recorder writing its window to a file
 * (al_flight.h). The handler stays installed while a dump or an action is.
 * The dump function and the actions must not call the functions below.
 */
#ifndef AL_DUMP_H
#define AL_DUMP_H

#include <stdio.h>

typedef void (*al_dump_fn)(void *ctx, FILE *out);

/* Print fn's dump to out on every SIGQUIT (replacing a previous dump
 * function). Errors: AL_EINVAL, AL_ENOMEM (no pipe or thread). */
int al_dump_on_sigquit(al_dump_fn fn, void *ctx, FILE *out);
/* Stop printing the dump. When no action remains either, restore the
 * previous SIGQUIT disposition and stop the watcher. */
void al_dump_on_sigquit_remove(void);

/* Also run fn(ctx, out) on every SIGQUIT, after the dump (out: the dump's
 * stream, or stderr when no dump is installed). Installs the handler if
 * needed. Errors: AL_EINVAL, AL_ENOMEM. */
typedef struct al_dump_action al_dump_action_t;
int al_dump_action_add(al_dump_fn fn, void *ctx, al_dump_action_t **out);
/* Once this returns, the action is not running and never runs again. NULL:
 * no-op. */
void al_dump_action_remove(al_dump_action_t *a);

/* SIGQUITs handled so far, dump and actions done (tests wait on this). */
unsigned long al_dump_count(void);

#endif
