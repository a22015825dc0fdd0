/*
 * Structural similarity of planes: SSIM exactly as FFmpeg's `ssim` filter
 * (libavfilter/vf_ssim.c, after x264) and MS-SSIM (Wang, Simoncelli, Bovik,
 * "Multi-scale structural similarity for image quality assessment", 2003).
 *
 * Determinism: every row's partial sum is computed by one thread in a fixed
 * order and the rows are added in order afterwards, so the result is the
 * same bits for any number of threads.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "codec/internal.h"
#include "codec/ssim.h"

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline const uint8_t *row8(const NvcPlaneView *p, int y)
{
    return (const uint8_t *)p->data + (ptrdiff_t)y * p->stride;
}

static inline const uint16_t *row16(const NvcPlaneView *p, int y)
{
    return (const uint16_t *)(const void *)((const uint8_t *)p->data + (ptrdiff_t)y * p->stride);
}

uint64_t nvc_metrics_plane_sse(const NvcPlaneView *a, const NvcPlaneView *b, int bpc)
{
    uint64_t total = 0;
    const int w = a->w, h = a->h;
    /* integer sums: associative, so the reduction is exact in any order */
#pragma omp parallel for schedule(static) reduction(+:total) if ((int64_t)w * h > 65536)
    for (int y = 0; y < h; y++) {
        uint64_t s = 0;
        if (bpc == 8) {
            const uint8_t *ra = row8(a, y), *rb = row8(b, y);
            for (int x = 0; x < w; x++) {
                const int d = ra[x] - rb[x];
                s += (uint32_t)(d * d);
            }
        } else {
            const uint16_t *ra = row16(a, y), *rb = row16(b, y);
            for (int x = 0; x < w; x++) {
                const int64_t d = (int64_t)ra[x] - rb[x];
                s += (uint64_t)(d * d);
            }
        }
        total += s;
    }
    return total;
}

/* ---- SSIM, FFmpeg's way ------------------------------------------------ */

/* Sums over each 4x4 block of block row `by`: s1 = sum a, s2 = sum b,
 * ss = sum a^2 + b^2, s12 = sum a*b (a = reference, b = test; SSIM is
 * symmetric in them). */
static void block_row_sums(int64_t (*out)[4], const NvcPlaneView *a, const NvcPlaneView *b,
                           int bpc, int by, int bw)
{
    for (int bx = 0; bx < bw; bx++) {
        uint64_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
        for (int y = 4 * by; y < 4 * by + 4; y++) {
            for (int x = 4 * bx; x < 4 * bx + 4; x++) {
                const uint64_t va = bpc == 8 ? row8(a, y)[x] : row16(a, y)[x];
                const uint64_t vb = bpc == 8 ? row8(b, y)[x] : row16(b, y)[x];
                s1 += va;
                s2 += vb;
                ss += va * va + vb * vb;
                s12 += va * vb;
            }
        }
        out[bx][0] = (int64_t)s1;
        out[bx][1] = (int64_t)s2;
        out[bx][2] = (int64_t)ss;
        out[bx][3] = (int64_t)s12;
    }
}

/* SSIM of one 8x8 window from its sums, 8-bit path: FFmpeg's ssim_end1 in
 * 32-bit integers (no overflow for 8-bit sums) with single-precision ratio. */
static float window_ssim_8bit(int s1, int s2, int ss, int s12)
{
    static const int c1 = (int)(.01 * .01 * 255 * 255 * 64 + .5);
    static const int c2 = (int)(.03 * .03 * 255 * 255 * 64 * 63 + .5);
    const int vars = ss * 64 - s1 * s1 - s2 * s2;
    const int covar = s12 * 64 - s1 * s2;
    return (float)(2 * s1 * s2 + c1) * (float)(2 * covar + c2) /
           ((float)(s1 * s1 + s2 * s2 + c1) * (float)(vars + c2));
}

