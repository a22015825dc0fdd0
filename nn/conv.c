/*
 * conv2d and linear on the CPU: im2col by tiles of output positions + SGEMM,
 * a direct path for depthwise convolutions, and register-blocked direct
 * kernels (conv_direct.c) for the stride-1 forward convs with K > 1 and the
 * input gradients computed as such convs.
 *
 * Threads only ever share work at fixed boundaries that depend on the shapes,
 * never on the thread count, and every gradient element is accumulated by
 * one thread in a fixed order, so the results are the same bits for any
 * number of threads:
 * - forward: units (image, group, tile of output positions);
 * - backward: units (group, block of input channels); each loops over images
 *   and tiles in order, computing the weight gradient of its columns and the
 *   input gradient of its channels (col2im never crosses a block); with
 *   stride 1 and no more outputs than inputs the input gradient is instead
 *   a forward conv of dout with flipped weights (a gather, units as forward);
 * - bias gradient: one unit per output channel;
 * - depthwise convs: direct loops, units of output rows (forward), input
 *   planes (input gradient), weights (weight gradient).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/vmath.h"

typedef struct Conv {
    int B, Cin, H, W, Cout, K, s, pad, G;
    int Ho, Wo, cin_g, cout_g, kk, kdim;
    size_t hw, howo;
    int pointwise; /* 1x1, stride 1, no padding: the input is the GEMM operand */
} Conv;

static int conv_setup(NvcNn *nn, Conv *c, int B, int Cin, int H, int W, int Cout, int K, int stride, int pad,
                      int groups)
{
    if (B <= 0 || Cin <= 0 || H <= 0 || W <= 0 || Cout <= 0 || K <= 0 || stride <= 0 || pad < 0 || groups <= 0 ||
        Cin % groups || Cout % groups || pad >= K || H + 2 * pad < K || W + 2 * pad < K)
        return nvc_nn_fail(nn, NVC_ERR(EINVAL), "conv2d: bad shape B=%d Cin=%d H=%d W=%d Cout=%d K=%d s=%d p=%d g=%d",
                           B, Cin, H, W, Cout, K, stride, pad, groups);
    c->B = B, c->Cin = Cin, c->H = H, c->W = W, c->Cout = Cout, c->K = K, c->s = stride, c->pad = pad;
    c->G = groups;
    c->Ho = (H + 2 * pad - K) / stride + 1;
    c->Wo = (W + 2 * pad - K) / stride + 1;
    c->cin_g = Cin / groups;
    c->cout_g = Cout / groups;
    c->kk = K * K;
    c->hw = (size_t)H * W;
    c->howo = (size_t)c->Ho * c->Wo;
    if ((size_t)c->cin_g * c->kk > INT_MAX / 2 || c->hw > INT_MAX / 2)
        return nvc_nn_fail(nn, NVC_ERR(ERANGE), "conv2d: tensor too large");
    c->kdim = c->cin_g * c->kk;
    c->pointwise = K == 1 && stride == 1 && pad == 0;
    return 0;
}

/* Output positions per tile: about 128K floats of patches. */
static int tile_cols(const Conv *c, int rows)
{
    int t = (131072 / NVC_MAX(rows, 1)) & ~63;
    t = NVC_CLIP(t, 64, 4096);
    return (int)NVC_MIN((size_t)t, c->howo);
}

/* Valid t range of ix = ix0 + t*s inside [0, W): [*lo, *hi) within [0, len). */
static inline void valid_range(int ix0, int s, int W, int len, int *lo, int *hi)
{
    int l = ix0 >= 0 ? 0 : (-ix0 + s - 1) / s;
    int h = ix0 >= W ? 0 : (W - 1 - ix0) / s + 1;
    l = NVC_MIN(l, len);
    h = NVC_CLIP(h, l, len);
    *lo = l, *hi = h;
}

