/*
 * al_test_futures.h — small futures the runtime tests are built from.
 *
 *   counter   increments counts[index] and finishes (spawn stress tests)
 *   yielder   yields n times, then finishes (yields go to the back of the queue)
 *   forever   returns Pending forever, keeping its waker (cancellation tests)
 *   lost      returns Pending forever and drops its waker (a lost waker)
 *   panicker  fails with al_panic
 *   join_all  awaits an array of JoinHandles (the main future of most tests)
 *
 * al_test_run(rt, vt, fut) block_ons a future and asserts it succeeded.
 */
#ifndef AL_TEST_FUTURES_H
#define AL_TEST_FUTURES_H

#include <criterion/criterion.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "asynclab.h"

/* ---- counter ---- */
typedef struct {
    atomic_int *counts;
    size_t index;
    atomic_int *ran_on; /* optional: worker index per task */
} tf_counter_t;

static al_poll_t tf_counter_poll(void *f, al_context_t *cx, void *out)
{
    tf_counter_t *c = f;
    atomic_fetch_add(&c->counts[c->index], 1);
    if (c->ran_on)
        atomic_store(&c->ran_on[c->index], al_runtime_current_worker());
    return AL_READY;
}
static const al_future_vtable_t tf_counter_vt = {
    .type_name = "counter", .poll = tf_counter_poll, .future_size = sizeof(tf_counter_t)};

/* ---- yielder ---- */
typedef struct {
    int left;
    al_yield_t y;
    atomic_int *done;
} tf_yielder_t;

static al_poll_t tf_yielder_poll(void *f, al_context_t *cx, void *out)
{
    tf_yielder_t *y = f;
    while (y->left > 0) {
        if (al_yield_poll(&y->y, cx) == AL_PENDING)
            return AL_PENDING;
        y->y = AL_YIELD_INIT;
        y->left--;
    }
    if (y->done)
        atomic_fetch_add(y->done, 1);
    return AL_READY;
}
static const al_future_vtable_t tf_yielder_vt = {
    .type_name = "yielder", .poll = tf_yielder_poll, .future_size = sizeof(tf_yielder_t)};

/* ---- forever / lost ---- */
typedef struct {
    al_waker_t waker;
    atomic_int *dropped; /* counts drops (cancellation ran the destructor) */
    atomic_int *polled;
} tf_forever_t;

static al_poll_t tf_forever_poll(void *f, al_context_t *cx, void *out)
{
    tf_forever_t *p = f;
    al_waker_set(&p->waker, &cx->waker);
    if (p->polled)
        atomic_fetch_add(p->polled, 1);
    return AL_PENDING;
}
static void tf_forever_drop(void *f)
{
    tf_forever_t *p = f;
    al_waker_drop(&p->waker);
    if (p->dropped)
        atomic_fetch_add(p->dropped, 1);
}
static const al_future_vtable_t tf_forever_vt = {.type_name = "forever",
                                                 .poll = tf_forever_poll,
                                                 .drop = tf_forever_drop,
                                                 .future_size = sizeof(tf_forever_t)};

static al_poll_t tf_lost_poll(void *f, al_context_t *cx, void *out)
{
    atomic_int *polled = *(atomic_int **)f;
    if (polled)
        atomic_fetch_add(polled, 1);
    return AL_PENDING; /* no waker kept: nothing will ever wake this task */
}
static const al_future_vtable_t tf_lost_vt = {
    .type_name = "lost", .poll = tf_lost_poll, .future_size = sizeof(atomic_int *)};

/* ---- panicker ---- */
static al_poll_t tf_panic_poll(void *f, al_context_t *cx, void *out)
{
    return al_panic(cx, "boom %d", 42);
}
static const al_future_vtable_t tf_panic_vt = {.type_name = "panicker", .poll = tf_panic_poll};

/* ---- join_all ---- */
typedef struct {
    al_join_t **handles;
    size_t n, next;
    size_t ok, cancelled, panicked;
    bool keep; /* do not drop the handles (the test inspects them) */
} tf_join_all_t;

static al_poll_t tf_join_all_poll(void *f, al_context_t *cx, void *out)
{
    tf_join_all_t *j = f;
    while (j->next < j->n) {
        al_join_result_t res;
        if (al_join_poll(j->handles[j->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        if (res.kind == AL_JOIN_OK)
            j->ok++;
        else if (res.kind == AL_JOIN_CANCELLED)
            j->cancelled++;
        else
            j->panicked++;
        if (!j->keep) {
            al_join_drop(j->handles[j->next]);
            j->handles[j->next] = NULL;
        }
        j->next++;
    }
    return AL_READY;
}
static const al_future_vtable_t tf_join_all_vt = {
    .type_name = "join_all", .poll = tf_join_all_poll, .future_size = sizeof(tf_join_all_t)};

static inline void tf_run(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut)
{
    char *msg = NULL;
    int rc = al_runtime_block_on(rt, vt, fut, NULL, &msg);
    cr_assert_eq(rc, 0, "block_on: %s (%s)", al_strerror(rc), msg ? msg : "");
}

static inline al_runtime_t *tf_runtime(al_flavor_t flavor, uint32_t workers)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, flavor);
    cfg.worker_threads = workers;
    cfg.enable_time = true;
    cfg.enable_io = true;
    al_runtime_t *rt = NULL;
    int rc = al_runtime_new(&cfg, &rt);
    cr_assert_eq(rc, 0, "runtime: %s", al_strerror(rc));
    return rt;
}

#endif
