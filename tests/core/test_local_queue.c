/*
 * test_local_queue.c — the worker local run queue (al_local_queue.h): FIFO
 * order, len/remaining, index wrap-around at 2^32, overflow of half the
 * queue plus one into the inject queue (one batch), overflow during a steal
 * (one task), steal of ceil(len/2), refusals, a closed inject queue, and a
 * multi-threaded stress test (owner + stealers + overflow) that checks every
 * item is seen exactly once.
 *
 * The tests use fake tasks (only `id` and `next` are used: the queue never
 * looks at anything else) and work for any AL__LQ_CAP. Some unit tests play a
 * stealer "by hand" by writing the packed head (steal << 32 | real) directly,
 * to freeze a steal in the middle.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "al_local_queue.h"
#include "al_task_internal.h"
#include "al_test.h"

#define CAP ((uint32_t)AL__LQ_CAP)
#define HALF (CAP / 2)
_Static_assert(AL__LQ_CAP >= 4, "these tests need AL__LQ_CAP >= 4");

/* n zeroed fake tasks with id = index. */
static struct al_task *fake_tasks(size_t n)
{
    struct al_task *t = calloc(n, sizeof *t);
    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++)
        t[i].id = i;
    return t;
}

static uint64_t pack(uint32_t steal, uint32_t real)
{
    return (uint64_t)steal << 32 | real;
}

/* Start the queue as if it had already moved `pos` tasks through it. */
static void lq_set_pos(al__lq_t *q, uint32_t pos)
{
    atomic_store(&q->head, pack(pos, pos));
    atomic_store(&q->tail, pos);
}

/* Push tasks[from, to) with no overflow expected. */
static void push_range(al__lq_t *q, al__inject_t *inj, struct al_task *tasks, size_t from,
                       size_t to)
{
    for (size_t i = from; i < to; i++) {
        uint64_t ovf = 0;
        struct al_task *rej = (struct al_task *)1;
        cr_assert(al__lq_push_back(q, &tasks[i], inj, &ovf, &rej));
        cr_assert_eq(ovf, 0);
        cr_assert_null(rej);
    }
}

/* Pop and expect ids [from, to), then (if until_empty) an empty queue. */
static void expect_pops(al__lq_t *q, size_t from, size_t to, bool until_empty)
{
    for (size_t i = from; i < to; i++) {
        struct al_task *t = al__lq_pop(q);
        cr_assert_not_null(t, "pop %zu", i);
        cr_assert_eq(t->id, i, "popped %llu, expected %zu", (unsigned long long)t->id, i);
    }
    if (until_empty) {
        cr_assert_null(al__lq_pop(q));
        cr_assert(al__lq_is_empty(q));
    }
}

