/*
 * Test cases of every nn op: inputs, forward/backward through nn->ops, and
 * naive double-precision references (see tests/nn_cases.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/rng.h"
#include "tests/nn_cases.h"

#define D c->d
#define F c->f
#define OPS nn->ops

void case_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * nvc_u32_to_unit(nvc_philox_u32(seed, i));
}

void case_init_inputs(const NnCase *c, float *const *in, uint64_t seed)
{
    for (int k = 0; k < c->nin; k++)
        case_fill(in[k], c->in_n[k], seed * 131 + (uint64_t)k, -1.0f, 1.0f);
    if (c->init)
        c->init(c, in, seed);
}

/* values kept away from 0 by at least 0.05 (kinks) */
static void away_from_zero(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] >= 0 ? 0.05f + x[i] : -0.05f + x[i];
}

/* ---- conv2d: d = B Cin H W Cout K s p G ------------------------------------------------ */

#define CONV_OUT(n, K, s, p) (((n) + 2 * (p) - (K)) / (s) + 1)

static int conv_out(int n, int K, int s, int p)
{
    return CONV_OUT(n, K, s, p);
}

static void conv_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->conv2d_forward(nn, out, in[0], in[1], in[2], D[0], D[1], D[2], D[3], D[4], D[5], D[6], D[7], D[8]);
}

static void conv_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                     const float *dout, const float *dh, float *const *din)
{
    OPS->conv2d_backward(nn, dout, in[0], in[1], din[0], din[1], din[2], D[0], D[1], D[2], D[3], D[4], D[5], D[6],
                         D[7], D[8]);
}

static void conv_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], Cin = D[1], H = D[2], W = D[3], Cout = D[4], K = D[5], s = D[6], p = D[7], G = D[8];
    int Ho = conv_out(H, K, s, p), Wo = conv_out(W, K, s, p), cig = Cin / G, cog = Cout / G;
    for (int b = 0; b < B; b++)
        for (int co = 0; co < Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double acc = in[2][co];
                    for (int cl = 0; cl < cig; cl++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx, ci = co / cog * cig + cl;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                acc += (double)in[1][((size_t)(co * cig + cl) * K + ky) * K + kx] *
                                       in[0][(((size_t)b * Cin + ci) * H + iy) * W + ix];
                            }
                    out[(((size_t)b * Cout + co) * Ho + oy) * Wo + ox] = acc;
                }
}

#define CONV(nm, B, Ci, H, W, Co, K, s, p, G)                                                                   \
    {                                                                                                           \
        .name = nm, .nin = 3, .in_n = { (size_t)(B) * (Ci) * (H) * (W), (size_t)(Co) * ((Ci) / (G)) * (K) * (K), \
                                        (Co) },                                                                 \
        .out_n = (size_t)(B) * (Co) * CONV_OUT(H, K, s, p) * CONV_OUT(W, K, s, p),                              \
        .d = { B, Ci, H, W, Co, K, s, p, G }, .fwd = conv_fwd, .bwd = conv_bwd, .naive = conv_naive             \
    }

/* ---- linear: d = N Cin Cout -------------------------------------------------------------- */

static void linear_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->linear_forward(nn, out, in[0], in[1], in[2], D[0], D[1], D[2]);
}

static void linear_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                       const float *dout, const float *dh, float *const *din)
{
    OPS->linear_backward(nn, dout, in[0], in[1], din[0], din[1], din[2], D[0], D[1], D[2]);
}

static void linear_naive(const NnCase *c, float *const *in, double *out)
{
    for (int n = 0; n < D[0]; n++)
        for (int o = 0; o < D[2]; o++) {
            double acc = in[2][o];
            for (int i = 0; i < D[1]; i++)
                acc += (double)in[0][(size_t)n * D[1] + i] * in[1][(size_t)o * D[1] + i];
            out[(size_t)n * D[2] + o] = acc;
        }
}

#define LINEAR(nm, N, Ci, Co)                                                                                   \
    {                                                                                                           \
        .name = nm, .nin = 3, .in_n = { (size_t)(N) * (Ci), (size_t)(Co) * (Ci), (Co) }, .out_n = (N) * (Co),   \
        .d = { N, Ci, Co }, .fwd = linear_fwd, .bwd = linear_bwd, .naive = linear_naive                         \
    }

/* ---- resampling: d = B C H W s ------------------------------------------------------------ */

static void ps_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->pixel_shuffle_forward(nn, out, in[0], D[0], D[1], D[2], D[3], D[4]);
}

static void ps_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                   const float *dout, const float *dh, float *const *din)
{
    OPS->pixel_shuffle_backward(nn, dout, din[0], D[0], D[1], D[2], D[3], D[4]);
}

static void ps_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], C = D[1], H = D[2], W = D[3], s = D[4];
    for (int b = 0; b < B; b++)
        for (int ch = 0; ch < C * s * s; ch++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int oc = ch / (s * s), i = ch % (s * s) / s, j = ch % s;
                    out[(((size_t)b * C + oc) * H * s + y * s + i) * W * s + x * s + j] =
                        in[0][(((size_t)b * C * s * s + ch) * H + y) * W + x];
                }
}

