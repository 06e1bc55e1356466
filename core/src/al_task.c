/*
 * al_task.c — the task cell: state transitions, polling, completion,
 * cancellation, task wakers, and the JoinHandle.
 *
 * Read al_task_internal.h first: it defines the state word and who owns
 * which reference. Every transition below is one CAS loop (or one fetch-op)
 * on that word, and the comment on each says which side owns what after it.
 */
#include <stdarg.h>
#include <string.h>

#include "al_runtime_internal.h"
#include "al_task_internal.h"

static atomic_uint_fast64_t al__task_ids = 1;

#define LOAD(t) atomic_load_explicit(&(t)->state, memory_order_acquire)
#define CAS(t, expp, want)                                                                         \
    atomic_compare_exchange_weak_explicit(&(t)->state, (expp), (want), memory_order_acq_rel,       \
                                          memory_order_acquire)

struct al_task *al__task_alloc(const al_future_vtable_t *vt, const void *init, al_task_kind_t kind)
{
    size_t fspan = al__task_future_span(vt);
    struct al_task *t = malloc(sizeof *t + fspan + vt->output_size);
    if (!t)
        return NULL;
    atomic_init(&t->state, 0);
    t->next = NULL;
    t->vt = vt;
    t->sched = NULL;
    t->id = atomic_fetch_add_explicit(&al__task_ids, 1, memory_order_relaxed);
    t->owned_index = 0;
    t->stage = AL__STAGE_RUNNING;
    t->kind = (uint8_t)kind;
    t->join_kind = AL_JOIN_OK;
    t->join_waker = AL_WAKER_NONE;
    if (vt->future_size)
        memcpy(t->data, init, vt->future_size);
    return t;
}

void al__task_discard(struct al_task *t)
{
    if (t->vt->drop)
        t->vt->drop(al__task_future(t));
    free(t);
}

void al__task_init_state(struct al_task *t, bool with_join)
{
    uint64_t refs = with_join ? 3 : 2;
    uint64_t s = AL__T_NOTIFIED | refs * AL__T_REF_ONE;
    if (with_join)
        s |= AL__T_JOIN_INTEREST;
    atomic_store_explicit(&t->state, s, memory_order_relaxed);
}

static char **al__task_panic_slot(struct al_task *t)
{
    return (char **)(void *)t->data;
}

static void al__task_dealloc(struct al_task *t)
{
    if (t->join_kind == AL_JOIN_PANIC)
        free(*al__task_panic_slot(t));
    al_waker_drop(&t->join_waker);
    free(t);
}

void al__task_ref_dec(struct al_task *t)
{
    uint64_t prev = atomic_fetch_sub_explicit(&t->state, AL__T_REF_ONE, memory_order_acq_rel);
    AL_EXPECT(AL__T_REF_COUNT(prev) >= 1);
    if (AL__T_REF_COUNT(prev) == 1)
        al__task_dealloc(t);
}

static void al__task_ref_inc(struct al_task *t)
{
    atomic_fetch_add_explicit(&t->state, AL__T_REF_ONE, memory_order_relaxed);
}

/* ---- completion ---------------------------------------------------------- */

/*
 * The runner (holding RUNNING) finishes the task: the future is already
 * dropped. Publish COMPLETE, then hand the output to the JoinHandle (wake it)
 * or drop it when nobody is interested, release the owned-set reference and
 * the runner's own.
 */
static void al__task_complete(struct al_task *t, al_join_kind_t how, const char *panic_msg)
{
    al_runtime_t *rt = t->sched->rt;
    t->join_kind = (uint8_t)how;
    t->stage = AL__STAGE_FINISHED;
    AL__EMIT(rt, AL_EV_TASK_END, t->id, how, 0, panic_msg);
    uint64_t prev =
        atomic_fetch_xor_explicit(&t->state, AL__T_RUNNING | AL__T_COMPLETE, memory_order_acq_rel);
    AL_EXPECT((prev & AL__T_RUNNING) && !(prev & AL__T_COMPLETE));
    if (!(prev & AL__T_JOIN_INTEREST)) {
        /* Nobody will read the output: drop it here. */
        if (how == AL_JOIN_OK && t->vt->drop_output)
            t->vt->drop_output(al__task_output(t));
        t->stage = AL__STAGE_CONSUMED;
    } else if (prev & AL__T_JOIN_WAKER) {
        al_waker_wake_by_ref(&t->join_waker, AL_WAKE_SRC(AL_WAKE_JOIN, t->id));
        /* Give the waker field back to the JoinHandle side; if the handle
         * went away meanwhile, nobody else will drop the waker. */
        uint64_t after =
            atomic_fetch_and_explicit(&t->state, ~AL__T_JOIN_WAKER, memory_order_acq_rel);
        if (!(after & AL__T_JOIN_INTEREST))
            al_waker_drop(&t->join_waker);
    }
    t->sched->vt->release(t->sched, t); /* returns the owned set's reference */
    /* Drop the owned reference and the runner's reference together. */
    uint64_t before = atomic_fetch_sub_explicit(&t->state, 2 * AL__T_REF_ONE, memory_order_acq_rel);
    if (AL__T_REF_COUNT(before) == 2)
        al__task_dealloc(t);
}

