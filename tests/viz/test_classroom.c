/*
 * test_classroom.c — the visualizer in a classroom (viz_classroom.h): from 8
 * to 64 workers and from 1 to 100,000 tasks every lane gets a place and what
 * cannot be drawn one by one is counted and said; presenter mode draws
 * larger and on black; the legend and marker keys toggle.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "viz_classroom.h"
#include "viz_palette.h"
#include "viz_test_feed.h"

/* `workers` workers each running one task, `tasks` tasks in all: the rest
 * queued round-robin on the workers' local queues, a tenth in the inject
 * queue. */
static viz_scene_t *crowd(vt_feed_t *f, uint32_t workers, uint64_t tasks)
{
    vt_start(f, workers);
    uint64_t id = 1;
    for (uint32_t w = 0; w < workers && id <= tasks; w++, id++) {
        vt_spawn(f, 10, (int)w, id, 0, AL_QUEUE_LOCAL);
        vt_ev(f, 11, AL_EV_POLL_BEGIN, (int)w, id, 0, 0, 0);
    }
    for (uint64_t k = 0; id <= tasks; id++, k++) {
        if (k % 10 == 9)
            vt_spawn(f, 20, -1, id, 0, AL_QUEUE_INJECT);
        else
            vt_spawn(f, 20, (int)(k % workers), id, 0, AL_QUEUE_LOCAL);
    }
    return vt_scene_at(f, 30, 0);
}

Test(classroom, eight_workers_and_one_task_draw_everything, .timeout = 60)
{
    vt_feed_t f;
    viz_scene_t *s = crowd(&f, 8, 1);
    viz_layout_t l;
    viz_layout_compute(&l, s, 1280, 720);
    viz_aggregate_t ag;
    viz_classroom_aggregate(s, &l, &ag);
    cr_assert_eq(ag.lanes_drawn, 8);
    cr_assert_eq(ag.tasks_alive, 1);
    cr_assert_eq(ag.tasks_drawn, 1);
    cr_assert_not(ag.aggregated);
    cr_assert_str_empty(ag.text);
    vt_free(&f);
}

Test(classroom, sixty_four_workers_and_100000_tasks_are_counted_and_said, .timeout = 120)
{
    vt_feed_t f;
    viz_scene_t *s = crowd(&f, 64, 100000);
    cr_assert_eq(s->alive_tasks, 100000);
    cr_assert_eq(s->num_lanes, 64);
    static const int sizes[][2] = {{1280, 720}, {1920, 1080}, {800, 600}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        viz_layout_t l;
        viz_layout_compute(&l, s, sizes[k][0], sizes[k][1]);
        viz_aggregate_t ag;
        viz_classroom_aggregate(s, &l, &ag);
        cr_assert_eq(ag.lanes_drawn, 64, "every lane has a place at %dx%d", sizes[k][0],
                     sizes[k][1]);
        cr_assert(ag.aggregated);
        cr_assert_gt(ag.tasks_drawn, 64, "more than the polled tasks are drawn");
        cr_assert_lt(ag.tasks_drawn, 100000);
        cr_assert(strstr(ag.text, "of 100,000 tasks drawn, the rest counted"), "%s", ag.text);
        /* Every lane's queue says how many it does not draw: +N. */
        for (uint32_t i = 0; i < 64; i++)
            cr_assert_eq(l.lane[i].chips + l.lane[i].more, s->lanes[i].queue_len, "lane %u", i);
    }
    /* Drawn: the note is in the footer, in the overflow colour. */
    char err[512];
    viz_layout_t l;
    viz_classroom_t c = viz_classroom_default();
    SDL_Surface *surf = viz_classroom_shot(s, 1280, 720, &c, NULL, &l, err, sizeof err);
    cr_assert_not_null(surf, "%s", err);
    SDL_LockSurface(surf);
    long orange = 0;
    const uint8_t *px = surf->pixels;
    viz_color_t o = VIZ_OVERFLOW;
    for (int y = l.footer.y; y < l.footer.y + l.footer.h; y++)
        for (int x = l.footer.x + l.footer.w / 2; x < l.footer.x + l.footer.w; x++) {
            const uint8_t *p = px + 4 * ((size_t)y * (size_t)surf->w + (size_t)x);
            orange += abs(p[0] - o.r) < 40 && abs(p[1] - o.g) < 40 && abs(p[2] - o.b) < 40;
        }
    cr_assert_gt(orange, 50, "the aggregation note is drawn");
    SDL_UnlockSurface(surf);
    SDL_FreeSurface(surf);
    vt_free(&f);
}

Test(classroom, more_workers_than_lanes_are_said, .timeout = 60)
{
    vt_feed_t f;
    viz_scene_t *s = crowd(&f, 100, 100);
    viz_layout_t l;
    viz_layout_compute(&l, s, 1280, 720);
    viz_aggregate_t ag;
    viz_classroom_aggregate(s, &l, &ag);
    cr_assert_eq(ag.lanes_drawn, VIZ_MAX_LANES);
    cr_assert(strstr(ag.text, "64 of 100 workers drawn"), "%s", ag.text);
    vt_free(&f);
}

