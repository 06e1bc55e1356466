/*
 * al_task.h — spawning tasks, JoinHandles, yielding.
 *
 * A task is one heap allocation: a header (atomic state word with a reference
 * count, queue link, owner), then the future's bytes, which are replaced by
 * the output when the future finishes (the two never live at the same time).
 *
 * A JoinHandle (al_join_t *) is a reference to the task held by whoever
 * spawned it. It can be awaited once (al_join_poll), aborted, or released
 * (al_join_drop: the task keeps running, "detached"). Every JoinHandle must be
 * released exactly once with al_join_drop, whatever else was done with it.
 *
 * A task finishes in one of three ways, reported to the joiner:
 *   AL_JOIN_OK         the future returned AL_READY; the output is available;
 *   AL_JOIN_PANIC      the future returned al_panic(...): the message is kept;
 *   AL_JOIN_CANCELLED  aborted (al_join_abort, select loser, JoinSet drop,
 *                      runtime shutdown): the future was dropped unfinished.
 */
#ifndef AL_TASK_H
#define AL_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "al_future.h"

typedef struct al_task al_join_t; /* a JoinHandle is a counted task reference */

typedef enum al_task_kind {
    AL_TASK_ASYNC = 0, /* a future polled by workers */
    AL_TASK_BLOCKING,  /* spawn_blocking: a function run on the blocking pool */
    AL_TASK_LOCAL,     /* spawn_local: never leaves its LocalSet's thread */
} al_task_kind_t;

/* Optional spawn settings (a zeroed struct is the default). */
typedef struct al_spawn_opts {
    const char *name;     /* copied into the spawn event; may be NULL */
    const char *location; /* where it was spawned ("file.lua:12"); may be NULL */
} al_spawn_opts_t;

/*
 * Spawn a task on the runtime of the current context (a worker or block_on
 * thread), or on rt when rt is not NULL. future_init holds vt->future_size
 * bytes, copied into the task. On success *out is the JoinHandle (pass NULL
 * to detach at once).
 * Errors: AL_ENORUNTIME (rt NULL and no runtime context), AL_ESHUTDOWN,
 * AL_ENOMEM, AL_EINVAL. On error, vt->drop is called on a copy of the future,
 * so whatever it owned is released.
 */
struct al_runtime;
int al_spawn(struct al_runtime *rt, const al_future_vtable_t *vt, const void *future_init,
             const al_spawn_opts_t *opts, al_join_t **out);

typedef enum al_join_kind {
    AL_JOIN_OK = 0,
    AL_JOIN_CANCELLED,
    AL_JOIN_PANIC,
} al_join_kind_t;

typedef struct al_join_result {
    al_join_kind_t kind;
    const char *panic_msg; /* AL_JOIN_PANIC: the message; valid until al_join_drop */
    int err;               /* AL_EJOINED when the output was already taken, else 0 */
} al_join_result_t;

/*
 * Await the task. AL_READY when it has finished: res says how, and on
 * AL_JOIN_OK its output (vt->output_size bytes) is moved into out (out may be
 * NULL to discard it). Polling again after that returns AL_READY with
 * res->err = AL_EJOINED (joining twice). Consumes one unit of coop budget.
 */
al_poll_t al_join_poll(al_join_t *h, al_context_t *cx, void *out, al_join_result_t *res);
/* Request cancellation. No effect on a finished task. Never blocks. */
void al_join_abort(al_join_t *h);
/* True once the task has finished (any way). */
bool al_join_is_finished(const al_join_t *h);
/* The task's id (unique per process, starting at 1). */
uint64_t al_join_id(const al_join_t *h);
/* Release the handle. The task keeps running if it has not finished. */
void al_join_drop(al_join_t *h);

/* The id of the task being polled on this thread, 0 if none. */
uint64_t al_task_current_id(void);

/*
 * spawn_blocking: run fn(arg) on the runtime's blocking pool (a thread that may
 * block for as long as it likes); the JoinHandle's output is fn's return value
 * (a void *). Blocking tasks cannot be cancelled once started: abort only
 * prevents a queued one from starting. Errors as al_spawn.
 */
typedef void *(*al_blocking_fn)(void *arg);
int al_spawn_blocking(struct al_runtime *rt, al_blocking_fn fn, void *arg,
                      const al_spawn_opts_t *opts, al_join_t **out);

/*
 * block_in_place: run fn(arg) on this thread, which may block, after handing
 * this worker's queue and the rest of its duties to a new thread, so the other
 * tasks queued here keep running. Outside a worker, fn just runs. Returns
 * AL_ENOTMULTI on a current-thread runtime (where nobody could take over).
 */
int al_block_in_place(void (*fn)(void *arg), void *arg);

/*
 * yield_now as a sub-future: the first poll wakes itself (to the back of the
 * queue, never the LIFO slot) and returns Pending; the second returns Ready.
 */
typedef struct al_yield {
    int yielded;
} al_yield_t;
#define AL_YIELD_INIT ((al_yield_t){0})
al_poll_t al_yield_poll(al_yield_t *y, al_context_t *cx);

#endif
