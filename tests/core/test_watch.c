/*
 * test_watch.c — watch channel: borrow, changed() with exact wake counts,
 * versions (intermediate values skipped), close semantics, send without
 * receivers (AL_ECLOSED, value not taken), value cloning / dropping, and a
 * multi-thread stress test (receivers never see versions go backwards).
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

Test(watch, bad_arguments)
{
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0;
    cr_assert_eq(al_watch_channel(&v, 0, NULL, NULL, &tx, &rx), AL_EINVAL);
    cr_assert_eq(al_watch_channel(NULL, 8, NULL, NULL, &tx, &rx), AL_EINVAL);
}

Test(watch, borrow_sees_the_latest_value)
{
    atomic_store(&cloned, 0);
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 10, out = 0;
    cr_assert_eq(al_watch_channel(&v, sizeof v, count_clone, NULL, &tx, &rx), 0);
    al_watch_borrow(rx, &out);
    cr_assert_eq(out, 10);
    cr_assert_not(al_watch_has_changed(rx));
    v = 11;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    v = 12;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    cr_assert_eq(al_watch_version(rx), 2);
    cr_assert(al_watch_has_changed(rx));
    al_watch_borrow(rx, &out);
    cr_assert_eq(out, 12);
    cr_assert(al_watch_has_changed(rx), "borrow does not mark seen");
    al_watch_borrow_and_update(rx, &out);
    cr_assert_not(al_watch_has_changed(rx));
    cr_assert_eq(cloned, 3);
    al_watch_tx_drop(tx);
    al_watch_rx_drop(rx);
}

Test(watch, changed_waits_for_a_newer_version_and_is_woken_once)
{
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0, out;
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, NULL, &tx, &rx), 0);
    al_watch_rx_t *rx2 = al_watch_rx_clone(rx);
    al_test_waker_t tw, tw2;
    al_context_t cx = al_test_context(&tw), cx2 = al_test_context(&tw2);
    al_watch_changed_t op, op2;
    al_watch_changed_init(&op, rx);
    al_watch_changed_init(&op2, rx2);
    int res = -1;
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_PENDING);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_PENDING);
    cr_assert_eq(al_watch_changed_poll(&op2, &cx2, &res), AL_PENDING);
    cr_assert_eq(tw.clones, 1);
    v = 1;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    v = 2;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    cr_assert_eq(tw.wakes, 1, "two sends, one wake (the waiter left the queue)");
    cr_assert_eq(tw2.wakes, 1);
    cr_assert_eq(tw.last_kind, AL_WAKE_NOTIFY);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_READY);
    cr_assert_eq(res, 0);
    al_watch_borrow(rx, &out);
    cr_assert_eq(out, 2, "intermediate versions are skipped");
    al_watch_changed_drop(&op);
    /* Already seen: a new changed() waits. */
    al_watch_changed_init(&op, rx);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_PENDING);
    al_watch_changed_drop(&op);
    cr_assert_eq(tw.clones, 0);
    al_watch_changed_drop(&op2);
    cr_assert_eq(tw2.clones, 0);
    al_watch_tx_drop(tx);
    al_watch_rx_drop(rx);
    al_watch_rx_drop(rx2);
}

Test(watch, sender_drop_closes_after_unseen_change)
{
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0;
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, NULL, &tx, &rx), 0);
    al_test_waker_t tw;
    al_context_t cx = al_test_context(&tw);
    al_watch_changed_t op;
    al_watch_changed_init(&op, rx);
    int res = -1;
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_PENDING);
    al_watch_tx_drop(tx);
    cr_assert_eq(tw.wakes, 1);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_watch_changed_drop(&op);
    al_watch_rx_drop(rx);

    /* A change sent before the drop is still reported first. */
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, NULL, &tx, &rx), 0);
    v = 5;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    al_watch_tx_drop(tx);
    al_watch_changed_init(&op, rx);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_READY);
    cr_assert_eq(res, 0);
    al_watch_changed_drop(&op);
    al_watch_changed_init(&op, rx);
    cr_assert_eq(al_watch_changed_poll(&op, &cx, &res), AL_READY);
    cr_assert_eq(res, AL_ECLOSED);
    al_watch_changed_drop(&op);
    uint64_t out;
    al_watch_borrow(rx, &out);
    cr_assert_eq(out, 5, "the last value stays readable");
    al_watch_rx_drop(rx);
    cr_assert_eq(tw.clones, 0);
}

