/*
 * test_net.c — TCP on loopback through a bare driver (al_net.c, al_io.c).
 *
 * No runtime: each test builds an al__driver with I/O (no timers) and drives
 * the socket sub-futures by hand, as tokio-test does: poll with a counting
 * waker; while Pending, park in the driver until that waker counts a wake;
 * poll again. An operation is re-polled only after its own wake, so a lost
 * wake-up shows as a hang (caught by a deadline).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "al_driver.h"
#include "al_io.h"
#include "al_test.h"

static al__driver_t drv;
static struct al__io *io;

/* Events seen through a hook slot posing as the runtime (al__emit only reads
 * the slot at the start of a runtime). */
static al__hook_slot_t fake_rt;
static struct {
    int creates[2]; /* [0] listeners, [1] streams */
    int drops;
    int io_ready;
    uint64_t last_create_id;
} seen;

static void on_event(void *user, const al_event_t *ev)
{
    (void)user;
    if (ev->kind == AL_EV_RESOURCE_CREATE) {
        seen.creates[ev->b == AL_RES_TCP_STREAM]++;
        seen.last_create_id = ev->a;
    } else if (ev->kind == AL_EV_RESOURCE_DROP) {
        seen.drops++;
    } else if (ev->kind == AL_EV_IO_READY) {
        seen.io_ready++;
    }
}

static void net_setup(void)
{
    memset(&seen, 0, sizeof seen);
    atomic_store(&fake_rt.fn, on_event);
    cr_assert_eq(al__driver_init(&drv, (al_runtime_t *)&fake_rt, false, true, false), 0);
    io = drv.io;
    cr_assert_not_null(io);
}

static void net_teardown(void)
{
    al__driver_destroy(&drv);
}

/* Park in the driver until tw counts more than `seen_wakes` wakes (5 s max).
 * When another thread holds the driver (the stress test), let it dispatch. */
static void drive_until_woken(al_test_waker_t *tw, int seen_wakes)
{
    uint64_t deadline = al__now_ns() + 5000000000u;
    while (atomic_load(&tw->wakes) <= seen_wakes) {
        cr_assert_lt(al__now_ns(), deadline, "no wake-up came (lost wake?)");
        if (!al__driver_try_acquire(&drv)) {
            sched_yield();
            continue;
        }
        al__driver_park(&drv, 100 * 1000000);
        al__driver_release(&drv);
    }
}

/* Every clone of tw's waker is gone. Spins briefly: a wake on the driver
 * thread counts the wake before it releases the clone. */
static void assert_no_clones(al_test_waker_t *tw)
{
    uint64_t deadline = al__now_ns() + 5000000000u;
    while (atomic_load(&tw->clones) != 0 && al__now_ns() < deadline)
        sched_yield();
    cr_assert_eq(atomic_load(&tw->clones), 0, "a waker clone was leaked");
}

static al_tcp_listener_t *bind_local(char *addr, size_t n)
{
    al_tcp_listener_t *l = NULL;
    cr_assert_eq(al__tcp_listener_bind_on(io, "127.0.0.1:0", &l), 0);
    cr_assert_eq(al_tcp_listener_local_addr(l, addr, n), 0);
    return l;
}

/* Connect + accept by hand; returns the client and server ends. */
static void make_pair(al_tcp_listener_t *l, const char *addr, al_tcp_stream_t **client,
                      al_tcp_stream_t **server)
{
    al_test_waker_t tc, ta;
    al_context_t cxc = al_test_context(&tc), cxa = al_test_context(&ta);
    al_tcp_connect_t c;
    al_tcp_accept_t a;
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    al_tcp_accept_init(&a, l);
    int errc = 1, erra = 1;
    *client = *server = NULL;
    bool cdone = false, adone = false;
    int cw = -1, aw = -1; /* wakes seen at the last poll (-1: never polled) */
    while (!cdone || !adone) {
        if (!cdone && atomic_load(&tc.wakes) != cw) {
            cw = atomic_load(&tc.wakes);
            cdone = al_tcp_connect_poll(&c, &cxc, client, &errc) == AL_READY;
        }
        if (!adone && atomic_load(&ta.wakes) != aw) {
            aw = atomic_load(&ta.wakes);
            adone = al_tcp_accept_poll(&a, &cxa, server, NULL, 0, &erra) == AL_READY;
        }
        if (!cdone)
            drive_until_woken(&tc, cw);
        else if (!adone)
            drive_until_woken(&ta, aw);
    }
    al_tcp_connect_drop(&c);
    al_tcp_accept_drop(&a);
    cr_assert_eq(errc, 0, "connect: %s", al_strerror(errc));
    cr_assert_eq(erra, 0, "accept: %s", al_strerror(erra));
    assert_no_clones(&tc);
    assert_no_clones(&ta);
}

