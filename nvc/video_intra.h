/*
 * Intra frames of the video model's training chains: the shipped image
 * codec's float transforms at the chain's quality (analysis, rounding of
 * the latent, synthesis, 8-bit output), an approximation of what the image
 * codec decodes (it rounds around the prior's centres instead of 0).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_INTRA_H
#define NVC_NVC_VIDEO_INTRA_H

#include "nn/nn.h"
#include "nvc/image_file.h"
#include "nvc/image_model.h"

typedef struct NvcVidIntra {
    NvcImgModelFile f;
    NvcImgModel m;
    int open;
} NvcVidIntra;

/* The image model (built in, or NVC_IMAGE_MODEL) for batches (B, 3, H, W). */
int nvc_vid_intra_open(NvcVidIntra *vi, NvcNn *nn, int B, int H, int W, const NvcLogger *lg);
void nvc_vid_intra_close(NvcVidIntra *vi, NvcNn *nn);

/* xhat (B, 3, H, W) host = the coded x (host) at qualities q[b]. */
int nvc_vid_intra_code(NvcVidIntra *vi, NvcNn *nn, const float *x, const int *q, float *xhat);

#endif /* NVC_NVC_VIDEO_INTRA_H */
