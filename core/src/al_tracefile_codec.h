/*
 * al_tracefile_codec.h — private to the asynclab core: the byte-level pieces
 * shared by the trace writer, the reader and the flight recorder
 * (docs/trace-format.md): varints, record encoders, and the event record's
 * encoder / parser with the delta state both sides carry.
 */
#ifndef AL_TRACEFILE_CODEC_H
#define AL_TRACEFILE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "al_stream.h"
#include "al_tracefile.h"

#define AL__TF_MAGIC "ALTRACE\0"
#define AL__TF_MAGIC_LEN 8

/* Record types (the first byte of a record). Event records use the event
 * kind itself (0..AL__TF_MAX_KIND). */
#define AL__TF_MAX_KIND 0x3f
#define AL__TF_THREAD 0xf0
#define AL__TF_STRING 0xf1
#define AL__TF_DROPS 0xf2
#define AL__TF_END 0xff

/* Event record flags (the second byte). */
#define AL__TF_F_THREAD 0x01 /* varint thread follows (else: as the previous event) */
#define AL__TF_F_WORKER 0x02 /* zigzag worker follows (else: as the previous event) */
#define AL__TF_F_TASK 0x04   /* zigzag (task - previous task) follows (else task = 0) */
#define AL__TF_F_A 0x08      /* varint a follows (else 0) */
#define AL__TF_F_B 0x10      /* varint b follows (else 0) */
#define AL__TF_F_STR 0x20    /* varint string id follows (else 0) */
#define AL__TF_F_KNOWN 0x3f

/* Limits a reader enforces (hostile input must not make it allocate more). */
#define AL__TF_MAX_STRING 65536u
#define AL__TF_MAX_NAME 256u
#define AL__TF_MAX_THREADS 65536u
#define AL__TF_MAX_STRINGS (1u << 24)

static inline size_t al__tf_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t al__tf_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t al__tf_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Decode a varint from [*p, end). 1 on success, 0 if the input ends first,
 * -1 if it is malformed (more than 10 bytes, or bits beyond 64). */
static inline int al__tf_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if ((size_t)(end - *p) <= i) /* no pointer beyond end, even transiently */
            return 0;
        uint8_t b = (*p)[i];
        if (i == 9 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *p += i + 1;
            *out = v;
            return 1;
        }
    }
    return -1;
}

/* ---- records ---- */

/* Upper bounds of encoded sizes. */
#define AL__TF_HEADER_MAX (AL__TF_MAGIC_LEN + 8 * 10)
#define AL__TF_EVENT_MAX 64 /* kind, flags, 7 varints (at most 52 bytes) */
#define AL__TF_THREAD_MAX (1 + 3 + 1 + 10 + 10 + AL__TF_MAX_NAME)
#define AL__TF_STRING_HEAD_MAX (1 + 10 + 10) /* then the bytes */
#define AL__TF_DROPS_MAX (1 + 10 + 10)

/* The event kinds a file of this version may hold (kinds 0..n-1): version 1
 * had the first 42; version 2 added the lesson hooks (CAPTION, HIGHLIGHT,
 * MARKER). A reader rejects a kind its file's version does not have, as
 * damage (docs/trace-format.md, Versions). */
#define AL__TF_KINDS_V1 42u
_Static_assert(AL_EV_CAPTION == AL__TF_KINDS_V1, "version 2 kinds start after version 1's");
static inline unsigned al__tf_kinds_in_version(uint64_t version)
{
    return version <= 1 ? AL__TF_KINDS_V1 : (unsigned)AL_EV__COUNT;
}

/* The version a file written from this header says: the header's own when
 * it is one this writer knows (copying a version-1 file keeps it version 1),
 * else the current one. */
static inline uint64_t al__tf_file_version(const al_stream_header_t *h)
{
    return h->version >= 1 && h->version <= AL_TRACEFILE_VERSION ? h->version
                                                                 : AL_TRACEFILE_VERSION;
}

