/*
 * al_blocking.h — private to the asynclab core: the blocking pool.
 *
 * Threads that may block for as long as they like: they run spawn_blocking
 * tasks and the threads that take over a worker's queue in block_in_place.
 * Up to max_threads threads; a thread idle for keep_alive exits. Jobs wait in
 * one FIFO queue under the pool's mutex.
 */
#ifndef AL_BLOCKING_H
#define AL_BLOCKING_H

#include "al_runtime_internal.h"

int al__blocking_new(al_runtime_t *rt, uint32_t max_threads, uint64_t keep_alive_ns,
                     al__blocking_t **out);
/* The scheduler that spawn_blocking tasks are bound to. */
al__sched_t *al__blocking_sched(al__blocking_t *pool);
/* Run fn(arg) on a pool thread. AL_ESHUTDOWN, AL_ENOMEM, or -EAGAIN when the
 * pool is at its cap with no idle thread (the job then waits in the queue and
 * 0 is returned: the error is only for "no thread could be created at all"). */
int al__blocking_spawn_fn(al__blocking_t *pool, void (*fn)(void *), void *arg);
/* Refuse new jobs, drop queued ones, wait until deadline_ns (CLOCK_MONOTONIC)
 * for running ones. Returns how many threads were still busy at the deadline. */
uint32_t al__blocking_shutdown(al__blocking_t *pool, uint64_t deadline_ns);
void al__blocking_free(al__blocking_t *pool);
void al__blocking_metrics(al__blocking_t *pool, uint32_t *threads, uint32_t *idle,
                          uint64_t *queue_depth);

#endif
