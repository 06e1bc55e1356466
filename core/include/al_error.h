/*
 * al_error.h — error codes of the asynclab runtime.
 *
 * Every fallible function returns an int: 0 (AL_OK) on success, a negative
 * code on failure. Codes below -1000 are asynclab's own (the table below);
 * other negative values are a negated errno from the OS (-ECONNREFUSED, ...),
 * as libuv does. al_strerror() gives a message for both kinds.
 *
 * The context errors carry the same wording as Tokio's (runtime-reference.md),
 * naming asynclab instead, because the lessons quote them.
 */
#ifndef AL_ERROR_H
#define AL_ERROR_H

/* X(name, message). The order fixes the numeric values; append only. */
#define AL_ERRNO_MAP(X)                                                                            \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOMEM, "out of memory")                                                                     \
    X(ENESTED,                                                                                     \
      "Cannot start a runtime from within a runtime. This happens because a function (like "       \
      "`block_on`) attempted to block the current thread while the thread is being used to drive " \
      "asynchronous tasks.")                                                                       \
    X(ENORUNTIME,                                                                                  \
      "there is no reactor running, must be called from the context of an asynclab runtime")      \
    X(ETIMEDISABLED, "An asynclab runtime context was found, but timers are disabled. Call "       \
                     "`enable_time` on the runtime builder to enable timers.")                     \
    X(EIODISABLED, "An asynclab runtime context was found, but IO is disabled. Call `enable_io` "  \
                   "on the runtime builder to enable IO.")                                         \
    X(ESHUTDOWN, "An asynclab runtime context was found, but it is being shutdown.")               \
    X(EDROPINASYNC,                                                                                \
      "Cannot drop a runtime in a context where blocking is not allowed. This happens when a "     \
      "runtime is dropped from within an asynchronous context.")                                   \
    X(ENOLOCALSET, "`spawn_local` called from outside of a `task::LocalSet`")                      \
    X(ENOTMULTI, "can call blocking only when running on the multi-threaded runtime")              \
    X(EJOINED, "the task's output was already taken (a JoinHandle can be awaited once)")           \
    X(ECANCELLED, "task was cancelled")                                                            \
    X(EPANIC, "task panicked")                                                                     \
    X(ETIMEDOUT, "deadline has elapsed")                                                           \
    X(ECLOSED, "channel closed")                                                                   \
    X(EFULL, "channel full")                                                                       \
    X(EEMPTY, "channel empty")                                                                     \
    X(ELAGGED, "receiver lagged behind; messages were lost")                                       \
    X(EWOULDBLOCK, "the operation would have to wait")                                             \
    X(ENOTHELD, "the lock or permit is not held (released twice?)")                                \
    X(EWORKERS, "worker_threads must be between 1 and 1024")                                       \
    X(EBADSTATE, "the object is in a state where this operation is not allowed")                 \
    X(EBUSY, "the runtime already has an event hook or a recording stream")                       \
    X(EFORMAT, "not a valid asynclab trace (damaged or not a trace file)")                         \
    X(EVERSION, "the trace was written by a newer asynclab (unsupported format version)")          \
    X(ETRUNCATED, "the trace ends in the middle of a record (truncated, or still being written)")

enum { AL_OK = 0, AL__ERR_BASE = -1000 };

/* Codes are AL__ERR_BASE - 1 - index in the table: AL_EINVAL = -1001, ... */
#define AL__ERR_DECL(name, msg) AL__IDX_##name,
enum { AL_ERRNO_MAP(AL__ERR_DECL) AL__ERR_COUNT };
#undef AL__ERR_DECL
#define AL__ERR_CODE(name, msg) AL_##name = AL__ERR_BASE - 1 - AL__IDX_##name,
enum { AL_ERRNO_MAP(AL__ERR_CODE) };
#undef AL__ERR_CODE

/* A message for any code (asynclab's own, or a negated errno). Never NULL. */
const char *al_strerror(int code);
/* The code's name ("AL_ECLOSED", "ECONNREFUSED"); "AL_OK" for 0. Never NULL. */
const char *al_err_name(int code);

#endif
