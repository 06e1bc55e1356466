/*
 * al_perfetto.c — the Chrome Trace Event JSON exporter (see al_perfetto.h).
 *
 * Every recording thread gets a stack of open slices. An event that begins a
 * slice first closes the open slices it cannot happen inside (a poll inside
 * a park, a park inside a poll: only possible when events were dropped); an
 * event that ends one closes everything above it. A slice is written as one
 * "X" event when it closes, so durations are known and nesting is exact.
 * User spans are the exception: one that would have to be cut short is
 * lifted off the stack and written as an async "b"/"e" pair instead.
 *
 * Wake arrows are written when the woken task's next poll begins (so every
 * "s" has its "f"); the wake must have happened inside a slice of the waking
 * thread, or the arrow would have nothing to start from.
 *
 * Queue depths are a model: each scheduled task is placed in one queue (a
 * worker's LIFO slot or local queue, the inject queue, the current-thread run
 * queue, the blocking pool's queue) and leaves it when polled. A worker's
 * local queue keeps the order of its tasks, so STEAL (the oldest n) and
 * OVERFLOW (the oldest half plus the newest) move the right tasks as far as
 * the events tell. Moves the events do not show (a batch taken from the
 * inject queue, the LIFO task pushed back when the budget runs out) leave a
 * task counted where it was last seen until it is polled; each task is
 * counted exactly once from its schedule to its poll.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_future.h"
#include "al_perfetto.h"
#include "al_runtime.h"

/* ---- state ------------------------------------------------------------------------------- */

enum { SL_POLL, SL_PARK, SL_SEARCH, SL_BLOCKED, SL_RUN, SL_SPAN, SL_FINISH };
/* Where a slice's begin came from, when not from its own begin event. */
enum { BEGIN_EVENT, BEGIN_BEFORE_EXPORT, BEGIN_IMPLICIT };
#define AL__M(k) (1u << (k))

typedef struct {
    uint64_t begin;
    uint64_t task;
    uint64_t a, b;   /* from the begin event */
    uint64_t ea, eb; /* from the end event (when it closed normally) */
    uint64_t end;    /* closing: where it ends */
    uint32_t name;   /* string id: task name (polls), span name (spans) */
    uint8_t kind;
    uint8_t origin; /* BEGIN_* */
    bool closing;   /* a "task end" past TASK_END: extended over the joiner's wake */
} al__slice_t;

typedef struct {
    al__slice_t *stack;
    uint32_t depth, cap;
    bool announced; /* thread_name written */
    bool began;     /* a slice began here (no more "open since before" slices) */
    bool dropped;   /* this thread lost events */
    bool seen;      /* an event of this thread was handled (at prev_ts) */
    uint64_t prev_ts;
    al_thread_kind_t kind;
    int16_t worker;
} al__track_t;

typedef struct {
    uint64_t id; /* 0: free slot */
    uint64_t wake_ts;
    uint32_t name;
    uint32_t wake_thread; /* thread + 1 of a pending wake arrow, 0: none */
    int32_t queue;        /* modelled queue, -1: none */
    uint32_t seq;         /* its entry in that queue */
    bool lifo;            /* in the worker's LIFO slot (not in the deque) */
    bool alive;           /* spawned while exporting and not ended */
} al__task_t;

typedef struct {
    uint64_t task;
    uint32_t seq;
} al__qent_t;

typedef struct {
    al__qent_t *ring; /* deque, oldest first; stale entries are skipped */
    uint32_t cap, head, len;
    int64_t depth;
    int64_t written; /* last value written (-1: none) */
    uint64_t lifo;   /* task in the LIFO slot (workers), 0: none */
    bool dirty;
} al__queue_t;

enum { Q_INJECT = 0, Q_CURRENT, Q_BLOCKING, Q_WORKER0 };

typedef struct {
    uint64_t span, begin, task;
    uint32_t name;
    uint16_t thread;
} al__lifted_t;

typedef struct {
    char *s;
    uint32_t len;
} al__str_t;

struct al_perfetto_writer {
    FILE *out;
    al_perfetto_options_t opt;
    char *process_name;
    int error;
    bool finished, any_event, have_header, have_ts;
    al_stream_header_t hdr;
    uint64_t base_ns, first_ts, last_ts;
    uint64_t events_in, events_out, progress_at;

    al__str_t *strings;
    uint32_t cap_strings;
    al__track_t *tracks;
    uint32_t cap_tracks;
    uint32_t *worker_thread; /* thread + 1 last seen acting as worker w */
    uint32_t cap_workers;

    al__task_t *tasks;
    uint32_t tasks_cap, tasks_len;
    al__queue_t *queues;
    uint32_t num_queues;
    uint32_t next_seq;
    int64_t alive, alive_written;
    bool alive_dirty, queues_dirty;

    al__lifted_t *lifted;
    uint32_t num_lifted, cap_lifted;
    uint64_t next_flow;

    /* for the metadata */
    uint64_t closed_early, unmatched, wakes_unbound, steals_unbound, flows, lifted_spans;
    uint64_t *drops;
    uint32_t cap_drops;

    char *line;
    size_t len, cap;
};

/* ---- output ------------------------------------------------------------------------------ */

static void al__pf_fail(al_perfetto_writer_t *w, int err)
{
    if (!w->error)
        w->error = err;
}

