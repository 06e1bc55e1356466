/*
 * lua_future.c — rt.future{ poll = function(cx) ... end }: a hand-written
 * future in Lua, and wakers.
 *
 * fut:await() polls the Lua function with cx = { waker = <borrowed> }. It
 * returns rt.PENDING (not ready) or its results (ready). As in Rust, the
 * waker in cx is borrowed: valid during that poll only. To be woken later
 * the future must keep cx.waker:clone() and whoever has it calls :wake() or
 * :wake_by_ref(). A future that returns PENDING and keeps no clone is never
 * woken again: the lost-waker lint reports it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_future.h"
#include "lua_handle.h"
#include "lua_rt.h"
#include "lua_run.h"
#include "lua_task.h"

static const char al_lua_pending_key = 'P'; /* rt.PENDING: its address */

/* ---- wakers ---- */

typedef struct {
    atomic_int refs;
    pthread_mutex_t lock;
    al_waker_t w;  /* AL_WAKER_NONE once consumed by wake() */
    bool borrowed; /* cx.waker: points at the poll's waker, valid during it */
} al_lua_waker_t;

extern const al_lua_class_t al_lua_waker_class;

static void al_lua_waker_retain(void *o)
{
    atomic_fetch_add(&((al_lua_waker_t *)o)->refs, 1);
}
static void al_lua_waker_release(void *o)
{
    al_lua_waker_t *w = o;
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    if (!w->borrowed)
        al_waker_drop(&w->w);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static al_lua_waker_t *al_lua_waker_check(lua_State *L)
{
    al_lua_handle_t *h = al_lua_handle_test(L, 1);
    if (!h || h->cls != &al_lua_waker_class)
        luaL_argerror(L, 1, "Waker expected");
    if (!h->obj)
        luaL_error(L, "cx.waker is valid only during poll(); keep cx.waker:clone() to wake the "
                      "task later");
    return h->obj;
}

static al_wake_src_t al_lua_wake_src(void)
{
    return al_task_current_id() ? AL_WAKE_SRC(AL_WAKE_TASK, 0) : AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0);
}

