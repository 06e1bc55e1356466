/*
 * al_lint.c — the lint engine (see al_lint.h). Each event is applied to the
 * engine's own console model first; the checks then read the model (task
 * states, waker counts, lock holders, queues) through al_console_internal.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "al_console_internal.h"
#include "al_error.h"
#include "al_future.h"
#include "al_lint.h"

#define AL__LINT_MAX_FINDINGS 10000
#define AL__LINT_LEAK_SAMPLES 4
#define AL__LINT_MIN_WAKES 10
#define AL__LINT_MAX_CYCLE 16

static const char *const al__lint_names[AL_LINT__COUNT] = {
    "lost-waker", "never-yielded",        "long-poll",      "self-wakes", "deadlock",
    "task-leak",  "blocking-pool-growth", "channel-backlog"};

static const uint64_t al__lint_defaults[AL_LINT__COUNT] = {0, 100000000ull, 10000000ull, 50,
                                                           0, 100,          32,          1000};

/* Thresholds that are durations (parsed with units, printed as times). */
static bool al__lint_is_duration(unsigned lint)
{
    return lint == AL_LINT_NEVER_YIELDED || lint == AL_LINT_LONG_POLL;
}

typedef struct {
    uint64_t task, poll_begin_ns;
    bool blocked, never_yielded_fired;
    uint8_t block_kind;
    uint64_t block_detail;
} al__lint_worker_t;

struct al_lint {
    pthread_mutex_t lock;
    al_console_t *model;
    bool enabled[AL_LINT__COUNT];
    uint64_t threshold[AL_LINT__COUNT];
    uint64_t leak_window_ns;
    al_lint_fn fn;
    void *fn_ctx;
    al_lint_finding_t *findings;
    size_t num_findings, cap_findings, total_findings;
    size_t counts[AL_LINT__COUNT];
    al__lint_worker_t *workers;
    uint32_t num_workers;
    uint64_t leak_samples[AL__LINT_LEAK_SAMPLES];
    unsigned num_leak_samples;
    uint64_t next_leak_sample_ns;
    bool leak_fired, pool_fired;
    uint64_t last_check_ns;
};

const char *al_lint_name(unsigned lint)
{
    return lint < AL_LINT__COUNT ? al__lint_names[lint] : NULL;
}

int al_lint_from_name(const char *name, size_t len)
{
    for (unsigned i = 0; i < AL_LINT__COUNT; i++)
        if (strlen(al__lint_names[i]) == len && strncasecmp(al__lint_names[i], name, len) == 0)
            return (int)i;
    return -1;
}

/* ---- finding text ---------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap, len;
} al__text_t;

__attribute__((format(printf, 2, 3))) static void al__say(al__text_t *t, const char *fmt, ...)
{
    if (t->len >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}

static void al__say_dur(al__text_t *t, uint64_t ns)
{
    if (ns < 10000)
        al__say(t, "%" PRIu64 " ns", ns);
    else if (ns < 10000000)
        al__say(t, "%.1f us", (double)ns / 1e3);
    else if (ns < 10000000000ull)
        al__say(t, "%.0f ms", (double)ns / 1e6);
    else
        al__say(t, "%.1f s", (double)ns / 1e9);
}

static void al__say_task(al__text_t *t, al_console_t *m, uint64_t id)
{
    al__ctask_t *task = al__console_task(m, id);
    const char *name = task ? al__console_str(m, task->name) : "";
    if (name[0])
        al__say(t, "task %" PRIu64 " \"%s\"", id, name);
    else
        al__say(t, "task %" PRIu64, id);
}

static void al__say_res(al__text_t *t, al_console_t *m, uint64_t id)
{
    al__cres_t *r = al__console_res(m, id);
    const char *name = r ? al__console_str(m, r->name) : "";
    al__say(t, "%s %" PRIu64, r ? al_resource_kind_name(r->kind) : "resource", id);
    if (name[0])
        al__say(t, " \"%s\"", name);
}

/* "2 tasks waited in its queue: task 4 "heartbeat", task 9" */
static void al__say_queue(al__text_t *t, al_console_t *m, int16_t worker)
{
    if (worker < 0 || (uint32_t)worker >= m->num_workers)
        return;
    al__cworker_t *w = &m->workers[worker];
    uint32_t n = w->local.len + (w->lifo != AL__NIL);
    if (n == 0) {
        al__say(t, " Nothing was queued behind it on that worker.");
        return;
    }
    al__say(t, " %u task%s queued behind it on worker %d: ", n, n == 1 ? " was" : "s were", worker);
    unsigned shown = 0;
    if (w->lifo != AL__NIL) {
        al__say_task(t, m, m->tasks[w->lifo].id);
        shown++;
    }
    for (uint32_t s = w->local.head; s != AL__NIL && shown < 4; s = m->tasks[s].q_next) {
        al__say(t, "%s", shown ? ", " : "");
        al__say_task(t, m, m->tasks[s].id);
        shown++;
    }
    if (n > shown)
        al__say(t, ", and %u more", n - shown);
    al__say(t, ".");
}