static void al__pf_reserve(al_perfetto_writer_t *w, size_t more)
{
    if (w->len + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 512;
    while (cap < w->len + more)
        cap *= 2;
    char *grown = realloc(w->line, cap);
    if (!grown) {
        al__pf_fail(w, AL_ENOMEM);
        return;
    }
    w->line = grown;
    w->cap = cap;
}

static void al__pf_put(al_perfetto_writer_t *w, const char *s, size_t n)
{
    al__pf_reserve(w, n);
    if (w->len + n > w->cap)
        return;
    memcpy(w->line + w->len, s, n);
    w->len += n;
}

static void al__pf_puts(al_perfetto_writer_t *w, const char *s)
{
    al__pf_put(w, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void al__pf_printf(al_perfetto_writer_t *w,
                                                                const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    char buf[256];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n > 0 && (size_t)n < sizeof buf) {
        al__pf_put(w, buf, (size_t)n);
    } else if (n > 0) {
        al__pf_reserve(w, (size_t)n + 1);
        if (w->len + (size_t)n + 1 <= w->cap) {
            vsnprintf(w->line + w->len, (size_t)n + 1, fmt, again);
            w->len += (size_t)n;
        }
    }
    va_end(again);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates,
 * at most U+10FFFF), or 0. */
static size_t al__utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* The bytes of a JSON string (without the quotes): quotes, backslashes and
 * control characters escaped, invalid UTF-8 bytes replaced by U+FFFD. */
static void al__pf_esc(al_perfetto_writer_t *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            al__pf_put(w, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            al__pf_put(w, esc, 2);
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            static const char short_esc[] = "btn\0fr"; /* \b \t \n - \f \r for 8..13 */
            if (c >= 8 && c <= 13 && short_esc[c - 8]) {
                char esc[2] = {'\\', short_esc[c - 8]};
                al__pf_put(w, esc, 2);
            } else {
                al__pf_printf(w, "\\u%04x", c);
            }
            p++;
        } else {
            size_t n = al__utf8_len(p, end);
            if (n) {
                al__pf_put(w, (const char *)p, n);
                p += n;
            } else {
                al__pf_put(w, "\xEF\xBF\xBD", 3);
                p++;
            }
        }
    }
}

static void al__pf_str(al_perfetto_writer_t *w, const char *s)
{
    al__pf_put(w, "\"", 1);
    al__pf_esc(w, s, strlen(s));
    al__pf_put(w, "\"", 1);
}

static const al__str_t *al__pf_string(const al_perfetto_writer_t *w, uint32_t id)
{
    return id && id < w->cap_strings && w->strings[id].s ? &w->strings[id] : NULL;
}

/* Microseconds since the clock base, with the nanoseconds as decimals. */
static void al__pf_ts(al_perfetto_writer_t *w, uint64_t ns)
{
    if (ns >= w->base_ns) {
        uint64_t d = ns - w->base_ns;
        al__pf_printf(w, "%llu.%03llu", (unsigned long long)(d / 1000),
                      (unsigned long long)(d % 1000));
    } else {
        uint64_t d = w->base_ns - ns;
        al__pf_printf(w, "-%llu.%03llu", (unsigned long long)(d / 1000),
                      (unsigned long long)(d % 1000));
    }
}

static void al__pf_write(al_perfetto_writer_t *w, const char *s, size_t n)
{
    if (w->error || n == 0)
        return;
    errno = 0;
    if (fwrite(s, 1, n, w->out) != n)
        al__pf_fail(w, errno ? -errno : -EIO);
}

/* Start an event: {"ph":"X","pid":1,"tid":T,"ts":U */
static void al__pf_begin(al_perfetto_writer_t *w, const char *ph, uint32_t thread, uint64_t ts)
{
    w->len = 0;
    al__pf_puts(w, w->any_event ? ",\n{\"ph\":\"" : "{\"ph\":\"");
    al__pf_puts(w, ph);
    al__pf_printf(w, "\",\"pid\":1,\"tid\":%u,\"ts\":", thread + 1);
    if (ph[0] == 'M')
        al__pf_puts(w, "0"); /* metadata: no time */
    else
        al__pf_ts(w, ts);
}

static void al__pf_end(al_perfetto_writer_t *w)
{
    al__pf_put(w, "}", 1);
    if (w->error)
        return;
    al__pf_write(w, w->line, w->len);
    w->any_event = true;
    w->events_out++;
}

/* ---- strings, tracks ----------------------------------------------------------------------- */

static void *al__pf_grow(al_perfetto_writer_t *w, void *arr, uint32_t *cap, uint32_t need,
                         size_t elem, uint32_t first)
{
    if (need < *cap)
        return arr;
    if (need >= UINT32_MAX / 2)
        return NULL; /* damaged input: no id is that large; skip what refers to it */
    uint32_t c = *cap ? *cap : first;
    while (c <= need)
        c *= 2;
    char *grown = realloc(arr, (size_t)c * elem);
    if (!grown) {
        al__pf_fail(w, AL_ENOMEM);
        return NULL;
    }
    memset(grown + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *cap = c;
    return grown;
}

static void al__pf_name_track(al_perfetto_writer_t *w, uint16_t thread, const char *os_name)
{
    al__track_t *tr = &w->tracks[thread];
    char name[64];
    int sort;
    if (tr->kind == AL_THREAD_WORKER) {
        bool again = false; /* a second thread acting as the same worker */
        for (uint32_t t = 0; t < w->cap_tracks; t++)
            again |= t != thread && w->tracks[t].announced &&
                     w->tracks[t].kind == AL_THREAD_WORKER && w->tracks[t].worker == tr->worker;
        if (again)
            snprintf(name, sizeof name, "worker %d (thread %u)", tr->worker, thread);
        else
            snprintf(name, sizeof name, "worker %d", tr->worker);
        sort = tr->worker;
    } else if (tr->kind == AL_THREAD_BLOCKING) {
        snprintf(name, sizeof name, "blocking#%u", thread);
        sort = 2000 + thread;
    } else {
        snprintf(name, sizeof name, "%.40s#%u", os_name && *os_name ? os_name : "thread", thread);
        sort = 1000 + thread;
    }
    tr->announced = true;
    al__pf_begin(w, "M", thread, 0);
    al__pf_puts(w, ",\"name\":\"thread_name\",\"args\":{\"name\":");
    al__pf_str(w, name);
    al__pf_puts(w, "}");
    al__pf_end(w);
    al__pf_begin(w, "M", thread, 0);
    al__pf_printf(w, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%d}", sort);
    al__pf_end(w);
}

static al__track_t *al__pf_track(al_perfetto_writer_t *w, uint16_t thread)
{
    al__track_t *grown = al__pf_grow(w, w->tracks, &w->cap_tracks, thread, sizeof *grown, 16);
    if (!grown)
        return NULL;
    w->tracks = grown;
    al__track_t *tr = &w->tracks[thread];
    if (!tr->announced) { /* not announced by on_thread: name it anyway */
        tr->kind = AL_THREAD_OTHER;
        tr->worker = AL_EV_NOT_WORKER;
        al__pf_name_track(w, thread, "thread");
    }
    return tr;
}

/* ---- tasks (open addressing, backward-shift deletion) -------------------------------------- */

static uint32_t al__pf_hash(uint64_t id, uint32_t cap)
{
    return (uint32_t)(id * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
}

static al__task_t *al__pf_task_find(al_perfetto_writer_t *w, uint64_t id)
{
    if (!id || !w->tasks_cap)
        return NULL;
    for (uint32_t j = al__pf_hash(id, w->tasks_cap);; j = (j + 1) & (w->tasks_cap - 1)) {
        if (w->tasks[j].id == id)
            return &w->tasks[j];
        if (!w->tasks[j].id)
            return NULL;
    }
}

/* Find or add. Pointers into the table are valid until the next _get/_del. */
static al__task_t *al__pf_task_get(al_perfetto_writer_t *w, uint64_t id)
{
    al__task_t *t = al__pf_task_find(w, id);
    if (t || !id)
        return t;
    if ((w->tasks_len + 1) * 2 > w->tasks_cap) {
        uint32_t cap = w->tasks_cap ? w->tasks_cap * 2 : 1024;
        al__task_t *grown = calloc(cap, sizeof *grown);
        if (!grown) {
            al__pf_fail(w, AL_ENOMEM);
            return NULL;
        }
        for (uint32_t i = 0; i < w->tasks_cap; i++) {
            if (!w->tasks[i].id)
                continue;
            uint32_t j = al__pf_hash(w->tasks[i].id, cap);
            while (grown[j].id)
                j = (j + 1) & (cap - 1);
            grown[j] = w->tasks[i];
        }
        free(w->tasks);
        w->tasks = grown;
        w->tasks_cap = cap;
    }
    uint32_t j = al__pf_hash(id, w->tasks_cap);
    while (w->tasks[j].id)
        j = (j + 1) & (w->tasks_cap - 1);
    w->tasks[j] = (al__task_t){.id = id, .queue = -1};
    w->tasks_len++;
    return &w->tasks[j];
}

static void al__pf_task_del(al_perfetto_writer_t *w, al__task_t *t)
{
    uint32_t mask = w->tasks_cap - 1, hole = (uint32_t)(t - w->tasks);
    w->tasks[hole].id = 0;
    w->tasks_len--;
    for (uint32_t j = (hole + 1) & mask; w->tasks[j].id; j = (j + 1) & mask) {
        uint32_t home = al__pf_hash(w->tasks[j].id, w->tasks_cap);
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            w->tasks[hole] = w->tasks[j];
            w->tasks[j].id = 0;
            hole = j;
        }
    }
}

/* ---- counters ------------------------------------------------------------------------------ */

static al__queue_t *al__pf_queue(al_perfetto_writer_t *w, uint32_t q)
{
    if (q >= w->num_queues) {
        uint32_t n = w->num_queues ? w->num_queues : 8;
        while (n <= q)
            n *= 2;
        al__queue_t *grown = realloc(w->queues, n * sizeof *grown);
        if (!grown) {
            al__pf_fail(w, AL_ENOMEM);
            return NULL;
        }
        for (uint32_t i = w->num_queues; i < n; i++)
            grown[i] = (al__queue_t){.written = -1};
        w->queues = grown;
        w->num_queues = n;
    }
    return &w->queues[q];
}

static void al__pf_counter(al_perfetto_writer_t *w, uint16_t thread, uint64_t ts, const char *name,
                           const char *key, int64_t value)
{
    al__pf_begin(w, "C", thread, ts);
    al__pf_puts(w, ",\"name\":");
    al__pf_str(w, name);
    al__pf_printf(w, ",\"args\":{\"%s\":%lld}", key, (long long)value);
    al__pf_end(w);
}

/* Write the counters that changed while handling one event. */
static void al__pf_flush_counters(al_perfetto_writer_t *w, uint16_t thread, uint64_t ts)
{
    if (w->opt.no_counters)
        return;
    if (w->alive_dirty && w->alive != w->alive_written) {
        al__pf_counter(w, thread, ts, "tasks", "alive", w->alive);
        w->alive_written = w->alive;
    }
    w->alive_dirty = false;
    if (!w->queues_dirty)
        return;
    w->queues_dirty = false;
    for (uint32_t q = 0; q < w->num_queues; q++) {
        al__queue_t *qu = &w->queues[q];
        if (!qu->dirty)
            continue;
        qu->dirty = false;
        if (qu->depth == qu->written)
            continue;
        char name[48];
        if (q >= Q_WORKER0)
            snprintf(name, sizeof name, "worker %u local queue", q - Q_WORKER0);
        else
            snprintf(name, sizeof name, "%s",
                     q == Q_INJECT    ? "inject queue"
                     : q == Q_CURRENT ? "current-thread run queue"
                                      : "blocking pool queue");
        al__pf_counter(w, thread, ts, name, "tasks", qu->depth);
        qu->written = qu->depth;
    }
}

/* ---- the queue model ------------------------------------------------------------------------- */

static bool al__dq_push(al_perfetto_writer_t *w, al__queue_t *q, al__qent_t e)
{
    if (q->len == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 64;
        al__qent_t *ring = malloc(cap * sizeof *ring);
        if (!ring) {
            al__pf_fail(w, AL_ENOMEM);
            return false;
        }
        for (uint32_t i = 0; i < q->len; i++)
            ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->len) & (q->cap - 1)] = e;
    q->len++;
    return true;
}

static bool al__dq_valid(al_perfetto_writer_t *w, uint32_t qi, al__qent_t e)
{
    const al__task_t *t = al__pf_task_find(w, e.task);
    return t && t->queue == (int32_t)qi && t->seq == e.seq && !t->lifo;
}

/* Drop stale entries at both ends (and compact a deque mostly stale). */
static void al__dq_trim(al_perfetto_writer_t *w, uint32_t qi)
{
    al__queue_t *q = &w->queues[qi];
    while (q->len && !al__dq_valid(w, qi, q->ring[q->head])) {
        q->head = (q->head + 1) & (q->cap - 1);
        q->len--;
    }
    while (q->len && !al__dq_valid(w, qi, q->ring[(q->head + q->len - 1) & (q->cap - 1)]))
        q->len--;
    if (q->len > 256 && q->len > 4 * (uint64_t)(q->depth > 0 ? q->depth : 0) + 256) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < q->len; i++) {
            al__qent_t e = q->ring[(q->head + i) & (q->cap - 1)];
            if (al__dq_valid(w, qi, e))
                q->ring[(q->head + n++) & (q->cap - 1)] = e;
        }
        q->len = n;
    }
}

