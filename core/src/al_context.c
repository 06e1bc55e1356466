/*
 * al_context.c — the per-thread runtime context, the clock, and id counters.
 */
#include <time.h>

#include "al_internal.h"

_Thread_local al__tls_t al__tls = {.coop = -1, .worker_index = AL_EV_NOT_WORKER};

void al__mutex_init_adaptive(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    AL_EXPECT(pthread_mutex_init(m, &a) == 0);
    pthread_mutexattr_destroy(&a);
}

uint64_t al__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static atomic_uint_fast64_t al__resource_ids = 1;

uint64_t al__resource_id_next(void)
{
    return atomic_fetch_add_explicit(&al__resource_ids, 1, memory_order_relaxed);
}

al_runtime_t *al_runtime_current(void)
{
    return al__tls.rt;
}

bool al_runtime_driving(void)
{
    return al__tls.entered;
}

al_runtime_t *al_runtime_enter(al_runtime_t *rt)
{
    al_runtime_t *previous = al__tls.rt;
    al__tls.rt = rt;
    return previous;
}

void al_runtime_exit(al_runtime_t *previous)
{
    al__tls.rt = previous;
}

int al_runtime_current_worker(void)
{
    return al__tls.worker_index;
}
