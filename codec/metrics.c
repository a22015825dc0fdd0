/*
 * Picture quality metrics (nvc/metrics.h): PSNR per plane, 6:1:1 and RGB,
 * SSIM and MS-SSIM per plane (codec/ssim.c), sequence accumulation.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "codec/ssim.h"
#include "nvc/metrics.h"

double nvc_metrics_psnr(double mse, int bpc)
{
    if (bpc < 1 || bpc > 16)
        return NAN;
    if (!(mse > 0.0))
        return mse == 0.0 ? INFINITY : NAN;
    const unsigned peak = (1u << bpc) - 1;
    /* FFmpeg's get_psnr: 10 log10(max^2 / mse), max^2 as an unsigned */
    return 10.0 * log10((double)(peak * peak) / mse);
}

static void frame_clear(NvcFrameMetrics *m)
{
    m->flags = 0;
    m->planes = 0;
    m->bpc = 0;
    for (int i = 0; i < 3; i++) {
        m->mse[i] = m->psnr[i] = m->ssim[i] = m->msssim[i] = NAN;
        m->msssim_scales[i] = 0;
    }
    m->psnr_yuv = m->mse_avg = m->psnr_avg = m->ssim_all = m->msssim_yuv = NAN;
    m->mse_rgb = m->psnr_rgb = m->msssim_rgb = NAN;
}

/* Pointers to every double field of m (for sums and means); returns the count. */
#define FRAME_DOUBLES 20
static int frame_doubles(NvcFrameMetrics *m, double *f[FRAME_DOUBLES])
{
    int n = 0;
    for (int i = 0; i < 3; i++) {
        f[n++] = &m->mse[i];
        f[n++] = &m->psnr[i];
        f[n++] = &m->ssim[i];
        f[n++] = &m->msssim[i];
    }
    f[n++] = &m->psnr_yuv;
    f[n++] = &m->mse_avg;
    f[n++] = &m->psnr_avg;
    f[n++] = &m->ssim_all;
    f[n++] = &m->msssim_yuv;
    f[n++] = &m->mse_rgb;
    f[n++] = &m->psnr_rgb;
    f[n++] = &m->msssim_rgb;
    return n;
}

static int pictures_comparable(const NvcPicture *a, const NvcPicture *b)
{
    if (!a || !b)
        return 0;
    const NvcPictureParameters *p = &a->p, *q = &b->p;
    if (p->w != q->w || p->h != q->h || p->layout != q->layout || p->bpc != q->bpc)
        return 0;
    if (p->w < 1 || p->h < 1 || p->bpc < 8 || p->bpc > 16)
        return 0;
    if (p->layout != NVC_PIXEL_LAYOUT_I400 && p->layout != NVC_PIXEL_LAYOUT_I420 &&
        p->layout != NVC_PIXEL_LAYOUT_I444)
        return 0;
    const int np = nvc_picture_planes(p->layout);
    for (int i = 0; i < np; i++)
        if (!a->data[i] || !b->data[i])
            return 0;
    return 1;
}

static void plane_view(NvcPlaneView *v, const NvcPicture *pic, int plane)
{
    v->data = pic->data[plane];
    v->stride = pic->stride[plane];
    nvc_picture_plane_size(&pic->p, plane, &v->w, &v->h);
}

static void compute_psnr(NvcFrameMetrics *m, const NvcPicture *ref, const NvcPicture *test)
{
    const int np = m->planes;
    double count[3], total = 0.0;
    for (int i = 0; i < np; i++) {
        NvcPlaneView a, b;
        plane_view(&a, ref, i);
        plane_view(&b, test, i);
        count[i] = (double)a.w * a.h;
        total += count[i];
        m->mse[i] = (double)nvc_metrics_plane_sse(&a, &b, m->bpc) / count[i];
        m->psnr[i] = nvc_metrics_psnr(m->mse[i], m->bpc);
    }
    m->psnr_yuv = np == 3 ? (6.0 * m->psnr[0] + m->psnr[1] + m->psnr[2]) / 8.0 : m->psnr[0];
    m->mse_avg = 0.0;
    for (int i = 0; i < np; i++)
        m->mse_avg += m->mse[i] * (count[i] / total);
    m->psnr_avg = nvc_metrics_psnr(m->mse_avg, m->bpc);
}

