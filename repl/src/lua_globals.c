/*
 * lua_globals.c — which globals a function may read, so that a spawned task
 * sees the values of the globals its code names (see lua_globals.h).
 *
 * A Lua 5.4 function reads a global `x` as _ENV["x"]: the string "x" is one
 * of its constants. This file walks the function's dumped bytecode (the
 * format of ldump.c: header, then per function source, lines, code,
 * constants, upvalues, nested functions, debug info) and lists every short
 * string constant. Strings used as plain literals are listed too; copying a
 * global that turns out unused is harmless.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_globals.h"

typedef struct {
    const unsigned char *p, *end;
    bool bad;
} al_lua_reader_t;

static unsigned char al_lua_byte(al_lua_reader_t *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static void al_lua_skip(al_lua_reader_t *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
    } else {
        r->p += n;
    }
}

/* ldump.c's dumpSize: 7-bit groups, most significant first, 0x80 on the last. */
static size_t al_lua_size(al_lua_reader_t *r)
{
    size_t x = 0;
    for (int i = 0; i < 10 && !r->bad; i++) {
        unsigned char b = al_lua_byte(r);
        x = (x << 7) | (b & 0x7f);
        if (b & 0x80)
            return x;
    }
    r->bad = true;
    return 0;
}

/* A string: size+1 (0 = NULL), then the bytes. */
static const char *al_lua_string(al_lua_reader_t *r, size_t *len)
{
    size_t n = al_lua_size(r);
    if (n == 0) {
        *len = 0;
        return NULL;
    }
    const char *s = (const char *)r->p;
    *len = n - 1;
    al_lua_skip(r, n - 1);
    return r->bad ? NULL : s;
}

static void al_lua_function(al_lua_reader_t *r, lua_State *L, int names, int depth)
{
    size_t len;
    if (depth > 200) {
        r->bad = true;
        return;
    }
    al_lua_string(r, &len);             /* source */
    al_lua_size(r);                     /* linedefined */
    al_lua_size(r);                     /* lastlinedefined */
    al_lua_skip(r, 3);                  /* numparams, is_vararg, maxstacksize */
    al_lua_skip(r, al_lua_size(r) * 4); /* code */
    size_t nk = al_lua_size(r);
    for (size_t i = 0; i < nk && !r->bad; i++) {
        unsigned char tag = al_lua_byte(r);
        if (tag == 3 || tag == 19) { /* integer, float */
            al_lua_skip(r, 8);
        } else if (tag == 4 || tag == 20) { /* short, long string */
            const char *s = al_lua_string(r, &len);
            if (s && tag == 4 && len > 0 && len < 64) {
                lua_pushlstring(L, s, len);
                lua_pushboolean(L, 1);
                lua_rawset(L, names);
            }
        } /* nil, false, true: no payload */
    }
    al_lua_skip(r, al_lua_size(r) * 3); /* upvalues: instack, idx, kind */
    size_t np = al_lua_size(r);
    for (size_t i = 0; i < np && !r->bad; i++)
        al_lua_function(r, L, names, depth + 1);
    al_lua_skip(r, al_lua_size(r)); /* lineinfo */
    size_t nabs = al_lua_size(r);
    for (size_t i = 0; i < nabs && !r->bad; i++) {
        al_lua_size(r);
        al_lua_size(r);
    }
    size_t nloc = al_lua_size(r);
    for (size_t i = 0; i < nloc && !r->bad; i++) {
        al_lua_string(r, &len);
        al_lua_size(r);
        al_lua_size(r);
    }
    size_t nup = al_lua_size(r);
    for (size_t i = 0; i < nup && !r->bad; i++)
        al_lua_string(r, &len);
}

/* The dumped bytecode, in C memory owned by a userdata on the stack, so that
 * a Lua error while it is read (out of memory) still frees it (__gc). A
 * luaL_Buffer cannot be used here: lua_dump needs the function on top of the
 * stack, and a buffer that grows takes stack slots of its own. */
typedef struct {
    unsigned char *p;
    size_t n, cap;
} al_lua_bytes_t;

