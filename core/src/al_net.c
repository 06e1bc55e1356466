/*
 * al_net.c — non-blocking TCP on the reactor (al_net.h is the contract).
 *
 * Every socket is created non-blocking and close-on-exec and registered with
 * the reactor once (edge-triggered, read + write interest). Each operation is
 * the same loop, as Tokio's PollEvented::poll_read:
 *
 *     for (;;) {
 *         poll the direction's readiness     -> Pending: the task waits
 *         try the syscall                    -> done (or failed): Ready
 *         EAGAIN: clear that readiness (only if no newer event came), retry
 *     }
 *
 * A connect owns its half-made socket (fd + registration) until it hands the
 * stream out, so dropping it early (cancellation) closes the socket. The
 * socket is registered only after connect() was issued: an unconnected TCP
 * socket reports EPOLLHUP, which would read as a failure.
 *
 * Ownership and sharing. A listener / stream handle is owned by its creator;
 * operations borrow it. Its fields are written at creation only, then read by
 * the operations; the readiness state behind them is the registration's
 * (al_io.c documents its locking). One reader (read / accept) and one writer
 * may use a handle concurrently; an operation's own struct is touched only by
 * the task that polls it.
 *
 * Dropping a pending read / write / accept removes the waker it left in the
 * registration, so a cancelled task is not kept alive by the socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "al_internal.h"
#include "al_io.h"
#include "al_net.h"

struct al_tcp_listener {
    int fd;
    al__io_reg_t *reg;
    struct al__io *io;
    uint64_t id;
    char local[AL_NET_ADDRSTRLEN];
};

struct al_tcp_stream {
    int fd;
    al__io_reg_t *reg;
    struct al__io *io;
    uint64_t id;
};

/* Operation states (the `state` field of every operation struct). */
enum { OP_IDLE = 0, OP_WAITING, OP_DONE, OP_DROPPED };
/* Connect only: before connect() / connect issued and registered. */
enum { CONN_INIT = 0, CONN_PENDING = 1, CONN_DONE = 2, CONN_DROPPED = 3 };

_Static_assert(sizeof(struct sockaddr_storage) <= sizeof(((al_tcp_connect_t *)0)->addr),
               "al_tcp_connect_t.addr must hold a sockaddr_storage");

/* ---- addresses ---------------------------------------------------------------------------- */

static int al__net_parse_port(const char *p, uint16_t *out)
{
    if (!*p)
        return AL_EINVAL;
    unsigned long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return AL_EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return AL_EINVAL;
    }
    *out = (uint16_t)v;
    return 0;
}

/* "a.b.c.d:port", "[v6]:port", "localhost:port" -> sockaddr. */
static int al__net_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    if (!s)
        return AL_EINVAL;
    char host[AL_NET_ADDRSTRLEN];
    const char *port;
    bool v6 = s[0] == '[';
    if (v6) {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return AL_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return AL_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
    }
    uint16_t p;
    if (al__net_parse_port(port, &p) != 0)
        return AL_EINVAL;
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(p);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return AL_EINVAL;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(p);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return AL_EINVAL;
        *len = sizeof *a;
    }
    return 0;
}

static int al__net_format(const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    int w;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        w = snprintf(buf, n, "%s:%u", host, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        w = snprintf(buf, n, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        w = snprintf(buf, n, "?");
    }
    return w < 0 || (size_t)w >= n ? AL_EINVAL : 0;
}

static int al__net_sockname(int fd, bool peer, char *buf, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
              : getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0)
        return -errno;
    return al__net_format(&ss, buf, n);
}

/* ---- streams ------------------------------------------------------------------------------ */

static void al__net_emit_create(struct al__io *io, uint64_t id, al_resource_kind_t kind,
                                const char *name)
{
    AL__EMIT(al__io_runtime(io), AL_EV_RESOURCE_CREATE, al__current_task_id(), id, kind, name);
}

static void al__net_emit_drop(struct al__io *io, uint64_t id)
{
    AL__EMIT(al__io_runtime(io), AL_EV_RESOURCE_DROP, 0, id, 0, NULL);
}

/* Wrap a registered, connected socket. NULL when out of memory. */
static al_tcp_stream_t *al__net_stream_make(struct al__io *io, int fd, al__io_reg_t *reg,
                                            uint64_t id)
{
    al_tcp_stream_t *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    *s = (al_tcp_stream_t){.fd = fd, .reg = reg, .io = io, .id = id};
    return s;
}

