/*
 * Entropy coder: tables, quantisation, rANS payloads, conditional priors,
 * symbol-at-a-time coding, corruption handling, rate and determinism.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"
#include "tests/entropy_common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include "codec/internal.h"
#include "entropy/coder.h"
#include "entropy/rans.h"
#include "entropy/tables_ref.h"

/* ---- fixed-point tables and densities --------------------------------------- */

START_TEST(test_tables_regenerate)
{
    for (int i = 0; i < NVC_NORMAL_GRID_SIZE; i++)
        ck_assert_uint_eq(nvc_normal_tail_q32[i], nvc_ref_normal_tail(i));
    for (int i = 0; i <= 256; i++)
        ck_assert_uint_eq(nvc_exp2_neg_q31[i], nvc_ref_exp2_neg(i));
}
END_TEST

START_TEST(test_dist_cdf_accuracy)
{
    static const double scales[] = { 0.11, 0.5, 1.0, 3.7, 20.0, 256.0, 3000.0 };
    for (int d = 0; d < 2; d++)
        for (size_t si = 0; si < NVC_ARRAY_SIZE(scales); si++) {
            uint32_t s = nvc_dist_scale_from_float((float)scales[si]);
            double sd = s / 65536.0;
            uint64_t inv = nvc_dist_inv_scale(s), prev = 0;
            int64_t lim = (int64_t)(40 * sd * 256) + 300, step = lim / 5000 + 1;
            for (int64_t x = -lim; x <= lim; x += step) {
                uint64_t f = nvc_dist_cdf(d, x, s, inv);
                ck_assert_uint_ge(f, prev); /* monotone */
                ck_assert_uint_le(f, 1ull << 32);
                ck_assert_uint_eq(f + nvc_dist_cdf(d, -x, s, inv), 1ull << 32); /* symmetric */
                prev = f;
                double z = x / 256.0 / sd, ref;
                if (d == NVC_DENSITY_GAUSSIAN)
                    ref = 0.5 * erfc(-z / sqrt(2.0));
                else
                    ref = z < 0 ? 0.5 * exp(z) : 1 - 0.5 * exp(-z);
                ck_assert_msg(fabs(f / 4294967296.0 - ref) < 2e-6, "d %d s %g x %lld: %.9f vs %.9f", d, sd,
                              (long long)x, f / 4294967296.0, ref);
            }
            ck_assert_uint_eq(nvc_dist_cdf(d, 0, s, inv), 1ull << 31);
        }
}
END_TEST

START_TEST(test_scale_table)
{
    NvcScaleTable t;
    nvc_scale_table_default(&t);
    ck_assert_uint_eq(t.n, 64);
    ck_assert(fabs(t.scale_q16[0] / 65536.0 - 0.11) < 1e-4);
    ck_assert_uint_eq(t.scale_q16[63], 256u << 16);
    for (uint32_t j = 0; j < t.n; j++) {
        double ref = exp(log(0.11) + j * (log(256.0) - log(0.11)) / 63);
        ck_assert_msg(fabs(t.scale_q16[j] / 65536.0 / ref - 1) < 2e-4, "scale %u", j);
        if (j)
            ck_assert_uint_gt(t.scale_q16[j], t.scale_q16[j - 1]);
        ck_assert_uint_eq(nvc_scale_table_index(&t, t.scale_q16[j]), j);
        if (j < t.n - 1)
            ck_assert_uint_eq(nvc_scale_table_index(&t, t.scale_q16[j] + 1), j + 1);
    }
    ck_assert_uint_eq(nvc_scale_table_index(&t, 0), 0);
    ck_assert_uint_eq(nvc_scale_table_index(&t, UINT32_MAX), 63);
    /* a finer DCVC-like table */
    ck_assert_int_eq(nvc_scale_table_init(&t, 256, -208694, 6 << 16), 0);
    ck_assert_uint_eq(t.scale_q16[255], 64u << 16);
    ck_assert_int_eq(nvc_scale_table_init(&t, 1, 0, 1 << 16), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_scale_table_init(&t, 257, 0, 1 << 16), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_scale_table_init(&t, 64, 0, 0), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_scale_table_init(&t, 64, -(17 << 16), 0), NVC_ERR(EINVAL)); /* below 2^-16 */
    ck_assert_int_eq(nvc_scale_table_init(&t, 200, 0, 1), NVC_ERR(EINVAL));        /* duplicates */
    /* float rules */
    ck_assert_uint_eq(nvc_dist_scale_from_float(1.0f), 65536);
    ck_assert_uint_eq(nvc_dist_scale_from_float(0.0f), 1);
    ck_assert_uint_eq(nvc_dist_scale_from_float(-3.0f), 1);
    ck_assert_uint_eq(nvc_dist_scale_from_float(1e30f), UINT32_MAX);
    ck_assert_uint_eq(nvc_dist_scale_from_float(NAN), UINT32_MAX);
    ck_assert_int_eq(nvc_dist_mean_from_float(-1.5f), -384);
    ck_assert_int_eq(nvc_dist_mean_from_float(0.001953125f), 1); /* half a step rounds away */
    ck_assert_int_eq(nvc_dist_mean_from_float(-0.001953125f), -1);
    ck_assert_int_eq(nvc_dist_mean_from_float(1e30f), INT32_MAX);
    ck_assert_int_eq(nvc_dist_mean_from_float(-1e30f), INT32_MIN);
}
END_TEST

