/*
 * al_flight.c — the flight recorder (see al_flight.h for the contract).
 *
 * Memory layout. Events are trace-encoded (al_tracefile_codec.h) into a list
 * of chunks, oldest first; the last one is open (being filled). The encoder
 * state runs on from one chunk to the next, exactly as in a file, and each
 * chunk remembers the state it started from (`entry`: absolute time, task,
 * thread, worker), so its bytes decode on their own. Threads and strings are
 * encoded as their records into append-only blocks that live as long as the
 * recorder. Everything is guarded by `lock`.
 *
 * Saving takes a snapshot under the lock: a reference on every chunk and the
 * length each had (bytes below it never change again: the collector only
 * appends), the list of table blocks and their lengths, the per-thread
 * counts. Then, without the lock: the header and the tables are copied; the
 * first retained events are re-encoded against the state a reader has after
 * the header (and events older than the time window are skipped) until that
 * state equals the chunk's own state — after the first event that names a
 * task — and from there the chunk bytes are copied as they are. Ring drops
 * reported while the window was recorded are kept as (chunk, offset, total)
 * and written at their place with the window's losses added, so every drops
 * total in the file is cumulative and exact.
 *
 * The watchdog (optional) is a thread that wakes every hang_ms / 4 and
 * judges, from per-worker "inside a poll since" times kept by on_events,
 * whether every worker has been stuck in one poll for longer than hang_ms.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "al_dump.h"
#include "al_error.h"
#include "al_flight.h"
#include "al_runtime_internal.h"
#include "al_tracefile_codec.h"

#define AL__FLIGHT_DEFAULT_BYTES (64ull << 20)
#define AL__FLIGHT_MIN_BYTES (64ull << 10)
#define AL__FLIGHT_MAX_CHUNK (64u << 10)
#define AL__FLIGHT_MIN_CHUNK (4u << 10)
#define AL__FLIGHT_MAX_WORKERS 1024u

typedef struct {
    uint16_t thread;
    uint32_t count;
} al__fcount_t;

typedef struct al__fchunk {
    struct al__fchunk *next;
    _Atomic uint32_t refs; /* the recorder's, plus one per save reading it */
    uint32_t cap, len;     /* bytes */
    uint32_t events;
    uint64_t seq;
    uint64_t first_ts, last_ts;
    al__tf_state_t entry; /* the encoder's state before the first record */
    al__fcount_t *counts; /* events per thread, set when the chunk is sealed */
    uint32_t num_counts;
    uint8_t data[];
} al__fchunk_t;

typedef struct al__fblock {
    struct al__fblock *next;
    size_t len, cap;
    uint8_t data[];
} al__fblock_t;

/* Drops a ring reported while chunk `seq` was open, `offset` bytes in. */
typedef struct {
    uint64_t seq;
    uint32_t offset;
    uint16_t thread;
    uint64_t total;
} al__fdrop_t;

typedef struct {
    uint64_t evicted;     /* events the window discarded */
    uint64_t ring_before; /* ring drops reported before the oldest retained chunk */
    uint32_t open_count;  /* events in the open chunk */
} al__fthread_t;

struct al_flight {
    /* immutable after al_flight_new */
    uint64_t max_bytes, window_ns, hang_ns;
    uint32_t chunk_cap;
    char *path;
    al_dump_action_t *action;

    pthread_mutex_t lock; /* everything below, except where noted */
    pthread_cond_t cond;  /* saves done, watchdog checks, stopping */
    bool has_header, ended;
    al_stream_header_t header;
    al__tf_state_t enc;
    al__fchunk_t *head, *tail; /* tail: the open chunk */
    al__fchunk_t *spare;       /* an evicted chunk kept for reuse (counted in bytes) */
    uint64_t next_seq;
    al__fblock_t *meta_head, *meta_tail;
    al__fthread_t *threads;
    uint32_t num_threads;
    al__fdrop_t *drops;
    size_t num_drops, cap_drops;
    uint64_t bytes, event_bytes;
    uint64_t events, retained, discarded;
    uint64_t newest_ts;
    uint64_t busy_since[AL__FLIGHT_MAX_WORKERS]; /* 0: not inside a poll */
    uint64_t saves, hang_saves, saved_events, checks;
    int last_error;

