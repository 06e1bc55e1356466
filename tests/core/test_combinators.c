/*
 * test_combinators.c — select (losers dropped), join_all, JoinSet (results
 * in completion order, abort on free) and LocalSet (local tasks stay on the
 * driving thread; spawn_local outside a set is an error).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "al_test.h"
#include "al_test_futures.h"

/* A branch that becomes ready after `polls` polls (waking itself each time). */
typedef struct {
    int polls;
    int value;
    atomic_int *dropped;
} countdown_t;

static al_poll_t countdown_poll(void *f, al_context_t *cx, void *out)
{
    countdown_t *c = f;
    if (c->polls-- > 0) {
        al_waker_wake_by_ref(&cx->waker, AL_WAKE_SRC(AL_WAKE_TASK, 0));
        return AL_PENDING;
    }
    if (out)
        *(int *)out = c->value;
    return AL_READY;
}
static void countdown_drop(void *f) { atomic_fetch_add(((countdown_t *)f)->dropped, 1); }
static const al_future_vtable_t countdown_vt = {.type_name = "countdown",
                                                .poll = countdown_poll,
                                                .drop = countdown_drop,
                                                .future_size = sizeof(countdown_t),
                                                .output_size = sizeof(int)};

Test(select, first_ready_wins_and_every_branch_is_dropped_once)
{
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    atomic_int dropped = 0;
    countdown_t a = {5, 1, &dropped}, b = {2, 2, &dropped}, c = {9, 3, &dropped};
    int out[3] = {0};
    al_select_branch_t br[3] = {
        {&countdown_vt, &a, &out[0]}, {&countdown_vt, &b, &out[1]}, {&countdown_vt, &c, &out[2]}};
    al_select_state_t st = {0};
    size_t winner = 99;
    int polls = 0;
    while (al_select_poll(br, 3, &cx, &winner, &st) == AL_PENDING)
        polls++;
    cr_assert_eq(winner, 1);
    cr_assert_eq(out[1], 2);
    cr_assert_eq(atomic_load(&dropped), 3); /* two losers and the finished winner */
    cr_assert(st.finished);
    cr_assert_gt(polls, 0);
}

Test(select, join_all_waits_for_every_branch)
{
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    atomic_int dropped = 0;
    countdown_t a = {3, 10, &dropped}, b = {0, 20, &dropped};
    int out[2] = {0};
    al_select_branch_t br[2] = {{&countdown_vt, &a, &out[0]}, {&countdown_vt, &b, &out[1]}};
    al_select_state_t st = {0};
    int polls = 0;
    while (al_join_all_poll(br, 2, &cx, &st) == AL_PENDING)
        polls++;
    cr_assert_eq(polls, 3);
    cr_assert_eq(out[0], 10);
    cr_assert_eq(out[1], 20);
    cr_assert_eq(atomic_load(&dropped), 2);
}

Test(select, dropping_a_pending_select_drops_all_branches)
{
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    atomic_int dropped = 0;
    countdown_t a = {5, 1, &dropped}, b = {5, 2, &dropped};
    al_select_branch_t br[2] = {{&countdown_vt, &a, NULL}, {&countdown_vt, &b, NULL}};
    al_select_state_t st = {0};
    size_t w;
    cr_assert_eq(al_select_poll(br, 2, &cx, &w, &st), AL_PENDING);
    al_select_drop(br, 2, &st);
    al_select_drop(br, 2, &st); /* idempotent */
    cr_assert_eq(atomic_load(&dropped), 2);
}

/* ---- JoinSet ---- */

static al_poll_t value_poll(void *f, al_context_t *cx, void *out)
{
    *(long *)out = *(long *)f;
    return AL_READY;
}
static const al_future_vtable_t value_vt = {.type_name = "value",
                                            .poll = value_poll,
                                            .future_size = sizeof(long),
                                            .output_size = sizeof(long)};

typedef struct {
    al_join_set_t *set;
    long sum;
    size_t got;
    size_t panics;
} drain_t;

static al_poll_t drain_poll(void *f, al_context_t *cx, void *out)
{
    drain_t *d = f;
    for (;;) {
        long v = 0;
        uint64_t id;
        al_join_result_t res;
        if (al_join_set_join_next_poll(d->set, cx, &v, &id, &res) == AL_PENDING)
            return AL_PENDING;
        if (id == 0)
            return AL_READY;
        d->got++;
        if (res.kind == AL_JOIN_OK)
            d->sum += v;
        else if (res.kind == AL_JOIN_PANIC)
            d->panics++;
    }
}
static const al_future_vtable_t drain_vt = {
    .type_name = "drain", .poll = drain_poll, .future_size = sizeof(drain_t)};

Test(join_set, join_next_returns_every_result_once)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_join_set_t *set;
    cr_assert_eq(al_join_set_new(&set), 0);
    long n = al_test_scale(10000), want = 0;
    for (long i = 1; i <= n; i++) {
        cr_assert_eq(al_join_set_spawn(set, rt, &value_vt, &i, NULL), 0);
        want += i;
    }
    cr_assert_eq(al_join_set_spawn(set, rt, &tf_panic_vt, NULL, NULL), 0);
    drain_t d = {set, 0, 0, 0};
    tf_run(rt, &drain_vt, &d);
    cr_assert_eq(d.got, (size_t)n + 1);
    cr_assert_eq(d.sum, want);
    cr_assert_eq(d.panics, 1);
    cr_assert_eq(al_join_set_len(set), 0);
    al_join_set_free(set);
    al_runtime_free(rt);
}

