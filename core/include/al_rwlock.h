/*
 * al_rwlock.h — RwLock: many readers or one writer, fair (tokio::sync::RwLock;
 * rt.sync.RwLock in Lua), built on the batch semaphore.
 *
 * The lock holds AL_RWLOCK_MAX_READERS permits: a reader takes 1, a writer
 * takes all of them. Requests are served in arrival order, so a queued
 * writer blocks every reader that arrives after it (no writer starvation),
 * and readers queued behind a writer all get in together when it leaves.
 * Waiting suspends the task, never the thread.
 *
 * The protected value is one opaque `void *` slot, reached through a guard.
 * A read guard's slot must only be read.
 *
 * Events: RESOURCE_CREATE (AL_RES_RWLOCK) / RESOURCE_DROP; LOCK_ACQUIRE and
 * LOCK_RELEASE with b = 1 for a read (shared) lock, 0 for a write lock;
 * LOCK_CONTEND with b = the writer holding it (0: readers hold it, unknown).
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef AL_RWLOCK_H
#define AL_RWLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "al_future.h"
#include "al_semaphore.h"
#include "al_wait_node.h"

#define AL_RWLOCK_MAX_READERS AL_SEM_MAX_PERMITS

typedef struct al_rwlock al_rwlock_t;

/* A held read or write lock; {0} is the empty guard. Holds a reference on the
 * lock until unlocked. Copying it does not make a second guard. */
typedef struct al_rwlock_guard {
    al_rwlock_t *l;   /* NULL once unlocked */
    uint32_t permits; /* 1: read; AL_RWLOCK_MAX_READERS: write */
} al_rwlock_guard_t;

/* A read or write lock in progress: embed it in your future [pins: do not
 * move it between the first poll and the drop]. Fields are private. */
typedef struct al_rwlock_acquire {
    al_rwlock_t *l; /* borrowed: keep your reference until the drop */
    al_wait_node_t node;
} al_rwlock_acquire_t;

/* Errors: AL_EINVAL (out NULL), AL_ENOMEM. `name` may be NULL; copied. */
int al_rwlock_new(void *value, const char *name, al_rwlock_t **out);
al_rwlock_t *al_rwlock_ref(al_rwlock_t *l);
/* The last reference frees it (no acquire may still be queued). NULL: no-op. */
void al_rwlock_unref(al_rwlock_t *l);

uint64_t al_rwlock_id(const al_rwlock_t *l);
const char *al_rwlock_name(const al_rwlock_t *l);
/* Snapshots: readers holding it now (0 when write-locked or free); whether a
 * writer holds it; the writer's task id (0: none or unknown). */
uint32_t al_rwlock_readers(const al_rwlock_t *l);
bool al_rwlock_is_write_locked(const al_rwlock_t *l);
uint64_t al_rwlock_writer(const al_rwlock_t *l);
void **al_rwlock_value_unsync(al_rwlock_t *l);

/* Without waiting, and never overtaking a queued request: 0 or AL_EWOULDBLOCK
 * (AL_EINVAL on NULL arguments). */
int al_rwlock_try_read(al_rwlock_t *l, al_rwlock_guard_t *g);
int al_rwlock_try_write(al_rwlock_t *l, al_rwlock_guard_t *g);

void al_rwlock_read_init(al_rwlock_acquire_t *op, al_rwlock_t *l);
void al_rwlock_write_init(al_rwlock_acquire_t *op, al_rwlock_t *l);
/* Poll. AL_READY: *g holds the lock (polled again after READY: the empty
 * guard). AL_PENDING: queued, woken (AL_WAKE_LOCK) when granted. One unit of
 * coop budget. */
al_poll_t al_rwlock_acquire_poll(al_rwlock_acquire_t *op, al_context_t *cx, al_rwlock_guard_t *g);
/* Cancel / finish; safe at any point and idempotent. A grant not yet returned
 * by a poll passes to the next waiters. */
void al_rwlock_acquire_drop(al_rwlock_acquire_t *op);

/* 0, or AL_ENOTHELD when the guard is empty (already unlocked). */
int al_rwlock_guard_unlock(al_rwlock_guard_t *g);
/* The value slot, or NULL when g holds nothing. Read guards: read only. */
void **al_rwlock_guard_value(const al_rwlock_guard_t *g);
bool al_rwlock_guard_is_write(const al_rwlock_guard_t *g);

#endif
