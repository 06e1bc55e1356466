/*
 * viz_window.c — the interactive window (see viz_window.h).
 */
#include <stdio.h>
#include <string.h>

#include <SDL.h>

#include "viz_classroom.h"
#include "viz_layout.h"
#include "viz_lesson.h"
#include "viz_panels.h"
#include "viz_render.h"
#include "viz_scene.h"
#include "viz_timeline_input.h"
#include "viz_window.h"

/* Motions stay on screen for this much wall-clock time. */
#define VIZ__ANIM_WALL_NS 600000000ull

typedef struct {
    bool offscreen; /* SDL's offscreen / dummy driver (a test's key script) */
    SDL_Window *win;
    SDL_Renderer *sdl;
    viz_render_t *render;
    viz_scene_t *scene;
    viz_layout_t layout;
    viz_tl_ui_t *timeline; /* the timeline band and scrub slider */
    viz_panels_t *panels;  /* the console panel's and metrics strip's models */
} viz__win_t;

static void viz__close(viz__win_t *w)
{
    viz_render_free(w->render);
    if (w->sdl)
        SDL_DestroyRenderer(w->sdl);
    if (w->win)
        SDL_DestroyWindow(w->win);
    viz_scene_free(w->scene);
    viz_tl_ui_free(w->timeline);
    viz_panels_free(w->panels);
    SDL_Quit();
}

static int viz__open(viz__win_t *w, const viz_player_t *p, const viz_window_opts_t *o, char *err,
                     size_t cap)
{
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, cap,
                 "no display to open a window on (SDL: %s); render to a file with "
                 "--headless --screenshot OUT.png",
                 SDL_GetError());
        return -1;
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    w->offscreen = driver && (strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0);
    if (w->offscreen && !o->script && !o->allow_offscreen) {
        snprintf(err, cap,
                 "SDL's video driver is '%s': a window would not be seen; render to a file "
                 "with --headless --screenshot OUT.png",
                 driver);
        SDL_Quit();
        return -1;
    }
    w->win = SDL_CreateWindow(o->live ? "asynclab live" : "asynclab replay", SDL_WINDOWPOS_CENTERED,
                              SDL_WINDOWPOS_CENTERED, o->w, o->h, SDL_WINDOW_RESIZABLE);
    if (!w->win) {
        snprintf(err, cap, "cannot open a window: %s", SDL_GetError());
        viz__close(w);
        return -1;
    }
    /* Without a display (a test's key script) nothing is gained from the
     * GPU; and a window surface kept in a GL texture would load Mesa for
     * nothing (whose allocations LeakSanitizer reports once SDL unloads it). */
    if (w->offscreen)
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    else
        w->sdl =
            SDL_CreateRenderer(w->win, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (!w->sdl)
        w->sdl = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
    if (!w->sdl) {
        snprintf(err, cap, "cannot create a renderer: %s", SDL_GetError());
        viz__close(w);
        return -1;
    }
    if (viz_render_new(w->sdl, o->font_path, &w->render, err, cap) != 0) {
        viz__close(w);
        return -1;
    }
    if (!(w->scene = viz_scene_new()) || viz_tl_ui_new(p->rec, &w->timeline) != 0) {
        snprintf(err, cap, "out of memory");
        viz__close(w);
        return -1;
    }
    return 0;
}

/* A click selects what the last frame drew there (window coordinates are
 * scaled to the renderer's pixels, which differ on high-DPI displays). */
static void viz__click(viz__win_t *w, int x, int y)
{
    int ww = 0, wh = 0;
    SDL_GetWindowSize(w->win, &ww, &wh);
    if (ww > 0 && wh > 0) {
        x = x * w->layout.w / ww;
        y = y * w->layout.h / wh;
    }
    viz_select_hit(w->scene, viz_layout_hit(&w->layout, w->scene, x, y));
}

/* A mouse event for the timeline band, its pointer scaled as for clicks. */
static bool viz__timeline_mouse(viz__win_t *w, viz_player_t *p, const SDL_Event *e)
{
    int x, y;
    if (e->type == SDL_MOUSEBUTTONDOWN || e->type == SDL_MOUSEBUTTONUP)
        x = e->button.x, y = e->button.y;
    else if (e->type == SDL_MOUSEMOTION)
        x = e->motion.x, y = e->motion.y;
    else if (e->type == SDL_MOUSEWHEEL)
        SDL_GetMouseState(&x, &y);
    else
        return false;
    int ww = 0, wh = 0;
    SDL_GetWindowSize(w->win, &ww, &wh);
    if (ww > 0 && wh > 0) {
        x = x * w->layout.w / ww;
        y = y * w->layout.h / wh;
    }
    return viz_tl_ui_mouse(w->timeline, p, e, x, y, w->layout.timeline, w->layout.line_h);
}

/* A key: false to quit. */
static bool viz__key(viz_player_t *p, SDL_Keycode k)
{
    switch (k) {
    case SDLK_q:
    case SDLK_ESCAPE:
        return false;
    case SDLK_SPACE:
        if (viz_player_at_end(p))
            viz_player_seek_event(p, 0);
        p->playing = !p->playing;
        break;
    case SDLK_RIGHT:
        viz_player_step(p, 1);
        break;
    case SDLK_LEFT:
        viz_player_step(p, -1);
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        if (p->speed < 1000)
            p->speed *= 2;
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        if (p->speed > 1e-6)
            p->speed /= 2;
        break;
    case SDLK_HOME:
        p->playing = false;
        viz_player_seek_event(p, 0);
        break;
    case SDLK_END:
        p->playing = false;
        viz_player_seek_ns(p, viz_player_end_ns(p));
        break;
    default:
        break;
    }
    return true;
}

