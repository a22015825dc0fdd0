/*
 * The P-frame model of the conditional video codec (DCVC-FM family, sized
 * for the CPU) on the nn engine: one definition for training and inference.
 * Architecture, widths and the reasons for each choice: nvc/VIDEO.md.
 *
 * A training "chain": an intra-coded reference x0 (B, 3, H, W) and T
 * frames x[1..T], H and W multiples of 64. For each P frame t:
 *   v     = flow(x_t, ref)              classic pyramid flow (nvc/video_flow.h), a constant;
 *                                       ref = x_hat_{t-1} or, with me_on_source, x_{t-1}
 *   m     = mv_enc(v) (x q_mv_enc at 1/4), entropy model mvp (prior ref: m_hat_{t-1})
 *   v_hat = mv_dec(m_hat) (x q_mv_dec at 1/2)
 *   F     = t is a refresh ? adapt(x_hat_{t-1}) : feat_{t-1}
 *   f1, f2, f4 = extractor(F); w_k = warp(f_k, v_hat at scale k); c_k = conv(lrelu w_k) + w_k
 *   y     = ctx_enc(x_t, c1, c2, c4) (x q_enc at 1/2), entropy model yp (prior ref: y_hat_{t-1})
 *   feat_t, r_t = ctx_dec(y_hat, c1, c2, c4) (x q_dec at 1/2)
 *   x_hat_t = r_t, or with blend r_t + m_t * warp(ref, v_hat), m_t = sigmoid(cd_mask(feat_t)),
 *             or with the gated blend r_t + m_t * (warp(ref, v_hat) - r_t)
 * loss = mean over t of bits_t / (B H W) + mean over b of lambda(q_b) 255^2 MSE_tb.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_MODEL_H
#define NVC_NVC_VIDEO_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "nn/optim.h"
#include "nvc/image_model.h"
#include "nvc/video_prior.h"

#define NVC_VID_QLEVELS 64
#define NVC_VID_ALIGN 64
#define NVC_VID_TMAX 16

typedef struct NvcVidConfig {
    int g1, g2, g4, g8;   /* feature widths at 1, 1/2, 1/4, 1/8 */
    int M, Cz, P;         /* residual latent, hyper-latent, prior width */
    int cm, Mm, Czm, Pm;  /* motion coder width, motion latent, its hyper-latent and prior width */
    float lambda_min, lambda_max;
    int blend;            /* 1: x_hat = r + m * warp(x_hat_{t-1}, v_hat), m = sigmoid(conv(feat)) (VIDEO.md 5);
                           * 2 (gated): x_hat = r + m * (warp(x_hat_{t-1}, v_hat) - r) */
} NvcVidConfig;

void nvc_vid_config_default(NvcVidConfig *c);
int nvc_vid_config_check(const NvcVidConfig *c, const NvcLogger *logger);
float nvc_vid_lambda(const NvcVidConfig *c, int q);

typedef struct NvcVidRbuParams {
    NvcImgConv up, conv, skip; /* (4 co, ci, 1, 1), (co, co, 3, 3), (4 co, ci, 1, 1) */
} NvcVidRbuParams;

typedef struct NvcVidParams {
    NvcImgConv me[4];             /* (cm, 2), (cm, cm) x 2, (Mm, cm): 3x3, stride 2 */
    float *q_mv_enc, *q_mv_dec;   /* (2, cm): scalers at q = 0 and q = 63 */
    NvcVidPriorParams mvp;
    NvcVidRbuParams md[3];        /* Mm -> cm, cm -> cm, cm -> cm */
    NvcImgConv md_out;            /* (8, cm, 3, 3), then PixelShuffle(2): the flow */
    NvcImgConv adapt;             /* (g1, 3, 3, 3): refresh */
    NvcImgConv fx[3];             /* (g1, g1), (g2, g1) /2, (g4, g2) /2 */
    NvcImgConv cx[3];             /* (g1, g1), (g2, g2), (g4, g4) */
    NvcImgConv ce[4];             /* (g2, 3 + g1), (g4, 2 g2), (g8, 2 g4), (M, g8): stride 2 */
    float *q_enc, *q_dec;         /* (2, g2) */
    NvcVidPriorParams yp;
    NvcVidRbuParams cd[3];        /* M -> g8, g8 -> g4, g4 -> g2 */
    NvcImgConv cd_f4, cd_f2;      /* (g4, 2 g4), (g2, 2 g2) */
    NvcImgConv cd_ps;             /* (4 g1, g2, 1, 1), then PixelShuffle(2) */
    NvcImgConv cd_feat;           /* (g1, 2 g1) */
    NvcImgConv cd_out;            /* (3, g1) */
    NvcImgConv cd_mask;           /* (3, g1): blend only */
} NvcVidParams;

