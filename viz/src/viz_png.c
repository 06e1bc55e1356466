/*
 * viz_png.c — PNG writing and reading (see viz_png.h).
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz_png.h"

int viz_png_write(SDL_Surface *s, const char *path, char *err, size_t cap)
{
    SDL_Surface *rgba = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGBA32, 0);
    if (!rgba) {
        snprintf(err, cap, "cannot convert the frame: %s", SDL_GetError());
        return -1;
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)rgba->w;
    img.height = (png_uint_32)rgba->h;
    img.format = PNG_FORMAT_RGBA;
    SDL_LockSurface(rgba);
    int ok = png_image_write_to_file(&img, path, 0, rgba->pixels, rgba->pitch, NULL);
    SDL_UnlockSurface(rgba);
    SDL_FreeSurface(rgba);
    if (!ok) {
        snprintf(err, cap, "cannot write %s: %s", path, img.message);
        png_image_free(&img);
        return -1;
    }
    return 0;
}

int viz_png_read(const char *path, uint8_t **pixels, int *w, int *h, char *err, size_t cap)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        snprintf(err, cap, "cannot read %s: %s", path, img.message);
        return -1;
    }
    img.format = PNG_FORMAT_RGBA;
    size_t size = PNG_IMAGE_SIZE(img);
    uint8_t *buf = malloc(size);
    if (!buf) {
        png_image_free(&img);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        snprintf(err, cap, "cannot decode %s: %s", path, img.message);
        free(buf);
        return -1;
    }
    *pixels = buf;
    *w = (int)img.width;
    *h = (int)img.height;
    return 0;
}
