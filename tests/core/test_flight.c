/*
 * test_flight.c — the flight recorder: the window stays within its byte
 * budget and its time window and a save holds exactly the tail of what was
 * fed (with every thread and string, and drops records saying what is
 * missing); saving from another thread while a live runtime records; the
 * ASYNCLAB_FLIGHT variable and SIGQUIT; the hang watchdog with every worker
 * blocked in a std-style sleep.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "al_test.h"
#include "al_test_futures.h"
#include "al_test_stream.h"

/* ---- helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

#define BASE_NS 5000000000ull
#define THREADS 3
#define STRINGS 100

/* Synthetic event i: a pure function of i, times non-decreasing, fields of
 * every size, on THREADS threads, strings 0..STRINGS. `step` is the time
 * between events. */
static al_trace_event_t gen(uint64_t i, uint64_t step)
{
    uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (al_trace_event_t){
        .ts_ns = BASE_NS + i * step + h % step,
        .task = h % 4 ? 1 + (h >> 8) % 500 : 0,
        .a = h % 3 ? (h >> 12) % 70000 : 0,
        .b = h % 5 == 0 ? h >> 20 : 0,
        .str = (uint32_t)((h >> 40) % (STRINGS + 1)),
        .kind = (uint16_t)((h >> 4) % AL_EV__COUNT),
        .thread = (uint16_t)((h >> 50) % THREADS),
        .worker = (int16_t)((h >> 50) % THREADS) - 1,
    };
}

static void feed_tables(const al_stream_consumer_t *c, void *self, uint32_t strings)
{
    al_stream_header_t h = {.version = AL_STREAM_VERSION,
                            .num_workers = 2,
                            .flavor = 1,
                            .global_queue_interval = 61,
                            .event_interval = 61,
                            .max_blocking_threads = 512,
                            .clock_base_ns = BASE_NS,
                            .wall_base_ns = 1700000000000000000ull};
    c->on_header(self, &h);
    c->on_thread(self, 0, "al-blocking", AL_THREAD_BLOCKING, -1);
    c->on_thread(self, 1, "al-worker-0", AL_THREAD_WORKER, 0);
    c->on_thread(self, 2, "al-worker-1", AL_THREAD_WORKER, 1);
    for (uint32_t id = 1; id <= strings; id++) {
        char s[64];
        int n = snprintf(s, sizeof s, "string number %u, long enough to weigh", id);
        c->on_string(self, id, s, (size_t)n);
    }
}

/* A recording consumer that also logs where drops records come (in events
 * delivered before them). */
typedef struct {
    ts_rec_t rec;
    struct {
        size_t at;
        uint16_t thread;
        uint64_t total;
    } drops[64];
    size_t num_drops;
} drec_t;

static void drec_drops(void *self, uint16_t thread, uint64_t total)
{
    drec_t *d = self;
    if (d->num_drops < 64) {
        d->drops[d->num_drops].at = d->rec.n;
        d->drops[d->num_drops].thread = thread;
        d->drops[d->num_drops++].total = total;
    }
    ts_on_drops(&d->rec, thread, total);
}

static const al_stream_consumer_t drec_vt = {ts_on_header, ts_on_thread, ts_on_string,
                                             ts_on_events, drec_drops,   ts_on_end};

/* Save fr into memory and read it back into d (asserting it is valid). */
static void save_and_read(al_flight_t *fr, drec_t *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(al_flight_save_file(fr, f), 0);
    fclose(f);
    memset(d, 0, sizeof *d);
    ts_rec_init(&d->rec);
    al_tracefile_error_t err;
    int rc = al_tracefile_read_mem(buf, len, &drec_vt, d, &err);
    cr_assert_eq(rc, 0, "the saved window reads back: %s", err.message);
    cr_assert_eq(d->rec.ends, 1);
    free(buf);
}

static void assert_same_event(const al_trace_event_t *a, const al_trace_event_t *b, size_t i)
{
    cr_assert(a->ts_ns == b->ts_ns && a->task == b->task && a->a == b->a && a->b == b->b &&
                  a->str == b->str && a->kind == b->kind && a->thread == b->thread &&
                  a->worker == b->worker,
              "event %zu differs (ts %llu / %llu, kind %u / %u, task %llu / %llu)", i,
              (unsigned long long)a->ts_ns, (unsigned long long)b->ts_ns, a->kind, b->kind,
              (unsigned long long)a->task, (unsigned long long)b->task);
}

