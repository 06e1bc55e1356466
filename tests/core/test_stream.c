/*
 * test_stream.c — the live recorder (al_stream.c): a scripted scenario
 * checked event by event, steals / parks / blocked workers on the
 * multi-thread runtime, drops, late subscribers, restart, and a stress run
 * whose merged stream must stay ordered and complete.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "al_test.h"
#include "al_test_futures.h"
#include "al_test_stream.h"

static al_stream_t *start(al_runtime_t *rt, ts_rec_t *rec, uint32_t ring, uint32_t period_us)
{
    al_stream_config_t cfg = {.ring_events = ring, .collect_every_us = period_us};
    al_stream_t *st = NULL;
    cr_assert_eq(al_stream_start(rt, &cfg, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), rec), 0);
    return st;
}

/* ---- a scripted scenario: lock contention between two named tasks ---- */

typedef struct {
    al_mutex_t *m;
    int step;
    al_mutex_guard_t g;
    al_mutex_lock_t op;
    al_yield_t y;
} locker_t;

/* "holder": lock, yield once while holding it, unlock.
 * "waiter": lock (contends), unlock. */
static al_poll_t locker_poll(void *f, al_context_t *cx, void *out)
{
    locker_t *l = f;
    for (;;) {
        switch (l->step) {
        case 0:
            al_mutex_lock_init(&l->op, l->m);
            l->step = 1;
            /* fallthrough */
        case 1:
            if (al_mutex_lock_poll(&l->op, cx, &l->g) == AL_PENDING)
                return AL_PENDING;
            al_mutex_lock_drop(&l->op);
            l->step = 2;
            /* fallthrough */
        case 2:
            if (al_yield_poll(&l->y, cx) == AL_PENDING)
                return AL_PENDING;
            al_mutex_guard_unlock(&l->g);
            return AL_READY;
        }
    }
}
static const al_future_vtable_t locker_vt = {
    .type_name = "locker", .poll = locker_poll, .future_size = sizeof(locker_t)};

typedef struct {
    al_mutex_t *m;
    al_join_t *h[2];
    tf_join_all_t join;
} scene_t;

static al_poll_t scene_poll(void *f, al_context_t *cx, void *out)
{
    scene_t *s = f;
    if (!s->m) {
        cr_assert_eq(al_mutex_new(NULL, "the-lock", &s->m), 0);
        locker_t holder = {.m = s->m}, waiter = {.m = s->m, .y = {1}};
        al_spawn_opts_t ho = {.name = "holder"}, wo = {.name = "waiter"};
        cr_assert_eq(al_spawn(NULL, &locker_vt, &holder, &ho, &s->h[0]), 0);
        cr_assert_eq(al_spawn(NULL, &locker_vt, &waiter, &wo, &s->h[1]), 0);
        s->join = (tf_join_all_t){.handles = s->h, .n = 2};
    }
    if (tf_join_all_poll(&s->join, cx, NULL) == AL_PENDING)
        return AL_PENDING;
    al_mutex_unref(s->m);
    return AL_READY;
}
static const al_future_vtable_t scene_vt = {.poll = scene_poll, .future_size = sizeof(scene_t)};

/* Render the events of the kinds a reader of this scenario cares about as
 * one line each, with task names instead of ids. */
static size_t render(ts_rec_t *r, uint64_t holder, uint64_t waiter, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < r->n; i++) {
        const al_trace_event_t *e = &r->ev[i];
        const char *who = e->task == holder ? "holder" : e->task == waiter ? "waiter" : "-";
        char line[128] = "";
        switch (e->kind) {
        case AL_EV_TASK_SPAWN:
            snprintf(line, sizeof line, "spawn %s\n", ts_str(r, e->str));
            break;
        case AL_EV_POLL_BEGIN:
            snprintf(line, sizeof line, "poll %s\n", who);
            break;
        case AL_EV_POLL_END:
            snprintf(line, sizeof line, "end-poll %s %s\n", who,
                     e->a == AL_POLL_END_READY ? "ready" : "pending");
            break;
        case AL_EV_LOCK_ACQUIRE:
            snprintf(line, sizeof line, "acquire %s\n", who);
            break;
        case AL_EV_LOCK_CONTEND:
            snprintf(line, sizeof line, "contend %s held-by %s\n", who,
                     e->b == holder ? "holder" : "?");
            break;
        case AL_EV_LOCK_RELEASE:
            snprintf(line, sizeof line, "release %s\n", who);
            break;
        case AL_EV_WAKE:
            if (e->task == holder || e->task == waiter)
                snprintf(line, sizeof line, "wake %s by %s\n", who,
                         e->a == holder   ? "holder"
                         : e->a == waiter ? "waiter"
                                          : "-");
            break;
        case AL_EV_TASK_END:
            snprintf(line, sizeof line, "done %s\n", who);
            break;
        default:
            break;
        }
        size_t l = strlen(line);
        if (len + l < cap) {
            memcpy(out + len, line, l + 1);
            len += l;
        }
    }
    return len;
}

