/*
 * A small HNeRV-shaped decoder built on the nn engine, the fixture of the
 * learning test, bench/nn and tests/gpu (CPU and CUDA through nn->ops):
 *   embedding (B, 16, h, w) -> 1x1 conv 16 -> C0, GELU
 *   -> per stride s_i: conv k_i (1, 3, 5, 5, 5...) C_i -> C_{i+1} s_i^2, PixelShuffle(s_i), GELU
 *      (C_{i+1} = max(round(C_i / 1.2), floor))
 *   -> 3x3 conv -> 3, tanh * 0.5 + 0.5.
 * The embedding is a learned parameter here (one per sample), as when an
 * image is fitted directly.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_NN_MODEL_H
#define NVC_TESTS_NN_MODEL_H

#include "nn/nn.h"
#include "nn/optim.h"

#define HN_MAX_BLOCKS 6
#define HN_EMB 16

typedef struct HnConfig {
    int B;                       /* samples (each has its own embedding) */
    int eh, ew;                  /* embedding size */
    int c0;                      /* stem width */
    int nblk;                    /* blocks */
    int stride[HN_MAX_BLOCKS];
    int kernel[HN_MAX_BLOCKS];   /* 0: HNeRV's rule min(1 + 2 i, 5) */
    float reduce;                /* width reduction per block (1.2) */
    int floor;                   /* narrowest block */
} HnConfig;

typedef struct HnParams {
    float *emb;                  /* (B, 16, eh, ew) */
    float *stem_w, *stem_b;      /* (C0, 16, 1, 1), (C0) */
    struct {
        float *w, *b;            /* (C_{i+1} s^2, C_i, k, k), (C_{i+1} s^2) */
    } blk[HN_MAX_BLOCKS];
    float *head_w, *head_b;      /* (3, C_n, 3, 3), (3) */
} HnParams;

typedef struct HnActs {
    float *stem, *stem_act;      /* (B, C0, eh, ew) */
    struct {
        float *conv, *act;       /* (B, C s^2, h, w), (B, C, h s, w s): GELU(PixelShuffle(conv)) */
    } blk[HN_MAX_BLOCKS];
    float *head, *th, *out;      /* (B, 3, H, W): conv, tanh, tanh * 0.5 + 0.5 */
    float *loss;                 /* (1) */
} HnActs;

typedef struct HnModel {
    HnConfig cfg;
    int width[HN_MAX_BLOCKS + 1], ks[HN_MAX_BLOCKS];
    int H, W;                    /* output size */
    NvcArena params, acts;
    float *pbuf, *gbuf, *abuf, *dbuf; /* parameters, gradients, activations, their gradients */
    HnParams p, g;
    HnActs a, d;
    NvcAdam opt;
} HnModel;

/* Allocate everything on nn's backend and initialize (seeded) parameters. */
int hn_create(HnModel *m, NvcNn *nn, const HnConfig *cfg, NvcLrSchedule sched, uint64_t seed);
void hn_free(HnModel *m, NvcNn *nn);

/* Forward to m->a.out. */
void hn_forward(HnModel *m, NvcNn *nn);
/* One step on target (B, 3, H, W) (backend memory): zero grads, forward,
 * MSE, backward, Adam. Returns the loss (read back: synchronizes). */
float hn_train_step(HnModel *m, NvcNn *nn, const float *target);

/* Multiply-accumulates of one forward pass per sample. */
double hn_macs(const HnModel *m);

#endif /* NVC_TESTS_NN_MODEL_H */
