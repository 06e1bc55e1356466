/*
 * al_mpsc.c — mpsc channels: a growable ring of fixed-size values and a FIFO
 * of waiting senders, under one adaptive mutex; the single receiver's waker.
 *
 * Why a mutex and not Tokio's lock-free block list: with one consumer and a
 * handful of producers, each operation holds the lock for a memcpy and a few
 * stores (tens of ns), wakes run after unlocking, and the receiver is woken
 * only when it actually waits, so a busy channel costs one lock round-trip per
 * send and per recv with no wake traffic. That meets the budget set by the
 * peer benchmark (mpsc_bounded_4x250k) and is far easier to teach and verify.
 *
 * Algorithm.
 *   Capacity (bounded only) is counted as len (values in the ring) plus
 *   reserved (slots granted to queued senders that have not pushed yet).
 *   send, first poll: if the receiver is gone, AL_ECLOSED. Unbounded, or no
 *     sender queued and len + reserved < bound: push now. Otherwise queue the
 *     waiter (state QUEUED) with a clone of the waker; CHAN_FULL.
 *   recv: pop the oldest value; then grant (see grant_locked for the batching
 *     hysteresis): while a sender is queued and len + reserved < bound, unlink
 *     the front one, reserved++, state GRANTED, and wake it after unlocking.
 *     With nothing buffered: end of stream when the receiver closed or no
 *     sender is left; otherwise store the waker and set rx_waiting.
 *   send, GRANTED poll: reserved--, push (or AL_ECLOSED if the receiver closed
 *     meanwhile: the slot simply stops being counted).
 *   push: copy into the ring (doubling it when full: bounded rings stop at the
 *     power of two >= bound); if rx_waiting, move the receiver's waker out
 *     and wake it after unlocking.
 *   cancel a send: QUEUED -> unlink (capacity did not change, so nobody
 *     behind it could have been granted); GRANTED -> reserved--, then grant,
 *     which hands the slot to the next waiter.
 *   close (rx): rx_closed; every QUEUED sender becomes CLOSED and is woken.
 *   rx drop: close, then detach and drop the buffered values (no push can
 *     happen once rx_closed is set).
 *
 * Invariants (under lock):
 *   - a node is in `senders` iff its state is QUEUED;
 *   - bounded: len + reserved <= bound; with free = bound - len - reserved,
 *     if `senders` is non-empty then free < grant_batch and (len > 0 or
 *     free == 0): every path that frees a slot (recv, cancel of a GRANTED
 *     sender, a failed push) runs grant_locked, so the receiver can never
 *     wait on an empty ring while a sender waits for room. grant_batch is
 *     bound/16 clamped to 1..64: small channels grant each freed slot at once;
 *   - reserved == number of nodes in state GRANTED;
 *   - rx_waiting implies rx_waker holds a waker.
 *
 * Shared fields (struct al_mpsc):
 *   buf, ring_cap, head, len, reserved, senders, rx_waker, rx_waiting,
 *     rx_closed, and every queued node's fields: under `lock`, by senders and
 *     the receiver on any thread;
 *   tx_count   atomic: incremented by clone (relaxed, a live sender exists),
 *              decremented under lock by tx_drop; read under lock;
 *   len_snap, closed_snap  atomic mirrors of len / rx_closed, written under
 *              lock, read relaxed by al_mpsc_len / al_mpsc_tx_is_closed;
 *   refs       atomic (acq_rel on release): one per sender + one receiver;
 *   bound, elem_size, drop_value, id: written once at creation.
 *   A send node that is not queued is touched only by its owner.
 */
#include <pthread.h>
#include <string.h>

#include "al_mpsc.h"
#include "al_sync_internal.h"

enum { SW_IDLE = 0, SW_QUEUED, SW_GRANTED, SW_CLOSED, SW_DONE };

#define RING_MIN 64

typedef struct al_mpsc {
    pthread_mutex_t lock;
    unsigned char *buf;
    size_t ring_cap; /* power of two, or 0 after rx drop */
    size_t head, len, reserved;
    al__waitq_t senders;
    al_waker_t rx_waker;
    bool rx_waiting, rx_closed;
    _Atomic size_t tx_count;
    _Atomic size_t len_snap;
    _Atomic bool closed_snap;
    _Atomic uint32_t refs;
    size_t bound;       /* 0: unbounded */
    size_t grant_batch; /* free slots needed before queued senders are granted */
    size_t elem_size;
    al_chan_drop_fn drop_value;
    uint64_t id;
} al_mpsc_t;

