/*
 * lua_net.c — rt.net.TcpListener and rt.net.TcpStream for Lua (Tokio's
 * tokio::net), over the runtime's non-blocking sockets (al_net.h).
 *
 *   local l = rt.net.TcpListener.bind("127.0.0.1:0"); l:local_addr()
 *   local c, peer = l:accept()
 *   local c = rt.net.TcpStream.connect(addr)
 *   c:read(n)  c:read_line()  c:read_to_end()  c:write(s)  c:shutdown()  c:close()
 *
 * Listeners and streams are shared handles: a socket may be used by several
 * tasks (one reading, another writing). The C socket is closed when c:close()
 * is called and no operation is in progress on it, or when the last handle
 * is collected. close() wakes a task waiting on the socket; that wait fails
 * with "... was closed". One read (or accept) and one write at a time: a
 * second reader gets an error naming the rule.
 *
 * Reads go through a small buffer kept with the stream, so read_line can
 * leave the bytes after a line for the next read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_http.h"
#include "lua_net.h"
#include "lua_rt.h"
#include "lua_task.h"

/* Bytes asked of the socket per read. */
#define AL_LUA_NET_CHUNK 16384
/* Longest line read_line accepts, and most read_to_end collects. */
#define AL_LUA_NET_LINE_MAX ((size_t)1 << 20)
#define AL_LUA_NET_ALL_MAX ((size_t)64 << 20)

enum { DIR_READ = 0, DIR_WRITE = 1 };

typedef struct al_lua_sock {
    atomic_int refs;
    pthread_mutex_t lock;  /* closed, busy, waker[], l, s */
    al_tcp_listener_t *l;  /* a listener's socket, or */
    al_tcp_stream_t *s;    /* a stream's; NULL once freed */
    bool closed;           /* close() was called */
    int busy;              /* operations in progress: they keep the socket */
    al_waker_t waker[2];   /* the waiting read (accept) / write: close wakes it */
    atomic_bool active[2]; /* a read (accept) / a write in progress */
    /* Bytes read but not yet returned; only the active reader touches them. */
    char *in;
    size_t in_start, in_end, in_cap;
    uint64_t id;
    char addr[AL_NET_ADDRSTRLEN]; /* the listener's own address / the stream's peer */
} al_lua_sock_t;

extern const al_lua_class_t al_lua_listener_class, al_lua_stream_class;

static void al_lua_sock_free_io(al_tcp_listener_t *l, al_tcp_stream_t *s)
{
    al_tcp_listener_free(l);
    al_tcp_stream_free(s);
}

static void al_lua_sock_retain(void *o)
{
    atomic_fetch_add(&((al_lua_sock_t *)o)->refs, 1);
}

