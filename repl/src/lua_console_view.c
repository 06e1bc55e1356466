/*
 * lua_console_view.c — options of rt.console (what tokio-console's task
 * view lets you do with its columns):
 *
 *   rt.console{sort = "busy"}              busiest tasks first
 *   rt.console{sort = "polls", limit = 5}  the 5 most polled
 *   rt.console{done = false}               only the tasks still alive
 *
 * sort: id (default), name, state, polls, wakes, busy, sched, idle, total,
 * poll (poll-time p99). Counts and times sort largest first, id / name /
 * state smallest first; ties keep id order. The console prints every line
 * (al_console_print); this re-orders and trims the task lines of its TASKS
 * table, matching each line to its task in the snapshot by id.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_console_view.h"

typedef enum {
    AL_SORT_ID,
    AL_SORT_NAME,
    AL_SORT_STATE,
    AL_SORT_POLLS,
    AL_SORT_WAKES,
    AL_SORT_BUSY,
    AL_SORT_SCHED,
    AL_SORT_IDLE,
    AL_SORT_TOTAL,
    AL_SORT_POLL,
} al_lua_sort_t;

static const char *const al_lua_sort_names[] = {"id",    "name", "state", "polls", "wakes", "busy",
                                                "sched", "idle", "total", "poll",  NULL};

typedef struct {
    const char *line; /* in the text, up to and including its '\n' */
    size_t len;
    uint64_t id;
    const al_console_task_t *t; /* NULL if not in the snapshot */
} al_lua_task_line_t;

static al_lua_sort_t al_lua_sort_key; /* qsort has no context argument */

static uint64_t al_lua_sort_value(const al_console_task_t *t)
{
    switch (al_lua_sort_key) {
    case AL_SORT_POLLS:
        return t->polls;
    case AL_SORT_WAKES:
        return t->wakes;
    case AL_SORT_BUSY:
        return t->busy_ns;
    case AL_SORT_SCHED:
        return t->scheduled_ns;
    case AL_SORT_IDLE:
        return t->idle_ns;
    case AL_SORT_TOTAL:
        return t->total_ns;
    case AL_SORT_POLL:
        return t->poll_p99_ns;
    default:
        return 0;
    }
}

static int al_lua_line_cmp(const void *pa, const void *pb)
{
    const al_lua_task_line_t *a = pa, *b = pb;
    int c = 0;
    if (a->t && b->t && al_lua_sort_key != AL_SORT_ID) {
        if (al_lua_sort_key == AL_SORT_NAME) {
            c = strcmp(a->t->name, b->t->name);
        } else if (al_lua_sort_key == AL_SORT_STATE) {
            c = (a->t->state > b->t->state) - (a->t->state < b->t->state);
        } else {
            uint64_t va = al_lua_sort_value(a->t), vb = al_lua_sort_value(b->t);
            c = (va < vb) - (va > vb); /* largest first */
        }
    }
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* Is the line at p (up to end) a task line: spaces, then the id? */
static bool al_lua_task_line(const char *p, const char *end, uint64_t *id)
{
    while (p < end && *p == ' ')
        p++;
    if (p == end || *p < '0' || *p > '9')
        return false;
    *id = strtoull(p, NULL, 10);
    return true;
}

void al_lua_console_opts(lua_State *L, int idx, al_lua_console_opts_t *o)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "sort") != 0 && strcmp(k, "limit") != 0 && strcmp(k, "done") != 0)
            luaL_argerror(L, 1,
                          lua_pushfstring(L, "unknown option '%s' (sort, limit, done)",
                                          luaL_tolstring(L, -2, NULL)));
        lua_pop(L, 1);
    }
    lua_getfield(L, idx, "sort");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, 1,
                      "sort must be a column name (id, name, state, polls, wakes, busy, "
                      "sched, idle, total, poll)");
    const char *sort = luaL_optstring(L, -1, "id");
    o->sort = -1;
    for (int i = 0; al_lua_sort_names[i]; i++)
        if (strcmp(sort, al_lua_sort_names[i]) == 0)
            o->sort = i;
    if (o->sort < 0)
        luaL_argerror(L, 1,
                      lua_pushfstring(L,
                                      "cannot sort by '%s' (id, name, state, polls, wakes, busy, "
                                      "sched, idle, total, poll)",
                                      sort));
    lua_getfield(L, idx, "limit");
    o->limit = -1;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
            luaL_argerror(L, 1, "limit must be a whole number of tasks, 0 or more");
        o->limit = (long long)lua_tointeger(L, -1);
    }
    lua_getfield(L, idx, "done");
    o->done = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 3);
}

void al_lua_console_view(lua_State *L, const al_lua_console_opts_t *o,
                         const al_console_snapshot_t *s, const char *text, size_t len)
{
    int key = o->sort;
    long long limit = o->limit;
    bool done = o->done;
    const char *sort = al_lua_sort_names[key];
    /* the task lines: after "\nTASKS\n" and the column header */
    const char *end = text + len;
    const char *tasks = strstr(text, "\nTASKS\n");
    const char *first = tasks ? strchr(tasks + 7, '\n') : NULL;
    if (!first) {
        lua_pushlstring(L, text, len);
        return;
    }
    first++;
    size_t n = 0, cap = 16;
    al_lua_task_line_t *lines = malloc(cap * sizeof *lines);
    const char *p = first;
    while (lines && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        uint64_t id;
        if (!al_lua_task_line(p, stop, &id))
            break;
        if (n == cap) {
            al_lua_task_line_t *grown = realloc(lines, 2 * cap * sizeof *lines);
            if (!grown) {
                free(lines);
                lines = NULL;
                break;
            }
            lines = grown;
            cap *= 2;
        }
        lines[n++] = (al_lua_task_line_t){p, (size_t)(stop - p), id, al_console_find_task(s, id)};
        p = stop;
    }
    if (!lines)
        luaL_error(L, "out of memory");
    const char *rest = p;
    al_lua_sort_key = (al_lua_sort_t)key;
    qsort(lines, n, sizeof *lines, al_lua_line_cmp);

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, text, (size_t)(tasks - text));
    luaL_addstring(&b, "\nTASKS");
    char how[128] = "";
    if (key != AL_SORT_ID)
        snprintf(how, sizeof how, "by %s", sort);
    if (!done)
        snprintf(how + strlen(how), sizeof how - strlen(how), "%salive only", how[0] ? ", " : "");
    if (limit >= 0)
        snprintf(how + strlen(how), sizeof how - strlen(how), "%sfirst %lld", how[0] ? ", " : "",
                 (long long)limit);
    if (how[0]) {
        lua_pushfstring(L, " (%s)", how);
        luaL_addvalue(&b);
    }
    luaL_addlstring(&b, tasks + 6, (size_t)(first - (tasks + 6)));
    long long shown = 0, hidden = 0;
    for (size_t i = 0; i < n; i++) {
        if (!done && (!lines[i].t || lines[i].t->state == AL_TASK_DONE))
            continue;
        if (limit >= 0 && shown >= limit) {
            hidden++;
            continue;
        }
        luaL_addlstring(&b, lines[i].line, lines[i].len);
        shown++;
    }
    free(lines);
    if (hidden) {
        lua_pushfstring(L, "  (%I more not shown: limit=%I)\n", (lua_Integer)hidden,
                        (lua_Integer)limit);
        luaL_addvalue(&b);
    }
    luaL_addlstring(&b, rest, (size_t)(end - rest));
    luaL_pushresult(&b);
}