static int al_lua_waker_wake(lua_State *L)
{
    al_lua_waker_t *w = al_lua_waker_check(L);
    pthread_mutex_lock(&w->lock);
    if (w->borrowed)
        al_waker_wake_by_ref(&w->w, al_lua_wake_src());
    else
        al_waker_wake(&w->w, al_lua_wake_src()); /* consumed: later wakes do nothing */
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static int al_lua_waker_wake_by_ref(lua_State *L)
{
    al_lua_waker_t *w = al_lua_waker_check(L);
    pthread_mutex_lock(&w->lock);
    al_waker_wake_by_ref(&w->w, al_lua_wake_src());
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static al_lua_waker_t *al_lua_waker_new(al_waker_t w, bool borrowed)
{
    al_lua_waker_t *lw = calloc(1, sizeof *lw);
    if (!lw)
        return NULL;
    atomic_init(&lw->refs, 1);
    pthread_mutex_init(&lw->lock, NULL);
    lw->w = w;
    lw->borrowed = borrowed;
    return lw;
}

static int al_lua_waker_clone(lua_State *L)
{
    al_lua_waker_t *w = al_lua_waker_check(L);
    pthread_mutex_lock(&w->lock);
    al_waker_t c = al_waker_clone(&w->w);
    pthread_mutex_unlock(&w->lock);
    al_lua_waker_t *lw = al_lua_waker_new(c, false);
    if (!lw) {
        al_waker_drop(&c);
        return luaL_error(L, "out of memory");
    }
    al_lua_handle_push(L, &al_lua_waker_class, lw);
    return 1;
}

static void al_lua_waker_describe(void *o, char *buf, size_t cap)
{
    al_lua_waker_t *w = o;
    snprintf(buf, cap, "%s",
             w->borrowed               ? "(borrowed, valid during poll)"
             : al_waker_is_none(&w->w) ? "(used)"
                                       : "");
}

const al_lua_class_t al_lua_waker_class = {
    .name = "Waker",
    .retain = al_lua_waker_retain,
    .release = al_lua_waker_release,
    .describe = al_lua_waker_describe,
    .methods = (const luaL_Reg[]){{"wake", al_lua_waker_wake},
                                  {"wake_by_ref", al_lua_waker_wake_by_ref},
                                  {"clone", al_lua_waker_clone},
                                  {NULL, NULL}}};

/* ---- the future ---- */

typedef struct {
    al_lua_op_t op;
    lua_State *main; /* the state's main thread: runs poll() */
    int fut_ref;     /* the future table, in the registry */
} al_lua_fut_op_t;

static al_poll_t al_lua_fut_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_fut_op_t *op = (al_lua_fut_op_t *)o;
    lua_State *M = op->main;
    int top = lua_gettop(M);
    lua_rawgeti(M, LUA_REGISTRYINDEX, op->fut_ref);
    lua_getfield(M, -1, "poll");
    lua_remove(M, -2);
    /* cx = { waker = <borrowed> } */
    al_lua_waker_t *bw = al_lua_waker_new(cx->waker, true);
    lua_createtable(M, 0, 1);
    if (bw) {
        al_lua_waker_retain(bw); /* ours, to invalidate the handle after the poll */
        al_lua_handle_push(M, &al_lua_waker_class, bw);
        lua_pushvalue(M, -1);
        lua_insert(M, top + 1); /* keep the handle below the call */
        lua_setfield(M, -2, "waker");
    }
    int status = al_lua_call(M, 1, LUA_MULTRET);
    if (bw) { /* the borrow ends with the poll */
        al_lua_handle_t *h = lua_touserdata(M, top + 1);
        h->obj = NULL;
        lua_remove(M, top + 1);
        al_lua_waker_release(bw); /* the handle's reference */
        al_lua_waker_release(bw); /* ours */
    }
    int nres = lua_gettop(M) - top;
    if (status != LUA_OK) {
        lua_pushboolean(M, 0);
        lua_insert(M, top + 1);
        *n = 2;
    } else if (nres >= 1 && lua_touserdata(M, top + 1) == &al_lua_pending_key) {
        lua_settop(M, top);
        return AL_PENDING;
    } else {
        lua_pushboolean(M, 1);
        lua_insert(M, top + 1);
        *n = nres + 1;
    }
    if (L != M)
        lua_xmove(M, L, *n);
    return AL_READY;
}

static void al_lua_fut_drop(al_lua_op_t *o)
{
    al_lua_fut_op_t *op = (al_lua_fut_op_t *)o;
    luaL_unref(op->main, LUA_REGISTRYINDEX, op->fut_ref);
    free(op);
}

static int al_lua_future_await(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "poll");
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_argerror(L, 1, "a future needs a poll function");
    lua_pop(L, 1);
    al_lua_fut_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    *op = (al_lua_fut_op_t){.op = {al_lua_fut_poll, al_lua_fut_drop, "rt.future"},
                            .main = lua_tothread(L, -1)};
    lua_pop(L, 1);
    lua_pushvalue(L, 1);
    op->fut_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* rt.future{ poll = fn } */
static int al_lua_future_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "poll");
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_argerror(L, 1, "a table with a poll function expected");
    lua_pop(L, 1);
    lua_settop(L, 1);
    luaL_getmetatable(L, "asynclab.Future");
    lua_setmetatable(L, 1);
    return 1;
}

void al_lua_open_future(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_waker_class);
    if (luaL_newmetatable(L, "asynclab.Future")) {
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, al_lua_future_await);
        lua_setfield(L, -2, "await");
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, al_lua_future_new);
    lua_setfield(L, rt, "future");
    lua_pushlightuserdata(L, (void *)&al_lua_pending_key);
    lua_setfield(L, rt, "PENDING");
}
