/*
 * test_mpsc.c — mpsc channels, bounded and unbounded: ordering, exact wake
 * counts (the receiver is woken only when it waits), capacity backpressure,
 * FIFO fairness among waiting senders, cancellation of a waiting sender
 * without losing capacity, close / drop semantics on both sides (send after
 * the receiver is gone: AL_ECLOSED, pitfall E6), value ownership, events, and
 * a 4-producer / 1-consumer stress test driving the futures by hand on
 * threads (every message exactly once, in order per producer).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_test_sync.h"

static atomic_int dropped;
static void count_drop(void *v)
{
    (void)v;
    atomic_fetch_add(&dropped, 1);
}

static void chan(size_t cap, al_mpsc_tx_t **tx, al_mpsc_rx_t **rx)
{
    cr_assert_eq(al_mpsc_channel(cap, sizeof(uint64_t), count_drop, tx, rx), 0);
}

/* Poll a send of value v; returns the poll result, *res set when Ready. */
static al_poll_t send_poll(al_mpsc_send_t *op, al_context_t *cx, int *res)
{
    return al_mpsc_send_poll(op, cx, res);
}

Test(mpsc, bad_arguments)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    cr_assert_eq(al_mpsc_channel(0, 8, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_mpsc_channel(4, 0, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_mpsc_unbounded_channel(8, NULL, NULL, &rx), AL_EINVAL);
}

Test(mpsc, try_send_fills_to_capacity_and_try_recv_keeps_order)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(3, &tx, &rx);
    cr_assert_eq(al_mpsc_capacity(tx), 3);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(al_mpsc_try_send(tx, &i), 0);
    uint64_t v = 9, out;
    cr_assert_eq(al_mpsc_try_send(tx, &v), AL_EFULL);
    cr_assert_eq(al_mpsc_len(rx), 3);
    for (uint64_t i = 0; i < 3; i++) {
        cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
        cr_assert_eq(out, i);
    }
    cr_assert_eq(al_mpsc_try_recv(rx, &out), AL_EEMPTY);
    cr_assert_eq(al_mpsc_len(rx), 0);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, receiver_is_woken_once_and_only_while_waiting)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(8, &tx, &rx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_recv_t op;
    al_mpsc_recv_init(&op, rx);
    uint64_t out;
    int res;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(tw.clones, 1);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(al_mpsc_try_send(tx, &i), 0);
    cr_assert_eq(tw.wakes, 1, "one wake for three sends");
    cr_assert_eq(tw.last_kind, AL_WAKE_CHANNEL);
    cr_assert_eq(tw.clones, 0, "the wake consumed the stored waker");
    for (uint64_t i = 0; i < 3; i++) {
        cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
        cr_assert_eq(res, 0);
        cr_assert_eq(out, i);
    }
    al_mpsc_recv_drop(&op);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
    cr_assert_eq(tw.wakes, 1);
}

