/*
 * test_sync_runtime.c — the async sync primitives under the real runtime:
 * tasks on several workers increment a counter under a Mutex while holding
 * the guard across a yield (exact count); LOCK_CONTEND names the holding task;
 * a task aborted while queued on a Mutex does not strand the lock; Barrier and
 * Semaphore with real tasks.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_test.h"
#include "al_test_futures.h"

/* ---- a task: N times { lock; counter++; yield holding the guard; unlock } ---- */

typedef struct inc_task {
    al_mutex_t *m;
    long *counter;
    long iters, i;
    int phase; /* 0 idle, 1 locking, 2 holding (yielding) */
    al_mutex_lock_t op;
    al_mutex_guard_t g;
    al_yield_t y;
} inc_task_t;

static al_poll_t inc_poll(void *f, al_context_t *cx, void *out)
{
    inc_task_t *t = f;
    for (;;) {
        switch (t->phase) {
        case 0:
            if (t->i == t->iters)
                return AL_READY;
            al_mutex_lock_init(&t->op, t->m); /* in place: the task never moves */
            t->phase = 1;
            /* fall through */
        case 1:
            if (al_mutex_lock_poll(&t->op, cx, &t->g) == AL_PENDING)
                return AL_PENDING;
            al_mutex_lock_drop(&t->op);
            (*(long *)*al_mutex_guard_value(&t->g))++;
            t->y = AL_YIELD_INIT;
            t->phase = 2;
            /* fall through */
        default:
            if (al_yield_poll(&t->y, cx) == AL_PENDING)
                return AL_PENDING; /* an async mutex may be held across an await */
            cr_assert_eq(al_mutex_guard_unlock(&t->g), 0);
            t->i++;
            t->phase = 0;
        }
    }
}

static void inc_drop(void *f)
{
    inc_task_t *t = f;
    if (t->phase == 1)
        al_mutex_lock_drop(&t->op);
    else if (t->phase == 2)
        al_mutex_guard_unlock(&t->g);
}

static const al_future_vtable_t inc_vt = {
    .type_name = "inc", .poll = inc_poll, .drop = inc_drop, .future_size = sizeof(inc_task_t)};

typedef struct rec {
    pthread_mutex_t mu;
    long contends, contends_with_holder;
    uint64_t holders[64];
    int nholders;
} rec_t;

static void rec_hook(void *user, const al_event_t *ev)
{
    rec_t *r = user;
    if (ev->kind != AL_EV_LOCK_CONTEND)
        return;
    pthread_mutex_lock(&r->mu);
    r->contends++;
    if (ev->b) {
        r->contends_with_holder++;
        if (r->nholders < 64)
            r->holders[r->nholders++] = ev->b;
    }
    pthread_mutex_unlock(&r->mu);
}

static void run_counter(al_flavor_t flavor, uint32_t workers, int tasks, long iters, rec_t *r)
{
    al_runtime_t *rt = tf_runtime(flavor, workers);
    if (r)
        al_runtime_set_hook(rt, rec_hook, r);
    long counter = 0;
    al_mutex_t *m = NULL;
    cr_assert_eq(al_mutex_new(&counter, "counter", &m), 0);
    al_join_t *h[16];
    uint64_t ids[16];
    for (int i = 0; i < tasks; i++) {
        inc_task_t t = {.m = m, .counter = &counter, .iters = iters};
        cr_assert_eq(al_spawn(rt, &inc_vt, &t, NULL, &h[i]), 0);
        ids[i] = al_join_id(h[i]);
    }
    tf_join_all_t j = {.handles = h, .n = (size_t)tasks};
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, (size_t)tasks);
    cr_assert_eq(counter, iters * tasks);
    cr_assert_not(al_mutex_is_locked(m));
    al_runtime_free(rt);
    al_mutex_unref(m);
    if (r) {
        for (int k = 0; k < r->nholders; k++) {
            bool known = false;
            for (int i = 0; i < tasks; i++)
                known |= r->holders[k] == ids[i];
            cr_assert(known, "holder %llu is not one of the tasks",
                      (unsigned long long)r->holders[k]);
        }
    }
}

Test(sync_runtime, mutex_counter_across_workers, .timeout = 60)
{
    run_counter(AL_MULTI_THREAD, 4, 8, al_test_scale(100000) / 8, NULL);
}

