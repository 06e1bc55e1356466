/*
 * al_stream.c — the live event recorder (see al_stream.h for the contract).
 *
 * Producers. The recorder is the runtime's event hook. Each OS thread that
 * emits gets its own ring of al_trace_event_t (single producer: that thread;
 * single consumer: whoever holds round_lock), found through a thread-local
 * cache, so recording an event is a few stores into memory no other thread
 * writes, plus one release store of the tail. A full ring drops the event
 * and counts it; nothing ever waits. Strings (task names, locations, panic
 * messages) are interned under a mutex into an append-only table; they are
 * rare next to polls and wakes.
 *
 * The collector. Every collect_every_us a collector thread runs a round:
 * it merges, in timestamp order, every event older than `now - grace` from
 * all rings, and hands the batches to the consumers. Why the grace: a thread
 * reads the clock, then publishes the event a few ns later; an event whose
 * timestamp is older than the cut but which is not yet visible would
 * otherwise arrive after newer events of other threads. A thread preempted
 * for longer than the grace between the two steps still produces such a late
 * event; it is delivered with its timestamp raised to the last one delivered
 * (so every consumer sees a non-decreasing stream) and counted in `late`.
 * al_stream_flush runs a round with the cut at "now", on the caller's thread.
 *
 * Lifetime. The rings are read by the collector and written by any thread
 * inside the hook. A thread may still be inside the hook after it has been
 * uninstalled, so the rings and this struct live until al_runtime_free, which
 * runs after every runtime thread has been joined (al__stream_destroy).
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "al_runtime_internal.h"
#include "al_stream.h"
#include "al_stream_internal.h"

#define AL__STREAM_DEFAULT_RING 65536u
#define AL__STREAM_DEFAULT_PERIOD_US 1000u
#define AL__STREAM_GRACE_NS 2000000u  /* see the file comment */
#define AL__STREAM_BATCH 4096u        /* events per on_events call */
#define AL__STREAM_MAX_THREADS 65535u /* thread ids are uint16_t */
#define AL__STREAM_MAX_STRING_BYTES (64u << 20)
#define AL__STREAM_MAX_STRING_LEN 4096u

typedef struct al__ring {
    /* Consumer side (round_lock holder). */
    _Atomic uint64_t head;
    uint64_t drops_reported;
    bool announced;
    /* Producer side (the owning thread), on its own cache line. */
    alignas(64) _Atomic uint64_t tail;
    uint64_t head_cache;
    _Atomic uint64_t drops;
    /* Immutable after registration. */
    alignas(64) al_trace_event_t *slots;
    uint64_t mask;
    pthread_t owner;
    uint16_t id;
    al_thread_kind_t kind;
    int16_t worker;
    char name[32];
} al__ring_t;

typedef struct {
    char *s;
    uint32_t len;
    uint32_t hash;
} al__string_t;

typedef struct {
    const al_stream_consumer_t *vt;
    void *self;
} al__subscriber_t;

/* A simultaneous reading of the ticks clock and CLOCK_MONOTONIC. */
typedef struct {
    uint64_t ticks, ns;
} al__clock_sample_t;

struct al_stream {
    al_runtime_t *rt;
    uint64_t gen; /* distinguishes this stream from one reallocated at the same address */
    al_stream_config_t cfg;
    al_stream_header_t header;
    _Atomic bool enabled;

    pthread_mutex_t rings_lock; /* guards rings, num_rings (append-only) */
    al__ring_t **rings;
    uint32_t num_rings, cap_rings;
    _Atomic uint64_t unregistered_drops; /* events from threads that got no ring */

    pthread_mutex_t strings_lock; /* guards the string table */
    al__string_t *strings;        /* strings[id - 1] */
    uint32_t num_strings, cap_strings;
    uint32_t *index; /* open addressing: string id, 0 = empty */
    uint32_t index_cap;
    uint64_t string_bytes;