/* Activations of one P frame of a chain. */
typedef struct NvcVidFrame {
    float *x, *flow;              /* (B, 3, H, W), (B, 2, H, W): inputs */
    float *fref;                  /* (B, g1, H, W): adapt(x_ref) (refresh frames) */
    float *xref, *F;              /* reference picture and feature (aliases; in the gradient set,
                                     NULL where nothing flows back) */
    float *mref, *yref;           /* previous latents (aliases; zeros after a refresh) */
    float *me_c[4], *me_a[3], *me_q;
    NvcVidPriorActs mvp;
    NvcImgRbu md[3];
    float *md_q, *md_out, *vhat, *v2, *v4;
    float *f1, *f1a, *f2, *f2a, *f4;
    float *w[3], *wa[3], *cc[3], *ctx[3];
    float *ein[3], *e_c[4], *e_a[3], *e1q;
    NvcVidPriorActs yp;
    NvcImgRbu cd[3];
    float *d4in, *d4c, *d4a, *d2q, *d2in, *d2c, *d2a, *dps_c, *dps, *dfin, *dfc;
    float *feat, *xhat;
    float *xo;                    /* cd_out(feat); xhat itself without blend */
    float *pred, *mkc, *mk, *mp;  /* blend: warp(xref, vhat), cd_mask(feat), sigmoid, mk * pred (gated: mk * pd) */
    float *pd;                    /* gated blend: pred - xo */
    float *mse;                   /* (B) */
} NvcVidFrame;

typedef struct NvcVidShared {
    float *x0;                    /* (B, 3, H, W): the intra-coded reference */
    float *qme, *qmd, *qe, *qd;   /* (B, cm), (B, cm), (B, g2), (B, g2): this batch's scalers */
    float *zm, *zy;               /* zeros (B, Mm, h4, w4), (B, M, h4, w4) */
} NvcVidShared;

typedef struct NvcVidStats {
    double loss, bpp, bpp_mv, bpp_z, mse, psnr;
    double psnr_t[NVC_VID_TMAX], bpp_t[NVC_VID_TMAX];  /* per P frame of the chain */
} NvcVidStats;

typedef struct NvcVidModel {
    NvcVidConfig cfg;
    int B, T, H, W;
    NvcArena params, acts;
    float *pbuf, *gbuf, *abuf, *dbuf;
    NvcVidParams p, g;
    NvcVidShared s, ds;
    NvcVidFrame f[NVC_VID_TMAX], df[NVC_VID_TMAX];
    NvcVidPrior mvL, yL;
    float *pool_w;                /* (2, 1, 2, 2) of 1/8: 2x2 average and halving of a flow */
    int q[64];
    int refresh[NVC_VID_TMAX];    /* 1: frame t (0-based P index) rebuilds its feature (nvc_vid_set_refresh) */
    int me_on_source;             /* 1: estimate motion against the source x_{t-1}, not x_hat */
    float mv_rate_weight;         /* training: weights of the motion and of the residual bits in the loss */
    float y_rate_weight;          /* (1, 1: the plain rate) */
    int y_noise;                  /* training: the residual latent reaches the decoder as y + noise, not
                                   * rounded (nvc_vid_prior_forward's train = 2) */
    int train;
    float *host_frames;           /* (T, B, 3, H, W): the chain on the host (motion estimation) */
    float *host_x0;               /* (B, 3, H, W) */
    NvcAdam opt;
    uint64_t seed;
} NvcVidModel;

void nvc_vid_params(NvcArena *a, NvcVidParams *p, const NvcVidConfig *cfg);

/* A model for B chains of T P frames of H x W. train 1: gradients and Adam;
 * 0: forward only (nvc_vid_eval); -1: the codec's inference layout (B = T =
 * 1, only the nvc_vid_infer_* stages; activations share memory). Frame 0 of the chain refreshes; others do not unless
 * nvc_vid_set_refresh says so. */
int nvc_vid_create(NvcVidModel *m, NvcNn *nn, const NvcVidConfig *cfg, int B, int T, int H, int W, int train,
                   NvcLrSchedule sched, uint64_t seed);
