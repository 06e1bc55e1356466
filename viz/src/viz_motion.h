/*
 * viz_motion.h — what just moved: the recent scheduling events the
 * visualizer animates (a chip travelling from a queue to the worker that
 * polls it, stolen chips flying from victim to thief, a wake spark, half a
 * queue spilling into the inject queue), and what the console model does not
 * say (which blocking-pool thread runs which task).
 *
 * The motion log is a stream consumer (al_stream.h); feed it the same events
 * as the console model (al_console.h). It keeps the newest VIZ_MOTION_RING
 * motions; the scene (viz_scene.h) asks for those inside its animation
 * window and places them on screen.
 */
#ifndef VIZ_MOTION_H
#define VIZ_MOTION_H

#include <stddef.h>
#include <stdint.h>

#include "al_stream.h"

#define VIZ_MOTION_RING 1024

typedef enum viz_motion_kind {
    VIZ_MOTION_POLL = 0, /* POLL_BEGIN: the task leaves its queue for the worker */
    VIZ_MOTION_STEAL,    /* STEAL: `count` tasks fly from worker `from_worker` to `worker` */
    VIZ_MOTION_WAKE,     /* WAKE: a spark from the waker to the woken task */
    VIZ_MOTION_OVERFLOW, /* OVERFLOW: `count` tasks from `from_worker`'s queue to inject */
} viz_motion_kind_t;

/* Where something was or came from. */
typedef enum viz_where {
    VIZ_WHERE_NONE = 0, /* unknown */
    VIZ_WHERE_LIFO,     /* from_worker's LIFO slot */
    VIZ_WHERE_LOCAL,    /* from_worker's local queue */
    VIZ_WHERE_INJECT,   /* the inject queue */
    VIZ_WHERE_BLOCKING, /* the blocking pool's queue */
    VIZ_WHERE_CURRENT,  /* a current-thread / LocalSet run queue */
    VIZ_WHERE_WORKER,   /* the task from_worker is polling */
    VIZ_WHERE_DRIVER,   /* the timer / I/O driver */
    VIZ_WHERE_OUTSIDE,  /* a thread that is not a worker (block_on caller, pool, external) */
} viz_where_t;

typedef struct viz_motion {
    uint64_t ts_ns;
    uint8_t kind;        /* viz_motion_kind_t */
    uint8_t from;        /* viz_where_t */
    uint8_t wake_src;    /* WAKE: al_wake_kind_t */
    int16_t from_worker; /* the worker `from` belongs to, -1 */
    int16_t worker;      /* the worker that polls / steals / spills; -1 */
    uint64_t task;       /* the task moved or woken; 0 for steals and overflows */
    uint64_t waker;      /* WAKE: the waking task, 0 if none */
    uint32_t count;      /* STEAL / OVERFLOW: how many tasks */
} viz_motion_t;

typedef struct viz_motion_log viz_motion_log_t;

/* Errors: AL_ENOMEM. */
int viz_motion_log_new(viz_motion_log_t **out);
void viz_motion_log_free(viz_motion_log_t *m);
extern const al_stream_consumer_t viz_motion_consumer;
/* An independent copy (the player's keyframes). Errors: AL_ENOMEM. */
int viz_motion_log_clone(const viz_motion_log_t *m, viz_motion_log_t **out);
/* The bytes it holds. */
size_t viz_motion_log_memory(const viz_motion_log_t *m);

/* The motions with after_ns < ts_ns <= until_ns, oldest first; at most max
 * (the newest ones). Returns how many were written. */
size_t viz_motion_recent(const viz_motion_log_t *m, uint64_t after_ns, uint64_t until_ns,
                         viz_motion_t *out, size_t max);

/* Blocking-pool threads, by thread number: how many numbers were seen, and
 * for each whether it is alive and which task it runs (0: idle). */
uint32_t viz_motion_blocking_slots(const viz_motion_log_t *m);
int viz_motion_blocking_thread(const viz_motion_log_t *m, uint32_t number, uint64_t *task);

#endif
