/*
 * lua_time.c — more of rt.time for Lua (al_time.h): intervals, instants,
 * sleep_until, and paused test time (Tokio's test-util).
 *
 * Instants and intervals read the clock of the runtime they are used on
 * (al_time_now_ns): CLOCK_MONOTONIC, or the frozen clock while time is
 * paused; at the top level, the default runtime's (monotonic) clock.
 *
 * Paused time needs a current-thread runtime with timers enabled (the
 * C runtime refuses a multi-thread one, as Tokio does): inside
 * rt.runtime.Builder.new_current_thread():enable_time():build():block_on(fn)
 * or a runtime built with :start_paused(). While paused, the clock moves
 * only by rt.time.advance(ms), or jumps to the next timer when the runtime
 * has nothing else to do, so rt.time.sleep(60000) returns at once.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_rt.h"
#include "lua_task.h"
#include "lua_time.h"

/* A duration in ms -> ns; raises a "bad argument" for anything else. */
static uint64_t al_lua_time_check_ms(lua_State *L, int arg)
{
    lua_Number ms = luaL_checknumber(L, arg);
    uint64_t ns = 0;
    if (!(ms <= 1e12) || al_duration_from_ms(ms, &ns) != 0)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "a duration in ms from 0 to 1e12 expected, got %f", ms));
    return ns;
}

static void al_lua_free_op(al_lua_op_t *o)
{
    free(o);
}

/* ---- Instant ---- */

typedef struct {
    atomic_int refs;
    uint64_t ns; /* on the runtime clock */
} al_lua_instant_t;

extern const al_lua_class_t al_lua_instant_class;

static void al_lua_instant_retain(void *o)
{
    atomic_fetch_add(&((al_lua_instant_t *)o)->refs, 1);
}

static void al_lua_instant_release(void *o)
{
    al_lua_instant_t *i = o;
    if (atomic_fetch_sub(&i->refs, 1) == 1)
        free(i);
}

static void al_lua_instant_describe(void *o, char *buf, size_t cap)
{
    snprintf(buf, cap, "(%.3f ms on the runtime clock)", (double)((al_lua_instant_t *)o)->ns / 1e6);
}

static void al_lua_push_instant(lua_State *L, uint64_t ns)
{
    al_lua_instant_t *i = malloc(sizeof *i);
    if (!i) {
        luaL_error(L, "out of memory");
        return;
    }
    atomic_init(&i->refs, 1);
    i->ns = ns;
    al_lua_handle_push(L, &al_lua_instant_class, i);
}

static uint64_t al_lua_instant_at(lua_State *L, int idx)
{
    return ((al_lua_instant_t *)al_lua_handle_check(L, idx, &al_lua_instant_class))->ns;
}

/* rt.time.Instant.now() */
static int al_lua_instant_now(lua_State *L)
{
    al_lua_push_instant(L, al_time_now_ns());
    return 1;
}

/* i:elapsed() -> ms since i (0 if i is in the future) */
static int al_lua_instant_elapsed(lua_State *L)
{
    uint64_t at = al_lua_instant_at(L, 1), now = al_time_now_ns();
    lua_pushnumber(L, now > at ? (lua_Number)(now - at) / 1e6 : 0);
    return 1;
}

/* i:duration_since(earlier) -> ms (0 if earlier is later) */
static int al_lua_instant_duration_since(lua_State *L)
{
    uint64_t at = al_lua_instant_at(L, 1), earlier = al_lua_instant_at(L, 2);
    lua_pushnumber(L, at > earlier ? (lua_Number)(at - earlier) / 1e6 : 0);
    return 1;
}

/* i:add(ms) / i + ms -> a later Instant */
static int al_lua_instant_add(lua_State *L)
{
    if (lua_isnumber(L, 1)) /* ms + i */
        lua_rotate(L, 1, 1);
    uint64_t at = al_lua_instant_at(L, 1), ns = al_lua_time_check_ms(L, 2);
    al_lua_push_instant(L, at + ns);
    return 1;
}

