/*
 * al_batch_sem.c — the fair FIFO batch semaphore under Semaphore, Mutex and
 * RwLock (modelled on the design of Tokio's batch_semaphore; no code shared).
 *
 * State: a count of available permits, a closed flag and a FIFO queue of
 * waiters, each asking for `need` permits at once (a "batch": a Mutex asks
 * for 1, an RwLock writer for all of them).
 *
 * Algorithm.
 *   acquire: if the queue is empty and enough permits are available, take them
 *     and finish at once. Otherwise join the back of the queue. A request never
 *     overtakes a queued one, even when it could be served right now: that is
 *     the fairness guarantee (a big request at the head blocks later small
 *     ones; a queued RwLock writer blocks later readers).
 *   release(n): add n permits, then grant from the head while the head's whole
 *     request fits: take its permits, unlink it, mark it GRANTED, move its
 *     waker to a wake list. Stop at the first head that does not fit. Wake the
 *     list after dropping the lock.
 *   Tokio assigns permits to the head waiter piecemeal; here the head is
 *     granted only when its whole request fits. Observably the same: nobody
 *     behind the head can take the permits either way, and available_permits
 *     shows them as free (Tokio shows them as already taken).
 *   cancel (the owner drops its sub-future):
 *     QUEUED  -> unlink; if it was the head, the new head may fit now, so run
 *                the grant loop (a cancelled big request must not strand the
 *                small ones behind it);
 *     GRANTED -> permits were assigned but never observed by the owner: give
 *                them back through release, which hands them to the next
 *                waiters (nothing is lost);
 *     CLOSED / IDLE / DONE -> nothing outstanding.
 *   close: mark closed, fail every queued waiter (state CLOSED, woken).
 *
 * Invariants (under `lock`):
 *   - a node is in `waiters` iff its state is QUEUED;
 *   - when the queue is non-empty, permits < head->need (otherwise the grant
 *     loop would have granted the head);
 *   - permits available + permits held by owners + permits GRANTED-but-unseen
 *     is constant except for release/add (conservation: tests check it).
 *
 * Shared fields (al__sem_t, al_wait_node_t):
 *   permits  written under lock by every path; read under lock, or relaxed
 *            without it by available_permits (a snapshot);
 *   closed   written under lock by close; read under lock, or relaxed;
 *   waiters  and every field of a queued node (links, waker, state): under
 *            lock, by the owner's poll/drop and by release/close on any thread;
 *   node.need written by the owner before the first poll, then read-only.
 *   A node that is not queued is touched only by its owner.
 */
#include <string.h>

#include "al_semaphore.h"
#include "al_sync_internal.h"

void al__sem_init(al__sem_t *s, uint32_t permits, uint64_t resource)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->permits, permits);
    atomic_init(&s->closed, false);
    s->resource = resource;
}

void al__sem_destroy(al__sem_t *s)
{
    AL_EXPECT(s->waiters.head == NULL);
    pthread_mutex_destroy(&s->lock);
}

static inline uint32_t sem_permits(al__sem_t *s)
{
    return atomic_load_explicit(&s->permits, memory_order_relaxed);
}
static inline void sem_set_permits(al__sem_t *s, uint32_t v)
{
    atomic_store_explicit(&s->permits, v, memory_order_relaxed);
}

int al__sem_try_acquire(al__sem_t *s, uint32_t n)
{
    int rc;
    pthread_mutex_lock(&s->lock);
    if (atomic_load_explicit(&s->closed, memory_order_relaxed)) {
        rc = AL_ECLOSED;
    } else if (s->waiters.head == NULL && sem_permits(s) >= n) {
        sem_set_permits(s, sem_permits(s) - n);
        rc = 0;
    } else {
        rc = AL_EWOULDBLOCK;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Grant from the head while it fits. Called and returns with s->lock held;
 * may drop and retake it to wake a full batch. */
static void sem_grant_locked(al__sem_t *s, al__wake_list_t *wl)
{
    al_wait_node_t *h;
    while ((h = s->waiters.head) && sem_permits(s) >= h->need) {
        sem_set_permits(s, sem_permits(s) - h->need);
        al__waitq_remove(&s->waiters, h);
        al__wn_set_state(h, AL__SEMW_GRANTED);
        al__wake_list_take(wl, h);
        if (al__wake_list_full(wl)) {
            pthread_mutex_unlock(&s->lock);
            al__wake_list_wake(wl, AL_WAKE_SRC(AL_WAKE_LOCK, s->resource));
            pthread_mutex_lock(&s->lock);
        }
    }
}

int al__sem_release_emit(al__sem_t *s, uint32_t n, uint32_t cap, al_event_kind_t kind,
                         uint64_t resource, uint64_t b)
{
    al__wake_list_t wl;
    wl.n = 0;
    pthread_mutex_lock(&s->lock);
    if (sem_permits(s) > cap || n > cap - sem_permits(s)) {
        pthread_mutex_unlock(&s->lock);
        return AL_EINVAL;
    }
    sem_set_permits(s, sem_permits(s) + n);
    sem_grant_locked(s, &wl);
    pthread_mutex_unlock(&s->lock);
    if (kind != AL_EV__COUNT)
        AL__EMIT_HERE(kind, al__current_task_id(), resource, b, NULL);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_LOCK, s->resource));
    return 0;
}

