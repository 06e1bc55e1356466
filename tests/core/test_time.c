/*
 * test_time.c — the time driver (al_time_driver.c) and the time API
 * (al_time.c): sleeps polled by hand with the counting waker of al_test.h on
 * an al__time built directly (no driver, no runtime), with paused time so
 * every firing is deterministic:
 *   - a sleep wakes exactly when its (ms-rounded-up) deadline is reached, not
 *     one advance earlier, with an AL_WAKE_TIMER wake;
 *   - already-due sleeps complete in their first poll; cancel / drop before
 *     and after firing; waker replacement on re-poll; reset earlier / later /
 *     after firing;
 *   - shutdown fires everything with AL_ESHUTDOWN (and a fired sleep can be
 *     dropped even after its driver is freed);
 *   - interval (Burst catch-up) and timeout (inner wins ties);
 *   - next_timeout for real and paused clocks; auto-advance;
 *   - 100,000 timers (scaled) fire exactly once, each at the first advance
 *     that reaches its rounded deadline; cancelled ones never fire;
 *   - several threads register / re-poll / reset / cancel while another
 *     thread advances and fires (TSan);
 * and, on the real runtime (current-thread, start_paused), the context
 * errors, auto-advance through a one-hour sleep, and the timer events.
 * No sleep stands in for synchronization: threads wait on atomics that the
 * firing thread sets, and that thread keeps advancing until told to stop.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_time_driver.h"

#define MS UINT64_C(1000000)

static struct al__time *new_paused(void)
{
    struct al__time *t = NULL;
    cr_assert_eq(al__time_new(NULL, true, &t), 0);
    cr_assert(al__time_is_paused(t));
    return t;
}

/* ---- durations ------------------------------------------------------------------ */

Test(time, duration_from_ms_validates)
{
    uint64_t ns = 77;
    cr_assert_eq(al_duration_from_ms(0, &ns), 0);
    cr_assert_eq(ns, 0);
    cr_assert_eq(al_duration_from_ms(1.5, &ns), 0);
    cr_assert_eq(ns, 1500000);
    cr_assert_eq(al_duration_from_ms(0.0000004, &ns), 0);
    cr_assert_eq(ns, 0);
    cr_assert_eq(al_duration_from_ms(86400000.0, &ns), 0);
    cr_assert_eq(ns, UINT64_C(86400000000000));
    ns = 77;
    cr_assert_eq(al_duration_from_ms(NAN, &ns), AL_EINVAL);
    cr_assert_eq(al_duration_from_ms(-1, &ns), AL_EINVAL);
    cr_assert_eq(al_duration_from_ms(-INFINITY, &ns), AL_EINVAL);
    cr_assert_eq(al_duration_from_ms(INFINITY, &ns), AL_EINVAL);
    cr_assert_eq(al_duration_from_ms(1e300, &ns), AL_EINVAL);
    cr_assert_eq(al_duration_from_ms((double)AL_TIME_MAX_DURATION_NS / 1e6 * 1.01, &ns), AL_EINVAL);
    cr_assert_eq(ns, 77, "not written on error");
    cr_assert_eq(al_duration_from_ms((double)AL_TIME_MAX_DURATION_NS / 1e6 * 0.99, &ns), 0);
}

/* ---- sleep, by hand ------------------------------------------------------------- */

Test(time, sleep_wakes_exactly_when_due)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_sleep_t s;
    al__sleep_init_on(&s, t, t0 + 10 * MS);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);

    cr_assert_eq(al__time_next_timeout_ns(t), -1);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING);
    cr_assert_eq(al__time_registered(t), 1);
    cr_assert_eq(atomic_load(&tw.clones), 1);
    cr_assert_eq(al__time_next_timeout_ns(t), -1, "paused time never sleeps");
    cr_assert_eq(al__time_advance(t, 9 * MS), 0);
    cr_assert_eq(atomic_load(&tw.wakes), 0);
    cr_assert_not(al_sleep_is_elapsed(&s));
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING, "spurious poll is harmless");
    cr_assert_eq(atomic_load(&tw.clones), 1, "same waker: not cloned again");
    cr_assert_eq(al__time_advance(t, MS - 1), 0);
    cr_assert_eq(atomic_load(&tw.wakes), 0);
    cr_assert_eq(al__time_advance(t, 1), 0);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(atomic_load(&tw.last_kind), AL_WAKE_TIMER);
    cr_assert_eq(atomic_load(&tw.clones), 0, "the stored waker was consumed");
    cr_assert_eq(al__time_registered(t), 0);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY, "stays ready");
    cr_assert_eq(al_sleep_result(&s), 0);
    cr_assert_eq(al_sleep_deadline(&s), t0 + 10 * MS);
    cr_assert_neq(al_sleep_id(&s), 0);
    al_sleep_drop(&s);
    al_sleep_drop(&s); /* second drop: no-op */
    al__time_free(t);
}

