/*
 * al_log.c — the text logger (see al_log.h): filter parsing, and one
 * readable line per event. Task names are remembered from TASK_SPAWN so that
 * later lines can show them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_future.h"
#include "al_log.h"
#include "al_runtime.h"
#include "al_task.h"

#define AL__LOG_MAX_TASK_FILTERS 16

typedef struct {
    uint64_t task;
    uint32_t str;
} al__name_slot_t;

struct al_log {
    FILE *out;
    bool kinds[AL_EV__COUNT];
    uint64_t tasks[AL__LOG_MAX_TASK_FILTERS];
    unsigned num_tasks;
    uint64_t base_ns;
    char **strings; /* by id */
    uint32_t cap_strings;
    char (*threads)[24]; /* display label by thread id */
    uint32_t cap_threads;
    al__name_slot_t *names; /* task id -> name string id (open addressing) */
    uint32_t names_cap, names_len;
    unsigned long long lines;
};

/* ---- the filter ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    al_event_kind_t kinds[12];
    unsigned n;
} al__log_group_t;

static const al__log_group_t al__log_groups[] = {
    {"sched",
     {AL_EV_TASK_SPAWN, AL_EV_TASK_SCHEDULE, AL_EV_POLL_BEGIN, AL_EV_POLL_END, AL_EV_WAKE,
      AL_EV_TASK_END},
     6},
    {"steal", {AL_EV_STEAL, AL_EV_OVERFLOW}, 2},
    {"park", {AL_EV_PARK, AL_EV_UNPARK, AL_EV_SEARCH_BEGIN, AL_EV_SEARCH_END}, 4},
    {"block",
     {AL_EV_BLOCK_BEGIN, AL_EV_BLOCK_END, AL_EV_BLOCKING_THREAD_START, AL_EV_BLOCKING_THREAD_EXIT,
      AL_EV_BLOCKING_RUN},
     5},
    {"lock",
     {AL_EV_LOCK_ACQUIRE, AL_EV_LOCK_CONTEND, AL_EV_LOCK_RELEASE, AL_EV_SEM_ACQUIRE,
      AL_EV_SEM_RELEASE},
     5},
    {"chan",
     {AL_EV_CHAN_SEND, AL_EV_CHAN_RECV, AL_EV_CHAN_FULL, AL_EV_CHAN_EMPTY, AL_EV_CHAN_CLOSE},
     5},
    {"timer", {AL_EV_TIMER_REGISTER, AL_EV_TIMER_FIRE, AL_EV_TIMER_CANCEL}, 3},
    {"io", {AL_EV_IO_READY}, 1},
    {"resource", {AL_EV_RESOURCE_CREATE, AL_EV_RESOURCE_DROP}, 2},
    {"waker", {AL_EV_WAKER_CLONE, AL_EV_WAKER_DROP}, 2},
    {"user", {AL_EV_USER_LOG, AL_EV_SPAN_BEGIN, AL_EV_SPAN_END, AL_EV_LINT}, 4},
    {"lesson", {AL_EV_CAPTION, AL_EV_HIGHLIGHT, AL_EV_MARKER}, 3},
};

static bool al__log_term(al_log_t *log, const char *t, size_t len)
{
    if ((len == 3 && strncasecmp(t, "all", 3) == 0) ||
        (len == 5 && strncasecmp(t, "trace", 5) == 0)) {
        for (unsigned k = 0; k < AL_EV__COUNT; k++)
            log->kinds[k] = true;
        return true;
    }
    if (len > 5 && strncasecmp(t, "task=", 5) == 0) {
        char *end;
        char num[24] = "";
        if (len - 5 >= sizeof num || log->num_tasks == AL__LOG_MAX_TASK_FILTERS)
            return false;
        memcpy(num, t + 5, len - 5);
        unsigned long long id = strtoull(num, &end, 10);
        if (*end || !isdigit((unsigned char)num[0]))
            return false;
        log->tasks[log->num_tasks++] = id;
        return true;
    }
    for (size_t g = 0; g < sizeof al__log_groups / sizeof al__log_groups[0]; g++) {
        if (strlen(al__log_groups[g].name) == len &&
            strncasecmp(al__log_groups[g].name, t, len) == 0) {
            for (unsigned i = 0; i < al__log_groups[g].n; i++)
                log->kinds[al__log_groups[g].kinds[i]] = true;
            return true;
        }
    }
    int k = al_event_kind_from_name(t, len);
    if (k < 0)
        return false;
    log->kinds[k] = true;
    return true;
}

static int al__log_parse(al_log_t *log, const char *filter, char *err, size_t err_cap)
{
    bool any_kind = false;
    const char *p = filter ? filter : "";
    while (*p) {
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t len = (size_t)(p - start);
        while (len && isspace((unsigned char)*start)) {
            start++;
            len--;
        }
        while (len && isspace((unsigned char)start[len - 1]))
            len--;
        if (len) {
            if (!al__log_term(log, start, len)) {
                if (err && err_cap)
                    snprintf(err, err_cap,
                             "unknown event kind or group '%.*s' at position %zu (try: all, "
                             "sched, steal, park, block, lock, chan, timer, io, resource, "
                             "waker, user, lesson, an event kind such as POLL_BEGIN, or task=N)",
                             (int)(len > 40 ? 40 : len), start, (size_t)(start - filter) + 1);
                return AL_EINVAL;
            }
            if (strncasecmp(start, "task=", 5) != 0)
                any_kind = true;
        }
        if (*p == ',')
            p++;
    }
    if (!any_kind)
        for (unsigned k = 0; k < AL_EV__COUNT; k++)
            log->kinds[k] = true;
    return 0;
}

int al_log_new(FILE *out, const char *filter, al_log_t **logp, char *err, size_t err_cap)
{
    if (!out || !logp)
        return AL_EINVAL;
    al_log_t *log = calloc(1, sizeof *log);
    if (!log)
        return AL_ENOMEM;
    log->out = out;
    int rc = al__log_parse(log, filter, err, err_cap);
    if (rc != 0) {
        free(log);
        return rc;
    }
    *logp = log;
    return 0;
}

void al_log_free(al_log_t *log)
{
    if (!log)
        return;
    for (uint32_t i = 0; i < log->cap_strings; i++)
        free(log->strings[i]);
    free(log->strings);
    free(log->threads);
    free(log->names);
    free(log);
}

unsigned long long al_log_lines(const al_log_t *log)
{
    return log ? log->lines : 0;
}

/* ---- remembered names -------------------------------------------------------------------- */

