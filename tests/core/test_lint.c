/*
 * test_lint.c — every lint fires on a real program that has the fault and
 * stays silent on its fixed version; settings parse or fail clearly.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "al_test.h"
#include "al_test_futures.h"

typedef struct {
    al_runtime_t *rt;
    al_stream_t *st;
    al_lint_t *lint;
} scene_t;

static scene_t scene_start_with(const char *spec, uint32_t max_blocking_threads)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 2;
    cfg.enable_time = true;
    if (max_blocking_threads)
        cfg.max_blocking_threads = max_blocking_threads;
    scene_t s = {0};
    cr_assert_eq(al_runtime_new(&cfg, &s.rt), 0);
    cr_assert_eq(al_lint_new(&s.lint), 0);
    char err[256] = "";
    if (spec)
        cr_assert_eq(al_lint_configure(s.lint, spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(al_stream_start(s.rt, NULL, &s.st), 0);
    cr_assert_eq(al_stream_subscribe(s.st, &al_lint_consumer, s.lint), 0);
    return s;
}

static scene_t scene_start(const char *spec)
{
    return scene_start_with(spec, 0);
}

/* Shut the runtime down (every event delivered) and return how many times
 * the lint fired; print the findings when asked. */
static size_t scene_end(scene_t *s, unsigned lint)
{
    al_runtime_free(s->rt);
    size_t n = al_lint_count(s->lint, lint);
    if (getenv("AL_TEST_VERBOSE"))
        al_lint_print(s->lint, 0, stderr);
    return n;
}

