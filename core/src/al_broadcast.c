/*
 * al_broadcast.c — broadcast channel: a ring of the last `cap` values, a
 * position counter, per-receiver cursors and one FIFO of waiting receivers,
 * all under one mutex (the idea of Tokio's broadcast, simplified: Tokio locks
 * each slot separately and counts readers per slot to drop values early; here
 * a value lives until it is overwritten, which keeps the lag rule plain).
 *
 * Positions. Every sent value gets the next position (tail, starting at 0)
 * and lives in slot pos % cap until position pos + cap overwrites it. The
 * values kept are positions [max(0, tail - cap), tail).
 *
 * Algorithm.
 *   send: with no receiver, AL_ECLOSED. Otherwise copy the value into slot
 *     tail % cap (the overwritten value, if any, is copied aside and dropped
 *     after unlocking), tail++, unlink every queued receiver (state WOKEN) and
 *     wake them after unlocking, in batches of 32.
 *   recv for a receiver at position next:
 *     next < oldest kept   -> AL_ELAGGED, lagged = oldest - next, next = oldest
 *                             (reported once: the next recv reads `oldest`);
 *     next < tail          -> clone slot next % cap out, next++;
 *     no sender left       -> AL_ECLOSED;
 *     otherwise            -> queue (state QUEUED) with a clone of the waker.
 *   A WOKEN waiter simply re-runs the check at its next poll.
 *   The last sender's drop sets `closed` and wakes every waiter.
 *
 * clone_value runs under the lock (the slot must not be overwritten while it
 * is read); drop_value never does.
 *
 * Shared fields (struct al_broadcast), all under `lock`:
 *   slots, tail, waiters, tx_count, rx_count, closed, each receiver's `next`
 *   (also written by its owner, under the lock), every queued node's fields.
 *   cap, elem_size, clone_value, drop_value, id: written once at creation.
 *   The channel is freed by whoever brings tx_count + rx_count to zero.
 */
#include <pthread.h>
#include <string.h>

#include "al_broadcast.h"
#include "al_sync_internal.h"

enum { BW_IDLE = 0, BW_QUEUED, BW_WOKEN, BW_DONE };

typedef struct al_broadcast {
    pthread_mutex_t lock;
    unsigned char *slots;
    uint64_t tail;
    al__waitq_t waiters;
    size_t tx_count, rx_count;
    bool closed;
    size_t cap, elem_size;
    al_chan_clone_fn clone_value;
    al_chan_drop_fn drop_value;
    uint64_t id;
} al_broadcast_t;

struct al_broadcast_rx {
    al_broadcast_t *ch;
    uint64_t next; /* position of the next value to read; under ch->lock */
};

static inline al_broadcast_t *from_tx(const al_broadcast_tx_t *tx)
{
    return (al_broadcast_t *)tx;
}
static inline al_wake_src_t bc_src(const al_broadcast_t *ch)
{
    return AL_WAKE_SRC(AL_WAKE_CHANNEL, ch->id);
}
static inline unsigned char *slot(al_broadcast_t *ch, uint64_t pos)
{
    return ch->slots + (size_t)(pos % ch->cap) * ch->elem_size;
}
static inline uint64_t oldest(const al_broadcast_t *ch)
{
    return ch->tail > ch->cap ? ch->tail - ch->cap : 0;
}

int al_broadcast_channel(size_t capacity, size_t elem_size, al_chan_clone_fn clone_value,
                         al_chan_drop_fn drop_value, al_broadcast_tx_t **tx, al_broadcast_rx_t **rx)
{
    if (capacity == 0 || elem_size == 0 || !tx || !rx || capacity > SIZE_MAX / elem_size)
        return AL_EINVAL;
    al_broadcast_t *ch = calloc(1, sizeof *ch);
    al_broadcast_rx_t *r = calloc(1, sizeof *r);
    unsigned char *slots = malloc(capacity * elem_size);
    if (!ch || !r || !slots) {
        free(ch);
        free(r);
        free(slots);
        return AL_ENOMEM;
    }
    pthread_mutex_init(&ch->lock, NULL);
    ch->slots = slots;
    ch->tx_count = 1;
    ch->rx_count = 1;
    ch->cap = capacity;
    ch->elem_size = elem_size;
    ch->clone_value = clone_value;
    ch->drop_value = drop_value;
    ch->id = al__resource_id_next();
    r->ch = ch;
    r->next = 0;
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), ch->id, AL_RES_BROADCAST, NULL);
    *tx = (al_broadcast_tx_t *)ch;
    *rx = r;
    return 0;
}