/* PixelShuffle then an activation, one op: d = B C H W s act (NVC_ACT_*) */
static void psa_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->pixel_shuffle_act_forward(nn, out, in[0], D[0], D[1], D[2], D[3], D[4], D[5]);
}

static void psa_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                    const float *dout, const float *dh, float *const *din)
{
    OPS->pixel_shuffle_act_backward(nn, dout, in[0], din[0], D[0], D[1], D[2], D[3], D[4], D[5]);
}

static void psa_naive(const NnCase *c, float *const *in, double *out)
{
    ps_naive(c, in, out);
    for (size_t i = 0; i < c->out_n; i++) {
        double x = out[i];
        out[i] = D[5] == NVC_ACT_GELU ? 0.5 * x * (1 + erf(x / sqrt(2.0))) : x / (1 + exp(-x));
    }
}

#define PSA(nm, B, C, H, W, s, act)                                                                             \
    {                                                                                                           \
        .name = nm, .nin = 1, .in_n = { (size_t)(B) * (C) * (s) * (s) * (H) * (W) },                            \
        .out_n = (size_t)(B) * (C) * (H) * (W) * (s) * (s), .d = { B, C, H, W, s, act }, .fwd = psa_fwd,        \
        .bwd = psa_bwd, .naive = psa_naive, .fd_h = 1e-3                                                        \
    }

static void up_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->upsample_bilinear_forward(nn, out, in[0], D[0], D[1], D[2], D[3], D[4]);
}

static void up_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                   const float *dout, const float *dh, float *const *din)
{
    OPS->upsample_bilinear_backward(nn, dout, din[0], D[0], D[1], D[2], D[3], D[4]);
}

static void up_src(int o, int s, int n, int *i0, int *i1, double *l)
{
    double src = (o + 0.5) / s - 0.5;
    if (src < 0)
        src = 0;
    *i0 = (int)floor(src);
    *i1 = *i0 + 1 < n ? *i0 + 1 : n - 1;
    *l = src - *i0;
}

static void up_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], C = D[1], H = D[2], W = D[3], s = D[4];
    for (int p = 0; p < B * C; p++)
        for (int oy = 0; oy < H * s; oy++)
            for (int ox = 0; ox < W * s; ox++) {
                int y0, y1, x0, x1;
                double ly, lx;
                const float *x = in[0] + (size_t)p * H * W;
                up_src(oy, s, H, &y0, &y1, &ly);
                up_src(ox, s, W, &x0, &x1, &lx);
                out[((size_t)p * H * s + oy) * W * s + ox] =
                    (1 - ly) * ((1 - lx) * x[y0 * W + x0] + lx * x[y0 * W + x1]) +
                    ly * ((1 - lx) * x[y1 * W + x0] + lx * x[y1 * W + x1]);
            }
}

#define RESAMPLE(nm, op, B, C, H, W, s, ci, co)                                                                 \
    {                                                                                                           \
        .name = nm, .nin = 1, .in_n = { (size_t)(B) * (ci) * (H) * (W) }, .out_n = (size_t)(B) * (co) * (H) * (W) * (s) * (s), \
        .d = { B, C, H, W, s }, .fwd = op##_fwd, .bwd = op##_bwd, .naive = op##_naive                           \
    }

/* ---- warp: d = B C H W -------------------------------------------------------------------- */

static void warp_init(const NnCase *c, float *const *in, uint64_t seed)
{
    /* flows in [-3, 3] with fractional parts in [0.1, 0.9], away from the kinks */
    for (size_t i = 0; i < c->in_n[1]; i++) {
        float v = in[1][i] * 3.0f, fl = floorf(v), fr = v - fl;
        in[1][i] = fl + 0.1f + 0.8f * fr;
    }
}

static void warp_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->warp_forward(nn, out, in[0], in[1], D[0], D[1], D[2], D[3]);
}

static void warp_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                     const float *dout, const float *dh, float *const *din)
{
    OPS->warp_backward(nn, dout, in[0], in[1], din[0], din[1], D[0], D[1], D[2], D[3]);
}

static void warp_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], C = D[1], H = D[2], W = D[3];
    for (int b = 0; b < B; b++)
        for (int ch = 0; ch < C; ch++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    size_t i = (size_t)y * W + x, hw = (size_t)H * W;
                    double sx = x + (double)in[1][(size_t)b * 2 * hw + i];
                    double sy = y + (double)in[1][(size_t)b * 2 * hw + hw + i];
                    sx = sx < 0 ? 0 : sx > W - 1 ? W - 1 : sx;
                    sy = sy < 0 ? 0 : sy > H - 1 ? H - 1 : sy;
                    int x0 = (int)floor(sx), y0 = (int)floor(sy);
                    double wx = sx - x0, wy = sy - y0, v = 0;
                    const float *p = in[0] + ((size_t)b * C + ch) * hw;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            if (x0 + dx < W && y0 + dy < H)
                                v += (dx ? wx : 1 - wx) * (dy ? wy : 1 - wy) * p[(size_t)(y0 + dy) * W + x0 + dx];
                    out[((size_t)b * C + ch) * hw + i] = v;
                }
}

