/*
 * al_mt.c — the multi-thread scheduler: N workers, each with a local run
 * queue and a LIFO slot, a shared inject queue, work stealing, and parking.
 *
 * A worker thread runs this loop (al__mt_run), a table of contents:
 *
 *     while not shut down:
 *         tick += 1
 *         every event_interval ticks: maintenance (poll the driver without
 *             blocking, notice shutdown, update the mean poll time)
 *         task = next_task()    LIFO slot, then the local queue, then a batch
 *                               from the inject queue (a batch is also taken
 *                               first every global_queue_interval ticks, for
 *                               fairness to remote spawns)
 *              or steal_work()  become a searcher (at most half the workers),
 *                               steal half of a random victim's queue
 *         if task: run_task()   poll it, then up to 3 tasks from the LIFO
 *                               slot in a row, sharing one coop budget
 *              (if only yielded tasks are left: poll the driver, queue them)
 *         else:    park()       block in the driver (if free) or a condvar
 *
 * Where a woken or spawned task goes (al__mt_schedule):
 *   - on a worker of this runtime, holding its core: the LIFO slot (the
 *     previous occupant moves to the back of the local queue, and idle
 *     workers are told there is work), or the back of the local queue for a
 *     yield or when the LIFO slot is disabled; a full local queue spills half
 *     of itself into the inject queue;
 *   - anywhere else (block_on callers, blocking threads, other runtimes,
 *     external threads): the inject queue, then wake one parked worker.
 *
 * The core (LIFO slot, tick, searching flag) is the part a thread must own to
 * act as worker i. block_in_place hands it to a fresh thread through
 * worker->core and runs the blocking code without it; schedules made
 * meanwhile from that thread go through the inject queue.
 *
 * Parking without lost wake-ups: a worker's park_state goes EMPTY ->
 * PARKED_CONDVAR / PARKED_DRIVER -> (unpark) NOTIFIED -> EMPTY. Unpark swaps
 * in NOTIFIED first, so a notification that arrives before the worker
 * blocks is seen by the CAS that would have blocked it. The idle set
 * (al_idle.h) decides whom to wake; the last searcher to park re-checks every
 * queue before sleeping.
 *
 * Locks, in order: idle.lock, inject lock, a worker's park_lock; the driver is
 * a try-lock and no lock is held while parked in it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "al_blocking.h"
#include "al_idle.h"
#include "al_inject.h"
#include "al_local_queue.h"
#include "al_runtime_internal.h"

#define AL__MAX_LIFO_POLLS 3

enum { PARK_EMPTY = 0, PARK_CONDVAR, PARK_DRIVER, PARK_NOTIFIED };

/* The per-worker state only the thread holding the core touches. */
typedef struct al__core {
    struct al_task *lifo; /* the LIFO slot: runs next, never stolen */
    bool lifo_enabled;
    bool is_searching;
    bool is_shutdown;
    uint32_t tick;
    uint32_t rand;
    struct al_task *yielding; /* the task polled now asked to yield (see defer) */
    struct al_task **defer;   /* yielded tasks, queued when the worker runs dry */
    uint32_t defer_len, defer_cap;
    uint64_t busy_since;  /* when the worker last unparked */
    uint64_t batch_start; /* for the mean poll time */
    uint64_t batch_polls;
} al__core_t;

/* Counters the owner writes (relaxed load + store, no lock prefix) and
 * anyone reads through al_runtime_worker_metrics. */
typedef struct al__wstats {
    atomic_uint_fast64_t park_count, steal_count, steal_operations, poll_count, busy_ns,
        overflow_count, mean_poll_ns;
    atomic_uint_fast64_t poll_hist[AL_POLL_HIST_BUCKETS];
} al__wstats_t;

#define STAT_ADD(field, n)                                                                         \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (n),    \
                          memory_order_relaxed)

typedef struct al__worker {
    al__mt_t *mt;
    uint32_t index;
    al__lq_t lq;                /* pushed/popped by the core's holder, stolen by anyone */
    _Atomic(al__core_t *) core; /* the core when no thread holds it (start, handoff, exit) */
    atomic_int park_state;      /* PARK_*, see the file comment */
    pthread_mutex_t park_lock;  /* with park_cond: the condvar half of parking */
    pthread_cond_t park_cond;
    al__wstats_t stats;
} __attribute__((aligned(AL_CACHELINE))) al__worker_t;

