/*
 * test_semaphore.c — Semaphore: FIFO grants, fairness of big requests,
 * cancellation while queued and after a grant (nothing lost), close, misuse
 * errors, the coop budget, and a multi-thread stress that checks permits are
 * conserved and never over-granted.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_test_sync.h"

static al_semaphore_t *sem_new(uint32_t n)
{
    al_semaphore_t *s = NULL;
    cr_assert_eq(al_semaphore_new(n, "test", &s), 0);
    return s;
}

/* A by-hand acquire: op + its own counting waker. */
typedef struct hand {
    al_sem_acquire_t op;
    al_test_waker_t tw;
    al_context_t cx;
    al_sem_permit_t p;
    int err;
} hand_t;

static void hand_init(hand_t *h, al_semaphore_t *s, uint32_t n)
{
    h->cx = al_test_context(&h->tw);
    h->p = (al_sem_permit_t){0};
    h->err = 12345;
    cr_assert_eq(al_semaphore_acquire_init(&h->op, s, n), 0);
}

static al_poll_t hand_poll(hand_t *h)
{
    return al_semaphore_acquire_poll(&h->op, &h->cx, &h->p, &h->err);
}

Test(semaphore, try_acquire_release_and_double_release)
{
    al_semaphore_t *s = sem_new(3);
    cr_assert_str_eq(al_semaphore_name(s), "test");
    al_sem_permit_t p = {0}, q = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 2, &p), 0);
    cr_assert_eq(p.n, 2);
    cr_assert_eq(al_semaphore_available_permits(s), 1);
    cr_assert_eq(al_semaphore_try_acquire(s, 2, &q), AL_EWOULDBLOCK);
    cr_assert_eq(al_sem_permit_release(&p), 0);
    cr_assert_eq(al_semaphore_available_permits(s), 3);
    cr_assert_eq(al_sem_permit_release(&p), AL_ENOTHELD);
    cr_assert_eq(al_sem_permit_release(&q), AL_ENOTHELD); /* never held */
    cr_assert_eq(al_semaphore_available_permits(s), 3);
    al_semaphore_unref(s);
}

Test(semaphore, invalid_arguments)
{
    al_semaphore_t *s = NULL;
    cr_assert_eq(al_semaphore_new(AL_SEM_MAX_PERMITS + 1, NULL, &s), AL_EINVAL);
    cr_assert_eq(al_semaphore_new(1, NULL, NULL), AL_EINVAL);
    s = sem_new(AL_SEM_MAX_PERMITS);
    al_sem_permit_t p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 0, &p), AL_EINVAL);
    cr_assert_eq(al_semaphore_add_permits(s, 0), AL_EINVAL);
    cr_assert_eq(al_semaphore_add_permits(s, 1), AL_EINVAL); /* would overflow */
    cr_assert_eq(al_semaphore_available_permits(s), AL_SEM_MAX_PERMITS);
    hand_t h;
    h.cx = al_test_context(&h.tw);
    cr_assert_eq(al_semaphore_acquire_init(&h.op, s, 0), AL_EINVAL);
    cr_assert_eq(hand_poll(&h), AL_READY);
    cr_assert_eq(h.err, AL_EINVAL);
    al_semaphore_acquire_drop(&h.op);
    al_semaphore_unref(s);
}

Test(semaphore, ready_at_once_when_free)
{
    al_semaphore_t *s = sem_new(2);
    hand_t h;
    hand_init(&h, s, 2);
    cr_assert_eq(hand_poll(&h), AL_READY);
    cr_assert_eq(h.err, 0);
    cr_assert_eq(h.p.n, 2);
    cr_assert_eq(atomic_load(&h.tw.clones), 0); /* never stored a waker */
    al_semaphore_acquire_drop(&h.op);           /* after READY: keeps the permits */
    cr_assert_eq(al_semaphore_available_permits(s), 0);
    cr_assert_eq(al_sem_permit_release(&h.p), 0);
    cr_assert_eq(al_semaphore_available_permits(s), 2);
    al_semaphore_unref(s);
}