#define WARP(nm, B, C, H, W)                                                                                    \
    {                                                                                                           \
        .name = nm, .nin = 2, .in_n = { (size_t)(B) * (C) * (H) * (W), (size_t)(B) * 2 * (H) * (W) },           \
        .out_n = (size_t)(B) * (C) * (H) * (W), .d = { B, C, H, W }, .init = warp_init, .fwd = warp_fwd,         \
        .bwd = warp_bwd, .naive = warp_naive, .fd_h = 1e-3                                                      \
    }

/* ---- unary activations: n = in_n[0]; f[0], f[1]: parameters ---------------------------------- */

enum { A_GELU, A_SILU, A_LEAKY, A_SIN, A_TANH, A_SIGMOID, A_AFFINE, A_ROUND, A_NOISE };

static void act_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    size_t n = c->in_n[0];
    switch (D[0]) {
    case A_GELU: OPS->gelu_forward(nn, out, in[0], n); break;
    case A_SILU: OPS->silu_forward(nn, out, in[0], n); break;
    case A_LEAKY: OPS->leaky_relu_forward(nn, out, in[0], F[0], n); break;
    case A_SIN: OPS->sin_forward(nn, out, in[0], n); break;
    case A_TANH: OPS->tanh_forward(nn, out, in[0], n); break;
    case A_SIGMOID: OPS->sigmoid_forward(nn, out, in[0], n); break;
    case A_AFFINE: OPS->affine_forward(nn, out, in[0], F[0], F[1], n); break;
    case A_ROUND: OPS->round_forward(nn, out, in[0], n); break;
    case A_NOISE: OPS->noise_forward(nn, out, in[0], 1234567, 89, n); break;
    }
}

static void act_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                    const float *dout, const float *dh, float *const *din)
{
    size_t n = c->in_n[0];
    switch (D[0]) {
    case A_GELU: OPS->gelu_backward(nn, dout, in[0], din[0], n); break;
    case A_SILU: OPS->silu_backward(nn, dout, in[0], din[0], n); break;
    case A_LEAKY: OPS->leaky_relu_backward(nn, dout, in[0], din[0], F[0], n); break;
    case A_SIN: OPS->sin_backward(nn, dout, in[0], din[0], n); break;
    case A_TANH: OPS->tanh_backward(nn, dout, out, din[0], n); break;
    case A_SIGMOID: OPS->sigmoid_backward(nn, dout, out, din[0], n); break;
    case A_AFFINE: OPS->affine_backward(nn, dout, din[0], F[0], n); break;
    case A_ROUND: OPS->round_backward(nn, dout, din[0], n); break;
    case A_NOISE: OPS->noise_backward(nn, dout, din[0], n); break;
    }
}

static void act_naive(const NnCase *c, float *const *in, double *out)
{
    for (size_t i = 0; i < c->in_n[0]; i++) {
        double x = in[0][i];
        switch (D[0]) {
        case A_GELU: out[i] = 0.5 * x * (1 + erf(x / sqrt(2.0))); break;
        case A_SILU: out[i] = x / (1 + exp(-x)); break;
        case A_LEAKY: out[i] = x >= 0 ? x : F[0] * x; break;
        case A_SIN: out[i] = sin(x); break;
        case A_TANH: out[i] = tanh(x); break;
        case A_SIGMOID: out[i] = 1 / (1 + exp(-x)); break;
        case A_AFFINE: out[i] = (double)F[0] * x + F[1]; break;
        case A_ROUND: out[i] = nearbyint(x); break;
        case A_NOISE: {
            /* Philox word (89 + i) of key 1234567 -> 24 bits -> [-0.5, 0.5) */
            uint32_t u = nvc_philox_u32(1234567, 89 + i);
            out[i] = x + ((double)(u >> 8) / 16777216.0 - 0.5);
            break;
        }
        }
    }
}

static void kinks_init(const NnCase *c, float *const *in, uint64_t seed)
{
    away_from_zero(in[0], c->in_n[0]);
    if (D[0] == A_ROUND) /* away from the .5 ties too, and spread out */
        for (size_t i = 0; i < c->in_n[0]; i++)
            in[0][i] = 3.0f * in[0][i];
}

#define ACT(nm, kind, n, a, b)                                                                                  \
    {                                                                                                           \
        .name = nm, .nin = 1, .in_n = { n }, .out_n = n, .d = { kind }, .f = { a, b }, .init = kinks_init,      \
        .fwd = act_fwd, .bwd = act_bwd, .naive = act_naive, .fd_h = 1e-3, .ste = (kind) == A_ROUND              \
    }

/* ---- binary elementwise ---------------------------------------------------------------------- */

static void bin_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    if (D[0])
        OPS->mul_forward(nn, out, in[0], in[1], c->out_n);
    else
        OPS->add_forward(nn, out, in[0], in[1], c->out_n);
}

static void bin_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                    const float *dout, const float *dh, float *const *din)
{
    if (D[0])
        OPS->mul_backward(nn, dout, in[0], in[1], din[0], din[1], c->out_n);
    else
        OPS->add_backward(nn, dout, din[0], din[1], c->out_n);
}