static void al_lua_sock_release(void *o)
{
    al_lua_sock_t *k = o;
    if (atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    /* No operation holds it (each holds a reference): nothing is pending. */
    al_lua_sock_free_io(k->l, k->s);
    al_waker_drop(&k->waker[0]);
    al_waker_drop(&k->waker[1]);
    pthread_mutex_destroy(&k->lock);
    free(k->in);
    free(k);
}

/* A handle for a new socket (takes it over); NULL when out of memory (the
 * socket is then closed). */
static al_lua_sock_t *al_lua_sock_new(al_tcp_listener_t *l, al_tcp_stream_t *s)
{
    al_lua_sock_t *k = calloc(1, sizeof *k);
    if (!k) {
        al_lua_sock_free_io(l, s);
        return NULL;
    }
    atomic_init(&k->refs, 1);
    pthread_mutex_init(&k->lock, NULL);
    k->l = l;
    k->s = s;
    atomic_init(&k->active[0], false);
    atomic_init(&k->active[1], false);
    if (l) {
        k->id = al_tcp_listener_id(l);
        al_tcp_listener_local_addr(l, k->addr, sizeof k->addr);
    } else {
        k->id = al_tcp_stream_id(s);
        if (al_tcp_stream_peer_addr(s, k->addr, sizeof k->addr) != 0)
            snprintf(k->addr, sizeof k->addr, "?");
    }
    return k;
}

/* Start an operation in direction dir: NULL, or why not (nothing taken). */
static const char *al_lua_sock_begin(al_lua_sock_t *k, int dir, bool listener)
{
    if (atomic_exchange(&k->active[dir], true))
        return listener ? "another task is already accepting on this TcpListener (one accept at "
                          "a time)"
               : dir == DIR_READ
                   ? "another task is already reading from this TcpStream (one reader and one "
                     "writer at a time)"
                   : "another task is already writing to this TcpStream (one reader and one "
                     "writer at a time)";
    pthread_mutex_lock(&k->lock);
    bool closed = k->closed;
    if (!closed)
        k->busy++;
    pthread_mutex_unlock(&k->lock);
    if (closed) {
        atomic_store(&k->active[dir], false);
        return listener ? "this TcpListener was closed (l:close())"
                        : "this TcpStream was closed (c:close())";
    }
    al_lua_sock_retain(k);
    return NULL;
}

/* End it (from the operation's drop, after its C operation was dropped):
 * the socket is freed here if it was closed meanwhile. */
static void al_lua_sock_end(al_lua_sock_t *k, int dir)
{
    al_tcp_listener_t *l = NULL;
    al_tcp_stream_t *s = NULL;
    pthread_mutex_lock(&k->lock);
    al_waker_t w = k->waker[dir];
    k->waker[dir] = AL_WAKER_NONE;
    if (--k->busy == 0 && k->closed) {
        l = k->l;
        s = k->s;
        k->l = NULL;
        k->s = NULL;
    }
    pthread_mutex_unlock(&k->lock);
    al_waker_drop(&w);
    al_lua_sock_free_io(l, s);
    atomic_store(&k->active[dir], false);
    al_lua_sock_release(k);
}

/* Before returning Pending: false if the socket was closed (the caller then
 * fails the operation); otherwise keeps the task's waker for close(). */
static bool al_lua_sock_wait(al_lua_sock_t *k, int dir, al_context_t *cx)
{
    al_waker_t old = AL_WAKER_NONE;
    pthread_mutex_lock(&k->lock);
    bool open = !k->closed;
    if (open && !al_waker_will_wake(&k->waker[dir], &cx->waker)) {
        old = k->waker[dir];
        k->waker[dir] = al_waker_clone(&cx->waker);
    }
    pthread_mutex_unlock(&k->lock);
    al_waker_drop(&old); /* never under the lock: a drop may drop a task */
    return open;
}

static bool al_lua_sock_is_closed(al_lua_sock_t *k)
{
    pthread_mutex_lock(&k->lock);
    bool closed = k->closed;
    pthread_mutex_unlock(&k->lock);
    return closed;
}

/* c:close() / l:close(): idempotent. */
static void al_lua_sock_close(al_lua_sock_t *k)
{
    al_tcp_listener_t *l = NULL;
    al_tcp_stream_t *s = NULL;
    al_waker_t w[2] = {AL_WAKER_NONE, AL_WAKER_NONE};
    pthread_mutex_lock(&k->lock);
    if (!k->closed) {
        k->closed = true;
        w[0] = k->waker[0];
        w[1] = k->waker[1];
        k->waker[0] = k->waker[1] = AL_WAKER_NONE;
        if (k->busy == 0) {
            l = k->l;
            s = k->s;
            k->l = NULL;
            k->s = NULL;
        }
    }
    pthread_mutex_unlock(&k->lock);
    al_waker_wake(&w[0], AL_WAKE_SRC(AL_WAKE_IO, k->id));
    al_waker_wake(&w[1], AL_WAKE_SRC(AL_WAKE_IO, k->id));
    al_lua_sock_free_io(l, s);
}

/* An operation's failure: `false, message`. */
static al_poll_t al_lua_net_fail(lua_State *L, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static al_poll_t al_lua_net_fail(lua_State *L, int *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushboolean(L, 0);
    lua_pushstring(L, msg);
    *n = 2;
    return AL_READY;
}

/* A message for a failed address ("invalid address ..." explains the form). */
static const char *al_lua_net_why(int rc)
{
    if (rc == AL_EINVAL)
        return "invalid address (expected \"127.0.0.1:PORT\", \"[::1]:PORT\" or "
               "\"localhost:PORT\"; names are not looked up)";
    return al_strerror(rc);
}

/* Push a handle for a new stream socket; false (nothing pushed) when out of memory. */
static bool al_lua_push_stream(lua_State *L, al_tcp_stream_t *s)
{
    al_lua_sock_t *k = al_lua_sock_new(NULL, s);
    if (!k)
        return false;
    al_lua_handle_push(L, &al_lua_stream_class, k);
    return true;
}

/* ---- TcpListener ---- */

typedef struct {
    const char *addr;
    al_tcp_listener_t *l;
    int rc;
} al_lua_bind_t;

static void al_lua_bind_in_context(void *arg)
{
    al_lua_bind_t *b = arg;
    b->rc = al_tcp_listener_bind(b->addr, &b->l);
}

static int al_lua_listener_bind(lua_State *L)
{
    al_lua_bind_t b = {luaL_checkstring(L, 1), NULL, 0};
    al_lua_in_context(L, al_lua_bind_in_context, &b);
    if (b.rc != 0)
        return luaL_error(L, "cannot bind '%s': %s", b.addr, al_lua_net_why(b.rc));
    al_lua_sock_t *k = al_lua_sock_new(b.l, NULL);
    if (!k)
        return luaL_error(L, "out of memory");
    al_lua_handle_push(L, &al_lua_listener_class, k);
    return 1;
}

static int al_lua_listener_local_addr(lua_State *L)
{
    al_lua_sock_t *k = al_lua_handle_check(L, 1, &al_lua_listener_class);
    if (al_lua_sock_is_closed(k))
        return luaL_error(L, "this TcpListener was closed (l:close())");
    lua_pushstring(L, k->addr);
    return 1;
}

static int al_lua_listener_close(lua_State *L)
{
    al_lua_sock_close(al_lua_handle_check(L, 1, &al_lua_listener_class));
    return 0;
}

typedef struct {
    al_lua_op_t op;
    al_lua_sock_t *k;
    al_tcp_accept_t acc;
} al_lua_accept_op_t;

static al_poll_t al_lua_accept_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_accept_op_t *op = (al_lua_accept_op_t *)o;
    if (al_lua_sock_is_closed(op->k))
        return al_lua_net_fail(L, n, "accept failed: the TcpListener was closed");
    al_tcp_stream_t *s = NULL;
    char peer[AL_NET_ADDRSTRLEN] = "";
    int err = 0;
    if (al_tcp_accept_poll(&op->acc, cx, &s, peer, sizeof peer, &err) == AL_PENDING) {
        if (al_lua_sock_wait(op->k, DIR_READ, cx))
            return AL_PENDING;
        return al_lua_net_fail(L, n, "accept failed: the TcpListener was closed");
    }
    if (err != 0)
        return al_lua_net_fail(L, n, "accept failed: %s", al_strerror(err));
    lua_pushboolean(L, 1);
    if (!al_lua_push_stream(L, s)) {
        lua_pop(L, 1);
        return al_lua_net_fail(L, n, "out of memory");
    }
    lua_pushstring(L, peer);
    *n = 3;
    return AL_READY;
}

static void al_lua_accept_drop(al_lua_op_t *o)
{
    al_lua_accept_op_t *op = (al_lua_accept_op_t *)o;
    al_tcp_accept_drop(&op->acc);
    al_lua_sock_end(op->k, DIR_READ);
    free(op);
}

static int al_lua_listener_accept(lua_State *L)
{
    al_lua_sock_t *k = al_lua_handle_check(L, 1, &al_lua_listener_class);
    al_lua_accept_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    const char *why = al_lua_sock_begin(k, DIR_READ, true);
    if (why) {
        free(op);
        return luaL_error(L, "%s", why);
    }
    *op = (al_lua_accept_op_t){.op = {al_lua_accept_poll, al_lua_accept_drop, "TcpListener:accept"},
                               .k = k};
    al_tcp_accept_init(&op->acc, k->l);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static void al_lua_sock_describe(void *o, char *buf, size_t cap)
{
    al_lua_sock_t *k = o;
    bool closed = al_lua_sock_is_closed(k);
    snprintf(buf, cap, "#%llu %s%s", (unsigned long long)k->id, k->addr, closed ? " (closed)" : "");
}

const al_lua_class_t al_lua_listener_class = {
    .name = "TcpListener",
    .retain = al_lua_sock_retain,
    .release = al_lua_sock_release,
    .describe = al_lua_sock_describe,
    .methods = (const luaL_Reg[]){{"accept", al_lua_listener_accept},
                                  {"local_addr", al_lua_listener_local_addr},
                                  {"close", al_lua_listener_close},
                                  {NULL, NULL}}};

/* ---- TcpStream.connect ---- */

typedef struct {
    al_lua_op_t op;
    bool armed;
    al_tcp_connect_t conn;
    char addr[AL_NET_ADDRSTRLEN];
} al_lua_connect_op_t;

static al_poll_t al_lua_connect_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_connect_op_t *op = (al_lua_connect_op_t *)o;
    if (!op->armed) { /* here, in the runtime's context (also at the top level) */
        al_tcp_connect_init(&op->conn, op->addr);
        op->armed = true;
    }
    al_tcp_stream_t *s = NULL;
    int err = 0;
    if (al_tcp_connect_poll(&op->conn, cx, &s, &err) == AL_PENDING)
        return AL_PENDING;
    if (err == -ECONNREFUSED)
        return al_lua_net_fail(
            L, n, "cannot connect to %s: connection refused (nothing listens there)", op->addr);
    if (err != 0)
        return al_lua_net_fail(L, n, "cannot connect to '%s': %s", op->addr, al_lua_net_why(err));
    lua_pushboolean(L, 1);
    if (!al_lua_push_stream(L, s)) {
        lua_pop(L, 1);
        return al_lua_net_fail(L, n, "out of memory");
    }
    *n = 2;
    return AL_READY;
}

static void al_lua_connect_drop(al_lua_op_t *o)
{
    al_lua_connect_op_t *op = (al_lua_connect_op_t *)o;
    if (op->armed)
        al_tcp_connect_drop(&op->conn);
    free(op);
}

static int al_lua_stream_connect(lua_State *L)
{
    size_t len;
    const char *addr = luaL_checklstring(L, 1, &len);
    if (len >= AL_NET_ADDRSTRLEN)
        return luaL_error(L, "cannot connect to '%s': %s", addr, al_lua_net_why(AL_EINVAL));
    al_lua_connect_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_connect_op_t){
        .op = {al_lua_connect_poll, al_lua_connect_drop, "TcpStream.connect"}};
    memcpy(op->addr, addr, len + 1);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* ---- reading ---- */

enum { RD_SOME, RD_LINE, RD_ALL };

typedef struct {
    al_lua_op_t op;
    al_lua_sock_t *k;
    int mode;
    size_t max; /* RD_SOME: at most this many bytes */
    bool armed, eof;
    al_tcp_read_t rd;
} al_lua_read_op_t;

/* Push len buffered bytes (minus `skip` trailing ones not returned) and
 * consume len. */
static void al_lua_read_take(al_lua_sock_t *k, lua_State *L, size_t len, size_t skip)
{
    lua_pushlstring(L, k->in + k->in_start, len - skip);
    k->in_start += len;
    if (k->in_start == k->in_end)
        k->in_start = k->in_end = 0;
}

/* Ready from the buffer (or at end of stream)? Pushes the result. */
static bool al_lua_read_from_buffer(al_lua_read_op_t *op, lua_State *L)
{
    al_lua_sock_t *k = op->k;
    size_t have = k->in_end - k->in_start;
    const char *p = k->in + k->in_start;
    if (op->mode == RD_SOME && have > 0) {
        al_lua_read_take(k, L, have < op->max ? have : op->max, 0);
        return true;
    }
    if (op->mode == RD_LINE && have > 0) {
        const char *nl = memchr(p, '\n', have);
        if (nl) {
            size_t len = (size_t)(nl - p) + 1;
            al_lua_read_take(k, L, len, len >= 2 && nl[-1] == '\r' ? 2 : 1);
            return true;
        }
    }
    if (!op->eof)
        return false;
    if (op->mode == RD_ALL || have > 0)
        al_lua_read_take(k, L, have, 0); /* the rest ("" for read_to_end) */
    else
        lua_pushnil(L); /* end of stream */
    return true;
}

static al_poll_t al_lua_read_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_read_op_t *op = (al_lua_read_op_t *)o;
    al_lua_sock_t *k = op->k;
    for (;;) {
        if (al_lua_sock_is_closed(k))
            return al_lua_net_fail(L, n, "read failed: the TcpStream was closed");
        lua_pushboolean(L, 1);
        if (al_lua_read_from_buffer(op, L)) {
            *n = 2;
            return AL_READY;
        }
        lua_pop(L, 1);
        size_t have = k->in_end - k->in_start;
        if (op->mode == RD_LINE && have >= AL_LUA_NET_LINE_MAX)
            return al_lua_net_fail(L, n, "read_line: no end of line in the first %zu bytes",
                                   AL_LUA_NET_LINE_MAX);
        if (op->mode == RD_ALL && have >= AL_LUA_NET_ALL_MAX)
            return al_lua_net_fail(L, n, "read_to_end: more than %zu bytes", AL_LUA_NET_ALL_MAX);
        if (!op->armed) { /* room for a chunk after what is buffered */
            if (k->in_start > 0) {
                memmove(k->in, k->in + k->in_start, have);
                k->in_start = 0;
                k->in_end = have;
            }
            if (k->in_cap - k->in_end < AL_LUA_NET_CHUNK) {
                size_t cap = k->in_end + AL_LUA_NET_CHUNK;
                char *b = realloc(k->in, cap);
                if (!b)
                    return al_lua_net_fail(L, n, "out of memory");
                k->in = b;
                k->in_cap = cap;
            }
            al_tcp_read_init(&op->rd, k->s, k->in + k->in_end, k->in_cap - k->in_end);
            op->armed = true;
        }
        size_t got = 0;
        int err = 0;
        if (al_tcp_read_poll(&op->rd, cx, &got, &err) == AL_PENDING) {
            if (al_lua_sock_wait(k, DIR_READ, cx))
                return AL_PENDING;
            continue; /* closed meanwhile: fails above */
        }
        al_tcp_read_drop(&op->rd);
        op->armed = false;
        if (err != 0)
            return al_lua_net_fail(L, n, "read failed: %s", al_strerror(err));
        if (got == 0)
            op->eof = true;
        k->in_end += got;
    }
}

