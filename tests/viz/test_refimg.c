/*
 * test_refimg.c — reference images: a few known scenes rendered headless
 * at 640x360 (800x450 for the deadlock's loop) and compared with the PNGs committed in
 * tests/viz/ref/, with a tolerance (fonts and SDL versions may move a pixel or shade):
 *
 *   a pixel differs when any channel differs by more than VT_PIXEL_TOL;
 *   the image matches when at most VT_ALLOWED of its pixels differ.
 *
 * The scenes come from hand-built recordings, so they are the same on every
 * run. On a mismatch the test writes the actual frame and a diff image
 * (differing pixels red over a dimmed copy of the reference) to
 * $VIZ_REF_OUT (default /tmp) and names them. To accept a deliberate change
 * of the drawing, look at those, then rewrite the references:
 *
 *   VIZ_UPDATE_REFS=1 SDL_VIDEODRIVER=offscreen build/asan/viz_tests --filter 'refimg/<star>'
 *
 * (<star> is a star) and commit the PNGs in tests/viz/ref/.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz_panels.h"
#include "viz_png.h"
#include "viz_shot.h"
#include "viz_test_feed.h"

#define VT_REF_W 640
#define VT_REF_H 360
#define VT_PIXEL_TOL 40  /* per channel, of 255 */
#define VT_ALLOWED 0.004 /* share of pixels that may differ */

/* Render s at w x h and compare it with tests/viz/ref/NAME.png. */
static void check_ref(const viz_scene_t *s, const char *name, int rw, int rh)
{
    char err[512], ref[256], out_dir[256], actual[512], diff[512];
    snprintf(ref, sizeof ref, "tests/viz/ref/%s.png", name);
    const char *od = getenv("VIZ_REF_OUT");
    snprintf(out_dir, sizeof out_dir, "%s", od && od[0] ? od : "/tmp");
    SDL_Surface *surf = viz_shot_render(s, rw, rh, NULL, NULL, err, sizeof err);
    cr_assert(surf, "%s", err);
    const char *update = getenv("VIZ_UPDATE_REFS");
    if (update && strcmp(update, "1") == 0) {
        cr_assert_eq(viz_png_write(surf, ref, err, sizeof err), 0, "%s", err);
        fprintf(stderr, "refimg: wrote %s (VIZ_UPDATE_REFS=1)\n", ref);
        SDL_FreeSurface(surf);
        return;
    }
    uint8_t *want = NULL;
    int w = 0, h = 0;
    cr_assert_eq(viz_png_read(ref, &want, &w, &h, err, sizeof err), 0,
                 "%s (run the tests from the repository's root; VIZ_UPDATE_REFS=1 makes it)", err);
    cr_assert(w == rw && h == rh, "%s is %dx%d, the frame %dx%d", ref, w, h, rw, rh);
    /* the frame as RGBA rows, like the reference */
    SDL_Surface *rgba = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_RGBA32, 0);
    cr_assert(rgba);
    long differ = 0;
    uint8_t *d = malloc((size_t)w * (size_t)h * 4);
    cr_assert(d);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *a =
                (const uint8_t *)rgba->pixels + (size_t)y * (size_t)rgba->pitch + 4 * (size_t)x;
            const uint8_t *b = want + ((size_t)y * (size_t)w + (size_t)x) * 4;
            uint8_t *o = d + ((size_t)y * (size_t)w + (size_t)x) * 4;
            bool bad = false;
            for (int c = 0; c < 3; c++)
                bad |= abs(a[c] - b[c]) > VT_PIXEL_TOL;
            differ += bad;
            o[0] = bad ? 255 : b[0] / 3;
            o[1] = bad ? 0 : b[1] / 3;
            o[2] = bad ? 0 : b[2] / 3;
            o[3] = 255;
        }
    double share = (double)differ / ((double)w * (double)h);
    if (share > VT_ALLOWED) {
        snprintf(actual, sizeof actual, "%s/refimg-%s-actual.png", out_dir, name);
        snprintf(diff, sizeof diff, "%s/refimg-%s-diff.png", out_dir, name);
        viz_png_write(rgba, actual, err, sizeof err);
        SDL_Surface *ds =
            SDL_CreateRGBSurfaceWithFormatFrom(d, w, h, 32, w * 4, SDL_PIXELFORMAT_RGBA32);
        if (ds) {
            viz_png_write(ds, diff, err, sizeof err);
            SDL_FreeSurface(ds);
        }
        cr_assert_fail("%s: %ld pixels (%.2f%%) differ from %s (allowed %.2f%%); the frame is in "
                       "%s, the differences (red) in %s. If the change is deliberate: "
                       "VIZ_UPDATE_REFS=1 SDL_VIDEODRIVER=offscreen build/asan/viz_tests "
                       "--filter 'refimg/*', then commit %s",
                       name, differ, share * 100, ref, VT_ALLOWED * 100, actual, diff, ref);
    }
    free(d);
    free(want);
    SDL_FreeSurface(rgba);
    SDL_FreeSurface(surf);
}