Test(join_set, freeing_the_set_aborts_running_members)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_join_set_t *set;
    cr_assert_eq(al_join_set_new(&set), 0);
    atomic_int dropped = 0, polled = 0;
    for (int i = 0; i < 50; i++) {
        tf_forever_t f = {.dropped = &dropped, .polled = &polled};
        cr_assert_eq(al_join_set_spawn(set, rt, &tf_forever_vt, &f, NULL), 0);
    }
    cr_assert_eq(al_join_set_len(set), 50);
    al_join_set_free(set);
    /* Aborted tasks are cancelled by the workers; then nothing is alive. */
    al_runtime_metrics_t m;
    do {
        al_runtime_metrics(rt, &m);
        sched_yield();
    } while (m.num_alive_tasks > 0);
    cr_assert_eq(atomic_load(&dropped), 50);
    al_runtime_free(rt);
}

/* ---- LocalSet ---- */

typedef struct {
    al_local_set_t *set;
    int n;
    pthread_t driver;
    atomic_int *same_thread;
    tf_join_all_t join;
    bool spawned;
    int spawn_rc;
} local_main_t;

static al_poll_t local_task_poll(void *f, al_context_t *cx, void *out)
{
    local_main_t *m = *(local_main_t **)f;
    if (pthread_equal(pthread_self(), m->driver))
        atomic_fetch_add(m->same_thread, 1);
    return AL_READY;
}
static const al_future_vtable_t local_task_vt = {
    .poll = local_task_poll, .future_size = sizeof(local_main_t *)};

static al_poll_t local_inner(void *arg, al_context_t *cx)
{
    local_main_t *m = arg;
    if (!m->spawned) {
        m->join.handles = calloc((size_t)m->n, sizeof(al_join_t *));
        m->join.n = (size_t)m->n;
        for (int i = 0; i < m->n; i++) {
            local_main_t *p = m;
            m->spawn_rc |= al_spawn_local(&local_task_vt, &p, NULL, &m->join.handles[i]);
        }
        m->spawned = true;
    }
    return tf_join_all_poll(&m->join, cx, NULL);
}

static al_poll_t local_main_poll(void *f, al_context_t *cx, void *out)
{
    local_main_t *m = f;
    return al_local_set_run_until_poll(m->set, cx, local_inner, m);
}
static const al_future_vtable_t local_main_vt = {.poll = local_main_poll,
                                                 .future_size = sizeof(local_main_t)};

Test(local_set, local_tasks_run_on_the_driving_thread_only)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    al_local_set_t *set;
    cr_assert_eq(al_local_set_new(&set), 0);
    atomic_int same = 0;
    local_main_t m = {.set = set, .n = 1000, .driver = pthread_self(), .same_thread = &same};
    tf_run(rt, &local_main_vt, &m);
    cr_assert_eq(m.spawn_rc, 0);
    cr_assert_eq(m.join.ok, 1000);
    cr_assert_eq(atomic_load(&same), 1000);
    free(m.join.handles);
    al_local_set_free(set);
    al_runtime_free(rt);
}

Test(local_set, spawn_local_outside_a_local_set_is_an_error)
{
    local_main_t *p = NULL;
    cr_assert_eq(al_spawn_local(&local_task_vt, &p, NULL, NULL), AL_ENOLOCALSET);
    cr_assert(strstr(al_strerror(AL_ENOLOCALSET), "outside of a `task::LocalSet`"));
}

typedef struct {
    atomic_int *dropped, *polled;
    int rc;
} spawn_forever_t;

/* Runs with the set entered: spawns 10 local tasks that wait forever. */
static al_poll_t local_spawn_forever(void *arg, al_context_t *cx)
{
    spawn_forever_t *sp = arg;
    for (int i = 0; i < 10; i++) {
        tf_forever_t f = {.dropped = sp->dropped, .polled = sp->polled};
        sp->rc |= al_spawn_local(&tf_forever_vt, &f, NULL, NULL);
    }
    return AL_READY;
}

Test(local_set, freeing_a_set_cancels_its_pending_tasks)
{
    al_local_set_t *set;
    cr_assert_eq(al_local_set_new(&set), 0);
    atomic_int dropped = 0, polled = 0;
    spawn_forever_t sp = {&dropped, &polled, 0};
    /* Drive the set by hand, with no runtime, just long enough to spawn. */
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    cr_assert_eq(al_local_set_run_until_poll(set, &cx, local_spawn_forever, &sp), AL_READY);
    cr_assert_eq(sp.rc, 0);
    cr_assert_eq(al_local_set_len(set), 10);
    cr_assert_eq(atomic_load(&polled), 0); /* inner was ready: no local task ran yet */
    al_local_set_free(set);
    cr_assert_eq(atomic_load(&dropped), 10);
}
