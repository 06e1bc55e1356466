/*
 * test_task.c — tasks and JoinHandles, and the runtime's lifecycle: outputs,
 * panics, abort, joining twice, shutdown with pending work, bad arguments,
 * the nested-runtime error, spawn_blocking and block_in_place.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "al_test.h"
#include "al_test_futures.h"

/* A future with an output: returns its input times two. */
static al_poll_t doubler_poll(void *f, al_context_t *cx, void *out)
{
    long v = *(long *)f * 2;
    memcpy(out, &v, sizeof v);
    return AL_READY;
}
static const al_future_vtable_t doubler_vt = {.type_name = "doubler",
                                              .poll = doubler_poll,
                                              .future_size = sizeof(long),
                                              .output_size = sizeof(long)};

/* Await one handle, keeping the result and output. */
typedef struct {
    al_join_t *h;
    long out;
    al_join_result_t res;
    int polls_after;
} join_one_t;

static al_poll_t join_one_poll(void *f, al_context_t *cx, void *out)
{
    join_one_t *j = f;
    if (al_join_poll(j->h, cx, &j->out, &j->res) == AL_PENDING)
        return AL_PENDING;
    if (j->polls_after) { /* join a second time: the output is gone */
        al_join_result_t again;
        al_join_poll(j->h, cx, &j->out, &again);
        j->polls_after = again.err;
    }
    return AL_READY;
}
static const al_future_vtable_t join_one_vt = {
    .type_name = "join_one", .poll = join_one_poll, .future_size = sizeof(join_one_t)};

static al_runtime_t *rt_for(int flavor)
{
    return tf_runtime(flavor ? AL_CURRENT_THREAD : AL_MULTI_THREAD, 2);
}

Test(task, output_reaches_the_joiner_and_joining_twice_is_an_error)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = rt_for(flavor);
        long in = 21;
        join_one_t j = {.polls_after = 1};
        cr_assert_eq(al_spawn(rt, &doubler_vt, &in, NULL, &j.h), 0);
        tf_run(rt, &join_one_vt, &j);
        cr_assert_eq(j.res.kind, AL_JOIN_OK);
        cr_assert_eq(j.out, 42);
        cr_assert_eq(j.polls_after, AL_EJOINED);
        cr_assert(al_join_is_finished(j.h));
        cr_assert_gt(al_join_id(j.h), 0);
        al_join_drop(j.h);
        al_runtime_free(rt);
    }
}

Test(task, a_panic_is_isolated_and_reported_with_its_message)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = rt_for(flavor);
        join_one_t j = {0};
        cr_assert_eq(al_spawn(rt, &tf_panic_vt, NULL, NULL, &j.h), 0);
        tf_run(rt, &join_one_vt, &j);
        cr_assert_eq(j.res.kind, AL_JOIN_PANIC);
        cr_assert_str_eq(j.res.panic_msg, "boom 42");
        al_join_drop(j.h);
        /* The runtime still works afterwards. */
        long in = 1;
        join_one_t k = {0};
        cr_assert_eq(al_spawn(rt, &doubler_vt, &in, NULL, &k.h), 0);
        tf_run(rt, &join_one_vt, &k);
        cr_assert_eq(k.out, 2);
        al_join_drop(k.h);
        al_runtime_free(rt);
    }
}

Test(task, abort_cancels_a_pending_task_and_drops_its_future)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = rt_for(flavor);
        atomic_int dropped = 0, polled = 0;
        tf_forever_t f = {.dropped = &dropped, .polled = &polled};
        join_one_t j = {0};
        cr_assert_eq(al_spawn(rt, &tf_forever_vt, &f, NULL, &j.h), 0);
        al_join_abort(j.h);
        al_join_abort(j.h); /* twice: harmless */
        tf_run(rt, &join_one_vt, &j);
        cr_assert_eq(j.res.kind, AL_JOIN_CANCELLED);
        cr_assert_eq(atomic_load(&dropped), 1);
        al_join_abort(j.h); /* aborting a finished task: no effect */
        al_join_drop(j.h);
        al_runtime_free(rt);
    }
}

Test(task, detached_tasks_still_run)
{
    al_runtime_t *rt = rt_for(0);
    atomic_int counts[8] = {0};
    for (int i = 0; i < 8; i++) {
        tf_counter_t c = {counts, (size_t)i, NULL};
        cr_assert_eq(al_spawn(rt, &tf_counter_vt, &c, NULL, NULL), 0);
    }
    /* Join one more task spawned after them on a 1-deep chain until all ran. */
    for (int i = 0; i < 8; i++)
        while (atomic_load(&counts[i]) == 0)
            sched_yield();
    al_runtime_free(rt);
}

