/*
 * lua_sync.c — rt.sync.Mutex, std.sync.Mutex, rt.sync.Semaphore and
 * rt.sync.Notify for Lua.
 *
 * A Lua mutex protects a Lua value that tasks in different states share: it
 * is kept packed (lua_value.h) inside the mutex. Locking unpacks a copy into
 * the locking task's state as guard.value; unlocking (explicitly, or when the
 * guard is collected: the task ended or was cancelled) packs it back. Guards
 * and permits belong to their task (they cannot be sent).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_sync.h"
#include "lua_task.h"

/* ---- the shared mutex object (both flavours) ---- */

typedef struct {
    al_lua_rc_t rc; /* first: rt.sync.Weak points here */
    bool is_std;
    al_mutex_t *m;       /* rt.sync.Mutex */
    al_std_mutex_t *sm;  /* std.sync.Mutex */
    al_lua_pack_t value; /* guarded by the mutex itself */
} al_lua_mutex_t;

static void al_lua_mutex_retain(void *o)
{
    al_lua_rc_retain(&((al_lua_mutex_t *)o)->rc);
}
static void al_lua_mutex_release(void *o)
{
    al_lua_mutex_t *lm = o;
    if (!al_lua_rc_release(&lm->rc))
        return;
    al_lua_pack_free(&lm->value); /* may release handles it held */
    if (lm->is_std)
        al_std_mutex_unref(lm->sm);
    else
        al_mutex_unref(lm->m);
    al_lua_rc_weak_release(&lm->rc);
}

static void al_lua_mutex_describe(void *o, char *buf, size_t cap)
{
    al_lua_mutex_t *lm = o;
    bool locked = lm->is_std ? al_std_mutex_is_locked(lm->sm) : al_mutex_is_locked(lm->m);
    uint64_t holder = lm->is_std ? al_std_mutex_holder(lm->sm) : al_mutex_holder(lm->m);
    unsigned long long id = lm->is_std ? al_std_mutex_id(lm->sm) : al_mutex_id(lm->m);
    const char *name = lm->is_std ? al_std_mutex_name(lm->sm) : al_mutex_name(lm->m);
    char named[80] = "";
    if (name && *name)
        snprintf(named, sizeof named, " \"%.60s\"", name);
    if (locked && holder)
        snprintf(buf, cap, "#%llu%s locked by task %llu", id, named, (unsigned long long)holder);
    else
        snprintf(buf, cap, "#%llu%s %s", id, named, locked ? "locked" : "unlocked");
}

/* ---- guards ---- */

typedef struct {
    al_lua_mutex_t *lm; /* a reference */
    al_mutex_guard_t ag;
    al_std_mutex_guard_t sg;
} al_lua_guard_t;

extern const al_lua_class_t al_lua_guard_class;

/* Pack guard.value back into the mutex and unlock. */
static void al_lua_guard_unlock_at(lua_State *L, int idx, al_lua_handle_t *h)
{
    al_lua_guard_t *g = h->obj;
    al_lua_pack_t fresh;
    char err[256];
    lua_getiuservalue(L, idx, 1);
    if (al_lua_pack(L, -1, 1, "store", (const char *const[]){"guard.value"}, &fresh, err,
                    sizeof err)) {
        al_lua_pack_free(&g->lm->value);
        g->lm->value = fresh;
    }
    lua_pop(L, 1);
    if (g->lm->is_std)
        al_std_mutex_guard_unlock(&g->sg);
    else
        al_mutex_guard_unlock(&g->ag);
    al_lua_mutex_release(g->lm);
    free(g);
    h->obj = NULL;
}

static int al_lua_guard_unlock(lua_State *L)
{
    al_lua_handle_check(L, 1, &al_lua_guard_class);
    al_lua_guard_unlock_at(L, 1, lua_touserdata(L, 1));
    return 0;
}

static int al_lua_guard_gc(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    if (h && h->obj)
        al_lua_guard_unlock_at(L, 1, h);
    return 0;
}

static int al_lua_guard_index(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") == 0) {
        if (!h->obj)
            return luaL_error(L, "this guard was already unlocked: lock the mutex again");
        lua_getiuservalue(L, 1, 1);
        return 1;
    }
    if (strcmp(k, "unlock") == 0) {
        lua_pushcfunction(L, al_lua_guard_unlock);
        return 1;
    }
    return 0;
}

