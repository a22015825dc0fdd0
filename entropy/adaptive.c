/*
 * Adaptive / empirical coding of integer tensors: histogram, Gaussian,
 * Laplace or raw bits, chosen by exact coded size. The encoder's statistics
 * and cost estimates are integer-only too, so its choice (and its bytes) do
 * not depend on compiler flags.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/adaptive.h"
#include "entropy/coder.h"
#include "entropy/dist.h"
#include "entropy/rans.h"

void nvc_adaptive_params_free(NvcAdaptiveParams *p)
{
    free(p->freq);
    p->freq = NULL;
}

/* ---- bit packing (MSB first, zero padding) --------------------------------- */

typedef struct BitW {
    NvcByteWriter *bw;
    uint64_t acc;
    int n;
} BitW;

static void bw_put(BitW *b, uint32_t v, int nbits)
{
    for (int i = nbits - 1; i >= 0; i--) {
        b->acc = b->acc << 1 | ((v >> i) & 1);
        if (++b->n == 8) {
            nvc_bw_u8(b->bw, (unsigned)b->acc);
            b->acc = 0;
            b->n = 0;
        }
    }
}

static void bw_flush(BitW *b)
{
    if (b->n)
        bw_put(b, 0, 8 - b->n);
}

typedef struct BitR {
    const uint8_t *p, *end;
    int bit; /* next bit in *p, 7 = MSB */
    int error;
} BitR;

static uint32_t br_get(BitR *b, int nbits)
{
    uint32_t v = 0;
    for (int i = 0; i < nbits; i++) {
        if (b->p >= b->end) {
            b->error = 1;
            return 0;
        }
        v = v << 1 | ((*b->p >> b->bit) & 1);
        if (--b->bit < 0) {
            b->bit = 7;
            b->p++;
        }
    }
    return v;
}

/* Consume the padding (must be zero) and return the bytes used. */
static size_t br_close(BitR *b, const uint8_t *start)
{
    if (b->bit != 7) {
        if (*b->p & ((1u << (b->bit + 1)) - 1))
            b->error = 1;
        b->p++;
        b->bit = 7;
    }
    return (size_t)(b->p - start);
}

static int bitlen64(uint64_t x)
{
    int n = 0;
    while (n < 64 && (x >> n))
        n++;
    return n;
}

/* Exp-Golomb of order k: (bitlen(q) - 1) zeros, q = (x >> k) + 1, then the k low bits. */
static uint32_t eg_len(uint32_t x, int k)
{
    return 2 * (uint32_t)bitlen64(((uint64_t)x >> k) + 1) - 1 + (uint32_t)k;
}

static void eg_put(BitW *b, uint32_t x, int k)
{
    uint64_t q = ((uint64_t)x >> k) + 1;
    int nb = bitlen64(q);
    bw_put(b, 0, nb - 1);
    if (nb > 32) {
        bw_put(b, (uint32_t)(q >> 32), nb - 32);
        bw_put(b, (uint32_t)q, 32);
    } else {
        bw_put(b, (uint32_t)q, nb);
    }
    bw_put(b, x & ((1u << k) - 1), k);
}

static uint32_t eg_get(BitR *b, int k)
{
    int zeros = 0;
    while (!br_get(b, 1)) {
        if (b->error || ++zeros > 32) {
            b->error = 1;
            return 0;
        }
    }
    uint64_t q = 1;
    for (int i = 0; i < zeros; i++)
        q = q << 1 | br_get(b, 1);
    uint64_t x = ((q - 1) << k) | br_get(b, k);
    if (x > UINT32_MAX)
        b->error = 1;
    return (uint32_t)x;
}

/* ---- tables of a parameter set ---------------------------------------------------- */

