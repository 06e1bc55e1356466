/*
 * viz_palette.h — the visualizer's colours.
 *
 * States and motions use the Okabe-Ito palette, which stays distinguishable
 * with the common colour-vision deficiencies: running is blue, searching
 * bluish green, blocked vermillion (the palette's red, also drawn with
 * stripes and named in text, so no state is told by colour alone), parked
 * lanes are dimmed greys. Chips (tasks) are sky blue, the LIFO slot and
 * steals reddish purple, wakes yellow, overflows orange.
 */
#ifndef VIZ_PALETTE_H
#define VIZ_PALETTE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct viz_color {
    uint8_t r, g, b, a;
} viz_color_t;

#define VIZ_RGB(r, g, b) ((viz_color_t){(r), (g), (b), 255})

/* Presenter mode's high-contrast variant (viz_classroom.h): a black ground
 * and brighter text. The renderer sets it, on the thread that draws, for the
 * frame it draws (thread-local: two renderers on two threads do not mix).  */
extern _Thread_local bool viz_palette_high_contrast;
#define VIZ__HC(normal, high) (viz_palette_high_contrast ? (high) : (normal))

#define VIZ_BG VIZ__HC(VIZ_RGB(22, 24, 29), VIZ_RGB(0, 0, 0))
#define VIZ_PANEL VIZ__HC(VIZ_RGB(34, 37, 44), VIZ_RGB(24, 24, 28))
#define VIZ_PANEL_LINE VIZ__HC(VIZ_RGB(66, 70, 80), VIZ_RGB(140, 140, 150))
#define VIZ_TEXT VIZ__HC(VIZ_RGB(235, 235, 235), VIZ_RGB(255, 255, 255))
#define VIZ_TEXT_DIM VIZ__HC(VIZ_RGB(150, 153, 160), VIZ_RGB(215, 215, 220))
#define VIZ_TEXT_DARK VIZ_RGB(16, 18, 22)

#define VIZ_RUNNING VIZ_RGB(0, 114, 178)      /* blue */
#define VIZ_SEARCHING VIZ_RGB(0, 158, 115)    /* bluish green */
#define VIZ_IDLE VIZ_RGB(88, 92, 102)         /* grey: between polls */
#define VIZ_PARKED VIZ_RGB(46, 48, 54)        /* dimmed */
#define VIZ_PARKED_DRIVER VIZ_RGB(38, 50, 64) /* dimmed, a blue tint */
#define VIZ_BLOCKED VIZ_RGB(213, 94, 0)       /* vermillion: the red */

#define VIZ_CHIP VIZ_RGB(86, 180, 233)       /* sky blue: a task */
#define VIZ_CHIP_MORE VIZ_RGB(120, 124, 134) /* "+N" */
#define VIZ_LIFO VIZ_RGB(204, 121, 167)      /* reddish purple */
#define VIZ_STEAL VIZ_RGB(204, 121, 167)
#define VIZ_WAKE VIZ_RGB(240, 228, 66)    /* yellow */
#define VIZ_OVERFLOW VIZ_RGB(230, 159, 0) /* orange */
#define VIZ_HOLDER VIZ_RGB(240, 228, 66)

/* Lesson hooks: the highlight ring (white: it stands out from every state
 * colour) and the caption band (near black under white text). */
#define VIZ_HIGHLIGHT VIZ_RGB(255, 255, 255)
#define VIZ_CAPTION_BG VIZ_RGB(8, 9, 12)

#define VIZ_BAR_SHORT VIZ_RGB(200, 200, 200)
#define VIZ_BAR_MEDIUM VIZ_RGB(230, 159, 0)
#define VIZ_BAR_LONG VIZ_RGB(213, 94, 0)

/* The fill of a worker lane's label in a state (al_worker_state_t). */
viz_color_t viz_palette_worker(unsigned state);

#endif
