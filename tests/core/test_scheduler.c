/*
 * test_scheduler.c — the multi-thread and current-thread schedulers: every
 * spawned task runs exactly once, stealing and parking really happen, a
 * blocked worker does not stop the other one, yields, wake storms.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <pthread.h>
#include <time.h>

#include "al_test.h"
#include "al_test_futures.h"

/* A task that spawns n counter tasks from inside the runtime, then joins them. */
typedef struct {
    size_t n;
    atomic_int *counts;
    atomic_int *ran_on;
    tf_join_all_t join;
    bool spawned;
} spawner_t;

static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    spawner_t *s = f;
    if (!s->spawned) {
        s->join.handles = calloc(s->n, sizeof(al_join_t *));
        s->join.n = s->n;
        for (size_t i = 0; i < s->n; i++) {
            tf_counter_t c = {s->counts, i, s->ran_on};
            int rc = al_spawn(NULL, &tf_counter_vt, &c, NULL, &s->join.handles[i]);
            if (rc != 0)
                return al_panic(cx, "spawn %zu: %s", i, al_strerror(rc));
        }
        s->spawned = true;
    }
    al_poll_t r = tf_join_all_poll(&s->join, cx, NULL);
    if (r == AL_READY)
        free(s->join.handles);
    return r;
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "spawner", .poll = spawner_poll, .future_size = sizeof(spawner_t)};

static void check_exactly_once(atomic_int *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&counts[i]), 1, "task %zu ran %d times", i,
                     atomic_load(&counts[i]));
}

Test(scheduler, million_spawns_from_outside_each_run_once, .timeout = 120)
{
    size_t n = (size_t)al_test_scale(1000000);
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    atomic_int *counts = calloc(n, sizeof *counts);
    tf_join_all_t j = {.handles = calloc(n, sizeof(al_join_t *)), .n = n};
    for (size_t i = 0; i < n; i++) {
        tf_counter_t c = {counts, i, NULL};
        cr_assert_eq(al_spawn(rt, &tf_counter_vt, &c, NULL, &j.handles[i]), 0);
    }
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, n);
    check_exactly_once(counts, n);
    /* A task stops counting as alive when its last reference goes, which
     * may be just after its JoinHandle saw the result: wait for it, with a
     * deadline. */
    al_runtime_metrics_t m;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        al_runtime_metrics(rt, &m);
        clock_gettime(CLOCK_MONOTONIC, &t);
        sched_yield();
    } while (m.num_alive_tasks > 0 && t.tv_sec - t0.tv_sec < 10);
    cr_assert_eq(m.spawned_tasks_count, n);
    cr_assert_eq(m.num_alive_tasks, 0);
    cr_assert_geq(m.remote_schedule_count, n);
    al_runtime_free(rt);
    free(counts);
    free(j.handles);
}

Test(scheduler, spawns_inside_a_task_are_stolen_by_the_other_worker, .timeout = 120)
{
    size_t n = (size_t)al_test_scale(200000);
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    atomic_int *counts = calloc(n, sizeof *counts);
    atomic_int *ran_on = calloc(n, sizeof *ran_on);
    spawner_t s = {.n = n, .counts = counts, .ran_on = ran_on};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &spawner_vt, &s, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1, .keep = true};
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, 1);
    al_join_drop(h);
    check_exactly_once(counts, n);
    size_t on[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int w = atomic_load(&ran_on[i]);
        cr_assert(w == 0 || w == 1, "task %zu ran on worker %d", i, w);
        on[w]++;
    }
    al_worker_metrics_t w0, w1;
    al_runtime_worker_metrics(rt, 0, &w0);
    al_runtime_worker_metrics(rt, 1, &w1);
    /* The spawner's worker queues the tasks; the other one must steal some. */
    cr_assert_gt(w0.steal_count + w1.steal_count, 0, "no task was stolen");
    cr_assert_gt(on[0], 0);
    cr_assert_gt(on[1], 0);
    al_runtime_free(rt);
    free(counts);
    free(ran_on);
}

