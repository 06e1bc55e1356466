/*
 * al_blocking.c — the blocking pool (see al_blocking.h).
 *
 * A job is either a blocking task (run with al__task_run, which polls its
 * future once: the future calls the user's function) or a plain function (a
 * block_in_place handoff). Threads are created on demand when no thread is
 * idle and the pool is below its cap. Every thread is joinable: one that
 * exits after its keep-alive marks its record `done`, and the next spawn (or
 * shutdown) joins it, so no thread outlives the pool.
 *
 * Everything in the pool struct is guarded by `lock`, except the atomics
 * read by metrics.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "al_blocking.h"

typedef struct al__bjob {
    struct al__bjob *next;
    struct al_task *task; /* a blocking task, or NULL for fn(arg) */
    void (*fn)(void *);
    void *arg;
} al__bjob_t;

typedef struct al__bthread {
    struct al__bthread *next;
    pthread_t tid;
    bool done; /* guarded by lock: the thread has left its loop */
    uint32_t number;
    al__blocking_t *pool;
} al__bthread_t;

struct al__blocking {
    al__sched_t sched; /* must stay first */
    al_runtime_t *rt;
    pthread_mutex_t lock;
    pthread_cond_t work;     /* signalled when a job is queued or at shutdown */
    pthread_cond_t exited;   /* signalled when a thread leaves its loop */
    al__bjob_t *head, *tail; /* the FIFO job queue */
    al__bthread_t *threads;  /* every thread not yet joined */
    uint32_t max_threads;
    uint32_t next_number;
    uint64_t keep_alive_ns;
    bool shutdown;
    atomic_uint num_threads; /* running their loop */
    atomic_uint num_idle;
    atomic_uint_fast64_t queue_len;
};

static void al__blocking_schedule(al__sched_t *s, struct al_task *t, bool is_yield);
static void al__blocking_release(al__sched_t *s, struct al_task *t)
{
    al__blocking_t *pool = (al__blocking_t *)s;
    al__owned_remove(&pool->rt->owned, t);
}
static const al__sched_vtable_t al__blocking_vtable = {al__blocking_schedule, al__blocking_release};

int al__blocking_new(al_runtime_t *rt, uint32_t max_threads, uint64_t keep_alive_ns,
                     al__blocking_t **out)
{
    al__blocking_t *p = calloc(1, sizeof *p);
    if (!p)
        return AL_ENOMEM;
    p->sched.vt = &al__blocking_vtable;
    p->sched.rt = rt;
    p->rt = rt;
    p->max_threads = max_threads;
    p->keep_alive_ns = keep_alive_ns;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->work, &ca);
    pthread_cond_init(&p->exited, &ca);
    pthread_condattr_destroy(&ca);
    *out = p;
    return 0;
}

al__sched_t *al__blocking_sched(al__blocking_t *pool) { return &pool->sched; }

static struct timespec al__mono_ts(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

static void *al__blocking_thread_main(void *arg)
{
    al__bthread_t *self = arg;
    al__blocking_t *p = self->pool;
    pthread_setname_np(pthread_self(), "al-blocking");
    al__tls.rt = p->rt; /* Handle::current works; block_on is allowed (not entered) */
    al__tls.entered = false;
    al__tls.worker_index = AL_EV_NOT_WORKER;
    AL__EMIT(p->rt, AL_EV_BLOCKING_THREAD_START, 0, self->number, 0, NULL);

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->shutdown) {
            atomic_fetch_add(&p->num_idle, 1);
            struct timespec until = al__mono_ts(al__now_ns() + p->keep_alive_ns);
            int rc = pthread_cond_timedwait(&p->work, &p->lock, &until);
            atomic_fetch_sub(&p->num_idle, 1);
            if (rc == ETIMEDOUT && !p->head)
                goto out; /* idle for keep_alive: leave */
        }
        if (!p->head)
            break; /* shut down and nothing left */
        al__bjob_t *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        atomic_fetch_sub(&p->queue_len, 1);
        pthread_mutex_unlock(&p->lock);
        if (job->task) {
            AL__EMIT(p->rt, AL_EV_BLOCKING_RUN, job->task->id, self->number, 0, NULL);
            al__task_run(job->task);
        } else {
            job->fn(job->arg);
        }
        free(job);
        pthread_mutex_lock(&p->lock);
    }
