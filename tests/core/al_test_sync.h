/*
 * al_test_sync.h — helpers for the sync-primitive tests: a thread parker
 * usable as a waker, so a plain thread can drive sub-futures by hand.
 *
 *     al_test_parker_t p; al_test_parker_init(&p);
 *     al_context_t cx = al_test_parker_context(&p);
 *     while (al_mutex_lock_poll(&op, &cx, &g) == AL_PENDING)
 *         al_test_parker_wait(&p);      // sleeps until some thread wakes us
 *
 * A wake sets a flag under the parker's mutex and signals its condvar; wait
 * consumes the flag. No sleeping as synchronisation: the thread blocks until
 * the primitive's wake. A parker must outlive every wake that targets it, so
 * tests keep parkers alive until all threads have been joined.
 */
#ifndef AL_TEST_SYNC_H
#define AL_TEST_SYNC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "asynclab.h"

typedef struct al_test_parker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int notified;       /* under mu */
    atomic_long wakes;  /* statistics */
    atomic_long clones; /* live clones: must be 0 when the thread is done */
} al_test_parker_t;

static void *al_test__pk_clone(void *d)
{
    al_test_parker_t *p = d;
    atomic_fetch_add(&p->clones, 1);
    return d;
}
static void al_test__pk_wake_by_ref(void *d, al_wake_src_t src)
{
    (void)src;
    al_test_parker_t *p = d;
    atomic_fetch_add(&p->wakes, 1);
    pthread_mutex_lock(&p->mu);
    p->notified = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
static void al_test__pk_wake(void *d, al_wake_src_t src)
{
    al_test_parker_t *p = d;
    atomic_fetch_sub(&p->clones, 1);
    al_test__pk_wake_by_ref(d, src);
}
static void al_test__pk_drop(void *d)
{
    al_test_parker_t *p = d;
    atomic_fetch_sub(&p->clones, 1);
}
static const al_waker_vtable_t al_test__pk_vtable = {al_test__pk_clone, al_test__pk_wake,
                                                     al_test__pk_wake_by_ref, al_test__pk_drop};

static inline void al_test_parker_init(al_test_parker_t *p)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->notified = 0;
    atomic_init(&p->wakes, 0);
    atomic_init(&p->clones, 0);
}

static inline void al_test_parker_destroy(al_test_parker_t *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

static inline al_context_t al_test_parker_context(al_test_parker_t *p)
{
    al_context_t cx = {0};
    cx.waker.vtable = &al_test__pk_vtable;
    cx.waker.data = p;
    return cx;
}

/* Block until woken (returns at once if a wake came since the last wait). */
static inline void al_test_parker_wait(al_test_parker_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->notified)
        pthread_cond_wait(&p->cv, &p->mu);
    p->notified = 0;
    pthread_mutex_unlock(&p->mu);
}

/* A small xorshift PRNG for stress tests (per thread, deterministic). */
static inline uint32_t al_test_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/*
 * Event capture without a runtime: every al_runtime starts with the hook slot
 * (al_internal.h), so a bare slot posing as the thread's runtime receives
 * AL__EMIT_HERE events. Needs al_internal.h included before this header.
 * Records the first AL_TEST_MAX_EVENTS events of this thread and others.
 */
#ifdef AL_INTERNAL_H
#define AL_TEST_MAX_EVENTS 256
typedef struct al_test_events {
    al__hook_slot_t slot; /* must be first */
    pthread_mutex_t mu;
    int n;
    al_event_t ev[AL_TEST_MAX_EVENTS];
} al_test_events_t;

static void al_test__record(void *user, const al_event_t *ev)
{
    al_test_events_t *r = user;
    pthread_mutex_lock(&r->mu);
    if (r->n < AL_TEST_MAX_EVENTS) {
        r->ev[r->n] = *ev;
        r->ev[r->n].str = NULL;
        r->n++;
    }
    pthread_mutex_unlock(&r->mu);
}

/* Install on the calling thread (other threads: al_test_events_enter). */
static inline void al_test_events_start(al_test_events_t *r)
{
    pthread_mutex_init(&r->mu, NULL);
    r->n = 0;
    atomic_init(&r->slot.fn, al_test__record);
    atomic_init(&r->slot.user, r);
    al__tls.rt = (al_runtime_t *)r;
}
static inline void al_test_events_enter(al_test_events_t *r)
{
    al__tls.rt = (al_runtime_t *)r;
}
static inline void al_test_events_stop(void)
{
    al__tls.rt = NULL;
}

/* Index of the first event of `kind` at or after `from`, or -1. */
static inline int al_test_events_find(al_test_events_t *r, int from, al_event_kind_t kind)
{
    pthread_mutex_lock(&r->mu);
    int found = -1;
    for (int i = from; i < r->n && found < 0; i++)
        if (r->ev[i].kind == kind)
            found = i;
    pthread_mutex_unlock(&r->mu);
    return found;
}
#endif

#endif
