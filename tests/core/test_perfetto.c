/*
 * test_perfetto.c — the Chrome Trace Event JSON exporter (al_perfetto.c):
 * hand-built event sequences rendered event by event (slices, flows,
 * counters, conflicts closed early, user spans that cannot nest, escaping),
 * then a real two-worker run recorded live, exported, parsed with Jansson
 * and checked as a viewer would need it: named tracks, one slice per poll,
 * strict nesting, paired flows, counters; and the same export from a replay
 * of the run's trace file.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "al_perfetto.h"
#include "al_tracefile.h"
#include "al_test.h"
#include "al_test_futures.h"
#include "al_test_stream.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    al_perfetto_writer_t *w;
} pf_out_t;

static void pf_open(pf_out_t *o, const al_perfetto_options_t *opt)
{
    memset(o, 0, sizeof *o);
    o->f = open_memstream(&o->buf, &o->len);
    cr_assert_not_null(o->f);
    cr_assert_eq(al_perfetto_writer_open(o->f, opt, &o->w), 0);
}

/* Close the writer and parse what it wrote (asserting it is valid JSON). */
static json_t *pf_close(pf_out_t *o)
{
    cr_assert_eq(al_perfetto_writer_close(o->w), 0);
    cr_assert_eq(fclose(o->f), 0);
    json_error_t err;
    json_t *root = json_loadb(o->buf, o->len, JSON_ALLOW_NUL, &err);
    cr_assert_not_null(root, "invalid JSON at line %d column %d: %s", err.line, err.column,
                       err.text);
    cr_assert(json_is_array(json_object_get(root, "traceEvents")));
    cr_assert_str_eq(json_string_value(json_object_get(root, "displayTimeUnit")), "ns");
    cr_assert(json_is_object(json_object_get(root, "metadata")));
    return root;
}

static long long ns_of(const json_t *v)
{
    return llround(json_number_value(v) * 1000.0);
}

/* One line per event whose phase is in `phases`, in file order:
 *   ph tTID @TS_NS [+DUR_NS] [cat] ["name"] [id=ID] [bp=e] [s=SCOPE] [ARGS] */
static char *render(const json_t *root, const char *phases)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "traceEvents"), i, e)
    {
        const char *ph = json_string_value(json_object_get(e, "ph"));
        cr_assert_not_null(ph);
        cr_assert_eq(json_integer_value(json_object_get(e, "pid")), 1);
        if (!strchr(phases, ph[0]))
            continue;
        char line[2048];
        int n = snprintf(line, sizeof line, "%s t%lld @%lld", ph,
                         (long long)json_integer_value(json_object_get(e, "tid")),
                         ns_of(json_object_get(e, "ts")));
        if (json_object_get(e, "dur"))
            n += snprintf(line + n, sizeof line - (size_t)n, " +%lld",
                          ns_of(json_object_get(e, "dur")));
        if (json_object_get(e, "cat"))
            n += snprintf(line + n, sizeof line - (size_t)n, " %s",
                          json_string_value(json_object_get(e, "cat")));
        n += snprintf(line + n, sizeof line - (size_t)n, " \"%s\"",
                      json_string_value(json_object_get(e, "name")));
        if (json_object_get(e, "id")) {
            char *id = json_dumps(json_object_get(e, "id"), JSON_ENCODE_ANY);
            n += snprintf(line + n, sizeof line - (size_t)n, " id=%s", id);
            free(id);
        }
        if (json_object_get(e, "bp"))
            n += snprintf(line + n, sizeof line - (size_t)n, " bp=%s",
                          json_string_value(json_object_get(e, "bp")));
        if (json_object_get(e, "s"))
            n += snprintf(line + n, sizeof line - (size_t)n, " s=%s",
                          json_string_value(json_object_get(e, "s")));
        if (json_object_get(e, "args")) {
            char *args = json_dumps(json_object_get(e, "args"), JSON_COMPACT | JSON_SORT_KEYS);
            n += snprintf(line + n, sizeof line - (size_t)n, " %s", args);
            free(args);
        }
        n += snprintf(line + n, sizeof line - (size_t)n, "\n");
        if (len + (size_t)n + 1 > cap) {
            cap = 2 * (len + (size_t)n + 1);
            out = realloc(out, cap);
        }
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return out;
}

#define BASE 1000000000ull

static const al_stream_consumer_t *const C = &al_perfetto_consumer;

static void feed_header(void *w, uint32_t workers)
{
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = workers,
                            .flavor = AL_MULTI_THREAD,
                            .clock_base_ns = BASE,
                            .wall_base_ns = 1700000000000000000ull};
    C->on_header(w, &h);
}

static void feed(void *w, uint64_t rel_ns, uint16_t thread, int16_t worker, al_event_kind_t kind,
                 uint64_t task, uint64_t a, uint64_t b, uint32_t str)
{
    al_trace_event_t e = {.ts_ns = BASE + rel_ns,
                          .task = task,
                          .a = a,
                          .b = b,
                          .str = str,
                          .kind = (uint16_t)kind,
                          .thread = thread,
                          .worker = worker};
    C->on_events(w, &e, 1);
}

