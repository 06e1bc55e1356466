/*
 * test_console.c — the console model: a scripted event sequence checked
 * figure by figure (states, times, queues rebuilt through LIFO displacement,
 * steals and overflow, lock waits), a live run whose replay gives the same
 * per-task figures, retention, histograms, and the text outputs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_test.h"
#include "al_test_futures.h"
#include "al_test_stream.h"

typedef struct {
    al_console_t *c;
    uint64_t ts;
} feed_t;

static void feed_start(feed_t *f, uint32_t workers)
{
    cr_assert_eq(al_console_new(NULL, &f->c), 0);
    al_stream_header_t h = {.version = AL_STREAM_VERSION, .num_workers = workers, .flavor = 1};
    al_console_consumer.on_header(f->c, &h);
    al_console_consumer.on_string(f->c, 1, "a", 1);
    al_console_consumer.on_string(f->c, 2, "db", 2);
}

static void ev(feed_t *f, uint64_t ts, al_event_kind_t kind, int worker, uint64_t task, uint64_t a,
               uint64_t b, uint32_t str)
{
    al_trace_event_t e = {.ts_ns = ts,
                          .task = task,
                          .a = a,
                          .b = b,
                          .str = str,
                          .kind = (uint16_t)kind,
                          .worker = (int16_t)worker};
    al_console_consumer.on_events(f->c, &e, 1);
}

#define WAKE_FLAGS(src, self, by_ref)                                                              \
    ((uint64_t)(src) | (uint64_t)(self) << 16 | (uint64_t)(by_ref) << 17)

Test(console, scripted_sequence_gives_exact_figures)
{
    feed_t f;
    feed_start(&f, 2);
    ev(&f, 1000, AL_EV_RUNTIME_START, -1, 0, 2, 1, 0);
    ev(&f, 1010, AL_EV_TASK_SPAWN, -1, 1, 0, AL_TASK_ASYNC, 1);
    ev(&f, 1011, AL_EV_TASK_SCHEDULE, -1, 1, AL_QUEUE_INJECT, 0, 0);
    ev(&f, 1020, AL_EV_TASK_SPAWN, -1, 2, 0, AL_TASK_ASYNC, 0);
    ev(&f, 1021, AL_EV_TASK_SCHEDULE, -1, 2, AL_QUEUE_INJECT, 0, 0);
    ev(&f, 1100, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    ev(&f, 1110, AL_EV_TASK_SPAWN, 0, 3, 1, AL_TASK_ASYNC, 0);
    ev(&f, 1111, AL_EV_TASK_SCHEDULE, 0, 3, AL_QUEUE_LIFO, 0, 0);
    ev(&f, 1120, AL_EV_TASK_SPAWN, 0, 4, 1, AL_TASK_ASYNC, 0);
    ev(&f, 1121, AL_EV_TASK_SCHEDULE, 0, 4, AL_QUEUE_LIFO, 0, 0); /* 3 -> local */
    ev(&f, 1130, AL_EV_TASK_SPAWN, 0, 5, 1, AL_TASK_ASYNC, 0);
    ev(&f, 1131, AL_EV_TASK_SCHEDULE, 0, 5, AL_QUEUE_LOCAL, 0, 0);
    ev(&f, 1140, AL_EV_WAKE, 0, 1, 1, WAKE_FLAGS(AL_WAKE_YIELD, 1, 1), 0);
    ev(&f, 1150, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 100, 0);
    ev(&f, 1151, AL_EV_TASK_SCHEDULE, 0, 1, AL_QUEUE_LOCAL, 0, 0); /* local: 3 5 1 */

    /* Mid-way: worker 0 is idle with 4 in its LIFO slot and 3 5 1 queued. */
    al_console_snapshot_t *s = al_console_snapshot(f.c, 0);
    cr_assert_eq(s->workers[0].lifo_task, 4);
    cr_assert_eq(s->workers[0].local_depth, 3);
    cr_assert_eq(s->workers[0].local_queue[0], 3);
    cr_assert_eq(s->workers[0].local_queue[1], 5);
    cr_assert_eq(s->workers[0].local_queue[2], 1);
    cr_assert_eq(s->inject_depth, 1);
    cr_assert_eq(s->inject_queue[0], 2);
    al_console_snapshot_free(s);

    ev(&f, 1200, AL_EV_STEAL, 1, 0, 0, 2, 0); /* worker 1 steals 3 and 5 */
    ev(&f, 1210, AL_EV_POLL_BEGIN, 1, 5, 0, 0, 0);
    ev(&f, 1220, AL_EV_POLL_BEGIN, 0, 4, 0, 0, 0);
    ev(&f, 1230, AL_EV_WAKER_CLONE, 0, 4, 0, 0, 0);
    ev(&f, 1300, AL_EV_POLL_END, 0, 4, AL_POLL_END_PENDING, 90, 0);
    ev(&f, 1310, AL_EV_POLL_END, 1, 5, AL_POLL_END_READY, 120, 0);
    ev(&f, 1311, AL_EV_TASK_END, 1, 5, AL_JOIN_OK, 0, 0);
    ev(&f, 1400, AL_EV_WAKE, -1, 4, 0, WAKE_FLAGS(AL_WAKE_TIMER, 0, 0), 0);
    ev(&f, 1401, AL_EV_TASK_SCHEDULE, -1, 4, AL_QUEUE_INJECT, 0, 0);
    ev(&f, 1500, AL_EV_OVERFLOW, 0, 0, 1, 0, 0); /* 1 -> inject */
    ev(&f, 1600, AL_EV_PARK, 1, 0, 0, 0, 0);
    ev(&f, 1700, AL_EV_RESOURCE_CREATE, -1, 1, 50, AL_RES_MUTEX, 2);
    ev(&f, 1710, AL_EV_LOCK_ACQUIRE, -1, 3, 50, 0, 0);
    ev(&f, 1720, AL_EV_LOCK_CONTEND, -1, 2, 50, 3, 0);

    s = al_console_snapshot(f.c, 1750);
    const al_console_task_t *t2 = al_console_find_task(s, 2);
    cr_assert_eq(t2->waiting_kind, AL_WAIT_RESOURCE);
    cr_assert_eq(t2->waiting_on, 50);
    cr_assert_eq(al_console_find_resource(s, 50)->holder, 3);
    cr_assert_eq(al_console_find_resource(s, 50)->waiters, 1);
    al_console_snapshot_free(s);

    ev(&f, 1800, AL_EV_LOCK_RELEASE, -1, 3, 50, 0, 0);
    ev(&f, 1810, AL_EV_LOCK_ACQUIRE, -1, 2, 50, 0, 0);

    s = al_console_snapshot(f.c, 2000);
    cr_assert_eq(s->now_ns, 2000);
    cr_assert_eq(s->spawned_tasks, 5);
    cr_assert_eq(s->alive_tasks, 4);
    cr_assert_eq(s->num_tasks, 5);

    const al_console_task_t *t1 = al_console_find_task(s, 1);
    cr_assert_str_eq(t1->name, "a");
    cr_assert_eq(t1->state, AL_TASK_SCHEDULED);
    cr_assert_eq(t1->polls, 1);
    cr_assert_eq(t1->busy_ns, 50);
    cr_assert_eq(t1->scheduled_ns, 89 + (2000 - 1151), "%lu", (unsigned long)t1->scheduled_ns);
    cr_assert_eq(t1->total_ns, 2000 - 1010);
    cr_assert_eq(t1->idle_ns, t1->total_ns - t1->busy_ns - t1->scheduled_ns);
    cr_assert_eq(t1->wakes, 1);
    cr_assert_eq(t1->self_wakes, 1);
    cr_assert_eq(t1->first_poll_delay_ns, 90);
    cr_assert_eq(t1->queue_worker, -1, "overflowed into the inject queue");

    const al_console_task_t *t4 = al_console_find_task(s, 4);
    cr_assert_eq(t4->parent, 1);
    cr_assert_eq(t4->polls, 1);
    cr_assert_eq(t4->busy_ns, 80);
    cr_assert_eq(t4->waker_clones, 1);
    cr_assert_eq(t4->wakers_alive, 0, "woken by value: the clone was consumed");
    cr_assert_eq(t4->last_wake_source, AL_WAKE_TIMER);
    cr_assert_eq(t4->state_since_ns, 1401);

    const al_console_task_t *t5 = al_console_find_task(s, 5);
    cr_assert_eq(t5->state, AL_TASK_DONE);
    cr_assert_eq(t5->end, AL_JOIN_OK);
    cr_assert_eq(t5->total_ns, 1310 - 1130, "ended by its last poll");
    cr_assert_eq(t5->busy_ns, 100);
    cr_assert_eq(t5->scheduled_ns, 1210 - 1131);

    cr_assert_eq(s->workers[0].lifo_task, 0);
    cr_assert_eq(s->workers[0].local_depth, 0);
    cr_assert_eq(s->workers[0].polls, 2);
    cr_assert_eq(s->workers[0].busy_ns, 130);
    cr_assert_eq(s->workers[0].overflows, 1);
    cr_assert_eq(s->workers[1].state, AL_WORKER_PARKED);
    cr_assert_eq(s->workers[1].steals, 1);
    cr_assert_eq(s->workers[1].stolen_tasks, 2);
    cr_assert_eq(s->workers[1].local_depth, 1);
    cr_assert_eq(s->workers[1].local_queue[0], 3);
    cr_assert_eq(s->inject_depth, 3);
    cr_assert_eq(s->inject_queue[0], 2);
    cr_assert_eq(s->inject_queue[1], 4);
    cr_assert_eq(s->inject_queue[2], 1);

    const al_console_resource_t *r = al_console_find_resource(s, 50);
    cr_assert_str_eq(r->name, "db");
    cr_assert_eq(r->kind, AL_RES_MUTEX);
    cr_assert_eq(r->holder, 2);
    cr_assert_eq(r->waiters, 0);
    cr_assert_eq(r->ops, 3);
    cr_assert_eq(r->waits, 1);
    cr_assert_eq(r->wait_max_ns, 90);
    cr_assert_eq(al_console_find_task(s, 2)->waiting_kind, AL_WAIT_NONE);

    /* The text forms name what they show. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    al_console_print_dump(s, out);
    al_console_print(s, out);
    al_console_print_csv(s, out);
    fclose(out);
    cr_assert(strstr(text, "worker 1  parked"), "%s", text);
    cr_assert(strstr(text, "task 1 \"a\""), "%s", text);
    cr_assert(strstr(text, "mutex"), "%s", text);
    cr_assert(strstr(text, "id,name,parent,kind,state"), "%s", text);
    cr_assert(strstr(text, "\n5,\"\",1,async,done,ok,"), "%s", text);
    free(text);
    al_console_snapshot_free(s);

    /* As of T: the same events, stopped at 1305, see task 5 still running. */
    al_console_t *c2;
    al_console_config_t cfg = {.stop_at_ns = 1305};
    cr_assert_eq(al_console_new(&cfg, &c2), 0);
    feed_t f2 = {.c = c2};
    ev(&f2, 1130, AL_EV_TASK_SPAWN, 0, 5, 1, AL_TASK_ASYNC, 0);
    ev(&f2, 1210, AL_EV_POLL_BEGIN, 1, 5, 0, 0, 0);
    ev(&f2, 1310, AL_EV_POLL_END, 1, 5, AL_POLL_END_READY, 120, 0);
    s = al_console_snapshot(c2, 0);
    cr_assert_eq(s->now_ns, 1305);
    cr_assert_eq(al_console_find_task(s, 5)->state, AL_TASK_RUNNING);
    cr_assert_eq(al_console_find_task(s, 5)->busy_ns, 1305 - 1210);
    cr_assert_eq(s->workers[1].current_task, 5);
    al_console_snapshot_free(s);
    al_console_free(c2);
    al_console_free(f.c);
}

