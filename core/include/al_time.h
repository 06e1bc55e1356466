/*
 * al_time.h — time: sleep, sleep_until, interval, timeout, the runtime clock,
 * and paused test time (as Tokio's test-util).
 *
 * Every time primitive is a sub-future (see al_future.h): a struct the caller
 * embeds in its own future, with _init / _poll / _drop. Rules shared by all:
 *   - _init computes the deadline and finds the current runtime's time driver;
 *     nothing is registered until the first poll (lazy, like Tokio's Sleep);
 *   - once polled, the struct must not move until it is dropped (the timer
 *     wheel links it in place);
 *   - _drop is safe at any point: never polled, pending (the timer is
 *     cancelled: TIMER_CANCEL), fired, after a failed _init, after the
 *     runtime's shutdown or even after al_runtime_free (a fired timer no longer
 *     refers to its runtime). Call it exactly once per _init, before the
 *     memory is reused; afterwards the struct may be initialised again;
 *   - every poll consumes one unit of cooperative budget (al_coop_poll_proceed)
 *     and refunds it when it returns AL_PENDING.
 *
 * Clock. Deadlines are absolute nanoseconds on the runtime's clock
 * (al_time_now_ns): CLOCK_MONOTONIC, or the frozen clock while time is paused.
 * The wheel has 1 ms resolution: a deadline is rounded UP to the wheel's next
 * whole millisecond, so a timer never fires early and a 1 ms sleep takes
 * between 1 and 2 ms (plus scheduling latency). A sleep whose deadline has
 * already passed when it is first polled completes in that poll.
 *
 * Errors of the _init functions (context errors worded as Tokio's, see
 * al_strerror; lesson C2): AL_ENORUNTIME outside a runtime, AL_ESHUTDOWN when
 * it is shutting down, AL_ETIMEDISABLED when it was built without enable_time.
 * After a failed _init the struct is inert but valid: polling it returns
 * AL_READY at once and al_*_result() repeats the error; _drop is a no-op.
 *
 * Shutdown. When the runtime shuts down, every registered timer is fired; a
 * sleep woken that way, or first polled afterwards, completes with
 * al_sleep_result() == AL_ESHUTDOWN.
 *
 * Example (a future that sleeps 10 ms):
 *
 *     typedef struct { al_sleep_t s; bool init; } nap_t;
 *     static al_poll_t nap_poll(void *f, al_context_t *cx, void *out) {
 *         nap_t *n = f;
 *         if (!n->init) { al_sleep_init(&n->s, 10 * 1000000); n->init = true; }
 *         if (al_sleep_poll(&n->s, cx) == AL_PENDING) return AL_PENDING;
 *         *(int *)out = al_sleep_result(&n->s);     // 0, or why not
 *         return AL_READY;
 *     }
 *     static void nap_drop(void *f) { nap_t *n = f; if (n->init) al_sleep_drop(&n->s); }
 */
#ifndef AL_TIME_H
#define AL_TIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "al_future.h"

/* The longest duration accepted by al_duration_from_ms: 2^62 ns, ~146 years. */
#define AL_TIME_MAX_DURATION_NS (UINT64_C(1) << 62)

/*
 * Milliseconds (a Lua number, fractions allowed) to nanoseconds, rounded to
 * the nearest ns. Errors: AL_EINVAL for NaN, negative, infinite, or more than
 * AL_TIME_MAX_DURATION_NS. *ns is written only on success.
 */
int al_duration_from_ms(double ms, uint64_t *ns);

/* The current runtime's clock in ns (the frozen clock while time is paused);
 * CLOCK_MONOTONIC when this thread is in no runtime or its timers are
 * disabled. Never fails. */
uint64_t al_time_now_ns(void);

/* ---- private: storage embedded in the public structs (do not touch) ---- */

struct al__time;

