/*
 * Quantised CDF tables: integer PMF quantisation and decoder lookups.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/cdf.h"

void nvc_cdf_set_free(NvcCdfSet *set)
{
    free(set->tab);
    free(set->cdf);
    free(set->lut);
    memset(set, 0, sizeof(*set));
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    size_t bytes;
    if (nvc_mul_size(c, elem, &bytes))
        return NVC_ERR(ENOMEM);
    void *q = realloc(*p, bytes);
    if (!q)
        return NVC_ERR(ENOMEM);
    *p = q;
    *cap = c;
    return 0;
}

static uint32_t lut_bits_for(uint32_t nsym)
{
    uint32_t b = 0;
    while ((1u << b) < nsym)
        b++;
    b += 2;
    return b > NVC_CDF_LUT_MAX_BITS ? NVC_CDF_LUT_MAX_BITS : b;
}

int nvc_cdf_set_add(NvcCdfSet *set, const uint32_t *freq, uint32_t nval, int escape, int32_t offset)
{
    uint32_t nsym = nval + (escape != 0);
    if (nsym < 1 || nsym > NVC_CDF_MAX_SYMBOLS || set->ntab >= UINT16_MAX + 1u)
        return NVC_ERR(EINVAL);
    /* values must fit int32: offset + nval - 1 <= INT32_MAX */
    if (nval && (int64_t)offset + nval - 1 > INT32_MAX)
        return NVC_ERR(EINVAL);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nsym; i++) {
        if (!freq[i])
            return NVC_ERR(EINVAL);
        sum += freq[i];
    }
    if (sum != NVC_CDF_TOTAL)
        return NVC_ERR(EINVAL);

    uint32_t bits = lut_bits_for(nsym), nb = 1u << bits;
    size_t cap_tab = set->cap_tab;
    if (grow((void **)&set->tab, &cap_tab, set->ntab + 1u, sizeof(*set->tab)) ||
        grow((void **)&set->cdf, &set->cap_cdf, set->ncdf + nsym + 1, sizeof(*set->cdf)) ||
        grow((void **)&set->lut, &set->cap_lut, set->nlut + nb, sizeof(*set->lut))) {
        set->cap_tab = (uint32_t)cap_tab;
        return NVC_ERR(ENOMEM);
    }
    set->cap_tab = (uint32_t)cap_tab;
    if (set->ncdf + nsym + 1 > UINT32_MAX || set->nlut + nb > UINT32_MAX)
        return NVC_ERR(ENOMEM);

    NvcCdf *t = &set->tab[set->ntab];
    t->cdf_off = (uint32_t)set->ncdf;
    t->lut_off = (uint32_t)set->nlut;
    t->offset = offset;
    t->nval = nval;
    t->nsym = nsym;
    t->lut_shift = NVC_CDF_PREC - bits;

    uint32_t *c = set->cdf + set->ncdf;
    c[0] = 0;
    for (uint32_t i = 0; i < nsym; i++)
        c[i + 1] = c[i] + freq[i];
    uint16_t *lut = set->lut + set->nlut;
    uint32_t s = 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t slot = b << t->lut_shift;
        while (c[s + 1] <= slot)
            s++;
        lut[b] = (uint16_t)s;
    }
    set->ncdf += nsym + 1;
    set->nlut += nb;
    return (int)set->ntab++;
}

int nvc_cdf_set_add_weights(NvcCdfSet *set, const uint64_t *w, uint32_t nval, int escape, int32_t offset)
{
    uint32_t nsym = nval + (escape != 0);
    if (nsym < 1 || nsym > NVC_CDF_MAX_SYMBOLS)
        return NVC_ERR(EINVAL);
    uint32_t *freq = malloc(nsym * sizeof(*freq));
    if (!freq)
        return NVC_ERR(ENOMEM);
    int ret = nvc_cdf_quantize(w, nsym, freq);
    if (!ret)
        ret = nvc_cdf_set_add(set, freq, nval, escape, offset);
    free(freq);
    return ret;
}

int nvc_cdf_set_add_pmf(NvcCdfSet *set, const float *pmf, uint32_t nval, int escape, int32_t offset)
{
    uint32_t nsym = nval + (escape != 0);
    if (nsym < 1 || nsym > NVC_CDF_MAX_SYMBOLS)
        return NVC_ERR(EINVAL);
    uint64_t *w = malloc(nsym * sizeof(*w));
    if (!w)
        return NVC_ERR(ENOMEM);
    double sum = 0;
    for (uint32_t i = 0; i < nval; i++) {
        double p = pmf[i] > 0 ? (pmf[i] < 1 ? pmf[i] : 1) : 0; /* NaN compares false */
        sum += p;
        w[i] = (uint64_t)(p * 4294967296.0 + 0.5);
    }
    if (escape)
        w[nval] = sum < 1 ? (uint64_t)((1 - sum) * 4294967296.0 + 0.5) : 0;
    int ret = nvc_cdf_set_add_weights(set, w, nval, escape, offset);
    free(w);
    return ret;
}

/* ---- quantisation -------------------------------------------------------- */

/* The k-th largest (k = 0: the largest) of a[0 .. n-1]; reorders a.
 * Quickselect with a median-of-3 pivot. */
