/*
 * viz_recording.c — a recorded stream in memory (see viz_recording.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "viz_recording.h"

int viz_recording_new(viz_recording_t **out)
{
    viz_recording_t *r = calloc(1, sizeof *r);
    if (!r)
        return AL_ENOMEM;
    *out = r;
    return 0;
}

void viz_recording_free(viz_recording_t *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->num_strings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->threads);
    free(r->events);
    free(r->drops);
    free(r);
}

/* ---- the consumer ---- */

static void rec_header(void *self, const al_stream_header_t *h)
{
    viz_recording_t *r = self;
    r->header = *h;
    r->have_header = true;
}

static void rec_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                       int16_t worker)
{
    viz_recording_t *r = self;
    if (id >= r->num_threads) {
        uint32_t n = id + 1u;
        viz_thread_t *grown = realloc(r->threads, n * sizeof *grown);
        if (!grown) {
            r->out_of_memory = true;
            return;
        }
        memset(grown + r->num_threads, 0, (n - r->num_threads) * sizeof *grown);
        r->threads = grown;
        r->num_threads = n;
    }
    viz_thread_t *t = &r->threads[id];
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
    t->kind = (uint8_t)kind;
    t->worker = worker;
    t->known = true;
}

static void rec_string(void *self, uint32_t id, const char *s, size_t len)
{
    viz_recording_t *r = self;
    if (id == 0)
        return;
    if (id >= r->num_strings) {
        uint32_t n = r->num_strings ? r->num_strings : 64;
        while (n <= id)
            n *= 2;
        char **grown = realloc(r->strings, n * sizeof *grown);
        if (!grown) {
            r->out_of_memory = true;
            return;
        }
        memset(grown + r->num_strings, 0, (n - r->num_strings) * sizeof *grown);
        r->strings = grown;
        r->num_strings = n;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        r->out_of_memory = true;
        return;
    }
    memcpy(copy, s, len);
    copy[len] = 0;
    free(r->strings[id]);
    r->strings[id] = copy;
}

static void rec_events(void *self, const al_trace_event_t *ev, size_t n)
{
    viz_recording_t *r = self;
    if (r->num_events + n > r->cap_events) {
        size_t cap = r->cap_events ? r->cap_events : 4096;
        while (cap < r->num_events + n)
            cap *= 2;
        al_trace_event_t *grown = realloc(r->events, cap * sizeof *grown);
        if (!grown) {
            r->out_of_memory = true;
            return;
        }
        r->events = grown;
        r->cap_events = cap;
    }
    memcpy(r->events + r->num_events, ev, n * sizeof *ev);
    r->num_events += n;
}

static void rec_drops(void *self, uint16_t thread, uint64_t total)
{
    viz_recording_t *r = self;
    if (thread >= r->num_drops) {
        uint32_t n = thread + 1u;
        uint64_t *grown = realloc(r->drops, n * sizeof *grown);
        if (!grown) {
            r->out_of_memory = true;
            return;
        }
        memset(grown + r->num_drops, 0, (n - r->num_drops) * sizeof *grown);
        r->drops = grown;
        r->num_drops = n;
    }
    if (total > r->drops[thread]) {
        r->dropped += total - r->drops[thread];
        r->drops[thread] = total;
    }
}

static void rec_end(void *self)
{
    ((viz_recording_t *)self)->ended = true;
}

const al_stream_consumer_t viz_recording_consumer = {rec_header, rec_thread, rec_string,
                                                     rec_events, rec_drops,  rec_end};

/* ---- loading ---- */

static int rec_finish(viz_recording_t *r, int rc, al_tracefile_error_t *err)
{
    if (rc == 0 && r->out_of_memory) {
        rc = AL_ENOMEM;
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = rc;
            snprintf(err->message, sizeof err->message, "out of memory reading the trace");
        }
    }
    return rc;
}

int viz_recording_load(viz_recording_t *r, const char *path, al_tracefile_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    int rc = al_tracefile_read_file(path, &viz_recording_consumer, r, err);
    return rec_finish(r, rc, err);
}

int viz_recording_load_mem(viz_recording_t *r, const void *buf, size_t len,
                           al_tracefile_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    int rc = al_tracefile_read_mem(buf, len, &viz_recording_consumer, r, err);
    return rec_finish(r, rc, err);
}

/* ---- replaying ---- */

void viz_recording_feed(const viz_recording_t *r, bool tables, size_t from, size_t to,
                        const al_stream_consumer_t *c, void *self)
{
    if (tables) {
        if (r->have_header && c->on_header)
            c->on_header(self, &r->header);
        for (uint32_t i = 0; i < r->num_threads && c->on_thread; i++)
            if (r->threads[i].known)
                c->on_thread(self, (uint16_t)i, r->threads[i].name,
                             (al_thread_kind_t)r->threads[i].kind, r->threads[i].worker);
        for (uint32_t i = 1; i < r->num_strings && c->on_string; i++)
            if (r->strings[i])
                c->on_string(self, i, r->strings[i], strlen(r->strings[i]));
        for (uint32_t i = 0; i < r->num_drops && c->on_drops; i++)
            if (r->drops[i])
                c->on_drops(self, (uint16_t)i, r->drops[i]);
    }
    if (to > r->num_events)
        to = r->num_events;
    if (from < to && c->on_events)
        c->on_events(self, r->events + from, to - from);
}

void viz_recording_drop_front(viz_recording_t *r, size_t n)
{
    if (n > r->num_events)
        n = r->num_events;
    memmove(r->events, r->events + n, (r->num_events - n) * sizeof *r->events);
    r->num_events -= n;
}

size_t viz_recording_count_until(const viz_recording_t *r, uint64_t ts)
{
    size_t lo = 0, hi = r->num_events;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->events[mid].ts_ns <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t viz_recording_first_ns(const viz_recording_t *r)
{
    return r->num_events ? r->events[0].ts_ns : r->header.clock_base_ns;
}

uint64_t viz_recording_last_ns(const viz_recording_t *r)
{
    return r->num_events ? r->events[r->num_events - 1].ts_ns : r->header.clock_base_ns;
}

const char *viz_recording_string(const viz_recording_t *r, uint32_t id)
{
    return id < r->num_strings && r->strings[id] ? r->strings[id] : "";
}
