/*
 * lua_watch.c — rt.sync.watch.channel(v) for Lua (tokio::sync::watch, on
 * al_watch.h).
 *
 * The channel holds one value, packed (lua_value.h), and a version. The
 * sender replaces it (tx:send(v)); a receiver does not queue values: it
 * awaits a newer version (rx:changed(), true; false once the sender is
 * closed and nothing newer is left) and reads the current value
 * (rx:borrow(): a copy unpacked into the caller's state). Values sent in
 * between may be skipped: only the latest is kept.
 *
 * Ends are shared handles: every Lua copy is the same end. tx:subscribe()
 * and rx:clone() make more receivers; one task at a time may wait in
 * rx:changed() on a receiver.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_task.h"
#include "lua_watch.h"

static void al_lua_watch_clone_value(void *dst, const void *src, size_t size)
{
    (void)size;
    al_lua_pack_copy(dst, src); /* empty (unpacks as nil) when out of memory */
}

static void al_lua_watch_drop_value(void *v)
{
    al_lua_pack_free(v);
}

typedef struct {
    al_lua_rc_t rc;       /* first: a value that holds its own sender is a cycle (lua_rc.h) */
    pthread_mutex_t lock; /* guards tx (closed by tx:close()) */
    al_watch_tx_t *tx;
} al_lua_watch_tx_t;

typedef struct {
    atomic_int refs;
    atomic_bool waiting; /* a task waits in changed() */
    al_watch_rx_t *rx;
} al_lua_watch_rx_t;

extern const al_lua_class_t al_lua_watch_tx_class, al_lua_watch_rx_class;

static void al_lua_watch_tx_retain(void *o)
{
    al_lua_rc_retain(&((al_lua_watch_tx_t *)o)->rc);
}

static void al_lua_watch_tx_release(void *o)
{
    al_lua_watch_tx_t *t = o;
    if (!al_lua_rc_release(&t->rc))
        return;
    al_watch_tx_drop(t->tx);
    pthread_mutex_destroy(&t->lock);
    al_lua_rc_weak_release(&t->rc);
}

static void al_lua_watch_rx_retain(void *o)
{
    atomic_fetch_add(&((al_lua_watch_rx_t *)o)->refs, 1);
}

static void al_lua_watch_rx_release(void *o)
{
    al_lua_watch_rx_t *r = o;
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    al_watch_rx_drop(r->rx);
    free(r);
}

/* Push a receiver for rx (taken over); raises when out of memory. */
static void al_lua_watch_push_rx(lua_State *L, al_watch_rx_t *rx)
{
    al_lua_watch_rx_t *r = rx ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        al_watch_rx_drop(rx);
        luaL_error(L, "out of memory");
        return;
    }
    atomic_init(&r->refs, 1);
    r->rx = rx;
    al_lua_handle_push(L, &al_lua_watch_rx_class, r);
}

typedef struct {
    al_lua_pack_t *init;
    al_lua_watch_tx_t *t;
    al_watch_rx_t *rx;
    int rc;
} al_lua_watch_new_t;

static void al_lua_watch_new(void *arg)
{
    al_lua_watch_new_t *mk = arg;
    mk->rc = al_watch_channel(mk->init, sizeof *mk->init, al_lua_watch_clone_value,
                              al_lua_watch_drop_value, &mk->t->tx, &mk->rx);
}

