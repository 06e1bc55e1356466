/*
 * lua_http.c — rt.net.http_get(url [, {timeout = ms}]) -> status, body, headers
 *
 * One operation (al_lua_op_t) walks connect -> write the request -> read the
 * response, with a timer beside it: whichever is ready first decides. The
 * request is HTTP/1.0 with "Connection: close"; the response ends at
 * Content-Length when the server sends one, else at end of stream. The
 * default timeout (5 s) applies only where timers are enabled; an explicit
 * timeout on a runtime without timers is the timers-disabled error.
 *
 *   local status, body = rt.net.http_get("http://127.0.0.1:8080/health", {timeout = 500})
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "lua_http.h"
#include "lua_task.h"

#define AL_HTTP_DEFAULT_TIMEOUT_MS 5000.0
#define AL_HTTP_MAX_RESPONSE ((size_t)16 << 20)
#define AL_HTTP_CHUNK 16384

enum { ST_CONNECT, ST_WRITE, ST_READ };

typedef struct {
    al_lua_op_t op;
    int stage;
    bool conn_armed, write_armed, read_armed, sleep_armed;
    bool default_timeout;
    double timeout_ms; /* < 0: none */
    al_sleep_t sleep;
    al_tcp_connect_t conn;
    al_tcp_stream_t *s;
    al_tcp_write_t wr;
    al_tcp_read_t rd;
    char *buf; /* the response so far */
    size_t len, cap;
    size_t head_end;     /* where the body starts (0: headers not complete yet) */
    long long body_want; /* Content-Length, -1 if none */
    char addr[AL_NET_ADDRSTRLEN];
    char *url;
    size_t req_len;
    char req[]; /* the request */
} al_lua_http_op_t;

static al_poll_t al_lua_http_fail(al_lua_http_op_t *op, lua_State *L, int *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static al_poll_t al_lua_http_fail(al_lua_http_op_t *op, lua_State *L, int *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "http_get %s: %s", op->url, msg);
    *n = 2;
    return AL_READY;
}

/* The end of the header block in buf[0..len) (index of the body), or 0. */
static size_t al_lua_http_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Calls fn(name, name_len, value, value_len) for each header line of the
 * head (after the status line); trims blanks and the \r. */
static void al_lua_http_each_header(const char *head, size_t len,
                                    void (*fn)(void *, const char *, size_t, const char *, size_t),
                                    void *arg)
{
    const char *p = memchr(head, '\n', len);
    const char *end = head + len;
    while (p && ++p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon) {
            const char *v = colon + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            fn(arg, p, (size_t)(colon - p), v, (size_t)(ve - v));
        }
        p = eol;
    }
}

static void al_lua_http_content_length(void *arg, const char *name, size_t nlen, const char *v,
                                       size_t vlen)
{
    if (nlen != 14 || strncasecmp(name, "content-length", 14) != 0)
        return;
    long long n = 0;
    for (size_t i = 0; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9' || n > (1LL << 40))
            return;
        n = n * 10 + (v[i] - '0');
    }
    if (vlen > 0)
        *(long long *)arg = n;
}

static void al_lua_http_set_header(void *arg, const char *name, size_t nlen, const char *v,
                                   size_t vlen)
{
    lua_State *L = arg;
    char key[128];
    if (nlen == 0 || nlen >= sizeof key)
        return;
    for (size_t i = 0; i < nlen; i++)
        key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lua_pushlstring(L, key, nlen);
    lua_pushlstring(L, v, vlen);
    lua_settable(L, -3);
}

/* The whole response is in: push true, status, body, headers. */
static al_poll_t al_lua_http_finish(al_lua_http_op_t *op, lua_State *L, int *n)
{
    if (op->head_end == 0)
        return al_lua_http_fail(op, L, n,
                                op->len == 0 ? "the server closed the connection without a response"
                                             : "incomplete response (the headers never ended)");
    int status = 0;
    if (op->len < 12 || strncmp(op->buf, "HTTP/1.", 7) != 0 || op->buf[8] != ' ' ||
        sscanf(op->buf + 9, "%3d", &status) != 1 || status < 100) {
        size_t l = strcspn(op->buf, "\r\n");
        return al_lua_http_fail(op, L, n, "not an HTTP response (it begins %.*s)",
                                (int)(l < 60 ? l : 60), op->buf);
    }
    size_t body = op->len - op->head_end;
    if (op->body_want >= 0) {
        if (body < (size_t)op->body_want)
            return al_lua_http_fail(op, L, n, "the response ended after %zu of its %lld body bytes",
                                    body, op->body_want);
        body = (size_t)op->body_want;
    }
    lua_pushboolean(L, 1);
    lua_pushinteger(L, status);
    lua_pushlstring(L, op->buf + op->head_end, body);
    lua_newtable(L);
    al_lua_http_each_header(op->buf, op->head_end, al_lua_http_set_header, L);
    *n = 4;
    return AL_READY;
}

