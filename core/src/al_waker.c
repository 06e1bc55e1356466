/*
 * al_waker.c — operations on wakers, and the cooperative budget.
 *
 * The budget lives in the thread-local context: the scheduler sets it to
 * AL_COOP_BUDGET before each task poll and to -1 (unconstrained) otherwise.
 */
#include <stdarg.h>
#include <string.h>

#include "al_internal.h"
#include "al_runtime_internal.h"

al_waker_t al_waker_clone(const al_waker_t *w)
{
    if (!w->vtable)
        return AL_WAKER_NONE;
    return (al_waker_t){.vtable = w->vtable, .data = w->vtable->clone(w->data)};
}

void al_waker_wake(al_waker_t *w, al_wake_src_t src)
{
    al_waker_t taken = *w;
    *w = AL_WAKER_NONE;
    if (taken.vtable)
        taken.vtable->wake(taken.data, src);
}

void al_waker_wake_by_ref(const al_waker_t *w, al_wake_src_t src)
{
    if (w->vtable)
        w->vtable->wake_by_ref(w->data, src);
}

void al_waker_drop(al_waker_t *w)
{
    al_waker_t taken = *w;
    *w = AL_WAKER_NONE;
    if (taken.vtable)
        taken.vtable->drop(taken.data);
}

bool al_waker_will_wake(const al_waker_t *a, const al_waker_t *b)
{
    return a->vtable == b->vtable && a->data == b->data;
}

void al_waker_set(al_waker_t *slot, const al_waker_t *w)
{
    if (al_waker_will_wake(slot, w))
        return;
    al_waker_t old = *slot;
    *slot = al_waker_clone(w);
    al_waker_drop(&old);
}

al_poll_t al_panic(al_context_t *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    free((void *)cx->panic_msg);
    cx->panic_msg = msg ? msg : strdup("panic (message lost: out of memory)");
    return AL_PANIC;
}

bool al_coop_poll_proceed(al_context_t *cx)
{
    int b = al__tls.coop;
    if (b < 0)
        return true; /* not inside a task poll */
    if (b > 0) {
        al__tls.coop = b - 1;
        return true;
    }
    /* Spent: yield. The wake puts the task at the back of its queue. */
    al__task_note_forced_yield(cx);
    if (!al__mt_defer(cx))
        al_waker_wake_by_ref(&cx->waker, AL_WAKE_SRC(AL_WAKE_YIELD, 0));
    return false;
}

void al_coop_refund(void)
{
    if (al__tls.coop >= 0 && al__tls.coop < AL_COOP_BUDGET)
        al__tls.coop++;
}

int al_coop_remaining(void) { return al__tls.coop; }
