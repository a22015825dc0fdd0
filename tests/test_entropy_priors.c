/*
 * Entropy priors: Gaussian mixtures, vector-quantisation codebooks
 * (multivariate mixture), adaptive coding of integer tensors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"
#include "tests/entropy_common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include "codec/internal.h"
#include "entropy/adaptive.h"
#include "entropy/codebook.h"
#include "entropy/coder.h"
#include "entropy/gmm.h"

/* ---- Gaussian mixtures ---------------------------------------------------------------- */

typedef struct GmmCase {
    NvcScaleTable st;
    NvcGmmParams p;
    uint32_t *w;
    int32_t *mu;
    uint16_t *si;
    int32_t *v;
    double ideal; /* bits under the true (double) mixture */
} GmmCase;

static double mix_bin(const GmmCase *g, size_t i, double v)
{
    double p = 0;
    for (uint32_t c = 0; c < g->p.k; c++) {
        double w = g->w[i * g->p.k + c] / 65536.0, mu = g->mu[i * g->p.k + c] / 256.0;
        double s = g->st.scale_q16[g->si[i * g->p.k + c]] / 65536.0;
        if (g->p.density == NVC_DENSITY_GAUSSIAN) {
            p += w * gauss_bin(v, mu, s);
        } else {
            double a = v - 0.5 - mu, b = v + 0.5 - mu;
            double fa = a < 0 ? 0.5 * exp(a / s) : 1 - 0.5 * exp(-a / s);
            double fb = b < 0 ? 0.5 * exp(b / s) : 1 - 0.5 * exp(-b / s);
            p += w * (fb - fa);
        }
    }
    return p;
}

/* Random mixture parameters per symbol and samples drawn from them. */
static void gmm_case(GmmCase *g, TestRng *r, size_t n, uint32_t k, enum NvcDensity d, int max_sidx)
{
    nvc_scale_table_default(&g->st);
    g->w = malloc(n * k * sizeof(*g->w));
    g->mu = malloc(n * k * sizeof(*g->mu));
    g->si = malloc(n * k * sizeof(*g->si));
    g->v = malloc(n * sizeof(*g->v));
    g->p = (NvcGmmParams){ k, d, &g->st, g->w, g->mu, g->si };
    g->ideal = 0;
    for (size_t i = 0; i < n; i++) {
        float fw[NVC_GMM_MAX_K];
        for (uint32_t c = 0; c < k; c++) {
            fw[c] = (float)trng_unif(r);
            g->mu[i * k + c] = (int32_t)trng_below(r, 20 * 256) - 10 * 256;
            g->si[i * k + c] = (uint16_t)trng_below(r, (uint32_t)max_sidx + 1);
        }
        nvc_gmm_weights_from_float(fw, k, g->w + i * k);
        /* sample: pick a component by weight, then the density */
        uint32_t u = trng_below(r, 65536), c = 0, acc = g->w[i * k];
        while (u >= acc && c + 1 < k)
            acc += g->w[i * k + ++c];
        double s = g->st.scale_q16[g->si[i * k + c]] / 65536.0;
        g->v[i] = round_to_i32(g->mu[i * k + c] / 256.0 + s * (d ? trng_laplace(r) : trng_gauss(r)));
        g->ideal -= log2(mix_bin(g, i, g->v[i]));
    }
}

static void gmm_free(GmmCase *g)
{
    free(g->w);
    free(g->mu);
    free(g->si);
    free(g->v);
}

static size_t gmm_roundtrip(const NvcGmmParams *p, const int32_t *v, size_t n, uint32_t nsub)
{
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_gmm_encode(p, v, n, nsub, &bw), 0);
    int32_t *out = malloc(n * sizeof(*out) + 4);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_gmm_decode(p, &br, out, n), 0);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out[i] == v[i], "symbol %zu: %d vs %d", i, out[i], v[i]);
    /* every truncation is refused */
    for (size_t len = 0; len < bw.sz && len < 300; len += 1 + len / 16) {
        nvc_br_init(&br, bw.buf, len);
        ck_assert_int_eq(nvc_gmm_decode(p, &br, out, n), NVC_ERR_CORRUPT);
    }
    free(out);
    size_t sz = bw.sz;
    nvc_bw_free(&bw);
    return sz;
}

