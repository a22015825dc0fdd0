/*
 * nvc: reading and writing pictures: Y4M (8 to 16 bit, 4:2:0 / 4:4:4 / mono),
 * raw planar .yuv, PNG files and numbered PNG sequences; with FFmpeg, also
 * any file libavformat + libavcodec decode (input) and any container and
 * encoder they write (output: out.mp4, out.mkv ...). Inputs stream frame
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
    NVC_FILE_AUTO = 0, /* from the name: .y4m, .yuv, .png (a %d pattern: a sequence), "-": Y4M;
                          any other name: NVC_FILE_FFMPEG in builds with FFmpeg */
    NVC_FILE_Y4M = 1,
    NVC_FILE_YUV = 2,  /* raw planar, 8-bit or little-endian 16-bit samples */
    NVC_FILE_PNG = 3,  /* one file, or a sequence when the name holds a printf %d pattern */
    NVC_FILE_FFMPEG = 4, /* libavformat + libavcodec: input, the best video stream of
                            anything they decode; output, a container picked from the
                            name (or NvcOutputSettings.container) and an encoder */
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
    int fps_num, fps_den;      /* default 0/0: from the name, else 25/1 (also used for PNG;
                                  for FFmpeg input it replaces the file's rate) */
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

/* FFmpeg input (NVC_FILE_FFMPEG): the decoded frames, in presentation order,
 * numbered from 0 at the stream's frame rate (variable-rate sources are read
 * as constant-rate, as `ffmpeg -vsync passthrough` would number them). Frames
 * keep their format when nvc holds it (gray, yuv420p, yuv444p, gbrp at 8, 10,
 * 12 or 16 bits; yuvj formats as full range); other formats are converted to
 * the nearest one (4:2:2 and 4:1:1 to 4:2:0, packed RGB to planar RGB, 9 and
 * 14 bits up) with one warning when something is lost (alpha, chroma
 * resolution). The colour description is the first frame's; nb_frames is
 * -1 (containers' counts are not what decodes). A size change
 * in mid-stream is scaled back to the first size (with a warning), as
 * ffmpeg does. "-" with this format reads stdin through FFmpeg. */

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
    /* FFmpeg output only. */
    const char *container;     /* libavformat muxer ("mp4", "matroska", "nut" ...);
                                  default NULL: from the file name. Needed for "-" */
    const char *codec;         /* encoder or codec name ("libx264", "h264", "ffv1" ...);
                                  default NULL: the container's default video codec */
    /* NULL-terminated key, value pairs, as ffmpeg's "-key value" options
     * without the dash and stream specifier: encoder options ("crf" "18",
     * "preset" "slow", "x264-params" "keyint=60", "g" "12", "b" "2M"), then
     * muxer options ("movflags" "+faststart"); "pix_fmt" picks the encoded
     * pixel format and "metadata" "KEY=VALUE" adds a container tag. A key
     * neither takes fails the open. Default NULL. Copied at open. */
    const char *const *options;
    NvcLogger logger;          /* default: silent */
} NvcOutputSettings;

NVC_API void nvc_output_default_settings(NvcOutputSettings *s);

/* Create a picture sink for pictures described by info (Y4M writes its
 * header from it; raw .yuv writes samples only).
 * FFmpeg output (NVC_FILE_FFMPEG): the encoder gets the pictures' own pixel
 * format when it takes it (so 10-bit stays 10-bit with libx264, libx265,
 * ffv1 ...), else the "pix_fmt" option's, else the one libavcodec finds
 * least lossy (one warning when depth or chroma is lost). Frame rate, sample
 * aspect ratio and colour description (matrix, primaries, transfer, range,
 * chroma location) are given to the encoder and the container. Timestamps:
 * pic->pts (frame units) counted from the first picture written. The file is
 * written under a temporary name and renamed at a committing close, except
 * for formats that name their own files (image2 patterns such as
 * out%04d.jpg, segment). Returns NVC_ERR(ENOTSUP) for a name or container no
 * muxer knows, NVC_ERR(EINVAL) for a bad codec, option or an encoder that
 * refuses the settings (FFmpeg's reason goes through av_log). */
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
