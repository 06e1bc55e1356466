/*
 * test_deadlock.c — the scene reports a deadlock cycle: from hand-built
 * events (two tasks, two async mutexes, each holding what the other waits
 * for; a three-task cycle; a plain wait that is not a cycle) and from a real
 * lock-order deadlock recorded on a 2-worker runtime (viz_test_deadlock.h),
 * where the lint engine's finding shows in the console panel too; and the
 * loop is drawn in red over the resources.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "viz_palette.h"
#include "viz_panels.h"
#include "viz_shot.h"
#include "viz_test_deadlock.h"
#include "viz_test_feed.h"

enum { S_A = 1, S_B, S_C, S_X, S_Y, S_Z };

/* Task t (on worker w) takes mutex res, at time at_us. */
static void take(vt_feed_t *f, uint64_t at_us, int w, uint64_t t, uint64_t res)
{
    vt_ev(f, at_us, AL_EV_POLL_BEGIN, w, t, 0, 0, 0);
    vt_ev(f, at_us + 1, AL_EV_LOCK_ACQUIRE, w, t, res, 0, 0);
    vt_ev(f, at_us + 2, AL_EV_POLL_END, w, t, AL_POLL_END_PENDING, 100, 0);
}

/* Task t waits for mutex res, held by holder. */
static void wait_for(vt_feed_t *f, uint64_t at_us, int w, uint64_t t, uint64_t res, uint64_t holder)
{
    vt_ev(f, at_us, AL_EV_POLL_BEGIN, w, t, 0, 0, 0);
    vt_ev(f, at_us + 1, AL_EV_LOCK_CONTEND, w, t, res, holder, 0);
    vt_ev(f, at_us + 2, AL_EV_POLL_END, w, t, AL_POLL_END_PENDING, 100, 0);
}

/* a holds x and waits for y; b holds y and waits for x (cycle = true), or
 * b holds y and waits for nothing (cycle = false). */
static void two_tasks(vt_feed_t *f, bool cycle)
{
    vt_start(f, 2);
    vt_name(f, S_A, "alpha");
    vt_name(f, S_B, "beta");
    vt_name(f, S_X, "x");
    vt_name(f, S_Y, "y");
    vt_ev(f, 1, AL_EV_RESOURCE_CREATE, -1, 0, 100, AL_RES_MUTEX, S_X);
    vt_ev(f, 2, AL_EV_RESOURCE_CREATE, -1, 0, 101, AL_RES_MUTEX, S_Y);
    vt_spawn(f, 10, -1, 1, S_A, AL_QUEUE_INJECT);
    vt_spawn(f, 11, -1, 2, S_B, AL_QUEUE_INJECT);
    take(f, 20, 0, 1, 100);
    take(f, 30, 1, 2, 101);
    vt_ev(f, 35, AL_EV_WAKE, 0, 1, 0, VT_WAKE(AL_WAKE_TIMER, 0, 0), 0);
    vt_ev(f, 35, AL_EV_TASK_SCHEDULE, 0, 1, AL_QUEUE_LOCAL, 0, 0);
    wait_for(f, 40, 0, 1, 101, 2);
    if (cycle) {
        vt_ev(f, 45, AL_EV_WAKE, 1, 2, 0, VT_WAKE(AL_WAKE_TIMER, 0, 0), 0);
        vt_ev(f, 45, AL_EV_TASK_SCHEDULE, 1, 2, AL_QUEUE_LOCAL, 0, 0);
        wait_for(f, 50, 1, 2, 100, 1);
    }
    vt_ev(f, 1000, AL_EV_USER_LOG, -1, 0, 0, 0, 0);
}

