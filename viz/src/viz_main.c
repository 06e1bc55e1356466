/*
 * viz_main.c — `asynclab replay` (see viz_main.h): load a trace, position a
 * player, then print the scene, write a screenshot, or open the window.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "al_error.h"
#include "viz_classroom.h"
#include "viz_lesson.h"
#include "viz_main.h"
#include "viz_panels.h"
#include "viz_player.h"
#include "viz_recording.h"
#include "viz_scene.h"
#include "viz_shot.h"
#include "viz_timeline_input.h"
#include "viz_video.h"
#include "viz_window.h"

/* Motions within this much trace time before --at are drawn in a headless
 * frame. */
#define VIZ__HEADLESS_ANIM_NS 2000000ull

void viz_usage(FILE *out)
{
    fprintf(out,
            "asynclab replay: watch a recorded trace (ASYNCLAB_TRACE=FILE records one)\n"
            "  replay FILE                        a window: space play/pause, arrows step\n"
            "                                     one event, +/- speed, ? all keys,\n"
            "                                     Q quits\n"
            "  replay FILE --headless [--at T]    the scene as text\n"
            "  replay FILE --screenshot OUT.png [--at T] [--size WxH]\n"
            "                                     one frame as a PNG (no display needed)\n"
            "  replay FILE --frames DIR [--fps N] [--speed X] [--size WxH]\n"
            "                                     the whole recording as PNG frames\n"
            "                                     DIR/frame-00001.png ... (then ffmpeg\n"
            "                                     makes a video; the command is printed)\n"
            "  replay FILE --video OUT.mp4|OUT.gif [--fps N] [--speed X] [--size WxH]\n"
            "                                     the same frames made into a video or an\n"
            "                                     animated GIF by ffmpeg (apt install ffmpeg)\n"
            "  options: --at SECONDS since the recording started, --at event:N (after\n"
            "           the first N events) or --at marker:NAME (just after\n"
            "           rt.viz.marker(NAME)); --size WxH (1280x800);\n"
            "           --speed X trace seconds per second in the window;\n"
            "           --panel opens the console panel (Tab in the window);\n"
            "           --select task:ID | worker:N | resource:ID selects (a click);\n"
            "           --presenter large, high-contrast drawing for a projector (key P);\n"
            "           --legend the key and colour legend in a screenshot (key ?);\n"
            "           --through-markers playing does not stop at lesson markers (key M);\n"
            "           --zoom SECONDS the timeline's window (default: a quarter of the\n"
            "           recording); --no-timeline leaves the timeline band out of\n"
            "           pictures; --keyframe-mb N the memory for seek keyframes (256)\n"
            "  timeline keys: Z/X zoom, [ ] pan, 0 follow the playhead, N / Shift+N next /\n"
            "           previous event of a kind, K the kind (lint steal park block panic\n"
            "           any); drag on the scrub slider seeks\n"
            "Exit status: 0 ok, 1 damaged trace (what came before is shown),\n"
            "2 bad usage or unreadable file.\n");
}

typedef struct {
    const char *file, *screenshot, *frames;
    const char *video;     /* --video OUT: frames in a temporary directory, then ffmpeg */
    const char *at_marker; /* --at marker:NAME */
    bool headless, have_at, at_event, no_timeline;
    bool presenter, legend; /* --presenter, --legend (viz_classroom.h) */
    bool through_markers;   /* --through-markers: playing does not stop at them */
    double at, speed, fps, zoom;
    size_t at_n;
    double keyframe_mb;
    int w, h;
    viz_view_t view; /* --panel, --select */
} viz__args_t;

/* At most this many frames in one --frames run (a typo in --speed should not
 * fill the disk). */
#define VIZ__MAX_FRAMES 100000

static bool viz__number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

