/*
 * lua_lazy_libs.c — libraries of a task state opened on first use (see
 * lua_lazy_libs.h).
 *
 * Three hooks make a bare state behave as a full one:
 *   - the globals table's metatable: __index (a global nobody set) looks
 *     the name up among the base functions and the libraries, opens what it
 *     names and stores it as a real global, so the hook runs once per name;
 *   - the string metatable: __index (("x"):upper()) and the arithmetic
 *     metamethods ("10" + 1, which Lua 5.4 does in the string library) open
 *     the string library, which installs its own metatable, then redo the
 *     operation;
 *   - package.loaded's metatable, once package is opened: __index opens the
 *     library read (require reads package.loaded first).
 */
#include <pthread.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_alloc.h"
#include "lua_lazy_libs.h"
#include "lua_rt.h"
#include "lua_value.h"

/* ---- the base library's functions, found once per process ---- */

/* The base library's globals are plain C functions without upvalues: the
 * same function serves every state, so they are read once from a scratch
 * state and then set one by one, as named. */
#define AL_LUA_BASE_MAX 48

typedef struct {
    char name[32];
    lua_CFunction fn;
} al_lua_base_fn_t;

static al_lua_base_fn_t al_lua_base_fns[AL_LUA_BASE_MAX];
static int al_lua_base_count;
static pthread_once_t al_lua_base_once = PTHREAD_ONCE_INIT;

static void al_lua_base_find(void)
{
    lua_State *L = luaL_newstate();
    if (!L)
        return;
    luaL_requiref(L, "_G", luaopen_base, 0);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        size_t len;
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        lua_CFunction fn = lua_tocfunction(L, -1);
        bool plain = fn && !lua_getupvalue(L, -1, 1);
        if (name && plain && len < sizeof al_lua_base_fns[0].name &&
            al_lua_base_count < AL_LUA_BASE_MAX) {
            al_lua_base_fn_t *b = &al_lua_base_fns[al_lua_base_count++];
            memcpy(b->name, name, len + 1);
            b->fn = fn;
        }
        lua_pop(L, 1);
    }
    lua_close(L);
}

static lua_CFunction al_lua_base_fn(const char *name)
{
    pthread_once(&al_lua_base_once, al_lua_base_find);
    for (int i = 0; i < al_lua_base_count; i++)
        if (strcmp(al_lua_base_fns[i].name, name) == 0)
            return al_lua_base_fns[i].fn;
    return NULL;
}

/* ---- libraries ---- */

static const luaL_Reg al_lua_libs[] = {
    {LUA_LOADLIBNAME, luaopen_package}, {LUA_COLIBNAME, luaopen_coroutine},
    {LUA_TABLIBNAME, luaopen_table},    {LUA_IOLIBNAME, luaopen_io},
    {LUA_OSLIBNAME, luaopen_os},        {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math},    {LUA_UTF8LIBNAME, luaopen_utf8},
    {LUA_DBLIBNAME, luaopen_debug},     {NULL, NULL}};

static const luaL_Reg *al_lua_lib(const char *name)
{
    for (const luaL_Reg *l = al_lua_libs; l->name; l++)
        if (strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

static bool al_lua_is_rt_name(const char *name)
{
    return strcmp(name, "rt") == 0 || strncmp(name, "rt.", 3) == 0 || strcmp(name, "std") == 0 ||
           strncmp(name, "std.", 4) == 0 || strcmp(name, "asynclab") == 0;
}

static int al_lua_lazy_loaded_index(lua_State *L);

/* Open lib as luaL_requiref(L, name, open, 1) would, pushing it; without
 * requiref's read of package.loaded[name], which is lazy itself. */
static void al_lua_lazy_open_lib(lua_State *L, const luaL_Reg *lib)
{
    lua_pushcfunction(L, lib->func);
    lua_pushstring(L, lib->name);
    lua_call(L, 1, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, lib->name);
    if (strcmp(lib->name, LUA_LOADLIBNAME) == 0) {
        /* package.loaded.x (and so require "x") opens x when it is one of ours */
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, al_lua_lazy_loaded_index);
        lua_setfield(L, -2, "__index");
        lua_setmetatable(L, -2);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, lib->name);
}

/* Set while rt is being opened: its own lookups must not open it again. */
#define AL_LUA_OPENING_RT "asynclab.opening_rt"

static bool al_lua_lazy_open_rt(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, AL_LUA_OPENING_RT) != LUA_TNIL) {
        lua_pop(L, 1);
        return false;
    }
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, AL_LUA_OPENING_RT);
    al_lua_open_rt_lazy(L);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, AL_LUA_OPENING_RT);
    return true;
}

/* Push package.loaded[name], raw (the lazy __index is this function's). */
static bool al_lua_loaded_raw(lua_State *L, const char *name)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushstring(L, name);
    if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pop(L, 2);
        return false;
    }
    lua_remove(L, -2);
    return true;
}