START_TEST(test_gmm_roundtrip)
{
    TestRng r = { 300 + _i };
    uint32_t k = 1 + (uint32_t)_i % NVC_GMM_MAX_K;
    enum NvcDensity d = (_i / NVC_GMM_MAX_K) & 1;
    GmmCase g;
    size_t n = 2000 + trng_below(&r, 3000);
    gmm_case(&g, &r, n, k, d, 63);
    /* extreme values now and then */
    for (size_t i = 0; i < n; i += 97)
        g.v[i] = (int32_t)trng_u64(&r);
    g.v[1] = INT32_MIN;
    g.v[2] = INT32_MAX;
    gmm_roundtrip(&g.p, g.v, n, _i % 4);
    gmm_free(&g);
}
END_TEST

START_TEST(test_gmm_extremes)
{
    NvcScaleTable st;
    nvc_scale_table_default(&st);
    enum { N = 64, K = 3 };
    uint32_t w[N * K];
    int32_t mu[N * K], v[N];
    uint16_t si[N * K];
    /* components far apart (range clipped), weights 0 / 2^16, extreme means */
    for (int i = 0; i < N; i++) {
        w[i * K] = i % 2 ? 65536 : 1;
        w[i * K + 1] = i % 2 ? 0 : 65535;
        w[i * K + 2] = 0;
        mu[i * K] = INT32_MIN + i;
        mu[i * K + 1] = INT32_MAX - i;
        mu[i * K + 2] = 0;
        si[i * K] = (uint16_t)(i % 64);
        si[i * K + 1] = 63;
        si[i * K + 2] = 0;
        v[i] = i % 3 == 0 ? INT32_MIN : i % 3 == 1 ? INT32_MAX : 0;
    }
    NvcGmmParams p = { K, NVC_DENSITY_GAUSSIAN, &st, w, mu, si };
    for (uint32_t nsub = 0; nsub < 4; nsub++)
        gmm_roundtrip(&p, v, N, nsub);
    p.density = NVC_DENSITY_LAPLACE;
    gmm_roundtrip(&p, v, N, 0);
    gmm_roundtrip(&p, v, 1, 0);
    ck_assert_uint_eq(gmm_roundtrip(&p, v, 0, 0), 2);
    /* bad parameters */
    NvcByteWriter bw = { 0 };
    w[5 * K] = 3;
    ck_assert_int_eq(nvc_gmm_encode(&p, v, N, 0, &bw), NVC_ERR(EINVAL));
    w[5 * K] = 65536;
    si[7 * K + 2] = 64;
    ck_assert_int_eq(nvc_gmm_encode(&p, v, N, 0, &bw), NVC_ERR(EINVAL));
    si[7 * K + 2] = 0;
    p.k = 0;
    ck_assert_int_eq(nvc_gmm_encode(&p, v, N, 0, &bw), NVC_ERR(EINVAL));
    p.k = NVC_GMM_MAX_K + 1;
    ck_assert_int_eq(nvc_gmm_encode(&p, v, N, 0, &bw), NVC_ERR(EINVAL));
    nvc_bw_free(&bw);
}
END_TEST

START_TEST(test_gmm_rate)
{
    /* 2 * 10^5 symbols from their true 3-component mixtures (scales up to 9.2) */
    TestRng r = { 42 };
    GmmCase g;
    size_t n = 200000;
    gmm_case(&g, &r, n, 3, NVC_DENSITY_GAUSSIAN, 36);
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_gmm_encode(&g.p, g.v, n, 0, &bw), 0);
    double est = nvc_gmm_cost_bits(&g.p, g.v, n);
    uint32_t nsub = (uint32_t)bw.buf[0] << 8 | bw.buf[1];
    printf("rate gmm K=3: %zu symbols, coded %zu bytes, ideal %.1f bytes (true mixture), %.1f bytes (fixed-point "
           "CDF); overhead %+.4f%%\n",
           n, bw.sz, g.ideal / 8, est / 8, 100.0 * (bw.sz - g.ideal / 8) / (g.ideal / 8));
    ck_assert_double_le(bw.sz, g.ideal / 8 * 1.005 + 2 + 36 * nsub);
    ck_assert_double_le(bw.sz, est / 8 * 1.0001 + 2 + 36 * nsub);
    /* K = 1 costs about what the static table of the same scale costs */
    gmm_free(&g);
    gmm_case(&g, &r, n, 1, NVC_DENSITY_GAUSSIAN, 40);
    NvcByteWriter b1 = { 0 };
    ck_assert_int_eq(nvc_gmm_encode(&g.p, g.v, n, 0, &b1), 0);
    ck_assert_double_le(b1.sz, g.ideal / 8 * 1.005 + 2 + 36 * nsub);
    gmm_free(&g);
    nvc_bw_free(&bw);
    nvc_bw_free(&b1);
}
END_TEST

