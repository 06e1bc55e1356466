/*
 * al_stream.h — the recorded event stream: what every consumer of "what the
 * scheduler did" sees, live or replayed from a trace file.
 *
 * Live: al_stream_start installs a recorder on a runtime. Every hook point
 * (al_event.h) then writes a fixed-size record into a lock-free ring owned by
 * the emitting thread (one per worker, blocking-pool thread, or any other
 * thread that emits). A collector thread drains the rings, merges them in
 * timestamp order and hands batches to the subscribed consumers. Nothing
 * blocks the runtime: a full ring drops the event and counts the drop, and
 * the counts reach the consumers (on_drops).
 *
 * Replay: al_trace_read (al_trace.h) feeds a recorded file to the same
 * consumer interface, so live and replay are one code path for the console
 * model, the lints, the text logger, the exporters and the visualizer.
 *
 * Order of calls a consumer receives (one thread at a time, never
 * concurrently): on_header once; then any mix of on_thread / on_string (always
 * before the first event that refers to that thread or string id), on_events
 * (batches, non-decreasing ts_ns across batches) and on_drops; then on_end
 * once. Every callback may be NULL.
 */
#ifndef AL_STREAM_H
#define AL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_event.h"

struct al_runtime;

/* One recorded event. Same meaning as al_event_t (see AL_EVENT_MAP), except
 * that the string is an id into the stream's string table (0: none) and the
 * emitting OS thread is named by `thread` (see on_thread). */
typedef struct al_trace_event {
    uint64_t ts_ns; /* CLOCK_MONOTONIC ns (see al_stream_header_t.clock_base_ns) */
    uint64_t task;
    uint64_t a, b;
    uint32_t str;    /* string id, 0 = none */
    uint16_t kind;   /* al_event_kind_t */
    uint16_t thread; /* recording thread id, see on_thread */
    int16_t worker;  /* worker index, or AL_EV_NOT_WORKER */
} al_trace_event_t;

#define AL_STREAM_VERSION 2

/* What a stream describes: written first in every trace file. */
typedef struct al_stream_header {
    uint32_t version;     /* AL_STREAM_VERSION of the writer */
    uint32_t num_workers; /* 1 for a current-thread runtime */
    uint32_t flavor;      /* al_flavor_t */
    uint32_t global_queue_interval;
    uint32_t event_interval;
    uint32_t max_blocking_threads;
    uint64_t clock_base_ns; /* CLOCK_MONOTONIC when recording started */
    uint64_t wall_base_ns;  /* CLOCK_REALTIME (Unix epoch ns) at the same moment */
} al_stream_header_t;

/* Kinds of recording threads (on_thread). */
typedef enum al_thread_kind {
    AL_THREAD_WORKER = 0, /* a worker thread (its index is in `worker`) */
    AL_THREAD_BLOCKING,   /* a blocking-pool thread */
    AL_THREAD_OTHER,      /* block_on caller, external thread, ... */
} al_thread_kind_t;

typedef struct al_stream_consumer {
    void (*on_header)(void *self, const al_stream_header_t *h);
    /* A recording thread: id (dense, from 0), its OS name, kind, and the
     * worker index it started as (AL_EV_NOT_WORKER if none). */
    void (*on_thread)(void *self, uint16_t thread, const char *name, al_thread_kind_t kind,
                      int16_t worker);
    /* A string id (dense, from 1) and its bytes (not NUL-terminated in
     * files; here always NUL-terminated, len excludes the NUL). */
    void (*on_string)(void *self, uint32_t id, const char *s, size_t len);
    void (*on_events)(void *self, const al_trace_event_t *ev, size_t n);
    /* `thread` has dropped `total` events so far (cumulative, never reset). */
    void (*on_drops)(void *self, uint16_t thread, uint64_t total);
    void (*on_end)(void *self);
} al_stream_consumer_t;

/* ---- live recording ---- */

typedef struct al_stream al_stream_t;

typedef struct al_stream_config {
    uint32_t ring_events;      /* per-thread ring capacity in events (power of 2; 0: 65536) */
    uint32_t collect_every_us; /* collector period (0: 1000) */
} al_stream_config_t;

/*
 * Start recording rt. Consumers subscribe before or after; a late subscriber
 * gets on_header and every thread and string known so far, then events from
 * the next batch on. Errors: AL_EINVAL, AL_EBUSY (rt already has a hook or a
 * stream), AL_ENOMEM.
 */
int al_stream_start(struct al_runtime *rt, const al_stream_config_t *cfg, al_stream_t **out);
int al_stream_subscribe(al_stream_t *st, const al_stream_consumer_t *c, void *self);
/* Remove a subscription (the same c and self): when this returns, no
 * callback of it runs or will run; on_end is not called. Not from inside a
 * consumer's callback. Errors: AL_EINVAL (not subscribed). */
int al_stream_unsubscribe(al_stream_t *st, const al_stream_consumer_t *c, void *self);
/* The stream recording rt now (e.g. started by ASYNCLAB_LOG), or NULL. */
al_stream_t *al_stream_of(struct al_runtime *rt);
/* Deliver everything emitted before this call (by threads that have
 * returned from their hook call) to the consumers, then return. */
void al_stream_flush(al_stream_t *st);
/* Uninstall the recorder, deliver what was recorded, call on_end on every
 * consumer and drop them. The stream belongs to the runtime: it stays valid
 * (al_stream_start on the same runtime restarts it) until al_runtime_free,
 * which stops it if needed. The recorder is the runtime's event hook: do not
 * call al_runtime_set_hook while a stream runs. */
void al_stream_stop(al_stream_t *st);

/* ---- annotations: events the program (or a consumer) adds itself ----
 * Recorded like scheduler events, with the current task (if any) as the
 * subject; rt NULL means the runtime this thread is in. No-ops when nothing
 * listens. Text is copied. */
void al_trace_log(struct al_runtime *rt, const char *text);
/* A named span; returns its id for al_trace_span_end (0 when not recorded). */
uint64_t al_trace_span_begin(struct al_runtime *rt, const char *name);
void al_trace_span_end(struct al_runtime *rt, uint64_t span);
/* A lint finding (al_lint.h), so that replays show when it fired. */
void al_trace_lint(struct al_runtime *rt, uint64_t task, uint32_t lint_id, const char *message);
/* Lesson hooks, for the visualizer (and replays) to show. A caption is the
 * narration text on screen until the next one (NULL or "": clear it). A
 * highlight adds an outline to a task, worker or resource
 * (AL_HIGHLIGHT_NONE, id 0: clear them all). A marker is a named point the
 * playback can stop at. */
void al_trace_caption(struct al_runtime *rt, const char *text);
void al_trace_highlight(struct al_runtime *rt, al_highlight_kind_t what, uint64_t id);
void al_trace_marker(struct al_runtime *rt, const char *name);

typedef struct al_stream_stats {
    uint64_t recorded;  /* events written into rings */
    uint64_t dropped;   /* events lost to full rings */
    uint64_t delivered; /* events handed to consumers */
    uint64_t late;      /* published after newer events were delivered: ts raised */
    uint32_t threads;   /* recording threads seen */
} al_stream_stats_t;
void al_stream_stats(const al_stream_t *st, al_stream_stats_t *out);

#endif
