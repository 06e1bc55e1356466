/*
 * test_time_wheel.c — the hierarchical timer wheel (al_time_wheel.c) on its
 * own, against a reference model: a plain array of (tick, alive) records.
 *
 * The randomized test interleaves inserts (deadlines at every scale: already
 * past, within a slot, each level, beyond the top level, around the 2^36
 * boundary), removals and advances (small steps and huge jumps), and after
 * every advance checks that the wheel fired exactly the live entries whose
 * tick has passed, in non-decreasing tick order, and that next_tick is a
 * lower bound of the earliest deadline. A second mode drives the wheel only
 * by jumping to next_tick, as the paused clock does, and checks that the first
 * timer fires exactly at its tick. Seeds are fixed and printed on failure.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_time_wheel.h"

typedef struct node {
    al__wheel_entry_t e;
    int idx;
} node_t;

typedef struct model {
    uint64_t tick;
    bool alive;
    bool pre; /* inserted already expired: pops before the advance's own */
} model_t;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* A distance at a random scale: within a slot, each level, past the top. */
static uint64_t rnd_span(void)
{
    static const unsigned bits[] = {0, 3, 6, 8, 12, 15, 18, 24, 30, 34, 36, 37, 42};
    unsigned b = bits[rnd_below(AL_ARRAY_SIZE(bits))];
    return b ? rnd_below(UINT64_C(1) << b) + (rnd() & 1) : 0;
}

#define MAXN 2048

static al__wheel_t wheel;
static node_t nodes[MAXN];
static model_t model[MAXN];

static void reset_all(uint64_t start)
{
    al__wheel_init(&wheel, start);
    for (int i = 0; i < MAXN; i++) {
        al__wheel_entry_init(&nodes[i].e);
        nodes[i].idx = i;
        model[i] = (model_t){0};
    }
}

static size_t model_alive(void)
{
    size_t n = 0;
    for (int i = 0; i < MAXN; i++)
        n += model[i].alive;
    return n;
}

static uint64_t model_min(void)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < MAXN; i++)
        if (model[i].alive && model[i].tick < m)
            m = model[i].tick;
    return m;
}

static void do_insert(uint64_t seed)
{
    int i = (int)rnd_below(MAXN);
    if (model[i].alive)
        return;
    uint64_t el = al__wheel_elapsed(&wheel);
    uint64_t tick;
    switch (rnd_below(8)) {
    case 0: /* already due */
        tick = el - rnd_below(el < 10 ? el + 1 : 10);
        break;
    case 1: /* just around the top level's boundary */
        tick = ((el >> 36) + 1) * (UINT64_C(1) << 36) + rnd_below(5) - 2;
        if (tick <= el)
            tick = el + 1;
        break;
    default:
        tick = el + rnd_span();
    }
    al__wheel_insert(&wheel, &nodes[i].e, tick);
    cr_assert(al__wheel_entry_linked(&nodes[i].e), "seed %llu", (unsigned long long)seed);
    model[i] = (model_t){.tick = tick, .alive = true, .pre = tick <= el};
}

static void do_remove(void)
{
    int i = (int)rnd_below(MAXN);
    al__wheel_remove(&wheel, &nodes[i].e); /* also covers the unlinked no-op */
    cr_assert_not(al__wheel_entry_linked(&nodes[i].e));
    model[i].alive = false;
}

/* Pop everything expired, check it against the model for `now`. */
static size_t check_fired(uint64_t now, uint64_t seed)
{
    size_t expect = 0;
    for (int i = 0; i < MAXN; i++)
        expect += model[i].alive && model[i].tick <= now;
    size_t got = 0;
    bool seen_regular = false;
    uint64_t last = 0;
    al__wheel_entry_t *e;
    while ((e = al__wheel_pop_expired(&wheel)) != NULL) {
        node_t *n = AL_CONTAINER_OF(e, node_t, e);
        model_t *m = &model[n->idx];
        cr_assert(m->alive, "seed %llu: fired a dead entry %d", (unsigned long long)seed, n->idx);
        cr_assert_leq(m->tick, now, "seed %llu: fired early: tick %llu now %llu",
                      (unsigned long long)seed, (unsigned long long)m->tick,
                      (unsigned long long)now);
        cr_assert_eq(e->tick, m->tick);
        cr_assert_not(al__wheel_entry_linked(e));
        if (m->pre) {
            cr_assert_not(seen_regular, "seed %llu: pre-expired after a fired one",
                          (unsigned long long)seed);
        } else {
            cr_assert_geq(m->tick, last, "seed %llu: out of order", (unsigned long long)seed);
            last = m->tick;
            seen_regular = true;
        }
        m->alive = false;
        got++;
    }
    cr_assert_eq(got, expect, "seed %llu: fired %zu, expected %zu", (unsigned long long)seed, got,
                 expect);
    for (int i = 0; i < MAXN; i++)
        model[i].pre = false;
    cr_assert_eq(al__wheel_len(&wheel), model_alive());
    return got;
}