static void bin_naive(const NnCase *c, float *const *in, double *out)
{
    for (size_t i = 0; i < c->out_n; i++)
        out[i] = D[0] ? (double)in[0][i] * in[1][i] : (double)in[0][i] + in[1][i];
}

#define BIN(nm, mul, n)                                                                                         \
    {                                                                                                           \
        .name = nm, .nin = 2, .in_n = { n, n }, .out_n = n, .d = { mul }, .fwd = bin_fwd, .bwd = bin_bwd,        \
        .naive = bin_naive                                                                                      \
    }

/* ---- chanmul: d = B C HW per_sample; inputs x, scale, shift ------------------------------------ */

static void cm_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->chanmul_forward(nn, out, in[0], in[1], D[4] ? in[2] : NULL, D[0], D[1], D[2], D[3]);
}

static void cm_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                   const float *dout, const float *dh, float *const *din)
{
    OPS->chanmul_backward(nn, dout, in[0], in[1], din[0], din[1], D[4] ? din[2] : NULL, D[0], D[1], D[2], D[3]);
}

static void cm_naive(const NnCase *c, float *const *in, double *out)
{
    for (int b = 0; b < D[0]; b++)
        for (int ch = 0; ch < D[1]; ch++) {
            int k = D[3] ? b * D[1] + ch : ch;
            for (int i = 0; i < D[2]; i++) {
                size_t j = ((size_t)b * D[1] + ch) * D[2] + i;
                out[j] = (double)in[0][j] * in[1][k] + (D[4] ? in[2][k] : 0.0);
            }
        }
}

#define CHANMUL(nm, B, C, HW, ps, shift)                                                                        \
    {                                                                                                           \
        .name = nm, .nin = (shift) ? 3 : 2,                                                                     \
        .in_n = { (size_t)(B) * (C) * (HW), (ps) ? (B) * (C) : (C), (ps) ? (B) * (C) : (C) },                   \
        .out_n = (size_t)(B) * (C) * (HW), .d = { B, C, HW, ps, shift }, .fwd = cm_fwd, .bwd = cm_bwd,           \
        .naive = cm_naive                                                                                       \
    }

/* ---- concat / split: d = B Ca Cb HW split ------------------------------------------------------ */

static void cat_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    if (D[4])
        OPS->split_forward(nn, out, out + (size_t)D[0] * D[1] * D[3], in[0], D[0], D[1], D[2], D[3]);
    else
        OPS->concat_forward(nn, out, in[0], in[1], D[0], D[1], D[2], D[3]);
}

static void cat_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                    const float *dout, const float *dh, float *const *din)
{
    if (D[4])
        OPS->split_backward(nn, dout, dout + (size_t)D[0] * D[1] * D[3], din[0], D[0], D[1], D[2], D[3]);
    else
        OPS->concat_backward(nn, dout, din[0], din[1], D[0], D[1], D[2], D[3]);
}

static void cat_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], Ca = D[1], Cb = D[2], HW = D[3];
    for (int b = 0; b < B; b++)
        for (int ch = 0; ch < Ca + Cb; ch++)
            for (int i = 0; i < HW; i++) {
                size_t cat = ((size_t)b * (Ca + Cb) + ch) * HW + i;
                size_t part = ch < Ca ? ((size_t)b * Ca + ch) * HW + i
                                      : (size_t)B * Ca * HW + ((size_t)b * Cb + ch - Ca) * HW + i;
                if (D[4])
                    out[part] = in[0][cat];
                else
                    out[cat] = ch < Ca ? in[0][((size_t)b * Ca + ch) * HW + i] : in[1][((size_t)b * Cb + ch - Ca) * HW + i];
            }
}

/* ---- layernorm: d = B C HW; inputs x, weight, bias; aux mean, rstd ------------------------------ */

static void ln_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    size_t m = (size_t)D[0] * D[2];
    OPS->layernorm_forward(nn, out, aux, aux + m, in[0], in[1], in[2], D[0], D[1], D[2], F[0]);
}

static void ln_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                   const float *dout, const float *dh, float *const *din)
{
    size_t m = (size_t)D[0] * D[2];
    OPS->layernorm_backward(nn, dout, in[0], in[1], aux, aux + m, din[0], din[1], din[2], D[0], D[1], D[2]);
}

static void ln_naive(const NnCase *c, float *const *in, double *out)
{
    int B = D[0], C = D[1], HW = D[2];
    for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++) {
            double m = 0, v = 0;
            for (int ch = 0; ch < C; ch++)
                m += in[0][((size_t)b * C + ch) * HW + i];
            m /= C;
            for (int ch = 0; ch < C; ch++) {
                double d = in[0][((size_t)b * C + ch) * HW + i] - m;
                v += d * d;
            }
            v /= C;
            for (int ch = 0; ch < C; ch++) {
                size_t j = ((size_t)b * C + ch) * HW + i;
                out[j] = (in[0][j] - m) / sqrt(v + F[0]) * in[1][ch] + in[2][ch];
            }
        }
}

/* ---- positional encoding: d = N L; f = base ------------------------------------------------------ */

static void pe_init(const NnCase *c, float *const *in, uint64_t seed)
{
    case_fill(in[0], c->in_n[0], seed, 0.0f, 1.0f);
}

