/*
 * viz_render_panel.c — drawing the console panel (viz_panel.h) and the
 * metrics strip (viz_metrics.h) where viz_panel_layout.h puts them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "al_lint.h"
#include "viz_panel_layout.h"
#include "viz_render_internal.h"

#define VIZ__SEL_ROW VIZ_RGB(70, 76, 92)

static const char *viz__dur(char *buf, uint64_t ns)
{
    return al_console_format_duration(buf, 32, ns);
}

static viz_color_t viz__state_color(uint8_t state)
{
    switch (state) {
    case AL_TASK_RUNNING:
        return VIZ_RUNNING;
    case AL_TASK_SCHEDULED:
        return VIZ_CHIP;
    case AL_TASK_BLOCKED:
        return VIZ_BLOCKED;
    case AL_TASK_DONE:
        return VIZ_PANEL_LINE;
    default:
        return VIZ_IDLE;
    }
}

static void viz__cell(viz_render_t *r, const char *text, viz_rect_t col, viz_rect_t row,
                      viz_color_t c)
{
    viz_render_text(r, text, VIZ_TXT_SMALL, c, (viz_rect_t){col.x, row.y, col.w, row.h}, 2);
}

static void viz__table(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    const viz_panel_box_t *b = &l->panel;
    const viz_panel_t *p = &s->panel;
    char buf[128], d[32];
    snprintf(buf, sizeof buf, "tasks (%u; %u listed)  sort: %s %s   keys 1-6, click a heading",
             p->tasks_total, b->rows, viz_panel_col_name(s->view.panel.sort),
             viz_panel_ascending(&s->view.panel) ? "\xe2\x86\x91" : "\xe2\x86\x93");
    viz_render_text(r, buf, VIZ_TXT_SMALL_BOLD, VIZ_TEXT,
                    (viz_rect_t){b->head.x, b->head.y - l->line_h, b->head.w, l->line_h}, 0);
    viz_render_fill(r, b->head, VIZ_PANEL_LINE);
    for (unsigned c = 0; c < VIZ_PANEL_COLS; c++) {
        bool sorted = s->view.panel.sort == c;
        int key = c >= VIZ_COL_STATE && c <= VIZ_COL_LAST_POLL ? (int)(c - VIZ_COL_STATE + 1) : 0;
        if (key)
            snprintf(buf, sizeof buf, "%d %s", key, viz_panel_col_name(c));
        else
            snprintf(buf, sizeof buf, "%s", viz_panel_col_name(c));
        viz_render_text(r, buf, sorted ? VIZ_TXT_SMALL_BOLD : VIZ_TXT_SMALL,
                        sorted ? VIZ_WAKE : VIZ_TEXT, b->col[c], 2);
    }
    for (uint32_t i = 0; i < b->rows && i < p->num_rows; i++) {
        const viz_panel_row_t *row = &p->rows[i];
        viz_rect_t rr = viz_panel_row_rect(b, i);
        bool hl = viz_scene_task_highlighted(s, row->id);
        if (hl)
            viz_render_fill(r, rr, VIZ__SEL_ROW);
        else if (i % 2)
            viz_render_fill(r, rr, VIZ_RGB(40, 43, 51));
        viz_color_t tc = row->state == AL_TASK_DONE ? VIZ_TEXT_DIM : VIZ_TEXT;
        viz__cell(r, row->label, b->col[VIZ_COL_TASK], rr, tc);
        viz_rect_t sc = b->col[VIZ_COL_STATE];
        viz_render_fill(r, (viz_rect_t){sc.x + 1, rr.y + 3, 4, rr.h - 6},
                        viz__state_color(row->state));
        viz__cell(r, al_task_state_name(row->state), (viz_rect_t){sc.x + 5, sc.y, sc.w - 5, sc.h},
                  rr, tc);
        snprintf(buf, sizeof buf, "%" PRIu64, row->polls);
        viz__cell(r, buf, b->col[VIZ_COL_POLLS], rr, tc);
        snprintf(buf, sizeof buf, "%" PRIu64, row->wakes);
        viz__cell(r, buf, b->col[VIZ_COL_WAKES], rr, tc);
        viz__cell(r, viz__dur(d, row->busy_ns), b->col[VIZ_COL_BUSY], rr, tc);
        viz__cell(r, viz__dur(d, row->idle_ns), b->col[VIZ_COL_IDLE], rr, tc);
        viz__cell(r, viz__dur(d, row->sched_ns), b->col[VIZ_COL_SCHED], rr, tc);
        if (row->never_polled)
            snprintf(buf, sizeof buf, "never");
        else
            snprintf(buf, sizeof buf, "%s ago", viz__dur(d, row->last_poll_ago_ns));
        viz__cell(r, buf, b->col[VIZ_COL_LAST_POLL], rr, tc);
    }
}

static void viz__lints(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_rect_t a = l->panel.lints;
    if (a.h < l->line_h)
        return;
    const viz_panel_t *p = &s->panel;
    char buf[256], d[32];
    int line = l->line_h;
    snprintf(buf, sizeof buf, "lints: %u firing now, %u fired so far", p->lints_now,
             p->lints_total);
    viz_render_text(r, buf, VIZ_TXT_SMALL_BOLD, p->lints_total ? VIZ_BAR_MEDIUM : VIZ_TEXT,
                    (viz_rect_t){a.x, a.y, a.w, line}, 0);
    if (!p->num_lints)
        viz_render_text(r, "none", VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                        (viz_rect_t){a.x + 8, a.y + line, a.w - 8, line}, 0);
    int y = a.y + line;
    for (uint32_t i = 0; i < p->num_lints && y + 2 * line <= a.y + a.h; i++, y += 2 * line) {
        const viz_panel_lint_t *f = &p->lints[i];
        bool hl = viz_scene_task_highlighted(s, f->task);
        snprintf(buf, sizeof buf, "%s%s, fired %s ago", f->now ? "NOW  " : "",
                 al_lint_name(f->lint), viz__dur(d, f->ago_ns));
        viz_render_text(r, buf, VIZ_TXT_SMALL_BOLD,
                        hl       ? VIZ_WAKE
                        : f->now ? VIZ_BAR_MEDIUM
                                 : VIZ_TEXT_DIM,
                        (viz_rect_t){a.x + 8, y, a.w - 8, line}, 0);
        viz_render_text(r, f->message, VIZ_TXT_SMALL, VIZ_TEXT,
                        (viz_rect_t){a.x + 8, y + line - 2, a.w - 8, line}, 0);
    }
}

/* A histogram: bars, with p50 / p90 / p99 / max under them. */
static int viz__hist(viz_render_t *r, const char *title, const viz_panel_hist_t *h, viz_rect_t a,
                     int line)
{
    char buf[160], d1[32], d2[32], d3[32], d4[32];
    snprintf(buf, sizeof buf, "%s: p50 %s  p90 %s  p99 %s  max %s", title, viz__dur(d1, h->p50),
             viz__dur(d2, h->p90), viz__dur(d3, h->p99), viz__dur(d4, h->max));
    viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT, (viz_rect_t){a.x, a.y, a.w, line}, 0);
    int bh = 26;
    if (a.h < line + bh)
        return line;
    viz_rect_t area = {a.x, a.y + line, a.w < 300 ? a.w : 300, bh};
    viz_render_fill(r, area, VIZ_RGB(28, 30, 36));
    uint32_t top = 0;
    for (int i = 0; i < VIZ_PANEL_HIST; i++)
        if (h->bars[i] > top)
            top = h->bars[i];
    int bw = area.w / VIZ_PANEL_HIST;
    for (int i = 0; i < VIZ_PANEL_HIST && top; i++) {
        int hh = (int)((uint64_t)h->bars[i] * (uint64_t)(bh - 2) / top);
        if (h->bars[i] && hh < 1)
            hh = 1;
        viz_render_fill(r, (viz_rect_t){area.x + i * bw + 1, area.y + bh - 1 - hh, bw - 1, hh},
                        VIZ_CHIP);
    }
    if (h->count) {
        snprintf(buf, sizeof buf, "%" PRIu64 " samples, %s .. %s", h->count, viz__dur(d1, h->lo_ns),
                 viz__dur(d2, h->hi_ns));
        viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                        (viz_rect_t){area.x + area.w + 6, area.y, a.w - area.w - 6, bh}, 0);
    }
    return line + bh + 2;
}

