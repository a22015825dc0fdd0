/*
 * Fuzz target for the entropy decoders (libFuzzer entry point; replayed on
 * a corpus by tests/fuzz/replay.c in `make check`).
 *
 * Input: byte 0 picks a decoder, bytes 1-2 the symbol count, bytes 3-6 a
 * seed for the per-symbol parameters, the rest is the payload. A payload
 * that decodes must re-encode to exactly the bytes the decoder consumed
 * (the format is canonical); anything else must fail with
 * NVC_ERR_CORRUPT. Targets >= 9 instead encode values taken from the input
 * and check the round trip.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/adaptive.h"
#include "entropy/codebook.h"
#include "entropy/coder.h"
#include "entropy/gmm.h"
#include "entropy/rans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SYMS 4096

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_entropy: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                    \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static NvcScaleTable scales;
static NvcCondTables cond[2];
static NvcCdfSet factorized;

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    nvc_scale_table_default(&scales);
    CHECK(!nvc_cond_tables_init(&cond[0], NVC_DENSITY_GAUSSIAN, &scales, 0));
    CHECK(!nvc_cond_tables_init(&cond[1], NVC_DENSITY_LAPLACE, &scales, 2));
    uint32_t f[3] = { 1, 2, NVC_CDF_TOTAL - 3 };
    for (int c = 0; c < 8; c++)
        CHECK(nvc_dist_table_add(&factorized, c & 1, 1u << (12 + c), 0) >= 0);
    CHECK(nvc_cdf_set_add(&factorized, f, 3, 0, -1) >= 0); /* no escape */
}

/* Payload bytes must equal what the encoder writes for the decoded values. */
static void same_bytes(const NvcByteWriter *bw, const uint8_t *payload, size_t used)
{
    CHECK(!bw->error);
    CHECK(bw->sz == used);
    CHECK(!memcmp(bw->buf, payload, used));
#ifdef FUZZ_VERBOSE
    fprintf(stderr, "fuzz_entropy: decoded and re-encoded %zu bytes\n", used);
#endif
}

static uint32_t nsub_of(const uint8_t *p, size_t left)
{
    return left >= 2 ? (uint32_t)p[0] << 8 | p[1] : 0;
}

typedef struct Ctx {
    uint64_t seed;
    size_t n;
    const uint8_t *p;
    size_t left;
    int32_t *val;
    uint16_t *tab;
    int32_t *mean;
} Ctx;

static void cond_params(Ctx *c, const NvcCondTables *ct)
{
    for (size_t i = 0; i < c->n; i++) {
        uint64_t r = rnd(&c->seed);
        c->tab[i] = (uint16_t)(r % ct->scales.n);
        c->mean[i] = (r >> 32) & 1 ? (int32_t)(r >> 32) : (int32_t)((r >> 40) & 0xfff) - 0x800;
    }
}

static void fuzz_cond(Ctx *c, int which)
{
    const NvcCondTables *ct = &cond[which];
    cond_params(c, ct);
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    int ret = nvc_cond_decode(ct, &br, c->val, c->tab, c->mean, c->n);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (ret)
        return;
    NvcByteWriter bw = { 0 };
    CHECK(!nvc_cond_encode(ct, c->val, c->tab, c->mean, c->n, nsub_of(c->p, c->left), &bw));
    same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
    nvc_bw_free(&bw);
}

static void fuzz_factorized(Ctx *c)
{
    size_t run = c->n / factorized.ntab + 1;
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    int ret = nvc_factorized_decode(&factorized, 0, &br, c->val, c->n, run);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (ret)
        return;
    NvcByteWriter bw = { 0 };
    CHECK(!nvc_factorized_encode(&factorized, 0, c->val, c->n, run, nsub_of(c->p, c->left), &bw));
    same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
    nvc_bw_free(&bw);
}

typedef struct Gmm {
    NvcGmmParams p;
    uint32_t *w;
    int32_t *mu;
    uint16_t *si;
} Gmm;

