/*
 * al_inject.c — the global (inject) run queue: an intrusive FIFO of tasks
 * under a mutex, with a lock-free length for emptiness checks.
 *
 * See al_inject.h for the algorithm and, field by field, who writes and who
 * reads each shared field under which lock or ordering. In short: head, tail
 * and the queued tasks' next links are touched only under q->lock; len and
 * closed are written only under q->lock and may be read without it.
 */
#include "al_inject.h"

#include "al_internal.h"
#include "al_task_internal.h"

void al__inject_init(al__inject_t *q)
{
    al__mutex_init_adaptive(&q->lock);
    q->head = NULL;
    q->tail = NULL;
    atomic_init(&q->len, 0);
    atomic_init(&q->closed, false);
}

void al__inject_destroy(al__inject_t *q)
{
    pthread_mutex_destroy(&q->lock);
}

/* Under lock: len changes only here, so a relaxed load + store suffices (the
 * mutex orders concurrent writers; readers only want an estimate). */
static void al__inject_len_add(al__inject_t *q, size_t n)
{
    atomic_store_explicit(&q->len, atomic_load_explicit(&q->len, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static void al__inject_len_sub(al__inject_t *q, size_t n)
{
    atomic_store_explicit(&q->len, atomic_load_explicit(&q->len, memory_order_relaxed) - n,
                          memory_order_relaxed);
}

bool al__inject_push(al__inject_t *q, struct al_task *t)
{
    return al__inject_push_batch(q, t, t, 1);
}

bool al__inject_push_batch(al__inject_t *q, struct al_task *first, struct al_task *last, size_t n)
{
    pthread_mutex_lock(&q->lock);
    /* Relaxed: closed is only written under this lock, which we hold. */
    if (atomic_load_explicit(&q->closed, memory_order_relaxed)) {
        pthread_mutex_unlock(&q->lock);
        return false;
    }
    if (n > 0) {
        AL_EXPECT(first != NULL && last != NULL);
        last->next = NULL;
        if (q->head)
            q->tail->next = first;
        else
            q->head = first;
        q->tail = last;
        al__inject_len_add(q, n);
    }
    pthread_mutex_unlock(&q->lock);
    return true;
}

struct al_task *al__inject_pop(al__inject_t *q)
{
    struct al_task *t = NULL;
    al__inject_pop_batch(q, 1, &t);
    return t;
}

size_t al__inject_pop_batch(al__inject_t *q, size_t max, struct al_task **first)
{
    *first = NULL;
    /* Lock-free fast path: an empty queue costs no lock round trip. A push
     * racing with this check is not lost: its pusher wakes a worker, and that
     * wake-up orders the push before the woken worker's next look. */
    if (max == 0 || al__inject_is_empty(q))
        return 0;

    pthread_mutex_lock(&q->lock);
    struct al_task *head = q->head;
    struct al_task *last = NULL;
    struct al_task *t = head;
    size_t n = 0;
    while (t && n < max) {
        last = t;
        t = t->next;
        n++;
    }
    if (n > 0) {
        q->head = t;
        if (!t)
            q->tail = NULL;
        last->next = NULL;
        al__inject_len_sub(q, n);
    }
    pthread_mutex_unlock(&q->lock);

    *first = n > 0 ? head : NULL;
    return n;
}

size_t al__inject_len(const al__inject_t *q)
{
    /* Relaxed: a hint for callers sizing a batch or deciding to park; see the
     * header for why that is enough. */
    return atomic_load_explicit(&q->len, memory_order_relaxed);
}

bool al__inject_is_empty(const al__inject_t *q)
{
    return al__inject_len(q) == 0;
}

bool al__inject_close(al__inject_t *q)
{
    pthread_mutex_lock(&q->lock);
    bool was = atomic_load_explicit(&q->closed, memory_order_relaxed); /* under lock */
    /* Release: pairs with the acquire in al__inject_is_closed, so a thread that
     * sees the queue closed also sees what the closer did before closing. */
    atomic_store_explicit(&q->closed, true, memory_order_release);
    pthread_mutex_unlock(&q->lock);
    return !was;
}

bool al__inject_is_closed(al__inject_t *q)
{
    /* Acquire: pairs with the release store in al__inject_close. */
    return atomic_load_explicit(&q->closed, memory_order_acquire);
}
