/*
 * al_select.h — combinators over sub-futures the caller owns: select (first
 * to finish wins, the others are dropped) and join_all (wait for all).
 *
 * A branch is any future described by a vtable (al_future.h): its state
 * `fut`, where its output goes (`out`, may be NULL when output_size is 0).
 * The branches' memory belongs to the caller and must not move between polls.
 *
 *     al_select_branch_t br[2] = {{&sleep_vt, &s, NULL}, {&recv_vt, &r, &msg}};
 *     size_t winner;
 *     if (al_select_poll(br, 2, cx, &winner, &st) == AL_PENDING) return AL_PENDING;
 *     // br[winner] finished; the other branch was dropped (cancelled).
 */
#ifndef AL_SELECT_H
#define AL_SELECT_H

#include <stddef.h>

#include "al_future.h"

typedef struct al_select_branch {
    const al_future_vtable_t *vt;
    void *fut;
    void *out;
} al_select_branch_t;

/* State a select or join_all keeps between polls: zero it before the first. */
typedef struct al_select_state {
    uint64_t done_mask; /* join_all: branches finished (n <= 64) */
    uint32_t start;     /* select: rotating first branch, for fairness */
    bool finished;      /* everything has been dropped */
} al_select_state_t;

/*
 * Poll the branches (starting from a rotating index, so no branch starves).
 * When one is ready: drop every other branch (vt->drop), drop the winner too
 * (it finished), set *winner and return AL_READY. A branch that panics makes
 * the select return AL_PANIC (its message in cx->panic_msg), every branch
 * dropped. n must be 1..64.
 */
al_poll_t al_select_poll(al_select_branch_t *b, size_t n, al_context_t *cx, size_t *winner,
                         al_select_state_t *st);

/*
 * Poll every branch not yet finished; AL_READY when all are (each dropped as
 * it finishes). A panicking branch drops the rest and returns AL_PANIC.
 */
al_poll_t al_join_all_poll(al_select_branch_t *b, size_t n, al_context_t *cx,
                           al_select_state_t *st);

/* Drop whatever branches a select / join_all still holds (cancellation). */
void al_select_drop(al_select_branch_t *b, size_t n, al_select_state_t *st);

#endif
