/*
 * lua_join_set.c — rt.task.JoinSet for Lua (tokio::task::JoinSet, on
 * al_join_set.h).
 *
 *   local set = rt.task.JoinSet.new()
 *   for i = 1, 3 do set:spawn(fetch, i) end
 *   while set:len() > 0 do print(set:join_next()) end
 *
 * set:join_next() waits for whichever task finishes next and returns its
 * results (raising its JoinError if it panicked or was cancelled, as
 * h:await() does); nil once the set is empty. set:join_next_with_id()
 * returns the task's id first, so an empty set (nil) is told apart from a
 * task that returned nothing.
 *
 * A JoinSet belongs to the task that made it, as Tokio's is owned (it cannot
 * be sent to another task: a spawned function that captured its own set
 * would keep it alive forever). Dropping it aborts every task still in it:
 * when its task ends or is cancelled, when a `local set <close>` goes out of
 * scope, or when it is collected.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_join_set.h"
#include "lua_rt.h"
#include "lua_task.h"

typedef struct {
    atomic_int refs; /* the handle's, and one per join_next in progress */
    atomic_bool joining;
    al_join_set_t *set;
} al_lua_join_set_t;

extern const al_lua_class_t al_lua_join_set_class;

static void al_lua_join_set_retain(void *o)
{
    atomic_fetch_add(&((al_lua_join_set_t *)o)->refs, 1);
}

static void al_lua_join_set_release(void *o)
{
    al_lua_join_set_t *s = o;
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    al_join_set_free(s->set); /* aborts the tasks still in it */
    free(s);
}

static void al_lua_join_set_describe(void *o, char *buf, size_t cap)
{
    al_lua_join_set_t *s = o;
    size_t n = al_join_set_len(s->set);
    snprintf(buf, cap, "(%zu task%s)", n, n == 1 ? "" : "s");
}

static int al_lua_join_set_new(lua_State *L)
{
    al_lua_join_set_t *s = calloc(1, sizeof *s);
    if (!s)
        return luaL_error(L, "out of memory");
    if (al_join_set_new(&s->set) != 0) {
        free(s);
        return luaL_error(L, "out of memory");
    }
    atomic_init(&s->refs, 1);
    al_lua_handle_push(L, &al_lua_join_set_class, s);
    return 1;
}

typedef struct {
    al_join_set_t *set;
    al_runtime_t *rt;
} al_lua_join_set_spawner_t;

static int al_lua_join_set_spawner(void *ctx, const al_future_vtable_t *vt, const void *init,
                                   const al_spawn_opts_t *opts, al_join_t **out)
{
    al_lua_join_set_spawner_t *sp = ctx;
    *out = NULL;
    return al_join_set_spawn(sp->set, sp->rt, vt, init, opts);
}

/* set:spawn(fn, ...) */
static int al_lua_join_set_spawn(lua_State *L)
{
    al_lua_join_set_t *s = al_lua_handle_check(L, 1, &al_lua_join_set_class);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    al_runtime_t *rt = al_lua_runtime(L);
    if (!rt)
        return luaL_error(L, "%s", al_strerror(AL_ENORUNTIME));
    al_lua_join_set_spawner_t sp = {s->set, rt};
    al_lua_spawn_with(L, rt, 2, lua_gettop(L) - 2, NULL, al_lua_join_set_spawner, &sp);
    return 0;
}

/* ---- join_next ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_join_set_t *s;
    bool with_id;
    bool drain; /* shutdown(): wait for every task, discard the results */
} al_lua_join_next_op_t;

static al_poll_t al_lua_join_next_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_join_next_op_t *op = (al_lua_join_next_op_t *)o;
    for (;;) {
        al_lua_pack_t res = {0};
        uint64_t id = 0;
        al_join_result_t jr;
        if (al_join_set_join_next_poll(op->s->set, cx, &res, &id, &jr) == AL_PENDING)
            return AL_PENDING;
        if (op->drain) {
            if (id == 0) {
                lua_pushboolean(L, 1);
                *n = 1;
                return AL_READY;
            }
            if (jr.kind == AL_JOIN_OK)
                al_lua_pack_free(&res);
            continue;
        }
        if (id == 0) { /* empty */
            lua_pushboolean(L, 1);
            lua_pushnil(L);
            *n = 2;
            return AL_READY;
        }
        if (jr.kind != AL_JOIN_OK) {
            lua_pushboolean(L, 0);
            al_lua_push_join_error(L, id, NULL, &jr);
            *n = 2;
            return AL_READY;
        }
        int top = lua_gettop(L);
        lua_pushboolean(L, 1);
        if (op->with_id)
            lua_pushinteger(L, (lua_Integer)id);
        char err[256] = "";
        if (al_lua_unpack(L, &res, err, sizeof err) < 0) {
            al_lua_pack_free(&res);
            lua_settop(L, top);
            lua_pushboolean(L, 0);
            lua_pushstring(L, err);
        }
        *n = lua_gettop(L) - top;
        return AL_READY;
    }
}

