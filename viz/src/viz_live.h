/*
 * viz_live.h — the visualizer on a running runtime: a window, on a thread of
 * its own, showing what the runtime does now, while the caller (the Lua
 * prompt, a script) keeps going.
 *
 * Live runs and recordings share one path: the session subscribes to the
 * runtime's event stream (al_stream.h) and keeps what arrives in a
 * recording (viz_recording.h) that a player (viz_player.h) shows in the
 * window (viz_window.h). The stream's collector thread only appends to a
 * staging buffer under a mutex; the window thread moves the staged events
 * into its recording at the start of each frame, so the recording, the
 * player and the scene belong to the window thread alone.
 *
 * Memory is bounded: the recording keeps the newest max_events events
 * (older ones are forgotten a quarter at a time; the status line says so),
 * and the staging buffer holds at most max_events, or 262,144 if more (beyond
 * that, events are lost while the window is stalled, and counted on screen).
 *
 * In the window (besides the recording's keys, viz_window.h):
 *   - it follows "now" by default; Space pauses (and plays on from there),
 *     Left / Right step back / forward through what was recorded, C catches
 *     up to now;
 *   - S toggles step mode: the runtime's step gate (al_runtime.h) holds
 *     every worker before its next poll; Enter (or Period) lets exactly one
 *     poll through, then shows now. Nothing is simulated: a worker stuck in
 *     a blocking call stays stuck. Closing the window turns step mode off.
 *
 * SDL runs on the window's thread only (SDL's video on Linux / X11 accepts
 * any one thread). Without a display, viz_live_open fails with a message.
 */
#ifndef VIZ_LIVE_H
#define VIZ_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz_scene.h"

struct al_runtime;

#define VIZ_LIVE_DEFAULT_EVENTS 1000000 /* about 48 MB of events */

typedef struct viz_live viz_live_t;

typedef struct viz_live_opts {
    int w, h;              /* window size (0: 1280x800) */
    const char *title;     /* shown in the header (NULL: "live") */
    const char *font_path; /* NULL: the default font */
    size_t max_events;     /* events kept (0: VIZ_LIVE_DEFAULT_EVENTS; at least 1000) */
    bool step_mode;        /* start in step mode */
    /* For tests and demos: keys pressed one per frame, then the window
     * closes (viz_window.h); SDL's offscreen driver is then accepted. */
    const char *script;
    /* For tests: accept SDL's offscreen driver without a script; the window
     * stays until viz_live_close. */
    bool allow_offscreen;
} viz_live_opts_t;

/*
 * Open a window on rt, which must stay alive until viz_live_close returns
 * (the stream is started if rt has none). Returns once the window shows its
 * first frame: 0, or -1 with a message in err (no display, no font, ...).
 */
int viz_live_open(struct al_runtime *rt, const viz_live_opts_t *opts, viz_live_t **out, char *err,
                  size_t cap);
/* Close the window if it is still open, turn step mode off, leave the
 * stream, free. */
void viz_live_close(viz_live_t *v);

struct al_runtime *viz_live_runtime(const viz_live_t *v);
/* False once the window was closed (by the user, or its key script ended). */
bool viz_live_is_open(viz_live_t *v);
/* Wait until the window is closed: true; false after timeout_ms
 * (UINT64_MAX: forever). */
bool viz_live_wait_closed(viz_live_t *v, uint64_t timeout_ms);

/* Press a key in the window (an SDL key name: "S", "Return", "C"): it is
 * handled in the next frame. Errors: -1 for an unknown name or a closed
 * window. */
int viz_live_press(viz_live_t *v, const char *key);
/* A copy of the scene of a frame that starts after this call, with every
 * event emitted before the call in it: true; false when the window closed
 * or after timeout_ms. */
bool viz_live_scene(viz_live_t *v, viz_scene_t *out, uint64_t timeout_ms);

#endif