static const char *al__log_str(const al_log_t *log, uint32_t id)
{
    return id && id < log->cap_strings && log->strings[id] ? log->strings[id] : NULL;
}

static void al__log_name_put(al_log_t *log, uint64_t task, uint32_t str)
{
    if ((log->names_len + 1) * 2 > log->names_cap) {
        uint32_t cap = log->names_cap ? log->names_cap * 2 : 1024;
        al__name_slot_t *grown = calloc(cap, sizeof *grown);
        if (!grown)
            return; /* names are a convenience: go without */
        for (uint32_t i = 0; i < log->names_cap; i++) {
            if (!log->names[i].task)
                continue;
            uint32_t j = (uint32_t)(log->names[i].task * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
            while (grown[j].task)
                j = (j + 1) & (cap - 1);
            grown[j] = log->names[i];
        }
        free(log->names);
        log->names = grown;
        log->names_cap = cap;
    }
    uint32_t j = (uint32_t)(task * 0x9E3779B97F4A7C15ull >> 32) & (log->names_cap - 1);
    while (log->names[j].task && log->names[j].task != task)
        j = (j + 1) & (log->names_cap - 1);
    if (!log->names[j].task)
        log->names_len++;
    log->names[j] = (al__name_slot_t){task, str};
}

static const char *al__log_name(const al_log_t *log, uint64_t task)
{
    if (!task || !log->names_cap)
        return NULL;
    uint32_t j = (uint32_t)(task * 0x9E3779B97F4A7C15ull >> 32) & (log->names_cap - 1);
    while (log->names[j].task) {
        if (log->names[j].task == task)
            return al__log_str(log, log->names[j].str);
        j = (j + 1) & (log->names_cap - 1);
    }
    return NULL;
}

/* ---- consumer callbacks -------------------------------------------------------------------- */

static void al__log_on_header(void *self, const al_stream_header_t *h)
{
    al_log_t *log = self;
    log->base_ns = h->clock_base_ns;
    fprintf(log->out, "asynclab trace: %u worker%s, %s runtime\n", h->num_workers,
            h->num_workers == 1 ? "" : "s",
            h->flavor == AL_MULTI_THREAD ? "multi-thread" : "current-thread");
}

static void al__log_on_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                              int16_t worker)
{
    al_log_t *log = self;
    if (id >= log->cap_threads) {
        uint32_t cap = log->cap_threads ? log->cap_threads : 16;
        while (cap <= id)
            cap *= 2;
        char(*grown)[24] = realloc(log->threads, cap * sizeof *grown);
        if (!grown)
            return;
        memset(grown + log->cap_threads, 0, (cap - log->cap_threads) * sizeof *grown);
        log->threads = grown;
        log->cap_threads = cap;
    }
    if (kind == AL_THREAD_BLOCKING)
        snprintf(log->threads[id], sizeof log->threads[id], "blocking#%u", id);
    else
        snprintf(log->threads[id], sizeof log->threads[id], "%.23s",
                 name && *name ? name : "thread");
}

