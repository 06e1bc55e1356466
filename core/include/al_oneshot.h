/*
 * al_oneshot.h — oneshot channel: one value, sent once, received once
 * (tokio::sync::oneshot; rt.sync.oneshot.channel() in Lua).
 *
 * Endpoints. al_oneshot_channel() returns one sender and one receiver; neither
 * can be cloned. Both point into one small shared allocation (32 bytes plus
 * the value: 40 bytes, a 48-byte malloc chunk, for a pointer-sized value), so
 * a million pending tasks each awaiting a oneshot stay cheap.
 *
 * Sender.
 *   al_oneshot_send(tx, value)  copies elem_size bytes from `value` and
 *       CONSUMES tx, whatever the result (as Tokio's send(self)): 0 when the
 *       value was stored; AL_ECLOSED when the receiver was dropped or closed
 *       first (pitfall E6): the value was not taken, the caller still owns
 *       what `value` points to ("the value is given back").
 *   al_oneshot_tx_drop(tx)      drop without sending: the receiver gets
 *       AL_ECLOSED.
 *   al_oneshot_tx_is_closed(tx) true once the receiver is closed or dropped.
 *
 * Receiver.
 *   recv is a sub-future (al_oneshot_recv_t: _init / _poll / _drop). It is
 *   AL_READY with res 0 and the value copied to `out`, or res AL_ECLOSED when
 *   the sender was dropped without sending (or the receiver was closed before
 *   any value arrived). One unit of coop budget per poll. The recv future
 *   holds no waiter node (the single receiver's waker lives in the shared
 *   allocation), so it may be moved freely; only the receiver handle must
 *   outlive it. Receiving twice gives AL_ECLOSED the second time.
 *   al_oneshot_try_recv(rx, out): 0, AL_EEMPTY (nothing yet), AL_ECLOSED.
 *   al_oneshot_rx_close(rx)  later sends fail; a value already sent can still
 *       be received.
 *   al_oneshot_rx_drop(rx)   close, then release; a value sent but never
 *       received is passed to drop_value.
 *
 * Ownership: the channel owns a value from a successful send until a receive
 * copies it out; if nobody receives it, drop_value (may be NULL) is called on
 * it when the channel is freed. A failed send never calls drop_value.
 *
 * Limits: elem_size 1..65535 (AL_EINVAL otherwise). The resource id is kept
 * in 40 bits of the state word (ids are unique for the first 2^40 resources).
 *
 * Events: RESOURCE_CREATE (AL_RES_ONESHOT) / RESOURCE_DROP, CHAN_SEND (len 1),
 * CHAN_RECV (len 0), CHAN_EMPTY (recv went Pending), CHAN_CLOSE (sender dropped
 * without sending, or receiver closed). Wakes: AL_WAKE_CHANNEL + the id.
 */
#ifndef AL_ONESHOT_H
#define AL_ONESHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "al_future.h"

typedef struct al_oneshot_tx al_oneshot_tx_t;
typedef struct al_oneshot_rx al_oneshot_rx_t;

#ifndef AL_CHAN_FN_DEFINED
#define AL_CHAN_FN_DEFINED
/* Called on a value a channel still owns when it is freed or overwritten. */
typedef void (*al_chan_drop_fn)(void *value);
/* Copy a value for one more reader (broadcast, watch); NULL: memcpy. */
typedef void (*al_chan_clone_fn)(void *dst, const void *src, size_t elem_size);
#endif

/* Errors: AL_EINVAL (bad elem_size, NULL out-pointers), AL_ENOMEM. */
int al_oneshot_channel(size_t elem_size, al_chan_drop_fn drop_value, al_oneshot_tx_t **tx,
                       al_oneshot_rx_t **rx);

int al_oneshot_send(al_oneshot_tx_t *tx, const void *value); /* consumes tx */
void al_oneshot_tx_drop(al_oneshot_tx_t *tx);                /* NULL: no-op */
bool al_oneshot_tx_is_closed(const al_oneshot_tx_t *tx);
uint64_t al_oneshot_tx_id(const al_oneshot_tx_t *tx);

typedef struct al_oneshot_recv {
    al_oneshot_rx_t *rx; /* borrowed: keep the receiver until the drop */
} al_oneshot_recv_t;

void al_oneshot_recv_init(al_oneshot_recv_t *op, al_oneshot_rx_t *rx);
/* AL_READY: *res is 0 (value in out) or AL_ECLOSED. AL_PENDING: woken when a
 * value is sent or the sender is dropped. */
al_poll_t al_oneshot_recv_poll(al_oneshot_recv_t *op, al_context_t *cx, void *out, int *res);
void al_oneshot_recv_drop(al_oneshot_recv_t *op); /* safe at any point */

int al_oneshot_try_recv(al_oneshot_rx_t *rx, void *out);
void al_oneshot_rx_close(al_oneshot_rx_t *rx);
void al_oneshot_rx_drop(al_oneshot_rx_t *rx); /* NULL: no-op */
uint64_t al_oneshot_rx_id(const al_oneshot_rx_t *rx);

#endif
