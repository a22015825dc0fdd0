/*
 * Optimizer: Adam / AdamW over the flat parameter buffer of an arena, with a
 * warm-up + cosine learning-rate schedule and global-norm gradient clipping.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_OPTIM_H
#define NVC_NN_OPTIM_H

#include "nn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Learning rate at step t (0-based) of total: linear warm-up from lr/warmup
 * to lr over `warmup` steps, then cosine decay from lr to lr_min at `total`. */
typedef struct NvcLrSchedule {
    float lr;      /* peak learning rate */
    float lr_min;  /* final learning rate (default 0) */
    int warmup;    /* warm-up steps (HNeRV: 10% of total) */
    int total;     /* total steps; <= 0: constant lr after warm-up */
} NvcLrSchedule;

float nvc_lr_at(const NvcLrSchedule *s, int t);

typedef struct NvcAdam {
    NvcLrSchedule sched;
    float beta1;         /* 0.9 */
    float beta2;         /* 0.999 */
    float eps;           /* 1e-8 */
    float weight_decay;  /* 0 */
    int decoupled;       /* 1: AdamW, 0: Adam with L2 (PyTorch's weight_decay) */
    float clip;          /* max global gradient norm; 0: no clipping */
    int step;            /* steps taken */
    size_t n;            /* floats of the buffers (arena size) */
    float *m, *v;        /* moments, backend memory, the arena's layout */
    float *scalar;       /* one backend float for the gradient norm */
    float last_norm;     /* gradient norm before clipping, of the last step */
    float last_lr;       /* learning rate of the last step */
} NvcAdam;

/* Defaults above and zeroed moments sized for the arena. */
int nvc_adam_init(NvcAdam *opt, NvcNn *nn, const NvcArena *layout, NvcLrSchedule sched);
void nvc_adam_free(NvcAdam *opt, NvcNn *nn);

/* One step: clip grad (when clip > 0), then update params (both laid out by
 * `layout`, backend memory). Weight decay applies to the tensors whose
 * `decay` flag is set. Returns nvc_nn_error(nn). */
int nvc_adam_step(NvcAdam *opt, NvcNn *nn, const NvcArena *layout, float *params, float *grad);

/* Global L2 norm of grad (n); when above max_norm > 0, grad is scaled to it.
 * scalar: one backend float of scratch. Returns the norm before clipping. */
float nvc_clip_grad_norm(NvcNn *nn, float *grad, size_t n, float max_norm, float *scalar);

#ifdef __cplusplus
}
#endif

#endif /* NVC_NN_OPTIM_H */
