/*
 * bench_timers.c — timers_sleep_1ms (the peer suite's extra row): a task
 * spawns N tasks that each sleep 1 ms, then awaits them all. ops = timers.
 * The floor is the 1 ms sleep itself; the row measures what registering,
 * firing and waking N timers adds on top.
 */
#include <stdlib.h>

#include "bench.h"

enum { N = 100000 };

typedef struct {
    al_sleep_t sleep;
    bool armed;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *s = f;
    if (!s->armed) {
        if (al_sleep_init(&s->sleep, 1000000) != 0)
            abort();
        s->armed = true;
    }
    return al_sleep_poll(&s->sleep, cx);
}
static void sleeper_drop(void *f)
{
    sleeper_t *s = f;
    if (s->armed)
        al_sleep_drop(&s->sleep);
}
static const al_future_vtable_t sleeper_vt = {.type_name = "sleeper",
                                              .poll = sleeper_poll,
                                              .drop = sleeper_drop,
                                              .future_size = sizeof(sleeper_t)};

typedef struct {
    al_join_t **h;
    size_t next;
    bool spawned;
} parent_t;

static al_poll_t parent_poll(void *f, al_context_t *cx, void *out)
{
    parent_t *p = f;
    if (!p->spawned) {
        for (size_t i = 0; i < N; i++) {
            sleeper_t s = {.armed = false};
            if (al_spawn(NULL, &sleeper_vt, &s, NULL, &p->h[i]) != 0)
                abort();
        }
        p->spawned = true;
    }
    while (p->next < N) {
        al_join_result_t res;
        if (al_join_poll(p->h[p->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        al_join_drop(p->h[p->next++]);
    }
    return AL_READY;
}
static const al_future_vtable_t parent_vt = {
    .type_name = "timer_parent", .poll = parent_poll, .future_size = sizeof(parent_t)};

/* block_on body: spawn the parent and await it (as upstream's block_on). */
typedef struct {
    al_join_t **h;
    al_join_t *parent;
} main_t;

static al_poll_t main_poll(void *f, al_context_t *cx, void *out)
{
    main_t *m = f;
    if (!m->parent) {
        parent_t p = {.h = m->h};
        if (al_spawn(NULL, &parent_vt, &p, NULL, &m->parent) != 0)
            abort();
    }
    al_join_result_t res;
    if (al_join_poll(m->parent, cx, NULL, &res) == AL_PENDING)
        return AL_PENDING;
    al_join_drop(m->parent);
    return AL_READY;
}
static const al_future_vtable_t main_vt = {.poll = main_poll, .future_size = sizeof(main_t)};

typedef struct {
    al_runtime_t *rt;
    al_join_t **h;
} timers_ctx_t;

static void iter(void *p)
{
    timers_ctx_t *c = p;
    main_t m = {.h = c->h};
    bench_block_on(c->rt, &main_vt, &m);
}

void bench_timers(void)
{
    if (!bench_wants("timers_sleep_1ms"))
        return;
    timers_ctx_t c = {bench_runtime(), malloc(N * sizeof(al_join_t *))};
    bench_run("timers_sleep_1ms", N, 2, 21, iter, &c);
    free(c.h);
    al_runtime_free(c.rt);
}
