/*
 * bench_ping_pong.c — ping_pong (Tokio's benches/rt_multi_threaded.rs): one
 * task spawns NUM_PINGS pingers; each pinger spawns a ponger, sends it a ping
 * on a oneshot and awaits the pong on a second oneshot; the last pinger to
 * finish signals the blocked block_on thread. ops = pings (one round trip,
 * two oneshot channels and two spawns each).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "al_oneshot.h"
#include "bench.h"

enum { NUM_PINGS = 1000 };

typedef struct {
    al_oneshot_rx_t *rx; /* the ping */
    al_oneshot_tx_t *tx; /* the pong */
    al_oneshot_recv_t op;
    bool waiting;
} ponger_t;

static al_poll_t ponger_poll(void *f, al_context_t *cx, void *out)
{
    ponger_t *p = f;
    if (!p->waiting) {
        al_oneshot_recv_init(&p->op, p->rx);
        p->waiting = true;
    }
    char v;
    int res;
    if (al_oneshot_recv_poll(&p->op, cx, &v, &res) == AL_PENDING)
        return AL_PENDING;
    al_oneshot_send(p->tx, &v);
    p->tx = NULL;
    return AL_READY;
}
static void ponger_drop(void *f)
{
    ponger_t *p = f;
    if (p->waiting)
        al_oneshot_recv_drop(&p->op);
    al_oneshot_rx_drop(p->rx);
    al_oneshot_tx_drop(p->tx);
}
static const al_future_vtable_t ponger_vt = {.type_name = "ponger",
                                             .poll = ponger_poll,
                                             .drop = ponger_drop,
                                             .future_size = sizeof(ponger_t)};

typedef struct {
    atomic_size_t *rem;
    bench_signal_t *done;
    al_oneshot_rx_t *pong;
    al_oneshot_recv_t op;
    bool waiting;
} pinger_t;

static al_poll_t pinger_poll(void *f, al_context_t *cx, void *out)
{
    pinger_t *p = f;
    if (!p->waiting) {
        ponger_t pg = {0};
        al_oneshot_tx_t *ping;
        if (al_oneshot_channel(1, NULL, &ping, &pg.rx) != 0 ||
            al_oneshot_channel(1, NULL, &pg.tx, &p->pong) != 0 ||
            al_spawn(NULL, &ponger_vt, &pg, NULL, NULL) != 0)
            abort();
        char v = 1;
        al_oneshot_send(ping, &v);
        al_oneshot_recv_init(&p->op, p->pong);
        p->waiting = true;
    }
    char v;
    int res;
    if (al_oneshot_recv_poll(&p->op, cx, &v, &res) == AL_PENDING)
        return AL_PENDING;
    if (atomic_fetch_sub_explicit(p->rem, 1, memory_order_relaxed) == 1)
        bench_signal_post(p->done);
    return AL_READY;
}
static void pinger_drop(void *f)
{
    pinger_t *p = f;
    if (p->waiting)
        al_oneshot_recv_drop(&p->op);
    al_oneshot_rx_drop(p->pong);
}
static const al_future_vtable_t pinger_vt = {.type_name = "pinger",
                                             .poll = pinger_poll,
                                             .drop = pinger_drop,
                                             .future_size = sizeof(pinger_t)};

typedef struct {
    atomic_size_t rem;
    bench_signal_t *done;
} ping_ctx_t;

static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    ping_ctx_t *c = *(ping_ctx_t **)f;
    for (int i = 0; i < NUM_PINGS; i++) {
        pinger_t p = {.rem = &c->rem, .done = c->done};
        al_spawn(NULL, &pinger_vt, &p, NULL, NULL);
    }
    return AL_READY;
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "ping_spawner", .poll = spawner_poll, .future_size = sizeof(ping_ctx_t *)};

static al_poll_t main_poll(void *f, al_context_t *cx, void *out)
{
    ping_ctx_t *c = *(ping_ctx_t **)f;
    al_spawn(NULL, &spawner_vt, &c, NULL, NULL);
    bench_signal_wait(c->done); /* as upstream: a blocking recv inside block_on */
    return AL_READY;
}
static const al_future_vtable_t main_vt = {.poll = main_poll, .future_size = sizeof(ping_ctx_t *)};

static al_runtime_t *g_rt;

static void iter(void *p)
{
    ping_ctx_t *c = p;
    atomic_store(&c->rem, NUM_PINGS);
    bench_block_on(g_rt, &main_vt, &c);
}

void bench_ping_pong(void)
{
    if (!bench_wants("ping_pong"))
        return;
    g_rt = bench_runtime();
    ping_ctx_t c = {.done = bench_signal_new()};
    bench_run("ping_pong", NUM_PINGS, 5, 51, iter, &c);
    bench_signal_free(c.done);
    al_runtime_free(g_rt);
}