static void al_lua_join_next_drop(al_lua_op_t *o)
{
    al_lua_join_next_op_t *op = (al_lua_join_next_op_t *)o;
    atomic_store(&op->s->joining, false);
    al_lua_join_set_release(op->s);
    free(op);
}

static int al_lua_join_next_common(lua_State *L, bool with_id, bool drain)
{
    al_lua_join_set_t *s = al_lua_handle_check(L, 1, &al_lua_join_set_class);
    if (atomic_exchange(&s->joining, true))
        return luaL_error(L, "this JoinSet is already being awaited (by another rt.select "
                             "branch): one join_next at a time");
    al_lua_join_next_op_t *op = malloc(sizeof *op);
    if (!op) {
        atomic_store(&s->joining, false);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_join_next_op_t){.op = {al_lua_join_next_poll, al_lua_join_next_drop,
                                         drain ? "JoinSet:shutdown" : "JoinSet:join_next"},
                                  .s = s,
                                  .with_id = with_id,
                                  .drain = drain};
    al_lua_join_set_retain(s);
    if (drain)
        al_join_set_abort_all(s->set);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* set:join_next() -> results of the next task to finish | nil (empty) */
static int al_lua_join_set_join_next(lua_State *L)
{
    return al_lua_join_next_common(L, false, false);
}

/* set:join_next_with_id() -> id, results... | nil (empty) */
static int al_lua_join_set_join_next_with_id(lua_State *L)
{
    return al_lua_join_next_common(L, true, false);
}

/* set:shutdown(): abort every task and wait until they have all ended. */
static int al_lua_join_set_shutdown(lua_State *L)
{
    al_lua_join_next_common(L, false, true);
    return 0;
}

static int al_lua_join_set_len(lua_State *L)
{
    al_lua_join_set_t *s = al_lua_handle_check(L, 1, &al_lua_join_set_class);
    lua_pushinteger(L, (lua_Integer)al_join_set_len(s->set));
    return 1;
}

static int al_lua_join_set_is_empty(lua_State *L)
{
    al_lua_join_set_t *s = al_lua_handle_check(L, 1, &al_lua_join_set_class);
    lua_pushboolean(L, al_join_set_len(s->set) == 0);
    return 1;
}

static int al_lua_join_set_abort_all(lua_State *L)
{
    al_lua_join_set_t *s = al_lua_handle_check(L, 1, &al_lua_join_set_class);
    al_join_set_abort_all(s->set);
    return 0;
}

/* __gc and __close: drop the set (its tasks are aborted once no join_next
 * is in progress either). */
static int al_lua_join_set_drop(lua_State *L)
{
    al_lua_handle_t *h = al_lua_handle_test(L, 1);
    if (h && h->cls == &al_lua_join_set_class && h->obj) {
        al_lua_join_set_release(h->obj);
        h->obj = NULL;
    }
    return 0;
}

const al_lua_class_t al_lua_join_set_class = {
    .name = "JoinSet",
    .retain = al_lua_join_set_retain,
    .release = al_lua_join_set_release,
    .describe = al_lua_join_set_describe,
    .gc = al_lua_join_set_drop,
    /* local set <close> = rt.task.JoinSet.new() */
    .metamethods = (const luaL_Reg[]){{"__close", al_lua_join_set_drop}, {NULL, NULL}},
    .task_local = true,
    .methods = (const luaL_Reg[]){{"spawn", al_lua_join_set_spawn},
                                  {"join_next", al_lua_join_set_join_next},
                                  {"join_next_with_id", al_lua_join_set_join_next_with_id},
                                  {"len", al_lua_join_set_len},
                                  {"is_empty", al_lua_join_set_is_empty},
                                  {"abort_all", al_lua_join_set_abort_all},
                                  {"shutdown", al_lua_join_set_shutdown},
                                  {NULL, NULL}}};

void al_lua_open_join_set(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_join_set_class);
    lua_getfield(L, rt, "task");
    al_lua_module(L, "JoinSet", "rt.task.JoinSet",
                  (const luaL_Reg[]){{"new", al_lua_join_set_new}, {NULL, NULL}});
    lua_pop(L, 1);
}
