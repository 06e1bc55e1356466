/*
 * viz_lesson.c — the lesson hooks of a recording: index, state at a
 * position, markers (see viz_lesson.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_event.h"
#include "viz_lesson.h"

void viz_lesson_init(viz_lesson_t *l)
{
    memset(l, 0, sizeof *l);
}

void viz_lesson_free(viz_lesson_t *l)
{
    free(l->captions);
    free(l->highlights);
    free(l->markers);
    memset(l, 0, sizeof *l);
}

static bool viz__push(size_t **v, size_t *n, size_t *cap, size_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        size_t *grown = realloc(*v, c * sizeof *grown);
        if (!grown)
            return false;
        *v = grown;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

void viz_lesson_update(viz_lesson_t *l, const viz_recording_t *rec)
{
    for (size_t i = l->scanned; i < rec->num_events; i++) {
        bool ok = true;
        switch (rec->events[i].kind) {
        case AL_EV_CAPTION:
            ok = viz__push(&l->captions, &l->num_captions, &l->cap_captions, i);
            break;
        case AL_EV_HIGHLIGHT:
            ok = viz__push(&l->highlights, &l->num_highlights, &l->cap_highlights, i);
            break;
        case AL_EV_MARKER:
            ok = viz__push(&l->markers, &l->num_markers, &l->cap_markers, i);
            break;
        default:
            break;
        }
        if (!ok)
            l->out_of_memory = true;
    }
    l->scanned = rec->num_events;
}

/* How many of v[0, n) are below pos. */
static size_t viz__count_below(const size_t *v, size_t n, size_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Copy s into out (cap bytes), cut at a whole UTF-8 character when it is
 * too long, so that the text drawn never ends in half a character. */
static void viz__copy_text(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
            n--; /* s[n] starts the character that does not fit */
    }
    memcpy(out, s, n);
    out[n] = 0;
}

void viz_lesson_apply(const viz_lesson_t *l, const viz_recording_t *rec, size_t pos, viz_scene_t *s)
{
    s->caption[0] = 0;
    s->marker[0] = 0;
    s->num_highlights = 0;
    if (pos > l->scanned)
        pos = l->scanned;
    size_t c = viz__count_below(l->captions, l->num_captions, pos);
    if (c)
        viz__copy_text(s->caption, sizeof s->caption,
                       viz_recording_string(rec, rec->events[l->captions[c - 1]].str));
    size_t m = viz__count_below(l->markers, l->num_markers, pos);
    if (m)
        viz__copy_text(s->marker, sizeof s->marker,
                       viz_recording_string(rec, rec->events[l->markers[m - 1]].str));
    /* The highlights added since the last clear, oldest first (at most
     * VIZ_MAX_HIGHLIGHTS: the most recent ones). */
    size_t h = viz__count_below(l->highlights, l->num_highlights, pos);
    size_t first = h;
    while (first > 0 && h - first < VIZ_MAX_HIGHLIGHTS) {
        const al_trace_event_t *e = &rec->events[l->highlights[first - 1]];
        if (e->a == AL_HIGHLIGHT_NONE)
            break;
        first--;
    }
    for (size_t i = first; i < h; i++) {
        const al_trace_event_t *e = &rec->events[l->highlights[i]];
        if (e->a == AL_HIGHLIGHT_NONE || e->a > AL_HIGHLIGHT_RESOURCE)
            continue; /* a kind from a later version: nothing to outline */
        s->highlights[s->num_highlights++] = (viz_lesson_highlight_t){(uint8_t)e->a, e->b};
    }
}

bool viz_lesson_find_marker(const viz_lesson_t *l, const viz_recording_t *rec, const char *name,
                            size_t *pos)
{
    for (size_t i = 0; i < l->num_markers; i++) {
        if (strcmp(viz_recording_string(rec, rec->events[l->markers[i]].str), name) == 0) {
            *pos = l->markers[i] + 1;
            return true;
        }
    }
    return false;
}

size_t viz_lesson_next_marker(const viz_lesson_t *l, size_t pos)
{
    size_t k = viz__count_below(l->markers, l->num_markers, pos);
    return k < l->num_markers ? l->markers[k] : SIZE_MAX;
}

int viz_lesson_tick(const viz_lesson_t *l, viz_player_t *p, uint64_t wall_ns, bool stop_at_markers)
{
    if (!stop_at_markers || !p->playing)
        return viz_player_tick(p, wall_ns);
    size_t m = viz_lesson_next_marker(l, p->pos);
    if (m < p->rec->num_events) {
        uint64_t at = p->rec->events[m].ts_ns;
        double adv = (double)wall_ns * p->speed;
        if (at <= p->now_ns || (double)(at - p->now_ns) <= adv) {
            int rc = viz_player_seek_event(p, m + 1);
            p->playing = false;
            return rc ? rc : 1;
        }
    }
    return viz_player_tick(p, wall_ns);
}

bool viz_scene_highlighted(const viz_scene_t *s, unsigned kind, uint64_t id)
{
    for (uint32_t i = 0; i < s->num_highlights; i++)
        if (s->highlights[i].kind == kind && s->highlights[i].id == id)
            return true;
    return false;
}

void viz_lesson_print(const viz_scene_t *s, FILE *out)
{
    static const char *const kinds[] = {"?", "task", "worker", "resource"};
    if (s->caption[0])
        fprintf(out, "caption: %s\n", s->caption);
    if (s->num_highlights) {
        fprintf(out, "highlighted:");
        for (uint32_t i = 0; i < s->num_highlights; i++)
            fprintf(out, "%s %s %llu", i ? "," : "",
                    kinds[s->highlights[i].kind < 4 ? s->highlights[i].kind : 0],
                    (unsigned long long)s->highlights[i].id);
        fprintf(out, "\n");
    }
    if (s->marker[0])
        fprintf(out, "last marker: %s\n", s->marker);
}
