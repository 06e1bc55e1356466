/*
 * viz_classroom.c — presenter mode, legend and marker keys, and the
 * aggregation summary (see viz_classroom.h).
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "viz_classroom.h"
#include "viz_png.h"
#include "viz_render.h"

viz_classroom_t viz_classroom_default(void)
{
    return (viz_classroom_t){.stop_at_markers = true};
}

bool viz_classroom_key(viz_classroom_t *c, SDL_Window *win, SDL_Keycode key)
{
    switch (key) {
    case SDLK_p:
        c->presenter = !c->presenter;
        return true;
    case SDLK_F11:
        c->fullscreen = !c->fullscreen;
        if (win)
            SDL_SetWindowFullscreen(win, c->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        return true;
    case SDLK_QUESTION:
    case SDLK_SLASH:
    case SDLK_h:
        c->legend = !c->legend;
        return true;
    case SDLK_m:
        c->stop_at_markers = !c->stop_at_markers;
        return true;
    default:
        return false;
    }
}

void viz_classroom_logical_size(const viz_classroom_t *c, int w, int h, int *lw, int *lh,
                                float *scale)
{
    float s = c->presenter ? VIZ_PRESENTER_SCALE : 1.0f;
    *scale = s;
    *lw = (int)((float)w / s);
    *lh = (int)((float)h / s);
    if (*lw < 1)
        *lw = 1;
    if (*lh < 1)
        *lh = 1;
}

/* 100000 as "100,000". */
static const char *viz__thousands(char *buf, size_t cap, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

void viz_classroom_aggregate(const viz_scene_t *s, const viz_layout_t *l, viz_aggregate_t *out)
{
    memset(out, 0, sizeof *out);
    out->workers = s->num_workers;
    out->tasks_alive = s->alive_tasks;
    out->resources = s->resources_total;
    uint64_t drawn = 0;
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++) {
        const viz_lane_box_t *b = &l->lane[i];
        if (viz_rect_empty(b->lane))
            continue;
        out->lanes_drawn++;
        drawn += (s->lanes[i].task.task != 0) + (s->lanes[i].lifo.task != 0) + b->chips;
    }
    if (!viz_rect_empty(l->inject))
        drawn += l->inject_row.chips;
    for (uint32_t g = 0; g < l->num_groups; g++)
        drawn += l->group_row[g].chips;
    for (uint32_t i = 0; i < s->num_blocking; i++)
        drawn += s->blocking[i].task.task != 0 && i < (uint32_t)l->blocking_lines;
    out->tasks_drawn = drawn < out->tasks_alive ? drawn : out->tasks_alive;
    out->resources_drawn = l->num_resources;

    char a[32], b[32];
    size_t o = 0;
#define VIZ__SAY(...)                                                                              \
    do {                                                                                           \
        if (o < sizeof out->text)                                                                  \
            o += (size_t)snprintf(out->text + o, sizeof out->text - o, __VA_ARGS__);               \
    } while (0)
    if (out->lanes_drawn < out->workers) {
        VIZ__SAY("%u of %u workers drawn", out->lanes_drawn, out->workers);
        out->aggregated = true;
    }
    if (out->tasks_drawn < out->tasks_alive) {
        VIZ__SAY("%s%s of %s tasks drawn, the rest counted (+N)", o ? "; " : "",
                 viz__thousands(a, sizeof a, out->tasks_drawn),
                 viz__thousands(b, sizeof b, out->tasks_alive));
        out->aggregated = true;
    }
    if (out->resources_drawn < out->resources) {
        VIZ__SAY("%s%u of %u resources listed", o ? "; " : "", out->resources_drawn,
                 out->resources);
        out->aggregated = true;
    }
#undef VIZ__SAY
}

SDL_Surface *viz_classroom_shot(const viz_scene_t *s, int w, int h, const viz_classroom_t *c,
                                const char *font_path, viz_layout_t *layout, char *err, size_t cap)
{
    viz_layout_t *l = layout ? layout : malloc(sizeof *l);
    if (!l) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    SDL_Renderer *sdl = NULL;
    viz_render_t *r = NULL;
    SDL_Surface *surf =
        SDL_CreateRGBSurfaceWithFormat(0, w < 1 ? 1 : w, h < 1 ? 1 : h, 32, SDL_PIXELFORMAT_RGBA32);
    if (!surf) {
        snprintf(err, cap, "cannot create a %dx%d frame: %s", w, h, SDL_GetError());
        goto out;
    }
    if (!(sdl = SDL_CreateSoftwareRenderer(surf))) {
        snprintf(err, cap, "cannot create SDL's software renderer: %s", SDL_GetError());
        SDL_FreeSurface(surf);
        surf = NULL;
        goto out;
    }
    if (viz_render_new(sdl, font_path, &r, err, cap) != 0) {
        SDL_FreeSurface(surf);
        surf = NULL;
        goto out;
    }
    int lw, lh;
    float scale;
    viz_classroom_logical_size(c, surf->w, surf->h, &lw, &lh, &scale);
    SDL_RenderSetScale(sdl, scale, scale);
    viz_render_set_classroom(r, c);
    viz_layout_compute(l, s, lw, lh);
    viz_render_draw(r, s, l);
    SDL_RenderPresent(sdl);
out:
    viz_render_free(r);
    if (sdl)
        SDL_DestroyRenderer(sdl);
    if (l != layout)
        free(l);
    return surf;
}

int viz_classroom_shot_png(const viz_scene_t *s, int w, int h, const viz_classroom_t *c,
                           const char *path, char *err, size_t cap)
{
    SDL_Surface *surf = viz_classroom_shot(s, w, h, c, NULL, NULL, err, cap);
    if (!surf)
        return -1;
    int rc = viz_png_write(surf, path, err, cap);
    SDL_FreeSurface(surf);
    return rc;
}
