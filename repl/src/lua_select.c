/*
 * lua_select.c — rt.select{ key = function() ... end, ... }: run the branches
 * concurrently inside the calling task (or at the top level); the first to
 * finish wins, the others are cancelled at their await point. Returns the
 * winner's key and results. rt.time.timeout(ms, fn, ...) is a select between
 * fn and a sleep.
 *
 * Each branch runs in a coroutine of its own whose awaiter (lua_task.h) is
 * the branch: its awaits store an operation in the branch and yield. The
 * select is itself one operation of the enclosing task: polling it polls
 * every branch's operation and resumes the branches that became ready.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_rt.h"
#include "lua_run.h"
#include "lua_select.h"
#include "lua_task.h"

typedef struct {
    al_lua_awaiter_t aw; /* aw.co: the branch coroutine */
    int co_ref, key_ref;
    bool started, done;
} al_lua_branch_t;

typedef struct {
    al_lua_op_t op;
    lua_State *main; /* keeps references in this state's registry */
    al_lua_branch_t *b;
    int n;
} al_lua_select_op_t;

/* Resume branch i with nargs values on its stack. 1: it finished (results
 * on its stack, count in *nres), 0: it waits, -1: it failed (error on its
 * stack). */
static int al_lua_branch_run(al_lua_branch_t *br, lua_State *from, int nargs, int *nres)
{
    for (;;) {
        int status = lua_resume(br->aw.co, from, nargs, nres);
        if (status == LUA_OK)
            return 1;
        if (status != LUA_YIELD)
            return -1;
        if (!br->aw.pending) {
            lua_pop(br->aw.co, *nres);
            lua_pushstring(br->aw.co, "coroutine.yield() inside rt.select (a branch is not a "
                                      "coroutine; use rt.task.yield_now())");
            return -1;
        }
        return 0;
    }
}

static al_poll_t al_lua_select_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_select_op_t *op = (al_lua_select_op_t *)o;
    for (int i = 0; i < op->n; i++) {
        al_lua_branch_t *br = &op->b[i];
        int nargs = 0, nres = 0, r;
        if (!br->started) {
            br->started = true;
        } else {
            if (!br->aw.pending)
                continue;
            if (br->aw.pending->poll(br->aw.pending, cx, br->aw.co, &nargs) == AL_PENDING)
                continue;
            br->aw.pending->drop(br->aw.pending);
            br->aw.pending = NULL;
        }
        r = al_lua_branch_run(br, L, nargs, &nres);
        while (r == 0 && br->aw.pending) { /* a new wait: maybe ready already */
            if (br->aw.pending->poll(br->aw.pending, cx, br->aw.co, &nargs) == AL_PENDING)
                break;
            br->aw.pending->drop(br->aw.pending);
            br->aw.pending = NULL;
            r = al_lua_branch_run(br, L, nargs, &nres);
        }
        if (r == 0)
            continue;
        /* The winner (or a failure, which ends the select too). */
        br->done = true;
        if (r < 0) {
            lua_pushboolean(L, 0);
            lua_xmove(br->aw.co, L, 1);
            *n = 2;
            return AL_READY;
        }
        lua_pushboolean(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, br->key_ref);
        lua_xmove(br->aw.co, L, nres);
        *n = 2 + nres;
        return AL_READY;
    }
    return AL_PENDING;
}

/* The losers are cancelled: their waits dropped, their coroutines closed
 * (to-be-closed variables run), what they held collected now. */
static void al_lua_select_drop(al_lua_op_t *o)
{
    al_lua_select_op_t *op = (al_lua_select_op_t *)o;
    bool cancelled = false;
    for (int i = 0; i < op->n; i++) {
        al_lua_branch_t *br = &op->b[i];
        if (br->aw.pending) {
            br->aw.pending->drop(br->aw.pending);
            br->aw.pending = NULL;
        }
        if (!br->done && br->started) {
            al_lua_close_cancelled(br->aw.co);
            cancelled = true;
        }
        al_lua_set_awaiter(br->aw.co, NULL);
        luaL_unref(op->main, LUA_REGISTRYINDEX, br->co_ref);
        luaL_unref(op->main, LUA_REGISTRYINDEX, br->key_ref);
    }
    if (cancelled)
        lua_gc(op->main, LUA_GCCOLLECT); /* release guards and permits now */
    free(op->b);
    free(op);
}

static int al_lua_select(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            const char *type = luaL_typename(L, -1);
            const char *key = luaL_tolstring(L, -2, NULL);
            return luaL_argerror(
                L, 1, lua_pushfstring(L, "branch '%s' is a %s, not a function", key, type));
        }
        lua_pop(L, 1);
        n++;
    }
    luaL_argcheck(L, n > 0, 1, "rt.select needs at least one branch");
    al_lua_select_op_t *op = calloc(1, sizeof *op);
    al_lua_branch_t *b = calloc((size_t)n, sizeof *b);
    if (!op || !b) {
        free(op);
        free(b);
        return luaL_error(L, "out of memory");
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    *op = (al_lua_select_op_t){.op = {al_lua_select_poll, al_lua_select_drop, "rt.select"},
                               .main = lua_tothread(L, -1),
                               .b = b,
                               .n = n};
    lua_pop(L, 1);
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        al_lua_branch_t *br = &b[i++];
        lua_State *co = lua_newthread(L);
        br->aw.co = co;
        br->aw.task = al_lua_awaiter(L) ? al_lua_awaiter(L)->task : NULL;
        al_lua_set_awaiter(co, &br->aw);
        br->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_xmove(L, co, 1); /* the branch function, onto its coroutine */
        lua_pushvalue(L, -1);
        br->key_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* rt.time.timeout(ms, fn, ...) -> true, results... | false, "elapsed" */
static const char al_lua_timeout_src[] =
    "local select, sleep, pack, unpack = ...\n"
    "return function(ms, fn, ...)\n"
    "  if type(ms) ~= 'number' then error(\"bad argument #1 to 'timeout' (number expected, got \" "
    ".. type(ms) .. ')', 2) end\n"
    "  if type(fn) ~= 'function' then error(\"bad argument #2 to 'timeout' (function expected, got "
    "\" .. type(fn) .. ')', 2) end\n"
    "  local args = pack(...)\n"
    "  local r = pack(select{ done = function() return fn(unpack(args, 1, args.n)) end,\n"
    "                         elapsed = function() sleep(ms) end })\n"
    "  if r[1] == 'done' then return true, unpack(r, 2, r.n) end\n"
    "  return false, 'elapsed'\n"
    "end\n";

static al_lua_chunk_t al_lua_timeout_chunk = AL_LUA_CHUNK(al_lua_timeout_src, "=rt.time.timeout");

void al_lua_open_select(lua_State *L, int rt)
{
    lua_pushcfunction(L, al_lua_select);
    lua_setfield(L, rt, "select");
}

void al_lua_open_timeout(lua_State *L, int rt)
{
    al_lua_load_chunk(L, &al_lua_timeout_chunk);
    lua_pushcfunction(L, al_lua_select);
    lua_getfield(L, rt, "time");
    lua_getfield(L, -1, "sleep");
    lua_remove(L, -2);
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "pack");
    lua_getfield(L, -2, "unpack");
    lua_remove(L, -3);
    lua_call(L, 4, 1);
    lua_getfield(L, rt, "time");
    lua_insert(L, -2);
    lua_setfield(L, -2, "timeout");
    lua_pop(L, 1);
}
