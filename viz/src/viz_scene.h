/*
 * viz_scene.h — the scene model: what the visualizer shows, as plain data.
 *
 * A scene is computed from a console snapshot (al_console.h: workers, tasks,
 * resources, queues as of one moment) and the recent motions (viz_motion.h).
 * The renderer (viz_render.h) only draws what is here, and tests ask the
 * scene what is on screen ("worker 1 is blocked in std.thread.sleep; its
 * queue holds task 'heartbeat'") without looking at pixels. Where things go
 * on screen is viz_layout.h's business.
 *
 * What a scene holds:
 *   - one lane per worker: its state with a readable label ("running",
 *     "parked", "blocked: std.thread.sleep 500 ms"), the task it polls and for
 *     how long, its LIFO slot, its local queue as chips (the first
 *     VIZ_MAX_CHIPS, oldest first, and the full length), counters;
 *   - the inject queue, the blocking pool's threads (and what each runs), the
 *     driver (pending timers, which worker is parked in it);
 *   - idle tasks grouped by what they wait on (a resource, a timer, nothing
 *     the model knows: a JoinHandle, a custom future...);
 *   - resources with their holder and waiters;
 *   - motions inside the animation window, with their progress (0 just
 *     started, 1 done);
 *   - warnings: every worker blocked (the silent hang), events dropped.
 * Task labels are the task's name, or "task N" when it has none.
 */
#ifndef VIZ_SCENE_H
#define VIZ_SCENE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "al_console.h"
#include "viz_deadlock.h"
#include "viz_metrics.h"
#include "viz_motion.h"
#include "viz_panel.h"
#include "viz_select.h"

#define VIZ_MAX_LANES 64       /* workers drawn; more are counted */
#define VIZ_MAX_CHIPS 48       /* queue chips kept per queue */
#define VIZ_MAX_BLOCKING 16    /* blocking-pool threads listed */
#define VIZ_MAX_GROUPS 8       /* idle-task groups */
#define VIZ_MAX_GROUP_CHIPS 24 /* tasks kept per group */
#define VIZ_MAX_RESOURCES 12   /* resources listed */
#define VIZ_MAX_WAITERS 8      /* waiters kept per resource */
#define VIZ_MAX_MOTIONS 48     /* motions drawn */
#define VIZ_LABEL 40
#define VIZ_MAX_HIGHLIGHTS 16 /* lesson highlights kept (viz_lesson.h) */
#define VIZ_CAPTION 256

/* A task as drawn: a chip with its label. task 0: an empty slot. */
typedef struct viz_chip {
    uint64_t task;
    char label[VIZ_LABEL];
} viz_chip_t;

typedef struct viz_lane {
    uint32_t worker;
    uint8_t state;         /* al_worker_state_t */
    bool dimmed;           /* parked (either way): drawn faded */
    bool alert;            /* blocked: drawn red */
    char state_label[96];  /* "running", "blocked: std.thread.sleep 500 ms", ... */
    char state_short[40];  /* the same for a narrow lane: "blocked: sleep 500 ms" */
    uint64_t state_for_ns; /* how long it has been in that state */
    viz_chip_t task;       /* the task it polls (task 0: none) */
    uint64_t poll_ns;      /* how long the current poll has run */
    viz_chip_t lifo;       /* the LIFO slot */
    uint32_t queue_len;    /* tasks in the local queue */
    uint32_t queue_kept;   /* chips kept below (the oldest) */
    viz_chip_t queue[VIZ_MAX_CHIPS];
    uint64_t polls, steals, parks;
    double busy_pct;
} viz_lane_t;

typedef struct viz_blocking_thread {
    uint32_t number;
    viz_chip_t task; /* task 0: idle */
} viz_blocking_thread_t;

typedef enum viz_group_kind {
    VIZ_GROUP_RESOURCE = 0, /* waiting on one resource */
    VIZ_GROUP_TIMER,        /* waiting on timers (sleep, timeout, interval) */
    VIZ_GROUP_OTHER,        /* nothing the model knows: a join, a custom future */
} viz_group_kind_t;

typedef struct viz_group {
    uint8_t kind;      /* viz_group_kind_t */
    uint64_t resource; /* VIZ_GROUP_RESOURCE */
    char label[96];    /* "mutex 3 \"db\"", "timers", "something else" */
    uint32_t count;
    uint32_t kept;
    viz_chip_t tasks[VIZ_MAX_GROUP_CHIPS];
} viz_group_t;

typedef struct viz_resource {
    uint64_t id;
    uint8_t kind;      /* al_resource_kind_t */
    char label[96];    /* "mutex 3 \"db\"" */
    viz_chip_t holder; /* task 0: free (or held outside any task) */
    uint32_t holders;  /* readers, permits held */
    uint32_t waiters;
    uint32_t kept;
    viz_chip_t waiting[VIZ_MAX_WAITERS];
    uint64_t queue_len; /* channels */
    bool closed;
} viz_resource_t;

/* A place on screen a motion starts or ends at (viz_layout.h turns it into
 * a point). */
typedef enum viz_place_kind {
    VIZ_AT_NONE = 0,
    VIZ_AT_LANE_TASK,  /* lane `index`'s task box */
    VIZ_AT_LANE_LIFO,  /* lane `index`'s LIFO slot */
    VIZ_AT_LANE_QUEUE, /* lane `index`'s local queue; `slot` chip, -1 its end */
    VIZ_AT_INJECT,     /* the inject queue; `slot` chip, -1 its end */
    VIZ_AT_BLOCKING,   /* the blocking pool */
    VIZ_AT_DRIVER,     /* the driver (timers, I/O) */
    VIZ_AT_IDLE,       /* the idle tasks' area */
    VIZ_AT_OUTSIDE,    /* the header: a thread outside the runtime */
} viz_place_kind_t;