static void al_lua_read_drop(al_lua_op_t *o)
{
    al_lua_read_op_t *op = (al_lua_read_op_t *)o;
    if (op->armed)
        al_tcp_read_drop(&op->rd);
    al_lua_sock_end(op->k, DIR_READ);
    free(op);
}

static int al_lua_stream_read_common(lua_State *L, int mode, size_t max, const char *what)
{
    al_lua_sock_t *k = al_lua_handle_check(L, 1, &al_lua_stream_class);
    al_lua_read_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    const char *why = al_lua_sock_begin(k, DIR_READ, false);
    if (why) {
        free(op);
        return luaL_error(L, "%s", why);
    }
    *op = (al_lua_read_op_t){
        .op = {al_lua_read_poll, al_lua_read_drop, what}, .k = k, .mode = mode, .max = max};
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_stream_read(lua_State *L)
{
    lua_Integer max = luaL_optinteger(L, 2, 4096);
    luaL_argcheck(L, max >= 1 && max <= (1 << 30), 2, "a byte count from 1 to 2^30 expected");
    return al_lua_stream_read_common(L, RD_SOME, (size_t)max, "TcpStream:read");
}

static int al_lua_stream_read_line(lua_State *L)
{
    return al_lua_stream_read_common(L, RD_LINE, 0, "TcpStream:read_line");
}

static int al_lua_stream_read_to_end(lua_State *L)
{
    return al_lua_stream_read_common(L, RD_ALL, 0, "TcpStream:read_to_end");
}

/* ---- writing ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_sock_t *k;
    bool armed;
    al_tcp_write_t wr;
    size_t len;
    char data[]; /* a copy of the string */
} al_lua_write_op_t;

