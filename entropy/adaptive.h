/*
 * Adaptive coding of a tensor of quantised integers (network weights,
 * embeddings): the prior's parameters travel in the stream, and the encoder
 * picks the cheapest of an empirical histogram, a Gaussian, a Laplace and
 * plain fixed-width bits by exact coded size (constant tensors cost 5 bytes).
 * Layout: doc/FORMAT.md, "Entropy payloads", adaptive tensors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_ADAPTIVE_H
#define NVC_ENTROPY_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"

enum NvcAdaptiveMode {
    NVC_ADAPTIVE_CONST = 0,    /* every value equal */
    NVC_ADAPTIVE_HIST = 1,     /* empirical histogram of min .. min + nval - 1 */
    NVC_ADAPTIVE_GAUSSIAN = 2, /* Gaussian (mean, scale) table with escape */
    NVC_ADAPTIVE_LAPLACE = 3,  /* Laplace (mean, scale) table with escape */
    NVC_ADAPTIVE_RAW = 4,      /* value - min in raw_bits bits each */
    NVC_ADAPTIVE_NB_MODES
};

#define NVC_ADAPTIVE_HIST_MAX_VALUES 65536

typedef struct NvcAdaptiveParams {
    enum NvcAdaptiveMode mode;
    int32_t min;        /* CONST: the value; HIST, RAW: smallest value */
    uint32_t nval;      /* HIST: values min .. min + nval - 1 */
    uint32_t hist_bits; /* HIST: the frequencies sum to 2^hist_bits */
    uint32_t *freq;     /* HIST: [nval], each >= 1 (owned; nvc_adaptive_params_free) */
    uint32_t raw_bits;  /* RAW: 0 .. 32 */
    int32_t mean_q8;    /* GAUSSIAN, LAPLACE */
    uint32_t scale_q16; /* GAUSSIAN, LAPLACE: >= 1 */
} NvcAdaptiveParams;

void nvc_adaptive_params_free(NvcAdaptiveParams *p);

/* Code n values with the cheapest mode (mode byte, parameters, data).
 * chosen (may be NULL) receives the choice. nsub as in coder.h. */
int nvc_adaptive_encode(const int32_t *v, size_t n, uint32_t nsub, NvcByteWriter *bw, enum NvcAdaptiveMode *chosen);

/* Code n values with the given parameters (NVC_ERR(EINVAL) when a value
 * does not fit them: outside the histogram or raw range, or not equal to
 * the constant). */
int nvc_adaptive_encode_with(const NvcAdaptiveParams *p, const int32_t *v, size_t n, uint32_t nsub,
                             NvcByteWriter *bw);

/* Decode n values; params (may be NULL) receives the parameters read. */
int nvc_adaptive_decode(NvcByteReader *br, int32_t *v, size_t n, NvcAdaptiveParams *params);

#endif /* NVC_ENTROPY_ADAPTIVE_H */
