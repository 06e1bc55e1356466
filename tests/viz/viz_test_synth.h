/*
 * viz_test_synth.h — a synthetic event stream of any length, shaped like a
 * busy multi-thread runtime: tasks spawned, scheduled (LIFO, local, inject),
 * polled, woken by each other and by timers, finishing (a few panic);
 * workers searching, stealing, parking, overflowing, blocking in
 * std.thread.sleep; a mutex contended, a channel used; lints firing; a
 * blocking-pool thread running spawn_blocking tasks. Deterministic for a
 * seed. Used by the seek tests (tests/viz/test_seek.c) and the seek
 * benchmark (tests/bench/viz_seek_bench.c), which need millions of events
 * faster than a real runtime makes them.
 *
 *   viz_recording_t *r; viz_recording_new(&r);
 *   vsyn_generate(r, 10000000, 8, 42);
 */
#ifndef VIZ_TEST_SYNTH_H
#define VIZ_TEST_SYNTH_H

#include <stdint.h>
#include <string.h>

#include "asynclab.h"
#include "viz_recording.h"

#define VSYN_LIVE 512 /* tasks alive at once */
#define VSYN_BATCH 4096
#define VSYN_POOL (-2) /* the "worker" of events on the blocking pool's thread */

typedef struct {
    viz_recording_t *rec;
    uint64_t rng, ts, next_task;
    uint32_t workers;
    uint64_t live[VSYN_LIVE];
    al_trace_event_t buf[VSYN_BATCH];
    size_t nbuf, left;
} vsyn_t;