    /* A round (merging and delivering) runs under round_lock, on the
     * collector or a flushing thread; so do subscribe and stop. */
    pthread_mutex_t round_lock;
    al__subscriber_t *subs;
    uint32_t num_subs, cap_subs;
    uint32_t strings_announced;
    uint64_t last_cut, last_ts;
    /* ticks -> ns: before `anchor`, the line through anchor_prev and anchor;
     * after it, the line through anchor and the round's own sample. Both
     * pass through anchor, so the mapping is continuous and increasing. */
    al__clock_sample_t anchor_prev, anchor;
    al_trace_event_t *batch;
    al__ring_t **snap; /* the rings this round reads (producers may grow `rings`) */
    uint64_t *pos;     /* per ring: next event to merge this round */
    uint64_t *end;     /* per ring: tail seen at the start of the round */
    uint32_t pos_cap;

    pthread_mutex_t ctl_lock; /* the collector's sleep and stop flag */
    pthread_cond_t ctl_cond;
    bool stopping, running;
    pthread_t collector;

    _Atomic uint64_t recorded, delivered, late;
};

static _Atomic uint64_t al__stream_gen_next = 1;

static _Thread_local struct {
    al_stream_t *stream;
    uint64_t gen;
    al__ring_t *ring;
} al__stream_tls;

/* ---- the clock ---------------------------------------------------------------------- */

/*
 * Producers stamp events with "ticks": the TSC where it is invariant and
 * synchronized across cores (x86-64 with constant_tsc and nonstop_tsc),
 * because reading it costs ~11 ns here against ~25 ns for clock_gettime; else
 * CLOCK_MONOTONIC ns. The collector maps ticks to CLOCK_MONOTONIC ns with the
 * line through two samples of both clocks taken at its rounds (so TSC drift
 * against NTP-slewed time never accumulates). ASYNCLAB_CLOCK=monotonic
 * forces clock_gettime.
 */
static int al__use_tsc = -1; /* set once by al__stream_clock_init */

static void al__stream_clock_init(void)
{
    if (al__use_tsc >= 0)
        return;
    int use = 0;
#if defined(__x86_64__)
    const char *force = getenv("ASYNCLAB_CLOCK");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) == 0) {
            use = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
            break;
        }
    }
    if (f)
        fclose(f);
    if (force && strcmp(force, "monotonic") == 0)
        use = 0;
#endif
    al__use_tsc = use;
}

static inline uint64_t al__stream_ticks(void)
{
#if defined(__x86_64__)
    if (al__use_tsc)
        return __rdtsc();
#endif
    return al__now_ns();
}

static al__clock_sample_t al__clock_sample(void)
{
    /* The ns reading between two tick readings: take the midpoint. */
    uint64_t t0 = al__stream_ticks(), ns = al__now_ns(), t1 = al__stream_ticks();
    return (al__clock_sample_t){t0 + (t1 - t0) / 2, ns};
}

/* The line through samples a and b, as a 32.32 fixed-point slope: one
 * multiply per event instead of a 128-bit division. */
typedef struct {
    uint64_t ticks, ns;
    uint64_t slope; /* ns per tick << 32 */
} al__clock_line_t;

static al__clock_line_t al__clock_line(const al__clock_sample_t *a, const al__clock_sample_t *b)
{
    al__clock_line_t l = {a->ticks, a->ns, 0};
    if (b->ticks > a->ticks && b->ns > a->ns)
        l.slope = (uint64_t)(((unsigned __int128)(b->ns - a->ns) << 32) / (b->ticks - a->ticks));
    return l;
}

static uint64_t al__ticks_to_ns(const al__clock_line_t *l, uint64_t ticks)
{
    if (!al__use_tsc)
        return ticks;
    int64_t dt = (int64_t)(ticks - l->ticks);
    __int128 off = ((__int128)dt * (__int128)l->slope) >> 32;
    return (uint64_t)((int64_t)l->ns + (int64_t)off);
}

/* ---- strings ---------------------------------------------------------------------- */

static uint32_t al__hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static bool al__strings_grow_index(al_stream_t *st)
{
    uint32_t cap = st->index_cap ? st->index_cap * 2 : 256;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return false;
    for (uint32_t id = 1; id <= st->num_strings; id++) {
        uint32_t i = st->strings[id - 1].hash & (cap - 1);
        while (idx[i])
            i = (i + 1) & (cap - 1);
        idx[i] = id;
    }
    free(st->index);
    st->index = idx;
    st->index_cap = cap;
    return true;
}

