/*
 * test_render.c — headless rendering (SDL's software renderer into a
 * surface, then a PNG): the file decodes with the requested size, lanes are
 * drawn where the layout says, a blocked worker is red and a parked one dim,
 * small windows and many workers draw without crashing, and a missing font
 * is a clear error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "viz_palette.h"
#include "viz_png.h"
#include "viz_shot.h"
#include "viz_test_feed.h"

enum { S_SLEEPER = 1, S_HEARTBEAT };

/* Worker 1 blocked in a sleep (heartbeat queued behind it), worker 0 parked;
 * a few motions in flight. */
static viz_scene_t *blocked_scene(vt_feed_t *f, uint32_t workers)
{
    vt_start(f, workers);
    vt_name(f, S_SLEEPER, "sleeper");
    vt_name(f, S_HEARTBEAT, "heartbeat");
    vt_spawn(f, 10, -1, 1, S_SLEEPER, AL_QUEUE_INJECT);
    vt_ev(f, 20, AL_EV_POLL_BEGIN, 1, 1, 0, 0, 0);
    for (uint64_t t = 0; t < 60; t++)
        vt_spawn(f, 21 + t, 1, 100 + t, t == 59 ? S_HEARTBEAT : 0, AL_QUEUE_LOCAL);
    vt_ev(f, 90, AL_EV_STEAL, 0, 0, 1, 3, 0);
    vt_ev(f, 95, AL_EV_WAKE, 0, 102, 0, VT_WAKE(AL_WAKE_TIMER, 0, 0), 0);
    vt_ev(f, 100, AL_EV_BLOCK_BEGIN, 1, 1, AL_BLOCK_THREAD_SLEEP, 500, 0);
    vt_ev(f, 110, AL_EV_PARK, 0, 0, 0, 0, 0);
    vt_ev(f, 5000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
    return vt_scene_at(f, 120, 100);
}

static bool is_bg(const uint8_t *px)
{
    viz_color_t bg = VIZ_BG;
    return px[0] == bg.r && px[1] == bg.g && px[2] == bg.b;
}

/* Share of pixels in r that are not the background. */
static double ink(const uint8_t *pixels, int w, viz_rect_t r)
{
    long n = 0, inked = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++, n++)
            inked += !is_bg(pixels + 4 * ((size_t)y * (size_t)w + (size_t)x));
    return n ? (double)inked / (double)n : 0;
}

/* Share of pixels in r within `tol` of colour c on every channel. */
static double share_near(const uint8_t *pixels, int w, viz_rect_t r, viz_color_t c, int tol)
{
    long n = 0, near = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++, n++) {
            const uint8_t *p = pixels + 4 * ((size_t)y * (size_t)w + (size_t)x);
            near += abs(p[0] - c.r) <= tol && abs(p[1] - c.g) <= tol && abs(p[2] - c.b) <= tol;
        }
    return n ? (double)near / (double)n : 0;
}

static char *tmp_png(void)
{
    char *path = strdup("/tmp/viz_test_XXXXXX.png");
    int fd = mkstemps(path, 4);
    cr_assert_geq(fd, 0);
    close(fd);
    return path;
}

Test(render, png_has_the_size_and_the_lanes)
{
    vt_feed_t f;
    viz_scene_t *s = blocked_scene(&f, 2);
    snprintf(s->title, sizeof s->title, "test.trace");
    char *path = tmp_png(), err[512];
    cr_assert_eq(viz_shot_png(s, 1024, 640, NULL, path, err, sizeof err), 0, "%s", err);

    uint8_t *px;
    int w, h;
    cr_assert_eq(viz_png_read(path, &px, &w, &h, err, sizeof err), 0, "%s", err);
    cr_assert_eq(w, 1024);
    cr_assert_eq(h, 640);
    viz_layout_t l;
    viz_layout_compute(&l, s, w, h);
    for (uint32_t i = 0; i < 2; i++)
        cr_assert_gt(ink(px, w, l.lane[i].lane), 0.95, "lane %u is drawn", i);
    cr_assert_gt(ink(px, w, l.header), 0.95);
    /* Below the lanes: nothing. */
    viz_rect_t empty = {l.lanes.x, l.lane[1].lane.y + l.lane[1].lane.h + 20, l.lanes.w / 2, 40};
    cr_assert_lt(ink(px, w, empty), 0.01);

    /* Blocked is red (with stripes and text over it), parked is dim. */
    double red = share_near(px, w, l.lane[1].label, VIZ_BLOCKED, 40);
    cr_assert_gt(red, 0.5, "blocked lane label: %.2f red", red);
    double dim = share_near(px, w, l.lane[0].label, VIZ_PARKED, 12);
    cr_assert_gt(dim, 0.5, "parked lane label: %.2f dim", dim);
    cr_assert_lt(share_near(px, w, l.lane[0].label, VIZ_BLOCKED, 40), 0.01);
    /* The queue's chips are sky blue. */
    viz_rect_t chip = viz_layout_lane_chip(&l, 1, 0);
    cr_assert_gt(share_near(px, w, chip, VIZ_CHIP, 30), 0.3);
    free(px);
    unlink(path);
    free(path);
    vt_free(&f);
}