struct al__mt {
    al__sched_t sched; /* must stay first: tasks hold &sched */
    al_runtime_t *rt;
    uint32_t n;
    al__worker_t *workers;
    al__core_t *cores;
    al__inject_t inject;
    al__idle_t idle;
    pthread_t *threads;
    bool *thread_started;
    uint32_t event_interval;
    uint32_t global_queue_interval;
};

/* The core this thread holds (NULL: not a worker, or it handed its core away). */
static _Thread_local al__core_t *al__mt_core;
static _Thread_local al__worker_t *al__mt_worker;

static al__driver_t *al__mt_driver(al__mt_t *mt)
{
    return al__runtime_driver(mt->rt);
}

/* ---- waking workers --------------------------------------------------------- */

static void al__mt_unpark_worker(al__worker_t *w)
{
    int prev = atomic_exchange(&w->park_state, PARK_NOTIFIED);
    if (prev == PARK_CONDVAR) {
        /* Lock/unlock so the signal cannot slip between its check and wait. */
        pthread_mutex_lock(&w->park_lock);
        pthread_mutex_unlock(&w->park_lock);
        pthread_cond_signal(&w->park_cond);
    } else if (prev == PARK_DRIVER) {
        al__driver_unpark(al__mt_driver(w->mt));
    }
}

void al__mt_notify_parked(al__mt_t *mt)
{
    int i = al__idle_worker_to_notify(&mt->idle);
    if (i >= 0)
        al__mt_unpark_worker(&mt->workers[i]);
}

static void al__mt_notify_if_work_pending(al__mt_t *mt)
{
    for (uint32_t i = 0; i < mt->n; i++) {
        if (!al__lq_is_empty(&mt->workers[i].lq)) {
            al__mt_notify_parked(mt);
            return;
        }
    }
    if (!al__inject_is_empty(&mt->inject))
        al__mt_notify_parked(mt);
}

/* ---- deferred yields -------------------------------------------------------------- */

/*
 * yield_now does not re-queue its task at once: the task is parked in the
 * defer list and queued when this worker has nothing else to run, or at
 * maintenance (Tokio's defer list). A yielding task thus lets everything else
 * queued, remote spawns included, go first; with an immediate re-queue, a
 * few tasks that yield in a loop keep the local queue non-empty forever and
 * the inject queue is served only every global_queue_interval ticks.
 */
bool al__mt_defer(al_context_t *cx)
{
    al__core_t *core = al__mt_core;
    if (!core || !cx->task || cx->task != al__tls.task)
        return false;
    /* Mark the task NOTIFIED; when its poll ends it is handed to
     * al__mt_schedule as a yield, which parks it in the defer list. */
    core->yielding = cx->task;
    al_waker_wake_by_ref(&cx->waker, AL_WAKE_SRC(AL_WAKE_YIELD, 0));
    return true;
}

/* Stash a yielded task (with its queue reference). False if no room. */
static bool al__mt_defer_push(al__core_t *core, struct al_task *t)
{
    if (core->defer_len == core->defer_cap) {
        uint32_t cap = core->defer_cap ? core->defer_cap * 2 : 64;
        struct al_task **grown = realloc(core->defer, cap * sizeof *grown);
        if (!grown)
            return false;
        core->defer = grown;
        core->defer_cap = cap;
    }
    core->defer[core->defer_len++] = t;
    return true;
}

static void al__mt_push_local(al__mt_t *mt, al__worker_t *w, struct al_task *t);

/* Queue the yielded tasks at the back of the local queue. */
static bool al__mt_wake_deferred(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    uint32_t n = core->defer_len;
    if (n == 0)
        return false;
    core->defer_len = 0;
    for (uint32_t i = 0; i < n; i++)
        al__mt_push_local(mt, w, core->defer[i]);
    if (n > 1)
        al__mt_notify_parked(mt);
    return true;
}

/* ---- scheduling ------------------------------------------------------------- */

