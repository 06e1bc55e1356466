/*
 * test_notify.c — Notify: notify_one stores one permit when nobody waits,
 * wakes waiters in FIFO order otherwise; notify_waiters wakes every current
 * waiter (including one created but not yet polled) and stores nothing; a
 * cancelled waiter never swallows a notify_one; a multi-thread ping-pong.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "al_test.h"
#include "al_test_sync.h"

static al_notify_t *notify_new(void)
{
    al_notify_t *n = NULL;
    cr_assert_eq(al_notify_new("n", &n), 0);
    return n;
}

typedef struct hand {
    al_notified_t op;
    al_test_waker_t tw;
    al_context_t cx;
} hand_t;

static void hand_init(hand_t *h, al_notify_t *n)
{
    h->cx = al_test_context(&h->tw);
    al_notified_init(&h->op, n);
}
static al_poll_t hand_poll(hand_t *h)
{
    return al_notified_poll(&h->op, &h->cx);
}

Test(notify, notify_one_stores_a_single_permit)
{
    al_notify_t *n = notify_new();
    al_notify_notify_one(n);
    al_notify_notify_one(n); /* still one permit */
    hand_t a, b;
    hand_init(&a, n);
    hand_init(&b, n);
    cr_assert_eq(hand_poll(&a), AL_READY);
    cr_assert_eq(hand_poll(&b), AL_PENDING);
    cr_assert_eq(atomic_load(&b.tw.clones), 1);
    al_notified_drop(&a.op);
    al_notified_drop(&b.op);
    cr_assert_eq(atomic_load(&b.tw.clones), 0);
    al_notify_unref(n);
}

Test(notify, notify_one_wakes_in_fifo_order)
{
    al_notify_t *n = notify_new();
    hand_t h[3];
    for (int i = 0; i < 3; i++) {
        hand_init(&h[i], n);
        cr_assert_eq(hand_poll(&h[i]), AL_PENDING);
    }
    for (int i = 0; i < 3; i++) {
        al_notify_notify_one(n);
        for (int j = 0; j < 3; j++)
            cr_assert_eq(atomic_load(&h[j].tw.wakes), j <= i ? 1 : 0);
        cr_assert_eq(atomic_load(&h[i].tw.last_kind), AL_WAKE_NOTIFY);
        cr_assert_eq(hand_poll(&h[i]), AL_READY);
    }
    /* nobody left: the next notify_one is stored */
    al_notify_notify_one(n);
    hand_t late;
    hand_init(&late, n);
    cr_assert_eq(hand_poll(&late), AL_READY);
    for (int i = 0; i < 3; i++)
        al_notified_drop(&h[i].op);
    al_notified_drop(&late.op);
    al_notify_unref(n);
}

Test(notify, notify_waiters_wakes_all_and_stores_nothing)
{
    al_notify_t *n = notify_new();
    hand_t h[3], unpolled, after;
    for (int i = 0; i < 3; i++) {
        hand_init(&h[i], n);
        cr_assert_eq(hand_poll(&h[i]), AL_PENDING);
    }
    hand_init(&unpolled, n); /* created before the call, first polled after it */
    al_notify_notify_waiters(n);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(atomic_load(&h[i].tw.wakes), 1);
        cr_assert_eq(hand_poll(&h[i]), AL_READY);
        al_notified_drop(&h[i].op);
    }
    cr_assert_eq(hand_poll(&unpolled), AL_READY);
    hand_init(&after, n);
    cr_assert_eq(hand_poll(&after), AL_PENDING); /* nothing was stored */
    al_notified_drop(&after.op);
    al_notified_drop(&unpolled.op);
    cr_assert_eq(atomic_load(&after.tw.clones), 0);
    al_notify_unref(n);
}

Test(notify, cancelled_waiter_passes_notify_one_on)
{
    al_notify_t *n = notify_new();
    hand_t a, b, c;
    hand_init(&a, n);
    hand_init(&b, n);
    hand_init(&c, n);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    cr_assert_eq(hand_poll(&b), AL_PENDING);
    cr_assert_eq(hand_poll(&c), AL_PENDING);
    al_notified_drop(&c.op); /* queued, cancelled: just leaves */
    al_notify_notify_one(n);
    cr_assert_eq(atomic_load(&a.tw.wakes), 1);
    al_notified_drop(&a.op); /* chosen, cancelled before it saw it */
    cr_assert_eq(atomic_load(&b.tw.wakes), 1);
    cr_assert_eq(hand_poll(&b), AL_READY);
    al_notified_drop(&b.op);
    /* with nobody left to pass it to, a swallowed notify becomes the permit */
    hand_init(&a, n);
    cr_assert_eq(hand_poll(&a), AL_PENDING);
    al_notify_notify_one(n);
    al_notified_drop(&a.op);
    hand_init(&b, n);
    cr_assert_eq(hand_poll(&b), AL_READY);
    al_notified_drop(&b.op);
    cr_assert_eq(atomic_load(&c.tw.clones), 0);
    cr_assert_eq(atomic_load(&a.tw.clones), 0);
    al_notify_unref(n);
}

/* ---- multi-thread ping-pong: every notify_one is received exactly once ---- */

typedef struct pp {
    al_notify_t *ping, *pong;
    long rounds;
    al_test_parker_t pk[2];
} pp_t;

static void wait_notified(al_notify_t *n, al_test_parker_t *pk)
{
    al_context_t cx = al_test_parker_context(pk);
    al_notified_t op;
    al_notified_init(&op, n);
    while (al_notified_poll(&op, &cx) == AL_PENDING)
        al_test_parker_wait(pk);
    al_notified_drop(&op);
}

static void *pong_thread(void *arg)
{
    pp_t *p = arg;
    for (long i = 0; i < p->rounds; i++) {
        wait_notified(p->ping, &p->pk[1]);
        al_notify_notify_one(p->pong);
    }
    return NULL;
}

Test(notify, stress_ping_pong, .timeout = 60)
{
    static pp_t p;
    p.ping = notify_new();
    p.pong = notify_new();
    p.rounds = al_test_scale(20000);
    al_test_parker_init(&p.pk[0]);
    al_test_parker_init(&p.pk[1]);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, pong_thread, &p), 0);
    for (long i = 0; i < p.rounds; i++) {
        al_notify_notify_one(p.ping);
        wait_notified(p.pong, &p.pk[0]);
    }
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&p.pk[0].clones), 0);
    cr_assert_eq(atomic_load(&p.pk[1].clones), 0);
    al_test_parker_destroy(&p.pk[0]);
    al_test_parker_destroy(&p.pk[1]);
    al_notify_unref(p.ping);
    al_notify_unref(p.pong);
}
