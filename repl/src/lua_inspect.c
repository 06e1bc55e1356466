/*
 * lua_inspect.c — seeing inside from Lua: rt.metrics(), rt.console(),
 * rt.tasks(), rt.dump(), rt.lints(), rt.trace.start / stop.
 *
 * The program follows its default runtime from the start: a console model
 * and a lint engine subscribe to the runtime's event stream (al_console.h,
 * al_lint.h), and SIGQUIT prints a task dump from the model (it needs no
 * worker, so it works while every worker is blocked). Trace recording goes
 * through a gate that stays subscribed and remembers the stream's header,
 * threads and strings, so a recording can start at any moment.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "lua_console_view.h"
#include "lua_inspect.h"
#include "lua_rt.h"
#include "lua_task.h"

/* ---- the trace gate: a consumer that forwards to a file while recording ---- */

typedef struct {
    pthread_mutex_t lock;
    al_stream_header_t header;
    bool have_header;
    struct {
        char name[32];
        al_thread_kind_t kind;
        int16_t worker;
    } threads[256];
    uint32_t num_threads;
    char **strings; /* by id */
    uint32_t num_strings;
    al_tracefile_writer_t *w; /* NULL: not recording */
    char path[512];
} al_lua_gate_t;

static void gate_header(void *self, const al_stream_header_t *h)
{
    al_lua_gate_t *g = self;
    pthread_mutex_lock(&g->lock);
    g->header = *h;
    g->have_header = true;
    pthread_mutex_unlock(&g->lock);
}

static void gate_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                        int16_t worker)
{
    al_lua_gate_t *g = self;
    pthread_mutex_lock(&g->lock);
    if (id < 256) {
        snprintf(g->threads[id].name, sizeof g->threads[id].name, "%s", name);
        g->threads[id].kind = kind;
        g->threads[id].worker = worker;
        if (id + 1u > g->num_threads)
            g->num_threads = id + 1u;
    }
    if (g->w)
        al_tracefile_writer_consumer.on_thread(g->w, id, name, kind, worker);
    pthread_mutex_unlock(&g->lock);
}

static void gate_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_lua_gate_t *g = self;
    pthread_mutex_lock(&g->lock);
    if (id >= g->num_strings) {
        uint32_t n = g->num_strings ? g->num_strings : 64;
        while (n <= id)
            n *= 2;
        char **grown = realloc(g->strings, n * sizeof *grown);
        if (grown) {
            memset(grown + g->num_strings, 0, (n - g->num_strings) * sizeof *grown);
            g->strings = grown;
            g->num_strings = n;
        }
    }
    if (id < g->num_strings && !g->strings[id])
        g->strings[id] = strndup(s, len);
    if (g->w)
        al_tracefile_writer_consumer.on_string(g->w, id, s, len);
    pthread_mutex_unlock(&g->lock);
}

static void gate_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_lua_gate_t *g = self;
    pthread_mutex_lock(&g->lock);
    if (g->w)
        al_tracefile_writer_consumer.on_events(g->w, ev, n);
    pthread_mutex_unlock(&g->lock);
}

static void gate_drops(void *self, uint16_t thread, uint64_t total)
{
    al_lua_gate_t *g = self;
    pthread_mutex_lock(&g->lock);
    if (g->w)
        al_tracefile_writer_consumer.on_drops(g->w, thread, total);
    pthread_mutex_unlock(&g->lock);
}

static const al_stream_consumer_t gate_vt = {gate_header, gate_thread, gate_string,
                                             gate_events, gate_drops,  NULL};

/* ---- the program's observers ---- */

static struct {
    al_runtime_t *rt;
    al_stream_t *stream;
    al_console_t *console;
    al_lint_t *lint;
    al_lua_gate_t gate;
} al_lua_seen = {.gate = {.lock = PTHREAD_MUTEX_INITIALIZER}};

/* Each finding also goes into the stream as a LINT event, so that a trace
 * recorded now shows when it fired (the lint engine itself ignores LINT
 * events: no feedback). Runs on the collector thread. */
