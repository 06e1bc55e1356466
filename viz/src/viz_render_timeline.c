/*
 * viz_render_timeline.c — drawing the timeline band (the model in
 * viz_timeline.h, placed by viz_timeline_view.h): track labels, spans
 * (polls coloured by task, blocked red with stripes, parked dim, searching
 * green), steal and wake arrows, the part after the playhead dimmed, the
 * playhead, and the scrub slider with "event n of m" and the time. Part of
 * the renderer (viz_render_internal.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "al_console.h"
#include "al_event.h"
#include "viz_palette.h"
#include "viz_render_internal.h"
#include "viz_timeline.h"
#include "viz_timeline_view.h"

/* Task colours: distinct hues at similar lightness, none of them the
 * blocked red. */
static const viz_color_t viz__task_colors[VIZ_TL_TASK_COLORS] = {
    VIZ_RGB(86, 180, 233),  VIZ_RGB(0, 158, 115),   VIZ_RGB(230, 159, 0),   VIZ_RGB(204, 121, 167),
    VIZ_RGB(240, 228, 66),  VIZ_RGB(120, 160, 255), VIZ_RGB(150, 210, 140), VIZ_RGB(200, 170, 120),
    VIZ_RGB(170, 140, 220), VIZ_RGB(110, 200, 200),
};

#define VIZ__MANY VIZ_RGB(140, 150, 170) /* polls of several tasks, merged */

static viz_color_t viz__task_fill(unsigned slot)
{
    return viz__task_colors[slot % VIZ_TL_TASK_COLORS];
}

/* As the renderer does (viz_render.c): blend only what is translucent. */
static void viz__set(SDL_Renderer *sdl, viz_color_t c)
{
    SDL_SetRenderDrawColor(sdl, c.r, c.g, c.b, c.a);
    SDL_SetRenderDrawBlendMode(sdl, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
}

static void viz__fill(SDL_Renderer *sdl, int x, int y, int w, int h, viz_color_t c)
{
    if (w <= 0 || h <= 0)
        return;
    viz__set(sdl, c);
    SDL_RenderFillRect(sdl, &(SDL_Rect){x, y, w, h});
}

static viz_color_t viz__a(viz_color_t c, uint8_t a)
{
    c.a = a;
    return c;
}

/* A line with a small head at (x2, y2). */
static void viz__arrow(SDL_Renderer *sdl, int x1, int y1, int x2, int y2, viz_color_t c)
{
    viz__set(sdl, c);
    SDL_RenderDrawLine(sdl, x1, y1, x2, y2);
    int dy = y2 > y1 ? -4 : 4;
    SDL_RenderDrawLine(sdl, x2, y2, x2 - 3, y2 + dy);
    SDL_RenderDrawLine(sdl, x2, y2, x2 + 3, y2 + dy);
}

static const char *viz__dur(char *buf, size_t cap, uint64_t ns)
{
    return al_console_format_duration(buf, cap, ns);
}

static void viz__spans(viz_render_t *r, const viz_timeline_t *tl, const viz_tl_geom_t *g,
                       uint32_t i)
{
    SDL_Renderer *sdl = viz_render_sdl(r);
    const viz_tl_track_t *t = &tl->tracks[i];
    viz_rect_t row = viz_tl_row(g, i);
    /* Lower layer first (idle states, polls), then blocked over them. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < t->num_spans; k++) {
            const viz_tl_span_t *s = &t->spans[k];
            if ((s->kind == VIZ_TL_BLOCKED) != (pass == 1))
                continue;
            if (s->end_ns < tl->t0 || s->start_ns > tl->t1)
                continue;
            int x0 = viz_tl_x_of(g, tl->t0, tl->t1, s->start_ns);
            int x1 = viz_tl_x_of(g, tl->t0, tl->t1, s->end_ns);
            int w = x1 - x0 > 0 ? x1 - x0 : 1;
            switch (s->kind) {
            case VIZ_TL_POLL: {
                viz_color_t c =
                    s->task ? viz__task_fill(viz_timeline_task_color(s->task)) : VIZ__MANY;
                viz__fill(sdl, x0, row.y + 1, w, row.h - 2, c);
                if (w >= 40 && row.h >= 11 && s->task) {
                    const char *name = viz_timeline_task_name(tl, s->task);
                    char buf[48];
                    if (!name[0])
                        snprintf(buf, sizeof buf, "task %" PRIu64, s->task);
                    viz_render_text(r, name[0] ? name : buf, VIZ_TXT_SMALL, VIZ_TEXT_DARK,
                                    (viz_rect_t){x0, row.y, w, row.h}, 2);
                }
                break;
            }
            case VIZ_TL_BLOCKED: {
                viz__fill(sdl, x0, row.y, w, row.h, VIZ_BLOCKED);
                /* stripes: blocked is not told by colour alone */
                SDL_RenderSetClipRect(sdl, &(SDL_Rect){x0, row.y, w, row.h});
                viz__set(sdl, viz__a(VIZ_TEXT_DARK, 90));
                for (int x = x0 - row.h; x < x0 + w; x += 7)
                    SDL_RenderDrawLine(sdl, x, row.y + row.h, x + row.h, row.y);
                SDL_RenderSetClipRect(sdl, NULL);
                if (w >= 60 && row.h >= 11) {
                    char buf[96];
                    if (s->block_kind == AL_BLOCK_THREAD_SLEEP)
                        snprintf(buf, sizeof buf, "blocked: %s %" PRIu64 " ms",
                                 al_block_kind_name(s->block_kind), s->block_detail);
                    else
                        snprintf(buf, sizeof buf, "blocked: %s", al_block_kind_name(s->block_kind));
                    viz_render_text(r, buf, VIZ_TXT_SMALL_BOLD, VIZ_TEXT,
                                    (viz_rect_t){x0, row.y, w, row.h}, 3);
                }
                break;
            }
            case VIZ_TL_PARKED:
            case VIZ_TL_PARKED_DRIVER:
                viz__fill(sdl, x0, row.y + row.h / 2 - 1, w, 3,
                          s->kind == VIZ_TL_PARKED ? VIZ_RGB(90, 94, 104) : VIZ_RGB(70, 100, 140));
                break;
            case VIZ_TL_SEARCHING:
                viz__fill(sdl, x0, row.y + row.h / 3, w, row.h / 3 > 2 ? row.h / 3 : 2,
                          viz__a(VIZ_SEARCHING, 200));
                break;
            default:
                break;
            }
        }
    }
}