Test(time, deadline_rounds_up_to_the_next_ms)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_sleep_t s;
    al__sleep_init_on(&s, t, t0 + MS + MS / 2);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING);
    al__time_advance(t, MS + MS / 2); /* the exact deadline: tick 1 < 2 */
    cr_assert_eq(atomic_load(&tw.wakes), 0);
    al__time_advance(t, MS / 2 - 1);
    cr_assert_eq(atomic_load(&tw.wakes), 0);
    al__time_advance(t, 1); /* tick 2 */
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
    al_sleep_drop(&s);
    al__time_free(t);
}

Test(time, past_deadline_is_ready_in_first_poll)
{
    struct al__time *t = new_paused();
    al__time_advance(t, 5 * MS);
    uint64_t now = al__time_now_ns(t);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    uint64_t deadlines[] = {now, now - 1, 0};
    for (size_t i = 0; i < AL_ARRAY_SIZE(deadlines); i++) {
        al_sleep_t s;
        al__sleep_init_on(&s, t, deadlines[i]);
        cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
        cr_assert_eq(al_sleep_result(&s), 0);
        cr_assert_eq(atomic_load(&tw.clones), 0);
        cr_assert_eq(al__time_registered(t), 0);
        al_sleep_drop(&s);
    }
    cr_assert_eq(atomic_load(&tw.wakes), 0);
    al__time_free(t);
}

Test(time, cancel_before_and_after_firing)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);

    al_sleep_t never; /* dropped without a poll */
    al__sleep_init_on(&never, t, t0 + MS);
    al_sleep_drop(&never);

    al_sleep_t a; /* cancelled while registered */
    al__sleep_init_on(&a, t, t0 + 3 * MS);
    cr_assert_eq(al_sleep_poll(&a, &cx), AL_PENDING);
    al_sleep_drop(&a);
    cr_assert_eq(atomic_load(&tw.clones), 0);
    cr_assert_eq(al__time_registered(t), 0);
    al__time_advance(t, 10 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 0, "a cancelled timer never wakes");

    al_sleep_t b; /* fired, dropped without the final poll */
    al__sleep_init_on(&b, t, t0 + 12 * MS);
    cr_assert_eq(al_sleep_poll(&b, &cx), AL_PENDING);
    al__time_advance(t, 2 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    al_sleep_drop(&b);
    cr_assert_eq(atomic_load(&tw.clones), 0);
    al__time_free(t);
}

Test(time, repoll_with_another_waker_replaces_it)
{
    struct al__time *t = new_paused();
    al_sleep_t s;
    al__sleep_init_on(&s, t, al__time_now_ns(t) + 2 * MS);
    al_test_waker_t wa, wb;
    al_context_t ca = al_test_context(&wa), cb = al_test_context(&wb);
    cr_assert_eq(al_sleep_poll(&s, &ca), AL_PENDING);
    cr_assert_eq(al_sleep_poll(&s, &cb), AL_PENDING);
    cr_assert_eq(atomic_load(&wa.clones), 0, "the old waker was released");
    cr_assert_eq(atomic_load(&wb.clones), 1);
    al__time_advance(t, 2 * MS);
    cr_assert_eq(atomic_load(&wa.wakes), 0);
    cr_assert_eq(atomic_load(&wb.wakes), 1);
    al_sleep_drop(&s);
    al__time_free(t);
}

Test(time, reset_earlier_later_and_after_firing)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_sleep_t s;
    al__sleep_init_on(&s, t, t0 + 10 * MS);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING);

    al_sleep_reset(&s, t0 + 5 * MS); /* earlier, while pending: no re-poll needed */
    al__time_advance(t, 5 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);

    al_sleep_reset(&s, t0 + 8 * MS); /* after firing: registers at the next poll */
    cr_assert_not(al_sleep_is_elapsed(&s));
    cr_assert_eq(al__time_registered(t), 0);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_PENDING);
    al_sleep_reset(&s, t0 + 20 * MS); /* later */
    al__time_advance(t, 10 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    al__time_advance(t, 5 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 2);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);

    al_sleep_reset(&s, t0); /* to the past: ready at the next poll */
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
    al_sleep_drop(&s);
    cr_assert_eq(atomic_load(&tw.clones), 0);
    al__time_free(t);
}

