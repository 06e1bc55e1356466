/*
 * al_lint.h — lints: the runtime watching itself for the classic mistakes.
 *
 * The lint engine is a stream consumer (al_stream.h) that keeps a console
 * model of its own (al_console.h) and looks at every event for a fault:
 *
 *   lost-waker            a task returned Pending, is not scheduled, and no
 *                         waker for it is alive: it will never run again
 *   never-yielded         a poll has been running longer than the threshold
 *                         (default 100 ms) and has not returned yet
 *   long-poll             a poll took longer than the threshold (default
 *                         10 ms); says which worker it held, whether it was in
 *                         a blocking call, and what was queued behind it
 *   self-wakes            more than threshold % (default 50) of a task's
 *                         wakes (at least 10) came from the task itself
 *   deadlock              a cycle in the wait-for graph (task waits for a lock
 *                         held by a task that waits ... for a lock it holds),
 *                         over async mutexes / rwlocks / semaphores with one
 *                         holder and std-style mutexes; prints the cycle
 *   task-leak             alive tasks grew in each of 4 consecutive windows
 *                         (window: 1 s of trace time) by at least threshold
 *                         tasks in all (default 100)
 *   blocking-pool-growth  the blocking pool reached threshold threads
 *                         (default 32)
 *   channel-backlog       a channel's queue reached threshold messages
 *                         (default 1000)
 *
 * Each finding names the tasks / resources involved and says what to do. A
 * lint fires at most once per task (or resource, or cycle). Time-based lints
 * (never-yielded) are checked whenever events arrive; call al_lint_check_now
 * to check while nothing happens (every worker blocked). Live and replayed
 * streams give the same findings.
 */
#ifndef AL_LINT_H
#define AL_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "al_stream.h"

typedef enum al_lint_id {
    AL_LINT_LOST_WAKER = 0,
    AL_LINT_NEVER_YIELDED,
    AL_LINT_LONG_POLL,
    AL_LINT_SELF_WAKES,
    AL_LINT_DEADLOCK,
    AL_LINT_TASK_LEAK,
    AL_LINT_BLOCKING_POOL_GROWTH,
    AL_LINT_CHANNEL_BACKLOG,
    AL_LINT__COUNT
} al_lint_id_t;

typedef struct al_lint_finding {
    uint32_t lint;     /* al_lint_id_t */
    uint64_t ts_ns;    /* when it was detected (stream clock) */
    uint64_t task;     /* the main task involved, 0 if none */
    uint64_t resource; /* the main resource involved, 0 if none */
    int16_t worker;    /* the worker involved, -1 if none */
    char message[640]; /* what happened, who, and what to do */
} al_lint_finding_t;

typedef struct al_lint al_lint_t;

/* Errors: AL_EINVAL, AL_ENOMEM. Every lint starts on, with its default. */
int al_lint_new(al_lint_t **out);
void al_lint_free(al_lint_t *l);
extern const al_stream_consumer_t al_lint_consumer;

/* "lost-waker" etc.; NULL for an unknown id. */
const char *al_lint_name(unsigned lint);
/* The id of a lint name, or -1. */
int al_lint_from_name(const char *name, size_t len);

/*
 * Configure with a comma-separated list of terms:
 *   NAME=off | NAME=on | NAME=THRESHOLD   e.g. "long-poll=5ms,self-wakes=off"
 *   task-leak.window=DURATION             the task-leak sampling window
 * Durations take ns / us / ms / s suffixes (bare numbers: ms); counts and
 * percentages are plain numbers. Errors: AL_EINVAL with a message naming
 * the bad term and its position. Call before events arrive.
 */
int al_lint_configure(al_lint_t *l, const char *spec, char *err, size_t err_cap);
void al_lint_enable(al_lint_t *l, unsigned lint, bool on);
void al_lint_set_threshold(al_lint_t *l, unsigned lint, uint64_t threshold);
uint64_t al_lint_threshold(const al_lint_t *l, unsigned lint);

/* Called (on the delivering thread, with the engine's lock held: do not
 * call back into the engine) for every new finding. */
typedef void (*al_lint_fn)(void *ctx, const al_lint_finding_t *f);
void al_lint_on_finding(al_lint_t *l, al_lint_fn fn, void *ctx);

/* Check the time-based lints as of now_ns (stream clock, i.e.
 * CLOCK_MONOTONIC for live runs). */
void al_lint_check_now(al_lint_t *l, uint64_t now_ns);

/* Findings so far: copies up to max of them (oldest first) and returns the
 * total number. */
size_t al_lint_findings(al_lint_t *l, al_lint_finding_t *out, size_t max);
/* How many findings of one lint. */
size_t al_lint_count(al_lint_t *l, unsigned lint);
/* Every finding as text, one paragraph each, times relative to base_ns. */
void al_lint_print(al_lint_t *l, uint64_t base_ns, FILE *out);

#endif
