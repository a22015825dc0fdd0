/*
 * Metrics on synthetic pictures: PSNR identities, FFmpeg-style SSIM and
 * MS-SSIM against brute-force references, properties, determinism across
 * thread counts, the sequence accumulator.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "codec/ssim.h"
#include "nvc/metrics.h"
#include "nvc/picture.h"

static void pic_alloc(NvcPicture *p, int w, int h, enum NvcPixelLayout layout, int bpc)
{
    NvcPictureParameters par = { .w = w, .h = h, .layout = layout, .bpc = bpc };
    ck_assert_int_eq(nvc_picture_alloc(p, &par, 0), 0);
}

static unsigned get(const NvcPicture *p, int plane, int x, int y)
{
    const uint8_t *row = (const uint8_t *)p->data[plane] + (ptrdiff_t)y * p->stride[plane];
    return p->p.bpc == 8 ? row[x] : ((const uint16_t *)(const void *)row)[x];
}

static void set(NvcPicture *p, int plane, int x, int y, unsigned v)
{
    uint8_t *row = (uint8_t *)p->data[plane] + (ptrdiff_t)y * p->stride[plane];
    if (p->p.bpc == 8)
        row[x] = (uint8_t)v;
    else
        ((uint16_t *)(void *)row)[x] = (uint16_t)v;
}

/* Deterministic hash noise in [-amp, amp]. */
static int noise(uint32_t seed, int plane, int x, int y, int amp)
{
    uint32_t h = seed * 0x9e3779b1u ^ (uint32_t)plane * 0x85ebca6bu ^ (uint32_t)x * 0xc2b2ae35u ^
                 (uint32_t)y * 0x27d4eb2fu;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return amp ? (int)(h % (uint32_t)(2 * amp + 1)) - amp : 0;
}

/* A textured picture: gradients, a sine pattern and noise. */
static void fill_pattern(NvcPicture *p, uint32_t seed)
{
    const int maxv = (1 << p->p.bpc) - 1;
    for (int i = 0; i < nvc_picture_planes(p->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&p->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double v = 0.5 + 0.25 * sin(x * 0.21 + i) * cos(y * 0.13) + 0.15 * (x + y) / (w + h);
                int s = (int)(v * maxv) + noise(seed, i, x, y, maxv / 40);
                set(p, i, x, y, (unsigned)(s < 0 ? 0 : s > maxv ? maxv : s));
            }
    }
}

/* dst = src + noise of amplitude amp (clamped). */
static void degrade(NvcPicture *dst, const NvcPicture *src, uint32_t seed, int amp)
{
    const int maxv = (1 << src->p.bpc) - 1;
    for (int i = 0; i < nvc_picture_planes(src->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&src->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int s = (int)get(src, i, x, y) + noise(seed, i, x, y, amp);
                set(dst, i, x, y, (unsigned)(s < 0 ? 0 : s > maxv ? maxv : s));
            }
    }
}

START_TEST(test_identical)
{
    static const int bpcs[] = { 8, 10, 16 };
    for (int k = 0; k < 3; k++) {
        NvcPicture a, b;
        pic_alloc(&a, 200, 180, NVC_PIXEL_LAYOUT_I420, bpcs[k]);
        pic_alloc(&b, 200, 180, NVC_PIXEL_LAYOUT_I420, bpcs[k]);
        fill_pattern(&a, 1);
        ck_assert_int_eq(nvc_picture_copy(&b, &a), 0);
        NvcFrameMetrics m;
        ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_ALL), 0);
        ck_assert_uint_eq(m.flags, NVC_METRIC_PSNR | NVC_METRIC_SSIM | NVC_METRIC_MSSSIM);
        ck_assert_int_eq(m.planes, 3);
        for (int i = 0; i < 3; i++) {
            ck_assert(m.mse[i] == 0.0);
            ck_assert(isinf(m.psnr[i]) && m.psnr[i] > 0);
            ck_assert(m.ssim[i] == 1.0);
            ck_assert(m.msssim[i] == 1.0);
        }
        ck_assert(isinf(m.psnr_yuv) && isinf(m.psnr_avg));
        ck_assert(m.ssim_all > 0.9999999 && m.ssim_all < 1.0000001);
        ck_assert(m.msssim_yuv == 1.0);
        ck_assert_int_eq(m.msssim_scales[0], 5); /* 200x180 */
        ck_assert_int_eq(m.msssim_scales[1], 4); /* 100x90 */
        ck_assert(isnan(m.mse_rgb));
        nvc_picture_unref(&a);
        nvc_picture_unref(&b);
    }
}
END_TEST

