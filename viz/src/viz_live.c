/*
 * viz_live.c — the visualizer on a running runtime (see viz_live.h).
 *
 * Three threads meet here:
 *   - the stream's collector calls the staging consumer (stage_*): it
 *     appends events and table entries under `lock`, nothing else;
 *   - the window thread (live_main) owns the recording, the player and SDL;
 *     each frame it takes what was staged (live_frame) and serves requests
 *     (keys pressed from outside, scene copies, close);
 *   - the caller (the Lua prompt, a test) opens, asks, closes.
 * `lock` guards everything marked "shared" below; `cond` signals changes of
 * state, served scene requests, and the window's end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "al_runtime.h"
#include "al_stream.h"
#include "viz_live.h"
#include "viz_player.h"
#include "viz_recording.h"
#include "viz_window.h"

enum { LIVE_STARTING, LIVE_OPEN, LIVE_FAILED, LIVE_CLOSED };
enum { ENTRY_THREAD, ENTRY_STRING, ENTRY_DROPS };

/* A table entry staged for the window thread. */
typedef struct {
    uint8_t type;
    uint8_t kind;
    int16_t worker;
    uint32_t id;
    uint64_t total;
    char *text; /* thread name / string bytes (malloc'd) */
    size_t len;
} live_entry_t;

typedef struct {
    al_trace_event_t *ev;
    size_t n, cap;
} live_events_t;

#define LIVE_KEYS 16
/* Events staged between two frames, at least (a burst of spawns emits tens
 * of thousands within one frame). */
#define LIVE_STAGED_MIN 262144

struct viz_live {
    al_runtime_t *rt;
    al_stream_t *stream;
    viz_live_opts_t opts;
    char title[128];
    char font_path[512];
    char script[256];
    pthread_t thread;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* shared: staged by the collector */
    al_stream_header_t header;
    bool header_new;
    live_events_t in;
    live_entry_t *entries;
    size_t num_entries, cap_entries;
    uint64_t lost; /* events not staged: the window fell behind by max_events */
    bool stream_ended;
    /* shared: the window's life and requests */
    int state;
    char err[256];
    bool close_asked;
    char keys[LIVE_KEYS][32];
    int num_keys;
    viz_scene_t *scene_out; /* a scene copy asked for */
    bool scene_asked, scene_served;

    /* window thread only */
    viz_recording_t *rec;
    viz_player_t *player;
    live_events_t spare;
    bool following, was_playing, serving_scene;
    uint64_t forgotten; /* events dropped from the front of rec */
    uint64_t lost_seen;
};

static uint64_t live_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void live_deadline(struct timespec *ts, uint64_t timeout_ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    if (timeout_ms > 100ull * 365 * 86400 * 1000) {
        ts->tv_sec += (time_t)100 * 365 * 86400;
        return;
    }
    uint64_t ns = (uint64_t)ts->tv_nsec + (timeout_ms % 1000) * 1000000ull;
    ts->tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* ---- the staging consumer (the collector thread) ---- */

static bool stage_taking(viz_live_t *v)
{
    return v->state == LIVE_STARTING || v->state == LIVE_OPEN;
}

static void stage_entry(viz_live_t *v, live_entry_t e)
{
    if (v->num_entries == v->cap_entries) {
        size_t cap = v->cap_entries ? v->cap_entries * 2 : 64;
        live_entry_t *grown = realloc(v->entries, cap * sizeof *grown);
        if (!grown) {
            free(e.text);
            return;
        }
        v->entries = grown;
        v->cap_entries = cap;
    }
    v->entries[v->num_entries++] = e;
}

static void stage_header(void *self, const al_stream_header_t *h)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    v->header = *h;
    v->header_new = true;
    pthread_mutex_unlock(&v->lock);
}