Test(local_queue, fifo_len_remaining)
{
    al__lq_t q;
    al__inject_t inj;
    al__lq_init(&q);
    al__inject_init(&inj);
    struct al_task *tasks = fake_tasks(CAP + 1);

    cr_assert_eq(al__lq_len(&q), 0);
    cr_assert_eq(al__lq_remaining(&q), CAP);
    cr_assert(al__lq_is_empty(&q));
    cr_assert_null(al__lq_pop(&q));

    push_range(&q, &inj, tasks, 0, 3);
    cr_assert_eq(al__lq_len(&q), 3);
    cr_assert_eq(al__lq_remaining(&q), CAP - 3);
    cr_assert_not(al__lq_is_empty(&q));
    expect_pops(&q, 0, 1, false);
    cr_assert_eq(al__lq_len(&q), 2);
    cr_assert_eq(al__lq_remaining(&q), CAP - 2);
    push_range(&q, &inj, tasks, 3, CAP + 1); /* fills it exactly: CAP tasks 1..CAP */
    cr_assert_eq(al__lq_len(&q), CAP);
    cr_assert_eq(al__lq_remaining(&q), 0);
    cr_assert(al__inject_is_empty(&inj));
    expect_pops(&q, 1, CAP + 1, true);
    cr_assert_eq(al__lq_remaining(&q), CAP);

    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, fifo_across_index_wraparound)
{
    /* Positions are 32-bit and wrap: start just below 2^32 and push, pop
     * and steal across the wrap, many times around the ring. */
    al__lq_t q, dst;
    al__inject_t inj;
    al__inject_init(&inj);
    uint32_t starts[] = {0, UINT32_MAX - HALF, UINT32_MAX, UINT32_MAX - 3 * CAP};
    size_t n = 10 * CAP;
    struct al_task *tasks = fake_tasks(n);
    for (size_t s = 0; s < AL_ARRAY_SIZE(starts); s++) {
        al__lq_init(&q);
        al__lq_init(&dst);
        lq_set_pos(&q, starts[s]);
        lq_set_pos(&dst, starts[s] - 7);
        size_t next_push = 0, next_pop = 0;
        while (next_push < n) {
            /* push 3, pop 2: the queue grows by one per round until full-ish */
            size_t k = next_push + 3 <= n ? 3 : n - next_push;
            if (al__lq_remaining(&q) < k)
                break;
            push_range(&q, &inj, tasks, next_push, next_push + k);
            next_push += k;
            expect_pops(&q, next_pop, next_pop + 2, false);
            next_pop += 2;
        }
        cr_assert_eq(al__lq_len(&q), next_push - next_pop);
        /* steal half across the wrap, then the rest stays in order */
        uint32_t len = al__lq_len(&q), stolen = 0;
        struct al_task *t = al__lq_steal_into(&q, &dst, &stolen);
        cr_assert_not_null(t);
        cr_assert_eq(stolen, len - len / 2);
        cr_assert_eq(t->id, next_pop + stolen - 1);
        expect_pops(&dst, next_pop, next_pop + stolen - 1, true);
        expect_pops(&q, next_pop + stolen, next_push, true);
        cr_assert(al__inject_is_empty(&inj));
    }
    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, overflow_moves_half_plus_one_in_one_batch)
{
    al__lq_t q;
    al__inject_t inj;
    al__lq_init(&q);
    al__inject_init(&inj);
    struct al_task *tasks = fake_tasks(CAP + 1);
    push_range(&q, &inj, tasks, 0, CAP);

    uint64_t ovf = 0;
    struct al_task *rej = (struct al_task *)1;
    cr_assert(al__lq_push_back(&q, &tasks[CAP], &inj, &ovf, &rej));
    cr_assert_null(rej);
    cr_assert_eq(ovf, 1, "one overflow counted");
    cr_assert_eq(al__inject_len(&inj), HALF + 1, "half the queue plus the new task, at once");
    cr_assert_eq(al__lq_len(&q), CAP - HALF);
    cr_assert_eq(al__lq_remaining(&q), HALF);

    /* The inject queue got the oldest half, in order, then the new task. */
    struct al_task *first = NULL;
    cr_assert_eq(al__inject_pop_batch(&inj, CAP, &first), HALF + 1);
    struct al_task *t = first;
    for (size_t i = 0; i < HALF; i++, t = t->next)
        cr_assert_eq(t->id, i);
    cr_assert_eq(t->id, CAP);
    cr_assert_null(t->next);
    /* The newer half stays local, in order. */
    expect_pops(&q, HALF, CAP, true);

    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, overflow_during_steal_pushes_only_the_new_task)
{
    al__lq_t q;
    al__inject_t inj;
    al__lq_init(&q);
    al__inject_init(&inj);
    struct al_task *tasks = fake_tasks(CAP + 2);
    push_range(&q, &inj, tasks, 0, CAP);

    /* A stealer has claimed tasks [0, K) and is still copying them. */
    const uint32_t K = CAP / 4;
    atomic_store(&q.head, pack(0, K));
    cr_assert_eq(al__lq_len(&q), CAP - K);
    cr_assert_eq(al__lq_remaining(&q), 0, "claimed slots are still in use");

    uint64_t ovf = 0;
    struct al_task *rej = (struct al_task *)1;
    cr_assert(al__lq_push_back(&q, &tasks[CAP], &inj, &ovf, &rej));
    cr_assert_null(rej);
    cr_assert_eq(ovf, 0, "no batch overflow while a steal is in progress");
    cr_assert_eq(al__inject_len(&inj), 1);
    cr_assert_eq(al__inject_pop(&inj), &tasks[CAP]);
    cr_assert_eq(al__lq_len(&q), CAP - K);

    /* The owner may pop while the steal is in progress: it takes task K. */
    struct al_task *t = al__lq_pop(&q);
    cr_assert_eq(t, &tasks[K]);
    cr_assert_eq(atomic_load(&q.head), pack(0, K + 1), "the steal head is left alone");

    /* The stealer finishes: the slots come back. */
    atomic_store(&q.head, pack(K + 1, K + 1));
    cr_assert_eq(al__lq_remaining(&q), K + 1);
    push_range(&q, &inj, tasks, CAP + 1, CAP + 2);
    expect_pops(&q, K + 1, CAP, false);
    cr_assert_eq(al__lq_pop(&q), &tasks[CAP + 1]);
    cr_assert_null(al__lq_pop(&q));

    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, steal_takes_ceil_half)
{
    uint32_t lens[] = {1, 2, 3, 4, 7, HALF - 1, HALF, HALF + 1, CAP - 1, CAP};
    struct al_task *tasks = fake_tasks(CAP);
    al__inject_t inj;
    al__inject_init(&inj);
    for (size_t k = 0; k < AL_ARRAY_SIZE(lens); k++) {
        uint32_t len = lens[k];
        if (len == 0 || len > CAP)
            continue; /* a test build with a small AL__LQ_CAP */
        al__lq_t victim, dst;
        al__lq_init(&victim);
        al__lq_init(&dst);
        push_range(&victim, &inj, tasks, 0, len);

        uint32_t stolen = 0;
        struct al_task *t = al__lq_steal_into(&victim, &dst, &stolen);
        uint32_t want = len - len / 2;
        cr_assert_not_null(t);
        cr_assert_eq(stolen, want, "len %u: stole %u, want %u", len, stolen, want);
        cr_assert_leq(stolen, HALF);
        cr_assert_eq(t->id, want - 1, "the last stolen task is returned");
        cr_assert_eq(al__lq_len(&dst), want - 1);
        cr_assert_eq(al__lq_len(&victim), len - want);
        cr_assert_eq(atomic_load(&victim.head), pack(want, want), "steal head released");
        expect_pops(&dst, 0, want - 1, true);
        expect_pops(&victim, want, len, true);
    }
    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, steal_refusals)
{
    struct al_task *tasks = fake_tasks(2 * CAP);
    al__inject_t inj;
    al__inject_init(&inj);
    al__lq_t victim, dst;
    uint32_t stolen = 99;
    const uint32_t VN = HALF + 1; /* victim size: fits any CAP */

    /* empty victim */
    al__lq_init(&victim);
    al__lq_init(&dst);
    cr_assert_null(al__lq_steal_into(&victim, &dst, &stolen));
    cr_assert_eq(stolen, 0);

    /* dst more than half full: refused, victim untouched */
    push_range(&victim, &inj, tasks, 0, VN);
    push_range(&dst, &inj, tasks, CAP, CAP + HALF + 1);
    stolen = 99;
    cr_assert_null(al__lq_steal_into(&victim, &dst, &stolen));
    cr_assert_eq(stolen, 0);
    cr_assert_eq(al__lq_len(&victim), VN);
    cr_assert_eq(al__lq_len(&dst), HALF + 1);

    /* dst exactly half full: allowed */
    cr_assert_not_null(al__lq_pop(&dst));
    cr_assert_eq(al__lq_len(&dst), HALF);
    cr_assert_not_null(al__lq_steal_into(&victim, &dst, &stolen));
    cr_assert_eq(stolen, VN - VN / 2);
    cr_assert_eq(al__lq_len(&dst), HALF + stolen - 1);

    /* a full victim into a half-full dst: dst ends exactly full */
    al__lq_init(&victim);
    al__lq_init(&dst);
    push_range(&victim, &inj, tasks, 0, CAP);
    push_range(&dst, &inj, tasks, CAP, CAP + HALF);
    cr_assert_not_null(al__lq_steal_into(&victim, &dst, &stolen));
    cr_assert_eq(stolen, HALF);
    cr_assert_eq(al__lq_len(&dst), CAP - 1);

    /* another steal in progress on the victim: refused, head untouched */
    al__lq_init(&victim);
    al__lq_init(&dst);
    push_range(&victim, &inj, tasks, 0, VN);
    atomic_store(&victim.head, pack(0, 2));
    stolen = 99;
    cr_assert_null(al__lq_steal_into(&victim, &dst, &stolen));
    cr_assert_eq(stolen, 0);
    cr_assert_eq(atomic_load(&victim.head), pack(0, 2));

    /* a steal in progress on dst (someone steals from the thief) does not
     * count free slots that are still being copied */
    al__lq_init(&victim);
    al__lq_init(&dst);
    push_range(&victim, &inj, tasks, 0, VN);
    push_range(&dst, &inj, tasks, CAP, CAP + HALF + 1);
    atomic_store(&dst.head, pack(0, 2)); /* len HALF - 1, but HALF + 1 slots in use */
    cr_assert_null(al__lq_steal_into(&victim, &dst, &stolen));

    cr_assert(al__inject_is_empty(&inj));
    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, push_back_batch)
{
    al__lq_t q;
    al__lq_init(&q);
    lq_set_pos(&q, UINT32_MAX - 5);
    struct al_task *tasks = fake_tasks(CAP);
    for (uint32_t i = 0; i + 1 < CAP; i++)
        tasks[i].next = &tasks[i + 1];

    const uint32_t K = HALF + 1;
    al__lq_push_back_batch(&q, &tasks[0], K);
    cr_assert_eq(al__lq_len(&q), K);
    cr_assert_eq(al__lq_remaining(&q), CAP - K);
    al__lq_push_back_batch(&q, &tasks[K], CAP - K); /* exactly fills it */
    cr_assert_eq(al__lq_remaining(&q), 0);
    expect_pops(&q, 0, CAP, true);
    al__lq_push_back_batch(&q, &tasks[0], 0); /* n == 0 is a no-op */
    cr_assert(al__lq_is_empty(&q));
    free(tasks);
}