Test(render, tiny_windows_and_many_workers)
{
    static const int sizes[][2] = {{200, 100}, {120, 60}, {1, 1}, {1280, 800}, {333, 777}};
    static const uint32_t counts[] = {2, 8, 64};
    for (size_t k = 0; k < 3; k++) {
        uint32_t workers = counts[k];
        vt_feed_t f;
        viz_scene_t *s = blocked_scene(&f, workers);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            char err[512];
            viz_layout_t l;
            SDL_Surface *surf =
                viz_shot_render(s, sizes[i][0], sizes[i][1], NULL, &l, err, sizeof err);
            cr_assert_not_null(surf, "%s", err);
            cr_assert_eq(surf->w, sizes[i][0]);
            cr_assert_eq(surf->h, sizes[i][1]);
            if (sizes[i][0] >= 200) {
                SDL_LockSurface(surf);
                cr_assert_gt(ink(surf->pixels, surf->w, l.lane[1].lane), 0.9, "%u workers at %dx%d",
                             workers, sizes[i][0], sizes[i][1]);
                SDL_UnlockSurface(surf);
            }
            SDL_FreeSurface(surf);
        }
        vt_free(&f);
    }
}

Test(render, the_200x100_png)
{
    vt_feed_t f;
    viz_scene_t *s = blocked_scene(&f, 8);
    char *path = tmp_png(), err[512];
    cr_assert_eq(viz_shot_png(s, 200, 100, NULL, path, err, sizeof err), 0, "%s", err);
    uint8_t *px;
    int w, h;
    cr_assert_eq(viz_png_read(path, &px, &w, &h, err, sizeof err), 0, "%s", err);
    cr_assert_eq(w, 200);
    cr_assert_eq(h, 100);
    viz_layout_t l;
    viz_layout_compute(&l, s, w, h);
    cr_assert_gt(share_near(px, w, l.lane[1].lane, VIZ_BLOCKED, 60), 0.2, "still red");
    free(px);
    unlink(path);
    free(path);
    vt_free(&f);
}

Test(render, a_missing_font_says_what_to_install)
{
    vt_feed_t f;
    viz_scene_t *s = blocked_scene(&f, 2);
    char err[512];
    SDL_Surface *surf =
        viz_shot_render(s, 320, 200, "/nonexistent/DejaVuSans.ttf", NULL, err, sizeof err);
    cr_assert_null(surf);
    cr_assert(strstr(err, "/nonexistent/DejaVuSans.ttf"), "%s", err);
    cr_assert(strstr(err, "fonts-dejavu-core"), "%s", err);
    cr_assert(strstr(err, "ASYNCLAB_FONT"), "%s", err);
    setenv("ASYNCLAB_FONT", "/nonexistent/other.ttf", 1);
    surf = viz_shot_render(s, 320, 200, NULL, NULL, err, sizeof err);
    unsetenv("ASYNCLAB_FONT");
    cr_assert_null(surf);
    cr_assert(strstr(err, "/nonexistent/other.ttf"), "%s", err);
    vt_free(&f);
}

Test(render, an_unwritable_png_is_an_error)
{
    vt_feed_t f;
    viz_scene_t *s = blocked_scene(&f, 2);
    char err[512];
    cr_assert_neq(viz_shot_png(s, 100, 100, NULL, "/nonexistent/dir/out.png", err, sizeof err), 0);
    cr_assert(strstr(err, "/nonexistent/dir/out.png"), "%s", err);
    vt_free(&f);
}
