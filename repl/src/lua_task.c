/*
 * lua_task.c — Lua tasks, awaiting, JoinHandles, the default runtime (see
 * lua_task.h).
 *
 * Task states are recycled per thread: a finished task's state goes back to
 * the pool of the thread that finished it, its globals untouched because
 * every task whose code names globals runs with an environment table of
 * its own (__index: the state's globals), dropped when the task ends.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_alloc.h"
#include "lua_globals.h"
#include "lua_handle.h"
#include "lua_inspect.h"
#include "lua_interrupt.h"
#include "lua_lazy_libs.h"
#include "lua_run.h"
#include "lua_task.h"

lua_State *(*al_lua_new_state)(void);

/* ---- the per-task record, found from any coroutine of its state ---- */

/* Shared by a task and its JoinHandle: abort() raises the flag, and the
 * task's count hook stops Lua code that never awaits. */
typedef struct {
    atomic_int refs;
    atomic_bool abort;
} al_lua_ctl_t;

static al_lua_ctl_t *al_lua_ctl_new(void)
{
    al_lua_ctl_t *c = malloc(sizeof *c);
    if (c) {
        atomic_init(&c->refs, 1);
        atomic_init(&c->abort, false);
    }
    return c;
}

static void al_lua_ctl_release(al_lua_ctl_t *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

/* Memory a task's state may grow to beyond its baseline
 * (ASYNCLAB_TASK_MEMORY_MB, default 256 MiB; rt.task.Builder:memory_limit). */
static size_t al_lua_mem_limit;
static pthread_once_t al_lua_mem_limit_once = PTHREAD_ONCE_INIT;

static void al_lua_mem_limit_read(void)
{
    const char *e = getenv("ASYNCLAB_TASK_MEMORY_MB");
    long mb = e ? atol(e) : 0;
    al_lua_mem_limit = (size_t)(mb > 0 ? mb : 256) << 20;
}

static size_t al_lua_default_mem_limit(void)
{
    pthread_once(&al_lua_mem_limit_once, al_lua_mem_limit_read); /* not a getenv per spawn */
    return al_lua_mem_limit;
}

/* Instructions between checks for abort / shutdown in Lua code that never
 * awaits (a runaway loop). */
#define AL_LUA_WATCH_EVERY 10000
#define AL_LUA_STOPPED "task cancelled"

typedef struct al_lua_task {
    al_lua_awaiter_t
        aw; /* the thread it runs on (aw.co: its state's main one) and what it waits for */
    al_lua_ctl_t *ctl;
    size_t mem_limit, mem_base; /* the state may grow to mem_base + mem_limit */
    /* Live tasks are listed for dumps (tracebacks); busy is set while a
     * worker polls, so a dump reads only tasks at rest (a flag, not a mutex:
     * 40 bytes less per task; a dump is the only other party). */
    struct al_lua_task *live_prev, *live_next;
    bool listed;
    atomic_bool busy;
    uint64_t id;
    al_lua_pack_t init;     /* the function and its arguments, until the first poll */
    al_lua_pack_t *globals; /* the globals its code names (a table), or NULL */
    lua_State *L;           /* the task's state (from the pool) */
    al_runtime_t *rt;
} al_lua_task_t;

/* A thread's extra space holds its awaiter: for a task's thread, the
 * task's; for a select branch, the branch's; NULL at the top level. New
 * coroutines copy their state's main thread's. */
static al_lua_awaiter_t **al_lua_slot(lua_State *L)
{
    return lua_getextraspace(L);
}

void al_lua_set_awaiter(lua_State *L, al_lua_awaiter_t *aw)
{
    *al_lua_slot(L) = aw;
}

al_lua_awaiter_t *al_lua_awaiter(lua_State *L)
{
    return *al_lua_slot(L);
}

static al_lua_task_t *al_lua_task_of(lua_State *L)
{
    al_lua_awaiter_t *aw = *al_lua_slot(L);
    return aw ? (al_lua_task_t *)aw->task : NULL;
}

bool al_lua_in_task(lua_State *L)
{
    return al_lua_task_of(L) != NULL;
}

/* ---- the default runtime ---- */

static pthread_once_t al_lua_rt_once = PTHREAD_ONCE_INIT;
static al_runtime_t *al_lua_rt;

static void al_lua_rt_create(void)
{
    al_runtime_config_t cfg;
    al_runtime_config_init(&cfg, AL_MULTI_THREAD);
    cfg.enable_time = true;
    cfg.enable_io = true;
    if (al_runtime_new(&cfg, &al_lua_rt) != 0) {
        al_lua_rt = NULL;
        return;
    }
    al_lua_inspect_attach(al_lua_rt);
    /* The top level's thread stays entered (Tokio's Runtime::enter): what
     * the prompt does to resources (make, unlock, drop by __gc) is recorded
     * on this runtime. Not a worker of another runtime, which has its own. */
    if (!al_runtime_current())
        al_runtime_enter(al_lua_rt);
}

al_runtime_t *al_lua_default_runtime(void)
{
    pthread_once(&al_lua_rt_once, al_lua_rt_create);
    return al_lua_rt;
}

void al_lua_runtime_shutdown(void)
{
    if (al_lua_rt) {
        if (al_runtime_current() == al_lua_rt)
            al_runtime_exit(NULL);
        al_runtime_free(al_lua_rt);
        al_lua_rt = NULL;
        al_lua_inspect_detach();
    }
}

al_runtime_t *al_lua_runtime(lua_State *L)
{
    al_lua_task_t *t = al_lua_task_of(L);
    if (t)
        return t->rt;
    al_runtime_t *cur = al_runtime_current();
    return cur ? cur : al_lua_default_runtime();
}

/* ---- the state pool ---- */

#define AL_LUA_POOL_MAX 64

/* Each thread's pool; closed when the thread exits (pthread key destructor). */
typedef struct {
    lua_State *states[AL_LUA_POOL_MAX];
    int len;
} al_lua_pool_t;

static pthread_key_t al_lua_pool_key;
static pthread_once_t al_lua_pool_once = PTHREAD_ONCE_INIT;

static void al_lua_pool_destroy(void *p)
{
    al_lua_pool_t *pool = p;
    for (int i = 0; i < pool->len; i++)
        al_lua_alloc_close(pool->states[i]);
    free(pool);
}

static void al_lua_pool_key_init(void)
{
    pthread_key_create(&al_lua_pool_key, al_lua_pool_destroy);
}

static al_lua_pool_t *al_lua_pool(void)
{
    pthread_once(&al_lua_pool_once, al_lua_pool_key_init);
    al_lua_pool_t *pool = pthread_getspecific(al_lua_pool_key);
    if (!pool && (pool = calloc(1, sizeof *pool)))
        pthread_setspecific(al_lua_pool_key, pool);
    return pool;
}

static lua_State *al_lua_state_take(void)
{
    al_lua_pool_t *pool = al_lua_pool();
    if (pool && pool->len > 0)
        return pool->states[--pool->len];
    return al_lua_new_state();
}

/* Set by a finalizer that let go of Lua objects (lua_task.h). */
static _Thread_local bool al_lua_gc_pending;

void al_lua_gc_again(void)
{
    al_lua_gc_pending = true;
}

/* A state that holds more than this from the system (a task once built big
 * tables: its slabs stay with the state) is closed instead of pooled; so is
 * one whose task replaced the globals' lazy metatable. */
#define AL_LUA_POOL_STATE_MAX ((size_t)256 << 10)

/* Back to this thread's pool. When the task made handles (or anything whose
 * finalizer releases something), after a full collection: whatever it still
 * held (guards, permits, handles) is released now, not later. A task that
 * made none leaves its garbage to the state's incremental collector: a full
 * collection per task was most of a trivial task's cost. */
static void al_lua_state_give(lua_State *L)
{
    *al_lua_slot(L) = NULL;
    lua_settop(L, 0);
    al_lua_alloc_set_limit(L, SIZE_MAX);
    al_lua_pool_t *pool = al_lua_pool();
    if (!pool || pool->len >= AL_LUA_POOL_MAX ||
        al_lua_alloc_footprint(L) > AL_LUA_POOL_STATE_MAX || !al_lua_lazy_intact(L)) {
        al_lua_alloc_close(L); /* runs every finalizer too: no collection first */
        return;
    }
    if (al_lua_alloc_take_finalizers(L) || al_lua_alloc_used(L) > AL_LUA_POOL_STATE_MAX) {
        al_lua_gc_pending = false;
        lua_gc(L, LUA_GCCOLLECT);
        if (al_lua_gc_pending) { /* what its finalizers dropped (a LocalSet's tasks) */
            al_lua_gc_pending = false;
            lua_gc(L, LUA_GCCOLLECT);
        }
    }
    if (al_lua_alloc_footprint(L) <= AL_LUA_POOL_STATE_MAX)
        pool->states[pool->len++] = L;
    else
        al_lua_alloc_close(L);
}

/* Registry key (light userdata) of the metatable of task environments
 * (__index = globals), one per state. */
static const char al_lua_env_mt_key;

/* Push a fresh environment for a task or blocking job: reads fall through
 * to the state's globals, writes stay in it. */
static void al_lua_push_env(lua_State *L)
{
    lua_createtable(L, 0, 0);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &al_lua_env_mt_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
        lua_setfield(L, -2, "__index");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &al_lua_env_mt_key);
    }
    lua_setmetatable(L, -2);
}