Test(net, bind_reports_local_addr_and_rejects_bad_addresses, .init = net_setup,
     .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    cr_assert_eq(strncmp(addr, "127.0.0.1:", 10), 0);
    cr_assert_neq(atoi(addr + 10), 0, "port 0 was replaced by a real port");
    char small[8];
    cr_assert_eq(al_tcp_listener_local_addr(l, small, sizeof small), AL_EINVAL);
    cr_assert_eq(seen.creates[0], 1);
    cr_assert_eq(seen.last_create_id, al_tcp_listener_id(l));
    al_tcp_listener_free(l);
    cr_assert_eq(seen.drops, 1);

    const char *bad[] = {"nope",     "127.0.0.1",    "127.0.0.1:", "127.0.0.1:99999",
                         "1.2.3:80", "127.0.0.1:8x", "[::1]",      "[::1:80",
                         ":80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        al_tcp_listener_t *x = NULL;
        cr_assert_eq(al__tcp_listener_bind_on(io, bad[i], &x), AL_EINVAL, "%s", bad[i]);
        cr_assert_null(x);
    }
    al_tcp_listener_t *x = NULL;
    cr_assert_eq(al__tcp_listener_bind_on(io, NULL, &x), AL_EINVAL);
    /* localhost is spelled out, no resolver involved. */
    cr_assert_eq(al__tcp_listener_bind_on(io, "localhost:0", &x), 0);
    al_tcp_listener_free(x);
}

Test(net, public_entry_points_need_a_runtime, .init = net_setup, .fini = net_teardown)
{
    al_tcp_listener_t *l = NULL;
    cr_assert_eq(al_tcp_listener_bind("127.0.0.1:0", &l), AL_ENORUNTIME);
    cr_assert_null(l);
    al_tcp_connect_t c;
    cr_assert_eq(al_tcp_connect_init(&c, "127.0.0.1:1"), AL_ENORUNTIME);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_tcp_stream_t *s = NULL;
    int err = 0;
    cr_assert_eq(al_tcp_connect_poll(&c, &cx, &s, &err), AL_READY);
    cr_assert_eq(err, AL_ENORUNTIME);
    cr_assert_null(s);
    al_tcp_connect_drop(&c);
}

Test(net, accept_waits_then_yields_stream_and_peer, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_test_waker_t ta;
    al_context_t cxa = al_test_context(&ta);
    al_tcp_accept_t a;
    al_tcp_accept_init(&a, l);
    al_tcp_stream_t *server = NULL;
    char peer[AL_NET_ADDRSTRLEN] = "";
    int err = 1;
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &server, peer, sizeof peer, &err), AL_PENDING);
    cr_assert_eq(atomic_load(&ta.clones), 1, "the waker is stored with the listener");
    cr_assert_eq(atomic_load(&ta.wakes), 0);

    al_test_waker_t tc;
    al_context_t cxc = al_test_context(&tc);
    al_tcp_connect_t c;
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    al_tcp_stream_t *client = NULL;
    int cerr = 1;
    while (al_tcp_connect_poll(&c, &cxc, &client, &cerr) == AL_PENDING)
        drive_until_woken(&tc, atomic_load(&tc.wakes));
    cr_assert_eq(cerr, 0);

    drive_until_woken(&ta, 0);
    cr_assert_eq(atomic_load(&ta.last_kind), AL_WAKE_IO);
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &server, peer, sizeof peer, &err), AL_READY);
    cr_assert_eq(err, 0);
    cr_assert_not_null(server);
    char client_local[AL_NET_ADDRSTRLEN], server_peer[AL_NET_ADDRSTRLEN];
    cr_assert_eq(al_tcp_stream_local_addr(client, client_local, sizeof client_local), 0);
    cr_assert_eq(al_tcp_stream_peer_addr(server, server_peer, sizeof server_peer), 0);
    cr_assert_str_eq(peer, client_local);
    cr_assert_str_eq(server_peer, client_local);
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &server, peer, sizeof peer, &err), AL_READY);
    cr_assert_eq(err, AL_EBADSTATE, "polled after READY");
    al_tcp_accept_drop(&a);
    al_tcp_connect_drop(&c);
    cr_assert_eq(seen.creates[1], 2);
    cr_assert_gt(seen.io_ready, 0);
    al_tcp_stream_free(client);
    al_tcp_stream_free(server);
    al_tcp_listener_free(l);
    cr_assert_eq(seen.drops, 3);
    cr_assert_eq(atomic_load(&ta.clones), 0);
}

/* ---- echo of 1 MiB ---- */

#define ECHO_BYTES (1u << 20)

typedef struct op_slot {
    al_test_waker_t tw;
    al_context_t cx;
    int seen; /* wakes at the last poll; -1 before the first */
} op_slot_t;

static void slot_init(op_slot_t *s)
{
    s->cx = al_test_context(&s->tw);
    s->seen = -1;
}

/* A new operation in the same slot: poll it at once (same waker). */
static void slot_rearm(op_slot_t *s)
{
    s->seen = -1;
}

