/*
 * Export of a trained image model to its deployable file (doc/FORMAT.md,
 * "Learned image codec"): float transforms, integer prior networks
 * calibrated on training crops, per-quality tables.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_EXPORT_H
#define NVC_NVC_IMAGE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/image_model.h"
#include "nvc/train_data.h"

typedef struct NvcImgExportStats {
    size_t bytes;        /* file size */
    uint32_t crc;        /* the model's identity (CRC-32 of the file before its CRC) */
    double bpp_float;    /* calibration crops: ideal rate with the float prior networks */
    double bpp_int;      /* ... and with the integer ones (what the codec codes) */
} NvcImgExportStats;

/* Calibrate on `batches` fixed batches of crops of set (m's batch size and
 * crop), quantize the prior networks and write the model file to path
 * (temporary name, then rename). */
int nvc_img_export(NvcImgModel *m, NvcNn *nn, const NvcTrainSet *set, int batches, const char *name,
                   uint64_t step, const char *path, NvcImgExportStats *st, const NvcLogger *logger);

/* ---- pieces the video model's integer priors (nvc/video_int.c) share ------------------ */

/* One float conv (w (co, ci or 1, k, k), b (co)) as an integer layer whose
 * inputs are x / s_in[channel] and outputs y / s_out. 0, NVC_ERR(ERANGE) or
 * NVC_ERR(ENOMEM). */
int nvc_img_export_quant_layer(NvcIntConv *c, const float *w, const float *b, int ci, int co, int k, int dw, int relu,
                               const double *s_in, double s_out);

/* Largest post-ReLU activations seen on calibration data in the layers of
 * the hyper-synthesis and the three four-part context networks. */
typedef struct NvcIntCalib {
    double hs[5];          /* hs_r[i] */
    double ctx[3][3];      /* ctx[i].r1, r2, r3 */
} NvcIntCalib;

/* Fold the largest value of the device tensor dev (n floats) into *mx. */
int nvc_img_export_tensor_max(NvcNn *nn, const float *dev, size_t n, double *mx);

/* Fold one batch's activations into cal: hs_r (5) and ctx (3) of a prior
 * whose feature (B, P, h, w) has n4 elements. */
int nvc_img_export_calib(NvcNn *nn, float *const *hs_r, const NvcImgCtx *ctx, size_t n4, NvcIntCalib *cal);

/* The integer scale of activations whose largest value is mx. */
double nvc_img_export_act_scale(double mx);

/* Start an integer prior: its sizes (E = G M), the scale table and the
 * per-quality z scales from z_scale (64, Cz). ii is reset first. */
int nvc_img_export_int_init(NvcImgInt *ii, int M, int Cz, int P, int K, int G, const float *z_scale);

/* Quantise the hyper-synthesis hs (5 layers) into ii->hs. */
int nvc_img_export_int_hs(NvcImgInt *ii, const NvcImgConv *hs, const NvcIntCalib *cal);

/* Quantise the step-0 output layer p0 and the context networks (ctx[s]:
 * in, dw, mid, out) into ii; s_feat is the scale of the feature they read
 * beside the decoded latent. */
int nvc_img_export_int_steps(NvcImgInt *ii, const NvcImgConv *p0, const NvcImgConv (*ctx)[4], const NvcIntCalib *cal,
                             double s_feat);

#endif /* NVC_NVC_IMAGE_EXPORT_H */
