/*
 * viz_player.h — a position in a recording and how it moves: the console
 * model (al_console.h) and the motion log (viz_motion.h) fed with the events
 * up to "now", with play / pause, speed, single steps both ways and seeking.
 *
 * Forward moves feed the models the next events. The player keeps
 * keyframes (viz_keyframes.h: copies of the models every `interval` events,
 * memory bounded) as it passes them; a backward move, or a jump far ahead,
 * restores the nearest keyframe at or before the target and replays only
 * the events after it. viz_player_build_keyframes makes them all at once
 * (one pass over the recording), so that any seek is quick from the start.
 *
 * Times are the stream clock (CLOCK_MONOTONIC ns, as in the events); "now"
 * stays between the recording's clock base and its last event.
 */
#ifndef VIZ_PLAYER_H
#define VIZ_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_console.h"
#include "viz_keyframes.h"
#include "viz_motion.h"
#include "viz_recording.h"

typedef struct viz_player {
    const viz_recording_t *rec; /* borrowed; outlives the player */
    al_console_t *console;
    viz_motion_log_t *motion;
    size_t pos;      /* events applied: rec->events[0, pos) */
    uint64_t now_ns; /* the moment shown */
    bool playing;
    double speed; /* trace seconds per wall-clock second */
    viz_keyframes_t keyframes;
} viz_player_t;

/* What the player's seeking costs in memory. */
typedef struct viz_player_memory {
    size_t keyframes;       /* how many */
    size_t interval;        /* events between them */
    size_t keyframe_bytes;  /* held by them */
    size_t budget;          /* their limit */
    size_t model_bytes;     /* the live console model + motion log */
    size_t recording_bytes; /* the events held */
} viz_player_memory_t;

/* A player at the start of rec (no event applied), paused, speed 1, with
 * the default keyframe budget. Errors: AL_ENOMEM. */
int viz_player_new(const viz_recording_t *rec, viz_player_t **out);
/* The same with a keyframe budget in bytes and a first interval in events
 * (0: the defaults of viz_keyframes.h). */
int viz_player_new_with(const viz_recording_t *rec, size_t budget, size_t interval,
                        viz_player_t **out);
/* Make every keyframe the recording allows (one pass over it), then come
 * back to the current position. Errors: AL_ENOMEM. */
int viz_player_build_keyframes(viz_player_t *p);
void viz_player_memory(viz_player_t *p, viz_player_memory_t *out);
void viz_player_free(viz_player_t *p);

/* Apply exactly events [0, pos) (clamped to the recording); now becomes the
 * time of the last one applied. */
int viz_player_seek_event(viz_player_t *p, size_t pos);
/* Apply every event with ts_ns <= ts; now becomes ts, clamped. */
int viz_player_seek_ns(viz_player_t *p, uint64_t ts);
/* Seconds since the recording started (the header's clock base). */
int viz_player_seek_seconds(viz_player_t *p, double secs);
/* One event forward (dir > 0) or back (dir < 0); pauses. */
int viz_player_step(viz_player_t *p, int dir);
/* While playing: advance now by wall_ns * speed; pause at the end. */
int viz_player_tick(viz_player_t *p, uint64_t wall_ns);

/* The recording forgot its oldest n events (viz_recording_drop_front):
 * positions shift down by n and the models stay as they are; when the
 * events shown were among those forgotten, the player starts over at the
 * recording's new start (its models then know nothing older). */
int viz_player_forget_front(viz_player_t *p, size_t n);

bool viz_player_at_end(const viz_player_t *p);
double viz_player_seconds(const viz_player_t *p);
/* The first / last moment the player can show. */
uint64_t viz_player_start_ns(const viz_player_t *p);
uint64_t viz_player_end_ns(const viz_player_t *p);
/* The console model as of now (al_console_snapshot_free it); NULL: no memory. */
al_console_snapshot_t *viz_player_snapshot(const viz_player_t *p);

#endif