Test(scheduler, idle_workers_park_and_are_woken_by_remote_spawns, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    for (int round = 0; round < 20; round++) {
        /* Wait until both workers have parked at least once more. */
        al_worker_metrics_t a0, a1, b0, b1;
        al_runtime_worker_metrics(rt, 0, &a0);
        al_runtime_worker_metrics(rt, 1, &a1);
        atomic_int count = 0;
        tf_counter_t c = {&count, 0, NULL};
        al_join_t *h;
        cr_assert_eq(al_spawn(rt, &tf_counter_vt, &c, NULL, &h), 0);
        tf_join_all_t j = {.handles = &h, .n = 1};
        tf_run(rt, &tf_join_all_vt, &j);
        cr_assert_eq(atomic_load(&count), 1);
        do {
            al_runtime_worker_metrics(rt, 0, &b0);
            al_runtime_worker_metrics(rt, 1, &b1);
            sched_yield();
        } while (b0.park_count + b1.park_count <= a0.park_count + a1.park_count);
    }
    al_worker_metrics_t m0, m1;
    al_runtime_worker_metrics(rt, 0, &m0);
    al_runtime_worker_metrics(rt, 1, &m1);
    cr_assert_geq(m0.park_count + m1.park_count, 20);
    al_runtime_free(rt);
}

/* ---- lesson one: a worker blocked in a thread sleep ---- */

typedef struct {
    atomic_int *sleeping; /* 1 while the blocker sleeps */
    atomic_int *during;   /* tasks that ran while it slept */
    atomic_int *blocker_worker;
    atomic_int *victims_done;
    int spawn;
    bool spawned;
    uint64_t *waited_ms; /* how long the blocker slept (reported on failure) */
} blocker_t;

typedef struct {
    atomic_int *sleeping, *during, *blocker_worker, *victims_done;
} victim_t;

static al_poll_t victim_poll(void *f, al_context_t *cx, void *out)
{
    victim_t *v = f;
    if (atomic_load(v->sleeping) == 1 &&
        al_runtime_current_worker() != atomic_load(v->blocker_worker))
        atomic_fetch_add(v->during, 1);
    atomic_fetch_add(v->victims_done, 1);
    return AL_READY;
}
static const al_future_vtable_t victim_vt = {
    .type_name = "victim", .poll = victim_poll, .future_size = sizeof(victim_t)};

static al_poll_t blocker_poll(void *f, al_context_t *cx, void *out)
{
    blocker_t *b = f;
    atomic_store(b->blocker_worker, al_runtime_current_worker());
    atomic_store(b->sleeping, 1);
    /* Queue the victims on this worker's own queue (spawned from a task). */
    for (int i = 0; i < b->spawn; i++) {
        victim_t v = {b->sleeping, b->during, b->blocker_worker, b->victims_done};
        al_spawn(NULL, &victim_vt, &v, NULL, NULL);
    }
    /* The std-style sleep of lesson A1 (al_thread_sleep_ns: the OS thread
     * sleeps): this worker is stuck; the only way the victims run meanwhile
     * is being stolen by the other worker. Ends early once every stealable
     * victim ran. */
    uint64_t waited = 0;
    while (atomic_load(b->victims_done) < b->spawn - 1 && waited < 5000) {
        al_thread_sleep_ns(1000000);
        waited++;
    }
    atomic_store(b->sleeping, 0);
    *b->waited_ms = waited;
    return AL_READY;
}
static const al_future_vtable_t blocker_vt = {
    .type_name = "blocker", .poll = blocker_poll, .future_size = sizeof(blocker_t)};

Test(scheduler, blocked_worker_does_not_stop_the_other_from_running_its_queue, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    atomic_int sleeping = 0, during = 0, blocker_worker = -1, done = 0;
    const int spawn = 50;
    uint64_t waited_ms = 0;
    blocker_t b = {&sleeping, &during, &blocker_worker, &done, spawn, false, &waited_ms};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &blocker_vt, &b, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    /* All but the task in the (unstealable) LIFO slot ran on the other worker
     * while the blocker slept. */
    cr_assert_geq(atomic_load(&during), spawn - 1,
                  "only %d of %d ran while blocked (%d done; blocked %llu ms)",
                  atomic_load(&during), spawn - 1, atomic_load(&done),
                  (unsigned long long)waited_ms);
    al_runtime_free(rt);
}

/* ---- yields ---- */