static void pe_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    OPS->posenc_forward(nn, out, in[0], D[0], D[1], F[0]);
}

static void pe_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                   const float *dout, const float *dh, float *const *din)
{
    OPS->posenc_backward(nn, dout, in[0], din[0], D[0], D[1], F[0]);
}

static void pe_naive(const NnCase *c, float *const *in, double *out)
{
    for (int n = 0; n < D[0]; n++)
        for (int l = 0; l < D[1]; l++) {
            double a = pow(F[0], l) * M_PI * in[0][n];
            out[(size_t)n * 2 * D[1] + 2 * l] = sin(a);
            out[(size_t)n * 2 * D[1] + 2 * l + 1] = cos(a);
        }
}

/* ---- distances: d = kind (0 mse, 1 l1); inputs pred, target ----------------------------------- */

static void dist_init(const NnCase *c, float *const *in, uint64_t seed)
{
    for (size_t i = 0; i < c->in_n[0]; i++) {
        float d = in[0][i] - in[1][i];
        if (fabsf(d) < 0.05f)
            in[0][i] = in[1][i] + (d >= 0 ? 0.05f : -0.05f);
    }
}

static void dist_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    if (D[0])
        OPS->l1_forward(nn, out, in[0], in[1], c->in_n[0]);
    else
        OPS->mse_forward(nn, out, in[0], in[1], c->in_n[0]);
}

static void dist_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                     const float *dout, const float *dh, float *const *din)
{
    if (D[0])
        OPS->l1_backward(nn, dh[0], in[0], in[1], din[0], c->in_n[0]);
    else
        OPS->mse_backward(nn, dh[0], in[0], in[1], din[0], c->in_n[0]);
}

static void dist_naive(const NnCase *c, float *const *in, double *out)
{
    double s = 0;
    for (size_t i = 0; i < c->in_n[0]; i++) {
        double d = (double)in[0][i] - in[1][i];
        s += D[0] ? fabs(d) : d * d;
    }
    out[0] = s / (double)c->in_n[0];
}

/* ---- SSIM / MS-SSIM: d = B C H W ms ---------------------------------------------------------------- */

static void ssim_init(const NnCase *c, float *const *in, uint64_t seed)
{
    /* a smooth target in [0, 1] and a noisy prediction of it */
    int B = D[0], C = D[1], H = D[2], W = D[3];
    for (int p = 0; p < B * C; p++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t i = ((size_t)p * H + y) * W + x;
                float t = 0.5f + 0.3f * sinf(0.21f * x + 0.5f * p) * cosf(0.17f * y) + 0.1f * in[1][i];
                in[1][i] = t;
                in[0][i] = t + 0.15f * in[0][i];
            }
}

static void ssim_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    if (D[4])
        OPS->msssim_forward(nn, out, in[0], in[1], D[0], D[1], D[2], D[3]);
    else
        OPS->ssim_forward(nn, out, in[0], in[1], D[0], D[1], D[2], D[3]);
}

static void ssim_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                     const float *dout, const float *dh, float *const *din)
{
    if (D[4])
        OPS->msssim_backward(nn, dh[0], in[0], in[1], din[0], D[0], D[1], D[2], D[3]);
    else
        OPS->ssim_backward(nn, dh[0], in[0], in[1], din[0], D[0], D[1], D[2], D[3]);
}

/* Direct 2-D windows in double. */
static void ssim_ref(const double *x, const double *y, int H, int W, double *ssim, double *cs)
{
    double g[11], sum = 0, ss = 0, sc = 0;
    for (int i = 0; i < 11; i++)
        sum += g[i] = exp(-(double)((i - 5) * (i - 5)) / (2 * 1.5 * 1.5));
    for (int i = 0; i < 11; i++)
        g[i] /= sum;
    const double C1 = 1e-4, C2 = 9e-4;
    for (int i = 0; i + 11 <= H; i++)
        for (int j = 0; j + 11 <= W; j++) {
            double m1 = 0, m2 = 0, xx = 0, yy = 0, xy = 0;
            for (int a = 0; a < 11; a++)
                for (int b = 0; b < 11; b++) {
                    double w = g[a] * g[b], u = x[(size_t)(i + a) * W + j + b], v = y[(size_t)(i + a) * W + j + b];
                    m1 += w * u, m2 += w * v, xx += w * u * u, yy += w * v * v, xy += w * u * v;
                }
            double s1 = xx - m1 * m1, s2 = yy - m2 * m2, s12 = xy - m1 * m2;
            double cv = (2 * s12 + C2) / (s1 + s2 + C2);
            ss += (2 * m1 * m2 + C1) / (m1 * m1 + m2 * m2 + C1) * cv;
            sc += cv;
        }
    size_t nv = (size_t)(H - 10) * (W - 10);
    *ssim = ss / nv;
    *cs = sc / nv;
}

static void pool_ref(const double *x, int H, int W, double *out, int *Ho, int *Wo)
{
    int ph = H % 2, pw = W % 2;
    *Ho = (H + 2 * ph - 2) / 2 + 1, *Wo = (W + 2 * pw - 2) / 2 + 1;
    for (int i = 0; i < *Ho; i++)
        for (int j = 0; j < *Wo; j++) {
            double s = 0;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    int r = 2 * i - ph + a, q = 2 * j - pw + b;
                    if (r >= 0 && r < H && q >= 0 && q < W)
                        s += x[(size_t)r * W + q];
                }
            out[(size_t)i * *Wo + j] = s / 4;
        }
}

