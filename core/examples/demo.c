/*
 * demo.c — `make run` for now: the runtime at work, narrated.
 *
 * Three short scenes on a 2-worker runtime, with the event hook printing
 * what the scheduler does (steals, parks, blocked workers) as it happens:
 *   1. a task spawns 10,000 tasks: its worker queues them, the other steals;
 *   2. a worker is blocked by a std-style thread sleep (pitfall A1): the
 *      tasks queued behind it are stolen and run by its sibling;
 *   3. shutdown with tasks still waiting: they are cancelled and counted.
 * Later issues replace this with the Lua REPL and the visualizer.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asynclab.h"

static uint64_t t0_ns;
static atomic_int print_budget; /* events left to print in this scene */
static atomic_bool show_parks;  /* narrate parking in this scene? */
static atomic_uint_fast64_t counts[AL_EV__COUNT];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A consumer of the event stream: count everything, narrate the
 * interesting kinds. Runs on the stream's collector thread. */
static void on_event(const al_trace_event_t *ev)
{
    atomic_fetch_add_explicit(&counts[ev->kind], 1, memory_order_relaxed);
    const char *what = NULL;
    char buf[128];
    switch (ev->kind) {
    case AL_EV_STEAL:
        snprintf(buf, sizeof buf, "steals %" PRIu64 " task%s from worker %" PRIu64, ev->b,
                 ev->b == 1 ? "" : "s", ev->a);
        what = buf;
        break;
    case AL_EV_PARK:
        if (!atomic_load(&show_parks))
            return;
        what = ev->a ? "parks in the driver (epoll)" : "parks on its condvar";
        break;
    case AL_EV_BLOCK_BEGIN:
        snprintf(buf, sizeof buf, "is BLOCKED by task %" PRIu64 " (thread sleep)", ev->task);
        what = buf;
        break;
    case AL_EV_BLOCK_END:
        what = "is free again";
        break;
    default:
        return;
    }
    if (atomic_fetch_sub(&print_budget, 1) <= 0)
        return;
    double ms = (double)(ev->ts_ns - t0_ns) / 1e6;
    if (ev->worker >= 0)
        printf("  %8.3f ms  worker %d %s\n", ms, ev->worker, what);
    else
        printf("  %8.3f ms  a non-worker thread %s\n", ms, what);
}

static void on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        on_event(&ev[i]);
}
static const al_stream_consumer_t narrator = {.on_events = on_events};

/* ---- futures used by the scenes ---- */

typedef struct {
    atomic_int *ran_on_worker; /* per worker counters */
} work_t;

static al_poll_t work_poll(void *f, al_context_t *cx, void *out)
{
    work_t *w = f;
    int me = al_runtime_current_worker();
    if (me >= 0)
        atomic_fetch_add(&w->ran_on_worker[me], 1);
    return AL_READY;
}
static const al_future_vtable_t work_vt = {
    .type_name = "work", .poll = work_poll, .future_size = sizeof(work_t)};

/* Spawns n work tasks, then waits for all of them. */
typedef struct {
    int n, next;
    atomic_int *ran_on_worker;
    al_join_t **handles;
    int block_ms; /* >0: block the worker this long after spawning (scene 2) */
} spawner_t;

