/*
 * Determinism driver (tests/entropy_determinism.sh builds it with several
 * compilers and flag sets): codes fixed pseudo-random inputs through every
 * entropy path and prints an FNV-1a hash of all table, payload and decoded
 * bytes. Integer-only inputs, no libm. A second hash covers the float k-means
 * fitting, which is only expected to agree between builds that keep IEEE
 * semantics (no -ffast-math).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/adaptive.h"
#include "entropy/codebook.h"
#include "entropy/coder.h"
#include "entropy/gmm.h"
#include "entropy/rans.h"

static uint64_t h = 0xcbf29ce484222325ull;

static void hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
}

static uint64_t s = 2024;
static uint64_t rnd(void)
{
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Roughly Gaussian integers (sum of 4 uniforms) at the given spread. */
static int32_t bell(int32_t spread)
{
    int64_t a = 0;
    for (int i = 0; i < 4; i++)
        a += (int64_t)(rnd() % (2 * (uint64_t)spread + 1)) - spread;
    return (int32_t)(a / 2);
}

#define CHECK(x)                                                                                                       \
    do {                                                                                                               \
        if (!(x)) {                                                                                                    \
            fprintf(stderr, "entropy_det: line %d: %s\n", __LINE__, #x);                                               \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)

static void hash_set(const NvcCdfSet *set)
{
    hash(set->cdf, set->ncdf * sizeof(*set->cdf));
    hash(set->lut, set->nlut * sizeof(*set->lut));
    for (uint32_t t = 0; t < set->ntab; t++)
        hash(&set->tab[t], sizeof(set->tab[t]));
}

static void hash_bw(NvcByteWriter *bw)
{
    hash(bw->buf, bw->sz);
    nvc_bw_free(bw);
}

enum { N = 50000 };
static int32_t v[N], out[N], mean[N];
static uint16_t si[N];

static void cond_paths(void)
{
    NvcScaleTable st, fine;
    nvc_scale_table_default(&st);
    CHECK(!nvc_scale_table_init(&fine, 256, -(4 << 16), 10 << 16));
    hash(st.scale_q16, st.n * 4);
    hash(fine.scale_q16, fine.n * 4);
    for (int d = 0; d < 2; d++)
        for (uint32_t pb = 0; pb < 3; pb += 2) {
            NvcCondTables ct;
            CHECK(!nvc_cond_tables_init(&ct, d, d ? &fine : &st, pb));
            hash_set(&ct.set);
            for (int i = 0; i < N; i++) {
                si[i] = (uint16_t)(rnd() % ct.scales.n);
                mean[i] = bell(2000);
                v[i] = i % 500 ? (mean[i] >> 8) + bell(1 + (int32_t)(ct.scales.scale_q16[si[i]] >> 16))
                               : (int32_t)rnd();
            }
            NvcByteWriter bw = { 0 };
            CHECK(!nvc_cond_encode(&ct, v, si, mean, N, 5, &bw));
            NvcByteReader br;
            nvc_br_init(&br, bw.buf, bw.sz);
            CHECK(!nvc_cond_decode(&ct, &br, out, si, mean, N));
            CHECK(!memcmp(v, out, sizeof(v)));
            hash_bw(&bw);
            nvc_cond_tables_free(&ct);
        }
    /* GMM */
    enum { K = 3 };
    static uint32_t w[N * K];
    static int32_t mu[N * K];
    static uint16_t gs[N * K];
    for (int i = 0; i < N; i++) {
        uint32_t left = 65536;
        for (int c = 0; c < K; c++) {
            w[i * K + c] = c == K - 1 ? left : (uint32_t)(rnd() % (left + 1));
            left -= w[i * K + c];
            mu[i * K + c] = bell(3000);
            gs[i * K + c] = (uint16_t)(rnd() % 50);
        }
        v[i] = (mu[i * K] >> 8) + bell(6);
    }
    for (int d = 0; d < 2; d++) {
        NvcGmmParams p = { K, d, &st, w, mu, gs };
        NvcByteWriter bw = { 0 };
        CHECK(!nvc_gmm_encode(&p, v, N, 0, &bw));
        NvcByteReader br;
        nvc_br_init(&br, bw.buf, bw.sz);
        CHECK(!nvc_gmm_decode(&p, &br, out, N));
        CHECK(!memcmp(v, out, sizeof(v)));
        hash_bw(&bw);
    }
}

static void other_paths(void)
{
    /* factorized */
    NvcCdfSet set = { 0 };
    uint64_t wts[200];
    for (int c = 0; c < 16; c++) {
        for (int j = 0; j < 200; j++)
            wts[j] = rnd() >> (30 + rnd() % 30);
        CHECK(nvc_cdf_set_add_weights(&set, wts, 199, 1, -100) >= 0);
    }
    hash_set(&set);
    for (int i = 0; i < N; i++)
        v[i] = i % 100 ? bell(40) : (int32_t)rnd();
    NvcByteWriter bw = { 0 };
    CHECK(!nvc_factorized_encode(&set, 0, v, N, N / 16 + 1, 0, &bw));
    hash_bw(&bw);
    /* the symbol-at-a-time writer */
    NvcRansWriter wr;
    nvc_rans_writer_init(&wr);
    for (int i = 0; i < 5000; i++) {
        CHECK(!nvc_rans_writer_put(&wr, &set, (uint32_t)i % 16, v[i]));
        CHECK(!nvc_rans_writer_put_bits(&wr, (uint32_t)rnd() & 0x3ff, 10));
    }
    CHECK(!nvc_rans_writer_finish(&wr, &bw));
    hash_bw(&bw);
    nvc_rans_writer_free(&wr);
    nvc_cdf_set_free(&set);
    /* adaptive tensors of several shapes */
    for (int kind = 0; kind < 6; kind++) {
        size_t n = kind < 3 ? 700 : N;
        for (size_t i = 0; i < n; i++)
            v[i] = kind == 0 ? bell(10)
                 : kind == 1 ? (bell(3) * bell(3))
                 : kind == 2 ? (int32_t)(rnd() % 256) - 128
                 : kind == 3 ? (i % 2 ? 50 : -50) + bell(4)
                 : kind == 4 ? (i % 1000 ? bell(20) : (int32_t)rnd())
                             : 7;
        enum NvcAdaptiveMode mode;
        CHECK(!nvc_adaptive_encode(v, n, 0, &bw, &mode));
        NvcByteReader br;
        nvc_br_init(&br, bw.buf, bw.sz);
        CHECK(!nvc_adaptive_decode(&br, out, n, NULL));
        CHECK(!memcmp(v, out, n * sizeof(*v)));
        hash_bw(&bw);
    }
    /* codebook index coding and serialisation (integer PMFs) */
    NvcCodebook cb;
    CHECK(!nvc_codebook_init(&cb, 3, 4, 2, 64));
    uint64_t cnt[4 * 2 * 64];
    for (int i = 0; i < 4 * 2 * 64; i++)
        cnt[i] = rnd() >> (30 + rnd() % 30);
    CHECK(!nvc_codebook_set_pmf(&cb, cnt));
    for (int i = 0; i < 3 * 4 * 2 * 64; i++)
        cb.words[i] = (float)bell(100) / 16;
    for (int i = 0; i < 8 * 5000; i++)
        si[i] = (uint16_t)(rnd() % 64);
    CHECK(!nvc_codebook_encode(&cb, si, 5000, 0, &bw));
    hash_bw(&bw);
    CHECK(!nvc_codebook_write(&cb, &bw));
    hash_bw(&bw);
    nvc_codebook_free(&cb);
}

static uint64_t float_paths(void)
{
    h = 0xcbf29ce484222325ull;
    enum { NP = 3000, C = 8 };
    static float x[NP * C];
    for (int i = 0; i < NP * C; i++)
        x[i] = (float)bell(1000) / 37 + (float)((i / C) % 5) * 40;
    NvcCodebook cb;
    CHECK(!nvc_codebook_init(&cb, 4, 2, 2, 16));
    CHECK(!nvc_codebook_fit(&cb, x, NP, NULL));
    hash(cb.words, 2 * 2 * 16 * 4 * sizeof(float));
    hash(cb.freq, 2 * 2 * 16 * sizeof(uint32_t));
    static uint16_t idx[NP * 4];
    static float rec[NP * C];
    CHECK(!nvc_codebook_quantize(&cb, x, NP, idx, rec));
    hash(idx, sizeof(idx));
    hash(rec, sizeof(rec));
    nvc_codebook_free(&cb);
    return h;
}

int main(void)
{
    cond_paths();
    other_paths();
    uint64_t hi = h;
    uint64_t hf = float_paths();
    printf("integer %016llx\nfloat %016llx\n", (unsigned long long)hi, (unsigned long long)hf);
    return 0;
}
