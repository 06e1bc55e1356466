/*
 * al_dump.h — task dumps on demand: `kill -QUIT <pid>` prints one.
 *
 * al_dump_on_sigquit installs a SIGQUIT handler that only writes a byte to a
 * pipe; a watcher thread of its own reads it and calls the dump function
 * there. So a dump never needs a runtime worker: it works while every worker
 * is blocked (in std.thread.sleep, a std mutex, a spin), which is when one
 * is needed most. The dump function itself usually formats the console model
 * (al_console.h), which the stream's collector keeps up to date.
 */
#ifndef AL_DUMP_H
#define AL_DUMP_H

#include <stdio.h>

typedef void (*al_dump_fn)(void *ctx, FILE *out);

/* Print fn's dump to out on every SIGQUIT (replacing a previous
 * installation). Errors: AL_EINVAL, AL_ENOMEM (no pipe or thread). */
int al_dump_on_sigquit(al_dump_fn fn, void *ctx, FILE *out);
/* Restore the previous SIGQUIT disposition and stop the watcher. */
void al_dump_on_sigquit_remove(void);
/* Dumps printed so far (tests wait on this). */
unsigned long al_dump_count(void);

#endif