/* col (nc*K*K, n) = patches of channels [c0, c0 + nc) of x (cin, H, W) at output positions p0..p0+n */
static void im2col(float *col, const float *x, const Conv *c, int c0, int nc, size_t p0, int n)
{
    const int K = c->K, s = c->s, Wo = c->Wo;
    for (int r = 0; r < nc * c->kk; r++) {
        int ci = r / c->kk, ky = r / K % K, kx = r % K;
        const float *xc = x + (size_t)(c0 + ci) * c->hw;
        float *dst = col + (size_t)r * n;
        int oy = (int)(p0 / Wo), ox = (int)(p0 % Wo);
        for (int j = 0; j < n; oy++, ox = 0) {
            int len = NVC_MIN(Wo - ox, n - j), iy = oy * s - c->pad + ky;
            float *d = dst + j;
            j += len;
            if (iy < 0 || iy >= c->H) {
                memset(d, 0, (size_t)len * sizeof(float));
                continue;
            }
            int ix0 = ox * s - c->pad + kx, lo, hi;
            const float *row = xc + (size_t)iy * c->W + ix0;
            valid_range(ix0, s, c->W, len, &lo, &hi);
            memset(d, 0, (size_t)lo * sizeof(float));
            if (s == 1)
                memcpy(d + lo, row + lo, (size_t)(hi - lo) * sizeof(float));
            else
                for (int t = lo; t < hi; t++)
                    d[t] = row[t * s];
            memset(d + hi, 0, (size_t)(len - hi) * sizeof(float));
        }
    }
}

/* dx (channels [c0, c0 + nc)) += col2im(dcol (nc*K*K, n)) */
static void col2im(float *dx, const float *dcol, const Conv *c, int c0, int nc, size_t p0, int n)
{
    const int K = c->K, s = c->s, Wo = c->Wo;
    for (int r = 0; r < nc * c->kk; r++) {
        int ci = r / c->kk, ky = r / K % K, kx = r % K;
        float *xc = dx + (size_t)(c0 + ci) * c->hw;
        const float *src = dcol + (size_t)r * n;
        int oy = (int)(p0 / Wo), ox = (int)(p0 % Wo);
        for (int j = 0; j < n; oy++, ox = 0) {
            int len = NVC_MIN(Wo - ox, n - j), iy = oy * s - c->pad + ky;
            const float *sp = src + j;
            j += len;
            if (iy < 0 || iy >= c->H)
                continue;
            int ix0 = ox * s - c->pad + kx, lo, hi;
            float *row = xc + (size_t)iy * c->W + ix0;
            valid_range(ix0, s, c->W, len, &lo, &hi);
            if (s == 1)
                for (int t = lo; t < hi; t++)
                    row[t] += sp[t];
            else
                for (int t = lo; t < hi; t++)
                    row[t * s] += sp[t];
        }
    }
}

/* ---- direct loops for depthwise convs (GEMMs of one input channel run far
 * below the machine's peak; row-wise multiply-adds stay in cache) ------------------------------ */

/* Output rows per forward unit. */
#define DIRECT_ROWS 8

/* y (n) += w * x at stride s over [lo, hi) */
static inline void row_axpy(float *y, const float *x, float w, int s, int lo, int hi)
{
    if (s == 1) {
#pragma omp simd
        for (int t = lo; t < hi; t++)
            y[t] += w * x[t];
    } else {
        for (int t = lo; t < hi; t++)
            y[t] += w * x[t * s];
    }
}

/* output rows [r0, r1) of channel co of image b */
NVC_VEC_CLONES static void direct_forward_unit(float *out, const float *inp, const float *weight, const float *bias,
                                               const Conv *c, int b, int co, int r0, int r1)
{
    const int K = c->K, s = c->s, Wo = c->Wo, ci0 = co / c->cout_g * c->cin_g;
    float *y = out + ((size_t)b * c->Cout + co) * c->howo;
    float b0 = bias ? bias[co] : 0.0f;
    for (int oy = r0; oy < r1; oy++) {
        float *yr = y + (size_t)oy * Wo;
        for (int t = 0; t < Wo; t++)
            yr[t] = b0;
        for (int cl = 0; cl < c->cin_g; cl++) {
            const float *x = inp + ((size_t)b * c->Cin + ci0 + cl) * c->hw;
            const float *w = weight + ((size_t)co * c->cin_g + cl) * c->kk;
            for (int ky = 0; ky < K; ky++) {
                int iy = oy * s - c->pad + ky;
                if (iy < 0 || iy >= c->H)
                    continue;
                for (int kx = 0; kx < K; kx++) {
                    int ix0 = kx - c->pad, lo, hi;
                    valid_range(ix0, s, c->W, Wo, &lo, &hi);
                    row_axpy(yr, x + (size_t)iy * c->W + ix0, w[ky * K + kx], s, lo, hi);
                }
            }
        }
    }
}

