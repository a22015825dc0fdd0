/*
 * Multivariate Gaussian mixture prior in the McQuic sense: a latent of C =
 * groups * dim channels is split into `groups` sub-vectors of `dim`
 * channels; each is quantised to the nearest of k codewords of its group's
 * codebook, and `levels` cascaded codebooks quantise the residual left by
 * the levels before. The codewords are the mixture means, the categorical
 * PMF of each codebook its weights (k-means = hard EM of an isotropic
 * mixture). Codeword indices are coded with the static 16-bit PMF of their
 * codebook.
 *
 * Index layout: idx[(level * groups + group) * n + position] (channel-major,
 * so each codebook's indices are contiguous).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_CODEBOOK_H
#define NVC_ENTROPY_CODEBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/cdf.h"

#define NVC_CODEBOOK_MAX_DIM 1024
#define NVC_CODEBOOK_MAX_GROUPS 1024
#define NVC_CODEBOOK_MAX_LEVELS 16
#define NVC_CODEBOOK_MAX_K 65536

typedef struct NvcCodebook {
    uint32_t dim, groups, levels, k;
    float *words;   /* [levels][groups][k][dim] */
    uint32_t *freq; /* [levels][groups][k] 16-bit frequencies (each >= 1, sum 2^16) */
    NvcCdfSet pmf;  /* table level * groups + group, from freq */
} NvcCodebook;

typedef struct NvcKmeansOptions {
    uint64_t seed;        /* PRNG seed of the k-means++ initialisation (default 1) */
    uint32_t iterations;  /* most Lloyd iterations (default 30); stops early when stable */
    size_t max_samples;   /* train on at most this many vectors, taken evenly (default 0: all) */
} NvcKmeansOptions;

/* k-means (k-means++ seeding, then Lloyd) of n vectors x[i * stride + 0 ..
 * dim-1] into k centroids [k][dim]; counts[k] (may be NULL) receives the
 * final cluster sizes. Deterministic for a given seed, whatever the thread
 * count: assignments are independent, sums run in index order in double.
 * Clusters left empty are re-seeded on the worst-fitted vector. n >= 1. */
int nvc_kmeans_fit(const float *x, size_t n, size_t stride, uint32_t dim, uint32_t k, const NvcKmeansOptions *opt,
                   float *centroids, uint64_t *counts);

/* Allocate a codebook (words zero, uniform PMFs). */
int nvc_codebook_init(NvcCodebook *cb, uint32_t dim, uint32_t groups, uint32_t levels, uint32_t k);
void nvc_codebook_free(NvcCodebook *cb);

/* Fit every level and group on x[n][groups * dim] (opt NULL: defaults),
 * level by level on the residuals; the PMFs come from the training
 * assignments. */
int nvc_codebook_fit(NvcCodebook *cb, const float *x, size_t n, const NvcKmeansOptions *opt);

/* Nearest codewords (squared error, ties to the lower index) level by level;
 * recon[n][groups * dim] (may be NULL) receives the reconstruction. */
int nvc_codebook_quantize(const NvcCodebook *cb, const float *x, size_t n, uint16_t *idx, float *recon);
/* Sum of the chosen codewords over levels (in level order). */
void nvc_codebook_reconstruct(const NvcCodebook *cb, const uint16_t *idx, size_t n, float *out);

/* Replace the PMFs by quantised counts[levels][groups][k] (e.g. from
 * nvc_codebook_count on the indices about to be coded). */
int nvc_codebook_set_pmf(NvcCodebook *cb, const uint64_t *counts);
void nvc_codebook_count(const NvcCodebook *cb, const uint16_t *idx, size_t n, uint64_t *counts);

/* Code the indices of n positions (coder.h conventions). */
int nvc_codebook_encode(const NvcCodebook *cb, const uint16_t *idx, size_t n, uint32_t nsub, NvcByteWriter *bw);
int nvc_codebook_decode(const NvcCodebook *cb, NvcByteReader *br, uint16_t *idx, size_t n);

/* Serialise dims, float32 codewords and PMFs (doc/FORMAT.md); read
 * validates everything (NVC_ERR_CORRUPT) before allocating. */
int nvc_codebook_write(const NvcCodebook *cb, NvcByteWriter *bw);
int nvc_codebook_read(NvcCodebook *cb, NvcByteReader *br);

#endif /* NVC_ENTROPY_CODEBOOK_H */
