/*
 * viz_panel_layout.h — where the console panel (viz_panel.h) and the
 * metrics strip (viz_metrics.h) go, as part of viz_layout_compute.
 *
 * The panel, when open (scene->view.panel.open), takes the right part of
 * the body (a third of the width, 300 to 460 px) if the floor keeps at
 * least 300 px (a body of 600 x 200 or more): the task table at the top
 * (headings, then rows), the lints below it, the selection's details at
 * the bottom. The metrics strip takes a band at the bottom of what remains
 * for the floor, when that is at least 400 x 260 and the lanes keep room for
 * two lines of text each (up to 16 lanes). A smaller window drops them:
 * every size still lays out without overlap.
 */
#ifndef VIZ_PANEL_LAYOUT_H
#define VIZ_PANEL_LAYOUT_H

#include "viz_layout.h"
#include "viz_select.h"

/* Carve the panel and the strip out of *body (shrinking it). */
void viz_panel_layout(viz_layout_t *l, const viz_scene_t *s, viz_rect_t *body);

/* Display order of the table's columns (index: position, value:
 * viz_panel_col_t). */
extern const unsigned viz_panel_col_order[VIZ_PANEL_COLS];

/* Row i of the table (i < box->rows). */
viz_rect_t viz_panel_row_rect(const viz_panel_box_t *b, uint32_t i);

/* A heading (VIZ_HIT_PANEL_HEAD) or a row's task (VIZ_HIT_TASK) at (x, y),
 * else VIZ_HIT_NONE. */
viz_hit_t viz_panel_layout_hit(const viz_layout_t *l, const viz_scene_t *s, int x, int y);

#endif
