/*
 * al_watch.c — watch channel: one value, a version counter and a FIFO of
 * waiting changed() futures, under one mutex (the idea of Tokio's watch,
 * which guards the value with an RwLock and the version with an atomic).
 *
 * Algorithm.
 *   send: with no receiver (and not send_replace), AL_ECLOSED. Otherwise copy
 *     the previous value aside, copy the new one in, version++, unlink every
 *     waiter (state WOKEN) and, after unlocking, wake them (batches of 32) and
 *     pass the previous value to drop_value.
 *   changed() for a receiver that has seen version `seen`:
 *     version != seen  -> seen = version, AL_READY 0;
 *     sender dropped   -> AL_ECLOSED;
 *     otherwise        -> queue (state QUEUED) with a clone of the waker.
 *     A WOKEN waiter re-runs the check at its next poll.
 *   borrow: clone the value out under the lock.
 *   tx drop: closed = true, wake every waiter.
 *
 * Shared fields (struct al_watch), all under `lock` unless noted:
 *   value, closed, waiters, rx_count, tx_alive, every queued node's fields,
 *   each receiver's `seen` (written by its owner under the lock);
 *   version  atomic: written under lock, read relaxed by has_changed / version;
 *   elem_size, clone_value, drop_value, id: written once at creation.
 *   The channel is freed by whoever makes tx_alive false and rx_count zero.
 */
#include <pthread.h>
#include <string.h>

#include "al_sync_internal.h"
#include "al_watch.h"

enum { WW_IDLE = 0, WW_QUEUED, WW_WOKEN, WW_DONE };

typedef struct al_watch {
    pthread_mutex_t lock;
    unsigned char *value;
    _Atomic uint64_t version;
    al__waitq_t waiters;
    size_t rx_count;
    bool tx_alive, closed;
    size_t elem_size;
    al_chan_clone_fn clone_value;
    al_chan_drop_fn drop_value;
    uint64_t id;
} al_watch_t;

struct al_watch_rx {
    al_watch_t *ch;
    uint64_t seen; /* version last seen; under ch->lock */
};

static inline al_watch_t *from_tx(const al_watch_tx_t *tx)
{
    return (al_watch_t *)tx;
}
static inline al_wake_src_t w_src(const al_watch_t *ch)
{
    return AL_WAKE_SRC(AL_WAKE_NOTIFY, ch->id);
}
static inline uint64_t version_of(const al_watch_t *ch)
{
    return atomic_load_explicit(&ch->version, memory_order_relaxed);
}

int al_watch_channel(const void *initial, size_t elem_size, al_chan_clone_fn clone_value,
                     al_chan_drop_fn drop_value, al_watch_tx_t **tx, al_watch_rx_t **rx)
{
    if (!initial || elem_size == 0 || !tx || !rx)
        return AL_EINVAL;
    al_watch_t *ch = calloc(1, sizeof *ch);
    al_watch_rx_t *r = calloc(1, sizeof *r);
    unsigned char *v = malloc(elem_size);
    if (!ch || !r || !v) {
        free(ch);
        free(r);
        free(v);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&ch->lock, NULL);
    memcpy(v, initial, elem_size);
    ch->value = v;
    atomic_init(&ch->version, 0);
    ch->rx_count = 1;
    ch->tx_alive = true;
    ch->elem_size = elem_size;
    ch->clone_value = clone_value;
    ch->drop_value = drop_value;
    ch->id = al__resource_id_next();
    r->ch = ch;
    r->seen = 0;
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), ch->id, AL_RES_WATCH, NULL);
    *tx = (al_watch_tx_t *)ch;
    *rx = r;
    return 0;
}

static void w_free(al_watch_t *ch)
{
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, ch->id, 0, NULL);
    AL_EXPECT(ch->waiters.head == NULL);
    if (ch->drop_value)
        ch->drop_value(ch->value);
    pthread_mutex_destroy(&ch->lock);
    free(ch->value);
    free(ch);
}

static void wake_all_locked(al_watch_t *ch, al__wake_list_t *wl)
{
    al_wait_node_t *w;
    while ((w = al__waitq_pop_front(&ch->waiters))) {
        al__wn_set_state(w, WW_WOKEN);
        al__wake_list_take(wl, w);
        if (al__wake_list_full(wl)) {
            pthread_mutex_unlock(&ch->lock);
            al__wake_list_wake(wl, w_src(ch));
            pthread_mutex_lock(&ch->lock);
        }
    }
}

static int w_send(al_watch_t *ch, const void *value, bool force)
{
    unsigned char small[64];
    unsigned char *old = NULL;
    bool have_old = false;
    if (ch->drop_value)
        old = ch->elem_size <= sizeof small ? small : malloc(ch->elem_size);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    if (!force && ch->rx_count == 0) {
        pthread_mutex_unlock(&ch->lock);
        if (old != small)
            free(old);
        return AL_ECLOSED;
    }
    if (ch->drop_value) {
        if (old) {
            memcpy(old, ch->value, ch->elem_size);
            have_old = true;
        } else {
            ch->drop_value(ch->value); /* out of memory for the copy: drop in place */
        }
    }
    memcpy(ch->value, value, ch->elem_size);
    uint64_t v = version_of(ch) + 1;
    atomic_store_explicit(&ch->version, v, memory_order_relaxed);
    wake_all_locked(ch, &wl);
    pthread_mutex_unlock(&ch->lock);
    AL__EMIT_HERE(AL_EV_CHAN_SEND, al__current_task_id(), ch->id, v, NULL);
    al__wake_list_wake(&wl, w_src(ch));
    if (have_old)
        ch->drop_value(old);
    if (old != small)
        free(old);
    return 0;
}

