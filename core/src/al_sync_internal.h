/*
 * al_sync_internal.h — private to the asynclab core: the pieces the async sync
 * primitives (semaphore, mutex, rwlock, notify, barrier) share.
 *
 *   - al__waitq_t: a FIFO of al_wait_node_t (al_wait_node.h), doubly linked so
 *     a cancelled waiter unlinks in O(1). Always guarded by its owner's lock.
 *   - al__wake_list_t: wakers taken out of nodes while the owner's lock is
 *     held, woken after it is released (a woken task may run at once on
 *     another worker and come straight back for the lock; waking under the
 *     lock would make it contend, and foreign wake code must never run under
 *     our lock). Bounded, like Tokio's WakeList: when full, the caller drops
 *     the lock, wakes the batch, and takes the lock again.
 *   - al__sem_t: the fair FIFO batch semaphore that Semaphore, Mutex and
 *     RwLock are built on (algorithm in al_batch_sem.c).
 */
#ifndef AL_SYNC_INTERNAL_H
#define AL_SYNC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "al_internal.h"
#include "al_wait_node.h"

/* ---- FIFO wait queue ---- */

typedef struct al__waitq {
    al_wait_node_t *head, *tail;
} al__waitq_t;

static inline void al__waitq_push_back(al__waitq_t *q, al_wait_node_t *n)
{
    n->next = NULL;
    n->prev = q->tail;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

static inline void al__waitq_remove(al__waitq_t *q, al_wait_node_t *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        q->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        q->tail = n->prev;
    n->prev = n->next = NULL;
}

static inline al_wait_node_t *al__waitq_pop_front(al__waitq_t *q)
{
    al_wait_node_t *n = q->head;
    if (n)
        al__waitq_remove(q, n);
    return n;
}

/* Node state access (relaxed: the lock, or node ownership, orders the rest). */
static inline uint32_t al__wn_state(const al_wait_node_t *n)
{
    return atomic_load_explicit(&n->state, memory_order_relaxed);
}
static inline void al__wn_set_state(al_wait_node_t *n, uint32_t st)
{
    atomic_store_explicit(&n->state, st, memory_order_relaxed);
}

/* ---- deferred wakes ---- */

#define AL__WAKE_LIST_CAP 32

typedef struct al__wake_list {
    al_waker_t w[AL__WAKE_LIST_CAP];
    int n;
} al__wake_list_t;

static inline bool al__wake_list_full(const al__wake_list_t *l)
{
    return l->n == AL__WAKE_LIST_CAP;
}

/* Move the node's waker into the list (the node keeps the empty waker). */
static inline void al__wake_list_take(al__wake_list_t *l, al_wait_node_t *n)
{
    l->w[l->n++] = n->waker;
    n->waker = AL_WAKER_NONE;
}

/* Wake (and release) every waker in the list; call with no lock held. */
static inline void al__wake_list_wake(al__wake_list_t *l, al_wake_src_t src)
{
    for (int i = 0; i < l->n; i++)
        al_waker_wake(&l->w[i], src);
    l->n = 0;
}

/* ---- the batch semaphore core ---- */

/* Node states (al_wait_node_t.state) of a semaphore waiter. */
enum {
    AL__SEMW_IDLE = 0, /* initialised, not yet polled */
    AL__SEMW_QUEUED,   /* in the wait queue */
    AL__SEMW_GRANTED,  /* permits assigned, owner has not observed them yet */
    AL__SEMW_CLOSED,   /* removed from the queue by close; owner not told yet */
    AL__SEMW_DONE,     /* finished (observed or dropped): nothing outstanding */
};

typedef struct al__sem {
    pthread_mutex_t lock;
    _Atomic uint32_t permits; /* available; written under lock, read relaxed anywhere */
    _Atomic bool closed;      /* written under lock, read relaxed anywhere */
    al__waitq_t waiters;      /* under lock */
    uint64_t resource;        /* resource id used as the wake source; constant */
} al__sem_t;

void al__sem_init(al__sem_t *s, uint32_t permits, uint64_t resource);
void al__sem_destroy(al__sem_t *s);
/* Take n permits now if no one is queued and enough are available.
 * 0, AL_EWOULDBLOCK, AL_ECLOSED. */
int al__sem_try_acquire(al__sem_t *s, uint32_t n);
/* Give n permits back (or add new ones) and grant queued waiters in FIFO order.
 * AL_EINVAL when the available total would exceed cap (nothing changes): the
 * Mutex passes cap 1, so a second unlock through a copied guard is caught
 * whenever nobody re-locked in between. */
int al__sem_release(al__sem_t *s, uint32_t n, uint32_t cap);
/* The same, and on success emit (kind, task, resource, b) after the permits
 * are back but before any waiter is woken, so the stream shows the release
 * before the wake it causes. */
int al__sem_release_emit(al__sem_t *s, uint32_t n, uint32_t cap, al_event_kind_t kind,
                         uint64_t resource, uint64_t b);
/* Fail every queued waiter with AL_ECLOSED; later acquires fail at once. */
void al__sem_close(al__sem_t *s);

static inline void al__sem_waiter_init(al_wait_node_t *w, uint32_t n)
{
    w->prev = w->next = NULL;
    w->waker = AL_WAKER_NONE;
    w->need = n;
    atomic_init(&w->state, AL__SEMW_IDLE);
}
/*
 * Poll a waiter for w->need permits. AL_READY with *res = 0 (the caller now
 * owns the permits) or AL_ECLOSED; AL_PENDING otherwise, with *enqueued set
 * when this very poll put the waiter in the queue (the moment the wrappers
 * report contention). Consumes one unit of coop budget.
 */
al_poll_t al__sem_poll(al__sem_t *s, al_wait_node_t *w, al_context_t *cx, int *res, bool *enqueued);
/* Cancel: unlink a queued waiter; give back permits granted but not observed. */
void al__sem_waiter_drop(al__sem_t *s, al_wait_node_t *w);

#endif
