/*
 * lua_chan.c — rt.sync.mpsc and rt.sync.oneshot for Lua. Messages travel
 * packed (lua_value.h): the channel's element is an al_lua_pack_t, so a
 * message waits in the channel independent of both tasks' states.
 *
 * Channel ends are shared handles. Every Lua copy of a sender is the same
 * sender (tx:clone() makes another one); the channel closes when the last
 * handle to every sender is gone. One task at a time may wait on a receiver.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_chan.h"
#include "lua_handle.h"
#include "lua_rt.h"
#include "lua_task.h"

static void al_lua_pack_drop_value(void *v)
{
    al_lua_pack_free(v);
}

typedef struct {
    atomic_int refs;
    bool oneshot;
    pthread_mutex_t lock; /* guards tx for oneshot (consumed by send) */
    al_mpsc_tx_t *tx;
    al_oneshot_tx_t *otx;
} al_lua_tx_t;

typedef struct {
    atomic_int refs;
    bool oneshot;
    atomic_bool receiving; /* a task is waiting in recv */
    al_mpsc_rx_t *rx;
    al_oneshot_rx_t *orx;
} al_lua_rx_t;

extern const al_lua_class_t al_lua_tx_class, al_lua_rx_class;

static void al_lua_tx_retain(void *o)
{
    atomic_fetch_add(&((al_lua_tx_t *)o)->refs, 1);
}
static void al_lua_tx_release(void *o)
{
    al_lua_tx_t *t = o;
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    if (t->oneshot)
        al_oneshot_tx_drop(t->otx);
    else
        al_mpsc_tx_drop(t->tx);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void al_lua_rx_retain(void *o)
{
    atomic_fetch_add(&((al_lua_rx_t *)o)->refs, 1);
}
static void al_lua_rx_release(void *o)
{
    al_lua_rx_t *r = o;
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->oneshot)
        al_oneshot_rx_drop(r->orx);
    else
        al_mpsc_rx_drop(r->rx);
    free(r);
}

static al_lua_tx_t *al_lua_tx_new(bool oneshot)
{
    al_lua_tx_t *t = calloc(1, sizeof *t);
    if (t) {
        atomic_init(&t->refs, 1);
        t->oneshot = oneshot;
        pthread_mutex_init(&t->lock, NULL);
    }
    return t;
}

static int al_lua_push_ends(lua_State *L, al_lua_tx_t *t, al_lua_rx_t *r)
{
    al_lua_handle_push(L, &al_lua_tx_class, t);
    al_lua_handle_push(L, &al_lua_rx_class, r);
    return 2;
}

/* rt.sync.mpsc.channel(cap) / unbounded_channel() / rt.sync.oneshot.channel() */
static int al_lua_channel_common(lua_State *L, int kind /* 0 bounded, 1 unbounded, 2 oneshot */)
{
    lua_Integer cap = 0;
    if (kind == 0) {
        cap = luaL_checkinteger(L, 1);
        luaL_argcheck(L, cap >= 1 && cap <= (1 << 24), 1,
                      "capacity must be between 1 and 16777216");
    }
    al_lua_tx_t *t = al_lua_tx_new(kind == 2);
    al_lua_rx_t *r = calloc(1, sizeof *r);
    if (!t || !r) {
        free(t);
        free(r);
        return luaL_error(L, "out of memory");
    }
    atomic_init(&r->refs, 1);
    r->oneshot = kind == 2;
    int rc;
    if (kind == 0)
        rc = al_mpsc_channel((size_t)cap, sizeof(al_lua_pack_t), al_lua_pack_drop_value, &t->tx,
                             &r->rx);
    else if (kind == 1)
        rc = al_mpsc_unbounded_channel(sizeof(al_lua_pack_t), al_lua_pack_drop_value, &t->tx,
                                       &r->rx);
    else
        rc = al_oneshot_channel(sizeof(al_lua_pack_t), al_lua_pack_drop_value, &t->otx, &r->orx);
    if (rc != 0) {
        pthread_mutex_destroy(&t->lock);
        free(t);
        free(r);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    return al_lua_push_ends(L, t, r);
}

static int al_lua_mpsc_channel(lua_State *L)
{
    return al_lua_channel_common(L, 0);
}
static int al_lua_mpsc_unbounded(lua_State *L)
{
    return al_lua_channel_common(L, 1);
}
static int al_lua_oneshot_channel(lua_State *L)
{
    return al_lua_channel_common(L, 2);
}

/* ---- sending ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_tx_t *t;
    al_lua_pack_t msg;
    al_mpsc_send_t send;
    bool sent;
} al_lua_send_op_t;

static al_poll_t al_lua_send_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_send_op_t *op = (al_lua_send_op_t *)o;
    int res = 0;
    if (al_mpsc_send_poll(&op->send, cx, &res) == AL_PENDING)
        return AL_PENDING;
    if (res != 0) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "send failed: %s (the receiver was closed or dropped)",
                        al_strerror(res));
        *n = 2;
        return AL_READY;
    }
    op->sent = true; /* the channel owns the message now */
    lua_pushboolean(L, 1);
    *n = 1;
    return AL_READY;
}

