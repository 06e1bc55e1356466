/*
 * al_console_print.c — the console model as text: the tables of
 * `asynclab trace stats`, task dumps (SIGQUIT, rt.dump()) and CSV.
 */
#include <inttypes.h>
#include <string.h>

#include "al_console.h"
#include "al_future.h"
#include "al_task.h"

#define AL__PRINT_DONE_TASKS 20

const char *al_task_state_name(unsigned state)
{
    static const char *const names[] = {"idle", "scheduled", "running", "blocked", "done"};
    return state < sizeof names / sizeof *names ? names[state] : "?";
}

const char *al_worker_state_name(unsigned state)
{
    static const char *const names[] = {"idle",   "running",         "searching",
                                        "parked", "parked (driver)", "blocked"};
    return state < sizeof names / sizeof *names ? names[state] : "?";
}

const char *al_resource_kind_name(unsigned kind)
{
    static const char *const names[] = {"mutex", "rwlock",       "semaphore", "notify", "barrier",
                                        "mpsc",  "oneshot",      "broadcast", "watch",  "std mutex",
                                        "timer", "tcp listener", "tcp stream"};
    return kind < sizeof names / sizeof *names ? names[kind] : "resource";
}

const char *al_block_kind_name(unsigned kind)
{
    static const char *const names[] = {"std.thread.sleep", "std.sync.Mutex lock", "std.hint.spin",
                                        "block_in_place", "std.io"};
    return kind < sizeof names / sizeof *names ? names[kind] : "a blocking call";
}

static const char *al__end_name(unsigned end)
{
    return end == AL_JOIN_OK ? "ok" : end == AL_JOIN_PANIC ? "panicked" : "cancelled";
}

/* A duration in a unit a human reads at a glance (al_console.h). */
const char *al_console_format_duration(char *buf, size_t cap, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, cap, "%" PRIu64 "ns", ns);
    else if (ns < 1000000)
        snprintf(buf, cap, "%.1fus", (double)ns / 1e3);
    else if (ns < 1000000000ull)
        snprintf(buf, cap, "%.1fms", (double)ns / 1e6);
    else
        snprintf(buf, cap, "%.2fs", (double)ns / 1e9);
    return buf;
}

static double al__secs(const al_console_snapshot_t *s, uint64_t ts)
{
    return ts > s->header.clock_base_ns ? (double)(ts - s->header.clock_base_ns) / 1e9 : 0;
}

/* "task 12 \"fetch\"" */
static const char *al__task_label(const al_console_snapshot_t *s, uint64_t id, char *buf,
                                  size_t cap)
{
    const al_console_task_t *t = al_console_find_task(s, id);
    if (t && t->name[0])
        snprintf(buf, cap, "task %" PRIu64 " \"%s\"", id, t->name);
    else
        snprintf(buf, cap, "task %" PRIu64, id);
    return buf;
}

static const char *al__res_label(const al_console_snapshot_t *s, uint64_t id, char *buf, size_t cap)
{
    const al_console_resource_t *r = al_console_find_resource(s, id);
    if (!r)
        snprintf(buf, cap, "resource %" PRIu64, id);
    else if (r->name[0])
        snprintf(buf, cap, "%s %" PRIu64 " \"%s\"", al_resource_kind_name(r->kind), id, r->name);
    else
        snprintf(buf, cap, "%s %" PRIu64, al_resource_kind_name(r->kind), id);
    return buf;
}

/* What the task waits on, in words: "mutex 7 \"db\" (held by task 5)". */
static void al__print_wait(const al_console_snapshot_t *s, const al_console_task_t *t, FILE *out)
{
    char a[96], b[96], d[32];
    if (t->waiting_kind == AL_WAIT_TIMER) {
        /* Overdue: its time has come but nobody drove the timer wheel (every
         * worker busy or blocked): say so, it is the symptom to see. */
        bool due = t->timer_deadline_ns > s->now_ns;
        uint64_t gap = due ? t->timer_deadline_ns - s->now_ns : s->now_ns - t->timer_deadline_ns;
        fprintf(out, "timer %" PRIu64 " (%s %s)", t->waiting_on, due ? "due in" : "overdue by",
                al_console_format_duration(d, sizeof d, gap));
    } else if (t->waiting_kind == AL_WAIT_RESOURCE) {
        const al_console_resource_t *r = al_console_find_resource(s, t->waiting_on);
        fprintf(out, "%s", al__res_label(s, t->waiting_on, a, sizeof a));
        if (r && r->holder)
            fprintf(out, " (held by %s)", al__task_label(s, r->holder, b, sizeof b));
        fprintf(out, " for %s",
                al_console_format_duration(
                    d, sizeof d,
                    s->now_ns > t->waiting_since_ns ? s->now_ns - t->waiting_since_ns : 0));
    }
}

