/*
 * Stride-1 convs with more than one input channel per group (any kernel up
 * to 11, padding, groups) by register-blocked direct kernels: no im2col, no
 * GEMM packing, which dominate at the small channel counts of the INR
 * decoders (HNeRV's 5x5 convs of 12 channels).
 *
 * A unit of work is (image, group, band of R output rows). Its input rows,
 * zero-padded to Wp = W + 2 pad columns, are copied once into a band buffer
 * (cin_g planes of P floats). Output position p = r Wp + ox of the band then
 * reads input p + ky Wp + kx of each plane, so a kernel computes MR output
 * channels x NV vectors of consecutive positions as a 1-D product over
 * (ci, ky, kx) with the weights (packed [ci][ky][kx][MR]) broadcast. The
 * positions with ox >= Wo are computed and dropped.
 *
 * Summation order, the same on every path (AVX-512, AVX2, plain C) and for
 * any thread count: each output is a chain of fused multiply-adds over ci,
 * ky, kx in this order starting from 0, then added to the bias (or to the
 * output when accumulating). This is also the order of the im2col GEMM it
 * replaces as OpenBLAS computes it (its x86-64 kernels, for K*K*cin <= 448
 * and at least 16 output positions), so the results keep their bits there.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/vmath.h"

enum {
    MRMAX = 8,     /* output channels per kernel call, at most */
    LDT = 128,     /* tile row stride: NV x vector length, at most */
    KMAX = 11,     /* largest kernel side */
    BAND_POS = 2048 /* output positions per band, about */
};

typedef struct Direct {
    int Cin, H, W, Cout, K, pad, G, cin_g, cout_g, kk, kdim;
    int Ho, Wo, Wp, R, nbands;
    size_t hw, howo, P, band; /* floats per band plane, per band buffer */
} Direct;

/* tile[m][0..NV*VL) = sum over (c, k) of w[(c kk + k) MR + m] * x[c P + offs[k] + j] */
typedef void (*KernelFn)(const float *x, size_t P, const int *offs, int cin, int kk, const float *w, float *tile);

typedef struct Isa {
    KernelFn k[MRMAX + 1]; /* by MR */
    int nv[MRMAX + 1];     /* positions per call: nv[MR] * vl */
    int vl, mr;            /* vector length, MR of the full blocks */
} Isa;

/* ---- plain C (also the reference of the tests) -------------------------------------- */

#define NVC_SCALAR_POS 16

static inline void kernel_c(const int MR, const float *x, size_t P, const int *offs, int cin, int kk,
                            const float *w, float *tile)
{
    float acc[MRMAX][NVC_SCALAR_POS] = { { 0 } };
    for (int c = 0; c < cin; c++, x += P)
        for (int k = 0; k < kk; k++, w += MR) {
            const float *xk = x + offs[k];
            for (int m = 0; m < MR; m++)
                for (int j = 0; j < NVC_SCALAR_POS; j++)
                    acc[m][j] = fmaf(w[m], xk[j], acc[m][j]);
        }
    for (int m = 0; m < MR; m++)
        memcpy(tile + m * LDT, acc[m], sizeof(acc[m]));
}

#define KC(MR)                                                                                                       \
    static void kc_##MR(const float *x, size_t P, const int *offs, int cin, int kk, const float *w, float *tile)    \
    {                                                                                                                \
        kernel_c(MR, x, P, offs, cin, kk, w, tile);                                                                  \
    }
KC(1) KC(2) KC(3) KC(4) KC(5) KC(6) KC(7) KC(8)

static const Isa isa_c = {
    { NULL, kc_1, kc_2, kc_3, kc_4, kc_5, kc_6, kc_7, kc_8 }, { 0, 16, 16, 16, 16, 16, 16, 16, 16 }, 1, 8,
};

#if HAVE_X86
/* ---- AVX-512: 32 registers, MR x NV accumulators + NV inputs + 1 weight --------------- */

#define T512 __attribute__((target("avx512f"), always_inline)) static inline