static void al__pf_depth(al_perfetto_writer_t *w, uint32_t qi, int64_t delta)
{
    al__queue_t *q = al__pf_queue(w, qi);
    if (!q)
        return;
    q->depth += delta;
    if (q->depth < 0)
        q->depth = 0;
    q->dirty = true;
    w->queues_dirty = true;
}

/* Take the task out of the queue it is modelled in. */
static void al__pf_unqueue(al_perfetto_writer_t *w, al__task_t *t)
{
    if (!t || t->queue < 0)
        return;
    uint32_t qi = (uint32_t)t->queue;
    al__queue_t *q = &w->queues[qi];
    if (t->lifo && q->lifo == t->id)
        q->lifo = 0;
    t->queue = -1;
    t->lifo = false;
    al__pf_depth(w, qi, -1);
    al__dq_trim(w, qi);
}

static void al__pf_enqueue(al_perfetto_writer_t *w, uint64_t task, uint32_t qi, bool lifo)
{
    if (!al__pf_queue(w, qi))
        return;
    al__task_t *t = al__pf_task_get(w, task);
    if (!t)
        return;
    al__pf_unqueue(w, t);
    al__queue_t *q = &w->queues[qi];
    t->queue = (int32_t)qi;
    t->seq = ++w->next_seq;
    al__pf_depth(w, qi, 1);
    if (lifo) {
        /* The task in the slot moves to the back of the local queue. */
        al__task_t *prev = q->lifo ? al__pf_task_find(w, q->lifo) : NULL;
        t = al__pf_task_find(w, task); /* (find does not move entries) */
        if (prev && prev->lifo && prev->queue == (int32_t)qi) {
            prev->lifo = false;
            prev->seq = ++w->next_seq;
            al__dq_push(w, q, (al__qent_t){prev->id, prev->seq});
        }
        t->lifo = true;
        q->lifo = task;
    } else {
        al__dq_push(w, q, (al__qent_t){task, t->seq});
    }
}

/* The oldest (or newest) task modelled in the local queue qi, or NULL. */
static al__task_t *al__pf_dq_take(al_perfetto_writer_t *w, uint32_t qi, bool newest)
{
    if (qi >= w->num_queues)
        return NULL;
    al__queue_t *q = &w->queues[qi];
    while (q->len) {
        al__qent_t e;
        if (newest) {
            e = q->ring[(q->head + q->len - 1) & (q->cap - 1)];
            q->len--;
        } else {
            e = q->ring[q->head];
            q->head = (q->head + 1) & (q->cap - 1);
            q->len--;
        }
        if (al__dq_valid(w, qi, e))
            return al__pf_task_find(w, e.task);
    }
    return NULL;
}

