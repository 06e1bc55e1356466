/*
 * viz_select.c — selection, highlights, following a task, and hit testing
 * (see viz_select.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "viz_layout.h"
#include "viz_panel_layout.h"
#include "viz_scene.h"
#include "viz_select.h"

/* ---- what a selection highlights ---- */

static void viz__lane_bit(viz_highlight_t *h, const viz_scene_t *s, int w)
{
    if (w >= 0 && (uint32_t)w < s->num_lanes)
        h->lanes |= 1ull << w;
}

static void viz__task(viz_scene_t *s, const al_console_snapshot_t *snap, uint64_t id)
{
    viz_highlight_t *h = &s->hl;
    const al_console_task_t *t = al_console_find_task(snap, id);
    if (!t)
        return;
    h->found = true;
    h->task = id;
    int lane = -1;
    switch (t->state) {
    case AL_TASK_RUNNING:
    case AL_TASK_BLOCKED:
        if (t->worker >= 0) {
            lane = t->worker;
            snprintf(h->where, sizeof h->where, "polled by worker %d", t->worker);
        } else {
            snprintf(h->where, sizeof h->where, "running outside the workers");
        }
        break;
    case AL_TASK_SCHEDULED:
        if (t->queue_worker >= 0) {
            lane = t->queue_worker;
            snprintf(h->where, sizeof h->where, "queued at worker %d", t->queue_worker);
        } else {
            snprintf(h->where, sizeof h->where, "queued (inject queue or blocking pool)");
        }
        break;
    case AL_TASK_IDLE:
        snprintf(h->where, sizeof h->where, "idle, waiting to be woken");
        break;
    default:
        snprintf(h->where, sizeof h->where, "finished");
        break;
    }
    viz__lane_bit(h, s, lane);
    if (s->view.sel.follow && lane >= 0 && (uint32_t)lane < s->num_lanes)
        h->follow_lane = (int16_t)lane;
    for (uint32_t i = 0; i < s->num_resources && i < 32; i++) {
        const viz_resource_t *r = &s->resources[i];
        bool waits = t->waiting_kind == AL_WAIT_RESOURCE && t->waiting_on == r->id;
        if (waits || r->holder.task == id)
            h->resources |= 1u << i;
    }
}

void viz_select_resolve(viz_scene_t *s, const al_console_snapshot_t *snap)
{
    viz_highlight_t *h = &s->hl;
    memset(h, 0, sizeof *h);
    h->follow_lane = -1;
    const viz_selection_t *sel = &s->view.sel;
    switch (sel->kind) {
    case VIZ_SEL_TASK:
        viz__task(s, snap, sel->id);
        break;
    case VIZ_SEL_WORKER:
        if (sel->id < s->num_lanes) {
            h->found = true;
            viz__lane_bit(h, s, (int)sel->id);
            h->task = s->lanes[sel->id].task.task;
        }
        break;
    case VIZ_SEL_RESOURCE:
        for (uint32_t i = 0; i < s->num_resources && i < 32; i++) {
            const viz_resource_t *r = &s->resources[i];
            if (r->id != sel->id)
                continue;
            h->found = true;
            h->resources |= 1u << i;
            uint32_t k = 0;
            if (r->holder.task)
                h->res_tasks[k++] = r->holder.task;
            for (uint32_t w = 0; w < r->kept && k < 8; w++)
                h->res_tasks[k++] = r->waiting[w].task;
        }
        if (!h->found && al_console_find_resource(snap, sel->id))
            h->found = true; /* exists, not listed on the floor */
        break;
    default:
        break;
    }
}

bool viz_scene_task_highlighted(const viz_scene_t *s, uint64_t task)
{
    if (!task)
        return false;
    if (s->hl.task == task)
        return true;
    for (int i = 0; i < 8; i++)
        if (s->hl.res_tasks[i] == task)
            return true;
    return false;
}

bool viz_scene_lane_highlighted(const viz_scene_t *s, uint32_t worker)
{
    return worker < 64 && (s->hl.lanes >> worker & 1);
}

bool viz_scene_resource_highlighted(const viz_scene_t *s, uint64_t resource)
{
    for (uint32_t i = 0; i < s->num_resources && i < 32; i++)
        if (s->resources[i].id == resource)
            return s->hl.resources >> i & 1;
    return false;
}

/* ---- where tasks are drawn ---- */

static bool viz__in(viz_rect_t r, int x, int y)
{
    return !viz_rect_empty(r) && x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

static void viz__add(viz_rect_t *out, uint32_t max, uint32_t *n, viz_rect_t r)
{
    if (*n < max && !viz_rect_empty(r))
        out[(*n)++] = r;
}

uint32_t viz_layout_task_rects(const viz_layout_t *l, const viz_scene_t *s, uint64_t task,
                               viz_rect_t *out, uint32_t max)
{
    uint32_t n = 0;
    if (!task)
        return 0;
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++) {
        const viz_lane_t *lane = &s->lanes[i];
        const viz_lane_box_t *b = &l->lane[i];
        if (viz_rect_empty(b->lane))
            continue;
        if (lane->task.task == task)
            viz__add(out, max, &n, b->task);
        if (lane->lifo.task == task)
            viz__add(out, max, &n, b->lifo);
        for (uint32_t q = 0; q < b->chips; q++)
            if (lane->queue[q].task == task)
                viz__add(out, max, &n, viz_layout_lane_chip(l, i, q));
    }
    for (uint32_t q = 0; q < l->inject_row.chips; q++)
        if (s->inject[q].task == task)
            viz__add(out, max, &n, viz_layout_row_chip(l, &l->inject_row, q));
    for (uint32_t g = 0; g < l->num_groups; g++)
        for (uint32_t q = 0; q < l->group_row[g].chips; q++)
            if (s->groups[g].tasks[q].task == task)
                viz__add(out, max, &n, viz_layout_row_chip(l, &l->group_row[g], q));
    for (uint32_t i = 0; i < l->num_resources; i++) {
        const viz_resource_t *r = &s->resources[i];
        if (r->holder.task == task)
            viz__add(out, max, &n, viz_layout_resource_chip(l, s, i, 0));
        for (uint32_t k = 0; k < r->kept; k++)
            if (r->waiting[k].task == task)
                viz__add(out, max, &n, viz_layout_resource_chip(l, s, i, k + 1));
    }
    return n;
}