static void gmm_params(Ctx *c, enum NvcDensity d, Gmm *g)
{
    uint32_t k = 1 + (uint32_t)(c->seed % NVC_GMM_MAX_K);
    uint32_t *w = g->w = malloc(c->n * k * sizeof(*w) + 4);
    int32_t *mu = g->mu = malloc(c->n * k * sizeof(*mu) + 4);
    uint16_t *si = g->si = malloc(c->n * k * sizeof(*si) + 4);
    CHECK(w && mu && si);
    for (size_t i = 0; i < c->n; i++) {
        uint32_t left = NVC_CDF_TOTAL;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t r = rnd(&c->seed);
            w[i * k + j] = j + 1 == k ? left : (uint32_t)(r % (left + 1));
            left -= w[i * k + j];
            mu[i * k + j] = r >> 63 ? (int32_t)(r >> 16) : (int32_t)((r >> 16) & 0x3fff) - 0x2000;
            si[i * k + j] = (uint16_t)((r >> 48) % scales.n);
        }
    }
    g->p = (NvcGmmParams){ k, d, &scales, w, mu, si };
}

static void gmm_free(Gmm *g)
{
    free(g->w);
    free(g->mu);
    free(g->si);
}

static void fuzz_gmm(Ctx *c, enum NvcDensity d)
{
    Gmm g;
    gmm_params(c, d, &g);
    NvcGmmParams p = g.p;
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    int ret = nvc_gmm_decode(&p, &br, c->val, c->n);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (!ret) {
        NvcByteWriter bw = { 0 };
        CHECK(!nvc_gmm_encode(&p, c->val, c->n, nsub_of(c->p, c->left), &bw));
        same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
        nvc_bw_free(&bw);
    }
    gmm_free(&g);
}

static void codebook_params(Ctx *c, NvcCodebook *cb)
{
    CHECK(!nvc_codebook_init(cb, 2, 2, 2, 2 + (uint32_t)(c->seed % 300)));
    uint64_t *cnt = malloc(4 * cb->k * sizeof(*cnt));
    CHECK(cnt);
    for (size_t i = 0; i < 4 * cb->k; i++)
        cnt[i] = rnd(&c->seed) >> (40 + rnd(&c->seed) % 24);
    CHECK(!nvc_codebook_set_pmf(cb, cnt));
    free(cnt);
}

static void fuzz_codebook(Ctx *c, int read_book)
{
    NvcCodebook cb;
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    if (read_book) {
        int ret = nvc_codebook_read(&cb, &br);
        CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
        if (ret)
            return;
        NvcByteWriter bw = { 0 };
        CHECK(!nvc_codebook_write(&cb, &bw));
        same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
        nvc_bw_free(&bw);
    } else {
        codebook_params(c, &cb);
    }
    size_t npos = c->n / (cb.levels * cb.groups);
    const uint8_t *start = br.p;
    size_t avail = nvc_br_left(&br);
    uint16_t *idx = malloc(npos * cb.levels * cb.groups * sizeof(*idx) + 2);
    CHECK(idx);
    int ret = nvc_codebook_decode(&cb, &br, idx, npos);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT || ret == NVC_ERR(ERANGE));
    if (!ret) {
        for (size_t i = 0; i < npos * cb.levels * cb.groups; i++)
            CHECK(idx[i] < cb.k);
        NvcByteWriter bw = { 0 };
        CHECK(!nvc_codebook_encode(&cb, idx, npos, nsub_of(start, avail), &bw));
        same_bytes(&bw, start, avail - nvc_br_left(&br));
        nvc_bw_free(&bw);
        float *rec = malloc(npos * cb.groups * cb.dim * sizeof(*rec) + 4);
        CHECK(rec);
        nvc_codebook_reconstruct(&cb, idx, npos, rec);
        free(rec);
    }
    free(idx);
    nvc_codebook_free(&cb);
}