static void direct_forward(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias,
                           const Conv *c)
{
    const int nrb = (c->Ho + DIRECT_ROWS - 1) / DIRECT_ROWS;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < c->B * c->Cout * nrb; u++) {
        int r0 = u % nrb * DIRECT_ROWS;
        direct_forward_unit(out, inp, weight, bias, c, u / (c->Cout * nrb), u / nrb % c->Cout, r0,
                            NVC_MIN(c->Ho, r0 + DIRECT_ROWS));
    }
}

/* the input gradient of plane (b, ci) */
NVC_VEC_CLONES static void direct_backward_input_unit(const float *dout, const float *weight, float *dinp,
                                                      const Conv *c, int b, int ci)
{
    const int K = c->K, s = c->s, Wo = c->Wo, g = ci / c->cin_g, cl = ci % c->cin_g;
    float *dx = dinp + ((size_t)b * c->Cin + ci) * c->hw;
    for (int m = 0; m < c->cout_g; m++) {
        int co = g * c->cout_g + m;
        const float *dy = dout + ((size_t)b * c->Cout + co) * c->howo;
        const float *w = weight + ((size_t)co * c->cin_g + cl) * c->kk;
        for (int oy = 0; oy < c->Ho; oy++)
            for (int ky = 0; ky < K; ky++) {
                int iy = oy * s - c->pad + ky;
                if (iy < 0 || iy >= c->H)
                    continue;
                for (int kx = 0; kx < K; kx++) {
                    int ix0 = kx - c->pad, lo, hi;
                    valid_range(ix0, s, c->W, Wo, &lo, &hi);
                    float *row = dx + (size_t)iy * c->W + ix0, wv = w[ky * K + kx];
                    const float *dr = dy + (size_t)oy * Wo;
                    if (s == 1) {
#pragma omp simd
                        for (int t = lo; t < hi; t++)
                            row[t] += wv * dr[t];
                    } else {
                        for (int t = lo; t < hi; t++)
                            row[t * s] += wv * dr[t];
                    }
                }
            }
    }
}

static void direct_backward_input(NvcNn *nn, const float *dout, const float *weight, float *dinp, const Conv *c)
{
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < c->B * c->Cin; u++)
        direct_backward_input_unit(dout, weight, dinp, c, u / c->Cin, u % c->Cin);
}

/* the K*K weight gradients of (co, cl): sums over images and rows in order */
NVC_VEC_CLONES static void direct_backward_weight_unit(const float *dout, const float *inp, float *dweight,
                                                       const Conv *c, int co, int cl)
{
    const int K = c->K, s = c->s, Wo = c->Wo, ci = co / c->cout_g * c->cin_g + cl;
    for (int k = 0; k < c->kk; k++) {
        int ky = k / K, kx = k % K, ix0 = kx - c->pad, lo, hi;
        valid_range(ix0, s, c->W, Wo, &lo, &hi);
        double acc = 0.0;
        for (int b = 0; b < c->B; b++) {
            const float *x = inp + ((size_t)b * c->Cin + ci) * c->hw;
            const float *dy = dout + ((size_t)b * c->Cout + co) * c->howo;
            for (int oy = 0; oy < c->Ho; oy++) {
                int iy = oy * s - c->pad + ky;
                if (iy < 0 || iy >= c->H)
                    continue;
                const float *row = x + (size_t)iy * c->W + ix0, *dr = dy + (size_t)oy * Wo;
                float r = 0.0f;
                if (s == 1) {
#pragma omp simd reduction(+ : r)
                    for (int t = lo; t < hi; t++)
                        r += dr[t] * row[t];
                } else {
                    for (int t = lo; t < hi; t++)
                        r += dr[t] * row[t * s];
                }
                acc += r;
            }
        }
        dweight[((size_t)co * c->cin_g + cl) * c->kk + k] += (float)acc;
    }
}

