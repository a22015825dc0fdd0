/*
 * Elementwise, activation and channel ops on the CPU.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/rng.h"
#include "nn/vmath.h"

/* Below this many elements a loop runs on one thread. */
#define PAR_MIN 32768

/* A parallel loop over n elements (uses the variables nn and n). */
#define EACH _Pragma("omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)")
/* The same for loops whose iterations are independent (no sums across them),
 * in vectors: GCC's -O2 cost model leaves them scalar otherwise. IEEE ops and
 * no contraction (-std=c11): the bits of the scalar loop; libm calls stay
 * scalar calls. */
#define EACH_SIMD _Pragma("omp parallel for simd num_threads(nn->threads) if (n >= PAR_MIN) schedule(simd : static)")

void nvc_tensor_zero(NvcNn *nn, float *x, size_t n)
{
    /* large buffers (a model's gradients) in one slice per thread: one core's
     * stores fall short of the memory bandwidth */
    const int nt = n >= (1u << 20) ? nn->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t a = n / nt * t, b = t == nt - 1 ? n : n / nt * (t + 1);
        memset(x + a, 0, (b - a) * sizeof(float));
    }
}

void nvc_tensor_copy(NvcNn *nn, float *dst, const float *src, size_t n)
{
    (void)nn;
    if (n)
        memmove(dst, src, n * sizeof(float));
}

void nvc_tensor_scale(NvcNn *nn, float *x, float a, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        x[i] *= a;
}

void nvc_tensor_sumsq(NvcNn *nn, float *out, const float *x, size_t n)
{
    size_t nb = nvc_nblocks(n, NVC_BLOCK);
    double *part = nvc_nn_partials(nn, nb);
    if (!part)
        return;
    EACH
    for (size_t b = 0; b < nb; b++) {
        size_t e = NVC_MIN(n, (b + 1) * NVC_BLOCK);
        double s = 0.0;
        for (size_t i = b * NVC_BLOCK; i < e; i++)
            s += (double)x[i] * x[i];
        part[b] = s;
    }
    *out = (float)nvc_sum_blocks(part, nb);
}

/* ---- activations ------------------------------------------------------------------ */

/* y = f(a) (forward) or y += dout a * g(b) (backward), over n elements; p: a parameter */
typedef void (*EwKernel)(float *y, const float *a, const float *b, float p, size_t n);

static void ew_run(NvcNn *nn, EwKernel k, float *y, const float *a, const float *b, float p, size_t n)
{
    const size_t blk = 16384;
    const size_t nb = nvc_nblocks(n, blk);
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < nb; i++) {
        size_t o = i * blk;
        k(y + o, a + o, b ? b + o : NULL, p, NVC_MIN(blk, n - o));
    }
}

/* GELU (erf form) through the vectorizable normal CDF of nn/vmath.h */
NVC_VEC_CLONES static void gelu_fwd_k(float *y, const float *x, const float *unused, float p, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * nvc_vnormcdf(x[i]);
}

/* GELU's derivative Phi(x) + x phi(x), training only (no decoder reads it):
 * Phi from erfc(z) ~ t (a1 + a2 t + .. + a5 t^4) e^(-z^2), t = 1 / (1 + p z),
 * z = |x| / sqrt 2 (Abramowitz and Stegun 7.1.26, absolute error below
 * 1.5e-7), whose e^(-z^2) is phi's own exponential: one exp, not two. */
NVC_VEC_CLONES static void gelu_bwd_k(float *dx, const float *dy, const float *x, float p, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float v = x[i], z = (v < 0.0f ? -v : v) * 0.70710678f, e = nvc_vexpf(-0.5f * v * v);
        float t = 1.0f / (1.0f + 0.3275911f * z);
        float h = 0.5f * e * t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f +
                  t * (-1.453152027f + t * 1.061405429f)))); /* 0.5 erfc(z) */
        float cdf = v >= 0.0f ? 1.0f - h : h;
        dx[i] += dy[i] * (cdf + v * 0.3989422804f * e);
    }
}

NVC_VEC_CLONES static void silu_fwd_k(float *y, const float *x, const float *unused, float p, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] / (1.0f + nvc_vexpf(-x[i]));
}

