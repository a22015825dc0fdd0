/*
 * nvc: objective quality metrics between a reference and a test picture:
 * MSE/PSNR per plane, PSNR-YUV 6:1:1, PSNR-RGB, SSIM as FFmpeg's `ssim`
 * filter computes it, and MS-SSIM (Wang et al. 2003), with an accumulator
 * for sequence means. Results are deterministic: the same bits for any
 * thread count.
 *
 * Conventions (every figure is documented here so tables are comparable):
 * - peak = (1 << bpc) - 1, as FFmpeg's psnr/ssim filters (1023 at 10 bits).
 * - PSNR = 10 log10(peak^2 / MSE); a plane with MSE == 0 (identical samples)
 *   has PSNR = +INFINITY, like FFmpeg. No cap is applied anywhere: a mean
 *   over frames that include an identical frame is +INFINITY too, and the
 *   printed value is "inf".
 * - PSNR-YUV 6:1:1 is the weighted mean of the per-plane PSNRs,
 *   (6 PSNR_Y + PSNR_U + PSNR_V) / 8, as in the JVET common test conditions
 *   and DCVC's test scripts (weighted PSNR, not the PSNR of a weighted MSE).
 *   The PSNR of the sample-count weighted MSE is psnr_avg (FFmpeg's
 *   "psnr_avg"/"average"; 4:1:1 weights for 4:2:0).
 * - PSNR-RGB is the PSNR of the mean of the R, G and B MSEs (all samples of
 *   the three planes pooled), as CompressAI and DCVC compute it on RGB.
 * - SSIM follows FFmpeg 5.1's `ssim` filter (x264's approximation): sums over
 *   8x8 windows placed on a 4x4 grid, C1 = (0.01 peak)^2, C2 = (0.03 peak)^2,
 *   the mean over the ((w>>2)-1) x ((h>>2)-1) windows; ssim_all weights the
 *   planes by their sample counts (FFmpeg's "All"). A plane smaller than 8x8
 *   has no window: NaN.
 * - MS-SSIM per plane: 11x11 Gaussian window (sigma 1.5, separable, only
 *   positions where it fits: "valid"), K1 = 0.01, K2 = 0.03 with the peak as
 *   data range, 5 scales with weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333,
 *   2x2 average downsampling between scales (an odd size rounds up, the last
 *   row/column being averaged with itself, as DCVC's scipy 'reflect' filter).
 *   The contrast-structure terms of scales 1-4 and the SSIM of the last scale
 *   are clamped at 0 before the powers (as pytorch_msssim's relu), so the
 *   result is in [0, 1]. A plane whose smaller side is under 176 uses fewer
 *   scales, as HM and DCVC do: 4 (>= 88), 3 (>= 44), 2 (>= 22), 1 (>= 11) with
 *   HM's renormalized weights; under 11 it is NaN.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_METRICS_H
#define NVC_METRICS_H

#include <stdint.h>

#include "nvc/common.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which metrics to compute (bit mask). */
enum NvcMetricFlags {
    NVC_METRIC_PSNR = 1 << 0,   /* mse, psnr, psnr_yuv, mse_avg, psnr_avg */
    NVC_METRIC_SSIM = 1 << 1,   /* ssim, ssim_all (FFmpeg-exact) */
    NVC_METRIC_MSSSIM = 1 << 2, /* msssim, msssim_yuv, msssim_scales */
    NVC_METRIC_RGB = 1 << 3,    /* mse_rgb, psnr_rgb (+ msssim_rgb with NVC_METRIC_MSSSIM):
                                 * filled by nvc_metrics_compute_rgb only */
    NVC_METRIC_ALL = 0xf,
};

/* Metrics of one frame. Fields of groups not computed (see flags) are NaN.
 * Planes are Y, Cb, Cr (or R, G, B for RGB pictures); entries past `planes`
 * are NaN. */
