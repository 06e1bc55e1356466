/*
 * al_console.c — the console model (see al_console.h): tasks, resources and
 * workers rebuilt event by event, and consistent snapshots of them.
 *
 * Tasks and resources live in slot arrays found through id maps; finished
 * tasks and dropped resources are kept for display in FIFO order up to the
 * retention limits, then their slots are reused. Run queues are doubly linked
 * lists threaded through the task slots (q_prev / q_next).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "al_console_internal.h"
#include "al_error.h"
#include "al_future.h"
#include "al_task.h"

/* ---- shared histograms (copy on write, see al_console_internal.h) ------------------------ */

typedef struct {
    al_histogram_t h; /* first: a pointer to it is a pointer to the block */
    atomic_uint refs;
} al__shist_t;

al_histogram_t *al__hist_new(void)
{
    al__shist_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    return &b->h;
}

al_histogram_t *al__hist_ref(al_histogram_t *h)
{
    if (h)
        atomic_fetch_add_explicit(&((al__shist_t *)h)->refs, 1, memory_order_relaxed);
    return h;
}

void al__hist_unref(al_histogram_t *h)
{
    if (h && atomic_fetch_sub_explicit(&((al__shist_t *)h)->refs, 1, memory_order_acq_rel) == 1)
        free(h);
}

bool al__hist_own(al_histogram_t **h)
{
    if (!*h)
        return (*h = al__hist_new()) != NULL;
    if (atomic_load_explicit(&((al__shist_t *)*h)->refs, memory_order_acquire) == 1)
        return true;
    al_histogram_t *mine = al__hist_new();
    if (!mine)
        return false;
    *mine = **h;
    al__hist_unref(*h);
    *h = mine;
    return true;
}

size_t al__hist_share(const al_histogram_t *h)
{
    if (!h)
        return 0;
    unsigned refs = atomic_load_explicit(&((al__shist_t *)h)->refs, memory_order_relaxed);
    return sizeof(al__shist_t) / (refs ? refs : 1);
}

/* ---- strings ---------------------------------------------------------------------------- */

void al__console_string(al_console_t *c, uint32_t id, const char *s, size_t len)
{
    if (id == 0)
        return;
    if (id >= c->num_strings) {
        uint32_t n = c->num_strings ? c->num_strings : 64;
        while (n <= id)
            n *= 2;
        char **grown = realloc(c->strings, n * sizeof *grown);
        if (!grown)
            return;
        memset(grown + c->num_strings, 0, (n - c->num_strings) * sizeof *grown);
        c->strings = grown;
        c->num_strings = n;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, s, len);
    copy[len] = 0;
    free(c->strings[id]);
    c->strings[id] = copy;
}

const char *al__console_str(const al_console_t *c, uint32_t id)
{
    return id < c->num_strings && c->strings[id] ? c->strings[id] : "";
}

/* ---- tasks and resources by id ------------------------------------------------------------ */

al__ctask_t *al__console_slot(al_console_t *c, uint32_t slot)
{
    return slot == AL__NIL ? NULL : &c->tasks[slot];
}

static uint32_t al__slot_of(al_console_t *c, const al__ctask_t *t)
{
    return (uint32_t)(t - c->tasks);
}

al__ctask_t *al__console_task(al_console_t *c, uint64_t id)
{
    uint32_t slot;
    return al__idmap_get(&c->task_ids, id, &slot) ? &c->tasks[slot] : NULL;
}

al__cres_t *al__console_res(al_console_t *c, uint64_t id)
{
    uint32_t slot;
    return al__idmap_get(&c->res_ids, id, &slot) ? &c->res[slot] : NULL;
}

static void al__queue_remove(al_console_t *c, al__ctask_t *t);

static void al__task_release(al_console_t *c, uint32_t slot)
{
    al__ctask_t *t = &c->tasks[slot];
    al__idmap_del(&c->task_ids, t->id);
    al__hist_unref(t->poll_h);
    al__hist_unref(t->sched_h);
    memset(t, 0, sizeof *t);
    t->q_next = c->free_task;
    c->free_task = slot;
}

