/*
 * test_inject.c — the global inject queue (al_inject.h): FIFO order, batch
 * push and pop_batch sizes, len/is_empty, close semantics, and two stress
 * tests with real threads: producers and consumers (every item exactly once),
 * and pushes racing with close (exactly the accepted items come out).
 *
 * Fake tasks: only `id` and `next` are used; the queue looks at nothing else.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "al_inject.h"
#include "al_task_internal.h"
#include "al_test.h"

static struct al_task *fake_tasks(size_t n)
{
    struct al_task *t = calloc(n, sizeof *t);
    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++)
        t[i].id = i;
    return t;
}

/* Link tasks[from, to) through next; returns the last one. */
static struct al_task *link_range(struct al_task *tasks, size_t from, size_t to)
{
    for (size_t i = from; i + 1 < to; i++)
        tasks[i].next = &tasks[i + 1];
    tasks[to - 1].next = (struct al_task *)0x1; /* garbage the queue must overwrite */
    return &tasks[to - 1];
}

Test(inject, fifo_push_pop_len)
{
    al__inject_t q;
    al__inject_init(&q);
    struct al_task *tasks = fake_tasks(10);
    cr_assert(al__inject_is_empty(&q));
    cr_assert_eq(al__inject_len(&q), 0);
    cr_assert_null(al__inject_pop(&q));

    for (size_t i = 0; i < 10; i++) {
        tasks[i].next = &tasks[0]; /* garbage */
        cr_assert(al__inject_push(&q, &tasks[i]));
        cr_assert_eq(al__inject_len(&q), i + 1);
    }
    cr_assert_not(al__inject_is_empty(&q));
    for (size_t i = 0; i < 10; i++) {
        struct al_task *t = al__inject_pop(&q);
        cr_assert_eq(t, &tasks[i]);
        cr_assert_null(t->next, "a popped task is unlinked");
        cr_assert_eq(al__inject_len(&q), 9 - i);
    }
    cr_assert_null(al__inject_pop(&q));
    cr_assert(al__inject_is_empty(&q));

    /* refill after empty: tail handling */
    cr_assert(al__inject_push(&q, &tasks[3]));
    cr_assert_eq(al__inject_pop(&q), &tasks[3]);
    cr_assert(al__inject_push(&q, &tasks[4]));
    cr_assert(al__inject_push(&q, &tasks[5]));
    cr_assert_eq(al__inject_pop(&q), &tasks[4]);
    cr_assert_eq(al__inject_pop(&q), &tasks[5]);
    cr_assert_null(al__inject_pop(&q));

    al__inject_destroy(&q);
    free(tasks);
}

Test(inject, push_batch_keeps_order)
{
    al__inject_t q;
    al__inject_init(&q);
    struct al_task *tasks = fake_tasks(20);
    cr_assert(al__inject_push(&q, &tasks[0]));
    struct al_task *last = link_range(tasks, 1, 8);
    cr_assert(al__inject_push_batch(&q, &tasks[1], last, 7));
    cr_assert_eq(al__inject_len(&q), 8);
    cr_assert(al__inject_push(&q, &tasks[8]));
    last = link_range(tasks, 9, 20);
    cr_assert(al__inject_push_batch(&q, &tasks[9], last, 11));
    cr_assert(al__inject_push_batch(&q, NULL, NULL, 0), "empty batch: no-op");
    cr_assert_eq(al__inject_len(&q), 20);
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(al__inject_pop(&q), &tasks[i]);
    cr_assert_null(al__inject_pop(&q));
    al__inject_destroy(&q);
    free(tasks);
}

Test(inject, pop_batch_sizes)
{
    al__inject_t q;
    al__inject_init(&q);
    struct al_task *tasks = fake_tasks(10);
    struct al_task *first = (struct al_task *)0x1;

    cr_assert_eq(al__inject_pop_batch(&q, 5, &first), 0, "empty");
    cr_assert_null(first);

    struct al_task *last = link_range(tasks, 0, 10);
    cr_assert(al__inject_push_batch(&q, &tasks[0], last, 10));

    first = (struct al_task *)0x1;
    cr_assert_eq(al__inject_pop_batch(&q, 0, &first), 0, "max 0 takes nothing");
    cr_assert_null(first);
    cr_assert_eq(al__inject_len(&q), 10);

    /* fewer than queued: exactly max, in order, terminated */
    cr_assert_eq(al__inject_pop_batch(&q, 3, &first), 3);
    cr_assert_eq(first, &tasks[0]);
    cr_assert_eq(first->next, &tasks[1]);
    cr_assert_eq(first->next->next, &tasks[2]);
    cr_assert_null(tasks[2].next);
    cr_assert_eq(al__inject_len(&q), 7);

    /* exactly one */
    cr_assert_eq(al__inject_pop_batch(&q, 1, &first), 1);
    cr_assert_eq(first, &tasks[3]);
    cr_assert_null(first->next);

    /* more than queued: all of them, and the queue is reusable */
    cr_assert_eq(al__inject_pop_batch(&q, 100, &first), 6);
    size_t i = 4;
    for (struct al_task *t = first; t; t = t->next, i++)
        cr_assert_eq(t, &tasks[i]);
    cr_assert_eq(i, 10);
    cr_assert(al__inject_is_empty(&q));
    cr_assert(al__inject_push(&q, &tasks[0]));
    cr_assert_eq(al__inject_pop(&q), &tasks[0]);

    al__inject_destroy(&q);
    free(tasks);
}

