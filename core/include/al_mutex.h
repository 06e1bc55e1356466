/*
 * al_mutex.h — Mutex: a fair, FIFO async mutex (tokio::sync::Mutex;
 * rt.sync.Mutex in Lua), built on the batch semaphore with one permit.
 *
 * Locking suspends the task, never the thread: while one task holds the
 * guard, others queue in arrival order and are handed the lock one by one.
 * Holding the guard across an await is allowed (that is what makes it an
 * async mutex; contention is pitfall B2). The mutex remembers the holder's
 * task id, reported in LOCK_CONTEND and readable for deadlock detection.
 *
 * The protected value is opaque to C: one `void *` slot, reached through a
 * held guard (the Lua layer stores its reference there).
 *
 *     al_mutex_lock_t op; al_mutex_lock_init(&op, m);      // in your future
 *     al_mutex_guard_t g;
 *     if (al_mutex_lock_poll(&op, cx, &g) == AL_PENDING) return AL_PENDING;
 *     void **v = al_mutex_guard_value(&g); ...; al_mutex_guard_unlock(&g);
 *     al_mutex_lock_drop(&op);                              // always
 *
 * Events: RESOURCE_CREATE (AL_RES_MUTEX) / RESOURCE_DROP, LOCK_CONTEND
 * (b = holder task, 0 when unknown) when a lock starts to wait, LOCK_ACQUIRE,
 * LOCK_RELEASE.
 *
 * Thread safety: every function may be called from any thread. A guard may be
 * unlocked from another thread than the one that locked it.
 */
#ifndef AL_MUTEX_H
#define AL_MUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "al_future.h"
#include "al_wait_node.h"

typedef struct al_mutex al_mutex_t;

/* Proof of holding the lock; {0} is the empty guard. Holds a reference on the
 * mutex until unlocked. Copying it does not make a second guard. */
typedef struct al_mutex_guard {
    al_mutex_t *m; /* NULL once unlocked */
} al_mutex_guard_t;

/* A lock in progress: embed it in your future [pins: do not move it between
 * the first poll and the drop]. Fields are private. */
typedef struct al_mutex_lock {
    al_mutex_t *m; /* borrowed: keep your reference until the drop */
    al_wait_node_t node;
} al_mutex_lock_t;

/* A mutex protecting `value` (opaque; may be NULL). `name` may be NULL and is
 * copied. Errors: AL_EINVAL (out NULL), AL_ENOMEM. One reference. */
int al_mutex_new(void *value, const char *name, al_mutex_t **out);
al_mutex_t *al_mutex_ref(al_mutex_t *m);
/* The last reference frees it (no lock op may still be queued). NULL: no-op. */
void al_mutex_unref(al_mutex_t *m);

uint64_t al_mutex_id(const al_mutex_t *m);
const char *al_mutex_name(const al_mutex_t *m); /* "" when unnamed */
/* Snapshot: locked right now? */
bool al_mutex_is_locked(const al_mutex_t *m);
/* Snapshot: task id of the holder; 0 when unlocked, held outside any task, or
 * during the hand-over to a woken waiter that has not run yet. */
uint64_t al_mutex_holder(const al_mutex_t *m);
/* The value slot without locking: only for the owner's teardown (no other
 * reference left) or for debugging. */
void **al_mutex_value_unsync(al_mutex_t *m);

/* Take the lock if free and nobody is queued. 0 (*g holds it) or
 * AL_EWOULDBLOCK (pitfall B5's try_lock); AL_EINVAL on NULL arguments. */
int al_mutex_try_lock(al_mutex_t *m, al_mutex_guard_t *g);

void al_mutex_lock_init(al_mutex_lock_t *op, al_mutex_t *m);
/* Poll. AL_READY: *g holds the lock (polled again after READY, a caller bug:
 * *g is the empty guard). AL_PENDING: queued, woken (AL_WAKE_LOCK) when the
 * lock is handed over. One unit of coop budget. */
al_poll_t al_mutex_lock_poll(al_mutex_lock_t *op, al_context_t *cx, al_mutex_guard_t *g);
/* Cancel / finish; safe at any point and idempotent. A lock handed to this op
 * but not yet returned by a poll passes to the next waiter. */
void al_mutex_lock_drop(al_mutex_lock_t *op);

/* Unlock: the next queued lock (FIFO) gets it. 0, or AL_ENOTHELD when the
 * guard is empty (already unlocked) or the mutex is not locked. */
int al_mutex_guard_unlock(al_mutex_guard_t *g);
/* The protected value's slot, or NULL when g does not hold the lock. */
void **al_mutex_guard_value(const al_mutex_guard_t *g);

#endif
