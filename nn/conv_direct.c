/*
 * Stride-1 convs with more than one input channel per group (any kernel up
 * to 11, padding, groups) by register-blocked direct kernels: no im2col, no
 * GEMM packing, which dominate at the small channel counts of the INR
 * decoders (HNeRV's 5x5 convs of 12 channels).
 *
 * Forward: a unit of work is (image, group, band of R output rows, up to COG
 * output channels). Its input rows, zero-padded to Wp = W + 2 pad columns,
 * are copied once into a band buffer (cin_g planes of P floats). Output
 * position p = r Wp + ox of the band then reads input p + ky Wp + kx of each
 * plane, so a kernel computes MR output channels x NV vectors of consecutive
 * positions as a 1-D product over (ci, ky, kx) with the weights (packed
 * [ci][ky][kx][MR]) broadcast. The positions with ox >= Wo are computed and
 * dropped. The input gradient is such a conv (the caller's transposed form).
 *
 * Summation order, the same on every path (AVX-512, AVX2, plain C) and for
 * any thread count: each output is a chain of fused multiply-adds over ci,
 * ky, kx in this order starting from 0, then added to the bias (or to the
 * output when accumulating). This is also the order of the im2col GEMM it
 * replaces as OpenBLAS 0.3.21 computes it (measured on its SkylakeX kernels:
 * for K*K*cin <= 448, except in some products of a few tens of positions),
 * so the results keep their bits there.
 *
 * Weight gradient: each weight keeps LANES partial sums (band positions
 * mod 16, each a chain of fused multiply-adds over every image and band in
 * order), summed as a fixed tree at the end. A unit of work is a run of
 * blocks of WMR output channels against a range of input channels; the
 * split follows the thread count and never changes the bits.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <limits.h>
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
    MRMAX = 8,           /* output channels per kernel call, at most */
    LDT = 128,           /* tile row stride: NV x vector length, at most */
    KMAX = 11,           /* largest kernel side */
    CPOS = 16,           /* positions per call of the plain C kernels */
    BAND_POS = 1024,     /* output positions per band, about */
    WBAND_POS = 4096,    /* and in the weight gradient */
    BAND_FLOATS = 262144,/* input floats per band, at most (unless one row is more) */
    COG = 24,            /* output channels per forward unit (a multiple of every MR) */
    LANES = 16,          /* partial sums per weight gradient (positions mod 16) */
    WMR = 6, WNJ = 4,    /* weight-gradient kernels: output channels x weights per call */
    WCHUNK = 8192,       /* and positions per call, at most */
    TNJ = 6, TMV = 4,    /* transposed weight-gradient kernels: weights x 16-channel vectors per call */
    TL1 = 8192,          /* floats of transposed dout per call, about */
    TMAX = 1 << 24       /* floats of the transposed dout, at most (larger: the lanes kernels) */
};

typedef struct Direct {
    int Cin, H, W, Cout, K, pad, G, cin_g, cout_g, kk, kdim;
    int Ho, Wo, Wp, R, nbands;
    size_t hw, howo, P, band; /* floats per band plane, per band buffer */
} Direct;

/* tile[m][0..NV*VL) = sum over (c, k) of w[(c kk + k) MR + m] * x[c P + offs[k] + j] */
typedef void (*KernelFn)(const float *x, size_t P, const int *offs, int cin, int kk, const float *w, float *tile);

typedef void (*WKernelFn)(const float *dy, size_t Pd, const float *x, const size_t *offj, int n, float *acc,
                          size_t lda);

/* acc[j lda + m] += x[offj[j] + r Wp + ox] * dyt[(r Wo + ox) ldd + m] over rows
 * r < nrows, ox < Wo in order, m < 16 MV (one chain of fused multiply-adds each) */
typedef void (*TKernelFn)(const float *dyt, int ldd, const float *x, const size_t *offj, int nrows, int Wo, int Wp,
                          float *acc, int lda);

typedef struct Isa {
    KernelFn k[MRMAX + 1];          /* by MR */
    int nv[MRMAX + 1];              /* positions per call: nv[MR] * vl */
    int vl, mr;                     /* vector length, MR of the full blocks */
    int mr_wide;                    /* a larger MR for many or multiple-of-it channels, or 0 */
    WKernelFn wk[WMR + 1][WNJ + 1]; /* weight gradient, by MR and NJ */
    TKernelFn tk[TNJ + 1][TMV + 1]; /* weight gradient of 16 or more output channels, by NJ and MV */
} Isa;

/* ---- plain C (also the reference of the tests) -------------------------------------- */

