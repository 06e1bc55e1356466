/*
 * bench_viz_frames.c — the visualizer's frame time under load (issue 5's
 * figure): 1280x720 drawn by SDL's software renderer into a surface, 8
 * workers, about 1,000 live tasks, and events arriving at 100,000 per second
 * of wall-clock time while it draws.
 *
 * The events are made up front (a plausible mix: polls that return Pending,
 * wakes, reschedules to local and inject queues, steals, parks, task ends
 * and new spawns that keep the population at 1,000) with timestamps 10 us
 * apart, so the trace clock runs at the wall clock's pace. Each frame takes
 * the events due by now (wall time since the start x 100,000 / s) into the
 * recording (as a live stream's consumer would be handed them), moves the
 * player to the newest one (console model + motion log), then builds the
 * scene with the console panel open, the metrics strip and the timeline band
 * and its scrub slider, lays it out and renders it, as the window does every
 * frame (minus SDL_RenderPresent to a screen). Frame time is all of that; no sleep between
 * frames, so the figure is the cost of a frame, not the display's pace.
 *
 * Prints each part's median and the frame time's p50 / p90 / p99 / max, and
 * whether 60 frames per second hold (p99 within 16.7 ms), plus a TSV row like
 * the other benches: viz frame_1280x720_8w_1000t_100keps p50_ns p99_ns ...
 *
 * Usage: viz_bench [SECONDS (default 10)]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "asynclab.h"
#include "viz_layout.h"
#include "viz_lesson.h"
#include "viz_panels.h"
#include "viz_timeline_input.h"
#include "viz_player.h"
#include "viz_recording.h"
#include "viz_render.h"
#include "viz_scene.h"

#define WORKERS 8
#define TASKS 1000
#define RATE 100000.0 /* events per wall-clock second */
#define W 1280
#define H 720
#define BASE_NS 1000000000ull
#define GAP_NS 10000ull /* 1 / RATE */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* ---- a made-up but plausible event stream ---- */

typedef struct {
    al_trace_event_t *ev;
    size_t n, cap;
    uint64_t ts;
    uint64_t q[WORKERS][TASKS * 2]; /* each worker's local queue (ring) */
    size_t head[WORKERS], len[WORKERS];
    uint64_t next_id;
    uint64_t rng;
} gen_t;

static uint64_t rnd(gen_t *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static void emit(gen_t *g, al_event_kind_t kind, int worker, uint64_t task, uint64_t a, uint64_t b)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1 << 20;
        g->ev = realloc(g->ev, g->cap * sizeof *g->ev);
        if (!g->ev) {
            fprintf(stderr, "viz_bench: out of memory\n");
            exit(1);
        }
    }
    g->ts += GAP_NS;
    g->ev[g->n++] = (al_trace_event_t){.ts_ns = g->ts,
                                       .task = task,
                                       .a = a,
                                       .b = b,
                                       .kind = (uint16_t)kind,
                                       .thread = (uint16_t)(worker < 0 ? WORKERS : worker),
                                       .worker = (int16_t)worker};
}

static void push(gen_t *g, int w, uint64_t task)
{
    size_t cap = sizeof g->q[0] / sizeof g->q[0][0];
    if (g->len[w] == cap)
        return;
    g->q[w][(g->head[w] + g->len[w]++) % cap] = task;
}

static uint64_t pop(gen_t *g, int w)
{
    size_t cap = sizeof g->q[0] / sizeof g->q[0][0];
    uint64_t t = g->q[w][g->head[w]];
    g->head[w] = (g->head[w] + 1) % cap;
    g->len[w]--;
    return t;
}

static void spawn(gen_t *g, int w)
{
    uint64_t id = g->next_id++;
    emit(g, AL_EV_TASK_SPAWN, w, id, 0, AL_TASK_ASYNC);
    emit(g, AL_EV_TASK_SCHEDULE, w, id, AL_QUEUE_LOCAL, 0);
    push(g, w, id);
}

