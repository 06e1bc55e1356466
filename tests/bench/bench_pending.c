/*
 * bench_pending.c — pending_1m_spawn and pending_1m_rss_bytes (the peer
 * suite's memory rows): one task spawns 1,000,000 tasks, each waiting on its
 * own oneshot channel, and keeps the senders in an array (8 bytes each).
 *
 * Each sample runs in a fresh child process (`bench mem-child`), which prints
 *     hwm_delta_bytes <TAB> spawn_ns <TAB> hwm_bytes
 * hwm_delta = VmHWM with every task pending - VmRSS before spawning (so it
 * counts the task, its future, its channel and its sender slot); spawn_ns =
 * from the first spawn until every task has been polled once and is parked
 * on its receiver. The parent runs BENCH_MEM_SAMPLES children (default 3).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "al_oneshot.h"
#include "bench.h"

enum { MEM_TASKS = 1000000 };

static uint64_t proc_status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0) {
            kb = strtoull(line + n, NULL, 10);
            break;
        }
    }
    if (f)
        fclose(f);
    if (kb == 0) {
        fprintf(stderr, "bench: %s not in /proc/self/status\n", field);
        exit(1);
    }
    return kb * 1024;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ---- the child ---- */

typedef struct {
    atomic_size_t parked, finished;
    al_oneshot_tx_t **senders;
} mem_ctx_t;

/* 24 bytes: the shared counters, the receive future (which holds the
 * receiver) and whether it has been polled. */
typedef struct {
    mem_ctx_t *c;
    al_oneshot_recv_t op;
    bool polled;
} waiter_t;

static al_poll_t waiter_poll(void *f, al_context_t *cx, void *out)
{
    waiter_t *w = f;
    if (!w->polled) {
        atomic_fetch_add_explicit(&w->c->parked, 1, memory_order_relaxed);
        w->polled = true;
    }
    char v;
    int res;
    if (al_oneshot_recv_poll(&w->op, cx, &v, &res) == AL_PENDING)
        return AL_PENDING;
    atomic_fetch_add_explicit(&w->c->finished, 1, memory_order_relaxed);
    return AL_READY;
}
static void waiter_drop(void *f)
{
    waiter_t *w = f;
    al_oneshot_rx_t *rx = w->op.rx;
    al_oneshot_recv_drop(&w->op);
    al_oneshot_rx_drop(rx);
}
static const al_future_vtable_t waiter_vt = {.type_name = "waiter",
                                             .poll = waiter_poll,
                                             .drop = waiter_drop,
                                             .future_size = sizeof(waiter_t)};

static al_poll_t spawner_poll(void *f, al_context_t *cx, void *out)
{
    mem_ctx_t *c = *(mem_ctx_t **)f;
    for (size_t i = 0; i < MEM_TASKS; i++) {
        waiter_t w = {.c = c};
        al_oneshot_rx_t *rx;
        if (al_oneshot_channel(1, NULL, &c->senders[i], &rx) != 0)
            exit(1);
        al_oneshot_recv_init(&w.op, rx);
        if (al_spawn(NULL, &waiter_vt, &w, NULL, NULL) != 0) {
            fprintf(stderr, "bench: mem-child: spawn %zu failed\n", i);
            exit(1);
        }
    }
    return AL_READY;
}
static const al_future_vtable_t spawner_vt = {
    .type_name = "mem_spawner", .poll = spawner_poll, .future_size = sizeof(mem_ctx_t *)};

typedef struct {
    mem_ctx_t *c;
    al_join_t *h;
} mem_main_t;

static al_poll_t mem_main_poll(void *f, al_context_t *cx, void *out)
{
    mem_main_t *m = f;
    if (!m->h && al_spawn(NULL, &spawner_vt, &m->c, NULL, &m->h) != 0)
        exit(1);
    al_join_result_t res;
    if (al_join_poll(m->h, cx, NULL, &res) == AL_PENDING)
        return AL_PENDING;
    al_join_drop(m->h);
    return AL_READY;
}
static const al_future_vtable_t mem_main_vt = {.poll = mem_main_poll,
                                               .future_size = sizeof(mem_main_t)};

static al_poll_t nothing_poll(void *f, al_context_t *cx, void *out)
{
    return AL_READY;
}
static const al_future_vtable_t nothing_vt = {.poll = nothing_poll};

int bench_pending_child(void)
{
    al_runtime_t *rt = bench_runtime();
    bench_block_on(rt, &nothing_vt, NULL); /* workers started and warm */
    mem_ctx_t c = {0};
    uint64_t base = proc_status_bytes("VmRSS:");
    c.senders = malloc(MEM_TASKS * sizeof *c.senders);
    uint64_t t0 = bench_now_ns();
    mem_main_t m = {.c = &c};
    bench_block_on(rt, &mem_main_vt, &m);
    while (atomic_load(&c.parked) < MEM_TASKS)
        sleep_us(200);
    uint64_t spawn_ns = bench_now_ns() - t0;
    uint64_t hwm = proc_status_bytes("VmHWM:");
    char v = 1;
    for (size_t i = 0; i < MEM_TASKS; i++)
        al_oneshot_send(c.senders[i], &v);
    while (atomic_load(&c.finished) < MEM_TASKS)
        sleep_us(1000);
    printf("%llu\t%llu\t%llu\n", (unsigned long long)(hwm > base ? hwm - base : 0),
           (unsigned long long)spawn_ns, (unsigned long long)hwm);
    free(c.senders);
    al_runtime_free(rt);
    return 0;
}

/* ---- the parent ---- */

void bench_pending(void)
{
    if (!bench_wants("pending_1m_rss_bytes") && !bench_wants("pending_1m_spawn"))
        return;
    int samples = bench_env_int("BENCH_MEM_SAMPLES", 3);
    if (samples < 1)
        samples = 1;
    uint64_t *bytes = calloc((size_t)samples, sizeof *bytes);
    uint64_t *ns = calloc((size_t)samples, sizeof *ns);
    int got = 0;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "bench: cannot find my own executable\n");
        exit(1);
    }
    exe[n] = 0;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' mem-child", exe);
    for (int i = 0; i < samples; i++) {
        FILE *p = popen(cmd, "r");
        unsigned long long b = 0, t = 0, h = 0;
        int fields = p ? fscanf(p, "%llu\t%llu\t%llu", &b, &t, &h) : 0;
        int status = p ? pclose(p) : -1;
        if (fields != 3 || status != 0) {
            fprintf(stderr, "bench: mem-child failed (status %d)\n", status);
            continue;
        }
        fprintf(stderr, "bench: mem-child hwm_delta=%llu B spawn=%llu ns VmHWM=%llu B\n", b, t, h);
        bytes[got] = b;
        ns[got] = t;
        got++;
    }
    bench_emit("pending_1m_spawn", ns, got, MEM_TASKS);
    bench_emit("pending_1m_rss_bytes", bytes, got, MEM_TASKS);
    free(bytes);
    free(ns);
}
