/*
 * al_std_blocking.h — the blocking world, for committing the pitfalls on
 * purpose (std.sync.Mutex, std.thread.sleep, std.hint.spin, std.io.read_file
 * in Lua).
 *
 * Everything here blocks or busies the OS THREAD that calls it, never just
 * the task: called from a task, it freezes the worker that polls the task and
 * every task queued behind it (pitfalls A1, A2, B1, B4). Each blocking span is
 * reported as BLOCK_BEGIN / BLOCK_END (al_block_kind_t) so the visualizer can
 * paint the worker lane. All of it works inside a runtime (events go to its
 * hook) and outside one (no events).
 *
 * Std mutex (std::sync::Mutex): lock() blocks the calling thread until the
 * mutex is free. The guard may be held across an await, and may therefore be
 * unlocked from another worker thread than the one that locked it (the task
 * may migrate); this mutex allows that. Not fair, not reentrant: locking it
 * again from the holder blocks that thread forever, as a real deadlock does.
 *
 * Events: RESOURCE_CREATE (AL_RES_STD_MUTEX) / RESOURCE_DROP; when lock()
 * must wait: LOCK_CONTEND (b = holder task) then BLOCK_BEGIN (a =
 * AL_BLOCK_STD_MUTEX, b = mutex id) ... BLOCK_END; then LOCK_ACQUIRE;
 * LOCK_RELEASE on unlock. Sleep and spin: BLOCK_BEGIN (a = AL_BLOCK_THREAD_SLEEP
 * / AL_BLOCK_SPIN, b = duration in ms, rounded up) ... BLOCK_END.
 */
#ifndef AL_STD_BLOCKING_H
#define AL_STD_BLOCKING_H

#include <stdbool.h>
#include <stdint.h>

typedef struct al_std_mutex al_std_mutex_t;

/* Proof of holding a std mutex; {0} is the empty guard. Holds a reference on
 * the mutex until unlocked. */
typedef struct al_std_mutex_guard {
    al_std_mutex_t *m; /* NULL once unlocked */
} al_std_mutex_guard_t;

/* Errors: AL_EINVAL (out NULL), AL_ENOMEM. `value` is an opaque slot;
 * `name` may be NULL and is copied. One reference. */
int al_std_mutex_new(void *value, const char *name, al_std_mutex_t **out);
al_std_mutex_t *al_std_mutex_ref(al_std_mutex_t *m);
void al_std_mutex_unref(al_std_mutex_t *m); /* last reference frees; NULL: no-op */
uint64_t al_std_mutex_id(const al_std_mutex_t *m);
const char *al_std_mutex_name(const al_std_mutex_t *m);
bool al_std_mutex_is_locked(const al_std_mutex_t *m);  /* snapshot */
uint64_t al_std_mutex_holder(const al_std_mutex_t *m); /* snapshot; 0: none/outside a task */

/* Lock, BLOCKING the calling OS thread while another holder has it.
 * 0 (*g holds it), AL_EINVAL on NULL arguments. */
int al_std_mutex_lock(al_std_mutex_t *m, al_std_mutex_guard_t *g);
/* Without blocking: 0 or AL_EWOULDBLOCK. */
int al_std_mutex_try_lock(al_std_mutex_t *m, al_std_mutex_guard_t *g);
/* Unlock (from any thread). 0, or AL_ENOTHELD when already unlocked. */
int al_std_mutex_guard_unlock(al_std_mutex_guard_t *g);
/* The value slot, or NULL when g holds nothing. */
void **al_std_mutex_guard_value(const al_std_mutex_guard_t *g);

/* Block the calling thread for ns nanoseconds (nanosleep; resumed after
 * signals until the full time has passed). */
void al_thread_sleep_ns(uint64_t ns);
/* Burn CPU on the calling thread for ns nanoseconds, never yielding. */
void al_spin_ns(uint64_t ns);

/* Read the whole file at path with plain read(2) calls, BLOCKING the calling
 * thread until done (synchronous I/O in a task: pitfall A3). A FIFO or a
 * slow device blocks for as long as its writer takes. On success *data (a
 * NUL-terminated malloc'd copy, free it) and *len. Errors: AL_EINVAL, a
 * negated errno (-ENOENT, -EACCES, -EISDIR, ...; -EFBIG past max_len
 * bytes), AL_ENOMEM. Events: BLOCK_BEGIN (a = AL_BLOCK_SYNC_IO) ... BLOCK_END. */
int al_std_read_file(const char *path, size_t max_len, char **data, size_t *len);

#endif