Test(console, finished_tasks_are_retained_up_to_the_limit)
{
    al_console_t *c;
    al_console_config_t cfg = {.retain_done = 10};
    cr_assert_eq(al_console_new(&cfg, &c), 0);
    feed_t f = {.c = c};
    for (uint64_t id = 1; id <= 5000; id++) {
        ev(&f, id * 10, AL_EV_TASK_SPAWN, -1, id, 0, AL_TASK_ASYNC, 0);
        ev(&f, id * 10 + 1, AL_EV_POLL_BEGIN, 0, id, 0, 0, 0);
        ev(&f, id * 10 + 2, AL_EV_POLL_END, 0, id, AL_POLL_END_READY, 0, 0);
        ev(&f, id * 10 + 3, AL_EV_TASK_END, 0, id, AL_JOIN_OK, 0, 0);
    }
    al_console_snapshot_t *s = al_console_snapshot(c, 0);
    cr_assert_eq(s->num_tasks, 10);
    cr_assert_eq(s->tasks[0].id, 4991);
    cr_assert_eq(s->alive_tasks, 0);
    cr_assert_eq(s->spawned_tasks, 5000);
    al_console_snapshot_free(s);
    al_console_free(c);
}

/* A detail source: text for task 2 only (the Lua layer's tracebacks). */
static void detail_for_task_two(void *calls, al_console_snapshot_t *s)
{
    ++*(int *)calls;
    cr_assert(
        al_console_snapshot_set_detail(s, 2, "waiting in sleep\nstack traceback:\n\tx.lua:3"));
    cr_assert_not(al_console_snapshot_set_detail(s, 99, "no such task"));
}

