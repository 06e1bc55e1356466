/*
 * lua_viz.c — rt.viz (see lua_viz.h):
 *
 *   rt.viz.open([runtime] [, opts])  a window showing the runtime live (the
 *                                    default runtime unless one is given);
 *                                    true, or nil and a message (no display)
 *   rt.viz.close()                   close it; true if one was open
 *   rt.viz.is_open()                 false once the user closed it
 *   rt.viz.wait()                    block until the user closes it
 *   rt.viz.step_mode(on)             the step gate of the window's runtime
 *                                    (else the current / default runtime)
 *   rt.viz.step([n])                 let n polls (default 1) through
 *   rt.viz.gate()                    {on, waiting, steps_left, passed}
 *
 * opts: width, height, title, max_events (history kept), step (start in step
 * mode), keys (keys pressed one per frame, then the window closes: for demos
 * and tests; SDL's offscreen driver is then accepted), headless (tests:
 * accept SDL's offscreen driver; nothing is seen).
 *
 * The window runs on its own thread (viz_live.h); these functions only open,
 * close and ask, so the prompt keeps working while it is open.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "asynclab.h"
#include "lua_rt.h"
#include "lua_runtime.h"
#include "lua_task.h"
#include "lua_viz.h"

/* rt.viz.open's arguments, checked the same way with or without a
 * visualizer in the build: ([runtime] [, opts]). */
typedef struct {
    al_runtime_t *rt;
    int w, h;
    size_t max_events;
    const char *script; /* opts.keys: key names for tests */
    char title[128];
    bool step_mode, headless;
} al_lua_viz_args_t;

static lua_Integer al_lua_viz_int_field(lua_State *L, int t, const char *k, lua_Integer dflt,
                                        lua_Integer lo, lua_Integer hi)
{
    lua_getfield(L, t, k);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < lo || v > hi)
            luaL_error(L, "rt.viz.open: opts.%s must be an integer from %d to %d", k, (int)lo,
                       (int)hi);
    }
    lua_pop(L, 1);
    return v;
}

static const char *al_lua_viz_str_field(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "rt.viz.open: opts.%s must be a string", k);
        s = lua_tostring(L, -1); /* stays alive: the opts table holds it */
    }
    lua_pop(L, 1);
    return s;
}

static void al_lua_viz_check_args(lua_State *L, al_lua_viz_args_t *a)
{
    *a = (al_lua_viz_args_t){.rt = NULL};
    snprintf(a->title, sizeof a->title, "live: default runtime");
    int arg = 1;
    if (lua_type(L, 1) == LUA_TUSERDATA) {
        a->rt = al_lua_check_runtime(L, 1);
        snprintf(a->title, sizeof a->title, "live: a runtime of %u workers",
                 al_runtime_num_workers(a->rt));
        arg = 2;
    }
    if (!lua_isnoneornil(L, arg)) {
        luaL_checktype(L, arg, LUA_TTABLE);
        a->w = (int)al_lua_viz_int_field(L, arg, "width", 1280, 200, 16384);
        a->h = (int)al_lua_viz_int_field(L, arg, "height", 800, 100, 16384);
        a->max_events =
            (size_t)al_lua_viz_int_field(L, arg, "max_events", 0, 1000, (lua_Integer)1 << 40);
        a->script = al_lua_viz_str_field(L, arg, "keys");
        const char *t = al_lua_viz_str_field(L, arg, "title");
        if (t)
            snprintf(a->title, sizeof a->title, "%s", t);
        lua_getfield(L, arg, "step");
        a->step_mode = lua_toboolean(L, -1);
        lua_getfield(L, arg, "headless");
        a->headless = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    if (!a->rt)
        a->rt = al_lua_runtime(L);
}

#ifdef AL_WITH_VIZ
#include "viz_live.h"

static pthread_mutex_t al_lua_viz_lock = PTHREAD_MUTEX_INITIALIZER;
static viz_live_t *al_lua_viz; /* guarded by al_lua_viz_lock */

static void al_lua_viz_close_locked(void)
{
    viz_live_close(al_lua_viz);
    al_lua_viz = NULL;
}

void al_lua_viz_close_all(void)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    al_lua_viz_close_locked();
    pthread_mutex_unlock(&al_lua_viz_lock);
}

