/*
 * Reference-counted pictures.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/picture.h"

int nvc_picture_planes(enum NvcPixelLayout layout)
{
    return layout == NVC_PIXEL_LAYOUT_I400 ? 1 : 3;
}

void nvc_picture_plane_size(const NvcPictureParameters *p, int plane, int *w, int *h)
{
    int ss = plane > 0 && p->layout == NVC_PIXEL_LAYOUT_I420;
    *w = (p->w + ss) >> ss;
    *h = (p->h + ss) >> ss;
}

void nvc_color_description_default(NvcColorDescription *c)
{
    c->matrix = NVC_MC_UNSPECIFIED;
    c->primaries = NVC_PRI_UNSPECIFIED;
    c->transfer = NVC_TRC_UNSPECIFIED;
    c->range = NVC_RANGE_LIMITED;
    c->chroma_location = NVC_CHROMA_UNSPECIFIED;
}

static int params_valid(const NvcPictureParameters *p)
{
    return p->w >= 1 && p->h >= 1 && p->w <= NVC_MAX_DIMENSION && p->h <= NVC_MAX_DIMENSION &&
           (p->layout == NVC_PIXEL_LAYOUT_I400 || p->layout == NVC_PIXEL_LAYOUT_I420 ||
            p->layout == NVC_PIXEL_LAYOUT_I444) &&
           (p->bpc == 8 || p->bpc == 10 || p->bpc == 12 || p->bpc == 16);
}

static void free_planes(void *base, void *cookie)
{
    nvc_free_aligned(base);
}

int nvc_picture_alloc(NvcPicture *pic, const NvcPictureParameters *params, int64_t max_pixels)
{
    memset(pic, 0, sizeof(*pic));
    if (!params_valid(params))
        return NVC_ERR(EINVAL);
    if (max_pixels <= 0)
        max_pixels = NVC_DEFAULT_MAX_PIXELS;
    if ((int64_t)params->w * params->h > max_pixels)
        return NVC_ERR(ERANGE);

    const size_t bytes = params->bpc > 8 ? 2 : 1;
    size_t offset[3], total = 0;
    const int np = nvc_picture_planes(params->layout);
    for (int i = 0; i < np; i++) {
        int w, h;
        nvc_picture_plane_size(params, i, &w, &h);
        pic->stride[i] = (ptrdiff_t)NVC_ALIGN((size_t)w * bytes, 64);
        offset[i] = total;
        total += (size_t)pic->stride[i] * (size_t)h;
    }
    uint8_t *base = nvc_malloc_aligned(total);
    if (!base)
        goto fail;
    memset(base, 0, total);
    pic->ref = nvc_ref_create(base, free_planes, NULL);
    if (!pic->ref) {
        nvc_free_aligned(base);
        goto fail;
    }
    for (int i = 0; i < np; i++)
        pic->data[i] = base + offset[i];
    pic->p = *params;
    nvc_color_description_default(&pic->color);
    return 0;
fail:
    memset(pic, 0, sizeof(*pic));
    return NVC_ERR(ENOMEM);
}

void nvc_picture_ref(NvcPicture *dst, const NvcPicture *src)
{
    *dst = *src;
    if (src->ref)
        nvc_ref_inc(src->ref);
}

void nvc_picture_move_ref(NvcPicture *dst, NvcPicture *src)
{
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

void nvc_picture_unref(NvcPicture *pic)
{
    if (!pic)
        return;
    nvc_ref_dec(&pic->ref);
    memset(pic, 0, sizeof(*pic));
}

int nvc_picture_copy(NvcPicture *dst, const NvcPicture *src)
{
    if (memcmp(&dst->p, &src->p, sizeof(dst->p)))
        return NVC_ERR(EINVAL);
    const size_t bytes = src->p.bpc > 8 ? 2 : 1;
    for (int i = 0; i < nvc_picture_planes(src->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&src->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            memcpy((uint8_t *)dst->data[i] + y * dst->stride[i],
                   (const uint8_t *)src->data[i] + y * src->stride[i], (size_t)w * bytes);
    }
    dst->color = src->color;
    dst->pts = src->pts;
    return 0;
}
