/*
 * test_scene.c — the scene model from hand-built event sequences: worker
 * states and their labels, the polled task and its poll time, LIFO slots and
 * queues, idle tasks grouped by what they wait on, resources with holder and
 * waiters, the blocking pool, motions (steals, wakes, polls), and a player
 * that steps back and forth to the same scenes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "viz_test_feed.h"

enum { S_SLEEPER = 1, S_HEARTBEAT, S_DB, S_WRITER, S_READER, S_CACHE };

/* Worker 1 blocked in a thread sleep with the heartbeat queued behind it;
 * worker 0 parked in the driver; a writer holds mutex "db" and sleeps on a
 * timer, a reader waits for the mutex. */
static void hang_scenario(vt_feed_t *f)
{
    vt_start(f, 2);
    vt_name(f, S_SLEEPER, "sleeper");
    vt_name(f, S_HEARTBEAT, "heartbeat");
    vt_name(f, S_DB, "db");
    vt_name(f, S_WRITER, "writer");
    vt_name(f, S_READER, "reader");
    vt_ev(f, 10, AL_EV_RUNTIME_START, -1, 0, 2, 0, 0);
    vt_spawn(f, 20, -1, 1, S_SLEEPER, AL_QUEUE_INJECT);
    vt_spawn(f, 21, -1, 2, S_HEARTBEAT, AL_QUEUE_INJECT);
    vt_spawn(f, 22, -1, 4, S_WRITER, AL_QUEUE_INJECT);
    vt_spawn(f, 23, -1, 5, S_READER, AL_QUEUE_INJECT);
    vt_ev(f, 30, AL_EV_RESOURCE_CREATE, -1, 0, 100, AL_RES_MUTEX, S_DB);
    vt_ev(f, 40, AL_EV_POLL_BEGIN, 1, 1, 0, 0, 0);
    vt_ev(f, 42, AL_EV_WAKE, 1, 2, 1, VT_WAKE(AL_WAKE_TASK, 0, 1), 0);
    vt_ev(f, 42, AL_EV_TASK_SCHEDULE, 1, 2, AL_QUEUE_LOCAL, 0, 0);
    vt_ev(f, 50, AL_EV_BLOCK_BEGIN, 1, 1, AL_BLOCK_THREAD_SLEEP, 500, 0);
    vt_ev(f, 52, AL_EV_POLL_BEGIN, 0, 4, 0, 0, 0);
    vt_ev(f, 53, AL_EV_LOCK_ACQUIRE, 0, 4, 100, 0, 0);
    vt_ev(f, 54, AL_EV_TIMER_REGISTER, 0, 4, 9, VT_BASE_NS + 10000000, 0);
    vt_ev(f, 55, AL_EV_POLL_END, 0, 4, AL_POLL_END_PENDING, 100, 0);
    vt_ev(f, 56, AL_EV_POLL_BEGIN, 0, 5, 0, 0, 0);
    vt_ev(f, 57, AL_EV_LOCK_CONTEND, 0, 5, 100, 4, 0);
    vt_ev(f, 58, AL_EV_POLL_END, 0, 5, AL_POLL_END_PENDING, 120, 0);
    vt_ev(f, 60, AL_EV_PARK, 0, 0, 1, 0, 0);
    vt_ev(f, 1000, AL_EV_USER_LOG, -1, 0, 0, 0, 0); /* the recording goes on */
}