Test(stream, scripted_lock_contention_is_recorded_event_by_event, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_stream_t *st = start(rt, &rec, 0, 0);
    scene_t s = {0};
    tf_run(rt, &scene_vt, &s);
    al_stream_stop(st);

    cr_assert_eq(rec.headers, 1);
    cr_assert_eq(rec.ends, 1);
    cr_assert_eq(rec.header.version, AL_STREAM_VERSION);
    cr_assert(!rec.out_of_order);
    uint64_t holder = 0, waiter = 0, lock_id = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const al_trace_event_t *e = &rec.ev[i];
        if (e->kind == AL_EV_TASK_SPAWN && strcmp(ts_str(&rec, e->str), "holder") == 0)
            holder = e->task;
        if (e->kind == AL_EV_TASK_SPAWN && strcmp(ts_str(&rec, e->str), "waiter") == 0)
            waiter = e->task;
        if (e->kind == AL_EV_RESOURCE_CREATE && e->b == AL_RES_MUTEX) {
            cr_assert_str_eq(ts_str(&rec, e->str), "the-lock");
            lock_id = e->a;
        }
    }
    cr_assert(holder && waiter && lock_id);
    char got[2048];
    render(&rec, holder, waiter, got, sizeof got);
    const char *want = "spawn holder\n"
                       "spawn waiter\n"
                       "poll holder\n"
                       "acquire holder\n"
                       "wake holder by holder\n" /* the yield */
                       "end-poll holder pending\n"
                       "poll waiter\n"
                       "contend waiter held-by holder\n"
                       "end-poll waiter pending\n"
                       "poll holder\n"
                       "release holder\n"
                       "wake waiter by holder\n"
                       "end-poll holder ready\n"
                       "done holder\n"
                       "poll waiter\n"
                       "acquire waiter\n"
                       "release waiter\n"
                       "end-poll waiter ready\n"
                       "done waiter\n";
    cr_assert_str_eq(got, want, "recorded:\n%s", got);
    al_runtime_free(rt);
    ts_rec_free(&rec);
}

/* ---- the multi-thread runtime: a blocked worker, steals, parks ---- */

typedef struct {
    atomic_int *ran;
} victim_t;

static al_poll_t victim_poll(void *f, al_context_t *cx, void *out)
{
    victim_t *v = f;
    atomic_fetch_add(v->ran, 1);
    return AL_READY;
}
static const al_future_vtable_t victim_vt = {
    .type_name = "victim", .poll = victim_poll, .future_size = sizeof(victim_t)};

typedef struct {
    atomic_int *ran;
    int spawn;
} blocker_t;

static al_poll_t blocker_poll(void *f, al_context_t *cx, void *out)
{
    blocker_t *b = f;
    for (int i = 0; i < b->spawn; i++) {
        victim_t v = {b->ran};
        al_spawn(NULL, &victim_vt, &v, NULL, NULL);
    }
    /* Lesson A1: the OS thread sleeps until the sibling stole the queue. */
    for (int waited = 0; atomic_load(b->ran) < b->spawn - 1 && waited < 5000; waited++)
        al_thread_sleep_ns(1000000);
    return AL_READY;
}
static const al_future_vtable_t blocker_vt = {
    .type_name = "blocker", .poll = blocker_poll, .future_size = sizeof(blocker_t)};

