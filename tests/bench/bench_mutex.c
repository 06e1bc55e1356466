/*
 * bench_mutex.c — mutex_8x100k: 8 tasks each lock / increment / unlock one
 * async Mutex 100,000 times; ops = 800,000 lock/unlock pairs. Like Tokio's,
 * our mutex is fair (FIFO hand-over), so every contended unlock wakes a task.
 */
#include <stdio.h>
#include <stdlib.h>

#include "al_mutex.h"
#include "bench.h"

enum { TASKS = 8, ITERS = 100000 };

typedef struct {
    al_mutex_t *m;
    int left;
    bool locking;
    al_mutex_lock_t op;
} locker_t;

static al_poll_t locker_poll(void *f, al_context_t *cx, void *out)
{
    locker_t *l = f;
    while (l->left > 0) {
        if (!l->locking) {
            al_mutex_lock_init(&l->op, l->m);
            l->locking = true;
        }
        al_mutex_guard_t g;
        if (al_mutex_lock_poll(&l->op, cx, &g) == AL_PENDING)
            return AL_PENDING;
        uint64_t *v = *al_mutex_guard_value(&g);
        (*v)++;
        al_mutex_guard_unlock(&g);
        al_mutex_lock_drop(&l->op);
        l->locking = false;
        l->left--;
    }
    return AL_READY;
}
static void locker_drop(void *f)
{
    locker_t *l = f;
    if (l->locking)
        al_mutex_lock_drop(&l->op);
}
static const al_future_vtable_t locker_vt = {.type_name = "locker",
                                             .poll = locker_poll,
                                             .drop = locker_drop,
                                             .future_size = sizeof(locker_t)};

typedef struct {
    al_join_t *h[TASKS];
    int next;
    uint64_t value;
    al_mutex_t *m;
    bool spawned;
} main_t;

static al_poll_t main_poll(void *f, al_context_t *cx, void *out)
{
    main_t *m = f;
    if (!m->spawned) {
        for (int i = 0; i < TASKS; i++) {
            locker_t l = {.m = m->m, .left = ITERS};
            al_spawn(NULL, &locker_vt, &l, NULL, &m->h[i]);
        }
        m->spawned = true;
    }
    while (m->next < TASKS) {
        al_join_result_t res;
        if (al_join_poll(m->h[m->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        al_join_drop(m->h[m->next++]);
    }
    return AL_READY;
}
static const al_future_vtable_t main_vt = {.poll = main_poll, .future_size = sizeof(main_t)};

static void iter(void *p)
{
    al_runtime_t *rt = p;
    main_t m = {0};
    al_mutex_new(&m.value, "bench", &m.m);
    bench_block_on(rt, &main_vt, &m);
    if (m.value != (uint64_t)TASKS * ITERS) {
        fprintf(stderr, "bench: mutex count %llu, want %d\n", (unsigned long long)m.value,
                TASKS * ITERS);
        exit(1);
    }
    al_mutex_unref(m.m);
}

void bench_mutex(void)
{
    if (!bench_wants("mutex_8x100k"))
        return;
    al_runtime_t *rt = bench_runtime();
    bench_run("mutex_8x100k", (uint64_t)TASKS * ITERS, 2, 11, iter, rt);
    al_runtime_free(rt);
}