/* Poll only after a wake (or the first time). */
static bool slot_due(op_slot_t *s)
{
    int w = atomic_load(&s->tw.wakes);
    if (w == s->seen)
        return false;
    s->seen = w;
    return true;
}

Test(net, echo_one_mebibyte_through_loopback, .init = net_setup, .fini = net_teardown,
     .timeout = 60)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_tcp_stream_t *client, *server;
    make_pair(l, addr, &client, &server);

    unsigned char *out = malloc(ECHO_BYTES), *back = malloc(ECHO_BYTES);
    for (size_t i = 0; i < ECHO_BYTES; i++)
        out[i] = (unsigned char)(i * 131 + (i >> 9));

    /* client writer: write_all(out); then shutdown(write) */
    op_slot_t cw_s, sr_s, sw_s, cr_s;
    slot_init(&cw_s), slot_init(&sr_s), slot_init(&sw_s), slot_init(&cr_s);
    al_tcp_write_t cw;
    al_tcp_write_all_init(&cw, client, out, ECHO_BYTES);
    bool cw_done = false;
    /* server: read a chunk, write_all it back, until EOF; then shutdown(write) */
    static unsigned char chunk[65536];
    al_tcp_read_t sr;
    al_tcp_write_t sw;
    al_tcp_read_init(&sr, server, chunk, sizeof chunk);
    int s_state = 0; /* 0 reading, 1 writing, 2 done */
    /* client reader: read until EOF into back */
    size_t got = 0;
    al_tcp_read_t cr;
    al_tcp_read_init(&cr, client, back, ECHO_BYTES);
    bool cr_done = false;
    size_t n;
    int err;
    int partial_reads = 0;

    uint64_t deadline = al__now_ns() + 50000000000u;
    while (!cw_done || s_state != 2 || !cr_done) {
        cr_assert_lt(al__now_ns(), deadline, "echo stalled (lost wake?)");
        bool progressed = false;
        if (!cw_done && slot_due(&cw_s) && al_tcp_write_poll(&cw, &cw_s.cx, &n, &err) == AL_READY) {
            cr_assert_eq(err, 0, "%s", al_strerror(err));
            cr_assert_eq(n, ECHO_BYTES);
            al_tcp_write_drop(&cw);
            cr_assert_eq(al_tcp_stream_shutdown(client), 0);
            cw_done = progressed = true;
        }
        while (s_state == 0 && slot_due(&sr_s) &&
               al_tcp_read_poll(&sr, &sr_s.cx, &n, &err) == AL_READY) {
            cr_assert_eq(err, 0, "%s", al_strerror(err));
            al_tcp_read_drop(&sr);
            progressed = true;
            if (n == 0) {
                cr_assert_eq(al_tcp_stream_shutdown(server), 0);
                s_state = 2;
                break;
            }
            partial_reads++;
            al_tcp_write_all_init(&sw, server, chunk, n);
            slot_rearm(&sw_s);
            s_state = 1;
        }
        if (s_state == 1 && slot_due(&sw_s) &&
            al_tcp_write_poll(&sw, &sw_s.cx, &n, &err) == AL_READY) {
            cr_assert_eq(err, 0, "%s", al_strerror(err));
            al_tcp_write_drop(&sw);
            al_tcp_read_init(&sr, server, chunk, sizeof chunk);
            slot_rearm(&sr_s);
            s_state = 0;
            progressed = true;
        }
        while (!cr_done && slot_due(&cr_s) &&
               al_tcp_read_poll(&cr, &cr_s.cx, &n, &err) == AL_READY) {
            cr_assert_eq(err, 0, "%s", al_strerror(err));
            al_tcp_read_drop(&cr);
            progressed = true;
            if (n == 0) {
                cr_done = true;
                break;
            }
            got += n;
            cr_assert_leq(got, ECHO_BYTES);
            al_tcp_read_init(&cr, client, back + got, ECHO_BYTES - got);
            slot_rearm(&cr_s);
        }
        if (!progressed) {
            cr_assert(al__driver_try_acquire(&drv));
            al__driver_park(&drv, 100 * 1000000);
            al__driver_release(&drv);
        }
    }
    cr_assert_eq(got, ECHO_BYTES);
    cr_assert_eq(memcmp(out, back, ECHO_BYTES), 0, "echoed bytes differ");
    cr_assert_gt(partial_reads, 1, "1 MiB does not fit one read of 64 KiB");
    cr_assert_eq(atomic_load(&cw_s.tw.clones) + atomic_load(&sr_s.tw.clones) +
                     atomic_load(&sw_s.tw.clones) + atomic_load(&cr_s.tw.clones),
                 0, "no waker clone outlives the operations");
    free(out);
    free(back);
    al_tcp_stream_free(client);
    al_tcp_stream_free(server);
    al_tcp_listener_free(l);
}

