/*
 * viz_scene.c — the scene model, computed from a console snapshot and the
 * motion log (see viz_scene.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "al_event.h"
#include "al_future.h"
#include "al_task.h"
#include "viz_scene.h"

viz_scene_t *viz_scene_new(void)
{
    return calloc(1, sizeof(viz_scene_t));
}

void viz_scene_free(viz_scene_t *s)
{
    free(s);
}

/* ---- labels ---- */

static void viz__chip(const al_console_snapshot_t *snap, uint64_t id, viz_chip_t *c)
{
    c->task = id;
    c->label[0] = 0;
    if (!id)
        return;
    const al_console_task_t *t = al_console_find_task(snap, id);
    if (t && t->name[0])
        snprintf(c->label, sizeof c->label, "%s", t->name);
    else
        snprintf(c->label, sizeof c->label, "task %" PRIu64, id);
}

static void viz__res_label(const al_console_snapshot_t *snap, uint64_t id, char *buf, size_t cap)
{
    const al_console_resource_t *r = al_console_find_resource(snap, id);
    if (!r)
        snprintf(buf, cap, "resource %" PRIu64, id);
    else if (r->name[0])
        snprintf(buf, cap, "%s %" PRIu64 " \"%s\"", al_resource_kind_name(r->kind), id, r->name);
    else
        snprintf(buf, cap, "%s %" PRIu64, al_resource_kind_name(r->kind), id);
}

static uint64_t viz__since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* ---- lanes ---- */

static void viz__state_label(const al_console_snapshot_t *snap, const al_console_worker_t *w,
                             char *buf, size_t cap)
{
    switch (w->state) {
    case AL_WORKER_PARKED_DRIVER:
        snprintf(buf, cap, "parked in driver");
        break;
    case AL_WORKER_BLOCKED:
        if (w->block_kind == AL_BLOCK_THREAD_SLEEP || w->block_kind == AL_BLOCK_SPIN) {
            snprintf(buf, cap, "blocked: %s %" PRIu64 " ms", al_block_kind_name(w->block_kind),
                     w->block_detail);
        } else if (w->block_kind == AL_BLOCK_STD_MUTEX && w->block_detail) {
            char res[64];
            viz__res_label(snap, w->block_detail, res, sizeof res);
            snprintf(buf, cap, "blocked: %s (%s)", al_block_kind_name(w->block_kind), res);
        } else {
            snprintf(buf, cap, "blocked: %s", al_block_kind_name(w->block_kind));
        }
        break;
    default:
        snprintf(buf, cap, "%s", al_worker_state_name(w->state));
        break;
    }
}

static void viz__state_short(const al_console_worker_t *w, char *buf, size_t cap)
{
    static const char *const what[] = {"sleep", "std mutex", "spin", "block_in_place", "std.io"};
    if (w->state == AL_WORKER_BLOCKED) {
        const char *k = w->block_kind < 5 ? what[w->block_kind] : "?";
        if (w->block_kind == AL_BLOCK_THREAD_SLEEP || w->block_kind == AL_BLOCK_SPIN)
            snprintf(buf, cap, "blocked: %s %" PRIu64 " ms", k, w->block_detail);
        else
            snprintf(buf, cap, "blocked: %s", k);
    } else if (w->state == AL_WORKER_PARKED_DRIVER) {
        snprintf(buf, cap, "parked (driver)");
    } else {
        snprintf(buf, cap, "%s", al_worker_state_name(w->state));
    }
}

static void viz__lane(const al_console_snapshot_t *snap, uint32_t i, viz_lane_t *l)
{
    const al_console_worker_t *w = &snap->workers[i];
    memset(l, 0, sizeof *l);
    l->worker = i;
    l->state = w->state;
    l->dimmed = w->state == AL_WORKER_PARKED || w->state == AL_WORKER_PARKED_DRIVER;
    l->alert = w->state == AL_WORKER_BLOCKED;
    viz__state_label(snap, w, l->state_label, sizeof l->state_label);
    viz__state_short(w, l->state_short, sizeof l->state_short);
    l->state_for_ns = viz__since(snap->now_ns, w->state_since_ns);
    viz__chip(snap, w->current_task, &l->task);
    if (w->current_task) {
        const al_console_task_t *t = al_console_find_task(snap, w->current_task);
        if (t && (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED))
            l->poll_ns = viz__since(snap->now_ns, t->last_poll_ns);
    }
    viz__chip(snap, w->lifo_task, &l->lifo);
    l->queue_len = w->local_depth;
    l->queue_kept = w->local_depth < VIZ_MAX_CHIPS ? w->local_depth : VIZ_MAX_CHIPS;
    for (uint32_t q = 0; q < l->queue_kept; q++)
        viz__chip(snap, w->local_queue[q], &l->queue[q]);
    l->polls = w->polls;
    l->steals = w->steals;
    l->parks = w->parks;
    l->busy_pct = w->busy_pct;
}