static al_lint_finding_t first_finding(al_lint_t *l, unsigned lint)
{
    al_lint_finding_t all[64];
    size_t n = al_lint_findings(l, all, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (all[i].lint == lint)
            return all[i];
    cr_assert_fail("no %s finding", al_lint_name(lint));
    return all[0];
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- lost-waker ---- */

static void run_until_polled(scene_t *s, const al_future_vtable_t *vt, void *fut,
                             atomic_int *polled)
{
    al_spawn_opts_t o = {.name = "waiter"};
    al_join_t *h;
    cr_assert_eq(al_spawn(s->rt, vt, fut, &o, &h), 0);
    while (atomic_load(polled) == 0)
        sched_yield();
    al_stream_flush(s->st);
    al_join_drop(h);
}

Test(lint, lost_waker_fires_on_a_future_that_keeps_no_waker, .timeout = 60)
{
    scene_t s = scene_start(NULL);
    atomic_int polled = 0;
    atomic_int *p = &polled;
    run_until_polled(&s, &tf_lost_vt, &p, &polled);
    cr_assert_eq(al_lint_count(s.lint, AL_LINT_LOST_WAKER), 1, "fires while the runtime runs");
    al_lint_finding_t f = first_finding(s.lint, AL_LINT_LOST_WAKER);
    cr_assert(strstr(f.message, "\"waiter\"") && strstr(f.message, "never run again"), "%s",
              f.message);
    cr_assert_eq(scene_end(&s, AL_LINT_LOST_WAKER), 1);
    al_lint_free(s.lint);
}

Test(lint, lost_waker_is_silent_when_the_waker_is_kept, .timeout = 60)
{
    scene_t s = scene_start(NULL);
    atomic_int polled = 0;
    tf_forever_t fut = {.polled = &polled};
    run_until_polled(&s, &tf_forever_vt, &fut, &polled);
    cr_assert_eq(scene_end(&s, AL_LINT_LOST_WAKER), 0, "not even when shutdown drops the waker");
    al_lint_free(s.lint);
}

/* ---- long-poll and never-yielded ---- */

typedef struct {
    bool async_sleep;
    atomic_int *entered;
    al_sleep_t sl;
    bool started;
} napper_t;

static al_poll_t napper_poll(void *f, al_context_t *cx, void *out)
{
    napper_t *n = f;
    if (!n->async_sleep) {
        atomic_fetch_add(n->entered, 1);
        al_thread_sleep_ns(300000000); /* std.thread.sleep(300 ms): the worker is stuck */
        return AL_READY;
    }
    if (!n->started) {
        n->started = true;
        atomic_fetch_add(n->entered, 1);
        al_sleep_init(&n->sl, 300000000);
    }
    if (al_sleep_poll(&n->sl, cx) == AL_PENDING)
        return AL_PENDING;
    al_sleep_drop(&n->sl);
    return AL_READY;
}
static const al_future_vtable_t napper_vt = {
    .type_name = "napper", .poll = napper_poll, .future_size = sizeof(napper_t)};

static void nap_scene(bool async_sleep, size_t *long_polls, size_t *never_yielded)
{
    scene_t s = scene_start("long-poll=10ms,never-yielded=50ms");
    atomic_int entered = 0;
    napper_t n = {.async_sleep = async_sleep, .entered = &entered};
    al_spawn_opts_t o = {.name = "napper"};
    al_join_t *h;
    cr_assert_eq(al_spawn(s.rt, &napper_vt, &n, &o, &h), 0);
    while (atomic_load(&entered) == 0)
        sched_yield();
    /* While it sleeps: checked with no event arriving (as a dump would). */
    uint64_t t0 = mono_ns();
    while (mono_ns() - t0 < 150000000ull && al_lint_count(s.lint, AL_LINT_NEVER_YIELDED) == 0) {
        al_stream_flush(s.st);
        al_lint_check_now(s.lint, mono_ns());
        sched_yield();
    }
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(s.rt, &tf_join_all_vt, &j);
    *long_polls = scene_end(&s, AL_LINT_LONG_POLL);
    *never_yielded = al_lint_count(s.lint, AL_LINT_NEVER_YIELDED);
    if (*long_polls) {
        al_lint_finding_t f = first_finding(s.lint, AL_LINT_LONG_POLL);
        cr_assert(strstr(f.message, "\"napper\"") && strstr(f.message, "std.thread.sleep"), "%s",
                  f.message);
    }
    al_lint_free(s.lint);
}

Test(lint, long_poll_and_never_yielded_fire_on_a_blocking_sleep, .timeout = 60)
{
    size_t long_polls, never_yielded;
    nap_scene(false, &long_polls, &never_yielded);
    cr_assert_eq(long_polls, 1);
    cr_assert_eq(never_yielded, 1);
}

Test(lint, long_poll_and_never_yielded_are_silent_on_an_async_sleep, .timeout = 60)
{
    size_t long_polls, never_yielded;
    nap_scene(true, &long_polls, &never_yielded);
    cr_assert_eq(long_polls, 0);
    cr_assert_eq(never_yielded, 0);
}

/* ---- self-wakes ---- */

typedef struct {
    int left;
    al_sleep_t sl;
    bool sleeping;
} ticker_t;

static al_poll_t ticker_poll(void *f, al_context_t *cx, void *out)
{
    ticker_t *t = f;
    while (t->left > 0) {
        if (!t->sleeping) {
            al_sleep_init(&t->sl, 500000);
            t->sleeping = true;
        }
        if (al_sleep_poll(&t->sl, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&t->sl);
        t->sleeping = false;
        t->left--;
    }
    return AL_READY;
}
static const al_future_vtable_t ticker_vt = {
    .type_name = "ticker", .poll = ticker_poll, .future_size = sizeof(ticker_t)};

static size_t wake_scene(bool busy_poll)
{
    scene_t s = scene_start(NULL);
    al_join_t *h;
    al_spawn_opts_t o = {.name = busy_poll ? "spinner" : "ticker"};
    if (busy_poll) {
        tf_yielder_t y = {.left = 30};
        cr_assert_eq(al_spawn(s.rt, &tf_yielder_vt, &y, &o, &h), 0);
    } else {
        ticker_t t = {.left = 30};
        cr_assert_eq(al_spawn(s.rt, &ticker_vt, &t, &o, &h), 0);
    }
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(s.rt, &tf_join_all_vt, &j);
    size_t n = scene_end(&s, AL_LINT_SELF_WAKES);
    if (n)
        cr_assert(strstr(first_finding(s.lint, AL_LINT_SELF_WAKES).message, "\"spinner\""));
    al_lint_free(s.lint);
    return n;
}

Test(lint, self_wakes_fires_on_a_busy_polling_task, .timeout = 60)
{
    cr_assert_eq(wake_scene(true), 1);
}

Test(lint, self_wakes_is_silent_on_a_task_woken_by_timers, .timeout = 60)
{
    cr_assert_eq(wake_scene(false), 0);
}

/* ---- deadlock ---- */

typedef struct {
    al_mutex_t *first, *second;
    atomic_int *holding;
    int step;
    al_mutex_lock_t op;
    al_mutex_guard_t g1, g2;
    al_yield_t y;
} pair_locker_t;

/* Lock first; wait (yielding) until the other task holds its first lock too;
 * lock second. With opposite orders that is the classic deadlock. */
static al_poll_t pair_locker_poll(void *f, al_context_t *cx, void *out)
{
    pair_locker_t *p = f;
    for (;;) {
        switch (p->step) {
        case 0:
            al_mutex_lock_init(&p->op, p->first);
            p->step = 1;
            /* fallthrough */
        case 1:
            if (al_mutex_lock_poll(&p->op, cx, &p->g1) == AL_PENDING)
                return AL_PENDING;
            al_mutex_lock_drop(&p->op);
            atomic_fetch_add(p->holding, 1);
            p->step = 2;
            /* fallthrough */
        case 2:
            if (atomic_load(p->holding) < 2) {
                p->y = AL_YIELD_INIT;
                if (al_yield_poll(&p->y, cx) == AL_PENDING)
                    return AL_PENDING;
                continue;
            }
            al_mutex_lock_init(&p->op, p->second);
            p->step = 3;
            /* fallthrough */
        case 3:
            if (al_mutex_lock_poll(&p->op, cx, &p->g2) == AL_PENDING)
                return AL_PENDING;
            al_mutex_lock_drop(&p->op);
            al_mutex_guard_unlock(&p->g2);
            al_mutex_guard_unlock(&p->g1);
            return AL_READY;
        }
    }
}
static void pair_locker_drop(void *f)
{
    pair_locker_t *p = f;
    if (p->step == 1 || p->step == 3)
        al_mutex_lock_drop(&p->op);
    if (p->step >= 2)
        al_mutex_guard_unlock(&p->g1);
}
static const al_future_vtable_t pair_locker_vt = {.type_name = "pair_locker",
                                                  .poll = pair_locker_poll,
                                                  .drop = pair_locker_drop,
                                                  .future_size = sizeof(pair_locker_t)};

typedef struct {
    al_mutex_t *a, *b;
} make_mutexes_t;

static al_poll_t make_mutexes_poll(void *f, al_context_t *cx, void *out)
{
    make_mutexes_t *m = f;
    cr_assert_eq(al_mutex_new(NULL, "accounts", &m->a), 0);
    cr_assert_eq(al_mutex_new(NULL, "ledger", &m->b), 0);
    return AL_READY;
}
static const al_future_vtable_t make_mutexes_vt = {.poll = make_mutexes_poll,
                                                   .future_size = sizeof(make_mutexes_t)};

static size_t lock_scene(bool opposite_orders)
{
    scene_t s = scene_start(NULL);
    make_mutexes_t mm = {0};
    tf_run(s.rt, &make_mutexes_vt, &mm); /* inside the runtime: their creation is recorded */
    al_mutex_t *a = mm.a, *b = mm.b;
    atomic_int holding = 0;
    pair_locker_t p1 = {.first = a, .second = b, .holding = &holding};
    pair_locker_t p2 = {
        .first = opposite_orders ? b : a, .second = opposite_orders ? a : b, .holding = &holding};
    if (!opposite_orders)
        holding = 1; /* the same order: the second never waits for the first */
    al_spawn_opts_t o1 = {.name = "transfer"}, o2 = {.name = "audit"};
    al_join_t *h[2];
    cr_assert_eq(al_spawn(s.rt, &pair_locker_vt, &p1, &o1, &h[0]), 0);
    cr_assert_eq(al_spawn(s.rt, &pair_locker_vt, &p2, &o2, &h[1]), 0);
    if (opposite_orders) {
        /* Deadlocked for good: wait for the lint, then let shutdown cancel. */
        uint64_t t0 = mono_ns();
        while (al_lint_count(s.lint, AL_LINT_DEADLOCK) == 0 && mono_ns() - t0 < 10000000000ull) {
            al_stream_flush(s.st);
            sched_yield();
        }
        al_join_drop(h[0]);
        al_join_drop(h[1]);
    } else {
        tf_join_all_t j = {.handles = h, .n = 2};
        tf_run(s.rt, &tf_join_all_vt, &j);
    }
    size_t n = scene_end(&s, AL_LINT_DEADLOCK);
    if (n) {
        al_lint_finding_t f = first_finding(s.lint, AL_LINT_DEADLOCK);
        cr_assert(strstr(f.message, "\"transfer\" waits for mutex") &&
                      strstr(f.message, "\"audit\"") && strstr(f.message, "\"accounts\"") &&
                      strstr(f.message, "\"ledger\""),
                  "%s", f.message);
    }
    al_lint_free(s.lint);
    al_mutex_unref(a);
    al_mutex_unref(b);
    return n;
}

Test(lint, deadlock_fires_on_opposite_lock_orders, .timeout = 60)
{
    cr_assert_eq(lock_scene(true), 1);
}

Test(lint, deadlock_is_silent_with_one_lock_order, .timeout = 60)
{
    cr_assert_eq(lock_scene(false), 0);
}

/* ---- channel-backlog ---- */

typedef struct {
    al_mpsc_tx_t *tx;
    int left;
    bool waiting;
    int value; /* read by the send op when it pushes: must outlive the poll */
    al_mpsc_send_t op;
} sender_t;

static al_poll_t sender_poll(void *f, al_context_t *cx, void *out)
{
    sender_t *s = f;
    while (s->left > 0) {
        int res;
        if (!s->waiting) {
            s->value = s->left;
            al_mpsc_send_init(&s->op, s->tx, &s->value);
            s->waiting = true;
        }
        if (al_mpsc_send_poll(&s->op, cx, &res) == AL_PENDING)
            return AL_PENDING;
        al_mpsc_send_drop(&s->op);
        s->waiting = false;
        s->left--;
    }
    return AL_READY;
}
static const al_future_vtable_t sender_vt = {
    .type_name = "sender", .poll = sender_poll, .future_size = sizeof(sender_t)};

typedef struct {
    al_mpsc_rx_t *rx;
    int left;
    bool waiting;
    al_mpsc_recv_t op;
} receiver_t;

static al_poll_t receiver_poll(void *f, al_context_t *cx, void *out)
{
    receiver_t *r = f;
    while (r->left > 0) {
        int v, res;
        if (!r->waiting) {
            al_mpsc_recv_init(&r->op, r->rx);
            r->waiting = true;
        }
        if (al_mpsc_recv_poll(&r->op, cx, &v, &res) == AL_PENDING)
            return AL_PENDING;
        al_mpsc_recv_drop(&r->op);
        r->waiting = false;
        r->left--;
    }
    return AL_READY;
}
static const al_future_vtable_t receiver_vt = {
    .type_name = "receiver", .poll = receiver_poll, .future_size = sizeof(receiver_t)};

static size_t channel_scene(bool unbounded)
{
    scene_t s = scene_start("channel-backlog=1000");
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    if (unbounded)
        cr_assert_eq(al_mpsc_unbounded_channel(sizeof(int), NULL, &tx, &rx), 0);
    else
        cr_assert_eq(al_mpsc_channel(64, sizeof(int), NULL, &tx, &rx), 0);
    enum { N = 3000 };
    sender_t snd = {.tx = tx, .left = N};
    al_spawn_opts_t so = {.name = "producer"};
    al_join_t *h[2];
    cr_assert_eq(al_spawn(s.rt, &sender_vt, &snd, &so, &h[0]), 0);
    size_t n_handles = 1;
    if (!unbounded) {
        receiver_t rcv = {.rx = rx, .left = N};
        cr_assert_eq(al_spawn(s.rt, &receiver_vt, &rcv, NULL, &h[1]), 0);
        n_handles = 2;
    }
    tf_join_all_t j = {.handles = h, .n = n_handles};
    tf_run(s.rt, &tf_join_all_vt, &j);
    size_t n = scene_end(&s, AL_LINT_CHANNEL_BACKLOG);
    if (n)
        cr_assert(strstr(first_finding(s.lint, AL_LINT_CHANNEL_BACKLOG).message, "\"producer\""));
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
    al_lint_free(s.lint);
    return n;
}

Test(lint, channel_backlog_fires_on_an_unread_unbounded_channel, .timeout = 60)
{
    cr_assert_eq(channel_scene(true), 1);
}

Test(lint, channel_backlog_is_silent_on_a_bounded_channel, .timeout = 60)
{
    cr_assert_eq(channel_scene(false), 0);
}

/* ---- blocking-pool-growth ---- */

static void *wait_at_barrier(void *arg)
{
    pthread_barrier_wait(arg);
    return NULL;
}

static void *quick_job(void *arg)
{
    return arg;
}

static size_t pool_scene(bool all_at_once)
{
    /* The fix: a bounded pool (max_blocking_threads), the C form of
     * bounding concurrent spawn_blocking calls. */
    scene_t s = scene_start_with("blocking-pool-growth=4", all_at_once ? 0 : 2);
    enum { N = 8 };
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N + 1);
    if (all_at_once) {
        /* Eight jobs that all wait for each other: eight threads at once. */
        al_join_t *h[N];
        for (int i = 0; i < N; i++)
            cr_assert_eq(al_spawn_blocking(s.rt, wait_at_barrier, &barrier, NULL, &h[i]), 0);
        pthread_barrier_wait(&barrier);
        tf_join_all_t j = {.handles = h, .n = N};
        tf_run(s.rt, &tf_join_all_vt, &j);
    } else {
        al_join_t *h[N];
        for (int i = 0; i < N; i++)
            cr_assert_eq(al_spawn_blocking(s.rt, quick_job, NULL, NULL, &h[i]), 0);
        tf_join_all_t j = {.handles = h, .n = N};
        tf_run(s.rt, &tf_join_all_vt, &j);
    }
    pthread_barrier_destroy(&barrier);
    size_t n = scene_end(&s, AL_LINT_BLOCKING_POOL_GROWTH);
    al_lint_free(s.lint);
    return n;
}

Test(lint, blocking_pool_growth_fires_when_the_pool_balloons, .timeout = 60)
{
    cr_assert_eq(pool_scene(true), 1);
}

Test(lint, blocking_pool_growth_is_silent_when_threads_are_reused, .timeout = 60)
{
    cr_assert_eq(pool_scene(false), 0);
}

/* ---- task-leak ---- */

typedef struct {
    int rounds;
    bool leak;
    al_sleep_t sl;
    bool sleeping;
} spawner_t;

/* Every 5 ms, spawn 50 tasks: ones that never finish (leak) or ones that
 * finish at once (fixed). */
static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    spawner_t *s = f;
    while (s->rounds > 0) {
        if (!s->sleeping) {
            for (int i = 0; i < 50; i++) {
                al_spawn_opts_t o = {.name = s->leak ? "handler" : "short"};
                if (s->leak) {
                    tf_forever_t fv = {0};
                    al_spawn(NULL, &tf_forever_vt, &fv, &o, NULL);
                } else {
                    static atomic_int counts[1];
                    tf_counter_t c = {.counts = counts};
                    al_spawn(NULL, &tf_counter_vt, &c, &o, NULL);
                }
            }
            al_sleep_init(&s->sl, 5000000);
            s->sleeping = true;
        }
        if (al_sleep_poll(&s->sl, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&s->sl);
        s->sleeping = false;
        s->rounds--;
    }
    return AL_READY;
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "spawner", .poll = spawner_poll, .future_size = sizeof(spawner_t)};

static size_t leak_scene(bool leak)
{
    scene_t s = scene_start("task-leak=100,task-leak.window=10ms");
    spawner_t sp = {.rounds = 16, .leak = leak};
    al_join_t *h;
    cr_assert_eq(al_spawn(s.rt, &spawner_vt, &sp, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(s.rt, &tf_join_all_vt, &j);
    size_t n = scene_end(&s, AL_LINT_TASK_LEAK);
    if (n)
        cr_assert(strstr(first_finding(s.lint, AL_LINT_TASK_LEAK).message, "\"handler\""));
    al_lint_free(s.lint);
    return n;
}

Test(lint, task_leak_fires_when_alive_tasks_keep_growing, .timeout = 60)
{
    cr_assert_eq(leak_scene(true), 1);
}

Test(lint, task_leak_is_silent_when_tasks_finish, .timeout = 60)
{
    cr_assert_eq(leak_scene(false), 0);
}

/* ---- settings ---- */

Test(lint, settings_parse_and_bad_ones_say_what_is_wrong)
{
    al_lint_t *l;
    cr_assert_eq(al_lint_new(&l), 0);
    char err[256] = "";
    cr_assert_eq(al_lint_configure(l, "long-poll=5ms,self-wakes=80,deadlock=off", err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(al_lint_threshold(l, AL_LINT_LONG_POLL), 5000000);
    cr_assert_eq(al_lint_threshold(l, AL_LINT_SELF_WAKES), 80);
    cr_assert_eq(al_lint_configure(l, "long-poll=5ms,lost-wakers=on", err, sizeof err), AL_EINVAL);
    cr_assert(strstr(err, "unknown lint 'lost-wakers' at position 15"), "%s", err);
    cr_assert_eq(al_lint_configure(l, "long-poll=fast", err, sizeof err), AL_EINVAL);
    cr_assert(strstr(err, "bad value 'fast' for long-poll"), "%s", err);
    cr_assert_eq(al_lint_configure(l, "deadlock", err, sizeof err), AL_EINVAL);
    cr_assert(strstr(err, "has no '='"), "%s", err);
    cr_assert_eq(al_lint_from_name("TASK-LEAK", 9), AL_LINT_TASK_LEAK);
    cr_assert_null(al_lint_name(AL_LINT__COUNT));
    al_lint_free(l);
}