void nvc_vid_free(NvcVidModel *m, NvcNn *nn);
size_t nvc_vid_memory(const NvcVidConfig *cfg, int B, int T, int H, int W, int train);

/* A change of units of the residual latent: the contextual encoder's output
 * is multiplied by k > 0 and every reader of the latent (decoder, hyper-analysis,
 * temporal and spatial priors) divides it back, the priors' centres follow
 * (x k) and their scale roots roughly (x sqrt k). Only the quantiser's step
 * relative to the latent changes. Training applies it to a new model (the
 * seeded initialisation leaves the latent at rms ~0.03, far below the step
 * of 1, so it would round to its centres and never carry a signal). Not for
 * a model with Adam moments (they are left as they are). */
int nvc_vid_scale_latent(NvcVidModel *m, NvcNn *nn, float k);
/* The same change of units for the motion latent (motion encoder's output,
 * motion decoder, the motion entropy model). */
int nvc_vid_scale_mv_latent(NvcVidModel *m, NvcNn *nn, float k);

/* The chain: x0 (B, 3, H, W) and frames (T, B, 3, H, W), host floats in [0, 1]. */
/* Frames t = 0, period, 2 period, ... of the chain refresh their feature
 * (period 0: only frame 0), as the codec's --refresh period does from the
 * first P frame; frame t > 0's refresh adapts x_hat_{t-1} (its gradient
 * flows back into it). Not for the inference layout. */
int nvc_vid_set_refresh(NvcVidModel *m, int period);
int nvc_vid_set_chain(NvcVidModel *m, NvcNn *nn, const float *x0, const float *frames);
/* Per-chain quality indices q[0 .. B-1]. */
int nvc_vid_set_quality(NvcVidModel *m, NvcNn *nn, const int *q);

/* Loss and gradients (no update); train step = that + Adam; eval: rounding
 * instead of noise, no gradients. `step` seeds the noise. */
int nvc_vid_forward_backward(NvcVidModel *m, NvcNn *nn, uint64_t step, NvcVidStats *st);
int nvc_vid_train_step(NvcVidModel *m, NvcNn *nn, uint64_t step, NvcVidStats *st);
/* Zero every gradient but the prior networks' (hyper-synthesis, fusion, the
 * spatial prior's layers of both latents), between nvc_vid_forward_backward
 * and the Adam step: a model started from a file (its priors are integers
 * there) learns them again with the transforms frozen. */
void nvc_vid_grads_priors_only(NvcVidModel *m, NvcNn *nn);
int nvc_vid_eval(NvcVidModel *m, NvcNn *nn, NvcVidStats *st);

/* ---- inference (the codec): a model with B = 1, T = 1, train = -1 (or 0) ---------------
 * The float transforms around the integer-coded latents. State between
 * frames: s.x0 holds the reference picture and f[0].fref the reference
 * feature (nvc_vid_infer_next moves the decoded ones there). */

/* Motion analysis of the flow (2, H, W) (host): the motion latent into
 * f[0].me_c[3] and its hyper-latent into f[0].mvp.ha_c[2]. */
int nvc_vid_infer_motion_analysis(NvcVidModel *m, NvcNn *nn, const float *flow);
/* Decoded motion from the decoded motion latent mq8 (Mm, H/16, W/16) in Q8. */
int nvc_vid_infer_motion_synthesis(NvcVidModel *m, NvcNn *nn, const int64_t *mq8);
/* Temporal contexts; refresh: the reference feature is rebuilt from s.x0. */
void nvc_vid_infer_contexts(NvcVidModel *m, NvcNn *nn, int refresh);
/* Contextual analysis of f[0].x: y into f[0].e_c[3], z into f[0].yp.ha_c[2]. */
void nvc_vid_infer_residual_analysis(NvcVidModel *m, NvcNn *nn);
/* Reconstruction f[0].xhat and feature f[0].feat from the decoded latent yq8 (Q8). */
int nvc_vid_infer_residual_synthesis(NvcVidModel *m, NvcNn *nn, const int64_t *yq8);
/* The decoded picture, clamped to [0, 1], and feature become the references. */
int nvc_vid_infer_next(NvcVidModel *m, NvcNn *nn);

/* Multiply-accumulates per pixel of a P frame (decoder side, encoder side). */
void nvc_vid_macs(const NvcVidConfig *c, double *enc, double *dec);

#endif /* NVC_NVC_VIDEO_MODEL_H */
