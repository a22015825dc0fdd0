/*
 * nvc-rd's Bjontegaard deltas on curves with known answers: published
 * examples (VCEG-M33, ETRO's 9-point least-squares case, the FAU-LMS PCHIP
 * example), values computed independently in exact rational arithmetic by
 * tests/rd_bd_reference.py, and synthetic curves whose BD-rate follows
 * from their construction.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>

#include "tests/common.h"
#include "tools/rd/bd.h"

/* VCEG-M33's example (kbit/s, PSNR dB). */
static const double vceg_ra[] = { 90.33, 181.03, 332.99, 547.79 };
static const double vceg_qa[] = { 27.95, 31.17, 34.44, 38.11 };
static const double vceg_rt[] = { 127.1719, 186.14, 307.2924, 481.5588 };
static const double vceg_qt[] = { 29.9286, 32.4165, 34.7013, 37.4561 };

/* ETRO/VUB 9-point curves (barb512; least-squares cubic). */
static const double etro_ra[] = { 2.99899, 1.99884, 1.49673, 0.99707, 0.745941, 0.596436,
                                  0.495148, 0.29425, 0.244049 };
static const double etro_qa[] = { 48.6681, 43.8357, 41.3982, 38.0124, 35.5122, 33.8673,
                                  32.6658, 29.4505, 28.484 };
static const double etro_rt[] = { 2.997253, 1.968292, 1.472565, 0.994965, 0.748871, 0.58902,
                                  0.499176, 0.296753, 0.249634 };
static const double etro_qt[] = { 48.5637, 43.7318, 41.2727, 38.0001, 35.6375, 33.9057,
                                  32.8318, 29.6851, 28.8244 };

/* FAU-LMS bjontegaard package example (x265 presets). */
static const double fau_ra[] = { 9487.76, 4593.60, 2486.44, 1358.24 };
static const double fau_qa[] = { 40.037, 38.615, 36.845, 34.851 };
static const double fau_rt[] = { 9787.80, 4469.00, 2451.52, 1356.24 };
static const double fau_qt[] = { 40.121, 38.651, 36.970, 34.987 };

/* Non-monotone local slopes (exercises the PCHIP limiter). */
static const double wig_ra[] = { 0.05, 0.1, 0.2, 0.4, 0.8 };
static const double wig_qa[] = { 30.0, 33.5, 34.0, 37.5, 39.0 };
static const double wig_rt[] = { 0.04, 0.09, 0.21, 0.35, 0.9 };
static const double wig_qt[] = { 30.5, 33.0, 35.2, 36.9, 39.6 };

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static double rate(const double *ra, const double *qa, int na, const double *rt, const double *qt,
                   int nt, enum RdBdMethod m)
{
    double bd;
    ck_assert_int_eq(rd_bd_rate(ra, qa, na, rt, qt, nt, m, &bd), RD_BD_OK);
    return 100 * bd;
}

static double quality(const double *ra, const double *qa, int na, const double *rt,
                      const double *qt, int nt, enum RdBdMethod m)
{
    double bd;
    ck_assert_int_eq(rd_bd_quality(ra, qa, na, rt, qt, nt, m, &bd), RD_BD_OK);
    return bd;
}

