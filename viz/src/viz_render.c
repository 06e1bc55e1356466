/*
 * viz_render.c — drawing a scene with SDL2 and SDL2_ttf (see viz_render.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#include "al_console.h"
#include "viz_classroom.h"
#include "viz_palette.h"
#include "viz_render.h"
#include "viz_render_internal.h"

/* ---- text, cached as textures while it stays on screen ---- */

enum { VIZ_F_NORMAL = 0, VIZ_F_SMALL, VIZ_F_BOLD, VIZ_F_SMALL_BOLD, VIZ_F_COUNT };

#define VIZ__CACHE 2048 /* a power of two */

typedef struct {
    uint64_t hash;
    char text[64];
    uint8_t font;
    viz_color_t color;
    int max_w;
    SDL_Texture *tex; /* NULL: empty slot */
    int w, h;         /* in layout units */
    int pw, ph;       /* in pixels of the texture (w, h times the text scale) */
    uint32_t used;    /* frame it was last drawn in */
} viz__text_t;

struct viz_render {
    SDL_Renderer *sdl;
    TTF_Font *font[VIZ_F_COUNT];
    int font_px; /* the size of VIZ_F_NORMAL, in layout units */
    /* Fonts are opened this many times larger than their layout size, and
     * text drawn 1:1 with the screen's pixels, when the whole frame is
     * scaled up (presenter mode: SDL_RenderSetScale): sharp, not magnified. */
    float text_scale;
    char font_path[1024];
    uint32_t frame;
    viz__text_t cache[VIZ__CACHE];
    /* The lesson caption: its own larger font, and its wrapped text kept as
     * one texture while it stays the same (viz__caption). */
    TTF_Font *caption_font;
    char caption_text[VIZ_CAPTION];
    int caption_wrap;
    SDL_Texture *caption_tex;
    int caption_w, caption_h;
    bool high_contrast, legend; /* viz_render_set_classroom */
};

const char *viz_render_font_path(const char *font_path)
{
    if (font_path && font_path[0])
        return font_path;
    const char *env = getenv("ASYNCLAB_FONT");
    return env && env[0] ? env : VIZ_DEFAULT_FONT;
}

static void viz__close_fonts(viz_render_t *r)
{
    if (r->caption_font)
        TTF_CloseFont(r->caption_font);
    r->caption_font = NULL;
    for (int i = 0; i < VIZ_F_COUNT; i++) {
        if (r->font[i])
            TTF_CloseFont(r->font[i]);
        r->font[i] = NULL;
    }
}

/* Open every font at its layout size times scale into r (closing none). */
static int viz__open_fonts(viz_render_t *r, float scale, char *err, size_t cap)
{
    static const int px[VIZ_F_COUNT] = {VIZ_FONT_PX, VIZ_FONT_SMALL_PX, VIZ_FONT_PX,
                                        VIZ_FONT_SMALL_PX};
    for (int i = 0; i < VIZ_F_COUNT; i++) {
        r->font[i] = TTF_OpenFont(r->font_path, (int)lroundf((float)px[i] * scale));
        if (!r->font[i]) {
            snprintf(err, cap,
                     "cannot open the font %s (%s): install the Debian package "
                     "fonts-dejavu-core (scripts/install-deps.sh) or set ASYNCLAB_FONT to a "
                     ".ttf file",
                     r->font_path, TTF_GetError());
            viz__close_fonts(r);
            return -1;
        }
        if (i == VIZ_F_BOLD || i == VIZ_F_SMALL_BOLD)
            TTF_SetFontStyle(r->font[i], TTF_STYLE_BOLD);
        TTF_SetFontHinting(r->font[i], TTF_HINTING_LIGHT);
    }
    r->caption_font = TTF_OpenFont(r->font_path, (int)lroundf(VIZ_CAPTION_FONT_PX * scale));
    if (r->caption_font)
        TTF_SetFontStyle(r->caption_font, TTF_STYLE_BOLD);
    r->text_scale = scale;
    return 0;
}

int viz_render_new(SDL_Renderer *sdl, const char *font_path, viz_render_t **out, char *err,
                   size_t cap)
{
    const char *path = viz_render_font_path(font_path);
    if (TTF_Init() != 0) {
        snprintf(err, cap, "cannot start SDL_ttf: %s", TTF_GetError());
        return -1;
    }
    viz_render_t *r = calloc(1, sizeof *r);
    if (!r) {
        TTF_Quit();
        snprintf(err, cap, "out of memory");
        return -1;
    }
    r->sdl = sdl;
    snprintf(r->font_path, sizeof r->font_path, "%s", path);
    if (viz__open_fonts(r, 1.0f, err, cap) != 0) {
        free(r);
        TTF_Quit();
        return -1;
    }
    r->font_px = VIZ_FONT_PX;
    SDL_SetRenderDrawBlendMode(sdl, SDL_BLENDMODE_BLEND);
    *out = r;
    return 0;
}

/* Forget every text texture (made with the fonts of another scale). */
static void viz__drop_texts(viz_render_t *r)
{
    for (int i = 0; i < VIZ__CACHE; i++)
        if (r->cache[i].tex)
            SDL_DestroyTexture(r->cache[i].tex);
    memset(r->cache, 0, sizeof r->cache);
    if (r->caption_tex)
        SDL_DestroyTexture(r->caption_tex);
    r->caption_tex = NULL;
    r->caption_text[0] = 0;
}

/* Pixels of text (at the text scale) in layout units, rounded up. */
static int viz__units(const viz_render_t *r, int px)
{
    return (int)ceilf((float)px / r->text_scale);
}

/* The width of s in font, in layout units. */
static int viz__measure(viz_render_t *r, TTF_Font *f, const char *s)
{
    int w = 0;
    return TTF_SizeUTF8(f, s, &w, NULL) == 0 ? viz__units(r, w) : 0;
}