static void al__print_worker(const al_console_snapshot_t *s, size_t i, FILE *out)
{
    const al_console_worker_t *w = &s->workers[i];
    char a[96], d[32];
    fprintf(out, "  worker %zu  %-16s", i, al_worker_state_name(w->state));
    if (w->state == AL_WORKER_BLOCKED) {
        fprintf(out, " in %s", al_block_kind_name(w->block_kind));
        if (w->block_kind == 0 /* thread sleep */ || w->block_kind == 2 /* spin */)
            fprintf(out, " %" PRIu64 " ms", w->block_detail);
    }
    if (w->current_task)
        fprintf(out, " polling %s", al__task_label(s, w->current_task, a, sizeof a));
    fprintf(out, " for %s",
            al_console_format_duration(
                d, sizeof d, s->now_ns > w->state_since_ns ? s->now_ns - w->state_since_ns : 0));
    fprintf(out, "\n            queue %u", w->local_depth + (w->lifo_task != 0));
    if (w->lifo_task)
        fprintf(out, "  lifo: %s", al__task_label(s, w->lifo_task, a, sizeof a));
    for (uint32_t q = 0; q < w->local_depth && q < 8; q++)
        fprintf(out, "%s%s",
                q ? ", " : "  local: ", al__task_label(s, w->local_queue[q], a, sizeof a));
    if (w->local_depth > 8)
        fprintf(out, ", ... (%u more)", w->local_depth - 8);
    fprintf(out,
            "\n            polls %" PRIu64 "  steals %" PRIu64 " (%" PRIu64
            " tasks)  parks %" PRIu64 "  busy %.1f%%\n",
            w->polls, w->steals, w->stolen_tasks, w->parks, w->busy_pct);
}

static void al__print_header(const al_console_snapshot_t *s, const char *what, FILE *out)
{
    fprintf(out,
            "%s at %.6f s: %zu workers, %" PRIu64 " tasks alive (%" PRIu64 " spawned), %" PRIu64
            " events",
            what, al__secs(s, s->now_ns), s->num_workers, s->alive_tasks, s->spawned_tasks,
            s->events);
    if (s->dropped)
        fprintf(out, ", %" PRIu64 " DROPPED (figures may be off)", s->dropped);
    fprintf(out, "\n");
}

void al_console_print_dump(const al_console_snapshot_t *s, FILE *out)
{
    char a[96], d[32];
    al__print_header(s, "asynclab task dump", out);
    fprintf(out, "workers:\n");
    for (size_t i = 0; i < s->num_workers; i++)
        al__print_worker(s, i, out);
    if (s->inject_depth)
        fprintf(out, "  inject queue: %u tasks\n", s->inject_depth);
    if (s->blocking_threads)
        fprintf(out, "  blocking pool: %u threads, %u busy, %u queued\n", s->blocking_threads,
                s->blocking_busy, s->blocking_queue_depth);
    fprintf(out, "tasks:\n");
    for (size_t i = 0; i < s->num_tasks; i++) {
        const al_console_task_t *t = &s->tasks[i];
        if (t->state == AL_TASK_DONE)
            continue;
        fprintf(out, "  %-28s %-9s", al__task_label(s, t->id, a, sizeof a),
                al_task_state_name(t->state));
        if (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED)
            fprintf(out, " on worker %d", t->worker);
        if (t->state == AL_TASK_BLOCKED)
            fprintf(out, " in %s", al_block_kind_name(t->block_kind));
        if (t->state == AL_TASK_SCHEDULED)
            fprintf(out, " in %s", t->queue_worker >= 0 ? "a worker's queue" : "the inject queue");
        fprintf(
            out, " for %s",
            al_console_format_duration(
                d, sizeof d, s->now_ns > t->state_since_ns ? s->now_ns - t->state_since_ns : 0));
        if (t->waiting_kind != AL_WAIT_NONE) {
            fprintf(out, ", waiting on ");
            al__print_wait(s, t, out);
        }
        if (t->parent)
            fprintf(out, ", parent %" PRIu64, t->parent);
        if (t->location[0])
            fprintf(out, ", spawned at %s", t->location);
        fprintf(out, "\n");
        for (const char *p = t->detail ? t->detail : ""; *p;) { /* indented below */
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            fprintf(out, "      %.*s\n", n, p);
            p = nl ? nl + 1 : p + n;
        }
    }
}

