/*
 * al_select.c — select and join_all over caller-owned sub-futures.
 *
 * Both keep a small state: join_all a bitmask of finished branches (so a
 * finished branch is never polled again), select a rotating start index (as
 * Tokio's select! picks a random start) so that an always-ready branch does
 * not starve the others. Losers are dropped through their vtable, which is
 * how a timer deregisters, a queued lock waiter leaves its queue, and so on.
 */
#include "al_select.h"
#include "al_internal.h"

static void al__branch_drop(al_select_branch_t *br)
{
    if (br->vt->drop)
        br->vt->drop(br->fut);
}

void al_select_drop(al_select_branch_t *b, size_t n, al_select_state_t *st)
{
    if (st->finished)
        return;
    for (size_t i = 0; i < n; i++)
        if (!(st->done_mask & ((uint64_t)1 << i)))
            al__branch_drop(&b[i]);
    st->finished = true;
}

al_poll_t al_select_poll(al_select_branch_t *b, size_t n, al_context_t *cx, size_t *winner,
                         al_select_state_t *st)
{
    AL_EXPECT(n >= 1 && n <= 64 && !st->finished);
    uint32_t start = st->start++ % (uint32_t)n;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        al_poll_t r = b[i].vt->poll(b[i].fut, cx, b[i].out);
        if (r == AL_PENDING)
            continue;
        al_select_drop(b, n, st);
        *winner = i;
        return r; /* AL_READY, or AL_PANIC with cx->panic_msg set */
    }
    return AL_PENDING;
}

al_poll_t al_join_all_poll(al_select_branch_t *b, size_t n, al_context_t *cx, al_select_state_t *st)
{
    AL_EXPECT(n >= 1 && n <= 64 && !st->finished);
    for (size_t i = 0; i < n; i++) {
        uint64_t bit = (uint64_t)1 << i;
        if (st->done_mask & bit)
            continue;
        al_poll_t r = b[i].vt->poll(b[i].fut, cx, b[i].out);
        if (r == AL_PENDING)
            continue;
        al__branch_drop(&b[i]);
        st->done_mask |= bit;
        if (r == AL_PANIC) {
            al_select_drop(b, n, st);
            return AL_PANIC;
        }
    }
    uint64_t all = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
    if (st->done_mask == all) {
        st->finished = true;
        return AL_READY;
    }
    return AL_PENDING;
}
