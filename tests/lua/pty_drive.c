/*
 * pty_drive.c — drive a program in a pseudo-terminal, the way a person at a
 * keyboard would, for the REPL's terminal-only behaviour (completion, line
 * editing, history, Ctrl-C).
 *
 *   pty_drive PROGRAM -- send TEXT | expect TEXT | exit CODE | transcript FILE ...
 *
 * `send` types TEXT (escapes: \n \t \e, \xHH, so \x03 is Ctrl-C). `expect`
 * waits until TEXT has appeared in the output since the previous expect
 * (10 s deadline: a failure, not a sleep). `exit` waits for the program to
 * end with CODE; `transcript` writes everything it printed so far (the
 * terminal's echo of what was typed included) to FILE. Prints the whole
 * output on failure. Exit status 0 when every step held.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char out[1 << 20];
static size_t out_len, seen_upto;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what the program printed, waiting at most ms. */
static void pump(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return;
    ssize_t n = read(fd, out + out_len, sizeof out - 1 - out_len);
    if (n > 0) {
        out_len += (size_t)n;
        out[out_len] = 0;
    }
}

static size_t unescape(const char *s, char *buf)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s != '\\') {
            buf[n++] = *s;
            continue;
        }
        s++;
        if (*s == 'n')
            buf[n++] = '\r';
        else if (*s == 't')
            buf[n++] = '\t';
        else if (*s == 'e')
            buf[n++] = 27;
        else if (*s == 'x' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            buf[n++] = (char)strtol(hex, NULL, 16);
            s += 2;
        } else
            buf[n++] = *s;
    }
    return n;
}

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "pty_drive: %s '%s'\n--- output so far ---\n%s\n---\n", what, arg, out);
    return 1;
}

int main(int argc, char **argv)
{
    int sep = 1;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    if (sep >= argc || sep == 1) {
        fprintf(stderr, "usage: pty_drive PROGRAM [ARGS] -- send T | expect T | exit N ...\n");
        return 2;
    }
    int fd;
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    pid_t pid = forkpty(&fd, NULL, NULL, &ws);
    if (pid < 0) {
        perror("forkpty");
        return 2;
    }
    if (pid == 0) {
        argv[sep] = NULL;
        setenv("TERM", "dumb", 1);
        execvp(argv[1], argv + 1);
        perror("exec");
        _exit(127);
    }
    for (int i = sep + 1; i + 1 < argc; i += 2) {
        const char *step = argv[i], *arg = argv[i + 1];
        if (strcmp(step, "send") == 0) {
            char buf[4096];
            size_t n = unescape(arg, buf);
            if (write(fd, buf, n) != (ssize_t)n)
                return fail("cannot send", arg);
        } else if (strcmp(step, "expect") == 0) {
            double deadline = now_s() + 10;
            while (!strstr(out + seen_upto, arg) && now_s() < deadline)
                pump(fd, 50);
            char *at = strstr(out + seen_upto, arg);
            if (!at)
                return fail("did not see", arg);
            seen_upto = (size_t)(at - out) + strlen(arg);
        } else if (strcmp(step, "exit") == 0) {
            double deadline = now_s() + 10;
            int status = 0;
            pid_t r = 0;
            while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_s() < deadline)
                pump(fd, 50);
            if (r != pid)
                return fail("the program did not exit; expected status", arg);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != atoi(arg))
                return fail("wrong exit status; expected", arg);
            pid = 0;                    /* ended: nothing to kill */
            for (int k = 0; k < 5; k++) /* what it printed last, still in the terminal */
                pump(fd, 20);
        } else if (strcmp(step, "transcript") == 0) {
            FILE *f = fopen(arg, "w");
            if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0)
                return fail("cannot write the transcript to", arg);
        } else {
            return fail("unknown step", step);
        }
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return 0;
}
