/*
 * al_runtime.h — building, entering, driving and shutting down a runtime.
 *
 * Two flavors, as in Tokio:
 *   AL_MULTI_THREAD    N worker threads with local queues and work stealing;
 *                      block_on runs its future on the calling thread, which
 *                      is not a worker (spawns from it go to the inject queue).
 *   AL_CURRENT_THREAD  no worker threads: block_on's caller drives every task.
 *
 * Both share one driver (timer wheel + epoll I/O reactor) that an idle thread
 * blocks in while it waits for work; see al_driver.c.
 *
 * Context: every thread that runs tasks (workers, block_on callers, blocking
 * pool threads) has a thread-local "entered" marker naming its runtime. That
 * is how al_spawn(NULL, ...), timers and sockets find their runtime, and how
 * block_on detects that it is being called from inside a runtime
 * (AL_ENESTED: the nested-runtime error of lesson C1).
 *
 * Lifetime: al_runtime_new → use → al_runtime_shutdown (graceful: cancels
 * every task, fires timers, joins threads) → al_runtime_free. Freeing a runtime
 * that was not shut down shuts it down first. JoinHandles may outlive the
 * runtime: after shutdown every task is finished, and a handle only reads its
 * task.
 */
#ifndef AL_RUNTIME_H
#define AL_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "al_event.h"
#include "al_future.h"

typedef struct al_runtime al_runtime_t;

typedef enum al_flavor {
    AL_MULTI_THREAD = 0,
    AL_CURRENT_THREAD = 1,
} al_flavor_t;

typedef struct al_runtime_config {
    al_flavor_t flavor;
    uint32_t worker_threads;         /* multi-thread: 1..1024; default one per CPU */
    bool enable_time;                /* build the timer wheel (rt.time.*) */
    bool enable_io;                  /* allow socket registration (rt.net.*) */
    uint32_t max_blocking_threads;   /* blocking pool cap; default 512 */
    uint32_t blocking_keep_alive_ms; /* idle blocking threads exit after; default 10000 */
    uint32_t event_interval;         /* ticks between driver polls; default 61 */
    uint32_t global_queue_interval;  /* ticks between inject-queue checks; default 61 (31
                                        current-thread) */
    bool start_paused;               /* current-thread: test time, auto-advancing */
    bool poll_time_histogram;        /* time every poll (metrics histogram, mean) */
    const char *thread_name;         /* worker thread name prefix; default "al-worker" */
} al_runtime_config_t;

/* Fill *cfg with the defaults for a flavor (all drivers off, like Tokio's builder). */
void al_runtime_config_init(al_runtime_config_t *cfg, al_flavor_t flavor);

/* Errors: AL_EWORKERS (0 or more than 1024 workers), AL_EINVAL, AL_ENOMEM. */
int al_runtime_new(const al_runtime_config_t *cfg, al_runtime_t **out);

/*
 * Run fut (vt) to completion on the calling thread, driving the runtime if it
 * is current-thread; write its output to out. Returns 0, AL_ENESTED when the
 * calling thread is already inside a runtime (a worker, a task, another
 * block_on), AL_ESHUTDOWN, or AL_EPANIC if the future panicked (the message is
 * then in *panic_msg if not NULL, malloc'd, caller frees).
 */
int al_runtime_block_on(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut, void *out,
                        char **panic_msg);

typedef struct al_shutdown_report {
    uint64_t tasks_cancelled;       /* tasks that had not finished and were dropped */
    uint64_t timers_cancelled;      /* timers still armed when shutdown began */
    uint32_t blocking_threads_left; /* still running a blocking call at the timeout */
    bool timed_out;
} al_shutdown_report_t;

/*
 * Graceful shutdown: stop accepting spawns, cancel every task, cancel timers,
 * close I/O registrations, join workers and the blocking pool (waiting at most
 * timeout_ms for blocking threads; UINT64_MAX = forever). Returns AL_ESHUTDOWN
 * if already shut down, AL_EDROPINASYNC when called from a task of this
 * runtime. report may be NULL.
 */
int al_runtime_shutdown(al_runtime_t *rt, uint64_t timeout_ms, al_shutdown_report_t *report);
void al_runtime_free(al_runtime_t *rt);
/* True once shutdown began (long-running code may check it and stop). */
bool al_runtime_is_shutting_down(const al_runtime_t *rt);

/* The runtime this thread is inside (worker, task, block_on, or entered
 * with al_runtime_enter), or NULL. */
al_runtime_t *al_runtime_current(void);
/* True while this thread drives tasks (a worker, a task, block_on): where
 * block_on would nest (AL_ENESTED). */