static al__ctask_t *al__task_new(al_console_t *c, uint64_t id, uint64_t ts)
{
    if (c->free_task == AL__NIL) {
        uint32_t n = c->num_task_slots ? c->num_task_slots * 2 : 256;
        al__ctask_t *grown = realloc(c->tasks, n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + c->num_task_slots, 0, (n - c->num_task_slots) * sizeof *grown);
        for (uint32_t i = n; i-- > c->num_task_slots;) {
            grown[i].q_next = c->free_task;
            c->free_task = i;
        }
        c->tasks = grown;
        c->num_task_slots = n;
    }
    uint32_t slot = c->free_task;
    if (!al__idmap_put(&c->task_ids, id, slot))
        return NULL;
    al__ctask_t *t = &c->tasks[slot];
    c->free_task = t->q_next;
    *t = (al__ctask_t){.id = id,
                       .used = true,
                       .worker = -1,
                       .queue_owner = AL__Q_NONE,
                       .q_prev = AL__NIL,
                       .q_next = AL__NIL,
                       .done_next = AL__NIL,
                       .spawned_ns = ts,
                       .state_since_ns = ts};
    c->alive++;
    return t;
}

/* The task an event is about; a task first seen being scheduled or polled
 * (spawned before a late subscription, or its spawn was dropped) is added. */
static al__ctask_t *al__task_for(al_console_t *c, uint64_t id, uint64_t ts, bool create)
{
    if (id == 0)
        return NULL;
    al__ctask_t *t = al__console_task(c, id);
    if (!t && create)
        t = al__task_new(c, id, ts);
    return t;
}

static al__cres_t *al__res_for(al_console_t *c, uint64_t id, uint64_t ts, bool create)
{
    if (id == 0)
        return NULL;
    al__cres_t *r = al__console_res(c, id);
    if (r || !create)
        return r;
    if (c->free_res == AL__NIL) {
        uint32_t n = c->num_res_slots ? c->num_res_slots * 2 : 64;
        al__cres_t *grown = realloc(c->res, n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + c->num_res_slots, 0, (n - c->num_res_slots) * sizeof *grown);
        for (uint32_t i = n; i-- > c->num_res_slots;) {
            grown[i].drop_next = c->free_res;
            c->free_res = i;
        }
        c->res = grown;
        c->num_res_slots = n;
    }
    uint32_t slot = c->free_res;
    if (!al__idmap_put(&c->res_ids, id, slot))
        return NULL;
    r = &c->res[slot];
    c->free_res = r->drop_next;
    *r = (al__cres_t){
        .id = id, .used = true, .kind = AL__RES_UNKNOWN, .created_ns = ts, .drop_next = AL__NIL};
    return r;
}

/* ---- run queues ------------------------------------------------------------------------- */

static al__cqueue_t *al__queue_list(al_console_t *c, int16_t owner)
{
    if (owner == AL__Q_INJECT)
        return &c->inject;
    if (owner == AL__Q_BLOCKING)
        return &c->blocking_queue;
    if (owner >= 0 && (uint32_t)owner < c->num_workers)
        return &c->workers[owner].local;
    return NULL;
}

static void al__queue_remove(al_console_t *c, al__ctask_t *t)
{
    if (t->queue_owner == AL__Q_NONE)
        return;
    uint32_t slot = al__slot_of(c, t);
    if (t->in_lifo) {
        c->workers[t->queue_owner].lifo = AL__NIL;
        t->in_lifo = false;
    } else {
        al__cqueue_t *q = al__queue_list(c, t->queue_owner);
        if (t->q_prev != AL__NIL)
            c->tasks[t->q_prev].q_next = t->q_next;
        else if (q->head == slot)
            q->head = t->q_next;
        if (t->q_next != AL__NIL)
            c->tasks[t->q_next].q_prev = t->q_prev;
        else if (q->tail == slot)
            q->tail = t->q_prev;
        q->len--;
    }
    t->q_prev = t->q_next = AL__NIL;
    t->queue_owner = AL__Q_NONE;
}

