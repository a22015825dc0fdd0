/*
 * Fixed-point Gaussian and Laplace CDFs, the scale table and conditional
 * CDF tables. Integer arithmetic only (tables in entropy/tables.c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/dist.h"

/* ---- scale table ---------------------------------------------------------- */

int nvc_scale_table_init(NvcScaleTable *t, uint32_t n, int32_t log2_min_q16, int32_t log2_max_q16)
{
    if (n < 2 || n > NVC_SCALE_TABLE_MAX || log2_max_q16 <= log2_min_q16)
        return NVC_ERR(EINVAL);
    int64_t span = (int64_t)log2_max_q16 - log2_min_q16;
    for (uint32_t j = 0; j < n; j++) {
        /* a = log2(scale_q16) in Q16 */
        int64_t a = log2_min_q16 + (int64_t)j * span / (n - 1) + (16 << 16);
        if (a < 0 || a >= 32 << 16)
            return NVC_ERR(EINVAL);
        uint32_t c = (uint32_t)((a + 0xffff) >> 16);
        uint64_t v = nvc_dist_exp2_neg((uint32_t)(((int64_t)c << 16) - a) << 8); /* 2^(a - c), Q31 */
        v = c >= 31 ? v << (c - 31) : (v + (1ull << (30 - c))) >> (31 - c);
        if (v < 1 || v > UINT32_MAX || (j && v <= t->scale_q16[j - 1]))
            return NVC_ERR(EINVAL);
        t->scale_q16[j] = (uint32_t)v;
    }
    t->n = n;
    return 0;
}

void nvc_scale_table_default(NvcScaleTable *t)
{
    nvc_scale_table_init(t, NVC_SCALE_TABLE_DEFAULT_N, NVC_SCALE_LOG2_MIN_DEFAULT, NVC_SCALE_LOG2_MAX_DEFAULT);
}

uint32_t nvc_scale_table_index(const NvcScaleTable *t, uint32_t scale_q16)
{
    uint32_t lo = 0, hi = t->n - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->scale_q16[mid] >= scale_q16)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int32_t nvc_dist_mean_from_float(float mean)
{
    if (mean != mean)
        return 0;
    double v = (double)mean * 256.0;
    v = v >= 0 ? v + 0.5 : v - 0.5;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)v;
}

uint32_t nvc_dist_scale_from_float(float scale)
{
    if (scale != scale)
        return UINT32_MAX;
    double v = (double)scale * 65536.0 + 0.5;
    if (v < 1.0)
        return 1;
    if (v >= 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)v;
}

/* ---- tables ----------------------------------------------------------------- */

typedef struct Edge {
    enum NvcDensity d;
    uint32_t scale;
    uint64_t inv;
    uint32_t frac;
} Edge;

/* F(v + 1/2) */
static uint64_t upper(const Edge *e, int64_t v)
{
    return nvc_dist_cdf(e->d, v * 256 + 128 - e->frac, e->scale, e->inv);
}

int nvc_dist_table_add(NvcCdfSet *set, enum NvcDensity d, uint32_t scale_q16, uint32_t frac_q8)
{
    if (!scale_q16 || frac_q8 > 255)
        return NVC_ERR(EINVAL);
    Edge e = { d, scale_q16, nvc_dist_inv_scale(scale_q16), frac_q8 };
    int64_t hi = 0, lo = 0;
    while (hi < NVC_DIST_TABLE_MAX_HALF && upper(&e, hi + 1) - upper(&e, hi) >= NVC_DIST_TABLE_MIN_MASS)
        hi++;
    while (lo > -NVC_DIST_TABLE_MAX_HALF && upper(&e, lo - 1) - upper(&e, lo - 2) >= NVC_DIST_TABLE_MIN_MASS)
        lo--;
    uint32_t nval = (uint32_t)(hi - lo + 1);
    uint64_t *w = malloc((nval + 1) * sizeof(*w));
    if (!w)
        return NVC_ERR(ENOMEM);
    uint64_t prev = upper(&e, lo - 1), first = prev;
    for (uint32_t i = 0; i < nval; i++) {
        uint64_t u = upper(&e, lo + i);
        w[i] = u - prev;
        prev = u;
    }
    w[nval] = (1ull << 32) - (prev - first); /* both tails */
    int ret = nvc_cdf_set_add_weights(set, w, nval, 1, (int32_t)lo);
    free(w);
    return ret;
}

int nvc_cond_tables_init(NvcCondTables *ct, enum NvcDensity d, const NvcScaleTable *scales, uint32_t phase_bits)
{
    memset(ct, 0, sizeof(*ct));
    if (phase_bits > 4 || scales->n < 1 || scales->n > NVC_SCALE_TABLE_MAX ||
        (d != NVC_DENSITY_GAUSSIAN && d != NVC_DENSITY_LAPLACE))
        return NVC_ERR(EINVAL);
    ct->density = d;
    ct->phase_bits = phase_bits;
    ct->scales = *scales;
    for (uint32_t j = 0; j < scales->n; j++)
        for (uint32_t p = 0; p < 1u << phase_bits; p++) {
            int ret = nvc_dist_table_add(&ct->set, d, scales->scale_q16[j], p << (NVC_MEAN_FRAC_BITS - phase_bits));
            if (ret < 0) {
                nvc_cond_tables_free(ct);
                return ret;
            }
        }
    return 0;
}

void nvc_cond_tables_free(NvcCondTables *ct)
{
    nvc_cdf_set_free(&ct->set);
}