static void direct_backward_weight(NvcNn *nn, const float *dout, const float *inp, float *dweight, const Conv *c)
{
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < c->Cout * c->cin_g; u++)
        direct_backward_weight_unit(dout, inp, dweight, c, u / c->cin_g, u % c->cin_g);
}

/* Depthwise convs run direct (measured: convs to 3 channels run faster
 * through the GEMMs, even at M = 3). */
static int use_direct(const Conv *c)
{
    return c->cin_g == 1;
}

/* ---- GEMM path ------------------------------------------------------------------------- */

/* Floats of patch tiles gemm_forward needs. */
static size_t forward_scratch(const NvcNn *nn, const Conv *c)
{
    return c->pointwise ? 0 : (size_t)nn->threads * tile_cols(c, c->kdim) * c->kdim;
}

/* out = conv(inp) (+ bias); accumulate: out += conv(inp) (bias ignored).
 * scratch: forward_scratch() floats. */
static void gemm_forward(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias,
                         const Conv *c, float *scratch, int accumulate)
{
    const int T = tile_cols(c, c->kdim);
    const int nt = (int)((c->howo + T - 1) / T), nu = c->B * c->G * nt;
    if (accumulate)
        bias = NULL;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < nu; u++) {
        int b = u / (c->G * nt), g = u / nt % c->G, t = u % nt;
        size_t p0 = (size_t)t * T;
        int n = (int)NVC_MIN((size_t)T, c->howo - p0);
        const float *x = inp + ((size_t)b * c->Cin + (size_t)g * c->cin_g) * c->hw;
        float *y = out + ((size_t)b * c->Cout + (size_t)g * c->cout_g) * c->howo + p0;
        const float *src = x + p0;
        int ld = (int)c->hw;
        if (!c->pointwise) {
            float *col = scratch + (size_t)nvc_thread_id() * T * c->kdim;
            im2col(col, x, c, 0, c->cin_g, p0, n);
            src = col, ld = n;
        }
        if (bias)
            for (int co = 0; co < c->cout_g; co++) {
                float *yr = y + (size_t)co * c->howo, bv = bias[g * c->cout_g + co];
                for (int j = 0; j < n; j++)
                    yr[j] = bv;
            }
        nvc_sgemm(0, 0, c->cout_g, n, c->kdim, 1.0f, weight + (size_t)g * c->cout_g * c->kdim, c->kdim, src, ld,
                  bias || accumulate ? 1.0f : 0.0f, y, (int)c->howo);
    }
}

/* Stride 1: the input gradient is a forward conv of dout with the weights
 * transposed and flipped, padding K - 1 - pad (a gather: no col2im). */
static void backward_input_transposed(NvcNn *nn, const float *dout, const float *weight, float *dinp,
                                      const Conv *c)
{
    Conv t;
    if (conv_setup(nn, &t, c->B, c->Cout, c->Ho, c->Wo, c->Cin, c->K, 1, c->K - 1 - c->pad, c->G))
        return;
    if (nvc_conv2d_direct_ok(t.cin_g, t.K, 1)) {
        nvc_conv2d_direct(nn, dinp, dout, weight, NULL, t.B, t.Cin, t.H, t.W, t.Cout, t.K, t.pad, t.G,
                          NVC_CONV_ACCUMULATE | NVC_CONV_FLIPPED);
        return;
    }
    const size_t nw = (size_t)c->Cout * c->kdim;
    float *wt = nvc_nn_scratch(nn, nw + forward_scratch(nn, &t));
    if (!wt)
        return;
    /* wt (Cin, Cout/G, K, K)[g cin_g + i][o][ky][kx] = weight[g cout_g + o][i][K-1-ky][K-1-kx] */
    for (int g = 0; g < c->G; g++)
        for (int i = 0; i < c->cin_g; i++)
            for (int o = 0; o < c->cout_g; o++)
                for (int k = 0; k < c->kk; k++)
                    wt[(((size_t)g * c->cin_g + i) * c->cout_g + o) * c->kk + k] =
                        weight[(((size_t)g * c->cout_g + o) * c->cin_g + i) * c->kk + c->kk - 1 - k];
    gemm_forward(nn, dinp, dout, wt, NULL, &t, wt + nw, 1);
}

