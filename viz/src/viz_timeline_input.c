/*
 * viz_timeline_input.c — the timeline band's keys and mouse (see
 * viz_timeline_input.h).
 */
#include <stdlib.h>
#include <time.h>

#include "al_error.h"
#include "viz_jump.h"
#include "viz_timeline_input.h"

int viz_tl_ui_new(const viz_recording_t *rec, viz_tl_ui_t **out)
{
    viz_tl_ui_t *ui = calloc(1, sizeof *ui);
    if (!ui)
        return AL_ENOMEM;
    if (viz_timeline_new(rec, &ui->model) != 0) {
        free(ui);
        return AL_ENOMEM;
    }
    uint64_t base = rec->header.clock_base_ns, first = viz_recording_first_ns(rec);
    viz_tl_view_init(&ui->view, base && base < first ? base : first, viz_recording_last_ns(rec));
    ui->view.jump_kind = VIZ_JUMP_LINT;
    *out = ui;
    return 0;
}

void viz_tl_ui_free(viz_tl_ui_t *ui)
{
    if (!ui)
        return;
    viz_timeline_free(ui->model);
    free(ui);
}

static uint64_t viz__wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int viz_tl_ui_frame(viz_tl_ui_t *ui, const viz_player_t *p, int w)
{
    uint64_t now = viz__wall_ns();
    if (ui->throttle && ui->build_ns > 10000000 && now - ui->built_at_ns < 4 * ui->build_ns &&
        ui->model->built_events == p->rec->num_events) {
        ui->model->now_ns = p->now_ns; /* only the playhead and the slider move */
        ui->model->pos = p->pos;
        return 0;
    }
    uint64_t t0, t1;
    viz_tl_view_window(&ui->view, p->now_ns, viz_player_start_ns(p), viz_player_end_ns(p), &t0,
                       &t1);
    int plot_w = w > 200 ? w - 100 : 100;
    uint64_t min_ns = (t1 - t0) / (uint64_t)plot_w;
    ui->model->jump_kind = viz_jump_kind_name(ui->view.jump_kind);
    uint64_t builds = ui->model->builds;
    int rc = viz_timeline_update(ui->model, t0, t1, min_ns, p->now_ns, p->pos);
    if (ui->model->builds != builds) {
        uint64_t end = viz__wall_ns();
        ui->build_ns = end - now;
        ui->built_at_ns = end;
    }
    return rc;
}

static void viz__zoom(viz_tl_ui_t *ui, viz_player_t *p, double f, uint64_t anchor)
{
    viz_tl_view_zoom(&ui->view, f, anchor, p->now_ns, viz_player_start_ns(p), viz_player_end_ns(p));
}

static void viz__pan(viz_tl_ui_t *ui, viz_player_t *p, int64_t delta)
{
    viz_tl_view_pan(&ui->view, delta, p->now_ns, viz_player_start_ns(p), viz_player_end_ns(p));
}

bool viz_tl_ui_key(viz_tl_ui_t *ui, viz_player_t *p, SDL_Keycode k, uint16_t mod)
{
    int64_t step = (int64_t)(ui->view.span_ns / 4);
    switch (k) {
    case SDLK_z:
        viz__zoom(ui, p, 0.5, p->now_ns);
        return true;
    case SDLK_x:
        viz__zoom(ui, p, 2.0, p->now_ns);
        return true;
    case SDLK_LEFTBRACKET:
        viz__pan(ui, p, -step);
        return true;
    case SDLK_RIGHTBRACKET:
        viz__pan(ui, p, step);
        return true;
    case SDLK_0:
    case SDLK_KP_0: {
        unsigned kind = ui->view.jump_kind;
        viz_tl_view_init(&ui->view, viz_player_start_ns(p), viz_player_end_ns(p));
        ui->view.jump_kind = kind;
        return true;
    }
    case SDLK_k:
        ui->view.jump_kind = (ui->view.jump_kind + 1) % VIZ_JUMP__COUNT;
        return true;
    case SDLK_n: {
        p->playing = false;
        size_t to = viz_jump_find(p->rec, p->pos, ui->view.jump_kind, mod & KMOD_SHIFT ? -1 : 1);
        if (to != p->pos)
            viz_player_seek_event(p, to);
        ui->view.follow = true; /* show where we landed */
        return true;
    }
    default:
        return false;
    }
}

static bool viz__in(viz_rect_t r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

static void viz__scrub_to(viz_tl_ui_t *ui, viz_player_t *p, const viz_tl_geom_t *g, int x)
{
    viz_player_seek_ns(p, viz_tl_scrub_time(g, viz_player_start_ns(p), viz_player_end_ns(p), x));
    ui->view.follow = true;
}

bool viz_tl_ui_mouse(viz_tl_ui_t *ui, viz_player_t *p, const SDL_Event *e, int x, int y,
                     viz_rect_t band, int line_h)
{
    viz_tl_geom_t g;
    viz_tl_geom(&g, band, ui->model->num_tracks, line_h);
    const viz_timeline_t *tl = ui->model;
    switch (e->type) {
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button != SDL_BUTTON_LEFT)
            return false;
        if (viz__in(g.scrub, x, y)) {
            p->playing = false;
            ui->view.drag_scrub = true;
            viz__scrub_to(ui, p, &g, x);
            return true;
        }
        if (viz__in(g.plot, x, y)) {
            viz_tl_view_pan(&ui->view, 0, p->now_ns, viz_player_start_ns(p),
                            viz_player_end_ns(p)); /* stop following, stay put */
            ui->view.drag_plot = true;
            ui->view.drag_x = x;
            ui->view.drag_center_ns = ui->view.center_ns;
            return true;
        }
        return false;
    case SDL_MOUSEMOTION:
        if (ui->view.drag_scrub) {
            viz__scrub_to(ui, p, &g, x);
            return true;
        }
        if (ui->view.drag_plot && g.plot.w > 0) {
            double ns_per_px = (double)(tl->t1 - tl->t0) / g.plot.w;
            int64_t moved = (int64_t)((ui->view.drag_x - x) * ns_per_px);
            ui->view.center_ns = ui->view.drag_center_ns;
            viz__pan(ui, p, moved);
            return true;
        }
        return false;
    case SDL_MOUSEBUTTONUP:
        if (ui->view.drag_scrub || ui->view.drag_plot) {
            ui->view.drag_scrub = ui->view.drag_plot = false;
            return true;
        }
        return false;
    case SDL_MOUSEWHEEL: {
        int mx, my;
        SDL_GetMouseState(&mx, &my);
        if (!viz__in(band, mx, my) || e->wheel.y == 0)
            return false;
        uint64_t anchor =
            viz__in(g.plot, mx, my) ? viz_tl_time_at(&g, tl->t0, tl->t1, mx) : p->now_ns;
        viz__zoom(ui, p, e->wheel.y > 0 ? 0.8 : 1.25, anchor);
        return true;
    }
    default:
        return false;
    }
}
