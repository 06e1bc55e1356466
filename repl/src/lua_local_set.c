/*
 * lua_local_set.c — rt.runtime.LocalSet and rt.task.spawn_local for Lua
 * (tokio::task::LocalSet / spawn_local, on al_local_set.h).
 *
 *   local ls = rt.runtime.LocalSet.new()
 *   local hits = 0                                     -- shared, not copied
 *   ls:run_until(function()
 *     local h = rt.task.spawn_local(function() hits = hits + 1 end)
 *     h:await()
 *   end)
 *   print(hits)   --> 1
 *
 * What makes a task "local" here: it runs in the Lua state of the code that
 * drives the set, as a coroutine of that state, polled only inside the
 * driver's poll. So its function is not copied: it shares upvalues, tables
 * and globals with the code that spawned it, and may capture what
 * rt.spawn refuses (coroutines): the Lua form of Tokio's !Send futures.
 * (A local task's results are still copied to whoever awaits its
 * JoinHandle, as any task's.)
 *
 * Driving: ls:run_until(fn, ...) runs fn(...) as a coroutine with the set
 * entered and runs the set's ready tasks each time it is polled, until fn
 * returns; ls:await() runs them until the set is empty; at the top level
 * ls:block_on(runtime, fn, ...) does run_until under runtime's block_on
 * (on a current-thread runtime, the calling thread runs everything). Local
 * tasks run on whichever thread drives the set: always the same one at the
 * top level and on a current-thread runtime; in a task of a multi-thread
 * runtime, the worker polling that task at the time (never two at once).
 *
 * A LocalSet belongs to the Lua state that made it (it cannot be sent).
 * Dropping it cancels the local tasks still alive.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_local_set.h"
#include "lua_rt.h"
#include "lua_runtime.h"
#include "lua_task.h"

typedef struct {
    atomic_int refs; /* the handle's, and one per drive in progress */
    al_local_set_t *ls;
    lua_State *main;   /* the owning state's main thread (registry references) */
    al_waker_t driver; /* the waker of the last drive (kept for spawns between drives) */
    lua_State *from;   /* the Lua thread running the current drive */
    int driving;
} al_lua_local_set_t;

/* The set being driven on this thread (mirrors the C runtime's own). */
static _Thread_local al_lua_local_set_t *al_lua_current_ls;

extern const al_lua_class_t al_lua_local_set_class;

static void al_lua_local_set_retain(void *o)
{
    atomic_fetch_add(&((al_lua_local_set_t *)o)->refs, 1);
}

static void al_lua_local_set_release(void *o)
{
    al_lua_local_set_t *lls = o;
    if (atomic_fetch_sub(&lls->refs, 1) != 1)
        return;
    al_local_set_free(lls->ls); /* cancels (drops) the local tasks still alive */
    al_waker_drop(&lls->driver);
    free(lls);
}

static void al_lua_local_set_describe(void *o, char *buf, size_t cap)
{
    size_t n = al_local_set_len(((al_lua_local_set_t *)o)->ls);
    snprintf(buf, cap, "(%zu local task%s)", n, n == 1 ? "" : "s");
}

static lua_State *al_lua_main_of(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *m = lua_tothread(L, -1);
    lua_pop(L, 1);
    return m;
}

/* ---- local tasks: a coroutine of the owning state ---- */

typedef struct {
    al_lua_awaiter_t aw;     /* aw.co: the task's coroutine */
    al_lua_local_set_t *lls; /* borrowed: the set drops its tasks before it goes */
    lua_State *main;
    int co_ref, nargs;
    bool started, finished;
} al_lua_local_task_t;

static al_poll_t al_lua_local_task_poll(void *f, al_context_t *cx, void *out)
{
    al_lua_local_task_t *t = *(al_lua_local_task_t **)f;
    lua_State *co = t->aw.co;
    int nargs = 0;
    if (!t->started) {
        t->started = true;
        nargs = t->nargs;
    }
    for (;;) {
        if (t->aw.pending) {
            if (t->aw.pending->poll(t->aw.pending, cx, co, &nargs) == AL_PENDING)
                return AL_PENDING;
            t->aw.pending->drop(t->aw.pending);
            t->aw.pending = NULL;
        }
        int nres = 0;
        int status = lua_resume(co, t->lls->from, nargs, &nres);
        if (status == LUA_YIELD && t->aw.pending)
            continue; /* poll the new operation now: it may be ready */
        t->finished = true;
        if (status == LUA_YIELD) {
            lua_pop(co, nres);
            return al_panic(cx, "coroutine.yield() called at a local task's top level (a task "
                                "is not a coroutine; use rt.task.yield_now())");
        }
        if (status != LUA_OK) {
            const char *msg = lua_tostring(co, -1);
            luaL_traceback(co, co, msg ? msg : luaL_typename(co, -1), 0);
            al_poll_t r = al_panic(cx, "%s", lua_tostring(co, -1));
            lua_pop(co, 1);
            return r;
        }
        char err[512];
        if (!al_lua_pack(co, -nres, nres, "return", NULL, out, err, sizeof err))
            return al_panic(cx, "%s", err);
        lua_pop(co, nres);
        return AL_READY;
    }
}

