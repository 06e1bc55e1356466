/*
 * viz_metrics.c — the metrics strip's sampler (see viz_metrics.h).
 */
#include <stdlib.h>
#include <string.h>

#include "al_console.h"
#include "al_error.h"
#include "viz_metrics.h"

#define VIZ__MIN_BUCKET_NS 100000ull

struct viz_metrics {
    const viz_recording_t *rec;
    al_console_t *console;
    size_t pos; /* events fed */
    bool tables_fed;
    uint64_t start_ns; /* the first bucket starts here */
    uint64_t bucket_ns;
    uint32_t n;          /* samples taken */
    uint64_t busy_total; /* workers' busy ns at the last sample */
    float alive[VIZ_METRIC_SAMPLES], queued[VIZ_METRIC_SAMPLES], busy[VIZ_METRIC_SAMPLES];
};

viz_metrics_t *viz_metrics_new(const viz_recording_t *rec)
{
    viz_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (al_console_new(NULL, &m->console) != 0) {
        free(m);
        return NULL;
    }
    m->rec = rec;
    m->start_ns = rec->have_header ? rec->header.clock_base_ns : viz_recording_first_ns(rec);
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
    al_console_free(m->console);
    free(m);
}

/* A recording that grew past the samples: pairs merge, buckets double. */
static void viz__halve(viz_metrics_t *m)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i + 1 < m->n; i += 2, k++) {
        m->alive[k] = m->alive[i + 1]; /* counts: the value at the end */
        m->queued[k] = m->queued[i + 1];
        m->busy[k] = (m->busy[i] + m->busy[i + 1]) / 2;
    }
    m->n = k;
    m->bucket_ns *= 2;
}

static int viz__sample(viz_metrics_t *m, uint64_t at)
{
    al_console_snapshot_t *s = al_console_snapshot(m->console, at);
    if (!s)
        return AL_ENOMEM;
    if (m->n >= VIZ_METRIC_SAMPLES)
        viz__halve(m);
    uint64_t queued = s->inject_depth, busy = 0;
    for (size_t w = 0; w < s->num_workers; w++) {
        queued += s->workers[w].local_depth + (s->workers[w].lifo_task != 0);
        busy += s->workers[w].busy_ns;
    }
    uint64_t delta = busy > m->busy_total ? busy - m->busy_total : 0;
    double cap = (double)m->bucket_ns * (double)(s->num_workers ? s->num_workers : 1);
    double pct = 100.0 * (double)delta / cap;
    m->alive[m->n] = (float)s->alive_tasks;
    m->queued[m->n] = (float)queued;
    m->busy[m->n] = (float)(pct > 100 ? 100 : pct);
    m->n++;
    m->busy_total = busy;
    al_console_snapshot_free(s);
    return 0;
}

int viz_metrics_advance(viz_metrics_t *m, uint64_t now_ns)
{
    const viz_recording_t *r = m->rec;
    if (!m->tables_fed) {
        viz_recording_feed(r, true, 0, 0, &al_console_consumer, m->console);
        m->tables_fed = true;
    }
    for (;;) {
        uint64_t end = m->start_ns + (uint64_t)(m->n + 1) * m->bucket_ns;
        if (end > now_ns)
            return 0;
        /* Feed the events up to the bucket's end, then sample as of then. */
        size_t to = viz_recording_count_until(r, end);
        if (to > m->pos) {
            viz_recording_feed(r, false, m->pos, to, &al_console_consumer, m->console);
            m->pos = to;
        }
        int rc = viz__sample(m, end);
        if (rc != 0)
            return rc;
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
        o->alive[i] = m->alive[i];
        o->queued[i] = m->queued[i];
        o->busy[i] = m->busy[i];
        if (m->alive[i] > o->alive_max)
            o->alive_max = m->alive[i];
        if (m->queued[i] > o->queued_max)
            o->queued_max = m->queued[i];
    }
    if (n) {
        o->alive_now = (uint64_t)o->alive[n - 1];
        o->queued_now = (uint64_t)o->queued[n - 1];
        o->busy_now = o->busy[n - 1];
    }
}
