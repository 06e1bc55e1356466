/*
 * al_event.h — the instrumentation events every scheduling decision emits.
 *
 * The runtime calls the installed hook (al_runtime_set_hook) synchronously on
 * the thread where the event happens. An event is a small fixed struct; the
 * meaning of `task`, `a`, `b` and `str` depends on the kind (table below).
 * `str` points to memory valid only during the call: copy it to keep it.
 *
 * `worker` is the index of the worker thread that emitted the event, or
 * AL_EV_NOT_WORKER for any other thread (block_on caller, blocking pool,
 * external thread).
 */
#ifndef AL_EVENT_H
#define AL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(name, task, a, b, str) — the last four describe the fields. */
#define AL_EVENT_MAP(X)                                                                            \
    X(RUNTIME_START, "-", "num workers", "flavor", "-")                                            \
    X(RUNTIME_SHUTDOWN, "-", "tasks cancelled", "-", "-")                                          \
    X(TASK_SPAWN, "new task", "parent task (0: none)", "kind (al_task_kind_t)", "name")            \
    X(TASK_SPAWN_LOCATION, "new task", "-", "-", "spawn location")                                 \
    X(TASK_SCHEDULE, "task", "queue (al_queue_kind_t)", "-", "-")                                  \
    X(POLL_BEGIN, "task", "-", "-", "-")                                                           \
    X(POLL_END, "task", "result (al_poll_end_t)", "coop budget left", "-")                         \
    X(TASK_END, "task", "how (al_join_kind_t)", "-", "panic message")                              \
    X(WAKE, "woken task", "waking task (0: none)", "src kind | self<<16 | by_ref<<17", "-")        \
    X(WAKER_CLONE, "task", "-", "-", "-")                                                          \
    X(WAKER_DROP, "task", "-", "-", "-")                                                           \
    X(STEAL, "-", "victim worker", "tasks stolen", "-")                                            \
    X(OVERFLOW, "-", "tasks moved to inject queue", "-", "-")                                      \
    X(SEARCH_BEGIN, "-", "-", "-", "-")                                                            \
    X(SEARCH_END, "-", "found work (0/1)", "-", "-")                                               \
    X(PARK, "-", "where (0 condvar, 1 driver)", "-", "-")                                          \
    X(UNPARK, "-", "why (al_unpark_reason_t)", "-", "-")                                           \
    X(BLOCK_BEGIN, "task", "what (al_block_kind_t)", "detail (ms, resource id)", "-")              \
    X(BLOCK_END, "task", "what (al_block_kind_t)", "-", "-")                                       \
    X(BLOCKING_THREAD_START, "-", "thread number", "-", "-")                                       \
    X(BLOCKING_THREAD_EXIT, "-", "thread number", "-", "-")                                        \
    X(BLOCKING_RUN, "task", "thread number", "-", "-")                                             \
    X(TIMER_REGISTER, "task", "timer id", "deadline (ns, runtime clock)", "-")                     \
    X(TIMER_FIRE, "task", "timer id", "-", "-")                                                    \
    X(TIMER_CANCEL, "task", "timer id", "-", "-")                                                  \
    X(IO_READY, "-", "resource id", "readiness bits (1 read, 2 write, 4 hup)", "-")                \
    X(RESOURCE_CREATE, "creator task", "resource id", "kind (al_resource_kind_t)", "name")         \
    X(RESOURCE_DROP, "-", "resource id", "-", "-")                                                 \
    X(LOCK_ACQUIRE, "task", "resource id", "-", "-")                                               \
    X(LOCK_CONTEND, "waiting task", "resource id", "holder task (0: unknown)", "-")                \
    X(LOCK_RELEASE, "task", "resource id", "-", "-")                                               \
    X(SEM_ACQUIRE, "task", "resource id", "permits", "-")                                          \
    X(SEM_RELEASE, "task", "resource id", "permits", "-")                                          \
    X(CHAN_SEND, "task", "resource id", "queue length after", "-")                                 \
    X(CHAN_RECV, "task", "resource id", "queue length after", "-")                                 \
    X(CHAN_FULL, "task", "resource id", "-", "-")                                                  \
    X(CHAN_EMPTY, "task", "resource id", "-", "-")                                                 \
    X(CHAN_CLOSE, "task", "resource id", "-", "-")                                                 \
    X(LINT, "task", "lint id", "-", "message")                                                     \
    X(USER_LOG, "task", "-", "-", "text")                                                          \
    X(SPAN_BEGIN, "task", "span id", "-", "name")                                                  \
    X(SPAN_END, "task", "span id", "-", "-")                                                       \
    X(CAPTION, "task", "-", "-", "narration text (none or empty: clear)")                          \
    X(HIGHLIGHT, "task", "what (al_highlight_kind_t; 0: clear all)", "its id", "-")                \
    X(MARKER, "task", "-", "-", "marker name")