T512 void kernel512(const int MR, const int NV, const float *x, size_t P, const int *offs, int cin, int kk,
                    const float *w, float *tile)
{
    __m512 acc[MRMAX][8];
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[m][v] = _mm512_setzero_ps();
    for (int c = 0; c < cin; c++, x += P)
        for (int k = 0; k < kk; k++, w += MR) {
            const float *xk = x + offs[k];
            __m512 xv[8];
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                xv[v] = _mm512_loadu_ps(xk + 16 * v);
#pragma GCC unroll 8
            for (int m = 0; m < MR; m++) {
                __m512 wv = _mm512_set1_ps(w[m]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; v++)
                    acc[m][v] = _mm512_fmadd_ps(wv, xv[v], acc[m][v]);
            }
        }
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            _mm512_storeu_ps(tile + m * LDT + 16 * v, acc[m][v]);
}

#define K512(MR, NV)                                                                                                 \
    __attribute__((target("avx512f"))) static void k512_##MR(const float *x, size_t P, const int *offs, int cin,    \
                                                             int kk, const float *w, float *tile)                   \
    {                                                                                                                \
        kernel512(MR, NV, x, P, offs, cin, kk, w, tile);                                                             \
    }
K512(1, 8) K512(2, 8) K512(3, 7) K512(4, 5) K512(5, 4) K512(6, 4) K512(7, 3) K512(8, 3)

static const Isa isa_avx512 = {
    { NULL, k512_1, k512_2, k512_3, k512_4, k512_5, k512_6, k512_7, k512_8 }, { 0, 8, 8, 7, 5, 4, 4, 3, 3 }, 16, 6,
};

/* ---- AVX2 + FMA: 16 registers ----------------------------------------------------------- */

#define T256 __attribute__((target("avx2,fma"), always_inline)) static inline

T256 void kernel256(const int MR, const int NV, const float *x, size_t P, const int *offs, int cin, int kk,
                    const float *w, float *tile)
{
    __m256 acc[MRMAX][8];
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[m][v] = _mm256_setzero_ps();
    for (int c = 0; c < cin; c++, x += P)
        for (int k = 0; k < kk; k++, w += MR) {
            const float *xk = x + offs[k];
            __m256 xv[8];
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                xv[v] = _mm256_loadu_ps(xk + 8 * v);
#pragma GCC unroll 8
            for (int m = 0; m < MR; m++) {
                __m256 wv = _mm256_broadcast_ss(w + m);
#pragma GCC unroll 8
                for (int v = 0; v < NV; v++)
                    acc[m][v] = _mm256_fmadd_ps(wv, xv[v], acc[m][v]);
            }
        }
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            _mm256_storeu_ps(tile + m * LDT + 8 * v, acc[m][v]);
}

#define K256(MR, NV)                                                                                                 \
    __attribute__((target("avx2,fma"))) static void k256_##MR(const float *x, size_t P, const int *offs, int cin,   \
                                                              int kk, const float *w, float *tile)                  \
    {                                                                                                                \
        kernel256(MR, NV, x, P, offs, cin, kk, w, tile);                                                             \
    }
K256(1, 7) K256(2, 5) K256(3, 3) K256(4, 3) K256(5, 2) K256(6, 2) K256(7, 1) K256(8, 1)

static const Isa isa_avx2 = {
    { NULL, k256_1, k256_2, k256_3, k256_4, k256_5, k256_6, k256_7, k256_8 }, { 0, 7, 5, 3, 3, 2, 2, 1, 1 }, 8, 4,
};
#endif

/* The best kernels of this CPU, by the CPU alone; NVC_CONV_DIRECT_NONE where
 * there is no hardware fused multiply-add (the GEMM path is faster there). */
static int isa_best(void)
{
#if HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return NVC_CONV_DIRECT_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return NVC_CONV_DIRECT_AVX2;
    return NVC_CONV_DIRECT_NONE;
#elif defined(FP_FAST_FMAF)
    return NVC_CONV_DIRECT_C;
#else
    return NVC_CONV_DIRECT_NONE;
#endif
}