/* The id of s in the table, adding it if new; 0 when the table is full. */
static uint32_t al__stream_intern(al_stream_t *st, const char *s)
{
    size_t len = strnlen(s, AL__STREAM_MAX_STRING_LEN);
    uint32_t h = al__hash(s, len);
    uint32_t id = 0;
    pthread_mutex_lock(&st->strings_lock);
    if (st->index_cap) {
        for (uint32_t i = h & (st->index_cap - 1);; i = (i + 1) & (st->index_cap - 1)) {
            uint32_t cand = st->index[i];
            if (!cand)
                break;
            al__string_t *e = &st->strings[cand - 1];
            if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
                id = cand;
                goto out;
            }
        }
    }
    if (st->string_bytes + len > AL__STREAM_MAX_STRING_BYTES)
        goto out;
    if ((st->num_strings + 1) * 2 > st->index_cap && !al__strings_grow_index(st))
        goto out;
    if (st->num_strings == st->cap_strings) {
        uint32_t cap = st->cap_strings ? st->cap_strings * 2 : 64;
        al__string_t *grown = realloc(st->strings, cap * sizeof *grown);
        if (!grown)
            goto out;
        st->strings = grown;
        st->cap_strings = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        goto out;
    memcpy(copy, s, len);
    copy[len] = 0;
    id = ++st->num_strings;
    st->strings[id - 1] = (al__string_t){copy, (uint32_t)len, h};
    st->string_bytes += len;
    uint32_t i = h & (st->index_cap - 1);
    while (st->index[i])
        i = (i + 1) & (st->index_cap - 1);
    st->index[i] = id;
out:
    pthread_mutex_unlock(&st->strings_lock);
    return id;
}

/* ---- rings ------------------------------------------------------------------------ */

static al__ring_t *al__stream_register_thread(al_stream_t *st)
{
    pthread_t self = pthread_self();
    al__ring_t *r = NULL;
    pthread_mutex_lock(&st->rings_lock);
    for (uint32_t i = 0; i < st->num_rings; i++) {
        if (pthread_equal(st->rings[i]->owner, self)) {
            r = st->rings[i];
            goto out;
        }
    }
    if (st->num_rings >= AL__STREAM_MAX_THREADS)
        goto out;
    if (st->num_rings == st->cap_rings) {
        uint32_t cap = st->cap_rings ? st->cap_rings * 2 : 16;
        al__ring_t **grown = realloc(st->rings, cap * sizeof *grown);
        if (!grown)
            goto out;
        st->rings = grown;
        st->cap_rings = cap;
    }
    bool is_worker = al__tls.rt == st->rt && al__tls.worker_index >= 0;
    char name[32] = "";
    pthread_getname_np(self, name, sizeof name);
    /* Workers emit most events; other threads (block_on callers, blocking
     * pool) get an eighth of the ring, so 512 pool threads stay affordable. */
    uint64_t cap = st->cfg.ring_events;
    if (!is_worker && cap >= 8192)
        cap /= 8;
    r = aligned_alloc(64, (sizeof *r + 63) & ~(size_t)63);
    al_trace_event_t *slots = malloc(cap * sizeof *slots);
    if (!r || !slots) {
        free(r);
        free(slots);
        r = NULL;
        goto out;
    }
    memset(r, 0, sizeof *r);
    r->slots = slots;
    r->mask = cap - 1;
    r->owner = self;
    r->id = (uint16_t)st->num_rings;
    r->worker = is_worker ? (int16_t)al__tls.worker_index : AL_EV_NOT_WORKER;
    r->kind = is_worker                               ? AL_THREAD_WORKER
              : strncmp(name, "al-blocking", 11) == 0 ? AL_THREAD_BLOCKING
                                                      : AL_THREAD_OTHER;
    memcpy(r->name, name, sizeof r->name);
    st->rings[st->num_rings++] = r;
out:
    pthread_mutex_unlock(&st->rings_lock);
    if (r) {
        al__stream_tls.stream = st;
        al__stream_tls.gen = st->gen;
        al__stream_tls.ring = r;
    }
    return r;
}

