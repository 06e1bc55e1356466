/*
 * viz_jump.c — finding the next / previous event of a kind (see viz_jump.h).
 */
#include "al_event.h"
#include "al_task.h"
#include "viz_jump.h"

const char *viz_jump_kind_name(unsigned kind)
{
    static const char *names[VIZ_JUMP__COUNT] = {"lint", "steal", "park", "block", "panic", "any"};
    return kind < VIZ_JUMP__COUNT ? names[kind] : "?";
}

bool viz_jump_matches(unsigned kind, const al_trace_event_t *e)
{
    switch (kind) {
    case VIZ_JUMP_LINT:
        return e->kind == AL_EV_LINT;
    case VIZ_JUMP_STEAL:
        return e->kind == AL_EV_STEAL;
    case VIZ_JUMP_PARK:
        return e->kind == AL_EV_PARK;
    case VIZ_JUMP_BLOCK:
        return e->kind == AL_EV_BLOCK_BEGIN;
    case VIZ_JUMP_PANIC:
        return e->kind == AL_EV_TASK_END && e->a == AL_JOIN_PANIC;
    case VIZ_JUMP_ANY:
        return true;
    default:
        return false;
    }
}

size_t viz_jump_find(const viz_recording_t *r, size_t pos, unsigned kind, int dir)
{
    if (pos > r->num_events)
        pos = r->num_events;
    if (dir > 0) {
        for (size_t i = pos; i < r->num_events; i++)
            if (viz_jump_matches(kind, &r->events[i]))
                return i + 1;
    } else if (dir < 0 && pos >= 2) {
        for (size_t i = pos - 1; i-- > 0;)
            if (viz_jump_matches(kind, &r->events[i]))
                return i + 1;
    }
    return pos;
}
