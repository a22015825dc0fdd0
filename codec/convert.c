/*
 * Colour conversion in fixed point. Every sample goes through a normalised
 * integer domain with NORM_BITS fractional bits (luma and R, G, B in 0..1,
 * chroma in -1/2..1/2), at full resolution, then to the target's matrix,
 * chroma subsampling, range and bit depth.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/convert.h"

#define NORM_BITS 16
#define COEF_BITS 16

typedef struct Plane32 {
    int32_t *v;
    int w, h;
} Plane32;

typedef struct Range {
    int off, span; /* sample = off + span * normalised */
} Range;

static Range sample_range(int bpc, enum NvcColorRange range, int chroma)
{
    const int s = bpc - 8;
    if (range == NVC_RANGE_FULL)
        return (Range){ chroma ? 1 << (bpc - 1) : 0, (1 << bpc) - 1 };
    return (Range){ (chroma ? 128 : 16) << s, (chroma ? 224 : 219) << s };
}

/* Kr, Kb in COEF_BITS fixed point for a matrix (0, 0 for RGB). */
static void matrix_coefs(enum NvcMatrixCoefficients mc, int h, int *kr, int *kb)
{
    if (mc == NVC_MC_UNSPECIFIED)
        mc = h > 576 ? NVC_MC_BT709 : NVC_MC_BT601;
    switch (mc) {
    case NVC_MC_IDENTITY: *kr = 0; *kb = 0; break;
    case NVC_MC_BT709: *kr = 13933; *kb = 4732; break;        /* 0.2126, 0.0722 */
    case NVC_MC_BT2020_NCL: *kr = 17216; *kb = 3886; break;   /* 0.2627, 0.0593 */
    default: *kr = 19595; *kb = 7471; break;                  /* 0.299, 0.114 (BT.601/470BG) */
    }
}

static int is_rgb(const NvcColorDescription *c, enum NvcPixelLayout layout)
{
    return layout == NVC_PIXEL_LAYOUT_I444 && c->matrix == NVC_MC_IDENTITY;
}

static inline int get_sample(const NvcPicture *p, int plane, int x, int y)
{
    const uint8_t *row = (const uint8_t *)p->data[plane] + (ptrdiff_t)y * p->stride[plane];
    return p->p.bpc > 8 ? ((const uint16_t *)row)[x] : row[x];
}

static int64_t rshift_round(int64_t v, int bits)
{
    return (v + ((int64_t)1 << (bits - 1))) >> bits;
}

/* a / b rounded to nearest (halves up), for b > 0 and any sign of a. */
static int64_t div_round(int64_t a, int64_t b)
{
    int64_t q = (2 * a + b) / (2 * b);
    return (2 * a + b) % (2 * b) < 0 ? q - 1 : q;
}

/* Plane of samples -> normalised values, through a table of 2^bpc entries. */
static void to_norm(Plane32 *dst, const NvcPicture *src, int plane, Range r)
{
    const int n = 1 << src->p.bpc;
    int32_t *lut = malloc(sizeof(*lut) * (size_t)n);
    if (!lut)
        return;
    for (int v = 0; v < n; v++)
        lut[v] = (int32_t)div_round((int64_t)(v - r.off) * (1 << NORM_BITS), r.span);
    for (int y = 0; y < dst->h; y++)
        for (int x = 0; x < dst->w; x++)
            dst->v[(size_t)y * dst->w + x] = lut[get_sample(src, plane, x, y)];
    free(lut);
}

/* Normalised -> samples with rounding and clipping. */
static void from_norm(NvcPicture *dst, int plane, const Plane32 *src, Range r)
{
    const int maxv = (1 << dst->p.bpc) - 1;
    for (int y = 0; y < src->h; y++) {
        uint8_t *row = (uint8_t *)dst->data[plane] + (ptrdiff_t)y * dst->stride[plane];
        for (int x = 0; x < src->w; x++) {
            int64_t v = r.off + rshift_round((int64_t)src->v[(size_t)y * src->w + x] * r.span,
                                             NORM_BITS);
            v = NVC_CLIP(v, 0, maxv);
            if (dst->p.bpc > 8)
                ((uint16_t *)row)[x] = (uint16_t)v;
            else
                row[x] = (uint8_t)v;
        }
    }
}

/* Chroma taps for one output position: positions a, b with weights wa, wb
 * (in quarters) along one axis. `cosited`: chroma sample i sits on luma 2i;
 * otherwise halfway between 2i and 2i+1. */
static void up_taps(int x, int n, int cosited, int *a, int *b, int *wa)
{
    const int i = x >> 1;
    if (cosited) {
        *a = i;
        *b = (x & 1) ? NVC_MIN(i + 1, n - 1) : i;
        *wa = (x & 1) ? 2 : 4;
    } else {
        *a = i;
        *b = (x & 1) ? NVC_MIN(i + 1, n - 1) : NVC_MAX(i - 1, 0);
        *wa = 3;
    }
}

