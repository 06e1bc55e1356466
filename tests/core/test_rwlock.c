/*
 * test_rwlock.c — RwLock: shared readers, exclusive writer, fairness (a
 * queued writer blocks later readers; readers behind it enter together),
 * cancellation of a queued writer, misuse errors, and a multi-thread stress
 * checking readers and writers never overlap.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_test.h"
#include "al_test_sync.h"

static al_rwlock_t *rw_new(void)
{
    al_rwlock_t *l = NULL;
    cr_assert_eq(al_rwlock_new(NULL, "rw", &l), 0);
    return l;
}

typedef struct hand {
    al_rwlock_acquire_t op;
    al_test_waker_t tw;
    al_context_t cx;
    al_rwlock_guard_t g;
} hand_t;

static void hand_read(hand_t *h, al_rwlock_t *l)
{
    h->cx = al_test_context(&h->tw);
    h->g = (al_rwlock_guard_t){0};
    al_rwlock_read_init(&h->op, l);
}
static void hand_write(hand_t *h, al_rwlock_t *l)
{
    h->cx = al_test_context(&h->tw);
    h->g = (al_rwlock_guard_t){0};
    al_rwlock_write_init(&h->op, l);
}
static al_poll_t hand_poll(hand_t *h)
{
    return al_rwlock_acquire_poll(&h->op, &h->cx, &h->g);
}

Test(rwlock, many_readers_or_one_writer)
{
    al_rwlock_t *l = rw_new();
    al_rwlock_guard_t r1 = {0}, r2 = {0}, w = {0};
    cr_assert_eq(al_rwlock_try_read(l, &r1), 0);
    cr_assert_eq(al_rwlock_try_read(l, &r2), 0);
    cr_assert_eq(al_rwlock_readers(l), 2);
    cr_assert_not(al_rwlock_guard_is_write(&r1));
    cr_assert_eq(al_rwlock_try_write(l, &w), AL_EWOULDBLOCK);
    cr_assert_eq(al_rwlock_guard_unlock(&r1), 0);
    cr_assert_eq(al_rwlock_guard_unlock(&r1), AL_ENOTHELD);
    cr_assert_eq(al_rwlock_guard_unlock(&r2), 0);
    cr_assert_eq(al_rwlock_try_write(l, &w), 0);
    cr_assert(al_rwlock_guard_is_write(&w));
    cr_assert(al_rwlock_is_write_locked(l));
    cr_assert_eq(al_rwlock_readers(l), 0);
    cr_assert_eq(al_rwlock_try_read(l, &r1), AL_EWOULDBLOCK);
    al_rwlock_guard_t copy = w;
    cr_assert_eq(al_rwlock_guard_unlock(&w), 0);
    cr_assert_eq(al_rwlock_guard_unlock(&copy), AL_ENOTHELD);
    cr_assert_eq(al_rwlock_guard_unlock(&w), AL_ENOTHELD);
    cr_assert_not(al_rwlock_is_write_locked(l));
    cr_assert_eq(al_rwlock_try_write(l, &w), 0); /* still sound */
    cr_assert_eq(al_rwlock_guard_unlock(&w), 0);
    al_rwlock_unref(l);
}

Test(rwlock, queued_writer_blocks_later_readers)
{
    al_rwlock_t *l = rw_new();
    al_rwlock_guard_t r0 = {0}, tmp = {0};
    cr_assert_eq(al_rwlock_try_read(l, &r0), 0);
    hand_t w, ra, rb;
    hand_write(&w, l);
    hand_read(&ra, l);
    hand_read(&rb, l);
    cr_assert_eq(hand_poll(&w), AL_PENDING);
    cr_assert_eq(hand_poll(&ra), AL_PENDING); /* would fit, but a writer is queued */
    cr_assert_eq(hand_poll(&rb), AL_PENDING);
    cr_assert_eq(al_rwlock_try_read(l, &tmp), AL_EWOULDBLOCK);
    cr_assert_eq(al_rwlock_guard_unlock(&r0), 0);
    cr_assert_eq(atomic_load(&w.tw.wakes), 1);
    cr_assert_eq(atomic_load(&ra.tw.wakes), 0);
    cr_assert_eq(hand_poll(&w), AL_READY);
    cr_assert(al_rwlock_guard_is_write(&w.g));
    cr_assert_eq(al_rwlock_guard_unlock(&w.g), 0);
    /* both readers enter together */
    cr_assert_eq(atomic_load(&ra.tw.wakes), 1);
    cr_assert_eq(atomic_load(&rb.tw.wakes), 1);
    cr_assert_eq(hand_poll(&ra), AL_READY);
    cr_assert_eq(hand_poll(&rb), AL_READY);
    cr_assert_eq(al_rwlock_readers(l), 2);
    cr_assert_eq(al_rwlock_guard_unlock(&ra.g), 0);
    cr_assert_eq(al_rwlock_guard_unlock(&rb.g), 0);
    al_rwlock_acquire_drop(&w.op);
    al_rwlock_acquire_drop(&ra.op);
    al_rwlock_acquire_drop(&rb.op);
    cr_assert_eq(atomic_load(&ra.tw.clones), 0);
    al_rwlock_unref(l);
}

