/*
 * INR stream payloads (doc/FORMAT.md, "Codec payloads"): the configuration
 * payload (architecture, quantised weights, embedding quantisation and
 * table) and HNeRV's per-frame embedding packets. Every parse treats its
 * bytes as hostile: sizes are checked against the bytes present and
 * against the decoder's limits before anything is allocated for them.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bytes.h"
#include "codec/internal.h"
#include "entropy/adaptive.h"
#include "entropy/cdf.h"
#include "entropy/coder.h"
#include "inr/inr.h"

#define PAYLOAD_FORMAT 0
#define MAX_WBITS 16
#define MAX_EBITS 8

void inr_stream_free(InrStream *s)
{
    free(s->q);
    if (s->emb_tab) {
        nvc_cdf_set_free(s->emb_tab);
        free(s->emb_tab);
    }
    s->q = NULL;
    s->emb_tab = NULL;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- weights: tensors coded in groups of consecutive tensors ------------------------------- */

static size_t numel_of(const NvcArena *ar, int t)
{
    return ar->t[t].numel;
}

/* Code the weights with the grouping len[0..ng-1] (tensor counts). */
static int write_groups(const InrStream *s, const NvcArena *ar, const int *len, int ng, NvcByteWriter *bw)
{
    nvc_bw_u8(bw, (unsigned)ng);
    for (int g = 0; g < ng; g++)
        nvc_bw_u8(bw, (unsigned)len[g]);
    size_t pos = 0;
    for (int g = 0, t = 0; g < ng; g++) {
        size_t n = 0;
        for (int k = 0; k < len[g]; k++)
            n += numel_of(ar, t++);
        int ret = nvc_adaptive_encode(s->q + pos, n, 0, bw, NULL);
        if (ret < 0)
            return ret;
        pos += n;
    }
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

/* The smallest of: one group; one group per tensor; tensors of 1024 weights
 * or more alone and the runs of smaller ones together. */
static int write_weights(const InrStream *s, const NvcArena *ar, NvcByteWriter *out)
{
    const int T = ar->n;
    int len[3][INR_MAX_TENSORS], ng[3] = { 1, T, 0 };
    len[0][0] = T;
    for (int t = 0; t < T; t++)
        len[1][t] = 1;
    for (int t = 0; t < T;) {
        int k = 1;
        if (numel_of(ar, t) < 1024)
            while (t + k < T && numel_of(ar, t + k) < 1024 && k < 255)
                k++;
        len[2][ng[2]++] = k;
        t += k;
    }
    NvcByteWriter best = { 0 };
    int ret = 0;
    for (int c = 0; c < 3 && !ret; c++) {
        if (ng[c] > 255)
            continue;
        NvcByteWriter bw = { 0 };
        ret = write_groups(s, ar, len[c], ng[c], &bw);
        if (!ret && (!best.buf || bw.sz < best.sz)) {
            nvc_bw_free(&best);
            best = bw;
        } else {
            nvc_bw_free(&bw);
        }
    }
    if (!ret)
        nvc_bw_bytes(out, best.buf, best.sz);
    nvc_bw_free(&best);
    return ret;
}

static int read_weights(InrStream *s, const NvcArena *ar, NvcByteReader *br)
{
    const int T = ar->n;
    int ng = nvc_br_u8(br), len[256], sum = 0;
    if (ng < 1 || ng > T)
        return NVC_ERR_CORRUPT;
    for (int g = 0; g < ng; g++) {
        len[g] = nvc_br_u8(br);
        if (len[g] < 1)
            return NVC_ERR_CORRUPT;
        sum += len[g];
    }
    if (br->error || sum != T)
        return NVC_ERR_CORRUPT;
    s->nq = nvc_arena_numel(ar);
    if (!(s->q = malloc((s->nq ? s->nq : 1) * sizeof(*s->q))))
        return NVC_ERR(ENOMEM);
    const int32_t lim = (1 << (s->wbits - 1)) - 1;
    size_t pos = 0;
    for (int g = 0, t = 0; g < ng; g++) {
        size_t n = 0;
        for (int k = 0; k < len[g]; k++)
            n += numel_of(ar, t++);
        int ret = nvc_adaptive_decode(br, s->q + pos, n, NULL);
        if (ret < 0)
            return ret == NVC_ERR(ENOMEM) ? ret : NVC_ERR_CORRUPT;
        for (size_t i = pos; i < pos + n; i++)
            if (s->q[i] < -lim || s->q[i] > lim)
                return NVC_ERR_CORRUPT;
        pos += n;
    }
    return 0;
}

int inr_stream_weights(const InrStream *s, const NvcArena *layout, float *host)
{
    if (layout->n != s->ntensors || nvc_arena_numel(layout) != s->nq)
        return NVC_ERR(EINVAL);
    memset(host, 0, layout->size * sizeof(float));
    size_t pos = 0;
    for (int t = 0; t < layout->n; t++) {
        inr_dequantize(s->q + pos, layout->t[t].numel, s->step[t], host + layout->t[t].offset);
        pos += layout->t[t].numel;
    }
    return 0;
}

/* ---- embedding table -------------------------------------------------------------------------- */

/* Table from frequencies f (P bits, each >= 1, sum 2^P) of values offset .. offset + nval - 1. */
static int make_emb_table(InrStream *s, const uint32_t *f, uint32_t nval, int P, int32_t offset)
{
    uint32_t *f16 = malloc(nval * sizeof(*f16));
    if (!f16)
        return NVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < nval; i++)
        f16[i] = f[i] << (16 - P);
    if (!s->emb_tab && !(s->emb_tab = calloc(1, sizeof(*s->emb_tab)))) {
        free(f16);
        return NVC_ERR(ENOMEM);
    }
    int ret = nvc_cdf_set_add(s->emb_tab, f16, nval, 0, offset);
    free(f16);
    return ret < 0 ? ret : 0;
}

