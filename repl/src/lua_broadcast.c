/*
 * lua_broadcast.c — rt.sync.broadcast.channel(cap) for Lua
 * (tokio::sync::broadcast, on al_broadcast.h).
 *
 * The channel keeps the last `cap` values, packed (lua_value.h); each
 * receiver unpacks its own copy. Sending never waits: a receiver that falls
 * more than `cap` values behind has lost the oldest ones, and its next
 * rx:recv() raises a "lagged" error saying how many (Tokio's
 * RecvError::Lagged); the recv after that continues with the oldest value
 * still kept. rx:recv() returns nil once every sender is closed (tx:close(),
 * or collected) and the receiver has seen everything.
 *
 * Ends are shared handles: every Lua copy of a sender or receiver is the
 * same one. tx:clone() makes another sender, tx:subscribe() another
 * receiver (starting with the next value sent). One task at a time may
 * receive on a receiver.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_broadcast.h"
#include "lua_handle.h"
#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_task.h"

static void al_lua_bc_clone_value(void *dst, const void *src, size_t size)
{
    (void)size;
    al_lua_pack_copy(dst, src); /* empty (unpacks as nil) when out of memory */
}

static void al_lua_bc_drop_value(void *v)
{
    al_lua_pack_free(v);
}

typedef struct {
    al_lua_rc_t rc;       /* first: a value that holds its own sender is a cycle (lua_rc.h) */
    pthread_mutex_t lock; /* guards tx (closed by tx:close()) */
    al_broadcast_tx_t *tx;
    size_t cap;
} al_lua_bc_tx_t;

typedef struct {
    atomic_int refs;
    atomic_bool receiving; /* a task is receiving now */
    al_broadcast_rx_t *rx;
    size_t cap;
} al_lua_bc_rx_t;

extern const al_lua_class_t al_lua_bc_tx_class, al_lua_bc_rx_class;

static void al_lua_bc_tx_retain(void *o)
{
    al_lua_rc_retain(&((al_lua_bc_tx_t *)o)->rc);
}

static void al_lua_bc_tx_release(void *o)
{
    al_lua_bc_tx_t *t = o;
    if (!al_lua_rc_release(&t->rc))
        return;
    al_broadcast_tx_drop(t->tx);
    pthread_mutex_destroy(&t->lock);
    al_lua_rc_weak_release(&t->rc);
}

static void al_lua_bc_rx_retain(void *o)
{
    atomic_fetch_add(&((al_lua_bc_rx_t *)o)->refs, 1);
}

static void al_lua_bc_rx_release(void *o)
{
    al_lua_bc_rx_t *r = o;
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    al_broadcast_rx_drop(r->rx);
    free(r);
}

static al_lua_bc_tx_t *al_lua_bc_tx_new(al_broadcast_tx_t *tx, size_t cap)
{
    al_lua_bc_tx_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    al_lua_rc_init(&t->rc, &al_lua_bc_tx_class);
    pthread_mutex_init(&t->lock, NULL);
    t->tx = tx;
    t->cap = cap;
    return t;
}

static al_lua_bc_rx_t *al_lua_bc_rx_new(al_broadcast_rx_t *rx, size_t cap)
{
    al_lua_bc_rx_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    r->rx = rx;
    r->cap = cap;
    return r;
}

typedef struct {
    size_t cap;
    al_broadcast_tx_t *tx;
    al_broadcast_rx_t *rx;
    int rc;
} al_lua_bc_new_t;

static void al_lua_bc_new(void *arg)
{
    al_lua_bc_new_t *mk = arg;
    mk->rc = al_broadcast_channel(mk->cap, sizeof(al_lua_pack_t), al_lua_bc_clone_value,
                                  al_lua_bc_drop_value, &mk->tx, &mk->rx);
}

/* rt.sync.broadcast.channel(cap) -> tx, rx */
static int al_lua_bc_channel(lua_State *L)
{
    lua_Integer cap = luaL_checkinteger(L, 1);
    luaL_argcheck(L, cap >= 1 && cap <= (1 << 24), 1, "capacity must be between 1 and 16777216");
    al_lua_bc_new_t mk = {(size_t)cap, NULL, NULL, 0};
    al_lua_in_context(L, al_lua_bc_new, &mk); /* recorded as a resource of the runtime */
    if (mk.rc != 0)
        return luaL_error(L, "%s", al_strerror(mk.rc));
    al_broadcast_tx_t *tx = mk.tx;
    al_broadcast_rx_t *rx = mk.rx;
    al_lua_bc_tx_t *t = al_lua_bc_tx_new(tx, (size_t)cap);
    al_lua_bc_rx_t *r = al_lua_bc_rx_new(rx, (size_t)cap);
    if (!t || !r) {
        if (t)
            al_lua_bc_tx_release(t);
        else
            al_broadcast_tx_drop(tx);
        if (r)
            al_lua_bc_rx_release(r);
        else
            al_broadcast_rx_drop(rx);
        return luaL_error(L, "out of memory");
    }
    al_lua_handle_push(L, &al_lua_bc_tx_class, t);
    al_lua_handle_push(L, &al_lua_bc_rx_class, r);
    return 2;
}

