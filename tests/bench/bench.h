/*
 * bench.h — the benchmark harness shared by the scenario files.
 *
 * The scenarios are C ports of the peer suite in ../shared/peers (Tokio's
 * benches/rt_multi_threaded.rs plus the extra rows shared with Go): same
 * names, same constants, a 2-worker runtime with every driver on. Each
 * scenario warms up W times, times R iterations one by one, and prints
 *     runtime  name  median_ns  min_ns  ops  median_ns_per_op  min_ns_per_op
 * as run.sh does, so `make bench` and `../shared/peers/run.sh tokio go` can be
 * pasted into one table. Rows ending in _bytes hold bytes.
 *
 * Env: BENCH_REPS, BENCH_WARMUP override every scenario's counts (as the
 * peers do); BENCH_MEM_SAMPLES the number of child processes for memory rows.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>

#include "asynclab.h"

#define BENCH_WORKERS 2
#define NUM_SPAWN 10000

/* Is this scenario selected by the command-line filter? */
bool bench_wants(const char *name);
/* Warm up, then time reps calls of iter(ctx); print the row. */
void bench_run(const char *name, uint64_t ops, int warmup, int reps, void (*iter)(void *),
               void *ctx);
/* Print a row from samples already taken (sorted here). NA when n == 0. */
void bench_emit(const char *name, uint64_t *samples, int n, uint64_t ops);
/* A 2-worker multi-thread runtime with time and I/O on (exits on failure). */
al_runtime_t *bench_runtime(void);
/* block_on fut; exits with a message on failure. */
void bench_block_on(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut);
uint64_t bench_now_ns(void);
/* Burn ~10 us while letting the OS run other threads (upstream's stall). */
void bench_stall(void);
int bench_env_int(const char *key, int dflt);

/* Recording the event stream during a scenario (bench_record.c). */
typedef struct {
    al_stream_t *stream;
    atomic_uint_fast64_t events;
    uint64_t start_ns;
    al_tracefile_writer_t *file; /* recording to a trace file too, or NULL */
    char path[256];
} bench_recording_t;
void bench_record_start(al_runtime_t *rt, bench_recording_t *r);
/* The same, also writing a trace file (in $TMPDIR, removed after the report). */
void bench_record_start_file(al_runtime_t *rt, bench_recording_t *r);
/* To stderr: events delivered, their rate since the start, drops, and for a
 * file the bytes per event. Stops the recording. */
void bench_record_report(const char *name, bench_recording_t *r);

/* A one-shot "std channel": the block_on thread waits, a task signals. */
typedef struct bench_signal bench_signal_t;
bench_signal_t *bench_signal_new(void);
void bench_signal_free(bench_signal_t *s);
void bench_signal_post(bench_signal_t *s);
void bench_signal_wait(bench_signal_t *s); /* consumes one post */

/* Scenario entry points (one file each). */
void bench_spawn_scenarios(void);
void bench_yield_many(void);
void bench_chained_spawn(void);
void bench_spawn_many_in_task(void);
void bench_ping_pong(void);
void bench_timers(void);
void bench_mpsc(void);
void bench_mutex(void);
void bench_pending(void);
int bench_pending_child(void);

#endif