static void al__pf_move(al_perfetto_writer_t *w, uint32_t from, uint32_t to, uint64_t n,
                        bool newest_first)
{
    if (!al__pf_queue(w, to))
        return;
    for (uint64_t i = 0; i < n; i++) {
        al__task_t *t = al__pf_dq_take(w, from, newest_first && i == 0);
        if (!t)
            break;
        t->queue = (int32_t)to;
        t->seq = ++w->next_seq;
        al__pf_depth(w, from, -1);
        al__pf_depth(w, to, 1);
        al__dq_push(w, &w->queues[to], (al__qent_t){t->id, t->seq});
    }
}

/* ---- slices ------------------------------------------------------------------------------------
 */

static const char *al__pick(const char *const *names, size_t n, uint64_t v)
{
    return v < n ? names[v] : "?";
}
#define AL__PICK(arr, v) al__pick(arr, sizeof arr / sizeof arr[0], v)

static const char *const al__poll_ends[] = {"pending", "ready", "panicked", "cancelled"};
static const char *const al__unparks[] = {"notified", "timer", "io", "spurious", "shutdown"};
static const char *const al__blocks[] = {"thread sleep", "std mutex", "spin", "block_in_place",
                                         "sync io"};
static const char *const al__task_kinds[] = {"async", "blocking", "local"};
static const char *const al__slice_cats[] = {"poll",     "park", "search", "block",
                                             "blocking", "user", "task"};
static const char *const al__joins[] = {"ok", "cancelled", "panicked"};

/* name = the task's name, or "task N" */
static void al__pf_task_name(al_perfetto_writer_t *w, uint32_t name, uint64_t task)
{
    const al__str_t *s = al__pf_string(w, name);
    if (s && s->len)
        al__pf_esc(w, s->s, s->len);
    else
        al__pf_printf(w, "task %llu", (unsigned long long)task);
}

/* Write a closed slice. closed_by: NULL when its own end event closed it. */
static void al__pf_write_slice(al_perfetto_writer_t *w, uint16_t thread, const al__slice_t *s,
                               uint64_t end, const char *closed_by)
{
    if (s->closing) {
        end = s->end;
        closed_by = NULL;
    }
    if (end < s->begin)
        end = s->begin;
    al__pf_begin(w, "X", thread, s->begin);
    uint64_t d = end - s->begin;
    al__pf_printf(w, ",\"dur\":%llu.%03llu,\"cat\":\"%s\",\"name\":\"",
                  (unsigned long long)(d / 1000), (unsigned long long)(d % 1000),
                  al__slice_cats[s->kind]);
    switch (s->kind) {
    case SL_POLL:
        al__pf_task_name(w, s->name, s->task);
        al__pf_printf(w, "\",\"args\":{\"task\":%llu", (unsigned long long)s->task);
        if (!closed_by)
            al__pf_printf(w, ",\"result\":\"%s\",\"budget_left\":%lld",
                          AL__PICK(al__poll_ends, s->ea), (long long)(int64_t)s->eb);
        break;
    case SL_PARK:
        al__pf_printf(w, "parked\",\"args\":{\"where\":\"%s\"", s->a ? "driver" : "condvar");
        if (!closed_by)
            al__pf_printf(w, ",\"why\":\"%s\"", AL__PICK(al__unparks, s->ea));
        break;
    case SL_SEARCH:
        al__pf_puts(w, "searching\",\"args\":{");
        if (!closed_by)
            al__pf_printf(w, "\"found_work\":%s", s->ea ? "true" : "false");
        break;
    case SL_BLOCKED:
        al__pf_printf(w, "blocked: %s\",\"args\":{\"task\":%llu,\"what\":\"%s\"",
                      AL__PICK(al__blocks, s->a), (unsigned long long)s->task,
                      AL__PICK(al__blocks, s->a));
        if (s->a == AL_BLOCK_THREAD_SLEEP || s->a == AL_BLOCK_SPIN)
            al__pf_printf(w, ",\"ms\":%llu", (unsigned long long)s->b);
        else if (s->a == AL_BLOCK_STD_MUTEX)
            al__pf_printf(w, ",\"resource\":%llu", (unsigned long long)s->b);
        break;
    case SL_RUN:
        al__pf_printf(w, "blocking-pool run\",\"args\":{\"task\":%llu,\"thread_number\":%llu",
                      (unsigned long long)s->task, (unsigned long long)s->a);
        break;
    case SL_SPAN: {
        const al__str_t *n = al__pf_string(w, s->name);
        if (n)
            al__pf_esc(w, n->s, n->len);
        else
            al__pf_printf(w, "span %llu", (unsigned long long)s->a);
        al__pf_printf(w, "\",\"args\":{\"task\":%llu,\"span\":%llu", (unsigned long long)s->task,
                      (unsigned long long)s->a);
        break;
    }
    case SL_FINISH:
        al__pf_printf(w, "task end\",\"args\":{\"task\":%llu", (unsigned long long)s->task);
        if (!closed_by)
            al__pf_printf(w, ",\"how\":\"%s\"", AL__PICK(al__joins, s->ea));
        break;
    }
    bool empty = w->len && w->line[w->len - 1] == '{';
    if (s->origin != BEGIN_EVENT) {
        al__pf_puts(w, empty ? "\"begin\":" : ",\"begin\":");
        al__pf_puts(w,
                    s->origin == BEGIN_IMPLICIT ? "\"no SEARCH_BEGIN\"" : "\"before the export\"");
        empty = false;
    }
    if (closed_by) {
        al__pf_puts(w, empty ? "\"closed_by\":" : ",\"closed_by\":");
        al__pf_str(w, closed_by);
    }
    al__pf_puts(w, "}");
    al__pf_end(w);
}

/* A user span as an async slice: "b" (and "e" when end is not 0). */
static void al__pf_async(al_perfetto_writer_t *w, const char *ph, uint16_t thread, uint64_t ts,
                         uint64_t span, uint32_t name, uint64_t task, const char *closed_by)
{
    al__pf_begin(w, ph, thread, ts);
    al__pf_printf(w, ",\"cat\":\"user\",\"id\":\"0x%llx\",\"name\":\"", (unsigned long long)span);
    const al__str_t *n = al__pf_string(w, name);
    if (n)
        al__pf_esc(w, n->s, n->len);
    else
        al__pf_printf(w, "span %llu", (unsigned long long)span);
    if (ph[0] == 'b')
        al__pf_printf(w, "\",\"args\":{\"task\":%llu,\"span\":%llu}", (unsigned long long)task,
                      (unsigned long long)span);
    else if (closed_by) {
        al__pf_puts(w, "\",\"args\":{\"closed_by\":");
        al__pf_str(w, closed_by);
        al__pf_puts(w, "}");
    } else
        al__pf_puts(w, "\"");
    al__pf_end(w);
}

/* Lift an open span off its track: from now on it is an async slice. */
static void al__pf_lift(al_perfetto_writer_t *w, uint16_t thread, const al__slice_t *s)
{
    al__lifted_t *grown =
        al__pf_grow(w, w->lifted, &w->cap_lifted, w->num_lifted, sizeof *grown, 16);
    if (!grown)
        return;
    w->lifted = grown;
    w->lifted[w->num_lifted++] = (al__lifted_t){s->a, s->begin, s->task, s->name, thread};
    w->lifted_spans++;
    al__pf_async(w, "b", thread, s->begin, s->a, s->name, s->task, NULL);
}

