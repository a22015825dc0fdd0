/*
 * SSIM and MS-SSIM of one plane, with gradients (pytorch_msssim's
 * definition: 11x11 Gaussian window, sigma 1.5, valid windows, data range 1,
 * K1 = 0.01, K2 = 0.03; MS-SSIM: 5 scales, 2x2 average pooling with zero
 * padding of odd sides, relu on each scale's value).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_SSIM_H
#define NVC_NN_SSIM_H

#include <stddef.h>

#define NVC_SSIM_WIN 11
#define NVC_MSSSIM_SCALES 5
/* Smallest side MS-SSIM accepts: (11 - 1) * 2^4 + 1. */
#define NVC_MSSSIM_MIN 161

/* Floats of work memory the plane functions need. */
size_t nvc_nn_ssim_work_size(int H, int W);
size_t nvc_nn_msssim_work_size(int H, int W);

/* SSIM (mean over the valid windows) of x against y (H, W); when dx is not
 * NULL also dx += g * dSSIM/dx. */
double nvc_nn_ssim_plane(const float *x, const float *y, int H, int W, float *work, double g, float *dx);

/* MS-SSIM of x against y (H, W); when dx is not NULL also dx += g * dMS-SSIM/dx. */
double nvc_nn_msssim_plane(const float *x, const float *y, int H, int W, float *work, double g, float *dx);

#endif /* NVC_NN_SSIM_H */
