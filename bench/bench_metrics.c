/*
 * Speed of the metrics on a 1080p 4:2:0 frame (a shared-media clip, or a
 * synthetic picture when the media are absent) against a degraded copy.
 * Prints milliseconds per frame (fastest of the repeats) for each metric
 * group and, as the same-run baseline, the ratio to one PSNR pass (a plain
 * read of both pictures), with the default OpenMP thread count and with one
 * thread. "rgb" is the YCbCr->RGB conversion of both pictures plus PSNR-RGB.
 *
 *   make bench && bench/bench_metrics [FILE.y4m] [REPEATS]
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "nvc/convert.h"
#include "nvc/io.h"
#include "nvc/metrics.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int load(NvcPicture *pic, const char *path)
{
    NvcInput *in;
    if (nvc_input_open(&in, path, NULL) < 0)
        return -1;
    int ret = nvc_input_read(in, pic);
    nvc_input_close(&in);
    return ret == 1 ? 0 : -1;
}

static void synthetic(NvcPicture *pic)
{
    NvcPictureParameters p = { 1920, 1080, NVC_PIXEL_LAYOUT_I420, 8 };
    if (nvc_picture_alloc(pic, &p, 0) < 0)
        exit(1);
    for (int i = 0; i < 3; i++) {
        int w, h;
        nvc_picture_plane_size(&pic->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ((uint8_t *)pic->data[i])[y * pic->stride[i] + x] = (uint8_t)((x * 7 + y * 3 + (x * y >> 5)) & 255);
    }
}

/* Seconds per call of one metric group: the fastest of `reps` calls (the
 * machine is shared; the minimum is the least disturbed figure). */
static double time_metric(const NvcPicture *a, const NvcPicture *b, unsigned flags, int reps)
{
    NvcFrameMetrics m;
    nvc_metrics_compute(&m, a, b, flags); /* warm-up */
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        const double t0 = now();
        if (nvc_metrics_compute(&m, a, b, flags) < 0)
            exit(1);
        const double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* YCbCr -> RGB conversion of both pictures plus PSNR-RGB. */
static double time_rgb(const NvcPicture *a, const NvcPicture *b, int reps)
{
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        NvcPicture ra, rb;
        NvcFrameMetrics m = { 0 };
        const double t0 = now();
        if (nvc_picture_to_rgb(&ra, a, a->p.bpc) < 0 || nvc_picture_to_rgb(&rb, b, b->p.bpc) < 0 ||
            nvc_metrics_compute_rgb(&m, &ra, &rb, 0) < 0)
            exit(1);
        const double t = now() - t0;
        best = t < best ? t : best;
        nvc_picture_unref(&ra);
        nvc_picture_unref(&rb);
    }
    return best;
}

static void run(const NvcPicture *a, const NvcPicture *b, int reps, const char *label)
{
    const double psnr = time_metric(a, b, NVC_METRIC_PSNR, reps * 4);
    const double ssim = time_metric(a, b, NVC_METRIC_SSIM, reps);
    const double msssim = time_metric(a, b, NVC_METRIC_MSSSIM, reps);
    const double rgb = time_rgb(a, b, reps);
    const double all = time_metric(a, b, NVC_METRIC_PSNR | NVC_METRIC_SSIM | NVC_METRIC_MSSSIM, reps);
    printf("%-10s psnr %7.2f ms | ssim %7.2f ms (%5.1fx psnr) | msssim %7.2f ms (%5.1fx) | "
           "rgb %7.2f ms (%5.1fx) | psnr+ssim+msssim %7.2f ms = %5.1f fps\n",
           label, psnr * 1e3, ssim * 1e3, ssim / psnr, msssim * 1e3, msssim / psnr, rgb * 1e3,
           rgb / psnr, all * 1e3, 1.0 / all);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    char def[4096];
    if (!path) {
        const char *dir = getenv("NVC_TEST_DATA");
        snprintf(def, sizeof(def), "%s/video/pedestrian_area_1920x1080_25fps_1f.y4m",
                 dir ? dir : "../shared/data");
        path = def;
    }
    NvcPicture a, b;
    if (load(&a, path) < 0) {
        fprintf(stderr, "%s unreadable: using a synthetic 1920x1080 picture\n", path);
        synthetic(&a);
        path = "synthetic";
    }
    if (nvc_picture_alloc(&b, &a.p, 0) < 0 || nvc_picture_copy(&b, &a) < 0)
        return 1;
    /* degraded copy: deterministic +-2 noise */
    uint32_t s = 1;
    for (int i = 0; i < 3; i++) {
        int w, h;
        nvc_picture_plane_size(&b.p, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                s = s * 1664525u + 1013904223u;
                uint8_t *row = (uint8_t *)b.data[i] + y * b.stride[i];
                const int maxv = (1 << b.p.bpc) - 1, d = (int)(s >> 29) % 5 - 2;
                int v = (b.p.bpc > 8 ? ((uint16_t *)(void *)row)[x] : row[x]) + d;
                v = v < 0 ? 0 : v > maxv ? maxv : v;
                if (b.p.bpc > 8)
                    ((uint16_t *)(void *)row)[x] = (uint16_t)v;
                else
                    row[x] = (uint8_t)v;
            }
    }
    printf("bench_metrics: %s, %dx%d %d-bit, %d repeats\n", path, a.p.w, a.p.h, a.p.bpc, reps);
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
    char label[32];
    snprintf(label, sizeof(label), "%d thread%s", threads, threads > 1 ? "s" : "");
    run(&a, &b, reps, label);
    if (threads > 1) {
        omp_set_num_threads(1);
        run(&a, &b, reps, "1 thread");
    }
#else
    run(&a, &b, reps, "no OpenMP");
#endif
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
    return 0;
}