START_TEST(test_gmm_weights_rule)
{
    uint32_t out[NVC_GMM_MAX_K];
    float w[4] = { 0.25f, 0.25f, 0.25f, 0.25f };
    nvc_gmm_weights_from_float(w, 4, out);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(out[i], 16384);
    float w3[3] = { 1, 1, 1 }; /* 21845.33 each: the remainder goes to the lowest index */
    nvc_gmm_weights_from_float(w3, 3, out);
    ck_assert_uint_eq(out[0], 21846);
    ck_assert_uint_eq(out[1], 21845);
    ck_assert_uint_eq(out[2], 21845);
    float wz[2] = { 0, NAN };
    nvc_gmm_weights_from_float(wz, 2, out);
    ck_assert_uint_eq(out[0], 65536);
    ck_assert_uint_eq(out[1], 0);
    float wn[3] = { -1, 2, 1e-9f };
    nvc_gmm_weights_from_float(wn, 3, out);
    ck_assert_uint_eq(out[0] + out[1] + out[2], 65536);
    ck_assert_uint_eq(out[0], 0);
}
END_TEST

/* ---- codebooks ------------------------------------------------------------------------------ */

/* n vectors of C = groups * dim channels around `centres` cluster centres. */
static float *clustered(TestRng *r, size_t n, uint32_t C, uint32_t centres, float spread)
{
    float *cent = malloc((size_t)centres * C * sizeof(*cent)), *x = malloc(n * C * sizeof(*x));
    for (size_t i = 0; i < (size_t)centres * C; i++)
        cent[i] = (float)(trng_gauss(r) * 10);
    for (size_t p = 0; p < n; p++) {
        uint32_t c = trng_below(r, centres);
        for (uint32_t e = 0; e < C; e++)
            x[p * C + e] = cent[(size_t)c * C + e] + (float)(trng_gauss(r) * spread);
    }
    free(cent);
    return x;
}

static double mse(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return s / (double)n;
}

START_TEST(test_kmeans_finds_clusters)
{
    TestRng r = { 7 };
    size_t n = 4000;
    float *x = clustered(&r, n, 4, 8, 0.1f);
    float cent[8 * 4], cent2[8 * 4];
    uint64_t cnt[8];
    ck_assert_int_eq(nvc_kmeans_fit(x, n, 4, 4, 8, NULL, cent, cnt), 0);
    /* every vector close to its nearest centroid: the 8 clusters were found */
    double err = 0;
    for (size_t p = 0; p < n; p++) {
        double best = 1e30;
        for (int j = 0; j < 8; j++) {
            double d = 0;
            for (int e = 0; e < 4; e++)
                d += (x[p * 4 + e] - cent[j * 4 + e]) * (x[p * 4 + e] - cent[j * 4 + e]);
            best = d < best ? d : best;
        }
        err += best;
    }
    ck_assert_double_lt(err / n, 4 * 0.1 * 0.1 * 1.5);
    uint64_t total = 0;
    for (int j = 0; j < 8; j++) {
        ck_assert_uint_gt(cnt[j], n / 20);
        total += cnt[j];
    }
    ck_assert_uint_eq(total, n);
    /* same seed, same result; other seed, a valid result too */
    ck_assert_int_eq(nvc_kmeans_fit(x, n, 4, 4, 8, NULL, cent2, NULL), 0);
    ck_assert_int_eq(memcmp(cent, cent2, sizeof(cent)), 0);
    /* fewer vectors than clusters, identical vectors */
    float same[3 * 2] = { 1, 2, 1, 2, 1, 2 };
    ck_assert_int_eq(nvc_kmeans_fit(same, 3, 2, 2, 5, NULL, cent, cnt), 0);
    for (int j = 0; j < 5; j++)
        ck_assert(cent[j * 2] == 1.0f && cent[j * 2 + 1] == 2.0f);
    ck_assert_int_eq(nvc_kmeans_fit(same, 0, 2, 2, 5, NULL, cent, cnt), NVC_ERR(EINVAL));
    free(x);
}
END_TEST