/* ---- the byte budget ---- */

/* Far more events than the budget holds, in stream-sized batches, with ring
 * drops reported on thread 2 along the way: memory never exceeds the budget,
 * and the saved file is exactly the tail of what was fed, with every thread
 * and string, and drops totals that count everything missing. */
Test(flight, the_window_stays_in_budget_and_saves_the_exact_tail, .timeout = 120)
{
    const uint64_t budget = 1u << 20, step = 1000;
    al_flight_config_t cfg = {.max_bytes = budget};
    al_flight_t *fr;
    cr_assert_eq(al_flight_new(&cfg, &fr), 0);
    const al_stream_consumer_t *c = &al_flight_consumer;
    feed_tables(c, fr, STRINGS);

    const uint64_t n = (uint64_t)al_test_scale(2000000);
    enum { BATCH = 4096 };
    static al_trace_event_t batch[BATCH];
    /* Ring drops of thread 2 reported after batches 3 and 7 (long evicted
     * when we save) and 5 and 2 batches before the end (inside the window). */
    const uint64_t nb = (n + BATCH - 1) / BATCH;
    const uint64_t drop_after[4] = {3, 7, nb - 5, nb - 2};
    uint64_t drop_total = 0, drop_pos[4], drop_val[4];
    int nd = 0;
    uint64_t max_bytes = 0;
    for (uint64_t i = 0, b = 0; i < n; b++) {
        size_t k = 0;
        for (; k < BATCH && i < n; k++, i++)
            batch[k] = gen(i, step);
        c->on_events(fr, batch, k);
        if (nd < 4 && b == drop_after[nd]) {
            drop_total += 10 + (uint64_t)nd;
            drop_pos[nd] = i; /* before event i */
            drop_val[nd++] = drop_total;
            c->on_drops(fr, 2, drop_total);
        }
        al_flight_stats_t s;
        al_flight_stats(fr, &s);
        cr_assert_leq(s.bytes, budget, "batch %llu: %llu bytes in use", (unsigned long long)b,
                      (unsigned long long)s.bytes);
        if (s.bytes > max_bytes)
            max_bytes = s.bytes;
    }
    cr_assert_eq(nd, 4);
    al_flight_stats_t s;
    al_flight_stats(fr, &s);
    cr_assert_eq(s.events, n);
    cr_assert_eq(s.retained + s.discarded, n);
    cr_assert_gt(s.discarded, 0, "the budget was exceeded many times over");
    /* The budget is used, not wasted: more than 3/4 of it holds events. */
    cr_assert_geq(s.event_bytes * 4, budget * 3, "%llu event bytes",
                  (unsigned long long)s.event_bytes);

    drec_t *d = malloc(sizeof *d);
    save_and_read(fr, d);
    ts_rec_t *r = &d->rec;
    cr_assert_eq(r->n, s.retained);
    const uint64_t first = n - r->n;
    for (size_t k = 0; k < r->n; k++) {
        al_trace_event_t want = gen(first + k, step);
        assert_same_event(&r->ev[k], &want, k);
    }
    cr_assert_eq(r->num_threads, THREADS);
    cr_assert_eq(r->num_strings, STRINGS);
    cr_assert_str_eq(r->thread_names[2], "al-worker-1");
    cr_assert_str_eq(ts_str(r, STRINGS), "string number 100, long enough to weigh");
    cr_assert_eq(r->header.clock_base_ns, BASE_NS);
    cr_assert_eq(r->header.version, AL_STREAM_VERSION);

    /* Drops: first, before any event, per thread: the events of that thread
     * the window discarded (+ ring drops reported before them); then thread
     * 2's later ring drops at their place, with the discarded ones added. */
    uint64_t evicted[THREADS] = {0};
    for (uint64_t i = 0; i < first; i++)
        evicted[gen(i, step).thread]++;
    uint64_t ring_before = 0;
    int in_window = 0;
    for (int k = 0; k < 4; k++) {
        if (drop_pos[k] <= first)
            ring_before = drop_val[k];
        else
            in_window++;
    }
    cr_assert_eq(in_window, 2, "two ring drops fall inside the window");
    size_t di = 0;
    for (uint16_t t = 0; t < THREADS; t++) {
        cr_assert_lt(di, d->num_drops);
        cr_assert_eq(d->drops[di].at, 0);
        cr_assert_eq(d->drops[di].thread, t);
        cr_assert_eq(d->drops[di].total, evicted[t] + (t == 2 ? ring_before : 0));
        di++;
    }
    for (int k = 0; k < 4; k++) {
        if (drop_pos[k] <= first)
            continue;
        cr_assert_lt(di, d->num_drops);
        cr_assert_eq(d->drops[di].at, drop_pos[k] - first, "ring drop %d in place", k);
        cr_assert_eq(d->drops[di].thread, 2);
        cr_assert_eq(d->drops[di].total, evicted[2] + drop_val[k]);
        di++;
    }
    cr_assert_eq(di, d->num_drops);

    cr_assert_eq(al_flight_save(fr, NULL), AL_EINVAL, "no configured path");
    if (getenv("AL_TEST_VERBOSE"))
        fprintf(stderr,
                "flight: %llu of %llu events kept in %llu bytes (peak %llu of %llu), "
                "%.2f bytes per event\n",
                (unsigned long long)s.retained, (unsigned long long)n, (unsigned long long)s.bytes,
                (unsigned long long)max_bytes, (unsigned long long)budget,
                (double)s.event_bytes / (double)s.retained);
    ts_rec_free(r);
    free(d);
    al_flight_free(fr);
}