START_TEST(test_psnr_known)
{
    NvcPicture a, b;
    /* 8-bit, odd size: chroma planes are 17x9 */
    pic_alloc(&a, 33, 17, NVC_PIXEL_LAYOUT_I420, 8);
    pic_alloc(&b, 33, 17, NVC_PIXEL_LAYOUT_I420, 8);
    fill_pattern(&a, 3);
    ck_assert_int_eq(nvc_picture_copy(&b, &a), 0);
    /* one sample of Y differs by 1 LSB: MSE = 1 / (33 * 17) */
    unsigned v = get(&a, 0, 5, 7);
    set(&b, 0, 5, 7, v < 255 ? v + 1 : v - 1);
    /* every Cb sample differs by 3 (values kept off the clamp) */
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 17; x++) {
            set(&a, 1, x, y, 100 + x);
            set(&b, 1, x, y, 103 + x);
        }
    NvcFrameMetrics m;
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_PSNR), 0);
    ck_assert_uint_eq(m.flags, NVC_METRIC_PSNR);
    ck_assert_double_eq_tol(m.mse[0], 1.0 / (33 * 17), 1e-15);
    ck_assert_double_eq_tol(m.psnr[0], 10 * log10(255.0 * 255 * 33 * 17), 1e-9);
    ck_assert_double_eq_tol(m.psnr[0], 75.6204, 1e-4); /* 48.13 dB + 10 log10(561) */
    ck_assert_double_eq_tol(m.mse[1], 9.0, 1e-15);
    ck_assert_double_eq_tol(m.psnr[1], 10 * log10(255.0 * 255 / 9), 1e-9);
    ck_assert(m.mse[2] == 0.0 && isinf(m.psnr[2]));
    ck_assert(isinf(m.psnr_yuv));
    /* FFmpeg's average: MSE weighted by sample counts 561:153:153 */
    const double mse_avg = (1.0 + 9.0 * 153) / (561 + 153 + 153);
    ck_assert_double_eq_tol(m.mse_avg, mse_avg, 1e-14);
    ck_assert_double_eq_tol(m.psnr_avg, 10 * log10(65025.0 / mse_avg), 1e-9);
    ck_assert(isnan(m.ssim[0]) && isnan(m.msssim[0]));
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);

    /* 10-bit: peak 1023; Y off by 2 everywhere, U by 1, V by 4: 6:1:1 */
    pic_alloc(&a, 64, 32, NVC_PIXEL_LAYOUT_I444, 10);
    pic_alloc(&b, 64, 32, NVC_PIXEL_LAYOUT_I444, 10);
    static const int diff[3] = { 2, 1, 4 };
    for (int i = 0; i < 3; i++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 64; x++) {
                set(&a, i, x, y, 500 + x);
                set(&b, i, x, y, 500 + x - diff[i]);
            }
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_PSNR), 0);
    double p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = 10 * log10(1023.0 * 1023 / (diff[i] * diff[i]));
        ck_assert_double_eq_tol(m.psnr[i], p[i], 1e-9);
    }
    ck_assert_double_eq_tol(m.psnr[0], 54.1769, 1e-4);
    ck_assert_double_eq_tol(m.psnr_yuv, (6 * p[0] + p[1] + p[2]) / 8, 1e-9);
    ck_assert_double_eq_tol(m.psnr_avg, 10 * log10(1023.0 * 1023 / 7.0), 1e-9);
    ck_assert_double_eq_tol(nvc_metrics_psnr(1.0, 16), 20 * log10(65535.0), 1e-9);
    ck_assert(isinf(nvc_metrics_psnr(0.0, 8)));
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
}
END_TEST

