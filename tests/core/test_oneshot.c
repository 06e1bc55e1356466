/*
 * test_oneshot.c — oneshot channel: value delivery, exact wake counts, both
 * sides' close / drop semantics (send after the receiver is gone gives
 * AL_ECLOSED and gives the value back: pitfall E6), value ownership, the
 * allocation size budget, the coop budget, and a cross-thread stress test.
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>

#include "al_internal.h"
#include "al_test.h"
#include "al_test_sync.h"

static atomic_int dropped;
static void count_drop(void *v)
{
    (void)v;
    atomic_fetch_add(&dropped, 1);
}

Test(oneshot, send_then_recv_is_ready_at_once)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    uint64_t v = 42, out = 0;
    cr_assert_not(al_oneshot_tx_is_closed(tx));
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    int res = -1;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, 0);
    cr_assert_eq(out, 42);
    cr_assert_eq(tw.wakes, 0);
    cr_assert_eq(tw.clones, 0);
    al_oneshot_recv_drop(&op);
    /* A second receive: the value is gone. */
    cr_assert_eq(al_oneshot_try_recv(rx, &out), AL_ECLOSED);
    al_oneshot_rx_drop(rx);
}

Test(oneshot, pending_recv_is_woken_exactly_once_by_send)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    uint64_t out = 0, v = 7;
    int res = -1;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING); /* spurious re-poll */
    cr_assert_eq(tw.clones, 1, "one stored waker, not re-cloned for the same task");
    cr_assert_eq(al_oneshot_try_recv(rx, &out), AL_EEMPTY);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(tw.last_kind, AL_WAKE_CHANNEL);
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, 0);
    cr_assert_eq(out, 7);
    al_oneshot_recv_drop(&op);
    al_oneshot_rx_drop(rx);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(tw.clones, 0, "the stored waker is released with the channel");
}

Test(oneshot, repoll_with_another_waker_moves_the_registration)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    al_test_waker_t a, b;
    al_context_t ca = al_test_context(&a), cb = al_test_context(&b);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    uint64_t out, v = 1;
    int res;
    cr_assert_eq(al_oneshot_recv_poll(&op, &ca, &out, &res), AL_PENDING);
    cr_assert_eq(al_oneshot_recv_poll(&op, &cb, &out, &res), AL_PENDING);
    cr_assert_eq(a.clones, 0);
    cr_assert_eq(b.clones, 1);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    cr_assert_eq(a.wakes, 0);
    cr_assert_eq(b.wakes, 1);
    al_oneshot_recv_drop(&op);
    al_oneshot_rx_drop(rx);
    cr_assert_eq(b.clones, 0);
}

Test(oneshot, sender_dropped_without_sending_closes)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), count_drop, &tx, &rx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    uint64_t out;
    int res = 0;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    al_oneshot_tx_drop(tx);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_oneshot_recv_drop(&op);
    al_oneshot_rx_drop(rx);
    cr_assert_eq(tw.clones, 0);
    cr_assert_eq(dropped, 0);
}

Test(oneshot, send_after_receiver_dropped_fails_and_gives_value_back)
{
    atomic_store(&dropped, 0);
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), count_drop, &tx, &rx), 0);
    al_oneshot_rx_drop(rx);
    cr_assert(al_oneshot_tx_is_closed(tx));
    uint64_t v = 99;
    cr_assert_eq(al_oneshot_send(tx, &v), AL_ECLOSED); /* pitfall E6 */
    cr_assert_eq(v, 99, "the caller still owns the value");
    cr_assert_eq(dropped, 0, "a failed send never drops the value");
}

Test(oneshot, close_rejects_later_sends_but_keeps_a_sent_value)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    uint64_t v = 5, out = 0;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    al_oneshot_rx_close(rx);
    cr_assert(al_oneshot_tx_is_closed(tx));
    cr_assert_eq(al_oneshot_send(tx, &v), AL_ECLOSED);
    cr_assert_eq(al_oneshot_try_recv(rx, &out), AL_ECLOSED);
    al_oneshot_rx_drop(rx);

    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    al_oneshot_rx_close(rx);
    cr_assert_eq(al_oneshot_try_recv(rx, &out), 0);
    cr_assert_eq(out, 5);
    al_oneshot_rx_drop(rx);
}

Test(oneshot, unreceived_value_is_dropped_once_with_the_channel)
{
    atomic_store(&dropped, 0);
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    uint64_t v = 3, out;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), count_drop, &tx, &rx), 0);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    al_oneshot_rx_drop(rx);
    cr_assert_eq(dropped, 1);
    /* Received values are the receiver's: not dropped by the channel. */
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), count_drop, &tx, &rx), 0);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    cr_assert_eq(al_oneshot_try_recv(rx, &out), 0);
    al_oneshot_rx_drop(rx);
    cr_assert_eq(dropped, 1);
}