Test(scene, blocked_worker_and_what_waits)
{
    vt_feed_t f;
    hang_scenario(&f);
    viz_scene_t *s = vt_scene_at(&f, 1000, 0);
    cr_assert_eq(s->num_workers, 2);
    cr_assert_eq(s->num_lanes, 2);

    const viz_lane_t *w1 = viz_scene_lane(s, 1);
    cr_assert_eq(w1->state, AL_WORKER_BLOCKED);
    cr_assert(w1->alert);
    cr_assert_str_eq(w1->state_label, "blocked: std.thread.sleep 500 ms");
    cr_assert_str_eq(w1->state_short, "blocked: sleep 500 ms");
    cr_assert_eq(w1->state_for_ns, 950000);
    cr_assert_str_eq(w1->task.label, "sleeper");
    cr_assert_eq(w1->poll_ns, 960000, "poll time %lu", (unsigned long)w1->poll_ns);
    cr_assert(viz_lane_holds(w1, "heartbeat"));
    cr_assert_eq(w1->queue_len, 1);
    cr_assert_eq(w1->lifo.task, 0);

    const viz_lane_t *w0 = viz_scene_lane(s, 0);
    cr_assert_eq(w0->state, AL_WORKER_PARKED_DRIVER);
    cr_assert(w0->dimmed);
    cr_assert(!w0->alert);
    cr_assert_str_eq(w0->state_label, "parked in driver");
    cr_assert_eq(w0->task.task, 0);
    cr_assert_eq(s->driver_worker, 0);
    cr_assert(!s->all_blocked, "worker 0 is parked, not blocked");
    cr_assert_null(viz_scene_lane(s, 2));

    /* Idle tasks by what they wait on. */
    cr_assert_eq(s->idle_tasks, 2);
    const viz_group_t *g = viz_scene_group(s, "\"db\"");
    cr_assert_not_null(g);
    cr_assert_eq(g->kind, VIZ_GROUP_RESOURCE);
    cr_assert_eq(g->count, 1);
    cr_assert(viz_group_holds(g, "reader"));
    g = viz_scene_group(s, "timers");
    cr_assert_not_null(g);
    cr_assert(viz_group_holds(g, "writer"));
    cr_assert_eq(s->pending_timers, 1);
    cr_assert_eq(s->next_timer_in_ns, 9000000);

    /* The mutex: held by the writer, the reader waits. */
    const viz_resource_t *r = viz_scene_resource(s, "mutex 100 \"db\"");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->holder.label, "writer");
    cr_assert_eq(r->waiters, 1);
    cr_assert_eq(r->kept, 1);
    cr_assert_str_eq(r->waiting[0].label, "reader");
    vt_free(&f);
}