Test(semaphore, grants_in_fifo_order)
{
    al_semaphore_t *s = sem_new(0);
    hand_t h[4];
    for (int i = 0; i < 4; i++) {
        hand_init(&h[i], s, 1);
        cr_assert_eq(hand_poll(&h[i]), AL_PENDING);
        cr_assert_eq(atomic_load(&h[i].tw.clones), 1);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(al_semaphore_add_permits(s, 1), 0);
        for (int j = 0; j < 4; j++)
            cr_assert_eq(atomic_load(&h[j].tw.wakes), j <= i ? 1 : 0, "after %d: waiter %d", i, j);
        cr_assert_eq(atomic_load(&h[i].tw.last_kind), AL_WAKE_LOCK);
        cr_assert_eq(hand_poll(&h[i]), AL_READY);
        cr_assert_eq(h[i].err, 0);
    }
    for (int i = 0; i < 4; i++) {
        al_semaphore_acquire_drop(&h[i].op);
        cr_assert_eq(atomic_load(&h[i].tw.clones), 0);
        cr_assert_eq(al_sem_permit_release(&h[i].p), 0);
    }
    cr_assert_eq(al_semaphore_available_permits(s), 4);
    al_semaphore_unref(s);
}

Test(semaphore, big_request_at_head_blocks_small_ones)
{
    al_semaphore_t *s = sem_new(3);
    al_sem_permit_t held = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 2, &held), 0); /* 1 left */
    hand_t big, small;
    hand_init(&big, s, 3);
    hand_init(&small, s, 1);
    cr_assert_eq(hand_poll(&big), AL_PENDING);
    /* 1 permit is free, but the big request is first in line: fairness. */
    cr_assert_eq(hand_poll(&small), AL_PENDING);
    al_sem_permit_t p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 1, &p), AL_EWOULDBLOCK);
    cr_assert_eq(al_semaphore_available_permits(s), 1);

    cr_assert_eq(al_sem_permit_release(&held), 0);
    cr_assert_eq(atomic_load(&big.tw.wakes), 1);
    cr_assert_eq(atomic_load(&small.tw.wakes), 0);
    cr_assert_eq(hand_poll(&big), AL_READY);
    cr_assert_eq(hand_poll(&small), AL_PENDING); /* spurious re-poll is harmless */
    cr_assert_eq(atomic_load(&small.tw.clones), 1);
    cr_assert_eq(al_sem_permit_release(&big.p), 0);
    cr_assert_eq(atomic_load(&small.tw.wakes), 1);
    cr_assert_eq(hand_poll(&small), AL_READY);
    cr_assert_eq(al_semaphore_available_permits(s), 2);
    cr_assert_eq(al_sem_permit_release(&small.p), 0);
    al_semaphore_acquire_drop(&big.op);
    al_semaphore_acquire_drop(&small.op);
    cr_assert_eq(al_semaphore_available_permits(s), 3);
    al_semaphore_unref(s);
}

Test(semaphore, cancel_while_queued_unlinks_and_unblocks_followers)
{
    al_semaphore_t *s = sem_new(1);
    hand_t big, mid, small;
    hand_init(&big, s, 5);
    hand_init(&mid, s, 1);
    hand_init(&small, s, 1);
    cr_assert_eq(hand_poll(&big), AL_PENDING);
    cr_assert_eq(hand_poll(&mid), AL_PENDING);
    cr_assert_eq(hand_poll(&small), AL_PENDING);
    /* Cancel a waiter in the middle: nothing else changes. */
    al_semaphore_acquire_drop(&mid.op);
    cr_assert_eq(atomic_load(&mid.tw.clones), 0);
    cr_assert_eq(atomic_load(&small.tw.wakes), 0);
    al_semaphore_acquire_drop(&mid.op); /* idempotent */
    /* Cancel the blocking head: the small request behind it fits now. */
    al_semaphore_acquire_drop(&big.op);
    cr_assert_eq(atomic_load(&big.tw.clones), 0);
    cr_assert_eq(atomic_load(&big.tw.wakes), 0);
    cr_assert_eq(atomic_load(&small.tw.wakes), 1);
    cr_assert_eq(hand_poll(&small), AL_READY);
    cr_assert_eq(al_semaphore_available_permits(s), 0);
    cr_assert_eq(al_sem_permit_release(&small.p), 0);
    al_semaphore_acquire_drop(&small.op);
    cr_assert_eq(al_semaphore_available_permits(s), 1);
    al_semaphore_unref(s);
}