/* The next key of a test script as a key press; false when it is over. */
static bool viz__script_key(const char **script, char *err, size_t cap, bool *bad)
{
    const char *s = *script;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    size_t n = strcspn(s, " ");
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), s);
    *script = s + n;
    bool shift = strncmp(name, "Shift+", 6) == 0; /* "Shift+N" */
    SDL_Keycode k = SDL_GetKeyFromName(shift ? name + 6 : name);
    if (k == SDLK_UNKNOWN) {
        snprintf(err, cap, "unknown key '%s' in the key script", name);
        *bad = true;
        return false;
    }
    SDL_Event e = {.type = SDL_KEYDOWN};
    e.key.keysym.sym = k;
    e.key.keysym.mod = shift ? KMOD_SHIFT : KMOD_NONE;
    SDL_PushEvent(&e);
    return true;
}

int viz_window_run(viz_player_t *p, const viz_window_opts_t *o, char *err, size_t cap)
{
    viz__win_t w = {0};
    if (viz__open(&w, p, o, err, cap) != 0)
        return -1;
    if (!(w.panels = viz_panels_new(p->rec))) {
        snprintf(err, cap, "out of memory");
        viz__close(&w);
        return -1;
    }
    w.timeline->throttle = true;
    bool running = true, bad = false;
    const char *script = o->script;
    /* Lesson hooks: caption and highlights on screen; playing stops at
     * markers unless M turned that off. */
    viz_lesson_t lesson;
    viz_lesson_init(&lesson);
    viz_classroom_t cls = viz_classroom_default();
    cls.presenter = o->presenter;
    cls.stop_at_markers = !o->through_markers;
    const viz_window_live_t *live = o->live;
    uint64_t last = SDL_GetTicks64();
    while (running) {
        if (live && !live->frame(live->self, p))
            running = false;
        if (script && !viz__script_key(&script, err, cap, &bad))
            running = false;
        SDL_Event e;
        while (SDL_PollEvent(&e)) {
            if (e.type == SDL_QUIT)
                running = false;
            else if (e.type == SDL_KEYDOWN && live && live->key(live->self, p, e.key.keysym.sym))
                continue;
            else if (e.type == SDL_KEYDOWN && viz_classroom_key(&cls, w.win, e.key.keysym.sym))
                continue;
            else if (e.type == SDL_KEYDOWN &&
                     viz_tl_ui_key(w.timeline, p, e.key.keysym.sym, e.key.keysym.mod))
                continue;
            else if (e.type == SDL_KEYDOWN && !viz_panels_key(&w.scene->view, e.key.keysym.sym) &&
                     !viz__key(p, e.key.keysym.sym))
                running = false;
            else if (viz__timeline_mouse(&w, p, &e))
                ; /* the timeline band or the scrub slider took it */
            else if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT)
                viz__click(&w, e.button.x, e.button.y);
        }
        uint64_t t = SDL_GetTicks64();
        viz_lesson_update(&lesson, p->rec);
        viz_lesson_tick(&lesson, p, (t - last) * 1000000ull, cls.stop_at_markers);
        last = t;

        al_console_snapshot_t *snap = viz_player_snapshot(p);
        if (!snap) {
            snprintf(err, cap, "out of memory");
            viz_lesson_free(&lesson);
            viz__close(&w);
            return -1;
        }
        snprintf(w.scene->title, sizeof w.scene->title, "%s", o->title ? o->title : "");
        if (live)
            live->status(live->self, p, w.scene->status, sizeof w.scene->status);
        else
            snprintf(w.scene->status, sizeof w.scene->status, "%s  x%g   event %zu / %zu%s",
                     p->playing ? "playing" : "paused", p->speed, p->pos, p->rec->num_events,
                     cls.stop_at_markers ? "" : "   (not stopping at markers)");
        viz_scene_opts_t so = {.anim_window_ns = (uint64_t)(p->speed * VIZ__ANIM_WALL_NS) + 1};
        viz_scene_build(w.scene, snap, p->motion, &so);
        int prc = viz_panels_update(w.panels, w.scene, p, snap);
        viz_lesson_apply(&lesson, p->rec, p->pos, w.scene);
        al_console_snapshot_free(snap);
        if (prc != 0) {
            snprintf(err, cap, "out of memory");
            viz_lesson_free(&lesson);
            viz__close(&w);
            return -1;
        }

        int ow = o->w, oh = o->h;
        SDL_GetRendererOutputSize(w.sdl, &ow, &oh);
        float scale;
        viz_classroom_logical_size(&cls, ow, oh, &ow, &oh, &scale);
        SDL_RenderSetScale(w.sdl, scale, scale);
        viz_render_set_classroom(w.render, &cls);
        w.scene->timeline = viz_tl_ui_frame(w.timeline, p, ow) == 0 ? w.timeline->model : NULL;
        viz_layout_compute(&w.layout, w.scene, ow, oh);
        viz_render_draw(w.render, w.scene, &w.layout);
        SDL_RenderPresent(w.sdl);
        if (live)
            live->drawn(live->self, w.scene);
        uint64_t spent = SDL_GetTicks64() - t;
        if (spent < 16)
            SDL_Delay((uint32_t)(16 - spent));
    }
    viz_lesson_free(&lesson);
    viz__close(&w);
    return bad ? -1 : 0;
}
