/*
 * al_io.c — the I/O reactor: registrations, readiness, wakers (see al_io.h
 * for the protocol seen by socket code).
 *
 * A registration's `state` is one 64-bit atomic word:
 *
 *     bits  0..4   readiness (AL__IO_READABLE ... AL__IO_ERROR)
 *     bit   8      shutdown (the reactor was shut down)
 *     bits 16..63  tick: +1 for every epoll event dispatched to it
 *
 * Keeping all three in one word lets al__io_clear_readiness compare the tick
 * and clear the bits in one compare-and-swap (Tokio's ScheduledIo does the
 * same with a usize). The closed / error bits are never cleared: once the
 * peer hung up, it stays hung up.
 *
 * Lost wake-ups are excluded by ordering, with the registration lock between:
 *   dispatch:  (1) OR the bits into state,  (2) lock, take the wakers, unlock,
 *              wake;
 *   poll:      (a) load state: ready? return;  (b) lock, re-load state: not
 *              ready? store the waker; unlock.
 * If (2) takes the lock before (b), (b) sees (1) (lock order); otherwise (2)
 * comes after (b) and finds the waker (b) stored. Storing only when Pending
 * means a READY never leaves a stale waker (a task reference) behind.
 * Shutdown follows the same pattern with the shutdown bit.
 *
 * Deregistration takes the wakers out first, then (under io->lock) leaves
 * epoll and queues the registration on the release list; from that moment
 * the driver owner may free it, so the deregistering thread no longer
 * touches it. Every RELEASE_UNPARK_AFTER queued registrations it unparks the
 * driver, so a driver asleep in epoll_wait still frees the backlog.
 *
 * Shared fields, who writes / reads them, and what guards them:
 *
 *   al__io_reg.state          dispatch (driver owner), clear_readiness (the
 *                             reading/writing task), shutdown: atomic RMW;
 *                             read anywhere with acquire loads.
 *   al__io_reg.read_waker,
 *   al__io_reg.write_waker    stored by polls, taken by dispatch / shutdown /
 *                             deregister / drop_waker: reg->lock.
 *   al__io_reg.refs           atomic; one reference for the owner (dropped
 *                             when its release is processed), one held for
 *                             the duration of a shutdown walk. The last one
 *                             frees the registration.
 *   al__io_reg.prev/next      the io's list of live registrations: io->lock.
 *   al__io_reg.release_next   the io's release list: io->lock.
 *   al__io_reg.shutdown_next  the snapshot al__io_shutdown walks: written
 *                             under io->lock, once (shutdown runs once).
 *   al__io.shutdown           written under io->lock (once), read anywhere.
 *   al__io.live, release,
 *   al__io.n_release,
 *   al__io.driver_gone        io->lock.
 *   al__io.refs               atomic; 1 for the driver + 1 per registration
 *                             not yet freed.
 *   al__io.rt                 set at creation, cleared by al__io_free (the
 *                             runtime is being freed): relaxed atomic, read
 *                             by every event emission.
 *
 * The two locks are never held together. No waker is woken or dropped while
 * a lock is held (a wake can drop a task, whose drop can deregister).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>

#include "al_driver.h"
#include "al_internal.h"
#include "al_io.h"

#define ST_READY_MASK 0x1fu
#define ST_SHUTDOWN (1ull << 8)
#define ST_TICK_SHIFT 16
#define ST_TICK_ONE (1ull << ST_TICK_SHIFT)

#define DIR_READ_MASK (AL__IO_READABLE | AL__IO_READ_CLOSED | AL__IO_ERROR)
#define DIR_WRITE_MASK (AL__IO_WRITABLE | AL__IO_WRITE_CLOSED | AL__IO_ERROR)
#define CLOSED_MASK (AL__IO_READ_CLOSED | AL__IO_WRITE_CLOSED | AL__IO_ERROR)

/* Deregistrations queued before the driver is unparked to free them (as
 * Tokio's NOTIFY_AFTER): bounds the release list when the driver sleeps. */
#define RELEASE_UNPARK_AFTER 16

struct al__io_reg {
    _Atomic uint64_t state;
    pthread_mutex_t lock;
    al_waker_t read_waker;
    al_waker_t write_waker;
    atomic_uint refs;
    int fd;
    uint64_t resource_id;
    struct al__io *io;
    bool deregistered; /* io->lock */
    al__io_reg_t *prev, *next;
    al__io_reg_t *release_next;
    al__io_reg_t *shutdown_next;
};

