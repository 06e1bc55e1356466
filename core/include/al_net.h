/*
 * al_net.h — non-blocking TCP through the runtime's I/O driver
 * (tokio::net::TcpListener / TcpStream; rt.net in Lua).
 *
 * Sockets are real (loopback in the lessons), non-blocking, and registered
 * with the runtime's reactor: an operation that would block returns
 * AL_PENDING and its task is woken (AL_WAKE_IO, the socket's resource id)
 * when epoll reports the socket ready. The thread never blocks.
 *
 * Handles (al_tcp_listener_t, al_tcp_stream_t) are heap objects owned by the
 * caller: free each exactly once, after every operation on it is dropped.
 * Operations are sub-futures the caller embeds in its own future:
 *
 *     al_tcp_read_t op;                          // embedded in your future
 *     al_tcp_read_init(&op, s, buf, sizeof buf);
 *     ...poll:
 *     size_t n; int err;
 *     if (al_tcp_read_poll(&op, cx, &n, &err) == AL_PENDING) return AL_PENDING;
 *     if (err) ...; else if (n == 0) ...EOF...;
 *     ...drop: al_tcp_read_drop(&op);            // always, even after READY
 *
 * [pins]: an operation must not move between its first poll and its drop.
 * Drop is safe at any point (cancellation) and idempotent. At most one read
 * (or accept) and one write may be pending on a handle at a time; a read and
 * a write may run in different tasks concurrently.
 *
 * Errors: 0 or a negative code. Creating a socket outside a runtime gives
 * AL_ENORUNTIME, in a runtime built without enable_io AL_EIODISABLED, during
 * shutdown AL_ESHUTDOWN (Tokio's wording, see al_error.h); a malformed
 * address AL_EINVAL; failures from the OS a negated errno (-ECONNREFUSED,
 * -EADDRINUSE, -ECONNRESET, -EPIPE...). A pending operation interrupted by
 * the runtime's shutdown completes with AL_ESHUTDOWN.
 *
 * Addresses are numeric "a.b.c.d:port" or "[v6]:port" ("localhost:port" is
 * taken as 127.0.0.1); no name resolution (it would block).
 *
 * Events: RESOURCE_CREATE (kind AL_RES_TCP_LISTENER / AL_RES_TCP_STREAM,
 * str: the local address for a listener, the peer's for a stream) when a
 * socket is created, RESOURCE_DROP when it is freed; IO_READY when epoll
 * reports one (emitted by the driver).
 *
 * Every I/O readiness poll consumes one unit of the coop budget.
 */
#ifndef AL_NET_H
#define AL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_future.h"

/* Room for any address text this module produces, "[v6]:port" included. */
#define AL_NET_ADDRSTRLEN 64

typedef struct al_tcp_listener al_tcp_listener_t;
typedef struct al_tcp_stream al_tcp_stream_t;

/* ---- listener ---- */

/*
 * Bind and listen on addr ("127.0.0.1:0" picks a free port), SO_REUSEADDR,
 * backlog 1024. Needs a runtime context with I/O (see errors above).
 */
int al_tcp_listener_bind(const char *addr, al_tcp_listener_t **out);
/* The bound address as text ("127.0.0.1:40123"). 0, or AL_EINVAL when buf is
 * too small. */
int al_tcp_listener_local_addr(const al_tcp_listener_t *l, char *buf, size_t n);
uint64_t al_tcp_listener_id(const al_tcp_listener_t *l);
/* Close. No accept may be pending on it. NULL is a no-op. */
void al_tcp_listener_free(al_tcp_listener_t *l);

/* An accept in progress [pins]. Fields are private. */
typedef struct al_tcp_accept {
    al_tcp_listener_t *l; /* borrowed */
    int state;
} al_tcp_accept_t;

void al_tcp_accept_init(al_tcp_accept_t *op, al_tcp_listener_t *l);
/*
 * Poll. AL_READY: *err is 0, *out is the new connection (the caller owns it)
 * and, when peer is not NULL, peer holds its address (peer_len >=
 * AL_NET_ADDRSTRLEN is always enough); or *err < 0 (AL_ESHUTDOWN, AL_EBADSTATE
 * when polled after READY, -EMFILE...). AL_PENDING: woken when a connection
 * arrives.
 */