/* The intrusive node linking a timer into the wheel (al_time_wheel.h). */
typedef struct al__wheel_entry {
    struct al__wheel_entry *next, *prev;
    uint64_t tick; /* deadline in wheel ticks (ms since the wheel's origin) */
    uint8_t where; /* level 0..5, or AL__WHEEL_PENDING / _OVERFLOW / _UNLINKED */
    uint8_t slot;  /* slot within the level */
} al__wheel_entry_t;

/* ---- sleep ---- */

typedef struct al_sleep {
    /* All private; the protocol is described in al_time_driver.c. */
    al__wheel_entry_t _node; /* guarded by the time driver's lock */
    al_waker_t _waker;       /* guarded by the lock while registered */
    struct al__time *_time;  /* NULL when _init failed */
    uint64_t _deadline_ns;   /* runtime clock */
    uint64_t _id;            /* timer id (events, wake source) */
    uint64_t _task;          /* task that registered it (events) */
    _Atomic int _state;      /* unregistered / registered / fired */
    int _result;             /* 0, AL_ESHUTDOWN, or the _init error */
} al_sleep_t;

/* A sleep of dur_ns from now on the runtime's clock (saturating). */
int al_sleep_init(al_sleep_t *s, uint64_t dur_ns);
/* A sleep until deadline_ns on the runtime's clock (past: ready at first poll). */
int al_sleep_until_init(al_sleep_t *s, uint64_t deadline_ns);
/*
 * AL_READY once the deadline has passed (or on shutdown / after a failed
 * init: see al_sleep_result); else AL_PENDING, having registered the timer or
 * updated its waker. Emits TIMER_REGISTER on the poll that registers and
 * TIMER_FIRE when the timer completes; the wake carries
 * AL_WAKE_SRC(AL_WAKE_TIMER, timer id). Polling again after READY is allowed
 * and stays READY (until al_sleep_reset).
 */
al_poll_t al_sleep_poll(al_sleep_t *s, al_context_t *cx);
/* Cancel (TIMER_CANCEL if it was registered and had not fired) and release
 * the waker. Safe at any point (see the rules above). */
void al_sleep_drop(al_sleep_t *s);
/* After AL_READY: 0 (the deadline passed), AL_ESHUTDOWN, or the _init error. */
int al_sleep_result(const al_sleep_t *s);
/* True once the sleep has completed (deadline, shutdown, or failed init). */
bool al_sleep_is_elapsed(const al_sleep_t *s);
uint64_t al_sleep_deadline(const al_sleep_t *s);
/* The timer id used in events and wake sources (0 after a failed init). */
uint64_t al_sleep_id(const al_sleep_t *s);
/*
 * Move the deadline (earlier or later), before or after completion; same id.
 * A pending sleep is re-registered at once and keeps its waker: the waiting
 * task is woken at the new deadline without having to poll in between. A
 * completed or never-polled sleep registers at its next poll. No-op after a
 * failed init; after a shutdown the next poll reports AL_ESHUTDOWN.
 */
void al_sleep_reset(al_sleep_t *s, uint64_t deadline_ns);

/* ---- interval ---- */

/*
 * Ticks at start, start + period, start + 2*period, ...; the first tick
 * completes immediately (start = now at init).
 *
 * Missed ticks: Burst, Tokio's default MissedTickBehavior. When the caller
 * falls behind (polls a tick late, e.g. after blocking), the missed ticks
 * complete immediately, one per call, until the schedule has caught up; the
 * schedule never shifts (tick k is always start + k*period). al_interval_reset
 * is the way to re-base it.
 */
typedef struct al_interval {
    al_sleep_t _sleep; /* private: its deadline is the next tick */
    uint64_t _period_ns;
} al_interval_t;

/* Errors: AL_EINVAL for a zero period (the interval is then inert, as after a
 * context error), or the context errors. */
int al_interval_init(al_interval_t *it, uint64_t period_ns);
/* Same, first tick at start_ns on the runtime's clock instead of now. */
int al_interval_init_at(al_interval_t *it, uint64_t start_ns, uint64_t period_ns);
/*
 * AL_READY when the next tick is due; *tick_ns (may be NULL) receives the
 * tick's scheduled instant. The following call waits for the next tick. After
 * a shutdown or a failed init every call is READY: check al_interval_result.
 */
