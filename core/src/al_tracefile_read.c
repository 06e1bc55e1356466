/*
 * al_tracefile_read.c — the trace reader (docs/trace-format.md).
 *
 * One incremental decoder serves the file, memory and "follow" readers: it
 * keeps the bytes of an incomplete record until more arrive, validates every
 * field against the limits in al_tracefile_codec.h before using it, and
 * delivers events in batches, always flushing the batch before any other
 * callback and before reporting an error, so a consumer gets every event up
 * to the damage, in order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_tracefile.h"
#include "al_tracefile_codec.h"

#define AL__TFR_BATCH 4096u

enum { AL__TFR_OK = 1, AL__TFR_MORE = 0, AL__TFR_BAD = -1 };

struct al_tracefile_reader {
    const al_stream_consumer_t *c;
    void *self;
    uint8_t *buf; /* bytes not yet decoded */
    size_t len, cap;
    uint64_t offset; /* file offset of buf[0] */
    bool header_done, ended;
    int error;
    al_tracefile_error_t err;
    al__tf_state_t state;
    uint8_t *threads_defined; /* bitmap over thread ids */
    uint32_t strings;         /* string ids 1..strings are defined */
    unsigned kinds;           /* event kinds the file's version has */
    al_trace_event_t batch[AL__TFR_BATCH];
    size_t nb;
};

static void al__tfr_flush(al_tracefile_reader_t *r)
{
    if (r->nb && r->c->on_events)
        r->c->on_events(r->self, r->batch, r->nb);
    r->nb = 0;
}