/* ---- quantisation and lookups --------------------------------------------------- */

static void check_freq(const uint32_t *f, uint32_t n, uint32_t total)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_ge(f[i], 1);
        sum += f[i];
    }
    ck_assert_uint_eq(sum, total);
}

START_TEST(test_quantize_extremes)
{
    TestRng r = { 11 };
    uint64_t *w = malloc(65536 * sizeof(*w));
    uint32_t *f = malloc(65536 * sizeof(*f)), *g = malloc(65536 * sizeof(*g));
    static const uint32_t sizes[] = { 1, 2, 3, 17, 255, 4096, 65535, 65536 };
    for (size_t si = 0; si < NVC_ARRAY_SIZE(sizes); si++) {
        uint32_t n = sizes[si];
        for (int kind = 0; kind < 5; kind++) {
            for (uint32_t i = 0; i < n; i++) {
                switch (kind) {
                case 0: w[i] = trng_u64(&r) >> 34; break;             /* random */
                case 1: w[i] = 0; break;                                /* all zero */
                case 2: w[i] = i == n / 2 ? (1ull << 46) : 1; break;    /* one spike */
                case 3: w[i] = i % 97 ? 0 : trng_u64(&r) >> 40; break;  /* sparse */
                default: w[i] = 1ull << 30; break;                      /* uniform */
                }
            }
            ck_assert_int_eq(nvc_cdf_quantize(w, n, f), 0);
            check_freq(f, n, NVC_CDF_TOTAL);
            ck_assert_int_eq(nvc_cdf_quantize(w, n, g), 0); /* deterministic */
            ck_assert_int_eq(memcmp(f, g, n * sizeof(*f)), 0);
            if (kind == 0 && n <= 4096) {
                /* close to proportional: within one unit plus the forced minimums */
                uint64_t W = 0;
                for (uint32_t i = 0; i < n; i++)
                    W += w[i];
                for (uint32_t i = 0; i < n; i++) {
                    double ideal = (double)w[i] * 65536.0 / (double)W;
                    ck_assert_msg(fabs(f[i] - ideal) <= 1.0 + n / 1024.0, "n %u i %u: %u vs %f", n, i, f[i], ideal);
                }
            }
        }
        for (uint32_t bits = 0; bits <= 16; bits++) {
            if (n > 1u << bits)
                continue;
            for (uint32_t i = 0; i < n; i++)
                w[i] = trng_u64(&r) >> 40;
            ck_assert_int_eq(nvc_cdf_quantize_bits(w, n, bits, f), 0);
            check_freq(f, n, 1u << bits);
        }
    }
    ck_assert_int_eq(nvc_cdf_quantize(w, 0, f), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_cdf_quantize_bits(w, 5, 2, f), NVC_ERR(EINVAL));
    w[0] = 1ull << 47;
    ck_assert_int_eq(nvc_cdf_quantize(w, 1, f), NVC_ERR(EINVAL));
    free(w);
    free(f);
    free(g);
}
END_TEST

START_TEST(test_cdf_set_lookup)
{
    TestRng r = { 5 };
    NvcCdfSet set = { 0 };
    uint64_t w[3000];
    static const uint32_t sizes[] = { 1, 2, 5, 40, 300, 3000 };
    for (size_t si = 0; si < NVC_ARRAY_SIZE(sizes); si++) {
        for (uint32_t i = 0; i < sizes[si]; i++)
            w[i] = trng_u64(&r) >> (28 + trng_below(&r, 36));
        ck_assert_int_eq(nvc_cdf_set_add_weights(&set, w, sizes[si] - 1, 1, -7), (int)si);
    }
    for (uint32_t t = 0; t < set.ntab; t++) {
        const uint32_t *c = nvc_cdf_table(&set, t);
        ck_assert_uint_eq(c[0], 0);
        ck_assert_uint_eq(c[set.tab[t].nsym], NVC_CDF_TOTAL);
        uint32_t s = 0;
        for (uint32_t slot = 0; slot < NVC_CDF_TOTAL; slot++) {
            while (c[s + 1] <= slot)
                s++;
            ck_assert_uint_eq(nvc_cdf_lookup(&set, &set.tab[t], slot), s);
        }
    }
    /* from a float PMF (a learned factorized density): proportional, escape takes the rest */
    float pmf[5] = { 0.1f, 0.2f, 0.4f, 0.2f, 0.05f };
    int ti = nvc_cdf_set_add_pmf(&set, pmf, 5, 1, -2);
    ck_assert_int_ge(ti, 0);
    const uint32_t *cp = nvc_cdf_table(&set, (uint32_t)ti);
    for (int i = 0; i < 5; i++)
        ck_assert(fabs((cp[i + 1] - cp[i]) / 65536.0 - pmf[i]) < 1e-4);
    ck_assert(fabs((cp[6] - cp[5]) / 65536.0 - 0.05) < 1e-4);
    pmf[1] = NAN;
    pmf[2] = -1;
    ck_assert_int_ge(nvc_cdf_set_add_pmf(&set, pmf, 5, 0, 0), 0); /* zero weights still get >= 1 */
    /* invalid tables */
    uint32_t f[3] = { 1, 2, 3 };
    ck_assert_int_eq(nvc_cdf_set_add(&set, f, 3, 0, 0), NVC_ERR(EINVAL)); /* sum */
    f[2] = NVC_CDF_TOTAL - 3;
    ck_assert_int_eq(nvc_cdf_set_add(&set, f, 3, 0, INT32_MAX - 1), NVC_ERR(EINVAL)); /* values overflow */
    ck_assert_int_ge(nvc_cdf_set_add(&set, f, 3, 0, INT32_MAX - 2), 0);
    f[0] = 0;
    f[1] = 3;
    ck_assert_int_eq(nvc_cdf_set_add(&set, f, 3, 0, 0), NVC_ERR(EINVAL)); /* zero frequency */
    nvc_cdf_set_free(&set);
}
END_TEST