Test(console, a_detail_source_annotates_snapshots_and_dumps)
{
    feed_t f = {0};
    feed_start(&f, 1);
    ev(&f, 10, AL_EV_TASK_SPAWN, -1, 1, 0, AL_TASK_ASYNC, 0);
    ev(&f, 11, AL_EV_TASK_SPAWN, -1, 2, 0, AL_TASK_ASYNC, 0);
    int calls = 0;
    al_console_set_detail_source(f.c, detail_for_task_two, &calls);
    al_console_snapshot_t *s = al_console_snapshot(f.c, 0);
    cr_assert_eq(calls, 1);
    cr_assert_str_eq(al_console_find_task(s, 1)->detail, "");
    cr_assert_str_eq(al_console_find_task(s, 2)->detail,
                     "waiting in sleep\nstack traceback:\n\tx.lua:3");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    al_console_print_dump(s, out);
    fclose(out);
    /* indented under its task, every line */
    cr_assert(strstr(text, "task 2"), "%s", text);
    cr_assert(strstr(strstr(text, "task 2"), "\n      waiting in sleep\n      stack traceback:\n"),
              "%s", text);
    free(text);
    al_console_snapshot_free(s);

    al_console_set_detail_source(f.c, NULL, NULL);
    s = al_console_snapshot(f.c, 0);
    cr_assert_eq(calls, 1);
    cr_assert_str_eq(al_console_find_task(s, 2)->detail, "");
    al_console_snapshot_free(s);
    al_console_free(f.c);
}