static int al__tfr_fail(al_tracefile_reader_t *r, int code, uint64_t offset, const char *fmt, ...)
{
    al__tfr_flush(r);
    r->error = code;
    r->err.code = code;
    r->err.offset = offset;
    int n =
        snprintf(r->err.message, sizeof r->err.message, "byte %llu: ", (unsigned long long)offset);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.message + n, sizeof r->err.message - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- the header ---- */

static int al__tfr_header(al_tracefile_reader_t *r, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    if ((size_t)(end - p) < AL__TF_MAGIC_LEN) {
        if (memcmp(p, AL__TF_MAGIC, (size_t)(end - p)) != 0)
            goto bad_magic;
        return AL__TFR_MORE;
    }
    if (memcmp(p, AL__TF_MAGIC, AL__TF_MAGIC_LEN) != 0)
        goto bad_magic;
    p += AL__TF_MAGIC_LEN;
    uint64_t f[8];
    for (int i = 0; i < 8; i++) {
        const uint8_t *at = p;
        int rc = al__tf_get_varint(&p, end, &f[i]);
        if (rc == 0)
            return AL__TFR_MORE;
        if (rc < 0)
            return al__tfr_fail(r, AL_EFORMAT, r->offset + (uint64_t)(at - r->buf),
                                "malformed number in the header");
        if (i == 0 && f[0] > AL_TRACEFILE_VERSION)
            return al__tfr_fail(r, AL_EVERSION, r->offset + AL__TF_MAGIC_LEN,
                                "format version %llu; this reader knows versions up to %d",
                                (unsigned long long)f[0], AL_TRACEFILE_VERSION);
        if (i == 0 && f[0] == 0)
            return al__tfr_fail(r, AL_EFORMAT, r->offset + AL__TF_MAGIC_LEN,
                                "format version 0 does not exist");
    }
    if (f[1] == 0 || f[1] > 1024 || f[2] > 1)
        return al__tfr_fail(r, AL_EFORMAT, r->offset + AL__TF_MAGIC_LEN,
                            "impossible runtime in the header (%llu workers, flavor %llu)",
                            (unsigned long long)f[1], (unsigned long long)f[2]);
    /* 32-bit fields: a larger value is damage, not something to cut down. */
    static const char *const u32_names[] = {"global queue interval", "event interval",
                                            "max blocking threads"};
    for (int i = 3; i <= 5; i++)
        if (f[i] > UINT32_MAX)
            return al__tfr_fail(r, AL_EFORMAT, r->offset + AL__TF_MAGIC_LEN,
                                "impossible runtime in the header (%s %llu)", u32_names[i - 3],
                                (unsigned long long)f[i]);
    al_stream_header_t h = {
        .version = (uint32_t)f[0],
        .num_workers = (uint32_t)f[1],
        .flavor = (uint32_t)f[2],
        .global_queue_interval = (uint32_t)f[3],
        .event_interval = (uint32_t)f[4],
        .max_blocking_threads = (uint32_t)f[5],
        .clock_base_ns = f[6],
        .wall_base_ns = f[7],
    };
    r->state = al__tf_state_start(h.clock_base_ns);
    r->kinds = al__tf_kinds_in_version(h.version);
    r->header_done = true;
    if (r->c->on_header)
        r->c->on_header(r->self, &h);
    *pp = p;
    return AL__TFR_OK;
bad_magic:
    return al__tfr_fail(r, AL_EFORMAT, r->offset, "not an asynclab trace (bad magic number)");
}

/* ---- records ---- */

#define AL__TFR_VARINT(var, what)                                                                  \
    do {                                                                                           \
        const uint8_t *at_ = p;                                                                    \
        int rc_ = al__tf_get_varint(&p, end, &(var));                                              \
        if (rc_ == 0)                                                                              \
            return AL__TFR_MORE;                                                                   \
        if (rc_ < 0)                                                                               \
            return al__tfr_fail(r, AL_EFORMAT, base + (uint64_t)(at_ - start),                     \
                                "malformed number (%s)", what);                                    \
    } while (0)

static int al__tfr_record(al_tracefile_reader_t *r, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *start = *pp, *p = start;
    uint64_t base = r->offset + (uint64_t)(start - r->buf);
    uint8_t type = *p++;
    if (r->ended)
        return al__tfr_fail(r, AL_EFORMAT, base, "data after the end record");

    if (type <= AL__TF_MAX_KIND) {
        if (type >= r->kinds)
            return al__tfr_fail(r, AL_EFORMAT, base, "unknown event kind %u", type);
        al__tf_raw_event_t raw;
        const uint8_t *at = start;
        const char *what = "";
        p = start;
        switch (al__tf_parse_event(&p, end, &raw, &at, &what)) {
        case AL__TF_PARSE_MORE:
            return AL__TFR_MORE;
        case AL__TF_PARSE_BAD_FLAGS:
            return al__tfr_fail(r, AL_EFORMAT, base + 1, "unknown event flags 0x%02x", *at);
        case AL__TF_PARSE_BAD_NUMBER:
            return al__tfr_fail(r, AL_EFORMAT, base + (uint64_t)(at - start),
                                "malformed number (%s)", what);
        default:
            break;
        }
        /* Complete: validate, then apply. */
        uint64_t thread = (raw.flags & AL__TF_F_THREAD) ? raw.thread : r->state.thread;
        if (thread >= AL__TF_MAX_THREADS || !r->threads_defined ||
            !(r->threads_defined[thread / 8] & (1u << (thread % 8))))
            return al__tfr_fail(r, AL_EFORMAT, base,
                                "event on thread %llu, which was never defined",
                                (unsigned long long)thread);
        int64_t wk = al__tf_raw_worker(&r->state, &raw);
        if (wk < -1 || wk >= 1024)
            return al__tfr_fail(r, AL_EFORMAT, base, "impossible worker index %lld", (long long)wk);
        if (raw.str > r->strings)
            return al__tfr_fail(r, AL_EFORMAT, base, "string %llu used before its definition",
                                (unsigned long long)raw.str);
        if (raw.dt > UINT64_MAX - r->state.ts)
            return al__tfr_fail(r, AL_EFORMAT, base, "time overflows 64 bits");
        al__tf_apply_event(&r->state, &raw, &r->batch[r->nb++]);
        if (r->nb == AL__TFR_BATCH)
            al__tfr_flush(r);
        *pp = p;
        return AL__TFR_OK;
    }

    switch (type) {
    case AL__TF_THREAD: {
        uint64_t id, worker, len;
        AL__TFR_VARINT(id, "thread id");
        if (p >= end)
            return AL__TFR_MORE;
        uint8_t kind = *p++;
        AL__TFR_VARINT(worker, "worker");
        AL__TFR_VARINT(len, "name length");
        if (id >= AL__TF_MAX_THREADS || kind > AL_THREAD_OTHER || len > AL__TF_MAX_NAME)
            return al__tfr_fail(r, AL_EFORMAT, base,
                                "bad thread definition (id %llu, kind %u, "
                                "name of %llu bytes)",
                                (unsigned long long)id, kind, (unsigned long long)len);
        int64_t wk = al__tf_unzigzag(worker);
        if (wk < -1 || wk >= 1024)
            return al__tfr_fail(r, AL_EFORMAT, base, "impossible worker index %lld", (long long)wk);
        if ((size_t)(end - p) < len)
            return AL__TFR_MORE;
        if (!r->threads_defined && !(r->threads_defined = calloc(AL__TF_MAX_THREADS / 8, 1)))
            return al__tfr_fail(r, AL_ENOMEM, base, "out of memory");
        al__tfr_flush(r);
        char name[AL__TF_MAX_NAME + 1];
        memcpy(name, p, len);
        name[len] = 0;
        r->threads_defined[id / 8] |= (uint8_t)(1u << (id % 8));
        if (r->c->on_thread)
            r->c->on_thread(r->self, (uint16_t)id, name, (al_thread_kind_t)kind, (int16_t)wk);
        *pp = p + len;
        return AL__TFR_OK;
    }
    case AL__TF_STRING: {
        uint64_t id, len;
        AL__TFR_VARINT(id, "string id");
        AL__TFR_VARINT(len, "string length");
        if (id != (uint64_t)r->strings + 1 || id > AL__TF_MAX_STRINGS || len > AL__TF_MAX_STRING)
            return al__tfr_fail(r, AL_EFORMAT, base,
                                "bad string definition (id %llu, expected "
                                "%u; %llu bytes)",
                                (unsigned long long)id, r->strings + 1, (unsigned long long)len);
        if ((size_t)(end - p) < len)
            return AL__TFR_MORE;
        char *s = malloc(len + 1);
        if (!s)
            return al__tfr_fail(r, AL_ENOMEM, base, "out of memory");
        memcpy(s, p, len);
        s[len] = 0;
        al__tfr_flush(r);
        r->strings++;
        if (r->c->on_string)
            r->c->on_string(r->self, (uint32_t)id, s, len);
        free(s);
        *pp = p + len;
        return AL__TFR_OK;
    }
    case AL__TF_DROPS: {
        uint64_t thread, total;
        AL__TFR_VARINT(thread, "thread");
        AL__TFR_VARINT(total, "drop count");
        if (thread >= AL__TF_MAX_THREADS)
            return al__tfr_fail(r, AL_EFORMAT, base, "drops on impossible thread %llu",
                                (unsigned long long)thread);
        al__tfr_flush(r);
        if (r->c->on_drops)
            r->c->on_drops(r->self, (uint16_t)thread, total);
        *pp = p;
        return AL__TFR_OK;
    }
    case AL__TF_END:
        al__tfr_flush(r);
        r->ended = true;
        if (r->c->on_end)
            r->c->on_end(r->self);
        *pp = p;
        return AL__TFR_OK;
    default:
        return al__tfr_fail(r, AL_EFORMAT, base, "unknown record type 0x%02x", type);
    }
}

/* ---- the incremental reader ---- */

int al_tracefile_reader_new(const al_stream_consumer_t *c, void *self, al_tracefile_reader_t **out)
{
    if (!c || !out)
        return AL_EINVAL;
    al_tracefile_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return AL_ENOMEM;
    r->c = c;
    r->self = self;
    *out = r;
    return 0;
}

void al_tracefile_reader_free(al_tracefile_reader_t *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->threads_defined);
    free(r);
}

