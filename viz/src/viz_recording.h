/*
 * viz_recording.h — a recorded event stream held in memory, so that the
 * visualizer can replay any prefix of it: step forward, step back, seek to a
 * time.
 *
 * A recording is a stream consumer (al_stream.h): fill it from a trace file
 * (viz_recording_load), from bytes, from a live stream, or by hand (tests
 * call the consumer's callbacks with events they build). It keeps the
 * header, the thread and string tables, every event, and the drop counts.
 *
 * Replaying a range (viz_recording_feed) hands a consumer the same calls a
 * trace file would: the header and tables first, then the events. Events are
 * kept in the order received (non-decreasing ts_ns in any stream the runtime
 * wrote).
 */
#ifndef VIZ_RECORDING_H
#define VIZ_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_stream.h"
#include "al_tracefile.h"

typedef struct viz_thread {
    char name[32];
    uint8_t kind;   /* al_thread_kind_t */
    int16_t worker; /* AL_EV_NOT_WORKER if none */
    bool known;
} viz_thread_t;

typedef struct viz_recording {
    al_stream_header_t header;
    bool have_header;
    bool ended; /* the end record was read (or on_end called) */
    viz_thread_t *threads;
    uint32_t num_threads;
    char **strings; /* by id (0 unused); NULL where unknown */
    uint32_t num_strings;
    al_trace_event_t *events;
    size_t num_events, cap_events;
    uint64_t *drops; /* cumulative per thread */
    uint32_t num_drops;
    uint64_t dropped; /* sum of drops */
    bool out_of_memory;
} viz_recording_t;

/* Errors: AL_ENOMEM. */
int viz_recording_new(viz_recording_t **out);
void viz_recording_free(viz_recording_t *r);
extern const al_stream_consumer_t viz_recording_consumer;

/*
 * Read a trace file into r. Returns 0 for a whole file; otherwise the
 * reader's code with err filled in (al_tracefile.h): a negated errno when
 * the file cannot be opened, AL_ETRUNCATED / AL_EFORMAT / AL_EVERSION for a
 * damaged one (every event before the damage is kept), AL_ENOMEM.
 */
int viz_recording_load(viz_recording_t *r, const char *path, al_tracefile_error_t *err);
/* The same from bytes in memory. */
int viz_recording_load_mem(viz_recording_t *r, const void *buf, size_t len,
                           al_tracefile_error_t *err);

/* Hand c the header, threads, strings and drop counts (when tables is true),
 * then events [from, to) in one batch. */
void viz_recording_feed(const viz_recording_t *r, bool tables, size_t from, size_t to,
                        const al_stream_consumer_t *c, void *self);

/* Forget the oldest n events (a live recording's memory bound); the rest
 * move to the front. The tables stay. */
void viz_recording_drop_front(viz_recording_t *r, size_t n);

/* How many events have ts_ns <= ts (binary search). */
size_t viz_recording_count_until(const viz_recording_t *r, uint64_t ts);
/* The first / last event's time; the header's clock base when empty. */
uint64_t viz_recording_first_ns(const viz_recording_t *r);
uint64_t viz_recording_last_ns(const viz_recording_t *r);
/* The string with id, "" if unknown. */
const char *viz_recording_string(const viz_recording_t *r, uint32_t id);

#endif