static void al__task_drop_future(struct al_task *t)
{
    if (t->vt->drop)
        t->vt->drop(al__task_future(t));
}

static void al__task_cancel(struct al_task *t)
{
    al_runtime_t *rt = t->sched->rt;
    if (rt && atomic_load_explicit(&rt->shutting_down, memory_order_relaxed))
        atomic_fetch_add_explicit(&rt->shutdown_cancelled, 1, memory_order_relaxed);
    AL__EMIT(rt, AL_EV_POLL_END, t->id, AL_POLL_END_CANCELLED, 0, NULL);
    struct al_task *saved = al__tls.task;
    al__tls.task = t; /* drop code (guards, permits) may look at the current task */
    al__task_drop_future(t);
    al__tls.task = saved;
    al__task_complete(t, AL_JOIN_CANCELLED, NULL);
}

/* ---- running --------------------------------------------------------------- */

void al__task_run(struct al_task *t)
{
    uint64_t s = LOAD(t);
    for (;;) {
        if (s & AL__T_COMPLETE) { /* cancelled at shutdown while queued */
            al__task_ref_dec(t);
            return;
        }
        AL_EXPECT((s & AL__T_NOTIFIED) && !(s & AL__T_RUNNING));
        uint64_t next = (s & ~AL__T_NOTIFIED) | AL__T_RUNNING;
        if (CAS(t, &s, next))
            break;
    }
    if (s & AL__T_CANCELLED) {
        al__task_cancel(t);
        return;
    }

    al_runtime_t *rt = t->sched->rt;
    al_context_t cx = {
        .waker = {.vtable = &al__task_waker_vtable, .data = t},
        .task = t,
        .rt = rt,
        .panic_msg = NULL,
    };
    struct al_task *saved = al__tls.task;
    al__tls.task = t;
    AL__EMIT(rt, AL_EV_POLL_BEGIN, t->id, 0, 0, NULL);
    al_poll_t r = t->vt->poll(al__task_future(t), &cx, al__task_output(t));
    al__tls.task = saved;

    if (r == AL_READY || r == AL_PANIC) {
        bool ok = r == AL_READY;
        AL__EMIT(rt, AL_EV_POLL_END, t->id, ok ? AL_POLL_END_READY : AL_POLL_END_PANICKED,
                 (uint64_t)al__tls.coop, cx.panic_msg);
        al__tls.task = t;
        al__task_drop_future(t);
        al__tls.task = saved;
        if (!ok)
            *al__task_panic_slot(t) = (char *)cx.panic_msg;
        al__task_complete(t, ok ? AL_JOIN_OK : AL_JOIN_PANIC, cx.panic_msg);
        return;
    }
    AL_EXPECT(r == AL_PENDING && !cx.panic_msg);
    AL__EMIT(rt, AL_EV_POLL_END, t->id, AL_POLL_END_PENDING, (uint64_t)al__tls.coop, NULL);

    /* Back to idle. If woken during the poll, our reference becomes the
     * queue's and the task goes to the back of the run queue. */
    s = LOAD(t);
    for (;;) {
        if (s & AL__T_CANCELLED) {
            /* abort() raced with the poll: we still hold RUNNING. Clear the
             * NOTIFIED that abort set, since nothing is queued for it. */
            atomic_fetch_and_explicit(&t->state, ~AL__T_NOTIFIED, memory_order_acq_rel);
            al__task_cancel(t);
            return;
        }
        uint64_t next = s & ~AL__T_RUNNING;
        if (CAS(t, &s, next))
            break;
    }
    if (s & AL__T_NOTIFIED)
        t->sched->vt->schedule(t->sched, t, true);
    else
        al__task_ref_dec(t);
}