Test(inject, close_semantics)
{
    al__inject_t q;
    al__inject_init(&q);
    struct al_task *tasks = fake_tasks(6);
    cr_assert_not(al__inject_is_closed(&q));
    cr_assert(al__inject_push(&q, &tasks[0]));
    cr_assert(al__inject_push(&q, &tasks[1]));

    cr_assert(al__inject_close(&q), "the first close closes it");
    cr_assert(al__inject_is_closed(&q));
    cr_assert_not(al__inject_close(&q), "a second close reports it was closed already");
    cr_assert(al__inject_is_closed(&q));

    /* pushes fail and queue nothing; the caller keeps the task */
    cr_assert_not(al__inject_push(&q, &tasks[2]));
    struct al_task *last = link_range(tasks, 3, 6);
    cr_assert_not(al__inject_push_batch(&q, &tasks[3], last, 3));
    cr_assert_eq(al__inject_len(&q), 2);

    /* pops still drain what was queued before the close */
    cr_assert_eq(al__inject_pop(&q), &tasks[0]);
    struct al_task *first = NULL;
    cr_assert_eq(al__inject_pop_batch(&q, 8, &first), 1);
    cr_assert_eq(first, &tasks[1]);
    cr_assert_null(al__inject_pop(&q));
    cr_assert(al__inject_is_empty(&q));

    al__inject_destroy(&q);
    free(tasks);
}

/* ---- stress ------------------------------------------------------------------------ */

#define NPROD 3
#define NCONS 2

typedef struct istress {
    al__inject_t q;
    struct al_task *tasks;
    size_t n;
    atomic_uint *seen;
    atomic_uchar *accepted; /* close race: 1 if the push of item i succeeded */
    atomic_size_t consumed, bad_ids, push_failures, max_batch_seen;
    atomic_size_t pushed_ok; /* close race: accepted pushes */
    atomic_bool stop;        /* close race: consumers stop after the final drain */
    pthread_barrier_t start;
} istress_t;

typedef struct iarg {
    istress_t *s;
    int idx;
} iarg_t;

static uint32_t ixorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void iconsume_list(istress_t *s, struct al_task *first, size_t max)
{
    size_t k = 0;
    for (struct al_task *t = first, *next; t; t = next, k++) {
        next = t->next;
        if (t->id >= s->n) {
            atomic_fetch_add(&s->bad_ids, 1);
            continue;
        }
        atomic_fetch_add_explicit(&s->seen[t->id], 1, memory_order_relaxed);
    }
    if (k > max)
        atomic_fetch_add(&s->bad_ids, 1); /* pop_batch returned more than max */
    atomic_fetch_add_explicit(&s->consumed, k, memory_order_relaxed);
}

/* Producer idx pushes items idx, idx + NPROD, ... in single pushes and
 * batches of 1..8. Returns after all its items, or at the first refusal when
 * stop_on_closed (then later items are simply not pushed). */
static void produce(istress_t *s, int idx, bool close_race)
{
    uint32_t rng = 0xC0FFEEu + (uint32_t)idx * 7919u;
    size_t i = (size_t)idx;
    while (i < s->n) {
        uint32_t r = ixorshift(&rng);
        size_t want = 1 + r % 8, k = 0;
        struct al_task *first = NULL, *last = NULL;
        size_t items[8];
        for (; k < want && i < s->n; k++, i += NPROD) {
            struct al_task *t = &s->tasks[i];
            items[k] = i;
            if (last)
                last->next = t;
            else
                first = t;
            last = t;
        }
        bool ok = k == 1 && r % 2 ? al__inject_push(&s->q, first)
                                  : al__inject_push_batch(&s->q, first, last, k);
        if (!ok) {
            if (!close_race)
                atomic_fetch_add(&s->push_failures, 1);
            return;
        }
        if (close_race) {
            for (size_t j = 0; j < k; j++)
                atomic_store_explicit(&s->accepted[items[j]], 1, memory_order_relaxed);
            atomic_fetch_add(&s->pushed_ok, k);
        }
    }
}

static void *producer_main(void *arg)
{
    iarg_t *a = arg;
    pthread_barrier_wait(&a->s->start);
    produce(a->s, a->idx, false);
    return NULL;
}

