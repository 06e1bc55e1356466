/*
 * lua_rc.h — the reference counts of shared objects that can hold Lua values
 * (a Mutex's or an RwLock's value, a watch or broadcast channel's stored
 * values, through its sender): Rust's Arc and Weak, in one struct.
 *
 *   strong  handles, values packed elsewhere, guards: they keep the object
 *           (and what it holds) alive;
 *   weak    Weak handles (rt.sync.Weak), plus one that all the strong ones
 *           hold together: the memory stays until the last weak reference
 *           goes, so that upgrading a Weak can still read the count.
 *
 * When strong reaches 0 the owner drops what the object holds (its value,
 * its core lock) and then gives up the strongs' weak reference; the memory
 * goes with the last weak one.
 *
 * Every object with a strong reference is also in one process-wide list.
 * Once the program has closed every Lua state, what is still in it is held
 * only by other shared objects: a reference cycle (pitfall E2), which
 * al_lua_rc_report names.
 *
 * The struct is the first member of its object (allocated with malloc), so
 * that a Weak handle reaches the counts knowing only the object.
 */
#ifndef LUA_RC_H
#define LUA_RC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct al_lua_class;

typedef struct al_lua_rc {
    atomic_int strong, weak;
    const struct al_lua_class *cls; /* what the report calls it (describe) */
    struct al_lua_rc *prev, *next;  /* the list of live objects, under its lock */
} al_lua_rc_t;

/* One strong reference (the caller's); into the live list. */
void al_lua_rc_init(al_lua_rc_t *rc, const struct al_lua_class *cls);
void al_lua_rc_retain(al_lua_rc_t *rc);
/* Give up a strong reference. True when it was the last: the caller drops
 * what the object holds, then calls al_lua_rc_weak_release. */
bool al_lua_rc_release(al_lua_rc_t *rc);
/* Take a strong reference if one is left (Weak::upgrade). */
bool al_lua_rc_upgrade(al_lua_rc_t *rc);
int al_lua_rc_strong_count(al_lua_rc_t *rc);
void al_lua_rc_weak_retain(al_lua_rc_t *rc);
/* Give up a weak reference; the last one frees the object's memory. */
void al_lua_rc_weak_release(al_lua_rc_t *rc);

/* How many shared objects are alive now. */
size_t al_lua_rc_alive(void);
/* Write the objects alive now to out (nothing when none), saying that what
 * nothing outside them refers to is a reference cycle; returns how many. */
size_t al_lua_rc_report(FILE *out);

#endif