static int build_table(const NvcAdaptiveParams *p, NvcCdfSet *set)
{
    memset(set, 0, sizeof(*set));
    if (p->mode == NVC_ADAPTIVE_HIST) {
        uint32_t *f = malloc(p->nval * sizeof(*f));
        if (!f)
            return NVC_ERR(ENOMEM);
        for (uint32_t i = 0; i < p->nval; i++)
            f[i] = p->freq[i] << (NVC_CDF_PREC - p->hist_bits);
        int ret = nvc_cdf_set_add(set, f, p->nval, 0, p->min);
        free(f);
        return ret < 0 ? ret : 0;
    }
    enum NvcDensity d = p->mode == NVC_ADAPTIVE_LAPLACE ? NVC_DENSITY_LAPLACE : NVC_DENSITY_GAUSSIAN;
    int ret = nvc_dist_table_add(set, d, p->scale_q16, (uint32_t)p->mean_q8 & 255);
    if (ret < 0)
        return ret;
    set->tab[0].offset += p->mean_q8 >> 8; /* within +-2^23 + 2^14 */
    return 0;
}

static int check_params(const NvcAdaptiveParams *p)
{
    switch (p->mode) {
    case NVC_ADAPTIVE_CONST:
        return 0;
    case NVC_ADAPTIVE_RAW:
        return p->raw_bits <= 32 ? 0 : NVC_ERR(EINVAL);
    case NVC_ADAPTIVE_GAUSSIAN:
    case NVC_ADAPTIVE_LAPLACE:
        return p->scale_q16 ? 0 : NVC_ERR(EINVAL);
    case NVC_ADAPTIVE_HIST: {
        if (!p->nval || p->nval > NVC_ADAPTIVE_HIST_MAX_VALUES || p->hist_bits > NVC_CDF_PREC ||
            p->nval > 1u << p->hist_bits || (int64_t)p->min + p->nval - 1 > INT32_MAX || !p->freq)
            return NVC_ERR(EINVAL);
        uint64_t sum = 0;
        for (uint32_t i = 0; i < p->nval; i++) {
            if (!p->freq[i])
                return NVC_ERR(EINVAL);
            sum += p->freq[i];
        }
        return sum == 1u << p->hist_bits ? 0 : NVC_ERR(EINVAL);
    }
    default:
        return NVC_ERR(EINVAL);
    }
}

/* Best exp-Golomb order for the histogram's first nval - 1 frequencies. */
static int hist_order(const NvcAdaptiveParams *p, uint64_t *bits_out)
{
    int best = 0;
    uint64_t bb = UINT64_MAX;
    for (int k = 0; k <= 15; k++) {
        uint64_t bits = 0;
        for (uint32_t i = 0; i + 1 < p->nval; i++)
            bits += eg_len(p->freq[i] - 1, k);
        if (bits < bb) {
            bb = bits;
            best = k;
        }
    }
    if (bits_out)
        *bits_out = bb;
    return best;
}

static void write_params(const NvcAdaptiveParams *p, NvcByteWriter *bw)
{
    nvc_bw_u8(bw, p->mode);
    switch (p->mode) {
    case NVC_ADAPTIVE_CONST:
        nvc_bw_u32(bw, (uint32_t)p->min);
        break;
    case NVC_ADAPTIVE_RAW:
        nvc_bw_u32(bw, (uint32_t)p->min);
        nvc_bw_u8(bw, p->raw_bits);
        break;
    case NVC_ADAPTIVE_GAUSSIAN:
    case NVC_ADAPTIVE_LAPLACE:
        nvc_bw_u32(bw, (uint32_t)p->mean_q8);
        nvc_bw_u32(bw, p->scale_q16);
        break;
    case NVC_ADAPTIVE_HIST: {
        nvc_bw_u32(bw, (uint32_t)p->min);
        nvc_bw_u32(bw, p->nval - 1);
        nvc_bw_u8(bw, p->hist_bits);
        int k = hist_order(p, NULL);
        nvc_bw_u8(bw, (unsigned)k);
        BitW b = { bw, 0, 0 };
        for (uint32_t i = 0; i + 1 < p->nval; i++)
            eg_put(&b, p->freq[i] - 1, k);
        bw_flush(&b);
        break;
    }
    default:
        break;
    }
}

