/*
 * al_console.h — the console model: what tokio-console shows, computed from
 * the event stream (al_stream.h).
 *
 * The model is a stream consumer. Fed a live stream it follows the runtime
 * as it runs; fed a trace file (al_tracefile_read_file) it rebuilds the same
 * figures from the recording — the same code, so the same numbers. Ask it
 * for a snapshot at any time, from any thread:
 *
 *   al_console_t *c;  al_console_new(NULL, &c);
 *   al_stream_subscribe(st, &al_console_consumer, c);
 *   ...
 *   al_console_snapshot_t *s = al_console_snapshot(c, 0);
 *   for (size_t i = 0; i < s->num_tasks; i++) ... s->tasks[i].polls ...
 *   al_console_snapshot_free(s);
 *
 * "As of time T": set stop_at_ns in the config and replay a file; events
 * after T are ignored and durations are measured up to T.
 *
 * What is exact and what is inferred. Counts (polls, wakes, steals, ...) and
 * times (busy, scheduled, idle, histograms) come straight from events.
 * Queue contents are reconstructed: a task is put where its TASK_SCHEDULE
 * event says (LIFO slot, local queue, inject queue), a LIFO occupant
 * displaced by a newer one moves to the local queue, a STEAL moves the
 * victim's oldest tasks, an OVERFLOW moves the oldest to the inject queue, a
 * poll takes the task out. A batch a worker takes from the inject queue is
 * not an event, so those tasks stay listed under the inject queue until
 * polled. When the stream dropped events (snapshot.dropped > 0) any of this
 * may be off; the figure says so.
 */
#ifndef AL_CONSOLE_H
#define AL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "al_histogram.h"
#include "al_stream.h"

struct al_runtime;

typedef enum al_task_state {
    AL_TASK_IDLE = 0,  /* returned Pending; waits to be woken */
    AL_TASK_SCHEDULED, /* woken: in a run queue */
    AL_TASK_RUNNING,   /* being polled */
    AL_TASK_BLOCKED,   /* being polled and stuck in a blocking call */
    AL_TASK_DONE,      /* finished: ready, panicked or cancelled */
} al_task_state_t;

typedef enum al_worker_state {
    AL_WORKER_IDLE = 0,      /* between polls, looking at its own queues */
    AL_WORKER_RUNNING,       /* polling a task */
    AL_WORKER_SEARCHING,     /* looking for work to steal */
    AL_WORKER_PARKED,        /* asleep on its condition variable */
    AL_WORKER_PARKED_DRIVER, /* asleep in the I/O + timer driver */
    AL_WORKER_BLOCKED,       /* stuck in a blocking call inside a poll */
} al_worker_state_t;

/* Where a task waits: nothing, a resource (al_console_resource_t) or a timer. */
typedef enum al_wait_kind {
    AL_WAIT_NONE = 0,
    AL_WAIT_RESOURCE,
    AL_WAIT_TIMER,
} al_wait_kind_t;

typedef struct al_console_task {
    uint64_t id, parent;
    const char *name;         /* "" if unnamed */
    const char *location;     /* spawn location, "" if unknown */
    const char *panic;        /* the panic message, "" if none */
    uint8_t kind;             /* al_task_kind_t */
    uint8_t state;            /* al_task_state_t */
    uint8_t end;              /* al_join_kind_t, when done */
    uint8_t block_kind;       /* al_block_kind_t, when BLOCKED */
    uint8_t last_wake_source; /* al_wake_kind_t of the last wake */
    uint8_t queue;            /* al_queue_kind_t, when SCHEDULED */
    int16_t worker;           /* worker polling it now, or that polled it last; -1 */
    int16_t queue_worker;     /* whose queue holds it (LIFO / local), -1 */
    uint64_t spawned_ns, first_poll_ns, ended_ns, last_woken_ns, last_poll_ns;
    uint64_t state_since_ns; /* when it entered its current state */
    uint64_t total_ns;       /* spawn to end (or to now) */
    uint64_t busy_ns;        /* inside polls */
    uint64_t scheduled_ns;   /* woken, waiting in a queue */
    uint64_t idle_ns;        /* the rest: waiting to be woken */
    uint64_t polls, wakes, self_wakes, waker_clones, waker_drops;
    int64_t wakers_alive; /* clones - drops - wakes by value */
    uint8_t waiting_kind; /* al_wait_kind_t */
    uint64_t waiting_on;  /* resource or timer id */
    uint64_t waiting_since_ns;
    uint64_t timer_deadline_ns; /* when waiting on a timer */
    uint64_t first_poll_delay_ns;
    uint64_t poll_p50_ns, poll_p90_ns, poll_p99_ns, poll_max_ns;
    uint64_t sched_p50_ns, sched_p90_ns, sched_p99_ns, sched_max_ns;
    const char *detail; /* from the detail source (e.g. a Lua traceback), "" if none */
} al_console_task_t;