typedef struct EmbTable {
    int P;
    int32_t offset;
    uint32_t nval;
    uint32_t f[1 << MAX_EBITS];
} EmbTable;

static int write_emb_table_body(const EmbTable *t, NvcByteWriter *bw)
{
    int32_t v[1 << MAX_EBITS];
    for (uint32_t i = 0; i < t->nval; i++)
        v[i] = (int32_t)t->f[i] - 1;
    nvc_bw_u8(bw, (unsigned)t->P);
    nvc_bw_u16(bw, (unsigned)t->offset);
    nvc_bw_u16(bw, t->nval);
    return nvc_adaptive_encode(v, t->nval, 0, bw, NULL);
}

int inr_stream_fit_emb_table(InrStream *s, const int32_t *q, size_t n)
{
    const uint32_t levels = 1u << s->eq.bits;
    uint64_t count[1 << MAX_EBITS] = { 0 };
    uint32_t lo = levels, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)q[i];
        count[v]++;
        lo = NVC_MIN(lo, v);
        hi = NVC_MAX(hi, v);
    }
    if (!n)
        lo = hi = 0;
    EmbTable best = { 0 }, t;
    uint64_t best_bits = UINT64_MAX;
    t.offset = (int32_t)lo;
    t.nval = hi - lo + 1;
    int pmin = 0;
    while ((1u << pmin) < t.nval)
        pmin++;
    /* the precision with the smallest table + data size */
    for (t.P = NVC_MAX(pmin, 1); t.P <= 16; t.P++) {
        int ret = nvc_cdf_quantize_bits(count + lo, t.nval, (uint32_t)t.P, t.f);
        if (ret < 0)
            return ret;
        NvcByteWriter bw = { 0 };
        if ((ret = write_emb_table_body(&t, &bw)) < 0) {
            nvc_bw_free(&bw);
            return ret;
        }
        uint64_t bits = (uint64_t)bw.sz * 8 * 65536;
        nvc_bw_free(&bw);
        for (uint32_t i = 0; i < t.nval; i++)
            bits += count[lo + i] * ((uint64_t)t.P * 65536 - nvc_log2_q16(t.f[i]));
        if (bits < best_bits) {
            best_bits = bits;
            best = t;
        }
    }
    if (s->emb_tab) {
        nvc_cdf_set_free(s->emb_tab);
        memset(s->emb_tab, 0, sizeof(*s->emb_tab));
    }
    memcpy(&t, &best, sizeof(t));
    int ret = make_emb_table(s, t.f, t.nval, t.P, t.offset);
    if (ret < 0)
        return ret;
    /* keep the chosen frequencies for the writer: stored after the table */
    s->emb_tab_P = t.P;
    s->emb_tab_offset = t.offset;
    s->emb_tab_nval = t.nval;
    memcpy(s->emb_tab_f, t.f, t.nval * sizeof(uint32_t));
    return 0;
}

