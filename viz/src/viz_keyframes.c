/*
 * viz_keyframes.c — the player's keyframes (see viz_keyframes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "viz_keyframes.h"

void viz_keyframes_init(viz_keyframes_t *kf, size_t budget, size_t interval)
{
    memset(kf, 0, sizeof *kf);
    kf->budget = budget ? budget : VIZ_KEYFRAME_BUDGET;
    size_t want = interval ? interval : VIZ_KEYFRAME_INTERVAL;
    kf->interval = 1;
    while (kf->interval < want)
        kf->interval *= 2;
}

static void viz__drop(viz_keyframe_t *k)
{
    al_console_free(k->console);
    viz_motion_log_free(k->motion);
}

void viz_keyframes_clear(viz_keyframes_t *kf)
{
    for (size_t i = 0; i < kf->n; i++)
        viz__drop(&kf->k[i]);
    free(kf->k);
    kf->k = NULL;
    kf->n = kf->cap = 0;
    kf->bytes = 0;
}

/* The index of the first keyframe with pos > pos. */
static size_t viz__upper(const viz_keyframes_t *kf, size_t pos)
{
    size_t lo = 0, hi = kf->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kf->k[mid].pos <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool viz_keyframes_wants(const viz_keyframes_t *kf, size_t pos)
{
    if (pos == 0 || pos % kf->interval != 0)
        return false;
    size_t i = viz__upper(kf, pos);
    return i == 0 || kf->k[i - 1].pos != pos;
}

const viz_keyframe_t *viz_keyframes_find(const viz_keyframes_t *kf, size_t pos)
{
    size_t i = viz__upper(kf, pos);
    return i ? &kf->k[i - 1] : NULL;
}

void viz_keyframes_measure(viz_keyframes_t *kf)
{
    kf->bytes = 0;
    for (size_t i = 0; i < kf->n; i++) {
        viz_keyframe_t *k = &kf->k[i];
        k->bytes = al_console_memory(k->console) + viz_motion_log_memory(k->motion);
        kf->bytes += k->bytes;
    }
}

void viz_keyframes_enforce(viz_keyframes_t *kf)
{
    viz_keyframes_measure(kf);
    while (kf->bytes > kf->budget && kf->n > 0) {
        kf->interval *= 2;
        kf->thinned++;
        size_t w = 0;
        for (size_t i = 0; i < kf->n; i++) {
            if (kf->k[i].pos % kf->interval == 0) {
                kf->k[w++] = kf->k[i];
            } else {
                kf->bytes -= kf->k[i].bytes;
                viz__drop(&kf->k[i]);
            }
        }
        kf->n = w;
        viz_keyframes_measure(kf);
    }
}

int viz_keyframes_add(viz_keyframes_t *kf, size_t pos, al_console_t *console,
                      const viz_motion_log_t *motion)
{
    if (!viz_keyframes_wants(kf, pos))
        return 0;
    if (kf->n == kf->cap) {
        size_t cap = kf->cap ? kf->cap * 2 : 64;
        viz_keyframe_t *grown = realloc(kf->k, cap * sizeof *grown);
        if (!grown)
            return AL_ENOMEM;
        kf->k = grown;
        kf->cap = cap;
    }
    viz_keyframe_t k = {.pos = pos};
    if (al_console_clone(console, &k.console) != 0 ||
        viz_motion_log_clone(motion, &k.motion) != 0) {
        viz__drop(&k);
        return AL_ENOMEM;
    }
    k.bytes = al_console_memory(k.console) + viz_motion_log_memory(k.motion);
    size_t i = viz__upper(kf, pos);
    memmove(&kf->k[i + 1], &kf->k[i], (kf->n - i) * sizeof *kf->k);
    kf->k[i] = k;
    kf->n++;
    kf->bytes += k.bytes;
    viz_keyframes_enforce(kf);
    return 0;
}