Test(net, read_sees_eof_after_peer_shutdown, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_tcp_stream_t *client, *server;
    make_pair(l, addr, &client, &server);

    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    char buf[16];
    al_tcp_read_t r;
    al_tcp_read_init(&r, server, buf, sizeof buf);
    size_t n = 99;
    int err = 1;
    cr_assert_eq(al_tcp_read_poll(&r, &cx, &n, &err), AL_PENDING);

    /* Data first, then EOF. */
    al_tcp_write_t w;
    al_tcp_write_init(&w, client, "hi", 2);
    al_test_waker_t tw2;
    al_context_t cx2 = al_test_context(&tw2);
    cr_assert_eq(al_tcp_write_poll(&w, &cx2, &n, &err), AL_READY);
    cr_assert_eq(err, 0);
    cr_assert_eq(n, 2);
    al_tcp_write_drop(&w);
    cr_assert_eq(al_tcp_stream_shutdown(client), 0);

    drive_until_woken(&tw, 0);
    cr_assert_eq(al_tcp_read_poll(&r, &cx, &n, &err), AL_READY);
    cr_assert_eq(err, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(memcmp(buf, "hi", 2), 0);
    al_tcp_read_drop(&r);

    /* EOF is sticky: ready at once, and again. */
    for (int i = 0; i < 2; i++) {
        al_tcp_read_init(&r, server, buf, sizeof buf);
        int before = atomic_load(&tw.wakes);
        al_poll_t p = al_tcp_read_poll(&r, &cx, &n, &err);
        if (p == AL_PENDING) { /* the FIN may trail the data's event */
            drive_until_woken(&tw, before);
            p = al_tcp_read_poll(&r, &cx, &n, &err);
        }
        cr_assert_eq(p, AL_READY);
        cr_assert_eq(err, 0);
        cr_assert_eq(n, 0, "EOF");
        al_tcp_read_drop(&r);
    }
    al_tcp_stream_free(client);
    al_tcp_stream_free(server);
    al_tcp_listener_free(l);
    cr_assert_eq(atomic_load(&tw.clones), 0);
}

Test(net, connect_to_closed_port_is_refused, .init = net_setup, .fini = net_teardown)
{
    /* A socket bound but not listening holds the port: connects get RST. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));

    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_tcp_connect_t c;
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    al_tcp_stream_t *s = NULL;
    int err = 0;
    while (al_tcp_connect_poll(&c, &cx, &s, &err) == AL_PENDING)
        drive_until_woken(&tw, atomic_load(&tw.wakes));
    cr_assert_eq(err, -ECONNREFUSED, "%s", al_strerror(err));
    cr_assert_null(s);
    al_tcp_connect_drop(&c);
    cr_assert_eq(seen.creates[1], 1);
    cr_assert_eq(seen.drops, 1, "the failed socket is closed and reported");
    cr_assert_eq(atomic_load(&tw.clones), 0);
    close(fd);
}

Test(net, dropping_pending_operations_releases_everything, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);

    /* A pending accept, dropped: its waker leaves the listener. */
    al_test_waker_t ta;
    al_context_t cxa = al_test_context(&ta);
    al_tcp_accept_t a;
    al_tcp_accept_init(&a, l);
    al_tcp_stream_t *st = NULL;
    int err;
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &st, NULL, 0, &err), AL_PENDING);
    cr_assert_eq(atomic_load(&ta.clones), 1);
    al_tcp_accept_drop(&a);
    al_tcp_accept_drop(&a); /* idempotent */
    cr_assert_eq(atomic_load(&ta.clones), 0);

    /* A pending read, dropped, then its stream freed. */
    al_tcp_stream_t *client, *server;
    make_pair(l, addr, &client, &server);
    al_test_waker_t tr;
    al_context_t cxr = al_test_context(&tr);
    char buf[8];
    al_tcp_read_t r;
    al_tcp_read_init(&r, server, buf, sizeof buf);
    size_t n;
    cr_assert_eq(al_tcp_read_poll(&r, &cxr, &n, &err), AL_PENDING);
    cr_assert_eq(atomic_load(&tr.clones), 1);
    al_tcp_read_drop(&r);
    cr_assert_eq(atomic_load(&tr.clones), 0);
    al_tcp_stream_free(server);

    /* A pending read on the other end, dropped, and that end freed too. */
    al_tcp_read_init(&r, client, buf, sizeof buf);
    al_poll_t p = al_tcp_read_poll(&r, &cxr, &n, &err);
    if (p == AL_PENDING) { /* the server's FIN has not been dispatched yet */
        al_tcp_read_drop(&r);
        cr_assert_eq(atomic_load(&tr.clones), 0);
    } else {
        cr_assert_eq(err, 0);
        cr_assert_eq(n, 0, "the server end is closed: EOF");
        al_tcp_read_drop(&r);
    }
    al_tcp_stream_free(client);

    /* A connect dropped before its first poll, and one dropped after it. */
    al_tcp_connect_t c;
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    al_tcp_connect_drop(&c);
    al_tcp_connect_drop(&c);
    al_test_waker_t tc;
    al_context_t cxc = al_test_context(&tc);
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    if (al_tcp_connect_poll(&c, &cxc, &st, &err) == AL_READY) {
        cr_assert_eq(err, 0);
        al_tcp_stream_free(st);
    }
    al_tcp_connect_drop(&c);
    cr_assert_eq(atomic_load(&tc.clones), 0);

    /* The deregistered registrations are freed by the next park. */
    cr_assert(al__driver_try_acquire(&drv));
    al__driver_park(&drv, 0);
    al__driver_release(&drv);
    al_tcp_listener_free(l);
    cr_assert_eq(seen.creates[0] + seen.creates[1], seen.drops, "every socket created was dropped");
}

