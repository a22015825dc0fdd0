/*
 * nvc: reading and writing pictures: Y4M (8 to 16 bit, 4:2:0 / 4:4:4 / mono),
 * raw planar .yuv, PNG files and numbered PNG sequences. Inputs stream frame
 * by frame (never the whole file in memory); "-" means stdin/stdout (Y4M).
 * Outputs are written under a temporary name and renamed into place only when
 * closed with commit, so an interrupted run never leaves a partial file.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_IO_H
#define NVC_IO_H

#include <stdint.h>

#include "nvc/common.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

enum NvcFileFormat {
    NVC_FILE_AUTO = 0, /* from the name: .y4m, .yuv, .png (a %d pattern: a sequence), "-": Y4M */
    NVC_FILE_Y4M = 1,
    NVC_FILE_YUV = 2,  /* raw planar, 8-bit or little-endian 16-bit samples */
    NVC_FILE_PNG = 3,  /* one file, or a sequence when the name holds a printf %d pattern */
};

/* What a stream of pictures is. */
typedef struct NvcVideoInfo {
    NvcPictureParameters p;
    NvcColorDescription color;
    int fps_num, fps_den;      /* frame rate (25/1 where the file has none) */
    int sar_num, sar_den;      /* sample aspect ratio (1:1 where unknown) */
    int64_t nb_frames;         /* frames in the input, -1 when unknown (pipes) */
} NvcVideoInfo;

typedef struct NvcInput NvcInput;

typedef struct NvcInputSettings {
    enum NvcFileFormat format; /* default NVC_FILE_AUTO */
    /* Raw .yuv only: the size (0 = parse from a name like
     * "Beauty_1920x1080_120fps_420_8bit_YUV.yuv" or "BasketballPass_416x240_50.yuv"). */
    int w, h;                  /* default 0 */
    enum NvcPixelLayout layout; /* default NVC_PIXEL_LAYOUT_I420 (a "_444" name overrides) */
    int bpc;                   /* default 0: from the name ("_10bit", "10le"), else 8 */
    int fps_num, fps_den;      /* default 0/0: from the name, else 25/1 (also used for PNG) */
    int64_t max_pixels;        /* default 0 = NVC_DEFAULT_MAX_PIXELS; larger pictures are refused */
    NvcLogger logger;          /* default: silent */
} NvcInputSettings;

NVC_API void nvc_input_default_settings(NvcInputSettings *s);

/* Open a picture source. On success *in is set; on failure *in is NULL, a
 * one-line reason went to the logger, and the return value is
 * NVC_ERR(ENOENT)/NVC_ERR(EIO) (file), NVC_ERR_CORRUPT (malformed header),
 * NVC_ERR(ENOTSUP) (valid but unsupported: 4:2:2, interlaced, ...),
 * NVC_ERR(ERANGE) (beyond max_pixels), NVC_ERR(EINVAL) (bad settings). */
NVC_API int nvc_input_open(NvcInput **in, const char *path, const NvcInputSettings *s);

/* Properties of the opened source (valid until nvc_input_close). */
NVC_API const NvcVideoInfo *nvc_input_info(const NvcInput *in);

/* Read the next picture into pic (a new reference, pts = frame index).
 * Returns 1 with a picture, 0 at the end of the stream, or a negative error
 * (NVC_ERR_CORRUPT for a truncated frame) with pic zeroed. */
NVC_API int nvc_input_read(NvcInput *in, NvcPicture *pic);

/* Skip n pictures (seeking where the source allows). Returns 0, or 0 with
 * fewer skipped at the end of the stream (then the next read returns 0),
 * or a negative error. */
NVC_API int nvc_input_skip(NvcInput *in, int64_t n);

NVC_API void nvc_input_close(NvcInput **in);

typedef struct NvcOutput NvcOutput;

typedef struct NvcOutputSettings {
    enum NvcFileFormat format; /* default NVC_FILE_AUTO */
    /* PNG only: 8 or 16 bits per sample; 0 (default) = 8 for 8-bit pictures,
     * 16 above. YCbCr pictures are converted to RGB (nvc_picture_convert). */
    int png_bpc;
    NvcLogger logger;          /* default: silent */
} NvcOutputSettings;

NVC_API void nvc_output_default_settings(NvcOutputSettings *s);

/* Create a picture sink for pictures described by info (Y4M writes its
 * header from it; raw .yuv writes samples only). */
NVC_API int nvc_output_open(NvcOutput **out, const char *path, const NvcVideoInfo *info,
                            const NvcOutputSettings *s);

/* Write one picture with info's parameters (NVC_ERR(EINVAL) otherwise). */
NVC_API int nvc_output_write(NvcOutput *out, const NvcPicture *pic);

/* Finish. With commit != 0 the temporary file is flushed and renamed to its
 * final name (the return value reports any write error); with commit == 0 it
 * is removed. *out becomes NULL either way. */
NVC_API int nvc_output_close(NvcOutput **out, int commit);

/* Parse the properties encoded in a raw-video file name (size, fps, layout,
 * bit depth) into info; returns 0 when at least the size was found, else
 * NVC_ERR(EINVAL). Fields the name lacks keep their values. */
NVC_API int nvc_yuv_name_parse(const char *name, NvcVideoInfo *info);

#ifdef __cplusplus
}
#endif

#endif /* NVC_IO_H */
