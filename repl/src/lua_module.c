/*
 * lua_module.c — `require "asynclab"` from a stock lua5.4: luaopen_asynclab,
 * the entry point of the Lua C module asynclab.so (the Makefile's module
 * block builds it from these sources, position-independent, without the
 * program's own files: main, the prompt, completion, `asynclab trace`).
 *
 *   LUA_CPATH='build/release/?.so' lua5.4 -e 'local rt = require "asynclab"
 *       print(rt.spawn(function() return 1 end):await())'
 *
 * It does what the program does to a state: defines the globals rt and std
 * (so spawned functions find them), and returns rt. The host's state is the
 * top level: awaiting there drives the default runtime (block_on), as at
 * the prompt. The Lua library is the host's (the module does not link one).
 *
 * Shutdown. The default runtime (its worker threads) must be gone before
 * the process exits. A sentinel userdata, made when the module is loaded,
 * has a __gc that runs when the host closes the state (lua5.4 does at the
 * end of a script): finalizers run newest first, so the handles made after
 * it are released before the runtime is shut down (its tasks cancelled).
 * os.exit() without closing the state skips finalizers: an atexit handler
 * shuts the runtime down then. With several host states the last one to
 * close shuts it down; the default runtime is made once per process.
 *
 * The module is never unloaded: lua_close would dlclose it, while a thread
 * or an exit handler of the runtime may still run its code.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_rc.h"
#include "lua_rt.h"
#include "lua_task.h"

/* The only symbol the module exports (it is built -fvisibility=hidden). */
__attribute__((visibility("default"))) int luaopen_asynclab(lua_State *L);

static atomic_int al_lua_module_states; /* host states that loaded us and are open */
static atomic_bool al_lua_module_exit_hook;

static void al_lua_module_shutdown(void)
{
    al_lua_runtime_shutdown();
    al_lua_pool_clear();
}

static int al_lua_module_gc(lua_State *L)
{
    (void)L;
    if (atomic_fetch_sub(&al_lua_module_states, 1) == 1) {
        al_lua_module_shutdown();
        /* The host closed its state (this runs last of its finalizers): a
         * shared object still alive is in a reference cycle (pitfall E2). */
        al_lua_rc_report(stderr);
    }
    return 0;
}

int luaopen_asynclab(lua_State *L)
{
    /* The host's threads are the top level: no task awaits in them. (A
     * coroutine made later copies its main thread's extra space.) */
    al_lua_set_awaiter(L, NULL);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    al_lua_set_awaiter(lua_tothread(L, -1), NULL);
    lua_pop(L, 1);

    if (!atomic_exchange(&al_lua_module_exit_hook, true)) {
        Dl_info self;
        if (dladdr((void *)luaopen_asynclab, &self) && self.dli_fname)
            dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        atexit(al_lua_module_shutdown);
    }
    al_lua_use_task_states();
    al_lua_open_rt(L);

    lua_newuserdatauv(L, 0, 0); /* the sentinel, before any handle */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, al_lua_module_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "asynclab.module");
    atomic_fetch_add(&al_lua_module_states, 1);

    lua_getglobal(L, "rt");
    return 1;
}
