/*
 * al_flight.h — the flight recorder: the recent past of a runtime, kept in
 * memory and written out as a trace file on demand, on SIGQUIT, or when the
 * runtime hangs.
 *
 * A recorder is a stream consumer (al_stream.h). It keeps the stream header
 * and every thread and string announcement (they are small, and any suffix of
 * the events needs them), and the most recent events, trace-encoded
 * (al_tracefile.h, ~4-8 bytes each) in chunks of at most 64 KiB; the oldest
 * chunk goes first when either bound is reached:
 *   - memory: chunks + tables + bookkeeping stay within max_bytes (the
 *     tables are never dropped: if they alone outgrow the budget, the window
 *     shrinks to the chunk being filled);
 *   - time: a saved file holds no event older than window_ns before the
 *     newest recorded event (memory may hold up to one chunk more).
 *
 * A saved file is an ordinary trace file (same format and version, readable
 * by al_tracefile_read_file): the header, every thread and string, then one
 * drops record per thread that lost events — those the window discarded plus
 * those the stream's rings dropped, so on_drops totals say exactly what is
 * missing before the first event — then the retained events in order, then
 * the end record. (A recorder subscribed to a stream that was already
 * running never saw the earlier events: those are not counted; the events
 * simply start later than the header's clock_base_ns.)
 *
 * Threads. The stream's collector delivers; saving is safe from any thread
 * at any time, also while the stream delivers: it holds the recorder's lock
 * only to take a snapshot (a few pointers per chunk), never while encoding
 * or writing, so neither the collector nor any runtime worker waits for the
 * disk. Saves are serialized with one another. Chunks a save still reads
 * are freed when it finishes, so memory may briefly exceed max_bytes by one
 * window while a save runs.
 *
 * Hangs. With hang_ms set, a watchdog thread saves to `path` once, the first
 * time the runtime hangs, which here means: every worker (the header's
 * num_workers) is inside a poll that began more than hang_ms ago, as the
 * recorded stream shows (a POLL_BEGIN with no POLL_END, PARK, SEARCH or
 * STEAL of that worker after it). In other words no worker has completed a
 * poll for hang_ms while tasks were being run: all of them blocked in a
 * std-style call, a std mutex deadlock, or a task that never returns. Not
 * detected: one stuck worker while others idle; tasks queued while every
 * worker idles (a lost wake-up). The watchdog stops judging at on_end.
 *
 * Environment. ASYNCLAB_FLIGHT=path[:seconds[:MiB]] makes every new runtime
 * record into a flight recorder (window: seconds, default unlimited; budget:
 * MiB, default 64) saved to path on SIGQUIT (al_dump.h; the second runtime of
 * the process uses path.2, and so on; SIGQUIT then no longer ends the
 * process). ASYNCLAB_FLIGHT_HANG=seconds arms its watchdog too.
 * al_flight_of(rt) returns that recorder.
 */
#ifndef AL_FLIGHT_H
#define AL_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "al_stream.h"

struct al_runtime;

typedef struct al_flight al_flight_t;

typedef struct al_flight_config {
    uint64_t max_bytes;   /* memory budget (0: 64 MiB; at least 64 KiB) */
    uint64_t window_ns;   /* keep this much time before the newest event (0: no limit) */
    const char *path;     /* default target of saves (copied; may be NULL) */
    bool save_on_sigquit; /* save to path on every SIGQUIT (needs path) */
    uint64_t hang_ms;     /* watchdog threshold in ms (0: no watchdog; needs path) */
} al_flight_config_t;

/* A recorder not subscribed to anything yet (cfg NULL: defaults). Errors:
 * AL_EINVAL (save_on_sigquit or hang_ms without a path), AL_ENOMEM. */
int al_flight_new(const al_flight_config_t *cfg, al_flight_t **out);
extern const al_stream_consumer_t al_flight_consumer;
/* al_flight_new, then subscribe to rt's stream (started if none runs). */
int al_flight_record(struct al_runtime *rt, const al_flight_config_t *cfg, al_flight_t **out);
/* The recorder ASYNCLAB_FLIGHT installed on rt, or NULL. */
al_flight_t *al_flight_of(struct al_runtime *rt);

/* Write the window as a trace file. _save: to path (NULL: the configured
 * path) through path.tmp and a rename, so the file is always whole. 0, or
 * AL_EINVAL, AL_ENOMEM, a negated errno. */
int al_flight_save(al_flight_t *fr, const char *path);
int al_flight_save_file(al_flight_t *fr, FILE *f);

typedef struct al_flight_stats {
    uint64_t events;       /* events received */
    uint64_t retained;     /* events in memory now */
    uint64_t discarded;    /* events the window dropped so far */
    uint64_t bytes;        /* memory in use: chunks, tables, bookkeeping */
    uint64_t event_bytes;  /* of which encoded events */
    uint64_t oldest_ns;    /* time of the oldest event in memory (0: none) */
    uint64_t newest_ns;    /* time of the newest */
    uint64_t saves;        /* files written, whatever the cause */
    uint64_t hang_saves;   /* of which by the watchdog (0 or 1) */
    uint64_t saved_events; /* events in the last file written */
    uint64_t watchdog_checks;
    int last_error;     /* of the last save: 0 or an error code */
    uint64_t max_bytes; /* the configuration in effect */
    uint64_t window_ns;
} al_flight_stats_t;
void al_flight_stats(al_flight_t *fr, al_flight_stats_t *out);

/* Wait until at least n saves were done, or timeout_ms passed. Returns the
 * number of saves. */
uint64_t al_flight_wait_saves(al_flight_t *fr, uint64_t n, uint64_t timeout_ms);

/* Stop the watchdog, remove the SIGQUIT action, free. Only once nothing can
 * deliver to it any more: after on_end (al_stream_stop, al_runtime_free),
 * or if it was never subscribed. NULL: no-op. */
void al_flight_free(al_flight_t *fr);

#endif