/* ---- idle groups and resources ---- */

static viz_group_t *viz__group(viz_scene_t *s, uint8_t kind, uint64_t resource)
{
    for (uint32_t i = 0; i < s->num_groups; i++)
        if (s->groups[i].kind == kind && s->groups[i].resource == resource)
            return &s->groups[i];
    /* Keep the last two places for timers and "other". */
    uint32_t cap = kind == VIZ_GROUP_RESOURCE ? VIZ_MAX_GROUPS - 2 : VIZ_MAX_GROUPS;
    uint32_t used = 0;
    for (uint32_t i = 0; i < s->num_groups; i++)
        used += kind != VIZ_GROUP_RESOURCE || s->groups[i].kind == VIZ_GROUP_RESOURCE;
    if (used >= cap || s->num_groups >= VIZ_MAX_GROUPS)
        return NULL;
    viz_group_t *g = &s->groups[s->num_groups++];
    memset(g, 0, sizeof *g);
    g->kind = kind;
    g->resource = resource;
    return g;
}

static int viz__group_order(const void *a, const void *b)
{
    const viz_group_t *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->resource < y->resource ? -1 : x->resource > y->resource;
}

static void viz__groups(viz_scene_t *s, const al_console_snapshot_t *snap)
{
    for (size_t i = 0; i < snap->num_tasks; i++) {
        const al_console_task_t *t = &snap->tasks[i];
        if (t->state != AL_TASK_IDLE)
            continue;
        s->idle_tasks++;
        viz_group_t *g;
        if (t->waiting_kind == AL_WAIT_RESOURCE)
            g = viz__group(s, VIZ_GROUP_RESOURCE, t->waiting_on);
        else if (t->waiting_kind == AL_WAIT_TIMER)
            g = viz__group(s, VIZ_GROUP_TIMER, 0);
        else
            g = viz__group(s, VIZ_GROUP_OTHER, 0);
        if (!g)
            continue;
        if (g->kept < VIZ_MAX_GROUP_CHIPS)
            viz__chip(snap, t->id, &g->tasks[g->kept++]);
        g->count++;
    }
    qsort(s->groups, s->num_groups, sizeof *s->groups, viz__group_order);
    for (uint32_t i = 0; i < s->num_groups; i++) {
        viz_group_t *g = &s->groups[i];
        if (g->kind == VIZ_GROUP_RESOURCE)
            viz__res_label(snap, g->resource, g->label, sizeof g->label);
        else if (g->kind == VIZ_GROUP_TIMER)
            snprintf(g->label, sizeof g->label, "timers");
        else
            snprintf(g->label, sizeof g->label, "something else (a join, a custom future)");
    }
}

static int viz__res_rank(const al_console_resource_t *r)
{
    return r->waiters ? 2 : r->holders ? 1 : 0;
}

static void viz__resources(viz_scene_t *s, const al_console_snapshot_t *snap)
{
    /* The contended first, then the held, then the rest; by id within. */
    for (int rank = 2; rank >= 0; rank--) {
        for (size_t i = 0; i < snap->num_resources; i++) {
            const al_console_resource_t *r = &snap->resources[i];
            if (r->dropped || r->kind == AL_RES_TIMER)
                continue;
            if (rank == 2)
                s->resources_total++;
            if (viz__res_rank(r) != rank || s->num_resources >= VIZ_MAX_RESOURCES)
                continue;
            viz_resource_t *o = &s->resources[s->num_resources++];
            memset(o, 0, sizeof *o);
            o->id = r->id;
            o->kind = r->kind;
            viz__res_label(snap, r->id, o->label, sizeof o->label);
            viz__chip(snap, r->holder, &o->holder);
            o->holders = r->holders;
            o->waiters = r->waiters;
            o->queue_len = r->queue_len;
            o->closed = r->closed;
            for (size_t k = 0; k < snap->num_tasks && o->kept < VIZ_MAX_WAITERS; k++) {
                const al_console_task_t *t = &snap->tasks[k];
                if (t->state != AL_TASK_DONE && t->waiting_kind == AL_WAIT_RESOURCE &&
                    t->waiting_on == r->id)
                    viz__chip(snap, t->id, &o->waiting[o->kept++]);
            }
        }
    }
}

