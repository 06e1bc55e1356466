/*
 * al_time_driver.c — a runtime's timers: the wheel behind one mutex, the
 * clock (real or paused), firing, and the sleep protocol (al_time_driver.h).
 *
 * Firing. process() advances the wheel to the clock's current tick, which
 * moves every due sleep into the wheel's expired list; then, repeatedly, it
 * pops up to 32 of them under the lock, marking each FIRED and moving its
 * waker into a local array, releases the lock, emits TIMER_FIRE and wakes the
 * batch (a woken task may at once register a new timer, on this thread or
 * another, so the lock must not be held), and re-locks for the next batch.
 *
 * A sleep's state (al_sleep_t._state, atomic):
 *   UNREG  not in the wheel (new, dropped, or reset after firing);
 *   REG    linked in the wheel, _waker holds a clone of the poller's waker;
 *   FIRED  completed; _result is 0 or AL_ESHUTDOWN; _waker is empty; the sleep
 *          is referenced by nobody but its owner.
 * The owner (whoever polls / resets / drops the sleep; one at a time, like any
 * future) moves UNREG -> REG, REG -> UNREG (drop, reset) and UNREG/FIRED ->
 * UNREG (reset), and may decide UNREG -> FIRED at first poll (already due, or
 * shut down). The firing side moves REG -> FIRED. Every transition out of or
 * into REG happens under `lock`; FIRED is published with a release store after
 * _result and _waker are written, so an owner that loads FIRED (acquire) may
 * read them, and free the sleep, without the lock — which is what makes
 * dropping a fired sleep safe even after the runtime is freed.
 *
 * Shared fields of struct al__time and who touches them:
 *   lock                     the one mutex below; never held while waking
 *                            or while dropping a waker (a waker drop may free
 *                            a task whose drop re-enters al_sleep_drop)
 *   wheel                    guarded by lock; written by poll / drop / reset
 *                            (any owner thread), process / shutdown / advance
 *   driver, rt, origin_ns    written once by al__time_new; read by all
 *   paused, frozen_ns, skew  guarded by lock; written by pause / advance /
 *                            resume / auto_advance; read by every clock read
 *   shut_down                guarded by lock; set once by shutdown; read by
 *                            poll (refuse new registrations)
 *   next_wake                guarded by lock; the tick the driver last planned
 *                            to sleep until (next_timeout), UINT64_MAX if none;
 *                            a registration earlier than it unparks the driver
 *                            and lowers it (so a burst of early timers unparks
 *                            once)
 * In a registered sleep, _node, _waker and _task are guarded by lock;
 * _deadline_ns and _id are written by the owner only, while unregistered.
 */
#include <pthread.h>
#include <string.h>

#include "al_driver.h"
#include "al_internal.h"
#include "al_time.h"
#include "al_time_driver.h"
#include "al_time_wheel.h"

enum { SLEEP_UNREG = AL__SLEEP_UNREG, SLEEP_REG = AL__SLEEP_REG, SLEEP_FIRED = AL__SLEEP_FIRED };

#define NS_PER_TICK UINT64_C(1000000)
#define FIRE_BATCH 32

struct al__time {
    pthread_mutex_t lock;
    al__wheel_t wheel;
    al__driver_t *driver;
    al_runtime_t *rt;
    uint64_t origin_ns; /* tick 0 on the runtime's clock */
    bool paused;
    bool shut_down;
    uint64_t frozen_ns; /* the clock while paused */
    int64_t skew_ns;    /* running clock = monotonic + skew */
    uint64_t next_wake; /* tick */
};

/* ---- clock and ticks (lock held) ------------------------------------------ */

static uint64_t clock_locked(const struct al__time *t)
{
    return t->paused ? t->frozen_ns : (uint64_t)((int64_t)al__now_ns() + t->skew_ns);
}

/* The tick the wheel may advance to at ns: every tick <= it has passed. */
static uint64_t tick_floor(const struct al__time *t, uint64_t ns)
{
    return ns <= t->origin_ns ? 0 : (ns - t->origin_ns) / NS_PER_TICK;
}

