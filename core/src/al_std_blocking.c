/*
 * al_std_blocking.c — the deliberately blocking primitives: a std mutex that
 * blocks the OS thread, a thread sleep, and a CPU spin.
 *
 * The std mutex is a binary lock built from a pthread mutex and a condition
 * variable, not a bare pthread_mutex_t: the guard may be held across an await
 * and unlocked by the same task on another worker thread, and unlocking a
 * pthread mutex from a thread that does not own it is undefined behaviour.
 * lock() still blocks the thread for real (it sleeps in the kernel on the
 * condvar's futex, which is what a thread dump shows), which is the point.
 *
 *   lock:   take `mu`; while `locked`, wait on `cv`; set `locked`; drop `mu`.
 *   unlock: take `mu`; clear `locked`; signal one waiter; drop `mu`.
 *
 * Shared fields (struct al_std_mutex):
 *   locked       under mu (also read relaxed by is_locked: it is atomic);
 *   holder       atomic relaxed: written by the holder, read by anyone;
 *   value        belongs to the holder;
 *   refs atomic; id, name written once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "al_std_blocking.h"
#include "al_internal.h"
#include "al_runtime_internal.h"

struct al_std_mutex {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool locked;
    _Atomic uint64_t holder;
    _Atomic uint32_t refs;
    void *value;
    uint64_t id;
    char *name;
};

int al_std_mutex_new(void *value, const char *name, al_std_mutex_t **out)
{
    if (!out)
        return AL_EINVAL;
    al_std_mutex_t *m = calloc(1, sizeof *m);
    if (!m)
        return AL_ENOMEM;
    if (name && !(m->name = strdup(name))) {
        free(m);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    atomic_init(&m->locked, false);
    atomic_init(&m->holder, 0);
    atomic_init(&m->refs, 1);
    m->value = value;
    m->id = al__resource_id_next();
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), m->id, AL_RES_STD_MUTEX, m->name);
    *out = m;
    return 0;
}

al_std_mutex_t *al_std_mutex_ref(al_std_mutex_t *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void al_std_mutex_unref(al_std_mutex_t *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, m->id, 0, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m->name);
    free(m);
}

uint64_t al_std_mutex_id(const al_std_mutex_t *m)
{
    return m->id;
}
const char *al_std_mutex_name(const al_std_mutex_t *m)
{
    return m->name ? m->name : "";
}
bool al_std_mutex_is_locked(const al_std_mutex_t *m)
{
    return atomic_load_explicit(&m->locked, memory_order_relaxed);
}
uint64_t al_std_mutex_holder(const al_std_mutex_t *m)
{
    return atomic_load_explicit(&m->holder, memory_order_relaxed);
}

static void std_acquired(al_std_mutex_t *m, uint64_t task, al_std_mutex_guard_t *g)
{
    atomic_store_explicit(&m->holder, task, memory_order_relaxed);
    g->m = al_std_mutex_ref(m);
    AL__EMIT_HERE(AL_EV_LOCK_ACQUIRE, task, m->id, 0, NULL);
}

int al_std_mutex_lock(al_std_mutex_t *m, al_std_mutex_guard_t *g)
{
    if (!m || !g)
        return AL_EINVAL;
    uint64_t task = al__current_task_id();
    pthread_mutex_lock(&m->mu);
    if (atomic_load_explicit(&m->locked, memory_order_relaxed)) {
        /* Contended: this thread is about to block for real. */
        AL__EMIT_HERE(AL_EV_LOCK_CONTEND, task, m->id, al_std_mutex_holder(m), NULL);
        AL__EMIT_HERE(AL_EV_BLOCK_BEGIN, task, AL_BLOCK_STD_MUTEX, m->id, NULL);
        al__mt_before_blocking(); /* let an idle sibling take our queue */
        while (atomic_load_explicit(&m->locked, memory_order_relaxed))
            pthread_cond_wait(&m->cv, &m->mu);
        AL__EMIT_HERE(AL_EV_BLOCK_END, task, AL_BLOCK_STD_MUTEX, 0, NULL);
    }
    atomic_store_explicit(&m->locked, true, memory_order_relaxed);
    pthread_mutex_unlock(&m->mu);
    std_acquired(m, task, g);
    return 0;
}