/* ---- the sender ---- */

/* tx:send(v) -> receivers that will see v | nil, "no receivers" */
static int al_lua_bc_send(lua_State *L)
{
    al_lua_bc_tx_t *t = al_lua_handle_check(L, 1, &al_lua_bc_tx_class);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    al_lua_pack_t msg;
    char err[512];
    if (!al_lua_pack(L, 2, 1, "send", (const char *const[]){"the message"}, &msg, err,
                     sizeof err)) {
        lua_pushstring(L, err);
        return lua_error(L);
    }
    size_t receivers = 0;
    pthread_mutex_lock(&t->lock);
    int rc = t->tx ? al_broadcast_send(t->tx, &msg, &receivers) : AL_EBADSTATE;
    pthread_mutex_unlock(&t->lock);
    if (rc == AL_EBADSTATE) {
        al_lua_pack_free(&msg);
        return luaL_error(L, "this sender was closed (tx:close())");
    }
    if (rc != 0) { /* no receiver: the value was not taken (Tokio's SendError) */
        al_lua_pack_free(&msg);
        lua_pushnil(L);
        lua_pushstring(L, "no receivers");
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)receivers);
    return 1;
}

static int al_lua_bc_subscribe(lua_State *L)
{
    al_lua_bc_tx_t *t = al_lua_handle_check(L, 1, &al_lua_bc_tx_class);
    pthread_mutex_lock(&t->lock);
    al_broadcast_rx_t *rx = t->tx ? al_broadcast_tx_subscribe(t->tx) : NULL;
    bool closed = !t->tx;
    pthread_mutex_unlock(&t->lock);
    if (closed)
        return luaL_error(L, "this sender was closed (tx:close())");
    al_lua_bc_rx_t *r = rx ? al_lua_bc_rx_new(rx, t->cap) : NULL;
    if (!r) {
        al_broadcast_rx_drop(rx);
        return luaL_error(L, "out of memory");
    }
    al_lua_handle_push(L, &al_lua_bc_rx_class, r);
    return 1;
}

static int al_lua_bc_clone(lua_State *L)
{
    al_lua_bc_tx_t *t = al_lua_handle_check(L, 1, &al_lua_bc_tx_class);
    pthread_mutex_lock(&t->lock);
    al_broadcast_tx_t *tx = t->tx ? al_broadcast_tx_clone(t->tx) : NULL;
    pthread_mutex_unlock(&t->lock);
    if (!tx)
        return luaL_error(L, "this sender was closed (tx:close())");
    al_lua_bc_tx_t *c = al_lua_bc_tx_new(tx, t->cap);
    if (!c) {
        al_broadcast_tx_drop(tx);
        return luaL_error(L, "out of memory");
    }
    al_lua_handle_push(L, &al_lua_bc_tx_class, c);
    return 1;
}

/* tx:close(): drop this sender now, not when it is collected. When no
 * sender is left, receivers get nil after the values they have not seen. */
static int al_lua_bc_close(lua_State *L)
{
    al_lua_bc_tx_t *t = al_lua_handle_check(L, 1, &al_lua_bc_tx_class);
    pthread_mutex_lock(&t->lock);
    al_broadcast_tx_t *tx = t->tx;
    t->tx = NULL;
    pthread_mutex_unlock(&t->lock);
    al_broadcast_tx_drop(tx);
    return 0;
}

static int al_lua_bc_receiver_count(lua_State *L)
{
    al_lua_bc_tx_t *t = al_lua_handle_check(L, 1, &al_lua_bc_tx_class);
    pthread_mutex_lock(&t->lock);
    size_t n = t->tx ? al_broadcast_receiver_count(t->tx) : 0;
    pthread_mutex_unlock(&t->lock);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static void al_lua_bc_tx_describe(void *o, char *buf, size_t cap)
{
    al_lua_bc_tx_t *t = o;
    pthread_mutex_lock(&t->lock);
    if (t->tx)
        snprintf(buf, cap, "#%llu (%zu receivers)", (unsigned long long)al_broadcast_tx_id(t->tx),
                 al_broadcast_receiver_count(t->tx));
    else
        snprintf(buf, cap, "(closed)");
    pthread_mutex_unlock(&t->lock);
}

const al_lua_class_t al_lua_bc_tx_class = {
    .name = "BroadcastSender",
    .retain = al_lua_bc_tx_retain,
    .release = al_lua_bc_tx_release,
    .describe = al_lua_bc_tx_describe,
    .weak = true,
    .methods = (const luaL_Reg[]){{"send", al_lua_bc_send},
                                  {"subscribe", al_lua_bc_subscribe},
                                  {"clone", al_lua_bc_clone},
                                  {"close", al_lua_bc_close},
                                  {"receiver_count", al_lua_bc_receiver_count},
                                  {NULL, NULL}}};

/* ---- the receiver ---- */

/* Push what a receive gave (res, msg, lagged) as `true, value` (nil when
 * closed) or `false, error`; returns the count. */
static int al_lua_bc_push_received(lua_State *L, al_lua_bc_rx_t *r, int res, al_lua_pack_t *msg,
                                   uint64_t lagged)
{
    if (res == AL_ELAGGED) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L,
                        "lagged: this receiver missed %I values (the channel keeps the last %I); "
                        "the next recv() continues with the oldest value still kept",
                        (lua_Integer)lagged, (lua_Integer)r->cap);
        return 2;
    }
    lua_pushboolean(L, 1);
    if (res != 0) { /* closed: nil, as Tokio's Err(Closed) */
        lua_pushnil(L);
        return 2;
    }
    char err[256] = "";
    int got = al_lua_unpack(L, msg, err, sizeof err);
    if (got < 0) {
        al_lua_pack_free(msg);
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    if (got == 0) {
        lua_pushnil(L);
        got = 1;
    }
    return 1 + got;
}