static void fuzz_adaptive(Ctx *c)
{
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    NvcAdaptiveParams prm;
    int ret = nvc_adaptive_decode(&br, c->val, c->n, &prm);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (ret)
        return;
    /* the rANS part (if any) follows the parameters */
    NvcByteWriter hdr = { 0 };
    NvcAdaptiveParams only = prm;
    CHECK(!nvc_adaptive_encode_with(&only, c->val, 0, 0, &hdr));
    size_t hl = hdr.sz - 2 * (prm.mode != NVC_ADAPTIVE_CONST && prm.mode != NVC_ADAPTIVE_RAW);
    NvcByteWriter bw = { 0 };
    CHECK(!nvc_adaptive_encode_with(&prm, c->val, c->n, nsub_of(c->p + hl, c->left - hl), &bw));
    same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
    nvc_bw_free(&bw);
    nvc_bw_free(&hdr);
    nvc_adaptive_params_free(&prm);
}

/* Symbol-at-a-time decoding of a random mix of tables, raw bits and
 * intervals in one sub-stream, re-encoded with NvcRansWriter. */
static void fuzz_stream(Ctx *c)
{
    NvcByteReader br;
    nvc_br_init(&br, c->p, c->left);
    NvcRansPayload pl;
    int ret = nvc_rans_payload_open(&pl, &br, c->n);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (ret || pl.nsub != 1) {
        nvc_rans_payload_close(&pl);
        return;
    }
    NvcRansDecoder d;
    NvcRansWriter w;
    nvc_rans_writer_init(&w);
    ret = nvc_rans_dec_init(&d, pl.data[0], pl.size[0], c->n);
    for (size_t i = 0; i < c->n && !ret; i++) {
        uint64_t r = rnd(&c->seed);
        int64_t v;
        uint32_t bits;
        switch (r % 3) {
        case 0: {
            uint32_t t = (uint32_t)(r >> 8) % cond[0].set.ntab;
            if (!(ret = nvc_rans_dec_get(&d, &cond[0].set, t, &v)))
                CHECK(!nvc_rans_writer_put(&w, &cond[0].set, t, v));
            break;
        }
        case 1: {
            int nb = (int)((r >> 8) % 33);
            if (!(ret = nvc_rans_dec_get_bits(&d, nb, &bits)))
                CHECK(!nvc_rans_writer_put_bits(&w, bits, nb));
            break;
        }
        default: {
            /* intervals of a tiny 3-symbol table: [0, 5), [5, 5 + f), rest */
            uint32_t f = 1 + (uint32_t)(r >> 8) % 1000, slot = nvc_rans_dec_peek(&d);
            uint32_t start = slot < 5 ? 0 : slot < 5 + f ? 5 : 5 + f;
            uint32_t fr = slot < 5 ? 5 : slot < 5 + f ? f : NVC_CDF_TOTAL - 5 - f;
            if (!(ret = nvc_rans_dec_consume(&d, start, fr)))
                CHECK(!nvc_rans_writer_put_interval(&w, start, fr));
            break;
        }
        }
    }
    if (!ret)
        ret = nvc_rans_dec_finish(&d);
    CHECK(ret == 0 || ret == NVC_ERR_CORRUPT);
    if (!ret) {
        NvcByteWriter bw = { 0 };
        CHECK(!nvc_rans_writer_finish(&w, &bw));
        same_bytes(&bw, c->p, c->left - nvc_br_left(&br));
        nvc_bw_free(&bw);
    }
    nvc_rans_writer_free(&w);
    nvc_rans_payload_close(&pl);
}

