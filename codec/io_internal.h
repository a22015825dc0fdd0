/*
 * Frame I/O internals: the input/output contexts and the per-format parts.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_IO_INTERNAL_H
#define NVC_CODEC_IO_INTERNAL_H

#include <stdio.h>

#include "codec/file.h"
#include "nvc/io.h"

struct NvcInput {
    enum NvcFileFormat format;
    NvcVideoInfo info;
    NvcInputSettings s;
    char *path;             /* for messages; "-" for stdin */
    FILE *f;
    int64_t index;          /* next frame number */
    int warned_range;       /* out-of-range samples were clipped (warned once) */
    /* PNG sequences */
    char *pattern;          /* validated "%0Nd" pattern, NULL for one file */
    int64_t first;          /* number of the first file */
    void *lav;              /* FFmpeg input state (codec/lavf_in.c) */
};

struct NvcOutput {
    enum NvcFileFormat format;
    NvcVideoInfo info;
    NvcOutputSettings s;
    NvcAtomicFile af;       /* Y4M / raw: the single output file */
    char *path;
    char *pattern;          /* PNG sequence pattern, NULL for one file */
    int64_t count;          /* pictures written */
    void *lav;              /* FFmpeg output state (codec/lavf_out.c) */
};

/* Raw planes: bytes of one frame (0 on overflow) and plane transfer with
 * 16-bit little-endian samples above 8 bits. Reading returns 1 with a
 * picture, 0 at a clean end of file, NVC_ERR_CORRUPT for a partial frame. */
size_t nvc_io_frame_bytes(const NvcPictureParameters *p);
int nvc_io_read_planes(NvcInput *in, NvcPicture *pic);
int nvc_io_write_planes(FILE *f, const NvcPicture *pic);

int nvc_y4m_open(NvcInput *in);
int nvc_y4m_read(NvcInput *in, NvcPicture *pic);
int nvc_y4m_write_header(FILE *f, const NvcVideoInfo *info);
int nvc_y4m_write(FILE *f, const NvcPicture *pic);

int nvc_yuv_open(NvcInput *in);

int nvc_png_open(NvcInput *in);
int nvc_png_read(NvcInput *in, NvcPicture *pic);
int nvc_png_write(const char *path, const NvcPicture *pic, int png_bpc, const NvcLogger *logger);

/* FFmpeg input and output (codec/lavf_in.c, codec/lavf_out.c; in builds
 * without FFmpeg, codec/noffmpeg.c: the input refuses the name with
 * NVC_ERR(ENOTSUP), the output NVC_ERR(ENOSYS)). The close functions
 * free the state; output close with commit finishes and renames the file. */
int nvc_lavf_input_open(NvcInput *in);
int nvc_lavf_input_read(NvcInput *in, NvcPicture *pic);
int nvc_lavf_input_skip(NvcInput *in, int64_t n);
void nvc_lavf_input_close(NvcInput *in);
/* 1 when libavformat has a muxer for this file name. */
int nvc_lavf_output_known(const char *path);
int nvc_lavf_output_open(NvcOutput *out);
int nvc_lavf_output_write(NvcOutput *out, const NvcPicture *pic);
int nvc_lavf_output_close(NvcOutput *out, int commit);

/* "%d"-style pattern check: exactly one conversion of the form %d, %Nd or
 * %0Nd (N <= 9), "%%" allowed elsewhere. Returns 1 when valid. */
int nvc_io_pattern_valid(const char *pattern);
/* Format a validated pattern with n into buf; returns 0 or -1 if too long. */
int nvc_io_pattern_format(char *buf, size_t sz, const char *pattern, int64_t n);

#endif /* NVC_CODEC_IO_INTERNAL_H */
