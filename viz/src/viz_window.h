/*
 * viz_window.h — the interactive visualizer: a window showing a player's
 * recording (viz_player.h), redrawn every frame.
 *
 * Keys: space play / pause (from the start again at the end), Right / Left
 * step one event forward / back (and pause), + / - double / halve the speed,
 * Home / End jump to the start / end, Q or Escape quit. The window can be
 * resized; the layout follows. The console panel and selection
 * (viz_panels.h): Tab opens / closes the panel, 1-6 sort its task table,
 * a click selects a task, worker or resource (or sorts by a heading), F
 * follows the selected task. The classroom keys (viz_classroom.h): M stop at
 * markers, P presenter mode, F11 fullscreen, ? or H the legend.
 */
#ifndef VIZ_WINDOW_H
#define VIZ_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "viz_player.h"
#include "viz_scene.h"

/*
 * A live source (viz_live.h): a recording that grows while the window is
 * open. All its callbacks run on the window's thread. Without one, the
 * window shows a finished recording.
 */
typedef struct viz_window_live {
    void *self;
    /* Start of each frame: bring new events into the player's recording,
     * move "now". False: close the window (asked from another thread). */
    bool (*frame)(void *self, viz_player_t *p);
    /* A key press (an SDL_Keycode), seen first: true when it was handled
     * (the recording's keys below are then skipped). */
    bool (*key)(void *self, viz_player_t *p, int keycode);
    /* The status line. */
    void (*status)(void *self, const viz_player_t *p, char *buf, size_t cap);
    /* End of each frame, with the scene just drawn. */
    void (*drawn)(void *self, const viz_scene_t *scene);
} viz_window_live_t;

typedef struct viz_window_opts {
    int w, h;              /* initial size */
    const char *title;     /* shown in the header, e.g. the file name */
    const char *font_path; /* NULL: default (viz_render.h) */
    /* For tests: keys to press, one per frame, as SDL key names separated
     * by spaces ("Right Right Left Space +"); the window closes after the
     * last. With a script, SDL's offscreen driver is accepted. */
    const char *script;
    bool presenter;       /* start in presenter mode (viz_classroom.h; key P toggles) */
    bool through_markers; /* playing does not stop at lesson markers (key M toggles) */
    /* For tests: accept SDL's offscreen driver without a script (the window
     * then runs until its live source closes it). */
    bool allow_offscreen;
    const viz_window_live_t *live; /* NULL: a finished recording */
} viz_window_opts_t;

/* Run until the user quits: 0. Non-zero with a message in err when no
 * window can be shown (no display, or SDL's offscreen / dummy video driver
 * without a script: use the headless mode instead) or the font is missing. */
int viz_window_run(viz_player_t *p, const viz_window_opts_t *opts, char *err, size_t cap);

#endif
