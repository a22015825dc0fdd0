/*
 * nvc: colour conversion between YCbCr and RGB (BT.601, BT.709, BT.2020,
 * full and limited range), chroma resampling (4:2:0 <-> 4:4:4) and bit depth
 * changes. Fixed-point integer arithmetic: the same bits on every machine.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CONVERT_H
#define NVC_CONVERT_H

#include "nvc/common.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocate dst with parameters dstp and colour dstc (matrix NVC_MC_IDENTITY
 * for RGB) and fill it from src. A matrix of NVC_MC_UNSPECIFIED means BT.709
 * for pictures taller than 576 lines, else BT.601. Chroma is downsampled with
 * a 2x2 box (centre siting) or a [1 2 1] x [1 1] filter (left siting) and
 * upsampled bilinearly according to the chroma location. Returns 0,
 * NVC_ERR(EINVAL) for unsupported combinations (e.g. a size change, gray to
 * colour), NVC_ERR(ENOMEM). On failure dst is zeroed. */
NVC_API int nvc_picture_convert(NvcPicture *dst, const NvcPictureParameters *dstp,
                                const NvcColorDescription *dstc, const NvcPicture *src);

/* Shorthand: src to RGB (I444, NVC_MC_IDENTITY, full range) at bpc bits. */
NVC_API int nvc_picture_to_rgb(NvcPicture *dst, const NvcPicture *src, int bpc);

#ifdef __cplusplus
}
#endif

#endif /* NVC_CONVERT_H */
