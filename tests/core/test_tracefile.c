/*
 * test_tracefile.c — trace files: exact round trips (hand-built and live),
 * truncation at every byte, corrupted bytes, wrong versions, incremental
 * reading, and the size of a realistic recording (at most 8 bytes/event).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "al_test.h"
#include "al_test_futures.h"
#include "al_test_stream.h"

/* Feed a consumer the way a live stream would. */
static void feed_sample(const al_stream_consumer_t *c, void *self, al_trace_event_t **out_ev,
                        size_t *out_n)
{
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = 2,
                            .flavor = 1,
                            .global_queue_interval = 61,
                            .event_interval = 61,
                            .max_blocking_threads = 512,
                            .clock_base_ns = 5000000000ull,
                            .wall_base_ns = 1700000000000000000ull};
    c->on_header(self, &h);
    c->on_thread(self, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    c->on_thread(self, 1, "al-blocking", AL_THREAD_BLOCKING, -1);
    c->on_string(self, 1, "fetch", 5);
    c->on_string(self, 2, "with \"quotes\" and \n", 19);
    static al_trace_event_t ev[AL_EV__COUNT * 4];
    size_t n = 0;
    uint64_t ts = 5000000000ull;
    const uint64_t values[4] = {0, 7, 1ull << 63, UINT64_MAX};
    for (unsigned k = 0; k < AL_EV__COUNT; k++) {
        for (int v = 0; v < 4; v++) {
            ts += (uint64_t)v * 977 + k;
            ev[n++] = (al_trace_event_t){.ts_ns = ts,
                                         .task = v == 0 ? 0 : values[v] - k,
                                         .a = values[(v + 1) % 4],
                                         .b = values[(v + 2) % 4],
                                         .str = (uint32_t)(v % 3),
                                         .kind = (uint16_t)k,
                                         .thread = (uint16_t)(v & 1),
                                         .worker = v & 1 ? -1 : (int16_t)(v * 300)};
        }
    }
    c->on_events(self, ev, n / 2);
    c->on_drops(self, 1, 42);
    c->on_events(self, ev + n / 2, n - n / 2);
    c->on_end(self);
    *out_ev = ev;
    *out_n = n;
}

static char *write_sample(size_t *len, al_trace_event_t **ev, size_t *n)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    al_tracefile_writer_t *w;
    cr_assert_eq(al_tracefile_writer_open_file(f, &w), 0);
    feed_sample(&al_tracefile_writer_consumer, w, ev, n);
    cr_assert_eq(al_tracefile_writer_close(w), 0);
    fclose(f);
    return buf;
}

static void assert_same_events(const al_trace_event_t *a, const al_trace_event_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(a[i].ts_ns, b[i].ts_ns, "event %zu ts", i);
        cr_assert_eq(a[i].task, b[i].task, "event %zu task", i);
        cr_assert_eq(a[i].a, b[i].a, "event %zu a", i);
        cr_assert_eq(a[i].b, b[i].b, "event %zu b", i);
        cr_assert_eq(a[i].str, b[i].str, "event %zu str", i);
        cr_assert_eq(a[i].kind, b[i].kind, "event %zu kind", i);
        cr_assert_eq(a[i].thread, b[i].thread, "event %zu thread", i);
        cr_assert_eq(a[i].worker, b[i].worker, "event %zu worker", i);
    }
}

Test(tracefile, every_kind_and_field_range_round_trips)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &rec, &err), 0, "%s", err.message);
    cr_assert_eq(rec.headers, 1);
    cr_assert_eq(rec.ends, 1);
    cr_assert_eq(rec.header.num_workers, 2);
    cr_assert_eq(rec.header.wall_base_ns, 1700000000000000000ull);
    cr_assert_str_eq(rec.thread_names[0], "al-worker-0");
    cr_assert_eq(rec.thread_kinds[1], AL_THREAD_BLOCKING);
    cr_assert_str_eq(ts_str(&rec, 2), "with \"quotes\" and \n");
    cr_assert_eq(rec.drops[1], 42);
    cr_assert_eq(rec.n, n);
    assert_same_events(rec.ev, ev, n);
    ts_rec_free(&rec);
    free(buf);
}