/* The hook's fast path: runs on the emitting thread, for every event. */
void al__stream_record_fast(void *user, uint16_t kind, uint64_t task, uint64_t a, uint64_t b,
                            const char *str, int16_t worker)
{
    al_stream_t *st = user;
    if (!atomic_load_explicit(&st->enabled, memory_order_relaxed))
        return;
    al__ring_t *r = al__stream_tls.ring;
    if (AL_UNLIKELY(al__stream_tls.stream != st || al__stream_tls.gen != st->gen)) {
        r = al__stream_register_thread(st);
        if (!r) {
            atomic_fetch_add_explicit(&st->unregistered_drops, 1, memory_order_relaxed);
            return;
        }
    }
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (AL_UNLIKELY(tail - r->head_cache > r->mask)) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - r->head_cache > r->mask) {
            uint64_t d = atomic_load_explicit(&r->drops, memory_order_relaxed);
            atomic_store_explicit(&r->drops, d + 1, memory_order_relaxed);
            return;
        }
    }
    al_trace_event_t *e = &r->slots[tail & r->mask];
    e->ts_ns = al__stream_ticks(); /* ticks until the collector converts them */
    e->task = task;
    e->a = a;
    e->b = b;
    e->str = str ? al__stream_intern(st, str) : 0;
    e->kind = kind;
    e->thread = r->id;
    e->worker = worker;
    /* Release: the slot is written before the collector can see it. */
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

/* The hook as installed (al__emit takes the fast path above instead). */
void al__stream_record(void *user, const al_event_t *ev)
{
    al__stream_record_fast(user, ev->kind, ev->task, ev->a, ev->b, ev->str, ev->worker);
}

/* ---- delivery ----------------------------------------------------------------------- */

static void al__deliver_events(al_stream_t *st, const al_trace_event_t *ev, size_t n)
{
    for (uint32_t i = 0; i < st->num_subs; i++)
        if (st->subs[i].vt->on_events)
            st->subs[i].vt->on_events(st->subs[i].self, ev, n);
    atomic_fetch_add_explicit(&st->delivered, n, memory_order_relaxed);
}

static void al__announce_thread(const al__subscriber_t *s, const al__ring_t *r)
{
    if (s->vt->on_thread)
        s->vt->on_thread(s->self, r->id, r->name, r->kind, r->worker);
}

static void al__announce_string(const al__subscriber_t *s, uint32_t id, const al__string_t *e)
{
    if (s->vt->on_string)
        s->vt->on_string(s->self, id, e->s, e->len);
}

/*
 * One round under round_lock: announce new threads and strings, then merge
 * every visible event with ts <= cut, oldest first, in batches.
 */