static void *consumer_main(void *arg)
{
    iarg_t *a = arg;
    istress_t *s = a->s;
    uint32_t rng = 0xBADC0DEu + (uint32_t)a->idx;
    pthread_barrier_wait(&s->start);
    while (atomic_load_explicit(&s->consumed, memory_order_relaxed) < s->n) {
        uint32_t r = ixorshift(&rng);
        size_t max = 1 + r % 16;
        struct al_task *first = NULL;
        size_t got = r % 5 == 0 ? ((first = al__inject_pop(&s->q)) != NULL)
                                : al__inject_pop_batch(&s->q, max, &first);
        if (got == 0) {
            sched_yield();
            continue;
        }
        iconsume_list(s, first, r % 5 == 0 ? 1 : max);
    }
    return NULL;
}

static void istress_init(istress_t *s, size_t n, int parties)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->tasks = fake_tasks(n);
    s->seen = calloc(n, sizeof *s->seen);
    s->accepted = calloc(n, sizeof *s->accepted);
    cr_assert(s->seen && s->accepted);
    al__inject_init(&s->q);
    pthread_barrier_init(&s->start, NULL, (unsigned)parties);
}

static void istress_free(istress_t *s)
{
    pthread_barrier_destroy(&s->start);
    al__inject_destroy(&s->q);
    free(s->tasks);
    free(s->seen);
    free(s->accepted);
}

Test(inject, stress_producers_consumers_each_item_once, .timeout = 120)
{
    istress_t s;
    istress_init(&s, (size_t)al_test_scale(1000000), NPROD + NCONS);
    pthread_t th[NPROD + NCONS];
    iarg_t args[NPROD + NCONS];
    for (int i = 0; i < NPROD + NCONS; i++) {
        args[i] = (iarg_t){&s, i < NPROD ? i : i - NPROD};
        cr_assert_eq(
            pthread_create(&th[i], NULL, i < NPROD ? producer_main : consumer_main, &args[i]), 0);
    }
    for (int i = 0; i < NPROD + NCONS; i++)
        pthread_join(th[i], NULL);

    cr_assert_eq(atomic_load(&s.bad_ids), 0);
    cr_assert_eq(atomic_load(&s.push_failures), 0);
    cr_assert_eq(atomic_load(&s.consumed), s.n);
    for (size_t i = 0; i < s.n; i++)
        cr_assert_eq(atomic_load(&s.seen[i]), 1, "item %zu seen %u times", i,
                     atomic_load(&s.seen[i]));
    cr_assert(al__inject_is_empty(&s.q));
    cr_assert_null(al__inject_pop(&s.q));
    istress_free(&s);
}

static void *race_producer_main(void *arg)
{
    iarg_t *a = arg;
    pthread_barrier_wait(&a->s->start);
    produce(a->s, a->idx, true);
    return NULL;
}

static void *race_consumer_main(void *arg)
{
    iarg_t *a = arg;
    istress_t *s = a->s;
    pthread_barrier_wait(&s->start);
    for (;;) {
        /* Read stop before popping: once stop is seen, this last round of
         * pops still runs, so nothing pushed before the close is left. */
        bool stop = atomic_load(&s->stop);
        struct al_task *first = NULL;
        size_t got = al__inject_pop_batch(&s->q, 8, &first);
        if (got)
            iconsume_list(s, first, 8);
        else if (stop)
            return NULL;
        else
            sched_yield();
    }
}

Test(inject, stress_push_races_with_close, .timeout = 120)
{
    /* Producers push until refused; the test thread closes the queue midway.
     * Afterwards exactly the accepted items must come out, once each. */
    istress_t s;
    istress_init(&s, (size_t)al_test_scale(400000), NPROD + NCONS + 1);
    pthread_t th[NPROD + NCONS];
    iarg_t args[NPROD + NCONS];
    for (int i = 0; i < NPROD + NCONS; i++) {
        args[i] = (iarg_t){&s, i < NPROD ? i : i - NPROD};
        cr_assert_eq(pthread_create(&th[i], NULL,
                                    i < NPROD ? race_producer_main : race_consumer_main, &args[i]),
                     0);
    }
    pthread_barrier_wait(&s.start);
    while (atomic_load(&s.pushed_ok) < s.n / 4)
        sched_yield();
    cr_assert(al__inject_close(&s.q));
    for (int i = 0; i < NPROD; i++)
        pthread_join(th[i], NULL);
    atomic_store(&s.stop, true);
    for (int i = NPROD; i < NPROD + NCONS; i++)
        pthread_join(th[i], NULL);

    cr_assert_eq(atomic_load(&s.bad_ids), 0);
    cr_assert(al__inject_is_closed(&s.q));
    cr_assert(al__inject_is_empty(&s.q));
    size_t accepted = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned want = atomic_load(&s.accepted[i]);
        accepted += want;
        cr_assert_eq(atomic_load(&s.seen[i]), want, "item %zu: seen %u, accepted %u", i,
                     atomic_load(&s.seen[i]), want);
    }
    cr_assert_eq(accepted, atomic_load(&s.pushed_ok));
    cr_assert_eq(atomic_load(&s.consumed), accepted);
    cr_assert_geq(accepted, s.n / 4);
    istress_free(&s);
}