static inline al_mpsc_t *from_tx(const al_mpsc_tx_t *tx)
{
    return (al_mpsc_t *)tx;
}
static inline al_mpsc_t *from_rx(const al_mpsc_rx_t *rx)
{
    return (al_mpsc_t *)rx;
}
static inline al_wake_src_t ch_src(const al_mpsc_t *ch)
{
    return AL_WAKE_SRC(AL_WAKE_CHANNEL, ch->id);
}

static int ch_new(size_t bound, size_t elem_size, al_chan_drop_fn drop_value, al_mpsc_tx_t **tx,
                  al_mpsc_rx_t **rx)
{
    if (!tx || !rx || elem_size == 0)
        return AL_EINVAL;
    al_mpsc_t *ch = calloc(1, sizeof *ch);
    if (!ch)
        return AL_ENOMEM;
    al__mutex_init_adaptive(&ch->lock);
    atomic_init(&ch->tx_count, 1);
    atomic_init(&ch->len_snap, 0);
    atomic_init(&ch->closed_snap, false);
    atomic_init(&ch->refs, 2);
    ch->bound = bound;
    ch->grant_batch = bound / 16 < 1 ? 1 : bound / 16 > 64 ? 64 : bound / 16;
    ch->elem_size = elem_size;
    ch->drop_value = drop_value;
    ch->id = al__resource_id_next();
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), ch->id, AL_RES_MPSC,
                  bound ? "mpsc" : "mpsc-unbounded");
    *tx = (al_mpsc_tx_t *)ch;
    *rx = (al_mpsc_rx_t *)ch;
    return 0;
}

int al_mpsc_channel(size_t capacity, size_t elem_size, al_chan_drop_fn drop_value,
                    al_mpsc_tx_t **tx, al_mpsc_rx_t **rx)
{
    if (capacity == 0)
        return AL_EINVAL;
    return ch_new(capacity, elem_size, drop_value, tx, rx);
}

int al_mpsc_unbounded_channel(size_t elem_size, al_chan_drop_fn drop_value, al_mpsc_tx_t **tx,
                              al_mpsc_rx_t **rx)
{
    return ch_new(0, elem_size, drop_value, tx, rx);
}

/* Drop the values of a detached ring (no lock held: foreign code runs). */
static void drop_values(al_mpsc_t *ch, unsigned char *buf, size_t cap, size_t head, size_t len)
{
    if (ch->drop_value)
        for (size_t i = 0; i < len; i++)
            ch->drop_value(buf + ((head + i) & (cap - 1)) * ch->elem_size);
    free(buf);
}

static void ch_release(al_mpsc_t *ch)
{
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1)
        return;
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, ch->id, 0, NULL);
    AL_EXPECT(ch->senders.head == NULL);
    drop_values(ch, ch->buf, ch->ring_cap, ch->head, ch->len);
    al_waker_drop(&ch->rx_waker);
    pthread_mutex_destroy(&ch->lock);
    free(ch);
}

static void set_len(al_mpsc_t *ch, size_t len)
{
    ch->len = len;
    atomic_store_explicit(&ch->len_snap, len, memory_order_relaxed);
}

/* Under lock: make room for one more value. 0 or AL_ENOMEM. */
static int ring_reserve_locked(al_mpsc_t *ch)
{
    if (ch->len < ch->ring_cap)
        return 0;
    size_t ncap = ch->ring_cap ? ch->ring_cap * 2 : RING_MIN;
    unsigned char *nb = malloc(ncap * ch->elem_size);
    if (!nb)
        return AL_ENOMEM;
    size_t es = ch->elem_size;
    for (size_t i = 0; i < ch->len; i++)
        memcpy(nb + i * es, ch->buf + ((ch->head + i) & (ch->ring_cap - 1)) * es, es);
    free(ch->buf);
    ch->buf = nb;
    ch->ring_cap = ncap;
    ch->head = 0;
    return 0;
}

/* Under lock: append a value; the receiver's waker (if it waits) moves to *wake. */
static int push_locked(al_mpsc_t *ch, const void *value, al_waker_t *wake)
{
    int rc = ring_reserve_locked(ch);
    if (rc)
        return rc;
    size_t tail = (ch->head + ch->len) & (ch->ring_cap - 1);
    memcpy(ch->buf + tail * ch->elem_size, value, ch->elem_size);
    set_len(ch, ch->len + 1);
    if (ch->rx_waiting) {
        ch->rx_waiting = false;
        *wake = ch->rx_waker;
        ch->rx_waker = AL_WAKER_NONE;
    }
    return 0;
}

