/*
 * test_panel.c — the console panel and the metrics strip: the task table
 * sorted by each key and by a click on a heading (and reversed by the same
 * again), the selected task kept in view when it sorts past the kept rows,
 * the selected task's details (percentiles, histogram, what it waits on),
 * the metrics strip's samples over time (alive, queued, busy %), and the
 * layout with the panel open from 1920x1080 down to 200x100 and 1x1: inside
 * the window, nothing overlapping, the panel dropped when there is no room.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "viz_layout.h"
#include "viz_panel_layout.h"
#include "viz_panels.h"
#include "viz_test_feed.h"

/* n tasks; task t is polled t times, each poll taking t us (worker 0);
 * task 1 waits on mutex "db" held by task 2 at the end. */
static void tasks(vt_feed_t *f, uint64_t n)
{
    vt_start(f, 2);
    vt_name(f, 1, "db");
    vt_ev(f, 1, AL_EV_RESOURCE_CREATE, -1, 0, 500, AL_RES_MUTEX, 1);
    uint64_t at = 10;
    for (uint64_t t = 1; t <= n; t++)
        vt_spawn(f, at++, -1, t, 0, AL_QUEUE_INJECT);
    for (uint64_t t = 1; t <= n; t++)
        for (uint64_t k = 0; k < t && k < 8; k++) {
            if (k)
                vt_ev(f, at, AL_EV_TASK_SCHEDULE, 0, t, AL_QUEUE_LOCAL, 0, 0);
            vt_ev(f, at, AL_EV_POLL_BEGIN, 0, t, 0, 0, 0);
            at += t;
            vt_ev(f, at, AL_EV_POLL_END, 0, t, AL_POLL_END_PENDING, 100, 0);
            at++;
        }
    vt_ev(f, at, AL_EV_POLL_BEGIN, 1, 2, 0, 0, 0);
    vt_ev(f, at + 1, AL_EV_LOCK_ACQUIRE, 1, 2, 500, 0, 0);
    vt_ev(f, at + 2, AL_EV_POLL_END, 1, 2, AL_POLL_END_PENDING, 100, 0);
    vt_ev(f, at + 3, AL_EV_TASK_SCHEDULE, 1, 1, AL_QUEUE_LOCAL, 0, 0);
    vt_ev(f, at + 4, AL_EV_POLL_BEGIN, 1, 1, 0, 0, 0);
    vt_ev(f, at + 5, AL_EV_LOCK_CONTEND, 1, 1, 500, 2, 0);
    vt_ev(f, at + 6, AL_EV_POLL_END, 1, 1, AL_POLL_END_PENDING, 100, 0);
    vt_ev(f, 100000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
}

/* The scene at at_us with the panel built (viz_panels_update). */
static viz_scene_t *with_panel(vt_feed_t *f, viz_panels_t **v, uint64_t at_us)
{
    viz_scene_t *s = vt_scene_at(f, at_us, 0);
    if (!*v)
        *v = viz_panels_new(f->rec);
    cr_assert(*v);
    al_console_snapshot_t *snap = viz_player_snapshot(f->player);
    cr_assert_eq(viz_panels_update(*v, s, f->player, snap), 0);
    al_console_snapshot_free(snap);
    return s;
}

Test(panel, sort_by_keys_and_headings)
{
    vt_feed_t f;
    viz_panels_t *v = NULL;
    tasks(&f, 10);
    viz_scene_t *s = vt_scene_at(&f, 100000, 0);
    s->view.panel.open = true;
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->panel.tasks_total, 10);
    cr_assert_eq(s->panel.num_rows, 10);
    cr_assert_eq(s->panel.rows[0].id, 1, "by id at first");

    cr_assert(viz_panels_key(&s->view, '2'), "2: polls");
    cr_assert_eq(s->view.panel.sort, VIZ_COL_POLLS);
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->panel.rows[0].polls, 8, "most polls first");
    cr_assert_eq(s->panel.rows[9].polls, 2, "task 1: one poll, then one more waiting for db");
    for (uint32_t i = 1; i < s->panel.num_rows; i++)
        cr_assert_geq(s->panel.rows[i - 1].polls, s->panel.rows[i].polls);
    viz_panels_key(&s->view, '2');
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->panel.rows[0].polls, 2, "the same key again: fewest first");

    viz_panels_key(&s->view, '4');
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->view.panel.sort, VIZ_COL_BUSY);
    cr_assert_eq(s->panel.rows[0].id, 10, "busiest: 8 polls of 10 us");
    cr_assert_eq(s->panel.rows[0].busy_ns, 80000);

    /* A click on the "idle" heading of the open panel. */
    viz_layout_t l;
    viz_layout_compute(&l, s, 1280, 800);
    cr_assert(!viz_rect_empty(l.panel.area));
    viz_rect_t head = l.panel.col[VIZ_COL_IDLE];
    viz_hit_t h = viz_layout_hit(&l, s, head.x + head.w / 2, head.y + head.h / 2);
    cr_assert_eq(h.kind, VIZ_HIT_PANEL_HEAD);
    cr_assert_eq(h.id, VIZ_COL_IDLE);
    viz_select_hit(s, h);
    cr_assert_eq(s->view.panel.sort, VIZ_COL_IDLE);
    /* A click on a row selects its task. */
    s = with_panel(&f, &v, 100000);
    viz_layout_compute(&l, s, 1280, 800);
    cr_assert_gt(l.panel.rows, 3);
    viz_rect_t row = viz_panel_row_rect(&l.panel, 3);
    h = viz_layout_hit(&l, s, row.x + 5, row.y + row.h / 2);
    cr_assert_eq(h.kind, VIZ_HIT_TASK);
    cr_assert_eq(h.id, s->panel.rows[3].id);
    viz_panels_free(v);
    vt_free(&f);
}