START_TEST(test_codebook_fit_code)
{
    TestRng r = { 17 };
    size_t n = 3000;
    uint32_t dim = 4, groups = 3, levels = 2, k = 16, C = dim * groups;
    float *x = clustered(&r, n, C, 40, 0.5f);
    NvcCodebook cb;
    ck_assert_int_eq(nvc_codebook_init(&cb, dim, groups, levels, k), 0);
    NvcKmeansOptions opt = { .seed = 3, .iterations = 20, .max_samples = 2000 };
    ck_assert_int_eq(nvc_codebook_fit(&cb, x, n, &opt), 0);
    uint16_t *idx = malloc(n * groups * levels * sizeof(*idx)), *idx2 = malloc(n * groups * levels * sizeof(*idx));
    float *rec = malloc(n * C * sizeof(*rec)), *rec2 = malloc(n * C * sizeof(*rec));
    ck_assert_int_eq(nvc_codebook_quantize(&cb, x, n, idx, rec), 0);
    nvc_codebook_reconstruct(&cb, idx, n, rec2);
    ck_assert_int_eq(memcmp(rec, rec2, n * C * sizeof(*rec)), 0);
    /* the second level lowers the error of the first */
    NvcCodebook one = cb;
    one.levels = 1;
    float *rec1 = malloc(n * C * sizeof(*rec1));
    nvc_codebook_reconstruct(&one, idx, n, rec1);
    double e1 = mse(x, rec1, n * C), e2 = mse(x, rec, n * C);
    printf("codebook 3x(4-d, 16 words) x 2 levels: mse %.4f after level 1, %.4f after level 2\n", e1, e2);
    ck_assert_double_lt(e2, e1 * 0.9);
    /* PMFs are 16-bit with every entry >= 1 */
    for (size_t b = 0; b < (size_t)groups * levels; b++) {
        uint64_t s = 0;
        for (uint32_t j = 0; j < k; j++) {
            ck_assert_uint_ge(cb.freq[b * k + j], 1);
            s += cb.freq[b * k + j];
        }
        ck_assert_uint_eq(s, 65536);
    }
    /* index coding round trip, with the PMF refitted on these indices */
    uint64_t *cnt = malloc(groups * levels * k * sizeof(*cnt));
    nvc_codebook_count(&cb, idx, n, cnt);
    ck_assert_int_eq(nvc_codebook_set_pmf(&cb, cnt), 0);
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_codebook_encode(&cb, idx, n, 0, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_codebook_decode(&cb, &br, idx2, n), 0);
    ck_assert_int_eq(memcmp(idx, idx2, n * groups * levels * sizeof(*idx)), 0);
    ck_assert_uint_lt(bw.sz, n * groups * levels * 4 / 8); /* below log2(16) = 4 bits each */
    /* serialisation round trip, then the same decode */
    NvcByteWriter cbw = { 0 };
    ck_assert_int_eq(nvc_codebook_write(&cb, &cbw), 0);
    NvcCodebook cb2;
    nvc_br_init(&br, cbw.buf, cbw.sz);
    ck_assert_int_eq(nvc_codebook_read(&cb2, &br), 0);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    ck_assert_int_eq(memcmp(cb.words, cb2.words, (size_t)levels * groups * k * dim * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(cb.freq, cb2.freq, (size_t)levels * groups * k * sizeof(uint32_t)), 0);
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_codebook_decode(&cb2, &br, idx2, n), 0);
    ck_assert_int_eq(memcmp(idx, idx2, n * groups * levels * sizeof(*idx)), 0);
    /* truncated or damaged codebooks are refused */
    nvc_codebook_free(&cb2);
    for (size_t len = 0; len < cbw.sz; len += 1 + len / 8) {
        nvc_br_init(&br, cbw.buf, len);
        ck_assert_int_eq(nvc_codebook_read(&cb2, &br), NVC_ERR_CORRUPT);
        ck_assert_ptr_null(cb2.words); /* nothing left allocated */
    }
    uint8_t *bad = malloc(cbw.sz);
    memcpy(bad, cbw.buf, cbw.sz);
    memset(bad + cbw.sz - 2 * (k - 1), 0xff, 2 * (k - 1)); /* frequencies above 2^16 */
    nvc_br_init(&br, bad, cbw.sz);
    ck_assert_int_eq(nvc_codebook_read(&cb2, &br), NVC_ERR_CORRUPT);
    memcpy(bad, cbw.buf, cbw.sz);
    bad[9] = 0x7f;
    bad[10] = 0xc0; /* first word NaN */
    nvc_br_init(&br, bad, cbw.sz);
    ck_assert_int_eq(nvc_codebook_read(&cb2, &br), NVC_ERR_CORRUPT);
    memcpy(bad, cbw.buf, cbw.sz);
    bad[5] = 0x7f; /* k = 2^30-ish: more than the data */
    nvc_br_init(&br, bad, cbw.sz);
    ck_assert_int_eq(nvc_codebook_read(&cb2, &br), NVC_ERR_CORRUPT);
    free(bad);
    free(x);
    free(idx);
    free(idx2);
    free(rec);
    free(rec1);
    free(rec2);
    free(cnt);
    nvc_bw_free(&bw);
    nvc_bw_free(&cbw);
    nvc_codebook_free(&cb);
}
END_TEST