static int isa_limit = -1; /* tests lower it: nvc_conv2d_direct_set_isa */

int nvc_conv2d_direct_set_isa(int isa)
{
    isa_limit = NVC_MIN(isa, isa_best());
    return isa_limit;
}

static const Isa *isa_get(void)
{
    int i = isa_limit < 0 ? isa_best() : isa_limit;
#if HAVE_X86
    if (i == NVC_CONV_DIRECT_AVX512)
        return &isa_avx512;
    if (i == NVC_CONV_DIRECT_AVX2)
        return &isa_avx2;
#endif
    return i == NVC_CONV_DIRECT_C ? &isa_c : NULL;
}

int nvc_conv2d_direct_ok(int cin_g, int K, int stride)
{
    return stride == 1 && K > 1 && K <= KMAX && cin_g > 1 && isa_get();
}

/* ---- driver ----------------------------------------------------------------------------- */

static void setup(Direct *d, int Cin, int H, int W, int Cout, int K, int pad, int G)
{
    d->Cin = Cin, d->H = H, d->W = W, d->Cout = Cout, d->K = K, d->pad = pad, d->G = G;
    d->cin_g = Cin / G, d->cout_g = Cout / G, d->kk = K * K, d->kdim = d->cin_g * d->kk;
    d->Ho = H + 2 * pad - K + 1, d->Wo = W + 2 * pad - K + 1, d->Wp = W + 2 * pad;
    d->hw = (size_t)H * W, d->howo = (size_t)d->Ho * d->Wo;
    d->R = NVC_CLIP((BAND_POS + d->Wp - 1) / d->Wp, 1, d->Ho);
    d->nbands = (d->Ho + d->R - 1) / d->R;
    /* the kernels read up to LDT positions past the band's last row */
    d->P = ((size_t)(d->R + K - 1) * d->Wp + LDT + 15) & ~(size_t)15;
    d->band = d->P * d->cin_g;
}

/* Packed weights of each (group, block of MR output channels): [ci][ky][kx][mr].
 * flip: the conv is the input gradient of a conv with Cin and Cout swapped,
 * whose weights are read transposed and rotated by 180 degrees. */
static void pack_weights(float *dst, const float *weight, const Direct *d, int mrmax, int flip)
{
    for (int g = 0; g < d->G; g++)
        for (int co0 = 0; co0 < d->cout_g; co0 += mrmax) {
            int mr = NVC_MIN(mrmax, d->cout_g - co0);
            float *p = dst + ((size_t)g * d->cout_g + co0) * d->kdim;
            for (int cl = 0; cl < d->cin_g; cl++)
                for (int k = 0; k < d->kk; k++)
                    for (int m = 0; m < mr; m++) {
                        size_t co = (size_t)g * d->cout_g + co0 + m;
                        size_t i = flip ? (((size_t)g * d->cin_g + cl) * d->cout_g + co0 + m) * d->kk + d->kk - 1 - k
                                        : (co * d->cin_g + cl) * d->kk + k;
                        *p++ = weight[i];
                    }
        }
}

/* Input rows [oy0 - pad, oy0 - pad + rows + K - 1) of cin_g planes, zero-padded. */
static void build_band(float *xp, const float *x, const Direct *d, int oy0, int rows)
{
    const int nr = rows + d->K - 1, Wp = d->Wp, pad = d->pad, W = d->W;
    for (int cl = 0; cl < d->cin_g; cl++) {
        float *dst = xp + (size_t)cl * d->P;
        const float *src = x + (size_t)cl * d->hw;
        for (int r = 0; r < nr; r++, dst += Wp) {
            int iy = oy0 + r - pad;
            if (iy < 0 || iy >= d->H) {
                memset(dst, 0, (size_t)Wp * sizeof(float));
                continue;
            }
            memset(dst, 0, (size_t)pad * sizeof(float));
            memcpy(dst + pad, src + (size_t)iy * W, (size_t)W * sizeof(float));
            memset(dst + pad + W, 0, (size_t)(Wp - pad - W) * sizeof(float));
        }
        memset(dst, 0, (d->P - (size_t)nr * Wp) * sizeof(float));
    }
}

