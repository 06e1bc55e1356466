/*
 * viz_layout.c — rectangles for a scene in a window (see viz_layout.h).
 */
#include <string.h>

#include "viz_layout.h"
#include "viz_panel_layout.h"
#include "viz_timeline_view.h"

static int viz__clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static viz_rect_t viz__rect(int x, int y, int w, int h)
{
    return (viz_rect_t){x, y, w > 0 ? w : 0, h > 0 ? h : 0};
}

bool viz_rect_empty(viz_rect_t r)
{
    return r.w <= 0 || r.h <= 0;
}

bool viz_rect_inside(viz_rect_t in, viz_rect_t out)
{
    return in.x >= out.x && in.y >= out.y && in.x + in.w <= out.x + out.w &&
           in.y + in.h <= out.y + out.h;
}

bool viz_rect_overlap(viz_rect_t a, viz_rect_t b)
{
    if (viz_rect_empty(a) || viz_rect_empty(b))
        return false;
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* How many chips of width cw (gap between) fit in width w, for n tasks:
 * all of them, or as many as fit less one, which becomes the "+N" chip. */
static void viz__fit(int w, int cw, int gap, uint32_t n, uint32_t kept, uint32_t *chips,
                     uint32_t *more)
{
    uint32_t fit = w > 0 && cw > 0 ? (uint32_t)((w + gap) / (cw + gap)) : 0;
    uint32_t c = n <= fit ? n : fit > 0 ? fit - 1 : 0;
    if (c > kept)
        c = kept;
    *chips = c;
    *more = n - c;
}

/* ---- lanes ---- */

static void viz__lane(viz_layout_t *l, viz_lane_box_t *b, const viz_lane_t *lane, viz_rect_t r)
{
    int line = l->line_h;
    int pad = r.w < 100 ? 0 : r.h >= 30 ? 3 : r.h >= 14 ? 1 : 0;
    int inner = r.h - 2 * pad;
    b->lane = r;
    /* Two lines in the normal font, or one in the small font. */
    b->text_lines = inner >= 2 * line - 2 ? 2 : inner >= VIZ_FONT_SMALL_PX + 3 ? 1 : 0;
    int label_w = r.w * 24 / 100, task_w = r.w * 20 / 100;
    if (label_w > 260)
        label_w = 260;
    if (task_w > 220)
        task_w = 220;
    int x = r.x + pad, y = r.y + pad;
    b->label = viz__rect(x, y, label_w - pad, inner);
    x += label_w;
    b->task = viz__rect(x, y, task_w - pad, inner);
    int bar_h = viz__clamp(inner / 4, 1, 5);
    b->bar = viz__rect(b->task.x + (pad ? 2 : 0), b->task.y + b->task.h - bar_h - (pad ? 1 : 0),
                       b->task.w - (pad ? 4 : 0), bar_h);
    if (viz_rect_empty(b->task))
        b->bar = b->task;
    x += task_w;
    int lifo_w = l->chip_w < r.x + r.w - pad - x ? l->chip_w : r.x + r.w - pad - x;
    b->lifo = viz__rect(x, y, lifo_w, inner);
    x += lifo_w + 2 * l->chip_gap + 2;
    b->queue = viz__rect(x, y, r.x + r.w - pad - x, inner);
    viz__fit(b->queue.w, l->chip_w, l->chip_gap, lane->queue_len, lane->queue_kept, &b->chips,
             &b->more);
}

static void viz__lanes(viz_layout_t *l, const viz_scene_t *s)
{
    viz_rect_t a = l->lanes;
    uint32_t n = s->num_lanes;
    l->num_lanes = n;
    if (n == 0 || viz_rect_empty(a))
        return;
    int cols = 1, rows = (int)n;
    int lane_h = a.h / rows;
    while (lane_h < l->line_h + 8 && cols < 4 && a.w / (cols + 1) >= 360) {
        cols++;
        rows = ((int)n + cols - 1) / cols;
        lane_h = a.h / rows;
    }
    if (lane_h > 2 * l->line_h + 22)
        lane_h = 2 * l->line_h + 22;
    if (lane_h < 1)
        lane_h = 1;
    l->cols = cols;
    l->rows = rows;
    int gap = lane_h >= 30 ? 4 : lane_h >= 12 ? 2 : lane_h >= 4 ? 1 : 0;
    int col_gap = cols > 1 ? 10 : 0;
    int col_w = (a.w - (cols - 1) * col_gap) / cols;
    l->chip_gap = lane_h >= 12 ? 3 : 1;
    l->chip_w = viz__clamp(col_w / 15, 3, 80);
    for (uint32_t i = 0; i < n; i++) {
        int c = (int)i / rows, r = (int)i % rows;
        int x = a.x + c * (col_w + col_gap), y = a.y + r * lane_h;
        if (col_w <= 0 || y + lane_h > a.y + a.h)
            continue; /* no room: not drawn */
        viz__lane(l, &l->lane[i], &s->lanes[i], viz__rect(x, y, col_w, lane_h - gap));
    }
}

/* ---- the side panel ---- */

/* Take h pixels of the side panel at *y; false (and nothing taken) when
 * less than min remain. */
static bool viz__take(const viz_layout_t *l, int *y, int h, int min, viz_rect_t *out)
{
    int bottom = l->side.y + l->side.h;
    if (h > bottom - *y)
        h = bottom - *y;
    if (h < min) {
        *out = viz__rect(0, 0, 0, 0);
        return false;
    }
    *out = viz__rect(l->side.x, *y, l->side.w, h);
    *y += h + 8;
    return true;
}

static void viz__row(const viz_layout_t *l, viz_chip_row_t *row, viz_rect_t area, uint32_t n,
                     uint32_t kept)
{
    row->area = area;
    viz__fit(area.w, l->side_chip_w, 3, n, kept, &row->chips, &row->more);
}

static void viz__side(viz_layout_t *l, const viz_scene_t *s)
{
    int line = l->line_h, row_h = line + 4, y = l->side.y;
    l->side_chip_w = viz__clamp(l->side.w / 6, 24, 80);
    if (viz__take(l, &y, line + row_h, line + row_h, &l->inject))
        viz__row(l, &l->inject_row,
                 viz__rect(l->inject.x + 8, l->inject.y + line, l->inject.w - 8, row_h),
                 s->inject_len, s->inject_kept);
    uint32_t want = s->num_blocking < 6 ? s->num_blocking : 6;
    if (viz__take(l, &y, line * (1 + (int)want), line, &l->blocking))
        l->blocking_lines = (uint32_t)(l->blocking.h / line - 1);
    if (l->blocking_lines > want)
        l->blocking_lines = want;
    viz__take(l, &y, 2 * line, line, &l->driver);
    int idle_h = line + (int)s->num_groups * (line + row_h);
    if (viz__take(l, &y, idle_h, line, &l->idle)) {
        int gy = l->idle.y + line;
        for (uint32_t g = 0; g < s->num_groups && gy + line + row_h <= l->idle.y + l->idle.h; g++) {
            l->group_label[g] = viz__rect(l->idle.x, gy, l->idle.w, line);
            viz__row(l, &l->group_row[g], viz__rect(l->idle.x + 8, gy + line, l->idle.w - 8, row_h),
                     s->groups[g].count, s->groups[g].kept);
            l->num_groups++;
            gy += line + row_h;
        }
    }
    int res_h = line + (int)s->num_resources * (line + row_h);
    if (viz__take(l, &y, res_h, line, &l->resources)) {
        int ry = l->resources.y + line;
        for (uint32_t i = 0;
             i < s->num_resources && ry + line + row_h <= l->resources.y + l->resources.h; i++) {
            l->resource[i] = viz__rect(l->resources.x, ry, l->resources.w, line + row_h);
            l->num_resources++;
            ry += line + row_h;
        }
    }
}

void viz_layout_compute(viz_layout_t *l, const viz_scene_t *s, int w, int h)
{
    memset(l, 0, sizeof *l);
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    l->w = w;
    l->h = h;
    l->font_px = w >= 640 && h >= 360 ? VIZ_FONT_PX : VIZ_FONT_SMALL_PX;
    l->line_h = l->font_px + 5;
    int line = l->line_h, top = 0, bottom = h;
    if (h >= 3 * line && w >= 60) {
        l->header = viz__rect(0, 0, w, line + 4);
        top = line + 4;
    }
    if (h >= 300 && w >= 300) {
        l->footer = viz__rect(0, h - line - 2, w, line + 2);
        bottom = h - line - 2;
    }
    if (s->timeline) { /* the timeline band above the footer (viz_timeline_view.h) */
        uint32_t tracks = s->num_workers + s->blocking_threads;
        int band = viz_tl_band_height(tracks, w, bottom - top, line);
        l->timeline = viz__rect(0, bottom - band, w, band);
        bottom -= band;
    }
    int m = w >= 400 && h >= 200 ? 8 : w >= 100 && h >= 50 ? 2 : 0;
    viz_rect_t body = viz__rect(m, top + m, w - 2 * m, bottom - top - 2 * m);
    viz_panel_layout(l, s, &body); /* the console panel and metrics strip take their part */
    if (body.w >= 700 && body.h >= 200) {
        int sw = viz__clamp(body.w * 3 / 10, 240, 420);
        l->side = viz__rect(body.x + body.w - sw, body.y, sw, body.h);
        l->side_visible = true;
        body.w -= sw + 2 * m;
    } else if (body.h >= 120 && body.w >= 100) {
        int strip = line + 4;
        l->inject = viz__rect(body.x, body.y + body.h - strip, body.w, strip);
        body.h -= strip + m;
    }
    if (body.h >= 160 && body.w >= 300) {
        l->lanes_head = viz__rect(body.x, body.y, body.w, line);
        body.y += line;
        body.h -= line;
    }
    l->lanes = body;
    viz__lanes(l, s);
    if (l->side_visible) {
        viz__side(l, s);
    } else if (!viz_rect_empty(l->inject)) {
        l->side_chip_w = viz__clamp(l->inject.w / 12, 16, 60);
        int label_w = l->inject.w / 5;
        viz__row(l, &l->inject_row,
                 viz__rect(l->inject.x + label_w, l->inject.y, l->inject.w - label_w, l->inject.h),
                 s->inject_len, s->inject_kept);
    }
}

viz_rect_t viz_layout_lane_chip(const viz_layout_t *l, uint32_t lane, uint32_t i)
{
    if (lane >= l->num_lanes)
        return viz__rect(0, 0, 0, 0);
    viz_rect_t q = l->lane[lane].queue;
    return viz__rect(q.x + (int)i * (l->chip_w + l->chip_gap), q.y, l->chip_w, q.h);
}

viz_rect_t viz_layout_row_chip(const viz_layout_t *l, const viz_chip_row_t *row, uint32_t i)
{
    viz_rect_t a = row->area;
    return viz__rect(a.x + (int)i * (l->side_chip_w + 3), a.y + 2, l->side_chip_w, a.h - 4);
}

static viz_point_t viz__center(viz_rect_t r)
{
    return (viz_point_t){r.x + r.w / 2, r.y + r.h / 2};
}

/* Chip `slot` of a row of `chips` in `area` (-1 or past the end: just after
 * the last chip, kept inside the area). */
static viz_rect_t viz__slot(viz_rect_t area, viz_rect_t chip, int slot, uint32_t chips)
{
    if (slot < 0 || (uint32_t)slot > chips)
        slot = (int)chips;
    int step = chip.w;
    viz_rect_t r = chip;
    r.x = area.x + slot * step;
    if (r.x + r.w > area.x + area.w)
        r.x = area.x + area.w - r.w;
    if (r.x < area.x)
        r.x = area.x;
    return r;
}

bool viz_layout_point(const viz_layout_t *l, viz_place_t p, viz_point_t *out)
{
    viz_rect_t r = {0, 0, 0, 0};
    const viz_lane_box_t *b =
        p.index >= 0 && (uint32_t)p.index < l->num_lanes ? &l->lane[p.index] : NULL;
    switch (p.kind) {
    case VIZ_AT_LANE_TASK:
        if (b)
            r = b->task;
        break;
    case VIZ_AT_LANE_LIFO:
        if (b)
            r = b->lifo;
        break;
    case VIZ_AT_LANE_QUEUE:
        if (b && !viz_rect_empty(b->queue)) {
            viz_rect_t chip = viz__rect(0, b->queue.y, l->chip_w + l->chip_gap, b->queue.h);
            r = viz__slot(b->queue, chip, p.slot, b->chips);
            r.w = l->chip_w < b->queue.w ? l->chip_w : b->queue.w;
        }
        break;
    case VIZ_AT_INJECT:
        if (!viz_rect_empty(l->inject_row.area)) {
            viz_rect_t a = l->inject_row.area;
            viz_rect_t chip = viz__rect(0, a.y, l->side_chip_w + 3, a.h);
            r = viz__slot(a, chip, p.slot, l->inject_row.chips);
            r.w = l->side_chip_w < a.w ? l->side_chip_w : a.w;
        } else {
            r = l->inject;
        }
        break;
    case VIZ_AT_BLOCKING:
        r = l->blocking;
        break;
    case VIZ_AT_DRIVER:
        r = l->driver;
        break;
    case VIZ_AT_IDLE:
        r = l->idle;
        break;
    case VIZ_AT_OUTSIDE:
        r = l->header;
        if (!viz_rect_empty(r)) {
            r.x += r.w * 3 / 4;
            r.w /= 4;
        }
        break;
    default:
        break;
    }
    if (viz_rect_empty(r))
        return false;
    *out = viz__center(r);
    return true;
}
