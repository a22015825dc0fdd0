/*
 * Gaussian (or Laplace) mixture coding with fixed-point mixture CDFs.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/gmm.h"
#include "entropy/rans.h"

/* One symbol's mixture, active components only. */
typedef struct Mix {
    uint32_t k;
    enum NvcDensity d;
    uint32_t w[NVC_GMM_MAX_K];
    int32_t mu[NVC_GMM_MAX_K];
    uint32_t s[NVC_GMM_MAX_K];
    uint64_t inv[NVC_GMM_MAX_K];
    int64_t lo;     /* value of symbol 0 */
    uint32_t nval;  /* symbols 0 .. nval-1 are values, nval is the escape */
    uint64_t base;  /* F(lo - 1/2), Q48 */
    uint64_t scale; /* 2^16 - nval - 1 */
} Mix;

/* Mixture CDF at the Q8 point x, Q48. */
static uint64_t mix_cdf(const Mix *m, int64_t x_q8)
{
    uint64_t f = 0;
    for (uint32_t i = 0; i < m->k; i++)
        f += m->w[i] * nvc_dist_cdf(m->d, x_q8 - m->mu[i], m->s[i], m->inv[i]);
    return f;
}

/* C(j): 16-bit cumulative frequency of symbol j (0 <= j <= nval). */
static uint32_t mix_c(const Mix *m, uint32_t j)
{
    if (!j)
        return 0;
    uint64_t g = mix_cdf(m, (m->lo + j) * 256 - 128) - m->base;
    return (uint32_t)(((g >> 16) * m->scale) >> 32) + j;
}

static int mix_setup(Mix *m, const NvcGmmParams *p, const uint64_t *inv, size_t i)
{
    const uint32_t *w = p->weight + i * p->k;
    const int32_t *mu = p->mean_q8 + i * p->k;
    const uint16_t *si = p->sidx + i * p->k;
    int64_t z = p->density == NVC_DENSITY_LAPLACE ? NVC_GMM_Z_LAPLACE : NVC_GMM_Z_GAUSSIAN;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint32_t sum = 0, heavy = 0, wmax = 0;
    m->k = 0;
    m->d = p->density;
    for (uint32_t c = 0; c < p->k; c++) {
        if (si[c] >= p->scales->n || w[c] > NVC_CDF_TOTAL)
            return NVC_ERR(EINVAL);
        sum += w[c];
        if (!w[c])
            continue;
        uint32_t s = p->scales->scale_q16[si[c]];
        int64_t h = (int64_t)s * z >> 8; /* Q8 */
        int64_t a = (mu[c] - h) >> 8, b = -((-(mu[c] + h)) >> 8);
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        if (w[c] > wmax) {
            wmax = w[c];
            heavy = c;
        }
        m->w[m->k] = w[c];
        m->mu[m->k] = mu[c];
        m->s[m->k] = s;
        m->inv[m->k++] = inv[si[c]];
    }
    if (sum != NVC_CDF_TOTAL)
        return NVC_ERR(EINVAL);
    if (hi - lo + 1 > NVC_GMM_MAX_VALUES) {
        int64_t c = ((int64_t)mu[heavy] + 128) >> 8, a = c - NVC_GMM_MAX_VALUES / 2;
        a = a > lo ? a : lo;
        if (a + NVC_GMM_MAX_VALUES - 1 > hi)
            a = hi - (NVC_GMM_MAX_VALUES - 1);
        lo = a;
        hi = a + NVC_GMM_MAX_VALUES - 1;
    }
    m->lo = lo;
    m->nval = (uint32_t)(hi - lo + 1);
    m->scale = NVC_CDF_TOTAL - m->nval - 1;
    m->base = mix_cdf(m, lo * 256 - 128);
    return 0;
}

static void inv_table(const NvcScaleTable *st, uint64_t *inv)
{
    for (uint32_t j = 0; j < st->n; j++)
        inv[j] = nvc_dist_inv_scale(st->scale_q16[j]);
}

static int check_params(const NvcGmmParams *p, size_t n)
{
    if (p->k < 1 || p->k > NVC_GMM_MAX_K || !p->scales || p->scales->n < 1 ||
        p->scales->n > NVC_SCALE_TABLE_MAX ||
        (p->density != NVC_DENSITY_GAUSSIAN && p->density != NVC_DENSITY_LAPLACE))
        return NVC_ERR(EINVAL);
    if (n && (!p->weight || !p->mean_q8 || !p->sidx))
        return NVC_ERR(EINVAL);
    return n > NVC_RANS_MAX_SYMBOLS ? NVC_ERR(ERANGE) : 0;
}

