/*
 * al_idmap.c — see al_idmap.h.
 */
#include <stdlib.h>
#include <string.h>

#include "al_idmap.h"

static uint32_t al__idmap_hash(uint64_t id, uint32_t cap)
{
    id *= 0x9E3779B97F4A7C15ull; /* Fibonacci hashing: sequential ids spread out */
    return (uint32_t)(id >> 32) & (cap - 1);
}

void al__idmap_free(al__idmap_t *m)
{
    free(m->keys);
    free(m->vals);
    *m = (al__idmap_t){0};
}

bool al__idmap_get(const al__idmap_t *m, uint64_t id, uint32_t *val)
{
    if (m->cap == 0 || id == 0)
        return false;
    for (uint32_t i = al__idmap_hash(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == id) {
            *val = m->vals[i];
            return true;
        }
        if (m->keys[i] == 0)
            return false;
    }
}

static bool al__idmap_grow(al__idmap_t *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return false;
    }
    for (uint32_t j = 0; j < m->cap; j++) {
        if (!m->keys[j])
            continue;
        uint32_t i = al__idmap_hash(m->keys[j], cap);
        while (keys[i])
            i = (i + 1) & (cap - 1);
        keys[i] = m->keys[j];
        vals[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return true;
}

bool al__idmap_put(al__idmap_t *m, uint64_t id, uint32_t val)
{
    if (id == 0)
        return false;
    if ((m->len + 1) * 4 > m->cap * 3 && !al__idmap_grow(m)) /* load <= 3/4 */
        return false;
    uint32_t i = al__idmap_hash(id, m->cap);
    while (m->keys[i] && m->keys[i] != id)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->len++;
    m->keys[i] = id;
    m->vals[i] = val;
    return true;
}

void al__idmap_del(al__idmap_t *m, uint64_t id)
{
    if (m->cap == 0 || id == 0)
        return;
    uint32_t mask = m->cap - 1, i = al__idmap_hash(id, m->cap);
    while (m->keys[i] != id) {
        if (!m->keys[i])
            return;
        i = (i + 1) & mask;
    }
    /* Backward shift: move later members of the probe run into the hole
     * when their home slot does not lie (cyclically) after the hole. */
    for (uint32_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        uint32_t home = al__idmap_hash(m->keys[j], m->cap);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
    m->len--;
}

bool al__idmap_clone(al__idmap_t *dst, const al__idmap_t *src)
{
    *dst = (al__idmap_t){0};
    if (src->cap == 0)
        return true;
    dst->keys = malloc(src->cap * sizeof *dst->keys);
    dst->vals = malloc(src->cap * sizeof *dst->vals);
    if (!dst->keys || !dst->vals) {
        al__idmap_free(dst);
        return false;
    }
    memcpy(dst->keys, src->keys, src->cap * sizeof *dst->keys);
    memcpy(dst->vals, src->vals, src->cap * sizeof *dst->vals);
    dst->cap = src->cap;
    dst->len = src->len;
    return true;
}
