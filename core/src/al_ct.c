/*
 * al_ct.c — the current-thread scheduler: no worker threads; the thread in
 * block_on drives every task, between polls of the main future.
 *
 * block_on's loop (al__ct_block_on), a table of contents:
 *
 *     loop:
 *         if the main future was woken: poll it; done when it is ready
 *         run up to AL__CT_TASKS_PER_TICK queued tasks (the remote queue is
 *             checked first every global_queue_interval ticks)
 *         if nothing ran and the main future sleeps: park in the driver
 *             (with paused time: first let the clock jump to the next timer)
 *         else every event_interval tasks: poll the driver without blocking
 *
 * Queues: `local` is a plain FIFO list touched only by the driving thread
 * (wakes from that thread land there); `remote` (an inject queue) takes wakes
 * from every other thread, which then unpark the driver. Only one thread
 * drives at a time: block_on holds `core_lock` for its whole run, so a second
 * thread calling block_on on the same runtime waits its turn. Tasks spawned
 * while nobody drives simply wait in the queues, as in Tokio.
 */
#include <string.h>

#include "al_inject.h"
#include "al_runtime_internal.h"
#include "al_time_driver.h"

#define AL__CT_TASKS_PER_TICK 61

/* The main future's waker: sets `notified` and unparks the driver. Heap and
 * counted, because a future may keep a clone after block_on returns. */
typedef struct al__ct_main_waker {
    atomic_uint refs;
    atomic_bool notified;
    _Atomic(al__ct_t *) ct; /* NULL once block_on has returned */
} al__ct_main_waker_t;

struct al__ct {
    al__sched_t sched; /* must stay first */
    al_runtime_t *rt;
    pthread_mutex_t core_lock;  /* held by the driving thread for a whole block_on */
    struct al_task *local_head; /* guarded by core_lock (driving thread only) */
    struct al_task *local_tail;
    atomic_uint_fast64_t local_len; /* written by the driver, read by metrics */
    al__inject_t remote;
    uint64_t tick; /* driving thread only */
    atomic_uint_fast64_t polls, parks, busy_ns;
};

static bool al__ct_is_driver(al__ct_t *ct) { return al__tls.sched_local == ct; }

static void al__ct_push_local(al__ct_t *ct, struct al_task *t)
{
    t->next = NULL;
    if (ct->local_tail)
        ct->local_tail->next = t;
    else
        ct->local_head = t;
    ct->local_tail = t;
    atomic_fetch_add_explicit(&ct->local_len, 1, memory_order_relaxed);
}

static struct al_task *al__ct_pop_local(al__ct_t *ct)
{
    struct al_task *t = ct->local_head;
    if (t) {
        ct->local_head = t->next;
        if (!ct->local_head)
            ct->local_tail = NULL;
        t->next = NULL;
        atomic_fetch_sub_explicit(&ct->local_len, 1, memory_order_relaxed);
    }
    return t;
}

static void al__ct_schedule(al__sched_t *s, struct al_task *t, bool is_yield)
{
    al__ct_t *ct = (al__ct_t *)s;
    if (al__ct_is_driver(ct)) {
        AL__EMIT(ct->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_CURRENT, 0, NULL);
        al__ct_push_local(ct, t);
        return;
    }
    AL__EMIT(ct->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_INJECT, 0, NULL);
    if (!al__inject_push(&ct->remote, t)) {
        al__task_ref_dec(t); /* shutting down */
        return;
    }
    atomic_fetch_add_explicit(&ct->rt->remote_schedule_count, 1, memory_order_relaxed);
    al__driver_unpark(al__runtime_driver(ct->rt));
}

static void al__ct_release(al__sched_t *s, struct al_task *t)
{
    al__ct_t *ct = (al__ct_t *)s;
    al__owned_remove(&ct->rt->owned, t);
}

static const al__sched_vtable_t al__ct_vtable = {al__ct_schedule, al__ct_release};

al__sched_t *al__ct_sched(al__ct_t *ct) { return &ct->sched; }

int al__ct_new(al_runtime_t *rt, al__ct_t **out)
{
    al__ct_t *ct = calloc(1, sizeof *ct);
    if (!ct)
        return AL_ENOMEM;
    ct->sched.vt = &al__ct_vtable;
    ct->sched.rt = rt;
    ct->rt = rt;
    pthread_mutex_init(&ct->core_lock, NULL);
    al__inject_init(&ct->remote);
    *out = ct;
    return 0;
}

/* ---- the main future's waker -------------------------------------------------- */

static void al__cmw_unref(al__ct_main_waker_t *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
        free(w);
}
static void *al__cmw_clone(void *d)
{
    al__ct_main_waker_t *w = d;
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    return w;
}
static void al__cmw_wake_by_ref(void *d, al_wake_src_t src)
{
    al__ct_main_waker_t *w = d;
    atomic_store(&w->notified, true);
    al__ct_t *ct = atomic_load(&w->ct);
    if (ct && !al__ct_is_driver(ct))
        al__driver_unpark(al__runtime_driver(ct->rt));
}
static void al__cmw_wake(void *d, al_wake_src_t src)
{
    al__cmw_wake_by_ref(d, src);
    al__cmw_unref(d);
}
static void al__cmw_drop(void *d) { al__cmw_unref(d); }
static const al_waker_vtable_t al__cmw_vtable = {al__cmw_clone, al__cmw_wake, al__cmw_wake_by_ref,
                                                 al__cmw_drop};

/* ---- driving ------------------------------------------------------------------- */