int al_std_mutex_try_lock(al_std_mutex_t *m, al_std_mutex_guard_t *g)
{
    if (!m || !g)
        return AL_EINVAL;
    bool got = false;
    pthread_mutex_lock(&m->mu);
    if (!atomic_load_explicit(&m->locked, memory_order_relaxed)) {
        atomic_store_explicit(&m->locked, true, memory_order_relaxed);
        got = true;
    }
    pthread_mutex_unlock(&m->mu);
    if (!got)
        return AL_EWOULDBLOCK;
    std_acquired(m, al__current_task_id(), g);
    return 0;
}

int al_std_mutex_guard_unlock(al_std_mutex_guard_t *g)
{
    if (!g || !g->m)
        return AL_ENOTHELD;
    al_std_mutex_t *m = g->m;
    g->m = NULL;
    pthread_mutex_lock(&m->mu);
    if (!atomic_load_explicit(&m->locked, memory_order_relaxed)) {
        pthread_mutex_unlock(&m->mu); /* a copy of this guard unlocked it already */
        return AL_ENOTHELD;
    }
    atomic_store_explicit(&m->holder, 0, memory_order_relaxed);
    atomic_store_explicit(&m->locked, false, memory_order_relaxed);
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    AL__EMIT_HERE(AL_EV_LOCK_RELEASE, al__current_task_id(), m->id, 0, NULL);
    al_std_mutex_unref(m);
    return 0;
}

void **al_std_mutex_guard_value(const al_std_mutex_guard_t *g)
{
    return g && g->m ? &g->m->value : NULL;
}

static uint64_t ns_to_ms_up(uint64_t ns)
{
    return (ns + 999999u) / 1000000u;
}

void al_thread_sleep_ns(uint64_t ns)
{
    uint64_t task = al__current_task_id();
    AL__EMIT_HERE(AL_EV_BLOCK_BEGIN, task, AL_BLOCK_THREAD_SLEEP, ns_to_ms_up(ns), NULL);
    al__mt_before_blocking(); /* let an idle sibling take our queue */
    struct timespec req = {.tv_sec = (time_t)(ns / 1000000000u),
                           .tv_nsec = (long)(ns % 1000000000u)};
    struct timespec rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
    AL__EMIT_HERE(AL_EV_BLOCK_END, task, AL_BLOCK_THREAD_SLEEP, 0, NULL);
}

void al_spin_ns(uint64_t ns)
{
    uint64_t task = al__current_task_id();
    AL__EMIT_HERE(AL_EV_BLOCK_BEGIN, task, AL_BLOCK_SPIN, ns_to_ms_up(ns), NULL);
    al__mt_before_blocking(); /* let an idle sibling take our queue */
    uint64_t deadline = al__now_ns() + ns;
    volatile uint64_t sink = 0;
    while (al__now_ns() < deadline) {
        for (int i = 0; i < 64; i++) /* real work between clock reads */
            sink = sink * 6364136223846793005u + 1442695040888963407u;
    }
    (void)sink;
    AL__EMIT_HERE(AL_EV_BLOCK_END, task, AL_BLOCK_SPIN, 0, NULL);
}

/* The file's bytes into a growing buffer; 0 or a negated errno / AL_ENOMEM. */
static int al__read_all(int fd, size_t max_len, char **data, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return AL_ENOMEM;
    for (;;) {
        if (cap - n < 2) {
            char *grown = cap * 2 > cap ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                return AL_ENOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max_len) {
            free(buf);
            return -EFBIG;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int al_std_read_file(const char *path, size_t max_len, char **data, size_t *len)
{
    if (!path || !data || !len)
        return AL_EINVAL;
    uint64_t task = al__current_task_id();
    AL__EMIT_HERE(AL_EV_BLOCK_BEGIN, task, AL_BLOCK_SYNC_IO, 0, NULL);
    al__mt_before_blocking(); /* let an idle sibling take our queue */
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC); /* a FIFO blocks here until a writer comes */
    if (fd < 0) {
        rc = -errno;
    } else {
        rc = al__read_all(fd, max_len, data, len);
        close(fd);
    }
    AL__EMIT_HERE(AL_EV_BLOCK_END, task, AL_BLOCK_SYNC_IO, 0, NULL);
    return rc;
}