Test(mpsc, full_channel_makes_send_wait_until_recv_frees_a_slot)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(2, &tx, &rx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    uint64_t vals[3] = {10, 11, 12}, out;
    al_mpsc_send_t s[3];
    int res = -1;
    for (int i = 0; i < 2; i++) {
        al_mpsc_send_init(&s[i], tx, &vals[i]);
        cr_assert_eq(send_poll(&s[i], &cx, &res), AL_READY);
        cr_assert_eq(res, 0);
        al_mpsc_send_drop(&s[i]);
    }
    al_mpsc_send_init(&s[2], tx, &vals[2]);
    cr_assert_eq(send_poll(&s[2], &cx, &res), AL_PENDING);
    cr_assert_eq(send_poll(&s[2], &cx, &res), AL_PENDING);
    cr_assert_eq(tw.wakes, 0);
    cr_assert_eq(al_mpsc_len(rx), 2);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 10);
    cr_assert_eq(tw.wakes, 1, "the freed slot is granted to the waiting sender");
    cr_assert_eq(al_mpsc_len(rx), 1);
    cr_assert_eq(send_poll(&s[2], &cx, &res), AL_READY);
    cr_assert_eq(res, 0);
    al_mpsc_send_drop(&s[2]);
    cr_assert_eq(al_mpsc_len(rx), 2);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 11);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 12);
    cr_assert_eq(tw.clones, 0);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, waiting_senders_are_served_in_fifo_order)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(1, &tx, &rx);
    uint64_t first = 100, out;
    cr_assert_eq(al_mpsc_try_send(tx, &first), 0);
    al_test_waker_t tw[3];
    al_context_t cx[3];
    al_mpsc_send_t s[3];
    uint64_t vals[3] = {0, 1, 2};
    int res;
    for (int i = 0; i < 3; i++) {
        cx[i] = al_test_context(&tw[i]);
        al_mpsc_send_init(&s[i], tx, &vals[i]);
        cr_assert_eq(send_poll(&s[i], &cx[i], &res), AL_PENDING);
    }
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 100);
    cr_assert_eq(tw[0].wakes, 1);
    cr_assert_eq(tw[1].wakes + tw[2].wakes, 0);
    /* The slot is reserved for sender 0: a newcomer cannot take it. */
    uint64_t late = 77;
    cr_assert_eq(al_mpsc_try_send(tx, &late), AL_EFULL);
    /* Sender 2 polling again does not jump the queue. */
    cr_assert_eq(send_poll(&s[2], &cx[2], &res), AL_PENDING);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(send_poll(&s[i], &cx[i], &res), AL_READY);
        cr_assert_eq(res, 0);
        al_mpsc_send_drop(&s[i]);
        cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
        cr_assert_eq(out, (uint64_t)i);
        if (i < 2)
            cr_assert_eq(tw[i + 1].wakes, 1);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tw[i].wakes, 1);
        cr_assert_eq(tw[i].clones, 0);
    }
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, large_channels_grant_freed_slots_in_batches)
{
    /* Capacity 64: queued senders are granted once 64/16 = 4 slots are free
     * (one wake per batch, not per message), or when the ring runs empty. */
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(64, &tx, &rx);
    uint64_t v = 0, out;
    for (int i = 0; i < 64; i++)
        cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al_test_waker_t ta, tb;
    al_context_t ca = al_test_context(&ta), cb = al_test_context(&tb);
    al_mpsc_send_t a, b;
    int res;
    al_mpsc_send_init(&a, tx, &v);
    al_mpsc_send_init(&b, tx, &v);
    cr_assert_eq(send_poll(&a, &ca, &res), AL_PENDING);
    cr_assert_eq(send_poll(&b, &cb, &res), AL_PENDING);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(ta.wakes + tb.wakes, 0, "3 free slots: below the batch");
    cr_assert_eq(al_mpsc_try_send(tx, &v), AL_EFULL, "no overtaking the queued senders");
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(ta.wakes, 1);
    cr_assert_eq(tb.wakes, 1);
    cr_assert_eq(send_poll(&a, &ca, &res), AL_READY);
    cr_assert_eq(send_poll(&b, &cb, &res), AL_READY);
    al_mpsc_send_drop(&a);
    al_mpsc_send_drop(&b);
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0, "the rest of the batch is free for anyone");
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    cr_assert_eq(al_mpsc_try_send(tx, &v), AL_EFULL);
    cr_assert_eq(al_mpsc_len(rx), 64);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, cancelled_sender_hands_its_granted_slot_on)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(1, &tx, &rx);
    uint64_t first = 1, a_val = 2, b_val = 3, c_val = 4, out;
    cr_assert_eq(al_mpsc_try_send(tx, &first), 0);
    al_test_waker_t ta, tb, tc;
    al_context_t ca = al_test_context(&ta), cb = al_test_context(&tb), cc = al_test_context(&tc);
    al_mpsc_send_t a, b, c;
    int res;
    al_mpsc_send_init(&a, tx, &a_val);
    al_mpsc_send_init(&b, tx, &b_val);
    al_mpsc_send_init(&c, tx, &c_val);
    cr_assert_eq(send_poll(&a, &ca, &res), AL_PENDING);
    cr_assert_eq(send_poll(&b, &cb, &res), AL_PENDING);
    cr_assert_eq(send_poll(&c, &cc, &res), AL_PENDING);
    /* Cancel a queued (not granted) sender: nobody is woken. */
    al_mpsc_send_drop(&b);
    cr_assert_eq(tb.clones, 0);
    cr_assert_eq(ta.wakes + tc.wakes, 0);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(ta.wakes, 1, "a is granted the slot");
    al_mpsc_send_drop(&a); /* cancelled after the grant, before pushing */
    cr_assert_eq(ta.clones, 0);
    cr_assert_eq(tc.wakes, 1, "the slot passed to c");
    cr_assert_eq(send_poll(&c, &cc, &res), AL_READY);
    cr_assert_eq(res, 0);
    al_mpsc_send_drop(&c);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 4);
    /* Full capacity is still there: exactly one slot. */
    cr_assert_eq(al_mpsc_try_send(tx, &first), 0);
    cr_assert_eq(al_mpsc_try_send(tx, &first), AL_EFULL);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, close_fails_waiting_and_new_sends_but_drains_buffered)
{
    atomic_store(&dropped, 0);
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(1, &tx, &rx);
    uint64_t v = 5, w = 6, out;
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_send_t s;
    int res = 0;
    al_mpsc_send_init(&s, tx, &w);
    cr_assert_eq(send_poll(&s, &cx, &res), AL_PENDING);
    cr_assert_not(al_mpsc_tx_is_closed(tx));
    al_mpsc_rx_close(rx);
    cr_assert(al_mpsc_tx_is_closed(tx));
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(send_poll(&s, &cx, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_mpsc_send_drop(&s);
    cr_assert_eq(al_mpsc_try_send(tx, &w), AL_ECLOSED);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    cr_assert_eq(out, 5);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), AL_ECLOSED);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
    cr_assert_eq(dropped, 0);
    cr_assert_eq(tw.clones, 0);
}

