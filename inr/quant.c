/*
 * Quantisation of the decoder's weights (symmetric, one step per tensor)
 * and of HNeRV's embeddings (per channel, minimum and step), and IEEE half
 * precision for the stored embedding ranges.
 *
 * One uniform step per weight tensor: with entropy coding, a uniform
 * quantiser with one step size is close to optimal for the tensor's MSE
 * whatever the distribution (high-rate theory), the zero weight stays exact
 * (pruned weights cost little), and the side information is one float.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "inr/inr.h"

uint16_t inr_half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff, m = x & 0x7fffff;
    if (e == 0xff) /* inf, NaN */
        return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
    int exp = (int)e - 127 + 15;
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) { /* subnormal half (or zero) */
        if (exp < -10)
            return (uint16_t)sign;
        m |= 0x800000;
        int shift = 14 - exp;
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = (uint32_t)exp << 10 | m >> 13, rem = m & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* may carry into the exponent: still correct, up to inf */
    return (uint16_t)(sign | h);
}

float inr_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
    if (e == 0) {
        if (!m) {
            x = sign;
        } else { /* subnormal: normalise */
            int k = 0;
            while (!(m & 0x400))
                m <<= 1, k++;
            x = sign | (uint32_t)(127 - 15 - k + 1) << 23 | (m & 0x3ff) << 13;
        }
    } else if (e == 31) {
        x = sign | 0x7f800000 | m << 13;
    } else {
        x = sign | (e - 15 + 127) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

float inr_weight_step(const float *w, size_t n, int bits)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(w[i]));
    float step = m / (float)((1 << (bits - 1)) - 1);
    return step > 0.0f && isfinite(step) ? step : 1.0f;
}

void inr_quantize(const float *w, size_t n, float step, int bits, int32_t *q)
{
    const float inv = 1.0f / step, lim = (float)((1 << (bits - 1)) - 1);
    for (size_t i = 0; i < n; i++)
        q[i] = (int32_t)NVC_CLIP(rintf(w[i] * inv), -lim, lim);
}

void inr_dequantize(const int32_t *q, size_t n, float step, float *w)
{
    for (size_t i = 0; i < n; i++)
        w[i] = step * (float)q[i];
}

void inr_emb_quant_fit(InrEmbQuant *eq, const float *emb, int frames, int ch, int hw, int bits)
{
    memset(eq, 0, sizeof(*eq));
    eq->bits = bits;
    eq->ch = ch;
    const float levels = (float)((1 << bits) - 1);
    for (int c = 0; c < ch; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int f = 0; f < frames; f++)
            for (int i = 0; i < hw; i++) {
                float v = emb[((size_t)f * ch + c) * hw + i];
                lo = fminf(lo, v);
                hi = fmaxf(hi, v);
            }
        if (!(lo <= hi)) /* no frames or NaN */
            lo = hi = 0.0f;
        lo = NVC_CLIP(lo, -65504.0f, 65504.0f);
        hi = NVC_CLIP(hi, -65504.0f, 65504.0f);
        eq->min_h[c] = inr_half_from_float(lo);
        eq->min[c] = inr_half_to_float(eq->min_h[c]);
        float step = (hi - eq->min[c]) / levels;
        step = NVC_CLIP(step, 6.1035156e-05f, 65504.0f); /* the smallest normal half */
        eq->step_h[c] = inr_half_from_float(step);
        eq->step[c] = inr_half_to_float(eq->step_h[c]);
    }
}

void inr_emb_quantize(const InrEmbQuant *eq, const float *emb, int hw, int32_t *q)
{
    const float lim = (float)((1 << eq->bits) - 1);
    for (int c = 0; c < eq->ch; c++) {
        const float inv = 1.0f / eq->step[c];
        for (int i = 0; i < hw; i++)
            q[(size_t)c * hw + i] = (int32_t)NVC_CLIP(rintf((emb[(size_t)c * hw + i] - eq->min[c]) * inv), 0.0f, lim);
    }
}

void inr_emb_dequantize(const InrEmbQuant *eq, const int32_t *q, int hw, float *emb)
{
    for (int c = 0; c < eq->ch; c++)
        for (int i = 0; i < hw; i++)
            emb[(size_t)c * hw + i] = eq->min[c] + eq->step[c] * (float)q[(size_t)c * hw + i];
}
