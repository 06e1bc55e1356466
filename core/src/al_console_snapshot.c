/*
 * al_console_snapshot.c — consistent copies of the console model (see
 * al_console.h), with the figures a reader wants derived: idle time, busy %,
 * percentiles, queue contents.
 */
#include <stdlib.h>
#include <string.h>

#include "al_console_internal.h"
#include "al_error.h"
#include <time.h>

typedef struct al__snap_text {
    struct al__snap_text *next;
    char text[];
} al__snap_text_t;

typedef struct {
    uint64_t *ids;          /* every queue's task ids, back to back */
    al__snap_text_t *texts; /* task details (al_console_snapshot_set_detail) */
} al__snap_arena_t;

static int al__cmp_task(const void *a, const void *b)
{
    uint64_t x = ((const al_console_task_t *)a)->id, y = ((const al_console_task_t *)b)->id;
    return x < y ? -1 : x > y;
}

static int al__cmp_res(const void *a, const void *b)
{
    uint64_t x = ((const al_console_resource_t *)a)->id, y = ((const al_console_resource_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* A task's p50 / p90 / p99, recomputed only when the histogram has new
 * samples since the last snapshot (the caller holds the model's lock). */
static uint64_t *al__task_quantiles(const al_histogram_t *h, uint64_t *count, uint64_t q[3])
{
    if (*count != h->count || h->count == 0) {
        al_histogram_quantiles(h, (const double[]){0.50, 0.90, 0.99}, 3, q);
        *count = h->count;
    }
    return q;
}

static void al__snap_task(const al_console_t *c, al__ctask_t *t, uint64_t now, al_console_task_t *o)
{
    *o = (al_console_task_t){
        .id = t->id,
        .parent = t->parent,
        .name = al__console_str(c, t->name),
        .location = al__console_str(c, t->loc),
        .panic = al__console_str(c, t->panic),
        .detail = "",
        .kind = t->kind,
        .state = t->state,
        .end = t->end,
        .block_kind = t->block_kind,
        .last_wake_source = t->last_wake_source,
        .queue = t->queue,
        .worker = t->worker,
        .queue_worker = t->queue_owner >= 0 ? t->queue_owner : -1,
        .spawned_ns = t->spawned_ns,
        .first_poll_ns = t->first_poll_ns,
        .ended_ns = t->ended_ns,
        .last_woken_ns = t->last_woken_ns,
        .last_poll_ns = t->last_poll_ns,
        .state_since_ns = t->state_since_ns,
        .busy_ns = t->busy_ns,
        .scheduled_ns = t->scheduled_ns,
        .polls = t->polls,
        .wakes = t->wakes,
        .self_wakes = t->self_wakes,
        .waker_clones = t->clones,
        .waker_drops = t->drops,
        .wakers_alive = t->wakers_alive,
        .waiting_kind = t->waiting_kind,
        .waiting_on = t->waiting_on,
        .waiting_since_ns = t->waiting_since_ns,
        .timer_deadline_ns = t->timer_deadline_ns,
    };
    uint64_t end = t->state == AL_TASK_DONE ? t->ended_ns : now;
    o->total_ns = end > t->spawned_ns ? end - t->spawned_ns : 0;
    /* Ongoing states count up to now. */
    if ((t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED) && now > t->poll_begin_ns)
        o->busy_ns += now - t->poll_begin_ns;
    if (t->state == AL_TASK_SCHEDULED && now > t->state_since_ns)
        o->scheduled_ns += now - t->state_since_ns;
    uint64_t accounted = o->busy_ns + o->scheduled_ns;
    o->idle_ns = o->total_ns > accounted ? o->total_ns - accounted : 0;
    if (t->polls)
        o->first_poll_delay_ns =
            t->first_poll_ns > t->spawned_ns ? t->first_poll_ns - t->spawned_ns : 0;
    if (t->poll_h) {
        uint64_t *p = al__task_quantiles(t->poll_h, &t->poll_q_count, t->poll_q);
        o->poll_p50_ns = p[0], o->poll_p90_ns = p[1], o->poll_p99_ns = p[2];
        o->poll_max_ns = t->poll_h->max_ns;
    }
    if (t->sched_h) {
        uint64_t *p = al__task_quantiles(t->sched_h, &t->sched_q_count, t->sched_q);
        o->sched_p50_ns = p[0], o->sched_p90_ns = p[1], o->sched_p99_ns = p[2];
        o->sched_max_ns = t->sched_h->max_ns;
    }
}

static void al__snap_res(const al_console_t *c, const al__cres_t *r, al_console_resource_t *o)
{
    *o = (al_console_resource_t){.id = r->id,
                                 .creator = r->creator,
                                 .name = al__console_str(c, r->name),
                                 .kind = r->kind,
                                 .dropped = r->dropped,
                                 .closed = r->closed,
                                 .created_ns = r->created_ns,
                                 .holder = r->holders ? r->holder_ids[0] : 0,
                                 .holders = r->holders,
                                 .waiters = r->waiters,
                                 .ops = r->ops,
                                 .queue_len = r->queue_len,
                                 .queue_max = r->queue_max};
    if (r->wait_h) {
        o->waits = r->wait_h->count;
        o->wait_p50_ns = al_histogram_quantile(r->wait_h, 0.50);
        o->wait_p99_ns = al_histogram_quantile(r->wait_h, 0.99);
        o->wait_max_ns = r->wait_h->max_ns;
    }
}

/* Copy a queue's task ids (oldest first) into ids; returns how many. */
static uint32_t al__snap_queue(const al_console_t *c, uint32_t head, uint64_t *ids, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t s = head; s != AL__NIL && n < max; s = c->tasks[s].q_next)
        ids[n++] = c->tasks[s].id;
    return n;
}

al_console_snapshot_t *al__console_snapshot_locked(al_console_t *c, uint64_t now)
{
    if (now == 0)
        now = c->cfg.stop_at_ns && c->cfg.stop_at_ns > c->last_ns ? c->cfg.stop_at_ns : c->last_ns;
    al_console_snapshot_t *s = calloc(1, sizeof *s);
    al__snap_arena_t *arena = calloc(1, sizeof *arena);
    size_t queued = c->inject.len;
    for (uint32_t i = 0; i < c->num_workers; i++)
        queued += c->workers[i].local.len;
    size_t ntask = c->task_ids.len, nres = c->res_ids.len;
    if (s) {
        s->tasks = calloc(ntask ? ntask : 1, sizeof *s->tasks);
        s->resources = calloc(nres ? nres : 1, sizeof *s->resources);
        s->workers = calloc(c->num_workers ? c->num_workers : 1, sizeof *s->workers);
    }
    if (arena)
        arena->ids = calloc(queued ? queued : 1, sizeof *arena->ids);
    if (!s || !arena || !s->tasks || !s->resources || !s->workers || !arena->ids) {
        if (s) {
            free(s->tasks);
            free(s->resources);
            free(s->workers);
        }
        if (arena)
            free(arena->ids);
        free(arena);
        free(s);
        return NULL;
    }
    s->arena_ = arena;
    s->header = c->header;
    s->start_ns = c->start_ns;
    s->now_ns = now;
    s->events = c->events;
    s->dropped = c->dropped;
    s->alive_tasks = c->alive;
    s->spawned_tasks = c->spawned;
    for (uint32_t i = 0; i < c->num_task_slots && s->num_tasks < ntask; i++)
        if (c->tasks[i].used)
            al__snap_task(c, &c->tasks[i], now, &s->tasks[s->num_tasks++]);
    qsort(s->tasks, s->num_tasks, sizeof *s->tasks, al__cmp_task);
    for (uint32_t i = 0; i < c->num_res_slots && s->num_resources < nres; i++)
        if (c->res[i].used)
            al__snap_res(c, &c->res[i], &s->resources[s->num_resources++]);
    qsort(s->resources, s->num_resources, sizeof *s->resources, al__cmp_res);

    uint64_t *ids = arena->ids;
    /* A worker seen in no event yet has been in its state since recording
     * began (the first event, or the stream's clock base). */
    uint64_t since_start = c->start_ns ? c->start_ns : c->header.clock_base_ns;
    uint64_t observed = now > c->start_ns ? now - c->start_ns : 0;
    s->num_workers = c->num_workers;
    for (uint32_t i = 0; i < c->num_workers; i++) {
        const al__cworker_t *w = &c->workers[i];
        al_console_worker_t *o = &s->workers[i];
        *o = (al_console_worker_t){.state = w->state,
                                   .block_kind = w->block_kind,
                                   .block_detail = w->block_detail,
                                   .state_since_ns =
                                       w->state_since_ns ? w->state_since_ns : since_start,
                                   .current_task = w->current,
                                   .lifo_task = w->lifo != AL__NIL ? c->tasks[w->lifo].id : 0,
                                   .polls = w->polls,
                                   .steals = w->steals,
                                   .stolen_tasks = w->stolen_tasks,
                                   .parks = w->parks,
                                   .overflows = w->overflows,
                                   .busy_ns = w->busy_ns};
        if ((w->state == AL_WORKER_RUNNING || w->state == AL_WORKER_BLOCKED) && w->current) {
            const al__ctask_t *t = al__console_task(c, w->current);
            if (t && now > t->poll_begin_ns)
                o->busy_ns += now - t->poll_begin_ns;
        }
        o->busy_pct = observed ? 100.0 * (double)o->busy_ns / (double)observed : 0;
        if (o->busy_pct > 100)
            o->busy_pct = 100;
        o->local_queue = ids;
        o->local_depth = al__snap_queue(c, w->local.head, ids, w->local.len);
        ids += o->local_depth;
    }
    s->inject_queue = ids;
    s->inject_depth = al__snap_queue(c, c->inject.head, ids, c->inject.len);
    s->blocking_queue_depth = c->blocking_queue.len;
    s->blocking_threads = c->blocking_threads;
    for (uint32_t i = 0; i < c->num_blocking_slots; i++)
        s->blocking_busy += c->blocking_running[i] != 0;
    s->pending_timers = c->pending_timers;
    for (size_t i = 0; i < s->num_tasks; i++) {
        const al_console_task_t *t = &s->tasks[i];
        if (t->waiting_kind == AL_WAIT_TIMER &&
            (s->next_timer_deadline_ns == 0 || t->timer_deadline_ns < s->next_timer_deadline_ns))
            s->next_timer_deadline_ns = t->timer_deadline_ns;
    }
    return s;
}

al_console_snapshot_t *al_console_snapshot(al_console_t *c, uint64_t now_ns)
{
    pthread_mutex_lock(&c->lock);
    al_console_snapshot_t *s = al__console_snapshot_locked(c, now_ns);
    al_console_detail_fn fn = c->detail_fn;
    void *ctx = c->detail_ctx;
    pthread_mutex_unlock(&c->lock);
    /* Outside the lock: the source takes its own locks (the Lua layer's
     * per-task poll locks), and the collector must not wait for it. */
    if (s && fn)
        fn(ctx, s);
    return s;
}

void al_console_set_detail_source(al_console_t *c, al_console_detail_fn fn, void *ctx)
{
    pthread_mutex_lock(&c->lock);
    c->detail_fn = fn;
    c->detail_ctx = ctx;
    pthread_mutex_unlock(&c->lock);
}

bool al_console_snapshot_set_detail(al_console_snapshot_t *s, uint64_t task, const char *text)
{
    al_console_task_t *t = (al_console_task_t *)al_console_find_task(s, task);
    if (!t || !text)
        return false;
    size_t len = strlen(text);
    al__snap_text_t *node = malloc(sizeof *node + len + 1);
    if (!node)
        return false;
    memcpy(node->text, text, len + 1);
    al__snap_arena_t *arena = s->arena_;
    node->next = arena->texts;
    arena->texts = node;
    t->detail = node->text;
    return true;
}

void al_console_snapshot_free(al_console_snapshot_t *s)
{
    if (!s)
        return;
    al__snap_arena_t *arena = s->arena_;
    for (al__snap_text_t *n = arena->texts, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    free(arena->ids);
    free(arena);
    free(s->tasks);
    free(s->resources);
    free(s->workers);
    free(s);
}

const al_console_task_t *al_console_find_task(const al_console_snapshot_t *s, uint64_t id)
{
    al_console_task_t key = {.id = id};
    return bsearch(&key, s->tasks, s->num_tasks, sizeof key, al__cmp_task);
}

const al_console_resource_t *al_console_find_resource(const al_console_snapshot_t *s, uint64_t id)
{
    al_console_resource_t key = {.id = id};
    return bsearch(&key, s->resources, s->num_resources, sizeof key, al__cmp_res);
}

int al_console_attach(struct al_runtime *rt, al_console_t **out)
{
    if (!rt || !out)
        return AL_EINVAL;
    al_console_t *c;
    int rc = al_console_new(NULL, &c);
    if (rc != 0)
        return rc;
    al_stream_t *st = al_stream_of(rt);
    if (!st && (rc = al_stream_start(rt, NULL, &st)) != 0) {
        al_console_free(c);
        return rc;
    }
    if ((rc = al_stream_subscribe(st, &al_console_consumer, c)) != 0) {
        al_console_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void al_console_dump_now(void *console, FILE *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    al_console_snapshot_t *s =
        al_console_snapshot(console, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    if (!s) {
        fprintf(out, "asynclab: no memory for a task dump\n");
        return;
    }
    al_console_print_dump(s, out);
    al_console_snapshot_free(s);
}