static int viz__parse(int argc, char **argv, viz__args_t *a)
{
    *a = (viz__args_t){.w = 1280, .h = 800};
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--headless") == 0) {
            a->headless = true;
        } else if (strcmp(o, "--panel") == 0) {
            a->view.panel.open = true;
        } else if (strcmp(o, "--select") == 0) {
            if (!v || !viz_select_parse(v, &a->view.sel)) {
                fprintf(stderr,
                        "asynclab replay: --select wants task:ID, worker:N or resource:ID, "
                        "not '%s'\n",
                        v ? v : "nothing");
                return 2;
            }
            i++;
        } else if (strcmp(o, "--presenter") == 0) {
            a->presenter = true;
        } else if (strcmp(o, "--legend") == 0) {
            a->legend = true;
        } else if (strcmp(o, "--through-markers") == 0) {
            a->through_markers = true;
        } else if (strcmp(o, "--no-timeline") == 0) {
            a->no_timeline = true;
        } else if (strcmp(o, "--keyframe-mb") == 0) {
            if (!v || !viz__number(v, &a->keyframe_mb) || a->keyframe_mb < 1 ||
                a->keyframe_mb > 1048576) {
                fprintf(stderr, "asynclab replay: --keyframe-mb wants mebibytes for seek "
                                "keyframes (1 to 1048576), e.g. --keyframe-mb 512\n");
                return 2;
            }
            i++;
        } else if (strcmp(o, "--zoom") == 0) {
            if (!v || !viz__number(v, &a->zoom) || a->zoom < 1e-6 || a->zoom > 3600) {
                fprintf(stderr, "asynclab replay: --zoom wants the timeline's width in seconds "
                                "(1e-6 to 3600), e.g. --zoom 0.05\n");
                return 2;
            }
            i++;
        } else if (strcmp(o, "--screenshot") == 0 || strcmp(o, "--at") == 0 ||
                   strcmp(o, "--size") == 0 || strcmp(o, "--speed") == 0 ||
                   strcmp(o, "--frames") == 0 || strcmp(o, "--fps") == 0 ||
                   strcmp(o, "--video") == 0) {
            if (!v) {
                fprintf(stderr, "asynclab replay: %s needs a value\n", o);
                return 2;
            }
            i++;
            if (strcmp(o, "--screenshot") == 0) {
                a->screenshot = v;
            } else if (strcmp(o, "--frames") == 0) {
                a->frames = v;
            } else if (strcmp(o, "--video") == 0) {
                a->video = v;
            } else if (strcmp(o, "--fps") == 0) {
                if (!viz__number(v, &a->fps) || a->fps < 1 || a->fps > 240) {
                    fprintf(stderr,
                            "asynclab replay: --fps wants 1 to 240 frames per second, not '%s'\n",
                            v);
                    return 2;
                }
            } else if (strcmp(o, "--at") == 0 && strncmp(v, "event:", 6) == 0) {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(v + 6, &end, 10);
                if (end == v + 6 || *end || errno || v[6] == '-') {
                    fprintf(stderr,
                            "asynclab replay: --at event:N wants a count of events (e.g. "
                            "--at event:1000), not '%s'\n",
                            v);
                    return 2;
                }
                a->at_n = (size_t)n;
                a->at_event = a->have_at = true;
            } else if (strcmp(o, "--at") == 0 && strncmp(v, "marker:", 7) == 0) {
                if (!v[7]) {
                    fprintf(stderr, "asynclab replay: --at marker:NAME needs a marker name\n");
                    return 2;
                }
                a->at_marker = v + 7;
                a->have_at = true;
            } else if (strcmp(o, "--at") == 0) {
                if (!viz__number(v, &a->at)) {
                    fprintf(stderr,
                            "asynclab replay: --at wants seconds since the recording started "
                            "(e.g. --at 0.25) or marker:NAME, not '%s'\n",
                            v);
                    return 2;
                }
                a->have_at = true;
            } else if (strcmp(o, "--speed") == 0) {
                if (!viz__number(v, &a->speed) || a->speed <= 0) {
                    fprintf(stderr, "asynclab replay: --speed wants a positive number, not '%s'\n",
                            v);
                    return 2;
                }
            } else {
                char extra;
                if (sscanf(v, "%dx%d%c", &a->w, &a->h, &extra) != 2 || a->w < 1 || a->h < 1 ||
                    a->w > 8192 || a->h > 8192) {
                    fprintf(stderr,
                            "asynclab replay: --size wants WIDTHxHEIGHT (1 to 8192 each), "
                            "e.g. 1280x800, not '%s'\n",
                            v);
                    return 2;
                }
            }
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "asynclab replay: unknown option '%s'\n\n", o);
            viz_usage(stderr);
            return 2;
        } else if (a->file) {
            fprintf(stderr, "asynclab replay: one trace file at a time ('%s', '%s')\n", a->file, o);
            return 2;
        } else {
            a->file = o;
        }
    }
    if (!a->file) {
        fprintf(stderr, "asynclab replay: which trace? (asynclab replay FILE.trace)\n\n");
        viz_usage(stderr);
        return 2;
    }
    if (a->screenshot || a->frames || a->video)
        a->headless = true;
    if (!!a->screenshot + !!a->frames + !!a->video > 1) {
        fprintf(stderr, "asynclab replay: one of --screenshot, --frames and --video at a time\n");
        return 2;
    }
    return 0;
}

