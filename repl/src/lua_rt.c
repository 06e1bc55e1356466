/*
 * lua_rt.c — the `rt` and `std` globals (lua-api.md): assembling the
 * modules, and the task, time and blocking-world functions.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_barrier.h"
#include "lua_broadcast.h"
#include "lua_handle.h"
#include "lua_alloc.h"
#include "lua_chan.h"
#include "lua_future.h"
#include "lua_help.h"
#include "lua_inspect.h"
#include "lua_net.h"
#include "lua_join_set.h"
#include "lua_lazy_libs.h"
#include "lua_local_set.h"
#include "lua_rt.h"
#include "lua_pretty.h"
#include "lua_runtime.h"
#include "lua_rwlock.h"
#include "lua_weak.h"
#include "lua_select.h"
#include "lua_std_io.h"
#include "lua_sync.h"
#include "lua_task.h"
#include "lua_viz.h"
#include "lua_value.h"
#include "lua_time.h"
#include "lua_viz_hooks.h"
#include "lua_watch.h"

/* A duration argument in milliseconds -> ns; raises a clear error. */
static uint64_t al_lua_check_ms(lua_State *L, int arg)
{
    lua_Number ms = luaL_checknumber(L, arg);
    if (!(ms >= 0) || ms > 1e12)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "a duration in ms from 0 to 1e12 expected, got %f", ms));
    return (uint64_t)llround(ms * 1e6);
}

/* ---- awaited operations ---- */

typedef struct {
    al_lua_op_t op;
    al_sleep_t sl;
    bool armed;
    uint64_t ns;
} al_lua_sleep_op_t;

static al_poll_t al_lua_sleep_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_sleep_op_t *op = (al_lua_sleep_op_t *)o;
    if (!op->armed) {
        int rc = al_sleep_init(&op->sl, op->ns);
        if (rc != 0) {
            lua_pushboolean(L, 0);
            lua_pushstring(L, al_strerror(rc));
            *n = 2;
            return AL_READY;
        }
        op->armed = true;
    }
    if (al_sleep_poll(&op->sl, cx) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    *n = 1;
    return AL_READY;
}

static void al_lua_sleep_drop(al_lua_op_t *o)
{
    al_lua_sleep_op_t *op = (al_lua_sleep_op_t *)o;
    if (op->armed)
        al_sleep_drop(&op->sl);
    free(op);
}

static int al_lua_time_sleep(lua_State *L)
{
    uint64_t ns = al_lua_check_ms(L, 1);
    al_lua_sleep_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_sleep_op_t){.op = {al_lua_sleep_poll, al_lua_sleep_drop, "rt.time.sleep"},
                              .ns = ns};
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

typedef struct {
    al_lua_op_t op;
    al_yield_t y;
} al_lua_yield_op_t;

static al_poll_t al_lua_yield_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_yield_op_t *op = (al_lua_yield_op_t *)o;
    if (al_yield_poll(&op->y, cx) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    *n = 1;
    return AL_READY;
}

static void al_lua_free_op(al_lua_op_t *o)
{
    free(o);
}

static int al_lua_task_yield_now(lua_State *L)
{
    al_lua_yield_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_yield_op_t){.op = {al_lua_yield_poll, al_lua_free_op, "rt.task.yield_now"},
                              .y = AL_YIELD_INIT};
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* ---- tasks ---- */

static int al_lua_rt_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    al_runtime_t *rt = al_lua_runtime(L);
    if (!rt)
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    return al_lua_spawn(L, rt, 1, lua_gettop(L) - 1, NULL, AL_TASK_ASYNC);
}

static int al_lua_task_spawn_blocking(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    al_runtime_t *rt = al_lua_runtime(L);
    if (!rt)
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    return al_lua_spawn_blocking(L, rt, 1, lua_gettop(L) - 1, NULL);
}

/* block_in_place(fn, ...): fn runs right here, after this worker's other
 * work was handed to a new thread. fn cannot await (it runs inside a C call). */
typedef struct {
    lua_State *L;
    int nargs, status;
} al_lua_bip_t;

static void al_lua_bip_run(void *arg)
{
    al_lua_bip_t *b = arg;
    b->status = lua_pcall(b->L, b->nargs, LUA_MULTRET, 0);
}

