/*
 * lua_alloc.c — counting allocator for Lua states (see lua_alloc.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "lua_alloc.h"

typedef struct {
    size_t used, limit;
    unsigned finalizers; /* made since the last al_lua_alloc_take_finalizers */
    bool always;         /* every take reports finalizers */
} al_lua_budget_t;

static void *al_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    al_lua_budget_t *b = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        b->used -= old;
        return NULL;
    }
    /* Shrinking always succeeds; growth is refused past the limit. */
    if (nsize > old && b->used - old + nsize > b->limit)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        b->used = b->used - old + nsize;
    return p;
}

static int al_lua_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "asynclab: unprotected Lua error: %s\n", msg ? msg : "?");
    return 0; /* abort() follows */
}

lua_State *al_lua_alloc_state(void)
{
    al_lua_budget_t *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    *b = (al_lua_budget_t){.used = 0, .limit = SIZE_MAX};
    lua_State *L = lua_newstate(al_lua_alloc, b);
    if (!L) {
        free(b);
        return NULL;
    }
    lua_atpanic(L, al_lua_panic);
    return L;
}

static al_lua_budget_t *al_lua_budget(lua_State *L)
{
    void *ud = NULL;
    return lua_getallocf(L, &ud) == al_lua_alloc ? ud : NULL;
}

void al_lua_alloc_set_limit(lua_State *L, size_t limit)
{
    al_lua_budget_t *b = al_lua_budget(L);
    if (b)
        b->limit = limit;
}

size_t al_lua_alloc_used(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    return b ? b->used : 0;
}

void al_lua_alloc_note_finalizer(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    if (b)
        b->finalizers++;
}

void al_lua_alloc_always_collect(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    if (b)
        b->always = true;
}

bool al_lua_alloc_take_finalizers(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    if (!b)
        return true; /* not ours: assume the worst */
    bool any = b->finalizers > 0 || b->always;
    b->finalizers = 0;
    return any;
}

void al_lua_alloc_close(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    lua_close(L); /* frees through the allocator, which still needs b */
    free(b);
}