/* y (mr channels of Ho x Wo) rows from oy0: band positions [p0, p0 + n) of tile,
 * plus the bias (or onto y when accumulating) */
NVC_VEC_CLONES static void emit(float *y, const float *tile, const float *bias, const Direct *d, int mr, int oy0, int p0, int n,
                 int accumulate)
{
    const int Wp = d->Wp, Wo = d->Wo;
    int r = p0 / Wp, ox = p0 % Wp;
    for (int j = 0; j < n; r++, ox = 0) {
        int len = NVC_MIN(Wp - ox, n - j), valid = NVC_MIN(len, Wo - ox);
        for (int m = 0; m < mr && valid > 0; m++) {
            float *dst = y + (size_t)m * d->howo + (size_t)(oy0 + r) * Wo + ox;
            const float *src = tile + m * LDT + j;
            if (accumulate) {
#pragma omp simd
                for (int t = 0; t < valid; t++)
                    dst[t] += src[t];
            } else if (bias) {
                float b = bias[m];
#pragma omp simd
                for (int t = 0; t < valid; t++)
                    dst[t] = b + src[t];
            } else {
                memcpy(dst, src, (size_t)valid * sizeof(float));
            }
        }
        j += len;
    }
}

/* one band: all output channels of group g, output rows [oy0, oy0 + rows) */
static void band_unit(float *out, const float *packed, const float *bias, const float *xp, const int *offs,
                      const Direct *d, const Isa *isa, int g, int oy0, int rows, int accumulate)
{
    float tile[MRMAX * LDT] __attribute__((aligned(64)));
    const int npos = (rows - 1) * d->Wp + d->Wo;
    for (int co0 = 0; co0 < d->cout_g; co0 += isa->mr) {
        int mr = NVC_MIN(isa->mr, d->cout_g - co0), step = isa->nv[mr] * isa->vl;
        size_t co = (size_t)g * d->cout_g + co0;
        const float *w = packed + co * d->kdim;
        for (int p0 = 0; p0 < npos; p0 += step) {
            isa->k[mr](xp + p0, d->P, offs, d->cin_g, d->kk, w, tile);
            emit(out + co * d->howo, tile, bias ? bias + co : NULL, d, mr, oy0, p0, NVC_MIN(step, npos - p0),
                 accumulate);
        }
    }
}

void nvc_conv2d_direct(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias, int B,
                       int Cin, int H, int W, int Cout, int K, int pad, int groups, int flags)
{
    const Isa *isa = isa_get();
    Direct d;
    setup(&d, Cin, H, W, Cout, K, pad, groups);
    const int accumulate = !!(flags & NVC_CONV_ACCUMULATE);
    const size_t nw = ((size_t)Cout * d.kdim + 15) & ~(size_t)15;
    float *scratch = nvc_nn_scratch(nn, nw + (size_t)nn->threads * d.band);
    if (!scratch)
        return;
    pack_weights(scratch, weight, &d, isa->mr, !!(flags & NVC_CONV_FLIPPED));
    int offs[KMAX * KMAX];
    for (int k = 0; k < d.kk; k++)
        offs[k] = k / K * d.Wp + k % K;
    const int nu = B * groups * d.nbands;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < nu; u++) {
        int b = u / (groups * d.nbands), g = u / d.nbands % groups, oy0 = u % d.nbands * d.R;
        int rows = NVC_MIN(d.R, d.Ho - oy0);
        float *xp = scratch + nw + (size_t)nvc_thread_id() * d.band;
        build_band(xp, inp + ((size_t)b * Cin + (size_t)g * d.cin_g) * d.hw, &d, oy0, rows);
        band_unit(out + (size_t)b * Cout * d.howo, scratch, bias, xp, offs, &d, isa, g, oy0, rows, accumulate);
    }
}