/* ---- motions ---- */

static viz_place_t viz__at(uint8_t kind, int index, int slot)
{
    return (viz_place_t){.kind = kind, .index = (int16_t)index, .slot = (int16_t)slot};
}

/* Where task id is drawn now. */
static viz_place_t viz__place_of(const viz_scene_t *s, const al_console_snapshot_t *snap,
                                 uint64_t id)
{
    const al_console_task_t *t = al_console_find_task(snap, id);
    if (!t)
        return viz__at(VIZ_AT_NONE, -1, -1);
    switch (t->state) {
    case AL_TASK_RUNNING:
    case AL_TASK_BLOCKED:
        if (t->worker >= 0 && (uint32_t)t->worker < s->num_lanes)
            return viz__at(VIZ_AT_LANE_TASK, t->worker, -1);
        return viz__at(t->kind == AL_TASK_BLOCKING ? VIZ_AT_BLOCKING : VIZ_AT_OUTSIDE, -1, -1);
    case AL_TASK_SCHEDULED:
        if (t->queue == AL_QUEUE_BLOCKING)
            return viz__at(VIZ_AT_BLOCKING, -1, -1);
        if (t->queue_worker >= 0 && (uint32_t)t->queue_worker < s->num_lanes) {
            const viz_lane_t *l = &s->lanes[t->queue_worker];
            if (l->lifo.task == id)
                return viz__at(VIZ_AT_LANE_LIFO, t->queue_worker, -1);
            for (uint32_t q = 0; q < l->queue_kept; q++)
                if (l->queue[q].task == id)
                    return viz__at(VIZ_AT_LANE_QUEUE, t->queue_worker, (int)q);
            return viz__at(VIZ_AT_LANE_QUEUE, t->queue_worker, -1);
        }
        for (uint32_t q = 0; q < s->inject_kept; q++)
            if (s->inject[q].task == id)
                return viz__at(VIZ_AT_INJECT, -1, (int)q);
        return viz__at(VIZ_AT_INJECT, -1, -1);
    case AL_TASK_IDLE:
        return viz__at(VIZ_AT_IDLE, -1, -1);
    default:
        return viz__at(VIZ_AT_NONE, -1, -1);
    }
}

static bool viz__lane_ok(const viz_scene_t *s, int w)
{
    return w >= 0 && (uint32_t)w < s->num_lanes;
}

static viz_place_t viz__from(const viz_scene_t *s, const viz_motion_t *mv)
{
    int w = mv->from_worker;
    switch (mv->from) {
    case VIZ_WHERE_LIFO:
        return viz__lane_ok(s, w) ? viz__at(VIZ_AT_LANE_LIFO, w, -1)
                                  : viz__at(VIZ_AT_INJECT, -1, 0);
    case VIZ_WHERE_LOCAL:
    case VIZ_WHERE_CURRENT:
        return viz__lane_ok(s, w) ? viz__at(VIZ_AT_LANE_QUEUE, w, 0)
                                  : viz__at(VIZ_AT_INJECT, -1, 0);
    case VIZ_WHERE_INJECT:
        return viz__at(VIZ_AT_INJECT, -1, 0);
    case VIZ_WHERE_BLOCKING:
        return viz__at(VIZ_AT_BLOCKING, -1, -1);
    case VIZ_WHERE_WORKER:
        return viz__lane_ok(s, w) ? viz__at(VIZ_AT_LANE_TASK, w, -1)
                                  : viz__at(VIZ_AT_OUTSIDE, -1, -1);
    case VIZ_WHERE_DRIVER:
        return viz__at(VIZ_AT_DRIVER, -1, -1);
    case VIZ_WHERE_OUTSIDE:
        return viz__at(VIZ_AT_OUTSIDE, -1, -1);
    default:
        return viz__at(VIZ_AT_NONE, -1, -1);
    }
}

static bool viz__same_place(viz_place_t a, viz_place_t b)
{
    return a.kind == b.kind && a.index == b.index;
}

