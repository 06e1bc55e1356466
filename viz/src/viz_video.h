/*
 * viz_video.h — `asynclab replay FILE --video OUT.mp4|.webm|.gif`: the PNG
 * frames of --frames, made into a video or an animated GIF by ffmpeg, when it
 * is installed (it is optional: Debian's `ffmpeg` package).
 *
 * The frames go to a temporary directory, ffmpeg encodes them (its progress
 * line on stderr), and the directory is removed, whatever happened.
 */
#ifndef VIZ_VIDEO_H
#define VIZ_VIDEO_H

#include <stdbool.h>
#include <stddef.h>

/* The path of the ffmpeg program found on PATH, in buf; false when none. */
bool viz_video_find_ffmpeg(char *buf, size_t cap);
/* A fresh temporary directory for the frames, in buf (cap >= 64). */
int viz_video_tmpdir(char *buf, size_t cap);
/* Run ffmpeg on dir/frame-00001.png... at fps into out (the format from its
 * extension; a .gif gets a palette made from its own frames). 0, or -1 with
 * the reason in err. */
int viz_video_encode(const char *ffmpeg, const char *dir, double fps, const char *out, char *err,
                     size_t cap);
/* Remove dir/frame-*.png and dir. */
void viz_video_cleanup(const char *dir);

#endif