static void stage_thread(void *self, uint16_t id, const char *name, al_thread_kind_t kind,
                         int16_t worker)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    if (stage_taking(v))
        stage_entry(v, (live_entry_t){.type = ENTRY_THREAD,
                                      .kind = (uint8_t)kind,
                                      .worker = worker,
                                      .id = id,
                                      .text = strdup(name ? name : "")});
    pthread_mutex_unlock(&v->lock);
}

static void stage_string(void *self, uint32_t id, const char *s, size_t len)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    if (stage_taking(v))
        stage_entry(
            v, (live_entry_t){.type = ENTRY_STRING, .id = id, .text = strndup(s, len), .len = len});
    pthread_mutex_unlock(&v->lock);
}

static void stage_events(void *self, const al_trace_event_t *ev, size_t n)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    if (stage_taking(v)) {
        size_t max = v->opts.max_events > LIVE_STAGED_MIN ? v->opts.max_events : LIVE_STAGED_MIN;
        size_t room = v->in.n < max ? max - v->in.n : 0;
        size_t take = n < room ? n : room;
        if (v->in.n + take > v->in.cap) {
            size_t cap = v->in.cap ? v->in.cap : 4096;
            while (cap < v->in.n + take)
                cap *= 2;
            al_trace_event_t *grown = realloc(v->in.ev, cap * sizeof *grown);
            if (grown) {
                v->in.ev = grown;
                v->in.cap = cap;
            } else {
                take = 0;
            }
        }
        if (take)
            memcpy(v->in.ev + v->in.n, ev, take * sizeof *ev);
        v->in.n += take;
        v->lost += n - take;
    }
    pthread_mutex_unlock(&v->lock);
}

static void stage_drops(void *self, uint16_t thread, uint64_t total)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    if (stage_taking(v))
        stage_entry(v, (live_entry_t){.type = ENTRY_DROPS, .id = thread, .total = total});
    pthread_mutex_unlock(&v->lock);
}

static void stage_end(void *self)
{
    viz_live_t *v = self;
    pthread_mutex_lock(&v->lock);
    v->stream_ended = true;
    pthread_mutex_unlock(&v->lock);
}

static const al_stream_consumer_t live_consumer = {stage_header, stage_thread, stage_string,
                                                   stage_events, stage_drops,  stage_end};

/* ---- the window's side (the window thread) ---- */

/* Hand a table entry to the recording and to the player's console model
 * (which saw the tables only when it was built). */
static void live_apply_entry(viz_live_t *v, const live_entry_t *e)
{
    const al_stream_consumer_t *rc = &viz_recording_consumer, *cc = &al_console_consumer;
    viz_player_t *p = v->player;
    switch (e->type) {
    case ENTRY_THREAD:
        rc->on_thread(v->rec, (uint16_t)e->id, e->text, (al_thread_kind_t)e->kind, e->worker);
        if (cc->on_thread)
            cc->on_thread(p->console, (uint16_t)e->id, e->text, (al_thread_kind_t)e->kind,
                          e->worker);
        break;
    case ENTRY_STRING:
        rc->on_string(v->rec, e->id, e->text, e->len);
        if (cc->on_string)
            cc->on_string(p->console, e->id, e->text, e->len);
        break;
    case ENTRY_DROPS:
        rc->on_drops(v->rec, (uint16_t)e->id, e->total);
        if (cc->on_drops)
            cc->on_drops(p->console, (uint16_t)e->id, e->total);
        break;
    }
}

/* Keep at most max_events: forget the oldest quarter when over. */
static void live_bound(viz_live_t *v)
{
    size_t max = v->opts.max_events;
    if (v->rec->num_events <= max)
        return;
    size_t n = v->rec->num_events - max + max / 4;
    viz_recording_drop_front(v->rec, n);
    viz_player_forget_front(v->player, n);
    v->forgotten += n;
}

/* Step mode is the runtime's gate being on (rt.viz.step_mode may turn it
 * on or off from the prompt too). */
static bool live_stepping(viz_live_t *v)
{
    al_gate_state_t g;
    al_runtime_gate_state(v->rt, &g);
    return g.on;
}