/* ---- encoder ------------------------------------------------------------------ */

static int enc_sub(const NvcGmmParams *p, const uint64_t *inv, const int32_t *val, size_t s0, size_t s1,
                   NvcRansBackBuf *bb)
{
    int ret = nvc_rans_backbuf_init(bb, (s1 - s0) * 2 + 64);
    if (ret)
        return ret;
    uint64_t x[NVC_RANS_LANES] = { NVC_RANS_L, NVC_RANS_L, NVC_RANS_L, NVC_RANS_L };
    for (size_t i = s1; i-- > s0;) {
        if (nvc_rans_backbuf_room(bb) < 32 && nvc_rans_backbuf_grow(bb, (i - s0) * 2 + 64))
            return NVC_ERR(ENOMEM);
        Mix m;
        if ((ret = mix_setup(&m, p, inv, i)))
            return ret;
        uint64_t *xl = &x[(i - s0) & (NVC_RANS_LANES - 1)];
        int64_t idx = val[i] - m.lo;
        if (idx >= 0 && idx < m.nval) {
            uint32_t a = mix_c(&m, (uint32_t)idx), b = mix_c(&m, (uint32_t)idx + 1);
            nvc_rans_enc_put(xl, &bb->ptr, a, b - a);
        } else {
            uint32_t a = mix_c(&m, m.nval);
            nvc_rans_enc_escape_bits(xl, &bb->ptr, idx, m.nval);
            nvc_rans_enc_put(xl, &bb->ptr, a, NVC_CDF_TOTAL - a);
        }
    }
    return nvc_rans_flush(bb, x, s1 - s0 < NVC_RANS_LANES ? (uint32_t)(s1 - s0) : NVC_RANS_LANES);
}

int nvc_gmm_encode(const NvcGmmParams *p, const int32_t *val, size_t n, uint32_t nsub, NvcByteWriter *bw)
{
    int ret = check_params(p, n);
    if (ret)
        return ret;
    uint64_t inv[NVC_SCALE_TABLE_MAX];
    inv_table(p->scales, inv);
    nsub = nvc_rans_substream_count(n, nsub);
    NvcRansBackBuf *subs = calloc(nsub ? nsub : 1, sizeof(*subs));
    if (!subs)
        return NVC_ERR(ENOMEM);
    int *err = calloc(nsub ? nsub : 1, sizeof(*err));
    if (!err) {
        free(subs);
        return NVC_ERR(ENOMEM);
    }
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 14))
    for (uint32_t j = 0; j < nsub; j++)
        err[j] = enc_sub(p, inv, val, nvc_rans_substream_start(n, nsub, j),
                         nvc_rans_substream_start(n, nsub, j + 1), &subs[j]);
    ret = nvc_rans_first_error(err, nsub);
    free(err);
    if (!ret)
        ret = nvc_rans_payload_write(bw, nsub, subs);
    for (uint32_t j = 0; j < nsub; j++)
        nvc_rans_backbuf_free(&subs[j]);
    free(subs);
    return ret;
}

/* ---- decoder ------------------------------------------------------------------ */

static int dec_sub(const NvcGmmParams *p, const uint64_t *inv, const uint8_t *buf, size_t size, int32_t *val,
                   size_t s0, size_t s1)
{
    NvcRansDecoder d;
    int ret = nvc_rans_dec_init(&d, buf, size, s1 - s0);
    if (ret)
        return ret;
    for (size_t i = s0; i < s1; i++) {
        Mix m;
        if ((ret = mix_setup(&m, p, inv, i)))
            return ret;
        uint64_t *x = &d.x[(i - s0) & (NVC_RANS_LANES - 1)];
        uint32_t slot = nvc_rans_dec_slot(*x);
        /* bisect C over the nval + 1 symbols (the escape last, C(nval + 1) = 2^16):
         * C(lo) <= slot < C(hi) */
        uint32_t lo = 0, hi = m.nval + 1, clo = 0, chi = NVC_CDF_TOTAL;
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2, c = mix_c(&m, mid);
            if (c <= slot) {
                lo = mid;
                clo = c;
            } else {
                hi = mid;
                chi = c;
            }
        }
        nvc_rans_dec_adv(x, &d.p, d.end, clo, chi - clo, &d.error);
        int64_t idx = lo;
        if (lo == m.nval)
            idx = nvc_rans_dec_escape_bits(x, &d.p, d.end, m.nval, &d.error);
        int64_t v = m.lo + idx;
        if (v != (int32_t)v)
            d.error = 1;
        val[i] = (int32_t)v;
    }
    d.left = 0;
    return nvc_rans_dec_finish(&d);
}

