/*
 * test_chan_runtime.c — the channels under the real multi-thread runtime:
 * 4 producer tasks and a consumer on a small bounded mpsc (every message once,
 * in order per producer, on 2 workers); a producer task aborted while it waits
 * for capacity does not strand the slot; many tasks each awaiting their own
 * oneshot.
 */
#include <criterion/criterion.h>

#include "al_test.h"

static al_runtime_t *rt_new(void)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = 2;
    al_runtime_t *rt;
    cr_assert_eq(al_runtime_new(&cfg, &rt), 0);
    return rt;
}

/* ---- mpsc: producers and a consumer as tasks ---- */

enum { PRODUCERS = 4 };

typedef struct producer {
    al_mpsc_tx_t *tx;
    uint64_t id, next, n, value;
    bool sending;
    al_mpsc_send_t op;
} producer_t;

static al_poll_t producer_poll(void *f, al_context_t *cx, void *out)
{
    producer_t *p = f;
    while (p->next < p->n) {
        if (!p->sending) {
            p->value = p->id << 32 | p->next;
            al_mpsc_send_init(&p->op, p->tx, &p->value); /* in place: tasks never move */
            p->sending = true;
        }
        int res;
        if (al_mpsc_send_poll(&p->op, cx, &res) == AL_PENDING)
            return AL_PENDING;
        cr_assert_eq(res, 0);
        al_mpsc_send_drop(&p->op);
        p->sending = false;
        p->next++;
    }
    al_mpsc_tx_drop(p->tx);
    p->tx = NULL;
    return AL_READY;
}

static void producer_drop(void *f)
{
    producer_t *p = f;
    if (p->sending)
        al_mpsc_send_drop(&p->op);
    al_mpsc_tx_drop(p->tx);
}

static const al_future_vtable_t producer_vt = {.type_name = "producer",
                                               .poll = producer_poll,
                                               .drop = producer_drop,
                                               .future_size = sizeof(producer_t)};

typedef struct consumer {
    al_mpsc_tx_t *tx;
    al_mpsc_rx_t *rx;
    uint64_t n, got, next[PRODUCERS];
    al_join_t *h[PRODUCERS], *stuck;
    int joined;
    bool started, receiving, aborted, drained;
    al_mpsc_recv_t op;
} consumer_t;

static al_poll_t consumer_poll(void *f, al_context_t *cx, void *out)
{
    consumer_t *c = f;
    if (!c->started) {
        /* A producer that will wait for capacity and be aborted there. */
        producer_t s = {.tx = al_mpsc_tx_clone(c->tx), .id = 99, .n = UINT64_MAX};
        cr_assert_eq(al_spawn(NULL, &producer_vt, &s, NULL, &c->stuck), 0);
        for (int i = 0; i < PRODUCERS; i++) {
            producer_t p = {
                .tx = i == 0 ? c->tx : al_mpsc_tx_clone(c->tx), .id = (uint64_t)i, .n = c->n};
            cr_assert_eq(al_spawn(NULL, &producer_vt, &p, NULL, &c->h[i]), 0);
        }
        c->tx = NULL;
        c->started = true;
    }
    while (!c->drained) {
        if (!c->receiving) {
            al_mpsc_recv_init(&c->op, c->rx);
            c->receiving = true;
        }
        uint64_t v;
        int res;
        if (al_mpsc_recv_poll(&c->op, cx, &v, &res) == AL_PENDING)
            return AL_PENDING;
        cr_assert_eq(res, 0, "res %d got %llu next %llu %llu %llu %llu aborted %d", res,
                     (unsigned long long)c->got, (unsigned long long)c->next[0],
                     (unsigned long long)c->next[1], (unsigned long long)c->next[2],
                     (unsigned long long)c->next[3], c->aborted);
        uint64_t id = v >> 32, seq = v & 0xffffffffu;
        if (id == 99) {
            /* The stuck producer got a slot: abort it (sooner or later it
             * is caught waiting, granted or queued). */
            if (!c->aborted) {
                al_join_abort(c->stuck);
                c->aborted = true;
            }
            continue;
        }
        cr_assert_lt(id, PRODUCERS);
        cr_assert_eq(seq, c->next[id]);
        c->next[id]++;
        if (++c->got == c->n * PRODUCERS) {
            al_mpsc_recv_drop(&c->op);
            c->receiving = false;
            c->drained = true;
        }
    }
    if (!c->aborted) {
        al_join_abort(c->stuck);
        c->aborted = true;
    }
    while (c->joined < PRODUCERS) {
        al_join_result_t jr;
        if (al_join_poll(c->h[c->joined], cx, NULL, &jr) == AL_PENDING)
            return AL_PENDING;
        cr_assert_eq(jr.kind, AL_JOIN_OK);
        al_join_drop(c->h[c->joined++]);
    }
    al_join_result_t jr;
    if (al_join_poll(c->stuck, cx, NULL, &jr) == AL_PENDING)
        return AL_PENDING;
    cr_assert_eq(jr.kind, AL_JOIN_CANCELLED);
    al_join_drop(c->stuck);
    return AL_READY;
}