/* Add a motion, oldest first. Steals and overflows between the same places
 * merge (their counts add up); a worker shows only its newest poll (it polls
 * one task at a time). */
static void viz__add_motion(viz_scene_t *s, const viz_scene_motion_t *o)
{
    for (uint32_t i = 0; i < s->num_motions; i++) {
        viz_scene_motion_t *m = &s->motions[i];
        if (m->kind != o->kind || !viz__same_place(m->to, o->to))
            continue;
        if (o->kind == VIZ_MOTION_POLL) {
            *m = *o;
            return;
        }
        if ((o->kind == VIZ_MOTION_STEAL || o->kind == VIZ_MOTION_OVERFLOW) &&
            viz__same_place(m->from, o->from)) {
            m->count += o->count;
            m->progress = o->progress;
            return;
        }
    }
    if (s->num_motions < VIZ_MAX_MOTIONS)
        s->motions[s->num_motions++] = *o;
}

static void viz__motions(viz_scene_t *s, const al_console_snapshot_t *snap,
                         const viz_motion_log_t *m, uint64_t window)
{
    if (!m || window == 0)
        return;
    viz_motion_t mv[VIZ_MAX_MOTIONS];
    uint64_t now = snap->now_ns, after = now > window ? now - window : 0;
    size_t n = viz_motion_recent(m, after, now, mv, VIZ_MAX_MOTIONS);
    for (size_t i = 0; i < n; i++) {
        viz_scene_motion_t o = {.kind = mv[i].kind, .count = mv[i].count};
        o.from = viz__from(s, &mv[i]);
        switch (mv[i].kind) {
        case VIZ_MOTION_POLL:
            if (!viz__lane_ok(s, mv[i].worker))
                continue;
            o.to = viz__at(VIZ_AT_LANE_TASK, mv[i].worker, -1);
            break;
        case VIZ_MOTION_STEAL:
            if (!viz__lane_ok(s, mv[i].worker) || !viz__lane_ok(s, mv[i].from_worker))
                continue;
            o.to = viz__at(VIZ_AT_LANE_QUEUE, mv[i].worker, -1);
            break;
        case VIZ_MOTION_OVERFLOW:
            o.to = viz__at(VIZ_AT_INJECT, -1, -1);
            break;
        case VIZ_MOTION_WAKE:
            o.to = viz__place_of(s, snap, mv[i].task);
            break;
        default:
            continue;
        }
        if (o.from.kind == VIZ_AT_NONE || o.to.kind == VIZ_AT_NONE)
            continue;
        viz__chip(snap, mv[i].task, &o.task);
        double p = (double)viz__since(now, mv[i].ts_ns) / (double)window;
        o.progress = (float)(p < 0 ? 0 : p > 1 ? 1 : p);
        viz__add_motion(s, &o);
    }
}

/* ---- the scene ---- */