Test(console, a_worker_without_events_is_in_its_state_since_the_recording_began)
{
    feed_t f = {0};
    feed_start(&f, 2);
    ev(&f, 1000, AL_EV_TASK_SPAWN, -1, 1, 0, AL_TASK_ASYNC, 0);
    ev(&f, 1100, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    al_console_snapshot_t *s = al_console_snapshot(f.c, 5000);
    cr_assert_eq(s->workers[1].state_since_ns, 1000, "since the first event, not since boot");
    cr_assert_eq(s->workers[0].state_since_ns, 1100);
    al_console_snapshot_free(s);
    al_console_free(f.c);
}

Test(console, histogram_quantiles_are_within_a_bucket)
{
    al_histogram_t h;
    al_histogram_reset(&h);
    for (uint64_t v = 1; v <= 1000; v++)
        al_histogram_record(&h, v * 1000); /* 1 us .. 1 ms */
    cr_assert_eq(h.count, 1000);
    cr_assert_eq(h.max_ns, 1000000);
    uint64_t p50 = al_histogram_quantile(&h, 0.5), p99 = al_histogram_quantile(&h, 0.99);
    cr_assert(p50 >= 500000 && p50 <= 500000 * 1.19, "p50 %lu", (unsigned long)p50);
    cr_assert(p99 >= 990000 && p99 <= 1000000, "p99 %lu", (unsigned long)p99);
    cr_assert_eq(al_histogram_quantile(&h, 1.0), 1000000);
    for (unsigned i = 1; i < AL_HIST_BUCKETS; i++)
        cr_assert_gt(al_histogram_bucket_floor(i), al_histogram_bucket_floor(i - 1));
}

/* The one-pass form gives what one call per quantile gives, for empty,
 * single-sample and spread histograms (the snapshot uses it per task). */
Test(console, histogram_quantiles_in_one_pass_match_one_by_one)
{
    static const double qs[] = {0, 0.001, 0.25, 0.5, 0.5, 0.9, 0.99, 0.999, 1.0};
    const size_t nq = sizeof qs / sizeof *qs;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 200; round++) {
        al_histogram_t h;
        al_histogram_reset(&h);
        int n = round == 0 ? 0 : round == 1 ? 1 : (int)(x % 3000);
        for (int i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            al_histogram_record(&h, x % (round % 2 ? 1000000000ull : 50000ull) + 1);
        }
        uint64_t got[sizeof qs / sizeof *qs];
        al_histogram_quantiles(&h, qs, nq, got);
        for (size_t k = 0; k < nq; k++)
            cr_assert_eq(got[k], al_histogram_quantile(&h, qs[k]), "round %d, q %g", round, qs[k]);
    }
}