struct al__io {
    struct al__driver *d;
    int epfd;
    _Atomic(al_runtime_t *) rt; /* NULL once the driver is gone */
    pthread_mutex_t lock;
    al__io_reg_t *live;    /* doubly linked */
    al__io_reg_t *release; /* deregistered, waiting for the driver owner */
    size_t n_release;
    bool driver_gone;
    atomic_bool shutdown;
    atomic_size_t refs;
};

/* ---- lifetime ----------------------------------------------------------------------------- */

static void al__io_unref(struct al__io *io)
{
    if (atomic_fetch_sub_explicit(&io->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&io->lock);
    free(io);
}

static void al__io_reg_unref(al__io_reg_t *reg)
{
    if (atomic_fetch_sub_explicit(&reg->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct al__io *io = reg->io;
    /* Deregistration dropped the wakers; these are empty (kept for safety). */
    al_waker_drop(&reg->read_waker);
    al_waker_drop(&reg->write_waker);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
    al__io_unref(io);
}

int al__io_new(struct al__driver *d, struct al__io **out)
{
    struct al__io *io = calloc(1, sizeof *io);
    if (!io)
        return AL_ENOMEM;
    io->d = d;
    io->epfd = d->epfd;
    atomic_init(&io->rt, d->rt);
    if (pthread_mutex_init(&io->lock, NULL) != 0) {
        free(io);
        return AL_ENOMEM;
    }
    atomic_init(&io->shutdown, false);
    atomic_init(&io->refs, 1);
    *out = io;
    return 0;
}

/* Take the release list (caller holds io->lock); unref outside the lock. */
static al__io_reg_t *al__io_take_release(struct al__io *io)
{
    al__io_reg_t *list = io->release;
    io->release = NULL;
    io->n_release = 0;
    return list;
}

static void al__io_unref_list(al__io_reg_t *list)
{
    while (list) {
        al__io_reg_t *next = list->release_next;
        al__io_reg_unref(list);
        list = next;
    }
}

void al__io_release_pending(struct al__io *io)
{
    pthread_mutex_lock(&io->lock);
    al__io_reg_t *list = al__io_take_release(io);
    pthread_mutex_unlock(&io->lock);
    al__io_unref_list(list);
}

void al__io_free(struct al__io *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->lock);
    io->driver_gone = true; /* later deregistrations free at once */
    atomic_store_explicit(&io->rt, NULL, memory_order_relaxed); /* the runtime goes too */
    al__io_reg_t *list = al__io_take_release(io);
    pthread_mutex_unlock(&io->lock);
    al__io_unref_list(list);
    al__io_unref(io);
}

bool al__io_is_shutdown(struct al__io *io)
{
    return atomic_load_explicit(&io->shutdown, memory_order_acquire);
}

/* ---- registration ------------------------------------------------------------------------- */

int al__io_register(struct al__io *io, int fd, uint64_t resource_id, al__io_reg_t **out)
{
    al__io_reg_t *reg = calloc(1, sizeof *reg);
    if (!reg)
        return AL_ENOMEM;
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return AL_ENOMEM;
    }
    atomic_init(&reg->state, 0);
    atomic_init(&reg->refs, 1);
    reg->fd = fd;
    reg->resource_id = resource_id;
    reg->io = io;

    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = reg};
    pthread_mutex_lock(&io->lock);
    int rc = 0;
    if (atomic_load_explicit(&io->shutdown, memory_order_relaxed) || io->driver_gone)
        rc = AL_ESHUTDOWN;
    else if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        rc = -errno;
    if (rc == 0) {
        reg->next = io->live;
        if (io->live)
            io->live->prev = reg;
        io->live = reg;
        atomic_fetch_add_explicit(&io->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&io->lock);
    if (rc != 0) {
        pthread_mutex_destroy(&reg->lock);
        free(reg);
        return rc;
    }
    *out = reg;
    return 0;
}

void al__io_deregister(al__io_reg_t *reg)
{
    if (!reg)
        return;
    struct al__io *io = reg->io;
    bool free_now = false;

    /* Wakers first: once the registration is on the release list, the driver
     * owner may free it at any moment, so this thread must not touch it. */
    pthread_mutex_lock(&reg->lock);
    al_waker_t r = reg->read_waker, w = reg->write_waker;
    reg->read_waker = reg->write_waker = AL_WAKER_NONE;
    pthread_mutex_unlock(&reg->lock);

    pthread_mutex_lock(&io->lock);
    AL_EXPECT(!reg->deregistered);
    reg->deregistered = true;
    if (reg->prev)
        reg->prev->next = reg->next;
    else
        io->live = reg->next;
    if (reg->next)
        reg->next->prev = reg->prev;
    reg->prev = reg->next = NULL;
    if (io->driver_gone) {
        free_now = true; /* no dispatcher exists any more (epfd may be closed) */
    } else {
        /* May fail only if the caller closed the fd already (a bug) or the
         * epoll instance is gone; either way the fd no longer reports. */
        (void)epoll_ctl(io->epfd, EPOLL_CTL_DEL, reg->fd, NULL);
        reg->release_next = io->release;
        io->release = reg;
        /* Let a sleeping driver owner free the backlog. Under the lock: the
         * driver (and its eventfd) outlives al__io_free, which takes it. */
        if (++io->n_release == RELEASE_UNPARK_AFTER)
            al__driver_unpark(io->d);
    }
    pthread_mutex_unlock(&io->lock);

    al_waker_drop(&r);
    al_waker_drop(&w);
    if (free_now)
        al__io_reg_unref(reg);
}

uint32_t al__io_readiness(const al__io_reg_t *reg)
{
    uint64_t s = atomic_load_explicit(&((al__io_reg_t *)reg)->state, memory_order_acquire);
    return (uint32_t)(s & ST_READY_MASK);
}

uint64_t al__io_reg_resource_id(const al__io_reg_t *reg)
{
    return reg->resource_id;
}

/* ---- dispatch (driver owner) -------------------------------------------------------------- */

/* epoll flags -> readiness bits, with mio's reading of the flags. */
static uint32_t al__io_bits_of(uint32_t e)
{
    uint32_t b = 0;
    if (e & (EPOLLIN | EPOLLPRI))
        b |= AL__IO_READABLE;
    if (e & EPOLLOUT)
        b |= AL__IO_WRITABLE;
    if ((e & EPOLLHUP) || ((e & EPOLLIN) && (e & EPOLLRDHUP)))
        b |= AL__IO_READ_CLOSED;
    if ((e & EPOLLHUP) || ((e & EPOLLOUT) && (e & EPOLLERR)) || e == EPOLLERR)
        b |= AL__IO_WRITE_CLOSED;
    if (e & EPOLLERR)
        b |= AL__IO_ERROR;
    return b;
}

void al__io_dispatch(struct al__io *io, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        al__io_reg_t *reg = evs[i].data.ptr;
        if (!reg)
            continue;
        uint32_t bits = al__io_bits_of(evs[i].events);
        uint64_t cur = atomic_load_explicit(&reg->state, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&reg->state, &cur, (cur | bits) + ST_TICK_ONE,
                                                      memory_order_acq_rel, memory_order_relaxed))
            ;
        AL__EMIT(atomic_load_explicit(&io->rt, memory_order_relaxed), AL_EV_IO_READY, 0,
                 reg->resource_id,
                 ((bits & AL__IO_READABLE) ? 1u : 0u) | ((bits & AL__IO_WRITABLE) ? 2u : 0u) |
                     ((bits & CLOSED_MASK) ? 4u : 0u),
                 NULL);

        al_waker_t r = AL_WAKER_NONE, w = AL_WAKER_NONE;
        pthread_mutex_lock(&reg->lock);
        if (bits & DIR_READ_MASK) {
            r = reg->read_waker;
            reg->read_waker = AL_WAKER_NONE;
        }
        if (bits & DIR_WRITE_MASK) {
            w = reg->write_waker;
            reg->write_waker = AL_WAKER_NONE;
        }
        pthread_mutex_unlock(&reg->lock);
        al_waker_wake(&r, AL_WAKE_SRC(AL_WAKE_IO, reg->resource_id));
        al_waker_wake(&w, AL_WAKE_SRC(AL_WAKE_IO, reg->resource_id));
    }
}