/* ---- round trips --------------------------------------------------------------------- */

static NvcCondTables *cond_tables(enum NvcDensity d, uint32_t phase_bits)
{
    static NvcCondTables ct[2][5];
    static int init[2][5];
    if (!init[d][phase_bits]) {
        NvcScaleTable st;
        nvc_scale_table_default(&st);
        ck_assert_int_eq(nvc_cond_tables_init(&ct[d][phase_bits], d, &st, phase_bits), 0);
        init[d][phase_bits] = 1;
    }
    return &ct[d][phase_bits];
}

/* Encode, decode, compare; returns the payload size. */
static size_t cond_roundtrip(const NvcCondTables *ct, const int32_t *v, const uint16_t *sidx, const int32_t *mean,
                             size_t n, uint32_t nsub)
{
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_cond_encode(ct, v, sidx, mean, n, nsub, &bw), 0);
    NvcByteWriter bw2 = { 0 };
    ck_assert_int_eq(nvc_cond_encode(ct, v, sidx, mean, n, nsub, &bw2), 0);
    ck_assert_uint_eq(bw.sz, bw2.sz);
    ck_assert_int_eq(memcmp(bw.buf, bw2.buf, bw.sz), 0);
    int32_t *out = malloc(n * sizeof(*out) + 4);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_cond_decode(ct, &br, out, sidx, mean, n), 0);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out[i] == v[i], "symbol %zu: %d vs %d", i, out[i], v[i]);
    size_t sz = bw.sz;
    free(out);
    nvc_bw_free(&bw);
    nvc_bw_free(&bw2);
    return sz;
}

START_TEST(test_cond_random)
{
    TestRng r = { 100 + _i };
    enum NvcDensity d = _i & 1;
    uint32_t pb = (uint32_t)(_i / 2) % 3;
    const NvcCondTables *ct = cond_tables(d, pb);
    size_t n = 1 + trng_below(&r, 50000);
    int32_t *v = malloc(n * sizeof(*v)), *mean = malloc(n * sizeof(*mean));
    uint16_t *si = malloc(n * sizeof(*si));
    for (size_t i = 0; i < n; i++) {
        si[i] = (uint16_t)trng_below(&r, 64);
        double s = ct->scales.scale_q16[si[i]] / 65536.0;
        mean[i] = (int32_t)trng_below(&r, 1 << 16) - (1 << 15);
        double x = mean[i] / 256.0 + (d ? trng_laplace(&r) : trng_gauss(&r)) * s * (0.5 + trng_unif(&r));
        v[i] = round_to_i32(x);
        if (trng_below(&r, 1000) == 0) /* far outside every table */
            v[i] = (int32_t)trng_u64(&r);
    }
    uint32_t nsub = trng_below(&r, 4) == 0 ? 0 : 1 + trng_below(&r, 9);
    cond_roundtrip(ct, v, si, trng_below(&r, 3) ? mean : NULL, n, nsub);
    free(v);
    free(mean);
    free(si);
}
END_TEST