    pthread_mutex_t save_lock; /* one save at a time */

    pthread_t watchdog;
    bool has_watchdog, stopping, fired;
};

static uint64_t al__flight_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- chunks and tables (under lock) --------------------------------------------- */

static void al__fchunk_unref(al__fchunk_t *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        free(c->counts);
        free(c);
    }
}

static uint64_t al__fchunk_size(const al__fchunk_t *c)
{
    return sizeof *c + c->cap + c->num_counts * sizeof(al__fcount_t);
}

static bool al__flight_grow_threads(al_flight_t *fr, uint32_t id)
{
    if (id < fr->num_threads)
        return true;
    uint32_t n = fr->num_threads ? fr->num_threads : 8;
    while (n <= id)
        n *= 2;
    al__fthread_t *t = realloc(fr->threads, n * sizeof *t);
    if (!t)
        return false;
    memset(t + fr->num_threads, 0, (n - fr->num_threads) * sizeof *t);
    fr->bytes += (n - fr->num_threads) * sizeof *t;
    fr->threads = t;
    fr->num_threads = n;
    return true;
}

/* Drop the oldest chunk: its events count as discarded, its ring drops fold
 * into the "before the window" totals. */
static void al__flight_evict(al_flight_t *fr)
{
    al__fchunk_t *c = fr->head;
    fr->head = c->next;
    for (uint32_t i = 0; i < c->num_counts; i++)
        fr->threads[c->counts[i].thread].evicted += c->counts[i].count;
    size_t k = 0;
    while (k < fr->num_drops && fr->drops[k].seq <= c->seq) {
        fr->threads[fr->drops[k].thread].ring_before = fr->drops[k].total;
        k++;
    }
    if (k) {
        memmove(fr->drops, fr->drops + k, (fr->num_drops - k) * sizeof *fr->drops);
        fr->num_drops -= k;
    }
    fr->retained -= c->events;
    fr->discarded += c->events;
    fr->event_bytes -= c->len;
    /* No save reads it (they take references under the lock): keep it as
     * the next open chunk, which saves a malloc and fresh page faults. */
    if (!fr->spare && atomic_load_explicit(&c->refs, memory_order_acquire) == 1) {
        fr->bytes -= c->num_counts * sizeof *c->counts;
        free(c->counts);
        c->counts = NULL;
        c->num_counts = 0;
        fr->spare = c;
        return;
    }
    fr->bytes -= al__fchunk_size(c);
    al__fchunk_unref(c);
}

/* Bytes a new open chunk adds (0 when the spare will be used). */
static uint64_t al__flight_chunk_need(const al_flight_t *fr)
{
    return fr->spare ? 0 : sizeof(al__fchunk_t) + fr->chunk_cap;
}

/* Evict while over the budget (with room for a new open chunk if `open`) or
 * past the time window; the open chunk always stays. */
static void al__flight_trim(al_flight_t *fr, bool open)
{
    while (fr->head && fr->head != fr->tail) {
        bool over = fr->bytes + (open ? al__flight_chunk_need(fr) : 0) > fr->max_bytes;
        bool old = fr->window_ns && fr->newest_ts > fr->window_ns &&
                   fr->head->last_ts < fr->newest_ts - fr->window_ns;
        if (!over && !old)
            break;
        al__flight_evict(fr);
    }
}

