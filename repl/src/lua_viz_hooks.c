/*
 * lua_viz_hooks.c — rt.viz.caption / highlight / marker: lesson hooks
 * recorded into the event stream (al_trace_caption / _highlight / _marker).
 *
 *   rt.viz.caption(text)      narration shown on screen until the next one;
 *                             nil or "" clears it
 *   rt.viz.highlight(x, ...)  outline these objects (replacing the previous
 *                             highlight); no argument or nil clears it. Each
 *                             x is a JoinHandle (its task), an integer (a
 *                             worker index), a sync object with a resource
 *                             (Mutex, RwLock, Semaphore, Notify, Barrier, an
 *                             mpsc Sender / Receiver), or a table
 *                             {task = id} / {worker = i} / {resource = id}
 *   rt.viz.marker(name)       a named point the playback can stop at
 *
 * The events go to the runtime the caller uses (the current task's, else the
 * default one), so they land in rt.trace recordings and in the live
 * visualizer alike. All arguments are checked before anything is recorded.
 */
#include <string.h>

#include <lauxlib.h>

#include "al_runtime.h"
#include "al_stream.h"
#include "lua_handle.h"
#include "lua_rt.h"
#include "lua_task.h"
#include "lua_viz_hooks.h"

#define AL_LUA_VIZ_MAX_HIGHLIGHTS 16

typedef struct {
    al_highlight_kind_t what;
    uint64_t id;
} al_lua_highlight_t;

static int al_lua_viz_caption(lua_State *L)
{
    const char *text = luaL_optstring(L, 1, NULL);
    al_trace_caption(al_lua_runtime(L), text);
    return 0;
}

static int al_lua_viz_marker(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len > 0, 1, "a marker needs a name");
    luaL_argcheck(L, strlen(name) == len, 1, "a marker name cannot hold a NUL byte");
    al_trace_marker(al_lua_runtime(L), name);
    return 0;
}

static const char *const al_lua_highlight_expected =
    "a JoinHandle, a worker index, a Mutex / RwLock / Semaphore / Notify / Barrier / "
    "channel end, or {task=id} / {worker=i} / {resource=id}";

static uint64_t al_lua_highlight_number(lua_State *L, int arg, const char *field)
{
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v < 0)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "%s must be a non-negative integer, got %s", field,
                                      luaL_typename(L, -1)));
    return (uint64_t)v;
}

/* What the argument at arg points at; raises a "bad argument" error. */
static al_lua_highlight_t al_lua_highlight_arg(lua_State *L, int arg, uint32_t workers)
{
    al_lua_highlight_t h = {AL_HIGHLIGHT_NONE, 0};
    if (lua_isinteger(L, arg)) {
        lua_Integer w = lua_tointeger(L, arg);
        if (w < 0 || (uint64_t)w >= workers)
            luaL_argerror(L, arg,
                          lua_pushfstring(L, "no worker %I: the runtime has workers 0 to %d", w,
                                          (int)workers - 1));
        return (al_lua_highlight_t){AL_HIGHLIGHT_WORKER, (uint64_t)w};
    }
    if (lua_istable(L, arg)) {
        static const struct {
            const char *key;
            al_highlight_kind_t what;
        } keys[] = {{"task", AL_HIGHLIGHT_TASK},
                    {"worker", AL_HIGHLIGHT_WORKER},
                    {"resource", AL_HIGHLIGHT_RESOURCE}};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            if (lua_getfield(L, arg, keys[k].key) != LUA_TNIL) {
                h = (al_lua_highlight_t){keys[k].what,
                                         al_lua_highlight_number(L, arg, keys[k].key)};
                lua_pop(L, 1);
                if (h.what == AL_HIGHLIGHT_WORKER && h.id >= workers)
                    luaL_argerror(L, arg,
                                  lua_pushfstring(L,
                                                  "no worker %I: the runtime has workers 0 to %d",
                                                  (lua_Integer)h.id, (int)workers - 1));
                return h;
            }
            lua_pop(L, 1);
        }
        luaL_argerror(L, arg, lua_pushfstring(L, "a table with task, worker or resource expected"));
    }
    al_lua_handle_t *hd = al_lua_handle_test(L, arg);
    if (hd && hd->obj && hd->cls == &al_lua_join_class) {
        /* The JoinHandle's id method gives its task id. */
        lua_getfield(L, arg, "id");
        lua_pushvalue(L, arg);
        lua_call(L, 1, 1);
        h = (al_lua_highlight_t){AL_HIGHLIGHT_TASK, al_lua_highlight_number(L, arg, "task id")};
        lua_pop(L, 1);
        return h;
    }
    if (hd && hd->obj && hd->cls->resource_id) {
        uint64_t id = hd->cls->resource_id(hd->obj);
        if (id)
            return (al_lua_highlight_t){AL_HIGHLIGHT_RESOURCE, id};
    }
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "%s expected, got %s", al_lua_highlight_expected,
                                  hd ? hd->cls->name : luaL_typename(L, arg)));
    return h;
}

static int al_lua_viz_highlight(lua_State *L)
{
    al_runtime_t *rt = al_lua_runtime(L);
    int n = lua_gettop(L);
    if (n == 1 && lua_isnil(L, 1))
        n = 0;
    luaL_argcheck(L, n <= AL_LUA_VIZ_MAX_HIGHLIGHTS, AL_LUA_VIZ_MAX_HIGHLIGHTS + 1,
                  "at most 16 objects at once");
    al_lua_highlight_t hs[AL_LUA_VIZ_MAX_HIGHLIGHTS];
    uint32_t workers = al_runtime_num_workers(rt);
    for (int i = 0; i < n; i++)
        hs[i] = al_lua_highlight_arg(L, i + 1, workers);
    al_trace_highlight(rt, AL_HIGHLIGHT_NONE, 0);
    for (int i = 0; i < n; i++)
        al_trace_highlight(rt, hs[i].what, hs[i].id);
    return 0;
}

void al_lua_open_viz_hooks(lua_State *L, int rt)
{
    rt = lua_absindex(L, rt);
    if (lua_getfield(L, rt, "viz") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushvalue(L, rt);
        al_lua_module(L, "viz", "rt.viz", (const luaL_Reg[]){{NULL, NULL}});
        lua_pop(L, 1);
        lua_getfield(L, rt, "viz");
    }
    luaL_setfuncs(L,
                  (const luaL_Reg[]){{"caption", al_lua_viz_caption},
                                     {"highlight", al_lua_viz_highlight},
                                     {"marker", al_lua_viz_marker},
                                     {NULL, NULL}},
                  0);
    lua_pop(L, 1);
}