static inline size_t al__tf_put_header(uint8_t *b, const al_stream_header_t *h)
{
    size_t n = AL__TF_MAGIC_LEN;
    memcpy(b, AL__TF_MAGIC, AL__TF_MAGIC_LEN);
    n += al__tf_put_varint(b + n, al__tf_file_version(h));
    n += al__tf_put_varint(b + n, h->num_workers);
    n += al__tf_put_varint(b + n, h->flavor);
    n += al__tf_put_varint(b + n, h->global_queue_interval);
    n += al__tf_put_varint(b + n, h->event_interval);
    n += al__tf_put_varint(b + n, h->max_blocking_threads);
    n += al__tf_put_varint(b + n, h->clock_base_ns);
    n += al__tf_put_varint(b + n, h->wall_base_ns);
    return n;
}

/* A thread record; the name is cut at AL__TF_MAX_NAME bytes. */
static inline size_t al__tf_put_thread(uint8_t *b, uint16_t id, const char *name,
                                       al_thread_kind_t kind, int16_t worker)
{
    size_t len = strnlen(name ? name : "", AL__TF_MAX_NAME);
    size_t n = 0;
    b[n++] = AL__TF_THREAD;
    n += al__tf_put_varint(b + n, id);
    b[n++] = (uint8_t)kind;
    n += al__tf_put_varint(b + n, al__tf_zigzag(worker));
    n += al__tf_put_varint(b + n, len);
    if (len)
        memcpy(b + n, name, len);
    return n + len;
}

/* A string record (room: AL__TF_STRING_HEAD_MAX + len); the caller cuts len
 * at AL__TF_MAX_STRING. */
static inline size_t al__tf_put_string(uint8_t *b, uint32_t id, const char *s, size_t len)
{
    size_t n = 0;
    b[n++] = AL__TF_STRING;
    n += al__tf_put_varint(b + n, id);
    n += al__tf_put_varint(b + n, len);
    if (len)
        memcpy(b + n, s, len);
    return n + len;
}

static inline size_t al__tf_put_drops(uint8_t *b, uint16_t thread, uint64_t total)
{
    size_t n = 0;
    b[n++] = AL__TF_DROPS;
    n += al__tf_put_varint(b + n, thread);
    n += al__tf_put_varint(b + n, total);
    return n;
}

/* ---- event records ---- */

/* What an event record is encoded against: the previous event's time, task
 * (the last non-zero one), thread and worker. */
typedef struct al__tf_state {
    uint64_t ts, task;
    uint16_t thread;
    int16_t worker;
} al__tf_state_t;

/* The state right after the header (reader and writer start from it). */
static inline al__tf_state_t al__tf_state_start(uint64_t clock_base_ns)
{
    return (al__tf_state_t){clock_base_ns, 0, 0, AL_EV_NOT_WORKER};
}

static inline bool al__tf_state_eq(const al__tf_state_t *x, const al__tf_state_t *y)
{
    return x->ts == y->ts && x->task == y->task && x->thread == y->thread && x->worker == y->worker;
}

/* Encode e at b (room: AL__TF_EVENT_MAX) against s, and advance s. 0 (and s
 * unchanged) for a kind the format cannot hold. A time before s->ts is
 * written as s->ts. */
static inline size_t al__tf_put_event(uint8_t *b, al__tf_state_t *s, const al_trace_event_t *e)
{
    if (e->kind > AL__TF_MAX_KIND)
        return 0;
    size_t o = 2;
    uint8_t flags = 0;
    b[0] = (uint8_t)e->kind;
    uint64_t dt = e->ts_ns > s->ts ? e->ts_ns - s->ts : 0;
    o += al__tf_put_varint(b + o, dt);
    s->ts += dt;
    if (e->thread != s->thread) {
        flags |= AL__TF_F_THREAD;
        o += al__tf_put_varint(b + o, e->thread);
        s->thread = e->thread;
    }
    if (e->worker != s->worker) {
        flags |= AL__TF_F_WORKER;
        o += al__tf_put_varint(b + o, al__tf_zigzag(e->worker));
        s->worker = e->worker;
    }
    if (e->task) {
        flags |= AL__TF_F_TASK;
        o += al__tf_put_varint(b + o, al__tf_zigzag((int64_t)(e->task - s->task)));
        s->task = e->task;
    }
    if (e->a) {
        flags |= AL__TF_F_A;
        o += al__tf_put_varint(b + o, e->a);
    }
    if (e->b) {
        flags |= AL__TF_F_B;
        o += al__tf_put_varint(b + o, e->b);
    }
    if (e->str) {
        flags |= AL__TF_F_STR;
        o += al__tf_put_varint(b + o, e->str);
    }
    b[1] = flags;
    return o;
}

