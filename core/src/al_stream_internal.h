/*
 * al_stream_internal.h — private to the asynclab core: the runtime's side of
 * the recorder (al_stream.c).
 */
#ifndef AL_STREAM_INTERNAL_H
#define AL_STREAM_INTERNAL_H

#include "al_stream.h"

/* Stop if running and free everything. Only when no thread can emit any
 * more (al_runtime_free, after every runtime thread was joined). */
void al__stream_destroy(al_stream_t *st);

#endif
