/*
 * The deployable model file of the video P-frame model (nvc/VIDEO.md,
 * "Model file"): configuration, float transforms, per-quality scaler tables
 * and the integer entropy models of both latents (motion, residual), CRC-32.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_FILE_H
#define NVC_NVC_VIDEO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "nvc/image_file.h"
#include "nvc/video_data.h"
#include "nvc/video_int.h"
#include "nvc/video_model.h"

#define NVC_VID_FILE_MAGIC "NVCVIDM1"
#define NVC_VID_FILE_VERSION 2 /* 2: u16 flags after the widths (1: blend, 2: gated blend); 1: none */
/* Mask bias of a gated-blend model started from a file without blend:
 * sigmoid(-4) = 0.018 of the warped reference, open enough to learn from. */
#define NVC_VID_GATE_INIT -4.0f
#define NVC_VID_NAME_MAX 63

typedef struct NvcVidModelFile {
    NvcVidConfig cfg;
    char name[NVC_VID_NAME_MAX + 1];
    uint64_t step;
    uint32_t crc;                       /* CRC-32 of the file before its CRC: the model's identity */
    NvcImgTensor *t;                    /* float tensors (every transform) */
    int nt;
    float *q_mv_enc, *q_mv_dec;         /* (64, cm) */
    float *q_enc, *q_dec;               /* (64, g2) */
    NvcVidInt mv, y;                    /* integer entropy models */
} NvcVidModelFile;

/* Whether the float tensor `name` belongs in the file (the prior networks
 * and the scaler limits are stored in integer / table form instead). */
int nvc_vid_file_keeps(const char *name);

int nvc_vid_file_parse(NvcVidModelFile *f, const uint8_t *buf, size_t sz, const NvcLogger *lg);
/* Read and parse the file at path (what names it in errors, e.g. the
 * environment variable or option that gave it). */
int nvc_vid_file_load(NvcVidModelFile *f, const char *path, const char *what, const NvcLogger *lg);
int nvc_vid_file_write(NvcVidModelFile *f, NvcByteWriter *bw);
void nvc_vid_file_free(NvcVidModelFile *f);

typedef struct NvcVidExportStats {
    size_t bytes;
    uint32_t crc;
    double bpp_float;   /* calibration chains: ideal rate of both latents with the float priors */
    double bpp_int;     /* ... with the integer ones */
} NvcVidExportStats;

/* Calibrate on `batches` fixed batches of chains of set (m's sizes; frame 0
 * of each chain taken as is), quantise both priors and write the model file
 * to path (temporary name, then rename). m: a model of this configuration
 * holding the trained parameters. */
int nvc_vid_export(NvcVidModel *m, NvcNn *nn, const NvcVidClipSet *set, int batches, const char *name,
                   uint64_t step, const char *path, NvcVidExportStats *st, const NvcLogger *logger);

/* Start a training model (train > 0, before any step) from a model file:
 * its float transforms, the scalers' limits (rows 0 and 63 of its tables),
 * the z scales and the prior networks, each integer layer as the float layer
 * that computes the same without the rounding (weights x multiplier /
 * 2^shift, in the integer network's units: hidden activations 0..4095 read
 * as [0, 1]). m's configuration must be the file's; a blend model may start
 * from a file without (its mask starts closed: sigmoid(-8); gated, nearly
 * closed: NVC_VID_GATE_INIT). NVC_ERR(EINVAL) on a mismatch. */
int nvc_vid_init_from_file(NvcVidModel *m, NvcNn *nn, const NvcVidModelFile *f);

#endif /* NVC_NVC_VIDEO_FILE_H */
