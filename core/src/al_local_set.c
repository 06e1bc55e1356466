/*
 * al_local_set.c — LocalSet (see al_local_set.h).
 *
 * The set is a scheduler of its own (al__sched_t first in the struct): a
 * FIFO list for wakes made on the driving thread, an inject queue for wakes
 * from elsewhere, and its own set of live tasks. "The driving thread" is
 * whichever thread is inside al_local_set_run_until_poll for this set right
 * now (al__current_ls); only it polls local tasks.
 *
 * Guarded by `lock`: `waker` (the driver's waker, woken by remote schedules),
 * `tasks`/`len` (live tasks; release may run on any thread when a task is
 * cancelled). `head`/`tail` belong to the driving thread.
 */
#include <string.h>

#include "al_inject.h"
#include "al_local_set.h"
#include "al_runtime_internal.h"

#define AL__LS_TASKS_PER_TICK 61

struct al_local_set {
    al__sched_t sched; /* must stay first */
    pthread_mutex_t lock;
    al_waker_t waker;            /* guarded by lock */
    struct al_task **tasks;      /* guarded by lock */
    size_t len, cap;             /* guarded by lock */
    bool closed;                 /* guarded by lock */
    struct al_task *head, *tail; /* driving thread only */
    al__inject_t remote;
};

static _Thread_local al_local_set_t *al__current_ls;

static void al__ls_push_local(al_local_set_t *ls, struct al_task *t)
{
    t->next = NULL;
    if (ls->tail)
        ls->tail->next = t;
    else
        ls->head = t;
    ls->tail = t;
}

static struct al_task *al__ls_pop(al_local_set_t *ls)
{
    struct al_task *t = ls->head;
    if (t) {
        ls->head = t->next;
        if (!ls->head)
            ls->tail = NULL;
        t->next = NULL;
        return t;
    }
    return al__inject_pop(&ls->remote);
}

static void al__ls_schedule(al__sched_t *s, struct al_task *t, bool is_yield)
{
    al_local_set_t *ls = (al_local_set_t *)s;
    if (al__current_ls == ls) {
        AL__EMIT(ls->sched.rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_CURRENT, 0, NULL);
        al__ls_push_local(ls, t);
        return;
    }
    AL__EMIT(ls->sched.rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_INJECT, 0, NULL);
    if (!al__inject_push(&ls->remote, t)) {
        al__task_ref_dec(t); /* the set is being freed */
        return;
    }
    pthread_mutex_lock(&ls->lock);
    al_waker_t w = al_waker_clone(&ls->waker);
    pthread_mutex_unlock(&ls->lock);
    al_waker_wake(&w, AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0));
}

static void al__ls_release(al__sched_t *s, struct al_task *t)
{
    al_local_set_t *ls = (al_local_set_t *)s;
    pthread_mutex_lock(&ls->lock);
    uint32_t i = t->owned_index;
    AL_EXPECT(i < ls->len && ls->tasks[i] == t);
    ls->tasks[i] = ls->tasks[--ls->len];
    ls->tasks[i]->owned_index = i;
    pthread_mutex_unlock(&ls->lock);
}

static const al__sched_vtable_t al__ls_vtable = {al__ls_schedule, al__ls_release};

int al_local_set_new(al_local_set_t **out)
{
    al_local_set_t *ls = calloc(1, sizeof *ls);
    if (!ls)
        return AL_ENOMEM;
    ls->sched.vt = &al__ls_vtable;
    pthread_mutex_init(&ls->lock, NULL);
    al__inject_init(&ls->remote);
    *out = ls;
    return 0;
}