static void check_next_bound(uint64_t seed)
{
    uint64_t next = al__wheel_next_tick(&wheel);
    uint64_t min = model_min();
    uint64_t el = al__wheel_elapsed(&wheel);
    if (min == UINT64_MAX) {
        cr_assert_eq(next, UINT64_MAX, "seed %llu: empty wheel", (unsigned long long)seed);
    } else if (min <= el) {
        cr_assert_eq(next, el, "seed %llu: expired pending", (unsigned long long)seed);
    } else {
        cr_assert_leq(next, min, "seed %llu: next %llu after min %llu", (unsigned long long)seed,
                      (unsigned long long)next, (unsigned long long)min);
        cr_assert_gt(next, el, "seed %llu", (unsigned long long)seed);
    }
}

static void do_advance(uint64_t seed)
{
    check_next_bound(seed);
    uint64_t el = al__wheel_elapsed(&wheel);
    uint64_t now = rnd_below(4) == 0 ? el : el + rnd_span();
    al__wheel_advance(&wheel, now);
    cr_assert_eq(al__wheel_elapsed(&wheel), now);
    check_fired(now, seed);
}

/* Drive only by next_tick jumps: the earliest entry fires exactly at its tick. */
static void do_jump(uint64_t seed)
{
    check_fired(al__wheel_elapsed(&wheel), seed); /* flush pre-expired */
    uint64_t min = model_min();
    if (min == UINT64_MAX)
        return;
    for (int rounds = 0;; rounds++) {
        cr_assert_lt(rounds, 8, "seed %llu: too many cascades", (unsigned long long)seed);
        uint64_t next = al__wheel_next_tick(&wheel);
        cr_assert_leq(next, min, "seed %llu", (unsigned long long)seed);
        al__wheel_advance(&wheel, next);
        size_t fired = check_fired(next, seed);
        if (fired) {
            cr_assert_eq(next, min, "seed %llu: first fire at %llu, min %llu",
                         (unsigned long long)seed, (unsigned long long)next,
                         (unsigned long long)min);
            return;
        }
    }
}

static void run_random(uint64_t seed, long steps, uint64_t start)
{
    rng_state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
    reset_all(start);
    for (long s = 0; s < steps; s++) {
        unsigned op = (unsigned)rnd_below(100);
        if (op < 45)
            do_insert(seed);
        else if (op < 60)
            do_remove();
        else if (op < 90)
            do_advance(seed);
        else
            do_jump(seed);
    }
    /* Drain: everything still linked fires once, after a huge jump. */
    al__wheel_advance(&wheel, UINT64_MAX - 1);
    check_fired(UINT64_MAX - 1, seed);
    cr_assert_eq(al__wheel_len(&wheel), 0);
}

Test(time_wheel, random_vs_model)
{
    long steps = al_test_scale(40000);
    for (uint64_t seed = 1; seed <= 12; seed++)
        run_random(seed, steps, 0);
}

Test(time_wheel, random_vs_model_odd_start)
{
    /* Start just before a top-level boundary and at a large elapsed value. */
    long steps = al_test_scale(20000);
    run_random(101, steps, (UINT64_C(1) << 36) - 3);
    run_random(102, steps, (UINT64_C(1) << 50) + 12345);
}