/*
 * Under lock: hand free slots to queued senders, front first. Hysteresis: once
 * senders queue, slots are handed out only when grant_batch of them are free
 * (or the ring ran empty, so the receiver never starves). A woken sender then
 * typically finds more free slots for its next sends and does not queue
 * again: one wake per grant_batch messages instead of one per message.
 */
static void grant_locked(al_mpsc_t *ch, al__wake_list_t *wl)
{
    size_t used = ch->len + ch->reserved;
    if (used >= ch->bound || (ch->bound - used < ch->grant_batch && ch->len > 0))
        return;
    al_wait_node_t *w;
    while ((w = ch->senders.head) && ch->len + ch->reserved < ch->bound &&
           !al__wake_list_full(wl)) {
        al__waitq_remove(&ch->senders, w);
        ch->reserved++;
        al__wn_set_state(w, SW_GRANTED);
        al__wake_list_take(wl, w);
    }
}

/* Under lock: wake a full wake list with the lock released, grant more. */
static void flush_grants_locked(al_mpsc_t *ch, al__wake_list_t *wl)
{
    while (al__wake_list_full(wl)) {
        pthread_mutex_unlock(&ch->lock);
        al__wake_list_wake(wl, ch_src(ch));
        pthread_mutex_lock(&ch->lock);
        grant_locked(ch, wl);
    }
}

/* Under lock: pop the oldest value into out and grant the freed slot. */
static void pop_locked(al_mpsc_t *ch, void *out, al__wake_list_t *wl)
{
    memcpy(out, ch->buf + ch->head * ch->elem_size, ch->elem_size);
    ch->head = (ch->head + 1) & (ch->ring_cap - 1);
    set_len(ch, ch->len - 1);
    if (ch->senders.head)
        grant_locked(ch, wl);
}

/* ---- senders ---- */

al_mpsc_tx_t *al_mpsc_tx_clone(al_mpsc_tx_t *tx)
{
    al_mpsc_t *ch = from_tx(tx);
    atomic_fetch_add_explicit(&ch->tx_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return tx;
}

void al_mpsc_tx_drop(al_mpsc_tx_t *tx)
{
    if (!tx)
        return;
    al_mpsc_t *ch = from_tx(tx);
    al_waker_t wake = AL_WAKER_NONE;
    pthread_mutex_lock(&ch->lock);
    bool last = atomic_fetch_sub_explicit(&ch->tx_count, 1, memory_order_relaxed) == 1;
    if (last && ch->rx_waiting) {
        ch->rx_waiting = false;
        wake = ch->rx_waker;
        ch->rx_waker = AL_WAKER_NONE;
    }
    pthread_mutex_unlock(&ch->lock);
    if (last)
        AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), ch->id, 0, NULL);
    al_waker_wake(&wake, ch_src(ch));
    ch_release(ch);
}

bool al_mpsc_tx_is_closed(const al_mpsc_tx_t *tx)
{
    return atomic_load_explicit(&from_tx(tx)->closed_snap, memory_order_acquire);
}
uint64_t al_mpsc_tx_id(const al_mpsc_tx_t *tx)
{
    return from_tx(tx)->id;
}
uint64_t al_mpsc_rx_id(const al_mpsc_rx_t *rx)
{
    return from_rx(rx)->id;
}
size_t al_mpsc_len(const al_mpsc_rx_t *rx)
{
    return atomic_load_explicit(&from_rx(rx)->len_snap, memory_order_relaxed);
}
size_t al_mpsc_tx_len(const al_mpsc_tx_t *tx)
{
    return atomic_load_explicit(&from_tx(tx)->len_snap, memory_order_relaxed);
}
size_t al_mpsc_capacity(const al_mpsc_tx_t *tx)
{
    return from_tx(tx)->bound;
}

