/*
 * al_test_tracespec.h — a second trace reader, written from
 * docs/trace-format.md alone (not from core/src/al_tracefile_read.c), for
 * differential testing: the fuzzer and the corpus test check that both
 * readers deliver the same stream and report the same code at the same
 * offset (al_test_tracecheck.h). A difference is a bug in the reader or in
 * the document.
 *
 * Whole input only, one event per on_events call, no messages; not
 * reentrant (the defined-threads bitmap is static).
 */
#ifndef AL_TEST_TRACESPEC_H
#define AL_TEST_TRACESPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "al_error.h"
#include "al_event.h"
#include "al_stream.h"

/* 1: *v read, *pos past it; 0: the input ends first; -1: malformed. */
static inline int tcs_varint(const uint8_t *b, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        if (*pos + i >= len)
            return 0;
        uint8_t c = b[*pos + i];
        if (i == 9) {
            if (c > 1)
                return -1; /* a 65th bit, or an 11th byte */
            x |= (uint64_t)c << 63;
        } else {
            x |= (uint64_t)(c & 0x7f) << (7 * i);
            if (c & 0x80)
                continue;
        }
        *pos += i + 1;
        *v = x;
        return 1;
    }
    return -1; /* not reached */
}

static inline int64_t tcs_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Read the whole of [b, b + len) into the consumer; the code, and in *offset
 * where the damage is (0 on success). */
