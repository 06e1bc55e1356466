/*
 * viz_timeline_input.h — the timeline band as the window and the headless
 * commands use it: its model (viz_timeline.h) kept in step with a player,
 * its view (zoom / pan, viz_timeline_view.h), and the keys and mouse
 * gestures that drive them:
 *
 *   Z / X          zoom in / out (the mouse wheel over the band: around the pointer)
 *   [ / ]          pan back / forward (dragging the tracks does the same)
 *   0              follow the playhead again, default zoom
 *   N / Shift+N    jump to the next / previous event of the chosen kind
 *   K              choose the kind: lint, steal, park, block, panic, any
 *   click / drag on the scrub slider: seek there
 */
#ifndef VIZ_TIMELINE_INPUT_H
#define VIZ_TIMELINE_INPUT_H

#include <stdbool.h>

#include <SDL.h>

#include "viz_player.h"
#include "viz_timeline.h"
#include "viz_timeline_view.h"

typedef struct viz_tl_ui {
    viz_timeline_t *model;
    viz_tl_view_t view;
    bool throttle;                  /* rebuild slow windows less often (the window sets it) */
    uint64_t build_ns, built_at_ns; /* the last rebuild: how long it took, when */
} viz_tl_ui_t;

/* Errors: AL_ENOMEM. */
int viz_tl_ui_new(const viz_recording_t *rec, viz_tl_ui_t **out);
void viz_tl_ui_free(viz_tl_ui_t *ui);

/* Bring the model to the player's now for a band w pixels wide (spans
 * narrower than a pixel merge). A window holding millions of events takes
 * tens of milliseconds to rebuild: with `throttle` set, after a rebuild
 * slower than 10 ms the next one waits until 4 times that has passed (the
 * playhead and the slider move meanwhile; the window catches up).
 * Errors: AL_ENOMEM. */
int viz_tl_ui_frame(viz_tl_ui_t *ui, const viz_player_t *p, int w);

/* A key press (mod: SDL_Keymod); true when the timeline used it. */
bool viz_tl_ui_key(viz_tl_ui_t *ui, viz_player_t *p, SDL_Keycode k, uint16_t mod);
/* A mouse event (button, motion, wheel) with the pointer at (x, y) in the
 * layout's pixels (the window scales them on high-DPI displays) and the
 * band at `band`; true when the timeline used it. */
bool viz_tl_ui_mouse(viz_tl_ui_t *ui, viz_player_t *p, const SDL_Event *e, int x, int y,
                     viz_rect_t band, int line_h);

#endif