static inline void kernel_c(const int MR, const float *x, size_t P, const int *offs, int cin, int kk,
                            const float *w, float *tile)
{
    float acc[MRMAX][CPOS] = { { 0 } };
    for (int c = 0; c < cin; c++, x += P)
        for (int k = 0; k < kk; k++, w += MR) {
            const float *xk = x + offs[k];
            for (int m = 0; m < MR; m++)
                for (int j = 0; j < CPOS; j++)
                    acc[m][j] = fmaf(w[m], xk[j], acc[m][j]);
        }
    for (int m = 0; m < MR; m++)
        memcpy(tile + m * LDT, acc[m], sizeof(acc[m]));
}

/* Weight-gradient kernels: acc[m][j][l] (row stride lda floats, [j][l] within) +=
 * dy[m Pd + p] * x[offj[j] + p] over positions p = l + 16 i < n (n a multiple of 16). */
static inline void wkernel_c(const int MR, const int NJ, const float *dy, size_t Pd, const float *x,
                             const size_t *offj, int n, float *acc, size_t lda)
{
    for (int m = 0; m < MR; m++)
        for (int j = 0; j < NJ; j++) {
            float *a = acc + m * lda + j * LANES;
            const float *d = dy + m * Pd, *xj = x + offj[j];
            for (int p = 0; p < n; p += LANES)
                for (int l = 0; l < LANES; l++)
                    a[l] = fmaf(d[p + l], xj[p + l], a[l]);
        }
}

static inline void tkernel_c(const int NJ, const int MV, const float *dyt, int ldd, const float *x,
                             const size_t *offj, int nrows, int Wo, int Wp, float *acc, int lda)
{
    for (int j = 0; j < NJ; j++)
        for (int m = 0; m < 16 * MV; m++) {
            float a = acc[j * lda + m];
            for (int r = 0; r < nrows; r++) {
                const float *xr = x + offj[j] + (size_t)r * Wp, *dr = dyt + (size_t)r * Wo * ldd + m;
                for (int ox = 0; ox < Wo; ox++)
                    a = fmaf(xr[ox], dr[(size_t)ox * ldd], a);
            }
            acc[j * lda + m] = a;
        }
}

#define KC(MR)                                                                                                       \
    static void kc_##MR(const float *x, size_t P, const int *offs, int cin, int kk, const float *w, float *tile)    \
    {                                                                                                                \
        kernel_c(MR, x, P, offs, cin, kk, w, tile);                                                                  \
    }
KC(1) KC(2) KC(3) KC(4) KC(5) KC(6) KC(7) KC(8)

#define WKC(MR, NJ)                                                                                                  \
    static void wkc_##MR##_##NJ(const float *dy, size_t Pd, const float *x, const size_t *offj, int n, float *acc,  \
                                size_t lda)                                                                         \
    {                                                                                                                \
        wkernel_c(MR, NJ, dy, Pd, x, offj, n, acc, lda);                                                             \
    }
#define WK_ROW(P, MR) P(MR, 1) P(MR, 2) P(MR, 3) P(MR, 4)
WK_ROW(WKC, 1) WK_ROW(WKC, 2) WK_ROW(WKC, 3) WK_ROW(WKC, 4) WK_ROW(WKC, 5) WK_ROW(WKC, 6)
#define WK_TAB(pre, MR) { NULL, pre##MR##_1, pre##MR##_2, pre##MR##_3, pre##MR##_4 }

#define TKC(NJ, MV)                                                                                                  \
    static void tkc_##NJ##_##MV(const float *dyt, int ldd, const float *x, const size_t *offj, int nrows, int Wo,  \
                                int Wp, float *acc, int lda)                                                        \
    {                                                                                                                \
        tkernel_c(NJ, MV, dyt, ldd, x, offj, nrows, Wo, Wp, acc, lda);                                               \
    }
#define TK_ROW(P, NJ) P(NJ, 1) P(NJ, 2) P(NJ, 3) P(NJ, 4)
#define TK_ROWS(P) TK_ROW(P, 1) TK_ROW(P, 2) TK_ROW(P, 3) TK_ROW(P, 4) TK_ROW(P, 5) TK_ROW(P, 6)
TK_ROWS(TKC)
#define TK_TAB(pre, NJ) { NULL, pre##NJ##_1, pre##NJ##_2, pre##NJ##_3, pre##NJ##_4 }
#define TK_ALL(pre) { { NULL }, TK_TAB(pre, 1), TK_TAB(pre, 2), TK_TAB(pre, 3), TK_TAB(pre, 4), TK_TAB(pre, 5), TK_TAB(pre, 6) }