Test(deadlock, two_tasks_two_mutexes)
{
    vt_feed_t f;
    two_tasks(&f, true);
    viz_scene_t *s = vt_scene_at(&f, 1000, 0);
    cr_assert_eq(s->deadlock.len, 2, "len %u", s->deadlock.len);
    cr_assert_eq(s->deadlock.tasks[0], 1, "reported from the smallest id");
    cr_assert_eq(s->deadlock.resources[0], 101, "alpha waits for y");
    cr_assert_eq(s->deadlock.tasks[1], 2);
    cr_assert_eq(s->deadlock.resources[1], 100, "beta waits for x");
    cr_assert(viz_deadlock_has_task(&s->deadlock, 2));
    cr_assert(viz_deadlock_has_resource(&s->deadlock, 100));
    cr_assert(!viz_deadlock_has_resource(&s->deadlock, 7));
    cr_assert(strstr(s->deadlock.text, "alpha waits for mutex 101 \"y\" (held by beta)"), "%s",
              s->deadlock.text);
    cr_assert(strstr(s->deadlock.edge[1], "beta waits for mutex 100 \"x\" (held by alpha)"), "%s",
              s->deadlock.edge[1]);
    /* Before beta waits there is no cycle yet. */
    s = vt_scene_at(&f, 45, 0);
    cr_assert_eq(s->deadlock.len, 0);
    vt_free(&f);
}

Test(deadlock, a_wait_that_is_not_a_cycle)
{
    vt_feed_t f;
    two_tasks(&f, false);
    viz_scene_t *s = vt_scene_at(&f, 1000, 0);
    cr_assert_eq(s->deadlock.len, 0);
    cr_assert(!s->deadlock.longer);
    cr_assert_eq(s->deadlock.text[0], 0);
    vt_free(&f);
}

Test(deadlock, three_tasks_in_a_ring)
{
    vt_feed_t f;
    vt_start(&f, 2);
    vt_name(&f, S_A, "a");
    vt_name(&f, S_B, "b");
    vt_name(&f, S_C, "c");
    for (uint64_t t = 1; t <= 3; t++) {
        vt_ev(&f, t, AL_EV_RESOURCE_CREATE, -1, 0, 100 + t, AL_RES_MUTEX, 0);
        vt_spawn(&f, 10 + t, -1, t, (uint32_t)(S_A + t - 1), AL_QUEUE_INJECT);
    }
    for (uint64_t t = 1; t <= 3; t++) /* task t holds lock 100 + t */
        take(&f, 20 + 10 * t, 0, t, 100 + t);
    for (uint64_t t = 1; t <= 3; t++) { /* ... and waits for the next one's */
        uint64_t next = t % 3 + 1;
        vt_ev(&f, 100 + 10 * t, AL_EV_TASK_SCHEDULE, 0, t, AL_QUEUE_LOCAL, 0, 0);
        wait_for(&f, 102 + 10 * t, 0, t, 100 + next, next);
    }
    viz_scene_t *s = vt_scene_at(&f, 200, 0);
    cr_assert_eq(s->deadlock.len, 3);
    cr_assert_eq(s->deadlock.tasks[0], 1);
    cr_assert_eq(s->deadlock.tasks[1], 2);
    cr_assert_eq(s->deadlock.tasks[2], 3);
    cr_assert_eq(s->deadlock.resources[2], 101, "c waits for a's lock");
    vt_free(&f);
}

/* ---- a real lock-order deadlock ---- */

static char dl_path[64];

static void record(void)
{
    vt_temp_trace(dl_path, sizeof dl_path, "deadlock");
    cr_assert_eq(viz_deadlock_record(dl_path), 0);
}

static void cleanup(void)
{
    unlink(dl_path);
}