static void bc_free(al_broadcast_t *ch)
{
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, ch->id, 0, NULL);
    AL_EXPECT(ch->waiters.head == NULL);
    if (ch->drop_value)
        for (uint64_t p = oldest(ch); p < ch->tail; p++)
            ch->drop_value(slot(ch, p));
    pthread_mutex_destroy(&ch->lock);
    free(ch->slots);
    free(ch);
}

/* Under lock: unlink every waiter; wakes them in batches (may drop the lock). */
static void wake_all_locked(al_broadcast_t *ch, al__wake_list_t *wl)
{
    al_wait_node_t *w;
    while ((w = al__waitq_pop_front(&ch->waiters))) {
        al__wn_set_state(w, BW_WOKEN);
        al__wake_list_take(wl, w);
        if (al__wake_list_full(wl)) {
            pthread_mutex_unlock(&ch->lock);
            al__wake_list_wake(wl, bc_src(ch));
            pthread_mutex_lock(&ch->lock);
        }
    }
}

int al_broadcast_send(al_broadcast_tx_t *tx, const void *value, size_t *receivers)
{
    al_broadcast_t *ch = from_tx(tx);
    unsigned char small[64];
    unsigned char *old = NULL;
    bool have_old = false;
    if (ch->drop_value)
        old = ch->elem_size <= sizeof small ? small : malloc(ch->elem_size);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    size_t nrx = ch->rx_count;
    if (nrx == 0) {
        pthread_mutex_unlock(&ch->lock);
        if (old != small)
            free(old);
        if (receivers)
            *receivers = 0;
        return AL_ECLOSED;
    }
    unsigned char *s = slot(ch, ch->tail);
    if (ch->tail >= ch->cap && ch->drop_value) {
        if (old) {
            memcpy(old, s, ch->elem_size);
            have_old = true;
        } else {
            ch->drop_value(s); /* out of memory for the copy: drop in place */
        }
    }
    memcpy(s, value, ch->elem_size);
    ch->tail++;
    uint64_t kept = ch->tail - oldest(ch);
    wake_all_locked(ch, &wl);
    pthread_mutex_unlock(&ch->lock);
    AL__EMIT_HERE(AL_EV_CHAN_SEND, al__current_task_id(), ch->id, kept, NULL);
    al__wake_list_wake(&wl, bc_src(ch));
    if (have_old)
        ch->drop_value(old);
    if (old != small)
        free(old);
    if (receivers)
        *receivers = nrx;
    return 0;
}

al_broadcast_tx_t *al_broadcast_tx_clone(al_broadcast_tx_t *tx)
{
    al_broadcast_t *ch = from_tx(tx);
    pthread_mutex_lock(&ch->lock);
    ch->tx_count++;
    pthread_mutex_unlock(&ch->lock);
    return tx;
}

void al_broadcast_tx_drop(al_broadcast_tx_t *tx)
{
    if (!tx)
        return;
    al_broadcast_t *ch = from_tx(tx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    bool last = ch->tx_count == 1;
    if (last) {
        ch->closed = true;
        /* May drop the lock between batches: keep our count until done, so
         * no receiver can free the channel meanwhile. */
        wake_all_locked(ch, &wl);
    }
    ch->tx_count--;
    bool dead = ch->tx_count == 0 && ch->rx_count == 0;
    al_wake_src_t src = bc_src(ch);
    pthread_mutex_unlock(&ch->lock);
    /* Once the last sender is gone, the last receiver may free the channel
     * from here on (unless `dead`): use only locals. */
    if (last)
        AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), src.resource, 0, NULL);
    al__wake_list_wake(&wl, src);
    if (dead)
        bc_free(ch);
}

static al_broadcast_rx_t *new_rx(al_broadcast_t *ch, const al_broadcast_rx_t *like)
{
    al_broadcast_rx_t *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->ch = ch;
    pthread_mutex_lock(&ch->lock);
    r->next = like ? like->next : ch->tail;
    ch->rx_count++;
    pthread_mutex_unlock(&ch->lock);
    return r;
}

al_broadcast_rx_t *al_broadcast_tx_subscribe(al_broadcast_tx_t *tx)
{
    return new_rx(from_tx(tx), NULL);
}
al_broadcast_rx_t *al_broadcast_rx_clone(al_broadcast_rx_t *rx)
{
    return new_rx(rx->ch, rx);
}

size_t al_broadcast_receiver_count(const al_broadcast_tx_t *tx)
{
    al_broadcast_t *ch = from_tx(tx);
    pthread_mutex_lock(&ch->lock);
    size_t n = ch->rx_count;
    pthread_mutex_unlock(&ch->lock);
    return n;
}
uint64_t al_broadcast_tx_id(const al_broadcast_tx_t *tx)
{
    return from_tx(tx)->id;
}

