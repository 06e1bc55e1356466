/*
 * al_time.c — the public time API (al_time.h): durations, sleep init and
 * accessors, interval, timeout, the runtime clock and paused test time.
 *
 * The sleep's poll / drop / reset, which touch the wheel, live next to it in
 * al_time_driver.c; everything here is built on them.
 *
 * Interval: the embedded sleep's deadline is always the next tick. A READY
 * tick re-arms it lazily with al_sleep_reset(deadline + period) (the reset of a
 * fired sleep registers nothing until the next poll); if that instant has
 * already passed, the next poll completes at once: that is the Burst catch-up.
 *
 * Timeout: the inner future's result decides first; only while it is pending
 * is the embedded sleep polled, without coop budget (al__sleep_poll(.., false)).
 *
 * No shared state of its own: every struct here belongs to the future that
 * embeds it (one poller at a time); the runtime state it reads (the time
 * driver, the paused clock) is guarded in al_time_driver.c.
 */
#include <math.h>

#include "al_internal.h"
#include "al_time.h"
#include "al_time_driver.h"

/* ---- durations and the clock ------------------------------------------------- */

int al_duration_from_ms(double ms, uint64_t *ns)
{
    /* The comparisons are false for NaN, hence written as "not in range". */
    if (!(ms >= 0.0) || !(ms * 1e6 <= (double)AL_TIME_MAX_DURATION_NS))
        return AL_EINVAL;
    *ns = (uint64_t)llround(ms * 1e6);
    return 0;
}

/* The time driver of this thread's runtime, even while it shuts down. */
static struct al__time *current_time(void)
{
    al_runtime_t *rt = al_runtime_current();
    return rt ? al__runtime_time(rt) : NULL;
}

