/*
 * lua_barrier.c — rt.sync.Barrier for Lua (tokio::sync::Barrier, on
 * al_barrier.h): b:wait() returns when n waits have arrived; exactly one of
 * them (the last to arrive) gets true (the leader), the others false. The
 * barrier then starts over for the next n.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_barrier.h"
#include "lua_handle.h"
#include "lua_rt.h"
#include "lua_task.h"

typedef struct {
    atomic_int refs;
    al_barrier_t *b;
    uint32_t n;
} al_lua_barrier_t;

extern const al_lua_class_t al_lua_barrier_class;

static void al_lua_barrier_retain(void *o)
{
    atomic_fetch_add(&((al_lua_barrier_t *)o)->refs, 1);
}

static void al_lua_barrier_release(void *o)
{
    al_lua_barrier_t *b = o;
    if (atomic_fetch_sub(&b->refs, 1) == 1) {
        al_barrier_unref(b->b);
        free(b);
    }
}

static void al_lua_barrier_describe(void *o, char *buf, size_t cap)
{
    al_lua_barrier_t *b = o;
    snprintf(buf, cap, "#%llu n=%u, %llu generation%s completed",
             (unsigned long long)al_barrier_id(b->b), b->n,
             (unsigned long long)al_barrier_generation(b->b),
             al_barrier_generation(b->b) == 1 ? "" : "s");
}

typedef struct {
    al_lua_barrier_t *b;
    const char *name;
    int rc;
} al_lua_new_barrier_t;

static void al_lua_new_barrier(void *arg)
{
    al_lua_new_barrier_t *mk = arg;
    mk->rc = al_barrier_new(mk->b->n, mk->name, &mk->b->b);
}

/* rt.sync.Barrier.new(n [, name]) */
static int al_lua_barrier_new(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= 1000000000, 1, "the number of tasks must be between 0 and 1e9");
    const char *name = luaL_optstring(L, 2, NULL);
    al_lua_barrier_t *b = calloc(1, sizeof *b);
    if (!b)
        return luaL_error(L, "out of memory");
    b->n = (uint32_t)n;
    al_lua_new_barrier_t mk = {b, name, 0};
    al_lua_in_context(L, al_lua_new_barrier, &mk); /* recorded with its name */
    if (mk.rc != 0) {
        free(b);
        return luaL_error(L, "%s", al_strerror(mk.rc));
    }
    atomic_init(&b->refs, 1);
    al_lua_handle_push(L, &al_lua_barrier_class, b);
    return 1;
}

typedef struct {
    al_lua_op_t op;
    al_lua_barrier_t *b;
    al_barrier_wait_t w;
} al_lua_barrier_op_t;

static al_poll_t al_lua_barrier_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_barrier_op_t *op = (al_lua_barrier_op_t *)o;
    bool leader = false;
    if (al_barrier_wait_poll(&op->w, cx, &leader) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    lua_pushboolean(L, leader);
    *n = 2;
    return AL_READY;
}

static void al_lua_barrier_drop(al_lua_op_t *o)
{
    al_lua_barrier_op_t *op = (al_lua_barrier_op_t *)o;
    al_barrier_wait_drop(&op->w);
    al_lua_barrier_release(op->b);
    free(op);
}

static int al_lua_barrier_wait(lua_State *L)
{
    al_lua_barrier_t *b = al_lua_handle_check(L, 1, &al_lua_barrier_class);
    al_lua_barrier_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_barrier_op_t){.op = {al_lua_barrier_poll, al_lua_barrier_drop, "Barrier:wait"},
                                .b = b};
    al_lua_barrier_retain(b);
    al_barrier_wait_init(&op->w, b->b);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_barrier_generation(lua_State *L)
{
    al_lua_barrier_t *b = al_lua_handle_check(L, 1, &al_lua_barrier_class);
    lua_pushinteger(L, (lua_Integer)al_barrier_generation(b->b));
    return 1;
}

static uint64_t al_lua_barrier_resource_id(void *o)
{
    return al_barrier_id(((al_lua_barrier_t *)o)->b);
}

const al_lua_class_t al_lua_barrier_class = {
    .name = "Barrier",
    .resource_id = al_lua_barrier_resource_id,
    .retain = al_lua_barrier_retain,
    .release = al_lua_barrier_release,
    .describe = al_lua_barrier_describe,
    .methods = (const luaL_Reg[]){
        {"wait", al_lua_barrier_wait}, {"generation", al_lua_barrier_generation}, {NULL, NULL}}};

void al_lua_open_barrier(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_barrier_class);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "Barrier", "rt.sync.Barrier",
                  (const luaL_Reg[]){{"new", al_lua_barrier_new}, {NULL, NULL}});
    lua_pop(L, 1);
}
