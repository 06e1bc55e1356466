/*
 * test_select.c — selection by "clicking" (viz_layout_hit at a point of the
 * laid-out window): a task chip, a worker lane, a resource, a panel row and
 * a panel heading; what the selection highlights on the floor and in the
 * panel; following a task as it is stolen from one worker to the other.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "viz_layout.h"
#include "viz_panels.h"
#include "viz_test_feed.h"

enum { S_MOVER = 1, S_SLEEPY, S_DB, S_HOLDER, S_WAITER };

/* Worker 0 polls "sleepy" with "mover" queued behind it; "holder" holds
 * mutex "db", "waiter" waits for it. At 500 us worker 1 steals "mover"
 * and polls it. */
static void world(vt_feed_t *f)
{
    vt_start(f, 2);
    vt_name(f, S_MOVER, "mover");
    vt_name(f, S_SLEEPY, "sleepy");
    vt_name(f, S_DB, "db");
    vt_name(f, S_HOLDER, "holder");
    vt_name(f, S_WAITER, "waiter");
    vt_ev(f, 1, AL_EV_RESOURCE_CREATE, -1, 0, 100, AL_RES_MUTEX, S_DB);
    vt_spawn(f, 10, -1, 3, S_HOLDER, AL_QUEUE_INJECT);
    vt_spawn(f, 11, -1, 4, S_WAITER, AL_QUEUE_INJECT);
    vt_ev(f, 20, AL_EV_POLL_BEGIN, 1, 3, 0, 0, 0);
    vt_ev(f, 21, AL_EV_LOCK_ACQUIRE, 1, 3, 100, 0, 0);
    vt_ev(f, 22, AL_EV_POLL_END, 1, 3, AL_POLL_END_PENDING, 100, 0);
    vt_ev(f, 23, AL_EV_POLL_BEGIN, 1, 4, 0, 0, 0);
    vt_ev(f, 24, AL_EV_LOCK_CONTEND, 1, 4, 100, 3, 0);
    vt_ev(f, 25, AL_EV_POLL_END, 1, 4, AL_POLL_END_PENDING, 100, 0);
    vt_spawn(f, 30, 0, 1, S_SLEEPY, AL_QUEUE_LOCAL);
    vt_ev(f, 40, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_spawn(f, 50, 0, 2, S_MOVER, AL_QUEUE_LOCAL);
    vt_ev(f, 60, AL_EV_PARK, 1, 0, 0, 0, 0);
    vt_ev(f, 500, AL_EV_UNPARK, 1, 0, 0, 0, 0);
    vt_ev(f, 501, AL_EV_STEAL, 1, 0, 0, 1, 0);
    vt_ev(f, 502, AL_EV_POLL_BEGIN, 1, 2, 0, 0, 0);
    vt_ev(f, 2000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
}

static viz_point_t center(viz_rect_t r)
{
    return (viz_point_t){r.x + r.w / 2, r.y + r.h / 2};
}

/* Click at the centre of r: the scene's selection follows. */
static viz_hit_t click(viz_scene_t *s, const viz_layout_t *l, viz_rect_t r)
{
    viz_point_t p = center(r);
    viz_hit_t h = viz_layout_hit(l, s, p.x, p.y);
    viz_select_hit(s, h);
    return h;
}

Test(select, click_a_queued_chip_highlights_the_task_everywhere)
{
    vt_feed_t f;
    world(&f);
    viz_scene_t *s = vt_scene_at(&f, 100, 0);
    viz_layout_t l;
    viz_layout_compute(&l, s, 1280, 800);
    const viz_lane_t *w0 = viz_scene_lane(s, 0);
    cr_assert_eq(w0->queue_kept, 1);
    cr_assert_str_eq(w0->queue[0].label, "mover");
    viz_hit_t h = click(s, &l, viz_layout_lane_chip(&l, 0, 0));
    cr_assert_eq(h.kind, VIZ_HIT_TASK);
    cr_assert_eq(h.id, 2);
    cr_assert_eq(s->view.sel.kind, VIZ_SEL_TASK);
    cr_assert_eq(s->view.sel.id, 2);

    s = vt_scene_at(&f, 100, 0); /* the selection is kept across rebuilds */
    cr_assert(s->hl.found);
    cr_assert(viz_scene_task_highlighted(s, 2));
    cr_assert(!viz_scene_task_highlighted(s, 1));
    cr_assert(viz_scene_lane_highlighted(s, 0), "its lane: it is queued there");
    cr_assert(!viz_scene_lane_highlighted(s, 1));
    cr_assert_str_eq(s->hl.where, "queued at worker 0");
    /* Its rectangles: the queue chip. */
    viz_layout_compute(&l, s, 1280, 800);
    viz_rect_t at[4];
    cr_assert_eq(viz_layout_task_rects(&l, s, 2, at, 4), 1);
    cr_assert_eq(at[0].x, viz_layout_lane_chip(&l, 0, 0).x);
    vt_free(&f);
}

Test(select, click_the_polled_task_a_lane_a_resource_and_nothing)
{
    vt_feed_t f;
    world(&f);
    viz_scene_t *s = vt_scene_at(&f, 100, 0);
    viz_layout_t l;
    viz_layout_compute(&l, s, 1280, 800);

    viz_hit_t h = click(s, &l, l.lane[0].task);
    cr_assert_eq(h.kind, VIZ_HIT_TASK);
    cr_assert_eq(h.id, 1, "the task box holds sleepy");

    h = click(s, &l, l.lane[1].label);
    cr_assert_eq(h.kind, VIZ_HIT_WORKER);
    cr_assert_eq(h.id, 1);
    s = vt_scene_at(&f, 100, 0);
    cr_assert(viz_scene_lane_highlighted(s, 1));
    cr_assert(!viz_scene_lane_highlighted(s, 0));

    viz_layout_compute(&l, s, 1280, 800);
    cr_assert_eq(l.num_resources, 1);
    viz_rect_t title = {l.resource[0].x + 2, l.resource[0].y + 2, 40, 8};
    h = click(s, &l, title);
    cr_assert_eq(h.kind, VIZ_HIT_RESOURCE);
    cr_assert_eq(h.id, 100);
    s = vt_scene_at(&f, 100, 0);
    cr_assert(viz_scene_resource_highlighted(s, 100));
    cr_assert(viz_scene_task_highlighted(s, 3), "its holder");
    cr_assert(viz_scene_task_highlighted(s, 4), "its waiter");

    /* The waiter's chip inside the resource selects the waiter, which
     * highlights the resource it waits on. */
    viz_layout_compute(&l, s, 1280, 800);
    h = click(s, &l, viz_layout_resource_chip(&l, s, 0, 1));
    cr_assert_eq(h.kind, VIZ_HIT_TASK);
    cr_assert_eq(h.id, 4);
    s = vt_scene_at(&f, 100, 0);
    cr_assert(viz_scene_resource_highlighted(s, 100));
    cr_assert_str_eq(s->hl.where, "idle, waiting to be woken");

    /* Empty floor clears the selection. */
    viz_layout_compute(&l, s, 1280, 800);
    h = click(s, &l, (viz_rect_t){l.lanes.x + 5, l.lanes.y + l.lanes.h - 5, 1, 1});
    cr_assert_eq(h.kind, VIZ_HIT_NONE);
    cr_assert_eq(s->view.sel.kind, VIZ_SEL_NONE);
    s = vt_scene_at(&f, 100, 0);
    cr_assert(!s->hl.found);
    cr_assert(!viz_scene_resource_highlighted(s, 100));
    vt_free(&f);
}

Test(select, follow_a_task_from_victim_to_thief)
{
    vt_feed_t f;
    world(&f);
    viz_scene_t *s = vt_scene_at(&f, 100, 0);
    cr_assert(viz_select_parse("task:2", &s->view.sel));
    cr_assert(viz_panels_key(&s->view, 'f'), "F turns following on");
    cr_assert(s->view.sel.follow);
    s = vt_scene_at(&f, 100, 0);
    cr_assert_eq(s->hl.follow_lane, 0, "queued at worker 0");
    s = vt_scene_at(&f, 600, 0);
    cr_assert_eq(s->hl.follow_lane, 1, "stolen and polled by worker 1");
    cr_assert_str_eq(s->hl.where, "polled by worker 1");
    cr_assert(viz_scene_lane_highlighted(s, 1));
    cr_assert(!viz_scene_lane_highlighted(s, 0));
    cr_assert(viz_panels_key(&s->view, 'f'));
    s = vt_scene_at(&f, 600, 0);
    cr_assert_eq(s->hl.follow_lane, -1, "following is off");
    vt_free(&f);
}

Test(select, parse_selections)
{
    viz_selection_t sel = {0};
    cr_assert(viz_select_parse("worker:3", &sel));
    cr_assert_eq(sel.kind, VIZ_SEL_WORKER);
    cr_assert_eq(sel.id, 3);
    cr_assert(viz_select_parse("resource:12", &sel));
    cr_assert_eq(sel.kind, VIZ_SEL_RESOURCE);
    cr_assert(!viz_select_parse("task:", &sel));
    cr_assert(!viz_select_parse("task:1x", &sel));
    cr_assert(!viz_select_parse("lane:1", &sel));
    cr_assert_eq(sel.kind, VIZ_SEL_RESOURCE, "a bad one leaves the selection alone");
}
