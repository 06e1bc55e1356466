/*
 * test_std_blocking.c — the blocking world: the std mutex really blocks the
 * thread (a contended lock returns only after the unlock), may be unlocked
 * from another thread, reports double unlock, keeps a counter exact under 8
 * threads; sleep and spin last at least as asked; and the events each emits
 * (LOCK_CONTEND with the holder, BLOCK_BEGIN/END with the kind and detail).
 * Also the async primitives' events, with the same capture.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_test_sync.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(std_blocking, lock_unlock_try_and_double_unlock)
{
    int v = 1;
    al_std_mutex_t *m = NULL;
    cr_assert_eq(al_std_mutex_new(&v, "std", &m), 0);
    al_std_mutex_guard_t g = {0}, g2 = {0};
    cr_assert_eq(al_std_mutex_lock(m, &g), 0);
    cr_assert(al_std_mutex_is_locked(m));
    cr_assert_eq(al_std_mutex_try_lock(m, &g2), AL_EWOULDBLOCK);
    cr_assert_eq(*al_std_mutex_guard_value(&g), &v);
    al_std_mutex_guard_t copy = g;
    cr_assert_eq(al_std_mutex_guard_unlock(&g), 0);
    cr_assert_eq(al_std_mutex_guard_unlock(&g), AL_ENOTHELD);
    cr_assert_eq(al_std_mutex_guard_unlock(&copy), AL_ENOTHELD);
    cr_assert_null(al_std_mutex_guard_value(&g));
    cr_assert_eq(al_std_mutex_try_lock(m, &g2), 0);
    cr_assert_eq(al_std_mutex_guard_unlock(&g2), 0);
    cr_assert_eq(al_std_mutex_lock(NULL, &g), AL_EINVAL);
    al_std_mutex_unref(m);
}

typedef struct blocker {
    al_std_mutex_t *m;
    atomic_int started, acquired;
    al_std_mutex_guard_t g;
} blocker_t;

static void *blocker_thread(void *arg)
{
    blocker_t *b = arg;
    atomic_store(&b->started, 1);
    al_std_mutex_lock(b->m, &b->g); /* blocks this OS thread */
    atomic_store(&b->acquired, 1);
    return NULL;
}

Test(std_blocking, contended_lock_blocks_until_unlock_from_another_thread)
{
    al_std_mutex_t *m = NULL;
    cr_assert_eq(al_std_mutex_new(NULL, NULL, &m), 0);
    al_std_mutex_guard_t g = {0};
    cr_assert_eq(al_std_mutex_lock(m, &g), 0);
    static blocker_t b;
    b.m = m;
    atomic_init(&b.started, 0);
    atomic_init(&b.acquired, 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, blocker_thread, &b), 0);
    while (!atomic_load(&b.started))
        sched_yield();
    al_thread_sleep_ns(20 * 1000000u); /* give it time to block (not for sync) */
    cr_assert_eq(atomic_load(&b.acquired), 0);
    cr_assert_eq(al_std_mutex_guard_unlock(&g), 0);
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&b.acquired), 1);
    /* the guard taken on the other thread is unlocked here */
    cr_assert_eq(al_std_mutex_guard_unlock(&b.g), 0);
    cr_assert_not(al_std_mutex_is_locked(m));
    al_std_mutex_unref(m);
}

#define THREADS 8
typedef struct cstress {
    al_std_mutex_t *m;
    long per_thread;
    long counter;
} cstress_t;

static void *counter_thread(void *arg)
{
    cstress_t *st = arg;
    for (long i = 0; i < st->per_thread; i++) {
        al_std_mutex_guard_t g = {0};
        al_std_mutex_lock(st->m, &g);
        (*(long *)*al_std_mutex_guard_value(&g))++;
        al_std_mutex_guard_unlock(&g);
    }
    return NULL;
}

Test(std_blocking, stress_counter_exact, .timeout = 60)
{
    static cstress_t st;
    st.counter = 0;
    cr_assert_eq(al_std_mutex_new(&st.counter, NULL, &st.m), 0);
    st.per_thread = al_test_scale(100000) / THREADS;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, counter_thread, &st), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(st.counter, st.per_thread * THREADS);
    al_std_mutex_unref(st.m);
}

Test(std_blocking, sleep_and_spin_take_their_time)
{
    uint64_t t0 = now_ns();
    al_thread_sleep_ns(5 * 1000000u);
    uint64_t t1 = now_ns();
    cr_assert_geq(t1 - t0, 5 * 1000000u);
    al_spin_ns(3 * 1000000u);
    cr_assert_geq(now_ns() - t1, 3 * 1000000u);
    al_thread_sleep_ns(0);
    al_spin_ns(0);
}