static int compute_ssim(NvcFrameMetrics *m, const NvcPicture *ref, const NvcPicture *test)
{
    double total = 0.0, count[3];
    for (int i = 0; i < m->planes; i++) {
        NvcPlaneView a, b;
        plane_view(&a, ref, i);
        plane_view(&b, test, i);
        count[i] = (double)a.w * a.h;
        total += count[i];
        const int err = nvc_ssim_plane_ffmpeg(&m->ssim[i], &a, &b, m->bpc);
        if (err < 0)
            return err;
    }
    /* FFmpeg keeps the plane weights ("coefs") in single precision */
    m->ssim_all = 0.0;
    for (int i = 0; i < m->planes; i++)
        m->ssim_all += (float)(count[i] / total) * m->ssim[i];
    return 0;
}

/* MS-SSIM of each plane into out[] (and scales[]). */
static int msssim_planes(double out[3], int scales[3], const NvcPicture *ref,
                         const NvcPicture *test, int np, int bpc)
{
    for (int i = 0; i < np; i++) {
        NvcPlaneView a, b;
        plane_view(&a, ref, i);
        plane_view(&b, test, i);
        const int err = nvc_msssim_plane(&out[i], &scales[i], &a, &b, bpc, NULL, NULL);
        if (err < 0)
            return err;
    }
    return 0;
}

int nvc_metrics_compute(NvcFrameMetrics *m, const NvcPicture *ref, const NvcPicture *test,
                        unsigned flags)
{
    frame_clear(m);
    if (!pictures_comparable(ref, test))
        return NVC_ERR(EINVAL);
    m->planes = nvc_picture_planes(ref->p.layout);
    m->bpc = ref->p.bpc;
    int err;
    if (flags & NVC_METRIC_PSNR) {
        compute_psnr(m, ref, test);
        m->flags |= NVC_METRIC_PSNR;
    }
    if (flags & NVC_METRIC_SSIM) {
        if ((err = compute_ssim(m, ref, test)) < 0)
            goto fail;
        m->flags |= NVC_METRIC_SSIM;
    }
    if (flags & NVC_METRIC_MSSSIM) {
        if ((err = msssim_planes(m->msssim, m->msssim_scales, ref, test, m->planes, m->bpc)) < 0)
            goto fail;
        m->msssim_yuv = m->planes == 3 ? (6.0 * m->msssim[0] + m->msssim[1] + m->msssim[2]) / 8.0
                                       : m->msssim[0];
        m->flags |= NVC_METRIC_MSSSIM;
    }
    return 0;
fail:
    frame_clear(m);
    return err;
}

int nvc_metrics_compute_rgb(NvcFrameMetrics *m, const NvcPicture *ref_rgb, const NvcPicture *test_rgb,
                            unsigned flags)
{
    m->mse_rgb = m->psnr_rgb = m->msssim_rgb = NAN;
    m->flags &= ~(unsigned)NVC_METRIC_RGB;
    if (!pictures_comparable(ref_rgb, test_rgb) || ref_rgb->p.layout != NVC_PIXEL_LAYOUT_I444 ||
        ref_rgb->color.matrix != NVC_MC_IDENTITY || test_rgb->color.matrix != NVC_MC_IDENTITY)
        return NVC_ERR(EINVAL);
    const int bpc = ref_rgb->p.bpc;
    double sum = 0.0;
    for (int i = 0; i < 3; i++) {
        NvcPlaneView a, b;
        plane_view(&a, ref_rgb, i);
        plane_view(&b, test_rgb, i);
        sum += (double)nvc_metrics_plane_sse(&a, &b, bpc) / ((double)a.w * a.h);
    }
    if (flags & NVC_METRIC_MSSSIM) {
        double v[3];
        int scales[3];
        const int err = msssim_planes(v, scales, ref_rgb, test_rgb, 3, bpc);
        if (err < 0)
            return err;
        m->msssim_rgb = (v[0] + v[1] + v[2]) / 3.0;
    }
    m->mse_rgb = sum / 3.0;
    m->psnr_rgb = nvc_metrics_psnr(m->mse_rgb, bpc);
    m->flags |= NVC_METRIC_RGB;
    return 0;
}