static int al_lua_task_block_in_place(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    al_lua_bip_t b = {L, lua_gettop(L) - 1, LUA_OK};
    int rc = al_block_in_place(al_lua_bip_run, &b);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    if (b.status != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

static int al_lua_task_id(lua_State *L)
{
    uint64_t id = al_task_current_id();
    if (id == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

/* rt.task.Builder.new():name("x"):spawn(fn, ...) — a plain table with methods. */
static int al_lua_builder_name(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstring(L, 2);
    lua_pushvalue(L, 2);
    lua_setfield(L, 1, "_name");
    lua_settop(L, 1);
    return 1;
}

/* :memory_limit(mb): the task's state may grow this much beyond its start. */
static int al_lua_builder_memory_limit(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Number mb = luaL_checknumber(L, 2);
    luaL_argcheck(L, mb > 0 && mb <= 1024 * 1024, 2, "a size in MiB from 0 to 1048576 expected");
    lua_pushnumber(L, mb);
    lua_setfield(L, 1, "_memory");
    lua_settop(L, 1);
    return 1;
}

static int al_lua_builder_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_getfield(L, 1, "_name");
    char name[64] = "";
    if (lua_isstring(L, -1))
        snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, 1, "_memory");
    size_t limit = lua_isnumber(L, -1) ? (size_t)(lua_tonumber(L, -1) * 1048576.0) : 0;
    lua_pop(L, 1);
    al_runtime_t *rt = al_lua_runtime(L);
    if (!rt)
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    return al_lua_spawn_limited(L, rt, 2, lua_gettop(L) - 2, name[0] ? name : NULL, limit);
}

static int al_lua_builder_new(lua_State *L)
{
    lua_newtable(L);
    if (luaL_newmetatable(L, "asynclab.TaskBuilder")) { /* the first in this state */
        lua_createtable(L, 0, 3);
        lua_pushcfunction(L, al_lua_builder_name);
        lua_setfield(L, -2, "name");
        lua_pushcfunction(L, al_lua_builder_spawn);
        lua_setfield(L, -2, "spawn");
        lua_pushcfunction(L, al_lua_builder_memory_limit);
        lua_setfield(L, -2, "memory_limit");
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
    return 1;
}

/* ---- time ---- */

static int al_lua_time_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)al_time_now_ns() / 1e6);
    return 1;
}

/* ---- the blocking world ---- */

static int al_lua_std_sleep(lua_State *L)
{
    al_thread_sleep_ns(al_lua_check_ms(L, 1));
    return 0;
}

static int al_lua_std_spin(lua_State *L)
{
    al_spin_ns(al_lua_check_ms(L, 1));
    return 0;
}

/* ---- assembling the modules ---- */

/* t[field] = a table of fns, also registered as package.loaded[path] so
 * that errors name functions called without a name ("bad argument #1 to
 * 'rt.time.sleep'" through pcall). */
void al_lua_module(lua_State *L, const char *field, const char *path, const luaL_Reg *fns)
{
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, path);
    lua_pop(L, 1);
    lua_setfield(L, -2, field);
}

static int al_lua_return_upvalue(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
}

/* ---- the parts of rt and std, each opened on first read ----
 *
 * rt and std start as tables with a metatable (AL_LUA_RT_META): reading a
 * name they do not have yet opens the parts that define it, then reads it
 * raw; pairs opens every part below the table first. The same metatable
 * sits on the submodules that are themselves opened in parts (rt.task,
 * rt.time, rt.sync, rt.runtime, std.sync). A part that adds to a table of
 * another part (rt.time.timeout to rt.time) reads that table through the
 * metatable, so it opens it first. The eager states (the top level, the
 * asynclab.so module) open every part at once; task states open what their
 * code names (lua_lazy_libs.h). */

#define AL_LUA_RT_META "asynclab.rt_lazy"
#define AL_LUA_RT_OPENED "asynclab.rt_parts" /* bit i: part i is open */

static void al_lua_rt_set_lazy(lua_State *L, int t);

/* rt[field] = a new module of fns that opens its own parts on first read. */
static void al_lua_lazy_module(lua_State *L, int rt, const char *field, const char *path,
                               const luaL_Reg *fns)
{
    lua_pushvalue(L, rt);
    al_lua_module(L, field, path, fns);
    lua_getfield(L, -1, field);
    al_lua_rt_set_lazy(L, lua_gettop(L));
    lua_pop(L, 2);
}

