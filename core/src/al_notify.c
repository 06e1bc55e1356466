/*
 * al_notify.c — Notify: a FIFO wait queue, a one-bit stored permit, and a
 * counter of notify_waiters calls.
 *
 * Waiter states (al_wait_node_t.state): IDLE -> QUEUED -> NOTIFIED_ONE or
 * NOTIFIED_ALL -> DONE (observed by a poll, or dropped).
 *
 * notified() poll (under lock): a stored permit is consumed; a notify_waiters
 * call since the future's init completes it; otherwise it queues at the back,
 * recording in node.need the low 32 bits of `gen` (the notify_waiters count)
 * at which it queued.
 *
 * notify_one (under lock): pop the front waiter, mark it NOTIFIED_ONE and wake
 * it after unlocking; with no waiter, set `permit`.
 *
 * notify_waiters: bump `gen` to g, then pop from the front every waiter that
 * queued before g (need "older than" g, compared modulo 2^32), waking them in
 * batches of 32 with the lock released in between. Waiters that queue while
 * the lock is released carry need >= g, sit behind the older ones (FIFO), and
 * are not woken: they began waiting after the call. A concurrent second call
 * (g+1) pops its own older waiters; the two never wake a waiter twice because
 * popping is under the lock.
 *
 * Cancellation: a QUEUED waiter unlinks; a NOTIFIED_ONE waiter that never
 * observed it re-runs notify_one, so the notification goes on.
 *
 * Shared fields (struct al_notify), all under `lock` unless noted:
 *   waiters, permit, every queued node's fields;
 *   gen   atomic: written under lock, read without it by al_notified_init;
 *   refs  atomic; id, name written once.
 */
#include <pthread.h>
#include <string.h>

#include "al_notify.h"
#include "al_sync_internal.h"

enum { NW_IDLE = 0, NW_QUEUED, NW_NOTIFIED_ONE, NW_NOTIFIED_ALL, NW_DONE };

struct al_notify {
    pthread_mutex_t lock;
    al__waitq_t waiters;
    bool permit;
    _Atomic uint64_t gen;
    _Atomic uint32_t refs;
    uint64_t id;
    char *name;
};

int al_notify_new(const char *name, al_notify_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_notify_t *n = calloc(1, sizeof *n);
    if (!n)
        return AL_ENOMEM;
    if (name && !(n->name = strdup(name))) {
        free(n);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&n->lock, NULL);
    atomic_init(&n->gen, 0);
    atomic_init(&n->refs, 1);
    n->id = al__resource_id_next();
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), n->id, AL_RES_NOTIFY, n->name);
    *out = n;
    return 0;
}

al_notify_t *al_notify_ref(al_notify_t *n)
{
    atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
    return n;
}

void al_notify_unref(al_notify_t *n)
{
    if (!n || atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, n->id, 0, NULL);
    AL_EXPECT(n->waiters.head == NULL);
    pthread_mutex_destroy(&n->lock);
    free(n->name);
    free(n);
}

uint64_t al_notify_id(const al_notify_t *n)
{
    return n->id;
}
const char *al_notify_name(const al_notify_t *n)
{
    return n->name ? n->name : "";
}

/* Under lock: hand one notification to the front waiter, or store it. */
static void notify_one_locked(al_notify_t *n, al__wake_list_t *wl)
{
    al_wait_node_t *w = al__waitq_pop_front(&n->waiters);
    if (!w) {
        n->permit = true;
        return;
    }
    atomic_store_explicit(&w->state, NW_NOTIFIED_ONE, memory_order_relaxed);
    al__wake_list_take(wl, w);
}

void al_notify_notify_one(al_notify_t *n)
{
    if (!n)
        return;
    al__wake_list_t wl = {.n = 0};
    pthread_mutex_lock(&n->lock);
    notify_one_locked(n, &wl);
    pthread_mutex_unlock(&n->lock);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, n->id));
}

