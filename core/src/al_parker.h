/*
 * al_parker.h — private to the asynclab core: park a plain thread until a
 * waker wakes it (how block_on waits on a multi-thread runtime).
 *
 * The parker is heap-allocated and reference-counted because wakers cloned
 * from it may outlive the block_on call that created it (a future may leak a
 * waker; waking it later must stay harmless).
 */
#ifndef AL_PARKER_H
#define AL_PARKER_H

#include "al_internal.h"

typedef struct al__parker al__parker_t;

al__parker_t *al__parker_new(void); /* NULL on out of memory */
void al__parker_unref(al__parker_t *p);
/* A waker borrowing the caller's reference (clone it to keep it). */
al_waker_t al__parker_waker(al__parker_t *p);
/* Block until woken; returns at once if a wake came since the last park. */
void al__parker_park(al__parker_t *p);

#endif
