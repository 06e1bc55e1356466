/*
 * al_runtime_internal.h — private to the asynclab core: the runtime object
 * and the pieces it is assembled from.
 *
 *   al_runtime.c    builder, block_on, shutdown, metrics, context lookups
 *   al_owned.c      the set of live tasks (for shutdown and num_alive_tasks)
 *   al_mt.c         the multi-thread scheduler (workers, stealing, parking)
 *   al_ct.c         the current-thread scheduler
 *   al_driver.c     the shared I/O + timer driver idle threads block in
 *   al_blocking.c   the blocking pool (spawn_blocking, block_in_place threads)
 */
#ifndef AL_RUNTIME_INTERNAL_H
#define AL_RUNTIME_INTERNAL_H

#include <pthread.h>

#include "al_driver.h"
#include "al_internal.h"
#include "al_task_internal.h"

/* ---- the owned-task set --------------------------------------------------- */

#define AL__OWNED_SHARDS 16

typedef struct al__owned_shard {
    pthread_mutex_t lock;
    struct al_task **tasks; /* guarded by lock; tasks[i]->owned_index == i */
    uint32_t len, cap;
    bool closed; /* guarded by lock: no inserts after shutdown began */
} __attribute__((aligned(AL_CACHELINE))) al__owned_shard_t;

typedef struct al__owned {
    al__owned_shard_t shards[AL__OWNED_SHARDS];
    atomic_uint_fast64_t alive; /* number of tasks in the set */
} al__owned_t;

void al__owned_init(al__owned_t *o);
void al__owned_destroy(al__owned_t *o);
/* AL_ESHUTDOWN once closed, AL_ENOMEM. */
int al__owned_insert(al__owned_t *o, struct al_task *t);
void al__owned_remove(al__owned_t *o, struct al_task *t);
/* Close every shard and return the live tasks, each with a reference taken
 * (the caller drops them). *out is malloc'd (NULL when empty). */
size_t al__owned_close_and_snapshot(al__owned_t *o, struct al_task ***out);

/* ---- the blocking pool -------------------------------------------------------- */

typedef struct al__blocking al__blocking_t;

/* ---- the step gate (al_gate.c) ------------------------------------------------ */

typedef struct al__gate {
    atomic_bool on; /* the fast path's flag; written under lock */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* waiters: a step, off, shutdown */
    pthread_cond_t idle;    /* al_runtime_gate_wait: a thread arrived */
    uint64_t steps;         /* guarded by lock, as are the rest */
    uint64_t passed;
    uint32_t waiting;
    bool shut;
} al__gate_t;

void al__gate_init(al__gate_t *g);
void al__gate_destroy(al__gate_t *g);
void al__gate_wait_slow(al__gate_t *g);
/* Let everyone through for good (shutdown began). */
void al__gate_shutdown(al__gate_t *g);

/* ---- schedulers ------------------------------------------------------------------ */

typedef struct al__mt al__mt_t; /* multi-thread scheduler (al_mt.c) */
typedef struct al__ct al__ct_t; /* current-thread scheduler (al_ct.c) */

struct al_runtime {
    al__hook_slot_t hook; /* must stay first: see al__hooked() */
    al_runtime_config_t cfg;
    char thread_name[32];
    al__driver_t driver;
    al__owned_t owned;
    al__blocking_t *blocking;
    al__mt_t *mt; /* exactly one of mt / ct is set, by flavor */
    al__ct_t *ct;
    atomic_bool shutting_down;
    /* Tasks cancelled once shutdown began (queued ones the workers drop
     * included): the report's tasks_cancelled. */
    atomic_uint_fast64_t shutdown_cancelled;
    atomic_bool shut_down;
    atomic_uint_fast64_t spawned_count;
    atomic_uint_fast64_t remote_schedule_count;
    atomic_uint_fast64_t forced_yield_count;
    struct al_stream *stream;              /* the recorder, once started (al_stream.c) */
    struct al_log *env_log;                /* ASYNCLAB_LOG's logger, if set */
    struct al_tracefile_writer *env_trace; /* ASYNCLAB_TRACE's writer, if set */
    struct al_flight *env_flight;          /* ASYNCLAB_FLIGHT's recorder, if set */
    al__gate_t gate;                       /* step mode (al_runtime_set_gate) */
};

/* Called right before each task poll: waits there while the gate is on. */
static inline void al__gate_pass(al_runtime_t *rt)
{
    if (AL_UNLIKELY(atomic_load_explicit(&rt->gate.on, memory_order_relaxed)))
        al__gate_wait_slow(&rt->gate);
}

void al__runtime_count_forced_yield(al_runtime_t *rt);

/* Bind a freshly allocated task to rt (owned set + scheduler) and queue it. */
int al__runtime_spawn_task(al_runtime_t *rt, struct al_task *t, bool with_join,
                           const al_spawn_opts_t *opts);

/* multi-thread scheduler */
int al__mt_new(al_runtime_t *rt, al__mt_t **out);
int al__mt_start(al__mt_t *mt);
al__sched_t *al__mt_sched(al__mt_t *mt);
/* Close the inject queue, wake every worker and join the worker threads, waiting
 * until deadline_ns (CLOCK_MONOTONIC). False if some thread did not exit in time. */
bool al__mt_stop(al__mt_t *mt, uint64_t deadline_ns);
/* Drop the queue references of tasks still queued (after al__mt_stop). */
void al__mt_drain(al__mt_t *mt);
void al__mt_free(al__mt_t *mt);
uint64_t al__mt_inject_len(al__mt_t *mt);
void al__mt_worker_metrics(al__mt_t *mt, uint32_t i, al_worker_metrics_t *out);
/* yield_now from the task being polled on a worker: it is re-queued only
 * when the worker runs dry. False when that does not apply (the caller then
 * wakes at once). */
bool al__mt_defer(al_context_t *cx);
/* Wake a parked worker if one is idle (used after remote schedules). */
void al__mt_notify_parked(al__mt_t *mt);
/* The calling worker thread is about to block (std-style sleep, lock, spin):
 * if tasks wait in its local queue, wake an idle sibling to steal them.
 * No-op off a worker. */
void al__mt_before_blocking(void);

/* current-thread scheduler */
int al__ct_new(al_runtime_t *rt, al__ct_t **out);
al__sched_t *al__ct_sched(al__ct_t *ct);
int al__ct_block_on(al__ct_t *ct, const al_future_vtable_t *vt, void *fut, void *out,
                    char **panic_msg);
/* Refuse remote schedules from now on (shutdown). */
void al__ct_close(al__ct_t *ct);
void al__ct_drain(al__ct_t *ct);
void al__ct_free(al__ct_t *ct);
uint64_t al__ct_queue_len(al__ct_t *ct);
void al__ct_worker_metrics(al__ct_t *ct, al_worker_metrics_t *out);

#endif