static void al__stream_round(al_stream_t *st, uint64_t cut)
{
    if (cut < st->last_cut)
        cut = st->last_cut;
    st->last_cut = cut;
    /* Convert the cut to ticks with the line through the anchor and now. */
    al__clock_sample_t now = al__clock_sample();
    uint64_t cut_ticks = cut;
    if (al__use_tsc) {
        if (cut == UINT64_MAX)
            cut_ticks = UINT64_MAX;
        else if (cut >= now.ns || now.ns <= st->anchor.ns)
            cut_ticks = now.ticks;
        else
            cut_ticks =
                now.ticks - (uint64_t)((__int128)(now.ns - cut) * (now.ticks - st->anchor.ticks) /
                                       (now.ns - st->anchor.ns));
    }

    pthread_mutex_lock(&st->rings_lock);
    uint32_t n = st->num_rings;
    if (n > st->pos_cap) {
        uint64_t *p = realloc(st->pos, n * sizeof *p);
        if (p)
            st->pos = p;
        uint64_t *e = p ? realloc(st->end, n * sizeof *e) : NULL;
        if (e)
            st->end = e;
        al__ring_t **sn = e ? realloc(st->snap, n * sizeof *sn) : NULL;
        if (sn)
            st->snap = sn;
        if (!sn) {
            pthread_mutex_unlock(&st->rings_lock);
            return; /* out of memory: try again next round */
        }
        st->pos_cap = n;
    }
    if (n) /* st->snap is still NULL before the first thread emits */
        memcpy(st->snap, st->rings, n * sizeof *st->snap);
    pthread_mutex_unlock(&st->rings_lock);
    al__ring_t **rings = st->snap;

    /* Tails first: every string an event visible now refers to was interned
     * before its tail was published, so it is in the snapshot taken next. */
    for (uint32_t i = 0; i < n; i++) {
        st->pos[i] = atomic_load_explicit(&rings[i]->head, memory_order_relaxed);
        st->end[i] = atomic_load_explicit(&rings[i]->tail, memory_order_acquire);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!rings[i]->announced) {
            for (uint32_t s = 0; s < st->num_subs; s++)
                al__announce_thread(&st->subs[s], rings[i]);
            rings[i]->announced = true;
        }
    }
    pthread_mutex_lock(&st->strings_lock);
    uint32_t nstr = st->num_strings;
    pthread_mutex_unlock(&st->strings_lock);
    /* A producer may realloc the table meanwhile: copy each entry under the
     * lock (the strings themselves never move). */
    for (uint32_t id = st->strings_announced + 1; id <= nstr; id++) {
        pthread_mutex_lock(&st->strings_lock);
        al__string_t e = st->strings[id - 1];
        pthread_mutex_unlock(&st->strings_lock);
        for (uint32_t s = 0; s < st->num_subs; s++)
            al__announce_string(&st->subs[s], id, &e);
    }
    st->strings_announced = nstr;

    al__clock_line_t before = al__clock_line(&st->anchor_prev, &st->anchor);
    al__clock_line_t after = al__clock_line(&st->anchor, &now);
    size_t nb = 0;
    for (;;) {
        /* The ring whose next event is oldest (few rings: a scan is fine). */
        int best = -1;
        uint64_t best_ts = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (st->pos[i] == st->end[i])
                continue;
            uint64_t ts = rings[i]->slots[st->pos[i] & rings[i]->mask].ts_ns; /* ticks */
            if (ts > cut_ticks)
                continue;
            if (best < 0 || ts < best_ts) {
                best = (int)i;
                best_ts = ts;
            }
        }
        if (best < 0 || nb == AL__STREAM_BATCH) {
            if (nb) {
                al__deliver_events(st, st->batch, nb);
                for (uint32_t i = 0; i < n; i++)
                    atomic_store_explicit(&rings[i]->head, st->pos[i], memory_order_release);
                nb = 0;
            }
            if (best < 0)
                break;
        }
        al__ring_t *r = rings[best];
        al_trace_event_t ev = r->slots[st->pos[best] & r->mask];
        ev.ts_ns = al__ticks_to_ns(ev.ts_ns < st->anchor.ticks ? &before : &after, ev.ts_ns);
        if (ev.ts_ns < st->last_ts) {
            ev.ts_ns = st->last_ts; /* late: see the file comment */
            atomic_fetch_add_explicit(&st->late, 1, memory_order_relaxed);
        }
        st->last_ts = ev.ts_ns;
        st->batch[nb++] = ev;
        st->pos[best]++;
    }

    /* A new anchor once the baseline is long enough for a precise slope. */
    if (now.ns - st->anchor.ns >= 1000000) {
        st->anchor_prev = st->anchor;
        st->anchor = now;
    }

    for (uint32_t i = 0; i < n; i++) {
        uint64_t d = atomic_load_explicit(&rings[i]->drops, memory_order_relaxed);
        if (d != rings[i]->drops_reported) {
            rings[i]->drops_reported = d;
            for (uint32_t s = 0; s < st->num_subs; s++)
                if (st->subs[s].vt->on_drops)
                    st->subs[s].vt->on_drops(st->subs[s].self, rings[i]->id, d);
        }
    }
}

/* ---- the collector thread ---------------------------------------------------------- */

static void *al__stream_collector_main(void *arg)
{
    al_stream_t *st = arg;
    pthread_setname_np(pthread_self(), "al-collector");
    pthread_mutex_lock(&st->ctl_lock);
    while (!st->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + st->cfg.collect_every_us * 1000ull;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&st->ctl_cond, &st->ctl_lock, &ts);
        if (st->stopping)
            break;
        pthread_mutex_unlock(&st->ctl_lock);
        uint64_t now = al__now_ns();
        pthread_mutex_lock(&st->round_lock);
        al__stream_round(st, now > AL__STREAM_GRACE_NS ? now - AL__STREAM_GRACE_NS : 0);
        pthread_mutex_unlock(&st->round_lock);
        pthread_mutex_lock(&st->ctl_lock);
    }
    pthread_mutex_unlock(&st->ctl_lock);
    return NULL;
}