/* Close this thread's pooled states now (the main thread, at exit). */
void al_lua_pool_clear(void)
{
    pthread_once(&al_lua_pool_once, al_lua_pool_key_init);
    al_lua_pool_t *pool = pthread_getspecific(al_lua_pool_key);
    if (pool) {
        pthread_setspecific(al_lua_pool_key, NULL);
        al_lua_pool_destroy(pool);
    }
}

/* ---- awaiting ---- */

/* After a resume: `true, results...` or `false, err` on the stack above the
 * yielding function's own slots. */
static int al_lua_await_k(lua_State *L, int status, lua_KContext base)
{
    (void)status;
    int first = (int)base + 1;
    if (!lua_toboolean(L, first)) {
        lua_pushvalue(L, first + 1);
        return lua_error(L);
    }
    return lua_gettop(L) - first;
}

/* block_on wrapper: drive one operation on this thread. */
typedef struct {
    al_lua_op_t *op;
    lua_State *L;
    int n;
} al_lua_block_t;

static al_poll_t al_lua_block_poll(void *f, al_context_t *cx, void *out)
{
    (void)out;
    al_lua_block_t *b = f;
    if (al_lua_interrupted(cx)) { /* Ctrl-C at the prompt: stop waiting */
        lua_pushboolean(b->L, 0);
        lua_pushstring(b->L, "interrupted! (the awaited work goes on in the background)");
        b->n = 2;
        return AL_READY;
    }
    return b->op->poll(b->op, cx, b->L, &b->n);
}
static const al_future_vtable_t al_lua_block_vt = {.type_name = "lua top-level await",
                                                   .poll = al_lua_block_poll,
                                                   .future_size = sizeof(al_lua_block_t)};

