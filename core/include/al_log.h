/*
 * al_log.h — the text logger: the event stream as readable lines, one per
 * event, for `ASYNCLAB_LOG=trace` and for anyone who wants to read a trace.
 *
 *   [   1.204331] worker 1   POLL_END       task 12 "fetch"   result=pending budget=125
 *
 * It is an al_stream_consumer_t, so it logs a live runtime or a replayed
 * file alike. A filter chooses what to print: a comma-separated list of
 *   all | trace           every event (the default)
 *   sched                 spawns, schedules, polls, wakes, task ends
 *   steal | park | block  steals and overflows / park, unpark, search / blocking calls
 *   lock | chan | timer | io | resource | waker | user | lesson
 *   POLL_BEGIN, steal...  one event kind by name (case-insensitive)
 *   task=N                only events about task N (as subject or as waker/parent)
 * Kinds and groups add up; task= terms narrow the result.
 *
 * Setting ASYNCLAB_LOG=trace (or trace:FILTER, e.g. trace:steal,park) in
 * the environment makes every new runtime log to stderr (al_runtime_new
 * starts a stream for it).
 */
#ifndef AL_LOG_H
#define AL_LOG_H

#include <stdio.h>

#include "al_stream.h"

typedef struct al_log al_log_t;

/*
 * A logger writing to out (not closed by al_log_free). filter may be NULL.
 * Errors: AL_EINVAL with a message in err (e.g. "unknown event kind or group
 * 'polls' at position 7 (try: all, sched, steal, park, block, lock, chan,
 * timer, io, resource, waker, user, lesson, an event kind such as POLL_BEGIN, or
 * task=N)"), AL_ENOMEM.
 */
int al_log_new(FILE *out, const char *filter, al_log_t **log, char *err, size_t err_cap);
void al_log_free(al_log_t *log);
extern const al_stream_consumer_t al_log_consumer;
/* Lines written so far. */
unsigned long long al_log_lines(const al_log_t *log);

#endif
