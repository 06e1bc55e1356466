/*
 * viz_timeline_draw.h — draws the timeline band (the model in
 * viz_timeline.h, placed by viz_timeline_view.h): track labels, spans
 * (polls coloured by task, blocked red with stripes, parked dim, searching
 * green), steal and wake arrows, the part after the playhead dimmed, the
 * playhead, and the scrub slider with "event n of m" and the time.
 */
#ifndef VIZ_TIMELINE_DRAW_H
#define VIZ_TIMELINE_DRAW_H

#include "viz_layout.h"
#include "viz_render.h"
#include "viz_timeline.h"

void viz_timeline_draw(viz_render_t *r, const viz_timeline_t *tl, viz_rect_t band, int line_h);

/* The fill of a task's polls (viz_timeline_task_color's slot). */
viz_color_t viz_timeline_color(unsigned slot);

#endif