static void al__fire(al_lint_t *l, unsigned lint, uint64_t ts, uint64_t task, uint64_t res,
                     int16_t worker, const al__text_t *text)
{
    l->counts[lint]++;
    l->total_findings++;
    if (l->num_findings == l->cap_findings) {
        if (l->cap_findings >= AL__LINT_MAX_FINDINGS)
            return; /* counted, not kept */
        size_t cap = l->cap_findings ? l->cap_findings * 2 : 16;
        al_lint_finding_t *grown = realloc(l->findings, cap * sizeof *grown);
        if (!grown)
            return;
        l->findings = grown;
        l->cap_findings = cap;
    }
    al_lint_finding_t *f = &l->findings[l->num_findings++];
    *f = (al_lint_finding_t){
        .lint = lint, .ts_ns = ts, .task = task, .resource = res, .worker = worker};
    snprintf(f->message, sizeof f->message, "%s", text->buf);
    if (l->fn)
        l->fn(l->fn_ctx, f);
}

#define AL__TEXT(name)                                                                             \
    char name##_buf[640];                                                                          \
    al__text_t name = {name##_buf, sizeof name##_buf, 0};                                          \
    name##_buf[0] = 0

static bool al__once(uint32_t *fired, unsigned lint)
{
    if (*fired & (1u << lint))
        return false;
    *fired |= 1u << lint;
    return true;
}

/* ---- the checks ------------------------------------------------------------------------- */

static void al__check_lost_waker(al_lint_t *l, al__ctask_t *t, uint64_t ts)
{
    if (!l->enabled[AL_LINT_LOST_WAKER] || !t->seen_spawn || t->state != AL_TASK_IDLE ||
        t->notified || t->wakers_alive > 0 || !al__once(&t->lint_fired, AL_LINT_LOST_WAKER))
        return;
    AL__TEXT(m);
    al__say(&m, "lost-waker: ");
    al__say_task(&m, l->model, t->id);
    al__say(&m,
            " returned Pending, is not scheduled, and no waker for it is alive: it will never "
            "run again (it stays alive, idle, forever). Whatever the future waits for must keep "
            "a clone of the waker from its context and wake it when ready.");
    al__fire(l, AL_LINT_LOST_WAKER, ts, t->id, 0, t->worker, &m);
}

static void al__check_long_poll(al_lint_t *l, al__ctask_t *t, int16_t worker, uint64_t dur,
                                const al__lint_worker_t *lw, uint64_t ts)
{
    if (!l->enabled[AL_LINT_LONG_POLL] || dur <= l->threshold[AL_LINT_LONG_POLL] ||
        !al__once(&t->lint_fired, AL_LINT_LONG_POLL))
        return;
    AL__TEXT(m);
    al__say(&m, "long-poll: ");
    al__say_task(&m, l->model, t->id);
    al__say(&m, " held worker %d for ", worker);
    al__say_dur(&m, dur);
    al__say(&m, " in one poll (threshold ");
    al__say_dur(&m, l->threshold[AL_LINT_LONG_POLL]);
    al__say(&m, ")");
    if (lw && lw->blocked) {
        al__say(&m, ", blocked in %s", al_block_kind_name(lw->block_kind));
        if (lw->block_kind == AL_BLOCK_THREAD_SLEEP || lw->block_kind == AL_BLOCK_SPIN)
            al__say(&m, " %" PRIu64 " ms", lw->block_detail);
    }
    al__say(&m, ".");
    al__say_queue(&m, l->model, worker);
    al__say(&m, lw && lw->blocked
                    ? " A blocking call inside a task stops its whole worker: await the async "
                      "version (rt.time.sleep, rt.sync.Mutex) or move it to spawn_blocking."
                    : " Long computations starve the worker's other tasks: yield inside loops "
                      "(rt.task.yield_now) or move the work to spawn_blocking.");
    al__fire(l, AL_LINT_LONG_POLL, ts, t->id, 0, worker, &m);
}

static void al__check_never_yielded(al_lint_t *l, uint64_t now)
{
    if (!l->enabled[AL_LINT_NEVER_YIELDED])
        return;
    for (uint32_t i = 0; i < l->num_workers; i++) {
        al__lint_worker_t *lw = &l->workers[i];
        if (!lw->task || lw->never_yielded_fired || now <= lw->poll_begin_ns ||
            now - lw->poll_begin_ns <= l->threshold[AL_LINT_NEVER_YIELDED])
            continue;
        lw->never_yielded_fired = true;
        AL__TEXT(m);
        al__say(&m, "never-yielded: ");
        al__say_task(&m, l->model, lw->task);
        al__say(&m, " has been running on worker %u for ", i);
        al__say_dur(&m, now - lw->poll_begin_ns);
        al__say(&m, " without returning to the scheduler");
        if (lw->blocked)
            al__say(&m, " (blocked in %s)", al_block_kind_name(lw->block_kind));
        al__say(&m, "; that worker runs nothing else meanwhile.");
        al__say_queue(&m, l->model, (int16_t)i);
        al__say(&m, " Await inside long loops (rt.task.yield_now), and keep blocking calls out "
                    "of tasks (spawn_blocking).");
        al__fire(l, AL_LINT_NEVER_YIELDED, now, lw->task, 0, (int16_t)i, &m);
    }
}

static void al__check_self_wakes(al_lint_t *l, al__ctask_t *t, uint64_t ts)
{
    uint64_t chosen =
        t->self_wakes - (t->forced_yields < t->self_wakes ? t->forced_yields : t->self_wakes);
    if (!l->enabled[AL_LINT_SELF_WAKES] || t->wakes < AL__LINT_MIN_WAKES ||
        chosen * 100 <= t->wakes * l->threshold[AL_LINT_SELF_WAKES] ||
        !al__once(&t->lint_fired, AL_LINT_SELF_WAKES))
        return;
    AL__TEXT(m);
    al__say(&m, "self-wakes: ");
    al__say_task(&m, l->model, t->id);
    al__say(&m,
            " woke itself %" PRIu64 " times out of %" PRIu64 " wakes (over %" PRIu64
            "%%): it is busy-polling, spending the workers on "
            "checking instead of waiting. Wait on the event itself (a channel, Notify, "
            "a timer) instead of yielding and re-checking.",
            chosen, t->wakes, l->threshold[AL_LINT_SELF_WAKES]);
    al__fire(l, AL_LINT_SELF_WAKES, ts, t->id, 0, t->worker, &m);
}

static bool al__lockish(const al__cres_t *r)
{
    return r->kind == AL_RES_MUTEX || r->kind == AL_RES_RWLOCK || r->kind == AL_RES_SEMAPHORE ||
           r->kind == AL_RES_STD_MUTEX || r->kind == AL__RES_UNKNOWN; /* known from LOCK_* */
}

/* Follow "waits for a lock held by" from start; a path back to start is a
 * deadlock. Only locks with a single holder count (a semaphore with several
 * holders may still be released by another). */
static void al__check_deadlock(al_lint_t *l, al__ctask_t *start, uint64_t ts)
{
    if (!l->enabled[AL_LINT_DEADLOCK] || (start->lint_fired & (1u << AL_LINT_DEADLOCK)))
        return;
    al_console_t *md = l->model;
    uint64_t tasks[AL__LINT_MAX_CYCLE], locks[AL__LINT_MAX_CYCLE];
    al__ctask_t *t = start;
    for (unsigned n = 0; n < AL__LINT_MAX_CYCLE; n++) {
        if (t->waiting_kind != AL_WAIT_RESOURCE || t->state == AL_TASK_DONE)
            return;
        al__cres_t *r = al__console_res(md, t->waiting_on);
        if (!r || !al__lockish(r) || r->holders != 1 || r->holder_ids[0] == 0)
            return;
        tasks[n] = t->id;
        locks[n] = r->id;
        uint64_t holder = r->holder_ids[0];
        if (holder == start->id) {
            AL__TEXT(m);
            al__say(&m, "deadlock: ");
            for (unsigned i = 0; i <= n; i++) {
                al__ctask_t *member = al__console_task(md, tasks[i]);
                if (member)
                    member->lint_fired |= 1u << AL_LINT_DEADLOCK;
                al__say_task(&m, md, tasks[i]);
                al__say(&m, " waits for ");
                al__say_res(&m, md, locks[i]);
                al__say(&m, " held by ");
                al__say_task(&m, md, i == n ? start->id : tasks[i + 1]);
                al__say(&m, i == n ? ". " : "; ");
            }
            al__say(&m, n == 0 ? "A task waiting for a lock it holds itself waits forever: "
                                 "release the guard before locking again."
                               : "None of them can go on. Take the locks in one global order "
                                 "everywhere, or never hold one lock while waiting for another.");
            al__fire(l, AL_LINT_DEADLOCK, ts, start->id, locks[0], start->worker, &m);
            return;
        }
        t = al__console_task(md, holder);
        if (!t)
            return;
    }
}

static void al__check_backlog(al_lint_t *l, al__cres_t *r, uint64_t ts, uint64_t task)
{
    if (!l->enabled[AL_LINT_CHANNEL_BACKLOG] ||
        r->queue_len < l->threshold[AL_LINT_CHANNEL_BACKLOG] ||
        !al__once(&r->lint_fired, AL_LINT_CHANNEL_BACKLOG))
        return;
    AL__TEXT(m);
    al__say(&m, "channel-backlog: ");
    al__say_res(&m, l->model, r->id);
    al__say(&m, " holds %" PRIu64 " messages (threshold %" PRIu64 "), last sent by ", r->queue_len,
            l->threshold[AL_LINT_CHANNEL_BACKLOG]);
    al__say_task(&m, l->model, task);
    al__say(&m, ": the senders outrun the receiver and memory grows without bound. Use a bounded "
                "channel so that senders wait (backpressure), or add receivers.");
    al__fire(l, AL_LINT_CHANNEL_BACKLOG, ts, task, r->id, -1, &m);
}

static void al__check_pool(al_lint_t *l, uint64_t ts)
{
    al_console_t *md = l->model;
    if (!l->enabled[AL_LINT_BLOCKING_POOL_GROWTH] || l->pool_fired ||
        md->blocking_threads < l->threshold[AL_LINT_BLOCKING_POOL_GROWTH])
        return;
    l->pool_fired = true;
    AL__TEXT(m);
    al__say(&m,
            "blocking-pool-growth: the blocking pool grew to %u threads (threshold %" PRIu64
            "), %u jobs queued: blocking work arrives faster than it finishes, and every "
            "thread costs memory. Bound concurrent spawn_blocking calls with a Semaphore, or "
            "make the work asynchronous.",
            md->blocking_threads, l->threshold[AL_LINT_BLOCKING_POOL_GROWTH],
            md->blocking_queue.len);
    al__fire(l, AL_LINT_BLOCKING_POOL_GROWTH, ts, 0, 0, -1, &m);
}

static int al__cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void al__check_leak(al_lint_t *l, uint64_t ts)
{
    al_console_t *md = l->model;
    if (!l->enabled[AL_LINT_TASK_LEAK] || l->leak_fired)
        return;
    if (l->next_leak_sample_ns == 0)
        l->next_leak_sample_ns = ts;
    if (ts < l->next_leak_sample_ns)
        return;
    l->next_leak_sample_ns = ts + l->leak_window_ns;
    if (l->num_leak_samples == AL__LINT_LEAK_SAMPLES) {
        memmove(l->leak_samples, l->leak_samples + 1,
                (AL__LINT_LEAK_SAMPLES - 1) * sizeof *l->leak_samples);
        l->num_leak_samples--;
    }
    l->leak_samples[l->num_leak_samples++] = md->alive;
    if (l->num_leak_samples < AL__LINT_LEAK_SAMPLES)
        return;
    for (unsigned i = 1; i < AL__LINT_LEAK_SAMPLES; i++)
        if (l->leak_samples[i] <= l->leak_samples[i - 1])
            return;
    uint64_t first = l->leak_samples[0], last = l->leak_samples[AL__LINT_LEAK_SAMPLES - 1];
    if (last - first < l->threshold[AL_LINT_TASK_LEAK])
        return;
    l->leak_fired = true;
    /* The leaked tasks are the many of a kind: find the commonest name among
     * alive tasks, then its oldest member. */
    uint32_t *names = malloc((size_t)md->alive * sizeof *names);
    size_t n = 0;
    for (uint32_t i = 0; names && i < md->num_task_slots && n < md->alive; i++)
        if (md->tasks[i].used && md->tasks[i].state != AL_TASK_DONE)
            names[n++] = md->tasks[i].name;
    uint32_t common = 0;
    size_t common_n = 0;
    if (names) {
        qsort(names, n, sizeof *names, al__cmp_u32);
        for (size_t i = 0, run = 1; i < n; i++, run++) {
            if (i + 1 < n && names[i + 1] == names[i])
                continue;
            if (run > common_n) {
                common_n = run;
                common = names[i];
            }
            run = 0;
        }
        free(names);
    }
    al__ctask_t *oldest = NULL;
    for (uint32_t i = 0; i < md->num_task_slots; i++) {
        al__ctask_t *t = &md->tasks[i];
        if (t->used && t->state != AL_TASK_DONE && t->name == common &&
            (!oldest || t->spawned_ns < oldest->spawned_ns))
            oldest = t;
    }
    AL__TEXT(m);
    al__say(&m, "task-leak: alive tasks grew from %" PRIu64 " to %" PRIu64 " over ", first, last);
    al__say_dur(&m, (AL__LINT_LEAK_SAMPLES - 1) * l->leak_window_ns);
    al__say(&m, ", in every window: tasks are spawned faster than they finish.");
    if (oldest) {
        al__say(&m, " %zu of the alive tasks are like ", common_n);
        al__say_task(&m, md, oldest->id);
        al__say(&m, " (%s", al_task_state_name(oldest->state));
        if (oldest->waiting_kind == AL_WAIT_RESOURCE) {
            al__say(&m, ", waiting on ");
            al__say_res(&m, md, oldest->waiting_on);
        }
        al__say(&m, "), the oldest of them.");
    }
    al__say(&m, " Keep the JoinHandles (or a JoinSet) and await or abort them; bound how many "
                "run at once with a Semaphore.");
    al__fire(l, AL_LINT_TASK_LEAK, ts, oldest ? oldest->id : 0, 0, -1, &m);
}

/* ---- per event -------------------------------------------------------------------------- */

static al__lint_worker_t *al__lint_worker(al_lint_t *l, int16_t w)
{
    if (w < 0 || w > 4096)
        return NULL;
    if ((uint32_t)w >= l->num_workers) {
        uint32_t n = (uint32_t)w + 1;
        al__lint_worker_t *grown = realloc(l->workers, n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + l->num_workers, 0, (n - l->num_workers) * sizeof *grown);
        l->workers = grown;
        l->num_workers = n;
    }
    return &l->workers[w];
}

static void al__lint_event(al_lint_t *l, const al_trace_event_t *ev)
{
    al_console_t *md = l->model;
    al__lint_worker_t *lw = al__lint_worker(l, ev->worker);
    al__ctask_t *t = NULL;
    uint64_t poll_ns = 0;
    bool polled = false;
    if (ev->kind == AL_EV_POLL_END && (t = al__console_task(md, ev->task)) &&
        (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED)) {
        polled = true;
        poll_ns = ev->ts_ns > t->poll_begin_ns ? ev->ts_ns - t->poll_begin_ns : 0;
        /* Before the model forgets the poll: who was queued behind it. */
        if (!(t->lint_fired & (1u << AL_LINT_LONG_POLL)))
            al__check_long_poll(l, t, ev->worker, poll_ns, lw, ev->ts_ns);
    }
    al__console_apply(md, ev);
    switch (ev->kind) {
    case AL_EV_POLL_BEGIN:
        if (lw)
            *lw = (al__lint_worker_t){.task = ev->task, .poll_begin_ns = ev->ts_ns};
        break;
    case AL_EV_POLL_END:
        if (lw)
            *lw = (al__lint_worker_t){0};
        if (polled && ev->a == AL_POLL_END_PENDING && (t = al__console_task(md, ev->task)))
            al__check_lost_waker(l, t, ev->ts_ns);
        break;
    case AL_EV_BLOCK_BEGIN:
        if (lw && lw->task) {
            lw->blocked = true;
            lw->block_kind = (uint8_t)ev->a;
            lw->block_detail = ev->b;
        }
        break;
    case AL_EV_WAKER_DROP:
        if ((t = al__console_task(md, ev->task)))
            al__check_lost_waker(l, t, ev->ts_ns);
        break;
    case AL_EV_WAKE:
        if ((t = al__console_task(md, ev->task)))
            al__check_self_wakes(l, t, ev->ts_ns);
        break;
    case AL_EV_LOCK_CONTEND:
        if ((t = al__console_task(md, ev->task)))
            al__check_deadlock(l, t, ev->ts_ns);
        break;
    case AL_EV_LOCK_ACQUIRE:
    case AL_EV_SEM_ACQUIRE: {
        /* A new holder may close a cycle of tasks already waiting on it. */
        al__cres_t *r = al__console_res(md, ev->a);
        if (r && (t = al__console_task(md, ev->task)))
            al__check_deadlock(l, t, ev->ts_ns);
        break;
    }
    case AL_EV_BLOCKING_THREAD_START:
        al__check_pool(l, ev->ts_ns);
        break;
    case AL_EV_CHAN_SEND: {
        al__cres_t *r = al__console_res(md, ev->a);
        if (r)
            al__check_backlog(l, r, ev->ts_ns, ev->task);
        break;
    }
    default:
        break;
    }
    al__check_leak(l, ev->ts_ns);
}

/* ---- the consumer ----------------------------------------------------------------------- */

static void al__lint_on_header(void *self, const al_stream_header_t *h)
{
    al_lint_t *l = self;
    pthread_mutex_lock(&l->lock);
    al__console_header(l->model, h);
    pthread_mutex_unlock(&l->lock);
}

static void al__lint_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_lint_t *l = self;
    pthread_mutex_lock(&l->lock);
    al__console_string(l->model, id, s, len);
    pthread_mutex_unlock(&l->lock);
}