int al_spawn_local(const al_future_vtable_t *vt, const void *init, const al_spawn_opts_t *opts,
                   al_join_t **out)
{
    if (!vt || !vt->poll || (vt->future_size && !init))
        return AL_EINVAL;
    al_local_set_t *ls = al__current_ls;
    struct al_task *t = ls ? al__task_alloc(vt, init, AL_TASK_LOCAL) : NULL;
    int rc = !ls ? AL_ENOLOCALSET : !t ? AL_ENOMEM : 0;
    if (rc == 0) {
        t->sched = &ls->sched;
        al__task_init_state(t, out != NULL);
        pthread_mutex_lock(&ls->lock);
        if (ls->len == ls->cap) {
            size_t cap = ls->cap ? 2 * ls->cap : 16;
            struct al_task **grown = realloc(ls->tasks, cap * sizeof *grown);
            if (grown) {
                ls->tasks = grown;
                ls->cap = cap;
            }
        }
        if (ls->len < ls->cap) {
            t->owned_index = (uint32_t)ls->len;
            ls->tasks[ls->len++] = t;
        } else {
            rc = AL_ENOMEM;
        }
        pthread_mutex_unlock(&ls->lock);
    }
    if (rc != 0) {
        if (t)
            al__task_discard(t);
        else if (vt->drop)
            vt->drop((void *)init);
        return rc;
    }
    if (AL_UNLIKELY(al__hooked(ls->sched.rt)))
        al__emit(ls->sched.rt, AL_EV_TASK_SPAWN, t->id, al__current_task_id(), AL_TASK_LOCAL,
                 opts ? opts->name : NULL);
    if (out)
        *out = t;
    al__ls_schedule(&ls->sched, t, false);
    return 0;
}

al_poll_t al_local_set_run_until_poll(al_local_set_t *ls, al_context_t *cx,
                                      al_poll_t (*inner)(void *arg, al_context_t *cx), void *arg)
{
    al_local_set_t *prev = al__current_ls;
    al__current_ls = ls;
    if (!ls->sched.rt)
        ls->sched.rt = cx->rt ? cx->rt : al__tls.rt;
    pthread_mutex_lock(&ls->lock);
    al_waker_set(&ls->waker, &cx->waker);
    pthread_mutex_unlock(&ls->lock);

    al_poll_t r = inner(arg, cx);
    if (r == AL_PENDING) {
        int saved_coop = al__tls.coop;
        for (int n = 0; n < AL__LS_TASKS_PER_TICK; n++) {
            struct al_task *t = al__ls_pop(ls);
            if (!t)
                break;
            al__tls.coop = AL_COOP_BUDGET;
            al__task_run(t);
        }
        al__tls.coop = saved_coop;
        if (ls->head || !al__inject_is_empty(&ls->remote))
            al_waker_wake_by_ref(&cx->waker, AL_WAKE_SRC(AL_WAKE_YIELD, 0));
    }
    al__current_ls = prev;
    return r;
}

size_t al_local_set_len(const al_local_set_t *cls)
{
    al_local_set_t *ls = (al_local_set_t *)cls;
    pthread_mutex_lock(&ls->lock);
    size_t n = ls->len;
    pthread_mutex_unlock(&ls->lock);
    return n;
}

void al_local_set_free(al_local_set_t *ls)
{
    if (!ls)
        return;
    al__inject_close(&ls->remote);
    pthread_mutex_lock(&ls->lock);
    ls->closed = true;
    size_t n = ls->len;
    struct al_task **snap = n ? malloc(n * sizeof *snap) : NULL;
    AL_EXPECT(n == 0 || snap);
    for (size_t i = 0; i < n; i++) {
        snap[i] = ls->tasks[i];
        atomic_fetch_add(&snap[i]->state, AL__T_REF_ONE);
    }
    pthread_mutex_unlock(&ls->lock);
    al_local_set_t *prev = al__current_ls;
    al__current_ls = ls; /* drop code may wake local tasks: keep them local */
    for (size_t i = 0; i < n; i++) {
        al__task_shutdown(snap[i]);
        al__task_ref_dec(snap[i]);
    }
    struct al_task *t;
    while ((t = al__ls_pop(ls)))
        al__task_run(t); /* complete now: drops the queue's reference */
    al__current_ls = prev;
    free(snap);
    al_waker_drop(&ls->waker);
    al__inject_destroy(&ls->remote);
    pthread_mutex_destroy(&ls->lock);
    free(ls->tasks);
    free(ls);
}
