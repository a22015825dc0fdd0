/*
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>

#include "codec/bytes.h"

int nvc_bw_reserve(NvcByteWriter *bw, size_t n)
{
    if (bw->error)
        return -1;
    if (n <= bw->cap - bw->sz)
        return 0;
    if (n > SIZE_MAX / 2 - bw->sz) {
        bw->error = 1;
        return -1;
    }
    size_t cap = bw->cap ? bw->cap : 64;
    while (cap - bw->sz < n)
        cap *= 2;
    uint8_t *buf = realloc(bw->buf, cap);
    if (!buf) {
        bw->error = 1;
        return -1;
    }
    bw->buf = buf;
    bw->cap = cap;
    return 0;
}

void nvc_bw_bytes(NvcByteWriter *bw, const void *src, size_t n)
{
    if (!n || nvc_bw_reserve(bw, n))
        return;
    memcpy(bw->buf + bw->sz, src, n);
    bw->sz += n;
}

void nvc_bw_u8(NvcByteWriter *bw, unsigned v)
{
    uint8_t b = (uint8_t)v;
    nvc_bw_bytes(bw, &b, 1);
}

void nvc_bw_u16(NvcByteWriter *bw, unsigned v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    nvc_bw_bytes(bw, b, 2);
}

void nvc_bw_u32(NvcByteWriter *bw, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    nvc_bw_bytes(bw, b, 4);
}

void nvc_bw_u64(NvcByteWriter *bw, uint64_t v)
{
    nvc_bw_u32(bw, (uint32_t)(v >> 32));
    nvc_bw_u32(bw, (uint32_t)v);
}

void nvc_bw_free(NvcByteWriter *bw)
{
    free(bw->buf);
    *bw = (NvcByteWriter){ 0 };
}