static void al__lint_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_lint_t *l = self;
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < n; i++)
        al__lint_event(l, &ev[i]);
    if (n)
        al__check_never_yielded(l, ev[n - 1].ts_ns);
    pthread_mutex_unlock(&l->lock);
}

const al_stream_consumer_t al_lint_consumer = {
    .on_header = al__lint_on_header,
    .on_string = al__lint_on_string,
    .on_events = al__lint_on_events,
};

void al_lint_check_now(al_lint_t *l, uint64_t now_ns)
{
    pthread_mutex_lock(&l->lock);
    al__check_never_yielded(l, now_ns);
    pthread_mutex_unlock(&l->lock);
}

/* ---- setup ------------------------------------------------------------------------------ */

int al_lint_new(al_lint_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_lint_t *l = calloc(1, sizeof *l);
    if (!l)
        return AL_ENOMEM;
    int rc = al_console_new(NULL, &l->model);
    if (rc != 0) {
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->lock, NULL);
    for (unsigned i = 0; i < AL_LINT__COUNT; i++) {
        l->enabled[i] = true;
        l->threshold[i] = al__lint_defaults[i];
    }
    l->leak_window_ns = 1000000000ull;
    *out = l;
    return 0;
}

void al_lint_free(al_lint_t *l)
{
    if (!l)
        return;
    al_console_free(l->model);
    free(l->findings);
    free(l->workers);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void al_lint_enable(al_lint_t *l, unsigned lint, bool on)
{
    if (lint < AL_LINT__COUNT)
        l->enabled[lint] = on;
}

void al_lint_set_threshold(al_lint_t *l, unsigned lint, uint64_t threshold)
{
    if (lint < AL_LINT__COUNT)
        l->threshold[lint] = threshold;
}

uint64_t al_lint_threshold(const al_lint_t *l, unsigned lint)
{
    return lint < AL_LINT__COUNT ? l->threshold[lint] : 0;
}

void al_lint_on_finding(al_lint_t *l, al_lint_fn fn, void *ctx)
{
    pthread_mutex_lock(&l->lock);
    l->fn = fn;
    l->fn_ctx = ctx;
    pthread_mutex_unlock(&l->lock);
}

/* "250ms", "2s", "1500" (ms) -> ns; false on junk. */
static bool al__parse_duration(const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || v < 0)
        return false;
    double mult = 1e6;
    if (strcmp(end, "ns") == 0)
        mult = 1;
    else if (strcmp(end, "us") == 0)
        mult = 1e3;
    else if (strcmp(end, "ms") == 0 || *end == 0)
        mult = 1e6;
    else if (strcmp(end, "s") == 0)
        mult = 1e9;
    else
        return false;
    *out = (uint64_t)(v * mult);
    return true;
}