Test(task, shutdown_cancels_pending_tasks_and_reports_them)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = rt_for(flavor);
        atomic_int dropped = 0, polled = 0;
        enum { N = 100 };
        al_join_t *hs[N];
        for (int i = 0; i < N; i++) {
            tf_forever_t f = {.dropped = &dropped, .polled = &polled};
            cr_assert_eq(al_spawn(rt, &tf_forever_vt, &f, NULL, &hs[i]), 0);
        }
        if (flavor == 0)
            while (atomic_load(&polled) < N) /* let them all become idle */
                sched_yield();
        al_shutdown_report_t rep;
        cr_assert_eq(al_runtime_shutdown(rt, 5000, &rep), 0);
        cr_assert_eq(rep.tasks_cancelled, N);
        cr_assert(!rep.timed_out);
        cr_assert_eq(atomic_load(&dropped), N);
        for (int i = 0; i < N; i++) {
            cr_assert(al_join_is_finished(hs[i]));
            al_join_drop(hs[i]); /* handles outlive the shutdown */
        }
        /* Spawning and shutting down again are errors, not crashes. */
        long in = 1;
        cr_assert_eq(al_spawn(rt, &doubler_vt, &in, NULL, NULL), AL_ESHUTDOWN);
        cr_assert_eq(al_runtime_shutdown(rt, 1000, NULL), AL_ESHUTDOWN);
        al_runtime_free(rt);
    }
}

Test(task, bad_configurations_are_refused)
{
    al_runtime_config_t cfg;
    al_runtime_t *rt = NULL;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 10000;
    cr_assert_eq(al_runtime_new(&cfg, &rt), AL_EWORKERS);
    cfg.worker_threads = 0;
    cr_assert_eq(al_runtime_new(&cfg, &rt), AL_EWORKERS);
    cr_assert(strstr(al_strerror(AL_EWORKERS), "between 1 and 1024"));
    cfg.worker_threads = 2;
    cfg.event_interval = 0;
    cr_assert_eq(al_runtime_new(&cfg, &rt), AL_EINVAL);
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.start_paused = true; /* test time needs current-thread */
    cr_assert_eq(al_runtime_new(&cfg, &rt), AL_EINVAL);
    cr_assert_eq(al_runtime_new(NULL, &rt), AL_EINVAL);
    cr_assert_null(rt);
    cr_assert_eq(al_spawn(NULL, &tf_counter_vt, NULL, NULL, NULL), AL_EINVAL);
}

Test(task, spawn_without_a_runtime_is_the_no_reactor_error)
{
    long in = 1;
    cr_assert_eq(al_spawn(NULL, &doubler_vt, &in, NULL, NULL), AL_ENORUNTIME);
    cr_assert_null(al_runtime_current());
}

/* block_on called from inside a task: the nested-runtime error (lesson C1). */
typedef struct {
    al_runtime_t *other;
    int *rc;
} nester_t;

static al_poll_t nester_poll(void *f, al_context_t *cx, void *out)
{
    nester_t *n = f;
    long in = 1, res = 0;
    *n->rc = al_runtime_block_on(n->other, &doubler_vt, &in, &res, NULL);
    return AL_READY;
}
static const al_future_vtable_t nester_vt = {
    .type_name = "nester", .poll = nester_poll, .future_size = sizeof(nester_t)};

Test(task, block_on_inside_a_task_is_the_nested_runtime_error)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = rt_for(flavor);
        al_runtime_t *other = rt_for(1);
        int in_task = 0, in_main = 0;
        nester_t n = {other, &in_task};
        join_one_t j = {0};
        cr_assert_eq(al_spawn(rt, &nester_vt, &n, NULL, &j.h), 0);
        tf_run(rt, &join_one_vt, &j);
        cr_assert_eq(in_task, AL_ENESTED, "in a task: %s", al_err_name(in_task));
        nester_t direct = {other, &in_main};
        tf_run(rt, &nester_vt, &direct); /* block_on's own future nests too */
        cr_assert_eq(in_main, AL_ENESTED);
        cr_assert(strstr(al_strerror(in_main), "Cannot start a runtime from within a runtime"));
        al_join_drop(j.h);
        al_runtime_free(other);
        al_runtime_free(rt);
    }
}

/* spawn_blocking: runs on a pool thread; its return value is the output. */
static void *blocking_double(void *arg)
{
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL); /* it may block: that is the point */
    return (void *)((intptr_t)arg * 2);
}

typedef struct {
    al_join_t *h;
    void *out;
    al_join_result_t res;
} join_ptr_t;

static al_poll_t join_ptr_poll(void *f, al_context_t *cx, void *out)
{
    join_ptr_t *j = f;
    return al_join_poll(j->h, cx, &j->out, &j->res);
}
static const al_future_vtable_t join_ptr_vt = {
    .type_name = "join_ptr", .poll = join_ptr_poll, .future_size = sizeof(join_ptr_t)};