Test(std_blocking, events_block_begin_end_and_contend)
{
    static al_test_events_t rec;
    al_test_events_start(&rec);
    al_thread_sleep_ns(1500000u);
    int i = al_test_events_find(&rec, 0, AL_EV_BLOCK_BEGIN);
    cr_assert_geq(i, 0);
    cr_assert_eq(rec.ev[i].a, AL_BLOCK_THREAD_SLEEP);
    cr_assert_eq(rec.ev[i].b, 2); /* 1.5 ms rounds up */
    int j = al_test_events_find(&rec, i, AL_EV_BLOCK_END);
    cr_assert_gt(j, i);
    cr_assert_eq(rec.ev[j].a, AL_BLOCK_THREAD_SLEEP);

    al_spin_ns(1000000u);
    i = al_test_events_find(&rec, j, AL_EV_BLOCK_BEGIN);
    cr_assert_eq(rec.ev[i].a, AL_BLOCK_SPIN);
    cr_assert_eq(rec.ev[i].b, 1);
    cr_assert_gt(al_test_events_find(&rec, i, AL_EV_BLOCK_END), i);

    al_std_mutex_t *m = NULL;
    int from = rec.n;
    cr_assert_eq(al_std_mutex_new(NULL, "s", &m), 0);
    int c = al_test_events_find(&rec, from, AL_EV_RESOURCE_CREATE);
    cr_assert_eq(rec.ev[c].a, al_std_mutex_id(m));
    cr_assert_eq(rec.ev[c].b, AL_RES_STD_MUTEX);
    al_std_mutex_guard_t g = {0};
    al_std_mutex_lock(m, &g);
    cr_assert_geq(al_test_events_find(&rec, from, AL_EV_LOCK_ACQUIRE), 0);
    cr_assert_eq(al_test_events_find(&rec, from, AL_EV_LOCK_CONTEND), -1); /* uncontended */
    al_std_mutex_guard_unlock(&g);
    cr_assert_geq(al_test_events_find(&rec, from, AL_EV_LOCK_RELEASE), 0);
    al_std_mutex_unref(m);
    cr_assert_geq(al_test_events_find(&rec, from, AL_EV_RESOURCE_DROP), 0);
    al_test_events_stop();
}

typedef struct evblocker {
    al_test_events_t *rec;
    blocker_t b;
} evblocker_t;

static void *evblocker_thread(void *arg)
{
    evblocker_t *e = arg;
    al_test_events_enter(e->rec);
    blocker_thread(&e->b);
    al_test_events_stop();
    return NULL;
}

Test(std_blocking, contended_std_lock_emits_contend_and_block)
{
    static al_test_events_t rec;
    al_test_events_start(&rec);
    al_std_mutex_t *m = NULL;
    cr_assert_eq(al_std_mutex_new(NULL, NULL, &m), 0);
    al_std_mutex_guard_t g = {0};
    al_std_mutex_lock(m, &g);
    static evblocker_t e;
    e.rec = &rec;
    e.b.m = m;
    atomic_init(&e.b.started, 0);
    atomic_init(&e.b.acquired, 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, evblocker_thread, &e), 0);
    /* wait until the other thread reported it is blocking (event-driven) */
    while (al_test_events_find(&rec, 0, AL_EV_BLOCK_BEGIN) < 0)
        sched_yield();
    al_std_mutex_guard_unlock(&g);
    pthread_join(th, NULL);
    al_std_mutex_guard_unlock(&e.b.g);
    int c = al_test_events_find(&rec, 0, AL_EV_LOCK_CONTEND);
    int bb = al_test_events_find(&rec, 0, AL_EV_BLOCK_BEGIN);
    int be = al_test_events_find(&rec, 0, AL_EV_BLOCK_END);
    cr_assert(c >= 0 && c < bb && bb < be);
    cr_assert_eq(rec.ev[c].a, al_std_mutex_id(m));
    cr_assert_eq(rec.ev[bb].a, AL_BLOCK_STD_MUTEX);
    cr_assert_eq(rec.ev[bb].b, al_std_mutex_id(m));
    cr_assert_eq(rec.ev[bb].worker, AL_EV_NOT_WORKER);
    al_std_mutex_unref(m);
    al_test_events_stop();
}

Test(std_blocking, async_mutex_and_semaphore_events)
{
    static al_test_events_t rec;
    al_test_events_start(&rec);
    al_mutex_t *m = NULL;
    cr_assert_eq(al_mutex_new(NULL, "am", &m), 0);
    int c = al_test_events_find(&rec, 0, AL_EV_RESOURCE_CREATE);
    cr_assert_eq(rec.ev[c].b, AL_RES_MUTEX);
    al_mutex_guard_t g = {0};
    cr_assert_eq(al_mutex_try_lock(m, &g), 0);
    cr_assert_geq(al_test_events_find(&rec, 0, AL_EV_LOCK_ACQUIRE), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mutex_lock_t op;
    al_mutex_guard_t g2 = {0};
    al_mutex_lock_init(&op, m);
    cr_assert_eq(al_mutex_lock_poll(&op, &cx, &g2), AL_PENDING);
    int k = al_test_events_find(&rec, 0, AL_EV_LOCK_CONTEND);
    cr_assert_geq(k, 0);
    cr_assert_eq(rec.ev[k].a, al_mutex_id(m));
    cr_assert_eq(rec.ev[k].b, al_mutex_holder(m));
    cr_assert_eq(al_mutex_lock_poll(&op, &cx, &g2), AL_PENDING);
    cr_assert_eq(al_test_events_find(&rec, k + 1, AL_EV_LOCK_CONTEND), -1); /* once per wait */
    al_mutex_guard_unlock(&g);
    cr_assert_geq(al_test_events_find(&rec, k, AL_EV_LOCK_RELEASE), 0);
    cr_assert_eq(al_mutex_lock_poll(&op, &cx, &g2), AL_READY);
    al_mutex_lock_drop(&op);
    al_mutex_guard_unlock(&g2);
    al_mutex_unref(m);

    al_semaphore_t *s = NULL;
    int from = rec.n;
    cr_assert_eq(al_semaphore_new(4, NULL, &s), 0);
    al_sem_permit_t p = {0};
    cr_assert_eq(al_semaphore_try_acquire(s, 3, &p), 0);
    int a = al_test_events_find(&rec, from, AL_EV_SEM_ACQUIRE);
    cr_assert_eq(rec.ev[a].b, 3);
    al_sem_permit_release(&p);
    int r = al_test_events_find(&rec, a, AL_EV_SEM_RELEASE);
    cr_assert_eq(rec.ev[r].b, 3);
    al_semaphore_unref(s);
    al_test_events_stop();
}
