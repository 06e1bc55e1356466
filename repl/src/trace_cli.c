/*
 * trace_cli.c — `asynclab trace ...` (see trace_cli.h). Every command reads
 * the file once, through the incremental reader, into the same consumers a
 * live runtime feeds (al_stream.h): the console model, the lint engine, the
 * text logger, the exporters. A damaged file still shows everything before
 * the damage, then says where the damage is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "asynclab.h"
#include "trace_cli.h"

void trace_cli_usage(FILE *out)
{
    fprintf(out, "asynclab trace commands:\n"
                 "  info FILE                      header, event counts by kind, duration, drops\n"
                 "  log [--filter F] FILE          every event as a line of text; F as in\n"
                 "                                 ASYNCLAB_LOG (e.g. steal,park or task=12)\n"
                 "  stats [--at T] FILE            the console tables (workers, tasks, resources)\n"
                 "                                 at the end of the recording, or T seconds in\n"
                 "  lints [--set SPEC] FILE        what the lints find; SPEC e.g.\n"
                 "                                 long-poll=5ms,self-wakes=off\n"
                 "  dump [--at T] FILE             a task dump at the end (or at T seconds)\n"
                 "  export --csv FILE OUT.csv      per-task figures as CSV\n"
                 "  export --perfetto FILE OUT.json  Chrome Trace Event JSON for ui.perfetto.dev\n"
                 "Exit status: 0 ok, 1 damaged file (what came before the damage is shown),\n"
                 "2 bad usage.\n");
}

/* ---- a fan-out consumer: one read feeds several consumers, and counts ---- */

#define CLI_MAX_SINKS 4

typedef struct {
    const al_stream_consumer_t *c[CLI_MAX_SINKS];
    void *self[CLI_MAX_SINKS];
    int n;
    al_stream_header_t header;
    bool have_header, ended;
    uint64_t events, first_ns, last_ns, dropped, by_kind[AL_EV__COUNT];
    uint32_t strings, threads;
    uint64_t *drops; /* cumulative per thread */
    uint32_t num_drops;
    char thread_names[64][48];
} cli_tee_t;

static void tee_header(void *p, const al_stream_header_t *h)
{
    cli_tee_t *t = p;
    t->header = *h;
    t->have_header = true;
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_header)
            t->c[i]->on_header(t->self[i], h);
}

static void tee_thread(void *p, uint16_t id, const char *name, al_thread_kind_t kind,
                       int16_t worker)
{
    cli_tee_t *t = p;
    if (id + 1u > t->threads)
        t->threads = id + 1u;
    if (id < 64)
        snprintf(t->thread_names[id], sizeof t->thread_names[id], "%s", name);
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_thread)
            t->c[i]->on_thread(t->self[i], id, name, kind, worker);
}

static void tee_string(void *p, uint32_t id, const char *s, size_t len)
{
    cli_tee_t *t = p;
    if (id > t->strings)
        t->strings = id;
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_string)
            t->c[i]->on_string(t->self[i], id, s, len);
}

static void tee_events(void *p, const al_trace_event_t *ev, size_t n)
{
    cli_tee_t *t = p;
    if (n == 0)
        return;
    if (t->events == 0)
        t->first_ns = ev[0].ts_ns;
    t->last_ns = ev[n - 1].ts_ns;
    t->events += n;
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind < AL_EV__COUNT)
            t->by_kind[ev[i].kind]++;
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_events)
            t->c[i]->on_events(t->self[i], ev, n);
}

static void tee_drops(void *p, uint16_t thread, uint64_t total)
{
    cli_tee_t *t = p;
    if (thread >= t->num_drops) {
        uint64_t *grown = realloc(t->drops, (thread + 1u) * sizeof *grown);
        if (grown) {
            memset(grown + t->num_drops, 0, (thread + 1u - t->num_drops) * sizeof *grown);
            t->drops = grown;
            t->num_drops = thread + 1u;
        }
    }
    if (thread < t->num_drops && total > t->drops[thread]) {
        t->dropped += total - t->drops[thread];
        t->drops[thread] = total;
    }
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_drops)
            t->c[i]->on_drops(t->self[i], thread, total);
}

