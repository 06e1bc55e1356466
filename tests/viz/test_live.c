/*
 * test_live.c — the live window on a real runtime (viz_live.h), headless
 * (SDL's offscreen driver): a task in std.thread.sleep shows its worker
 * BLOCKED while it sleeps; step mode lets exactly one poll through per key;
 * closing the window in step mode releases the runtime; the recording's
 * memory stays bounded; no display gives a clear error.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asynclab.h"
#include "viz_live.h"

#define LIVE_TIMEOUT_MS 20000

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static al_runtime_t *runtime(uint32_t workers)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.worker_threads = workers;
    cfg.enable_time = true;
    al_runtime_t *rt = NULL;
    cr_assert_eq(al_runtime_new(&cfg, &rt), 0);
    return rt;
}

static viz_live_t *open_live(al_runtime_t *rt, size_t max_events)
{
    viz_live_opts_t o = {.w = 1024, .h = 640, .allow_offscreen = true, .max_events = max_events};
    viz_live_t *v = NULL;
    char err[256];
    int rc = viz_live_open(rt, &o, &v, err, sizeof err);
    cr_assert_eq(rc, 0, "viz_live_open: %s", err);
    cr_assert(viz_live_is_open(v));
    return v;
}

/* ---- tasks ---- */

typedef struct {
    atomic_int *count;
} counter_t;

static al_poll_t counter_poll(void *f, al_context_t *cx, void *out)
{
    atomic_fetch_add(((counter_t *)f)->count, 1);
    return AL_READY;
}
static const al_future_vtable_t counter_vt = {
    .type_name = "counter", .poll = counter_poll, .future_size = sizeof(counter_t)};

typedef struct {
    atomic_int *started;
    uint64_t ms;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *s = f;
    atomic_store(s->started, 1);
    al_thread_sleep_ns(s->ms * 1000000u); /* the pitfall: blocks the worker */
    return AL_READY;
}
static const al_future_vtable_t sleeper_vt = {
    .type_name = "sleeper", .poll = sleeper_poll, .future_size = sizeof(sleeper_t)};

static al_join_t **spawn_counters(al_runtime_t *rt, atomic_int *count, size_t n)
{
    al_join_t **h = calloc(n, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        counter_t c = {count};
        cr_assert_eq(al_spawn(rt, &counter_vt, &c, NULL, &h[i]), 0);
    }
    return h;
}

/* Wait (deadline) until every handle finished, then drop them. */
static void wait_all(al_join_t **h, size_t n)
{
    uint64_t deadline = ms_now() + LIVE_TIMEOUT_MS;
    for (size_t i = 0; i < n; i++) {
        while (!al_join_is_finished(h[i])) {
            cr_assert_lt(ms_now(), deadline, "task %zu never finished", i);
            sched_yield();
        }
        al_join_drop(h[i]);
    }
    free(h);
}

static void wait_count(atomic_int *n, int want)
{
    uint64_t deadline = ms_now() + LIVE_TIMEOUT_MS;
    while (atomic_load(n) < want) {
        cr_assert_lt(ms_now(), deadline, "count %d, wanted %d", atomic_load(n), want);
        sched_yield();
    }
}

/* The lane blocked in std.thread.sleep in the window's current scene, or -1. */
static int blocked_lane(const viz_scene_t *s)
{
    for (uint32_t i = 0; i < s->num_lanes; i++)
        if (s->lanes[i].state == AL_WORKER_BLOCKED &&
            strstr(s->lanes[i].state_label, "std.thread.sleep"))
            return (int)i;
    return -1;
}

Test(live, a_sleeping_task_shows_its_worker_blocked, .timeout = 60)
{
    al_runtime_t *rt = runtime(2);
    viz_live_t *v = open_live(rt, 0);
    viz_scene_t *s = viz_scene_new();
    atomic_int started = 0;
    sleeper_t sl = {&started, 1500};
    al_join_t **h = calloc(1, sizeof *h);
    al_spawn_opts_t so = {.name = "sleeper"};
    cr_assert_eq(al_spawn(rt, &sleeper_vt, &sl, &so, &h[0]), 0);
    wait_count(&started, 1);
    /* The window catches up within a few frames: ask until it shows it. */
    uint64_t deadline = ms_now() + LIVE_TIMEOUT_MS;
    int lane = -1;
    while (lane < 0) {
        cr_assert(viz_live_scene(v, s, LIVE_TIMEOUT_MS), "no frame drawn");
        lane = blocked_lane(s);
        cr_assert_lt(ms_now(), deadline, "no worker shown blocked in std.thread.sleep");
    }
    cr_assert(s->lanes[lane].alert, "a blocked worker is drawn red");
    cr_assert_str_eq(s->lanes[lane].task.label, "sleeper");
    cr_assert(strstr(s->status, "LIVE"), "status: %s", s->status);
    /* While it sleeps no event arrives, and still its time grows: the
     * window shows the clock's now, not the last event's. */
    uint64_t first = s->lanes[lane].state_for_ns;
    uint64_t wanted = first + 50000000u;
    while (blocked_lane(s) == lane && s->lanes[lane].state_for_ns < wanted) {
        cr_assert(viz_live_scene(v, s, LIVE_TIMEOUT_MS));
        cr_assert_lt(ms_now(), deadline, "the blocked time does not grow");
    }
    cr_assert_geq(s->lanes[lane].state_for_ns, wanted, "it woke before 50 ms passed?");
    wait_all(h, 1);
    viz_live_close(v);
    viz_scene_free(s);
    al_runtime_free(rt);
}