/* ---- shutdown ----------------------------------------------------------------------------- */

void al__io_shutdown(struct al__io *io)
{
    if (!io)
        return;
    /* Snapshot the live registrations, holding a reference on each, so the
     * wakes below run without io->lock (a woken task may deregister). */
    al__io_reg_t *snap = NULL;
    pthread_mutex_lock(&io->lock);
    if (atomic_load_explicit(&io->shutdown, memory_order_relaxed)) {
        pthread_mutex_unlock(&io->lock);
        return;
    }
    atomic_store_explicit(&io->shutdown, true, memory_order_release);
    for (al__io_reg_t *r = io->live; r; r = r->next) {
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
        r->shutdown_next = snap;
        snap = r;
    }
    pthread_mutex_unlock(&io->lock);

    while (snap) {
        al__io_reg_t *reg = snap;
        snap = reg->shutdown_next;
        atomic_fetch_or_explicit(&reg->state, ST_SHUTDOWN, memory_order_acq_rel);
        pthread_mutex_lock(&reg->lock);
        al_waker_t r = reg->read_waker, w = reg->write_waker;
        reg->read_waker = reg->write_waker = AL_WAKER_NONE;
        pthread_mutex_unlock(&reg->lock);
        al_waker_wake(&r, AL_WAKE_SRC(AL_WAKE_IO, reg->resource_id));
        al_waker_wake(&w, AL_WAKE_SRC(AL_WAKE_IO, reg->resource_id));
        al__io_reg_unref(reg);
    }
}

