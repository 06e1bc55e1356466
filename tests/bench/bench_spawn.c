/*
 * bench_spawn.c — the spawn scenarios of the peer suite: spawn_many_local,
 * spawn_many_remote_idle, spawn_many_remote_busy1/2, chained_spawn,
 * spawn_many_in_task (constants as upstream: see ../shared/peers).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

/* ---- small futures ---- */

static al_poll_t empty_poll(void *f, al_context_t *cx, void *out)
{
    return AL_READY;
}
static const al_future_vtable_t empty_vt = {.type_name = "empty", .poll = empty_poll};

typedef struct {
    atomic_size_t *rem;
    bench_signal_t *done;
} countdown_t;

static al_poll_t countdown_poll(void *f, al_context_t *cx, void *out)
{
    countdown_t *c = f;
    if (atomic_fetch_sub_explicit(c->rem, 1, memory_order_relaxed) == 1)
        bench_signal_post(c->done);
    return AL_READY;
}
static const al_future_vtable_t countdown_vt = {
    .type_name = "countdown", .poll = countdown_poll, .future_size = sizeof(countdown_t)};

/* Await an array of handles in order, dropping each. */
typedef struct {
    al_join_t **h;
    size_t n, next;
} join_all_t;

static al_poll_t join_all_poll(void *f, al_context_t *cx, void *out)
{
    join_all_t *j = f;
    while (j->next < j->n) {
        al_join_result_t res;
        if (al_join_poll(j->h[j->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        al_join_drop(j->h[j->next++]);
    }
    return AL_READY;
}
static const al_future_vtable_t join_all_vt = {
    .type_name = "join_all", .poll = join_all_poll, .future_size = sizeof(join_all_t)};

/* ---- spawn_many_local: spawn from block_on (the inject path), last one signals ---- */

typedef struct {
    atomic_size_t rem;
    bench_signal_t *done;
} local_ctx_t;

static al_poll_t spawn_local_main_poll(void *f, al_context_t *cx, void *out)
{
    local_ctx_t *c = *(local_ctx_t **)f;
    for (int i = 0; i < NUM_SPAWN; i++) {
        countdown_t t = {&c->rem, c->done};
        al_spawn(NULL, &countdown_vt, &t, NULL, NULL);
    }
    bench_signal_wait(c->done); /* as upstream: a blocking recv inside block_on */
    return AL_READY;
}
static const al_future_vtable_t spawn_local_main_vt = {.poll = spawn_local_main_poll,
                                                       .future_size = sizeof(local_ctx_t *)};

static al_runtime_t *g_rt;

static void spawn_many_local_iter(void *p)
{
    local_ctx_t *c = p;
    atomic_store(&c->rem, NUM_SPAWN);
    bench_block_on(g_rt, &spawn_local_main_vt, &c);
}

/* ---- remote: spawn from outside the runtime, then await every handle ---- */

typedef struct {
    al_join_t **h;
    size_t n;
} remote_ctx_t;

static void spawn_remote_iter(void *p)
{
    remote_ctx_t *c = p;
    for (size_t i = 0; i < c->n; i++)
        al_spawn(g_rt, &empty_vt, NULL, NULL, &c->h[i]);
    join_all_t j = {c->h, c->n, 0};
    bench_block_on(g_rt, &join_all_vt, &j);
}

/* busy1: loop { yield_now; stall } while the flag is up */
typedef struct {
    atomic_bool *flag;
    al_yield_t y;
} yield_busy_t;

static al_poll_t yield_busy_poll(void *f, al_context_t *cx, void *out)
{
    yield_busy_t *b = f;
    while (atomic_load_explicit(b->flag, memory_order_relaxed)) {
        if (al_yield_poll(&b->y, cx) == AL_PENDING)
            return AL_PENDING;
        b->y = AL_YIELD_INIT;
        bench_stall();
    }
    return AL_READY;
}
static const al_future_vtable_t yield_busy_vt = {.poll = yield_busy_poll,
                                                 .future_size = sizeof(yield_busy_t)};

/* busy2: a chain of tasks that stall and spawn their successor */
static const al_future_vtable_t busy_chain_vt;

static al_poll_t busy_chain_poll(void *f, al_context_t *cx, void *out)
{
    atomic_bool *flag = *(atomic_bool **)f;
    if (atomic_load_explicit(flag, memory_order_relaxed)) {
        bench_stall();
        al_spawn(NULL, &busy_chain_vt, &flag, NULL, NULL);
    }
    return AL_READY;
}
static const al_future_vtable_t busy_chain_vt = {
    .type_name = "busy_chain", .poll = busy_chain_poll, .future_size = sizeof(atomic_bool *)};

/* busy2's watchdog: stops the chains after 10 s, as the peers do. */
typedef struct {
    atomic_bool *flag;
    atomic_bool tripped;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
} watchdog_t;

static void *watchdog_main(void *p)
{
    watchdog_t *w = p;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (!w->stop && rc == 0)
        rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
    if (!w->stop) {
        atomic_store(&w->tripped, true);
        atomic_store(w->flag, false);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- chained_spawn: each task spawns the next, depth 1,000 ---- */

typedef struct {
    bench_signal_t *done;
    int n;
} chain_t;

static const al_future_vtable_t chain_vt;

static al_poll_t chain_poll(void *f, al_context_t *cx, void *out)
{
    chain_t *c = f;
    if (c->n == 0) {
        bench_signal_post(c->done);
    } else {
        chain_t next = {c->done, c->n - 1};
        al_spawn(NULL, &chain_vt, &next, NULL, NULL);
    }
    return AL_READY;
}
static const al_future_vtable_t chain_vt = {
    .type_name = "chain", .poll = chain_poll, .future_size = sizeof(chain_t)};

static al_poll_t chain_main_poll(void *f, al_context_t *cx, void *out)
{
    chain_t c = {*(bench_signal_t **)f, 1000};
    al_spawn(NULL, &chain_vt, &c, NULL, NULL);
    bench_signal_wait(c.done);
    return AL_READY;
}
static const al_future_vtable_t chain_main_vt = {.poll = chain_main_poll,
                                                 .future_size = sizeof(bench_signal_t *)};

static void chained_spawn_iter(void *p)
{
    bench_block_on(g_rt, &chain_main_vt, &p);
}

/* ---- spawn_many_in_task: a task on a worker spawns 10,000 and awaits them ---- */

typedef struct {
    al_join_t **h;
    join_all_t j;
    bool spawned;
} in_task_t;

static al_poll_t in_task_poll(void *f, al_context_t *cx, void *out)
{
    in_task_t *t = f;
    if (!t->spawned) {
        for (int i = 0; i < NUM_SPAWN; i++)
            al_spawn(NULL, &empty_vt, NULL, NULL, &t->h[i]);
        t->j = (join_all_t){t->h, NUM_SPAWN, 0};
        t->spawned = true;
    }
    return join_all_poll(&t->j, cx, NULL);
}
static const al_future_vtable_t in_task_vt = {
    .type_name = "in_task", .poll = in_task_poll, .future_size = sizeof(in_task_t)};

static void spawn_in_task_iter(void *p)
{
    in_task_t t = {.h = p};
    al_join_t *h;
    al_spawn(g_rt, &in_task_vt, &t, NULL, &h);
    join_all_t j = {&h, 1, 0};
    bench_block_on(g_rt, &join_all_vt, &j);
}

/* ---- the scenarios ---- */

void bench_spawn_scenarios(void)
{
    if (bench_wants("spawn_many_local")) {
        g_rt = bench_runtime();
        local_ctx_t c = {.done = bench_signal_new()};
        bench_run("spawn_many_local", NUM_SPAWN, 5, 51, spawn_many_local_iter, &c);
        bench_signal_free(c.done);
        al_runtime_free(g_rt);
    }
    remote_ctx_t rc = {calloc(NUM_SPAWN, sizeof(al_join_t *)), NUM_SPAWN};
    if (bench_wants("spawn_many_remote_idle")) {
        g_rt = bench_runtime();
        bench_run("spawn_many_remote_idle", NUM_SPAWN, 5, 51, spawn_remote_iter, &rc);
        al_runtime_free(g_rt);
    }
    if (bench_wants("spawn_many_remote_busy1")) {
        g_rt = bench_runtime();
        atomic_bool flag = true;
        for (int i = 0; i < 2 * BENCH_WORKERS; i++) {
            yield_busy_t b = {&flag, AL_YIELD_INIT};
            al_spawn(g_rt, &yield_busy_vt, &b, NULL, NULL);
        }
        bench_run("spawn_many_remote_busy1", NUM_SPAWN, 5, 51, spawn_remote_iter, &rc);
        atomic_store(&flag, false);
        al_runtime_free(g_rt);
    }
    if (bench_wants("spawn_many_remote_busy2")) {
        g_rt = bench_runtime();
        atomic_bool flag = true;
        for (int i = 0; i < BENCH_WORKERS; i++) {
            atomic_bool *fp = &flag;
            al_spawn(g_rt, &busy_chain_vt, &fp, NULL, NULL);
        }
        watchdog_t w = {.flag = &flag};
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.cond, NULL);
        pthread_t th;
        pthread_create(&th, NULL, watchdog_main, &w);
        remote_ctx_t rc2 = {rc.h, 1000};
        int warm = bench_env_int("BENCH_WARMUP", 5), reps = bench_env_int("BENCH_REPS", 51);
        uint64_t *samples = malloc(sizeof *samples * (size_t)(reps > 0 ? reps : 1));
        for (int i = 0; i < warm; i++)
            spawn_remote_iter(&rc2);
        for (int i = 0; i < reps; i++) {
            uint64_t t = bench_now_ns();
            spawn_remote_iter(&rc2);
            samples[i] = bench_now_ns() - t;
        }
        pthread_mutex_lock(&w.lock);
        w.stop = true;
        pthread_cond_signal(&w.cond);
        pthread_mutex_unlock(&w.lock);
        pthread_join(th, NULL);
        atomic_store(&flag, false);
        if (atomic_load(&w.tripped)) {
            fprintf(stderr, "bench: spawn_many_remote_busy2 did not finish in 10 s\n");
            bench_emit("spawn_many_remote_busy2", samples, 0, 1000);
        } else {
            bench_emit("spawn_many_remote_busy2", samples, reps, 1000);
        }
        free(samples);
        al_runtime_free(g_rt);
    }
    free(rc.h);
}

void bench_chained_spawn(void)
{
    if (!bench_wants("chained_spawn"))
        return;
    g_rt = bench_runtime();
    bench_signal_t *done = bench_signal_new();
    bench_run("chained_spawn", 1000, 5, 51, chained_spawn_iter, done);
    bench_signal_free(done);
    al_runtime_free(g_rt);
}

void bench_spawn_many_in_task(void)
{
    al_join_t **h = calloc(NUM_SPAWN, sizeof *h);
    if (bench_wants("spawn_many_in_task")) {
        g_rt = bench_runtime();
        bench_run("spawn_many_in_task", NUM_SPAWN, 5, 51, spawn_in_task_iter, h);
        al_runtime_free(g_rt);
    }
    if (bench_wants("spawn_many_in_task_recorded")) {
        g_rt = bench_runtime();
        bench_recording_t rec;
        bench_record_start(g_rt, &rec);
        bench_run("spawn_many_in_task_recorded", NUM_SPAWN, 5, 51, spawn_in_task_iter, h);
        bench_record_report("spawn_many_in_task_recorded", &rec);
        al_runtime_free(g_rt);
    }
    if (bench_wants("spawn_many_in_task_traced")) { /* recorded to a trace file */
        g_rt = bench_runtime();
        bench_recording_t rec;
        bench_record_start_file(g_rt, &rec);
        bench_run("spawn_many_in_task_traced", NUM_SPAWN, 5, 51, spawn_in_task_iter, h);
        bench_record_report("spawn_many_in_task_traced", &rec);
        al_runtime_free(g_rt);
    }
    free(h);
}