static void upsample(Plane32 *dst, const Plane32 *src, int hcosited, int vcosited)
{
    for (int y = 0; y < dst->h; y++) {
        int ya, yb, wya;
        up_taps(y, src->h, vcosited, &ya, &yb, &wya);
        const int32_t *ra = src->v + (size_t)ya * src->w, *rb = src->v + (size_t)yb * src->w;
        for (int x = 0; x < dst->w; x++) {
            int xa, xb, wxa;
            up_taps(x, src->w, hcosited, &xa, &xb, &wxa);
            int64_t top = (int64_t)wxa * ra[xa] + (int64_t)(4 - wxa) * ra[xb];
            int64_t bot = (int64_t)wxa * rb[xa] + (int64_t)(4 - wxa) * rb[xb];
            dst->v[(size_t)y * dst->w + x] = (int32_t)rshift_round(wya * top + (4 - wya) * bot, 4);
        }
    }
}

/* Average (centre siting) or [1 2 1] (co-sited) along each axis. */
static void downsample(Plane32 *dst, const Plane32 *src, int hcosited, int vcosited)
{
    for (int y = 0; y < dst->h; y++) {
        int ys[3], wy[3];
        if (vcosited) {
            ys[0] = NVC_MAX(2 * y - 1, 0), ys[1] = 2 * y, ys[2] = NVC_MIN(2 * y + 1, src->h - 1);
            wy[0] = 1, wy[1] = 2, wy[2] = 1;
        } else {
            ys[0] = 2 * y, ys[1] = NVC_MIN(2 * y + 1, src->h - 1), ys[2] = 0;
            wy[0] = 2, wy[1] = 2, wy[2] = 0;
        }
        for (int x = 0; x < dst->w; x++) {
            int xs[3], wx[3];
            if (hcosited) {
                xs[0] = NVC_MAX(2 * x - 1, 0), xs[1] = 2 * x, xs[2] = NVC_MIN(2 * x + 1, src->w - 1);
                wx[0] = 1, wx[1] = 2, wx[2] = 1;
            } else {
                xs[0] = 2 * x, xs[1] = NVC_MIN(2 * x + 1, src->w - 1), xs[2] = 0;
                wx[0] = 2, wx[1] = 2, wx[2] = 0;
            }
            int64_t acc = 0;
            for (int j = 0; j < 3; j++)
                for (int i = 0; i < 3; i++)
                    acc += (int64_t)wy[j] * wx[i] * src->v[(size_t)ys[j] * src->w + xs[i]];
            dst->v[(size_t)y * dst->w + x] = (int32_t)rshift_round(acc, 4);
        }
    }
}

/* In place: Y, Cb, Cr -> R, G, B. */
static void yuv_to_rgb(Plane32 p[3], int kr, int kb)
{
    const int one = 1 << COEF_BITS, kg = one - kr - kb;
    const int64_t cr_r = 2LL * (one - kr), cb_b = 2LL * (one - kb);
    const int64_t cb_g = div_round(2LL * kb * (one - kb), kg);
    const int64_t cr_g = div_round(2LL * kr * (one - kr), kg);
    const size_t n = (size_t)p[0].w * p[0].h;
    for (size_t i = 0; i < n; i++) {
        int64_t y = p[0].v[i], cb = p[1].v[i], cr = p[2].v[i];
        p[0].v[i] = (int32_t)(y + rshift_round(cr_r * cr, COEF_BITS));
        p[1].v[i] = (int32_t)(y - rshift_round(cb_g * cb + cr_g * cr, COEF_BITS));
        p[2].v[i] = (int32_t)(y + rshift_round(cb_b * cb, COEF_BITS));
    }
}

/* In place: R, G, B -> Y, Cb, Cr. */
static void rgb_to_yuv(Plane32 p[3], int kr, int kb)
{
    const int64_t one = 1 << COEF_BITS, kg = one - kr - kb;
    const size_t n = (size_t)p[0].w * p[0].h;
    for (size_t i = 0; i < n; i++) {
        int64_t r = p[0].v[i], g = p[1].v[i], b = p[2].v[i];
        int64_t y = rshift_round(kr * r + kg * g + kb * b, COEF_BITS);
        p[0].v[i] = (int32_t)y;
        p[1].v[i] = (int32_t)div_round((b - y) * one, 2 * (one - kb));
        p[2].v[i] = (int32_t)div_round((r - y) * one, 2 * (one - kr));
    }
}

static int same_format(const NvcPictureParameters *dp, const NvcColorDescription *dc,
                       const NvcPicture *src)
{
    return !memcmp(dp, &src->p, sizeof(*dp)) && dc->matrix == src->color.matrix &&
           dc->range == src->color.range &&
           (dp->layout != NVC_PIXEL_LAYOUT_I420 ||
            dc->chroma_location == src->color.chroma_location);
}

