/*
 * viz_panel.c — the console panel's model (see viz_panel.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "viz_panel.h"

static const char *const viz__col_names[VIZ_PANEL_COLS] = {"task", "state", "polls",     "wakes",
                                                           "busy", "sched", "last poll", "idle"};

const char *viz_panel_col_name(unsigned col)
{
    return col < VIZ_PANEL_COLS ? viz__col_names[col] : "?";
}

int viz_panel_col_for_key(int key)
{
    return key >= '1' && key <= '6' ? VIZ_COL_STATE + (key - '1') : -1;
}

void viz_panel_sort_by(viz_panel_view_t *view, unsigned col)
{
    if (col >= VIZ_PANEL_COLS)
        return;
    if (view->sort == col) {
        view->reversed = !view->reversed;
    } else {
        view->sort = (uint8_t)col;
        view->reversed = false;
    }
}

bool viz_panel_ascending(const viz_panel_view_t *view)
{
    unsigned c = view->sort;
    bool natural = c == VIZ_COL_TASK || c == VIZ_COL_STATE || c == VIZ_COL_LAST_POLL;
    return natural != view->reversed;
}

int viz_panel_row_of(const viz_panel_t *p, uint64_t id)
{
    for (uint32_t i = 0; i < p->num_rows; i++)
        if (p->rows[i].id == id)
            return (int)i;
    return -1;
}

/* ---- the table ---- */

static void viz__label(const al_console_task_t *t, char *buf, size_t cap)
{
    if (t->name[0])
        snprintf(buf, cap, "%s", t->name);
    else
        snprintf(buf, cap, "task %" PRIu64, t->id);
}

static void viz__row(viz_panel_row_t *r, const al_console_task_t *t, uint64_t now)
{
    memset(r, 0, sizeof *r);
    r->id = t->id;
    viz__label(t, r->label, sizeof r->label);
    r->state = t->state;
    r->polls = t->polls;
    r->wakes = t->wakes;
    r->busy_ns = t->busy_ns;
    r->idle_ns = t->idle_ns;
    r->sched_ns = t->scheduled_ns;
    r->never_polled = t->polls == 0;
    r->last_poll_ago_ns = !r->never_polled && now > t->last_poll_ns ? now - t->last_poll_ns : 0;
}

/* The sort key of task t in column col. */
static uint64_t viz__key(const al_console_task_t *t, unsigned col, uint64_t now)
{
    switch (col) {
    case VIZ_COL_STATE:
        return t->state;
    case VIZ_COL_POLLS:
        return t->polls;
    case VIZ_COL_WAKES:
        return t->wakes;
    case VIZ_COL_BUSY:
        return t->busy_ns;
    case VIZ_COL_SCHED:
        return t->scheduled_ns;
    case VIZ_COL_IDLE:
        return t->idle_ns;
    case VIZ_COL_LAST_POLL: /* how long ago; never polled sorts last */
        return t->polls == 0 ? UINT64_MAX : now > t->last_poll_ns ? now - t->last_poll_ns : 0;
    default:
        return t->id;
    }
}

typedef struct {
    uint64_t key, id;
    size_t index; /* in the snapshot */
} viz__ranked_t;

/* Whether a goes before b (ties: by id, so the order is stable). */
static bool viz__before(const viz__ranked_t *a, const viz__ranked_t *b, bool asc)
{
    if (a->key != b->key)
        return (a->key < b->key) == asc;
    return a->id < b->id;
}

/* The first VIZ_PANEL_ROWS tasks in the chosen order, kept sorted as the
 * snapshot is scanned once: O(tasks x log rows), and only the rows kept are
 * formatted (every frame, with up to 100,000 tasks). */
