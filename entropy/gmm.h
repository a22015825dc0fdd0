/*
 * Per-symbol K-component mixtures (Gaussian mixtures, or Laplace mixtures)
 * whose CDF is computed in fixed point for each symbol. Parameters are
 * integers (see dist.h for the float -> integer rules):
 *   weight  Q16, the k weights of a symbol sum to exactly 2^16 (use
 *           nvc_gmm_weights_from_float on softmax outputs)
 *   mean    Q8
 *   sidx    scale index into a scale table
 *
 * The symbol range of a mixture is [lo, hi] with
 *   lo = min over components with weight > 0 of floor((mean - Z * scale)),
 *   hi = max of ceil((mean + Z * scale)),   Z = 5 (Gaussian) or 12 (Laplace),
 * in Q8 arithmetic (Z * scale_q16 >> 8), clipped to NVC_GMM_MAX_VALUES values
 * starting at max(lo, round(mean of the heaviest component) - MAX/2). The
 * 16-bit CDF of value lo + j is
 *   C(j) = floor((G(j) >> 16) * (2^16 - nval - 1) / 2^32) + j,
 *   G(j) = F(lo + j - 1/2) - F(lo - 1/2),  F = sum_k weight_k * cdf_k (Q48),
 * so every value has frequency >= 1; symbol nval (C(nval) .. 2^16) is the
 * escape. Decoding bisects C.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_GMM_H
#define NVC_ENTROPY_GMM_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/dist.h"

#define NVC_GMM_MAX_K 8
#define NVC_GMM_MAX_VALUES 4096
#define NVC_GMM_Z_GAUSSIAN 5
#define NVC_GMM_Z_LAPLACE 12

typedef struct NvcGmmParams {
    uint32_t k;                  /* components per symbol, 1 .. NVC_GMM_MAX_K */
    enum NvcDensity density;     /* shape of every component */
    const NvcScaleTable *scales;
    const uint32_t *weight;      /* [n][k] */
    const int32_t *mean_q8;      /* [n][k] */
    const uint16_t *sidx;        /* [n][k] */
} NvcGmmParams;

/* Same conventions as entropy/coder.h; NVC_ERR(EINVAL) when a symbol's
 * weights do not sum to 2^16 or a scale index is out of range. */
int nvc_gmm_encode(const NvcGmmParams *p, const int32_t *val, size_t n, uint32_t nsub, NvcByteWriter *bw);
int nvc_gmm_decode(const NvcGmmParams *p, NvcByteReader *br, int32_t *val, size_t n);

/* Ideal code length in bits of what nvc_gmm_encode would code. */
double nvc_gmm_cost_bits(const NvcGmmParams *p, const int32_t *val, size_t n);

/* Float weights (e.g. softmax outputs, any nonnegative values with a
 * positive sum) to Q16 weights summing to 2^16: floor(w_i * 2^16 / sum)
 * computed in double, the remainder given one unit at a time to the largest
 * fractional parts (ties: lower index). Negative or NaN weights count as 0;
 * all-zero gives the whole weight to component 0. */
void nvc_gmm_weights_from_float(const float *w, uint32_t k, uint32_t *out);

#endif /* NVC_ENTROPY_GMM_H */
