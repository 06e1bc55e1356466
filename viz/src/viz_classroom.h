/*
 * viz_classroom.h — the visualizer in a classroom: presenter mode, the key
 * legend, stopping at lesson markers, and saying what is drawn in aggregate.
 *
 * Presenter mode (key P, or `replay --presenter`) draws everything 1.5 times
 * larger (the layout is computed for the window's size divided by
 * VIZ_PRESENTER_SCALE and the renderer scales up), with the high-contrast
 * variant of the palette (a black background, white text); the colours stay
 * Okabe-Ito, safe for the common colour-vision deficiencies. F11 toggles
 * fullscreen, ? (or H) the legend of keys and colours, M whether playing
 * stops at markers (viz_lesson.h).
 *
 * Aggregation: a scene keeps at most VIZ_MAX_LANES lanes and VIZ_MAX_CHIPS
 * chips per queue, and the layout draws what fits, ending rows in "+N"
 * chips. viz_classroom_aggregate counts what a frame draws one by one and
 * what only as a number, and says so in one line that the footer shows.
 */
#ifndef VIZ_CLASSROOM_H
#define VIZ_CLASSROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "viz_layout.h"
#include "viz_scene.h"

#define VIZ_PRESENTER_SCALE 1.5f

typedef struct viz_classroom {
    bool presenter;       /* large and high contrast */
    bool legend;          /* the key legend is shown */
    bool fullscreen;      /* the window fills the screen */
    bool stop_at_markers; /* playing pauses just after each marker */
} viz_classroom_t;

/* Defaults: not presenting, no legend, windowed, stopping at markers. */
viz_classroom_t viz_classroom_default(void);

/* Handle a classroom key (P, F11, ? / H, M) for window `win` (may be NULL);
 * false when the key is not one of them. */
bool viz_classroom_key(viz_classroom_t *c, SDL_Window *win, SDL_Keycode key);

/* The layout size for a w x h output, and the renderer scale to use. */
void viz_classroom_logical_size(const viz_classroom_t *c, int w, int h, int *lw, int *lh,
                                float *scale);

/* What a frame draws one by one, and what only as counts. */
typedef struct viz_aggregate {
    uint32_t workers, lanes_drawn;     /* lanes with room on screen */
    uint64_t tasks_alive, tasks_drawn; /* tasks drawn as a chip or a polled task */
    uint32_t resources, resources_drawn;
    bool aggregated; /* something is counted rather than drawn */
    char text[240];  /* "64 of 100 workers drawn; 1,200 of 100,000 tasks ..." or "" */
} viz_aggregate_t;

void viz_classroom_aggregate(const viz_scene_t *s, const viz_layout_t *l, viz_aggregate_t *out);

/* viz_shot_render (viz_shot.h) with the classroom's presenter mode and
 * legend: a w x h surface, the layout (for the scaled-down size) stored in
 * *layout when not NULL. NULL with a message in err on failure. */
SDL_Surface *viz_classroom_shot(const viz_scene_t *s, int w, int h, const viz_classroom_t *c,
                                const char *font_path, viz_layout_t *layout, char *err, size_t cap);
/* The same, written to a PNG file. 0, or -1 with err. */
int viz_classroom_shot_png(const viz_scene_t *s, int w, int h, const viz_classroom_t *c,
                           const char *path, char *err, size_t cap);

#endif