START_TEST(test_codebook_threads_deterministic)
{
#ifdef _OPENMP
    TestRng r = { 23 };
    size_t n = 6000;
    float *x = clustered(&r, n, 8, 30, 1.0f);
    NvcCodebook cb[2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        ck_assert_int_eq(nvc_codebook_init(&cb[t], 4, 2, 2, 32), 0);
        ck_assert_int_eq(nvc_codebook_fit(&cb[t], x, n, NULL), 0);
    }
    omp_set_num_threads(saved);
    ck_assert_int_eq(memcmp(cb[0].words, cb[1].words, 2 * 2 * 32 * 4 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(cb[0].freq, cb[1].freq, 2 * 2 * 32 * sizeof(uint32_t)), 0);
    nvc_codebook_free(&cb[0]);
    nvc_codebook_free(&cb[1]);
    free(x);
#endif
}
END_TEST

START_TEST(test_codebook_extremes)
{
    NvcCodebook cb;
    ck_assert_int_eq(nvc_codebook_init(&cb, 1, 1, 1, 1), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_codebook_init(&cb, 0, 1, 1, 2), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_codebook_init(&cb, 1, 1, 17, 2), NVC_ERR(EINVAL));
    /* the largest k: 65536 codewords of one dimension, indices up to 65535 */
    ck_assert_int_eq(nvc_codebook_init(&cb, 1, 1, 1, 65536), 0);
    uint16_t idx[5] = { 0, 65535, 7, 65535, 0 }, out[5];
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_codebook_encode(&cb, idx, 5, 0, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_codebook_decode(&cb, &br, out, 5), 0);
    ck_assert_int_eq(memcmp(idx, out, sizeof(idx)), 0);
    /* no positions */
    bw.sz = 0;
    ck_assert_int_eq(nvc_codebook_encode(&cb, idx, 0, 0, &bw), 0);
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_codebook_decode(&cb, &br, out, 0), 0);
    nvc_bw_free(&bw);
    nvc_codebook_free(&cb);
}
END_TEST

/* ---- adaptive tensors ------------------------------------------------------------------------- */

