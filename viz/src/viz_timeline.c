/*
 * viz_timeline.c — the timeline model (see viz_timeline.h): one backward
 * look from t0 to learn what each track was doing then, one forward pass
 * over the window's events to cut spans and draw arrows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_event.h"
#include "viz_timeline.h"

#define VIZ__WAKES 8192 /* wakes waiting for their task's next poll (direct-mapped) */
#define VIZ__NO_TRACK (-1)

/* What a track is doing while the window is scanned. */
typedef struct {
    bool poll, block, park, search;
    uint64_t poll_task, poll_start;
    uint64_t block_task, block_start, block_detail;
    uint8_t block_kind;
    uint8_t park_kind; /* VIZ_TL_PARKED or VIZ_TL_PARKED_DRIVER */
    uint64_t park_start, search_start;
    size_t last[VIZ_TL__KINDS]; /* the last span of each kind + 1 (0: none), for merging */
    /* the backward look: */
    bool resolved, need_poll;
} viz__state_t;

typedef struct {
    uint64_t task, ts;
    int32_t from;
} viz__wake_t;

typedef struct {
    viz_timeline_t *tl;
    viz__state_t st[VIZ_TL_MAX_TRACKS];
    int32_t thread_track[65536]; /* recording thread -> track, -1: none yet */
    int32_t blocking_num[65536]; /* recording thread -> blocking thread number, -1: unknown */
    viz__wake_t wakes[VIZ__WAKES];
    bool oom;
} viz__build_t;

const char *viz_tl_span_kind_name(unsigned kind)
{
    static const char *names[] = {"poll", "blocked", "parked", "parked (driver)", "searching"};
    return kind < VIZ_TL__KINDS ? names[kind] : "?";
}

unsigned viz_timeline_task_color(uint64_t task)
{
    uint64_t h = task * 0x9E3779B97F4A7C15ull;
    return (unsigned)((h >> 40) % VIZ_TL_TASK_COLORS);
}

int viz_timeline_new(const viz_recording_t *rec, viz_timeline_t **out)
{
    viz_timeline_t *tl = calloc(1, sizeof *tl);
    if (!tl)
        return AL_ENOMEM;
    tl->rec = rec;
    tl->built_events = (size_t)-1; /* nothing built yet */
    *out = tl;
    return 0;
}

static void viz__clear(viz_timeline_t *tl)
{
    for (uint32_t i = 0; i < tl->num_tracks; i++)
        tl->tracks[i].num_spans = 0, tl->tracks[i].truncated = false;
    tl->num_tracks = 0;
    tl->num_arrows = 0;
    tl->arrows_truncated = false;
}

void viz_timeline_free(viz_timeline_t *tl)
{
    if (!tl)
        return;
    for (uint32_t i = 0; i < VIZ_TL_MAX_TRACKS; i++)
        free(tl->tracks[i].spans);
    free(tl->arrows);
    free(tl->name_keys);
    free(tl->name_vals);
    free(tl);
}

/* ---- task names ---- */

static size_t viz__name_slot(const viz_timeline_t *tl, uint64_t task)
{
    return (size_t)((task * 0x9E3779B97F4A7C15ull) >> 20) & (tl->name_cap - 1);
}

static bool viz__name_put(viz_timeline_t *tl, uint64_t task, uint32_t str)
{
    if ((tl->name_len + 1) * 2 > tl->name_cap) {
        size_t cap = tl->name_cap ? tl->name_cap * 2 : 1024;
        uint64_t *keys = calloc(cap, sizeof *keys);
        uint32_t *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        uint64_t *ok = tl->name_keys;
        uint32_t *ov = tl->name_vals;
        size_t ocap = tl->name_cap;
        tl->name_keys = keys;
        tl->name_vals = vals;
        tl->name_cap = cap;
        tl->name_len = 0;
        for (size_t i = 0; i < ocap; i++)
            if (ok[i])
                viz__name_put(tl, ok[i], ov[i]);
        free(ok);
        free(ov);
    }
    size_t i = viz__name_slot(tl, task);
    while (tl->name_keys[i] && tl->name_keys[i] != task)
        i = (i + 1) & (tl->name_cap - 1);
    if (!tl->name_keys[i])
        tl->name_len++;
    tl->name_keys[i] = task;
    tl->name_vals[i] = str;
    return true;
}