/* Bring in what was staged; serve the requests. False: close. */
static bool live_frame(void *self, viz_player_t *p)
{
    viz_live_t *v = self;
    char keys[LIVE_KEYS][32];
    int num_keys;
    pthread_mutex_lock(&v->lock);
    if (v->state == LIVE_STARTING) {
        v->state = LIVE_OPEN; /* the window is up */
        pthread_cond_broadcast(&v->cond);
    }
    bool close = v->close_asked;
    al_stream_header_t header = v->header;
    bool header_new = v->header_new;
    v->header_new = false;
    live_events_t in = v->in;
    v->in = v->spare;
    v->in.n = 0;
    live_entry_t *entries = v->entries;
    size_t num_entries = v->num_entries;
    v->entries = NULL;
    v->num_entries = v->cap_entries = 0;
    v->lost_seen = v->lost;
    num_keys = v->num_keys;
    memcpy(keys, v->keys, sizeof keys);
    v->num_keys = 0;
    v->serving_scene = v->scene_asked;
    v->scene_asked = false;
    pthread_mutex_unlock(&v->lock);

    if (header_new) {
        viz_recording_consumer.on_header(v->rec, &header);
        al_console_consumer.on_header(p->console, &header);
    }
    for (size_t i = 0; i < num_entries; i++) {
        live_apply_entry(v, &entries[i]);
        free(entries[i].text);
    }
    free(entries);
    if (in.n)
        viz_recording_consumer.on_events(v->rec, in.ev, in.n);
    v->spare = in; /* reused next frame: no allocation while steady */
    live_bound(v);

    for (int i = 0; i < num_keys; i++) {
        SDL_Event e = {.type = SDL_KEYDOWN};
        e.key.keysym.sym = SDL_GetKeyFromName(keys[i]);
        if (e.key.keysym.sym != SDLK_UNKNOWN)
            SDL_PushEvent(&e);
    }

    /* Played to the end of what was recorded: follow now again. */
    if (v->was_playing && !p->playing && viz_player_at_end(p))
        v->following = true;
    v->was_playing = p->playing;
    if (v->following) {
        p->playing = false;
        viz_player_seek_event(p, v->rec->num_events);
        /* Now is the clock's now, not the last event's: a worker blocked
         * for a second emits nothing, and its bar must still grow. */
        uint64_t now = live_now_ns();
        if (now > p->now_ns)
            p->now_ns = now;
    }
    return !close;
}

static bool live_key(void *self, viz_player_t *p, int keycode)
{
    viz_live_t *v = self;
    switch (keycode) {
    case SDLK_c:
        v->following = true;
        return true;
    case SDLK_s:
        al_runtime_set_gate(v->rt, !live_stepping(v));
        v->following = true;
        return true;
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
    case SDLK_PERIOD:
        if (!live_stepping(v))
            al_runtime_set_gate(v->rt, true); /* the first press enters step mode */
        else
            al_runtime_gate_step(v->rt, 1);
        v->following = true;
        return true;
    case SDLK_SPACE:
        if (v->following) {
            v->following = false; /* pause on the moment shown */
            p->playing = false;
        } else {
            p->playing = !p->playing;
        }
        v->was_playing = p->playing;
        return true;
    case SDLK_LEFT:
    case SDLK_RIGHT:
    case SDLK_HOME:
    case SDLK_END:
        v->following = false; /* then the recording's own key moves */
        return false;
    default:
        return false;
    }
}