#define AL__EV_ENUM(name, t, a, b, s) AL_EV_##name,
typedef enum al_event_kind { AL_EVENT_MAP(AL__EV_ENUM) AL_EV__COUNT } al_event_kind_t;
#undef AL__EV_ENUM

#define AL_EV_NOT_WORKER (-1)

typedef enum al_queue_kind {
    AL_QUEUE_LIFO = 0, /* the worker's LIFO slot */
    AL_QUEUE_LOCAL,    /* the back of the worker's local queue */
    AL_QUEUE_INJECT,   /* the global inject queue */
    AL_QUEUE_CURRENT,  /* a current-thread / LocalSet run queue */
    AL_QUEUE_BLOCKING, /* the blocking pool's queue */
} al_queue_kind_t;

typedef enum al_poll_end {
    AL_POLL_END_PENDING = 0,
    AL_POLL_END_READY,
    AL_POLL_END_PANICKED,
    AL_POLL_END_CANCELLED,
} al_poll_end_t;

typedef enum al_unpark_reason {
    AL_UNPARK_NOTIFIED = 0, /* another thread handed it work */
    AL_UNPARK_TIMER,
    AL_UNPARK_IO,
    AL_UNPARK_SPURIOUS,
    AL_UNPARK_SHUTDOWN,
} al_unpark_reason_t;

typedef enum al_block_kind {
    AL_BLOCK_THREAD_SLEEP = 0, /* std.thread.sleep */
    AL_BLOCK_STD_MUTEX,        /* std.sync.Mutex lock */
    AL_BLOCK_SPIN,             /* std.hint.spin */
    AL_BLOCK_IN_PLACE,         /* rt.task.block_in_place */
    AL_BLOCK_SYNC_IO,          /* std.io.* */
} al_block_kind_t;

typedef enum al_resource_kind {
    AL_RES_MUTEX = 0,
    AL_RES_RWLOCK,
    AL_RES_SEMAPHORE,
    AL_RES_NOTIFY,
    AL_RES_BARRIER,
    AL_RES_MPSC,
    AL_RES_ONESHOT,
    AL_RES_BROADCAST,
    AL_RES_WATCH,
    AL_RES_STD_MUTEX,
    AL_RES_TIMER,
    AL_RES_TCP_LISTENER,
    AL_RES_TCP_STREAM,
} al_resource_kind_t;

/* What a HIGHLIGHT event points at (rt.viz.highlight). NONE clears every
 * highlight; the others add one (a lesson clears, then adds, to replace). */
typedef enum al_highlight_kind {
    AL_HIGHLIGHT_NONE = 0,
    AL_HIGHLIGHT_TASK,     /* id: task id */
    AL_HIGHLIGHT_WORKER,   /* id: worker index */
    AL_HIGHLIGHT_RESOURCE, /* id: resource id */
} al_highlight_kind_t;

typedef struct al_event {
    uint64_t ts_ns;  /* CLOCK_MONOTONIC nanoseconds */
    uint64_t task;   /* task id, 0 if none */
    uint64_t a, b;   /* kind-specific, see AL_EVENT_MAP */
    const char *str; /* kind-specific, valid during the call; may be NULL */
    uint16_t kind;   /* al_event_kind_t */
    int16_t worker;  /* worker index or AL_EV_NOT_WORKER */
} al_event_t;

typedef void (*al_event_fn)(void *user, const al_event_t *ev);

/* "TASK_SPAWN" etc.; "?" for an unknown kind. */
const char *al_event_kind_name(unsigned kind);
/* The kind whose name is `name` (case-insensitive), or -1. */
int al_event_kind_from_name(const char *name, size_t len);
/* What the task / a / b / str fields mean for this kind ("-": unused), as in
 * AL_EVENT_MAP. NULL pointers are skipped. False for an unknown kind. */
bool al_event_kind_fields(unsigned kind, const char **task, const char **a, const char **b,
                          const char **str);

#endif