void viz_scene_build(viz_scene_t *s, const al_console_snapshot_t *snap, const viz_motion_log_t *m,
                     const viz_scene_opts_t *opts)
{
    char title[sizeof s->title], status[sizeof s->status];
    memcpy(title, s->title, sizeof title);
    memcpy(status, s->status, sizeof status);
    const struct viz_timeline *timeline = s->timeline;
    viz_view_t view = s->view;
    memset(s, 0, sizeof *s);
    s->timeline = timeline;
    memcpy(s->title, title, sizeof title);
    memcpy(s->status, status, sizeof status);
    s->view = view;

    s->now_ns = snap->now_ns;
    s->seconds = snap->now_ns > snap->header.clock_base_ns
                     ? (double)(snap->now_ns - snap->header.clock_base_ns) / 1e9
                     : 0;
    s->events = snap->events;
    s->dropped = snap->dropped;
    s->alive_tasks = snap->alive_tasks;
    s->spawned_tasks = snap->spawned_tasks;
    s->flavor = snap->header.flavor;
    s->num_workers = (uint32_t)snap->num_workers;
    s->num_lanes = s->num_workers < VIZ_MAX_LANES ? s->num_workers : VIZ_MAX_LANES;
    s->all_blocked = snap->num_workers > 0;
    for (uint32_t i = 0; i < s->num_workers; i++)
        if (snap->workers[i].state != AL_WORKER_BLOCKED)
            s->all_blocked = false;
    for (uint32_t i = 0; i < s->num_lanes; i++)
        viz__lane(snap, i, &s->lanes[i]);

    s->inject_len = snap->inject_depth;
    s->inject_kept = snap->inject_depth < VIZ_MAX_CHIPS ? snap->inject_depth : VIZ_MAX_CHIPS;
    for (uint32_t q = 0; q < s->inject_kept; q++)
        viz__chip(snap, snap->inject_queue[q], &s->inject[q]);

    s->blocking_threads = snap->blocking_threads;
    s->blocking_busy = snap->blocking_busy;
    s->blocking_queued = snap->blocking_queue_depth;
    if (m) {
        uint32_t slots = viz_motion_blocking_slots(m);
        for (uint32_t n = 0; n < slots && s->num_blocking < VIZ_MAX_BLOCKING; n++) {
            uint64_t task;
            if (!viz_motion_blocking_thread(m, n, &task))
                continue;
            viz_blocking_thread_t *b = &s->blocking[s->num_blocking++];
            b->number = n;
            viz__chip(snap, task, &b->task);
        }
    }

    s->pending_timers = snap->pending_timers;
    if (snap->next_timer_deadline_ns > snap->now_ns)
        s->next_timer_in_ns = snap->next_timer_deadline_ns - snap->now_ns;
    else if (snap->next_timer_deadline_ns)
        s->timer_overdue_ns = snap->now_ns - snap->next_timer_deadline_ns;
    s->driver_worker = -1;
    for (uint32_t i = 0; i < s->num_workers; i++)
        if (snap->workers[i].state == AL_WORKER_PARKED_DRIVER) {
            s->driver_worker = (int16_t)i;
            break;
        }

    viz__groups(s, snap);
    viz__resources(s, snap);
    viz__motions(s, snap, m, opts ? opts->anim_window_ns : 0);
    viz_deadlock_find(&s->deadlock, snap);
    viz_select_resolve(s, snap);
}

/* ---- questions ---- */

const viz_lane_t *viz_scene_lane(const viz_scene_t *s, uint32_t worker)
{
    return worker < s->num_lanes ? &s->lanes[worker] : NULL;
}

bool viz_lane_holds(const viz_lane_t *l, const char *label)
{
    if (l->lifo.task && strcmp(l->lifo.label, label) == 0)
        return true;
    for (uint32_t q = 0; q < l->queue_kept; q++)
        if (strcmp(l->queue[q].label, label) == 0)
            return true;
    return false;
}

const viz_group_t *viz_scene_group(const viz_scene_t *s, const char *text)
{
    for (uint32_t i = 0; i < s->num_groups; i++)
        if (strstr(s->groups[i].label, text))
            return &s->groups[i];
    return NULL;
}

bool viz_group_holds(const viz_group_t *g, const char *label)
{
    for (uint32_t i = 0; i < g->kept; i++)
        if (strcmp(g->tasks[i].label, label) == 0)
            return true;
    return false;
}

const viz_resource_t *viz_scene_resource(const viz_scene_t *s, const char *text)
{
    for (uint32_t i = 0; i < s->num_resources; i++)
        if (strstr(s->resources[i].label, text))
            return &s->resources[i];
    return NULL;
}

uint32_t viz_scene_count_motions(const viz_scene_t *s, viz_motion_kind_t kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->num_motions; i++)
        n += s->motions[i].kind == kind;
    return n;
}

/* ---- as text ---- */

static void viz__print_chips(const viz_chip_t *c, uint32_t kept, uint32_t total, FILE *out)
{
    for (uint32_t i = 0; i < kept && i < 12; i++)
        fprintf(out, "%s%s", i ? ", " : "", c[i].label);
    uint32_t shown = kept < 12 ? kept : 12;
    if (total > shown)
        fprintf(out, "%s+%u", shown ? ", " : "", total - shown);
}

static const char *viz__place_name(viz_place_t p, char *buf, size_t cap)
{
    static const char *const names[] = {
        "?",      "task of worker", "lifo of worker", "queue of worker", "inject", "blocking pool",
        "driver", "idle",           "outside"};
    if (p.kind <= VIZ_AT_LANE_QUEUE && p.kind != VIZ_AT_NONE)
        snprintf(buf, cap, "%s %d", names[p.kind], p.index);
    else
        snprintf(buf, cap, "%s", p.kind < 9 ? names[p.kind] : "?");
    return buf;
}