static void al__mt_drop_rejected(struct al_task *t)
{
    while (t) {
        struct al_task *next = t->next;
        al__task_ref_dec(t);
        t = next;
    }
}

static void al__mt_push_local(al__mt_t *mt, al__worker_t *w, struct al_task *t)
{
    uint64_t overflows = 0;
    struct al_task *rejected = NULL;
    if (!al__lq_push_back(&w->lq, t, &mt->inject, &overflows, &rejected))
        al__mt_drop_rejected(rejected);
    if (AL_UNLIKELY(overflows)) {
        STAT_ADD(w->stats.overflow_count, overflows);
        AL__EMIT(mt->rt, AL_EV_OVERFLOW, 0, AL__LQ_CAP / 2 + 1, 0, NULL);
    }
}

static void al__mt_schedule_remote(al__mt_t *mt, struct al_task *t)
{
    AL__EMIT(mt->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_INJECT, 0, NULL);
    if (!al__inject_push(&mt->inject, t)) {
        al__task_ref_dec(t); /* shutting down: the task is cancelled elsewhere */
        return;
    }
    atomic_fetch_add_explicit(&mt->rt->remote_schedule_count, 1, memory_order_relaxed);
    al__mt_notify_parked(mt);
}

static void al__mt_schedule(al__sched_t *s, struct al_task *t, bool is_yield)
{
    al__mt_t *mt = (al__mt_t *)s;
    al__core_t *core = al__mt_core;
    al__worker_t *w = al__mt_worker;
    if (!core || w->mt != mt) {
        al__mt_schedule_remote(mt, t);
        return;
    }
    if (AL_UNLIKELY(is_yield && core->yielding == t)) {
        core->yielding = NULL;
        AL__EMIT(mt->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_LOCAL, 0, NULL);
        if (al__mt_defer_push(core, t))
            return; /* queued when this worker runs dry */
    }
    if (is_yield || !core->lifo_enabled) {
        AL__EMIT(mt->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_LOCAL, 0, NULL);
        al__mt_push_local(mt, w, t);
    } else {
        AL__EMIT(mt->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_LIFO, 0, NULL);
        struct al_task *prev = core->lifo;
        core->lifo = t;
        if (!prev)
            return; /* runs right after the current poll: nothing to share */
        al__mt_push_local(mt, w, prev);
    }
    /* Tell an idle worker there is work to steal, unless the only queued
     * task is the one this worker runs next anyway. Tokio notifies on every
     * push; waking a sibling for a lone task makes wake chains (a lock handed
     * from task to task, ping-pong) bounce between workers: mutex_8x100k
     * measured 370 ns/op that way, 117 ns/op with this rule. The lone task
     * could be stranded if this worker then blocks; al__mt_before_blocking
     * covers the blocking calls the runtime knows about (lesson A1). */
    if (al__lq_len(&w->lq) > 1)
        al__mt_notify_parked(mt);
}

void al__mt_before_blocking(void)
{
    al__worker_t *w = al__mt_worker;
    if (al__mt_core && w && !al__lq_is_empty(&w->lq))
        al__mt_notify_parked(w->mt);
}

static void al__mt_release(al__sched_t *s, struct al_task *t)
{
    al__mt_t *mt = (al__mt_t *)s;
    al__owned_remove(&mt->rt->owned, t);
}

static const al__sched_vtable_t al__mt_vtable = {al__mt_schedule, al__mt_release};

al__sched_t *al__mt_sched(al__mt_t *mt)
{
    return &mt->sched;
}

/* ---- finding work ---------------------------------------------------------------- */

static uint32_t al__mt_rand(al__core_t *core)
{
    /* xorshift32: only used to pick where stealing starts. */
    uint32_t x = core->rand;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    core->rand = x;
    return x;
}

/* Take a batch from the inject queue: run the first, queue the rest locally. */
static struct al_task *al__mt_take_inject_batch(al__mt_t *mt, al__worker_t *w)
{
    size_t len = al__inject_len(&mt->inject);
    if (len == 0)
        return NULL;
    size_t n = len / mt->n + 1;
    size_t room = al__lq_remaining(&w->lq);
    if (n > room)
        n = room;
    if (n > AL__LQ_CAP / 2)
        n = AL__LQ_CAP / 2;
    if (n == 0)
        n = 1;
    struct al_task *first = NULL;
    size_t got = al__inject_pop_batch(&mt->inject, n, &first);
    if (got == 0)
        return NULL;
    if (got > 1)
        al__lq_push_back_batch(&w->lq, first->next, (uint32_t)(got - 1));
    first->next = NULL;
    return first;
}