/* ---- public API ----------------------------------------------------------------------- */

static void al__stream_fill_header(al_stream_t *st)
{
    al__stream_clock_init();
    st->anchor = st->anchor_prev = al__clock_sample();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    st->header = (al_stream_header_t){
        .version = AL_STREAM_VERSION,
        .num_workers = st->rt->cfg.flavor == AL_MULTI_THREAD ? st->rt->cfg.worker_threads : 1,
        .flavor = (uint32_t)st->rt->cfg.flavor,
        .global_queue_interval = st->rt->cfg.global_queue_interval,
        .event_interval = st->rt->cfg.event_interval,
        .max_blocking_threads = st->rt->cfg.max_blocking_threads,
        .clock_base_ns = st->anchor.ns,
        .wall_base_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec,
    };
}

static int al__stream_run(al_stream_t *st)
{
    st->stopping = false;
    if (pthread_create(&st->collector, NULL, al__stream_collector_main, st) != 0)
        return AL_ENOMEM;
    st->running = true;
    atomic_store(&st->enabled, true);
    al_runtime_set_hook(st->rt, al__stream_record, st);
    return 0;
}

int al_stream_start(al_runtime_t *rt, const al_stream_config_t *cfg, al_stream_t **out)
{
    if (!rt || !out)
        return AL_EINVAL;
    al_stream_t *st = rt->stream;
    if (st) {
        if (st->running)
            return AL_EBUSY;
        /* Restart: forget the previous session's consumers and leftovers. */
        pthread_mutex_lock(&st->round_lock);
        st->num_subs = 0;
        pthread_mutex_lock(&st->rings_lock);
        for (uint32_t i = 0; i < st->num_rings; i++)
            atomic_store(&st->rings[i]->head, atomic_load(&st->rings[i]->tail));
        pthread_mutex_unlock(&st->rings_lock);
        al__stream_fill_header(st);
        st->last_cut = st->last_ts = 0;
        pthread_mutex_unlock(&st->round_lock);
        int rc = al__stream_run(st);
        if (rc == 0)
            *out = st;
        return rc;
    }
    if (atomic_load(&rt->hook.fn))
        return AL_EBUSY;
    al_stream_config_t c = cfg ? *cfg : (al_stream_config_t){0};
    if (c.ring_events == 0)
        c.ring_events = AL__STREAM_DEFAULT_RING;
    if (c.ring_events < 64 || (c.ring_events & (c.ring_events - 1)))
        return AL_EINVAL;
    if (c.collect_every_us == 0)
        c.collect_every_us = AL__STREAM_DEFAULT_PERIOD_US;
    st = calloc(1, sizeof *st);
    if (!st || !(st->batch = malloc(AL__STREAM_BATCH * sizeof *st->batch))) {
        free(st);
        return AL_ENOMEM;
    }
    st->rt = rt;
    st->cfg = c;
    st->gen = atomic_fetch_add(&al__stream_gen_next, 1);
    pthread_mutex_init(&st->rings_lock, NULL);
    pthread_mutex_init(&st->strings_lock, NULL);
    pthread_mutex_init(&st->round_lock, NULL);
    pthread_mutex_init(&st->ctl_lock, NULL);
    pthread_cond_init(&st->ctl_cond, NULL);
    al__stream_fill_header(st);
    int rc = al__stream_run(st);
    if (rc != 0) {
        al__stream_destroy(st);
        return rc;
    }
    rt->stream = st;
    *out = st;
    return 0;
}

al_stream_t *al_stream_of(al_runtime_t *rt)
{
    return rt && rt->stream && rt->stream->running ? rt->stream : NULL;
}

