/*
 * al_runtime.c — building a runtime, spawning onto it, block_on, shutdown,
 * metrics, and the context lookups (which runtime / driver is current).
 *
 * Shutdown order (al_runtime_shutdown), and why:
 *   1. mark shutting_down, so new spawns and block_on calls are refused;
 *   2. stop the workers (close the inject queue, wake them, join them) —
 *      no task is polled after this, except blocking tasks already running;
 *   3. stop the blocking pool: drop queued jobs, wait (until the deadline)
 *      for running ones, which include block_in_place handoff threads;
 *   4. cancel every task still alive (the owned set's snapshot): each idle
 *      task's future is dropped, and its joiner sees AL_JOIN_CANCELLED;
 *   5. drain the run queues (every task in them is now complete);
 *   6. shut the driver down: fire the timers left, close I/O registrations.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "al_blocking.h"
#include "al_parker.h"
#include "al_runtime_internal.h"
#include "al_flight.h"
#include "al_log.h"
#include "al_tracefile.h"
#include "al_stream_internal.h"
#include "al_time_driver.h"

#define AL__MAX_WORKERS 1024

void al_runtime_config_init(al_runtime_config_t *cfg, al_flavor_t flavor)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flavor = flavor;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->worker_threads = flavor == AL_CURRENT_THREAD ? 1 : ncpu > 0 ? (uint32_t)ncpu : 1;
    cfg->max_blocking_threads = 512;
    cfg->blocking_keep_alive_ms = 10000;
    cfg->event_interval = 61;
    cfg->global_queue_interval = flavor == AL_CURRENT_THREAD ? 31 : 61;
    cfg->thread_name = "al-worker";
}

/*
 * ASYNCLAB_LOG=trace[:FILTER] logs every event of this runtime to stderr (the
 * text logger on a stream of its own). A bad filter is reported once and
 * logging stays off; it never stops the runtime from starting.
 */
static void al__runtime_log_from_env(al_runtime_t *rt)
{
    const char *v = getenv("ASYNCLAB_LOG");
    if (!v || strncmp(v, "trace", 5) != 0 || (v[5] != 0 && v[5] != ':'))
        return;
    char err[256];
    al_log_t *log = NULL;
    int rc = al_log_new(stderr, v[5] ? v + 6 : NULL, &log, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "asynclab: ASYNCLAB_LOG: %s\n", rc == AL_EINVAL ? err : al_strerror(rc));
        return;
    }
    al_stream_t *st = NULL;
    if ((rc = al_stream_start(rt, NULL, &st)) != 0 ||
        (rc = al_stream_subscribe(st, &al_log_consumer, log)) != 0) {
        fprintf(stderr, "asynclab: ASYNCLAB_LOG: cannot record events: %s\n", al_strerror(rc));
        al_log_free(log);
        return;
    }
    rt->env_log = log;
}

/*
 * ASYNCLAB_TRACE=path records every event of this runtime into a trace file
 * (the second runtime of the process writes path.2, and so on).
 */
static void al__runtime_trace_from_env(al_runtime_t *rt)
{
    static atomic_uint runtimes;
    const char *path = getenv("ASYNCLAB_TRACE");
    if (!path || !*path)
        return;
    unsigned nth = atomic_fetch_add(&runtimes, 1) + 1;
    char name[4096];
    if (nth == 1)
        snprintf(name, sizeof name, "%s", path);
    else
        snprintf(name, sizeof name, "%s.%u", path, nth);
    al_tracefile_writer_t *w = NULL;
    int rc = al_tracefile_writer_open(name, &w);
    al_stream_t *st = al_stream_of(rt);
    if (rc == 0 && !st)
        rc = al_stream_start(rt, NULL, &st);
    if (rc == 0)
        rc = al_stream_subscribe(st, &al_tracefile_writer_consumer, w);
    if (rc != 0) {
        fprintf(stderr, "asynclab: ASYNCLAB_TRACE: cannot record to %s: %s\n", name,
                al_strerror(rc));
        if (w)
            al_tracefile_writer_close(w);
        return;
    }
    rt->env_trace = w;
}

/* A number >= 0 (seconds or MiB, decimals allowed), or "" (the default:
 * *out untouched). False for anything else. */
