/*
 * viz_lesson.h — the lesson hooks of a recording (CAPTION, HIGHLIGHT and
 * MARKER events; al_stream.h, rt.viz.caption / highlight / marker) as the
 * visualizer uses them: what caption and highlights hold at a position, where
 * the markers are, and playback that stops at them.
 *
 * A lesson index lists the positions of the hook events in a recording, so
 * that the state at any position is found without replaying the prefix:
 * the last CAPTION before it, the HIGHLIGHTs since the last clear. It is
 * built once and extended as a live recording grows (viz_lesson_update).
 * Positions are event counts as in viz_player_t.pos: "at pos" means events
 * [0, pos) are applied.
 */
#ifndef VIZ_LESSON_H
#define VIZ_LESSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "viz_player.h"
#include "viz_recording.h"
#include "viz_scene.h"

typedef struct viz_lesson {
    size_t scanned;   /* events of the recording looked at so far */
    size_t *captions; /* indexes of CAPTION events, ascending */
    size_t num_captions, cap_captions;
    size_t *highlights; /* HIGHLIGHT events */
    size_t num_highlights, cap_highlights;
    size_t *markers; /* MARKER events */
    size_t num_markers, cap_markers;
    bool out_of_memory; /* an index could not grow: hooks after that are missing */
} viz_lesson_t;

/* An empty index (no allocation until hooks are found). */
void viz_lesson_init(viz_lesson_t *l);
void viz_lesson_free(viz_lesson_t *l);
/* Index the events the recording received since the last call. */
void viz_lesson_update(viz_lesson_t *l, const viz_recording_t *rec);

/* Fill s->caption, s->highlights and s->marker with their state at pos. */
void viz_lesson_apply(const viz_lesson_t *l, const viz_recording_t *rec, size_t pos,
                      viz_scene_t *s);

/* The position just after the first marker named `name` (so that the state
 * there includes it); false when there is no such marker. */
bool viz_lesson_find_marker(const viz_lesson_t *l, const viz_recording_t *rec, const char *name,
                            size_t *pos);
/* The index of the first marker event at or after pos (not applied yet), or
 * SIZE_MAX. */
size_t viz_lesson_next_marker(const viz_lesson_t *l, size_t pos);

/* viz_player_tick, except that when stop_at_markers is set and playing
 * would pass a marker, the player stops just after it (paused), and the
 * result is 1. 0 otherwise, or an error from the player. */
int viz_lesson_tick(const viz_lesson_t *l, viz_player_t *p, uint64_t wall_ns, bool stop_at_markers);

/* The scene's caption, highlights and last marker as text lines (nothing
 * when there are none), after viz_scene_print's. */
void viz_lesson_print(const viz_scene_t *s, FILE *out);

/* Whether the scene highlights that object (al_highlight_kind_t). */
bool viz_scene_highlighted(const viz_scene_t *s, unsigned kind, uint64_t id);

#endif