uint64_t al_tcp_stream_id(const al_tcp_stream_t *s)
{
    return s->id;
}

int al_tcp_stream_peer_addr(const al_tcp_stream_t *s, char *buf, size_t n)
{
    return al__net_sockname(s->fd, true, buf, n);
}

int al_tcp_stream_local_addr(const al_tcp_stream_t *s, char *buf, size_t n)
{
    return al__net_sockname(s->fd, false, buf, n);
}

int al_tcp_stream_set_nodelay(al_tcp_stream_t *s, bool on)
{
    int v = on;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 ? 0 : -errno;
}

int al_tcp_stream_shutdown(al_tcp_stream_t *s)
{
    return shutdown(s->fd, SHUT_WR) == 0 ? 0 : -errno;
}

void al_tcp_stream_free(al_tcp_stream_t *s)
{
    if (!s)
        return;
    al__net_emit_drop(s->io, s->id); /* while the registration pins the io */
    al__io_deregister(s->reg);       /* leave epoll before the fd number can be reused */
    close(s->fd);
    free(s);
}

/* ---- listener ----------------------------------------------------------------------------- */

int al__tcp_listener_bind_on(struct al__io *io, const char *addr, al_tcp_listener_t **out)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!out || al__net_parse(addr, &ss, &sl) != 0)
        return AL_EINVAL;
    if (al__io_is_shutdown(io))
        return AL_ESHUTDOWN;
    al_tcp_listener_t *l = calloc(1, sizeof *l);
    if (!l)
        return AL_ENOMEM;
    int rc, one = 1;
    l->io = io;
    l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        rc = -errno;
        free(l);
        return rc;
    }
    if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(l->fd, (struct sockaddr *)&ss, sl) != 0 || listen(l->fd, 1024) != 0) {
        rc = -errno;
        goto fail;
    }
    if ((rc = al__net_sockname(l->fd, false, l->local, sizeof l->local)) != 0)
        goto fail;
    l->id = al__resource_id_next();
    if ((rc = al__io_register(io, l->fd, l->id, &l->reg)) != 0)
        goto fail;
    al__net_emit_create(io, l->id, AL_RES_TCP_LISTENER, l->local);
    *out = l;
    return 0;

fail:
    close(l->fd);
    free(l);
    return rc;
}

int al_tcp_listener_bind(const char *addr, al_tcp_listener_t **out)
{
    struct al__io *io;
    int rc = al__context_io(&io);
    if (rc != 0)
        return rc;
    return al__tcp_listener_bind_on(io, addr, out);
}

int al_tcp_listener_local_addr(const al_tcp_listener_t *l, char *buf, size_t n)
{
    size_t len = strlen(l->local);
    if (!buf || n <= len)
        return AL_EINVAL;
    memcpy(buf, l->local, len + 1);
    return 0;
}

uint64_t al_tcp_listener_id(const al_tcp_listener_t *l)
{
    return l->id;
}

void al_tcp_listener_free(al_tcp_listener_t *l)
{
    if (!l)
        return;
    al__net_emit_drop(l->io, l->id);
    al__io_deregister(l->reg);
    close(l->fd);
    free(l);
}

/* ---- accept ------------------------------------------------------------------------------- */

void al_tcp_accept_init(al_tcp_accept_t *op, al_tcp_listener_t *l)
{
    *op = (al_tcp_accept_t){.l = l, .state = OP_IDLE};
}