static int al_lua_bytes_gc(lua_State *L)
{
    al_lua_bytes_t *b = lua_touserdata(L, 1);
    free(b->p);
    b->p = NULL;
    return 0;
}

static int al_lua_dump_collect(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    al_lua_bytes_t *b = ud;
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->n < n)
            cap *= 2;
        unsigned char *grown = realloc(b->p, cap);
        if (!grown)
            return 1; /* stops the dump; reported as bad bytecode */
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

bool al_lua_global_names(lua_State *L, int fn)
{
    fn = lua_absindex(L, fn);
    lua_newtable(L);
    int names = lua_gettop(L);
    if (lua_iscfunction(L, fn))
        return true;
    al_lua_bytes_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    *b = (al_lua_bytes_t){0};
    if (luaL_newmetatable(L, "asynclab.bytecode")) {
        lua_pushcfunction(L, al_lua_bytes_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, fn);
    int failed = lua_dump(L, al_lua_dump_collect, b, 0);
    lua_pop(L, 1);
    al_lua_reader_t r = {b->p, b->p + b->n, failed != 0 || !b->p};
    /* Header: signature(4) version format data(6) sizes(3) LUAC_INT(8) LUAC_NUM(8), nupvalues(1).
     */
    if (!r.bad) {
        al_lua_skip(&r, 4 + 1 + 1 + 6 + 3 + 8 + 8 + 1);
        al_lua_function(&r, L, names, 0);
    }
    free(b->p);
    b->p = NULL;
    lua_pop(L, 1); /* the box */
    return !r.bad;
}

/* ---- the values, as the function sees them ---- */

/* Names every fresh state defines (print, string, rt, ...): never copied. */
static int al_lua_is_standard(lua_State *L, const char *name)
{
    static const char *const std_names[] = {
        "_G",        "_VERSION", "arg",      "assert",       "collectgarbage",
        "coroutine", "debug",    "dofile",   "error",        "getmetatable",
        "io",        "ipairs",   "load",     "loadfile",     "math",
        "next",      "os",       "package",  "pairs",        "pcall",
        "print",     "rawequal", "rawget",   "rawlen",       "rawset",
        "require",   "rt",       "select",   "setmetatable", "std",
        "string",    "table",    "tonumber", "tostring",     "type",
        "utf8",      "warn",     "xpcall"};
    (void)L;
    for (size_t i = 0; i < sizeof std_names / sizeof *std_names; i++)
        if (strcmp(std_names[i], name) == 0)
            return 1;
    return 0;
}

void al_lua_used_globals(lua_State *L, int fn)
{
    fn = lua_absindex(L, fn);
    lua_newtable(L);
    int out = lua_gettop(L);
    if (lua_type(L, fn) != LUA_TFUNCTION || lua_iscfunction(L, fn))
        return;
    /* The function's environment: its _ENV upvalue (the first, if any). */
    const char *up = lua_getupvalue(L, fn, 1);
    if (!up)
        return;
    if (strcmp(up, "_ENV") != 0 || lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    int env = lua_gettop(L);
    /* Names per prototype, cached in the registry under "source:first:last". */
    lua_Debug ar;
    lua_pushvalue(L, fn);
    lua_getinfo(L, ">S", &ar);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "asynclab.global_names");
    int cache = lua_gettop(L);
    lua_pushfstring(L, "%s:%d:%d", ar.source, ar.linedefined, ar.lastlinedefined);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, cache) != LUA_TTABLE) {
        lua_pop(L, 1);
        al_lua_global_names(L, fn);
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, cache); /* cache[key] = names */
    }
    int names = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, names)) {
        lua_pop(L, 1);
        const char *name = lua_tostring(L, -1);
        if (name && !al_lua_is_standard(L, name)) {
            lua_pushvalue(L, -1);
            lua_gettable(L, env); /* may run __index: the task env's fallback */
            if (!lua_isnil(L, -1)) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, out);
            } else {
                lua_pop(L, 1);
            }
        }
    }
    lua_settop(L, out);
}
