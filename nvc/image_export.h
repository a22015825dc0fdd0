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

/* One float conv (w (co, ci or 1, k, k), b (co)) as an integer layer whose
 * inputs are x / s_in[channel] and outputs y / s_out (also used by the
 * video model's export). 0, NVC_ERR(ERANGE) or NVC_ERR(ENOMEM). */
int nvc_img_export_quant_layer(NvcIntConv *c, const float *w, const float *b, int ci, int co, int k, int dw, int relu,
                               const double *s_in, double s_out);

#endif /* NVC_NVC_IMAGE_EXPORT_H */