static void al_lua_part_task(lua_State *L, int rt, int std)
{
    (void)std;
    al_lua_class_register(L, &al_lua_join_class);
    lua_pushcfunction(L, al_lua_rt_spawn);
    lua_setfield(L, rt, "spawn");
    al_lua_lazy_module(L, rt, "task", "rt.task",
                       (const luaL_Reg[]){{"spawn", al_lua_rt_spawn},
                                          {"yield_now", al_lua_task_yield_now},
                                          {"spawn_blocking", al_lua_task_spawn_blocking},
                                          {"block_in_place", al_lua_task_block_in_place},
                                          {"id", al_lua_task_id},
                                          {NULL, NULL}});
}

static void al_lua_part_task_builder(lua_State *L, int rt, int std)
{
    (void)std;
    lua_getfield(L, rt, "task");
    al_lua_module(L, "Builder", "rt.task.Builder",
                  (const luaL_Reg[]){{"new", al_lua_builder_new}, {NULL, NULL}});
    lua_pop(L, 1);
}

static void al_lua_part_time(lua_State *L, int rt, int std)
{
    (void)std;
    al_lua_lazy_module(
        L, rt, "time", "rt.time",
        (const luaL_Reg[]){{"sleep", al_lua_time_sleep}, {"now", al_lua_time_now}, {NULL, NULL}});
}

static void al_lua_part_rt_sync(lua_State *L, int rt, int std)
{
    (void)std;
    al_lua_lazy_module(L, rt, "sync", "rt.sync", (const luaL_Reg[]){{NULL, NULL}});
}

static void al_lua_part_std_sync(lua_State *L, int rt, int std)
{
    (void)rt;
    al_lua_lazy_module(L, std, "sync", "std.sync", (const luaL_Reg[]){{NULL, NULL}});
}

static void al_lua_part_std_thread(lua_State *L, int rt, int std)
{
    (void)rt;
    lua_pushvalue(L, std);
    al_lua_module(L, "thread", "std.thread",
                  (const luaL_Reg[]){{"sleep", al_lua_std_sleep}, {NULL, NULL}});
    lua_pop(L, 1);
}

static void al_lua_part_std_hint(lua_State *L, int rt, int std)
{
    (void)rt;
    lua_pushvalue(L, std);
    al_lua_module(L, "hint", "std.hint",
                  (const luaL_Reg[]){{"spin", al_lua_std_spin}, {NULL, NULL}});
    lua_pop(L, 1);
}

static void al_lua_part_runtime(lua_State *L, int rt, int std)
{
    (void)std;
    al_lua_open_runtime(L, rt);
    lua_getfield(L, rt, "runtime");
    al_lua_rt_set_lazy(L, lua_gettop(L)); /* rt.runtime.LocalSet on first read */
    lua_pop(L, 1);
}

static void al_lua_part_chan(lua_State *L, int rt, int std)
{
    (void)std;
    lua_getfield(L, rt, "sync");
    al_lua_open_chan(L, lua_gettop(L));
    lua_pop(L, 1);
}

static void al_lua_part_viz(lua_State *L, int rt, int std)
{
    (void)std;
    al_lua_open_viz(L, rt);
    al_lua_open_viz_hooks(L, rt); /* it adds to rt.viz (rt.viz.open / close) */
}

static void al_lua_part_sync(lua_State *L, int rt, int std)
{
    al_lua_open_sync(L, rt, std);
}

static void al_lua_part_std_io(lua_State *L, int rt, int std)
{
    (void)rt;
    al_lua_open_std_io(L, std);
}

/* An opener of the form al_lua_open_x(L, rt) as a part. */
#define AL_LUA_RT_PART(part, opener)                                                               \
    static void part(lua_State *L, int rt, int std)                                                \
    {                                                                                              \
        (void)std;                                                                                 \
        opener(L, rt);                                                                             \
    }
AL_LUA_RT_PART(al_lua_part_join_set, al_lua_open_join_set)
AL_LUA_RT_PART(al_lua_part_spawn_local, al_lua_open_spawn_local)
AL_LUA_RT_PART(al_lua_part_time_more, al_lua_open_time)
AL_LUA_RT_PART(al_lua_part_timeout, al_lua_open_timeout)
AL_LUA_RT_PART(al_lua_part_select, al_lua_open_select)
AL_LUA_RT_PART(al_lua_part_rwlock, al_lua_open_rwlock)
AL_LUA_RT_PART(al_lua_part_weak, al_lua_open_weak)
AL_LUA_RT_PART(al_lua_part_barrier, al_lua_open_barrier)
AL_LUA_RT_PART(al_lua_part_broadcast, al_lua_open_broadcast)
AL_LUA_RT_PART(al_lua_part_watch, al_lua_open_watch)
AL_LUA_RT_PART(al_lua_part_inspect, al_lua_open_inspect)
AL_LUA_RT_PART(al_lua_part_future, al_lua_open_future)
AL_LUA_RT_PART(al_lua_part_local_set, al_lua_open_local_set)
AL_LUA_RT_PART(al_lua_part_help, al_lua_open_help)
AL_LUA_RT_PART(al_lua_part_net, al_lua_open_net)
AL_LUA_RT_PART(al_lua_part_pretty, al_lua_open_pretty)

