/*
 * viz_timeline_view.c — the timeline's zoom, pan and geometry (see
 * viz_timeline_view.h).
 */
#include "viz_timeline_view.h"

#define VIZ__MIN_SPAN 1000ull          /* 1 us */
#define VIZ__MAX_SPAN 3600000000000ull /* 1 hour */
#define VIZ__LABEL_W 92
#define VIZ__ROW_MAX 22 /* a track's height in a roomy window */

void viz_tl_view_init(viz_tl_view_t *v, uint64_t start, uint64_t end)
{
    *v = (viz_tl_view_t){.follow = true};
    uint64_t d = end > start ? end - start : 0;
    v->span_ns = d / 4;
    if (v->span_ns < 100000)
        v->span_ns = 100000;
    if (v->span_ns > 2000000000ull)
        v->span_ns = 2000000000ull;
    v->center_ns = start + d / 2;
}

void viz_tl_view_window(const viz_tl_view_t *v, uint64_t now, uint64_t start, uint64_t end,
                        uint64_t *t0, uint64_t *t1)
{
    uint64_t span = v->span_ns ? v->span_ns : VIZ__MIN_SPAN;
    uint64_t before = v->follow ? span / 4 * 3 : span / 2;
    uint64_t anchor = v->follow ? now : v->center_ns;
    uint64_t a = anchor > before ? anchor - before : 0;
    if (end > start && span < end - start) {
        if (a < start)
            a = start;
        if (a + span > end)
            a = end - span;
    } else if (end > start || a > start) {
        a = start; /* the whole recording fits: show it from its start */
    }
    *t0 = a;
    *t1 = a + span;
}

static uint64_t viz__center(const viz_tl_view_t *v, uint64_t now, uint64_t start, uint64_t end)
{
    uint64_t t0, t1;
    viz_tl_view_window(v, now, start, end, &t0, &t1);
    return t0 + (t1 - t0) / 2;
}

void viz_tl_view_zoom(viz_tl_view_t *v, double factor, uint64_t anchor, uint64_t now,
                      uint64_t start, uint64_t end)
{
    uint64_t t0, t1;
    viz_tl_view_window(v, now, start, end, &t0, &t1);
    if (anchor < t0 || anchor > t1)
        anchor = t0 + (t1 - t0) / 2;
    double span = (double)v->span_ns * factor;
    if (span < VIZ__MIN_SPAN)
        span = VIZ__MIN_SPAN;
    if (span > VIZ__MAX_SPAN)
        span = VIZ__MAX_SPAN;
    /* Where the anchor sits, as a fraction of the window, stays. */
    double f = t1 > t0 ? (double)(anchor - t0) / (double)(t1 - t0) : 0.5;
    v->span_ns = (uint64_t)span;
    if (!v->follow) {
        double a0 = (double)anchor - f * span;
        v->center_ns = a0 + span / 2 > 0 ? (uint64_t)(a0 + span / 2) : 0;
    }
}

void viz_tl_view_pan(viz_tl_view_t *v, int64_t delta, uint64_t now, uint64_t start, uint64_t end)
{
    uint64_t c = v->follow ? viz__center(v, now, start, end) : v->center_ns;
    v->follow = false;
    if (delta < 0 && (uint64_t)-delta > c)
        c = 0;
    else
        c = (uint64_t)((int64_t)c + delta);
    /* Keep the middle inside the recording. */
    if (c < start)
        c = start;
    if (c > end)
        c = end;
    v->center_ns = c;
}

/* ---- geometry ---- */

static viz_rect_t viz__r(int x, int y, int w, int h)
{
    return (viz_rect_t){x, y, w > 0 ? w : 0, h > 0 ? h : 0};
}

int viz_tl_band_height(uint32_t tracks, int w, int h, int line_h)
{
    if (w < 400 || h < 360 || tracks == 0)
        return 0;
    int row = h >= 700 ? VIZ__ROW_MAX : 16;
    int want = line_h + (int)tracks * row + line_h + 14;
    int max = h * 35 / 100;
    return want < max ? want : max;
}

void viz_tl_geom(viz_tl_geom_t *g, viz_rect_t band, uint32_t tracks, int line_h)
{
    *g = (viz_tl_geom_t){.band = band};
    if (viz_rect_empty(band))
        return;
    int scrub_h = line_h + 10;
    g->head = viz__r(band.x, band.y, band.w, line_h);
    g->scrub = viz__r(band.x, band.y + band.h - scrub_h, band.w, scrub_h);
    int top = band.y + line_h, area = g->scrub.y - 2 - top;
    int label_w = band.w >= 600 ? VIZ__LABEL_W : band.w / 6;
    g->row_h = tracks ? area / (int)tracks : 0;
    if (g->row_h > VIZ__ROW_MAX)
        g->row_h = VIZ__ROW_MAX;
    if (g->row_h < 6)
        g->row_h = 6;
    g->rows = area > 0 ? (uint32_t)(area / g->row_h) : 0;
    if (g->rows > tracks)
        g->rows = tracks;
    g->labels = viz__r(band.x, top, label_w, (int)g->rows * g->row_h);
    g->plot = viz__r(band.x + label_w, top, band.w - label_w - 6, (int)g->rows * g->row_h);
    /* The slider's bar under the plot; its text to the left of it. */
    g->bar = viz__r(g->plot.x, g->scrub.y + 4, g->plot.w, g->scrub.h - 8);
}

viz_rect_t viz_tl_row(const viz_tl_geom_t *g, uint32_t i)
{
    if (i >= g->rows)
        return viz__r(0, 0, 0, 0);
    return viz__r(g->plot.x, g->plot.y + (int)i * g->row_h, g->plot.w, g->row_h - 1);
}

static int viz__x(viz_rect_t r, uint64_t a, uint64_t b, uint64_t ts)
{
    if (ts <= a || b <= a)
        return r.x;
    if (ts >= b)
        return r.x + r.w;
    return r.x + (int)((double)(ts - a) / (double)(b - a) * r.w);
}

static uint64_t viz__t(viz_rect_t r, uint64_t a, uint64_t b, int x)
{
    if (x <= r.x || r.w <= 0)
        return a;
    if (x >= r.x + r.w)
        return b;
    return a + (uint64_t)((double)(x - r.x) / r.w * (double)(b - a));
}

int viz_tl_x_of(const viz_tl_geom_t *g, uint64_t t0, uint64_t t1, uint64_t ts)
{
    return viz__x(g->plot, t0, t1, ts);
}

uint64_t viz_tl_time_at(const viz_tl_geom_t *g, uint64_t t0, uint64_t t1, int x)
{
    return viz__t(g->plot, t0, t1, x);
}

int viz_tl_scrub_x(const viz_tl_geom_t *g, uint64_t start, uint64_t end, uint64_t ts)
{
    return viz__x(g->bar, start, end, ts);
}

uint64_t viz_tl_scrub_time(const viz_tl_geom_t *g, uint64_t start, uint64_t end, int x)
{
    return viz__t(g->bar, start, end, x);
}