static void expect_render(const json_t *root, const char *phases, const char *want)
{
    char *got = render(root, phases);
    cr_assert_str_eq(got, want, "got:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* ---- (a) hand-built sequences -------------------------------------------------------------------
 */

Test(perfetto, polls_parks_searches_blocks_wakes_and_counters)
{
    pf_out_t o;
    pf_open(&o, NULL);
    void *w = o.w;
    feed_header(w, 1);
    C->on_thread(w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    C->on_thread(w, 1, "main", AL_THREAD_OTHER, AL_EV_NOT_WORKER);
    C->on_string(w, 1, "fetch", 5);
    feed(w, 1000, 1, -1, AL_EV_TASK_SPAWN, 1, 0, AL_TASK_ASYNC, 1);
    feed(w, 1500, 1, -1, AL_EV_TASK_SCHEDULE, 1, AL_QUEUE_INJECT, 0, 0);
    feed(w, 2000, 0, 0, AL_EV_SEARCH_BEGIN, 0, 0, 0, 0);
    feed(w, 2500, 0, 0, AL_EV_SEARCH_END, 0, 1, 0, 0);
    feed(w, 3000, 0, 0, AL_EV_POLL_BEGIN, 1, 0, 0, 0);
    feed(w, 3500, 0, 0, AL_EV_WAKE, 1, 1, 9 | 1 << 16, 0);
    feed(w, 4000, 0, 0, AL_EV_POLL_END, 1, AL_POLL_END_PENDING, 120, 0);
    feed(w, 4100, 0, 0, AL_EV_TASK_SCHEDULE, 1, AL_QUEUE_LOCAL, 0, 0);
    feed(w, 5000, 0, 0, AL_EV_POLL_BEGIN, 1, 0, 0, 0);
    feed(w, 6000, 0, 0, AL_EV_BLOCK_BEGIN, 1, AL_BLOCK_THREAD_SLEEP, 3, 0);
    feed(w, 7000, 0, 0, AL_EV_BLOCK_END, 1, AL_BLOCK_THREAD_SLEEP, 0, 0);
    feed(w, 8000, 0, 0, AL_EV_POLL_END, 1, AL_POLL_END_READY, 100, 0);
    feed(w, 8100, 0, 0, AL_EV_TASK_END, 1, AL_JOIN_OK, 0, 0);
    feed(w, 8200, 0, 0, AL_EV_WAKE, 2, 0, AL_WAKE_JOIN, 0); /* after TASK_END */
    feed(w, 9000, 0, 0, AL_EV_PARK, 0, 0, 0, 0);
    feed(w, 10000, 0, 0, AL_EV_UNPARK, 0, AL_UNPARK_NOTIFIED, 0, 0);
    feed(w, 11000, 0, 0, AL_EV_POLL_BEGIN, 2, 0, 0, 0);
    feed(w, 11500, 0, 0, AL_EV_POLL_END, 2, AL_POLL_END_PENDING, 128, 0);
    C->on_end(w);
    json_t *root = pf_close(&o);

    expect_render(root, "M",
                  "M t1 @0 \"process_name\" {\"name\":\"asynclab runtime\"}\n"
                  "M t1 @0 \"process_labels\" {\"labels\":\"multi-thread, 1 worker\"}\n"
                  "M t1 @0 \"thread_name\" {\"name\":\"worker 0\"}\n"
                  "M t1 @0 \"thread_sort_index\" {\"sort_index\":0}\n"
                  "M t2 @0 \"thread_name\" {\"name\":\"main#1\"}\n"
                  "M t2 @0 \"thread_sort_index\" {\"sort_index\":1001}\n");
    expect_render(
        root, "XisfC",
        "i t2 @1000 spawn \"spawn fetch\" s=t {\"kind\":\"async\",\"parent\":0,\"task\":1}\n"
        "C t2 @1000 \"tasks\" {\"alive\":1}\n"
        "C t2 @1500 \"inject queue\" {\"tasks\":1}\n"
        "X t1 @2000 +500 search \"searching\" {\"found_work\":true}\n"
        "C t1 @3000 \"inject queue\" {\"tasks\":0}\n"
        "X t1 @3000 +1000 poll \"fetch\" {\"budget_left\":120,\"result\":\"pending\",\"task\":1}\n"
        "C t1 @4100 \"worker 0 local queue\" {\"tasks\":1}\n"
        "s t1 @3500 wake \"wake\" id=1\n"
        "f t1 @5000 wake \"wake\" id=1 bp=e\n"
        "C t1 @5000 \"worker 0 local queue\" {\"tasks\":0}\n"
        "X t1 @6000 +1000 block \"blocked: thread sleep\" "
        "{\"ms\":3,\"task\":1,\"what\":\"thread sleep\"}\n"
        "X t1 @5000 +3000 poll \"fetch\" {\"budget_left\":100,\"result\":\"ready\",\"task\":1}\n"
        "C t1 @8100 \"tasks\" {\"alive\":0}\n"
        "X t1 @8000 +200 task \"task end\" {\"how\":\"ok\",\"task\":1}\n"
        "X t1 @9000 +1000 park \"parked\" {\"where\":\"condvar\",\"why\":\"notified\"}\n"
        "s t1 @8200 wake \"wake\" id=2\n"
        "f t1 @11000 wake \"wake\" id=2 bp=e\n"
        "X t1 @11000 +500 poll \"task 2\" "
        "{\"budget_left\":128,\"result\":\"pending\",\"task\":2}\n");
    json_t *meta = json_object_get(root, "metadata");
    cr_assert_eq(json_integer_value(json_object_get(meta, "events_in")), 18);
    cr_assert_eq(json_integer_value(json_object_get(meta, "num_workers")), 1);
    cr_assert_eq(json_integer_value(json_object_get(meta, "clock_base_ns")), (json_int_t)BASE);
    cr_assert_eq(json_integer_value(json_object_get(meta, "flows")), 2);
    cr_assert_eq(json_integer_value(json_object_get(meta, "slices_closed_early")), 0);
    json_decref(root);
    free(o.buf);
}

Test(perfetto, lost_ends_are_closed_at_the_next_conflict_and_at_the_end)
{
    pf_out_t o;
    pf_open(&o, &(al_perfetto_options_t){.no_counters = true});
    void *w = o.w;
    feed_header(w, 2);
    C->on_thread(w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    C->on_thread(w, 1, "al-worker-1", AL_THREAD_WORKER, 1);
    C->on_thread(w, 2, "al-blocking", AL_THREAD_BLOCKING, AL_EV_NOT_WORKER);
    /* Worker 1 was parked when the export began: its first event ends it. */
    feed(w, 1000, 0, 0, AL_EV_POLL_BEGIN, 5, 0, 0, 0);
    feed(w, 1500, 1, 1, AL_EV_UNPARK, 0, AL_UNPARK_TIMER, 0, 0);
    /* Woken to search: no SEARCH_BEGIN, the search starts at the UNPARK. */
    feed(w, 1600, 1, 1, AL_EV_STEAL, 0, 0, 1, 0);
    feed(w, 1700, 1, 1, AL_EV_SEARCH_END, 0, 1, 0, 0);
    feed(w, 2000, 0, 0, AL_EV_PARK, 0, 1, 0, 0);       /* POLL_END of task 5 lost */
    feed(w, 3000, 0, 0, AL_EV_POLL_BEGIN, 6, 0, 0, 0); /* UNPARK lost */
    feed(w, 3200, 0, 0, AL_EV_BLOCK_BEGIN, 6, AL_BLOCK_SPIN, 1, 0);
    feed(w, 3400, 0, 0, AL_EV_POLL_END, 6, AL_POLL_END_PENDING, 50, 0); /* BLOCK_END lost */
    feed(w, 3600, 0, 0, AL_EV_POLL_END, 6, AL_POLL_END_PENDING, 50, 0); /* no such poll */
    feed(w, 4000, 2, -1, AL_EV_BLOCKING_RUN, 7, 1, 0, 0);
    feed(w, 4100, 2, -1, AL_EV_POLL_BEGIN, 7, 0, 0, 0);
    feed(w, 4900, 2, -1, AL_EV_POLL_END, 7, AL_POLL_END_READY, (uint64_t)-1, 0);
    feed(w, 4950, 2, -1, AL_EV_TASK_END, 7, AL_JOIN_OK, 0, 0);
    feed(w, 5000, 2, -1, AL_EV_BLOCKING_RUN, 8, 2, 0, 0);
    feed(w, 5100, 2, -1, AL_EV_POLL_END, 8, AL_POLL_END_CANCELLED, 0, 0); /* cancelled run */
    feed(w, 5150, 2, -1, AL_EV_TASK_END, 8, AL_JOIN_CANCELLED, 0, 0);
    feed(w, 6000, 1, 1, AL_EV_SEARCH_BEGIN, 0, 0, 0, 0);
    feed(w, 7000, 0, 0, AL_EV_POLL_BEGIN, 9, 0, 0, 0); /* open at the end */
    C->on_end(w);
    json_t *root = pf_close(&o);
    expect_render(
        root, "XisfCbe",
        "X t2 @1000 +500 park \"parked\" {\"begin\":\"before the export\",\"where\":\"driver\","
        "\"why\":\"timer\"}\n"
        "s t1 @1600 steal \"steal\" id=1\n"
        "f t2 @1600 steal \"steal\" id=1 bp=e\n"
        "i t2 @1600 steal \"steal\" s=t {\"tasks\":1,\"victim\":0}\n"
        "X t2 @1500 +200 search \"searching\" {\"begin\":\"no SEARCH_BEGIN\","
        "\"found_work\":true}\n"
        "X t1 @1000 +1000 poll \"task 5\" {\"closed_by\":\"PARK\",\"task\":5}\n"
        "X t1 @2000 +1000 park \"parked\" {\"closed_by\":\"POLL_BEGIN\",\"where\":\"driver\"}\n"
        "X t1 @3200 +200 block \"blocked: spin\" "
        "{\"closed_by\":\"POLL_END\",\"ms\":1,\"task\":6,\"what\":\"spin\"}\n"
        "X t1 @3000 +400 poll \"task 6\" {\"budget_left\":50,\"result\":\"pending\",\"task\":6}\n"
        "X t3 @4100 +800 poll \"task 7\" {\"budget_left\":-1,\"result\":\"ready\",\"task\":7}\n"
        "X t3 @4900 +50 task \"task end\" {\"how\":\"ok\",\"task\":7}\n"
        "X t3 @4000 +950 blocking \"blocking-pool run\" {\"task\":7,\"thread_number\":1}\n"
        "X t1 @7000 +0 poll \"task 9\" {\"closed_by\":\"end of trace\",\"task\":9}\n"
        "X t2 @6000 +1000 search \"searching\" {\"closed_by\":\"end of trace\"}\n"
        "X t3 @5100 +50 task \"task end\" {\"how\":\"cancelled\",\"task\":8}\n"
        "X t3 @5000 +150 blocking \"blocking-pool run\" {\"task\":8,\"thread_number\":2}\n");
    json_t *meta = json_object_get(root, "metadata");
    cr_assert_eq(json_integer_value(json_object_get(meta, "slices_closed_early")), 3);
    cr_assert_eq(json_integer_value(json_object_get(meta, "unmatched_ends")), 1);
    json_decref(root);
    free(o.buf);
}

/* Lesson hooks: captions and markers are instants on the timeline (a
 * cleared caption too); highlights are not drawn. */
Test(perfetto, captions_and_markers_are_instants)
{
    pf_out_t o;
    pf_open(&o, &(al_perfetto_options_t){.no_counters = true});
    void *w = o.w;
    feed_header(w, 1);
    C->on_thread(w, 0, "main", AL_THREAD_OTHER, AL_EV_NOT_WORKER);
    C->on_string(w, 1, "watch worker 0", 14);
    C->on_string(w, 2, "blocked", 7);
    feed(w, 1000, 0, -1, AL_EV_CAPTION, 0, 0, 0, 1);
    feed(w, 1100, 0, -1, AL_EV_HIGHLIGHT, 0, AL_HIGHLIGHT_WORKER, 0, 0);
    feed(w, 1200, 0, -1, AL_EV_MARKER, 0, 0, 0, 2);
    feed(w, 1300, 0, -1, AL_EV_CAPTION, 0, 0, 0, 0);
    C->on_end(w);
    json_t *root = pf_close(&o);
    expect_render(root, "i",
                  "i t1 @1000 lesson \"caption: watch worker 0\" s=t {\"task\":0,\"text\":\"watch "
                  "worker 0\"}\n"
                  "i t1 @1200 lesson \"marker: blocked\" s=t {\"name\":\"blocked\",\"task\":0}\n"
                  "i t1 @1300 lesson \"caption cleared\" s=t {\"task\":0,\"text\":\"\"}\n");
    json_decref(root);
    free(o.buf);
}

Test(perfetto, user_spans_nest_or_become_async_slices)
{
    pf_out_t o;
    pf_open(&o, &(al_perfetto_options_t){.no_counters = true});
    void *w = o.w;
    feed_header(w, 2);
    C->on_thread(w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    C->on_thread(w, 1, "al-worker-1", AL_THREAD_WORKER, 1);
    C->on_string(w, 1, "inner", 5);
    C->on_string(w, 2, "across await", 12);
    C->on_string(w, 3, "a", 1);
    C->on_string(w, 4, "b", 1);
    /* Inside one poll: a nested span, and one left open across the await. */
    feed(w, 1000, 0, 0, AL_EV_POLL_BEGIN, 3, 0, 0, 0);
    feed(w, 1100, 0, 0, AL_EV_SPAN_BEGIN, 3, 1, 0, 2);
    feed(w, 1200, 0, 0, AL_EV_SPAN_BEGIN, 3, 2, 0, 1);
    feed(w, 1300, 0, 0, AL_EV_USER_LOG, 3, 0, 0, 1);
    feed(w, 1400, 0, 0, AL_EV_SPAN_END, 3, 2, 0, 0);
    feed(w, 2000, 0, 0, AL_EV_POLL_END, 3, AL_POLL_END_PENDING, 7, 0);
    /* The task moves to worker 1 and ends the span there. */
    feed(w, 3000, 1, 1, AL_EV_POLL_BEGIN, 3, 0, 0, 0);
    feed(w, 3500, 1, 1, AL_EV_SPAN_END, 3, 1, 0, 0);
    /* Crossing spans a, b: a ends first, so a cannot nest. */
    feed(w, 3600, 1, 1, AL_EV_SPAN_BEGIN, 3, 3, 0, 3);
    feed(w, 3700, 1, 1, AL_EV_SPAN_BEGIN, 3, 4, 0, 4);
    feed(w, 3800, 1, 1, AL_EV_SPAN_END, 3, 3, 0, 0);
    feed(w, 3900, 1, 1, AL_EV_SPAN_END, 3, 4, 0, 0);
    feed(w, 3950, 1, 1, AL_EV_SPAN_END, 3, 77, 0, 0); /* unknown span */
    feed(w, 4000, 1, 1, AL_EV_POLL_END, 3, AL_POLL_END_READY, 6, 0);
    feed(w, 4050, 1, 1, AL_EV_TASK_END, 3, AL_JOIN_OK, 0, 0);
    /* A span still lifted at the end is ended there. */
    feed(w, 5000, 0, 0, AL_EV_POLL_BEGIN, 4, 0, 0, 0);
    feed(w, 5100, 0, 0, AL_EV_SPAN_BEGIN, 4, 5, 0, 0);
    feed(w, 5200, 0, 0, AL_EV_POLL_END, 4, AL_POLL_END_PENDING, 7, 0);
    feed(w, 6000, 1, 1, AL_EV_LINT, 4, 3, 0, 2);
    C->on_end(w);
    json_t *root = pf_close(&o);
    expect_render(
        root, "Xibe",
        "i t1 @1300 user \"log: inner\" s=t {\"task\":3,\"text\":\"inner\"}\n"
        "X t1 @1200 +200 user \"inner\" {\"span\":2,\"task\":3}\n"
        "b t1 @1100 user \"across await\" id=\"0x1\" {\"span\":1,\"task\":3}\n"
        "X t1 @1000 +1000 poll \"task 3\" {\"budget_left\":7,\"result\":\"pending\",\"task\":3}\n"
        "e t2 @3500 user \"across await\" id=\"0x1\"\n"
        "b t2 @3600 user \"a\" id=\"0x3\" {\"span\":3,\"task\":3}\n"
        "e t2 @3800 user \"a\" id=\"0x3\"\n"
        "X t2 @3700 +200 user \"b\" {\"span\":4,\"task\":3}\n"
        "X t2 @3000 +1000 poll \"task 3\" {\"budget_left\":6,\"result\":\"ready\",\"task\":3}\n"
        "b t1 @5100 user \"span 5\" id=\"0x5\" {\"span\":5,\"task\":4}\n"
        "X t1 @5000 +200 poll \"task 4\" {\"budget_left\":7,\"result\":\"pending\",\"task\":4}\n"
        "X t2 @4000 +50 task \"task end\" {\"how\":\"ok\",\"task\":3}\n"
        "i t2 @6000 lint \"lint: across await\" s=t "
        "{\"lint\":3,\"message\":\"across await\",\"task\":4}\n"
        "e t1 @6000 user \"span 5\" id=\"0x5\" {\"closed_by\":\"end of trace\"}\n");
    json_t *meta = json_object_get(root, "metadata");
    cr_assert_eq(json_integer_value(json_object_get(meta, "async_spans")), 3);
    cr_assert_eq(json_integer_value(json_object_get(meta, "unmatched_ends")), 1);
    json_decref(root);
    free(o.buf);
}

Test(perfetto, queue_depths_follow_schedules_steals_and_overflows)
{
    pf_out_t o;
    pf_open(&o, NULL);
    void *w = o.w;
    feed_header(w, 2);
    C->on_thread(w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    C->on_thread(w, 1, "al-worker-1", AL_THREAD_WORKER, 1);
    /* Worker 0 polls task 99 and queues 1..4; worker 1 steals the oldest two. */
    feed(w, 1000, 0, 0, AL_EV_POLL_BEGIN, 99, 0, 0, 0);
    for (uint64_t t = 1; t <= 4; t++)
        feed(w, 1000 + t, 0, 0, AL_EV_TASK_SCHEDULE, t, AL_QUEUE_LOCAL, 0, 0);
    feed(w, 1500, 1, 1, AL_EV_SEARCH_BEGIN, 0, 0, 0, 0);
    feed(w, 1600, 1, 1, AL_EV_STEAL, 0, 0, 2, 0);
    feed(w, 1700, 1, 1, AL_EV_SEARCH_END, 0, 1, 0, 0);
    feed(w, 1800, 1, 1, AL_EV_POLL_BEGIN, 2, 0, 0, 0);
    feed(w, 1900, 1, 1, AL_EV_POLL_END, 2, AL_POLL_END_READY, 0, 0);
    feed(w, 2000, 1, 1, AL_EV_POLL_BEGIN, 1, 0, 0, 0);
    feed(w, 2100, 1, 1, AL_EV_POLL_END, 1, AL_POLL_END_READY, 0, 0);
    /* LIFO: 6 pushes 5 into the queue (now 3, 4, 5). A steal of one takes
     * task 3, the oldest. */
    feed(w, 2200, 0, 0, AL_EV_TASK_SCHEDULE, 5, AL_QUEUE_LIFO, 0, 0);
    feed(w, 2300, 0, 0, AL_EV_TASK_SCHEDULE, 6, AL_QUEUE_LIFO, 0, 0);
    feed(w, 2400, 1, 1, AL_EV_SEARCH_BEGIN, 0, 0, 0, 0);
    feed(w, 2500, 1, 1, AL_EV_STEAL, 0, 0, 1, 0);
    feed(w, 2600, 1, 1, AL_EV_SEARCH_END, 0, 1, 0, 0);
    feed(w, 2700, 0, 0, AL_EV_POLL_END, 99, AL_POLL_END_READY, 0, 0);
    feed(w, 2800, 0, 0, AL_EV_POLL_BEGIN, 6, 0, 0, 0); /* the LIFO slot */
    feed(w, 2900, 0, 0, AL_EV_POLL_END, 6, AL_POLL_END_READY, 0, 0);
    feed(w, 3000, 1, 1, AL_EV_POLL_BEGIN, 3, 0, 0, 0); /* stolen */
    feed(w, 3100, 1, 1, AL_EV_POLL_END, 3, AL_POLL_END_READY, 0, 0);
    /* Overflow: the newest (7) and the oldest (4) go to the inject queue. */
    feed(w, 3200, 0, 0, AL_EV_TASK_SCHEDULE, 7, AL_QUEUE_LOCAL, 0, 0);
    feed(w, 3300, 0, 0, AL_EV_OVERFLOW, 0, 2, 0, 0);
    feed(w, 3400, 1, 1, AL_EV_POLL_BEGIN, 4, 0, 0, 0); /* from the inject queue */
    feed(w, 3500, 1, 1, AL_EV_POLL_END, 4, AL_POLL_END_READY, 0, 0);
    feed(w, 3600, 0, 0, AL_EV_TASK_END, 5, AL_JOIN_CANCELLED, 0, 0); /* never polled */
    feed(w, 3700, 0, 0, AL_EV_POLL_END, 7, AL_POLL_END_CANCELLED, 0, 0);
    C->on_end(w);
    json_t *root = pf_close(&o);
    expect_render(root, "Csf",
                  "C t1 @1001 \"worker 0 local queue\" {\"tasks\":1}\n"
                  "C t1 @1002 \"worker 0 local queue\" {\"tasks\":2}\n"
                  "C t1 @1003 \"worker 0 local queue\" {\"tasks\":3}\n"
                  "C t1 @1004 \"worker 0 local queue\" {\"tasks\":4}\n"
                  "s t1 @1600 steal \"steal\" id=1\n"
                  "f t2 @1600 steal \"steal\" id=1 bp=e\n"
                  "C t2 @1600 \"worker 0 local queue\" {\"tasks\":2}\n"
                  "C t2 @1600 \"worker 1 local queue\" {\"tasks\":2}\n"
                  "C t2 @1800 \"worker 1 local queue\" {\"tasks\":1}\n"
                  "C t2 @2000 \"worker 1 local queue\" {\"tasks\":0}\n"
                  "C t1 @2200 \"worker 0 local queue\" {\"tasks\":3}\n"
                  "C t1 @2300 \"worker 0 local queue\" {\"tasks\":4}\n"
                  "s t1 @2500 steal \"steal\" id=2\n"
                  "f t2 @2500 steal \"steal\" id=2 bp=e\n"
                  "C t2 @2500 \"worker 0 local queue\" {\"tasks\":3}\n"
                  "C t2 @2500 \"worker 1 local queue\" {\"tasks\":1}\n"
                  "C t1 @2800 \"worker 0 local queue\" {\"tasks\":2}\n"
                  "C t2 @3000 \"worker 1 local queue\" {\"tasks\":0}\n"
                  "C t1 @3200 \"worker 0 local queue\" {\"tasks\":3}\n"
                  "C t1 @3300 \"inject queue\" {\"tasks\":2}\n"
                  "C t1 @3300 \"worker 0 local queue\" {\"tasks\":1}\n"
                  "C t2 @3400 \"inject queue\" {\"tasks\":1}\n"
                  "C t1 @3600 \"worker 0 local queue\" {\"tasks\":0}\n"
                  "C t1 @3700 \"inject queue\" {\"tasks\":0}\n");
    json_decref(root);
    free(o.buf);
}

Test(perfetto, strings_are_escaped_and_invalid_utf8_replaced)
{
    pf_out_t o;
    pf_open(&o, &(al_perfetto_options_t){.process_name = "my \"app\"\\"});
    void *w = o.w;
    feed_header(w, 1);
    C->on_thread(w, 0, "odd\tname\x01", AL_THREAD_OTHER, AL_EV_NOT_WORKER);
    static const char nasty[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f"
                                "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" /* é € 😀: valid */
                                "|\xff|\xe2\x82|\xed\xa0\x80|\xc0\xaf|\xf4\x90\x80\x80|"
                                "\0end";
    C->on_string(w, 1, nasty, sizeof nasty - 1);
    feed(w, 1000, 0, -1, AL_EV_USER_LOG, 0, 0, 0, 1);
    C->on_end(w);
    json_t *root = pf_close(&o);
    json_t *ev = json_array_get(json_object_get(root, "traceEvents"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "args"), "name")),
                     "my \"app\"\\");
    ev = json_array_get(json_object_get(root, "traceEvents"), 2);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "name")), "thread_name");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "args"), "name")),
                     "odd\tname\x01#0");
    /* The log text, decoded: every invalid byte became U+FFFD. */
    static const char want[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f"
                               "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                               "|\xef\xbf\xbd|"
                               "\xef\xbf\xbd\xef\xbf\xbd|"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                               "\xef\xbf\xbd\xef\xbf\xbd|"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                               "\0end";
    size_t i;
    json_t *e;
    int found = 0;
    json_array_foreach(json_object_get(root, "traceEvents"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "ph")), "i") != 0)
            continue;
        json_t *text = json_object_get(json_object_get(e, "args"), "text");
        cr_assert_eq(json_string_length(text), sizeof want - 1);
        cr_assert_arr_eq(json_string_value(text), want, sizeof want - 1);
        found++;
    }
    cr_assert_eq(found, 1);
    /* Raw control bytes never reach the file (Jansson would have refused them,
     * and so would Perfetto's tokenizer for DEL). */
    for (size_t k = 0; k < o.len; k++)
        cr_assert(((unsigned char)o.buf[k] >= 0x20 && o.buf[k] != 0x7f) || o.buf[k] == '\n',
                  "raw byte 0x%02x at %zu", (unsigned char)o.buf[k], k);
    json_decref(root);
    free(o.buf);
}

