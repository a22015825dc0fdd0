/*
 * nvc-rd: the clip as the encoders see it, and the measurement of decoded
 * pictures against it (PSNR Y/U/V, 6:1:1, RGB, MS-SSIM) with nvc's metrics.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nvc/convert.h"
#include "tools/common.h"
#include "tools/rd/rd.h"

double rd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int rd_mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(buf, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

void rd_source_info(const RdClip *clip, enum RdSourceKind kind, NvcVideoInfo *info)
{
    *info = clip->info;
    info->nb_frames = clip->frames;
    if (clip->image && kind == RD_SOURCE_YUV) {
        info->p = clip->yuv_p;
        info->color = clip->yuv_color;
    }
}

int rd_source_open(RdSource *src, const RdClip *clip, enum RdSourceKind kind, char *err,
                   size_t errsz)
{
    memset(src, 0, sizeof(*src));
    src->clip = clip;
    src->kind = kind;
    char msg[256] = "";
    ToolCapture cap = { msg, sizeof(msg) };
    NvcInputSettings s = clip->in;
    s.logger = tool_capture_logger(&cap);
    int ret = nvc_input_open(&src->in, clip->path, &s);
    if (ret < 0)
        snprintf(err, errsz, "%s: %s", clip->path, msg[0] ? msg : nvc_error_string(ret));
    return ret;
}

int rd_source_read(RdSource *src, NvcPicture *pic, char *err, size_t errsz)
{
    memset(pic, 0, sizeof(*pic));
    if (src->read >= src->clip->frames)
        return 0;
    NvcPicture raw;
    int ret = nvc_input_read(src->in, &raw);
    if (ret == 0) {
        snprintf(err, errsz, "%s: ends after %lld frames", src->clip->path, (long long)src->read);
        return NVC_ERR_CORRUPT;
    }
    if (ret < 0) {
        snprintf(err, errsz, "%s: frame %lld: %s", src->clip->path, (long long)src->read,
                 nvc_error_string(ret));
        return ret;
    }
    const int64_t pts = src->read++;
    if (src->clip->image && src->kind == RD_SOURCE_YUV) {
        ret = nvc_picture_convert(pic, &src->clip->yuv_p, &src->clip->yuv_color, &raw);
        nvc_picture_unref(&raw);
        if (ret < 0) {
            snprintf(err, errsz, "%s: RGB to YCbCr: %s", src->clip->path, nvc_error_string(ret));
            return ret;
        }
    } else {
        nvc_picture_move_ref(pic, &raw);
    }
    pic->pts = pts;
    return 1;
}

void rd_source_close(RdSource *src)
{
    nvc_input_close(&src->in);
}

int rd_measure_open(RdMeasure *m, const RdClip *clip, char *err, size_t errsz)
{
    memset(m, 0, sizeof(*m));
    nvc_metrics_accum_init(&m->acc);
    return rd_source_open(&m->ref, clip, RD_SOURCE_NATIVE, err, errsz);
}

static int is_rgb(const NvcPicture *p)
{
    return p->p.layout == NVC_PIXEL_LAYOUT_I444 && p->color.matrix == NVC_MC_IDENTITY;
}

/* ref_yuv / ref_rgb: the reference in both colour spaces; dec_yuv / dec_rgb:
 * the decoded picture in the same two forms (new references). */
typedef struct Forms {
    NvcPicture ref_yuv, ref_rgb, dec_yuv, dec_rgb;
} Forms;

static void forms_unref(Forms *f)
{
    nvc_picture_unref(&f->ref_yuv);
    nvc_picture_unref(&f->ref_rgb);
    nvc_picture_unref(&f->dec_yuv);
    nvc_picture_unref(&f->dec_rgb);
}