Test(net, shutdown_wakes_pending_readers_with_eshutdown, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_tcp_stream_t *client, *server;
    make_pair(l, addr, &client, &server);

    al_test_waker_t tr, ta;
    al_context_t cxr = al_test_context(&tr), cxa = al_test_context(&ta);
    char buf[8];
    al_tcp_read_t r;
    al_tcp_read_init(&r, server, buf, sizeof buf);
    size_t n;
    int err;
    cr_assert_eq(al_tcp_read_poll(&r, &cxr, &n, &err), AL_PENDING);
    al_tcp_accept_t a;
    al_tcp_accept_init(&a, l);
    al_tcp_stream_t *st = NULL;
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &st, NULL, 0, &err), AL_PENDING);

    al__driver_shutdown(&drv);
    cr_assert_eq(atomic_load(&tr.wakes), 1, "shutdown wakes the reader");
    cr_assert_eq(atomic_load(&ta.wakes), 1, "and the acceptor");
    cr_assert_eq(atomic_load(&tr.last_kind), AL_WAKE_IO);
    cr_assert_eq(al_tcp_read_poll(&r, &cxr, &n, &err), AL_READY);
    cr_assert_eq(err, AL_ESHUTDOWN);
    cr_assert_eq(al_tcp_accept_poll(&a, &cxa, &st, NULL, 0, &err), AL_READY);
    cr_assert_eq(err, AL_ESHUTDOWN);
    al_tcp_read_drop(&r);
    al_tcp_accept_drop(&a);

    /* Writes fail the same way, and new sockets are refused. */
    al_tcp_write_t w;
    al_tcp_write_init(&w, client, "x", 1);
    cr_assert_eq(al_tcp_write_poll(&w, &cxr, &n, &err), AL_READY);
    cr_assert_eq(err, AL_ESHUTDOWN);
    al_tcp_write_drop(&w);
    al_tcp_listener_t *l2 = NULL;
    cr_assert_eq(al__tcp_listener_bind_on(io, "127.0.0.1:0", &l2), AL_ESHUTDOWN);
    al_tcp_connect_t c;
    cr_assert_eq(al__tcp_connect_init_on(&c, io, addr), 0);
    cr_assert_eq(al_tcp_connect_poll(&c, &cxr, &st, &err), AL_READY);
    cr_assert_eq(err, AL_ESHUTDOWN);
    al_tcp_connect_drop(&c);

    al_tcp_stream_free(client);
    al_tcp_stream_free(server);
    al_tcp_listener_free(l);
    cr_assert_eq(atomic_load(&tr.clones), 0);
    cr_assert_eq(atomic_load(&ta.clones), 0);
}

Test(net, sockets_outliving_the_driver_can_still_be_freed, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_tcp_stream_t *client, *server;
    make_pair(l, addr, &client, &server);
    al__driver_shutdown(&drv);
    al__driver_destroy(&drv); /* the reactor's memory stays until the last socket */
    al_tcp_stream_free(client);
    al_tcp_stream_free(server);
    al_tcp_listener_free(l);
    cr_assert_eq(al__driver_init(&drv, NULL, false, false, false), 0); /* for the teardown */
}

Test(net, readiness_polls_consume_the_coop_budget, .init = net_setup, .fini = net_teardown)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_tcp_accept_t a;
    al_tcp_accept_init(&a, l);
    al_tcp_stream_t *st;
    int err;

    al__tls.coop = 5; /* as inside a task poll */
    cr_assert_eq(al_tcp_accept_poll(&a, &cx, &st, NULL, 0, &err), AL_PENDING);
    cr_assert_eq(al__tls.coop, 5, "a Pending readiness poll refunds its unit");
    al__tls.coop = 0; /* spent: the poll yields (wakes itself) without trying */
    cr_assert_eq(al_tcp_accept_poll(&a, &cx, &st, NULL, 0, &err), AL_PENDING);
    cr_assert_eq(atomic_load(&tw.wakes), 1);
    cr_assert_eq(atomic_load(&tw.last_kind), AL_WAKE_YIELD);
    al__tls.coop = -1;
    al_tcp_accept_drop(&a);
    al_tcp_listener_free(l);
}

/* A readiness that arrives between the poll and the clear is kept (tick).
 * Works on the reactor directly, with a registered socketpair. */