Test(panel, the_selected_task_stays_in_view)
{
    vt_feed_t f;
    viz_panels_t *v = NULL;
    tasks(&f, 100);
    viz_scene_t *s = vt_scene_at(&f, 100000, 0);
    s->view.sel = (viz_selection_t){.kind = VIZ_SEL_TASK, .id = 90};
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->panel.num_rows, 0, "no table while the panel is closed");
    s->view.panel.open = true;
    s = with_panel(&f, &v, 100000);
    cr_assert_eq(s->panel.tasks_total, 100);
    cr_assert_eq(s->panel.num_rows, VIZ_PANEL_ROWS);
    cr_assert_eq(viz_panel_row_of(&s->panel, 90), VIZ_PANEL_ROWS - 1, "in the last row");
    cr_assert_eq(viz_panel_row_of(&s->panel, 64), -1, "which it took");
    viz_panels_free(v);
    vt_free(&f);
}

Test(panel, details_of_the_selected_task)
{
    vt_feed_t f;
    viz_panels_t *v = NULL;
    tasks(&f, 8);
    viz_scene_t *s = vt_scene_at(&f, 100000, 0);
    s->view.sel = (viz_selection_t){.kind = VIZ_SEL_TASK, .id = 8};
    s = with_panel(&f, &v, 100000);
    const viz_panel_details_t *d = &s->panel.details;
    cr_assert_eq(d->kind, VIZ_SEL_TASK);
    cr_assert(strstr(d->title, "task 8"), "%s", d->title);
    cr_assert(d->have_hist);
    cr_assert_eq(d->poll.count, 8, "8 polls in the histogram");
    uint64_t bars = 0;
    for (int i = 0; i < VIZ_PANEL_HIST; i++)
        bars += d->poll.bars[i];
    cr_assert_eq(bars, 8, "every poll in a bar");
    cr_assert_eq(d->poll.max, 8000, "8 us each");
    cr_assert_geq(d->poll.p50, 8000);
    cr_assert_leq(d->poll.p99, d->poll.max);
    cr_assert_eq(d->traceback[0], 0, "no traceback in this recording");

    /* Task 1 waits on "db", held by task 2. */
    s->view.sel.id = 1;
    s = with_panel(&f, &v, 100000);
    bool waits = false;
    for (uint32_t i = 0; i < s->panel.details.num_lines; i++)
        waits |=
            strstr(s->panel.details.lines[i], "waits on mutex 500 \"db\", held by task 2") != NULL;
    cr_assert(waits, "the details say what it waits on");

    /* A worker and a resource have details too. */
    s->view.sel = (viz_selection_t){.kind = VIZ_SEL_RESOURCE, .id = 500};
    s = with_panel(&f, &v, 100000);
    cr_assert(strstr(s->panel.details.title, "\"db\""), "%s", s->panel.details.title);
    cr_assert_str_eq(s->panel.details.lines[0], "held by task 2 (1 holding)");
    s->view.sel = (viz_selection_t){.kind = VIZ_SEL_WORKER, .id = 0};
    s = with_panel(&f, &v, 100000);
    cr_assert_str_eq(s->panel.details.title, "worker 0");
    viz_panels_free(v);
    vt_free(&f);
}