void viz_render_free(viz_render_t *r)
{
    if (!r)
        return;
    viz__drop_texts(r);
    viz__close_fonts(r);
    free(r);
    TTF_Quit();
}

static uint64_t viz__hash(const char *s, uint8_t font, viz_color_t c, int max_w)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h = (h ^ font) * 1099511628211ull;
    h = (h ^ ((uint64_t)c.r << 24 | (uint64_t)c.g << 16 | (uint64_t)c.b << 8 | c.a)) *
        1099511628211ull;
    return (h ^ (uint64_t)(uint32_t)max_w) * 1099511628211ull;
}

/* The longest prefix of s (whole UTF-8 characters) that fits max_w with an
 * ellipsis after it; "" when not even the ellipsis fits. */
static void viz__fit_text(viz_render_t *r, TTF_Font *f, const char *s, int max_w, char *out,
                          size_t cap)
{
    snprintf(out, cap, "%s", s);
    if (viz__measure(r, f, out) <= max_w)
        return;
    size_t len = strlen(out);
    while (len > 0) {
        do
            len--;
        while (len > 0 && ((uint8_t)out[len] & 0xc0) == 0x80);
        char buf[80];
        snprintf(buf, sizeof buf, "%.*s\xe2\x80\xa6", (int)len, out);
        if (viz__measure(r, f, buf) <= max_w) {
            snprintf(out, cap, "%s", buf);
            return;
        }
    }
    out[0] = 0;
}

static viz__text_t *viz__text(viz_render_t *r, const char *s, uint8_t font, viz_color_t c,
                              int max_w)
{
    if (!s[0] || max_w <= 0)
        return NULL;
    uint64_t h = viz__hash(s, font, c, max_w);
    viz__text_t *slot = NULL;
    for (int probe = 0; probe < 16; probe++) {
        viz__text_t *e = &r->cache[(h + (uint64_t)probe) & (VIZ__CACHE - 1)];
        if (e->tex && e->hash == h && e->font == font && e->max_w == max_w &&
            memcmp(&e->color, &c, sizeof c) == 0 && strncmp(e->text, s, sizeof e->text) == 0) {
            e->used = r->frame;
            return e;
        }
        if (!slot && (!e->tex || e->used != r->frame))
            slot = e;
    }
    if (!slot)
        return NULL; /* the cache is full of this frame's text */
    if (slot->tex)
        SDL_DestroyTexture(slot->tex);
    memset(slot, 0, sizeof *slot);
    char fitted[80];
    viz__fit_text(r, r->font[font], s, max_w, fitted, sizeof fitted);
    if (!fitted[0])
        return NULL;
    SDL_Surface *surf =
        TTF_RenderUTF8_Blended(r->font[font], fitted, (SDL_Color){c.r, c.g, c.b, c.a});
    if (!surf)
        return NULL;
    slot->tex = SDL_CreateTextureFromSurface(r->sdl, surf);
    slot->pw = surf->w;
    slot->ph = surf->h;
    slot->w = viz__units(r, surf->w);
    slot->h = viz__units(r, surf->h);
    SDL_FreeSurface(surf);
    if (!slot->tex)
        return NULL;
    slot->hash = h;
    snprintf(slot->text, sizeof slot->text, "%s", s);
    slot->font = font;
    slot->color = c;
    slot->max_w = max_w;
    slot->used = r->frame;
    return slot;
}

/* Draw s at (x, y) (top left), at most max_w wide; returns the width drawn. */
static int viz__draw_text(viz_render_t *r, const char *s, uint8_t font, viz_color_t c, int x, int y,
                          int max_w)
{
    viz__text_t *t = viz__text(r, s, font, c, max_w);
    if (!t)
        return 0;
    /* The texture's own pixel size on screen (1:1 under the renderer's scale). */
    SDL_FRect dst = {(float)x, (float)y, (float)t->pw / r->text_scale,
                     (float)t->ph / r->text_scale};
    SDL_RenderCopyF(r->sdl, t->tex, NULL, &dst);
    return t->w;
}

/* Text centred vertically in rect, from its left edge + pad. */
static int viz__text_in(viz_render_t *r, const char *s, uint8_t font, viz_color_t c,
                        viz_rect_t rect, int pad)
{
    int fh = viz__units(r, TTF_FontHeight(r->font[font]));
    if (rect.h < fh - 3 || rect.w <= 2 * pad)
        return 0;
    return viz__draw_text(r, s, font, c, rect.x + pad, rect.y + (rect.h - fh) / 2,
                          rect.w - 2 * pad);
}

/* ---- shapes ---- */