Test(oneshot, cancelled_recv_releases_its_waker)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    uint64_t out, v = 11;
    int res;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    al_oneshot_recv_drop(&op);
    cr_assert_eq(tw.clones, 0);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    cr_assert_eq(tw.wakes, 0);
    /* A new recv still gets the value. */
    al_oneshot_recv_init(&op, rx);
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(out, 11);
    al_oneshot_rx_drop(rx);
}

Test(oneshot, bad_arguments)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(0, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_oneshot_channel(70000, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_oneshot_channel(8, NULL, NULL, &rx), AL_EINVAL);
}

Test(oneshot, allocation_fits_the_pending_task_budget)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(void *), NULL, &tx, &rx), 0);
    /* usable size 40 == a 48-byte glibc chunk (usable + 8 bytes of header). */
    cr_assert_leq(malloc_usable_size(tx), 40);
    cr_assert_leq(sizeof(al_oneshot_recv_t), sizeof(void *));
    al_oneshot_tx_drop(tx);
    al_oneshot_rx_drop(rx);
}

Test(oneshot, coop_budget_spent_yields_and_pending_refunds)
{
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_oneshot_recv_t op;
    al_oneshot_recv_init(&op, rx);
    uint64_t out, v = 1;
    int res;
    al__tls.coop = 3;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING);
    cr_assert_eq(al__tls.coop, 3, "a Pending poll gives its unit back");
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    al__tls.coop = 0;
    int before = tw.wakes;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_PENDING, "budget spent");
    cr_assert_eq(tw.wakes, before + 1, "the forced yield wakes the task");
    cr_assert_eq(tw.last_kind, AL_WAKE_YIELD);
    al__tls.coop = 3;
    cr_assert_eq(al_oneshot_recv_poll(&op, &cx, &out, &res), AL_READY);
    cr_assert_eq(al__tls.coop, 2);
    al__tls.coop = -1;
    al_oneshot_rx_drop(rx);
}

Test(oneshot, events_are_emitted)
{
    al_test_events_t ev;
    al_test_events_start(&ev);
    al_oneshot_tx_t *tx;
    al_oneshot_rx_t *rx;
    uint64_t v = 1, out;
    cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx, &rx), 0);
    uint64_t id = al_oneshot_rx_id(rx);
    cr_assert_eq(al_oneshot_send(tx, &v), 0);
    cr_assert_eq(al_oneshot_try_recv(rx, &out), 0);
    al_oneshot_rx_drop(rx);
    al_test_events_stop();
    int i = al_test_events_find(&ev, 0, AL_EV_RESOURCE_CREATE);
    cr_assert_geq(i, 0);
    cr_assert_eq(ev.ev[i].a, id);
    cr_assert_eq(ev.ev[i].b, AL_RES_ONESHOT);
    cr_assert_geq(al_test_events_find(&ev, i, AL_EV_CHAN_SEND), 0);
    cr_assert_geq(al_test_events_find(&ev, i, AL_EV_CHAN_RECV), 0);
    int d = al_test_events_find(&ev, i, AL_EV_RESOURCE_DROP);
    cr_assert_geq(d, 0);
    cr_assert_eq(ev.ev[d].a, id);
}

/* ---- cross-thread stress: a sender thread and a receiver thread ---- */

typedef struct {
    al_oneshot_tx_t **tx;
    long n;
} os_stress_t;

static void *os_sender(void *arg)
{
    os_stress_t *s = arg;
    for (long i = 0; i < s->n; i++) {
        uint64_t v = (uint64_t)i;
        if (i % 7 == 3)
            al_oneshot_tx_drop(s->tx[i]);
        else
            cr_assert_eq(al_oneshot_send(s->tx[i], &v), 0);
    }
    return NULL;
}

Test(oneshot, stress_cross_thread, .timeout = 60)
{
    long n = al_test_scale(20000);
    al_oneshot_tx_t **tx = calloc((size_t)n, sizeof *tx);
    al_oneshot_rx_t **rx = calloc((size_t)n, sizeof *rx);
    for (long i = 0; i < n; i++)
        cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &tx[i], &rx[i]), 0);
    al_test_parker_t pk;
    al_test_parker_init(&pk);
    al_context_t cx = al_test_parker_context(&pk);
    os_stress_t s = {tx, n};
    pthread_t th;
    pthread_create(&th, NULL, os_sender, &s);
    for (long i = 0; i < n; i++) {
        al_oneshot_recv_t op;
        al_oneshot_recv_init(&op, rx[i]);
        uint64_t out = UINT64_MAX;
        int res = -1;
        while (al_oneshot_recv_poll(&op, &cx, &out, &res) == AL_PENDING)
            al_test_parker_wait(&pk);
        if (i % 7 == 3) {
            cr_assert_eq(res, AL_ECLOSED);
        } else {
            cr_assert_eq(res, 0);
            cr_assert_eq(out, (uint64_t)i);
        }
        al_oneshot_recv_drop(&op);
        al_oneshot_rx_drop(rx[i]);
    }
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&pk.clones), 0);
    al_test_parker_destroy(&pk);
    free(tx);
    free(rx);
}
