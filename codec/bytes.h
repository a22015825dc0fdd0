/*
 * Bounds-checked byte readers and growable byte writers (big-endian).
 * Every read from untrusted data goes through NvcByteReader: a read past the
 * end sets `error`, returns zeros, and never touches memory beyond the end.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_BYTES_H
#define NVC_CODEC_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct NvcByteReader {
    const uint8_t *p, *end;
    int error; /* set once any read ran past the end */
} NvcByteReader;

static inline void nvc_br_init(NvcByteReader *br, const uint8_t *buf, size_t sz)
{
    br->p = buf;
    br->end = buf + sz;
    br->error = 0;
}

static inline size_t nvc_br_left(const NvcByteReader *br)
{
    return (size_t)(br->end - br->p);
}

/* Returns a pointer to n bytes and advances, or NULL (and sets error). */
static inline const uint8_t *nvc_br_bytes(NvcByteReader *br, size_t n)
{
    if (br->error || n > nvc_br_left(br)) {
        br->error = 1;
        br->p = br->end;
        return NULL;
    }
    const uint8_t *r = br->p;
    br->p += n;
    return r;
}

static inline uint8_t nvc_br_u8(NvcByteReader *br)
{
    const uint8_t *b = nvc_br_bytes(br, 1);
    return b ? b[0] : 0;
}

static inline uint16_t nvc_br_u16(NvcByteReader *br)
{
    const uint8_t *b = nvc_br_bytes(br, 2);
    return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static inline uint32_t nvc_br_u32(NvcByteReader *br)
{
    const uint8_t *b = nvc_br_bytes(br, 4);
    return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

static inline uint64_t nvc_br_u64(NvcByteReader *br)
{
    uint64_t hi = nvc_br_u32(br);
    return hi << 32 | nvc_br_u32(br);
}

typedef struct NvcByteWriter {
    uint8_t *buf;
    size_t sz, cap;
    int error; /* set once an allocation failed */
} NvcByteWriter;

/* Writers start zeroed ({0}); nvc_bw_free releases the buffer. */
int nvc_bw_reserve(NvcByteWriter *bw, size_t n);
void nvc_bw_bytes(NvcByteWriter *bw, const void *src, size_t n);
void nvc_bw_u8(NvcByteWriter *bw, unsigned v);
void nvc_bw_u16(NvcByteWriter *bw, unsigned v);
void nvc_bw_u32(NvcByteWriter *bw, uint32_t v);
void nvc_bw_u64(NvcByteWriter *bw, uint64_t v);
void nvc_bw_free(NvcByteWriter *bw);

#endif /* NVC_CODEC_BYTES_H */