/* A deadline's tick, rounded up: firing at it is never early. */
static uint64_t tick_ceil(const struct al__time *t, uint64_t ns)
{
    if (ns <= t->origin_ns)
        return 0;
    uint64_t d = ns - t->origin_ns;
    return d / NS_PER_TICK + (d % NS_PER_TICK != 0);
}

/* A tick's instant on the clock (saturating). */
static uint64_t tick_ns(const struct al__time *t, uint64_t tick)
{
    if (tick > (UINT64_MAX - t->origin_ns) / NS_PER_TICK)
        return UINT64_MAX;
    return t->origin_ns + tick * NS_PER_TICK;
}

/* ---- lifecycle ----------------------------------------------------------------- */

int al__time_new(struct al__driver *d, bool start_paused, struct al__time **out)
{
    struct al__time *t = calloc(1, sizeof *t);
    if (!t)
        return AL_ENOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return AL_ENOMEM;
    }
    t->driver = d;
    t->rt = d ? d->rt : NULL;
    t->origin_ns = al__now_ns();
    t->paused = start_paused;
    t->frozen_ns = t->origin_ns;
    t->next_wake = UINT64_MAX;
    al__wheel_init(&t->wheel, 0);
    *out = t;
    return 0;
}

void al__time_free(struct al__time *t)
{
    if (!t)
        return;
    /* A sleep still linked would point into freed memory. */
    AL_EXPECT(al__wheel_len(&t->wheel) == 0);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* ---- firing -------------------------------------------------------------------- */

/* Fire the wheel's expired list with `result`. Lock held on entry, released
 * on return. Returns how many fired. */
static size_t fire_expired(struct al__time *t, int result)
{
    al_waker_t wakers[FIRE_BATCH];
    uint64_t ids[FIRE_BATCH], tasks[FIRE_BATCH];
    size_t total = 0;
    for (;;) {
        int n = 0;
        al__wheel_entry_t *e;
        while (n < FIRE_BATCH && (e = al__wheel_pop_expired(&t->wheel)) != NULL) {
            al_sleep_t *s = AL_CONTAINER_OF(e, al_sleep_t, _node);
            wakers[n] = s->_waker;
            s->_waker = AL_WAKER_NONE;
            ids[n] = s->_id;
            tasks[n] = s->_task;
            s->_result = result;
            /* After this store the owner may free s: do not touch it again. */
            atomic_store_explicit(&s->_state, SLEEP_FIRED, memory_order_release);
            n++;
        }
        pthread_mutex_unlock(&t->lock);
        al_runtime_t *rt = t->rt ? t->rt : al__tls.rt;
        for (int i = 0; i < n; i++) {
            AL__EMIT(rt, AL_EV_TIMER_FIRE, tasks[i], ids[i], 0, NULL);
            al_waker_wake(&wakers[i], AL_WAKE_SRC(AL_WAKE_TIMER, ids[i]));
        }
        total += (size_t)n;
        if (n < FIRE_BATCH)
            return total;
        pthread_mutex_lock(&t->lock);
    }
}

int64_t al__time_next_timeout_ns(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t next = al__wheel_next_tick(&t->wheel);
    int64_t r = -1;
    if (next != UINT64_MAX) {
        uint64_t at = tick_ns(t, next);
        uint64_t now = clock_locked(t);
        if (at <= now)
            r = 0;
        else if (!t->paused)
            r = at - now > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(at - now);
    }
    t->next_wake = r < 0 ? UINT64_MAX : next;
    pthread_mutex_unlock(&t->lock);
    return r;
}

void al__time_process(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    al__wheel_advance(&t->wheel, tick_floor(t, clock_locked(t)));
    fire_expired(t, 0);
}

void al__time_shutdown(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    t->shut_down = true;
    al__wheel_expire_all(&t->wheel);
    fire_expired(t, AL_ESHUTDOWN);
}

/* ---- paused clock ----------------------------------------------------------------- */

bool al__time_is_paused(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    bool p = t->paused;
    pthread_mutex_unlock(&t->lock);
    return p;
}

bool al__time_auto_advance(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->paused) {
        pthread_mutex_unlock(&t->lock);
        return false;
    }
    /* next_tick is the earliest slot's start: jump there and advance, which
     * fires or cascades; repeat until something is due (at most one round
     * per level, plus the overflow list). */
    for (;;) {
        uint64_t next = al__wheel_next_tick(&t->wheel);
        if (next == UINT64_MAX) {
            pthread_mutex_unlock(&t->lock);
            return false;
        }
        uint64_t at = tick_ns(t, next);
        if (at > t->frozen_ns)
            t->frozen_ns = at;
        if (al__wheel_advance(&t->wheel, tick_floor(t, t->frozen_ns)) ||
            al__wheel_next_tick(&t->wheel) <= al__wheel_elapsed(&t->wheel))
            break;
    }
    fire_expired(t, 0);
    return true;
}

