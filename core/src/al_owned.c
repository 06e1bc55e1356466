/*
 * al_owned.c — the set of a runtime's live tasks.
 *
 * Every spawned task is inserted here (the set holds one reference) and
 * removed when it finishes. Shutdown closes the set, so no task can be added
 * after the snapshot it cancels, and walks a snapshot of what is left.
 *
 * The set is split into AL__OWNED_SHARDS shards by task id, each an array
 * under its own mutex; removal swaps the last element into the hole and
 * updates its owned_index (guarded by the shard's lock). `alive` is the sum
 * over shards, kept as one relaxed counter for metrics.
 */
#include <string.h>

#include "al_runtime_internal.h"

static al__owned_shard_t *al__owned_shard(al__owned_t *o, const struct al_task *t)
{
    return &o->shards[t->id % AL__OWNED_SHARDS];
}

void al__owned_init(al__owned_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < AL__OWNED_SHARDS; i++)
        al__mutex_init_adaptive(&o->shards[i].lock);
    atomic_init(&o->alive, 0);
}

void al__owned_destroy(al__owned_t *o)
{
    for (int i = 0; i < AL__OWNED_SHARDS; i++) {
        pthread_mutex_destroy(&o->shards[i].lock);
        free(o->shards[i].tasks);
        o->shards[i].tasks = NULL;
    }
}

int al__owned_insert(al__owned_t *o, struct al_task *t)
{
    al__owned_shard_t *s = al__owned_shard(o, t);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (s->closed) {
        rc = AL_ESHUTDOWN;
    } else {
        if (s->len == s->cap) {
            uint32_t cap = s->cap ? s->cap * 2 : 64;
            struct al_task **grown = realloc(s->tasks, cap * sizeof *grown);
            if (!grown) {
                pthread_mutex_unlock(&s->lock);
                return AL_ENOMEM;
            }
            s->tasks = grown;
            s->cap = cap;
        }
        t->owned_index = s->len;
        s->tasks[s->len++] = t;
        atomic_fetch_add_explicit(&o->alive, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void al__owned_remove(al__owned_t *o, struct al_task *t)
{
    al__owned_shard_t *s = al__owned_shard(o, t);
    pthread_mutex_lock(&s->lock);
    uint32_t i = t->owned_index;
    AL_EXPECT(i < s->len && s->tasks[i] == t);
    struct al_task *last = s->tasks[--s->len];
    s->tasks[i] = last;
    last->owned_index = i;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_sub_explicit(&o->alive, 1, memory_order_relaxed);
}

size_t al__owned_close_and_snapshot(al__owned_t *o, struct al_task ***out)
{
    size_t n = 0, cap = 0;
    struct al_task **all = NULL;
    for (int i = 0; i < AL__OWNED_SHARDS; i++) {
        al__owned_shard_t *s = &o->shards[i];
        pthread_mutex_lock(&s->lock);
        s->closed = true;
        if (n + s->len > cap) {
            size_t want = n + s->len;
            struct al_task **grown = realloc(all, want * sizeof *grown);
            AL_EXPECT(grown != NULL); /* shutdown cannot proceed without it */
            all = grown;
            cap = want;
        }
        for (uint32_t j = 0; j < s->len; j++) {
            atomic_fetch_add_explicit(&s->tasks[j]->state, AL__T_REF_ONE, memory_order_relaxed);
            all[n++] = s->tasks[j];
        }
        pthread_mutex_unlock(&s->lock);
    }
    *out = all;
    return n;
}