bool al_lua_lazy_require(lua_State *L, const char *name)
{
    if (al_lua_loaded_raw(L, name))
        return true;
    const luaL_Reg *lib = al_lua_lib(name);
    if (lib) {
        al_lua_lazy_open_lib(L, lib);
        if (strcmp(name, LUA_IOLIBNAME) == 0) /* open files close when collected */
            al_lua_alloc_always_collect(L);
        al_lua_value_note_modules(L); /* its tables now travel by name */
        return true;
    }
    if (!al_lua_is_rt_name(name))
        return false;
    if (al_lua_loaded_raw(L, "rt"))
        lua_pop(L, 1);
    else if (!al_lua_lazy_open_rt(L))
        return false;
    const char *path = strcmp(name, "asynclab") == 0 ? "rt" : name;
    al_lua_rt_open_name(L, path); /* rt.sync.mpsc: the parts that make it */
    return al_lua_loaded_raw(L, path);
}

/* __index(package.loaded, name): what require and package.loaded.x read. */
static int al_lua_lazy_loaded_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    return al_lua_lazy_require(L, lua_tostring(L, 2)) ? 1 : 0;
}

/* ---- the globals ---- */

/* package.loaded._G = the globals, as luaL_openlibs sets it: tracebacks
 * then name base functions as "function 'print'". Set with the first base
 * function, so that a state whose task calls none does without. */
static void al_lua_lazy_loaded_g(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, LUA_GNAME) == LUA_TNIL) {
        lua_pushglobaltable(L);
        lua_setfield(L, -3, LUA_GNAME);
    }
    lua_pop(L, 2);
}

/* __index(globals, name): a global nobody set. Opens what it names, stores
 * it as a real global (raw: the hook runs once per name), returns it. */
static int al_lua_lazy_global(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *name = lua_tostring(L, 2);
    lua_CFunction fn = al_lua_base_fn(name);
    if (fn) {
        al_lua_lazy_loaded_g(L);
        lua_pushcfunction(L, fn);
    } else if (strcmp(name, "_G") == 0) {
        lua_pushglobaltable(L);
    } else if (strcmp(name, "_VERSION") == 0) {
        lua_pushliteral(L, LUA_VERSION);
    } else if (strcmp(name, "require") == 0) {
        if (!al_lua_lazy_require(L, LUA_LOADLIBNAME)) /* which sets require */
            return 0;
        lua_pushvalue(L, 2);
        lua_rawget(L, 1);
        return 1;
    } else if ((al_lua_lib(name) || strcmp(name, "rt") == 0 || strcmp(name, "std") == 0) &&
               al_lua_lazy_require(L, name)) {
        return 1; /* opening it set the global */
    } else {
        return 0;
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

/* ---- strings ---- */

static void al_lua_lazy_string(lua_State *L)
{
    al_lua_lazy_require(L, LUA_STRLIBNAME); /* installs its own string metatable */
    lua_pop(L, 1);
}

/* __index(s, k): a method call on a string. */
static int al_lua_lazy_string_index(lua_State *L)
{
    al_lua_lazy_string(L);
    lua_settop(L, 2);
    lua_gettable(L, 1); /* s[k], through the string library's metatable */
    return 1;
}

/* Arithmetic on strings: the string library's metamethods convert. */
#define AL_LUA_LAZY_ARITH(fname, op)                                                               \
    static int fname(lua_State *L)                                                                 \
    {                                                                                              \
        al_lua_lazy_string(L);                                                                     \
        lua_settop(L, 2);                                                                          \
        if ((op) == LUA_OPUNM)                                                                     \
            lua_pop(L, 1); /* a unary metamethod gets its operand twice */                         \
        lua_arith(L, op);                                                                          \
        return 1;                                                                                  \
    }
AL_LUA_LAZY_ARITH(al_lua_lazy_add, LUA_OPADD)
AL_LUA_LAZY_ARITH(al_lua_lazy_sub, LUA_OPSUB)
AL_LUA_LAZY_ARITH(al_lua_lazy_mul, LUA_OPMUL)
AL_LUA_LAZY_ARITH(al_lua_lazy_mod, LUA_OPMOD)
AL_LUA_LAZY_ARITH(al_lua_lazy_pow, LUA_OPPOW)
AL_LUA_LAZY_ARITH(al_lua_lazy_div, LUA_OPDIV)
AL_LUA_LAZY_ARITH(al_lua_lazy_idiv, LUA_OPIDIV)
AL_LUA_LAZY_ARITH(al_lua_lazy_unm, LUA_OPUNM)

static const luaL_Reg al_lua_lazy_string_meta[] = {{"__index", al_lua_lazy_string_index},
                                                   {"__add", al_lua_lazy_add},
                                                   {"__sub", al_lua_lazy_sub},
                                                   {"__mul", al_lua_lazy_mul},
                                                   {"__mod", al_lua_lazy_mod},
                                                   {"__pow", al_lua_lazy_pow},
                                                   {"__div", al_lua_lazy_div},
                                                   {"__idiv", al_lua_lazy_idiv},
                                                   {"__unm", al_lua_lazy_unm},
                                                   {NULL, NULL}};

void al_lua_lazy_setup(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, al_lua_lazy_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    lua_createtable(L, 0, 9);
    luaL_setfuncs(L, al_lua_lazy_string_meta, 0);
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

bool al_lua_lazy_intact(lua_State *L)
{
    lua_pushglobaltable(L);
    bool ours = false;
    if (lua_getmetatable(L, -1)) {
        lua_pushliteral(L, "__index");
        lua_rawget(L, -2);
        ours = lua_tocfunction(L, -1) == al_lua_lazy_global;
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return ours;
}
