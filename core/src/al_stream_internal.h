/*
 * al_stream_internal.h — private to the asynclab core: the runtime's side of
 * the recorder (al_stream.c).
 */
#ifndef AL_STREAM_INTERNAL_H
#define AL_STREAM_INTERNAL_H

#include "al_stream.h"

/* The recorder's hook, and its fast path: al__emit calls the latter
 * directly when the recorder is the installed hook (no al_event_t is built
 * and the time is read from the TSC, converted later by the collector). */
void al__stream_record(void *user, const al_event_t *ev);
void al__stream_record_fast(void *user, uint16_t kind, uint64_t task, uint64_t a, uint64_t b,
                            const char *str, int16_t worker);

/* Stop if running and free everything. Only when no thread can emit any
 * more (al_runtime_free, after every runtime thread was joined). */
void al__stream_destroy(al_stream_t *st);

#endif