static void live_status(void *self, const viz_player_t *p, char *buf, size_t cap)
{
    viz_live_t *v = self;
    size_t n = 0;
#define LIVE_PUT(...)                                                                              \
    do {                                                                                           \
        if (n < cap)                                                                               \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                                  \
    } while (0)
    if (v->following)
        LIVE_PUT("LIVE  %zu events", v->rec->num_events + (size_t)v->forgotten);
    else
        LIVE_PUT("LIVE %s x%g  event %zu / %zu  C: now", p->playing ? "playing" : "paused",
                 p->speed, p->pos + (size_t)v->forgotten,
                 v->rec->num_events + (size_t)v->forgotten);
    al_gate_state_t g;
    al_runtime_gate_state(v->rt, &g);
    if (g.on) {
        LIVE_PUT("  | STEP: %u waiting, Enter: 1 poll, S: run", g.waiting);
    }
    if (v->forgotten)
        LIVE_PUT("  | kept: newest %zu", v->opts.max_events);
    if (v->lost_seen)
        LIVE_PUT("  | lost %llu", (unsigned long long)v->lost_seen);
    if (v->rec->out_of_memory)
        LIVE_PUT("  | OUT OF MEMORY");
#undef LIVE_PUT
}

static void live_drawn(void *self, const viz_scene_t *scene)
{
    viz_live_t *v = self;
    if (!v->serving_scene)
        return;
    v->serving_scene = false;
    pthread_mutex_lock(&v->lock);
    if (v->scene_out) {
        memcpy(v->scene_out, scene, sizeof *scene);
        v->scene_served = true;
        pthread_cond_broadcast(&v->cond);
    }
    pthread_mutex_unlock(&v->lock);
}

