/*
 * Training clips of the video model: runs of consecutive frames of Y4M /
 * raw video files held in memory as 8-bit RGB, and random chains (crops of
 * consecutive frames at the same place) of them.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_VIDEO_DATA_H
#define NVC_NVC_VIDEO_DATA_H

#include <stdint.h>

#include "nvc/common.h"

typedef struct NvcVidClip {
    int w, h, n;        /* frame size, frames */
    uint8_t *rgb;       /* n frames of planar R, G, B (n * 3 * w * h) */
    char *source;
} NvcVidClip;

typedef struct NvcVidClipSet {
    NvcVidClip *clip;
    int n, cap;
    int64_t frames;
} NvcVidClipSet;

typedef struct NvcVidClipOptions {
    int max_frames;       /* frames read from the start of each clip (default 64) */
    int max_short_side;   /* box-downscale clips whose shorter side exceeds this (default 720; 0: never) */
    int min_frames;       /* skip clips with fewer frames (default 2) */
    int min_side;         /* skip clips smaller than this after downscaling (the crop size) */
    NvcLogger logger;
} NvcVidClipOptions;

void nvc_vid_clip_options_default(NvcVidClipOptions *o);

/* Add a video file, or every .y4m under a folder (sorted by name). */
int nvc_vid_clips_add(NvcVidClipSet *s, const char *path, const NvcVidClipOptions *o);
void nvc_vid_clips_free(NvcVidClipSet *s);

/* B chains of F consecutive frames, out (F, B, 3, size, size) floats in
 * [0, 1]: a clip drawn with weight sqrt(w h) (clips with at least F frames),
 * a random start, position and horizontal flip, from *rng. NVC_ERR(EINVAL)
 * when no clip has F frames of that size. */
int nvc_vid_clips_chains(const NvcVidClipSet *s, float *out, int B, int F, int size, uint64_t *rng);

#endif /* NVC_NVC_VIDEO_DATA_H */