static void viz__color(viz_render_t *r, viz_color_t c)
{
    SDL_SetRenderDrawColor(r->sdl, c.r, c.g, c.b, c.a);
    /* Opaque colours are drawn without blending: SDL's software renderer
     * blends pixel by pixel, but fills an opaque rectangle with plain
     * stores (several times faster; most of the frame is opaque fills). */
    SDL_SetRenderDrawBlendMode(r->sdl, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
}

static viz_color_t viz__alpha(viz_color_t c, uint8_t a)
{
    c.a = a;
    return c;
}

static viz_color_t viz__mix(viz_color_t a, viz_color_t b, int pct_b)
{
    return VIZ_RGB((uint8_t)((a.r * (100 - pct_b) + b.r * pct_b) / 100),
                   (uint8_t)((a.g * (100 - pct_b) + b.g * pct_b) / 100),
                   (uint8_t)((a.b * (100 - pct_b) + b.b * pct_b) / 100));
}

static void viz__fill(viz_render_t *r, viz_rect_t rc, viz_color_t c)
{
    if (viz_rect_empty(rc))
        return;
    viz__color(r, c);
    SDL_RenderFillRect(r->sdl, &(SDL_Rect){rc.x, rc.y, rc.w, rc.h});
}

static void viz__outline(viz_render_t *r, viz_rect_t rc, viz_color_t c)
{
    if (viz_rect_empty(rc))
        return;
    viz__color(r, c);
    SDL_RenderDrawRect(r->sdl, &(SDL_Rect){rc.x, rc.y, rc.w, rc.h});
}

static void viz__clip(viz_render_t *r, const viz_rect_t *rc)
{
    if (rc)
        SDL_RenderSetClipRect(r->sdl, &(SDL_Rect){rc->x, rc->y, rc->w, rc->h});
    else
        SDL_RenderSetClipRect(r->sdl, NULL);
}

/* Diagonal stripes over rc: blocked is never told by colour alone. */
static void viz__stripes(viz_render_t *r, viz_rect_t rc, viz_color_t c)
{
    if (viz_rect_empty(rc))
        return;
    viz__clip(r, &rc);
    viz__color(r, c);
    for (int x = rc.x - rc.h; x < rc.x + rc.w; x += 9) {
        SDL_RenderDrawLine(r->sdl, x, rc.y + rc.h, x + rc.h, rc.y);
        SDL_RenderDrawLine(r->sdl, x + 1, rc.y + rc.h, x + rc.h + 1, rc.y);
    }
    viz__clip(r, NULL);
}

/* A task chip: a filled box with its label when there is room. */
static void viz__chip(viz_render_t *r, viz_rect_t rc, const char *label, viz_color_t fill,
                      viz_color_t text)
{
    if (viz_rect_empty(rc))
        return;
    viz__fill(r, rc, fill);
    if (rc.w >= 4 && rc.h >= 4)
        viz__outline(r, rc, viz__mix(fill, VIZ_BG, 45));
    if (rc.w >= 18)
        viz__text_in(r, label, VIZ_F_SMALL, text, rc, 2);
}

static void viz__more_chip(viz_render_t *r, viz_rect_t rc, uint32_t more)
{
    char buf[24];
    snprintf(buf, sizeof buf, "+%u", more);
    viz__chip(r, rc, buf, VIZ_CHIP_MORE, VIZ_TEXT);
}

static const char *viz__dur(char *buf, size_t cap, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, cap, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, cap, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000ull)
        snprintf(buf, cap, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, cap, "%.2f s", (double)ns / 1e9);
    return buf;
}

/* ---- the parts ---- */

static void viz__header(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_rect_t h = l->header;
    if (viz_rect_empty(h))
        return;
    viz__fill(r, h, VIZ_PANEL);
    uint8_t font = l->font_px == VIZ_FONT_PX ? VIZ_F_NORMAL : VIZ_F_SMALL;
    char buf[320];
    snprintf(buf, sizeof buf, "t = %.6f s   %u workers   %" PRIu64 " tasks alive   %s", s->seconds,
             s->num_workers, s->alive_tasks, s->status);
    int x = h.x + 6;
    if (s->title[0])
        x += viz__text_in(r, s->title, font == VIZ_F_NORMAL ? VIZ_F_BOLD : VIZ_F_SMALL_BOLD,
                          VIZ_TEXT, (viz_rect_t){x, h.y, h.w / 3, h.h}, 0) +
             14;
    int right = h.x + h.w - 6;
    const char *warn = s->all_blocked ? "EVERY WORKER BLOCKED: nothing can run" : NULL;
    char drops[64];
    if (!warn && s->dropped) {
        snprintf(drops, sizeof drops, "%" PRIu64 " events dropped: figures may be off", s->dropped);
        warn = drops;
    }
    if (warn) {
        int ww = viz__measure(r, r->font[VIZ_F_BOLD], warn);
        if (ww + 12 < h.w / 2) {
            viz_rect_t badge = {right - ww - 12, h.y + 2, ww + 12, h.h - 4};
            viz__fill(r, badge, VIZ_BLOCKED);
            viz__text_in(r, warn, VIZ_F_BOLD, VIZ_TEXT, badge, 6);
            right = badge.x - 8;
        }
    }
    viz__text_in(r, buf, font, VIZ_TEXT_DIM, (viz_rect_t){x, h.y, right - x, h.h}, 0);
}

/* Column headings over the first lane of each column. */
static void viz__lanes_head(viz_render_t *r, const viz_layout_t *l)
{
    if (viz_rect_empty(l->lanes_head))
        return;
    viz_rect_t h = l->lanes_head;
    for (int c = 0; c < l->cols; c++) {
        uint32_t i = (uint32_t)(c * l->rows);
        if (i >= l->num_lanes || viz_rect_empty(l->lane[i].lane))
            continue;
        const viz_lane_box_t *b = &l->lane[i];
        viz__text_in(r, "worker, state", VIZ_F_SMALL, VIZ_TEXT_DIM,
                     (viz_rect_t){b->label.x, h.y, b->label.w, h.h}, 4);
        viz__text_in(r, "polling (poll time)", VIZ_F_SMALL, VIZ_TEXT_DIM,
                     (viz_rect_t){b->task.x, h.y, b->task.w, h.h}, 4);
        viz__text_in(r, "LIFO", VIZ_F_SMALL, VIZ_TEXT_DIM,
                     (viz_rect_t){b->lifo.x - 4, h.y, b->lifo.w + 8, h.h}, 0);
        viz__text_in(r, "local queue, oldest first", VIZ_F_SMALL, VIZ_TEXT_DIM,
                     (viz_rect_t){b->queue.x, h.y, b->queue.w, h.h}, 0);
    }
}

static viz_color_t viz__bar_color(uint64_t ns)
{
    return ns >= 10000000 ? VIZ_BAR_LONG : ns >= 1000000 ? VIZ_BAR_MEDIUM : VIZ_BAR_SHORT;
}

/* Poll time on a log scale: 1 us is empty, 1 s fills the bar. */
static int viz__bar_width(uint64_t ns, int w)
{
    if (ns <= 1000)
        return ns ? 1 : 0;
    double f = log10((double)ns / 1e3) / 6.0;
    if (f > 1)
        f = 1;
    int bw = (int)(f * w);
    return bw < 1 ? 1 : bw;
}