static void al__log_on_string(void *self, uint32_t id, const char *s, size_t len)
{
    al_log_t *log = self;
    if (id >= log->cap_strings) {
        uint32_t cap = log->cap_strings ? log->cap_strings : 64;
        while (cap <= id)
            cap *= 2;
        char **grown = realloc(log->strings, cap * sizeof *grown);
        if (!grown)
            return;
        memset(grown + log->cap_strings, 0, (cap - log->cap_strings) * sizeof *grown);
        log->strings = grown;
        log->cap_strings = cap;
    }
    free(log->strings[id]);
    log->strings[id] = strndup(s, len);
}

static bool al__log_wants(const al_log_t *log, const al_trace_event_t *e)
{
    if (e->kind >= AL_EV__COUNT || !log->kinds[e->kind])
        return false;
    if (!log->num_tasks)
        return true;
    for (unsigned i = 0; i < log->num_tasks; i++) {
        uint64_t t = log->tasks[i];
        if (e->task == t || ((e->kind == AL_EV_WAKE || e->kind == AL_EV_TASK_SPAWN) && e->a == t) ||
            (e->kind == AL_EV_LOCK_CONTEND && e->b == t))
            return true;
    }
    return false;
}

static const char *al__pick(const char *const *names, size_t n, uint64_t v)
{
    return v < n ? names[v] : "?";
}
#define AL__PICK(arr, v) al__pick(arr, sizeof arr / sizeof arr[0], v)

static const char *const al__queues[] = {"lifo", "local", "inject", "current", "blocking"};
static const char *const al__poll_ends[] = {"pending", "ready", "panicked", "cancelled"};
static const char *const al__unparks[] = {"notified", "timer", "io", "spurious", "shutdown"};
static const char *const al__blocks[] = {"thread sleep", "std mutex", "spin", "block_in_place",
                                         "sync io"};
static const char *const al__wake_srcs[] = {"other",   "task",   "timer", "io",       "lock",
                                            "channel", "notify", "join",  "external", "yield"};
static const char *const al__highlights[] = {"clear all", "task", "worker", "resource"};
static const char *const al__joins[] = {"ok", "cancelled", "panicked"};
static const char *const al__task_kinds[] = {"async", "blocking", "local"};
static const char *const al__resources[] = {
    "mutex",     "rwlock", "semaphore", "notify", "barrier",      "mpsc",      "oneshot",
    "broadcast", "watch",  "std mutex", "timer",  "tcp listener", "tcp stream"};