static int viz__row_mid(const viz_tl_geom_t *g, int32_t track)
{
    viz_rect_t row = viz_tl_row(g, (uint32_t)track);
    return row.y + row.h / 2;
}

/* Whether wake arrows are drawn: not when there are so many that they
 * would cover the tracks (more than one per 6 pixels); zooming in brings
 * them back. */
static bool viz__wakes_shown(const viz_timeline_t *tl, const viz_tl_geom_t *g)
{
    return viz_timeline_count_arrows(tl, VIZ_TL_WAKE) * 6 <=
           (size_t)(g->plot.w > 0 ? g->plot.w : 0);
}

static void viz__arrows(const viz_timeline_t *tl, const viz_tl_geom_t *g, SDL_Renderer *sdl)
{
    bool wakes = viz__wakes_shown(tl, g);
    for (size_t i = 0; i < tl->num_arrows; i++) {
        const viz_tl_arrow_t *a = &tl->arrows[i];
        if (a->kind == VIZ_TL_WAKE && !wakes)
            continue;
        bool to_ok = a->to_track >= 0 && (uint32_t)a->to_track < g->rows;
        bool from_ok = a->from_track >= 0 && (uint32_t)a->from_track < g->rows;
        if (!to_ok)
            continue;
        int x2 = viz_tl_x_of(g, tl->t0, tl->t1, a->to_ns), y2 = viz__row_mid(g, a->to_track);
        viz_color_t c = a->kind == VIZ_TL_STEAL ? VIZ_STEAL : viz__a(VIZ_WAKE, 170);
        if (from_ok) {
            int x1 = viz_tl_x_of(g, tl->t0, tl->t1, a->from_ns),
                y1 = viz__row_mid(g, a->from_track);
            if (x1 == x2 && y1 == y2)
                continue;
            viz__arrow(sdl, x1, y1, x2, y2, c);
            if (a->kind == VIZ_TL_STEAL) /* thicker: steals are rarer and matter */
                viz__arrow(sdl, x1 + 1, y1, x2 + 1, y2, c);
        } else {
            /* From a thread that is not drawn (the driver, block_on): a tick. */
            viz__set(sdl, c);
            SDL_RenderDrawLine(sdl, x2, y2 - g->row_h / 2, x2, y2);
        }
    }
}

static void viz__scrub(viz_render_t *r, const viz_timeline_t *tl, const viz_tl_geom_t *g,
                       uint64_t start, uint64_t end)
{
    SDL_Renderer *sdl = viz_render_sdl(r);
    viz_rect_t bar = g->bar;
    if (viz_rect_empty(bar))
        return;
    viz_render_text(r, "scrub", VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                    (viz_rect_t){g->scrub.x, g->scrub.y, g->labels.w, g->scrub.h}, 6);
    viz__fill(sdl, bar.x, bar.y + bar.h / 2 - 2, bar.w, 4, VIZ_PANEL_LINE);
    int x = viz_tl_scrub_x(g, start, end, tl->now_ns);
    viz__fill(sdl, bar.x, bar.y + bar.h / 2 - 2, x - bar.x, 4, VIZ_RUNNING);
    /* The window shown above, as a bracket on the slider. */
    int w0 = viz_tl_scrub_x(g, start, end, tl->t0), w1 = viz_tl_scrub_x(g, start, end, tl->t1);
    viz__fill(sdl, w0, bar.y + 1, w1 - w0 > 1 ? w1 - w0 : 1, bar.h - 2, viz__a(VIZ_TEXT, 40));
    viz__fill(sdl, x - 3, bar.y, 7, bar.h, VIZ_TEXT);
}