static int read_emb_table(InrStream *s, NvcByteReader *br)
{
    EmbTable t;
    t.P = nvc_br_u8(br);
    t.offset = nvc_br_u16(br);
    t.nval = nvc_br_u16(br);
    const uint32_t levels = 1u << s->eq.bits;
    if (br->error || t.P < 1 || t.P > 16 || t.nval < 1 || (uint32_t)t.offset + t.nval > levels ||
        t.nval > 1u << t.P)
        return NVC_ERR_CORRUPT;
    int32_t v[1 << MAX_EBITS];
    int ret = nvc_adaptive_decode(br, v, t.nval, NULL);
    if (ret < 0)
        return ret == NVC_ERR(ENOMEM) ? ret : NVC_ERR_CORRUPT;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < t.nval; i++) {
        if (v[i] < 0 || v[i] >= 1 << t.P)
            return NVC_ERR_CORRUPT;
        t.f[i] = (uint32_t)v[i] + 1;
        sum += t.f[i];
    }
    if (sum != 1u << t.P)
        return NVC_ERR_CORRUPT;
    s->emb_tab_P = t.P;
    s->emb_tab_offset = t.offset;
    s->emb_tab_nval = t.nval;
    memcpy(s->emb_tab_f, t.f, t.nval * sizeof(uint32_t));
    return make_emb_table(s, t.f, t.nval, t.P, t.offset);
}

/* ---- configuration payload ---------------------------------------------------------------------- */

static void write_arch(const InrStream *s, NvcByteWriter *bw)
{
    const InrArch *a = &s->a;
    nvc_bw_u8(bw, PAYLOAD_FORMAT);
    nvc_bw_u8(bw, (unsigned)a->nstrides);
    for (int i = 0; i < a->nstrides; i++)
        nvc_bw_u8(bw, (unsigned)a->stride[i]);
    nvc_bw_u16(bw, (unsigned)a->grid_h);
    nvc_bw_u16(bw, (unsigned)a->grid_w);
    for (int i = 0; i <= a->nstrides; i++)
        nvc_bw_u16(bw, (unsigned)a->width[i]);
    if (a->kind == INR_HNERV) {
        nvc_bw_u8(bw, (unsigned)a->emb_ch);
    } else {
        nvc_bw_u16(bw, (unsigned)a->stem_hidden);
        nvc_bw_u8(bw, (unsigned)a->pe_levels);
        nvc_bw_u32(bw, f32_bits(a->pe_base));
        nvc_bw_u32(bw, s->t_den);
    }
}

int inr_stream_write_config(const InrStream *s, uint8_t **buf, size_t *sz, const NvcLogger *lg)
{
    NvcArena ar;
    int ret = inr_net_layout(&s->a, &ar, NULL);
    if (ret < 0)
        return ret;
    NvcByteWriter bw = { 0 };
    write_arch(s, &bw);
    nvc_bw_u8(&bw, (unsigned)s->wbits);
    for (int t = 0; t < ar.n; t++)
        nvc_bw_u32(&bw, f32_bits(s->step[t]));
    ret = write_weights(s, &ar, &bw);
    if (!ret && s->a.kind == INR_HNERV) {
        nvc_bw_u8(&bw, (unsigned)s->eq.bits);
        for (int c = 0; c < s->eq.ch; c++)
            nvc_bw_u16(&bw, s->eq.min_h[c]);
        for (int c = 0; c < s->eq.ch; c++)
            nvc_bw_u16(&bw, s->eq.step_h[c]);
        EmbTable t = { .P = s->emb_tab_P, .offset = s->emb_tab_offset, .nval = s->emb_tab_nval };
        memcpy(t.f, s->emb_tab_f, t.nval * sizeof(uint32_t));
        ret = write_emb_table_body(&t, &bw);
    }
    nvc_arena_free(&ar);
    if (!ret && bw.error)
        ret = NVC_ERR(ENOMEM);
    if (ret < 0) {
        nvc_bw_free(&bw);
        return nvc_log_error(lg, ret, "inr: cannot write the model: %s", nvc_error_string(ret));
    }
    *buf = bw.buf;
    *sz = bw.sz;
    return 0;
}