static void al_lua_send_drop(al_lua_op_t *o)
{
    al_lua_send_op_t *op = (al_lua_send_op_t *)o;
    al_mpsc_send_drop(&op->send);
    if (!op->sent)
        al_lua_pack_free(&op->msg);
    al_lua_tx_release(op->t);
    free(op);
}

static int al_lua_tx_send(lua_State *L)
{
    al_lua_tx_t *t = al_lua_handle_check(L, 1, &al_lua_tx_class);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    al_lua_pack_t msg;
    char err[512];
    if (!al_lua_pack(L, 2, 1, "send", (const char *const[]){"the message"}, &msg, err,
                     sizeof err)) {
        lua_pushstring(L, err);
        return lua_error(L);
    }
    if (t->oneshot) { /* never waits; consumes the sender */
        pthread_mutex_lock(&t->lock);
        al_oneshot_tx_t *otx = t->otx;
        t->otx = NULL;
        pthread_mutex_unlock(&t->lock);
        if (!otx) {
            al_lua_pack_free(&msg);
            return luaL_error(L,
                              "this oneshot sender was already used (a oneshot sends one value)");
        }
        int rc = al_oneshot_send(otx, &msg);
        if (rc != 0) {
            al_lua_pack_free(&msg); /* not taken */
            return luaL_error(L, "send failed: %s (the receiver was closed or dropped)",
                              al_strerror(rc));
        }
        return 0;
    }
    if (al_mpsc_capacity(t->tx) == 0) {
        /* Unbounded: never waits, a plain call as in Tokio (so it also works
         * where nothing may wait: a cancelled task's cleanup). */
        int rc = al_mpsc_try_send(t->tx, &msg);
        if (rc != 0) {
            al_lua_pack_free(&msg);
            return luaL_error(L, "send failed: %s (the receiver was closed or dropped)",
                              al_strerror(rc));
        }
        return 0;
    }
    al_lua_send_op_t *op = malloc(sizeof *op);
    if (!op) {
        al_lua_pack_free(&msg);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_send_op_t){
        .op = {al_lua_send_poll, al_lua_send_drop, "Sender:send"}, .t = t, .msg = msg};
    al_lua_tx_retain(t);
    al_mpsc_send_init(&op->send, t->tx, &op->msg);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_tx_try_send(lua_State *L)
{
    al_lua_tx_t *t = al_lua_handle_check(L, 1, &al_lua_tx_class);
    if (t->oneshot)
        return al_lua_tx_send(L);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    al_lua_pack_t msg;
    char err[512];
    if (!al_lua_pack(L, 2, 1, "send", (const char *const[]){"the message"}, &msg, err,
                     sizeof err)) {
        lua_pushstring(L, err);
        return lua_error(L);
    }
    int rc = al_mpsc_try_send(t->tx, &msg);
    if (rc != 0) {
        al_lua_pack_free(&msg);
        lua_pushboolean(L, 0);
        lua_pushstring(L, rc == AL_EFULL ? "full" : "closed");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int al_lua_tx_clone(lua_State *L)
{
    al_lua_tx_t *t = al_lua_handle_check(L, 1, &al_lua_tx_class);
    if (t->oneshot)
        return luaL_error(L, "a oneshot sender cannot be cloned");
    al_lua_tx_t *c = al_lua_tx_new(false);
    if (!c)
        return luaL_error(L, "out of memory");
    c->tx = al_mpsc_tx_clone(t->tx);
    al_lua_handle_push(L, &al_lua_tx_class, c);
    return 1;
}

static int al_lua_tx_is_closed(lua_State *L)
{
    al_lua_tx_t *t = al_lua_handle_check(L, 1, &al_lua_tx_class);
    bool closed;
    if (t->oneshot) {
        pthread_mutex_lock(&t->lock);
        closed = !t->otx || al_oneshot_tx_is_closed(t->otx);
        pthread_mutex_unlock(&t->lock);
    } else {
        closed = al_mpsc_tx_is_closed(t->tx);
    }
    lua_pushboolean(L, closed);
    return 1;
}

static void al_lua_tx_describe(void *o, char *buf, size_t cap)
{
    al_lua_tx_t *t = o;
    if (t->oneshot)
        snprintf(buf, cap, "(oneshot)");
    else
        snprintf(buf, cap, "#%llu (%zu queued)", (unsigned long long)al_mpsc_tx_id(t->tx),
                 al_mpsc_tx_len(t->tx));
}

static uint64_t al_lua_tx_resource_id(void *o)
{
    al_lua_tx_t *t = o;
    return t->oneshot ? 0 : al_mpsc_tx_id(t->tx);
}

const al_lua_class_t al_lua_tx_class = {.name = "Sender",
                                        .resource_id = al_lua_tx_resource_id,
                                        .retain = al_lua_tx_retain,
                                        .release = al_lua_tx_release,
                                        .describe = al_lua_tx_describe,
                                        .methods =
                                            (const luaL_Reg[]){{"send", al_lua_tx_send},
                                                               {"try_send", al_lua_tx_try_send},
                                                               {"clone", al_lua_tx_clone},
                                                               {"is_closed", al_lua_tx_is_closed},
                                                               {NULL, NULL}}};

/* ---- receiving ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_rx_t *r;
    al_mpsc_recv_t recv;
    al_oneshot_recv_t orecv;
} al_lua_recv_op_t;

static al_poll_t al_lua_recv_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_recv_op_t *op = (al_lua_recv_op_t *)o;
    al_lua_pack_t msg;
    int res = 0;
    al_poll_t p = op->r->oneshot ? al_oneshot_recv_poll(&op->orecv, cx, &msg, &res)
                                 : al_mpsc_recv_poll(&op->recv, cx, &msg, &res);
    if (p == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    if (res != 0) { /* closed: nil, as Tokio's recv() -> None */
        lua_pushnil(L);
        *n = 2;
        return AL_READY;
    }
    char err[256] = "";
    int got = al_lua_unpack(L, &msg, err, sizeof err);
    if (got < 0) {
        al_lua_pack_free(&msg);
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        *n = 2;
        return AL_READY;
    }
    *n = 1 + got;
    return AL_READY;
}

static void al_lua_recv_drop(al_lua_op_t *o)
{
    al_lua_recv_op_t *op = (al_lua_recv_op_t *)o;
    if (op->r->oneshot)
        al_oneshot_recv_drop(&op->orecv);
    else
        al_mpsc_recv_drop(&op->recv);
    atomic_store(&op->r->receiving, false);
    al_lua_rx_release(op->r);
    free(op);
}

static int al_lua_rx_recv(lua_State *L)
{
    al_lua_rx_t *r = al_lua_handle_check(L, 1, &al_lua_rx_class);
    if (atomic_exchange(&r->receiving, true))
        return luaL_error(L, "another task is already waiting on this receiver (a channel has one "
                             "receiver)");
    al_lua_recv_op_t *op = malloc(sizeof *op);
    if (!op) {
        atomic_store(&r->receiving, false);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_recv_op_t){.op = {al_lua_recv_poll, al_lua_recv_drop, "Receiver:recv"}, .r = r};
    al_lua_rx_retain(r);
    if (r->oneshot)
        al_oneshot_recv_init(&op->orecv, r->orx);
    else
        al_mpsc_recv_init(&op->recv, r->rx);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_rx_close(lua_State *L)
{
    al_lua_rx_t *r = al_lua_handle_check(L, 1, &al_lua_rx_class);
    if (r->oneshot)
        al_oneshot_rx_close(r->orx);
    else
        al_mpsc_rx_close(r->rx);
    return 0;
}

static int al_lua_rx_len(lua_State *L)
{
    al_lua_rx_t *r = al_lua_handle_check(L, 1, &al_lua_rx_class);
    lua_pushinteger(L, r->oneshot ? 0 : (lua_Integer)al_mpsc_len(r->rx));
    return 1;
}

static void al_lua_rx_describe(void *o, char *buf, size_t cap)
{
    al_lua_rx_t *r = o;
    if (r->oneshot)
        snprintf(buf, cap, "(oneshot)");
    else
        snprintf(buf, cap, "#%llu (%zu queued)", (unsigned long long)al_mpsc_rx_id(r->rx),
                 al_mpsc_len(r->rx));
}

static uint64_t al_lua_rx_resource_id(void *o)
{
    al_lua_rx_t *r = o;
    return r->oneshot ? 0 : al_mpsc_rx_id(r->rx);
}

const al_lua_class_t al_lua_rx_class = {.name = "Receiver",
                                        .resource_id = al_lua_rx_resource_id,
                                        .retain = al_lua_rx_retain,
                                        .release = al_lua_rx_release,
                                        .describe = al_lua_rx_describe,
                                        .methods = (const luaL_Reg[]){{"recv", al_lua_rx_recv},
                                                                      {"await", al_lua_rx_recv},
                                                                      {"close", al_lua_rx_close},
                                                                      {"len", al_lua_rx_len},
                                                                      {NULL, NULL}}};

void al_lua_open_chan(lua_State *L, int sync)
{
    al_lua_class_register(L, &al_lua_tx_class);
    al_lua_class_register(L, &al_lua_rx_class);
    lua_pushvalue(L, sync);
    al_lua_module(L, "mpsc", "rt.sync.mpsc",
                  (const luaL_Reg[]){{"channel", al_lua_mpsc_channel},
                                     {"unbounded_channel", al_lua_mpsc_unbounded},
                                     {NULL, NULL}});
    al_lua_module(L, "oneshot", "rt.sync.oneshot",
                  (const luaL_Reg[]){{"channel", al_lua_oneshot_channel}, {NULL, NULL}});
    lua_pop(L, 1);
}
