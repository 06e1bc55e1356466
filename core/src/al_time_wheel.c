/*
 * al_time_wheel.c — the hierarchical timer wheel (algorithm and invariants in
 * al_time_wheel.h).
 *
 * Advance, in prose: repeatedly find the next slot due (lowest non-empty
 * level, its lowest occupied slot by ctz of the occupancy bitmap; or the
 * overflow list's virtual slot at the window of its earliest entry); stop when it starts
 * after now; otherwise set elapsed to the slot's start, detach its list, clear
 * its bit, and re-insert each entry relative to the new elapsed: an entry due
 * at the slot's start lands in the expired list, the others cascade to a lower
 * level. Finally elapsed = now. Each entry cascades at most once per level, so
 * an advance costs O(slots visited + entries moved).
 *
 * Not thread-safe: the time driver calls every function under its mutex.
 */
#include "al_time_wheel.h"

#include "al_internal.h"

#define LEVEL_BITS 6

static void list_push(al__wheel_list_t *l, al__wheel_entry_t *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
}

static void list_unlink(al__wheel_list_t *l, al__wheel_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->next = e->prev = NULL;
}

void al__wheel_init(al__wheel_t *w, uint64_t now_tick)
{
    *w = (al__wheel_t){0};
    w->elapsed = now_tick;
    w->overflow_min = UINT64_MAX;
}

void al__wheel_entry_init(al__wheel_entry_t *e)
{
    e->next = e->prev = NULL;
    e->tick = 0;
    e->where = AL__WHEEL_UNLINKED;
    e->slot = 0;
}

/* Level of a tick > elapsed: the highest differing bit / 6 (>= 6: overflow). */
static unsigned level_for(uint64_t elapsed, uint64_t tick)
{
    uint64_t diff = (elapsed ^ tick) | (AL__WHEEL_SLOTS - 1);
    unsigned top = 63u - (unsigned)__builtin_clzll(diff);
    return top / LEVEL_BITS;
}

/* Link e relative to the current elapsed (len is not touched). */
static void place(al__wheel_t *w, al__wheel_entry_t *e)
{
    if (e->tick <= w->elapsed) {
        e->where = AL__WHEEL_PENDING;
        list_push(&w->expired, e);
        return;
    }
    unsigned level = level_for(w->elapsed, e->tick);
    if (level >= AL__WHEEL_LEVELS) {
        e->where = AL__WHEEL_OVERFLOW;
        list_push(&w->overflow, e);
        if (e->tick < w->overflow_min)
            w->overflow_min = e->tick;
        return;
    }
    unsigned slot = (unsigned)(e->tick >> (level * LEVEL_BITS)) & (AL__WHEEL_SLOTS - 1);
    e->where = (uint8_t)level;
    e->slot = (uint8_t)slot;
    list_push(&w->slots[level][slot], e);
    w->occupied[level] |= UINT64_C(1) << slot;
}

void al__wheel_insert(al__wheel_t *w, al__wheel_entry_t *e, uint64_t tick)
{
    AL_EXPECT(e->where == AL__WHEEL_UNLINKED);
    e->tick = tick;
    place(w, e);
    w->len++;
}

void al__wheel_remove(al__wheel_t *w, al__wheel_entry_t *e)
{
    switch (e->where) {
    case AL__WHEEL_UNLINKED:
        return;
    case AL__WHEEL_PENDING:
        list_unlink(&w->expired, e);
        break;
    case AL__WHEEL_OVERFLOW:
        list_unlink(&w->overflow, e);
        if (e->tick == w->overflow_min) {
            w->overflow_min = UINT64_MAX;
            for (al__wheel_entry_t *o = w->overflow.head; o; o = o->next)
                if (o->tick < w->overflow_min)
                    w->overflow_min = o->tick;
        }
        break;
    default: {
        al__wheel_list_t *l = &w->slots[e->where][e->slot];
        list_unlink(l, e);
        if (!l->head)
            w->occupied[e->where] &= ~(UINT64_C(1) << e->slot);
    }
    }
    e->where = AL__WHEEL_UNLINKED;
    w->len--;
}

