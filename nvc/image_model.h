/*
 * The learned image (intra) model, DCVC-FM intra family, on the nn engine.
 *
 *   x (B, 3, H, W), H and W multiples of 64
 *   analysis:  RBS(3 -> c1) at 1/2, x q_enc[q] (per-channel scaler), RBS(c1 -> c2) at 1/4,
 *              RBS(c2 -> c3) at 1/8, conv3x3/2 (c3 -> M) at 1/16: y
 *              RBS = ResidualBlockWithStride2: down = conv2x2/2, out = down +
 *                    leaky(conv1x1(leaky(conv3x3(down))))
 *   synthesis: RBU(M -> c3), RBU(c3 -> c2), RBU(c2 -> c1), x q_dec[q], conv3x3 (c1 -> 12),
 *              PixelShuffle(2): x_hat
 *              RBU = ResidualBlockUpsample: out = PS(conv1x1 skip(x)) +
 *                    leaky0.1(conv3x3(leaky(PS(conv1x1(x)))))
 *   GMM prior: z = h_a(y) (conv3x3 M -> Cz, conv3x3/2, conv3x3/2) at 1/64, z_hat = round(z),
 *              coded with zero-mean Gaussians of scale z_scale[q][c];
 *              h = h_s(z_hat): conv3x3 Cz -> P, subpel1x1 x2, conv3x3, subpel1x1 x2, conv1x1
 *              (ReLU after each), at 1/16;
 *              four-part spatial prior (DCVC-DC): step 0 params = conv1x1(h); step i = 1..3
 *              params = ctx_i(concat(y_hat so far, h)), ctx = conv1x1, ReLU, dw3x3, ReLU,
 *              conv1x1, ReLU, conv1x1. Params per latent element: centre c, then for K > 1
 *              K logits, K component means (relative to c) and K scale roots t, for K = 1
 *              one scale root; scale = 0.11 + t^2. Symbols s = round(y - c), y_hat = s + c.
 *              h_s and the prior nets run as integer networks at inference (nvc/image_int.h).
 *   VQ prior:  McQuic-style multi-codebook vector quantisation of y: G groups of d = M / G
 *              channels, L cascaded levels quantising the residual, k codewords each;
 *              indices coded with a static categorical PMF per quality index
 *              (codeword frequencies, nvc/image_vq.h).
 *
 * Quality index q in 0..63: scalers interpolated geometrically between the
 * learned q = 0 and q = 63 vectors, lambda = lambda_min (lambda_max /
 * lambda_min)^(q / 63); loss = bits / pixels + lambda * 255^2 * MSE.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_MODEL_H
#define NVC_NVC_IMAGE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "nn/optim.h"
#include "nvc/image_int.h"

#define NVC_IMG_QLEVELS 64
#define NVC_IMG_ALIGN 64
#define NVC_IMG_KMAX 4

enum NvcImgPrior {
    NVC_IMG_PRIOR_GMM = 0, /* hyperprior + four-part spatial prior, K-component mixtures */
    NVC_IMG_PRIOR_VQ = 1,  /* multi-codebook vector quantisation (McQuic-style) */
};

typedef struct NvcImgConfig {
    enum NvcImgPrior prior;
    int c1, c2, c3;    /* transform widths at 1/2, 1/4, 1/8 */
    int M;             /* latent channels (multiple of 4) */
    int Cz;            /* hyper-latent channels */
    int P;             /* prior network width */
    int K;             /* mixture components, 1 .. NVC_IMG_KMAX */
    int vq_groups;     /* VQ: sub-vectors per position (divides M) */
    int vq_k;          /* VQ: codewords per codebook */
    int vq_levels;     /* VQ: cascaded residual levels */
    float lambda_min, lambda_max; /* rate-distortion weights at q = 0 and q = 63 */
} NvcImgConfig;

