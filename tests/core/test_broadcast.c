/*
 * test_broadcast.c — broadcast channel: every receiver sees every value sent
 * after it subscribed, exact wake counts, lagging (AL_ELAGGED once with the
 * number skipped, then the oldest kept value), close / drop semantics, value
 * cloning and dropping, and a multi-thread stress test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_test_sync.h"

static atomic_int dropped, cloned;
static void count_drop(void *v)
{
    (void)v;
    atomic_fetch_add(&dropped, 1);
}
static void count_clone(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    atomic_fetch_add(&cloned, 1);
}

Test(broadcast, bad_arguments)
{
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(0, 8, NULL, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_broadcast_channel(4, 0, NULL, NULL, &tx, &rx), AL_EINVAL);
}

Test(broadcast, every_receiver_sees_every_value_after_subscribing)
{
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *a;
    cr_assert_eq(al_broadcast_channel(8, sizeof(uint64_t), count_clone, NULL, &tx, &a), 0);
    uint64_t v = 1, out;
    size_t nrx = 0;
    cr_assert_eq(al_broadcast_send(tx, &v, &nrx), 0);
    cr_assert_eq(nrx, 1);
    al_broadcast_rx_t *b = al_broadcast_tx_subscribe(tx);
    cr_assert_eq(al_broadcast_receiver_count(tx), 2);
    v = 2;
    cr_assert_eq(al_broadcast_send(tx, &v, &nrx), 0);
    cr_assert_eq(nrx, 2);
    cr_assert_eq(al_broadcast_rx_len(a), 2);
    cr_assert_eq(al_broadcast_rx_len(b), 1);
    cr_assert_eq(al_broadcast_try_recv(a, &out, NULL), 0);
    cr_assert_eq(out, 1);
    cr_assert_eq(al_broadcast_try_recv(a, &out, NULL), 0);
    cr_assert_eq(out, 2);
    cr_assert_eq(al_broadcast_try_recv(a, &out, NULL), AL_EEMPTY);
    cr_assert_eq(al_broadcast_try_recv(b, &out, NULL), 0);
    cr_assert_eq(out, 2, "b subscribed after value 1");
    cr_assert_eq(al_broadcast_try_recv(b, &out, NULL), AL_EEMPTY);
    cr_assert_eq(cloned, 3);
    al_broadcast_rx_drop(a);
    al_broadcast_rx_drop(b);
    al_broadcast_tx_drop(tx);
}

Test(broadcast, send_wakes_every_waiting_receiver_once)
{
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *a;
    cr_assert_eq(al_broadcast_channel(4, sizeof(uint64_t), NULL, NULL, &tx, &a), 0);
    al_broadcast_rx_t *b = al_broadcast_tx_subscribe(tx);
    al_test_waker_t ta, tb;
    al_context_t ca = al_test_context(&ta), cb = al_test_context(&tb);
    al_broadcast_recv_t ra, rb;
    al_broadcast_recv_init(&ra, a);
    al_broadcast_recv_init(&rb, b);
    uint64_t out, v = 5;
    int res;
    cr_assert_eq(al_broadcast_recv_poll(&ra, &ca, &out, &res, NULL), AL_PENDING);
    cr_assert_eq(al_broadcast_recv_poll(&ra, &ca, &out, &res, NULL), AL_PENDING);
    cr_assert_eq(al_broadcast_recv_poll(&rb, &cb, &out, &res, NULL), AL_PENDING);
    cr_assert_eq(ta.clones, 1);
    cr_assert_eq(al_broadcast_send(tx, &v, NULL), 0);
    cr_assert_eq(ta.wakes, 1);
    cr_assert_eq(tb.wakes, 1);
    cr_assert_eq(ta.last_kind, AL_WAKE_CHANNEL);
    cr_assert_eq(al_broadcast_recv_poll(&ra, &ca, &out, &res, NULL), AL_READY);
    cr_assert_eq(res, 0);
    cr_assert_eq(out, 5);
    cr_assert_eq(al_broadcast_recv_poll(&rb, &cb, &out, &res, NULL), AL_READY);
    cr_assert_eq(out, 5);
    al_broadcast_recv_drop(&ra);
    al_broadcast_recv_drop(&rb);
    cr_assert_eq(ta.clones + tb.clones, 0);
    v = 6;
    cr_assert_eq(al_broadcast_send(tx, &v, NULL), 0);
    cr_assert_eq(ta.wakes + tb.wakes, 2, "nobody waits: no wake");
    al_broadcast_rx_drop(a);
    al_broadcast_rx_drop(b);
    al_broadcast_tx_drop(tx);
}

Test(broadcast, lagging_receiver_gets_elagged_once_then_oldest_kept)
{
    atomic_store(&dropped, 0);
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(3, sizeof(uint64_t), NULL, count_drop, &tx, &rx), 0);
    for (uint64_t i = 0; i < 8; i++)
        cr_assert_eq(al_broadcast_send(tx, &i, NULL), 0);
    cr_assert_eq(dropped, 5, "values 0..4 were overwritten");
    uint64_t out, lagged = 0;
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_broadcast_recv_t op;
    al_broadcast_recv_init(&op, rx);
    int res = 0;
    cr_assert_eq(al_broadcast_recv_poll(&op, &cx, &out, &res, &lagged), AL_READY);
    cr_assert_eq(res, AL_ELAGGED);
    cr_assert_eq(lagged, 5);
    al_broadcast_recv_drop(&op);
    for (uint64_t i = 5; i < 8; i++) {
        cr_assert_eq(al_broadcast_try_recv(rx, &out, &lagged), 0);
        cr_assert_eq(out, i);
    }
    cr_assert_eq(al_broadcast_try_recv(rx, &out, &lagged), AL_EEMPTY);
    al_broadcast_tx_drop(tx);
    cr_assert_eq(al_broadcast_try_recv(rx, &out, &lagged), AL_ECLOSED);
    al_broadcast_rx_drop(rx);
    cr_assert_eq(dropped, 8, "the kept values are dropped with the channel");
}

Test(broadcast, send_without_receivers_fails)
{
    atomic_store(&dropped, 0);
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(2, sizeof(uint64_t), NULL, count_drop, &tx, &rx), 0);
    al_broadcast_rx_drop(rx);
    uint64_t v = 1;
    size_t n = 9;
    cr_assert_eq(al_broadcast_send(tx, &v, &n), AL_ECLOSED);
    cr_assert_eq(n, 0);
    cr_assert_eq(dropped, 0);
    /* A new subscriber makes sending possible again. */
    rx = al_broadcast_tx_subscribe(tx);
    cr_assert_eq(al_broadcast_send(tx, &v, &n), 0);
    cr_assert_eq(n, 1);
    al_broadcast_tx_drop(tx);
    uint64_t out;
    cr_assert_eq(al_broadcast_try_recv(rx, &out, NULL), 0, "drains after the sender is gone");
    cr_assert_eq(al_broadcast_try_recv(rx, &out, NULL), AL_ECLOSED);
    al_broadcast_rx_drop(rx);
    cr_assert_eq(dropped, 1);
}