static al_poll_t al_lua_write_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_write_op_t *op = (al_lua_write_op_t *)o;
    al_lua_sock_t *k = op->k;
    for (;;) {
        if (al_lua_sock_is_closed(k))
            return al_lua_net_fail(L, n, "write failed: the TcpStream was closed");
        if (!op->armed) {
            al_tcp_write_all_init(&op->wr, k->s, op->data, op->len);
            op->armed = true;
        }
        size_t done = 0;
        int err = 0;
        if (al_tcp_write_poll(&op->wr, cx, &done, &err) == AL_PENDING) {
            if (al_lua_sock_wait(k, DIR_WRITE, cx))
                return AL_PENDING;
            continue;
        }
        if (err == -EPIPE || err == -ECONNRESET)
            return al_lua_net_fail(L, n,
                                   "write failed after %zu of %zu bytes: %s (the peer closed "
                                   "the connection)",
                                   done, op->len, al_strerror(err));
        if (err != 0)
            return al_lua_net_fail(L, n, "write failed after %zu of %zu bytes: %s", done, op->len,
                                   al_strerror(err));
        lua_pushboolean(L, 1);
        *n = 1;
        return AL_READY;
    }
}

static void al_lua_write_drop(al_lua_op_t *o)
{
    al_lua_write_op_t *op = (al_lua_write_op_t *)o;
    if (op->armed)
        al_tcp_write_drop(&op->wr);
    al_lua_sock_end(op->k, DIR_WRITE);
    free(op);
}

