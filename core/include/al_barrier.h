/*
 * al_barrier.h — Barrier(n): n tasks wait until all n have arrived
 * (tokio::sync::Barrier; rt.sync.Barrier in Lua).
 *
 * Each wait() counts as an arrival on its first poll. The n-th arrival
 * completes at once and is told it is the LEADER; it releases the n-1 waiting
 * ones (not leaders). Exactly one leader per generation. The barrier then
 * starts a new generation and can be reused.
 *
 * Cancellation (as Tokio's: wait is not cancel-safe): a wait dropped after it
 * arrived still counts as arrived for its generation; it only leaves the
 * queue. n == 0 behaves as n == 1 (every wait is a leader), as in Tokio.
 *
 * Events: RESOURCE_CREATE (AL_RES_BARRIER) / RESOURCE_DROP. Wakes carry
 * AL_WAKE_NOTIFY and the barrier's id.
 */
#ifndef AL_BARRIER_H
#define AL_BARRIER_H

#include <stdbool.h>
#include <stdint.h>

#include "al_future.h"
#include "al_wait_node.h"

typedef struct al_barrier al_barrier_t;

/* A wait(): embed it [pins: do not move between the first poll and the
 * drop]. Fields are private. */
typedef struct al_barrier_wait {
    al_barrier_t *b; /* borrowed: keep your reference until the drop */
    al_wait_node_t node;
} al_barrier_wait_t;

/* Errors: AL_EINVAL (out NULL), AL_ENOMEM. `name` may be NULL; copied. */
int al_barrier_new(uint32_t n, const char *name, al_barrier_t **out);
al_barrier_t *al_barrier_ref(al_barrier_t *b);
void al_barrier_unref(al_barrier_t *b); /* last reference frees; NULL: no-op */
uint64_t al_barrier_id(const al_barrier_t *b);
const char *al_barrier_name(const al_barrier_t *b);
/* Completed generations so far (a snapshot). */
uint64_t al_barrier_generation(const al_barrier_t *b);

void al_barrier_wait_init(al_barrier_wait_t *op, al_barrier_t *b);
/* AL_READY when this generation is complete; *is_leader is true for exactly
 * one wait per generation. AL_PENDING: arrived, queued. One unit of coop
 * budget. */
al_poll_t al_barrier_wait_poll(al_barrier_wait_t *op, al_context_t *cx, bool *is_leader);
/* Cancel / finish; safe at any point, idempotent (the arrival still counts). */
void al_barrier_wait_drop(al_barrier_wait_t *op);

#endif