static bool al__env_number(const char *s, double *out)
{
    if (!*s)
        return true;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !(v >= 0) || v > 1e12)
        return false;
    *out = v;
    return true;
}

/*
 * ASYNCLAB_FLIGHT=path[:seconds[:MiB]] keeps the last seconds / MiB of this
 * runtime's events in a flight recorder (al_flight.h) saved to path on
 * SIGQUIT; ASYNCLAB_FLIGHT_HANG=seconds also saves it once on a hang. Trailing
 * fields that are not numbers belong to the path.
 */
static void al__runtime_flight_from_env(al_runtime_t *rt)
{
    static atomic_uint runtimes;
    const char *v = getenv("ASYNCLAB_FLIGHT");
    if (!v || !*v)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s", v);
    double secs = 0, mib = 0, hang = 0;
    char *c1 = strrchr(path, ':');
    if (c1 && al__env_number(c1 + 1, &mib)) {
        *c1 = 0;
        char *c2 = strrchr(path, ':');
        double s2 = 0;
        if (c2 && al__env_number(c2 + 1, &s2)) {
            *c2 = 0;
            secs = s2; /* path:seconds:MiB */
        } else {
            secs = mib; /* path:seconds */
            mib = 0;
        }
    }
    const char *h = getenv("ASYNCLAB_FLIGHT_HANG");
    if (h && !al__env_number(h, &hang))
        fprintf(stderr, "asynclab: ASYNCLAB_FLIGHT_HANG=%s: not a number of seconds\n", h);
    unsigned nth = atomic_fetch_add(&runtimes, 1) + 1;
    char name[4200];
    if (nth == 1)
        snprintf(name, sizeof name, "%s", path);
    else
        snprintf(name, sizeof name, "%s.%u", path, nth);
    al_flight_config_t cfg = {
        .max_bytes = (uint64_t)(mib * 1048576.0),
        .window_ns = (uint64_t)(secs * 1e9),
        .path = name,
        .save_on_sigquit = true,
        .hang_ms = hang > 0 && hang * 1000.0 < 1 ? 1 : (uint64_t)(hang * 1000.0),
    };
    int rc = al_flight_record(rt, &cfg, &rt->env_flight);
    if (rc != 0)
        fprintf(stderr, "asynclab: ASYNCLAB_FLIGHT: cannot record for %s: %s\n", name,
                al_strerror(rc));
}

int al_runtime_new(const al_runtime_config_t *cfg_in, al_runtime_t **out)
{
    if (!cfg_in || !out)
        return AL_EINVAL;
    al_runtime_config_t cfg = *cfg_in;
    if (cfg.flavor != AL_MULTI_THREAD && cfg.flavor != AL_CURRENT_THREAD)
        return AL_EINVAL;
    if (cfg.flavor == AL_CURRENT_THREAD)
        cfg.worker_threads = 1;
    if (cfg.worker_threads < 1 || cfg.worker_threads > AL__MAX_WORKERS)
        return AL_EWORKERS;
    if (cfg.event_interval == 0 || cfg.global_queue_interval == 0 || cfg.max_blocking_threads == 0)
        return AL_EINVAL;
    if (cfg.start_paused && (cfg.flavor != AL_CURRENT_THREAD || !cfg.enable_time))
        return AL_EINVAL; /* test time needs the current-thread flavor and timers */

    al_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt)
        return AL_ENOMEM;
    rt->cfg = cfg;
    snprintf(rt->thread_name, sizeof rt->thread_name, "%s",
             cfg.thread_name ? cfg.thread_name : "al-worker");
    rt->cfg.thread_name = rt->thread_name;
    al__owned_init(&rt->owned);
    al__gate_init(&rt->gate);
    int rc = al__driver_init(&rt->driver, rt, cfg.enable_time, cfg.enable_io, cfg.start_paused);
    if (rc != 0)
        goto fail_driver;
    rc = al__blocking_new(rt, cfg.max_blocking_threads,
                          (uint64_t)cfg.blocking_keep_alive_ms * 1000000u, &rt->blocking);
    if (rc != 0)
        goto fail_blocking;
    rc = cfg.flavor == AL_MULTI_THREAD ? al__mt_new(rt, &rt->mt) : al__ct_new(rt, &rt->ct);
    if (rc != 0)
        goto fail_sched;
    al__runtime_log_from_env(rt);
    al__runtime_trace_from_env(rt);
    al__runtime_flight_from_env(rt);
    AL__EMIT(rt, AL_EV_RUNTIME_START, 0, cfg.worker_threads, cfg.flavor, NULL);
    if (rt->mt && (rc = al__mt_start(rt->mt)) != 0) {
        /* Some threads may run already: shut them down properly. */
        al_runtime_free(rt);
        return rc;
    }
    *out = rt;
    return 0;