Test(scene, text_output_names_what_is_drawn)
{
    vt_feed_t f;
    hang_scenario(&f);
    viz_scene_t *s = vt_scene_at(&f, 1000, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    viz_scene_print(s, out);
    fclose(out);
    cr_assert(strstr(buf, "worker 1  blocked: std.thread.sleep 500 ms for 950.0us  polling "
                          "sleeper for 960.0us  lifo: -  queue (1): heartbeat"),
              "%s", buf);
    cr_assert(strstr(buf, "worker 0  parked in driver"), "%s", buf);
    cr_assert(strstr(buf, "waiting on mutex 100 \"db\" (1): reader"), "%s", buf);
    cr_assert(strstr(buf, "mutex 100 \"db\": held by writer, 1 waiting: reader"), "%s", buf);
    cr_assert(strstr(buf, "driver: 1 timers pending, next in 9.0ms; worker 0 parked in it"), "%s",
              buf);
    free(buf);
    vt_free(&f);
}

Test(scene, every_worker_blocked_is_the_silent_hang)
{
    vt_feed_t f;
    vt_start(&f, 2);
    vt_name(&f, S_CACHE, "cache");
    vt_ev(&f, 5, AL_EV_RESOURCE_CREATE, -1, 0, 7, AL_RES_STD_MUTEX, S_CACHE);
    vt_spawn(&f, 10, -1, 1, 0, AL_QUEUE_INJECT);
    vt_spawn(&f, 10, -1, 2, 0, AL_QUEUE_INJECT);
    vt_ev(&f, 20, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_ev(&f, 21, AL_EV_LOCK_ACQUIRE, 0, 1, 7, 0, 0);
    vt_ev(&f, 22, AL_EV_BLOCK_BEGIN, 0, 1, AL_BLOCK_SPIN, 250, 0);
    vt_ev(&f, 30, AL_EV_POLL_BEGIN, 1, 2, 0, 0, 0);
    vt_ev(&f, 31, AL_EV_LOCK_CONTEND, 1, 2, 7, 1, 0);
    vt_ev(&f, 31, AL_EV_BLOCK_BEGIN, 1, 2, AL_BLOCK_STD_MUTEX, 7, 0);
    viz_scene_t *s = vt_scene_at(&f, 31, 0);
    cr_assert(s->all_blocked);
    cr_assert_str_eq(s->lanes[0].state_label, "blocked: std.hint.spin 250 ms");
    cr_assert_str_eq(s->lanes[1].state_label,
                     "blocked: std.sync.Mutex lock (std mutex 7 \"cache\")");
    cr_assert_str_eq(s->lanes[1].task.label, "task 2", "unnamed tasks are 'task N'");
    const viz_resource_t *r = viz_scene_resource(s, "\"cache\"");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->holder.label, "task 1");
    cr_assert_eq(r->kept, 1, "a blocked waiter is listed too");

    vt_ev(&f, 40, AL_EV_BLOCK_END, 0, 1, AL_BLOCK_SPIN, 0, 0);
    s = vt_scene_at(&f, 40, 0);
    cr_assert(!s->all_blocked);
    cr_assert_eq(s->lanes[0].state, AL_WORKER_RUNNING);
    cr_assert_str_eq(s->lanes[0].state_label, "running");
    vt_free(&f);
}

Test(scene, lifo_and_long_queues)
{
    vt_feed_t f;
    vt_start(&f, 1);
    vt_spawn(&f, 1, -1, 1, 0, AL_QUEUE_INJECT);
    vt_ev(&f, 2, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    for (uint64_t t = 0; t < 300; t++)
        vt_spawn(&f, 10 + t, 0, 100 + t, 0, AL_QUEUE_LIFO); /* each displaces the last */
    viz_scene_t *s = vt_scene_at(&f, 400, 0);
    const viz_lane_t *l = &s->lanes[0];
    cr_assert_eq(l->lifo.task, 399);
    cr_assert_eq(l->queue_len, 299);
    cr_assert_eq(l->queue_kept, VIZ_MAX_CHIPS);
    cr_assert_str_eq(l->queue[0].label, "task 100", "oldest first");
    cr_assert(viz_lane_holds(l, "task 399"), "the LIFO slot counts");
    cr_assert(!viz_lane_holds(l, "task 398"), "beyond the chips kept");
    vt_free(&f);
}

Test(scene, steal_and_overflow_motions)
{
    vt_feed_t f;
    vt_start(&f, 2);
    for (uint64_t t = 1; t <= 10; t++)
        vt_spawn(&f, t, 0, t, 0, AL_QUEUE_LOCAL);
    vt_ev(&f, 100, AL_EV_STEAL, 1, 0, 0, 5, 0);
    vt_ev(&f, 200, AL_EV_USER_LOG, -1, 0, 0, 0, 0); /* the recording goes on */
    viz_scene_t *s = vt_scene_at(&f, 200, 1000);
    cr_assert_eq(s->lanes[0].queue_len, 5);
    cr_assert_eq(s->lanes[1].queue_len, 5);
    cr_assert(viz_lane_holds(&s->lanes[1], "task 1"), "the oldest are stolen");
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_STEAL), 1);
    const viz_scene_motion_t *m = &s->motions[0];
    cr_assert_eq(m->from.kind, VIZ_AT_LANE_QUEUE);
    cr_assert_eq(m->from.index, 0);
    cr_assert_eq(m->to.kind, VIZ_AT_LANE_QUEUE);
    cr_assert_eq(m->to.index, 1);
    cr_assert_eq(m->count, 5);
    cr_assert_float_eq(m->progress, 0.1, 1e-6, "progress %f", m->progress);

    /* Outside the window: gone. */
    s = vt_scene_at(&f, 200, 50);
    cr_assert_eq(s->num_motions, 0);

    /* Two steals between the same lanes merge; an overflow goes to inject. */
    vt_ev(&f, 300, AL_EV_STEAL, 1, 0, 0, 2, 0);
    vt_ev(&f, 310, AL_EV_STEAL, 1, 0, 0, 1, 0);
    vt_ev(&f, 320, AL_EV_OVERFLOW, 1, 0, 4, 0, 0);
    s = vt_scene_at(&f, 320, 100);
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_STEAL), 1);
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_OVERFLOW), 1);
    for (uint32_t i = 0; i < s->num_motions; i++) {
        if (s->motions[i].kind == VIZ_MOTION_STEAL)
            cr_assert_eq(s->motions[i].count, 3);
        else
            cr_assert_eq(s->motions[i].to.kind, VIZ_AT_INJECT);
    }
    cr_assert_eq(s->inject_len, 4);
    vt_free(&f);
}