/* The scene at at_us with panel and metrics, as the window would show it. */
static viz_scene_t *full_scene(vt_feed_t *f, uint64_t at_us, uint64_t window_us)
{
    viz_scene_t *s = vt_scene_at(f, at_us, window_us);
    viz_panels_t *v = viz_panels_new(f->rec);
    cr_assert(v);
    al_console_snapshot_t *snap = viz_player_snapshot(f->player);
    cr_assert_eq(viz_panels_update(v, s, f->player, snap), 0);
    al_console_snapshot_free(snap);
    viz_panels_free(v);
    snprintf(s->title, sizeof s->title, "reference");
    snprintf(s->status, sizeof s->status, "paused");
    return s;
}

enum { S_SLEEPER = 1, S_HEARTBEAT, S_DB, S_A, S_B };

/* Worker 1 blocked in a sleep with 12 tasks queued behind it (the last
 * one the heartbeat); worker 0 steals 3 of them. */
static void hang(vt_feed_t *f)
{
    vt_start(f, 2);
    vt_name(f, S_SLEEPER, "sleeper");
    vt_name(f, S_HEARTBEAT, "heartbeat");
    vt_spawn(f, 10, -1, 1, S_SLEEPER, AL_QUEUE_INJECT);
    vt_ev(f, 20, AL_EV_POLL_BEGIN, 1, 1, 0, 0, 0);
    for (uint64_t t = 0; t < 12; t++)
        vt_spawn(f, 21 + t, 1, 100 + t, t == 11 ? S_HEARTBEAT : 0, AL_QUEUE_LOCAL);
    vt_ev(f, 100, AL_EV_BLOCK_BEGIN, 1, 1, AL_BLOCK_THREAD_SLEEP, 500, 0);
    vt_ev(f, 200, AL_EV_STEAL, 0, 0, 1, 3, 0);
    vt_ev(f, 5000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
}

Test(refimg, blocked_worker_and_a_steal_in_flight)
{
    vt_feed_t f;
    hang(&f);
    viz_scene_t *s = full_scene(&f, 230, 100);
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_STEAL), 1);
    check_ref(s, "steal", VT_REF_W, VT_REF_H);
    vt_free(&f);
}

Test(refimg, console_panel_with_a_selected_task)
{
    vt_feed_t f;
    hang(&f);
    viz_scene_t *s = vt_scene_at(&f, 1000, 0);
    s->view.panel.open = true;
    s->view.sel = (viz_selection_t){.kind = VIZ_SEL_TASK, .id = 1};
    s = full_scene(&f, 1000, 0);
    cr_assert(viz_scene_lane_highlighted(s, 1));
    check_ref(s, "panel", VT_REF_W, VT_REF_H);
    vt_free(&f);
}

Test(refimg, deadlock_loop)
{
    vt_feed_t f;
    vt_start(&f, 2);
    vt_name(&f, S_DB, "db");
    vt_name(&f, S_A, "alpha");
    vt_name(&f, S_B, "beta");
    vt_ev(&f, 1, AL_EV_RESOURCE_CREATE, -1, 0, 100, AL_RES_MUTEX, S_DB);
    vt_ev(&f, 2, AL_EV_RESOURCE_CREATE, -1, 0, 101, AL_RES_MUTEX, 0);
    vt_spawn(&f, 10, -1, 1, S_A, AL_QUEUE_INJECT);
    vt_spawn(&f, 11, -1, 2, S_B, AL_QUEUE_INJECT);
    uint64_t holds[2] = {100, 101}, wants[2] = {101, 100};
    for (int k = 0; k < 2; k++) {
        uint64_t t = (uint64_t)k + 1, at = 20 + 10 * (uint64_t)k;
        vt_ev(&f, at, AL_EV_POLL_BEGIN, k, t, 0, 0, 0);
        vt_ev(&f, at + 1, AL_EV_LOCK_ACQUIRE, k, t, holds[k], 0, 0);
        vt_ev(&f, at + 2, AL_EV_POLL_END, k, t, AL_POLL_END_PENDING, 100, 0);
    }
    for (int k = 0; k < 2; k++) {
        uint64_t t = (uint64_t)k + 1, at = 60 + 10 * (uint64_t)k;
        vt_ev(&f, at, AL_EV_TASK_SCHEDULE, k, t, AL_QUEUE_LOCAL, 0, 0);
        vt_ev(&f, at + 1, AL_EV_POLL_BEGIN, k, t, 0, 0, 0);
        vt_ev(&f, at + 2, AL_EV_LOCK_CONTEND, k, t, wants[k], 2 - (uint64_t)k, 0);
        vt_ev(&f, at + 3, AL_EV_POLL_END, k, t, AL_POLL_END_PENDING, 100, 0);
    }
    vt_ev(&f, 1000, AL_EV_PARK, 0, 0, 0, 0, 0);
    vt_ev(&f, 1001, AL_EV_PARK, 1, 0, 0, 0, 0);
    vt_ev(&f, 5000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
    viz_scene_t *s = full_scene(&f, 2000, 0);
    cr_assert_eq(s->deadlock.len, 2);
    /* wide enough for the side panel, where the loop goes through the locks */
    check_ref(s, "deadlock", 800, 450);
    vt_free(&f);
}
