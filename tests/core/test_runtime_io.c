/*
 * test_runtime_io.c — sockets through a real runtime: an echo over loopback
 * between tasks on different workers, the I/O context errors, and shutdown
 * while a task is blocked in a read and a blocking task is running.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "al_test.h"
#include "al_test_futures.h"

/* ---- echo server task: accept one connection, echo until EOF ---- */

typedef struct {
    al_tcp_listener_t *l;
    int state;
    al_tcp_accept_t acc;
    al_tcp_stream_t *s;
    al_tcp_read_t rd;
    al_tcp_write_t wr;
    char buf[4096];
    size_t have;
    int err;
} echo_t;

static al_poll_t echo_poll(void *f, al_context_t *cx, void *out)
{
    echo_t *e = f;
    size_t n;
    int err;
    for (;;) {
        switch (e->state) {
        case 0:
            al_tcp_accept_init(&e->acc, e->l);
            e->state = 1;
            /* fallthrough */
        case 1:
            if (al_tcp_accept_poll(&e->acc, cx, &e->s, NULL, 0, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_accept_drop(&e->acc);
            if (err)
                return al_panic(cx, "accept: %s", al_strerror(err));
            e->state = 2;
            break;
        case 2:
            al_tcp_read_init(&e->rd, e->s, e->buf, sizeof e->buf);
            e->state = 3;
            /* fallthrough */
        case 3:
            if (al_tcp_read_poll(&e->rd, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_read_drop(&e->rd);
            if (err)
                return al_panic(cx, "read: %s", al_strerror(err));
            if (n == 0) { /* EOF: close our side too */
                al_tcp_stream_shutdown(e->s);
                al_tcp_stream_free(e->s);
                e->s = NULL;
                return AL_READY;
            }
            al_tcp_write_all_init(&e->wr, e->s, e->buf, n);
            e->state = 4;
            /* fallthrough */
        case 4:
            if (al_tcp_write_poll(&e->wr, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_write_drop(&e->wr);
            if (err)
                return al_panic(cx, "write: %s", al_strerror(err));
            e->state = 2;
            break;
        }
    }
}
static void echo_drop(void *f)
{
    echo_t *e = f;
    if (e->state == 1)
        al_tcp_accept_drop(&e->acc);
    if (e->state == 3)
        al_tcp_read_drop(&e->rd);
    if (e->state == 4)
        al_tcp_write_drop(&e->wr);
    al_tcp_stream_free(e->s);
}
static const al_future_vtable_t echo_vt = {
    .type_name = "echo", .poll = echo_poll, .drop = echo_drop, .future_size = sizeof(echo_t)};

/* ---- client (the main future): connect, send everything, read it back ---- */

typedef struct {
    size_t total;
    unsigned char *sent, *got;
    int state;
    al_tcp_listener_t *l;
    al_join_t *server;
    al_tcp_connect_t conn;
    al_tcp_stream_t *s;
    al_tcp_write_t wr;
    al_tcp_read_t rd;
    size_t received;
    int setup_err;
} client_t;

static al_poll_t client_poll(void *f, al_context_t *cx, void *out)
{
    client_t *c = f;
    size_t n;
    int err;
    al_join_result_t res;
    for (;;) {
        switch (c->state) {
        case 0: {
            c->setup_err = al_tcp_listener_bind("127.0.0.1:0", &c->l);
            if (c->setup_err)
                return AL_READY;
            echo_t e = {.l = c->l};
            cr_assert_eq(al_spawn(NULL, &echo_vt, &e, NULL, &c->server), 0);
            char addr[64];
            al_tcp_listener_local_addr(c->l, addr, sizeof addr);
            al_tcp_connect_init(&c->conn, addr);
            c->state = 1;
            break;
        }
        case 1:
            if (al_tcp_connect_poll(&c->conn, cx, &c->s, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_connect_drop(&c->conn);
            cr_assert_eq(err, 0, "connect: %s", al_strerror(err));
            al_tcp_write_all_init(&c->wr, c->s, c->sent, c->total);
            c->state = 2;
            break;
        case 2:
            /* Read while writing would be nicer; the echo fits the socket
             * buffers for our sizes only if we drain, so interleave. */
            if (al_tcp_write_poll(&c->wr, cx, &n, &err) == AL_PENDING) {
                if (c->received < c->total) {
                    al_tcp_read_init(&c->rd, c->s, c->got + c->received,
                                     c->total - c->received);
                    c->state = 5;
                    break;
                }
                return AL_PENDING;
            }
            al_tcp_write_drop(&c->wr);
            cr_assert_eq(err, 0);
            al_tcp_stream_shutdown(c->s);
            c->state = 3;
            break;
        case 5: /* a read while the write waits for room */
            if (al_tcp_read_poll(&c->rd, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_read_drop(&c->rd);
            cr_assert_eq(err, 0);
            c->received += n;
            c->state = 2;
            break;
        case 3:
            if (c->received == c->total) {
                c->state = 4;
                break;
            }
            al_tcp_read_init(&c->rd, c->s, c->got + c->received, c->total - c->received);
            c->state = 6;
            /* fallthrough */
        case 6:
            if (al_tcp_read_poll(&c->rd, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_read_drop(&c->rd);
            cr_assert_eq(err, 0);
            cr_assert_gt(n, 0, "early EOF at %zu of %zu", c->received, c->total);
            c->received += n;
            c->state = 3;
            break;
        case 4:
            if (al_join_poll(c->server, cx, NULL, &res) == AL_PENDING)
                return AL_PENDING;
            cr_assert_eq(res.kind, AL_JOIN_OK, "server: %s", res.panic_msg ? res.panic_msg : "");
            al_join_drop(c->server);
            al_tcp_stream_free(c->s);
            al_tcp_listener_free(c->l);
            return AL_READY;
        }
    }
}
static const al_future_vtable_t client_vt = {
    .type_name = "client", .poll = client_poll, .future_size = sizeof(client_t)};

Test(runtime_io, echo_over_loopback_between_tasks)
{
    for (int flavor = 0; flavor < 2; flavor++) {
        al_runtime_t *rt = tf_runtime(flavor ? AL_CURRENT_THREAD : AL_MULTI_THREAD, 2);
        client_t c = {.total = (size_t)al_test_scale(1 << 20)};
        c.sent = malloc(c.total);
        c.got = malloc(c.total);
        for (size_t i = 0; i < c.total; i++)
            c.sent[i] = (unsigned char)(i * 7 + i / 251);
        tf_run(rt, &client_vt, &c);
        cr_assert_eq(c.setup_err, 0, "bind: %s", al_strerror(c.setup_err));
        cr_assert_eq(c.received, c.total);
        cr_assert_eq(memcmp(c.sent, c.got, c.total), 0);
        free(c.sent);
        free(c.got);
        al_runtime_free(rt);
    }
}

/* ---- context errors ---- */

typedef struct {
    int rc;
} bind_try_t;

static al_poll_t bind_try_poll(void *f, al_context_t *cx, void *out)
{
    bind_try_t *b = f;
    al_tcp_listener_t *l = NULL;
    b->rc = al_tcp_listener_bind("127.0.0.1:0", &l);
    al_tcp_listener_free(l);
    return AL_READY;
}
static const al_future_vtable_t bind_try_vt = {.poll = bind_try_poll,
                                               .future_size = sizeof(bind_try_t)};

Test(runtime_io, sockets_need_a_runtime_with_io_enabled)
{
    al_tcp_listener_t *l = NULL;
    cr_assert_eq(al_tcp_listener_bind("127.0.0.1:0", &l), AL_ENORUNTIME);
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 2; /* enable_io left off */
    al_runtime_t *rt;
    cr_assert_eq(al_runtime_new(&cfg, &rt), 0);
    bind_try_t b = {0};
    tf_run(rt, &bind_try_vt, &b);
    cr_assert_eq(b.rc, AL_EIODISABLED);
    cr_assert(strstr(al_strerror(b.rc), "Call `enable_io` on the runtime builder"));
    al_runtime_free(rt);
}

/* ---- shutdown while a reader waits and a blocking task runs ---- */

typedef struct {
    al_tcp_listener_t *l;
    al_tcp_connect_t conn;
    al_tcp_stream_t *s;
    al_tcp_read_t rd;
    char buf[16];
    int state;
    atomic_int *waiting, *dropped;
} reader_t;

static al_poll_t reader_poll(void *f, al_context_t *cx, void *out)
{
    reader_t *r = f;
    int err;
    size_t n;
    if (r->state == 0) {
        char addr[64];
        al_tcp_listener_local_addr(r->l, addr, sizeof addr);
        al_tcp_connect_init(&r->conn, addr);
        r->state = 1;
    }
    if (r->state == 1) {
        if (al_tcp_connect_poll(&r->conn, cx, &r->s, &err) == AL_PENDING)
            return AL_PENDING;
        al_tcp_connect_drop(&r->conn);
        if (err)
            return al_panic(cx, "connect: %s", al_strerror(err));
        al_tcp_read_init(&r->rd, r->s, r->buf, sizeof r->buf);
        r->state = 2;
    }
    /* Nobody ever writes: this read waits until shutdown. */
    if (al_tcp_read_poll(&r->rd, cx, &n, &err) == AL_PENDING) {
        atomic_store(r->waiting, 1);
        return AL_PENDING;
    }
    return AL_READY;
}
static void reader_drop(void *f)
{
    reader_t *r = f;
    if (r->state == 1)
        al_tcp_connect_drop(&r->conn);
    if (r->state == 2)
        al_tcp_read_drop(&r->rd);
    al_tcp_stream_free(r->s);
    atomic_fetch_add(r->dropped, 1);
}
static const al_future_vtable_t reader_vt = {.type_name = "reader",
                                             .poll = reader_poll,
                                             .drop = reader_drop,
                                             .future_size = sizeof(reader_t)};

typedef struct {
    al_tcp_listener_t *l;
} bind_out_t;

static al_poll_t bind_out_poll(void *f, al_context_t *cx, void *out)
{
    bind_out_t *b = f;
    cr_assert_eq(al_tcp_listener_bind("127.0.0.1:0", &b->l), 0);
    return AL_READY;
}
static const al_future_vtable_t bind_out_vt = {.poll = bind_out_poll,
                                               .future_size = sizeof(bind_out_t)};

static void *slow_blocking(void *arg)
{
    atomic_int *started = arg;
    atomic_store(started, 1);
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL); /* the blocking work shutdown has to wait for */
    return (void *)(intptr_t)7;
}

Test(runtime_io, shutdown_cancels_blocked_readers_and_waits_for_blocking_tasks)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    bind_out_t b = {0};
    tf_run(rt, &bind_out_vt, &b);
    atomic_int waiting = 0, dropped = 0, started = 0;
    reader_t r = {.l = b.l, .waiting = &waiting, .dropped = &dropped};
    al_join_t *hr, *hb;
    cr_assert_eq(al_spawn(rt, &reader_vt, &r, NULL, &hr), 0);
    cr_assert_eq(al_spawn_blocking(rt, slow_blocking, &started, NULL, &hb), 0);
    while (!atomic_load(&waiting) || !atomic_load(&started))
        sched_yield();
    al_shutdown_report_t rep;
    cr_assert_eq(al_runtime_shutdown(rt, 10000, &rep), 0);
    cr_assert(!rep.timed_out);
    cr_assert_eq(rep.tasks_cancelled, 1); /* the reader; the blocking task finished */
    cr_assert_eq(atomic_load(&dropped), 1);
    cr_assert(al_join_is_finished(hr));
    cr_assert(al_join_is_finished(hb));
    al_join_drop(hr);
    al_join_drop(hb);
    al_tcp_listener_free(b.l);
    al_runtime_free(rt);
}