static void viz__table(viz_panel_t *p, const al_console_snapshot_t *snap,
                       const viz_panel_view_t *view, const viz_selection_t *sel)
{
    unsigned col = view->sort < VIZ_PANEL_COLS ? view->sort : VIZ_COL_TASK;
    bool asc = viz_panel_ascending(view);
    viz__ranked_t best[VIZ_PANEL_ROWS];
    uint32_t n = 0;
    for (size_t i = 0; i < snap->num_tasks; i++) {
        const al_console_task_t *t = &snap->tasks[i];
        viz__ranked_t r = {viz__key(t, col, snap->now_ns), t->id, i};
        if (n == VIZ_PANEL_ROWS && !viz__before(&r, &best[n - 1], asc))
            continue;
        uint32_t lo = 0, hi = n; /* the first place r goes before */
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (viz__before(&r, &best[mid], asc))
                hi = mid;
            else
                lo = mid + 1;
        }
        uint32_t keep = n < VIZ_PANEL_ROWS ? n : VIZ_PANEL_ROWS - 1;
        memmove(&best[lo + 1], &best[lo], (keep - lo) * sizeof best[0]);
        best[lo] = r;
        if (n < VIZ_PANEL_ROWS)
            n++;
    }
    p->num_rows = n;
    bool selected_listed = false;
    for (uint32_t k = 0; k < n; k++) {
        viz__row(&p->rows[k], &snap->tasks[best[k].index], snap->now_ns);
        selected_listed |= sel->kind == VIZ_SEL_TASK && best[k].id == sel->id;
    }
    if (sel->kind == VIZ_SEL_TASK && !selected_listed && n == VIZ_PANEL_ROWS) {
        const al_console_task_t *t = al_console_find_task(snap, sel->id);
        if (t) /* the selection stays in view, in the last row */
            viz__row(&p->rows[n - 1], t, snap->now_ns);
    }
}

/* ---- lints ---- */

/* Whether finding f still holds as of the snapshot (see viz_panel_lint_t). */
static bool viz__lint_now(const al_console_snapshot_t *snap, const al_lint_finding_t *f)
{
    const al_console_task_t *t = f->task ? al_console_find_task(snap, f->task) : NULL;
    if (!t || t->state == AL_TASK_DONE)
        return false;
    switch (f->lint) {
    case AL_LINT_DEADLOCK:
        return t->state == AL_TASK_IDLE && t->waiting_kind == AL_WAIT_RESOURCE;
    case AL_LINT_LOST_WAKER:
        return t->state == AL_TASK_IDLE && t->wakers_alive <= 0;
    case AL_LINT_NEVER_YIELDED:
        return (t->state == AL_TASK_RUNNING || t->state == AL_TASK_BLOCKED) &&
               t->last_poll_ns <= f->ts_ns;
    case AL_LINT_SELF_WAKES:
        return true;
    default:
        return false;
    }
}

