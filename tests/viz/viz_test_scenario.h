/*
 * viz_test_scenario.h — a real run to record and replay: the silent hang.
 *
 * A 2-worker runtime with timers. Tasks:
 *   heartbeat      an async sleep of 10 ms, 100 times
 *   db-writer      takes the async mutex "db" and holds it across a 1 s async sleep
 *   db-reader-1/2  wait for "db"
 *   backup         spawn_blocking: sleeps 600 ms on a blocking-pool thread
 *   sleeper-a/b    spawned 30 ms in from the block_on thread: each spawns
 *                  "reply-a"/"reply-b" (into its worker's LIFO slot) and two
 *                  "job" tasks, then calls al_thread_sleep_ns(sleep_ms) —
 *                  std::thread::sleep inside a task, pitfall A1. Both workers
 *                  end up blocked: nothing runs, the heartbeat's timer is due
 *                  and nobody fires it, the replies wait behind the sleeps.
 * The main future sleeps sleep_ms + 200 ms, then the runtime shuts down
 * (cancelling what is left).
 *
 * viz_scenario_record(path, sleep_ms) records the whole run to a trace file.
 */
#ifndef VIZ_TEST_SCENARIO_H
#define VIZ_TEST_SCENARIO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asynclab.h"

/* ---- small futures ---- */

typedef struct {
    al_sleep_t sleep;
    bool armed;
    int left;
    uint64_t period_ns;
} vs_beat_t;

static al_poll_t vs_beat_poll(void *f, al_context_t *cx, void *out)
{
    vs_beat_t *b = f;
    while (b->left > 0) {
        if (!b->armed) {
            al_sleep_init(&b->sleep, b->period_ns);
            b->armed = true;
        }
        if (al_sleep_poll(&b->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&b->sleep);
        b->armed = false;
        b->left--;
    }
    return AL_READY;
}

static void vs_beat_drop(void *f)
{
    vs_beat_t *b = f;
    if (b->armed)
        al_sleep_drop(&b->sleep);
}

static const al_future_vtable_t vs_beat_vt = {.type_name = "heartbeat",
                                              .poll = vs_beat_poll,
                                              .drop = vs_beat_drop,
                                              .future_size = sizeof(vs_beat_t)};

/* Lock the mutex, hold it across a sleep of hold_ns (0: no sleep), unlock. */
typedef struct {
    al_mutex_t *m;
    al_mutex_lock_t op;
    al_mutex_guard_t g;
    al_sleep_t sleep;
    int phase; /* 0 lock not started, 1 locking, 2 holding (sleep armed), 3 done */
    uint64_t hold_ns;
    bool counted;
} vs_locker_t;

/* Lockers queued behind the holder: the main future waits for both readers
 * before it blocks the workers (a condition, not a guessed delay). */
static atomic_int vs_db_waiting;

static al_poll_t vs_locker_poll(void *f, al_context_t *cx, void *out)
{
    vs_locker_t *l = f;
    if (l->phase == 0) {
        al_mutex_lock_init(&l->op, l->m);
        l->phase = 1;
    }
    if (l->phase == 1) {
        if (al_mutex_lock_poll(&l->op, cx, &l->g) == AL_PENDING) {
            if (!l->counted) {
                l->counted = true;
                atomic_fetch_add(&vs_db_waiting, 1);
            }
            return AL_PENDING;
        }
        al_mutex_lock_drop(&l->op);
        al_sleep_init(&l->sleep, l->hold_ns);
        l->phase = 2;
    }
    if (l->phase == 2) {
        if (l->hold_ns && al_sleep_poll(&l->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&l->sleep);
        al_mutex_guard_unlock(&l->g);
        l->phase = 3;
    }
    return AL_READY;
}

static void vs_locker_drop(void *f)
{
    vs_locker_t *l = f;
    if (l->phase == 1)
        al_mutex_lock_drop(&l->op);
    if (l->phase == 2) {
        al_sleep_drop(&l->sleep);
        al_mutex_guard_unlock(&l->g);
    }
    al_mutex_unref(l->m);
}

static const al_future_vtable_t vs_locker_vt = {.type_name = "locker",
                                                .poll = vs_locker_poll,
                                                .drop = vs_locker_drop,
                                                .future_size = sizeof(vs_locker_t)};

static al_poll_t vs_ready_poll(void *f, al_context_t *cx, void *out)
{
    return AL_READY;
}

static const al_future_vtable_t vs_ready_vt = {
    .type_name = "ready", .poll = vs_ready_poll, .future_size = sizeof(int)};

static void vs_spawn(const al_future_vtable_t *vt, const void *init, const char *name)
{
    al_spawn_opts_t o = {.name = name};
    al_join_t *h = NULL;
    if (al_spawn(NULL, vt, init, &o, &h) == 0)
        al_join_drop(h);
}

/* Spawns its reply and two jobs, then blocks its worker's thread. */
typedef struct {
    char reply[16];
    uint64_t sleep_ns;
} vs_sleeper_t;

static al_poll_t vs_sleeper_poll(void *f, al_context_t *cx, void *out)
{
    vs_sleeper_t *s = f;
    int zero = 0;
    vs_spawn(&vs_ready_vt, &zero, "job");
    vs_spawn(&vs_ready_vt, &zero, "job");
    vs_spawn(&vs_ready_vt, &zero, s->reply); /* last: it takes the LIFO slot */
    al_thread_sleep_ns(s->sleep_ns);         /* std::thread::sleep in a task */
    return AL_READY;
}

static const al_future_vtable_t vs_sleeper_vt = {
    .type_name = "sleeper", .poll = vs_sleeper_poll, .future_size = sizeof(vs_sleeper_t)};

static void *vs_backup(void *arg)
{
    al_thread_sleep_ns(600000000ull);
    return arg;
}

/* The main future, on the block_on thread. */
typedef struct {
    int phase;
    al_sleep_t sleep;
    uint64_t sleep_ns;
    al_mutex_t *db;
} vs_main_t;

static al_poll_t vs_main_poll(void *f, al_context_t *cx, void *out)
{
    vs_main_t *m = f;
    if (m->phase == 0) {
        al_mutex_new(NULL, "db", &m->db); /* inside the runtime: its events are recorded */
        vs_beat_t beat = {.left = 100, .period_ns = 10000000ull};
        vs_spawn(&vs_beat_vt, &beat, "heartbeat");
        vs_locker_t w = {.m = al_mutex_ref(m->db), .hold_ns = 1000000000ull};
        vs_spawn(&vs_locker_vt, &w, "db-writer");
        al_sleep_init(&m->sleep, 5000000ull);
        m->phase = 1;
    }
    if (m->phase == 1) { /* until the writer holds "db" (checked every ms) */
        if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&m->sleep);
        if (!al_mutex_is_locked(m->db)) {
            al_sleep_init(&m->sleep, 1000000ull);
            return vs_main_poll(f, cx, out);
        }
        vs_locker_t r = {.m = al_mutex_ref(m->db)};
        vs_spawn(&vs_locker_vt, &r, "db-reader-1");
        r.m = al_mutex_ref(m->db);
        vs_spawn(&vs_locker_vt, &r, "db-reader-2");
        al_spawn_opts_t o = {.name = "backup"};
        al_join_t *h = NULL;
        if (al_spawn_blocking(NULL, vs_backup, NULL, &o, &h) == 0)
            al_join_drop(h);
        al_sleep_init(&m->sleep, 25000000ull);
        m->phase = 2;
    }
    if (m->phase == 2) { /* until both readers wait behind the writer */
        if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&m->sleep);
        if (atomic_load(&vs_db_waiting) < 2) {
            al_sleep_init(&m->sleep, 1000000ull);
            return vs_main_poll(f, cx, out);
        }
        vs_sleeper_t a = {.reply = "reply-a", .sleep_ns = m->sleep_ns};
        vs_spawn(&vs_sleeper_vt, &a, "sleeper-a");
        vs_sleeper_t b = {.reply = "reply-b", .sleep_ns = m->sleep_ns};
        vs_spawn(&vs_sleeper_vt, &b, "sleeper-b");
        al_sleep_init(&m->sleep, m->sleep_ns + 200000000ull);
        m->phase = 3;
    }
    if (m->phase == 3) {
        if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&m->sleep);
        m->phase = 4;
    }
    return AL_READY;
}