/* An event record's fields as stored (before the state is applied). */
typedef struct al__tf_raw_event {
    uint8_t kind, flags;
    uint64_t dt, thread, worker, task, a, b, str; /* worker and task still zigzagged */
} al__tf_raw_event_t;

enum {
    AL__TF_PARSE_OK = 1,
    AL__TF_PARSE_MORE = 0,       /* the input ends inside the record */
    AL__TF_PARSE_BAD_FLAGS = -1, /* unknown flag bits (at the flags byte) */
    AL__TF_PARSE_BAD_NUMBER = -2 /* a malformed varint: *at and *what say which */
};

/* Parse the event record at *p (whose first byte is a kind <=
 * AL__TF_MAX_KIND; the kind itself is not checked). On AL__TF_PARSE_OK *p
 * moves past it. On an error, *at is where the bad byte(s) start and *what
 * names the field. Absent fields are 0; the thread is absent unless flagged. */
static inline int al__tf_parse_event(const uint8_t **p, const uint8_t *end, al__tf_raw_event_t *r,
                                     const uint8_t **at, const char **what)
{
    const uint8_t *q = *p;
    memset(r, 0, sizeof *r);
    r->kind = *q++;
    if (q >= end)
        return AL__TF_PARSE_MORE;
    *at = q;
    *what = "flags";
    r->flags = *q++;
    if (r->flags & ~AL__TF_F_KNOWN)
        return AL__TF_PARSE_BAD_FLAGS;
    static const struct {
        uint8_t flag;
        const char *what;
        size_t off;
    } fields[] = {
        {0, "time delta", offsetof(al__tf_raw_event_t, dt)},
        {AL__TF_F_THREAD, "thread", offsetof(al__tf_raw_event_t, thread)},
        {AL__TF_F_WORKER, "worker", offsetof(al__tf_raw_event_t, worker)},
        {AL__TF_F_TASK, "task", offsetof(al__tf_raw_event_t, task)},
        {AL__TF_F_A, "field a", offsetof(al__tf_raw_event_t, a)},
        {AL__TF_F_B, "field b", offsetof(al__tf_raw_event_t, b)},
        {AL__TF_F_STR, "string id", offsetof(al__tf_raw_event_t, str)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].flag && !(r->flags & fields[i].flag))
            continue;
        *at = q;
        *what = fields[i].what;
        int rc = al__tf_get_varint(&q, end, (uint64_t *)((char *)r + fields[i].off));
        if (rc == 0)
            return AL__TF_PARSE_MORE;
        if (rc < 0)
            return AL__TF_PARSE_BAD_NUMBER;
    }
    *p = q;
    return AL__TF_PARSE_OK;
}

/* The worker a parsed record names (the state's when absent). */
static inline int64_t al__tf_raw_worker(const al__tf_state_t *s, const al__tf_raw_event_t *r)
{
    return (r->flags & AL__TF_F_WORKER) ? al__tf_unzigzag(r->worker) : s->worker;
}

/* Apply a parsed (and validated) record to s and produce the event. */
static inline void al__tf_apply_event(al__tf_state_t *s, const al__tf_raw_event_t *r,
                                      al_trace_event_t *e)
{
    s->ts += r->dt;
    if (r->flags & AL__TF_F_THREAD)
        s->thread = (uint16_t)r->thread;
    s->worker = (int16_t)al__tf_raw_worker(s, r);
    if (r->flags & AL__TF_F_TASK)
        s->task += (uint64_t)al__tf_unzigzag(r->task);
    *e = (al_trace_event_t){.ts_ns = s->ts,
                            .task = (r->flags & AL__TF_F_TASK) ? s->task : 0,
                            .a = r->a,
                            .b = r->b,
                            .str = (uint32_t)r->str,
                            .kind = r->kind,
                            .thread = s->thread,
                            .worker = s->worker};
}

#endif