static void count_progress(void *user, uint64_t written)
{
    uint64_t *calls = user;
    calls[0]++;
    calls[1] = written;
}

Test(perfetto, progress_counts_errors_and_arguments)
{
    cr_assert_eq(al_perfetto_writer_open(NULL, NULL, NULL), AL_EINVAL);
    cr_assert_eq(al_perfetto_writer_close(NULL), AL_EINVAL);
    uint64_t calls[2] = {0, 0};
    pf_out_t o;
    pf_open(&o, &(al_perfetto_options_t){
                    .progress = count_progress, .progress_user = calls, .progress_every = 10});
    feed_header(o.w, 1);
    C->on_thread(o.w, 0, "w", AL_THREAD_WORKER, 0);
    for (uint64_t t = 1; t <= 30; t++) {
        feed(o.w, t * 100, 0, 0, AL_EV_POLL_BEGIN, t, 0, 0, 0);
        feed(o.w, t * 100 + 50, 0, 0, AL_EV_POLL_END, t, AL_POLL_END_PENDING, 0, 0);
    }
    uint64_t in = 0, out = 0;
    al_perfetto_writer_counts(o.w, &in, &out);
    cr_assert_eq(in, 60);
    cr_assert_eq(out, 34, "process_name, labels, 2 thread metadata, 30 polls: %llu",
                 (unsigned long long)out);
    cr_assert_eq(calls[0], 3, "%llu calls", (unsigned long long)calls[0]);
    json_t *root = pf_close(&o); /* no on_end: close finishes the JSON */
    cr_assert_eq(calls[0], 4);
    cr_assert_eq(calls[1], 34);
    json_decref(root);
    free(o.buf);

    /* A write error is reported by close. */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        al_perfetto_writer_t *w;
        cr_assert_eq(al_perfetto_writer_open(full, NULL, &w), 0);
        feed_header(w, 1);
        for (uint64_t t = 1; t <= 2000; t++)
            feed(w, t * 100, 0, 0, AL_EV_TASK_SPAWN, t, 0, 0, 0);
        cr_assert_eq(al_perfetto_writer_close(w), -ENOSPC);
        fclose(full);
    }
}

