/*
 * make_corpus.c — writes the seed corpus of the trace reader's fuzzer
 * (tests/fuzz/corpus/, committed; `make fuzz-corpus` rewrites it, byte for
 * byte the same unless this program or the writer changed).
 *
 * Valid traces come from the real writer (al_tracefile_writer_consumer fed by
 * hand, as a live stream would). Damaged ones take such a trace and cut it,
 * or append hand-encoded records (docs/trace-format.md). The file name says
 * what the reader must make of it (tests/core/test_trace_corpus.c checks):
 *
 *   valid-*.trace                 code 0, and the end record was read
 *   open-*.trace                  code 0, no end record (still being written)
 *   bad-<code>-<offset>-*.trace   that error (truncated, format, version)
 *                                 reported at that byte offset
 *   damaged-*.trace               any code; only the reader's promises hold
 *
 * Files the fuzzer adds (named by their SHA-1) are checked like damaged-*.
 *
 * Usage: make_corpus DIR
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_event.h"
#include "al_runtime.h"
#include "al_stream.h"
#include "al_tracefile.h"

static const char *dir;
static size_t files, total;

/* ---- bytes ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes_t;

static void put(bytes_t *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) {
            perror("realloc");
            exit(1);
        }
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_byte(bytes_t *b, uint8_t v)
{
    put(b, &v, 1);
}

/* Written here again rather than taken from the codec, so that the corpus
 * checks the format document and not the code against itself. */
static void put_varint(bytes_t *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}

static uint64_t zigzag(int64_t v)
{
    return v < 0 ? ((uint64_t)(-(v + 1)) << 1) | 1 : (uint64_t)v << 1;
}

static bytes_t copy_of(const bytes_t *b, size_t n)
{
    bytes_t c = {0};
    put(&c, b->p, n < b->n ? n : b->n);
    return c;
}

