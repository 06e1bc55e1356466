/*
 * viz_render_select.c — drawing the selection's highlights, the followed
 * task's lane, and a deadlock cycle as a red loop through its tasks and
 * locks (see viz_select.h, viz_deadlock.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "viz_render_internal.h"
#include "viz_select.h"

#define VIZ__HL VIZ_RGB(255, 255, 255) /* the highlight: a white frame */

/* A frame `thick` pixels wide just outside rc. */
static void viz__frame(viz_render_t *r, viz_rect_t rc, viz_color_t c, int thick)
{
    for (int k = 1; k <= thick; k++)
        viz_render_outline(r, (viz_rect_t){rc.x - k, rc.y - k, rc.w + 2 * k, rc.h + 2 * k}, c);
}

/* A 2-pixel line. */
static void viz__line2(viz_render_t *r, viz_point_t a, viz_point_t b, viz_color_t c)
{
    SDL_Renderer *sdl = viz_render_sdl(r);
    SDL_SetRenderDrawColor(sdl, c.r, c.g, c.b, c.a);
    SDL_RenderDrawLine(sdl, a.x, a.y, b.x, b.y);
    if (abs(b.x - a.x) >= abs(b.y - a.y))
        SDL_RenderDrawLine(sdl, a.x, a.y + 1, b.x, b.y + 1);
    else
        SDL_RenderDrawLine(sdl, a.x + 1, a.y, b.x + 1, b.y);
}

/* An arrow head at b, pointing from a. */
static void viz__arrow_head(viz_render_t *r, viz_point_t a, viz_point_t b, viz_color_t c)
{
    double ang = atan2(b.y - a.y, b.x - a.x);
    for (int side = -1; side <= 1; side += 2) {
        double h = ang + M_PI + side * 0.45;
        viz_point_t p = {b.x + (int)(cos(h) * 9), b.y + (int)(sin(h) * 9)};
        viz__line2(r, b, p, c);
    }
}

static viz_point_t viz__center(viz_rect_t rc)
{
    return (viz_point_t){rc.x + rc.w / 2, rc.y + rc.h / 2};
}

void viz_render_highlights(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    if (s->view.sel.kind == VIZ_SEL_NONE || !s->hl.found)
        return;
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++)
        if (viz_scene_lane_highlighted(s, i))
            viz__frame(r, l->lane[i].lane, VIZ__HL, i == (uint32_t)s->hl.follow_lane ? 3 : 1);
    for (uint32_t i = 0; i < l->num_resources; i++)
        if (viz_scene_resource_highlighted(s, s->resources[i].id))
            viz__frame(r, l->resource[i], VIZ__HL, 1);
    viz_rect_t at[32];
    uint64_t tasks[9] = {s->hl.task};
    for (int k = 0; k < 8; k++)
        tasks[k + 1] = s->hl.res_tasks[k];
    for (int k = 0; k < 9; k++) {
        uint32_t n = viz_layout_task_rects(l, s, tasks[k], at, 32);
        for (uint32_t i = 0; i < n; i++)
            viz__frame(r, at[i], VIZ__HL, 2);
    }
    /* Following: say so on the followed lane. */
    if (s->view.sel.follow && s->hl.follow_lane >= 0 &&
        (uint32_t)s->hl.follow_lane < l->num_lanes) {
        viz_rect_t ln = l->lane[s->hl.follow_lane].lane;
        if (ln.h >= 12 && ln.w >= 200) {
            const char *txt = "following";
            int tw = viz_render_text_width(r, txt, VIZ_TXT_SMALL_BOLD) + 8;
            viz_rect_t badge = {ln.x + ln.w - tw - 2, ln.y + 1, tw, 14};
            viz_render_fill(r, badge, VIZ__HL);
            viz_render_text(r, txt, VIZ_TXT_SMALL_BOLD, VIZ_TEXT_DARK, badge, 4);
        }
    }
}

/* The index of resource id among those laid out, -1. */
static int viz__res_index(const viz_scene_t *s, const viz_layout_t *l, uint64_t id)
{
    for (uint32_t i = 0; i < l->num_resources; i++)
        if (s->resources[i].id == id)
            return (int)i;
    return -1;
}

