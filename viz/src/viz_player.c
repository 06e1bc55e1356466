/*
 * viz_player.c — position and time control over a recording (see
 * viz_player.h).
 */
#include <stdlib.h>

#include "al_error.h"
#include "viz_player.h"

static void viz__drop_models(viz_player_t *p)
{
    al_console_free(p->console);
    viz_motion_log_free(p->motion);
    p->console = NULL;
    p->motion = NULL;
}

/* Fresh models that have seen the tables and no event. */
static int viz__reset(viz_player_t *p)
{
    viz__drop_models(p);
    int rc = al_console_new(NULL, &p->console);
    if (rc == 0)
        rc = viz_motion_log_new(&p->motion);
    if (rc != 0) {
        viz__drop_models(p);
        return rc;
    }
    viz_recording_feed(p->rec, true, 0, 0, &al_console_consumer, p->console);
    p->pos = 0;
    return 0;
}

/* Feed events [p->pos, to), stopping at each keyframe boundary to keep a
 * keyframe there (a failed copy only costs speed later). */
static void viz__forward(viz_player_t *p, size_t to)
{
    while (p->pos < to) {
        size_t iv = p->keyframes.interval;
        size_t next = (p->pos / iv + 1) * iv;
        if (next > to)
            next = to;
        viz_recording_feed(p->rec, false, p->pos, next, &al_console_consumer, p->console);
        viz_recording_feed(p->rec, false, p->pos, next, &viz_motion_consumer, p->motion);
        p->pos = next;
        if (viz_keyframes_wants(&p->keyframes, p->pos))
            (void)viz_keyframes_add(&p->keyframes, p->pos, p->console, p->motion);
    }
}

/* Models as of keyframe k (copies: the keyframe stays as it is). */
static int viz__restore(viz_player_t *p, const viz_keyframe_t *k)
{
    al_console_t *c;
    viz_motion_log_t *m;
    int rc = al_console_clone(k->console, &c);
    if (rc != 0)
        return rc;
    if ((rc = viz_motion_log_clone(k->motion, &m)) != 0) {
        al_console_free(c);
        return rc;
    }
    viz__drop_models(p);
    p->console = c;
    p->motion = m;
    p->pos = k->pos;
    /* Strings and drop counts that arrived after the keyframe was taken (a
     * live recording grows): the same tables a reset would feed. */
    viz_recording_feed(p->rec, true, 0, 0, &al_console_consumer, p->console);
    return 0;
}

/* Make exactly [0, to) applied: from the nearest keyframe at or before to
 * when that saves replaying, else from where we are or from the start. */
static int viz__goto(viz_player_t *p, size_t to)
{
    if (to > p->rec->num_events)
        to = p->rec->num_events;
    bool back = to < p->pos || !p->console;
    const viz_keyframe_t *k = viz_keyframes_find(&p->keyframes, to);
    int rc = 0;
    if (k && (back || k->pos > p->pos))
        rc = viz__restore(p, k);
    else if (back)
        rc = viz__reset(p);
    if (rc != 0)
        return rc;
    viz__forward(p, to);
    return 0;
}

int viz_player_build_keyframes(viz_player_t *p)
{
    size_t here = p->pos;
    const viz_keyframe_t *last = p->keyframes.n ? &p->keyframes.k[p->keyframes.n - 1] : NULL;
    if (last && last->pos > p->pos) {
        int rc = viz__restore(p, last);
        if (rc != 0)
            return rc;
    }
    viz__forward(p, p->rec->num_events);
    int rc = viz__goto(p, here);
    viz_keyframes_enforce(&p->keyframes);
    return rc;
}

void viz_player_memory(viz_player_t *p, viz_player_memory_t *out)
{
    viz_keyframes_enforce(&p->keyframes);
    *out = (viz_player_memory_t){
        .keyframes = p->keyframes.n,
        .interval = p->keyframes.interval,
        .keyframe_bytes = p->keyframes.bytes,
        .budget = p->keyframes.budget,
        .model_bytes = (p->console ? al_console_memory(p->console) : 0) +
                       (p->motion ? viz_motion_log_memory(p->motion) : 0),
        .recording_bytes = p->rec->cap_events * sizeof *p->rec->events,
    };
}

