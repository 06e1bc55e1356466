/*
 * al_semaphore.h — Semaphore: a fair, FIFO, batch async semaphore
 * (tokio::sync::Semaphore; rt.sync.Semaphore in Lua).
 *
 * A semaphore holds a number of permits. acquire(n) takes n permits at once,
 * waiting (suspending its task, never its thread) until they are available.
 * Waiters are served strictly in arrival order: a request never overtakes a
 * queued one, so a big request at the head of the queue blocks later small
 * ones even when those would fit. Mutex and RwLock are built on the same
 * machinery.
 *
 * The handle is heap-allocated and reference-counted; share it between tasks
 * and threads with al_semaphore_ref / al_semaphore_unref. Permits come back as
 * al_sem_permit_t values, each holding a reference on its semaphore until it
 * is released.
 *
 *     al_sem_acquire_t op;                       // embedded in your future
 *     al_semaphore_acquire_init(&op, sem, 2);
 *     ...poll:
 *     al_sem_permit_t p; int err;
 *     if (al_semaphore_acquire_poll(&op, cx, &p, &err) == AL_PENDING) return AL_PENDING;
 *     if (err) ...AL_ECLOSED...;  ... critical work ...; al_sem_permit_release(&p);
 *     ...drop: al_semaphore_acquire_drop(&op);   // always, even after READY
 *
 * Events: RESOURCE_CREATE (kind AL_RES_SEMAPHORE) / RESOURCE_DROP,
 * SEM_ACQUIRE / SEM_RELEASE (b = permits), LOCK_CONTEND (holder 0: a
 * semaphore has no single holder) when an acquire starts to wait.
 *
 * Thread safety: every function may be called from any thread, concurrently.
 */
#ifndef AL_SEMAPHORE_H
#define AL_SEMAPHORE_H

#include <stdbool.h>
#include <stdint.h>

#include "al_future.h"
#include "al_wait_node.h"

/* The most permits a semaphore can hold (as Tokio's MAX_PERMITS, 32-bit). */
#define AL_SEM_MAX_PERMITS ((uint32_t)0x1FFFFFFF)

typedef struct al_semaphore al_semaphore_t;

/* n permits owned by the holder; {0} is the empty permit. Copying the struct
 * does not copy the permits: release exactly one copy. */
typedef struct al_sem_permit {
    al_semaphore_t *sem; /* holds a reference; NULL once released */
    uint32_t n;
} al_sem_permit_t;

/* An acquire in progress: embed it in your future [pins: do not move it
 * between the first poll and the drop]. Fields are private. */
typedef struct al_sem_acquire {
    al_semaphore_t *sem; /* borrowed: keep your reference until the drop */
    al_wait_node_t node;
} al_sem_acquire_t;

/*
 * A semaphore with `permits` permits (0 allowed). `name` (may be NULL) is
 * copied and shows in the event stream. Errors: AL_EINVAL (permits >
 * AL_SEM_MAX_PERMITS or out NULL), AL_ENOMEM. *out starts with one reference.
 */
int al_semaphore_new(uint32_t permits, const char *name, al_semaphore_t **out);
/* Take another reference; returns s. */
al_semaphore_t *al_semaphore_ref(al_semaphore_t *s);
/* Drop a reference; the last one frees the semaphore (no waiter may remain:
 * waiters borrow the caller's reference). NULL is a no-op. */
void al_semaphore_unref(al_semaphore_t *s);

uint64_t al_semaphore_id(const al_semaphore_t *s);
const char *al_semaphore_name(const al_semaphore_t *s); /* "" when unnamed */
/* Permits free right now (a snapshot; it may change at once). */
uint32_t al_semaphore_available_permits(const al_semaphore_t *s);
bool al_semaphore_is_closed(const al_semaphore_t *s);

/*
 * Take n permits without waiting. Fails rather than overtake a queued waiter.
 * 0 (*out holds them), AL_EWOULDBLOCK, AL_ECLOSED, AL_EINVAL (n == 0 or
 * n > AL_SEM_MAX_PERMITS).
 */
int al_semaphore_try_acquire(al_semaphore_t *s, uint32_t n, al_sem_permit_t *out);

/* Add n new permits (tokio add_permits), waking waiters they satisfy.
 * AL_EINVAL when n == 0 or the total would exceed AL_SEM_MAX_PERMITS. */
int al_semaphore_add_permits(al_semaphore_t *s, uint32_t n);

/* Close: every queued and future acquire fails with AL_ECLOSED. Permits
 * already held can still be released. Idempotent. */
void al_semaphore_close(al_semaphore_t *s);

/* Prepare an acquire of n permits. AL_EINVAL when n == 0 or
 * n > AL_SEM_MAX_PERMITS (op is then inert: poll gives AL_EINVAL). */
int al_semaphore_acquire_init(al_sem_acquire_t *op, al_semaphore_t *s, uint32_t n);
/*
 * Poll. AL_READY: *err is 0 and *out holds the n permits, or *err is
 * AL_ECLOSED / AL_EINVAL (bad init) / AL_EBADSTATE (polled again after READY),
 * out untouched. AL_PENDING: the task is queued and
 * will be woken (AL_WAKE_LOCK) when its permits are granted or on close.
 * Consumes one unit of coop budget.
 */
al_poll_t al_semaphore_acquire_poll(al_sem_acquire_t *op, al_context_t *cx, al_sem_permit_t *out,
                                    int *err);
/* Cancel / finish. Safe at any point and idempotent: a queued acquire leaves
 * the queue; permits granted but not yet returned by a poll go to the next
 * waiters. Does not release permits a poll already returned. */
void al_semaphore_acquire_drop(al_sem_acquire_t *op);

/* Give the permits back. 0, or AL_ENOTHELD when p is empty / already released,
 * or AL_EINVAL when add_permits has since filled the semaphore to
 * AL_SEM_MAX_PERMITS (p is then still held). */
int al_sem_permit_release(al_sem_permit_t *p);
/* Keep the permits out of the semaphore for good (tokio forget); p becomes empty.
 * AL_ENOTHELD when already empty. */
int al_sem_permit_forget(al_sem_permit_t *p);

#endif
