/*
 * nvc: reference-counted pictures.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_PICTURE_H
#define NVC_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum NvcPixelLayout {
    NVC_PIXEL_LAYOUT_I400 = 0, /* one plane (gray / luma only) */
    NVC_PIXEL_LAYOUT_I420 = 1, /* chroma subsampled 2x2, size ((w+1)/2, (h+1)/2) */
    NVC_PIXEL_LAYOUT_I444 = 2, /* three full-size planes (YCbCr, or RGB with NVC_MC_IDENTITY) */
};

/* Code points follow ITU-T H.273. With NVC_MC_IDENTITY a picture holds RGB
 * and its planes are in the order R, G, B (not H.273's G, B, R). */
enum NvcMatrixCoefficients {
    NVC_MC_IDENTITY = 0,
    NVC_MC_BT709 = 1,
    NVC_MC_UNSPECIFIED = 2,
    NVC_MC_BT470BG = 5, /* same coefficients as BT.601 */
    NVC_MC_BT601 = 6,   /* SMPTE 170M */
    NVC_MC_BT2020_NCL = 9,
};

enum NvcColorPrimaries {
    NVC_PRI_BT709 = 1,
    NVC_PRI_UNSPECIFIED = 2,
    NVC_PRI_BT470BG = 5,
    NVC_PRI_BT601 = 6,
    NVC_PRI_BT2020 = 9,
};

enum NvcTransferCharacteristics {
    NVC_TRC_BT709 = 1,
    NVC_TRC_UNSPECIFIED = 2,
    NVC_TRC_BT601 = 6,
    NVC_TRC_SRGB = 13,
    NVC_TRC_BT2020_10 = 14,
};

enum NvcColorRange {
    NVC_RANGE_LIMITED = 0, /* "TV": Y 16..235, C 16..240 (scaled for > 8 bits) */
    NVC_RANGE_FULL = 1,    /* "PC": 0..2^bpc-1 */
};

enum NvcChromaLocation {
    NVC_CHROMA_UNSPECIFIED = 0,
    NVC_CHROMA_LEFT = 1,     /* MPEG-2 (Y4M C420mpeg2) */
    NVC_CHROMA_CENTER = 2,   /* JPEG / MPEG-1 (Y4M C420jpeg, the Y4M default) */
    NVC_CHROMA_TOPLEFT = 3,  /* PAL DV (Y4M C420paldv) */
};

typedef struct NvcColorDescription {
    enum NvcMatrixCoefficients matrix;          /* default NVC_MC_UNSPECIFIED */
    enum NvcColorPrimaries primaries;           /* default NVC_PRI_UNSPECIFIED */
    enum NvcTransferCharacteristics transfer;   /* default NVC_TRC_UNSPECIFIED */
    enum NvcColorRange range;                   /* default NVC_RANGE_LIMITED */
    enum NvcChromaLocation chroma_location;     /* default NVC_CHROMA_UNSPECIFIED */
} NvcColorDescription;

typedef struct NvcPictureParameters {
    int w, h;                   /* luma size in samples, 1..NVC_MAX_DIMENSION */
    enum NvcPixelLayout layout;
    int bpc;                    /* bits per component: 8, 10, 12 or 16 */
} NvcPictureParameters;


/* A picture. Samples are uint8_t when p.bpc == 8, else native-endian
 * uint16_t holding values in 0..2^bpc-1. Strides are in bytes. Planes
 * unused by the layout are NULL. */
typedef struct NvcPicture {
    NvcPictureParameters p;
    NvcColorDescription color;
    void *data[3];
    ptrdiff_t stride[3];
    int64_t pts;                /* presentation time in the stream time base (frame index by default) */
    NvcRef *ref;                /* owner of data[]; NULL for a picture that owns nothing */
} NvcPicture;

/* Number of planes for a layout (1 or 3). */
NVC_API int nvc_picture_planes(enum NvcPixelLayout layout);

/* Width and height of plane `plane` of a picture with parameters p. */
NVC_API void nvc_picture_plane_size(const NvcPictureParameters *p, int plane, int *w, int *h);

/* Fill `color` with the defaults documented in NvcColorDescription. */
NVC_API void nvc_color_description_default(NvcColorDescription *color);

/* Allocate planes for `params`, 64-byte aligned rows with a stride that is a
 * multiple of 64. The samples are zeroed; color takes the defaults and pts
 * is 0. On success pic holds the only reference; on failure pic is zeroed.
 * Returns 0, NVC_ERR(EINVAL) for bad parameters, NVC_ERR(ERANGE) when
 * w*h exceeds max_pixels (0 means NVC_DEFAULT_MAX_PIXELS), NVC_ERR(ENOMEM). */
NVC_API int nvc_picture_alloc(NvcPicture *pic, const NvcPictureParameters *params, int64_t max_pixels);

/* Make dst a new reference to src's planes (dst must not hold a reference). */
NVC_API void nvc_picture_ref(NvcPicture *dst, const NvcPicture *src);

/* Move the reference from src to dst and zero src. */
NVC_API void nvc_picture_move_ref(NvcPicture *dst, NvcPicture *src);

/* Drop pic's reference (freeing the planes with the last one) and zero pic. */
NVC_API void nvc_picture_unref(NvcPicture *pic);

/* Copy samples (and color/pts) of src into the already allocated dst of the
 * same parameters. Returns 0 or NVC_ERR(EINVAL) on a parameter mismatch. */
NVC_API int nvc_picture_copy(NvcPicture *dst, const NvcPicture *src);

#ifdef __cplusplus
}
#endif

#endif /* NVC_PICTURE_H */