void viz_scene_print(const viz_scene_t *s, FILE *out)
{
    char d1[32], d2[32];
    fprintf(out,
            "scene at %.6f s: %u workers, %" PRIu64 " tasks alive (%" PRIu64 " spawned), %" PRIu64
            " events",
            s->seconds, s->num_workers, s->alive_tasks, s->spawned_tasks, s->events);
    if (s->dropped)
        fprintf(out, ", %" PRIu64 " DROPPED", s->dropped);
    fprintf(out, "\n");
    if (s->all_blocked)
        fprintf(out, "WARNING: every worker is blocked: no task can run (a silent hang)\n");
    if (s->deadlock.len || s->deadlock.longer)
        fprintf(out, "WARNING: %s\n", s->deadlock.text);
    for (uint32_t i = 0; i < s->num_lanes; i++) {
        const viz_lane_t *l = &s->lanes[i];
        fprintf(out, "worker %u  %s for %s", l->worker, l->state_label,
                al_console_format_duration(d1, sizeof d1, l->state_for_ns));
        if (l->task.task)
            fprintf(out, "  polling %s for %s", l->task.label,
                    al_console_format_duration(d2, sizeof d2, l->poll_ns));
        fprintf(out, "  lifo: %s  queue (%u): ", l->lifo.task ? l->lifo.label : "-", l->queue_len);
        viz__print_chips(l->queue, l->queue_kept, l->queue_len, out);
        fprintf(out, "\n");
    }
    if (s->num_workers > s->num_lanes)
        fprintf(out, "(%u more workers not drawn)\n", s->num_workers - s->num_lanes);
    fprintf(out, "inject (%u): ", s->inject_len);
    viz__print_chips(s->inject, s->inject_kept, s->inject_len, out);
    fprintf(out, "\nblocking pool: %u threads, %u busy, %u queued", s->blocking_threads,
            s->blocking_busy, s->blocking_queued);
    for (uint32_t i = 0; i < s->num_blocking; i++)
        fprintf(out, "; #%u %s", s->blocking[i].number,
                s->blocking[i].task.task ? s->blocking[i].task.label : "idle");
    fprintf(out, "\ndriver: %u timers pending", s->pending_timers);
    if (s->next_timer_in_ns)
        fprintf(out, ", next in %s",
                al_console_format_duration(d1, sizeof d1, s->next_timer_in_ns));
    if (s->timer_overdue_ns)
        fprintf(out, ", next OVERDUE by %s",
                al_console_format_duration(d1, sizeof d1, s->timer_overdue_ns));
    if (s->driver_worker >= 0)
        fprintf(out, "; worker %d parked in it", s->driver_worker);
    fprintf(out, "\nidle tasks: %u\n", s->idle_tasks);
    for (uint32_t i = 0; i < s->num_groups; i++) {
        const viz_group_t *g = &s->groups[i];
        fprintf(out, "  waiting on %s (%u): ", g->label, g->count);
        viz__print_chips(g->tasks, g->kept, g->count, out);
        fprintf(out, "\n");
    }
    fprintf(out, "resources: %u\n", s->resources_total);
    for (uint32_t i = 0; i < s->num_resources; i++) {
        const viz_resource_t *r = &s->resources[i];
        fprintf(out, "  %s: ", r->label);
        if (r->holder.task)
            fprintf(out, "held by %s", r->holder.label);
        else if (r->holders)
            fprintf(out, "held (%u)", r->holders);
        else
            fprintf(out, "free");
        fprintf(out, ", %u waiting", r->waiters);
        if (r->kept) {
            fprintf(out, ": ");
            viz__print_chips(r->waiting, r->kept, r->waiters > r->kept ? r->waiters : r->kept, out);
        }
        if (r->closed)
            fprintf(out, " (closed)");
        fprintf(out, "\n");
    }
    if (s->num_motions) {
        static const char *const kinds[] = {"poll", "steal", "wake", "overflow"};
        fprintf(out, "motions: %u\n", s->num_motions);
        for (uint32_t i = 0; i < s->num_motions; i++) {
            const viz_scene_motion_t *mv = &s->motions[i];
            fprintf(out, "  %s %s -> %s", kinds[mv->kind % 4],
                    viz__place_name(mv->from, d1, sizeof d1),
                    viz__place_name(mv->to, d2, sizeof d2));
            if (mv->task.task)
                fprintf(out, " (%s)", mv->task.label);
            if (mv->count)
                fprintf(out, " x%u", mv->count);
            fprintf(out, " %.0f%%\n", mv->progress * 100.0);
        }
    }
}
