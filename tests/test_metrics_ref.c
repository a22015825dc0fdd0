/*
 * Metrics on real clips against stored reference values: FFmpeg 5.1's psnr
 * and ssim filters (Debian's ffmpeg, run once) and an independent numpy
 * MS-SSIM (tests/msssim_reference.py). The test clips are made here from the
 * shared media by a fixed degradation, so nothing but the original clips is
 * needed at run time; `NVC_METRICS_DUMP=DIR tests/test_metrics_ref` writes
 * them as DIR/<name>_degraded.y4m (.png) to regenerate the reference values
 * (tests/metrics_reference.sh does all of it).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>
#include <stdint.h>

#include "nvc/io.h"
#include "nvc/metrics.h"
#include "nvc/picture.h"

#include "tests/metrics_ref_values.h"

static int get_s(const NvcPicture *p, int plane, int x, int y)
{
    const uint8_t *row = (const uint8_t *)p->data[plane] + (ptrdiff_t)y * p->stride[plane];
    return p->p.bpc == 8 ? row[x] : ((const uint16_t *)(const void *)row)[x];
}

static void set_s(NvcPicture *p, int plane, int x, int y, int v)
{
    uint8_t *row = (uint8_t *)p->data[plane] + (ptrdiff_t)y * p->stride[plane];
    if (p->p.bpc == 8)
        row[x] = (uint8_t)v;
    else
        ((uint16_t *)(void *)row)[x] = (uint16_t)v;
}

static int hash_noise(uint32_t seed, int plane, int x, int y, int amp)
{
    uint32_t h = seed * 0x9e3779b1u ^ (uint32_t)plane * 0x85ebca6bu ^ (uint32_t)x * 0xc2b2ae35u ^
                 (uint32_t)y * 0x27d4eb2fu;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return (int)(h % (uint32_t)(2 * amp + 1)) - amp;
}

/* The degraded test frame: a 3x3 binomial blur (edges clamped) plus hash
 * noise whose amplitude cycles with the frame index (1..4 LSB at 8 bits). */
static void degrade_frame(NvcPicture *dst, const NvcPicture *src, int frame)
{
    const int maxv = (1 << src->p.bpc) - 1, amp = (1 + frame % 4) << (src->p.bpc - 8);
    static const int k[3] = { 1, 2, 1 };
    for (int i = 0; i < nvc_picture_planes(src->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&src->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int s = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                        const int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                        s += k[dx + 1] * k[dy + 1] * get_s(src, i, xx, yy);
                    }
                int v = ((s + 8) >> 4) + hash_noise((uint32_t)frame + 1, i, x, y, amp);
                set_s(dst, i, x, y, v < 0 ? 0 : v > maxv ? maxv : v);
            }
    }
    dst->color = src->color;
    dst->pts = src->pts;
}

typedef struct Clip {
    const char *path;     /* in the shared media */
    const char *name;     /* for the dump */
    const RefFrame *ref;  /* per-frame reference values */
    int nb_frames;
    const RefSummary *summary;
} Clip;

static const Clip clips[] = {
    { "video/foreman_cif_352x288_30fps_27f.y4m", "foreman", ref_foreman, REF_FOREMAN_FRAMES,
      &ref_foreman_summary },
    { "video/sparks_480x270_10bit_60fps_5f_raw.y4m", "sparks", ref_sparks, REF_SPARKS_FRAMES,
      &ref_sparks_summary },
#ifdef NVC_HAVE_PNG
    { "image/kodak/kodim23.png", "kodim23", ref_kodim23, REF_KODIM23_FRAMES, &ref_kodim23_summary },
#endif
};

/* Worst deviations seen, printed at the end for the record. */
static double worst_psnr, worst_mse, worst_ssim, worst_msssim;

static void check(double ours, double ref, double tol, double *worst, const char *what, int frame)
{
    const double d = fabs(ours - ref);
    if (d > *worst)
        *worst = d;
    ck_assert_msg(d <= tol, "%s frame %d: ours %.8f, reference %.8f", what, frame, ours, ref);
}