#define CHECK_NEAR(got, want, tol) \
    ck_assert_msg(fabs((got) - (want)) <= (tol), "%s = %.12f, expected %.12f", #got, (got), (want))

START_TEST(test_vceg_m33)
{
    /* Published: -13.26 % and +0.80 dB (6 decimals: ETRO's reproduction). */
    CHECK_NEAR(rate(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC), -13.261773, 5e-7);
    CHECK_NEAR(quality(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC), 0.800713, 5e-7);
    /* Exact-arithmetic reference values. */
    CHECK_NEAR(rate(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC), -13.261772993103, 1e-9);
    CHECK_NEAR(quality(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC), 0.800713183974,
               1e-10);
    CHECK_NEAR(rate(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_PCHIP), -13.292524111021, 1e-9);
    CHECK_NEAR(quality(vceg_ra, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_PCHIP), 0.809132035273,
               1e-10);
}
END_TEST

START_TEST(test_least_squares)
{
    CHECK_NEAR(rate(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_CUBIC), -0.903450483580, 1e-9);
    CHECK_NEAR(quality(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_CUBIC), 0.072296844856,
               1e-10);
    CHECK_NEAR(rate(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_PCHIP), -0.890372775705, 1e-9);
    CHECK_NEAR(quality(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_PCHIP), 0.071491344405,
               1e-10);
    /* Published 6-decimal values for this case. */
    CHECK_NEAR(rate(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_CUBIC), -0.903450, 5e-7);
    CHECK_NEAR(quality(etro_ra, etro_qa, 9, etro_rt, etro_qt, 9, RD_BD_CUBIC), 0.072297, 5e-7);
}
END_TEST

START_TEST(test_pchip_examples)
{
    /* scipy's PchipInterpolator gives -4.4174853506 % here (FAU-LMS). */
    CHECK_NEAR(rate(fau_ra, fau_qa, 4, fau_rt, fau_qt, 4, RD_BD_PCHIP), -4.4174853506, 1e-9);
    CHECK_NEAR(quality(fau_ra, fau_qa, 4, fau_rt, fau_qt, 4, RD_BD_PCHIP), 0.119692785425, 1e-10);
    CHECK_NEAR(rate(fau_ra, fau_qa, 4, fau_rt, fau_qt, 4, RD_BD_CUBIC), -4.420462706168, 1e-9);
    CHECK_NEAR(quality(fau_ra, fau_qa, 4, fau_rt, fau_qt, 4, RD_BD_CUBIC), 0.120409419115, 1e-10);
    CHECK_NEAR(rate(wig_ra, wig_qa, 5, wig_rt, wig_qt, 5, RD_BD_PCHIP), -8.220593442167, 1e-9);
    CHECK_NEAR(quality(wig_ra, wig_qa, 5, wig_rt, wig_qt, 5, RD_BD_PCHIP), 0.270518278448, 1e-10);
    CHECK_NEAR(rate(wig_ra, wig_qa, 5, wig_rt, wig_qt, 5, RD_BD_CUBIC), -10.845104177031, 1e-9);
    CHECK_NEAR(quality(wig_ra, wig_qa, 5, wig_rt, wig_qt, 5, RD_BD_CUBIC), 0.362427864022, 1e-10);
}
END_TEST

START_TEST(test_constant_factor)
{
    /* The test curve needs k times the anchor's bits at every quality:
     * BD-rate is exactly k - 1 with either interpolant. */
    static const double factors[] = { 1.25, 0.5, 0.8, 2.0 };
    double q[6], r[6], rk[6];
    for (int i = 0; i < 6; i++) {
        q[i] = 29.5 + 2.3 * i + 0.1 * i * i;
        r[i] = 0.02 * exp(0.23 * (q[i] - 30) + 0.004 * pow(q[i] - 33, 3));
    }
    for (int f = 0; f < N(factors); f++) {
        for (int i = 0; i < 6; i++)
            rk[i] = factors[f] * r[i];
        for (int m = 0; m < 2; m++) {
            for (int n = 4; n <= 6; n++)
                CHECK_NEAR(rate(r, q, n, rk, q, n, (enum RdBdMethod)m), 100 * (factors[f] - 1),
                           1e-9);
        }
    }
}
END_TEST

START_TEST(test_shifted_quality)
{
    /* The same rates, every quality +0.5 dB: BD-quality is exactly +0.5. */
    double q2[5];
    for (int i = 0; i < 5; i++)
        q2[i] = wig_qa[i] + 0.5;
    for (int m = 0; m < 2; m++)
        CHECK_NEAR(quality(wig_ra, wig_qa, 5, wig_ra, q2, 5, (enum RdBdMethod)m), 0.5, 1e-12);
}
END_TEST

/* log-rate an exact cubic of quality */
static double cubic_lr(double x)
{
    return -4.0 + 0.21 * (x - 30) - 0.004 * (x - 34) * (x - 34) + 0.0009 * pow(x - 31, 3);
}

START_TEST(test_exact_cubic_other_samples)
{
    /* Both curves sampled at different qualities, partial overlap: the cubic
     * fit reproduces log-rate exactly, so BD-rate = 0.8 - 1. */
    static const double qa[] = { 29.0, 31.5, 34.0, 37.5, 40.0 };
    static const double qt[] = { 30.2, 32.9, 35.1, 38.0, 42.5 };
    double ra[5], rt[5];
    for (int i = 0; i < 5; i++) {
        ra[i] = exp(cubic_lr(qa[i]));
        rt[i] = 0.8 * exp(cubic_lr(qt[i]));
    }
    CHECK_NEAR(rate(ra, qa, 5, rt, qt, 5, RD_BD_CUBIC), -20.0, 1e-8);
}
END_TEST

START_TEST(test_log_linear)
{
    /* Straight lines in (quality, log-rate): both interpolants are exact;
     * mean difference over [31, 40] is (a_t - a_a) + (b_t - b_a) * 35.5. */
    static const double qa[] = { 28.0, 31.3, 34.0, 36.8, 40.0 };
    static const double qt[] = { 31.0, 33.0, 36.0, 39.2, 43.0 };
    double ra[5], rt[5];
    for (int i = 0; i < 5; i++) {
        ra[i] = exp(-3.0 + 0.20 * qa[i]);
        rt[i] = exp(-3.3 + 0.205 * qt[i]);
    }
    const double want = 100 * expm1(-0.3 + 0.005 * 35.5);
    for (int m = 0; m < 2; m++)
        CHECK_NEAR(rate(ra, qa, 5, rt, qt, 5, (enum RdBdMethod)m), want, 1e-8);
}
END_TEST

START_TEST(test_swap_and_order)
{
    /* (1 + BD(a, t)) (1 + BD(t, a)) = 1, and point order does not matter. */
    static const double rb[] = { 893.34, 407.8, 204.93, 112.75 };
    static const double qb[] = { 40.39, 37.21, 34.17, 31.24 };
    static const double ra[] = { 686.76, 309.58, 157.11, 85.95 };
    static const double qa[] = { 40.28, 37.18, 34.24, 31.42 };
    for (int m = 0; m < 2; m++) {
        const double ab = rate(ra, qa, 4, rb, qb, 4, (enum RdBdMethod)m) / 100;
        const double ba = rate(rb, qb, 4, ra, qa, 4, (enum RdBdMethod)m) / 100;
        CHECK_NEAR((1 + ab) * (1 + ba), 1.0, 1e-12);
    }
    static const double rs[] = { 181.03, 547.79, 90.33, 332.99 };
    static const double qs[] = { 31.17, 38.11, 27.95, 34.44 };
    CHECK_NEAR(rate(rs, qs, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC), -13.261772993103, 1e-9);
}
END_TEST

/* The cubic Hermite piece i of (x, y, d) at t. */
static double hermite(const double *x, const double *y, const double *d, int i, double t)
{
    const double h = x[i + 1] - x[i], s = (t - x[i]) / h, s2 = s * s, s3 = s2 * s;
    return y[i] * (2 * s3 - 3 * s2 + 1) + h * d[i] * (s3 - 2 * s2 + s) +
           y[i + 1] * (-2 * s3 + 3 * s2) + h * d[i + 1] * (s3 - s2);
}

START_TEST(test_pchip_integral)
{
    /* Closed-form PCHIP integral against Simpson's rule on each piece
     * (exact for cubics): [a, x1], [x1, x2], [x2, b] lie on pieces 0, 1, 2. */
    static const double x[] = { 31.42, 34.24, 37.18, 40.28 };
    static const double r[] = { 85.95, 157.11, 309.58, 686.76 };
    double y[4], d[4];
    for (int i = 0; i < 4; i++)
        y[i] = log(r[i]);
    rd_bd_pchip_slopes(x, y, 4, d);
    const double a = 32.0, b = 39.5, knots[4] = { a, x[1], x[2], b };
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        const double lo = knots[i], hi = knots[i + 1];
        sum += (hi - lo) / 6 *
               (hermite(x, y, d, i, lo) + 4 * hermite(x, y, d, i, (lo + hi) / 2) +
                hermite(x, y, d, i, hi));
    }
    CHECK_NEAR(rd_bd_pchip_integral(x, y, 4, a, b), sum, 1e-11);
    /* Monotone data give monotone slopes (shape preservation). */
    for (int i = 0; i < 4; i++)
        ck_assert(d[i] >= 0);
}
END_TEST

