/*
 * LayerNorm over channels (NCHW, ConvNeXt's "channels_first") on the CPU.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"

/* Pixels per unit of work: channel loops run over a row of this many. */
#define LN_PIX 256

void nvc_layernorm_forward(NvcNn *nn, float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int B, int C, int HW, float eps)
{
    if (B <= 0 || C <= 0 || HW <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "layernorm: bad shape B=%d C=%d HW=%d", B, C, HW);
        return;
    }
    const int nb = (HW + LN_PIX - 1) / LN_PIX;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * nb; u++) {
        int b = u / nb, p0 = u % nb * LN_PIX, n = NVC_MIN(LN_PIX, HW - p0);
        const float *x = inp + (size_t)b * C * HW + p0;
        float *y = out + (size_t)b * C * HW + p0;
        float *mu = mean + (size_t)b * HW + p0, *rs = rstd + (size_t)b * HW + p0;
        float s[LN_PIX], v[LN_PIX];
        memset(s, 0, sizeof(s));
        memset(v, 0, sizeof(v));
        for (int c = 0; c < C; c++)
            #pragma omp simd
            for (int i = 0; i < n; i++)
                s[i] += x[(size_t)c * HW + i];
        #pragma omp simd
        for (int i = 0; i < n; i++)
            mu[i] = s[i] / (float)C;
        for (int c = 0; c < C; c++)
            #pragma omp simd
            for (int i = 0; i < n; i++) {
                float d = x[(size_t)c * HW + i] - mu[i];
                v[i] += d * d;
            }
        #pragma omp simd
        for (int i = 0; i < n; i++)
            rs[i] = 1.0f / sqrtf(v[i] / (float)C + eps);
        for (int c = 0; c < C; c++) {
            float w = weight ? weight[c] : 1.0f, bb = bias ? bias[c] : 0.0f;
            #pragma omp simd
            for (int i = 0; i < n; i++)
                y[(size_t)c * HW + i] = (x[(size_t)c * HW + i] - mu[i]) * rs[i] * w + bb;
        }
    }
}

static void ln_backward_input(NvcNn *nn, const float *dout, const float *inp, const float *weight, const float *mean,
                              const float *rstd, float *dinp, int B, int C, int HW)
{
    const int nb = (HW + LN_PIX - 1) / LN_PIX;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * nb; u++) {
        int b = u / nb, p0 = u % nb * LN_PIX, n = NVC_MIN(LN_PIX, HW - p0);
        size_t off = (size_t)b * C * HW + p0;
        const float *x = inp + off, *dy = dout + off, *mu = mean + (size_t)b * HW + p0;
        const float *rs = rstd + (size_t)b * HW + p0;
        float *dx = dinp + off;
        float m1[LN_PIX], m2[LN_PIX]; /* mean of dnorm, mean of dnorm * xhat */
        memset(m1, 0, sizeof(m1));
        memset(m2, 0, sizeof(m2));
        for (int c = 0; c < C; c++) {
            float w = weight ? weight[c] : 1.0f;
            #pragma omp simd
            for (int i = 0; i < n; i++) {
                float dn = dy[(size_t)c * HW + i] * w, xh = (x[(size_t)c * HW + i] - mu[i]) * rs[i];
                m1[i] += dn;
                m2[i] += dn * xh;
            }
        }
        #pragma omp simd
        for (int i = 0; i < n; i++)
            m1[i] /= (float)C, m2[i] /= (float)C;
        for (int c = 0; c < C; c++) {
            float w = weight ? weight[c] : 1.0f;
            #pragma omp simd
            for (int i = 0; i < n; i++) {
                float dn = dy[(size_t)c * HW + i] * w, xh = (x[(size_t)c * HW + i] - mu[i]) * rs[i];
                dx[(size_t)c * HW + i] += rs[i] * (dn - m1[i] - xh * m2[i]);
            }
        }
    }
}

void nvc_layernorm_backward(NvcNn *nn, const float *dout, const float *inp, const float *weight, const float *mean,
                            const float *rstd, float *dinp, float *dweight, float *dbias, int B, int C, int HW)
{
    if (B <= 0 || C <= 0 || HW <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "layernorm: bad shape B=%d C=%d HW=%d", B, C, HW);
        return;
    }
    if (dinp)
        ln_backward_input(nn, dout, inp, weight, mean, rstd, dinp, B, C, HW);
    if (!dweight && !dbias)
        return;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int c = 0; c < C; c++) {
        /* 8 running sums (positions mod 8: one vector of doubles), then a fixed tree */
        double sw8[8] = { 0 }, sb8[8] = { 0 };
        for (int b = 0; b < B; b++) {
            const float *x = inp + ((size_t)b * C + c) * HW, *dy = dout + ((size_t)b * C + c) * HW;
            const float *mu = mean + (size_t)b * HW, *rs = rstd + (size_t)b * HW;
            int i = 0;
            for (; i + 8 <= HW; i += 8)
                for (int l = 0; l < 8; l++) {
                    sw8[l] += (double)dy[i + l] * ((x[i + l] - mu[i + l]) * rs[i + l]);
                    sb8[l] += dy[i + l];
                }
            for (int l = 0; i < HW; i++, l++) {
                sw8[l] += (double)dy[i] * ((x[i] - mu[i]) * rs[i]);
                sb8[l] += dy[i];
            }
        }
        for (int w = 4; w; w /= 2)
            for (int l = 0; l < w; l++)
                sw8[l] += sw8[l + w], sb8[l] += sb8[l + w];
        const double sw = sw8[0], sb = sb8[0];
        if (dweight)
            dweight[c] += (float)sw;
        if (dbias)
            dbias[c] += (float)sb;
    }
}
