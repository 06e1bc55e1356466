/*
 * al_local_set.h — LocalSet: tasks that never leave one thread.
 *
 * A LocalSet owns "local" tasks (spawned with al_spawn_local while the set is
 * being driven). They are polled only by the thread that drives the set, so
 * their futures may hold thread-bound things. A set is driven from inside
 * some future's poll (typically block_on's main future on a current-thread
 * runtime) by al_local_set_run_until_poll, which polls the caller's inner
 * future with the set entered, then runs up to 61 ready local tasks.
 *
 *     static al_poll_t main_poll(void *f, al_context_t *cx, void *out) {
 *         struct my_main *m = f;
 *         return al_local_set_run_until_poll(m->set, cx, inner_poll, m);
 *     }
 *
 * Wakes of local tasks from the driving thread go to the set's queue; wakes
 * from other threads go to its remote queue and wake the driver's waker.
 * Freeing the set cancels every local task still alive.
 */
#ifndef AL_LOCAL_SET_H
#define AL_LOCAL_SET_H

#include "al_task.h"

typedef struct al_local_set al_local_set_t;

/* Errors: AL_ENOMEM. */
int al_local_set_new(al_local_set_t **out);
/* Cancel the local tasks still alive (their futures are dropped here), free. */
void al_local_set_free(al_local_set_t *ls);

/*
 * Spawn onto the LocalSet being driven on this thread. AL_ENOLOCALSET when no
 * set is being driven here (Tokio's "`spawn_local` called from outside of a
 * `task::LocalSet`"), AL_ENOMEM. On error the future is dropped.
 */
int al_spawn_local(const al_future_vtable_t *vt, const void *future_init,
                   const al_spawn_opts_t *opts, al_join_t **out);

/* Poll inner(arg, cx) with ls entered; then run ready local tasks. AL_READY
 * when inner is ready (local tasks left stay in the set). */
al_poll_t al_local_set_run_until_poll(al_local_set_t *ls, al_context_t *cx,
                                      al_poll_t (*inner)(void *arg, al_context_t *cx),
                                      void *arg);

/* Local tasks alive in the set. */
size_t al_local_set_len(const al_local_set_t *ls);

#endif
