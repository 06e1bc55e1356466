/*
 * lua_repl.c — the interactive prompt (see lua_repl.h). The reading and
 * evaluation rules follow the stock `lua` interpreter's, which Lua users
 * already know: try `return <line>` first, then the line as a statement;
 * an error ending in <eof> means "incomplete: read another line".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "asynclab.h"
#include "lua_complete.h"
#include "lua_interrupt.h"
#include "lua_repl.h"
#include "lua_run.h"

#define AL_REPL_MAX_INPUT (1 << 20)

static bool al_repl_tty;

static const char *al_repl_prompt(lua_State *L, bool first)
{
    lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
    const char *p = lua_tostring(L, -1);
    lua_pop(L, 1);
    return p ? p : first ? "> " : ">> ";
}

/* One line, without its newline; NULL at end of input. Caller frees. */
static char *al_repl_read(lua_State *L, bool first)
{
    const char *prompt = al_repl_prompt(L, first);
    if (al_repl_tty) {
        al_lua_at_prompt = 1;
        char *line = readline(prompt);
        al_lua_at_prompt = 0;
        return line;
    }
    char *line = NULL;
    size_t cap = 0;
    al_lua_at_prompt = 1;
    ssize_t n = getline(&line, &cap, stdin);
    al_lua_at_prompt = 0;
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = 0;
    return line;
}

static bool al_repl_incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return false;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    return len >= 5 && strcmp(msg + len - 5, "<eof>") == 0;
}

/* Compile the entry (reading continuation lines as needed); leaves the
 * chunk on the stack. Returns the load status, or -1 at end of input. */
static int al_repl_load(lua_State *L, char **entry)
{
    char *line = al_repl_read(L, true);
    if (!line)
        return -1;
    const char *code = line[0] == '=' ? line + 1 : line; /* "=expr" as in lua 5.1 */
    /* Expressions first, so that `1 + 1` prints 2. */
    char *ret = malloc(strlen(code) + 8);
    if (!ret) {
        free(line);
        return LUA_ERRMEM;
    }
    sprintf(ret, "return %s", code);
    int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    free(ret);
    if (status == LUA_OK) {
        *entry = line;
        return status;
    }
    lua_pop(L, 1);
    size_t len = strlen(code);
    char *buf = malloc(len + 1);
    if (!buf) {
        free(line);
        return LUA_ERRMEM;
    }
    memcpy(buf, code, len + 1);
    free(line);
    for (;;) {
        status = luaL_loadbuffer(L, buf, len, "=stdin");
        if (!al_repl_incomplete(L, status))
            break;
        lua_pop(L, 1);
        char *more = al_repl_read(L, false);
        if (!more)
            break; /* end of input inside a statement: report the error */
        size_t mlen = strlen(more);
        if (len + mlen + 2 > AL_REPL_MAX_INPUT) {
            free(more);
            lua_pushstring(L, "stdin: input too long");
            status = LUA_ERRSYNTAX;
            break;
        }
        char *grown = realloc(buf, len + mlen + 2);
        if (!grown) {
            free(more);
            status = LUA_ERRMEM;
            lua_pushstring(L, "out of memory");
            break;
        }
        buf = grown;
        buf[len++] = '\n';
        memcpy(buf + len, more, mlen + 1);
        len += mlen;
        free(more);
    }
    *entry = buf;
    return status;
}

/* Print the n results at the top of the stack, each through rt.pretty,
 * separated by tabs (as the stock lua prints them). */
static void al_repl_print(lua_State *L, int n)
{
    if (n == 0)
        return;
    int first = lua_gettop(L) - n + 1;
    luaL_Buffer b;
    lua_getglobal(L, "rt");
    lua_getfield(L, -1, "pretty");
    lua_remove(L, -2);
    int pretty = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = 0; i < n; i++) {
        if (lua_type(L, first + i) == LUA_TSTRING) { /* as the stock lua: raw text */
            lua_pushvalue(L, first + i);
            if (i > 0)
                luaL_addchar(&b, '\t');
            luaL_addvalue(&b);
            continue;
        }
        lua_pushvalue(L, pretty);
        lua_pushvalue(L, first + i);
        if (lua_type(L, pretty) != LUA_TFUNCTION || al_lua_call(L, 1, 1) != LUA_OK) {
            lua_settop(L, pretty + 1); /* fall back to tostring */
            luaL_tolstring(L, first + i, NULL);
        }
        if (i > 0)
            luaL_addchar(&b, '\t');
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    puts(lua_tostring(L, -1));
    fflush(stdout);
    lua_settop(L, first - 1 + n);
}

/* ~/.asynclab_history, or NULL when there is no home. */
static char *al_repl_history_path(void)
{
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    char *path = malloc(strlen(home) + 32);
    if (path)
        sprintf(path, "%s/.asynclab_history", home);
    return path;
}

int al_lua_repl(lua_State *L)
{
    al_repl_tty = isatty(0);
    static char *history; /* static: survives the Ctrl-C longjmp */
    history = NULL;
    if (al_repl_tty) {
        printf(
            "asynclab %s (Lua 5.4) -- rt.help() lists the API; Ctrl-C interrupts, Ctrl-D exits\n",
            ASYNCLAB_VERSION);
        rl_readline_name = "asynclab";
        rl_catch_signals = 0; /* Ctrl-C is ours (lua_interrupt.c) */
        al_lua_complete_install(L);
        history = al_repl_history_path();
        if (history) {
            read_history(history);
            stifle_history(1000);
        }
    }
    al_lua_interrupt_install(L);
    for (;;) {
        char *entry = NULL;
        int base = lua_gettop(L);
        al_lua_interrupt_clear();
        if (sigsetjmp(al_lua_prompt_jmp, 1)) { /* Ctrl-C while typing */
            al_lua_at_prompt = 0;
            if (al_repl_tty) {
                rl_free_line_state();
                rl_cleanup_after_signal();
            }
            printf("^C\n");
            lua_settop(L, base);
            continue;
        }
        int status = al_repl_load(L, &entry);
        if (status == -1)
            break;
        if (al_repl_tty && entry && entry[0]) {
            add_history(entry);
            if (history && append_history(1, history) != 0)
                write_history(history); /* the first time: no file to append to */
        }
        free(entry);
        if (status == LUA_OK)
            status = al_lua_call(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            al_repl_print(L, lua_gettop(L) - base);
        else
            al_lua_report(L, "asynclab");
        lua_settop(L, base);
    }
    if (al_repl_tty)
        printf("\n");
    free(history);
    return 0;
}