static const al_future_vtable_t consumer_vt = {.poll = consumer_poll,
                                               .future_size = sizeof(consumer_t)};

Test(chan_runtime, mpsc_four_producer_tasks_one_consumer, .timeout = 120)
{
    al_runtime_t *rt = rt_new();
    consumer_t c = {.n = (uint64_t)al_test_scale(100000)};
    cr_assert_eq(al_mpsc_channel(8, sizeof(uint64_t), NULL, &c.tx, &c.rx), 0);
    char *msg = NULL;
    cr_assert_eq(al_runtime_block_on(rt, &consumer_vt, &c, NULL, &msg), 0);
    for (int i = 0; i < PRODUCERS; i++)
        cr_assert_eq(c.next[i], c.n);
    /* Every sender is gone (the aborted one too): end of stream. */
    uint64_t v;
    cr_assert_eq(al_mpsc_try_recv(c.rx, &v) == AL_ECLOSED || v >> 32 == 99, true);
    al_mpsc_rx_drop(c.rx);
    al_runtime_free(rt);
}

/* ---- oneshot: many tasks each awaiting their own ---- */

typedef struct waiter {
    al_oneshot_rx_t *rx;
    al_oneshot_recv_t op;
} waiter_t;

static al_poll_t waiter_poll(void *f, al_context_t *cx, void *out)
{
    waiter_t *w = f;
    uint64_t v = 0;
    int res;
    if (al_oneshot_recv_poll(&w->op, cx, &v, &res) == AL_PENDING)
        return AL_PENDING;
    cr_assert_eq(res, 0);
    *(uint64_t *)out = v;
    return AL_READY;
}

static void waiter_drop(void *f)
{
    waiter_t *w = f;
    al_oneshot_recv_drop(&w->op);
    al_oneshot_rx_drop(w->rx);
}

static const al_future_vtable_t waiter_vt = {.type_name = "oneshot waiter",
                                             .poll = waiter_poll,
                                             .drop = waiter_drop,
                                             .future_size = sizeof(waiter_t),
                                             .output_size = sizeof(uint64_t)};

typedef struct fanout {
    long n, joined;
    al_oneshot_tx_t **tx;
    al_join_t **h;
    bool sent;
    uint64_t sum;
} fanout_t;

static al_poll_t fanout_poll(void *f, al_context_t *cx, void *out)
{
    fanout_t *m = f;
    if (!m->sent) {
        for (long i = 0; i < m->n; i++) {
            waiter_t w;
            cr_assert_eq(al_oneshot_channel(sizeof(uint64_t), NULL, &m->tx[i], &w.rx), 0);
            al_oneshot_recv_init(&w.op, w.rx);
            cr_assert_eq(al_spawn(NULL, &waiter_vt, &w, NULL, &m->h[i]), 0);
        }
        for (long i = 0; i < m->n; i++) {
            uint64_t v = (uint64_t)i;
            cr_assert_eq(al_oneshot_send(m->tx[i], &v), 0);
        }
        m->sent = true;
    }
    while (m->joined < m->n) {
        uint64_t v;
        al_join_result_t jr;
        if (al_join_poll(m->h[m->joined], cx, &v, &jr) == AL_PENDING)
            return AL_PENDING;
        cr_assert_eq(jr.kind, AL_JOIN_OK);
        m->sum += v;
        al_join_drop(m->h[m->joined++]);
    }
    return AL_READY;
}

static const al_future_vtable_t fanout_vt = {.poll = fanout_poll, .future_size = sizeof(fanout_t)};

Test(chan_runtime, tasks_awaiting_their_own_oneshot, .timeout = 60)
{
    al_runtime_t *rt = rt_new();
    fanout_t m = {.n = al_test_scale(10000)};
    m.tx = calloc((size_t)m.n, sizeof *m.tx);
    m.h = calloc((size_t)m.n, sizeof *m.h);
    char *msg = NULL;
    cr_assert_eq(al_runtime_block_on(rt, &fanout_vt, &m, NULL, &msg), 0);
    cr_assert_eq(m.sum, (uint64_t)m.n * (uint64_t)(m.n - 1) / 2);
    free(m.tx);
    free(m.h);
    al_runtime_free(rt);
}
