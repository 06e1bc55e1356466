/*
 * viz_metrics.c — the metrics strip's sampler (see viz_metrics.h).
 *
 * The figures are counted from the events themselves, O(1) per event (a
 * console snapshot per sample would cost O(tasks) each: a minute for 256
 * samples of 100,000 tasks):
 *   alive    TASK_SPAWN +1, TASK_END -1
 *   queued   tasks between a TASK_SCHEDULE (into a run queue, not the
 *            blocking pool's) and their next POLL_BEGIN or TASK_END; a set
 *            of the queued task ids keeps a task from counting twice
 *   busy     per worker, POLL_BEGIN .. POLL_END, a poll still running counted
 *            up to the sample's moment
 */
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_event.h"
#include "viz_metrics.h"

#define VIZ__MIN_BUCKET_NS 100000ull
#define VIZ__MAX_WORKERS 1024

/* An open-addressing set of task ids (0 is never a task id). */
typedef struct {
    uint64_t *slot;
    size_t cap, len; /* cap: a power of two */
} viz__set_t;

static size_t viz__hash(uint64_t k, size_t cap)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static int viz__set_add(viz__set_t *s, uint64_t k);

static int viz__set_grow(viz__set_t *s)
{
    viz__set_t n = {.cap = s->cap ? 2 * s->cap : 1024};
    if (!(n.slot = calloc(n.cap, sizeof *n.slot)))
        return AL_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            viz__set_add(&n, s->slot[i]);
    free(s->slot);
    *s = n;
    return 0;
}

/* 1 added, 0 already there, < 0 error. */
static int viz__set_add(viz__set_t *s, uint64_t k)
{
    if ((s->len + 1) * 2 > s->cap) {
        int rc = viz__set_grow(s);
        if (rc != 0)
            return rc;
    }
    size_t i = viz__hash(k, s->cap);
    for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == k)
            return 0;
    s->slot[i] = k;
    s->len++;
    return 1;
}

/* Remove k (backward-shift deletion); whether it was there. */
static bool viz__set_del(viz__set_t *s, uint64_t k)
{
    if (!s->cap)
        return false;
    size_t i = viz__hash(k, s->cap);
    while (s->slot[i] != k) {
        if (!s->slot[i])
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = 0;
    s->len--;
    for (size_t j = (i + 1) & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1)) {
        size_t home = viz__hash(s->slot[j], s->cap);
        /* move slot j back to i if i lies between its home and j (cyclically) */
        if (((j - home) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
            s->slot[i] = s->slot[j];
            s->slot[j] = 0;
            i = j;
        }
    }
    return true;
}

struct viz_metrics {
    const viz_recording_t *rec;
    size_t pos;        /* events counted */
    uint64_t start_ns; /* the first bucket starts here */
    uint64_t bucket_ns;
    uint32_t n; /* samples taken */
    /* the running counts */
    int64_t alive;
    viz__set_t queued;
    uint32_t workers;
    uint64_t *poll_since; /* per worker: when its running poll began, 0: none */
    uint64_t busy_ns;     /* finished polls' time in the current bucket */
    float alive_s[VIZ_METRIC_SAMPLES], queued_s[VIZ_METRIC_SAMPLES], busy_s[VIZ_METRIC_SAMPLES];
};

viz_metrics_t *viz_metrics_new(const viz_recording_t *rec)
{
    viz_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->rec = rec;
    m->workers =
        rec->header.num_workers < VIZ__MAX_WORKERS ? rec->header.num_workers : VIZ__MAX_WORKERS;
    if (m->workers && !(m->poll_since = calloc(m->workers, sizeof *m->poll_since))) {
        free(m);
        return NULL;
    }
    m->start_ns = rec->have_header ? rec->header.clock_base_ns : 0;
    uint64_t first = viz_recording_first_ns(rec);
    if (first < m->start_ns || !m->start_ns)
        m->start_ns = first;
    uint64_t span = viz_recording_last_ns(rec) - m->start_ns;
    m->bucket_ns = (span + VIZ_METRIC_SAMPLES - 1) / VIZ_METRIC_SAMPLES;
    if (m->bucket_ns < VIZ__MIN_BUCKET_NS)
        m->bucket_ns = VIZ__MIN_BUCKET_NS;
    return m;
}

void viz_metrics_free(viz_metrics_t *m)
{
    if (!m)
        return;
    free(m->queued.slot);
    free(m->poll_since);
    free(m);
}

/* A recording that grew past the samples: pairs merge, buckets double. */
static void viz__halve(viz_metrics_t *m)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i + 1 < m->n; i += 2, k++) {
        m->alive_s[k] = m->alive_s[i + 1]; /* counts: the value at the end */
        m->queued_s[k] = m->queued_s[i + 1];
        m->busy_s[k] = (m->busy_s[i] + m->busy_s[i + 1]) / 2;
    }
    m->n = k;
    m->bucket_ns *= 2;
}