static void al_lua_local_task_drop(void *f)
{
    al_lua_local_task_t *t = *(al_lua_local_task_t **)f;
    if (t->aw.pending)
        t->aw.pending->drop(t->aw.pending);
    bool cancelled = t->started && !t->finished;
    if (cancelled)
        al_lua_close_cancelled(t->aw.co);
    al_lua_set_awaiter(t->aw.co, NULL);
    luaL_unref(t->main, LUA_REGISTRYINDEX, t->co_ref);
    if (cancelled && lua_gc(t->main, LUA_GCCOLLECT) < 0) /* release its guards now */
        al_lua_gc_again(); /* in a finalizer (the set was collected): soon after */
    free(t);
}

static void al_lua_local_results_drop(void *out)
{
    al_lua_pack_free(out);
}

static const al_future_vtable_t al_lua_local_task_vt = {
    .type_name = "lua local task",
    .poll = al_lua_local_task_poll,
    .drop = al_lua_local_task_drop,
    .drop_output = al_lua_local_results_drop,
    .future_size = sizeof(al_lua_local_task_t *),
    .output_size = sizeof(al_lua_pack_t),
};

/* Spawning while the set is not the one being driven here: enter it just
 * for the spawn (nothing runs), keeping the last driver's waker. */
typedef struct {
    al_lua_local_task_t *t;
    const al_spawn_opts_t *opts;
    al_join_t *h;
    int rc;
} al_lua_spawn_in_t;

static al_poll_t al_lua_spawn_in_poll(void *arg, al_context_t *cx)
{
    (void)cx;
    al_lua_spawn_in_t *s = arg;
    s->rc = al_spawn_local(&al_lua_local_task_vt, &s->t, s->opts, &s->h);
    return AL_READY;
}

/* Spawn fn (at idx) and its nargs arguments into lls; pushes a JoinHandle. */
static int al_lua_spawn_local_in(lua_State *L, al_lua_local_set_t *lls, int idx, int nargs)
{
    if (al_lua_main_of(L) != lls->main)
        return luaL_error(L, "this LocalSet belongs to another Lua state (another task)");
    al_lua_local_task_t *t = calloc(1, sizeof *t);
    if (!t)
        return luaL_error(L, "out of memory");
    char where[256] = "";
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.currentline);
    lua_State *co = lua_newthread(L);
    t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, idx + nargs);
    lua_xmove(L, co, nargs + 1); /* the function and its arguments: moved, not copied */
    t->aw.co = co;
    t->lls = lls;
    t->main = lls->main;
    t->nargs = nargs;
    al_lua_set_awaiter(co, &t->aw);
    al_spawn_opts_t opts = {.location = where[0] ? where : NULL};
    al_join_t *h = NULL;
    int rc;
    if (al_lua_current_ls == lls) {
        rc = al_spawn_local(&al_lua_local_task_vt, &t, &opts, &h);
    } else {
        al_context_t cx = {.waker = lls->driver};
        al_lua_spawn_in_t s = {t, &opts, NULL, 0};
        al_local_set_run_until_poll(lls->ls, &cx, al_lua_spawn_in_poll, &s);
        rc = s.rc;
        h = s.h;
    }
    if (rc != 0) /* the task was dropped */
        return luaL_error(L, "%s", al_strerror(rc));
    al_lua_push_join(L, h, NULL);
    return 1;
}

/* rt.task.spawn_local(fn, ...): into the LocalSet being driven here. */
static int al_lua_task_spawn_local(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    al_lua_local_set_t *lls = al_lua_current_ls;
    if (!lls)
        return luaL_error(L, "%s (use it inside ls:run_until(fn) of an rt.runtime.LocalSet)",
                          al_strerror(AL_ENOLOCALSET));
    return al_lua_spawn_local_in(L, lls, 1, lua_gettop(L) - 1);
}

