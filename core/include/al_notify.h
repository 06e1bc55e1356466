/*
 * al_notify.h — Notify: wake one task or all waiting tasks, no data
 * (tokio::sync::Notify; rt.sync.Notify in Lua).
 *
 *   notify_one      wakes the longest-waiting notified() (FIFO). When nobody
 *                   waits, it stores ONE permit (several calls still store
 *                   one): the next notified() completes at once, consuming it.
 *   notify_waiters  wakes every notified() that exists at the time of the
 *                   call (even one created but not yet polled), and stores
 *                   nothing.
 *
 * A notified() future that was chosen by notify_one but is dropped before
 * seeing it passes the notification on (to the next waiter, or as the stored
 * permit): a cancelled waiter never swallows a notify_one.
 *
 * Events: RESOURCE_CREATE (AL_RES_NOTIFY) / RESOURCE_DROP. Wakes carry
 * AL_WAKE_NOTIFY and the notify's id.
 */
#ifndef AL_NOTIFY_H
#define AL_NOTIFY_H

#include <stdint.h>

#include "al_future.h"
#include "al_wait_node.h"

typedef struct al_notify al_notify_t;

/* A notified() future: embed it [pins: do not move between the first poll
 * and the drop]. Fields are private. */
typedef struct al_notified {
    al_notify_t *n; /* borrowed: keep your reference until the drop */
    uint64_t gen;   /* notify_waiters calls seen at init */
    al_wait_node_t node;
} al_notified_t;

/* Errors: AL_EINVAL (out NULL), AL_ENOMEM. `name` may be NULL; copied. */
int al_notify_new(const char *name, al_notify_t **out);
al_notify_t *al_notify_ref(al_notify_t *n);
void al_notify_unref(al_notify_t *n); /* last reference frees; NULL: no-op */
uint64_t al_notify_id(const al_notify_t *n);
const char *al_notify_name(const al_notify_t *n);

void al_notify_notify_one(al_notify_t *n);
void al_notify_notify_waiters(al_notify_t *n);

/* Start a notified() future. It already counts for notify_waiters calls made
 * after this init, even before its first poll (as Tokio's). */
void al_notified_init(al_notified_t *op, al_notify_t *n);
/* AL_READY once notified (or a stored permit was consumed). AL_PENDING:
 * queued; woken by notify_one / notify_waiters. One unit of coop budget. */
al_poll_t al_notified_poll(al_notified_t *op, al_context_t *cx);
/* Cancel / finish; safe at any point, idempotent; forwards an unseen
 * notify_one (see above). */
void al_notified_drop(al_notified_t *op);

#endif