/* Load the file; 0 whole, 1 damaged (told), 2 unreadable (told). */
static int viz__load(const char *file, viz_recording_t *rec)
{
    al_tracefile_error_t err;
    int rc = viz_recording_load(rec, file, &err);
    if (rc == 0 && !rec->have_header) {
        fprintf(stderr, "asynclab replay: %s is not a trace (no header: empty?)\n", file);
        return 1;
    }
    if (rc == 0) {
        if (rec->ended)
            return 0;
        fprintf(stderr,
                "asynclab replay: %s has no end record: it was cut short (or is still being "
                "written); showing the %zu events it has\n",
                file, rec->num_events);
        return 1;
    }
    if (rc == AL_ENOMEM) {
        fprintf(stderr, "asynclab replay: out of memory reading %s\n", file);
        return 2;
    }
    if (rc != AL_ETRUNCATED && rc != AL_EFORMAT && rc != AL_EVERSION) {
        fprintf(stderr, "asynclab replay: cannot open %s: %s\n", file, al_strerror(rc));
        return 2;
    }
    if (!rec->have_header) {
        fprintf(stderr, "asynclab replay: %s is not a readable trace: %s\n", file,
                err.message[0] ? err.message : al_strerror(rc));
        return 1;
    }
    fprintf(stderr,
            "asynclab replay: %s is damaged: %s; showing the %zu events before the damage\n", file,
            err.message[0] ? err.message : al_strerror(rc), rec->num_events);
    return 1;
}

static const char *viz__basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* The timeline band for a picture of w pixels at the player's now (--zoom
 * sets its window). */
static int viz__timeline(viz_player_t *p, const viz__args_t *a, viz_tl_ui_t **out)
{
    viz_tl_ui_t *tl;
    if (viz_tl_ui_new(p->rec, &tl) != 0)
        return -1;
    if (a->zoom > 0)
        tl->view.span_ns = (uint64_t)(a->zoom * 1e9);
    if (viz_tl_ui_frame(tl, p, a->w) != 0) {
        viz_tl_ui_free(tl);
        return -1;
    }
    *out = tl;
    return 0;
}

/* --frames: one PNG per 1/fps second of playback at `speed` trace seconds
 * per second, from the start (or --at) to the end; progress on stderr. */
static int viz__frames(viz_player_t *p, const viz__args_t *a, const viz_lesson_t *lesson)
{
    if (mkdir(a->frames, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "asynclab replay: cannot make %s: %s\n", a->frames, strerror(errno));
        return 1;
    }
    double fps = a->fps > 0 ? a->fps : 30;
    uint64_t start = viz_player_start_ns(p), end = viz_player_end_ns(p);
    if (a->have_at && p->now_ns > start)
        start = p->now_ns;
    double step_ns = p->speed / fps * 1e9; /* trace time between frames */
    if (step_ns < 1)
        step_ns = 1;
    double count = (double)(end - start) / step_ns + 1;
    if (count > VIZ__MAX_FRAMES) {
        fprintf(stderr,
                "asynclab replay: that would be %.0f frames (over %d): raise --speed or lower "
                "--fps\n",
                count, VIZ__MAX_FRAMES);
        return 1;
    }
    size_t n = (size_t)count;
    viz_scene_t *scene = viz_scene_new();
    viz_panels_t *panels = viz_panels_new(p->rec);
    if (!scene || !panels) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        viz_scene_free(scene);
        viz_panels_free(panels);
        return 1;
    }
    scene->view = a->view;
    int rc = 0;
    bool tty = isatty(2);
    viz_tl_ui_t *tl = NULL;
    if (!a->no_timeline && viz__timeline(p, a, &tl) == 0)
        scene->timeline = tl->model;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t ts = start + (uint64_t)((double)i * step_ns);
        al_console_snapshot_t *snap = NULL;
        if (viz_player_seek_ns(p, ts > end ? end : ts) != 0 || !(snap = viz_player_snapshot(p))) {
            fprintf(stderr, "asynclab replay: out of memory\n");
            rc = 1;
            break;
        }
        snprintf(scene->title, sizeof scene->title, "%s", viz__basename(a->file));
        snprintf(scene->status, sizeof scene->status, "event %zu / %zu", p->pos,
                 p->rec->num_events);
        if (tl && viz_tl_ui_frame(tl, p, a->w) != 0)
            scene->timeline = NULL;
        viz_scene_opts_t so = {.anim_window_ns = (uint64_t)step_ns};
        viz_scene_build(scene, snap, p->motion, &so);
        rc = viz_panels_update(panels, scene, p, snap) != 0;
        viz_lesson_apply(lesson, p->rec, p->pos, scene);
        al_console_snapshot_free(snap);
        if (rc) {
            fprintf(stderr, "asynclab replay: out of memory\n");
            break;
        }
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/frame-%05zu.png", a->frames, i + 1);
        viz_classroom_t cls = viz_classroom_default();
        cls.presenter = a->presenter;
        cls.legend = a->legend;
        if (viz_classroom_shot_png(scene, a->w, a->h, &cls, path, err, sizeof err) != 0) {
            fprintf(stderr, "asynclab replay: %s\n", err);
            rc = 1;
        }
        if (tty)
            fprintf(stderr, "\rasynclab replay: frame %zu of %zu", i + 1, n);
    }
    if (tty)
        fprintf(stderr, "\n");
    viz_scene_free(scene);
    viz_tl_ui_free(tl);
    viz_panels_free(panels);
    if (rc == 0 && !a->video)
        fprintf(stderr,
                "asynclab replay: wrote %zu frames to %s (%.0f fps, %g trace s per s).\n"
                "A video: ffmpeg -framerate %.0f -i %s/frame-%%05d.png -pix_fmt yuv420p out.mp4\n",
                n, a->frames, fps, p->speed, fps, a->frames);
    return rc;
}