START_TEST(test_mismatch)
{
    NvcPicture a, b, c, d;
    pic_alloc(&a, 32, 32, NVC_PIXEL_LAYOUT_I420, 8);
    pic_alloc(&b, 32, 30, NVC_PIXEL_LAYOUT_I420, 8);
    pic_alloc(&c, 32, 32, NVC_PIXEL_LAYOUT_I444, 8);
    pic_alloc(&d, 32, 32, NVC_PIXEL_LAYOUT_I420, 10);
    NvcFrameMetrics m;
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    ck_assert(isnan(m.psnr[0]));
    ck_assert_uint_eq(m.flags, 0);
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &c, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &d, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, NULL, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    /* RGB needs I444 pictures marked as RGB */
    memset(&m, 0, sizeof(m));
    ck_assert_int_eq(nvc_metrics_compute_rgb(&m, &c, &c, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_metrics_compute_rgb(&m, &a, &a, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    NvcPicture e = { 0 };
    ck_assert_int_eq(nvc_metrics_compute(&m, &e, &e, NVC_METRIC_ALL), NVC_ERR(EINVAL));
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
    nvc_picture_unref(&c);
    nvc_picture_unref(&d);
}
END_TEST

START_TEST(test_rgb)
{
    NvcPicture a, b;
    pic_alloc(&a, 40, 24, NVC_PIXEL_LAYOUT_I444, 8);
    pic_alloc(&b, 40, 24, NVC_PIXEL_LAYOUT_I444, 8);
    a.color.matrix = b.color.matrix = NVC_MC_IDENTITY;
    a.color.range = b.color.range = NVC_RANGE_FULL;
    /* R off by 1, G by 2, B by 3: MSE 1, 4, 9 -> mean 14/3 */
    for (int i = 0; i < 3; i++)
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 40; x++) {
                set(&a, i, x, y, 50 + 2 * x + y);
                set(&b, i, x, y, 50 + 2 * x + y + i + 1);
            }
    NvcFrameMetrics m;
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_PSNR), 0);
    ck_assert_int_eq(nvc_metrics_compute_rgb(&m, &a, &b, NVC_METRIC_PSNR), 0);
    ck_assert_uint_eq(m.flags, NVC_METRIC_PSNR | NVC_METRIC_RGB);
    ck_assert_double_eq_tol(m.mse_rgb, 14.0 / 3, 1e-14);
    ck_assert_double_eq_tol(m.psnr_rgb, 10 * log10(65025.0 * 3 / 14), 1e-9);
    /* PSNR-RGB pools the MSE, unlike a mean of per-channel PSNRs */
    ck_assert(m.psnr_rgb < (m.psnr[0] + m.psnr[1] + m.psnr[2]) / 3);
    ck_assert(isnan(m.msssim_rgb)); /* not asked for */
    /* 40x24: MS-SSIM with 2 scales (24 >= 22) */
    ck_assert_int_eq(nvc_metrics_compute_rgb(&m, &a, &b, NVC_METRIC_MSSSIM), 0);
    ck_assert(m.msssim_rgb > 0.0 && m.msssim_rgb < 1.0);
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
}
END_TEST

/* Brute-force FFmpeg-style SSIM: every 8x8 window at multiples of 4, in
 * double precision. */
static double ssim_brute(const NvcPicture *a, const NvcPicture *b, int plane)
{
    int w, h;
    nvc_picture_plane_size(&a->p, plane, &w, &h);
    const double max = (1 << a->p.bpc) - 1;
    const double c1 = .01 * .01 * max * max * 64, c2 = .03 * .03 * max * max * 64 * 63;
    double total = 0.0;
    int n = 0;
    for (int y = 0; y + 8 <= (h & ~3); y += 4)
        for (int x = 0; x + 8 <= (w & ~3); x += 4) {
            double s1 = 0, s2 = 0, ss = 0, s12 = 0;
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < 8; i++) {
                    double va = get(a, plane, x + i, y + j), vb = get(b, plane, x + i, y + j);
                    s1 += va;
                    s2 += vb;
                    ss += va * va + vb * vb;
                    s12 += va * vb;
                }
            double vars = ss * 64 - s1 * s1 - s2 * s2, covar = s12 * 64 - s1 * s2;
            total += (2 * s1 * s2 + c1) * (2 * covar + c2) / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
            n++;
        }
    return total / n;
}

