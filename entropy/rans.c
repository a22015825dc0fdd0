/*
 * rANS payload framing, backward output buffers and symbol-at-a-time coding.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/rans.h"

/* ---- backward buffers ----------------------------------------------------- */

int nvc_rans_backbuf_init(NvcRansBackBuf *bb, size_t cap)
{
    cap = cap < 64 ? 64 : cap;
    bb->buf = malloc(cap);
    bb->cap = bb->buf ? cap : 0;
    bb->ptr = bb->buf + bb->cap;
    bb->error = !bb->buf;
    return bb->error ? NVC_ERR(ENOMEM) : 0;
}

int nvc_rans_backbuf_grow(NvcRansBackBuf *bb, size_t n)
{
    if (bb->error)
        return NVC_ERR(ENOMEM);
    size_t used = (size_t)(bb->buf + bb->cap - bb->ptr);
    if (nvc_rans_backbuf_room(bb) >= n)
        return 0;
    size_t cap = bb->cap ? bb->cap : 64;
    while (cap - used < n) {
        if (cap > SIZE_MAX / 2) {
            bb->error = 1;
            return NVC_ERR(ENOMEM);
        }
        cap *= 2;
    }
    uint8_t *nb = malloc(cap);
    if (!nb) {
        bb->error = 1;
        return NVC_ERR(ENOMEM);
    }
    if (used)
        memcpy(nb + cap - used, bb->ptr, used);
    free(bb->buf);
    bb->buf = nb;
    bb->cap = cap;
    bb->ptr = nb + cap - used;
    return 0;
}

void nvc_rans_backbuf_free(NvcRansBackBuf *bb)
{
    free(bb->buf);
    memset(bb, 0, sizeof(*bb));
}

int nvc_rans_flush(NvcRansBackBuf *bb, const uint64_t *x, uint32_t nlanes)
{
    if (nvc_rans_backbuf_grow(bb, NVC_RANS_LANES * NVC_RANS_STATE_BYTES))
        return NVC_ERR(ENOMEM);
    for (int l = (int)nlanes - 1; l >= 0; l--) {
        bb->ptr -= 8;
        nvc_rans_wr32(bb->ptr, (uint32_t)x[l]);
        nvc_rans_wr32(bb->ptr + 4, (uint32_t)(x[l] >> 32));
    }
    return 0;
}

/* ---- payload framing ---------------------------------------------------------- */

uint32_t nvc_rans_substream_count(uint64_t n, uint32_t req)
{
    if (!n)
        return 0;
    uint64_t s = req ? req : (n + (1u << 17) - 1) >> 17;
    if (!req && s > 256)
        s = 256;
    if (s > n)
        s = n;
    return s > NVC_RANS_MAX_SUBSTREAMS ? NVC_RANS_MAX_SUBSTREAMS : (uint32_t)s;
}

