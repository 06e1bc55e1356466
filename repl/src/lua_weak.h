/*
 * lua_weak.h — rt.sync.Weak: a reference that does not keep its object alive
 * (Rust's std::sync::Weak, Tokio's WeakSender), for back references that
 * would otherwise make a cycle (pitfall E2). Objects that hold Lua values
 * can be part of one: Mutex, RwLock, and the senders of watch and broadcast
 * channels (their stored values); mpsc and oneshot channels cannot (a
 * dropped receiver drops what is buffered).
 *
 *   local w = rt.sync.Weak.new(m)   -- m: one of those
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
