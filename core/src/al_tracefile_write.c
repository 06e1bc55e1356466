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
    unsigned kinds; /* event kinds the file's version holds; others are not written */
    int error;      /* first write error (negated errno) */
    al__tf_state_t state;
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
    uint8_t b[AL__TF_HEADER_MAX];
    al__tfw_write(w, b, al__tf_put_header(b, h));
    al__tfw_flush(w);
    w->state = al__tf_state_start(h->clock_base_ns);
    w->kinds = al__tf_kinds_in_version(al__tf_file_version(h));
    w->header_written = true;
}

static void al__tfw_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                           int16_t worker)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written || !al__tfw_reserve(w, AL__TF_THREAD_MAX))
        return;
    al__tfw_write(w, w->buf, al__tf_put_thread(w->buf, id, name, kind, worker));
    al__tfw_flush(w);
}

static void al__tfw_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_tracefile_writer_t *w = self;
    if (len > AL__TF_MAX_STRING)
        len = AL__TF_MAX_STRING;
    if (!w->header_written || !al__tfw_reserve(w, AL__TF_STRING_HEAD_MAX + len))
        return;
    al__tfw_write(w, w->buf, al__tf_put_string(w->buf, id, s, len));
    al__tfw_flush(w);
}

static void al__tfw_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written || !al__tfw_reserve(w, n * AL__TF_EVENT_MAX))
        return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind >= w->kinds)
            continue;
        size_t len = al__tf_put_event(w->buf + o, &w->state, &ev[i]);
        o += len;
        w->events += len != 0;
    }
    al__tfw_write(w, w->buf, o);
    al__tfw_flush(w);
}

static void al__tfw_drops(void *self, uint16_t thread, uint64_t total)
{
    al_tracefile_writer_t *w = self;
    if (!w->header_written)
        return;
    uint8_t b[AL__TF_DROPS_MAX];
    al__tfw_write(w, b, al__tf_put_drops(b, thread, total));
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
