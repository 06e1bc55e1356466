/*
 * lua_handle.c — shared handles (see lua_handle.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lua_alloc.h"
#include "lua_handle.h"
#include "lua_lazy_libs.h"

/* Key of the class pointer in a handle metatable. */
#define AL_LUA_CLASS_KEY "__al_class"

static int al_lua_handle_gc(lua_State *L)
{
    al_lua_handle_t *h = lua_touserdata(L, 1);
    if (h && h->obj && h->cls->release)
        h->cls->release(h->obj);
    if (h)
        h->obj = NULL;
    return 0;
}

static int al_lua_handle_tostring(lua_State *L)
{
    al_lua_handle_t *h = al_lua_handle_test(L, 1);
    if (!h)
        return luaL_error(L, "not an asynclab handle");
    char extra[160] = "";
    if (!h->obj)
        snprintf(extra, sizeof extra, " (released)");
    else if (h->cls->describe) {
        extra[0] = ' ';
        h->cls->describe(h->obj, extra + 1, sizeof extra - 1);
    }
    lua_pushfstring(L, "%s%s", h->cls->name, extra);
    return 1;
}

/* __index(h, k) of a class in a task state: h's method named k. */
static int al_lua_handle_method(lua_State *L)
{
    al_lua_handle_t *h = al_lua_handle_test(L, 1);
    if (!h || lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *k = lua_tostring(L, 2);
    for (const luaL_Reg *m = h->cls->methods; m && m->name; m++) {
        if (strcmp(m->name, k) == 0) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    }
    return 0;
}

/* Registry key (light userdata) of a task state's shared metatable. */
static const char al_lua_shared_mt_key;

/* Whether handles of cls can share a task state's one metatable: its
 * entries (methods, __gc, __tostring) work for any class through h->cls.
 * Classes with more (fields, their own __gc, __close, __eq, arithmetic)
 * keep a metatable of their own, so that handles of other classes do not
 * gain those metamethods. */
static bool al_lua_class_plain(const al_lua_class_t *cls)
{
    return !cls->index && !cls->newindex && !cls->gc && !cls->metamethods;
}

/* Push the task state's shared metatable, making it on first use: a few
 * hundred bytes once per state instead of once per class per state. No
 * __name (it cannot name each class: luaL_typeerror says "userdata"; our own
 * checks name the class), no class key (it is recognized by identity). */
static void al_lua_shared_mt_push(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &al_lua_shared_mt_key) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, al_lua_handle_method);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, al_lua_handle_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, al_lua_handle_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &al_lua_shared_mt_key);
}

/* Make cls's metatable in L, if it has none yet. */
static void al_lua_class_make(lua_State *L, const al_lua_class_t *cls)
{
    if (luaL_getmetatable(L, cls->name) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    /* luaL_newmetatable, sized for what follows: a table that grows leaves
     * its old parts on the task state's free lists (lua_alloc.c) */
    int n = 6 + (cls->newindex != NULL);
    for (const luaL_Reg *m = cls->metamethods; m && m->name; m++)
        n++;
    lua_createtable(L, 0, n);
    lua_pushstring(L, cls->name);
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, cls->name);
    lua_pushlightuserdata(L, (void *)cls);
    lua_setfield(L, -2, AL_LUA_CLASS_KEY);
    lua_pushcfunction(L, cls->gc ? cls->gc : al_lua_handle_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, al_lua_handle_tostring);
    lua_setfield(L, -2, "__tostring");
    if (cls->index) {
        /* __index(h, k): the class's function, which falls back to methods. */
        lua_pushcfunction(L, cls->index);
        lua_setfield(L, -2, "__index");
    } else if (cls->methods && al_lua_lazy_intact(L)) {
        /* A task state: no per-state method table (a few hundred bytes per
         * class in every task that holds such a handle), the class's C
         * array is searched instead. */
        lua_pushcfunction(L, al_lua_handle_method);
        lua_setfield(L, -2, "__index");
    } else {
        lua_newtable(L);
        if (cls->methods)
            luaL_setfuncs(L, cls->methods, 0);
        if (cls->methods) { /* also mt.methods (one table: task states are small) */
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, "methods");
        }
        lua_setfield(L, -2, "__index");
    }
    if (cls->newindex) {
        lua_pushcfunction(L, cls->newindex);
        lua_setfield(L, -2, "__newindex");
    }
    if (cls->metamethods)
        luaL_setfuncs(L, cls->metamethods, 0);
    if (cls->methods && cls->index) { /* also reachable as mt.methods (for the index function) */
        lua_newtable(L);
        luaL_setfuncs(L, cls->methods, 0);
        lua_setfield(L, -2, "methods");
    }
    lua_pop(L, 1);
}

void al_lua_class_register(lua_State *L, const al_lua_class_t *cls)
{
    /* A task state makes it when the first handle of the class arrives. */
    if (!al_lua_lazy_intact(L))
        al_lua_class_make(L, cls);
}

void al_lua_handle_push(lua_State *L, const al_lua_class_t *cls, void *obj)
{
    al_lua_handle_t *h = lua_newuserdatauv(L, sizeof *h, cls->index ? 1 : 0);
    al_lua_alloc_note_finalizer(L); /* its __gc releases: collect when the task ends */
    h->cls = cls;
    h->obj = obj;
    if (al_lua_class_plain(cls) && al_lua_lazy_intact(L)) { /* a task state */
        al_lua_shared_mt_push(L);
        lua_setmetatable(L, -2);
        return;
    }
    if (luaL_getmetatable(L, cls->name) != LUA_TTABLE) {
        lua_pop(L, 1);
        al_lua_class_make(L, cls);
        luaL_getmetatable(L, cls->name);
    }
    lua_setmetatable(L, -2);
}

al_lua_handle_t *al_lua_handle_test(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    /* the task state's shared metatable, or one with our class key */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &al_lua_shared_mt_key);
    lua_pushliteral(L, AL_LUA_CLASS_KEY);
    bool ours = lua_rawequal(L, -2, -3) || lua_rawget(L, -3) == LUA_TLIGHTUSERDATA;
    lua_pop(L, 3);
    return ours ? lua_touserdata(L, idx) : NULL;
}

void *al_lua_handle_check(lua_State *L, int idx, const al_lua_class_t *cls)
{
    al_lua_handle_t *h = al_lua_handle_test(L, idx);
    if (!h || h->cls != cls) {
        const char *got = h ? h->cls->name : luaL_typename(L, idx);
        luaL_argerror(L, idx, lua_pushfstring(L, "%s expected, got %s", cls->name, got));
        return NULL;
    }
    if (!h->obj)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s already released", cls->name));
    return h->obj;
}
