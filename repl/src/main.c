/*
 * main.c — the `asynclab` program: argument dispatch.
 *
 *   asynclab                       the Lua REPL
 *   asynclab FILE.lua [args]       run a script (top-level await allowed)
 *   asynclab -e 'code'             run a string
 *   asynclab -i FILE.lua           run a script, then stay at the prompt
 *   asynclab --viz FILE.lua [args] run a script with the visualizer open
 *   asynclab trace <command> ...   read, check and export recorded traces
 *   asynclab replay FILE.trace ...  watch a recording (viz/src/viz_main.h)
 *   asynclab --help | --version
 */
#include <stdio.h>
#include <string.h>

#include "asynclab.h"
#include "lua_alloc.h"
#include "lua_repl.h"
#include "lua_rt.h"
#include "lua_run.h"
#include "lua_rc.h"
#include "lua_task.h"
#include "lua_viz.h"
#include "trace_cli.h"
#include "viz_main.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: asynclab                      the Lua prompt (rt.help() lists the API)\n"
                 "       asynclab FILE.lua [ARGS...]   run a script\n"
                 "       asynclab -e CODE              run a string of Lua\n"
                 "       asynclab -i FILE.lua          run a script, then stay at the prompt\n"
                 "       asynclab --viz FILE.lua [ARGS...]  run it with the visualizer open\n"
                 "       asynclab trace <command> ...  read and export recorded traces\n"
                 "       asynclab replay FILE.trace    watch a recording (--help: options)\n"
                 "       asynclab --help | --version\n"
                 "\n"
                 "Lua functions become tasks on a real multi-threaded runtime: rt.spawn(fn),\n"
                 "h:await(), rt.time.sleep(ms), ... Recording: ASYNCLAB_TRACE=out.trace.\n"
                 "\n");
    trace_cli_usage(out);
}

/* asynclab --viz FILE.lua [args]: the window on the default runtime, the
 * script, then the window until the user closes it. */
static int run_with_viz(lua_State *L, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "asynclab: --viz needs a script\n");
        return 2;
    }
    char err[512];
    if (!al_lua_viz_open_default(err, sizeof err)) {
        fprintf(stderr, "asynclab: --viz: cannot open the visualizer: %s\n", err);
        return 1;
    }
    int rc = al_lua_run_file(L, argv[0], argc - 1, argv + 1);
    fprintf(stderr, "asynclab: %s ended; close the visualizer window (Q) to exit\n", argv[0]);
    al_lua_viz_wait_closed();
    return rc;
}

/* Run the Lua part of the program; the default runtime is shut down (its
 * tasks cancelled) before exit. */
static int run_lua(int argc, char **argv)
{
    lua_State *L = al_lua_main_state();
    if (!L) {
        fprintf(stderr, "asynclab: cannot create a Lua state (out of memory)\n");
        return 1;
    }
    int rc = 0;
    if (argc == 0) {
        rc = al_lua_repl(L);
    } else if (strcmp(argv[0], "-e") == 0) {
        if (argc < 2) {
            fprintf(stderr, "asynclab: -e needs an argument\n");
            rc = 2;
        } else {
            rc = al_lua_run_string(L, argv[1], "=(command line)");
        }
    } else if (strcmp(argv[0], "-i") == 0) {
        if (argc < 2) {
            fprintf(stderr, "asynclab: -i needs a script\n");
            rc = 2;
        } else {
            al_lua_run_file(L, argv[1], argc - 2, argv + 2);
            rc = al_lua_repl(L);
        }
    } else if (strcmp(argv[0], "--viz") == 0) {
        rc = run_with_viz(L, argc - 1, argv + 1);
    } else {
        rc = al_lua_run_file(L, argv[0], argc - 1, argv + 1);
    }
    al_lua_viz_close_all(); /* before the runtime it shows is freed */
    al_lua_alloc_close(L);  /* handles release their references first */
    al_lua_runtime_shutdown();
    al_lua_pool_clear();
    /* Every Lua state is closed: a shared object still alive is held only
     * by others like it (pitfall E2). Said, not an error of the program. */
    al_lua_rc_report(stderr);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("asynclab %s (Lua 5.4)\n", ASYNCLAB_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "trace") == 0)
        return trace_cli_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "replay") == 0)
        return viz_main(argc - 2, argv + 2);
    if (argc >= 2 && argv[1][0] == '-' && strcmp(argv[1], "-e") != 0 &&
        strcmp(argv[1], "-i") != 0 && strcmp(argv[1], "--viz") != 0) {
        fprintf(stderr, "asynclab: unknown option '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    al_lua_program_path = argv[0];
    return run_lua(argc - 1, argv + 1);
}