fail_sched:
    al__blocking_free(rt->blocking);
fail_blocking:
    al__driver_destroy(&rt->driver);
fail_driver:
    al__owned_destroy(&rt->owned);
    al__gate_destroy(&rt->gate);
    free(rt);
    return rc;
}

const al_runtime_config_t *al_runtime_config(const al_runtime_t *rt)
{
    return &rt->cfg;
}
uint32_t al_runtime_num_workers(const al_runtime_t *rt)
{
    return rt->cfg.worker_threads;
}

void al_runtime_set_hook(al_runtime_t *rt, al_event_fn fn, void *user)
{
    atomic_store_explicit(&rt->hook.user, user, memory_order_relaxed);
    atomic_store_explicit(&rt->hook.fn, fn, memory_order_release);
}

void al__runtime_count_forced_yield(al_runtime_t *rt)
{
    atomic_fetch_add_explicit(&rt->forced_yield_count, 1, memory_order_relaxed);
}

al__driver_t *al__runtime_driver(al_runtime_t *rt)
{
    return &rt->driver;
}
struct al__time *al__runtime_time(al_runtime_t *rt)
{
    return rt->driver.time;
}
struct al__io *al__runtime_io(al_runtime_t *rt)
{
    return rt->driver.io;
}

static int al__context_check(al_runtime_t **rt)
{
    *rt = al__tls.rt;
    if (!*rt)
        return AL_ENORUNTIME;
    if (atomic_load_explicit(&(*rt)->shutting_down, memory_order_relaxed))
        return AL_ESHUTDOWN;
    return 0;
}

int al__context_time(struct al__time **out)
{
    al_runtime_t *rt;
    int rc = al__context_check(&rt);
    if (rc)
        return rc;
    if (!rt->driver.time)
        return AL_ETIMEDISABLED;
    *out = rt->driver.time;
    return 0;
}

int al__context_io(struct al__io **out)
{
    al_runtime_t *rt;
    int rc = al__context_check(&rt);
    if (rc)
        return rc;
    if (!rt->driver.io)
        return AL_EIODISABLED;
    *out = rt->driver.io;
    return 0;
}

/* ---- spawning ---------------------------------------------------------------------- */

int al__runtime_spawn_task(al_runtime_t *rt, struct al_task *t, bool with_join,
                           const al_spawn_opts_t *opts)
{
    if (atomic_load_explicit(&rt->shutting_down, memory_order_relaxed))
        return AL_ESHUTDOWN;
    if (t->kind == AL_TASK_BLOCKING)
        t->sched = al__blocking_sched(rt->blocking);
    else
        t->sched = rt->mt ? al__mt_sched(rt->mt) : al__ct_sched(rt->ct);
    al__task_init_state(t, with_join);
    int rc = al__owned_insert(&rt->owned, t);
    if (rc != 0)
        return rc;
    atomic_fetch_add_explicit(&rt->spawned_count, 1, memory_order_relaxed);
    if (AL_UNLIKELY(al__hooked(rt))) {
        al__emit(rt, AL_EV_TASK_SPAWN, t->id, al__current_task_id(), t->kind,
                 opts ? opts->name : NULL);
        if (opts && opts->location)
            al__emit(rt, AL_EV_TASK_SPAWN_LOCATION, t->id, 0, 0, opts->location);
    }
    t->sched->vt->schedule(t->sched, t, false);
    return 0;
}