void nvc_img_config_default(NvcImgConfig *c, enum NvcImgPrior prior);
/* 0 or NVC_ERR(EINVAL) (logged through logger, may be NULL). */
int nvc_img_config_check(const NvcImgConfig *c, const NvcLogger *logger);
/* Prior parameters per latent element: 2 for K = 1, 1 + 3K otherwise. */
int nvc_img_param_groups(const NvcImgConfig *c);
float nvc_img_lambda(const NvcImgConfig *c, int q);

typedef struct NvcImgConv {
    float *w, *b;
} NvcImgConv;

typedef struct NvcImgParams {
    struct {
        NvcImgConv down, conv, pw;  /* (co, ci, 2, 2), (co, co, 3, 3), (co, co, 1, 1) */
    } enc[3];
    NvcImgConv enc_out;             /* (M, c3, 3, 3), stride 2 */
    float *q_enc;                   /* (2, c1): scaler at q = 0 and q = 63 */
    struct {
        NvcImgConv up, conv, skip;  /* (4 co, ci, 1, 1), (co, co, 3, 3), (4 co, ci, 1, 1) */
    } dec[3];
    float *q_dec;                   /* (2, c1) */
    NvcImgConv dec_out;             /* (12, c1, 3, 3) */
    /* GMM prior */
    NvcImgConv ha[3];               /* (Cz, M, 3, 3), (Cz, Cz, 3, 3) x 2 (stride 2) */
    float *z_scale;                 /* (64, Cz) */
    NvcImgConv hs[5];               /* (P, Cz, 3, 3), (4P, P, 1, 1), (P, P, 3, 3), (4P, P, 1, 1), (P, P, 1, 1) */
    NvcImgConv p0;                  /* (E, P, 1, 1) */
    struct {
        NvcImgConv in, dw, mid, out; /* (P, M + P, 1, 1), (P, 1, 3, 3), (P, P, 1, 1), (E, P, 1, 1) */
    } ctx[3];
    /* VQ prior */
    float *codebook;                /* (L, G, k, d) */
} NvcImgParams;

typedef struct NvcImgRbs {
    float *down, *c1, *a1, *c2, *a2, *out;
} NvcImgRbs;

typedef struct NvcImgRbu {
    float *u, *ps, *a1, *c, *a2, *s, *sps, *out;
} NvcImgRbu;

typedef struct NvcImgCtx {
    float *in, *c1, *r1, *c2, *r2, *c3, *r3;
} NvcImgCtx;

/* Activations of a batch (B, 3, H, W); the same layout holds their gradients. */
typedef struct NvcImgActs {
    float *x, *xhat;               /* (B, 3, H, W) */
    NvcImgRbs enc[3];
    float *e1q;                     /* (B, c1, H/2, W/2): first block times q_enc */
    float *y;                       /* (B, M, H/16, W/16) */
    float *qe, *qd;                 /* (B, c1) per-sample scalers */
    NvcImgRbu dec[3];
    float *d3q;                     /* (B, c1, H/2, W/2) */
    float *dec_out;                 /* (B, 12, H/2, W/2) */
    float *yhat;                    /* (B, M, H/16, W/16): what the synthesis sees */
    /* GMM prior */
    float *ha_c[3], *ha_a[2];       /* z = ha_c[2] (B, Cz, H/64, W/64) */
    float *z_noisy, *z_hat, *z_sc, *ones_z, *zq;
    float *hs_c[5], *hs_ps[2], *hs_r[5]; /* h = hs_r[4] (B, P, H/16, W/16) */
    float *prm[4];                  /* (B, E, n) per step */
    NvcImgCtx ctx[3];
    float *ctr[4], *rest[4];        /* (B, M, n), (B, E - M, n) */
    float *negc[4], *diff[4], *rnd[4], *yh[4], *yhm[4]; /* (B, M, n) */
    float *sofar[4];                /* y_hat so far before step i (sofar[0] unused) */
    float *pm[4], *pcomb;           /* (B, E, n) masked params, their sum */
    float *cctr, *crest, *cneg, *cdiff, *snoisy; /* combined centre, rest; s = y - c + u */
    float *lg, *dl, *troot, *rest2, *tsq, *scale; /* K > 1: logits, deltas; scale roots, squares, scales */
    /* VQ prior */
    float *vq_y;                    /* (B, M, n): y after the VQ (host-computed) */
    float *bits;                    /* (8) scalars */
} NvcImgActs;