typedef struct {
    /* The dotted names the part defines, space-separated: reading one of
     * them opens the part. Every name must be here (test_task_state.lua
     * reads every name of the top level's rt / std in fresh tasks). */
    const char *names;
    void (*open)(lua_State *L, int rt, int std);
} al_lua_rt_part_t;

static const al_lua_rt_part_t al_lua_rt_parts[] = {
    {"rt.spawn rt.task", al_lua_part_task},
    {"rt.task.Builder", al_lua_part_task_builder},
    {"rt.task.JoinSet", al_lua_part_join_set},
    {"rt.task.spawn_local", al_lua_part_spawn_local},
    {"rt.time", al_lua_part_time},
    {"rt.time.interval rt.time.sleep_until rt.time.pause rt.time.advance rt.time.resume "
     "rt.time.Instant",
     al_lua_part_time_more},
    {"rt.time.timeout", al_lua_part_timeout},
    {"rt.select", al_lua_part_select},
    {"rt.sync", al_lua_part_rt_sync},
    {"std.sync", al_lua_part_std_sync},
    {"rt.sync.Mutex rt.sync.Semaphore rt.sync.Notify std.sync.Mutex", al_lua_part_sync},
    {"rt.sync.mpsc rt.sync.oneshot", al_lua_part_chan},
    {"rt.sync.RwLock", al_lua_part_rwlock},
    {"rt.sync.Weak", al_lua_part_weak},
    {"rt.sync.Barrier", al_lua_part_barrier},
    {"rt.sync.broadcast", al_lua_part_broadcast},
    {"rt.sync.watch", al_lua_part_watch},
    {"std.thread", al_lua_part_std_thread},
    {"std.hint", al_lua_part_std_hint},
    {"std.io", al_lua_part_std_io},
    {"rt.metrics rt.console rt.tasks rt.dump rt.lints rt.trace", al_lua_part_inspect},
    {"rt.future rt.PENDING", al_lua_part_future},
    {"rt.runtime", al_lua_part_runtime},
    {"rt.runtime.LocalSet", al_lua_part_local_set},
    {"rt.help", al_lua_part_help},
    {"rt.viz", al_lua_part_viz},
    {"rt.net", al_lua_part_net},
    {"rt.pretty", al_lua_part_pretty},
};
#define AL_LUA_RT_NPARTS (sizeof al_lua_rt_parts / sizeof *al_lua_rt_parts)
_Static_assert(AL_LUA_RT_NPARTS < 63, "the open parts are bits of one lua_Integer");

/* Whether the space-separated list names has name (exactly, or with below:
 * some name under it, "rt.sync" -> "rt.sync.mpsc"). */
static bool al_lua_part_has(const char *names, const char *name, bool below)
{
    size_t n = strlen(name);
    for (const char *w = names; *w;) {
        size_t len = strcspn(w, " ");
        if (below ? len > n && strncmp(w, name, n) == 0 && w[n] == '.'
                  : len == n && strncmp(w, name, n) == 0)
            return true;
        w += len;
        w += strspn(w, " ");
    }
    return false;
}

/* Open the parts that define name (below: any name under it; every part
 * when name is NULL) and are not open yet in L. */
static void al_lua_rt_open_parts(lua_State *L, const char *name, bool below)
{
    bool any = false;
    for (size_t i = 0; i < AL_LUA_RT_NPARTS; i++) {
        if (name && !al_lua_part_has(al_lua_rt_parts[i].names, name, below))
            continue;
        lua_getfield(L, LUA_REGISTRYINDEX, AL_LUA_RT_OPENED);
        lua_Integer opened = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (opened & ((lua_Integer)1 << i))
            continue;
        /* marked first: the part may read its own tables through rt */
        lua_pushinteger(L, opened | ((lua_Integer)1 << i));
        lua_setfield(L, LUA_REGISTRYINDEX, AL_LUA_RT_OPENED);
        int top = lua_gettop(L);
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, "rt");
        lua_getfield(L, -2, "std");
        al_lua_rt_parts[i].open(L, top + 2, top + 3);
        lua_settop(L, top);
        any = true;
    }
    if (any)
        al_lua_value_note_modules(L); /* the new tables travel by name */
}