Test(time, shutdown_fires_everything_with_eshutdown)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    uint64_t d[] = {t0 + MS, t0 + 3600 * 1000 * MS, t0 + 10ull * 365 * 86400 * 1000 * MS};
    al_sleep_t s[3];
    for (int i = 0; i < 3; i++) {
        al__sleep_init_on(&s[i], t, d[i]);
        cr_assert_eq(al_sleep_poll(&s[i], &cx), AL_PENDING);
    }
    al_sleep_t late;
    al__sleep_init_on(&late, t, t0 + MS);
    cr_assert_eq(al__time_registered(t), 3);

    al__time_shutdown(t);
    cr_assert_eq(atomic_load(&tw.wakes), 3);
    cr_assert_eq(atomic_load(&tw.clones), 0);
    cr_assert_eq(al__time_registered(t), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(al_sleep_poll(&s[i], &cx), AL_READY);
        cr_assert_eq(al_sleep_result(&s[i]), AL_ESHUTDOWN);
    }
    cr_assert_eq(al_sleep_poll(&late, &cx), AL_READY, "first poll after shutdown");
    cr_assert_eq(al_sleep_result(&late), AL_ESHUTDOWN);
    al__time_free(t);
    /* Fired sleeps no longer refer to their driver: dropping them after it is
     * gone is safe (ASan checks). */
    for (int i = 0; i < 3; i++)
        al_sleep_drop(&s[i]);
    al_sleep_drop(&late);
}

Test(time, failed_init_is_inert)
{
    al_sleep_t s;
    al__sleep_init_failed(&s, AL_ENORUNTIME);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
    cr_assert_eq(al_sleep_result(&s), AL_ENORUNTIME);
    al_sleep_reset(&s, 5);
    cr_assert_eq(al_sleep_result(&s), AL_ENORUNTIME);
    al_sleep_drop(&s);
    /* Outside any runtime, the public init reports the context error. */
    al_sleep_t s2;
    cr_assert_eq(al_sleep_init(&s2, MS), AL_ENORUNTIME);
    cr_assert_eq(al_sleep_poll(&s2, &cx), AL_READY);
    cr_assert_eq(al_sleep_result(&s2), AL_ENORUNTIME);
    al_sleep_drop(&s2);
    al_timeout_t to;
    cr_assert_eq(al_timeout_init(&to, MS), AL_ENORUNTIME);
    cr_assert_eq(al_timeout_poll(&to, &cx, AL_PENDING), AL_PENDING, "no deadline: wait for work");
    cr_assert_eq(al_timeout_result(&to), AL_ENORUNTIME);
    al_timeout_drop(&to);
    cr_assert_eq(al_time_pause(), AL_ENORUNTIME);
    cr_assert_eq(al_time_advance(MS), AL_ENORUNTIME);
    cr_assert_eq(al_time_resume(), AL_ENORUNTIME);
    cr_assert_eq(atomic_load(&tw.clones), 0);
}

Test(time, polls_consume_coop_budget_and_refund_when_pending)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_sleep_t p, r;
    al__sleep_init_on(&p, t, t0 + MS);
    al__sleep_init_on(&r, t, t0);
    al__tls.coop = 3; /* as inside a task poll */
    cr_assert_eq(al_sleep_poll(&p, &cx), AL_PENDING);
    cr_assert_eq(al_coop_remaining(), 3, "pending: unit refunded");
    cr_assert_eq(al_sleep_poll(&r, &cx), AL_READY);
    cr_assert_eq(al_coop_remaining(), 2, "ready: one unit spent");
    cr_assert_eq(al_sleep_poll(&r, &cx), AL_READY);
    cr_assert_eq(al_coop_remaining(), 1, "every poll counts");
    al_timeout_t to;
    al__timeout_init_on(&to, t, t0 + MS);
    cr_assert_eq(al_timeout_poll(&to, &cx, AL_PENDING), AL_PENDING);
    cr_assert_eq(al_coop_remaining(), 1, "the timeout's check is free");
    al__tls.coop = -1;
    al_timeout_drop(&to);
    al_sleep_drop(&p);
    al_sleep_drop(&r);
    al__time_free(t);
}

/* ---- interval and timeout ------------------------------------------------------- */

