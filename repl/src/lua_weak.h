/*
 * lua_weak.h — rt.sync.Weak: a reference to a Mutex or RwLock that does not
 * keep it alive (Rust's std::sync::Weak), for back references that would
 * otherwise make a cycle (pitfall E2).
 *
 *   local w = rt.sync.Weak.new(m)   -- m: a Mutex or RwLock
 *   w:upgrade()                     -- m while something else keeps it, else nil
 *   w:strong_count()                -- how many strong references are left
 *
 * A Weak is itself a shared handle: it moves between tasks and can be stored
 * in a mutex's value, which is the point.
 */
#ifndef LUA_WEAK_H
#define LUA_WEAK_H

#include <lua.h>

/* Fill rt.sync.Weak (rt at stack index rt, which has a `sync` table). */
void al_lua_open_weak(lua_State *L, int rt);

#endif