/* i - earlier -> ms (negative if earlier is later); i - ms -> an Instant */
static int al_lua_instant_sub(lua_State *L)
{
    uint64_t at = al_lua_instant_at(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        uint64_t ns = al_lua_time_check_ms(L, 2);
        al_lua_push_instant(L, at > ns ? at - ns : 0);
        return 1;
    }
    uint64_t other = al_lua_instant_at(L, 2);
    lua_pushnumber(L, ((lua_Number)at - (lua_Number)other) / 1e6);
    return 1;
}

static int al_lua_instant_eq(lua_State *L)
{
    al_lua_handle_t *a = al_lua_handle_test(L, 1), *b = al_lua_handle_test(L, 2);
    lua_pushboolean(L, a && b && a->cls == &al_lua_instant_class &&
                           b->cls == &al_lua_instant_class && a->obj && b->obj &&
                           al_lua_instant_at(L, 1) == al_lua_instant_at(L, 2));
    return 1;
}

static int al_lua_instant_lt(lua_State *L)
{
    lua_pushboolean(L, al_lua_instant_at(L, 1) < al_lua_instant_at(L, 2));
    return 1;
}

static int al_lua_instant_le(lua_State *L)
{
    lua_pushboolean(L, al_lua_instant_at(L, 1) <= al_lua_instant_at(L, 2));
    return 1;
}

/* i:ms() -> the instant on the clock rt.time.now() reads, in ms */
static int al_lua_instant_ms(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)al_lua_instant_at(L, 1) / 1e6);
    return 1;
}

const al_lua_class_t al_lua_instant_class = {
    .name = "Instant",
    .retain = al_lua_instant_retain,
    .release = al_lua_instant_release,
    .describe = al_lua_instant_describe,
    .methods = (const luaL_Reg[]){{"elapsed", al_lua_instant_elapsed},
                                  {"duration_since", al_lua_instant_duration_since},
                                  {"add", al_lua_instant_add},
                                  {"ms", al_lua_instant_ms},
                                  {NULL, NULL}},
    .metamethods = (const luaL_Reg[]){{"__add", al_lua_instant_add},
                                      {"__sub", al_lua_instant_sub},
                                      {"__eq", al_lua_instant_eq},
                                      {"__lt", al_lua_instant_lt},
                                      {"__le", al_lua_instant_le},
                                      {NULL, NULL}}};

/* ---- sleep_until ---- */

typedef struct {
    al_lua_op_t op;
    al_sleep_t sl;
    bool armed;
    uint64_t deadline;
} al_lua_sleep_until_op_t;

static al_poll_t al_lua_sleep_until_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_sleep_until_op_t *op = (al_lua_sleep_until_op_t *)o;
    if (!op->armed) {
        op->armed = true;
        al_sleep_until_init(&op->sl, op->deadline);
    }
    if (al_sleep_poll(&op->sl, cx) == AL_PENDING)
        return AL_PENDING;
    int rc = al_sleep_result(&op->sl);
    lua_pushboolean(L, rc == 0);
    if (rc != 0)
        lua_pushstring(L, al_strerror(rc));
    *n = rc == 0 ? 1 : 2;
    return AL_READY;
}

static void al_lua_sleep_until_drop(al_lua_op_t *o)
{
    al_lua_sleep_until_op_t *op = (al_lua_sleep_until_op_t *)o;
    if (op->armed)
        al_sleep_drop(&op->sl);
    free(op);
}

/* rt.time.sleep_until(instant) */
static int al_lua_sleep_until(lua_State *L)
{
    uint64_t deadline = al_lua_instant_at(L, 1);
    al_lua_sleep_until_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_sleep_until_op_t){
        .op = {al_lua_sleep_until_poll, al_lua_sleep_until_drop, "rt.time.sleep_until"},
        .deadline = deadline};
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* ---- Interval ---- */