void al_console_print(const al_console_snapshot_t *s, FILE *out)
{
    char a[96], d1[32], d2[32], d3[32], d4[32], d5[32];
    al__print_header(s, "asynclab console", out);
    fprintf(out, "\nWORKERS\n");
    for (size_t i = 0; i < s->num_workers; i++)
        al__print_worker(s, i, out);
    fprintf(out, "\nTASKS\n  %6s %-20s %-9s %8s %6s %6s %9s %9s %9s %9s %9s %s\n", "id", "name",
            "state", "polls", "wakes", "self", "total", "busy", "sched", "idle", "poll p99",
            "waiting on");
    /* Every live task; of the finished ones only the latest few (the CSV
     * export has them all). */
    size_t done = 0, seen_done = 0;
    for (size_t i = 0; i < s->num_tasks; i++)
        done += s->tasks[i].state == AL_TASK_DONE;
    for (size_t i = 0; i < s->num_tasks; i++) {
        const al_console_task_t *t = &s->tasks[i];
        if (t->state == AL_TASK_DONE && done - seen_done++ > AL__PRINT_DONE_TASKS)
            continue;
        fprintf(out,
                "  %6" PRIu64 " %-20.20s %-9s %8" PRIu64 " %6" PRIu64 " %6" PRIu64
                " %9s %9s %9s %9s %9s ",
                t->id, t->name[0] ? t->name : "-",
                t->state == AL_TASK_DONE ? al__end_name(t->end) : al_task_state_name(t->state),
                t->polls, t->wakes, t->self_wakes,
                al_console_format_duration(d1, sizeof d1, t->total_ns),
                al_console_format_duration(d2, sizeof d2, t->busy_ns),
                al_console_format_duration(d3, sizeof d3, t->scheduled_ns),
                al_console_format_duration(d4, sizeof d4, t->idle_ns),
                al_console_format_duration(d5, sizeof d5, t->poll_p99_ns));
        if (t->waiting_kind != AL_WAIT_NONE && t->state != AL_TASK_DONE)
            al__print_wait(s, t, out);
        fprintf(out, "\n");
    }
    if (done > AL__PRINT_DONE_TASKS)
        fprintf(out, "  (and %zu earlier finished tasks: export --csv lists them all)\n",
                done - AL__PRINT_DONE_TASKS);
    if (s->num_resources) {
        fprintf(out, "\nRESOURCES\n  %6s %-10s %-16s %-22s %7s %8s %9s %9s\n", "id", "kind", "name",
                "holder", "waiters", "ops", "wait p50", "wait max");
        for (size_t i = 0; i < s->num_resources; i++) {
            const al_console_resource_t *r = &s->resources[i];
            fprintf(out, "  %6" PRIu64 " %-10s %-16.16s %-22s %7u %8" PRIu64 " %9s %9s%s\n", r->id,
                    al_resource_kind_name(r->kind), r->name[0] ? r->name : "-",
                    r->holder ? al__task_label(s, r->holder, a, sizeof a) : "-", r->waiters, r->ops,
                    al_console_format_duration(d1, sizeof d1, r->wait_p50_ns),
                    al_console_format_duration(d2, sizeof d2, r->wait_max_ns),
                    r->dropped ? "  (dropped)" : "");
        }
    }
}

/* A CSV field: quoted, with quotes doubled. */
static void al__csv_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void al_console_print_csv(const al_console_snapshot_t *s, FILE *out)
{
    fprintf(out, "id,name,parent,kind,state,end,location,spawned_s,total_ns,busy_ns,scheduled_ns,"
                 "idle_ns,polls,wakes,self_wakes,waker_clones,waker_drops,first_poll_delay_ns,"
                 "poll_p50_ns,poll_p90_ns,poll_p99_ns,poll_max_ns,sched_p50_ns,sched_p99_ns,"
                 "sched_max_ns\n");
    static const char *const kinds[] = {"async", "blocking", "local"};
    for (size_t i = 0; i < s->num_tasks; i++) {
        const al_console_task_t *t = &s->tasks[i];
        fprintf(out, "%" PRIu64 ",", t->id);
        al__csv_str(out, t->name);
        fprintf(out, ",%" PRIu64 ",%s,%s,%s,", t->parent, t->kind < 3 ? kinds[t->kind] : "?",
                al_task_state_name(t->state), t->state == AL_TASK_DONE ? al__end_name(t->end) : "");
        al__csv_str(out, t->location);
        fprintf(out,
                ",%.9f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                al__secs(s, t->spawned_ns), t->total_ns, t->busy_ns, t->scheduled_ns, t->idle_ns,
                t->polls, t->wakes, t->self_wakes, t->waker_clones, t->waker_drops,
                t->first_poll_delay_ns, t->poll_p50_ns, t->poll_p90_ns, t->poll_p99_ns,
                t->poll_max_ns, t->sched_p50_ns, t->sched_p99_ns, t->sched_max_ns);
    }
}
