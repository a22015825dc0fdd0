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

/* ---- quantisation -------------------------------------------------------- */

typedef struct Rank {
    uint64_t key;
    uint32_t idx;
} Rank;

/* Larger key first, then lower index: a total order, so qsort is deterministic. */
static int rank_cmp(const void *a, const void *b)
{
    const Rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Give `deficit` (< number of candidates) units to the symbols with the
 * largest rounding remainders. */
static int add_deficit(const uint64_t *w, uint64_t W, uint32_t n, uint32_t bits, uint32_t *freq, uint32_t deficit)
{
    Rank *r = malloc(n * sizeof(*r));
    if (!r)
        return NVC_ERR(ENOMEM);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t num = w[i] << bits;
        if (num / W == 0)
            continue; /* forced to 1: already above its share */
        r[m].key = num % W;
        r[m++].idx = i;
    }
    /* the largest weight always gets >= 1 by proportion (n <= 2^16), and the
     * deficit is below the count of such symbols */
    if (!m) {
        free(r);
        return NVC_ERR(EINVAL);
    }
    qsort(r, m, sizeof(*r), rank_cmp);
    for (uint32_t i = 0; deficit; i = (i + 1) % m, deficit--)
        freq[r[i].idx]++;
    free(r);
    return 0;
}

/* Take `excess` units from the symbols above 1, proportionally to what they
 * have above 1, then one by one from the largest. */
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
        Rank *r = malloc(n * sizeof(*r));
        if (!r)
            return NVC_ERR(ENOMEM);
        for (uint32_t i = 0; i < n; i++)
            r[i] = (Rank){ freq[i], i };
        qsort(r, n, sizeof(*r), rank_cmp);
        for (uint32_t i = 0; i < n && excess; i++)
            if (freq[r[i].idx] > 1) {
                freq[r[i].idx]--;
                excess--;
            }
        free(r);
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
