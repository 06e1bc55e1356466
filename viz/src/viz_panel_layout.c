/*
 * viz_panel_layout.c — the console panel's and the metrics strip's places
 * (see viz_panel_layout.h).
 */
#include "viz_panel_layout.h"

const unsigned viz_panel_col_order[VIZ_PANEL_COLS] = {
    VIZ_COL_TASK, VIZ_COL_STATE, VIZ_COL_POLLS, VIZ_COL_WAKES,
    VIZ_COL_BUSY, VIZ_COL_IDLE,  VIZ_COL_SCHED, VIZ_COL_LAST_POLL};

/* Width shares of the columns in display order (per mille). */
static const int viz__col_share[VIZ_PANEL_COLS] = {230, 120, 95, 95, 115, 115, 115, 115};

static viz_rect_t viz__r(int x, int y, int w, int h)
{
    return (viz_rect_t){x, y, w > 0 ? w : 0, h > 0 ? h : 0};
}

static void viz__panel(viz_layout_t *l, const viz_scene_t *s, viz_rect_t a)
{
    viz_panel_box_t *b = &l->panel;
    int line = l->line_h, pad = 6;
    b->area = a;
    int x = a.x + pad, w = a.w - 2 * pad, y = a.y + pad;
    /* title line "tasks (N)", then the headings */
    b->head = viz__r(x, y + line, w, line);
    int cx = x;
    for (int i = 0; i < VIZ_PANEL_COLS; i++) {
        int cw = i == VIZ_PANEL_COLS - 1 ? x + w - cx : w * viz__col_share[i] / 1000;
        b->col[viz_panel_col_order[i]] = viz__r(cx, b->head.y, cw, line);
        cx += cw;
    }
    b->row_h = line - 2;
    int table_y = b->head.y + line;
    int table_h = (a.y + a.h - table_y) * 40 / 100;
    uint32_t fit = b->row_h > 0 ? (uint32_t)(table_h / b->row_h) : 0;
    uint32_t want = s->panel.num_rows > 0 ? s->panel.num_rows : 1;
    b->rows = fit < want ? fit : s->panel.num_rows;
    int used = (int)(fit < want ? fit : want) * b->row_h;
    b->table = viz__r(x, table_y, w, used);
    y = table_y + used + pad;
    /* lints: a title and two lines per finding, at most 3 shown fully */
    uint32_t nl = s->panel.num_lints < 3 ? s->panel.num_lints : 3;
    int lints_h = line * (1 + 2 * (int)(nl ? nl : 1));
    if (lints_h > (a.y + a.h - y) / 3)
        lints_h = (a.y + a.h - y) / 3;
    b->lints = viz__r(x, y, w, lints_h);
    y += lints_h + pad;
    b->details = viz__r(x, y, w, a.y + a.h - pad - y);
}

void viz_panel_layout(viz_layout_t *l, const viz_scene_t *s, viz_rect_t *body)
{
    if (s->view.panel.open && body->w >= 600 && body->h >= 200) {
        int pw = body->w / 3;
        pw = pw < 300 ? 300 : pw > 460 ? 460 : pw;
        int gap = 8;
        viz__panel(l, s, viz__r(body->x + body->w - pw, body->y, pw, body->h));
        body->w -= pw + gap;
    }
    /* The strip only where the lanes keep room for two lines of text each
     * (up to 16 lanes; more go into columns of one-line lanes anyway). */
    uint32_t rows = s->num_lanes < 16 ? s->num_lanes : 16;
    int sh = 2 * l->line_h + 8, need = (int)rows * (2 * l->line_h + 8) + l->line_h;
    if (body->w >= 400 && body->h >= 260 && body->h - sh - 6 >= need) {
        l->metrics = viz__r(body->x, body->y + body->h - sh, body->w, sh);
        body->h -= sh + 6;
    }
}

viz_rect_t viz_panel_row_rect(const viz_panel_box_t *b, uint32_t i)
{
    return viz__r(b->table.x, b->table.y + (int)i * b->row_h, b->table.w, b->row_h);
}

static bool viz__in(viz_rect_t r, int x, int y)
{
    return r.w > 0 && r.h > 0 && x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

viz_hit_t viz_panel_layout_hit(const viz_layout_t *l, const viz_scene_t *s, int x, int y)
{
    const viz_panel_box_t *b = &l->panel;
    if (!viz__in(b->area, x, y))
        return (viz_hit_t){VIZ_HIT_NONE, 0};
    for (unsigned c = 0; c < VIZ_PANEL_COLS; c++)
        if (viz__in(b->col[c], x, y))
            return (viz_hit_t){VIZ_HIT_PANEL_HEAD, c};
    for (uint32_t i = 0; i < b->rows && i < s->panel.num_rows; i++)
        if (viz__in(viz_panel_row_rect(b, i), x, y))
            return (viz_hit_t){VIZ_HIT_TASK, s->panel.rows[i].id};
    return (viz_hit_t){VIZ_HIT_NONE, 0};
}
