/*
 * viz_keyframes.h — periodic copies of the player's models, so that a seek
 * anywhere in a long recording replays a short stretch instead of the whole
 * prefix.
 *
 * A keyframe is a deep copy of the console model (al_console_clone: its
 * histograms shared and copied on write) and of the motion log
 * (viz_motion_log_clone) as they were after exactly `pos` events.
 * Keyframes sit at multiples of `interval` events, sorted by pos. Memory is
 * bounded (see viz_keyframes_enforce): when the copies together exceed the
 * budget, every other keyframe is dropped and the interval doubles (so a
 * seek replays at most `interval` events after restoring the keyframe
 * before it).
 *
 * Not thread-safe; the player owns its set.
 */
#ifndef VIZ_KEYFRAMES_H
#define VIZ_KEYFRAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "al_console.h"
#include "viz_motion.h"

#define VIZ_KEYFRAME_INTERVAL 65536              /* events between keyframes, to start */
#define VIZ_KEYFRAME_BUDGET (256u * 1024 * 1024) /* bytes, by default */

typedef struct viz_keyframe {
    size_t pos; /* events applied */
    al_console_t *console;
    viz_motion_log_t *motion;
    size_t bytes;
} viz_keyframe_t;

typedef struct viz_keyframes {
    viz_keyframe_t *k;
    size_t n, cap;
    size_t interval; /* events between keyframes (a power of two) */
    size_t budget;   /* bytes the copies may hold */
    size_t bytes;    /* bytes they hold */
    size_t thinned;  /* times the interval was doubled */
} viz_keyframes_t;

/* An empty set; budget 0: VIZ_KEYFRAME_BUDGET; interval 0:
 * VIZ_KEYFRAME_INTERVAL (rounded up to a power of two). */
void viz_keyframes_init(viz_keyframes_t *kf, size_t budget, size_t interval);
void viz_keyframes_clear(viz_keyframes_t *kf);

/* Whether a keyframe belongs at pos (a multiple of the interval, above 0,
 * not held yet). */
bool viz_keyframes_wants(const viz_keyframes_t *kf, size_t pos);
/* Keep copies of the models as of pos (if wanted). Errors: AL_ENOMEM (the
 * set is unchanged). */
int viz_keyframes_add(viz_keyframes_t *kf, size_t pos, al_console_t *console,
                      const viz_motion_log_t *motion);
/* Sum again what the keyframes hold (kf->bytes). Histograms shared with
 * the live model or between keyframes count their share
 * (al_console_memory); shares grow as the models drift apart (copy on
 * write), so the sum is taken again at each add rather than kept. */
void viz_keyframes_measure(viz_keyframes_t *kf);
/* Measure, and while over budget keep only the keyframes at multiples of
 * twice the interval (which doubles). Done at each add; the player does it
 * again after building them all and when asked for its memory. Between
 * those the copies may exceed the budget by what the live model shared
 * with them and has since copied away (less than one model). */
void viz_keyframes_enforce(viz_keyframes_t *kf);
/* The keyframe with the greatest pos <= pos, NULL if none. */
const viz_keyframe_t *viz_keyframes_find(const viz_keyframes_t *kf, size_t pos);

#endif