void nvc_metrics_accum_init(NvcMetricsAccum *acc)
{
    memset(acc, 0, sizeof(*acc));
    double *f[FRAME_DOUBLES];
    const int n = frame_doubles(&acc->sum, f);
    for (int i = 0; i < n; i++)
        *f[i] = 0.0;
}

int nvc_metrics_accum_add(NvcMetricsAccum *acc, const NvcFrameMetrics *m)
{
    if (acc->frames == 0) {
        acc->planes = m->planes;
        acc->bpc = m->bpc;
        acc->flags = m->flags;
        memcpy(acc->sum.msssim_scales, m->msssim_scales, sizeof(m->msssim_scales));
    } else if (m->planes != acc->planes || m->bpc != acc->bpc) {
        return NVC_ERR(EINVAL);
    }
    NvcFrameMetrics tmp = *m;
    double *dst[FRAME_DOUBLES], *src[FRAME_DOUBLES];
    const int n = frame_doubles(&acc->sum, dst);
    frame_doubles(&tmp, src);
    for (int i = 0; i < n; i++)
        *dst[i] += *src[i];
    acc->flags &= m->flags;
    acc->frames++;
    return 0;
}

int nvc_metrics_accum_result(const NvcMetricsAccum *acc, NvcSequenceMetrics *out)
{
    frame_clear(&out->mean);
    frame_clear(&out->pooled);
    out->frames = acc->frames;
    if (acc->frames <= 0)
        return NVC_ERR(EINVAL);

    NvcFrameMetrics *mean = &out->mean, *pooled = &out->pooled;
    NvcFrameMetrics sum = acc->sum;
    double *dst[FRAME_DOUBLES], *src[FRAME_DOUBLES];
    const int n = frame_doubles(mean, dst);
    frame_doubles(&sum, src);
    for (int i = 0; i < n; i++)
        *dst[i] = *src[i] / (double)acc->frames;
    mean->flags = acc->flags;
    mean->planes = acc->planes;
    mean->bpc = acc->bpc;
    memcpy(mean->msssim_scales, acc->sum.msssim_scales, sizeof(mean->msssim_scales));
    /* groups missing from some frame are not reported */
    if (!(acc->flags & NVC_METRIC_PSNR)) {
        for (int i = 0; i < 3; i++)
            mean->mse[i] = mean->psnr[i] = NAN;
        mean->psnr_yuv = mean->mse_avg = mean->psnr_avg = NAN;
    }
    if (!(acc->flags & NVC_METRIC_SSIM)) {
        for (int i = 0; i < 3; i++)
            mean->ssim[i] = NAN;
        mean->ssim_all = NAN;
    }
    if (!(acc->flags & NVC_METRIC_MSSSIM)) {
        for (int i = 0; i < 3; i++)
            mean->msssim[i] = NAN;
        mean->msssim_yuv = NAN;
    }
    if (!(acc->flags & NVC_METRIC_RGB))
        mean->mse_rgb = mean->psnr_rgb = mean->msssim_rgb = NAN;

    *pooled = *mean;
    if (acc->flags & NVC_METRIC_PSNR) {
        for (int i = 0; i < acc->planes; i++)
            pooled->psnr[i] = nvc_metrics_psnr(pooled->mse[i], acc->bpc);
        pooled->psnr_yuv = acc->planes == 3
                               ? (6.0 * pooled->psnr[0] + pooled->psnr[1] + pooled->psnr[2]) / 8.0
                               : pooled->psnr[0];
        pooled->psnr_avg = nvc_metrics_psnr(pooled->mse_avg, acc->bpc);
    }
    if (acc->flags & NVC_METRIC_RGB)
        pooled->psnr_rgb = nvc_metrics_psnr(pooled->mse_rgb, acc->bpc);
    return 0;
}