static void al__queue_push(al_console_t *c, al__ctask_t *t, int16_t owner)
{
    al__queue_remove(c, t);
    al__cqueue_t *q = al__queue_list(c, owner);
    if (!q)
        return;
    uint32_t slot = al__slot_of(c, t);
    t->queue_owner = owner;
    t->q_prev = q->tail;
    t->q_next = AL__NIL;
    if (q->tail != AL__NIL)
        c->tasks[q->tail].q_next = slot;
    else
        q->head = slot;
    q->tail = slot;
    q->len++;
}

/* Move the n oldest tasks of one list to the back of another. */
static void al__queue_move(al_console_t *c, int16_t from, int16_t to, uint64_t n)
{
    al__cqueue_t *q = al__queue_list(c, from);
    while (q && n-- > 0 && q->head != AL__NIL)
        al__queue_push(c, &c->tasks[q->head], to);
}

/* ---- workers ---------------------------------------------------------------------------- */

static al__cworker_t *al__worker(al_console_t *c, int16_t index)
{
    if (index < 0)
        return NULL;
    if ((uint32_t)index >= c->num_workers) {
        uint32_t n = (uint32_t)index + 1;
        al__cworker_t *grown = realloc(c->workers, n * sizeof *grown);
        if (!grown)
            return NULL;
        /* Queue lists are threaded through task slots: nothing points into
         * the worker array, so realloc is safe. */
        for (uint32_t i = c->num_workers; i < n; i++)
            grown[i] = (al__cworker_t){
                .lifo = AL__NIL, .local = {AL__NIL, AL__NIL, 0}, .state_since_ns = c->last_ns};
        c->workers = grown;
        c->num_workers = n;
    }
    return &c->workers[index];
}

static void al__worker_set(al__cworker_t *w, uint8_t state, uint64_t ts)
{
    if (w && w->state != state) {
        w->state = state;
        w->state_since_ns = ts;
    }
}

/* ---- task life -------------------------------------------------------------------------- */

static void al__task_set(al__ctask_t *t, uint8_t state, uint64_t ts)
{
    if (t->state == AL_TASK_SCHEDULED && state != AL_TASK_SCHEDULED && ts > t->state_since_ns)
        t->scheduled_ns += ts - t->state_since_ns;
    t->state = state;
    t->state_since_ns = ts;
}

static void al__stop_waiting(al_console_t *c, al__ctask_t *t, uint64_t ts, bool acquired)
{
    if (t->waiting_kind == AL_WAIT_TIMER && c->pending_timers > 0)
        c->pending_timers--;
    if (t->waiting_kind == AL_WAIT_RESOURCE) {
        al__cres_t *r = al__console_res(c, t->waiting_on);
        if (r) {
            if (r->waiters > 0)
                r->waiters--;
            if (acquired && ts >= t->waiting_since_ns) {
                if (al__hist_own(&r->wait_h))
                    al_histogram_record(r->wait_h, ts - t->waiting_since_ns);
            }
        }
    }
    t->waiting_kind = AL_WAIT_NONE;
    t->waiting_on = 0;
}

static void al__start_waiting(al_console_t *c, al__ctask_t *t, uint8_t kind, uint64_t id,
                              uint64_t ts)
{
    if (t->waiting_kind == kind && t->waiting_on == id)
        return; /* the same wait, registered again by a later poll */
    al__stop_waiting(c, t, ts, false);
    t->waiting_kind = kind;
    t->waiting_on = id;
    t->waiting_since_ns = ts;
    if (kind == AL_WAIT_TIMER)
        c->pending_timers++;
    if (kind == AL_WAIT_RESOURCE) {
        al__cres_t *r = al__res_for(c, id, ts, true);
        if (r)
            r->waiters++;
    }
}