static int read_arch(InrStream *s, enum InrKind kind, NvcByteReader *br, int w, int h)
{
    InrArch *a = &s->a;
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    if (nvc_br_u8(br) != PAYLOAD_FORMAT)
        return NVC_ERR_CORRUPT;
    a->nstrides = nvc_br_u8(br);
    if (a->nstrides < INR_MIN_STRIDES || a->nstrides > INR_MAX_STRIDES)
        return NVC_ERR_CORRUPT;
    for (int i = 0; i < a->nstrides; i++)
        a->stride[i] = nvc_br_u8(br);
    a->grid_h = nvc_br_u16(br);
    a->grid_w = nvc_br_u16(br);
    for (int i = 0; i <= a->nstrides; i++)
        a->width[i] = nvc_br_u16(br);
    if (kind == INR_HNERV) {
        a->emb_ch = nvc_br_u8(br);
    } else {
        a->stem_hidden = nvc_br_u16(br);
        a->pe_levels = nvc_br_u8(br);
        a->pe_base = f32_of(nvc_br_u32(br));
        s->t_den = nvc_br_u32(br);
        if (!s->t_den)
            return NVC_ERR_CORRUPT;
    }
    if (br->error || inr_arch_check(a) < 0)
        return NVC_ERR_CORRUPT;
    int64_t sc = inr_arch_scale(a);
    if ((h + sc - 1) / sc != a->grid_h || (w + sc - 1) / sc != a->grid_w)
        return NVC_ERR_CORRUPT;
    return 0;
}

/* Memory the decoder will need: parameters (floats, and int32 while
 * parsing), one frame's activations, its input (float, host and backend,
 * and int32 symbols), and conv scratch (tiles of 128K floats per thread,
 * counted for 64 threads). */
static int check_limits(const InrStream *s, const NvcArena *ar, size_t acts, int64_t max_pixels, int64_t max_memory,
                        const NvcLogger *lg)
{
    int oh, ow;
    inr_arch_out_size(&s->a, &oh, &ow);
    if ((int64_t)oh * ow > 2 * max_pixels)
        return nvc_log_error(lg, NVC_ERR(ERANGE), "inr: padded frame %dx%d beyond the pixel limit", ow, oh);
    double bytes = 8.0 * (double)ar->size + 4.0 * (double)acts + 12.0 * (double)inr_net_input_size(&s->a) +
                   4.0 * 131072 * 64;
    if (bytes > (double)max_memory)
        return nvc_log_error(lg, NVC_ERR(ERANGE), "inr: the model needs %.0f MiB, above the decoder's limit",
                             bytes / 1048576);
    return 0;
}

int inr_stream_parse_config(InrStream *s, enum InrKind kind, const uint8_t *buf, size_t sz, int w, int h,
                            int64_t max_pixels, int64_t max_memory, const NvcLogger *lg)
{
    memset(s, 0, sizeof(*s));
    NvcByteReader br;
    nvc_br_init(&br, buf, sz);
    int ret = read_arch(s, kind, &br, w, h);
    if (ret < 0)
        return nvc_log_error(lg, ret, "inr: bad model architecture");
    NvcArena ar;
    size_t acts;
    if ((ret = inr_net_layout(&s->a, &ar, &acts)) < 0)
        return ret;
    if ((ret = check_limits(s, &ar, acts, max_pixels, max_memory, lg)) < 0)
        goto done;
    s->ntensors = ar.n;
    s->wbits = nvc_br_u8(&br);
    ret = NVC_ERR_CORRUPT;
    if (s->wbits < 2 || s->wbits > MAX_WBITS || ar.n > INR_MAX_TENSORS)
        goto done;
    for (int t = 0; t < ar.n; t++) {
        s->step[t] = f32_of(nvc_br_u32(&br));
        if (!(s->step[t] > 0.0f) || !isfinite(s->step[t]))
            goto done;
    }
    if (br.error || (ret = read_weights(s, &ar, &br)) < 0)
        goto done;
    if (kind == INR_HNERV) {
        ret = NVC_ERR_CORRUPT;
        s->eq.bits = nvc_br_u8(&br);
        s->eq.ch = s->a.emb_ch;
        if (s->eq.bits < 1 || s->eq.bits > MAX_EBITS)
            goto done;
        for (int c = 0; c < s->eq.ch; c++)
            s->eq.min[c] = inr_half_to_float(s->eq.min_h[c] = nvc_br_u16(&br));
        for (int c = 0; c < s->eq.ch; c++)
            s->eq.step[c] = inr_half_to_float(s->eq.step_h[c] = nvc_br_u16(&br));
        for (int c = 0; c < s->eq.ch; c++)
            if (!isfinite(s->eq.min[c]) || !(s->eq.step[c] > 0.0f) || !isfinite(s->eq.step[c]))
                goto done;
        if (br.error || (ret = read_emb_table(s, &br)) < 0)
            goto done;
    }
    ret = br.error || nvc_br_left(&br) ? NVC_ERR_CORRUPT : 0;
done:
    nvc_arena_free(&ar);
    if (ret < 0) {
        inr_stream_free(s);
        if (ret == NVC_ERR_CORRUPT)
            nvc_log_error(lg, ret, "inr: corrupt model payload");
    }
    return ret;
}

