/*
 * CUDA backend: device management (internal).
 * Built only with --enable-cuda; every function has a CPU twin in nn/.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CUDA_CUDA_H
#define NVC_NN_CUDA_CUDA_H

#include <stddef.h>

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

#ifdef __cplusplus
}
#endif

#endif /* NVC_NN_CUDA_CUDA_H */
