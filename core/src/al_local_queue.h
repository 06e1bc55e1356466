/*
 * al_local_queue.h — private to the asynclab core: a worker's local run
 * queue, a bounded lock-free ring with one producer (the worker holding the
 * queue's core: push and pop) and many consumers (other workers, stealing).
 *
 * The design is Tokio's (tokio/src/runtime/scheduler/multi_thread/queue.rs),
 * written anew in C11.
 *
 * Indices. `tail` and the two halves of `head` are 32-bit positions that only
 * grow (wrapping modulo 2^32); position p lives in slot p % AL__LQ_CAP.
 * `head` packs two of them into one 64-bit atomic so that both change in one
 * CAS:
 *     head = steal << 32 | real
 *   real   the next task to pop or steal; tasks [real, tail) are in the queue.
 *   steal  the first slot still being copied by a stealer; slots
 *          [steal, real) were claimed by a stealer that has not finished
 *          copying them out, so the owner must not overwrite them yet.
 *   steal == real: no steal in progress.
 * Invariants: steal <= real <= tail (modulo 2^32) and tail - steal <= CAP.
 * len = tail - real; free slots = CAP - (tail - steal).
 *
 * Operations.
 *   push (owner): if tail - steal < CAP, write slot tail, then publish with
 *     tail += 1 (release). If full and no steal is in progress, claim the
 *     oldest CAP/2 tasks with one CAS (real and steal both += CAP/2) and move
 *     them, plus the new task, to the inject queue in one batch; if full
 *     while a stealer copies, send just the new task to the inject queue.
 *   pop (owner, FIFO): CAS real += 1 (and steal with it if they were equal),
 *     then read the slot; the CAS is what makes the slot ours, not a stealer's.
 *   steal (any thread, into its own queue dst): refused if another steal of
 *     this victim is in progress, or if dst is more than half full. Otherwise
 *     (1) CAS real += n, n = ceil(len / 2) (<= CAP/2), leaving steal behind:
 *     the batch [steal, real) is now ours, and no other stealer can start;
 *     (2) copy the batch into dst's free slots; (3) CAS steal = real, giving
 *     the slots back to the owner; (4) publish dst's new tail. The last task
 *     of the batch is returned to be run at once rather than queued.
 *   Only one stealer per victim at a time: a second stealer that sees
 *   steal != real gives up (returns 0) rather than wait.
 *
 * Shared fields, and how each is protected:
 *   head  written by the owner (pop, overflow: CAS) and by stealers (claim
 *         and release CASes); read by everyone. Every write is an RMW with
 *         release semantics, and every read that bounds which slots may be
 *         touched is an acquire, so: a thread that acquires a head value sees
 *         a tail at least as new as the one its writer saw (so tail - real
 *         never goes "negative"), and the owner, before overwriting slots
 *         [old steal, new steal), sees that the stealer is done reading them.
 *   tail  written only by the owner (release store, after writing the slots
 *         it publishes); read by stealers and by len() (acquire: makes the
 *         slot contents below it visible). The owner reads its own tail
 *         relaxed. (When a core moves to another thread, the hand-off itself
 *         synchronizes, as for any owner-only state.)
 *   buf   plain (non-atomic) pointers. A slot is written only by the owner
 *         (or by a thread stealing INTO this queue, which is then its
 *         owner), only while it lies outside [steal, tail); it is read by the
 *         owner after a pop CAS or by the single stealer that claimed it.
 *         Those ownership hand-offs go through head and tail as described
 *         above, so the slot accesses are race-free in the C11 model (and
 *         ThreadSanitizer can check exactly that, which it could not if the
 *         slots were relaxed atomics).
 *
 * The queue never touches a task's state or reference count; it stores
 * pointers. Tasks in the ring do not use `next`; tasks moved out in batches
 * (overflow, rejections) are linked through `next`.
 *
 * AL__LQ_CAP (a power of two, default 256) may be overridden for a whole
 * build with -DAL__LQ_CAP=N (e.g. to make overflow and wrap-around happen
 * sooner in a test build); the library and its callers must agree on it.
 */
#ifndef AL_LOCAL_QUEUE_H
#define AL_LOCAL_QUEUE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "al_inject.h"
#include "al_internal.h"

#ifndef AL__LQ_CAP
#define AL__LQ_CAP 256
#endif
#define AL__LQ_MASK ((uint32_t)AL__LQ_CAP - 1)
_Static_assert(AL__LQ_CAP >= 2 && (AL__LQ_CAP & (AL__LQ_CAP - 1)) == 0 && AL__LQ_CAP <= (1u << 30),
               "AL__LQ_CAP must be a power of two in [2, 2^30]");

struct al_task;

typedef struct al__lq {
    /* steal << 32 | real; CASed by the owner and by stealers. Own cache line:
     * stealers' CASes should not evict the owner's tail. */
    alignas(AL_CACHELINE) _Atomic uint64_t head;
    /* Written by the owner only (release), read by stealers (acquire). */
    alignas(AL_CACHELINE) _Atomic uint32_t tail;
    /* Slots; see the file comment for who may touch which slot when. */
    alignas(AL_CACHELINE) struct al_task *buf[AL__LQ_CAP];
} al__lq_t;

void al__lq_init(al__lq_t *q);

/* Tasks queued (tasks a stealer is copying out are not counted). Any thread;
 * from another thread it is a snapshot that may be stale at once. */
uint32_t al__lq_len(const al__lq_t *q);
/* Free slots (slots a stealer is still copying from count as used). Owner only. */
uint32_t al__lq_remaining(const al__lq_t *q);
bool al__lq_is_empty(const al__lq_t *q);

/*
 * Owner only: queue t at the back. When the ring is full: if no steal is in
 * progress, move its oldest AL__LQ_CAP/2 tasks plus t to `overflow` in one
 * al__inject_push_batch and add 1 to *overflow_count; otherwise push just t
 * to `overflow`. Returns false only if the inject queue is closed: then the
 * tasks that could not be placed are returned in *rejected, linked through
 * next (NULL-terminated), and the caller drops them. (If the queue is seen
 * closed before any task is taken out of the ring, only t is rejected and the
 * ring is left as it was.) *rejected is NULL when true is returned.
 */
bool al__lq_push_back(al__lq_t *q, struct al_task *t, al__inject_t *overflow,
                      uint64_t *overflow_count, struct al_task **rejected);

/* Owner only: queue n tasks linked first -> ... through next, in order.
 * Requires n <= al__lq_remaining(q) (checked: aborts otherwise). Only the
 * first n tasks of the list are taken. */
void al__lq_push_back_batch(al__lq_t *q, struct al_task *first, uint32_t n);

/* Owner only: the oldest task, or NULL if the queue is empty. */
struct al_task *al__lq_pop(al__lq_t *q);

/*
 * Called by dst's owner: steal ceil(len/2) (at most AL__LQ_CAP/2) tasks from
 * victim. All but the last go to the back of dst; the last is returned, to be
 * run now. Returns NULL (and *stolen = 0) if dst is more than half full, if
 * victim is empty, or if another thread is stealing from victim right now.
 * *stolen = number of tasks taken, including the returned one.
 */
struct al_task *al__lq_steal_into(al__lq_t *victim, al__lq_t *dst, uint32_t *stolen);

#endif