static void al__task_finish(al_console_t *c, al__ctask_t *t, uint64_t ts)
{
    if (t->state == AL_TASK_DONE)
        return;
    al__queue_remove(c, t);
    al__stop_waiting(c, t, ts, false);
    al__task_set(t, AL_TASK_DONE, ts);
    t->ended_ns = ts;
    if (c->alive > 0)
        c->alive--;
    /* Retention: keep the last retain_done finished tasks. */
    uint32_t slot = al__slot_of(c, t);
    t->done_next = AL__NIL;
    if (c->done_tail != AL__NIL)
        c->tasks[c->done_tail].done_next = slot;
    else
        c->done_head = slot;
    c->done_tail = slot;
    if (++c->done_len > c->cfg.retain_done) {
        uint32_t old = c->done_head;
        c->done_head = c->tasks[old].done_next;
        if (c->done_head == AL__NIL)
            c->done_tail = AL__NIL;
        c->done_len--;
        al__task_release(c, old);
    }
}

static void al__res_drop(al_console_t *c, al__cres_t *r)
{
    if (r->dropped)
        return;
    r->dropped = true;
    uint32_t slot = (uint32_t)(r - c->res);
    r->drop_next = AL__NIL;
    if (c->dropped_tail != AL__NIL)
        c->res[c->dropped_tail].drop_next = slot;
    else
        c->dropped_head = slot;
    c->dropped_tail = slot;
    if (++c->dropped_len > c->cfg.retain_dropped) {
        uint32_t old = c->dropped_head;
        al__cres_t *o = &c->res[old];
        c->dropped_head = o->drop_next;
        if (c->dropped_head == AL__NIL)
            c->dropped_tail = AL__NIL;
        c->dropped_len--;
        al__idmap_del(&c->res_ids, o->id);
        al__hist_unref(o->wait_h);
        memset(o, 0, sizeof *o);
        o->drop_next = c->free_res;
        c->free_res = old;
    }
}

static void al__holder_add(al__cres_t *r, uint64_t task)
{
    if (r->holders < AL__MAX_HOLDERS)
        r->holder_ids[r->holders] = task;
    r->holders++;
}

static void al__holder_remove(al__cres_t *r, uint64_t task)
{
    if (r->holders == 0)
        return;
    uint32_t kept = r->holders < AL__MAX_HOLDERS ? r->holders : AL__MAX_HOLDERS;
    uint32_t i = 0;
    while (i < kept && r->holder_ids[i] != task)
        i++;
    if (i == kept)
        i = 0; /* released by another task (a guard moved): forget the oldest */
    if (i < kept) {
        memmove(&r->holder_ids[i], &r->holder_ids[i + 1], (kept - i - 1) * sizeof(uint64_t));
        r->holder_ids[kept - 1] = 0;
    }
    r->holders--;
}

static void al__record(al_histogram_t **h, uint64_t ns)
{
    if (al__hist_own(h))
        al_histogram_record(*h, ns);
}

/* ---- one event -------------------------------------------------------------------------- */

void al__console_header(al_console_t *c, const al_stream_header_t *h)
{
    c->header = *h;
    c->have_header = true;
    for (uint32_t i = 0; i < h->num_workers && i < 4096; i++)
        al__worker(c, (int16_t)i);
}

static void al__on_poll_begin(al_console_t *c, al__ctask_t *t, al__cworker_t *w,
                              const al_trace_event_t *ev)
{
    uint64_t ts = ev->ts_ns;
    if (t->state == AL_TASK_SCHEDULED && ts >= t->state_since_ns)
        al__record(&t->sched_h, ts - t->state_since_ns);
    al__queue_remove(c, t);
    al__task_set(t, AL_TASK_RUNNING, ts);
    if (t->polls++ == 0)
        t->first_poll_ns = ts;
    t->poll_begin_ns = t->last_poll_ns = ts;
    t->worker = ev->worker;
    t->notified = false;
    if (w) {
        w->polls++;
        w->current = t->id;
        al__worker_set(w, AL_WORKER_RUNNING, ts);
    }
}