Test(deadlock, recorded_lock_order_deadlock, .init = record, .fini = cleanup, .timeout = 60)
{
    viz_recording_t *rec = vt_load(dl_path);
    /* The moment both wait: each has contended for its second lock and its
     * poll has ended (not a fixed delay after the contention: a preempted
     * worker may end that poll much later). */
    uint64_t both = 0, waiter[2] = {0, 0};
    int contends = 0, ended = 0;
    for (size_t i = 0; i < rec->num_events && !both; i++) {
        const al_trace_event_t *ev = &rec->events[i];
        if (ev->kind == AL_EV_LOCK_CONTEND && contends < 2)
            waiter[contends++] = ev->task;
        else if (ev->kind == AL_EV_POLL_END && ev->task &&
                 (ev->task == waiter[0] || ev->task == waiter[1]) && ++ended == 2)
            both = ev->ts_ns;
    }
    cr_assert_eq(contends, 2, "both tasks wait for a lock");
    cr_assert_neq(both, 0, "both polls end after the contention");
    viz_player_t *p;
    cr_assert_eq(viz_player_new(rec, &p), 0);
    cr_assert_eq(viz_player_seek_ns(p, both + 1000), 0);
    al_console_snapshot_t *snap = viz_player_snapshot(p);
    viz_scene_t *s = viz_scene_new();
    viz_scene_opts_t o = {0};
    viz_scene_build(s, snap, p->motion, &o);
    viz_panels_t *v = viz_panels_new(rec);
    cr_assert(v);
    cr_assert_eq(viz_panels_update(v, s, p, snap), 0);
    al_console_snapshot_free(snap);

    cr_assert_eq(s->deadlock.len, 2, "%s", s->deadlock.text);
    cr_assert(strstr(s->deadlock.text, "transfer waits for mutex"), "%s", s->deadlock.text);
    cr_assert(strstr(s->deadlock.text, "\"audit\" (held by report)"), "%s", s->deadlock.text);
    cr_assert(strstr(s->deadlock.text, "report waits for mutex"), "%s", s->deadlock.text);
    cr_assert(strstr(s->deadlock.text, "\"accounts\" (held by transfer)"), "%s", s->deadlock.text);
    /* The lint engine found it too: the panel lists the finding. */
    cr_assert_geq(s->panel.num_lints, 1);
    cr_assert_eq(s->panel.lints[0].lint, AL_LINT_DEADLOCK, "the deadlock lint, first");
    cr_assert(s->panel.lints[0].now, "firing now: both still wait");
    cr_assert_geq(s->panel.lints_now, 1);

    /* Drawn: the waiter chips inside the resources are framed in red. */
    viz_layout_t l;
    char e[256];
    SDL_Surface *surf = viz_shot_render(s, 1280, 800, NULL, &l, e, sizeof e);
    cr_assert(surf, "%s", e);
    cr_assert_eq(l.num_resources, 2);
    viz_rect_t chip = viz_layout_resource_chip(&l, s, 0, 1);
    cr_assert(!viz_rect_empty(chip));
    const uint8_t *px = surf->pixels;
    viz_color_t red = VIZ_BLOCKED;
    int reds = 0;
    for (int x = chip.x - 3; x < chip.x + chip.w + 3; x++) {
        const uint8_t *q = px + (size_t)(chip.y - 2) * (size_t)surf->pitch + 4 * (size_t)x;
        reds += abs(q[0] - red.r) < 8 && abs(q[1] - red.g) < 8 && abs(q[2] - red.b) < 8;
    }
    cr_assert_gt(reds, chip.w / 2, "the frame above the waiter chip is red (%d px)", reds);
    SDL_FreeSurface(surf);

    /* At the end the runtime has shut down and cancelled both: the finding
     * stays listed, no longer firing. */
    cr_assert_eq(viz_player_seek_ns(p, viz_player_end_ns(p)), 0);
    snap = viz_player_snapshot(p);
    viz_scene_build(s, snap, p->motion, &o);
    cr_assert_eq(viz_panels_update(v, s, p, snap), 0);
    al_console_snapshot_free(snap);
    cr_assert_eq(s->deadlock.len, 0, "no cycle once both are cancelled");
    bool listed = false;
    for (uint32_t i = 0; i < s->panel.num_lints; i++)
        if (s->panel.lints[i].lint == AL_LINT_DEADLOCK) {
            listed = true;
            cr_assert(!s->panel.lints[i].now);
        }
    cr_assert(listed, "fired so far");

    viz_panels_free(v);
    viz_scene_free(s);
    viz_player_free(p);
    viz_recording_free(rec);
}
