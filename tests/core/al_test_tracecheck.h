/*
 * al_test_tracecheck.h — reads untrusted trace bytes every way the reader
 * offers and checks what comes out, for the fuzz target
 * (tests/fuzz/fuzz_trace_read.c) and the corpus test (test_trace_corpus.c).
 * Needs only the reader, the writer and al_error.c (no runtime, no Criterion).
 *
 *   tc_result_t res;
 *   const char *why = tc_check_bytes(buf, len, &res);   // NULL: all held
 *
 * tc_check_bytes reads the bytes
 *   1. at once (al_tracefile_read_mem), through a consumer that checks the
 *      stream contract of al_stream.h as the reader promises it: one header
 *      first; thread ids and string ids (dense from 1) defined before an event
 *      uses them; non-decreasing timestamps; fields in their ranges; on_end at
 *      most once and last;
 *   2. incrementally (al_tracefile_reader_feed) in chunks whose sizes are
 *      drawn from a generator seeded by the bytes, then _finish;
 *   3. back through the writer: what the reader delivered is written to a new
 *      file and read again, which must give the very same stream and code 0;
 *   4. by the second reader written from docs/trace-format.md
 *      (al_test_tracespec.h): the same code, offset and stream;
 * and checks the result: a known code; on error a message "byte N: ..." with
 * N the offset, which is inside the input; the same code, offset, message and
 * stream (hashed) both ways. The first violation is returned as a message.
 */
#ifndef AL_TEST_TRACECHECK_H
#define AL_TEST_TRACECHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_test_tracespec.h"
#include "al_tracefile.h"

/* The limits the reader documents (docs/trace-format.md). */
#define TC_MAX_THREADS 65536u
#define TC_MAX_NAME 256u
#define TC_MAX_STRING 65536u
#define TC_MAX_WORKERS 1024

typedef struct {
    /* What was delivered. */
    int headers, ends;
    al_stream_header_t header;
    uint64_t threads, strings, events, batches, drops;
    uint64_t hash; /* FNV-1a over every callback but on_end, in order */
    /* Contract state. */
    uint8_t defined[TC_MAX_THREADS / 8];
    uint64_t last_ts;
    char why[256]; /* first violation, "" if none */
    /* Optional: every callback is passed on to this consumer too. */
    const al_stream_consumer_t *tee;
    void *tee_self;
} tc_state_t;

