/*
 * al_histogram.c — log-linear buckets (see al_histogram.h).
 *
 * Bucket 0 holds [0, 256). For v >= 256 with highest set bit e (8..39),
 * bucket 1 + (e - 8) * 4 + the two bits below the top one. Bucket 129 holds
 * everything from 2^40 on.
 */
#include <string.h>

#include "al_histogram.h"

#define AL__HIST_MIN_EXP 8
#define AL__HIST_MAX_EXP 40

static unsigned al__hist_index(uint64_t v)
{
    if (v < (1ull << AL__HIST_MIN_EXP))
        return 0;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    if (e >= AL__HIST_MAX_EXP)
        return AL_HIST_BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (e - 2)) & 3u;
    return 1 + (e - AL__HIST_MIN_EXP) * 4 + sub;
}

uint64_t al_histogram_bucket_floor(unsigned i)
{
    if (i == 0)
        return 0;
    if (i >= AL_HIST_BUCKETS - 1)
        return 1ull << AL__HIST_MAX_EXP;
    unsigned e = AL__HIST_MIN_EXP + (i - 1) / 4, sub = (i - 1) % 4;
    return (1ull << e) + ((uint64_t)sub << (e - 2));
}

void al_histogram_reset(al_histogram_t *h)
{
    memset(h, 0, sizeof *h);
}

void al_histogram_record(al_histogram_t *h, uint64_t ns)
{
    if (h->count == 0 || ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    h->count++;
    h->sum_ns += ns;
    unsigned i = al__hist_index(ns);
    if (h->buckets[i] != UINT32_MAX)
        h->buckets[i]++;
}

void al_histogram_quantiles(const al_histogram_t *h, const double *q, size_t n, uint64_t *out)
{
    size_t k = 0;
    for (; k < n && (h->count == 0 || q[k] <= 0); k++)
        out[k] = h->count == 0 ? 0 : h->min_ns;
    /* Every sample lies between min_ns and max_ns: the buckets outside
     * theirs are empty (a task's poll times span a few buckets of 130). */
    uint64_t seen = 0;
    unsigned last = al__hist_index(h->max_ns);
    for (unsigned i = al__hist_index(h->min_ns); i <= last && k < n; i++) {
        seen += h->buckets[i];
        uint64_t rank = (uint64_t)(q[k] * (double)h->count + 0.5);
        if (seen < (rank < 1 ? 1 : rank))
            continue;
        /* Bucket i holds quantile k (and maybe the next ones): its upper
         * edge, clamped to what was recorded, as al_histogram_quantile. */
        uint64_t upper = i + 1 < AL_HIST_BUCKETS ? al_histogram_bucket_floor(i + 1) - 1 : h->max_ns;
        if (upper > h->max_ns)
            upper = h->max_ns;
        if (upper < h->min_ns)
            upper = h->min_ns;
        for (; k < n; k++) {
            rank = (uint64_t)(q[k] * (double)h->count + 0.5);
            if (seen < (rank < 1 ? 1 : rank))
                break;
            out[k] = upper;
        }
    }
    for (; k < n; k++)
        out[k] = h->max_ns;
}

uint64_t al_histogram_quantile(const al_histogram_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min_ns;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < AL_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t upper =
                i + 1 < AL_HIST_BUCKETS ? al_histogram_bucket_floor(i + 1) - 1 : h->max_ns;
            if (upper > h->max_ns)
                upper = h->max_ns;
            if (upper < h->min_ns)
                upper = h->min_ns;
            return upper;
        }
    }
    return h->max_ns;
}