/* ---- arbitrary sequences (damaged or hostile input) ---------------------------------------------
 */

static size_t check_nesting_and_pairs(const json_t *root);

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

Test(perfetto, arbitrary_event_sequences_still_nest_and_pair)
{
    static const al_event_kind_t kinds[] = {
        AL_EV_POLL_BEGIN,   AL_EV_POLL_END,      AL_EV_PARK,        AL_EV_UNPARK,
        AL_EV_SEARCH_BEGIN, AL_EV_SEARCH_END,    AL_EV_BLOCK_BEGIN, AL_EV_BLOCK_END,
        AL_EV_BLOCKING_RUN, AL_EV_SPAN_BEGIN,    AL_EV_SPAN_END,    AL_EV_TASK_SPAWN,
        AL_EV_TASK_END,     AL_EV_TASK_SCHEDULE, AL_EV_WAKE,        AL_EV_STEAL,
        AL_EV_OVERFLOW,     AL_EV_LINT,          AL_EV_USER_LOG,    AL_EV_BLOCKING_THREAD_EXIT,
        AL_EV__COUNT + 3};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 40; round++) {
        pf_out_t o;
        pf_open(&o, NULL);
        feed_header(o.w, 3);
        for (uint16_t t = 0; t < 5; t++)
            C->on_thread(o.w, t, "t",
                         t < 3    ? AL_THREAD_WORKER
                         : t == 3 ? AL_THREAD_BLOCKING
                                  : AL_THREAD_OTHER,
                         t < 3 ? (int16_t)t : AL_EV_NOT_WORKER);
        C->on_string(o.w, 1, "s", 1);
        uint64_t ts = 0;
        for (int k = 0; k < 1500; k++) {
            uint64_t r = rnd(&x);
            al_event_kind_t kind = kinds[r % (sizeof kinds / sizeof kinds[0])];
            uint16_t thread = (uint16_t)((r >> 8) % 6); /* 5: never announced */
            int16_t worker = thread < 3 ? (int16_t)thread : AL_EV_NOT_WORKER;
            ts += (r >> 12) % 3 * 100; /* equal timestamps too */
            feed(o.w, ts, thread, worker, kind, 1 + (r >> 16) % 6, (r >> 24) % 5, (r >> 32) % 5,
                 (uint32_t)((r >> 40) % 3));
            if ((r >> 48) % 200 == 0)
                C->on_drops(o.w, thread, (uint64_t)k);
        }
        if (round % 2)
            C->on_end(o.w);
        json_t *root = pf_close(&o);
        check_nesting_and_pairs(root);
        json_decref(root);
        free(o.buf);
    }
}