/* ---- hit testing ---- */

static viz_hit_t viz__hit(uint8_t kind, uint64_t id)
{
    return (viz_hit_t){.kind = kind, .id = id};
}

static viz_hit_t viz__hit_row(const viz_layout_t *l, const viz_chip_row_t *row,
                              const viz_chip_t *chips, int x, int y)
{
    for (uint32_t q = 0; q < row->chips; q++)
        if (viz__in(viz_layout_row_chip(l, row, q), x, y))
            return viz__hit(VIZ_HIT_TASK, chips[q].task);
    return viz__hit(VIZ_HIT_NONE, 0);
}

viz_hit_t viz_layout_hit(const viz_layout_t *l, const viz_scene_t *s, int x, int y)
{
    viz_hit_t h = viz_panel_layout_hit(l, s, x, y);
    if (h.kind != VIZ_HIT_NONE)
        return h;
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++) {
        const viz_lane_t *lane = &s->lanes[i];
        const viz_lane_box_t *b = &l->lane[i];
        if (!viz__in(b->lane, x, y))
            continue;
        if (lane->task.task && viz__in(b->task, x, y))
            return viz__hit(VIZ_HIT_TASK, lane->task.task);
        if (lane->lifo.task && viz__in(b->lifo, x, y))
            return viz__hit(VIZ_HIT_TASK, lane->lifo.task);
        for (uint32_t q = 0; q < b->chips; q++)
            if (viz__in(viz_layout_lane_chip(l, i, q), x, y))
                return viz__hit(VIZ_HIT_TASK, lane->queue[q].task);
        return viz__hit(VIZ_HIT_WORKER, lane->worker);
    }
    h = viz__hit_row(l, &l->inject_row, s->inject, x, y);
    if (h.kind != VIZ_HIT_NONE)
        return h;
    for (uint32_t g = 0; g < l->num_groups; g++) {
        h = viz__hit_row(l, &l->group_row[g], s->groups[g].tasks, x, y);
        if (h.kind != VIZ_HIT_NONE)
            return h;
    }
    for (uint32_t i = 0; i < l->num_resources; i++) {
        const viz_resource_t *r = &s->resources[i];
        if (!viz__in(l->resource[i], x, y))
            continue;
        if (r->holder.task && viz__in(viz_layout_resource_chip(l, s, i, 0), x, y))
            return viz__hit(VIZ_HIT_TASK, r->holder.task);
        for (uint32_t k = 0; k < r->kept; k++)
            if (viz__in(viz_layout_resource_chip(l, s, i, k + 1), x, y))
                return viz__hit(VIZ_HIT_TASK, r->waiting[k].task);
        return viz__hit(VIZ_HIT_RESOURCE, r->id);
    }
    return viz__hit(VIZ_HIT_NONE, 0);
}

void viz_select_hit(viz_scene_t *s, viz_hit_t hit)
{
    viz_selection_t *sel = &s->view.sel;
    switch (hit.kind) {
    case VIZ_HIT_TASK:
        sel->kind = VIZ_SEL_TASK;
        sel->id = hit.id;
        break;
    case VIZ_HIT_WORKER:
        sel->kind = VIZ_SEL_WORKER;
        sel->id = hit.id;
        break;
    case VIZ_HIT_RESOURCE:
        sel->kind = VIZ_SEL_RESOURCE;
        sel->id = hit.id;
        break;
    case VIZ_HIT_PANEL_HEAD:
        viz_panel_sort_by(&s->view.panel, (unsigned)hit.id);
        break;
    default:
        sel->kind = VIZ_SEL_NONE;
        sel->id = 0;
        break;
    }
}

viz_rect_t viz_layout_resource_chip(const viz_layout_t *l, const viz_scene_t *s, uint32_t i,
                                    uint32_t k)
{
    viz_rect_t none = {0, 0, 0, 0};
    if (i >= l->num_resources)
        return none;
    const viz_resource_t *r = &s->resources[i];
    viz_rect_t rr = l->resource[i];
    int cw = l->side_chip_w, x = rr.x + 8, y = rr.y + l->line_h + 2, h = l->line_h;
    if (k == 0) {
        if (!r->holder.task)
            return none;
    } else {
        if (k > r->kept)
            return none;
        if (r->holder.task)
            x += cw + 6 + VIZ_ARROW_W; /* the holder, then an arrow to it */
        x += (int)(k - 1) * (cw + 3);
    }
    if (x + cw > rr.x + rr.w)
        return none;
    return (viz_rect_t){x, y, cw, h};
}

bool viz_select_parse(const char *text, viz_selection_t *sel)
{
    static const struct {
        const char *prefix;
        uint8_t kind;
    } kinds[] = {
        {"task:", VIZ_SEL_TASK}, {"worker:", VIZ_SEL_WORKER}, {"resource:", VIZ_SEL_RESOURCE}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = strlen(kinds[k].prefix);
        if (strncmp(text, kinds[k].prefix, n) != 0)
            continue;
        const char *digits = text + n;
        if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 18)
            return false;
        sel->kind = kinds[k].kind;
        sel->id = strtoull(digits, NULL, 10);
        return true;
    }
    return false;
}