typedef struct al_console_resource {
    uint64_t id, creator;
    const char *name; /* "" if unnamed */
    uint8_t kind;     /* al_resource_kind_t; 255: unknown (seen only in use) */
    bool dropped, closed;
    uint64_t created_ns;
    uint64_t holder;               /* a task holding it (mutex, rwlock, semaphore), 0: none */
    uint32_t holders;              /* how many hold it (readers, permits held) */
    uint32_t waiters;              /* tasks waiting on it now */
    uint64_t ops;                  /* acquires, releases, sends, receives, readiness */
    uint64_t queue_len, queue_max; /* channels: messages queued now / at most */
    uint64_t waits, wait_p50_ns, wait_p99_ns, wait_max_ns; /* contended waits */
} al_console_resource_t;

typedef struct al_console_worker {
    uint8_t state;         /* al_worker_state_t */
    uint8_t block_kind;    /* al_block_kind_t, when BLOCKED */
    uint64_t block_detail; /* e.g. the sleep in ms */
    uint64_t state_since_ns;
    uint64_t current_task; /* 0: none */
    uint64_t lifo_task;    /* 0: empty */
    uint32_t local_depth;
    const uint64_t *local_queue; /* local_depth task ids, oldest first */
    uint64_t polls, steals, stolen_tasks, parks, overflows;
    uint64_t busy_ns;
    double busy_pct; /* busy_ns over the time observed */
} al_console_worker_t;

typedef struct al_console_snapshot {
    al_stream_header_t header;
    uint64_t start_ns; /* first event */
    uint64_t now_ns;   /* the moment the snapshot describes */
    uint64_t events, dropped;
    uint64_t alive_tasks, spawned_tasks;
    al_console_task_t *tasks; /* live tasks, then the retained done ones; by id */
    size_t num_tasks;
    al_console_resource_t *resources; /* by id */
    size_t num_resources;
    al_console_worker_t *workers;
    size_t num_workers;
    uint32_t inject_depth;
    const uint64_t *inject_queue; /* oldest first */
    uint32_t blocking_queue_depth;
    uint32_t blocking_threads, blocking_busy;
    uint32_t pending_timers;
    uint64_t next_timer_deadline_ns; /* 0: none */
    void *arena_;                    /* private */
} al_console_snapshot_t;

typedef struct al_console_config {
    uint64_t stop_at_ns;     /* ignore events after this (0: never) */
    uint32_t retain_done;    /* finished tasks kept for display (0: 4096) */
    uint32_t retain_dropped; /* dropped resources kept (0: 1024) */
} al_console_config_t;

typedef struct al_console al_console_t;

/* cfg may be NULL. Errors: AL_EINVAL, AL_ENOMEM. */
int al_console_new(const al_console_config_t *cfg, al_console_t **out);
void al_console_free(al_console_t *c);
extern const al_stream_consumer_t al_console_consumer;