/* ---- a tee: consumers subscribed one by one could each miss a different
 * first batch (a late subscriber starts at the next one); through a tee they
 * all see the same calls. */

typedef struct {
    const al_stream_consumer_t *vt[3];
    void *self[3];
} tee_t;

#define TEE_EACH(t, call)                                                                          \
    for (int k = 0; k < 3 && (t)->vt[k]; k++)                                                      \
    (t)->vt[k]->call

static void tee_header(void *p, const al_stream_header_t *h)
{
    tee_t *t = p;
    TEE_EACH(t, on_header(t->self[k], h));
}
static void tee_thread(void *p, uint16_t id, const char *name, al_thread_kind_t kind,
                       int16_t worker)
{
    tee_t *t = p;
    TEE_EACH(t, on_thread(t->self[k], id, name, kind, worker));
}
static void tee_string(void *p, uint32_t id, const char *str, size_t len)
{
    tee_t *t = p;
    TEE_EACH(t, on_string(t->self[k], id, str, len));
}
static void tee_events(void *p, const al_trace_event_t *ev, size_t n)
{
    tee_t *t = p;
    TEE_EACH(t, on_events(t->self[k], ev, n));
}
static void tee_drops(void *p, uint16_t thread, uint64_t total)
{
    tee_t *t = p;
    TEE_EACH(t, on_drops(t->self[k], thread, total));
}
static void tee_end(void *p)
{
    tee_t *t = p;
    TEE_EACH(t, on_end(t->self[k]));
}
static const al_stream_consumer_t tee_vt = {tee_header, tee_thread, tee_string,
                                            tee_events, tee_drops,  tee_end};