NVC_VEC_CLONES static void silu_bwd_k(float *dx, const float *dy, const float *x, float p, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + nvc_vexpf(-x[i]));
        dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

NVC_VEC_CLONES static void sigmoid_fwd_k(float *y, const float *x, const float *unused, float p, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + nvc_vexpf(-x[i]));
}

void nvc_gelu_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    ew_run(nn, gelu_fwd_k, out, inp, NULL, 0.0f, n);
}

void nvc_gelu_backward(NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n)
{
    ew_run(nn, gelu_bwd_k, dinp, dout, inp, 0.0f, n);
}

void nvc_silu_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    ew_run(nn, silu_fwd_k, out, inp, NULL, 0.0f, n);
}

void nvc_silu_backward(NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n)
{
    ew_run(nn, silu_bwd_k, dinp, dout, inp, 0.0f, n);
}

/* ---- PixelShuffle and an activation in one pass ------------------------------------ */

static int psa_check(NvcNn *nn, int B, int C, int H, int W, int s, int act)
{
    if (B > 0 && C > 0 && H > 0 && W > 0 && s > 0 && s <= 64 && (act == NVC_ACT_GELU || act == NVC_ACT_SILU))
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "pixel_shuffle_act: bad shape B=%d C=%d H=%d W=%d s=%d act=%d", B, C, H,
                       W, s, act);
}

enum { PSA_COLS = 1024 }; /* output columns per pass (times s: a multiple of s) */

void nvc_pixel_shuffle_act_forward(NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s,
                                   int act)
{
    if (psa_check(nn, B, C, H, W, s, act))
        return;
    const EwKernel k = act == NVC_ACT_GELU ? gelu_fwd_k : silu_fwd_k;
    const int Ho = H * s, Wo = W * s, rows = B * C * Ho;
    const size_t hw = (size_t)H * W, n = (size_t)rows * Wo;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (int u = 0; u < rows; u++) {
        float t[PSA_COLS];
        const int ch = u / Ho, oy = u % Ho, step = PSA_COLS / s * s;
        const float *x = inp + (size_t)ch * s * s * hw;
        for (int c0 = 0; c0 < Wo; c0 += step) {
            const int L = NVC_MIN(step, Wo - c0);
            nvc_ps_gather_row(t, x, hw, W, s, oy, c0, L);
            k(out + (size_t)u * Wo + c0, t, NULL, 0.0f, (size_t)L);
        }
    }
}

void nvc_pixel_shuffle_act_backward(NvcNn *nn, const float *dout, const float *inp, float *dinp, int B, int C,
                                    int H, int W, int s, int act)
{
    if (psa_check(nn, B, C, H, W, s, act))
        return;
    const EwKernel k = act == NVC_ACT_GELU ? gelu_bwd_k : silu_bwd_k;
    const int Ho = H * s, Wo = W * s, rows = B * C * Ho;
    const size_t hw = (size_t)H * W, n = (size_t)rows * Wo;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (int u = 0; u < rows; u++) {
        float t[PSA_COLS], g[PSA_COLS];
        const int ch = u / Ho, oy = u % Ho, step = PSA_COLS / s * s;
        const size_t off = (size_t)ch * s * s * hw;
        for (int c0 = 0; c0 < Wo; c0 += step) {
            const int L = NVC_MIN(step, Wo - c0);
            nvc_ps_gather_row(t, inp + off, hw, W, s, oy, c0, L);
            memset(g, 0, (size_t)L * sizeof(float));
            k(g, dout + (size_t)u * Wo + c0, t, 0.0f, (size_t)L); /* g = dout act'(x): the bits of a zeroed d */
            nvc_ps_scatter_add_row(dinp + off, g, hw, W, s, oy, c0, L);
        }
    }
}

void nvc_leaky_relu_forward(NvcNn *nn, float *out, const float *inp, float slope, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] >= 0.0f ? inp[i] : slope * inp[i];
}

