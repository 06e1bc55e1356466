/*
 * al_join_set.c — JoinSet (see al_join_set.h).
 *
 * Each member is an entry {handle, links, refs} on one of two lists: `idle`
 * (its task has not reported) or `ready` (its join waker fired). The waker
 * we give each handle points at its entry and counts as a reference, so an
 * entry lives until both the set and the waker are done with it; every entry
 * holds a reference on the set, so a late wake always finds the set's lock
 * alive (it then sees the entry on no list and does nothing). A waker may
 * fire on any thread: it only moves the entry to `ready` and wakes the
 * waiter, under `lock`.
 *
 * Guarded by `lock`: both lists, each entry's `list` and links, `waiter`,
 * `len`. The handles themselves are touched only by join_next's caller and
 * by free / abort_all.
 */
#include <pthread.h>
#include <string.h>

#include "al_internal.h"
#include "al_join_set.h"
#include "al_task_internal.h"

enum { ON_NONE = 0, ON_IDLE, ON_READY };

typedef struct al__js_entry {
    struct al__js_entry *prev, *next;
    al_join_set_t *set;
    al_join_t *h;
    atomic_uint refs; /* the set's + one per live waker clone */
    int list;         /* guarded by set->lock */
} al__js_entry_t;

typedef struct al__js_list {
    al__js_entry_t *head, *tail;
} al__js_list_t;

struct al_join_set {
    atomic_uint refs; /* the owner's + one per entry */
    pthread_mutex_t lock;
    al__js_list_t idle, ready;
    size_t len;
    al_waker_t waiter;
    al_join_t *last; /* handle of the last result, released on the next call */
};

static void al__js_unlink(al__js_list_t *l, al__js_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
}

static void al__js_push(al__js_list_t *l, al__js_entry_t *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
}

static void al__js_unref(al_join_set_t *set)
{
    if (atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1) {
        al_waker_drop(&set->waiter);
        pthread_mutex_destroy(&set->lock);
        free(set);
    }
}

static void al__js_entry_unref(al__js_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
        al__js_unref(e->set);
        free(e);
    }
}

/* ---- the per-member waker ---- */

static void *al__jsw_clone(void *d)
{
    al__js_entry_t *e = d;
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}
static void al__jsw_wake_by_ref(void *d, al_wake_src_t src)
{
    al__js_entry_t *e = d;
    al_join_set_t *set = e->set;
    al_waker_t w = AL_WAKER_NONE;
    pthread_mutex_lock(&set->lock);
    if (e->list == ON_IDLE) {
        al__js_unlink(&set->idle, e);
        al__js_push(&set->ready, e);
        e->list = ON_READY;
        w = al_waker_clone(&set->waiter);
    }
    pthread_mutex_unlock(&set->lock);
    al_waker_wake(&w, src);
}
static void al__jsw_wake(void *d, al_wake_src_t src)
{
    al__jsw_wake_by_ref(d, src);
    al__js_entry_unref(d);
}
static void al__jsw_drop(void *d) { al__js_entry_unref(d); }
static const al_waker_vtable_t al__jsw_vtable = {al__jsw_clone, al__jsw_wake, al__jsw_wake_by_ref,
                                                 al__jsw_drop};

/* ---- the set ---- */

int al_join_set_new(al_join_set_t **out)
{
    al_join_set_t *set = calloc(1, sizeof *set);
    if (!set)
        return AL_ENOMEM;
    atomic_init(&set->refs, 1);
    pthread_mutex_init(&set->lock, NULL);
    *out = set;
    return 0;
}

