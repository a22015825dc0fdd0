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

#endif /* NVC_NVC_TRAIN_DATA_H */