void al__task_shutdown(struct al_task *t)
{
    uint64_t s = LOAD(t);
    for (;;) {
        if (s & (AL__T_COMPLETE | AL__T_CANCELLED))
            return;
        uint64_t next = s | AL__T_CANCELLED;
        bool take = !(s & AL__T_RUNNING);
        if (take)
            next |= AL__T_RUNNING;
        if (CAS(t, &s, next)) {
            if (take) {
                /* We now act as the runner, with a reference of our own. */
                al__task_ref_inc(t);
                al__task_cancel(t);
            }
            return;
        }
    }
}

/* ---- waking ------------------------------------------------------------------ */

static void al__task_emit_wake(struct al_task *t, al_wake_src_t src, bool by_ref)
{
    al_runtime_t *rt = t->sched->rt;
    if (AL_UNLIKELY(al__hooked(rt))) {
        uint64_t waker_id = al__current_task_id();
        uint64_t flags = src.kind | (uint64_t)(waker_id == t->id) << 16 | (uint64_t)by_ref << 17;
        al__emit(rt, AL_EV_WAKE, t->id, waker_id, flags, NULL);
    }
}

void al__task_wake_by_ref(struct al_task *t, al_wake_src_t src)
{
    uint64_t s = LOAD(t);
    for (;;) {
        if (s & (AL__T_COMPLETE | AL__T_NOTIFIED))
            return;
        uint64_t next = s | AL__T_NOTIFIED;
        bool queue = !(s & AL__T_RUNNING);
        if (queue)
            next += AL__T_REF_ONE; /* the queue's reference */
        if (CAS(t, &s, next)) {
            al__task_emit_wake(t, src, true);
            if (queue)
                t->sched->vt->schedule(t->sched, t, src.kind == AL_WAKE_YIELD);
            return;
        }
    }
}

/* Wake by value: the waker's own reference becomes the queue's, or is dropped. */
static void al__task_wake_by_val(struct al_task *t, al_wake_src_t src)
{
    uint64_t s = LOAD(t);
    for (;;) {
        if (s & (AL__T_COMPLETE | AL__T_NOTIFIED)) {
            /* Nothing to do, but the waker is consumed: say so, or the
             * console model would count it alive forever. */
            AL__EMIT(t->sched->rt, AL_EV_WAKER_DROP, t->id, 0, 0, NULL);
            al__task_ref_dec(t);
            return;
        }
        uint64_t next = s | AL__T_NOTIFIED;
        bool queue = !(s & AL__T_RUNNING);
        if (!queue)
            next -= AL__T_REF_ONE; /* the runner holds a reference, so this is not the last */
        if (CAS(t, &s, next)) {
            al__task_emit_wake(t, src, false);
            if (queue)
                t->sched->vt->schedule(t->sched, t, src.kind == AL_WAKE_YIELD);
            return;
        }
    }
}

static void *al__tw_clone(void *data)
{
    struct al_task *t = data;
    al__task_ref_inc(t);
    AL__EMIT(t->sched->rt, AL_EV_WAKER_CLONE, t->id, 0, 0, NULL);
    return t;
}
static void al__tw_wake(void *data, al_wake_src_t src)
{
    al__task_wake_by_val(data, src);
}
static void al__tw_wake_by_ref(void *data, al_wake_src_t src)
{
    al__task_wake_by_ref(data, src);
}
static void al__tw_drop(void *data)
{
    struct al_task *t = data;
    AL__EMIT(t->sched->rt, AL_EV_WAKER_DROP, t->id, 0, 0, NULL);
    al__task_ref_dec(t);
}

const al_waker_vtable_t al__task_waker_vtable = {
    al__tw_clone,
    al__tw_wake,
    al__tw_wake_by_ref,
    al__tw_drop,
};

void al__task_note_forced_yield(al_context_t *cx)
{
    if (cx->rt)
        al__runtime_count_forced_yield(cx->rt);
}

uint64_t al__current_task_id(void)
{
    return al__tls.task ? al__tls.task->id : 0;
}
uint64_t al_task_current_id(void)
{
    return al__current_task_id();
}