/* A deep copy of the model as it is now: fed the same events afterwards,
 * the copy and c give the same snapshots (the copy has no detail source:
 * that belongs to whoever set it on c); either can be freed first. Used to
 * keep keyframes of a replay (the visualizer's fast seeking). Errors:
 * AL_EINVAL, AL_ENOMEM. */
int al_console_clone(al_console_t *c, al_console_t **out);
/* About how many bytes the model holds (the struct, its tables, strings and
 * histograms; a histogram shared with copies counts its share): about what
 * a clone costs now and will cost as the two drift apart. */
size_t al_console_memory(al_console_t *c);

/* Follow a live runtime: start its stream if none runs (al_stream_of) and
 * subscribe a new model. The model is fed until the stream stops; free it
 * after al_runtime_free(rt). Errors as al_stream_start / _subscribe. */
int al_console_attach(struct al_runtime *rt, al_console_t **out);
/* An al_dump_fn (al_dump.h) for a model fed live: prints a task dump as of
 * now (CLOCK_MONOTONIC). Needs no runtime worker, so it works while every
 * worker is blocked:  al_dump_on_sigquit(al_console_dump_now, console, stderr). */
void al_console_dump_now(void *console, FILE *out);

/* A consistent copy of the model. now_ns is the moment to measure ongoing
 * states up to (e.g. the current CLOCK_MONOTONIC time for a live runtime
 * whose workers are all blocked); 0 means the last event seen (or stop_at).
 * NULL when out of memory. */
al_console_snapshot_t *al_console_snapshot(al_console_t *c, uint64_t now_ns);
void al_console_snapshot_free(al_console_snapshot_t *s);

/*
 * What the events cannot say. A layer above the runtime knows things about
 * its tasks that no event carries: the Lua layer knows where each Lua task
 * waits (its traceback). A detail source is called by every
 * al_console_snapshot of c, after the model's lock is released, on the
 * snapshotting thread; it calls al_console_snapshot_set_detail for the tasks
 * it knows. Keep it cheap: snapshots are taken per frame in the visualizer.
 * fn NULL removes the source.
 */
typedef void (*al_console_detail_fn)(void *ctx, al_console_snapshot_t *s);
void al_console_set_detail_source(al_console_t *c, al_console_detail_fn fn, void *ctx);
/* Attach text to a task of s (copied; shown by al_console_print_dump and in
 * task details). False when the task is not in s or out of memory. */
bool al_console_snapshot_set_detail(al_console_snapshot_t *s, uint64_t task, const char *text);

/* Lookups in a snapshot (binary search); NULL when absent. */
const al_console_task_t *al_console_find_task(const al_console_snapshot_t *s, uint64_t id);
const al_console_resource_t *al_console_find_resource(const al_console_snapshot_t *s, uint64_t id);
/* One task's state (al_task_state_t) without a snapshot; -1 if unknown. */
int al_console_task_state(al_console_t *c, uint64_t task);
/* Copy one task's poll-time or scheduled-time histogram; false if unknown. */
bool al_console_task_histogram(al_console_t *c, uint64_t task, bool scheduled, al_histogram_t *out);

/* A duration as people read it: "820ns", "12.5us", "3.4ms", "2.15s". */
const char *al_console_format_duration(char *buf, size_t cap, uint64_t ns);
/* Display names: "idle", "running", ..., "parked (driver)", "mutex", ... */
const char *al_task_state_name(unsigned state);
const char *al_worker_state_name(unsigned state);
const char *al_resource_kind_name(unsigned kind);
const char *al_block_kind_name(unsigned kind);

/* The console tables as text: workers, then tasks, then resources. */
void al_console_print(const al_console_snapshot_t *s, FILE *out);
/* A task dump: every worker (state, current task, queue) and every live
 * task (state, what it waits on, parent, spawn location, then its detail
 * text indented below it). */
void al_console_print_dump(const al_console_snapshot_t *s, FILE *out);
/* Per-task figures as CSV with a header line. */
void al_console_print_csv(const al_console_snapshot_t *s, FILE *out);

#endif
