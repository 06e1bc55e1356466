/*
 * al_wait_node.h — the intrusive waiter node every async sync primitive queues.
 *
 * A task that must wait for a lock, permits, a notification or a barrier does
 * not allocate: the sub-future it embeds in its own future holds one of these
 * nodes, and the primitive links the node into its FIFO wait queue. The queue
 * is doubly linked, so a waiter that is cancelled (its future dropped) unlinks
 * itself in O(1).
 *
 * Every field is private to the primitive that queues the node and is guarded
 * by that primitive's internal lock while the node is queued. Because the
 * queue points into the node, a sub-future that contains one must not move
 * once it has been polled, until it has been dropped [pins].
 */
#ifndef AL_WAIT_NODE_H
#define AL_WAIT_NODE_H

#include <stdatomic.h>
#include <stdint.h>

#include "al_future.h"

typedef struct al_wait_node {
    struct al_wait_node *prev, *next; /* links in the primitive's wait queue */
    al_waker_t waker;                 /* cloned from the last poll's context */
    uint32_t need;                    /* permits requested (semaphore-based primitives) */
    /* The primitive's own state machine. Written under the primitive's lock
     * (or by the owner while the node is not queued); atomic so the owner may
     * read it without the lock to skip locking when nothing is outstanding. */
    _Atomic uint32_t state;
} al_wait_node_t;

#endif
