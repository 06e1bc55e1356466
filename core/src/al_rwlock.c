/*
 * al_rwlock.c — RwLock as a batch semaphore of AL_RWLOCK_MAX_READERS permits.
 *
 * A read lock is one permit, a write lock is all of them. Since the batch
 * semaphore serves requests strictly FIFO and never lets a request overtake
 * the head, a writer at the head blocks every later reader until the readers
 * in front of it have left and it has had its turn; the readers behind it
 * then get in together (the grant loop grants every head that fits).
 *
 * Shared fields (struct al_rwlock):
 *   sem     guarded by sem.lock (al_batch_sem.c);
 *   refs    atomic, any thread;
 *   writer  atomic (relaxed); set by a writer after it observes its grant,
 *           cleared before it releases; read by anyone (events, snapshots);
 *   value   belongs to the holders (shared read by readers, exclusive to a
 *           writer), as the permits decide;
 *   id, name  written once at creation.
 */
#include <string.h>

#include "al_rwlock.h"
#include "al_sync_internal.h"

struct al_rwlock {
    al__sem_t sem;
    _Atomic uint32_t refs;
    _Atomic uint64_t writer;
    void *value;
    uint64_t id;
    char *name;
};

#define RW_WRITE AL_RWLOCK_MAX_READERS

int al_rwlock_new(void *value, const char *name, al_rwlock_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_rwlock_t *l = calloc(1, sizeof *l);
    if (!l)
        return AL_ENOMEM;
    if (name && !(l->name = strdup(name))) {
        free(l);
        return AL_ENOMEM;
    }
    l->id = al__resource_id_next();
    l->value = value;
    atomic_init(&l->refs, 1);
    atomic_init(&l->writer, 0);
    al__sem_init(&l->sem, RW_WRITE, l->id);
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), l->id, AL_RES_RWLOCK, l->name);
    *out = l;
    return 0;
}

al_rwlock_t *al_rwlock_ref(al_rwlock_t *l)
{
    atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void al_rwlock_unref(al_rwlock_t *l)
{
    if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, l->id, 0, NULL);
    al__sem_destroy(&l->sem);
    free(l->name);
    free(l);
}

uint64_t al_rwlock_id(const al_rwlock_t *l)
{
    return l->id;
}
const char *al_rwlock_name(const al_rwlock_t *l)
{
    return l->name ? l->name : "";
}

uint32_t al_rwlock_readers(const al_rwlock_t *l)
{
    uint32_t free_permits = atomic_load_explicit(&l->sem.permits, memory_order_relaxed);
    return free_permits == 0 ? 0 : RW_WRITE - free_permits;
}

bool al_rwlock_is_write_locked(const al_rwlock_t *l)
{
    return atomic_load_explicit(&l->sem.permits, memory_order_relaxed) == 0;
}

uint64_t al_rwlock_writer(const al_rwlock_t *l)
{
    return atomic_load_explicit(&l->writer, memory_order_relaxed);
}

void **al_rwlock_value_unsync(al_rwlock_t *l)
{
    return &l->value;
}

static void rw_acquired(al_rwlock_t *l, uint32_t permits, al_rwlock_guard_t *g)
{
    uint64_t task = al__current_task_id();
    if (permits == RW_WRITE)
        atomic_store_explicit(&l->writer, task, memory_order_relaxed);
    g->l = al_rwlock_ref(l);
    g->permits = permits;
    AL__EMIT_HERE(AL_EV_LOCK_ACQUIRE, task, l->id, permits == 1, NULL);
}

static int rw_try(al_rwlock_t *l, uint32_t permits, al_rwlock_guard_t *g)
{
    if (!l || !g)
        return AL_EINVAL;
    int rc = al__sem_try_acquire(&l->sem, permits);
    if (rc == 0)
        rw_acquired(l, permits, g);
    return rc;
}

int al_rwlock_try_read(al_rwlock_t *l, al_rwlock_guard_t *g)
{
    return rw_try(l, 1, g);
}
int al_rwlock_try_write(al_rwlock_t *l, al_rwlock_guard_t *g)
{
    return rw_try(l, RW_WRITE, g);
}

void al_rwlock_read_init(al_rwlock_acquire_t *op, al_rwlock_t *l)
{
    op->l = l;
    al__sem_waiter_init(&op->node, 1);
}

void al_rwlock_write_init(al_rwlock_acquire_t *op, al_rwlock_t *l)
{
    op->l = l;
    al__sem_waiter_init(&op->node, RW_WRITE);
}

al_poll_t al_rwlock_acquire_poll(al_rwlock_acquire_t *op, al_context_t *cx, al_rwlock_guard_t *g)
{
    bool enqueued;
    int res = 0;
    if (!op->l) { /* initialised with no lock: a caller bug */
        g->l = NULL;
        g->permits = 0;
        return AL_READY;
    }
    if (al__sem_poll(&op->l->sem, &op->node, cx, &res, &enqueued) == AL_PENDING) {
        if (enqueued)
            AL__EMIT_HERE(AL_EV_LOCK_CONTEND, al__current_task_id(), op->l->id,
                          al_rwlock_writer(op->l), NULL);
        return AL_PENDING;
    }
    if (res != 0) { /* polled again after READY (never closed): caller bug */
        g->l = NULL;
        g->permits = 0;
        return AL_READY;
    }
    rw_acquired(op->l, op->node.need, g);
    return AL_READY;
}

void al_rwlock_acquire_drop(al_rwlock_acquire_t *op)
{
    if (op->l)
        al__sem_waiter_drop(&op->l->sem, &op->node);
}

int al_rwlock_guard_unlock(al_rwlock_guard_t *g)
{
    if (!g || !g->l)
        return AL_ENOTHELD;
    al_rwlock_t *l = g->l;
    uint32_t permits = g->permits;
    uint64_t prev = 0;
    if (permits == RW_WRITE)
        prev = atomic_exchange_explicit(&l->writer, 0, memory_order_relaxed);
    g->l = NULL;
    g->permits = 0;
    if (al__sem_release_emit(&l->sem, permits, RW_WRITE, AL_EV_LOCK_RELEASE, l->id, permits == 1) !=
        0) {
        /* More permits than exist: a copy of this guard was unlocked already. */
        if (permits == RW_WRITE)
            atomic_store_explicit(&l->writer, prev, memory_order_relaxed);
        return AL_ENOTHELD;
    }
    al_rwlock_unref(l);
    return 0;
}

void **al_rwlock_guard_value(const al_rwlock_guard_t *g)
{
    return g && g->l ? &g->l->value : NULL;
}

bool al_rwlock_guard_is_write(const al_rwlock_guard_t *g)
{
    return g && g->l && g->permits == RW_WRITE;
}