static int al_lua_await_block_on(lua_State *L, al_lua_op_t *op, al_runtime_t *rt);

/* The awaiter of a coroutine being closed after a cancellation. */
static al_lua_awaiter_t al_lua_closing;

void al_lua_close_cancelled(lua_State *co)
{
    al_lua_set_awaiter(co, &al_lua_closing);
    lua_resetthread(co);
}

int al_lua_await(lua_State *L, al_lua_op_t *op)
{
    al_lua_awaiter_t *aw = *al_lua_slot(L);
    if (aw == &al_lua_closing) {
        const char *what = op->what;
        op->drop(op);
        return luaL_error(L,
                          "cannot await %s while a cancelled task's to-be-closed variables "
                          "are closed (cleanup cannot wait)",
                          what);
    }
    if (aw) {
        if (L != aw->co) {
            const char *what = op->what;
            op->drop(op);
            return luaL_error(L,
                              "cannot await %s here: inside a coroutine the task created, or "
                              "inside a future's poll function, nothing can wait (await from "
                              "the task's own code; in poll, use non-waiting calls such as "
                              "try_send)",
                              what);
        }
        aw->pending = op;
        return lua_yieldk(L, 0, lua_gettop(L), al_lua_await_k);
    }
    /* Top level: the implicit block_on. */
    return al_lua_await_block_on(L, op, al_lua_runtime(L));
}

static int al_lua_await_block_on(lua_State *L, al_lua_op_t *op, al_runtime_t *rt)
{
    if (!rt) {
        op->drop(op);
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    }
    int base = lua_gettop(L);
    al_lua_block_t b = {op, L, 0};
    char *msg = NULL;
    int rc = al_runtime_block_on(rt, &al_lua_block_vt, &b, NULL, &msg);
    op->drop(op);
    if (rc != 0) {
        lua_settop(L, base);
        lua_pushstring(L, msg ? msg : al_strerror(rc));
        free(msg);
        return lua_error(L);
    }
    return al_lua_await_k(L, LUA_OK, base);
}

/* ---- running a C function inside the default runtime's context ---- */

void al_lua_in_context(lua_State *L, void (*fn)(void *), void *arg)
{
    al_runtime_t *rt = al_lua_default_runtime();
    if (al_runtime_current() || al_lua_in_task(L) || !rt) {
        fn(arg); /* already in a context (or none to enter) */
        return;
    }
    al_runtime_t *previous = al_runtime_enter(rt);
    fn(arg);
    al_runtime_exit(previous);
}

/* ---- the task future ---- */

static void al_lua_task_release_state(al_lua_task_t *t)
{
    if (!t->L)
        return;
    al_lua_state_give(t->L);
    t->L = t->aw.co = NULL;
}

/* The error value at the top of co, with a traceback, as text. */
static char *al_lua_task_error(lua_State *co)
{
    const char *msg = lua_tostring(co, -1);
    if (!msg)
        msg = luaL_typename(co, -1);
    luaL_traceback(co, co, msg, 0);
    char *s = strdup(lua_tostring(co, -1));
    lua_pop(co, 1);
    return s;
}

/* A runaway task (never awaiting) is stopped here when it was aborted or
 * its runtime shuts down: the error unwinds it, and its poll reports
 * Pending so that the runtime finishes the cancellation. */
static void al_lua_watch_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    al_lua_awaiter_t *aw = al_lua_awaiter(L);
    al_lua_task_t *t = aw ? aw->task : NULL;
    if (t && (atomic_load_explicit(&t->ctl->abort, memory_order_relaxed) ||
              al_runtime_is_shutting_down(t->rt)))
        luaL_error(L, AL_LUA_STOPPED);
}

static bool al_lua_task_stopped(al_lua_task_t *t)
{
    return atomic_load(&t->ctl->abort) || al_runtime_is_shutting_down(t->rt);
}

/* ---- the list of live tasks, for tracebacks in dumps ---- */

/* busy as a lock: a dump takes it only if free (never waits for a poll);
 * a poll or a drop waits for a dump reading the task, which is brief. */
static bool al_lua_task_try_hold(al_lua_task_t *t)
{
    return !atomic_exchange_explicit(&t->busy, true, memory_order_acquire);
}

static void al_lua_task_hold(al_lua_task_t *t)
{
    while (!al_lua_task_try_hold(t))
        sched_yield();
}

static void al_lua_task_let_go(al_lua_task_t *t)
{
    atomic_store_explicit(&t->busy, false, memory_order_release);
}

static pthread_mutex_t al_lua_live_lock = PTHREAD_MUTEX_INITIALIZER;
static al_lua_task_t *al_lua_live;