/* ---- JoinHandle ------------------------------------------------------------ */

/* The task is COMPLETE and we hold JOIN_INTEREST: the output is ours. */
static al_poll_t al__join_take(al_join_t *t, void *out, al_join_result_t *res)
{
    res->kind = (al_join_kind_t)t->join_kind;
    res->panic_msg = t->join_kind == AL_JOIN_PANIC ? *al__task_panic_slot(t) : NULL;
    res->err = 0;
    if (t->stage == AL__STAGE_CONSUMED) {
        res->err = AL_EJOINED;
        return AL_READY;
    }
    if (t->join_kind == AL_JOIN_OK) {
        if (out)
            memcpy(out, al__task_output(t), t->vt->output_size);
        else if (t->vt->drop_output)
            t->vt->drop_output(al__task_output(t));
    }
    t->stage = AL__STAGE_CONSUMED;
    return AL_READY;
}

bool al__join_set_waker(al_join_t *t, const al_waker_t *waker)
{
    uint64_t s = LOAD(t);
    if (s & AL__T_COMPLETE)
        return true;
    if (s & AL__T_JOIN_WAKER) {
        if (al_waker_will_wake(&t->join_waker, waker))
            return false;
        /* Take the field back to replace the waker. */
        for (;;) {
            if (s & AL__T_COMPLETE)
                return true;
            if (CAS(t, &s, s & ~AL__T_JOIN_WAKER))
                break;
        }
    }
    /* We own join_waker: store a clone, then publish it. */
    al_waker_set(&t->join_waker, waker);
    s = LOAD(t);
    for (;;) {
        if (s & AL__T_COMPLETE)
            return true;
        if (CAS(t, &s, s | AL__T_JOIN_WAKER))
            return false;
    }
}

al_poll_t al_join_poll(al_join_t *t, al_context_t *cx, void *out, al_join_result_t *res)
{
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    if (al__join_set_waker(t, &cx->waker))
        return al__join_take(t, out, res);
    al_coop_refund();
    return AL_PENDING;
}

void al_join_abort(al_join_t *t)
{
    uint64_t s = LOAD(t);
    for (;;) {
        if (s & (AL__T_COMPLETE | AL__T_CANCELLED))
            return;
        uint64_t next = s | AL__T_CANCELLED;
        bool queue = !(s & (AL__T_RUNNING | AL__T_NOTIFIED));
        if (queue)
            next |= AL__T_NOTIFIED, next += AL__T_REF_ONE;
        else if (s & AL__T_RUNNING)
            next |= AL__T_NOTIFIED;
        if (CAS(t, &s, next)) {
            if (queue)
                t->sched->vt->schedule(t->sched, t, true);
            return;
        }
    }
}

bool al_join_is_finished(const al_join_t *t)
{
    return atomic_load_explicit(&((al_join_t *)t)->state, memory_order_acquire) & AL__T_COMPLETE;
}

uint64_t al_join_id(const al_join_t *t)
{
    return t->id;
}

void al_join_drop(al_join_t *t)
{
    uint64_t s = LOAD(t);
    uint64_t next;
    for (;;) {
        next = s & ~AL__T_JOIN_INTEREST;
        if (!(s & AL__T_COMPLETE))
            next &= ~AL__T_JOIN_WAKER;
        if (CAS(t, &s, next))
            break;
    }
    if (s & AL__T_COMPLETE) {
        /* The output is ours and nobody took it. */
        if (t->stage != AL__STAGE_CONSUMED && t->join_kind == AL_JOIN_OK && t->vt->drop_output)
            t->vt->drop_output(al__task_output(t));
        t->stage = AL__STAGE_CONSUMED;
    }
    if (!(next & AL__T_JOIN_WAKER))
        al_waker_drop(&t->join_waker);
    al__task_ref_dec(t);
}

/* ---- yield_now ------------------------------------------------------------------ */

al_poll_t al_yield_poll(al_yield_t *y, al_context_t *cx)
{
    if (y->yielded)
        return AL_READY;
    y->yielded = 1;
    if (!al__mt_defer(cx))
        al_waker_wake_by_ref(&cx->waker, AL_WAKE_SRC(AL_WAKE_YIELD, 0));
    return AL_PENDING;
}