static void al__on_poll_end(al_console_t *c, al__ctask_t *t, al__cworker_t *w,
                            const al_trace_event_t *ev)
{
    uint64_t ts = ev->ts_ns;
    if (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED) {
        uint64_t d = ts >= t->poll_begin_ns ? ts - t->poll_begin_ns : 0;
        t->busy_ns += d;
        al__record(&t->poll_h, d);
        if (w)
            w->busy_ns += d;
    }
    if (w && w->current == t->id) {
        w->current = 0;
        al__worker_set(w, AL_WORKER_IDLE, ts);
    }
    if (ev->a == AL_POLL_END_PENDING) {
        /* Out of coop budget and woken by its own yield: the runtime made
         * it yield, the task did not ask to. */
        if (ev->b == 0 && t->notified && t->last_wake_source == AL_WAKE_YIELD)
            t->forced_yields++;
        al__task_set(t, AL_TASK_IDLE, ts);
        if (t->waiting_kind == AL_WAIT_RESOURCE) {
            al__cres_t *r = al__console_res(c, t->waiting_on);
            if (!r || r->dropped || r->closed)
                al__stop_waiting(c, t, ts, false); /* woken by a close: not waiting */
        }
    } else {
        al__task_finish(c, t, ts);
    }
}

static void al__on_schedule(al_console_t *c, al__ctask_t *t, const al_trace_event_t *ev)
{
    uint64_t ts = ev->ts_ns;
    if (t->state == AL_TASK_DONE)
        return;
    if (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED) {
        t->notified = true;
        return;
    }
    if (t->state != AL_TASK_SCHEDULED)
        al__task_set(t, AL_TASK_SCHEDULED, ts);
    t->queue = (uint8_t)ev->a;
    al__cworker_t *w = al__worker(c, ev->worker);
    switch (ev->a) {
    case AL_QUEUE_LIFO:
        if (w) {
            uint32_t prev = w->lifo;
            al__queue_remove(c, t);
            if (prev != AL__NIL && prev != al__slot_of(c, t)) {
                c->tasks[prev].in_lifo = false;
                c->tasks[prev].queue_owner = AL__Q_NONE;
                al__queue_push(c, &c->tasks[prev], ev->worker); /* displaced to local */
            }
            w->lifo = al__slot_of(c, t);
            t->in_lifo = true;
            t->queue_owner = ev->worker;
            break;
        }
        al__queue_push(c, t, AL__Q_INJECT);
        break;
    case AL_QUEUE_LOCAL:
    case AL_QUEUE_CURRENT:
        al__queue_push(c, t, w ? ev->worker : (c->num_workers ? 0 : AL__Q_INJECT));
        break;
    case AL_QUEUE_BLOCKING:
        al__queue_push(c, t, AL__Q_BLOCKING);
        break;
    default:
        al__queue_push(c, t, AL__Q_INJECT);
        break;
    }
}

