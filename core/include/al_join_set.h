/*
 * al_join_set.h — JoinSet: a set of spawned tasks, awaited in the order they
 * finish.
 *
 * join_next does not poll every handle: each member's JoinHandle is given a
 * waker that, when its task finishes, moves the member to a "ready" list and
 * wakes whoever waits in join_next. Freeing the set aborts every task still
 * in it (the structured-concurrency fix for task leaks, pitfall E1).
 *
 * One task (or thread) at a time may call join_next on a set.
 */
#ifndef AL_JOIN_SET_H
#define AL_JOIN_SET_H

#include "al_task.h"

typedef struct al_join_set al_join_set_t;

int al_join_set_new(al_join_set_t **out); /* AL_ENOMEM */
/* Abort every member still running, release everything. */
void al_join_set_free(al_join_set_t *set);

/* Spawn (as al_spawn) into the set. Errors as al_spawn. */
int al_join_set_spawn(al_join_set_t *set, struct al_runtime *rt, const al_future_vtable_t *vt,
                      const void *future_init, const al_spawn_opts_t *opts);

/*
 * Wait for the next member to finish. AL_READY with *id, *res and (on
 * AL_JOIN_OK) the output in out; or AL_READY with *id = 0 when the set is
 * empty. res->panic_msg is valid until the next call on the set.
 */
al_poll_t al_join_set_join_next_poll(al_join_set_t *set, al_context_t *cx, void *out,
                                     uint64_t *id, al_join_result_t *res);
size_t al_join_set_len(const al_join_set_t *set);
void al_join_set_abort_all(al_join_set_t *set);

#endif
