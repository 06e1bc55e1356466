/*
 * lua_value.c — packing Lua values into a byte buffer and unpacking them
 * into another state (see lua_value.h).
 *
 * Buffer format (private to this file; packs never outlive the process):
 *   'n' nil | 'f' false | 't' true | 'i' int64 | 'd' double | 's' len bytes
 *   'T' (a new table, numbered in order) key value ... 'e'
 *   'F' (a new function, numbered with the tables) len bytecode nups
 *       then per upvalue: 'E' (the _ENV of the receiving state) or a value
 *   'C' a light C function pointer
 *   'R' n: the n-th table or function of this pack again (cycles, sharing)
 *   'H' class pointer, object pointer: a handle, with a reference taken
 *   'M' len name: a library table (rt, rt.sync, std, string, ...), which
 *       becomes the receiving state's own (al_lua_value_note_modules)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_handle.h"
#include "lua_lazy_libs.h"
#include "lua_value.h"

#define AL_LUA_MAX_DEPTH 200
/* Registry key of the map library table -> its package.loaded name. */
#define AL_LUA_MODULES_KEY "asynclab.modules"

/* Libraries every task state has (besides rt, rt.*, std, std.*): a table of
 * theirs travels by name. _G is not one: a task's globals are its own. */
static bool al_lua_is_shared_module(const char *name)
{
    static const char *const libs[] = {"asynclab",  "string", "table", "math",    "io", "os",
                                       "coroutine", "utf8",   "debug", "package", NULL};
    if (strcmp(name, "rt") == 0 || strncmp(name, "rt.", 3) == 0 || strcmp(name, "std") == 0 ||
        strncmp(name, "std.", 4) == 0)
        return true;
    for (int i = 0; libs[i]; i++)
        if (strcmp(name, libs[i]) == 0)
            return true;
    return false;
}

void al_lua_value_note_modules(lua_State *L)
{
    /* added to, not remade: a task state notes its modules each time it
     * opens a part of rt (lua_rt.c), and old maps would be garbage there */
    if (lua_getfield(L, LUA_REGISTRYINDEX, AL_LUA_MODULES_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE &&
            al_lua_is_shared_module(lua_tostring(L, -2))) {
            lua_pushvalue(L, -2);
            lua_rawset(L, -5); /* map[module] = name */
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, AL_LUA_MODULES_KEY);
}

/* ---- packing ----------------------------------------------------------------------- */

typedef struct {
    lua_State *L;
    al_lua_pack_t *p;
    const char *what;
    char path[256]; /* where we are, for errors: "upvalue `cfg`.conn" */
    char *err;
    size_t err_cap;
    int seen;     /* stack index of a table: object -> its number */
    int modules;  /* stack index of the library map (nil if none) */
    int next_ref; /* numbers handed out */
    int depth;
} al_lua_packer_t;

static bool al_lua_put(al_lua_packer_t *k, const void *data, size_t n)
{
    al_lua_pack_t *p = k->p;
    if (p->len + n > AL_LUA_PACK_MAX) {
        snprintf(k->err, k->err_cap, "cannot %s: %s is too large to move (over %zu MiB)", k->what,
                 k->path, AL_LUA_PACK_MAX >> 20);
        return false;
    }
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + n)
            cap *= 2;
        unsigned char *grown = realloc(p->buf, cap);
        if (!grown) {
            snprintf(k->err, k->err_cap, "cannot %s: out of memory", k->what);
            return false;
        }
        p->buf = grown;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    return true;
}

static bool al_lua_put_tag(al_lua_packer_t *k, char tag)
{
    return al_lua_put(k, &tag, 1);
}

static bool al_lua_refuse(al_lua_packer_t *k, const char *type)
{
    snprintf(k->err, k->err_cap, "cannot %s: %s is a %s, which cannot move to another thread",
             k->what, k->path[0] ? k->path : "the value", type);
    return false;
}

/* Path bookkeeping: append a segment; the caller cuts back to the length
 * returned. */
static size_t al_lua_path_str(al_lua_packer_t *k, const char *fmt, const char *s)
{
    size_t saved = strlen(k->path);
    snprintf(k->path + saved, sizeof k->path - saved, fmt, s ? s : "?");
    return saved;
}

static size_t al_lua_path_int(al_lua_packer_t *k, long long i)
{
    size_t saved = strlen(k->path);
    snprintf(k->path + saved, sizeof k->path - saved, "[%lld]", i);
    return saved;
}

static bool al_lua_pack_value(al_lua_packer_t *k, int idx);