Test(scene, wake_sparks_and_polls_land_where_the_task_is)
{
    vt_feed_t f;
    vt_start(&f, 2);
    vt_spawn(&f, 1, -1, 1, 0, AL_QUEUE_INJECT);
    vt_spawn(&f, 1, -1, 2, 0, AL_QUEUE_INJECT);
    vt_ev(&f, 10, AL_EV_POLL_BEGIN, 0, 1, 0, 0, 0);
    vt_ev(&f, 11, AL_EV_POLL_END, 0, 1, AL_POLL_END_PENDING, 128, 0);
    vt_ev(&f, 20, AL_EV_POLL_BEGIN, 1, 2, 0, 0, 0);
    vt_ev(&f, 30, AL_EV_WAKE, 1, 1, 2, VT_WAKE(AL_WAKE_CHANNEL, 0, 0), 0);
    vt_ev(&f, 30, AL_EV_TASK_SCHEDULE, 1, 1, AL_QUEUE_LIFO, 0, 0);
    viz_scene_t *s = vt_scene_at(&f, 40, 100);
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_WAKE), 1);
    cr_assert_eq(viz_scene_count_motions(s, VIZ_MOTION_POLL), 2, "one poll per worker");
    for (uint32_t i = 0; i < s->num_motions; i++) {
        const viz_scene_motion_t *m = &s->motions[i];
        if (m->kind == VIZ_MOTION_WAKE) {
            cr_assert_eq(m->from.kind, VIZ_AT_LANE_TASK, "from the waker's worker");
            cr_assert_eq(m->from.index, 1);
            cr_assert_eq(m->to.kind, VIZ_AT_LANE_LIFO, "to where the woken task is now");
            cr_assert_eq(m->to.index, 1);
            cr_assert_str_eq(m->task.label, "task 1");
        } else {
            cr_assert_eq(m->from.kind, VIZ_AT_INJECT, "tasks 1 and 2 came from the inject queue");
            cr_assert_eq(m->to.kind, VIZ_AT_LANE_TASK);
            cr_assert_eq(m->to.index, m->task.task == 1 ? 0 : 1);
        }
    }
    /* A timer wake comes from the driver. */
    vt_ev(&f, 50, AL_EV_WAKE, 0, 2, 0, VT_WAKE(AL_WAKE_TIMER, 0, 0), 0);
    s = vt_scene_at(&f, 50, 5);
    cr_assert_eq(s->num_motions, 1);
    cr_assert_eq(s->motions[0].from.kind, VIZ_AT_DRIVER);
    cr_assert_eq(s->motions[0].to.kind, VIZ_AT_LANE_TASK, "task 2 is still running");
    vt_free(&f);
}

