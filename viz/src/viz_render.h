/*
 * viz_render.h — draws a scene (viz_scene.h) where its layout (viz_layout.h)
 * puts it, with SDL2's 2D renderer and SDL2_ttf text.
 *
 * Any SDL_Renderer works: a window's, or a software renderer drawing into an
 * SDL_Surface (viz_shot.h), which needs no display. Text is DejaVu Sans
 * (Debian's fonts-dejavu-core), or the .ttf file named by ASYNCLAB_FONT;
 * opening fails with a message that says how to get it. Text is rendered
 * once and kept as textures while it stays on screen.
 */
#ifndef VIZ_RENDER_H
#define VIZ_RENDER_H

#include <stddef.h>

#include <SDL.h>

#include "viz_layout.h"
#include "viz_scene.h"

#define VIZ_CAPTION_FONT_PX 22 /* the lesson caption (viz_lesson.h) */
#define VIZ_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

typedef struct viz_render viz_render_t;

/* The font to use: font_path if not NULL, else $ASYNCLAB_FONT, else
 * VIZ_DEFAULT_FONT. */
const char *viz_render_font_path(const char *font_path);

/* Draw with sdl (borrowed; outlives the result). On failure returns
 * non-zero with a message in err (e.g. the font is missing). */
int viz_render_new(SDL_Renderer *sdl, const char *font_path, viz_render_t **out, char *err,
                   size_t cap);
void viz_render_free(viz_render_t *r);

/* Presenter mode's colours and the key legend, for the frames drawn from
 * now on (viz_classroom.h; NULL: neither). The scaling of presenter mode is
 * the caller's (viz_classroom_logical_size). */
struct viz_classroom;
void viz_render_set_classroom(viz_render_t *r, const struct viz_classroom *c);

/* Draw the whole frame (clears first; does not present). */
void viz_render_draw(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);

#endif