static void ssim_naive(const NnCase *c, float *const *in, double *out)
{
    static const double wts[5] = { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 };
    int B = D[0], C = D[1], H = D[2], W = D[3];
    size_t hw = (size_t)H * W;
    double *x = malloc(2 * hw * sizeof(double)), *y = x + hw, *t = malloc(hw * sizeof(double));
    double total = 0;
    for (int p = 0; p < B * C; p++) {
        int h = H, w = W;
        for (size_t i = 0; i < hw; i++)
            x[i] = in[0][p * hw + i], y[i] = in[1][p * hw + i];
        double ssim, cs, val = 1;
        for (int l = 0; l < (D[4] ? 5 : 1); l++) {
            int h2, w2;
            ssim_ref(x, y, h, w, &ssim, &cs);
            if (!D[4]) {
                val = ssim;
                break;
            }
            val *= pow(fmax(l < 4 ? cs : ssim, 0), wts[l]);
            pool_ref(x, h, w, t, &h2, &w2);
            memcpy(x, t, (size_t)h2 * w2 * sizeof(double));
            pool_ref(y, h, w, t, &h2, &w2);
            memcpy(y, t, (size_t)h2 * w2 * sizeof(double));
            h = h2, w = w2;
        }
        total += val;
    }
    out[0] = total / (B * C);
    free(x);
    free(t);
}

#define SSIM(nm, B, C, H, W, ms)                                                                                \
    {                                                                                                           \
        .name = nm, .nin = 2, .nograd = 2, .in_n = { (size_t)(B) * (C) * (H) * (W), (size_t)(B) * (C) * (H) * (W) }, \
        .out_n = 1, .d = { B, C, H, W, ms }, .init = ssim_init, .fwd = ssim_fwd, .bwd = ssim_bwd,                \
        .naive = ssim_naive, .fd_h = 1e-2, .fd_naive = 1                                                       \
    }

/* ---- rates: d = kind (0 Gaussian, 1 Laplace, 2 GMM) B K M; inputs x, mean, scale (, logits) -------- */

static void rate_init(const NnCase *c, float *const *in, uint64_t seed)
{
    /* x: integers plus noise; means in [-2, 2]; scales in [0.2, 3], 1 in 8 below the floor */
    for (size_t i = 0; i < c->in_n[0]; i++)
        in[0][i] = rintf(4.0f * in[0][i]) + 0.5f * in[0][(i * 7 + 3) % c->in_n[0]];
    for (size_t i = 0; i < c->in_n[1]; i++) {
        in[1][i] *= 2.0f;
        in[2][i] = i % 8 == 5 ? 0.05f + 0.02f * in[2][i] : 1.6f + 1.4f * in[2][i];
    }
    if (c->nin > 3)
        for (size_t i = 0; i < c->in_n[3]; i++)
            in[3][i] *= 2.0f;
}

static void rate_fwd(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux)
{
    size_t n = c->in_n[0];
    if (D[0] == 0)
        OPS->rate_gaussian_forward(nn, out, in[0], in[1], in[2], n);
    else if (D[0] == 1)
        OPS->rate_laplace_forward(nn, out, in[0], in[1], in[2], n);
    else
        OPS->rate_gmm_forward(nn, out, in[0], in[3], in[1], in[2], D[1], D[2], D[3]);
}

static void rate_bwd(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux,
                     const float *dout, const float *dh, float *const *din)
{
    size_t n = c->in_n[0];
    if (D[0] == 0)
        OPS->rate_gaussian_backward(nn, dh[0], in[0], in[1], in[2], din[0], din[1], din[2], n);
    else if (D[0] == 1)
        OPS->rate_laplace_backward(nn, dh[0], in[0], in[1], in[2], din[0], din[1], din[2], n);
    else
        OPS->rate_gmm_backward(nn, dh[0], in[0], in[3], in[1], in[2], din[0], din[3], din[1], din[2], D[1], D[2],
                               D[3]);
}

static double cdf(double z, double s, int laplace)
{
    if (laplace)
        return z < 0 ? 0.5 * exp(z / s) : 1 - 0.5 * exp(-z / s);
    return 0.5 * (1 + erf(z / (s * sqrt(2.0))));
}

static double interval(double v, double s, int laplace)
{
    s = s < 0.11 ? 0.11 : s;
    return cdf(v + 0.5, s, laplace) - cdf(v - 0.5, s, laplace);
}

