/*
 * test_recorded.c — scenes from a real recording: the silent-hang scenario
 * (viz_test_scenario.h) run on a real 2-worker runtime, recorded to a trace
 * file, read back and replayed to the moment both workers are blocked in
 * std-style sleeps. Also: damaged and missing files, and every input the
 * trace fuzzer kept (tests/fuzz/corpus/) replayed, laid out and drawn.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "viz_test_feed.h"
#include "viz_shot.h"
#include "viz_test_scenario.h"

#define SLEEP_MS 300

static char trace_path[64];

static void record(void)
{
    vt_temp_trace(trace_path, sizeof trace_path, "hang");
    cr_assert_eq(viz_scenario_record(trace_path, SLEEP_MS), 0);
}

static void cleanup(void)
{
    unlink(trace_path);
}

/* The string id of a task name in the recording, 0 if absent. */
static uint64_t task_named(const viz_recording_t *r, const char *name)
{
    for (size_t i = 0; i < r->num_events; i++) {
        const al_trace_event_t *e = &r->events[i];
        if (e->kind == AL_EV_TASK_SPAWN && strcmp(viz_recording_string(r, e->str), name) == 0)
            return e->task;
    }
    return 0;
}

static uint64_t first_ts(const viz_recording_t *r, al_event_kind_t kind, uint64_t task)
{
    for (size_t i = 0; i < r->num_events; i++)
        if (r->events[i].kind == kind && r->events[i].task == task)
            return r->events[i].ts_ns;
    return 0;
}

Test(recorded, both_workers_blocked_in_the_silent_hang, .init = record, .fini = cleanup,
     .timeout = 60)
{
    viz_recording_t *rec = vt_load(trace_path);
    cr_assert(rec->ended);
    cr_assert_eq(rec->header.num_workers, 2);

    uint64_t a = task_named(rec, "sleeper-a"), b = task_named(rec, "sleeper-b");
    cr_assert(a && b);
    uint64_t a0 = first_ts(rec, AL_EV_BLOCK_BEGIN, a), b0 = first_ts(rec, AL_EV_BLOCK_BEGIN, b);
    uint64_t a1 = first_ts(rec, AL_EV_BLOCK_END, a), b1 = first_ts(rec, AL_EV_BLOCK_END, b);
    cr_assert(a0 && b0 && a1 && b1);
    uint64_t both = (a0 > b0 ? a0 : b0) + 20000000, first_end = a1 < b1 ? a1 : b1;
    cr_assert_lt(both, first_end, "the two sleeps overlap by 20 ms at least");

    viz_player_t *p;
    cr_assert_eq(viz_player_new(rec, &p), 0);
    cr_assert_eq(viz_player_seek_ns(p, both), 0);
    al_console_snapshot_t *snap = viz_player_snapshot(p);
    viz_scene_t *s = viz_scene_new();
    viz_scene_opts_t o = {.anim_window_ns = 2000000};
    viz_scene_build(s, snap, p->motion, &o);
    al_console_snapshot_free(snap);

    cr_assert(s->all_blocked);
    for (uint32_t i = 0; i < 2; i++) {
        const viz_lane_t *l = viz_scene_lane(s, i);
        cr_assert_eq(l->state, AL_WORKER_BLOCKED);
        cr_assert(l->alert);
        cr_assert_str_eq(l->state_label, "blocked: std.thread.sleep 300 ms");
        cr_assert_geq(l->poll_ns, 20000000);
        /* Each sleeper's reply waits in its worker's LIFO slot (never stolen). */
        const char *reply = strcmp(l->task.label, "sleeper-a") == 0 ? "reply-a" : "reply-b";
        cr_assert(strcmp(l->task.label, "sleeper-a") == 0 ||
                      strcmp(l->task.label, "sleeper-b") == 0,
                  "lane %u polls %s", i, l->task.label);
        cr_assert_str_eq(l->lifo.label, reply);
    }
    cr_assert_neq(s->lanes[0].task.task, s->lanes[1].task.task);

    /* The heartbeat's timer is due but nobody fires it; the db waiters. */
    const viz_group_t *g = viz_scene_group(s, "timers");
    cr_assert_not_null(g);
    cr_assert(viz_group_holds(g, "heartbeat"));
    cr_assert_gt(s->timer_overdue_ns, 0, "the heartbeat's deadline has passed");
    const viz_resource_t *db = viz_scene_resource(s, "\"db\"");
    cr_assert_not_null(db);
    cr_assert_str_eq(db->holder.label, "db-writer");
    cr_assert_eq(db->waiters, 2);
    g = viz_scene_group(s, "\"db\"");
    cr_assert_not_null(g);
    cr_assert(viz_group_holds(g, "db-reader-1") && viz_group_holds(g, "db-reader-2"));
    /* The blocking pool runs the backup. */
    bool backup = false;
    for (uint32_t i = 0; i < s->num_blocking; i++)
        backup |= strcmp(s->blocking[i].task.label, "backup") == 0;
    cr_assert(backup);

    /* At the end nothing is blocked any more. */
    cr_assert_eq(viz_player_seek_ns(p, viz_player_end_ns(p)), 0);
    snap = viz_player_snapshot(p);
    viz_scene_build(s, snap, p->motion, &o);
    al_console_snapshot_free(snap);
    cr_assert(!s->all_blocked);
    cr_assert(!s->lanes[0].alert && !s->lanes[1].alert);

    viz_scene_free(s);
    viz_player_free(p);
    viz_recording_free(rec);
}