Test(net, clear_readiness_keeps_a_newer_event, .init = net_setup, .fini = net_teardown)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    al__io_reg_t *reg;
    cr_assert_eq(al__io_register(io, sv[0], 42, &reg), 0);
    cr_assert_eq(al__io_reg_resource_id(reg), 42);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al__io_ready_t ev, ev2;

    /* The first event (writable) arrives; not readable yet. */
    cr_assert_eq(al__io_poll_read_ready(reg, &cx, &ev), AL_PENDING);
    cr_assert_eq(send(sv[1], "a", 1, 0), 1);
    drive_until_woken(&tw, 0);
    cr_assert_eq(al__io_poll_read_ready(reg, &cx, &ev), AL_READY);
    cr_assert(ev.ready & AL__IO_READABLE);
    cr_assert_eq(ev.err, 0);

    /* More data lands (a new edge) before the reader clears: skipped. */
    cr_assert_eq(send(sv[1], "b", 1, 0), 1);
    do {
        cr_assert(al__driver_try_acquire(&drv));
        al__driver_park(&drv, 100 * 1000000);
        al__driver_release(&drv);
        cr_assert_eq(al__io_poll_read_ready(reg, &cx, &ev2), AL_READY);
    } while (ev2.tick == ev.tick);
    al__io_clear_readiness(reg, &ev);
    cr_assert(al__io_readiness(reg) & AL__IO_READABLE, "newer readiness survived the clear");

    /* With the current tick the clear applies; the write bit stays. */
    al__io_clear_readiness(reg, &ev2);
    cr_assert_not(al__io_readiness(reg) & AL__IO_READABLE);
    cr_assert(al__io_readiness(reg) & AL__IO_WRITABLE);
    cr_assert_eq(al__io_poll_read_ready(reg, &cx, &ev), AL_PENDING);

    /* Peer closes: read-closed is reported and never cleared. */
    int before = atomic_load(&tw.wakes);
    close(sv[1]);
    drive_until_woken(&tw, before);
    cr_assert_eq(al__io_poll_read_ready(reg, &cx, &ev), AL_READY);
    cr_assert(ev.ready & AL__IO_READ_CLOSED);
    al__io_clear_readiness(reg, &ev);
    cr_assert(al__io_readiness(reg) & AL__IO_READ_CLOSED);
    al__io_deregister(reg);
    close(sv[0]);
    cr_assert_eq(atomic_load(&tw.clones), 0);
}

/* ---- another thread dispatches while sockets come and go ---- */

typedef struct driver_thread {
    atomic_bool stop;
} driver_thread_t;

static void *run_driver(void *arg)
{
    driver_thread_t *dt = arg;
    while (!atomic_load(&dt->stop)) {
        if (!al__driver_try_acquire(&drv)) {
            sched_yield();
            continue;
        }
        al__driver_park(&drv, -1);
        al__driver_release(&drv);
    }
    return NULL;
}

/* Registrations are deregistered and freed while the driver thread holds
 * epoll batches naming them: the release list must keep that safe (ASan /
 * TSan are the judges here). */
Test(net, sockets_dropped_while_another_thread_dispatches, .init = net_setup, .fini = net_teardown,
     .timeout = 120)
{
    char addr[AL_NET_ADDRSTRLEN];
    al_tcp_listener_t *l = bind_local(addr, sizeof addr);
    driver_thread_t dt = {0};
    pthread_t t;
    pthread_create(&t, NULL, run_driver, &dt);

    int rounds = (int)al_test_scale(400);
    for (int i = 0; i < rounds; i++) {
        al_tcp_stream_t *client, *server;
        make_pair(l, addr, &client, &server);
        al_test_waker_t tw;
        al_context_t cx = al_test_context(&tw);
        char buf[4];
        al_tcp_read_t r;
        al_tcp_read_init(&r, server, buf, sizeof buf);
        size_t n;
        int err;
        al_poll_t p = al_tcp_read_poll(&r, &cx, &n, &err);
        /* Traffic in flight while the ends are torn down. */
        cr_assert_eq(send(*(const int *)client, "ping", 4, MSG_NOSIGNAL), 4);
        if (i % 2) {
            if (p == AL_PENDING)
                drive_until_woken(&tw, 0);
            while (al_tcp_read_poll(&r, &cx, &n, &err) == AL_PENDING)
                drive_until_woken(&tw, atomic_load(&tw.wakes));
            cr_assert_eq(err, 0);
            cr_assert_gt(n, 0);
        }
        al_tcp_read_drop(&r);
        al_tcp_stream_free(i % 3 ? client : server);
        al_tcp_stream_free(i % 3 ? server : client);
        assert_no_clones(&tw);
    }
    al_tcp_listener_free(l);
    atomic_store(&dt.stop, true);
    al__driver_unpark(&drv);
    pthread_join(t, NULL);
    cr_assert_eq(seen.creates[0] + seen.creates[1], seen.drops);
}

