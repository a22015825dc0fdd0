/*
 * Bulk rANS coding with static tables: one engine, three ways of choosing a
 * symbol's table (per-symbol index, constant per run, conditional).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdlib.h>

#include "codec/internal.h"
#include "entropy/coder.h"
#include "entropy/rans.h"

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

enum { MAP_CONST, MAP_IDX, MAP_COND };

typedef struct Map {
    const NvcCdfSet *set;
    const uint16_t *tab;  /* MAP_IDX: table per symbol; MAP_COND: scale index */
    const int32_t *off;   /* MAP_IDX: offset per symbol; MAP_COND: mean (Q8) */
    const NvcCondTables *ct;
    uint32_t first;       /* MAP_CONST table; with run: first table */
    size_t run;           /* > 0: table first + i / run, coded as MAP_CONST spans */
} Map;

static ALWAYS_INLINE const NvcCdf *map_sym(const Map *m, int mode, size_t i, int32_t *off)
{
    switch (mode) {
    case MAP_IDX:
        *off = m->off ? m->off[i] : 0;
        return &m->set->tab[m->tab ? m->tab[i] : 0];
    case MAP_COND:
        return &m->set->tab[nvc_cond_table(m->ct, m->tab[i], m->off ? m->off[i] : 0, off)];
    default:
        *off = 0;
        return &m->set->tab[m->first];
    }
}

/* ---- encoder ------------------------------------------------------------------- */

/* Symbols [a, b) of the sub-stream starting at s0, in reverse. */
static ALWAYS_INLINE int enc_span(const Map *m, int mode, const int32_t *val, size_t s0, size_t a, size_t b,
                                  uint64_t *x, NvcRansBackBuf *bb)
{
    const uint32_t *cdf = m->set->cdf;
    for (size_t i = b; i-- > a;) {
        if (nvc_rans_backbuf_room(bb) < 32 && nvc_rans_backbuf_grow(bb, (b - a) * 2 + 32))
            return NVC_ERR(ENOMEM);
        int32_t off;
        const NvcCdf *t = map_sym(m, mode, i, &off);
        const uint32_t *c = cdf + t->cdf_off;
        int64_t idx = (int64_t)val[i] - t->offset - off;
        uint64_t *xl = &x[(i - s0) & (NVC_RANS_LANES - 1)];
        if ((uint64_t)idx < t->nval) {
            nvc_rans_enc_put(xl, &bb->ptr, c[idx], c[idx + 1] - c[idx]);
        } else {
            if (t->nsym == t->nval)
                return NVC_ERR(EINVAL);
            nvc_rans_enc_escape_bits(xl, &bb->ptr, idx, t->nval);
            nvc_rans_enc_put(xl, &bb->ptr, c[t->nval], c[t->nval + 1] - c[t->nval]);
        }
    }
    return 0;
}

static int enc_sub(const Map *m, int mode, const int32_t *val, size_t s0, size_t s1, NvcRansBackBuf *bb)
{
    int ret = nvc_rans_backbuf_init(bb, (s1 - s0) * 2 + 64);
    if (ret)
        return ret;
    uint64_t x[NVC_RANS_LANES] = { NVC_RANS_L, NVC_RANS_L, NVC_RANS_L, NVC_RANS_L };
    if (mode == MAP_CONST && m->run) {
        Map mc = *m;
        for (size_t b = s1; b > s0 && !ret;) {
            size_t t = (b - 1) / m->run, a = t * m->run > s0 ? t * m->run : s0;
            mc.first = m->first + (uint32_t)t;
            ret = enc_span(&mc, MAP_CONST, val, s0, a, b, x, bb);
            b = a;
        }
    } else if (mode == MAP_IDX) {
        ret = enc_span(m, MAP_IDX, val, s0, s0, s1, x, bb);
    } else if (mode == MAP_COND) {
        ret = enc_span(m, MAP_COND, val, s0, s0, s1, x, bb);
    } else {
        ret = enc_span(m, MAP_CONST, val, s0, s0, s1, x, bb);
    }
    if (!ret)
        ret = nvc_rans_flush(bb, x, s1 - s0 < NVC_RANS_LANES ? (uint32_t)(s1 - s0) : NVC_RANS_LANES);
    return ret;
}

static int encode(const Map *m, int mode, const int32_t *val, size_t n, uint32_t nsub, NvcByteWriter *bw)
{
    if (n > NVC_RANS_MAX_SYMBOLS)
        return NVC_ERR(ERANGE);
    nsub = nvc_rans_substream_count(n, nsub);
    NvcRansBackBuf *subs = calloc(nsub ? nsub : 1, sizeof(*subs));
    if (!subs)
        return NVC_ERR(ENOMEM);
    int ret = 0;
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 16))
    for (uint32_t j = 0; j < nsub; j++) {
        int r = enc_sub(m, mode, val, nvc_rans_substream_start(n, nsub, j),
                        nvc_rans_substream_start(n, nsub, j + 1), &subs[j]);
        if (r) {
#pragma omp critical(nvc_entropy_err)
            ret = ret ? ret : r;
        }
    }
    if (!ret) {
        nvc_rans_payload_write(bw, nsub, subs);
        ret = bw->error ? NVC_ERR(ENOMEM) : 0;
    }
    for (uint32_t j = 0; j < nsub; j++)
        nvc_rans_backbuf_free(&subs[j]);
    free(subs);
    return ret;
}

