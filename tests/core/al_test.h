/*
 * al_test.h — helpers shared by the core tests.
 *
 * A counting waker lets a test poll a sub-future by hand, with no runtime,
 * and check exactly when it asks to be woken (as tokio-test's task::spawn):
 *
 *     al_test_waker_t tw; al_context_t cx = al_test_context(&tw);
 *     cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING);
 *     ... make progress ...
 *     cr_assert_eq(tw.wakes, 1);
 *
 * al_test_scale(n) divides stress-test sizes under the sanitizers
 * (the Makefile sets AL_TEST_SCALE), so every variant fits CI's budget.
 */
#ifndef AL_TEST_H
#define AL_TEST_H

#include <stdatomic.h>
#include <stdlib.h>

#include "asynclab.h"

typedef struct al_test_waker {
    atomic_int wakes;  /* wake + wake_by_ref calls */
    atomic_int clones; /* live clones (clone - drop - wake) */
    atomic_int last_kind;
} al_test_waker_t;

static void *al_test__clone(void *d)
{
    al_test_waker_t *w = d;
    atomic_fetch_add(&w->clones, 1);
    return d;
}
static void al_test__wake_by_ref(void *d, al_wake_src_t src)
{
    al_test_waker_t *w = d;
    atomic_store(&w->last_kind, src.kind);
    atomic_fetch_add(&w->wakes, 1);
}
static void al_test__wake(void *d, al_wake_src_t src)
{
    al_test_waker_t *w = d;
    al_test__wake_by_ref(d, src);
    atomic_fetch_sub(&w->clones, 1);
}
static void al_test__drop(void *d)
{
    al_test_waker_t *w = d;
    atomic_fetch_sub(&w->clones, 1);
}
static const al_waker_vtable_t al_test__vtable = {
    al_test__clone, al_test__wake, al_test__wake_by_ref, al_test__drop};

/* A context whose waker counts into *tw (zeroed here). No task, no runtime. */
static inline al_context_t al_test_context(al_test_waker_t *tw)
{
    atomic_init(&tw->wakes, 0);
    atomic_init(&tw->clones, 0);
    atomic_init(&tw->last_kind, -1);
    al_context_t cx = {0};
    cx.waker.vtable = &al_test__vtable;
    cx.waker.data = tw;
    return cx;
}

static inline long al_test_scale(long n)
{
    const char *s = getenv("AL_TEST_SCALE");
    long d = s ? atol(s) : 1;
    if (d < 1)
        d = 1;
    long r = n / d;
    return r > 0 ? r : 1;
}

#endif