static int al__spawn_kind(al_runtime_t *rt, const al_future_vtable_t *vt, const void *init,
                          const al_spawn_opts_t *opts, al_join_t **out, al_task_kind_t kind)
{
    if (!vt || !vt->poll || (vt->future_size && !init)) {
        return AL_EINVAL;
    }
    if (!rt)
        rt = al__tls.rt;
    int rc = AL_ENORUNTIME;
    struct al_task *t = NULL;
    if (rt) {
        t = al__task_alloc(vt, init, kind);
        rc = t ? al__runtime_spawn_task(rt, t, out != NULL, opts) : AL_ENOMEM;
    }
    if (rc != 0) {
        if (t)
            al__task_discard(t);
        else if (vt->drop)
            vt->drop((void *)init);
        return rc;
    }
    if (out)
        *out = t;
    return 0;
}

int al_spawn(al_runtime_t *rt, const al_future_vtable_t *vt, const void *init,
             const al_spawn_opts_t *opts, al_join_t **out)
{
    return al__spawn_kind(rt, vt, init, opts, out, AL_TASK_ASYNC);
}

typedef struct al__blocking_future {
    al_blocking_fn fn;
    void *arg;
} al__blocking_future_t;

static al_poll_t al__blocking_future_poll(void *fut, al_context_t *cx, void *out)
{
    al__blocking_future_t *f = fut;
    void *result = f->fn(f->arg);
    memcpy(out, &result, sizeof result);
    return AL_READY;
}

static const al_future_vtable_t al__blocking_future_vt = {
    .type_name = "blocking",
    .poll = al__blocking_future_poll,
    .future_size = sizeof(al__blocking_future_t),
    .output_size = sizeof(void *),
};

int al_spawn_blocking(al_runtime_t *rt, al_blocking_fn fn, void *arg, const al_spawn_opts_t *opts,
                      al_join_t **out)
{
    if (!fn)
        return AL_EINVAL;
    al__blocking_future_t f = {fn, arg};
    return al__spawn_kind(rt, &al__blocking_future_vt, &f, opts, out, AL_TASK_BLOCKING);
}

/* ---- block_on ---------------------------------------------------------------------------- */

/* Multi-thread flavor: the caller is not a worker; it polls the future and
 * sleeps on a parker between polls while the workers run the tasks. */
static int al__mt_block_on(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut, void *out,
                           char **panic_msg)
{
    al__parker_t *parker = al__parker_new();
    if (!parker)
        return AL_ENOMEM;
    al__tls_t saved = al__tls;
    al__tls.rt = rt;
    al__tls.entered = true;
    al__tls.worker_index = AL_EV_NOT_WORKER;
    int rc = 0;
    al_context_t cx = {.waker = al__parker_waker(parker), .rt = rt};
    for (;;) {
        al_poll_t r = vt->poll(fut, &cx, out);
        if (r == AL_READY)
            break;
        if (r == AL_PANIC) {
            if (panic_msg)
                *panic_msg = (char *)cx.panic_msg;
            else
                free((void *)cx.panic_msg);
            rc = AL_EPANIC;
            break;
        }
        al__parker_park(parker);
    }
    al__tls = saved;
    al__parker_unref(parker);
    return rc;
}

int al_runtime_block_on(al_runtime_t *rt, const al_future_vtable_t *vt, void *fut, void *out,
                        char **panic_msg)
{
    if (!rt || !vt || !vt->poll)
        return AL_EINVAL;
    if (al__tls.entered)
        return AL_ENESTED;
    if (atomic_load(&rt->shutting_down))
        return AL_ESHUTDOWN;
    if (rt->mt)
        return al__mt_block_on(rt, vt, fut, out, panic_msg);
    return al__ct_block_on(rt->ct, vt, fut, out, panic_msg);
}

/* ---- shutdown ------------------------------------------------------------------------------ */