static void al_lua_live_add(al_lua_task_t *t)
{
    pthread_mutex_lock(&al_lua_live_lock);
    t->live_next = al_lua_live;
    if (al_lua_live)
        al_lua_live->live_prev = t;
    al_lua_live = t;
    t->listed = true;
    pthread_mutex_unlock(&al_lua_live_lock);
}

static void al_lua_live_remove(al_lua_task_t *t)
{
    pthread_mutex_lock(&al_lua_live_lock);
    if (t->listed) {
        if (t->live_prev)
            t->live_prev->live_next = t->live_next;
        else
            al_lua_live = t->live_next;
        if (t->live_next)
            t->live_next->live_prev = t->live_prev;
        t->listed = false;
    }
    pthread_mutex_unlock(&al_lua_live_lock);
}

/* Calls fn for every live Lua task with text saying where it waits: the
 * operation it is suspended in and its Lua traceback, or why there is none.
 * A task's state is read only while holding its busy flag, taken only if free: a
 * task being polled right now (or a worker stuck inside its poll) is
 * described, never waited for. */
static void al_lua_each_where(void (*fn)(void *ctx, const al_lua_task_t *t, const char *where),
                              void *ctx)
{
    pthread_mutex_lock(&al_lua_live_lock);
    for (al_lua_task_t *t = al_lua_live; t; t = t->live_next) {
        if (!al_lua_task_try_hold(t)) {
            fn(ctx, t, "being polled now (no traceback while it runs)");
            continue;
        }
        if (t->L && t->aw.co) {
            int top = lua_gettop(t->L);
            luaL_traceback(t->L, t->aw.co, NULL, 0);
            if (t->aw.pending)
                lua_pushfstring(t->L, "waiting in %s\n%s", t->aw.pending->what,
                                lua_tostring(t->L, -1));
            fn(ctx, t, lua_tostring(t->L, -1));
            lua_settop(t->L, top);
        } else {
            fn(ctx, t, "not started yet");
        }
        al_lua_task_let_go(t);
    }
    pthread_mutex_unlock(&al_lua_live_lock);
}

static void al_lua_set_where(void *s, const al_lua_task_t *t, const char *where)
{
    al_console_snapshot_set_detail(s, t->id, where);
}

void al_lua_task_details(void *ctx, al_console_snapshot_t *s)
{
    (void)ctx;
    al_lua_each_where(al_lua_set_where, s);
}

/* First poll: take a state, unpack fn and args into a fresh environment. */
static int al_lua_task_start(al_lua_task_t *t, char *err, size_t cap)
{
    t->L = al_lua_state_take();
    if (!t->L) {
        snprintf(err, cap, "cannot start a Lua task: out of memory");
        return -1;
    }
    lua_State *L = t->L;
    *al_lua_slot(L) = &t->aw;
    /* The task's _ENV: reads fall through to the globals. None when no
     * function it receives has an _ENV upvalue (its code names no global). */
    int env = 0;
    if (t->init.has_env || t->globals) {
        al_lua_push_env(L);
        env = lua_gettop(L);
    }
    if (t->globals) { /* the globals the code names, as the spawner saw them */
        int g = lua_gettop(L) + 1;
        if (al_lua_unpack_env(L, t->globals, env, err, cap) < 1)
            return -1;
        lua_pushnil(L);
        while (lua_next(L, g)) { /* env[k] = v, keeping k for the next step */
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, env);
        }
        lua_settop(L, env);
    }
    t->mem_base = al_lua_alloc_used(L);
    /* The task runs on the state's main thread, resumed as a coroutine
     * (lua_resume allows it when the thread's stack holds only the function
     * and its arguments): no coroutine of ~1 KiB (thread and stack) per
     * pending task. The thread is suspended while the task waits, as a
     * coroutine would be; a cancelled or failed task's thread is reset
     * (al_lua_close_cancelled) before the state is recycled. */
    t->aw.co = L;
    /* Lua code that never awaits still sees abort and shutdown; the
     * coroutines it creates inherit the hook. */
    lua_sethook(L, al_lua_watch_hook, LUA_MASKCOUNT, AL_LUA_WATCH_EVERY);
    int n = al_lua_unpack_env(L, &t->init, env, err, cap);
    if (n < 1)
        return -1;
    if (env)
        lua_remove(L, env); /* only the function and its arguments stay */
    return n - 1;
}

static al_poll_t al_lua_task_poll_locked(al_lua_task_t *t, al_context_t *cx, void *out);

static al_poll_t al_lua_task_poll(void *f, al_context_t *cx, void *out)
{
    al_lua_task_t *t = *(al_lua_task_t **)f;
    if (!t->listed) {
        t->id = al_task_current_id();
        al_lua_live_add(t);
    }
    al_lua_task_hold(t);
    al_poll_t r = al_lua_task_poll_locked(t, cx, out);
    al_lua_task_let_go(t);
    return r;
}