int al_stream_subscribe(al_stream_t *st, const al_stream_consumer_t *c, void *self)
{
    if (!st || !c)
        return AL_EINVAL;
    pthread_mutex_lock(&st->round_lock);
    if (st->num_subs == st->cap_subs) {
        uint32_t cap = st->cap_subs ? st->cap_subs * 2 : 4;
        al__subscriber_t *grown = realloc(st->subs, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&st->round_lock);
            return AL_ENOMEM;
        }
        st->subs = grown;
        st->cap_subs = cap;
    }
    al__subscriber_t *s = &st->subs[st->num_subs++];
    *s = (al__subscriber_t){c, self};
    /* Catch up: the header, and every thread and string already announced. */
    if (c->on_header)
        c->on_header(self, &st->header);
    pthread_mutex_lock(&st->rings_lock);
    for (uint32_t i = 0; i < st->num_rings; i++)
        if (st->rings[i]->announced)
            al__announce_thread(s, st->rings[i]);
    pthread_mutex_unlock(&st->rings_lock);
    for (uint32_t id = 1; id <= st->strings_announced; id++) {
        pthread_mutex_lock(&st->strings_lock);
        al__string_t e = st->strings[id - 1];
        pthread_mutex_unlock(&st->strings_lock);
        al__announce_string(s, id, &e);
    }
    pthread_mutex_unlock(&st->round_lock);
    return 0;
}

int al_stream_unsubscribe(al_stream_t *st, const al_stream_consumer_t *c, void *self)
{
    if (!st || !c)
        return AL_EINVAL;
    /* Rounds deliver under round_lock: once we hold it, no callback of
     * (c, self) runs, and none will after we remove it. */
    pthread_mutex_lock(&st->round_lock);
    int rc = AL_EINVAL;
    for (uint32_t i = 0; i < st->num_subs; i++) {
        if (st->subs[i].vt == c && st->subs[i].self == self) {
            memmove(&st->subs[i], &st->subs[i + 1], (st->num_subs - i - 1) * sizeof *st->subs);
            st->num_subs--;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&st->round_lock);
    return rc;
}

void al_stream_flush(al_stream_t *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->round_lock);
    al__stream_round(st, al__now_ns());
    pthread_mutex_unlock(&st->round_lock);
}

void al_stream_stop(al_stream_t *st)
{
    if (!st || !st->running)
        return;
    pthread_mutex_lock(&st->ctl_lock);
    st->stopping = true;
    pthread_cond_signal(&st->ctl_cond);
    pthread_mutex_unlock(&st->ctl_lock);
    pthread_join(st->collector, NULL);
    /* Stop recording, then deliver everything that was recorded. */
    al_runtime_set_hook(st->rt, NULL, NULL);
    atomic_store(&st->enabled, false);
    pthread_mutex_lock(&st->round_lock);
    al__stream_round(st, UINT64_MAX);
    for (uint32_t i = 0; i < st->num_subs; i++)
        if (st->subs[i].vt->on_end)
            st->subs[i].vt->on_end(st->subs[i].self);
    st->num_subs = 0;
    st->running = false;
    pthread_mutex_unlock(&st->round_lock);
}

void al_stream_stats(const al_stream_t *cst, al_stream_stats_t *out)
{
    al_stream_t *st = (al_stream_t *)cst;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&st->rings_lock);
    for (uint32_t i = 0; i < st->num_rings; i++) {
        out->recorded += atomic_load_explicit(&st->rings[i]->tail, memory_order_relaxed);
        out->dropped += atomic_load_explicit(&st->rings[i]->drops, memory_order_relaxed);
    }
    out->threads = st->num_rings;
    pthread_mutex_unlock(&st->rings_lock);
    out->dropped += atomic_load_explicit(&st->unregistered_drops, memory_order_relaxed);
    out->delivered = atomic_load_explicit(&st->delivered, memory_order_relaxed);
    out->late = atomic_load_explicit(&st->late, memory_order_relaxed);
}

void al__stream_destroy(al_stream_t *st)
{
    if (!st)
        return;
    al_stream_stop(st);
    for (uint32_t i = 0; i < st->num_rings; i++) {
        free(st->rings[i]->slots);
        free(st->rings[i]);
    }
    free(st->rings);
    for (uint32_t i = 0; i < st->num_strings; i++)
        free(st->strings[i].s);
    free(st->strings);
    free(st->index);
    free(st->subs);
    free(st->batch);
    free(st->pos);
    free(st->end);
    free(st->snap);
    pthread_mutex_destroy(&st->rings_lock);
    pthread_mutex_destroy(&st->strings_lock);
    pthread_mutex_destroy(&st->round_lock);
    pthread_mutex_destroy(&st->ctl_lock);
    pthread_cond_destroy(&st->ctl_cond);
    free(st);
}
