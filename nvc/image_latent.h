/*
 * Entropy coding of the image model's latents with the integer prior
 * (GMM variant): one payload for z_hat, then one per four-part step.
 * Decoding is integer-only (the bit-exact layer); encoding takes the float
 * latents and chooses the symbols s = round(y - c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_LATENT_H
#define NVC_NVC_IMAGE_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "nvc/image_int.h"

typedef struct NvcImgLatentDims {
    int h4, w4; /* latent size (1/16) */
    int h6, w6; /* hyper-latent size (1/64) */
} NvcImgLatentDims;

/* Gaussian tables of ii's scale table (phase 0) shared by z and K = 1. */
int nvc_img_latent_tables(const NvcImgInt *ii, NvcCondTables *ct);

/* Code z (Cz, h6, w6) and y (M, h4, w4) (float latents of the analysis) at
 * quality q. bw NULL: only count the ideal bits (bits_z, bits_y may be
 * NULL). yq8 (M, h4, w4) receives the decoded latent in Q8 (may be NULL). */
int nvc_img_latent_encode(const NvcImgInt *ii, const NvcCondTables *ct, int q, const float *y, const float *z,
                          const NvcImgLatentDims *d, NvcByteWriter *bw, double *bits_z, double *bits_y,
                          int64_t *yq8);

/* Decode what nvc_img_latent_encode wrote: yq8 (M, h4, w4) in Q8 and, when
 * z_out is not NULL, the z_hat symbols (Cz, h6, w6). NVC_ERR_CORRUPT for
 * damaged payloads. */
int nvc_img_latent_decode(const NvcImgInt *ii, const NvcCondTables *ct, int q, NvcByteReader *br,
                          const NvcImgLatentDims *d, int64_t *yq8, int32_t *z_out);

#endif /* NVC_NVC_IMAGE_LATENT_H */