/* Seal the open chunk (record its per-thread counts) and open a new one. */
static bool al__flight_new_chunk(al_flight_t *fr)
{
    al__fchunk_t *t = fr->tail;
    if (t) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < fr->num_threads; i++)
            n += fr->threads[i].open_count != 0;
        al__fcount_t *counts = n ? malloc(n * sizeof *counts) : NULL;
        if (n && !counts)
            return false;
        n = 0;
        for (uint32_t i = 0; i < fr->num_threads; i++) {
            if (fr->threads[i].open_count) {
                counts[n++] = (al__fcount_t){(uint16_t)i, fr->threads[i].open_count};
                fr->threads[i].open_count = 0;
            }
        }
        t->counts = counts;
        t->num_counts = n;
        fr->bytes += n * sizeof *counts;
    }
    al__flight_trim(fr, true);
    if (t && fr->head == t && fr->bytes + al__flight_chunk_need(fr) > fr->max_bytes) {
        /* The tables alone fill the budget: the sealed chunk goes too. */
        fr->tail = NULL;
        fr->head = t;
        al__flight_evict(fr);
        t = NULL;
    }
    al__fchunk_t *c = fr->spare;
    if (c) {
        fr->spare = NULL;
    } else {
        uint64_t size = sizeof(al__fchunk_t) + fr->chunk_cap;
        if (!(c = malloc(size)))
            return false;
        fr->bytes += size;
    }
    c->next = NULL;
    atomic_init(&c->refs, 1);
    c->cap = fr->chunk_cap;
    c->len = c->events = 0;
    c->seq = fr->next_seq++;
    c->first_ts = c->last_ts = 0;
    c->entry = fr->enc;
    c->counts = NULL;
    c->num_counts = 0;
    if (t)
        t->next = c;
    else
        fr->head = c;
    fr->tail = c;
    return true;
}

/* Append a table record of at most max_len bytes, encoded by the caller into
 * the returned space; commit with al__flight_meta_commit. */
static uint8_t *al__flight_meta_reserve(al_flight_t *fr, size_t max_len)
{
    al__fblock_t *b = fr->meta_tail;
    if (!b || b->cap - b->len < max_len) {
        size_t cap = b ? b->cap * 2 : 4096;
        if (cap > AL__FLIGHT_MAX_CHUNK)
            cap = AL__FLIGHT_MAX_CHUNK;
        if (cap < max_len)
            cap = max_len;
        al__fblock_t *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = NULL;
        nb->len = 0;
        nb->cap = cap;
        if (b)
            b->next = nb;
        else
            fr->meta_head = nb;
        fr->meta_tail = nb;
        fr->bytes += sizeof *nb + cap;
        b = nb;
    }
    return b->data + b->len;
}

static void al__flight_meta_commit(al_flight_t *fr, size_t len)
{
    fr->meta_tail->len += len;
}

/* ---- the consumer ------------------------------------------------------------------ */

static void al__flight_on_header(void *self, const al_stream_header_t *h)
{
    al_flight_t *fr = self;
    pthread_mutex_lock(&fr->lock);
    if (!fr->has_header) { /* a restarted stream: one recording, one header */
        fr->header = *h;
        fr->has_header = true;
        fr->enc = al__tf_state_start(h->clock_base_ns);
    }
    pthread_mutex_unlock(&fr->lock);
}

static void al__flight_on_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                                 int16_t worker)
{
    al_flight_t *fr = self;
    pthread_mutex_lock(&fr->lock);
    uint8_t *p =
        al__flight_grow_threads(fr, id) ? al__flight_meta_reserve(fr, AL__TF_THREAD_MAX) : NULL;
    if (p)
        al__flight_meta_commit(fr, al__tf_put_thread(p, id, name, kind, worker));
    pthread_mutex_unlock(&fr->lock);
}

static void al__flight_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_flight_t *fr = self;
    if (len > AL__TF_MAX_STRING)
        len = AL__TF_MAX_STRING;
    pthread_mutex_lock(&fr->lock);
    uint8_t *p = al__flight_meta_reserve(fr, AL__TF_STRING_HEAD_MAX + len);
    if (p)
        al__flight_meta_commit(fr, al__tf_put_string(p, id, s, len));
    pthread_mutex_unlock(&fr->lock);
}

/* What an event says about its worker being inside a poll (watchdog). */
static void al__flight_track(al_flight_t *fr, const al_trace_event_t *e)
{
    if (e->worker < 0 || (uint32_t)e->worker >= AL__FLIGHT_MAX_WORKERS)
        return;
    switch (e->kind) {
    case AL_EV_POLL_BEGIN:
        fr->busy_since[e->worker] = e->ts_ns ? e->ts_ns : 1;
        break;
    case AL_EV_POLL_END:
    case AL_EV_PARK:
    case AL_EV_UNPARK:
    case AL_EV_SEARCH_BEGIN:
    case AL_EV_SEARCH_END:
    case AL_EV_STEAL:
        fr->busy_since[e->worker] = 0;
        break;
    default:
        break;
    }
}

