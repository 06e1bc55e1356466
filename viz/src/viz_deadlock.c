/*
 * viz_deadlock.c — a deadlock cycle in a console snapshot (see
 * viz_deadlock.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "al_event.h"
#include "al_task.h"
#include "viz_deadlock.h"

/* The resource task t waits on (0: none): an async wait, or the std-style
 * mutex its worker is blocked on while polling it. */
static uint64_t viz__waits_on(const al_console_snapshot_t *snap, const al_console_task_t *t)
{
    if (t->state == AL_TASK_DONE)
        return 0;
    if (t->waiting_kind == AL_WAIT_RESOURCE)
        return t->waiting_on;
    if (t->state == AL_TASK_BLOCKED && t->block_kind == AL_BLOCK_STD_MUTEX && t->worker >= 0 &&
        (size_t)t->worker < snap->num_workers) {
        const al_console_worker_t *w = &snap->workers[t->worker];
        if (w->state == AL_WORKER_BLOCKED && w->current_task == t->id)
            return w->block_detail;
    }
    return 0;
}

/* The task t waits for: the single holder of what it waits on; -1: none. */
static long viz__next(const al_console_snapshot_t *snap, const al_console_task_t *t, uint64_t *res)
{
    *res = viz__waits_on(snap, t);
    if (!*res)
        return -1;
    const al_console_resource_t *r = al_console_find_resource(snap, *res);
    if (!r || r->dropped || r->holders != 1 || !r->holder)
        return -1;
    const al_console_task_t *h = al_console_find_task(snap, r->holder);
    return h ? (long)(h - snap->tasks) : -1;
}

static void viz__label(const al_console_snapshot_t *snap, uint64_t task, uint64_t res, char *buf,
                       size_t cap)
{
    if (task) {
        const al_console_task_t *t = al_console_find_task(snap, task);
        if (t && t->name[0])
            snprintf(buf, cap, "%s", t->name);
        else
            snprintf(buf, cap, "task %" PRIu64, task);
        return;
    }
    const al_console_resource_t *r = al_console_find_resource(snap, res);
    if (r && r->name[0])
        snprintf(buf, cap, "%s %" PRIu64 " \"%s\"", al_resource_kind_name(r->kind), res, r->name);
    else
        snprintf(buf, cap, "%s %" PRIu64, r ? al_resource_kind_name(r->kind) : "resource", res);
}

static void viz__text(viz_deadlock_t *d, const al_console_snapshot_t *snap)
{
    size_t n = 0, cap = sizeof d->text;
    n += (size_t)snprintf(d->text, cap, "deadlock:");
    for (uint32_t i = 0; i < d->len && n < cap; i++) {
        char a[40], b[64], c[40];
        viz__label(snap, d->tasks[i], 0, a, sizeof a);
        viz__label(snap, 0, d->resources[i], b, sizeof b);
        viz__label(snap, d->tasks[(i + 1) % d->len], 0, c, sizeof c);
        snprintf(d->edge[i], sizeof d->edge[i], "%s waits for %s (held by %s)", a, b, c);
        n += (size_t)snprintf(d->text + n, cap - n, "%s %s", i ? ";" : "", d->edge[i]);
    }
}

void viz_deadlock_find(viz_deadlock_t *d, const al_console_snapshot_t *snap)
{
    memset(d, 0, sizeof *d);
    size_t n = snap->num_tasks;
    if (n == 0)
        return;
    /* Walk the graph from each task in id order (tasks are sorted by id);
     * mark[i]: 0 unseen, else 1 + the walk that reached it. Each task is
     * walked once, so the whole search is linear (with binary searches). */
    uint32_t *mark = calloc(n, sizeof *mark);
    if (!mark)
        return;
    for (size_t start = 0; start < n && !d->len && !d->longer; start++) {
        if (mark[start])
            continue;
        uint32_t walk = (uint32_t)start + 1;
        long i = (long)start;
        uint64_t res;
        while (i >= 0 && !mark[i]) {
            mark[i] = walk;
            i = viz__next(snap, &snap->tasks[i], &res);
        }
        if (i < 0 || mark[i] != walk)
            continue; /* ended, or ran into an earlier walk (no new cycle) */
        /* i is on a cycle: collect it, starting from its smallest id. */
        long first = i, j = i;
        uint32_t len = 0;
        do {
            if (snap->tasks[j].id < snap->tasks[first].id)
                first = j;
            len++;
            j = viz__next(snap, &snap->tasks[j], &res);
        } while (j != i && j >= 0);
        if (len > VIZ_MAX_CYCLE) {
            d->longer = true;
            snprintf(d->text, sizeof d->text,
                     "deadlock: a cycle of %u tasks, through task %" PRIu64, len,
                     snap->tasks[first].id);
            break;
        }
        j = first;
        for (uint32_t k = 0; k < len; k++) {
            d->tasks[k] = snap->tasks[j].id;
            j = viz__next(snap, &snap->tasks[j], &d->resources[k]);
        }
        d->len = len;
        viz__text(d, snap);
    }
    free(mark);
}

bool viz_deadlock_has_task(const viz_deadlock_t *d, uint64_t task)
{
    for (uint32_t i = 0; i < d->len; i++)
        if (d->tasks[i] == task)
            return true;
    return false;
}

bool viz_deadlock_has_resource(const viz_deadlock_t *d, uint64_t resource)
{
    for (uint32_t i = 0; i < d->len; i++)
        if (d->resources[i] == resource)
            return true;
    return false;
}