Test(time, interval_first_tick_immediate_then_burst)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_interval_t it;
    cr_assert_eq(al__interval_init_on(&it, t, t0, 10 * MS), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    uint64_t tick = 0;
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_READY);
    cr_assert_eq(tick, t0);
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_PENDING);
    al__time_advance(t, 10 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_READY);
    cr_assert_eq(tick, t0 + 10 * MS);
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_PENDING);
    /* Fall behind by 3.5 periods: the missed ticks come at once (Burst). */
    al__time_advance(t, 35 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 2);
    for (uint64_t k = 2; k <= 4; k++) {
        cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_READY);
        cr_assert_eq(tick, t0 + k * 10 * MS, "the schedule never shifts");
    }
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_PENDING);
    al__time_advance(t, 5 * MS);
    cr_assert_eq(al_interval_tick(&it, &cx, NULL), AL_READY);
    /* reset re-bases: the next tick is one period from now */
    al_interval_reset(&it);
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_PENDING);
    al__time_advance(t, 10 * MS);
    cr_assert_eq(al_interval_tick(&it, &cx, &tick), AL_READY);
    cr_assert_eq(tick, t0 + 60 * MS);
    cr_assert_eq(al_interval_period(&it), 10 * MS);
    cr_assert_eq(al_interval_result(&it), 0);
    al_interval_drop(&it);
    cr_assert_eq(atomic_load(&tw.clones), 0);

    al_interval_t zero;
    cr_assert_eq(al__interval_init_on(&zero, t, t0, 0), AL_EINVAL);
    cr_assert_eq(al_interval_tick(&zero, &cx, NULL), AL_READY);
    cr_assert_eq(al_interval_result(&zero), AL_EINVAL);
    al_interval_drop(&zero);
    al__time_free(t);
}

Test(time, timeout_inner_wins_ties_and_deadline_elapses)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);

    al_timeout_t a; /* the inner future finishes in time */
    al__timeout_init_on(&a, t, t0 + 5 * MS);
    cr_assert_eq(al_timeout_poll(&a, &cx, AL_PENDING), AL_PENDING);
    cr_assert_eq(al_timeout_poll(&a, &cx, AL_READY), AL_READY);
    cr_assert_not(al_timeout_elapsed(&a));
    cr_assert_eq(al_timeout_result(&a), 0);
    al_timeout_drop(&a);
    cr_assert_eq(al__time_registered(t), 0, "dropping cancels the timer");

    al_timeout_t b; /* the deadline wins */
    al__timeout_init_on(&b, t, t0 + 5 * MS);
    cr_assert_eq(al_timeout_poll(&b, &cx, AL_PENDING), AL_PENDING);
    al__time_advance(t, 5 * MS);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(al_timeout_poll(&b, &cx, AL_PENDING), AL_READY);
    cr_assert(al_timeout_elapsed(&b));
    cr_assert_eq(al_timeout_result(&b), AL_ETIMEDOUT);
    al_timeout_drop(&b);

    al_timeout_t c; /* both ready: the inner result wins; panic passes through */
    al__timeout_init_on(&c, t, t0);
    cr_assert_eq(al_timeout_poll(&c, &cx, AL_READY), AL_READY);
    cr_assert_not(al_timeout_elapsed(&c));
    cr_assert_eq(al_timeout_poll(&c, &cx, AL_PANIC), AL_PANIC);
    al_timeout_drop(&c);
    cr_assert_eq(atomic_load(&tw.clones), 0);
    al__time_free(t);
}

/* ---- clocks ------------------------------------------------------------------------ */

Test(time, real_clock_next_timeout_and_firing)
{
    struct al__time *t = NULL;
    cr_assert_eq(al__time_new(NULL, false, &t), 0);
    cr_assert_not(al__time_is_paused(t));
    cr_assert_eq(al__time_next_timeout_ns(t), -1);
    uint64_t t0 = al__time_now_ns(t);
    al_sleep_t s;
    al__sleep_init_on(&s, t, t0 + 3 * MS);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    /* Pending, unless this thread lost the CPU for 3 ms since t0 (a loaded
     * machine): then the sleep is due at its first poll, which is right. */
    bool pending = al_sleep_poll(&s, &cx) == AL_PENDING;
    if (pending) {
        int64_t next = al__time_next_timeout_ns(t);
        cr_assert_gt(next, 0);
        cr_assert_leq(next, (int64_t)(4 * MS));
    }
    /* Drive it as the driver does: wait for the timeout, then process. */
    while (pending && atomic_load(&tw.wakes) == 0) {
        int64_t n = al__time_next_timeout_ns(t);
        cr_assert_geq(n, 0);
        if (n > 0) {
            struct timespec ts = {n / 1000000000, n % 1000000000};
            nanosleep(&ts, NULL);
        }
        al__time_process(t);
    }
    cr_assert_geq(al__time_now_ns(t), t0 + 3 * MS, "never early");
    cr_assert_eq(al_sleep_poll(&s, &cx), AL_READY);
    al_sleep_drop(&s);
    cr_assert_eq(al__time_next_timeout_ns(t), -1);
    /* pause / resume: the clock freezes, then continues without jumping back */
    cr_assert_eq(al__time_resume(t), AL_EBADSTATE);
    cr_assert_eq(al__time_advance(t, MS), AL_EBADSTATE);
    cr_assert_eq(al__time_pause(t), 0);
    cr_assert_eq(al__time_pause(t), AL_EBADSTATE);
    uint64_t frozen = al__time_now_ns(t);
    cr_assert_eq(al__time_now_ns(t), frozen);
    cr_assert_eq(al__time_advance(t, 3600 * 1000 * MS), 0);
    cr_assert_eq(al__time_resume(t), 0);
    cr_assert_geq(al__time_now_ns(t), frozen + 3600 * 1000 * MS);
    al__time_free(t);
}