Test(scheduler, yielding_tasks_all_finish_on_both_flavors, .timeout = 60)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = tf_runtime(flavor ? AL_CURRENT_THREAD : AL_MULTI_THREAD, 2);
        size_t n = 200;
        atomic_int done = 0;
        tf_join_all_t j = {.handles = calloc(n, sizeof(al_join_t *)), .n = n};
        for (size_t i = 0; i < n; i++) {
            tf_yielder_t y = {.left = (int)al_test_scale(1000), .done = &done};
            cr_assert_eq(al_spawn(rt, &tf_yielder_vt, &y, NULL, &j.handles[i]), 0);
        }
        tf_run(rt, &tf_join_all_vt, &j);
        cr_assert_eq(atomic_load(&done), (int)n);
        free(j.handles);
        al_runtime_free(rt);
    }
}

/* ---- wake storms: many threads wake the same parked tasks ---- */

typedef struct {
    al_waker_t *slot; /* where the task publishes its waker */
    pthread_mutex_t *lock;
    atomic_int *target; /* rounds the wakers want */
    int seen;
    atomic_int *polls;
} stormy_t;

static al_poll_t stormy_poll(void *f, al_context_t *cx, void *out)
{
    stormy_t *s = f;
    atomic_fetch_add(s->polls, 1);
    pthread_mutex_lock(s->lock);
    al_waker_set(s->slot, &cx->waker);
    pthread_mutex_unlock(s->lock);
    if (atomic_load(s->target) < 0)
        return AL_READY;
    return AL_PENDING;
}
static void stormy_drop(void *f)
{
    stormy_t *s = f;
    pthread_mutex_lock(s->lock);
    al_waker_drop(s->slot);
    pthread_mutex_unlock(s->lock);
}
static const al_future_vtable_t stormy_vt = {.type_name = "stormy",
                                             .poll = stormy_poll,
                                             .drop = stormy_drop,
                                             .future_size = sizeof(stormy_t)};

typedef struct {
    al_waker_t *slots;
    pthread_mutex_t *locks;
    size_t n;
    int rounds;
} storm_arg_t;

static void *storm_thread(void *p)
{
    storm_arg_t *a = p;
    for (int r = 0; r < a->rounds; r++) {
        for (size_t i = 0; i < a->n; i++) {
            pthread_mutex_lock(&a->locks[i]);
            al_waker_t w = al_waker_clone(&a->slots[i]);
            pthread_mutex_unlock(&a->locks[i]);
            if (r & 1)
                al_waker_wake(&w, AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0));
            else {
                al_waker_wake_by_ref(&w, AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0));
                al_waker_drop(&w);
            }
        }
    }
    return NULL;
}

Test(scheduler, wake_storm_from_four_threads_loses_nothing, .timeout = 120)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    size_t n = 64;
    al_waker_t *slots = calloc(n, sizeof *slots);
    pthread_mutex_t *locks = calloc(n, sizeof *locks);
    atomic_int target = 0, polls = 0;
    tf_join_all_t j = {.handles = calloc(n, sizeof(al_join_t *)), .n = n};
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_init(&locks[i], NULL);
        stormy_t s = {&slots[i], &locks[i], &target, 0, &polls};
        cr_assert_eq(al_spawn(rt, &stormy_vt, &s, NULL, &j.handles[i]), 0);
    }
    /* Every task publishes a waker on its first poll. */
    while (atomic_load(&polls) < (int)n)
        sched_yield();
    storm_arg_t arg = {slots, locks, n, (int)al_test_scale(2000)};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, storm_thread, &arg);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* Now tell them to finish and wake each one last time. */
    atomic_store(&target, -1);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&locks[i]);
        al_waker_wake_by_ref(&slots[i], AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0));
        pthread_mutex_unlock(&locks[i]);
    }
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, n);
    cr_assert_gt(atomic_load(&polls), (int)n); /* the storm did cause re-polls */
    al_runtime_free(rt);
    for (size_t i = 0; i < n; i++)
        pthread_mutex_destroy(&locks[i]);
    free(slots);
    free(locks);
    free(j.handles);
}

Test(scheduler, current_thread_runs_spawned_tasks_in_block_on, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    size_t n = (size_t)al_test_scale(100000);
    atomic_int *counts = calloc(n, sizeof *counts);
    atomic_int *ran_on = calloc(n, sizeof *ran_on);
    spawner_t s = {.n = n, .counts = counts, .ran_on = ran_on};
    tf_run(rt, &spawner_vt, &s);
    check_exactly_once(counts, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&ran_on[i]), 0);
    al_runtime_free(rt);
    free(counts);
    free(ran_on);
}
