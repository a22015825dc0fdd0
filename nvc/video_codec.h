/*
 * The conditional video codec (NVC_CODEC_DCVC): nvc/VIDEO.md, "Bitstream".
 * I frames are coded by the learned image codec (a nested instance); P
 * frames by the video model of the file named by NVC_VIDEO_MODEL (no model
 * is built in yet).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_CODEC_H
#define NVC_NVC_VIDEO_CODEC_H

#include "codec/codec_internal.h"
#include "nvc/video_file.h"

extern const NvcCodecImpl nvc_codec_dcvc;

/* Load the video model: the file named by NVC_VIDEO_MODEL. */
int nvc_video_model_load(NvcVidModelFile *f, const NvcLogger *lg);

#endif /* NVC_NVC_VIDEO_CODEC_H */