al_poll_t al_tcp_accept_poll(al_tcp_accept_t *op, al_context_t *cx, al_tcp_stream_t **out,
                             char *peer, size_t peer_len, int *err);
void al_tcp_accept_drop(al_tcp_accept_t *op);

/* ---- connect ---- */

/* A connect in progress [pins]. It owns the socket until it hands it out.
 * Fields are private. */
typedef struct al_tcp_connect {
    int state;
    int err; /* error found by init, reported by the first poll */
    int fd;
    void *reg;
    void *io;
    uint64_t id;
    unsigned char addr[128]; /* struct sockaddr_storage */
    uint32_t addr_len;
    char text[AL_NET_ADDRSTRLEN];
} al_tcp_connect_t;

/*
 * Prepare a connection to addr. Returns 0, or the error the first poll will
 * report (no runtime / I/O disabled / AL_EINVAL for a bad address): op is
 * valid to poll and drop either way.
 */
int al_tcp_connect_init(al_tcp_connect_t *op, const char *addr);
/* Poll. AL_READY: *err is 0 and *out the connected stream (the caller owns
 * it), or *err < 0 (-ECONNREFUSED, AL_ESHUTDOWN, ...). */
al_poll_t al_tcp_connect_poll(al_tcp_connect_t *op, al_context_t *cx, al_tcp_stream_t **out,
                              int *err);
/* Before READY, closes the half-made socket. */
void al_tcp_connect_drop(al_tcp_connect_t *op);

/* ---- stream ---- */

uint64_t al_tcp_stream_id(const al_tcp_stream_t *s);
/* The peer's / our address as text. 0, AL_EINVAL (buffer too small), or a
 * negated errno (-ENOTCONN). */
int al_tcp_stream_peer_addr(const al_tcp_stream_t *s, char *buf, size_t n);
int al_tcp_stream_local_addr(const al_tcp_stream_t *s, char *buf, size_t n);
/* Set TCP_NODELAY. 0 or a negated errno. */
int al_tcp_stream_set_nodelay(al_tcp_stream_t *s, bool on);
/* Shut the write side (the peer reads EOF once the data sent is read).
 * Immediate: 0 or a negated errno (-ENOTCONN). */
int al_tcp_stream_shutdown(al_tcp_stream_t *s);
/* Close. No operation may be pending on it. NULL is a no-op. */
void al_tcp_stream_free(al_tcp_stream_t *s);

/* A read of up to len bytes [pins]. Fields are private. */
typedef struct al_tcp_read {
    al_tcp_stream_t *s; /* borrowed */
    void *buf;
    size_t len;
    int state;
} al_tcp_read_t;

void al_tcp_read_init(al_tcp_read_t *op, al_tcp_stream_t *s, void *buf, size_t len);
/* Poll. AL_READY: *err is 0 and *n bytes were read (0: end of stream, or
 * len == 0), or *err < 0 (-ECONNRESET, AL_ESHUTDOWN, ...). */
al_poll_t al_tcp_read_poll(al_tcp_read_t *op, al_context_t *cx, size_t *n, int *err);
void al_tcp_read_drop(al_tcp_read_t *op);

/* A write of up to len bytes [pins]: it may write fewer (a partial write). */
typedef struct al_tcp_write {
    al_tcp_stream_t *s; /* borrowed */
    const void *buf;
    size_t len;
    size_t done; /* write_all: bytes written so far */
    bool all;
    int state;
} al_tcp_write_t;

void al_tcp_write_init(al_tcp_write_t *op, al_tcp_stream_t *s, const void *buf, size_t len);
/* The same, but READY only once all len bytes are written (or on error). */
void al_tcp_write_all_init(al_tcp_write_t *op, al_tcp_stream_t *s, const void *buf, size_t len);
/* Poll. AL_READY: *err is 0 and *n bytes were written (write_all: len), or
 * *err < 0 (-EPIPE, -ECONNRESET, AL_ESHUTDOWN; for write_all, *n then says
 * how much was written before the error). No SIGPIPE is raised. */
al_poll_t al_tcp_write_poll(al_tcp_write_t *op, al_context_t *cx, size_t *n, int *err);
void al_tcp_write_drop(al_tcp_write_t *op);

#endif