static void tee_end(void *p)
{
    cli_tee_t *t = p;
    t->ended = true;
    for (int i = 0; i < t->n; i++)
        if (t->c[i]->on_end)
            t->c[i]->on_end(t->self[i]);
}

static const al_stream_consumer_t tee_vt = {tee_header, tee_thread, tee_string,
                                            tee_events, tee_drops,  tee_end};

static void tee_add(cli_tee_t *t, const al_stream_consumer_t *c, void *self)
{
    t->c[t->n] = c;
    t->self[t->n++] = self;
}

/* ---- reading, with progress for long files ---- */

typedef struct {
    const char *path;
    uint64_t size;
    int code; /* 0, or the reader's error */
    al_tracefile_error_t err;
} cli_read_t;

/* Read path into the tee; returns 0 when the file is whole, 1 when damaged
 * (after printing where), 2 when it cannot be opened. */
static int cli_read(const char *path, cli_tee_t *tee, bool progress, cli_read_t *out)
{
    *out = (cli_read_t){.path = path};
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "asynclab trace: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0)
        out->size = (uint64_t)sb.st_size;
    progress = progress && isatty(2) && out->size > (8u << 20);
    al_tracefile_reader_t *r;
    if (al_tracefile_reader_new(&tee_vt, tee, &r) != 0) {
        fclose(f);
        fprintf(stderr, "asynclab trace: out of memory\n");
        return 2;
    }
    static char buf[1 << 20];
    uint64_t done = 0;
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        rc = al_tracefile_reader_feed(r, buf, got, &out->err);
        done += got;
        if (progress)
            fprintf(stderr, "\r%s: %3.0f%% (%" PRIu64 " events)", path,
                    100.0 * (double)done / (double)out->size, tee->events);
    }
    if (progress)
        fprintf(stderr, "\n");
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "asynclab trace: error reading %s: %s\n", path, strerror(errno));
        rc = -EIO;
    }
    if (rc == 0)
        rc = al_tracefile_reader_finish(r, &out->err);
    al_tracefile_reader_free(r);
    fclose(f);
    out->code = rc;
    if (rc != 0) {
        fprintf(stderr,
                "asynclab trace: %s is damaged: %s; the %" PRIu64
                " events before the damage are used\n",
                path, out->err.message[0] ? out->err.message : al_strerror(rc), tee->events);
        return 1;
    }
    if (!tee->ended)
        fprintf(stderr, "asynclab trace: %s has no end record (still being written?)\n", path);
    return 0;
}

/* "2.5" seconds since the recording started -> stream clock ns. */
static bool cli_parse_at(const char *s, uint64_t *secs_ns)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0)
        return false;
    *secs_ns = (uint64_t)(v * 1e9);
    return true;
}

/* The header is read first: replay it to learn clock_base_ns before the
 * console model is built with stop_at. */
static bool cli_peek_header(const char *path, al_stream_header_t *h)
{
    cli_tee_t t = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[256];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    al_tracefile_error_t err;
    al_tracefile_reader_t *r;
    if (al_tracefile_reader_new(&tee_vt, &t, &r) != 0)
        return false;
    al_tracefile_reader_feed(r, buf, got, &err);
    al_tracefile_reader_free(r);
    free(t.drops);
    *h = t.header;
    return t.have_header;
}

/* ---- commands ---- */

static const char *flavor_name(uint32_t f)
{
    return f == AL_MULTI_THREAD ? "multi-thread" : f == AL_CURRENT_THREAD ? "current-thread" : "?";
}