/* Same for more than 8 bits: FFmpeg's ssim_end1x (64-bit integers). */
static float window_ssim_16bit(int64_t s1, int64_t s2, int64_t ss, int64_t s12, int max)
{
    const int64_t c1 = (int64_t)(.01 * .01 * max * max * 64 + .5);
    const int64_t c2 = (int64_t)(.03 * .03 * max * max * 64 * 63 + .5);
    const int64_t vars = ss * 64 - s1 * s1 - s2 * s2;
    const int64_t covar = s12 * 64 - s1 * s2;
    return (float)(2 * s1 * s2 + c1) * (float)(2 * covar + c2) /
           ((float)(s1 * s1 + s2 * s2 + c1) * (float)(vars + c2));
}

/* Sum of the window SSIMs of one window row (windows span block rows sum0
 * and sum1). FFmpeg adds 8-bit windows in double (its SSE4 code), and
 * high-bit-depth windows in float (ssim_endn_16bit). */
static double window_row(const int64_t (*sum0)[4], const int64_t (*sum1)[4], int n, int bpc)
{
    int64_t s[4];
    if (bpc == 8) {
        double acc = 0.0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++)
                s[k] = sum0[i][k] + sum0[i + 1][k] + sum1[i][k] + sum1[i + 1][k];
            acc += window_ssim_8bit((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
        }
        return acc;
    }
    const int max = (1 << bpc) - 1;
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            s[k] = sum0[i][k] + sum0[i + 1][k] + sum1[i][k] + sum1[i + 1][k];
        acc += window_ssim_16bit(s[0], s[1], s[2], s[3], max);
    }
    return acc;
}

#define SSIM_CHUNK 16 /* window rows per parallel task */

int nvc_ssim_plane_ffmpeg(double *ssim, const NvcPlaneView *a, const NvcPlaneView *b, int bpc)
{
    const int bw = a->w >> 2, bh = a->h >> 2;
    if (bw < 2 || bh < 2) {
        *ssim = NAN;
        return 0;
    }
    const int nthreads = max_threads();
    double *rows = malloc(sizeof(*rows) * (size_t)bh);
    int64_t (*scratch)[4] = malloc(sizeof(*scratch) * 2 * (size_t)bw * (size_t)nthreads);
    if (!rows || !scratch) {
        free(rows);
        free(scratch);
        return NVC_ERR(ENOMEM);
    }
    /* window row y (1..bh-1) covers block rows y-1 and y */
    const int nchunks = (bh - 1 + SSIM_CHUNK - 1) / SSIM_CHUNK;
#pragma omp parallel for schedule(dynamic) if (nchunks > 1)
    for (int c = 0; c < nchunks; c++) {
        int64_t (*prev)[4] = scratch + 2 * (size_t)bw * (size_t)thread_id();
        int64_t (*cur)[4] = prev + bw;
        const int y0 = 1 + c * SSIM_CHUNK, y1 = NVC_MIN(bh, y0 + SSIM_CHUNK);
        block_row_sums(cur, a, b, bpc, y0 - 1, bw);
        for (int y = y0; y < y1; y++) {
            int64_t (*t)[4] = prev;
            prev = cur;
            cur = t;
            block_row_sums(cur, a, b, bpc, y, bw);
            rows[y] = window_row((const int64_t (*)[4])prev, (const int64_t (*)[4])cur, bw - 1, bpc);
        }
    }
    double total = 0.0;
    for (int y = 1; y < bh; y++)
        total += rows[y];
    *ssim = total / ((bw - 1) * (bh - 1));
    free(rows);
    free(scratch);
    return 0;
}

/* ---- MS-SSIM ----------------------------------------------------------- */

#define WIN 11           /* Gaussian window size */
#define WIN_SIGMA 1.5
#define MS_CHUNK 64      /* output rows per parallel task */

/* Exponents per number of scales: Wang et al.'s 5 weights, and for smaller
 * pictures HM's table of the leading weights renormalized (DCVC uses the
 * 4-scale row). */
static const double msssim_weights[NVC_MSSSIM_MAX_SCALES][NVC_MSSSIM_MAX_SCALES] = {
    { 1.0 },
    { 0.1356, 0.8644 },
    { 0.0711, 0.4530, 0.4760 },
    { 0.0517, 0.3295, 0.3462, 0.2726 },
    { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 },
};