/* Input channels per backward unit: at most 8 units per group (fixed). */
static int chan_block(const Conv *c)
{
    return (c->cin_g + 7) / 8;
}

/* The weight gradient of a pointwise conv: units of PW x PW blocks of
 * dweight (whole cache lines of it: units sharing lines would thrash them),
 * each summing every image and tile in order. */
enum { PW = 64 };

static void pointwise_weight(NvcNn *nn, const float *dout, const float *inp, float *dweight, const Conv *c)
{
    const int nrb = (c->cout_g + PW - 1) / PW, ncb = (c->cin_g + PW - 1) / PW, T = tile_cols(c, PW);
    const int nt = (int)((c->howo + T - 1) / T);
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < c->G * nrb * ncb; u++) {
        int g = u / (nrb * ncb), r0 = u / ncb % nrb * PW, c0 = u % ncb * PW;
        int nr = NVC_MIN(PW, c->cout_g - r0), nc = NVC_MIN(PW, c->cin_g - c0);
        float *dw = dweight + ((size_t)g * c->cout_g + r0) * c->kdim + c0;
        for (int b = 0; b < c->B; b++) {
            const float *x = inp + ((size_t)b * c->Cin + (size_t)g * c->cin_g + c0) * c->hw;
            const float *dy = dout + ((size_t)b * c->Cout + (size_t)g * c->cout_g + r0) * c->howo;
            for (int t = 0; t < nt; t++) {
                size_t p0 = (size_t)t * T;
                int n = (int)NVC_MIN((size_t)T, c->howo - p0);
                nvc_sgemm(0, 1, nr, nc, n, 1.0f, dy + p0, (int)c->howo, x + p0, (int)c->hw, 1.0f, dw, c->kdim);
            }
        }
    }
}

/* The input gradient of a pointwise conv: dinp tile += weight^T . dout tile,
 * units of (image, group, tile of positions) with every input channel (one
 * product of cin_g rows, not 8-row slices). */
static void pointwise_input(NvcNn *nn, const float *dout, const float *weight, float *dinp, const Conv *c)
{
    const int T = tile_cols(c, c->cout_g), nt = (int)((c->howo + T - 1) / T);
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < c->B * c->G * nt; u++) {
        int b = u / (c->G * nt), g = u / nt % c->G, t = u % nt;
        size_t p0 = (size_t)t * T;
        int n = (int)NVC_MIN((size_t)T, c->howo - p0);
        const float *dy = dout + ((size_t)b * c->Cout + (size_t)g * c->cout_g) * c->howo + p0;
        float *dx = dinp + ((size_t)b * c->Cin + (size_t)g * c->cin_g) * c->hw + p0;
        nvc_sgemm(1, 0, c->cin_g, n, c->cout_g, 1.0f, weight + (size_t)g * c->cout_g * c->kdim, c->kdim, dy,
                  (int)c->howo, 1.0f, dx, (int)c->hw);
    }
}