uint64_t al_time_now_ns(void)
{
    struct al__time *t = current_time();
    return t ? al__time_now_ns(t) : al__now_ns();
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

/* ---- sleep ----------------------------------------------------------------------- */

static int sleep_setup(al_sleep_t *s, bool relative, uint64_t v)
{
    struct al__time *t = NULL;
    int rc = al__context_time(&t);
    if (rc) {
        al__sleep_init_failed(s, rc);
        return rc;
    }
    al__sleep_init_on(s, t, relative ? sat_add(al__time_now_ns(t), v) : v);
    return 0;
}

int al_sleep_init(al_sleep_t *s, uint64_t dur_ns) { return sleep_setup(s, true, dur_ns); }

int al_sleep_until_init(al_sleep_t *s, uint64_t deadline_ns)
{
    return sleep_setup(s, false, deadline_ns);
}

int al_sleep_result(const al_sleep_t *s)
{
    al_sleep_t *m = (al_sleep_t *)s; /* atomic_load wants a non-const pointer in C11 */
    if (atomic_load_explicit(&m->_state, memory_order_acquire) != AL__SLEEP_FIRED)
        return 0;
    return s->_result;
}

bool al_sleep_is_elapsed(const al_sleep_t *s)
{
    al_sleep_t *m = (al_sleep_t *)s;
    return atomic_load_explicit(&m->_state, memory_order_acquire) == AL__SLEEP_FIRED;
}

uint64_t al_sleep_deadline(const al_sleep_t *s) { return s->_deadline_ns; }
uint64_t al_sleep_id(const al_sleep_t *s) { return s->_id; }

/* ---- interval -------------------------------------------------------------------- */

static int interval_setup(al_interval_t *it, bool at, uint64_t start_ns, uint64_t period_ns)
{
    it->_period_ns = period_ns;
    if (period_ns == 0) {
        al__sleep_init_failed(&it->_sleep, AL_EINVAL);
        return AL_EINVAL;
    }
    /* The first tick is due at start (now: immediately). */
    return at ? al_sleep_until_init(&it->_sleep, start_ns) : al_sleep_init(&it->_sleep, 0);
}

int al__interval_init_on(al_interval_t *it, struct al__time *t, uint64_t start_ns,
                         uint64_t period_ns)
{
    it->_period_ns = period_ns;
    if (period_ns == 0) {
        al__sleep_init_failed(&it->_sleep, AL_EINVAL);
        return AL_EINVAL;
    }
    al__sleep_init_on(&it->_sleep, t, start_ns);
    return 0;
}

int al_interval_init(al_interval_t *it, uint64_t period_ns)
{
    return interval_setup(it, false, 0, period_ns);
}

int al_interval_init_at(al_interval_t *it, uint64_t start_ns, uint64_t period_ns)
{
    return interval_setup(it, true, start_ns, period_ns);
}

al_poll_t al_interval_tick(al_interval_t *it, al_context_t *cx, uint64_t *tick_ns)
{
    if (al_sleep_poll(&it->_sleep, cx) == AL_PENDING)
        return AL_PENDING;
    uint64_t tick = al_sleep_deadline(&it->_sleep);
    if (tick_ns)
        *tick_ns = tick;
    if (al_sleep_result(&it->_sleep) == 0) /* Burst: the schedule never shifts */
        al_sleep_reset(&it->_sleep, sat_add(tick, it->_period_ns));
    return AL_READY;
}

int al_interval_result(const al_interval_t *it) { return al_sleep_result(&it->_sleep); }

void al_interval_reset(al_interval_t *it)
{
    if (!it->_sleep._time)
        return;
    al_sleep_reset(&it->_sleep, sat_add(al__time_now_ns(it->_sleep._time), it->_period_ns));
}

uint64_t al_interval_period(const al_interval_t *it) { return it->_period_ns; }
void al_interval_drop(al_interval_t *it) { al_sleep_drop(&it->_sleep); }

/* ---- timeout --------------------------------------------------------------------- */

int al_timeout_init(al_timeout_t *t, uint64_t dur_ns)
{
    t->_elapsed = false;
    return al_sleep_init(&t->_sleep, dur_ns);
}

void al__timeout_init_on(al_timeout_t *to, struct al__time *t, uint64_t deadline_ns)
{
    to->_elapsed = false;
    al__sleep_init_on(&to->_sleep, t, deadline_ns);
}

int al_timeout_at_init(al_timeout_t *t, uint64_t deadline_ns)
{
    t->_elapsed = false;
    return al_sleep_until_init(&t->_sleep, deadline_ns);
}

al_poll_t al_timeout_poll(al_timeout_t *t, al_context_t *cx, al_poll_t inner)
{
    if (inner != AL_PENDING)
        return inner; /* the work finished (or panicked) first: it wins ties */
    if (!t->_sleep._time)
        return AL_PENDING; /* failed init: no deadline, the work's wake-up stands */
    if (al__sleep_poll(&t->_sleep, cx, false) == AL_PENDING)
        return AL_PENDING;
    t->_elapsed = true;
    return AL_READY;
}

bool al_timeout_elapsed(const al_timeout_t *t) { return t->_elapsed; }

int al_timeout_result(const al_timeout_t *t)
{
    if (!t->_elapsed)
        return t->_sleep._time ? 0 : al_sleep_result(&t->_sleep);
    int r = al_sleep_result(&t->_sleep);
    return r ? r : AL_ETIMEDOUT;
}

void al_timeout_drop(al_timeout_t *t) { al_sleep_drop(&t->_sleep); }

/* ---- paused test time -------------------------------------------------------------- */

static int test_clock(struct al__time **out)
{
    int rc = al__context_time(out);
    if (rc)
        return rc;
    if (al_runtime_config(al_runtime_current())->flavor != AL_CURRENT_THREAD)
        return AL_EINVAL; /* a shared clock would race between workers */
    return 0;
}

int al_time_pause(void)
{
    struct al__time *t;
    int rc = test_clock(&t);
    return rc ? rc : al__time_pause(t);
}

int al_time_advance(uint64_t ns)
{
    struct al__time *t;
    int rc = test_clock(&t);
    return rc ? rc : al__time_advance(t, ns);
}

int al_time_resume(void)
{
    struct al__time *t;
    int rc = test_clock(&t);
    return rc ? rc : al__time_resume(t);
}
