/*
 * al_test_stream.h — a consumer that records everything a stream delivers,
 * for tests (live streams and replays alike). Thread-safe: the collector
 * delivers while a test may read.
 */
#ifndef AL_TEST_STREAM_H
#define AL_TEST_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_stream.h"

typedef struct {
    pthread_mutex_t lock;
    al_stream_header_t header;
    int headers, ends;
    al_trace_event_t *ev;
    size_t n, cap;
    char *strings[4096]; /* by id; ids beyond are counted only */
    uint32_t num_strings;
    char thread_names[256][32];
    al_thread_kind_t thread_kinds[256];
    uint32_t num_threads;
    uint64_t drops[256];
    bool out_of_order; /* a batch went back in time */
} ts_rec_t;

static inline void ts_rec_init(ts_rec_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

static inline void ts_rec_free(ts_rec_t *r)
{
    for (uint32_t i = 0; i < 4096; i++)
        free(r->strings[i]);
    free(r->ev);
    pthread_mutex_destroy(&r->lock);
}

static inline void ts_on_header(void *self, const al_stream_header_t *h)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    r->header = *h;
    r->headers++;
    pthread_mutex_unlock(&r->lock);
}

static inline void ts_on_thread(void *self, uint16_t thread, const char *name,
                                al_thread_kind_t kind, int16_t worker)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    if (thread < 256) {
        snprintf(r->thread_names[thread], 32, "%s", name);
        r->thread_kinds[thread] = kind;
        if (thread + 1u > r->num_threads)
            r->num_threads = thread + 1u;
    }
    pthread_mutex_unlock(&r->lock);
}

static inline void ts_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    if (id < 4096) {
        free(r->strings[id]);
        r->strings[id] = strndup(s, len);
    }
    if (id > r->num_strings)
        r->num_strings = id;
    pthread_mutex_unlock(&r->lock);
}

static inline void ts_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    if (r->n + n > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->n + n)
            cap *= 2;
        r->ev = realloc(r->ev, cap * sizeof *r->ev);
        r->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        if (r->n && ev[i].ts_ns < r->ev[r->n - 1].ts_ns)
            r->out_of_order = true;
        r->ev[r->n++] = ev[i];
    }
    pthread_mutex_unlock(&r->lock);
}

static inline void ts_on_drops(void *self, uint16_t thread, uint64_t total)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    if (thread < 256)
        r->drops[thread] = total;
    pthread_mutex_unlock(&r->lock);
}

static inline void ts_on_end(void *self)
{
    ts_rec_t *r = self;
    pthread_mutex_lock(&r->lock);
    r->ends++;
    pthread_mutex_unlock(&r->lock);
}

static inline const al_stream_consumer_t *ts_rec_vt(void)
{
    static const al_stream_consumer_t vt = {ts_on_header, ts_on_thread, ts_on_string,
                                            ts_on_events, ts_on_drops,  ts_on_end};
    return &vt;
}

/* The string an event refers to ("" if none). Call without the lock held
 * while nothing is being delivered (after al_stream_stop or flush). */
static inline const char *ts_str(const ts_rec_t *r, uint32_t id)
{
    return id && id < 4096 && r->strings[id] ? r->strings[id] : "";
}

#endif
