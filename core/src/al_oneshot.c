/*
 * al_oneshot.c — oneshot channel: a lock-free state word, the receiver's
 * waker, and the value, in one small allocation (modelled on the design of
 * Tokio's oneshot; no code shared).
 *
 * Layout (struct al_oneshot, 32 bytes + elem_size):
 *   state       64-bit atomic word:
 *                 bits 0..7   flags (below)
 *                 bits 8..23  elem_size (constant)
 *                 bits 24..63 resource id (constant, 40 bits)
 *               Packing the constants into the state word is what keeps a
 *               oneshot of a pointer-sized value in a 48-byte malloc chunk.
 *   rx_waker    the receiver's waker (16 bytes)
 *   drop_value  constant
 *   value[]     elem_size bytes
 *
 * Flags:
 *   VALUE_SENT  value[] holds a sent value (set together with TX_DONE)
 *   TX_DONE     the sender is finished: sent, or dropped without sending
 *   RX_CLOSED   the receiver closed or was dropped: sends fail
 *   WAKER_SET   rx_waker holds a waker the sender may wake
 *   TX_REF      the sender handle is alive (owns a reference)
 *   RX_REF      the receiver handle is alive
 *   TAKEN       the receiver copied the value out
 *
 * Protocol.
 *   send: if RX_CLOSED, fail. Otherwise write value[] (nobody reads it before
 *     VALUE_SENT), then CAS VALUE_SENT|TX_DONE in (release), failing instead if
 *     RX_CLOSED appeared meanwhile. If WAKER_SET was set in the state the CAS
 *     replaced, wake rx_waker by reference. Finally clear TX_REF; the side that
 *     clears the last *_REF bit frees the allocation.
 *   tx drop (unsent): set TX_DONE; wake if WAKER_SET; clear TX_REF.
 *   recv poll: load (acquire). VALUE_SENT: copy out, set TAKEN. TX_DONE or
 *     RX_CLOSED: AL_ECLOSED. Otherwise store the waker: if WAKER_SET is set and
 *     the stored waker wakes the same task, nothing to do; else first clear
 *     WAKER_SET with a CAS (it fails if the sender finished meanwhile: then
 *     re-check), now owning rx_waker, replace it, and set WAKER_SET with a
 *     fetch_or (acq_rel); if that shows TX_DONE, the sender may have missed the
 *     waker: re-check instead of returning Pending.
 *
 * Invariants / who touches what:
 *   rx_waker: written only by the receiver while WAKER_SET is clear; read
 *     (wake_by_ref) only by the sender after its RMW that set TX_DONE observed
 *     WAKER_SET. Once TX_DONE is set the receiver never touches rx_waker
 *     again; it is dropped when the allocation is freed (or by a cancelled
 *     recv, which may clear WAKER_SET only while TX_DONE is clear).
 *   value[]: written by the sender before VALUE_SENT (release); read by the
 *     receiver after observing VALUE_SENT (acquire), or by whoever frees.
 *   The sender keeps TX_REF until after its wake, so the allocation cannot be
 *     freed under a wake in progress. Freeing happens-after both handles'
 *     last accesses (acq_rel on the *_REF clears).
 */
#include <string.h>

#include "al_internal.h"
#include "al_oneshot.h"

enum {
    F_VALUE_SENT = 1u << 0,
    F_TX_DONE = 1u << 1,
    F_RX_CLOSED = 1u << 2,
    F_WAKER_SET = 1u << 3,
    F_TX_REF = 1u << 4,
    F_RX_REF = 1u << 5,
    F_TAKEN = 1u << 6,
};

#define ELEM_SHIFT 8
#define ID_SHIFT 24
#define ID_MASK ((UINT64_C(1) << 40) - 1)

typedef struct al_oneshot {
    _Atomic uint64_t state;
    al_waker_t rx_waker;
    al_chan_drop_fn drop_value;
    unsigned char value[];
} al_oneshot_t;

static inline al_oneshot_t *from_tx(const al_oneshot_tx_t *tx)
{
    return (al_oneshot_t *)tx;
}
static inline al_oneshot_t *from_rx(const al_oneshot_rx_t *rx)
{
    return (al_oneshot_t *)rx;
}