int al_mpsc_try_send(al_mpsc_tx_t *tx, const void *value)
{
    al_mpsc_t *ch = from_tx(tx);
    al_waker_t wake = AL_WAKER_NONE;
    int rc;
    size_t len = 0;
    pthread_mutex_lock(&ch->lock);
    if (ch->rx_closed)
        rc = AL_ECLOSED;
    else if (ch->bound && (ch->senders.head || ch->len + ch->reserved >= ch->bound))
        rc = AL_EFULL;
    else
        rc = push_locked(ch, value, &wake);
    len = ch->len;
    pthread_mutex_unlock(&ch->lock);
    if (rc == 0) {
        AL__EMIT_HERE(AL_EV_CHAN_SEND, al__current_task_id(), ch->id, len, NULL);
        al_waker_wake(&wake, ch_src(ch));
    } else if (rc == AL_EFULL) {
        AL__EMIT_HERE(AL_EV_CHAN_FULL, al__current_task_id(), ch->id, 0, NULL);
    }
    return rc;
}

void al_mpsc_send_init(al_mpsc_send_t *op, al_mpsc_tx_t *tx, const void *value)
{
    op->tx = tx;
    op->value = value;
    op->node.prev = op->node.next = NULL;
    op->node.waker = AL_WAKER_NONE;
    op->node.need = 1;
    atomic_init(&op->node.state, SW_IDLE);
}

al_poll_t al_mpsc_send_poll(al_mpsc_send_t *op, al_context_t *cx, int *res)
{
    al_wait_node_t *w = &op->node;
    if (al__wn_state(w) == SW_DONE) {
        *res = 0; /* polled after Ready: a caller bug, harmless */
        return AL_READY;
    }
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_mpsc_t *ch = from_tx(op->tx);
    al_waker_t wake = AL_WAKER_NONE, old = AL_WAKER_NONE;
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    int rc = 0;
    bool pending = false, full = false;
    size_t len;
    pthread_mutex_lock(&ch->lock);
    switch (al__wn_state(w)) {
    case SW_IDLE:
        if (ch->rx_closed) {
            rc = AL_ECLOSED;
        } else if (!ch->bound || (!ch->senders.head && ch->len + ch->reserved < ch->bound)) {
            rc = push_locked(ch, op->value, &wake);
        } else {
            w->waker = al_waker_clone(&cx->waker);
            al__wn_set_state(w, SW_QUEUED);
            al__waitq_push_back(&ch->senders, w);
            pending = full = true;
        }
        break;
    case SW_QUEUED:
        if (!al_waker_will_wake(&w->waker, &cx->waker)) {
            old = w->waker;
            w->waker = al_waker_clone(&cx->waker);
        }
        pending = true;
        break;
    case SW_GRANTED:
        ch->reserved--;
        rc = ch->rx_closed ? AL_ECLOSED : push_locked(ch, op->value, &wake);
        if (rc == AL_ENOMEM) { /* the slot stays free: pass it on */
            grant_locked(ch, &wl);
            flush_grants_locked(ch, &wl);
        }
        break;
    default: /* SW_CLOSED */
        rc = AL_ECLOSED;
        break;
    }
    if (!pending)
        al__wn_set_state(w, SW_DONE);
    len = ch->len;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    if (pending) {
        if (full)
            AL__EMIT_HERE(AL_EV_CHAN_FULL, al__current_task_id(), ch->id, 0, NULL);
        al_coop_refund();
        return AL_PENDING;
    }
    if (rc == 0) {
        AL__EMIT_HERE(AL_EV_CHAN_SEND, al__current_task_id(), ch->id, len, NULL);
        al_waker_wake(&wake, ch_src(ch));
    }
    al__wake_list_wake(&wl, ch_src(ch));
    *res = rc;
    return AL_READY;
}

void al_mpsc_send_drop(al_mpsc_send_t *op)
{
    al_wait_node_t *w = &op->node;
    uint32_t st = al__wn_state(w);
    if (st == SW_IDLE || st == SW_DONE) {
        al__wn_set_state(w, SW_DONE);
        return;
    }
    al_mpsc_t *ch = from_tx(op->tx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    st = al__wn_state(w);
    if (st == SW_QUEUED) {
        al__waitq_remove(&ch->senders, w);
    } else if (st == SW_GRANTED) {
        ch->reserved--; /* give the slot to the next waiter */
        grant_locked(ch, &wl);
        flush_grants_locked(ch, &wl);
    }
    al__wn_set_state(w, SW_DONE);
    al_waker_t mine = w->waker;
    w->waker = AL_WAKER_NONE;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&mine);
    al__wake_list_wake(&wl, ch_src(ch));
}

/* ---- receiver ---- */

