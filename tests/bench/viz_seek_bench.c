/*
 * viz_seek_bench.c — the visualizer's seek benchmark (issue 5: "replay seek
 * within 100 ms on a 10-million-event trace; memory bounded and reported").
 *
 * Generates a synthetic 8-worker stream (tests/viz/viz_test_synth.h: polls,
 * wakes, steals, parks, blocks, locks, channels, timers, lints, panics,
 * spawn_blocking) of VIZ_SEEK_EVENTS events (default 10,000,000) in memory,
 * builds the player's keyframes in one pass (as `asynclab replay` does when
 * it opens a window), then times VIZ_SEEK_SEEKS (default 200) seeks to
 * random positions, forwards and backwards, each followed by the snapshot
 * the frame would draw. Prints rows in the bench format
 *     runtime  name  median_ns  min_ns  ops  median_ns_per_op  min_ns_per_op
 * (viz_seek_ms_*: percentiles in ns; *_bytes rows: bytes), then the
 * keyframe figures on stderr.
 *
 *   build/release/viz_seek_bench [FILTER]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "viz_player.h"
#include "viz_test_synth.h"
#include "viz_timeline.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t env_size(const char *key, size_t dflt)
{
    const char *v = getenv(key);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : dflt;
}

static void row(const char *name, uint64_t median, uint64_t min, uint64_t ops)
{
    printf("asynclab\t%s\t%llu\t%llu\t%llu\t%.1f\t%.1f\n", name, (unsigned long long)median,
           (unsigned long long)min, (unsigned long long)ops, (double)median / (double)ops,
           (double)min / (double)ops);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 && argv[1][0] ? argv[1] : NULL;
    if (filter && !strstr("viz_seek", filter) && !strstr(filter, "viz_seek"))
        return 0;
    size_t n = env_size("VIZ_SEEK_EVENTS", 10000000), seeks = env_size("VIZ_SEEK_SEEKS", 200);
    size_t budget = env_size("VIZ_SEEK_BUDGET", 0);
    viz_recording_t *r;
    if (viz_recording_new(&r) != 0)
        return 1;
    uint64_t t = now_ns();
    vsyn_generate(r, n, 8, 42);
    fprintf(stderr, "viz_seek: %zu events generated in %.2f s\n", r->num_events,
            (double)(now_ns() - t) / 1e9);
    viz_player_t *p;
    if (viz_player_new_with(r, budget, 0, &p) != 0)
        return 1;
    t = now_ns();
    if (viz_player_build_keyframes(p) != 0) {
        fprintf(stderr, "viz_seek: out of memory building keyframes\n");
        return 1;
    }
    uint64_t build = now_ns() - t;
    uint64_t *lat = malloc(seeks * sizeof *lat);
    uint64_t rng = 2463534242ull;
    size_t back = 0;
    for (size_t i = 0; i < seeks; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t to = (size_t)(rng % (r->num_events + 1));
        back += to < p->pos;
        t = now_ns();
        if (viz_player_seek_event(p, to) != 0)
            return 1;
        al_console_snapshot_t *s = viz_player_snapshot(p);
        lat[i] = now_ns() - t;
        al_console_snapshot_free(s);
    }
    viz_player_memory_t m;
    viz_player_memory(p, &m);
    qsort(lat, seeks, sizeof *lat, cmp_u64);
    uint64_t p50 = lat[seeks / 2], p90 = lat[seeks * 9 / 10], p99 = lat[seeks * 99 / 100],
             max = lat[seeks - 1];
    row("viz_seek_10m_p50", p50, lat[0], 1);
    row("viz_seek_10m_p90", p90, lat[0], 1);
    row("viz_seek_10m_p99", p99, lat[0], 1);
    row("viz_seek_10m_max", max, lat[0], 1);
    row("viz_seek_10m_keyframe_build", build, build, r->num_events);
    row("viz_seek_10m_keyframes_bytes", m.keyframe_bytes, m.keyframe_bytes, 1);
    row("viz_seek_10m_recording_bytes", m.recording_bytes, m.recording_bytes, 1);
    fprintf(stderr,
            "viz_seek: %zu seeks (%zu backwards) in %zu events: p50 %.2f ms, p90 %.2f ms, "
            "p99 %.2f ms, max %.2f ms\n"
            "viz_seek: %zu keyframes every %zu events, %.1f MiB (budget %.0f MiB), one model "
            "%.1f MiB; keyframes built in %.2f s; the events themselves %.1f MiB\n",
            seeks, back, r->num_events, p50 / 1e6, p90 / 1e6, p99 / 1e6, max / 1e6, m.keyframes,
            m.interval, m.keyframe_bytes / 1048576.0, m.budget / 1048576.0,
            m.model_bytes / 1048576.0, build / 1e9, m.recording_bytes / 1048576.0);

    /* The timeline band's model for a window at a random moment: a quarter
     * of the recording (the default zoom), and 1 ms. 1200 pixels wide. */
    uint64_t lo = viz_player_start_ns(p), hi = viz_player_end_ns(p);
    static const struct {
        const char *name;
        uint64_t div;
    } zooms[] = {{"viz_timeline_10m_quarter", 4}, {"viz_timeline_10m_1ms", 0}};
    for (size_t z = 0; z < 2; z++) {
        viz_timeline_t *tl;
        if (viz_timeline_new(r, &tl) != 0)
            return 1;
        uint64_t span = zooms[z].div ? (hi - lo) / zooms[z].div : 1000000;
        size_t reps = 20, scanned = 0;
        for (size_t i = 0; i < reps; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            uint64_t t0 = lo + rng % (hi - lo - span);
            t = now_ns();
            if (viz_timeline_update(tl, t0, t0 + span, span / 1200, t0 + span / 2, 0) != 0)
                return 1;
            lat[i] = now_ns() - t;
            scanned += tl->scanned;
        }
        qsort(lat, reps, sizeof *lat, cmp_u64);
        row(zooms[z].name, lat[reps / 2], lat[0], 1);
        fprintf(stderr,
                "viz_seek: timeline model over %.3f ms of trace: median %.2f ms, max %.2f ms "
                "(%zu events looked at on average)\n",
                span / 1e6, lat[reps / 2] / 1e6, lat[reps - 1] / 1e6, scanned / reps);
        viz_timeline_free(tl);
    }
    free(lat);
    viz_player_free(p);
    viz_recording_free(r);
    return 0;
}
