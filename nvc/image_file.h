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

/* ---- pieces the video model's file (nvc/video_file.c) shares -------------------------- */

/* The bits of an IEEE-754 float and back. */
uint32_t nvc_img_file_f32_bits(float f);
float nvc_img_file_bits_f32(uint32_t u);
void nvc_img_file_write_floats(NvcByteWriter *bw, const float *v, size_t n);

/* Magic (8 bytes), version, name (u8 length + bytes), step. */
void nvc_img_file_write_head(NvcByteWriter *bw, const char *magic, unsigned version, const char *name, uint64_t step);
/* The same read back; name (NVC_IMG_NAME_MAX + 1 bytes, zeroed) receives the
 * name; what names the file in errors ("image model"). */
int nvc_img_file_read_head(NvcByteReader *br, const char *magic, unsigned version, const char *what, char *name,
                           uint64_t *step, const NvcLogger *lg);
/* The same, also giving the file's version (1 .. version). */
int nvc_img_file_read_head_v(NvcByteReader *br, const char *magic, unsigned version, const char *what, char *name,
                             uint64_t *step, unsigned *file_version, const NvcLogger *lg);

/* The tensor list: count, then name, shape and float data of each. Read:
 * *t and *nt hold what was read so far also on an error (free them with
 * nvc_img_file_free_tensors). */
void nvc_img_file_write_tensors(NvcByteWriter *bw, const NvcImgTensor *t, int nt);
int nvc_img_file_read_tensors(NvcByteReader *br, NvcImgTensor **t, int *nt);
void nvc_img_file_free_tensors(NvcImgTensor **t, int *nt);

/* The tensors of arena a (values in host) for which keep(ctx, name) holds. */
int nvc_img_file_take_tensors(NvcImgTensor **t, int *nt, const NvcArena *a, const float *host,
                              int (*keep)(const void *ctx, const char *name), const void *ctx);

/* The (64, C) table of a quality scaler from its limits lim (2, C): the
 * geometric interpolation of the models' set_quality. */
int nvc_img_file_quality_table(float **table, const float *lim, int C);

/* The CRC-32 of the file written since start, appended; *crc receives it. */
int nvc_img_file_seal(NvcByteWriter *bw, size_t start, uint32_t *crc);

/* Check the length and trailing CRC-32 of a whole file, then parse its body
 * with parse(f, br, lg); on an error free(f) and log "<what>: malformed
 * file" for corrupt data. *crc receives the CRC on success. */
int nvc_img_file_parse_sealed(const uint8_t *buf, size_t sz, const char *what, void *f,
                              int (*parse)(void *f, NvcByteReader *br, const NvcLogger *lg), void (*free_file)(void *f),
                              uint32_t *crc, const NvcLogger *lg);

/* The end of an export that got ret so far: when 0, serialise f with write
 * and save it to path (temporary name, then rename), *bytes its size. Any
 * error is logged as "<what> export: ..." and returned. */
int nvc_img_file_export(int ret, const char *path, const char *what, void *f,
                        int (*write)(void *f, NvcByteWriter *bw), size_t *bytes, const NvcLogger *lg);

#endif /* NVC_NVC_IMAGE_FILE_H */
