/*
 * al_semaphore.c — Semaphore: the public, reference-counted handle around the
 * fair FIFO batch semaphore of al_batch_sem.c, plus permit objects and events.
 *
 * All waiting, fairness and cancellation logic lives in al_batch_sem.c; this
 * file adds the handle's life cycle (refs, name, resource id), argument
 * checks, and the event stream (SEM_ACQUIRE / SEM_RELEASE / LOCK_CONTEND).
 *
 * Shared fields (struct al_semaphore):
 *   refs  atomic; any thread (ref / unref / permits);
 *   core  guarded by core.lock (see al_batch_sem.c);
 *   id, name  written once in al_semaphore_new, then read-only.
 *
 * A permit holds a reference on the semaphore, so it may outlive every other
 * handle; releasing it returns the permits and drops that reference.
 */
#include <string.h>

#include "al_semaphore.h"
#include "al_sync_internal.h"

struct al_semaphore {
    al__sem_t core;
    _Atomic uint32_t refs;
    uint64_t id;
    char *name;
};

int al_semaphore_new(uint32_t permits, const char *name, al_semaphore_t **out)
{
    if (!out || permits > AL_SEM_MAX_PERMITS)
        return AL_EINVAL;
    al_semaphore_t *s = calloc(1, sizeof *s);
    if (!s)
        return AL_ENOMEM;
    if (name && !(s->name = strdup(name))) {
        free(s);
        return AL_ENOMEM;
    }
    s->id = al__resource_id_next();
    atomic_init(&s->refs, 1);
    al__sem_init(&s->core, permits, s->id);
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), s->id, AL_RES_SEMAPHORE, s->name);
    *out = s;
    return 0;
}

al_semaphore_t *al_semaphore_ref(al_semaphore_t *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void al_semaphore_unref(al_semaphore_t *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, s->id, 0, NULL);
    al__sem_destroy(&s->core);
    free(s->name);
    free(s);
}

uint64_t al_semaphore_id(const al_semaphore_t *s)
{
    return s->id;
}
const char *al_semaphore_name(const al_semaphore_t *s)
{
    return s->name ? s->name : "";
}

uint32_t al_semaphore_available_permits(const al_semaphore_t *s)
{
    return atomic_load_explicit(&s->core.permits, memory_order_relaxed);
}

bool al_semaphore_is_closed(const al_semaphore_t *s)
{
    return atomic_load_explicit(&s->core.closed, memory_order_relaxed);
}

static void sem_grant_permit(al_semaphore_t *s, uint32_t n, al_sem_permit_t *out)
{
    out->sem = al_semaphore_ref(s);
    out->n = n;
    AL__EMIT_HERE(AL_EV_SEM_ACQUIRE, al__current_task_id(), s->id, n, NULL);
}

int al_semaphore_try_acquire(al_semaphore_t *s, uint32_t n, al_sem_permit_t *out)
{
    if (!s || !out || n == 0 || n > AL_SEM_MAX_PERMITS)
        return AL_EINVAL;
    int rc = al__sem_try_acquire(&s->core, n);
    if (rc == 0)
        sem_grant_permit(s, n, out);
    return rc;
}

int al_semaphore_add_permits(al_semaphore_t *s, uint32_t n)
{
    if (!s || n == 0)
        return AL_EINVAL;
    return al__sem_release_emit(&s->core, n, AL_SEM_MAX_PERMITS, AL_EV_SEM_RELEASE, s->id, n);
}

void al_semaphore_close(al_semaphore_t *s)
{
    if (s)
        al__sem_close(&s->core);
}

int al_semaphore_acquire_init(al_sem_acquire_t *op, al_semaphore_t *s, uint32_t n)
{
    bool ok = s && n > 0 && n <= AL_SEM_MAX_PERMITS;
    op->sem = ok ? s : NULL;
    al__sem_waiter_init(&op->node, ok ? n : 0);
    return ok ? 0 : AL_EINVAL;
}

al_poll_t al_semaphore_acquire_poll(al_sem_acquire_t *op, al_context_t *cx, al_sem_permit_t *out,
                                    int *err)
{
    if (!op->sem) {
        *err = AL_EINVAL;
        return AL_READY;
    }
    bool enqueued;
    int res = 0;
    al_poll_t r = al__sem_poll(&op->sem->core, &op->node, cx, &res, &enqueued);
    if (r == AL_PENDING) {
        if (enqueued)
            AL__EMIT_HERE(AL_EV_LOCK_CONTEND, al__current_task_id(), op->sem->id, 0, NULL);
        return AL_PENDING;
    }
    *err = res;
    if (res == 0)
        sem_grant_permit(op->sem, op->node.need, out);
    return AL_READY;
}

void al_semaphore_acquire_drop(al_sem_acquire_t *op)
{
    if (op->sem)
        al__sem_waiter_drop(&op->sem->core, &op->node);
}

int al_sem_permit_release(al_sem_permit_t *p)
{
    if (!p || !p->sem)
        return AL_ENOTHELD;
    al_semaphore_t *s = p->sem;
    /* Overflows only if add_permits pushed the total to the maximum meanwhile;
     * the permit then stays held and the error is reported. */
    int rc =
        al__sem_release_emit(&s->core, p->n, AL_SEM_MAX_PERMITS, AL_EV_SEM_RELEASE, s->id, p->n);
    if (rc)
        return rc;
    p->sem = NULL;
    p->n = 0;
    al_semaphore_unref(s);
    return 0;
}

int al_sem_permit_forget(al_sem_permit_t *p)
{
    if (!p || !p->sem)
        return AL_ENOTHELD;
    al_semaphore_t *s = p->sem;
    p->sem = NULL;
    p->n = 0;
    al_semaphore_unref(s);
    return 0;
}