void nvc_leaky_relu_backward(NvcNn *nn, const float *dout, const float *inp, float *dinp, float slope, size_t n)
{
    /* at 0 the slope, as PyTorch (x > 0 ? 1 : slope) */
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += inp[i] > 0.0f ? dout[i] : slope * dout[i];
}

void nvc_sin_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = sinf(inp[i]);
}

void nvc_sin_backward(NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i] * cosf(inp[i]);
}

void nvc_tanh_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(inp[i]);
}

void nvc_tanh_backward(NvcNn *nn, const float *dout, const float *out, float *dinp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void nvc_sigmoid_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    ew_run(nn, sigmoid_fwd_k, out, inp, NULL, 0.0f, n);
}

void nvc_sigmoid_backward(NvcNn *nn, const float *dout, const float *out, float *dinp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

void nvc_affine_forward(NvcNn *nn, float *out, const float *inp, float a, float b, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = a * inp[i] + b;
}

void nvc_affine_backward(NvcNn *nn, const float *dout, float *dinp, float a, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += a * dout[i];
}

/* ---- binary ops, rounding, noise ---------------------------------------------------- */

void nvc_add_forward(NvcNn *nn, float *out, const float *x, const float *y, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] + y[i];
}

void nvc_add_backward(NvcNn *nn, const float *dout, float *dx, float *dy, size_t n)
{
    if (dx) {
        EACH_SIMD
        for (size_t i = 0; i < n; i++)
            dx[i] += dout[i];
    }
    if (dy) {
        EACH_SIMD
        for (size_t i = 0; i < n; i++)
            dy[i] += dout[i];
    }
}

void nvc_mul_forward(NvcNn *nn, float *out, const float *x, const float *y, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] * y[i];
}

void nvc_mul_backward(NvcNn *nn, const float *dout, const float *x, const float *y, float *dx, float *dy, size_t n)
{
    if (dx) {
        EACH_SIMD
        for (size_t i = 0; i < n; i++)
            dx[i] += dout[i] * y[i];
    }
    if (dy) {
        EACH_SIMD
        for (size_t i = 0; i < n; i++)
            dy[i] += dout[i] * x[i];
    }
}

void nvc_round_forward(NvcNn *nn, float *out, const float *inp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = rintf(inp[i]); /* half to even, as torch.round */
}

void nvc_round_backward(NvcNn *nn, const float *dout, float *dinp, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i];
}

void nvc_noise_forward(NvcNn *nn, float *out, const float *inp, uint64_t seed, uint64_t offset, size_t n)
{
    EACH_SIMD
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] + (nvc_u32_to_unit(nvc_philox_u32(seed, offset + i)) - 0.5f);
}

void nvc_noise_backward(NvcNn *nn, const float *dout, float *dinp, size_t n)
{
    nvc_round_backward(nn, dout, dinp, n);
}

/* ---- channel ops ------------------------------------------------------------------------ */

void nvc_chanmul_forward(NvcNn *nn, float *out, const float *inp, const float *scale, const float *shift, int B,
                         int C, int HW, int per_sample)
{
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        int k = per_sample ? u : u % C;
        float a = scale[k], b = shift ? shift[k] : 0.0f;
        const float *x = inp + (size_t)u * HW;
        float *y = out + (size_t)u * HW;
#pragma omp simd
        for (int i = 0; i < HW; i++)
            y[i] = x[i] * a + b;
    }
}