int nvc_msssim_scales(int w, int h)
{
    const int m = NVC_MIN(w, h);
    int n = 0;
    while (n < NVC_MSSSIM_MAX_SCALES && m >= WIN << n)
        n++;
    return n;
}

/* One scale of a plane pair, samples as float (exact: integers averaged at
 * most 4 times keep <= 24 significant bits). */
typedef struct MsImage {
    float *x, *y;
    int w, h;
} MsImage;

static void gauss_taps(double g[WIN])
{
    double sum = 0.0;
    for (int i = 0; i < WIN; i++) {
        const double d = i - WIN / 2;
        g[i] = exp(-(d * d) / (2.0 * WIN_SIGMA * WIN_SIGMA));
        sum += g[i];
    }
    for (int i = 0; i < WIN; i++)
        g[i] /= sum;
}

/* Element-wise loops are marked `omp simd` so they vectorize at -O2 (this
 * does not change any result: each element sees the same operations in the
 * same order); sums over rows stay sequential scalar code. */

/* 11-tap symmetric filter along a row: out[i] = sum_k g[k] r[i + k], i < n. */
static void hfilter(double *restrict out, const double *restrict r, int n, const double *g)
{
    const double g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4], g5 = g[5];
#pragma omp simd
    for (int i = 0; i < n; i++)
        out[i] = g0 * (r[i] + r[i + 10]) + g1 * (r[i + 1] + r[i + 9]) + g2 * (r[i + 2] + r[i + 8]) +
                 g3 * (r[i + 3] + r[i + 7]) + g4 * (r[i + 4] + r[i + 6]) + g5 * r[i + 5];
}

/* The same filter across 11 rows: out[i] = sum_k g[k] q[k][i]. */
static void vfilter(double *restrict out, const double *const q[WIN], size_t off, int n,
                    const double *g)
{
    const double g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4], g5 = g[5];
    const double *restrict q0 = q[0] + off, *restrict q1 = q[1] + off, *restrict q2 = q[2] + off;
    const double *restrict q3 = q[3] + off, *restrict q4 = q[4] + off, *restrict q5 = q[5] + off;
    const double *restrict q6 = q[6] + off, *restrict q7 = q[7] + off, *restrict q8 = q[8] + off;
    const double *restrict q9 = q[9] + off, *restrict q10 = q[10] + off;
#pragma omp simd
    for (int i = 0; i < n; i++)
        out[i] = g0 * (q0[i] + q10[i]) + g1 * (q1[i] + q9[i]) + g2 * (q2[i] + q8[i]) +
                 g3 * (q3[i] + q7[i]) + g4 * (q4[i] + q6[i]) + g5 * q5[i];
}

/* The five moments x, y, x^2, y^2, xy of input row `row`, filtered
 * horizontally into out[5][ow]; tmp holds 5 rows of w doubles. */
static void moments_row(double *out, double *tmp, const MsImage *im, int row, const double *g)
{
    const int w = im->w, ow = w - (WIN - 1);
    const float *restrict xr = im->x + (size_t)row * w, *restrict yr = im->y + (size_t)row * w;
    double *restrict px = tmp, *restrict py = tmp + w, *restrict pxx = tmp + 2 * w;
    double *restrict pyy = tmp + 3 * w, *restrict pxy = tmp + 4 * w;
#pragma omp simd
    for (int i = 0; i < w; i++) {
        const double x = xr[i], y = yr[i];
        px[i] = x;
        py[i] = y;
        pxx[i] = x * x;
        pyy[i] = y * y;
        pxy[i] = x * y;
    }
    for (int c = 0; c < 5; c++)
        hfilter(out + (size_t)c * ow, tmp + (size_t)c * w, ow, g);
}

/* Output row r from the 11 filtered rows ring[(r + k) % 11]: the sums over
 * the row of the SSIM and contrast-structure values. v holds 7 rows of ow. */
