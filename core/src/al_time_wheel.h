/*
 * al_time_wheel.h — private to the asynclab core: the hierarchical timer
 * wheel, a pure data structure (no locks, no clock; the caller serialises
 * every call and says what time it is, in ticks).
 *
 * A tick is 1 ms. 6 levels of 64 slots: a slot of level L spans 64^L ticks and
 * the whole level 64^(L+1): 64 ms, ~4.1 s, ~4.4 min, ~4.7 h, ~12.4 days,
 * ~2.2 years. Entries are intrusive (al__wheel_entry_t, defined in al_time.h
 * because public sub-futures embed it) and doubly linked: insert and remove
 * are O(1).
 *
 * Where an entry goes, relative to `elapsed` (the wheel's current tick):
 *   - tick <= elapsed: the expired list (already due; popped by the caller);
 *   - else level L = (index of the highest bit where tick and elapsed differ)
 *     / 6, slot = (tick >> 6L) & 63;
 *   - L >= 6 (more than ~2.2 years away, the two differ above bit 35): the
 *     OVERFLOW list. The overflow list acts as one extra slot, due at the
 *     start of the 2^36-tick window holding its earliest entry; when the
 *     wheel reaches it, every overflow entry is re-inserted (those of that
 *     window land in the wheel, later ones stay in overflow). Deadlines are
 *     never clamped, so no timer ever fires early; the price is an O(overflow)
 *     rescan when the earliest overflow entry is removed, and overflow
 *     entries are rare (deadlines more than ~2.2 years away).
 *
 * Invariants (checked by the tests against a reference model):
 *   I1 an entry at level L agrees with `elapsed` on every bit above 6L+5, and
 *      its slot index is strictly greater than elapsed's slot index at L;
 *      hence every occupied slot of a level lies ahead of `elapsed`, and the
 *      earliest is the lowest set bit of the level's occupancy bitmap (ctz);
 *   I2 every entry of level L is later than every entry of levels < L, and
 *      every overflow entry is later than every wheel entry; so the next slot
 *      due is the first occupied slot of the lowest non-empty level;
 *   I3 advancing never moves `elapsed` past a slot's start without processing
 *      that slot: the slot's entries are re-inserted relative to the slot's
 *      start (cascading one level down or more, or into the expired list).
 * Entries reach the expired list in non-decreasing tick order within one
 * advance (ties in no particular order).
 *
 * Shared fields: none of its own. Every field of al__wheel_t, and the
 * next/prev/tick/where/slot of every linked entry, is read and written only
 * under the mutex of the struct al__time that owns the wheel
 * (al_time_driver.c); the wheel itself takes no lock and reads no clock.
 */
#ifndef AL_TIME_WHEEL_H
#define AL_TIME_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_time.h"

#define AL__WHEEL_LEVELS 6
#define AL__WHEEL_SLOTS 64
#define AL__WHEEL_SPAN_BITS 36 /* 6 levels x 6 bits */

/* al__wheel_entry_t.where besides a level index. */
enum {
    AL__WHEEL_PENDING = 0xfd,  /* in the expired list */
    AL__WHEEL_OVERFLOW = 0xfe, /* beyond the top level */
    AL__WHEEL_UNLINKED = 0xff, /* in no list */
};

typedef struct al__wheel_list {
    al__wheel_entry_t *head, *tail;
} al__wheel_list_t;

typedef struct al__wheel {
    uint64_t elapsed;                    /* every tick <= elapsed has expired */
    uint64_t occupied[AL__WHEEL_LEVELS]; /* bit s: slot s of the level is non-empty */
    al__wheel_list_t slots[AL__WHEEL_LEVELS][AL__WHEEL_SLOTS];
    al__wheel_list_t expired;  /* due, not yet popped */
    al__wheel_list_t overflow; /* beyond the top level */
    uint64_t overflow_min;     /* earliest overflow tick; UINT64_MAX if none */
    size_t len;                /* entries linked anywhere */
} al__wheel_t;

/* An empty wheel whose current tick is now_tick. */
void al__wheel_init(al__wheel_t *w, uint64_t now_tick);
/* Mark an entry as linked nowhere (call once before first use). */
void al__wheel_entry_init(al__wheel_entry_t *e);
static inline bool al__wheel_entry_linked(const al__wheel_entry_t *e)
{
    return e->where != AL__WHEEL_UNLINKED;
}
/* Link e (which must be unlinked) to fire at tick. A tick <= elapsed goes
 * straight to the expired list. */
void al__wheel_insert(al__wheel_t *w, al__wheel_entry_t *e, uint64_t tick);
/* Unlink e from wherever it is (no-op if unlinked). */
void al__wheel_remove(al__wheel_t *w, al__wheel_entry_t *e);
/*
 * The tick at which the wheel next needs an advance: elapsed if an entry is
 * already expired (not popped), else the start of the earliest occupied slot
 * (a lower bound of the earliest deadline: advancing there may only cascade),
 * UINT64_MAX if the wheel is empty.
 */
uint64_t al__wheel_next_tick(const al__wheel_t *w);
/* Move elapsed forward to now_tick (never backward), moving every entry with
 * tick <= now_tick into the expired list. Returns how many expired. */
size_t al__wheel_advance(al__wheel_t *w, uint64_t now_tick);
/* Unlink and return the first expired entry, or NULL. */
al__wheel_entry_t *al__wheel_pop_expired(al__wheel_t *w);
/* Move every entry (wheel and overflow) to the expired list (shutdown). */
void al__wheel_expire_all(al__wheel_t *w);
static inline size_t al__wheel_len(const al__wheel_t *w)
{
    return w->len;
}
static inline uint64_t al__wheel_elapsed(const al__wheel_t *w)
{
    return w->elapsed;
}

#endif