static const Isa isa_c = {
    { NULL, kc_1, kc_2, kc_3, kc_4, kc_5, kc_6, kc_7, kc_8 }, { 0, CPOS, CPOS, CPOS, CPOS, CPOS, CPOS, CPOS, CPOS }, 1, 8, 0,
    { { NULL }, WK_TAB(wkc_, 1), WK_TAB(wkc_, 2), WK_TAB(wkc_, 3), WK_TAB(wkc_, 4), WK_TAB(wkc_, 5), WK_TAB(wkc_, 6) },
    TK_ALL(tkc_),
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

T512 void wkernel512(const int MR, const int NJ, const float *dy, size_t Pd, const float *x, const size_t *offj,
                     int n, float *acc_mem, size_t lda)
{
    __m512 acc[WMR][WNJ];
    const float *xj[WNJ];
#pragma GCC unroll 8
    for (int j = 0; j < NJ; j++) {
        xj[j] = x + offj[j];
#pragma GCC unroll 8
        for (int m = 0; m < MR; m++)
            acc[m][j] = _mm512_loadu_ps(acc_mem + m * lda + j * LANES);
    }
    /* the next call's sums (the next WNJ weights), while this one runs */
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int j = 0; j < WNJ; j++)
            _mm_prefetch((const char *)(acc_mem + m * lda + (WNJ + j) * LANES), _MM_HINT_T0);
    for (int p = 0; p < n; p += 16) {
        __m512 d[WMR];
#pragma GCC unroll 8
        for (int m = 0; m < MR; m++)
            d[m] = _mm512_loadu_ps(dy + m * Pd + p);
#pragma GCC unroll 8
        for (int j = 0; j < NJ; j++) {
            __m512 xv = _mm512_loadu_ps(xj[j] + p);
#pragma GCC unroll 8
            for (int m = 0; m < MR; m++)
                acc[m][j] = _mm512_fmadd_ps(d[m], xv, acc[m][j]);
        }
    }
#pragma GCC unroll 8
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int j = 0; j < NJ; j++)
            _mm512_storeu_ps(acc_mem + m * lda + j * LANES, acc[m][j]);
}

#define WK512(MR, NJ)                                                                                                \
    __attribute__((target("avx512f"))) static void wk512_##MR##_##NJ(const float *dy, size_t Pd, const float *x,   \
                                                                      const size_t *offj, int n, float *acc,        \
                                                                      size_t lda)                                   \
    {                                                                                                                \
        wkernel512(MR, NJ, dy, Pd, x, offj, n, acc, lda);                                                            \
    }
WK_ROW(WK512, 1) WK_ROW(WK512, 2) WK_ROW(WK512, 3) WK_ROW(WK512, 4) WK_ROW(WK512, 5) WK_ROW(WK512, 6)