static void siting(enum NvcChromaLocation loc, int *h, int *v)
{
    *h = loc == NVC_CHROMA_LEFT || loc == NVC_CHROMA_TOPLEFT;
    *v = loc == NVC_CHROMA_TOPLEFT;
}

int nvc_picture_convert(NvcPicture *dst, const NvcPictureParameters *dp,
                        const NvcColorDescription *dc, const NvcPicture *src)
{
    memset(dst, 0, sizeof(*dst));
    const int src_gray = src->p.layout == NVC_PIXEL_LAYOUT_I400;
    const int dst_gray = dp->layout == NVC_PIXEL_LAYOUT_I400;
    if (dp->w != src->p.w || dp->h != src->p.h || (src_gray && !dst_gray))
        return NVC_ERR(EINVAL);
    int ret = nvc_picture_alloc(dst, dp, (int64_t)dp->w * dp->h);
    if (ret < 0)
        return ret;
    dst->color = *dc;
    dst->pts = src->pts;
    if (same_format(dp, dc, src))
        return nvc_picture_copy(dst, src);

    const int w = dp->w, h = dp->h;
    Plane32 p[3] = { 0 }, tmp = { 0 };
    size_t npix = (size_t)w * h;
    int srgb = is_rgb(&src->color, src->p.layout), drgb = is_rgb(dc, dp->layout);
    const int nsrc = src_gray ? 1 : 3;
    ret = NVC_ERR(ENOMEM);
    for (int i = 0; i < nsrc; i++) {
        p[i] = (Plane32){ malloc(npix * sizeof(int32_t)), w, h };
        if (!p[i].v)
            goto end;
    }
    /* 1. source samples -> normalised, chroma brought to full resolution */
    for (int i = 0; i < nsrc; i++) {
        Range r = sample_range(src->p.bpc, src->color.range, i > 0 && !srgb);
        int pw, ph;
        nvc_picture_plane_size(&src->p, i, &pw, &ph);
        if (pw == w && ph == h) {
            to_norm(&p[i], src, i, r);
            continue;
        }
        tmp = (Plane32){ malloc((size_t)pw * ph * sizeof(int32_t)), pw, ph };
        if (!tmp.v)
            goto end;
        to_norm(&tmp, src, i, r);
        int hc, vc;
        siting(src->color.chroma_location, &hc, &vc);
        upsample(&p[i], &tmp, hc, vc);
        free(tmp.v);
        tmp.v = NULL;
    }
    /* 2. matrix */
    if (!src_gray && !dst_gray) {
        int skr, skb, dkr, dkb;
        matrix_coefs(src->color.matrix, h, &skr, &skb);
        matrix_coefs(dc->matrix, h, &dkr, &dkb);
        if (!srgb && (drgb || skr != dkr || skb != dkb))
            yuv_to_rgb(p, skr, skb);
        if (!drgb && (srgb || skr != dkr || skb != dkb))
            rgb_to_yuv(p, dkr, dkb);
    } else if (!src_gray && dst_gray && srgb) {
        int kr, kb;
        matrix_coefs(dc->matrix == NVC_MC_IDENTITY ? NVC_MC_UNSPECIFIED : dc->matrix, h, &kr, &kb);
        rgb_to_yuv(p, kr, kb);
    }
    /* 3. normalised -> target samples, chroma subsampled if needed */
    for (int i = 0; i < nvc_picture_planes(dp->layout); i++) {
        Range r = sample_range(dp->bpc, dc->range, i > 0 && !drgb);
        int pw, ph;
        nvc_picture_plane_size(dp, i, &pw, &ph);
        if (pw == w && ph == h) {
            from_norm(dst, i, &p[i], r);
            continue;
        }
        tmp = (Plane32){ malloc((size_t)pw * ph * sizeof(int32_t)), pw, ph };
        if (!tmp.v)
            goto end;
        int hc, vc;
        siting(dc->chroma_location, &hc, &vc);
        downsample(&tmp, &p[i], hc, vc);
        from_norm(dst, i, &tmp, r);
        free(tmp.v);
        tmp.v = NULL;
    }
    ret = 0;
end:
    free(tmp.v);
    for (int i = 0; i < 3; i++)
        free(p[i].v);
    if (ret < 0)
        nvc_picture_unref(dst);
    return ret;
}

int nvc_picture_to_rgb(NvcPicture *dst, const NvcPicture *src, int bpc)
{
    NvcPictureParameters dp = { src->p.w, src->p.h, NVC_PIXEL_LAYOUT_I444, bpc };
    NvcColorDescription dc;
    nvc_color_description_default(&dc);
    dc.matrix = NVC_MC_IDENTITY;
    dc.range = NVC_RANGE_FULL;
    dc.primaries = src->color.primaries;
    dc.transfer = src->color.transfer;
    return nvc_picture_convert(dst, &dp, &dc, src);
}
