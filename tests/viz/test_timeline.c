/*
 * test_timeline.c — the timeline band: its model (viz_timeline.h) on a
 * hand-built recording and on a real one (the silent-hang scenario), its
 * view and geometry (viz_timeline_view.h), jumping to events of a kind
 * (viz_jump.h), the band in the layout, and its pixels.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "viz_jump.h"
#include "viz_shot.h"
#include "viz_test_feed.h"
#include "viz_test_scenario.h"
#include "viz_timeline.h"
#include "viz_timeline_input.h"
#include "viz_timeline_view.h"

#define US(x) (VT_BASE_NS + (uint64_t)(x)*1000)

/*
 * Two workers and a blocking-pool thread (recording thread 9):
 *   w0 polls alpha 100..200 us; alpha wakes beta at 150 us
 *   w1 parked in the driver 50..300, steals 1 task from w0 at 310, polls beta 400..450
 *   w0 polls beta 500..850, blocked in std.thread.sleep 20 ms 550..800
 *   w1 searches 900..950, lint at 960
 *   the pool's thread 2 runs "backup" 600..1000 (a sleep inside: not red there)
 *   gamma ends in a panic at 990
 */
static void feed(vt_feed_t *f)
{
    vt_start(f, 2);
    vt_name(f, 1, "alpha");
    vt_name(f, 2, "beta");
    vt_name(f, 3, "backup");
    vt_name(f, 4, "gamma");
    viz_recording_consumer.on_thread(f->rec, 9, "blocking-2", AL_THREAD_BLOCKING, AL_EV_NOT_WORKER);
    vt_spawn(f, 10, 0, 1, 1, AL_QUEUE_LOCAL);
    vt_spawn(f, 20, 0, 2, 2, AL_QUEUE_LOCAL);
    vt_spawn(f, 30, 0, 4, 4, AL_QUEUE_LOCAL);
    vt_ev(f, 50, AL_EV_PARK, 1, 0, 1, 0, 0);
    vt_ev(f, 100, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_ev(f, 150, AL_EV_WAKE, 0, 2, 1, VT_WAKE(AL_WAKE_TASK, 0, 0), 0);
    vt_ev(f, 200, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 0, 0);
    vt_ev(f, 300, AL_EV_UNPARK, 1, 0, AL_UNPARK_NOTIFIED, 0, 0);
    vt_ev(f, 310, AL_EV_STEAL, 1, 0, 0, 1, 0);
    vt_ev(f, 400, AL_EV_POLL_BEGIN, 1, 2, 0, 0, 0);
    vt_ev(f, 450, AL_EV_POLL_END, 1, 2, AL_POLL_END_PENDING, 0, 0);
    vt_ev(f, 500, AL_EV_POLL_BEGIN, 0, 2, 0, 0, 0);
    vt_ev(f, 550, AL_EV_BLOCK_BEGIN, 0, 2, AL_BLOCK_THREAD_SLEEP, 20, 0);
    al_trace_event_t run = {
        .ts_ns = US(600), .task = 3, .a = 2, .kind = AL_EV_BLOCKING_RUN, .thread = 9, .worker = -1};
    viz_recording_consumer.on_events(f->rec, &run, 1);
    run.kind = AL_EV_POLL_BEGIN;
    run.a = 0;
    viz_recording_consumer.on_events(f->rec, &run, 1);
    run.ts_ns = US(610);
    run.kind = AL_EV_BLOCK_BEGIN;
    viz_recording_consumer.on_events(f->rec, &run, 1);
    vt_ev(f, 800, AL_EV_BLOCK_END, 0, 2, AL_BLOCK_THREAD_SLEEP, 0, 0);
    vt_ev(f, 850, AL_EV_POLL_END, 0, 2, AL_POLL_END_READY, 0, 0);
    vt_ev(f, 900, AL_EV_SEARCH_BEGIN, 1, 0, 0, 0, 0);
    vt_ev(f, 950, AL_EV_SEARCH_END, 1, 0, 0, 0, 0);
    vt_ev(f, 960, AL_EV_LINT, 1, 1, 3, 0, 0);
    vt_ev(f, 990, AL_EV_TASK_END, 1, 4, AL_JOIN_PANIC, 0, 0);
    run.ts_ns = US(1000);
    run.kind = AL_EV_POLL_END;
    run.a = AL_POLL_END_READY;
    viz_recording_consumer.on_events(f->rec, &run, 1);
}

static viz_timeline_t *model(vt_feed_t *f, uint64_t from_us, uint64_t to_us)
{
    viz_timeline_t *tl;
    cr_assert_eq(viz_timeline_new(f->rec, &tl), 0);
    cr_assert_eq(viz_timeline_update(tl, US(from_us), US(to_us), 0, US(to_us), 0), 0);
    return tl;
}

Test(timeline, tracks_spans_and_arrows_of_a_known_recording)
{
    vt_feed_t f;
    feed(&f);
    viz_timeline_t *tl = model(&f, 0, 1100);
    cr_assert_eq(tl->num_tracks, 3, "two workers and the blocking thread");
    const viz_tl_track_t *w0 = viz_timeline_track(tl, VIZ_TL_WORKER, 0),
                         *w1 = viz_timeline_track(tl, VIZ_TL_WORKER, 1),
                         *bt = viz_timeline_track(tl, VIZ_TL_BLOCKING, 2);
    cr_assert(w0 && w1 && bt);
    cr_assert_str_eq(bt->label, "blocking 2");

    const viz_tl_span_t *s = viz_timeline_span_at(w0, US(150), -1);
    cr_assert(s && s->kind == VIZ_TL_POLL && s->task == 1);
    cr_assert_eq(s->start_ns, US(100));
    cr_assert_eq(s->end_ns, US(200));
    cr_assert_str_eq(viz_timeline_task_name(tl, s->task), "alpha");
    cr_assert_null(viz_timeline_span_at(w0, US(250), -1), "idle between polls");

    s = viz_timeline_span_at(w0, US(600), -1);
    cr_assert(s && s->kind == VIZ_TL_BLOCKED, "blocked over the poll");
    cr_assert_eq(s->block_kind, AL_BLOCK_THREAD_SLEEP);
    cr_assert_eq(s->block_detail, 20);
    cr_assert_eq(s->start_ns, US(550));
    cr_assert_eq(s->end_ns, US(800));
    s = viz_timeline_span_at(w0, US(600), VIZ_TL_POLL);
    cr_assert(s && s->task == 2 && s->start_ns == US(500) && s->end_ns == US(850));

    s = viz_timeline_span_at(w1, US(100), -1);
    cr_assert(s && s->kind == VIZ_TL_PARKED_DRIVER && s->end_ns == US(300));
    s = viz_timeline_span_at(w1, US(920), -1);
    cr_assert(s && s->kind == VIZ_TL_SEARCHING);

    s = viz_timeline_span_at(bt, US(700), -1);
    cr_assert(s && s->kind == VIZ_TL_POLL && s->task == 3, "the pool runs backup");
    cr_assert_eq(viz_timeline_count_spans(bt, VIZ_TL_BLOCKED), 0, "no red on the pool");

    cr_assert_eq(viz_timeline_count_arrows(tl, VIZ_TL_STEAL), 1);
    cr_assert_eq(viz_timeline_count_arrows(tl, VIZ_TL_WAKE), 1);
    for (size_t i = 0; i < tl->num_arrows; i++) {
        const viz_tl_arrow_t *a = &tl->arrows[i];
        if (a->kind == VIZ_TL_STEAL) {
            cr_assert_eq(a->from_track, 0);
            cr_assert_eq(a->to_track, 1);
            cr_assert_eq(a->count, 1);
            cr_assert_eq(a->from_ns, US(310));
        } else {
            /* alpha on w0 woke beta, next polled on w1 */
            cr_assert_eq(a->task, 2);
            cr_assert_eq(a->from_track, 0);
            cr_assert_eq(a->to_track, 1);
            cr_assert_eq(a->from_ns, US(150));
            cr_assert_eq(a->to_ns, US(400));
        }
    }
    viz_timeline_free(tl);
    vt_free(&f);
}

Test(timeline, a_window_that_starts_inside_spans_finds_them)
{
    vt_feed_t f;
    feed(&f);
    viz_timeline_t *tl = model(&f, 620, 700);
    const viz_tl_track_t *w0 = viz_timeline_track(tl, VIZ_TL_WORKER, 0);
    const viz_tl_span_t *s = viz_timeline_span_at(w0, US(650), -1);
    cr_assert(s && s->kind == VIZ_TL_BLOCKED, "blocked since before the window");
    cr_assert_eq(s->start_ns, US(550));
    cr_assert(s->open, "and still at its end");
    cr_assert_eq(s->end_ns, US(700));
    s = viz_timeline_span_at(w0, US(650), VIZ_TL_POLL);
    cr_assert(s && s->task == 2 && s->start_ns == US(500) && s->open);
    const viz_tl_track_t *bt = viz_timeline_track(tl, VIZ_TL_BLOCKING, 2);
    cr_assert(bt, "the pool thread's poll started before the window");
    s = viz_timeline_span_at(bt, US(650), -1);
    cr_assert(s && s->task == 3 && s->start_ns == US(600));
    viz_timeline_free(tl);

    tl = model(&f, 120, 280); /* w1 parked all along */
    s = viz_timeline_span_at(viz_timeline_track(tl, VIZ_TL_WORKER, 1), US(200), -1);
    cr_assert(s && s->kind == VIZ_TL_PARKED_DRIVER && s->start_ns == US(50));
    viz_timeline_free(tl);
    vt_free(&f);
}

Test(timeline, short_polls_merge_when_zoomed_out)
{
    vt_feed_t f;
    vt_start(&f, 1);
    for (uint64_t i = 0; i < 200; i++) {
        vt_ev(&f, 10 + i * 3, AL_EV_POLL_BEGIN, 0, 1 + i % 2, 0, 0, 0);
        vt_ev(&f, 11 + i * 3, AL_EV_POLL_END, 0, 1 + i % 2, AL_POLL_END_PENDING, 0, 0);
    }
    viz_timeline_t *tl;
    cr_assert_eq(viz_timeline_new(f.rec, &tl), 0);
    cr_assert_eq(viz_timeline_update(tl, US(0), US(700), 0, US(700), 0), 0);
    const viz_tl_track_t *w0 = viz_timeline_track(tl, VIZ_TL_WORKER, 0);
    cr_assert_eq(viz_timeline_count_spans(w0, VIZ_TL_POLL), 200, "every poll when zoomed in");
    /* 10 us a pixel: polls of 1 us, 2 us apart, merge. */
    cr_assert_eq(viz_timeline_update(tl, US(0), US(700), 10000, US(700), 0), 0);
    w0 = viz_timeline_track(tl, VIZ_TL_WORKER, 0);
    size_t n = viz_timeline_count_spans(w0, VIZ_TL_POLL);
    cr_assert_lt(n, 20, "%zu spans", n);
    cr_assert_gt(n, 0);
    cr_assert_eq(w0->spans[0].task, 0, "several tasks in one span");
    cr_assert_gt(w0->spans[0].merged, 0);
    viz_timeline_free(tl);
    vt_free(&f);
}

Test(timeline, jump_to_the_next_and_previous_event_of_a_kind)
{
    vt_feed_t f;
    feed(&f);
    const viz_recording_t *r = f.rec;
    size_t steal = viz_jump_find(r, 0, VIZ_JUMP_STEAL, 1);
    cr_assert_eq(r->events[steal - 1].kind, AL_EV_STEAL, "the steal is the last event shown");
    cr_assert_eq(viz_jump_find(r, steal, VIZ_JUMP_STEAL, 1), steal, "no second steal");
    size_t lint = viz_jump_find(r, steal, VIZ_JUMP_LINT, 1);
    cr_assert_eq(r->events[lint - 1].kind, AL_EV_LINT);
    size_t block = viz_jump_find(r, lint, VIZ_JUMP_BLOCK, -1);
    cr_assert_eq(r->events[block - 1].kind, AL_EV_BLOCK_BEGIN);
    cr_assert_eq(r->events[block - 1].thread, 9, "the last BLOCK_BEGIN before the lint");
    size_t panic = viz_jump_find(r, 0, VIZ_JUMP_PANIC, 1);
    cr_assert_eq(r->events[panic - 1].kind, AL_EV_TASK_END);
    cr_assert_eq(r->events[panic - 1].task, 4);
    size_t park = viz_jump_find(r, r->num_events, VIZ_JUMP_PARK, -1);
    cr_assert_eq(r->events[park - 1].kind, AL_EV_PARK);
    cr_assert_eq(viz_jump_find(r, 5, VIZ_JUMP_ANY, 1), 6);
    cr_assert_eq(viz_jump_find(r, 5, VIZ_JUMP_ANY, -1), 4);
    cr_assert_str_eq(viz_jump_kind_name(VIZ_JUMP_PANIC), "panic");

    /* Through the keys: K cycles the kind, N jumps, Shift+N jumps back. */
    viz_player_t *p;
    cr_assert_eq(viz_player_new(r, &p), 0);
    viz_tl_ui_t *ui;
    cr_assert_eq(viz_tl_ui_new(r, &ui), 0);
    cr_assert_eq(ui->view.jump_kind, VIZ_JUMP_LINT);
    cr_assert(viz_tl_ui_key(ui, p, SDLK_k, 0));
    cr_assert_eq(ui->view.jump_kind, VIZ_JUMP_STEAL);
    cr_assert(viz_tl_ui_key(ui, p, SDLK_n, 0));
    cr_assert_eq(p->pos, steal);
    cr_assert_eq(p->now_ns, US(310));
    for (int i = 0; i < 3; i++)
        viz_tl_ui_key(ui, p, SDLK_k, 0); /* park, block, panic */
    cr_assert(viz_tl_ui_key(ui, p, SDLK_n, 0));
    cr_assert_eq(p->pos, panic);
    viz_tl_ui_key(ui, p, SDLK_k, 0); /* any */
    viz_tl_ui_key(ui, p, SDLK_k, 0); /* lint */
    viz_tl_ui_key(ui, p, SDLK_k, 0); /* steal */
    cr_assert(viz_tl_ui_key(ui, p, SDLK_n, KMOD_SHIFT));
    cr_assert_eq(p->pos, steal);
    cr_assert_not(viz_tl_ui_key(ui, p, SDLK_q, 0), "not the timeline's key");
    viz_tl_ui_free(ui);
    viz_player_free(p);
    vt_free(&f);
}

Test(timeline, view_follows_zooms_and_pans)
{
    uint64_t start = 1000000000, end = start + 1000000000; /* 1 s */
    viz_tl_view_t v;
    viz_tl_view_init(&v, start, end);
    cr_assert(v.follow);
    cr_assert_eq(v.span_ns, 250000000, "a quarter of the recording");
    uint64_t t0, t1, now = start + 500000000;
    viz_tl_view_window(&v, now, start, end, &t0, &t1);
    cr_assert_eq(t1 - t0, 250000000);
    cr_assert_eq(now - t0, 187500000, "3/4 of the window before the playhead");
    viz_tl_view_window(&v, start + 10, start, end, &t0, &t1);
    cr_assert_eq(t0, start, "kept inside the recording");
    viz_tl_view_zoom(&v, 0.5, now, now, start, end);
    cr_assert_eq(v.span_ns, 125000000);
    viz_tl_view_pan(&v, -50000000, now, start, end);
    cr_assert_not(v.follow, "panning stops following");
    uint64_t u0, u1;
    viz_tl_view_window(&v, now + 300000000, start, end, &u0, &u1);
    viz_tl_view_window(&v, now, start, end, &t0, &t1);
    cr_assert_eq(u0, t0, "a panned window stays when the playhead moves");

    viz_tl_geom_t g;
    viz_tl_geom(&g, (viz_rect_t){0, 500, 1280, 200}, 3, 18);
    cr_assert_eq(g.rows, 3);
    cr_assert(viz_rect_inside(g.plot, g.band) && viz_rect_inside(g.scrub, g.band));
    cr_assert_not(viz_rect_overlap(g.plot, g.scrub));
    cr_assert_eq(viz_tl_x_of(&g, t0, t1, t0), g.plot.x);
    cr_assert_eq(viz_tl_x_of(&g, t0, t1, t1), g.plot.x + g.plot.w);
    uint64_t mid = viz_tl_time_at(&g, t0, t1, g.plot.x + g.plot.w / 2);
    cr_assert_lt(mid > t0 + (t1 - t0) / 2 ? mid - t0 - (t1 - t0) / 2 : t0 + (t1 - t0) / 2 - mid,
                 (t1 - t0) / (uint64_t)g.plot.w + 1);
    cr_assert_eq(viz_tl_scrub_time(&g, start, end, g.bar.x + g.bar.w), end);
    cr_assert_eq(viz_tl_band_height(3, 300, 200, 18), 0, "no band in a tiny window");
}

Test(timeline, the_band_sits_under_the_floor_in_the_layout)
{
    vt_feed_t f;
    feed(&f);
    viz_scene_t *s = vt_scene_at(&f, 700, 100);
    viz_tl_ui_t *ui;
    cr_assert_eq(viz_tl_ui_new(f.rec, &ui), 0);
    cr_assert_eq(viz_tl_ui_frame(ui, f.player, 1280), 0);
    s->timeline = ui->model;
    viz_layout_t *l = malloc(sizeof *l);
    viz_layout_compute(l, s, 1280, 800);
    cr_assert_gt(l->timeline.h, 40);
    cr_assert_eq(l->timeline.w, 1280);
    cr_assert_geq(l->timeline.y, l->lanes.y + l->lanes.h, "the floor stays above");
    cr_assert_geq(l->timeline.y, l->side.y + l->side.h);
    cr_assert_leq(l->timeline.y + l->timeline.h, l->footer.y);
    s->timeline = NULL;
    viz_layout_compute(l, s, 1280, 800);
    cr_assert_eq(l->timeline.h, 0, "no model, no band");
    for (int w = 1; w < 1400; w += 97) {
        s->timeline = ui->model;
        viz_layout_compute(l, s, w, w * 2 / 3);
        cr_assert(viz_rect_empty(l->timeline) ||
                  viz_rect_inside(l->timeline, (viz_rect_t){0, 0, l->w, l->h}));
    }
    free(l);
    viz_tl_ui_free(ui);
    vt_free(&f);
}

/* ---- a real recording ---- */

static uint64_t first(const viz_recording_t *r, al_event_kind_t kind, const char *task_name)
{
    uint64_t task = 0;
    for (size_t i = 0; i < r->num_events; i++) {
        const al_trace_event_t *e = &r->events[i];
        if (e->kind == AL_EV_TASK_SPAWN && !strcmp(viz_recording_string(r, e->str), task_name))
            task = e->task;
        if (task && e->kind == kind && e->task == task)
            return e->ts_ns;
    }
    return 0;
}

Test(timeline, the_silent_hang_recorded, .timeout = 60)
{
    char path[64];
    vt_temp_trace(path, sizeof path, "tl");
    cr_assert_eq(viz_scenario_record(path, 300), 0);
    viz_recording_t *r = vt_load(path);
    unlink(path);
    uint64_t a0 = first(r, AL_EV_BLOCK_BEGIN, "sleeper-a"),
             b0 = first(r, AL_EV_BLOCK_BEGIN, "sleeper-b");
    cr_assert(a0 && b0);
    uint64_t both = (a0 > b0 ? a0 : b0) + 20000000;

    viz_player_t *p;
    cr_assert_eq(viz_player_new(r, &p), 0);
    cr_assert_eq(viz_player_seek_ns(p, both), 0);
    viz_tl_ui_t *ui;
    cr_assert_eq(viz_tl_ui_new(r, &ui), 0);
    cr_assert_eq(viz_tl_ui_frame(ui, p, 1280), 0);
    const viz_timeline_t *tl = ui->model;
    cr_assert_eq(tl->now_ns, both);
    cr_assert_eq(tl->pos, p->pos);
    cr_assert(tl->t0 <= both && both <= tl->t1);
    bool sleepers[2] = {false, false};
    for (uint32_t w = 0; w < 2; w++) {
        const viz_tl_track_t *t = viz_timeline_track(tl, VIZ_TL_WORKER, w);
        cr_assert(t);
        const viz_tl_span_t *s = viz_timeline_span_at(t, both, -1);
        cr_assert(s && s->kind == VIZ_TL_BLOCKED, "worker %u is blocked on the timeline", w);
        cr_assert_eq(s->block_kind, AL_BLOCK_THREAD_SLEEP);
        cr_assert_eq(s->block_detail, 300);
        const char *name = viz_timeline_task_name(tl, s->task);
        sleepers[!strcmp(name, "sleeper-b")] = true;
        cr_assert(!strcmp(name, "sleeper-a") || !strcmp(name, "sleeper-b"), "%s", name);
    }
    cr_assert(sleepers[0] && sleepers[1], "one sleeper on each worker");
    const viz_tl_track_t *pool = NULL;
    for (uint32_t i = 0; i < tl->num_tracks; i++)
        if (tl->tracks[i].kind == VIZ_TL_BLOCKING)
            pool = &tl->tracks[i];
    cr_assert(pool, "a track for the blocking pool's thread");
    const viz_tl_span_t *s = viz_timeline_span_at(pool, both, -1);
    cr_assert(s && s->kind == VIZ_TL_POLL);
    cr_assert_str_eq(viz_timeline_task_name(tl, s->task), "backup");
    /* Before the hang the heartbeat ran: its polls are on the tracks. */
    uint64_t beat = first(r, AL_EV_POLL_BEGIN, "heartbeat");
    cr_assert(beat);
    ui->view.span_ns = both - beat + 1000000;
    cr_assert_eq(viz_tl_ui_frame(ui, p, 1280), 0);
    bool seen = false;
    for (uint32_t w = 0; w < 2; w++) {
        const viz_tl_track_t *t = viz_timeline_track(tl, VIZ_TL_WORKER, w);
        for (size_t i = 0; i < t->num_spans; i++)
            seen |= t->spans[i].kind == VIZ_TL_POLL &&
                    !strcmp(viz_timeline_task_name(tl, t->spans[i].task), "heartbeat");
    }
    cr_assert(seen, "the heartbeat's polls before the hang");

    /* Pixels: worker 0's row is red before the playhead. */
    viz_scene_t *scene = viz_scene_new();
    al_console_snapshot_t *snap = viz_player_snapshot(p);
    viz_scene_opts_t so = {.anim_window_ns = 2000000};
    scene->timeline = tl;
    viz_scene_build(scene, snap, p->motion, &so);
    al_console_snapshot_free(snap);
    cr_assert_eq(scene->timeline, tl, "the scene keeps its timeline");
    char e2[256];
    viz_layout_t l;
    SDL_Surface *surf = viz_shot_render(scene, 1280, 800, NULL, &l, e2, sizeof e2);
    cr_assert(surf, "%s", e2);
    viz_tl_geom_t g;
    viz_tl_geom(&g, l.timeline, tl->num_tracks, l.line_h);
    viz_rect_t row = viz_tl_row(&g, 0);
    /* Along 14 px of the row just left of the playhead: red, but for the
     * stripes drawn over it. */
    int x0 = viz_tl_x_of(&g, tl->t0, tl->t1, both) - 20, y = row.y + row.h / 2, red = 0;
    for (int x = x0; x < x0 + 14; x++) {
        uint8_t *px = (uint8_t *)surf->pixels + y * surf->pitch + x * 4;
        red += px[0] > 180 && px[1] < 120 && px[2] < 40;
    }
    cr_assert_geq(red, 9, "%d of 14 pixels red in worker 0's row", red);
    SDL_FreeSurface(surf);
    viz_scene_free(scene);
    viz_tl_ui_free(ui);
    viz_player_free(p);
    viz_recording_free(r);
}

Test(timeline, mouse_on_the_scrub_slider_seeks_and_dragging_the_tracks_pans)
{
    vt_feed_t f;
    feed(&f);
    viz_player_t *p;
    cr_assert_eq(viz_player_new(f.rec, &p), 0);
    viz_tl_ui_t *ui;
    cr_assert_eq(viz_tl_ui_new(f.rec, &ui), 0);
    cr_assert_eq(viz_tl_ui_frame(ui, p, 1280), 0);
    viz_rect_t band = {0, 600, 1280, 180};
    viz_tl_geom_t g;
    viz_tl_geom(&g, band, ui->model->num_tracks, 18);
    uint64_t start = viz_player_start_ns(p), end = viz_player_end_ns(p);

    /* Click in the middle of the slider: the player goes there. */
    SDL_Event e = {.type = SDL_MOUSEBUTTONDOWN};
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = g.bar.x + g.bar.w / 2;
    e.button.y = g.bar.y + g.bar.h / 2;
    cr_assert(viz_tl_ui_mouse(ui, p, &e, e.button.x, e.button.y, band, 18));
    uint64_t mid = viz_tl_scrub_time(&g, start, end, e.button.x);
    cr_assert_eq(p->now_ns, mid);
    cr_assert_eq(p->pos, viz_recording_count_until(f.rec, mid));
    cr_assert_not(p->playing);
    /* Dragging to the left end: the start. */
    SDL_Event m = {.type = SDL_MOUSEMOTION};
    m.motion.x = g.bar.x - 50;
    m.motion.y = e.button.y;
    cr_assert(viz_tl_ui_mouse(ui, p, &m, m.motion.x, m.motion.y, band, 18));
    cr_assert_eq(p->now_ns, start);
    cr_assert_eq(p->pos, 0);
    SDL_Event up = {.type = SDL_MOUSEBUTTONUP};
    up.button.button = SDL_BUTTON_LEFT;
    cr_assert(viz_tl_ui_mouse(ui, p, &up, up.button.x, up.button.y, band, 18));
    m.motion.x = g.bar.x + g.bar.w;
    cr_assert_not(viz_tl_ui_mouse(ui, p, &m, m.motion.x, m.motion.y, band, 18),
                  "no drag after the button is up");
    cr_assert_eq(p->pos, 0);

    /* Drag on the tracks 100 px to the left: the window moves later. */
    cr_assert_eq(viz_player_seek_ns(p, US(500)), 0);
    ui->view.span_ns = 400000; /* 400 us, narrower than the recording */
    cr_assert_eq(viz_tl_ui_frame(ui, p, 1280), 0);
    uint64_t t0 = ui->model->t0;
    e.button.x = g.plot.x + 300;
    e.button.y = g.plot.y + 2;
    cr_assert(viz_tl_ui_mouse(ui, p, &e, e.button.x, e.button.y, band, 18));
    m.motion.x = e.button.x - 100;
    m.motion.y = e.button.y;
    cr_assert(viz_tl_ui_mouse(ui, p, &m, m.motion.x, m.motion.y, band, 18));
    cr_assert(viz_tl_ui_mouse(ui, p, &up, up.button.x, up.button.y, band, 18));
    cr_assert_not(ui->view.follow);
    cr_assert_eq(viz_tl_ui_frame(ui, p, 1280), 0);
    uint64_t moved = ui->model->t0 - t0, want = 100 * (uint64_t)400000 / (uint64_t)g.plot.w;
    cr_assert(moved + 1000 >= want && moved <= want + 1000, "moved %llu ns, want about %llu",
              (unsigned long long)moved, (unsigned long long)want);
    cr_assert_eq(p->now_ns, US(500), "panning does not move the player");
    /* A click outside the band is not the timeline's. */
    e.button.y = 10;
    cr_assert_not(viz_tl_ui_mouse(ui, p, &e, e.button.x, e.button.y, band, 18));
    viz_tl_ui_free(ui);
    viz_player_free(p);
    vt_free(&f);
}

/* Every input the trace fuzzer kept: the timeline model of the whole file,
 * drawn, and the jumps, whatever the events say (workers out of range,
 * unknown threads, unpaired begins and ends). */
Test(timeline, every_fuzz_corpus_input_builds_and_draws, .timeout = 120)
{
    const char *dir = "tests/fuzz/corpus";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "run from the repository's root (%s)", dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        viz_recording_t *r;
        cr_assert_eq(viz_recording_new(&r), 0);
        al_tracefile_error_t err;
        viz_recording_load(r, path, &err); /* damaged ones keep what came before */
        viz_player_t *p;
        cr_assert_eq(viz_player_new_with(r, 0, 4, &p), 0);
        cr_assert_eq(viz_player_seek_event(p, r->num_events), 0);
        viz_tl_ui_t *ui;
        cr_assert_eq(viz_tl_ui_new(r, &ui), 0);
        ui->view.span_ns = viz_player_end_ns(p) - viz_player_start_ns(p) + 1000;
        cr_assert_eq(viz_tl_ui_frame(ui, p, 800), 0, "%s", path);
        for (unsigned k = 0; k < VIZ_JUMP__COUNT; k++) {
            size_t back = viz_jump_find(r, p->pos, k, -1);
            cr_assert_leq(back, r->num_events);
            cr_assert_eq(viz_player_seek_event(p, viz_jump_find(r, 0, k, 1)), 0);
        }
        viz_scene_t *s = viz_scene_new();
        al_console_snapshot_t *snap = viz_player_snapshot(p);
        viz_scene_opts_t so = {.anim_window_ns = 1000000};
        s->timeline = ui->model;
        viz_scene_build(s, snap, p->motion, &so);
        al_console_snapshot_free(snap);
        char e2[256];
        SDL_Surface *surf = viz_shot_render(s, 800, 600, NULL, NULL, e2, sizeof e2);
        cr_assert(surf, "%s: %s", path, e2);
        SDL_FreeSurface(surf);
        viz_scene_free(s);
        viz_tl_ui_free(ui);
        viz_player_free(p);
        viz_recording_free(r);
        files++;
    }
    closedir(d);
    cr_assert_gt(files, 10);
}