static void al__flight_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_flight_t *fr = self;
    pthread_mutex_lock(&fr->lock);
    if (!fr->has_header)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const al_trace_event_t *e = &ev[i];
        if (e->kind >= al__tf_kinds_in_version(al__tf_file_version(&fr->header)) ||
            !al__flight_grow_threads(fr, e->thread))
            continue;
        al__fchunk_t *c = fr->tail;
        if ((!c || c->cap - c->len < AL__TF_EVENT_MAX) && !al__flight_new_chunk(fr))
            continue; /* out of memory: the event is lost */
        c = fr->tail;
        size_t len = al__tf_put_event(c->data + c->len, &fr->enc, e);
        if (!c->events)
            c->first_ts = fr->enc.ts;
        c->last_ts = fr->newest_ts = fr->enc.ts;
        c->len += (uint32_t)len;
        c->events++;
        fr->threads[e->thread].open_count++;
        fr->event_bytes += len;
        fr->events++;
        fr->retained++;
        al__flight_track(fr, e);
    }
    al__flight_trim(fr, false);
out:
    pthread_mutex_unlock(&fr->lock);
}

static void al__flight_on_drops(void *self, uint16_t thread, uint64_t total)
{
    al_flight_t *fr = self;
    pthread_mutex_lock(&fr->lock);
    if (fr->num_drops == fr->cap_drops) {
        size_t cap = fr->cap_drops ? fr->cap_drops * 2 : 16;
        al__fdrop_t *d = realloc(fr->drops, cap * sizeof *d);
        if (!d)
            goto out;
        fr->bytes += (cap - fr->cap_drops) * sizeof *d;
        fr->drops = d;
        fr->cap_drops = cap;
    }
    if (!al__flight_grow_threads(fr, thread))
        goto out;
    if (!fr->tail) {
        fr->threads[thread].ring_before = total; /* before any retained event */
        goto out;
    }
    fr->drops[fr->num_drops++] = (al__fdrop_t){fr->tail->seq, fr->tail->len, thread, total};
out:
    pthread_mutex_unlock(&fr->lock);
}

static void al__flight_on_end(void *self)
{
    al_flight_t *fr = self;
    pthread_mutex_lock(&fr->lock);
    fr->ended = true;
    pthread_cond_broadcast(&fr->cond);
    pthread_mutex_unlock(&fr->lock);
}

const al_stream_consumer_t al_flight_consumer = {al__flight_on_header, al__flight_on_thread,
                                                 al__flight_on_string, al__flight_on_events,
                                                 al__flight_on_drops,  al__flight_on_end};

/* ---- saving ------------------------------------------------------------------------- */

typedef struct {
    al_stream_header_t header;
    bool has_header;
    struct {
        const uint8_t *p;
        size_t len;
    } * meta;
    size_t num_meta;
    struct {
        al__fchunk_t *c;
        uint32_t len, events;
    } * chunks;
    size_t num_chunks;
    al__fthread_t *threads;
    uint32_t num_threads;
    al__fdrop_t *drops;
    size_t num_drops;
    uint64_t cutoff; /* events before this time are outside the window */
} al__fsnap_t;

static void al__fsnap_free(al__fsnap_t *s)
{
    for (size_t i = 0; i < s->num_chunks; i++)
        al__fchunk_unref(s->chunks[i].c);
    free(s->meta);
    free(s->chunks);
    free(s->threads);
    free(s->drops);
}