static void run_clip(const Clip *c, const char *dump_dir)
{
    const char *path = test_data_path(c->path);
    ck_assert_msg(path != NULL, "missing %s", c->path);
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, NULL), 0);
    NvcOutput *out = NULL;
    if (dump_dir) {
        char name[4096];
        snprintf(name, sizeof(name), "%s/%s_degraded.%s", dump_dir, c->name,
                 strstr(c->path, ".png") ? "png" : "y4m");
        ck_assert_int_eq(nvc_output_open(&out, name, nvc_input_info(in), NULL), 0);
    }
    NvcMetricsAccum acc;
    nvc_metrics_accum_init(&acc);
    NvcPicture a, b;
    int frame = 0;
    while (nvc_input_read(in, &a) == 1) {
        ck_assert_int_eq(nvc_picture_alloc(&b, &a.p, 0), 0);
        degrade_frame(&b, &a, frame);
        if (out) {
            ck_assert_int_eq(nvc_output_write(out, &b), 0);
        } else {
            ck_assert_int_lt(frame, c->nb_frames);
            const RefFrame *r = &c->ref[frame];
            NvcFrameMetrics m;
            ck_assert_int_eq(nvc_metrics_compute(&m, &a, &b, NVC_METRIC_ALL), 0);
            for (int i = 0; i < 3; i++) {
                /* FFmpeg prints lavfi.psnr.* from a float: 7 significant digits */
                check(m.psnr[i], r->psnr[i], 1e-5, &worst_psnr, "psnr", frame);
                check(m.mse[i], r->mse[i], 1e-6 + 2e-7 * r->mse[i], &worst_mse, "mse", frame);
                /* lavfi.ssim stats are printed with 6 decimals */
                check(m.ssim[i], r->ssim[i], 2e-6, &worst_ssim, "ssim", frame);
                check(m.msssim[i], r->msssim[i], 1e-9, &worst_msssim, "msssim", frame);
            }
            check(m.psnr_avg, r->psnr_avg, 1e-5, &worst_psnr, "psnr_avg", frame);
            check(m.ssim_all, r->ssim_all, 2e-6, &worst_ssim, "ssim_all", frame);
            ck_assert_int_eq(nvc_metrics_accum_add(&acc, &m), 0);
        }
        nvc_picture_unref(&a);
        nvc_picture_unref(&b);
        frame++;
    }
    nvc_input_close(&in);
    if (out) {
        ck_assert_int_eq(nvc_output_close(&out, 1), 0);
        return;
    }
    ck_assert_int_eq(frame, c->nb_frames);
    NvcSequenceMetrics seq;
    ck_assert_int_eq(nvc_metrics_accum_result(&acc, &seq), 0);
    const RefSummary *s = c->summary;
    /* FFmpeg's summary: PSNR of the mean MSE per plane and of the mean
     * mse_avg ("average"), mean SSIM per plane and All */
    for (int i = 0; i < 3; i++) {
        check(seq.pooled.psnr[i], s->psnr[i], 2e-6, &worst_psnr, "summary psnr", -1);
        check(seq.mean.ssim[i], s->ssim[i], 2e-6, &worst_ssim, "summary ssim", -1);
    }
    check(seq.pooled.psnr_avg, s->psnr_avg, 2e-6, &worst_psnr, "summary average", -1);
    check(seq.mean.ssim_all, s->ssim_all, 2e-6, &worst_ssim, "summary All", -1);
}

START_TEST(test_reference_clip)
{
    run_clip(&clips[_i], NULL);
}
END_TEST

START_TEST(test_dump)
{
    run_clip(&clips[_i], getenv("NVC_METRICS_DUMP"));
}
END_TEST

START_TEST(test_report)
{
    printf("max |ours - FFmpeg|: PSNR %.2e dB, MSE %.2e, SSIM %.2e; "
           "max |ours - numpy| MS-SSIM %.2e\n",
           worst_psnr, worst_mse, worst_ssim, worst_msssim);
}
END_TEST

int main(void)
{
#ifndef NVC_HAVE_PNG
    (void)ref_kodim23; /* PNG clip left out of this build */
    (void)ref_kodim23_summary;
#endif
    for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++) {
        const char *const media[] = { clips[i].path, NULL };
        if (!test_media("test_metrics_ref", media))
            return TEST_SKIP;
    }
    const int n = (int)(sizeof(clips) / sizeof(clips[0]));
    Suite *s = suite_create("metrics_ref");
    TCase *tc = tcase_create("clips");
    if (getenv("NVC_METRICS_DUMP")) {
        tcase_add_loop_test(tc, test_dump, 0, n);
    } else {
        tcase_add_loop_test(tc, test_reference_clip, 0, n);
        tcase_add_test(tc, test_report);
    }
    suite_add_tcase(s, tc);
    /* the worst-deviation report needs the loop tests in this process */
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
