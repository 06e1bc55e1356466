/*
 * al_tracefile_codec.h — private to the asynclab core: the byte-level pieces
 * shared by the trace writer and reader (docs/trace-format.md).
 */
#ifndef AL_TRACEFILE_CODEC_H
#define AL_TRACEFILE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define AL__TF_MAGIC "ALTRACE\0"
#define AL__TF_MAGIC_LEN 8

/* Record types (the first byte of a record). Event records use the event
 * kind itself (0..AL__TF_MAX_KIND). */
#define AL__TF_MAX_KIND 0x3f
#define AL__TF_THREAD 0xf0
#define AL__TF_STRING 0xf1
#define AL__TF_DROPS 0xf2
#define AL__TF_END 0xff

/* Event record flags (the second byte). */
#define AL__TF_F_THREAD 0x01 /* varint thread follows (else: as the previous event) */
#define AL__TF_F_WORKER 0x02 /* zigzag worker follows (else: as the previous event) */
#define AL__TF_F_TASK 0x04   /* zigzag (task - previous task) follows (else task = 0) */
#define AL__TF_F_A 0x08      /* varint a follows (else 0) */
#define AL__TF_F_B 0x10      /* varint b follows (else 0) */
#define AL__TF_F_STR 0x20    /* varint string id follows (else 0) */
#define AL__TF_F_KNOWN 0x3f

/* Limits a reader enforces (hostile input must not make it allocate more). */
#define AL__TF_MAX_STRING 65536u
#define AL__TF_MAX_NAME 256u
#define AL__TF_MAX_THREADS 65536u
#define AL__TF_MAX_STRINGS (1u << 24)

static inline size_t al__tf_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t al__tf_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t al__tf_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Decode a varint from [*p, end). 1 on success, 0 if the input ends first,
 * -1 if it is malformed (more than 10 bytes, or bits beyond 64). */
static inline int al__tf_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if ((size_t)(end - *p) <= i) /* no pointer beyond end, even transiently */
            return 0;
        uint8_t b = (*p)[i];
        if (i == 9 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *p += i + 1;
            *out = v;
            return 1;
        }
    }
    return -1;
}

#endif