static void gemm_backward(NvcNn *nn, const float *dout, const float *inp, const float *weight, float *dinp,
                          float *dweight, const Conv *c)
{
    if (c->pointwise) {
        if (dweight)
            pointwise_weight(nn, dout, inp, dweight, c);
        if (dinp)
            pointwise_input(nn, dout, weight, dinp, c);
        return;
    }
    const int cib = chan_block(c), ncb = (c->cin_g + cib - 1) / cib, rows = cib * c->kk;
    const int T = tile_cols(c, rows), nt = (int)((c->howo + T - 1) / T);
    const size_t per_thread = 2 * (size_t)rows * T;
    float *scratch = nvc_nn_scratch(nn, nn->threads * per_thread);
    if (!scratch)
        return;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < c->G * ncb; u++) {
        int g = u / ncb, c0 = u % ncb * cib, nc = NVC_MIN(cib, c->cin_g - c0), r = nc * c->kk;
        float *col = scratch + (size_t)nvc_thread_id() * per_thread, *dcol = col + (size_t)rows * T;
        const float *w = weight + (size_t)g * c->cout_g * c->kdim + (size_t)c0 * c->kk;
        float *dw = dweight ? dweight + (size_t)g * c->cout_g * c->kdim + (size_t)c0 * c->kk : NULL;
        for (int b = 0; b < c->B; b++) {
            size_t cin0 = (size_t)b * c->Cin + (size_t)g * c->cin_g;
            const float *x = inp + cin0 * c->hw;
            float *dx = dinp ? dinp + cin0 * c->hw : NULL;
            const float *dy = dout + ((size_t)b * c->Cout + (size_t)g * c->cout_g) * c->howo;
            for (int t = 0; t < nt; t++) {
                size_t p0 = (size_t)t * T;
                int n = (int)NVC_MIN((size_t)T, c->howo - p0);
                if (dw) {
                    im2col(col, x, c, c0, nc, p0, n);
                    nvc_sgemm(0, 1, c->cout_g, r, n, 1.0f, dy + p0, (int)c->howo, col, n, 1.0f, dw, c->kdim);
                }
                if (dx) {
                    nvc_sgemm(1, 0, r, n, c->cout_g, 1.0f, w, c->kdim, dy + p0, (int)c->howo, 0.0f, dcol, n);
                    col2im(dx, dcol, c, c0, nc, p0, n);
                }
            }
        }
    }
}

static void bias_backward(NvcNn *nn, const float *dout, float *dbias, int B, int C, size_t hw)
{
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int co = 0; co < C; co++) {
        double acc = 0.0;
        for (int b = 0; b < B; b++) {
            const float *dy = dout + ((size_t)b * C + co) * hw;
            for (size_t i = 0; i < hw; i += NVC_BLOCK) {
                /* 16 running sums (positions mod 16: one vector), then a fixed tree */
                size_t e = NVC_MIN(hw, i + NVC_BLOCK), j = i;
                float r[16] = { 0 };
                for (; j + 16 <= e; j += 16)
                    for (int l = 0; l < 16; l++)
                        r[l] += dy[j + l];
                for (int l = 0; j < e; j++, l++)
                    r[l] += dy[j];
                for (int w = 8; w; w /= 2)
                    for (int l = 0; l < w; l++)
                        r[l] += r[l + w];
                acc += r[0];
            }
        }
        dbias[co] += (float)acc;
    }
}

void nvc_conv2d_forward(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias, int B,
                        int Cin, int H, int W, int Cout, int K, int stride, int pad, int groups)
{
    Conv c;
    if (conv_setup(nn, &c, B, Cin, H, W, Cout, K, stride, pad, groups))
        return;
    if (use_direct(&c)) {
        direct_forward(nn, out, inp, weight, bias, &c);
        return;
    }
    if (nvc_conv2d_direct_ok(c.cin_g, K, stride)) {
        nvc_conv2d_direct(nn, out, inp, weight, bias, B, Cin, H, W, Cout, K, pad, groups, 0);
        return;
    }
    float *scratch = nvc_nn_scratch(nn, forward_scratch(nn, &c) + 1);
    if (scratch)
        gemm_forward(nn, out, inp, weight, bias, &c, scratch, 0);
}