static int al__fsnap_take(al_flight_t *fr, al__fsnap_t *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&fr->lock);
    size_t nm = 0, nc = 0;
    for (al__fblock_t *b = fr->meta_head; b; b = b->next)
        nm++;
    for (al__fchunk_t *c = fr->head; c; c = c->next)
        nc++;
    s->meta = malloc((nm ? nm : 1) * sizeof *s->meta);
    s->chunks = malloc((nc ? nc : 1) * sizeof *s->chunks);
    s->threads = malloc((fr->num_threads ? fr->num_threads : 1) * sizeof *s->threads);
    s->drops = malloc((fr->num_drops ? fr->num_drops : 1) * sizeof *s->drops);
    if (!s->meta || !s->chunks || !s->threads || !s->drops) {
        pthread_mutex_unlock(&fr->lock);
        al__fsnap_free(s);
        return AL_ENOMEM;
    }
    s->header = fr->header;
    s->has_header = fr->has_header;
    for (al__fblock_t *b = fr->meta_head; b; b = b->next) {
        s->meta[s->num_meta].p = b->data;
        s->meta[s->num_meta++].len = b->len;
    }
    for (al__fchunk_t *c = fr->head; c; c = c->next) {
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
        s->chunks[s->num_chunks].c = c;
        s->chunks[s->num_chunks].len = c->len;
        s->chunks[s->num_chunks++].events = c->events;
    }
    if (fr->num_threads)
        memcpy(s->threads, fr->threads, fr->num_threads * sizeof *s->threads);
    s->num_threads = fr->num_threads;
    if (fr->num_drops)
        memcpy(s->drops, fr->drops, fr->num_drops * sizeof *s->drops);
    s->num_drops = fr->num_drops;
    s->cutoff = fr->window_ns && fr->newest_ts > fr->window_ns ? fr->newest_ts - fr->window_ns : 0;
    pthread_mutex_unlock(&fr->lock);
    return 0;
}