static al_poll_t al_lua_http_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_http_op_t *op = (al_lua_http_op_t *)o;
    if (op->timeout_ms >= 0) {
        if (!op->sleep_armed) {
            op->sleep_armed = true;
            int rc = al_sleep_init(&op->sleep, (uint64_t)(op->timeout_ms * 1e6));
            if (rc != 0 && op->default_timeout)
                op->timeout_ms = -1; /* no timers here: no default deadline */
            else if (rc != 0)
                return al_lua_http_fail(op, L, n, "%s", al_strerror(rc));
        }
        if (op->timeout_ms >= 0 && al_sleep_poll(&op->sleep, cx) == AL_READY) {
            int rc = al_sleep_result(&op->sleep);
            if (rc != 0)
                return al_lua_http_fail(op, L, n, "%s", al_strerror(rc));
            return al_lua_http_fail(op, L, n, "timed out after %g ms (%s)", op->timeout_ms,
                                    op->stage == ST_CONNECT ? "connecting"
                                    : op->stage == ST_WRITE ? "sending the request"
                                                            : "no complete response yet");
        }
    }
    int err = 0;
    if (op->stage == ST_CONNECT) {
        if (!op->conn_armed) {
            al_tcp_connect_init(&op->conn, op->addr);
            op->conn_armed = true;
        }
        if (al_tcp_connect_poll(&op->conn, cx, &op->s, &err) == AL_PENDING)
            return AL_PENDING;
        if (err == -ECONNREFUSED)
            return al_lua_http_fail(op, L, n,
                                    "cannot connect to %s: connection refused (nothing listens "
                                    "there)",
                                    op->addr);
        if (err == AL_EINVAL)
            return al_lua_http_fail(op, L, n,
                                    "invalid address '%s' (a numeric address or localhost; names "
                                    "are not looked up)",
                                    op->addr);
        if (err != 0)
            return al_lua_http_fail(op, L, n, "cannot connect to %s: %s", op->addr,
                                    al_strerror(err));
        op->stage = ST_WRITE;
    }
    if (op->stage == ST_WRITE) {
        if (!op->write_armed) {
            al_tcp_write_all_init(&op->wr, op->s, op->req, op->req_len);
            op->write_armed = true;
        }
        size_t done;
        if (al_tcp_write_poll(&op->wr, cx, &done, &err) == AL_PENDING)
            return AL_PENDING;
        if (err != 0)
            return al_lua_http_fail(op, L, n, "sending the request failed: %s", al_strerror(err));
        op->stage = ST_READ;
    }
    for (;;) {
        if (op->head_end == 0 && (op->head_end = al_lua_http_head_end(op->buf, op->len)) != 0)
            al_lua_http_each_header(op->buf, op->head_end, al_lua_http_content_length,
                                    &op->body_want);
        if (op->head_end != 0 && op->body_want >= 0 &&
            op->len - op->head_end >= (size_t)op->body_want)
            return al_lua_http_finish(op, L, n);
        if (op->len >= AL_HTTP_MAX_RESPONSE)
            return al_lua_http_fail(op, L, n, "the response is larger than %zu bytes",
                                    AL_HTTP_MAX_RESPONSE);
        if (!op->read_armed) {
            if (op->cap - op->len < AL_HTTP_CHUNK) {
                size_t cap = op->len + AL_HTTP_CHUNK + 1;
                char *b = realloc(op->buf, cap);
                if (!b)
                    return al_lua_http_fail(op, L, n, "out of memory");
                op->buf = b;
                op->cap = cap;
            }
            /* keep one byte for a terminating NUL (the status line is scanned) */
            al_tcp_read_init(&op->rd, op->s, op->buf + op->len, op->cap - op->len - 1);
            op->read_armed = true;
        }
        size_t got;
        if (al_tcp_read_poll(&op->rd, cx, &got, &err) == AL_PENDING)
            return AL_PENDING;
        al_tcp_read_drop(&op->rd);
        op->read_armed = false;
        if (err != 0)
            return al_lua_http_fail(op, L, n, "reading the response failed: %s", al_strerror(err));
        op->len += got;
        op->buf[op->len] = '\0';
        if (got == 0)
            return al_lua_http_finish(op, L, n);
    }
}