/* Learn the names spawned since the last call. */
static void viz__learn_names(viz_timeline_t *tl)
{
    const viz_recording_t *r = tl->rec;
    for (size_t i = tl->names_upto; i < r->num_events; i++) {
        const al_trace_event_t *e = &r->events[i];
        if (e->kind == AL_EV_TASK_SPAWN && e->task && e->str && !viz__name_put(tl, e->task, e->str))
            return; /* out of memory: names stay unknown */
        tl->names_upto = i + 1;
    }
}

const char *viz_timeline_task_name(const viz_timeline_t *tl, uint64_t task)
{
    if (!tl->name_cap || !task)
        return "";
    for (size_t i = viz__name_slot(tl, task); tl->name_keys[i]; i = (i + 1) & (tl->name_cap - 1))
        if (tl->name_keys[i] == task)
            return viz_recording_string(tl->rec, tl->name_vals[i]);
    return "";
}

/* ---- tracks ---- */

static int32_t viz__add_track(viz__build_t *b, uint8_t kind, uint32_t index, uint16_t thread)
{
    viz_timeline_t *tl = b->tl;
    if (tl->num_tracks >= VIZ_TL_MAX_TRACKS)
        return VIZ__NO_TRACK;
    viz_tl_track_t *t = &tl->tracks[tl->num_tracks];
    t->kind = kind;
    t->index = index;
    t->thread = thread;
    t->num_spans = 0;
    t->truncated = false;
    snprintf(t->label, sizeof t->label, "%s %u", kind == VIZ_TL_WORKER ? "worker" : "blocking",
             index);
    memset(&b->st[tl->num_tracks], 0, sizeof b->st[0]);
    return (int32_t)tl->num_tracks++;
}

static bool viz__thread_is_blocking(const viz__build_t *b, uint16_t thread)
{
    const viz_recording_t *r = b->tl->rec;
    if (b->blocking_num[thread] >= 0)
        return true;
    return thread < r->num_threads && r->threads[thread].known &&
           r->threads[thread].kind == AL_THREAD_BLOCKING;
}

/* The track an event happened on (made when first needed); -1: none. */
static int32_t viz__track_of(viz__build_t *b, const al_trace_event_t *e)
{
    if (e->worker >= 0)
        return e->worker < VIZ_TL_MAX_TRACKS && (uint32_t)e->worker < b->tl->rec->header.num_workers
                   ? e->worker
                   : VIZ__NO_TRACK;
    if (e->kind == AL_EV_BLOCKING_RUN || e->kind == AL_EV_BLOCKING_THREAD_START ||
        e->kind == AL_EV_BLOCKING_THREAD_EXIT)
        if (e->a < 1u << 30)
            b->blocking_num[e->thread] = (int32_t)e->a;
    if (b->thread_track[e->thread] >= 0)
        return b->thread_track[e->thread];
    if (!viz__thread_is_blocking(b, e->thread))
        return VIZ__NO_TRACK;
    int32_t n = b->blocking_num[e->thread];
    int32_t t = viz__add_track(b, VIZ_TL_BLOCKING, n >= 0 ? (uint32_t)n : e->thread, e->thread);
    b->thread_track[e->thread] = t;
    return t;
}

/* Add a span (or widen the last one of its kind when both are too short
 * to tell apart at this zoom). */
static void viz__span(viz__build_t *b, int32_t track, uint8_t kind, uint64_t start, uint64_t end,
                      uint64_t task, bool open)
{
    viz_timeline_t *tl = b->tl;
    viz_tl_track_t *t = &tl->tracks[track];
    viz__state_t *st = &b->st[track];
    if (end < start)
        end = start;
    if (st->last[kind] && !open) {
        viz_tl_span_t *p = &t->spans[st->last[kind] - 1];
        bool small = end - start < tl->min_ns;
        bool p_small = p->merged > 0 || p->end_ns - p->start_ns < tl->min_ns;
        if (small && p_small && start >= p->end_ns && start - p->end_ns < tl->min_ns &&
            p->end_ns - p->start_ns < 64 * tl->min_ns) {
            p->end_ns = end;
            p->merged++;
            if (p->task != task)
                p->task = 0;
            return;
        }
    }
    if (t->num_spans >= VIZ_TL_MAX_SPANS) {
        t->truncated = true;
        return;
    }
    if (t->num_spans == t->cap_spans) {
        size_t cap = t->cap_spans ? t->cap_spans * 2 : 256;
        viz_tl_span_t *grown = realloc(t->spans, cap * sizeof *grown);
        if (!grown) {
            b->oom = true;
            return;
        }
        t->spans = grown;
        t->cap_spans = cap;
    }
    t->spans[t->num_spans++] =
        (viz_tl_span_t){.start_ns = start, .end_ns = end, .task = task, .kind = kind, .open = open};
    st->last[kind] = t->num_spans;
}