static int cmd_info(const char *path)
{
    cli_tee_t t = {0};
    cli_read_t rd;
    int rc = cli_read(path, &t, true, &rd);
    if (rc == 2)
        return 2;
    printf("file       %s (%" PRIu64 " bytes, format %u)\n", path, rd.size, t.header.version);
    if (!t.have_header) {
        printf("no header could be read\n");
        free(t.drops);
        return 1;
    }
    time_t wall = (time_t)(t.header.wall_base_ns / 1000000000ull);
    char when[64] = "?";
    struct tm tm;
    if (gmtime_r(&wall, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("runtime    %s, %u workers, global_queue_interval %u, event_interval %u, "
           "max_blocking_threads %u\n",
           flavor_name(t.header.flavor), t.header.num_workers, t.header.global_queue_interval,
           t.header.event_interval, t.header.max_blocking_threads);
    printf("recorded   %s\n", when);
    double dur = t.events ? (double)(t.last_ns - t.first_ns) / 1e9 : 0;
    printf("duration   %.6f s (first event at %.6f s)\n", dur,
           t.events && t.first_ns > t.header.clock_base_ns
               ? (double)(t.first_ns - t.header.clock_base_ns) / 1e9
               : 0.0);
    printf("events     %" PRIu64 " (%.2f bytes per event)\n", t.events,
           t.events ? (double)rd.size / (double)t.events : 0.0);
    printf("dropped    %" PRIu64 "%s\n", t.dropped,
           t.dropped ? " (the recorder fell behind: some figures may be off)" : "");
    printf("strings    %u\n", t.strings);
    printf("threads    %u:", t.threads);
    for (uint32_t i = 0; i < t.threads && i < 64; i++)
        printf("%s %s", i ? "," : "", t.thread_names[i]);
    printf("\nstatus     %s\n", rc        ? "DAMAGED (see above)"
                                : t.ended ? "complete"
                                          : "no end record (being written?)");
    printf("by kind\n");
    for (unsigned k = 0; k < AL_EV__COUNT; k++)
        if (t.by_kind[k])
            printf("  %-22s %" PRIu64 "\n", al_event_kind_name(k), t.by_kind[k]);
    free(t.drops);
    return rc;
}

static int cmd_log(const char *path, const char *filter)
{
    al_log_t *log;
    char err[256];
    if (al_log_new(stdout, filter, &log, err, sizeof err) != 0) {
        fprintf(stderr, "asynclab trace log: %s\n", err);
        return 2;
    }
    cli_tee_t t = {0};
    tee_add(&t, &al_log_consumer, log);
    cli_read_t rd;
    int rc = cli_read(path, &t, false, &rd);
    al_log_free(log);
    free(t.drops);
    return rc;
}

static int cmd_console(const char *path, const char *at, bool dump, FILE *csv)
{
    al_console_config_t cfg = {0};
    if (at) {
        uint64_t rel;
        al_stream_header_t h;
        if (!cli_parse_at(at, &rel)) {
            fprintf(stderr,
                    "asynclab trace: --at wants seconds since the recording started "
                    "(e.g. --at 1.5), not '%s'\n",
                    at);
            return 2;
        }
        if (!cli_peek_header(path, &h)) {
            fprintf(stderr, "asynclab trace: %s: no readable header\n", path);
            return 1;
        }
        cfg.stop_at_ns = h.clock_base_ns + rel;
    }
    al_console_t *c;
    if (al_console_new(&cfg, &c) != 0)
        return 2;
    cli_tee_t t = {0};
    tee_add(&t, &al_console_consumer, c);
    cli_read_t rd;
    int rc = cli_read(path, &t, true, &rd);
    if (rc != 2) {
        al_console_snapshot_t *s = al_console_snapshot(c, 0);
        if (!s) {
            fprintf(stderr, "asynclab trace: out of memory\n");
            rc = 2;
        } else if (csv) {
            al_console_print_csv(s, csv);
        } else if (dump) {
            al_console_print_dump(s, stdout);
        } else {
            al_console_print(s, stdout);
        }
        al_console_snapshot_free(s);
    }
    al_console_free(c);
    free(t.drops);
    return rc;
}

static int cmd_lints(const char *path, const char *spec)
{
    al_lint_t *l;
    if (al_lint_new(&l) != 0)
        return 2;
    char err[256];
    if (spec && al_lint_configure(l, spec, err, sizeof err) != 0) {
        fprintf(stderr, "asynclab trace lints: %s\n", err);
        al_lint_free(l);
        return 2;
    }
    cli_tee_t t = {0};
    tee_add(&t, &al_lint_consumer, l);
    cli_read_t rd;
    int rc = cli_read(path, &t, true, &rd);
    if (rc != 2) {
        al_lint_check_now(l, t.last_ns);
        size_t n = al_lint_findings(l, NULL, 0);
        if (n == 0)
            printf("no lint fired (%" PRIu64 " events checked)\n", t.events);
        else
            al_lint_print(l, t.header.clock_base_ns, stdout);
    }
    al_lint_free(l);
    free(t.drops);
    return rc;
}

/* Chrome Trace Event JSON (al_perfetto.h); the reader shows progress. */
static int cmd_perfetto(const char *path, FILE *out)
{
    al_perfetto_writer_t *w;
    if (al_perfetto_writer_open(out, NULL, &w) != 0) {
        fprintf(stderr, "asynclab trace export: out of memory\n");
        return 2;
    }
    cli_tee_t t = {0};
    tee_add(&t, &al_perfetto_consumer, w);
    cli_read_t rd;
    int rc = cli_read(path, &t, true, &rd);
    uint64_t in = 0, written = 0;
    al_perfetto_writer_counts(w, &in, &written);
    int wrc = al_perfetto_writer_close(w);
    if (wrc != 0) {
        fprintf(stderr, "asynclab trace export: error writing the JSON: %s\n", al_strerror(wrc));
        rc = 2;
    } else if (rc != 2) {
        fprintf(stderr, "asynclab trace export: %llu events -> %llu trace events\n",
                (unsigned long long)in, (unsigned long long)written);
    }
    free(t.drops);
    return rc;
}

static int cmd_export(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: asynclab trace export --csv|--perfetto FILE OUT\n");
        return 2;
    }
    bool csv = strcmp(argv[0], "--csv") == 0, perfetto = strcmp(argv[0], "--perfetto") == 0;
    if (!csv && !perfetto) {
        fprintf(stderr, "asynclab trace export: unknown format '%s' (try --csv or --perfetto)\n",
                argv[0]);
        return 2;
    }
    FILE *out = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "w");
    if (!out) {
        fprintf(stderr, "asynclab trace export: cannot write %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    int rc;
    if (csv) {
        rc = cmd_console(argv[1], NULL, false, out);
    } else {
        rc = cmd_perfetto(argv[1], out);
    }
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "asynclab trace export: error writing %s: %s\n", argv[2], strerror(errno));
        rc = 2;
    }
    return rc;
}