/* A table or function seen before in this pack is written as a reference.
 * The table of those seen is made on first need (its stack slot holds nil
 * until then): most packs (a result, a message) hold none. */
static bool al_lua_pack_seen(al_lua_packer_t *k, int idx, bool *done)
{
    *done = false;
    if (lua_isnil(k->L, k->seen)) {
        lua_newtable(k->L);
        lua_replace(k->L, k->seen);
    }
    lua_pushvalue(k->L, idx);
    if (lua_rawget(k->L, k->seen) == LUA_TNUMBER) {
        int ref = (int)lua_tointeger(k->L, -1);
        lua_pop(k->L, 1);
        *done = true;
        return al_lua_put_tag(k, 'R') && al_lua_put(k, &ref, sizeof ref);
    }
    lua_pop(k->L, 1);
    lua_pushvalue(k->L, idx);
    lua_pushinteger(k->L, k->next_ref++);
    lua_rawset(k->L, k->seen);
    return true;
}

static bool al_lua_pack_table(al_lua_packer_t *k, int idx)
{
    lua_pushvalue(k->L, idx);
    if (lua_istable(k->L, k->modules) && lua_rawget(k->L, k->modules) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(k->L, -1, &len);
        bool ok =
            al_lua_put_tag(k, 'M') && al_lua_put(k, &len, sizeof len) && al_lua_put(k, name, len);
        lua_pop(k->L, 1);
        return ok;
    }
    lua_pop(k->L, 1);
    bool done;
    if (!al_lua_pack_seen(k, idx, &done))
        return false;
    if (done)
        return true;
    if (lua_getmetatable(k->L, idx)) {
        lua_pop(k->L, 1);
        return al_lua_refuse(k, "table with a metatable");
    }
    if (!al_lua_put_tag(k, 'T'))
        return false;
    lua_pushnil(k->L);
    while (lua_next(k->L, idx)) {
        int kidx = lua_gettop(k->L) - 1, vidx = lua_gettop(k->L);
        size_t saved;
        if (lua_type(k->L, kidx) == LUA_TSTRING)
            saved = al_lua_path_str(k, ".%s", lua_tostring(k->L, kidx));
        else if (lua_isinteger(k->L, kidx))
            saved = al_lua_path_int(k, (long long)lua_tointeger(k->L, kidx));
        else
            saved = al_lua_path_str(k, "%s", "[key]");
        bool ok = al_lua_pack_value(k, kidx) && al_lua_pack_value(k, vidx);
        k->path[saved] = 0;
        lua_pop(k->L, 1);
        if (!ok) {
            lua_pop(k->L, 1);
            return false;
        }
    }
    return al_lua_put_tag(k, 'e');
}

/* lua_dump writes the bytecode straight after the pack's tag and length. */
typedef struct {
    al_lua_packer_t *k;
    bool ok;
} al_lua_dump_t;

static int al_lua_dump_writer(lua_State *L, const void *data, size_t n, void *ud)
{
    (void)L;
    al_lua_dump_t *d = ud;
    al_lua_pack_t *p = d->k->p;
    if (d->ok && p->len + n <= p->cap && p->len + n <= AL_LUA_PACK_MAX) { /* small pieces */
        memcpy(p->buf + p->len, data, n);
        p->len += n;
        return 0;
    }
    d->ok = d->ok && al_lua_put(d->k, data, n);
    return d->ok ? 0 : 1;
}

static bool al_lua_pack_function(al_lua_packer_t *k, int idx)
{
    lua_State *L = k->L;
    if (lua_iscfunction(L, idx)) {
        if (lua_getupvalue(L, idx, 1)) { /* a C closure: its upvalues live in this state */
            lua_pop(L, 1);
            return al_lua_refuse(k, "C function with upvalues");
        }
        lua_CFunction fn = lua_tocfunction(L, idx);
        return al_lua_put_tag(k, 'C') && al_lua_put(k, &fn, sizeof fn);
    }
    bool done;
    if (!al_lua_pack_seen(k, idx, &done))
        return false;
    if (done)
        return true;
    /* Bytecode with debug info (names in errors and tracebacks), written
     * after a length slot filled in once the size is known. */
    size_t len = 0;
    if (!al_lua_put_tag(k, 'F') || !al_lua_put(k, &len, sizeof len))
        return false;
    size_t at = k->p->len;
    al_lua_dump_t d = {k, true};
    lua_pushvalue(L, idx); /* lua_dump wants the function on top */
    lua_dump(L, al_lua_dump_writer, &d, 0);
    lua_pop(L, 1);
    if (!d.ok)
        return false;
    len = k->p->len - at;
    memcpy(k->p->buf + at - sizeof len, &len, sizeof len);
    bool ok = true;
    int nups = 0;
    while (lua_getupvalue(L, idx, nups + 1)) {
        lua_pop(L, 1);
        nups++;
    }
    if (!al_lua_put(k, &nups, sizeof nups))
        return false;
    for (int i = 1; i <= nups; i++) {
        const char *name = lua_getupvalue(L, idx, i);
        int vidx = lua_gettop(L);
        bool is_env = name && strcmp(name, "_ENV") == 0;
        if (is_env) {
            ok = al_lua_put_tag(k, 'E');
            k->p->has_env = true;
        } else {
            /* "upvalue `co`", or deeper "upvalue `helper`, upvalue `co`". */
            size_t saved = strlen(k->path);
            al_lua_path_str(k, saved ? ", upvalue `%s`" : "upvalue `%s`",
                            name && *name ? name : "?");
            ok = al_lua_pack_value(k, vidx);
            if (ok)
                k->path[saved] = 0;
        }
        lua_pop(L, 1);
        if (!ok)
            return false;
    }
    return true;
}