/* ls:spawn_local(fn, ...): queued in the set; it runs when the set is driven. */
static int al_lua_local_set_spawn_local(lua_State *L)
{
    al_lua_local_set_t *lls = al_lua_handle_check(L, 1, &al_lua_local_set_class);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    return al_lua_spawn_local_in(L, lls, 2, lua_gettop(L) - 2);
}

/* ---- driving the set ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_local_set_t *lls; /* a reference */
    al_lua_awaiter_t aw;     /* aw.co: run_until's function; NULL for ls:await() */
    lua_State *main;
    int co_ref, nargs, nres;
    int status; /* 0: running, 1: returned, -1: failed (error on its stack) */
    bool started;
} al_lua_drive_op_t;

/* The inner future of al_local_set_run_until_poll: run_until's function. */
static al_poll_t al_lua_drive_inner(void *arg, al_context_t *cx)
{
    al_lua_drive_op_t *op = arg;
    lua_State *co = op->aw.co;
    if (!co)
        return AL_PENDING; /* ls:await(): only the tasks run */
    if (op->status)
        return AL_READY;
    int nargs = 0;
    if (!op->started) {
        op->started = true;
        nargs = op->nargs;
    }
    for (;;) {
        if (op->aw.pending) {
            if (op->aw.pending->poll(op->aw.pending, cx, co, &nargs) == AL_PENDING)
                return AL_PENDING;
            op->aw.pending->drop(op->aw.pending);
            op->aw.pending = NULL;
        }
        int nres = 0;
        int st = lua_resume(co, op->lls->from, nargs, &nres);
        if (st == LUA_YIELD && op->aw.pending)
            continue;
        if (st == LUA_YIELD) {
            lua_pop(co, nres);
            lua_pushstring(co, "coroutine.yield() inside ls:run_until (its function is not a "
                               "coroutine; use rt.task.yield_now())");
            st = LUA_ERRRUN;
        }
        op->status = st == LUA_OK ? 1 : -1;
        op->nres = nres;
        return AL_READY;
    }
}

static al_poll_t al_lua_drive_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_drive_op_t *op = (al_lua_drive_op_t *)o;
    al_lua_local_set_t *lls = op->lls;
    if (lls->driving) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, "this LocalSet is already running its tasks here: it cannot be "
                          "driven again from inside (one of its tasks, or its run_until)");
        *n = 2;
        return AL_READY;
    }
    al_waker_set(&lls->driver, &cx->waker);
    al_lua_local_set_t *prev = al_lua_current_ls;
    al_lua_current_ls = lls;
    lls->driving++;
    lls->from = L;
    al_poll_t r = al_local_set_run_until_poll(lls->ls, cx, al_lua_drive_inner, op);
    lls->driving--;
    al_lua_current_ls = prev;
    if (r == AL_PENDING && !op->aw.co && al_local_set_len(lls->ls) == 0)
        r = AL_READY; /* ls:await(): the set is empty */
    if (r == AL_PENDING)
        return AL_PENDING;
    if (!op->aw.co) {
        lua_pushboolean(L, 1);
        *n = 1;
        return AL_READY;
    }
    if (op->status < 0) {
        lua_pushboolean(L, 0);
        lua_xmove(op->aw.co, L, 1);
        *n = 2;
        return AL_READY;
    }
    lua_pushboolean(L, 1);
    lua_xmove(op->aw.co, L, op->nres);
    *n = 1 + op->nres;
    return AL_READY;
}

static void al_lua_drive_drop(al_lua_op_t *o)
{
    al_lua_drive_op_t *op = (al_lua_drive_op_t *)o;
    bool cancelled = false;
    if (op->aw.co) {
        if (op->aw.pending)
            op->aw.pending->drop(op->aw.pending);
        if (op->started && !op->status) {
            al_lua_close_cancelled(op->aw.co);
            cancelled = true;
        }
        al_lua_set_awaiter(op->aw.co, NULL);
        luaL_unref(op->main, LUA_REGISTRYINDEX, op->co_ref);
    }
    lua_State *main = op->main;
    al_lua_local_set_release(op->lls);
    free(op);
    if (cancelled && lua_gc(main, LUA_GCCOLLECT) < 0) /* release what it held now */
        al_lua_gc_again();
}

/* A drive op for lls; run_until's function and its arguments are at
 * first .. top (first 0: none, for ls:await()), and are moved to its
 * coroutine. */