static int al_lua_guard_newindex(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") != 0)
        return luaL_error(L, "a guard has only the field 'value' (got '%s')", k);
    if (!h->obj)
        return luaL_error(L, "this guard was already unlocked: lock the mutex again");
    lua_settop(L, 3);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static void al_lua_guard_retain(void *o)
{
    (void)o;
}
static void al_lua_guard_release(void *o)
{
    (void)o;
}

const al_lua_class_t al_lua_guard_class = {.name = "MutexGuard",
                                           .retain = al_lua_guard_retain,
                                           .release = al_lua_guard_release,
                                           .index = al_lua_guard_index,
                                           .newindex = al_lua_guard_newindex,
                                           .gc = al_lua_guard_gc,
                                           .task_local = true};

/* Push a guard for a lock just taken, with a copy of the value. */
static void al_lua_push_guard(lua_State *L, al_lua_guard_t *g)
{
    al_lua_mutex_retain(g->lm);
    al_lua_handle_push(L, &al_lua_guard_class, g);
    al_lua_pack_t copy;
    char err[256];
    /* A copy: the stored value stays for the next holder until this one
     * writes back on unlock. */
    if (al_lua_pack_copy(&copy, &g->lm->value) && al_lua_unpack(L, &copy, err, sizeof err) == 1)
        lua_setiuservalue(L, -2, 1);
    al_lua_pack_free(&copy);
}

/* ---- Mutex ---- */

extern const al_lua_class_t al_lua_mutex_class;

/* Made inside the runtime's context, so that it is recorded with its name. */
typedef struct {
    al_lua_mutex_t *lm;
    const char *name;
    bool is_std;
    int rc;
} al_lua_new_mutex_t;

static void al_lua_new_mutex(void *arg)
{
    al_lua_new_mutex_t *mk = arg;
    mk->rc = mk->is_std ? al_std_mutex_new(&mk->lm->value, mk->name, &mk->lm->sm)
                        : al_mutex_new(&mk->lm->value, mk->name, &mk->lm->m);
}

static int al_lua_mutex_new_common(lua_State *L, bool is_std)
{
    lua_settop(L, 2);
    const char *name = luaL_optstring(L, 2, NULL);
    al_lua_mutex_t *lm = calloc(1, sizeof *lm);
    if (!lm)
        return luaL_error(L, "out of memory");
    char err[256];
    if (!al_lua_pack(L, 1, 1, "store", (const char *const[]){"the mutex's value"}, &lm->value, err,
                     sizeof err)) {
        free(lm);
        lua_pushstring(L, err);
        return lua_error(L);
    }
    al_lua_new_mutex_t mk = {lm, name, is_std, 0};
    al_lua_in_context(L, al_lua_new_mutex, &mk);
    int rc = mk.rc;
    if (rc != 0) {
        al_lua_pack_free(&lm->value);
        free(lm);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    al_lua_rc_init(&lm->rc, &al_lua_mutex_class);
    lm->is_std = is_std;
    al_lua_handle_push(L, &al_lua_mutex_class, lm);
    return 1;
}

static int al_lua_mutex_new(lua_State *L)
{
    return al_lua_mutex_new_common(L, false);
}
static int al_lua_std_mutex_new(lua_State *L)
{
    return al_lua_mutex_new_common(L, true);
}

typedef struct {
    al_lua_op_t op;
    al_lua_mutex_t *lm;
    al_mutex_lock_t lock;
} al_lua_lock_op_t;

static al_poll_t al_lua_lock_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_lock_op_t *op = (al_lua_lock_op_t *)o;
    al_lua_guard_t *g = calloc(1, sizeof *g);
    if (!g) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, "out of memory");
        *n = 2;
        return AL_READY;
    }
    if (al_mutex_lock_poll(&op->lock, cx, &g->ag) == AL_PENDING) {
        free(g);
        return AL_PENDING;
    }
    g->lm = op->lm;
    lua_pushboolean(L, 1);
    al_lua_push_guard(L, g);
    *n = 2;
    return AL_READY;
}

static void al_lua_lock_drop(al_lua_op_t *o)
{
    al_lua_lock_op_t *op = (al_lua_lock_op_t *)o;
    al_mutex_lock_drop(&op->lock);
    al_lua_mutex_release(op->lm);
    free(op);
}

