/*
 * libnvc internals between nvc pictures and FFmpeg frames: zero-copy
 * wrapping both ways and pixel-format conversion (libswscale). Only files
 * built with $(FFMPEG_CFLAGS) include this.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_LAV_H
#define NVC_CODEC_LAV_H

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>

#include "codec/lav_map.h"
#include "nvc/picture.h"

/* A frame holding pic's planes: a new reference to them when pic has one
 * (no copy), else a copy. Colour and pts (pic->pts) are set. Returns 0 or
 * NVC_ERR(ENOMEM) / NVC_ERR(EINVAL) (format FFmpeg has no name for). */
int nvc_lav_frame_from_picture(AVFrame **out, const NvcPicture *pic);

/* A picture referencing the frame's planes (no copy unless a line size is
 * negative) when its format is one nvc holds (nvc_lav_params_of); pts is
 * left to the caller. Returns 0, NVC_ERR(ENOTSUP) for other formats,
 * NVC_ERR(ENOMEM). */
int nvc_lav_picture_from_frame(NvcPicture *pic, const AVFrame *f);

/* The nvc format that loses least for an FFmpeg format: same format when
 * nvc holds it, else planar YCbCr with 4:4:4 kept and every other chroma
 * subsampling made 4:2:0, planar GBR for RGB and palette formats, gray for
 * gray; depth rounded up to 8, 10, 12 or 16. *why names what is lost
 * ("alpha", "4:2:2 chroma", ...) or is NULL. Returns AV_PIX_FMT_NONE for
 * formats without a description (hardware frames). */
enum AVPixelFormat nvc_lav_nearest_fmt(enum AVPixelFormat fmt, const char **why);

/* Pixel-format conversion (and scaling) of whole frames with libswscale,
 * using the frames' colour descriptions: YCbCr <-> RGB with the source's
 * matrix (unspecified: BT.709 above 576 lines, else BT.601, as
 * nvc_picture_convert) and range. */
typedef struct NvcLavScaler {
    struct SwsContext *sws;
} NvcLavScaler;

/* Convert src into a new w x h frame of format fmt (*out, to free); its
 * colour: src's, with the matrix and range set for fmt's colour family.
 * Returns 0, NVC_ERR(ENOTSUP) (a conversion libswscale lacks), NVC_ERR(ENOMEM). */
int nvc_lav_scale(NvcLavScaler *s, const AVFrame *src, enum AVPixelFormat fmt, int w, int h,
                  AVFrame **out);
void nvc_lav_scaler_free(NvcLavScaler *s);

/* AVERROR text in a caller buffer, and AVERROR -> nvc error: errno codes
 * stay, FFmpeg's own (invalid data, no such codec ...) become
 * NVC_ERR_CORRUPT for AVERROR_INVALIDDATA and NVC_ERR(EINVAL) otherwise. */
const char *nvc_lav_err_text(int err, char *buf, size_t sz);
int nvc_lav_error(int err);

#endif /* NVC_CODEC_LAV_H */
