/*
 * test_seek.c — seeking through keyframes (viz_keyframes.h, viz_player.h)
 * lands exactly where a replay from the start does: the console snapshot
 * and the motion log compared field by field, at many positions, forwards
 * and backwards, by event and by time; with a memory budget so small that
 * keyframes are thinned; on a synthetic stream (viz_test_synth.h) and on a
 * real recording (the silent-hang scenario).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "viz_test_compare.h"
#include "viz_test_feed.h"
#include "viz_test_scenario.h"
#include "viz_test_synth.h"

/* A player that has only ever moved forward from event 0: the reference. */
static viz_player_t *scratch_at(const viz_recording_t *r, size_t pos)
{
    viz_player_t *p;
    cr_assert_eq(viz_player_new(r, &p), 0);
    cr_assert_eq(viz_player_seek_event(p, pos), 0);
    return p;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

Test(seek, keyframe_seeks_match_replay_from_the_start, .timeout = 120)
{
    viz_recording_t *r;
    cr_assert_eq(viz_recording_new(&r), 0);
    vsyn_generate(r, 60000, 4, 7);
    cr_assert_eq(r->num_events, 60000);
    viz_player_t *p;
    cr_assert_eq(viz_player_new_with(r, 0, 1024, &p), 0);
    cr_assert_eq(viz_player_build_keyframes(p), 0);
    viz_player_memory_t m;
    viz_player_memory(p, &m);
    cr_assert_eq(m.keyframes, 58, "a keyframe every 1024 events: %zu", m.keyframes);
    cr_assert_eq(m.interval, 1024);
    cr_assert_gt(m.keyframe_bytes, 0);
    cr_assert_eq(p->pos, 0, "building keyframes comes back to where the player was");

    uint64_t seed = 12345;
    bool went_back = false, went_forward = false;
    for (int i = 0; i < 80; i++) {
        size_t to = i == 0   ? 60000
                    : i == 1 ? 0
                    : i == 2 ? 1024
                    : i == 3 ? 1023
                             : lcg(&seed) % 60001;
        went_back |= to < p->pos;
        went_forward |= to > p->pos;
        cr_assert_eq(viz_player_seek_event(p, to), 0);
        viz_player_t *ref = scratch_at(r, to);
        char where[64];
        snprintf(where, sizeof where, "event %zu (seek %d)", to, i);
        vc_players(p, ref, where);
        viz_player_free(ref);
    }
    cr_assert(went_back && went_forward);
    /* Single steps back across a keyframe boundary. */
    cr_assert_eq(viz_player_seek_event(p, 2050), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(viz_player_step(p, -1), 0);
    viz_player_t *ref = scratch_at(r, 2046);
    vc_players(p, ref, "four steps back from 2050");
    viz_player_free(ref);
    viz_player_free(p);
    viz_recording_free(r);
}

Test(seek, by_time_matches_replay_from_the_start, .timeout = 120)
{
    viz_recording_t *r;
    cr_assert_eq(viz_recording_new(&r), 0);
    vsyn_generate(r, 30000, 3, 99);
    viz_player_t *p;
    cr_assert_eq(viz_player_new_with(r, 0, 512, &p), 0); /* keyframes made lazily */
    uint64_t lo = viz_player_start_ns(p), hi = viz_player_end_ns(p), seed = 777;
    for (int i = 0; i < 40; i++) {
        uint64_t ts = lo + lcg(&seed) % (hi - lo + 1);
        cr_assert_eq(viz_player_seek_ns(p, ts), 0);
        viz_player_t *ref;
        cr_assert_eq(viz_player_new(r, &ref), 0);
        cr_assert_eq(viz_player_seek_ns(ref, ts), 0);
        char where[64];
        snprintf(where, sizeof where, "t %llu (seek %d)", (unsigned long long)(ts - lo), i);
        vc_players(p, ref, where);
        viz_player_free(ref);
    }
    viz_player_memory_t m;
    viz_player_memory(p, &m);
    cr_assert_gt(m.keyframes, 0, "passing boundaries leaves keyframes behind");
    viz_player_free(p);
    viz_recording_free(r);
}

Test(seek, a_small_budget_thins_keyframes_and_stays_exact, .timeout = 120)
{
    viz_recording_t *r;
    cr_assert_eq(viz_recording_new(&r), 0);
    vsyn_generate(r, 40000, 4, 3);
    viz_player_t *p;
    /* Room for a handful of keyframes only. */
    size_t budget = 6 * 1024 * 1024;
    cr_assert_eq(viz_player_new_with(r, budget, 256, &p), 0);
    cr_assert_eq(viz_player_build_keyframes(p), 0);
    viz_player_memory_t m;
    viz_player_memory(p, &m);
    cr_assert_leq(m.keyframe_bytes, budget, "%zu bytes held, budget %zu", m.keyframe_bytes, budget);
    cr_assert_gt(m.interval, 256, "the interval doubled (now %zu)", m.interval);
    cr_assert_gt(m.keyframes, 0);
    for (size_t i = 0; i < m.keyframes; i++)
        cr_assert_eq(p->keyframes.k[i].pos % m.interval, 0);
    size_t targets[] = {39999, 17, 20000, 19999, 40000, 5000, 0, 31111};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        cr_assert_eq(viz_player_seek_event(p, targets[i]), 0);
        viz_player_t *ref = scratch_at(r, targets[i]);
        char where[64];
        snprintf(where, sizeof where, "event %zu", targets[i]);
        vc_players(p, ref, where);
        viz_player_free(ref);
    }
    viz_player_free(p);
    viz_recording_free(r);
}

Test(seek, every_position_of_a_real_recording_both_ways, .timeout = 120)
{
    char path[64];
    vt_temp_trace(path, sizeof path, "seek");
    cr_assert_eq(viz_scenario_record(path, 60), 0);
    viz_recording_t *r = vt_load(path);
    unlink(path);
    cr_assert_gt(r->num_events, 100);
    viz_player_t *p;
    cr_assert_eq(viz_player_new_with(r, 0, 16, &p), 0);
    cr_assert_eq(viz_player_build_keyframes(p), 0);
    cr_assert_eq(viz_player_seek_event(p, r->num_events), 0);
    /* Backwards one event at a time, then forwards in strides. */
    for (size_t pos = r->num_events + 1; pos-- > 0;) {
        cr_assert_eq(viz_player_seek_event(p, pos), 0);
        viz_player_t *ref = scratch_at(r, pos);
        char where[64];
        snprintf(where, sizeof where, "event %zu going back", pos);
        vc_players(p, ref, where);
        viz_player_free(ref);
    }
    for (size_t pos = 0; pos <= r->num_events; pos += 7) {
        cr_assert_eq(viz_player_seek_event(p, pos), 0);
        viz_player_t *ref = scratch_at(r, pos);
        char where[64];
        snprintf(where, sizeof where, "event %zu going forward", pos);
        vc_players(p, ref, where);
        viz_player_free(ref);
    }
    viz_player_free(p);
    viz_recording_free(r);
}

Test(seek, clone_is_independent_of_its_source)
{
    viz_recording_t *r;
    cr_assert_eq(viz_recording_new(&r), 0);
    vsyn_generate(r, 5000, 2, 11);
    viz_player_t *a = scratch_at(r, 2500);
    al_console_t *copy;
    cr_assert_eq(al_console_clone(a->console, &copy), 0);
    cr_assert_geq(al_console_memory(copy), al_console_memory(a->console) / 2);
    /* The source moves on; the copy still says what it said. */
    cr_assert_eq(viz_player_seek_event(a, 5000), 0);
    viz_player_t *b = scratch_at(r, 2500);
    al_console_free(b->console);
    b->console = copy;
    viz_player_t *ref = scratch_at(r, 2500);
    vc_players(b, ref, "a copy taken at 2500");
    viz_player_free(ref);
    viz_player_free(a);
    viz_player_free(b);
    viz_recording_free(r);
}
