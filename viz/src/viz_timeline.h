/*
 * viz_timeline.h — the timeline model: what the timeline band shows, as
 * plain data that tests query (like the scene model, viz_scene.h).
 *
 * Like `go tool trace`: one track per worker and per blocking-pool thread
 * that did something in the window; on each track, spans in time:
 *   - POLL     a poll of one task (coloured by task); polls too short to
 *              draw apart at the current zoom are merged into one span
 *              (task 0 when they were of different tasks, `merged` counts);
 *   - BLOCKED  the worker's thread stuck in a blocking call inside a poll
 *              (std.thread.sleep, a std mutex, ...): drawn red (not on
 *              blocking-pool threads: blocking is what they are for);
 *   - PARKED / PARKED_DRIVER  the worker asleep (on its condvar / in the
 *              I/O + timer driver);
 *   - SEARCHING  looking for work to steal;
 * and arrows between tracks: a STEAL from the victim's track to the
 * thief's at the moment of the steal, a WAKE from where the waker ran to
 * where (and when) the woken task was next polled.
 *
 * The model covers a time window [t0, t1] of a recording and is rebuilt
 * only when the window, the zoom's resolution or the recording change
 * (viz_timeline_update). Spans that started before t0 are found by looking
 * back from t0 (what each track was doing then); spans still going at t1
 * are cut there (`open`). "Now" (the playhead) and the scrub slider's
 * figures are kept here too, so the renderer draws only what is here.
 */
#ifndef VIZ_TIMELINE_H
#define VIZ_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz_recording.h"

#define VIZ_TL_MAX_TRACKS 64     /* tracks shown (workers first) */
#define VIZ_TL_MAX_SPANS 16384   /* spans per track in one window */
#define VIZ_TL_MAX_ARROWS 4096   /* arrows in one window */
#define VIZ_TL_LOOKBACK 4000000u /* events looked at before t0 to find open spans */

typedef enum viz_tl_span_kind {
    VIZ_TL_POLL = 0,
    VIZ_TL_BLOCKED,
    VIZ_TL_PARKED,
    VIZ_TL_PARKED_DRIVER,
    VIZ_TL_SEARCHING,
    VIZ_TL__KINDS
} viz_tl_span_kind_t;

typedef struct viz_tl_span {
    uint64_t start_ns, end_ns;
    uint64_t task;         /* POLL / BLOCKED: the task (0: several merged) */
    uint32_t merged;       /* polls merged into this span beyond the first */
    uint8_t kind;          /* viz_tl_span_kind_t */
    bool open;             /* still going at the window's end */
    uint8_t block_kind;    /* BLOCKED: al_block_kind_t */
    uint64_t block_detail; /* BLOCKED: e.g. the sleep in ms */
} viz_tl_span_t;

typedef enum viz_tl_track_kind {
    VIZ_TL_WORKER = 0,
    VIZ_TL_BLOCKING, /* a blocking-pool thread */
} viz_tl_track_kind_t;

typedef struct viz_tl_track {
    uint8_t kind;         /* viz_tl_track_kind_t */
    uint32_t index;       /* worker index, or the blocking thread's number */
    uint16_t thread;      /* recording thread (blocking tracks) */
    char label[32];       /* "worker 0", "blocking 3" */
    viz_tl_span_t *spans; /* in the order they ended: polls and the blocked
                             spans inside them interleave */
    size_t num_spans, cap_spans;
    bool truncated; /* more spans than VIZ_TL_MAX_SPANS: the rest not shown */
} viz_tl_track_t;

typedef enum viz_tl_arrow_kind {
    VIZ_TL_STEAL = 0,
    VIZ_TL_WAKE,
} viz_tl_arrow_kind_t;

typedef struct viz_tl_arrow {
    uint8_t kind;                 /* viz_tl_arrow_kind_t */
    int32_t from_track, to_track; /* indexes into tracks; -1: outside the tracks
                                    (a thread that is not drawn, the driver) */
    uint64_t from_ns, to_ns;
    uint64_t task;  /* WAKE: the woken task */
    uint32_t count; /* STEAL: tasks stolen */
} viz_tl_arrow_t;

typedef struct viz_timeline {
    const viz_recording_t *rec; /* borrowed */
    uint64_t t0, t1;            /* the window */
    uint64_t min_ns;            /* spans shorter than this merge (about a pixel) */
    uint64_t now_ns;            /* the playhead */
    size_t pos;                 /* the scrub slider: event pos of num_events */
    size_t built_events;        /* the recording's size when built */
    uint32_t num_tracks;
    viz_tl_track_t tracks[VIZ_TL_MAX_TRACKS];
    viz_tl_arrow_t *arrows;
    size_t num_arrows, cap_arrows;
    bool arrows_truncated;
    size_t scanned;        /* events looked at by the last build */
    uint64_t builds;       /* how many times the model was rebuilt */
    const char *jump_kind; /* the kind N / Shift+N jump to ("lint", ...), set by the caller */
    /* task id -> name string id, learnt from TASK_SPAWN events */
    uint64_t *name_keys;
    uint32_t *name_vals;
    size_t name_cap, name_len, names_upto;
} viz_timeline_t;

/* Errors: AL_ENOMEM. */
int viz_timeline_new(const viz_recording_t *rec, viz_timeline_t **out);
void viz_timeline_free(viz_timeline_t *tl);

/* The model for window [t0, t1] with the playhead at now and the player at
 * event pos; spans shorter than min_ns are merged. Rebuilt only when
 * something changed. Errors: AL_ENOMEM (the model is then empty). */
int viz_timeline_update(viz_timeline_t *tl, uint64_t t0, uint64_t t1, uint64_t min_ns,
                        uint64_t now_ns, size_t pos);

/* ---- questions tests (and the renderer) ask ---- */

/* The track of worker i / of blocking thread number n; NULL if not shown. */
const viz_tl_track_t *viz_timeline_track(const viz_timeline_t *tl, viz_tl_track_kind_t kind,
                                         uint32_t index);
/* The span of a kind covering ts on a track (the upper layer first:
 * BLOCKED over POLL); NULL if none. kind < 0: any kind. */
const viz_tl_span_t *viz_timeline_span_at(const viz_tl_track_t *t, uint64_t ts, int kind);
size_t viz_timeline_count_spans(const viz_tl_track_t *t, viz_tl_span_kind_t kind);
size_t viz_timeline_count_arrows(const viz_timeline_t *tl, viz_tl_arrow_kind_t kind);
/* The task's name ("" if unnamed or unknown). */
const char *viz_timeline_task_name(const viz_timeline_t *tl, uint64_t task);
/* A task's colour slot (0 .. VIZ_TL_TASK_COLORS - 1): the same task is
 * always the same colour. */
#define VIZ_TL_TASK_COLORS 10
unsigned viz_timeline_task_color(uint64_t task);
const char *viz_tl_span_kind_name(unsigned kind);

#endif