void viz_render_timeline(viz_render_t *r, const viz_scene_t *scene, const viz_layout_t *l)
{
    const viz_timeline_t *tl = scene->timeline;
    viz_rect_t band = l->timeline;
    int line_h = l->line_h;
    if (!tl || viz_rect_empty(band))
        return;
    SDL_Renderer *sdl = viz_render_sdl(r);
    viz_tl_geom_t g;
    viz_tl_geom(&g, band, tl->num_tracks, line_h);
    if (viz_rect_empty(band))
        return;
    const viz_recording_t *rec = tl->rec;
    uint64_t base = rec->header.clock_base_ns, first = viz_recording_first_ns(rec);
    uint64_t start = base && base < first ? base : first, end = viz_recording_last_ns(rec);
    viz__fill(sdl, band.x, band.y, band.w, band.h, VIZ_PANEL);
    viz__fill(sdl, band.x, band.y, band.w, 1, VIZ_PANEL_LINE);

    char buf[256], d1[32];
    bool lod = tl->arrows_truncated;
    for (uint32_t i = 0; i < tl->num_tracks; i++)
        lod |= tl->tracks[i].truncated;
    snprintf(buf, sizeof buf, "timeline: %s shown%s%s   Z X zoom  [ ] pan  0 follow",
             viz__dur(d1, sizeof d1, tl->t1 - tl->t0), lod ? " (zoom in for every span)" : "",
             viz__wakes_shown(tl, &g) ? "" : " (zoom in for wakes)");
    int tw = viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT_DIM, g.head, 6);
    snprintf(
        buf, sizeof buf, "event %zu of %zu   %.6f s of %.6f s   jump (N, Shift+N, K): %s", tl->pos,
        rec->num_events, tl->now_ns > start ? (double)(tl->now_ns - start) / 1e9 : 0.0,
        end > start ? (double)(end - start) / 1e9 : 0.0, tl->jump_kind ? tl->jump_kind : "any");
    viz_render_text(r, buf, VIZ_TXT_SMALL_BOLD, VIZ_TEXT,
                    (viz_rect_t){g.head.x + tw + 24, g.head.y, g.head.w - tw - 24, g.head.h}, 0);

    for (uint32_t i = 0; i < g.rows; i++) {
        viz_rect_t row = viz_tl_row(&g, i);
        viz__fill(sdl, row.x, row.y, row.w, row.h,
                  i % 2 ? VIZ_RGB(30, 33, 39) : VIZ_RGB(27, 29, 35));
        viz_render_text(r, tl->tracks[i].label, VIZ_TXT_SMALL,
                        tl->tracks[i].kind == VIZ_TL_WORKER ? VIZ_TEXT : VIZ_TEXT_DIM,
                        (viz_rect_t){g.labels.x, row.y, g.labels.w, g.row_h}, 6);
        SDL_RenderSetClipRect(sdl, &(SDL_Rect){g.plot.x, g.plot.y, g.plot.w, g.plot.h});
        viz__spans(r, tl, &g, i);
        SDL_RenderSetClipRect(sdl, NULL);
    }
    if (g.rows < tl->num_tracks) {
        snprintf(buf, sizeof buf, "+%u tracks", tl->num_tracks - g.rows);
        viz_render_text(r, buf, VIZ_TXT_SMALL, VIZ_TEXT_DIM,
                        (viz_rect_t){g.labels.x, g.plot.y + g.plot.h, g.labels.w, line_h}, 6);
    }
    SDL_RenderSetClipRect(sdl, &(SDL_Rect){g.plot.x, g.plot.y, g.plot.w, g.plot.h});
    viz__arrows(tl, &g, sdl);
    /* After the playhead: what has not happened yet, dimmed. */
    int px = viz_tl_x_of(&g, tl->t0, tl->t1, tl->now_ns);
    if (tl->now_ns < tl->t1)
        viz__fill(sdl, px, g.plot.y, g.plot.x + g.plot.w - px, g.plot.h, viz__a(VIZ_BG, 150));
    SDL_RenderSetClipRect(sdl, NULL);
    if (tl->now_ns >= tl->t0 && tl->now_ns <= tl->t1)
        viz__fill(sdl, px, g.plot.y, 2, g.plot.h, VIZ_TEXT);
    viz__scrub(r, tl, &g, start, end);
}
