/*
 * al_inject.h — private to the asynclab core: the global ("inject") run
 * queue, where tasks scheduled from outside a worker and the overflow of full
 * local queues wait until some worker takes them.
 *
 * Algorithm: an intrusive singly linked FIFO of struct al_task, linked through
 * al_task.next, under one pthread mutex. Pushing appends one task or a whole
 * pre-linked batch in O(1); popping takes one task or up to `max` tasks in one
 * lock acquisition (workers refill their local queue from it in batches, so
 * the lock is taken once per batch, not once per task). An atomic copy of the
 * length lets any thread check emptiness without the lock, and lets pop
 * return at once, lock-free, when the queue looks empty. At shutdown the queue
 * is closed: from then on pushes fail (the caller keeps its task reference
 * and drops it) while pops still drain what is left.
 *
 * The queue never touches a task's state or reference count: it stores
 * pointers. A queued task's `next` belongs to the queue; a popped task is
 * returned with next == NULL (a popped batch is linked through next, the last
 * one's next == NULL).
 *
 * Shared fields:
 *   lock     the mutex; guards head, tail, and every queued task's next.
 *   head     first task (NULL when empty). Written and read under lock.
 *   tail     last task (valid only when head != NULL). Under lock.
 *   len      number of queued tasks. Written only under lock (a relaxed load
 *            + relaxed store, the lock orders the writers); read by any thread
 *            with a relaxed load, without the lock: a hint that may be stale by
 *            the time it is used. Whoever needs "I pushed, so you will see it"
 *            (a pusher waking a parked worker) gets that from the wake-up's own
 *            synchronization (the idle set's atomics / park lock), after which
 *            the relaxed load sees the new value by coherence.
 *   closed   false until al__inject_close. Written only under lock (release
 *            store), so a push that took the lock before the close succeeded
 *            and every push after it fails. Read under lock by push, and
 *            lock-free (acquire, pairing with the release store) by
 *            al__inject_is_closed.
 *
 * Lock order: the inject lock is a leaf; nothing else is taken while holding it.
 */
#ifndef AL_INJECT_H
#define AL_INJECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct al_task;

typedef struct al__inject {
    pthread_mutex_t lock;
    struct al_task *head; /* guarded by lock */
    struct al_task *tail; /* guarded by lock */
    atomic_size_t len;    /* written under lock; read anywhere (relaxed) */
    atomic_bool closed;   /* written under lock (release); read anywhere (acquire) */
} al__inject_t;

void al__inject_init(al__inject_t *q);
/* Frees the lock only: the caller drains (and drops) queued tasks first. */
void al__inject_destroy(al__inject_t *q);

/* Append t (t->next is overwritten). False if the queue is closed: nothing is
 * queued and the caller keeps its reference. */
bool al__inject_push(al__inject_t *q, struct al_task *t);
/* Append n >= 1 tasks linked first -> ... -> last through next (last->next is
 * overwritten), in order, in one lock acquisition. False if closed (nothing
 * queued). n == 0 queues nothing and returns !closed. */
bool al__inject_push_batch(al__inject_t *q, struct al_task *first, struct al_task *last, size_t n);

/* The oldest task (next cleared), or NULL if the queue is empty. */
struct al_task *al__inject_pop(al__inject_t *q);
/* Pop up to max tasks in one lock acquisition; returns how many. *first is
 * the oldest, the rest follow through next, and the last one's next == NULL
 * (*first == NULL when 0 is returned). */
size_t al__inject_pop_batch(al__inject_t *q, size_t max, struct al_task **first);

/* Number of queued tasks: a relaxed, lock-free read, valid from any thread. */
size_t al__inject_len(const al__inject_t *q);
bool al__inject_is_empty(const al__inject_t *q);

/* Close the queue (at shutdown): later pushes fail, pops keep draining.
 * True if this call closed it, false if it was already closed. */
bool al__inject_close(al__inject_t *q);
bool al__inject_is_closed(al__inject_t *q);

#endif