/* ---- (b) a real run: two workers, yields, spawns, blocking, a contended mutex -------------------
 */

typedef struct {
    al_mutex_t *m;
    int step;
    al_mutex_guard_t g;
    al_mutex_lock_t op;
    al_yield_t y;
} locker_t;

/* Lock, yield twice while holding the lock, unlock. */
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
        case 3:
            if (al_yield_poll(&l->y, cx) == AL_PENDING)
                return AL_PENDING;
            l->y = AL_YIELD_INIT;
            if (++l->step < 4)
                continue;
            al_mutex_guard_unlock(&l->g);
            return AL_READY;
        }
    }
}
static const al_future_vtable_t locker_vt = {
    .type_name = "locker", .poll = locker_poll, .future_size = sizeof(locker_t)};

/* Block the worker thread (std-style sleep), yield, block again. */
typedef struct {
    int step;
    al_yield_t y;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *s = f;
    if (s->step == 0) {
        al_thread_sleep_ns(2000000);
        s->step = 1;
    }
    if (s->step == 1) {
        if (al_yield_poll(&s->y, cx) == AL_PENDING)
            return AL_PENDING;
        s->step = 2;
    }
    al_thread_sleep_ns(1000000);
    return AL_READY;
}
static const al_future_vtable_t sleeper_vt = {
    .type_name = "sleeper", .poll = sleeper_poll, .future_size = sizeof(sleeper_t)};

/* Spawn children and join them. */
typedef struct {
    atomic_int *counts;
    al_join_t *h[8];
    tf_join_all_t j;
    bool started;
} spawner_t;

static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    spawner_t *s = f;
    if (!s->started) {
        for (size_t i = 0; i < 8; i++) {
            tf_counter_t c = {.counts = s->counts, .index = i};
            al_spawn_opts_t o = {.name = "child"};
            cr_assert_eq(al_spawn(NULL, &tf_counter_vt, &c, &o, &s->h[i]), 0);
        }
        s->j = (tf_join_all_t){.handles = s->h, .n = 8};
        s->started = true;
    }
    return tf_join_all_poll(&s->j, cx, NULL);
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "spawner", .poll = spawner_poll, .future_size = sizeof(spawner_t)};

/* Annotations: a span inside one poll, one across an await, a log, a lint. */
typedef struct {
    uint64_t across;
    al_yield_t y;
} annotated_t;

static al_poll_t annotated_poll(void *f, al_context_t *cx, void *out)
{
    annotated_t *a = f;
    if (!a->across) {
        uint64_t inner = al_trace_span_begin(NULL, "load config");
        al_trace_log(NULL, "hello from a task");
        al_trace_span_end(NULL, inner);
        al_trace_lint(NULL, al_task_current_id(), 7, "a finding");
        a->across = al_trace_span_begin(NULL, "across an await");
    }
    if (al_yield_poll(&a->y, cx) == AL_PENDING)
        return AL_PENDING;
    al_trace_span_end(NULL, a->across);
    return AL_READY;
}
static const al_future_vtable_t annotated_vt = {
    .type_name = "annotated", .poll = annotated_poll, .future_size = sizeof(annotated_t)};

static void *blocking_job(void *arg)
{
    al_thread_sleep_ns(1000000);
    return arg;
}

#define NUM_YIELDERS 4
#define NUM_TASKS (NUM_YIELDERS + 6)

typedef struct {
    int yields; /* per yielder */
    al_mutex_t *m;
    atomic_int counts[8];
    al_join_t *h[NUM_TASKS];
    tf_join_all_t join;
} scene_t;

static al_poll_t scene_poll(void *f, al_context_t *cx, void *out)
{
    scene_t *s = f;
    if (!s->m) {
        cr_assert_eq(al_mutex_new(NULL, "the-lock", &s->m), 0);
        size_t n = 0;
        for (int i = 0; i < NUM_YIELDERS; i++) {
            tf_yielder_t y = {.left = s->yields};
            al_spawn_opts_t o = {.name = "yielder"};
            cr_assert_eq(al_spawn(NULL, &tf_yielder_vt, &y, &o, &s->h[n++]), 0);
        }
        locker_t l = {.m = s->m};
        al_spawn_opts_t lo = {.name = "locker"};
        cr_assert_eq(al_spawn(NULL, &locker_vt, &l, &lo, &s->h[n++]), 0);
        cr_assert_eq(al_spawn(NULL, &locker_vt, &l, &lo, &s->h[n++]), 0);
        sleeper_t sl = {0};
        al_spawn_opts_t so = {.name = "sleeper"};
        cr_assert_eq(al_spawn(NULL, &sleeper_vt, &sl, &so, &s->h[n++]), 0);
        spawner_t sp = {.counts = s->counts};
        al_spawn_opts_t spo = {.name = "spawner"};
        cr_assert_eq(al_spawn(NULL, &spawner_vt, &sp, &spo, &s->h[n++]), 0);
        annotated_t an = {0};
        al_spawn_opts_t ao = {.name = "annotated"};
        cr_assert_eq(al_spawn(NULL, &annotated_vt, &an, &ao, &s->h[n++]), 0);
        al_spawn_opts_t bo = {.name = "blocking job"};
        cr_assert_eq(al_spawn_blocking(NULL, blocking_job, NULL, &bo, &s->h[n++]), 0);
        cr_assert_eq(n, NUM_TASKS);
        s->join = (tf_join_all_t){.handles = s->h, .n = n};
    }
    if (tf_join_all_poll(&s->join, cx, NULL) == AL_PENDING)
        return AL_PENDING;
    cr_assert_eq(s->join.ok, NUM_TASKS);
    al_mutex_unref(s->m);
    return AL_READY;
}
static const al_future_vtable_t scene_vt = {.poll = scene_poll, .future_size = sizeof(scene_t)};