static void viz__lane(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l, uint32_t i)
{
    const viz_lane_t *lane = &s->lanes[i];
    const viz_lane_box_t *b = &l->lane[i];
    if (viz_rect_empty(b->lane))
        return;
    viz_color_t state = viz_palette_worker(lane->state);
    viz_color_t body = lane->alert    ? viz__mix(VIZ_BG, VIZ_BLOCKED, 45)
                       : lane->dimmed ? viz__mix(VIZ_BG, state, 40)
                                      : viz__mix(VIZ_BG, state, 22);
    viz__fill(r, b->lane, body);
    if (lane->alert)
        viz__stripes(r, b->lane, viz__alpha(VIZ_BLOCKED, 90));
    viz__fill(r, b->label, state);
    if (lane->alert)
        viz__stripes(r, b->label, viz__alpha(VIZ_TEXT_DARK, 60));
    viz_color_t text = lane->dimmed ? VIZ_TEXT_DIM : VIZ_TEXT;
    char buf[160], d[32];
    int line = l->line_h;
    uint8_t big = l->font_px == VIZ_FONT_PX ? VIZ_F_BOLD : VIZ_F_SMALL_BOLD;
    uint8_t small = VIZ_F_SMALL;
    if (b->text_lines >= 2) {
        viz_rect_t l1 = {b->label.x, b->label.y + 1, b->label.w, line};
        viz_rect_t l2 = {b->label.x, b->label.y + line, b->label.w, line};
        snprintf(buf, sizeof buf, "worker %u", lane->worker);
        int tw = viz__text_in(r, buf, big, text, l1, 4);
        snprintf(buf, sizeof buf, "%" PRIu64 " polls  %" PRIu64 " steals  busy %.0f%%", lane->polls,
                 lane->steals, lane->busy_pct);
        viz__text_in(r, buf, small, viz__alpha(text, 200),
                     (viz_rect_t){l1.x + tw + 12, l1.y, l1.w - tw - 12, l1.h}, 0);
        viz__text_in(r, lane->state_label, lane->alert ? VIZ_F_SMALL_BOLD : small, text, l2, 4);
    } else if (b->text_lines == 1) {
        snprintf(buf, sizeof buf, "%u %s", lane->worker, lane->state_short);
        viz__text_in(r, buf, small, text, b->label, 3);
    }
    /* The polled task and its poll-time bar. */
    if (lane->task.task) {
        viz__fill(r, b->task, viz__mix(VIZ_CHIP, VIZ_BG, lane->dimmed ? 60 : 10));
        if (b->text_lines >= 2) {
            viz__text_in(r, lane->task.label, small, VIZ_TEXT_DARK,
                         (viz_rect_t){b->task.x, b->task.y + 1, b->task.w, line - 2}, 4);
            snprintf(buf, sizeof buf, "poll %s", viz__dur(d, sizeof d, lane->poll_ns));
            viz__text_in(r, buf, small, VIZ_TEXT_DARK,
                         (viz_rect_t){b->task.x, b->task.y + line - 3, b->task.w, line - 2}, 4);
        } else if (b->text_lines == 1) {
            viz__text_in(r, lane->task.label, small, VIZ_TEXT_DARK, b->task, 3);
        }
        viz_rect_t bar = b->bar;
        viz__fill(r, bar, viz__alpha(VIZ_TEXT_DARK, 140));
        bar.w = viz__bar_width(lane->poll_ns, bar.w);
        viz__fill(r, bar, viz__bar_color(lane->poll_ns));
    } else {
        viz__outline(r, b->task, viz__alpha(VIZ_PANEL_LINE, 200));
        if (b->text_lines >= 1)
            viz__text_in(r, "no task", small, VIZ_TEXT_DIM, b->task, 4);
    }
    /* The LIFO slot. */
    if (lane->lifo.task) {
        viz__chip(r, b->lifo, lane->lifo.label, VIZ_CHIP, VIZ_TEXT_DARK);
        viz__outline(r, b->lifo, VIZ_LIFO);
    } else {
        viz__outline(r, b->lifo, viz__alpha(VIZ_LIFO, 150));
    }
    if (b->lifo.w >= 4 && b->lifo.h >= 6) {
        viz_rect_t in = {b->lifo.x + 1, b->lifo.y + 1, b->lifo.w - 2, b->lifo.h - 2};
        viz__outline(r, in, viz__alpha(VIZ_LIFO, 150));
    }
    /* The local queue. */
    for (uint32_t q = 0; q < b->chips; q++)
        viz__chip(r, viz_layout_lane_chip(l, i, q), lane->queue[q].label,
                  lane->dimmed ? viz__mix(VIZ_CHIP, VIZ_BG, 35) : VIZ_CHIP, VIZ_TEXT_DARK);
    if (b->more) {
        viz_rect_t more = viz_layout_lane_chip(l, i, b->chips);
        if (viz_rect_inside(more, b->queue))
            viz__more_chip(r, more, b->more);
    }
}

static void viz__row(viz_render_t *r, const viz_layout_t *l, const viz_chip_row_t *row,
                     const viz_chip_t *chips, viz_color_t fill)
{
    for (uint32_t i = 0; i < row->chips; i++)
        viz__chip(r, viz_layout_row_chip(l, row, i), chips[i].label, fill, VIZ_TEXT_DARK);
    if (row->more) {
        viz_rect_t more = viz_layout_row_chip(l, row, row->chips);
        if (viz_rect_inside(more, row->area))
            viz__more_chip(r, more, row->more);
    }
}

static void viz__title(viz_render_t *r, const viz_layout_t *l, viz_rect_t sec, const char *text)
{
    viz__text_in(r, text, VIZ_F_SMALL_BOLD, VIZ_TEXT, (viz_rect_t){sec.x, sec.y, sec.w, l->line_h},
                 2);
}