static void al_lua_record_finding(void *rt, const al_lint_finding_t *f)
{
    al_trace_lint(rt, f->task, f->lint, f->message);
}

void al_lua_inspect_attach(al_runtime_t *rt)
{
    if (al_lua_seen.rt || getenv("ASYNCLAB_NO_CONSOLE"))
        return;
    al_stream_t *st = al_stream_of(rt);
    if (!st && al_stream_start(rt, NULL, &st) != 0)
        return;
    al_lua_seen.rt = rt;
    al_lua_seen.stream = st;
    if (al_console_new(NULL, &al_lua_seen.console) == 0) {
        /* Each Lua task's traceback in snapshots and dumps. */
        al_console_set_detail_source(al_lua_seen.console, al_lua_task_details, NULL);
        al_stream_subscribe(st, &al_console_consumer, al_lua_seen.console);
    }
    if (al_lint_new(&al_lua_seen.lint) == 0) {
        al_lint_on_finding(al_lua_seen.lint, al_lua_record_finding, rt);
        al_stream_subscribe(st, &al_lint_consumer, al_lua_seen.lint);
    }
    al_stream_subscribe(st, &gate_vt, &al_lua_seen.gate);
    if (al_lua_seen.console)
        al_dump_on_sigquit(al_console_dump_now, al_lua_seen.console, stderr);
}

void al_lua_inspect_detach(void)
{
    /* Called after the runtime was freed: the stream delivered its last. */
    al_dump_on_sigquit_remove();
    pthread_mutex_lock(&al_lua_seen.gate.lock);
    if (al_lua_seen.gate.w)
        al_tracefile_writer_close(al_lua_seen.gate.w);
    al_lua_seen.gate.w = NULL;
    for (uint32_t i = 0; i < al_lua_seen.gate.num_strings; i++)
        free(al_lua_seen.gate.strings[i]);
    free(al_lua_seen.gate.strings);
    al_lua_seen.gate.strings = NULL;
    al_lua_seen.gate.num_strings = 0;
    pthread_mutex_unlock(&al_lua_seen.gate.lock);
    al_console_free(al_lua_seen.console);
    al_lint_free(al_lua_seen.lint);
    al_lua_seen.console = NULL;
    al_lua_seen.lint = NULL;
    al_lua_seen.rt = NULL;
}

const char *al_lua_task_state_name(uint64_t id)
{
    if (!al_lua_seen.console)
        return NULL;
    /* Up to date with what was emitted so far: `h` typed right after a
     * spawn shows the task as it is (idle in its first sleep), not as of
     * the collector's last round. */
    al_stream_flush(al_lua_seen.stream);
    int state = al_console_task_state(al_lua_seen.console, id);
    return state < 0 ? NULL : al_task_state_name((unsigned)state);
}

static uint64_t al_lua_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A snapshot of the model, up to date with everything emitted so far. */
static al_console_snapshot_t *al_lua_snapshot(lua_State *L)
{
    al_runtime_t *rt = al_lua_runtime(L);
    if (!al_lua_seen.console || rt != al_lua_seen.rt)
        luaL_error(L, "the console follows the default runtime only (and not with "
                      "ASYNCLAB_NO_CONSOLE set)");
    al_stream_flush(al_lua_seen.stream);
    al_console_snapshot_t *s = al_console_snapshot(al_lua_seen.console, al_lua_now_ns());
    if (!s)
        luaL_error(L, "out of memory");
    return s;
}

/* Run a printer into a string. */
static int al_lua_push_printed(lua_State *L, void (*print)(const al_console_snapshot_t *, FILE *),
                               al_console_snapshot_t *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        al_console_snapshot_free(s);
        return luaL_error(L, "out of memory");
    }
    print(s, f);
    fclose(f);
    al_console_snapshot_free(s);
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

