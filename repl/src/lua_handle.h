/*
 * lua_handle.h — shared handles: how a C object (a JoinHandle, a mutex, a
 * channel end...) appears in any number of Lua states at once.
 *
 * A handle is a small userdata {class, object}. The object is reference
 * counted by its class: every userdata holds one reference, released by
 * __gc; moving a handle to another state (lua_value.h) takes a new one. Each
 * class has a metatable, registered in a state under the class name when
 * the first handle of the class arrives there, whose __index is the class's
 * method table (also mt.methods, which completion lists). In a task state
 * (lua_lazy_libs.h) __index is instead a function that finds the method in
 * the class's C array (no table of methods per class per task), and the
 * handles of plain classes (methods only: no index, newindex, gc or
 * metamethods) share one metatable, whose entries act through h->cls: no
 * metatable per class per task either. Such a metatable has no __name
 * (luaL_typeerror says "userdata"; al_lua_handle_check names the class).
 */
#ifndef LUA_HANDLE_H
#define LUA_HANDLE_H

#include <stdbool.h>

#include <lauxlib.h>
#include <lua.h>

typedef struct al_lua_class {
    const char *name; /* "JoinHandle": the metatable name, shown by tostring */
    void (*retain)(void *obj);
    void (*release)(void *obj);
    const luaL_Reg *methods;
    /* Optional: extra text for tostring ("#12 \"health\" idle"). */
    void (*describe)(void *obj, char *buf, size_t cap);
    /* Optional: __index for fields that are not methods (guard.value). */
    lua_CFunction index;
    lua_CFunction newindex;
    /* Optional: __gc instead of release (e.g. a guard that must write its
     * value back before unlocking). */
    lua_CFunction gc;
    /* Optional: more metatable entries (__close, __add, __eq...). Set here,
     * not after registering: a task state registers a class when a handle
     * first arrives in it, which may be before (or without) rt opening. */
    const luaL_Reg *metamethods;
    /* True for handles that belong to one task (guards, permits): they
     * cannot be sent or captured by a spawned function. */
    bool task_local;
    /* True when objects begin with an al_lua_rc_t (lua_rc.h): classes whose
     * objects hold Lua values (so can be part of a cycle), listed while
     * alive and reachable by rt.sync.Weak. */
    bool weak;
    /* Optional: the runtime resource id (al_event.h) behind a sync object,
     * so that the visualizer's hooks can point at it (rt.viz.highlight). */
    uint64_t (*resource_id)(void *obj);
} al_lua_class_t;

typedef struct al_lua_handle {
    const al_lua_class_t *cls;
    void *obj; /* NULL once explicitly closed (e.g. a released guard) */
} al_lua_handle_t;

/* Make the class's metatable in L (once per state); in a task state
 * (lua_lazy_libs.h) nothing: al_lua_handle_push makes it there, for the
 * first handle of the class. */
void al_lua_class_register(lua_State *L, const al_lua_class_t *cls);
/* Push a new handle for obj, taking over one reference the caller holds.
 * Handles of classes with fields (cls->index: a guard's value) have one
 * user value slot (nil) for the Lua value they keep; others have none. */
void al_lua_handle_push(lua_State *L, const al_lua_class_t *cls, void *obj);
/* The handle at idx if it is one of ours (any class), else NULL. */
al_lua_handle_t *al_lua_handle_test(lua_State *L, int idx);
/* The object of the handle at idx, of class cls; raises a "bad argument"
 * error naming the expected class otherwise (or when closed). */
void *al_lua_handle_check(lua_State *L, int idx, const al_lua_class_t *cls);

#endif
