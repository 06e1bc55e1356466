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
 * follows the selected task.
 */
#ifndef VIZ_WINDOW_H
#define VIZ_WINDOW_H

#include <stddef.h>

#include "viz_player.h"

typedef struct viz_window_opts {
    int w, h;              /* initial size */
    const char *title;     /* shown in the header, e.g. the file name */
    const char *font_path; /* NULL: default (viz_render.h) */
    /* For tests: keys to press, one per frame, as SDL key names separated
     * by spaces ("Right Right Left Space +"); the window closes after the
     * last. With a script, SDL's offscreen driver is accepted. */
    const char *script;
} viz_window_opts_t;

/* Run until the user quits: 0. Non-zero with a message in err when no
 * window can be shown (no display, or SDL's offscreen / dummy video driver
 * without a script: use the headless mode instead) or the font is missing. */
int viz_window_run(viz_player_t *p, const viz_window_opts_t *opts, char *err, size_t cap);

#endif
