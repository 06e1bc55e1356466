/*
 * viz_motion.c — the motion log (see viz_motion.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_future.h"
#include "viz_motion.h"

/* Where each task was last scheduled: a direct-mapped cache (a miss only
 * makes a chip start from the polling worker's own queue). */
#define VIZ__PLACES 8192
#define VIZ__MAX_BLOCKING 1024
#define VIZ__MAX_WORKERS 1024

typedef struct {
    uint64_t task;
    uint8_t where;
    int16_t worker;
} viz__place_t;

typedef struct {
    uint64_t task;
    bool alive;
} viz__bthread_t;

struct viz_motion_log {
    viz_motion_t ring[VIZ_MOTION_RING];
    uint64_t written; /* motions ever added */
    viz__place_t places[VIZ__PLACES];
    viz__bthread_t *blocking;
    uint32_t num_blocking;
    uint64_t lifo[VIZ__MAX_WORKERS]; /* each worker's LIFO occupant */
};

int viz_motion_log_new(viz_motion_log_t **out)
{
    viz_motion_log_t *m = calloc(1, sizeof *m);
    if (!m)
        return AL_ENOMEM;
    *out = m;
    return 0;
}

void viz_motion_log_free(viz_motion_log_t *m)
{
    if (!m)
        return;
    free(m->blocking);
    free(m);
}

int viz_motion_log_clone(const viz_motion_log_t *m, viz_motion_log_t **out)
{
    viz_motion_log_t *c = malloc(sizeof *c);
    if (!c)
        return AL_ENOMEM;
    *c = *m;
    c->blocking = NULL;
    if (m->num_blocking) {
        c->blocking = malloc(m->num_blocking * sizeof *c->blocking);
        if (!c->blocking) {
            free(c);
            return AL_ENOMEM;
        }
        memcpy(c->blocking, m->blocking, m->num_blocking * sizeof *c->blocking);
    }
    *out = c;
    return 0;
}

size_t viz_motion_log_memory(const viz_motion_log_t *m)
{
    return sizeof *m + m->num_blocking * sizeof *m->blocking;
}

static void viz__add(viz_motion_log_t *m, const viz_motion_t *mv)
{
    m->ring[m->written++ % VIZ_MOTION_RING] = *mv;
}

static viz__place_t *viz__place(viz_motion_log_t *m, uint64_t task)
{
    return &m->places[task % VIZ__PLACES];
}

static viz__bthread_t *viz__bthread(viz_motion_log_t *m, uint64_t number)
{
    if (number >= VIZ__MAX_BLOCKING)
        return NULL;
    if (number >= m->num_blocking) {
        uint32_t n = (uint32_t)number + 8;
        viz__bthread_t *grown = realloc(m->blocking, n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + m->num_blocking, 0, (n - m->num_blocking) * sizeof *grown);
        m->blocking = grown;
        m->num_blocking = n;
    }
    return &m->blocking[number];
}

static uint8_t viz__where_of_queue(uint64_t queue)
{
    switch (queue) {
    case AL_QUEUE_LIFO:
        return VIZ_WHERE_LIFO;
    case AL_QUEUE_LOCAL:
        return VIZ_WHERE_LOCAL;
    case AL_QUEUE_BLOCKING:
        return VIZ_WHERE_BLOCKING;
    case AL_QUEUE_CURRENT:
        return VIZ_WHERE_CURRENT;
    default:
        return VIZ_WHERE_INJECT;
    }
}