typedef struct NvcImgStats {
    double loss, bpp, bpp_z, mse, psnr;
    double bpp_q[4], psnr_q[4]; /* by quality quartile, 0 when no sample fell there */
    int n_q[4];
} NvcImgStats;

struct NvcImgVq;

typedef struct NvcImgModel {
    NvcImgConfig cfg;
    int B, H, W, E;
    NvcArena params, acts;
    float *pbuf, *gbuf, *abuf, *dbuf; /* backend memory */
    NvcImgParams p, g;
    NvcImgActs a, d;
    float *mask[4], *maske[4];      /* (B, M, n), (B, E, n) four-part masks */
    int q[64];                      /* per-sample quality index of the batch (B <= 64) */
    int train;                      /* 1: training, 0: evaluation, -1: transforms only */
    NvcAdam opt;
    struct NvcImgVq *vq;            /* host state of the VQ prior */
    uint64_t seed;
} NvcImgModel;

/* Declare the parameters of cfg into a (layout pass when a->base is NULL). */
void nvc_img_params(NvcArena *a, NvcImgParams *p, const NvcImgConfig *cfg);

/* A model for batches (B, 3, H, W) on nn. train 1: also gradients,
 * activation gradients and Adam; 0: forward passes (nvc_img_eval); -1: the
 * transforms only (analysis, hyper-analysis, synthesis: what the codec
 * runs), activations computed in place. Parameters are initialized from
 * seed. */
int nvc_img_create(NvcImgModel *m, NvcNn *nn, const NvcImgConfig *cfg, int B, int H, int W, int train,
                   NvcLrSchedule sched, uint64_t seed);
void nvc_img_free(NvcImgModel *m, NvcNn *nn);

/* Bytes a model of these sizes allocates (parameters and activations;
 * train: also gradients, activation gradients and Adam moments). */
size_t nvc_img_memory(const NvcImgConfig *cfg, int B, int H, int W, int train);

/* Upload the per-sample scalers for q[0 .. B-1]. */
int nvc_img_set_quality(NvcImgModel *m, NvcNn *nn, const int *q);

/* One training step on m->a.x (uploaded by the caller) with the qualities
 * set by nvc_img_set_quality; `step` seeds the noise. */
int nvc_img_train_step(NvcImgModel *m, NvcNn *nn, uint64_t step, NvcImgStats *st);

/* The loss (st->loss) and the gradients of one step, without the update
 * (gradient checks). */
int nvc_img_forward_backward(NvcImgModel *m, NvcNn *nn, uint64_t step, NvcImgStats *st);

/* The same forward pass without the update (evaluation with noise replaced
 * by rounding everywhere): fills st. */
int nvc_img_eval(NvcImgModel *m, NvcNn *nn, NvcImgStats *st);

/* Inference pieces: analysis a.x -> a.y (needs the quality set). */
void nvc_img_analysis(NvcImgModel *m, NvcNn *nn);
/* z = h_a(a.y) into a.ha_c[2]. */
void nvc_img_hyper_analysis(NvcImgModel *m, NvcNn *nn);
/* synthesis a.yhat -> a.xhat. */
void nvc_img_synthesis(NvcImgModel *m, NvcNn *nn);

/* Multiply-accumulates per pixel of the float transforms (analysis,
 * hyper-analysis, synthesis) and of the prior networks. */
void nvc_img_macs(const NvcImgConfig *c, double *enc, double *dec, double *prior);

/* Four-part step (0..3) of latent element (channel ch of M, row yy, column xx). */
static inline int nvc_img_step_of(int M, int ch, int yy, int xx)
{
    return nvc_img_int_step_of(M, ch, yy, xx);
}

#endif /* NVC_NVC_IMAGE_MODEL_H */