static void ssim_row(double *ss, double *cs, double *const ring[WIN], int r, int ow,
                     const double *g, double c1, double c2, double *v)
{
    const double *q[WIN];
    for (int k = 0; k < WIN; k++)
        q[k] = ring[(r + k) % WIN];
    for (int c = 0; c < 5; c++)
        vfilter(v + (size_t)c * ow, q, (size_t)c * ow, ow, g);
    double *restrict mx = v, *restrict my = v + ow, *restrict mxx = v + 2 * ow;
    double *restrict myy = v + 3 * ow, *restrict mxy = v + 4 * ow;
    double *restrict vs = v + 5 * ow, *restrict vc = v + 6 * ow;
#pragma omp simd
    for (int i = 0; i < ow; i++) {
        const double mu1 = mx[i], mu2 = my[i];
        const double s11 = mxx[i] - mu1 * mu1, s22 = myy[i] - mu2 * mu2, s12 = mxy[i] - mu1 * mu2;
        const double cs_v = (2.0 * s12 + c2) / (s11 + s22 + c2);
        const double l_v = (2.0 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1);
        vs[i] = l_v * cs_v;
        vc[i] = cs_v;
    }
    double sum_ss = 0.0, sum_cs = 0.0;
    for (int i = 0; i < ow; i++) {
        sum_ss += vs[i];
        sum_cs += vc[i];
    }
    *ss = sum_ss;
    *cs = sum_cs;
}

typedef struct MsScratch {
    double *rows_ss, *rows_cs; /* per output row of scale 0 (the largest) */
    double *thread_buf;        /* per thread: 11 ring rows of 5*ow, 5 rows of w, 7 of ow */
    size_t thread_stride;
} MsScratch;

/* Mean SSIM and mean contrast-structure over the valid windows of im. */
static void scale_stats(double *mean_ss, double *mean_cs, const MsImage *im, const MsScratch *s,
                        const double *g, double c1, double c2)
{
    const int ow = im->w - (WIN - 1), oh = im->h - (WIN - 1);
    const int nchunks = (oh + MS_CHUNK - 1) / MS_CHUNK;
#pragma omp parallel for schedule(dynamic) if (nchunks > 1)
    for (int c = 0; c < nchunks; c++) {
        double *base = s->thread_buf + s->thread_stride * (size_t)thread_id();
        double *ring[WIN];
        for (int k = 0; k < WIN; k++)
            ring[k] = base + (size_t)k * 5 * ow;
        double *tmp = base + (size_t)WIN * 5 * ow, *v = tmp + (size_t)5 * im->w;
        const int r0 = c * MS_CHUNK, r1 = NVC_MIN(oh, r0 + MS_CHUNK);
        for (int k = 0; k < WIN - 1; k++)
            moments_row(ring[(r0 + k) % WIN], tmp, im, r0 + k, g);
        for (int r = r0; r < r1; r++) {
            moments_row(ring[(r + WIN - 1) % WIN], tmp, im, r + WIN - 1, g);
            ssim_row(&s->rows_ss[r], &s->rows_cs[r], ring, r, ow, g, c1, c2, v);
        }
    }
    double tss = 0.0, tcs = 0.0;
    for (int r = 0; r < oh; r++) {
        tss += s->rows_ss[r];
        tcs += s->rows_cs[r];
    }
    const double n = (double)ow * oh;
    *mean_ss = tss / n;
    *mean_cs = tcs / n;
}

/* 2x2 average; an odd last row/column is averaged with itself (replicated
 * edge), giving ceil(w/2) x ceil(h/2). */