/* Threads and strings are kept even when they alone outgrow the budget: the
 * window shrinks to the chunk being filled, and the file stays readable. */
Test(flight, tables_beyond_the_budget_are_kept, .timeout = 60)
{
    al_flight_config_t cfg = {.max_bytes = 64u << 10};
    al_flight_t *fr;
    cr_assert_eq(al_flight_new(&cfg, &fr), 0);
    feed_tables(&al_flight_consumer, fr, 3000); /* ~150 KiB of strings */
    static al_trace_event_t ev[20000];
    for (uint64_t i = 0; i < 20000; i++) {
        ev[i] = gen(i, 1000);
        ev[i].str = (uint32_t)(i % 3000) + 1;
    }
    al_flight_consumer.on_events(fr, ev, 20000);
    al_flight_stats_t s;
    al_flight_stats(fr, &s);
    cr_assert_gt(s.retained, 0);
    cr_assert_lt(s.retained, 20000);
    drec_t *d = malloc(sizeof *d);
    save_and_read(fr, d);
    cr_assert_eq(d->rec.num_strings, 3000);
    cr_assert_eq(d->rec.n, s.retained);
    for (size_t k = 0; k < d->rec.n; k++)
        assert_same_event(&d->rec.ev[k], &ev[20000 - d->rec.n + k], k);
    ts_rec_free(&d->rec);
    free(d);
    al_flight_free(fr);
}

/* ---- the time window ---- */

/* 20 s of events 100 us apart with a 2 s window: memory keeps about the
 * window (chunks are dropped whole), the file exactly the events at most 2 s
 * older than the newest. */
Test(flight, the_time_window_trims_to_the_last_seconds, .timeout = 120)
{
    const uint64_t step = 100000, window = 2000000000ull;
    const uint64_t n = 20000000000ull / step;
    al_flight_config_t cfg = {.max_bytes = 64u << 20, .window_ns = window};
    al_flight_t *fr;
    cr_assert_eq(al_flight_new(&cfg, &fr), 0);
    feed_tables(&al_flight_consumer, fr, STRINGS);
    enum { BATCH = 4096 };
    static al_trace_event_t batch[BATCH];
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < BATCH && i < n; k++, i++)
            batch[k] = gen(i, step);
        al_flight_consumer.on_events(fr, batch, k);
    }
    al_flight_stats_t s;
    al_flight_stats(fr, &s);
    uint64_t newest = gen(n - 1, step).ts_ns;
    cr_assert_eq(s.newest_ns, newest);
    cr_assert_leq(s.oldest_ns, newest - window, "memory covers the whole window");
    cr_assert_geq(s.oldest_ns, newest - window - window / 2, "and not much more");
    cr_assert_gt(s.discarded, 0);

    drec_t *d = malloc(sizeof *d);
    save_and_read(fr, d);
    uint64_t first = 0;
    while (gen(first, step).ts_ns < newest - window)
        first++;
    cr_assert_eq(d->rec.n, n - first, "%zu events saved, %llu expected", d->rec.n,
                 (unsigned long long)(n - first));
    for (size_t k = 0; k < d->rec.n; k++) {
        al_trace_event_t want = gen(first + k, step);
        assert_same_event(&d->rec.ev[k], &want, k);
    }
    uint64_t before[THREADS] = {0};
    for (uint64_t i = 0; i < first; i++)
        before[gen(i, step).thread]++;
    for (int t = 0; t < THREADS; t++)
        cr_assert_eq(d->rec.drops[t], before[t], "thread %d: events before the window", t);
    al_flight_stats(fr, &s);
    cr_assert_eq(s.saved_events, n - first);
    ts_rec_free(&d->rec);
    free(d);
    al_flight_free(fr);
}

