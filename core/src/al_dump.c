/*
 * al_dump.c — SIGQUIT -> a dump, printed by a watcher thread (see al_dump.h).
 *
 * The handler does the only async-signal-safe thing that wakes a thread: a
 * write(2) to a pipe. The watcher blocks in read(2) and runs the dump
 * function with no signal-handler restrictions. Removal writes a zero byte,
 * which tells the watcher to exit.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "al_dump.h"
#include "al_error.h"

static struct {
    pthread_mutex_t lock; /* guards installation and removal */
    int pipe_rd, pipe_wr;
    pthread_t watcher;
    bool installed;
    al_dump_fn fn;
    void *ctx;
    FILE *out;
    struct sigaction previous;
} al__dump = {.lock = PTHREAD_MUTEX_INITIALIZER, .pipe_rd = -1, .pipe_wr = -1};

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
    (void)arg;
    for (;;) {
        char c;
        ssize_t n = read(al__dump.pipe_rd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == 0)
            return NULL; /* removed */
        fprintf(al__dump.out, "\n==== asynclab task dump (SIGQUIT) ====\n");
        al__dump.fn(al__dump.ctx, al__dump.out);
        fprintf(al__dump.out, "==== end of dump ====\n");
        fflush(al__dump.out);
        atomic_fetch_add(&al__dump_count, 1);
    }
}

int al_dump_on_sigquit(al_dump_fn fn, void *ctx, FILE *out)
{
    if (!fn || !out)
        return AL_EINVAL;
    al_dump_on_sigquit_remove();
    pthread_mutex_lock(&al__dump.lock);
    int fds[2];
    if (pipe(fds) != 0) {
        pthread_mutex_unlock(&al__dump.lock);
        return AL_ENOMEM;
    }
    al__dump.pipe_rd = fds[0];
    al__dump.pipe_wr = fds[1];
    al__dump.fn = fn;
    al__dump.ctx = ctx;
    al__dump.out = out;
    if (pthread_create(&al__dump.watcher, NULL, al__dump_watcher, NULL) != 0) {
        close(fds[0]);
        close(fds[1]);
        pthread_mutex_unlock(&al__dump.lock);
        return AL_ENOMEM;
    }
    atomic_store(&al__dump_pipe_wr, fds[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = al__dump_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, &al__dump.previous);
    al__dump.installed = true;
    pthread_mutex_unlock(&al__dump.lock);
    return 0;
}

void al_dump_on_sigquit_remove(void)
{
    pthread_mutex_lock(&al__dump.lock);
    if (al__dump.installed) {
        sigaction(SIGQUIT, &al__dump.previous, NULL);
        atomic_store(&al__dump_pipe_wr, -1);
        char zero = 0;
        ssize_t w = write(al__dump.pipe_wr, &zero, 1);
        (void)w;
        pthread_join(al__dump.watcher, NULL);
        close(al__dump.pipe_rd);
        close(al__dump.pipe_wr);
        al__dump.installed = false;
    }
    pthread_mutex_unlock(&al__dump.lock);
}

unsigned long al_dump_count(void)
{
    return atomic_load(&al__dump_count);
}
