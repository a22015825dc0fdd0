/*
 * Bulk rANS coding with static tables: one engine, three ways of choosing a
 * symbol's table (per-symbol index, constant per run, conditional).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>

#include "codec/internal.h"
#include "entropy/coder.h"
#include "entropy/rans.h"

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ALWAYS_INLINE inline
#define NOINLINE
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
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
    int *err = calloc(nsub ? nsub : 1, sizeof(*err));
    if (!err) {
        free(subs);
        return NVC_ERR(ENOMEM);
    }
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 16))
    for (uint32_t j = 0; j < nsub; j++)
        err[j] = enc_sub(m, mode, val, nvc_rans_substream_start(n, nsub, j),
                         nvc_rans_substream_start(n, nsub, j + 1), &subs[j]);
    int ret = nvc_rans_first_error(err, nsub);
    free(err);
    if (!ret)
        ret = nvc_rans_payload_write(bw, nsub, subs);
    for (uint32_t j = 0; j < nsub; j++)
        nvc_rans_backbuf_free(&subs[j]);
    free(subs);
    return ret;
}

/* ---- decoder ------------------------------------------------------------------- */

/* The escape path, out of line: returns the table index and updates the state. */
typedef struct Esc {
    uint64_t x;
    const uint8_t *p;
    int64_t idx;
    int err;
} Esc;

static NOINLINE Esc dec_escape(uint64_t x, const uint8_t *p, const uint8_t *end, uint32_t nval)
{
    Esc e = { x, p, 0, 0 };
    e.idx = nvc_rans_dec_escape_bits(&e.x, &e.p, end, nval, &e.err);
    return e;
}

/* Decode one symbol of table t on state x: the interval, then the
 * renormalisation, then the escape when there is one. */
#define DEC_SYM(t, off, X, out)                                                                        \
    do {                                                                                               \
        uint32_t slot_ = nvc_rans_dec_slot(X);                                                         \
        const uint32_t *c_ = cdf + (t)->cdf_off;                                                       \
        uint32_t s_ = lut[(t)->lut_off + (slot_ >> (t)->lut_shift)];                                   \
        while (c_[s_ + 1] <= slot_)                                                                    \
            s_++;                                                                                      \
        X = (uint64_t)(c_[s_ + 1] - c_[s_]) * (X >> NVC_RANS_PREC) + slot_ - c_[s_];                   \
        if (X < NVC_RANS_L) {                                                                          \
            if (LIKELY(end - p >= 4)) {                                                                \
                X = X << 32 | nvc_rans_rd32(p);                                                        \
                p += 4;                                                                                \
            } else { /* past the end: error, state parked at L */                                      \
                err = 1;                                                                               \
                X = NVC_RANS_L;                                                                        \
            }                                                                                          \
        }                                                                                              \
        int64_t v_ = (int64_t)s_ + (t)->offset + (off);                                                \
        if (UNLIKELY(s_ == (t)->nval)) {                                                               \
            Esc e_ = dec_escape(X, p, end, (t)->nval);                                                 \
            X = e_.x;                                                                                  \
            p = e_.p;                                                                                  \
            err |= e_.err;                                                                             \
            v_ = e_.idx + (t)->offset + (off);                                                         \
        }                                                                                              \
        err |= v_ != (int32_t)v_;                                                                      \
        out = (int32_t)v_;                                                                             \
    } while (0)

static ALWAYS_INLINE void dec_span(const Map *m, int mode, NvcRansDecoder *d, int32_t *val, size_t s0, size_t a,
                                   size_t b)
{
    const uint32_t *cdf = m->set->cdf;
    const uint16_t *lut = m->set->lut;
    const uint8_t *p = d->p, *end = d->end;
    int err = d->error;
    size_t i = a;
    for (; i < b && ((i - s0) & (NVC_RANS_LANES - 1)); i++) {
        int32_t off;
        const NvcCdf *t = map_sym(m, mode, i, &off);
        uint64_t x = d->x[(i - s0) & (NVC_RANS_LANES - 1)];
        DEC_SYM(t, off, x, val[i]);
        d->x[(i - s0) & (NVC_RANS_LANES - 1)] = x;
    }
    /* four lanes at a time, states in registers */
    uint64_t x0 = d->x[0], x1 = d->x[1], x2 = d->x[2], x3 = d->x[3];
    for (; i + NVC_RANS_LANES <= b; i += NVC_RANS_LANES) {
        int32_t o0, o1, o2, o3;
        const NvcCdf *t0 = map_sym(m, mode, i, &o0), *t1 = map_sym(m, mode, i + 1, &o1);
        const NvcCdf *t2 = map_sym(m, mode, i + 2, &o2), *t3 = map_sym(m, mode, i + 3, &o3);
        DEC_SYM(t0, o0, x0, val[i]);
        DEC_SYM(t1, o1, x1, val[i + 1]);
        DEC_SYM(t2, o2, x2, val[i + 2]);
        DEC_SYM(t3, o3, x3, val[i + 3]);
    }
    d->x[0] = x0;
    d->x[1] = x1;
    d->x[2] = x2;
    d->x[3] = x3;
    for (; i < b; i++) {
        int32_t off;
        const NvcCdf *t = map_sym(m, mode, i, &off);
        uint64_t x = d->x[(i - s0) & (NVC_RANS_LANES - 1)];
        DEC_SYM(t, off, x, val[i]);
        d->x[(i - s0) & (NVC_RANS_LANES - 1)] = x;
    }
    d->p = p;
    d->error = err;
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
    int *err = calloc(nsub ? nsub : 1, sizeof(*err));
    if (!err) {
        nvc_rans_payload_close(&pl);
        return NVC_ERR(ENOMEM);
    }
#pragma omp parallel for schedule(dynamic, 1) if (nsub > 1 && n >= (1u << 16))
    for (uint32_t j = 0; j < nsub; j++)
        err[j] = dec_sub(m, mode, pl.data[j], pl.size[j], val, nvc_rans_substream_start(n, nsub, j),
                         nvc_rans_substream_start(n, nsub, j + 1));
    ret = nvc_rans_first_error(err, nsub);
    free(err);
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
        bits += NVC_CDF_PREC - nvc_log2_q16(c[idx + 1] - c[idx]) / 65536.0;
    }
    return bits;
}
