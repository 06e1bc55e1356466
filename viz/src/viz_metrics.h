/*
 * viz_metrics.h — the metrics strip: alive tasks, queued tasks and busy %
 * over time, as small sparklines under the runtime floor.
 *
 * A sampler (viz_metrics_t) counts the recording's events (O(1) each, see
 * viz_metrics.c) and takes a sample at the end of every bucket of trace
 * time: the alive tasks and the tasks in run queues (scheduled and not yet
 * polled: inject, local queues, LIFO slots) at that moment, and the
 * workers' busy share during the bucket (poll time over all workers /
 * (bucket length x workers)). Samples
 * are taken up to the moment shown, so the strip grows as the playback
 * advances and is never ahead of the floor. The bucket length is the
 * recording's span / VIZ_METRIC_SAMPLES (at least 100 us); a recording that
 * grows past that (a live one) merges neighbouring samples and doubles it.
 *
 * The strip itself (viz_metrics_strip_t) is plain data in the scene:
 * viz_metrics_fill copies the samples up to a moment into it.
 */
#ifndef VIZ_METRICS_H
#define VIZ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz_recording.h"

#define VIZ_METRIC_SAMPLES 256

typedef struct viz_metrics_strip {
    uint32_t n; /* samples below, oldest first; 0: nothing yet */
    uint64_t bucket_ns;
    float alive[VIZ_METRIC_SAMPLES];
    float queued[VIZ_METRIC_SAMPLES];
    float busy[VIZ_METRIC_SAMPLES]; /* 0..100 */
    float alive_max, queued_max;    /* the scale of the sparklines */
    /* The last sample (the figures printed next to the sparklines). */
    uint64_t alive_now, queued_now;
    double busy_now;
} viz_metrics_strip_t;

typedef struct viz_metrics viz_metrics_t;

/* A sampler for rec (borrowed). NULL when out of memory. */
viz_metrics_t *viz_metrics_new(const viz_recording_t *rec);
void viz_metrics_free(viz_metrics_t *m);

/* Take the samples of every bucket that ended at or before now_ns (feeding
 * the sampler's model the events up to then). Moving back in time needs
 * nothing: fill shows only the samples up to the moment asked. 0, or
 * AL_ENOMEM. */
int viz_metrics_advance(viz_metrics_t *m, uint64_t now_ns);

/* The samples of buckets ending at or before now_ns. */
void viz_metrics_fill(const viz_metrics_t *m, uint64_t now_ns, viz_metrics_strip_t *out);

#endif
