/*
 * viz_main.h — `asynclab replay`: watch a recorded trace.
 *
 *   asynclab replay FILE.trace                 a window: play, pause, step, quit
 *   asynclab replay FILE.trace --headless      the scene as text (at the end, or --at)
 *   asynclab replay FILE.trace --screenshot OUT.png [--at SECONDS] [--size WxH]
 *                                              render one frame to a PNG, no display needed
 *
 * --at: seconds since the recording started (default: the end for headless
 * output, the start in a window). --size: the window or image size (default
 * 1280x800). --speed: trace seconds per second of playback in the window
 * (default: the recording in about 20 s).
 *
 * Tests drive the window with ASYNCLAB_REPLAY_KEYS="Right Right Left"
 * (viz_window.h: one key per frame, then close; SDL's offscreen driver is
 * then accepted), and read where it stopped on stderr.
 *
 * Exit status: 0 ok; 1 the trace is damaged or cut short (no end record:
 * what it holds is still shown), or cannot be rendered; 2 bad usage, or the
 * file cannot be opened.
 */
#ifndef VIZ_MAIN_H
#define VIZ_MAIN_H

#include <stdio.h>

/* argv holds the arguments after "replay". */
int viz_main(int argc, char **argv);
void viz_usage(FILE *out);

#endif
