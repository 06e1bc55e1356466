/*
 * test_barrier.c — Barrier: the n-th arrival completes at once as the leader
 * and releases the others; exactly one leader per generation across reused
 * generations; n == 0 acts as 1; a cancelled arrival still counts (as
 * Tokio's); multi-thread stress counting leaders per generation.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_test.h"
#include "al_test_sync.h"

typedef struct hand {
    al_barrier_wait_t op;
    al_test_waker_t tw;
    al_context_t cx;
    bool leader;
} hand_t;

static void hand_init(hand_t *h, al_barrier_t *b)
{
    h->cx = al_test_context(&h->tw);
    h->leader = false;
    al_barrier_wait_init(&h->op, b);
}
static al_poll_t hand_poll(hand_t *h)
{
    return al_barrier_wait_poll(&h->op, &h->cx, &h->leader);
}

Test(barrier, one_leader_per_generation_reused)
{
    al_barrier_t *b = NULL;
    cr_assert_eq(al_barrier_new(3, "b", &b), 0);
    for (int gen = 0; gen < 3; gen++) {
        hand_t h[3];
        for (int i = 0; i < 2; i++) {
            hand_init(&h[i], b);
            cr_assert_eq(hand_poll(&h[i]), AL_PENDING);
            cr_assert_eq(hand_poll(&h[i]), AL_PENDING); /* re-poll: no second arrival */
        }
        cr_assert_eq(al_barrier_generation(b), (uint64_t)gen);
        hand_init(&h[2], b);
        cr_assert_eq(hand_poll(&h[2]), AL_READY);
        cr_assert(h[2].leader);
        cr_assert_eq(al_barrier_generation(b), (uint64_t)gen + 1);
        int leaders = 1;
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(atomic_load(&h[i].tw.wakes), 1);
            cr_assert_eq(atomic_load(&h[i].tw.last_kind), AL_WAKE_NOTIFY);
            cr_assert_eq(hand_poll(&h[i]), AL_READY);
            leaders += h[i].leader;
        }
        cr_assert_eq(leaders, 1);
        for (int i = 0; i < 3; i++) {
            al_barrier_wait_drop(&h[i].op);
            cr_assert_eq(atomic_load(&h[i].tw.clones), 0);
        }
    }
    al_barrier_unref(b);
}

Test(barrier, zero_acts_as_one)
{
    al_barrier_t *b = NULL;
    cr_assert_eq(al_barrier_new(0, NULL, &b), 0);
    for (int i = 0; i < 3; i++) {
        hand_t h;
        hand_init(&h, b);
        cr_assert_eq(hand_poll(&h), AL_READY);
        cr_assert(h.leader);
        al_barrier_wait_drop(&h.op);
    }
    cr_assert_eq(al_barrier_new(1, NULL, NULL), AL_EINVAL);
    al_barrier_unref(b);
}

Test(barrier, cancelled_arrival_still_counts)
{
    al_barrier_t *b = NULL;
    cr_assert_eq(al_barrier_new(3, NULL, &b), 0);
    hand_t a, c, d;
    hand_init(&a, b);
    hand_init(&c, b);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(hand_poll(&c), AL_PENDING);
    al_barrier_wait_drop(&a.op);
    cr_assert_eq(atomic_load(&a.tw.clones), 0);
    hand_init(&d, b);
    cr_assert_eq(hand_poll(&d), AL_READY); /* third arrival (a counted) */
    cr_assert(d.leader);
    cr_assert_eq(atomic_load(&a.tw.wakes), 0);
    cr_assert_eq(hand_poll(&c), AL_READY);
    cr_assert_not(c.leader);
    al_barrier_wait_drop(&c.op);
    al_barrier_wait_drop(&d.op);
    al_barrier_unref(b);
}

/* ---- multi-thread stress ---- */

#define THREADS 8

typedef struct stress {
    al_barrier_t *b;
    long gens;
    atomic_long leaders;
    atomic_long passed[THREADS];
    atomic_int behind; /* a thread passed generation g before all arrived */
    al_test_parker_t pk[THREADS];
} stress_t;

typedef struct targ {
    stress_t *st;
    int idx;
} targ_t;

static void *stress_thread(void *arg)
{
    targ_t *a = arg;
    stress_t *st = a->st;
    al_context_t cx = al_test_parker_context(&st->pk[a->idx]);
    for (long g = 0; g < st->gens; g++) {
        atomic_store(&st->passed[a->idx], g); /* arrived at g */
        al_barrier_wait_t op;
        bool leader = false;
        al_barrier_wait_init(&op, st->b);
        while (al_barrier_wait_poll(&op, &cx, &leader) == AL_PENDING)
            al_test_parker_wait(&st->pk[a->idx]);
        al_barrier_wait_drop(&op);
        if (leader)
            atomic_fetch_add(&st->leaders, 1);
        for (int i = 0; i < THREADS; i++) /* everyone has arrived at g */
            if (atomic_load(&st->passed[i]) < g)
                atomic_fetch_add(&st->behind, 1);
    }
    return NULL;
}

Test(barrier, stress_leaders_and_generations, .timeout = 60)
{
    static stress_t st;
    cr_assert_eq(al_barrier_new(THREADS, NULL, &st.b), 0);
    st.gens = al_test_scale(5000);
    atomic_init(&st.leaders, 0);
    atomic_init(&st.behind, 0);
    pthread_t th[THREADS];
    targ_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        atomic_init(&st.passed[i], 0);
        al_test_parker_init(&st.pk[i]);
        args[i] = (targ_t){&st, i};
        cr_assert_eq(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&st.leaders), st.gens);
    cr_assert_eq(atomic_load(&st.behind), 0);
    cr_assert_eq(al_barrier_generation(st.b), (uint64_t)st.gens);
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(atomic_load(&st.pk[i].clones), 0);
        al_test_parker_destroy(&st.pk[i]);
    }
    al_barrier_unref(st.b);
}
