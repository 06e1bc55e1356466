/*
 * viz_video.c — frames to a video with ffmpeg (see viz_video.h).
 */
#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "viz_video.h"

extern char **environ;

bool viz_video_find_ffmpeg(char *buf, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && snprintf(buf, cap, "%.*s/ffmpeg", (int)len, p) < (int)cap &&
            access(buf, X_OK) == 0)
            return true;
        p += len;
        if (*p == ':')
            p++;
    }
    return false;
}

int viz_video_tmpdir(char *buf, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(buf, cap, "%s/asynclab-frames-XXXXXX", tmp) >= (int)cap || !mkdtemp(buf))
        return -1;
    return 0;
}

static bool viz__ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcasecmp(s + n - m, tail) == 0;
}

int viz_video_encode(const char *ffmpeg, const char *dir, double fps, const char *out, char *err,
                     size_t cap)
{
    char rate[32], input[4200];
    snprintf(rate, sizeof rate, "%g", fps);
    snprintf(input, sizeof input, "%s/frame-%%05d.png", dir);
    /* -stats: ffmpeg's own progress line, the only thing it says unless
     * something goes wrong. */
    const char *argv[24] = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-stats",
                            "-y",     "-framerate",   rate,        "-i",    input};
    int n = 10;
    if (viz__ends_with(out, ".gif")) {
        /* GIF has 256 colours: a palette made from the frames themselves. */
        argv[n++] = "-filter_complex";
        argv[n++] = "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse";
    } else if (viz__ends_with(out, ".mp4") || viz__ends_with(out, ".mov") ||
               viz__ends_with(out, ".mkv")) {
        argv[n++] = "-pix_fmt"; /* what players expect of H.264 */
        argv[n++] = "yuv420p";
        argv[n++] = "-vf"; /* yuv420p wants even sizes */
        argv[n++] = "pad=ceil(iw/2)*2:ceil(ih/2)*2";
    }
    argv[n++] = out;
    argv[n] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, ffmpeg, NULL, NULL, (char *const *)argv, environ);
    if (rc != 0) {
        snprintf(err, cap, "cannot run %s: %s", ffmpeg, strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, cap, "waiting for ffmpeg: %s", strerror(errno));
            return -1;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, cap, "ffmpeg failed (%s %d) making %s; its message is above",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
        return -1;
    }
    return 0;
}

void viz_video_cleanup(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4400];
        while ((e = readdir(d)))
            if (strncmp(e->d_name, "frame-", 6) == 0) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}