Test(mpsc, granted_sender_sees_close)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(1, &tx, &rx);
    uint64_t v = 1, out;
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_send_t s;
    int res = 0;
    al_mpsc_send_init(&s, tx, &v);
    cr_assert_eq(send_poll(&s, &cx, &res), AL_PENDING);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0); /* grants s */
    al_mpsc_rx_close(rx);
    cr_assert_eq(send_poll(&s, &cx, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_mpsc_send_drop(&s);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), AL_ECLOSED);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, last_sender_drop_ends_the_stream_after_draining)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(4, &tx, &rx);
    al_mpsc_tx_t *tx2 = al_mpsc_tx_clone(tx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_recv_t op;
    al_mpsc_recv_init(&op, rx);
    uint64_t v = 8, out;
    int res;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    al_mpsc_tx_drop(tx);
    cr_assert_eq(tw.wakes, 0, "a clone is still alive");
    cr_assert_eq(al_mpsc_try_send(tx2, &v), 0);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(out, 8);
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(al_mpsc_try_send(tx2, &v), 0);
    cr_assert_eq(tw.wakes, 2);
    al_mpsc_tx_drop(tx2);
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, 0, "buffered value first");
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_mpsc_recv_drop(&op);
    al_mpsc_rx_drop(rx);
    cr_assert_eq(tw.clones, 0);

    /* Dropping the last sender while the receiver waits wakes it. */
    chan(4, &tx, &rx);
    al_mpsc_recv_init(&op, rx);
    int before = tw.wakes;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    al_mpsc_tx_drop(tx);
    cr_assert_eq(tw.wakes, before + 1);
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_mpsc_recv_drop(&op);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, send_after_receiver_dropped_fails_and_buffered_values_are_dropped)
{
    atomic_store(&dropped, 0);
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(8, &tx, &rx);
    uint64_t v = 1;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al_mpsc_rx_drop(rx);
    cr_assert_eq(dropped, 5, "buffered values dropped with the receiver");
    cr_assert(al_mpsc_tx_is_closed(tx));
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_send_t s;
    int res = 0;
    al_mpsc_send_init(&s, tx, &v);
    cr_assert_eq(send_poll(&s, &cx, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED, "pitfall E6");
    al_mpsc_send_drop(&s);
    cr_assert_eq(al_mpsc_try_send(tx, &v), AL_ECLOSED);
    cr_assert_eq(dropped, 5, "failed sends are not dropped by the channel");
    al_mpsc_tx_drop(tx);
}

Test(mpsc, values_left_at_free_are_dropped)
{
    atomic_store(&dropped, 0);
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    cr_assert_eq(al_mpsc_unbounded_channel(sizeof(uint64_t), count_drop, &tx, &rx), 0);
    uint64_t v = 0;
    for (int i = 0; i < 100; i++)
        cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al_mpsc_tx_drop(tx);
    cr_assert_eq(dropped, 0);
    al_mpsc_rx_drop(rx);
    cr_assert_eq(dropped, 100);
}

Test(mpsc, unbounded_never_waits_and_grows_across_wraparound)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    cr_assert_eq(al_mpsc_unbounded_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    cr_assert_eq(al_mpsc_capacity(tx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    uint64_t next_in = 0, next_out = 0, out;
    int res;
    /* Interleave so the ring wraps before it grows. */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 200; i++, next_in++) {
            al_mpsc_send_t s;
            al_mpsc_send_init(&s, tx, &next_in);
            cr_assert_eq(send_poll(&s, &cx, &res), AL_READY);
            cr_assert_eq(res, 0);
            al_mpsc_send_drop(&s);
        }
        for (int i = 0; i < 150; i++, next_out++) {
            cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
            cr_assert_eq(out, next_out);
        }
    }
    cr_assert_eq(al_mpsc_len(rx), next_in - next_out);
    while (al_mpsc_try_recv(rx, &out) == 0)
        cr_assert_eq(out, next_out++);
    cr_assert_eq(next_out, next_in);
    cr_assert_eq(tw.wakes, 0);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, cancelled_recv_releases_its_waker)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(2, &tx, &rx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_recv_t op;
    al_mpsc_recv_init(&op, rx);
    uint64_t out, v = 1;
    int res;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    al_mpsc_recv_drop(&op);
    cr_assert_eq(tw.clones, 0);
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    cr_assert_eq(tw.wakes, 0);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, coop_budget)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(2, &tx, &rx);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_mpsc_recv_t op;
    al_mpsc_recv_init(&op, rx);
    uint64_t out, v = 1;
    int res;
    al__tls.coop = 4;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(al__tls.coop, 4);
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    al__tls.coop = 0;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(tw.last_kind, AL_WAKE_YIELD);
    al__tls.coop = 4;
    cr_assert_eq(al_mpsc_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(al__tls.coop, 3);
    al__tls.coop = -1;
    al_mpsc_recv_drop(&op);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, events_report_queue_length)
{
    al_test_events_t ev;
    al_test_events_start(&ev);
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    chan(2, &tx, &rx);
    uint64_t v = 1, out;
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    cr_assert_eq(al_mpsc_try_send(tx, &v), 0);
    cr_assert_eq(al_mpsc_try_send(tx, &v), AL_EFULL);
    cr_assert_eq(al_mpsc_try_recv(rx, &out), 0);
    al_mpsc_tx_drop(tx);
    al_mpsc_rx_drop(rx);
    al_test_events_stop();
    int c = al_test_events_find(&ev, 0, AL_EV_RESOURCE_CREATE);
    cr_assert_geq(c, 0);
    cr_assert_eq(ev.ev[c].b, AL_RES_MPSC);
    uint64_t id = ev.ev[c].a;
    int s1 = al_test_events_find(&ev, c, AL_EV_CHAN_SEND);
    int s2 = al_test_events_find(&ev, s1 + 1, AL_EV_CHAN_SEND);
    cr_assert(s1 >= 0 && s2 >= 0);
    cr_assert_eq(ev.ev[s1].a, id);
    cr_assert_eq(ev.ev[s1].b, 1);
    cr_assert_eq(ev.ev[s2].b, 2);
    cr_assert_geq(al_test_events_find(&ev, s2, AL_EV_CHAN_FULL), 0);
    int r = al_test_events_find(&ev, s2, AL_EV_CHAN_RECV);
    cr_assert_geq(r, 0);
    cr_assert_eq(ev.ev[r].b, 1);
    cr_assert_geq(al_test_events_find(&ev, r, AL_EV_CHAN_CLOSE), 0);
    cr_assert_geq(al_test_events_find(&ev, r, AL_EV_RESOURCE_DROP), 0);
}

/* ---- stress: 4 producer threads, 1 consumer, futures driven by hand ---- */

#define PRODUCERS 4

typedef struct {
    al_mpsc_tx_t *tx;
    int id;
    long n;
    al_test_parker_t pk;
    bool cancel_some; /* start some sends, cancel them while waiting */
} producer_t;

static void *producer(void *arg)
{
    producer_t *p = arg;
    al_context_t cx = al_test_parker_context(&p->pk);
    for (long i = 0; i < p->n; i++) {
        uint64_t v = ((uint64_t)p->id << 32) | (uint64_t)i;
        if (p->cancel_some && i % 8 == 0) {
            /* Poll a send of this very value once; if it has to wait, cancel
             * it (while queued, or after a slot was granted to it) and send
             * again. A cancelled send must neither deliver its value nor lose
             * the capacity slot (the others would hang). */
            al_mpsc_send_t c;
            al_mpsc_send_init(&c, p->tx, &v);
            int r = -1;
            al_poll_t pr = al_mpsc_send_poll(&c, &cx, &r);
            al_mpsc_send_drop(&c);
            if (pr == AL_READY) {
                cr_assert_eq(r, 0);
                continue;
            }
        }
        al_mpsc_send_t s;
        al_mpsc_send_init(&s, p->tx, &v);
        int res = -1;
        while (al_mpsc_send_poll(&s, &cx, &res) == AL_PENDING)
            al_test_parker_wait(&p->pk);
        cr_assert_eq(res, 0);
        al_mpsc_send_drop(&s);
    }
    al_mpsc_tx_drop(p->tx);
    return NULL;
}

static void run_stress(size_t cap, long n, bool cancel_some)
{
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    if (cap)
        cr_assert_eq(al_mpsc_channel(cap, sizeof(uint64_t), NULL, &tx, &rx), 0);
    else
        cr_assert_eq(al_mpsc_unbounded_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    producer_t p[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].tx = i == 0 ? tx : al_mpsc_tx_clone(tx);
        p[i].id = i;
        p[i].n = n;
        p[i].cancel_some = cancel_some;
        al_test_parker_init(&p[i].pk);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[i], NULL, producer, &p[i]);
    al_test_parker_t pk;
    al_test_parker_init(&pk);
    al_context_t cx = al_test_parker_context(&pk);
    long next[PRODUCERS] = {0};
    long total = 0;
    al_mpsc_recv_t op;
    al_mpsc_recv_init(&op, rx);
    for (;;) {
        uint64_t v;
        int res = -1;
        if (al_mpsc_recv_poll(&op, &cx, &v, &res) == AL_PENDING) {
            al_test_parker_wait(&pk);
            continue;
        }
        if (res == AL_ECLOSED)
            break;
        cr_assert_eq(res, 0);
        unsigned id = (unsigned)(v >> 32);
        long seq = (long)(v & 0xffffffffu);
        cr_assert_lt(id, PRODUCERS, "bad value %llx", (unsigned long long)v);
        cr_assert_eq(seq, next[id], "producer %u: got %ld, expected %ld", id, seq, next[id]);
        next[id]++;
        total++;
        if (cap)
            cr_assert_leq(al_mpsc_len(rx), cap);
    }
    al_mpsc_recv_drop(&op);
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(next[i], n);
        cr_assert_eq(atomic_load(&p[i].pk.clones), 0);
        al_test_parker_destroy(&p[i].pk);
    }
    cr_assert_eq(total, n * PRODUCERS);
    cr_assert_eq(atomic_load(&pk.clones), 0);
    al_test_parker_destroy(&pk);
    al_mpsc_rx_drop(rx);
}

Test(mpsc, stress_bounded_4_producers, .timeout = 120)
{
    run_stress(1024, al_test_scale(250000), false);
}

Test(mpsc, stress_bounded_small_capacity, .timeout = 120)
{
    run_stress(4, al_test_scale(50000), false);
}

Test(mpsc, stress_cancelled_senders_keep_capacity, .timeout = 120)
{
    run_stress(2, al_test_scale(50000), true);
}

Test(mpsc, stress_unbounded_4_producers, .timeout = 120)
{
    run_stress(0, al_test_scale(250000), false);
}