static void viz__details(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_rect_t a = l->panel.details;
    int line = l->line_h;
    if (a.h < line)
        return;
    const viz_panel_details_t *d = &s->panel.details;
    viz_render_fill(r, (viz_rect_t){a.x, a.y, a.w, 1}, VIZ_PANEL_LINE);
    viz_render_text(r, d->title, VIZ_TXT_SMALL_BOLD,
                    d->kind == VIZ_SEL_NONE ? VIZ_TEXT_DIM : VIZ_WAKE,
                    (viz_rect_t){a.x, a.y + 2, a.w, line}, 0);
    int y = a.y + line + 2, bottom = a.y + a.h;
    if (d->kind == VIZ_SEL_TASK && s->hl.where[0] && y + line <= bottom) {
        viz_render_text(r, s->hl.where, VIZ_TXT_SMALL, VIZ_TEXT,
                        (viz_rect_t){a.x + 8, y, a.w - 8, line}, 0);
        y += line - 2;
    }
    for (uint32_t i = 0; i < d->num_lines && y + line <= bottom; i++, y += line - 2)
        viz_render_text(r, d->lines[i], VIZ_TXT_SMALL, VIZ_TEXT,
                        (viz_rect_t){a.x + 8, y, a.w - 8, line}, 0);
    if (d->have_hist) {
        y += 4;
        if (y + line <= bottom)
            y += viz__hist(r, "poll time", &d->poll, (viz_rect_t){a.x + 8, y, a.w - 8, bottom - y},
                           line);
        if (y + line <= bottom)
            y += viz__hist(r, "scheduled", &d->sched, (viz_rect_t){a.x + 8, y, a.w - 8, bottom - y},
                           line);
    }
    if (d->traceback[0] && y + line <= bottom) {
        viz_render_text(r, "traceback", VIZ_TXT_SMALL_BOLD, VIZ_TEXT,
                        (viz_rect_t){a.x, y, a.w, line}, 0);
        y += line;
        const char *p = d->traceback;
        while (*p && y + line <= bottom) {
            size_t n = strcspn(p, "\n");
            char buf[128];
            snprintf(buf, sizeof buf, "%.*s", (int)(n < 127 ? n : 127), p);
            viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                            (viz_rect_t){a.x + 8, y, a.w - 8, line}, 0);
            y += line - 3;
            p += n + (p[n] == '\n');
        }
    }
}