/* --video: the frames of --frames in a temporary directory, then ffmpeg. */
static int viz__video(viz_player_t *p, const viz__args_t *a, const viz_lesson_t *lesson)
{
    char ffmpeg[4096], dir[4096], err[512];
    if (!viz_video_find_ffmpeg(ffmpeg, sizeof ffmpeg)) {
        fprintf(stderr,
                "asynclab replay: --video needs ffmpeg, which is not on PATH (Debian: "
                "sudo apt install ffmpeg); --frames DIR writes the PNG frames without it\n");
        return 1;
    }
    if (viz_video_tmpdir(dir, sizeof dir) != 0) {
        fprintf(stderr, "asynclab replay: cannot make a temporary directory for the frames: %s\n",
                strerror(errno));
        return 1;
    }
    viz__args_t with_frames = *a;
    with_frames.frames = dir;
    int rc = viz__frames(p, &with_frames, lesson);
    if (rc == 0) {
        fprintf(stderr, "asynclab replay: encoding %s with %s\n", a->video, ffmpeg);
        rc = viz_video_encode(ffmpeg, dir, a->fps > 0 ? a->fps : 30, a->video, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "asynclab replay: %s\n", err);
        else
            fprintf(stderr, "asynclab replay: wrote %s\n", a->video);
    }
    viz_video_cleanup(dir);
    return rc != 0;
}

static int viz__headless(viz_player_t *p, const viz__args_t *a, const viz_lesson_t *lesson)
{
    viz_scene_t *scene = viz_scene_new();
    al_console_snapshot_t *snap = viz_player_snapshot(p);
    if (!scene || !snap) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        viz_scene_free(scene);
        al_console_snapshot_free(snap);
        return 1;
    }
    snprintf(scene->title, sizeof scene->title, "%s", viz__basename(a->file));
    snprintf(scene->status, sizeof scene->status, "event %zu / %zu", p->pos, p->rec->num_events);
    viz_tl_ui_t *tl = NULL;
    if (a->screenshot && !a->no_timeline && viz__timeline(p, a, &tl) == 0)
        scene->timeline = tl->model;
    viz_scene_opts_t so = {.anim_window_ns = VIZ__HEADLESS_ANIM_NS};
    scene->view = a->view;
    viz_scene_build(scene, snap, p->motion, &so);
    viz_panels_t *panels = viz_panels_new(p->rec);
    int rc = panels ? viz_panels_update(panels, scene, p, snap) : 1;
    viz_panels_free(panels);
    viz_lesson_apply(lesson, p->rec, p->pos, scene);
    al_console_snapshot_free(snap);
    if (rc != 0) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        viz_scene_free(scene);
        viz_tl_ui_free(tl);
        return 1;
    }
    if (a->screenshot) {
        char err[512];
        viz_classroom_t cls = viz_classroom_default();
        cls.presenter = a->presenter;
        cls.legend = a->legend;
        if (viz_classroom_shot_png(scene, a->w, a->h, &cls, a->screenshot, err, sizeof err) != 0) {
            fprintf(stderr, "asynclab replay: %s\n", err);
            rc = 1;
        } else {
            fprintf(stderr, "asynclab replay: wrote %s (%dx%d) at %.6f s\n", a->screenshot, a->w,
                    a->h, scene->seconds);
        }
    } else {
        viz_scene_print(scene, stdout);
        viz_lesson_print(scene, stdout);
    }
    viz_scene_free(scene);
    viz_tl_ui_free(tl);
    return rc;
}