/* ---- decoder ------------------------------------------------------------------- */

typedef struct Lane {
    const NvcCdf *t;
    uint32_t s;
    int32_t off;
} Lane;

/* Decode one symbol's interval on x (no renormalisation yet). */
static ALWAYS_INLINE void dec_sym(const NvcCdfSet *set, Lane *ln, uint64_t *x)
{
    uint32_t slot = nvc_rans_dec_slot(*x);
    const uint32_t *c = set->cdf + ln->t->cdf_off;
    uint32_t s = set->lut[ln->t->lut_off + (slot >> ln->t->lut_shift)];
    while (c[s + 1] <= slot)
        s++;
    ln->s = s;
    *x = (uint64_t)(c[s + 1] - c[s]) * (*x >> NVC_RANS_PREC) + slot - c[s];
}

static ALWAYS_INLINE void dec_renorm(uint64_t *x, const uint8_t **p, const uint8_t *end, int *err)
{
    if (*x < NVC_RANS_L) {
        if (end - *p >= 4) {
            *x = *x << 32 | nvc_rans_rd32(*p);
            *p += 4;
        } else {
            *err = 1;
            *x = NVC_RANS_L;
        }
    }
}

/* Renormalise, read the escape when there is one, store the value. */
static ALWAYS_INLINE void dec_finish_sym(Lane *ln, uint64_t *x, const uint8_t **p, const uint8_t *end,
                                         int32_t *out, int *err)
{
    dec_renorm(x, p, end, err);
    int64_t idx = ln->s;
    if (ln->s == ln->t->nval)
        idx = nvc_rans_dec_escape_bits(x, p, end, ln->t->nval, err);
    int64_t v = idx + ln->t->offset + ln->off;
    *err |= v != (int32_t)v;
    *out = (int32_t)v;
}

static ALWAYS_INLINE void dec_span(const Map *m, int mode, NvcRansDecoder *d, int32_t *val, size_t s0, size_t a,
                                   size_t b)
{
    const NvcCdfSet *set = m->set;
    size_t i = a;
    Lane ln[NVC_RANS_LANES];
    for (; i < b && ((i - s0) & (NVC_RANS_LANES - 1)); i++) {
        uint64_t *x = &d->x[(i - s0) & (NVC_RANS_LANES - 1)];
        ln[0].t = map_sym(m, mode, i, &ln[0].off);
        dec_sym(set, &ln[0], x);
        dec_finish_sym(&ln[0], x, &d->p, d->end, &val[i], &d->error);
    }
    for (; i + NVC_RANS_LANES <= b; i += NVC_RANS_LANES) {
        for (int l = 0; l < NVC_RANS_LANES; l++) {
            ln[l].t = map_sym(m, mode, i + l, &ln[l].off);
            dec_sym(set, &ln[l], &d->x[l]);
        }
        for (int l = 0; l < NVC_RANS_LANES; l++)
            dec_finish_sym(&ln[l], &d->x[l], &d->p, d->end, &val[i + l], &d->error);
    }
    for (; i < b; i++) {
        uint64_t *x = &d->x[(i - s0) & (NVC_RANS_LANES - 1)];
        ln[0].t = map_sym(m, mode, i, &ln[0].off);
        dec_sym(set, &ln[0], x);
        dec_finish_sym(&ln[0], x, &d->p, d->end, &val[i], &d->error);
    }
}

static int dec_sub(const Map *m, int mode, const uint8_t *buf, size_t size, int32_t *val, size_t s0, size_t s1)
{
    NvcRansDecoder d;
    int ret = nvc_rans_dec_init(&d, buf, size, s1 - s0);
    if (ret)
        return ret;
    if (mode == MAP_CONST && m->run) {
        Map mc = *m;
        for (size_t a = s0; a < s1;) {
            size_t t = a / m->run, b = (t + 1) * m->run < s1 ? (t + 1) * m->run : s1;
            mc.first = m->first + (uint32_t)t;
            dec_span(&mc, MAP_CONST, &d, val, s0, a, b);
            a = b;
        }
    } else if (mode == MAP_IDX) {
        dec_span(m, MAP_IDX, &d, val, s0, s0, s1);
    } else if (mode == MAP_COND) {
        dec_span(m, MAP_COND, &d, val, s0, s0, s1);
    } else {
        dec_span(m, MAP_CONST, &d, val, s0, s0, s1);
    }
    d.left = 0;
    return nvc_rans_dec_finish(&d);
}