void al_lua_viz_forget(al_runtime_t *rt)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    if (al_lua_viz && viz_live_runtime(al_lua_viz) == rt)
        al_lua_viz_close_locked();
    pthread_mutex_unlock(&al_lua_viz_lock);
}

static int al_lua_viz_open_on(al_runtime_t *rt, const viz_live_opts_t *o, char *err, size_t cap)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    int rc = 0;
    if (al_lua_viz && viz_live_runtime(al_lua_viz) == rt && viz_live_is_open(al_lua_viz)) {
        rc = 0; /* already showing it */
    } else {
        al_lua_viz_close_locked(); /* one window at a time */
        rc = viz_live_open(rt, o, &al_lua_viz, err, cap);
        if (rc != 0)
            al_lua_viz = NULL;
    }
    pthread_mutex_unlock(&al_lua_viz_lock);
    return rc;
}

bool al_lua_viz_open_default(char *err, size_t cap)
{
    al_runtime_t *rt = al_lua_default_runtime();
    if (!rt) {
        snprintf(err, cap, "no runtime (out of memory)");
        return false;
    }
    /* Tests drive it like `asynclab replay`: keys one per frame, then close. */
    viz_live_opts_t o = {.title = "live: default runtime", .script = getenv("ASYNCLAB_VIZ_KEYS")};
    return al_lua_viz_open_on(rt, &o, err, cap) == 0;
}

/* Wait at most ms for the window to close: true once it is (or none is
 * open). The lock is held meanwhile, so nobody frees it under us; others
 * wait at most ms. */
static bool al_lua_viz_wait_slice(uint64_t ms)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    bool closed = !al_lua_viz || viz_live_wait_closed(al_lua_viz, ms);
    pthread_mutex_unlock(&al_lua_viz_lock);
    return closed;
}

void al_lua_viz_wait_closed(void)
{
    while (!al_lua_viz_wait_slice(100))
        ;
}