static void viz__arrow(viz__build_t *b, uint8_t kind, int32_t from, int32_t to, uint64_t from_ns,
                       uint64_t to_ns, uint64_t task, uint32_t count)
{
    viz_timeline_t *tl = b->tl;
    if (tl->num_arrows >= VIZ_TL_MAX_ARROWS) {
        tl->arrows_truncated = true;
        return;
    }
    if (tl->num_arrows == tl->cap_arrows) {
        size_t cap = tl->cap_arrows ? tl->cap_arrows * 2 : 128;
        viz_tl_arrow_t *grown = realloc(tl->arrows, cap * sizeof *grown);
        if (!grown) {
            b->oom = true;
            return;
        }
        tl->arrows = grown;
        tl->cap_arrows = cap;
    }
    tl->arrows[tl->num_arrows++] = (viz_tl_arrow_t){.kind = kind,
                                                    .from_track = from,
                                                    .to_track = to,
                                                    .from_ns = from_ns,
                                                    .to_ns = to_ns,
                                                    .task = task,
                                                    .count = count};
}

/* ---- what each track was doing at t0: look back ---- */

/* Returns how many events it looked at. */
static size_t viz__look_back(viz__build_t *b, size_t i0)
{
    const viz_recording_t *r = b->tl->rec;
    uint32_t workers = b->tl->num_tracks, unresolved = workers;
    /* Blocking threads the thread table names are looked for too (each is
     * decided by its last poll, or its start / exit, before t0). */
    for (uint32_t th = 0; th < r->num_threads && th < 65536; th++)
        unresolved += r->threads[th].known && r->threads[th].kind == AL_THREAD_BLOCKING;
    size_t stop = i0 > VIZ_TL_LOOKBACK ? i0 - VIZ_TL_LOOKBACK : 0, i = i0;
    while (i-- > stop && unresolved > 0) {
        const al_trace_event_t *e = &r->events[i];
        if (e->worker < 0) {
            /* A blocking thread: only a poll still open at t0 matters. */
            if (e->kind != AL_EV_POLL_BEGIN && e->kind != AL_EV_POLL_END &&
                e->kind != AL_EV_BLOCKING_THREAD_EXIT && e->kind != AL_EV_BLOCKING_THREAD_START)
                continue;
            if (b->thread_track[e->thread] != -1)
                continue; /* decided already */
            if (viz__thread_is_blocking(b, e->thread) && e->thread < r->num_threads &&
                r->threads[e->thread].known && unresolved > 0)
                unresolved--;
            if (e->kind == AL_EV_POLL_BEGIN && viz__thread_is_blocking(b, e->thread)) {
                /* Its thread number: the BLOCKING_RUN just before. */
                for (size_t j = i; j-- > 0 && i - j < 4096;)
                    if (r->events[j].thread == e->thread &&
                        r->events[j].kind == AL_EV_BLOCKING_RUN && r->events[j].a < 1u << 30) {
                        b->blocking_num[e->thread] = (int32_t)r->events[j].a;
                        break;
                    }
                int32_t t = viz__track_of(b, e);
                if (t >= 0) {
                    b->st[t].poll = true;
                    b->st[t].poll_task = e->task;
                    b->st[t].poll_start = e->ts_ns;
                }
            } else {
                b->thread_track[e->thread] = -2;
            }
            continue;
        }
        if ((uint32_t)e->worker >= workers)
            continue;
        viz__state_t *st = &b->st[e->worker];
        if (st->resolved)
            continue;
        bool done = true;
        switch (e->kind) {
        case AL_EV_POLL_BEGIN:
            st->poll = true;
            st->poll_task = e->task;
            st->poll_start = e->ts_ns;
            break;
        case AL_EV_BLOCK_BEGIN:
            if (!st->need_poll) {
                st->block = true;
                st->block_task = e->task;
                st->block_start = e->ts_ns;
                st->block_kind = (uint8_t)e->a;
                st->block_detail = e->b;
            }
            st->need_poll = true;
            done = false;
            break;
        case AL_EV_BLOCK_END:
            st->need_poll = true;
            done = false;
            break;
        case AL_EV_PARK:
            if (!st->need_poll) {
                st->park = true;
                st->park_kind = e->a ? VIZ_TL_PARKED_DRIVER : VIZ_TL_PARKED;
                st->park_start = e->ts_ns;
            }
            break;
        case AL_EV_SEARCH_BEGIN:
            if (!st->need_poll) {
                st->search = true;
                st->search_start = e->ts_ns;
            }
            break;
        case AL_EV_POLL_END:
        case AL_EV_UNPARK:
        case AL_EV_SEARCH_END:
            break;
        default:
            done = false;
            break;
        }
        if (done) {
            st->resolved = true;
            unresolved--;
        }
    }
    /* -2 (decided: nothing open) back to "no track yet". */
    for (size_t k = 0; k < 65536; k++)
        if (b->thread_track[k] == -2)
            b->thread_track[k] = -1;
    return i0 - (i + 1 > stop ? i + 1 : stop);
}