void nvc_chanmul_backward(NvcNn *nn, const float *dout, const float *inp, const float *scale, float *dinp,
                          float *dscale, float *dshift, int B, int C, int HW, int per_sample)
{
    if (dinp) {
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int u = 0; u < B * C; u++) {
            float a = scale[per_sample ? u : u % C];
            const float *dy = dout + (size_t)u * HW;
            float *dx = dinp + (size_t)u * HW;
#pragma omp simd
            for (int i = 0; i < HW; i++)
                dx[i] += dy[i] * a;
        }
    }
    if (!dscale && !dshift)
        return;
    /* one unit per parameter; per_sample == 0 sums the batch in order */
    int np = per_sample ? B * C : C, nb = per_sample ? 1 : B;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int k = 0; k < np; k++) {
        /* 8 running sums (positions mod 8: one vector of doubles), then a fixed tree */
        double ss8[8] = { 0 }, sb8[8] = { 0 };
        for (int b = 0; b < nb; b++) {
            size_t u = per_sample ? (size_t)k : (size_t)b * C + k;
            const float *dy = dout + u * HW, *x = inp + u * HW;
            int i = 0;
            for (; i + 8 <= HW; i += 8)
                for (int l = 0; l < 8; l++) {
                    ss8[l] += (double)dy[i + l] * x[i + l];
                    sb8[l] += dy[i + l];
                }
            for (int l = 0; i < HW; i++, l++) {
                ss8[l] += (double)dy[i] * x[i];
                sb8[l] += dy[i];
            }
        }
        for (int w = 4; w; w /= 2)
            for (int l = 0; l < w; l++)
                ss8[l] += ss8[l + w], sb8[l] += sb8[l + w];
        const double ss = ss8[0], sb = sb8[0];
        if (dscale)
            dscale[k] += (float)ss;
        if (dshift)
            dshift[k] += (float)sb;
    }
}

void nvc_concat_forward(NvcNn *nn, float *out, const float *x, const float *y, int B, int Ca, int Cb, int HW)
{
    (void)nn;
    size_t na = (size_t)Ca * HW, nb = (size_t)Cb * HW;
    for (int b = 0; b < B; b++) {
        memcpy(out + b * (na + nb), x + b * na, na * sizeof(float));
        memcpy(out + b * (na + nb) + na, y + b * nb, nb * sizeof(float));
    }
}

static void acc(float *dst, const float *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

void nvc_concat_backward(NvcNn *nn, const float *dout, float *dx, float *dy, int B, int Ca, int Cb, int HW)
{
    size_t na = (size_t)Ca * HW, nb = (size_t)Cb * HW;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int b = 0; b < B; b++) {
        if (dx)
            acc(dx + b * na, dout + b * (na + nb), na);
        if (dy)
            acc(dy + b * nb, dout + b * (na + nb) + na, nb);
    }
}

void nvc_split_forward(NvcNn *nn, float *x, float *y, const float *inp, int B, int Ca, int Cb, int HW)
{
    (void)nn;
    size_t na = (size_t)Ca * HW, nb = (size_t)Cb * HW;
    for (int b = 0; b < B; b++) {
        if (x)
            memcpy(x + b * na, inp + b * (na + nb), na * sizeof(float));
        if (y)
            memcpy(y + b * nb, inp + b * (na + nb) + na, nb * sizeof(float));
    }
}

void nvc_split_backward(NvcNn *nn, const float *dx, const float *dy, float *dinp, int B, int Ca, int Cb, int HW)
{
    size_t na = (size_t)Ca * HW, nb = (size_t)Cb * HW;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int b = 0; b < B; b++) {
        if (dx)
            acc(dinp + b * (na + nb), dx + b * na, na);
        if (dy)
            acc(dinp + b * (na + nb) + na, dy + b * nb, nb);
    }
}

/* ---- positional encoding -------------------------------------------------------------------- */

void nvc_posenc_forward(NvcNn *nn, float *out, const float *t, int N, int L, float base)
{
    (void)nn;
    for (int i = 0; i < N; i++)
        for (int l = 0; l < L; l++) {
            double a = pow(base, l) * M_PI * t[i]; /* double: high frequencies need it */
            out[(size_t)i * 2 * L + 2 * l] = (float)sin(a);
            out[(size_t)i * 2 * L + 2 * l + 1] = (float)cos(a);
        }
}

void nvc_posenc_backward(NvcNn *nn, const float *dout, const float *t, float *dt, int N, int L, float base)
{
    (void)nn;
    if (!dt)
        return;
    for (int i = 0; i < N; i++) {
        double g = 0.0;
        for (int l = 0; l < L; l++) {
            double f = pow(base, l) * M_PI, a = f * t[i];
            g += f * (dout[(size_t)i * 2 * L + 2 * l] * cos(a) - dout[(size_t)i * 2 * L + 2 * l + 1] * sin(a));
        }
        dt[i] += (float)g;
    }
}