typedef struct viz_place {
    uint8_t kind;  /* viz_place_kind_t */
    int16_t index; /* lane */
    int16_t slot;  /* chip in a queue, -1: none / the end */
} viz_place_t;

typedef struct viz_scene_motion {
    uint8_t kind; /* viz_motion_kind_t */
    viz_place_t from, to;
    viz_chip_t task; /* the task moved or woken (task 0 for steals) */
    uint32_t count;  /* steals, overflows */
    float progress;  /* 0: just happened .. 1: over */
} viz_scene_motion_t;

/* The caller's view state, kept in the scene across rebuilds. */
typedef struct viz_view {
    viz_selection_t sel;    /* what is selected (viz_select.h) */
    viz_panel_view_t panel; /* the console panel: open, sort order (viz_panel.h) */
} viz_view_t;

/* Something a lesson highlighted (rt.viz.highlight; viz_lesson.h). */
typedef struct viz_lesson_highlight {
    uint8_t kind; /* al_highlight_kind_t: task, worker or resource */
    uint64_t id;
} viz_lesson_highlight_t;

typedef struct viz_scene {
    uint64_t now_ns;
    double seconds; /* now, since the recording started */
    uint64_t events, dropped;
    uint64_t alive_tasks, spawned_tasks;
    uint32_t flavor;      /* al_flavor_t */
    uint32_t num_workers; /* in the runtime */
    uint32_t num_lanes;   /* drawn: min(num_workers, VIZ_MAX_LANES) */
    viz_lane_t lanes[VIZ_MAX_LANES];
    bool all_blocked; /* every worker blocked: nothing else can run */

    uint32_t inject_len, inject_kept;
    viz_chip_t inject[VIZ_MAX_CHIPS];

    uint32_t blocking_threads, blocking_busy, blocking_queued;
    uint32_t num_blocking; /* listed below */
    viz_blocking_thread_t blocking[VIZ_MAX_BLOCKING];

    uint32_t pending_timers;
    uint64_t next_timer_in_ns; /* the next deadline is this far ahead (0: none, or overdue) */
    uint64_t timer_overdue_ns; /* the next deadline passed this long ago: nobody fired it */
    int16_t driver_worker;     /* a worker parked in the driver, -1 */

    uint32_t idle_tasks; /* every idle task, grouped below */
    uint32_t num_groups;
    viz_group_t groups[VIZ_MAX_GROUPS];

    uint32_t resources_total; /* live resources */
    uint32_t num_resources;   /* listed: the contended and held first */
    viz_resource_t resources[VIZ_MAX_RESOURCES];

    uint32_t num_motions;
    viz_scene_motion_t motions[VIZ_MAX_MOTIONS];

    /* Lesson hooks as of now, filled by viz_lesson_apply (after
     * viz_scene_build, which clears them): the narration on screen, what is
     * highlighted, the last marker passed. */
    char caption[VIZ_CAPTION];
    uint32_t num_highlights;
    viz_lesson_highlight_t highlights[VIZ_MAX_HIGHLIGHTS];
    char marker[64];

    /* set by the caller: the timeline band's model (viz_timeline.h), drawn
     * at the bottom when not NULL; kept by viz_scene_build */
    const struct viz_timeline *timeline;
    char title[128];  /* set by the caller: file name, ... */
    char status[128]; /* set by the caller: "paused", "playing x0.1", ... */

    /* View state: set by the caller, kept by viz_scene_build. */
    viz_view_t view;
    /* Computed by viz_scene_build. */
    viz_highlight_t hl;      /* what the selection highlights (viz_select.h) */
    viz_deadlock_t deadlock; /* a deadlock cycle, len 0: none (viz_deadlock.h) */
    /* Filled by viz_panels_update (viz_panels.h); zero until then. */
    viz_panel_t panel;
    viz_metrics_strip_t metrics;
} viz_scene_t;

typedef struct viz_scene_opts {
    uint64_t anim_window_ns; /* motions this recent are drawn (0: none) */
} viz_scene_opts_t;

/* A scene on the heap (it is large); NULL when out of memory. */
viz_scene_t *viz_scene_new(void);
void viz_scene_free(viz_scene_t *s);

/* Fill s from a snapshot and, when m is not NULL, the motions within
 * opts->anim_window_ns before the snapshot's now. title / status are kept. */
void viz_scene_build(viz_scene_t *s, const al_console_snapshot_t *snap, const viz_motion_log_t *m,
                     const viz_scene_opts_t *opts);

/* ---- questions tests (and the text output) ask ---- */

/* Lane of worker i, NULL if not drawn. */
const viz_lane_t *viz_scene_lane(const viz_scene_t *s, uint32_t worker);
/* Whether the lane's LIFO slot or kept queue chips hold a task labelled
 * `label` (its name, or "task N"). */
bool viz_lane_holds(const viz_lane_t *l, const char *label);
/* The idle group whose label contains `text`, NULL if none. */
const viz_group_t *viz_scene_group(const viz_scene_t *s, const char *text);
bool viz_group_holds(const viz_group_t *g, const char *label);
/* The listed resource whose label contains `text`, NULL if none. */
const viz_resource_t *viz_scene_resource(const viz_scene_t *s, const char *text);
/* How many motions of a kind are drawn. */
uint32_t viz_scene_count_motions(const viz_scene_t *s, viz_motion_kind_t kind);

/* The scene as text, one line per lane, queue, group and resource (what
 * `asynclab replay --headless` prints without --screenshot). */
void viz_scene_print(const viz_scene_t *s, FILE *out);

#endif
