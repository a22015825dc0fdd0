/*
 * nvc pictures <-> FFmpeg frames (see codec/lav.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "codec/internal.h"
#include "codec/lav.h"

const char *nvc_lav_err_text(int err, char *buf, size_t sz)
{
    if (av_strerror(err, buf, sz) < 0)
        snprintf(buf, sz, "error %d", err);
    return buf;
}

int nvc_lav_error(int err)
{
    if (err == AVERROR_INVALIDDATA)
        return NVC_ERR_CORRUPT;
    if (err < 0 && err > -4096) /* AVERROR(errno) */
        return err;
    return NVC_ERR(EINVAL);
}

/* FFmpeg's GBR planes are nvc's R, G, B planes 1, 2, 0. */
static int av_plane_of(int nvc_plane, int rgb)
{
    return rgb ? (nvc_plane + 2) % 3 : nvc_plane;
}

static void free_picture_holder(void *opaque, uint8_t *data)
{
    NvcPicture *p = opaque;
    nvc_picture_unref(p);
    free(p);
}

int nvc_lav_frame_from_picture(AVFrame **out, const NvcPicture *pic)
{
    *out = NULL;
    const int rgb = pic->p.layout == NVC_PIXEL_LAYOUT_I444 && pic->color.matrix == NVC_MC_IDENTITY;
    const enum AVPixelFormat fmt = nvc_lav_pix_fmt(&pic->p, rgb);
    if (fmt == AV_PIX_FMT_NONE)
        return NVC_ERR(EINVAL);
    AVFrame *f = av_frame_alloc();
    if (!f)
        return NVC_ERR(ENOMEM);
    f->format = fmt;
    f->width = pic->p.w;
    f->height = pic->p.h;
    const int np = nvc_picture_planes(pic->p.layout), bytes = pic->p.bpc > 8 ? 2 : 1;
    if (pic->ref) {
        NvcPicture *holder = malloc(sizeof(*holder));
        if (holder)
            nvc_picture_ref(holder, pic);
        f->buf[0] = holder ? av_buffer_create((uint8_t *)holder, sizeof(*holder),
                                              free_picture_holder, holder, AV_BUFFER_FLAG_READONLY)
                           : NULL;
        if (!f->buf[0]) {
            if (holder)
                free_picture_holder(holder, NULL);
            av_frame_free(&f);
            return NVC_ERR(ENOMEM);
        }
        for (int i = 0; i < np; i++) {
            f->data[av_plane_of(i, rgb)] = pic->data[i];
            f->linesize[av_plane_of(i, rgb)] = (int)pic->stride[i];
        }
    } else {
        if (av_frame_get_buffer(f, 0) < 0) {
            av_frame_free(&f);
            return NVC_ERR(ENOMEM);
        }
        for (int i = 0; i < np; i++) {
            int w, h;
            nvc_picture_plane_size(&pic->p, i, &w, &h);
            const int j = av_plane_of(i, rgb);
            av_image_copy_plane(f->data[j], f->linesize[j], pic->data[i], (int)pic->stride[i],
                                w * bytes, h);
        }
    }
    nvc_lav_color_to_frame(f, &pic->color, rgb);
    f->pts = pic->pts;
    *out = f;
    return 0;
}

static void free_frame(void *base, void *cookie)
{
    AVFrame *f = base;
    av_frame_free(&f);
}

int nvc_lav_picture_from_frame(NvcPicture *pic, const AVFrame *f)
{
    memset(pic, 0, sizeof(*pic));
    NvcPictureParameters p = { f->width, f->height, NVC_PIXEL_LAYOUT_I420, 8 };
    int rgb, full;
    if (nvc_lav_params_of((enum AVPixelFormat)f->format, &p, &rgb, &full) < 0)
        return NVC_ERR(ENOTSUP);
    const int np = nvc_picture_planes(p.layout);
    int negative = 0;
    for (int i = 0; i < np; i++)
        negative |= f->linesize[i] < 0;
    if (negative) { /* e.g. vflip: nvc code expects rows top to bottom in memory */
        int ret = nvc_picture_alloc(pic, &p, INT64_MAX);
        if (ret < 0)
            return ret;
        const int bytes = p.bpc > 8 ? 2 : 1;
        for (int i = 0; i < np; i++) {
            int w, h;
            nvc_picture_plane_size(&p, i, &w, &h);
            const int j = av_plane_of(i, rgb);
            av_image_copy_plane(pic->data[i], (int)pic->stride[i], f->data[j], f->linesize[j],
                                w * bytes, h);
        }
    } else {
        if (p.w < 1 || p.h < 1 || p.w > NVC_MAX_DIMENSION || p.h > NVC_MAX_DIMENSION)
            return NVC_ERR(ERANGE);
        AVFrame *own = av_frame_clone(f);
        if (!own)
            return NVC_ERR(ENOMEM);
        if (!(pic->ref = nvc_ref_create(own, free_frame, NULL))) {
            av_frame_free(&own);
            return NVC_ERR(ENOMEM);
        }
        pic->p = p;
        for (int i = 0; i < np; i++) {
            pic->data[i] = own->data[av_plane_of(i, rgb)];
            pic->stride[i] = own->linesize[av_plane_of(i, rgb)];
        }
    }
    nvc_lav_color_from_frame(&pic->color, f, rgb, full);
    return 0;
}