uint64_t al__time_now_ns(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t now = clock_locked(t);
    pthread_mutex_unlock(&t->lock);
    return now;
}

int al__time_pause(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    int rc = AL_EBADSTATE;
    if (!t->paused) {
        t->frozen_ns = clock_locked(t);
        t->paused = true;
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int al__time_advance(struct al__time *t, uint64_t ns)
{
    pthread_mutex_lock(&t->lock);
    if (!t->paused) {
        pthread_mutex_unlock(&t->lock);
        return AL_EBADSTATE;
    }
    t->frozen_ns = ns > UINT64_MAX - t->frozen_ns ? UINT64_MAX : t->frozen_ns + ns;
    al__wheel_advance(&t->wheel, tick_floor(t, t->frozen_ns));
    fire_expired(t, 0);
    return 0;
}

int al__time_resume(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    int rc = AL_EBADSTATE;
    if (t->paused) {
        /* Continue from the frozen value: running = monotonic + skew. */
        t->skew_ns = (int64_t)(t->frozen_ns - al__now_ns());
        t->paused = false;
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

size_t al__time_registered(struct al__time *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = al__wheel_len(&t->wheel);
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ---- sleeps -------------------------------------------------------------------- */

void al__sleep_init_on(al_sleep_t *s, struct al__time *t, uint64_t deadline_ns)
{
    al__wheel_entry_init(&s->_node);
    s->_waker = AL_WAKER_NONE;
    s->_time = t;
    s->_deadline_ns = deadline_ns;
    s->_id = al__resource_id_next();
    s->_task = 0;
    s->_result = 0;
    atomic_init(&s->_state, SLEEP_UNREG);
}

void al__sleep_init_failed(al_sleep_t *s, int err)
{
    al__wheel_entry_init(&s->_node);
    s->_waker = AL_WAKER_NONE;
    s->_time = NULL;
    s->_deadline_ns = 0;
    s->_id = 0;
    s->_task = 0;
    s->_result = err;
    atomic_init(&s->_state, SLEEP_FIRED);
}

/* Link a sleep (lock held, state UNREG/REG-removed). Returns whether the
 * driver must be unparked (the new deadline is earlier than its plan). */
static bool link_locked(struct al__time *t, al_sleep_t *s)
{
    uint64_t tick = tick_ceil(t, s->_deadline_ns);
    al__wheel_insert(&t->wheel, &s->_node, tick);
    atomic_store_explicit(&s->_state, SLEEP_REG, memory_order_relaxed);
    if (tick < t->next_wake) {
        t->next_wake = tick;
        return true;
    }
    return false;
}

al_poll_t al__sleep_poll(al_sleep_t *s, al_context_t *cx, bool coop)
{
    /* Budget first, even when already complete (as Tokio): a loop over
     * always-ready timers (an interval catching up) still yields. */
    if (coop && !al_coop_poll_proceed(cx))
        return AL_PENDING;
    if (atomic_load_explicit(&s->_state, memory_order_acquire) == SLEEP_FIRED)
        return AL_READY; /* also the inert sleep of a failed init */
    struct al__time *t = s->_time;
    pthread_mutex_lock(&t->lock);
    int st = atomic_load_explicit(&s->_state, memory_order_relaxed);
    if (st == SLEEP_FIRED) {
        pthread_mutex_unlock(&t->lock);
        return AL_READY;
    }
    if (st == SLEEP_REG) {
        /* Re-poll: keep the waker current (the task may have moved, or the
         * sleep may now be polled by another future's waker). */
        al_waker_t old = AL_WAKER_NONE;
        if (!al_waker_will_wake(&s->_waker, &cx->waker)) {
            old = s->_waker;
            s->_waker = al_waker_clone(&cx->waker);
        }
        pthread_mutex_unlock(&t->lock);
        al_waker_drop(&old);
        if (coop)
            al_coop_refund();
        return AL_PENDING;
    }
    /* First poll (or first after a reset): register. */
    s->_task = al__current_task_id();
    if (t->shut_down || s->_deadline_ns <= clock_locked(t)) {
        s->_result = t->shut_down ? AL_ESHUTDOWN : 0;
        atomic_store_explicit(&s->_state, SLEEP_FIRED, memory_order_relaxed);
        pthread_mutex_unlock(&t->lock);
        if (s->_result == 0) {
            AL__EMIT_HERE(AL_EV_TIMER_REGISTER, s->_task, s->_id, s->_deadline_ns, NULL);
            AL__EMIT_HERE(AL_EV_TIMER_FIRE, s->_task, s->_id, 0, NULL);
        }
        return AL_READY;
    }
    s->_waker = al_waker_clone(&cx->waker);
    bool unpark = link_locked(t, s);
    pthread_mutex_unlock(&t->lock);
    AL__EMIT_HERE(AL_EV_TIMER_REGISTER, s->_task, s->_id, s->_deadline_ns, NULL);
    if (unpark && t->driver)
        al__driver_unpark(t->driver); /* the parked driver must wake earlier */
    if (coop)
        al_coop_refund();
    return AL_PENDING;
}

al_poll_t al_sleep_poll(al_sleep_t *s, al_context_t *cx) { return al__sleep_poll(s, cx, true); }

void al_sleep_drop(al_sleep_t *s)
{
    struct al__time *t = s->_time;
    s->_time = NULL; /* a second drop is a no-op */
    if (!t)
        return;
    if (atomic_load_explicit(&s->_state, memory_order_acquire) != SLEEP_REG) {
        al_waker_drop(&s->_waker); /* owner-only now; normally empty */
        return;
    }
    pthread_mutex_lock(&t->lock);
    al_waker_t w = AL_WAKER_NONE;
    bool cancelled = false;
    if (atomic_load_explicit(&s->_state, memory_order_relaxed) == SLEEP_REG) {
        al__wheel_remove(&t->wheel, &s->_node);
        atomic_store_explicit(&s->_state, SLEEP_UNREG, memory_order_relaxed);
        w = s->_waker;
        s->_waker = AL_WAKER_NONE;
        cancelled = true;
    }
    pthread_mutex_unlock(&t->lock);
    al_waker_drop(&w);
    if (cancelled)
        AL__EMIT_HERE(AL_EV_TIMER_CANCEL, al__current_task_id(), s->_id, 0, NULL);
}

void al_sleep_reset(al_sleep_t *s, uint64_t deadline_ns)
{
    struct al__time *t = s->_time;
    if (!t)
        return;
    if (atomic_load_explicit(&s->_state, memory_order_acquire) != SLEEP_REG) {
        /* Nobody else references it: re-arm for the next poll. */
        s->_deadline_ns = deadline_ns;
        s->_result = 0;
        atomic_store_explicit(&s->_state, SLEEP_UNREG, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&t->lock);
    if (atomic_load_explicit(&s->_state, memory_order_relaxed) != SLEEP_REG) {
        /* It fired meanwhile (the wake is on its way): re-arm lazily. */
        pthread_mutex_unlock(&t->lock);
        s->_deadline_ns = deadline_ns;
        s->_result = 0;
        atomic_store_explicit(&s->_state, SLEEP_UNREG, memory_order_relaxed);
        return;
    }
    /* Still registered: move it, keeping the waker. A deadline already past
     * lands in the expired list; the unpark makes the driver fire it. */
    al__wheel_remove(&t->wheel, &s->_node);
    s->_deadline_ns = deadline_ns;
    bool unpark = link_locked(t, s);
    uint64_t task = s->_task;
    pthread_mutex_unlock(&t->lock);
    AL__EMIT_HERE(AL_EV_TIMER_REGISTER, task, s->_id, deadline_ns, NULL);
    if (unpark && t->driver)
        al__driver_unpark(t->driver);
}