Test(sync_runtime, contend_names_the_holder_task, .timeout = 30)
{
    static rec_t r;
    pthread_mutex_init(&r.mu, NULL);
    /* one thread: task 1 locks and yields holding it; task 2 must contend */
    run_counter(AL_CURRENT_THREAD, 1, 4, 50, &r);
    cr_assert_gt(r.contends_with_holder, 0);
}

/* ---- a task aborted while queued on the mutex does not strand it ---- */

typedef struct waiter_task {
    al_mutex_t *m;
    al_mutex_lock_t op;
    al_mutex_guard_t g;
    int started, got;
} waiter_task_t;

static al_poll_t waiter_poll(void *f, al_context_t *cx, void *out)
{
    waiter_task_t *t = f;
    if (!t->started) {
        al_mutex_lock_init(&t->op, t->m);
        t->started = 1;
    }
    if (al_mutex_lock_poll(&t->op, cx, &t->g) == AL_PENDING)
        return AL_PENDING;
    t->got = 1;
    al_mutex_guard_unlock(&t->g);
    return AL_READY;
}
static void waiter_drop(void *f)
{
    waiter_task_t *t = f;
    if (t->started)
        al_mutex_lock_drop(&t->op);
}
static const al_future_vtable_t waiter_vt = {.type_name = "waiter",
                                             .poll = waiter_poll,
                                             .drop = waiter_drop,
                                             .future_size = sizeof(waiter_task_t)};

Test(sync_runtime, aborted_waiter_does_not_strand_the_lock, .timeout = 30)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_mutex_t *m = NULL;
    cr_assert_eq(al_mutex_new(NULL, NULL, &m), 0);
    al_mutex_guard_t g = {0};
    cr_assert_eq(al_mutex_try_lock(m, &g), 0); /* held by the test thread */
    waiter_task_t w = {.m = m};
    al_join_t *h[2];
    cr_assert_eq(al_spawn(rt, &waiter_vt, &w, NULL, &h[0]), 0);
    cr_assert_eq(al_spawn(rt, &waiter_vt, &w, NULL, &h[1]), 0);
    al_join_abort(h[0]);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    tf_join_all_t j = {.handles = h, .n = 2};
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok + j.cancelled, 2);
    cr_assert_geq(j.ok, 1);
    cr_assert_not(al_mutex_is_locked(m));
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    al_runtime_free(rt);
    al_mutex_unref(m);
}

/* ---- barrier with real tasks: one leader per generation ---- */

typedef struct bar_task {
    al_barrier_t *b;
    atomic_long *leaders;
    long gens, g;
    int waiting;
    al_barrier_wait_t op;
} bar_task_t;

static al_poll_t bar_poll(void *f, al_context_t *cx, void *out)
{
    bar_task_t *t = f;
    while (t->g < t->gens) {
        if (!t->waiting) {
            al_barrier_wait_init(&t->op, t->b);
            t->waiting = 1;
        }
        bool leader = false;
        if (al_barrier_wait_poll(&t->op, cx, &leader) == AL_PENDING)
            return AL_PENDING;
        al_barrier_wait_drop(&t->op);
        t->waiting = 0;
        if (leader)
            atomic_fetch_add(t->leaders, 1);
        t->g++;
    }
    return AL_READY;
}
static void bar_drop(void *f)
{
    bar_task_t *t = f;
    if (t->waiting)
        al_barrier_wait_drop(&t->op);
}
static const al_future_vtable_t bar_vt = {
    .type_name = "barrier", .poll = bar_poll, .drop = bar_drop, .future_size = sizeof(bar_task_t)};

Test(sync_runtime, barrier_generations_with_tasks, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 4);
    al_barrier_t *b = NULL;
    cr_assert_eq(al_barrier_new(6, NULL, &b), 0);
    static atomic_long leaders;
    atomic_init(&leaders, 0);
    long gens = al_test_scale(2000);
    al_join_t *h[6];
    for (int i = 0; i < 6; i++) {
        bar_task_t t = {.b = b, .leaders = &leaders, .gens = gens};
        cr_assert_eq(al_spawn(rt, &bar_vt, &t, NULL, &h[i]), 0);
    }
    tf_join_all_t j = {.handles = h, .n = 6};
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, 6);
    cr_assert_eq(atomic_load(&leaders), gens);
    al_runtime_free(rt);
    al_barrier_unref(b);
}