Test(broadcast, last_sender_drop_wakes_waiters_with_closed)
{
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(2, sizeof(uint64_t), NULL, NULL, &tx, &rx), 0);
    al_broadcast_tx_t *tx2 = al_broadcast_tx_clone(tx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_broadcast_recv_t op;
    al_broadcast_recv_init(&op, rx);
    uint64_t out;
    int res = 0;
    cr_assert_eq(al_broadcast_recv_poll(&op, &cx, &out, &res, NULL), AL_PENDING);
    al_broadcast_tx_drop(tx);
    cr_assert_eq(tw.wakes, 0);
    al_broadcast_tx_drop(tx2);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(al_broadcast_recv_poll(&op, &cx, &out, &res, NULL), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_broadcast_recv_drop(&op);
    al_broadcast_rx_drop(rx);
    cr_assert_eq(tw.clones, 0);
}

Test(broadcast, cancelled_recv_unlinks)
{
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(2, sizeof(uint64_t), NULL, NULL, &tx, &rx), 0);
    al_broadcast_rx_t *rx2 = al_broadcast_rx_clone(rx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_broadcast_recv_t op;
    al_broadcast_recv_init(&op, rx);
    uint64_t out, v = 3;
    int res;
    cr_assert_eq(al_broadcast_recv_poll(&op, &cx, &out, &res, NULL), AL_PENDING);
    al_broadcast_recv_drop(&op);
    cr_assert_eq(tw.clones, 0);
    cr_assert_eq(al_broadcast_send(tx, &v, NULL), 0);
    cr_assert_eq(tw.wakes, 0);
    cr_assert_eq(al_broadcast_try_recv(rx2, &out, NULL), 0);
    cr_assert_eq(out, 3);
    al_broadcast_rx_drop(rx);
    al_broadcast_rx_drop(rx2);
    al_broadcast_tx_drop(tx);
}

Test(broadcast, events)
{
    al_test_events_t ev;
    al_test_events_start(&ev);
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(2, sizeof(uint64_t), NULL, NULL, &tx, &rx), 0);
    uint64_t v = 1, out;
    cr_assert_eq(al_broadcast_send(tx, &v, NULL), 0);
    cr_assert_eq(al_broadcast_try_recv(rx, &out, NULL), 0);
    al_broadcast_tx_drop(tx);
    al_broadcast_rx_drop(rx);
    al_test_events_stop();
    int c = al_test_events_find(&ev, 0, AL_EV_RESOURCE_CREATE);
    cr_assert_geq(c, 0);
    cr_assert_eq(ev.ev[c].b, AL_RES_BROADCAST);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_CHAN_SEND), 0);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_CHAN_RECV), 0);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_CHAN_CLOSE), 0);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_RESOURCE_DROP), 0);
}

