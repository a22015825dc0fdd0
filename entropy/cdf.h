/*
 * Quantised CDF tables (16-bit precision) and sets of them.
 * A table codes nval values offset .. offset + nval - 1 as symbols
 * 0 .. nval - 1 and, when it has one, an escape symbol nval for any other
 * value (its magnitude follows as raw bits, see rans.h). Every symbol has a
 * frequency >= 1 and the frequencies sum to exactly 2^16.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_CDF_H
#define NVC_ENTROPY_CDF_H

#include <stddef.h>
#include <stdint.h>

#define NVC_CDF_PREC 16
#define NVC_CDF_TOTAL (1u << NVC_CDF_PREC)
/* Most symbols (values + escape) of one table: every one needs freq >= 1. */
#define NVC_CDF_MAX_SYMBOLS NVC_CDF_TOTAL
/* Decoder lookup: at most 2^12 buckets per table. */
#define NVC_CDF_LUT_MAX_BITS 12

typedef struct NvcCdf {
    uint32_t cdf_off; /* into NvcCdfSet.cdf: nsym + 1 entries, 0 .. 2^16 */
    uint32_t lut_off; /* into NvcCdfSet.lut: 2^(16 - lut_shift) entries */
    int32_t offset;   /* value of symbol 0 */
    uint32_t nval;    /* value symbols */
    uint32_t nsym;    /* nval, or nval + 1 with the escape symbol nval */
    uint32_t lut_shift;
} NvcCdf;

/* A growable set of tables in one arena. Start zeroed ({0}). */
typedef struct NvcCdfSet {
    NvcCdf *tab;
    uint32_t ntab, cap_tab;
    uint32_t *cdf; /* cumulative frequencies of every table */
    size_t ncdf, cap_cdf;
    uint16_t *lut; /* bucket -> first symbol, per table */
    size_t nlut, cap_lut;
} NvcCdfSet;

void nvc_cdf_set_free(NvcCdfSet *set);

/* Append a table from frequencies freq[0 .. nsym-1] (each >= 1, sum 2^16);
 * nsym = nval + (escape != 0). Returns the table index (>= 0),
 * NVC_ERR(EINVAL) on bad frequencies, NVC_ERR(ENOMEM). */
int nvc_cdf_set_add(NvcCdfSet *set, const uint32_t *freq, uint32_t nval, int escape, int32_t offset);

/* Same from nonnegative weights (sum below 2^47), quantised with
 * nvc_cdf_quantize. */
int nvc_cdf_set_add_weights(NvcCdfSet *set, const uint64_t *w, uint32_t nval, int escape, int32_t offset);

/* Same from a float PMF (e.g. a factorized prior's learned density sampled
 * at the integers when a model is exported): weights round(p[i] * 2^32),
 * p clamped to [0, 1] (NaN: 0), the escape's weight max(0, 1 - sum p) when
 * escape is set. Deterministic for given floats; decoders should store the
 * resulting frequencies (nvc_cdf_table) rather than the floats. */
int nvc_cdf_set_add_pmf(NvcCdfSet *set, const float *pmf, uint32_t nval, int escape, int32_t offset);

/* Frequencies freq[i] >= 1 summing to 2^16, proportional to w[i] up to
 * rounding (largest remainders; forced minimums taken from the largest
 * frequencies). Integer-only, deterministic. n in [1, 2^16]; the sum of w
 * must stay below 2^47 (all-zero weights give a uniform table).
 * 0 or NVC_ERR(EINVAL) / NVC_ERR(ENOMEM). */
int nvc_cdf_quantize(const uint64_t *w, uint32_t n, uint32_t *freq);
/* Same with a total of 2^bits (bits <= 16, n <= 2^bits). */
int nvc_cdf_quantize_bits(const uint64_t *w, uint32_t n, uint32_t bits, uint32_t *freq);

/* floor-ish log2(x) in Q16 for x >= 1 (integer bit-by-bit squaring, error
 * below 2^-15): code lengths without libm, e.g. 16 - log2(freq) bits. */
uint32_t nvc_log2_q16(uint64_t x);

static inline const uint32_t *nvc_cdf_table(const NvcCdfSet *set, uint32_t t)
{
    return set->cdf + set->tab[t].cdf_off;
}

/* Symbol of slot (0 .. 2^16-1) in table t. */
static inline uint32_t nvc_cdf_lookup(const NvcCdfSet *set, const NvcCdf *t, uint32_t slot)
{
    const uint32_t *c = set->cdf + t->cdf_off;
    uint32_t s = set->lut[t->lut_off + (slot >> t->lut_shift)];
    while (c[s + 1] <= slot)
        s++;
    return s;
}

#endif /* NVC_ENTROPY_CDF_H */