static void *live_main(void *arg)
{
    viz_live_t *v = arg;
    char err[256] = "";
    int rc = -1;
    if (viz_recording_new(&v->rec) != 0 || viz_player_new(v->rec, &v->player) != 0) {
        snprintf(err, sizeof err, "out of memory");
    } else {
        viz_window_live_t live = {v, live_frame, live_key, live_status, live_drawn};
        viz_window_opts_t wo = {.w = v->opts.w,
                                .h = v->opts.h,
                                .title = v->title,
                                .font_path = v->opts.font_path,
                                .script = v->opts.script,
                                .allow_offscreen = v->opts.allow_offscreen,
                                .live = &live};
        v->following = true;
        if (v->opts.step_mode)
            al_runtime_set_gate(v->rt, true);
        rc = viz_window_run(v->player, &wo, err, sizeof err);
        /* SDL keeps thread-local data (its error string) for threads it
         * did not create: free it before this thread ends. */
        SDL_TLSCleanup();
    }
    al_runtime_set_gate(v->rt, false); /* nobody is left to step */
    pthread_mutex_lock(&v->lock);
    if (v->state == LIVE_STARTING) {
        v->state = LIVE_FAILED;
        snprintf(v->err, sizeof v->err, "%s", err[0] ? err : "the window could not open");
    } else {
        v->state = LIVE_CLOSED;
        if (rc != 0 && err[0])
            snprintf(v->err, sizeof v->err, "%s", err);
    }
    /* Nothing more is staged (stage_taking): drop what was. */
    for (size_t i = 0; i < v->num_entries; i++)
        free(v->entries[i].text);
    v->num_entries = 0;
    v->in.n = 0;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

/* ---- the caller's side ---- */

static void live_free(viz_live_t *v)
{
    viz_player_free(v->player);
    viz_recording_free(v->rec);
    for (size_t i = 0; i < v->num_entries; i++)
        free(v->entries[i].text);
    free(v->entries);
    free(v->in.ev);
    free(v->spare.ev);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

int viz_live_open(al_runtime_t *rt, const viz_live_opts_t *opts, viz_live_t **out, char *err,
                  size_t cap)
{
    viz_live_t *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    v->rt = rt;
    if (opts)
        v->opts = *opts;
    if (!v->opts.w || !v->opts.h) {
        v->opts.w = 1280;
        v->opts.h = 800;
    }
    if (!v->opts.max_events)
        v->opts.max_events = VIZ_LIVE_DEFAULT_EVENTS;
    if (v->opts.max_events < 1000)
        v->opts.max_events = 1000;
    snprintf(v->title, sizeof v->title, "%s", v->opts.title ? v->opts.title : "live");
    /* The caller's strings need not outlive this call. */
    if (v->opts.font_path) {
        snprintf(v->font_path, sizeof v->font_path, "%s", v->opts.font_path);
        v->opts.font_path = v->font_path;
    }
    if (v->opts.script) {
        snprintf(v->script, sizeof v->script, "%s", v->opts.script);
        v->opts.script = v->script;
    }
    v->opts.title = NULL;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    v->state = LIVE_STARTING;

    al_stream_t *st = al_stream_of(rt);
    int rc = st ? 0 : al_stream_start(rt, NULL, &st);
    if (rc == 0)
        rc = al_stream_subscribe(st, &live_consumer, v);
    if (rc != 0) {
        snprintf(err, cap, "cannot follow the runtime's events (error %d)", rc);
        live_free(v);
        return -1;
    }
    v->stream = st;
    if (pthread_create(&v->thread, NULL, live_main, v) != 0) {
        snprintf(err, cap, "cannot start the window's thread");
        al_stream_unsubscribe(st, &live_consumer, v);
        live_free(v);
        return -1;
    }
    pthread_mutex_lock(&v->lock);
    while (v->state == LIVE_STARTING)
        pthread_cond_wait(&v->cond, &v->lock);
    bool failed = v->state == LIVE_FAILED;
    if (failed) {
        /* The window's hint is the replay command's: say what helps here. */
        char *hint = strstr(v->err, "; render to a file");
        if (hint)
            *hint = 0;
        snprintf(err, cap, "%s%s", v->err,
                 hint ? "; without a display, record with rt.trace.start(path) and render it "
                        "with: asynclab replay path --headless --screenshot out.png"
                      : "");
    }
    pthread_mutex_unlock(&v->lock);
    if (failed) {
        pthread_join(v->thread, NULL);
        al_stream_unsubscribe(st, &live_consumer, v);
        live_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

void viz_live_close(viz_live_t *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    v->close_asked = true;
    pthread_mutex_unlock(&v->lock);
    pthread_join(v->thread, NULL);
    al_stream_unsubscribe(v->stream, &live_consumer, v);
    live_free(v);
}

al_runtime_t *viz_live_runtime(const viz_live_t *v)
{
    return v->rt;
}

bool viz_live_is_open(viz_live_t *v)
{
    pthread_mutex_lock(&v->lock);
    bool open = v->state == LIVE_OPEN;
    pthread_mutex_unlock(&v->lock);
    return open;
}

bool viz_live_wait_closed(viz_live_t *v, uint64_t timeout_ms)
{
    struct timespec ts;
    live_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&v->lock);
    while (v->state == LIVE_OPEN)
        if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) != 0)
            break;
    bool closed = v->state != LIVE_OPEN;
    pthread_mutex_unlock(&v->lock);
    return closed;
}

int viz_live_press(viz_live_t *v, const char *key)
{
    if (!key || !*key || strlen(key) >= sizeof v->keys[0])
        return -1;
    pthread_mutex_lock(&v->lock);
    int rc = -1;
    if (v->state == LIVE_OPEN && v->num_keys < LIVE_KEYS) {
        snprintf(v->keys[v->num_keys++], sizeof v->keys[0], "%s", key);
        rc = 0;
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

bool viz_live_scene(viz_live_t *v, viz_scene_t *out, uint64_t timeout_ms)
{
    al_stream_flush(v->stream); /* every event emitted so far reaches the staging */
    struct timespec ts;
    live_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&v->lock);
    v->scene_out = out;
    v->scene_asked = true;
    v->scene_served = false;
    while (!v->scene_served && v->state == LIVE_OPEN)
        if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) != 0)
            break;
    bool ok = v->scene_served;
    v->scene_out = NULL;
    v->scene_asked = false;
    pthread_mutex_unlock(&v->lock);
    return ok;
}