/* The next slot due: its start tick, and which list (level, slot; level
 * AL__WHEEL_LEVELS means the overflow list). False when wheel and overflow
 * are empty. */
static bool next_slot(const al__wheel_t *w, uint64_t *start, unsigned *level, unsigned *slot)
{
    for (unsigned l = 0; l < AL__WHEEL_LEVELS; l++) {
        uint64_t occ = w->occupied[l];
        if (!occ)
            continue;
        unsigned shift = l * LEVEL_BITS;
        /* I1: only slots after elapsed's own slot can be occupied. */
        unsigned now_slot = (unsigned)(w->elapsed >> shift) & (AL__WHEEL_SLOTS - 1);
        AL_EXPECT((occ & ((UINT64_C(2) << now_slot) - 1)) == 0);
        unsigned s = (unsigned)__builtin_ctzll(occ);
        uint64_t level_mask = (UINT64_C(1) << (shift + LEVEL_BITS)) - 1;
        *start = (w->elapsed & ~level_mask) + ((uint64_t)s << shift);
        *level = l;
        *slot = s;
        return true;
    }
    if (w->overflow.head) {
        /* The window of the earliest overflow entry: it differs from elapsed
         * above bit 35 and is later, so its window starts after elapsed. */
        uint64_t span = UINT64_C(1) << AL__WHEEL_SPAN_BITS;
        *start = w->overflow_min & ~(span - 1);
        *level = AL__WHEEL_LEVELS;
        *slot = 0;
        return true;
    }
    return false;
}

uint64_t al__wheel_next_tick(const al__wheel_t *w)
{
    if (w->expired.head)
        return w->elapsed;
    uint64_t start;
    unsigned level, slot;
    return next_slot(w, &start, &level, &slot) ? start : UINT64_MAX;
}

size_t al__wheel_advance(al__wheel_t *w, uint64_t now_tick)
{
    size_t fired = 0;
    uint64_t start;
    unsigned level, slot;
    while (next_slot(w, &start, &level, &slot) && start <= now_tick) {
        al__wheel_list_t l;
        if (level == AL__WHEEL_LEVELS) {
            l = w->overflow;
            w->overflow = (al__wheel_list_t){0};
            w->overflow_min = UINT64_MAX;
        } else {
            l = w->slots[level][slot];
            w->slots[level][slot] = (al__wheel_list_t){0};
            w->occupied[level] &= ~(UINT64_C(1) << slot);
        }
        AL_EXPECT(start > w->elapsed);
        w->elapsed = start;
        for (al__wheel_entry_t *e = l.head, *next; e; e = next) {
            next = e->next;
            place(w, e);
            fired += e->where == AL__WHEEL_PENDING;
        }
    }
    if (now_tick > w->elapsed)
        w->elapsed = now_tick;
    return fired;
}

al__wheel_entry_t *al__wheel_pop_expired(al__wheel_t *w)
{
    al__wheel_entry_t *e = w->expired.head;
    if (!e)
        return NULL;
    list_unlink(&w->expired, e);
    e->where = AL__WHEEL_UNLINKED;
    w->len--;
    return e;
}

static void move_all(al__wheel_t *w, al__wheel_list_t *l)
{
    for (al__wheel_entry_t *e = l->head, *next; e; e = next) {
        next = e->next;
        e->where = AL__WHEEL_PENDING;
        list_push(&w->expired, e);
    }
    *l = (al__wheel_list_t){0};
}

void al__wheel_expire_all(al__wheel_t *w)
{
    for (unsigned l = 0; l < AL__WHEEL_LEVELS; l++) {
        while (w->occupied[l]) {
            unsigned s = (unsigned)__builtin_ctzll(w->occupied[l]);
            move_all(w, &w->slots[l][s]);
            w->occupied[l] &= ~(UINT64_C(1) << s);
        }
    }
    move_all(w, &w->overflow);
    w->overflow_min = UINT64_MAX;
}