static int depth_of(const AVPixFmtDescriptor *d)
{
    int depth = 0;
    for (int i = 0; i < d->nb_components; i++)
        depth = NVC_MAX(depth, d->comp[i].depth);
    return depth <= 8 ? 8 : depth <= 10 ? 10 : depth <= 12 ? 12 : 16;
}

enum AVPixelFormat nvc_lav_nearest_fmt(enum AVPixelFormat fmt, const char **why)
{
    *why = NULL;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return AV_PIX_FMT_NONE;
    NvcPictureParameters p = { 1, 1, NVC_PIXEL_LAYOUT_I420, 8 };
    int rgb, full;
    if (nvc_lav_params_of(fmt, &p, &rgb, &full) == 0)
        return fmt;
    p.bpc = depth_of(d);
    if (d->flags & AV_PIX_FMT_FLAG_ALPHA)
        *why = "the alpha channel";
    if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BAYER)) {
        p.layout = NVC_PIXEL_LAYOUT_I444;
        return nvc_lav_pix_fmt(&p, 1);
    }
    if (d->nb_components <= 2) {
        p.layout = NVC_PIXEL_LAYOUT_I400;
        return nvc_lav_pix_fmt(&p, 0);
    }
    if (!d->log2_chroma_w && !d->log2_chroma_h) {
        p.layout = NVC_PIXEL_LAYOUT_I444;
    } else {
        p.layout = NVC_PIXEL_LAYOUT_I420;
        if (d->log2_chroma_w != 1 || d->log2_chroma_h != 1)
            *why = d->log2_chroma_w == 1 && !d->log2_chroma_h ? "4:2:2 chroma (made 4:2:0)"
                                                               : "chroma resolution (made 4:2:0)";
    }
    return nvc_lav_pix_fmt(&p, 0);
}

/* ---- conversion ------------------------------------------------------------ */

static int is_rgb(const AVPixFmtDescriptor *d)
{
    return !!(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BAYER));
}

static int is_full_range(const AVFrame *f, const AVPixFmtDescriptor *d)
{
    return is_rgb(d) || f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
           f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P ||
           f->format == AV_PIX_FMT_YUVJ440P;
}

/* The matrix a YCbCr side uses; unspecified as nvc_picture_convert. */
static enum AVColorSpace matrix_for(enum AVColorSpace cs, int h)
{
    if (cs == AVCOL_SPC_UNSPECIFIED || cs == AVCOL_SPC_RGB || cs == AVCOL_SPC_RESERVED ||
        (unsigned)cs >= AVCOL_SPC_NB)
        return h > 576 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    return cs;
}

int nvc_lav_scale(NvcLavScaler *s, const AVFrame *src, enum AVPixelFormat fmt, int w, int h,
                  AVFrame **out)
{
    *out = NULL;
    const AVPixFmtDescriptor *sd = av_pix_fmt_desc_get((enum AVPixelFormat)src->format);
    const AVPixFmtDescriptor *dd = av_pix_fmt_desc_get(fmt);
    if (!sd || !dd)
        return NVC_ERR(EINVAL);
    const int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP |
                      SWS_BITEXACT;
    s->sws = sws_getCachedContext(s->sws, src->width, src->height, (enum AVPixelFormat)src->format,
                                  w, h, fmt, flags, NULL, NULL, NULL);
    if (!s->sws)
        return NVC_ERR(ENOTSUP);
    AVFrame *dst = av_frame_alloc();
    if (!dst)
        return NVC_ERR(ENOMEM);
    dst->format = fmt;
    dst->width = w;
    dst->height = h;
    int ret = av_frame_get_buffer(dst, 0);
    if (ret >= 0)
        ret = av_frame_copy_props(dst, src);
    if (ret < 0) {
        av_frame_free(&dst);
        return NVC_ERR(ENOMEM);
    }
    const int src_rgb = is_rgb(sd), dst_rgb = is_rgb(dd), src_full = is_full_range(src, sd);
    const enum AVColorSpace cs = matrix_for(src_rgb ? AVCOL_SPC_UNSPECIFIED : src->colorspace, src->height);
    const int dst_full = dst_rgb || fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P ||
                         fmt == AV_PIX_FMT_YUVJ444P || (src_full && !src_rgb);
    sws_setColorspaceDetails(s->sws, sws_getCoefficients(cs), src_full, sws_getCoefficients(cs),
                             dst_full, 0, 1 << 16, 1 << 16);
    sws_scale(s->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data,
              dst->linesize);
    dst->colorspace = dst_rgb ? AVCOL_SPC_RGB : cs;
    dst->color_range = dst_full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    *out = dst;
    return 0;
}

void nvc_lav_scaler_free(NvcLavScaler *s)
{
    sws_freeContext(s->sws);
    memset(s, 0, sizeof(*s));
}