/* Options before FILE: --name VALUE. Returns the index of FILE, or -1. */
static int cli_options(int argc, char **argv, const char *name, const char **value)
{
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], name) != 0 || i + 1 >= argc) {
            fprintf(stderr, "asynclab trace %s: unknown option '%s'%s\n", argv[0], argv[i],
                    i + 1 >= argc ? " (or its value is missing)" : "");
            return -1;
        }
        *value = argv[i + 1];
        i += 2;
    }
    if (i != argc - 1) {
        fprintf(stderr, "asynclab trace %s: expected one FILE\n", argv[0]);
        return -1;
    }
    return i;
}

int trace_cli_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
        trace_cli_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *cmd = argv[0], *opt = NULL;
    int file;
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0) {
        if ((file = cli_options(argc, argv, "--none", &opt)) < 0)
            return 2;
        return cmd_info(argv[file]);
    }
    if (strcmp(cmd, "log") == 0) {
        if ((file = cli_options(argc, argv, "--filter", &opt)) < 0)
            return 2;
        return cmd_log(argv[file], opt);
    }
    if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "dump") == 0) {
        if ((file = cli_options(argc, argv, "--at", &opt)) < 0)
            return 2;
        return cmd_console(argv[file], opt, strcmp(cmd, "dump") == 0, NULL);
    }
    if (strcmp(cmd, "lints") == 0) {
        if ((file = cli_options(argc, argv, "--set", &opt)) < 0)
            return 2;
        return cmd_lints(argv[file], opt);
    }
    fprintf(stderr, "asynclab trace: unknown command '%s'\n\n", cmd);
    trace_cli_usage(stderr);
    return 2;
}