Test(panel, metrics_strip_over_time)
{
    vt_feed_t f;
    viz_panels_t *v = NULL;
    vt_start(&f, 2);
    /* 4 tasks spawned into worker 0's queue at 0.15 ms; worker 0 polls one
     * from 1 ms to 6 ms (busy); all end at 8 ms. The recording lasts 25.6 ms:
     * buckets of 100 us. */
    for (uint64_t t = 1; t <= 4; t++)
        vt_spawn(&f, 150, 0, t, 0, AL_QUEUE_LOCAL);
    vt_ev(&f, 1000, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_ev(&f, 6000, AL_EV_POLL_END, 0, 1, AL_POLL_END_READY, 100, 0);
    for (uint64_t t = 1; t <= 4; t++)
        vt_ev(&f, 8000, AL_EV_TASK_END, -1, t, AL_JOIN_CANCELLED, 0, 0);
    vt_ev(&f, 25600, AL_EV_USER_LOG, -1, 0, 0, 0, 0);

    viz_scene_t *s = with_panel(&f, &v, 500);
    const viz_metrics_strip_t *m = &s->metrics;
    cr_assert_eq(m->bucket_ns, 100000, "bucket %lu", (unsigned long)m->bucket_ns);
    cr_assert_eq(m->n, 5, "samples up to now only (%u)", m->n);
    cr_assert_eq(m->alive_now, 4);
    cr_assert_eq(m->queued_now, 4);
    cr_assert_eq(m->alive[0], 0, "nothing before 0.15 ms");

    s = with_panel(&f, &v, 10000);
    m = &s->metrics;
    cr_assert_eq(m->n, 100);
    cr_assert_eq(m->alive_max, 4);
    cr_assert_eq(m->alive_now, 0, "all ended");
    cr_assert_eq(m->queued[20], 3, "one taken out to be polled");
    cr_assert_float_eq(m->busy[30], 50.0f, 0.5f, "one of two workers busy: %f", m->busy[30]);
    cr_assert_float_eq(m->busy[70], 0.0f, 0.01f);
    /* Back in time: fewer samples, the same values. */
    s = with_panel(&f, &v, 2000);
    cr_assert_eq(s->metrics.n, 20);
    cr_assert_float_eq(s->metrics.busy[15], 50.0f, 0.5f);
    viz_panels_free(v);
    vt_free(&f);
}

static void check_apart(const viz_layout_t *l, int w, int h)
{
    viz_rect_t win = {0, 0, w, h};
    viz_rect_t parts[] = {l->header,  l->lanes,      l->side,  l->footer,
                          l->metrics, l->panel.area, l->inject};
    int n = sizeof parts / sizeof parts[0];
    for (int i = 0; i < n; i++) {
        if (viz_rect_empty(parts[i]))
            continue;
        cr_assert(viz_rect_inside(parts[i], win), "%dx%d: part %d outside", w, h, i);
        for (int j = i + 1; j < n; j++) {
            /* the side panel holds the inject queue when shown */
            if ((i == 2 && j == 6) || (i == 6 && j == 2))
                continue;
            cr_assert(!viz_rect_overlap(parts[i], parts[j]), "%dx%d: parts %d and %d overlap", w, h,
                      i, j);
        }
    }
    if (!viz_rect_empty(l->panel.area)) {
        viz_rect_t in[] = {l->panel.head, l->panel.table, l->panel.lints, l->panel.details};
        for (int i = 0; i < 4; i++)
            cr_assert(viz_rect_empty(in[i]) || viz_rect_inside(in[i], l->panel.area),
                      "%dx%d: panel part %d outside the panel", w, h, i);
        for (uint32_t r = 0; r < l->panel.rows; r++)
            cr_assert(viz_rect_inside(viz_panel_row_rect(&l->panel, r), l->panel.table));
        cr_assert(!viz_rect_overlap(l->panel.table, l->panel.lints));
        cr_assert(!viz_rect_overlap(l->panel.lints, l->panel.details));
    }
    for (uint32_t i = 0; i < l->num_lanes; i++)
        if (!viz_rect_empty(l->lane[i].lane)) {
            cr_assert(viz_rect_inside(l->lane[i].lane, l->lanes));
            cr_assert(!viz_rect_overlap(l->lane[i].lane, l->panel.area));
            cr_assert(!viz_rect_overlap(l->lane[i].lane, l->metrics));
        }
}

Test(panel, layout_with_the_panel_open_at_every_size)
{
    vt_feed_t f;
    viz_panels_t *v = NULL;
    tasks(&f, 30);
    viz_scene_t *s = vt_scene_at(&f, 100000, 0);
    cr_assert(viz_panels_key(&s->view, '\t'), "Tab opens the panel");
    cr_assert(s->view.panel.open);
    s = with_panel(&f, &v, 100000);
    viz_layout_t l;
    static const int sizes[][2] = {{1920, 1080}, {1280, 800}, {1024, 600}, {800, 600}, {640, 360},
                                   {500, 300},   {300, 200},  {200, 100},  {120, 80},  {1, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        viz_layout_compute(&l, s, sizes[i][0], sizes[i][1]);
        check_apart(&l, sizes[i][0], sizes[i][1]);
    }
    viz_layout_compute(&l, s, 1280, 800);
    cr_assert(!viz_rect_empty(l.panel.area), "room for the panel at 1280x800");
    cr_assert(!viz_rect_empty(l.metrics), "and the strip (2 workers)");
    cr_assert_gt(l.panel.rows, 5);
    viz_layout_compute(&l, s, 200, 100);
    cr_assert(viz_rect_empty(l.panel.area), "no room at 200x100: dropped, not squeezed");
    cr_assert(viz_rect_empty(l.metrics));
    cr_assert(!viz_rect_empty(l.lane[0].lane), "the lanes are still drawn");
    viz_panels_key(&s->view, '\t');
    s = with_panel(&f, &v, 100000);
    viz_layout_compute(&l, s, 1280, 800);
    cr_assert(viz_rect_empty(l.panel.area), "Tab again closes it");
    viz_panels_free(v);
    vt_free(&f);
}

Test(panel, a_task_traceback_from_the_detail_text)
{
    vt_feed_t f;
    tasks(&f, 3);
    viz_scene_t *s = vt_scene_at(&f, 100000, 0);
    al_console_snapshot_t *snap = viz_player_snapshot(f.player);
    cr_assert(al_console_snapshot_set_detail(snap, 2, "stack traceback:\n\tfetch.lua:12: in f"));
    viz_selection_t sel = {.kind = VIZ_SEL_TASK, .id = 2};
    viz_panel_build(&s->panel, snap, NULL, NULL, 0, &s->view.panel, &sel);
    cr_assert_str_eq(s->panel.details.traceback, "stack traceback:\n\tfetch.lua:12: in f");
    sel.id = 3;
    viz_panel_build(&s->panel, snap, NULL, NULL, 0, &s->view.panel, &sel);
    cr_assert_eq(s->panel.details.traceback[0], 0, "task 3 has none");
    al_console_snapshot_free(snap);
    vt_free(&f);
}