typedef struct NvcFrameMetrics {
    unsigned flags;        /* NVC_METRIC_* groups present */
    int planes;            /* 1 (I400) or 3 */
    int bpc;               /* bits per component of the compared pictures */

    /* NVC_METRIC_PSNR */
    double mse[3];         /* mean squared error per plane, in sample units^2 */
    double psnr[3];        /* 10 log10(peak^2 / mse[i]), +inf when mse[i] == 0 */
    double psnr_yuv;       /* (6 psnr[0] + psnr[1] + psnr[2]) / 8; psnr[0] for I400 */
    double mse_avg;        /* mse weighted by plane sample counts (FFmpeg's mse_avg) */
    double psnr_avg;       /* PSNR of mse_avg (FFmpeg's psnr_avg) */

    /* NVC_METRIC_SSIM */
    double ssim[3];        /* FFmpeg `ssim` per plane */
    double ssim_all;       /* planes weighted by sample counts (FFmpeg's "All") */

    /* NVC_METRIC_MSSSIM */
    double msssim[3];      /* MS-SSIM per plane, in [0, 1] */
    double msssim_yuv;     /* (6 msssim[0] + msssim[1] + msssim[2]) / 8 (DCVC); msssim[0] for I400 */
    int msssim_scales[3];  /* scales used per plane (5 for planes >= 176x176) */

    /* NVC_METRIC_RGB (nvc_metrics_compute_rgb) */
    double mse_rgb;        /* (mse_R + mse_G + mse_B) / 3 */
    double psnr_rgb;       /* PSNR of mse_rgb */
    double msssim_rgb;     /* (msssim_R + msssim_G + msssim_B) / 3, when NVC_METRIC_MSSSIM */
} NvcFrameMetrics;

/* PSNR in dB of a mean squared error for samples of bpc bits:
 * 10 log10(((1 << bpc) - 1)^2 / mse); +INFINITY for mse == 0. */
NVC_API double nvc_metrics_psnr(double mse, int bpc);

/* Compare test against ref (same width, height, layout and bpc 8..16; the
 * colour description is not compared) for the groups in flags
 * (NVC_METRIC_PSNR | NVC_METRIC_SSIM | NVC_METRIC_MSSSIM; NVC_METRIC_RGB is
 * ignored here). Every field of *m is set (NaN where not computed).
 * Returns 0, NVC_ERR(EINVAL) on a parameter mismatch or a picture without
 * planes, NVC_ERR(ENOMEM). */
NVC_API int nvc_metrics_compute(NvcFrameMetrics *m, const NvcPicture *ref, const NvcPicture *test,
                                unsigned flags);

/* Fill the NVC_METRIC_RGB fields of *m (and set that flag) from two RGB
 * pictures (I444, matrix NVC_MC_IDENTITY, e.g. made by nvc_picture_to_rgb
 * from nvc/convert.h): mse_rgb and psnr_rgb always, msssim_rgb when flags
 * holds NVC_METRIC_MSSSIM. The other fields of *m are left as they are, so
 * this adds to what nvc_metrics_compute gave for the YCbCr pictures; call it
 * on a zeroed or computed *m. Returns 0, NVC_ERR(EINVAL) (not RGB, or a
 * mismatch), NVC_ERR(ENOMEM). */
NVC_API int nvc_metrics_compute_rgb(NvcFrameMetrics *m, const NvcPicture *ref_rgb,
                                    const NvcPicture *test_rgb, unsigned flags);

/* Sums over the frames of a sequence. Plain struct: initialise with
 * nvc_metrics_accum_init, no resources to free. Frames are added in order,
 * so the means are the same bits on every run. */
typedef struct NvcMetricsAccum {
    int64_t frames;
    unsigned flags;        /* groups present in every frame added */
    int planes, bpc;
    NvcFrameMetrics sum;   /* field-wise sums of the per-frame values */
} NvcMetricsAccum;

/* Means over a sequence, two ways: */
typedef struct NvcSequenceMetrics {
    int64_t frames;
    /* Arithmetic mean over frames of every per-frame field: mean per-frame
     * PSNR (what NVC papers and DCVC/CompressAI report), mean SSIM, ... */
    NvcFrameMetrics mean;
    /* MSE fields are mean MSEs and PSNR fields are the PSNR of the mean MSE
     * (FFmpeg's summary line "PSNR y:.. u:.. v:.. average:.."; psnr_yuv is the
     * 6:1:1 mean of those per-plane PSNRs). SSIM/MS-SSIM fields equal mean's. */
    NvcFrameMetrics pooled;
} NvcSequenceMetrics;

NVC_API void nvc_metrics_accum_init(NvcMetricsAccum *acc);

/* Add one frame. The first frame fixes planes and bpc; a later frame that
 * differs gives NVC_ERR(EINVAL) and is not added. flags keeps the groups
 * present in every frame. */
NVC_API int nvc_metrics_accum_add(NvcMetricsAccum *acc, const NvcFrameMetrics *m);

/* Means of the frames added so far. Returns 0, or NVC_ERR(EINVAL) when no
 * frame was added (then *out holds NaNs and frames = 0). */
NVC_API int nvc_metrics_accum_result(const NvcMetricsAccum *acc, NvcSequenceMetrics *out);

#ifdef __cplusplus
}
#endif

#endif /* NVC_METRICS_H */
