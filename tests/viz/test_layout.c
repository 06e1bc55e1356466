/*
 * test_layout.c — rectangles for 1 to 64 workers (and more) in windows from
 * 1920x1080 down to 1x1: everything inside the window, lanes apart, chips
 * inside their queue with a "+N" chip for the rest, and the side panel
 * dropped (not squeezed) when there is no room.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "viz_layout.h"
#include "viz_test_feed.h"

/* A scene with n workers, worker i holding i*7 queued tasks; built directly. */
static viz_scene_t *scene_of(uint32_t n)
{
    viz_scene_t *s = viz_scene_new();
    cr_assert(s);
    s->num_workers = n;
    s->num_lanes = n < VIZ_MAX_LANES ? n : VIZ_MAX_LANES;
    for (uint32_t i = 0; i < s->num_lanes; i++) {
        viz_lane_t *l = &s->lanes[i];
        l->worker = i;
        l->state = AL_WORKER_RUNNING;
        l->queue_len = i * 7;
        l->queue_kept = l->queue_len < VIZ_MAX_CHIPS ? l->queue_len : VIZ_MAX_CHIPS;
        for (uint32_t q = 0; q < l->queue_kept; q++)
            l->queue[q].task = 1000 + q;
    }
    s->inject_len = 30;
    s->inject_kept = 30;
    s->num_blocking = 3;
    s->num_groups = 3;
    for (uint32_t g = 0; g < 3; g++) {
        s->groups[g].count = 5;
        s->groups[g].kept = 5;
    }
    s->num_resources = 4;
    return s;
}

static void check_layout(const viz_layout_t *l, const viz_scene_t *s, int w, int h)
{
    viz_rect_t win = {0, 0, w < 1 ? 1 : w, h < 1 ? 1 : h};
    cr_assert_eq(l->w, win.w);
    cr_assert_eq(l->h, win.h);
    const viz_rect_t parts[] = {l->header, l->lanes,    l->side,   l->footer, l->lanes_head,
                                l->inject, l->blocking, l->driver, l->idle,   l->resources};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (!viz_rect_empty(parts[i]))
            cr_assert(viz_rect_inside(parts[i], win), "part %zu outside %dx%d", i, w, h);
    cr_assert(!viz_rect_overlap(l->lanes, l->side), "%dx%d", w, h);
    cr_assert(!viz_rect_overlap(l->lanes, l->header), "%dx%d", w, h);
    cr_assert(!viz_rect_overlap(l->lanes, l->footer), "%dx%d", w, h);
    cr_assert(!viz_rect_overlap(l->lanes, l->inject), "%dx%d", w, h);
    cr_assert_eq(l->num_lanes, s->num_lanes);
    for (uint32_t i = 0; i < l->num_lanes; i++) {
        const viz_lane_box_t *b = &l->lane[i];
        if (viz_rect_empty(b->lane))
            continue;
        cr_assert(viz_rect_inside(b->lane, l->lanes), "lane %u outside the lanes at %dx%d", i, w,
                  h);
        const viz_rect_t in[] = {b->label, b->task, b->bar, b->lifo, b->queue};
        for (size_t k = 0; k < 5; k++)
            if (!viz_rect_empty(in[k]))
                cr_assert(viz_rect_inside(in[k], b->lane), "lane %u part %zu at %dx%d", i, k, w, h);
        cr_assert(!viz_rect_overlap(b->label, b->task));
        cr_assert(!viz_rect_overlap(b->task, b->lifo));
        cr_assert(!viz_rect_overlap(b->lifo, b->queue));
        for (uint32_t j = i + 1; j < l->num_lanes; j++)
            cr_assert(!viz_rect_overlap(b->lane, l->lane[j].lane), "lanes %u and %u at %dx%d", i, j,
                      w, h);
        cr_assert_eq(b->chips + b->more, s->lanes[i].queue_len, "lane %u at %dx%d", i, w, h);
        cr_assert_leq(b->chips, s->lanes[i].queue_kept);
        for (uint32_t c = 0; c < b->chips; c++)
            cr_assert(viz_rect_inside(viz_layout_lane_chip(l, i, c), b->queue),
                      "chip %u of lane %u at %dx%d", c, i, w, h);
        if (b->more && b->queue.w >= l->chip_w)
            cr_assert(viz_rect_inside(viz_layout_lane_chip(l, i, b->chips), b->queue),
                      "the +N chip of lane %u at %dx%d", i, w, h);
    }
    if (!viz_rect_empty(l->inject_row.area)) {
        cr_assert(viz_rect_inside(l->inject_row.area, win));
        cr_assert_eq(l->inject_row.chips + l->inject_row.more, s->inject_len);
    }
    for (uint32_t g = 0; g < l->num_groups; g++)
        cr_assert(viz_rect_inside(l->group_row[g].area, l->idle));
    for (uint32_t r = 0; r < l->num_resources; r++)
        cr_assert(viz_rect_inside(l->resource[r], l->resources));
}