int al_tracefile_reader_ended(const al_tracefile_reader_t *r)
{
    return r && r->ended;
}

static void al__tfr_copy_err(const al_tracefile_reader_t *r, al_tracefile_error_t *err)
{
    if (err)
        *err = r->err;
}

/* Decode what is buffered; keep an incomplete record's bytes. */
static int al__tfr_decode(al_tracefile_reader_t *r)
{
    const uint8_t *p = r->buf, *end = r->buf + r->len;
    int rc = AL__TFR_OK;
    while (p < end) {
        rc = r->header_done ? al__tfr_record(r, &p, end) : al__tfr_header(r, &p, end);
        if (rc != AL__TFR_OK)
            break;
    }
    if (r->error)
        return r->error;
    al__tfr_flush(r);
    size_t used = (size_t)(p - r->buf);
    memmove(r->buf, p, r->len - used);
    r->len -= used;
    r->offset += used;
    return 0;
}

int al_tracefile_reader_feed(al_tracefile_reader_t *r, const void *buf, size_t len,
                             al_tracefile_error_t *err)
{
    if (!r || (!buf && len))
        return AL_EINVAL;
    if (r->error) {
        al__tfr_copy_err(r, err);
        return r->error;
    }
    while (len) {
        /* Decode in chunks so the buffer stays small for huge inputs. */
        size_t chunk = len < (1u << 20) ? len : (1u << 20);
        if (r->len + chunk > r->cap) {
            size_t cap = r->cap ? r->cap : 65536;
            while (cap < r->len + chunk)
                cap *= 2;
            uint8_t *b = realloc(r->buf, cap);
            if (!b)
                return al__tfr_fail(r, AL_ENOMEM, r->offset, "out of memory");
            r->buf = b;
            r->cap = cap;
        }
        memcpy(r->buf + r->len, buf, chunk);
        r->len += chunk;
        buf = (const uint8_t *)buf + chunk;
        len -= chunk;
        int rc = al__tfr_decode(r);
        if (rc) {
            al__tfr_copy_err(r, err);
            return rc;
        }
    }
    if (err)
        memset(err, 0, sizeof *err);
    return 0;
}