/* rt.console() / rt.console{sort=, limit=, done=} (lua_console_view.c) */
static int al_lua_console(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        return al_lua_push_printed(L, al_console_print, al_lua_snapshot(L));
    luaL_checktype(L, 1, LUA_TTABLE);
    al_lua_console_opts_t o;
    al_lua_console_opts(L, 1, &o);
    al_console_snapshot_t *s = al_lua_snapshot(L);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        al_console_snapshot_free(s);
        return luaL_error(L, "out of memory");
    }
    al_console_print(s, f);
    fclose(f);
    al_lua_console_view(L, &o, s, text, len);
    free(text);
    al_console_snapshot_free(s);
    return 1;
}
static int al_lua_dump(lua_State *L)
{
    return al_lua_push_printed(L, al_console_print_dump, al_lua_snapshot(L));
}

#define SETI(k, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, k))
#define SETN(k, v) (lua_pushnumber(L, (lua_Number)(v)), lua_setfield(L, -2, k))
#define SETS(k, v) (lua_pushstring(L, v), lua_setfield(L, -2, k))

static int al_lua_tasks(lua_State *L)
{
    al_console_snapshot_t *s = al_lua_snapshot(L);
    lua_createtable(L, (int)s->num_tasks, 0);
    for (size_t i = 0; i < s->num_tasks; i++) {
        const al_console_task_t *t = &s->tasks[i];
        lua_createtable(L, 0, 16);
        SETI("id", t->id);
        SETS("name", t->name);
        SETS("state", al_task_state_name(t->state));
        SETI("parent", t->parent);
        SETS("location", t->location);
        SETI("polls", t->polls);
        SETI("wakes", t->wakes);
        SETI("self_wakes", t->self_wakes);
        SETN("busy_ms", t->busy_ns / 1e6);
        SETN("scheduled_ms", t->scheduled_ns / 1e6);
        SETN("idle_ms", t->idle_ns / 1e6);
        SETN("total_ms", t->total_ns / 1e6);
        SETN("poll_p99_ms", t->poll_p99_ns / 1e6);
        SETI("wakers", t->wakers_alive);
        SETI("worker", t->worker);
        if (t->detail && t->detail[0])
            SETS("traceback", t->detail); /* where a Lua task waits (al_lua_task_details) */
        if (t->waiting_kind != AL_WAIT_NONE) {
            const al_console_resource_t *r = al_console_find_resource(s, t->waiting_on);
            SETS("waiting_on", t->waiting_kind == AL_WAIT_TIMER ? "timer"
                               : r                              ? al_resource_kind_name(r->kind)
                                                                : "resource");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    al_console_snapshot_free(s);
    return 1;
}

static int al_lua_lints(lua_State *L)
{
    if (!al_lua_seen.lint)
        return luaL_error(L, "lints follow the default runtime only");
    al_stream_flush(al_lua_seen.stream);
    al_lint_check_now(al_lua_seen.lint, al_lua_now_ns());
    size_t n = al_lint_findings(al_lua_seen.lint, NULL, 0);
    al_lint_finding_t *all = calloc(n ? n : 1, sizeof *all);
    if (!all)
        return luaL_error(L, "out of memory");
    n = al_lint_findings(al_lua_seen.lint, all, n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 4);
        SETS("lint", al_lint_name(all[i].lint));
        SETS("message", all[i].message);
        SETI("task", all[i].task);
        SETN("at_ms", all[i].ts_ns / 1e6);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(all);
    return 1;
}

void al_lua_push_metrics(lua_State *L, al_runtime_t *rt)
{
    al_runtime_metrics_t m;
    al_runtime_metrics(rt, &m);
    lua_createtable(L, 0, 16);
    SETI("num_workers", m.num_workers);
    SETI("num_alive_tasks", m.num_alive_tasks);
    SETI("global_queue_depth", m.global_queue_depth);
    SETI("num_blocking_threads", m.num_blocking_threads);
    SETI("num_idle_blocking_threads", m.num_idle_blocking_threads);
    SETI("blocking_queue_depth", m.blocking_queue_depth);
    SETI("spawned_tasks_count", m.spawned_tasks_count);
    SETI("remote_schedule_count", m.remote_schedule_count);
    SETI("budget_forced_yield_count", m.budget_forced_yield_count);
    static const char *const per[] = {"park_count",     "steal_count", "steal_operations",
                                      "poll_count",     "busy_ms",     "local_queue_depth",
                                      "overflow_count", "mean_poll_us"};
    for (size_t k = 0; k < sizeof per / sizeof *per; k++) {
        lua_createtable(L, (int)m.num_workers, 0);
        for (uint32_t w = 0; w < m.num_workers; w++) {
            al_worker_metrics_t wm;
            al_runtime_worker_metrics(rt, w, &wm);
            double v[] = {
                (double)wm.park_count,     (double)wm.steal_count, (double)wm.steal_operations,
                (double)wm.poll_count,     wm.busy_ns / 1e6,       (double)wm.local_queue_depth,
                (double)wm.overflow_count, wm.mean_poll_ns / 1e3};
            lua_pushnumber(L, v[k]);
            lua_rawseti(L, -2, w + 1);
        }
        lua_setfield(L, -2, per[k]);
    }
}

static int al_lua_metrics(lua_State *L)
{
    al_lua_push_metrics(L, al_lua_runtime(L));
    return 1;
}

/* rt.trace.start(path) / rt.trace.stop() */
static int al_lua_trace_start(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    al_lua_default_runtime(); /* made on first use: it brings the stream */
    if (!al_lua_seen.stream)
        return luaL_error(L, "recording follows the default runtime only");
    al_lua_gate_t *g = &al_lua_seen.gate;
    al_stream_flush(al_lua_seen.stream); /* the header and names seen so far */
    pthread_mutex_lock(&g->lock);
    if (g->w) {
        pthread_mutex_unlock(&g->lock);
        return luaL_error(L, "already recording to %s (rt.trace.stop() first)", g->path);
    }
    al_tracefile_writer_t *w;
    int rc = al_tracefile_writer_open(path, &w);
    if (rc != 0) {
        pthread_mutex_unlock(&g->lock);
        return luaL_error(L, "cannot record to %s: %s", path, al_strerror(rc));
    }
    const al_stream_consumer_t *c = &al_tracefile_writer_consumer;
    c->on_header(w, &g->header);
    for (uint32_t i = 0; i < g->num_threads; i++)
        c->on_thread(w, (uint16_t)i, g->threads[i].name, g->threads[i].kind, g->threads[i].worker);
    for (uint32_t i = 1; i < g->num_strings; i++)
        if (g->strings[i])
            c->on_string(w, i, g->strings[i], strlen(g->strings[i]));
    g->w = w;
    snprintf(g->path, sizeof g->path, "%s", path);
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static int al_lua_trace_stop(lua_State *L)
{
    al_lua_gate_t *g = &al_lua_seen.gate;
    if (al_lua_seen.stream)
        al_stream_flush(al_lua_seen.stream);
    pthread_mutex_lock(&g->lock);
    al_tracefile_writer_t *w = g->w;
    g->w = NULL;
    pthread_mutex_unlock(&g->lock);
    if (!w) {
        lua_pushnil(L);
        return 1;
    }
    uint64_t bytes, events;
    al_tracefile_writer_counts(w, &bytes, &events);
    int rc = al_tracefile_writer_close(w);
    if (rc != 0)
        return luaL_error(L, "error writing %s: %s", g->path, al_strerror(rc));
    lua_createtable(L, 0, 3);
    SETS("path", g->path);
    SETI("events", events);
    SETI("bytes", bytes);
    return 1;
}

void al_lua_open_inspect(lua_State *L, int rt)
{
    lua_pushvalue(L, rt);
    const luaL_Reg fns[] = {{"metrics", al_lua_metrics}, {"console", al_lua_console},
                            {"tasks", al_lua_tasks},     {"dump", al_lua_dump},
                            {"lints", al_lua_lints},     {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    al_lua_module(L, "trace", "rt.trace",
                  (const luaL_Reg[]){
                      {"start", al_lua_trace_start}, {"stop", al_lua_trace_stop}, {NULL, NULL}});
    lua_pop(L, 1);
}