static bool al_lua_pack_value(al_lua_packer_t *k, int idx)
{
    lua_State *L = k->L;
    if (++k->depth > AL_LUA_MAX_DEPTH) {
        snprintf(k->err, k->err_cap, "cannot %s: %s is nested more than %d levels deep", k->what,
                 k->path, AL_LUA_MAX_DEPTH);
        return false;
    }
    if (!lua_checkstack(L, 8)) {
        snprintf(k->err, k->err_cap, "cannot %s: %s: Lua stack overflow", k->what, k->path);
        return false;
    }
    bool ok;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        ok = al_lua_put_tag(k, 'n');
        break;
    case LUA_TBOOLEAN:
        ok = al_lua_put_tag(k, lua_toboolean(L, idx) ? 't' : 'f');
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer i = lua_tointeger(L, idx);
            ok = al_lua_put_tag(k, 'i') && al_lua_put(k, &i, sizeof i);
        } else {
            lua_Number d = lua_tonumber(L, idx);
            ok = al_lua_put_tag(k, 'd') && al_lua_put(k, &d, sizeof d);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        ok = al_lua_put_tag(k, 's') && al_lua_put(k, &len, sizeof len) && al_lua_put(k, s, len);
        break;
    }
    case LUA_TTABLE:
        ok = al_lua_pack_table(k, lua_absindex(L, idx));
        break;
    case LUA_TFUNCTION:
        ok = al_lua_pack_function(k, lua_absindex(L, idx));
        break;
    case LUA_TUSERDATA: {
        al_lua_handle_t *h = al_lua_handle_test(L, idx);
        if (!h) {
            ok = al_lua_refuse(k, "userdata that is not an asynclab handle");
            break;
        }
        if (!h->obj) {
            snprintf(k->err, k->err_cap, "cannot %s: %s is a released %s", k->what, k->path,
                     h->cls->name);
            ok = false;
            break;
        }
        if (h->cls->task_local) {
            snprintf(k->err, k->err_cap,
                     "cannot %s: %s is a %s, which belongs to the task holding it and cannot "
                     "move to another thread (release it first)",
                     k->what, k->path[0] ? k->path : "the value", h->cls->name);
            ok = false;
            break;
        }
        ok = al_lua_put_tag(k, 'H') && al_lua_put(k, &h->cls, sizeof h->cls) &&
             al_lua_put(k, &h->obj, sizeof h->obj);
        if (ok) {
            h->cls->retain(h->obj);
            k->p->has_handles = true;
        }
        break;
    }
    case LUA_TTHREAD:
        ok = al_lua_refuse(k, "coroutine");
        break;
    default:
        ok = al_lua_refuse(k, luaL_typename(L, idx));
        break;
    }
    k->depth--;
    return ok;
}