int al_runtime_shutdown(al_runtime_t *rt, uint64_t timeout_ms, al_shutdown_report_t *report)
{
    if (!rt)
        return AL_EINVAL;
    if (al__tls.rt == rt && al__tls.entered)
        return AL_EDROPINASYNC;
    bool expected = false;
    if (!atomic_compare_exchange_strong(&rt->shutting_down, &expected, true))
        return AL_ESHUTDOWN;
    al__gate_shutdown(&rt->gate); /* a gated worker must reach its exit */
    al_shutdown_report_t rep = {0};
    uint64_t now = al__now_ns();
    uint64_t deadline =
        timeout_ms >= UINT64_MAX / 2000000u ? UINT64_MAX / 2 : now + timeout_ms * 1000000u;

    al__tls_t saved = al__tls;
    if (rt->mt) {
        if (!al__mt_stop(rt->mt, deadline))
            rep.timed_out = true;
    } else {
        al__ct_close(rt->ct);
        al__driver_unpark(&rt->driver); /* a block_on in progress notices and returns */
    }
    rep.blocking_threads_left = al__blocking_shutdown(rt->blocking, deadline);
    if (rep.blocking_threads_left)
        rep.timed_out = true;

    /* Timers still armed now are cancelled below, by their tasks' drops or
     * by the driver's shutdown. */
    if (rt->driver.time)
        rep.timers_cancelled = al__time_registered(rt->driver.time);

    /* Cancel what is left, acting as part of the runtime (drop code may spawn
     * or schedule: those are refused or dropped). */
    al__tls.rt = rt;
    struct al_task **tasks = NULL;
    size_t n = al__owned_close_and_snapshot(&rt->owned, &tasks);
    for (size_t i = 0; i < n; i++) {
        al__task_shutdown(tasks[i]);
        al__task_ref_dec(tasks[i]);
    }
    free(tasks);
    if (!rep.timed_out) {
        if (rt->mt)
            al__mt_drain(rt->mt);
        else
            al__ct_drain(rt->ct);
    }
    al__driver_shutdown(&rt->driver);
    al__tls = saved;
    rep.tasks_cancelled = atomic_load(&rt->shutdown_cancelled);
    atomic_store(&rt->shut_down, !rep.timed_out);
    AL__EMIT(rt, AL_EV_RUNTIME_SHUTDOWN, 0, rep.tasks_cancelled, 0, NULL);
    if (report)
        *report = rep;
    return 0;
}

bool al_runtime_is_shutting_down(const al_runtime_t *rt)
{
    return rt && atomic_load_explicit(&((al_runtime_t *)rt)->shutting_down, memory_order_relaxed);
}

void al_runtime_free(al_runtime_t *rt)
{
    if (!rt)
        return;
    if (!atomic_load(&rt->shutting_down))
        al_runtime_shutdown(rt, UINT64_MAX, NULL);
    if (!atomic_load(&rt->shut_down))
        return; /* threads may still run (timed out): leaking is the safe choice */
    al__stream_destroy(rt->stream); /* delivers the shutdown's own events */
    al_log_free(rt->env_log);
    if (rt->env_trace)
        al_tracefile_writer_close(rt->env_trace);
    al_flight_free(rt->env_flight);
    if (rt->mt)
        al__mt_free(rt->mt);
    else
        al__ct_free(rt->ct);
    al__blocking_free(rt->blocking);
    al__driver_destroy(&rt->driver);
    al__owned_destroy(&rt->owned);
    al__gate_destroy(&rt->gate);
    free(rt);
}

/* ---- metrics ------------------------------------------------------------------------------- */

void al_runtime_metrics(const al_runtime_t *crt, al_runtime_metrics_t *out)
{
    al_runtime_t *rt = (al_runtime_t *)crt;
    memset(out, 0, sizeof *out);
    out->num_workers = rt->cfg.worker_threads;
    out->num_alive_tasks = atomic_load_explicit(&rt->owned.alive, memory_order_relaxed);
    out->global_queue_depth = rt->mt ? al__mt_inject_len(rt->mt) : al__ct_queue_len(rt->ct);
    al__blocking_metrics(rt->blocking, &out->num_blocking_threads, &out->num_idle_blocking_threads,
                         &out->blocking_queue_depth);
    out->spawned_tasks_count = atomic_load_explicit(&rt->spawned_count, memory_order_relaxed);
    out->remote_schedule_count =
        atomic_load_explicit(&rt->remote_schedule_count, memory_order_relaxed);
    out->budget_forced_yield_count =
        atomic_load_explicit(&rt->forced_yield_count, memory_order_relaxed);
}

int al_runtime_worker_metrics(const al_runtime_t *crt, uint32_t worker, al_worker_metrics_t *out)
{
    al_runtime_t *rt = (al_runtime_t *)crt;
    if (worker >= rt->cfg.worker_threads)
        return AL_EINVAL;
    if (rt->mt)
        al__mt_worker_metrics(rt->mt, worker, out);
    else
        al__ct_worker_metrics(rt->ct, out);
    return 0;
}
