/*
 * Helpers shared by the CPU ops: threads, fixed-order reductions, GEMM.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CPU_H
#define NVC_NN_CPU_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn/nn.h"

static inline int nvc_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Elementwise loops are cut into blocks of this many elements; reductions sum
 * one double per block, then the blocks in order: the result does not depend
 * on the number of threads. */
#define NVC_BLOCK 4096

static inline size_t nvc_nblocks(size_t n, size_t blk)
{
    return (n + blk - 1) / blk;
}

/* Row-major single-threaded SGEMM: C (M, N) = alpha * op(A) . op(B) + beta * C,
 * op(A) (M, K), op(B) (K, N); beta = 0 overwrites C (NaN in C is ignored).
 * OpenBLAS when built with it (forced to one thread: the ops parallelize
 * over fixed blocks themselves), else the built-in blocked kernel. */
void nvc_sgemm(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
               int ldb, float beta, float *C, int ldc);

/* The built-in kernel alone (tests compare it with OpenBLAS). */
void nvc_sgemm_builtin(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);

/* The same product on nn's threads, parallel over fixed column blocks of C. */
void nvc_sgemm_parallel(NvcNn *nn, int transa, int transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* PixelShuffle by output rows (resample.c): columns [c0, c0 + L) of output
 * row oy of one channel from (gather) or back onto (scatter, +=) its s * s
 * input planes x, hw floats apart; c0 and L multiples of s. */
void nvc_ps_gather_row(float *t, const float *x, size_t hw, int W, int s, int oy, int c0, int L);
void nvc_ps_scatter_add_row(float *x, const float *g, size_t hw, int W, int s, int oy, int c0, int L);

/* Make the BLAS library single-threaded (once per process). */
void nvc_sgemm_init(void);

/* Stride-1 convs by direct kernels (conv_direct.c): out (B, Cout, Ho, Wo) =
 * bias (or 0; or out itself with NVC_CONV_ACCUMULATE) + conv(inp (B, Cin, H, W)),
 * weight (Cout, Cin/groups, K, K); with NVC_CONV_FLIPPED, weight is that of
 * the conv whose input gradient this is: (Cin, Cout/groups, K, K), read
 * transposed and rotated by 180 degrees. Only for the shapes of
 * nvc_conv2d_direct_ok (shapes checked by the caller). */
enum { NVC_CONV_ACCUMULATE = 1, NVC_CONV_FLIPPED = 2 };
void nvc_conv2d_direct(NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias, int B,
                       int Cin, int H, int W, int Cout, int K, int pad, int groups, int flags);
int nvc_conv2d_direct_ok(int cin_g, int K, int stride);
/* dweight (Cout, Cin/groups, K, K) += the weight gradient of that conv (stride 1):
 * per weight, 16 partial sums (output positions mod 16 of fixed bands, images
 * and bands in order), then summed as a fixed tree. */
void nvc_conv2d_direct_backward_weight(NvcNn *nn, const float *dout, const float *inp, float *dweight, int B,
                                       int Cin, int H, int W, int Cout, int K, int pad, int groups);

/* Kernels of the direct convs: the best this CPU has up to isa (tests compare
 * them: all give the same bits). Returns the set now in use. */
enum { NVC_CONV_DIRECT_NONE, NVC_CONV_DIRECT_C, NVC_CONV_DIRECT_AVX2, NVC_CONV_DIRECT_AVX512 };
int nvc_conv2d_direct_set_isa(int isa);

/* Sum of per-block partial sums in block order. */
static inline double nvc_sum_blocks(const double *part, size_t nb)
{
    double s = 0.0;
    for (size_t i = 0; i < nb; i++)
        s += part[i];
    return s;
}

/* Scratch for nb doubles of block partials (in nn's scratch). */
double *nvc_nn_partials(NvcNn *nn, size_t nb);

#endif /* NVC_NN_CPU_H */