/* Close the slices above index i (spans are lifted, the rest cut short). */
static void al__pf_close_above(al_perfetto_writer_t *w, uint16_t thread, al__track_t *tr,
                               uint32_t i, uint64_t ts, const char *by)
{
    while (tr->depth > i + 1) {
        al__slice_t *s = &tr->stack[--tr->depth];
        if (s->kind == SL_SPAN) {
            al__pf_lift(w, thread, s);
        } else {
            al__pf_write_slice(w, thread, s, ts, by);
            w->closed_early++;
        }
    }
}

/* Close the topmost slice whose kind is in mask, and all above it. */
static void al__pf_close_through(al_perfetto_writer_t *w, uint16_t thread, al__track_t *tr,
                                 unsigned mask, uint64_t ts, const char *by)
{
    for (uint32_t i = tr->depth; i-- > 0;) {
        if (mask & AL__M(tr->stack[i].kind)) {
            al__pf_close_above(w, thread, tr, i, ts, by);
            tr->depth--;
            al__pf_write_slice(w, thread, &tr->stack[i], ts, by);
            w->closed_early++;
            return;
        }
    }
}

/* The topmost open slice of this kind (and task, when task is not 0), or -1. */
static int64_t al__pf_find(const al__track_t *tr, unsigned kind, uint64_t task)
{
    for (uint32_t i = tr->depth; i-- > 0;)
        if (tr->stack[i].kind == kind && (!task || tr->stack[i].task == task))
            return i;
    return -1;
}

static void al__pf_push(al_perfetto_writer_t *w, al__track_t *tr, al__slice_t s)
{
    al__slice_t *grown = al__pf_grow(w, tr->stack, &tr->cap, tr->depth, sizeof *grown, 8);
    if (!grown)
        return;
    tr->stack = grown;
    tr->stack[tr->depth++] = s;
    tr->began = true;
}

/* Write the "task end" slice at the top (closing), and the pool run it ends. */
static void al__pf_pop_closing(al_perfetto_writer_t *w, uint16_t thread, al__track_t *tr)
{
    al__slice_t f = tr->stack[--tr->depth];
    al__pf_write_slice(w, thread, &f, f.end, NULL);
    if (tr->depth && tr->stack[tr->depth - 1].kind == SL_RUN &&
        tr->stack[tr->depth - 1].task == f.task) {
        tr->depth--;
        al__pf_write_slice(w, thread, &tr->stack[tr->depth], f.end, NULL);
    }
}

/* A worker that turns searcher when it unparks (or when a park is cut short
 * by a notification) emits no SEARCH_BEGIN. At its first STEAL or its
 * SEARCH_END, open that search from the previous event of the thread (the
 * UNPARK, or the SEARCH_END before the park): nothing happened on the thread
 * since, so the slice nests. */
static void al__pf_implicit_search(al_perfetto_writer_t *w, al__track_t *tr)
{
    if (tr->seen && al__pf_find(tr, SL_SEARCH, 0) < 0)
        al__pf_push(
            w, tr,
            (al__slice_t){.begin = tr->prev_ts, .kind = SL_SEARCH, .origin = BEGIN_IMPLICIT});
}

/* A slice's own end event: close it (and what is above it). When it is not
 * open, and nothing has begun on this thread yet, it was open before the
 * export began: write it from the first exported event on. */
static void al__pf_end_slice(al_perfetto_writer_t *w, uint16_t thread, al__track_t *tr, int64_t i,
                             const al_trace_event_t *e, al__slice_t missing)
{
    if (i < 0) {
        if (tr->began || tr->dropped) {
            w->unmatched++;
            return;
        }
        missing.begin = w->first_ts;
        missing.origin = BEGIN_BEFORE_EXPORT;
        missing.ea = e->a;
        missing.eb = e->b;
        al__pf_write_slice(w, thread, &missing, e->ts_ns, NULL);
        return;
    }
    al__pf_close_above(w, thread, tr, (uint32_t)i, e->ts_ns, al_event_kind_name(e->kind));
    al__slice_t *s = &tr->stack[--tr->depth];
    s->ea = e->a;
    s->eb = e->b;
    al__pf_write_slice(w, thread, s, e->ts_ns, NULL);
}

/* Close a poll of another task still open here (its end was lost). */
static void al__pf_close_stale_poll(al_perfetto_writer_t *w, uint16_t thread, al__track_t *tr,
                                    const al_trace_event_t *e)
{
    int64_t p = al__pf_find(tr, SL_POLL, 0);
    if (e->task && p >= 0 && tr->stack[p].task != e->task)
        al__pf_close_through(w, thread, tr, AL__M(SL_POLL), e->ts_ns, al_event_kind_name(e->kind));
}

/* ---- instants and flows ------------------------------------------------------------------------
 */

static void al__pf_instant_begin(al_perfetto_writer_t *w, uint16_t thread, uint64_t ts,
                                 const char *cat, const char *scope)
{
    al__pf_begin(w, "i", thread, ts);
    al__pf_printf(w, ",\"s\":\"%s\",\"cat\":\"%s\",\"name\":\"", scope, cat);
}

static void al__pf_flow(al_perfetto_writer_t *w, const char *what, uint16_t from, uint64_t from_ts,
                        uint16_t to, uint64_t to_ts)
{
    uint64_t id = ++w->next_flow;
    al__pf_begin(w, "s", from, from_ts);
    al__pf_printf(w, ",\"cat\":\"%s\",\"name\":\"%s\",\"id\":%llu", what, what,
                  (unsigned long long)id);
    al__pf_end(w);
    al__pf_begin(w, "f", to, to_ts);
    al__pf_printf(w, ",\"bp\":\"e\",\"cat\":\"%s\",\"name\":\"%s\",\"id\":%llu", what, what,
                  (unsigned long long)id);
    al__pf_end(w);
    w->flows++;
}

static void al__pf_text_instant(al_perfetto_writer_t *w, const al_trace_event_t *e, const char *cat,
                                const char *prefix, const char *key)
{
    const al__str_t *s = al__pf_string(w, e->str);
    al__pf_instant_begin(w, e->thread, e->ts_ns, cat, "t");
    al__pf_puts(w, prefix);
    if (s)
        al__pf_esc(w, s->s, s->len);
    al__pf_printf(w, "\",\"args\":{\"task\":%llu", (unsigned long long)e->task);
    if (e->kind == AL_EV_LINT)
        al__pf_printf(w, ",\"lint\":%llu", (unsigned long long)e->a);
    al__pf_printf(w, ",\"%s\":\"", key);
    if (s)
        al__pf_esc(w, s->s, s->len);
    al__pf_puts(w, "\"}");
    al__pf_end(w);
}

/* ---- events
 * -------------------------------------------------------------------------------------- */

