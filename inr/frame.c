/*
 * Pictures <-> the network's planes. The network works on 3 full-size
 * channels in [0, 1] (samples / (2^bpc - 1)) in the source's own colour
 * space (Y, Cb, Cr or R, G, B); 4:2:0 chroma is upsampled (nearest) for the
 * encoder's input and the network's chroma outputs are 2x2 averaged for
 * the picture, exactly as the training loss sees them. Padding: edge
 * replication up to the padded size.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>

#include "codec/internal.h"
#include "inr/inr.h"

static inline float sample_at(const NvcPicture *pic, int plane, int x, int y)
{
    const uint8_t *row = (const uint8_t *)pic->data[plane] + (ptrdiff_t)y * pic->stride[plane];
    return pic->p.bpc == 8 ? (float)row[x] : (float)((const uint16_t *)row)[x];
}

void inr_picture_to_planes(const NvcPicture *pic, float *dst, int H, int W)
{
    const float inv = 1.0f / (float)((1 << pic->p.bpc) - 1);
    const int planes = nvc_picture_planes(pic->p.layout);
    const int sub = pic->p.layout == NVC_PIXEL_LAYOUT_I420;
    for (int c = 0; c < 3; c++) {
        float *d = dst + (size_t)c * H * W;
        if (c >= planes) { /* gray: neutral chroma, never in the loss */
            for (size_t i = 0; i < (size_t)H * W; i++)
                d[i] = 0.5f;
            continue;
        }
        int pw, ph;
        nvc_picture_plane_size(&pic->p, c, &pw, &ph);
        const int sh = c && sub;
        for (int y = 0; y < H; y++) {
            int sy = NVC_MIN(y >> sh, ph - 1);
            for (int x = 0; x < W; x++)
                d[(size_t)y * W + x] = sample_at(pic, c, NVC_MIN(x >> sh, pw - 1), sy) * inv;
        }
    }
}

static inline void put_sample(NvcPicture *pic, int plane, int x, int y, float v)
{
    const float peak = (float)((1 << pic->p.bpc) - 1);
    /* NaN (a hostile model can produce it) becomes 0, as the comparisons are false */
    float s = rintf((v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f) * peak);
    uint8_t *row = (uint8_t *)pic->data[plane] + (ptrdiff_t)y * pic->stride[plane];
    if (pic->p.bpc == 8)
        row[x] = (uint8_t)s;
    else
        ((uint16_t *)row)[x] = (uint16_t)s;
}

void inr_planes_to_picture(const float *src, int H, int W, NvcPicture *pic)
{
    const int planes = nvc_picture_planes(pic->p.layout);
    const int sub = pic->p.layout == NVC_PIXEL_LAYOUT_I420;
    for (int c = 0; c < planes; c++) {
        const float *s = src + (size_t)c * H * W;
        int pw, ph;
        nvc_picture_plane_size(&pic->p, c, &pw, &ph);
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                float v;
                if (c && sub) { /* the padded size is even: the 2x2 block is inside */
                    const float *r0 = s + (size_t)(2 * y) * W + 2 * x, *r1 = r0 + W;
                    v = ((r0[0] + r0[1]) + (r1[0] + r1[1])) * 0.25f;
                } else {
                    v = s[(size_t)y * W + x];
                }
                put_sample(pic, c, x, y, v);
            }
    }
}
