/*
 * al_local_queue.c — a worker's local run queue: a bounded single-producer,
 * multi-consumer lock-free ring with batch stealing and overflow into the
 * inject queue (Tokio's algorithm, our own code).
 *
 * See al_local_queue.h for the algorithm, the invariants
 * (steal <= real <= tail, tail - steal <= CAP) and, field by field, who
 * writes and reads head, tail and the slots. Each atomic operation below says
 * what it synchronizes with.
 *
 * Why these orderings (the three facts everything rests on):
 *   (A) Slot contents travel owner -> stealer through tail: the owner writes
 *       slots, then stores tail (release); a stealer loads tail (acquire),
 *       then reads only slots below it.
 *   (B) Slot reuse travels stealer -> owner through head: a stealer finishes
 *       reading its batch, then moves steal up (release CAS); the owner loads
 *       head (acquire) before writing any slot, and writes only slots outside
 *       [steal, tail).
 *   (C) Every head value is written by a release RMW by a thread that had
 *       already seen a tail >= the new real (a stealer's final CAS, which
 *       may carry a real the owner moved, is an RMW and so continues the
 *       release sequence of the owner's pop CAS that moved it). So a
 *       thread that loads head (acquire) and then tail sees tail >= real:
 *       tail - real never wraps around to a huge number. (It can still exceed
 *       CAP when the owner pops and pushes between the two loads; len()
 *       clamps, and a stealer's claim CAS then fails because head moved.)
 */
#include "al_local_queue.h"

#include "al_task_internal.h"

#define AL__LQ_HALF ((uint32_t)AL__LQ_CAP / 2)

static inline uint32_t al__lq_real(uint64_t head)
{
    return (uint32_t)head;
}
static inline uint32_t al__lq_steal(uint64_t head)
{
    return (uint32_t)(head >> 32);
}
static inline uint64_t al__lq_pack(uint32_t steal, uint32_t real)
{
    return (uint64_t)steal << 32 | real;
}

void al__lq_init(al__lq_t *q)
{
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    for (uint32_t i = 0; i < AL__LQ_CAP; i++)
        q->buf[i] = NULL;
}

uint32_t al__lq_len(const al__lq_t *q)
{
    /* Acquire, then tail: by (C), the tail we read is >= this real. */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    /* Relaxed is enough: (C) already orders a new-enough tail store before
     * this load (coherence); no slot is read here. */
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t n = tail - al__lq_real(head);
    /* From another thread, the owner may pop and push between our two loads;
     * the count is then stale, and can even exceed the capacity: clamp. */
    return n > AL__LQ_CAP ? AL__LQ_CAP : n;
}

bool al__lq_is_empty(const al__lq_t *q)
{
    return al__lq_len(q) == 0;
}

uint32_t al__lq_remaining(const al__lq_t *q)
{
    /* Acquire, (B): pairs with stealers' release of the steal head, so the
     * slots reported free are really done with (callers then write them). */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    /* Relaxed: the owner reads its own last store. */
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    return AL__LQ_CAP - (tail - al__lq_steal(head));
}

enum { AL__LQ_OVF_DONE, AL__LQ_OVF_RETRY, AL__LQ_OVF_CLOSED };

/*
 * The ring is full (tail - real == CAP) and no steal is in progress: move the
 * oldest half plus t to the inject queue. RETRY if a stealer claimed tasks
 * meanwhile (then there is room again, or a steal is in progress).
 */
static int al__lq_push_overflow(al__lq_t *q, struct al_task *t, uint32_t real, uint32_t tail,
                                al__inject_t *overflow, uint64_t *overflow_count,
                                struct al_task **rejected)
{
    AL_EXPECT(tail - real == AL__LQ_CAP);
    /* Closed already: reject only t and keep the ring as it is (the
     * scheduler drains it at shutdown). A close racing with the batch push
     * below is handled there. */
    if (al__inject_is_closed(overflow)) {
        t->next = NULL;
        *rejected = t;
        return AL__LQ_OVF_CLOSED;
    }
    uint64_t expect = al__lq_pack(real, real);
    uint64_t claim = al__lq_pack(real + AL__LQ_HALF, real + AL__LQ_HALF);
    /* Success, release, (C): we stored tail before; a thread acquiring the
     * new head must see that tail. No acquire needed: the slots we read next
     * were written by us, and no stealer can hold them (steal == real).
     * Failure, relaxed: the caller reloads head (acquire) and retries. */
    if (!atomic_compare_exchange_strong_explicit(&q->head, &expect, claim, memory_order_release,
                                                 memory_order_relaxed))
        return AL__LQ_OVF_RETRY;