Test(tracefile, truncated_at_every_byte_keeps_the_events_before)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    size_t prev = 0;
    for (size_t cut = 0; cut < len; cut++) {
        ts_rec_t rec;
        ts_rec_init(&rec);
        al_tracefile_error_t err;
        int rc = al_tracefile_read_mem(buf, cut, ts_rec_vt(), &rec, &err);
        /* A cut at a record boundary is a valid file still being written. */
        cr_assert(rc == 0 || rc == AL_ETRUNCATED, "cut %zu: %s", cut, err.message);
        if (rc)
            cr_assert_leq(err.offset, cut, "cut %zu: %s", cut, err.message);
        cr_assert_eq(rec.ends, 0);
        cr_assert_geq(rec.n, prev, "cut %zu lost events", cut);
        assert_same_events(rec.ev, ev, rec.n);
        prev = rec.n;
        ts_rec_free(&rec);
    }
    free(buf);
}

Test(tracefile, corrupted_bytes_are_reported_never_crash)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    const uint8_t flips[] = {0x01, 0x80, 0xff, 0x3f};
    /* Every byte in release; every 4th / 8th under ASan / TSan, which are
     * many times slower (the fuzz corpus covers the rest). */
    size_t step = (size_t)(1000 / al_test_scale(1000));
    for (size_t i = 0; i < len; i += step) {
        for (size_t f = 0; f < sizeof flips; f++) {
            char *bad = malloc(len);
            memcpy(bad, buf, len);
            bad[i] ^= (char)flips[f];
            ts_rec_t rec;
            ts_rec_init(&rec);
            al_tracefile_error_t err;
            int rc = al_tracefile_read_mem(bad, len, ts_rec_vt(), &rec, &err);
            cr_assert(rc == 0 || rc == AL_EFORMAT || rc == AL_ETRUNCATED || rc == AL_EVERSION,
                      "byte %zu ^ %02x: %d", i, flips[f], rc);
            if (rc) {
                cr_assert(strncmp(err.message, "byte ", 5) == 0, "%s", err.message);
                cr_assert_leq(err.offset, len);
            }
            ts_rec_free(&rec);
            free(bad);
        }
    }
    free(buf);
}

Test(tracefile, wrong_magic_and_newer_versions_are_refused)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_tracefile_error_t err;
    buf[8] = AL_TRACEFILE_VERSION + 1; /* the version varint */
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &rec, &err), AL_EVERSION);
    cr_assert_eq(err.offset, 8);
    char want[32];
    snprintf(want, sizeof want, "version %d", AL_TRACEFILE_VERSION + 1);
    cr_assert(strstr(err.message, want), "%s", err.message);
    cr_assert_eq(rec.n, 0);
    buf[0] = 'X';
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &rec, &err), AL_EFORMAT);
    cr_assert_eq(err.offset, 0);
    cr_assert(strstr(err.message, "not an asynclab trace"), "%s", err.message);
    cr_assert_eq(al_tracefile_read_mem(buf, 0, ts_rec_vt(), &rec, &err), AL_ETRUNCATED);
    cr_assert_eq(al_tracefile_read_file("/nonexistent/x.trace", ts_rec_vt(), &rec, &err), -ENOENT);
    cr_assert(strstr(err.message, "/nonexistent/x.trace"), "%s", err.message);
    ts_rec_free(&rec);
    free(buf);
}

/* Version 2 added the lesson hooks (CAPTION, HIGHLIGHT, MARKER). A file that
 * says version 1 cannot hold them (a reader takes one as damage), and a
 * version-1 stream copied through the writer stays version 1 without them. */