static int al_lua_mutex_lock(lua_State *L)
{
    al_lua_mutex_t *lm = al_lua_handle_check(L, 1, &al_lua_mutex_class);
    if (lm->is_std) { /* std.sync.Mutex: blocks this OS thread */
        al_lua_guard_t *g = calloc(1, sizeof *g);
        if (!g)
            return luaL_error(L, "out of memory");
        int rc = al_std_mutex_lock(lm->sm, &g->sg);
        if (rc != 0) {
            free(g);
            return luaL_error(L, "%s", al_strerror(rc));
        }
        g->lm = lm;
        al_lua_push_guard(L, g);
        return 1;
    }
    al_lua_lock_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_lock_op_t){.op = {al_lua_lock_poll, al_lua_lock_drop, "Mutex:lock"}, .lm = lm};
    al_lua_mutex_retain(lm);
    al_mutex_lock_init(&op->lock, lm->m);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_mutex_try_lock(lua_State *L)
{
    al_lua_mutex_t *lm = al_lua_handle_check(L, 1, &al_lua_mutex_class);
    al_lua_guard_t *g = calloc(1, sizeof *g);
    if (!g)
        return luaL_error(L, "out of memory");
    int rc = lm->is_std ? al_std_mutex_try_lock(lm->sm, &g->sg) : al_mutex_try_lock(lm->m, &g->ag);
    if (rc != 0) {
        free(g);
        lua_pushnil(L);
        return 1;
    }
    g->lm = lm;
    al_lua_push_guard(L, g);
    return 1;
}

static int al_lua_mutex_is_locked(lua_State *L)
{
    al_lua_mutex_t *lm = al_lua_handle_check(L, 1, &al_lua_mutex_class);
    lua_pushboolean(L, lm->is_std ? al_std_mutex_is_locked(lm->sm) : al_mutex_is_locked(lm->m));
    return 1;
}

static const luaL_Reg al_lua_mutex_methods[] = {{"lock", al_lua_mutex_lock},
                                                {"try_lock", al_lua_mutex_try_lock},
                                                {"is_locked", al_lua_mutex_is_locked},
                                                {NULL, NULL}};

static uint64_t al_lua_mutex_resource_id(void *o)
{
    al_lua_mutex_t *lm = o;
    return lm->is_std ? al_std_mutex_id(lm->sm) : al_mutex_id(lm->m);
}

const al_lua_class_t al_lua_mutex_class = {.name = "Mutex",
                                           .resource_id = al_lua_mutex_resource_id,
                                           .retain = al_lua_mutex_retain,
                                           .release = al_lua_mutex_release,
                                           .methods = al_lua_mutex_methods,
                                           .describe = al_lua_mutex_describe,
                                           .weak = true};

/* ---- Semaphore ---- */

typedef struct {
    atomic_int refs;
    al_semaphore_t *s;
} al_lua_sem_t;

static void al_lua_sem_retain(void *o)
{
    atomic_fetch_add(&((al_lua_sem_t *)o)->refs, 1);
}
static void al_lua_sem_release(void *o)
{
    al_lua_sem_t *s = o;
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        al_semaphore_unref(s->s);
        free(s);
    }
}

extern const al_lua_class_t al_lua_sem_class, al_lua_permit_class;

typedef struct {
    al_lua_sem_t *sem; /* a reference */
    al_sem_permit_t p;
} al_lua_permit_t;

static void al_lua_permit_free(al_lua_permit_t *p)
{
    al_sem_permit_release(&p->p);
    al_lua_sem_release(p->sem);
    free(p);
}

static int al_lua_permit_release_m(lua_State *L)
{
    al_lua_permit_t *p = al_lua_handle_check(L, 1, &al_lua_permit_class);
    al_lua_permit_free(p);
    ((al_lua_handle_t *)lua_touserdata(L, 1))->obj = NULL;
    return 0;
}

static void al_lua_permit_release(void *o)
{
    al_lua_permit_free(o);
}
static void al_lua_noop(void *o)
{
    (void)o;
}

const al_lua_class_t al_lua_permit_class = {
    .name = "SemaphorePermit",
    .retain = al_lua_noop,
    .release = al_lua_permit_release,
    .methods = (const luaL_Reg[]){{"release", al_lua_permit_release_m}, {NULL, NULL}},
    .task_local = true};

typedef struct {
    al_lua_sem_t *s;
    uint32_t permits;
    const char *name;
    int rc;
} al_lua_new_sem_t;

static void al_lua_new_sem(void *arg)
{
    al_lua_new_sem_t *mk = arg;
    mk->rc = al_semaphore_new(mk->permits, mk->name, &mk->s->s);
}