Test(time, auto_advance_jumps_to_the_next_timer)
{
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    cr_assert_not(al__time_auto_advance(t), "nothing pending");
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_sleep_t a, b;
    al__sleep_init_on(&a, t, t0 + 100000 * MS); /* 100 s: level 2, cascades twice */
    al__sleep_init_on(&b, t, t0 + 200000 * MS);
    cr_assert_eq(al_sleep_poll(&a, &cx), AL_PENDING);
    cr_assert_eq(al_sleep_poll(&b, &cx), AL_PENDING);
    cr_assert(al__time_auto_advance(t));
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(al__time_now_ns(t), t0 + 100000 * MS, "jumped exactly to the deadline");
    cr_assert_eq(al_sleep_poll(&a, &cx), AL_READY);
    cr_assert(al__time_auto_advance(t));
    cr_assert_eq(al__time_now_ns(t), t0 + 200000 * MS);
    cr_assert_eq(al_sleep_poll(&b, &cx), AL_READY);
    cr_assert_not(al__time_auto_advance(t));
    al_sleep_drop(&a);
    al_sleep_drop(&b);
    al__time_free(t);
}

/* ---- 100,000 timers ------------------------------------------------------------------- */

typedef struct rec {
    al_sleep_t s;
    uint64_t due;      /* the deadline rounded up to the wheel's ms */
    uint64_t fired_at; /* clock when woken */
    uint64_t prev_at;  /* clock before the advance that woke it */
    int wakes;
    bool cancelled;
} rec_t;

static uint64_t cur_clock, prev_clock;

static void *rec_clone(void *d)
{
    return d;
}
static void rec_wake_by_ref(void *d, al_wake_src_t src)
{
    rec_t *r = d;
    cr_assert_eq(src.kind, AL_WAKE_TIMER);
    cr_assert_eq(src.resource, al_sleep_id(&r->s));
    r->wakes++;
    r->fired_at = cur_clock;
    r->prev_at = prev_clock;
}
static void rec_wake(void *d, al_wake_src_t src)
{
    rec_wake_by_ref(d, src);
}
static void rec_drop(void *d)
{
    (void)d;
}
static const al_waker_vtable_t rec_vt = {rec_clone, rec_wake, rec_wake_by_ref, rec_drop};

static uint64_t lcg(uint64_t *x)
{
    *x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *x >> 17;
}

Test(time, hundred_thousand_timers_fire_exactly_once_on_time, .timeout = 120)
{
    long n = al_test_scale(100000);
    rec_t *r = calloc((size_t)n, sizeof *r);
    cr_assert_not_null(r);
    struct al__time *t = new_paused();
    uint64_t t0 = al__time_now_ns(t);
    uint64_t x = 42;
    for (long i = 0; i < n; i++) {
        uint64_t off = 1 + lcg(&x) % (10000 * MS); /* up to 10 s, any ns */
        al__sleep_init_on(&r[i].s, t, t0 + off);
        r[i].due = t0 + (off + MS - 1) / MS * MS;
        al_context_t cx = {.waker = {&rec_vt, &r[i]}};
        cr_assert_eq(al_sleep_poll(&r[i].s, &cx), AL_PENDING);
    }
    for (long i = 0; i < n; i += 10) { /* cancel 10% before they fire */
        al_sleep_drop(&r[i].s);
        r[i].cancelled = true;
    }
    cur_clock = t0;
    while (al__time_registered(t) > 0) {
        uint64_t step = lcg(&x) % (7 * MS); /* 0..7 ms, any ns */
        prev_clock = cur_clock;
        cur_clock += step;
        cr_assert_eq(al__time_advance(t, step), 0);
        cr_assert_eq(al__time_now_ns(t), cur_clock);
    }
    for (long i = 0; i < n; i++) {
        if (r[i].cancelled) {
            cr_assert_eq(r[i].wakes, 0);
            continue;
        }
        cr_assert_eq(r[i].wakes, 1, "timer %ld woke %d times", i, r[i].wakes);
        cr_assert_geq(r[i].fired_at, r[i].due, "timer %ld fired early", i);
        cr_assert_lt(r[i].prev_at, r[i].due, "timer %ld fired late", i);
        al_context_t cx = {.waker = {&rec_vt, &r[i]}};
        cr_assert_eq(al_sleep_poll(&r[i].s, &cx), AL_READY);
        al_sleep_drop(&r[i].s);
    }
    al__time_free(t);
    free(r);
}