typedef struct {
    long long tid, ts, end;
    long long task;
    const char *name;
} slice_t;

static int by_start_then_longest(const void *pa, const void *pb)
{
    const slice_t *a = pa, *b = pb;
    if (a->tid != b->tid)
        return a->tid < b->tid ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->end != b->end)
        return a->end > b->end ? -1 : 1;
    return 0;
}

static int by_tid_ts_task(const void *pa, const void *pb)
{
    const slice_t *a = pa, *b = pb;
    if (a->tid != b->tid)
        return a->tid < b->tid ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->task < b->task ? -1 : a->task > b->task;
}

/* What any export must satisfy: slices on one track nest strictly; flows
 * come in s/f pairs pointing forward in time; async spans in b/e pairs.
 * Returns the number of flows. */
static size_t check_nesting_and_pairs(const json_t *root)
{
    json_t *events = json_object_get(root, "traceEvents");
    size_t n = json_array_size(events), ns = 0, nb = 0;
    slice_t *slices = calloc(n + 1, sizeof *slices);
    long long *flows_s = calloc(n + 1, sizeof *flows_s), *flows_f = calloc(n + 1, sizeof *flows_f);
    long long *flow_s_ts = calloc(n + 1, sizeof *flow_s_ts);
    long long *flow_f_ts = calloc(n + 1, sizeof *flow_f_ts);
    json_t **begins = calloc(n + 1, sizeof *begins);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        const char *ph = json_string_value(json_object_get(e, "ph"));
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *cat = json_string_value(json_object_get(e, "cat"));
        cr_assert_not_null(ph);
        cr_assert_not_null(name);
        long long ts = ns_of(json_object_get(e, "ts"));
        long long tid = json_integer_value(json_object_get(e, "tid"));
        if (!strcmp(ph, "X")) {
            long long dur = ns_of(json_object_get(e, "dur"));
            cr_assert_geq(dur, 0);
            slices[ns++] = (slice_t){tid, ts, ts + dur, 0, name};
        } else if (!strcmp(ph, "s") || !strcmp(ph, "f")) {
            long long id = json_integer_value(json_object_get(e, "id"));
            cr_assert(id > 0 && id <= (long long)n, "flow id %lld", id);
            cr_assert(!strcmp(cat, "wake") || !strcmp(cat, "steal"));
            cr_assert_str_eq(name, cat);
            if (ph[0] == 's') {
                flows_s[id]++;
                flow_s_ts[id] = ts;
            } else {
                cr_assert_str_eq(json_string_value(json_object_get(e, "bp")), "e");
                flows_f[id]++;
                flow_f_ts[id] = ts;
            }
        } else if (!strcmp(ph, "b")) {
            begins[nb++] = e;
        } else if (!strcmp(ph, "e")) {
            /* Its "b" came first, with the same id and name. */
            const char *id = json_string_value(json_object_get(e, "id"));
            size_t k = 0;
            while (k < nb &&
                   (!begins[k] || strcmp(json_string_value(json_object_get(begins[k], "id")), id) ||
                    strcmp(json_string_value(json_object_get(begins[k], "name")), name)))
                k++;
            cr_assert_lt(k, nb, "async end %s \"%s\" without a begin", id, name);
            cr_assert_leq(ns_of(json_object_get(begins[k], "ts")), ts);
            begins[k] = NULL;
        }
    }
    for (size_t k = 0; k < nb; k++)
        cr_assert_null(begins[k], "async begin without an end");

    qsort(slices, ns, sizeof *slices, by_start_then_longest);
    slice_t **stack = calloc(ns + 1, sizeof *stack);
    size_t depth = 0;
    for (size_t k = 0; k < ns; k++) {
        if (k && slices[k].tid != slices[k - 1].tid)
            depth = 0;
        while (depth && stack[depth - 1]->end <= slices[k].ts)
            depth--;
        if (depth)
            cr_assert_leq(slices[k].end, stack[depth - 1]->end,
                          "track %lld: \"%s\" [%lld, %lld] overlaps \"%s\" [%lld, %lld]",
                          slices[k].tid, slices[k].name, slices[k].ts, slices[k].end,
                          stack[depth - 1]->name, stack[depth - 1]->ts, stack[depth - 1]->end);
        stack[depth++] = &slices[k];
    }

    size_t flows = 0;
    for (size_t id = 1; id <= n; id++) {
        cr_assert_eq(flows_s[id], flows_f[id], "flow %zu: %lld starts, %lld ends", id, flows_s[id],
                     flows_f[id]);
        cr_assert_leq(flows_s[id], 1);
        if (flows_s[id]) {
            cr_assert_leq(flow_s_ts[id], flow_f_ts[id]);
            flows++;
        }
    }
    free(stack);
    free(begins);
    free(flows_s);
    free(flows_f);
    free(flow_s_ts);
    free(flow_f_ts);
    free(slices);
    return flows;
}

/* Everything a viewer needs from an export of `rec`. With `whole`, also
 * what the scene must show (nothing was dropped). */