static int encode_with(const NvcAdaptiveParams *p, const int32_t *v, size_t n, uint32_t nsub,
                             NvcByteWriter *bw)
{
    int ret = check_params(p);
    if (ret)
        return ret;
    if (p->mode == NVC_ADAPTIVE_CONST) {
        for (size_t i = 0; i < n; i++)
            if (v[i] != p->min)
                return NVC_ERR(EINVAL);
        write_params(p, bw);
        return bw->error ? NVC_ERR(ENOMEM) : 0;
    }
    if (p->mode == NVC_ADAPTIVE_RAW) {
        for (size_t i = 0; i < n; i++)
            if (v[i] < p->min || (p->raw_bits < 32 && (uint64_t)((int64_t)v[i] - p->min) >> p->raw_bits))
                return NVC_ERR(EINVAL);
        write_params(p, bw);
        BitW b = { bw, 0, 0 };
        for (size_t i = 0; i < n; i++)
            bw_put(&b, (uint32_t)((int64_t)v[i] - p->min), (int)p->raw_bits);
        bw_flush(&b);
        return bw->error ? NVC_ERR(ENOMEM) : 0;
    }
    NvcCdfSet set;
    if ((ret = build_table(p, &set)))
        return ret;
    write_params(p, bw);
    ret = nvc_table_encode(&set, v, NULL, NULL, n, nsub, bw);
    nvc_cdf_set_free(&set);
    return ret;
}

int nvc_adaptive_encode_with(const NvcAdaptiveParams *p, const int32_t *v, size_t n, uint32_t nsub,
                             NvcByteWriter *bw)
{
    size_t sz = bw->sz;
    int ret = encode_with(p, v, n, nsub, bw);
    if (ret && !bw->error)
        bw->sz = sz; /* nothing half-written */
    return ret;
}

/* ---- decoder ------------------------------------------------------------------------ */

static int read_params(NvcByteReader *br, NvcAdaptiveParams *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = nvc_br_u8(br);
    switch (p->mode) {
    case NVC_ADAPTIVE_CONST:
        p->min = (int32_t)nvc_br_u32(br);
        break;
    case NVC_ADAPTIVE_RAW:
        p->min = (int32_t)nvc_br_u32(br);
        p->raw_bits = nvc_br_u8(br);
        break;
    case NVC_ADAPTIVE_GAUSSIAN:
    case NVC_ADAPTIVE_LAPLACE:
        p->mean_q8 = (int32_t)nvc_br_u32(br);
        p->scale_q16 = nvc_br_u32(br);
        break;
    case NVC_ADAPTIVE_HIST: {
        p->min = (int32_t)nvc_br_u32(br);
        uint32_t nv = nvc_br_u32(br);
        p->hist_bits = nvc_br_u8(br);
        uint32_t k = nvc_br_u8(br);
        if (br->error || nv >= NVC_ADAPTIVE_HIST_MAX_VALUES || p->hist_bits > NVC_CDF_PREC ||
            nv + 1 > 1u << p->hist_bits || k > 15 || (int64_t)p->min + nv > INT32_MAX)
            return NVC_ERR_CORRUPT;
        p->nval = nv + 1;
        /* each code takes >= 1 bit: refuse before allocating */
        if ((nv + 7) / 8 > nvc_br_left(br))
            return NVC_ERR_CORRUPT;
        p->freq = malloc(p->nval * sizeof(*p->freq));
        if (!p->freq)
            return NVC_ERR(ENOMEM);
        BitR b = { br->p, br->end, 7, 0 };
        uint64_t sum = 0;
        for (uint32_t i = 0; i < nv && !b.error; i++) {
            p->freq[i] = eg_get(&b, (int)k) + 1u;
            sum += p->freq[i];
            if (!p->freq[i] || sum >= 1u << p->hist_bits)
                b.error = 1;
        }
        if (!b.error)
            nvc_br_bytes(br, br_close(&b, br->p));
        if (b.error || br->error)
            return NVC_ERR_CORRUPT;
        p->freq[nv] = (1u << p->hist_bits) - (uint32_t)sum;
        break;
    }
    default:
        return NVC_ERR_CORRUPT;
    }
    if (br->error || check_params(p))
        return NVC_ERR_CORRUPT;
    return 0;
}