Test(tracefile, lesson_hook_kinds_exist_from_version_2_on)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_tracefile_error_t err;
    cr_assert_eq(buf[8], 2, "a new file is version 2");
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &rec, &err), 0, "%s", err.message);
    size_t hooks = 0;
    for (size_t i = 0; i < rec.n; i++)
        hooks += rec.ev[i].kind >= AL_EV_CAPTION && rec.ev[i].kind <= AL_EV_MARKER;
    cr_assert_eq(hooks, 3 * 4, "every CAPTION, HIGHLIGHT and MARKER event read back");
    ts_rec_free(&rec);

    /* The same bytes said to be version 1: the first CAPTION is damage. */
    ts_rec_init(&rec);
    buf[8] = 1;
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &rec, &err), AL_EFORMAT);
    cr_assert(strstr(err.message, "unknown event kind 42"), "%s", err.message);
    cr_assert_eq(rec.header.version, 1);
    for (size_t i = 0; i < rec.n; i++)
        cr_assert_lt(rec.ev[i].kind, AL_EV_CAPTION);
    ts_rec_free(&rec);
    free(buf);

    /* A version-1 header through the writer: version 1, no hook events. */
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    al_tracefile_writer_t *w;
    cr_assert_eq(al_tracefile_writer_open_file(f, &w), 0);
    al_stream_header_t h = {.version = 1, .num_workers = 1, .flavor = 1, .clock_base_ns = 10};
    al_tracefile_writer_consumer.on_header(w, &h);
    al_tracefile_writer_consumer.on_thread(w, 0, "main", AL_THREAD_OTHER, -1);
    al_trace_event_t two[2] = {{.ts_ns = 20, .kind = AL_EV_POLL_BEGIN, .task = 1},
                               {.ts_ns = 30, .kind = AL_EV_MARKER, .task = 1}};
    al_tracefile_writer_consumer.on_events(w, two, 2);
    cr_assert_eq(al_tracefile_writer_close(w), 0);
    fclose(f);
    cr_assert_eq(out[8], 1);
    ts_rec_init(&rec);
    cr_assert_eq(al_tracefile_read_mem(out, out_len, ts_rec_vt(), &rec, &err), 0, "%s",
                 err.message);
    cr_assert_eq(rec.header.version, 1);
    cr_assert_eq(rec.n, 1, "only the POLL_BEGIN");
    cr_assert_eq(rec.ev[0].kind, AL_EV_POLL_BEGIN);
    ts_rec_free(&rec);
    free(out);
}

Test(tracefile, byte_by_byte_feeding_equals_reading_at_once)
{
    size_t len, n;
    al_trace_event_t *ev;
    char *buf = write_sample(&len, &ev, &n);
    ts_rec_t rec;
    ts_rec_init(&rec);
    al_tracefile_reader_t *r;
    cr_assert_eq(al_tracefile_reader_new(ts_rec_vt(), &rec, &r), 0);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(al_tracefile_reader_feed(r, buf + i, 1, NULL), 0, "byte %zu", i);
    cr_assert(al_tracefile_reader_ended(r));
    cr_assert_eq(al_tracefile_reader_finish(r, NULL), 0);
    al_tracefile_reader_free(r);
    cr_assert_eq(rec.n, n);
    assert_same_events(rec.ev, ev, n);
    ts_rec_free(&rec);
    free(buf);
}

/* ---- a live recording: the file replays exactly what the stream delivered ---- */

typedef struct {
    int children; /* tasks still to spawn down this chain */
    int yields;   /* yields still to do */
    al_yield_t y;
    bool spawned;
} chatty_t;

static al_poll_t chatty_poll(void *f, al_context_t *cx, void *out);
static const al_future_vtable_t chatty_vt = {
    .type_name = "chatty", .poll = chatty_poll, .future_size = sizeof(chatty_t)};

