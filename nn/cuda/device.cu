/*
 * CUDA backend: device and context management, memory, the op table, GEMM,
 * reductions, tensor ops and Adam.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/common.cuh"

extern "C" int nvc_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* clear the sticky "no driver" error */
        return 0;
    }
    return n;
}

extern "C" void nvc_cuda_device_name(char *buf, size_t sz)
{
    cudaDeviceProp prop;
    if (!sz)
        return;
    buf[0] = 0;
    if (nvc_cuda_device_count() <= 0 || cudaGetDeviceProperties(&prop, 0) != cudaSuccess)
        return;
    strncpy(buf, prop.name, sz - 1);
    buf[sz - 1] = 0;
}

__global__ static void axpy_kernel(float a, const float *x, float *y, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] += a * x[i];
}

extern "C" int nvc_cuda_axpy_host(float a, const float *x, float *y, size_t n)
{
    if (nvc_cuda_device_count() <= 0)
        return -ENODEV;
    if (!n)
        return 0;
    float *dx = NULL, *dy = NULL;
    int ret = -EIO;
    if (cudaMalloc(&dx, n * sizeof(float)) != cudaSuccess || cudaMalloc(&dy, n * sizeof(float)) != cudaSuccess) {
        ret = -ENOMEM;
        goto end;
    }
    if (cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess ||
        cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess)
        goto end;
    axpy_kernel<<<(unsigned)((n + 255) / 256), 256>>>(a, dx, dy, n);
    if (cudaGetLastError() != cudaSuccess ||
        cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess)
        goto end;
    ret = 0;
end:
    cudaFree(dx);
    cudaFree(dy);
    return ret;
}

/* ---- context ------------------------------------------------------------------------ */

extern "C" int nvc_cuda_init(NvcNn *nn)
{
    if (nvc_cuda_device_count() <= 0)
        return nvc_nn_fail(nn, NVC_ERR(ENODEV), "cuda: no CUDA device");
    NvcCuda *c = (NvcCuda *)calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (cudaStreamCreate(&c->stream) != cudaSuccess) {
        free(c);
        return nvc_nn_fail(nn, NVC_ERR(EIO), "cuda: cannot create a stream");
    }
    if (cublasCreate(&c->blas) != CUBLAS_STATUS_SUCCESS) {
        cudaStreamDestroy(c->stream);
        free(c);
        return nvc_nn_fail(nn, NVC_ERR(EIO), "cuda: cannot create a cuBLAS handle");
    }
    cublasSetStream(c->blas, c->stream);
    /* plain fp32 (no TF32): results comparable with the CPU */
    cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH);
    nn->cuda = c;
    nn->err = 0;
    return 0;
}

extern "C" void nvc_cuda_uninit(NvcNn *nn)
{
    NvcCuda *c = nn->cuda;
    cudaStreamSynchronize(c->stream);
    cudaFree(c->scratch);
    cublasDestroy(c->blas);
    cudaStreamDestroy(c->stream);
    free(c);
    nn->cuda = NULL;
}

void nvc_cuda_check(NvcNn *nn, const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        nvc_nn_fail(nn, e == cudaErrorMemoryAllocation ? NVC_ERR(ENOMEM) : NVC_ERR(EIO), "cuda: %s: %s", what,
                    cudaGetErrorString(e));
}

void nvc_cuda_check_blas(NvcNn *nn, cublasStatus_t st, const char *what)
{
    if (st != CUBLAS_STATUS_SUCCESS)
        nvc_nn_fail(nn, NVC_ERR(EIO), "cuda: %s: cuBLAS status %d", what, (int)st);
}

extern "C" void nvc_cuda_sync(NvcNn *nn)
{
    cudaError_t e = cudaStreamSynchronize(STREAM(nn));
    if (e != cudaSuccess)
        nvc_nn_fail(nn, NVC_ERR(EIO), "cuda: %s", cudaGetErrorString(e));
}