int al__sem_release(al__sem_t *s, uint32_t n, uint32_t cap)
{
    return al__sem_release_emit(s, n, cap, AL_EV__COUNT, 0, 0);
}

void al__sem_close(al__sem_t *s)
{
    al__wake_list_t wl;
    wl.n = 0;
    pthread_mutex_lock(&s->lock);
    atomic_store_explicit(&s->closed, true, memory_order_relaxed);
    al_wait_node_t *h;
    while ((h = al__waitq_pop_front(&s->waiters))) {
        al__wn_set_state(h, AL__SEMW_CLOSED);
        al__wake_list_take(&wl, h);
        if (al__wake_list_full(&wl)) {
            pthread_mutex_unlock(&s->lock);
            al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_LOCK, s->resource));
            pthread_mutex_lock(&s->lock);
        }
    }
    pthread_mutex_unlock(&s->lock);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_LOCK, s->resource));
}

al_poll_t al__sem_poll(al__sem_t *s, al_wait_node_t *w, al_context_t *cx, int *res, bool *enqueued)
{
    *enqueued = false;
    if (al__wn_state(w) == AL__SEMW_DONE) {
        *res = AL_EBADSTATE; /* polled after it finished: a caller bug */
        return AL_READY;
    }
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;

    al_waker_t old = AL_WAKER_NONE;
    al_poll_t r = AL_PENDING;
    pthread_mutex_lock(&s->lock);
    switch (al__wn_state(w)) {
    case AL__SEMW_IDLE:
        if (atomic_load_explicit(&s->closed, memory_order_relaxed)) {
            *res = AL_ECLOSED;
            al__wn_set_state(w, AL__SEMW_DONE);
            r = AL_READY;
        } else if (s->waiters.head == NULL && sem_permits(s) >= w->need) {
            sem_set_permits(s, sem_permits(s) - w->need);
            *res = 0;
            al__wn_set_state(w, AL__SEMW_DONE);
            r = AL_READY;
        } else {
            w->waker = al_waker_clone(&cx->waker);
            al__wn_set_state(w, AL__SEMW_QUEUED);
            al__waitq_push_back(&s->waiters, w);
            *enqueued = true;
        }
        break;
    case AL__SEMW_QUEUED:
        /* Spurious or re-poll: keep the newest waker (the task may have moved). */
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
        break;
    case AL__SEMW_GRANTED:
        *res = 0;
        al__wn_set_state(w, AL__SEMW_DONE);
        r = AL_READY;
        break;
    case AL__SEMW_CLOSED:
        *res = AL_ECLOSED;
        al__wn_set_state(w, AL__SEMW_DONE);
        r = AL_READY;
        break;
    default:
        AL_EXPECT(!"bad semaphore waiter state");
    }
    pthread_mutex_unlock(&s->lock);
    al_waker_drop(&old);
    if (r == AL_PENDING)
        al_coop_refund();
    return r;
}

void al__sem_waiter_drop(al__sem_t *s, al_wait_node_t *w)
{
    /* IDLE and DONE nodes are not shared: no lock needed to see that. */
    if (al__wn_state(w) == AL__SEMW_IDLE || al__wn_state(w) == AL__SEMW_DONE) {
        al__wn_set_state(w, AL__SEMW_DONE);
        return;
    }
    al__wake_list_t wl;
    wl.n = 0;
    uint32_t give_back = 0;
    al_waker_t mine = AL_WAKER_NONE;
    pthread_mutex_lock(&s->lock);
    if (al__wn_state(w) == AL__SEMW_QUEUED) {
        bool was_head = s->waiters.head == w;
        al__waitq_remove(&s->waiters, w);
        mine = w->waker;
        w->waker = AL_WAKER_NONE;
        if (was_head)
            sem_grant_locked(s, &wl);
    } else if (al__wn_state(w) == AL__SEMW_GRANTED) {
        give_back = w->need;
    }
    al__wn_set_state(w, AL__SEMW_DONE);
    pthread_mutex_unlock(&s->lock);
    al_waker_drop(&mine);
    al__wake_list_wake(&wl, AL_WAKE_SRC(AL_WAKE_LOCK, s->resource));
    /* They came from this semaphore, so this fails only if add_permits has
     * since pushed the total to AL_SEM_MAX_PERMITS; they are then dropped. */
    if (give_back)
        (void)al__sem_release(s, give_back, AL_SEM_MAX_PERMITS);
}
