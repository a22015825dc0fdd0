/*
 * The integer (bit-exact) version of a video latent's entropy model
 * (nvc/video_prior.h) and the coding of that latent: the image codec's
 * integer layers (nvc/image_int.h) for the hyper-synthesis HS, the step-0
 * output layer and the three four-part context networks (K = 1), plus one
 * fusion layer. Inputs are exactly decoded integers only:
 *   h    = HS(z_hat)                                   (P, h, w), 12-bit
 *   feat = fuse([h, clamp(floor((ref + 8) / 16))])     ReLU 1x1, (P, h, w)
 * with ref the previous frame's decoded latent of the same kind in Q8
 * (zeros after an intra frame or a refresh); feat then takes the place of
 * the image codec's h in its four-part steps (doc/FORMAT.md, "Learned image
 * codec", prior 0 with K = 1).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_INT_H
#define NVC_NVC_VIDEO_INT_H

#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/dist.h"
#include "nn/nn.h"
#include "nvc/image_export.h"
#include "nvc/image_int.h"
#include "nvc/video_prior.h"

typedef struct NvcVidInt {
    NvcImgInt ii;      /* M, Cz, P, K = 1: hs, p0, ctx, z scale tables */
    NvcIntConv fuse;   /* (P, P + M, 1, 1), ReLU */
} NvcVidInt;

/* Largest post-ReLU activations seen on calibration data. */
typedef struct NvcVidCalib {
    NvcIntCalib s;     /* the layers the image codec's prior has too */
    double feat;       /* the fusion layer */
} NvcVidCalib;

/* Fold the activations of one forward pass of the float module into cal. */
int nvc_vid_calib_update(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorActs *a, NvcVidCalib *cal);

/* Quantise the float module's parameters (host, bound to p) into vi. */
int nvc_vid_int_build(NvcVidInt *vi, const NvcVidPriorParams *p, int M, int Cz, int P, const NvcVidCalib *cal);
void nvc_vid_int_free(NvcVidInt *vi);

/* Code a latent y (M, h4, w4) and its hyper-latent z (Cz, h4/4, w4/4)
 * (floats of the analysis) at quality q given ref_q8 (M, h4, w4; NULL:
 * zeros). bw NULL: only the ideal bits. yq8 receives the decoded latent in
 * Q8 (the next frame's ref). */
int nvc_vid_latent_encode(const NvcVidInt *vi, const NvcCondTables *ct, int q, const float *y, const float *z,
                          const int64_t *ref_q8, int h4, int w4, NvcByteWriter *bw, double *bits_z,
                          double *bits_y, int64_t *yq8);
/* Decode what nvc_vid_latent_encode wrote. NVC_ERR_CORRUPT for damaged payloads. */
int nvc_vid_latent_decode(const NvcVidInt *vi, const NvcCondTables *ct, int q, NvcByteReader *br,
                          const int64_t *ref_q8, int h4, int w4, int64_t *yq8);

#endif /* NVC_NVC_VIDEO_INT_H */