    /* The claimed tasks are ours now: link them, oldest first, then t. */
    struct al_task *first = q->buf[real & AL__LQ_MASK];
    struct al_task *prev = first;
    for (uint32_t i = 1; i < AL__LQ_HALF; i++) {
        struct al_task *cur = q->buf[(real + i) & AL__LQ_MASK];
        prev->next = cur;
        prev = cur;
    }
    prev->next = t;
    t->next = NULL;
    if (!al__inject_push_batch(overflow, first, t, AL__LQ_HALF + 1)) {
        *rejected = first;
        return AL__LQ_OVF_CLOSED;
    }
    *overflow_count += 1;
    return AL__LQ_OVF_DONE;
}

bool al__lq_push_back(al__lq_t *q, struct al_task *t, al__inject_t *overflow,
                      uint64_t *overflow_count, struct al_task **rejected)
{
    *rejected = NULL;
    /* Relaxed: only we (the owner) write tail. */
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        /* Acquire, (B): pairs with a stealer's release of the steal head, so
         * its reads of the slot we are about to overwrite are finished. */
        uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        uint32_t steal = al__lq_steal(head), real = al__lq_real(head);
        if (tail - steal < AL__LQ_CAP)
            break; /* room */
        if (steal != real) {
            /* Full while a stealer copies: it will free room soon, but we do
             * not wait; this one task goes to the inject queue. */
            if (!al__inject_push(overflow, t)) {
                t->next = NULL;
                *rejected = t;
                return false;
            }
            return true;
        }
        switch (al__lq_push_overflow(q, t, real, tail, overflow, overflow_count, rejected)) {
        case AL__LQ_OVF_DONE:
            return true;
        case AL__LQ_OVF_CLOSED:
            return false;
        default:
            break; /* a stealer got in first: look again */
        }
    }
    q->buf[tail & AL__LQ_MASK] = t;
    /* Release, (A): publishes the slot write to stealers (acquire on tail). */
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return true;
}

void al__lq_push_back_batch(al__lq_t *q, struct al_task *first, uint32_t n)
{
    /* Relaxed: only we (the owner) write tail. */
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* Acquire, (B): the slots we are about to overwrite are done with. */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    AL_EXPECT(n <= AL__LQ_CAP - (tail - al__lq_steal(head)));
    struct al_task *t = first;
    for (uint32_t i = 0; i < n; i++) {
        AL_EXPECT(t != NULL);
        struct al_task *next = t->next;
        q->buf[(tail + i) & AL__LQ_MASK] = t;
        t = next;
    }
    /* Release, (A): publishes all n slot writes at once. */
    atomic_store_explicit(&q->tail, tail + n, memory_order_release);
}

struct al_task *al__lq_pop(al__lq_t *q)
{
    /* Relaxed: pop reads only a slot we wrote ourselves, and the CAS below
     * validates the value; nothing from stealers needs to be seen. */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    /* Relaxed: only we write tail. */
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t real;
    for (;;) {
        uint32_t steal = al__lq_steal(head);
        real = al__lq_real(head);
        if (real == tail)
            return NULL;
        uint32_t next_real = real + 1;
        /* No steal in progress: both halves move; otherwise only real does
         * (the stealer moves steal up when it is done). */
        uint64_t next =
            steal == real ? al__lq_pack(next_real, next_real) : al__lq_pack(steal, next_real);
        /* Success, release, (C): a thread acquiring the new head sees our
         * tail. Failure, relaxed: a stealer changed head; retry with it. */
        if (atomic_compare_exchange_weak_explicit(&q->head, &head, next, memory_order_release,
                                                  memory_order_relaxed))
            break;
    }
    /* The CAS gave slot `real` to us; no stealer can claim it any more. */
    return q->buf[real & AL__LQ_MASK];
}

