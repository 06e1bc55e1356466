/*
 * bench_main.c — harness and entry point of `make bench` (see bench.h).
 *
 * Usage: bench [FILTER]       run the scenarios whose name contains FILTER
 *        bench mem-child      (internal) one pending-task memory sample
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static const char *filter;

bool bench_wants(const char *name)
{
    return !filter || strstr(name, filter) != NULL;
}

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_stall(void)
{
    uint64_t start = bench_now_ns();
    while (bench_now_ns() - start < 10000)
        sched_yield();
}

int bench_env_int(const char *key, int dflt)
{
    const char *v = getenv(key);
    return v && *v ? atoi(v) : dflt;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_emit(const char *name, uint64_t *samples, int n, uint64_t ops)
{
    if (n == 0) {
        printf("asynclab-%s\t%s\tNA\tNA\t%llu\tNA\tNA\n", ASYNCLAB_VERSION, name,
               (unsigned long long)ops);
        fflush(stdout);
        return;
    }
    qsort(samples, (size_t)n, sizeof *samples, cmp_u64);
    uint64_t median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    printf("asynclab-%s\t%s\t%llu\t%llu\t%llu\t%.1f\t%.1f\n", ASYNCLAB_VERSION, name,
           (unsigned long long)median, (unsigned long long)samples[0], (unsigned long long)ops,
           (double)median / (double)ops, (double)samples[0] / (double)ops);
    fflush(stdout);
}

void bench_run(const char *name, uint64_t ops, int warmup, int reps, void (*iter)(void *),
               void *ctx)
{
    warmup = bench_env_int("BENCH_WARMUP", warmup);
    reps = bench_env_int("BENCH_REPS", reps);
    if (reps < 1)
        reps = 1;
    for (int i = 0; i < warmup; i++)
        iter(ctx);
    uint64_t *samples = malloc(sizeof *samples * (size_t)reps);
    for (int i = 0; i < reps; i++) {
        uint64_t t = bench_now_ns();
        iter(ctx);
        samples[i] = bench_now_ns() - t;
    }
    bench_emit(name, samples, reps, ops);
    free(samples);
}

al_runtime_t *bench_runtime(void)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = BENCH_WORKERS;
    cfg.enable_time = true;
    cfg.enable_io = true;
    al_runtime_t *rt;
    int rc = al_runtime_new(&cfg, &rt);
    if (rc != 0) {
        fprintf(stderr, "bench: runtime: %s\n", al_strerror(rc));
        exit(1);
    }
    return rt;
}

void bench_block_on(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut)
{
    char *msg = NULL;
    int rc = al_runtime_block_on(rt, vt, fut, NULL, &msg);
    if (rc != 0) {
        fprintf(stderr, "bench: block_on: %s %s\n", al_strerror(rc), msg ? msg : "");
        exit(1);
    }
}

struct bench_signal {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int posts;
};

bench_signal_t *bench_signal_new(void)
{
    bench_signal_t *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    return s;
}

void bench_signal_free(bench_signal_t *s)
{
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

void bench_signal_post(bench_signal_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->posts++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void bench_signal_wait(bench_signal_t *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->posts == 0)
        pthread_cond_wait(&s->cond, &s->lock);
    s->posts--;
    pthread_mutex_unlock(&s->lock);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "mem-child") == 0)
        return bench_pending_child();
    filter = argc > 1 && argv[1][0] ? argv[1] : NULL;
    bench_spawn_scenarios();
    bench_yield_many();
    bench_ping_pong();
    bench_chained_spawn();
    bench_spawn_many_in_task();
    bench_timers();
    bench_mpsc();
    bench_mutex();
    bench_pending();
    return 0;
}