static struct al_task *al__mt_next_task(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    if (core->tick % mt->global_queue_interval == 0) {
        /* Fairness check. Tokio takes one task here; we take a batch, as when
         * the local queue is empty: with busy local work (tasks that stall and
         * re-spawn, spawn_many_remote_busy1/2) one remote task per interval
         * starves the inject queue (Tokio 1.24 never finishes busy2). */
        struct al_task *t = al__mt_take_inject_batch(mt, w);
        if (t)
            return t;
    }
    if (core->lifo) {
        struct al_task *t = core->lifo;
        core->lifo = NULL;
        return t;
    }
    struct al_task *t = al__lq_pop(&w->lq);
    if (t)
        return t;
    return al__mt_take_inject_batch(mt, w);
}

static struct al_task *al__mt_steal_work(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    if (!core->is_searching) {
        if (!al__idle_transition_to_searching(&mt->idle))
            return NULL;
        core->is_searching = true;
        AL__EMIT(mt->rt, AL_EV_SEARCH_BEGIN, 0, 0, 0, NULL);
    }
    uint32_t start = al__mt_rand(core) % mt->n;
    for (uint32_t i = 0; i < mt->n; i++) {
        uint32_t v = (start + i) % mt->n;
        if (v == w->index)
            continue;
        uint32_t stolen = 0;
        struct al_task *t = al__lq_steal_into(&mt->workers[v].lq, &w->lq, &stolen);
        if (t) {
            STAT_ADD(w->stats.steal_operations, 1);
            STAT_ADD(w->stats.steal_count, stolen);
            AL__EMIT(mt->rt, AL_EV_STEAL, 0, v, stolen, NULL);
            return t;
        }
    }
    return al__mt_take_inject_batch(mt, w);
}

/*
 * Before parking, a searcher keeps looking for a few microseconds (Go's
 * spinning M). While it searches, spawners see a searcher and wake nobody,
 * so a burst of remote spawns costs no futex or eventfd call per task; a
 * worker that parked at once would be woken for every spawn, run one task,
 * and park again (measured: spawn_many_local 1,040 ns/op without the spin).
 * Only searchers spin, so at most half the workers burn CPU, and only
 * briefly: past AL__SPIN_NS the worker parks.
 */
#define AL__SPIN_NS 50000

static struct al_task *al__mt_spin_for_work(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    if (!core->is_searching)
        return NULL; /* not allowed to search (half the workers already do) */
    uint64_t start = al__now_ns();
    for (uint32_t i = 1;; i++) {
        struct al_task *t = al__mt_take_inject_batch(mt, w);
        if (!t && i % 8 == 0)
            t = al__mt_steal_work(mt, w, core);
        if (t)
            return t;
        if (al__inject_is_closed(&mt->inject))
            return NULL;
        __builtin_ia32_pause();
        if (i % 64 == 0 && al__now_ns() - start > AL__SPIN_NS)
            return NULL;
    }
}

/* ---- running ------------------------------------------------------------------------ */

static unsigned al__mt_hist_bucket(uint64_t ns)
{
    unsigned b = 0;
    ns >>= 10;
    while (ns && b < AL_POLL_HIST_BUCKETS - 1) {
        ns >>= 1;
        b++;
    }
    return b;
}

static void al__mt_poll_one(al__mt_t *mt, al__worker_t *w, struct al_task *t)
{
    al__gate_pass(mt->rt);
    STAT_ADD(w->stats.poll_count, 1);
    if (AL_UNLIKELY(mt->rt->cfg.poll_time_histogram)) {
        uint64_t t0 = al__now_ns();
        al__task_run(t);
        STAT_ADD(w->stats.poll_hist[al__mt_hist_bucket(al__now_ns() - t0)], 1);
    } else {
        al__task_run(t);
    }
    if (al__mt_core)
        al__mt_core->yielding = NULL; /* yielded and finished in the same poll */
}