/* rt.sync.watch.channel(v) -> tx, rx */
static int al_lua_watch_channel(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    al_lua_pack_t init;
    char err[512];
    if (!al_lua_pack(L, 1, 1, "send", (const char *const[]){"the initial value"}, &init, err,
                     sizeof err)) {
        lua_pushstring(L, err);
        return lua_error(L);
    }
    al_lua_watch_tx_t *t = calloc(1, sizeof *t);
    if (!t) {
        al_lua_pack_free(&init);
        return luaL_error(L, "out of memory");
    }
    al_lua_watch_new_t mk = {&init, t, NULL, 0};
    al_lua_in_context(L, al_lua_watch_new, &mk); /* recorded as a resource of the runtime */
    al_watch_rx_t *rx = mk.rx;
    int rc = mk.rc;
    if (rc != 0) {
        al_lua_pack_free(&init);
        free(t);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    al_lua_rc_init(&t->rc, &al_lua_watch_tx_class);
    pthread_mutex_init(&t->lock, NULL);
    al_lua_handle_push(L, &al_lua_watch_tx_class, t);
    al_lua_watch_push_rx(L, rx);
    return 2;
}

/* ---- the sender ---- */

static int al_lua_watch_send_common(lua_State *L, bool replace)
{
    al_lua_watch_tx_t *t = al_lua_handle_check(L, 1, &al_lua_watch_tx_class);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    al_lua_pack_t v;
    char err[512];
    if (!al_lua_pack(L, 2, 1, "send", (const char *const[]){"the value"}, &v, err, sizeof err)) {
        lua_pushstring(L, err);
        return lua_error(L);
    }
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    if (!t->tx)
        rc = AL_EBADSTATE;
    else if (replace)
        al_watch_send_replace(t->tx, &v);
    else
        rc = al_watch_send(t->tx, &v);
    pthread_mutex_unlock(&t->lock);
    if (rc == AL_EBADSTATE) {
        al_lua_pack_free(&v);
        return luaL_error(L, "this sender was closed (tx:close())");
    }
    if (rc != 0) { /* no receiver: not stored (Tokio's SendError) */
        al_lua_pack_free(&v);
        lua_pushnil(L);
        lua_pushstring(L, "no receivers");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* tx:send(v) -> true | nil, "no receivers" */
static int al_lua_watch_send(lua_State *L)
{
    return al_lua_watch_send_common(L, false);
}

/* tx:send_replace(v): store v even when no receiver exists. */
static int al_lua_watch_send_replace(lua_State *L)
{
    al_lua_watch_send_common(L, true);
    return 0;
}

static int al_lua_watch_subscribe(lua_State *L)
{
    al_lua_watch_tx_t *t = al_lua_handle_check(L, 1, &al_lua_watch_tx_class);
    pthread_mutex_lock(&t->lock);
    bool closed = !t->tx;
    al_watch_rx_t *rx = closed ? NULL : al_watch_tx_subscribe(t->tx);
    pthread_mutex_unlock(&t->lock);
    if (closed)
        return luaL_error(L, "this sender was closed (tx:close())");
    al_lua_watch_push_rx(L, rx);
    return 1;
}

/* tx:close(): drop the sender now, not when it is collected: waiting
 * changed() calls return false. */
static int al_lua_watch_close(lua_State *L)
{
    al_lua_watch_tx_t *t = al_lua_handle_check(L, 1, &al_lua_watch_tx_class);
    pthread_mutex_lock(&t->lock);
    al_watch_tx_t *tx = t->tx;
    t->tx = NULL;
    pthread_mutex_unlock(&t->lock);
    al_watch_tx_drop(tx);
    return 0;
}

static int al_lua_watch_receiver_count(lua_State *L)
{
    al_lua_watch_tx_t *t = al_lua_handle_check(L, 1, &al_lua_watch_tx_class);
    pthread_mutex_lock(&t->lock);
    size_t n = t->tx ? al_watch_receiver_count(t->tx) : 0;
    pthread_mutex_unlock(&t->lock);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static void al_lua_watch_tx_describe(void *o, char *buf, size_t cap)
{
    al_lua_watch_tx_t *t = o;
    pthread_mutex_lock(&t->lock);
    if (t->tx)
        snprintf(buf, cap, "#%llu (%zu receivers)", (unsigned long long)al_watch_tx_id(t->tx),
                 al_watch_receiver_count(t->tx));
    else
        snprintf(buf, cap, "(closed)");
    pthread_mutex_unlock(&t->lock);
}

const al_lua_class_t al_lua_watch_tx_class = {
    .name = "WatchSender",
    .retain = al_lua_watch_tx_retain,
    .release = al_lua_watch_tx_release,
    .describe = al_lua_watch_tx_describe,
    .weak = true,
    .methods = (const luaL_Reg[]){{"send", al_lua_watch_send},
                                  {"send_replace", al_lua_watch_send_replace},
                                  {"subscribe", al_lua_watch_subscribe},
                                  {"close", al_lua_watch_close},
                                  {"receiver_count", al_lua_watch_receiver_count},
                                  {NULL, NULL}}};

/* ---- the receiver ---- */

typedef struct {
    al_lua_op_t op;
    al_lua_watch_rx_t *r;
    al_watch_changed_t ch;
} al_lua_changed_op_t;

static al_poll_t al_lua_changed_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_changed_op_t *op = (al_lua_changed_op_t *)o;
    int res = 0;
    if (al_watch_changed_poll(&op->ch, cx, &res) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    lua_pushboolean(L, res == 0); /* false: the sender is gone */
    *n = 2;
    return AL_READY;
}

static void al_lua_changed_drop(al_lua_op_t *o)
{
    al_lua_changed_op_t *op = (al_lua_changed_op_t *)o;
    al_watch_changed_drop(&op->ch);
    atomic_store(&op->r->waiting, false);
    al_lua_watch_rx_release(op->r);
    free(op);
}

/* rx:changed() -> true (a newer value: now seen) | false (the sender is gone) */
static int al_lua_watch_changed(lua_State *L)
{
    al_lua_watch_rx_t *r = al_lua_handle_check(L, 1, &al_lua_watch_rx_class);
    if (atomic_exchange(&r->waiting, true))
        return luaL_error(L, "another task is already waiting on this receiver (give each task "
                             "a receiver of its own: rx:clone())");
    al_lua_changed_op_t *op = malloc(sizeof *op);
    if (!op) {
        atomic_store(&r->waiting, false);
        return luaL_error(L, "out of memory");
    }
    *op = (al_lua_changed_op_t){
        .op = {al_lua_changed_poll, al_lua_changed_drop, "WatchReceiver:changed"}, .r = r};
    al_lua_watch_rx_retain(r);
    al_watch_changed_init(&op->ch, r->rx);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_watch_borrow_common(lua_State *L, bool update)
{
    al_lua_watch_rx_t *r = al_lua_handle_check(L, 1, &al_lua_watch_rx_class);
    al_lua_pack_t v = {0};
    if (update)
        al_watch_borrow_and_update(r->rx, &v);
    else
        al_watch_borrow(r->rx, &v);
    char err[256] = "";
    int got = al_lua_unpack(L, &v, err, sizeof err);
    if (got < 0) {
        al_lua_pack_free(&v);
        return luaL_error(L, "%s", err);
    }
    if (got == 0)
        lua_pushnil(L);
    return 1;
}

/* rx:borrow(): a copy of the current value (does not mark it seen). */
static int al_lua_watch_borrow(lua_State *L)
{
    return al_lua_watch_borrow_common(L, false);
}

/* rx:borrow_and_update(): the same, and marks it seen. */
static int al_lua_watch_borrow_and_update(lua_State *L)
{
    return al_lua_watch_borrow_common(L, true);
}

static int al_lua_watch_has_changed(lua_State *L)
{
    al_lua_watch_rx_t *r = al_lua_handle_check(L, 1, &al_lua_watch_rx_class);
    lua_pushboolean(L, al_watch_has_changed(r->rx));
    return 1;
}

static int al_lua_watch_rx_clone(lua_State *L)
{
    al_lua_watch_rx_t *r = al_lua_handle_check(L, 1, &al_lua_watch_rx_class);
    al_lua_watch_push_rx(L, al_watch_rx_clone(r->rx));
    return 1;
}

static int al_lua_watch_version(lua_State *L)
{
    al_lua_watch_rx_t *r = al_lua_handle_check(L, 1, &al_lua_watch_rx_class);
    lua_pushinteger(L, (lua_Integer)al_watch_version(r->rx));
    return 1;
}

static void al_lua_watch_rx_describe(void *o, char *buf, size_t cap)
{
    al_lua_watch_rx_t *r = o;
    snprintf(buf, cap, "(version %llu%s)", (unsigned long long)al_watch_version(r->rx),
             al_watch_has_changed(r->rx) ? ", changed" : "");
}

const al_lua_class_t al_lua_watch_rx_class = {
    .name = "WatchReceiver",
    .retain = al_lua_watch_rx_retain,
    .release = al_lua_watch_rx_release,
    .describe = al_lua_watch_rx_describe,
    .methods = (const luaL_Reg[]){{"changed", al_lua_watch_changed},
                                  {"borrow", al_lua_watch_borrow},
                                  {"borrow_and_update", al_lua_watch_borrow_and_update},
                                  {"has_changed", al_lua_watch_has_changed},
                                  {"clone", al_lua_watch_rx_clone},
                                  {"version", al_lua_watch_version},
                                  {NULL, NULL}}};

void al_lua_open_watch(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_watch_tx_class);
    al_lua_class_register(L, &al_lua_watch_rx_class);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "watch", "rt.sync.watch",
                  (const luaL_Reg[]){{"channel", al_lua_watch_channel}, {NULL, NULL}});
    lua_pop(L, 1);
}