typedef struct {
    al_lua_op_t op;
    al_lua_bc_rx_t *r;
    al_broadcast_recv_t recv;
} al_lua_bc_recv_op_t;

static al_poll_t al_lua_bc_recv_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_bc_recv_op_t *op = (al_lua_bc_recv_op_t *)o;
    al_lua_pack_t msg = {0};
    int res = 0;
    uint64_t lagged = 0;
    if (al_broadcast_recv_poll(&op->recv, cx, &msg, &res, &lagged) == AL_PENDING)
        return AL_PENDING;
    *n = al_lua_bc_push_received(L, op->r, res, &msg, lagged);
    return AL_READY;
}

static void al_lua_bc_recv_drop(al_lua_op_t *o)
{
    al_lua_bc_recv_op_t *op = (al_lua_bc_recv_op_t *)o;
    al_broadcast_recv_drop(&op->recv);
    atomic_store(&op->r->receiving, false);
    al_lua_bc_rx_release(op->r);
    free(op);
}

static al_lua_bc_rx_t *al_lua_bc_rx_claim(lua_State *L)
{
    al_lua_bc_rx_t *r = al_lua_handle_check(L, 1, &al_lua_bc_rx_class);
    if (atomic_exchange(&r->receiving, true))
        luaL_error(L, "another task is already receiving on this receiver (give each task a "
                      "receiver of its own: tx:subscribe())");
    return r;
}

static int al_lua_bc_recv(lua_State *L)
{
    al_lua_bc_rx_t *r = al_lua_bc_rx_claim(L);
    al_lua_bc_recv_op_t *op = malloc(sizeof *op);
    if (!op) {
        atomic_store(&r->receiving, false);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_bc_recv_op_t){
        .op = {al_lua_bc_recv_poll, al_lua_bc_recv_drop, "BroadcastReceiver:recv"}, .r = r};
    al_lua_bc_rx_retain(r);
    al_broadcast_recv_init(&op->recv, r->rx);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

/* rx:try_recv() -> value | nil, "empty" | nil, "closed" | nil, "lagged", n */
static int al_lua_bc_try_recv(lua_State *L)
{
    al_lua_bc_rx_t *r = al_lua_bc_rx_claim(L);
    al_lua_pack_t msg = {0};
    uint64_t lagged = 0;
    int rc = al_broadcast_try_recv(r->rx, &msg, &lagged);
    atomic_store(&r->receiving, false);
    if (rc == 0) {
        int top = lua_gettop(L);
        int n = al_lua_bc_push_received(L, r, 0, &msg, 0);
        if (!lua_toboolean(L, top + 1))
            return lua_error(L);
        return n - 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, rc == AL_EEMPTY ? "empty" : rc == AL_ELAGGED ? "lagged" : "closed");
    if (rc != AL_ELAGGED)
        return 2;
    lua_pushinteger(L, (lua_Integer)lagged);
    return 3;
}

static int al_lua_bc_len(lua_State *L)
{
    al_lua_bc_rx_t *r = al_lua_handle_check(L, 1, &al_lua_bc_rx_class);
    lua_pushinteger(L, (lua_Integer)al_broadcast_rx_len(r->rx));
    return 1;
}

static void al_lua_bc_rx_describe(void *o, char *buf, size_t cap)
{
    al_lua_bc_rx_t *r = o;
    snprintf(buf, cap, "(%llu unseen, keeps %zu)", (unsigned long long)al_broadcast_rx_len(r->rx),
             r->cap);
}

const al_lua_class_t al_lua_bc_rx_class = {.name = "BroadcastReceiver",
                                           .retain = al_lua_bc_rx_retain,
                                           .release = al_lua_bc_rx_release,
                                           .describe = al_lua_bc_rx_describe,
                                           .methods =
                                               (const luaL_Reg[]){{"recv", al_lua_bc_recv},
                                                                  {"try_recv", al_lua_bc_try_recv},
                                                                  {"len", al_lua_bc_len},
                                                                  {NULL, NULL}}};

void al_lua_open_broadcast(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_bc_tx_class);
    al_lua_class_register(L, &al_lua_bc_rx_class);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "broadcast", "rt.sync.broadcast",
                  (const luaL_Reg[]){{"channel", al_lua_bc_channel}, {NULL, NULL}});
    lua_pop(L, 1);
}
