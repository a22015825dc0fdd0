/*
 * Helpers shared by the CUDA kernels: the context, launches, errors,
 * deterministic block reductions, row-major GEMM through cuBLAS.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CUDA_COMMON_CUH
#define NVC_NN_CUDA_COMMON_CUH

#include <errno.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "nn/cuda/cuda.h"

struct NvcCuda {
    cudaStream_t stream;
    cublasHandle_t blas;
    float *scratch;       /* device scratch (grown on demand) */
    size_t scratch_size;  /* floats */
};

#define NT 256 /* threads per block of the elementwise kernels */

static inline unsigned nblocks(size_t n, unsigned per = NT)
{
    size_t b = (n + per - 1) / per;
    return (unsigned)(b < 1 ? 1 : b > 0x7fffffff ? 0x7fffffff : b);
}

/* Record the launch's error (if any) in nn. */
void nvc_cuda_check(NvcNn *nn, const char *what);
void nvc_cuda_check_blas(NvcNn *nn, cublasStatus_t st, const char *what);

/* Device scratch of at least n floats (the previous content is lost); NULL
 * and the sticky error set on failure. */
float *nvc_cuda_scratch(NvcNn *nn, size_t n);

#define STREAM(nn) ((nn)->cuda->stream)
#define LAUNCH(nn, n) nblocks(n), NT, 0, STREAM(nn)

/* Row-major C (M, N) = alpha op(A) op(B) + beta C, as the CPU's nvc_sgemm. */
void nvc_cuda_gemm(NvcNn *nn, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);

/* Fixed-order tree reduction of one double per thread of a block of NT
 * threads; thread 0 gets the sum. */
__device__ __forceinline__ double block_sum(double v)
{
    __shared__ double sh[NT];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = NT / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s)
            sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

/* Sum of part (n doubles) into *out (float), one block, fixed order. */
void nvc_cuda_sum_partials(NvcNn *nn, const double *part, size_t n, float *out, double scale);

/* Elements per block of the two-pass reductions (fixed: deterministic). */
#define RED_CHUNK 4096

#define GRID_STRIDE(i, n) for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (size_t)gridDim.x * blockDim.x)

#endif /* NVC_NN_CUDA_COMMON_CUH */
