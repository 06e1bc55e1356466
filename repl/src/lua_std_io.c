/*
 * lua_std_io.c — std.io.read_file(path): the whole file as a string, read
 * with blocking read(2) calls on the calling thread (al_std_read_file). In a
 * task that freezes its worker (BLOCK_BEGIN / BLOCK_END, "blocked: std.io"
 * in every view) for as long as the file takes: a FIFO whose writer is slow,
 * a network file system, a big file. The fix is rt.task.spawn_blocking.
 *
 * Errors follow Lua's io library: nil, "path: message", errno.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "al_std_blocking.h"
#include "asynclab.h"
#include "lua_rt.h"
#include "lua_std_io.h"

/* Files larger than this are refused (EFBIG) rather than filling memory. */
#define AL_LUA_READ_FILE_MAX ((size_t)256 << 20)

/* The C buffer lives in a userdata box until Lua has its own copy, so that a
 * memory error raised while copying (the task's memory limit) frees it. */
static int al_lua_box_gc(lua_State *L)
{
    char **box = lua_touserdata(L, 1);
    free(*box);
    *box = NULL;
    return 0;
}

static int al_lua_std_read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    if (luaL_newmetatable(L, "asynclab.std.io.buffer")) {
        lua_pushcfunction(L, al_lua_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    size_t len = 0;
    int rc = al_std_read_file(path, AL_LUA_READ_FILE_MAX, box, &len);
    if (rc != 0) {
        int e = rc == AL_ENOMEM ? ENOMEM : rc == AL_EINVAL ? EINVAL : -rc;
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(e));
        lua_pushinteger(L, e);
        return 3;
    }
    lua_pushlstring(L, *box, len);
    free(*box);
    *box = NULL;
    return 1;
}

void al_lua_open_std_io(lua_State *L, int std)
{
    lua_pushvalue(L, std);
    al_lua_module(L, "io", "std.io",
                  (const luaL_Reg[]){{"read_file", al_lua_std_read_file}, {NULL, NULL}});
    lua_pop(L, 1);
}