static void generate(gen_t *g, size_t events)
{
    g->ts = BASE_NS;
    g->next_id = 1;
    g->rng = 0x9e3779b97f4a7c15ull;
    emit(g, AL_EV_RUNTIME_START, -1, 0, WORKERS, 1);
    for (int i = 0; i < TASKS; i++)
        spawn(g, i % WORKERS);
    while (g->n < events) {
        int w = (int)(rnd(g) % WORKERS);
        if (g->len[w] == 0) {
            /* Out of work: search, steal half of the longest queue, or park. */
            int v = 0;
            for (int k = 1; k < WORKERS; k++)
                if (g->len[k] > g->len[v])
                    v = k;
            emit(g, AL_EV_SEARCH_BEGIN, w, 0, 0, 0);
            if (g->len[v] >= 2) {
                size_t take = g->len[v] / 2;
                emit(g, AL_EV_STEAL, w, 0, (uint64_t)v, take);
                for (size_t k = 0; k < take; k++)
                    push(g, w, pop(g, v));
                emit(g, AL_EV_SEARCH_END, w, 0, 1, 0);
            } else {
                emit(g, AL_EV_SEARCH_END, w, 0, 0, 0);
                emit(g, AL_EV_PARK, w, 0, 0, 0);
                emit(g, AL_EV_UNPARK, w, 0, AL_UNPARK_NOTIFIED, 0);
            }
            continue;
        }
        uint64_t t = pop(g, w);
        emit(g, AL_EV_POLL_BEGIN, w, t, 0, 0);
        uint64_t r = rnd(g) % 100;
        if (r < 3) { /* done; a new task keeps the population */
            emit(g, AL_EV_POLL_END, w, t, AL_POLL_END_READY, 100);
            emit(g, AL_EV_TASK_END, w, t, AL_JOIN_OK, 0);
            spawn(g, (int)(rnd(g) % WORKERS));
            continue;
        }
        emit(g, AL_EV_POLL_END, w, t, AL_POLL_END_PENDING, 100);
        /* Woken again (by a timer, a channel, ...) and rescheduled: mostly
         * on this worker, sometimes another, sometimes through the inject
         * queue (which workers drain in this model as a local push). */
        int to = r < 80 ? w : (int)(rnd(g) % WORKERS);
        emit(g, AL_EV_WAKE, to, t, 0, r < 50 ? AL_WAKE_TIMER : AL_WAKE_TASK);
        emit(g, AL_EV_TASK_SCHEDULE, to, t, r < 95 ? AL_QUEUE_LOCAL : AL_QUEUE_INJECT, 0);
        if (r >= 95) {
            /* taken from the inject queue right away by `to` */
            emit(g, AL_EV_TASK_SCHEDULE, to, t, AL_QUEUE_LOCAL, 0);
        }
        push(g, to, t);
    }
}