START_TEST(test_errors)
{
    double bd;
    ck_assert_int_eq(rd_bd_rate(vceg_ra, vceg_qa, 3, vceg_rt, vceg_qt, 4, RD_BD_CUBIC, &bd),
                     RD_BD_TOO_FEW);
    ck_assert(isnan(bd));
    ck_assert_int_eq(rd_bd_rate(vceg_ra, vceg_qa, 2, vceg_rt, vceg_qt, 2, RD_BD_PCHIP, &bd),
                     RD_BD_OK);
    ck_assert_int_eq(rd_bd_rate(vceg_ra, vceg_qa, 1, vceg_rt, vceg_qt, 4, RD_BD_PCHIP, &bd),
                     RD_BD_TOO_FEW);
    static const double hi_q[] = { 50, 51, 52, 53 };
    ck_assert_int_eq(rd_bd_rate(vceg_ra, vceg_qa, 4, vceg_rt, hi_q, 4, RD_BD_CUBIC, &bd),
                     RD_BD_NO_OVERLAP);
    static const double dup_q[] = { 30, 31, 31, 33 };
    ck_assert_int_eq(rd_bd_rate(vceg_ra, dup_q, 4, vceg_rt, vceg_qt, 4, RD_BD_PCHIP, &bd),
                     RD_BD_DUPLICATE);
    static const double zero_r[] = { 0, 1, 2, 3 };
    ck_assert_int_eq(rd_bd_rate(zero_r, vceg_qa, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC, &bd),
                     RD_BD_BAD_VALUE);
    const double inf_q[] = { 27.95, 31.17, 34.44, INFINITY };
    ck_assert_int_eq(rd_bd_rate(vceg_ra, inf_q, 4, vceg_rt, vceg_qt, 4, RD_BD_CUBIC, &bd),
                     RD_BD_BAD_VALUE);
    ck_assert_str_ne(rd_bd_error_string(RD_BD_NO_OVERLAP), "unknown error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rd_bd");
    TCase *tc = tcase_create("bd");
    tcase_add_test(tc, test_vceg_m33);
    tcase_add_test(tc, test_least_squares);
    tcase_add_test(tc, test_pchip_examples);
    tcase_add_test(tc, test_constant_factor);
    tcase_add_test(tc, test_shifted_quality);
    tcase_add_test(tc, test_exact_cubic_other_samples);
    tcase_add_test(tc, test_log_linear);
    tcase_add_test(tc, test_swap_and_order);
    tcase_add_test(tc, test_pchip_integral);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