void al_lua_rt_open_all(lua_State *L)
{
    al_lua_rt_open_parts(L, NULL, false);
}

void al_lua_rt_open_name(lua_State *L, const char *name)
{
    char prefix[128];
    for (size_t i = 0; name[i] && i + 1 < sizeof prefix; i++) {
        if (name[i + 1] == '.' || name[i + 1] == '\0') {
            memcpy(prefix, name, i + 1);
            prefix[i + 1] = '\0';
            al_lua_rt_open_parts(L, prefix, false);
        }
    }
}

/* The module name of table t (package.loaded[name] == t) into out. */
static bool al_lua_rt_path(lua_State *L, int t, char *out, size_t cap)
{
    bool found = false;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, t)) {
            snprintf(out, cap, "%s", lua_tostring(L, -2));
            found = true;
            lua_pop(L, 2);
            break;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return found;
}

/* __index(t, k): a name t does not have yet. */
static int al_lua_rt_index(lua_State *L)
{
    char name[128];
    if (lua_type(L, 2) != LUA_TSTRING || !al_lua_rt_path(L, 1, name, sizeof name))
        return 0;
    size_t n = strlen(name);
    snprintf(name + n, sizeof name - n, ".%s", lua_tostring(L, 2));
    al_lua_rt_open_parts(L, name, false);
    lua_settop(L, 2);
    lua_rawget(L, 1);
    return 1;
}

static int al_lua_rt_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs(t): every name of t, so the parts under it open first. */
static int al_lua_rt_pairs(lua_State *L)
{
    char name[128];
    if (al_lua_rt_path(L, 1, name, sizeof name))
        al_lua_rt_open_parts(L, name, true);
    lua_pushcfunction(L, al_lua_rt_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static void al_lua_rt_set_lazy(lua_State *L, int t)
{
    t = lua_absindex(L, t);
    if (luaL_newmetatable(L, AL_LUA_RT_META)) {
        lua_pushcfunction(L, al_lua_rt_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, al_lua_rt_pairs);
        lua_setfield(L, -2, "__pairs");
    }
    lua_setmetatable(L, t);
}

void al_lua_open_rt_lazy(lua_State *L)
{
    lua_newtable(L); /* rt */
    al_lua_rt_set_lazy(L, -1);
    int rt = lua_gettop(L);
    lua_newtable(L); /* std */
    al_lua_rt_set_lazy(L, -1);
    int std = lua_gettop(L);

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, rt);
    lua_setfield(L, -2, "rt");
    lua_pushvalue(L, std);
    lua_setfield(L, -2, "std");
    lua_pop(L, 1);
    /* require "asynclab" in the program returns the same rt. Through
     * package.preload, not package.loaded: a second name for rt there would
     * make error messages name functions 'asynclab.x' instead of 'rt.x'. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushvalue(L, rt);
    lua_pushcclosure(L, al_lua_return_upvalue, 1);
    lua_setfield(L, -2, "asynclab");
    lua_pop(L, 1);
    lua_setglobal(L, "std");
    lua_setglobal(L, "rt");
    al_lua_value_note_modules(L);
}

void al_lua_open_rt(lua_State *L)
{
    al_lua_open_rt_lazy(L);
    al_lua_rt_open_all(L);
}

static lua_State *al_lua_task_state(void)
{
    lua_State *L = al_lua_alloc_state();
    if (!L)
        return NULL;
    *(void **)lua_getextraspace(L) = NULL; /* no task runs here yet (lua_task.c) */
    al_lua_lazy_setup(L);                  /* libraries, rt and std open when the task names them */
    return L;
}

void al_lua_use_task_states(void)
{
    al_lua_new_state = al_lua_task_state;
}

/* The top level opens everything now: the REPL completes and lists globals. */
lua_State *al_lua_main_state(void)
{
    al_lua_use_task_states();
    lua_State *L = al_lua_alloc_state();
    if (!L)
        return NULL;
    *(void **)lua_getextraspace(L) = NULL;
    luaL_openlibs(L);
    al_lua_open_rt(L); /* every part, rt.pretty too: the REPL prints with it */
    return L;
}
