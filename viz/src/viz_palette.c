/*
 * viz_palette.c — colours by worker state (see viz_palette.h).
 */
#include "al_console.h"
#include "viz_palette.h"

_Thread_local bool viz_palette_high_contrast = false;

viz_color_t viz_palette_worker(unsigned state)
{
    switch (state) {
    case AL_WORKER_RUNNING:
        return VIZ_RUNNING;
    case AL_WORKER_SEARCHING:
        return VIZ_SEARCHING;
    case AL_WORKER_PARKED:
        return VIZ_PARKED;
    case AL_WORKER_PARKED_DRIVER:
        return VIZ_PARKED_DRIVER;
    case AL_WORKER_BLOCKED:
        return VIZ_BLOCKED;
    default:
        return VIZ_IDLE;
    }
}
