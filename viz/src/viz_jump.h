/*
 * viz_jump.h — jumping to the next / previous event of a chosen kind: a
 * lint firing, a steal, a worker parking, a worker blocking, a task ending
 * in a panic, or any event at all. The keys N / Shift+N jump, K cycles the
 * kind (viz_timeline_input.h).
 */
#ifndef VIZ_JUMP_H
#define VIZ_JUMP_H

#include <stdbool.h>
#include <stddef.h>

#include "viz_recording.h"

typedef enum viz_jump_kind {
    VIZ_JUMP_LINT = 0,
    VIZ_JUMP_STEAL,
    VIZ_JUMP_PARK,
    VIZ_JUMP_BLOCK,
    VIZ_JUMP_PANIC,
    VIZ_JUMP_ANY,
    VIZ_JUMP__COUNT
} viz_jump_kind_t;

/* "lint", "steal", "park", "block", "panic", "any". */
const char *viz_jump_kind_name(unsigned kind);
/* Whether the event is one of that kind. */
bool viz_jump_matches(unsigned kind, const al_trace_event_t *e);
/*
 * The position (events applied, as viz_player_seek_event takes) that shows
 * the next (dir > 0) or previous (dir < 0) event of the kind as the last
 * one applied, from position pos. Next: the first match at index >= pos (the
 * events not applied yet). Previous: the last match before index pos - 1
 * (the event shown now). Returns pos when there is none.
 */
size_t viz_jump_find(const viz_recording_t *r, size_t pos, unsigned kind, int dir);

#endif
