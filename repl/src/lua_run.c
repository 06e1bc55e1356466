/*
 * lua_run.c — top-level execution and error reports (see lua_run.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_run.h"

/* Message handler: add a traceback to string errors; keep JoinError tables
 * and other values as they are (their __tostring is used to print). */
static int al_lua_msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int al_lua_call(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, al_lua_msgh);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

void al_lua_report(lua_State *L, const char *progname)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error without a message)");
    fflush(stderr);
    lua_pop(L, 1);
}

const char *al_lua_program_path;

int al_lua_run_file(lua_State *L, const char *path, int argc, char **argv)
{
    lua_createtable(L, argc, 2);
    if (al_lua_program_path) {
        lua_pushstring(L, al_lua_program_path);
        lua_rawseti(L, -2, -1);
    }
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    int status = luaL_loadfile(L, path);
    if (status == LUA_OK) {
        for (int i = 0; i < argc; i++)
            lua_pushstring(L, argv[i]);
        status = al_lua_call(L, argc, 0);
    }
    if (status != LUA_OK) {
        al_lua_report(L, "asynclab");
        return 1;
    }
    return 0;
}

int al_lua_run_string(lua_State *L, const char *code, const char *name)
{
    int status = luaL_loadbuffer(L, code, strlen(code), name);
    if (status == LUA_OK)
        status = al_lua_call(L, 0, 0);
    if (status != LUA_OK) {
        al_lua_report(L, "asynclab");
        return 1;
    }
    return 0;
}

/* ---- chunks compiled once ---- */

static al_lua_chunk_t *al_lua_compiling;

static int al_lua_chunk_writer(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    al_lua_chunk_t *c = ud;
    char *grown = realloc(c->bytecode, c->len + n);
    if (!grown)
        return 1;
    memcpy(grown + c->len, p, n);
    c->bytecode = grown;
    c->len += n;
    return 0;
}

static void al_lua_chunk_compile(void)
{
    al_lua_chunk_t *c = al_lua_compiling;
    lua_State *L = luaL_newstate();
    if (!L)
        return;
    if (luaL_loadbuffer(L, c->source, strlen(c->source), c->name) == LUA_OK &&
        lua_dump(L, al_lua_chunk_writer, c, 0) != 0) {
        free(c->bytecode);
        c->bytecode = NULL;
        c->len = 0;
    }
    lua_close(L);
}

void al_lua_load_chunk(lua_State *L, al_lua_chunk_t *c)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock); /* pthread_once takes no argument: pass it here */
    al_lua_compiling = c;
    pthread_once(&c->once, al_lua_chunk_compile);
    pthread_mutex_unlock(&lock);
    int rc = c->bytecode ? luaL_loadbufferx(L, c->bytecode, c->len, c->name, "b")
                         : luaL_loadbuffer(L, c->source, strlen(c->source), c->name);
    if (rc != LUA_OK)
        lua_error(L);
}