/* Encoder side: values from the input, parameters from the seed. */
static void fuzz_roundtrip(Ctx *c, int which)
{
    size_t n = c->left / 4 < MAX_SYMS ? c->left / 4 : MAX_SYMS;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)c->p[4 * i] << 24 | (uint32_t)c->p[4 * i + 1] << 16 | (uint32_t)c->p[4 * i + 2] << 8 |
                     c->p[4 * i + 3];
        /* mostly small values, some anywhere */
        c->val[i] = u >> 31 ? (int32_t)u : (int32_t)(u & 0x3f) - 0x20;
        c->tab[i] = (uint16_t)(rnd(&c->seed) % scales.n);
        c->mean[i] = (int32_t)(rnd(&c->seed) % 4096) - 2048;
    }
    int32_t *out = malloc(n * sizeof(*out) + 4);
    CHECK(out);
    NvcByteWriter bw = { 0 };
    NvcByteReader br;
    uint32_t nsub = (uint32_t)(c->seed % 5);
    if (which == 0) {
        CHECK(!nvc_cond_encode(&cond[1], c->val, c->tab, c->mean, n, nsub, &bw));
        nvc_br_init(&br, bw.buf, bw.sz);
        CHECK(!nvc_cond_decode(&cond[1], &br, out, c->tab, c->mean, n));
    } else {
        enum NvcAdaptiveMode mode;
        CHECK(!nvc_adaptive_encode(c->val, n, nsub, &bw, &mode));
        nvc_br_init(&br, bw.buf, bw.sz);
        CHECK(!nvc_adaptive_decode(&br, out, n, NULL));
    }
    CHECK(nvc_br_left(&br) == 0);
    CHECK(!memcmp(out, c->val, n * sizeof(*out)));
    nvc_bw_free(&bw);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 7)
        return 0;
    init();
    Ctx c = { .seed = (uint64_t)data[3] << 24 | (uint64_t)data[4] << 16 | (uint64_t)data[5] << 8 | data[6],
              .n = ((size_t)data[1] << 8 | data[2]) % (MAX_SYMS + 1),
              .p = data + 7,
              .left = size - 7 };
    c.val = malloc(MAX_SYMS * sizeof(*c.val));
    c.tab = malloc(MAX_SYMS * sizeof(*c.tab));
    c.mean = malloc(MAX_SYMS * sizeof(*c.mean));
    CHECK(c.val && c.tab && c.mean);
    switch (data[0] % 11) {
    case 0: fuzz_cond(&c, 0); break;
    case 1: fuzz_cond(&c, 1); break;
    case 2: fuzz_factorized(&c); break;
    case 3: fuzz_gmm(&c, NVC_DENSITY_GAUSSIAN); break;
    case 4: fuzz_gmm(&c, NVC_DENSITY_LAPLACE); break;
    case 5: fuzz_codebook(&c, 0); break;
    case 6: fuzz_codebook(&c, 1); break;
    case 7: fuzz_adaptive(&c); break;
    case 8: fuzz_stream(&c); break;
    case 9: fuzz_roundtrip(&c, 0); break;
    default: fuzz_roundtrip(&c, 1); break;
    }
    free(c.val);
    free(c.tab);
    free(c.mean);
    return 0;
}

#ifdef FUZZ_ENTROPY_SEEDS
/* Seed corpus generator: valid payloads for every decoder target.
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_ENTROPY_SEEDS -I. -Iinclude tests/fuzz/fuzz_entropy.c entropy/rans.c \
 *      entropy/cdf.c entropy/dist.c entropy/tables.c entropy/coder.c entropy/gmm.c entropy/codebook.c \
 *      entropy/adaptive.c codec/bytes.c codec/util.c -lm -o gen && ./gen tests/fuzz/corpus/entropy */
static void put_seed(const char *dir, int target, int idx, size_t n, uint32_t seed, const NvcByteWriter *bw)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-%02d-%02d", dir, target, idx);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    uint8_t h[7] = { (uint8_t)target, (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)(seed >> 24), (uint8_t)(seed >> 16),
                     (uint8_t)(seed >> 8), (uint8_t)seed };
    CHECK(fwrite(h, 1, 7, f) == 7 && (!bw->sz || fwrite(bw->buf, 1, bw->sz, f) == bw->sz));
    fclose(f);
}