static int al_lua_sem_new(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= 1000000000, 1, "permits must be between 0 and 1e9");
    const char *name = luaL_optstring(L, 2, NULL); /* before allocating: it may raise */
    al_lua_sem_t *s = calloc(1, sizeof *s);
    if (!s)
        return luaL_error(L, "out of memory");
    al_lua_new_sem_t mk = {s, (uint32_t)n, name, 0};
    al_lua_in_context(L, al_lua_new_sem, &mk); /* recorded with its name */
    int rc = mk.rc;
    if (rc != 0) {
        free(s);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    atomic_init(&s->refs, 1);
    al_lua_handle_push(L, &al_lua_sem_class, s);
    return 1;
}

typedef struct {
    al_lua_op_t op;
    al_lua_sem_t *sem;
    al_sem_acquire_t acq;
} al_lua_acquire_op_t;

static al_poll_t al_lua_acquire_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_acquire_op_t *op = (al_lua_acquire_op_t *)o;
    al_sem_permit_t permit;
    int res = 0;
    if (al_semaphore_acquire_poll(&op->acq, cx, &permit, &res) == AL_PENDING)
        return AL_PENDING;
    if (res != 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, al_strerror(res));
        *n = 2;
        return AL_READY;
    }
    al_lua_permit_t *p = malloc(sizeof *p);
    if (!p) {
        al_sem_permit_release(&permit);
        lua_pushboolean(L, 0);
        lua_pushstring(L, "out of memory");
        *n = 2;
        return AL_READY;
    }
    p->p = permit;
    p->sem = op->sem;
    al_lua_sem_retain(op->sem);
    lua_pushboolean(L, 1);
    al_lua_handle_push(L, &al_lua_permit_class, p);
    *n = 2;
    return AL_READY;
}

static void al_lua_acquire_drop(al_lua_op_t *o)
{
    al_lua_acquire_op_t *op = (al_lua_acquire_op_t *)o;
    al_semaphore_acquire_drop(&op->acq);
    al_lua_sem_release(op->sem);
    free(op);
}

static int al_lua_sem_acquire(lua_State *L)
{
    al_lua_sem_t *s = al_lua_handle_check(L, 1, &al_lua_sem_class);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, n >= 1 && n <= 1000000000, 2, "permits must be between 1 and 1e9");
    al_lua_acquire_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_acquire_op_t){
        .op = {al_lua_acquire_poll, al_lua_acquire_drop, "Semaphore:acquire"}, .sem = s};
    int rc = al_semaphore_acquire_init(&op->acq, s->s, (uint32_t)n);
    if (rc != 0) {
        free(op);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    al_lua_sem_retain(s);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_sem_available(lua_State *L)
{
    al_lua_sem_t *s = al_lua_handle_check(L, 1, &al_lua_sem_class);
    lua_pushinteger(L, (lua_Integer)al_semaphore_available_permits(s->s));
    return 1;
}

static int al_lua_sem_add(lua_State *L)
{
    al_lua_sem_t *s = al_lua_handle_check(L, 1, &al_lua_sem_class);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0 && n <= 1000000000, 2, "permits must be between 0 and 1e9");
    int rc = al_semaphore_add_permits(s->s, (uint32_t)n);
    if (rc != 0)
        return luaL_error(L, "%s", al_strerror(rc));
    return 0;
}

static int al_lua_sem_close(lua_State *L)
{
    al_lua_sem_t *s = al_lua_handle_check(L, 1, &al_lua_sem_class);
    al_semaphore_close(s->s);
    return 0;
}

static uint64_t al_lua_sem_resource_id(void *o)
{
    return al_semaphore_id(((al_lua_sem_t *)o)->s);
}

const al_lua_class_t al_lua_sem_class = {
    .name = "Semaphore",
    .resource_id = al_lua_sem_resource_id,
    .retain = al_lua_sem_retain,
    .release = al_lua_sem_release,
    .methods = (const luaL_Reg[]){{"acquire", al_lua_sem_acquire},
                                  {"available_permits", al_lua_sem_available},
                                  {"add_permits", al_lua_sem_add},
                                  {"close", al_lua_sem_close},
                                  {NULL, NULL}}};

/* ---- Notify ---- */

typedef struct {
    atomic_int refs;
    al_notify_t *n;
} al_lua_notify_t;

static void al_lua_notify_retain(void *o)
{
    atomic_fetch_add(&((al_lua_notify_t *)o)->refs, 1);
}
static void al_lua_notify_release(void *o)
{
    al_lua_notify_t *n = o;
    if (atomic_fetch_sub(&n->refs, 1) == 1) {
        al_notify_unref(n->n);
        free(n);
    }
}

extern const al_lua_class_t al_lua_notify_class;