/* The details that follow "task N" on a line. */
static int al__log_details(const al_log_t *log, const al_trace_event_t *e, char *buf, size_t cap)
{
    unsigned long long a = e->a, b = e->b;
    switch (e->kind) {
    case AL_EV_TASK_SPAWN:
        return snprintf(buf, cap, "%s, parent %llu", AL__PICK(al__task_kinds, b), a);
    case AL_EV_TASK_SCHEDULE:
        return snprintf(buf, cap, "into %s", AL__PICK(al__queues, a));
    case AL_EV_POLL_END:
        return snprintf(buf, cap, "%s, budget left %llu", AL__PICK(al__poll_ends, a), b);
    case AL_EV_TASK_END:
        return snprintf(buf, cap, "%s", AL__PICK(al__joins, a));
    case AL_EV_WAKE: {
        const char *by = al__log_name(log, e->a);
        return snprintf(buf, cap, "by %s%llu%s%s%s (%s%s%s)", a ? "task " : "", a, by ? " \"" : "",
                        by ? by : "", by ? "\"" : "", AL__PICK(al__wake_srcs, b & 0xffff),
                        (b >> 16) & 1 ? ", self" : "", (b >> 17) & 1 ? ", by ref" : "");
    }
    case AL_EV_STEAL:
        return snprintf(buf, cap, "%llu task%s from worker %llu", b, b == 1 ? "" : "s", a);
    case AL_EV_OVERFLOW:
        return snprintf(buf, cap, "%llu tasks moved to the inject queue", a);
    case AL_EV_PARK:
        return snprintf(buf, cap, "%s", a ? "in the driver" : "on its condvar");
    case AL_EV_UNPARK:
        return snprintf(buf, cap, "%s", AL__PICK(al__unparks, a));
    case AL_EV_SEARCH_END:
        return snprintf(buf, cap, "%s", a ? "found work" : "found nothing");
    case AL_EV_BLOCK_BEGIN:
        if (a == AL_BLOCK_THREAD_SLEEP || a == AL_BLOCK_SPIN)
            return snprintf(buf, cap, "%s %llu ms", AL__PICK(al__blocks, a), b);
        return snprintf(buf, cap, "%s", AL__PICK(al__blocks, a));
    case AL_EV_BLOCK_END:
        return snprintf(buf, cap, "%s", AL__PICK(al__blocks, a));
    case AL_EV_RESOURCE_CREATE:
        return snprintf(buf, cap, "%s #%llu", AL__PICK(al__resources, b), a);
    case AL_EV_LOCK_CONTEND:
        return snprintf(buf, cap, "resource #%llu held by task %llu", a, b);
    case AL_EV_CAPTION:
        return e->str ? 0 : snprintf(buf, cap, "(cleared)");
    case AL_EV_MARKER:
        return 0;
    case AL_EV_HIGHLIGHT:
        if (a == AL_HIGHLIGHT_NONE)
            return snprintf(buf, cap, "clear all");
        if (a == AL_HIGHLIGHT_RESOURCE)
            return snprintf(buf, cap, "resource #%llu", b);
        return snprintf(buf, cap, "%s %llu", AL__PICK(al__highlights, a), b);
    default:
        break;
    }
    /* Any other kind: its fields by their documented meaning. */
    const char *fa = "-", *fb = "-";
    al_event_kind_fields(e->kind, NULL, &fa, &fb, NULL);
    int n = 0;
    if (strcmp(fa, "-") != 0)
        n += snprintf(buf, cap, "%s=%llu", fa, a);
    if (strcmp(fb, "-") != 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s=%llu", n ? ", " : "", fb, b);
    return n;
}

static void al__log_on_events(void *self, const al_trace_event_t *ev, size_t n)
{
    al_log_t *log = self;
    for (size_t i = 0; i < n; i++) {
        const al_trace_event_t *e = &ev[i];
        if (e->kind == AL_EV_TASK_SPAWN && e->str)
            al__log_name_put(log, e->task, e->str);
        if (!al__log_wants(log, e))
            continue;
        uint64_t rel = e->ts_ns >= log->base_ns ? e->ts_ns - log->base_ns : 0;
        char who[32];
        if (e->worker >= 0)
            snprintf(who, sizeof who, "worker %d", e->worker);
        else if (e->thread < log->cap_threads && log->threads[e->thread][0])
            snprintf(who, sizeof who, "%s", log->threads[e->thread]);
        else
            snprintf(who, sizeof who, "thread#%u", e->thread);
        char task[96] = "";
        if (e->task) {
            const char *name = al__log_name(log, e->task);
            snprintf(task, sizeof task, "task %llu%s%.60s%s", (unsigned long long)e->task,
                     name ? " \"" : "", name ? name : "", name ? "\"" : "");
        }
        char details[160] = "";
        al__log_details(log, e, details, sizeof details);
        const char *str = e->kind == AL_EV_TASK_SPAWN ? NULL : al__log_str(log, e->str);
        fprintf(log->out, "[%4llu.%06llu] %-12s %-16s %-24s %s%s%s%s\n",
                (unsigned long long)(rel / 1000000000u),
                (unsigned long long)(rel / 1000u % 1000000u), who, al_event_kind_name(e->kind),
                task, details, str ? " \"" : "", str ? str : "", str ? "\"" : "");
        log->lines++;
    }
}

static void al__log_on_drops(void *self, uint16_t thread, uint64_t total)
{
    al_log_t *log = self;
    fprintf(log->out,
            "asynclab trace: thread %u has dropped %llu events so far (its ring was full)\n",
            thread, (unsigned long long)total);
}

static void al__log_on_end(void *self)
{
    al_log_t *log = self;
    fflush(log->out);
}

const al_stream_consumer_t al_log_consumer = {al__log_on_header, al__log_on_thread,
                                              al__log_on_string, al__log_on_events,
                                              al__log_on_drops,  al__log_on_end};