static int al_lua_viz_open(lua_State *L)
{
    al_lua_viz_args_t a;
    al_lua_viz_check_args(L, &a);
    viz_live_opts_t o = {.w = a.w,
                         .h = a.h,
                         .max_events = a.max_events,
                         .script = a.script,
                         .title = a.title,
                         .step_mode = a.step_mode,
                         .allow_offscreen = a.headless};
    char err[512];
    if (al_lua_viz_open_on(a.rt, &o, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open the visualizer: %s", err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int al_lua_viz_close(lua_State *L)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    bool was = al_lua_viz != NULL;
    al_lua_viz_close_locked();
    pthread_mutex_unlock(&al_lua_viz_lock);
    lua_pushboolean(L, was);
    return 1;
}

static int al_lua_viz_is_open(lua_State *L)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    bool open = al_lua_viz && viz_live_is_open(al_lua_viz);
    pthread_mutex_unlock(&al_lua_viz_lock);
    lua_pushboolean(L, open);
    return 1;
}

/* rt.viz.wait's step: a Lua loop calls it, so that Ctrl-C at the prompt
 * (which interrupts running Lua) ends the wait. */
static int al_lua_viz_wait_step(lua_State *L)
{
    if (al_lua_in_task(L))
        return luaL_error(L, "rt.viz.wait blocks its thread: call it at the top level");
    lua_pushboolean(L, al_lua_viz_wait_slice(100));
    return 1;
}

/* The runtime step mode applies to: the window's, else the current one. */
static al_runtime_t *al_lua_viz_target(lua_State *L)
{
    pthread_mutex_lock(&al_lua_viz_lock);
    al_runtime_t *rt = al_lua_viz ? viz_live_runtime(al_lua_viz) : NULL;
    pthread_mutex_unlock(&al_lua_viz_lock);
    return rt ? rt : al_lua_runtime(L);
}
#else /* built without the visualizer */

void al_lua_viz_close_all(void) {}
void al_lua_viz_forget(struct al_runtime *rt) {}
bool al_lua_viz_open_default(char *err, size_t cap)
{
    snprintf(err, cap, "this build has no visualizer (run the asynclab program)");
    return false;
}
void al_lua_viz_wait_closed(void) {}

static int al_lua_viz_open(lua_State *L)
{
    al_lua_viz_args_t a; /* bad arguments are errors here too */
    al_lua_viz_check_args(L, &a);
    lua_pushnil(L);
    lua_pushstring(L, "cannot open the visualizer: this build has no visualizer (run the "
                      "asynclab program)");
    return 2;
}

static int al_lua_viz_close(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int al_lua_viz_is_open(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int al_lua_viz_wait_step(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static al_runtime_t *al_lua_viz_target(lua_State *L)
{
    return al_lua_runtime(L);
}
#endif

static int al_lua_viz_step_mode(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    al_runtime_t *rt = al_lua_viz_target(L);
    if (!rt)
        return luaL_error(L, "no runtime");
    bool on = lua_toboolean(L, 1);
    if (on && al_lua_in_task(L) && al_runtime_current() == rt)
        return luaL_error(L, "rt.viz.step_mode(true) from a task of the same runtime would stop "
                             "the worker it runs on: call it at the top level");
    int rc = al_runtime_set_gate(rt, on);
    if (rc != 0)
        return luaL_error(L, "rt.viz.step_mode: %s", al_strerror(rc));
    return 0;
}

static int al_lua_viz_step(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 1);
    luaL_argcheck(L, n >= 1 && n <= 1000000, 1, "a number of polls from 1 to 1000000 expected");
    al_runtime_t *rt = al_lua_viz_target(L);
    if (!rt)
        return luaL_error(L, "no runtime");
    if (al_runtime_gate_step(rt, (uint32_t)n) != 0)
        return luaL_error(L, "rt.viz.step: step mode is off (rt.viz.step_mode(true) first)");
    return 0;
}

static int al_lua_viz_gate(lua_State *L)
{
    al_runtime_t *rt = al_lua_viz_target(L);
    if (!rt)
        return luaL_error(L, "no runtime");
    al_gate_state_t g;
    al_runtime_gate_state(rt, &g);
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, g.on);
    lua_setfield(L, -2, "on");
    lua_pushinteger(L, (lua_Integer)g.waiting);
    lua_setfield(L, -2, "waiting");
    lua_pushinteger(L, (lua_Integer)g.steps_left);
    lua_setfield(L, -2, "steps_left");
    lua_pushinteger(L, (lua_Integer)g.passed);
    lua_setfield(L, -2, "passed");
    return 1;
}

void al_lua_open_viz(lua_State *L, int rt)
{
    lua_pushvalue(L, rt);
    al_lua_module(L, "viz", "rt.viz",
                  (const luaL_Reg[]){{"open", al_lua_viz_open},
                                     {"close", al_lua_viz_close},
                                     {"is_open", al_lua_viz_is_open},
                                     {"step_mode", al_lua_viz_step_mode},
                                     {"step", al_lua_viz_step},
                                     {"gate", al_lua_viz_gate},
                                     {NULL, NULL}});
    /* rt.viz.wait = a loop over the C step (see al_lua_viz_wait_step) */
    lua_getfield(L, -1, "viz");
    if (luaL_loadstring(L, "local step = ...\n"
                           "return function() while not step() do end end") == LUA_OK) {
        lua_pushcfunction(L, al_lua_viz_wait_step);
        lua_call(L, 1, 1);
        lua_setfield(L, -2, "wait");
    } else {
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}
