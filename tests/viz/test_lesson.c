/*
 * test_lesson.c — lesson hooks in the visualizer (viz_lesson.h): the scene
 * carries the caption, the highlights and the last marker as of its
 * position; playback stops at markers (or not, when told); markers are found
 * by name; the renderer rings a highlighted worker, task and resource and
 * draws the caption as a band.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "viz_lesson.h"
#include "viz_palette.h"
#include "viz_shot.h"
#include "viz_test_feed.h"

enum { S_CAPTION1 = 1, S_CAPTION2, S_MARK_A, S_MARK_B, S_WORKER, S_MUTEX };

/* Two workers; task 1 runs on worker 0, tasks 2..4 queue on worker 1; a
 * mutex (resource 9) held by task 1. Hooks at 100 .. 900 us. */
static void lesson_feed(vt_feed_t *f)
{
    vt_start(f, 2);
    vt_name(f, S_CAPTION1, "worker 0 is about to block");
    vt_name(f, S_CAPTION2, "now look at the queue");
    vt_name(f, S_MARK_A, "before");
    vt_name(f, S_MARK_B, "after");
    vt_name(f, S_WORKER, "worker");
    vt_name(f, S_MUTEX, "db");
    vt_spawn(f, 10, 0, 1, S_WORKER, AL_QUEUE_LOCAL);
    vt_ev(f, 20, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_ev(f, 30, AL_EV_RESOURCE_CREATE, 0, 1, 9, AL_RES_MUTEX, S_MUTEX);
    vt_ev(f, 40, AL_EV_LOCK_ACQUIRE, 0, 1, 9, 0, 0);
    for (uint64_t t = 2; t <= 4; t++)
        vt_spawn(f, 50 + t, 1, t, 0, AL_QUEUE_LOCAL);
    vt_ev(f, 100, AL_EV_CAPTION, -1, 0, 0, 0, S_CAPTION1);
    vt_ev(f, 200, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_NONE, 0, 0);
    vt_ev(f, 200, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_WORKER, 0, 0);
    vt_ev(f, 300, AL_EV_MARKER, -1, 0, 0, 0, S_MARK_A);
    vt_ev(f, 400, AL_EV_CAPTION, -1, 0, 0, 0, S_CAPTION2);
    vt_ev(f, 500, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_NONE, 0, 0);
    vt_ev(f, 500, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_TASK, 3, 0);
    vt_ev(f, 500, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_RESOURCE, 9, 0);
    vt_ev(f, 600, AL_EV_MARKER, -1, 0, 0, 0, S_MARK_B);
    vt_ev(f, 700, AL_EV_CAPTION, -1, 0, 0, 0, 0);                   /* clear */
    vt_ev(f, 800, AL_EV_HIGHLIGHT, -1, 0, AL_HIGHLIGHT_NONE, 0, 0); /* clear */
    vt_ev(f, 900, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
}

static viz_scene_t *lesson_scene_at(vt_feed_t *f, viz_lesson_t *l, uint64_t at_us)
{
    viz_scene_t *s = vt_scene_at(f, at_us, 0);
    viz_lesson_update(l, f->rec);
    viz_lesson_apply(l, f->rec, f->player->pos, s);
    return s;
}

Test(lesson, the_scene_carries_caption_highlights_and_marker)
{
    vt_feed_t f;
    lesson_feed(&f);
    viz_lesson_t l;
    viz_lesson_init(&l);

    viz_scene_t *s = lesson_scene_at(&f, &l, 50);
    cr_assert_str_empty(s->caption);
    cr_assert_eq(s->num_highlights, 0);
    cr_assert_str_empty(s->marker);

    s = lesson_scene_at(&f, &l, 250);
    cr_assert_str_eq(s->caption, "worker 0 is about to block");
    cr_assert_eq(s->num_highlights, 1);
    cr_assert(viz_scene_highlighted(s, AL_HIGHLIGHT_WORKER, 0));
    cr_assert_str_empty(s->marker);

    /* The second highlight replaces the first (a clear comes before it). */
    s = lesson_scene_at(&f, &l, 650);
    cr_assert_str_eq(s->caption, "now look at the queue");
    cr_assert_eq(s->num_highlights, 2);
    cr_assert_not(viz_scene_highlighted(s, AL_HIGHLIGHT_WORKER, 0));
    cr_assert(viz_scene_highlighted(s, AL_HIGHLIGHT_TASK, 3));
    cr_assert(viz_scene_highlighted(s, AL_HIGHLIGHT_RESOURCE, 9));
    cr_assert_str_eq(s->marker, "after");

    /* Going back gives the earlier state again. */
    s = lesson_scene_at(&f, &l, 350);
    cr_assert_str_eq(s->marker, "before");
    cr_assert(viz_scene_highlighted(s, AL_HIGHLIGHT_WORKER, 0));

    /* Cleared. */
    s = lesson_scene_at(&f, &l, 950);
    cr_assert_str_empty(s->caption);
    cr_assert_eq(s->num_highlights, 0);
    cr_assert_str_eq(s->marker, "after");
    cr_assert_not(l.out_of_memory);
    viz_lesson_free(&l);
    vt_free(&f);
}

/* A caption longer than the scene keeps is cut at a whole character. */
Test(lesson, a_long_caption_is_cut_at_a_whole_character)
{
    vt_feed_t f;
    vt_start(&f, 1);
    char text[600];
    size_t n = 0;
    while (n + 2 < sizeof text) { /* "é" is two bytes: the cut falls inside one */
        text[n++] = '\xc3';
        text[n++] = '\xa9';
    }
    text[n] = 0;
    vt_name(&f, 1, text);
    vt_ev(&f, 10, AL_EV_CAPTION, -1, 0, 0, 0, 1);
    viz_lesson_t l;
    viz_lesson_init(&l);
    viz_scene_t *s = lesson_scene_at(&f, &l, 20);
    size_t len = strlen(s->caption);
    cr_assert_lt(len, VIZ_CAPTION);
    cr_assert_gt(len, VIZ_CAPTION - 4);
    cr_assert_eq(len % 2, 0, "whole characters only: %zu bytes", len);
    viz_lesson_free(&l);
    vt_free(&f);
}

Test(lesson, markers_are_found_by_name_and_stop_playback)
{
    vt_feed_t f;
    lesson_feed(&f);
    viz_lesson_t l;
    viz_lesson_init(&l);
    viz_lesson_update(&l, f.rec);
    cr_assert_eq(l.num_markers, 2);
    size_t pos;
    cr_assert(viz_lesson_find_marker(&l, f.rec, "after", &pos));
    cr_assert_eq(f.rec->events[pos - 1].kind, AL_EV_MARKER);
    cr_assert_not(viz_lesson_find_marker(&l, f.rec, "nowhere", &pos));

    viz_player_t *p;
    cr_assert_eq(viz_player_new(f.rec, &p), 0);
    /* Playing at 1x in 100 us ticks stops right after "before" (300 us). */
    p->playing = true;
    int stops = 0, ticks = 0;
    while (p->playing && ticks++ < 100)
        stops += viz_lesson_tick(&l, p, 100000, true) == 1;
    cr_assert_eq(stops, 1);
    cr_assert_not(p->playing, "paused at the marker");
    cr_assert_eq(p->rec->events[p->pos - 1].kind, AL_EV_MARKER);
    cr_assert_eq(p->now_ns, VT_BASE_NS + 300000);
    /* Playing on stops at "after", then runs to the end. */
    p->playing = true;
    while (p->playing && ticks++ < 100)
        viz_lesson_tick(&l, p, 100000, true);
    cr_assert_eq(p->now_ns, VT_BASE_NS + 600000);
    p->playing = true;
    while (p->playing && ticks++ < 100)
        viz_lesson_tick(&l, p, 100000, true);
    cr_assert(viz_player_at_end(p));

    /* With stopping off, playing passes both markers. */
    viz_player_seek_event(p, 0);
    p->playing = true;
    ticks = 0;
    while (p->playing && ticks++ < 100)
        cr_assert_eq(viz_lesson_tick(&l, p, 100000, false), 0);
    cr_assert(viz_player_at_end(p));
    viz_player_free(p);
    viz_lesson_free(&l);
    vt_free(&f);
}

/* Share of pixels on rect r's border (1 px outside it) that are white. */
static double ring_share(SDL_Surface *surf, viz_rect_t r)
{
    long n = 0, white = 0;
    const uint8_t *px = surf->pixels;
    for (int x = r.x - 1; x <= r.x + r.w; x++)
        for (int k = 0; k < 2; k++) {
            int y = k ? r.y + r.h : r.y - 1;
            if (x < 0 || y < 0 || x >= surf->w || y >= surf->h)
                continue;
            const uint8_t *p = px + 4 * ((size_t)y * (size_t)surf->w + (size_t)x);
            n++;
            white += p[0] == 255 && p[1] == 255 && p[2] == 255;
        }
    return n ? (double)white / (double)n : 0;
}

Test(lesson, the_renderer_rings_highlights_and_draws_the_caption)
{
    vt_feed_t f;
    lesson_feed(&f);
    viz_lesson_t l;
    viz_lesson_init(&l);
    char err[512];
    viz_layout_t lay;

    viz_scene_t *s = lesson_scene_at(&f, &l, 250); /* worker 0 highlighted */
    SDL_Surface *surf = viz_shot_render(s, 1280, 720, NULL, &lay, err, sizeof err);
    cr_assert_not_null(surf, "%s", err);
    SDL_LockSurface(surf);
    cr_assert_gt(ring_share(surf, lay.lane[0].lane), 0.9, "worker 0 ringed");
    cr_assert_lt(ring_share(surf, lay.lane[1].lane), 0.2, "worker 1 not ringed");
    /* The caption band: near-black across the bottom of the lanes, with
     * white text in it. */
    viz_rect_t band = {lay.lanes.x + 40, lay.lanes.y + lay.lanes.h - 30, lay.lanes.w - 80, 10};
    long dark = 0, white = 0, n = 0;
    const uint8_t *px = surf->pixels;
    for (int y = band.y; y < band.y + band.h; y++)
        for (int x = band.x; x < band.x + band.w; x++, n++) {
            const uint8_t *p = px + 4 * ((size_t)y * (size_t)surf->w + (size_t)x);
            dark += p[0] < 30 && p[1] < 30 && p[2] < 30;
            white += p[0] > 200 && p[1] > 200 && p[2] > 200;
        }
    cr_assert_gt((double)dark / (double)n, 0.5, "a dark band");
    cr_assert_gt(white, 20, "text in it");
    SDL_UnlockSurface(surf);
    SDL_FreeSurface(surf);

    s = lesson_scene_at(&f, &l, 650); /* task 3 and the mutex highlighted */
    surf = viz_shot_render(s, 1280, 720, NULL, &lay, err, sizeof err);
    cr_assert_not_null(surf, "%s", err);
    SDL_LockSurface(surf);
    cr_assert_lt(ring_share(surf, lay.lane[0].lane), 0.2, "worker 0 no longer ringed");
    /* Task 3 is the second chip of worker 1's queue. */
    cr_assert_eq(s->lanes[1].queue[1].task, 3);
    cr_assert_gt(ring_share(surf, viz_layout_lane_chip(&lay, 1, 1)), 0.6, "task 3 ringed");
    cr_assert_eq(s->resources[0].id, 9);
    cr_assert_gt(ring_share(surf, lay.resource[0]), 0.9, "the mutex ringed");
    SDL_UnlockSurface(surf);
    SDL_FreeSurface(surf);

    /* A highlight of something not on screen (no task 77) and no caption:
     * the band still comes, to say so. */
    s->caption[0] = 0;
    s->num_highlights = 1;
    s->highlights[0] = (viz_lesson_highlight_t){AL_HIGHLIGHT_TASK, 77};
    surf = viz_shot_render(s, 1280, 720, NULL, &lay, err, sizeof err);
    cr_assert_not_null(surf, "%s", err);
    SDL_LockSurface(surf);
    px = surf->pixels;
    long bar = 0;
    for (int y = lay.lanes.y + lay.lanes.h - 20; y < lay.lanes.y + lay.lanes.h - 10; y++) {
        const uint8_t *p = px + 4 * ((size_t)y * (size_t)surf->w + (size_t)(lay.lanes.x + 10));
        bar += p[0] == 255 && p[1] == 255 && p[2] == 255;
    }
    cr_assert_gt(bar, 5, "the band's white bar, for the note");
    SDL_UnlockSurface(surf);
    SDL_FreeSurface(surf);
    viz_lesson_free(&l);
    vt_free(&f);
}
