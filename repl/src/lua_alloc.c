/*
 * lua_alloc.c — counting allocator for Lua states (see lua_alloc.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_alloc.h"

/*
 * Small blocks (up to AL_LUA_SMALL_MAX bytes: strings, tables, closures,
 * most of a task state) come from the state's own slabs. Lua gives the size
 * of every block it frees or resizes, so a block needs no header, and a
 * state is used by one thread at a time, so the slabs need no lock: a task
 * state is ~20% smaller than with malloc for each block, and allocating is
 * a free-list pop. A block is small if and only if its size is; freed small
 * blocks wait on their size class's free list for the state's next block
 * of that size (slabs are freed with the state). Larger blocks (the string
 * table, stacks, big arrays) are malloc's.
 */
#define AL_LUA_GRAIN 8 /* Lua's alignment (LUAI_MAXALIGN) on this platform */
#ifdef __SANITIZE_ADDRESS__
/* Under AddressSanitizer every block is malloc's, so that it sees overflows
 * of each one (a handle's userdata, say); TSan and release builds use slabs. */
#define AL_LUA_SMALL_MAX 0
#define AL_LUA_FIRST_SLAB 0
#else
/* 128, not 256: the free lists (one per size class) are in every state's
 * record, and the few blocks of 129-256 bytes (node arrays of 8, a
 * function's prototype) cost less from malloc than 16 more lists. */
#define AL_LUA_SMALL_MAX 128
/* The first slab comes with the state's record, in one block from malloc:
 * room for what lua_newstate and a task state's lazy setup allocate in
 * small blocks (~1.8 KiB) and for a small task's function and values, so
 * that a pending task state is a few blocks from malloc (this one, its
 * large blocks, maybe a slab), not one per 512 bytes. */
#define AL_LUA_FIRST_SLAB 2560
#endif
#define AL_LUA_CLASSES (AL_LUA_SMALL_MAX / AL_LUA_GRAIN)
#define AL_LUA_SLAB_SIZE 512

typedef struct al_lua_slab {
    struct al_lua_slab *next;
    /* blocks follow, AL_LUA_GRAIN aligned */
} al_lua_slab_t;

typedef struct {
    size_t used, limit;
    unsigned finalizers; /* made since the last al_lua_alloc_take_finalizers */
    bool always;         /* every take reports finalizers */
    size_t large;        /* bytes in malloc'd blocks */
    size_t slab_bytes;   /* bytes in slabs */
    al_lua_slab_t *slabs;
    char *bump, *bump_end;                 /* the newest slab's untouched rest */
    void *free_blocks[AL_LUA_CLASSES + 1]; /* per class: freed blocks, linked */
    /* the first slab (AL_LUA_FIRST_SLAB bytes) follows, AL_LUA_GRAIN aligned */
} al_lua_budget_t;

static size_t al_lua_class(size_t n)
{
    return (n + AL_LUA_GRAIN - 1) / AL_LUA_GRAIN;
}

static void al_lua_small_free(al_lua_budget_t *b, void *p, size_t n)
{
    size_t c = al_lua_class(n);
    *(void **)p = b->free_blocks[c];
    b->free_blocks[c] = p;
}

static void *al_lua_small_alloc(al_lua_budget_t *b, size_t n)
{
    size_t c = al_lua_class(n), size = c * AL_LUA_GRAIN;
    void *p = b->free_blocks[c];
    if (p) {
        b->free_blocks[c] = *(void **)p;
        return p;
    }
    if ((size_t)(b->bump_end - b->bump) < size) {
        al_lua_slab_t *slab = malloc(sizeof *slab + AL_LUA_SLAB_SIZE);
        if (!slab)
            return NULL;
        size_t rest = (size_t)(b->bump_end - b->bump);
        if (rest >= AL_LUA_GRAIN) /* the old slab's tail: a block of its size */
            al_lua_small_free(b, b->bump, rest);
        slab->next = b->slabs;
        b->slabs = slab;
        b->slab_bytes += sizeof *slab + AL_LUA_SLAB_SIZE;
        b->bump = (char *)(slab + 1);
        b->bump_end = b->bump + AL_LUA_SLAB_SIZE;
    }
    p = b->bump;
    b->bump += size;
    return p;
}

/* Free b and its slabs (the first is b's own block). */
static void al_lua_free_slabs(al_lua_budget_t *b)
{
    for (al_lua_slab_t *s = b->slabs, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    free(b);
}

static void *al_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    al_lua_budget_t *b = ud;
    size_t old = ptr ? osize : 0;
    bool was_small = old > 0 && old <= AL_LUA_SMALL_MAX;
    if (nsize == 0) {
        if (was_small) {
            al_lua_small_free(b, ptr, old);
        } else if (ptr) {
            free(ptr);
            b->large -= old;
        }
        b->used -= old;
        return NULL;
    }
    /* Shrinking is never refused; growth is refused past the limit. */
    if (nsize > old && b->used - old + nsize > b->limit)
        return NULL;
    void *p;
    if (nsize <= AL_LUA_SMALL_MAX) {
        if (was_small && al_lua_class(old) == al_lua_class(nsize))
            p = ptr; /* same size class: the block fits already */
        else if ((p = al_lua_small_alloc(b, nsize)) && ptr) {
            memcpy(p, ptr, old < nsize ? old : nsize);
            if (was_small) {
                al_lua_small_free(b, ptr, old);
            } else {
                free(ptr);
                b->large -= old;
            }
        }
    } else if (was_small || !ptr) {
        if ((p = malloc(nsize)) && ptr) {
            memcpy(p, ptr, old);
            al_lua_small_free(b, ptr, old);
        }
        if (p)
            b->large += nsize;
    } else {
        if ((p = realloc(ptr, nsize)))
            b->large = b->large - old + nsize;
    }
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
    _Static_assert(sizeof(al_lua_budget_t) % AL_LUA_GRAIN == 0, "first slab alignment");
    al_lua_budget_t *b = malloc(sizeof *b + AL_LUA_FIRST_SLAB);
    if (!b)
        return NULL;
    *b = (al_lua_budget_t){.used = 0, .limit = SIZE_MAX, .slab_bytes = AL_LUA_FIRST_SLAB};
    b->bump = (char *)(b + 1);
    b->bump_end = b->bump + AL_LUA_FIRST_SLAB;
    lua_State *L = lua_newstate(al_lua_alloc, b);
    if (!L) { /* lua_newstate freed its blocks, not the slabs */
        al_lua_free_slabs(b);
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

size_t al_lua_alloc_footprint(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    return b ? b->large + b->slab_bytes : 0;
}

void al_lua_alloc_close(lua_State *L)
{
    al_lua_budget_t *b = al_lua_budget(L);
    lua_close(L); /* frees through the allocator, which still needs b */
    if (b)
        al_lua_free_slabs(b);
}
