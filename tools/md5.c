/*
 * MD5, written from RFC 1321 (section 3): 64-byte blocks, four rounds of
 * sixteen operations, little-endian words and length.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "tools/md5.h"

/* T[i] = floor(2^32 * |sin(i + 1)|) (RFC 1321, 3.4) */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Rotation of each operation, per round. */
static const uint8_t md5_s[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 } };

static inline uint32_t rotl(uint32_t x, int n)
{
    return x << n | x >> (32 - n);
}

static void md5_block(uint32_t h[4], const uint8_t *p)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        const int round = i >> 4;
        uint32_t f;
        int k;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;               /* F */
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) & 15; break; /* G */
        case 2: f = b ^ c ^ d; k = (3 * i + 5) & 15; break;          /* H */
        default: f = c ^ (b | ~d); k = (7 * i) & 15; break;          /* I */
        }
        const uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + x[k] + md5_t[i], md5_s[round][i & 3]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void tool_md5_init(ToolMd5 *m)
{
    m->h[0] = 0x67452301;
    m->h[1] = 0xefcdab89;
    m->h[2] = 0x98badcfe;
    m->h[3] = 0x10325476;
    m->len = 0;
}

void tool_md5_update(ToolMd5 *m, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t used = (size_t)(m->len & 63);
    m->len += n;
    if (used) {
        size_t take = 64 - used < n ? 64 - used : n;
        memcpy(m->buf + used, p, take);
        p += take;
        n -= take;
        if (used + take < 64)
            return;
        md5_block(m->h, m->buf);
    }
    for (; n >= 64; p += 64, n -= 64)
        md5_block(m->h, p);
    memcpy(m->buf, p, n);
}

void tool_md5_final(ToolMd5 *m, uint8_t digest[16])
{
    const uint64_t bits = m->len * 8;
    uint8_t pad[72] = { 0x80 };
    size_t used = (size_t)(m->len & 63);
    size_t padlen = (used < 56 ? 56 : 120) - used; /* to 56 mod 64 */
    for (int i = 0; i < 8; i++)
        pad[padlen + i] = (uint8_t)(bits >> (8 * i));
    tool_md5_update(m, pad, padlen + 8);
    for (int i = 0; i < 16; i++)
        digest[i] = (uint8_t)(m->h[i >> 2] >> (8 * (i & 3)));
}

void tool_md5_hex(const uint8_t digest[16], char hex[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[32] = 0;
}

int tool_md5_update_picture(ToolMd5 *m, const NvcPicture *pic)
{
    const int wide = pic->p.bpc > 8;
    uint8_t *row = NULL;
    for (int i = 0; i < nvc_picture_planes(pic->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&pic->p, i, &w, &h);
        if (wide && !row && !(row = malloc((size_t)pic->p.w * 2))) /* the widest plane */
            return NVC_ERR(ENOMEM);
        for (int y = 0; y < h; y++) {
            const uint8_t *src = (const uint8_t *)pic->data[i] + (ptrdiff_t)y * pic->stride[i];
            if (!wide) {
                tool_md5_update(m, src, (size_t)w);
                continue;
            }
            const uint16_t *s16 = (const uint16_t *)src;
            for (int x = 0; x < w; x++) { /* little-endian whatever the host */
                row[2 * x] = (uint8_t)s16[x];
                row[2 * x + 1] = (uint8_t)(s16[x] >> 8);
            }
            tool_md5_update(m, row, (size_t)w * 2);
        }
    }
    free(row);
    return 0;
}