/*
 * Claim half of victim's tasks and copy all but the last into dst's slots
 * from dst_tail on (not yet published). Returns how many were taken (0 if
 * none) and the last one in *last.
 */
static uint32_t al__lq_steal_batch(al__lq_t *victim, al__lq_t *dst, uint32_t dst_tail,
                                   struct al_task **last)
{
    /* Acquire, (C): the tail loaded next is >= this real. */
    uint64_t prev = atomic_load_explicit(&victim->head, memory_order_acquire);
    uint64_t claimed;
    uint32_t n;
    for (;;) {
        uint32_t steal = al__lq_steal(prev), real = al__lq_real(prev);
        if (steal != real)
            return 0; /* another stealer is copying from victim: leave it */
        /* Acquire, (A): pairs with the owner's release store of tail; the
         * slots [real, tail) are written and visible. */
        uint32_t tail = atomic_load_explicit(&victim->tail, memory_order_acquire);
        /* The tail may be newer than this head (the owner popped and pushed
         * since), so n can be too big here, even above CAP; the CAS below
         * then fails, as head has moved. If it succeeds, head did not move,
         * so tail - real <= CAP held and n <= CAP/2 (checked below). */
        n = tail - real;
        n -= n / 2; /* ceil(len / 2) */
        if (n == 0)
            return 0;
        claimed = al__lq_pack(steal, real + n);
        /* Success, release, (C): we have seen tail >= real + n; whoever
         * acquires this head must too. (Acquire is added because C11 does not
         * allow a failure order stronger than the success order.)
         * Failure, acquire, (C): the new head is our next `prev`; the tail we
         * reload must be at least as new. */
        if (atomic_compare_exchange_weak_explicit(&victim->head, &prev, claimed,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    AL_EXPECT(n <= AL__LQ_HALF); /* see above: holds once the claim succeeded */

    /* [first, first + n) is ours until we move steal up. The owner may pop
     * past it meanwhile but never overwrites it. */
    uint32_t first = al__lq_steal(claimed);
    for (uint32_t i = 0; i + 1 < n; i++)
        dst->buf[(dst_tail + i) & AL__LQ_MASK] = victim->buf[(first + i) & AL__LQ_MASK];
    *last = victim->buf[(first + n - 1) & AL__LQ_MASK];

    /* Give the slots back: steal = real. real may have moved (the owner
     * pops while we copy), so retry with whatever real now is. */
    prev = claimed;
    for (;;) {
        uint32_t real = al__lq_real(prev);
        /* Success, release, (B): our slot reads above happen before the
         * owner's next acquire of head, hence before it reuses the slots.
         * Failure, relaxed: only the owner's pop moved real; we just retry. */
        if (atomic_compare_exchange_weak_explicit(&victim->head, &prev, al__lq_pack(real, real),
                                                  memory_order_release, memory_order_relaxed))
            break;
        AL_EXPECT(al__lq_steal(prev) != al__lq_real(prev)); /* our steal is still marked */
    }
    return n;
}

struct al_task *al__lq_steal_into(al__lq_t *victim, al__lq_t *dst, uint32_t *stolen)
{
    AL_EXPECT(victim != dst);
    *stolen = 0;
    /* Relaxed: we own dst, so we wrote its tail. */
    uint32_t dst_tail = atomic_load_explicit(&dst->tail, memory_order_relaxed);
    /* Acquire, (B): stealers of dst are done with the slots we will write. */
    uint64_t dst_head = atomic_load_explicit(&dst->head, memory_order_acquire);
    if (dst_tail - al__lq_steal(dst_head) > AL__LQ_HALF)
        return NULL; /* more than half full: we have work; stealing would only overflow */

    struct al_task *last = NULL;
    uint32_t n = al__lq_steal_batch(victim, dst, dst_tail, &last);
    if (n == 0)
        return NULL;
    *stolen = n;
    if (n > 1) {
        /* Release, (A): publishes the n - 1 copied slots to dst's stealers. */
        atomic_store_explicit(&dst->tail, dst_tail + (n - 1), memory_order_release);
    }
    return last;
}
