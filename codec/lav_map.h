/*
 * nvc pictures and FFmpeg frames: pixel formats and colour descriptions.
 * Header-only (static inline) so that tools built with $(FFMPEG_CFLAGS)
 * (nvc-rd) share the mapping with libnvc without libnvc exporting FFmpeg
 * types.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_LAV_MAP_H
#define NVC_CODEC_LAV_MAP_H

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "nvc/picture.h"

/* nvc pictures map onto these FFmpeg formats, one per layout (RGB = I444
 * with NVC_MC_IDENTITY) and depth; samples above 8 bits are native-endian
 * uint16 in both. */
static inline enum AVPixelFormat nvc_lav_pix_fmt(const NvcPictureParameters *p, int rgb)
{
    static const enum AVPixelFormat fmts[4][4] = {
        { AV_PIX_FMT_GRAY8, AV_PIX_FMT_GRAY10, AV_PIX_FMT_GRAY12, AV_PIX_FMT_GRAY16 },
        { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV420P12, AV_PIX_FMT_YUV420P16 },
        { AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV444P10, AV_PIX_FMT_YUV444P12, AV_PIX_FMT_YUV444P16 },
        { AV_PIX_FMT_GBRP, AV_PIX_FMT_GBRP10, AV_PIX_FMT_GBRP12, AV_PIX_FMT_GBRP16 },
    };
    const int d = p->bpc == 8 ? 0 : p->bpc == 10 ? 1 : p->bpc == 12 ? 2 : p->bpc == 16 ? 3 : -1;
    if (d < 0 || (unsigned)p->layout > NVC_PIXEL_LAYOUT_I444)
        return AV_PIX_FMT_NONE;
    if (rgb)
        return p->layout == NVC_PIXEL_LAYOUT_I444 ? fmts[3][d] : AV_PIX_FMT_NONE;
    return fmts[p->layout][d];
}

/* The nvc layout and depth of an FFmpeg format nvc holds without
 * conversion (the inverse of nvc_lav_pix_fmt, plus the full-range yuvj
 * formats). Returns 0, or -1 for any other format. *rgb: planar GBR. */
static inline int nvc_lav_params_of(enum AVPixelFormat fmt, NvcPictureParameters *p, int *rgb,
                                    int *full_range)
{
    *full_range = fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ444P;
    if (fmt == AV_PIX_FMT_YUVJ420P)
        fmt = AV_PIX_FMT_YUV420P;
    else if (fmt == AV_PIX_FMT_YUVJ444P)
        fmt = AV_PIX_FMT_YUV444P;
    static const int depths[4] = { 8, 10, 12, 16 };
    for (int l = 0; l < 4; l++) {
        for (int d = 0; d < 4; d++) {
            NvcPictureParameters q = { p->w, p->h, (enum NvcPixelLayout)(l == 3 ? 2 : l), depths[d] };
            if (nvc_lav_pix_fmt(&q, l == 3) == fmt) {
                *p = q;
                *rgb = l == 3;
                return 0;
            }
        }
    }
    return -1;
}

/* Colour description of a picture onto a frame and back. The matrix,
 * primaries and transfer are H.273 code points on both sides. nvc knows
 * chroma locations left, center and top-left only (the Y4M ones). */
static inline void nvc_lav_color_to_frame(AVFrame *f, const NvcColorDescription *c, int rgb)
{
    f->colorspace = rgb ? AVCOL_SPC_RGB : (enum AVColorSpace)c->matrix;
    f->color_primaries = (enum AVColorPrimaries)c->primaries;
    f->color_trc = (enum AVColorTransferCharacteristic)c->transfer;
    f->color_range = rgb || c->range == NVC_RANGE_FULL ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    f->chroma_location = (enum AVChromaLocation)c->chroma_location;
}

static inline void nvc_lav_color_from_frame(NvcColorDescription *c, const AVFrame *f, int rgb,
                                            int full_range)
{
    nvc_color_description_default(c);
    if ((unsigned)f->colorspace <= 255)
        c->matrix = (enum NvcMatrixCoefficients)f->colorspace;
    if (rgb)
        c->matrix = NVC_MC_IDENTITY;
    else if (c->matrix == NVC_MC_IDENTITY) /* YCbCr samples labelled RGB: ignore the label */
        c->matrix = NVC_MC_UNSPECIFIED;
    if ((unsigned)f->color_primaries <= 255)
        c->primaries = (enum NvcColorPrimaries)f->color_primaries;
    if ((unsigned)f->color_trc <= 255)
        c->transfer = (enum NvcTransferCharacteristics)f->color_trc;
    c->range = rgb || full_range || f->color_range == AVCOL_RANGE_JPEG ? NVC_RANGE_FULL
                                                                        : NVC_RANGE_LIMITED;
    if (f->chroma_location >= AVCHROMA_LOC_LEFT && f->chroma_location <= AVCHROMA_LOC_TOPLEFT)
        c->chroma_location = (enum NvcChromaLocation)f->chroma_location;
}

#endif /* NVC_CODEC_LAV_MAP_H */