void al_notify_notify_waiters(al_notify_t *n)
{
    if (!n)
        return;
    al__wake_list_t wl = {.n = 0};
    pthread_mutex_lock(&n->lock);
    uint32_t g = (uint32_t)(atomic_fetch_add(&n->gen, 1) + 1);
    al_wait_node_t *w;
    while ((w = n->waiters.head) && (int32_t)(w->need - g) < 0) {
        al__waitq_remove(&n->waiters, w);
        atomic_store_explicit(&w->state, NW_NOTIFIED_ALL, memory_order_relaxed);
        al__wake_list_take(&wl, w);
        if (al__wake_list_full(&wl)) {
            pthread_mutex_unlock(&n->lock);
            al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, n->id));
            pthread_mutex_lock(&n->lock);
        }
    }
    pthread_mutex_unlock(&n->lock);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, n->id));
}

void al_notified_init(al_notified_t *op, al_notify_t *n)
{
    op->n = n;
    op->gen = n ? atomic_load(&n->gen) : 0;
    op->node.prev = op->node.next = NULL;
    op->node.waker = AL_WAKER_NONE;
    op->node.need = 0;
    atomic_init(&op->node.state, NW_IDLE);
}

al_poll_t al_notified_poll(al_notified_t *op, al_context_t *cx)
{
    al_wait_node_t *w = &op->node;
    if (!op->n || atomic_load_explicit(&w->state, memory_order_relaxed) == NW_DONE)
        return AL_READY; /* (no notify: a caller bug) */
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_notify_t *n = op->n;
    al_poll_t r = AL_PENDING;
    al_waker_t old = AL_WAKER_NONE;
    pthread_mutex_lock(&n->lock);
    switch (atomic_load_explicit(&w->state, memory_order_relaxed)) {
    case NW_IDLE:
        if (n->permit) {
            n->permit = false;
            r = AL_READY;
        } else if (atomic_load_explicit(&n->gen, memory_order_relaxed) != op->gen) {
            r = AL_READY; /* notify_waiters ran after our init */
        } else {
            w->need = (uint32_t)op->gen;
            w->waker = al_waker_clone(&cx->waker);
            atomic_store_explicit(&w->state, NW_QUEUED, memory_order_relaxed);
            al__waitq_push_back(&n->waiters, w);
        }
        break;
    case NW_QUEUED:
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
        break;
    default: /* NOTIFIED_ONE / NOTIFIED_ALL */
        r = AL_READY;
        break;
    }
    if (r == AL_READY)
        atomic_store_explicit(&w->state, NW_DONE, memory_order_relaxed);
    pthread_mutex_unlock(&n->lock);
    al_waker_drop(&old);
    if (r == AL_PENDING)
        al_coop_refund();
    return r;
}

void al_notified_drop(al_notified_t *op)
{
    al_wait_node_t *w = &op->node;
    uint32_t st = atomic_load_explicit(&w->state, memory_order_relaxed);
    if (!op->n || st == NW_IDLE || st == NW_DONE) {
        atomic_store_explicit(&w->state, NW_DONE, memory_order_relaxed);
        return;
    }
    al_notify_t *n = op->n;
    al__wake_list_t wl = {.n = 0};
    al_waker_t mine = AL_WAKER_NONE;
    pthread_mutex_lock(&n->lock);
    st = atomic_load_explicit(&w->state, memory_order_relaxed);
    if (st == NW_QUEUED) {
        al__waitq_remove(&n->waiters, w);
        mine = w->waker;
        w->waker = AL_WAKER_NONE;
    } else if (st == NW_NOTIFIED_ONE) {
        notify_one_locked(n, &wl); /* pass the unseen notification on */
    }
    atomic_store_explicit(&w->state, NW_DONE, memory_order_relaxed);
    pthread_mutex_unlock(&n->lock);
    al_waker_drop(&mine);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, n->id));
}