/* ---- threads -------------------------------------------------------------------------- */

typedef struct stress {
    struct al__time *t;
    atomic_bool stop;
    atomic_long fired, cancelled;
    long iters;
    int seed;
} stress_t;

static void *stress_firer(void *p)
{
    stress_t *st = p;
    bool paused = al__time_is_paused(st->t);
    while (!atomic_load(&st->stop)) {
        if (paused)
            al__time_advance(st->t, MS / 2);
        else
            al__time_process(st->t);
        (void)al__time_next_timeout_ns(st->t);
        sched_yield();
    }
    return NULL;
}

typedef struct worker_arg {
    stress_t *st;
    int id;
} worker_arg_t;

static void *stress_worker(void *p)
{
    worker_arg_t *wa = p;
    stress_t *st = wa->st;
    uint64_t x = (uint64_t)wa->id * 7919 + (uint64_t)st->seed;
    for (long i = 0; i < st->iters; i++) {
        al_sleep_t s;
        al__sleep_init_on(&s, st->t, al__time_now_ns(st->t) + lcg(&x) % (3 * MS));
        al_test_waker_t w1, w2;
        al_context_t c1 = al_test_context(&w1), c2 = al_test_context(&w2);
        unsigned what = (unsigned)(lcg(&x) % 4);
        if (al_sleep_poll(&s, &c1) == AL_READY) {
            al_sleep_drop(&s);
            continue;
        }
        if (what == 0) { /* cancel, racing with the firer */
            al_sleep_drop(&s);
            /* If the firer took the waker first, its wake may still be in
             * flight: the waker lives on this stack, so wait for it. */
            while (atomic_load(&w1.clones) != 0)
                sched_yield();
            cr_assert_leq(atomic_load(&w1.wakes), 1);
            atomic_fetch_add(&st->cancelled, 1);
            continue;
        }
        if (what == 1) /* re-poll with another waker, racing with the firer */
            (void)al_sleep_poll(&s, &c2);
        if (what == 2) /* move the deadline, racing with the firer */
            al_sleep_reset(&s, al__time_now_ns(st->t) + lcg(&x) % (2 * MS));
        /* Wait for the wake (the firer keeps advancing) to be over — al_test.h
         * counts wakes before releasing the clone — then complete. */
        for (;;) {
            if (atomic_load(&w1.wakes) + atomic_load(&w2.wakes) > 0 &&
                atomic_load(&w1.clones) + atomic_load(&w2.clones) == 0 &&
                al_sleep_poll(&s, what == 1 ? &c2 : &c1) == AL_READY)
                break;
            sched_yield();
        }
        cr_assert_eq(al_sleep_result(&s), 0);
        al_sleep_drop(&s);
        cr_assert_eq(atomic_load(&w1.clones), 0);
        cr_assert_eq(atomic_load(&w2.clones), 0);
        atomic_fetch_add(&st->fired, 1);
    }
    return NULL;
}

static void run_stress(bool paused)
{
    stress_t st = {.iters = al_test_scale(4000), .seed = paused ? 1 : 2};
    cr_assert_eq(al__time_new(NULL, paused, &st.t), 0);
    pthread_t firer, workers[4];
    worker_arg_t args[4];
    pthread_create(&firer, NULL, stress_firer, &st);
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg_t){&st, i + 1};
        pthread_create(&workers[i], NULL, stress_worker, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(workers[i], NULL);
    atomic_store(&st.stop, true);
    pthread_join(firer, NULL);
    cr_assert_eq(al__time_registered(st.t), 0);
    cr_assert_gt(atomic_load(&st.fired), 0);
    al__time_free(st.t);
}

Test(time, concurrent_register_cancel_while_firing_paused, .timeout = 120)
{
    run_stress(true);
}

Test(time, concurrent_register_cancel_while_firing_real_clock, .timeout = 120)
{
    run_stress(false);
}

/* ---- on the real runtime ------------------------------------------------------------ */