static void viz__lints(viz_panel_t *p, const al_console_snapshot_t *snap,
                       const al_lint_finding_t *f, size_t n)
{
    /* Two passes, newest first: the findings still true now, then the rest. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = n; i-- > 0;) {
            if (f[i].ts_ns > snap->now_ns)
                continue;
            bool now = viz__lint_now(snap, &f[i]);
            if (now != (pass == 0))
                continue;
            p->lints_total++;
            p->lints_now += now;
            if (p->num_lints >= VIZ_PANEL_LINTS)
                continue;
            viz_panel_lint_t *l = &p->lints[p->num_lints++];
            l->lint = f[i].lint;
            l->now = now;
            l->ago_ns = snap->now_ns - f[i].ts_ns;
            l->task = f[i].task;
            l->resource = f[i].resource;
            snprintf(l->message, sizeof l->message, "%s", f[i].message);
        }
}

/* ---- details ---- */

__attribute__((format(printf, 2, 3))) static void viz__line(viz_panel_details_t *d, const char *fmt,
                                                            ...)
{
    if (d->num_lines >= sizeof d->lines / sizeof d->lines[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->lines[d->num_lines++], sizeof d->lines[0], fmt, ap);
    va_end(ap);
}

static const char *viz__dur(char *buf, uint64_t ns)
{
    return al_console_format_duration(buf, 32, ns);
}

static void viz__res_label(const al_console_snapshot_t *snap, uint64_t id, char *buf, size_t cap)
{
    const al_console_resource_t *r = al_console_find_resource(snap, id);
    if (r && r->name[0])
        snprintf(buf, cap, "%s %" PRIu64 " \"%s\"", al_resource_kind_name(r->kind), id, r->name);
    else
        snprintf(buf, cap, "%s %" PRIu64, r ? al_resource_kind_name(r->kind) : "resource", id);
}

static void viz__task_label(const al_console_snapshot_t *snap, uint64_t id, char *buf, size_t cap)
{
    const al_console_task_t *t = al_console_find_task(snap, id);
    if (t)
        viz__label(t, buf, cap);
    else
        snprintf(buf, cap, "task %" PRIu64, id);
}

/* Bars over the buckets from the smallest to the largest value. */
static void viz__hist(viz_panel_hist_t *o, const al_histogram_t *h, uint64_t p50, uint64_t p90,
                      uint64_t p99, uint64_t max)
{
    memset(o, 0, sizeof *o);
    o->p50 = p50;
    o->p90 = p90;
    o->p99 = p99;
    o->max = max;
    if (!h)
        return;
    o->count = h->count;
    int lo = -1, hi = -1;
    for (int i = 0; i < AL_HIST_BUCKETS; i++)
        if (h->buckets[i]) {
            if (lo < 0)
                lo = i;
            hi = i;
        }
    if (lo < 0)
        return;
    o->lo_ns = al_histogram_bucket_floor((unsigned)lo);
    o->hi_ns = hi + 1 < AL_HIST_BUCKETS ? al_histogram_bucket_floor((unsigned)hi + 1) : h->max_ns;
    int span = hi - lo + 1;
    for (int i = lo; i <= hi; i++) {
        int bar = (i - lo) * VIZ_PANEL_HIST / span;
        o->bars[bar] += h->buckets[i];
    }
}

static void viz__task_details(viz_panel_details_t *d, const al_console_snapshot_t *snap,
                              al_console_t *console, uint64_t id)
{
    char a[32], b[32], c[32], e[32], lbl[64];
    const al_console_task_t *t = al_console_find_task(snap, id);
    if (!t) {
        snprintf(d->title, sizeof d->title, "task %" PRIu64 " (not in this recording now)", id);
        return;
    }
    viz__label(t, lbl, sizeof lbl);
    snprintf(d->title, sizeof d->title, "task %" PRIu64 "  %s", id, lbl);
    uint64_t now = snap->now_ns;
    uint64_t since = now > t->state_since_ns ? now - t->state_since_ns : 0;
    if (t->worker >= 0)
        viz__line(d, "%s for %s, worker %d", al_task_state_name(t->state), viz__dur(a, since),
                  t->worker);
    else
        viz__line(d, "%s for %s", al_task_state_name(t->state), viz__dur(a, since));
    viz__line(d,
              "%" PRIu64 " polls, %" PRIu64 " wakes (%" PRIu64 " self), %" PRId64 " wakers alive",
              t->polls, t->wakes, t->self_wakes, t->wakers_alive);
    viz__line(d, "busy %s  scheduled %s  idle %s", viz__dur(a, t->busy_ns),
              viz__dur(b, t->scheduled_ns), viz__dur(c, t->idle_ns));
    if (t->waiting_kind == AL_WAIT_RESOURCE) {
        char res[96], holder[64] = "";
        viz__res_label(snap, t->waiting_on, res, sizeof res);
        const al_console_resource_t *r = al_console_find_resource(snap, t->waiting_on);
        if (r && r->holder)
            viz__task_label(snap, r->holder, holder, sizeof holder);
        viz__line(d, "waits on %s%s%s since %s", res, holder[0] ? ", held by " : "", holder,
                  viz__dur(e, now > t->waiting_since_ns ? now - t->waiting_since_ns : 0));
    } else if (t->waiting_kind == AL_WAIT_TIMER) {
        if (t->timer_deadline_ns > now)
            viz__line(d, "waits on a timer (due in %s) since %s",
                      viz__dur(a, t->timer_deadline_ns - now),
                      viz__dur(b, now > t->waiting_since_ns ? now - t->waiting_since_ns : 0));
        else
            viz__line(d, "waits on a timer, OVERDUE by %s",
                      viz__dur(a, now - t->timer_deadline_ns));
    } else if (t->state == AL_TASK_IDLE) {
        viz__line(d, "waits on something the model does not see (a join, a custom future)");
    }
    if (t->state == AL_TASK_BLOCKED)
        viz__line(d, "its worker is blocked: %s", al_block_kind_name(t->block_kind));
    if (t->location[0])
        viz__line(d, "spawned at %s", t->location);
    if (t->panic[0])
        viz__line(d, "panicked: %s", t->panic);
    al_histogram_t hp, hs;
    bool have_p = console && al_console_task_histogram(console, id, false, &hp);
    bool have_s = console && al_console_task_histogram(console, id, true, &hs);
    d->have_hist = true;
    viz__hist(&d->poll, have_p ? &hp : NULL, t->poll_p50_ns, t->poll_p90_ns, t->poll_p99_ns,
              t->poll_max_ns);
    viz__hist(&d->sched, have_s ? &hs : NULL, t->sched_p50_ns, t->sched_p90_ns, t->sched_p99_ns,
              t->sched_max_ns);
    if (t->detail && t->detail[0]) /* a Lua traceback, from the model's detail source */
        snprintf(d->traceback, sizeof d->traceback, "%s", t->detail);
}

static void viz__worker_details(viz_panel_details_t *d, const al_console_snapshot_t *snap,
                                uint64_t wi)
{
    char a[32], lbl[64];
    snprintf(d->title, sizeof d->title, "worker %" PRIu64, wi);
    if (wi >= snap->num_workers)
        return;
    const al_console_worker_t *w = &snap->workers[wi];
    viz__line(d, "%s for %s", al_worker_state_name(w->state),
              viz__dur(a, snap->now_ns > w->state_since_ns ? snap->now_ns - w->state_since_ns : 0));
    if (w->state == AL_WORKER_BLOCKED)
        viz__line(d, "blocked in %s", al_block_kind_name(w->block_kind));
    if (w->current_task) {
        viz__task_label(snap, w->current_task, lbl, sizeof lbl);
        viz__line(d, "polling %s", lbl);
    }
    viz__line(d, "LIFO %s, %u in the local queue", w->lifo_task ? "holds a task" : "empty",
              w->local_depth);
    viz__line(d,
              "%" PRIu64 " polls, %" PRIu64 " steals (%" PRIu64 " tasks), %" PRIu64
              " parks, %" PRIu64 " overflows",
              w->polls, w->steals, w->stolen_tasks, w->parks, w->overflows);
    viz__line(d, "busy %s (%.1f%%)", viz__dur(a, w->busy_ns), w->busy_pct);
}

static void viz__resource_details(viz_panel_details_t *d, const al_console_snapshot_t *snap,
                                  uint64_t id)
{
    char a[32], b[32], c[32], lbl[96];
    viz__res_label(snap, id, lbl, sizeof lbl);
    snprintf(d->title, sizeof d->title, "%s", lbl);
    const al_console_resource_t *r = al_console_find_resource(snap, id);
    if (!r)
        return;
    if (r->holder) {
        viz__task_label(snap, r->holder, lbl, sizeof lbl);
        viz__line(d, "held by %s (%u holding)", lbl, r->holders);
    } else {
        viz__line(d, r->holders ? "held (%u holding)" : "free", r->holders);
    }
    viz__line(d, "%u waiting now; %" PRIu64 " operations", r->waiters, r->ops);
    if (r->waits)
        viz__line(d, "%" PRIu64 " contended waits: p50 %s  p99 %s  max %s", r->waits,
                  viz__dur(a, r->wait_p50_ns), viz__dur(b, r->wait_p99_ns),
                  viz__dur(c, r->wait_max_ns));
    if (r->queue_max)
        viz__line(d, "%" PRIu64 " messages queued (at most %" PRIu64 ")", r->queue_len,
                  r->queue_max);
    if (r->closed)
        viz__line(d, "closed");
}

void viz_panel_build(viz_panel_t *p, const al_console_snapshot_t *snap, al_console_t *console,
                     const al_lint_finding_t *findings, size_t num_findings,
                     const viz_panel_view_t *view, const viz_selection_t *sel)
{
    memset(p, 0, sizeof *p);
    p->tasks_total = (uint32_t)snap->num_tasks;
    if (view->open) /* sorting every task each frame only when the table is seen */
        viz__table(p, snap, view, sel);
    viz__lints(p, snap, findings, num_findings);
    viz_panel_details_t *d = &p->details;
    d->kind = sel->kind;
    switch (sel->kind) {
    case VIZ_SEL_TASK:
        viz__task_details(d, snap, console, sel->id);
        break;
    case VIZ_SEL_WORKER:
        viz__worker_details(d, snap, sel->id);
        break;
    case VIZ_SEL_RESOURCE:
        viz__resource_details(d, snap, sel->id);
        break;
    default:
        snprintf(d->title, sizeof d->title,
                 "nothing selected: click a task, a worker or a "
                 "resource");
        break;
    }
}