static int decode(const Map *m, int mode, NvcByteReader *br, int32_t *val, size_t n)
{
    if (n > NVC_RANS_MAX_SYMBOLS)
        return NVC_ERR(ERANGE);
    NvcRansPayload pl;
    int ret = nvc_rans_payload_open(&pl, br, n);
    if (ret)
        return ret;
    uint32_t nsub = pl.nsub;
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 16))
    for (uint32_t j = 0; j < nsub; j++) {
        int r = dec_sub(m, mode, pl.data[j], pl.size[j], val, nvc_rans_substream_start(n, nsub, j),
                        nvc_rans_substream_start(n, nsub, j + 1));
        if (r) {
#pragma omp critical(nvc_entropy_err)
            ret = ret ? ret : r;
        }
    }
    nvc_rans_payload_close(&pl);
    return ret;
}

/* ---- public entry points ----------------------------------------------------------- */

static int check_tabs(const NvcCdfSet *set, const uint16_t *tab, size_t n)
{
    if (!set->ntab)
        return NVC_ERR(EINVAL);
    uint32_t bad = 0;
    if (tab)
        for (size_t i = 0; i < n; i++)
            bad |= tab[i] >= set->ntab;
    return bad ? NVC_ERR(EINVAL) : 0;
}

int nvc_table_encode(const NvcCdfSet *set, const int32_t *val, const uint16_t *tab, const int32_t *offset,
                     size_t n, uint32_t nsub, NvcByteWriter *bw)
{
    int ret = check_tabs(set, tab, n);
    Map m = { .set = set, .tab = tab, .off = offset };
    return ret ? ret : encode(&m, MAP_IDX, val, n, nsub, bw);
}

int nvc_table_decode(const NvcCdfSet *set, NvcByteReader *br, int32_t *val, const uint16_t *tab,
                     const int32_t *offset, size_t n)
{
    int ret = check_tabs(set, tab, n);
    Map m = { .set = set, .tab = tab, .off = offset };
    return ret ? ret : decode(&m, MAP_IDX, br, val, n);
}

static int check_run(const NvcCdfSet *set, uint32_t first, size_t n, size_t run)
{
    if (!run || first >= set->ntab)
        return NVC_ERR(EINVAL);
    return n && (n - 1) / run >= set->ntab - first ? NVC_ERR(EINVAL) : 0;
}

int nvc_factorized_encode(const NvcCdfSet *set, uint32_t first, const int32_t *val, size_t n, size_t run,
                          uint32_t nsub, NvcByteWriter *bw)
{
    int ret = check_run(set, first, n, run);
    Map m = { .set = set, .first = first, .run = run };
    return ret ? ret : encode(&m, MAP_CONST, val, n, nsub, bw);
}

int nvc_factorized_decode(const NvcCdfSet *set, uint32_t first, NvcByteReader *br, int32_t *val, size_t n,
                          size_t run)
{
    int ret = check_run(set, first, n, run);
    Map m = { .set = set, .first = first, .run = run };
    return ret ? ret : decode(&m, MAP_CONST, br, val, n);
}

static int check_cond(const NvcCondTables *ct, const uint16_t *sidx, size_t n)
{
    if (!ct->set.ntab || (n && !sidx))
        return NVC_ERR(EINVAL);
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= sidx[i] >= ct->scales.n;
    return bad ? NVC_ERR(EINVAL) : 0;
}

int nvc_cond_encode(const NvcCondTables *ct, const int32_t *val, const uint16_t *sidx, const int32_t *mean_q8,
                    size_t n, uint32_t nsub, NvcByteWriter *bw)
{
    int ret = check_cond(ct, sidx, n);
    Map m = { .set = &ct->set, .tab = sidx, .off = mean_q8, .ct = ct };
    return ret ? ret : encode(&m, MAP_COND, val, n, nsub, bw);
}

int nvc_cond_decode(const NvcCondTables *ct, NvcByteReader *br, int32_t *val, const uint16_t *sidx,
                    const int32_t *mean_q8, size_t n)
{
    int ret = check_cond(ct, sidx, n);
    Map m = { .set = &ct->set, .tab = sidx, .off = mean_q8, .ct = ct };
    return ret ? ret : decode(&m, MAP_COND, br, val, n);
}

double nvc_cond_cost_bits(const NvcCondTables *ct, const int32_t *val, const uint16_t *sidx,
                          const int32_t *mean_q8, size_t n)
{
    Map m = { .set = &ct->set, .tab = sidx, .off = mean_q8, .ct = ct };
    double bits = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t off;
        const NvcCdf *t = map_sym(&m, MAP_COND, i, &off);
        const uint32_t *c = ct->set.cdf + t->cdf_off;
        int64_t idx = (int64_t)val[i] - t->offset - off;
        if (idx < 0 || idx >= t->nval) {
            uint64_t u = idx < 0 ? (uint64_t)(-1 - idx) : (uint64_t)(idx - t->nval);
            int nb = 0;
            while (u >> nb)
                nb++;
            bits += NVC_RANS_ESC_HEADER_BITS + (nb ? nb - 1 : 0);
            idx = t->nval;
        }
        bits += NVC_CDF_PREC - log2((double)(c[idx + 1] - c[idx]));
    }
    return bits;
}