out:
    AL__EMIT(p->rt, AL_EV_BLOCKING_THREAD_EXIT, 0, self->number, 0, NULL);
    atomic_fetch_sub(&p->num_threads, 1);
    self->done = true;
    pthread_cond_broadcast(&p->exited);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Join threads that have exited (lock held; joining a done thread is quick). */
static void al__blocking_reap(al__blocking_t *p)
{
    for (al__bthread_t **pp = &p->threads; *pp;) {
        al__bthread_t *t = *pp;
        if (t->done) {
            pthread_join(t->tid, NULL);
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

/* Lock held. Start a thread if nobody idle can take the job. */
static int al__blocking_ensure_thread(al__blocking_t *p)
{
    if (atomic_load(&p->num_idle) > 0) {
        pthread_cond_signal(&p->work);
        return 0;
    }
    if (atomic_load(&p->num_threads) >= p->max_threads)
        return 0; /* at the cap: the job waits for a thread to free up */
    al__blocking_reap(p);
    al__bthread_t *t = calloc(1, sizeof *t);
    if (!t)
        return AL_ENOMEM;
    t->number = ++p->next_number;
    t->pool = p;
    atomic_fetch_add(&p->num_threads, 1);
    if (pthread_create(&t->tid, NULL, al__blocking_thread_main, t) != 0) {
        atomic_fetch_sub(&p->num_threads, 1);
        free(t);
        return atomic_load(&p->num_threads) > 0 ? 0 : -EAGAIN;
    }
    t->next = p->threads; /* list linkage is guarded by the lock we hold */
    p->threads = t;
    return 0;
}

static int al__blocking_push(al__blocking_t *p, al__bjob_t *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->shutdown) {
        pthread_mutex_unlock(&p->lock);
        return AL_ESHUTDOWN;
    }
    job->next = NULL;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    atomic_fetch_add(&p->queue_len, 1);
    int rc = al__blocking_ensure_thread(p);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int al__blocking_spawn_fn(al__blocking_t *p, void (*fn)(void *), void *arg)
{
    al__bjob_t *job = calloc(1, sizeof *job);
    if (!job)
        return AL_ENOMEM;
    job->fn = fn;
    job->arg = arg;
    int rc = al__blocking_push(p, job);
    if (rc == AL_ESHUTDOWN)
        free(job);
    return rc;
}

static void al__blocking_schedule(al__sched_t *s, struct al_task *t, bool is_yield)
{
    al__blocking_t *p = (al__blocking_t *)s;
    AL__EMIT(p->rt, AL_EV_TASK_SCHEDULE, t->id, AL_QUEUE_BLOCKING, 0, NULL);
    al__bjob_t *job = calloc(1, sizeof *job);
    if (!job || al__blocking_push(p, (job->task = t, job)) == AL_ESHUTDOWN) {
        free(job);
        al__task_ref_dec(t); /* shutdown cancels the task through the owned set */
    }
}

uint32_t al__blocking_shutdown(al__blocking_t *p, uint64_t deadline_ns)
{
    pthread_mutex_lock(&p->lock);
    p->shutdown = true;
    al__bjob_t *queued = p->head;
    p->head = p->tail = NULL;
    atomic_store(&p->queue_len, 0);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    /* Queued jobs never start: a task job's reference is dropped (the owned
     * set cancels the task), a handoff job leaves its core for the drain. */
    while (queued) {
        al__bjob_t *next = queued->next;
        if (queued->task)
            al__task_ref_dec(queued->task);
        free(queued);
        queued = next;
    }
    pthread_mutex_lock(&p->lock);
    struct timespec until = al__mono_ts(deadline_ns);
    while (atomic_load(&p->num_threads) > 0) {
        if (pthread_cond_timedwait(&p->exited, &p->lock, &until) == ETIMEDOUT)
            break;
    }
    al__blocking_reap(p);
    uint32_t left = atomic_load(&p->num_threads);
    pthread_mutex_unlock(&p->lock);
    return left;
}

void al__blocking_free(al__blocking_t *p)
{
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->exited);
    free(p);
}

void al__blocking_metrics(al__blocking_t *p, uint32_t *threads, uint32_t *idle,
                          uint64_t *queue_depth)
{
    *threads = atomic_load(&p->num_threads);
    *idle = atomic_load(&p->num_idle);
    *queue_depth = atomic_load(&p->queue_len);
}
