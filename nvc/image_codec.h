/*
 * The learned image codec (NVC_CODEC_IMAGE) as an nvc codec, and the pieces
 * the conditional video codec reuses for its intra frames.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_CODEC_H
#define NVC_NVC_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec_internal.h"
#include "nvc/image_file.h"

extern const NvcCodecImpl nvc_codec_image;

/* The model file built into the library (NULL when there is none). */
const uint8_t *nvc_image_model_builtin(size_t *sz);

/* Load the codec's model: the file named by the environment variable
 * NVC_IMAGE_MODEL when set, else the built-in one. */
int nvc_image_model_load(NvcImgModelFile *f, const NvcLogger *lg);

/* A decoded x_hat (3 planes of hp x wp floats in 0..1, RGB) as an 8-bit
 * picture of the stream's size and format (dec->cfg); also the video codec's. */
int nvc_image_output_picture(const NvcDecoder *dec, const float *xh, int hp, int wp, NvcPicture *out);

#endif /* NVC_NVC_IMAGE_CODEC_H */