/* Poll t, then the LIFO chain it starts. False if the core was handed away
 * (block_in_place) during a poll: this thread must stop being worker w. */
static bool al__mt_run_task(al__mt_t *mt, al__worker_t *w, al__core_t *core, struct al_task *t)
{
    if (core->is_searching) {
        core->is_searching = false;
        AL__EMIT(mt->rt, AL_EV_SEARCH_END, 0, 1, 0, NULL);
        if (al__idle_transition_from_searching(&mt->idle))
            al__mt_notify_parked(mt); /* the last searcher wakes a replacement */
    }
    core->batch_polls++;
    al__tls.coop = AL_COOP_BUDGET;
    al__mt_poll_one(mt, w, t);
    int lifo_polls = 0;
    for (;;) {
        core = al__mt_core;
        if (!core) {
            al__tls.coop = -1;
            return false;
        }
        struct al_task *next = core->lifo;
        if (!next) {
            core->lifo_enabled = true;
            break;
        }
        core->lifo = NULL;
        if (al__tls.coop == 0) {
            /* Budget spent: the LIFO task waits its turn at the back. */
            al__mt_push_local(mt, w, next);
            break;
        }
        if (++lifo_polls >= AL__MAX_LIFO_POLLS)
            core->lifo_enabled = false; /* until the slot empties: lets the queues in */
        core->batch_polls++;
        al__mt_poll_one(mt, w, next);
    }
    al__tls.coop = -1;
    return true;
}

/* ---- parking ----------------------------------------------------------------------- */

static void al__mt_park_thread(al__mt_t *mt, al__worker_t *w)
{
    int expect = PARK_NOTIFIED;
    if (atomic_compare_exchange_strong(&w->park_state, &expect, PARK_EMPTY))
        return;
    al__driver_t *d = al__mt_driver(mt);
    if (al__driver_try_acquire(d)) {
        expect = PARK_EMPTY;
        if (!atomic_compare_exchange_strong(&w->park_state, &expect, PARK_DRIVER)) {
            atomic_store(&w->park_state, PARK_EMPTY); /* notified meanwhile */
            al__driver_release(d);
            return;
        }
        AL__EMIT(mt->rt, AL_EV_PARK, 0, 1, 0, NULL);
        int why = al__driver_park(d, -1);
        al__driver_release(d);
        int prev = atomic_exchange(&w->park_state, PARK_EMPTY);
        AL__EMIT(mt->rt, AL_EV_UNPARK, 0, prev == PARK_NOTIFIED ? AL_UNPARK_NOTIFIED : why, 0,
                 NULL);
        return;
    }
    pthread_mutex_lock(&w->park_lock);
    expect = PARK_EMPTY;
    if (!atomic_compare_exchange_strong(&w->park_state, &expect, PARK_CONDVAR)) {
        atomic_store(&w->park_state, PARK_EMPTY);
        pthread_mutex_unlock(&w->park_lock);
        return;
    }
    AL__EMIT(mt->rt, AL_EV_PARK, 0, 0, 0, NULL);
    for (;;) {
        pthread_cond_wait(&w->park_cond, &w->park_lock);
        expect = PARK_NOTIFIED;
        if (atomic_compare_exchange_strong(&w->park_state, &expect, PARK_EMPTY))
            break; /* otherwise a spurious condvar wake-up */
    }
    pthread_mutex_unlock(&w->park_lock);
    AL__EMIT(mt->rt, AL_EV_UNPARK, 0, AL_UNPARK_NOTIFIED, 0, NULL);
}

/* After a wake-up: should this worker run, or go back to sleep? */
static bool al__mt_transition_from_parked(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    if (core->lifo || !al__lq_is_empty(&w->lq)) {
        /* The driver handed us tasks (timers, I/O): run them, notified or not.
         * If a notifier chose us meanwhile, it counted us as searching. */
        if (!al__idle_unpark_worker_by_id(&mt->idle, w->index))
            core->is_searching = true;
        return true;
    }
    if (al__idle_is_parked(&mt->idle, w->index))
        return false;          /* nobody chose us: spurious, or the driver woke for nothing */
    core->is_searching = true; /* chosen by al__idle_worker_to_notify */
    return true;
}

