/*
 * test_mutex.c — Mutex: try_lock / unlock / double unlock, FIFO hand-over
 * without barging, cancellation while queued and after the hand-over, the
 * value slot, and a multi-thread stress (a plain counter under the mutex must
 * come out exact; TSan checks the mutex orders the increments).
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_test.h"
#include "al_test_sync.h"

static al_mutex_t *mutex_new(void *value)
{
    al_mutex_t *m = NULL;
    cr_assert_eq(al_mutex_new(value, "m", &m), 0);
    return m;
}

typedef struct hand {
    al_mutex_lock_t op;
    al_test_waker_t tw;
    al_context_t cx;
    al_mutex_guard_t g;
} hand_t;

static void hand_init(hand_t *h, al_mutex_t *m)
{
    h->cx = al_test_context(&h->tw);
    h->g = (al_mutex_guard_t){0};
    al_mutex_lock_init(&h->op, m);
}

static al_poll_t hand_poll(hand_t *h)
{
    return al_mutex_lock_poll(&h->op, &h->cx, &h->g);
}

Test(mutex, try_lock_unlock_and_double_unlock)
{
    int v = 41;
    al_mutex_t *m = mutex_new(&v);
    al_mutex_guard_t g = {0}, g2 = {0};
    cr_assert_not(al_mutex_is_locked(m));
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    cr_assert(al_mutex_is_locked(m));
    cr_assert_eq(al_mutex_holder(m), 0); /* outside any task */
    cr_assert_eq(al_mutex_try_lock(m, &g2), AL_EWOULDBLOCK);
    void **slot = al_mutex_guard_value(&g);
    cr_assert_eq(*slot, &v);
    (*(int *)*slot)++;
    cr_assert_null(al_mutex_guard_value(&g2));
    al_mutex_guard_t copy = g;
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    cr_assert_not(al_mutex_is_locked(m));
    cr_assert_eq(al_mutex_guard_unlock(&g), AL_ENOTHELD);
    cr_assert_eq(al_mutex_guard_unlock(&copy), AL_ENOTHELD); /* a copy cannot unlock twice */
    cr_assert_eq(al_mutex_guard_unlock(&g2), AL_ENOTHELD);
    cr_assert_eq(al_mutex_guard_unlock(NULL), AL_ENOTHELD);
    cr_assert_null(al_mutex_guard_value(&g));
    cr_assert_eq(v, 42);
    /* still a working mutex after the misuse */
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    cr_assert_eq(al_mutex_try_lock(m, &g2), AL_EWOULDBLOCK);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    cr_assert_eq(al_mutex_try_lock(NULL, &g), AL_EINVAL);
    cr_assert_eq(al_mutex_new(NULL, NULL, NULL), AL_EINVAL);
    al_mutex_unref(m);
}

Test(mutex, fifo_hand_over_without_barging)
{
    al_mutex_t *m = mutex_new(NULL);
    hand_t h[3];
    al_mutex_guard_t first = {0}, other = {0};
    cr_assert_eq(al_mutex_try_lock(m, &first), 0);
    for (int i = 0; i < 3; i++) {
        hand_init(&h[i], m);
        cr_assert_eq(hand_poll(&h[i]), AL_PENDING);
    }
    cr_assert_eq(al_mutex_guard_unlock(&first), 0);
    /* handed to h[0]: still locked, nobody can barge in */
    cr_assert(al_mutex_is_locked(m));
    cr_assert_eq(al_mutex_try_lock(m, &other), AL_EWOULDBLOCK);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            cr_assert_eq(atomic_load(&h[j].tw.wakes), j <= i ? 1 : 0);
        cr_assert_eq(atomic_load(&h[i].tw.last_kind), AL_WAKE_LOCK);
        cr_assert_eq(hand_poll(&h[i]), AL_READY);
        cr_assert_not_null(al_mutex_guard_value(&h[i].g));
        if (i + 1 < 3)
            cr_assert_eq(hand_poll(&h[i + 1]), AL_PENDING); /* spurious poll */
        cr_assert_eq(al_mutex_guard_unlock(&h[i].g), 0);
    }
    cr_assert_not(al_mutex_is_locked(m));
    for (int i = 0; i < 3; i++) {
        al_mutex_lock_drop(&h[i].op);
        cr_assert_eq(atomic_load(&h[i].tw.clones), 0);
    }
    al_mutex_unref(m);
}