static void viz__side(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    char buf[200], d[32];
    int line = l->line_h;
    if (l->side_visible)
        viz__fill(r, l->side, viz__mix(VIZ_BG, VIZ_PANEL, 60));
    if (!viz_rect_empty(l->inject)) {
        snprintf(buf, sizeof buf, "inject queue (%u)", s->inject_len);
        if (l->side_visible) {
            viz__title(r, l, l->inject, buf);
        } else {
            viz__fill(r, l->inject, VIZ_PANEL);
            viz__text_in(r, buf, VIZ_F_SMALL, VIZ_TEXT,
                         (viz_rect_t){l->inject.x, l->inject.y, l->inject_row.area.x - l->inject.x,
                                      l->inject.h},
                         2);
        }
        viz__row(r, l, &l->inject_row, s->inject, VIZ_CHIP);
    }
    if (!viz_rect_empty(l->blocking)) {
        snprintf(buf, sizeof buf, "blocking pool: %u threads, %u busy, %u queued",
                 s->blocking_threads, s->blocking_busy, s->blocking_queued);
        viz__title(r, l, l->blocking, buf);
        for (uint32_t i = 0; i < l->blocking_lines; i++) {
            const viz_blocking_thread_t *t = &s->blocking[i];
            viz_rect_t row = {l->blocking.x + 8, l->blocking.y + line * (int)(i + 1),
                              l->blocking.w - 8, line};
            snprintf(buf, sizeof buf, "#%u  %s", t->number, t->task.task ? "runs" : "idle");
            int tw = viz__text_in(r, buf, VIZ_F_SMALL, VIZ_TEXT_DIM, row, 0);
            if (t->task.task)
                viz__chip(r, (viz_rect_t){row.x + tw + 6, row.y + 1, l->side_chip_w * 2, line - 2},
                          t->task.label, VIZ_CHIP, VIZ_TEXT_DARK);
        }
    }
    if (!viz_rect_empty(l->driver)) {
        if (s->next_timer_in_ns)
            snprintf(buf, sizeof buf, "driver: %u timers pending, next in %s", s->pending_timers,
                     viz__dur(d, sizeof d, s->next_timer_in_ns));
        else if (s->timer_overdue_ns)
            snprintf(buf, sizeof buf, "driver: %u timers pending, next OVERDUE by %s",
                     s->pending_timers, viz__dur(d, sizeof d, s->timer_overdue_ns));
        else
            snprintf(buf, sizeof buf, "driver: %u timers pending", s->pending_timers);
        viz__title(r, l, l->driver, buf);
        if (s->driver_worker >= 0)
            snprintf(buf, sizeof buf, "worker %d is parked in it (epoll + timer wheel)",
                     s->driver_worker);
        else
            snprintf(buf, sizeof buf, "no worker is parked in it");
        viz__text_in(r, buf, VIZ_F_SMALL, VIZ_TEXT_DIM,
                     (viz_rect_t){l->driver.x + 8, l->driver.y + line, l->driver.w - 8, line}, 0);
    }
    if (!viz_rect_empty(l->idle)) {
        snprintf(buf, sizeof buf, "idle tasks (%u), by what they wait on", s->idle_tasks);
        viz__title(r, l, l->idle, buf);
        for (uint32_t g = 0; g < l->num_groups; g++) {
            snprintf(buf, sizeof buf, "%s (%u)", s->groups[g].label, s->groups[g].count);
            viz_rect_t lr = l->group_label[g];
            lr.x += 8;
            lr.w -= 8;
            viz__text_in(r, buf, VIZ_F_SMALL, VIZ_TEXT_DIM, lr, 0);
            viz__row(r, l, &l->group_row[g], s->groups[g].tasks, viz__mix(VIZ_CHIP, VIZ_BG, 35));
        }
    }
    if (!viz_rect_empty(l->resources)) {
        snprintf(buf, sizeof buf, "resources (%u)", s->resources_total);
        viz__title(r, l, l->resources, buf);
        for (uint32_t i = 0; i < l->num_resources; i++) {
            const viz_resource_t *res = &s->resources[i];
            viz_rect_t rr = l->resource[i];
            if (res->holder.task)
                snprintf(buf, sizeof buf, "%s: held by %s, %u waiting", res->label,
                         res->holder.label, res->waiters);
            else if (res->holders)
                snprintf(buf, sizeof buf, "%s: %u holders, %u waiting", res->label, res->holders,
                         res->waiters);
            else
                snprintf(buf, sizeof buf, "%s: free%s", res->label, res->closed ? ", closed" : "");
            viz__text_in(r, buf, VIZ_F_SMALL, res->waiters ? VIZ_TEXT : VIZ_TEXT_DIM,
                         (viz_rect_t){rr.x + 8, rr.y, rr.w - 8, line}, 0);
            if (res->holder.task) {
                viz_rect_t hc = viz_layout_resource_chip(l, s, i, 0);
                viz__chip(r, hc, res->holder.label, VIZ_HOLDER, VIZ_TEXT_DARK);
                if (res->kept && !viz_rect_empty(hc))
                    viz__draw_text(r, "\xe2\x86\x90", VIZ_F_SMALL, VIZ_TEXT, hc.x + hc.w + 6, hc.y,
                                   VIZ_ARROW_W);
            }
            for (uint32_t k = 0; k < res->kept; k++)
                viz__chip(r, viz_layout_resource_chip(l, s, i, k + 1), res->waiting[k].label,
                          VIZ_CHIP, VIZ_TEXT_DARK);
        }
    }
}

/* ---- motions ---- */

