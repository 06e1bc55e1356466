/*
 * al_mpsc.h — multi-producer, single-consumer channels, bounded and unbounded
 * (tokio::sync::mpsc; rt.sync.mpsc.channel(cap) / unbounded_channel() in Lua).
 *
 * Values are elem_size bytes each, copied in by send and out by recv.
 *
 * Endpoints (reference-counted handles, usable from any thread):
 *   al_mpsc_tx_clone(tx)  another sender (returns tx itself: senders share one
 *                         handle pointer and a count of live senders);
 *   al_mpsc_tx_drop(tx)   one sender fewer; when the last one goes the channel
 *                         is closed for reading: the receiver drains what is
 *                         buffered, then gets AL_ECLOSED (end of stream);
 *   al_mpsc_rx_close(rx)  stop accepting: every send (new or waiting) fails
 *                         with AL_ECLOSED; buffered values can still be drained,
 *                         then recv gives AL_ECLOSED;
 *   al_mpsc_rx_drop(rx)   close, and drop every buffered value at once.
 * The channel is freed when the receiver and every sender are dropped.
 *
 * Sending (bounded: at most `capacity` values buffered).
 *   A send first reserves a slot, then pushes its value. When the channel is
 *   full, or other senders already wait, it queues (FIFO: slots freed by recv
 *   go to the longest-waiting sender first) and is woken when a slot has been
 *   reserved for it; its next poll pushes. To avoid one wake per message on a
 *   busy channel, once senders queue, freed slots are handed to them in
 *   batches: when capacity/16 (1..64) slots are free, or when the buffer ran
 *   empty; with capacity < 32 every freed slot is granted at once. A woken
 *   sender's next sends then usually find room without queuing. A waiting send that is cancelled
 *   (dropped) hands a slot reserved for it to the next waiter: no capacity is
 *   ever lost. Unbounded channels never make a send wait (pitfall E7: their
 *   backlog can grow without limit; watch al_mpsc_len).
 *   After the receiver is gone (closed or dropped), send fails with AL_ECLOSED
 *   (pitfall E6) and the value stays with the caller; drop_value is never
 *   called for a failed send.
 *
 * Sub-futures [pins: a send future must not move between its first poll and
 * its drop; the recv future may move]. Each poll costs one unit of coop budget.
 *   al_mpsc_send_t: AL_READY with *res = 0 (sent), AL_ECLOSED, or AL_ENOMEM
 *     (an unbounded ring could not grow). `value` is
 *     read at the poll that pushes it, so it must stay valid until the future
 *     is Ready or dropped.
 *   al_mpsc_recv_t: AL_READY with *res = 0 (value in out) or AL_ECLOSED (end
 *     of stream). AL_PENDING: woken by a send, the last sender's drop, or close.
 *   Wakes: AL_WAKE_CHANNEL + the channel id. The receiver is woken only when it
 *   is actually waiting (not once per message).
 *
 * Non-blocking variants: al_mpsc_try_send (0, AL_EFULL, AL_ECLOSED; AL_EFULL
 * also when senders are queued, so try_send never overtakes them; AL_ENOMEM
 * if the ring cannot grow) and
 * al_mpsc_try_recv (0, AL_EEMPTY, AL_ECLOSED).
 *
 * Ownership: the channel owns a value from a successful send until recv copies
 * it out; values still buffered when the receiver is dropped are passed to
 * drop_value (may be NULL).
 *
 * Events: RESOURCE_CREATE (AL_RES_MPSC, name "mpsc" or "mpsc-unbounded") /
 * RESOURCE_DROP, CHAN_SEND / CHAN_RECV (b: queue length after), CHAN_FULL (a
 * send had to wait), CHAN_EMPTY (recv went Pending), CHAN_CLOSE (rx close, or
 * last sender dropped).
 */
#ifndef AL_MPSC_H
#define AL_MPSC_H

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

typedef struct al_mpsc_tx al_mpsc_tx_t;
typedef struct al_mpsc_rx al_mpsc_rx_t;

/* Bounded channel. Errors: AL_EINVAL (capacity 0, elem_size 0, NULL outs),
 * AL_ENOMEM. */
int al_mpsc_channel(size_t capacity, size_t elem_size, al_chan_drop_fn drop_value,
                    al_mpsc_tx_t **tx, al_mpsc_rx_t **rx);
/* Unbounded channel. Errors as above (no capacity). */
int al_mpsc_unbounded_channel(size_t elem_size, al_chan_drop_fn drop_value, al_mpsc_tx_t **tx,
                              al_mpsc_rx_t **rx);

al_mpsc_tx_t *al_mpsc_tx_clone(al_mpsc_tx_t *tx);
void al_mpsc_tx_drop(al_mpsc_tx_t *tx);            /* NULL: no-op */
bool al_mpsc_tx_is_closed(const al_mpsc_tx_t *tx); /* receiver closed or dropped */
uint64_t al_mpsc_tx_id(const al_mpsc_tx_t *tx);
int al_mpsc_try_send(al_mpsc_tx_t *tx, const void *value);

void al_mpsc_rx_close(al_mpsc_rx_t *rx);
void al_mpsc_rx_drop(al_mpsc_rx_t *rx); /* NULL: no-op */
uint64_t al_mpsc_rx_id(const al_mpsc_rx_t *rx);
int al_mpsc_try_recv(al_mpsc_rx_t *rx, void *out);

/* Values buffered now (a snapshot, readable from any thread without locking). */
size_t al_mpsc_len(const al_mpsc_rx_t *rx);
size_t al_mpsc_tx_len(const al_mpsc_tx_t *tx);
/* The bound; 0 for an unbounded channel. */
size_t al_mpsc_capacity(const al_mpsc_tx_t *tx);

typedef struct al_mpsc_send {
    al_mpsc_tx_t *tx;    /* borrowed: keep the sender until the drop */
    const void *value;   /* read when pushed */
    al_wait_node_t node; /* queued while waiting for capacity */
} al_mpsc_send_t;

void al_mpsc_send_init(al_mpsc_send_t *op, al_mpsc_tx_t *tx, const void *value);
al_poll_t al_mpsc_send_poll(al_mpsc_send_t *op, al_context_t *cx, int *res);
void al_mpsc_send_drop(al_mpsc_send_t *op); /* safe at any point; idempotent */

typedef struct al_mpsc_recv {
    al_mpsc_rx_t *rx; /* borrowed: keep the receiver until the drop */
    bool waiting;     /* this future registered the receiver's waker */
} al_mpsc_recv_t;

void al_mpsc_recv_init(al_mpsc_recv_t *op, al_mpsc_rx_t *rx);
al_poll_t al_mpsc_recv_poll(al_mpsc_recv_t *op, al_context_t *cx, void *out, int *res);
void al_mpsc_recv_drop(al_mpsc_recv_t *op); /* safe at any point; idempotent */

#endif
