/*
 * The deployable model file of the learned image codec (doc/FORMAT.md,
 * "Learned image codec", model file): configuration, float transforms,
 * per-quality scaler tables, the integer prior networks (GMM variant) or
 * the codebook PMFs (VQ variant), CRC-32.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_FILE_H
#define NVC_NVC_IMAGE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "nn/nn.h"
#include "nvc/image_int.h"
#include "nvc/image_model.h"

#define NVC_IMG_FILE_MAGIC "NVCIMGM1"
#define NVC_IMG_FILE_VERSION 1
#define NVC_IMG_NAME_MAX 63

typedef struct NvcImgTensor {
    char name[NVC_TENSOR_NAME_MAX];
    NvcShape shape;
    size_t numel;
    float *data;
} NvcImgTensor;

typedef struct NvcImgModelFile {
    NvcImgConfig cfg;
    char name[NVC_IMG_NAME_MAX + 1];
    uint64_t step;                 /* training steps */
    uint32_t crc;                  /* CRC-32 of the file before its CRC: the model's identity */
    NvcImgTensor *t;               /* float tensors (transforms; VQ: the codebook) */
    int nt;
    float *q_enc, *q_dec;          /* (64, c1) scaler of each quality index */
    NvcImgInt ii;                  /* GMM: integer prior */
    uint16_t *vq_freq;             /* VQ: (64, L, G, k) frequencies, each codebook summing to 2^16 */
} NvcImgModelFile;

/* Parse a whole file; every field is validated. NVC_ERR_CORRUPT (bad CRC,
 * magic, shapes, values), NVC_ERR(ENOTSUP) (newer version), NVC_ERR(ENOMEM). */
int nvc_img_file_parse(NvcImgModelFile *f, const uint8_t *buf, size_t sz, const NvcLogger *lg);
void nvc_img_file_free(NvcImgModelFile *f);

/* Serialise (f->crc is computed and set). */
int nvc_img_file_write(NvcImgModelFile *f, NvcByteWriter *bw);

/* Whether the float tensor `name` belongs in the file (the prior networks
 * are stored as integer layers instead). */
int nvc_img_file_keeps(const NvcImgConfig *c, const char *name);

#endif /* NVC_NVC_IMAGE_FILE_H */
