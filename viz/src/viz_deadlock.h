/*
 * viz_deadlock.h — a deadlock cycle in a console snapshot, for the scene
 * model (viz_scene.h) to report and the renderer to draw as a red loop.
 *
 * The wait-for graph is read from the snapshot: a task waiting on a
 * resource (al_console_task_t.waiting_kind == AL_WAIT_RESOURCE) points to the
 * resource's single holder (al_console_resource_t.holder, when exactly one
 * task holds it: async mutexes, rwlocks held for writing, semaphores with one
 * holder); a task polled by a worker blocked on a std-style mutex points to
 * that mutex's holder the same way (the worker's block_detail names it). A
 * cycle in that graph is a deadlock: none of its tasks can go on. This is
 * the lint engine's deadlock rule (al_lint.h) applied to one moment, so the
 * scene shows the cycle while it lasts.
 *
 * The cycle is reported from its smallest task id: tasks[i] waits on
 * resources[i], which is held by tasks[(i + 1) % len].
 */
#ifndef VIZ_DEADLOCK_H
#define VIZ_DEADLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "al_console.h"

#define VIZ_MAX_CYCLE 8 /* longer cycles are reported with len 0 and `longer` set */

typedef struct viz_deadlock {
    uint32_t len; /* tasks (and resources) in the cycle; 0: none */
    bool longer;  /* a cycle exists but has more than VIZ_MAX_CYCLE tasks */
    uint64_t tasks[VIZ_MAX_CYCLE];
    uint64_t resources[VIZ_MAX_CYCLE];
    /* "deadlock: a waits for mutex 3 \"db\" (held by b); b waits for ..." */
    char text[320];
    /* The same, one line per task: "transfer waits for mutex 2 \"audit\" (held by report)" */
    char edge[VIZ_MAX_CYCLE][192];
} viz_deadlock_t;

/* The first cycle found (the one through the smallest task id), or len 0. */
void viz_deadlock_find(viz_deadlock_t *d, const al_console_snapshot_t *snap);

/* Whether the cycle goes through task / resource id. */
bool viz_deadlock_has_task(const viz_deadlock_t *d, uint64_t task);
bool viz_deadlock_has_resource(const viz_deadlock_t *d, uint64_t resource);

#endif