static al_poll_t al_lua_task_poll_locked(al_lua_task_t *t, al_context_t *cx, void *out)
{
    int nargs = 0;
    char err[512] = "";
    if (!t->L) {
        nargs = al_lua_task_start(t, err, sizeof err);
        if (nargs < 0)
            return al_panic(cx, "%s", err);
    }
    *al_lua_slot(t->L) = &t->aw;
    for (;;) {
        if (t->aw.pending) {
            al_poll_t r = t->aw.pending->poll(t->aw.pending, cx, t->aw.co, &nargs);
            if (r == AL_PENDING)
                return AL_PENDING;
            t->aw.pending->drop(t->aw.pending);
            t->aw.pending = NULL;
        }
        int nres = 0;
        /* The limit holds while Lua code runs; the C side around it (results,
         * tracebacks) must not fail on it outside a protected call. */
        al_lua_alloc_set_limit(t->L, t->mem_base + t->mem_limit);
        /* from NULL: the thread resumes itself, its own C-call count must
         * not add up across resumes */
        int status = lua_resume(t->aw.co, NULL, nargs, &nres);
        al_lua_alloc_set_limit(t->L, SIZE_MAX);
        if (status == LUA_YIELD) {
            if (t->aw.pending)
                continue; /* poll the new operation now: it may be ready */
            lua_pop(t->aw.co, nres);
            return al_panic(cx, "coroutine.yield() called at a task's top level (a task "
                                "is not a coroutine; use rt.task.yield_now())");
        }
        if (status != LUA_OK && al_lua_task_stopped(t))
            return AL_PENDING; /* cancelled mid-loop: the runtime drops us now */
        if (status != LUA_OK) {
            char *msg = al_lua_task_error(t->aw.co);
            al_poll_t r = al_panic(cx, "%s", msg ? msg : "out of memory");
            free(msg);
            return r;
        }
        al_lua_pack_t *res = out;
        if (!al_lua_pack(t->aw.co, -nres, nres, "return", NULL, res, err, sizeof err))
            return al_panic(cx, "%s", err);
        return AL_READY;
    }
}

static void al_lua_task_drop(void *f)
{
    al_lua_task_t *t = *(al_lua_task_t **)f;
    al_lua_live_remove(t);
    al_lua_task_hold(t); /* a dump may be reading this task */
    al_lua_task_let_go(t);
    if (t->aw.pending)
        t->aw.pending->drop(t->aw.pending);
    t->aw.pending = NULL;
    /* Cancelled while suspended (or stopped by an error): its to-be-closed
     * variables run now, as Rust runs Drop when a future is dropped. */
    if (t->aw.co && lua_status(t->aw.co) != LUA_OK)
        al_lua_close_cancelled(t->aw.co);
    al_lua_pack_free(&t->init);
    if (t->globals)
        al_lua_pack_free(t->globals);
    free(t->globals);
    al_lua_task_release_state(t); /* finished or cancelled: back to the pool */
    al_lua_ctl_release(t->ctl);
    free(t);
}

static void al_lua_results_drop(void *out)
{
    al_lua_pack_free(out);
}

static const al_future_vtable_t al_lua_task_vt = {
    .type_name = "lua task",
    .poll = al_lua_task_poll,
    .drop = al_lua_task_drop,
    .drop_output = al_lua_results_drop,
    .future_size = sizeof(al_lua_task_t *),
    .output_size = sizeof(al_lua_pack_t),
};

/* ---- JoinHandle: a shared, counted al_join_t ---- */

/* spawn_blocking's function, arguments and results: shared by the pool
 * thread that runs it and the JoinHandle (whichever lets go last frees it,
 * so results nobody awaits are freed too). */
typedef struct al_lua_blocking {
    atomic_int refs;
    al_lua_pack_t init;   /* fn and args, until it runs */
    pthread_mutex_t lock; /* guards result */
    al_lua_pack_t result; /* ok flag, then the results */
} al_lua_blocking_t;

static void al_lua_blocking_release(al_lua_blocking_t *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    al_lua_pack_free(&b->init);
    al_lua_pack_free(&b->result);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

typedef struct {
    atomic_int refs;
    atomic_bool awaited; /* one awaiter at a time */
    al_join_t *h;
    uint64_t id;
    char *name;                  /* NULL: unnamed (most tasks) */
    al_lua_blocking_t *blocking; /* spawn_blocking: where its results are */
    al_lua_ctl_t *ctl;           /* shared with the task (NULL for blocking ones) */
} al_lua_join_t;

static void al_lua_join_retain(void *o)
{
    atomic_fetch_add(&((al_lua_join_t *)o)->refs, 1);
}
static void al_lua_join_release(void *o)
{
    al_lua_join_t *j = o;
    if (atomic_fetch_sub(&j->refs, 1) == 1) {
        al_join_drop(j->h);
        al_lua_ctl_release(j->ctl);
        al_lua_blocking_release(j->blocking);
        free(j->name);
        free(j);
    }
}

static void al_lua_join_describe(void *o, char *buf, size_t cap)
{
    al_lua_join_t *j = o;
    const char *state = al_join_is_finished(j->h) ? "finished" : al_lua_task_state_name(j->id);
    snprintf(buf, cap, "#%llu%s%s%s %s", (unsigned long long)j->id, j->name ? " \"" : "",
             j->name ? j->name : "", j->name ? "\"" : "", state ? state : "running");
}

/* JoinError values: a table with a message and is_panic / is_cancelled. */
static int al_lua_joinerr_is_panic(lua_State *L)
{
    lua_getfield(L, 1, "kind");
    lua_pushboolean(L, strcmp(luaL_optstring(L, -1, ""), "panic") == 0);
    return 1;
}
static int al_lua_joinerr_is_cancelled(lua_State *L)
{
    lua_getfield(L, 1, "kind");
    lua_pushboolean(L, strcmp(luaL_optstring(L, -1, ""), "cancelled") == 0);
    return 1;
}
static int al_lua_joinerr_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    return 1;
}

