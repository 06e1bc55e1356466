/*
 * al_perfetto.h — the event stream as a Chrome Trace Event JSON file, which
 * ui.perfetto.dev and chrome://tracing open.
 *
 * The writer is a stream consumer (al_stream.h): subscribe it to a live
 * stream, or feed it a trace file with al_tracefile_read_file.
 *
 *   al_perfetto_writer_t *w;
 *   al_perfetto_writer_open(stdout, NULL, &w);
 *   al_tracefile_read_file("run.trace", &al_perfetto_consumer, w, &err);
 *   int rc = al_perfetto_writer_close(w);
 *
 * The output is one JSON object: {"traceEvents":[...], "displayTimeUnit":"ns",
 * "metadata":{...}}. Timestamps are microseconds (with ns decimals) since the
 * stream's clock_base_ns. One process ("asynclab runtime"); one thread track
 * per recording thread, named by "thread_name" metadata (workers sorted
 * first). On a track:
 *   X slices  a poll (task name, or "task N"); "task end" (the last poll's
 *             end to TASK_END and the JoinHandle wake); both nested in a
 *             "blocking-pool run" on pool threads; "parked"; "searching";
 *             "blocked: <what>" (thread sleep, std mutex, spin,
 *             block_in_place, sync io); user spans (al_trace_span_begin)
 *   instants  spawns, lints, user logs, steals, lock contention, drops
 *   flows     "wake": from the slice that woke a task to its next poll;
 *             "steal": from the victim worker's slice to the thief's search
 * and process counters: "tasks" (alive), "worker N local queue", "inject
 * queue", "current-thread run queue", "blocking pool queue".
 *
 * Slices on one track always nest strictly. A slice whose end was lost
 * (dropped events) is closed at the next event that cannot happen inside it,
 * and slices still open at the end are closed at the last timestamp, both
 * with args.closed_by. A user span that cannot nest (it outlives its poll, or
 * crosses another span) becomes an async slice ("b"/"e") instead.
 * Approximations (docs/observability.md): queue depths are modelled from
 * TASK_SCHEDULE / POLL_BEGIN / STEAL / OVERFLOW (which task a steal took, and
 * batches moved from the inject queue to a local queue, are not in the
 * events); alive tasks count only tasks spawned while recording; a search
 * with no SEARCH_BEGIN starts at the thread's previous event; a wake from
 * outside every slice, or a steal from a worker outside every slice, has no
 * arrow.
 */
#ifndef AL_PERFETTO_H
#define AL_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "al_stream.h"

typedef struct al_perfetto_writer al_perfetto_writer_t;

typedef struct al_perfetto_options {
    const char *process_name; /* NULL: "asynclab runtime" */
    bool no_flows;            /* leave out the wake and steal arrows */
    bool no_counters;         /* leave out the queue-depth and alive-task counters */
    /* Called from the consumer callbacks once at least progress_every more
     * JSON events were written (0: every 65536), and once when the JSON is
     * finished (on_end, or _close). */
    void (*progress)(void *user, uint64_t events_written);
    void *progress_user;
    uint64_t progress_every;
} al_perfetto_options_t;

/* A writer to out (not closed by _close). opt may be NULL; it is copied.
 * Errors: AL_EINVAL, AL_ENOMEM. */
int al_perfetto_writer_open(FILE *out, const al_perfetto_options_t *opt, al_perfetto_writer_t **w);
extern const al_stream_consumer_t al_perfetto_consumer;
/* Stream events consumed and JSON events written so far (either may be NULL). */
void al_perfetto_writer_counts(const al_perfetto_writer_t *w, uint64_t *events_in,
                               uint64_t *events_out);
/* Finish the JSON (if on_end did not), flush and free; call it once the
 * stream has stopped or the replay returned. 0, or the first error met: a
 * negated errno from writing, or AL_ENOMEM. */
int al_perfetto_writer_close(al_perfetto_writer_t *w);

#endif