Test(watch, send_without_receivers_fails_and_values_are_dropped)
{
    atomic_store(&dropped, 0);
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0;
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, count_drop, &tx, &rx), 0);
    v = 1;
    cr_assert_eq(al_watch_send(tx, &v), 0);
    cr_assert_eq(dropped, 1, "the replaced value is dropped");
    al_watch_rx_drop(rx);
    v = 2;
    cr_assert_eq(al_watch_send(tx, &v), AL_ECLOSED);
    cr_assert_eq(dropped, 1, "a failed send does not take the value");
    al_watch_send_replace(tx, &v);
    cr_assert_eq(dropped, 2);
    rx = al_watch_tx_subscribe(tx);
    cr_assert_eq(al_watch_receiver_count(tx), 1);
    cr_assert_not(al_watch_has_changed(rx), "a subscriber has seen the current value");
    uint64_t out;
    al_watch_borrow(rx, &out);
    cr_assert_eq(out, 2);
    al_watch_tx_drop(tx);
    al_watch_rx_drop(rx);
    cr_assert_eq(dropped, 3, "the last value is dropped with the channel");
}

Test(watch, events)
{
    al_test_events_t ev;
    al_test_events_start(&ev);
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0;
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, NULL, &tx, &rx), 0);
    cr_assert_eq(al_watch_send(tx, &v), 0);
    al_watch_tx_drop(tx);
    al_watch_rx_drop(rx);
    al_test_events_stop();
    int c = al_test_events_find(&ev, 0, AL_EV_RESOURCE_CREATE);
    cr_assert_geq(c, 0);
    cr_assert_eq(ev.ev[c].b, AL_RES_WATCH);
    int s = al_test_events_find(&ev, c, AL_EV_CHAN_SEND);
    cr_assert_geq(s, 0);
    cr_assert_eq(ev.ev[s].b, 1);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_CHAN_CLOSE), 0);
    cr_assert_geq(al_test_events_find(&ev, c, AL_EV_RESOURCE_DROP), 0);
}

/* ---- stress: one sender thread, three watcher threads ---- */

typedef struct {
    al_watch_rx_t *rx;
    long changes;
    uint64_t last;
} watcher_t;

static void *watcher(void *arg)
{
    watcher_t *w = arg;
    al_test_parker_t pk;
    al_test_parker_init(&pk);
    al_context_t cx = al_test_parker_context(&pk);
    for (;;) {
        al_watch_changed_t op;
        al_watch_changed_init(&op, w->rx);
        int res = -1;
        while (al_watch_changed_poll(&op, &cx, &res) == AL_PENDING)
            al_test_parker_wait(&pk);
        al_watch_changed_drop(&op);
        if (res == AL_ECLOSED)
            break;
        uint64_t v;
        al_watch_borrow(w->rx, &v);
        cr_assert_geq(v, w->last, "values never go backwards");
        w->last = v;
        w->changes++;
    }
    al_watch_rx_drop(w->rx);
    cr_assert_eq(atomic_load(&pk.clones), 0);
    al_test_parker_destroy(&pk);
    return NULL;
}

Test(watch, stress_one_sender_three_watchers, .timeout = 120)
{
    long n = al_test_scale(100000);
    al_watch_tx_t *tx;
    al_watch_rx_t *rx;
    uint64_t v = 0;
    cr_assert_eq(al_watch_channel(&v, sizeof v, NULL, NULL, &tx, &rx), 0);
    watcher_t w[3] = {
        {rx, 0, 0}, {al_watch_tx_subscribe(tx), 0, 0}, {al_watch_tx_subscribe(tx), 0, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, watcher, &w[i]);
    for (v = 1; v <= (uint64_t)n; v++)
        al_watch_send_replace(tx, &v);
    al_watch_tx_drop(tx);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].last, (uint64_t)n, "the final value is always seen");
        cr_assert_geq(w[i].changes, 1);
    }
}