static void viz__spark(viz_render_t *r, viz_point_t p, int radius, viz_color_t c)
{
    viz__color(r, c);
    for (int k = 0; k < 8; k++) {
        double a = k * M_PI / 4;
        int x1 = p.x + (int)(cos(a) * radius * 0.35), y1 = p.y + (int)(sin(a) * radius * 0.35);
        int x2 = p.x + (int)(cos(a) * radius), y2 = p.y + (int)(sin(a) * radius);
        SDL_RenderDrawLine(r->sdl, x1, y1, x2, y2);
    }
}

static viz_point_t viz__lerp(viz_point_t a, viz_point_t b, double t)
{
    /* ease out: quick start, gentle arrival */
    double e = 1 - (1 - t) * (1 - t);
    return (viz_point_t){a.x + (int)((b.x - a.x) * e), a.y + (int)((b.y - a.y) * e)};
}

static void viz__motions(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    int cw = l->chip_w > 6 ? l->chip_w : 6, ch = l->line_h - 4;
    for (uint32_t i = 0; i < s->num_motions; i++) {
        const viz_scene_motion_t *m = &s->motions[i];
        viz_point_t a, b;
        if (!viz_layout_point(l, m->from, &a) || !viz_layout_point(l, m->to, &b))
            continue;
        double t = m->progress;
        uint8_t alpha = (uint8_t)(255 * (1 - 0.7 * t));
        viz_point_t p = viz__lerp(a, b, t);
        switch (m->kind) {
        case VIZ_MOTION_POLL:
            viz__chip(r, (viz_rect_t){p.x - cw / 2, p.y - ch / 2, cw, ch}, m->task.label,
                      viz__alpha(VIZ_CHIP, alpha), VIZ_TEXT_DARK);
            break;
        case VIZ_MOTION_STEAL:
        case VIZ_MOTION_OVERFLOW: {
            viz_color_t c = m->kind == VIZ_MOTION_STEAL ? VIZ_STEAL : VIZ_OVERFLOW;
            viz__color(r, viz__alpha(c, (uint8_t)(alpha / 2)));
            SDL_RenderDrawLine(r->sdl, a.x, a.y, p.x, p.y);
            uint32_t n = m->count < 3 ? m->count : 3;
            for (uint32_t k = 0; k < n; k++)
                viz__fill(
                    r, (viz_rect_t){p.x - cw / 2 + (int)k * 4, p.y - ch / 2 - (int)k * 4, cw, ch},
                    viz__alpha(c, alpha));
            char buf[32];
            snprintf(buf, sizeof buf, "%s %u", m->kind == VIZ_MOTION_STEAL ? "steal" : "overflow",
                     m->count);
            viz__draw_text(r, buf, VIZ_F_SMALL_BOLD, VIZ_TEXT, p.x + cw / 2 + 4, p.y - ch, 120);
            break;
        }
        case VIZ_MOTION_WAKE:
            if (t < 0.5) {
                viz__color(r, viz__alpha(VIZ_WAKE, (uint8_t)(160 * (1 - 2 * t))));
                SDL_RenderDrawLine(r->sdl, a.x, a.y, b.x, b.y);
            }
            viz__spark(r, b, 6 + (int)(10 * t), viz__alpha(VIZ_WAKE, alpha));
            break;
        default:
            break;
        }
    }
}

/* What is counted rather than drawn (viz_classroom_aggregate), right-aligned
 * in the footer; returns the x where it starts. */
static int viz__aggregate_note(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_aggregate_t ag;
    viz_classroom_aggregate(s, l, &ag);
    int right = l->footer.x + l->footer.w;
    if (!ag.aggregated)
        return right;
    int tw = viz__measure(r, r->font[VIZ_F_SMALL_BOLD], ag.text);
    int max_w = l->footer.w * 3 / 5;
    if (tw > max_w)
        tw = max_w;
    viz_rect_t box = {right - tw - 12, l->footer.y, tw + 12, l->footer.h};
    viz__text_in(r, ag.text, VIZ_F_SMALL_BOLD, VIZ_OVERFLOW, box, 6);
    return box.x;
}

static void viz__footer(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    if (viz_rect_empty(l->footer))
        return;
    viz__fill(r, l->footer, VIZ_PANEL);
    viz_rect_t keys = l->footer;
    keys.w = viz__aggregate_note(r, s, l) - keys.x;
    viz__text_in(r,
                 "? keys   space play/pause   \xe2\x86\x90 \xe2\x86\x92 step   + \xe2\x88\x92 "
                 "speed   Home / End   Q quit",
                 VIZ_F_SMALL, VIZ_TEXT_DIM, keys, 6);
}

/* ---- lesson hooks: highlight outlines and the caption band ---- */

/* A thick outline in the highlight colour, a little outside rc. */
static void viz__ring(viz_render_t *r, viz_rect_t rc)
{
    if (viz_rect_empty(rc))
        return;
    for (int k = 1; k <= 3; k++)
        viz__outline(r, (viz_rect_t){rc.x - k, rc.y - k, rc.w + 2 * k, rc.h + 2 * k},
                     k == 3 ? VIZ_TEXT_DARK : VIZ_HIGHLIGHT);
}

/* Outline every place task `id` is drawn; how many. */
static int viz__ring_task(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l, uint64_t id)
{
    int n = 0;
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++) {
        const viz_lane_t *lane = &s->lanes[i];
        const viz_lane_box_t *b = &l->lane[i];
        if (viz_rect_empty(b->lane))
            continue;
        if (lane->task.task == id && (n += 1))
            viz__ring(r, b->task);
        if (lane->lifo.task == id && (n += 1))
            viz__ring(r, b->lifo);
        for (uint32_t q = 0; q < b->chips; q++)
            if (lane->queue[q].task == id && (n += 1))
                viz__ring(r, viz_layout_lane_chip(l, i, q));
    }
    if (!viz_rect_empty(l->inject))
        for (uint32_t q = 0; q < l->inject_row.chips; q++)
            if (s->inject[q].task == id && (n += 1))
                viz__ring(r, viz_layout_row_chip(l, &l->inject_row, q));
    for (uint32_t g = 0; g < l->num_groups; g++)
        for (uint32_t q = 0; q < l->group_row[g].chips; q++)
            if (s->groups[g].tasks[q].task == id && (n += 1))
                viz__ring(r, viz_layout_row_chip(l, &l->group_row[g], q));
    for (uint32_t i = 0; i < l->num_resources; i++)
        if (s->resources[i].holder.task == id && (n += 1))
            viz__ring(r, (viz_rect_t){l->resource[i].x + 8, l->resource[i].y + l->line_h + 2,
                                      l->side_chip_w, l->line_h});
    return n;
}

