/*
 * The INR training loss (inr/loss.c): masked, weighted per plane, on the
 * planes the decoder emits (4:2:0 chroma pooled 2x2).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_INR_LOSS_H
#define NVC_INR_LOSS_H

#include "inr/inr.h"

typedef struct InrLoss {
    NvcPictureParameters p;
    enum InrLossKind kind;
    int H, W, Hc, Wc, bmax;
    int sub, gray;             /* 4:2:0 (chroma pooled), one plane */
    float wy, wc;              /* weight of the luma plane, of each chroma plane */
    NvcArena ar;               /* loss activations */
    float *x, *dx;             /* their buffers (backend) */
    void *views;
    size_t nconst;
    float *consts;             /* backend: pool weights, masks, targets */
    float *pool_w, *my, *mc, *ty, *tc, *ry, *rc;
    float *host;               /* host mirror of consts */
} InrLoss;

int inr_loss_init(InrLoss *l, NvcNn *nn, const NvcPictureParameters *p, int rgb, int H, int W, int bmax,
                  enum InrLossKind kind);
void inr_loss_free(InrLoss *l, NvcNn *nn);
/* Targets of a batch (B pictures). */
int inr_loss_set_targets(InrLoss *l, NvcNn *nn, const NvcPicture *const *pics, int B);
/* Loss of out (B, 3, H, W) (mean over the batch); accumulates its gradient
 * into dout. */
float inr_loss_step(InrLoss *l, NvcNn *nn, const float *out, float *dout, int B);

#endif /* NVC_INR_LOSS_H */