/* ---- the window ---- */

/* The blocked span of a track's state, ending at ts. */
static void viz__blocked(viz__build_t *b, int32_t t, uint64_t ts, bool open)
{
    viz__state_t *st = &b->st[t];
    viz_tl_track_t *tr = &b->tl->tracks[t];
    size_t before = tr->num_spans;
    viz__span(b, t, VIZ_TL_BLOCKED, st->block_start, ts, st->block_task, open);
    if (tr->num_spans > before) {
        tr->spans[tr->num_spans - 1].block_kind = st->block_kind;
        tr->spans[tr->num_spans - 1].block_detail = st->block_detail;
    }
    st->block = false;
}

static void viz__close_poll(viz__build_t *b, int32_t t, uint64_t ts, bool open)
{
    viz__state_t *st = &b->st[t];
    if (st->block)
        viz__blocked(b, t, ts, open);
    if (st->poll) {
        viz__span(b, t, VIZ_TL_POLL, st->poll_start, ts, st->poll_task, open);
        st->poll = false;
    }
}

static void viz__close_idle(viz__build_t *b, int32_t t, uint64_t ts, bool open)
{
    viz__state_t *st = &b->st[t];
    if (st->park) {
        viz__span(b, t, st->park_kind, st->park_start, ts, 0, open);
        st->park = false;
    }
    if (st->search) {
        viz__span(b, t, VIZ_TL_SEARCHING, st->search_start, ts, 0, open);
        st->search = false;
    }
}

static void viz__event(viz__build_t *b, const al_trace_event_t *e)
{
    int32_t t = viz__track_of(b, e);
    viz__state_t *st = t >= 0 ? &b->st[t] : NULL;
    uint64_t ts = e->ts_ns;
    switch (e->kind) {
    case AL_EV_POLL_BEGIN: {
        if (st) {
            viz__close_idle(b, t, ts, false);
            viz__close_poll(b, t, ts, false);
            st->poll = true;
            st->poll_task = e->task;
            st->poll_start = ts;
        }
        viz__wake_t *w = &b->wakes[e->task % VIZ__WAKES];
        if (w->task == e->task && e->task) {
            if (t >= 0 || w->from >= 0)
                viz__arrow(b, VIZ_TL_WAKE, w->from, t, w->ts, ts, e->task, 0);
            w->task = 0;
        }
        break;
    }
    case AL_EV_POLL_END:
        if (st)
            viz__close_poll(b, t, ts, false);
        break;
    case AL_EV_BLOCK_BEGIN:
        if (st && !st->block && b->tl->tracks[t].kind == VIZ_TL_WORKER) {
            st->block = true;
            st->block_task = e->task;
            st->block_start = ts;
            st->block_kind = (uint8_t)e->a;
            st->block_detail = e->b;
        }
        break;
    case AL_EV_BLOCK_END:
        if (st && st->block)
            viz__blocked(b, t, ts, false);
        break;
    case AL_EV_PARK:
        if (st) {
            viz__close_idle(b, t, ts, false);
            st->park = true;
            st->park_kind = e->a ? VIZ_TL_PARKED_DRIVER : VIZ_TL_PARKED;
            st->park_start = ts;
        }
        break;
    case AL_EV_UNPARK:
        if (st)
            viz__close_idle(b, t, ts, false);
        break;
    case AL_EV_SEARCH_BEGIN:
        if (st && !st->search) {
            st->search = true;
            st->search_start = ts;
        }
        break;
    case AL_EV_SEARCH_END:
        if (st && st->search) {
            viz__span(b, t, VIZ_TL_SEARCHING, st->search_start, ts, 0, false);
            st->search = false;
        }
        break;
    case AL_EV_STEAL: {
        int32_t victim = e->a < b->tl->rec->header.num_workers && e->a < VIZ_TL_MAX_TRACKS
                             ? (int32_t)e->a
                             : VIZ__NO_TRACK;
        if (t >= 0)
            viz__arrow(b, VIZ_TL_STEAL, victim, t, ts, ts, 0, (uint32_t)e->b);
        break;
    }
    case AL_EV_WAKE:
        if (e->task) {
            viz__wake_t *w = &b->wakes[e->task % VIZ__WAKES];
            w->task = e->task;
            w->ts = ts;
            w->from = t;
        }
        break;
    case AL_EV_BLOCKING_THREAD_EXIT:
        if (st)
            viz__close_poll(b, t, ts, false);
        break;
    default:
        break;
    }
}