/* ---- through a real runtime: context errors, and an echo across tasks ---- */

static al_runtime_t *net_runtime(al_flavor_t flavor, bool io_on)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, flavor);
    cfg.worker_threads = 2;
    cfg.enable_io = io_on;
    al_runtime_t *rt = NULL;
    int rc = al_runtime_new(&cfg, &rt);
    cr_assert_eq(rc, 0, "runtime: %s", al_strerror(rc));
    return rt;
}

/* A future that tries to bind once and reports the code. */
typedef struct bind_once {
    int rc;
} bind_once_t;

static al_poll_t bind_once_poll(void *f, al_context_t *cx, void *out)
{
    (void)cx;
    al_tcp_listener_t *l = NULL;
    int rc = al_tcp_listener_bind("127.0.0.1:0", &l);
    al_tcp_listener_free(l);
    *(int *)out = rc;
    (void)f;
    return AL_READY;
}

static const al_future_vtable_t bind_once_vt = {.type_name = "bind once",
                                                .poll = bind_once_poll,
                                                .future_size = sizeof(bind_once_t),
                                                .output_size = sizeof(int)};

Test(net_rt, bind_inside_runtime_without_io_is_eiodisabled)
{
    al_runtime_t *rt = net_runtime(AL_MULTI_THREAD, false);
    bind_once_t f = {0};
    int out = 1;
    cr_assert_eq(al_runtime_block_on(rt, &bind_once_vt, &f, &out, NULL), 0);
    cr_assert_eq(out, AL_EIODISABLED);
    cr_assert(strstr(al_strerror(out), "Call `enable_io`"));
    al_runtime_free(rt);

    rt = net_runtime(AL_MULTI_THREAD, true);
    cr_assert_eq(al_runtime_block_on(rt, &bind_once_vt, &f, &out, NULL), 0);
    cr_assert_eq(out, 0);
    al_runtime_free(rt);
}

/* Server task: accept one connection, echo until EOF, then shut down. */
typedef struct echo_server {
    int st;
    al_tcp_listener_t *l; /* borrowed */
    al_tcp_accept_t acc;
    al_tcp_stream_t *s;
    al_tcp_read_t rd;
    al_tcp_write_t wr;
    unsigned char buf[8192];
} echo_server_t;