/* A growable byte buffer for the re-encoded start of the window. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} al__fbuf_t;

static bool al__fbuf_reserve(al__fbuf_t *b, size_t n)
{
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

typedef struct {
    FILE *f;
    int error;
} al__fout_t;

static void al__fout(al__fout_t *o, const void *p, size_t n)
{
    if (!o->error && n && fwrite(p, 1, n, o->f) != n)
        o->error = errno ? -errno : -EIO;
}

static void al__fout_drops(al__fout_t *o, const al__fsnap_t *s, const uint64_t *skipped,
                           const al__fdrop_t *d)
{
    uint8_t b[AL__TF_DROPS_MAX];
    uint64_t lost = s->threads[d->thread].evicted + skipped[d->thread];
    al__fout(o, b, al__tf_put_drops(b, d->thread, d->total + lost));
}

/* Write the snapshot as a trace file; *events: events written. */
static int al__flight_write(al__fsnap_t *s, FILE *f, uint64_t *events)
{
    al__fout_t o = {f, 0};
    *events = 0;
    if (!s->has_header)
        return AL_EINVAL; /* nothing was ever recorded */
    uint64_t *skipped = calloc(s->num_threads ? s->num_threads : 1, sizeof *skipped);
    al__fbuf_t pre = {0};
    if (!skipped)
        return AL_ENOMEM;

    uint8_t b[AL__TF_HEADER_MAX];
    al__fout(&o, b, al__tf_put_header(b, &s->header));
    for (size_t i = 0; i < s->num_meta; i++)
        al__fout(&o, s->meta[i].p, s->meta[i].len);

    /* Re-encode the start of the window into `pre` until the reader's state
     * (r) equals the recorded one (e); remember where that happened. */
    al__tf_state_t r = al__tf_state_start(s->header.clock_base_ns);
    size_t ci = 0, off = 0, di = 0;
    bool kept = false, synced = false;
    uint64_t total = 0, parsed = 0, written = 0;
    for (size_t i = 0; i < s->num_chunks; i++)
        total += s->chunks[i].events;
    al__tf_state_t e = s->num_chunks ? s->chunks[0].c->entry : r;
    for (ci = 0; ci < s->num_chunks && !synced; ci++) {
        const al__fchunk_t *c = s->chunks[ci].c;
        const uint8_t *p = c->data, *end = c->data + s->chunks[ci].len;
        while (p < end) {
            /* Ring drops reported here: before the first kept event they are
             * part of the initial totals; after it, written in place. */
            for (; di < s->num_drops &&
                   (s->drops[di].seq < c->seq ||
                    (s->drops[di].seq == c->seq && s->drops[di].offset <= (size_t)(p - c->data)));
                 di++) {
                if (!kept)
                    s->threads[s->drops[di].thread].ring_before = s->drops[di].total;
                else if (al__fbuf_reserve(&pre, AL__TF_DROPS_MAX)) {
                    uint64_t lost =
                        s->threads[s->drops[di].thread].evicted + skipped[s->drops[di].thread];
                    pre.len += al__tf_put_drops(pre.p + pre.len, s->drops[di].thread,
                                                s->drops[di].total + lost);
                }
            }
            if (synced) {
                off = (size_t)(p - c->data);
                break;
            }
            al__tf_raw_event_t raw;
            const uint8_t *at;
            const char *what;
            if (al__tf_parse_event(&p, end, &raw, &at, &what) != AL__TF_PARSE_OK) {
                o.error = AL_EFORMAT; /* cannot happen: we wrote these bytes */
                goto done;
            }
            al_trace_event_t ev;
            al__tf_apply_event(&e, &raw, &ev);
            parsed++;
            if (!kept && ev.ts_ns < s->cutoff) {
                if (ev.thread < s->num_threads)
                    skipped[ev.thread]++;
                continue;
            }
            kept = true;
            if (!al__fbuf_reserve(&pre, AL__TF_EVENT_MAX)) {
                o.error = AL_ENOMEM;
                goto done;
            }
            pre.len += al__tf_put_event(pre.p + pre.len, &r, &ev);
            written++;
            synced = al__tf_state_eq(&r, &e);
        }
        if (synced && p == end)
            off = s->chunks[ci].len; /* synced on the chunk's last record */
        if (synced)
            break;
    }

    /* What is missing before the first event, per thread. */
    for (uint32_t t = 0; t < s->num_threads; t++) {
        uint64_t lost = s->threads[t].evicted + skipped[t] + s->threads[t].ring_before;
        if (lost) {
            uint8_t d[AL__TF_DROPS_MAX];
            al__fout(&o, d, al__tf_put_drops(d, (uint16_t)t, lost));
        }
    }
    al__fout(&o, pre.p, pre.len);
    if (synced) {
        written += total - parsed;
        /* The rest as recorded, split where ring drops were reported. */
        for (; ci < s->num_chunks; ci++, off = 0) {
            const al__fchunk_t *c = s->chunks[ci].c;
            while (di < s->num_drops && s->drops[di].seq == c->seq) {
                size_t at = s->drops[di].offset;
                if (at > off) {
                    al__fout(&o, c->data + off, at - off);
                    off = at;
                }
                al__fout_drops(&o, s, skipped, &s->drops[di]);
                di++;
            }
            al__fout(&o, c->data + off, s->chunks[ci].len - off);
        }
    }
    for (; di < s->num_drops; di++) /* reported after the last event */
        al__fout_drops(&o, s, skipped, &s->drops[di]);
    uint8_t end_rec = AL__TF_END;
    al__fout(&o, &end_rec, 1);
    if (!o.error && fflush(f) != 0)
        o.error = errno ? -errno : -EIO;
    *events = written;
done:
    free(pre.p);
    free(skipped);
    return o.error;
}

static void al__flight_count_save(al_flight_t *fr, int rc, uint64_t events, bool hang)
{
    pthread_mutex_lock(&fr->lock);
    fr->last_error = rc;
    if (rc == 0) {
        fr->saves++;
        fr->hang_saves += hang;
        fr->saved_events = events;
    }
    pthread_cond_broadcast(&fr->cond);
    pthread_mutex_unlock(&fr->lock);
}

static int al__flight_save_locked(al_flight_t *fr, FILE *f, uint64_t *events)
{
    al__fsnap_t s;
    int rc = al__fsnap_take(fr, &s);
    if (rc == 0) {
        rc = al__flight_write(&s, f, events);
        al__fsnap_free(&s);
    }
    return rc;
}

int al_flight_save_file(al_flight_t *fr, FILE *f)
{
    if (!fr || !f)
        return AL_EINVAL;
    uint64_t events = 0;
    pthread_mutex_lock(&fr->save_lock);
    int rc = al__flight_save_locked(fr, f, &events);
    pthread_mutex_unlock(&fr->save_lock);
    al__flight_count_save(fr, rc, events, false);
    return rc;
}

