/*
 * bench_mpsc.c — mpsc_bounded_4x250k (the peer suite's extra row): a bounded
 * mpsc channel of capacity 1024; 4 producer tasks send 250,000 u64 each and
 * one consumer task receives them all; the block_on body awaits the producers,
 * then the consumer. ops = messages.
 */
#include <stdio.h>
#include <stdlib.h>

#include "al_mpsc.h"
#include "bench.h"

enum { PRODUCERS = 4, PER = 250000, CAP = 1024 };

typedef struct {
    al_mpsc_tx_t *tx;
    uint64_t next, value;
    bool sending;
    al_mpsc_send_t op;
} producer_t;

static al_poll_t producer_poll(void *f, al_context_t *cx, void *out)
{
    producer_t *p = f;
    while (p->next < PER) {
        if (!p->sending) {
            p->value = p->next;
            al_mpsc_send_init(&p->op, p->tx, &p->value);
            p->sending = true;
        }
        int res;
        if (al_mpsc_send_poll(&p->op, cx, &res) == AL_PENDING)
            return AL_PENDING;
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

typedef struct {
    uint64_t got, sum;
} tally_t;

typedef struct {
    al_mpsc_rx_t *rx;
    tally_t *tally;
    al_mpsc_recv_t op;
    bool receiving;
} consumer_t;

static al_poll_t consumer_poll(void *f, al_context_t *cx, void *out)
{
    consumer_t *c = f;
    for (;;) {
        if (!c->receiving) {
            al_mpsc_recv_init(&c->op, c->rx);
            c->receiving = true;
        }
        uint64_t v;
        int res;
        if (al_mpsc_recv_poll(&c->op, cx, &v, &res) == AL_PENDING)
            return AL_PENDING;
        al_mpsc_recv_drop(&c->op);
        c->receiving = false;
        if (res != 0)
            return AL_READY; /* closed: every sender is gone */
        c->tally->got++;
        c->tally->sum += v;
    }
}
static void consumer_drop(void *f)
{
    consumer_t *c = f;
    if (c->receiving)
        al_mpsc_recv_drop(&c->op);
    al_mpsc_rx_drop(c->rx);
}
static const al_future_vtable_t consumer_vt = {.type_name = "consumer",
                                               .poll = consumer_poll,
                                               .drop = consumer_drop,
                                               .future_size = sizeof(consumer_t)};

typedef struct {
    tally_t *tally;
    al_join_t *h[PRODUCERS + 1]; /* producers, then the consumer */
    bool spawned;
    int next;
} main_t;

static al_poll_t main_poll(void *f, al_context_t *cx, void *out)
{
    main_t *m = f;
    if (!m->spawned) {
        al_mpsc_tx_t *tx;
        consumer_t c = {.tally = m->tally};
        if (al_mpsc_channel(CAP, sizeof(uint64_t), NULL, &tx, &c.rx) != 0 ||
            al_spawn(NULL, &consumer_vt, &c, NULL, &m->h[PRODUCERS]) != 0)
            abort();
        for (int i = 0; i < PRODUCERS; i++) {
            producer_t p = {.tx = i == PRODUCERS - 1 ? tx : al_mpsc_tx_clone(tx)};
            if (al_spawn(NULL, &producer_vt, &p, NULL, &m->h[i]) != 0)
                abort();
        }
        m->spawned = true;
    }
    while (m->next <= PRODUCERS) {
        al_join_result_t res;
        if (al_join_poll(m->h[m->next], cx, NULL, &res) == AL_PENDING)
            return AL_PENDING;
        al_join_drop(m->h[m->next++]);
    }
    return AL_READY;
}
static const al_future_vtable_t main_vt = {.poll = main_poll, .future_size = sizeof(main_t)};

static void iter(void *p)
{
    al_runtime_t *rt = p;
    tally_t tally = {0};
    main_t m = {.tally = &tally};
    bench_block_on(rt, &main_vt, &m);
    uint64_t want = (uint64_t)PRODUCERS * PER * (PER - 1) / 2;
    if (tally.got != (uint64_t)PRODUCERS * PER || tally.sum != want) {
        fprintf(stderr, "bench: mpsc received %llu messages\n", (unsigned long long)tally.got);
        exit(1);
    }
}

void bench_mpsc(void)
{
    if (!bench_wants("mpsc_bounded_4x250k"))
        return;
    al_runtime_t *rt = bench_runtime();
    bench_run("mpsc_bounded_4x250k", (uint64_t)PRODUCERS * PER, 2, 11, iter, rt);
    al_runtime_free(rt);
}