Test(scene, blocking_pool_threads)
{
    vt_feed_t f;
    vt_start(&f, 1);
    vt_name(&f, 1, "backup");
    vt_ev(&f, 1, AL_EV_TASK_SPAWN, -1, 9, 0, AL_TASK_BLOCKING, 1);
    vt_ev(&f, 1, AL_EV_TASK_SCHEDULE, -1, 9, AL_QUEUE_BLOCKING, 0, 0);
    vt_ev(&f, 2, AL_EV_BLOCKING_THREAD_START, -1, 0, 0, 0, 0);
    vt_ev(&f, 3, AL_EV_BLOCKING_THREAD_START, -1, 0, 1, 0, 0);
    vt_ev(&f, 4, AL_EV_BLOCKING_RUN, -1, 9, 1, 0, 0);
    vt_ev(&f, 5, AL_EV_POLL_BEGIN, -1, 9, 0, 0, 0);
    viz_scene_t *s = vt_scene_at(&f, 5, 0);
    cr_assert_eq(s->blocking_threads, 2);
    cr_assert_eq(s->num_blocking, 2);
    cr_assert_eq(s->blocking[0].task.task, 0, "thread 0 is idle");
    cr_assert_eq(s->blocking[1].number, 1);
    cr_assert_str_eq(s->blocking[1].task.label, "backup");
    vt_ev(&f, 8, AL_EV_POLL_END, -1, 9, AL_POLL_END_READY, 0, 0);
    vt_ev(&f, 8, AL_EV_TASK_END, -1, 9, AL_JOIN_OK, 0, 0);
    vt_ev(&f, 9, AL_EV_BLOCKING_THREAD_EXIT, -1, 0, 0, 0, 0);
    s = vt_scene_at(&f, 9, 0);
    cr_assert_eq(s->num_blocking, 1, "thread 0 exited");
    cr_assert_eq(s->blocking[0].number, 1);
    cr_assert_eq(s->blocking[0].task.task, 0, "the task ended");
    vt_free(&f);
}

/* The scene as text at event position pos, reached by seeking. */
static char *scene_text(vt_feed_t *f)
{
    al_console_snapshot_t *snap = viz_player_snapshot(f->player);
    viz_scene_opts_t o = {.anim_window_ns = 50000};
    viz_scene_build(f->scene, snap, f->player->motion, &o);
    al_console_snapshot_free(snap);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    viz_scene_print(f->scene, out);
    fclose(out);
    return buf;
}

Test(scene, stepping_back_and_forth_gives_the_same_scenes)
{
    vt_feed_t f;
    hang_scenario(&f);
    vt_scene_at(&f, 0, 0);
    size_t n = f.rec->num_events;
    char **seen = calloc(n + 1, sizeof *seen);
    for (size_t i = 0; i <= n; i++) {
        cr_assert_eq(viz_player_seek_event(f.player, i), 0);
        seen[i] = scene_text(&f);
    }
    /* Back one event at a time from the end, then forward again. */
    for (size_t i = n; i-- > 0;) {
        cr_assert_eq(viz_player_step(f.player, -1), 0);
        cr_assert_eq(f.player->pos, i);
        char *t = scene_text(&f);
        cr_assert_str_eq(t, seen[i], "stepping back to %zu", i);
        free(t);
    }
    cr_assert_eq(viz_player_step(f.player, -1), 0, "stepping back at the start stays");
    cr_assert_eq(f.player->pos, 0);
    for (size_t i = 1; i <= n; i++) {
        cr_assert_eq(viz_player_step(f.player, 1), 0);
        char *t = scene_text(&f);
        cr_assert_str_eq(t, seen[i], "stepping forward to %zu", i);
        free(t);
    }
    cr_assert(viz_player_at_end(f.player));
    for (size_t i = 0; i <= n; i++)
        free(seen[i]);
    free(seen);
    vt_free(&f);
}

Test(scene, playing_advances_with_the_speed_and_stops_at_the_end)
{
    vt_feed_t f;
    hang_scenario(&f);
    vt_scene_at(&f, 0, 0);
    viz_player_t *p = f.player;
    cr_assert_eq(p->pos, 0);
    p->speed = 0.001; /* 1 us of trace per ms */
    p->playing = true;
    cr_assert_eq(viz_player_tick(p, 41000000), 0); /* 41 ms: 41 us in */
    cr_assert_eq(p->now_ns, VT_BASE_NS + 41000);
    cr_assert_eq(p->pos, viz_recording_count_until(f.rec, VT_BASE_NS + 41000));
    cr_assert_eq(viz_player_tick(p, 10000000000ull), 0);
    cr_assert(viz_player_at_end(p));
    cr_assert(!p->playing, "playing stops at the end");
    vt_free(&f);
}
