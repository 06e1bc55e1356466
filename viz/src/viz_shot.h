/*
 * viz_shot.h — rendering without a display: a scene drawn into an
 * SDL_Surface by SDL's software renderer (no window, no video driver
 * needed), for --screenshot and for tests that look at pixels.
 */
#ifndef VIZ_SHOT_H
#define VIZ_SHOT_H

#include <stddef.h>

#include <SDL.h>

#include "viz_layout.h"
#include "viz_scene.h"

/* A new w x h RGBA surface with s drawn on it (layout computed for that
 * size, stored in *layout when not NULL). font_path as viz_render_new.
 * NULL on failure, with a message in err. SDL_FreeSurface it. */
SDL_Surface *viz_shot_render(const viz_scene_t *s, int w, int h, const char *font_path,
                             viz_layout_t *layout, char *err, size_t cap);

/* viz_shot_render, then the PNG (viz_png.h). 0, or -1 with err. */
int viz_shot_png(const viz_scene_t *s, int w, int h, const char *font_path, const char *path,
                 char *err, size_t cap);

#endif