static int al__flight_save_path(al_flight_t *fr, const char *path, bool hang, uint64_t *events)
{
    if (!fr || !(path = path ? path : fr->path))
        return AL_EINVAL;
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp)
        return AL_ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    *events = 0;
    pthread_mutex_lock(&fr->save_lock);
    int rc = 0;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = -errno;
    } else {
        rc = al__flight_save_locked(fr, f, events);
        if (fclose(f) != 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -errno;
        if (rc != 0)
            remove(tmp);
    }
    pthread_mutex_unlock(&fr->save_lock);
    free(tmp);
    al__flight_count_save(fr, rc, *events, hang);
    return rc;
}

int al_flight_save(al_flight_t *fr, const char *path)
{
    uint64_t events;
    return al__flight_save_path(fr, path, false, &events);
}

static void al__flight_report(al_flight_t *fr, FILE *out, const char *why, int rc, uint64_t events)
{
    if (rc == 0)
        fprintf(out, "asynclab: flight recorder (%s): %llu events saved to %s\n", why,
                (unsigned long long)events, fr->path);
    else
        fprintf(out, "asynclab: flight recorder (%s): cannot save to %s: %s\n", why, fr->path,
                al_strerror(rc));
    fflush(out);
}

static void al__flight_on_sigquit(void *ctx, FILE *out)
{
    al_flight_t *fr = ctx;
    uint64_t events;
    int rc = al__flight_save_path(fr, NULL, false, &events);
    al__flight_report(fr, out, "SIGQUIT", rc, events);
}

/* ---- the watchdog ----------------------------------------------------------------------- */

/* Under lock: every worker inside one poll for longer than hang_ns? */
static bool al__flight_hung(al_flight_t *fr, uint64_t now)
{
    if (!fr->has_header || fr->ended || fr->header.num_workers == 0)
        return false;
    uint32_t n = fr->header.num_workers;
    if (n > AL__FLIGHT_MAX_WORKERS)
        n = AL__FLIGHT_MAX_WORKERS;
    for (uint32_t w = 0; w < n; w++) {
        uint64_t since = fr->busy_since[w];
        if (!since || now < since || now - since <= fr->hang_ns)
            return false;
    }
    return true;
}

static void *al__flight_watchdog_main(void *arg)
{
    al_flight_t *fr = arg;
    pthread_setname_np(pthread_self(), "al-flight-wd");
    uint64_t period = fr->hang_ns / 4;
    if (period < 1000000)
        period = 1000000;
    if (period > 1000000000)
        period = 1000000000;
    pthread_mutex_lock(&fr->lock);
    while (!fr->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + period;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&fr->cond, &fr->lock, &ts);
        if (fr->stopping)
            break;
        fr->checks++;
        if (!fr->fired && al__flight_hung(fr, al__flight_now())) {
            fr->fired = true;
            pthread_mutex_unlock(&fr->lock);
            uint64_t events;
            int rc = al__flight_save_path(fr, NULL, true, &events);
            char why[96];
            snprintf(why, sizeof why, "every worker stuck in a poll for over %llu ms",
                     (unsigned long long)(fr->hang_ns / 1000000));
            al__flight_report(fr, stderr, why, rc, events);
            pthread_mutex_lock(&fr->lock);
        }
        pthread_cond_broadcast(&fr->cond);
    }
    pthread_mutex_unlock(&fr->lock);
    return NULL;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

