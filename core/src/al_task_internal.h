/*
 * al_task_internal.h — private to the asynclab core: the task cell, its
 * state word, and what a scheduler must provide to run tasks.
 *
 * Layout (one malloc): the 64-byte header below, then the future's bytes
 * (rounded up to 8), then the output's bytes. After the future finishes, its region holds
 * the panic message pointer (if it panicked).
 *
 * The state word (atomic, 64 bits) packs six flags and a reference count:
 *   RUNNING        a thread is polling (or cancelling) the task; only that
 *                  thread touches the future.
 *   COMPLETE       the future is gone; the output (or the join error) is set.
 *   NOTIFIED       the task has been woken and sits in (or is going to) a run
 *                  queue, or, while RUNNING, must be re-queued after the poll.
 *   JOIN_INTEREST  a JoinHandle exists; it owns the output once COMPLETE.
 *   JOIN_WAKER     the join_waker field is published to the completing side;
 *                  when clear, the JoinHandle owns the field.
 *   CANCELLED      abort requested; the next thread to run it drops the future.
 *   refcount       in the remaining bits (unit AL__T_REF_ONE).
 *
 * References are held by: the scheduler's owned-task set (until the task
 * finishes), each queued notification (the queue "holds" the task), the
 * JoinHandle, and each waker clone. The memory is freed when the count
 * reaches zero. A thread that pops a task from a queue inherits that queue's
 * reference for the duration of the poll.
 *
 * Wake rules (al__task_wake*), as in Tokio: waking a RUNNING task only sets
 * NOTIFIED (the runner re-queues it, at the back, after the poll); waking an
 * idle task sets NOTIFIED, takes a reference for the queue and schedules it;
 * waking a NOTIFIED or COMPLETE task does nothing.
 */
#ifndef AL_TASK_INTERNAL_H
#define AL_TASK_INTERNAL_H

#include <stdalign.h>
#include <stdbool.h>

#include "al_internal.h"
#include "al_task.h"

#define AL__T_RUNNING ((uint64_t)1 << 0)
#define AL__T_COMPLETE ((uint64_t)1 << 1)
#define AL__T_NOTIFIED ((uint64_t)1 << 2)
#define AL__T_JOIN_INTEREST ((uint64_t)1 << 3)
#define AL__T_JOIN_WAKER ((uint64_t)1 << 4)
#define AL__T_CANCELLED ((uint64_t)1 << 5)
#define AL__T_REF_ONE ((uint64_t)1 << 6)
#define AL__T_REF_COUNT(s) ((s) >> 6)

struct al_task;

/*
 * What a task needs from whatever runs it (the multi-thread scheduler, the
 * current-thread scheduler, a LocalSet, the blocking pool).
 */
typedef struct al__sched al__sched_t;
typedef struct al__sched_vtable {
    /* Queue a notified task; the call takes over one reference. is_yield:
     * the task yielded (or was re-queued after a wake during its poll), so it
     * goes to the back of the queue, never the LIFO slot. */
    void (*schedule)(al__sched_t *s, struct al_task *t, bool is_yield);
    /* The task finished: remove it from the owned set and return the owned
     * set's reference (the caller drops it). */
    void (*release)(al__sched_t *s, struct al_task *t);
} al__sched_vtable_t;

struct al__sched {
    const al__sched_vtable_t *vt;
    al_runtime_t *rt;
};

enum { AL__STAGE_RUNNING = 0, AL__STAGE_FINISHED, AL__STAGE_CONSUMED };

struct al_task {
    _Atomic uint64_t state;       /* flags + refcount, see above */
    struct al_task *next;         /* intrusive link, owned by the queue holding the task */
    const al_future_vtable_t *vt; /* immutable */
    al__sched_t *sched;           /* immutable after bind */
    uint64_t id;                  /* immutable */
    uint32_t owned_index;         /* slot in the owner's set; guarded by that set's lock */
    uint8_t stage;                /* AL__STAGE_*: written by the runner, then by the joiner */
    uint8_t kind;                 /* al_task_kind_t, immutable */
    uint8_t join_kind;            /* al_join_kind_t, written before COMPLETE is published */
    al_waker_t join_waker;        /* see JOIN_WAKER */
    alignas(8) unsigned char data[];
};
_Static_assert(sizeof(struct al_task) == 64, "the task header is one cache line");

/* Allocate a task for vt (future copied from init). NULL on out of memory. */
struct al_task *al__task_alloc(const al_future_vtable_t *vt, const void *init, al_task_kind_t kind);
/* Free a task that was never scheduled (spawn failed after alloc). Drops the future. */
void al__task_discard(struct al_task *t);
/* Initial state: NOTIFIED, refs for the owned set + the first queue + (join). */
void al__task_init_state(struct al_task *t, bool with_join);

static inline void *al__task_future(struct al_task *t) { return t->data; }
/* Futures and outputs are 8-byte aligned (not 16): a pending task's cell is
 * what pending_1m_rss_bytes measures, and 8 bytes of padding per task show. */
static inline size_t al__task_future_span(const al_future_vtable_t *vt)
{
    size_t n = vt->future_size < sizeof(char *) ? sizeof(char *) : vt->future_size;
    return (n + 7) & ~(size_t)7;
}
static inline void *al__task_output(struct al_task *t)
{
    return t->data + al__task_future_span(t->vt);
}

/*
 * Run a task popped from a queue (the caller gives up the queue's reference):
 * poll it once, or cancel it if CANCELLED, then complete it, leave it idle,
 * or re-queue it (yield). A COMPLETE task (cancelled at shutdown while it sat
 * in a queue) is just released. The caller has set the coop budget.
 */
void al__task_run(struct al_task *t);

/* Shutdown: cancel the task if idle (drop its future now), or mark it so
 * that its runner cancels it after the current poll. */
void al__task_shutdown(struct al_task *t);

/* Drop one reference (frees at zero). */
void al__task_ref_dec(struct al_task *t);

/* Wakes as the waker vtable performs them (also used by abort). */
void al__task_wake_by_ref(struct al_task *t, al_wake_src_t src);

/* Register waker as the JoinHandle's waker; true if the task has already
 * finished (then nothing is registered and the output is untouched). */
bool al__join_set_waker(struct al_task *t, const al_waker_t *waker);

/* Counts a coop-forced yield in the metrics of cx's runtime. */
void al__task_note_forced_yield(al_context_t *cx);

/* The vtable of task wakers (data = the task). */
extern const al_waker_vtable_t al__task_waker_vtable;

#endif