static size_t adaptive_roundtrip(const int32_t *v, size_t n, enum NvcAdaptiveMode *mode)
{
    NvcByteWriter bw = { 0 }, bw2 = { 0 };
    ck_assert_int_eq(nvc_adaptive_encode(v, n, 0, &bw, mode), 0);
    ck_assert_int_eq(nvc_adaptive_encode(v, n, 0, &bw2, NULL), 0);
    ck_assert_uint_eq(bw.sz, bw2.sz);
    ck_assert_int_eq(memcmp(bw.buf, bw2.buf, bw.sz), 0);
    ck_assert_uint_eq(bw.buf[0], *mode);
    int32_t *out = malloc(n * sizeof(*out) + 4);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    NvcAdaptiveParams p;
    ck_assert_int_eq(nvc_adaptive_decode(&br, out, n, &p), 0);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    ck_assert_int_eq(memcmp(v, out, n * sizeof(*v)), 0);
    /* the parameters read back re-encode to the same bytes */
    bw2.sz = 0;
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, n, 0, &bw2), 0);
    ck_assert_uint_eq(bw.sz, bw2.sz);
    ck_assert_int_eq(memcmp(bw.buf, bw2.buf, bw.sz), 0);
    /* the choice is the cheapest: no other mode with these statistics beats it */
    for (size_t len = 0; len < bw.sz && len < 400; len += 1 + len / 16) {
        nvc_br_init(&br, bw.buf, len);
        ck_assert_int_eq(nvc_adaptive_decode(&br, out, n, NULL), NVC_ERR_CORRUPT);
    }
    nvc_adaptive_params_free(&p);
    free(out);
    size_t sz = bw.sz;
    nvc_bw_free(&bw);
    nvc_bw_free(&bw2);
    return sz;
}

static size_t size_with(const NvcAdaptiveParams *p, const int32_t *v, size_t n)
{
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_adaptive_encode_with(p, v, n, 0, &bw), 0);
    size_t sz = bw.sz;
    nvc_bw_free(&bw);
    return sz;
}

START_TEST(test_adaptive_modes)
{
    TestRng r = { 99 };
    size_t n = 100000;
    int32_t *v = malloc(n * sizeof(*v));
    enum NvcAdaptiveMode mode;

    /* Gaussian weights, small tensor: parametric beats a histogram's cost */
    for (size_t i = 0; i < 300; i++)
        v[i] = round_to_i32(trng_gauss(&r) * 12);
    size_t s_small = adaptive_roundtrip(v, 300, &mode);
    ck_assert_int_eq(mode, NVC_ADAPTIVE_GAUSSIAN);
    NvcAdaptiveParams raw = { .mode = NVC_ADAPTIVE_RAW, .min = -100, .raw_bits = 8 };
    ck_assert_uint_lt(s_small, size_with(&raw, v, 300));

    /* Laplace weights (a few thousand: below that the two shapes often tie
     * to the 4-byte word) */
    for (size_t i = 0; i < 5000; i++)
        v[i] = round_to_i32(trng_laplace(&r) * 6);
    adaptive_roundtrip(v, 5000, &mode);
    ck_assert_int_eq(mode, NVC_ADAPTIVE_LAPLACE);

    /* a bimodal 8-bit tensor, large: only a histogram fits it */
    for (size_t i = 0; i < n; i++)
        v[i] = round_to_i32((trng_below(&r, 2) ? 60 : -60) + trng_gauss(&r) * 5);
    size_t s_hist = adaptive_roundtrip(v, n, &mode);
    ck_assert_int_eq(mode, NVC_ADAPTIVE_HIST);
    NvcAdaptiveParams g = { .mode = NVC_ADAPTIVE_GAUSSIAN, .mean_q8 = 0, .scale_q16 = 60 << 16 };
    ck_assert_uint_lt(s_hist, size_with(&g, v, n));

    /* uniform bytes: raw bits (a histogram cannot win) */
    for (size_t i = 0; i < n; i++)
        v[i] = (int32_t)trng_below(&r, 256);
    size_t s_raw = adaptive_roundtrip(v, n, &mode);
    ck_assert_uint_le(s_raw, n + 6);

    /* constant, empty, one value, the int32 extremes */
    for (size_t i = 0; i < n; i++)
        v[i] = -7;
    ck_assert_uint_eq(adaptive_roundtrip(v, n, &mode), 5);
    ck_assert_int_eq(mode, NVC_ADAPTIVE_CONST);
    ck_assert_uint_eq(adaptive_roundtrip(v, 0, &mode), 5);
    ck_assert_uint_eq(adaptive_roundtrip(v, 1, &mode), 5);
    for (size_t i = 0; i < 1000; i++)
        v[i] = i % 3 == 0 ? INT32_MIN : i % 3 == 1 ? INT32_MAX : 0;
    adaptive_roundtrip(v, 1000, &mode);
    /* Gaussian with rare huge outliers: escapes, not 32-bit raw values */
    for (size_t i = 0; i < n; i++)
        v[i] = trng_below(&r, 10000) ? round_to_i32(trng_gauss(&r) * 3) : (int32_t)trng_u64(&r);
    size_t s_out = adaptive_roundtrip(v, n, &mode);
    ck_assert(mode == NVC_ADAPTIVE_GAUSSIAN || mode == NVC_ADAPTIVE_LAPLACE);
    ck_assert_uint_lt(s_out, n * 37 / 80 + 1000); /* entropy of sigma = 3: 3.63 bits */
    free(v);
}
END_TEST