static void al_lua_http_drop(al_lua_op_t *o)
{
    al_lua_http_op_t *op = (al_lua_http_op_t *)o;
    if (op->read_armed)
        al_tcp_read_drop(&op->rd);
    if (op->write_armed)
        al_tcp_write_drop(&op->wr);
    if (op->conn_armed)
        al_tcp_connect_drop(&op->conn);
    al_tcp_stream_free(op->s);
    if (op->sleep_armed)
        al_sleep_drop(&op->sleep);
    free(op->buf);
    free(op->url);
    free(op);
}

/* rt.net.http_get(url [, {timeout = ms}]) */
static int al_lua_http_get(lua_State *L)
{
    size_t ulen;
    const char *url = luaL_checklstring(L, 1, &ulen);
    double timeout = AL_HTTP_DEFAULT_TIMEOUT_MS;
    bool dflt = true;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        int t = lua_getfield(L, 2, "timeout");
        if (t == LUA_TNUMBER) {
            timeout = lua_tonumber(L, -1);
            if (!(timeout >= 0) || timeout > 1e12)
                return luaL_argerror(L, 2, "timeout: a duration in ms from 0 to 1e12 expected");
            dflt = false;
        } else if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
            timeout = -1; /* timeout = false: wait as long as it takes */
            dflt = false;
        } else if (t != LUA_TNIL) {
            return luaL_argerror(L, 2, "timeout: milliseconds (or false for none) expected");
        }
        lua_pop(L, 1);
    }
    if (strncasecmp(url, "https://", 8) == 0)
        return luaL_argerror(L, 1,
                             "https is not supported (http_get is a tiny HTTP/1.0 client for "
                             "loopback health checks)");
    if (strncasecmp(url, "http://", 7) != 0)
        return luaL_argerror(L, 1, "an http:// URL expected (\"http://127.0.0.1:8080/health\")");
    const char *host = url + 7;
    size_t hlen = strcspn(host, "/?#");
    const char *path = host + hlen;
    if (hlen == 0 || hlen + 7 >= AL_NET_ADDRSTRLEN || memchr(host, '@', hlen))
        return luaL_argerror(L, 1, "the URL has no usable host:port");
    char addr[AL_NET_ADDRSTRLEN];
    bool has_port = memchr(host, ':', hlen) != NULL && host[hlen - 1] != ']';
    snprintf(addr, sizeof addr, "%.*s%s", (int)hlen, host, has_port ? "" : ":80");
    if (!*path || *path != '/')
        path = *path == '?' ? path : "/"; /* "http://h:1" and "http://h:1?x" */
    size_t plen = strcspn(path, "#");

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "GET ");
    if (*path == '?')
        luaL_addchar(&b, '/');
    luaL_addlstring(&b, path, plen);
    luaL_addstring(&b, " HTTP/1.0\r\nHost: ");
    luaL_addlstring(&b, host, hlen);
    luaL_addstring(&b, "\r\nUser-Agent: asynclab\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    luaL_pushresult(&b);
    size_t rlen;
    const char *req = lua_tolstring(L, -1, &rlen);

    al_lua_http_op_t *op = calloc(1, sizeof *op + rlen);
    char *url_copy = strdup(url);
    if (!op || !url_copy) {
        free(op);
        free(url_copy);
        return luaL_error(L, "out of memory");
    }
    op->op = (al_lua_op_t){al_lua_http_poll, al_lua_http_drop, "rt.net.http_get"};
    op->timeout_ms = timeout;
    op->default_timeout = dflt;
    op->body_want = -1;
    op->url = url_copy;
    memcpy(op->addr, addr, strlen(addr) + 1);
    memcpy(op->req, req, rlen);
    op->req_len = rlen;
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

void al_lua_open_http(lua_State *L, int net)
{
    lua_pushcfunction(L, al_lua_http_get);
    lua_setfield(L, net, "http_get");
}