T512 void tkernel512(const int NJ, const int MV, const float *dyt, int ldd, const float *x, const size_t *offj,
                     int nrows, int Wo, int Wp, float *acc_mem, int lda)
{
    __m512 acc[TNJ][TMV];
#pragma GCC unroll 8
    for (int j = 0; j < NJ; j++)
#pragma GCC unroll 8
        for (int v = 0; v < MV; v++)
            acc[j][v] = _mm512_loadu_ps(acc_mem + j * lda + 16 * v);
    for (int r = 0; r < nrows; r++) {
        const float *xr[TNJ];
#pragma GCC unroll 8
        for (int j = 0; j < NJ; j++)
            xr[j] = x + offj[j] + (size_t)r * Wp;
        const float *dr = dyt + (size_t)r * Wo * ldd;
        for (int ox = 0; ox < Wo; ox++, dr += ldd) {
            __m512 d[TMV];
#pragma GCC unroll 8
            for (int v = 0; v < MV; v++)
                d[v] = _mm512_loadu_ps(dr + 16 * v);
#pragma GCC unroll 8
            for (int j = 0; j < NJ; j++) {
                __m512 xv = _mm512_set1_ps(xr[j][ox]);
#pragma GCC unroll 8
                for (int v = 0; v < MV; v++)
                    acc[j][v] = _mm512_fmadd_ps(xv, d[v], acc[j][v]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NJ; j++)
#pragma GCC unroll 8
        for (int v = 0; v < MV; v++)
            _mm512_storeu_ps(acc_mem + j * lda + 16 * v, acc[j][v]);
}

#define TK512(NJ, MV)                                                                                                \
    __attribute__((target("avx512f"))) static void tk512_##NJ##_##MV(const float *dyt, int ldd, const float *x,    \
                                                                      const size_t *offj, int nrows, int Wo,        \
                                                                      int Wp, float *acc, int lda)                  \
    {                                                                                                                \
        tkernel512(NJ, MV, dyt, ldd, x, offj, nrows, Wo, Wp, acc, lda);                                              \
    }
TK_ROWS(TK512)

static const Isa isa_avx512 = {
    { NULL, k512_1, k512_2, k512_3, k512_4, k512_5, k512_6, k512_7, k512_8 }, { 0, 8, 8, 7, 5, 4, 4, 3, 3 }, 16, 6, 8,
    { { NULL }, WK_TAB(wk512_, 1), WK_TAB(wk512_, 2), WK_TAB(wk512_, 3), WK_TAB(wk512_, 4), WK_TAB(wk512_, 5), WK_TAB(wk512_, 6) },
    TK_ALL(tk512_),
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

/* 16 lanes as two halves; the (m, j) blocks larger than 2 x 2 run as several calls' worth of loops */
T256 void wkernel256(const int MR, const int NJ, const float *dy, size_t Pd, const float *x, const size_t *offj,
                     int n, float *acc_mem, size_t lda)
{
    for (int m0 = 0; m0 < MR; m0 += 2)
        for (int j0 = 0; j0 < NJ; j0 += 2) {
            const int mr = NVC_MIN(2, MR - m0), nj = NVC_MIN(2, NJ - j0);
            __m256 acc[2][2][2];
            for (int m = 0; m < mr; m++)
                for (int j = 0; j < nj; j++)
                    for (int h = 0; h < 2; h++)
                        acc[m][j][h] = _mm256_loadu_ps(acc_mem + (m0 + m) * lda + (j0 + j) * LANES + 8 * h);
            for (int p = 0; p < n; p += 16)
                for (int h = 0; h < 2; h++) {
                    __m256 d[2];
                    for (int m = 0; m < mr; m++)
                        d[m] = _mm256_loadu_ps(dy + (m0 + m) * Pd + p + 8 * h);
                    for (int j = 0; j < nj; j++) {
                        __m256 xv = _mm256_loadu_ps(x + offj[j0 + j] + p + 8 * h);
                        for (int m = 0; m < mr; m++)
                            acc[m][j][h] = _mm256_fmadd_ps(d[m], xv, acc[m][j][h]);
                    }
                }
            for (int m = 0; m < mr; m++)
                for (int j = 0; j < nj; j++)
                    for (int h = 0; h < 2; h++)
                        _mm256_storeu_ps(acc_mem + (m0 + m) * lda + (j0 + j) * LANES + 8 * h, acc[m][j][h]);
        }
}

#define WK256(MR, NJ)                                                                                                \
    __attribute__((target("avx2,fma"))) static void wk256_##MR##_##NJ(const float *dy, size_t Pd, const float *x,  \
                                                                       const size_t *offj, int n, float *acc,       \
                                                                       size_t lda)                                  \
    {                                                                                                                \
        wkernel256(MR, NJ, dy, Pd, x, offj, n, acc, lda);                                                            \
    }
WK_ROW(WK256, 1) WK_ROW(WK256, 2) WK_ROW(WK256, 3) WK_ROW(WK256, 4) WK_ROW(WK256, 5) WK_ROW(WK256, 6)

/* one 16-channel vector (two halves) at a time: 12 accumulators */
T256 void tkernel256_part(const int NJ, const float *dyt, int ldd, const float *x, const size_t *offj, int nrows,
                          int Wo, int Wp, float *acc_mem, int lda)
{
    __m256 acc[6][2];
#pragma GCC unroll 8
    for (int j = 0; j < NJ; j++)
        for (int h = 0; h < 2; h++)
            acc[j][h] = _mm256_loadu_ps(acc_mem + j * lda + 8 * h);
    for (int r = 0; r < nrows; r++) {
        const float *dr = dyt + (size_t)r * Wo * ldd;
        for (int ox = 0; ox < Wo; ox++, dr += ldd) {
            __m256 d0 = _mm256_loadu_ps(dr), d1 = _mm256_loadu_ps(dr + 8);
#pragma GCC unroll 8
            for (int j = 0; j < NJ; j++) {
                __m256 xv = _mm256_broadcast_ss(x + offj[j] + (size_t)r * Wp + ox);
                acc[j][0] = _mm256_fmadd_ps(xv, d0, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(xv, d1, acc[j][1]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NJ; j++)
        for (int h = 0; h < 2; h++)
            _mm256_storeu_ps(acc_mem + j * lda + 8 * h, acc[j][h]);
}

T256 void tkernel256(const int NJ, const int MV, const float *dyt, int ldd, const float *x, const size_t *offj,
                     int nrows, int Wo, int Wp, float *acc_mem, int lda)
{
    for (int v = 0; v < MV; v++)
        tkernel256_part(NJ, dyt + 16 * v, ldd, x, offj, nrows, Wo, Wp, acc_mem + 16 * v, lda);
}

#define TK256(NJ, MV)                                                                                                \
    __attribute__((target("avx2,fma"))) static void tk256_##NJ##_##MV(const float *dyt, int ldd, const float *x,   \
                                                                       const size_t *offj, int nrows, int Wo,       \
                                                                       int Wp, float *acc, int lda)                 \
    {                                                                                                                \
        tkernel256(NJ, MV, dyt, ldd, x, offj, nrows, Wo, Wp, acc, lda);                                              \
    }
TK_ROWS(TK256)

static const Isa isa_avx2 = {
    { NULL, k256_1, k256_2, k256_3, k256_4, k256_5, k256_6, k256_7, k256_8 }, { 0, 7, 5, 3, 3, 2, 2, 1, 1 }, 8, 4, 0,
    { { NULL }, WK_TAB(wk256_, 1), WK_TAB(wk256_, 2), WK_TAB(wk256_, 3), WK_TAB(wk256_, 4), WK_TAB(wk256_, 5), WK_TAB(wk256_, 6) },
    TK_ALL(tk256_),
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

static void setup(Direct *d, int Cin, int H, int W, int Cout, int K, int pad, int G, int band_pos)
{
    d->Cin = Cin, d->H = H, d->W = W, d->Cout = Cout, d->K = K, d->pad = pad, d->G = G;
    d->cin_g = Cin / G, d->cout_g = Cout / G, d->kk = K * K, d->kdim = d->cin_g * d->kk;
    d->Ho = H + 2 * pad - K + 1, d->Wo = W + 2 * pad - K + 1, d->Wp = W + 2 * pad;
    d->hw = (size_t)H * W, d->howo = (size_t)d->Ho * d->Wo;
    int rmax = (int)NVC_MIN((size_t)INT_MAX, BAND_FLOATS / ((size_t)d->cin_g * d->Wp)) - (K - 1);
    d->R = NVC_CLIP(NVC_MIN((band_pos + d->Wp - 1) / d->Wp, rmax), 1, d->Ho);
    d->nbands = (d->Ho + d->R - 1) / d->R;
    d->R = (d->Ho + d->nbands - 1) / d->nbands; /* bands of equal rows (no short last band) */
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

/* Output channels per kernel call (AVX-512, measured: 8 x 3 vectors beat 6 x 4 by
 * 5% at 48 channels, lose by 6% at 12); a divisor of COG. */
static int pick_mr(const Isa *isa, int cout_g)
{
    return isa->mr_wide && (cout_g % isa->mr_wide == 0 || cout_g > COG) ? isa->mr_wide : isa->mr;
}

/* one band: output channels [c0, c1) of group g, output rows [oy0, oy0 + rows) */
static void band_unit(float *out, const float *packed, const float *bias, const float *xp, const int *offs,
                      const Direct *d, const Isa *isa, int mrmax, int g, int c0, int c1, int oy0, int rows,
                      int accumulate)
{
    float tile[MRMAX * LDT] __attribute__((aligned(64)));
    const int npos = (rows - 1) * d->Wp + d->Wo;
    for (int co0 = c0; co0 < c1; co0 += mrmax) {
        int mr = NVC_MIN(mrmax, c1 - co0), step = isa->nv[mr] * isa->vl;
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
    setup(&d, Cin, H, W, Cout, K, pad, groups, BAND_POS);
    const int accumulate = !!(flags & NVC_CONV_ACCUMULATE);
    const size_t nw = ((size_t)Cout * d.kdim + 15) & ~(size_t)15;
    float *scratch = nvc_nn_scratch(nn, nw + (size_t)nn->threads * d.band);
    if (!scratch)
        return;
    const int mrmax = pick_mr(isa, d.cout_g);
    pack_weights(scratch, weight, &d, mrmax, !!(flags & NVC_CONV_FLIPPED));
    int offs[KMAX * KMAX];
    for (int k = 0; k < d.kk; k++)
        offs[k] = k / K * d.Wp + k % K;
    /* units: (image, group, band, COG output channels); any split gives the same bits */
    const int ncog = (d.cout_g + COG - 1) / COG, nu = B * groups * d.nbands * ncog;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int u = 0; u < nu; u++) {
        int cg = u % ncog, band = u / ncog % d.nbands, g = u / (ncog * d.nbands) % groups;
        int b = u / (ncog * d.nbands * groups), oy0 = band * d.R, rows = NVC_MIN(d.R, d.Ho - oy0);
        float *xp = scratch + nw + (size_t)nvc_thread_id() * d.band;
        build_band(xp, inp + ((size_t)b * Cin + (size_t)g * d.cin_g) * d.hw, &d, oy0, rows);
        band_unit(out + (size_t)b * Cout * d.howo, scratch, bias, xp, offs, &d, isa, mrmax, g, cg * COG,
                  NVC_MIN(d.cout_g, (cg + 1) * COG), oy0, rows, accumulate);
    }
}

/* ---- weight gradient -------------------------------------------------------------------- */

/* The 16 lanes of a weight gradient summed as a fixed tree: (l, l + 8), (l, l + 4), (l, l + 2), (l, l + 1). */
static float reduce_lanes(const float *a)
{
    float t[8];
    for (int l = 0; l < 8; l++)
        t[l] = a[l] + a[l + 8];
    for (int l = 0; l < 4; l++)
        t[l] += t[l + 4];
    t[0] += t[2], t[1] += t[3];
    return t[0] + t[1];
}

/* dout rows [oy0, oy0 + rows) of mr channels, Wp floats per row (zeros past Wo) and zeros to n16 */
static void build_dout_band(float *dyp, size_t Pd, const float *dy, const Direct *d, int mr, int oy0, int rows,
                            int n16)
{
    for (int m = 0; m < mr; m++) {
        float *dst = dyp + m * Pd;
        const float *src = dy + m * d->howo + (size_t)oy0 * d->Wo;
        for (int r = 0; r < rows; r++, dst += d->Wp, src += d->Wo) {
            memcpy(dst, src, (size_t)d->Wo * sizeof(float));
            memset(dst + d->Wo, 0, (size_t)(d->Wp - d->Wo) * sizeof(float));
        }
        memset(dst, 0, (size_t)(n16 - rows * d->Wp) * sizeof(float));
    }
}

/* A unit of the weight gradient: output-channel blocks [kb0, kb1) (WMR
 * channels each) of group g, against input channels [c0, c1). Each band's
 * input planes are copied once for all its blocks. Every weight's lanes sum
 * the positions of the images and bands in order whatever the split, so the
 * split (which follows the thread count) never changes the bits. */
typedef struct WUnit {
    int g, kb0, kb1, c0, c1;
} WUnit;

static void weight_unit(float *dweight, const float *dout, const float *inp, const Direct *d, const Isa *isa,
                        const int *offs, int B, const WUnit *u, float *work)
{
    const size_t Pd = ((size_t)d->R * d->Wp + 15) & ~(size_t)15;
    const int nci = u->c1 - u->c0, nj = nci * d->kk;
    const size_t lda = (size_t)nj * LANES;
    float *xp = work, *dyp = xp + (size_t)nci * d->P, *acc = dyp + WMR * Pd;
    Direct dc = *d; /* the unit's input planes as a band of nci channels */
    dc.cin_g = nci;
    memset(acc, 0, (size_t)(u->kb1 - u->kb0) * WMR * lda * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int oy0 = 0; oy0 < d->Ho; oy0 += d->R) {
            int rows = NVC_MIN(d->R, d->Ho - oy0), n16 = (rows * d->Wp + 15) & ~15;
            build_band(xp, inp + ((size_t)b * d->Cin + (size_t)u->g * d->cin_g + u->c0) * d->hw, &dc, oy0, rows);
            for (int kb = u->kb0; kb < u->kb1; kb++) {
                const int co0 = kb * WMR, mr = NVC_MIN(WMR, d->cout_g - co0);
                float *ab = acc + (size_t)(kb - u->kb0) * WMR * lda;
                build_dout_band(dyp, Pd, dout + ((size_t)b * d->Cout + (size_t)u->g * d->cout_g + co0) * d->howo, d,
                                mr, oy0, rows, n16);
                /* chunks of positions (in order: the same sums) that keep dy in L1 */
                for (int pc = 0; pc < n16; pc += WCHUNK)
                    for (int j0 = 0; j0 < nj; j0 += WNJ) {
                        int n = NVC_MIN(WNJ, nj - j0);
                        size_t offj[WNJ];
                        for (int j = 0; j < n; j++)
                            offj[j] = (size_t)(j0 + j) / d->kk * d->P + offs[(j0 + j) % d->kk];
                        isa->wk[mr][n](dyp + pc, Pd, xp + pc, offj, NVC_MIN(WCHUNK, n16 - pc),
                                       ab + (size_t)j0 * LANES, lda);
                    }
            }
        }
    for (int kb = u->kb0; kb < u->kb1; kb++) {
        const int co0 = kb * WMR, mr = NVC_MIN(WMR, d->cout_g - co0);
        const float *ab = acc + (size_t)(kb - u->kb0) * WMR * lda;
        for (int m = 0; m < mr; m++) {
            float *dw = dweight + ((size_t)u->g * d->cout_g + co0 + m) * d->kdim + (size_t)u->c0 * d->kk;
            for (int j = 0; j < nj; j++)
                dw[j] += reduce_lanes(ab + m * lda + (size_t)j * LANES);
        }
    }
}

/* Output channels per block of the transposed weight gradient: nmb blocks of
 * 16-channel vectors, as even as the nvt vectors allow; block mb starts at
 * vector tv_start(mb). */
static int tv_start(int nvt, int nmb, int mb)
{
    return nvt * mb / nmb;
}

/* dout (B, G, cout_g, howo) transposed block by block: block mb of (B, G,
 * howo, 16 nv) at dt + B G howo 16 tv_start(mb), zeros past cout_g. 16
 * positions at a time (the written lines stay in L1). */
static void transpose_dout(NvcNn *nn, float *dt, const float *dout, const Direct *d, int B, int nvt, int nmb)
{
    const int nqb = (int)((d->howo + 255) / 256);
    const size_t plane = (size_t)B * d->G * d->howo * 16;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * d->G * nqb; u++) {
        const size_t bg = (size_t)(u / nqb), q1 = NVC_MIN(d->howo, (size_t)(u % nqb + 1) * 256);
        const float *dy = dout + bg * d->cout_g * d->howo;
        for (int mb = 0; mb < nmb; mb++) {
            const int v0 = tv_start(nvt, nmb, mb), ld = 16 * (tv_start(nvt, nmb, mb + 1) - v0);
            const int mlo = 16 * v0, mhi = NVC_MIN(d->cout_g, mlo + ld);
            for (size_t q0 = (size_t)(u % nqb) * 256; q0 < q1; q0 += 16) {
                const int nq = (int)NVC_MIN(16, q1 - q0);
                float *t = dt + plane * v0 + (bg * d->howo + q0) * ld;
                for (int m = mlo; m < mhi; m++)
                    for (int q = 0; q < nq; q++)
                        t[(size_t)q * ld + m - mlo] = dy[(size_t)m * d->howo + q0 + q];
                for (int q = 0; q < nq; q++)
                    for (int m = mhi - mlo; m < ld; m++)
                        t[(size_t)q * ld + m] = 0.0f;
            }
        }
    }
}

/* The weight gradient of output channels [m0, m1) (up to 16 TMV, m0 a multiple
 * of 16) of group g against input channels [c0, c1), vectorized over the
 * output channels of their block dt of the transposed dout: each weight is
 * a chain of fused multiply-adds over a band's valid positions in order; the
 * band sums are added up in order (images, bands) and then onto dweight. */
static void weight_unit_t(float *dweight, const float *dt, const float *inp, const Direct *d,
                          const Isa *isa, const int *offs, int B, int g, int m0, int m1, int c0, int c1, float *work)
{
    const int nm = m1 - m0, nv = (nm + 15) / 16, lda = 16 * nv, nci = c1 - c0, nj = nci * d->kk;
    const int rch = NVC_MAX(1, TL1 / (d->Wo * lda)), njmax = NVC_MIN(TNJ, 24 / nv); /* 24 accumulators */
    const size_t nacc = (size_t)nj * lda;
    float *xp = work, *band = xp + (size_t)nci * d->P, *tot = band + nacc;
    Direct dc = *d; /* the unit's input planes as a band of nci channels */
    dc.cin_g = nci;
    memset(tot, 0, nacc * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int oy0 = 0; oy0 < d->Ho; oy0 += d->R) {
            const int rows = NVC_MIN(d->R, d->Ho - oy0);
            build_band(xp, inp + ((size_t)b * d->Cin + (size_t)g * d->cin_g + c0) * d->hw, &dc, oy0, rows);
            const float *dyt = dt + (((size_t)b * d->G + g) * d->howo + (size_t)oy0 * d->Wo) * lda;
            memset(band, 0, nacc * sizeof(float));
            for (int r0 = 0; r0 < rows; r0 += rch) /* row chunks (the same chains) that keep dyt in L1 */
                for (int j0 = 0; j0 < nj; j0 += njmax) {
                    const int n = NVC_MIN(njmax, nj - j0);
                    size_t offj[TNJ];
                    for (int jj = 0; jj < n; jj++)
                        offj[jj] = (size_t)(j0 + jj) / d->kk * d->P + offs[(j0 + jj) % d->kk] + (size_t)r0 * d->Wp;
                    isa->tk[n][nv](dyt + (size_t)r0 * d->Wo * lda, lda, xp, offj, NVC_MIN(rch, rows - r0), d->Wo,
                                   d->Wp, band + (size_t)j0 * lda, lda);
                }
            for (size_t k = 0; k < nacc; k++)
                tot[k] += band[k];
        }
    for (int m = 0; m < nm; m++) {
        float *dw = dweight + ((size_t)g * d->cout_g + m0 + m) * d->kdim + (size_t)c0 * d->kk;
        for (int jj = 0; jj < nj; jj++)
            dw[jj] += tot[(size_t)jj * lda + m];
    }
}

void nvc_conv2d_direct_backward_weight(NvcNn *nn, const float *dout, const float *inp, float *dweight, int B,
                                       int Cin, int H, int W, int Cout, int K, int pad, int groups)
{
    const Isa *isa = isa_get();
    Direct d;
    setup(&d, Cin, H, W, Cout, K, pad, groups, WBAND_POS);
    int offs[KMAX * KMAX];
    for (int k = 0; k < d.kk; k++)
        offs[k] = k / K * d.Wp + k % K;
    /* about two units per thread; when a group has too few blocks of output
     * channels for that, its input channels split into ncs ranges */
    const int want = (2 * nn->threads + groups - 1) / groups;
    /* vectorized over the output channels where that fills at least two vectors
     * per block (measured: slower at 16, 24 and 48 channels than the lanes) and
     * the transposed dout stays within TMAX floats (64 MiB) */
    if ((d.cout_g >= 64 || d.cout_g % 32 == 0) &&
        (size_t)B * groups * d.howo * ((d.cout_g + 15) / 16 * 16) <= TMAX) {
        /* blocks of up to 16 TMV output channels, as even as 16-channel vectors allow */
        const int nvt = (d.cout_g + 15) / 16, nmb = (nvt + TMV - 1) / TMV;
        const int ncs = NVC_MIN(d.cin_g, (want + nmb - 1) / nmb), cimax = (d.cin_g + ncs - 1) / ncs;
        const int lda = 16 * ((nvt + nmb - 1) / nmb);
        const size_t plane = (size_t)B * groups * d.howo * 16, nt = plane * nvt;
        const size_t work = (size_t)cimax * d.P + 2 * (size_t)cimax * d.kk * lda;
        float *scratch = nvc_nn_scratch(nn, nt + (size_t)nn->threads * work);
        if (!scratch)
            return;
        transpose_dout(nn, scratch, dout, &d, B, nvt, nmb);
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
        for (int i = 0; i < groups * nmb * ncs; i++) {
            const int g = i / (nmb * ncs), mb = i / ncs % nmb, cs = i % ncs, v0 = tv_start(nvt, nmb, mb);
            const int m0 = 16 * v0, m1 = NVC_MIN(d.cout_g, 16 * tv_start(nvt, nmb, mb + 1));
            weight_unit_t(dweight, scratch + plane * v0, inp, &d, isa, offs, B, g, m0, m1, d.cin_g * cs / ncs,
                          d.cin_g * (cs + 1) / ncs, scratch + nt + (size_t)nvc_thread_id() * work);
        }
        return;
    }
    /* the output-channel blocks of a group split into nks runs (each input
     * plane is copied once per run) */
    const int nb = (d.cout_g + WMR - 1) / WMR;
    const int nks = NVC_MIN(nb, want), ncs = NVC_MIN(d.cin_g, (want + nks - 1) / nks);
    const int kbmax = (nb + nks - 1) / nks, cimax = (d.cin_g + ncs - 1) / ncs;
    const size_t Pd = ((size_t)d.R * d.Wp + 15) & ~(size_t)15;
    const size_t work = (size_t)cimax * d.P + WMR * Pd + (size_t)kbmax * WMR * cimax * d.kk * LANES;
    float *scratch = nvc_nn_scratch(nn, (size_t)nn->threads * work);
    if (!scratch)
        return;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int i = 0; i < groups * nks * ncs; i++) {
        const int g = i / (nks * ncs), ks = i / ncs % nks, cs = i % ncs;
        const WUnit u = { g, nb * ks / nks, nb * (ks + 1) / nks, d.cin_g * cs / ncs, d.cin_g * (cs + 1) / ncs };
        weight_unit(dweight, dout, inp, &d, isa, offs, B, &u, scratch + (size_t)nvc_thread_id() * work);
    }
}