Test(semaphore, cancel_after_grant_passes_permits_on)
{
    al_semaphore_t *s = sem_new(2);
    al_sem_permit_t held = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 2, &held), 0);
    hand_t a, b, c;
    hand_init(&a, s, 2);
    hand_init(&b, s, 1);
    hand_init(&c, s, 1);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(hand_poll(&b), AL_PENDING);
    cr_assert_eq(hand_poll(&c), AL_PENDING);
    cr_assert_eq(al_sem_permit_release(&held), 0);
    cr_assert_eq(atomic_load(&a.tw.wakes), 1); /* granted both permits */
    cr_assert_eq(al_semaphore_available_permits(s), 0);
    /* a is cancelled before it saw its grant: b and c must get the permits. */
    al_semaphore_acquire_drop(&a.op);
    cr_assert_eq(atomic_load(&b.tw.wakes), 1);
    cr_assert_eq(atomic_load(&c.tw.wakes), 1);
    cr_assert_eq(hand_poll(&b), AL_READY);
    cr_assert_eq(hand_poll(&c), AL_READY);
    cr_assert_eq(al_sem_permit_release(&b.p), 0);
    cr_assert_eq(al_sem_permit_release(&c.p), 0);
    al_semaphore_acquire_drop(&b.op);
    al_semaphore_acquire_drop(&c.op);
    cr_assert_eq(al_semaphore_available_permits(s), 2); /* nothing lost */
    al_semaphore_unref(s);
}

Test(semaphore, close_fails_waiters_and_later_acquires)
{
    al_semaphore_t *s = sem_new(1);
    al_sem_permit_t held = {0}, p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 1, &held), 0);
    hand_t a, b;
    hand_init(&a, s, 1);
    hand_init(&b, s, 1);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    al_semaphore_close(s);
    cr_assert(al_semaphore_is_closed(s));
    cr_assert_eq(atomic_load(&a.tw.wakes), 1);
    cr_assert_eq(hand_poll(&a), AL_READY);
    cr_assert_eq(a.err, AL_ECLOSED);
    cr_assert_null(a.p.sem);
    cr_assert_eq(hand_poll(&b), AL_READY);
    cr_assert_eq(b.err, AL_ECLOSED);
    cr_assert_eq(al_semaphore_try_acquire(s, 1, &p), AL_ECLOSED);
    cr_assert_eq(al_sem_permit_release(&held), 0); /* still allowed */
    cr_assert_eq(al_semaphore_available_permits(s), 1);
    al_semaphore_close(s); /* idempotent */
    al_semaphore_acquire_drop(&a.op);
    al_semaphore_acquire_drop(&b.op);
    cr_assert_eq(atomic_load(&a.tw.clones), 0);
    al_semaphore_unref(s);
}

Test(semaphore, permit_outlives_handle)
{
    al_semaphore_t *s = sem_new(1);
    al_sem_permit_t p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 1, &p), 0);
    al_semaphore_unref(s); /* the permit keeps it alive */
    cr_assert_eq(al_semaphore_available_permits(p.sem), 0);
    cr_assert_eq(al_sem_permit_release(&p), 0);
}

Test(semaphore, forget_keeps_permits_out)
{
    al_semaphore_t *s = sem_new(2);
    al_sem_permit_t p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 1, &p), 0);
    cr_assert_eq(al_sem_permit_forget(&p), 0);
    cr_assert_eq(al_sem_permit_forget(&p), AL_ENOTHELD);
    cr_assert_eq(al_sem_permit_release(&p), AL_ENOTHELD);
    cr_assert_eq(al_semaphore_available_permits(s), 1);
    al_semaphore_unref(s);
}