static inline int tcs_read(const uint8_t *b, size_t len, const al_stream_consumer_t *c, void *self,
                           uint64_t *offset)
{
    static uint8_t defined[65536 / 8];
    memset(defined, 0, sizeof defined);
    *offset = 0;
#define TCS_FAIL(code, at)                                                                         \
    do {                                                                                           \
        *offset = (at);                                                                            \
        return (code);                                                                             \
    } while (0)
#define TCS_NUM(var, start)                                                                        \
    do {                                                                                           \
        size_t at_ = pos;                                                                          \
        int rc_ = tcs_varint(b, len, &pos, &(var));                                                \
        if (rc_ == 0)                                                                              \
            TCS_FAIL(AL_ETRUNCATED, (start));                                                      \
        if (rc_ < 0)                                                                               \
            TCS_FAIL(AL_EFORMAT, at_);                                                             \
    } while (0)

    /* The header. */
    static const uint8_t magic[8] = {0x41, 0x4c, 0x54, 0x52, 0x41, 0x43, 0x45, 0x00};
    if (len < 8) {
        if (len && memcmp(b, magic, len) != 0)
            TCS_FAIL(AL_EFORMAT, 0);
        TCS_FAIL(AL_ETRUNCATED, 0);
    }
    if (memcmp(b, magic, 8) != 0)
        TCS_FAIL(AL_EFORMAT, 0);
    size_t pos = 8;
    uint64_t h[8];
    for (int i = 0; i < 8; i++) {
        TCS_NUM(h[i], 0);
        if (i == 0 && h[0] == 0)
            TCS_FAIL(AL_EFORMAT, 8);
        if (i == 0 && h[0] > 2)
            TCS_FAIL(AL_EVERSION, 8);
    }
    if (h[1] < 1 || h[1] > 1024 || h[2] > 1 || h[3] > UINT32_MAX || h[4] > UINT32_MAX ||
        h[5] > UINT32_MAX)
        TCS_FAIL(AL_EFORMAT, 8);
    al_stream_header_t hd = {(uint32_t)h[0], (uint32_t)h[1], (uint32_t)h[2], (uint32_t)h[3],
                             (uint32_t)h[4], (uint32_t)h[5], h[6],           h[7]};
    c->on_header(self, &hd);

    /* Event kinds: 42 in version 1, 45 in version 2 (the lesson hooks). */
    const unsigned kinds = h[0] == 1 ? 42 : 45;
    uint64_t prev_ts = h[6], prev_task = 0, prev_thread = 0, strings = 0;
    int64_t prev_worker = -1;
    bool ended = false;
    while (pos < len) {
        size_t start = pos;
        uint8_t type = b[pos++];
        if (ended)
            TCS_FAIL(AL_EFORMAT, start);
        if (type <= 0x3f) {
            if (type >= kinds)
                TCS_FAIL(AL_EFORMAT, start);
            if (pos >= len)
                TCS_FAIL(AL_ETRUNCATED, start);
            uint8_t flags = b[pos++];
            if (flags & 0xc0)
                TCS_FAIL(AL_EFORMAT, start + 1);
            uint64_t dt, v[6] = {0};
            TCS_NUM(dt, start);
            for (int f = 0; f < 6; f++)
                if (flags & (1u << f))
                    TCS_NUM(v[f], start);
            uint64_t thread = (flags & 0x01) ? v[0] : prev_thread;
            int64_t worker = (flags & 0x02) ? tcs_unzigzag(v[1]) : prev_worker;
            if (thread > 65535 || !(defined[thread / 8] & (1u << (thread % 8))))
                TCS_FAIL(AL_EFORMAT, start);
            if (worker < -1 || worker > 1023)
                TCS_FAIL(AL_EFORMAT, start);
            if (v[5] > strings)
                TCS_FAIL(AL_EFORMAT, start);
            if (prev_ts + dt < prev_ts)
                TCS_FAIL(AL_EFORMAT, start);
            prev_ts += dt;
            prev_thread = thread;
            prev_worker = worker;
            uint64_t task = 0;
            if (flags & 0x04) {
                prev_task += (uint64_t)tcs_unzigzag(v[2]);
                task = prev_task;
            }
            al_trace_event_t e = {.ts_ns = prev_ts,
                                  .task = task,
                                  .a = v[3],
                                  .b = v[4],
                                  .str = (uint32_t)v[5],
                                  .kind = type,
                                  .thread = (uint16_t)thread,
                                  .worker = (int16_t)worker};
            c->on_events(self, &e, 1);
            continue;
        }
        switch (type) {
        case 0xf0: {
            uint64_t id, wz, n;
            TCS_NUM(id, start);
            if (pos >= len)
                TCS_FAIL(AL_ETRUNCATED, start);
            uint8_t kind = b[pos++];
            TCS_NUM(wz, start);
            TCS_NUM(n, start);
            int64_t worker = tcs_unzigzag(wz);
            if (id > 65535 || kind > 2 || n > 256 || worker < -1 || worker > 1023)
                TCS_FAIL(AL_EFORMAT, start);
            if (len - pos < n)
                TCS_FAIL(AL_ETRUNCATED, start);
            char name[257];
            memcpy(name, b + pos, (size_t)n);
            name[n] = 0;
            pos += (size_t)n;
            defined[id / 8] |= (uint8_t)(1u << (id % 8));
            c->on_thread(self, (uint16_t)id, name, (al_thread_kind_t)kind, (int16_t)worker);
            break;
        }
        case 0xf1: {
            static char s[65537];
            uint64_t id, n;
            TCS_NUM(id, start);
            TCS_NUM(n, start);
            if (id != strings + 1 || id > (1u << 24) || n > 65536)
                TCS_FAIL(AL_EFORMAT, start);
            if (len - pos < n)
                TCS_FAIL(AL_ETRUNCATED, start);
            memcpy(s, b + pos, (size_t)n);
            s[n] = 0;
            pos += (size_t)n;
            strings++;
            c->on_string(self, (uint32_t)id, s, (size_t)n);
            break;
        }
        case 0xf2: {
            uint64_t thread, total;
            TCS_NUM(thread, start);
            TCS_NUM(total, start);
            if (thread > 65535)
                TCS_FAIL(AL_EFORMAT, start);
            c->on_drops(self, (uint16_t)thread, total);
            break;
        }
        case 0xff:
            ended = true;
            c->on_end(self);
            break;
        default:
            TCS_FAIL(AL_EFORMAT, start);
        }
    }
    return 0;
#undef TCS_NUM
#undef TCS_FAIL
}

#endif
