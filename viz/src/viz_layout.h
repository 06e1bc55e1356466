/*
 * viz_layout.h — where a scene goes on screen: rectangles for a given window
 * size, computed from the scene alone (no SDL), so that tests can check them.
 *
 * The window is a header line (time, status, warnings), the lanes (one per
 * worker: label and state, the polled task with its poll-time bar, the LIFO
 * slot, the local queue as chips), a side panel (inject queue, blocking
 * pool, driver, idle tasks by what they wait on, resources) and a footer
 * with the keys. Many workers are split into up to four columns of lanes; a
 * small window drops the side panel (the inject queue becomes a strip under
 * the lanes), then the text, then the header, and lanes shrink to a pixel:
 * every size from 1x1 up gives rectangles inside the window.
 */
#ifndef VIZ_LAYOUT_H
#define VIZ_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "viz_scene.h"

#define VIZ_FONT_PX 13       /* text in a roomy window */
#define VIZ_FONT_SMALL_PX 10 /* text in a small one */

typedef struct viz_rect {
    int x, y, w, h;
} viz_rect_t;

typedef struct viz_point {
    int x, y;
} viz_point_t;

typedef struct viz_lane_box {
    viz_rect_t lane;  /* the whole lane; w == 0: no room to draw it */
    viz_rect_t label; /* worker number and state */
    viz_rect_t task;  /* the polled task */
    viz_rect_t bar;   /* its poll-time bar (inside task) */
    viz_rect_t lifo;  /* the LIFO slot */
    viz_rect_t queue; /* the local queue's chips */
    uint32_t chips;   /* chips drawn, the oldest tasks first */
    uint32_t more;    /* tasks not drawn, shown as a "+N" chip after them; 0: none */
    int text_lines;   /* lines of text that fit: 0, 1 or 2 */
} viz_lane_box_t;

/* A row of chips in the side panel (or the inject strip). */
typedef struct viz_chip_row {
    viz_rect_t area;
    uint32_t chips, more;
} viz_chip_row_t;

/* The console panel (viz_panel_layout.h); area.w == 0: not shown. */
typedef struct viz_panel_box {
    viz_rect_t area;
    viz_rect_t head;                /* the task table's headings */
    viz_rect_t col[VIZ_PANEL_COLS]; /* one heading cell per column (viz_panel_col_t) */
    viz_rect_t table;               /* the rows */
    int row_h;
    uint32_t rows; /* rows shown */
    viz_rect_t lints, details;
} viz_panel_box_t;

typedef struct viz_layout {
    int w, h;
    int font_px; /* VIZ_FONT_PX or VIZ_FONT_SMALL_PX */
    int line_h;  /* one line of text */
    viz_rect_t header, lanes, side, footer;
    viz_rect_t timeline; /* the timeline band at the bottom (h == 0: none) */
    viz_rect_t lanes_head; /* column headings above the lanes (h == 0: none) */
    int cols, rows;
    uint32_t num_lanes;
    viz_lane_box_t lane[VIZ_MAX_LANES];
    int chip_w, chip_gap; /* lane chips (their height is the queue's) */
    bool side_visible;
    /* Side panel sections (h == 0: not shown). Without the side panel only
     * `inject` may be shown, as a strip under the lanes. */
    viz_rect_t inject, blocking, driver, idle, resources;
    viz_chip_row_t inject_row;
    uint32_t blocking_lines; /* blocking threads listed */
    uint32_t num_groups;     /* idle groups shown */
    viz_rect_t group_label[VIZ_MAX_GROUPS];
    viz_chip_row_t group_row[VIZ_MAX_GROUPS];
    uint32_t num_resources; /* resources shown */
    viz_rect_t resource[VIZ_MAX_RESOURCES];
    int side_chip_w;
    viz_panel_box_t panel; /* the console panel, when open and there is room */
    viz_rect_t metrics;    /* the metrics strip (viz_metrics.h); h == 0: not shown */
} viz_layout_t;

/* Lay s out in a w x h window (sizes below 1 count as 1). */
void viz_layout_compute(viz_layout_t *l, const viz_scene_t *s, int w, int h);

/* Chip i of lane `lane`'s queue; i == chips is the "+N" chip. */
viz_rect_t viz_layout_lane_chip(const viz_layout_t *l, uint32_t lane, uint32_t i);
/* Chip i of a side-panel row (same rule). */
viz_rect_t viz_layout_row_chip(const viz_layout_t *l, const viz_chip_row_t *row, uint32_t i);
/* The point a motion starts or ends at; false when that place is not drawn. */
bool viz_layout_point(const viz_layout_t *l, viz_place_t p, viz_point_t *out);

bool viz_rect_inside(viz_rect_t inner, viz_rect_t outer);
bool viz_rect_overlap(viz_rect_t a, viz_rect_t b);
bool viz_rect_empty(viz_rect_t r);

#endif