void al__console_apply(al_console_t *c, const al_trace_event_t *ev)
{
    uint64_t ts = ev->ts_ns;
    if (c->events++ == 0)
        c->start_ns = ts;
    if (ts > c->last_ns)
        c->last_ns = ts;
    al__cworker_t *w = al__worker(c, ev->worker);
    al__ctask_t *t;
    al__cres_t *r;
    switch (ev->kind) {
    case AL_EV_TASK_SPAWN:
        if (al__console_task(c, ev->task))
            break; /* already seen through an earlier reference */
        if ((t = al__task_new(c, ev->task, ts))) {
            t->parent = ev->a;
            t->kind = (uint8_t)ev->b;
            t->name = ev->str;
            t->seen_spawn = true;
            c->spawned++;
        }
        break;
    case AL_EV_TASK_SPAWN_LOCATION:
        if ((t = al__task_for(c, ev->task, ts, false)))
            t->loc = ev->str;
        break;
    case AL_EV_TASK_SCHEDULE:
        if ((t = al__task_for(c, ev->task, ts, true)))
            al__on_schedule(c, t, ev);
        break;
    case AL_EV_POLL_BEGIN:
        if ((t = al__task_for(c, ev->task, ts, true)))
            al__on_poll_begin(c, t, w, ev);
        break;
    case AL_EV_POLL_END:
        if ((t = al__task_for(c, ev->task, ts, false)))
            al__on_poll_end(c, t, w, ev);
        break;
    case AL_EV_TASK_END:
        if ((t = al__task_for(c, ev->task, ts, false))) {
            t->end = (uint8_t)ev->a;
            t->panic = ev->str;
            if (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED)
                t->busy_ns += ts >= t->poll_begin_ns ? ts - t->poll_begin_ns : 0;
            al__task_finish(c, t, ts);
        }
        break;
    case AL_EV_WAKE:
        if ((t = al__task_for(c, ev->task, ts, false))) {
            t->wakes++;
            t->self_wakes += (ev->b >> 16) & 1;
            t->last_woken_ns = ts;
            t->last_wake_source = (uint8_t)(ev->b & 0xffff);
            if (!((ev->b >> 17) & 1))
                t->wakers_alive--; /* woken by value: the waker is consumed */
            /* A schedule follows (after the poll, if running); until then
             * the task is not "idle with no waker". */
            t->notified = true;
        }
        break;
    case AL_EV_WAKER_CLONE:
        if ((t = al__task_for(c, ev->task, ts, false))) {
            t->clones++;
            t->wakers_alive++;
        }
        break;
    case AL_EV_WAKER_DROP:
        if ((t = al__task_for(c, ev->task, ts, false))) {
            t->drops++;
            t->wakers_alive--;
        }
        break;
    case AL_EV_STEAL:
        if (w) {
            w->steals++;
            w->stolen_tasks += ev->b;
            if (ev->a < c->num_workers)
                al__queue_move(c, (int16_t)ev->a, ev->worker, ev->b);
        }
        break;
    case AL_EV_OVERFLOW:
        if (w) {
            w->overflows++;
            al__queue_move(c, ev->worker, AL__Q_INJECT, ev->a);
        }
        break;
    case AL_EV_SEARCH_BEGIN:
        al__worker_set(w, AL_WORKER_SEARCHING, ts);
        break;
    case AL_EV_SEARCH_END:
        if (w && w->state == AL_WORKER_SEARCHING)
            al__worker_set(w, AL_WORKER_IDLE, ts);
        break;
    case AL_EV_PARK:
        if (w) {
            w->parks++;
            al__worker_set(w, ev->a ? AL_WORKER_PARKED_DRIVER : AL_WORKER_PARKED, ts);
        }
        break;
    case AL_EV_UNPARK:
        al__worker_set(w, AL_WORKER_IDLE, ts);
        break;
    case AL_EV_BLOCK_BEGIN:
        if (w) {
            w->block_kind = (uint8_t)ev->a;
            w->block_detail = ev->b;
            al__worker_set(w, AL_WORKER_BLOCKED, ts);
        }
        if ((t = al__task_for(c, ev->task, ts, false)) && t->state == AL_TASK_RUNNING) {
            t->state = AL_TASK_BLOCKED; /* still inside its poll: busy time goes on */
            t->block_kind = (uint8_t)ev->a;
        }
        break;
    case AL_EV_BLOCK_END:
        if (w && w->state == AL_WORKER_BLOCKED)
            al__worker_set(w, w->current ? AL_WORKER_RUNNING : AL_WORKER_IDLE, ts);
        if ((t = al__task_for(c, ev->task, ts, false)) && t->state == AL_TASK_BLOCKED)
            t->state = AL_TASK_RUNNING;
        break;
    case AL_EV_BLOCKING_THREAD_START:
        c->blocking_threads++;
        break;
    case AL_EV_BLOCKING_THREAD_EXIT:
        if (c->blocking_threads > 0)
            c->blocking_threads--;
        if (ev->a < c->num_blocking_slots)
            c->blocking_running[ev->a] = 0;
        break;
    case AL_EV_BLOCKING_RUN:
        if (ev->a < (1u << 20) && ev->a >= c->num_blocking_slots) {
            uint32_t n = (uint32_t)ev->a + 16;
            uint64_t *grown = realloc(c->blocking_running, n * sizeof *grown);
            if (grown) {
                memset(grown + c->num_blocking_slots, 0,
                       (n - c->num_blocking_slots) * sizeof *grown);
                c->blocking_running = grown;
                c->num_blocking_slots = n;
            }
        }
        if (ev->a < c->num_blocking_slots)
            c->blocking_running[ev->a] = ev->task;
        break;
    case AL_EV_TIMER_REGISTER:
        if ((t = al__task_for(c, ev->task, ts, false))) {
            al__start_waiting(c, t, AL_WAIT_TIMER, ev->a, ts);
            t->timer_deadline_ns = ev->b;
        }
        break;
    case AL_EV_TIMER_FIRE:
    case AL_EV_TIMER_CANCEL:
        if ((t = al__task_for(c, ev->task, ts, false)) && t->waiting_kind == AL_WAIT_TIMER &&
            t->waiting_on == ev->a)
            al__stop_waiting(c, t, ts, false);
        break;
    case AL_EV_IO_READY:
        if ((r = al__res_for(c, ev->a, ts, false)))
            r->ops++;
        break;
    case AL_EV_RESOURCE_CREATE:
        if ((r = al__res_for(c, ev->a, ts, true))) {
            r->creator = ev->task;
            r->kind = (uint8_t)ev->b;
            r->name = ev->str;
        }
        break;
    case AL_EV_RESOURCE_DROP:
        if ((r = al__res_for(c, ev->a, ts, false)))
            al__res_drop(c, r);
        break;
    case AL_EV_LOCK_CONTEND:
        if ((t = al__task_for(c, ev->task, ts, false)))
            al__start_waiting(c, t, AL_WAIT_RESOURCE, ev->a, ts);
        if (ev->b && (r = al__res_for(c, ev->a, ts, true)) && r->holders == 0)
            al__holder_add(r, ev->b); /* the holder, if the acquire predates us */
        break;
    case AL_EV_LOCK_ACQUIRE:
    case AL_EV_SEM_ACQUIRE:
        if ((t = al__task_for(c, ev->task, ts, false)) && t->waiting_kind == AL_WAIT_RESOURCE &&
            t->waiting_on == ev->a)
            al__stop_waiting(c, t, ts, true);
        if ((r = al__res_for(c, ev->a, ts, true))) {
            r->ops++;
            al__holder_add(r, ev->task);
        }
        break;
    case AL_EV_LOCK_RELEASE:
    case AL_EV_SEM_RELEASE:
        if ((r = al__res_for(c, ev->a, ts, false))) {
            r->ops++;
            al__holder_remove(r, ev->task);
        }
        break;
    case AL_EV_CHAN_SEND:
    case AL_EV_CHAN_RECV:
        if ((t = al__task_for(c, ev->task, ts, false)) && t->waiting_kind == AL_WAIT_RESOURCE &&
            t->waiting_on == ev->a)
            al__stop_waiting(c, t, ts, true);
        if ((r = al__res_for(c, ev->a, ts, true))) {
            r->ops++;
            r->queue_len = ev->b;
            if (ev->b > r->queue_max)
                r->queue_max = ev->b;
        }
        break;
    case AL_EV_CHAN_FULL:
    case AL_EV_CHAN_EMPTY:
        if ((t = al__task_for(c, ev->task, ts, false)))
            al__start_waiting(c, t, AL_WAIT_RESOURCE, ev->a, ts);
        break;
    case AL_EV_CHAN_CLOSE:
        if ((r = al__res_for(c, ev->a, ts, false)))
            r->closed = true;
        break;
    default:
        break; /* runtime start / shutdown, lints, annotations: nothing to model */
    }
}

