/*
 * al_parker.c — thread parker (see al_parker.h).
 *
 * state: EMPTY -> PARKED (the thread is about to wait / waits on cond) ->
 * NOTIFIED (a wake arrived) -> EMPTY (the thread consumed it). A wake swaps
 * in NOTIFIED first and only takes the mutex if the thread is PARKED, so
 * waking a running thread costs one atomic exchange.
 */
#include <pthread.h>

#include "al_parker.h"

enum { P_EMPTY, P_PARKED, P_NOTIFIED };

struct al__parker {
    atomic_uint refs;
    atomic_int state;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

al__parker_t *al__parker_new(void)
{
    al__parker_t *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1);
    atomic_init(&p->state, P_EMPTY);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return p;
}

void al__parker_unref(al__parker_t *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p);
    }
}

static void al__parker_unpark(al__parker_t *p)
{
    if (atomic_exchange(&p->state, P_NOTIFIED) == P_PARKED) {
        pthread_mutex_lock(&p->lock);
        pthread_mutex_unlock(&p->lock);
        pthread_cond_signal(&p->cond);
    }
}

void al__parker_park(al__parker_t *p)
{
    int expect = P_NOTIFIED;
    if (atomic_compare_exchange_strong(&p->state, &expect, P_EMPTY))
        return;
    pthread_mutex_lock(&p->lock);
    expect = P_EMPTY;
    if (!atomic_compare_exchange_strong(&p->state, &expect, P_PARKED)) {
        atomic_store(&p->state, P_EMPTY); /* notified in between */
        pthread_mutex_unlock(&p->lock);
        return;
    }
    for (;;) {
        pthread_cond_wait(&p->cond, &p->lock);
        expect = P_NOTIFIED;
        if (atomic_compare_exchange_strong(&p->state, &expect, P_EMPTY))
            break;
    }
    pthread_mutex_unlock(&p->lock);
}

static void *al__pw_clone(void *d)
{
    al__parker_t *p = d;
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}
static void al__pw_wake_by_ref(void *d, al_wake_src_t src) { al__parker_unpark(d); }
static void al__pw_wake(void *d, al_wake_src_t src)
{
    al__parker_unpark(d);
    al__parker_unref(d);
}
static void al__pw_drop(void *d) { al__parker_unref(d); }

static const al_waker_vtable_t al__parker_waker_vtable = {al__pw_clone, al__pw_wake,
                                                          al__pw_wake_by_ref, al__pw_drop};

al_waker_t al__parker_waker(al__parker_t *p)
{
    return (al_waker_t){.vtable = &al__parker_waker_vtable, .data = p};
}