START_TEST(test_cond_extremes)
{
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_GAUSSIAN, 2);
    enum { N = 4096 };
    int32_t v[N], mean[N];
    uint16_t si[N];
    static const int32_t special[] = { INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1, 0, -1, 1, 65536, -65537 };
    /* tiny and huge scales, extreme values and means */
    for (int i = 0; i < N; i++) {
        si[i] = (i & 1) ? 0 : 63;
        v[i] = special[i % NVC_ARRAY_SIZE(special)];
        mean[i] = special[(i / 9) % NVC_ARRAY_SIZE(special)];
    }
    for (size_t nsub = 0; nsub < 6; nsub++)
        cond_roundtrip(ct, v, si, mean, N, (uint32_t)nsub);
    /* empty input: a 2-byte payload */
    ck_assert_uint_eq(cond_roundtrip(ct, v, si, mean, 0, 0), 2);
    ck_assert_uint_eq(cond_roundtrip(ct, v, si, mean, 0, 5), 2);
    /* one symbol, a few symbols (fewer than the lanes) */
    for (size_t n = 1; n < 9; n++)
        cond_roundtrip(ct, v, si, mean, n, 0);
    ck_assert_uint_le(cond_roundtrip(ct, (int32_t[]){ 0 }, (uint16_t[]){ 0 }, NULL, 1, 0), 2 + 4 + 8 + 4);
    /* all equal, at the table centre and far outside */
    for (int i = 0; i < N; i++) {
        v[i] = 3;
        si[i] = 20;
    }
    size_t centre = cond_roundtrip(ct, v, si, NULL, N, 1);
    for (int i = 0; i < N; i++)
        v[i] = INT32_MIN;
    size_t far = cond_roundtrip(ct, v, si, NULL, N, 1);
    ck_assert_uint_lt(centre, far);
    ck_assert_uint_le(far, N * 60 / 8); /* escape + 7 + 31 bits each */
    /* bad scale index */
    NvcByteWriter bw = { 0 };
    si[7] = 64;
    ck_assert_int_eq(nvc_cond_encode(ct, v, si, NULL, N, 0, &bw), NVC_ERR(EINVAL));
    nvc_bw_free(&bw);
}
END_TEST

START_TEST(test_ten_million)
{
    /* 10^7 symbols through per-channel tables (factorized prior), 80 sub-streams */
    size_t n = 10 * 1000 * 1000, run = n / 10;
    NvcCdfSet set = { 0 };
    for (int c = 0; c < 10; c++)
        ck_assert_int_ge(nvc_dist_table_add(&set, NVC_DENSITY_GAUSSIAN, (uint32_t)(c + 1) << 15, 0), 0);
    int32_t *v = malloc(n * sizeof(*v)), *out = malloc(n * sizeof(*out));
    TestRng r = { 77 };
    for (size_t i = 0; i < n; i++)
        v[i] = (int32_t)(trng_below(&r, 2 * (uint32_t)(i / run) + 3)) - (int32_t)(i / run) - 1;
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_factorized_encode(&set, 0, v, n, run, 0, &bw), 0);
    ck_assert_uint_eq((bw.buf[0] << 8) | bw.buf[1], 77); /* ceil(10^7 / 2^17) sub-streams */
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_factorized_decode(&set, 0, &br, out, n, run), 0);
    ck_assert_int_eq(memcmp(v, out, n * sizeof(*v)), 0);
    printf("10^7 symbols (factorized, 10 channels): %zu bytes\n", bw.sz);
    nvc_bw_free(&bw);
    free(v);
    free(out);
    nvc_cdf_set_free(&set);
}
END_TEST

START_TEST(test_table_map)
{
    /* per-symbol tables and offsets, tables without escape */
    NvcCdfSet set = { 0 };
    uint32_t f2[2] = { 1, NVC_CDF_TOTAL - 1 }, f1[1] = { NVC_CDF_TOTAL };
    ck_assert_int_eq(nvc_cdf_set_add(&set, f2, 2, 0, 10), 0);
    ck_assert_int_eq(nvc_cdf_set_add(&set, f1, 1, 0, -5), 1); /* one value: costs nothing */
    ck_assert_int_ge(nvc_dist_table_add(&set, NVC_DENSITY_LAPLACE, 3 << 16, 0), 2);
    enum { N = 1000 };
    int32_t v[N], off[N], out[N];
    uint16_t tab[N];
    TestRng r = { 9 };
    for (int i = 0; i < N; i++) {
        tab[i] = (uint16_t)trng_below(&r, 3);
        off[i] = (int32_t)trng_below(&r, 1000) - 500;
        v[i] = tab[i] == 0 ? 10 + (int32_t)trng_below(&r, 2) : tab[i] == 1 ? -5 : (int32_t)trng_u64(&r);
        v[i] += tab[i] < 2 ? off[i] : 0;
    }
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_table_encode(&set, v, tab, off, N, 3, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_table_decode(&set, &br, out, tab, off, N), 0);
    ck_assert_int_eq(memcmp(v, out, sizeof(v)), 0);
    /* a value outside a table without escape cannot be coded */
    v[3] = 12 + off[3];
    tab[3] = 0;
    bw.sz = 0;
    ck_assert_int_eq(nvc_table_encode(&set, v, tab, off, N, 0, &bw), NVC_ERR(EINVAL));
    tab[3] = 3;
    ck_assert_int_eq(nvc_table_encode(&set, v, tab, off, N, 0, &bw), NVC_ERR(EINVAL));
    /* offsets that push a decoded value out of int32 are corrupt, not UB */
    int32_t zero = 0, big = INT32_MAX, val = 5;
    uint16_t t2 = 2;
    bw.sz = 0;
    ck_assert_int_eq(nvc_table_encode(&set, &val, &t2, &zero, 1, 0, &bw), 0);
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_table_decode(&set, &br, out, &t2, &zero, 1), 0);
    ck_assert_int_eq(out[0], 5);
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_table_decode(&set, &br, out, &t2, &big, 1), NVC_ERR_CORRUPT);
    nvc_bw_free(&bw);
    nvc_cdf_set_free(&set);
}
END_TEST