al_poll_t al_tcp_accept_poll(al_tcp_accept_t *op, al_context_t *cx, al_tcp_stream_t **out,
                             char *peer, size_t peer_len, int *err)
{
    if (op->state == OP_DONE || op->state == OP_DROPPED) {
        *err = AL_EBADSTATE;
        return AL_READY;
    }
    al_tcp_listener_t *l = op->l;
    for (;;) {
        al__io_ready_t ev;
        if (al__io_poll_read_ready(l->reg, cx, &ev) == AL_PENDING) {
            op->state = OP_WAITING;
            return AL_PENDING;
        }
        op->state = OP_DONE;
        if (ev.err) {
            *err = ev.err;
            return AL_READY;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                al__io_clear_readiness(l->reg, &ev);
                continue;
            }
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* that connection died in the queue: take the next */
            *err = -errno;
            return AL_READY;
        }
        char text[AL_NET_ADDRSTRLEN];
        al__net_format(&ss, text, sizeof text);
        uint64_t id = al__resource_id_next();
        al__io_reg_t *reg;
        int rc = al__io_register(l->io, fd, id, &reg);
        al_tcp_stream_t *s = rc == 0 ? al__net_stream_make(l->io, fd, reg, id) : NULL;
        if (!s) {
            if (rc == 0) {
                al__io_deregister(reg);
                rc = AL_ENOMEM;
            }
            close(fd);
            *err = rc;
            return AL_READY;
        }
        al__net_emit_create(l->io, id, AL_RES_TCP_STREAM, text);
        if (peer && peer_len)
            snprintf(peer, peer_len, "%s", text);
        *out = s;
        *err = 0;
        return AL_READY;
    }
}

void al_tcp_accept_drop(al_tcp_accept_t *op)
{
    if (op->state == OP_WAITING)
        al__io_drop_waker(op->l->reg, false);
    op->state = OP_DROPPED;
}

/* ---- connect ------------------------------------------------------------------------------ */

int al__tcp_connect_init_on(al_tcp_connect_t *op, struct al__io *io, const char *addr)
{
    memset(op, 0, sizeof *op);
    op->state = CONN_INIT;
    op->fd = -1;
    op->io = io;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (al__net_parse(addr, &ss, &sl) != 0)
        return op->err = AL_EINVAL;
    memcpy(op->addr, &ss, sl);
    op->addr_len = sl;
    snprintf(op->text, sizeof op->text, "%s", addr);
    return 0;
}

int al_tcp_connect_init(al_tcp_connect_t *op, const char *addr)
{
    struct al__io *io = NULL;
    int rc = al__context_io(&io);
    if (rc != 0) {
        al__tcp_connect_init_on(op, NULL, addr);
        return op->err = rc;
    }
    return al__tcp_connect_init_on(op, io, addr);
}

/* Close the half-made socket (failure or cancellation). */
static void al__tcp_connect_cleanup(al_tcp_connect_t *op)
{
    if (op->fd >= 0)
        al__net_emit_drop(op->io, op->id);
    if (op->reg)
        al__io_deregister(op->reg);
    op->reg = NULL;
    if (op->fd >= 0)
        close(op->fd);
    op->fd = -1;
}

static al_poll_t al__tcp_connect_fail(al_tcp_connect_t *op, int rc, int *err)
{
    al__tcp_connect_cleanup(op);
    op->state = CONN_DONE;
    *err = rc;
    return AL_READY;
}

al_poll_t al_tcp_connect_poll(al_tcp_connect_t *op, al_context_t *cx, al_tcp_stream_t **out,
                              int *err)
{
    if (op->state == CONN_DONE || op->state == CONN_DROPPED) {
        *err = AL_EBADSTATE;
        return AL_READY;
    }
    if (op->err)
        return al__tcp_connect_fail(op, op->err, err);
    struct al__io *io = op->io;
    if (op->state == CONN_INIT) {
        if (al__io_is_shutdown(io))
            return al__tcp_connect_fail(op, AL_ESHUTDOWN, err);
        const struct sockaddr *sa = (const struct sockaddr *)op->addr;
        op->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (op->fd < 0)
            return al__tcp_connect_fail(op, -errno, err);
        op->id = al__resource_id_next();
        al__net_emit_create(io, op->id, AL_RES_TCP_STREAM, op->text);
        int rc;
        do
            rc = connect(op->fd, sa, op->addr_len);
        while (rc != 0 && errno == EINTR);
        if (rc != 0 && errno != EINPROGRESS)
            return al__tcp_connect_fail(op, -errno, err);
        al__io_reg_t *reg;
        if ((rc = al__io_register(io, op->fd, op->id, &reg)) != 0)
            return al__tcp_connect_fail(op, rc, err);
        op->reg = reg;
        op->state = CONN_PENDING;
    }
    for (;;) {
        al__io_ready_t ev;
        if (al__io_poll_write_ready(op->reg, cx, &ev) == AL_PENDING)
            return AL_PENDING;
        if (ev.err)
            return al__tcp_connect_fail(op, ev.err, err);
        int so = 0;
        socklen_t sl = sizeof so;
        if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
            return al__tcp_connect_fail(op, -errno, err);
        if (so != 0)
            return al__tcp_connect_fail(op, -so, err);
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        if (getpeername(op->fd, (struct sockaddr *)&peer, &pl) != 0) {
            if (errno == ENOTCONN) { /* not yet: wait for the next edge */
                al__io_clear_readiness(op->reg, &ev);
                continue;
            }
            return al__tcp_connect_fail(op, -errno, err);
        }
        al_tcp_stream_t *s = al__net_stream_make(io, op->fd, op->reg, op->id);
        if (!s)
            return al__tcp_connect_fail(op, AL_ENOMEM, err);
        op->fd = -1; /* the stream owns the socket now */
        op->reg = NULL;
        op->state = CONN_DONE;
        *out = s;
        *err = 0;
        return AL_READY;
    }
}