int nvc_rans_payload_write(NvcByteWriter *bw, uint32_t nsub, NvcRansBackBuf *subs)
{
    for (uint32_t j = 0; j < nsub; j++)
        if ((size_t)(subs[j].buf + subs[j].cap - subs[j].ptr) > UINT32_MAX)
            return NVC_ERR(ERANGE);
    nvc_bw_u16(bw, nsub);
    for (uint32_t j = 0; j < nsub; j++)
        nvc_bw_u32(bw, (uint32_t)(subs[j].buf + subs[j].cap - subs[j].ptr));
    for (uint32_t j = 0; j < nsub; j++)
        nvc_bw_bytes(bw, subs[j].ptr, (size_t)(subs[j].buf + subs[j].cap - subs[j].ptr));
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

int nvc_rans_payload_open(NvcRansPayload *pl, NvcByteReader *br, uint64_t nsym_total)
{
    memset(pl, 0, sizeof(*pl));
    uint32_t nsub = nvc_br_u16(br);
    if (br->error || (nsub == 0) != (nsym_total == 0) || nsub > nsym_total)
        return NVC_ERR_CORRUPT;
    if (!nsub)
        return 0;
    pl->data = malloc(nsub * sizeof(*pl->data));
    pl->size = malloc(nsub * sizeof(*pl->size));
    if (!pl->data || !pl->size) {
        nvc_rans_payload_close(pl);
        return NVC_ERR(ENOMEM);
    }
    pl->nsub = nsub;
    for (uint32_t j = 0; j < nsub; j++)
        pl->size[j] = nvc_br_u32(br);
    for (uint32_t j = 0; j < nsub; j++)
        pl->data[j] = nvc_br_bytes(br, pl->size[j]);
    if (br->error) {
        nvc_rans_payload_close(pl);
        return NVC_ERR_CORRUPT;
    }
    return 0;
}

void nvc_rans_payload_close(NvcRansPayload *pl)
{
    free(pl->data);
    free(pl->size);
    memset(pl, 0, sizeof(*pl));
}

/* ---- sub-stream decoder ------------------------------------------------------- */

int nvc_rans_dec_init(NvcRansDecoder *d, const uint8_t *buf, size_t size, uint64_t nsym)
{
    memset(d, 0, sizeof(*d));
    d->left = nsym;
    d->nlanes = nsym < NVC_RANS_LANES ? (uint32_t)nsym : NVC_RANS_LANES;
    d->p = buf;
    d->end = buf + size;
    if (!nsym) {
        d->error = size != 0;
        return d->error ? NVC_ERR_CORRUPT : 0;
    }
    if (size < d->nlanes * (size_t)NVC_RANS_STATE_BYTES) {
        d->error = 1;
        return NVC_ERR_CORRUPT;
    }
    for (uint32_t l = 0; l < d->nlanes; l++) {
        uint64_t x = nvc_rans_rd32(d->p) | (uint64_t)nvc_rans_rd32(d->p + 4) << 32;
        d->p += 8;
        if (x < NVC_RANS_L || x >= NVC_RANS_STATE_MAX)
            d->error = 1;
        d->x[l] = x < NVC_RANS_L || x >= NVC_RANS_STATE_MAX ? NVC_RANS_L : x;
    }
    return d->error ? NVC_ERR_CORRUPT : 0;
}

int nvc_rans_dec_finish(const NvcRansDecoder *d)
{
    if (d->error || d->left || d->p != d->end)
        return NVC_ERR_CORRUPT;
    for (uint32_t l = 0; l < d->nlanes; l++)
        if (d->x[l] != NVC_RANS_L)
            return NVC_ERR_CORRUPT;
    return 0;
}

static int dec_next(NvcRansDecoder *d)
{
    if (!d->left) {
        d->error = 1;
        return NVC_ERR_CORRUPT;
    }
    return d->error ? NVC_ERR_CORRUPT : 0;
}

static void dec_done(NvcRansDecoder *d)
{
    d->left--;
    if (++d->lane == d->nlanes)
        d->lane = 0;
}

int nvc_rans_dec_get(NvcRansDecoder *d, const NvcCdfSet *set, uint32_t tab, int64_t *value)
{
    int ret = dec_next(d);
    if (ret)
        return ret;
    if (tab >= set->ntab) {
        d->error = 1;
        return NVC_ERR_CORRUPT;
    }
    const NvcCdf *t = &set->tab[tab];
    uint64_t *x = &d->x[d->lane];
    uint32_t s = nvc_cdf_lookup(set, t, nvc_rans_dec_slot(*x));
    const uint32_t *c = set->cdf + t->cdf_off;
    nvc_rans_dec_adv(x, &d->p, d->end, c[s], c[s + 1] - c[s], &d->error);
    int64_t idx = s;
    if (s == t->nval)
        idx = nvc_rans_dec_escape_bits(x, &d->p, d->end, t->nval, &d->error);
    *value = idx + t->offset;
    dec_done(d);
    return d->error ? NVC_ERR_CORRUPT : 0;
}

uint32_t nvc_rans_dec_peek(const NvcRansDecoder *d)
{
    return nvc_rans_dec_slot(d->x[d->lane]);
}

int nvc_rans_dec_consume(NvcRansDecoder *d, uint32_t start, uint32_t freq)
{
    int ret = dec_next(d);
    if (ret)
        return ret;
    uint32_t slot = nvc_rans_dec_slot(d->x[d->lane]);
    if (!freq || start + freq > NVC_RANS_TOTAL || slot < start || slot >= start + freq) {
        d->error = 1;
        return NVC_ERR(EINVAL);
    }
    nvc_rans_dec_adv(&d->x[d->lane], &d->p, d->end, start, freq, &d->error);
    dec_done(d);
    return d->error ? NVC_ERR_CORRUPT : 0;
}

int nvc_rans_dec_get_bits(NvcRansDecoder *d, int nbits, uint32_t *bits)
{
    int ret = dec_next(d);
    if (ret)
        return ret;
    if (nbits < 0 || nbits > 32)
        return NVC_ERR(EINVAL);
    uint32_t v = 0;
    for (int rem = nbits; rem > 0;) {
        int c = rem > 16 ? 16 : rem;
        v = (uint32_t)((uint64_t)v << c) | nvc_rans_dec_bits_x(&d->x[d->lane], &d->p, d->end, c, &d->error);
        rem -= c;
    }
    *bits = v;
    dec_done(d);
    return d->error ? NVC_ERR_CORRUPT : 0;
}

/* ---- symbol-at-a-time writer -------------------------------------------------- */

/* freq - 1 is stored: a single-symbol table has freq 2^16 */
#define OP(start, freq, lane) ((uint64_t)(start) | (uint64_t)((freq) - 1) << 16 | (uint64_t)(lane) << 32)

void nvc_rans_writer_init(NvcRansWriter *w)
{
    memset(w, 0, sizeof(*w));
}

void nvc_rans_writer_free(NvcRansWriter *w)
{
    free(w->ops);
    free(w->sub_ops);
    free(w->sub_syms);
    memset(w, 0, sizeof(*w));
}

static int push_op(NvcRansWriter *w, uint32_t start, uint32_t freq)
{
    if (w->error)
        return NVC_ERR(ENOMEM);
    if (w->nops == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        uint64_t *ops = cap < SIZE_MAX / sizeof(*ops) ? realloc(w->ops, cap * sizeof(*ops)) : NULL;
        if (!ops) {
            w->error = 1;
            return NVC_ERR(ENOMEM);
        }
        w->ops = ops;
        w->cap = cap;
    }
    w->ops[w->nops++] = OP(start, freq, w->syms % NVC_RANS_LANES);
    return 0;
}

static void push_bits(NvcRansWriter *w, uint32_t bits, int nbits)
{
    push_op(w, bits << (NVC_RANS_PREC - nbits), 1u << (NVC_RANS_PREC - nbits));
}

static int end_symbol(NvcRansWriter *w)
{
    w->syms++;
    return w->error ? NVC_ERR(ENOMEM) : 0;
}

int nvc_rans_writer_put(NvcRansWriter *w, const NvcCdfSet *set, uint32_t tab, int64_t value)
{
    if (tab >= set->ntab)
        return NVC_ERR(EINVAL);
    const NvcCdf *t = &set->tab[tab];
    const uint32_t *c = set->cdf + t->cdf_off;
    int64_t idx = value - t->offset;
    if (idx >= 0 && idx < t->nval) {
        push_op(w, c[idx], c[idx + 1] - c[idx]);
        return end_symbol(w);
    }
    /* escape magnitudes below 2^34 (NVC_RANS_ESC_MAX_NBITS), as the decoder accepts */
    if (t->nsym == t->nval || idx < -((int64_t)1 << 34) || idx >= ((int64_t)1 << 34) + t->nval)
        return NVC_ERR(EINVAL);
    push_op(w, c[t->nval], c[t->nval + 1] - c[t->nval]);
    /* same order as the decoder reads (see nvc_rans_enc_escape_bits) */
    int side = idx < 0;
    uint64_t u = side ? (uint64_t)(-1 - idx) : (uint64_t)(idx - t->nval);
    int nb = 0;
    while (nb < 64 && (u >> nb))
        nb++;
    push_bits(w, (uint32_t)side << 6 | (uint32_t)nb, NVC_RANS_ESC_HEADER_BITS);
    for (int rem = nb > 0 ? nb - 1 : 0; rem > 0;) {
        int c16 = rem > 16 ? 16 : rem;
        rem -= c16;
        push_bits(w, (uint32_t)(u >> rem) & ((1u << c16) - 1), c16);
    }
    return end_symbol(w);
}

int nvc_rans_writer_put_interval(NvcRansWriter *w, uint32_t start, uint32_t freq)
{
    if (!freq || freq >= NVC_RANS_TOTAL || start + freq > NVC_RANS_TOTAL)
        return NVC_ERR(EINVAL);
    push_op(w, start, freq);
    return end_symbol(w);
}

int nvc_rans_writer_put_bits(NvcRansWriter *w, uint32_t bits, int nbits)
{
    if (nbits < 0 || nbits > 32 || (nbits < 32 && bits >> nbits))
        return NVC_ERR(EINVAL);
    for (int rem = nbits; rem > 0;) {
        int c = rem > 16 ? 16 : rem;
        rem -= c;
        push_bits(w, (uint32_t)((uint64_t)bits >> rem) & ((1u << c) - 1), c);
    }
    return end_symbol(w);
}

int nvc_rans_writer_split(NvcRansWriter *w)
{
    if (w->error)
        return NVC_ERR(ENOMEM);
    if (!w->syms)
        return 0;
    if (w->nsub >= NVC_RANS_MAX_SUBSTREAMS)
        return NVC_ERR(ERANGE);
    if (w->nsub == w->cap_sub) {
        uint32_t cap = w->cap_sub ? 2 * w->cap_sub : 8;
        uint64_t *a = realloc(w->sub_ops, cap * sizeof(*a));
        if (a)
            w->sub_ops = a;
        uint64_t *b = a ? realloc(w->sub_syms, cap * sizeof(*b)) : NULL;
        if (b)
            w->sub_syms = b;
        if (!a || !b) {
            w->error = 1;
            return NVC_ERR(ENOMEM);
        }
        w->cap_sub = cap;
    }
    w->sub_ops[w->nsub] = w->nops - w->ops0;
    w->sub_syms[w->nsub++] = w->syms;
    w->ops0 = w->nops;
    w->syms = 0;
    return 0;
}

static int encode_ops(const uint64_t *ops, size_t nops, uint64_t nsyms, NvcRansBackBuf *bb)
{
    int ret = nvc_rans_backbuf_init(bb, nops * 2 + 64);
    if (ret)
        return ret;
    uint64_t x[NVC_RANS_LANES] = { NVC_RANS_L, NVC_RANS_L, NVC_RANS_L, NVC_RANS_L };
    for (size_t i = nops; i-- > 0;) {
        if (nvc_rans_backbuf_room(bb) < 4 && nvc_rans_backbuf_grow(bb, 4))
            return NVC_ERR(ENOMEM);
        uint64_t op = ops[i];
        nvc_rans_enc_put(&x[op >> 32], &bb->ptr, (uint32_t)op & 0xffff, ((uint32_t)(op >> 16) & 0xffff) + 1);
    }
    return nvc_rans_flush(bb, x, nsyms < NVC_RANS_LANES ? (uint32_t)nsyms : NVC_RANS_LANES);
}

int nvc_rans_writer_finish(NvcRansWriter *w, NvcByteWriter *bw)
{
    int ret = nvc_rans_writer_split(w);
    if (ret)
        return ret;
    NvcRansBackBuf *subs = calloc(w->nsub ? w->nsub : 1, sizeof(*subs));
    if (!subs)
        return NVC_ERR(ENOMEM);
    size_t first = 0;
    for (uint32_t j = 0; j < w->nsub && !ret; j++) {
        ret = encode_ops(w->ops + first, w->sub_ops[j], w->sub_syms[j], &subs[j]);
        first += w->sub_ops[j];
    }
    if (!ret)
        ret = nvc_rans_payload_write(bw, w->nsub, subs);
    for (uint32_t j = 0; j < w->nsub; j++)
        nvc_rans_backbuf_free(&subs[j]);
    free(subs);
    w->nops = w->ops0 = 0;
    w->nsub = 0;
    w->syms = 0;
    return ret;
}
