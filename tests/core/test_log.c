/*
 * test_log.c — the text logger: filters (and their errors), one line per
 * event with task names, and the ASYNCLAB_LOG switch.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "al_test.h"
#include "al_test_futures.h"

static char *log_events(const char *filter, const al_trace_event_t *ev, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    al_log_t *log = NULL;
    char err[256] = "";
    cr_assert_eq(al_log_new(out, filter, &log, err, sizeof err), 0, "%s", err);
    al_stream_header_t h = {
        .version = AL_STREAM_VERSION, .num_workers = 2, .flavor = 1, .clock_base_ns = 1000000000};
    al_log_consumer.on_header(log, &h);
    al_log_consumer.on_thread(log, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    al_log_consumer.on_string(log, 1, "fetch", 5);
    al_log_consumer.on_events(log, ev, n);
    al_log_consumer.on_end(log);
    al_log_free(log);
    fclose(out);
    return buf;
}

static const al_trace_event_t sample[] = {
    {.ts_ns = 1000001000, .task = 12, .a = 0, .b = 0, .str = 1, .kind = AL_EV_TASK_SPAWN},
    {.ts_ns = 1000002000, .task = 12, .kind = AL_EV_POLL_BEGIN, .worker = 0},
    {.ts_ns = 1001500000,
     .task = 12,
     .a = AL_POLL_END_PENDING,
     .b = 125,
     .kind = AL_EV_POLL_END,
     .worker = 0},
    {.ts_ns = 1002000000, .task = 13, .a = 12, .b = 1, .kind = AL_EV_WAKE, .worker = 0},
    {.ts_ns = 1003000000, .a = 1, .b = 7, .kind = AL_EV_STEAL, .worker = 0},
};

Test(log, lines_name_tasks_and_explain_fields)
{
    char *out = log_events(NULL, sample, 5);
    cr_assert(strstr(out, "[   0.001500] worker 0     POLL_END         task 12 \"fetch\"") != NULL,
              "%s", out);
    cr_assert(strstr(out, "pending, budget left 125"), "%s", out);
    cr_assert(strstr(out, "WAKE             task 13                  by task 12 \"fetch\" (task)"),
              "%s", out);
    cr_assert(strstr(out, "7 tasks from worker 1"), "%s", out);
    free(out);
}

Test(log, filters_by_group_kind_and_task)
{
    char *out = log_events("steal", sample, 5);
    cr_assert(strstr(out, "STEAL") && !strstr(out, "POLL_"), "%s", out);
    free(out);
    out = log_events("poll_end,task=12", sample, 5);
    cr_assert(strstr(out, "POLL_END") && !strstr(out, "POLL_BEGIN") && !strstr(out, "STEAL"), "%s",
              out);
    free(out);
    out = log_events("task=12", sample, 5); /* every kind, about task 12 (the wake's waker too) */
    cr_assert(strstr(out, "POLL_BEGIN") && strstr(out, "WAKE") && !strstr(out, "STEAL"), "%s", out);
    free(out);
}

Test(log, bad_filters_say_what_and_where)
{
    al_log_t *log = NULL;
    char err[256];
    cr_assert_eq(al_log_new(stdout, "steal, polls", &log, err, sizeof err), AL_EINVAL);
    cr_assert(strstr(err, "'polls' at position 8"), "%s", err);
    cr_assert_eq(al_log_new(stdout, "task=x1", &log, err, sizeof err), AL_EINVAL);
    cr_assert_eq(al_log_new(NULL, NULL, &log, err, sizeof err), AL_EINVAL);
}

Test(log, asynclab_log_env_logs_a_live_runtime)
{
    /* Redirect stderr to a file, run a runtime with ASYNCLAB_LOG set. */
    char path[] = "/tmp/al-test-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    setenv("ASYNCLAB_LOG", "trace:sched", 1);
    al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
    atomic_int count = 0;
    tf_counter_t c = {&count, 0, NULL};
    al_join_t *h;
    al_spawn_opts_t o = {.name = "counted"};
    cr_assert_eq(al_spawn(rt, &tf_counter_vt, &c, &o, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt);
    unsetenv("ASYNCLAB_LOG");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[8192] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    unlink(path);
    cr_assert_gt(n, 0);
    cr_assert(strstr(text, "TASK_SPAWN") && strstr(text, "\"counted\""), "%s", text);
    cr_assert(strstr(text, "POLL_END") && strstr(text, "ready"), "%s", text);
    cr_assert(!strstr(text, "PARK"), "the filter kept only the sched group:\n%s", text);
}