void al_lua_push_join_error(lua_State *L, uint64_t id, const char *name,
                            const al_join_result_t *res)
{
    if (!name)
        name = "";
    lua_createtable(L, 0, 3);
    bool panic = res->kind == AL_JOIN_PANIC;
    lua_pushstring(L, panic ? "panic" : "cancelled");
    lua_setfield(L, -2, "kind");
    if (panic)
        lua_pushfstring(L, "task %I%s%s%s panicked: %s", (lua_Integer)id, name[0] ? " \"" : "",
                        name, name[0] ? "\"" : "",
                        res->panic_msg ? res->panic_msg : "(no message)");
    else
        lua_pushfstring(L, "task %I%s%s%s was cancelled", (lua_Integer)id, name[0] ? " \"" : "",
                        name, name[0] ? "\"" : "");
    lua_setfield(L, -2, "message");
    if (luaL_newmetatable(L, "JoinError")) {
        lua_pushcfunction(L, al_lua_joinerr_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_createtable(L, 0, 2);
        lua_pushcfunction(L, al_lua_joinerr_is_panic);
        lua_setfield(L, -2, "is_panic");
        lua_pushcfunction(L, al_lua_joinerr_is_cancelled);
        lua_setfield(L, -2, "is_cancelled");
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
}

typedef struct {
    al_lua_op_t op;
    al_lua_join_t *j;
    bool locked;
} al_lua_join_op_t;

static al_poll_t al_lua_join_op_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_join_op_t *op = (al_lua_join_op_t *)o;
    al_lua_join_t *j = op->j;
    if (!op->locked) {
        if (atomic_exchange(&j->awaited, true)) {
            lua_pushboolean(L, 0);
            lua_pushfstring(L,
                            "JoinHandle #%I was already awaited (a task's results can be "
                            "taken once)",
                            (lua_Integer)j->id);
            *n = 2;
            return AL_READY;
        }
        op->locked = true;
    }
    al_lua_pack_t res;
    void *blocking_out = NULL;
    al_join_result_t jr;
    if (al_join_poll(j->h, cx, j->blocking ? (void *)&blocking_out : (void *)&res, &jr) ==
        AL_PENDING)
        return AL_PENDING;
    if (j->blocking && jr.kind == AL_JOIN_OK) {
        /* The function's results, after a leading ok flag (a Lua error in a
         * blocking task is its panic). */
        pthread_mutex_lock(&j->blocking->lock);
        res = j->blocking->result;
        j->blocking->result = (al_lua_pack_t){0};
        pthread_mutex_unlock(&j->blocking->lock);
        char perr[256] = "";
        int top = lua_gettop(L);
        if (al_lua_unpack(L, &res, perr, sizeof perr) < 1 || !lua_toboolean(L, top + 1)) {
            al_join_result_t pj = {.kind = AL_JOIN_PANIC,
                                   .panic_msg =
                                       lua_isstring(L, top + 2) ? lua_tostring(L, top + 2) : perr};
            lua_pushboolean(L, 0);
            al_lua_push_join_error(L, j->id, j->name, &pj);
            lua_replace(L, top + 2);
            lua_replace(L, top + 1);
            lua_settop(L, top + 2);
            *n = 2;
            return AL_READY;
        }
        /* true, results... are on the stack already: the ok flag doubles as ours */
        *n = lua_gettop(L) - top;
        return AL_READY;
    }
    if (jr.kind != AL_JOIN_OK) {
        lua_pushboolean(L, 0);
        al_lua_push_join_error(L, j->id, j->name, &jr);
        *n = 2;
        return AL_READY;
    }
    lua_pushboolean(L, 1);
    char err[256] = "";
    int got = al_lua_unpack(L, &res, err, sizeof err);
    if (got < 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        *n = 3;
        lua_remove(L, -3);
        *n = 2;
        return AL_READY;
    }
    *n = 1 + got;
    return AL_READY;
}

static void al_lua_join_op_drop(al_lua_op_t *o)
{
    al_lua_join_op_t *op = (al_lua_join_op_t *)o;
    if (op->locked && !al_join_is_finished(op->j->h))
        atomic_store(&op->j->awaited, false); /* cancelled before the result: awaitable again */
    al_lua_join_release(op->j);
    free(op);
}

static al_lua_op_t *al_lua_join_op_new(lua_State *L, al_lua_join_t *j);

int al_lua_await_on(lua_State *L, al_lua_op_t *op, al_runtime_t *rt)
{
    return al_lua_await_block_on(L, op, rt);
}

int al_lua_join_block_on(lua_State *L, int idx, al_runtime_t *rt)
{
    al_lua_join_t *j = al_lua_handle_check(L, idx, &al_lua_join_class);
    al_lua_op_t *op = al_lua_join_op_new(L, j);
    return al_lua_await_block_on(L, op, rt);
}

static al_lua_op_t *al_lua_join_op_new(lua_State *L, al_lua_join_t *j)
{
    al_lua_join_op_t *op = malloc(sizeof *op);
    if (!op)
        luaL_error(L, "out of memory");
    *op = (al_lua_join_op_t){.op = {al_lua_join_op_poll, al_lua_join_op_drop, "JoinHandle:await"},
                             .j = j};
    al_lua_join_retain(j);
    return &op->op;
}

static int al_lua_join_await(lua_State *L)
{
    al_lua_join_t *j = al_lua_handle_check(L, 1, &al_lua_join_class);
    al_lua_op_t *op = al_lua_join_op_new(L, j);
    lua_settop(L, 0);
    return al_lua_await(L, op);
}

static int al_lua_join_abort(lua_State *L)
{
    al_lua_join_t *j = al_lua_handle_check(L, 1, &al_lua_join_class);
    if (j->ctl) /* also stops Lua code that never awaits */
        atomic_store(&j->ctl->abort, true);
    al_join_abort(j->h);
    return 0;
}

static int al_lua_join_is_finished(lua_State *L)
{
    al_lua_join_t *j = al_lua_handle_check(L, 1, &al_lua_join_class);
    lua_pushboolean(L, al_join_is_finished(j->h));
    return 1;
}

static int al_lua_join_id(lua_State *L)
{
    al_lua_join_t *j = al_lua_handle_check(L, 1, &al_lua_join_class);
    lua_pushinteger(L, (lua_Integer)j->id);
    return 1;
}

static const luaL_Reg al_lua_join_methods[] = {{"await", al_lua_join_await},
                                               {"abort", al_lua_join_abort},
                                               {"is_finished", al_lua_join_is_finished},
                                               {"id", al_lua_join_id},
                                               {NULL, NULL}};

const al_lua_class_t al_lua_join_class = {.name = "JoinHandle",
                                          .retain = al_lua_join_retain,
                                          .release = al_lua_join_release,
                                          .methods = al_lua_join_methods,
                                          .describe = al_lua_join_describe};

/* Pack the globals fn's code names (lua_globals.h). Values that cannot move
 * are left out: a name may be a plain string literal, not a global read. */
static void al_lua_pack_used_globals(lua_State *L, int fn, al_lua_pack_t *out)
{
    *out = (al_lua_pack_t){0};
    /* No _ENV upvalue (as al_lua_used_globals looks for it): no globals to
     * copy, and no table to make per spawn. */
    const char *up = lua_iscfunction(L, fn) ? NULL : lua_getupvalue(L, fn, 1);
    if (!up)
        return;
    lua_pop(L, 1);
    if (strcmp(up, "_ENV") != 0)
        return;
    al_lua_used_globals(L, fn);
    int g = lua_gettop(L);
    char err[256];
    bool any = false;
    lua_pushnil(L);
    while (lua_next(L, g)) {
        al_lua_pack_t probe;
        if (al_lua_pack(L, -1, 1, "spawn", NULL, &probe, err, sizeof err)) {
            al_lua_pack_free(&probe);
            any = true;
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, g); /* assigning nil to an existing key is allowed during next */
        }
    }
    if (any && !al_lua_pack(L, g, 1, "spawn", NULL, out, err, sizeof err))
        *out = (al_lua_pack_t){0};
    lua_settop(L, g - 1);
}