Test(stream, blocked_worker_steals_and_parks_are_recorded, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    ts_rec_t rec;
    ts_rec_init(&rec);
    start(rt, &rec, 0, 0);
    al_worker_metrics_t m0, m1;
    al_runtime_worker_metrics(rt, 0, &m0);
    al_runtime_worker_metrics(rt, 1, &m1);
    uint64_t parked_before = m0.park_count + m1.park_count;
    atomic_int ran = 0;
    blocker_t b = {&ran, 40};
    al_join_t *h;
    al_spawn_opts_t o = {.name = "blocker"};
    cr_assert_eq(al_spawn(rt, &blocker_vt, &b, &o, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    /* Wait until a worker has parked since recording began (they do once
     * idle), so a PARK is surely in the stream. */
    do {
        sched_yield();
        al_runtime_worker_metrics(rt, 0, &m0);
        al_runtime_worker_metrics(rt, 1, &m1);
    } while (m0.park_count + m1.park_count == parked_before);
    al_runtime_free(rt); /* stops the stream: shutdown events included */
    cr_assert_eq(rec.ends, 1);
    cr_assert(!rec.out_of_order);

    /* Find the block span of the blocker and who it blocked. */
    uint64_t blocker = 0;
    int16_t blocked_worker = -2;
    size_t begin = 0, end = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const al_trace_event_t *e = &rec.ev[i];
        if (e->kind == AL_EV_TASK_SPAWN && strcmp(ts_str(&rec, e->str), "blocker") == 0)
            blocker = e->task;
        if (e->kind == AL_EV_BLOCK_BEGIN && e->task == blocker && !begin) {
            cr_assert_eq(e->a, AL_BLOCK_THREAD_SLEEP);
            blocked_worker = e->worker;
            begin = i;
        }
        if (e->kind == AL_EV_BLOCK_END && e->task == blocker)
            end = i;
    }
    cr_assert(blocker && begin && end > begin);
    cr_assert(blocked_worker == 0 || blocked_worker == 1);
    /* While blocked: the other worker stole from it and polled victims. */
    /* The victims are the tasks the blocker spawned (their parent). Every
     * stealable one (all but the LIFO slot's) ran on the other worker before
     * the blocker woke for the last time. */
    size_t steals = 0, run_while_blocked = 0;
    uint64_t victims[64];
    size_t nv = 0;
    for (size_t i = 0; i < end; i++) {
        const al_trace_event_t *e = &rec.ev[i];
        if (e->kind == AL_EV_TASK_SPAWN && e->a == blocker && nv < 64)
            victims[nv++] = e->task;
        if (e->kind == AL_EV_STEAL && e->a == (uint64_t)blocked_worker) {
            cr_assert_neq(e->worker, blocked_worker);
            cr_assert_gt(e->b, 0);
            steals++;
        }
        if (e->kind == AL_EV_POLL_BEGIN && e->worker != blocked_worker)
            for (size_t v = 0; v < nv; v++)
                run_while_blocked += victims[v] == e->task;
    }
    cr_assert_eq(nv, 40);
    cr_assert_gt(steals, 0, "no steal from the blocked worker was recorded");
    cr_assert_geq(run_while_blocked, 39u, "only %zu polls on the other worker while blocked",
                  run_while_blocked);
    /* Every poll begins and ends on the same thread; parks are paired. */
    int open_poll[256] = {0}, parked[256] = {0};
    size_t parks = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const al_trace_event_t *e = &rec.ev[i];
        cr_assert_lt(e->thread, rec.num_threads);
        if (e->kind == AL_EV_POLL_BEGIN)
            cr_assert_eq(open_poll[e->thread]++, 0, "nested poll on thread %u", e->thread);
        if (e->kind == AL_EV_POLL_END)
            cr_assert_eq(--open_poll[e->thread], 0);
        /* 0: not seen yet (it may have parked before recording began). */
        if (e->kind == AL_EV_PARK) {
            cr_assert_neq(parked[e->thread], 1, "parked twice on thread %u", e->thread);
            parked[e->thread] = 1;
            parks++;
        }
        if (e->kind == AL_EV_UNPARK) {
            cr_assert_neq(parked[e->thread], 2, "unparked twice on thread %u", e->thread);
            parked[e->thread] = 2;
        }
    }
    cr_assert_gt(parks, 0);
    /* The threads are named and typed. */
    int workers = 0;
    for (uint32_t t = 0; t < rec.num_threads; t++)
        workers += rec.thread_kinds[t] == AL_THREAD_WORKER;
    cr_assert_eq(workers, 2);
    ts_rec_free(&rec);
}

/* ---- drops: a ring nobody drains loses events, and says how many ---- */