static inline void tc_fail(tc_state_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void tc_fail(tc_state_t *s, const char *fmt, ...)
{
    if (s->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
}

static inline void tc_hash(tc_state_t *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = s->hash;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    s->hash = h;
}

static inline void tc_hash_u64(tc_state_t *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    tc_hash(s, b, 8);
}

static inline void tc_init(tc_state_t *s)
{
    memset(s, 0, sizeof *s);
    s->hash = 0xcbf29ce484222325ull;
}

/* Every callback but on_header: the header came first, on_end not yet. */
static inline bool tc_in_body(tc_state_t *s, const char *what)
{
    if (s->headers != 1)
        tc_fail(s, "%s before the header", what);
    else if (s->ends)
        tc_fail(s, "%s after on_end", what);
    return !s->why[0];
}

static inline void tc_on_header(void *self, const al_stream_header_t *h)
{
    tc_state_t *s = self;
    if (s->headers++ || s->threads || s->strings || s->events || s->drops || s->ends)
        tc_fail(s, "on_header is not the first and only header");
    if (h->version < 1 || h->version > AL_TRACEFILE_VERSION)
        tc_fail(s, "header version %" PRIu32, h->version);
    if (h->num_workers < 1 || h->num_workers > TC_MAX_WORKERS || h->flavor > 1)
        tc_fail(s, "header: %" PRIu32 " workers, flavor %" PRIu32, h->num_workers, h->flavor);
    s->header = *h;
    s->last_ts = h->clock_base_ns;
    tc_hash_u64(s, 0x4844);
    tc_hash_u64(s, h->version);
    tc_hash_u64(s, h->num_workers);
    tc_hash_u64(s, h->flavor);
    tc_hash_u64(s, h->global_queue_interval);
    tc_hash_u64(s, h->event_interval);
    tc_hash_u64(s, h->max_blocking_threads);
    tc_hash_u64(s, h->clock_base_ns);
    tc_hash_u64(s, h->wall_base_ns);
    if (s->tee && s->tee->on_header)
        s->tee->on_header(s->tee_self, h);
}

static inline void tc_on_thread(void *self, uint16_t thread, const char *name,
                                al_thread_kind_t kind, int16_t worker)
{
    tc_state_t *s = self;
    s->threads++;
    if (!tc_in_body(s, "on_thread"))
        return;
    if (!name) {
        tc_fail(s, "thread %u: NULL name", thread);
        return;
    }
    size_t len = strnlen(name, TC_MAX_NAME + 1);
    if (len > TC_MAX_NAME)
        tc_fail(s, "thread %u: name longer than %u bytes", thread, TC_MAX_NAME);
    if ((unsigned)kind > AL_THREAD_OTHER)
        tc_fail(s, "thread %u: kind %u", thread, (unsigned)kind);
    if (worker < -1 || worker >= TC_MAX_WORKERS)
        tc_fail(s, "thread %u: worker %d", thread, worker);
    s->defined[thread / 8] |= (uint8_t)(1u << (thread % 8));
    tc_hash_u64(s, 0x5448);
    tc_hash_u64(s, thread);
    tc_hash(s, name, len);
    tc_hash_u64(s, (uint64_t)kind);
    tc_hash_u64(s, (uint64_t)(int64_t)worker);
    if (s->tee && s->tee->on_thread)
        s->tee->on_thread(s->tee_self, thread, name, kind, worker);
}

static inline void tc_on_string(void *self, uint32_t id, const char *str, size_t len)
{
    tc_state_t *s = self;
    if (!tc_in_body(s, "on_string"))
        return;
    if (id != s->strings + 1)
        tc_fail(s, "string id %" PRIu32 " after %" PRIu64 " (ids are dense from 1)", id,
                s->strings);
    s->strings++;
    if (!str || len > TC_MAX_STRING || str[len] != 0)
        tc_fail(s, "string %" PRIu32 ": bad bytes (%zu, not NUL-terminated, or NULL)", id, len);
    if (s->why[0])
        return;
    tc_hash_u64(s, 0x5354);
    tc_hash_u64(s, id);
    tc_hash_u64(s, len);
    tc_hash(s, str, len);
    if (s->tee && s->tee->on_string)
        s->tee->on_string(s->tee_self, id, str, len);
}

static inline void tc_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    tc_state_t *s = self;
    s->batches++;
    if (!tc_in_body(s, "on_events"))
        return;
    if (n == 0 || !ev)
        tc_fail(s, "an empty batch");
    for (size_t i = 0; i < n && !s->why[0]; i++) {
        const al_trace_event_t *e = &ev[i];
        uint64_t k = s->events++;
        if (e->kind >= AL_EV__COUNT)
            tc_fail(s, "event %" PRIu64 ": kind %u", k, e->kind);
        if (!(s->defined[e->thread / 8] & (1u << (e->thread % 8))))
            tc_fail(s, "event %" PRIu64 ": thread %u was never defined", k, e->thread);
        if (e->str > s->strings)
            tc_fail(s, "event %" PRIu64 ": string %" PRIu32 " not defined (%" PRIu64 " are)", k,
                    e->str, s->strings);
        if (e->ts_ns < s->last_ts)
            tc_fail(s, "event %" PRIu64 ": time goes back (%" PRIu64 " < %" PRIu64 ")", k, e->ts_ns,
                    s->last_ts);
        if (e->worker < -1 || e->worker >= TC_MAX_WORKERS)
            tc_fail(s, "event %" PRIu64 ": worker %d", k, e->worker);
        s->last_ts = e->ts_ns;
        tc_hash_u64(s, 0x4556);
        tc_hash_u64(s, e->ts_ns);
        tc_hash_u64(s, e->task);
        tc_hash_u64(s, e->a);
        tc_hash_u64(s, e->b);
        tc_hash_u64(s, e->str);
        tc_hash_u64(s, e->kind);
        tc_hash_u64(s, e->thread);
        tc_hash_u64(s, (uint64_t)(int64_t)e->worker);
    }
    if (!s->why[0] && s->tee && s->tee->on_events)
        s->tee->on_events(s->tee_self, ev, n);
}

static inline void tc_on_drops(void *self, uint16_t thread, uint64_t total)
{
    tc_state_t *s = self;
    s->drops++;
    if (!tc_in_body(s, "on_drops"))
        return;
    tc_hash_u64(s, 0x4452);
    tc_hash_u64(s, thread);
    tc_hash_u64(s, total);
    if (s->tee && s->tee->on_drops)
        s->tee->on_drops(s->tee_self, thread, total);
}

static inline void tc_on_end(void *self)
{
    tc_state_t *s = self;
    if (tc_in_body(s, "on_end"))
        s->ends++;
    else
        tc_fail(s, "on_end twice or before the header");
}

static inline const al_stream_consumer_t *tc_vt(void)
{
    static const al_stream_consumer_t vt = {tc_on_header, tc_on_thread, tc_on_string,
                                            tc_on_events, tc_on_drops,  tc_on_end};
    return &vt;
}

/* ---- reading every way, comparing ---- */

typedef struct {
    int code; /* what al_tracefile_read_mem returned */
    al_tracefile_error_t err;
    int headers, ends; /* on_header and on_end calls */
    uint64_t events, threads, strings, drops;
    uint64_t hash; /* of the delivered stream */
    char why[512]; /* the first violation, "" if none */
} tc_result_t;

static inline void tc_result_of(tc_result_t *res, int code, const al_tracefile_error_t *err,
                                const tc_state_t *s)
{
    res->code = code;
    res->err = *err;
    res->headers = s->headers;
    res->ends = s->ends;
    res->events = s->events;
    res->threads = s->threads;
    res->strings = s->strings;
    res->drops = s->drops;
    res->hash = s->hash;
}

/* What every read (whole, chunked, or of the rewritten file) must satisfy. */
static inline void tc_check_result(tc_state_t *s, const char *how, int code,
                                   const al_tracefile_error_t *err, size_t len)
{
    if (s->why[0])
        return;
    if (code != 0 && code != AL_ETRUNCATED && code != AL_EFORMAT && code != AL_EVERSION) {
        tc_fail(s, "%s: unexpected code %d (%s)", how, code, al_strerror(code));
        return;
    }
    if (!memchr(err->message, 0, sizeof err->message)) {
        tc_fail(s, "%s: message not NUL-terminated", how);
        return;
    }
    if (err->code != code)
        tc_fail(s, "%s: returned %d, error struct says %d", how, code, err->code);
    if (code == 0) {
        if (s->headers != 1)
            tc_fail(s, "%s: success without a header", how);
        if (err->message[0] || err->offset)
            tc_fail(s, "%s: success with an error message or offset", how);
        return;
    }
    char prefix[40];
    snprintf(prefix, sizeof prefix, "byte %" PRIu64 ": ", err->offset);
    if (err->offset > len || (len > 0 && err->offset >= len))
        tc_fail(s, "%s: error offset %" PRIu64 " outside the %zu input bytes", how, err->offset,
                len);
    else if (strncmp(err->message, prefix, strlen(prefix)) != 0 ||
             strlen(err->message) <= strlen(prefix))
        tc_fail(s, "%s: message \"%s\" does not start with \"%s\" and a text", how, err->message,
                prefix);
    else if (code == AL_EVERSION && s->headers)
        tc_fail(s, "%s: a header was delivered from a newer version", how);
    else if (code == AL_ETRUNCATED && s->ends)
        tc_fail(s, "%s: truncated after the end record", how);
}

/* A small deterministic generator for the chunk sizes. */
static inline uint64_t tc_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Feed [buf, len) in chunks drawn from `seed`; checks the feed contract. */
static inline int tc_read_chunks(const uint8_t *buf, size_t len, uint64_t seed, tc_state_t *s,
                                 al_tracefile_error_t *err)
{
    al_tracefile_reader_t *r;
    int rc = al_tracefile_reader_new(tc_vt(), s, &r);
    if (rc) {
        tc_fail(s, "chunked: reader_new: %d", rc);
        return rc;
    }
    uint64_t x = seed | 1;
    size_t off = 0;
    rc = 0;
    while (off < len) {
        uint64_t v = tc_rand(&x);
        size_t left = len - off, n;
        switch (v & 7) {
        case 0:
            n = 0; /* an empty feed is allowed and changes nothing */
            break;
        case 1:
        case 2:
            n = 1;
            break;
        case 3:
        case 4:
            n = 1 + (size_t)((v >> 8) % 8);
            break;
        case 5:
        case 6:
            n = 1 + (size_t)((v >> 8) % 64);
            break;
        default:
            n = 1 + (size_t)((v >> 8) % left);
            break;
        }
        if (n > left)
            n = left;
        memset(err, 0x5a, sizeof *err);
        int frc = al_tracefile_reader_feed(r, n ? buf + off : NULL, n, err);
        off += n;
        if (frc == 0) {
            if (err->code || err->message[0] || err->offset)
                tc_fail(s, "chunked: feed succeeded but left an error in the struct");
            continue;
        }
        rc = frc;
        break;
    }
    if (rc) {
        /* After an error, feeding and finishing say the same again. */
        al_tracefile_error_t again;
        uint8_t one = 0;
        if (al_tracefile_reader_feed(r, &one, 1, &again) != rc || again.code != err->code ||
            again.offset != err->offset || strcmp(again.message, err->message) != 0)
            tc_fail(s, "chunked: feeding after an error does not repeat the error");
        if (al_tracefile_reader_finish(r, &again) != rc || again.offset != err->offset)
            tc_fail(s, "chunked: finish after an error does not repeat the error");
    } else {
        rc = al_tracefile_reader_finish(r, err);
    }
    if (!s->why[0] && (al_tracefile_reader_ended(r) != 0) != (s->ends == 1))
        tc_fail(s, "chunked: reader_ended says %d, on_end was called %d times",
                al_tracefile_reader_ended(r), s->ends);
    al_tracefile_reader_free(r);
    return rc;
}

static inline uint64_t tc_seed_of(const uint8_t *buf, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf[i]) * 0x100000001b3ull;
    return h;
}