/* ---- a live runtime, saved from another thread while it runs ---- */

typedef struct {
    int children; /* tasks still to spawn down this chain */
    int yields;   /* yields still to do */
    al_yield_t y;
    bool spawned;
} chatty_t;

static al_poll_t chatty_poll(void *f, al_context_t *cx, void *out);
static const al_future_vtable_t chatty_vt = {
    .type_name = "chatty", .poll = chatty_poll, .future_size = sizeof(chatty_t)};

static al_poll_t chatty_poll(void *f, al_context_t *cx, void *out)
{
    chatty_t *c = f;
    if (!c->spawned) {
        c->spawned = true;
        for (int i = 0; i < 2 && c->children > 0; i++) {
            chatty_t child = {.children = (c->children - 1) / 2, .yields = 4};
            al_spawn_opts_t o = {.name = i ? "chatty-right" : "chatty-left"};
            al_spawn(NULL, &chatty_vt, &child, &o, NULL);
        }
    }
    while (c->yields > 0) {
        if (al_yield_poll(&c->y, cx) == AL_PENDING)
            return AL_PENDING;
        c->y = AL_YIELD_INIT;
        c->yields--;
    }
    return AL_READY;
}

static void run_chatty(al_runtime_t *rt, int children)
{
    chatty_t root = {.children = children, .yields = 4};
    al_join_t *h;
    cr_assert_eq(al_spawn(rt, &chatty_vt, &root, NULL, &h), 0);
    tf_join_all_t j = {.handles = &h, .n = 1};
    tf_run(rt, &tf_join_all_vt, &j);
}

#define MIDRUN_SAVES 4

typedef struct {
    al_flight_t *fr;
    char *buf[MIDRUN_SAVES];
    size_t len[MIDRUN_SAVES];
    atomic_int done;
} saver_t;

static void *saver_main(void *arg)
{
    saver_t *sv = arg;
    for (int i = 0; i < MIDRUN_SAVES; i++) {
        FILE *f = open_memstream(&sv->buf[i], &sv->len[i]);
        int rc = al_flight_save_file(sv->fr, f);
        fclose(f);
        if (rc != 0) {
            free(sv->buf[i]);
            sv->buf[i] = NULL;
        }
        nap_ms(3); /* let the window move on between saves */
    }
    atomic_store(&sv->done, 1);
    return NULL;
}