int al_tracefile_reader_finish(al_tracefile_reader_t *r, al_tracefile_error_t *err)
{
    if (!r)
        return AL_EINVAL;
    if (!r->error && r->len)
        al__tfr_fail(r, AL_ETRUNCATED, r->offset,
                     r->header_done ? "the trace ends inside a record (truncated, or still being "
                                      "written)"
                                    : "the trace ends inside its header");
    else if (!r->error && !r->header_done)
        al__tfr_fail(r, AL_ETRUNCATED, r->offset, "empty file: no header");
    al__tfr_copy_err(r, err);
    return r->error;
}

int al_tracefile_read_mem(const void *buf, size_t len, const al_stream_consumer_t *c, void *self,
                          al_tracefile_error_t *err)
{
    al_tracefile_reader_t *r;
    int rc = al_tracefile_reader_new(c, self, &r);
    if (rc)
        return rc;
    rc = al_tracefile_reader_feed(r, buf, len, err);
    if (!rc)
        rc = al_tracefile_reader_finish(r, err);
    al_tracefile_reader_free(r);
    return rc;
}

int al_tracefile_read_file(const char *path, const al_stream_consumer_t *c, void *self,
                           al_tracefile_error_t *err)
{
    if (!path || !c)
        return AL_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int code = -errno;
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = code;
            snprintf(err->message, sizeof err->message, "%s: %s", path, al_strerror(code));
        }
        return code;
    }
    al_tracefile_reader_t *r;
    int rc = al_tracefile_reader_new(c, self, &r);
    if (rc) {
        fclose(f);
        return rc;
    }
    enum { CHUNK = 1 << 16 };
    uint8_t *chunk = malloc(CHUNK);
    if (!chunk) {
        fclose(f);
        al_tracefile_reader_free(r);
        return AL_ENOMEM;
    }
    size_t n;
    while (!rc && (n = fread(chunk, 1, CHUNK, f)) > 0)
        rc = al_tracefile_reader_feed(r, chunk, n, err);
    free(chunk);
    if (!rc && ferror(f)) {
        rc = -EIO;
        if (err)
            snprintf(err->message, sizeof err->message, "%s: read error", path);
    }
    if (!rc)
        rc = al_tracefile_reader_finish(r, err);
    fclose(f);
    al_tracefile_reader_free(r);
    return rc;
}