typedef struct {
    al_lua_notify_t *n;
    const char *name;
    int rc;
} al_lua_new_notify_t;

static void al_lua_new_notify(void *arg)
{
    al_lua_new_notify_t *mk = arg;
    mk->rc = al_notify_new(mk->name, &mk->n->n);
}

static int al_lua_notify_new(lua_State *L)
{
    const char *name = luaL_optstring(L, 1, NULL); /* before allocating: it may raise */
    al_lua_notify_t *n = calloc(1, sizeof *n);
    if (!n)
        return luaL_error(L, "out of memory");
    al_lua_new_notify_t mk = {n, name, 0};
    al_lua_in_context(L, al_lua_new_notify, &mk); /* recorded with its name */
    int rc = mk.rc;
    if (rc != 0) {
        free(n);
        return luaL_error(L, "%s", al_strerror(rc));
    }
    atomic_init(&n->refs, 1);
    al_lua_handle_push(L, &al_lua_notify_class, n);
    return 1;
}

typedef struct {
    al_lua_op_t op;
    al_lua_notify_t *n;
    al_notified_t w;
} al_lua_notified_op_t;

static al_poll_t al_lua_notified_poll(al_lua_op_t *o, al_context_t *cx, lua_State *L, int *n)
{
    al_lua_notified_op_t *op = (al_lua_notified_op_t *)o;
    if (al_notified_poll(&op->w, cx) == AL_PENDING)
        return AL_PENDING;
    lua_pushboolean(L, 1);
    *n = 1;
    return AL_READY;
}

static void al_lua_notified_drop(al_lua_op_t *o)
{
    al_lua_notified_op_t *op = (al_lua_notified_op_t *)o;
    al_notified_drop(&op->w);
    al_lua_notify_release(op->n);
    free(op);
}

static int al_lua_notify_notified(lua_State *L)
{
    al_lua_notify_t *n = al_lua_handle_check(L, 1, &al_lua_notify_class);
    al_lua_notified_op_t *op = malloc(sizeof *op);
    if (!op)
        return luaL_error(L, "out of memory");
    *op = (al_lua_notified_op_t){
        .op = {al_lua_notified_poll, al_lua_notified_drop, "Notify:notified"}, .n = n};
    al_lua_notify_retain(n);
    al_notified_init(&op->w, n->n);
    lua_settop(L, 0);
    return al_lua_await(L, &op->op);
}

static int al_lua_notify_one(lua_State *L)
{
    al_notify_notify_one(((al_lua_notify_t *)al_lua_handle_check(L, 1, &al_lua_notify_class))->n);
    return 0;
}

static int al_lua_notify_waiters(lua_State *L)
{
    al_notify_notify_waiters(
        ((al_lua_notify_t *)al_lua_handle_check(L, 1, &al_lua_notify_class))->n);
    return 0;
}

static uint64_t al_lua_notify_resource_id(void *o)
{
    return al_notify_id(((al_lua_notify_t *)o)->n);
}

const al_lua_class_t al_lua_notify_class = {
    .name = "Notify",
    .resource_id = al_lua_notify_resource_id,
    .retain = al_lua_notify_retain,
    .release = al_lua_notify_release,
    .methods = (const luaL_Reg[]){{"notified", al_lua_notify_notified},
                                  {"notify_one", al_lua_notify_one},
                                  {"notify_waiters", al_lua_notify_waiters},
                                  {NULL, NULL}}};

/* ---- the modules ---- */

void al_lua_open_sync(lua_State *L, int rt, int std)
{
    const al_lua_class_t *classes[] = {&al_lua_mutex_class, &al_lua_guard_class, &al_lua_sem_class,
                                       &al_lua_permit_class, &al_lua_notify_class};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        al_lua_class_register(L, classes[i]);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "Mutex", "rt.sync.Mutex",
                  (const luaL_Reg[]){{"new", al_lua_mutex_new}, {NULL, NULL}});
    al_lua_module(L, "Semaphore", "rt.sync.Semaphore",
                  (const luaL_Reg[]){{"new", al_lua_sem_new}, {NULL, NULL}});
    al_lua_module(L, "Notify", "rt.sync.Notify",
                  (const luaL_Reg[]){{"new", al_lua_notify_new}, {NULL, NULL}});
    lua_pop(L, 1);
    lua_getfield(L, std, "sync");
    al_lua_module(L, "Mutex", "std.sync.Mutex",
                  (const luaL_Reg[]){{"new", al_lua_std_mutex_new}, {NULL, NULL}});
    lua_pop(L, 1);
}