int nvc_gmm_decode(const NvcGmmParams *p, NvcByteReader *br, int32_t *val, size_t n)
{
    int ret = check_params(p, n);
    if (ret)
        return ret;
    uint64_t inv[NVC_SCALE_TABLE_MAX];
    inv_table(p->scales, inv);
    NvcRansPayload pl;
    if ((ret = nvc_rans_payload_open(&pl, br, n)))
        return ret;
    uint32_t nsub = pl.nsub;
    int *err = calloc(nsub ? nsub : 1, sizeof(*err));
    if (!err) {
        nvc_rans_payload_close(&pl);
        return NVC_ERR(ENOMEM);
    }
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 14))
    for (uint32_t j = 0; j < nsub; j++)
        err[j] = dec_sub(p, inv, pl.data[j], pl.size[j], val, nvc_rans_substream_start(n, nsub, j),
                         nvc_rans_substream_start(n, nsub, j + 1));
    ret = nvc_rans_first_error(err, nsub);
    free(err);
    nvc_rans_payload_close(&pl);
    return ret;
}

/* ---- helpers ------------------------------------------------------------------- */

double nvc_gmm_cost_bits(const NvcGmmParams *p, const int32_t *val, size_t n)
{
    if (check_params(p, n))
        return -1;
    uint64_t inv[NVC_SCALE_TABLE_MAX];
    inv_table(p->scales, inv);
    double bits = 0;
    for (size_t i = 0; i < n; i++) {
        Mix m;
        if (mix_setup(&m, p, inv, i))
            return -1;
        int64_t idx = val[i] - m.lo;
        uint32_t a, b;
        if (idx >= 0 && idx < m.nval) {
            a = mix_c(&m, (uint32_t)idx);
            b = mix_c(&m, (uint32_t)idx + 1);
        } else {
            uint64_t u = idx < 0 ? (uint64_t)(-1 - idx) : (uint64_t)(idx - m.nval);
            int nb = 0;
            while (u >> nb)
                nb++;
            bits += NVC_RANS_ESC_HEADER_BITS + (nb ? nb - 1 : 0);
            a = mix_c(&m, m.nval);
            b = NVC_CDF_TOTAL;
        }
        bits += NVC_CDF_PREC - nvc_log2_q16(b - a) / 65536.0;
    }
    return bits;
}

void nvc_gmm_weights_from_float(const float *w, uint32_t k, uint32_t *out)
{
    double sum = 0, frac[NVC_GMM_MAX_K];
    k = k > NVC_GMM_MAX_K ? NVC_GMM_MAX_K : k;
    for (uint32_t i = 0; i < k; i++)
        sum += w[i] > 0 ? w[i] : 0; /* NaN compares false */
    uint32_t total = 0;
    for (uint32_t i = 0; i < k; i++) {
        double v = sum > 0 && w[i] > 0 ? w[i] * 65536.0 / sum : 0;
        out[i] = v >= 65536.0 ? 65536u : (uint32_t)v;
        frac[i] = v - out[i];
        total += out[i];
    }
    if (!total && k) {
        out[0] = NVC_CDF_TOTAL;
        for (uint32_t i = 1; i < k; i++)
            out[i] = 0;
        return;
    }
    while (total < NVC_CDF_TOTAL) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < k; i++)
            if (frac[i] > frac[best])
                best = i;
        out[best]++;
        frac[best] = -1;
        total++;
    }
    while (total > NVC_CDF_TOTAL) { /* rounding of the double sum: take from the largest */
        uint32_t best = 0;
        for (uint32_t i = 1; i < k; i++)
            if (out[i] > out[best])
                best = i;
        out[best]--;
        total--;
    }
}
