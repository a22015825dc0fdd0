/*
 * The conditional video codec (NVC_CODEC_DCVC): nvc/VIDEO.md, "Bitstream".
 * I frames are coded by the learned image codec (a nested instance); P
 * frames by the video model: the file named by NVC_VIDEO_MODEL, else the
 * one built into the library (models/video-v3.nvcm).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_CODEC_H
#define NVC_NVC_VIDEO_CODEC_H

#include "codec/codec_internal.h"
#include "nvc/video_file.h"

extern const NvcCodecImpl nvc_codec_dcvc;

/* Load the video model: the file named by NVC_VIDEO_MODEL, else the built-in one. */
int nvc_video_model_load(NvcVidModelFile *f, const NvcLogger *lg);

/* The built-in model file (nvc/model_weights.c), or NULL (*sz = 0). */
const uint8_t *nvc_video_model_builtin(size_t *sz);

#endif /* NVC_NVC_VIDEO_CODEC_H */