Test(flight, saving_from_another_thread_while_a_live_runtime_records, .timeout = 120)
{
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    al_flight_config_t cfg = {.max_bytes = 256u << 10};
    al_flight_t *fr;
    cr_assert_eq(al_flight_record(rt, &cfg, &fr), 0);
    ts_rec_t live;
    ts_rec_init(&live);
    al_stream_t *st = al_stream_of(rt);
    cr_assert_not_null(st);
    cr_assert_eq(al_stream_subscribe(st, ts_rec_vt(), &live), 0);

    saver_t sv = {.fr = fr};
    pthread_t saver;
    cr_assert_eq(pthread_create(&saver, NULL, saver_main, &sv), 0);
    int rounds = 0;
    al_flight_stats_t s;
    do { /* work on until every save was made and the window has overflowed */
        run_chatty(rt, (int)al_test_scale(2000));
        rounds++;
        al_flight_stats(fr, &s);
    } while (!atomic_load(&sv.done) || s.discarded == 0);
    pthread_join(saver, NULL);
    al_stream_stats_t ss;
    al_stream_stats(st, &ss);
    al_runtime_free(rt); /* stops the stream: every event reached both consumers */

    /* Each mid-run file reads back and is a contiguous piece of the live
     * stream: it starts after exactly as many events as its drops count. */
    for (int i = 0; i < MIDRUN_SAVES; i++) {
        cr_assert_not_null(sv.buf[i], "save %d failed", i);
        drec_t *d = malloc(sizeof *d);
        memset(d, 0, sizeof *d);
        ts_rec_init(&d->rec);
        al_tracefile_error_t err;
        cr_assert_eq(al_tracefile_read_mem(sv.buf[i], sv.len[i], &drec_vt, d, &err), 0,
                     "save %d: %s", i, err.message);
        cr_assert_eq(d->rec.ends, 1);
        cr_assert_not(d->rec.out_of_order);
        if (ss.dropped == 0) {
            uint64_t missing = 0;
            for (size_t k = 0; k < d->num_drops; k++)
                if (d->drops[k].at == 0)
                    missing += d->drops[k].total;
            cr_assert_leq(missing + d->rec.n, live.n);
            for (size_t k = 0; k < d->rec.n; k++)
                assert_same_event(&d->rec.ev[k], &live.ev[missing + k], k);
        }
        ts_rec_free(&d->rec);
        free(d);
        free(sv.buf[i]);
    }

    /* After the run: the file is exactly the tail of the live stream. */
    drec_t *d = malloc(sizeof *d);
    save_and_read(fr, d);
    al_flight_stats(fr, &s);
    cr_assert_eq(s.events, live.n);
    cr_assert_eq(d->rec.n, s.retained);
    cr_assert_gt(s.discarded, 0, "%d rounds overflowed the window", rounds);
    for (size_t k = 0; k < d->rec.n; k++)
        assert_same_event(&d->rec.ev[k], &live.ev[live.n - d->rec.n + k], k);
    uint64_t file_drops = 0, live_drops = 0;
    for (int t = 0; t < 256; t++) {
        file_drops += d->rec.drops[t];
        live_drops += live.drops[t];
    }
    cr_assert_eq(file_drops, live.n - d->rec.n + live_drops);
    cr_assert_eq(d->rec.num_strings, live.num_strings);
    cr_assert_eq(d->rec.num_threads, live.num_threads);
    cr_assert_str_eq(ts_str(&d->rec, d->rec.ev[d->rec.n - 1].str),
                     ts_str(&live, live.ev[live.n - 1].str));
    if (getenv("AL_TEST_VERBOSE"))
        fprintf(stderr, "flight (live): %llu events retained in %llu bytes: %.2f bytes per event\n",
                (unsigned long long)s.retained, (unsigned long long)s.event_bytes,
                (double)s.event_bytes / (double)s.retained);
    ts_rec_free(&d->rec);
    free(d);
    ts_rec_free(&live);
    al_flight_free(fr);
}

/* ---- ASYNCLAB_FLIGHT and SIGQUIT ---- */

static bool file_has_kind(const ts_rec_t *r, unsigned kind)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->ev[i].kind == kind)
            return true;
    return false;
}