void viz_render_panel(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    const viz_panel_box_t *b = &l->panel;
    if (viz_rect_empty(b->area))
        return;
    viz_render_fill(r, b->area, VIZ_PANEL);
    viz_render_outline(r, b->area, VIZ_PANEL_LINE);
    viz__table(r, s, l);
    viz__lints(r, s, l);
    viz__details(r, s, l);
}

/* ---- the metrics strip ---- */

static void viz__spark(viz_render_t *r, viz_rect_t a, const float *v, uint32_t n, float top,
                       viz_color_t c)
{
    viz_render_fill(r, a, VIZ_RGB(28, 30, 36));
    if (n == 0 || a.w < 4 || a.h < 4)
        return;
    if (top <= 0)
        top = 1;
    SDL_Renderer *sdl = viz_render_sdl(r);
    /* one column per pixel: the sample under it, filled from the bottom */
    for (int x = 0; x < a.w; x++) {
        uint32_t i = (uint32_t)((uint64_t)x * VIZ_METRIC_SAMPLES / (uint64_t)a.w);
        if (i >= n)
            break;
        int h = (int)(v[i] / top * (float)(a.h - 2));
        if (v[i] > 0 && h < 1)
            h = 1;
        SDL_SetRenderDrawColor(sdl, c.r, c.g, c.b, 200);
        SDL_RenderDrawLine(sdl, a.x + x, a.y + a.h - 1, a.x + x, a.y + a.h - 1 - h);
    }
}

void viz_render_metrics(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_rect_t a = l->metrics;
    if (viz_rect_empty(a))
        return;
    const viz_metrics_strip_t *m = &s->metrics;
    int line = l->line_h, gap = 10, w = (a.w - 2 * gap) / 3;
    char buf[96], d[32];
    struct {
        const char *what;
        const float *v;
        float top;
        viz_color_t c;
    } parts[3] = {{"alive tasks", m->alive, m->alive_max, VIZ_CHIP},
                  {"queued tasks", m->queued, m->queued_max, VIZ_OVERFLOW},
                  {"busy %", m->busy, 100, VIZ_SEARCHING}};
    for (int i = 0; i < 3; i++) {
        viz_rect_t box = {a.x + i * (w + gap), a.y, w, a.h};
        if (i == 0)
            snprintf(buf, sizeof buf, "alive tasks %" PRIu64 " (max %.0f)", m->alive_now,
                     (double)m->alive_max);
        else if (i == 1)
            snprintf(buf, sizeof buf, "queued %" PRIu64 " (max %.0f)", m->queued_now,
                     (double)m->queued_max);
        else
            snprintf(buf, sizeof buf, "busy %.0f%%  (per %s)", m->busy_now,
                     viz__dur(d, m->bucket_ns));
        viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                        (viz_rect_t){box.x, box.y, box.w, line}, 0);
        viz__spark(r, (viz_rect_t){box.x, box.y + line, box.w, box.h - line}, parts[i].v, m->n,
                   parts[i].top, parts[i].c);
    }
}