/* The bucket ending at `end` is over: its sample. */
static void viz__sample(viz_metrics_t *m, uint64_t end)
{
    uint64_t begin = end - m->bucket_ns, busy = m->busy_ns;
    for (uint32_t w = 0; w < m->workers; w++)
        if (m->poll_since[w]) { /* a poll still running: its part of this bucket */
            uint64_t from = m->poll_since[w] > begin ? m->poll_since[w] : begin;
            busy += end > from ? end - from : 0;
        }
    double cap = (double)m->bucket_ns * (double)(m->workers ? m->workers : 1);
    double pct = 100.0 * (double)busy / cap;
    if (m->n >= VIZ_METRIC_SAMPLES)
        viz__halve(m);
    m->alive_s[m->n] = (float)(m->alive > 0 ? m->alive : 0);
    m->queued_s[m->n] = (float)m->queued.len;
    m->busy_s[m->n] = (float)(pct > 100 ? 100 : pct);
    m->n++;
    m->busy_ns = 0;
}

/* The part of a poll [from, to) inside the current bucket (which ends at
 * `end`); polls are split at bucket ends by viz__sample. */
static void viz__poll_end(viz_metrics_t *m, int w, uint64_t to, uint64_t end)
{
    if (w < 0 || (uint32_t)w >= m->workers || !m->poll_since[w])
        return;
    uint64_t begin = end - m->bucket_ns;
    uint64_t from = m->poll_since[w] > begin ? m->poll_since[w] : begin;
    m->busy_ns += to > from ? to - from : 0;
    m->poll_since[w] = 0;
}

static int viz__event(viz_metrics_t *m, const al_trace_event_t *e, uint64_t end)
{
    switch (e->kind) {
    case AL_EV_TASK_SPAWN:
        m->alive++;
        break;
    case AL_EV_TASK_END:
        m->alive--;
        viz__set_del(&m->queued, e->task);
        break;
    case AL_EV_TASK_SCHEDULE:
        if (e->a != AL_QUEUE_BLOCKING && e->task) {
            int rc = viz__set_add(&m->queued, e->task);
            if (rc < 0)
                return rc;
        }
        break;
    case AL_EV_POLL_BEGIN:
        viz__set_del(&m->queued, e->task);
        if (e->worker >= 0 && (uint32_t)e->worker < m->workers)
            m->poll_since[e->worker] = e->ts_ns ? e->ts_ns : 1;
        break;
    case AL_EV_POLL_END:
        viz__poll_end(m, e->worker, e->ts_ns, end);
        break;
    default:
        break;
    }
    return 0;
}

int viz_metrics_advance(viz_metrics_t *m, uint64_t now_ns)
{
    const viz_recording_t *r = m->rec;
    for (;;) {
        uint64_t end = m->start_ns + (uint64_t)(m->n + 1) * m->bucket_ns;
        if (end > now_ns)
            return 0;
        /* Count the events up to the bucket's end, then sample as of then. */
        size_t to = viz_recording_count_until(r, end);
        for (; m->pos < to; m->pos++) {
            int rc = viz__event(m, &r->events[m->pos], end);
            if (rc != 0)
                return rc;
        }
        viz__sample(m, end);
    }
}

void viz_metrics_fill(const viz_metrics_t *m, uint64_t now_ns, viz_metrics_strip_t *o)
{
    memset(o, 0, sizeof *o);
    o->bucket_ns = m->bucket_ns;
    uint32_t n = 0;
    while (n < m->n && m->start_ns + (uint64_t)(n + 1) * m->bucket_ns <= now_ns)
        n++;
    o->n = n;
    for (uint32_t i = 0; i < n; i++) {
        o->alive[i] = m->alive_s[i];
        o->queued[i] = m->queued_s[i];
        o->busy[i] = m->busy_s[i];
        if (m->alive_s[i] > o->alive_max)
            o->alive_max = m->alive_s[i];
        if (m->queued_s[i] > o->queued_max)
            o->queued_max = m->queued_s[i];
    }
    if (n) {
        o->alive_now = (uint64_t)o->alive[n - 1];
        o->queued_now = (uint64_t)o->queued[n - 1];
        o->busy_now = o->busy[n - 1];
    }
}
