/*
 * al_idle.c — the idle set of the multi-thread scheduler: see al_idle.h for
 * the rules. All RMWs on `state` are SeqCst: the "last searcher re-checks the
 * queues" handshake relies on a total order between a searcher decrementing
 * `state` and a spawner reading it after pushing work.
 */
#include <stdlib.h>

#include "al_idle.h"

#define UNPARK_ONE ((uint_fast32_t)1 << 16)
#define SEARCH_MASK (UNPARK_ONE - 1)

int al__idle_init(al__idle_t *idle, uint32_t n)
{
    idle->num_workers = n;
    atomic_init(&idle->state, n * UNPARK_ONE);
    idle->sleepers = calloc(n, sizeof *idle->sleepers);
    idle->parked = calloc(n, sizeof *idle->parked);
    idle->num_sleepers = 0;
    if (!idle->sleepers || !idle->parked) {
        free(idle->sleepers);
        free(idle->parked);
        return -1;
    }
    pthread_mutex_init(&idle->lock, NULL);
    return 0;
}

void al__idle_destroy(al__idle_t *idle)
{
    pthread_mutex_destroy(&idle->lock);
    free(idle->sleepers);
    free(idle->parked);
}

static bool al__idle_should_notify(al__idle_t *idle)
{
    /* An RMW, not a load: the caller has just queued work (a plain store), and
     * a searcher about to park decrements `state` and then re-checks the
     * queues. A load here could be satisfied before that store is visible
     * (store->load reordering, even on x86), so both sides could miss each
     * other and the work would sit in a queue with every worker parked. The
     * RMW is a full barrier between the queue store and this read. */
    uint_fast32_t s = atomic_fetch_add(&idle->state, 0);
    return (s & SEARCH_MASK) == 0 && (s >> 16) < idle->num_workers;
}

int al__idle_worker_to_notify(al__idle_t *idle)
{
    if (!al__idle_should_notify(idle))
        return -1;
    pthread_mutex_lock(&idle->lock);
    int w = -1;
    if (al__idle_should_notify(idle) && idle->num_sleepers > 0) {
        atomic_fetch_add(&idle->state, UNPARK_ONE + 1); /* unparked and searching */
        w = (int)idle->sleepers[--idle->num_sleepers];
        idle->parked[w] = false;
    }
    pthread_mutex_unlock(&idle->lock);
    return w;
}

bool al__idle_transition_to_searching(al__idle_t *idle)
{
    uint_fast32_t s = atomic_load(&idle->state);
    if (2 * (s & SEARCH_MASK) >= idle->num_workers)
        return false;
    /* Racy by design (as Tokio): a few extra searchers are harmless. */
    atomic_fetch_add(&idle->state, 1);
    return true;
}

bool al__idle_transition_from_searching(al__idle_t *idle)
{
    uint_fast32_t prev = atomic_fetch_sub(&idle->state, 1);
    return (prev & SEARCH_MASK) == 1;
}

bool al__idle_transition_to_parked(al__idle_t *idle, uint32_t worker, bool is_searching)
{
    pthread_mutex_lock(&idle->lock);
    uint_fast32_t dec = UNPARK_ONE + (is_searching ? 1 : 0);
    uint_fast32_t prev = atomic_fetch_sub(&idle->state, dec);
    idle->sleepers[idle->num_sleepers++] = worker;
    idle->parked[worker] = true;
    pthread_mutex_unlock(&idle->lock);
    /* No searcher left: nobody else will look at the queues. Without this
     * re-check, work queued while this worker was unparked but barred from
     * searching (another worker was searching, then found work and stopped)
     * would see "nobody parked" at push time and sit there while we sleep. */
    return (prev & SEARCH_MASK) == (is_searching ? 1u : 0u);
}

bool al__idle_unpark_worker_by_id(al__idle_t *idle, uint32_t worker)
{
    pthread_mutex_lock(&idle->lock);
    bool was_parked = idle->parked[worker];
    if (was_parked) {
        for (uint32_t i = 0; i < idle->num_sleepers; i++) {
            if (idle->sleepers[i] == worker) {
                idle->sleepers[i] = idle->sleepers[--idle->num_sleepers];
                break;
            }
        }
        idle->parked[worker] = false;
        atomic_fetch_add(&idle->state, UNPARK_ONE);
    }
    pthread_mutex_unlock(&idle->lock);
    return was_parked;
}

bool al__idle_is_parked(al__idle_t *idle, uint32_t worker)
{
    pthread_mutex_lock(&idle->lock);
    bool p = idle->parked[worker];
    pthread_mutex_unlock(&idle->lock);
    return p;
}

uint32_t al__idle_num_searching(const al__idle_t *idle)
{
    return (uint32_t)(atomic_load(&((al__idle_t *)idle)->state) & SEARCH_MASK);
}