/* ---- spawn_blocking: a Lua function on the blocking pool ---- */

static void *al_lua_blocking_main(void *arg)
{
    al_lua_blocking_t *b = arg;
    al_lua_pack_t out = {0};
    lua_State *L = al_lua_state_take();
    char err[512] = "";
    if (!L) {
        al_lua_blocking_release(b);
        return NULL;
    }
    al_lua_push_env(L); /* a fresh _ENV, as for tasks */
    int base = lua_gettop(L);
    int n = al_lua_unpack_env(L, &b->init, base, err, sizeof err);
    int status;
    if (n < 1) {
        lua_pushstring(L, err);
        status = LUA_ERRRUN;
    } else {
        status = al_lua_call(L, n - 1, LUA_MULTRET);
    }
    int nres = lua_gettop(L) - base;
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, base + 1);
    if (!al_lua_pack(L, base + 1, nres + 1, "return", NULL, &out, err, sizeof err)) {
        lua_settop(L, base);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        al_lua_pack(L, base + 1, 2, "return", NULL, &out, err, sizeof err);
    }
    al_lua_state_give(L);
    pthread_mutex_lock(&b->lock);
    b->result = out;
    pthread_mutex_unlock(&b->lock);
    al_lua_blocking_release(b);
    return NULL;
}

int al_lua_spawn_blocking(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name)
{
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TFUNCTION);
    al_lua_blocking_t *b = calloc(1, sizeof *b);
    if (!b)
        return luaL_error(L, "out of memory");
    char err[512];
    if (!al_lua_pack(L, idx, nargs + 1, "spawn_blocking", NULL, &b->init, err, sizeof err)) {
        free(b);
        lua_pushstring(L, err);
        return lua_error(L);
    }
    /* One reference for the pool thread, one for the JoinHandle. (A job
     * cancelled before it starts never drops the thread's: the runtime's
     * spawn_blocking has no destructor for its argument.) */
    atomic_init(&b->refs, 2);
    pthread_mutex_init(&b->lock, NULL);
    al_spawn_opts_t opts = {.name = name};
    al_join_t *h;
    int rc = al_spawn_blocking(rt, al_lua_blocking_main, b, &opts, &h);
    if (rc != 0) {
        al_lua_blocking_release(b);
        al_lua_blocking_release(b);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    al_lua_join_t *j = calloc(1, sizeof *j);
    if (!j) {
        al_join_drop(h);
        al_lua_blocking_release(b);
        return luaL_error(L, "out of memory");
    }
    atomic_init(&j->refs, 1);
    atomic_init(&j->awaited, false);
    j->h = h;
    j->id = al_join_id(h);
    j->blocking = b;
    j->name = name && *name ? strdup(name) : NULL; /* one that fails to copy is left out */
    al_lua_handle_push(L, &al_lua_join_class, j);
    return 1;
}

