/*
 * test_trace_corpus.c — the fuzzer's corpus (tests/fuzz/corpus/, see
 * tests/fuzz/make_corpus.c) read by every reader: at once, in chunks,
 * from the file, and written back (al_test_tracecheck.h). Nothing may break
 * the reader's promises, and the seeds give what their names say:
 *
 *   valid-*.trace                 code 0 and the end record
 *   open-*.trace                  code 0, no end record
 *   bad-<code>-<offset>-*.trace   that error at that byte offset
 *   anything else                 (damaged seeds, fuzzer finds) any code
 *
 * The folder is $AL_TRACE_CORPUS, else tests/fuzz/corpus under the current
 * directory or one of its parents (make test runs from the repo root).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "al_test_tracecheck.h"

#define MAX_FILES 4096

typedef struct {
    char dir[4096];
    char *names[MAX_FILES];
    size_t n;
} corpus_t;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void corpus_open(corpus_t *c)
{
    memset(c, 0, sizeof *c);
    const char *env = getenv("AL_TRACE_CORPUS");
    if (env && *env) {
        snprintf(c->dir, sizeof c->dir, "%s", env);
    } else {
        char up[64] = "";
        for (int i = 0; i < 5; i++) {
            snprintf(c->dir, sizeof c->dir, "%stests/fuzz/corpus", up);
            if (is_dir(c->dir))
                break;
            strcat(up, "../");
        }
    }
    DIR *d = opendir(c->dir);
    cr_assert_not_null(d, "corpus folder %s: %s (set AL_TRACE_CORPUS)", c->dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        cr_assert_lt(c->n, MAX_FILES, "more than %d files in the corpus", MAX_FILES);
        c->names[c->n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(c->names, c->n, sizeof c->names[0], by_name);
}

static void corpus_close(corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
}

static uint8_t *load(const corpus_t *c, const char *name, size_t *len, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0, got;
    uint8_t chunk[4096];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = realloc(buf, n + got);
        cr_assert_not_null(buf);
        memcpy(buf + n, chunk, got);
        n += got;
    }
    cr_assert(!ferror(f), "%s: read error", path);
    fclose(f);
    *len = n;
    return buf;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

Test(trace_corpus, every_file_keeps_the_readers_promises)
{
    corpus_t c;
    corpus_open(&c);
    for (size_t i = 0; i < c.n; i++) {
        char path[4200];
        size_t len;
        uint8_t *buf = load(&c, c.names[i], &len, path, sizeof path);
        tc_result_t res;
        const char *why = tc_check_bytes(buf, len, &res);
        cr_assert_null(why, "%s: %s", c.names[i], why);

        /* The file reader says the same as the memory reader. */
        tc_state_t *s = calloc(1, sizeof *s);
        tc_init(s);
        al_tracefile_error_t err;
        int rc = al_tracefile_read_file(path, tc_vt(), s, &err);
        cr_assert_eq(rc, res.code, "%s: read_file %d, read_mem %d", c.names[i], rc, res.code);
        cr_assert_eq(s->hash, res.hash, "%s: read_file delivered another stream", c.names[i]);
        cr_assert_eq(s->why[0], 0, "%s: read_file: %s", c.names[i], s->why);
        if (rc)
            cr_assert_eq(err.offset, res.err.offset, "%s", c.names[i]);
        free(s);
        free(buf);
    }
    corpus_close(&c);
}

Test(trace_corpus, valid_and_open_seeds_read_to_the_end)
{
    corpus_t c;
    corpus_open(&c);
    size_t valid = 0, open = 0;
    for (size_t i = 0; i < c.n; i++) {
        const char *name = c.names[i];
        bool v = has_prefix(name, "valid-"), o = has_prefix(name, "open-");
        if (!v && !o)
            continue;
        char path[4200];
        size_t len;
        uint8_t *buf = load(&c, name, &len, path, sizeof path);
        tc_result_t res;
        cr_assert_null(tc_check_bytes(buf, len, &res), "%s: %s", name, res.why);
        cr_assert_eq(res.code, 0, "%s: %s", name, res.err.message);
        cr_assert_eq(res.headers, 1, "%s", name);
        cr_assert_eq(res.ends, v ? 1 : 0, "%s: %d end records", name, res.ends);
        valid += v;
        open += o;
        free(buf);
    }
    cr_assert_geq(valid, 5, "only %zu valid-* seeds in %s", valid, c.dir);
    cr_assert_geq(open, 1, "no open-* seed in %s", c.dir);
    corpus_close(&c);
}