/* ---- timing ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "usage: viz_bench [SECONDS (0 to 600)]\n");
        return 2;
    }
    size_t total = (size_t)(RATE * (seconds + 2));
    gen_t *g = calloc(1, sizeof *g);
    if (!g)
        return 1;
    generate(g, total);

    viz_recording_t *rec;
    viz_player_t *p;
    if (viz_recording_new(&rec) != 0) {
        fprintf(stderr, "viz_bench: out of memory\n");
        return 1;
    }
    al_stream_header_t hd = {.version = AL_STREAM_VERSION,
                             .num_workers = WORKERS,
                             .flavor = AL_MULTI_THREAD,
                             .clock_base_ns = BASE_NS};
    viz_recording_consumer.on_header(rec, &hd);
    for (uint16_t t = 0; t <= WORKERS; t++) {
        char name[32];
        snprintf(name, sizeof name, t < WORKERS ? "al-worker-%u" : "main", t);
        viz_recording_consumer.on_thread(rec, t, name,
                                         t < WORKERS ? AL_THREAD_WORKER : AL_THREAD_OTHER,
                                         t < WORKERS ? (int16_t)t : AL_EV_NOT_WORKER);
    }
    if (viz_player_new(rec, &p) != 0) {
        fprintf(stderr, "viz_bench: out of memory\n");
        return 1;
    }

    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_RGBA32);
    SDL_Renderer *sdl = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    viz_render_t *r = NULL;
    char err[512];
    if (!sdl || viz_render_new(sdl, NULL, &r, err, sizeof err) != 0) {
        fprintf(stderr, "viz_bench: %s\n", sdl ? err : SDL_GetError());
        return 1;
    }
    viz_scene_t *scene = viz_scene_new();
    viz_layout_t *layout = malloc(sizeof *layout);
    viz_lesson_t lesson;
    viz_lesson_init(&lesson);
    /* Everything a window frame does: the console panel (open) and the
     * metrics strip, the timeline band and its scrub slider. */
    viz_panels_t *panels = viz_panels_new(rec);
    viz_tl_ui_t *timeline = NULL;
    if (!panels || viz_tl_ui_new(rec, &timeline) != 0) {
        fprintf(stderr, "viz_bench: out of memory\n");
        return 1;
    }
    timeline->throttle = true;
    size_t max_frames = (size_t)(seconds * 1000) + 16;
    uint64_t *frame = calloc(max_frames, sizeof *frame);
    uint64_t *t_ingest = calloc(max_frames, sizeof *frame);
    uint64_t *t_scene = calloc(max_frames, sizeof *frame);
    uint64_t *t_render = calloc(max_frames, sizeof *frame);
    uint64_t *cpu = calloc(max_frames, sizeof *frame); /* this thread's CPU time a frame */
    if (!scene || !layout || !frame || !t_ingest || !t_scene || !t_render || !cpu) {
        fprintf(stderr, "viz_bench: out of memory\n");
        return 1;
    }

    /* The first 1,000 tasks are spawned before the clock starts. */
    const size_t first = 2 * TASKS + 1;
    size_t fed = first;
    viz_recording_consumer.on_events(rec, g->ev, fed);
    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
    size_t n = 0;
    uint64_t max_alive = 0, min_alive = UINT64_MAX;
    for (uint64_t t0 = start; t0 < end && n < max_frames; t0 = now_ns()) {
        uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        size_t due = first + (size_t)((double)(t0 - start) * RATE / 1e9);
        if (due > g->n)
            due = g->n;
        if (due > fed)
            viz_recording_consumer.on_events(rec, g->ev + fed, due - fed);
        fed = due;
        viz_player_seek_event(p, rec->num_events);
        viz_lesson_update(&lesson, rec);
        uint64_t t1 = now_ns();
        al_console_snapshot_t *snap = viz_player_snapshot(p);
        if (!snap) {
            fprintf(stderr, "viz_bench: out of memory\n");
            return 1;
        }
        snprintf(scene->status, sizeof scene->status, "live  event %zu", p->pos);
        viz_scene_opts_t so = {.anim_window_ns = 600000000ull};
        scene->view.panel.open = true;
        viz_scene_build(scene, snap, p->motion, &so);
        int prc = viz_panels_update(panels, scene, p, snap);
        al_console_snapshot_free(snap);
        if (prc != 0) {
            fprintf(stderr, "viz_bench: out of memory\n");
            return 1;
        }
        viz_lesson_apply(&lesson, rec, p->pos, scene);
        scene->timeline = viz_tl_ui_frame(timeline, p, W) == 0 ? timeline->model : NULL;
        viz_layout_compute(layout, scene, W, H);
        uint64_t t2 = now_ns();
        viz_render_draw(r, scene, layout);
        SDL_RenderPresent(sdl);
        uint64_t t3 = now_ns();
        t_ingest[n] = t1 - t0;
        t_scene[n] = t2 - t1;
        t_render[n] = t3 - t2;
        cpu[n] = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        frame[n++] = t3 - t0;
        if (scene->alive_tasks > max_alive)
            max_alive = scene->alive_tasks;
        if (scene->alive_tasks < min_alive)
            min_alive = scene->alive_tasks;
    }
    double wall = (double)(now_ns() - start) / 1e9;
    if (n == 0) {
        fprintf(stderr, "viz_bench: no frame\n");
        return 1;
    }
    qsort(frame, n, sizeof *frame, cmp_u64);
    qsort(t_ingest, n, sizeof *frame, cmp_u64);
    qsort(t_scene, n, sizeof *frame, cmp_u64);
    qsort(t_render, n, sizeof *frame, cmp_u64);
    qsort(cpu, n, sizeof *frame, cmp_u64);
    double c50 = (double)pct(cpu, n, 0.5) / 1e6, c99 = (double)pct(cpu, n, 0.99) / 1e6;
    double p50 = (double)pct(frame, n, 0.5) / 1e6, p90 = (double)pct(frame, n, 0.9) / 1e6,
           p99 = (double)pct(frame, n, 0.99) / 1e6, mx = (double)frame[n - 1] / 1e6;
    fprintf(stderr,
            "viz_bench: %zu frames in %.1f s (%.0f fps unthrottled) at %dx%d, software renderer;\n"
            "  %d workers, %" PRIu64 "..%" PRIu64 " tasks alive, %zu events fed (%.0f per s)\n"
            "  frame time ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f (wall clock)\n"
            "  CPU time a frame ms: p50 %.2f  p99 %.2f (excludes time other processes took)\n"
            "  per part ms, p50 / p99: events in + models %.2f / %.2f, scene + layout %.2f / "
            "%.2f, render %.2f / %.2f\n"
            "  60 fps (16.7 ms a frame) %s at p99 of wall time, %s at p99 of CPU time\n",
            n, wall, (double)n / wall, W, H, WORKERS, min_alive, max_alive, fed - first,
            (double)(fed - first) / wall, p50, p90, p99, mx, c50, c99,
            (double)pct(t_ingest, n, 0.5) / 1e6, (double)pct(t_ingest, n, 0.99) / 1e6,
            (double)pct(t_scene, n, 0.5) / 1e6, (double)pct(t_scene, n, 0.99) / 1e6,
            (double)pct(t_render, n, 0.5) / 1e6, (double)pct(t_render, n, 0.99) / 1e6,
            p99 <= 16.7 ? "holds" : "does NOT hold", c99 <= 16.7 ? "holds" : "does NOT hold");
    printf("viz\tframe_1280x720_8w_1000t_100keps_p50\t%.0f\n", p50 * 1e6);
    printf("viz\tframe_1280x720_8w_1000t_100keps_p90\t%.0f\n", p90 * 1e6);
    printf("viz\tframe_1280x720_8w_1000t_100keps_p99\t%.0f\n", p99 * 1e6);
    printf("viz\tframe_1280x720_8w_1000t_100keps_max\t%.0f\n", mx * 1e6);
    printf("viz\tframe_1280x720_8w_1000t_100keps_cpu_p50\t%.0f\n", c50 * 1e6);
    printf("viz\tframe_1280x720_8w_1000t_100keps_cpu_p99\t%.0f\n", c99 * 1e6);

    viz_lesson_free(&lesson);
    viz_panels_free(panels);
    viz_tl_ui_free(timeline);
    free(frame);
    free(t_ingest);
    free(t_scene);
    free(t_render);
    free(cpu);
    free(layout);
    viz_scene_free(scene);
    viz_render_free(r);
    SDL_DestroyRenderer(sdl);
    SDL_FreeSurface(surf);
    viz_player_free(p);
    viz_recording_free(rec);
    free(g->ev);
    free(g);
    return 0;
}