/* ---- spawning ---- */

/* ctl: the task's control block (a reference is taken over), or NULL. */
static void al_lua_push_join_ctl(lua_State *L, al_join_t *h, const char *name, al_lua_ctl_t *ctl)
{
    al_lua_join_t *j = calloc(1, sizeof *j);
    if (!j) {
        al_join_drop(h);
        al_lua_ctl_release(ctl);
        luaL_error(L, "out of memory");
        return;
    }
    atomic_init(&j->refs, 1);
    atomic_init(&j->awaited, false);
    j->h = h;
    j->id = al_join_id(h);
    j->ctl = ctl;
    j->name = name && *name ? strdup(name) : NULL; /* one that fails to copy is left out */
    al_lua_handle_push(L, &al_lua_join_class, j);
}

void al_lua_push_join(lua_State *L, al_join_t *h, const char *name)
{
    al_lua_push_join_ctl(L, h, name, NULL);
}

static int al_lua_spawner_rt(void *ctx, const al_future_vtable_t *vt, const void *init,
                             const al_spawn_opts_t *opts, al_join_t **out)
{
    return al_spawn(ctx, vt, init, opts, out);
}

static int al_lua_spawn_impl(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                             al_lua_spawner_t spawner, void *ctx, size_t mem_limit);

int al_lua_spawn(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                 al_task_kind_t kind)
{
    (void)kind;
    return al_lua_spawn_impl(L, rt, idx, nargs, name, al_lua_spawner_rt, rt, 0);
}

int al_lua_spawn_limited(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                         size_t mem_limit)
{
    return al_lua_spawn_impl(L, rt, idx, nargs, name, al_lua_spawner_rt, rt, mem_limit);
}

int al_lua_spawn_with(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                      al_lua_spawner_t spawner, void *ctx)
{
    return al_lua_spawn_impl(L, rt, idx, nargs, name, spawner, ctx, 0);
}

/* "src:line" into buf (per spawn: without snprintf's cost). */
static void al_lua_format_where(char *buf, size_t cap, const char *src, int line)
{
    size_t n = strlen(src);
    if (n + 12 > cap)
        n = cap - 12;
    memcpy(buf, src, n);
    buf[n++] = ':';
    char digits[12];
    int d = 0;
    for (unsigned v = (unsigned)line; v || d == 0; v /= 10)
        digits[d++] = (char)('0' + v % 10);
    while (d > 0)
        buf[n++] = digits[--d];
    buf[n] = 0;
}

/* Pack fn and its arguments into a task and hand it to spawner(ctx). */
static int al_lua_spawn_impl(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                             al_lua_spawner_t spawner, void *ctx, size_t mem_limit)
{
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TFUNCTION);
    /* What errors call each value: the function itself needs no name. */
    static const char *const names[17] = {
        NULL,           "argument #1",  "argument #2",  "argument #3",  "argument #4",
        "argument #5",  "argument #6",  "argument #7",  "argument #8",  "argument #9",
        "argument #10", "argument #11", "argument #12", "argument #13", "argument #14",
        "argument #15", "argument #16"};
    al_lua_task_t *t = calloc(1, sizeof *t);
    al_lua_ctl_t *ctl = al_lua_ctl_new();
    if (!t || !ctl) {
        free(t);
        free(ctl);
        return luaL_error(L, "out of memory");
    }
    t->aw.task = t;
    t->ctl = ctl;
    atomic_init(&t->busy, false);
    t->mem_limit = mem_limit ? mem_limit : al_lua_default_mem_limit();
    char err[512];
    if (!al_lua_pack(L, idx, nargs + 1, "spawn", nargs < 16 ? names : NULL, &t->init, err,
                     sizeof err)) {
        al_lua_ctl_release(ctl);
        free(t);
        lua_pushstring(L, err);
        return lua_error(L);
    }
    t->rt = rt;
    al_lua_pack_t globals;
    al_lua_pack_used_globals(L, idx, &globals);
    if (globals.count && (t->globals = malloc(sizeof *t->globals)))
        *t->globals = globals;
    else
        al_lua_pack_free(&globals); /* none (or no memory: the task sees nil) */
    /* Where it was spawned, for every view: "script.lua:12". */
    char where[LUA_IDSIZE + 16] = "";
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        al_lua_format_where(where, sizeof where, ar.short_src, ar.currentline);
    al_spawn_opts_t opts = {.name = name, .location = where[0] ? where : NULL};
    al_join_t *h = NULL;
    atomic_fetch_add(&ctl->refs, 1); /* the JoinHandle's, taken before the task can end */
    int rc = spawner(ctx, &al_lua_task_vt, &t, &opts, &h); /* drops t on failure */
    if (rc != 0 || !h) {
        al_lua_ctl_release(ctl);
        if (rc != 0)
            return luaL_error(L, "%s", al_strerror(rc));
        return 0;
    }
    al_lua_push_join_ctl(L, h, name, ctl);
    return 1;
}
