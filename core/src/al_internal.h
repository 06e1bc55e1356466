/*
 * al_internal.h — private to the asynclab core: shared helpers and the
 * per-thread runtime context. Nothing here is part of the public contract.
 *
 * Naming: public functions are al_<module>_*, private cross-file functions
 * al__<module>_* (like libuv's uv__), file-local ones are static.
 */
#ifndef AL_INTERNAL_H
#define AL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "al_error.h"
#include "al_event.h"
#include "al_future.h"
#include "al_runtime.h"

#define AL_LIKELY(x) __builtin_expect(!!(x), 1)
#define AL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define AL_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define AL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define AL_CACHELINE 64

/* An invariant the runtime cannot continue without: print where, then abort.
 * For programmer mistakes inside the core only; user mistakes get error codes. */
#define AL_EXPECT(cond)                                                                            \
    do {                                                                                           \
        if (AL_UNLIKELY(!(cond))) {                                                                \
            fprintf(stderr, "asynclab: internal invariant failed: %s (%s:%d)\n", #cond, __FILE__,  \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- locks ---- */

#include <pthread.h>
/* A mutex for short critical sections on hot paths (inject queue, owned
 * set): glibc's adaptive mutex spins briefly before sleeping in the kernel,
 * which under contention between workers costs far less than a futex wait. */
void al__mutex_init_adaptive(pthread_mutex_t *m);

/* ---- clock ---- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t al__now_ns(void);

/* ---- per-thread context ---- */

struct al_task;
struct al__worker;

/*
 * Who this thread is. Written only by the thread itself; read by it (and by
 * nobody else). `rt` is the runtime whose handle is current (spawn, timers and
 * sockets use it); `entered` means this thread drives tasks of it right now,
 * where block_on would nest (workers, block_on callers; not blocking threads).
 */
typedef struct al__tls {
    al_runtime_t *rt;           /* runtime this thread is inside, or NULL */
    bool entered;               /* driving tasks: block_on here would nest (AL_ENESTED) */
    struct al__worker *worker;  /* multi-thread worker this thread runs as, or NULL */
    void *sched_local;          /* current-thread / LocalSet scheduler driven here, or NULL */
    struct al_task *task;       /* task being polled now, or NULL */
    int coop;                   /* budget units left in this poll; -1: unconstrained */
    int worker_index;           /* worker index or AL_EV_NOT_WORKER */
} al__tls_t;

extern _Thread_local al__tls_t al__tls;

/* ---- instrumentation ---- */

/*
 * Every al_runtime starts with this slot, so hook points can test it without
 * knowing the rest of the runtime struct. fn is read with a relaxed load: the
 * branch on it is the whole cost of an unobserved hook point.
 */
typedef struct al__hook_slot {
    _Atomic(al_event_fn) fn;
    void *_Atomic user;
} al__hook_slot_t;

void al__emit(al_runtime_t *rt, al_event_kind_t kind, uint64_t task, uint64_t a, uint64_t b,
              const char *str);

static inline int al__hooked(const al_runtime_t *rt)
{
    return rt && atomic_load_explicit(&((const al__hook_slot_t *)rt)->fn, memory_order_relaxed);
}

/* Emit an event on rt's hook, if one is installed. */
#define AL__EMIT(rt, kind, task, a, b, str)                                                        \
    do {                                                                                           \
        al_runtime_t *al__r = (rt);                                                                \
        if (AL_UNLIKELY(al__hooked(al__r)))                                                        \
            al__emit(al__r, (kind), (task), (a), (b), (str));                                      \
    } while (0)

/* Emit on the runtime this thread is in (resources are not tied to one). */
#define AL__EMIT_HERE(kind, task, a, b, str) AL__EMIT(al__tls.rt, kind, task, a, b, str)

/* The id of the task polled on this thread (0 if none). */
uint64_t al__current_task_id(void);

/* A fresh resource id (mutexes, channels, timers, sockets), unique per process. */
uint64_t al__resource_id_next(void);

/* ---- drivers of the current runtime ---- */

struct al__time;
struct al__io;
struct al__driver;

/*
 * The time / I/O driver of the runtime this thread is in. Errors, in this
 * order: AL_ENORUNTIME (not inside a runtime), AL_ESHUTDOWN (it is shutting
 * down), AL_ETIMEDISABLED / AL_EIODISABLED (built without the driver).
 */
int al__context_time(struct al__time **out);
int al__context_io(struct al__io **out);
struct al__time *al__runtime_time(al_runtime_t *rt); /* NULL when disabled */
struct al__io *al__runtime_io(al_runtime_t *rt);     /* NULL when disabled */
struct al__driver *al__runtime_driver(al_runtime_t *rt);

#endif
