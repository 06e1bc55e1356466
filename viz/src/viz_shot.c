/*
 * viz_shot.c — a scene drawn into a surface, without a display (see
 * viz_shot.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "viz_png.h"
#include "viz_render.h"
#include "viz_shot.h"

SDL_Surface *viz_shot_render(const viz_scene_t *s, int w, int h, const char *font_path,
                             viz_layout_t *layout, char *err, size_t cap)
{
    viz_layout_t *l = layout ? layout : malloc(sizeof *l);
    if (!l) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    SDL_Surface *surf = NULL;
    SDL_Renderer *sdl = NULL;
    viz_render_t *r = NULL;
    viz_layout_compute(l, s, w, h);
    surf = SDL_CreateRGBSurfaceWithFormat(0, l->w, l->h, 32, SDL_PIXELFORMAT_RGBA32);
    if (!surf) {
        snprintf(err, cap, "cannot create a %dx%d frame: %s", l->w, l->h, SDL_GetError());
        goto out;
    }
    sdl = SDL_CreateSoftwareRenderer(surf);
    if (!sdl) {
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

int viz_shot_png(const viz_scene_t *s, int w, int h, const char *font_path, const char *path,
                 char *err, size_t cap)
{
    SDL_Surface *surf = viz_shot_render(s, w, h, font_path, NULL, err, cap);
    if (!surf)
        return -1;
    int rc = viz_png_write(surf, path, err, cap);
    SDL_FreeSurface(surf);
    return rc;
}
