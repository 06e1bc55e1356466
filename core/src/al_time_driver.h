/*
 * al_time_driver.h — private to the asynclab core: a runtime's timers, i.e.
 * the wheel of al_time_wheel.h behind one mutex, plus the runtime's clock,
 * as the driver (al_driver.c), the current-thread scheduler (al_ct.c) and the
 * public time API (al_time.c) use them.
 *
 * One struct al__time per runtime, created by al__driver_init when timers are
 * enabled. The clock is CLOCK_MONOTONIC plus a skew (non-zero after a
 * pause/resume), or, while paused (test time), a frozen value that moves only
 * when told to (al__time_advance) or when an idle current-thread runtime
 * jumps to its next timer (al__time_auto_advance). Wheel ticks are whole
 * milliseconds since the struct was created; a deadline is rounded UP to the
 * next tick, so a timer never fires early.
 *
 * Every function is thread-safe (one mutex; Tokio tried sharding the wheel
 * and reverted it). Wakers are always woken with the mutex released.
 */
#ifndef AL_TIME_DRIVER_H
#define AL_TIME_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_future.h"
#include "al_time.h"

struct al__driver;
struct al__time;

/* d may be NULL (tests): then nobody is unparked and no event is emitted
 * from the firing side. Errors: AL_ENOMEM. */
int al__time_new(struct al__driver *d, bool start_paused, struct al__time **out);
/* Every sleep must have fired (al__time_shutdown) or been dropped before. */
void al__time_free(struct al__time *t);
/* ns from now until the wheel next needs processing (the start of its
 * earliest occupied slot: at worst a cascade, never late); 0 if a timer is
 * due; -1 if none. Paused clock: 0 if due, else -1 (paused time never
 * sleeps; auto-advance or al__time_advance moves it). Records the deadline
 * the caller is about to sleep until, so that registering an earlier timer
 * unparks the driver. */
int64_t al__time_next_timeout_ns(struct al__time *t);
/* Fire every timer due now: wakes in batches of 32 with the lock released. */
void al__time_process(struct al__time *t);
/* Fire every remaining timer (their sleeps report AL_ESHUTDOWN) and refuse
 * new ones (a sleep first polled afterwards is READY with AL_ESHUTDOWN). */
void al__time_shutdown(struct al__time *t);
bool al__time_is_paused(struct al__time *t);
/* Paused clock: if a timer is pending, jump the clock to it, fire it (and
 * anything due at the same instant) and return true; else false. */
bool al__time_auto_advance(struct al__time *t);
/* The runtime's clock in ns (the frozen clock while paused). */
uint64_t al__time_now_ns(struct al__time *t);

/* Test time on this wheel (al_time_pause & co check the runtime first).
 * Errors: AL_EBADSTATE when already paused / not paused. */
int al__time_pause(struct al__time *t);
int al__time_advance(struct al__time *t, uint64_t ns); /* then fires what is due */
int al__time_resume(struct al__time *t);
/* Timers registered and not yet fired (tests, diagnostics). */
size_t al__time_registered(struct al__time *t);

/* ---- sleeps (the machinery behind al_sleep_t, used by al_time.c) ---- */

/* al_sleep_t._state (protocol in al_time_driver.c). */
enum { AL__SLEEP_UNREG = 0, AL__SLEEP_REG = 1, AL__SLEEP_FIRED = 2 };

/* A sleep on t until deadline_ns (t's clock), without the runtime lookup of
 * al_sleep_until_init (tests drive an al__time directly with this). */
void al__sleep_init_on(al_sleep_t *s, struct al__time *t, uint64_t deadline_ns);
/* An inert sleep: READY at once, result err. */
void al__sleep_init_failed(al_sleep_t *s, int err);
/* The same for interval (AL_EINVAL for a zero period) and timeout. */
int al__interval_init_on(al_interval_t *it, struct al__time *t, uint64_t start_ns,
                         uint64_t period_ns);
void al__timeout_init_on(al_timeout_t *to, struct al__time *t, uint64_t deadline_ns);
/* al_sleep_poll; coop false: consume no budget (timeout's check). */
al_poll_t al__sleep_poll(al_sleep_t *s, al_context_t *cx, bool coop);

#endif
