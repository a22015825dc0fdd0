/*
 * Fixed-point densities (Gaussian, Laplace), the log-spaced scale table and
 * the conditional CDF tables built from them. Integer-only: no libm, no
 * floating point anywhere a decoder-side table is derived.
 *
 * Parameter units (the float -> integer rules are in nvc_dist_*_from_float):
 *   mean  Q8  (int32, 1/256 steps)
 *   scale Q16 (uint32, 1/65536 steps); Gaussian: standard deviation,
 *              Laplace: b, with density exp(-|x - mean| / b) / 2b.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_DIST_H
#define NVC_ENTROPY_DIST_H

#include <stdint.h>

#include "entropy/cdf.h"

#define NVC_MEAN_FRAC_BITS 8
#define NVC_SCALE_FRAC_BITS 16

/* Standard normal upper tail tabulated every 2^-9 on [0, 8]. */
#define NVC_NORMAL_GRID_LOG2 9
#define NVC_NORMAL_GRID_SIZE ((8 << NVC_NORMAL_GRID_LOG2) + 1)
extern const uint32_t nvc_normal_tail_q32[NVC_NORMAL_GRID_SIZE];
extern const uint32_t nvc_exp2_neg_q31[257];

enum NvcDensity {
    NVC_DENSITY_GAUSSIAN = 0,
    NVC_DENSITY_LAPLACE = 1,
};

/* 2^48 / scale_q16, the reciprocal nvc_dist_cdf takes. scale_q16 >= 1. */
static inline uint64_t nvc_dist_inv_scale(uint32_t scale_q16)
{
    return (1ull << 48) / scale_q16;
}

#define NVC_LOG2E_Q30 1549082005u /* round(log2(e) * 2^30) */

/* 2^-u for u >= 0 in Q24, result in Q31 (linear interpolation of a
 * 257-entry table, relative error < 1e-6). */
static inline uint32_t nvc_dist_exp2_neg(uint32_t u_q24)
{
    uint32_t k = u_q24 >> 24;
    if (k >= 32)
        return 0;
    uint32_t i = (u_q24 >> 16) & 255, r = u_q24 & 0xffff;
    uint32_t a = nvc_exp2_neg_q31[i], b = nvc_exp2_neg_q31[i + 1];
    uint32_t v = a - (uint32_t)(((uint64_t)(a - b) * r + 0x8000) >> 16);
    return v >> k;
}

#define NVC_NORMAL_GRID_FRAC (24 - NVC_NORMAL_GRID_LOG2) /* fraction bits below a grid step */

static inline uint32_t nvc_dist_normal_tail(uint32_t z_q24)
{
    uint32_t i = z_q24 >> NVC_NORMAL_GRID_FRAC;
    if (i >= NVC_NORMAL_GRID_SIZE - 1)
        return 0;
    uint32_t r = z_q24 & ((1u << NVC_NORMAL_GRID_FRAC) - 1);
    uint32_t a = nvc_normal_tail_q32[i], b = nvc_normal_tail_q32[i + 1];
    return a - (uint32_t)(((uint64_t)(a - b) * r + (1u << (NVC_NORMAL_GRID_FRAC - 1))) >> NVC_NORMAL_GRID_FRAC);
}

/* P(X > z) of the standard density (unit scale, zero mean) for z >= 0 in
 * Q24; result in units of 2^-32 (at most 2^31). Gaussian: linear
 * interpolation of nvc_normal_tail_q32; Laplace: nvc_dist_exp2_neg of
 * z * log2(e) (log2(e) in Q30). */
static inline uint32_t nvc_dist_tail(enum NvcDensity d, uint32_t z_q24)
{
    if (d == NVC_DENSITY_LAPLACE) {
        /* e^-z / 2 = 2^-(z log2 e) in units of 2^-31 */
        uint64_t u = ((uint64_t)z_q24 * NVC_LOG2E_Q30) >> 30;
        return u >= 32u << 24 ? 0 : nvc_dist_exp2_neg((uint32_t)u);
    }
    return nvc_dist_normal_tail(z_q24);
}

/* CDF at x of the density with the given scale and mean, as a function of
 * diff_q8 = (x - mean) in Q8; result in [0, 2^32] (units of 2^-32). The
 * rule: z = |diff| * inv >> 16 (Q24), F = 2^32 - tail(z) for diff >= 0,
 * tail(z) otherwise; |diff| > scale_q16 / 4 (z above 64) gives tail 0. */