/* ---- live and replay: one code path, the same figures ---- */

typedef struct {
    al_mutex_t *m;
    int rounds, step;
    al_mutex_guard_t g;
    al_mutex_lock_t op;
    al_yield_t y;
    al_sleep_t sl;
} worker_task_t;

/* Lock, yield while holding, unlock, sleep 1 ms on a timer; a few rounds. */
static al_poll_t worker_task_poll(void *f, al_context_t *cx, void *out)
{
    worker_task_t *w = f;
    for (;;) {
        switch (w->step) {
        case 0:
            if (w->rounds-- == 0)
                return AL_READY;
            al_mutex_lock_init(&w->op, w->m);
            w->step = 1;
            /* fallthrough */
        case 1:
            if (al_mutex_lock_poll(&w->op, cx, &w->g) == AL_PENDING)
                return AL_PENDING;
            al_mutex_lock_drop(&w->op);
            w->y = AL_YIELD_INIT;
            w->step = 2;
            /* fallthrough */
        case 2:
            if (al_yield_poll(&w->y, cx) == AL_PENDING)
                return AL_PENDING;
            al_mutex_guard_unlock(&w->g);
            al_sleep_init(&w->sl, 1000000);
            w->step = 3;
            /* fallthrough */
        case 3:
            if (al_sleep_poll(&w->sl, cx) == AL_PENDING)
                return AL_PENDING;
            al_sleep_drop(&w->sl);
            w->step = 0;
        }
    }
}
static const al_future_vtable_t worker_task_vt = {
    .type_name = "worker", .poll = worker_task_poll, .future_size = sizeof(worker_task_t)};

static void assert_same_task(const al_console_task_t *a, const al_console_task_t *b)
{
    cr_assert_eq(a->id, b->id);
    cr_assert_str_eq(a->name, b->name);
    cr_assert_eq(a->parent, b->parent);
    cr_assert_eq(a->state, b->state, "task %lu", (unsigned long)a->id);
    cr_assert_eq(a->polls, b->polls, "task %lu", (unsigned long)a->id);
    cr_assert_eq(a->wakes, b->wakes);
    cr_assert_eq(a->self_wakes, b->self_wakes);
    cr_assert_eq(a->waker_clones, b->waker_clones);
    cr_assert_eq(a->waker_drops, b->waker_drops);
    cr_assert_eq(a->busy_ns, b->busy_ns);
    cr_assert_eq(a->scheduled_ns, b->scheduled_ns);
    cr_assert_eq(a->idle_ns, b->idle_ns);
    cr_assert_eq(a->total_ns, b->total_ns);
    cr_assert_eq(a->poll_p99_ns, b->poll_p99_ns);
    cr_assert_eq(a->sched_p99_ns, b->sched_p99_ns);
    cr_assert_eq(a->first_poll_delay_ns, b->first_poll_delay_ns);
}

