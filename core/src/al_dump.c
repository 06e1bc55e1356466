/*
 * al_dump.c — SIGQUIT -> a dump and the registered actions, run by a watcher
 * thread (see al_dump.h).
 *
 * The handler does the only async-signal-safe thing that wakes a thread: a
 * write(2) to a pipe. The watcher blocks in read(2) and runs the dump
 * function and the actions with no signal-handler restrictions. Removal
 * writes a zero byte, which tells the watcher to exit.
 *
 * Two locks: `lock` guards the installation (handler, pipe, watcher); the
 * watcher never takes it, so it can be held while joining the watcher.
 * `run_lock` guards what the watcher runs (the dump function and the action
 * list); the watcher holds it while running them, so once a setter has
 * changed them under it, the old ones are not running and will not run.
 * Order: lock, then run_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "al_dump.h"
#include "al_error.h"

struct al_dump_action {
    al_dump_fn fn;
    void *ctx;
    struct al_dump_action *next;
};

static struct {
    pthread_mutex_t lock; /* guards installation and removal */
    int pipe_rd, pipe_wr;
    pthread_t watcher;
    bool installed;
    struct sigaction previous;
    pthread_mutex_t run_lock; /* guards the four fields below */
    al_dump_fn fn;
    void *ctx;
    FILE *out;
    al_dump_action_t *actions;
} al__dump = {.lock = PTHREAD_MUTEX_INITIALIZER,
              .run_lock = PTHREAD_MUTEX_INITIALIZER,
              .pipe_rd = -1,
              .pipe_wr = -1};

static atomic_ulong al__dump_count;
static atomic_int al__dump_pipe_wr = -1; /* what the handler writes to */

static void al__dump_handler(int sig)
{
    (void)sig;
    int saved = errno;
    int fd = atomic_load_explicit(&al__dump_pipe_wr, memory_order_relaxed);
    if (fd >= 0) {
        char one = 1;
        ssize_t w = write(fd, &one, 1); /* a full pipe: a dump is pending anyway */
        (void)w;
    }
    errno = saved;
}

static void *al__dump_watcher(void *arg)
{
    int fd = (int)(intptr_t)arg;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == 0)
            return NULL; /* removed */
        pthread_mutex_lock(&al__dump.run_lock);
        FILE *out = al__dump.fn ? al__dump.out : stderr;
        if (al__dump.fn) {
            fprintf(out, "\n==== asynclab task dump (SIGQUIT) ====\n");
            al__dump.fn(al__dump.ctx, out);
            fprintf(out, "==== end of dump ====\n");
        }
        for (al_dump_action_t *a = al__dump.actions; a; a = a->next)
            a->fn(a->ctx, out);
        fflush(out);
        pthread_mutex_unlock(&al__dump.run_lock);
        atomic_fetch_add(&al__dump_count, 1);
    }
}

/* Under lock. */
static int al__dump_install(void)
{
    if (al__dump.installed)
        return 0;
    int fds[2];
    if (pipe(fds) != 0)
        return AL_ENOMEM;
    if (pthread_create(&al__dump.watcher, NULL, al__dump_watcher, (void *)(intptr_t)fds[0]) != 0) {
        close(fds[0]);
        close(fds[1]);
        return AL_ENOMEM;
    }
    al__dump.pipe_rd = fds[0];
    al__dump.pipe_wr = fds[1];
    atomic_store(&al__dump_pipe_wr, fds[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = al__dump_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, &al__dump.previous);
    al__dump.installed = true;
    return 0;
}

/* Under lock (not run_lock: the watcher may be waiting for it). */
static void al__dump_uninstall(void)
{
    if (!al__dump.installed)
        return;
    sigaction(SIGQUIT, &al__dump.previous, NULL);
    atomic_store(&al__dump_pipe_wr, -1);
    char zero = 0;
    ssize_t w = write(al__dump.pipe_wr, &zero, 1);
    (void)w;
    pthread_join(al__dump.watcher, NULL);
    close(al__dump.pipe_rd);
    close(al__dump.pipe_wr);
    al__dump.pipe_rd = al__dump.pipe_wr = -1;
    al__dump.installed = false;
}

int al_dump_on_sigquit(al_dump_fn fn, void *ctx, FILE *out)
{
    if (!fn || !out)
        return AL_EINVAL;
    pthread_mutex_lock(&al__dump.lock);
    int rc = al__dump_install();
    if (rc == 0) {
        pthread_mutex_lock(&al__dump.run_lock);
        al__dump.fn = fn;
        al__dump.ctx = ctx;
        al__dump.out = out;
        pthread_mutex_unlock(&al__dump.run_lock);
    }
    pthread_mutex_unlock(&al__dump.lock);
    return rc;
}

/* Under lock: clear the dump and/or unlink an action; uninstall when
 * nothing is left to run. */
static void al__dump_remove(bool dump, al_dump_action_t *action)
{
    pthread_mutex_lock(&al__dump.run_lock);
    if (dump) {
        al__dump.fn = NULL;
        al__dump.ctx = NULL;
        al__dump.out = NULL;
    }
    for (al_dump_action_t **p = &al__dump.actions; action && *p; p = &(*p)->next) {
        if (*p == action) {
            *p = action->next;
            free(action);
            break;
        }
    }
    bool empty = !al__dump.fn && !al__dump.actions;
    pthread_mutex_unlock(&al__dump.run_lock);
    if (empty)
        al__dump_uninstall();
}

void al_dump_on_sigquit_remove(void)
{
    pthread_mutex_lock(&al__dump.lock);
    al__dump_remove(true, NULL);
    pthread_mutex_unlock(&al__dump.lock);
}

int al_dump_action_add(al_dump_fn fn, void *ctx, al_dump_action_t **out)
{
    if (!fn || !out)
        return AL_EINVAL;
    al_dump_action_t *a = malloc(sizeof *a);
    if (!a)
        return AL_ENOMEM;
    *a = (al_dump_action_t){fn, ctx, NULL};
    pthread_mutex_lock(&al__dump.lock);
    int rc = al__dump_install();
    if (rc == 0) {
        pthread_mutex_lock(&al__dump.run_lock);
        al_dump_action_t **p = &al__dump.actions;
        while (*p)
            p = &(*p)->next;
        *p = a;
        pthread_mutex_unlock(&al__dump.run_lock);
    }
    pthread_mutex_unlock(&al__dump.lock);
    if (rc != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void al_dump_action_remove(al_dump_action_t *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&al__dump.lock);
    al__dump_remove(false, a);
    pthread_mutex_unlock(&al__dump.lock);
}

unsigned long al_dump_count(void)
{
    return atomic_load(&al__dump_count);
}
