/*
 * viz_timeline_view.h — where the timeline looks and where its parts go on
 * screen, without SDL (tests check it):
 *
 *   - the view: the width of the time window (zoom), and whether the window
 *     follows the playhead (3/4 of it before "now", 1/4 after) or stays
 *     where the user panned it;
 *   - the band's geometry: a heading line, one row per track (label column,
 *     then the plot), and the scrub slider under them ("event n of m", the
 *     time); mapping between x and time on the plot and on the slider.
 */
#ifndef VIZ_TIMELINE_VIEW_H
#define VIZ_TIMELINE_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "viz_layout.h"

typedef struct viz_tl_view {
    uint64_t span_ns;   /* the window's width */
    bool follow;        /* the window follows the playhead */
    uint64_t center_ns; /* the window's middle when not following */
    unsigned jump_kind; /* viz_jump_kind_t for N / Shift+N */
    /* mouse drags in progress */
    bool drag_scrub, drag_plot;
    int drag_x;
    uint64_t drag_center_ns;
} viz_tl_view_t;

/* A view of a recording from start to end: follows the playhead, showing a
 * quarter of the recording (between 100 us and 2 s). */
void viz_tl_view_init(viz_tl_view_t *v, uint64_t start, uint64_t end);
/* The window [*t0, *t1] with the playhead at now, kept inside [start, end]
 * when it is narrower than the recording. */
void viz_tl_view_window(const viz_tl_view_t *v, uint64_t now, uint64_t start, uint64_t end,
                        uint64_t *t0, uint64_t *t1);
/* Zoom by factor (< 1: in) keeping anchor (a time in the window) where it
 * is on screen; 1 us .. 1 hour. */
void viz_tl_view_zoom(viz_tl_view_t *v, double factor, uint64_t anchor, uint64_t now,
                      uint64_t start, uint64_t end);
/* Move the window by delta ns (stops following the playhead). */
void viz_tl_view_pan(viz_tl_view_t *v, int64_t delta, uint64_t now, uint64_t start, uint64_t end);

typedef struct viz_tl_geom {
    viz_rect_t band;
    viz_rect_t head;   /* the heading line */
    viz_rect_t labels; /* the track labels' column */
    viz_rect_t plot;   /* time runs left to right here */
    viz_rect_t scrub;  /* the slider's line */
    viz_rect_t bar;    /* the slider's bar (inside scrub) */
    int row_h;         /* one track */
    uint32_t rows;     /* tracks that fit */
} viz_tl_geom_t;

/* The band's height for tracks in a w x h window (0: no room for one). */
int viz_tl_band_height(uint32_t tracks, int w, int h, int line_h);
/* The parts of a band. */
void viz_tl_geom(viz_tl_geom_t *g, viz_rect_t band, uint32_t tracks, int line_h);
/* Track i's row (h == 0: not shown). */
viz_rect_t viz_tl_row(const viz_tl_geom_t *g, uint32_t i);
/* Time <-> x on the plot for window [t0, t1] (x clamped to the plot). */
int viz_tl_x_of(const viz_tl_geom_t *g, uint64_t t0, uint64_t t1, uint64_t ts);
uint64_t viz_tl_time_at(const viz_tl_geom_t *g, uint64_t t0, uint64_t t1, int x);
/* The same on the slider's bar for the whole recording [start, end]. */
int viz_tl_scrub_x(const viz_tl_geom_t *g, uint64_t start, uint64_t end, uint64_t ts);
uint64_t viz_tl_scrub_time(const viz_tl_geom_t *g, uint64_t start, uint64_t end, int x);

#endif
