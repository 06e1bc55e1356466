/*
 * lua_weak.c — rt.sync.Weak (see lua_weak.h).
 *
 * The Weak object is shared like any handle (its own count), and holds one
 * weak reference on its target (lua_rc.h): the target's memory stays for
 * the count to be read, what the target holds does not.
 */
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_weak.h"

typedef struct {
    atomic_int refs;
    const al_lua_class_t *cls; /* the target's class */
    al_lua_rc_t *target;       /* first member of the target object */
} al_lua_weak_t;

extern const al_lua_class_t al_lua_weak_class;

static void al_lua_weak_retain(void *o)
{
    atomic_fetch_add(&((al_lua_weak_t *)o)->refs, 1);
}

static void al_lua_weak_release(void *o)
{
    al_lua_weak_t *w = o;
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    al_lua_rc_weak_release(w->target);
    free(w);
}

static void al_lua_weak_describe(void *o, char *buf, size_t cap)
{
    al_lua_weak_t *w = o;
    char what[160] = "";
    /* Described only while upgraded: the target cannot be dropped meanwhile. */
    if (al_lua_rc_upgrade(w->target)) {
        if (w->cls->describe)
            w->cls->describe(w->target, what, sizeof what);
        snprintf(buf, cap, "-> %s %s", w->cls->name, what);
        w->cls->release(w->target);
    } else {
        snprintf(buf, cap, "-> %s (dropped)", w->cls->name);
    }
}

/* rt.sync.Weak.new(h) */
static int al_lua_weak_new(lua_State *L)
{
    al_lua_handle_t *h = al_lua_handle_test(L, 1);
    if (!h || !h->cls->weak)
        return luaL_argerror(L, 1,
                             lua_pushfstring(L,
                                             "Mutex, RwLock, WatchSender or BroadcastSender "
                                             "expected, got %s",
                                             h ? h->cls->name : luaL_typename(L, 1)));
    if (!h->obj)
        return luaL_argerror(L, 1, lua_pushfstring(L, "%s already released", h->cls->name));
    al_lua_weak_t *w = malloc(sizeof *w);
    if (!w)
        return luaL_error(L, "out of memory");
    atomic_init(&w->refs, 1);
    w->cls = h->cls;
    w->target = h->obj;
    al_lua_rc_weak_retain(w->target);
    al_lua_handle_push(L, &al_lua_weak_class, w);
    return 1;
}

/* w:upgrade() -> the Mutex / RwLock, or nil once it was dropped */
static int al_lua_weak_upgrade(lua_State *L)
{
    al_lua_weak_t *w = al_lua_handle_check(L, 1, &al_lua_weak_class);
    if (!al_lua_rc_upgrade(w->target)) {
        lua_pushnil(L);
        return 1;
    }
    al_lua_handle_push(L, w->cls, w->target); /* takes over the reference */
    return 1;
}

/* w:strong_count() */
static int al_lua_weak_strong_count(lua_State *L)
{
    al_lua_weak_t *w = al_lua_handle_check(L, 1, &al_lua_weak_class);
    lua_pushinteger(L, al_lua_rc_strong_count(w->target));
    return 1;
}

const al_lua_class_t al_lua_weak_class = {
    .name = "Weak",
    .retain = al_lua_weak_retain,
    .release = al_lua_weak_release,
    .describe = al_lua_weak_describe,
    .methods = (const luaL_Reg[]){{"upgrade", al_lua_weak_upgrade},
                                  {"strong_count", al_lua_weak_strong_count},
                                  {NULL, NULL}}};

void al_lua_open_weak(lua_State *L, int rt)
{
    al_lua_class_register(L, &al_lua_weak_class);
    lua_getfield(L, rt, "sync");
    al_lua_module(L, "Weak", "rt.sync.Weak",
                  (const luaL_Reg[]){{"new", al_lua_weak_new}, {NULL, NULL}});
    lua_pop(L, 1);
}