Test(mutex, cancel_while_queued)
{
    al_mutex_t *m = mutex_new(NULL);
    al_mutex_guard_t g = {0};
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    hand_t a, b;
    hand_init(&a, m);
    hand_init(&b, m);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(hand_poll(&b), AL_PENDING);
    al_mutex_lock_drop(&a.op);
    cr_assert_eq(atomic_load(&a.tw.clones), 0);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    cr_assert_eq(atomic_load(&a.tw.wakes), 0);
    cr_assert_eq(atomic_load(&b.tw.wakes), 1);
    cr_assert_eq(hand_poll(&b), AL_READY);
    cr_assert_eq(al_mutex_guard_unlock(&b.g), 0);
    al_mutex_lock_drop(&b.op);
    al_mutex_unref(m);
}

Test(mutex, cancel_after_hand_over_passes_the_lock_on)
{
    al_mutex_t *m = mutex_new(NULL);
    al_mutex_guard_t g = {0};
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    hand_t a, b;
    hand_init(&a, m);
    hand_init(&b, m);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(hand_poll(&b), AL_PENDING);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    cr_assert_eq(atomic_load(&a.tw.wakes), 1);
    al_mutex_lock_drop(&a.op); /* woken, cancelled before it polled */
    cr_assert_eq(atomic_load(&b.tw.wakes), 1);
    cr_assert_eq(hand_poll(&b), AL_READY);
    cr_assert_eq(al_mutex_guard_unlock(&b.g), 0);
    al_mutex_lock_drop(&b.op);
    cr_assert_not(al_mutex_is_locked(m));
    /* and a cancel with nobody behind leaves it unlocked */
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    hand_init(&a, m);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    al_mutex_lock_drop(&a.op);
    cr_assert_not(al_mutex_is_locked(m));
    al_mutex_unref(m);
}

Test(mutex, guard_keeps_mutex_alive)
{
    al_mutex_t *m = mutex_new(NULL);
    al_mutex_guard_t g = {0};
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    al_mutex_unref(m);
    cr_assert(al_mutex_is_locked(g.m));
    cr_assert_eq(al_mutex_guard_unlock(&g), 0);
}

/* ---- multi-thread stress ---- */

#define THREADS 8

typedef struct stress {
    al_mutex_t *m;
    long per_thread;
    long counter; /* plain: only touched under the mutex */
    al_test_parker_t parkers[THREADS];
} stress_t;

typedef struct targ {
    stress_t *st;
    int idx;
} targ_t;

static void *stress_thread(void *arg)
{
    targ_t *a = arg;
    stress_t *st = a->st;
    al_test_parker_t *pk = &st->parkers[a->idx];
    al_context_t cx = al_test_parker_context(pk);
    for (long i = 0; i < st->per_thread; i++) {
        al_mutex_lock_t op;
        al_mutex_guard_t g = {0};
        al_mutex_lock_init(&op, st->m);
        while (al_mutex_lock_poll(&op, &cx, &g) == AL_PENDING)
            al_test_parker_wait(pk);
        al_mutex_lock_drop(&op);
        long *c = *al_mutex_guard_value(&g);
        (*c)++;
        cr_assert_eq(al_mutex_guard_unlock(&g), 0);
    }
    return NULL;
}

Test(mutex, stress_counter_exact, .timeout = 60)
{
    static stress_t st;
    st.counter = 0;
    st.m = mutex_new(&st.counter);
    st.per_thread = al_test_scale(100000) / THREADS;
    pthread_t th[THREADS];
    targ_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        al_test_parker_init(&st.parkers[i]);
        args[i] = (targ_t){&st, i};
        cr_assert_eq(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(st.counter, st.per_thread * THREADS);
    cr_assert_not(al_mutex_is_locked(st.m));
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(atomic_load(&st.parkers[i].clones), 0);
        al_test_parker_destroy(&st.parkers[i]);
    }
    al_mutex_unref(st.m);
}
