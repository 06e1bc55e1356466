/*
 * al_io.h — private to the asynclab core: the I/O reactor (Tokio's
 * runtime/io/driver + ScheduledIo, mio's registration).
 *
 * A socket that wants to wait for readiness gets a registration
 * (al__io_reg_t): the fd is added to the driver's epoll once, edge-triggered,
 * for EPOLLIN | EPOLLOUT | EPOLLRDHUP, with data.ptr = the registration. When
 * the driver's epoll_wait reports the fd, al__io_dispatch ORs the readiness
 * into the registration's atomic state, bumps its tick, and wakes the task
 * waiting to read and/or the task waiting to write.
 *
 * The readiness protocol for an operation on a non-blocking fd (as Tokio's
 * poll_read_ready / clear_readiness):
 *
 *     al__io_ready_t ev;
 *     if (al__io_poll_read_ready(reg, cx, &ev) == AL_PENDING) return AL_PENDING;
 *     if (ev.err) ...AL_ESHUTDOWN...;
 *     n = read(fd, ...);
 *     if (n < 0 && errno == EAGAIN) { al__io_clear_readiness(reg, &ev); retry the poll; }
 *
 * Edge-triggered epoll reports a change once, so the readiness bit stays set
 * until the operation sees EAGAIN. Clearing is conditional on the tick: if an
 * epoll event arrived after the poll returned ev (the tick moved on), the
 * clear is skipped, so a readiness that arrived between the read and the
 * clear is never lost.
 *
 * Memory safety of registrations (who may free one, and when): an epoll_wait
 * batch can hold a pointer to a registration that another thread deregisters
 * at the same moment. So deregistration never frees: it removes the fd from
 * epoll (EPOLL_CTL_DEL) and queues the registration on the io's release
 * list. Only the thread that owns the driver frees the release list, at the
 * start of each park, before its next epoll_wait: every batch that could
 * name those registrations has been dispatched by then, and no later
 * epoll_wait can return them (they left epoll before being queued). A
 * registration also carries a reference count so that al__io_shutdown can
 * wake it without holding the io lock. The io itself is reference-counted by
 * its registrations: a socket that outlives its runtime can still be dropped
 * (its registration is then freed at once: there is no dispatcher left).
 *
 * Thread safety: every function except al__io_dispatch / al__io_release_pending
 * (driver owner only) and al__io_new / al__io_free may be called from any
 * thread. A registration's poll_*_ready for one direction is meant for one
 * task at a time (one reader, one writer), as Tokio's.
 */
#ifndef AL_IO_H
#define AL_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "al_internal.h"

struct al__driver;
struct al__io;
typedef struct al__io_reg al__io_reg_t;

/* Readiness bits (the low bits of a registration's state). */
enum {
    AL__IO_READABLE = 1u << 0,
    AL__IO_WRITABLE = 1u << 1,
    AL__IO_READ_CLOSED = 1u << 2,  /* peer shut its write side (or hung up) */
    AL__IO_WRITE_CLOSED = 1u << 3, /* we can no longer write (hang-up, error) */
    AL__IO_ERROR = 1u << 4,        /* EPOLLERR: read SO_ERROR */
};

/* What a ready poll observed: hand it back to al__io_clear_readiness. */
typedef struct al__io_ready {
    uint32_t ready; /* readiness bits of the polled direction */
    uint64_t tick;  /* the dispatch tick when observed */
    int err;        /* 0, or AL_ESHUTDOWN: the runtime shut the reactor down */
} al__io_ready_t;

/* Create the reactor of driver d (which owns the epoll instance d->epfd). */
int al__io_new(struct al__driver *d, struct al__io **out);
/* Driver teardown: frees pending releases and drops the driver's reference;
 * registrations still alive keep the memory until they are deregistered. */
void al__io_free(struct al__io *io);
/* Apply an epoll batch (driver owner only; events with data.ptr == NULL are
 * not the reactor's and must have been filtered out by the caller). */
void al__io_dispatch(struct al__io *io, const struct epoll_event *evs, int n);
/* Free registrations deregistered since the last call (driver owner only,
 * with no epoll batch in hand). */
void al__io_release_pending(struct al__io *io);
/* Shutdown: every registration, now and later, reports AL_ESHUTDOWN; waiting
 * tasks are woken. Idempotent. */
void al__io_shutdown(struct al__io *io);
bool al__io_is_shutdown(struct al__io *io);
/* The runtime events are emitted on (NULL for a bare driver in tests). */
al_runtime_t *al__io_runtime(const struct al__io *io);

/*
 * Register fd (non-blocking, owned by the caller) with the reactor.
 * resource_id names the socket in IO_READY events and wake sources.
 * Errors: AL_ESHUTDOWN, AL_ENOMEM, negated errno from epoll_ctl.
 */
int al__io_register(struct al__io *io, int fd, uint64_t resource_id, al__io_reg_t **out);
/* Leave epoll and drop the wakers; the memory is reclaimed later (see above).
 * The caller closes the fd only after this. NULL is a no-op. */
void al__io_deregister(al__io_reg_t *reg);

/*
 * Is the fd ready to read (readable, read side closed, or error)? AL_READY
 * with *ev filled (ev->err = AL_ESHUTDOWN after shutdown), or AL_PENDING with
 * cx's waker stored: it is woken (AL_WAKE_IO, resource id) on the next
 * readiness or on shutdown. Consumes one unit of coop budget (refunded when
 * Pending); out of budget it returns AL_PENDING with a yield arranged.
 */
al_poll_t al__io_poll_read_ready(al__io_reg_t *reg, al_context_t *cx, al__io_ready_t *ev);
/* The same for writing (writable, write side closed, or error). */
al_poll_t al__io_poll_write_ready(al__io_reg_t *reg, al_context_t *cx, al__io_ready_t *ev);
/* After EAGAIN: forget the readiness ev reported, unless a newer event came. */
void al__io_clear_readiness(al__io_reg_t *reg, const al__io_ready_t *ev);
/* Drop the waker a pending poll stored for one direction (a read / write /
 * accept future being dropped), so the task is not kept alive by it. */
void al__io_drop_waker(al__io_reg_t *reg, bool write);
/* Current readiness bits (a snapshot, for tests and dumps). */
uint32_t al__io_readiness(const al__io_reg_t *reg);
uint64_t al__io_reg_resource_id(const al__io_reg_t *reg);

/* ---- socket entry points on an explicit reactor (al_net.c) ----
 * The public al_tcp_listener_bind / al_tcp_connect_init find the reactor with
 * al__context_io() and call these; tests drive a bare driver through them. */
struct al_tcp_listener;
struct al_tcp_connect;
int al__tcp_listener_bind_on(struct al__io *io, const char *addr, struct al_tcp_listener **out);
int al__tcp_connect_init_on(struct al_tcp_connect *op, struct al__io *io, const char *addr);

#endif