Test(flight, asynclab_flight_env_records_and_sigquit_saves, .timeout = 60)
{
    char path[] = "/tmp/al-flight-env-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char var[256];
    snprintf(var, sizeof var, "%s:30:8", path);
    struct sigaction original, now;
    sigaction(SIGQUIT, NULL, &original);
    setenv("ASYNCLAB_FLIGHT", var, 1);
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    unsetenv("ASYNCLAB_FLIGHT");
    al_flight_t *fr = al_flight_of(rt);
    cr_assert_not_null(fr, "the variable installed a flight recorder");
    cr_assert_not_null(al_stream_of(rt));
    al_flight_stats_t st;
    al_flight_stats(fr, &st);
    cr_assert_eq(st.window_ns, 30000000000ull);
    cr_assert_eq(st.max_bytes, 8u << 20);
    run_chatty(rt, 40);
    al_stream_flush(al_stream_of(rt));

    raise(SIGQUIT); /* the dump watcher saves the window to path */
    cr_assert_eq(al_flight_wait_saves(fr, 1, 30000), 1);
    ts_rec_t r;
    ts_rec_init(&r);
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_file(path, ts_rec_vt(), &r, &err), 0, "%s", err.message);
    cr_assert_eq(r.ends, 1);
    cr_assert_eq(r.header.num_workers, 2);
    cr_assert(file_has_kind(&r, AL_EV_RUNTIME_START));
    cr_assert(file_has_kind(&r, AL_EV_TASK_SPAWN));
    cr_assert(file_has_kind(&r, AL_EV_POLL_END));
    size_t first = r.n;
    ts_rec_free(&r);

    /* The API saves to the same path; so does every later SIGQUIT. */
    run_chatty(rt, 40);
    al_stream_flush(al_stream_of(rt));
    cr_assert_eq(al_flight_save(fr, NULL), 0);
    ts_rec_init(&r);
    cr_assert_eq(al_tracefile_read_file(path, ts_rec_vt(), &r, &err), 0, "%s", err.message);
    cr_assert_gt(r.n, first, "the second save holds the second round too");
    ts_rec_free(&r);
    cr_assert_eq(al_flight_wait_saves(fr, 2, 0), 2);
    cr_assert_eq(access(path, F_OK), 0);
    char tmp[sizeof path + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert_neq(access(tmp, F_OK), 0, "no temporary file is left behind");

    al_runtime_free(rt); /* frees the recorder and its SIGQUIT action */
    sigaction(SIGQUIT, NULL, &now);
    cr_assert(now.sa_handler == original.sa_handler, "SIGQUIT is as it was");
    unlink(path);
}

/* path[:seconds[:MiB]]: trailing fields that are numbers (or empty) are
 * settings, anything else belongs to the path; the n-th runtime of the
 * process saves to path.n. */
Test(flight, asynclab_flight_env_settings, .timeout = 60)
{
    char dir[] = "/tmp/al-flight-dir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    static const struct {
        const char *suffix; /* appended to dir */
        const char *file;   /* where the save lands, relative to dir */
        uint64_t window_ns, max_bytes;
    } cases[] = {
        {"/a", "/a", 0, 64u << 20},       {"/b:0.5", "/b.2", 500000000, 64u << 20},
        {"/c::2", "/c.3", 0, 2u << 20},   {"/d:3:", "/d.4", 3000000000ull, 64u << 20},
        {"/e:x", "/e:x.5", 0, 64u << 20}, {"/f:x:7:1", "/f:x.6", 7000000000ull, 1u << 20},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char var[256], file[256];
        snprintf(var, sizeof var, "%s%s", dir, cases[i].suffix);
        snprintf(file, sizeof file, "%s%s", dir, cases[i].file);
        setenv("ASYNCLAB_FLIGHT", var, 1);
        al_runtime_t *rt = tf_runtime(AL_CURRENT_THREAD, 1);
        unsetenv("ASYNCLAB_FLIGHT");
        al_flight_t *fr = al_flight_of(rt);
        cr_assert_not_null(fr, "%s", var);
        al_flight_stats_t st;
        al_flight_stats(fr, &st);
        cr_assert_eq(st.window_ns, cases[i].window_ns, "%s", var);
        cr_assert_eq(st.max_bytes, cases[i].max_bytes, "%s", var);
        al_stream_flush(al_stream_of(rt));
        cr_assert_eq(al_flight_save(fr, NULL), 0, "%s", var);
        cr_assert_eq(access(file, F_OK), 0, "%s saves to %s", var, file);
        unlink(file);
        al_runtime_free(rt);
    }
    rmdir(dir);
}

/* ---- the hang watchdog ---- */

typedef struct {
    atomic_int *entered;
    atomic_bool *release;
} sleeper_t;

static al_poll_t sleeper_poll(void *f, al_context_t *cx, void *out)
{
    sleeper_t *s = f;
    atomic_fetch_add(s->entered, 1);
    /* std.thread.sleep in a loop: this worker is blocked until released. */
    while (!atomic_load(s->release))
        al_thread_sleep_ns(1000000);
    return AL_READY;
}
static const al_future_vtable_t sleeper_vt = {
    .type_name = "sleeper", .poll = sleeper_poll, .future_size = sizeof(sleeper_t)};