static void viz__apply(viz_motion_log_t *m, const al_trace_event_t *ev)
{
    viz_motion_t mv = {.ts_ns = ev->ts_ns, .from_worker = -1, .worker = ev->worker};
    viz__place_t *p;
    viz__bthread_t *b;
    switch (ev->kind) {
    case AL_EV_TASK_SCHEDULE:
        p = viz__place(m, ev->task);
        p->task = ev->task;
        p->where = viz__where_of_queue(ev->a);
        /* A LIFO or local push from a non-worker thread lands in the inject
         * queue (al_console.h does the same). */
        p->worker = ev->worker;
        if (ev->worker < 0 && (p->where == VIZ_WHERE_LIFO || p->where == VIZ_WHERE_LOCAL))
            p->where = VIZ_WHERE_INJECT;
        if (p->where == VIZ_WHERE_LIFO && ev->worker < VIZ__MAX_WORKERS) {
            /* The previous occupant moves to the back of the local queue. */
            uint64_t prev = m->lifo[ev->worker];
            viz__place_t *pp = viz__place(m, prev);
            if (prev && prev != ev->task && pp->task == prev && pp->where == VIZ_WHERE_LIFO)
                pp->where = VIZ_WHERE_LOCAL;
            m->lifo[ev->worker] = ev->task;
        }
        break;
    case AL_EV_POLL_BEGIN:
        if (ev->worker < 0)
            break; /* a blocking-pool thread or a block_on caller */
        p = viz__place(m, ev->task);
        mv.kind = VIZ_MOTION_POLL;
        mv.task = ev->task;
        if (ev->worker < VIZ__MAX_WORKERS && m->lifo[ev->worker] == ev->task)
            m->lifo[ev->worker] = 0;
        if (p->task == ev->task && p->where != VIZ_WHERE_NONE) {
            mv.from = p->where;
            mv.from_worker = p->worker;
            /* In another worker's queue when last seen: a steal brought it
             * into this worker's local queue since. */
            if ((mv.from == VIZ_WHERE_LIFO || mv.from == VIZ_WHERE_LOCAL) &&
                mv.from_worker != ev->worker) {
                mv.from = VIZ_WHERE_LOCAL;
                mv.from_worker = ev->worker;
            }
        } else {
            mv.from = VIZ_WHERE_LOCAL;
            mv.from_worker = ev->worker;
        }
        p->where = VIZ_WHERE_NONE;
        viz__add(m, &mv);
        break;
    case AL_EV_STEAL:
        mv.kind = VIZ_MOTION_STEAL;
        mv.from = VIZ_WHERE_LOCAL;
        mv.from_worker = (int16_t)(ev->a < 32768 ? ev->a : 0);
        mv.count = (uint32_t)ev->b;
        viz__add(m, &mv);
        break;
    case AL_EV_OVERFLOW:
        mv.kind = VIZ_MOTION_OVERFLOW;
        mv.from = VIZ_WHERE_LOCAL;
        mv.from_worker = ev->worker;
        mv.count = (uint32_t)ev->a;
        viz__add(m, &mv);
        break;
    case AL_EV_WAKE:
        mv.kind = VIZ_MOTION_WAKE;
        mv.task = ev->task;
        mv.waker = ev->a;
        mv.wake_src = (uint8_t)(ev->b & 0xff);
        if (mv.wake_src == AL_WAKE_TIMER || mv.wake_src == AL_WAKE_IO) {
            mv.from = VIZ_WHERE_DRIVER;
            mv.from_worker = ev->worker;
        } else if (ev->worker >= 0) {
            mv.from = VIZ_WHERE_WORKER;
            mv.from_worker = ev->worker;
        } else {
            mv.from = VIZ_WHERE_OUTSIDE;
        }
        viz__add(m, &mv);
        break;
    case AL_EV_BLOCKING_THREAD_START:
        if ((b = viz__bthread(m, ev->a))) {
            b->alive = true;
            b->task = 0;
        }
        break;
    case AL_EV_BLOCKING_THREAD_EXIT:
        if ((b = viz__bthread(m, ev->a))) {
            b->alive = false;
            b->task = 0;
        }
        break;
    case AL_EV_BLOCKING_RUN:
        if ((b = viz__bthread(m, ev->a))) {
            b->alive = true; /* its start may predate the recording */
            b->task = ev->task;
        }
        break;
    case AL_EV_TASK_END:
        for (uint32_t i = 0; i < m->num_blocking; i++)
            if (m->blocking[i].task == ev->task)
                m->blocking[i].task = 0;
        break;
    default:
        break;
    }
}

static void viz__on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        viz__apply(self, &ev[i]);
}

const al_stream_consumer_t viz_motion_consumer = {.on_events = viz__on_events};

size_t viz_motion_recent(const viz_motion_log_t *m, uint64_t after_ns, uint64_t until_ns,
                         viz_motion_t *out, size_t max)
{
    uint64_t kept = m->written < VIZ_MOTION_RING ? m->written : VIZ_MOTION_RING;
    /* Walk back from the newest to the oldest one inside the window. */
    uint64_t oldest = m->written - kept, first = m->written;
    size_t n = 0;
    while (first > oldest && n < max) {
        const viz_motion_t *mv = &m->ring[(first - 1) % VIZ_MOTION_RING];
        if (mv->ts_ns <= after_ns)
            break;
        first--;
        if (mv->ts_ns <= until_ns)
            n++;
    }
    size_t w = 0;
    for (uint64_t i = first; i < m->written && w < max; i++) {
        const viz_motion_t *mv = &m->ring[i % VIZ_MOTION_RING];
        if (mv->ts_ns > after_ns && mv->ts_ns <= until_ns)
            out[w++] = *mv;
    }
    return w;
}

uint32_t viz_motion_blocking_slots(const viz_motion_log_t *m)
{
    uint32_t n = m->num_blocking;
    while (n > 0 && !m->blocking[n - 1].alive)
        n--;
    return n;
}

int viz_motion_blocking_thread(const viz_motion_log_t *m, uint32_t number, uint64_t *task)
{
    if (number >= m->num_blocking) {
        *task = 0;
        return 0;
    }
    *task = m->blocking[number].task;
    return m->blocking[number].alive;
}