static struct al_task *al__ct_next_task(al__ct_t *ct, uint32_t gqi)
{
    struct al_task *t;
    if (ct->tick % gqi == 0) {
        t = al__inject_pop(&ct->remote);
        return t ? t : al__ct_pop_local(ct);
    }
    t = al__ct_pop_local(ct);
    return t ? t : al__inject_pop(&ct->remote);
}

/* Nothing to run: wait for a wake, a timer or I/O. */
static void al__ct_park(al__ct_t *ct, al__ct_main_waker_t *mw)
{
    al__driver_t *d = al__runtime_driver(ct->rt);
    AL_EXPECT(al__driver_try_acquire(d)); /* only the driving thread parks here */
    struct al__time *time = al__runtime_time(ct->rt);
    if (time && al__time_is_paused(time)) {
        /* Test time: poll I/O without blocking; if still idle, jump the clock. */
        al__driver_park(d, 0);
        if (!ct->local_head && al__inject_is_empty(&ct->remote) && !atomic_load(&mw->notified) &&
            al__time_auto_advance(time)) {
            al__driver_release(d);
            return;
        }
        if (ct->local_head || !al__inject_is_empty(&ct->remote) || atomic_load(&mw->notified)) {
            al__driver_release(d);
            return;
        }
    }
    atomic_fetch_add_explicit(&ct->parks, 1, memory_order_relaxed);
    AL__EMIT(ct->rt, AL_EV_PARK, 0, 1, 0, NULL);
    int why = al__driver_park(d, -1);
    AL__EMIT(ct->rt, AL_EV_UNPARK, 0, why, 0, NULL);
    al__driver_release(d);
}

int al__ct_block_on(al__ct_t *ct, const al_future_vtable_t *vt, void *fut, void *out,
                    char **panic_msg)
{
    al__ct_main_waker_t *mw = malloc(sizeof *mw);
    if (!mw)
        return AL_ENOMEM;
    atomic_init(&mw->refs, 1);
    atomic_init(&mw->notified, true);
    atomic_init(&mw->ct, ct);

    pthread_mutex_lock(&ct->core_lock);
    al__tls_t saved = al__tls;
    al__tls.rt = ct->rt;
    al__tls.entered = true;
    al__tls.sched_local = ct;
    al__tls.worker_index = 0; /* the driving thread acts as the one worker */
    const al_runtime_config_t *cfg = &ct->rt->cfg;
    int rc = 0;
    for (;;) {
        if (atomic_exchange(&mw->notified, false)) {
            al_context_t cx = {.waker = {.vtable = &al__cmw_vtable, .data = mw}, .rt = ct->rt};
            al_poll_t r = vt->poll(fut, &cx, out);
            if (r == AL_READY)
                break;
            if (r == AL_PANIC) {
                if (panic_msg)
                    *panic_msg = (char *)cx.panic_msg;
                else
                    free((void *)cx.panic_msg);
                rc = AL_EPANIC;
                break;
            }
        }
        if (atomic_load(&ct->rt->shutting_down)) {
            rc = AL_ESHUTDOWN;
            break;
        }
        int ran = 0;
        uint64_t t0 = al__now_ns();
        while (ran < AL__CT_TASKS_PER_TICK && !atomic_load(&mw->notified)) {
            ct->tick++;
            struct al_task *t = al__ct_next_task(ct, cfg->global_queue_interval);
            if (!t)
                break;
            ran++;
            al__gate_pass(ct->rt);
            al__tls.coop = AL_COOP_BUDGET;
            al__task_run(t);
            al__tls.coop = -1;
            if (ct->tick % cfg->event_interval == 0) {
                al__driver_t *d = al__runtime_driver(ct->rt);
                if (al__driver_try_acquire(d)) {
                    al__driver_park(d, 0);
                    al__driver_release(d);
                }
            }
        }
        if (ran) {
            atomic_fetch_add_explicit(&ct->polls, (uint64_t)ran, memory_order_relaxed);
            atomic_fetch_add_explicit(&ct->busy_ns, al__now_ns() - t0, memory_order_relaxed);
        } else if (!atomic_load(&mw->notified)) {
            al__ct_park(ct, mw);
        }
    }
    atomic_store(&mw->ct, NULL);
    al__tls = saved;
    pthread_mutex_unlock(&ct->core_lock);
    al__cmw_unref(mw);
    return rc;
}

void al__ct_drain(al__ct_t *ct)
{
    pthread_mutex_lock(&ct->core_lock);
    struct al_task *t;
    while ((t = al__ct_pop_local(ct)))
        al__task_run(t); /* cancelled already: drops the queue's reference */
    al__inject_close(&ct->remote);
    while ((t = al__inject_pop(&ct->remote)))
        al__task_run(t);
    pthread_mutex_unlock(&ct->core_lock);
}

void al__ct_close(al__ct_t *ct) { al__inject_close(&ct->remote); }

void al__ct_free(al__ct_t *ct)
{
    al__inject_destroy(&ct->remote);
    pthread_mutex_destroy(&ct->core_lock);
    free(ct);
}

uint64_t al__ct_queue_len(al__ct_t *ct)
{
    return atomic_load_explicit(&ct->local_len, memory_order_relaxed) + al__inject_len(&ct->remote);
}

void al__ct_worker_metrics(al__ct_t *ct, al_worker_metrics_t *out)
{
    memset(out, 0, sizeof *out);
    out->poll_count = atomic_load_explicit(&ct->polls, memory_order_relaxed);
    out->park_count = atomic_load_explicit(&ct->parks, memory_order_relaxed);
    out->busy_ns = atomic_load_explicit(&ct->busy_ns, memory_order_relaxed);
    out->local_queue_depth = atomic_load_explicit(&ct->local_len, memory_order_relaxed);
    if (out->poll_count)
        out->mean_poll_ns = out->busy_ns / out->poll_count;
}