static void emit(const bytes_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(const bytes_t *b, const char *fmt, ...)
{
    char name[200], path[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/%s.trace", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (b->n && fwrite(b->p, 1, b->n, f) != b->n) || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    files++;
    total += b->n;
}

/* ---- traces from the real writer ---- */

typedef struct {
    FILE *f;
    char *mem;
    size_t len;
    al_tracefile_writer_t *w;
    const al_stream_consumer_t *c;
} tw_t;

static const al_stream_header_t default_header = {.version = AL_STREAM_VERSION,
                                                  .num_workers = 2,
                                                  .flavor = AL_MULTI_THREAD,
                                                  .global_queue_interval = 61,
                                                  .event_interval = 61,
                                                  .max_blocking_threads = 512,
                                                  .clock_base_ns = 1000000000ull,
                                                  .wall_base_ns = 1767225600000000000ull};

static void tw_open(tw_t *t, const al_stream_header_t *h)
{
    memset(t, 0, sizeof *t);
    t->f = open_memstream(&t->mem, &t->len);
    if (!t->f || al_tracefile_writer_open_file(t->f, &t->w) != 0) {
        fprintf(stderr, "make_corpus: cannot open a writer\n");
        exit(1);
    }
    t->c = &al_tracefile_writer_consumer;
    t->c->on_header(t->w, h ? h : &default_header);
}

/* Bytes written so far: where the next record starts. */
static uint64_t tw_pos(tw_t *t)
{
    uint64_t bytes;
    al_tracefile_writer_counts(t->w, &bytes, NULL);
    return bytes;
}

/* Close the writer; the bytes, with the end record or without it. */
static bytes_t tw_close(tw_t *t, bool with_end)
{
    uint64_t before_end = tw_pos(t);
    if (al_tracefile_writer_close(t->w) != 0 || fclose(t->f) != 0) {
        fprintf(stderr, "make_corpus: write error\n");
        exit(1);
    }
    bytes_t b = {0};
    put(&b, t->mem, with_end ? t->len : (size_t)before_end);
    free(t->mem);
    return b;
}

static void ev1(tw_t *t, al_trace_event_t e)
{
    t->c->on_events(t->w, &e, 1);
}

#define EV(...) ((al_trace_event_t){__VA_ARGS__})

/* Two workers and the block_on thread, two strings: the usual start. */
static void common_start(tw_t *t)
{
    t->c->on_thread(t->w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    t->c->on_thread(t->w, 1, "al-worker-1", AL_THREAD_WORKER, 1);
    t->c->on_thread(t->w, 2, "main", AL_THREAD_OTHER, -1);
    t->c->on_string(t->w, 1, "main", 4);
    t->c->on_string(t->w, 2, "src/server.c:42", 15);
}

/* A small realistic scene: a runtime starts, spawns, polls, wakes, steals,
 * parks, uses a channel, a lock and a timer, and shuts down. */
static void scene(tw_t *t)
{
    const uint64_t T = default_header.clock_base_ns;
    common_start(t);
    ev1(t, EV(.ts_ns = T + 1000, .kind = AL_EV_RUNTIME_START, .a = 2, .b = 1, .thread = 2,
              .worker = -1));
    ev1(t, EV(.ts_ns = T + 2000, .kind = AL_EV_TASK_SPAWN, .task = 1, .b = 0, .str = 1, .thread = 2,
              .worker = -1));
    ev1(t, EV(.ts_ns = T + 2100, .kind = AL_EV_TASK_SPAWN_LOCATION, .task = 1, .str = 2,
              .thread = 2, .worker = -1));
    ev1(t, EV(.ts_ns = T + 2200, .kind = AL_EV_TASK_SCHEDULE, .task = 1, .a = AL_QUEUE_INJECT,
              .thread = 2, .worker = -1));
    t->c->on_string(t->w, 3, "worker task", 11);
    uint64_t ts = T + 3000;
    for (uint64_t task = 2; task < 12; task++) {
        int wk = (int)(task & 1);
        ev1(t, EV(.ts_ns = ts, .kind = AL_EV_TASK_SPAWN, .task = task, .a = 1, .str = 3,
                  .thread = (uint16_t)wk, .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 40, .kind = AL_EV_TASK_SCHEDULE, .task = task, .a = AL_QUEUE_LOCAL,
                  .thread = (uint16_t)wk, .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 300, .kind = AL_EV_POLL_BEGIN, .task = task, .thread = (uint16_t)wk,
                  .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 900, .kind = AL_EV_CHAN_SEND, .task = task, .a = 7, .b = task - 1,
                  .thread = (uint16_t)wk, .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 1000, .kind = AL_EV_WAKE, .task = 1, .a = task, .b = 5,
                  .thread = (uint16_t)wk, .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 1100, .kind = AL_EV_POLL_END, .task = task, .a = AL_POLL_END_READY,
                  .b = 127, .thread = (uint16_t)wk, .worker = (int16_t)wk));
        ev1(t, EV(.ts_ns = ts + 1150, .kind = AL_EV_TASK_END, .task = task, .thread = (uint16_t)wk,
                  .worker = (int16_t)wk));
        ts += 2000;
    }
    ev1(t, EV(.ts_ns = ts, .kind = AL_EV_SEARCH_BEGIN, .thread = 1, .worker = 1));
    ev1(t, EV(.ts_ns = ts + 10, .kind = AL_EV_STEAL, .a = 0, .b = 3, .thread = 1, .worker = 1));
    ev1(t, EV(.ts_ns = ts + 20, .kind = AL_EV_SEARCH_END, .a = 1, .thread = 1, .worker = 1));
    ev1(t, EV(.ts_ns = ts + 30, .kind = AL_EV_LOCK_CONTEND, .task = 3, .a = 9, .b = 4, .thread = 1,
              .worker = 1));
    ev1(t, EV(.ts_ns = ts + 35, .kind = AL_EV_TIMER_REGISTER, .task = 3, .a = 1, .b = ts + 5000000,
              .thread = 1, .worker = 1));
    ev1(t, EV(.ts_ns = ts + 50, .kind = AL_EV_PARK, .a = 1, .thread = 0, .worker = 0));
    t->c->on_drops(t->w, 1, 3);
    ev1(t, EV(.ts_ns = ts + 5000100, .kind = AL_EV_UNPARK, .a = AL_UNPARK_TIMER, .thread = 0,
              .worker = 0));
    ev1(t, EV(.ts_ns = ts + 5000200, .kind = AL_EV_TIMER_FIRE, .task = 3, .a = 1, .thread = 0,
              .worker = 0));
    ev1(t, EV(.ts_ns = ts + 6000000, .kind = AL_EV_RUNTIME_SHUTDOWN, .a = 0, .thread = 2,
              .worker = -1));
}

/* Every kind, with each field at 0, small, 2^63 and UINT64_MAX (as in
 * tests/core/test_tracefile.c), in two batches with a drops record between. */
static void every_kind(tw_t *t)
{
    t->c->on_thread(t->w, 0, "al-worker-0", AL_THREAD_WORKER, 0);
    t->c->on_thread(t->w, 1, "al-blocking", AL_THREAD_BLOCKING, -1);
    t->c->on_string(t->w, 1, "fetch", 5);
    t->c->on_string(t->w, 2, "with \"quotes\" and \n", 19);
    static al_trace_event_t ev[AL_EV__COUNT * 4];
    size_t n = 0;
    uint64_t ts = default_header.clock_base_ns;
    const uint64_t values[4] = {0, 7, 1ull << 63, UINT64_MAX};
    for (unsigned k = 0; k < AL_EV__COUNT; k++) {
        for (int v = 0; v < 4; v++) {
            ts += (uint64_t)v * 977 + k;
            ev[n++] = EV(.ts_ns = ts, .task = v == 0 ? 0 : values[v] - k, .a = values[(v + 1) % 4],
                         .b = values[(v + 2) % 4], .str = (uint32_t)(v % 3), .kind = (uint16_t)k,
                         .thread = (uint16_t)(v & 1), .worker = v & 1 ? -1 : (int16_t)(v * 300));
        }
    }
    t->c->on_events(t->w, ev, n / 2);
    t->c->on_drops(t->w, 1, 42);
    t->c->on_events(t->w, ev + n / 2, n - n / 2);
}

static void valid_traces(void)
{
    tw_t t;
    bytes_t b;

    al_stream_header_t ct = default_header;
    ct.num_workers = 1;
    ct.flavor = AL_CURRENT_THREAD;
    tw_open(&t, &ct);
    b = tw_close(&t, true);
    emit(&b, "valid-minimal");
    free(b.p);

    tw_open(&t, NULL);
    scene(&t);
    b = tw_close(&t, true);
    emit(&b, "valid-scene");
    free(b.p);

    tw_open(&t, NULL);
    every_kind(&t);
    b = tw_close(&t, true);
    emit(&b, "valid-every-kind");
    free(b.p);
    /* The same through a version-1 header: the writer keeps the version and
     * leaves out the kinds version 1 did not have (old files still read). */
    al_stream_header_t v1 = default_header;
    v1.version = 1;
    tw_open(&t, &v1);
    every_kind(&t);
    b = tw_close(&t, true);
    emit(&b, "valid-every-kind-version-1");
    free(b.p);

    /* The limits: thread ids 0 and 65535, workers -1 and 1023, a name the
     * writer cuts at 256 bytes, empty and binary strings, fields at
     * UINT64_MAX, a task id delta that wraps, time ending at UINT64_MAX. */
    al_stream_header_t big = {.version = AL_STREAM_VERSION,
                              .num_workers = 1024,
                              .flavor = AL_MULTI_THREAD,
                              .global_queue_interval = UINT32_MAX,
                              .event_interval = UINT32_MAX,
                              .max_blocking_threads = UINT32_MAX,
                              .clock_base_ns = UINT64_MAX - 1000000,
                              .wall_base_ns = UINT64_MAX};
    tw_open(&t, &big);
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    t.c->on_thread(t.w, 65535, name, AL_THREAD_WORKER, 1023);
    t.c->on_thread(t.w, 0, "", AL_THREAD_BLOCKING, -1);
    t.c->on_string(t.w, 1, "", 0);
    t.c->on_string(t.w, 2, "nul\0inside\xff\x80", 13);
    char longstr[1000];
    for (size_t i = 0; i < sizeof longstr; i++)
        longstr[i] = (char)('a' + i % 26);
    t.c->on_string(t.w, 3, longstr, sizeof longstr);
    uint64_t T = big.clock_base_ns;
    ev1(&t, EV(.ts_ns = T, .kind = AL_EV_USER_LOG, .task = UINT64_MAX, .str = 2, .thread = 65535,
               .worker = 1023));
    ev1(&t, EV(.ts_ns = T + 1, .kind = AL_EV_USER_LOG, .task = 1, .a = UINT64_MAX, .b = UINT64_MAX,
               .str = 3, .thread = 65535, .worker = 1023));
    ev1(&t, EV(.ts_ns = T + 2, .kind = AL_EV_SPAN_END, .task = UINT64_MAX, .str = 1, .thread = 0,
               .worker = -1));
    ev1(&t, EV(.ts_ns = UINT64_MAX, .kind = AL_EV__COUNT - 1, .thread = 0, .worker = 1023));
    t.c->on_drops(t.w, 65535, UINT64_MAX);
    b = tw_close(&t, true);
    emit(&b, "valid-limits");
    free(b.p);

    /* More events than the reader's batch (4096): one kind, no fields. */
    tw_open(&t, NULL);
    t.c->on_thread(t.w, 0, "w", AL_THREAD_WORKER, 0);
    static al_trace_event_t many[4200];
    for (size_t i = 0; i < 4200; i++)
        many[i] = EV(.ts_ns = default_header.clock_base_ns + i / 2, .kind = AL_EV_POLL_BEGIN,
                     .thread = 0, .worker = 0);
    t.c->on_events(t.w, many, 4200);
    b = tw_close(&t, true);
    emit(&b, "valid-4200-events");
    free(b.p);

    /* Out-of-order timestamps: the writer raises them (delta 0); a thread id
     * defined twice (the second name wins); drops on an undefined thread. */
    tw_open(&t, NULL);
    t.c->on_thread(t.w, 3, "first-name", AL_THREAD_OTHER, -1);
    ev1(&t, EV(.ts_ns = default_header.clock_base_ns + 500, .kind = AL_EV_USER_LOG, .thread = 3,
               .worker = -1));
    ev1(&t, EV(.ts_ns = default_header.clock_base_ns + 100, .kind = AL_EV_USER_LOG, .thread = 3,
               .worker = -1));
    ev1(&t, EV(.ts_ns = 0, .kind = AL_EV_USER_LOG, .thread = 3, .worker = -1));
    t.c->on_thread(t.w, 3, "second-name", AL_THREAD_BLOCKING, -1);
    t.c->on_drops(t.w, 77, 1);
    ev1(&t, EV(.ts_ns = default_header.clock_base_ns + 600, .kind = AL_EV_USER_LOG, .thread = 3,
               .worker = -1));
    b = tw_close(&t, true);
    emit(&b, "valid-raised-time-redefined-thread");
    free(b.p);

    /* Still being written: no end record. */
    tw_open(&t, NULL);
    b = tw_close(&t, false);
    emit(&b, "open-header-only");
    free(b.p);
    tw_open(&t, NULL);
    scene(&t);
    b = tw_close(&t, false);
    emit(&b, "open-scene-no-end");
    free(b.p);
}

/* ---- hand-encoded records ---- */

static void put_header(bytes_t *b, uint64_t version, uint64_t workers, uint64_t flavor,
                       uint64_t clock_base)
{
    put(b, "ALTRACE\0", 8);
    put_varint(b, version);
    put_varint(b, workers);
    put_varint(b, flavor);
    put_varint(b, 61);
    put_varint(b, 61);
    put_varint(b, 512);
    put_varint(b, clock_base);
    put_varint(b, 1767225600000000000ull);
}

/* An event record: kind, flags, then the fields the flags announce. */
static void put_event(bytes_t *b, uint8_t kind, uint8_t flags, uint64_t dt, uint64_t thread,
                      int64_t worker, int64_t task_delta, uint64_t a, uint64_t bb, uint64_t str)
{
    put_byte(b, kind);
    put_byte(b, flags);
    put_varint(b, dt);
    if (flags & 0x01)
        put_varint(b, thread);
    if (flags & 0x02)
        put_varint(b, zigzag(worker));
    if (flags & 0x04)
        put_varint(b, zigzag(task_delta));
    if (flags & 0x08)
        put_varint(b, a);
    if (flags & 0x10)
        put_varint(b, bb);
    if (flags & 0x20)
        put_varint(b, str);
}

static void put_thread(bytes_t *b, uint64_t id, uint8_t kind, int64_t worker, const char *name,
                       uint64_t len)
{
    put_byte(b, 0xf0);
    put_varint(b, id);
    put_byte(b, kind);
    put_varint(b, zigzag(worker));
    put_varint(b, len);
    put(b, name, strlen(name) < len ? strlen(name) : len);
}

static void put_string(bytes_t *b, uint64_t id, const char *s, uint64_t len)
{
    put_byte(b, 0xf1);
    put_varint(b, id);
    put_varint(b, len);
    put(b, s, strlen(s) < len ? strlen(s) : len);
}

/* A varint that never ends (ten bytes with the continuation bit). */
static void put_endless_varint(bytes_t *b)
{
    for (int i = 0; i < 10; i++)
        put_byte(b, 0xff);
    put_byte(b, 0x01);
}

/* Ten bytes whose value needs 65 bits. */
static void put_varint_65_bits(bytes_t *b)
{
    for (int i = 0; i < 9; i++)
        put_byte(b, 0x80);
    put_byte(b, 0x02);
}

static void valid_hand_encoded(void)
{
    /* Non-minimal varints and redundant flags: writers never produce them,
     * readers accept them (the value is what counts). */
    bytes_t b = {0};
    put(&b, "ALTRACE\0", 8);
    const uint8_t version_1_long[] = {0x81, 0x80, 0x00};
    put(&b, version_1_long, sizeof version_1_long);
    put_varint(&b, 4);
    put_varint(&b, 1);
    const uint8_t zero_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    put(&b, zero_long, sizeof zero_long); /* global queue interval: 0 in 10 bytes */
    put_varint(&b, 61);
    put_varint(&b, 0);
    put_varint(&b, 0);
    put_varint(&b, 0);
    put_thread(&b, 0, 0, 0, "w0", 2);
    /* Every flag, every field 0 (and a task delta of 0: task stays 0). */
    put_event(&b, AL_EV_POLL_BEGIN, 0x3f, 0, 0, 0, 0, 0, 0, 0);
    /* The thread flag repeating the current thread; a in two bytes. */
    put_byte(&b, AL_EV_POLL_END);
    put_byte(&b, 0x09);
    put_byte(&b, 0x00);
    put_byte(&b, 0x00);
    put_byte(&b, 0x81);
    put_byte(&b, 0x00);
    /* Drops with a 10-byte UINT64_MAX. */
    put_byte(&b, 0xf2);
    put_varint(&b, 0);
    put_varint(&b, UINT64_MAX);
    put_byte(&b, 0xff);
    emit(&b, "valid-overlong-varints-redundant-flags");
    free(b.p);
}

/* A writer-made prefix: header, the usual threads and strings, a few events.
 * Damage is appended at the returned offset. */
static bytes_t prefix(void)
{
    tw_t t;
    tw_open(&t, NULL);
    common_start(&t);
    ev1(&t, EV(.ts_ns = default_header.clock_base_ns + 10, .kind = AL_EV_RUNTIME_START, .a = 2,
               .b = 1, .thread = 2, .worker = -1));
    ev1(&t, EV(.ts_ns = default_header.clock_base_ns + 20, .kind = AL_EV_TASK_SPAWN, .task = 1,
               .str = 1, .thread = 2, .worker = -1));
    return tw_close(&t, false);
}

static void bad_traces(void)
{
    bytes_t b = {0};
    bytes_t full;
    {
        tw_t t;
        tw_open(&t, NULL);
        scene(&t);
        full = tw_close(&t, true);
    }

    /* -- truncated -- */
    emit(&b, "bad-truncated-0-empty");
    b = copy_of(&full, 4);
    emit(&b, "bad-truncated-0-partial-magic");
    free(b.p);
    b = copy_of(&full, 8);
    emit(&b, "bad-truncated-0-magic-only");
    free(b.p);
    /* Cut inside the last header field (wall_base_ns, 9 bytes long). */
    b = (bytes_t){0};
    put_header(&b, 1, 2, 1, 1000000000);
    b.n -= 3;
    emit(&b, "bad-truncated-0-header-cut");
    free(b.p);

    bytes_t p = prefix();
    size_t at = p.n;
    /* An event cut inside a varint (a = 300 needs two bytes). */
    b = copy_of(&p, at);
    put_event(&b, AL_EV_CHAN_SEND, 0x09, 5, 0, 0, 0, 300, 0, 0);
    b.n -= 1;
    emit(&b, "bad-truncated-%zu-event-cut-in-varint", at);
    free(b.p);
    b = copy_of(&p, at);
    put_byte(&b, AL_EV_POLL_BEGIN);
    emit(&b, "bad-truncated-%zu-event-kind-only", at);
    free(b.p);
    b = copy_of(&p, at);
    const char *text = "a string whose last bytes were never written";
    put_string(&b, 3, text, strlen(text));
    b.n -= 20;
    emit(&b, "bad-truncated-%zu-string-cut", at);
    free(b.p);
    b = copy_of(&p, at);
    put_thread(&b, 3, AL_THREAD_BLOCKING, -1, "al-blocking-0", 13);
    b.n -= 5;
    emit(&b, "bad-truncated-%zu-thread-name-cut", at);
    free(b.p);
    b = copy_of(&p, at);
    put_byte(&b, 0xf2);
    put_varint(&b, 1);
    put_byte(&b, 0x80);
    emit(&b, "bad-truncated-%zu-drops-cut", at);
    free(b.p);

    /* -- format: the header -- */
    b = copy_of(&full, full.n);
    b.p[7] = 1;
    emit(&b, "bad-format-0-wrong-magic");
    free(b.p);
    b = (bytes_t){0};
    put(&b, "this is a text file, not a trace\n", 33);
    emit(&b, "bad-format-0-text");
    free(b.p);
    b = (bytes_t){0};
    put(&b, "ALX", 3);
    emit(&b, "bad-format-0-short-wrong-magic");
    free(b.p);
    b = (bytes_t){0};
    put_header(&b, 0, 2, 1, 0);
    put_byte(&b, 0xff);
    emit(&b, "bad-format-8-version-0");
    free(b.p);
    b = (bytes_t){0};
    put_header(&b, 1, 0, 1, 0);
    put_byte(&b, 0xff);
    emit(&b, "bad-format-8-no-workers");
    free(b.p);
    b = (bytes_t){0};
    put_header(&b, 1, 1025, 1, 0);
    put_byte(&b, 0xff);
    emit(&b, "bad-format-8-1025-workers");
    free(b.p);
    b = (bytes_t){0};
    put_header(&b, 1, 2, 2, 0);
    put_byte(&b, 0xff);
    emit(&b, "bad-format-8-flavor-2");
    free(b.p);
    /* 32-bit header fields above 2^32 - 1 (event interval here). */
    b = (bytes_t){0};
    put(&b, "ALTRACE\0\x01\x02\x01\x3d", 12);
    put_varint(&b, 1ull << 32);
    put(&b, "\x00\x00\x00\xff", 4);
    emit(&b, "bad-format-8-event-interval-4294967296");
    free(b.p);
    /* Malformed numbers in the header: at the 5th field (offset 8 + 4). */
    b = (bytes_t){0};
    put(&b, "ALTRACE\0\x01\x02\x01\x3d", 12);
    put_endless_varint(&b);
    emit(&b, "bad-format-12-header-varint-too-long");
    free(b.p);
    b = (bytes_t){0};
    put(&b, "ALTRACE\0\x01\x02\x01\x3d", 12);
    put_varint_65_bits(&b);
    put(&b, "\x00\x00\x00", 3);
    emit(&b, "bad-format-12-header-varint-65-bits");
    free(b.p);

    /* -- format: records after a valid prefix -- */
    b = copy_of(&p, at);
    put_string(&b, 4, "skips 3", 7);
    emit(&b, "bad-format-%zu-string-id-skipped", at);
    free(b.p);
    b = copy_of(&p, at);
    put_string(&b, 2, "again", 5);
    emit(&b, "bad-format-%zu-string-id-repeated", at);
    free(b.p);
    b = copy_of(&p, at);
    put_string(&b, 0, "zero", 4);
    emit(&b, "bad-format-%zu-string-id-0", at);
    free(b.p);
    b = copy_of(&p, at);
    put_string(&b, 3, "too long", 65537);
    emit(&b, "bad-format-%zu-string-too-long", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_POLL_BEGIN, 0x01, 0, 9, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-undefined-thread", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_POLL_BEGIN, 0x01, 0, 65536, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-thread-65536", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_USER_LOG, 0x20, 0, 0, 0, 0, 0, 0, 3);
    emit(&b, "bad-format-%zu-event-undefined-string", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV__COUNT, 0x00, 0, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-kind-%d", at, AL_EV__COUNT);
    free(b.p);
    /* A kind that a later version added is damage in a file of an earlier
     * version: version 1 had kinds 0..41 (the version is the byte at 8). */
    b = copy_of(&p, at);
    b.p[8] = 1;
    put_event(&b, AL_EV_CAPTION, 0x00, 0, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-kind-%d", at, AL_EV_CAPTION);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, 0x3f, 0x00, 0, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-kind-63", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_POLL_BEGIN, 0x40, 0, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-unknown-flag", at + 1);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_POLL_BEGIN, 0x02, 0, 0, 1024, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-worker-1024", at);
    free(b.p);
    b = copy_of(&p, at);
    put_event(&b, AL_EV_POLL_BEGIN, 0x02, 0, 0, -2, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-worker-minus-2", at);
    free(b.p);
    b = copy_of(&p, at);
    put_byte(&b, AL_EV_CHAN_SEND);
    put_byte(&b, 0x08);
    put_varint(&b, 0);
    put_endless_varint(&b);
    emit(&b, "bad-format-%zu-event-varint-too-long", at + 3);
    free(b.p);
    b = copy_of(&p, at);
    put_byte(&b, AL_EV_CHAN_SEND);
    put_byte(&b, 0x00);
    put_varint_65_bits(&b);
    emit(&b, "bad-format-%zu-event-time-delta-65-bits", at + 2);
    free(b.p);
    b = (bytes_t){0};
    put_header(&b, 1, 1, 0, UINT64_MAX - 10);
    put_thread(&b, 0, 0, 0, "w", 1);
    put_event(&b, AL_EV_POLL_BEGIN, 0x00, 10, 0, 0, 0, 0, 0, 0);
    size_t o = b.n;
    put_event(&b, AL_EV_POLL_END, 0x00, 1, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-time-overflow", o);
    free(b.p);
    b = copy_of(&p, at);
    put_thread(&b, 3, 3, -1, "kind-3", 6);
    emit(&b, "bad-format-%zu-thread-kind-3", at);
    free(b.p);
    b = copy_of(&p, at);
    put_thread(&b, 65536, AL_THREAD_OTHER, -1, "big", 3);
    emit(&b, "bad-format-%zu-thread-id-65536", at);
    free(b.p);
    char name[258];
    memset(name, 'x', 257);
    name[257] = 0;
    b = copy_of(&p, at);
    put_thread(&b, 3, AL_THREAD_OTHER, -1, name, 257);
    emit(&b, "bad-format-%zu-thread-name-257", at);
    free(b.p);
    b = copy_of(&p, at);
    put_thread(&b, 3, AL_THREAD_WORKER, 1024, "w1024", 5);
    emit(&b, "bad-format-%zu-thread-worker-1024", at);
    free(b.p);
    b = copy_of(&p, at);
    put_byte(&b, 0xf2);
    put_varint(&b, 65536);
    put_varint(&b, 1);
    emit(&b, "bad-format-%zu-drops-thread-65536", at);
    free(b.p);
    const uint8_t types[] = {0x40, 0x7f, 0xef, 0xf3, 0xfe};
    for (size_t i = 0; i < sizeof types; i++) {
        b = copy_of(&p, at);
        put_byte(&b, types[i]);
        put_byte(&b, 0);
        emit(&b, "bad-format-%zu-record-type-%02x", at, types[i]);
        free(b.p);
    }
    b = copy_of(&full, full.n);
    put_byte(&b, 0xff);
    emit(&b, "bad-format-%zu-second-end-record", full.n);
    free(b.p);
    b = copy_of(&full, full.n);
    put_event(&b, AL_EV_POLL_BEGIN, 0x00, 0, 0, 0, 0, 0, 0, 0);
    emit(&b, "bad-format-%zu-event-after-end", full.n);
    free(b.p);

    /* -- version -- */
    b = (bytes_t){0};
    put_header(&b, AL_TRACEFILE_VERSION + 1, 2, 1, 0);
    put_byte(&b, 0xff);
    emit(&b, "bad-version-8-v%d", AL_TRACEFILE_VERSION + 1);
    free(b.p);
    b = (bytes_t){0};
    put(&b, "ALTRACE\0", 8);
    put_varint(&b, UINT64_MAX);
    emit(&b, "bad-version-8-v-uint64-max");
    free(b.p);

    /* -- damaged: bit flips and cuts anywhere in a realistic trace -- */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 12; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t pos = (size_t)(x % full.n);
        uint8_t bit = (uint8_t)(1u << ((x >> 32) % 8));
        b = copy_of(&full, full.n);
        b.p[pos] ^= bit;
        emit(&b, "damaged-flip-%zu-%02x", pos, bit);
        free(b.p);
    }
    for (int i = 0; i < 6; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t cut = 9 + (size_t)(x % (full.n - 9));
        b = copy_of(&full, cut);
        emit(&b, "damaged-cut-%zu", cut);
        free(b.p);
    }
    free(p.p);
    free(full.p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    dir = argv[1];
    valid_traces();
    valid_hand_encoded();
    bad_traces();
    printf("make_corpus: %zu files, %zu bytes in %s\n", files, total, dir);
    return 0;
}