static inline uint64_t os_id(uint64_t st)
{
    return st >> ID_SHIFT;
}
static inline size_t os_elem(uint64_t st)
{
    return (size_t)((st >> ELEM_SHIFT) & 0xffff);
}

int al_oneshot_channel(size_t elem_size, al_chan_drop_fn drop_value, al_oneshot_tx_t **tx,
                       al_oneshot_rx_t **rx)
{
    if (!tx || !rx || elem_size == 0 || elem_size > 0xffff)
        return AL_EINVAL;
    al_oneshot_t *o = malloc(sizeof *o + elem_size);
    if (!o)
        return AL_ENOMEM;
    uint64_t id = al__resource_id_next() & ID_MASK;
    atomic_init(&o->state,
                (id << ID_SHIFT) | ((uint64_t)elem_size << ELEM_SHIFT) | F_TX_REF | F_RX_REF);
    o->rx_waker = AL_WAKER_NONE;
    o->drop_value = drop_value;
    AL__EMIT_HERE(AL_EV_RESOURCE_CREATE, al__current_task_id(), id, AL_RES_ONESHOT, NULL);
    *tx = (al_oneshot_tx_t *)o;
    *rx = (al_oneshot_rx_t *)o;
    return 0;
}

static void os_free(al_oneshot_t *o, uint64_t st)
{
    AL__EMIT_HERE(AL_EV_RESOURCE_DROP, 0, os_id(st), 0, NULL);
    if ((st & F_VALUE_SENT) && !(st & F_TAKEN) && o->drop_value)
        o->drop_value(o->value);
    al_waker_drop(&o->rx_waker);
    free(o);
}

/* Clear one *_REF bit; the last one out frees. */
static void os_release(al_oneshot_t *o, uint64_t ref)
{
    uint64_t st = atomic_fetch_and_explicit(&o->state, ~ref, memory_order_acq_rel);
    if (!(st & ((F_TX_REF | F_RX_REF) & ~ref)))
        os_free(o, st & ~ref);
}

int al_oneshot_send(al_oneshot_tx_t *tx, const void *value)
{
    al_oneshot_t *o = from_tx(tx);
    uint64_t st = atomic_load_explicit(&o->state, memory_order_acquire);
    int rc = 0;
    if (st & F_RX_CLOSED) {
        rc = AL_ECLOSED;
    } else {
        memcpy(o->value, value, os_elem(st));
        for (;;) {
            if (st & F_RX_CLOSED) {
                rc = AL_ECLOSED;
                break;
            }
            if (atomic_compare_exchange_weak_explicit(&o->state, &st, st | F_VALUE_SENT | F_TX_DONE,
                                                      memory_order_acq_rel, memory_order_acquire))
                break;
        }
    }
    if (rc == 0) {
        AL__EMIT_HERE(AL_EV_CHAN_SEND, al__current_task_id(), os_id(st), 1, NULL);
        if (st & F_WAKER_SET)
            al_waker_wake_by_ref(&o->rx_waker, AL_WAKE_SRC(AL_WAKE_CHANNEL, os_id(st)));
    } else {
        /* The receiver is gone: the sender is done anyway (send consumes it). */
        atomic_fetch_or_explicit(&o->state, F_TX_DONE, memory_order_acq_rel);
    }
    os_release(o, F_TX_REF);
    return rc;
}

void al_oneshot_tx_drop(al_oneshot_tx_t *tx)
{
    if (!tx)
        return;
    al_oneshot_t *o = from_tx(tx);
    uint64_t st = atomic_fetch_or_explicit(&o->state, F_TX_DONE, memory_order_acq_rel);
    AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), os_id(st), 0, NULL);
    if ((st & F_WAKER_SET) && !(st & F_TX_DONE))
        al_waker_wake_by_ref(&o->rx_waker, AL_WAKE_SRC(AL_WAKE_CHANNEL, os_id(st)));
    os_release(o, F_TX_REF);
}

bool al_oneshot_tx_is_closed(const al_oneshot_tx_t *tx)
{
    return atomic_load_explicit(&from_tx(tx)->state, memory_order_acquire) & F_RX_CLOSED;
}