/* ---- HNeRV packets ----------------------------------------------------------------------------- */

/* A packet is a mode byte, then 0: one entropy payload coded with the
 * embedding table, or 1: every symbol in ebits raw bits (MSB first, zero
 * padding), whichever is smaller: a payload's fixed cost (about 38 bytes)
 * outweighs the table's gain on small embeddings. */
enum { EMB_TABLE = 0, EMB_RAW = 1 };

int inr_stream_write_emb(const InrStream *s, const int32_t *q, uint8_t **buf, size_t *sz)
{
    NvcByteWriter bw = { 0 };
    const size_t n = inr_net_input_size(&s->a), raw = (n * (size_t)s->eq.bits + 7) / 8;
    nvc_bw_u8(&bw, EMB_TABLE);
    int ret = nvc_table_encode(s->emb_tab, q, NULL, NULL, n, 1, &bw);
    if (!ret && bw.sz > 1 + raw) {
        bw.sz = 0;
        nvc_bw_u8(&bw, EMB_RAW);
        uint32_t acc = 0;
        int nb = 0;
        for (size_t i = 0; i < n; i++) {
            acc = acc << s->eq.bits | (uint32_t)q[i];
            for (nb += s->eq.bits; nb >= 8; nb -= 8)
                nvc_bw_u8(&bw, (acc >> (nb - 8)) & 255);
        }
        if (nb)
            nvc_bw_u8(&bw, (acc << (8 - nb)) & 255);
    }
    if (!ret && bw.error)
        ret = NVC_ERR(ENOMEM);
    if (ret < 0) {
        nvc_bw_free(&bw);
        return ret;
    }
    *buf = bw.buf;
    *sz = bw.sz;
    return 0;
}

int inr_stream_read_emb(const InrStream *s, const uint8_t *buf, size_t sz, int32_t *q)
{
    NvcByteReader br;
    nvc_br_init(&br, buf, sz);
    const size_t n = inr_net_input_size(&s->a), raw = (n * (size_t)s->eq.bits + 7) / 8;
    const int mode = nvc_br_u8(&br);
    if (br.error || (mode != EMB_TABLE && mode != EMB_RAW))
        return NVC_ERR_CORRUPT;
    if (mode == EMB_RAW) {
        if (nvc_br_left(&br) != raw)
            return NVC_ERR_CORRUPT;
        const uint8_t *p = nvc_br_bytes(&br, raw);
        uint32_t acc = 0;
        int nb = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            while (nb < s->eq.bits) {
                acc = acc << 8 | p[k++];
                nb += 8;
            }
            nb -= s->eq.bits;
            q[i] = (int32_t)((acc >> nb) & ((1u << s->eq.bits) - 1));
        }
        return acc & ((1u << nb) - 1) ? NVC_ERR_CORRUPT : 0; /* padding bits are zero */
    }
    int ret = nvc_table_decode(s->emb_tab, &br, q, NULL, NULL, n);
    if (ret < 0)
        return ret == NVC_ERR(ENOMEM) ? ret : NVC_ERR_CORRUPT;
    return nvc_br_left(&br) ? NVC_ERR_CORRUPT : 0;
}
