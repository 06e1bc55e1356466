/*
 * al_console_clone.c — deep copies of the console model and what they cost
 * (see al_console_clone / al_console_memory in al_console.h).
 *
 * A copy owns everything it points to: the string table, the task and
 * resource slot arrays, the id maps, the workers and the blocking-pool
 * table. Histograms are shared, copied on write (al_console_internal.h):
 * they are most of a model's bytes, and most of them (finished tasks') never
 * change again. Slot numbers are kept as they are, so the run queues (lists
 * threaded through the task slots) and the retention FIFOs stay valid in the
 * copy without any fix-up.
 */
#include <stdlib.h>
#include <string.h>

#include "al_console_internal.h"
#include "al_error.h"

/* A copy of n items of size sz at src (NULL for n == 0); false when out of
 * memory. */
static bool al__dup(void **dst, const void *src, size_t n, size_t sz)
{
    *dst = NULL;
    if (n == 0 || !src)
        return true;
    *dst = malloc(n * sz);
    if (!*dst)
        return false;
    memcpy(*dst, src, n * sz);
    return true;
}

/* The copy, with src locked by the caller. */
static int al__clone_locked(const al_console_t *src, al_console_t *c)
{
    /* Plain fields first; every pointer is replaced below (NULL until its
     * copy is made, so a failure part-way frees only what was copied). */
    pthread_mutex_t lock = c->lock;
    *c = *src;
    c->lock = lock;
    c->drops_by_thread = NULL;
    c->strings = NULL;
    c->tasks = NULL;
    c->res = NULL;
    c->workers = NULL;
    c->blocking_running = NULL;
    c->task_ids = (al__idmap_t){0};
    /* A detail source belongs to the layer that set it on the original (it
     * may look at live tasks): the copy has none. */
    c->detail_fn = NULL;
    c->detail_ctx = NULL;
    c->res_ids = (al__idmap_t){0};
    uint32_t num_strings = c->num_strings, num_tasks = c->num_task_slots,
             num_res = c->num_res_slots;
    c->num_strings = c->num_task_slots = c->num_res_slots = 0;

    if (!al__dup((void **)&c->drops_by_thread, src->drops_by_thread, src->num_drop_threads,
                 sizeof(uint64_t)) ||
        !al__dup((void **)&c->workers, src->workers, src->num_workers, sizeof(al__cworker_t)) ||
        !al__dup((void **)&c->blocking_running, src->blocking_running, src->num_blocking_slots,
                 sizeof(uint64_t)) ||
        !al__idmap_clone(&c->task_ids, &src->task_ids) ||
        !al__idmap_clone(&c->res_ids, &src->res_ids))
        return AL_ENOMEM;
    if (num_strings) {
        if (!(c->strings = calloc(num_strings, sizeof *c->strings)))
            return AL_ENOMEM;
        c->num_strings = num_strings;
        for (uint32_t i = 0; i < num_strings; i++)
            if (src->strings[i] && !(c->strings[i] = strdup(src->strings[i])))
                return AL_ENOMEM;
    }
    if (num_tasks) {
        if (!al__dup((void **)&c->tasks, src->tasks, num_tasks, sizeof(al__ctask_t)))
            return AL_ENOMEM;
        for (uint32_t i = 0; i < num_tasks; i++) {
            al__hist_ref(c->tasks[i].poll_h);
            al__hist_ref(c->tasks[i].sched_h);
        }
        c->num_task_slots = num_tasks;
    }
    if (num_res) {
        if (!al__dup((void **)&c->res, src->res, num_res, sizeof(al__cres_t)))
            return AL_ENOMEM;
        for (uint32_t i = 0; i < num_res; i++)
            al__hist_ref(c->res[i].wait_h);
        c->num_res_slots = num_res;
    }
    return 0;
}

int al_console_clone(al_console_t *src, al_console_t **out)
{
    if (!src || !out)
        return AL_EINVAL;
    al_console_t *c;
    int rc = al_console_new(NULL, &c);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&src->lock);
    rc = al__clone_locked(src, c);
    pthread_mutex_unlock(&src->lock);
    if (rc != 0) {
        al_console_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

size_t al_console_memory(al_console_t *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = sizeof *c + c->num_drop_threads * sizeof(uint64_t) +
               c->num_workers * sizeof(al__cworker_t) + c->num_blocking_slots * sizeof(uint64_t) +
               (size_t)(c->task_ids.cap + c->res_ids.cap) * (sizeof(uint64_t) + sizeof(uint32_t)) +
               c->num_strings * sizeof(char *) + c->num_task_slots * sizeof(al__ctask_t) +
               c->num_res_slots * sizeof(al__cres_t);
    for (uint32_t i = 0; i < c->num_strings; i++)
        if (c->strings[i])
            n += strlen(c->strings[i]) + 1;
    for (uint32_t i = 0; i < c->num_task_slots; i++)
        n += al__hist_share(c->tasks[i].poll_h) + al__hist_share(c->tasks[i].sched_h);
    for (uint32_t i = 0; i < c->num_res_slots; i++)
        n += al__hist_share(c->res[i].wait_h);
    pthread_mutex_unlock(&c->lock);
    return n;
}