START_TEST(test_adaptive_bad_params)
{
    int32_t v[4] = { 1, 2, 3, 4 }, out[4];
    NvcByteWriter bw = { 0 };
    uint32_t f[3] = { 1, 1, 2 };
    NvcAdaptiveParams p = { .mode = NVC_ADAPTIVE_HIST, .min = 1, .nval = 3, .hist_bits = 2, .freq = f };
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 4, 0, &bw), NVC_ERR(EINVAL)); /* 4 outside */
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 3, 0, &bw), 0);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    ck_assert_int_eq(nvc_adaptive_decode(&br, out, 3, NULL), 0);
    ck_assert_int_eq(memcmp(v, out, 3 * sizeof(*v)), 0);
    f[2] = 3;
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 3, 0, &bw), NVC_ERR(EINVAL)); /* sum */
    p = (NvcAdaptiveParams){ .mode = NVC_ADAPTIVE_RAW, .min = 1, .raw_bits = 1 };
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 4, 0, &bw), NVC_ERR(EINVAL));
    p = (NvcAdaptiveParams){ .mode = NVC_ADAPTIVE_GAUSSIAN, .scale_q16 = 0 };
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 4, 0, &bw), NVC_ERR(EINVAL));
    p = (NvcAdaptiveParams){ .mode = NVC_ADAPTIVE_CONST, .min = 1 };
    ck_assert_int_eq(nvc_adaptive_encode_with(&p, v, 4, 0, &bw), NVC_ERR(EINVAL));
    /* unknown mode bytes and bad headers are corrupt */
    static const uint8_t bad[][12] = {
        { 5 },
        { 1, 0, 0, 0, 0, 0, 0, 0, 4, 2, 0 },     /* 5 values at 2 bits */
        { 1, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0 },    /* precision 17 */
        { 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 16 },    /* order 16 */
        { 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0x01 }, /* frequency code runs out */
        { 4, 0, 0, 0, 0, 33 },                   /* 33 raw bits */
        { 2, 0, 0, 0, 0, 0, 0, 0, 0 },           /* scale 0 */
        { 4, 0x7f, 0xff, 0xff, 0xff, 1, 0x80 },  /* INT32_MAX + 1 */
    };
    static const size_t len[] = { 1, 11, 11, 11, 12, 6, 9, 7 };
    for (size_t i = 0; i < NVC_ARRAY_SIZE(len); i++) {
        nvc_br_init(&br, bad[i], len[i]);
        ck_assert_msg(nvc_adaptive_decode(&br, out, 2, NULL) == NVC_ERR_CORRUPT, "case %zu", i);
    }
    nvc_bw_free(&bw);
}
END_TEST

static Suite *priors_suite(void)
{
    Suite *s = suite_create("entropy-priors");
    TCase *tc = tcase_create("gmm");
    tcase_add_loop_test(tc, test_gmm_roundtrip, 0, 2 * NVC_GMM_MAX_K);
    tcase_add_test(tc, test_gmm_extremes);
    tcase_add_test(tc, test_gmm_rate);
    tcase_add_test(tc, test_gmm_weights_rule);
    suite_add_tcase(s, tc);
    tc = tcase_create("codebook");
    tcase_add_test(tc, test_kmeans_finds_clusters);
    tcase_add_test(tc, test_codebook_fit_code);
    tcase_add_test(tc, test_codebook_threads_deterministic);
    tcase_add_test(tc, test_codebook_extremes);
    suite_add_tcase(s, tc);
    tc = tcase_create("adaptive");
    tcase_add_test(tc, test_adaptive_modes);
    tcase_add_test(tc, test_adaptive_bad_params);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(priors_suite());
}