/* Wait (with a deadline) until the watchdog has checked `more` more times. */
static void wait_checks(al_flight_t *fr, uint64_t more)
{
    al_flight_stats_t s;
    al_flight_stats(fr, &s);
    uint64_t target = s.watchdog_checks + more, deadline = now_ns() + 30000000000ull;
    while (s.watchdog_checks < target) {
        cr_assert_lt(now_ns(), deadline, "the watchdog stopped checking");
        nap_ms(1);
        al_flight_stats(fr, &s);
    }
}

Test(flight, the_watchdog_saves_once_when_every_worker_is_stuck, .timeout = 120)
{
    char path[] = "/tmp/al-flight-hang-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    al_runtime_t *rt = tf_runtime(AL_MULTI_THREAD, 2);
    const uint64_t hang_ms = 200;
    al_flight_config_t cfg = {.max_bytes = 4u << 20, .path = path, .hang_ms = hang_ms};
    al_flight_t *fr;
    cr_assert_eq(al_flight_record(rt, &cfg, &fr), 0);
    run_chatty(rt, 200); /* busy, healthy */

    atomic_int entered = 0;
    atomic_bool release = false;
    al_join_t *h[2];
    sleeper_t s = {&entered, &release};
    /* One worker stuck, the other free: not a hang. The watchdog checks every
     * hang_ms / 4: 12 checks cover three times the threshold. */
    cr_assert_eq(al_spawn(rt, &sleeper_vt, &s, NULL, &h[0]), 0);
    while (atomic_load(&entered) < 1)
        sched_yield();
    wait_checks(fr, 12);
    al_flight_stats_t st;
    al_flight_stats(fr, &st);
    cr_assert_eq(st.saves, 0, "one stuck worker among idle ones is not a hang");

    /* Both workers stuck: saved once, within a few periods of the threshold. */
    uint64_t t0 = now_ns();
    cr_assert_eq(al_spawn(rt, &sleeper_vt, &s, NULL, &h[1]), 0);
    while (atomic_load(&entered) < 2)
        sched_yield();
    cr_assert_eq(al_flight_wait_saves(fr, 1, 30000), 1, "the watchdog saved the window");
    uint64_t took_ms = (now_ns() - t0) / 1000000;
    al_flight_stats(fr, &st);
    cr_assert_eq(st.hang_saves, 1);
    cr_assert_geq(took_ms, hang_ms, "not before the threshold");
    wait_checks(fr, 12); /* still stuck: no second file */
    al_flight_stats(fr, &st);
    cr_assert_eq(st.saves, 1);
    cr_assert_eq(st.hang_saves, 1);

    atomic_store(&release, true);
    tf_join_all_t j = {.handles = h, .n = 2};
    tf_run(rt, &tf_join_all_vt, &j);
    al_runtime_free(rt);
    al_flight_stats(fr, &st);
    cr_assert_eq(st.saves, 1);

    /* The file shows the hang: both workers began polling a task and never
     * finished, each blocked in a thread sleep. */
    ts_rec_t r;
    ts_rec_init(&r);
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_file(path, ts_rec_vt(), &r, &err), 0, "%s", err.message);
    cr_assert_eq(r.ends, 1);
    for (int w = 0; w < 2; w++) {
        size_t last_begin = SIZE_MAX, last_end = SIZE_MAX, sleeps = 0;
        for (size_t i = 0; i < r.n; i++) {
            if (r.ev[i].worker != w)
                continue;
            if (r.ev[i].kind == AL_EV_POLL_BEGIN)
                last_begin = i;
            if (r.ev[i].kind == AL_EV_POLL_END)
                last_end = i;
            if (r.ev[i].kind == AL_EV_BLOCK_BEGIN && r.ev[i].a == AL_BLOCK_THREAD_SLEEP &&
                last_begin != SIZE_MAX && (last_end == SIZE_MAX || last_end < last_begin))
                sleeps++;
        }
        cr_assert_neq(last_begin, SIZE_MAX, "worker %d polled", w);
        cr_assert(last_end == SIZE_MAX || last_end < last_begin,
                  "worker %d is still inside its last poll", w);
        cr_assert_gt(sleeps, 0, "worker %d sleeps inside that poll", w);
    }
    ts_rec_free(&r);
    al_flight_free(fr);
    unlink(path);
}

