/*
 * viz_png.h — PNG files of rendered frames (libpng's simplified API).
 */
#ifndef VIZ_PNG_H
#define VIZ_PNG_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

/* Write s (any pixel format) as an 8-bit RGBA PNG. 0, or -1 with a
 * message in err. */
int viz_png_write(SDL_Surface *s, const char *path, char *err, size_t cap);

/* Read a PNG as 8-bit RGBA rows (4 * w bytes each); free() the pixels.
 * 0, or -1 with a message in err. */
int viz_png_read(const char *path, uint8_t **pixels, int *w, int *h, char *err, size_t cap);

#endif