Test(layout, every_size_and_worker_count_stays_inside)
{
    static const int sizes[][2] = {{1920, 1080}, {1280, 800}, {1024, 768}, {800, 600}, {640, 480},
                                   {400, 300},   {320, 200},  {200, 100},  {120, 80},  {50, 20},
                                   {1, 1},       {0, -5},     {4000, 60},  {60, 3000}};
    static const uint32_t workers[] = {1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 100};
    viz_layout_t *l = malloc(sizeof *l);
    for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
        viz_scene_t *s = scene_of(workers[w]);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            viz_layout_compute(l, s, sizes[i][0], sizes[i][1]);
            check_layout(l, s, sizes[i][0], sizes[i][1]);
        }
        viz_scene_free(s);
    }
    free(l);
}

Test(layout, roomy_windows_draw_every_lane_with_text)
{
    viz_layout_t *l = malloc(sizeof *l);
    for (uint32_t n = 8; n <= 64; n *= 2) {
        viz_scene_t *s = scene_of(n);
        viz_layout_compute(l, s, 1280, 800);
        cr_assert(l->side_visible);
        for (uint32_t i = 0; i < n; i++) {
            cr_assert(!viz_rect_empty(l->lane[i].lane), "%u workers: lane %u not drawn", n, i);
            cr_assert_geq(l->lane[i].text_lines, 1, "%u workers: lane %u has no text", n, i);
        }
        if (n <= 16)
            cr_assert_eq(l->lane[0].text_lines, 2, "%u workers", n);
        if (n == 64)
            cr_assert_geq(l->cols, 2, "64 workers take columns");
        viz_scene_free(s);
    }
    free(l);
}

Test(layout, long_queues_end_in_a_plus_n_chip)
{
    viz_scene_t *s = scene_of(8); /* worker 7: 49 tasks, 48 kept */
    viz_layout_t *l = malloc(sizeof *l);
    viz_layout_compute(l, s, 800, 600);
    const viz_lane_box_t *b = &l->lane[7];
    cr_assert_gt(b->chips, 0);
    cr_assert_gt(b->more, 0);
    cr_assert_eq(b->chips + b->more, 49);
    cr_assert_eq(l->lane[0].chips, 0);
    cr_assert_eq(l->lane[0].more, 0);
    b = &l->lane[1]; /* 7 tasks: all, or as many as fit less one, and "+N" */
    uint32_t fit = (uint32_t)((b->queue.w + l->chip_gap) / (l->chip_w + l->chip_gap));
    cr_assert_eq(b->chips, fit >= 7 ? 7 : fit - 1, "fit %u", fit);
    cr_assert_eq(b->more, 7 - b->chips);
    viz_layout_compute(l, s, 1920, 1080);
    cr_assert_eq(l->lane[1].chips, 7, "a wide window fits 7");
    cr_assert_eq(l->lane[1].more, 0);
    free(l);
    viz_scene_free(s);
}

Test(layout, small_windows_drop_the_side_panel_then_text)
{
    viz_scene_t *s = scene_of(8);
    viz_layout_t *l = malloc(sizeof *l);
    viz_layout_compute(l, s, 640, 480);
    cr_assert(!l->side_visible);
    cr_assert(!viz_rect_empty(l->inject), "the inject queue becomes a strip");
    viz_layout_compute(l, s, 200, 100);
    cr_assert(!l->side_visible);
    cr_assert_eq(l->font_px, VIZ_FONT_SMALL_PX);
    for (uint32_t i = 0; i < 8; i++)
        cr_assert(!viz_rect_empty(l->lane[i].lane), "8 lanes fit 200x100: lane %u", i);
    viz_layout_compute(l, s, 1, 1);
    cr_assert(viz_rect_empty(l->header));
    free(l);
    viz_scene_free(s);
}

Test(layout, motion_points_are_where_things_are_drawn)
{
    viz_scene_t *s = scene_of(4);
    viz_layout_t *l = malloc(sizeof *l);
    viz_layout_compute(l, s, 1280, 800);
    viz_point_t p;
    cr_assert(viz_layout_point(l, (viz_place_t){VIZ_AT_LANE_TASK, 2, -1}, &p));
    cr_assert(p.x >= l->lane[2].task.x && p.x < l->lane[2].task.x + l->lane[2].task.w);
    cr_assert(p.y >= l->lane[2].task.y && p.y < l->lane[2].task.y + l->lane[2].task.h);
    cr_assert(viz_layout_point(l, (viz_place_t){VIZ_AT_LANE_QUEUE, 3, 0}, &p));
    viz_rect_t c0 = viz_layout_lane_chip(l, 3, 0);
    cr_assert(p.x >= c0.x && p.x < c0.x + c0.w);
    cr_assert(viz_layout_point(l, (viz_place_t){VIZ_AT_LANE_QUEUE, 3, -1}, &p));
    cr_assert(p.x > c0.x + c0.w, "the end of the queue is after its chips");
    cr_assert(viz_layout_point(l, (viz_place_t){VIZ_AT_INJECT, -1, 2}, &p));
    cr_assert(viz_layout_point(l, (viz_place_t){VIZ_AT_DRIVER, -1, -1}, &p));
    cr_assert(!viz_layout_point(l, (viz_place_t){VIZ_AT_LANE_TASK, 9, -1}, &p), "no lane 9");
    cr_assert(!viz_layout_point(l, (viz_place_t){VIZ_AT_NONE, -1, -1}, &p));
    free(l);
    viz_scene_free(s);
}
