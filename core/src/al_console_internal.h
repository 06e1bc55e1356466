/*
 * al_console_internal.h — the console model's state, shared with the lint
 * engine (al_lint.c), which applies each event to a model of its own and
 * then looks at what changed. Everything here is guarded by the model's
 * lock (or owned by a single thread, as in the lint engine).
 */
#ifndef AL_CONSOLE_INTERNAL_H
#define AL_CONSOLE_INTERNAL_H

#include <pthread.h>

#include "al_console.h"
#include "al_idmap.h"

#define AL__NIL UINT32_MAX
#define AL__MAX_HOLDERS 4
/* A resource first seen in use (made outside the runtime, or before a late
 * subscription): its kind and name are unknown. */
#define AL__RES_UNKNOWN 0xff

/* Where a task is queued: a worker's LIFO slot or local queue, the inject
 * queue, the blocking pool's queue, or nowhere. */
enum { AL__Q_NONE = -3, AL__Q_BLOCKING = -2, AL__Q_INJECT = -1 };

typedef struct al__ctask {
    uint64_t id, parent;
    uint32_t name, loc, panic; /* string ids */
    uint8_t kind, state, end, block_kind, last_wake_source, queue, waiting_kind;
    bool used, notified, in_lifo;
    bool seen_spawn; /* its spawn was seen: waker counts are complete */
    int16_t worker;
    int16_t queue_owner;     /* worker index, or AL__Q_* */
    uint32_t q_prev, q_next; /* neighbours in a queue list (slots) */
    uint32_t done_next;      /* retention FIFO of finished tasks */
    uint64_t spawned_ns, first_poll_ns, ended_ns, last_woken_ns, last_poll_ns;
    uint64_t state_since_ns, poll_begin_ns;
    uint64_t busy_ns, scheduled_ns;
    uint64_t polls, wakes, self_wakes, clones, drops;
    uint64_t forced_yields; /* self-wakes forced by the coop budget */
    int64_t wakers_alive;
    uint64_t waiting_on, waiting_since_ns, timer_deadline_ns;
    al_histogram_t *poll_h, *sched_h; /* allocated at the first sample */
    /* p50 / p90 / p99 of each histogram as of its sample count: snapshots
     * (one a frame in the visualizer) recompute them only after new samples. */
    uint64_t poll_q_count, sched_q_count;
    uint64_t poll_q[3], sched_q[3];
    uint32_t lint_fired; /* bit per lint id, so that a lint fires once per task */
} al__ctask_t;

typedef struct al__cres {
    uint64_t id, creator, created_ns;
    uint32_t name;
    uint8_t kind;
    bool used, dropped, closed;
    uint64_t holder_ids[AL__MAX_HOLDERS];
    uint32_t holders, waiters;
    uint64_t ops, queue_len, queue_max;
    al_histogram_t *wait_h;
    uint32_t drop_next; /* retention FIFO of dropped resources */
    uint32_t lint_fired;
} al__cres_t;

typedef struct al__cqueue {
    uint32_t head, tail, len; /* task slots, AL__NIL when empty */
} al__cqueue_t;

typedef struct al__cworker {
    uint8_t state, block_kind;
    uint64_t block_detail, state_since_ns;
    uint64_t current; /* task id */
    uint32_t lifo;    /* task slot or AL__NIL */
    al__cqueue_t local;
    uint64_t polls, steals, stolen_tasks, parks, overflows, busy_ns;
} al__cworker_t;

struct al_console {
    pthread_mutex_t lock;
    al_console_config_t cfg;
    al_stream_header_t header;
    bool have_header;
    uint64_t start_ns, last_ns, events, dropped;
    uint64_t *drops_by_thread; /* cumulative, as on_drops reports */
    uint32_t num_drop_threads;
    char **strings; /* by id, NULL-terminated, "" for unknown ids */
    uint32_t num_strings;
    al__ctask_t *tasks;
    uint32_t num_task_slots, free_task; /* free list through q_next */
    al__idmap_t task_ids;
    uint32_t done_head, done_tail, done_len;
    al__cres_t *res;
    uint32_t num_res_slots, free_res;
    al__idmap_t res_ids;
    uint32_t dropped_head, dropped_tail, dropped_len;
    al__cworker_t *workers;
    uint32_t num_workers;
    al__cqueue_t inject, blocking_queue;
    uint64_t *blocking_running; /* by blocking thread number: task id */
    uint32_t num_blocking_slots;
    uint32_t blocking_threads, pending_timers;
    uint64_t alive, spawned;
    al_console_detail_fn detail_fn; /* see al_console_set_detail_source */
    void *detail_ctx;
};

/* Histograms are shared between a model and its copies (al_console_clone)
 * and copied on write: a copy costs a reference, not 552 bytes, and a model
 * that records into a shared histogram first takes a private copy of it.
 * The counter is atomic because copies live under their own locks; a
 * histogram with one reference belongs to the one model holding it, whose
 * lock the writer holds, so nobody can take a new reference meanwhile. */
/* A new, empty histogram with one reference; NULL when out of memory. */
al_histogram_t *al__hist_new(void);
al_histogram_t *al__hist_ref(al_histogram_t *h);
/* Drop a reference (NULL is fine); the last one frees it. */
void al__hist_unref(al_histogram_t *h);
/* Make *h a histogram this model alone holds (new if NULL); false when out
 * of memory. */
bool al__hist_own(al_histogram_t **h);
/* Bytes of h charged to one holder: its size over its references. */
size_t al__hist_share(const al_histogram_t *h);

/* Apply one event (the caller holds the lock or owns the model). */
void al__console_apply(al_console_t *c, const al_trace_event_t *ev);
void al__console_header(al_console_t *c, const al_stream_header_t *h);
void al__console_string(al_console_t *c, uint32_t id, const char *s, size_t len);
al__ctask_t *al__console_task(al_console_t *c, uint64_t id);
al__cres_t *al__console_res(al_console_t *c, uint64_t id);
al__ctask_t *al__console_slot(al_console_t *c, uint32_t slot);
const char *al__console_str(const al_console_t *c, uint32_t id);
/* A snapshot of a model the caller already holds. */
al_console_snapshot_t *al__console_snapshot_locked(al_console_t *c, uint64_t now_ns);

#endif