static int decode_raw(const NvcAdaptiveParams *p, NvcByteReader *br, int32_t *v, size_t n)
{
    size_t bits;
    if (nvc_mul_size(n, p->raw_bits, &bits) || (bits + 7) / 8 > nvc_br_left(br))
        return NVC_ERR_CORRUPT;
    BitR b = { br->p, br->end, 7, 0 };
    for (size_t i = 0; i < n; i++) {
        int64_t x = (int64_t)p->min + br_get(&b, (int)p->raw_bits);
        if (x > INT32_MAX)
            b.error = 1;
        v[i] = (int32_t)x;
    }
    size_t used = br_close(&b, br->p);
    if (b.error)
        return NVC_ERR_CORRUPT;
    nvc_br_bytes(br, used);
    return 0;
}

int nvc_adaptive_decode(NvcByteReader *br, int32_t *v, size_t n, NvcAdaptiveParams *params)
{
    NvcAdaptiveParams p;
    int ret = read_params(br, &p);
    if (!ret) {
        if (p.mode == NVC_ADAPTIVE_CONST) {
            for (size_t i = 0; i < n; i++)
                v[i] = p.min;
        } else if (p.mode == NVC_ADAPTIVE_RAW) {
            ret = decode_raw(&p, br, v, n);
        } else {
            NvcCdfSet set;
            ret = build_table(&p, &set);
            if (!ret)
                ret = nvc_table_decode(&set, br, v, NULL, NULL, n);
            nvc_cdf_set_free(&set);
        }
    }
    if (params && !ret)
        *params = p;
    else
        nvc_adaptive_params_free(&p);
    return ret;
}

/* ---- encoder's choice ------------------------------------------------------------------- */

typedef struct Stats {
    int32_t min, max;
    uint64_t *count; /* [max - min + 1] when the range is at most 2^16, else NULL */
    int32_t mean_q8;
    uint32_t sd_q16, mad_q16;
} Stats;

static uint64_t isqrt_u128(unsigned __int128 x)
{
    unsigned __int128 r = 0, bit = (unsigned __int128)1 << 126;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return (uint64_t)r;
}

static uint32_t clamp_scale(unsigned __int128 s)
{
    return s < 1 ? 1 : s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* k-th smallest of a[0 .. n-1] (reorders a): quickselect, median-of-3 pivot. */
static int64_t select_k(int64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = a[lo], y = a[mid], z = a[hi];
        int64_t pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
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

/* Robust statistics: the median and the 99.9% quantile of |v - median| (on
 * at most 2^20 evenly spaced samples) decide which values are inliers; the
 * mean, standard deviation and mean absolute deviation are those of the
 * inliers (outliers take the escape). */
static int stats(const int32_t *v, size_t n, Stats *st)
{
    size_t ns = n < (1u << 20) ? n : (1u << 20);
    int64_t *a = malloc(ns * sizeof(*a));
    if (!a)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < ns; i++)
        a[i] = v[ns == n ? i : (size_t)((uint64_t)i * n / ns)];
    int64_t med = select_k(a, ns, ns / 2);
    for (size_t i = 0; i < ns; i++)
        a[i] = a[i] < med ? med - a[i] : a[i] - med;
    int64_t lim = select_k(a, ns, ns - 1 - ns / 1000);
    free(a);

    __int128 sum = 0, sq = 0;
    size_t m = 0;
    st->min = st->max = v[0];
    for (size_t i = 0; i < n; i++) {
        st->min = v[i] < st->min ? v[i] : st->min;
        st->max = v[i] > st->max ? v[i] : st->max;
        int64_t d = v[i] - med;
        if (d > lim || d < -lim)
            continue;
        sum += d;
        sq += d * d;
        m++;
    }
    __int128 nn = (__int128)m;
    /* mean = med + round(sum * 256 / m), halves away from zero */
    __int128 s8 = sum * 256, q = (s8 + (s8 >= 0 ? nn / 2 : -(nn / 2))) / nn + (__int128)med * 256;
    st->mean_q8 = q > INT32_MAX ? INT32_MAX : q < INT32_MIN ? INT32_MIN : (int32_t)q;
    /* sd^2 * 2^32 = (m sq - sum^2) * 2^32 / m^2 */
    unsigned __int128 var = (unsigned __int128)(nn * sq - sum * sum);
    var = (var / (unsigned __int128)m << 16) / (unsigned __int128)m << 16;
    st->sd_q16 = clamp_scale(isqrt_u128(var));
    unsigned __int128 ad = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t d = v[i] - med;
        if (d > lim || d < -lim)
            continue;
        int64_t e = (int64_t)v[i] * 256 - st->mean_q8;
        ad += (uint64_t)(e < 0 ? -e : e);
    }
    st->mad_q16 = clamp_scale(ad * 256 / m);
    st->count = NULL;
    if ((int64_t)st->max - st->min < NVC_ADAPTIVE_HIST_MAX_VALUES) {
        st->count = calloc((size_t)((int64_t)st->max - st->min + 1), sizeof(*st->count));
        if (!st->count)
            return NVC_ERR(ENOMEM);
        for (size_t i = 0; i < n; i++)
            st->count[v[i] - st->min]++;
    }
    return 0;
}