static const al_future_vtable_t vs_main_vt = {
    .type_name = "main", .poll = vs_main_poll, .future_size = sizeof(vs_main_t)};

/* Run main_vt (its future initialised from main_init) to completion on a
 * recorded 2-worker runtime with timers, into the trace file path; the
 * runtime is shut down (its tasks cancelled) before the file is closed.
 * 0, or an error code (message on stderr). */
static inline int vs_record(const char *path, const al_future_vtable_t *main_vt, void *main_init)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 2;
    cfg.enable_time = true;
    al_runtime_t *rt;
    int rc = al_runtime_new(&cfg, &rt);
    if (rc != 0) {
        fprintf(stderr, "viz scenario: runtime: %s\n", al_strerror(rc));
        return rc;
    }
    al_stream_t *st = al_stream_of(rt);
    if (!st && (rc = al_stream_start(rt, NULL, &st)) != 0) {
        fprintf(stderr, "viz scenario: stream: %s\n", al_strerror(rc));
        al_runtime_free(rt);
        return rc;
    }
    al_tracefile_writer_t *w;
    if ((rc = al_tracefile_writer_open(path, &w)) != 0) {
        fprintf(stderr, "viz scenario: cannot write %s: %s\n", path, al_strerror(rc));
        al_runtime_free(rt);
        return rc;
    }
    al_stream_subscribe(st, &al_tracefile_writer_consumer, w);
    rc = al_runtime_block_on(rt, main_vt, main_init, NULL, NULL);
    al_runtime_shutdown(rt, 2000, NULL);
    al_stream_stop(st);
    int wrc = al_tracefile_writer_close(w);
    al_runtime_free(rt);
    if (rc == 0)
        rc = wrc;
    if (rc != 0)
        fprintf(stderr, "viz scenario: %s\n", al_strerror(rc));
    return rc;
}

/* Record the scenario into path. 0, or an error code (message on stderr). */
static inline int viz_scenario_record(const char *path, uint32_t sleep_ms)
{
    vs_main_t m = {.sleep_ns = (uint64_t)sleep_ms * 1000000ull};
    int rc = vs_record(path, &vs_main_vt, &m);
    al_mutex_unref(m.db);
    return rc;
}

#endif
