/*
 * The frames of the nvc frei0r source plugin: an nvc stream (or any
 * picture file nvc reads) played at the host's clock, as RGBA8888 frames of
 * the size the host asks for. Kept apart from the frei0r entry points so
 * that tests can drive it.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_FREI0R_SOURCE_H
#define NVC_TOOLS_FREI0R_SOURCE_H

#include <stdint.h>

#include "nvc/nvc.h"

typedef struct FsrcSource FsrcSource;

/* A source for w x h frames. Returns NULL on allocation failure. */
FsrcSource *fsrc_create(int w, int h);
void fsrc_free(FsrcSource **s);

/* Play path: an .nvc / .nvces stream (decoded with the nvc decoder) or a
 * picture file nvc reads (Y4M, PNG sequence, anything FFmpeg decodes).
 * Returns 0, or a negative error with a one-line reason in fsrc_error(). */
int fsrc_open(FsrcSource *s, const char *path);

/* After the last frame: 0 = hold it (default), 1 = start again. */
void fsrc_set_loop(FsrcSource *s, int loop);

/* The stream frame shown at time_ms (FFmpeg's frei0r_src gives times in
 * milliseconds, rounded): the frame whose interval holds the time, at the
 * stream's own frame rate. */
int64_t fsrc_frame_at(int fps_num, int fps_den, double time_ms);

/* Render the frame for time_ms into out (w * h RGBA pixels: bytes R, G, B,
 * A, rows of exactly w pixels). The picture is placed unscaled at the top
 * left when the frame is the picture's size or only wider by less than 16
 * columns (the padding FFmpeg 5.1 needs, to be cropped with crop=W:H:0:0);
 * padding is opaque black. Any other size is a scaled picture (libswscale,
 * bicubic, in YCbCr before the RGB conversion). Returns 0, or a negative
 * error (reason in fsrc_error(); out is then opaque black). */
int fsrc_render(FsrcSource *s, double time_ms, uint8_t *out);

/* Properties of the opened stream (NULL before a successful open). */
const NvcVideoInfo *fsrc_info(const FsrcSource *s);

/* The last error's reason ("" when none). */
const char *fsrc_error(const FsrcSource *s);

/* RGB picture (I444, NVC_MC_IDENTITY, 8 bits) to RGBA rows of out_w
 * pixels at the top left of an out_w x out_h frame; the rest opaque black. */
void fsrc_pack_rgba(const NvcPicture *rgb, uint8_t *out, int out_w, int out_h);

#endif /* NVC_TOOLS_FREI0R_SOURCE_H */