al_poll_t al_interval_tick(al_interval_t *it, al_context_t *cx, uint64_t *tick_ns);
/* 0, AL_ESHUTDOWN, or the init error. */
int al_interval_result(const al_interval_t *it);
/* Re-base the schedule: the next tick is one period from now. */
void al_interval_reset(al_interval_t *it);
uint64_t al_interval_period(const al_interval_t *it);
void al_interval_drop(al_interval_t *it);

/* ---- timeout ---- */

/*
 * A deadline around another future. The caller polls its inner future first
 * and passes the result in; the timeout lets a finished result through, or,
 * while the inner future is pending, checks its own timer:
 *
 *     // in the caller's poll function; st->to was set by al_timeout_init
 *     al_poll_t r = inner_poll(&st->inner, cx);    // always poll the work first
 *     r = al_timeout_poll(&st->to, cx, r);
 *     if (r != AL_READY)
 *         return r;                  // PENDING: the work or the timer wakes us
 *     if (al_timeout_elapsed(&st->to)) {
 *         inner_drop(&st->inner);    // the deadline won: cancel the work
 *         *out = al_timeout_result(&st->to);  // AL_ETIMEDOUT (or AL_ESHUTDOWN)
 *     } else {
 *         ... the work finished in time: use its output ...
 *     }
 *     al_timeout_drop(&st->to);
 *
 * The inner future wins ties: if it is ready the result is "in time" even if
 * the deadline has passed as well (as Tokio). AL_PANIC is passed through. The
 * timer check consumes no cooperative budget, so a timeout still fires when the
 * inner future has exhausted it (Tokio does the same). The Lua layer's
 * rt.time.timeout(ms, fn) uses it the same way, `inner` being the poll of fn's
 * coroutine; after a failed init the timeout never elapses (the inner future
 * runs unbounded) and al_timeout_result reports the init error.
 */
typedef struct al_timeout {
    al_sleep_t _sleep; /* private */
    bool _elapsed;
} al_timeout_t;

/* Deadline dur_ns from now. Errors: the context errors. */
int al_timeout_init(al_timeout_t *t, uint64_t dur_ns);
/* Deadline at deadline_ns on the runtime's clock. */
int al_timeout_at_init(al_timeout_t *t, uint64_t deadline_ns);
al_poll_t al_timeout_poll(al_timeout_t *t, al_context_t *cx, al_poll_t inner);
/* After READY: true when the deadline won (drop the inner future). */
bool al_timeout_elapsed(const al_timeout_t *t);
/* 0 (not elapsed), AL_ETIMEDOUT (elapsed), AL_ESHUTDOWN (the runtime shut
 * down first: counts as elapsed), or the init error. */
int al_timeout_result(const al_timeout_t *t);
void al_timeout_drop(al_timeout_t *t);

/* ---- paused test time (Tokio's test-util) ---- */

/*
 * Freeze the clock of the current runtime. While paused the clock moves only
 * by al_time_advance, or by auto-advance: when the runtime has nothing to run
 * it jumps the clock to the next timer instead of sleeping. A runtime built
 * with start_paused starts this way.
 *
 * Only on a current-thread runtime with timers enabled: on a multi-thread
 * runtime AL_EINVAL (its workers would race to advance a shared clock; Tokio
 * refuses the same). Other errors: AL_ENORUNTIME, AL_ESHUTDOWN,
 * AL_ETIMEDISABLED, AL_EBADSTATE if the clock is already paused.
 */
int al_time_pause(void);
/* Move the paused clock forward by ns and fire (wake) every timer that is now
 * due, before returning. Errors: as al_time_pause, and AL_EBADSTATE if the
 * clock is not paused. */
int al_time_advance(uint64_t ns);
/* Let the clock run again from its frozen value (it never jumps back).
 * Errors: as al_time_pause, and AL_EBADSTATE if the clock is not paused. */
int al_time_resume(void);

#endif
