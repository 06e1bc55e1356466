/*
 * test_driver.c — the driver idle workers park in (al_driver.c): unpark from
 * another thread, coalescing of unparks, timeouts, the try-lock.
 *
 * A bare driver is built with neither timers nor I/O, so these tests need no
 * runtime. No sleep is used as synchronization: a parked thread is released
 * only by an unpark, and the test joins it.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "al_driver.h"
#include "al_io.h"
#include "al_test.h"
#include "al_time_driver.h"

/* Until the timer wheel lands, the driver's calls into it link against these
 * no-ops (weak: the real al_time_driver.c wins). "Created" as NULL, a runtime
 * built with enable_time then behaves as if timers were disabled. */
__attribute__((weak)) int al__time_new(struct al__driver *d, bool start_paused,
                                       struct al__time **out)
{
    (void)d;
    (void)start_paused;
    *out = NULL;
    return 0;
}
__attribute__((weak)) void al__time_free(struct al__time *t)
{
    (void)t;
}
__attribute__((weak)) int64_t al__time_next_timeout_ns(struct al__time *t)
{
    (void)t;
    return -1;
}
__attribute__((weak)) void al__time_process(struct al__time *t)
{
    (void)t;
}
__attribute__((weak)) void al__time_shutdown(struct al__time *t)
{
    (void)t;
}

static al__driver_t drv;

static void drv_setup(void)
{
    cr_assert_eq(al__driver_init(&drv, NULL, false, false, false), 0);
}
static void drv_teardown(void)
{
    al__driver_destroy(&drv);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Helper threads never assert (Criterion's asserts belong to the test's own
 * thread); they record what they saw and the test checks it after the join. */
typedef struct parker {
    al__driver_t *d;
    atomic_bool about_to_park;
    int reason;
} parker_t;

static void *park_forever(void *arg)
{
    parker_t *p = arg;
    if (!al__driver_try_acquire(p->d)) {
        p->reason = -2;
        atomic_store(&p->about_to_park, true);
        return NULL;
    }
    atomic_store(&p->about_to_park, true);
    p->reason = al__driver_park(p->d, -1);
    al__driver_release(p->d);
    return NULL;
}

Test(driver, unpark_from_another_thread_wakes_parked_thread, .init = drv_setup,
     .fini = drv_teardown)
{
    parker_t p = {.d = &drv, .reason = -1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, park_forever, &p), 0);
    while (!atomic_load(&p.about_to_park))
        sched_yield();
    /* Whether it is already in epoll_wait or not, the wake is not lost. */
    al__driver_unpark(&drv);
    pthread_join(t, NULL);
    cr_assert_eq(p.reason, AL_UNPARK_NOTIFIED);
    cr_assert_not(atomic_load(&drv.wake_pending), "the park consumed the wake");
}

Test(driver, unpark_before_park_is_not_lost, .init = drv_setup, .fini = drv_teardown)
{
    al__driver_unpark(&drv);
    cr_assert(al__driver_try_acquire(&drv));
    cr_assert_eq(al__driver_park(&drv, -1), AL_UNPARK_NOTIFIED);
    cr_assert_eq(al__driver_park(&drv, 0), AL_UNPARK_SPURIOUS, "the wake is consumed once");
    al__driver_release(&drv);
}

static void *unpark_many(void *arg)
{
    al__driver_t *d = arg;
    for (int i = 0; i < 10000; i++)
        al__driver_unpark(d);
    return NULL;
}

Test(driver, many_unparks_coalesce_into_one_eventfd_write, .init = drv_setup, .fini = drv_teardown)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, unpark_many, &drv);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* 40000 unparks, nobody parked: exactly one write to the eventfd. */
    uint64_t v = 0;
    cr_assert_eq(read(drv.wakefd, &v, sizeof v), (ssize_t)sizeof v);
    cr_assert_eq(v, 1);
    cr_assert(atomic_load(&drv.wake_pending));
    /* Put the write back and let park drain it the normal way. */
    cr_assert_eq(write(drv.wakefd, &v, sizeof v), (ssize_t)sizeof v);
    cr_assert(al__driver_try_acquire(&drv));
    cr_assert_eq(al__driver_park(&drv, -1), AL_UNPARK_NOTIFIED);
    cr_assert_eq(al__driver_park(&drv, 0), AL_UNPARK_SPURIOUS);
    al__driver_release(&drv);
    /* And the next unpark writes again. */
    al__driver_unpark(&drv);
    cr_assert(al__driver_try_acquire(&drv));
    cr_assert_eq(al__driver_park(&drv, -1), AL_UNPARK_NOTIFIED);
    al__driver_release(&drv);
}

