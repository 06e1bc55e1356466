/*
 * viz_shot.c — a scene drawn into a surface, without a display (see
 * viz_shot.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "viz_classroom.h"
#include "viz_png.h"
#include "viz_render.h"
#include "viz_shot.h"

SDL_Surface *viz_shot_render(const viz_scene_t *s, int w, int h, const char *font_path,
                             viz_layout_t *layout, char *err, size_t cap)
{
    /* The classroom's shot with nothing of the classroom on. */
    viz_classroom_t plain = viz_classroom_default();
    return viz_classroom_shot(s, w, h, &plain, font_path, layout, err, cap);
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
