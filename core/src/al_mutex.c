/*
 * al_mutex.c — Mutex: an async mutex as a batch semaphore with one permit.
 *
 * Locked = the single permit is taken. Fairness, queueing, cancellation and
 * hand-over all come from al_batch_sem.c: an unlock grants the permit straight
 * to the head waiter, so a task that unlocks and immediately locks again goes
 * to the back of the queue instead of barging (no starvation).
 *
 * The holder's task id is bookkeeping for events and deadlock detection, not
 * part of the locking: it is set by the acquirer right after it observes the
 * permit, and cleared by the unlocker right before it gives the permit back.
 * Between a grant and the woken waiter's poll it reads 0 ("unknown").
 *
 * Shared fields (struct al_mutex):
 *   sem     guarded by sem.lock (al_batch_sem.c);
 *   refs    atomic, any thread;
 *   holder  atomic (relaxed); written by the guard's owner, read by anyone;
 *   value   belongs to whoever holds the lock (the permit is the guard);
 *   id, name  written once in al_mutex_new, then read-only.
 */
#include <string.h>

#include "al_mutex.h"
#include "al_semaphore.h"
#include "al_sync_internal.h"

struct al_mutex {
    al__sem_t sem;
    _Atomic uint32_t refs;
    _Atomic uint64_t holder;
    void *value;
    uint64_t id;
    char *name;
};

int al_mutex_new(void *value, const char *name, al_mutex_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_mutex_t *m = calloc(1, sizeof *m);
    if (!m)
        return AL_ENOMEM;
    if (name && !(m->name = strdup(name))) {
        free(m);
        return AL_ENOMEM;
    }
    m->id = al__resource_id_next();
    m->value = value;
    atomic_init(&m->refs, 1);
    atomic_init(&m->holder, 0);
    al__sem_init(&m->sem, 1, m->id);
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), m->id, AL_RES_MUTEX, m->name);
    *out = m;
    return 0;
}

al_mutex_t *al_mutex_ref(al_mutex_t *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void al_mutex_unref(al_mutex_t *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, m->id, 0, NULL);
    al__sem_destroy(&m->sem);
    free(m->name);
    free(m);
}

uint64_t al_mutex_id(const al_mutex_t *m)
{
    return m->id;
}
const char *al_mutex_name(const al_mutex_t *m)
{
    return m->name ? m->name : "";
}

bool al_mutex_is_locked(const al_mutex_t *m)
{
    return atomic_load_explicit(&m->sem.permits, memory_order_relaxed) == 0;
}

uint64_t al_mutex_holder(const al_mutex_t *m)
{
    return atomic_load_explicit(&m->holder, memory_order_relaxed);
}

void **al_mutex_value_unsync(al_mutex_t *m)
{
    return &m->value;
}

/* The caller has just taken the permit. */
static void mutex_acquired(al_mutex_t *m, al_mutex_guard_t *g)
{
    uint64_t task = al__current_task_id();
    atomic_store_explicit(&m->holder, task, memory_order_relaxed);
    g->m = al_mutex_ref(m);
    AL__EMIT_HERE(AL_EV_LOCK_ACQUIRE, task, m->id, 0, NULL);
}

int al_mutex_try_lock(al_mutex_t *m, al_mutex_guard_t *g)
{
    if (!m || !g)
        return AL_EINVAL;
    int rc = al__sem_try_acquire(&m->sem, 1);
    if (rc == 0)
        mutex_acquired(m, g);
    return rc;
}

void al_mutex_lock_init(al_mutex_lock_t *op, al_mutex_t *m)
{
    op->m = m;
    al__sem_waiter_init(&op->node, 1);
}

al_poll_t al_mutex_lock_poll(al_mutex_lock_t *op, al_context_t *cx, al_mutex_guard_t *g)
{
    bool enqueued;
    int res = 0;
    if (!op->m) { /* initialised with no mutex: a caller bug */
        g->m = NULL;
        return AL_READY;
    }
    if (al__sem_poll(&op->m->sem, &op->node, cx, &res, &enqueued) == AL_PENDING) {
        if (enqueued)
            AL__EMIT_HERE(AL_EV_LOCK_CONTEND, al__current_task_id(), op->m->id,
                          al_mutex_holder(op->m), NULL);
        return AL_PENDING;
    }
    if (res != 0) {
        /* A mutex is never closed: this op was polled again after READY
         * (a caller bug). Give the empty guard rather than a second lock. */
        g->m = NULL;
        return AL_READY;
    }
    mutex_acquired(op->m, g);
    return AL_READY;
}

void al_mutex_lock_drop(al_mutex_lock_t *op)
{
    if (op->m)
        al__sem_waiter_drop(&op->m->sem, &op->node);
}

int al_mutex_guard_unlock(al_mutex_guard_t *g)
{
    if (!g || !g->m)
        return AL_ENOTHELD;
    al_mutex_t *m = g->m;
    uint64_t prev = atomic_exchange_explicit(&m->holder, 0, memory_order_relaxed);
    if (al__sem_release_emit(&m->sem, 1, 1, AL_EV_LOCK_RELEASE, m->id, 0) != 0) {
        /* Not locked: a copy of this guard was unlocked already (and its
         * reference dropped with it, so this copy owns none to drop). */
        atomic_store_explicit(&m->holder, prev, memory_order_relaxed);
        g->m = NULL;
        return AL_ENOTHELD;
    }
    g->m = NULL;
    al_mutex_unref(m);
    return 0;
}

void **al_mutex_guard_value(const al_mutex_guard_t *g)
{
    return g && g->m ? &g->m->value : NULL;
}