static int viz__build(viz_timeline_t *tl)
{
    viz__clear(tl);
    viz__build_t *b = malloc(sizeof *b);
    if (!b)
        return AL_ENOMEM;
    memset(b->st, 0, sizeof b->st);
    memset(b->thread_track, 0xff, sizeof b->thread_track);
    memset(b->blocking_num, 0xff, sizeof b->blocking_num);
    memset(b->wakes, 0, sizeof b->wakes);
    b->tl = tl;
    b->oom = false;
    const viz_recording_t *r = tl->rec;
    uint32_t workers = r->header.num_workers;
    for (uint32_t w = 0; w < workers && w < VIZ_TL_MAX_TRACKS; w++)
        viz__add_track(b, VIZ_TL_WORKER, w, 0);
    size_t i0 = tl->t0 ? viz_recording_count_until(r, tl->t0 - 1) : 0;
    size_t i1 = viz_recording_count_until(r, tl->t1);
    size_t looked = viz__look_back(b, i0);
    for (size_t i = i0; i < i1; i++)
        viz__event(b, &r->events[i]);
    /* What is still going at t1. */
    for (uint32_t t = 0; t < tl->num_tracks; t++) {
        viz__close_poll(b, (int32_t)t, tl->t1, true);
        viz__close_idle(b, (int32_t)t, tl->t1, true);
    }
    tl->scanned = (i1 - i0) + looked;
    bool oom = b->oom;
    free(b);
    if (oom) {
        viz__clear(tl);
        return AL_ENOMEM;
    }
    return 0;
}

int viz_timeline_update(viz_timeline_t *tl, uint64_t t0, uint64_t t1, uint64_t min_ns,
                        uint64_t now_ns, size_t pos)
{
    tl->now_ns = now_ns;
    tl->pos = pos;
    if (t1 < t0)
        t1 = t0;
    if (tl->built_events == tl->rec->num_events && tl->t0 == t0 && tl->t1 == t1 &&
        tl->min_ns == min_ns)
        return 0;
    tl->t0 = t0;
    tl->t1 = t1;
    tl->min_ns = min_ns;
    tl->built_events = tl->rec->num_events;
    viz__learn_names(tl);
    tl->builds++;
    int rc = viz__build(tl);
    if (rc != 0)
        tl->built_events = (size_t)-1;
    return rc;
}

/* ---- questions ---- */

const viz_tl_track_t *viz_timeline_track(const viz_timeline_t *tl, viz_tl_track_kind_t kind,
                                         uint32_t index)
{
    for (uint32_t i = 0; i < tl->num_tracks; i++)
        if (tl->tracks[i].kind == kind && tl->tracks[i].index == index)
            return &tl->tracks[i];
    return NULL;
}

const viz_tl_span_t *viz_timeline_span_at(const viz_tl_track_t *t, uint64_t ts, int kind)
{
    const viz_tl_span_t *found = NULL;
    for (size_t i = 0; t && i < t->num_spans; i++) {
        const viz_tl_span_t *s = &t->spans[i];
        if (s->start_ns > ts || s->end_ns < ts || (kind >= 0 && s->kind != kind))
            continue;
        if (!found || (found->kind == VIZ_TL_POLL && s->kind != VIZ_TL_POLL))
            found = s;
    }
    return found;
}

size_t viz_timeline_count_spans(const viz_tl_track_t *t, viz_tl_span_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; t && i < t->num_spans; i++)
        n += t->spans[i].kind == kind;
    return n;
}

size_t viz_timeline_count_arrows(const viz_timeline_t *tl, viz_tl_arrow_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < tl->num_arrows; i++)
        n += tl->arrows[i].kind == kind;
    return n;
}