/* ---- symbol-at-a-time coding ---------------------------------------------------------- */

START_TEST(test_writer_matches_bulk)
{
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_GAUSSIAN, 0);
    enum { N = 20000 };
    static int32_t v[N], out[N];
    static uint16_t si[N];
    TestRng r = { 3 };
    for (int i = 0; i < N; i++) {
        si[i] = (uint16_t)trng_below(&r, 64);
        v[i] = trng_below(&r, 50) ? round_to_i32(trng_gauss(&r) * ct->scales.scale_q16[si[i]] / 65536.0)
                                  : (int32_t)trng_u64(&r);
    }
    uint32_t nsub = 3;
    NvcByteWriter bulk = { 0 }, stream = { 0 };
    ck_assert_int_eq(nvc_cond_encode(ct, v, si, NULL, N, nsub, &bulk), 0);
    NvcRansWriter w;
    nvc_rans_writer_init(&w);
    for (uint32_t j = 0; j < nsub; j++) {
        for (uint64_t i = nvc_rans_substream_start(N, nsub, j); i < nvc_rans_substream_start(N, nsub, j + 1); i++)
            ck_assert_int_eq(nvc_rans_writer_put(&w, &ct->set, si[i], v[i]), 0);
        ck_assert_int_eq(nvc_rans_writer_split(&w), 0);
    }
    ck_assert_int_eq(nvc_rans_writer_finish(&w, &stream), 0);
    ck_assert_uint_eq(bulk.sz, stream.sz);
    ck_assert_int_eq(memcmp(bulk.buf, stream.buf, bulk.sz), 0);

    /* the symbol-at-a-time decoder reads it, sub-stream by sub-stream */
    NvcByteReader br;
    nvc_br_init(&br, bulk.buf, bulk.sz);
    NvcRansPayload pl;
    ck_assert_int_eq(nvc_rans_payload_open(&pl, &br, N), 0);
    ck_assert_uint_eq(pl.nsub, nsub);
    for (uint32_t j = 0; j < nsub; j++) {
        uint64_t a = nvc_rans_substream_start(N, nsub, j), b = nvc_rans_substream_start(N, nsub, j + 1);
        NvcRansDecoder d;
        ck_assert_int_eq(nvc_rans_dec_init(&d, pl.data[j], pl.size[j], b - a), 0);
        for (uint64_t i = a; i < b; i++) {
            int64_t x;
            ck_assert_int_eq(nvc_rans_dec_get(&d, &ct->set, si[i], &x), 0);
            out[i] = (int32_t)x;
        }
        ck_assert_int_eq(nvc_rans_dec_finish(&d), 0);
    }
    nvc_rans_payload_close(&pl);
    ck_assert_int_eq(memcmp(v, out, sizeof(v)), 0);
    nvc_rans_writer_free(&w);
    nvc_bw_free(&bulk);
    nvc_bw_free(&stream);
}
END_TEST