/* ---- stress: 1 sender thread, 3 receiver threads ---- */

typedef struct {
    al_broadcast_rx_t *rx;
    long received, lagged;
} bc_reader_t;

static void *bc_reader(void *arg)
{
    bc_reader_t *r = arg;
    al_test_parker_t pk;
    al_test_parker_init(&pk);
    al_context_t cx = al_test_parker_context(&pk);
    uint64_t expect = 0;
    for (;;) {
        al_broadcast_recv_t op;
        al_broadcast_recv_init(&op, r->rx);
        uint64_t out = 0, lag = 0;
        int res = -1;
        while (al_broadcast_recv_poll(&op, &cx, &out, &res, &lag) == AL_PENDING)
            al_test_parker_wait(&pk);
        al_broadcast_recv_drop(&op);
        if (res == AL_ECLOSED)
            break;
        if (res == AL_ELAGGED) {
            r->lagged += (long)lag;
            expect += lag;
            continue;
        }
        cr_assert_eq(res, 0);
        cr_assert_eq(out, expect, "values arrive in order with no gap except a lag");
        expect++;
        r->received++;
    }
    al_broadcast_rx_drop(r->rx);
    cr_assert_eq(atomic_load(&pk.clones), 0);
    al_test_parker_destroy(&pk);
    return NULL;
}

Test(broadcast, stress_one_sender_three_receivers, .timeout = 120)
{
    long n = al_test_scale(100000);
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    cr_assert_eq(al_broadcast_channel(16, sizeof(uint64_t), NULL, NULL, &tx, &rx), 0);
    bc_reader_t r[3] = {
        {rx, 0, 0}, {al_broadcast_tx_subscribe(tx), 0, 0}, {al_broadcast_tx_subscribe(tx), 0, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, bc_reader, &r[i]);
    for (uint64_t i = 0; i < (uint64_t)n; i++)
        cr_assert_eq(al_broadcast_send(tx, &i, NULL), 0);
    al_broadcast_tx_drop(tx);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(r[i].received + r[i].lagged, n, "every value seen or counted as lost");
    }
}