static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    spawner_t *s = f;
    if (!s->handles) {
        s->handles = calloc((size_t)s->n, sizeof *s->handles);
        for (int i = 0; i < s->n; i++) {
            work_t w = {s->ran_on_worker};
            al_spawn(NULL, &work_vt, &w, NULL, &s->handles[i]);
        }
        if (s->block_ms > 0) {
            /* What std::thread::sleep does inside a task: the worker is stuck. */
            printf("  %8.3f ms  task %" PRIu64 " calls a blocking sleep of %d ms on worker %d\n",
                   (double)(now_ns() - t0_ns) / 1e6, al_task_current_id(), s->block_ms,
                   al_runtime_current_worker());
            al_thread_sleep_ns((uint64_t)s->block_ms * 1000000u);
        }
    }
    while (s->next < s->n) {
        al_join_result_t res;
        if (al_join_poll(s->handles[s->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        al_join_drop(s->handles[s->next++]);
    }
    free(s->handles);
    return AL_READY;
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "spawner", .poll = spawner_poll, .future_size = sizeof(spawner_t)};

/* Waits forever (keeps its waker): a task that shutdown will cancel. */
typedef struct {
    al_waker_t waker;
} waiter_t;
static al_poll_t waiter_poll(void *f, al_context_t *cx, void *out)
{
    waiter_t *w = f;
    al_waker_set(&w->waker, &cx->waker);
    return AL_PENDING;
}
static void waiter_drop(void *f)
{
    al_waker_drop(&((waiter_t *)f)->waker);
}
static const al_future_vtable_t waiter_vt = {.type_name = "waiter",
                                             .poll = waiter_poll,
                                             .drop = waiter_drop,
                                             .future_size = sizeof(waiter_t)};

/* The main future: await one JoinHandle. */
static al_poll_t join_poll(void *f, al_context_t *cx, void *out)
{
    al_join_result_t res;
    return al_join_poll(*(al_join_t **)f, cx, NULL, &res);
}
static const al_future_vtable_t join_vt = {
    .type_name = "join", .poll = join_poll, .future_size = sizeof(al_join_t *)};

/* Spawn the scene's spawner task on a worker and wait for it. */
static void run_scene(al_runtime_t *rt, spawner_t *s)
{
    al_join_t *h;
    int rc = al_spawn(rt, &spawner_vt, s, NULL, &h);
    if (rc == 0)
        rc = al_runtime_block_on(rt, &join_vt, &h, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "demo: %s\n", al_strerror(rc));
        exit(1);
    }
    al_join_drop(h);
}

static void print_workers(al_runtime_t *rt)
{
    printf("\n  worker   polls   steals (ops)   parks   busy ms\n");
    for (uint32_t i = 0; i < al_runtime_num_workers(rt); i++) {
        al_worker_metrics_t m;
        al_runtime_worker_metrics(rt, i, &m);
        printf("  %6u %7" PRIu64 " %8" PRIu64 " (%3" PRIu64 ") %7" PRIu64 " %9.1f\n", i,
               m.poll_count, m.steal_count, m.steal_operations, m.park_count,
               (double)m.busy_ns / 1e6);
    }
}

int main(void)
{
    printf("asynclab %s — a work-stealing async runtime in C, narrated\n", ASYNCLAB_VERSION);
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 2;
    cfg.enable_time = true;
    cfg.enable_io = true;
    al_runtime_t *rt;
    int rc = al_runtime_new(&cfg, &rt);
    if (rc != 0) {
        fprintf(stderr, "demo: cannot build the runtime: %s\n", al_strerror(rc));
        return 1;
    }
    /* Subscribe to the runtime's event stream (already running if
     * ASYNCLAB_LOG=trace asked for a log of every event). */
    al_stream_t *st = al_stream_of(rt);
    if (!st && (rc = al_stream_start(rt, NULL, &st)) != 0) {
        fprintf(stderr, "demo: cannot record events: %s\n", al_strerror(rc));
        return 1;
    }
    al_stream_subscribe(st, &narrator, NULL);

    printf("\n1. One task spawns 10,000 tasks. They land in its worker's 256-slot queue,\n"
           "   which spills half of itself into the global inject queue when full;\n"
           "   the idle worker wakes up and takes work: by stealing half of the\n"
           "   busy worker's queue, or in batches from the inject queue.\n\n");
    t0_ns = now_ns();
    atomic_store(&print_budget, 8);
    atomic_store(&show_parks, true);
    atomic_int ran[2] = {0, 0};
    spawner_t s1 = {.n = 10000, .ran_on_worker = ran};
    run_scene(rt, &s1);
    al_stream_flush(st); /* every event of the scene has been narrated */
    printf("  ... %" PRIu64 " steals and %" PRIu64 " spills into the inject queue in all\n",
           (uint64_t)atomic_load(&counts[AL_EV_STEAL]),
           (uint64_t)atomic_load(&counts[AL_EV_OVERFLOW]));
    printf("  tasks run by worker 0: %d, by worker 1: %d (%.2f ms)\n", atomic_load(&ran[0]),
           atomic_load(&ran[1]), (double)(now_ns() - t0_ns) / 1e6);

    printf("\n2. Pitfall A1: a task calls a blocking sleep. Its worker is stuck, but\n"
           "   the tasks queued behind it are stolen by the other worker.\n\n");
    t0_ns = now_ns();
    atomic_store(&print_budget, 14);
    atomic_store(&show_parks, false);
    atomic_int ran2[2] = {0, 0};
    spawner_t s2 = {.n = 50, .ran_on_worker = ran2, .block_ms = 200};
    run_scene(rt, &s2);
    al_stream_flush(st);
    printf("  tasks run by worker 0: %d, by worker 1: %d; the blocked worker could\n"
           "  only run the one task in its LIFO slot (never stealable) after waking.\n",
           atomic_load(&ran2[0]), atomic_load(&ran2[1]));
    print_workers(rt);

    atomic_store(&print_budget, 0);
    printf("\n3. Shutdown while 100 tasks still wait for something that never comes.\n");
    for (int i = 0; i < 100; i++) {
        waiter_t w = {AL_WAKER_NONE};
        al_spawn(rt, &waiter_vt, &w, NULL, NULL);
    }
    al_shutdown_report_t rep;
    al_runtime_shutdown(rt, 1000, &rep);
    al_stream_flush(st);
    printf("  shutdown cancelled %" PRIu64 " tasks (their futures were dropped, nothing leaked)\n",
           rep.tasks_cancelled);
    printf("\n  events seen: %" PRIu64 " spawns, %" PRIu64 " polls, %" PRIu64 " wakes, %" PRIu64
           " parks\n",
           (uint64_t)atomic_load(&counts[AL_EV_TASK_SPAWN]),
           (uint64_t)atomic_load(&counts[AL_EV_POLL_BEGIN]),
           (uint64_t)atomic_load(&counts[AL_EV_WAKE]), (uint64_t)atomic_load(&counts[AL_EV_PARK]));
    al_runtime_free(rt);
    printf("\nNext: the Lua REPL (repl/) and the visualizer (viz/) are built on these events.\n");
    return 0;
}
