/*
 * viz_test_feed.h — hand-built recordings for the visualizer's tests.
 *
 *   vt_feed_t f; vt_start(&f, 2);                  // a 2-worker runtime, clock base 1 s
 *   vt_name(&f, 1, "heartbeat");                   // string 1
 *   vt_ev(&f, 100, AL_EV_TASK_SPAWN, -1, 7, 0, AL_TASK_ASYNC, 1);   // at base + 100 us
 *   viz_scene_t *s = vt_scene_at(&f, 500, window_us);  // the scene 500 us in
 *   ...
 *   vt_free(&f);
 *
 * Events go into a viz_recording through its consumer interface, as a trace
 * file read back would deliver them; scenes come from a viz_player, as in
 * `asynclab replay`.
 */
#ifndef VIZ_TEST_FEED_H
#define VIZ_TEST_FEED_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asynclab.h"
#include "viz_player.h"
#include "viz_recording.h"
#include "viz_scene.h"

#define VT_BASE_NS 1000000000ull

#define VT_WAKE(src, self, by_ref)                                                                 \
    ((uint64_t)(src) | (uint64_t)(self) << 16 | (uint64_t)(by_ref) << 17)

typedef struct {
    viz_recording_t *rec;
    viz_player_t *player;
    viz_scene_t *scene;
} vt_feed_t;

static inline void vt_start(vt_feed_t *f, uint32_t workers)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(viz_recording_new(&f->rec), 0);
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = workers,
                            .flavor = AL_MULTI_THREAD,
                            .clock_base_ns = VT_BASE_NS};
    viz_recording_consumer.on_header(f->rec, &h);
    f->scene = viz_scene_new();
    cr_assert(f->scene);
}

static inline void vt_name(vt_feed_t *f, uint32_t id, const char *s)
{
    viz_recording_consumer.on_string(f->rec, id, s, strlen(s));
}

/* One event, at_us microseconds after the clock base. */
static inline void vt_ev(vt_feed_t *f, uint64_t at_us, al_event_kind_t kind, int worker,
                         uint64_t task, uint64_t a, uint64_t b, uint32_t str)
{
    al_trace_event_t e = {.ts_ns = VT_BASE_NS + at_us * 1000,
                          .task = task,
                          .a = a,
                          .b = b,
                          .str = str,
                          .kind = (uint16_t)kind,
                          .worker = (int16_t)worker};
    viz_recording_consumer.on_events(f->rec, &e, 1);
}

/* A task spawned (named by string `name`, 0: none) and scheduled. */
static inline void vt_spawn(vt_feed_t *f, uint64_t at_us, int worker, uint64_t task, uint32_t name,
                            al_queue_kind_t queue)
{
    vt_ev(f, at_us, AL_EV_TASK_SPAWN, worker, task, 0, AL_TASK_ASYNC, name);
    vt_ev(f, at_us, AL_EV_TASK_SCHEDULE, worker, task, queue, 0, 0);
}

/* The scene at_us after the clock base, motions within window_us. */
static inline viz_scene_t *vt_scene_at(vt_feed_t *f, uint64_t at_us, uint64_t window_us)
{
    if (!f->player)
        cr_assert_eq(viz_player_new(f->rec, &f->player), 0);
    cr_assert_eq(viz_player_seek_ns(f->player, VT_BASE_NS + at_us * 1000), 0);
    al_console_snapshot_t *snap = viz_player_snapshot(f->player);
    cr_assert(snap);
    viz_scene_opts_t o = {.anim_window_ns = window_us * 1000};
    viz_scene_build(f->scene, snap, f->player->motion, &o);
    al_console_snapshot_free(snap);
    return f->scene;
}

static inline void vt_free(vt_feed_t *f)
{
    viz_player_free(f->player);
    viz_recording_free(f->rec);
    viz_scene_free(f->scene);
}

/* ---- real recordings (viz_test_scenario.h) ---- */

/* A fresh empty file to record into: /tmp/viz_STEM_ + mkstemp's 6
 * characters, its name in buf. */
static inline void vt_temp_trace(char *buf, size_t cap, const char *stem)
{
    snprintf(buf, cap, "/tmp/viz_%s_XXXXXX", stem);
    int fd = mkstemp(buf);
    cr_assert_geq(fd, 0, "mkstemp %s", buf);
    close(fd);
}

/* The whole recording in path, loaded (a damaged file fails the test). */
static inline viz_recording_t *vt_load(const char *path)
{
    viz_recording_t *r;
    cr_assert_eq(viz_recording_new(&r), 0);
    al_tracefile_error_t err;
    cr_assert_eq(viz_recording_load(r, path, &err), 0, "%s", err.message);
    return r;
}

#endif