static int al_lua_stream_write(lua_State *L)
{
    al_lua_sock_t *k = al_lua_handle_check(L, 1, &al_lua_stream_class);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    al_lua_write_op_t *op = malloc(sizeof *op + len);
    if (!op)
        return luaL_error(L, "out of memory");
    const char *why = al_lua_sock_begin(k, DIR_WRITE, false);
    if (why) {
        free(op);
        return luaL_error(L, "%s", why);
    }
    *op = (al_lua_write_op_t){
        .op = {al_lua_write_poll, al_lua_write_drop, "TcpStream:write"}, .k = k, .len = len};
    memcpy(op->data, s, len);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* ---- the rest ---- */

/* Run a short call on the open stream under its lock (so that close cannot
 * free it meanwhile); raises the closed error. */
static al_tcp_stream_t *al_lua_stream_lock(lua_State *L, al_lua_sock_t **kp)
{
    al_lua_sock_t *k = al_lua_handle_check(L, 1, &al_lua_stream_class);
    pthread_mutex_lock(&k->lock);
    if (k->closed || !k->s) {
        pthread_mutex_unlock(&k->lock);
        luaL_error(L, "this TcpStream was closed (c:close())");
        return NULL;
    }
    *kp = k;
    return k->s;
}

static int al_lua_stream_shutdown(lua_State *L)
{
    al_lua_sock_t *k;
    al_tcp_stream_t *s = al_lua_stream_lock(L, &k);
    int rc = al_tcp_stream_shutdown(s);
    pthread_mutex_unlock(&k->lock);
    if (rc != 0)
        return luaL_error(L, "shutdown failed: %s", al_strerror(rc));
    return 0;
}

static int al_lua_stream_addr(lua_State *L, bool peer)
{
    al_lua_sock_t *k;
    al_tcp_stream_t *s = al_lua_stream_lock(L, &k);
    char buf[AL_NET_ADDRSTRLEN];
    int rc = peer ? al_tcp_stream_peer_addr(s, buf, sizeof buf)
                  : al_tcp_stream_local_addr(s, buf, sizeof buf);
    pthread_mutex_unlock(&k->lock);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    lua_pushstring(L, buf);
    return 1;
}

static int al_lua_stream_peer_addr(lua_State *L)
{
    return al_lua_stream_addr(L, true);
}

static int al_lua_stream_local_addr(lua_State *L)
{
    return al_lua_stream_addr(L, false);
}

static int al_lua_stream_set_nodelay(lua_State *L)
{
    al_lua_sock_t *k;
    al_tcp_stream_t *s = al_lua_stream_lock(L, &k);
    int rc = al_tcp_stream_set_nodelay(s, lua_toboolean(L, 2));
    pthread_mutex_unlock(&k->lock);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    return 0;
}

static int al_lua_stream_close(lua_State *L)
{
    al_lua_sock_close(al_lua_handle_check(L, 1, &al_lua_stream_class));
    return 0;
}

const al_lua_class_t al_lua_stream_class = {
    .name = "TcpStream",
    .retain = al_lua_sock_retain,
    .release = al_lua_sock_release,
    .describe = al_lua_sock_describe,
    .methods = (const luaL_Reg[]){{"read", al_lua_stream_read},
                                  {"read_line", al_lua_stream_read_line},
                                  {"read_to_end", al_lua_stream_read_to_end},
                                  {"write", al_lua_stream_write},
                                  {"shutdown", al_lua_stream_shutdown},
                                  {"close", al_lua_stream_close},
                                  {"peer_addr", al_lua_stream_peer_addr},
                                  {"local_addr", al_lua_stream_local_addr},
                                  {"set_nodelay", al_lua_stream_set_nodelay},
                                  {NULL, NULL}}};

void al_lua_open_net(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_listener_class);
    al_lua_class_register(L, &al_lua_stream_class);
    lua_pushvalue(L, rt);
    al_lua_module(L, "net", "rt.net", (const luaL_Reg[]){{NULL, NULL}});
    lua_getfield(L, -1, "net");
    al_lua_module(L, "TcpListener", "rt.net.TcpListener",
                  (const luaL_Reg[]){{"bind", al_lua_listener_bind}, {NULL, NULL}});
    al_lua_module(L, "TcpStream", "rt.net.TcpStream",
                  (const luaL_Reg[]){{"connect", al_lua_stream_connect}, {NULL, NULL}});
    al_lua_open_http(L, lua_gettop(L));
    lua_pop(L, 2);
}