Test(time_wheel, level_spans_and_cascade_exact)
{
    /* One timer per level (and beyond), each driven tick by tick from below:
     * it fires exactly at its tick, never one tick early. */
    static const uint64_t ticks[] = {1, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 300001};
    for (size_t k = 0; k < AL_ARRAY_SIZE(ticks); k++) {
        al__wheel_t w;
        al__wheel_init(&w, 0);
        node_t n;
        al__wheel_entry_init(&n.e);
        al__wheel_insert(&w, &n.e, ticks[k]);
        for (uint64_t now = 1; now < ticks[k]; now += (ticks[k] > 5000 ? 7 : 1)) {
            al__wheel_advance(&w, now);
            cr_assert_null(al__wheel_pop_expired(&w), "tick %llu fired at %llu",
                           (unsigned long long)ticks[k], (unsigned long long)now);
        }
        al__wheel_advance(&w, ticks[k] - 1);
        cr_assert_null(al__wheel_pop_expired(&w));
        al__wheel_advance(&w, ticks[k]);
        cr_assert_eq(al__wheel_pop_expired(&w), &n.e);
        cr_assert_eq(al__wheel_len(&w), 0);
        cr_assert_eq(al__wheel_next_tick(&w), UINT64_MAX);
    }
}

Test(time_wheel, far_deadlines_overflow_then_fire_in_order)
{
    al__wheel_t w;
    al__wheel_init(&w, 5);
    const uint64_t far[] = {UINT64_C(1) << 40,   (UINT64_C(1) << 36) + 1, (UINT64_C(1) << 36) - 1,
                            (UINT64_C(1) << 36), UINT64_C(3) << 37,       (UINT64_C(1) << 60) + 7,
                            UINT64_MAX - 1};
    node_t n[AL_ARRAY_SIZE(far)];
    for (size_t i = 0; i < AL_ARRAY_SIZE(far); i++) {
        al__wheel_entry_init(&n[i].e);
        n[i].idx = (int)i;
        al__wheel_insert(&w, &n[i].e, far[i]);
    }
    cr_assert_eq(n[0].e.where, AL__WHEEL_OVERFLOW);
    cr_assert_eq(n[2].e.where, 5); /* top level */
    /* Jump driving: each fires exactly at its tick, in order. */
    uint64_t last = 0;
    for (size_t fired = 0; fired < AL_ARRAY_SIZE(far);) {
        uint64_t next = al__wheel_next_tick(&w);
        cr_assert_neq(next, UINT64_MAX);
        al__wheel_advance(&w, next);
        al__wheel_entry_t *e;
        while ((e = al__wheel_pop_expired(&w)) != NULL) {
            cr_assert_eq(e->tick, next);
            cr_assert_geq(e->tick, last);
            last = e->tick;
            fired++;
        }
    }
    cr_assert_eq(last, UINT64_MAX - 1);
    cr_assert_eq(al__wheel_len(&w), 0);
}

Test(time_wheel, remove_everywhere_and_expire_all)
{
    al__wheel_t w;
    al__wheel_init(&w, 1000);
    node_t n[5];
    const uint64_t t[] = {10 /* past: expired list */, 1001, 5000, UINT64_C(1) << 45, 900000};
    for (int i = 0; i < 5; i++) {
        al__wheel_entry_init(&n[i].e);
        al__wheel_insert(&w, &n[i].e, t[i]);
    }
    cr_assert_eq(n[0].e.where, AL__WHEEL_PENDING);
    cr_assert_eq(al__wheel_next_tick(&w), 1000);
    al__wheel_remove(&w, &n[0].e);
    al__wheel_remove(&w, &n[3].e);
    al__wheel_remove(&w, &n[3].e); /* twice: no-op */
    cr_assert_eq(al__wheel_len(&w), 3);
    cr_assert_eq(al__wheel_next_tick(&w), 1001);
    al__wheel_remove(&w, &n[1].e);
    cr_assert_gt(al__wheel_next_tick(&w), 1001);
    al__wheel_expire_all(&w);
    int got = 0;
    while (al__wheel_pop_expired(&w))
        got++;
    cr_assert_eq(got, 2);
    cr_assert_eq(al__wheel_len(&w), 0);
    for (int l = 0; l < AL__WHEEL_LEVELS; l++)
        cr_assert_eq(w.occupied[l], 0);
}
