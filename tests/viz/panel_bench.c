/*
 * panel_bench.c — what the console panel and the metrics strip cost per
 * frame: a recording of N tasks (spawned, polled, idle; default 1,000 and
 * 100,000) replayed to its end, then per frame: the snapshot, the scene,
 * viz_panels_update (lints, metrics, the panel's model) with the panel
 * closed and open, and the whole frame drawn at 1280x720 by the software
 * renderer. Prints, for each, the first frame (when the lint engine and
 * the metrics catch up with the whole recording) and the median and worst
 * of the next 59, in microseconds.
 *
 *   make BUILD=build build/release/viz_panel_bench && build/release/viz_panel_bench [N...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asynclab.h"
#include "viz_panels.h"
#include "viz_player.h"
#include "viz_recording.h"
#include "viz_render.h"
#include "viz_shot.h"

#define FRAMES 60

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ev(viz_recording_t *r, uint64_t at, al_event_kind_t kind, int w, uint64_t task,
               uint64_t a, uint64_t b)
{
    al_trace_event_t e = {.ts_ns = 1000000000ull + at,
                          .task = task,
                          .a = a,
                          .b = b,
                          .kind = (uint16_t)kind,
                          .worker = (int16_t)w};
    viz_recording_consumer.on_events(r, &e, 1);
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Frame 0 (the models catch up with the whole recording) apart, then the
 * median and the worst of the others. */
static void report(const char *what, uint64_t *t, uint64_t n)
{
    uint64_t first = t[0];
    qsort(t + 1, FRAMES - 1, sizeof *t, cmp);
    printf("%8lu tasks  %-36s first %9.1f us  then p50 %8.1f us  max %8.1f us\n", (unsigned long)n,
           what, (double)first / 1e3, (double)t[FRAMES / 2] / 1e3, (double)t[FRAMES - 1] / 1e3);
}

static void bench(uint64_t n)
{
    viz_recording_t *r;
    viz_recording_new(&r);
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = 8,
                            .flavor = AL_MULTI_THREAD,
                            .clock_base_ns = 1000000000ull};
    viz_recording_consumer.on_header(r, &h);
    uint64_t at = 0;
    for (uint64_t t = 1; t <= n; t++) {
        int w = (int)(t % 8);
        ev(r, at, AL_EV_TASK_SPAWN, w, t, 0, AL_TASK_ASYNC);
        ev(r, at, AL_EV_TASK_SCHEDULE, w, t, AL_QUEUE_LOCAL, 0);
        ev(r, at + 100, AL_EV_POLL_BEGIN, w, t, 0, 0);
        ev(r, at + 100 + t % 5000, AL_EV_POLL_END, w, t, AL_POLL_END_PENDING, 100);
        at += 200;
    }
    viz_player_t *p;
    viz_player_new(r, &p);
    viz_player_seek_ns(p, viz_player_end_ns(p));
    viz_scene_t *s = viz_scene_new();
    viz_panels_t *v = viz_panels_new(r);
    uint64_t snap_t[FRAMES], closed_t[FRAMES], open_t[FRAMES], draw_t[FRAMES];
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, 1280, 720, 32, SDL_PIXELFORMAT_RGBA32);
    SDL_Renderer *sdl = SDL_CreateSoftwareRenderer(surf);
    viz_render_t *rd = NULL;
    char err[256];
    if (!sdl || viz_render_new(sdl, NULL, &rd, err, sizeof err) != 0) {
        fprintf(stderr, "viz_panel_bench: %s\n", sdl ? err : SDL_GetError());
        exit(1);
    }
    viz_layout_t *l = malloc(sizeof *l);
    viz_scene_opts_t so = {0};
    for (int f = 0; f < FRAMES; f++) {
        uint64_t t0 = now_ns();
        al_console_snapshot_t *snap = viz_player_snapshot(p);
        viz_scene_build(s, snap, p->motion, &so);
        uint64_t t1 = now_ns();
        s->view.panel.open = false;
        viz_panels_update(v, s, p, snap);
        uint64_t t2 = now_ns();
        s->view.panel.open = true;
        s->view.panel.sort = VIZ_COL_BUSY;
        s->view.sel = (viz_selection_t){.kind = VIZ_SEL_TASK, .id = n / 2};
        viz_panels_update(v, s, p, snap);
        uint64_t t3 = now_ns();
        viz_layout_compute(l, s, 1280, 720);
        viz_render_draw(rd, s, l);
        uint64_t t4 = now_ns();
        al_console_snapshot_free(snap);
        snap_t[f] = t1 - t0;
        closed_t[f] = t2 - t1;
        open_t[f] = t3 - t2;
        draw_t[f] = t4 - t3;
    }
    report("snapshot + scene", snap_t, n);
    report("panels update, panel closed", closed_t, n);
    report("panels update, panel open", open_t, n);
    report("layout + draw 1280x720, panel open", draw_t, n);
    free(l);
    viz_render_free(rd);
    SDL_DestroyRenderer(sdl);
    SDL_FreeSurface(surf);
    viz_panels_free(v);
    viz_scene_free(s);
    viz_player_free(p);
    viz_recording_free(r);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            bench(strtoull(argv[i], NULL, 10));
    } else {
        bench(1000);
        bench(100000);
    }
    return 0;
}
