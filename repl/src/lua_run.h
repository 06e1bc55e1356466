/*
 * lua_run.h — running Lua code at the program's top level: a script file,
 * a -e string, or one REPL entry; errors reported with file:line and a
 * traceback.
 */
#ifndef LUA_RUN_H
#define LUA_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* The program's own path (argv[0]), for arg[-1] as lua5.4 sets it: scripts
 * use it to start another asynclab. NULL (the Lua module): left out. */
extern const char *al_lua_program_path;

/* Run a script with arg = {[-1] = program, [0] = path, ...}. 0 on success; on
 * failure the error (file:line: message and traceback) is printed to stderr,
 * returns 1. */
int al_lua_run_file(lua_State *L, const char *path, int argc, char **argv);
/* Run a string (named like `=(command line)`). Same return. */
int al_lua_run_string(lua_State *L, const char *code, const char *name);
/* Call the function at the top of the stack with nargs arguments below...
 * (lua_pcall with a traceback handler). Returns the Lua status. */
int al_lua_call(lua_State *L, int nargs, int nresults);
/* A Lua chunk compiled once per process: every state after the first loads
 * its bytecode instead of compiling the source again (task states are made
 * often, and compiling dominated their cost). */
typedef struct al_lua_chunk {
    const char *source, *name;
    pthread_once_t once;
    char *bytecode;
    size_t len;
} al_lua_chunk_t;
#define AL_LUA_CHUNK(src, nm)                                                                      \
    {                                                                                              \
        .source = (src), .name = (nm), .once = PTHREAD_ONCE_INIT                                   \
    }
/* Push the chunk as a function (raises on failure, like lua_error). */
void al_lua_load_chunk(lua_State *L, al_lua_chunk_t *c);

/* Print the error at the top of the stack to stderr and pop it. */
void al_lua_report(lua_State *L, const char *progname);

#endif