/* Spawns a child (the chain goes on), then yields a few times. */
static al_poll_t chatty_poll(void *f, al_context_t *cx, void *out)
{
    chatty_t *c = f;
    if (!c->spawned) {
        c->spawned = true;
        for (int i = 0; i < 2 && c->children > 0; i++) {
            chatty_t child = {.children = (c->children - 1) / 2, .yields = 4};
            al_spawn_opts_t o = {.name = "chatty"};
            al_spawn(NULL, &chatty_vt, &child, &o, NULL);
        }
    }
    while (c->yields > 0) {
        if (al_yield_poll(&c->y, cx) == AL_PENDING)
            return AL_PENDING;
        c->y = AL_YIELD_INIT;
        c->yields--;
    }
    return AL_READY;
}

Test(tracefile, a_live_recording_replays_exactly_and_is_compact, .timeout = 60)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    al_tracefile_writer_t *w;
    cr_assert_eq(al_tracefile_writer_open_file(f, &w), 0);
    ts_rec_t live, replay;
    ts_rec_init(&live);
    ts_rec_init(&replay);
    al_stream_t *st;
    cr_assert_eq(al_stream_start(rt, NULL, &st), 0);
    cr_assert_eq(al_stream_subscribe(st, &al_tracefile_writer_consumer, w), 0);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), &live), 0);
    chatty_t root = {.children = (int)al_test_scale(4000), .yields = 4};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &chatty_vt, &root, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt); /* stops the stream: both consumers got on_end */
    uint64_t bytes, events;
    al_tracefile_writer_counts(w, &bytes, &events);
    cr_assert_eq(al_tracefile_writer_close(w), 0);
    fclose(f);
    cr_assert_eq(events, live.n);
    cr_assert_eq(bytes, len);

    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_mem(buf, len, ts_rec_vt(), &replay, &err), 0, "%s", err.message);
    cr_assert_eq(replay.n, live.n);
    assert_same_events(replay.ev, live.ev, live.n);
    cr_assert_eq(replay.num_strings, live.num_strings);
    cr_assert_eq(replay.num_threads, live.num_threads);
    /* Compact: spawns, schedules, polls and wakes average at most 8 bytes. */
    double per_event = (double)len / (double)live.n;
    cr_assert_leq(per_event, 8.0, "%.2f bytes per event", per_event);
    if (getenv("AL_TEST_VERBOSE"))
        fprintf(stderr, "%zu events, %.2f bytes per event\n", live.n, per_event);
    ts_rec_free(&live);
    ts_rec_free(&replay);
    free(buf);
}

/* ASYNCLAB_TRACE=path records a runtime without any code: the file it leaves
 * replays the runtime's start, its tasks, and its shutdown. */
Test(tracefile, asynclab_trace_env_records_a_runtime_to_a_file, .timeout = 60)
{
    char path[] = "/tmp/al-env-trace-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    setenv("ASYNCLAB_TRACE", path, 1);
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    unsetenv("ASYNCLAB_TRACE");
    cr_assert_not_null(al_stream_of(rt), "the variable started a stream");
    chatty_t root = {.children = 30, .yields = 2};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &chatty_vt, &root, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt); /* closes the file */

    ts_rec_t replay;
    ts_rec_init(&replay);
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_file(path, ts_rec_vt(), &replay, &err), 0, "%s", err.message);
    cr_assert_eq(replay.ends, 1, "the end record was written");
    cr_assert_eq(replay.header.num_workers, 2);
    size_t spawns = 0, starts = 0, shutdowns = 0;
    for (size_t i = 0; i < replay.n; i++) {
        spawns += replay.ev[i].kind == AL_EV_TASK_SPAWN;
        starts += replay.ev[i].kind == AL_EV_RUNTIME_START;
        shutdowns += replay.ev[i].kind == AL_EV_RUNTIME_SHUTDOWN;
    }
    cr_assert_eq(starts, 1);
    cr_assert_eq(shutdowns, 1);
    /* The root spawns its two children before it returns; their own
     * children may still be unspawned when the runtime shuts down. */
    cr_assert_geq(spawns, 3, "root and its two children: %zu", spawns);
    ts_rec_free(&replay);
    unlink(path);
}