Test(local_queue, closed_inject_rejects)
{
    al__lq_t q;
    al__inject_t inj;
    al__lq_init(&q);
    al__inject_init(&inj);
    struct al_task *tasks = fake_tasks(CAP + 2);
    push_range(&q, &inj, tasks, 0, CAP - 1);
    cr_assert(al__inject_close(&inj));

    /* not full: a closed inject queue does not matter */
    push_range(&q, &inj, tasks, CAP - 1, CAP);

    /* full: only the new task is rejected; the ring is left intact */
    uint64_t ovf = 0;
    struct al_task *rej = NULL;
    tasks[CAP].next = &tasks[0]; /* garbage the queue must clear */
    cr_assert_not(al__lq_push_back(&q, &tasks[CAP], &inj, &ovf, &rej));
    cr_assert_eq(rej, &tasks[CAP]);
    cr_assert_null(rej->next);
    cr_assert_eq(ovf, 0);
    cr_assert_eq(al__lq_len(&q), CAP);

    /* full during a steal: the new task is rejected too */
    atomic_store(&q.head, pack(0, 1));
    rej = NULL;
    cr_assert_not(al__lq_push_back(&q, &tasks[CAP + 1], &inj, &ovf, &rej));
    cr_assert_eq(rej, &tasks[CAP + 1]);
    cr_assert_null(rej->next);
    atomic_store(&q.head, pack(0, 0));

    expect_pops(&q, 0, CAP, true);
    cr_assert(al__inject_is_empty(&inj));
    al__inject_destroy(&inj);
    free(tasks);
}