static inline uint64_t vsyn_rand(vsyn_t *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static inline void vsyn_flush(vsyn_t *g)
{
    if (g->nbuf)
        viz_recording_consumer.on_events(g->rec, g->buf, g->nbuf);
    g->nbuf = 0;
}

static inline void vsyn_ev(vsyn_t *g, al_event_kind_t kind, int worker, uint64_t task, uint64_t a,
                           uint64_t b, uint32_t str)
{
    if (g->left == 0)
        return;
    g->left--;
    g->ts += 50 + vsyn_rand(g) % 400;
    g->buf[g->nbuf++] =
        (al_trace_event_t){.ts_ns = g->ts,
                           .task = task,
                           .a = a,
                           .b = b,
                           .str = str,
                           .kind = (uint16_t)kind,
                           .thread = (uint16_t)(worker >= 0           ? (uint32_t)worker
                                                : worker == VSYN_POOL ? g->workers
                                                                      : g->workers + 1),
                           .worker = (int16_t)(worker >= 0 ? worker : -1)};
    if (g->nbuf == VSYN_BATCH)
        vsyn_flush(g);
}

static inline uint64_t vsyn_spawn(vsyn_t *g, int worker, uint64_t parent)
{
    uint64_t t = g->next_task++;
    vsyn_ev(g, AL_EV_TASK_SPAWN, worker, t, parent, AL_TASK_ASYNC, 1 + (uint32_t)(t % 4));
    vsyn_ev(g, AL_EV_TASK_SCHEDULE, worker, t, worker >= 0 ? AL_QUEUE_LOCAL : AL_QUEUE_INJECT, 0,
            0);
    return t;
}

/* One poll of a live task on worker w, with what may happen inside it. */
static inline void vsyn_poll(vsyn_t *g, int w)
{
    size_t slot = vsyn_rand(g) % VSYN_LIVE;
    uint64_t t = g->live[slot], r = vsyn_rand(g);
    vsyn_ev(g, AL_EV_POLL_BEGIN, w, t, 0, 0, 0);
    if (r % 7 == 0) { /* wakes another task: it goes to this worker's LIFO slot */
        uint64_t o = g->live[vsyn_rand(g) % VSYN_LIVE];
        if (o != t) {
            vsyn_ev(g, AL_EV_WAKE, w, o, t, AL_WAKE_TASK | 1u << 17, 0);
            vsyn_ev(g, AL_EV_TASK_SCHEDULE, w, o, AL_QUEUE_LIFO, 0, 0);
        }
    }
    if (r % 11 == 0) { /* the mutex */
        vsyn_ev(g, AL_EV_LOCK_CONTEND, w, t, 1, 0, 0);
        vsyn_ev(g, AL_EV_LOCK_ACQUIRE, w, t, 1, 0, 0);
        vsyn_ev(g, AL_EV_LOCK_RELEASE, w, t, 1, 0, 0);
    }
    if (r % 13 == 0)
        vsyn_ev(g, AL_EV_CHAN_SEND, w, t, 2, r % 5, 0);
    if (r % 17 == 0)
        vsyn_ev(g, AL_EV_TIMER_REGISTER, w, t, r % 1000 + 1, g->ts + 1000000, 0);
    if (r % 251 == 0) { /* std.thread.sleep inside the poll */
        vsyn_ev(g, AL_EV_BLOCK_BEGIN, w, t, AL_BLOCK_THREAD_SLEEP, 5, 0);
        g->ts += 20000;
        vsyn_ev(g, AL_EV_BLOCK_END, w, t, AL_BLOCK_THREAD_SLEEP, 0, 0);
    }
    if (r % 5 == 0) { /* done: replaced by a new task */
        bool panic = r % 503 == 0;
        vsyn_ev(g, AL_EV_POLL_END, w, t, panic ? AL_POLL_END_PANICKED : AL_POLL_END_READY, 0, 0);
        vsyn_ev(g, AL_EV_TASK_END, w, t, panic ? AL_JOIN_PANIC : AL_JOIN_OK, 0, panic ? 5 : 0);
        g->live[slot] = vsyn_spawn(g, w, t);
    } else {
        vsyn_ev(g, AL_EV_POLL_END, w, t, AL_POLL_END_PENDING, 64, 0);
        if (r % 3 == 0) { /* woken by a timer later: back in the inject queue */
            vsyn_ev(g, AL_EV_WAKE, -1, t, 0, AL_WAKE_TIMER, 0);
            vsyn_ev(g, AL_EV_TASK_SCHEDULE, -1, t, AL_QUEUE_INJECT, 0, 0);
        }
    }
}

/* n events (exactly) into r, which gets a header, names and threads first. */
static inline void vsyn_generate(viz_recording_t *r, size_t n, uint32_t workers, uint64_t seed)
{
    static vsyn_t g; /* large: not on the stack */
    memset(&g, 0, sizeof g);
    g.rec = r;
    g.rng = seed ? seed : 88172645463325252ull;
    g.ts = 1000000000ull;
    g.next_task = 1;
    g.workers = workers;
    g.left = n;
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = workers,
                            .flavor = AL_MULTI_THREAD,
                            .clock_base_ns = g.ts};
    viz_recording_consumer.on_header(r, &h);
    static const char *names[] = {"", "handler", "fetch", "ticker", "worker-job", "boom"};
    for (uint32_t i = 1; i < 6; i++)
        viz_recording_consumer.on_string(r, i, names[i], strlen(names[i]));
    for (uint32_t w = 0; w < workers; w++)
        viz_recording_consumer.on_thread(r, (uint16_t)w, "worker", AL_THREAD_WORKER, (int16_t)w);
    viz_recording_consumer.on_thread(r, (uint16_t)workers, "blocking-1", AL_THREAD_BLOCKING,
                                     AL_EV_NOT_WORKER);
    viz_recording_consumer.on_thread(r, (uint16_t)(workers + 1), "main", AL_THREAD_OTHER,
                                     AL_EV_NOT_WORKER);
    vsyn_ev(&g, AL_EV_RUNTIME_START, -1, 0, workers, AL_MULTI_THREAD, 0);
    vsyn_ev(&g, AL_EV_RESOURCE_CREATE, -1, 0, 1, AL_RES_MUTEX, 0);
    vsyn_ev(&g, AL_EV_RESOURCE_CREATE, -1, 0, 2, AL_RES_MPSC, 0);
    for (size_t i = 0; i < VSYN_LIVE; i++)
        g.live[i] = vsyn_spawn(&g, -1, 0);
    while (g.left > 0) {
        int w = (int)(vsyn_rand(&g) % workers);
        uint64_t r2 = vsyn_rand(&g) % 1000;
        if (r2 < 900) {
            vsyn_poll(&g, w);
        } else if (r2 < 940) {
            int victim = (int)((w + 1 + vsyn_rand(&g) % (workers > 1 ? workers - 1 : 1)) % workers);
            vsyn_ev(&g, AL_EV_SEARCH_BEGIN, w, 0, 0, 0, 0);
            if (victim != w)
                vsyn_ev(&g, AL_EV_STEAL, w, 0, (uint64_t)victim, 1 + vsyn_rand(&g) % 4, 0);
            vsyn_ev(&g, AL_EV_SEARCH_END, w, 0, 1, 0, 0);
        } else if (r2 < 970) {
            vsyn_ev(&g, AL_EV_PARK, w, 0, vsyn_rand(&g) % 2, 0, 0);
            vsyn_ev(&g, AL_EV_UNPARK, w, 0, AL_UNPARK_NOTIFIED, 0, 0);
        } else if (r2 < 975) {
            vsyn_ev(&g, AL_EV_OVERFLOW, w, 0, 2, 0, 0);
        } else if (r2 < 980) {
            vsyn_ev(&g, AL_EV_LINT, w, g.live[0], 1, 0, 0);
        } else if (r2 < 990) { /* spawn_blocking on the pool's thread */
            uint64_t t = g.next_task++;
            vsyn_ev(&g, AL_EV_TASK_SPAWN, w, t, 0, AL_TASK_BLOCKING, 4);
            vsyn_ev(&g, AL_EV_TASK_SCHEDULE, w, t, AL_QUEUE_BLOCKING, 0, 0);
            vsyn_ev(&g, AL_EV_BLOCKING_RUN, VSYN_POOL, t, 1, 0, 0);
            vsyn_ev(&g, AL_EV_POLL_BEGIN, VSYN_POOL, t, 0, 0, 0);
            vsyn_ev(&g, AL_EV_POLL_END, VSYN_POOL, t, AL_POLL_END_READY, 0, 0);
            vsyn_ev(&g, AL_EV_TASK_END, VSYN_POOL, t, AL_JOIN_OK, 0, 0);
        } else {
            vsyn_ev(&g, AL_EV_TIMER_FIRE, -1, g.live[vsyn_rand(&g) % VSYN_LIVE],
                    vsyn_rand(&g) % 1000 + 1, 0, 0);
        }
    }
    vsyn_flush(&g);
}

#endif
