/*
 * al_idmap.h — a hash map from 64-bit ids (never 0) to 32-bit slot numbers:
 * open addressing, linear probing, deletion by backward shift (no
 * tombstones, so a long run with churn never degrades). Used by the console
 * model to find tasks and resources by id. Not thread-safe.
 */
#ifndef AL_IDMAP_H
#define AL_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct al__idmap {
    uint64_t *keys; /* 0: empty */
    uint32_t *vals;
    uint32_t cap, len; /* cap: a power of two */
} al__idmap_t;

void al__idmap_free(al__idmap_t *m);
/* The slot for id, or false. */
bool al__idmap_get(const al__idmap_t *m, uint64_t id, uint32_t *val);
/* Insert or replace. False when out of memory. */
bool al__idmap_put(al__idmap_t *m, uint64_t id, uint32_t val);
void al__idmap_del(al__idmap_t *m, uint64_t id);
/* dst becomes an independent copy of src (dst's old contents are not freed).
 * False when out of memory (dst is then empty). */
bool al__idmap_clone(al__idmap_t *dst, const al__idmap_t *src);

#endif