START_TEST(test_writer_mixed)
{
    /* tables, raw bits and explicit intervals interleaved in one sub-stream,
     * with the decoder choosing tables from what it decoded (adaptive use) */
    NvcCdfSet set = { 0 };
    for (int t = 0; t < 4; t++)
        ck_assert_int_ge(nvc_dist_table_add(&set, NVC_DENSITY_GAUSSIAN, (uint32_t)(t + 1) << 16, 0), 0);
    enum { N = 3000 };
    int32_t v[N];
    uint32_t bits[N];
    int nb[N];
    TestRng r = { 21 };
    NvcRansWriter w;
    nvc_rans_writer_init(&w);
    uint32_t tab = 0;
    for (int i = 0; i < N; i++) {
        v[i] = trng_below(&r, 100) ? (int32_t)trng_below(&r, 9) - 4 : INT32_MIN + (int32_t)trng_below(&r, 9);
        ck_assert_int_eq(nvc_rans_writer_put(&w, &set, tab, v[i]), 0);
        nb[i] = (int)trng_below(&r, 33);
        bits[i] = nb[i] == 32 ? (uint32_t)trng_u64(&r) : (uint32_t)trng_u64(&r) & ((1u << nb[i]) - 1);
        ck_assert_int_eq(nvc_rans_writer_put_bits(&w, bits[i], nb[i]), 0);
        ck_assert_int_eq(nvc_rans_writer_put_interval(&w, 1000 + (uint32_t)(i % 7) * 3, 3), 0);
        tab = (uint32_t)(v[i] & 3);
        if (i == N / 2)
            ck_assert_int_eq(nvc_rans_writer_split(&w), 0);
    }
    ck_assert_int_eq(nvc_rans_writer_put_bits(&w, 4, 2), NVC_ERR(EINVAL));
    /* the escape's reach: magnitudes below 2^34 on both sides (found by fuzzing) */
    const NvcCdf *t0 = &set.tab[0];
    ck_assert_int_eq(nvc_rans_writer_put(&w, &set, 0, t0->offset + (int64_t)t0->nval + (1ll << 34)), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_rans_writer_put(&w, &set, 0, t0->offset - (1ll << 34) - 1), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_rans_writer_put_interval(&w, 65535, 2), NVC_ERR(EINVAL));
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_rans_writer_finish(&w, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    NvcRansPayload pl;
    ck_assert_int_eq(nvc_rans_payload_open(&pl, &br, 3 * N), 0);
    ck_assert_uint_eq(pl.nsub, 2);
    NvcRansDecoder d;
    tab = 0;
    for (int i = 0; i < N; i++) {
        if (i == 0)
            ck_assert_int_eq(nvc_rans_dec_init(&d, pl.data[0], pl.size[0], 3 * (N / 2 + 1)), 0);
        if (i == N / 2 + 1) {
            ck_assert_int_eq(nvc_rans_dec_finish(&d), 0);
            ck_assert_int_eq(nvc_rans_dec_init(&d, pl.data[1], pl.size[1], 3 * (N - N / 2 - 1)), 0);
        }
        int64_t x;
        uint32_t b;
        ck_assert_int_eq(nvc_rans_dec_get(&d, &set, tab, &x), 0);
        ck_assert_int_eq(x, v[i]);
        ck_assert_int_eq(nvc_rans_dec_get_bits(&d, nb[i], &b), 0);
        ck_assert_uint_eq(b, bits[i]);
        uint32_t slot = nvc_rans_dec_peek(&d), start = 1000 + (uint32_t)(i % 7) * 3;
        ck_assert(slot >= start && slot < start + 3);
        ck_assert_int_eq(nvc_rans_dec_consume(&d, start, 3), 0);
        tab = (uint32_t)(x & 3);
    }
    ck_assert_int_eq(nvc_rans_dec_finish(&d), 0);
    /* reading past the declared symbols is an error */
    int64_t x;
    ck_assert_int_eq(nvc_rans_dec_get(&d, &set, 0, &x), NVC_ERR_CORRUPT);
    nvc_rans_payload_close(&pl);
    nvc_rans_writer_free(&w);
    nvc_bw_free(&bw);
    nvc_cdf_set_free(&set);
}
END_TEST

START_TEST(test_writer_escape_reach)
{
    NvcCdfSet set = { 0 };
    ck_assert_int_ge(nvc_dist_table_add(&set, NVC_DENSITY_GAUSSIAN, 1 << 16, 0), 0);
    const NvcCdf *t = &set.tab[0];
    const int64_t vals[] = { t->offset + (int64_t)t->nval + (1ll << 34) - 1, t->offset - (1ll << 34), 0, INT32_MIN,
                             t->offset - 1, t->offset + (int64_t)t->nval };
    NvcRansWriter w;
    nvc_rans_writer_init(&w);
    for (size_t i = 0; i < NVC_ARRAY_SIZE(vals); i++)
        ck_assert_int_eq(nvc_rans_writer_put(&w, &set, 0, vals[i]), 0);
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_rans_writer_finish(&w, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    NvcRansPayload pl;
    ck_assert_int_eq(nvc_rans_payload_open(&pl, &br, NVC_ARRAY_SIZE(vals)), 0);
    NvcRansDecoder d;
    ck_assert_int_eq(nvc_rans_dec_init(&d, pl.data[0], pl.size[0], NVC_ARRAY_SIZE(vals)), 0);
    for (size_t i = 0; i < NVC_ARRAY_SIZE(vals); i++) {
        int64_t x;
        ck_assert_int_eq(nvc_rans_dec_get(&d, &set, 0, &x), 0);
        ck_assert_int_eq(x, vals[i]);
    }
    ck_assert_int_eq(nvc_rans_dec_finish(&d), 0);
    nvc_rans_payload_close(&pl);
    nvc_rans_writer_free(&w);
    nvc_bw_free(&bw);
    nvc_cdf_set_free(&set);
}
END_TEST

/* ---- corrupt and truncated payloads ------------------------------------------------------ */

START_TEST(test_corrupt_payloads)
{
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_GAUSSIAN, 0);
    enum { N = 700 };
    int32_t v[N], out[N];
    uint16_t si[N];
    TestRng r = { 8 };
    /* few escapes: their raw bits pass through rANS unchanged, so a flip
     * there is a different valid payload, not a detectable error */
    for (int i = 0; i < N; i++) {
        si[i] = (uint16_t)trng_below(&r, 64);
        v[i] = trng_below(&r, 200) ? round_to_i32(trng_gauss(&r) * ct->scales.scale_q16[si[i]] / 65536.0)
                                   : (int32_t)trng_u64(&r);
    }
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_cond_encode(ct, v, si, NULL, N, 3, &bw), 0);
    NvcByteReader br;
    /* every truncation fails cleanly (the copy is exactly as long as told) */
    for (size_t len = 0; len < bw.sz; len++) {
        uint8_t *buf = malloc(len + 1);
        memcpy(buf, bw.buf, len);
        nvc_br_init(&br, buf, len);
        ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, NULL, N), NVC_ERR_CORRUPT);
        free(buf);
    }
    /* wrong symbol counts */
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, NULL, N - 1), NVC_ERR_CORRUPT);
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, NULL, 2), NVC_ERR_CORRUPT); /* 3 sub-streams > 2 */
    /* bit flips: detected almost always, never a crash */
    int detected = 0, flips = 0;
    uint8_t *buf = malloc(bw.sz);
    for (size_t pos = 0; pos < bw.sz; pos += 3)
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(buf, bw.buf, bw.sz);
            buf[pos] ^= (uint8_t)(1u << bit);
            nvc_br_init(&br, buf, bw.sz);
            int ret = nvc_cond_decode(ct, &br, out, si, NULL, N);
            ck_assert(ret == 0 || ret == NVC_ERR_CORRUPT);
            detected += ret != 0;
            flips++;
        }
    printf("corrupt payloads: %d of %d single-bit flips detected\n", detected, flips);
    ck_assert_int_ge(detected * 100, flips * 95);
    /* a payload followed by more data: the decoder consumes exactly its own bytes */
    uint8_t *ext = malloc(bw.sz + 5);
    memcpy(ext, bw.buf, bw.sz);
    memset(ext + bw.sz, 0xab, 5);
    nvc_br_init(&br, ext, bw.sz + 5);
    ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, NULL, N), 0);
    ck_assert_uint_eq(nvc_br_left(&br), 5);
    /* states outside [L, 2^63) are refused */
    memcpy(buf, bw.buf, bw.sz);
    size_t first = 2 + 3 * 4;
    buf[first + 7] = 0x80;
    nvc_br_init(&br, buf, bw.sz);
    ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, NULL, N), NVC_ERR_CORRUPT);
    free(ext);
    free(buf);
    nvc_bw_free(&bw);
}
END_TEST

