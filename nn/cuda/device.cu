/*
 * CUDA backend: device queries and the smallest real kernel (axpy), which
 * proves the build pipeline (nvcc through libtool into libnvc).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <string.h>

#include <cuda_runtime.h>

#include "nn/cuda/cuda.h"

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
    if (cudaMalloc(&dx, n * sizeof(float)) != cudaSuccess ||
        cudaMalloc(&dy, n * sizeof(float)) != cudaSuccess) {
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
