/*
 * al_tracefile_write.c — the trace writer: a stream consumer that encodes
 * records (docs/trace-format.md) and flushes after every batch, so that the
 * file on disk always ends at a record boundary a reader can stop at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_tracefile.h"
#include "al_tracefile_codec.h"

struct al_tracefile_writer {
    FILE *f;
    bool own; /* close f at the end */
    bool header_written, ended;
    int error; /* first write error (negated errno) */
    uint64_t prev_ts, prev_task;
    uint16_t prev_thread;
    int16_t prev_worker;
    uint8_t *buf;
    size_t cap;
    uint64_t bytes, events;
};

static void al__tfw_write(al_tracefile_writer_t *w, const void *p, size_t n)
{
    if (w->error || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->error = errno ? -errno : AL_ENOMEM;
    w->bytes += n;
}

static void al__tfw_flush(al_tracefile_writer_t *w)
{
    if (!w->error && fflush(w->f) != 0)
        w->error = errno ? -errno : AL_ENOMEM;
}

static bool al__tfw_reserve(al_tracefile_writer_t *w, size_t n)
{
    if (n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
        w->error = AL_ENOMEM;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static int al__tfw_new(FILE *f, bool own, al_tracefile_writer_t **out)
{
    al_tracefile_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return AL_ENOMEM;
    w->f = f;
    w->own = own;
    w->prev_worker = AL_EV_NOT_WORKER;
    *out = w;
    return 0;
}

int al_tracefile_writer_open(const char *path, al_tracefile_writer_t **out)
{
    if (!path || !out)
        return AL_EINVAL;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    int rc = al__tfw_new(f, true, out);
    if (rc != 0)
        fclose(f);
    return rc;
}

int al_tracefile_writer_open_file(FILE *f, al_tracefile_writer_t **out)
{
    if (!f || !out)
        return AL_EINVAL;
    return al__tfw_new(f, false, out);
}

void al_tracefile_writer_counts(const al_tracefile_writer_t *w, uint64_t *bytes, uint64_t *events)
{
    if (bytes)
        *bytes = w->bytes;
    if (events)
        *events = w->events;
}

/* ---- consumer callbacks ---- */

static void al__tfw_header(void *self, const al_stream_header_t *h)
{
    al_tracefile_writer_t *w = self;
    if (w->header_written)
        return; /* a restarted stream: one file, one header */
    uint8_t b[8 + 8 * 10];
    size_t n = AL__TF_MAGIC_LEN;
    memcpy(b, AL__TF_MAGIC, AL__TF_MAGIC_LEN);
    n += al__tf_put_varint(b + n, AL_TRACEFILE_VERSION);
    n += al__tf_put_varint(b + n, h->num_workers);
    n += al__tf_put_varint(b + n, h->flavor);
    n += al__tf_put_varint(b + n, h->global_queue_interval);
    n += al__tf_put_varint(b + n, h->event_interval);
    n += al__tf_put_varint(b + n, h->max_blocking_threads);
    n += al__tf_put_varint(b + n, h->clock_base_ns);
    n += al__tf_put_varint(b + n, h->wall_base_ns);
    al__tfw_write(w, b, n);
    al__tfw_flush(w);
    w->prev_ts = h->clock_base_ns;
    w->header_written = true;
}

static void al__tfw_bytes_record(al_tracefile_writer_t *w, uint8_t type, uint64_t id,
                                 const uint8_t *extra, size_t extra_len, const char *s, size_t len)
{
    if (!w->header_written || !al__tfw_reserve(w, 1 + 30 + extra_len + len))
        return;
    size_t n = 0;
    w->buf[n++] = type;
    n += al__tf_put_varint(w->buf + n, id);
    if (extra_len)
        memcpy(w->buf + n, extra, extra_len);
    n += extra_len;
    n += al__tf_put_varint(w->buf + n, len);
    if (len)
        memcpy(w->buf + n, s, len);
    al__tfw_write(w, w->buf, n + len);
    al__tfw_flush(w);
}

static void al__tfw_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                           int16_t worker)
{
    al_tracefile_writer_t *w = self;
    size_t len = strnlen(name ? name : "", AL__TF_MAX_NAME);
    uint8_t extra[12];
    size_t e = 0;
    extra[e++] = (uint8_t)kind;
    e += al__tf_put_varint(extra + e, al__tf_zigzag(worker));
    al__tfw_bytes_record(w, AL__TF_THREAD, id, extra, e, name ? name : "", len);
}

static void al__tfw_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_tracefile_writer_t *w = self;
    al__tfw_bytes_record(w, AL__TF_STRING, id, NULL, 0, s,
                         len > AL__TF_MAX_STRING ? AL__TF_MAX_STRING : len);
}

static void al__tfw_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written || !al__tfw_reserve(w, n * 64))
        return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const al_trace_event_t *e = &ev[i];
        if (e->kind > AL__TF_MAX_KIND)
            continue;
        uint8_t *flags = &w->buf[o + 1];
        w->buf[o] = (uint8_t)e->kind;
        o += 2;
        *flags = 0;
        uint64_t dt = e->ts_ns > w->prev_ts ? e->ts_ns - w->prev_ts : 0;
        o += al__tf_put_varint(w->buf + o, dt);
        w->prev_ts += dt;
        if (e->thread != w->prev_thread) {
            *flags |= AL__TF_F_THREAD;
            o += al__tf_put_varint(w->buf + o, e->thread);
            w->prev_thread = e->thread;
        }
        if (e->worker != w->prev_worker) {
            *flags |= AL__TF_F_WORKER;
            o += al__tf_put_varint(w->buf + o, al__tf_zigzag(e->worker));
            w->prev_worker = e->worker;
        }
        if (e->task) {
            *flags |= AL__TF_F_TASK;
            o += al__tf_put_varint(w->buf + o, al__tf_zigzag((int64_t)(e->task - w->prev_task)));
            w->prev_task = e->task;
        }
        if (e->a) {
            *flags |= AL__TF_F_A;
            o += al__tf_put_varint(w->buf + o, e->a);
        }
        if (e->b) {
            *flags |= AL__TF_F_B;
            o += al__tf_put_varint(w->buf + o, e->b);
        }
        if (e->str) {
            *flags |= AL__TF_F_STR;
            o += al__tf_put_varint(w->buf + o, e->str);
        }
        w->events++;
    }
    al__tfw_write(w, w->buf, o);
    al__tfw_flush(w);
}

static void al__tfw_drops(void *self, uint16_t thread, uint64_t total)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written)
        return;
    uint8_t b[1 + 20];
    size_t n = 0;
    b[n++] = AL__TF_DROPS;
    n += al__tf_put_varint(b + n, thread);
    n += al__tf_put_varint(b + n, total);
    al__tfw_write(w, b, n);
    al__tfw_flush(w);
}

static void al__tfw_end(void *self)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written || w->ended)
        return;
    uint8_t b = AL__TF_END;
    al__tfw_write(w, &b, 1);
    al__tfw_flush(w);
    w->ended = true;
}

const al_stream_consumer_t al_tracefile_writer_consumer = {
    al__tfw_header, al__tfw_thread, al__tfw_string, al__tfw_events, al__tfw_drops, al__tfw_end};

int al_tracefile_writer_close(al_tracefile_writer_t *w)
{
    if (!w)
        return AL_EINVAL;
    al__tfw_end(w);
    int rc = w->error;
    if (w->own && fclose(w->f) != 0 && !rc)
        rc = -errno;
    free(w->buf);
    free(w);
    return rc;
}
