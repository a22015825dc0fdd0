/*
 * SGEMM for the CPU ops: OpenBLAS (single-threaded per call) or a built-in
 * blocked kernel, and a parallel wrapper over fixed column blocks.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#ifdef NVC_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/vmath.h"

#ifdef NVC_HAVE_OPENBLAS
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single_thread(void)
{
    /* OpenBLAS may split a product differently for another thread count; we
     * parallelize over fixed blocks instead, so every call runs alone. */
    openblas_set_num_threads(1);
}
#endif

void nvc_sgemm_init(void)
{
#ifdef NVC_HAVE_OPENBLAS
    pthread_once(&blas_once, blas_single_thread);
#endif
}

/* ---- built-in kernel: packed panels, MR x NR register tile ----------------------- */
enum { MR = 8, NR = 16, KC = 128, MC = 64, NC = 256 };

typedef float vnr __attribute__((vector_size(NR * sizeof(float))));

/* c (mr, nr) += alpha * a (MR-panel, kc) . b (kc, NR-panel); AVX-512 and AVX2
 * builds next to the baseline, chosen at load time */
NVC_VEC_CLONES static void kernel(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr, float alpha)
{
    vnr acc[MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        acc[i] = (vnr){ 0 };
    for (int k = 0; k < kc; k++) {
        vnr bv;
        memcpy(&bv, b + (size_t)k * NR, sizeof(bv));
        const float *ak = a + (size_t)k * MR;
        /* fully unrolled: the accumulators stay in registers */
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            acc[i] += ak[i] * bv;
    }
    for (int i = 0; i < mr; i++) {
        float t[NR];
        memcpy(t, &acc[i], sizeof(t));
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++)
            ci[j] += alpha * t[j];
    }
}

/* a[p][k][i] = op(A)(i0 + p*MR + i, k0 + k), zero padded */
static void pack_a(float *dst, int trans, const float *A, int lda, int i0, int mc, int k0, int kc)
{
    for (int p = 0; p < mc; p += MR) {
        for (int k = 0; k < kc; k++)
            for (int i = 0; i < MR; i++) {
                int r = p + i;
                float v = 0;
                if (r < mc)
                    v = trans ? A[(size_t)(k0 + k) * lda + i0 + r] : A[(size_t)(i0 + r) * lda + k0 + k];
                *dst++ = v;
            }
    }
}

/* b[p][k][j] = op(B)(k0 + k, j0 + p*NR + j), zero padded */
static void pack_b(float *dst, int trans, const float *B, int ldb, int k0, int kc, int j0, int nc)
{
    for (int p = 0; p < nc; p += NR) {
        for (int k = 0; k < kc; k++)
            for (int j = 0; j < NR; j++) {
                int col = p + j;
                float v = 0;
                if (col < nc)
                    v = trans ? B[(size_t)(j0 + col) * ldb + k0 + k] : B[(size_t)(k0 + k) * ldb + j0 + col];
                *dst++ = v;
            }
    }
}

static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    if (beta == 1.0f)
        return;
    for (int i = 0; i < M; i++) {
        float *ci = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, (size_t)N * sizeof(float));
        else
            for (int j = 0; j < N; j++)
                ci[j] *= beta;
    }
}

void nvc_sgemm_builtin(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc)
{
    float apack[MC * KC] __attribute__((aligned(64)));
    float bpack[KC * NC] __attribute__((aligned(64)));
    scale_c(M, N, beta, C, ldc);
    if (alpha == 0.0f || K <= 0)
        return;
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nc = NVC_MIN(NC, N - j0);
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = NVC_MIN(KC, K - k0);
            pack_b(bpack, transb, B, ldb, k0, kc, j0, nc);
            for (int i0 = 0; i0 < M; i0 += MC) {
                int mc = NVC_MIN(MC, M - i0);
                pack_a(apack, transa, A, lda, i0, mc, k0, kc);
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += MR)
                        kernel(kc, apack + (size_t)ir * kc, bpack + (size_t)jr * kc,
                               C + (size_t)(i0 + ir) * ldc + j0 + jr, ldc, NVC_MIN(MR, mc - ir),
                               NVC_MIN(NR, nc - jr), alpha);
            }
        }
    }
}

void nvc_sgemm(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
               int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
#ifdef NVC_HAVE_OPENBLAS
    if (K <= 0) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans, transb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#else
    nvc_sgemm_builtin(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

/* Column blocks: wide enough for the kernels, fixed so that the split does
 * not depend on the thread count. */
#define GEMM_NBLK 256

void nvc_sgemm_parallel(NvcNn *nn, int transa, int transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int nb = (N + GEMM_NBLK - 1) / GEMM_NBLK;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int j = 0; j < nb; j++) {
        int j0 = j * GEMM_NBLK, n = NVC_MIN(GEMM_NBLK, N - j0);
        const float *b = transb ? B + (size_t)j0 * ldb : B + j0;
        nvc_sgemm(transa, transb, M, n, K, alpha, A, lda, b, ldb, beta, C + j0, ldc);
    }
}