void nvc_conv2d_backward(NvcNn *nn, const float *dout, const float *inp, const float *weight, float *dinp,
                         float *dweight, float *dbias, int B, int Cin, int H, int W, int Cout, int K, int stride,
                         int pad, int groups)
{
    Conv c;
    if (conv_setup(nn, &c, B, Cin, H, W, Cout, K, stride, pad, groups))
        return;
    if (dbias)
        bias_backward(nn, dout, dbias, B, Cout, c.howo);
    if (use_direct(&c)) {
        if (dinp)
            direct_backward_input(nn, dout, weight, dinp, &c);
        if (dweight)
            direct_backward_weight(nn, dout, inp, dweight, &c);
        return;
    }
    if (dweight && nvc_conv2d_direct_ok(c.cin_g, K, stride)) {
        nvc_conv2d_direct_backward_weight(nn, dout, inp, dweight, B, Cin, H, W, Cout, K, pad, groups);
        dweight = NULL;
    }
    /* stride 1: a gather by the direct kernels, or when not expanding (the
     * transposed GEMM has cin_g rows) by im2col + GEMM; else col2im */
    if (dinp && c.s == 1 && !c.pointwise &&
        (c.cout_g <= c.cin_g || nvc_conv2d_direct_ok(c.cout_g, K, stride))) {
        backward_input_transposed(nn, dout, weight, dinp, &c);
        dinp = NULL;
    }
    if (dinp || dweight) {
        gemm_backward(nn, dout, inp, weight, dinp, dweight, &c);
    }
}

/* ---- linear -------------------------------------------------------------------------------- */

#define LIN_ROWS 64

void nvc_linear_forward(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias, int N,
                        int Cin, int Cout)
{
    if (N <= 0 || Cin <= 0 || Cout <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "linear: bad shape N=%d Cin=%d Cout=%d", N, Cin, Cout);
        return;
    }
    int nb = (N + LIN_ROWS - 1) / LIN_ROWS;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int i = 0; i < nb; i++) {
        int r0 = i * LIN_ROWS, n = NVC_MIN(LIN_ROWS, N - r0);
        float *y = out + (size_t)r0 * Cout;
        if (bias)
            for (int r = 0; r < n; r++)
                memcpy(y + (size_t)r * Cout, bias, (size_t)Cout * sizeof(float));
        nvc_sgemm(0, 1, n, Cout, Cin, 1.0f, inp + (size_t)r0 * Cin, Cin, weight, Cin, bias ? 1.0f : 0.0f, y, Cout);
    }
}

void nvc_linear_backward(NvcNn *nn, const float *dout, const float *inp, const float *weight, float *dinp,
                         float *dweight, float *dbias, int N, int Cin, int Cout)
{
    if (N <= 0 || Cin <= 0 || Cout <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "linear: bad shape N=%d Cin=%d Cout=%d", N, Cin, Cout);
        return;
    }
    int nb = (N + LIN_ROWS - 1) / LIN_ROWS, nw = (Cout + LIN_ROWS - 1) / LIN_ROWS;
    if (dinp) {
        /* dinp (N, Cin) += dout (N, Cout) . weight (Cout, Cin): rows are independent */
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int i = 0; i < nb; i++) {
            int r0 = i * LIN_ROWS, n = NVC_MIN(LIN_ROWS, N - r0);
            nvc_sgemm(0, 0, n, Cin, Cout, 1.0f, dout + (size_t)r0 * Cout, Cout, weight, Cin, 1.0f,
                      dinp + (size_t)r0 * Cin, Cin);
        }
    }
    if (dweight) {
        /* dweight (Cout, Cin) += dout^T . inp: blocks of output rows, each over all N */
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int i = 0; i < nw; i++) {
            int r0 = i * LIN_ROWS, n = NVC_MIN(LIN_ROWS, Cout - r0);
            nvc_sgemm(1, 0, n, Cin, N, 1.0f, dout + r0, Cout, inp, Cin, 1.0f, dweight + (size_t)r0 * Cin, Cin);
        }
    }
    if (dbias) {
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int co = 0; co < Cout; co++) {
            double acc = 0.0;
            for (int r = 0; r < N; r++)
                acc += dout[(size_t)r * Cout + co];
            dbias[co] += (float)acc;
        }
    }
}