static void downsample(MsImage *dst, const MsImage *src)
{
    const int w = src->w, h = src->h, dw = (w + 1) / 2, dh = (h + 1) / 2;
    dst->w = dw;
    dst->h = dh;
#pragma omp parallel for schedule(static) if ((int64_t)dw * dh > 65536)
    for (int j = 0; j < dh; j++) {
        const int y0 = 2 * j, y1 = NVC_MIN(2 * j + 1, h - 1);
        for (int i = 0; i < dw; i++) {
            const int x0 = 2 * i, x1 = NVC_MIN(2 * i + 1, w - 1);
            const size_t a = (size_t)y0 * w, b = (size_t)y1 * w, o = (size_t)j * dw + i;
            dst->x[o] = (src->x[a + x0] + src->x[a + x1] + src->x[b + x0] + src->x[b + x1]) * 0.25f;
            dst->y[o] = (src->y[a + x0] + src->y[a + x1] + src->y[b + x0] + src->y[b + x1]) * 0.25f;
        }
    }
}

static void load_plane(float *dst, const NvcPlaneView *p, int bpc)
{
    const int w = p->w, h = p->h;
#pragma omp parallel for schedule(static) if ((int64_t)w * h > 65536)
    for (int y = 0; y < h; y++) {
        float *d = dst + (size_t)y * w;
        if (bpc == 8) {
            const uint8_t *r = row8(p, y);
            for (int x = 0; x < w; x++)
                d[x] = r[x];
        } else {
            const uint16_t *r = row16(p, y);
            for (int x = 0; x < w; x++)
                d[x] = r[x];
        }
    }
}

int nvc_msssim_plane(double *msssim, int *scales, const NvcPlaneView *a, const NvcPlaneView *b,
                     int bpc, double cs[NVC_MSSSIM_MAX_SCALES], double ss[NVC_MSSSIM_MAX_SCALES])
{
    const int w = a->w, h = a->h, n = nvc_msssim_scales(w, h);
    *scales = n;
    *msssim = NAN;
    if (!n)
        return 0;
    const size_t n0 = (size_t)w * h, n1 = (size_t)((w + 1) / 2) * ((h + 1) / 2);
    const int nthreads = max_threads();
    MsScratch s;
    s.thread_stride = (size_t)(WIN * 5 + 7) * (w - (WIN - 1)) + (size_t)5 * w;
    float *img = malloc(sizeof(float) * 2 * (n0 + n1));
    s.rows_ss = malloc(sizeof(double) * 2 * (size_t)(h - (WIN - 1)));
    s.thread_buf = malloc(sizeof(double) * s.thread_stride * (size_t)nthreads);
    if (!img || !s.rows_ss || !s.thread_buf) {
        free(img);
        free(s.rows_ss);
        free(s.thread_buf);
        return NVC_ERR(ENOMEM);
    }
    s.rows_cs = s.rows_ss + (h - (WIN - 1));

    /* scales alternate between two buffers: 0, 2, 4 in the first */
    MsImage im[2] = {
        { .x = img, .y = img + n0, .w = w, .h = h },
        { .x = img + 2 * n0, .y = img + 2 * n0 + n1 },
    };
    load_plane(im[0].x, a, bpc);
    load_plane(im[0].y, b, bpc);

    const double peak = (double)((1 << bpc) - 1);
    const double c1 = (0.01 * peak) * (0.01 * peak), c2 = (0.03 * peak) * (0.03 * peak);
    double g[WIN], mcs[NVC_MSSSIM_MAX_SCALES], mss[NVC_MSSSIM_MAX_SCALES];
    gauss_taps(g);
    for (int k = 0; k < n; k++) {
        scale_stats(&mss[k], &mcs[k], &im[k & 1], &s, g, c1, c2);
        if (k + 1 < n)
            downsample(&im[(k + 1) & 1], &im[k & 1]);
    }
    const double *wt = msssim_weights[n - 1];
    double v = pow(NVC_MAX(mss[n - 1], 0.0), wt[n - 1]);
    for (int k = 0; k < n - 1; k++)
        v *= pow(NVC_MAX(mcs[k], 0.0), wt[k]);
    *msssim = v;
    for (int k = 0; k < NVC_MSSSIM_MAX_SCALES; k++) {
        if (cs)
            cs[k] = k < n ? mcs[k] : NAN;
        if (ss)
            ss[k] = k < n ? mss[k] : NAN;
    }
    free(img);
    free(s.rows_ss);
    free(s.thread_buf);
    return 0;
}