Test(console, a_replayed_recording_gives_the_live_figures, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    al_tracefile_writer_t *w;
    cr_assert_eq(al_tracefile_writer_open_file(f, &w), 0);
    al_console_t *live, *replay;
    cr_assert_eq(al_console_new(NULL, &live), 0);
    cr_assert_eq(al_console_new(NULL, &replay), 0);
    al_stream_t *st;
    cr_assert_eq(al_stream_start(rt, NULL, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, &al_tracefile_writer_consumer, w), 0);
    cr_assert_eq(al_stream_subscribe(st, &al_console_consumer, live), 0);

    al_mutex_t *m;
    cr_assert_eq(al_mutex_new(NULL, "shared", &m), 0);
    enum { N = 8 };
    al_join_t *h[N];
    for (int i = 0; i < N; i++) {
        worker_task_t wt = {.m = m, .rounds = 5};
        al_spawn_opts_t o = {.name = i % 2 ? "odd" : "even"};
        cr_assert_eq(al_spawn(rt, &worker_task_vt, &wt, &o, &h[i]), 0);
    }
    tf_join_all_t j = {.handles = h, .n = N};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt); /* delivers everything, ends the stream */
    uint64_t mutex_id = al_mutex_id(m);
    al_mutex_unref(m);
    cr_assert_eq(al_tracefile_writer_close(w), 0);
    fclose(f);

    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_mem(buf, len, &al_console_consumer, replay, &err), 0, "%s",
                 err.message);
    al_console_snapshot_t *a = al_console_snapshot(live, 0), *b = al_console_snapshot(replay, 0);
    cr_assert_eq(a->events, b->events);
    cr_assert_eq(a->num_tasks, b->num_tasks);
    cr_assert_geq(a->num_tasks, N);
    size_t named = 0;
    for (size_t i = 0; i < a->num_tasks; i++) {
        assert_same_task(&a->tasks[i], &b->tasks[i]);
        if (strcmp(a->tasks[i].name, "odd") == 0 || strcmp(a->tasks[i].name, "even") == 0) {
            named++;
            cr_assert_eq(a->tasks[i].state, AL_TASK_DONE);
            cr_assert_geq(a->tasks[i].polls, 5 * 2, "a yield and a sleep per round");
            cr_assert_gt(a->tasks[i].busy_ns, 0);
            cr_assert_gt(a->tasks[i].idle_ns, 0, "it slept");
        }
    }
    cr_assert_eq(named, N);
    cr_assert_eq(a->num_resources, b->num_resources);
    /* Made outside the runtime: no create event, known from its first use. */
    const al_console_resource_t *ra = al_console_find_resource(a, mutex_id);
    cr_assert_not_null(ra);
    cr_assert_eq(ra->ops, 2 * 5 * N, "every round locks and unlocks");
    cr_assert_eq(al_console_find_resource(b, ra->id)->wait_max_ns, ra->wait_max_ns);
    for (size_t i = 0; i < a->num_workers; i++) {
        cr_assert_eq(a->workers[i].polls, b->workers[i].polls);
        cr_assert_eq(a->workers[i].busy_ns, b->workers[i].busy_ns);
    }
    al_console_snapshot_free(a);
    al_console_snapshot_free(b);
    al_console_free(live);
    al_console_free(replay);
    free(buf);
}

Test(console, bad_arguments)
{
    cr_assert_eq(al_console_new(NULL, NULL), AL_EINVAL);
    al_console_free(NULL);
    al_console_snapshot_free(NULL);
    cr_assert_str_eq(al_task_state_name(99), "?");
    cr_assert_str_eq(al_worker_state_name(AL_WORKER_PARKED_DRIVER), "parked (driver)");
}