static void al__mt_park(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    if (core->is_searching)
        AL__EMIT(mt->rt, AL_EV_SEARCH_END, 0, 0, 0, NULL);
    if (al__idle_transition_to_parked(&mt->idle, w->index, core->is_searching))
        al__mt_notify_if_work_pending(mt);
    core->is_searching = false;
    uint64_t now = al__now_ns();
    STAT_ADD(w->stats.busy_ns, now - core->busy_since);
    STAT_ADD(w->stats.park_count, 1);
    for (;;) {
        al__mt_park_thread(mt, w);
        core->is_shutdown = al__inject_is_closed(&mt->inject);
        if (core->is_shutdown) {
            al__idle_unpark_worker_by_id(&mt->idle, w->index);
            break;
        }
        if (al__mt_transition_from_parked(mt, w, core))
            break;
    }
    core->busy_since = core->batch_start = al__now_ns();
    core->batch_polls = 0;
    if (al__lq_len(&w->lq) > 1)
        al__mt_notify_parked(mt);
}

static void al__mt_maintenance(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    al__driver_t *d = al__mt_driver(mt);
    if (al__driver_try_acquire(d)) {
        al__driver_park(d, 0); /* fire due timers, collect I/O readiness */
        al__driver_release(d);
    }
    al__mt_wake_deferred(mt, w, core);
    core->is_shutdown = al__inject_is_closed(&mt->inject);
    if (core->batch_polls) {
        uint64_t now = al__now_ns();
        uint64_t mean = (now - core->batch_start) / core->batch_polls;
        uint64_t old = atomic_load_explicit(&w->stats.mean_poll_ns, memory_order_relaxed);
        /* Exponentially weighted: the new batch counts for 1/8. */
        uint64_t ewma = old ? old - old / 8 + mean / 8 : mean;
        atomic_store_explicit(&w->stats.mean_poll_ns, ewma, memory_order_relaxed);
        core->batch_start = now;
        core->batch_polls = 0;
    }
}

/* ---- the worker loop ------------------------------------------------------------------ */

static void al__mt_run(al__mt_t *mt, al__worker_t *w, al__core_t *core)
{
    while (!core->is_shutdown) {
        core->tick++;
        if (core->tick % mt->event_interval == 0)
            al__mt_maintenance(mt, w, core);
        struct al_task *t = al__mt_next_task(mt, w, core);
        if (!t && core->defer_len) {
            /* Only yielded tasks are left here: poll the driver, then run
             * them (before stealing: they are ours and warm in our cache). */
            al__mt_maintenance(mt, w, core);
            continue;
        }
        if (!t)
            t = al__mt_steal_work(mt, w, core);
        if (t) {
            if (!al__mt_run_task(mt, w, core, t))
                return; /* the core went to another thread */
            continue;
        }
        t = al__mt_spin_for_work(mt, w, core);
        if (t) {
            if (!al__mt_run_task(mt, w, core, t))
                return;
            continue;
        }
        al__mt_park(mt, w, core);
    }
    /* Shut down: leave the core where al__mt_drain can find it. */
    atomic_store(&w->core, core);
    al__mt_core = NULL;
}

/* Body of a worker thread, and of the thread block_in_place hands a core to. */
static void al__mt_worker_main(void *arg)
{
    al__worker_t *w = arg;
    al__mt_t *mt = w->mt;
    al__core_t *core = atomic_exchange(&w->core, NULL);
    if (!core)
        return; /* block_in_place took its core back before we started */
    al__tls_t saved = al__tls;
    al__tls.rt = mt->rt;
    al__tls.entered = true;
    al__tls.worker = (struct al__worker *)w;
    al__tls.worker_index = (int)w->index;
    al__tls.coop = -1;
    al__mt_core = core;
    al__mt_worker = w;
    core->busy_since = core->batch_start = al__now_ns();
    al__mt_run(mt, w, core);
    al__mt_core = NULL;
    al__mt_worker = NULL;
    al__tls = saved;
}

