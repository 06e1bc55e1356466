/*
 * lua_rwlock.c — rt.sync.RwLock for Lua: l:read() / l:write() guards over a
 * shared Lua value (tokio::sync::RwLock, on al_rwlock.h).
 *
 * As with rt.sync.Mutex (lua_sync.c) the value is kept packed (lua_value.h)
 * inside the lock. Locking unpacks a copy into the locking task's state as
 * guard.value. A read guard's copy is the reader's own: assigning
 * guard.value is refused, and changes made inside a table it holds are not
 * stored. A write guard packs guard.value back when it is unlocked
 * (explicitly, or when the guard is collected: the task ended or was
 * cancelled). Readers share the lock, a writer has it alone; requests are
 * served in arrival order, so a waiting writer holds back later readers.
 * Guards belong to their task (they cannot be sent).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_rwlock.h"
#include "lua_task.h"

/* ---- the shared lock ---- */

typedef struct {
    al_lua_rc_t rc; /* first: rt.sync.Weak points here */
    al_rwlock_t *l;
    al_lua_pack_t value; /* read by readers, replaced by a writer (the lock decides) */
} al_lua_rwlock_t;

extern const al_lua_class_t al_lua_rwlock_class, al_lua_read_guard_class, al_lua_write_guard_class;

static void al_lua_rwlock_retain(void *o)
{
    al_lua_rc_retain(&((al_lua_rwlock_t *)o)->rc);
}

static void al_lua_rwlock_release(void *o)
{
    al_lua_rwlock_t *lr = o;
    if (!al_lua_rc_release(&lr->rc))
        return;
    al_lua_pack_free(&lr->value); /* may release handles it held */
    al_rwlock_unref(lr->l);
    al_lua_rc_weak_release(&lr->rc);
}

static void al_lua_rwlock_describe(void *o, char *buf, size_t cap)
{
    al_lua_rwlock_t *lr = o;
    char id[96];
    const char *name = al_rwlock_name(lr->l);
    if (name && *name)
        snprintf(id, sizeof id, "%llu \"%.60s\"", (unsigned long long)al_rwlock_id(lr->l), name);
    else
        snprintf(id, sizeof id, "%llu", (unsigned long long)al_rwlock_id(lr->l));
    uint32_t readers = al_rwlock_readers(lr->l);
    uint64_t writer = al_rwlock_writer(lr->l);
    if (al_rwlock_is_write_locked(lr->l) && writer)
        snprintf(buf, cap, "#%s write-locked by task %llu", id, (unsigned long long)writer);
    else if (al_rwlock_is_write_locked(lr->l))
        snprintf(buf, cap, "#%s write-locked", id);
    else if (readers)
        snprintf(buf, cap, "#%s read-locked by %u reader%s", id, readers, readers == 1 ? "" : "s");
    else
        snprintf(buf, cap, "#%s unlocked", id);
}

/* ---- guards ---- */

typedef struct {
    al_lua_rwlock_t *lr; /* a reference */
    al_rwlock_guard_t g;
} al_lua_rwguard_t;

/* The guard at idx (either kind, may be unlocked), or a "bad argument". */
static al_lua_handle_t *al_lua_rwguard_check(lua_State *L, int idx)
{
    al_lua_handle_t *h = al_lua_handle_test(L, idx);
    if (!h || (h->cls != &al_lua_read_guard_class && h->cls != &al_lua_write_guard_class))
        luaL_argerror(L, idx,
                      lua_pushfstring(L, "RwLock guard expected, got %s",
                                      h ? h->cls->name : luaL_typename(L, idx)));
    return h;
}

/* Unlock the guard at idx; a write guard first stores guard.value. Returns
 * false (message in err) when the value could not be stored: the lock is
 * released all the same and keeps its previous value. */
static bool al_lua_rwguard_unlock_at(lua_State *L, int idx, al_lua_handle_t *h, char *err,
                                     size_t cap)
{
    al_lua_rwguard_t *g = h->obj;
    bool stored = true;
    if (h->cls == &al_lua_write_guard_class) {
        al_lua_pack_t fresh;
        lua_getiuservalue(L, idx, 1);
        stored =
            al_lua_pack(L, -1, 1, "store", (const char *const[]){"guard.value"}, &fresh, err, cap);
        if (stored) {
            al_lua_pack_free(&g->lr->value);
            g->lr->value = fresh;
        }
        lua_pop(L, 1);
    }
    al_rwlock_guard_unlock(&g->g);
    al_lua_rwlock_release(g->lr);
    free(g);
    h->obj = NULL;
    return stored;
}