bool al_runtime_driving(void);
/* Make rt this thread's current runtime without driving it (Tokio's
 * Runtime::enter): al_spawn(NULL, ...), timers and sockets use it, and what
 * resources do on this thread (made, unlocked, dropped) is recorded in its
 * event stream. block_on stays allowed. Returns the runtime current before,
 * to give back to al_runtime_exit on the same thread; exit before freeing rt. */
al_runtime_t *al_runtime_enter(al_runtime_t *rt);
void al_runtime_exit(al_runtime_t *previous);
const al_runtime_config_t *al_runtime_config(const al_runtime_t *rt);
uint32_t al_runtime_num_workers(const al_runtime_t *rt);
/* Index of the worker this thread runs as, or -1. */
int al_runtime_current_worker(void);

/* ---- metrics (readable from any thread while the runtime runs) ---- */

#define AL_POLL_HIST_BUCKETS 16 /* bucket i: polls shorter than 2^(i+10) ns; last: the rest */

typedef struct al_runtime_metrics {
    uint32_t num_workers;
    uint64_t num_alive_tasks;
    uint64_t global_queue_depth;
    uint32_t num_blocking_threads;
    uint32_t num_idle_blocking_threads;
    uint64_t blocking_queue_depth;
    uint64_t spawned_tasks_count;
    uint64_t remote_schedule_count;
    uint64_t budget_forced_yield_count;
} al_runtime_metrics_t;

typedef struct al_worker_metrics {
    uint64_t park_count;
    uint64_t steal_count;      /* tasks stolen by this worker */
    uint64_t steal_operations; /* successful steal attempts */
    uint64_t poll_count;
    uint64_t busy_ns;
    uint64_t local_queue_depth;
    uint64_t overflow_count; /* times the local queue spilled into the inject queue */
    uint64_t mean_poll_ns;   /* exponentially weighted, per maintenance tick */
    uint64_t poll_hist[AL_POLL_HIST_BUCKETS];
} al_worker_metrics_t;

void al_runtime_metrics(const al_runtime_t *rt, al_runtime_metrics_t *out);
/* Errors: AL_EINVAL for a worker index out of range. */
int al_runtime_worker_metrics(const al_runtime_t *rt, uint32_t worker, al_worker_metrics_t *out);

/* ---- instrumentation ---- */

/*
 * Install (or with fn NULL remove) the event hook. fn is called on the thread
 * where the event happens, synchronously, for every event of al_event.h; it
 * must not block or call back into the runtime. With no hook, each hook point
 * costs one predictable branch.
 */
void al_runtime_set_hook(al_runtime_t *rt, al_event_fn fn, void *user);

/* ---- the step gate (the visualizer's step mode) ----
 *
 * While the gate is on, every thread about to poll a task (a worker, or the
 * thread driving a current-thread runtime) waits at the gate until a step is
 * granted; one step lets exactly one poll through, on whichever waiting
 * thread takes it. Nothing else is held back: blocking-pool threads run, a
 * task stuck in a blocking call stays stuck, a worker with nothing to do
 * parks (in the driver, firing timers), and block_on's own future (not a
 * task) is polled as usual. A worker held at the gate turns no timer wheel:
 * with every worker held, timers fire late, as they would on a runtime that
 * busy. Turning the gate off releases
 * every waiting thread; shutdown turns it off for good. Off (the default),
 * each poll costs one predictable branch.
 */
typedef struct al_gate_state {
    bool on;
    uint32_t waiting;    /* threads waiting at the gate now */
    uint64_t steps_left; /* granted polls not taken yet */
    uint64_t passed;     /* polls let through while on (cumulative) */
} al_gate_state_t;

/* Errors: AL_EINVAL (rt NULL), AL_ESHUTDOWN (turning it on after shutdown
 * began). Either direction drops the steps not taken yet. */
int al_runtime_set_gate(al_runtime_t *rt, bool on);
/* Let `polls` more polls through. Errors: AL_EINVAL when the gate is off. */
int al_runtime_gate_step(al_runtime_t *rt, uint32_t polls);
void al_runtime_gate_state(const al_runtime_t *rt, al_gate_state_t *out);
/* Wait (at most timeout_ms) until the gate is on, every granted step was
 * taken, and at least `waiting` threads wait at it: true then; false on
 * timeout, or when the gate is turned off or the runtime shuts down. */
bool al_runtime_gate_wait(al_runtime_t *rt, uint32_t waiting, uint64_t timeout_ms);

#endif