Test(local_queue, layout_keeps_head_and_tail_apart)
{
    cr_assert_eq(offsetof(al__lq_t, head) % AL_CACHELINE, 0);
    cr_assert_eq(offsetof(al__lq_t, tail) % AL_CACHELINE, 0);
    cr_assert_geq(offsetof(al__lq_t, tail) - offsetof(al__lq_t, head), AL_CACHELINE);
    cr_assert_geq(offsetof(al__lq_t, buf) - offsetof(al__lq_t, tail), AL_CACHELINE);
    cr_assert_eq(_Alignof(al__lq_t), AL_CACHELINE);
}

/* ---- stress: one owner, several stealers, overflow, all at once ---------------------- */

#define NTHIEVES 3

typedef struct stress {
    size_t n;
    struct al_task *tasks;
    atomic_uint *seen;         /* per item: times consumed */
    al__lq_t *q[1 + NTHIEVES]; /* q[0]: the owner's; q[1..]: the thieves' own */
    al__inject_t inject;
    pthread_barrier_t start;
    atomic_size_t consumed;
    atomic_size_t steal_ops, stolen, inject_popped, bad_ids, push_failures;
    atomic_bool pause;  /* owner asks the thieves to stop stealing for a moment */
    atomic_int paused;  /* thieves that acknowledged the pause */
    uint64_t overflows; /* written by the owner, read after join */
} stress_t;