Test(classroom, presenter_mode_is_larger_and_black)
{
    vt_feed_t f;
    viz_scene_t *s = crowd(&f, 2, 40);
    char err[512];
    viz_layout_t normal, big;
    viz_classroom_t c = viz_classroom_default();
    SDL_Surface *a = viz_classroom_shot(s, 1280, 720, &c, NULL, &normal, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    cr_assert(viz_classroom_key(&c, NULL, SDLK_p));
    cr_assert(c.presenter);
    SDL_Surface *b = viz_classroom_shot(s, 1280, 720, &c, NULL, &big, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(b->w, 1280);
    cr_assert_eq(big.w, (int)(1280 / VIZ_PRESENTER_SCALE), "laid out for a smaller window");
    /* The lane is drawn 1.5 times as tall: the pixel at 1.2x its normal
     * bottom is still inside lane 0 in presenter mode. */
    SDL_LockSurface(b);
    const uint8_t *px = b->pixels;
    int x = (int)((float)(big.lane[0].label.x + 2) * VIZ_PRESENTER_SCALE);
    int y0 = (int)((float)big.lane[0].label.y * VIZ_PRESENTER_SCALE);
    int y1 = y0 + (int)((float)big.lane[0].label.h * 1.2f);
    const uint8_t *in = px + 4 * ((size_t)y1 * (size_t)b->w + (size_t)x);
    viz_color_t run = VIZ_RUNNING;
    cr_assert(abs(in[0] - run.r) < 30 && abs(in[1] - run.g) < 30 && abs(in[2] - run.b) < 30,
              "running colour at (%d,%d): %u %u %u", x, y1, in[0], in[1], in[2]);
    /* High contrast: the background is black (below the lanes). */
    const uint8_t *bg = px + 4 * ((size_t)(b->h * 3 / 4) * (size_t)b->w + 20);
    cr_assert(bg[0] == 0 && bg[1] == 0 && bg[2] == 0, "%u %u %u", bg[0], bg[1], bg[2]);
    SDL_UnlockSurface(b);
    SDL_LockSurface(a);
    const uint8_t *bg2 =
        (const uint8_t *)a->pixels + 4 * ((size_t)(a->h * 3 / 4) * (size_t)a->w + 20);
    cr_assert(bg2[0] != 0 || bg2[1] != 0 || bg2[2] != 0, "the normal background is not black");
    SDL_UnlockSurface(a);
    cr_assert_not(viz_palette_high_contrast, "only while drawing");
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
    vt_free(&f);
}

/* Of the columns of r that have ink (a pixel unlike the top left one), the
 * share equal to the next column, pixel for pixel. */
static double repeated_columns(SDL_Surface *surf, viz_rect_t r)
{
    SDL_LockSurface(surf);
    const uint32_t *px = surf->pixels;
    size_t pitch = (size_t)surf->pitch / 4;
    uint32_t bg = px[(size_t)r.y * pitch + (size_t)r.x];
    int ink = 0, repeated = 0;
    for (int x = r.x; x + 1 < r.x + r.w; x++) {
        bool has_ink = false, same = true;
        for (int y = r.y; y < r.y + r.h; y++) {
            uint32_t p = px[(size_t)y * pitch + (size_t)x];
            has_ink |= p != bg;
            same &= p == px[(size_t)y * pitch + (size_t)x + 1];
        }
        ink += has_ink;
        repeated += has_ink && same;
    }
    SDL_UnlockSurface(surf);
    return ink ? (double)repeated / ink : 1.0;
}

Test(classroom, presenter_text_is_set_in_larger_fonts_not_magnified)
{
    vt_feed_t f;
    viz_scene_t *s = crowd(&f, 2, 40);
    char err[512];
    viz_layout_t l;
    viz_classroom_t c = viz_classroom_default();
    c.presenter = true;
    SDL_Surface *b = viz_classroom_shot(s, 1280, 720, &c, NULL, &l, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    /* The title "worker 0" in lane 0's label, in screen pixels. The frame
     * drawn at 1x and magnified 1.5x (as before fonts were set larger)
     * repeats 11% of these columns; text set in 1.5x fonts, 4%. */
    viz_rect_t label = l.lane[0].label;
    float k = VIZ_PRESENTER_SCALE;
    viz_rect_t title = {(int)((float)(label.x + 4) * k), (int)((float)(label.y + 2) * k),
                        (int)((float)(label.w / 2) * k), (int)((float)(label.h / 2) * k)};
    double share = repeated_columns(b, title);
    cr_assert_lt(share, 0.075, "%.0f%% of the inked columns repeat their neighbour: magnified text",
                 share * 100);
    SDL_FreeSurface(b);
    vt_free(&f);
}

Test(classroom, keys_toggle_legend_markers_and_fullscreen)
{
    viz_classroom_t c = viz_classroom_default();
    cr_assert(c.stop_at_markers);
    cr_assert(viz_classroom_key(&c, NULL, SDLK_m));
    cr_assert_not(c.stop_at_markers);
    cr_assert(viz_classroom_key(&c, NULL, SDLK_QUESTION));
    cr_assert(c.legend);
    cr_assert(viz_classroom_key(&c, NULL, SDLK_h));
    cr_assert_not(c.legend);
    cr_assert(viz_classroom_key(&c, NULL, SDLK_F11));
    cr_assert(c.fullscreen);
    cr_assert_not(viz_classroom_key(&c, NULL, SDLK_RIGHT), "not a classroom key");
}