static int32_t small(uint64_t *s, int spread)
{
    return (int32_t)(rnd(s) % (2 * (uint64_t)spread + 1)) - spread;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    init();
    static int32_t val[MAX_SYMS];
    static uint16_t tab[MAX_SYMS];
    static int32_t mean[MAX_SYMS];
    static const size_t sizes[] = { 0, 1, 3, 17, 300 };
    uint64_t vs = 99;
    for (int target = 0; target <= 10; target++)
        for (int k = 0; k < 5; k++) {
            size_t n = sizes[k];
            uint32_t seed = 1000u * (uint32_t)target + (uint32_t)k;
            Ctx c = { .seed = seed, .n = n, .val = val, .tab = tab, .mean = mean };
            NvcByteWriter bw = { 0 };
            uint32_t nsub = (uint32_t)k % 3;
            switch (target) {
            case 0:
            case 1:
                cond_params(&c, &cond[target]);
                for (size_t i = 0; i < n; i++)
                    val[i] = (mean[i] >> 8) + small(&vs, i % 50 ? 3 : 100000);
                CHECK(!nvc_cond_encode(&cond[target], val, tab, mean, n, nsub, &bw));
                break;
            case 2:
                for (size_t i = 0; i < n; i++)
                    val[i] = i / (n / factorized.ntab + 1) == 8 ? small(&vs, 1) : small(&vs, 5);
                CHECK(!nvc_factorized_encode(&factorized, 0, val, n, n / factorized.ntab + 1, nsub, &bw));
                break;
            case 3:
            case 4: {
                Gmm g;
                gmm_params(&c, target == 3 ? NVC_DENSITY_GAUSSIAN : NVC_DENSITY_LAPLACE, &g);
                for (size_t i = 0; i < n; i++)
                    val[i] = (g.mu[i * g.p.k] >> 8) + small(&vs, i % 40 ? 4 : 70000);
                CHECK(!nvc_gmm_encode(&g.p, val, n, nsub, &bw));
                gmm_free(&g);
                break;
            }
            case 5:
            case 6: {
                NvcCodebook cb;
                codebook_params(&c, &cb);
                if (target == 6) {
                    for (size_t i = 0; i < (size_t)cb.levels * cb.groups * cb.k * cb.dim; i++)
                        cb.words[i] = (float)small(&vs, 100) / 8;
                    CHECK(!nvc_codebook_write(&cb, &bw));
                }
                size_t npos = n / 4;
                for (size_t i = 0; i < npos * 4; i++)
                    tab[i] = (uint16_t)(rnd(&vs) % cb.k);
                CHECK(!nvc_codebook_encode(&cb, tab, npos, nsub, &bw));
                nvc_codebook_free(&cb);
                break;
            }
            case 7:
                for (size_t i = 0; i < n; i++)
                    val[i] = k == 4 ? small(&vs, 1 << 20) : small(&vs, 3 * k + 1) * (k == 3 ? 1000 : 1);
                CHECK(!nvc_adaptive_encode(val, n, nsub, &bw, NULL));
                break;
            case 8: {
                NvcRansWriter w;
                nvc_rans_writer_init(&w);
                for (size_t i = 0; i < n; i++) {
                    uint64_t r = rnd(&c.seed);
                    switch (r % 3) {
                    case 0:
                        CHECK(!nvc_rans_writer_put(&w, &cond[0].set, (uint32_t)(r >> 8) % cond[0].set.ntab,
                                                   small(&vs, i % 30 ? 2 : 1000000)));
                        break;
                    case 1: {
                        int nb = (int)((r >> 8) % 33);
                        CHECK(!nvc_rans_writer_put_bits(&w, nb ? (uint32_t)rnd(&vs) >> (32 - nb) : 0, nb));
                        break;
                    }
                    default: {
                        uint32_t f = 1 + (uint32_t)(r >> 8) % 1000, which = (uint32_t)(rnd(&vs) % 3);
                        CHECK(!nvc_rans_writer_put_interval(&w, which == 0 ? 0 : which == 1 ? 5 : 5 + f,
                                                            which == 0 ? 5 : which == 1 ? f : NVC_CDF_TOTAL - 5 - f));
                        break;
                    }
                    }
                }
                CHECK(!nvc_rans_writer_finish(&w, &bw));
                nvc_rans_writer_free(&w);
                break;
            }
            default:
                for (size_t i = 0; i < n; i++)
                    nvc_bw_u32(&bw, (uint32_t)(i % 7 ? rnd(&vs) & 0x7fffffff : rnd(&vs)));
                break;
            }
            put_seed(dir, target, k, n, seed, &bw);
            nvc_bw_free(&bw);
        }
    return 0;
}
#endif