int al_flight_new(const al_flight_config_t *cfg_in, al_flight_t **out)
{
    al_flight_config_t cfg = cfg_in ? *cfg_in : (al_flight_config_t){0};
    if (!out || ((cfg.save_on_sigquit || cfg.hang_ms) && !cfg.path))
        return AL_EINVAL;
    al_flight_t *fr = calloc(1, sizeof *fr);
    if (!fr)
        return AL_ENOMEM;
    fr->max_bytes = cfg.max_bytes ? cfg.max_bytes : AL__FLIGHT_DEFAULT_BYTES;
    if (fr->max_bytes < AL__FLIGHT_MIN_BYTES)
        fr->max_bytes = AL__FLIGHT_MIN_BYTES;
    uint64_t chunk = fr->max_bytes / 16;
    fr->chunk_cap = chunk > AL__FLIGHT_MAX_CHUNK   ? AL__FLIGHT_MAX_CHUNK
                    : chunk < AL__FLIGHT_MIN_CHUNK ? AL__FLIGHT_MIN_CHUNK
                                                   : (uint32_t)chunk;
    fr->window_ns = cfg.window_ns;
    fr->hang_ns = cfg.hang_ms * 1000000u;
    fr->bytes = sizeof *fr;
    if (cfg.path && !(fr->path = strdup(cfg.path))) {
        free(fr);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&fr->lock, NULL);
    pthread_mutex_init(&fr->save_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&fr->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    if (cfg.hang_ms) {
        if (pthread_create(&fr->watchdog, NULL, al__flight_watchdog_main, fr) != 0)
            rc = AL_ENOMEM;
        else
            fr->has_watchdog = true;
    }
    if (rc == 0 && cfg.save_on_sigquit)
        rc = al_dump_action_add(al__flight_on_sigquit, fr, &fr->action);
    if (rc != 0) {
        al_flight_free(fr);
        return rc;
    }
    *out = fr;
    return 0;
}

int al_flight_record(al_runtime_t *rt, const al_flight_config_t *cfg, al_flight_t **out)
{
    if (!rt || !out)
        return AL_EINVAL;
    al_flight_t *fr;
    int rc = al_flight_new(cfg, &fr);
    if (rc != 0)
        return rc;
    al_stream_t *st = al_stream_of(rt);
    if (!st)
        rc = al_stream_start(rt, NULL, &st);
    if (rc == 0)
        rc = al_stream_subscribe(st, &al_flight_consumer, fr);
    if (rc != 0) {
        al_flight_free(fr);
        return rc;
    }
    *out = fr;
    return 0;
}

al_flight_t *al_flight_of(al_runtime_t *rt)
{
    return rt ? rt->env_flight : NULL;
}

void al_flight_stats(al_flight_t *fr, al_flight_stats_t *out)
{
    pthread_mutex_lock(&fr->lock);
    *out = (al_flight_stats_t){
        .events = fr->events,
        .retained = fr->retained,
        .discarded = fr->discarded,
        .bytes = fr->bytes,
        .event_bytes = fr->event_bytes,
        .oldest_ns = fr->head && fr->head->events ? fr->head->first_ts : 0,
        .newest_ns = fr->retained ? fr->newest_ts : 0,
        .saves = fr->saves,
        .hang_saves = fr->hang_saves,
        .saved_events = fr->saved_events,
        .watchdog_checks = fr->checks,
        .last_error = fr->last_error,
        .max_bytes = fr->max_bytes,
        .window_ns = fr->window_ns,
    };
    pthread_mutex_unlock(&fr->lock);
}

uint64_t al_flight_wait_saves(al_flight_t *fr, uint64_t n, uint64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (timeout_ms % 1000) * 1000000u;
    ts.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&fr->lock);
    while (fr->saves < n && pthread_cond_timedwait(&fr->cond, &fr->lock, &ts) != ETIMEDOUT)
        ;
    uint64_t saves = fr->saves;
    pthread_mutex_unlock(&fr->lock);
    return saves;
}

void al_flight_free(al_flight_t *fr)
{
    if (!fr)
        return;
    al_dump_action_remove(fr->action);
    if (fr->has_watchdog) {
        pthread_mutex_lock(&fr->lock);
        fr->stopping = true;
        pthread_cond_broadcast(&fr->cond);
        pthread_mutex_unlock(&fr->lock);
        pthread_join(fr->watchdog, NULL);
    }
    while (fr->head) {
        al__fchunk_t *c = fr->head;
        fr->head = c->next;
        al__fchunk_unref(c);
    }
    free(fr->spare);
    while (fr->meta_head) {
        al__fblock_t *b = fr->meta_head;
        fr->meta_head = b->next;
        free(b);
    }
    free(fr->threads);
    free(fr->drops);
    free(fr->path);
    pthread_mutex_destroy(&fr->lock);
    pthread_mutex_destroy(&fr->save_lock);
    pthread_cond_destroy(&fr->cond);
    free(fr);
}