/* The chip of task t among resources[i]'s waiters (empty if not drawn). */
static viz_rect_t viz__waiter_chip(const viz_scene_t *s, const viz_layout_t *l, int i, uint64_t t)
{
    const viz_resource_t *r = &s->resources[i];
    for (uint32_t k = 0; k < r->kept; k++)
        if (r->waiting[k].task == t)
            return viz_layout_resource_chip(l, s, (uint32_t)i, k + 1);
    return (viz_rect_t){0, 0, 0, 0};
}

/* The loop through the resources' entries: task i's chip among the waiters
 * of the lock it waits on -> that lock's holder chip (task i + 1) -> task
 * i + 1's chip among the waiters of its lock -> ... false when a part of it
 * is not drawn. */
static bool viz__loop_points(const viz_scene_t *s, const viz_layout_t *l, viz_point_t *pts,
                             viz_rect_t *chips)
{
    const viz_deadlock_t *d = &s->deadlock;
    for (uint32_t i = 0; i < d->len; i++) {
        int ri = viz__res_index(s, l, d->resources[i]);
        if (ri < 0)
            return false;
        viz_rect_t w = viz__waiter_chip(s, l, ri, d->tasks[i]);
        viz_rect_t h = viz_layout_resource_chip(l, s, (uint32_t)ri, 0);
        if (viz_rect_empty(w) || viz_rect_empty(h))
            return false;
        chips[2 * i] = w;
        chips[2 * i + 1] = h;
        pts[2 * i] = viz__center(w);
        pts[2 * i + 1] = viz__center(h);
    }
    return d->len > 0;
}

void viz_render_deadlock(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    const viz_deadlock_t *d = &s->deadlock;
    if (!d->len && !d->longer)
        return;
    viz_color_t red = VIZ_BLOCKED;
    viz_point_t pts[2 * VIZ_MAX_CYCLE];
    viz_rect_t chips[2 * VIZ_MAX_CYCLE];
    if (viz__loop_points(s, l, pts, chips)) {
        uint32_t np = 2 * d->len;
        for (uint32_t i = 0; i < np; i++)
            viz__frame(r, chips[i], red, 3);
        int right = l->resources.x + l->resources.w - 6;
        for (uint32_t i = 0; i < np; i += 2) {
            viz_rect_t w = chips[i], h = chips[i + 1], next = chips[(i + 2) % np];
            /* waits for: the waiter's left edge -> the holder's right edge,
             * through the gap with the arrow */
            viz_point_t a = {w.x - 2, w.y + w.h / 2}, b = {h.x + h.w + 2, h.y + h.h / 2};
            viz__line2(r, a, b, red);
            viz__arrow_head(r, a, b, red);
            /* the same task: from the holder's top, round the right of the
             * entries, into its waiter chip in the next entry (along the
             * chips' top edges, so no label is covered) */
            int x = right - (int)(i / 2) * 5;
            viz_point_t p0 = {h.x + h.w / 2, h.y - 1}, p1 = {x, h.y - 1}, p2 = {x, next.y - 1},
                        p3 = {next.x + next.w / 2, next.y - 1};
            viz__line2(r, p0, p1, red);
            viz__line2(r, p1, p2, red);
            viz__line2(r, p2, p3, red);
            viz__arrow_head(r, (viz_point_t){p3.x + 8, p3.y - 8}, p3, red);
        }
    }
    /* The cycle in words, in a red banner at the bottom of the floor. */
    viz_rect_t fl = l->lanes;
    int lines = d->len ? (int)d->len + 1 : 2, lh = l->line_h;
    if (fl.w >= 120 && fl.h >= (lines + 2) * lh) {
        viz_rect_t banner = {fl.x, fl.y + fl.h - lines * lh - 4, fl.w, lines * lh + 4};
        viz_render_fill(r, banner, red);
        viz_render_text(
            r, d->len ? "DEADLOCK: these tasks wait for each other; none can go on" : d->text,
            VIZ_TXT_SMALL_BOLD, VIZ_TEXT, (viz_rect_t){banner.x, banner.y + 2, banner.w, lh}, 6);
        for (uint32_t i = 0; i < d->len; i++)
            viz_render_text(r, d->edge[i], VIZ_TXT_SMALL, VIZ_TEXT,
                            (viz_rect_t){banner.x, banner.y + 2 + (int)(i + 1) * lh, banner.w, lh},
                            14);
    }
}
