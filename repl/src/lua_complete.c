/*
 * lua_complete.c — tab completion at the prompt (GNU readline): globals,
 * fields along a dotted path (rt.sync.Mu<TAB> -> rt.sync.Mutex), and methods
 * after a colon (m:lo<TAB> -> m:lock), read from the live Lua state.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <readline/readline.h>

#include "lua_complete.h"

static lua_State *al_complete_L;

/* Candidates found for the current word: "prefix" + each matching key. */
static char **al_complete_list;
static size_t al_complete_n, al_complete_cap;

static void al_complete_add(const char *prefix, size_t plen, const char *key, char suffix)
{
    if (al_complete_n + 1 >= al_complete_cap) {
        size_t cap = al_complete_cap ? al_complete_cap * 2 : 32;
        char **grown = realloc(al_complete_list, cap * sizeof *grown);
        if (!grown)
            return;
        al_complete_list = grown;
        al_complete_cap = cap;
    }
    size_t klen = strlen(key);
    char *s = malloc(plen + klen + 2);
    if (!s)
        return;
    memcpy(s, prefix, plen);
    memcpy(s + plen, key, klen);
    s[plen + klen] = suffix;
    s[plen + klen + 1] = 0;
    al_complete_list[al_complete_n++] = s;
}

/* Add the string keys of the table at the top of the stack that start with
 * part. Tables get a '.' after them, functions a '(' . */
static void al_complete_keys(lua_State *L, const char *prefix, size_t plen, const char *part)
{
    size_t partlen = strlen(part);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            if (strncmp(k, part, partlen) == 0 && strncmp(k, "__", 2) != 0) {
                char suffix = lua_type(L, -1) == LUA_TTABLE      ? '.'
                              : lua_type(L, -1) == LUA_TFUNCTION ? '('
                                                                 : 0;
                al_complete_add(prefix, plen, k, suffix);
            }
        }
        lua_pop(L, 1);
    }
}

/* Walk "a.b.c" from the globals; leaves the value on the stack. */
static void al_complete_walk(lua_State *L, const char *path, size_t len)
{
    lua_pushglobaltable(L);
    const char *p = path, *end = path + len;
    while (p < end && lua_type(L, -1) == LUA_TTABLE) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        lua_pushlstring(L, p, n);
        lua_gettable(L, -2);
        lua_remove(L, -2);
        p += n + 1;
    }
}

static char **al_complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    lua_State *L = al_complete_L;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (!L)
        return NULL;
    al_complete_n = 0;
    int top = lua_gettop(L);
    const char *sep = strrchr(text, '.'), *colon = strrchr(text, ':');
    if (colon && (!sep || colon > sep)) {
        /* obj:meth — methods from the value's metatable (__index table or .methods) */
        al_complete_walk(L, text, (size_t)(colon - text));
        if (lua_getmetatable(L, -1)) {
            lua_getfield(L, -1, "methods");
            if (lua_type(L, -1) != LUA_TTABLE) {
                lua_pop(L, 1);
                lua_getfield(L, -1, "__index");
            }
            if (lua_type(L, -1) == LUA_TTABLE)
                al_complete_keys(L, text, (size_t)(colon - text) + 1, colon + 1);
        }
    } else if (sep) {
        al_complete_walk(L, text, (size_t)(sep - text));
        if (lua_type(L, -1) == LUA_TTABLE)
            al_complete_keys(L, text, (size_t)(sep - text) + 1, sep + 1);
    } else {
        lua_pushglobaltable(L);
        al_complete_keys(L, "", 0, text);
        static const char *const words[] = {
            "and",      "break",  "do",   "else", "elseif", "end",  "false", "for",
            "function", "goto",   "if",   "in",   "local",  "nil",  "not",   "or",
            "repeat",   "return", "then", "true", "until",  "while"};
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (strncmp(words[i], text, strlen(text)) == 0)
                al_complete_add("", 0, words[i], ' ');
    }
    lua_settop(L, top);
    if (al_complete_n == 0)
        return NULL;
    /* readline wants: [0] the common prefix (replaces text), then the matches. */
    char **out = calloc(al_complete_n + 2, sizeof *out);
    if (!out)
        return NULL;
    size_t common = strlen(al_complete_list[0]);
    for (size_t i = 1; i < al_complete_n; i++) {
        size_t j = 0;
        while (j < common && al_complete_list[i][j] == al_complete_list[0][j])
            j++;
        common = j;
    }
    out[0] = strndup(al_complete_list[0], common);
    for (size_t i = 0; i < al_complete_n; i++)
        out[i + 1] = al_complete_list[i];
    if (al_complete_n == 1) { /* one match: it replaces the word, suffix included */
        free(out[0]);
        out[0] = out[1];
        out[1] = NULL;
    }
    rl_completion_append_character = 0;
    return out;
}

void al_lua_complete_install(lua_State *L)
{
    al_complete_L = L;
    rl_attempted_completion_function = al_complete;
    /* A Lua path is one word: break only at spaces and operators. */
    rl_basic_word_break_characters = " \t\n\"'`=+-*/%^<>~(){}[],;#&|";
}