int al_join_set_spawn(al_join_set_t *set, al_runtime_t *rt, const al_future_vtable_t *vt,
                      const void *init, const al_spawn_opts_t *opts)
{
    al__js_entry_t *e = calloc(1, sizeof *e);
    if (!e) {
        if (vt && vt->drop)
            vt->drop((void *)init);
        return AL_ENOMEM;
    }
    int rc = al_spawn(rt, vt, init, opts, &e->h);
    if (rc != 0) {
        free(e);
        return rc;
    }
    e->set = set;
    atomic_init(&e->refs, 1);
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&set->lock);
    al__js_push(&set->idle, e);
    e->list = ON_IDLE;
    set->len++;
    pthread_mutex_unlock(&set->lock);
    /* Give the task our waker; if it already finished, it is ready now. */
    al_waker_t w = {.vtable = &al__jsw_vtable, .data = e};
    if (al__join_set_waker(e->h, &w))
        al__jsw_wake_by_ref(e, AL_WAKE_SRC(AL_WAKE_JOIN, 0));
    return 0;
}

static void al__js_release_last(al_join_set_t *set)
{
    if (set->last) {
        al_join_drop(set->last);
        set->last = NULL;
    }
}

al_poll_t al_join_set_join_next_poll(al_join_set_t *set, al_context_t *cx, void *out, uint64_t *id,
                                     al_join_result_t *res)
{
    al__js_release_last(set);
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    for (;;) {
        pthread_mutex_lock(&set->lock);
        al__js_entry_t *e = set->ready.head;
        if (!e) {
            bool empty = set->len == 0;
            if (!empty)
                al_waker_set(&set->waiter, &cx->waker);
            pthread_mutex_unlock(&set->lock);
            if (empty) {
                *id = 0;
                memset(res, 0, sizeof *res);
                return AL_READY;
            }
            al_coop_refund();
            return AL_PENDING;
        }
        al__js_unlink(&set->ready, e);
        e->list = ON_NONE;
        pthread_mutex_unlock(&set->lock);

        al_context_t jcx = *cx;
        jcx.waker = (al_waker_t){.vtable = &al__jsw_vtable, .data = e};
        int saved = al__tls.coop;
        al__tls.coop = -1;
        al_poll_t r = al_join_poll(e->h, &jcx, out, res);
        al__tls.coop = saved;
        if (r == AL_PENDING) {
            /* A spurious wake (e.g. a waker replaced): back to idle. */
            pthread_mutex_lock(&set->lock);
            if (e->list == ON_NONE) {
                al__js_push(&set->idle, e);
                e->list = ON_IDLE;
            }
            pthread_mutex_unlock(&set->lock);
            continue;
        }
        pthread_mutex_lock(&set->lock);
        set->len--;
        pthread_mutex_unlock(&set->lock);
        *id = al_join_id(e->h);
        set->last = e->h; /* keeps res->panic_msg valid until the next call */
        al__js_entry_unref(e);
        return AL_READY;
    }
}

size_t al_join_set_len(const al_join_set_t *cset)
{
    al_join_set_t *set = (al_join_set_t *)cset;
    pthread_mutex_lock(&set->lock);
    size_t n = set->len;
    pthread_mutex_unlock(&set->lock);
    return n;
}

void al_join_set_abort_all(al_join_set_t *set)
{
    pthread_mutex_lock(&set->lock);
    for (int l = 0; l < 2; l++)
        for (al__js_entry_t *e = (l ? set->ready : set->idle).head; e; e = e->next)
            al_join_abort(e->h);
    pthread_mutex_unlock(&set->lock);
}

void al_join_set_free(al_join_set_t *set)
{
    if (!set)
        return;
    al__js_release_last(set);
    for (;;) {
        pthread_mutex_lock(&set->lock);
        al__js_entry_t *e = set->idle.head ? set->idle.head : set->ready.head;
        if (e) {
            al__js_unlink(e->list == ON_IDLE ? &set->idle : &set->ready, e);
            e->list = ON_NONE; /* a late wake now does nothing */
        }
        pthread_mutex_unlock(&set->lock);
        if (!e)
            break;
        al_join_abort(e->h);
        al_join_drop(e->h); /* drops our waker clone held by the task, too */
        al__js_entry_unref(e);
    }
    pthread_mutex_lock(&set->lock);
    al_waker_drop(&set->waiter);
    pthread_mutex_unlock(&set->lock);
    al__js_unref(set);
}
