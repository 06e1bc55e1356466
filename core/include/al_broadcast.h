/*
 * al_broadcast.h — broadcast channel: every receiver sees every value sent
 * after it subscribed (tokio::sync::broadcast; rt.sync.broadcast.channel(cap)
 * and tx:subscribe() in Lua).
 *
 * The channel keeps the last `capacity` values in a ring. A receiver has its
 * own cursor. A receiver that falls more than `capacity` values behind has
 * lost the overwritten ones: its next recv reports AL_ELAGGED once, with the
 * number skipped, and the receiver continues from the oldest value still kept.
 * Sending never waits: a slow receiver cannot block the sender (that is the
 * lag). Unlike Tokio, the capacity is used as given (not rounded up to a power
 * of two).
 *
 * Values: elem_size bytes each. recv copies a value out for its receiver with
 * clone_value(dst, src, elem_size) (NULL: memcpy), so the ring keeps its copy
 * for the other receivers. drop_value (may be NULL) is called on a kept value
 * when it is overwritten by a newer one or when the channel is freed. A
 * failed send (AL_ECLOSED: no receiver exists) does not take the value.
 *
 * Endpoints (handles usable from any thread):
 *   senders: al_broadcast_tx_clone / _tx_drop (the last sender's drop closes
 *     the channel: receivers drain what they have not seen, then AL_ECLOSED);
 *   receivers: al_broadcast_tx_subscribe (a new receiver starting at the next
 *     value sent), al_broadcast_rx_clone (a receiver at the same position),
 *     al_broadcast_rx_drop. Each receiver is its own allocation; one receiver
 *     must be used by one task at a time.
 *
 * recv is a sub-future [pins: do not move it between its first poll and its
 * drop]: AL_READY with *res = 0 (value in out), AL_ELAGGED (*lagged = values
 * skipped; nothing in out) or AL_ECLOSED. One unit of coop budget per poll.
 * Wakes: AL_WAKE_CHANNEL + the channel id; a send wakes every waiting receiver.
 *
 * Events: RESOURCE_CREATE (AL_RES_BROADCAST) / RESOURCE_DROP, CHAN_SEND (b:
 * values kept), CHAN_RECV (b: values this receiver has not seen yet),
 * CHAN_EMPTY, CHAN_CLOSE.
 */
#ifndef AL_BROADCAST_H
#define AL_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_future.h"
#include "al_wait_node.h"

#ifndef AL_CHAN_FN_DEFINED
#define AL_CHAN_FN_DEFINED
/* Called on a value a channel still owns when it is freed or overwritten. */
typedef void (*al_chan_drop_fn)(void *value);
/* Copy a value for one more reader (broadcast, watch); NULL: memcpy. */
typedef void (*al_chan_clone_fn)(void *dst, const void *src, size_t elem_size);
#endif

typedef struct al_broadcast_tx al_broadcast_tx_t;
typedef struct al_broadcast_rx al_broadcast_rx_t;

/* Errors: AL_EINVAL (capacity 0, elem_size 0, NULL outs), AL_ENOMEM. */
int al_broadcast_channel(size_t capacity, size_t elem_size, al_chan_clone_fn clone_value,
                         al_chan_drop_fn drop_value, al_broadcast_tx_t **tx,
                         al_broadcast_rx_t **rx);

/* 0, or AL_ECLOSED when there is no receiver (the value is not taken).
 * *receivers (may be NULL) gets the number of receivers that will see it. */
int al_broadcast_send(al_broadcast_tx_t *tx, const void *value, size_t *receivers);
al_broadcast_tx_t *al_broadcast_tx_clone(al_broadcast_tx_t *tx);
void al_broadcast_tx_drop(al_broadcast_tx_t *tx); /* NULL: no-op */
/* A new receiver that sees values sent from now on. NULL when out of memory. */
al_broadcast_rx_t *al_broadcast_tx_subscribe(al_broadcast_tx_t *tx);
size_t al_broadcast_receiver_count(const al_broadcast_tx_t *tx);
uint64_t al_broadcast_tx_id(const al_broadcast_tx_t *tx);

al_broadcast_rx_t *al_broadcast_rx_clone(al_broadcast_rx_t *rx); /* NULL: out of memory */
void al_broadcast_rx_drop(al_broadcast_rx_t *rx);                /* NULL: no-op */
/* 0 (value in out), AL_EEMPTY, AL_ELAGGED (*lagged set), AL_ECLOSED. */
int al_broadcast_try_recv(al_broadcast_rx_t *rx, void *out, uint64_t *lagged);
/* Values sent that this receiver has not seen yet (including lost ones). */
uint64_t al_broadcast_rx_len(const al_broadcast_rx_t *rx);

typedef struct al_broadcast_recv {
    al_broadcast_rx_t *rx; /* borrowed: keep the receiver until the drop */
    al_wait_node_t node;   /* queued while waiting for a value */
} al_broadcast_recv_t;

void al_broadcast_recv_init(al_broadcast_recv_t *op, al_broadcast_rx_t *rx);
al_poll_t al_broadcast_recv_poll(al_broadcast_recv_t *op, al_context_t *cx, void *out, int *res,
                                 uint64_t *lagged);
void al_broadcast_recv_drop(al_broadcast_recv_t *op); /* safe at any point; idempotent */

#endif