bool al_lua_pack(lua_State *L, int first, int n, const char *what, const char *const *names,
                 al_lua_pack_t *p, char *err, size_t err_cap)
{
    *p = (al_lua_pack_t){0};
    first = lua_absindex(L, first);
    if (!lua_checkstack(L, 16)) {
        snprintf(err, err_cap, "cannot %s: Lua stack overflow", what);
        return false;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, AL_LUA_MODULES_KEY);
    lua_pushnil(L); /* the tables and functions seen (al_lua_pack_seen) */
    al_lua_packer_t k = {.L = L,
                         .p = p,
                         .what = what,
                         .err = err,
                         .err_cap = err_cap,
                         .seen = lua_gettop(L),
                         .modules = lua_gettop(L) - 1,
                         .next_ref = 1};
    for (int i = 0; i < n; i++) {
        if (names) /* a NULL name: the root itself needs none ("upvalue `co`") */
            snprintf(k.path, sizeof k.path, "%s", names[i] ? names[i] : "");
        else
            snprintf(k.path, sizeof k.path, "value #%d", i + 1);
        if (!al_lua_pack_value(&k, first + i)) {
            lua_pop(L, 2);
            al_lua_pack_free(p);
            return false;
        }
    }
    lua_pop(L, 2);
    p->count = n;
    return true;
}

/* ---- unpacking ------------------------------------------------------------------------ */

typedef struct {
    lua_State *L;
    al_lua_pack_t *p;
    size_t pos;
    int refs; /* stack index of the numbered tables / functions (nil until one) */
    int next_ref;
    int env; /* stack index of the table `_ENV` upvalues get (0: the globals) */
    char *err;
    size_t err_cap;
} al_lua_unpacker_t;

/* Number the table or function at the top (a later 'R' names it). */
static void al_lua_unpack_numbered(al_lua_unpacker_t *u)
{
    if (lua_isnil(u->L, u->refs)) {
        lua_newtable(u->L);
        lua_replace(u->L, u->refs);
    }
    lua_pushvalue(u->L, -1);
    lua_rawseti(u->L, u->refs, u->next_ref++);
}

static bool al_lua_get(al_lua_unpacker_t *u, void *out, size_t n)
{
    if (u->pos + n > u->p->len)
        return false;
    memcpy(out, u->p->buf + u->pos, n);
    u->pos += n;
    return true;
}

static bool al_lua_unpack_value(al_lua_unpacker_t *u);

static bool al_lua_unpack_tagged(al_lua_unpacker_t *u, char tag)
{
    lua_State *L = u->L;
    if (!lua_checkstack(L, 8)) {
        snprintf(u->err, u->err_cap, "cannot receive: Lua stack overflow");
        return false;
    }
    switch (tag) {
    case 'n':
        lua_pushnil(L);
        return true;
    case 'f':
    case 't':
        lua_pushboolean(L, tag == 't');
        return true;
    case 'i': {
        lua_Integer i;
        if (!al_lua_get(u, &i, sizeof i))
            return false;
        lua_pushinteger(L, i);
        return true;
    }
    case 'd': {
        lua_Number d;
        if (!al_lua_get(u, &d, sizeof d))
            return false;
        lua_pushnumber(L, d);
        return true;
    }
    case 's': {
        size_t len;
        if (!al_lua_get(u, &len, sizeof len) || u->pos + len > u->p->len)
            return false;
        lua_pushlstring(L, (const char *)u->p->buf + u->pos, len);
        u->pos += len;
        return true;
    }
    case 'T': {
        lua_newtable(L);
        al_lua_unpack_numbered(u);
        int t = lua_gettop(L);
        for (;;) {
            char c;
            if (!al_lua_get(u, &c, 1))
                return false;
            if (c == 'e')
                return true;
            if (!al_lua_unpack_tagged(u, c) || !al_lua_unpack_value(u))
                return false;
            lua_rawset(L, t);
        }
    }
    case 'F': {
        size_t len;
        if (!al_lua_get(u, &len, sizeof len) || u->pos + len > u->p->len)
            return false;
        int rc = luaL_loadbufferx(L, (const char *)u->p->buf + u->pos, len, "=task", "b");
        u->pos += len;
        if (rc != LUA_OK) {
            snprintf(u->err, u->err_cap, "cannot receive a function: %s", lua_tostring(L, -1));
            return false;
        }
        int f = lua_gettop(L);
        al_lua_unpack_numbered(u);
        int nups;
        if (!al_lua_get(u, &nups, sizeof nups))
            return false;
        for (int i = 1; i <= nups; i++) {
            char c;
            if (!al_lua_get(u, &c, 1))
                return false;
            if (c == 'E' && u->env)
                lua_pushvalue(L, u->env);
            else if (c == 'E')
                lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
            else if (!al_lua_unpack_tagged(u, c))
                return false;
            if (!lua_setupvalue(L, f, i))
                lua_pop(L, 1);
        }
        return true;
    }
    case 'C': {
        lua_CFunction fn;
        if (!al_lua_get(u, &fn, sizeof fn))
            return false;
        lua_pushcfunction(L, fn);
        return true;
    }
    case 'M': {
        size_t len;
        if (!al_lua_get(u, &len, sizeof len) || u->pos + len > u->p->len)
            return false;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)len, (const char *)u->p->buf + u->pos);
        u->pos += len;
        /* A task state opens its libraries on first use (lua_lazy_libs.h). */
        if (!al_lua_lazy_require(L, name) || lua_type(L, -1) != LUA_TTABLE) {
            snprintf(u->err, u->err_cap, "cannot receive: the library '%s' is not loaded here",
                     name);
            return false;
        }
        return true;
    }
    case 'R': {
        int ref;
        if (!al_lua_get(u, &ref, sizeof ref))
            return false;
        if (!lua_istable(L, u->refs)) /* a reference before any table or function */
            return false;
        lua_rawgeti(L, u->refs, ref);
        return true;
    }
    case 'H': {
        const al_lua_class_t *cls;
        void *obj;
        if (!al_lua_get(u, &cls, sizeof cls) || !al_lua_get(u, &obj, sizeof obj))
            return false;
        cls->retain(obj); /* the pack's own reference is released with the pack */
        al_lua_handle_push(L, cls, obj);
        return true;
    }
    default:
        return false;
    }
}