/* Estimated data bits (Q16) of coding v with table 0 of set. */
static uint64_t table_cost(const NvcCdfSet *set, const Stats *st, const int32_t *v, size_t n)
{
    const NvcCdf *t = &set->tab[0];
    const uint32_t *c = set->cdf + t->cdf_off;
    uint64_t bits = 0;
    size_t nv = st->count ? (size_t)((int64_t)st->max - st->min + 1) : n;
    for (size_t i = 0; i < nv; i++) {
        uint64_t cnt = st->count ? st->count[i] : 1;
        int64_t x = st->count ? (int64_t)st->min + (int64_t)i : v[i];
        if (!cnt)
            continue;
        int64_t idx = x - t->offset;
        uint64_t b;
        if (idx >= 0 && idx < t->nval) {
            b = (16u << 16) - nvc_log2_q16(c[idx + 1] - c[idx]);
        } else {
            if (t->nsym == t->nval)
                return UINT64_MAX;
            uint64_t u = idx < 0 ? (uint64_t)(-1 - idx) : (uint64_t)(idx - t->nval);
            int nb = bitlen64(u);
            b = (16u << 16) - nvc_log2_q16(c[t->nval + 1] - c[t->nval]) +
                ((uint64_t)(NVC_RANS_ESC_HEADER_BITS + (nb ? nb - 1 : 0)) << 16);
        }
        bits += cnt * b;
    }
    return bits;
}

/* Cheapest histogram precision by estimate; fills p (freq allocated). */
static int best_hist(const Stats *st, NvcAdaptiveParams *p, uint64_t *cost)
{
    uint32_t nval = (uint32_t)((int64_t)st->max - st->min + 1), p0 = 0;
    while ((1u << p0) < nval)
        p0++;
    uint32_t *f = malloc(nval * sizeof(*f)), *best = malloc(nval * sizeof(*best));
    if (!f || !best) {
        free(f);
        free(best);
        return NVC_ERR(ENOMEM);
    }
    *cost = UINT64_MAX;
    int ret = 0;
    for (uint32_t bits = p0; bits <= NVC_CDF_PREC && !ret; bits++) {
        if ((ret = nvc_cdf_quantize_bits(st->count, nval, bits, f)))
            break;
        NvcAdaptiveParams c = { .mode = NVC_ADAPTIVE_HIST, .min = st->min, .nval = nval, .hist_bits = bits, .freq = f };
        uint64_t hb;
        hist_order(&c, &hb);
        uint64_t total = (hb + 8 * 11) << 16;
        for (uint32_t i = 0; i < nval; i++)
            if (st->count[i])
                total += st->count[i] * (((uint64_t)bits << 16) - nvc_log2_q16(f[i]));
        if (total < *cost) {
            *cost = total;
            *p = c;
            memcpy(best, f, nval * sizeof(*f));
        }
    }
    free(f);
    if (ret) {
        free(best);
        return ret;
    }
    p->freq = best;
    return 0;
}