START_TEST(test_random_payloads)
{
    /* pure garbage never crashes, never hangs, rarely passes the final checks */
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_LAPLACE, 1);
    TestRng r = { 1234 };
    enum { N = 64 };
    int32_t out[N];
    uint16_t si[N];
    int32_t mean[N];
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        uint8_t buf[600];
        size_t len = trng_below(&r, sizeof(buf));
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)trng_u64(&r);
        if (len >= 6 && (it & 1)) { /* a plausible header */
            buf[0] = 0;
            buf[1] = 1;
            buf[2] = buf[3] = 0;
            buf[4] = (uint8_t)((len - 6) >> 8);
            buf[5] = (uint8_t)(len - 6);
        }
        for (int i = 0; i < N; i++) {
            si[i] = (uint16_t)trng_below(&r, 64);
            mean[i] = (int32_t)trng_u64(&r);
        }
        NvcByteReader br;
        nvc_br_init(&br, buf, len);
        int ret = nvc_cond_decode(ct, &br, out, si, mean, N);
        ck_assert(ret == 0 || ret == NVC_ERR_CORRUPT);
        ok += !ret;
    }
    ck_assert_int_le(ok, 3);
}
END_TEST

/* ---- rate ------------------------------------------------------------------------------------ */

/* Per-sub-stream constant of the rate bound: 4 bytes of size, 4 flushed
 * 64-bit states (the first 31 bits of each lane's state come for free). */
#define RATE_CONST_PER_SUBSTREAM 36

static void rate_case(const char *name, const NvcCondTables *ct, const int32_t *v, const uint16_t *si,
                      const int32_t *mean, size_t n, double ideal_bits)
{
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_cond_encode(ct, v, si, mean, n, 0, &bw), 0);
    uint32_t nsub = (uint32_t)bw.buf[0] << 8 | bw.buf[1];
    double table_bits = nvc_cond_cost_bits(ct, v, si, mean, n);
    double bound = ideal_bits / 8 * 1.001 + 2 + RATE_CONST_PER_SUBSTREAM * nsub;
    printf("rate %s: %zu symbols, coded %zu bytes, ideal %.1f bytes (true prior), %.1f bytes (16-bit tables), "
           "%u sub-streams; overhead %+.4f%% vs ideal (bound %.1f bytes = ideal * 1.001 + 2 + %d * %u)\n",
           name, n, bw.sz, ideal_bits / 8, table_bits / 8, nsub, 100.0 * (bw.sz - ideal_bits / 8) / (ideal_bits / 8),
           bound, RATE_CONST_PER_SUBSTREAM, nsub);
    ck_assert_msg(bw.sz <= bound, "%s: %zu bytes above the bound %.1f", name, bw.sz, bound);
    /* the coder itself is within the constant of the tables' ideal */
    ck_assert_double_le(bw.sz, table_bits / 8 * 1.0001 + 2 + RATE_CONST_PER_SUBSTREAM * nsub);
    nvc_bw_free(&bw);
}

