/*
 * lua_runtime.c — rt.runtime: Builder, Runtime (block_on, spawn, handle,
 * shutdown_timeout), Handle.current / try_current, default().
 *
 * runtime:block_on(fn, ...) runs fn as a task of that runtime and blocks the
 * calling thread until it finishes (on a current-thread runtime the calling
 * thread is the one that runs it). Called from inside a task it raises
 * Tokio's nested-runtime error: a worker must never block on a runtime.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_inspect.h"
#include "lua_rt.h"
#include "lua_runtime.h"
#include "lua_task.h"
#include "lua_viz.h"

typedef struct {
    atomic_int refs;
    al_runtime_t *rt;
    bool owned; /* freed with the last reference (not the default runtime) */
    char thread_name[32];
} al_lua_runtime_t;

extern const al_lua_class_t al_lua_runtime_class;

static void al_lua_runtime_retain(void *o)
{
    atomic_fetch_add(&((al_lua_runtime_t *)o)->refs, 1);
}

static void *al_lua_runtime_free_thread(void *arg)
{
    al_runtime_free(arg);
    return NULL;
}

static void al_lua_runtime_release(void *o)
{
    al_lua_runtime_t *r = o;
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->owned) {
        al_lua_viz_forget(r->rt); /* a window showing it closes first */
        /* A runtime cannot be freed from one of its own threads: hand it to
         * a thread of its own. */
        pthread_t th;
        if (al_runtime_current() == r->rt &&
            pthread_create(&th, NULL, al_lua_runtime_free_thread, r->rt) == 0)
            pthread_detach(th);
        else
            al_runtime_free(r->rt);
    }
    free(r);
}

static void al_lua_runtime_describe(void *o, char *buf, size_t cap)
{
    al_lua_runtime_t *r = o;
    const al_runtime_config_t *c = al_runtime_config(r->rt);
    snprintf(buf, cap, "%s, %u worker%s%s",
             c->flavor == AL_MULTI_THREAD ? "multi-thread" : "current-thread",
             al_runtime_num_workers(r->rt), al_runtime_num_workers(r->rt) == 1 ? "" : "s",
             r->owned ? "" : " (the default runtime)");
}

static void al_lua_push_runtime(lua_State *L, al_runtime_t *rt, bool owned)
{
    al_lua_runtime_t *r = calloc(1, sizeof *r);
    if (!r) {
        if (owned)
            al_runtime_free(rt);
        luaL_error(L, "out of memory");
        return;
    }
    atomic_init(&r->refs, 1);
    r->rt = rt;
    r->owned = owned;
    al_lua_handle_push(L, &al_lua_runtime_class, r);
}

/* ---- Builder ---- */

typedef struct {
    al_runtime_config_t cfg;
    char thread_name[32];
} al_lua_builder_t;

static al_lua_builder_t *al_lua_builder_check(lua_State *L)
{
    return luaL_checkudata(L, 1, "asynclab.RuntimeBuilder");
}

static int al_lua_builder_new(lua_State *L, al_flavor_t flavor)
{
    al_lua_builder_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    al_runtime_config_init(&b->cfg, flavor);
    b->thread_name[0] = 0;
    luaL_setmetatable(L, "asynclab.RuntimeBuilder");
    return 1;
}
static int al_lua_builder_multi(lua_State *L)
{
    return al_lua_builder_new(L, AL_MULTI_THREAD);
}
static int al_lua_builder_current(lua_State *L)
{
    return al_lua_builder_new(L, AL_CURRENT_THREAD);
}

static uint32_t al_lua_check_u32(lua_State *L, int arg, lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = luaL_checkinteger(L, arg);
    if (v < lo || v > hi)
        luaL_argerror(L, arg, lua_pushfstring(L, "must be between %I and %I", lo, hi));
    return (uint32_t)v;
}

