/*
 * Entropy model of one latent of the video codec (motion or residual), float
 * model for training (nvc/VIDEO.md, "Entropy model"):
 *
 *   y (B, M, h, w) at 1/16, h and w multiples of 4
 *   z = h_a(y): conv3x3 M -> Cz, lrelu, conv3x3/2, lrelu, conv3x3/2 (1/64);
 *   z_hat = round(z) under zero-mean Gaussians of scale z_scale[q][c];
 *   p = relu(conv1x1([HS(z_hat), ref])) (P channels), HS the image codec's
 *   hyper-synthesis, ref the previous frame's decoded latent of the same kind
 *   (zeros after an intra frame or a refresh);
 *   four-part spatial prior on p (step 0: conv1x1; steps 1..3: conv1x1, ReLU,
 *   dw3x3, ReLU, conv1x1, ReLU, conv1x1 on [y_hat so far, p]) giving a centre c
 *   and a scale root t per element (scale 0.11 + t^2); symbols round(y - c),
 *   y_hat = symbol + c; training relaxes the rate with uniform noise.
 * Every input of this module at inference (z_hat, ref, y_hat so far) is an
 * exactly decoded integer: the integer network version is bit-exact.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_PRIOR_H
#define NVC_NVC_VIDEO_PRIOR_H

#include <stdint.h>

#include "nn/nn.h"
#include "nvc/image_model.h"

typedef struct NvcVidPriorParams {
    NvcImgConv ha[3];     /* (Cz, M, 3, 3), (Cz, Cz, 3, 3) x 2 (stride 2) */
    float *z_scale;       /* (64, Cz) */
    NvcImgConv hs[5];     /* (P, Cz, 3, 3), (4P, P, 1, 1), (P, P, 3, 3), (4P, P, 1, 1), (P, P, 1, 1) */
    NvcImgConv fuse;      /* (P, P + M, 1, 1) */
    NvcImgConv p0;        /* (2M, P, 1, 1) */
    struct {
        NvcImgConv in, dw, mid, out; /* (P, M + P, 1, 1), (P, 1, 3, 3), (P, P, 1, 1), (2M, P, 1, 1) */
    } ctx[3];
} NvcVidPriorParams;

typedef struct NvcVidPriorActs {
    float *ha_c[3], *ha_a[2];             /* z = ha_c[2] (B, Cz, h/4, w/4) */
    float *z_noisy, *z_hat, *z_sc, *zq;   /* zq (B, Cz): this batch's z scales */
    float *hs_c[5], *hs_ps[2], *hs_r[5];  /* hs_r[4] (B, P, h, w) */
    float *fin, *fc, *feat;               /* (B, P + M), (B, P), (B, P) */
    float *prm[4];                        /* (B, 2M, h, w) */
    NvcImgCtx ctx[3];
    float *ctr[4], *rest[4], *negc[4], *diff[4], *rnd[4], *yh[4], *yhm[4], *sofar[4];
    float *pm[4], *pcomb, *cctr, *troot, *cneg, *cdiff, *snoisy, *tsq, *scale;
    float *yhat;                          /* (B, M, h, w) */
    float *bits;                          /* (2): bits of y, bits of z (whole batch) */
} NvcVidPriorActs;

/* Sizes and constant masks of one latent. */
typedef struct NvcVidPrior {
    int B, M, Cz, P, h, w;
    int infer;                   /* the codec's layout: the hyper-analysis, z scales and y_hat only */
    float *mask[4], *maske[4];   /* (B, M, h w), (B, 2M, h w) four-part masks */
    float *ones_z;               /* (B, Cz, h/4, w/4) of ones */
} NvcVidPrior;

/* Declare the parameters (names prefixed by pfx). */
void nvc_vid_prior_params(NvcArena *a, NvcVidPriorParams *p, const char *pfx, int M, int Cz, int P);
/* Host-side initialisation after the seeded one: scale roots start at 1. */
void nvc_vid_prior_init_host(NvcVidPriorParams *host, int M);
/* Declare the activations of L (train > 0: everything the backward needs). */
void nvc_vid_prior_acts(NvcArena *ar, NvcVidPriorActs *a, const char *pfx, const NvcVidPrior *L);

/* infer: only what the codec's stages use (no masks; nvc_vid_prior_acts
 * declares the hyper-analysis, the z scales, y_hat and the bits). */
int nvc_vid_prior_create(NvcVidPrior *L, NvcNn *nn, int B, int M, int Cz, int P, int h, int w, int infer);
void nvc_vid_prior_free(NvcVidPrior *L, NvcNn *nn);

/* Copy the z scales of q[0 .. B-1] into a->zq. */
void nvc_vid_prior_set_quality(const NvcVidPrior *L, NvcNn *nn, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                               const int *q);

/* y, ref (B, M, h, w) -> a->yhat, a->bits. train: noise relaxes the rates;
 * train = 2 also gives the latent to the decoder (a->yhat) and to the spatial
 * context steps as y + uniform noise instead of the straight-through rounding
 * (Balle et al.'s relaxation: a small latent still carries its signal). */
void nvc_vid_prior_forward(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                           const float *y, const float *ref, int train, uint64_t seed);

/* Inference: z = h_a(y) into a->ha_c[2] only. */
void nvc_vid_prior_hyper_analysis(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                                  const float *y);

/* Backward of the forward above: d->yhat and dbits (gradient of each bit)
 * in, gradients accumulated into g (parameters; the z scale rows of q[b]),
 * dy and dref (may be NULL). */
void nvc_vid_prior_backward(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorParams *g,
                            const NvcVidPriorActs *a, const NvcVidPriorActs *d, const float *y, float *dy,
                            const float *ref, float *dref, const int *q, float dbits);

/* Multiply-accumulates per latent element. */
double nvc_vid_prior_macs(int M, int Cz, int P);

#endif /* NVC_NVC_VIDEO_PRIOR_H */
