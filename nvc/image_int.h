/*
 * Integer prior networks of the learned image codec (Balle, Johnston and
 * Minnen, "Integer networks for data compression with latent-variable
 * models", ICLR 2019): everything that decides a CDF — hyper-synthesis,
 * the four-part context networks, the parameter derivation and the
 * scale-to-table index — runs here in integer arithmetic only (no floating
 * point, no libm), so encoder and decoder derive identical tables on any
 * CPU, compiler, flag set or thread count. Rules: doc/FORMAT.md, "Learned
 * image codec".
 *
 * A layer: acc = b + sum over taps of (sum_i w * x) (each tap's sum in
 * int32, bounded by construction), out = floor((acc * mul + 2^(shift-1)) /
 * 2^shift), then ReLU layers clamp to [0, 4095] and output layers to
 * [-2^24, 2^24] (Q12 parameters).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_IMAGE_INT_H
#define NVC_NVC_IMAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/dist.h"

#define NVC_INT_ACT_MAX 4095        /* ReLU activations: 12 bits */
#define NVC_INT_IN_MAX 2047         /* z_hat and y_hat (Q4) are clamped to +-this at network inputs */
#define NVC_INT_OUT_MAX (1 << 24)   /* output layers (Q12) */
#define NVC_INT_OUT_FRAC 12
#define NVC_INT_MUL_MAX (1 << 27)   /* requantisation multipliers are below this */
#define NVC_INT_SHIFT_MAX 62
#define NVC_INT_KMAX 4
#define NVC_INT_QLEVELS 64
#define NVC_INT_SCALE_MIN_Q16 7209  /* 0.11: scale = 0.11 + t^2 */

typedef struct NvcIntConv {
    int ci, co, k, dw;  /* k 1 or 3; dw: depthwise (ci = co) */
    int relu;           /* 1: [0, 4095]; 0: output layer */
    int16_t *w;         /* (co, dw ? 1 : ci, k, k) */
    int32_t *b, *mul;   /* (co) */
    uint8_t *shift;     /* (co) */
} NvcIntConv;

/* The integer part of an image model with the GMM prior. */
typedef struct NvcImgInt {
    int M, Cz, P, K, G, E;          /* G parameter groups per latent element, E = G * M */
    NvcIntConv hs[5], p0;
    NvcIntConv ctx[3][4];           /* steps 1..3: in, dw, mid, out */
    uint32_t *zscale_q16;           /* (64, Cz) */
    uint16_t *zsidx;                /* (64, Cz) scale-table index of each */
    NvcScaleTable st;
    int32_t st_lmin, st_lmax;       /* log2 bounds of the scale table (Q16) */
    int threads;                    /* CPU threads of the layers (0: OpenMP's default) */
} NvcImgInt;

/* Coding parameters of the latent elements of one four-part step, in the
 * step's symbol order (channel, then raster). */
typedef struct NvcImgStepParams {
    size_t n;
    uint32_t *pos;     /* (n) channel * h * w + y * w + x */
    int32_t *ctr_q8;   /* (n) centre of each element (Q8) */
    uint16_t *sidx;    /* (n, K) scale indices */
    uint32_t *wq16;    /* (n, K) mixture weights (K > 1) */
    int32_t *mean_q8;  /* (n, K) component means relative to the centre (K > 1) */
} NvcImgStepParams;

/* Four-part step (0..3) of latent element (channel ch of M, row yy, column
 * xx): channel group g = ch / (M / 4) codes the 2x2 phase (yy & 1, xx & 1)
 * = pattern p at step tab[g][p] (patterns (0,0), (0,1), (1,0), (1,1);
 * DCVC-DC's four-part masks). */
static inline int nvc_img_int_step_of(int M, int ch, int yy, int xx)
{
    static const unsigned char tab[4][4] = {
        { 0, 3, 2, 1 },
        { 3, 0, 1, 2 },
        { 2, 1, 0, 3 },
        { 1, 2, 3, 0 },
    };
    return tab[ch / (M / 4)][(yy & 1) * 2 + (xx & 1)];
}

/* Integer conv over in (ci, h, w) into out (co, h, w), zero padding k / 2.
 * Parallel over output channels (threads <= 0: OpenMP's default); the same
 * bits for any thread count. */
void nvc_int_conv(const NvcIntConv *c, const int32_t *in, int h, int w, int32_t *out, int threads);

/* Depth-to-space by 2: in (4C, h, w) -> out (C, 2h, 2w) (PixelShuffle). */
void nvc_int_pixel_shuffle(const int32_t *in, int C, int h, int w, int32_t *out);

/* Checks of a layer read from a file: shapes, every tap's worst-case sum
 * within int32 for inputs in [-4095, 4095], multipliers and shifts in range.
 * 0 or NVC_ERR_CORRUPT. */
int nvc_int_conv_check(const NvcIntConv *c);

int nvc_int_conv_read(NvcIntConv *c, NvcByteReader *br);
int nvc_int_conv_write(const NvcIntConv *c, NvcByteWriter *bw);
void nvc_int_conv_free(NvcIntConv *c);
/* Allocate the arrays of a layer of the given shape (zeroed). */
int nvc_int_conv_alloc(NvcIntConv *c, int ci, int co, int k, int dw, int relu);

void nvc_img_int_free(NvcImgInt *ii);
/* Parse / write the integer part of a model file (doc/FORMAT.md). */
int nvc_img_int_read(NvcImgInt *ii, int M, int Cz, int P, int K, NvcByteReader *br);
int nvc_img_int_write(const NvcImgInt *ii, NvcByteWriter *bw);

/* h (P, 4 h6, 4 w6) = h_s(z_hat (Cz, h6, w6)); z_hat is clamped at the input. */
int nvc_img_int_hyper(const NvcImgInt *ii, const int32_t *zhat, int h6, int w6, int32_t *h);

/* Parameters of step s (0..3) from h (P, h, w) and, for s >= 1, the
 * latent decoded so far yq8 (M, h, w) in Q8 (zero where not decoded). */
int nvc_img_int_step(const NvcImgInt *ii, int s, const int32_t *h, const int64_t *yq8, int hh, int ww,
                     NvcImgStepParams *sp);
void nvc_img_step_params_free(NvcImgStepParams *sp);

/* Integer softmax of K logits (Q12) into Q16 weights summing to 2^16. */
void nvc_img_int_softmax(const int32_t *logit_q12, int K, uint32_t *w);

/* Scale (Q16) of a scale root t (Q12): 7209 + floor(t^2 / 2^8), saturated. */
uint32_t nvc_img_int_scale(int32_t t_q12);

#endif /* NVC_NVC_IMAGE_INT_H */