uint64_t viz_player_start_ns(const viz_player_t *p)
{
    uint64_t base = p->rec->header.clock_base_ns, first = viz_recording_first_ns(p->rec);
    return base && base < first ? base : first;
}

uint64_t viz_player_end_ns(const viz_player_t *p)
{
    return viz_recording_last_ns(p->rec);
}

int viz_player_new(const viz_recording_t *rec, viz_player_t **out)
{
    return viz_player_new_with(rec, 0, 0, out);
}

int viz_player_new_with(const viz_recording_t *rec, size_t budget, size_t interval,
                        viz_player_t **out)
{
    viz_player_t *p = calloc(1, sizeof *p);
    if (!p)
        return AL_ENOMEM;
    p->rec = rec;
    viz_keyframes_init(&p->keyframes, budget, interval);
    p->speed = 1.0;
    int rc = viz__reset(p);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->now_ns = viz_player_start_ns(p);
    *out = p;
    return 0;
}

void viz_player_free(viz_player_t *p)
{
    if (!p)
        return;
    viz__drop_models(p);
    viz_keyframes_clear(&p->keyframes);
    free(p);
}

int viz_player_seek_event(viz_player_t *p, size_t pos)
{
    int rc = viz__goto(p, pos);
    if (rc == 0)
        p->now_ns = p->pos ? p->rec->events[p->pos - 1].ts_ns : viz_player_start_ns(p);
    return rc;
}

int viz_player_seek_ns(viz_player_t *p, uint64_t ts)
{
    uint64_t lo = viz_player_start_ns(p), hi = viz_player_end_ns(p);
    if (ts < lo)
        ts = lo;
    if (ts > hi)
        ts = hi;
    int rc = viz__goto(p, viz_recording_count_until(p->rec, ts));
    if (rc == 0)
        p->now_ns = ts;
    return rc;
}

int viz_player_seek_seconds(viz_player_t *p, double secs)
{
    if (secs < 0)
        secs = 0;
    double ns = secs * 1e9;
    uint64_t base =
        p->rec->header.clock_base_ns ? p->rec->header.clock_base_ns : viz_player_start_ns(p);
    return viz_player_seek_ns(p, ns > 1.8e19 ? UINT64_MAX : base + (uint64_t)ns);
}

int viz_player_step(viz_player_t *p, int dir)
{
    p->playing = false;
    if (dir > 0) {
        /* The next event after now: events at now's instant may already be
         * applied, or not yet (after a seek by time). */
        size_t next = p->pos < p->rec->num_events ? p->pos + 1 : p->pos;
        return viz_player_seek_event(p, next);
    }
    if (dir < 0)
        return viz_player_seek_event(p, p->pos > 0 ? p->pos - 1 : 0);
    return 0;
}

int viz_player_tick(viz_player_t *p, uint64_t wall_ns)
{
    if (!p->playing)
        return 0;
    double adv = (double)wall_ns * p->speed;
    uint64_t end = viz_player_end_ns(p);
    uint64_t to = adv >= (double)(end - (p->now_ns < end ? p->now_ns : end))
                      ? end
                      : p->now_ns + (uint64_t)adv;
    int rc = viz_player_seek_ns(p, to);
    if (viz_player_at_end(p))
        p->playing = false;
    return rc;
}

int viz_player_forget_front(viz_player_t *p, size_t n)
{
    if (p->pos >= n) {
        p->pos -= n;
        return 0;
    }
    int rc = viz__reset(p);
    if (rc == 0)
        p->now_ns = viz_player_start_ns(p);
    return rc;
}

bool viz_player_at_end(const viz_player_t *p)
{
    return p->pos >= p->rec->num_events && p->now_ns >= viz_player_end_ns(p);
}

double viz_player_seconds(const viz_player_t *p)
{
    uint64_t base = p->rec->header.clock_base_ns;
    return p->now_ns > base ? (double)(p->now_ns - base) / 1e9 : 0.0;
}

al_console_snapshot_t *viz_player_snapshot(const viz_player_t *p)
{
    return al_console_snapshot(p->console, p->now_ns ? p->now_ns : 1);
}