static uint64_t kth_largest(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t x = a[lo], y = a[mid], z = a[hi];
        uint64_t pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        size_t i = lo, j = hi;
        while (i <= j) { /* descending */
            while (a[i] > pivot)
                i++;
            while (a[j] < pivot)
                j--;
            if (i <= j) {
                uint64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (!j)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* Add one unit to each of the `count` symbols with the largest key among
 * those with eligible[i] (ties: lower index first); sign -1 takes one unit
 * instead. key and eligible describe n symbols; count <= eligible ones. */
static int adjust_top(const uint64_t *key, const uint8_t *eligible, uint32_t n, uint32_t *freq, uint32_t count,
                      int sign)
{
    if (!count)
        return 0;
    uint64_t *k = malloc(n * sizeof(*k));
    if (!k)
        return NVC_ERR(ENOMEM);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (eligible[i])
            k[m++] = key[i];
    if (count > m) {
        free(k);
        return NVC_ERR(EINVAL);
    }
    uint64_t thr = kth_largest(k, m, count - 1);
    free(k);
    uint32_t above = 0;
    for (uint32_t i = 0; i < n; i++)
        above += eligible[i] && key[i] > thr;
    uint32_t ties = count - above;
    for (uint32_t i = 0; i < n; i++) {
        if (!eligible[i] || key[i] < thr || (key[i] == thr && !ties))
            continue;
        if (key[i] == thr)
            ties--;
        freq[i] = sign > 0 ? freq[i] + 1 : freq[i] - 1;
    }
    return 0;
}

/* Give `deficit` units to the symbols with the largest rounding remainders
 * (symbols forced up to 1 are already above their share). */
static int add_deficit(const uint64_t *w, uint64_t W, uint32_t n, uint32_t bits, uint32_t *freq, uint32_t deficit)
{
    uint64_t *key = malloc(n * sizeof(*key));
    uint8_t *ok = malloc(n);
    int ret = NVC_ERR(ENOMEM);
    if (key && ok) {
        for (uint32_t i = 0; i < n; i++) {
            uint64_t num = w[i] << bits;
            ok[i] = num / W != 0;
            key[i] = num % W;
        }
        ret = adjust_top(key, ok, n, freq, deficit, +1);
    }
    free(key);
    free(ok);
    return ret;
}

/* Take `excess` units from the symbols above 1, proportionally to what they
 * have above 1, then one each from the largest. */
static int take_excess(uint32_t n, uint32_t *freq, uint64_t excess)
{
    while (excess) {
        uint64_t room = 0;
        for (uint32_t i = 0; i < n; i++)
            room += freq[i] - 1;
        if (room < excess)
            return NVC_ERR(EINVAL);
        uint64_t taken = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t t = excess * (freq[i] - 1) / room;
            freq[i] -= (uint32_t)t;
            taken += t;
        }
        excess -= taken;
        if (taken)
            continue;
        /* each remaining unit from a different symbol: fewer units than symbols above 1 */
        uint64_t *key = malloc(n * sizeof(*key));
        uint8_t *ok = malloc(n);
        int ret = NVC_ERR(ENOMEM);
        uint32_t above = 0;
        if (key && ok) {
            for (uint32_t i = 0; i < n; i++) {
                key[i] = freq[i];
                above += ok[i] = freq[i] > 1;
            }
            uint32_t c = excess < above ? (uint32_t)excess : above;
            ret = adjust_top(key, ok, n, freq, c, -1);
            excess -= c;
        }
        free(key);
        free(ok);
        if (ret)
            return ret;
    }
    return 0;
}

int nvc_cdf_quantize(const uint64_t *w, uint32_t n, uint32_t *freq)
{
    return nvc_cdf_quantize_bits(w, n, NVC_CDF_PREC, freq);
}

int nvc_cdf_quantize_bits(const uint64_t *w, uint32_t n, uint32_t bits, uint32_t *freq)
{
    if (bits > NVC_CDF_PREC || n < 1 || n > 1u << bits)
        return NVC_ERR(EINVAL);
    const uint32_t total = 1u << bits;
    uint64_t W = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w[i] >= 1ull << 47 || (W += w[i]) >= 1ull << 47)
            return NVC_ERR(EINVAL);
    }
    if (!W) {
        for (uint32_t i = 0; i < n; i++)
            freq[i] = total / n + (i < total % n);
        return 0;
    }
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t f = (w[i] << bits) / W;
        freq[i] = f ? (uint32_t)f : 1;
        sum += freq[i];
    }
    if (sum < total)
        return add_deficit(w, W, n, bits, freq, (uint32_t)(total - sum));
    if (sum > total)
        return take_excess(n, freq, sum - total);
    return 0;
}

/* log2(x) in Q16 for x >= 1, integer-only (bit-by-bit squaring). */
uint32_t nvc_log2_q16(uint64_t x)
{
    int k = 63;
    while (!(x >> k))
        k--;
    /* y = x / 2^k in Q62 */
    uint64_t y = k >= 62 ? x >> (k - 62) : x << (62 - k);
    uint32_t r = (uint32_t)k << 16;
    for (int b = 15; b >= 0; b--) {
        /* y^2 in Q62: (y >> 31)^2 keeps 62 fractional bits' worth */
        uint64_t h = y >> 31;
        y = h * h;
        if (y >= 1ull << 63) {
            y >>= 1;
            r |= 1u << b;
        }
    }
    return r;
}