static void rate_naive(const NnCase *c, float *const *in, double *out)
{
    double bits = 0;
    if (D[0] < 2) {
        for (size_t i = 0; i < c->in_n[0]; i++)
            bits -= log2(fmax(interval((double)in[0][i] - in[1][i], in[2][i], D[0]), 1e-9));
    } else {
        int B = D[1], K = D[2], M = D[3];
        for (int b = 0; b < B; b++)
            for (int m = 0; m < M; m++) {
                double w[16], sum = 0, p = 0;
                for (int k = 0; k < K; k++)
                    sum += w[k] = exp(in[3][((size_t)b * K + k) * M + m]);
                for (int k = 0; k < K; k++) {
                    size_t j = ((size_t)b * K + k) * M + m;
                    p += w[k] / sum * interval((double)in[0][(size_t)b * M + m] - in[1][j], in[2][j], 0);
                }
                bits -= log2(fmax(p, 1e-9));
            }
    }
    out[0] = bits;
}

#define RATE(nm, kind, n)                                                                                       \
    {                                                                                                           \
        .name = nm, .nin = 3, .in_n = { n, n, n }, .out_n = 1, .d = { kind }, .init = rate_init,                \
        .fwd = rate_fwd, .bwd = rate_bwd, .naive = rate_naive, .fd_h = 1e-3                                     \
    }

#define RATE_GMM(nm, B, K, M)                                                                                   \
    {                                                                                                           \
        .name = nm, .nin = 4,                                                                                   \
        .in_n = { (size_t)(B) * (M), (size_t)(B) * (K) * (M), (size_t)(B) * (K) * (M), (size_t)(B) * (K) * (M) }, \
        .out_n = 1, .d = { 2, B, K, M }, .init = rate_init, .fwd = rate_fwd, .bwd = rate_bwd,                    \
        .naive = rate_naive, .fd_h = 1e-3                                                                       \
    }

/* ---- the list ---------------------------------------------------------------------------------------- */

const NnCase nn_cases[] = {
    CONV("conv3x3", 2, 3, 9, 8, 4, 3, 1, 1, 1),
    CONV("conv5x5_s2_groups2", 1, 4, 10, 9, 6, 5, 2, 2, 2),
    CONV("conv_depthwise3x3", 2, 6, 8, 7, 6, 3, 1, 1, 6),
    CONV("conv_depthwise7x7", 1, 4, 9, 9, 4, 7, 1, 3, 4),
    CONV("conv_depthwise_mult2_s2", 1, 3, 7, 7, 6, 3, 2, 1, 3),
    CONV("conv_patchify4", 1, 3, 8, 12, 5, 4, 4, 0, 1),
    CONV("conv1x1", 2, 5, 6, 7, 3, 1, 1, 0, 1),
    CONV("conv3x3_s2", 1, 3, 9, 10, 4, 3, 2, 1, 1),
    CONV("conv3x3_tiles", 1, 16, 70, 70, 16, 3, 1, 1, 1),
    CONV("conv1x1_tiles", 1, 24, 72, 70, 8, 1, 1, 0, 1),
    CONV("conv5x5_s2_tiles", 1, 20, 130, 130, 8, 5, 2, 2, 1),
    CONV("conv5x5_direct_blocks", 1, 5, 11, 19, 13, 5, 1, 2, 1),
    CONV("conv3x3_direct_groups_pad0", 2, 6, 9, 10, 4, 3, 1, 0, 2),
    CONV("conv7x7_direct_wide", 1, 3, 6, 70, 3, 7, 1, 3, 1),
    LINEAR("linear", 5, 7, 3),
    LINEAR("linear_rows", 130, 9, 70),
    RESAMPLE("pixel_shuffle2", ps, 2, 3, 3, 4, 2, 12, 3),
    RESAMPLE("pixel_shuffle3", ps, 1, 2, 2, 3, 3, 18, 2),
    PSA("pixel_shuffle2_gelu", 2, 3, 3, 4, 2, NVC_ACT_GELU),
    PSA("pixel_shuffle3_silu", 1, 2, 2, 3, 3, NVC_ACT_SILU),
    RESAMPLE("upsample2", up, 2, 2, 3, 5, 2, 2, 2),
    RESAMPLE("upsample3", up, 1, 2, 4, 3, 3, 2, 2),
    RESAMPLE("upsample4", up, 1, 1, 5, 5, 4, 1, 1),
    WARP("warp", 2, 3, 6, 7),
    ACT("gelu", A_GELU, 37, 0, 0),
    ACT("silu", A_SILU, 37, 0, 0),
    ACT("leaky_relu", A_LEAKY, 37, 0.1f, 0),
    ACT("sin", A_SIN, 37, 0, 0),
    ACT("tanh", A_TANH, 37, 0, 0),
    ACT("sigmoid", A_SIGMOID, 37, 0, 0),
    ACT("affine", A_AFFINE, 37, 0.5f, 0.5f),
    ACT("round", A_ROUND, 37, 0, 0),
    ACT("noise", A_NOISE, 37, 0, 0),
    ACT("gelu_large", A_GELU, 70001, 0, 0),
    BIN("add", 0, 41),
    BIN("mul", 1, 41),
    CHANMUL("chanmul", 2, 3, 5, 0, 0),
    CHANMUL("chanmul_film_per_sample", 2, 3, 5, 1, 1),
    { .name = "concat", .nin = 2, .in_n = { 2 * 2 * 5, 2 * 3 * 5 }, .out_n = 2 * 5 * 5, .d = { 2, 2, 3, 5, 0 },
      .fwd = cat_fwd, .bwd = cat_bwd, .naive = cat_naive },
    { .name = "split", .nin = 1, .in_n = { 2 * 5 * 5 }, .out_n = 2 * 5 * 5, .d = { 2, 2, 3, 5, 1 },
      .fwd = cat_fwd, .bwd = cat_bwd, .naive = cat_naive },
    { .name = "layernorm", .nin = 3, .in_n = { 2 * 5 * 6, 5, 5 }, .out_n = 2 * 5 * 6, .aux_n = 2 * 2 * 6,
      .d = { 2, 5, 6 }, .f = { 1e-6f }, .fwd = ln_fwd, .bwd = ln_bwd, .naive = ln_naive, .fd_h = 1e-3 },
    { .name = "layernorm_wide", .nin = 3, .in_n = { 1 * 8 * 300, 8, 8 }, .out_n = 8 * 300, .aux_n = 2 * 300,
      .d = { 1, 8, 300 }, .f = { 1e-5f }, .fwd = ln_fwd, .bwd = ln_bwd, .naive = ln_naive, .fd_h = 1e-3 },
    { .name = "posenc", .nin = 1, .in_n = { 3 }, .out_n = 3 * 12, .d = { 3, 6 }, .f = { 1.25f }, .init = pe_init,
      .fwd = pe_fwd, .bwd = pe_bwd, .naive = pe_naive, .fd_h = 1e-4 },
    { .name = "mse", .nin = 2, .nograd = 2, .in_n = { 50, 50 }, .out_n = 1, .d = { 0 }, .init = dist_init,
      .fwd = dist_fwd, .bwd = dist_bwd, .naive = dist_naive },
    { .name = "l1", .nin = 2, .nograd = 2, .in_n = { 50, 50 }, .out_n = 1, .d = { 1 }, .init = dist_init,
      .fwd = dist_fwd, .bwd = dist_bwd, .naive = dist_naive, .fd_h = 1e-3 },
    SSIM("ssim", 2, 2, 16, 15, 0),
    SSIM("msssim", 1, 2, 161, 170, 1),
    RATE("rate_gaussian", 0, 40),
    RATE("rate_laplace", 1, 40),
    RATE_GMM("rate_gmm", 2, 3, 7),
};