static int al_lua_b_workers(lua_State *L)
{
    al_lua_builder_check(L)->cfg.worker_threads = al_lua_check_u32(L, 2, 1, 1024);
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_time(lua_State *L)
{
    al_lua_builder_check(L)->cfg.enable_time = true;
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_io(lua_State *L)
{
    al_lua_builder_check(L)->cfg.enable_io = true;
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_all(lua_State *L)
{
    al_lua_builder_t *b = al_lua_builder_check(L);
    b->cfg.enable_time = b->cfg.enable_io = true;
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_max_blocking(lua_State *L)
{
    al_lua_builder_check(L)->cfg.max_blocking_threads = al_lua_check_u32(L, 2, 1, 100000);
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_event_interval(lua_State *L)
{
    al_lua_builder_check(L)->cfg.event_interval = al_lua_check_u32(L, 2, 1, 1000000);
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_global_interval(lua_State *L)
{
    al_lua_builder_check(L)->cfg.global_queue_interval = al_lua_check_u32(L, 2, 1, 1000000);
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_thread_name(lua_State *L)
{
    al_lua_builder_t *b = al_lua_builder_check(L);
    snprintf(b->thread_name, sizeof b->thread_name, "%s", luaL_checkstring(L, 2));
    lua_settop(L, 1);
    return 1;
}
static int al_lua_b_start_paused(lua_State *L)
{
    al_lua_builder_check(L)->cfg.start_paused = lua_isnone(L, 2) || lua_toboolean(L, 2);
    lua_settop(L, 1);
    return 1;
}

static int al_lua_b_build(lua_State *L)
{
    al_lua_builder_t *b = al_lua_builder_check(L);
    al_runtime_config_t cfg = b->cfg;
    if (b->thread_name[0])
        cfg.thread_name = b->thread_name;
    al_runtime_t *rt;
    int rc = al_runtime_new(&cfg, &rt);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    al_lua_push_runtime(L, rt, true);
    return 1;
}

/* ---- Runtime / Handle methods ---- */

static al_lua_runtime_t *al_lua_runtime_check(lua_State *L)
{
    return al_lua_handle_check(L, 1, &al_lua_runtime_class);
}

al_runtime_t *al_lua_check_runtime(lua_State *L, int idx)
{
    return ((al_lua_runtime_t *)al_lua_handle_check(L, idx, &al_lua_runtime_class))->rt;
}

static int al_lua_rt_block_on(lua_State *L)
{
    al_lua_runtime_t *r = al_lua_runtime_check(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (al_lua_in_task(L) || al_runtime_driving())
        return luaL_error(L, "%s", al_strerror(AL_ENESTED));
    int nargs = lua_gettop(L) - 2;
    al_lua_spawn(L, r->rt, 2, nargs, "block_on", AL_TASK_ASYNC);
    int h = lua_gettop(L);
    int n = al_lua_join_block_on(L, h, r->rt); /* drives r->rt (current-thread too) */
    return n;
}

static int al_lua_rt_spawn_on(lua_State *L)
{
    al_lua_runtime_t *r = al_lua_runtime_check(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    return al_lua_spawn(L, r->rt, 2, lua_gettop(L) - 2, NULL, AL_TASK_ASYNC);
}

static int al_lua_rt_handle(lua_State *L)
{
    al_lua_runtime_t *r = al_lua_runtime_check(L);
    al_lua_runtime_retain(r);
    al_lua_handle_push(L, &al_lua_runtime_class, r);
    return 1;
}

static int al_lua_rt_shutdown(lua_State *L)
{
    al_lua_runtime_t *r = al_lua_runtime_check(L);
    lua_Number ms = luaL_optnumber(L, 2, 10000);
    luaL_argcheck(L, ms >= 0, 2, "a timeout in ms expected");
    al_shutdown_report_t rep;
    int rc = al_runtime_shutdown(r->rt, (uint64_t)ms, &rep);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)rep.tasks_cancelled);
    lua_setfield(L, -2, "tasks_cancelled");
    return 1;
}

static int al_lua_rt_metrics(lua_State *L)
{
    al_lua_push_metrics(L, al_lua_runtime_check(L)->rt); /* the same table as rt.metrics() */
    return 1;
}

const al_lua_class_t al_lua_runtime_class = {
    .name = "Runtime",
    .retain = al_lua_runtime_retain,
    .release = al_lua_runtime_release,
    .describe = al_lua_runtime_describe,
    .methods = (const luaL_Reg[]){{"block_on", al_lua_rt_block_on},
                                  {"spawn", al_lua_rt_spawn_on},
                                  {"handle", al_lua_rt_handle},
                                  {"shutdown_timeout", al_lua_rt_shutdown},
                                  {"metrics", al_lua_rt_metrics},
                                  {NULL, NULL}}};

/* ---- rt.runtime functions ---- */

static int al_lua_default(lua_State *L)
{
    al_runtime_t *rt = al_lua_default_runtime();
    if (!rt)
        return luaL_error(L, "the default runtime could not start");
    al_lua_push_runtime(L, rt, false);
    return 1;
}

/* Inside a task: its runtime. At the top level: the default runtime, which
 * is current there (lua-api.md). Elsewhere (a blocking-pool thread): none. */
static int al_lua_handle_current(lua_State *L)
{
    al_runtime_t *rt = al_runtime_current();
    if (!rt && !al_lua_in_task(L) && al_task_current_id() == 0)
        rt = al_lua_default_runtime();
    if (!rt)
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    al_lua_push_runtime(L, rt, false);
    return 1;
}

static int al_lua_handle_try_current(lua_State *L)
{
    al_runtime_t *rt = al_runtime_current();
    if (!rt && !al_lua_in_task(L))
        rt = al_lua_default_runtime();
    if (!rt) {
        lua_pushnil(L);
        lua_pushstring(L, al_strerror(AL_ENORUNTIME));
        return 2;
    }
    al_lua_push_runtime(L, rt, false);
    return 1;
}

void al_lua_open_runtime(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_runtime_class);
    if (luaL_newmetatable(L, "asynclab.RuntimeBuilder")) {
        lua_createtable(L, 0, 10);
        luaL_setfuncs(L,
                      (const luaL_Reg[]){{"worker_threads", al_lua_b_workers},
                                         {"enable_time", al_lua_b_time},
                                         {"enable_io", al_lua_b_io},
                                         {"enable_all", al_lua_b_all},
                                         {"max_blocking_threads", al_lua_b_max_blocking},
                                         {"event_interval", al_lua_b_event_interval},
                                         {"global_queue_interval", al_lua_b_global_interval},
                                         {"thread_name", al_lua_b_thread_name},
                                         {"start_paused", al_lua_b_start_paused},
                                         {"build", al_lua_b_build},
                                         {NULL, NULL}},
                      0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, rt);
    al_lua_module(L, "runtime", "rt.runtime",
                  (const luaL_Reg[]){{"default", al_lua_default}, {NULL, NULL}});
    lua_getfield(L, -1, "runtime");
    al_lua_module(L, "Builder", "rt.runtime.Builder",
                  (const luaL_Reg[]){{"new_multi_thread", al_lua_builder_multi},
                                     {"new_current_thread", al_lua_builder_current},
                                     {NULL, NULL}});
    al_lua_module(L, "Handle", "rt.runtime.Handle",
                  (const luaL_Reg[]){{"current", al_lua_handle_current},
                                     {"try_current", al_lua_handle_try_current},
                                     {NULL, NULL}});
    lua_pop(L, 2);
}
