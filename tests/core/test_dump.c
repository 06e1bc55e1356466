/*
 * test_dump.c — SIGQUIT prints a dump, even while every worker is blocked in
 * a std-style sleep (the dump runs on a watcher thread, not a worker).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

#include "al_test.h"
#include "al_test_futures.h"

typedef struct {
    atomic_int *entered;
    atomic_bool *release;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *s = f;
    atomic_fetch_add(s->entered, 1);
    /* std.thread.sleep in a loop: this worker is blocked until released. */
    for (int i = 0; i < 10000 && !atomic_load(s->release); i++)
        al_thread_sleep_ns(1000000);
    return AL_READY;
}
static const al_future_vtable_t sleeper_vt = {
    .type_name = "sleeper", .poll = sleeper_poll, .future_size = sizeof(sleeper_t)};

static void metrics_dump(void *ctx, FILE *out)
{
    al_runtime_t *rt = ctx;
    al_runtime_metrics_t m;
    al_runtime_metrics(rt, &m);
    fprintf(out, "alive tasks: %llu\n", (unsigned long long)m.num_alive_tasks);
}

Test(dump, sigquit_dumps_while_every_worker_is_blocked, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    atomic_int entered = 0;
    atomic_bool release = false;
    al_join_t *h[2];
    for (int i = 0; i < 2; i++) {
        sleeper_t s = {&entered, &release};
        cr_assert_eq(al_spawn(rt, &sleeper_vt, &s, NULL, &h[i]), 0);
    }
    while (atomic_load(&entered) < 2) /* both workers are now in a blocking sleep */
        sched_yield();

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(al_dump_on_sigquit(metrics_dump, rt, out), 0);
    unsigned long before = al_dump_count();
    raise(SIGQUIT);
    while (al_dump_count() == before)
        sched_yield();
    al_dump_on_sigquit_remove();
    fclose(out);
    cr_assert(strstr(text, "asynclab task dump"), "%s", text);
    cr_assert(strstr(text, "alive tasks: 2"), "%s", text);
    free(text);

    /* SIGQUIT is back to its previous disposition; release the sleepers. */
    atomic_store(&release, true);
    tf_join_all_t j = {.handles = h, .n = 2};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt);
}

Test(dump, bad_arguments)
{
    cr_assert_eq(al_dump_on_sigquit(NULL, NULL, stderr), AL_EINVAL);
    cr_assert_eq(al_dump_on_sigquit(metrics_dump, NULL, NULL), AL_EINVAL);
    al_dump_on_sigquit_remove(); /* nothing installed: harmless */
}

static void count_action(void *ctx, FILE *out)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

static void raise_and_wait(void)
{
    unsigned long before = al_dump_count();
    raise(SIGQUIT);
    while (al_dump_count() == before)
        sched_yield();
}

/* Actions run on every SIGQUIT, with or without a dump installed; the
 * handler stays while either remains and goes with the last one. */
Test(dump, actions_run_on_sigquit_until_removed, .timeout = 60)
{
    struct sigaction original, now;
    sigaction(SIGQUIT, NULL, &original);
    atomic_int ran_a = 0, ran_b = 0;
    al_dump_action_t *a, *b;
    cr_assert_eq(al_dump_action_add(count_action, &ran_a, &a), 0);
    cr_assert_eq(al_dump_action_add(count_action, &ran_b, &b), 0);
    raise_and_wait();
    cr_assert_eq(atomic_load(&ran_a), 1);
    cr_assert_eq(atomic_load(&ran_b), 1);

    al_dump_action_remove(a);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(al_dump_on_sigquit(metrics_dump, NULL, out), 0);
    al_dump_on_sigquit_remove(); /* the dump goes; action b keeps the handler */
    raise_and_wait();
    cr_assert_eq(atomic_load(&ran_a), 1);
    cr_assert_eq(atomic_load(&ran_b), 2);
    fclose(out);
    cr_assert_eq(len, 0, "the removed dump printed: %s", text);
    free(text);

    al_dump_action_remove(b);
    sigaction(SIGQUIT, NULL, &now);
    cr_assert(now.sa_handler == original.sa_handler, "the previous disposition is back");
    cr_assert_eq(al_dump_action_add(NULL, NULL, &a), AL_EINVAL);
    al_dump_action_remove(NULL);
}

/* The real dump: the console model, fed by the stream's collector thread,
 * printed by the SIGQUIT watcher while both workers sit in one long
 * std-style sleep each. */
typedef struct {
    atomic_int *entered;
} long_sleeper_t;

static al_poll_t long_sleeper_poll(void *f, al_context_t *cx, void *out)
{
    long_sleeper_t *s = f;
    atomic_fetch_add(s->entered, 1);
    al_thread_sleep_ns(1500000000ull); /* std.thread.sleep(1.5 s) */
    return AL_READY;
}
static const al_future_vtable_t long_sleeper_vt = {
    .type_name = "long_sleeper", .poll = long_sleeper_poll, .future_size = sizeof(long_sleeper_t)};

Test(dump, sigquit_prints_the_console_dump_while_both_workers_sleep, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_console_t *console;
    cr_assert_eq(al_console_attach(rt, &console), 0);
    atomic_int entered = 0;
    al_join_t *h[2];
    const char *names[2] = {"sleeper-a", "sleeper-b"};
    for (int i = 0; i < 2; i++) {
        long_sleeper_t s = {&entered};
        al_spawn_opts_t o = {.name = names[i]};
        cr_assert_eq(al_spawn(rt, &long_sleeper_vt, &s, &o, &h[i]), 0);
    }
    /* Wait until the model has seen both workers block (the collector
     * delivers within a few ms). */
    bool both_blocked = false;
    while (!both_blocked) {
        al_console_snapshot_t *s = al_console_snapshot(console, 0);
        both_blocked = s->num_workers == 2 && s->workers[0].state == AL_WORKER_BLOCKED &&
                       s->workers[1].state == AL_WORKER_BLOCKED;
        al_console_snapshot_free(s);
        if (!both_blocked)
            sched_yield();
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(al_dump_on_sigquit(al_console_dump_now, console, out), 0);
    unsigned long before = al_dump_count();
    raise(SIGQUIT);
    while (al_dump_count() == before)
        sched_yield();
    al_dump_on_sigquit_remove();
    fclose(out);
    cr_assert(strstr(text, "worker 0  blocked") && strstr(text, "worker 1  blocked"), "%s", text);
    cr_assert(strstr(text, "in std.thread.sleep 1500 ms"), "%s", text);
    cr_assert(strstr(text, "\"sleeper-a\"") && strstr(text, "\"sleeper-b\""), "%s", text);
    cr_assert(strstr(text, "blocked   on worker"), "%s", text);
    free(text);

    tf_join_all_t j = {.handles = h, .n = 2};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt);
    al_console_free(console);
}