extern "C" float *nvc_cuda_alloc(NvcNn *nn, size_t n)
{
    float *p = NULL;
    if (cudaMalloc(&p, n * sizeof(float)) != cudaSuccess) {
        cudaGetLastError();
        return NULL;
    }
    if (cudaMemset(p, 0, n * sizeof(float)) != cudaSuccess) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

extern "C" void nvc_cuda_release(NvcNn *nn, float *p)
{
    if (p) {
        cudaStreamSynchronize(STREAM(nn));
        cudaFree(p);
    }
}

extern "C" int nvc_cuda_copy(NvcNn *nn, float *dst, const float *src, size_t n, int to_device)
{
    if (!n)
        return 0;
    cudaError_t e = cudaMemcpyAsync(dst, src, n * sizeof(float),
                                    to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, STREAM(nn));
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(STREAM(nn));
    if (e != cudaSuccess)
        return nvc_nn_fail(nn, NVC_ERR(EIO), "cuda: copy: %s", cudaGetErrorString(e));
    return 0;
}

float *nvc_cuda_scratch(NvcNn *nn, size_t n)
{
    NvcCuda *c = nn->cuda;
    if (n <= c->scratch_size)
        return c->scratch;
    cudaStreamSynchronize(c->stream);
    cudaFree(c->scratch);
    c->scratch = NULL;
    c->scratch_size = 0;
    size_t grow = n + n / 4;
    if (cudaMalloc(&c->scratch, grow * sizeof(float)) != cudaSuccess) {
        cudaGetLastError();
        c->scratch = NULL;
        nvc_nn_fail(nn, NVC_ERR(ENOMEM), "cuda: out of memory for %zu floats of scratch", n);
        return NULL;
    }
    c->scratch_size = grow;
    return c->scratch;
}

void nvc_cuda_gemm(NvcNn *nn, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
    cublasStatus_t st = cublasSgemm(nn->cuda->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc);
    nvc_cuda_check_blas(nn, st, "sgemm");
}

__global__ static void sum_partials_kernel(const double *part, size_t n, float *out, double scale)
{
    double s = 0.0;
    for (size_t i = threadIdx.x; i < n; i += NT)
        s += part[i];
    s = block_sum(s);
    if (threadIdx.x == 0)
        *out = (float)(s * scale);
}

void nvc_cuda_sum_partials(NvcNn *nn, const double *part, size_t n, float *out, double scale)
{
    sum_partials_kernel<<<1, NT, 0, STREAM(nn)>>>(part, n, out, scale);
    nvc_cuda_check(nn, "reduce");
}

/* ---- tensor ops ------------------------------------------------------------------------- */

extern "C" void nvc_tensor_zero_cuda(NvcNn *nn, float *x, size_t n)
{
    if (n)
        cudaMemsetAsync(x, 0, n * sizeof(float), STREAM(nn));
    nvc_cuda_check(nn, "zero");
}

extern "C" void nvc_tensor_copy_cuda(NvcNn *nn, float *dst, const float *src, size_t n)
{
    if (n)
        cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, STREAM(nn));
    nvc_cuda_check(nn, "copy");
}

__global__ static void scale_kernel(float *x, float a, size_t n)
{
    GRID_STRIDE(i, n) x[i] *= a;
}

extern "C" void nvc_tensor_scale_cuda(NvcNn *nn, float *x, float a, size_t n)
{
    if (!n)
        return;
    scale_kernel<<<LAUNCH(nn, n)>>>(x, a, n);
    nvc_cuda_check(nn, "scale");
}

/* one block per RED_CHUNK elements: a double partial each */
__global__ static void sumsq_kernel(const float *x, size_t n, double *part)
{
    size_t b0 = (size_t)blockIdx.x * RED_CHUNK, e = min(n, b0 + RED_CHUNK);
    double s = 0.0;
    for (size_t i = b0 + threadIdx.x; i < e; i += NT)
        s += (double)x[i] * x[i];
    s = block_sum(s);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

extern "C" void nvc_tensor_sumsq_cuda(NvcNn *nn, float *out, const float *x, size_t n)
{
    size_t nb = (n + RED_CHUNK - 1) / RED_CHUNK;
    double *part = (double *)nvc_cuda_scratch(nn, 2 * nb + 2);
    if (!part)
        return;
    if (nb)
        sumsq_kernel<<<(unsigned)nb, NT, 0, STREAM(nn)>>>(x, n, part);
    nvc_cuda_sum_partials(nn, part, nb, out, 1.0);
}

__global__ static void adam_kernel(float *param, const float *grad, float *m, float *v, size_t n, float beta1,
                                   float beta2, float eps, float wd, int decoupled, float step, float rbc2,
                                   float keep)
{
    GRID_STRIDE(i, n)
    {
        float g = grad[i], p = param[i];
        if (decoupled)
            p *= keep;
        else
            g += wd * p;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - step * mi / (sqrtf(vi) * rbc2 + eps);
    }
}

extern "C" void nvc_adam_update_cuda(NvcNn *nn, float *param, const float *grad, float *m, float *v, size_t n,
                                     float lr, float beta1, float beta2, float eps, float wd, int decoupled, int t)
{
    if (!n)
        return;
    const double bc1 = 1.0 - pow(beta1, t), bc2 = 1.0 - pow(beta2, t);
    adam_kernel<<<LAUNCH(nn, n)>>>(param, grad, m, v, n, beta1, beta2, eps, wd, decoupled, (float)(lr / bc1),
                                   (float)(1.0 / sqrt(bc2)), 1.0f - lr * wd);
    nvc_cuda_check(nn, "adam");
}

extern "C" const NvcNnOps nvc_nn_cuda_ops = {
    "cuda",
#define NVC_OP(op, args) nvc_##op##_cuda,
#include "nn/ops_list.h"
#undef NVC_OP
};
