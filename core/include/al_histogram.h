/*
 * al_histogram.h — a fixed-size log-linear histogram of durations, for the
 * console model's poll times, scheduled times and lock wait times.
 *
 * Values below 256 ns share the first bucket; above, every power of two is
 * split into 4 buckets, up to 2^40 ns (18 minutes); larger values land in
 * the last bucket. A percentile is reported as the upper edge of the bucket
 * it falls in (at most 19 % above the true value), clamped to the largest
 * value recorded. Not thread-safe: the owner serializes.
 */
#ifndef AL_HISTOGRAM_H
#define AL_HISTOGRAM_H

#include <stdint.h>

#define AL_HIST_BUCKETS 130

typedef struct al_histogram {
    uint64_t count, sum_ns, min_ns, max_ns;
    uint32_t buckets[AL_HIST_BUCKETS];
} al_histogram_t;

void al_histogram_reset(al_histogram_t *h);
void al_histogram_record(al_histogram_t *h, uint64_t ns);
/* The value below which a fraction q (0..1) of the samples fall; 0 if empty. */
uint64_t al_histogram_quantile(const al_histogram_t *h, double q);
/* The same for n quantiles q[0] <= q[1] <= ... in one pass over the buckets
 * (what a snapshot of thousands of tasks asks for every frame). */
void al_histogram_quantiles(const al_histogram_t *h, const double *q, size_t n, uint64_t *out);
/* Lower edge of bucket i, in ns (for drawing the distribution). */
uint64_t al_histogram_bucket_floor(unsigned i);

#endif