int al_watch_send(al_watch_tx_t *tx, const void *value)
{
    return w_send(from_tx(tx), value, false);
}
void al_watch_send_replace(al_watch_tx_t *tx, const void *value)
{
    (void)w_send(from_tx(tx), value, true);
}

void al_watch_tx_drop(al_watch_tx_t *tx)
{
    if (!tx)
        return;
    al_watch_t *ch = from_tx(tx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    ch->closed = true;
    /* May drop the lock between batches: stay alive until done, so no
     * receiver can free the channel meanwhile. */
    wake_all_locked(ch, &wl);
    ch->tx_alive = false;
    bool dead = ch->rx_count == 0;
    al_wake_src_t src = w_src(ch);
    pthread_mutex_unlock(&ch->lock);
    /* Unless `dead`, a receiver may free the channel from here on: use
     * only locals. */
    AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), src.resource, 0, NULL);
    al__wake_list_wake(&wl, src);
    if (dead)
        w_free(ch);
}

static al_watch_rx_t *new_rx(al_watch_t *ch, const al_watch_rx_t *like)
{
    al_watch_rx_t *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->ch = ch;
    pthread_mutex_lock(&ch->lock);
    r->seen = like ? like->seen : version_of(ch);
    ch->rx_count++;
    pthread_mutex_unlock(&ch->lock);
    return r;
}

al_watch_rx_t *al_watch_tx_subscribe(al_watch_tx_t *tx)
{
    return new_rx(from_tx(tx), NULL);
}
al_watch_rx_t *al_watch_rx_clone(al_watch_rx_t *rx)
{
    return new_rx(rx->ch, rx);
}

size_t al_watch_receiver_count(const al_watch_tx_t *tx)
{
    al_watch_t *ch = from_tx(tx);
    pthread_mutex_lock(&ch->lock);
    size_t n = ch->rx_count;
    pthread_mutex_unlock(&ch->lock);
    return n;
}
uint64_t al_watch_tx_id(const al_watch_tx_t *tx)
{
    return from_tx(tx)->id;
}

void al_watch_rx_drop(al_watch_rx_t *rx)
{
    if (!rx)
        return;
    al_watch_t *ch = rx->ch;
    pthread_mutex_lock(&ch->lock);
    ch->rx_count--;
    bool dead = ch->rx_count == 0 && !ch->tx_alive;
    pthread_mutex_unlock(&ch->lock);
    free(rx);
    if (dead)
        w_free(ch);
}

static void borrow(al_watch_rx_t *rx, void *out, bool update)
{
    al_watch_t *ch = rx->ch;
    pthread_mutex_lock(&ch->lock);
    if (ch->clone_value)
        ch->clone_value(out, ch->value, ch->elem_size);
    else
        memcpy(out, ch->value, ch->elem_size);
    if (update)
        rx->seen = version_of(ch);
    pthread_mutex_unlock(&ch->lock);
}

void al_watch_borrow(al_watch_rx_t *rx, void *out)
{
    borrow(rx, out, false);
}
void al_watch_borrow_and_update(al_watch_rx_t *rx, void *out)
{
    borrow(rx, out, true);
}

bool al_watch_has_changed(const al_watch_rx_t *rx)
{
    al_watch_t *ch = rx->ch;
    pthread_mutex_lock(&ch->lock);
    bool changed = version_of(ch) != rx->seen;
    pthread_mutex_unlock(&ch->lock);
    return changed;
}

uint64_t al_watch_version(const al_watch_rx_t *rx)
{
    return version_of(rx->ch);
}

void al_watch_changed_init(al_watch_changed_t *op, al_watch_rx_t *rx)
{
    op->rx = rx;
    op->node.prev = op->node.next = NULL;
    op->node.waker = AL_WAKER_NONE;
    op->node.need = 0;
    atomic_init(&op->node.state, WW_IDLE);
}

al_poll_t al_watch_changed_poll(al_watch_changed_t *op, al_context_t *cx, int *res)
{
    al_wait_node_t *w = &op->node;
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_watch_t *ch = op->rx->ch;
    al_waker_t old = AL_WAKER_NONE;
    int rc = AL_EEMPTY;
    uint64_t v;
    pthread_mutex_lock(&ch->lock);
    v = version_of(ch);
    if (al__wn_state(w) == WW_QUEUED) {
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
    } else if (v != op->rx->seen) {
        op->rx->seen = v;
        rc = 0;
    } else if (ch->closed) {
        rc = AL_ECLOSED;
    } else {
        old = w->waker;
        w->waker = al_waker_clone(&cx->waker);
        al__wn_set_state(w, WW_QUEUED);
        al__waitq_push_back(&ch->waiters, w);
    }
    if (rc != AL_EEMPTY)
        al__wn_set_state(w, WW_DONE);
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    if (rc == AL_EEMPTY) {
        AL__EMIT_HERE(AL_EV_CHAN_EMPTY, al__current_task_id(), ch->id, 0, NULL);
        al_coop_refund();
        return AL_PENDING;
    }
    if (rc == 0)
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), ch->id, v, NULL);
    *res = rc;
    return AL_READY;
}

void al_watch_changed_drop(al_watch_changed_t *op)
{
    al_wait_node_t *w = &op->node;
    uint32_t st = al__wn_state(w);
    if (!op->rx || st == WW_IDLE || st == WW_DONE) {
        /* Only the owner moves a node into these states; its waker is NONE. */
        al__wn_set_state(w, WW_DONE);
        return;
    }
    al_watch_t *ch = op->rx->ch;
    pthread_mutex_lock(&ch->lock);
    if (al__wn_state(w) == WW_QUEUED)
        al__waitq_remove(&ch->waiters, w);
    al__wn_set_state(w, WW_DONE);
    al_waker_t mine = w->waker;
    w->waker = AL_WAKER_NONE;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&mine);
}