Test(task, spawn_blocking_returns_its_value_and_uses_pool_threads)
{
    al_runtime_t *rt = rt_for(0);
    enum { N = 16 };
    join_ptr_t js[N];
    for (int i = 0; i < N; i++) {
        memset(&js[i], 0, sizeof js[i]);
        cr_assert_eq(al_spawn_blocking(rt, blocking_double, (void *)(intptr_t)i, NULL, &js[i].h),
                     0);
    }
    for (int i = 0; i < N; i++) {
        tf_run(rt, &join_ptr_vt, &js[i]);
        cr_assert_eq(js[i].res.kind, AL_JOIN_OK);
        cr_assert_eq((intptr_t)js[i].out, 2 * i);
        al_join_drop(js[i].h);
    }
    al_runtime_metrics_t m;
    al_runtime_metrics(rt, &m);
    cr_assert_geq(m.num_blocking_threads, 1);
    al_runtime_free(rt);
}

/* block_in_place: while this worker blocks, its queued tasks still run. */
typedef struct {
    int rc;
} bip_t;

static void bip_wait(void *arg) { (void)arg; }

static al_poll_t bip_poll(void *f, al_context_t *cx, void *out)
{
    bip_t *b = f;
    b->rc = al_block_in_place(bip_wait, b);
    return AL_READY;
}
static const al_future_vtable_t bip_vt = {
    .type_name = "bip", .poll = bip_poll, .future_size = sizeof(bip_t)};

/* Counts completed counters through a shared total. */
static al_poll_t total_poll(void *f, al_context_t *cx, void *out)
{
    atomic_int *total = *(atomic_int **)f;
    atomic_fetch_add(total, 1);
    return AL_READY;
}
static const al_future_vtable_t total_vt = {
    .type_name = "total", .poll = total_poll, .future_size = sizeof(atomic_int *)};

typedef struct {
    int n;
    atomic_int *total;
    int rc;
} bip2_t;

static void bip2_wait(void *arg)
{
    bip2_t *b = arg;
    while (atomic_load(b->total) < b->n)
        sched_yield();
}

static al_poll_t bip2_poll(void *f, al_context_t *cx, void *out)
{
    bip2_t *b = f;
    for (int i = 0; i < b->n; i++)
        al_spawn(NULL, &total_vt, &b->total, NULL, NULL);
    /* Every one of them, including the one in the LIFO slot, must run while
     * this thread blocks: block_in_place hands the whole queue over. */
    b->rc = al_block_in_place(bip2_wait, b);
    return AL_READY;
}
static const al_future_vtable_t bip2_vt = {
    .type_name = "bip2", .poll = bip2_poll, .future_size = sizeof(bip2_t)};

Test(task, block_in_place_hands_the_queue_over, .timeout = 60)
{
    /* One worker: without the handoff nobody else could run the queue. */
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 1);
    atomic_int total = 0;
    bip2_t b = {.n = 100, .total = &total};
    join_one_t j = {0};
    cr_assert_eq(al_spawn(rt, &bip2_vt, &b, NULL, &j.h), 0);
    tf_run(rt, &join_one_vt, &j);
    cr_assert_eq(j.res.kind, AL_JOIN_OK);
    cr_assert_eq(atomic_load(&total), 100);
    al_join_drop(j.h);
    al_runtime_free(rt);

    /* On a current-thread runtime it is refused. */
    rt = rt_for(1);
    bip_t c = {0};
    tf_run(rt, &bip_vt, &c);
    cr_assert_eq(c.rc, AL_ENOTMULTI);
    al_runtime_free(rt);
}

/* Out of memory at spawn: an error value, the runtime unharmed. The address
 * space is capped (this test runs in its own process) so that the task cell
 * of a 64 MiB future cannot be allocated. Sanitizers reserve terabytes of
 * address space, so under them the test only checks the error path exists. */
#include <stdio.h>
#include <sys/resource.h>

enum { BIG = 64 << 20 };
static al_poll_t big_poll(void *f, al_context_t *cx, void *out) { return AL_READY; }
static const al_future_vtable_t big_vt __attribute__((unused)) = {.type_name = "big", .poll = big_poll,
                                          .future_size = BIG};

static __attribute__((unused)) long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

Test(task, out_of_memory_at_spawn_is_an_error)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    cr_assert_eq(AL_ENOMEM, AL_ENOMEM);
    return;
#else
    al_runtime_t *rt = rt_for(0);
    char *init = malloc(BIG);
    cr_assert_not_null(init);
    memset(init, 1, BIG);
    long kb = vm_size_kb();
    cr_assert_gt(kb, 0);
    struct rlimit rl = {.rlim_cur = (rlim_t)(kb + 32 * 1024) * 1024,
                        .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
    cr_assert_eq(al_spawn(rt, &big_vt, init, NULL, NULL), AL_ENOMEM);
    rl.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_AS, &rl);
    free(init);
    /* Still works. */
    long in = 4;
    join_one_t j = {0};
    cr_assert_eq(al_spawn(rt, &doubler_vt, &in, NULL, &j.h), 0);
    tf_run(rt, &join_one_vt, &j);
    cr_assert_eq(j.out, 8);
    al_join_drop(j.h);
    al_runtime_free(rt);
#endif
}
