/*
 * CUDA backend (internal): device management and the CUDA twins of every op
 * of nn/ops_list.h (nvc_<op>_cuda, same arguments, device pointers).
 * Built only with --enable-cuda.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CUDA_CUDA_H
#define NVC_NN_CUDA_CUDA_H

#include <stddef.h>

#include "nn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices; 0 when there is no GPU or no driver. */
int nvc_cuda_device_count(void);

/* Name of device 0 in buf (empty string when none). */
void nvc_cuda_device_name(char *buf, size_t sz);

/* y[i] += a * x[i] on the GPU for host arrays x, y of n floats.
 * Returns 0, or a negative errno value (NVC_ERR(ENODEV) without a device). */
int nvc_cuda_axpy_host(float a, const float *x, float *y, size_t n);

/* Context state (stream, cuBLAS handle, device scratch) of a CUDA NvcNn. */
int nvc_cuda_init(NvcNn *nn);
void nvc_cuda_uninit(NvcNn *nn);
/* Wait for the queued work; a failure sets nn's sticky error. */
void nvc_cuda_sync(NvcNn *nn);
float *nvc_cuda_alloc(NvcNn *nn, size_t n);
void nvc_cuda_release(NvcNn *nn, float *p);
/* to_device: host -> device, else device -> host; synchronous. */
int nvc_cuda_copy(NvcNn *nn, float *dst, const float *src, size_t n, int to_device);

extern const NvcNnOps nvc_nn_cuda_ops;

#define NVC_OP(name, args) void nvc_##name##_cuda args;
#include "nn/ops_list.h"
#undef NVC_OP

#ifdef __cplusplus
}
#endif

#endif /* NVC_NN_CUDA_CUDA_H */