static void al__pf_event(al_perfetto_writer_t *w, const al_trace_event_t *e)
{
    if (e->kind >= AL_EV__COUNT)
        return;
    al__track_t *tr = al__pf_track(w, e->thread);
    if (!tr)
        return;
    const uint16_t th = e->thread;
    const uint64_t ts = e->ts_ns;
    const char *by = al_event_kind_name(e->kind);
    if (!w->have_ts) {
        w->first_ts = ts;
        w->have_ts = true;
    }
    if (ts > w->last_ts)
        w->last_ts = ts;
    if (e->worker >= 0) {
        uint32_t *grown = al__pf_grow(w, w->worker_thread, &w->cap_workers, (uint32_t)e->worker,
                                      sizeof *grown, 16);
        if (grown) {
            w->worker_thread = grown;
            w->worker_thread[e->worker] = th + 1u;
        }
    }

    /* A task's completion after TASK_END: the joiner's wake and schedule. */
    if (tr->depth && tr->stack[tr->depth - 1].closing) {
        if ((e->kind == AL_EV_WAKE && (e->b & 0xffff) == AL_WAKE_JOIN) ||
            e->kind == AL_EV_TASK_SCHEDULE || e->kind == AL_EV_WAKER_DROP)
            tr->stack[tr->depth - 1].end = ts;
        else
            al__pf_pop_closing(w, th, tr);
    }

    switch (e->kind) {
    case AL_EV_POLL_BEGIN: {
        al__pf_close_through(w, th, tr,
                             AL__M(SL_POLL) | AL__M(SL_PARK) | AL__M(SL_SEARCH) |
                                 AL__M(SL_BLOCKED) | AL__M(SL_FINISH),
                             ts, by);
        al__task_t *t = al__pf_task_find(w, e->task);
        al__pf_unqueue(w, t);
        uint32_t name = t ? t->name : 0;
        if (t && t->wake_thread) {
            if (!w->opt.no_flows)
                al__pf_flow(w, "wake", (uint16_t)(t->wake_thread - 1), t->wake_ts, th, ts);
            t->wake_thread = 0;
        }
        al__pf_push(w, tr,
                    (al__slice_t){.begin = ts, .task = e->task, .name = name, .kind = SL_POLL});
        break;
    }
    case AL_EV_POLL_END: {
        int64_t i = al__pf_find(tr, SL_POLL, e->task);
        al__task_t *t = al__pf_task_find(w, e->task);
        if (i < 0 && e->a == AL_POLL_END_CANCELLED) {
            /* Cancelled without a poll (aborted or shut down while queued). */
            al__pf_unqueue(w, t);
            if (t)
                t->wake_thread = 0;
        } else {
            al__pf_end_slice(
                w, th, tr, i, e,
                (al__slice_t){.task = e->task, .name = t ? t->name : 0, .kind = SL_POLL});
        }
        /* The last poll: completing the task (dropping the future, waking
         * the joiner) is a slice of its own, up to TASK_END. */
        if (e->a != AL_POLL_END_PENDING)
            al__pf_push(w, tr, (al__slice_t){.begin = ts, .task = e->task, .kind = SL_FINISH});
        break;
    }
    case AL_EV_PARK:
    case AL_EV_SEARCH_BEGIN:
        al__pf_close_through(w, th, tr,
                             AL__M(SL_POLL) | AL__M(SL_PARK) | AL__M(SL_SEARCH) |
                                 AL__M(SL_BLOCKED) | AL__M(SL_RUN) | AL__M(SL_FINISH),
                             ts, by);
        al__pf_push(w, tr,
                    (al__slice_t){.begin = ts,
                                  .a = e->a,
                                  .kind = e->kind == AL_EV_PARK ? SL_PARK : SL_SEARCH});
        break;
    case AL_EV_UNPARK:
        al__pf_end_slice(w, th, tr, al__pf_find(tr, SL_PARK, 0), e,
                         (al__slice_t){.a = 1, .kind = SL_PARK});
        break;
    case AL_EV_SEARCH_END:
        al__pf_implicit_search(w, tr);
        al__pf_end_slice(w, th, tr, al__pf_find(tr, SL_SEARCH, 0), e,
                         (al__slice_t){.kind = SL_SEARCH});
        break;
    case AL_EV_BLOCK_BEGIN:
        al__pf_close_through(w, th, tr, AL__M(SL_PARK) | AL__M(SL_SEARCH), ts, by);
        al__pf_close_stale_poll(w, th, tr, e);
        al__pf_push(
            w, tr,
            (al__slice_t){.begin = ts, .task = e->task, .a = e->a, .b = e->b, .kind = SL_BLOCKED});
        break;
    case AL_EV_BLOCK_END: {
        int64_t i = -1;
        for (uint32_t j = tr->depth; j-- > 0 && i < 0;)
            if (tr->stack[j].kind == SL_BLOCKED && tr->stack[j].a == e->a)
                i = j;
        if (i < 0)
            i = al__pf_find(tr, SL_BLOCKED, 0);
        al__pf_end_slice(w, th, tr, i, e,
                         (al__slice_t){.task = e->task, .a = e->a, .kind = SL_BLOCKED});
        break;
    }
    case AL_EV_BLOCKING_RUN:
        al__pf_close_through(w, th, tr,
                             AL__M(SL_POLL) | AL__M(SL_PARK) | AL__M(SL_SEARCH) |
                                 AL__M(SL_BLOCKED) | AL__M(SL_RUN) | AL__M(SL_FINISH),
                             ts, by);
        al__pf_unqueue(w, al__pf_task_find(w, e->task));
        al__pf_push(w, tr, (al__slice_t){.begin = ts, .task = e->task, .a = e->a, .kind = SL_RUN});
        break;
    case AL_EV_SPAN_BEGIN:
        al__pf_close_stale_poll(w, th, tr, e);
        al__pf_push(w, tr,
                    (al__slice_t){
                        .begin = ts, .task = e->task, .a = e->a, .name = e->str, .kind = SL_SPAN});
        break;
    case AL_EV_SPAN_END: {
        /* On this thread's stack: a slice if on top, else it cannot nest. */
        for (uint32_t t = 0; t < w->cap_tracks; t++) {
            uint32_t tid = t == 0 ? th : (t == th ? 0 : t); /* this thread first */
            al__track_t *o = &w->tracks[tid];
            for (uint32_t i = o->depth; i-- > 0;) {
                al__slice_t s = o->stack[i];
                if (s.kind != SL_SPAN || s.a != e->a)
                    continue;
                if (o == tr && i + 1 == o->depth) {
                    o->depth--;
                    al__pf_write_slice(w, th, &s, ts, NULL);
                } else {
                    memmove(&o->stack[i], &o->stack[i + 1], (o->depth - i - 1) * sizeof s);
                    o->depth--;
                    w->lifted_spans++;
                    al__pf_async(w, "b", (uint16_t)tid, s.begin, s.a, s.name, s.task, NULL);
                    al__pf_async(w, "e", th, ts, s.a, s.name, s.task, NULL);
                }
                goto done;
            }
        }
        for (uint32_t i = 0; i < w->num_lifted; i++) {
            if (w->lifted[i].span != e->a)
                continue;
            al__pf_async(w, "e", th, ts, e->a, w->lifted[i].name, w->lifted[i].task, NULL);
            w->lifted[i] = w->lifted[--w->num_lifted];
            goto done;
        }
        w->unmatched++;
        break;
    }
    case AL_EV_TASK_SPAWN: {
        al__task_t *t = al__pf_task_get(w, e->task);
        if (t) {
            t->name = e->str;
            if (!t->alive) {
                t->alive = true;
                w->alive++;
                w->alive_dirty = true;
            }
        }
        al__pf_instant_begin(w, th, ts, "spawn", "t");
        al__pf_puts(w, "spawn ");
        al__pf_task_name(w, e->str, e->task);
        al__pf_printf(w, "\",\"args\":{\"task\":%llu,\"parent\":%llu,\"kind\":\"%s\"}",
                      (unsigned long long)e->task, (unsigned long long)e->a,
                      AL__PICK(al__task_kinds, e->b));
        al__pf_end(w);
        break;
    }
    case AL_EV_TASK_END: {
        /* TASK_END comes before the JoinHandle is woken: the slice stays
         * open over that wake (see above), and closes at the next event. */
        int64_t i = al__pf_find(tr, SL_FINISH, e->task);
        if (i >= 0) {
            al__pf_close_above(w, th, tr, (uint32_t)i, ts, by);
            tr->stack[i].closing = true;
            tr->stack[i].end = ts;
            tr->stack[i].ea = e->a;
        }
        al__task_t *t = al__pf_task_find(w, e->task);
        if (t) {
            al__pf_unqueue(w, t);
            if (t->alive) {
                w->alive--;
                w->alive_dirty = true;
            }
            al__pf_task_del(w, t);
        }
        break;
    }
    case AL_EV_TASK_SCHEDULE: {
        uint32_t qi;
        bool lifo = false;
        switch (e->a) {
        case AL_QUEUE_LIFO:
        case AL_QUEUE_LOCAL:
            if (e->worker < 0)
                goto done;
            qi = Q_WORKER0 + (uint32_t)e->worker;
            lifo = e->a == AL_QUEUE_LIFO;
            break;
        case AL_QUEUE_INJECT:
            qi = Q_INJECT;
            break;
        case AL_QUEUE_CURRENT:
            qi = Q_CURRENT;
            break;
        case AL_QUEUE_BLOCKING:
            qi = Q_BLOCKING;
            break;
        default:
            goto done;
        }
        al__pf_enqueue(w, e->task, qi, lifo);
        break;
    }
    case AL_EV_STEAL: {
        al__pf_implicit_search(w, tr);
        if (e->worker >= 0)
            al__pf_move(w, Q_WORKER0 + (uint32_t)e->a, Q_WORKER0 + (uint32_t)e->worker, e->b,
                        false);
        /* The arrow first: at the same ts, Perfetto binds it to the slice
         * on top, which the instant would otherwise be. */
        uint32_t victim = e->a < w->cap_workers ? w->worker_thread[e->a] : 0;
        bool bound = victim && victim - 1 != th && victim - 1 < w->cap_tracks &&
                     w->tracks[victim - 1].depth && tr->depth;
        if (bound && !w->opt.no_flows)
            al__pf_flow(w, "steal", (uint16_t)(victim - 1), ts, th, ts);
        else if (!bound)
            w->steals_unbound++;
        al__pf_instant_begin(w, th, ts, "steal", "t");
        al__pf_printf(w, "steal\",\"args\":{\"victim\":%llu,\"tasks\":%llu}",
                      (unsigned long long)e->a, (unsigned long long)e->b);
        al__pf_end(w);
        break;
    }
    case AL_EV_OVERFLOW:
        if (e->worker >= 0) {
            /* The oldest half and the task being pushed go to the inject queue. */
            al__pf_move(w, Q_WORKER0 + (uint32_t)e->worker, Q_INJECT, 1, true);
            al__pf_move(w, Q_WORKER0 + (uint32_t)e->worker, Q_INJECT, e->a ? e->a - 1 : 0, false);
        }
        break;
    case AL_EV_WAKE: {
        al__task_t *t = al__pf_task_get(w, e->task);
        if (!t || t->wake_thread)
            break; /* the first wake since the last poll is the one that counts */
        if (tr->depth) {
            t->wake_thread = th + 1u;
            t->wake_ts = ts;
        } else {
            w->wakes_unbound++;
        }
        break;
    }
    case AL_EV_LINT:
        al__pf_text_instant(w, e, "lint", "lint: ", "message");
        break;
    case AL_EV_USER_LOG:
        al__pf_text_instant(w, e, "user", "log: ", "text");
        break;
    case AL_EV_CAPTION: /* lesson hooks: the narration and the markers on the timeline */
        al__pf_text_instant(w, e, "lesson", e->str ? "caption: " : "caption cleared", "text");
        break;
    case AL_EV_MARKER:
        al__pf_text_instant(w, e, "lesson", "marker: ", "name");
        break;
    case AL_EV_LOCK_CONTEND:
        al__pf_instant_begin(w, th, ts, "lock", "t");
        al__pf_printf(
            w, "lock contended\",\"args\":{\"task\":%llu,\"resource\":%llu,\"holder\":%llu}",
            (unsigned long long)e->task, (unsigned long long)e->a, (unsigned long long)e->b);
        al__pf_end(w);
        break;
    case AL_EV_BLOCKING_THREAD_START:
    case AL_EV_BLOCKING_THREAD_EXIT:
        al__pf_close_through(w, th, tr, AL__M(SL_RUN), ts, by);
        al__pf_instant_begin(w, th, ts, "blocking", "t");
        al__pf_printf(w, "blocking thread %s\",\"args\":{\"thread_number\":%llu}",
                      e->kind == AL_EV_BLOCKING_THREAD_START ? "start" : "exit",
                      (unsigned long long)e->a);
        al__pf_end(w);
        break;
    case AL_EV_RUNTIME_START:
        al__pf_instant_begin(w, th, ts, "runtime", "p");
        al__pf_printf(w, "runtime start\",\"args\":{\"workers\":%llu}", (unsigned long long)e->a);
        al__pf_end(w);
        break;
    case AL_EV_RUNTIME_SHUTDOWN:
        al__pf_instant_begin(w, th, ts, "runtime", "p");
        al__pf_printf(w, "runtime shutdown\",\"args\":{\"tasks_cancelled\":%llu}",
                      (unsigned long long)e->a);
        al__pf_end(w);
        break;
    default:
        break; /* timers, I/O, resources, channels, semaphores, wakers: not drawn */
    }
done:
    tr->seen = true;
    tr->prev_ts = ts;
    al__pf_flush_counters(w, th, ts);
}