typedef struct sleeper {
    uint64_t dur;
    bool init, pause_first;
    int init_rc, pause_rc, pause_again_rc, resume_rc;
    uint64_t start_clock, end_clock;
    al_sleep_t s;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *sl = f;
    if (!sl->init) {
        sl->init = true;
        if (sl->pause_first) {
            sl->pause_rc = al_time_pause();
            sl->pause_again_rc = al_time_pause();
        }
        sl->start_clock = al_time_now_ns();
        sl->init_rc = al_sleep_init(&sl->s, sl->dur);
    }
    if (al_sleep_poll(&sl->s, cx) == AL_PENDING)
        return AL_PENDING;
    sl->end_clock = al_time_now_ns();
    if (sl->pause_first)
        sl->resume_rc = al_time_resume();
    *(int *)out = al_sleep_result(&sl->s);
    return AL_READY;
}

static void sleeper_drop(void *f)
{
    sleeper_t *sl = f;
    if (sl->init)
        al_sleep_drop(&sl->s);
}

static const al_future_vtable_t sleeper_vt = {.type_name = "sleeper",
                                              .poll = sleeper_poll,
                                              .drop = sleeper_drop,
                                              .future_size = sizeof(sleeper_t),
                                              .output_size = sizeof(int)};

static al_runtime_t *rt_new(al_flavor_t flavor, bool time, bool paused)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, flavor);
    if (flavor == AL_MULTI_THREAD)
        cfg.worker_threads = 2;
    cfg.enable_time = time;
    cfg.start_paused = paused;
    al_runtime_t *rt = NULL;
    cr_assert_eq(al_runtime_new(&cfg, &rt), 0);
    return rt;
}

static int run_sleeper(al_runtime_t *rt, sleeper_t *sl)
{
    int out = -1;
    cr_assert_eq(al_runtime_block_on(rt, &sleeper_vt, sl, &out, NULL), 0);
    return out;
}

Test(time_rt, start_paused_auto_advances_through_an_hour, .timeout = 60)
{
    al_runtime_t *rt = rt_new(AL_CURRENT_THREAD, true, true);
    sleeper_t sl = {.dur = UINT64_C(3600) * 1000 * MS};
    uint64_t real0 = al__now_ns();
    cr_assert_eq(run_sleeper(rt, &sl), 0);
    cr_assert_eq(sl.init_rc, 0);
    cr_assert_geq(sl.end_clock - sl.start_clock, sl.dur, "the paused clock moved an hour");
    cr_assert_lt(sl.end_clock - sl.start_clock, sl.dur + 2 * MS);
    cr_assert_lt(al__now_ns() - real0, UINT64_C(10) * 1000 * MS, "without waiting an hour");
    al_runtime_free(rt);
}

Test(time_rt, pause_inside_a_task_then_resume, .timeout = 60)
{
    al_runtime_t *rt = rt_new(AL_CURRENT_THREAD, true, false);
    sleeper_t sl = {.dur = UINT64_C(600) * 1000 * MS, .pause_first = true};
    cr_assert_eq(run_sleeper(rt, &sl), 0);
    cr_assert_eq(sl.pause_rc, 0);
    cr_assert_eq(sl.pause_again_rc, AL_EBADSTATE);
    cr_assert_eq(sl.resume_rc, 0);
    cr_assert_geq(sl.end_clock - sl.start_clock, sl.dur);
    al_runtime_free(rt);
}

Test(time_rt, real_sleeps_on_both_flavors, .timeout = 60)
{
    al_flavor_t fl[] = {AL_CURRENT_THREAD, AL_MULTI_THREAD};
    for (int i = 0; i < 2; i++) {
        al_runtime_t *rt = rt_new(fl[i], true, false);
        sleeper_t sl = {.dur = 20 * MS};
        uint64_t real0 = al__now_ns();
        cr_assert_eq(run_sleeper(rt, &sl), 0);
        uint64_t took = al__now_ns() - real0;
        cr_assert_geq(took, 20 * MS, "never early");
        cr_assert_lt(took, 5000 * MS);
        al_runtime_free(rt);
    }
}

Test(time_rt, context_errors, .timeout = 60)
{
    al_runtime_t *rt = rt_new(AL_CURRENT_THREAD, false, false);
    sleeper_t sl = {.dur = MS};
    cr_assert_eq(run_sleeper(rt, &sl), AL_ETIMEDISABLED);
    cr_assert_eq(sl.init_rc, AL_ETIMEDISABLED);
    al_runtime_free(rt);

    rt = rt_new(AL_MULTI_THREAD, true, false);
    sleeper_t mt = {.dur = MS, .pause_first = true};
    cr_assert_eq(run_sleeper(rt, &mt), 0);
    cr_assert_eq(mt.pause_rc, AL_EINVAL, "test time needs a current-thread runtime");
    cr_assert_eq(mt.resume_rc, AL_EINVAL);
    al_runtime_free(rt);
}