/* Cheapest scale among scale * 2^(i/4), i = -3..3, by estimate. */
static int best_param(const Stats *st, const int32_t *v, size_t n, enum NvcAdaptiveMode mode, NvcAdaptiveParams *p)
{
    static const uint32_t mul_q16[7] = { 38968, 46341, 55109, 65536, 77936, 92682, 110218 };
    uint32_t s0 = mode == NVC_ADAPTIVE_LAPLACE ? st->mad_q16 : st->sd_q16;
    uint64_t bestc = UINT64_MAX;
    for (int i = 0; i < 7; i++) {
        NvcAdaptiveParams c = { .mode = mode, .mean_q8 = st->mean_q8,
                                .scale_q16 = clamp_scale(((unsigned __int128)s0 * mul_q16[i]) >> 16) };
        NvcCdfSet set;
        int ret = build_table(&c, &set);
        if (ret)
            return ret;
        uint64_t cost = table_cost(&set, st, v, n);
        nvc_cdf_set_free(&set);
        if (cost < bestc) {
            bestc = cost;
            *p = c;
        }
    }
    return 0;
}

static int try_candidate(const NvcAdaptiveParams *p, const int32_t *v, size_t n, uint32_t nsub, NvcByteWriter *best,
                         enum NvcAdaptiveMode *chosen)
{
    NvcByteWriter tmp = { 0 };
    int ret = nvc_adaptive_encode_with(p, v, n, nsub, &tmp);
    if (!ret && (!best->sz || tmp.sz < best->sz)) {
        nvc_bw_free(best);
        *best = tmp;
        *chosen = p->mode;
        return 0;
    }
    nvc_bw_free(&tmp);
    return ret;
}

int nvc_adaptive_encode(const int32_t *v, size_t n, uint32_t nsub, NvcByteWriter *bw, enum NvcAdaptiveMode *chosen)
{
    enum NvcAdaptiveMode dummy;
    chosen = chosen ? chosen : &dummy;
    if (!n || n > NVC_RANS_MAX_SYMBOLS) {
        if (n)
            return NVC_ERR(ERANGE);
        NvcAdaptiveParams c = { .mode = NVC_ADAPTIVE_CONST };
        *chosen = c.mode;
        return nvc_adaptive_encode_with(&c, v, 0, nsub, bw);
    }
    Stats st;
    int ret = stats(v, n, &st);
    if (ret)
        return ret;
    if (st.min == st.max) {
        free(st.count);
        NvcAdaptiveParams c = { .mode = NVC_ADAPTIVE_CONST, .min = st.min };
        *chosen = c.mode;
        return nvc_adaptive_encode_with(&c, v, n, nsub, bw);
    }
    NvcByteWriter best = { 0 };
    NvcAdaptiveParams raw = { .mode = NVC_ADAPTIVE_RAW, .min = st.min,
                              .raw_bits = (uint32_t)bitlen64((uint64_t)((int64_t)st.max - st.min)) };
    ret = try_candidate(&raw, v, n, nsub, &best, chosen);
    for (int mode = NVC_ADAPTIVE_GAUSSIAN; mode <= NVC_ADAPTIVE_LAPLACE && !ret; mode++) {
        NvcAdaptiveParams c;
        ret = best_param(&st, v, n, (enum NvcAdaptiveMode)mode, &c);
        if (!ret)
            ret = try_candidate(&c, v, n, nsub, &best, chosen);
    }
    /* a histogram spends at least a bit per value of its range */
    if (!ret && st.count && ((uint64_t)st.max - (uint64_t)st.min + 1) / 8 < best.sz) {
        NvcAdaptiveParams c;
        uint64_t cost;
        ret = best_hist(&st, &c, &cost);
        if (!ret)
            ret = try_candidate(&c, v, n, nsub, &best, chosen);
        nvc_adaptive_params_free(&c);
    }
    free(st.count);
    if (!ret)
        nvc_bw_bytes(bw, best.buf, best.sz);
    nvc_bw_free(&best);
    return ret ? ret : bw->error ? NVC_ERR(ENOMEM) : 0;
}
