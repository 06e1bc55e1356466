/*
 * viz_render_internal.h — the drawing helpers of viz_render.c, for the
 * other parts of the renderer (viz_render_panel.c: the console panel and
 * metrics strip; viz_render_select.c: highlights, the deadlock loop;
 * viz_render_timeline.c: the timeline band and scrub slider). Not
 * for use outside viz_render*.c.
 */
#ifndef VIZ_RENDER_INTERNAL_H
#define VIZ_RENDER_INTERNAL_H

#include <SDL.h>

#include "viz_layout.h"
#include "viz_palette.h"
#include "viz_render.h"

/* Fonts, in viz_render.c's order (it checks). */
typedef enum viz_text_font {
    VIZ_TXT_NORMAL = 0,
    VIZ_TXT_SMALL,
    VIZ_TXT_BOLD,
    VIZ_TXT_SMALL_BOLD,
} viz_text_font_t;

SDL_Renderer *viz_render_sdl(viz_render_t *r);
/* Text centred vertically in rect from its left edge + pad, cut with an
 * ellipsis to fit; returns the width drawn. */
int viz_render_text(viz_render_t *r, const char *s, int font, viz_color_t c, viz_rect_t rect,
                    int pad);
/* The width s would take. */
int viz_render_text_width(viz_render_t *r, const char *s, int font);
void viz_render_fill(viz_render_t *r, viz_rect_t rect, viz_color_t c);
void viz_render_outline(viz_render_t *r, viz_rect_t rect, viz_color_t c);
void viz_render_chip(viz_render_t *r, viz_rect_t rect, const char *label, viz_color_t fill,
                     viz_color_t text);

/* Parts drawn by the other files, called from viz_render_draw. */
void viz_render_highlights(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);
void viz_render_deadlock(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);
void viz_render_panel(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);
void viz_render_metrics(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);
/* The timeline band and scrub slider (viz_render_timeline.c), when the
 * scene has a timeline model and the layout a band for it. */
void viz_render_timeline(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l);

#endif
