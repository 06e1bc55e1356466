/*
 * runner.c — the TSan stand-in's test runner (see README.md): forks one
 * child per test (two at a time), kills it at its timeout, prints
 * "[PASS]"/"[FAIL]"/"[CRASH]" lines and Criterion's synthesis line; exit 1
 * if anything failed. Options: --filter GLOB, --timeout SECONDS, --jobs N.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criterion/criterion.h"

static struct al_cr_test *tests, **tail = &tests;
static int failed_in_test;

void al_cr_register(struct al_cr_test *t)
{
    *tail = t;
    tail = &t->next;
}

void al_cr_fail_at(const char *file, int line, const char *cond, int fatal, const char *fmt, ...)
{
    fprintf(stderr, "  %s:%d: assertion failed: %s", file, line, cond);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    failed_in_test = 1;
    if (fatal)
        exit(1);
}

typedef struct {
    pid_t pid;
    struct al_cr_test *t;
    double deadline;
} running_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    double timeout = 120;
    int jobs = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            filter = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (!strncmp(argv[i], "--jobs=", 7))
            jobs = atoi(argv[i] + 7);
    }
    if (jobs < 1)
        jobs = 1;
    int tested = 0, passed = 0, failing = 0, crashing = 0;
    running_t run[16] = {0};
    struct al_cr_test *next = tests;
    int active = 0;
    for (;;) {
        while (next && active < jobs && jobs <= 16) {
            struct al_cr_test *t = next;
            next = t->next;
            char full[256];
            snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
            if (t->data.disabled || (filter && fnmatch(filter, full, 0) != 0))
                continue;
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                if (t->data.init)
                    t->data.init();
                t->fn();
                if (t->data.fini)
                    t->data.fini();
                fflush(NULL);
                _exit(failed_in_test ? 1 : 0);
            }
            for (int k = 0; k < 16; k++) {
                if (!run[k].pid) {
                    double to = t->data.timeout > 0 ? t->data.timeout : timeout;
                    run[k] = (running_t){pid, t, now_s() + to};
                    break;
                }
            }
            active++;
            tested++;
        }
        if (active == 0)
            break;
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);
        if (done <= 0) {
            double n = now_s();
            for (int k = 0; k < 16; k++)
                if (run[k].pid && n > run[k].deadline)
                    kill(run[k].pid, SIGKILL);
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (int k = 0; k < 16; k++) {
            if (run[k].pid != done)
                continue;
            struct al_cr_test *t = run[k].t;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                passed++;
                printf("[PASS] %s::%s\n", t->suite, t->name);
            } else if (WIFEXITED(status)) {
                failing++;
                printf("[FAIL] %s::%s\n", t->suite, t->name);
            } else {
                crashing++;
                printf("[CRASH] %s::%s: %s%s\n", t->suite, t->name,
                       strsignal(WTERMSIG(status)),
                       WTERMSIG(status) == SIGKILL ? " (timed out)" : "");
            }
            fflush(stdout);
            run[k].pid = 0;
            active--;
        }
    }
    printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d\n", tested,
           passed, failing + crashing, crashing);
    return failing + crashing ? 1 : 0;
}
