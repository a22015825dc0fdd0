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

/* ---- pieces the video codec (nvc/video_codec.c) shares ---------------------------------- */

/* Read the whole model file at path (named by the environment variable var;
 * at most 256 MiB) and parse it into f with parse. */
int nvc_image_load_model_file(const char *path, const char *var, void *f,
                              int (*parse)(void *f, const uint8_t *buf, size_t sz, const NvcLogger *lg),
                              const NvcLogger *lg);

/* Copy a model file's float tensors into the parameters pbuf (on nn's
 * device) laid out by layout. NVC_ERR_CORRUPT for a tensor the layout lacks
 * or has in another shape. */
int nvc_image_load_tensors(NvcNn *nn, const NvcImgTensor *t, int nt, const NvcArena *layout, float *pbuf);

/* Whether pictures of this format can be coded: 8-bit RGB or YCbCr 4:2:0. */
int nvc_image_format_ok(const NvcPictureParameters *p, const NvcColorDescription *color);

/* A picture of a supported format as padded float RGB (3, hp, wp) in 0..1
 * (edges repeated). */
int nvc_image_input_picture(const NvcPicture *pic, int hp, int wp, float *x);

/* A decoded x_hat (3 planes of hp x wp floats in 0..1, RGB) as an 8-bit
 * picture of the stream's size and format (dec->cfg). */
int nvc_image_output_picture(const NvcDecoder *dec, const float *xh, int hp, int wp, NvcPicture *out);

/* The stream configuration cfg with the payload bw as the encoder's; cfg
 * is cleared. */
int nvc_image_set_config(NvcEncoder *enc, NvcStreamConfig *cfg, const NvcByteWriter *bw);

/* The one packet an encoder holds, the first member of its state. */
typedef struct NvcImagePacketSlot {
    NvcData pkt;
    int has_pkt;
} NvcImagePacketSlot;

/* Put bw's bytes in the slot. */
int nvc_image_packet_put(NvcImagePacketSlot *slot, const NvcByteWriter *bw, int64_t pts, unsigned flags);

/* NvcCodecImpl.enc_get of an encoder whose state starts with a slot:
 * its packet, or NVC_ERR(EAGAIN). */
int nvc_image_enc_get(NvcEncoder *enc, NvcData *pkt);

#endif /* NVC_NVC_IMAGE_CODEC_H */
