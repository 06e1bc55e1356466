/*
 * lua_run.c — top-level execution and error reports (see lua_run.h).
 */
#include <stdio.h>
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

int al_lua_run_file(lua_State *L, const char *path, int argc, char **argv)
{
    lua_createtable(L, argc, 1);
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
