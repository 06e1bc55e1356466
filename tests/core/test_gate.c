/*
 * test_gate.c — the step gate (al_runtime.h): with it on, exactly one poll
 * happens per step, on either scheduler; turning it off releases everyone;
 * shutdown while workers wait at the gate does not hang.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "al_test.h"
#include "al_test_futures.h"

#define GATE_TIMEOUT_MS 10000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait (with a deadline) until *n reaches want. */
static void wait_count(atomic_int *n, int want)
{
    uint64_t deadline = mono_ms() + GATE_TIMEOUT_MS;
    while (atomic_load(n) < want) {
        cr_assert_lt(mono_ms(), deadline, "count stayed at %d, wanted %d", atomic_load(n), want);
        sched_yield();
    }
}

static al_join_t **spawn_counters(al_runtime_t *rt, atomic_int *count, size_t n)
{
    al_join_t **h = calloc(n, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        tf_counter_t c = {count, 0, NULL};
        cr_assert_eq(al_spawn(rt, &tf_counter_vt, &c, NULL, &h[i]), 0);
    }
    return h;
}

/* Step `steps` times; after each, exactly one more poll happened. */
static void step_and_count(al_runtime_t *rt, atomic_int *count, int steps)
{
    cr_assert(al_runtime_gate_wait(rt, 1, GATE_TIMEOUT_MS), "no worker reached the gate");
    cr_assert_eq(atomic_load(count), 0, "a task ran through the closed gate");
    for (int i = 1; i <= steps; i++) {
        cr_assert_eq(al_runtime_gate_step(rt, 1), 0);
        wait_count(count, i);
        cr_assert(al_runtime_gate_wait(rt, 1, GATE_TIMEOUT_MS), "step %d: nobody back at gate", i);
        al_gate_state_t st;
        al_runtime_gate_state(rt, &st);
        cr_assert(st.on);
        cr_assert_eq(st.passed, (uint64_t)i, "step %d: %llu polls passed", i,
                     (unsigned long long)st.passed);
        cr_assert_eq(atomic_load(count), i, "step %d ran %d polls", i, atomic_load(count));
    }
}

static void join_all(al_runtime_t *rt, al_join_t **h, size_t n)
{
    tf_join_all_t j = {.handles = h, .n = n};
    tf_run(rt, &tf_join_all_vt, &j);
    cr_assert_eq(j.ok, n);
    free(h);
}

Test(gate, off_by_default_costs_nothing_visible)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_gate_state_t st;
    al_runtime_gate_state(rt, &st);
    cr_assert(!st.on);
    cr_assert_eq(al_runtime_gate_step(rt, 1), AL_EINVAL, "a step needs the gate on");
    atomic_int count = 0;
    join_all(rt, spawn_counters(rt, &count, 20), 20);
    cr_assert_eq(atomic_load(&count), 20);
    al_runtime_gate_state(rt, &st);
    cr_assert_eq(st.passed, 0);
    al_runtime_free(rt);
}

Test(gate, one_poll_per_step_one_worker)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 1);
    cr_assert_eq(al_runtime_set_gate(rt, true), 0);
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 10);
    step_and_count(rt, &count, 5);
    cr_assert_eq(al_runtime_set_gate(rt, false), 0); /* releases the worker */
    join_all(rt, h, 10);
    cr_assert_eq(atomic_load(&count), 10);
    al_runtime_free(rt);
}

Test(gate, one_poll_per_step_four_workers)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 4);
    cr_assert_eq(al_runtime_set_gate(rt, true), 0);
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 40);
    step_and_count(rt, &count, 12);
    /* A batch of steps: exactly that many more polls. */
    cr_assert_eq(al_runtime_gate_step(rt, 5), 0);
    wait_count(&count, 17);
    cr_assert(al_runtime_gate_wait(rt, 1, GATE_TIMEOUT_MS));
    cr_assert_eq(atomic_load(&count), 17);
    cr_assert_eq(al_runtime_set_gate(rt, false), 0);
    join_all(rt, h, 40);
    al_runtime_free(rt);
}

typedef struct {
    al_runtime_t *rt;
    al_join_t **h;
    size_t n;
    size_t ok;
} ct_driver_t;

static void *ct_drive(void *arg)
{
    ct_driver_t *d = arg;
    tf_join_all_t j = {.handles = d->h, .n = d->n};
    if (al_runtime_block_on(d->rt, &tf_join_all_vt, &j, NULL, NULL) == 0)
        d->ok = j.ok;
    return NULL;
}

Test(gate, current_thread_runtime_is_gated_too)
{
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    cr_assert_eq(al_runtime_set_gate(rt, true), 0);
    atomic_int count = 0;
    ct_driver_t d = {rt, spawn_counters(rt, &count, 6), 6, 0};
    pthread_t th;
    pthread_create(&th, NULL, ct_drive, &d); /* block_on drives the tasks there */
    step_and_count(rt, &count, 3);
    cr_assert_eq(al_runtime_set_gate(rt, false), 0);
    pthread_join(th, NULL);
    cr_assert_eq(d.ok, 6);
    cr_assert_eq(atomic_load(&count), 6);
    free(d.h);
    al_runtime_free(rt);
}

Test(gate, shutdown_while_gated_does_not_hang)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    cr_assert_eq(al_runtime_set_gate(rt, true), 0);
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 8);
    cr_assert(al_runtime_gate_wait(rt, 1, GATE_TIMEOUT_MS));
    al_shutdown_report_t rep;
    cr_assert_eq(al_runtime_shutdown(rt, GATE_TIMEOUT_MS, &rep), 0);
    cr_assert(!rep.timed_out, "a gated worker kept shutdown waiting");
    cr_assert_eq(al_runtime_set_gate(rt, true), AL_ESHUTDOWN);
    cr_assert(!al_runtime_gate_wait(rt, 1, 10), "the gate is off for good after shutdown");
    for (size_t i = 0; i < 8; i++)
        al_join_drop(h[i]);
    free(h);
    al_runtime_free(rt);
}
