/*
 * Plane-level structural similarity (internal): FFmpeg-exact SSIM and
 * MS-SSIM. See include/nvc/metrics.h for the definitions.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_SSIM_H
#define NVC_CODEC_SSIM_H

#include <stddef.h>
#include <stdint.h>

/* One plane of samples: uint8_t when bpc == 8, else uint16_t (bpc 9..16).
 * stride in bytes. */
typedef struct NvcPlaneView {
    const void *data;
    ptrdiff_t stride;
    int w, h;
} NvcPlaneView;

#define NVC_MSSSIM_MAX_SCALES 5

/* Sum of squared sample differences. */
uint64_t nvc_metrics_plane_sse(const NvcPlaneView *a, const NvcPlaneView *b, int bpc);

/* SSIM as FFmpeg 5.1's `ssim` filter computes it for one plane (8x8 windows
 * on a 4x4 grid). *ssim is NaN for planes smaller than 8x8.
 * Returns 0 or NVC_ERR(ENOMEM). */
int nvc_ssim_plane_ffmpeg(double *ssim, const NvcPlaneView *a, const NvcPlaneView *b, int bpc);

/* Number of MS-SSIM scales for a plane of this size (0 when under 11). */
int nvc_msssim_scales(int w, int h);

/* MS-SSIM of one plane; *msssim is NaN and *scales 0 for planes under
 * 11x11. cs and ss, when not NULL, receive the mean contrast-structure and
 * SSIM terms of each scale (before clamping), for tests.
 * Returns 0 or NVC_ERR(ENOMEM). */
int nvc_msssim_plane(double *msssim, int *scales, const NvcPlaneView *a, const NvcPlaneView *b,
                     int bpc, double cs[NVC_MSSSIM_MAX_SCALES], double ss[NVC_MSSSIM_MAX_SCALES]);

#endif /* NVC_CODEC_SSIM_H */