static bool al__parse_count(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 18)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

int al_lint_configure(al_lint_t *l, const char *spec, char *err, size_t err_cap)
{
    if (!l || !spec)
        return AL_EINVAL;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        size_t pos = (size_t)(p - spec) + 1;
        if (!eq) {
            snprintf(err, err_cap,
                     "lint setting '%.*s' at position %zu has no '=' (try long-poll=5ms or "
                     "self-wakes=off)",
                     (int)len, p, pos);
            return AL_EINVAL;
        }
        size_t nlen = (size_t)(eq - p), vlen = len - nlen - 1;
        const char *val = eq + 1;
        if (nlen == 16 && strncasecmp(p, "task-leak.window", 16) == 0) {
            uint64_t w;
            if (!al__parse_duration(val, vlen, &w) || w == 0) {
                snprintf(
                    err, err_cap,
                    "bad duration '%.*s' for task-leak.window at position %zu (try 500ms or 2s)",
                    (int)vlen, val, pos);
                return AL_EINVAL;
            }
            l->leak_window_ns = w;
        } else {
            int id = al_lint_from_name(p, nlen);
            if (id < 0) {
                snprintf(err, err_cap,
                         "unknown lint '%.*s' at position %zu (lints: lost-waker, never-yielded, "
                         "long-poll, self-wakes, deadlock, task-leak, blocking-pool-growth, "
                         "channel-backlog)",
                         (int)nlen, p, pos);
                return AL_EINVAL;
            }
            uint64_t v;
            if (vlen == 3 && strncasecmp(val, "off", 3) == 0)
                l->enabled[id] = false;
            else if (vlen == 2 && strncasecmp(val, "on", 2) == 0)
                l->enabled[id] = true;
            else if (al__lint_is_duration((unsigned)id) ? al__parse_duration(val, vlen, &v)
                                                        : al__parse_count(val, vlen, &v)) {
                l->threshold[id] = v;
                l->enabled[id] = true;
            } else {
                snprintf(err, err_cap, "bad value '%.*s' for %s at position %zu (on, off, or a %s)",
                         (int)vlen, val, al__lint_names[id], pos,
                         al__lint_is_duration((unsigned)id) ? "duration such as 5ms" : "number");
                return AL_EINVAL;
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

size_t al_lint_findings(al_lint_t *l, al_lint_finding_t *out, size_t max)
{
    pthread_mutex_lock(&l->lock);
    size_t n = l->num_findings < max ? l->num_findings : max;
    if (out && n)
        memcpy(out, l->findings, n * sizeof *out);
    size_t total = l->num_findings;
    pthread_mutex_unlock(&l->lock);
    return total;
}

size_t al_lint_count(al_lint_t *l, unsigned lint)
{
    pthread_mutex_lock(&l->lock);
    size_t n = lint < AL_LINT__COUNT ? l->counts[lint] : 0;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void al_lint_print(al_lint_t *l, uint64_t base_ns, FILE *out)
{
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->num_findings; i++) {
        const al_lint_finding_t *f = &l->findings[i];
        double at = f->ts_ns > base_ns ? (double)(f->ts_ns - base_ns) / 1e9 : 0;
        fprintf(out, "[%12.6f] %s\n", at, f->message);
    }
    if (l->total_findings > l->num_findings)
        fprintf(out, "(%zu more findings not kept)\n", l->total_findings - l->num_findings);
    pthread_mutex_unlock(&l->lock);
}