static bool al_lua_unpack_value(al_lua_unpacker_t *u)
{
    char tag;
    return al_lua_get(u, &tag, 1) && al_lua_unpack_tagged(u, tag);
}

int al_lua_unpack(lua_State *L, al_lua_pack_t *p, char *err, size_t err_cap)
{
    return al_lua_unpack_env(L, p, 0, err, err_cap);
}

int al_lua_unpack_env(lua_State *L, al_lua_pack_t *p, int env, char *err, size_t err_cap)
{
    if (env)
        env = lua_absindex(L, env);
    if (!lua_checkstack(L, p->count + 8)) {
        snprintf(err, err_cap, "cannot receive %d values: Lua stack overflow", p->count);
        return -1;
    }
    int base = lua_gettop(L);
    lua_pushnil(L); /* the refs table, made by the first table or function */
    al_lua_unpacker_t u = {.L = L,
                           .p = p,
                           .refs = lua_gettop(L),
                           .next_ref = 1,
                           .env = env,
                           .err = err,
                           .err_cap = err_cap};
    for (int i = 0; i < p->count; i++) {
        if (!al_lua_unpack_value(&u)) {
            if (!err[0])
                snprintf(err, err_cap, "cannot receive: damaged value");
            lua_settop(L, base);
            return -1;
        }
    }
    lua_remove(L, base + 1); /* the refs table */
    int n = p->count;
    al_lua_pack_free(p);
    return n;
}

/* Walk the buffer and retain (or release) every handle in it. */
static void al_lua_pack_handles(const al_lua_pack_t *p, bool retain)
{
    size_t pos = 0;
    while (pos < p->len) {
        char tag = (char)p->buf[pos++];
        switch (tag) {
        case 'i':
        case 'd':
            pos += 8;
            break;
        case 'R':
            pos += sizeof(int);
            break;
        case 'C':
            pos += sizeof(lua_CFunction);
            break;
        case 's':
        case 'M':
        case 'F': {
            size_t len;
            memcpy(&len, p->buf + pos, sizeof len);
            pos += sizeof len + len;
            if (tag == 'F')
                pos += sizeof(int); /* nups; the upvalues follow as values */
            break;
        }
        case 'H': {
            const al_lua_class_t *cls;
            void *obj;
            memcpy(&cls, p->buf + pos, sizeof cls);
            memcpy(&obj, p->buf + pos + sizeof cls, sizeof obj);
            pos += sizeof cls + sizeof obj;
            if (retain)
                cls->retain(obj);
            else
                cls->release(obj);
            break;
        }
        default: /* n f t T e E: no payload */
            break;
        }
    }
}

void al_lua_pack_free(al_lua_pack_t *p)
{
    if (!p)
        return;
    if (p->has_handles)
        al_lua_pack_handles(p, false);
    free(p->buf);
    *p = (al_lua_pack_t){0};
}

bool al_lua_pack_copy(al_lua_pack_t *dst, const al_lua_pack_t *src)
{
    *dst = *src;
    dst->buf = NULL;
    dst->cap = 0;
    if (src->len) {
        dst->buf = malloc(src->len);
        if (!dst->buf) {
            *dst = (al_lua_pack_t){0};
            return false;
        }
        memcpy(dst->buf, src->buf, src->len);
        dst->cap = src->len;
    }
    if (dst->has_handles)
        al_lua_pack_handles(dst, true);
    return true;
}