static int al_lua_rwguard_unlock(lua_State *L)
{
    al_lua_handle_t *h = al_lua_rwguard_check(L, 1);
    if (!h->obj)
        return luaL_error(L, "this guard was already unlocked");
    char err[512];
    if (!al_lua_rwguard_unlock_at(L, 1, h, err, sizeof err))
        return luaL_error(L, "%s (the lock was released and keeps its previous value)", err);
    return 0;
}

static int al_lua_rwguard_gc(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    char err[512];
    if (h && h->obj)
        al_lua_rwguard_unlock_at(L, 1, h, err, sizeof err);
    return 0;
}

static int al_lua_rwguard_index(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") == 0) {
        if (!h->obj)
            return luaL_error(L, "this guard was already unlocked: lock the RwLock again");
        lua_getiuservalue(L, 1, 1);
        return 1;
    }
    if (strcmp(k, "unlock") == 0) {
        lua_pushcfunction(L, al_lua_rwguard_unlock);
        return 1;
    }
    return 0;
}

static int al_lua_rwguard_newindex(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") != 0)
        return luaL_error(L, "a guard has only the field 'value' (got '%s')", k);
    if (!h->obj)
        return luaL_error(L, "this guard was already unlocked: lock the RwLock again");
    if (h->cls == &al_lua_read_guard_class)
        return luaL_error(L, "a read guard cannot change the value (take l:write() for that)");
    lua_settop(L, 3);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static void al_lua_rwguard_noop(void *o)
{
    (void)o;
}

const al_lua_class_t al_lua_read_guard_class = {.name = "RwLockReadGuard",
                                                .retain = al_lua_rwguard_noop,
                                                .release = al_lua_rwguard_noop,
                                                .index = al_lua_rwguard_index,
                                                .newindex = al_lua_rwguard_newindex,
                                                .gc = al_lua_rwguard_gc,
                                                .task_local = true};

const al_lua_class_t al_lua_write_guard_class = {.name = "RwLockWriteGuard",
                                                 .retain = al_lua_rwguard_noop,
                                                 .release = al_lua_rwguard_noop,
                                                 .index = al_lua_rwguard_index,
                                                 .newindex = al_lua_rwguard_newindex,
                                                 .gc = al_lua_rwguard_gc,
                                                 .task_local = true};

/* Push a guard for the lock held in *held (taken over), with a copy of the
 * value. False when out of memory (the lock is then released). */
static bool al_lua_push_rwguard(lua_State *L, al_lua_rwlock_t *lr, al_rwlock_guard_t *held)
{
    al_lua_rwguard_t *g = malloc(sizeof *g);
    if (!g) {
        al_rwlock_guard_unlock(held);
        return false;
    }
    g->lr = lr;
    g->g = *held;
    al_lua_rwlock_retain(lr);
    al_lua_handle_push(
        L, al_rwlock_guard_is_write(held) ? &al_lua_write_guard_class : &al_lua_read_guard_class,
        g);
    al_lua_pack_t copy;
    char err[256];
    /* The lock keeps its value (for the other readers, or until a writer
     * stores its own on unlock). */
    if (al_lua_pack_copy(&copy, &lr->value) && al_lua_unpack(L, &copy, err, sizeof err) == 1)
        lua_setiuservalue(L, -2, 1);
    al_lua_pack_free(&copy);
    return true;
}

/* ---- the RwLock ---- */

typedef struct {
    al_lua_rwlock_t *lr;
    const char *name;
    int rc;
} al_lua_new_rwlock_t;

static void al_lua_new_rwlock(void *arg)
{
    al_lua_new_rwlock_t *mk = arg;
    mk->rc = al_rwlock_new(&mk->lr->value, mk->name, &mk->lr->l);
}

/* rt.sync.RwLock.new(value [, name]) */
static int al_lua_rwlock_new(lua_State *L)
{
    lua_settop(L, 2);
    const char *name = luaL_optstring(L, 2, NULL);
    al_lua_rwlock_t *lr = calloc(1, sizeof *lr);
    if (!lr)
        return luaL_error(L, "out of memory");
    char err[512];
    if (!al_lua_pack(L, 1, 1, "store", (const char *const[]){"the RwLock's value"}, &lr->value, err,
                     sizeof err)) {
        free(lr);
        lua_pushstring(L, err);
        return lua_error(L);
    }
    al_lua_new_rwlock_t mk = {lr, name, 0};
    al_lua_in_context(L, al_lua_new_rwlock, &mk); /* recorded with its name */
    if (mk.rc != 0) {
        al_lua_pack_free(&lr->value);
        free(lr);
        return luaL_error(L, "%s", al_strerror(mk.rc));
    }
    al_lua_rc_init(&lr->rc, &al_lua_rwlock_class);
    al_lua_handle_push(L, &al_lua_rwlock_class, lr);
    return 1;
}

typedef struct {
    al_lua_op_t op;
    al_lua_rwlock_t *lr;
    al_rwlock_acquire_t acq;
} al_lua_rwacquire_op_t;

static al_poll_t al_lua_rwacquire_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_rwacquire_op_t *op = (al_lua_rwacquire_op_t *)o;
    al_rwlock_guard_t held;
    if (al_rwlock_acquire_poll(&op->acq, cx, &held) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    if (!al_lua_push_rwguard(L, op->lr, &held)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
        lua_pushstring(L, "out of memory");
    }
    *n = 2;
    return AL_READY;
}

static void al_lua_rwacquire_drop(al_lua_op_t *o)
{
    al_lua_rwacquire_op_t *op = (al_lua_rwacquire_op_t *)o;
    al_rwlock_acquire_drop(&op->acq);
    al_lua_rwlock_release(op->lr);
    free(op);
}

static int al_lua_rwlock_acquire(lua_State *L, bool write)
{
    al_lua_rwlock_t *lr = al_lua_handle_check(L, 1, &al_lua_rwlock_class);
    al_lua_rwacquire_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_rwacquire_op_t){.op = {al_lua_rwacquire_poll, al_lua_rwacquire_drop,
                                         write ? "RwLock:write" : "RwLock:read"},
                                  .lr = lr};
    al_lua_rwlock_retain(lr);
    if (write)
        al_rwlock_write_init(&op->acq, lr->l);
    else
        al_rwlock_read_init(&op->acq, lr->l);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_rwlock_read(lua_State *L)
{
    return al_lua_rwlock_acquire(L, false);
}
static int al_lua_rwlock_write(lua_State *L)
{
    return al_lua_rwlock_acquire(L, true);
}

static int al_lua_rwlock_try(lua_State *L, bool write)
{
    al_lua_rwlock_t *lr = al_lua_handle_check(L, 1, &al_lua_rwlock_class);
    al_rwlock_guard_t held;
    int rc = write ? al_rwlock_try_write(lr->l, &held) : al_rwlock_try_read(lr->l, &held);
    if (rc != 0) {
        lua_pushnil(L);
        return 1;
    }
    if (!al_lua_push_rwguard(L, lr, &held))
        return luaL_error(L, "out of memory");
    return 1;
}

static int al_lua_rwlock_try_read(lua_State *L)
{
    return al_lua_rwlock_try(L, false);
}
static int al_lua_rwlock_try_write(lua_State *L)
{
    return al_lua_rwlock_try(L, true);
}

static int al_lua_rwlock_readers(lua_State *L)
{
    al_lua_rwlock_t *lr = al_lua_handle_check(L, 1, &al_lua_rwlock_class);
    lua_pushinteger(L, (lua_Integer)al_rwlock_readers(lr->l));
    return 1;
}

static int al_lua_rwlock_is_write_locked(lua_State *L)
{
    al_lua_rwlock_t *lr = al_lua_handle_check(L, 1, &al_lua_rwlock_class);
    lua_pushboolean(L, al_rwlock_is_write_locked(lr->l));
    return 1;
}

static uint64_t al_lua_rwlock_resource_id(void *o)
{
    return al_rwlock_id(((al_lua_rwlock_t *)o)->l);
}

const al_lua_class_t al_lua_rwlock_class = {
    .name = "RwLock",
    .resource_id = al_lua_rwlock_resource_id,
    .retain = al_lua_rwlock_retain,
    .release = al_lua_rwlock_release,
    .describe = al_lua_rwlock_describe,
    .weak = true,
    .methods = (const luaL_Reg[]){{"read", al_lua_rwlock_read},
                                  {"write", al_lua_rwlock_write},
                                  {"try_read", al_lua_rwlock_try_read},
                                  {"try_write", al_lua_rwlock_try_write},
                                  {"readers", al_lua_rwlock_readers},
                                  {"is_write_locked", al_lua_rwlock_is_write_locked},
                                  {NULL, NULL}}};

void al_lua_open_rwlock(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_rwlock_class);
    al_lua_class_register(L, &al_lua_read_guard_class);
    al_lua_class_register(L, &al_lua_write_guard_class);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "RwLock", "rt.sync.RwLock",
                  (const luaL_Reg[]){{"new", al_lua_rwlock_new}, {NULL, NULL}});
    lua_pop(L, 1);
}