/* Outline what the lesson highlights; the ones not on screen are named in
 * `missing` (so that the caption band can say so). */
static void viz__highlights(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l,
                            char *missing, size_t cap)
{
    missing[0] = 0;
    size_t used = 0;
    for (uint32_t h = 0; h < s->num_highlights; h++) {
        const viz_lesson_highlight_t *hl = &s->highlights[h];
        int drawn = 0;
        const char *what = "task";
        if (hl->kind == AL_HIGHLIGHT_WORKER) {
            what = "worker";
            if (hl->id < l->num_lanes && !viz_rect_empty(l->lane[hl->id].lane)) {
                viz__ring(r, l->lane[hl->id].lane);
                drawn = 1;
            }
        } else if (hl->kind == AL_HIGHLIGHT_RESOURCE) {
            what = "resource";
            for (uint32_t i = 0; i < l->num_resources; i++)
                if (s->resources[i].id == hl->id) {
                    viz__ring(r, l->resource[i]);
                    drawn = 1;
                }
        } else {
            drawn = viz__ring_task(r, s, l, hl->id);
        }
        if (!drawn && used + 32 < cap)
            used += (size_t)snprintf(missing + used, cap - used, "%s%s %" PRIu64, used ? ", " : "",
                                     what, hl->id);
    }
}

/* The caption as a band across the bottom of the lanes: large bold text,
 * wrapped, on an opaque panel, with a note for highlights off screen. */
static void viz__caption(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l,
                         const char *missing)
{
    char note[200] = "";
    if (missing[0])
        snprintf(note, sizeof note, "highlighted, not on screen: %s", missing);
    if ((!s->caption[0] && !note[0]) || l->w < 120 || l->h < 60)
        return;
    viz_rect_t area = l->lanes;
    if (l->side_visible)
        area.w = l->side.x + l->side.w - area.x;
    int wrap = area.w - 32;
    if (wrap < 40)
        return;
    if (s->caption[0] && r->caption_font &&
        (strcmp(r->caption_text, s->caption) != 0 || r->caption_wrap != wrap || !r->caption_tex)) {
        if (r->caption_tex)
            SDL_DestroyTexture(r->caption_tex);
        r->caption_tex = NULL;
        snprintf(r->caption_text, sizeof r->caption_text, "%s", s->caption);
        r->caption_wrap = wrap;
        SDL_Surface *surf = TTF_RenderUTF8_Blended_Wrapped(
            r->caption_font, s->caption, (SDL_Color){VIZ_TEXT.r, VIZ_TEXT.g, VIZ_TEXT.b, 255},
            (Uint32)lroundf((float)wrap * r->text_scale));
        if (surf) {
            r->caption_tex = SDL_CreateTextureFromSurface(r->sdl, surf);
            r->caption_w = surf->w; /* pixels of the texture */
            r->caption_h = surf->h;
            SDL_FreeSurface(surf);
        }
    }
    bool text = s->caption[0] && r->caption_tex;
    int th = text ? viz__units(r, r->caption_h) : 0;
    int max_h = area.h / 2;
    if (th > max_h)
        th = max_h;
    int band_h = th + (note[0] ? l->line_h : 0) + 16;
    viz_rect_t band = {area.x + 8, area.y + area.h - band_h - 8, area.w - 16, band_h};
    viz__fill(r, band, viz__alpha(VIZ_CAPTION_BG, 235));
    viz__fill(r, (viz_rect_t){band.x, band.y, 6, band.h}, VIZ_HIGHLIGHT);
    if (text) {
        int src_h = (int)lroundf((float)th * r->text_scale);
        if (src_h > r->caption_h)
            src_h = r->caption_h;
        SDL_RenderCopyF(r->sdl, r->caption_tex, &(SDL_Rect){0, 0, r->caption_w, src_h},
                        &(SDL_FRect){(float)(band.x + 16), (float)(band.y + 8),
                                     (float)r->caption_w / r->text_scale,
                                     (float)src_h / r->text_scale});
    }
    if (note[0])
        viz__text_in(r, note, VIZ_F_SMALL_BOLD, VIZ_HIGHLIGHT,
                     (viz_rect_t){band.x + 16, band.y + 8 + th, band.w - 24, l->line_h}, 0);
}

/* ---- classroom: the legend of keys and colours (key ?) ---- */

void viz_render_set_classroom(viz_render_t *r, const viz_classroom_t *c)
{
    r->high_contrast = c && c->presenter;
    r->legend = c && c->legend;
    /* Presenter mode scales the frame up: text is set again in fonts that
     * much larger (the old ones kept if the new cannot be opened). */
    float scale = r->high_contrast ? VIZ_PRESENTER_SCALE : 1.0f;
    if (scale == r->text_scale)
        return;
    TTF_Font *old[VIZ_F_COUNT], *old_caption = r->caption_font;
    memcpy(old, r->font, sizeof old);
    float old_scale = r->text_scale;
    char err[512];
    if (viz__open_fonts(r, scale, err, sizeof err) != 0) {
        memcpy(r->font, old, sizeof old);
        r->caption_font = old_caption;
        r->text_scale = old_scale;
        return;
    }
    for (int i = 0; i < VIZ_F_COUNT; i++)
        TTF_CloseFont(old[i]);
    if (old_caption)
        TTF_CloseFont(old_caption);
    viz__drop_texts(r);
}

