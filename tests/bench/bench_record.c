/*
 * bench_record.c — recording the event stream during a benchmark: a consumer
 * that only counts, so the rows *_recorded measure what the recorder (hook,
 * per-thread rings, collector) costs the runtime, against the same scenario
 * with recording off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

static void count_events(void *self, const al_trace_event_t *ev, size_t n)
{
    bench_recording_t *r = self;
    (void)ev;
    atomic_fetch_add_explicit(&r->events, n, memory_order_relaxed);
}
static const al_stream_consumer_t counter = {.on_events = count_events};

void bench_record_start(al_runtime_t *rt, bench_recording_t *r)
{
    r->file = NULL;
    atomic_init(&r->events, 0);
    r->start_ns = bench_now_ns();
    int rc = al_stream_start(rt, NULL, &r->stream);
    if (rc == 0)
        rc = al_stream_subscribe(r->stream, &counter, r);
    if (rc != 0) {
        fprintf(stderr, "bench: cannot record: %s\n", al_strerror(rc));
        exit(1);
    }
}

void bench_record_start_file(al_runtime_t *rt, bench_recording_t *r)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(r->path, sizeof r->path, "%s/asynclab-bench-%d.trace", tmp ? tmp : "/tmp",
             (int)getpid());
    al_tracefile_writer_t *w;
    int rc = al_tracefile_writer_open(r->path, &w);
    if (rc != 0) {
        fprintf(stderr, "bench: cannot write %s: %s\n", r->path, al_strerror(rc));
        exit(1);
    }
    bench_record_start(rt, r);
    r->file = w;
    al_stream_subscribe(r->stream, &al_tracefile_writer_consumer, w);
}

void bench_record_report(const char *name, bench_recording_t *r)
{
    al_stream_flush(r->stream);
    double secs = (double)(bench_now_ns() - r->start_ns) / 1e9;
    al_stream_stats_t s;
    al_stream_stats(r->stream, &s);
    if (r->file) {
        al_stream_stop(r->stream);
        uint64_t bytes, events;
        al_tracefile_writer_counts(r->file, &bytes, &events);
        al_tracefile_writer_close(r->file);
        unlink(r->path);
        fprintf(stderr, "bench: %s: trace file %.1f MB, %.2f bytes per event\n", name,
                (double)bytes / 1e6, events ? (double)bytes / (double)events : 0.0);
    }
    fprintf(stderr,
            "bench: %s: %llu events delivered in %.2f s (%.1f M/s), %llu dropped (%.2f %%), "
            "%llu late\n",
            name, (unsigned long long)s.delivered, secs, (double)s.delivered / secs / 1e6,
            (unsigned long long)s.dropped,
            s.recorded + s.dropped ? 100.0 * (double)s.dropped / (double)(s.recorded + s.dropped)
                                   : 0.0,
            (unsigned long long)s.late);
}
