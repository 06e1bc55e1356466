/*
 * bench_yield.c — yield_many: 200 tasks spawned from outside, each yields
 * 1,000 times; ops = 200,000 yields.
 */
#include <stdatomic.h>

#include "bench.h"

typedef struct {
    int left;
    al_yield_t y;
    bench_signal_t *done;
} yielder_t;

static al_poll_t yielder_poll(void *f, al_context_t *cx, void *out)
{
    yielder_t *y = f;
    while (y->left > 0) {
        if (al_yield_poll(&y->y, cx) == AL_PENDING)
            return AL_PENDING;
        y->y = AL_YIELD_INIT;
        y->left--;
    }
    bench_signal_post(y->done);
    return AL_READY;
}
static const al_future_vtable_t yielder_vt = {
    .type_name = "yielder", .poll = yielder_poll, .future_size = sizeof(yielder_t)};

enum { TASKS = 200, NUM_YIELD = 1000 };

typedef struct {
    al_runtime_t *rt;
    bench_signal_t *done;
} ctx_t;

static void iter(void *p)
{
    ctx_t *c = p;
    for (int i = 0; i < TASKS; i++) {
        yielder_t y = {NUM_YIELD, AL_YIELD_INIT, c->done};
        al_spawn(c->rt, &yielder_vt, &y, NULL, NULL);
    }
    for (int i = 0; i < TASKS; i++)
        bench_signal_wait(c->done);
}

void bench_yield_many(void)
{
    if (bench_wants("yield_many")) {
        ctx_t c = {bench_runtime(), bench_signal_new()};
        bench_run("yield_many", TASKS * NUM_YIELD, 3, 31, iter, &c);
        bench_signal_free(c.done);
        al_runtime_free(c.rt);
    }
    if (bench_wants("yield_many_recorded")) {
        ctx_t c = {bench_runtime(), bench_signal_new()};
        bench_recording_t rec;
        bench_record_start(c.rt, &rec);
        bench_run("yield_many_recorded", TASKS * NUM_YIELD, 3, 31, iter, &c);
        bench_record_report("yield_many_recorded", &rec);
        bench_signal_free(c.done);
        al_runtime_free(c.rt);
    }
    if (bench_wants("yield_many_traced")) { /* recorded to a trace file */
        ctx_t c = {bench_runtime(), bench_signal_new()};
        bench_recording_t rec;
        bench_record_start_file(c.rt, &rec);
        bench_run("yield_many_traced", TASKS * NUM_YIELD, 3, 31, iter, &c);
        bench_record_report("yield_many_traced", &rec);
        bench_signal_free(c.done);
        al_runtime_free(c.rt);
    }
}