void al_tcp_connect_drop(al_tcp_connect_t *op)
{
    if (op->state == CONN_DROPPED)
        return;
    al__tcp_connect_cleanup(op);
    op->state = CONN_DROPPED;
}

/* ---- read / write ------------------------------------------------------------------------- */

void al_tcp_read_init(al_tcp_read_t *op, al_tcp_stream_t *s, void *buf, size_t len)
{
    *op = (al_tcp_read_t){.s = s, .buf = buf, .len = len, .state = OP_IDLE};
}

al_poll_t al_tcp_read_poll(al_tcp_read_t *op, al_context_t *cx, size_t *n, int *err)
{
    if (op->state == OP_DONE || op->state == OP_DROPPED) {
        *err = AL_EBADSTATE;
        return AL_READY;
    }
    *n = 0;
    if (op->len == 0) {
        op->state = OP_DONE;
        *err = 0;
        return AL_READY;
    }
    al_tcp_stream_t *s = op->s;
    for (;;) {
        al__io_ready_t ev;
        if (al__io_poll_read_ready(s->reg, cx, &ev) == AL_PENDING) {
            op->state = OP_WAITING;
            return AL_PENDING;
        }
        if (ev.err) {
            op->state = OP_DONE;
            *err = ev.err;
            return AL_READY;
        }
        ssize_t r = recv(s->fd, op->buf, op->len, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                al__io_clear_readiness(s->reg, &ev);
                continue;
            }
            if (errno == EINTR)
                continue;
            op->state = OP_DONE;
            *err = -errno;
            return AL_READY;
        }
        op->state = OP_DONE;
        *n = (size_t)r;
        *err = 0;
        return AL_READY;
    }
}

void al_tcp_read_drop(al_tcp_read_t *op)
{
    if (op->state == OP_WAITING)
        al__io_drop_waker(op->s->reg, false);
    op->state = OP_DROPPED;
}

void al_tcp_write_init(al_tcp_write_t *op, al_tcp_stream_t *s, const void *buf, size_t len)
{
    *op = (al_tcp_write_t){.s = s, .buf = buf, .len = len, .state = OP_IDLE};
}

void al_tcp_write_all_init(al_tcp_write_t *op, al_tcp_stream_t *s, const void *buf, size_t len)
{
    al_tcp_write_init(op, s, buf, len);
    op->all = true;
}

al_poll_t al_tcp_write_poll(al_tcp_write_t *op, al_context_t *cx, size_t *n, int *err)
{
    if (op->state == OP_DONE || op->state == OP_DROPPED) {
        *n = op->done;
        *err = AL_EBADSTATE;
        return AL_READY;
    }
    al_tcp_stream_t *s = op->s;
    int rc = 0;
    while (op->done < op->len) {
        al__io_ready_t ev;
        if (al__io_poll_write_ready(s->reg, cx, &ev) == AL_PENDING) {
            op->state = OP_WAITING;
            return AL_PENDING;
        }
        if (ev.err) {
            rc = ev.err;
            break;
        }
        ssize_t w = send(s->fd, (const char *)op->buf + op->done, op->len - op->done, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                al__io_clear_readiness(s->reg, &ev);
                continue;
            }
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        op->done += (size_t)w;
        if (!op->all)
            break;
    }
    op->state = OP_DONE;
    *n = op->done;
    *err = rc;
    return AL_READY;
}

void al_tcp_write_drop(al_tcp_write_t *op)
{
    if (op->state == OP_WAITING)
        al__io_drop_waker(op->s->reg, true);
    op->state = OP_DROPPED;
}
