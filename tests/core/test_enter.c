/*
 * test_enter.c — al_runtime_enter / al_runtime_exit (Tokio's Runtime::enter):
 * a thread that is not a worker makes a runtime current without driving it.
 * What resources do there is recorded in that runtime's stream (outside, it
 * is not: no runtime to record it in); block_on is still allowed; exit gives
 * back the runtime that was current before.
 */
#include <criterion/criterion.h>

#include "al_test_futures.h"
#include "al_test_stream.h"

static size_t count(ts_rec_t *r, al_event_kind_t kind, uint64_t a)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        n += r->ev[i].kind == kind && r->ev[i].a == a;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* A mutex made, locked, unlocked and dropped on this (non-worker) thread. */
static uint64_t mutex_life(void)
{
    al_mutex_t *m;
    cr_assert_eq(al_mutex_new(NULL, "plain", &m), 0);
    uint64_t id = al_mutex_id(m);
    al_mutex_guard_t g;
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    al_mutex_guard_unlock(&g);
    al_mutex_unref(m);
    return id;
}

Test(enter, resources_outside_any_runtime_are_recorded_only_when_entered, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_stream_t *st;
    cr_assert_eq(al_stream_start(rt, NULL, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), &rec), 0);

    cr_assert_null(al_runtime_current());
    uint64_t outside = mutex_life();

    cr_assert_null(al_runtime_enter(rt), "nothing was current before");
    cr_assert_eq(al_runtime_current(), rt);
    cr_assert(!al_runtime_driving(), "entered, not driving");
    uint64_t inside = mutex_life();
    al_runtime_exit(NULL);
    cr_assert_null(al_runtime_current());

    al_stream_flush(st);
    cr_assert_eq(count(&rec, AL_EV_RESOURCE_CREATE, outside), 0);
    cr_assert_eq(count(&rec, AL_EV_RESOURCE_DROP, outside), 0);
    cr_assert_eq(count(&rec, AL_EV_RESOURCE_CREATE, inside), 1);
    cr_assert_eq(count(&rec, AL_EV_LOCK_ACQUIRE, inside), 1);
    cr_assert_eq(count(&rec, AL_EV_LOCK_RELEASE, inside), 1);
    cr_assert_eq(count(&rec, AL_EV_RESOURCE_DROP, inside), 1, "the drop is recorded too");
    al_stream_stop(st);
    al_runtime_free(rt);
    ts_rec_free(&rec);
}

static al_poll_t driving_poll(void *f, al_context_t *cx, void *out)
{
    (void)cx;
    (void)out;
    *(bool *)f = al_runtime_driving();
    return AL_READY;
}
static const al_future_vtable_t driving_vt = {
    .type_name = "driving", .poll = driving_poll, .future_size = sizeof(bool)};

Test(enter, block_on_is_allowed_and_the_previous_runtime_comes_back, .timeout = 60)
{
    al_runtime_t *a = tf_runtime(AL_MULTI_THREAD, 1);
    al_runtime_t *b = tf_runtime(AL_CURRENT_THREAD, 1);
    cr_assert_null(al_runtime_enter(a));
    bool driving = false;
    cr_assert_eq(al_runtime_block_on(a, &driving_vt, &driving, NULL, NULL), 0, "not nested");
    cr_assert(driving, "inside block_on the thread drives");
    cr_assert(!al_runtime_driving(), "and no longer after");
    cr_assert_eq(al_runtime_current(), a, "still entered after block_on");

    cr_assert_eq(al_runtime_enter(b), a, "entering b returns a");
    cr_assert_eq(al_runtime_block_on(b, &driving_vt, &driving, NULL, NULL), 0);
    al_runtime_exit(a);
    cr_assert_eq(al_runtime_current(), a);
    al_runtime_exit(NULL);
    cr_assert_null(al_runtime_current());
    al_runtime_free(b);
    al_runtime_free(a);
}