static int make_forms(Forms *f, const RdClip *clip, const NvcPicture *src, const NvcPicture *dec)
{
    memset(f, 0, sizeof(*f));
    int ret = 0;
    const int bpc = src->p.bpc;
    if (clip->image) {
        nvc_picture_ref(&f->ref_rgb, src);
        ret = nvc_picture_convert(&f->ref_yuv, &clip->yuv_p, &clip->yuv_color, src);
    } else {
        nvc_picture_ref(&f->ref_yuv, src);
        ret = nvc_picture_to_rgb(&f->ref_rgb, src, bpc);
    }
    if (ret < 0)
        return ret;
    NvcPicture d = *dec; /* a view: the decoder's colour tags are not trusted */
    d.ref = NULL;
    if (!is_rgb(&d))
        d.color = f->ref_yuv.color;
    if (is_rgb(&d)) {
        ret = nvc_picture_convert(&f->dec_yuv, &f->ref_yuv.p, &f->ref_yuv.color, &d);
    } else if (!memcmp(&d.p, &f->ref_yuv.p, sizeof(d.p))) {
        nvc_picture_ref(&f->dec_yuv, dec);
        f->dec_yuv.color = d.color;
    } else {
        ret = nvc_picture_convert(&f->dec_yuv, &f->ref_yuv.p, &f->ref_yuv.color, &d);
    }
    if (ret < 0)
        return ret;
    if (is_rgb(&d) && d.p.bpc == f->ref_rgb.p.bpc)
        nvc_picture_ref(&f->dec_rgb, dec);
    else
        ret = nvc_picture_to_rgb(&f->dec_rgb, &f->dec_yuv, f->ref_rgb.p.bpc);
    return ret;
}

int rd_measure_frame(RdMeasure *m, const NvcPicture *decoded, char *err, size_t errsz)
{
    NvcPicture src;
    int ret = rd_source_read(&m->ref, &src, err, errsz);
    if (ret == 0) {
        snprintf(err, errsz, "the decoder returned more frames than the %lld coded",
                 (long long)m->ref.clip->frames);
        return NVC_ERR_CORRUPT;
    }
    if (ret < 0)
        return ret;
    if (decoded->p.w != src.p.w || decoded->p.h != src.p.h) {
        snprintf(err, errsz, "decoded frame %lld is %dx%d, the source %dx%d",
                 (long long)m->frames, decoded->p.w, decoded->p.h, src.p.w, src.p.h);
        nvc_picture_unref(&src);
        return NVC_ERR_CORRUPT;
    }
    Forms f;
    ret = make_forms(&f, m->ref.clip, &src, decoded);
    NvcFrameMetrics fm;
    if (ret >= 0)
        ret = nvc_metrics_compute(&fm, &f.ref_yuv, &f.dec_yuv, NVC_METRIC_PSNR | NVC_METRIC_MSSSIM);
    if (ret >= 0)
        ret = nvc_metrics_compute_rgb(&fm, &f.ref_rgb, &f.dec_rgb,
                                      m->ref.clip->image ? NVC_METRIC_MSSSIM : 0);
    if (ret >= 0)
        ret = nvc_metrics_accum_add(&m->acc, &fm);
    if (ret < 0)
        snprintf(err, errsz, "measuring frame %lld: %s", (long long)m->frames,
                 nvc_error_string(ret));
    else
        m->frames++;
    forms_unref(&f);
    nvc_picture_unref(&src);
    return ret;
}

int rd_measure_finish(RdMeasure *m, RdPoint *pt, char *err, size_t errsz)
{
    if (m->frames != m->ref.clip->frames) {
        snprintf(err, errsz, "decoded %lld frames, %lld were coded", (long long)m->frames,
                 (long long)m->ref.clip->frames);
        return NVC_ERR_CORRUPT;
    }
    NvcSequenceMetrics s;
    int ret = nvc_metrics_accum_result(&m->acc, &s);
    if (ret < 0) {
        snprintf(err, errsz, "no frame measured");
        return ret;
    }
    pt->psnr_y = s.mean.psnr[0];
    pt->psnr_u = s.mean.psnr[1];
    pt->psnr_v = s.mean.psnr[2];
    pt->psnr_yuv = s.mean.psnr_yuv;
    pt->psnr_rgb = s.mean.psnr_rgb;
    pt->psnr_y_pooled = s.pooled.psnr[0];
    pt->psnr_yuv_pooled = s.pooled.psnr_yuv;
    pt->msssim_y = s.mean.msssim[0];
    pt->msssim_yuv = s.mean.msssim_yuv;
    pt->msssim_rgb = m->ref.clip->image ? s.mean.msssim_rgb : NAN;
    return 0;
}

void rd_measure_close(RdMeasure *m)
{
    rd_source_close(&m->ref);
}