/* ---- readiness polls ---------------------------------------------------------------------- */

static bool al__io_ready_from(uint64_t s, uint32_t mask, al__io_ready_t *ev)
{
    if (s & ST_SHUTDOWN) {
        *ev = (al__io_ready_t){.ready = 0, .tick = s >> ST_TICK_SHIFT, .err = AL_ESHUTDOWN};
        return true;
    }
    uint32_t ready = (uint32_t)s & mask;
    if (!ready)
        return false;
    *ev = (al__io_ready_t){.ready = ready, .tick = s >> ST_TICK_SHIFT, .err = 0};
    return true;
}

static al_poll_t al__io_poll_ready(al__io_reg_t *reg, al_context_t *cx, al__io_ready_t *ev,
                                   bool write)
{
    uint32_t mask = write ? DIR_WRITE_MASK : DIR_READ_MASK;
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING; /* budget spent: a yield-wake is arranged */
    if (al__io_ready_from(atomic_load_explicit(&reg->state, memory_order_acquire), mask, ev))
        return AL_READY;

    /* Re-check under the lock, and store the waker only if still not ready:
     * then a READY leaves no waker behind, and a Pending cannot miss an event
     * (the dispatcher sets the bits before it takes this lock). */
    pthread_mutex_lock(&reg->lock);
    bool ready =
        al__io_ready_from(atomic_load_explicit(&reg->state, memory_order_acquire), mask, ev);
    al_waker_t old = AL_WAKER_NONE;
    al_waker_t *slot = write ? &reg->write_waker : &reg->read_waker;
    if (!ready && !al_waker_will_wake(slot, &cx->waker)) {
        old = *slot;
        *slot = al_waker_clone(&cx->waker);
    }
    pthread_mutex_unlock(&reg->lock);
    al_waker_drop(&old);
    if (ready)
        return AL_READY;
    al_coop_refund();
    return AL_PENDING;
}

al_poll_t al__io_poll_read_ready(al__io_reg_t *reg, al_context_t *cx, al__io_ready_t *ev)
{
    return al__io_poll_ready(reg, cx, ev, false);
}

al_poll_t al__io_poll_write_ready(al__io_reg_t *reg, al_context_t *cx, al__io_ready_t *ev)
{
    return al__io_poll_ready(reg, cx, ev, true);
}

void al__io_clear_readiness(al__io_reg_t *reg, const al__io_ready_t *ev)
{
    uint64_t clear = ev->ready & ~(uint32_t)CLOSED_MASK;
    uint64_t cur = atomic_load_explicit(&reg->state, memory_order_acquire);
    for (;;) {
        if ((cur >> ST_TICK_SHIFT) != ev->tick)
            return; /* a newer event arrived: keep its readiness */
        if (atomic_compare_exchange_weak_explicit(&reg->state, &cur, cur & ~clear,
                                                  memory_order_acq_rel, memory_order_acquire))
            return;
    }
}

void al__io_drop_waker(al__io_reg_t *reg, bool write)
{
    pthread_mutex_lock(&reg->lock);
    al_waker_t *slot = write ? &reg->write_waker : &reg->read_waker;
    al_waker_t old = *slot;
    *slot = AL_WAKER_NONE;
    pthread_mutex_unlock(&reg->lock);
    al_waker_drop(&old);
}

al_runtime_t *al__io_runtime(const struct al__io *io)
{
    return atomic_load_explicit(&((struct al__io *)io)->rt, memory_order_relaxed);
}