Test(live, step_mode_runs_one_poll_per_key, .timeout = 60)
{
    al_runtime_t *rt = runtime(1);
    viz_live_t *v = open_live(rt, 0);
    cr_assert_eq(viz_live_press(v, "S"), 0);
    /* S turned the gate on (in the window's next frame). */
    uint64_t deadline = ms_now() + LIVE_TIMEOUT_MS;
    al_gate_state_t g = {0};
    while (!g.on) {
        al_runtime_gate_state(rt, &g);
        cr_assert_lt(ms_now(), deadline, "S did not turn step mode on");
        sched_yield();
    }
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 6);
    cr_assert(al_runtime_gate_wait(rt, 1, LIVE_TIMEOUT_MS), "the worker never reached the gate");
    cr_assert_eq(atomic_load(&count), 0);
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(viz_live_press(v, i == 2 ? "." : "Return"), 0);
        wait_count(&count, i);
        cr_assert(al_runtime_gate_wait(rt, 1, LIVE_TIMEOUT_MS));
        cr_assert_eq(atomic_load(&count), i, "key %d ran %d polls", i, atomic_load(&count));
    }
    viz_scene_t *s = viz_scene_new();
    cr_assert(viz_live_scene(v, s, LIVE_TIMEOUT_MS));
    cr_assert(strstr(s->status, "STEP: 1 waiting"), "status: %s", s->status);
    viz_scene_free(s);
    cr_assert_eq(viz_live_press(v, "S"), 0); /* off: the rest runs */
    wait_all(h, 6);
    cr_assert_eq(atomic_load(&count), 6);
    viz_live_close(v);
    al_runtime_free(rt);
}

Test(live, closing_the_window_in_step_mode_releases_the_runtime, .timeout = 60)
{
    al_runtime_t *rt = runtime(2);
    viz_live_opts_t o = {.allow_offscreen = true, .step_mode = true};
    viz_live_t *v = NULL;
    char err[256];
    cr_assert_eq(viz_live_open(rt, &o, &v, err, sizeof err), 0, "%s", err);
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 4);
    cr_assert(al_runtime_gate_wait(rt, 1, LIVE_TIMEOUT_MS));
    cr_assert_eq(atomic_load(&count), 0);
    viz_live_close(v);
    wait_all(h, 4);
    al_runtime_free(rt);
}

Test(live, memory_is_bounded_and_it_says_so, .timeout = 60)
{
    al_runtime_t *rt = runtime(2);
    viz_live_t *v = open_live(rt, 1000);
    atomic_int count = 0;
    al_join_t **h = spawn_counters(rt, &count, 2000);
    wait_all(h, 2000);
    viz_scene_t *s = viz_scene_new();
    cr_assert(viz_live_scene(v, s, LIVE_TIMEOUT_MS));
    cr_assert(strstr(s->status, "kept: newest 1000"), "status: %s", s->status);
    cr_assert_eq(s->spawned_tasks <= 2000, true);
    viz_scene_free(s);
    viz_live_close(v);
    al_runtime_free(rt);
}

Test(live, a_key_script_closes_the_window_at_its_end, .timeout = 60)
{
    al_runtime_t *rt = runtime(1);
    viz_live_opts_t o = {.script = "S Return Return C S Space C"};
    viz_live_t *v = NULL;
    char err[256];
    cr_assert_eq(viz_live_open(rt, &o, &v, err, sizeof err), 0, "%s", err);
    cr_assert(viz_live_wait_closed(v, LIVE_TIMEOUT_MS), "the script ended, the window stayed");
    cr_assert(!viz_live_is_open(v));
    al_gate_state_t g;
    al_runtime_gate_state(rt, &g);
    cr_assert(!g.on, "a closed window leaves step mode off");
    cr_assert_eq(viz_live_press(v, "C"), -1, "no key into a closed window");
    viz_live_close(v);
    al_runtime_free(rt);
}

Test(live, no_display_is_a_clear_error)
{
    al_runtime_t *rt = runtime(1);
    viz_live_t *v = NULL;
    char err[256] = "";
    /* The offscreen driver without a test's permission: nobody would see it. */
    cr_assert_eq(viz_live_open(rt, NULL, &v, err, sizeof err), -1);
    cr_assert(strstr(err, "offscreen"), "%s", err);
    /* A real driver with no display to talk to. */
    setenv("SDL_VIDEODRIVER", "x11", 1);
    unsetenv("DISPLAY");
    cr_assert_eq(viz_live_open(rt, NULL, &v, err, sizeof err), -1);
    cr_assert(strstr(err, "no display"), "%s", err);
    /* And the runtime is untouched. */
    atomic_int count = 0;
    wait_all(spawn_counters(rt, &count, 3), 3);
    cr_assert_eq(atomic_load(&count), 3);
    al_runtime_free(rt);
}
