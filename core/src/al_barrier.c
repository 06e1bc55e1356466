/*
 * al_barrier.c — Barrier: an arrival counter, a generation number and a FIFO
 * of the arrivals waiting for the rest of their generation.
 *
 * Waiter states: IDLE -> (arrive) QUEUED -> RELEASED -> DONE, or IDLE ->
 * DONE directly for the leader (the arrival that makes the count reach n).
 *
 * The leader, under the lock: resets `arrived` to 0, bumps `gen` to g, and
 * pops every waiter that queued in an older generation (node.need holds the
 * low 32 bits of the generation it arrived in), marking it RELEASED and waking
 * it, in batches of 32 with the lock released in between. An arrival of the
 * new generation that queues meanwhile has need == g, sits behind them, and
 * stays. Each generation therefore has exactly one leader: only the arrival
 * that brings `arrived` to n under the lock.
 *
 * Shared fields (struct al_barrier), under `lock` unless noted:
 *   arrived, waiters, every queued node's fields;
 *   gen   atomic: written under lock, read relaxed by al_barrier_generation;
 *   n, id, name  written once; refs atomic.
 */
#include <pthread.h>
#include <string.h>

#include "al_barrier.h"
#include "al_sync_internal.h"

enum { BW_IDLE = 0, BW_QUEUED, BW_RELEASED, BW_DONE };

struct al_barrier {
    pthread_mutex_t lock;
    al__waitq_t waiters;
    uint32_t n;
    uint32_t arrived;
    _Atomic uint64_t gen;
    _Atomic uint32_t refs;
    uint64_t id;
    char *name;
};

int al_barrier_new(uint32_t n, const char *name, al_barrier_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_barrier_t *b = calloc(1, sizeof *b);
    if (!b)
        return AL_ENOMEM;
    if (name && !(b->name = strdup(name))) {
        free(b);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&b->lock, NULL);
    b->n = n ? n : 1;
    atomic_init(&b->gen, 0);
    atomic_init(&b->refs, 1);
    b->id = al__resource_id_next();
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), b->id, AL_RES_BARRIER, b->name);
    *out = b;
    return 0;
}

al_barrier_t *al_barrier_ref(al_barrier_t *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void al_barrier_unref(al_barrier_t *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, b->id, 0, NULL);
    AL_EXPECT(b->waiters.head == NULL);
    pthread_mutex_destroy(&b->lock);
    free(b->name);
    free(b);
}

uint64_t al_barrier_id(const al_barrier_t *b)
{
    return b->id;
}
const char *al_barrier_name(const al_barrier_t *b)
{
    return b->name ? b->name : "";
}
uint64_t al_barrier_generation(const al_barrier_t *b)
{
    return atomic_load_explicit(&b->gen, memory_order_relaxed);
}

void al_barrier_wait_init(al_barrier_wait_t *op, al_barrier_t *b)
{
    op->b = b;
    op->node.prev = op->node.next = NULL;
    op->node.waker = AL_WAKER_NONE;
    op->node.need = 0;
    atomic_init(&op->node.state, BW_IDLE);
}

/* Under lock, by the leader: release every waiter of generations before g. */
static void barrier_release_locked(al_barrier_t *b, uint32_t g)
{
    al__wake_list_t wl = {.n = 0};
    al_wait_node_t *w;
    while ((w = b->waiters.head) && (int32_t)(w->need - g) < 0) {
        al__waitq_remove(&b->waiters, w);
        atomic_store_explicit(&w->state, BW_RELEASED, memory_order_relaxed);
        al__wake_list_take(&wl, w);
        if (al__wake_list_full(&wl)) {
            pthread_mutex_unlock(&b->lock);
            al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, b->id));
            pthread_mutex_lock(&b->lock);
        }
    }
    pthread_mutex_unlock(&b->lock);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_NOTIFY, b->id));
    pthread_mutex_lock(&b->lock);
}

al_poll_t al_barrier_wait_poll(al_barrier_wait_t *op, al_context_t *cx, bool *is_leader)
{
    al_wait_node_t *w = &op->node;
    *is_leader = false;
    if (!op->b || atomic_load_explicit(&w->state, memory_order_relaxed) == BW_DONE)
        return AL_READY; /* (no barrier: a caller bug) */
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_barrier_t *b = op->b;
    al_poll_t r = AL_PENDING;
    al_waker_t old = AL_WAKER_NONE;
    pthread_mutex_lock(&b->lock);
    switch (atomic_load_explicit(&w->state, memory_order_relaxed)) {
    case BW_IDLE:
        if (++b->arrived == b->n) {
            b->arrived = 0;
            uint32_t g = (uint32_t)(atomic_fetch_add(&b->gen, 1) + 1);
            atomic_store_explicit(&w->state, BW_DONE, memory_order_relaxed);
            *is_leader = true;
            r = AL_READY;
            barrier_release_locked(b, g);
        } else {
            w->need = (uint32_t)atomic_load_explicit(&b->gen, memory_order_relaxed);
            w->waker = al_waker_clone(&cx->waker);
            atomic_store_explicit(&w->state, BW_QUEUED, memory_order_relaxed);
            al__waitq_push_back(&b->waiters, w);
        }
        break;
    case BW_QUEUED:
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
        break;
    default: /* RELEASED */
        atomic_store_explicit(&w->state, BW_DONE, memory_order_relaxed);
        r = AL_READY;
        break;
    }
    pthread_mutex_unlock(&b->lock);
    al_waker_drop(&old);
    if (r == AL_PENDING)
        al_coop_refund();
    return r;
}

void al_barrier_wait_drop(al_barrier_wait_t *op)
{
    al_wait_node_t *w = &op->node;
    uint32_t st = atomic_load_explicit(&w->state, memory_order_relaxed);
    if (!op->b || st == BW_IDLE || st == BW_DONE) {
        atomic_store_explicit(&w->state, BW_DONE, memory_order_relaxed);
        return;
    }
    al_barrier_t *b = op->b;
    al_waker_t mine = AL_WAKER_NONE;
    pthread_mutex_lock(&b->lock);
    if (atomic_load_explicit(&w->state, memory_order_relaxed) == BW_QUEUED) {
        al__waitq_remove(&b->waiters, w);
        mine = w->waker;
        w->waker = AL_WAKER_NONE;
    }
    atomic_store_explicit(&w->state, BW_DONE, memory_order_relaxed);
    pthread_mutex_unlock(&b->lock);
    al_waker_drop(&mine);
}
