/*
 * al_driver.c — the driver idle workers park in: one epoll instance, one
 * eventfd for unpark, the I/O reactor and the timer wheel (al_driver.h).
 *
 * Parking (the caller holds the driver's try-lock):
 *   1. free the registrations deregistered since the last park (al_io.h
 *      explains why only the driver owner may free them, and only here);
 *   2. timeout = min(caller's timeout, time until the next timer), rounded UP
 *      to whole milliseconds so a timer never fires early;
 *   3. epoll_wait; the eventfd's entry has data.ptr == NULL, every other entry
 *      is a reactor registration;
 *   4. drain the eventfd, then clear wake_pending (in that order: see below);
 *   5. hand the socket events to the reactor (it wakes their tasks);
 *   6. advance the timer wheel (it fires expired timers).
 *
 * Unpark protocol. `wake_pending` is true from the moment an unpark decides to
 * write the eventfd until a park has drained it, so at most one write is
 * outstanding and an unpark while one is pending costs one atomic exchange:
 *
 *   unpark:  if (!exchange(wake_pending, true)) write(eventfd, 1)
 *   park:    saw the eventfd -> read(eventfd) (counter back to 0),
 *            then exchange(wake_pending, false)
 *
 * Draining before clearing matters: cleared first, a concurrent unpark could
 * write a second time and the read would swallow both writes while
 * wake_pending says "pending" forever, so every later unpark would be lost.
 * Drained first, an unpark landing between the read and the clear skips its
 * write, which is harmless: this park is returning anyway, and because the
 * clear is an exchange (acq_rel) that reads the unparker's exchange, whatever
 * the unparker published before unparking is visible to the parker when it
 * re-checks its state. An unpark while nobody is parked stays pending in the
 * eventfd, so the next park returns at once (NOTIFIED): a wake is never lost
 * between a worker deciding to park and entering epoll_wait.
 *
 * Shared fields of al__driver_t (al_driver.h), who writes / reads them:
 *   epfd, wakefd, time, io, rt   written by init / destroy only; read by all.
 *   owned          the try-lock: CAS false->true (acquire) by try_acquire,
 *                  store false (release) by release. Whatever the previous
 *                  owner did in park() is visible to the next owner.
 *   wake_pending   exchange (acq_rel) by unpark (any thread) and by park.
 *   shut_down      set (release) by al__driver_shutdown; read by park.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "al_driver.h"
#include "al_io.h"
#include "al_time_driver.h"

/* Events collected per epoll_wait; more stay queued in the kernel for the
 * next park (edge-triggered events are not lost by being left there). */
#define AL__DRIVER_EVENTS 256

int al__driver_init(al__driver_t *d, al_runtime_t *rt, bool enable_time, bool enable_io,
                    bool start_paused)
{
    memset(d, 0, sizeof *d);
    d->rt = rt;
    d->epfd = d->wakefd = -1;
    atomic_init(&d->owned, false);
    atomic_init(&d->wake_pending, false);
    atomic_init(&d->shut_down, false);

    int rc;
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd < 0)
        return -errno;
    d->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->wakefd < 0) {
        rc = -errno;
        goto fail;
    }
    /* Level-triggered: it reports until drained, whatever happens in between. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->wakefd, &ev) != 0) {
        rc = -errno;
        goto fail;
    }
    if (enable_io && (rc = al__io_new(d, &d->io)) != 0)
        goto fail;
    if (enable_time && (rc = al__time_new(d, start_paused, &d->time)) != 0)
        goto fail;
    return 0;

fail:
    al__driver_destroy(d);
    return rc;
}

void al__driver_destroy(al__driver_t *d)
{
    if (d->time)
        al__time_free(d->time);
    d->time = NULL;
    if (d->io)
        al__io_free(d->io); /* before closing epfd: late deregistrations skip it */
    d->io = NULL;
    if (d->wakefd >= 0)
        close(d->wakefd);
    if (d->epfd >= 0)
        close(d->epfd);
    d->wakefd = d->epfd = -1;
}

bool al__driver_try_acquire(al__driver_t *d)
{
    bool expect = false;
    return atomic_compare_exchange_strong_explicit(&d->owned, &expect, true, memory_order_acquire,
                                                   memory_order_relaxed);
}

void al__driver_release(al__driver_t *d)
{
    AL_EXPECT(atomic_load_explicit(&d->owned, memory_order_relaxed));
    atomic_store_explicit(&d->owned, false, memory_order_release);
}

/* ns -> epoll ms, rounded up; -1 stays -1 (infinite). */
static int al__driver_ms(int64_t ns)
{
    if (ns < 0)
        return -1;
    int64_t ms = (ns + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int al__driver_park(al__driver_t *d, int64_t timeout_ns)
{
    if (d->io)
        al__io_release_pending(d->io);

    int64_t timeout = timeout_ns < 0 ? -1 : timeout_ns;
    bool timer_bound = false; /* the wait ends at a timer deadline */
    if (d->time) {
        int64_t t = al__time_next_timeout_ns(d->time);
        if (t >= 0 && (timeout < 0 || t <= timeout)) {
            timeout = t;
            timer_bound = true;
        }
    }

    struct epoll_event evs[AL__DRIVER_EVENTS];
    int n = epoll_wait(d->epfd, evs, AL__DRIVER_EVENTS, al__driver_ms(timeout));
    if (n < 0) {
        AL_EXPECT(errno == EINTR); /* EBADF / EINVAL would be a bug here */
        n = 0;
    }

    /* Split the batch: the eventfd's entry out, sockets kept in place. */
    bool notified = false;
    int nio = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == NULL)
            notified = true;
        else
            evs[nio++] = evs[i];
    }
    if (notified) {
        uint64_t v;
        while (read(d->wakefd, &v, sizeof v) < 0 && errno == EINTR)
            ;
        atomic_exchange_explicit(&d->wake_pending, false, memory_order_acq_rel);
    }
    if (nio && d->io)
        al__io_dispatch(d->io, evs, nio);
    if (d->time)
        al__time_process(d->time);

    if (atomic_load_explicit(&d->shut_down, memory_order_acquire))
        return AL_UNPARK_SHUTDOWN;
    if (notified)
        return AL_UNPARK_NOTIFIED;
    if (nio)
        return AL_UNPARK_IO;
    /* Nothing reported: the wait timed out (a timer, or the caller's own
     * timeout), or it was a zero-timeout poll / EINTR with nothing to do. */
    if (n == 0 && (timer_bound || timeout > 0))
        return AL_UNPARK_TIMER;
    return AL_UNPARK_SPURIOUS;
}

void al__driver_unpark(al__driver_t *d)
{
    if (atomic_exchange_explicit(&d->wake_pending, true, memory_order_acq_rel))
        return; /* a write is outstanding: the parked thread will see it */
    uint64_t one = 1;
    ssize_t w;
    while ((w = write(d->wakefd, &one, sizeof one)) < 0 && errno == EINTR)
        ;
    AL_EXPECT(w == (ssize_t)sizeof one);
}

void al__driver_shutdown(al__driver_t *d)
{
    if (d->time)
        al__time_shutdown(d->time);
    if (d->io)
        al__io_shutdown(d->io);
    atomic_store_explicit(&d->shut_down, true, memory_order_release);
    al__driver_unpark(d);
}