int al_mpsc_try_recv(al_mpsc_rx_t *rx, void *out)
{
    al_mpsc_t *ch = from_rx(rx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    int rc = 0;
    size_t len;
    pthread_mutex_lock(&ch->lock);
    if (ch->len) {
        pop_locked(ch, out, &wl);
        flush_grants_locked(ch, &wl);
    } else if (ch->rx_closed || atomic_load_explicit(&ch->tx_count, memory_order_relaxed) == 0)
        rc = AL_ECLOSED;
    else
        rc = AL_EEMPTY;
    len = ch->len;
    pthread_mutex_unlock(&ch->lock);
    if (rc == 0)
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), ch->id, len, NULL);
    al__wake_list_wake(&wl, ch_src(ch));
    return rc;
}

void al_mpsc_recv_init(al_mpsc_recv_t *op, al_mpsc_rx_t *rx)
{
    op->rx = rx;
    op->waiting = false;
}

al_poll_t al_mpsc_recv_poll(al_mpsc_recv_t *op, al_context_t *cx, void *out, int *res)
{
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_mpsc_t *ch = from_rx(op->rx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    al_waker_t old = AL_WAKER_NONE;
    int rc = 0;
    bool pending = false;
    size_t len;
    pthread_mutex_lock(&ch->lock);
    if (ch->len) {
        pop_locked(ch, out, &wl);
        flush_grants_locked(ch, &wl);
    } else if (ch->rx_closed || atomic_load_explicit(&ch->tx_count, memory_order_relaxed) == 0) {
        rc = AL_ECLOSED;
    } else {
        if (!ch->rx_waiting || !al_waker_will_wake(&ch->rx_waker, &cx->waker)) {
            old = ch->rx_waker;
            ch->rx_waker = al_waker_clone(&cx->waker);
        }
        ch->rx_waiting = true;
        op->waiting = true;
        pending = true;
    }
    len = ch->len;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    if (pending) {
        AL__EMIT_HERE(AL_EV_CHAN_EMPTY, al__current_task_id(), ch->id, 0, NULL);
        al_coop_refund();
        return AL_PENDING;
    }
    if (rc == 0)
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), ch->id, len, NULL);
    al__wake_list_wake(&wl, ch_src(ch));
    *res = rc;
    return AL_READY;
}

void al_mpsc_recv_drop(al_mpsc_recv_t *op)
{
    if (!op->rx || !op->waiting)
        return;
    al_mpsc_t *ch = from_rx(op->rx);
    al_waker_t old = AL_WAKER_NONE;
    pthread_mutex_lock(&ch->lock);
    if (ch->rx_waiting) {
        ch->rx_waiting = false;
        old = ch->rx_waker;
        ch->rx_waker = AL_WAKER_NONE;
    }
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    op->waiting = false;
}

void al_mpsc_rx_close(al_mpsc_rx_t *rx)
{
    al_mpsc_t *ch = from_rx(rx);
    al__wake_list_t wl;
    wl.n = 0; /* (no initializer: it would zero all 32 slots) */
    pthread_mutex_lock(&ch->lock);
    bool first = !ch->rx_closed;
    ch->rx_closed = true;
    atomic_store_explicit(&ch->closed_snap, true, memory_order_release);
    al_wait_node_t *w;
    while ((w = al__waitq_pop_front(&ch->senders))) {
        al__wn_set_state(w, SW_CLOSED);
        al__wake_list_take(&wl, w);
        if (al__wake_list_full(&wl)) {
            pthread_mutex_unlock(&ch->lock);
            al__wake_list_wake(&wl, ch_src(ch));
            pthread_mutex_lock(&ch->lock);
        }
    }
    pthread_mutex_unlock(&ch->lock);
    if (first)
        AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), ch->id, 0, NULL);
    al__wake_list_wake(&wl, ch_src(ch));
}

void al_mpsc_rx_drop(al_mpsc_rx_t *rx)
{
    if (!rx)
        return;
    al_mpsc_t *ch = from_rx(rx);
    al_mpsc_rx_close(rx);
    /* No push happens once rx_closed is set: detach what is buffered. */
    pthread_mutex_lock(&ch->lock);
    unsigned char *buf = ch->buf;
    size_t cap = ch->ring_cap, head = ch->head, len = ch->len;
    ch->buf = NULL;
    ch->ring_cap = ch->head = 0;
    set_len(ch, 0);
    al_waker_t old = ch->rx_waker;
    ch->rx_waker = AL_WAKER_NONE;
    ch->rx_waiting = false;
    pthread_mutex_unlock(&ch->lock);
    al_waker_drop(&old);
    drop_values(ch, buf, cap, head, len);
    ch_release(ch);
}