Test(trace_corpus, bad_seeds_give_their_error_at_their_offset)
{
    corpus_t c;
    corpus_open(&c);
    size_t counts[3] = {0};
    const char *codes[3] = {"truncated", "format", "version"};
    const int values[3] = {AL_ETRUNCATED, AL_EFORMAT, AL_EVERSION};
    for (size_t i = 0; i < c.n; i++) {
        const char *name = c.names[i];
        if (!has_prefix(name, "bad-"))
            continue;
        char code[16];
        uint64_t offset;
        int used = 0;
        cr_assert_eq(sscanf(name, "bad-%15[a-z]-%" SCNu64 "-%n", code, &offset, &used), 2,
                     "%s: not bad-<code>-<offset>-<what>.trace", name);
        cr_assert_gt(used, 0, "%s: not bad-<code>-<offset>-<what>.trace", name);
        int k = 0;
        while (k < 3 && strcmp(code, codes[k]) != 0)
            k++;
        cr_assert_lt(k, 3, "%s: unknown code \"%s\"", name, code);
        char path[4200];
        size_t len;
        uint8_t *buf = load(&c, name, &len, path, sizeof path);
        tc_result_t res;
        cr_assert_null(tc_check_bytes(buf, len, &res), "%s: %s", name, res.why);
        cr_assert_eq(res.code, values[k], "%s: got %d (%s)", name, res.code, res.err.message);
        cr_assert_eq(res.err.offset, offset, "%s: %s", name, res.err.message);
        cr_assert(len == 0 ? offset == 0 : offset < len, "%s: offset %" PRIu64 " of %zu", name,
                  offset, len);
        counts[k]++;
        free(buf);
    }
    cr_assert_geq(counts[0], 5, "%zu bad-truncated-* seeds", counts[0]);
    cr_assert_geq(counts[1], 20, "%zu bad-format-* seeds", counts[1]);
    cr_assert_geq(counts[2], 2, "%zu bad-version-* seeds", counts[2]);
    corpus_close(&c);
}

/* ---- regressions: reader bugs found by fuzzing and review ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

/* The header's interval and pool-size fields are 32-bit: the reader used to
 * cut a larger value down to its low 32 bits and go on. */
Test(trace_corpus, header_fields_above_32_bits_are_damage)
{
    for (int field = 3; field <= 5; field++) {
        for (int over = 0; over <= 1; over++) {
            uint8_t buf[128];
            size_t n = 0;
            memcpy(buf, "ALTRACE", 8);
            n = 8;
            const uint64_t f[8] = {1, 2, 0, 61, 61, 512, 1000, 2000};
            for (int i = 0; i < 8; i++)
                n += put_varint(buf + n, i == field ? UINT32_MAX + (uint64_t)over : f[i]);
            buf[n++] = 0xff;
            tc_result_t res;
            cr_assert_null(tc_check_bytes(buf, n, &res), "field %d: %s", field, res.why);
            if (!over) {
                cr_assert_eq(res.code, 0, "field %d = 2^32-1: %s", field, res.err.message);
                cr_assert_eq(res.ends, 1);
                continue;
            }
            cr_assert_eq(res.code, AL_EFORMAT, "field %d = 2^32: %d", field, res.code);
            cr_assert_eq(res.err.offset, 8, "%s", res.err.message);
            cr_assert(strstr(res.err.message, "impossible runtime in the header"), "%s",
                      res.err.message);
            cr_assert_eq(res.headers, 0, "no header delivered");
        }
    }
}