START_TEST(test_ssim_brute)
{
    static const struct { int w, h, bpc, layout; } cases[] = {
        { 37, 29, 8, NVC_PIXEL_LAYOUT_I420 },
        { 64, 48, 10, NVC_PIXEL_LAYOUT_I444 },
        { 23, 41, 16, NVC_PIXEL_LAYOUT_I400 },
        { 130, 67, 12, NVC_PIXEL_LAYOUT_I420 },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        NvcPicture a, b;
        pic_alloc(&a, cases[k].w, cases[k].h, cases[k].layout, cases[k].bpc);
        pic_alloc(&b, cases[k].w, cases[k].h, cases[k].layout, cases[k].bpc);
        fill_pattern(&a, 7 + k);
        degrade(&b, &a, 11 + k, (1 << cases[k].bpc) / 16);
        NvcFrameMetrics m;
        ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_SSIM), 0);
        double all = 0, cnt = 0;
        for (int i = 0; i < m.planes; i++) {
            int w, h;
            nvc_picture_plane_size(&a.p, i, &w, &h);
            double ref = ssim_brute(&a, &b, i);
            /* single-precision window ratios: agreement to ~1e-6 */
            ck_assert_double_eq_tol(m.ssim[i], ref, 2e-6);
            ck_assert(m.ssim[i] < 0.999 && m.ssim[i] > 0.1);
            all += ref * w * h;
            cnt += w * h;
        }
        ck_assert_double_eq_tol(m.ssim_all, all / cnt, 2e-6);
        nvc_picture_unref(&a);
        nvc_picture_unref(&b);
    }
    /* planes under 8x8 have no window */
    NvcPicture a, b;
    pic_alloc(&a, 14, 14, NVC_PIXEL_LAYOUT_I420, 8);
    pic_alloc(&b, 14, 14, NVC_PIXEL_LAYOUT_I420, 8);
    NvcFrameMetrics m;
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_SSIM | NVC_METRIC_MSSSIM), 0);
    ck_assert(m.ssim[0] == 1.0);
    ck_assert(isnan(m.ssim[1]) && isnan(m.ssim_all));
    ck_assert(isnan(m.msssim[1]) && m.msssim_scales[1] == 0);
    ck_assert(m.msssim[0] == 1.0 && m.msssim_scales[0] == 1);
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
}
END_TEST

/* Brute-force single-scale Gaussian SSIM (2-D 11x11 window, valid
 * positions): MS-SSIM with one scale must equal it. */
static void gauss_ssim_brute(const NvcPicture *a, const NvcPicture *b, double *ssim, double *cs)
{
    const int w = a->p.w, h = a->p.h;
    double g[11], sum = 0;
    for (int i = 0; i < 11; i++)
        sum += g[i] = exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
    const double max = (1 << a->p.bpc) - 1, c1 = (0.01 * max) * (0.01 * max),
                 c2 = (0.03 * max) * (0.03 * max);
    double ts = 0, tc = 0;
    for (int y = 0; y + 11 <= h; y++)
        for (int x = 0; x + 11 <= w; x++) {
            double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
            for (int j = 0; j < 11; j++)
                for (int i = 0; i < 11; i++) {
                    double wt = g[i] * g[j] / (sum * sum);
                    double va = get(a, 0, x + i, y + j), vb = get(b, 0, x + i, y + j);
                    mx += wt * va;
                    my += wt * vb;
                    xx += wt * va * va;
                    yy += wt * vb * vb;
                    xy += wt * va * vb;
                }
            double c = (2 * (xy - mx * my) + c2) / (xx - mx * mx + yy - my * my + c2);
            ts += (2 * mx * my + c1) / (mx * mx + my * my + c1) * c;
            tc += c;
        }
    const double n = (double)(w - 10) * (h - 10);
    *ssim = ts / n;
    *cs = tc / n;
}

START_TEST(test_msssim_single_scale)
{
    NvcPicture a, b;
    pic_alloc(&a, 21, 17, NVC_PIXEL_LAYOUT_I400, 10);
    pic_alloc(&b, 21, 17, NVC_PIXEL_LAYOUT_I400, 10);
    fill_pattern(&a, 21);
    degrade(&b, &a, 22, 60);
    NvcPlaneView va = { a.data[0], a.stride[0], 21, 17 }, vb = { b.data[0], b.stride[0], 21, 17 };
    double v, cs[5], ss[5], ref_ss, ref_cs;
    int scales;
    ck_assert_int_eq(nvc_msssim_plane(&v, &scales, &va, &vb, 10, cs, ss), 0);
    ck_assert_int_eq(scales, 1);
    gauss_ssim_brute(&a, &b, &ref_ss, &ref_cs);
    ck_assert_double_eq_tol(ss[0], ref_ss, 1e-12);
    ck_assert_double_eq_tol(cs[0], ref_cs, 1e-12);
    ck_assert_double_eq_tol(v, ref_ss, 1e-12);
    ck_assert(isnan(cs[1]));
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
}
END_TEST