typedef struct {
    atomic_int refs;
    atomic_bool ticking; /* a tick() is in progress */
    uint64_t start_ns, period_ns;
    bool armed; /* it was initialised (at the first tick, in a runtime) */
    al_interval_t it;
} al_lua_interval_t;

extern const al_lua_class_t al_lua_interval_class;

static void al_lua_interval_retain(void *o)
{
    atomic_fetch_add(&((al_lua_interval_t *)o)->refs, 1);
}

static void al_lua_interval_release(void *o)
{
    al_lua_interval_t *iv = o;
    if (atomic_fetch_sub(&iv->refs, 1) != 1)
        return;
    if (iv->armed)
        al_interval_drop(&iv->it);
    free(iv);
}

static void al_lua_interval_describe(void *o, char *buf, size_t cap)
{
    snprintf(buf, cap, "(every %.3f ms)", (double)((al_lua_interval_t *)o)->period_ns / 1e6);
}

/* rt.time.interval(ms): ticks now, then every ms */
static int al_lua_interval_new(lua_State *L)
{
    uint64_t period = al_lua_time_check_ms(L, 1);
    luaL_argcheck(L, period > 0, 1, "the period must be more than 0 ms");
    al_lua_interval_t *iv = calloc(1, sizeof *iv);
    if (!iv)
        return luaL_error(L, "out of memory");
    atomic_init(&iv->refs, 1);
    iv->start_ns = al_time_now_ns();
    iv->period_ns = period;
    al_lua_handle_push(L, &al_lua_interval_class, iv);
    return 1;
}

typedef struct {
    al_lua_op_t op;
    al_lua_interval_t *iv;
} al_lua_tick_op_t;

static al_poll_t al_lua_tick_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_tick_op_t *op = (al_lua_tick_op_t *)o;
    al_lua_interval_t *iv = op->iv;
    if (!iv->armed) {
        iv->armed = true; /* even on failure: the interval is then inert (al_time.h) */
        al_interval_init_at(&iv->it, iv->start_ns, iv->period_ns);
    }
    uint64_t tick_ns = 0;
    if (al_interval_tick(&iv->it, cx, &tick_ns) == AL_PENDING)
        return AL_PENDING;
    int rc = al_interval_result(&iv->it);
    if (rc != 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, al_strerror(rc));
        *n = 2;
        return AL_READY;
    }
    lua_pushboolean(L, 1);
    lua_pushnumber(L, (lua_Number)tick_ns / 1e6);
    *n = 2;
    return AL_READY;
}

static void al_lua_tick_drop(al_lua_op_t *o)
{
    al_lua_tick_op_t *op = (al_lua_tick_op_t *)o;
    atomic_store(&op->iv->ticking, false);
    al_lua_interval_release(op->iv);
    free(op);
}