Test(rwlock, cancelled_writer_lets_readers_in)
{
    al_rwlock_t *l = rw_new();
    al_rwlock_guard_t r0 = {0};
    cr_assert_eq(al_rwlock_try_read(l, &r0), 0);
    hand_t w, r;
    hand_write(&w, l);
    hand_read(&r, l);
    cr_assert_eq(hand_poll(&w), AL_PENDING);
    cr_assert_eq(hand_poll(&r), AL_PENDING);
    al_rwlock_acquire_drop(&w.op);
    cr_assert_eq(atomic_load(&w.tw.clones), 0);
    cr_assert_eq(atomic_load(&r.tw.wakes), 1);
    cr_assert_eq(hand_poll(&r), AL_READY);
    cr_assert_eq(al_rwlock_readers(l), 2);
    cr_assert_eq(al_rwlock_guard_unlock(&r.g), 0);
    cr_assert_eq(al_rwlock_guard_unlock(&r0), 0);
    al_rwlock_acquire_drop(&r.op);
    /* a writer granted but cancelled before it saw it hands on to readers */
    cr_assert_eq(al_rwlock_try_read(l, &r0), 0);
    hand_write(&w, l);
    hand_read(&r, l);
    cr_assert_eq(hand_poll(&w), AL_PENDING);
    cr_assert_eq(hand_poll(&r), AL_PENDING);
    cr_assert_eq(al_rwlock_guard_unlock(&r0), 0);
    cr_assert_eq(atomic_load(&w.tw.wakes), 1);
    al_rwlock_acquire_drop(&w.op);
    cr_assert_eq(hand_poll(&r), AL_READY);
    cr_assert_eq(al_rwlock_guard_unlock(&r.g), 0);
    al_rwlock_acquire_drop(&r.op);
    cr_assert_eq(al_rwlock_readers(l), 0);
    cr_assert_not(al_rwlock_is_write_locked(l));
    al_rwlock_unref(l);
}

/* ---- multi-thread stress ---- */

#define THREADS 8

typedef struct stress {
    al_rwlock_t *l;
    long per_thread;
    atomic_int readers, writers, violations;
    long written; /* plain: only written under the write lock */
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
    uint64_t rng = 0x2545F4914F6CDD1Du * (uint64_t)(a->idx + 1);
    for (long i = 0; i < st->per_thread; i++) {
        bool write = al_test_rand(&rng) % 4 == 0;
        al_rwlock_acquire_t op;
        al_rwlock_guard_t g = {0};
        if (write)
            al_rwlock_write_init(&op, st->l);
        else
            al_rwlock_read_init(&op, st->l);
        while (al_rwlock_acquire_poll(&op, &cx, &g) == AL_PENDING)
            al_test_parker_wait(pk);
        al_rwlock_acquire_drop(&op);
        if (write) {
            if (atomic_fetch_add(&st->writers, 1) != 0 || atomic_load(&st->readers) != 0)
                atomic_fetch_add(&st->violations, 1);
            st->written++;
            atomic_fetch_sub(&st->writers, 1);
        } else {
            atomic_fetch_add(&st->readers, 1);
            if (atomic_load(&st->writers) != 0)
                atomic_fetch_add(&st->violations, 1);
            volatile long seen = st->written; /* a read under the read lock */
            (void)seen;
            atomic_fetch_sub(&st->readers, 1);
        }
        cr_assert_eq(al_rwlock_guard_unlock(&g), 0);
    }
    return NULL;
}

Test(rwlock, stress_no_overlap, .timeout = 60)
{
    static stress_t st;
    st.l = rw_new();
    st.per_thread = al_test_scale(50000) / THREADS;
    atomic_init(&st.readers, 0);
    atomic_init(&st.writers, 0);
    atomic_init(&st.violations, 0);
    pthread_t th[THREADS];
    targ_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        al_test_parker_init(&st.parkers[i]);
        args[i] = (targ_t){&st, i};
        cr_assert_eq(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&st.violations), 0);
    cr_assert_eq(al_rwlock_readers(st.l), 0);
    cr_assert_not(al_rwlock_is_write_locked(st.l));
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(atomic_load(&st.parkers[i].clones), 0);
        al_test_parker_destroy(&st.parkers[i]);
    }
    al_rwlock_unref(st.l);
}
