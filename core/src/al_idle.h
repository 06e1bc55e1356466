/*
 * al_idle.h — private to the asynclab core: which workers are parked and
 * how many are searching for work (the multi-thread scheduler's idle set).
 *
 * `state` packs two counters: the number of unparked workers (high 16 bits)
 * and, among them, the number searching for work to steal (low 16 bits).
 * Parked workers sit in `sleepers`, a stack: the most recently parked worker
 * is woken first (its caches are warmest).
 *
 * The rules that keep wake-ups from being lost or wasted (as in Tokio):
 *   - at most half the workers search at once (al__idle_transition_to_searching);
 *   - a worker is woken only if nobody is searching and some worker is parked
 *     (al__idle_worker_to_notify); the woken worker starts out searching;
 *   - the last searcher to find work wakes another; a worker that parks
 *     leaving no searcher behind re-checks every queue first (the caller does
 *     that when al__idle_transition_to_parked returns true). Tokio re-checks
 *     only for the last searcher; a worker that parks without having searched
 *     can then miss work queued while it was still counted as unparked.
 *
 * `state` is read without the lock (fast path) and changed with atomic RMWs
 * under `lock` whenever sleepers changes; `sleepers` and `parked` are guarded
 * by `lock`.
 */
#ifndef AL_IDLE_H
#define AL_IDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct al__idle {
    atomic_uint_fast32_t state; /* unparked << 16 | searching */
    uint32_t num_workers;
    pthread_mutex_t lock;
    uint32_t *sleepers; /* guarded by lock: stack of parked worker indices */
    uint32_t num_sleepers;
    bool *parked; /* guarded by lock: parked[i] iff i is in sleepers */
} al__idle_t;

int al__idle_init(al__idle_t *idle, uint32_t num_workers);
void al__idle_destroy(al__idle_t *idle);
/* A parked worker to wake (now unparked and searching), or -1 if no wake is needed. */
int al__idle_worker_to_notify(al__idle_t *idle);
/* May this worker start searching? (at most half of the workers search) */
bool al__idle_transition_to_searching(al__idle_t *idle);
/* Stop searching; true if this was the last searcher. */
bool al__idle_transition_from_searching(al__idle_t *idle);
/* Park worker i; true if no searcher is left (caller must re-check the queues). */
bool al__idle_transition_to_parked(al__idle_t *idle, uint32_t worker, bool is_searching);
/* Worker i found work on its own after a wake-up: take it out of the sleepers.
 * False if it was no longer parked: a notifier chose it, and counted it as
 * searching, so the worker must now act as a searcher. */
bool al__idle_unpark_worker_by_id(al__idle_t *idle, uint32_t worker);
bool al__idle_is_parked(al__idle_t *idle, uint32_t worker);
uint32_t al__idle_num_searching(const al__idle_t *idle);

#endif