static void check_export(const json_t *root, const ts_rec_t *rec, bool whole)
{
    json_t *events = json_object_get(root, "traceEvents");
    size_t n = json_array_size(events);
    slice_t *polls = calloc(n + 1, sizeof *polls);
    size_t np = 0, counters = 0, worker_queue_counters = 0, alive_counters = 0;
    bool worker_named[2] = {false, false}, *tid_named = calloc(rec->num_threads + 2, 1);
    size_t blocked_sleep = 0, runs = 0, spans = 0, logs = 0, lints = 0, spawns = 0;
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        const char *ph = json_string_value(json_object_get(e, "ph"));
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *cat = json_string_value(json_object_get(e, "cat"));
        json_t *args = json_object_get(e, "args");
        long long tid = json_integer_value(json_object_get(e, "tid"));
        if (!strcmp(ph, "M")) {
            if (!strcmp(name, "thread_name")) {
                const char *tn = json_string_value(json_object_get(args, "name"));
                cr_assert(tid >= 1 && tid <= (long long)rec->num_threads, "tid %lld", tid);
                tid_named[tid] = true;
                worker_named[0] |= !strcmp(tn, "worker 0");
                worker_named[1] |= !strcmp(tn, "worker 1");
            }
            continue;
        }
        long long ts = ns_of(json_object_get(e, "ts"));
        if (!strcmp(ph, "X")) {
            cr_assert(tid_named[tid], "slice on an unnamed track %lld", tid);
            long long dur = ns_of(json_object_get(e, "dur"));
            if (!strcmp(cat, "poll") && !json_object_get(args, "begin"))
                polls[np++] = (slice_t){tid, ts, ts + dur,
                                        json_integer_value(json_object_get(args, "task")), name};
            blocked_sleep += !strcmp(name, "blocked: thread sleep");
            runs += !strcmp(name, "blocking-pool run");
            spans += !strcmp(cat, "user");
        } else if (!strcmp(ph, "C")) {
            counters++;
            worker_queue_counters += !strncmp(name, "worker ", 7);
            alive_counters += !strcmp(name, "tasks");
        } else if (!strcmp(ph, "i")) {
            logs += !strcmp(name, "log: hello from a task");
            lints += !strcmp(name, "lint: a finding");
            spawns += !strncmp(name, "spawn ", 6);
        } else if (!strcmp(ph, "b") || !strcmp(ph, "e")) {
            spans += ph[0] == 'b';
        }
    }
    /* One track per worker, and every recording thread is named. */
    cr_assert(worker_named[0] && worker_named[1]);
    for (uint32_t t = 0; t < rec->num_threads; t++)
        cr_assert(tid_named[t + 1], "thread %u has no thread_name", t);

    /* Every poll of the recording has its slice: same thread, start, task. */
    slice_t *want = calloc(rec->n + 1, sizeof *want);
    size_t nw = 0;
    for (size_t k = 0; k < rec->n; k++) {
        const al_trace_event_t *ev = &rec->ev[k];
        if (ev->kind == AL_EV_POLL_BEGIN)
            want[nw++] =
                (slice_t){ev->thread + 1, (long long)(ev->ts_ns - rec->header.clock_base_ns), 0,
                          (long long)ev->task, NULL};
    }
    cr_assert_geq(nw, whole ? NUM_YIELDERS * 6 + 8 + 6 : 1); /* yields, children, the rest */
    cr_assert_eq(np, nw, "%zu poll slices for %zu polls", np, nw);
    qsort(want, nw, sizeof *want, by_tid_ts_task);
    qsort(polls, np, sizeof *polls, by_tid_ts_task);
    for (size_t k = 0; k < nw; k++)
        cr_assert(want[k].tid == polls[k].tid && want[k].ts == polls[k].ts &&
                      want[k].task == polls[k].task,
                  "poll %zu: task %lld at %lld on %lld, slice: task %lld at %lld on %lld", k,
                  want[k].task, want[k].ts, want[k].tid, polls[k].task, polls[k].ts, polls[k].tid);

    size_t flows = check_nesting_and_pairs(root);
    cr_assert_gt(counters, 0);
    json_t *meta = json_object_get(root, "metadata");
    uint64_t dropped = 0;
    for (int t = 0; t < 256; t++)
        dropped += rec->drops[t];
    cr_assert_eq(json_integer_value(json_object_get(meta, "dropped_events")), (json_int_t)dropped);
    cr_assert_eq(json_integer_value(json_object_get(meta, "num_workers")), 2);
    if (whole) {
        cr_assert_eq(dropped, 0);
        cr_assert_gt(flows, 0, "no wake arrows");
        cr_assert_gt(worker_queue_counters, 0);
        cr_assert_gt(alive_counters, 0);
        cr_assert_geq(blocked_sleep, 2, "the sleeper blocks its worker twice");
        cr_assert_geq(runs, 1, "the blocking job ran on the pool");
        cr_assert_geq(spans, 2);
        cr_assert_eq(logs, 1);
        cr_assert_eq(lints, 1);
        cr_assert_geq(spawns, NUM_TASKS + 8);
        cr_assert_eq(json_integer_value(json_object_get(meta, "unmatched_ends")), 0);
        cr_assert_eq(json_integer_value(json_object_get(meta, "slices_closed_early")), 0);
    }
    free(want);
    free(polls);
    free(tid_named);
}

Test(perfetto, a_real_run_exports_nested_slices_flows_and_counters, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    ts_rec_t rec;
    ts_rec_init(&rec);
    pf_out_t live;
    pf_open(&live, NULL);
    char *trace = NULL;
    size_t trace_len = 0;
    FILE *tf = open_memstream(&trace, &trace_len);
    al_tracefile_writer_t *tw;
    cr_assert_eq(al_tracefile_writer_open_file(tf, &tw), 0);
    tee_t tee = {{ts_rec_vt(), &al_perfetto_consumer, &al_tracefile_writer_consumer},
                 {&rec, live.w, tw}};
    al_stream_t *st = NULL;
    cr_assert_eq(al_stream_start(rt, NULL, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, &tee_vt, &tee), 0);

    scene_t *s = calloc(1, sizeof *s);
    s->yields = 5;
    tf_run(rt, &scene_vt, s);
    al_runtime_free(rt); /* stops the stream: on_end for every consumer */
    cr_assert_eq(rec.ends, 1);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(atomic_load(&s->counts[i]), 1);
    free(s);

    json_t *root = pf_close(&live);
    const char *keep = getenv("AL_TEST_PERFETTO_OUT"); /* to look at it in ui.perfetto.dev */
    if (keep) {
        FILE *f = fopen(keep, "w");
        cr_assert_not_null(f, "%s", keep);
        fwrite(live.buf, 1, live.len, f);
        fclose(f);
    }
    check_export(root, &rec, true);

    /* The same export from the trace file, replayed. */
    cr_assert_eq(al_tracefile_writer_close(tw), 0);
    cr_assert_eq(fclose(tf), 0);
    pf_out_t replay;
    pf_open(&replay, NULL);
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_mem(trace, trace_len, &al_perfetto_consumer, replay.w, &err), 0,
                 "%s", err.message);
    json_t *again = pf_close(&replay);
    check_export(again, &rec, true);
    char *a = render(root, "XisfCbe"), *b = render(again, "XisfCbe");
    cr_assert_str_eq(a, b, "the replayed export differs from the live one");
    free(a);
    free(b);
    json_decref(again);
    json_decref(root);
    free(replay.buf);
    free(live.buf);
    free(trace);
    ts_rec_free(&rec);
}

Test(perfetto, dropped_events_never_break_nesting_or_pairing, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    ts_rec_t rec;
    ts_rec_init(&rec);
    /* 64 events per thread, drained every 100 ms: most of the run is lost. */
    al_stream_config_t cfg = {.ring_events = 64, .collect_every_us = 100000};
    pf_out_t out;
    pf_open(&out, NULL);
    tee_t tee = {{ts_rec_vt(), &al_perfetto_consumer}, {&rec, out.w}};
    al_stream_t *st = NULL;
    cr_assert_eq(al_stream_start(rt, &cfg, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, &tee_vt, &tee), 0);
    scene_t *s = calloc(1, sizeof *s);
    s->yields = 200;
    tf_run(rt, &scene_vt, s);
    al_runtime_free(rt);
    free(s);
    json_t *root = pf_close(&out);
    uint64_t dropped = 0;
    for (int t = 0; t < 256; t++)
        dropped += rec.drops[t];
    cr_assert_gt(dropped, 0, "the rings were meant to overflow");
    check_export(root, &rec, false);
    json_decref(root);
    free(out.buf);
    ts_rec_free(&rec);
}
