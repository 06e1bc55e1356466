/*
 * viz_select.h — selection: what the user clicked (a task, a worker lane, a
 * resource), what that highlights on the floor and in the console panel, and
 * following a task across workers.
 *
 * The selection is view state kept in the scene (viz_scene_t.view) across
 * rebuilds; viz_select_resolve (called by viz_scene_build) works out what it
 * highlights as of the scene's moment:
 *   - a task: its chip wherever it is drawn (a lane's task box, LIFO slot,
 *     queue, the inject queue, an idle group, a resource's holder or
 *     waiters, the panel's table row), the lane that polls it or whose
 *     queue holds it, and the resources it holds or waits on;
 *   - a worker: its lane and the task it polls;
 *   - a resource: its entry, its holder and its waiters.
 * With follow on (key F) the scene also names the lane the selected task is
 * on now (polled there, or queued there); the renderer marks that lane, so
 * the eye can follow the task as it is stolen or moved between workers.
 *
 * viz_layout_hit turns a point of the window into the object drawn there
 * (tests "click" with it; the window calls it on a mouse click).
 */
#ifndef VIZ_SELECT_H
#define VIZ_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "al_console.h"

struct viz_scene;
struct viz_layout;
struct viz_rect;

typedef enum viz_sel_kind {
    VIZ_SEL_NONE = 0,
    VIZ_SEL_TASK,     /* id: task id */
    VIZ_SEL_WORKER,   /* id: worker index */
    VIZ_SEL_RESOURCE, /* id: resource id */
} viz_sel_kind_t;

typedef struct viz_selection {
    uint8_t kind; /* viz_sel_kind_t */
    uint64_t id;
    bool follow; /* follow the selected task across workers */
} viz_selection_t;

/* What the selection highlights (computed; see above). */
typedef struct viz_highlight {
    uint64_t task;         /* a highlighted task (0: none) */
    uint64_t lanes;        /* bit i: lane i highlighted (VIZ_MAX_LANES is 64) */
    uint32_t resources;    /* bit i: the scene's resources[i] highlighted */
    uint64_t res_tasks[8]; /* a selected resource's holder and waiters (0: unused) */
    int16_t follow_lane;   /* the lane the followed task is on, -1: none */
    bool found;            /* the selected object exists in this scene */
    char where[128];       /* where the selected task is: "polled by worker 1", ... */
} viz_highlight_t;

/* Fill s->hl from s->view.sel and the snapshot the scene was built from. */
void viz_select_resolve(struct viz_scene *s, const al_console_snapshot_t *snap);

/* Questions tests ask (and the renderer uses). */
bool viz_scene_task_highlighted(const struct viz_scene *s, uint64_t task);
bool viz_scene_lane_highlighted(const struct viz_scene *s, uint32_t worker);
bool viz_scene_resource_highlighted(const struct viz_scene *s, uint64_t resource);

/* ---- hit testing ---- */

typedef enum viz_hit_kind {
    VIZ_HIT_NONE = 0,
    VIZ_HIT_TASK,       /* id: task */
    VIZ_HIT_WORKER,     /* id: worker */
    VIZ_HIT_RESOURCE,   /* id: resource */
    VIZ_HIT_PANEL_HEAD, /* id: the panel table's column (viz_panel_col_t) */
} viz_hit_kind_t;

typedef struct viz_hit {
    uint8_t kind; /* viz_hit_kind_t */
    uint64_t id;
} viz_hit_t;

/* What is drawn at (x, y) in a window laid out as l for scene s. Chips win
 * over the lane or resource they are drawn in. */
viz_hit_t viz_layout_hit(const struct viz_layout *l, const struct viz_scene *s, int x, int y);

/* Where task `task` is drawn on the floor: its lane's task box or LIFO
 * slot, queue chips, the inject row, idle groups, a resource's holder or
 * waiter chips. Up to max rectangles (struct viz_rect is viz_rect_t);
 * returns how many. */
uint32_t viz_layout_task_rects(const struct viz_layout *l, const struct viz_scene *s, uint64_t task,
                               struct viz_rect *out, uint32_t max);

#define VIZ_ARROW_W 18 /* the arrow from a resource's waiters to its holder */

/* Chip k of the resources[i] entry: 0 its holder, 1.. its waiters. */
struct viz_rect viz_layout_resource_chip(const struct viz_layout *l, const struct viz_scene *s,
                                         uint32_t i, uint32_t k);

/* Parse "task:ID", "worker:N" or "resource:ID" into sel (its kind and id;
 * follow unchanged); false when it is none of those. */
bool viz_select_parse(const char *text, viz_selection_t *sel);

/* Select what a hit names (a panel heading sorts instead: see viz_panel.h);
 * a hit on nothing clears the selection. Keeps `follow`. */
void viz_select_hit(struct viz_scene *s, viz_hit_t hit);

#endif