/* ---- the consumer ------------------------------------------------------------------------------
 */

static void al__pf_on_header(void *self, const al_stream_header_t *h)
{
    al_perfetto_writer_t *w = self;
    if (w->have_header)
        return;
    w->hdr = *h;
    w->have_header = true;
    w->base_ns = h->clock_base_ns;
    al__pf_begin(w, "M", 0, 0);
    al__pf_printf(w, ",\"name\":\"process_labels\",\"args\":{\"labels\":\"%s, %u worker%s\"}",
                  h->flavor == AL_MULTI_THREAD ? "multi-thread" : "current-thread", h->num_workers,
                  h->num_workers == 1 ? "" : "s");
    al__pf_end(w);
}

static void al__pf_on_thread(void *self, uint16_t thread, const char *name, al_thread_kind_t kind,
                             int16_t worker)
{
    al_perfetto_writer_t *w = self;
    if (w->finished)
        return;
    al__track_t *grown = al__pf_grow(w, w->tracks, &w->cap_tracks, thread, sizeof *grown, 16);
    if (!grown)
        return;
    w->tracks = grown;
    w->tracks[thread].kind = kind;
    w->tracks[thread].worker = kind == AL_THREAD_WORKER ? worker : AL_EV_NOT_WORKER;
    al__pf_name_track(w, thread, name);
}

