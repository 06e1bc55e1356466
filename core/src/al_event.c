/*
 * al_event.c — event kind names and the slow half of a hook point
 * (al__emit: fill the event and call the installed hook).
 */
#include <string.h>
#include <strings.h>

#include "al_internal.h"
#include "al_stream.h"
#include "al_stream_internal.h"

static const char *const al__event_names[] = {
#define AL__EV_NAME(name, t, a, b, s) #name,
    AL_EVENT_MAP(AL__EV_NAME)
#undef AL__EV_NAME
};

/* ---- annotations ---- */

static _Atomic uint64_t al__span_next = 1;

static al_runtime_t *al__annotated_rt(al_runtime_t *rt)
{
    return rt ? rt : al__tls.rt;
}

void al_trace_log(al_runtime_t *rt, const char *text)
{
    rt = al__annotated_rt(rt);
    AL__EMIT(rt, AL_EV_USER_LOG, al__current_task_id(), 0, 0, text ? text : "");
}

uint64_t al_trace_span_begin(al_runtime_t *rt, const char *name)
{
    rt = al__annotated_rt(rt);
    if (!al__hooked(rt))
        return 0;
    uint64_t id = atomic_fetch_add_explicit(&al__span_next, 1, memory_order_relaxed);
    al__emit(rt, AL_EV_SPAN_BEGIN, al__current_task_id(), id, 0, name ? name : "");
    return id;
}

void al_trace_span_end(al_runtime_t *rt, uint64_t span)
{
    rt = al__annotated_rt(rt);
    if (span)
        AL__EMIT(rt, AL_EV_SPAN_END, al__current_task_id(), span, 0, NULL);
}

void al_trace_lint(al_runtime_t *rt, uint64_t task, uint32_t lint_id, const char *message)
{
    rt = al__annotated_rt(rt);
    AL__EMIT(rt, AL_EV_LINT, task, lint_id, 0, message ? message : "");
}

void al_trace_caption(al_runtime_t *rt, const char *text)
{
    rt = al__annotated_rt(rt);
    AL__EMIT(rt, AL_EV_CAPTION, al__current_task_id(), 0, 0, text && *text ? text : NULL);
}

void al_trace_highlight(al_runtime_t *rt, al_highlight_kind_t what, uint64_t id)
{
    rt = al__annotated_rt(rt);
    AL__EMIT(rt, AL_EV_HIGHLIGHT, al__current_task_id(), (uint64_t)what,
             what == AL_HIGHLIGHT_NONE ? 0 : id, NULL);
}

void al_trace_marker(al_runtime_t *rt, const char *name)
{
    rt = al__annotated_rt(rt);
    AL__EMIT(rt, AL_EV_MARKER, al__current_task_id(), 0, 0, name ? name : "");
}

const char *al_event_kind_name(unsigned kind)
{
    return kind < AL_ARRAY_SIZE(al__event_names) ? al__event_names[kind] : "?";
}

int al_event_kind_from_name(const char *name, size_t len)
{
    for (unsigned k = 0; k < AL_ARRAY_SIZE(al__event_names); k++)
        if (strlen(al__event_names[k]) == len && strncasecmp(al__event_names[k], name, len) == 0)
            return (int)k;
    return -1;
}

static const char *const al__event_fields[][4] = {
#define AL__EV_FIELDS(name, t, a, b, s) {t, a, b, s},
    AL_EVENT_MAP(AL__EV_FIELDS)
#undef AL__EV_FIELDS
};

bool al_event_kind_fields(unsigned kind, const char **task, const char **a, const char **b,
                          const char **str)
{
    if (kind >= AL_ARRAY_SIZE(al__event_fields))
        return false;
    if (task)
        *task = al__event_fields[kind][0];
    if (a)
        *a = al__event_fields[kind][1];
    if (b)
        *b = al__event_fields[kind][2];
    if (str)
        *str = al__event_fields[kind][3];
    return true;
}

void al__emit(al_runtime_t *rt, al_event_kind_t kind, uint64_t task, uint64_t a, uint64_t b,
              const char *str)
{
    al__hook_slot_t *slot = (al__hook_slot_t *)rt;
    al_event_fn fn = atomic_load_explicit(&slot->fn, memory_order_acquire);
    if (!fn)
        return;
    int16_t worker = (int16_t)(al__tls.rt == rt ? al__tls.worker_index : AL_EV_NOT_WORKER);
    if (fn == al__stream_record) {
        al__stream_record_fast(atomic_load_explicit(&slot->user, memory_order_relaxed),
                               (uint16_t)kind, task, a, b, str, worker);
        return;
    }
    al_event_t ev = {
        .ts_ns = al__now_ns(),
        .task = task,
        .a = a,
        .b = b,
        .str = str,
        .kind = (uint16_t)kind,
        .worker = worker,
    };
    fn(atomic_load_explicit(&slot->user, memory_order_relaxed), &ev);
}
