/*
 * viz_test_deadlock.h — two more real runs to record and replay, for the
 * visualizer's tests and the documentation's screenshots:
 *
 *   viz_deadlock_record(path)  a lock-order deadlock: "transfer" locks the
 *       async mutex "accounts", sleeps 20 ms, then locks "audit"; "report"
 *       locks "audit", sleeps 20 ms, then locks "accounts". Each holds what
 *       the other waits for: neither ever runs again. The main future waits
 *       until both wait (a condition, checked every ms), then 300 ms more,
 *       and the runtime shuts down (cancelling both).
 *   viz_steal_record(path)     a steal: on a 2-worker runtime, "spawner"
 *       spawns 24 "job" tasks onto its own worker's queue and then keeps
 *       that worker busy for 30 ms (a CPU loop inside the poll); the other
 *       worker wakes up and steals half of the queue.
 *
 * Uses the futures of viz_test_scenario.h (vs_locker_t and friends).
 */
#ifndef VIZ_TEST_DEADLOCK_H
#define VIZ_TEST_DEADLOCK_H

#include "viz_test_scenario.h"

/* Lock `first`, hold it across a sleep, then lock `second` (never got). */
typedef struct {
    al_mutex_t *first, *second;
    al_mutex_lock_t op;
    al_mutex_guard_t g1, g2;
    al_sleep_t sleep;
    int phase; /* 0 start, 1 locking first, 2 sleeping, 3 locking second, 4 done */
    bool counted;
} vd_pair_t;

static atomic_int vd_waiting;

static al_poll_t vd_pair_poll(void *f, al_context_t *cx, void *out)
{
    vd_pair_t *p = f;
    if (p->phase == 0) {
        al_mutex_lock_init(&p->op, p->first);
        p->phase = 1;
    }
    if (p->phase == 1) {
        if (al_mutex_lock_poll(&p->op, cx, &p->g1) == AL_PENDING)
            return AL_PENDING;
        al_mutex_lock_drop(&p->op);
        al_sleep_init(&p->sleep, 20000000ull);
        p->phase = 2;
    }
    if (p->phase == 2) {
        if (al_sleep_poll(&p->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&p->sleep);
        al_mutex_lock_init(&p->op, p->second);
        p->phase = 3;
    }
    if (p->phase == 3) {
        if (al_mutex_lock_poll(&p->op, cx, &p->g2) == AL_PENDING) {
            if (!p->counted) {
                p->counted = true;
                atomic_fetch_add(&vd_waiting, 1);
            }
            return AL_PENDING;
        }
        al_mutex_lock_drop(&p->op);
        al_mutex_guard_unlock(&p->g2);
        al_mutex_guard_unlock(&p->g1);
        p->phase = 4;
    }
    return AL_READY;
}

static void vd_pair_drop(void *f)
{
    vd_pair_t *p = f;
    if (p->phase == 1 || p->phase == 3)
        al_mutex_lock_drop(&p->op);
    if (p->phase == 2)
        al_sleep_drop(&p->sleep);
    if (p->phase == 2 || p->phase == 3)
        al_mutex_guard_unlock(&p->g1);
    al_mutex_unref(p->first);
    al_mutex_unref(p->second);
}

static const al_future_vtable_t vd_pair_vt = {.type_name = "lock-pair",
                                              .poll = vd_pair_poll,
                                              .drop = vd_pair_drop,
                                              .future_size = sizeof(vd_pair_t)};

typedef struct {
    int phase;
    al_sleep_t sleep;
    al_mutex_t *a, *b;
} vd_main_t;

static al_poll_t vd_main_poll(void *f, al_context_t *cx, void *out)
{
    vd_main_t *m = f;
    if (m->phase == 0) {
        al_mutex_new(NULL, "accounts", &m->a);
        al_mutex_new(NULL, "audit", &m->b);
        vd_pair_t t = {.first = al_mutex_ref(m->a), .second = al_mutex_ref(m->b)};
        vs_spawn(&vd_pair_vt, &t, "transfer");
        vd_pair_t r = {.first = al_mutex_ref(m->b), .second = al_mutex_ref(m->a)};
        vs_spawn(&vd_pair_vt, &r, "report");
        al_sleep_init(&m->sleep, 1000000ull);
        m->phase = 1;
    }
    while (m->phase == 1) { /* until both wait for their second lock */
        if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&m->sleep);
        if (atomic_load(&vd_waiting) < 2) {
            al_sleep_init(&m->sleep, 1000000ull);
            continue;
        }
        al_sleep_init(&m->sleep, 300000000ull);
        m->phase = 2;
    }
    if (m->phase == 2) {
        if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
            return AL_PENDING;
        al_sleep_drop(&m->sleep);
        m->phase = 3;
    }
    return AL_READY;
}

static const al_future_vtable_t vd_main_vt = {
    .type_name = "main", .poll = vd_main_poll, .future_size = sizeof(vd_main_t)};

/* ---- the steal ---- */

static uint64_t vd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A CPU loop of `ns` inside the poll (not a blocking call: the worker is
 * busy, as with a long computation). */
static void vd_spin(uint64_t ns)
{
    uint64_t end = vd_now_ns() + ns;
    while (vd_now_ns() < end) {
    }
}

static al_poll_t vd_job_poll(void *f, al_context_t *cx, void *out)
{
    vd_spin(300000ull);
    return AL_READY;
}

static const al_future_vtable_t vd_job_vt = {
    .type_name = "job", .poll = vd_job_poll, .future_size = sizeof(int)};

static al_poll_t vd_spawner_poll(void *f, al_context_t *cx, void *out)
{
    int zero = 0;
    for (int i = 0; i < 24; i++)
        vs_spawn(&vd_job_vt, &zero, "job");
    vd_spin(30000000ull);
    return AL_READY;
}

static const al_future_vtable_t vd_spawner_vt = {
    .type_name = "spawner", .poll = vd_spawner_poll, .future_size = sizeof(int)};

typedef struct {
    int phase;
    al_sleep_t sleep;
} vd_steal_main_t;

static al_poll_t vd_steal_main_poll(void *f, al_context_t *cx, void *out)
{
    vd_steal_main_t *m = f;
    if (m->phase == 0) {
        int zero = 0;
        vs_spawn(&vd_spawner_vt, &zero, "spawner");
        al_sleep_init(&m->sleep, 80000000ull);
        m->phase = 1;
    }
    if (al_sleep_poll(&m->sleep, cx) == AL_PENDING)
        return AL_PENDING;
    al_sleep_drop(&m->sleep);
    return AL_READY;
}

static const al_future_vtable_t vd_steal_main_vt = {
    .type_name = "main", .poll = vd_steal_main_poll, .future_size = sizeof(vd_steal_main_t)};

static inline int viz_deadlock_record(const char *path)
{
    vd_main_t m = {0};
    atomic_store(&vd_waiting, 0);
    int rc = vs_record(path, &vd_main_vt, &m);
    al_mutex_unref(m.a);
    al_mutex_unref(m.b);
    return rc;
}

static inline int viz_steal_record(const char *path)
{
    vd_steal_main_t m = {0};
    return vs_record(path, &vd_steal_main_vt, &m);
}

#endif