/* ---- the consumer ------------------------------------------------------------------------- */

static void al__console_on_header(void *self, const al_stream_header_t *h)
{
    al_console_t *c = self;
    pthread_mutex_lock(&c->lock);
    al__console_header(c, h);
    pthread_mutex_unlock(&c->lock);
}

static void al__console_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_console_t *c = self;
    pthread_mutex_lock(&c->lock);
    al__console_string(c, id, s, len);
    pthread_mutex_unlock(&c->lock);
}

static void al__console_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_console_t *c = self;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        if (c->cfg.stop_at_ns && ev[i].ts_ns > c->cfg.stop_at_ns)
            break;
        al__console_apply(c, &ev[i]);
    }
    pthread_mutex_unlock(&c->lock);
}

static void al__console_on_drops(void *self, uint16_t thread, uint64_t total)
{
    al_console_t *c = self;
    pthread_mutex_lock(&c->lock);
    if (thread >= c->num_drop_threads) {
        uint32_t n = (uint32_t)thread + 8;
        uint64_t *grown = realloc(c->drops_by_thread, n * sizeof *grown);
        if (grown) {
            memset(grown + c->num_drop_threads, 0, (n - c->num_drop_threads) * sizeof *grown);
            c->drops_by_thread = grown;
            c->num_drop_threads = n;
        }
    }
    if (thread < c->num_drop_threads && total > c->drops_by_thread[thread]) {
        c->dropped += total - c->drops_by_thread[thread];
        c->drops_by_thread[thread] = total;
    }
    pthread_mutex_unlock(&c->lock);
}