static void viz__legend(viz_render_t *r, const viz_layout_t *l)
{
    static const char *const keys[][2] = {
        {"Space", "play / pause"},
        {"\xe2\x86\x90 \xe2\x86\x92", "one event back / forward"},
        {"+ \xe2\x88\x92", "faster / slower"},
        {"Home / End", "the start / the end"},
        {"Z X  [ ]  0", "timeline: zoom, pan, follow the playhead"},
        {"N / Shift+N, K", "next / previous event of a kind; the kind"},
        {"M", "stop at lesson markers (on / off)"},
        {"P", "presenter mode: large, high contrast"},
        {"F11", "fullscreen"},
        {"? or H", "this legend"},
        {"Q, Esc", "quit"},
    };
    const struct {
        viz_color_t c;
        const char *what;
    } colours[] = {
        {VIZ_RUNNING, "running"},
        {VIZ_SEARCHING, "searching for work"},
        {VIZ_IDLE, "idle between polls"},
        {VIZ_PARKED, "parked"},
        {VIZ_BLOCKED, "blocked (striped, named)"},
        {VIZ_CHIP, "a task"},
        {VIZ_LIFO, "LIFO slot, steals"},
        {VIZ_WAKE, "wake, lock holder"},
        {VIZ_OVERFLOW, "overflow; counted, not drawn"},
        {VIZ_HIGHLIGHT, "highlighted by the lesson"},
    };
    int line = l->line_h + 4;
    int n = (int)(sizeof keys / sizeof *keys) + (int)(sizeof colours / sizeof *colours) + 3;
    int w = 440, h = n * line + 16;
    if (w > l->w - 8)
        w = l->w - 8;
    if (h > l->h - 8)
        h = l->h - 8;
    if (w < 60 || h < 3 * line)
        return;
    viz_rect_t box = {(l->w - w) / 2, (l->h - h) / 2, w, h};
    viz__fill(r, box, viz__alpha(VIZ_CAPTION_BG, 240));
    viz__outline(r, box, VIZ_TEXT);
    int x = box.x + 14, y = box.y + 8, kw = 110;
    viz__text_in(r, "keys", VIZ_F_BOLD, VIZ_TEXT, (viz_rect_t){x, y, w - 28, line}, 0);
    y += line;
    for (size_t i = 0; i < sizeof keys / sizeof *keys && y + line <= box.y + h; i++, y += line) {
        viz__text_in(r, keys[i][0], VIZ_F_BOLD, VIZ_WAKE, (viz_rect_t){x, y, kw, line}, 0);
        viz__text_in(r, keys[i][1], VIZ_F_NORMAL, VIZ_TEXT,
                     (viz_rect_t){x + kw, y, w - kw - 28, line}, 0);
    }
    y += line / 2;
    if (y + line <= box.y + h)
        viz__text_in(r, "colours (Okabe-Ito: safe for colour-blind viewers)", VIZ_F_BOLD, VIZ_TEXT,
                     (viz_rect_t){x, y, w - 28, line}, 0);
    y += line;
    for (size_t i = 0; i < sizeof colours / sizeof *colours && y + line <= box.y + h;
         i++, y += line) {
        viz__fill(r, (viz_rect_t){x, y + 3, 28, line - 6}, colours[i].c);
        viz__text_in(r, colours[i].what, VIZ_F_NORMAL, VIZ_TEXT,
                     (viz_rect_t){x + kw, y, w - kw - 28, line}, 0);
    }
}

void viz_render_draw(viz_render_t *r, const viz_scene_t *s, const viz_layout_t *l)
{
    viz_palette_high_contrast = r->high_contrast;
    r->frame++;
    viz__clip(r, NULL);
    viz__color(r, VIZ_BG);
    SDL_RenderClear(r->sdl);
    viz__header(r, s, l);
    viz__lanes_head(r, l);
    for (uint32_t i = 0; i < l->num_lanes && i < s->num_lanes; i++)
        viz__lane(r, s, l, i);
    viz__side(r, s, l);
    viz_render_metrics(r, s, l);
    viz_render_highlights(r, s, l);
    viz_render_deadlock(r, s, l);
    viz__motions(r, s, l);
    viz_render_timeline(r, s, l);
    viz_render_panel(r, s, l);
    viz__footer(r, s, l);
    char missing[160];
    viz__highlights(r, s, l, missing, sizeof missing);
    viz__caption(r, s, l, missing);
    if (r->legend)
        viz__legend(r, l);
    viz_palette_high_contrast = false;
}

/* ---- helpers for viz_render_panel.c and viz_render_select.c ---- */

_Static_assert((int)VIZ_TXT_SMALL == (int)VIZ_F_SMALL && (int)VIZ_TXT_BOLD == (int)VIZ_F_BOLD &&
                   (int)VIZ_TXT_SMALL_BOLD == (int)VIZ_F_SMALL_BOLD,
               "viz_render_internal.h names the fonts in this file's order");

SDL_Renderer *viz_render_sdl(viz_render_t *r)
{
    return r->sdl;
}

int viz_render_text(viz_render_t *r, const char *s, int font, viz_color_t c, viz_rect_t rect,
                    int pad)
{
    return viz__text_in(r, s, (uint8_t)font, c, rect, pad);
}

int viz_render_text_width(viz_render_t *r, const char *s, int font)
{
    return viz__measure(r, r->font[font], s);
}

void viz_render_fill(viz_render_t *r, viz_rect_t rect, viz_color_t c)
{
    viz__fill(r, rect, c);
}

void viz_render_outline(viz_render_t *r, viz_rect_t rect, viz_color_t c)
{
    viz__outline(r, rect, c);
}

void viz_render_chip(viz_render_t *r, viz_rect_t rect, const char *label, viz_color_t fill,
                     viz_color_t text)
{
    viz__chip(r, rect, label, fill, text);
}
