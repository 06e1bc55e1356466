/*
 * lua_rc.c — strong and weak counts, and the list of live shared objects
 * (see lua_rc.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "lua_handle.h"
#include "lua_rc.h"

static pthread_mutex_t al_lua_rc_lock = PTHREAD_MUTEX_INITIALIZER;
static al_lua_rc_t *al_lua_rc_live; /* newest first */
static size_t al_lua_rc_count;

void al_lua_rc_init(al_lua_rc_t *rc, const struct al_lua_class *cls)
{
    atomic_init(&rc->strong, 1);
    atomic_init(&rc->weak, 1);
    rc->cls = cls;
    rc->prev = NULL;
    pthread_mutex_lock(&al_lua_rc_lock);
    rc->next = al_lua_rc_live;
    if (rc->next)
        rc->next->prev = rc;
    al_lua_rc_live = rc;
    al_lua_rc_count++;
    pthread_mutex_unlock(&al_lua_rc_lock);
}

void al_lua_rc_retain(al_lua_rc_t *rc)
{
    atomic_fetch_add_explicit(&rc->strong, 1, memory_order_relaxed);
}

bool al_lua_rc_release(al_lua_rc_t *rc)
{
    if (atomic_fetch_sub_explicit(&rc->strong, 1, memory_order_acq_rel) != 1)
        return false;
    /* Out of the list before the caller drops the contents: the report
     * describes only objects whose contents are intact. */
    pthread_mutex_lock(&al_lua_rc_lock);
    if (rc->prev)
        rc->prev->next = rc->next;
    else
        al_lua_rc_live = rc->next;
    if (rc->next)
        rc->next->prev = rc->prev;
    al_lua_rc_count--;
    pthread_mutex_unlock(&al_lua_rc_lock);
    return true;
}

bool al_lua_rc_upgrade(al_lua_rc_t *rc)
{
    int n = atomic_load_explicit(&rc->strong, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak_explicit(&rc->strong, &n, n + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    return false;
}

int al_lua_rc_strong_count(al_lua_rc_t *rc)
{
    return atomic_load_explicit(&rc->strong, memory_order_acquire);
}

void al_lua_rc_weak_retain(al_lua_rc_t *rc)
{
    atomic_fetch_add_explicit(&rc->weak, 1, memory_order_relaxed);
}

void al_lua_rc_weak_release(al_lua_rc_t *rc)
{
    if (atomic_fetch_sub_explicit(&rc->weak, 1, memory_order_acq_rel) == 1)
        free(rc);
}

size_t al_lua_rc_alive(void)
{
    pthread_mutex_lock(&al_lua_rc_lock);
    size_t n = al_lua_rc_count;
    pthread_mutex_unlock(&al_lua_rc_lock);
    return n;
}

size_t al_lua_rc_report(FILE *out)
{
    pthread_mutex_lock(&al_lua_rc_lock);
    size_t n = al_lua_rc_count;
    if (n) {
        fprintf(out,
                "asynclab: %zu shared object%s still alive after every Lua state was closed: "
                "only values kept by shared objects refer to %s, so a reference cycle "
                "keeps %s (pitfall E2):\n",
                n, n == 1 ? " is" : "s are", n == 1 ? "it" : "them", n == 1 ? "it" : "them");
        for (al_lua_rc_t *rc = al_lua_rc_live; rc; rc = rc->next) {
            char what[160] = "";
            if (rc->cls->describe)
                rc->cls->describe(rc, what, sizeof what);
            int strong = atomic_load(&rc->strong);
            fprintf(out, "  %s %s: %d strong reference%s\n", rc->cls->name, what, strong,
                    strong == 1 ? "" : "s");
        }
        fprintf(out, "  hold the back reference with rt.sync.Weak.new(h) instead "
                     "(w:upgrade() gives h while it lives)\n");
    }
    pthread_mutex_unlock(&al_lua_rc_lock);
    return n;
}