START_TEST(test_msssim_scales)
{
    ck_assert_int_eq(nvc_msssim_scales(10, 500), 0);
    ck_assert_int_eq(nvc_msssim_scales(11, 11), 1);
    ck_assert_int_eq(nvc_msssim_scales(21, 300), 1);
    ck_assert_int_eq(nvc_msssim_scales(22, 300), 2);
    ck_assert_int_eq(nvc_msssim_scales(300, 87), 3);
    ck_assert_int_eq(nvc_msssim_scales(88, 88), 4);
    ck_assert_int_eq(nvc_msssim_scales(176, 175), 4);
    ck_assert_int_eq(nvc_msssim_scales(176, 176), 5);
    ck_assert_int_eq(nvc_msssim_scales(1920, 1080), 5);
}
END_TEST

START_TEST(test_msssim_properties)
{
    NvcPicture a, b;
    pic_alloc(&a, 181, 177, NVC_PIXEL_LAYOUT_I420, 8); /* odd sizes at every scale */
    pic_alloc(&b, 181, 177, NVC_PIXEL_LAYOUT_I420, 8);
    fill_pattern(&a, 5);
    double prev[3] = { 1.0, 1.0, 1.0 };
    static const int amps[] = { 1, 3, 8, 20, 60 };
    for (int k = 0; k < 5; k++) {
        degrade(&b, &a, 99, amps[k]);
        NvcFrameMetrics m, r;
        ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_MSSSIM | NVC_METRIC_SSIM), 0);
        ck_assert_int_eq(nvc_metrics_compute(&r, &b, &a, NVC_METRIC_MSSSIM | NVC_METRIC_SSIM), 0);
        ck_assert_int_eq(m.msssim_scales[0], 5);
        ck_assert_int_eq(m.msssim_scales[1], 4); /* 91x89 */
        for (int i = 0; i < 3; i++) {
            /* symmetric to the last bit */
            ck_assert(m.msssim[i] == r.msssim[i]);
            ck_assert(m.ssim[i] == r.ssim[i]);
            /* strictly decreasing with the noise, within [0, 1) */
            ck_assert(m.msssim[i] < prev[i]);
            ck_assert(m.msssim[i] >= 0.0);
            prev[i] = m.msssim[i];
        }
    }
    ck_assert(prev[0] < 0.9);
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
}
END_TEST

START_TEST(test_threads_deterministic)
{
#ifdef _OPENMP
    NvcPicture a, b;
    pic_alloc(&a, 416, 240, NVC_PIXEL_LAYOUT_I420, 10);
    pic_alloc(&b, 416, 240, NVC_PIXEL_LAYOUT_I420, 10);
    fill_pattern(&a, 8);
    degrade(&b, &a, 9, 40);
    NvcFrameMetrics m[3];
    static const int threads[3] = { 1, 2, 5 };
    const int saved = omp_get_max_threads();
    for (int k = 0; k < 3; k++) {
        omp_set_num_threads(threads[k]);
        memset(&m[k], 0, sizeof(m[k]));
        ck_assert_int_eq(nvc_metrics_compute(&m[k], &a, &b, NVC_METRIC_ALL), 0);
    }
    omp_set_num_threads(saved);
    ck_assert_int_eq(memcmp(&m[0], &m[1], sizeof(m[0])), 0);
    ck_assert_int_eq(memcmp(&m[0], &m[2], sizeof(m[0])), 0);
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
#endif
}
END_TEST