static void consume(stress_t *s, struct al_task *t)
{
    if (t->id >= s->n) {
        atomic_fetch_add(&s->bad_ids, 1);
        return;
    }
    /* Relaxed: the totals are read after join, which orders everything. */
    atomic_fetch_add_explicit(&s->seen[t->id], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->consumed, 1, memory_order_relaxed);
}

static bool all_consumed(stress_t *s)
{
    return atomic_load_explicit(&s->consumed, memory_order_relaxed) == s->n;
}

/* Take up to max tasks from the inject queue and consume them. */
static size_t drain_inject(stress_t *s, size_t max)
{
    struct al_task *first = NULL;
    size_t got = al__inject_pop_batch(&s->inject, max, &first);
    for (struct al_task *t = first, *next; t; t = next) {
        next = t->next;
        consume(s, t);
    }
    atomic_fetch_add_explicit(&s->inject_popped, got, memory_order_relaxed);
    return got;
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Failures are counted, not asserted: assertions belong on the test's thread. */
static void owner_push(stress_t *s, struct al_task *t)
{
    struct al_task *rej = NULL;
    if (!al__lq_push_back(s->q[0], t, &s->inject, &s->overflows, &rej) || rej)
        atomic_fetch_add(&s->push_failures, 1);
}

static void *owner_main(void *arg)
{
    stress_t *s = arg;
    al__lq_t *q = s->q[0];
    uint32_t rng = 0x12345u;
    pthread_barrier_wait(&s->start);
    for (size_t i = 0; i < s->n; i++) {
        owner_push(s, &s->tasks[i]);
        uint32_t r = xorshift(&rng);
        if (r % 8 == 0) { /* pop rarely, so the queue fills and overflows */
            struct al_task *t = al__lq_pop(q);
            if (t)
                consume(s, t);
        }
        if (r % 256 == 1) {
            /* Refill from the inject queue like a worker: a batch that fits. */
            uint32_t room = al__lq_remaining(q);
            size_t want = room < 32 ? room : 32;
            struct al_task *first = NULL;
            size_t got = want ? al__inject_pop_batch(&s->inject, want, &first) : 0;
            atomic_fetch_add_explicit(&s->inject_popped, got, memory_order_relaxed);
            if (got)
                al__lq_push_back_batch(q, first, (uint32_t)got);
        }
        if (i == s->n / 2) {
            /* Make sure stealing really happened (the queue is not empty now). */
            while (atomic_load(&s->steal_ops) == 0)
                sched_yield();
            /* Make sure a batch overflow really happens: stop the thieves,
             * then push more than a full queue's worth. */
            atomic_store(&s->pause, true);
            while (atomic_load(&s->paused) != NTHIEVES)
                sched_yield();
            for (size_t k = 0; k < CAP + 1 && i + 1 < s->n; k++)
                owner_push(s, &s->tasks[++i]);
            atomic_store(&s->pause, false);
        }
    }
    /* Help drain until everything has been seen. */
    while (!all_consumed(s)) {
        struct al_task *t = al__lq_pop(q);
        if (t)
            consume(s, t);
        else if (!drain_inject(s, 16))
            sched_yield();
    }
    return NULL;
}

typedef struct thief_arg {
    stress_t *s;
    int self; /* index into s->q */
} thief_arg_t;

static void *thief_main(void *arg)
{
    thief_arg_t *ta = arg;
    stress_t *s = ta->s;
    al__lq_t *mine = s->q[ta->self];
    uint32_t rng = 0x9E3779B9u * (uint32_t)(ta->self + 1);
    pthread_barrier_wait(&s->start);
    while (!all_consumed(s)) {
        if (atomic_load(&s->pause)) {
            /* Drain our own queue so nothing waits on us, then hold still. */
            struct al_task *t;
            while ((t = al__lq_pop(mine)))
                consume(s, t);
            atomic_fetch_add(&s->paused, 1);
            while (atomic_load(&s->pause))
                sched_yield();
            atomic_fetch_sub(&s->paused, 1);
            continue;
        }
        bool progress = false;
        uint32_t r = xorshift(&rng);
        /* Mostly steal from the owner; sometimes from another thief. */
        int victim = r % 4 ? 0 : 1 + (int)(r / 4 % NTHIEVES);
        if (victim != ta->self) {
            uint32_t n = 0;
            struct al_task *t = al__lq_steal_into(s->q[victim], mine, &n);
            if (t) {
                atomic_fetch_add(&s->steal_ops, 1);
                atomic_fetch_add(&s->stolen, n);
                consume(s, t);
                progress = true;
            }
        }
        /* Run a few of our own, leaving the rest for other thieves to steal. */
        for (uint32_t k = r % 8; k > 0; k--) {
            struct al_task *t = al__lq_pop(mine);
            if (!t)
                break;
            consume(s, t);
            progress = true;
        }
        if (r % 16 == 3 && drain_inject(s, 1 + r % 32))
            progress = true;
        if (!progress && !drain_inject(s, 8) && al__lq_is_empty(mine))
            sched_yield();
    }
    return NULL;
}

Test(local_queue, stress_owner_thieves_overflow_each_item_once, .timeout = 120)
{
    stress_t s;
    memset(&s, 0, sizeof s);
    s.n = (size_t)al_test_scale(1000000);
    if (s.n < 4 * CAP)
        s.n = 4 * CAP;
    s.tasks = fake_tasks(s.n);
    s.seen = calloc(s.n, sizeof *s.seen);
    cr_assert_not_null(s.seen);
    for (int i = 0; i < 1 + NTHIEVES; i++) {
        s.q[i] = aligned_alloc(AL_CACHELINE, sizeof(al__lq_t));
        cr_assert_not_null(s.q[i]);
        al__lq_init(s.q[i]);
    }
    al__inject_init(&s.inject);
    pthread_barrier_init(&s.start, NULL, 1 + NTHIEVES);

    pthread_t owner, thieves[NTHIEVES];
    thief_arg_t args[NTHIEVES];
    cr_assert_eq(pthread_create(&owner, NULL, owner_main, &s), 0);
    for (int i = 0; i < NTHIEVES; i++) {
        args[i] = (thief_arg_t){&s, 1 + i};
        cr_assert_eq(pthread_create(&thieves[i], NULL, thief_main, &args[i]), 0);
    }
    pthread_join(owner, NULL);
    for (int i = 0; i < NTHIEVES; i++)
        pthread_join(thieves[i], NULL);

    cr_assert_eq(atomic_load(&s.bad_ids), 0);
    cr_assert_eq(atomic_load(&s.push_failures), 0);
    for (size_t i = 0; i < s.n; i++)
        cr_assert_eq(atomic_load(&s.seen[i]), 1, "item %zu seen %u times", i,
                     atomic_load(&s.seen[i]));
    cr_assert_eq(atomic_load(&s.consumed), s.n);
    for (int i = 0; i < 1 + NTHIEVES; i++)
        cr_assert(al__lq_is_empty(s.q[i]));
    cr_assert(al__inject_is_empty(&s.inject));
    cr_assert_gt(atomic_load(&s.steal_ops), 0, "stealing happened");
    cr_assert_gt(s.overflows, 0, "a batch overflow happened");
    cr_assert_geq(atomic_load(&s.inject_popped), (HALF + 1) * s.overflows,
                  "every overflowed task was drained from the inject queue");
    cr_log_info("local_queue stress: n=%zu steals=%zu stolen=%zu overflows=%llu inject_popped=%zu",
                s.n, atomic_load(&s.steal_ops), atomic_load(&s.stolen),
                (unsigned long long)s.overflows, atomic_load(&s.inject_popped));

    pthread_barrier_destroy(&s.start);
    al__inject_destroy(&s.inject);
    for (int i = 0; i < 1 + NTHIEVES; i++)
        free(s.q[i]);
    free(s.seen);
    free(s.tasks);
}
