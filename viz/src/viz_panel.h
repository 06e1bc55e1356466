/*
 * viz_panel.h — the console panel: what tokio-console's views show, as plain
 * data in the scene (viz_scene_t.panel), drawn on the right of the window
 * when open (key Tab).
 *
 *   - the task table (filled only while the panel is open: sorting every
 *     task each frame is not free): one row per task (live ones, then the finished ones
 *     the console model retains) with its state, polls, wakes, busy / idle /
 *     scheduled time and when it was last polled; sorted by a column (keys
 *     1-6 or a click on a heading; the same column again reverses the
 *     order). The first VIZ_PANEL_ROWS rows are kept, and the selected task
 *     always (it replaces the last row when it sorts further down);
 *   - the lints that fired up to the moment shown (al_lint.h): those still
 *     true at that moment first ("firing now"), then the others, newest
 *     first within each;
 *   - details of the selection: for a task, its poll-time and scheduled-time
 *     percentiles and histograms, what it waits on and since when, where it
 *     is, and its detail text (a Lua task's traceback) when the snapshot has
 *     one (al_console_task_t.detail: a live model with a detail source;
 *     recordings carry none); for a worker,
 *     its state and counters; for a resource, its holder, waiters and wait
 *     times.
 *
 * viz_panel_build fills the model from a console snapshot (plus the console
 * model itself for the full histograms, and the lint findings); viz_panels.h
 * keeps those up to date with a player.
 */
#ifndef VIZ_PANEL_H
#define VIZ_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_console.h"
#include "al_histogram.h"
#include "al_lint.h"
#include "viz_select.h"

#define VIZ_PANEL_ROWS 64 /* task rows kept */
#define VIZ_PANEL_LINTS 6 /* findings kept */
#define VIZ_PANEL_HIST 24 /* histogram bars */

/* Table columns. Keys 1-6 sort by STATE .. LAST_POLL (TASK and IDLE sort
 * by a click on their heading). */
typedef enum viz_panel_col {
    VIZ_COL_TASK = 0,  /* by id */
    VIZ_COL_STATE,     /* key 1 */
    VIZ_COL_POLLS,     /* key 2 */
    VIZ_COL_WAKES,     /* key 3 */
    VIZ_COL_BUSY,      /* key 4 */
    VIZ_COL_SCHED,     /* key 5 */
    VIZ_COL_LAST_POLL, /* key 6: most recent first */
    VIZ_COL_IDLE,
    VIZ_PANEL_COLS
} viz_panel_col_t;

/* The panel's view state, kept in the scene across rebuilds. */
typedef struct viz_panel_view {
    bool open;
    uint8_t sort;  /* viz_panel_col_t (zero: by id) */
    bool reversed; /* the column's natural order reversed (see viz_panel_ascending) */
} viz_panel_view_t;

typedef struct viz_panel_row {
    uint64_t id;
    char label[40];
    uint8_t state; /* al_task_state_t */
    uint64_t polls, wakes;
    uint64_t busy_ns, idle_ns, sched_ns;
    uint64_t last_poll_ago_ns; /* 0 with never_polled */
    bool never_polled;
} viz_panel_row_t;

typedef struct viz_panel_lint {
    uint32_t lint; /* al_lint_id_t */
    /* Still true at the moment shown: the deadlocked / lost-waker task still
     * waits, the never-yielded poll still runs, the self-waking task is still
     * alive. Long polls are over once reported; task-leak, blocking-pool and
     * channel findings are not re-checked (false). */
    bool now;
    uint64_t ago_ns;
    uint64_t task, resource;
    char message[200]; /* the finding's text, cut to fit */
} viz_panel_lint_t;

/* A histogram drawn as bars: VIZ_PANEL_HIST ranges of the al_histogram
 * buckets between the smallest and the largest value recorded. */
typedef struct viz_panel_hist {
    uint64_t count, p50, p90, p99, max;
    uint64_t lo_ns, hi_ns; /* the range the bars cover */
    uint32_t bars[VIZ_PANEL_HIST];
} viz_panel_hist_t;

typedef struct viz_panel_details {
    uint8_t kind;       /* viz_sel_kind_t (NONE: nothing selected) */
    char title[96];     /* "task 7 \"heartbeat\"", "worker 1", "mutex 3 \"db\"" */
    char lines[8][128]; /* facts, one per line */
    uint32_t num_lines;
    bool have_hist;
    viz_panel_hist_t poll, sched;
    /* The task's detail text (al_console_task_t.detail: a Lua task's
     * traceback, from the console model's detail source), "" if none. */
    char traceback[1024];
} viz_panel_details_t;

typedef struct viz_panel {
    uint32_t tasks_total; /* tasks in the snapshot */
    uint32_t num_rows;
    viz_panel_row_t rows[VIZ_PANEL_ROWS];
    uint32_t lints_total; /* findings up to now */
    uint32_t lints_now;   /* of which still true now (listed first) */
    uint32_t num_lints;
    viz_panel_lint_t lints[VIZ_PANEL_LINTS];
    viz_panel_details_t details;
} viz_panel_t;

/* Fill p. console (may be NULL) gives the full histograms of the selected
 * task; findings are the lint findings so far (any order, those after the
 * snapshot's now are left out). */
void viz_panel_build(viz_panel_t *p, const al_console_snapshot_t *snap, al_console_t *console,
                     const al_lint_finding_t *findings, size_t num_findings,
                     const viz_panel_view_t *view, const viz_selection_t *sel);

/* Sort by col: a new column takes its natural order, the same column again
 * reverses it. */
void viz_panel_sort_by(viz_panel_view_t *view, unsigned col);
/* Whether the table is in ascending order: ids, states and "last poll"
 * (the most recent first) ascend naturally, counts and times descend
 * (largest first); `reversed` flips that. */
bool viz_panel_ascending(const viz_panel_view_t *view);
/* The column key '1'..'6' sorts by, or -1. */
int viz_panel_col_for_key(int key);
/* Headings, "task" .. "idle". */
const char *viz_panel_col_name(unsigned col);
/* The row of task id, -1 if not listed. */
int viz_panel_row_of(const viz_panel_t *p, uint64_t id);

#endif
