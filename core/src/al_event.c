/*
 * al_event.c — event kind names and the slow half of a hook point
 * (al__emit: fill the event and call the installed hook).
 */
#include "al_internal.h"

static const char *const al__event_names[] = {
#define AL__EV_NAME(name, t, a, b, s) #name,
    AL_EVENT_MAP(AL__EV_NAME)
#undef AL__EV_NAME
};

const char *al_event_kind_name(unsigned kind)
{
    return kind < AL_ARRAY_SIZE(al__event_names) ? al__event_names[kind] : "?";
}

void al__emit(al_runtime_t *rt, al_event_kind_t kind, uint64_t task, uint64_t a, uint64_t b,
              const char *str)
{
    al__hook_slot_t *slot = (al__hook_slot_t *)rt;
    al_event_fn fn = atomic_load_explicit(&slot->fn, memory_order_acquire);
    if (!fn)
        return;
    al_event_t ev = {
        .ts_ns = al__now_ns(),
        .task = task,
        .a = a,
        .b = b,
        .str = str,
        .kind = (uint16_t)kind,
        .worker = (int16_t)(al__tls.rt == rt ? al__tls.worker_index : AL_EV_NOT_WORKER),
    };
    fn(atomic_load_explicit(&slot->user, memory_order_relaxed), &ev);
}