/* ---- errors, and the cost of a full save ---- */

Test(flight, bad_arguments)
{
    al_flight_t *fr;
    al_flight_config_t cfg = {.save_on_sigquit = true};
    cr_assert_eq(al_flight_new(&cfg, &fr), AL_EINVAL, "SIGQUIT saves need a path");
    cfg = (al_flight_config_t){.hang_ms = 100};
    cr_assert_eq(al_flight_new(&cfg, &fr), AL_EINVAL, "the watchdog needs a path");
    cr_assert_eq(al_flight_new(NULL, &fr), 0);
    FILE *f = tmpfile();
    cr_assert_eq(al_flight_save_file(fr, f), AL_EINVAL, "nothing recorded: no header");
    fclose(f);
    feed_tables(&al_flight_consumer, fr, 1);
    cr_assert_eq(al_flight_save(fr, "/nonexistent/dir/x.trace"), -ENOENT);
    al_flight_stats_t s;
    al_flight_stats(fr, &s);
    cr_assert_eq(s.last_error, -ENOENT);
    cr_assert_eq(s.saves, 0);
    cr_assert_null(al_flight_of(NULL));
    al_flight_free(fr);
    al_flight_free(NULL);
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
    return (ssize_t)n;
}

static void count_events(void *self, const al_trace_event_t *ev, size_t n)
{
    *(uint64_t *)self += n;
}
static const al_stream_consumer_t counter_vt = {.on_events = count_events};

/* A full 64 MiB window (64 / AL_TEST_SCALE MiB under the sanitizers) saved
 * to a file; AL_TEST_VERBOSE=1 prints how long filling and saving took. */
Test(flight, a_full_window_saves_and_reads_back, .timeout = 300)
{
    const uint64_t budget = (uint64_t)al_test_scale(64) << 20;
    al_flight_config_t cfg = {.max_bytes = budget};
    al_flight_t *fr;
    cr_assert_eq(al_flight_new(&cfg, &fr), 0);
    feed_tables(&al_flight_consumer, fr, STRINGS);
    enum { BATCH = 4096 };
    static al_trace_event_t batch[BATCH];
    al_flight_stats_t s = {0};
    uint64_t i = 0, t0 = now_ns();
    while (s.discarded == 0) {
        for (size_t k = 0; k < BATCH; k++, i++)
            batch[k] = gen(i, 1000);
        al_flight_consumer.on_events(fr, batch, BATCH);
        al_flight_stats(fr, &s);
    }
    uint64_t t1 = now_ns();
    char path[] = "/tmp/al-flight-full-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(al_flight_save(fr, path), 0);
    uint64_t t2 = now_ns();
    uint64_t read = 0;
    al_tracefile_error_t err;
    cr_assert_eq(al_tracefile_read_file(path, &counter_vt, &read, &err), 0, "%s", err.message);
    uint64_t t3 = now_ns();
    cr_assert_eq(read, s.retained);
    /* The recorder's own part of a save: into a sink that discards. */
    FILE *sink = fopencookie(NULL, "w", (cookie_io_functions_t){.write = sink_write});
    uint64_t t4 = now_ns();
    cr_assert_eq(al_flight_save_file(fr, sink), 0);
    uint64_t t5 = now_ns();
    fclose(sink);
    al_flight_stats(fr, &s);
    cr_assert_eq(s.saved_events, read);
    cr_assert_leq(s.bytes, budget);
    if (getenv("AL_TEST_VERBOSE"))
        fprintf(stderr,
                "flight: %.1f MiB window, %llu events (%.2f bytes each): filled in %.0f ms "
                "(%.0f ns/event), saved to a file in %.1f ms (%.1f ms without the file), "
                "read back in %.0f ms\n",
                (double)s.event_bytes / 1048576.0, (unsigned long long)s.retained,
                (double)s.event_bytes / (double)s.retained, (double)(t1 - t0) / 1e6,
                (double)(t1 - t0) / (double)i, (double)(t2 - t1) / 1e6, (double)(t5 - t4) / 1e6,
                (double)(t3 - t2) / 1e6);
    unlink(path);
    al_flight_free(fr);
}