static al_poll_t echo_server_poll(void *fut, al_context_t *cx, void *out)
{
    echo_server_t *e = fut;
    size_t n;
    int err;
    for (;;) {
        switch (e->st) {
        case 0:
            al_tcp_accept_init(&e->acc, e->l);
            e->st = 1;
            /* fallthrough */
        case 1:
            if (al_tcp_accept_poll(&e->acc, cx, &e->s, NULL, 0, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_accept_drop(&e->acc);
            if (err)
                return al_panic(cx, "accept: %s", al_strerror(err));
            al_tcp_read_init(&e->rd, e->s, e->buf, sizeof e->buf);
            e->st = 2;
            break;
        case 2:
            if (al_tcp_read_poll(&e->rd, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_read_drop(&e->rd);
            if (err)
                return al_panic(cx, "read: %s", al_strerror(err));
            if (n == 0) {
                al_tcp_stream_shutdown(e->s);
                *(int *)out = 0;
                e->st = 4;
                return AL_READY;
            }
            al_tcp_write_all_init(&e->wr, e->s, e->buf, n);
            e->st = 3;
            break;
        case 3:
            if (al_tcp_write_poll(&e->wr, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_write_drop(&e->wr);
            if (err)
                return al_panic(cx, "write: %s", al_strerror(err));
            al_tcp_read_init(&e->rd, e->s, e->buf, sizeof e->buf);
            e->st = 2;
            break;
        default:
            return al_panic(cx, "polled after READY");
        }
    }
}

static void echo_server_drop(void *fut)
{
    echo_server_t *e = fut;
    if (e->st == 1)
        al_tcp_accept_drop(&e->acc);
    if (e->st == 2)
        al_tcp_read_drop(&e->rd);
    if (e->st == 3)
        al_tcp_write_drop(&e->wr);
    al_tcp_stream_free(e->s);
}

static const al_future_vtable_t echo_server_vt = {.type_name = "echo server",
                                                  .poll = echo_server_poll,
                                                  .drop = echo_server_drop,
                                                  .future_size = sizeof(echo_server_t),
                                                  .output_size = sizeof(int)};

#define RT_ECHO_BYTES (128u * 1024u)

/* Client (block_on's future): bind, spawn the server, connect, write all,
 * shut down, read everything back, join the server. */
typedef struct echo_client {
    int st;
    al_tcp_listener_t *l;
    al_join_t *srv;
    al_tcp_connect_t con;
    al_tcp_stream_t *c;
    al_tcp_write_t wr;
    al_tcp_read_t rd;
    unsigned char *out, *back;
    size_t got;
} echo_client_t;

static al_poll_t echo_client_poll(void *fut, al_context_t *cx, void *out)
{
    echo_client_t *e = fut;
    size_t n;
    int err;
    char addr[AL_NET_ADDRSTRLEN];
    for (;;) {
        switch (e->st) {
        case 0: {
            if ((err = al_tcp_listener_bind("127.0.0.1:0", &e->l)) != 0)
                return al_panic(cx, "bind: %s", al_strerror(err));
            al_tcp_listener_local_addr(e->l, addr, sizeof addr);
            echo_server_t srv = {.l = e->l};
            if ((err = al_spawn(NULL, &echo_server_vt, &srv, NULL, &e->srv)) != 0)
                return al_panic(cx, "spawn: %s", al_strerror(err));
            if ((err = al_tcp_connect_init(&e->con, addr)) != 0)
                return al_panic(cx, "connect init: %s", al_strerror(err));
            e->st = 1;
            break;
        }
        case 1:
            if (al_tcp_connect_poll(&e->con, cx, &e->c, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_connect_drop(&e->con);
            if (err)
                return al_panic(cx, "connect: %s", al_strerror(err));
            al_tcp_write_all_init(&e->wr, e->c, e->out, RT_ECHO_BYTES);
            e->st = 2;
            break;
        case 2:
            if (al_tcp_write_poll(&e->wr, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_write_drop(&e->wr);
            if (err || n != RT_ECHO_BYTES)
                return al_panic(cx, "write: %s", al_strerror(err));
            al_tcp_stream_shutdown(e->c);
            al_tcp_read_init(&e->rd, e->c, e->back, RT_ECHO_BYTES);
            e->st = 3;
            break;
        case 3:
            if (al_tcp_read_poll(&e->rd, cx, &n, &err) == AL_PENDING)
                return AL_PENDING;
            al_tcp_read_drop(&e->rd);
            if (err)
                return al_panic(cx, "read: %s", al_strerror(err));
            if (n == 0) {
                e->st = 4;
                break;
            }
            e->got += n;
            if (e->got > RT_ECHO_BYTES)
                return al_panic(cx, "too many bytes");
            al_tcp_read_init(&e->rd, e->c, e->back + e->got, RT_ECHO_BYTES - e->got);
            break;
        case 4: {
            al_join_result_t res;
            int srv_out = 1;
            if (al_join_poll(e->srv, cx, &srv_out, &res) == AL_PENDING)
                return AL_PENDING;
            if (res.kind != AL_JOIN_OK)
                return al_panic(cx, "server: %s", res.panic_msg ? res.panic_msg : "cancelled");
            *(size_t *)out = e->got;
            e->st = 5;
            return AL_READY;
        }
        default:
            return al_panic(cx, "polled after READY");
        }
    }
}

/* Idempotent: block_on leaves its future to the caller, who drops it. */
static void echo_client_drop(void *fut)
{
    echo_client_t *e = fut;
    if (e->st == 1)
        al_tcp_connect_drop(&e->con);
    if (e->st == 2)
        al_tcp_write_drop(&e->wr);
    if (e->st == 3)
        al_tcp_read_drop(&e->rd);
    e->st = 5;
    if (e->srv)
        al_join_drop(e->srv);
    al_tcp_stream_free(e->c);
    al_tcp_listener_free(e->l);
    e->srv = NULL;
    e->c = NULL;
    e->l = NULL;
}

static const al_future_vtable_t echo_client_vt = {.type_name = "echo client",
                                                  .poll = echo_client_poll,
                                                  .drop = echo_client_drop,
                                                  .future_size = sizeof(echo_client_t),
                                                  .output_size = sizeof(size_t)};

static void rt_echo(al_flavor_t flavor)
{
    al_runtime_t *rt = net_runtime(flavor, true);
    echo_client_t e = {0};
    e.out = malloc(RT_ECHO_BYTES);
    e.back = malloc(RT_ECHO_BYTES);
    for (size_t i = 0; i < RT_ECHO_BYTES; i++)
        e.out[i] = (unsigned char)(i * 7 + (i >> 11));
    unsigned char *outb = e.out, *backb = e.back;
    size_t got = 0;
    char *msg = NULL;
    int rc = al_runtime_block_on(rt, &echo_client_vt, &e, &got, &msg);
    echo_client_drop(&e);
    cr_assert_eq(rc, 0, "block_on: %s (%s)", al_strerror(rc), msg ? msg : "");
    cr_assert_eq(got, RT_ECHO_BYTES);
    cr_assert_eq(memcmp(outb, backb, RT_ECHO_BYTES), 0);
    free(outb);
    free(backb);
    free(msg);
    al_runtime_free(rt);
}

Test(net_rt, echo_across_tasks_current_thread, .timeout = 60)
{
    rt_echo(AL_CURRENT_THREAD);
}
Test(net_rt, echo_across_tasks_multi_thread, .timeout = 60)
{
    rt_echo(AL_MULTI_THREAD);
}