int viz_main(int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        viz_usage(stdout);
        return 0;
    }
    viz__args_t a;
    int rc = viz__parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    viz_recording_t *rec;
    if (viz_recording_new(&rec) != 0) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        return 2;
    }
    int status = viz__load(a.file, rec);
    if (status == 2 || (status == 1 && !rec->have_header)) {
        viz_recording_free(rec);
        return status;
    }
    viz_player_t *p;
    if (viz_player_new_with(rec, (size_t)(a.keyframe_mb * 1048576), 0, &p) != 0) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        viz_recording_free(rec);
        return 2;
    }
    double duration = (double)(viz_player_end_ns(p) - viz_player_start_ns(p)) / 1e9;
    p->speed = a.speed > 0 ? a.speed : duration > 0 ? fmin(fmax(duration / 20.0, 1e-4), 1.0) : 1.0;
    viz_lesson_t lesson;
    viz_lesson_init(&lesson);
    viz_lesson_update(&lesson, rec);
    size_t marker_pos = 0;
    if (a.at_marker && !viz_lesson_find_marker(&lesson, rec, a.at_marker, &marker_pos)) {
        fprintf(stderr, "asynclab replay: %s has no marker '%s'", a.file, a.at_marker);
        for (size_t i = 0; i < lesson.num_markers && i < 8; i++)
            fprintf(stderr, "%s'%s'", i ? ", " : " (its markers: ",
                    viz_recording_string(rec, rec->events[lesson.markers[i]].str));
        fprintf(stderr, "%s\n",
                lesson.num_markers > 8   ? ", ...)"
                : lesson.num_markers > 0 ? ")"
                                         : " (it has none: rt.viz.marker(NAME) records one)");
        viz_lesson_free(&lesson);
        viz_player_free(p);
        viz_recording_free(rec);
        return 2;
    }
    if (a.at_marker)
        rc = viz_player_seek_event(p, marker_pos);
    else if (a.at_event)
        rc = viz_player_seek_event(p, a.at_n);
    else if (a.have_at)
        rc = viz_player_seek_seconds(p, a.at);
    else if (a.headless)
        rc = viz_player_seek_ns(p, viz_player_end_ns(p));
    if (rc != 0) {
        fprintf(stderr, "asynclab replay: out of memory\n");
        status = 2;
    } else if (a.video) {
        if (viz__video(p, &a, &lesson) != 0)
            status = 1;
    } else if (a.frames) {
        if (viz__frames(p, &a, &lesson) != 0)
            status = 1;
    } else if (a.headless) {
        if (viz__headless(p, &a, &lesson) != 0)
            status = 1;
    } else {
        char err[512];
        /* Keyframes for the whole recording first, so that any seek in the
         * window is quick (viz_keyframes.h). */
        if (rec->num_events > 2 * (size_t)p->keyframes.interval) {
            if (rec->num_events > 1000000)
                fprintf(stderr, "asynclab replay: indexing %zu events for seeking...\n",
                        rec->num_events);
            if (viz_player_build_keyframes(p) != 0) {
                fprintf(stderr, "asynclab replay: out of memory for keyframes: seeking back "
                                "replays from the start\n");
            } else if (rec->num_events > 1000000) {
                viz_player_memory_t m;
                viz_player_memory(p, &m);
                fprintf(stderr,
                        "asynclab replay: %zu keyframes, one every %zu events, %.1f MiB "
                        "(--keyframe-mb %.0f)\n",
                        m.keyframes, m.interval, m.keyframe_bytes / 1048576.0,
                        m.budget / 1048576.0);
            }
        }
        viz_window_opts_t wo = {.w = a.w,
                                .h = a.h,
                                .title = viz__basename(a.file),
                                .script = getenv("ASYNCLAB_REPLAY_KEYS"),
                                .presenter = a.presenter,
                                .through_markers = a.through_markers};
        if (viz_window_run(p, &wo, err, sizeof err) != 0) {
            fprintf(stderr, "asynclab replay: %s\n", err);
            status = 1;
        } else if (wo.script) {
            fprintf(stderr, "asynclab replay: closed at event %zu of %zu, %.6f s, %s, x%g\n",
                    p->pos, rec->num_events, viz_player_seconds(p),
                    p->playing ? "playing" : "paused", p->speed);
        }
    }
    viz_lesson_free(&lesson);
    viz_player_free(p);
    viz_recording_free(rec);
    return status;
}