const al_stream_consumer_t al_console_consumer = {
    .on_header = al__console_on_header,
    .on_string = al__console_on_string,
    .on_events = al__console_on_events,
    .on_drops = al__console_on_drops,
};

int al_console_new(const al_console_config_t *cfg, al_console_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_console_t *c = calloc(1, sizeof *c);
    if (!c)
        return AL_ENOMEM;
    if (cfg)
        c->cfg = *cfg;
    if (!c->cfg.retain_done)
        c->cfg.retain_done = 4096;
    if (!c->cfg.retain_dropped)
        c->cfg.retain_dropped = 1024;
    pthread_mutex_init(&c->lock, NULL);
    c->free_task = c->free_res = AL__NIL;
    c->done_head = c->done_tail = c->dropped_head = c->dropped_tail = AL__NIL;
    c->inject = c->blocking_queue = (al__cqueue_t){AL__NIL, AL__NIL, 0};
    *out = c;
    return 0;
}

void al_console_free(al_console_t *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->num_strings; i++)
        free(c->strings[i]);
    free(c->strings);
    for (uint32_t i = 0; i < c->num_task_slots; i++) {
        al__hist_unref(c->tasks[i].poll_h);
        al__hist_unref(c->tasks[i].sched_h);
    }
    for (uint32_t i = 0; i < c->num_res_slots; i++)
        al__hist_unref(c->res[i].wait_h);
    free(c->tasks);
    free(c->res);
    free(c->workers);
    free(c->blocking_running);
    free(c->drops_by_thread);
    al__idmap_free(&c->task_ids);
    al__idmap_free(&c->res_ids);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool al_console_task_histogram(al_console_t *c, uint64_t task, bool scheduled, al_histogram_t *out)
{
    pthread_mutex_lock(&c->lock);
    al__ctask_t *t = al__console_task(c, task);
    if (t) {
        al_histogram_t *h = scheduled ? t->sched_h : t->poll_h;
        if (h)
            *out = *h;
        else
            al_histogram_reset(out);
    }
    pthread_mutex_unlock(&c->lock);
    return t != NULL;
}

int al_console_task_state(al_console_t *c, uint64_t task)
{
    pthread_mutex_lock(&c->lock);
    al__ctask_t *t = al__console_task(c, task);
    int state = t ? t->state : -1;
    pthread_mutex_unlock(&c->lock);
    return state;
}
