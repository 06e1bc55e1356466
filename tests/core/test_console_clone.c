/*
 * test_console_clone.c — al_console_clone: a copy taken in the middle of a
 * stream, fed the same events afterwards, prints the same tables, dump and
 * CSV as the original (with retention recycling task and resource slots
 * after the copy); the copy outlives its source; al_console_memory grows
 * with the model.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "al_test.h"

static void feed(al_console_t *c, uint64_t ts, al_event_kind_t kind, int worker, uint64_t task,
                 uint64_t a, uint64_t b, uint32_t str)
{
    al_trace_event_t e = {.ts_ns = ts,
                          .task = task,
                          .a = a,
                          .b = b,
                          .str = str,
                          .kind = (uint16_t)kind,
                          .worker = (int16_t)worker};
    al_console_consumer.on_events(c, &e, 1);
}

/* Round i of a churning workload: a task spawned, queued, polled, woken,
 * contending a lock, finished; resources created and dropped. */
static void round_of(al_console_t *c, uint64_t i)
{
    uint64_t ts = 1000 + i * 100, t = i + 1;
    int w = (int)(i % 2);
    feed(c, ts, AL_EV_TASK_SPAWN, w, t, 0, AL_TASK_ASYNC, 1 + (uint32_t)(i % 2));
    feed(c, ts + 1, AL_EV_TASK_SCHEDULE, w, t, i % 3 == 0 ? AL_QUEUE_LIFO : AL_QUEUE_LOCAL, 0, 0);
    feed(c, ts + 2, AL_EV_RESOURCE_CREATE, w, t, 100 + i, AL_RES_MUTEX, 2);
    if (i % 5 == 0)
        feed(c, ts + 3, AL_EV_STEAL, 1 - w, 0, (uint64_t)w, 1, 0);
    if (i >= 3) {
        uint64_t old = t - 3;
        feed(c, ts + 10, AL_EV_POLL_BEGIN, w, old, 0, 0, 0);
        feed(c, ts + 12, AL_EV_LOCK_CONTEND, w, old, 100 + i - 1, t - 2, 0);
        feed(c, ts + 14, AL_EV_LOCK_ACQUIRE, w, old, 100 + i - 1, 0, 0);
        feed(c, ts + 16, AL_EV_LOCK_RELEASE, w, old, 100 + i - 1, 0, 0);
        feed(c, ts + 20, AL_EV_POLL_END, w, old, AL_POLL_END_READY, 0, 0);
        feed(c, ts + 21, AL_EV_TASK_END, w, old, AL_JOIN_OK, 0, 0);
        feed(c, ts + 22, AL_EV_RESOURCE_DROP, w, 0, 100 + i - 3, 0, 0);
    }
    if (i % 7 == 0) {
        feed(c, ts + 30, AL_EV_PARK, w, 0, 1, 0, 0);
        feed(c, ts + 40, AL_EV_UNPARK, w, 0, 0, 0, 0);
    }
}

/* Everything the model prints, as one string (free it). */
static char *printed(al_console_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    al_console_snapshot_t *s = al_console_snapshot(c, 0);
    cr_assert(s);
    al_console_print(s, f);
    al_console_print_dump(s, f);
    al_console_print_csv(s, f);
    al_console_snapshot_free(s);
    fclose(f);
    return buf;
}

static al_console_t *model(void)
{
    al_console_config_t cfg = {.retain_done = 16, .retain_dropped = 8};
    al_console_t *c;
    cr_assert_eq(al_console_new(&cfg, &c), 0);
    al_stream_header_t h = {.version = AL_STREAM_VERSION, .num_workers = 2, .flavor = 1};
    al_console_consumer.on_header(c, &h);
    al_console_consumer.on_string(c, 1, "alpha", 5);
    al_console_consumer.on_string(c, 2, "lock", 4);
    return c;
}

Test(console_clone, a_copy_fed_the_same_events_prints_the_same)
{
    al_console_t *c = model();
    for (uint64_t i = 0; i < 40; i++)
        round_of(c, i);
    size_t before = al_console_memory(c);
    al_console_t *copy;
    cr_assert_eq(al_console_clone(c, &copy), 0);
    char *a = printed(c), *b = printed(copy);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    /* Slots recycled by retention after the copy: both must agree. */
    for (uint64_t i = 40; i < 120; i++) {
        round_of(c, i);
        round_of(copy, i);
    }
    a = printed(c);
    b = printed(copy);
    cr_assert_str_eq(a, b);
    cr_assert(strstr(a, "alpha"), "the tables name the tasks");
    free(a);
    free(b);
    cr_assert_geq(al_console_memory(copy), before / 2);
    cr_assert_gt(al_console_memory(copy), sizeof(void *) * 100);
    al_console_free(c);
    al_console_free(copy);
}

Test(console_clone, the_copy_outlives_its_source)
{
    al_console_t *c = model();
    for (uint64_t i = 0; i < 30; i++)
        round_of(c, i);
    char *want = printed(c);
    al_console_t *copy;
    cr_assert_eq(al_console_clone(c, &copy), 0);
    round_of(c, 30); /* the source moves on, then goes */
    al_console_free(c);
    char *got = printed(copy);
    cr_assert_str_eq(got, want);
    free(want);
    free(got);
    al_console_free(copy);
}

Test(console_clone, empty_model_and_bad_arguments)
{
    al_console_t *c, *copy;
    cr_assert_eq(al_console_new(NULL, &c), 0);
    cr_assert_eq(al_console_clone(c, &copy), 0);
    char *a = printed(c), *b = printed(copy);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    cr_assert_eq(al_console_clone(NULL, &copy), AL_EINVAL);
    cr_assert_eq(al_console_clone(c, NULL), AL_EINVAL);
    al_console_free(copy);
    al_console_free(c);
}

Test(console_clone, histograms_are_copied_on_write)
{
    al_console_t *c = model();
    feed(c, 100, AL_EV_TASK_SPAWN, 0, 1, 0, AL_TASK_ASYNC, 1);
    feed(c, 110, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    feed(c, 150, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 0, 0);
    size_t alone = al_console_memory(c);
    al_console_t *copy;
    cr_assert_eq(al_console_clone(c, &copy), 0);
    cr_assert_lt(al_console_memory(c), alone, "the shared histogram is charged half to each");
    /* The source records another poll: the copy's histogram stays as it was. */
    feed(c, 200, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    feed(c, 9000, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 0, 0);
    al_histogram_t hc, hk;
    cr_assert(al_console_task_histogram(c, 1, false, &hc));
    cr_assert(al_console_task_histogram(copy, 1, false, &hk));
    cr_assert_eq(hc.count, 2);
    cr_assert_eq(hk.count, 1, "the copy saw one poll");
    cr_assert_eq(hk.max_ns, 40);
    /* And the other way round. */
    feed(copy, 200, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    feed(copy, 260, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 0, 0);
    cr_assert(al_console_task_histogram(c, 1, false, &hc));
    cr_assert(al_console_task_histogram(copy, 1, false, &hk));
    cr_assert_eq(hc.max_ns, 8800);
    cr_assert_eq(hk.max_ns, 60);
    al_console_free(c);
    cr_assert(al_console_task_histogram(copy, 1, false, &hk), "the copy outlives the source");
    cr_assert_eq(hk.count, 2);
    al_console_free(copy);
}
