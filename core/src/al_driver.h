/*
 * al_driver.h — private to the asynclab core: the driver an idle thread
 * blocks in.
 *
 * One driver per runtime, shared by every worker. It owns an epoll instance
 * and an eventfd (the unpark signal), the I/O reactor (al_io.h) that
 * registers sockets on that epoll, and the timer wheel (al_time.h). A worker
 * with nothing to do tries to take the driver (a try-lock); the winner blocks
 * in epoll_wait with the next timer deadline as timeout, the others wait on
 * their condvars. Anyone who needs the blocked worker back (new work, a new
 * earlier timer, shutdown) calls al__driver_unpark, which writes the eventfd.
 *
 * park() does, in order: compute the timeout from the wheel's next deadline;
 * epoll_wait; hand I/O events to the reactor (which wakes tasks); advance the
 * wheel to now (which fires expired timers and wakes their tasks).
 */
#ifndef AL_DRIVER_H
#define AL_DRIVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "al_internal.h"

struct al__time;
struct al__io;

typedef struct al__driver {
    int epfd;   /* epoll instance; the reactor registers sockets here */
    int wakefd; /* eventfd registered in epfd; written by unpark */
    atomic_bool owned;          /* try-lock: a thread is inside park() */
    atomic_bool wake_pending;   /* eventfd written and not yet drained */
    struct al__time *time;      /* NULL when timers are disabled */
    struct al__io *io;          /* NULL when I/O is disabled */
    al_runtime_t *rt;           /* for events */
    atomic_bool shut_down;      /* set by al__driver_shutdown; park then says SHUTDOWN */
} al__driver_t;

int al__driver_init(al__driver_t *d, al_runtime_t *rt, bool enable_time, bool enable_io,
                    bool start_paused);
void al__driver_destroy(al__driver_t *d);

/* Try to become the thread that parks in the driver. */
bool al__driver_try_acquire(al__driver_t *d);
void al__driver_release(al__driver_t *d);

/*
 * Block (the caller must hold the driver) until I/O is ready, the next timer
 * is due, timeout_ns passes (-1: no limit; 0: just poll) or someone calls
 * al__driver_unpark. Processes I/O events and expired timers before returning.
 * Returns why it woke (al_unpark_reason_t).
 */
int al__driver_park(al__driver_t *d, int64_t timeout_ns);

/* Make a thread blocked in al__driver_park return. Any thread; cheap when
 * nobody is parked (one atomic exchange). */
void al__driver_unpark(al__driver_t *d);

/* Shutdown: fire every timer (their waiters see cancellation) and close every
 * I/O registration, waking their tasks. */
void al__driver_shutdown(al__driver_t *d);

#endif
