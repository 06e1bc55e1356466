/*
 * al_watch.h — watch channel: one current value with a version counter
 * (tokio::sync::watch; rt.sync.watch.channel(v), rx:changed(), rx:borrow()
 * in Lua).
 *
 * The sender replaces the value; receivers do not queue values, they see the
 * latest one. Each receiver remembers the version it has seen; changed()
 * completes when a newer version exists (intermediate versions may be
 * skipped: only the latest value is kept).
 *
 *   al_watch_send(tx, v)     store v (version + 1), wake every changed()
 *                            waiter. AL_ECLOSED when no receiver exists: the
 *                            value is not stored and stays with the caller.
 *   al_watch_send_replace    store even without receivers (never fails).
 *   al_watch_borrow(rx, out) copy the current value out under the channel's
 *                            lock (clone_value, or memcpy when NULL); does not
 *                            mark it seen. _borrow_and_update marks it seen.
 *   changed() sub-future     AL_READY with *res = 0 when a version newer than
 *                            the receiver's is there (and marks it seen), or
 *                            AL_ECLOSED once the sender is dropped and nothing
 *                            newer is left to see. [pins: do not move between
 *                            the first poll and the drop.] One unit of coop
 *                            budget per poll. Wakes: AL_WAKE_NOTIFY + the id.
 *   al_watch_tx_drop         closes: waiting changed() futures get AL_ECLOSED.
 *   al_watch_tx_subscribe / al_watch_rx_clone: more receivers (a subscribed
 *                            receiver has seen the current version; a clone
 *                            has seen what the original has).
 *
 * Ownership: the channel owns the current value; the previous one is passed to
 * drop_value (may be NULL) when replaced, the last one when the channel is
 * freed. Values handed out by borrow are the caller's (made by clone_value).
 *
 * Events: RESOURCE_CREATE (AL_RES_WATCH) / RESOURCE_DROP, CHAN_SEND (b:
 * version), CHAN_RECV (changed() completed; b: version), CHAN_EMPTY, CHAN_CLOSE.
 */
#ifndef AL_WATCH_H
#define AL_WATCH_H

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

typedef struct al_watch_tx al_watch_tx_t;
typedef struct al_watch_rx al_watch_rx_t;

/* `initial` is copied in (the channel owns it). Errors: AL_EINVAL (elem_size
 * 0, NULL arguments), AL_ENOMEM. */
int al_watch_channel(const void *initial, size_t elem_size, al_chan_clone_fn clone_value,
                     al_chan_drop_fn drop_value, al_watch_tx_t **tx, al_watch_rx_t **rx);

int al_watch_send(al_watch_tx_t *tx, const void *value);
void al_watch_send_replace(al_watch_tx_t *tx, const void *value);
void al_watch_tx_drop(al_watch_tx_t *tx);                /* the one sender; NULL: no-op */
al_watch_rx_t *al_watch_tx_subscribe(al_watch_tx_t *tx); /* NULL: out of memory */
size_t al_watch_receiver_count(const al_watch_tx_t *tx);
uint64_t al_watch_tx_id(const al_watch_tx_t *tx);

al_watch_rx_t *al_watch_rx_clone(al_watch_rx_t *rx); /* NULL: out of memory */
void al_watch_rx_drop(al_watch_rx_t *rx);            /* NULL: no-op */
void al_watch_borrow(al_watch_rx_t *rx, void *out);
void al_watch_borrow_and_update(al_watch_rx_t *rx, void *out);
/* True when a version newer than the one this receiver saw exists. */
bool al_watch_has_changed(const al_watch_rx_t *rx);
uint64_t al_watch_version(const al_watch_rx_t *rx); /* the channel's current version */

typedef struct al_watch_changed {
    al_watch_rx_t *rx; /* borrowed: keep the receiver until the drop */
    al_wait_node_t node;
} al_watch_changed_t;

void al_watch_changed_init(al_watch_changed_t *op, al_watch_rx_t *rx);
al_poll_t al_watch_changed_poll(al_watch_changed_t *op, al_context_t *cx, int *res);
void al_watch_changed_drop(al_watch_changed_t *op); /* safe at any point; idempotent */

#endif