START_TEST(test_accumulator)
{
    NvcMetricsAccum acc;
    nvc_metrics_accum_init(&acc);
    NvcSequenceMetrics seq;
    ck_assert_int_eq(nvc_metrics_accum_result(&acc, &seq), NVC_ERR(EINVAL));

    /* two 4:2:0 frames with known MSEs: Y 1 then 4, U 2 then 2, V 0.5 then 8 */
    static const double mse[2][3] = { { 1, 2, 0.5 }, { 4, 2, 8 } };
    for (int f = 0; f < 2; f++) {
        NvcFrameMetrics m;
        memset(&m, 0, sizeof(m));
        m.flags = NVC_METRIC_PSNR | NVC_METRIC_SSIM;
        m.planes = 3;
        m.bpc = 8;
        for (int i = 0; i < 3; i++) {
            m.mse[i] = mse[f][i];
            m.psnr[i] = nvc_metrics_psnr(mse[f][i], 8);
            m.ssim[i] = 0.9 + 0.01 * f;
            m.msssim[i] = NAN;
        }
        m.psnr_yuv = (6 * m.psnr[0] + m.psnr[1] + m.psnr[2]) / 8;
        m.mse_avg = (4 * m.mse[0] + m.mse[1] + m.mse[2]) / 6;
        m.psnr_avg = nvc_metrics_psnr(m.mse_avg, 8);
        m.ssim_all = 0.95;
        m.msssim_yuv = m.mse_rgb = m.psnr_rgb = m.msssim_rgb = NAN;
        ck_assert_int_eq(nvc_metrics_accum_add(&acc, &m), 0);
    }
    ck_assert_int_eq(nvc_metrics_accum_result(&acc, &seq), 0);
    ck_assert_int_eq(seq.frames, 2);
    ck_assert_uint_eq(seq.mean.flags, NVC_METRIC_PSNR | NVC_METRIC_SSIM);
    const double p = 10 * log10(65025.0);
    /* mean of per-frame PSNR: Y (p - 0 + p - 10 log10 4) / 2 */
    ck_assert_double_eq_tol(seq.mean.psnr[0], p - 5 * log10(4.0), 1e-9);
    /* PSNR of the mean MSE: Y mean MSE 2.5 */
    ck_assert_double_eq_tol(seq.pooled.mse[0], 2.5, 1e-15);
    ck_assert_double_eq_tol(seq.pooled.psnr[0], p - 10 * log10(2.5), 1e-9);
    ck_assert_double_eq_tol(seq.pooled.psnr[2], p - 10 * log10(4.25), 1e-9);
    ck_assert_double_eq_tol(seq.pooled.psnr_yuv,
                            (6 * seq.pooled.psnr[0] + seq.pooled.psnr[1] + seq.pooled.psnr[2]) / 8, 1e-12);
    ck_assert(seq.pooled.psnr[0] < seq.mean.psnr[0]); /* Jensen */
    ck_assert_double_eq_tol(seq.mean.ssim[1], 0.905, 1e-12);
    ck_assert_double_eq_tol(seq.pooled.ssim_all, 0.95, 1e-12);
    ck_assert(isnan(seq.mean.msssim[0]) && isnan(seq.pooled.psnr_rgb));

    /* a frame of another bit depth is refused */
    NvcFrameMetrics bad;
    memset(&bad, 0, sizeof(bad));
    bad.planes = 3;
    bad.bpc = 10;
    ck_assert_int_eq(nvc_metrics_accum_add(&acc, &bad), NVC_ERR(EINVAL));
    ck_assert_int_eq(acc.frames, 2);

    /* an identical frame makes the mean PSNR infinite, the pooled one not */
    NvcPicture a;
    pic_alloc(&a, 16, 16, NVC_PIXEL_LAYOUT_I400, 8);
    fill_pattern(&a, 4);
    NvcFrameMetrics m;
    nvc_metrics_accum_init(&acc);
    ck_assert_int_eq(nvc_metrics_compute(&m, &a, &a, NVC_METRIC_PSNR), 0);
    ck_assert_int_eq(nvc_metrics_accum_add(&acc, &m), 0);
    m.mse[0] = 1.0;
    m.psnr[0] = m.psnr_yuv = nvc_metrics_psnr(1.0, 8);
    ck_assert_int_eq(nvc_metrics_accum_add(&acc, &m), 0);
    ck_assert_int_eq(nvc_metrics_accum_result(&acc, &seq), 0);
    ck_assert(isinf(seq.mean.psnr[0]));
    ck_assert_double_eq_tol(seq.pooled.psnr[0], p - 10 * log10(0.5), 1e-9);
    nvc_picture_unref(&a);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("synthetic");
    tcase_add_test(tc, test_identical);
    tcase_add_test(tc, test_psnr_known);
    tcase_add_test(tc, test_mismatch);
    tcase_add_test(tc, test_rgb);
    tcase_add_test(tc, test_ssim_brute);
    tcase_add_test(tc, test_msssim_single_scale);
    tcase_add_test(tc, test_msssim_scales);
    tcase_add_test(tc, test_msssim_properties);
    tcase_add_test(tc, test_threads_deterministic);
    tcase_add_test(tc, test_accumulator);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(metrics_suite());
}