START_TEST(test_rate_gaussian)
{
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_GAUSSIAN, 0);
    size_t n = 1000 * 1000;
    int32_t *v = malloc(n * sizeof(*v));
    uint16_t *si = malloc(n * sizeof(*si));
    TestRng r = { 2024 };
    /* one scale (sigma = 3.05, table entry 27) */
    double ideal = 0, s = ct->scales.scale_q16[27] / 65536.0;
    for (size_t i = 0; i < n; i++) {
        si[i] = 27;
        v[i] = round_to_i32(trng_gauss(&r) * s);
        ideal -= log2(gauss_bin(v[i], 0, s));
    }
    rate_case("gaussian sigma=3.05", ct, v, si, NULL, n, ideal);
    /* every symbol its own scale, from 0.11 to 256 */
    ideal = 0;
    for (size_t i = 0; i < n; i++) {
        si[i] = (uint16_t)trng_below(&r, 64);
        s = ct->scales.scale_q16[si[i]] / 65536.0;
        v[i] = round_to_i32(trng_gauss(&r) * s);
        ideal -= log2(gauss_bin(v[i], 0, s));
    }
    rate_case("gaussian, 64 scales", ct, v, si, NULL, n, ideal);
    free(v);
    free(si);
}
END_TEST

/* ---- determinism across thread counts ----------------------------------------------------------- */

START_TEST(test_threads_same_bytes)
{
#ifdef _OPENMP
    const NvcCondTables *ct = cond_tables(NVC_DENSITY_GAUSSIAN, 1);
    size_t n = 300000;
    int32_t *v = malloc(n * sizeof(*v)), *mean = malloc(n * sizeof(*mean)), *out = malloc(n * sizeof(*out));
    uint16_t *si = malloc(n * sizeof(*si));
    TestRng r = { 55 };
    for (size_t i = 0; i < n; i++) {
        si[i] = (uint16_t)trng_below(&r, 64);
        mean[i] = (int32_t)trng_below(&r, 4096) - 2048;
        v[i] = round_to_i32(mean[i] / 256.0 + trng_gauss(&r) * ct->scales.scale_q16[si[i]] / 65536.0);
    }
    int saved = omp_get_max_threads();
    NvcByteWriter bw[3] = { { 0 } };
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t + 1);
        ck_assert_int_eq(nvc_cond_encode(ct, v, si, mean, n, 16, &bw[t]), 0);
        NvcByteReader br;
        nvc_br_init(&br, bw[t].buf, bw[t].sz);
        memset(out, 0, n * sizeof(*out));
        ck_assert_int_eq(nvc_cond_decode(ct, &br, out, si, mean, n), 0);
        ck_assert_int_eq(memcmp(out, v, n * sizeof(*v)), 0);
    }
    omp_set_num_threads(saved);
    for (int t = 1; t < 3; t++) {
        ck_assert_uint_eq(bw[t].sz, bw[0].sz);
        ck_assert_int_eq(memcmp(bw[t].buf, bw[0].buf, bw[0].sz), 0);
    }
    for (int t = 0; t < 3; t++)
        nvc_bw_free(&bw[t]);
    free(v);
    free(mean);
    free(out);
    free(si);
#endif
}
END_TEST

static Suite *entropy_suite(void)
{
    Suite *s = suite_create("entropy");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_tables_regenerate);
    tcase_add_test(tc, test_dist_cdf_accuracy);
    tcase_add_test(tc, test_scale_table);
    tcase_add_test(tc, test_quantize_extremes);
    tcase_add_test(tc, test_cdf_set_lookup);
    suite_add_tcase(s, tc);
    tc = tcase_create("coder");
    tcase_add_loop_test(tc, test_cond_random, 0, 12);
    tcase_add_test(tc, test_cond_extremes);
    tcase_add_test(tc, test_ten_million);
    tcase_add_test(tc, test_table_map);
    tcase_add_test(tc, test_writer_matches_bulk);
    tcase_add_test(tc, test_writer_mixed);
    tcase_add_test(tc, test_writer_escape_reach);
    tcase_add_test(tc, test_corrupt_payloads);
    tcase_add_test(tc, test_random_payloads);
    tcase_add_test(tc, test_rate_gaussian);
    tcase_add_test(tc, test_threads_same_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(entropy_suite());
}