Test(stream, a_full_ring_drops_and_counts, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    ts_rec_t rec;
    ts_rec_init(&rec);
    /* 64 slots, and a collector that sleeps for 100 s: only flush drains. */
    al_stream_t *st = start(rt, &rec, 64, 100000000);
    atomic_int done = 0;
    tf_yielder_t y = {.left = 200, .done = &done};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &tf_yielder_vt, &y, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    al_stream_stats_t s;
    al_stream_stats(st, &s);
    cr_assert_eq(s.threads, 1, "%u threads; the second: %s", s.threads,
                 rec.num_threads > 1 ? rec.thread_names[1] : "?");
    cr_assert_eq(s.recorded, 64, "the ring holds 64 events");
    cr_assert_gt(s.dropped, 0);
    al_stream_flush(st);
    cr_assert_eq(rec.n, 64);
    cr_assert_eq(rec.drops[0], s.dropped);
    al_stream_stop(st);
    al_runtime_free(rt);
    ts_rec_free(&rec);
}

/* ---- a late subscriber and a restart ---- */

Test(stream, late_subscriber_and_restart, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    ts_rec_t early, late;
    ts_rec_init(&early);
    ts_rec_init(&late);
    al_stream_t *st = start(rt, &early, 0, 0);
    scene_t s = {0};
    tf_run(rt, &scene_vt, &s);
    al_stream_flush(st);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), &late), 0);
    cr_assert_eq(late.headers, 1);
    cr_assert_eq(late.num_strings, early.num_strings, "the string table is replayed");
    cr_assert_eq(late.num_threads, early.num_threads);
    cr_assert_eq(late.n, 0, "no old events");
    al_stream_stop(st);
    cr_assert_eq(late.ends, 1);

    /* Starting again reuses the stream; a hook of our own is refused meanwhile. */
    al_stream_t *again = NULL;
    cr_assert_eq(al_stream_start(rt, NULL, &again), 0);
    cr_assert_eq(again, st);
    cr_assert_eq(al_stream_start(rt, NULL, &again), AL_EBUSY);
    ts_rec_t third;
    ts_rec_init(&third);
    cr_assert_eq(al_stream_subscribe(again, ts_rec_vt(), &third), 0);
    scene_t s2 = {0};
    tf_run(rt, &scene_vt, &s2);
    al_stream_stop(again);
    size_t spawns = 0;
    for (size_t i = 0; i < third.n; i++)
        spawns += third.ev[i].kind == AL_EV_TASK_SPAWN;
    cr_assert_eq(spawns, 2);
    al_runtime_free(rt);
    ts_rec_free(&early);
    ts_rec_free(&late);
    ts_rec_free(&third);
}

Test(stream, unsubscribed_consumer_hears_nothing_more, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    ts_rec_t stays, leaves;
    ts_rec_init(&stays);
    ts_rec_init(&leaves);
    al_stream_t *st = start(rt, &stays, 0, 0);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), &leaves), 0);
    scene_t s = {0};
    tf_run(rt, &scene_vt, &s);
    al_stream_flush(st);
    size_t before = leaves.n;
    cr_assert_gt(before, 0);
    cr_assert_eq(al_stream_unsubscribe(st, ts_rec_vt(), &leaves), 0);
    cr_assert_eq(al_stream_unsubscribe(st, ts_rec_vt(), &leaves), AL_EINVAL, "twice");
    scene_t s2 = {0};
    tf_run(rt, &scene_vt, &s2);
    al_stream_stop(st);
    cr_assert_eq(leaves.n, before, "events after unsubscribing");
    cr_assert_eq(leaves.ends, 0, "no on_end after unsubscribing");
    cr_assert_gt(stays.n, before, "the other consumer still hears everything");
    cr_assert_eq(stays.ends, 1);
    al_runtime_free(rt);
    ts_rec_free(&stays);
    ts_rec_free(&leaves);
}

Test(stream, bad_arguments)
{
    al_stream_t *st = NULL;
    cr_assert_eq(al_stream_start(NULL, NULL, &st), AL_EINVAL);
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    al_stream_config_t bad = {.ring_events = 1000}; /* not a power of two */
    cr_assert_eq(al_stream_start(rt, &bad, &st), AL_EINVAL);
    cr_assert_eq(al_stream_subscribe(NULL, ts_rec_vt(), NULL), AL_EINVAL);
    al_stream_flush(NULL);
    al_stream_stop(NULL);
    al_runtime_free(rt);
}

/* ---- stress: many threads, every event delivered once, in order ---- */

static atomic_int stress_ran; /* not on a spawner's stack: it exits first */

static void *remote_spawner(void *arg)
{
    al_runtime_t *rt = arg;
    for (int i = 0; i < (int)al_test_scale(20000); i++) {
        victim_t v = {&stress_ran};
        al_spawn(rt, &victim_vt, &v, NULL, NULL);
    }
    return NULL;
}

