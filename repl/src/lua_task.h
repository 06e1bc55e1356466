/*
 * lua_task.h — Lua functions as tasks on the C runtime, and awaiting.
 *
 * A Lua task is a C future (al_future_vtable_t) that owns a Lua state taken
 * from the polling worker's pool of warm states. Its function and arguments
 * travel packed (lua_value.h); on the first poll they are unpacked into the
 * state and run on its main thread, resumed as a coroutine (no coroutine
 * of its own: ~1 KiB less per task). When the Lua code awaits (any rt operation
 * that must wait), the API function hands an operation (al_lua_op_t) to
 * al_lua_await, which stores it in the task and yields the thread: the
 * future returns Pending. The task's next poll polls the operation; when it
 * is ready its results resume the thread, maybe on another worker.
 *
 * Outside a task (the REPL top level, a script's main chunk) al_lua_await
 * drives the operation to completion with block_on on the default runtime:
 * the implicit block_on of top-level await.
 */
#ifndef LUA_TASK_H
#define LUA_TASK_H

#include <stdio.h>

#include <lua.h>

#include "asynclab.h"
#include "lua_handle.h"
#include "lua_value.h"

/* Something a Lua function waits for. */
typedef struct al_lua_op al_lua_op_t;
struct al_lua_op {
    /* Poll. When done, push `true, results...` (or `false, error value`)
     * onto L, set *n to how many values were pushed, and return AL_READY. */
    al_poll_t (*poll)(al_lua_op_t *op, al_context_t *cx, lua_State *L, int *n);
    /* Release the operation (also when its task is cancelled mid-wait). */
    void (*drop)(al_lua_op_t *op);
    const char *what; /* "sleep", "lock", ... for dumps */
};

/* Where awaits land: a thread that may wait (a task's, its state's main one, or
 * a branch of rt.select), and the operation it waits for. */
typedef struct al_lua_awaiter {
    lua_State *co;
    al_lua_op_t *pending;
    void *task; /* the task it belongs to (lua_task.c), NULL at the top level */
} al_lua_awaiter_t;

/* The awaiter of thread L (NULL at the top level) / set it (for a new
 * select branch coroutine). */
al_lua_awaiter_t *al_lua_awaiter(lua_State *L);
void al_lua_set_awaiter(lua_State *L, al_lua_awaiter_t *aw);

/* Close a coroutine whose task (or select branch) was cancelled: its
 * to-be-closed variables run now; an await there raises an error (cleanup
 * cannot wait, as a Rust Drop cannot). */
void al_lua_close_cancelled(lua_State *co);

/* From a finalizer (__gc) that let go of Lua objects, which only the next
 * collection frees: when a task's state is recycled, collect once more, so
 * that what they held (guards, permits) is released then, not later. */
void al_lua_gc_again(void);

/* Wait for op (taking it over) from a Lua C function: `return al_lua_await(L, op);`.
 * Returns the operation's results, or raises its error. */
int al_lua_await(lua_State *L, al_lua_op_t *op);

/* At the top level: wait for op (taken over) by block_on on rt, which must
 * not be running on this thread (the caller checks for nesting). */
int al_lua_await_on(lua_State *L, al_lua_op_t *op, al_runtime_t *rt);

/* The runtime of this program's top level (created on first use; the
 * thread that creates it, unless it is inside another runtime, enters it:
 * al_runtime_enter). */
al_runtime_t *al_lua_default_runtime(void);
/* Shut the default runtime down (its tasks are cancelled); the calling
 * thread leaves it first. */
void al_lua_runtime_shutdown(void);
/* Close the calling thread's pooled task states (before exit). */
void al_lua_pool_clear(void);
/* The runtime a Lua API call should use: the current task's, else the
 * default one. */
al_runtime_t *al_lua_runtime(lua_State *L);
/* Run fn(arg) with the default runtime entered when no runtime is current
 * (a thread other than the top level's), so that what it creates is recorded
 * as created on that runtime (a mutex shows with its name in dumps and
 * lints). */
void al_lua_in_context(lua_State *L, void (*fn)(void *), void *arg);
/* True when L is running inside a Lua task (not the top level). */
bool al_lua_in_task(lua_State *L);

/*
 * Spawn fn(args...) (the function at stack index idx, and the n values after
 * it) as a task on rt. Raises the "cannot spawn: ..." error for values that
 * cannot move. On success pushes a JoinHandle.
 */
int al_lua_spawn(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                 al_task_kind_t kind);

/* The same, with a memory limit for the task's state beyond its baseline
 * (bytes; 0: the default, ASYNCLAB_TASK_MEMORY_MB or 256 MiB). Growth past
 * it is Lua's "not enough memory" error in that task. */
int al_lua_spawn_limited(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                         size_t mem_limit);

/* Where a prepared Lua task goes (al_spawn on a runtime, a JoinSet...):
 * spawn the future (vt, init) as al_spawn does, or drop it on failure. May
 * leave *out NULL (no JoinHandle). */
typedef int (*al_lua_spawner_t)(void *ctx, const al_future_vtable_t *vt, const void *init,
                                const al_spawn_opts_t *opts, al_join_t **out);

/* al_lua_spawn through spawner(ctx, ...); rt is the runtime the task's rt
 * calls use. Pushes the JoinHandle and returns 1 when the spawner gave one,
 * else pushes nothing and returns 0. */
int al_lua_spawn_with(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name,
                      al_lua_spawner_t spawner, void *ctx);

/* Push a JoinHandle for h (taken over). */
void al_lua_push_join(lua_State *L, al_join_t *h, const char *name);
/* Push a JoinError value (is_panic / is_cancelled, tostring) for a task
 * that did not finish normally; name may be NULL. */
void al_lua_push_join_error(lua_State *L, uint64_t id, const char *name,
                            const al_join_result_t *res);

/* The same for spawn_blocking: fn runs on the blocking pool, in a state of
 * its own; it may block as long as it likes. */
int al_lua_spawn_blocking(lua_State *L, al_runtime_t *rt, int idx, int nargs, const char *name);

/* Opens the libraries and the rt / std modules in a new state; set by
 * lua_rt.c (the module), used for task states. */
extern lua_State *(*al_lua_new_state)(void);

/* At the top level: wait for the JoinHandle at idx by block_on on rt
 * (which drives rt's tasks when it is a current-thread runtime). Returns
 * the task's results or raises its JoinError. */
int al_lua_join_block_on(lua_State *L, int idx, al_runtime_t *rt);

/* A detail source for a console model (al_console_set_detail_source): each
 * live Lua task's entry in a snapshot gets where it waits as its detail
 * text ("waiting in sleep", then its Lua traceback; a task a worker is
 * polling right now says so instead). Dumps print it under the task. Safe
 * from any thread, needs no worker (SIGQUIT dumps with every worker stuck). */
void al_lua_task_details(void *ctx, al_console_snapshot_t *s);

/* The JoinHandle class (shared handle). */
extern const al_lua_class_t al_lua_join_class;

#endif