const int nn_ncases = (int)(sizeof(nn_cases) / sizeof(nn_cases[0]));

const NnCase nn_big_cases[] = {
    CONV("big_conv3x3", 2, 32, 64, 64, 24, 3, 1, 1, 1),
    CONV("big_conv5x5_s2", 1, 16, 96, 96, 32, 5, 2, 2, 1),
    CONV("big_conv3x3_groups4", 1, 32, 48, 48, 32, 3, 1, 1, 4),
    CONV("big_conv5x5_hnerv", 1, 12, 72, 72, 48, 5, 1, 2, 1),
    CONV("big_conv3x3_wide", 2, 24, 40, 40, 64, 3, 1, 1, 1), /* weight gradient over output-channel vectors */
    CONV("big_conv1x1_blocks", 2, 80, 36, 36, 144, 1, 1, 0, 1), /* pointwise gradients in 64 x 64 blocks */
    CONV("big_dwconv7x7", 2, 16, 64, 64, 16, 7, 1, 3, 16),
    CONV("big_patchify4", 1, 3, 128, 128, 48, 4, 4, 0, 1),
    CONV("big_conv1x1", 2, 48, 64, 64, 32, 1, 1, 0, 1),
    LINEAR("big_linear", 1000, 64, 96),
    RESAMPLE("big_pixel_shuffle", ps, 2, 16, 32, 32, 2, 64, 16),
    PSA("big_pixel_shuffle_gelu", 2, 16, 32, 32, 2, NVC_ACT_GELU),
    RESAMPLE("big_upsample2", up, 2, 8, 64, 48, 2, 8, 8),
    WARP("big_warp", 2, 8, 64, 80),
    ACT("big_silu", A_SILU, 300001, 0, 0),
    ACT("big_noise", A_NOISE, 300001, 0, 0),
    BIN("big_mul", 1, 200003),
    CHANMUL("big_chanmul", 4, 32, 4096, 0, 1),
    { .name = "big_layernorm", .nin = 3, .in_n = { 2 * 48 * 4096, 48, 48 }, .out_n = 2 * 48 * 4096,
      .aux_n = 2 * 2 * 4096, .d = { 2, 48, 4096 }, .f = { 1e-6f }, .fwd = ln_fwd, .bwd = ln_bwd, .naive = ln_naive },
    { .name = "big_mse", .nin = 2, .nograd = 2, .in_n = { 1000003, 1000003 }, .out_n = 1, .d = { 0 },
      .fwd = dist_fwd, .bwd = dist_bwd, .naive = dist_naive },
    SSIM("big_ssim", 2, 3, 96, 128, 0),
    SSIM("big_msssim", 1, 3, 200, 232, 1),
    RATE("big_rate_gaussian", 0, 100000),
    RATE("big_rate_laplace", 1, 100000),
    RATE_GMM("big_rate_gmm", 2, 4, 20000),
};

const int nn_nbig_cases = (int)(sizeof(nn_big_cases) / sizeof(nn_big_cases[0]));