void al_broadcast_rx_drop(al_broadcast_rx_t *rx)
{
    if (!rx)
        return;
    al_broadcast_t *ch = rx->ch;
    pthread_mutex_lock(&ch->lock);
    ch->rx_count--;
    bool dead = ch->tx_count == 0 && ch->rx_count == 0;
    pthread_mutex_unlock(&ch->lock);
    free(rx);
    if (dead)
        bc_free(ch);
}

uint64_t al_broadcast_rx_len(const al_broadcast_rx_t *rx)
{
    al_broadcast_t *ch = rx->ch;
    pthread_mutex_lock(&ch->lock);
    uint64_t n = ch->tail - rx->next;
    pthread_mutex_unlock(&ch->lock);
    return n;
}

/* Under lock: 0, AL_ELAGGED, AL_ECLOSED or AL_EEMPTY (see the header comment). */
static int take_locked(al_broadcast_rx_t *rx, void *out, uint64_t *lagged, uint64_t *left)
{
    al_broadcast_t *ch = rx->ch;
    if (rx->next < ch->tail) {
        uint64_t first = oldest(ch);
        if (rx->next < first) {
            if (lagged)
                *lagged = first - rx->next;
            rx->next = first;
            return AL_ELAGGED;
        }
        const unsigned char *s = slot(ch, rx->next);
        if (ch->clone_value)
            ch->clone_value(out, s, ch->elem_size);
        else
            memcpy(out, s, ch->elem_size);
        rx->next++;
        *left = ch->tail - rx->next;
        return 0;
    }
    return ch->closed ? AL_ECLOSED : AL_EEMPTY;
}

int al_broadcast_try_recv(al_broadcast_rx_t *rx, void *out, uint64_t *lagged)
{
    al_broadcast_t *ch = rx->ch;
    uint64_t left = 0;
    pthread_mutex_lock(&ch->lock);
    int rc = take_locked(rx, out, lagged, &left);
    pthread_mutex_unlock(&ch->lock);
    if (rc == 0)
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), ch->id, left, NULL);
    return rc;
}

void al_broadcast_recv_init(al_broadcast_recv_t *op, al_broadcast_rx_t *rx)
{
    op->rx = rx;
    op->node.prev = op->node.next = NULL;
    op->node.waker = AL_WAKER_NONE;
    op->node.need = 0;
    atomic_init(&op->node.state, BW_IDLE);
}

al_poll_t al_broadcast_recv_poll(al_broadcast_recv_t *op, al_context_t *cx, void *out, int *res,
                                 uint64_t *lagged)
{
    al_wait_node_t *w = &op->node;
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_broadcast_t *ch = op->rx->ch;
    al_waker_t old = AL_WAKER_NONE;
    uint64_t left = 0;
    int rc;
    pthread_mutex_lock(&ch->lock);
    if (al__wn_state(w) == BW_QUEUED) {
        /* Not woken yet: nothing new (a send or close would have unlinked us). */
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
        rc = AL_EEMPTY;
    } else {
        rc = take_locked(op->rx, out, lagged, &left);
        if (rc == AL_EEMPTY) {
            old = w->waker; /* a WOKEN node's waker was taken: NONE */
            w->waker = al_waker_clone(&cx->waker);
            al__wn_set_state(w, BW_QUEUED);
            al__waitq_push_back(&ch->waiters, w);
        } else {
            al__wn_set_state(w, BW_DONE);
        }
    }
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    if (rc == AL_EEMPTY) {
        AL__EMIT_HERE(AL_EV_CHAN_EMPTY, al__current_task_id(), ch->id, 0, NULL);
        al_coop_refund();
        return AL_PENDING;
    }
    if (rc == 0)
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), ch->id, left, NULL);
    *res = rc;
    return AL_READY;
}

void al_broadcast_recv_drop(al_broadcast_recv_t *op)
{
    al_wait_node_t *w = &op->node;
    uint32_t st = al__wn_state(w);
    if (!op->rx || st == BW_IDLE || st == BW_DONE) {
        /* Only the owner moves a node into these states; its waker is NONE. */
        al__wn_set_state(w, BW_DONE);
        return;
    }
    al_broadcast_t *ch = op->rx->ch;
    pthread_mutex_lock(&ch->lock);
    if (al__wn_state(w) == BW_QUEUED)
        al__waitq_remove(&ch->waiters, w);
    al__wn_set_state(w, BW_DONE);
    al_waker_t mine = w->waker;
    w->waker = AL_WAKER_NONE;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&mine);
}