/* it:tick() -> the tick's scheduled time (ms on the runtime clock) */
static int al_lua_interval_tick(lua_State *L)
{
    al_lua_interval_t *iv = al_lua_handle_check(L, 1, &al_lua_interval_class);
    if (atomic_exchange(&iv->ticking, true))
        return luaL_error(L, "this interval is already being awaited: one tick() at a time");
    al_lua_tick_op_t *op = malloc(sizeof *op);
    if (!op) {
        atomic_store(&iv->ticking, false);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_tick_op_t){.op = {al_lua_tick_poll, al_lua_tick_drop, "Interval:tick"}, .iv = iv};
    al_lua_interval_retain(iv);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* it:reset(): the next tick is one period from now */
static int al_lua_interval_reset(lua_State *L)
{
    al_lua_interval_t *iv = al_lua_handle_check(L, 1, &al_lua_interval_class);
    if (atomic_exchange(&iv->ticking, true))
        return luaL_error(L, "this interval is being awaited: reset it from the same task");
    if (iv->armed)
        al_interval_reset(&iv->it);
    else
        iv->start_ns = al_time_now_ns() + iv->period_ns;
    atomic_store(&iv->ticking, false);
    return 0;
}

static int al_lua_interval_period(lua_State *L)
{
    al_lua_interval_t *iv = al_lua_handle_check(L, 1, &al_lua_interval_class);
    lua_pushnumber(L, (lua_Number)iv->period_ns / 1e6);
    return 1;
}

const al_lua_class_t al_lua_interval_class = {
    .name = "Interval",
    .retain = al_lua_interval_retain,
    .release = al_lua_interval_release,
    .describe = al_lua_interval_describe,
    .methods = (const luaL_Reg[]){{"tick", al_lua_interval_tick},
                                  {"reset", al_lua_interval_reset},
                                  {"period", al_lua_interval_period},
                                  {NULL, NULL}}};

/* ---- paused test time ---- */

/* Raise the error of a pause / advance / resume, explained. */
static int al_lua_time_pause_error(lua_State *L, const char *what, bool pausing, int rc)
{
    if ((rc == AL_ENORUNTIME || rc == AL_EINVAL) && !al_lua_in_task(L))
        return luaL_error(L,
                          "%s needs a current-thread runtime, and the top level runs on the "
                          "default multi-thread one: call it inside "
                          "rt.runtime.Builder.new_current_thread():enable_time():build()"
                          ":block_on(fn)",
                          what);
    if (rc == AL_EINVAL)
        return luaL_error(L,
                          "%s works only on a current-thread runtime (as Tokio's test-util): "
                          "this task runs on a multi-thread runtime, whose workers would race "
                          "to move the clock",
                          what);
    if (rc == AL_EBADSTATE)
        return luaL_error(L, "%s: time is %s", what,
                          pausing ? "already paused" : "not paused (rt.time.pause() first)");
    return luaL_error(L, "%s: %s", what, al_strerror(rc));
}

static int al_lua_time_pause(lua_State *L)
{
    int rc = al_time_pause();
    return rc ? al_lua_time_pause_error(L, "rt.time.pause()", true, rc) : 0;
}

static int al_lua_time_resume(lua_State *L)
{
    int rc = al_time_resume();
    return rc ? al_lua_time_pause_error(L, "rt.time.resume()", false, rc) : 0;
}

typedef struct {
    al_lua_op_t op;
    al_yield_t y;
} al_lua_time_yield_op_t;

static al_poll_t al_lua_time_yield_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_time_yield_op_t *op = (al_lua_time_yield_op_t *)o;
    if (al_yield_poll(&op->y, cx) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    *n = 1;
    return AL_READY;
}

/* rt.time.advance(ms): move the paused clock, fire the timers now due, and
 * yield once so that the tasks they woke run before this one goes on (as
 * Tokio's advance(d).await). */
static int al_lua_time_advance(lua_State *L)
{
    uint64_t ns = al_lua_time_check_ms(L, 1);
    int rc = al_time_advance(ns);
    if (rc != 0)
        return al_lua_time_pause_error(L, "rt.time.advance()", false, rc);
    al_lua_time_yield_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_time_yield_op_t){
        .op = {al_lua_time_yield_poll, al_lua_free_op, "rt.time.advance"}, .y = AL_YIELD_INIT};
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

void al_lua_open_time(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_instant_class);
    al_lua_class_register(L, &al_lua_interval_class);
    lua_getfield(L, rt, "time");
    luaL_setfuncs(L,
                  (const luaL_Reg[]){{"interval", al_lua_interval_new},
                                     {"sleep_until", al_lua_sleep_until},
                                     {"pause", al_lua_time_pause},
                                     {"advance", al_lua_time_advance},
                                     {"resume", al_lua_time_resume},
                                     {NULL, NULL}},
                  0);
    al_lua_module(L, "Instant", "rt.time.Instant",
                  (const luaL_Reg[]){{"now", al_lua_instant_now}, {NULL, NULL}});
    lua_pop(L, 1);
}
