/*
 * The multivariate-mixture prior of the image model (McQuic-style
 * multi-codebook vector quantisation) for training: quantisation, rate and
 * their gradients run on the host (the latent is 1/256 of the pixels).
 *
 * For each position, group g (channels g*d .. g*d+d-1) and level l, the
 * residual r_l = y - sum_{j<l} C[j][g][idx_j] goes to its nearest codeword
 * idx_l of C[l][g]; y_hat = sum_l C[l][g][idx_l]. The rate is
 * -log2 pi_q[l][g][idx_l], pi_q the codeword frequencies of quality q
 * (decayed counts, pooled over neighbouring qualities; the exported PMFs
 * are counted on calibration crops at each quality).
 * Gradients: y_hat -> y straight through, y_hat -> C[idx] (the codewords
 * are decoder parameters), and the rate -> y
 * through the relaxation sum_k p_k (-log2 pi_k), p = softmax(-|r - C_k|^2 / tau)
 * (the encoder learns to spend fewer bits at low qualities). Codewords
 * unused for a while are moved onto recent residuals (McQuic's re-assignment).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_VQ_H
#define NVC_NVC_IMAGE_VQ_H

#include <stdint.h>

#include "nvc/image_model.h"

int nvc_img_vq_create(NvcImgModel *m);
void nvc_img_vq_free(NvcImgModel *m);

/* m->a.y -> m->a.yhat and the rate into m->a.bits[0] (bits[1] = 0). */
int nvc_img_vq_forward(NvcImgModel *m, NvcNn *nn, int train, uint64_t seed);
/* Adds into m->d.y and the gradients of the codebook and logits. */
int nvc_img_vq_backward(NvcImgModel *m, NvcNn *nn, float dbits);

/* Nearest codewords level by level (ties: lower index), host arrays:
 * y (M, n) -> idx (L, G, n) and yhat (M, n) (may be NULL). cb (L, G, k, d). */
void nvc_img_vq_quantize(const NvcImgConfig *c, const float *cb, const float *y, int n, uint16_t *idx,
                         float *yhat);

#endif /* NVC_NVC_IMAGE_VQ_H */
