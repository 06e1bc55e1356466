/*
 * main.c — the `asynclab` program: argument dispatch.
 *
 *   asynclab trace <command> ...   read, check and export recorded traces
 *   asynclab --help | --version
 *
 * The Lua REPL (issue 4) will be the default command; until it lands,
 * `asynclab` with no arguments says so and shows the help.
 */
#include <stdio.h>
#include <string.h>

#include "asynclab.h"
#include "trace_cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: asynclab trace <command> [options] FILE ...\n"
                 "       asynclab --help | --version\n"
                 "\n"
                 "Recording a trace: run any program built on asynclab with\n"
                 "ASYNCLAB_TRACE=out.trace in the environment (for example\n"
                 "`ASYNCLAB_TRACE=demo.trace make run`).\n"
                 "\n");
    trace_cli_usage(out);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("asynclab %s\n", ASYNCLAB_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "trace") == 0)
        return trace_cli_main(argc - 2, argv + 2);
    if (argc < 2)
        fprintf(stderr, "asynclab: the Lua REPL is not built yet; these commands are:\n\n");
    else
        fprintf(stderr, "asynclab: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