Test(recorded, damaged_and_missing_files, .init = record, .fini = cleanup, .timeout = 60)
{
    FILE *f = fopen(trace_path, "rb");
    cr_assert(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_gt(len, 200);

    viz_recording_t *whole, *cut;
    al_tracefile_error_t err;
    cr_assert_eq(viz_recording_new(&whole), 0);
    cr_assert_eq(viz_recording_load_mem(whole, buf, len, &err), 0, "%s", err.message);
    cr_assert_eq(viz_recording_new(&cut), 0);
    int rc = viz_recording_load_mem(cut, buf, len / 2 + 1, &err);
    /* A cut between two records reads as a file still being written (no
     * end record, code 0); inside a record it is damage. */
    cr_assert(rc == 0 || rc == AL_ETRUNCATED || rc == AL_EFORMAT, "%d", rc);
    cr_assert(rc == 0 || err.message[0]);
    cr_assert(cut->have_header);
    cr_assert_gt(cut->num_events, 0, "the events before the damage are kept");
    cr_assert_lt(cut->num_events, whole->num_events);
    cr_assert(!cut->ended);
    viz_recording_free(cut);
    viz_recording_free(whole);

    viz_recording_t *none;
    cr_assert_eq(viz_recording_new(&none), 0);
    rc = viz_recording_load(none, "/nonexistent/x.trace", &err);
    cr_assert_eq(rc, -ENOENT);
    cr_assert(strstr(err.message, "/nonexistent/x.trace"), "%s", err.message);
    viz_recording_free(none);
}

/* Replay one file to a few moments; lay the scene out and (when asked)
 * draw it. Returns the load status. */
static int replay_file(const char *path, bool draw)
{
    viz_recording_t *rec;
    cr_assert_eq(viz_recording_new(&rec), 0);
    al_tracefile_error_t err;
    int rc = viz_recording_load(rec, path, &err);
    if (!rec->have_header) {
        viz_recording_free(rec);
        return rc ? rc : -1;
    }
    viz_player_t *p;
    cr_assert_eq(viz_player_new(rec, &p), 0);
    viz_scene_t *s = viz_scene_new();
    viz_layout_t *l = malloc(sizeof *l);
    size_t n = rec->num_events;
    size_t stops[] = {0, n / 3, n / 2, n};
    for (size_t k = 0; k < 4; k++) {
        cr_assert_eq(viz_player_seek_event(p, stops[k]), 0);
        al_console_snapshot_t *snap = viz_player_snapshot(p);
        cr_assert_not_null(snap);
        viz_scene_opts_t o = {.anim_window_ns = 1000000000};
        viz_scene_build(s, snap, p->motion, &o);
        al_console_snapshot_free(snap);
        viz_layout_compute(l, s, 640, 400);
        for (uint32_t m = 0; m < s->num_motions; m++) {
            viz_point_t pt;
            viz_layout_point(l, s->motions[m].from, &pt);
        }
        FILE *null = fopen("/dev/null", "w");
        viz_scene_print(s, null);
        fclose(null);
    }
    if (draw) {
        char msg[512];
        SDL_Surface *surf = viz_shot_render(s, 320, 200, NULL, NULL, msg, sizeof msg);
        cr_assert_not_null(surf, "%s: %s", path, msg);
        SDL_FreeSurface(surf);
    }
    free(l);
    viz_scene_free(s);
    viz_player_free(p);
    viz_recording_free(rec);
    return rc;
}

Test(recorded, every_fuzz_corpus_input_replays, .timeout = 120)
{
    const char *dir = "tests/fuzz/corpus";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "run from the repository's root (%s)", dir);
    struct dirent *e;
    int files = 0, valid = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        bool named = strchr(e->d_name, '-') != NULL;
        int rc = replay_file(path, named);
        if (strncmp(e->d_name, "valid-", 6) == 0) {
            cr_assert_eq(rc, 0, "%s", path);
            valid++;
        }
        if (strncmp(e->d_name, "bad-", 4) == 0)
            cr_assert_neq(rc, 0, "%s", path);
        files++;
    }
    closedir(d);
    cr_assert_gt(files, 50);
    cr_assert_gt(valid, 3);
}
