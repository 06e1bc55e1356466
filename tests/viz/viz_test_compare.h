/*
 * viz_test_compare.h — whether two players show the same thing: their
 * console snapshots field by field (tasks, resources, workers, queues,
 * figures) and their motion logs (recent motions, blocking-pool threads).
 * Used to check that a seek through keyframes lands exactly where a replay
 * from the start does.
 */
#ifndef VIZ_TEST_COMPARE_H
#define VIZ_TEST_COMPARE_H

#include <criterion/criterion.h>
#include <string.h>

#include "viz_player.h"

#define VC_EQ(field) cr_assert_eq(a->field, b->field, "%s: %s differs at %s", what, #field, where)
#define VC_STR(field)                                                                              \
    cr_assert_str_eq(a->field, b->field, "%s: %s differs at %s", what, #field, where)

static inline void vc_task(const al_console_task_t *a, const al_console_task_t *b,
                           const char *where)
{
    const char *what = "task";
    VC_EQ(id);
    VC_EQ(parent);
    VC_STR(name);
    VC_STR(location);
    VC_STR(panic);
    VC_EQ(kind);
    VC_EQ(state);
    VC_EQ(end);
    VC_EQ(block_kind);
    VC_EQ(last_wake_source);
    VC_EQ(queue);
    VC_EQ(worker);
    VC_EQ(queue_worker);
    VC_EQ(spawned_ns);
    VC_EQ(first_poll_ns);
    VC_EQ(ended_ns);
    VC_EQ(last_woken_ns);
    VC_EQ(last_poll_ns);
    VC_EQ(state_since_ns);
    VC_EQ(total_ns);
    VC_EQ(busy_ns);
    VC_EQ(scheduled_ns);
    VC_EQ(idle_ns);
    VC_EQ(polls);
    VC_EQ(wakes);
    VC_EQ(self_wakes);
    VC_EQ(waker_clones);
    VC_EQ(waker_drops);
    VC_EQ(wakers_alive);
    VC_EQ(waiting_kind);
    VC_EQ(waiting_on);
    VC_EQ(waiting_since_ns);
    VC_EQ(timer_deadline_ns);
    VC_EQ(first_poll_delay_ns);
    VC_EQ(poll_p50_ns);
    VC_EQ(poll_p90_ns);
    VC_EQ(poll_p99_ns);
    VC_EQ(poll_max_ns);
    VC_EQ(sched_p50_ns);
    VC_EQ(sched_p90_ns);
    VC_EQ(sched_p99_ns);
    VC_EQ(sched_max_ns);
    VC_STR(detail);
}

static inline void vc_resource(const al_console_resource_t *a, const al_console_resource_t *b,
                               const char *where)
{
    const char *what = "resource";
    VC_EQ(id);
    VC_EQ(creator);
    VC_STR(name);
    VC_EQ(kind);
    VC_EQ(dropped);
    VC_EQ(closed);
    VC_EQ(created_ns);
    VC_EQ(holder);
    VC_EQ(holders);
    VC_EQ(waiters);
    VC_EQ(ops);
    VC_EQ(queue_len);
    VC_EQ(queue_max);
    VC_EQ(waits);
    VC_EQ(wait_p50_ns);
    VC_EQ(wait_p99_ns);
    VC_EQ(wait_max_ns);
}

static inline void vc_worker(const al_console_worker_t *a, const al_console_worker_t *b,
                             const char *where)
{
    const char *what = "worker";
    VC_EQ(state);
    VC_EQ(block_kind);
    VC_EQ(block_detail);
    VC_EQ(state_since_ns);
    VC_EQ(current_task);
    VC_EQ(lifo_task);
    VC_EQ(local_depth);
    VC_EQ(polls);
    VC_EQ(steals);
    VC_EQ(stolen_tasks);
    VC_EQ(parks);
    VC_EQ(overflows);
    VC_EQ(busy_ns);
    for (uint32_t i = 0; i < a->local_depth; i++)
        cr_assert_eq(a->local_queue[i], b->local_queue[i], "local queue differs at %s", where);
}

/* The two players' views are the same (where: for messages). */
static inline void vc_players(viz_player_t *pa, viz_player_t *pb, const char *where)
{
    cr_assert_eq(pa->pos, pb->pos, "pos differs at %s", where);
    cr_assert_eq(pa->now_ns, pb->now_ns, "now differs at %s", where);
    al_console_snapshot_t *a = viz_player_snapshot(pa), *b = viz_player_snapshot(pb);
    cr_assert(a && b);
    const char *what = "snapshot";
    VC_EQ(start_ns);
    VC_EQ(now_ns);
    VC_EQ(events);
    VC_EQ(dropped);
    VC_EQ(alive_tasks);
    VC_EQ(spawned_tasks);
    VC_EQ(num_tasks);
    VC_EQ(num_resources);
    VC_EQ(num_workers);
    VC_EQ(inject_depth);
    VC_EQ(blocking_queue_depth);
    VC_EQ(blocking_threads);
    VC_EQ(blocking_busy);
    VC_EQ(pending_timers);
    VC_EQ(next_timer_deadline_ns);
    for (size_t i = 0; i < a->num_tasks; i++)
        vc_task(&a->tasks[i], &b->tasks[i], where);
    for (size_t i = 0; i < a->num_resources; i++)
        vc_resource(&a->resources[i], &b->resources[i], where);
    for (size_t i = 0; i < a->num_workers; i++)
        vc_worker(&a->workers[i], &b->workers[i], where);
    for (uint32_t i = 0; i < a->inject_depth; i++)
        cr_assert_eq(a->inject_queue[i], b->inject_queue[i], "inject queue differs at %s", where);
    al_console_snapshot_free(a);
    al_console_snapshot_free(b);

    static viz_motion_t ma[VIZ_MOTION_RING], mb[VIZ_MOTION_RING];
    size_t na = viz_motion_recent(pa->motion, 0, UINT64_MAX, ma, VIZ_MOTION_RING);
    size_t nb = viz_motion_recent(pb->motion, 0, UINT64_MAX, mb, VIZ_MOTION_RING);
    cr_assert_eq(na, nb, "motions differ at %s", where);
    cr_assert(memcmp(ma, mb, na * sizeof *ma) == 0, "motions differ at %s", where);
    uint32_t sa = viz_motion_blocking_slots(pa->motion), sb = viz_motion_blocking_slots(pb->motion);
    cr_assert_eq(sa, sb, "blocking slots differ at %s", where);
    for (uint32_t i = 0; i < sa; i++) {
        uint64_t ta, tb;
        cr_assert_eq(viz_motion_blocking_thread(pa->motion, i, &ta),
                     viz_motion_blocking_thread(pb->motion, i, &tb));
        cr_assert_eq(ta, tb, "blocking thread %u differs at %s", i, where);
    }
}

#endif