static void al__pf_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_perfetto_writer_t *w = self;
    al__str_t *grown = al__pf_grow(w, w->strings, &w->cap_strings, id, sizeof *grown, 64);
    if (!grown)
        return;
    w->strings = grown;
    char *copy = malloc(len + 1);
    if (!copy) {
        al__pf_fail(w, AL_ENOMEM);
        return;
    }
    memcpy(copy, s, len);
    copy[len] = 0;
    free(w->strings[id].s);
    w->strings[id] = (al__str_t){copy, (uint32_t)len};
}

static void al__pf_progress(al_perfetto_writer_t *w, bool always)
{
    if (!w->opt.progress)
        return;
    uint64_t every = w->opt.progress_every ? w->opt.progress_every : 65536;
    if (always || w->events_out - w->progress_at >= every) {
        w->progress_at = w->events_out;
        w->opt.progress(w->opt.progress_user, w->events_out);
    }
}

static void al__pf_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_perfetto_writer_t *w = self;
    if (w->finished)
        return;
    for (size_t i = 0; i < n && !w->error; i++)
        al__pf_event(w, &ev[i]);
    w->events_in += n;
    al__pf_progress(w, false);
}

static void al__pf_on_drops(void *self, uint16_t thread, uint64_t total)
{
    al_perfetto_writer_t *w = self;
    if (w->finished)
        return;
    uint64_t *grown = al__pf_grow(w, w->drops, &w->cap_drops, thread, sizeof *grown, 16);
    al__track_t *tr = al__pf_track(w, thread);
    if (!grown || !tr)
        return;
    w->drops = grown;
    if (total <= w->drops[thread])
        return;
    w->drops[thread] = total;
    tr->dropped = true;
    al__pf_instant_begin(w, thread, w->have_ts ? w->last_ts : w->base_ns, "drops", "t");
    al__pf_printf(w, "events dropped\",\"args\":{\"total\":%llu}", (unsigned long long)total);
    al__pf_end(w);
}

/* Close everything still open, write the trailer. */
static void al__pf_finish(al_perfetto_writer_t *w)
{
    if (w->finished)
        return;
    w->finished = true;
    for (uint32_t t = 0; t < w->cap_tracks; t++) {
        al__track_t *tr = &w->tracks[t];
        while (tr->depth) {
            if (tr->stack[tr->depth - 1].closing) {
                al__pf_pop_closing(w, (uint16_t)t, tr);
                continue;
            }
            tr->depth--;
            al__pf_write_slice(w, (uint16_t)t, &tr->stack[tr->depth], w->last_ts, "end of trace");
        }
    }
    for (uint32_t i = 0; i < w->num_lifted; i++)
        al__pf_async(w, "e", w->lifted[i].thread, w->last_ts, w->lifted[i].span, w->lifted[i].name,
                     w->lifted[i].task, "end of trace");
    w->num_lifted = 0;

    uint64_t dropped = 0;
    for (uint32_t t = 0; t < w->cap_drops; t++)
        dropped += w->drops[t];
    w->len = 0;
    al__pf_puts(w, "\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{\"exporter\":\"asynclab\"");
    if (w->have_header)
        al__pf_printf(w,
                      ",\"stream_version\":%u,\"flavor\":\"%s\",\"num_workers\":%u,"
                      "\"clock_base_ns\":%llu,\"wall_base_ns\":%llu",
                      w->hdr.version,
                      w->hdr.flavor == AL_MULTI_THREAD ? "multi-thread" : "current-thread",
                      w->hdr.num_workers, (unsigned long long)w->hdr.clock_base_ns,
                      (unsigned long long)w->hdr.wall_base_ns);
    al__pf_printf(w, ",\"events_in\":%llu,\"events_out\":%llu,\"dropped_events\":%llu",
                  (unsigned long long)w->events_in, (unsigned long long)w->events_out,
                  (unsigned long long)dropped);
    al__pf_printf(w, ",\"slices_closed_early\":%llu,\"unmatched_ends\":%llu",
                  (unsigned long long)w->closed_early, (unsigned long long)w->unmatched);
    al__pf_printf(w, ",\"flows\":%llu,\"wakes_without_slice\":%llu", (unsigned long long)w->flows,
                  (unsigned long long)w->wakes_unbound);
    al__pf_printf(w, ",\"steals_without_slice\":%llu,\"async_spans\":%llu}}\n",
                  (unsigned long long)w->steals_unbound, (unsigned long long)w->lifted_spans);
    if (!w->error)
        al__pf_write(w, w->line, w->len);
    if (!w->error && fflush(w->out) != 0)
        al__pf_fail(w, errno ? -errno : -EIO);
    al__pf_progress(w, true);
}

static void al__pf_on_end(void *self)
{
    al__pf_finish(self);
}

const al_stream_consumer_t al_perfetto_consumer = {al__pf_on_header, al__pf_on_thread,
                                                   al__pf_on_string, al__pf_on_events,
                                                   al__pf_on_drops,  al__pf_on_end};

/* ---- open / close ---------------------------------------------------------------------------- */

int al_perfetto_writer_open(FILE *out, const al_perfetto_options_t *opt, al_perfetto_writer_t **wp)
{
    if (!out || !wp)
        return AL_EINVAL;
    al_perfetto_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return AL_ENOMEM;
    w->out = out;
    if (opt)
        w->opt = *opt;
    w->process_name = strdup(w->opt.process_name ? w->opt.process_name : "asynclab runtime");
    if (!w->process_name) {
        free(w);
        return AL_ENOMEM;
    }
    w->opt.process_name = w->process_name;
    w->alive_written = -1;
    al__pf_write(w, "{\"traceEvents\":[\n", 17);
    al__pf_begin(w, "M", 0, 0);
    al__pf_puts(w, ",\"name\":\"process_name\",\"args\":{\"name\":");
    al__pf_str(w, w->process_name);
    al__pf_puts(w, "}");
    al__pf_end(w);
    *wp = w;
    return 0;
}

void al_perfetto_writer_counts(const al_perfetto_writer_t *w, uint64_t *events_in,
                               uint64_t *events_out)
{
    if (events_in)
        *events_in = w ? w->events_in : 0;
    if (events_out)
        *events_out = w ? w->events_out : 0;
}

int al_perfetto_writer_close(al_perfetto_writer_t *w)
{
    if (!w)
        return AL_EINVAL;
    al__pf_finish(w);
    int rc = w->error;
    for (uint32_t i = 0; i < w->cap_strings; i++)
        free(w->strings[i].s);
    free(w->strings);
    for (uint32_t t = 0; t < w->cap_tracks; t++)
        free(w->tracks[t].stack);
    free(w->tracks);
    free(w->worker_thread);
    free(w->tasks);
    for (uint32_t q = 0; q < w->num_queues; q++)
        free(w->queues[q].ring);
    free(w->queues);
    free(w->lifted);
    free(w->drops);
    free(w->line);
    free(w->process_name);
    free(w);
    return rc;
}