/* Two sleeps: when the short one fires, the long one is dropped (cancelled). */
typedef struct pair {
    bool init;
    al_sleep_t a, b;
    uint64_t id_a, id_b;
} pair_t;

static al_poll_t pair_poll(void *f, al_context_t *cx, void *out)
{
    pair_t *p = f;
    if (!p->init) {
        p->init = true;
        cr_assert_eq(al_sleep_init(&p->a, 5 * MS), 0);
        cr_assert_eq(al_sleep_init(&p->b, UINT64_C(3600) * 1000 * MS), 0);
        p->id_a = al_sleep_id(&p->a);
        p->id_b = al_sleep_id(&p->b);
        cr_assert_eq(al_sleep_poll(&p->b, cx), AL_PENDING);
    }
    if (al_sleep_poll(&p->a, cx) == AL_PENDING)
        return AL_PENDING;
    al_sleep_drop(&p->b);
    al_sleep_drop(&p->a);
    p->init = false;
    *(int *)out = 0;
    return AL_READY;
}

static const al_future_vtable_t pair_vt = {.type_name = "pair",
                                           .poll = pair_poll,
                                           .future_size = sizeof(pair_t),
                                           .output_size = sizeof(int)};

typedef struct ev_rec {
    pthread_mutex_t mu;
    int n;
    al_event_t evs[256]; /* timer events only */
} ev_rec_t;

static void ev_hook(void *user, const al_event_t *ev)
{
    ev_rec_t *r = user;
    if (ev->kind != AL_EV_TIMER_REGISTER && ev->kind != AL_EV_TIMER_FIRE &&
        ev->kind != AL_EV_TIMER_CANCEL)
        return;
    pthread_mutex_lock(&r->mu);
    if (r->n < 256)
        r->evs[r->n++] = *ev;
    pthread_mutex_unlock(&r->mu);
}

static int ev_count(ev_rec_t *r, unsigned kind, uint64_t id)
{
    int c = 0;
    for (int i = 0; i < r->n; i++)
        c += r->evs[i].kind == kind && r->evs[i].a == id;
    return c;
}

Test(time_rt, timer_events, .timeout = 60)
{
    al_runtime_t *rt = rt_new(AL_CURRENT_THREAD, true, true);
    ev_rec_t r = {.mu = PTHREAD_MUTEX_INITIALIZER};
    al_runtime_set_hook(rt, ev_hook, &r);
    pair_t p = {0};
    int out = -1;
    cr_assert_eq(al_runtime_block_on(rt, &pair_vt, &p, &out, NULL), 0);
    al_runtime_set_hook(rt, NULL, NULL);
    cr_assert_neq(p.id_a, p.id_b);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_REGISTER, p.id_a), 1);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_FIRE, p.id_a), 1);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_CANCEL, p.id_a), 0);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_REGISTER, p.id_b), 1);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_FIRE, p.id_b), 0);
    cr_assert_eq(ev_count(&r, AL_EV_TIMER_CANCEL, p.id_b), 1);
    for (int i = 0; i < r.n; i++)
        if (r.evs[i].kind == AL_EV_TIMER_REGISTER && r.evs[i].a == p.id_a)
            cr_assert_eq(r.evs[i].b, al_sleep_deadline(&p.a), "deadline on the runtime clock");
    al_runtime_free(rt);
}

Test(time_rt, shutdown_reports_the_timers_it_cancelled, .timeout = 60)
{
    al_runtime_t *rt = rt_new(AL_MULTI_THREAD, true, false);
    enum { N = 10 };
    for (int i = 0; i < N; i++) {
        sleeper_t sl = {.dur = UINT64_C(3600) * 1000 * MS};
        cr_assert_eq(al_spawn(rt, &sleeper_vt, &sl, NULL, NULL), 0);
    }
    /* Wait until every sleeper has been polled and armed its timer. */
    while (al__time_registered(al__runtime_time(rt)) < N)
        sched_yield();
    al_shutdown_report_t rep;
    cr_assert_eq(al_runtime_shutdown(rt, 5000, &rep), 0);
    cr_assert_eq(rep.timers_cancelled, N);
    cr_assert_eq(rep.tasks_cancelled, N);
    cr_assert_eq(al__time_registered(al__runtime_time(rt)), 0);
    al_runtime_free(rt);
}
