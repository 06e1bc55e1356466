/*
 * lua_interrupt.c — Ctrl-C at the prompt: interrupt the running line, keep
 * the runtime.
 *
 * Three situations, one SIGINT handler:
 *  - Lua code is running on the main thread: the handler sets a count hook
 *    (lua_sethook is safe to call from a signal handler) that raises
 *    "interrupted" at the next instruction.
 *  - the line is awaiting (top-level await in block_on): the handler writes a
 *    byte to a pipe; a watcher thread wakes the block_on future, which sees
 *    the flag and ends the wait with "interrupted" (the awaited task keeps
 *    running in the background).
 *  - the prompt is reading a line: the handler jumps back to the prompt
 *    loop, which drops the half-typed line.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua_interrupt.h"

static lua_State *al_int_L;
static volatile sig_atomic_t al_int_flag;
static int al_int_pipe[2] = {-1, -1};
static pthread_t al_int_thread;
static pthread_mutex_t al_int_lock = PTHREAD_MUTEX_INITIALIZER;
static al_waker_t al_int_waker; /* the top-level await's, while it waits */

sigjmp_buf al_lua_prompt_jmp;
volatile sig_atomic_t al_lua_at_prompt;

static void al_int_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void al_int_handler(int sig)
{
    (void)sig;
    if (al_lua_at_prompt)
        siglongjmp(al_lua_prompt_jmp, 1);
    al_int_flag = 1;
    if (al_int_L)
        lua_sethook(al_int_L, al_int_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    int saved = errno;
    char b = 1;
    if (write(al_int_pipe[1], &b, 1) < 0) {
        /* nothing to do: the flag is set */
    }
    errno = saved;
}

/* Wakes the top-level await when Ctrl-C arrives (a signal handler cannot). */
static void *al_int_watch(void *arg)
{
    (void)arg;
    char b;
    while (read(al_int_pipe[0], &b, 1) > 0) {
        pthread_mutex_lock(&al_int_lock);
        al_waker_wake_by_ref(&al_int_waker, AL_WAKE_SRC(AL_WAKE_EXTERNAL, 0));
        pthread_mutex_unlock(&al_int_lock);
    }
    return NULL;
}

int al_lua_interrupt_install(lua_State *L)
{
    if (pipe(al_int_pipe) != 0)
        return -1;
    if (pthread_create(&al_int_thread, NULL, al_int_watch, NULL) != 0)
        return -1;
    pthread_detach(al_int_thread);
    al_int_L = L;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = al_int_handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL);
}

bool al_lua_interrupted(al_context_t *cx)
{
    if (al_int_pipe[0] < 0)
        return false;
    pthread_mutex_lock(&al_int_lock);
    al_waker_set(&al_int_waker, &cx->waker);
    pthread_mutex_unlock(&al_int_lock);
    return al_int_flag != 0;
}

void al_lua_interrupt_clear(void)
{
    al_int_flag = 0;
    if (al_int_L)
        lua_sethook(al_int_L, NULL, 0, 0);
    pthread_mutex_lock(&al_int_lock);
    al_waker_drop(&al_int_waker);
    pthread_mutex_unlock(&al_int_lock);
}