Test(semaphore, spent_coop_budget_yields)
{
    al_semaphore_t *s = sem_new(1);
    hand_t h;
    hand_init(&h, s, 1);
    al__tls.coop = 0; /* as if inside a task poll that used its budget */
    cr_assert_eq(hand_poll(&h), AL_PENDING);
    cr_assert_eq(atomic_load(&h.tw.wakes), 1); /* a yield-wake was arranged */
    cr_assert_eq(atomic_load(&h.tw.last_kind), AL_WAKE_YIELD);
    cr_assert_eq(al_semaphore_available_permits(s), 1);
    al__tls.coop = 5;
    hand_t q;
    hand_init(&q, s, 1);
    cr_assert_eq(hand_poll(&h), AL_READY); /* uses one unit */
    cr_assert_eq(al__tls.coop, 4);
    cr_assert_eq(hand_poll(&q), AL_PENDING); /* Pending refunds its unit */
    cr_assert_eq(al__tls.coop, 4);
    al__tls.coop = -1;
    cr_assert_eq(al_sem_permit_release(&h.p), 0);
    cr_assert_eq(hand_poll(&q), AL_READY);
    cr_assert_eq(al_sem_permit_release(&q.p), 0);
    al_semaphore_acquire_drop(&h.op);
    al_semaphore_acquire_drop(&q.op);
    al_semaphore_unref(s);
}

/* ---- multi-thread stress ---- */

#define STRESS_THREADS 8
#define STRESS_PERMITS 5

typedef struct stress {
    al_semaphore_t *sem;
    atomic_int in_use;     /* permits held right now, by our own count */
    atomic_int violations; /* in_use ever above STRESS_PERMITS */
    atomic_long acquired;
    long iters;
    al_test_parker_t parkers[STRESS_THREADS];
} stress_t;

typedef struct stress_arg {
    stress_t *st;
    int idx;
} stress_arg_t;

static void *stress_thread(void *arg)
{
    stress_arg_t *a = arg;
    stress_t *st = a->st;
    al_test_parker_t *pk = &st->parkers[a->idx];
    al_context_t cx = al_test_parker_context(pk);
    uint64_t rng = 0x9E3779B97F4A7C15u * (uint64_t)(a->idx + 1);
    for (long i = 0; i < st->iters; i++) {
        uint32_t n = 1 + al_test_rand(&rng) % STRESS_PERMITS;
        bool cancel = al_test_rand(&rng) % 8 == 0;
        al_sem_acquire_t op;
        al_sem_permit_t p = {0};
        int err = 0;
        cr_assert_eq(al_semaphore_acquire_init(&op, st->sem, n), 0);
        al_poll_t r;
        while ((r = al_semaphore_acquire_poll(&op, &cx, &p, &err)) == AL_PENDING) {
            if (cancel)
                break; /* cancel while queued, or after a grant it never saw */
            al_test_parker_wait(pk);
        }
        al_semaphore_acquire_drop(&op);
        if (r == AL_PENDING)
            continue;
        cr_assert_eq(err, 0);
        int now = atomic_fetch_add(&st->in_use, (int)n) + (int)n;
        if (now > STRESS_PERMITS)
            atomic_fetch_add(&st->violations, 1);
        atomic_fetch_add(&st->acquired, 1);
        atomic_fetch_sub(&st->in_use, (int)n);
        cr_assert_eq(al_sem_permit_release(&p), 0);
    }
    return NULL;
}

Test(semaphore, stress_permits_conserved, .timeout = 60)
{
    static stress_t st;
    st.sem = sem_new(STRESS_PERMITS);
    st.iters = al_test_scale(100000) / STRESS_THREADS;
    atomic_init(&st.in_use, 0);
    atomic_init(&st.violations, 0);
    atomic_init(&st.acquired, 0);
    pthread_t th[STRESS_THREADS];
    stress_arg_t args[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        al_test_parker_init(&st.parkers[i]);
        args[i] = (stress_arg_t){&st, i};
        cr_assert_eq(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&st.violations), 0);
    cr_assert_gt(atomic_load(&st.acquired), 0);
    cr_assert_eq(al_semaphore_available_permits(st.sem), STRESS_PERMITS);
    for (int i = 0; i < STRESS_THREADS; i++) {
        cr_assert_eq(atomic_load(&st.parkers[i].clones), 0, "thread %d leaked a waker", i);
        al_test_parker_destroy(&st.parkers[i]);
    }
    al_semaphore_unref(st.sem);
}