static void *al__mt_thread_main(void *arg)
{
    al__worker_t *w = arg;
    char name[16];
    snprintf(name, sizeof name, "%.10s-%u", w->mt->rt->thread_name, w->index);
    pthread_setname_np(pthread_self(), name);
    al__mt_worker_main(w);
    return NULL;
}

/* ---- block_in_place ---------------------------------------------------------------------- */

int al_block_in_place(void (*fn)(void *), void *arg)
{
    if (al__tls.sched_local)
        return AL_ENOTMULTI; /* current-thread runtime: nobody to hand the queue to */
    al__worker_t *w = al__mt_worker;
    al__core_t *core = al__mt_core;
    bool was_entered = al__tls.entered;
    uint64_t task = al__current_task_id();
    if (!w || !core) {
        /* Not on a worker (or already handed off): just run it. */
        fn(arg);
        return 0;
    }
    al__mt_t *mt = w->mt;
    al__mt_wake_deferred(mt, w, core);
    if (core->lifo) { /* the LIFO task must not wait for us */
        al__mt_push_local(mt, w, core->lifo);
        core->lifo = NULL;
    }
    if (core->is_searching) {
        core->is_searching = false;
        if (al__idle_transition_from_searching(&mt->idle))
            al__mt_notify_parked(mt);
    }
    atomic_store(&w->core, core);
    al__mt_core = NULL;
    int rc = al__blocking_spawn_fn(mt->rt->blocking, al__mt_worker_main, w);
    if (rc != 0) {
        /* No thread to hand over to: keep the core and block anyway. */
        al__mt_core = atomic_exchange(&w->core, NULL);
    }
    AL__EMIT(mt->rt, AL_EV_BLOCK_BEGIN, task, AL_BLOCK_IN_PLACE, 0, NULL);
    al__tls.entered = false; /* blocking code may block_on another runtime */
    fn(arg);
    al__tls.entered = was_entered;
    AL__EMIT(mt->rt, AL_EV_BLOCK_END, task, AL_BLOCK_IN_PLACE, 0, NULL);
    if (!al__mt_core) {
        /* If the new thread has not started yet, take the core back. */
        al__core_t *back = atomic_exchange(&w->core, NULL);
        if (back)
            al__mt_core = back;
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

int al__mt_new(al_runtime_t *rt, al__mt_t **out)
{
    uint32_t n = rt->cfg.worker_threads;
    al__mt_t *mt = calloc(1, sizeof *mt);
    if (!mt)
        return AL_ENOMEM;
    mt->sched.vt = &al__mt_vtable;
    mt->sched.rt = rt;
    mt->rt = rt;
    mt->n = n;
    mt->event_interval = rt->cfg.event_interval;
    mt->global_queue_interval = rt->cfg.global_queue_interval;
    mt->workers = aligned_alloc(AL_CACHELINE, sizeof(al__worker_t) * n);
    mt->cores = calloc(n, sizeof *mt->cores);
    mt->threads = calloc(n, sizeof *mt->threads);
    mt->thread_started = calloc(n, sizeof *mt->thread_started);
    if (!mt->workers || !mt->cores || !mt->threads || !mt->thread_started ||
        al__idle_init(&mt->idle, n) != 0) {
        free(mt->workers);
        free(mt->cores);
        free(mt->threads);
        free(mt->thread_started);
        free(mt);
        return AL_ENOMEM;
    }
    memset(mt->workers, 0, sizeof(al__worker_t) * n);
    al__inject_init(&mt->inject);
    for (uint32_t i = 0; i < n; i++) {
        al__worker_t *w = &mt->workers[i];
        w->mt = mt;
        w->index = i;
        al__lq_init(&w->lq);
        atomic_init(&w->park_state, PARK_EMPTY);
        pthread_mutex_init(&w->park_lock, NULL);
        pthread_cond_init(&w->park_cond, NULL);
        al__core_t *c = &mt->cores[i];
        c->lifo_enabled = true;
        c->rand = 0x9E3779B9u * (i + 1);
        atomic_init(&w->core, c);
    }
    *out = mt;
    return 0;
}

int al__mt_start(al__mt_t *mt)
{
    for (uint32_t i = 0; i < mt->n; i++) {
        if (pthread_create(&mt->threads[i], NULL, al__mt_thread_main, &mt->workers[i]) != 0)
            return AL_ENOMEM;
        mt->thread_started[i] = true;
    }
    return 0;
}

bool al__mt_stop(al__mt_t *mt, uint64_t deadline_ns)
{
    al__inject_close(&mt->inject);
    for (uint32_t i = 0; i < mt->n; i++)
        al__mt_unpark_worker(&mt->workers[i]);
    bool all = true;
    for (uint32_t i = 0; i < mt->n; i++) {
        if (!mt->thread_started[i])
            continue;
        struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                              .tv_nsec = (long)(deadline_ns % 1000000000u)};
        /* pthread_timedjoin_np measures against CLOCK_REALTIME. */
        struct timespec now_rt, now_mono;
        clock_gettime(CLOCK_REALTIME, &now_rt);
        clock_gettime(CLOCK_MONOTONIC, &now_mono);
        uint64_t mono = (uint64_t)now_mono.tv_sec * 1000000000u + (uint64_t)now_mono.tv_nsec;
        uint64_t left = deadline_ns > mono ? deadline_ns - mono : 0;
        uint64_t abs = (uint64_t)now_rt.tv_sec * 1000000000u + (uint64_t)now_rt.tv_nsec + left;
        if (left > (uint64_t)100 * 365 * 86400 * 1000000000u)
            abs = UINT64_MAX / 2;
        ts.tv_sec = (time_t)(abs / 1000000000u);
        ts.tv_nsec = (long)(abs % 1000000000u);
        if (pthread_timedjoin_np(mt->threads[i], NULL, &ts) == 0)
            mt->thread_started[i] = false;
        else
            all = false;
    }
    return all;
}

void al__mt_drain(al__mt_t *mt)
{
    for (uint32_t i = 0; i < mt->n; i++) {
        al__worker_t *w = &mt->workers[i];
        al__core_t *c = atomic_load(&w->core);
        for (uint32_t k = 0; c && k < c->defer_len; k++)
            al__task_run(c->defer[k]); /* cancelled already: drops the reference */
        if (c)
            c->defer_len = 0;
        if (c && c->lifo) {
            struct al_task *t = c->lifo;
            c->lifo = NULL;
            al__task_run(t); /* complete (cancelled): just drops the reference */
        }
        struct al_task *t;
        while ((t = al__lq_pop(&w->lq)))
            al__task_run(t);
    }
    struct al_task *t;
    while ((t = al__inject_pop(&mt->inject)))
        al__task_run(t);
}

void al__mt_free(al__mt_t *mt)
{
    for (uint32_t i = 0; i < mt->n; i++) {
        pthread_mutex_destroy(&mt->workers[i].park_lock);
        pthread_cond_destroy(&mt->workers[i].park_cond);
    }
    for (uint32_t i = 0; i < mt->n; i++)
        free(mt->cores[i].defer);
    al__inject_destroy(&mt->inject);
    al__idle_destroy(&mt->idle);
    free(mt->workers);
    free(mt->cores);
    free(mt->threads);
    free(mt->thread_started);
    free(mt);
}

uint64_t al__mt_inject_len(al__mt_t *mt)
{
    return al__inject_len(&mt->inject);
}

void al__mt_worker_metrics(al__mt_t *mt, uint32_t i, al_worker_metrics_t *out)
{
    al__worker_t *w = &mt->workers[i];
    memset(out, 0, sizeof *out);
#define RD(f) atomic_load_explicit(&w->stats.f, memory_order_relaxed)
    out->park_count = RD(park_count);
    out->steal_count = RD(steal_count);
    out->steal_operations = RD(steal_operations);
    out->poll_count = RD(poll_count);
    out->busy_ns = RD(busy_ns);
    out->overflow_count = RD(overflow_count);
    out->mean_poll_ns = RD(mean_poll_ns);
    for (int b = 0; b < AL_POLL_HIST_BUCKETS; b++)
        out->poll_hist[b] = RD(poll_hist[b]);
#undef RD
    out->local_queue_depth = al__lq_len(&w->lq);
}
