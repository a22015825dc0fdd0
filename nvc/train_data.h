/*
 * Training pictures for the learned codecs: PNG files and frames of Y4M /
 * raw video, held in memory as 8-bit RGB, and random crops of them.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_TRAIN_DATA_H
#define NVC_NVC_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"
#include "nvc/picture.h"

typedef struct NvcTrainImage {
    int w, h;
    uint8_t *rgb;       /* planar R, G, B (3 * w * h) */
    char *source;       /* file (and frame) it came from */
    double weight;      /* sampling weight */
} NvcTrainImage;

typedef struct NvcTrainSet {
    NvcTrainImage *img;
    int n, cap;
    double total_weight;
    int64_t pixels;
} NvcTrainSet;

typedef struct NvcTrainLoadOptions {
    int frames_per_video; /* frames taken evenly from each video (default 6) */
    int max_short_side;   /* pictures whose shorter side exceeds this are box-downscaled by an
                             integer factor (default 1080; 0: never) */
    int min_side;         /* skip pictures smaller than this (the crop size) */
    int allow_kodak;      /* refuse paths naming Kodak (the test set) unless set */
    NvcLogger logger;
} NvcTrainLoadOptions;

void nvc_train_load_default(NvcTrainLoadOptions *o);

/* Add a file (PNG, Y4M, raw .yuv) or every such file under a folder. */
int nvc_train_set_add(NvcTrainSet *set, const char *path, const NvcTrainLoadOptions *o);
void nvc_train_set_free(NvcTrainSet *set);

/* B random crops (B, 3, size, size) as floats in [0, 1] (random picture by
 * weight, random position, random horizontal flip), from the state *rng. */
void nvc_train_set_crops(const NvcTrainSet *set, float *out, int B, int size, uint64_t *rng);

/* A deterministic list of (picture, x, y) crops for evaluation/calibration. */
void nvc_train_set_fixed_crops(const NvcTrainSet *set, float *out, int B, int size, int first);

/* ---- pieces the video model's clips (nvc/video_data.c) share ---------------------------- */

/* The sorted paths of the entries of the folder path (no hidden ones; with
 * ext, only names ending with it, any case). Free each and *names. */
int nvc_train_list_dir(const char *path, const char *ext, char ***names, int *n, const NvcLogger *lg);
int nvc_train_has_ext(const char *path, const char *ext);

/* The integer box-downscaling factor that brings the shorter side of w x h
 * to at most max_short_side (1 for 0: never). */
int nvc_train_downscale_factor(int w, int h, int max_short_side);

/* An 8-bit RGB picture box-downscaled by f into planar R, G, B
 * (3 * (w / f) * (h / f) bytes). */
void nvc_train_downscale(const NvcPicture *rgb, int f, uint8_t *dst);

/* The next value of the random state *s (splitmix64). */
uint64_t nvc_train_rng_next(uint64_t *s);

/* The size x size crop at (x0, y0) of planar 8-bit RGB (3 planes of w x h)
 * as floats in [0, 1], out (3, size, size); flip: mirrored horizontally. */
void nvc_train_crop(const uint8_t *rgb, int w, int h, float *out, int size, int x0, int y0, int flip);

#endif /* NVC_NVC_TRAIN_DATA_H */