/* Unparks racing with a thread that parks and re-parks: every round ends. */
typedef struct pingpong {
    al__driver_t *d;
    atomic_int round;
    int rounds;
} pingpong_t;

static void *park_rounds(void *arg)
{
    pingpong_t *pp = arg;
    for (int r = 1; r <= pp->rounds; r++) {
        while (!al__driver_try_acquire(pp->d))
            ;                               /* nobody else holds it: cannot happen */
        while (atomic_load(&pp->round) < r) /* park until round r was published */
            al__driver_park(pp->d, -1);
        al__driver_release(pp->d);
    }
    return NULL;
}

Test(driver, no_lost_unpark_under_races, .init = drv_setup, .fini = drv_teardown)
{
    pingpong_t pp = {.d = &drv, .rounds = (int)al_test_scale(20000)};
    pthread_t t;
    pthread_create(&t, NULL, park_rounds, &pp);
    for (int r = 1; r <= pp.rounds; r++) {
        atomic_store(&pp.round, r);
        al__driver_unpark(&drv);
        if (r % 64 == 0)
            sched_yield();
    }
    pthread_join(t, NULL); /* hangs (Criterion timeout) if a wake is lost */
}

Test(driver, park_with_timeout_returns_after_timeout, .init = drv_setup, .fini = drv_teardown)
{
    cr_assert(al__driver_try_acquire(&drv));
    uint64_t t0 = now_ns();
    cr_assert_eq(al__driver_park(&drv, 20 * 1000000), AL_UNPARK_TIMER);
    cr_assert_geq(now_ns() - t0, 20 * 1000000u);
    /* A timeout below 1 ms is rounded up, never down to a busy poll. */
    t0 = now_ns();
    cr_assert_eq(al__driver_park(&drv, 1500 * 1000), AL_UNPARK_TIMER);
    cr_assert_geq(now_ns() - t0, 1500 * 1000u);
    /* Zero: just poll. */
    cr_assert_eq(al__driver_park(&drv, 0), AL_UNPARK_SPURIOUS);
    al__driver_release(&drv);
}

static void *try_acquire_other(void *arg)
{
    return (void *)(intptr_t)al__driver_try_acquire(arg);
}

Test(driver, try_acquire_is_exclusive, .init = drv_setup, .fini = drv_teardown)
{
    cr_assert(al__driver_try_acquire(&drv));
    cr_assert_not(al__driver_try_acquire(&drv));
    pthread_t t;
    void *got;
    pthread_create(&t, NULL, try_acquire_other, &drv);
    pthread_join(t, &got);
    cr_assert_eq((intptr_t)got, 0, "another thread cannot take a held driver");
    al__driver_release(&drv);
    pthread_create(&t, NULL, try_acquire_other, &drv);
    pthread_join(t, &got);
    cr_assert_eq((intptr_t)got, 1);
    cr_assert_not(al__driver_try_acquire(&drv));
    al__driver_release(&drv);
}

/* Many threads race for the driver; the holder's section is never shared. */
typedef struct contend {
    al__driver_t *d;
    atomic_int inside;
    atomic_int overlaps; /* times two threads were inside at once */
    long count;          /* plain: protected by the driver's try-lock */
    int iters;
} contend_t;

static void *contend_thread(void *arg)
{
    contend_t *c = arg;
    for (int done = 0; done < c->iters;) {
        if (!al__driver_try_acquire(c->d))
            continue;
        if (atomic_fetch_add(&c->inside, 1) != 0)
            atomic_fetch_add(&c->overlaps, 1);
        c->count++;
        al__driver_park(c->d, 0);
        atomic_fetch_sub(&c->inside, 1);
        al__driver_release(c->d);
        done++;
    }
    return NULL;
}

Test(driver, try_acquire_under_contention, .init = drv_setup, .fini = drv_teardown)
{
    contend_t c = {.d = &drv, .iters = (int)al_test_scale(5000)};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, contend_thread, &c);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&c.overlaps), 0);
    cr_assert_eq(c.count, 4L * c.iters);
}

Test(driver, shutdown_unparks_and_reports_shutdown)
{
    al__driver_t d;
    cr_assert_eq(al__driver_init(&d, NULL, false, true, false), 0);
    cr_assert_not_null(d.io);
    parker_t p = {.d = &d, .reason = -1};
    pthread_t t;
    pthread_create(&t, NULL, park_forever, &p);
    while (!atomic_load(&p.about_to_park))
        sched_yield();
    al__driver_shutdown(&d);
    pthread_join(t, NULL);
    cr_assert_eq(p.reason, AL_UNPARK_SHUTDOWN);
    cr_assert(al__io_is_shutdown(d.io));
    al__driver_destroy(&d);
}