static inline uint64_t nvc_dist_cdf(enum NvcDensity d, int64_t diff_q8, uint32_t scale_q16, uint64_t inv)
{
    uint64_t a = diff_q8 < 0 ? (uint64_t)0 - (uint64_t)diff_q8 : (uint64_t)diff_q8;
    /* z = a * 256 / scale; above 64 the tail is 0 (and a * inv would overflow) */
    uint32_t tail = a > scale_q16 / 4 ? 0 : nvc_dist_tail(d, (uint32_t)((a * inv) >> 16));
    return diff_q8 >= 0 ? (1ull << 32) - tail : tail;
}

/* ---- scale table -------------------------------------------------------- */

#define NVC_SCALE_TABLE_MAX 256
/* CompressAI / tensorflow-compression default: 64 scales from 0.11 to 256. */
#define NVC_SCALE_TABLE_DEFAULT_N 64
#define NVC_SCALE_LOG2_MIN_DEFAULT (-208694) /* round(log2(0.11) * 2^16) */
#define NVC_SCALE_LOG2_MAX_DEFAULT (8 << 16) /* log2(256) */

typedef struct NvcScaleTable {
    uint32_t n;
    uint32_t scale_q16[NVC_SCALE_TABLE_MAX]; /* strictly increasing */
} NvcScaleTable;

/* n scales log-spaced from 2^(log2_min) to 2^(log2_max) (log2 values in
 * Q16): scale_j = 2^(log2_min + floor(j * (log2_max - log2_min) / (n - 1)))
 * evaluated with nvc_dist_exp2_neg. n in [2, 256]; every scale must land in
 * [1, 2^32) and the table must be strictly increasing, else NVC_ERR(EINVAL). */
int nvc_scale_table_init(NvcScaleTable *t, uint32_t n, int32_t log2_min_q16, int32_t log2_max_q16);
void nvc_scale_table_default(NvcScaleTable *t);

/* Integer scale-to-index rule: the first j with scale_q16[j] >= scale_q16,
 * or n - 1 when scale_q16 is above the last entry. */
uint32_t nvc_scale_table_index(const NvcScaleTable *t, uint32_t scale_q16);

/* ---- float -> integer parameter rules (encoder side, network outputs) --- */

/* round(mean * 256), halves away from zero, saturated to int32; NaN -> 0. */
int32_t nvc_dist_mean_from_float(float mean);
/* round(scale * 65536), halves up, saturated to [1, 2^32 - 1]; NaN -> max. */
uint32_t nvc_dist_scale_from_float(float scale);

/* ---- one table of a single density ------------------------------------- */

/* Probability mass of a symbol below which the table ends and the escape
 * takes over (2^-19, in units of 2^-32). */
#define NVC_DIST_TABLE_MIN_MASS (1u << 13)
/* At most this many values on each side of the centre. */
#define NVC_DIST_TABLE_MAX_HALF 4096

/* Append to set the table of values v = offset .. with mass
 * F(v + 1/2) - F(v - 1/2) of the density centred at frac_q8 / 256
 * (0 <= frac_q8 < 256): the values around the centre while their mass is at
 * least NVC_DIST_TABLE_MIN_MASS, plus an escape that carries the tails.
 * Returns the table index or a negative error. */
int nvc_dist_table_add(NvcCdfSet *set, enum NvcDensity d, uint32_t scale_q16, uint32_t frac_q8);

/* ---- conditional tables: one per (scale index, mean phase) -------------- */

typedef struct NvcCondTables {
    enum NvcDensity density;
    uint32_t phase_bits;  /* mean phases per unit: 2^phase_bits (0..4) */
    NvcScaleTable scales;
    NvcCdfSet set;        /* table (scale index << phase_bits) + phase */
} NvcCondTables;

int nvc_cond_tables_init(NvcCondTables *ct, enum NvcDensity d, const NvcScaleTable *scales,
                         uint32_t phase_bits);
void nvc_cond_tables_free(NvcCondTables *ct);

/* Table and integer offset of a symbol with scale index sidx and mean
 * mean_q8: m = (mean_q8 + 2^(7 - phase_bits)) >> (8 - phase_bits) (arithmetic
 * shift), phase = m & (2^phase_bits - 1), offset = m >> phase_bits. With
 * phase_bits = 0 the offset is round(mean) (halves up). */
static inline uint32_t nvc_cond_table(const NvcCondTables *ct, uint32_t sidx, int32_t mean_q8, int32_t *offset)
{
    uint32_t sh = NVC_MEAN_FRAC_BITS - ct->phase_bits;
    int64_t m = ((int64_t)mean_q8 + (1 << (sh - 1))) >> sh;
    *offset = (int32_t)(m >> ct->phase_bits);
    return sidx << ct->phase_bits | (uint32_t)(m & ((1 << ct->phase_bits) - 1));
}

#endif /* NVC_ENTROPY_DIST_H */