Test(stream, stress_many_threads_ordered_and_complete, .timeout = 120)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    ts_rec_t rec;
    ts_rec_init(&rec);
    /* Rings big enough for every event a thread emits here (non-worker
     * threads get an eighth), so the count of drops must be zero. */
    uint32_t ring = 1024;
    while (ring < 8 * 4 * (uint32_t)al_test_scale(20000))
        ring *= 2;
    start(rt, &rec, ring, 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, remote_spawner, rt);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    al_runtime_free(rt);
    cr_assert(!rec.out_of_order);
    size_t spawns = 0, ends = 0;
    for (size_t i = 0; i < rec.n; i++) {
        spawns += rec.ev[i].kind == AL_EV_TASK_SPAWN;
        ends += rec.ev[i].kind == AL_EV_TASK_END;
    }
    size_t want = 4 * (size_t)al_test_scale(20000);
    uint64_t drops = 0;
    for (int t = 0; t < 256; t++)
        drops += rec.drops[t];
    cr_assert_eq(drops, 0);
    cr_assert_eq(spawns, want);
    cr_assert_eq(ends, want, "every task ended (ran or was cancelled)");
    ts_rec_free(&rec);
}

/* ---- annotations: logs, spans and lints go through the same stream ---- */

static al_poll_t annotated_poll(void *f, al_context_t *cx, void *out)
{
    uint64_t span = al_trace_span_begin(NULL, "load config");
    al_trace_log(NULL, "hello from a task");
    al_trace_span_end(NULL, span);
    al_trace_lint(NULL, 0, 7, "a finding");
    al_trace_caption(NULL, "look at worker 0");
    al_trace_highlight(NULL, AL_HIGHLIGHT_WORKER, 0);
    al_trace_highlight(NULL, AL_HIGHLIGHT_NONE, 99);
    al_trace_marker(NULL, "after the lint");
    al_trace_caption(NULL, "");
    return AL_READY;
}
static const al_future_vtable_t annotated_vt = {.type_name = "annotated", .poll = annotated_poll};

Test(stream, annotations_are_recorded, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    /* Nothing records yet: annotations are no-ops, spans get id 0. */
    cr_assert_eq(al_trace_span_begin(rt, "unrecorded"), 0);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_stream_t *st = start(rt, &rec, 0, 0);
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &annotated_vt, NULL, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    al_stream_stop(st);
    uint64_t task = 0, span = 0;
    int seen = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const al_trace_event_t *e = &rec.ev[i];
        if (e->kind == AL_EV_TASK_SPAWN)
            task = e->task;
        if (e->kind == AL_EV_SPAN_BEGIN) {
            cr_assert_eq(e->task, task);
            cr_assert_str_eq(ts_str(&rec, e->str), "load config");
            span = e->a;
            seen |= 1;
        }
        if (e->kind == AL_EV_USER_LOG) {
            cr_assert_str_eq(ts_str(&rec, e->str), "hello from a task");
            cr_assert_eq(seen, 1, "the log is inside the span");
            seen |= 2;
        }
        if (e->kind == AL_EV_SPAN_END) {
            cr_assert_eq(e->a, span);
            seen |= 4;
        }
        if (e->kind == AL_EV_LINT) {
            cr_assert_eq(e->a, 7);
            cr_assert_str_eq(ts_str(&rec, e->str), "a finding");
            seen |= 8;
        }
        /* Lesson hooks: the text, what is highlighted, the marker's name;
         * an empty caption (clear) and a clear highlight carry nothing. */
        if (e->kind == AL_EV_CAPTION) {
            cr_assert_eq(e->task, task);
            if (seen & 16) {
                cr_assert_eq(e->str, 0, "an empty caption clears");
                seen |= 32;
            } else {
                cr_assert_str_eq(ts_str(&rec, e->str), "look at worker 0");
                seen |= 16;
            }
        }
        if (e->kind == AL_EV_HIGHLIGHT) {
            if (e->a == AL_HIGHLIGHT_WORKER) {
                cr_assert_eq(e->b, 0);
                seen |= 64;
            } else {
                cr_assert_eq(e->a, AL_HIGHLIGHT_NONE);
                cr_assert_eq(e->b, 0, "a clear has no id");
                seen |= 128;
            }
        }
        if (e->kind == AL_EV_MARKER) {
            cr_assert_str_eq(ts_str(&rec, e->str), "after the lint");
            seen |= 256;
        }
    }
    cr_assert_eq(seen, 511);
    al_runtime_free(rt);
    ts_rec_free(&rec);
}