/* Read the bytes every way (see the top of this file). Returns NULL if all
 * held, else the first violation (res->why). res describes the whole read. */
static inline const char *tc_check_bytes(const void *data, size_t len, tc_result_t *res)
{
    const uint8_t *buf = data;
    static tc_state_t whole, chunked, again; /* large: not on the stack */
    memset(res, 0, sizeof *res);
    tc_init(&whole);

    /* 1. At once, teeing what is delivered into a writer. */
    char *copy = NULL;
    size_t copy_len = 0;
    FILE *f = open_memstream(&copy, &copy_len);
    al_tracefile_writer_t *w = NULL;
    if (!f || al_tracefile_writer_open_file(f, &w) != 0) {
        snprintf(res->why, sizeof res->why, "cannot open the writer");
        if (f)
            fclose(f);
        free(copy);
        return res->why;
    }
    whole.tee = &al_tracefile_writer_consumer;
    whole.tee_self = w;
    al_tracefile_error_t err;
    memset(&err, 0x5a, sizeof err);
    int rc = al_tracefile_read_mem(buf, len, tc_vt(), &whole, &err);
    tc_check_result(&whole, "whole", rc, &err, len);
    tc_result_of(res, rc, &err, &whole);
    int wrc = al_tracefile_writer_close(w);
    fclose(f);
    if (whole.why[0]) {
        snprintf(res->why, sizeof res->why, "%s", whole.why);
        free(copy);
        return res->why;
    }

    /* 2. In chunks: the same code, error and stream. */
    tc_init(&chunked);
    al_tracefile_error_t cerr;
    int crc = tc_read_chunks(buf, len, tc_seed_of(buf, len), &chunked, &cerr);
    tc_check_result(&chunked, "chunked", crc, &cerr, len);
    if (!chunked.why[0]) {
        if (crc != rc || cerr.offset != err.offset || strcmp(cerr.message, err.message) != 0)
            tc_fail(&chunked, "chunked read gave %d \"%s\", whole read %d \"%s\"", crc,
                    cerr.message, rc, err.message);
        else if (chunked.events != whole.events || chunked.threads != whole.threads ||
                 chunked.strings != whole.strings || chunked.drops != whole.drops ||
                 chunked.headers != whole.headers || chunked.ends != whole.ends ||
                 chunked.hash != whole.hash)
            tc_fail(&chunked,
                    "chunked read delivered %" PRIu64 " events, %" PRIu64 " threads, %" PRIu64
                    " strings, %d ends; whole read %" PRIu64 ", %" PRIu64 ", %" PRIu64
                    ", %d (or other contents)",
                    chunked.events, chunked.threads, chunked.strings, chunked.ends, whole.events,
                    whole.threads, whole.strings, whole.ends);
    }
    if (chunked.why[0]) {
        snprintf(res->why, sizeof res->why, "%s", chunked.why);
        free(copy);
        return res->why;
    }

    /* 3. Written back and read again: the same stream, now complete. */
    if (whole.headers) {
        tc_init(&again);
        al_tracefile_error_t aerr;
        int arc = al_tracefile_read_mem(copy, copy_len, tc_vt(), &again, &aerr);
        tc_check_result(&again, "rewritten", arc, &aerr, copy_len);
        if (!again.why[0] && (wrc != 0 || arc != 0 || again.ends != 1))
            tc_fail(&again, "the rewritten trace reads with %d (%s), %d ends; writer: %d", arc,
                    aerr.message, again.ends, wrc);
        else if (!again.why[0] && (again.hash != whole.hash || again.events != whole.events))
            tc_fail(&again,
                    "the rewritten trace delivers another stream (%" PRIu64
                    " events instead of %" PRIu64 ")",
                    again.events, whole.events);
        if (again.why[0]) {
            snprintf(res->why, sizeof res->why, "%s", again.why);
            free(copy);
            return res->why;
        }
    }
    free(copy);

    /* 4. The reader written from the document agrees. */
    tc_init(&again);
    uint64_t soff;
    int src = tcs_read(buf, len, tc_vt(), &again, &soff);
    if (!again.why[0] && (src != rc || (rc && soff != err.offset)))
        tc_fail(&again,
                "docs/trace-format.md says code %d at byte %" PRIu64 "; the reader: %d (\"%s\")",
                src, soff, rc, err.message);
    else if (!again.why[0] && (again.hash != whole.hash || again.events != whole.events ||
                               again.ends != whole.ends || again.headers != whole.headers))
        tc_fail(&again,
                "docs/trace-format.md reads %" PRIu64 " events, %d ends (or other contents); "
                "the reader %" PRIu64 ", %d",
                again.events, again.ends, whole.events, whole.ends);
    if (again.why[0]) {
        snprintf(res->why, sizeof res->why, "spec reader: %s", again.why);
        return res->why;
    }
    return NULL;
}

#endif
