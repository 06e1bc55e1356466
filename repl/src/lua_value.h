/*
 * lua_value.h — moving Lua values between Lua states (each task has its
 * own), the way lua-api.md says: copied, or shared as handles.
 *
 * A value is packed into a self-contained byte buffer on the sending side
 * and unpacked into the receiving state, possibly on another thread, later
 * (a channel message waits in its buffer). Copied: nil, booleans, numbers,
 * strings, tables (cycles and shared references kept within one pack),
 * Lua functions (bytecode plus upvalues, recursively; the `_ENV` upvalue
 * becomes the receiving state's globals), light C functions (the standard
 * library's). Shared: handles (lua_handle.h), which count references.
 * By name: library tables (rt, rt.sync, std, string...): the receiver's own.
 * Anything else is refused with an error that names where it was found:
 *
 *   cannot spawn: upvalue `co` is a coroutine, which cannot move to another thread
 *
 * Upvalues that two closures shared are copied separately (a copy, not a
 * share: use a shared handle such as rt.sync.Mutex to share state).
 */
#ifndef LUA_VALUE_H
#define LUA_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

typedef struct al_lua_pack {
    unsigned char *buf;
    size_t len, cap;
    int count;        /* values packed */
    bool has_handles; /* release them if never unpacked */
    bool has_env;     /* holds a function with an _ENV upvalue */
} al_lua_pack_t;

/* Largest pack accepted (bytes); a bigger value is refused, not truncated. */
#define AL_LUA_PACK_MAX ((size_t)256 << 20)

/*
 * Pack the n values at stack index first .. first+n-1 of L. `what` names the
 * operation for errors ("spawn", "send"); `names` (may be NULL) names each
 * value ("argument #1"). On failure returns false and pushes nothing: the
 * error message is written to err.
 */
bool al_lua_pack(lua_State *L, int first, int n, const char *what, const char *const *names,
                 al_lua_pack_t *p, char *err, size_t err_cap);
/* Push the packed values onto L (which may be another state); returns how
 * many, or -1 with a message in err (out of memory, stack overflow). A pack
 * can be unpacked once; it is emptied. */
int al_lua_unpack(lua_State *L, al_lua_pack_t *p, char *err, size_t err_cap);
/* The same, giving every unpacked Lua function the table at stack index env
 * as its `_ENV` (a task's own environment). */
int al_lua_unpack_env(lua_State *L, al_lua_pack_t *p, int env, char *err, size_t err_cap);
/* dst = a copy of src (its handles get references of their own). False
 * when out of memory (dst is then empty). */
bool al_lua_pack_copy(al_lua_pack_t *dst, const al_lua_pack_t *src);
/* Free a pack (releasing the handles it holds, if never unpacked). */
void al_lua_pack_free(al_lua_pack_t *p);

/* Note the library tables of L (rt and its modules, std, string, table, ...
 * as package.loaded has them now): they are then packed by name and
 * unpacked as the receiving state's own, so that `local rt = require
 * "asynclab"` (an upvalue) moves with a spawned function. Called when rt is
 * opened in a state. */
void al_lua_value_note_modules(lua_State *L);

#endif
