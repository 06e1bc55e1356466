/*
 * al_future.h — futures, wakers, the poll context and the cooperative budget.
 *
 * A future in C is a struct plus a poll function. Polling asks "can you make
 * progress?": the future either finishes (AL_READY, having written its output)
 * or returns AL_PENDING after arranging to be woken: it clones the waker it
 * finds in the context and stores it with whatever it waits on (a timer, a
 * socket, a lock's wait queue). When that thing becomes ready, it wakes the
 * waker, which schedules the task that owns the future to be polled again.
 *
 * The contract every future in asynclab follows (and that user futures must
 * follow, or they hang; that is pitfall D1, the lost waker):
 *   - AL_PENDING means a wake-up has been arranged, or the future is one the
 *     lesson wants to hang on purpose;
 *   - a future is polled again only after a wake (spurious polls are allowed
 *     and must be harmless);
 *   - after AL_READY, the future is not polled again, only dropped.
 *
 * Primitives in this library come as "sub-futures": a struct the caller
 * embeds in its own future, with _init / _poll / _drop functions (e.g.
 * al_sleep_t). A task's future composes them like Rust's async fn does.
 *
 * Wakers are a vtable + data pointer pair, like Rust's RawWaker. A waker
 * borrowed from the context is valid only during the poll; clone it to keep it.
 */
#ifndef AL_FUTURE_H
#define AL_FUTURE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum al_poll {
    AL_PENDING = 0, /* not finished; a wake-up has been arranged */
    AL_READY = 1,   /* finished; the output has been written */
    AL_PANIC = 2,   /* (task futures only) the task failed: see al_panic() */
} al_poll_t;

/* Why a waker was woken: recorded in the event stream ("woken by timer"). */
typedef enum al_wake_kind {
    AL_WAKE_OTHER = 0,
    AL_WAKE_TASK,     /* a task called wake directly (rt.future, yield) */
    AL_WAKE_TIMER,    /* a timer expired */
    AL_WAKE_IO,       /* a socket became ready */
    AL_WAKE_LOCK,     /* a mutex / rwlock / semaphore was released */
    AL_WAKE_CHANNEL,  /* a channel send / recv / close */
    AL_WAKE_NOTIFY,   /* Notify / Barrier / watch */
    AL_WAKE_JOIN,     /* a task the waiter joins finished */
    AL_WAKE_EXTERNAL, /* a thread outside the runtime */
    AL_WAKE_YIELD,    /* yield_now or a forced yield (coop budget) */
} al_wake_kind_t;

typedef struct al_wake_src {
    uint16_t kind;     /* al_wake_kind_t */
    uint64_t resource; /* id of the resource that woke (0 if none) */
} al_wake_src_t;

#define AL_WAKE_SRC(k, res) ((al_wake_src_t){.kind = (k), .resource = (res)})

typedef struct al_waker_vtable {
    /* Returns the data pointer of a new waker for the same target. */
    void *(*clone)(void *data);
    /* Wake and release this waker (consumes it). */
    void (*wake)(void *data, al_wake_src_t src);
    /* Wake, keep the waker. */
    void (*wake_by_ref)(void *data, al_wake_src_t src);
    /* Release without waking. */
    void (*drop)(void *data);
} al_waker_vtable_t;

typedef struct al_waker {
    const al_waker_vtable_t *vtable; /* NULL: the empty waker (no-op) */
    void *data;
} al_waker_t;

#define AL_WAKER_NONE ((al_waker_t){0})

/* Clone a waker (the empty waker clones to the empty waker). */
al_waker_t al_waker_clone(const al_waker_t *w);
/* Wake and release *w; *w becomes the empty waker. No-op on the empty waker. */
void al_waker_wake(al_waker_t *w, al_wake_src_t src);
/* Wake without releasing. */
void al_waker_wake_by_ref(const al_waker_t *w, al_wake_src_t src);
/* Release without waking; *w becomes the empty waker. */
void al_waker_drop(al_waker_t *w);
/* True when both wake the same target (used to skip re-cloning on re-poll). */
bool al_waker_will_wake(const al_waker_t *a, const al_waker_t *b);
static inline bool al_waker_is_none(const al_waker_t *w) { return w->vtable == 0; }
/* Replace *slot by a clone of *w unless it already wakes the same target. */
void al_waker_set(al_waker_t *slot, const al_waker_t *w);

struct al_runtime;
struct al_task;

/* What a poll function receives. Valid only during the poll. */
typedef struct al_context {
    al_waker_t waker;        /* borrowed; clone it to keep it */
    struct al_task *task;    /* the task being polled (NULL under block_on) */
    struct al_runtime *rt;   /* the runtime driving this poll */
    const char *panic_msg;   /* set by al_panic() */
} al_context_t;

/*
 * A task future fails ("panics") by returning al_panic(cx, "what went wrong"):
 * the message is copied, the future is dropped, and whoever joins the task gets
 * a join error of kind AL_JOIN_PANIC with that message. Returns AL_PANIC.
 */
al_poll_t al_panic(al_context_t *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Cooperative budget. A task poll starts with AL_COOP_BUDGET units (the LIFO
 * chain shares them). Every resource operation (channel, lock, semaphore,
 * timer, I/O, join) calls al_coop_poll_proceed() first: when the budget is
 * spent it arranges a yield-wake and returns false, and the operation returns
 * AL_PENDING; a task in a loop of always-ready operations thus still yields.
 * An operation that then ends up Pending gives the unit back (al_coop_refund),
 * as Tokio's RestoreOnPending does. Outside a task poll the budget is unlimited.
 */
#define AL_COOP_BUDGET 128
bool al_coop_poll_proceed(al_context_t *cx);
void al_coop_refund(void);
/* Units left in the current poll (-1: unconstrained). */
int al_coop_remaining(void);

/* A future any code can poll: a vtable describing a struct of future_size.
 * A spawned future (and its output) is stored 8-byte aligned. */
typedef struct al_future_vtable {
    const char *type_name; /* shows in traces ("lua task", "sleep"); may be NULL */
    /* Poll. On AL_READY, write output_size bytes to out. */
    al_poll_t (*poll)(void *fut, al_context_t *cx, void *out);
    /* Release what the future owns (wakers, registrations). Called exactly
     * once: after AL_READY / AL_PANIC, or when the task is cancelled. May be NULL. */
    void (*drop)(void *fut);
    /* Release what an output owns, when nobody takes it. May be NULL. */
    void (*drop_output)(void *out);
    uint32_t future_size;
    uint32_t output_size;
} al_future_vtable_t;

#endif