uint64_t al_oneshot_tx_id(const al_oneshot_tx_t *tx)
{
    return os_id(atomic_load_explicit(&from_tx(tx)->state, memory_order_relaxed));
}
uint64_t al_oneshot_rx_id(const al_oneshot_rx_t *rx)
{
    return os_id(atomic_load_explicit(&from_rx(rx)->state, memory_order_relaxed));
}

/* The receiver's non-blocking check: 0 (value copied), AL_ECLOSED, AL_EEMPTY. */
static int os_take(al_oneshot_t *o, uint64_t st, void *out)
{
    if (st & F_VALUE_SENT) {
        if (st & F_TAKEN)
            return AL_ECLOSED;
        memcpy(out, o->value, os_elem(st));
        atomic_fetch_or_explicit(&o->state, F_TAKEN, memory_order_relaxed);
        AL__EMIT_HERE(AL_EV_CHAN_RECV, al__current_task_id(), os_id(st), 0, NULL);
        return 0;
    }
    if (st & (F_TX_DONE | F_RX_CLOSED))
        return AL_ECLOSED;
    return AL_EEMPTY;
}

int al_oneshot_try_recv(al_oneshot_rx_t *rx, void *out)
{
    al_oneshot_t *o = from_rx(rx);
    return os_take(o, atomic_load_explicit(&o->state, memory_order_acquire), out);
}

void al_oneshot_recv_init(al_oneshot_recv_t *op, al_oneshot_rx_t *rx)
{
    op->rx = rx;
}

al_poll_t al_oneshot_recv_poll(al_oneshot_recv_t *op, al_context_t *cx, void *out, int *res)
{
    if (!al_coop_poll_proceed(cx))
        return AL_PENDING;
    al_oneshot_t *o = from_rx(op->rx);
    uint64_t st = atomic_load_explicit(&o->state, memory_order_acquire);
    for (;;) {
        int rc = os_take(o, st, out);
        if (rc != AL_EEMPTY) {
            *res = rc;
            return AL_READY;
        }
        if (st & F_WAKER_SET) {
            if (al_waker_will_wake(&o->rx_waker, &cx->waker))
                break;
            /* Take rx_waker back; fails if the sender finished meanwhile. */
            if (!atomic_compare_exchange_weak_explicit(&o->state, &st, st & ~(uint64_t)F_WAKER_SET,
                                                       memory_order_acquire, memory_order_acquire))
                continue;
            st &= ~(uint64_t)F_WAKER_SET;
        }
        al_waker_set(&o->rx_waker, &cx->waker);
        st = atomic_fetch_or_explicit(&o->state, F_WAKER_SET, memory_order_acq_rel) | F_WAKER_SET;
        if (st & F_TX_DONE)
            continue; /* finished meanwhile: take the result now */
        break;
    }
    AL__EMIT_HERE(AL_EV_CHAN_EMPTY, al__current_task_id(), os_id(st), 0, NULL);
    al_coop_refund();
    return AL_PENDING;
}

void al_oneshot_recv_drop(al_oneshot_recv_t *op)
{
    if (!op->rx)
        return;
    /* Release a registered waker early (the task reference it holds), unless
     * the sender finished: then it may be waking it right now. */
    al_oneshot_t *o = from_rx(op->rx);
    uint64_t st = atomic_load_explicit(&o->state, memory_order_acquire);
    while ((st & F_WAKER_SET) && !(st & F_TX_DONE)) {
        if (atomic_compare_exchange_weak_explicit(&o->state, &st, st & ~(uint64_t)F_WAKER_SET,
                                                  memory_order_acquire, memory_order_acquire)) {
            al_waker_drop(&o->rx_waker);
            break;
        }
    }
    op->rx = NULL;
}

void al_oneshot_rx_close(al_oneshot_rx_t *rx)
{
    al_oneshot_t *o = from_rx(rx);
    uint64_t st = atomic_fetch_or_explicit(&o->state, F_RX_CLOSED, memory_order_acq_rel);
    if (!(st & F_RX_CLOSED))
        AL__EMIT_HERE(AL_EV_CHAN_CLOSE, al__current_task_id(), os_id(st), 0, NULL);
}

void al_oneshot_rx_drop(al_oneshot_rx_t *rx)
{
    if (!rx)
        return;
    al_oneshot_rx_close(rx);
    os_release(from_rx(rx), F_RX_REF);
}
