/*
 * Classic motion estimation of the video encoder: coarse-to-fine
 * Lucas-Kanade optical flow with Tikhonov regularisation (nvc/VIDEO.md,
 * "Motion estimation"). Encoder only: the decoder receives the coded
 * motion, so this has no bearing on decodability. Single-threaded, plain C:
 * the same flow for any thread count.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_FLOW_H
#define NVC_NVC_VIDEO_FLOW_H

#include <stddef.h>

/* Flow (2, h, w) in pixels such that ref sampled bilinearly at (x + flow[0],
 * y + flow[1]) (border clamped) approximates cur at (x, y): the convention of
 * the nn engine's warp op. cur, ref: (h, w) intensities in [0, 1].
 * 0 or NVC_ERR(ENOMEM) / NVC_ERR(EINVAL). */
int nvc_vid_flow(const float *cur, const float *ref, int w, int h, float *flow);

/* Luma-like intensity (R + 2G + B) / 4 of a planar RGB picture (3, h, w). */
void nvc_vid_gray(const float *rgb, int w, int h, float *gray);

/* ref (h, w) sampled bilinearly at (x + flow[0], y + flow[1]), border clamped. */
void nvc_vid_flow_warp(const float *ref, const float *flow, int w, int h, float *out);

#endif /* NVC_NVC_VIDEO_FLOW_H */