static al_lua_drive_op_t *al_lua_drive_op_new(lua_State *L, al_lua_local_set_t *lls, int first)
{
    if (al_lua_main_of(L) != lls->main)
        luaL_error(L, "this LocalSet belongs to another Lua state (another task)");
    al_lua_drive_op_t *op = calloc(1, sizeof *op);
    if (!op)
        luaL_error(L, "out of memory");
    *op = (al_lua_drive_op_t){.op = {al_lua_drive_poll, al_lua_drive_drop,
                                     first ? "LocalSet:run_until" : "LocalSet:await"},
                              .lls = lls,
                              .main = lls->main};
    if (first) {
        int nargs = lua_gettop(L) - first;
        lua_State *co = lua_newthread(L);
        op->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_xmove(L, co, nargs + 1);
        op->aw.co = co;
        op->aw.task = al_lua_awaiter(L) ? al_lua_awaiter(L)->task : NULL;
        al_lua_set_awaiter(co, &op->aw);
        op->nargs = nargs;
    }
    al_lua_local_set_retain(lls);
    return op;
}

/* ls:run_until(fn, ...) -> fn's results */
static int al_lua_local_set_run_until(lua_State *L)
{
    al_lua_local_set_t *lls = al_lua_handle_check(L, 1, &al_lua_local_set_class);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    al_lua_drive_op_t *op = al_lua_drive_op_new(L, lls, 2);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* ls:await(): run the local tasks until none is left */
static int al_lua_local_set_await(lua_State *L)
{
    al_lua_local_set_t *lls = al_lua_handle_check(L, 1, &al_lua_local_set_class);
    al_lua_drive_op_t *op = al_lua_drive_op_new(L, lls, 0);
    lua_settop(L, 0);
    al_lua_await(L, &op->op);
    return 0;
}

/* ls:block_on(runtime, fn, ...): run_until on that runtime (top level only) */
static int al_lua_local_set_block_on(lua_State *L)
{
    al_lua_local_set_t *lls = al_lua_handle_check(L, 1, &al_lua_local_set_class);
    al_runtime_t *rt = al_lua_check_runtime(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (al_lua_in_task(L) || al_runtime_driving())
        return luaL_error(L, "%s", al_strerror(AL_ENESTED));
    /* The LocalSet and the runtime stay on the stack (alive) meanwhile. */
    return al_lua_await_on(L, &al_lua_drive_op_new(L, lls, 3)->op, rt);
}

static int al_lua_local_set_len(lua_State *L)
{
    al_lua_local_set_t *lls = al_lua_handle_check(L, 1, &al_lua_local_set_class);
    lua_pushinteger(L, (lua_Integer)al_local_set_len(lls->ls));
    return 1;
}

static int al_lua_local_set_new(lua_State *L)
{
    al_lua_local_set_t *lls = calloc(1, sizeof *lls);
    if (!lls)
        return luaL_error(L, "out of memory");
    if (al_local_set_new(&lls->ls) != 0) {
        free(lls);
        return luaL_error(L, "out of memory");
    }
    atomic_init(&lls->refs, 1);
    lls->main = al_lua_main_of(L);
    al_lua_handle_push(L, &al_lua_local_set_class, lls);
    return 1;
}

const al_lua_class_t al_lua_local_set_class = {
    .name = "LocalSet",
    .retain = al_lua_local_set_retain,
    .release = al_lua_local_set_release,
    .describe = al_lua_local_set_describe,
    .task_local = true,
    .methods = (const luaL_Reg[]){{"run_until", al_lua_local_set_run_until},
                                  {"await", al_lua_local_set_await},
                                  {"block_on", al_lua_local_set_block_on},
                                  {"spawn_local", al_lua_local_set_spawn_local},
                                  {"len", al_lua_local_set_len},
                                  {NULL, NULL}}};

void al_lua_open_local_set(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_local_set_class);
    lua_getfield(L, rt, "runtime");
    al_lua_module(L, "LocalSet", "rt.runtime.LocalSet",
                  (const luaL_Reg[]){{"new", al_lua_local_set_new}, {NULL, NULL}});
    lua_pop(L, 1);
}

void al_lua_open_spawn_local(lua_State *L, int rt)
{
    lua_getfield(L, rt, "task");
    lua_pushcfunction(L, al_lua_task_spawn_local);
    lua_setfield(L, -2, "spawn_local");
    lua_pop(L, 1);
}
