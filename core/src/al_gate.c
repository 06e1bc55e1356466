/*
 * al_gate.c — the step gate (al_runtime.h, "the step gate"): while it is on,
 * a thread about to poll a task waits here until a step is granted; each
 * step lets exactly one poll through.
 *
 * The schedulers call al__gate_pass(rt) right before each poll. Its fast
 * path is one relaxed load of `on` behind AL_UNLIKELY: the whole cost of
 * the gate while nobody steps. Everything else happens under the gate's
 * mutex: `steps` (polls still allowed), `waiting` (threads at the gate),
 * `shut` (shutdown began: the gate lets everyone through for good).
 * `changed` wakes the waiters (a step, off, shutdown); `idle` wakes
 * observers in al_runtime_gate_wait (a thread arrived at the gate).
 */
#include <errno.h>
#include <time.h>

#include "al_runtime_internal.h"

void al__gate_init(al__gate_t *g)
{
    atomic_init(&g->on, false);
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->changed, &ca);
    pthread_cond_init(&g->idle, &ca);
    pthread_condattr_destroy(&ca);
}

void al__gate_destroy(al__gate_t *g)
{
    pthread_cond_destroy(&g->changed);
    pthread_cond_destroy(&g->idle);
    pthread_mutex_destroy(&g->lock);
}

void al__gate_wait_slow(al__gate_t *g)
{
    pthread_mutex_lock(&g->lock);
    g->waiting++;
    pthread_cond_broadcast(&g->idle);
    while (atomic_load_explicit(&g->on, memory_order_relaxed) && !g->shut && g->steps == 0)
        pthread_cond_wait(&g->changed, &g->lock);
    if (atomic_load_explicit(&g->on, memory_order_relaxed) && !g->shut) {
        g->steps--;
        g->passed++;
    }
    g->waiting--;
    pthread_mutex_unlock(&g->lock);
}

void al__gate_shutdown(al__gate_t *g)
{
    pthread_mutex_lock(&g->lock);
    g->shut = true;
    atomic_store_explicit(&g->on, false, memory_order_relaxed);
    pthread_cond_broadcast(&g->changed);
    pthread_cond_broadcast(&g->idle);
    pthread_mutex_unlock(&g->lock);
}

int al_runtime_set_gate(al_runtime_t *rt, bool on)
{
    if (!rt)
        return AL_EINVAL;
    al__gate_t *g = &rt->gate;
    pthread_mutex_lock(&g->lock);
    int rc = 0;
    if (g->shut && on) {
        rc = AL_ESHUTDOWN;
    } else {
        atomic_store_explicit(&g->on, on, memory_order_relaxed);
        g->steps = 0;
        pthread_cond_broadcast(&g->changed); /* off: everyone goes */
        pthread_cond_broadcast(&g->idle);
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

int al_runtime_gate_step(al_runtime_t *rt, uint32_t polls)
{
    if (!rt)
        return AL_EINVAL;
    al__gate_t *g = &rt->gate;
    pthread_mutex_lock(&g->lock);
    int rc = 0;
    if (!atomic_load_explicit(&g->on, memory_order_relaxed)) {
        rc = AL_EINVAL;
    } else {
        g->steps += polls;
        /* Wake them all: which waiter takes the step is up to the mutex. */
        pthread_cond_broadcast(&g->changed);
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void al_runtime_gate_state(const al_runtime_t *crt, al_gate_state_t *out)
{
    al__gate_t *g = &((al_runtime_t *)crt)->gate;
    pthread_mutex_lock(&g->lock);
    out->on = atomic_load_explicit(&g->on, memory_order_relaxed);
    out->waiting = g->waiting;
    out->steps_left = g->steps;
    out->passed = g->passed;
    pthread_mutex_unlock(&g->lock);
}

bool al_runtime_gate_wait(al_runtime_t *rt, uint32_t waiting, uint64_t timeout_ms)
{
    al__gate_t *g = &rt->gate;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (timeout_ms % 1000u) * 1000000u;
    ts.tv_sec += (time_t)(timeout_ms / 1000u + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&g->lock);
    bool ok;
    for (;;) {
        bool on = atomic_load_explicit(&g->on, memory_order_relaxed);
        ok = on && g->steps == 0 && g->waiting >= waiting;
        if (ok || !on || g->shut)
            break;
        if (pthread_cond_timedwait(&g->idle, &g->lock, &ts) == ETIMEDOUT) {
            ok = atomic_load_explicit(&g->on, memory_order_relaxed) && g->steps == 0 &&
                 g->waiting >= waiting;
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}
