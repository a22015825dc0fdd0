/*
 * The training loss of the INR codecs, on exactly the planes a decoder
 * emits: the luma channel (or R), and the two chroma channels 2x2 averaged
 * for 4:2:0 sources (a depthwise stride-2 convolution with weights 1/4),
 * over the picture's own area only (masks zero the padding).
 *   L2:        sum_p w_p MSE_p, w = 6/8, 1/8, 1/8 (YCbCr) or 1/3 each (RGB)
 *   L1+MS-SSIM: 0.7 sum_p w_p L1_p + 0.3 (1 - sum_p w_p S_p), S the MS-SSIM
 *              of each plane (SSIM below 161 samples, nothing below 11)
 * averaged over the frames of the batch. Masks carry the weights:
 * sqrt(w_p / N_p) for L2, w_p / N_p for L1 (N_p: samples of the plane).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "inr/loss.h"

typedef struct LossViews {
    float *oy, *oc, *ocp, *oym, *ocm; /* (B,1,H,W), (B,2,H,W), (B,2,Hc,Wc), masked: (B,1,H,W), (B,2,Hc,Wc) */
    float *ly, *lc, *sy, *sc;         /* scalars */
} LossViews;

static void declare(NvcArena *ar, LossViews *v, const InrLoss *l)
{
    const NvcInit none = NVC_INIT(NVC_INIT_NONE, 0);
    const int B = l->bmax, H = l->H, W = l->W;
    v->oy = nvc_tensor(ar, none, NVC_SHAPE(B, 1, H, W), "y");
    v->oc = nvc_tensor(ar, none, NVC_SHAPE(B, 2, H, W), "c");
    v->ocp = l->sub ? nvc_tensor(ar, none, NVC_SHAPE(B, 2, l->Hc, l->Wc), "c.pooled") : NULL;
    v->oym = nvc_tensor(ar, none, NVC_SHAPE(B, 1, H, W), "y.masked");
    v->ocm = nvc_tensor(ar, none, NVC_SHAPE(B, 2, l->Hc, l->Wc), "c.masked");
    v->ly = nvc_tensor(ar, none, NVC_SHAPE(1), "loss.y");
    v->lc = nvc_tensor(ar, none, NVC_SHAPE(1), "loss.c");
    v->sy = nvc_tensor(ar, none, NVC_SHAPE(1), "ssim.y");
    v->sc = nvc_tensor(ar, none, NVC_SHAPE(1), "ssim.c");
}

void inr_loss_free(InrLoss *l, NvcNn *nn)
{
    nvc_nn_release(nn, l->x);
    nvc_nn_release(nn, l->dx);
    nvc_nn_release(nn, l->consts);
    nvc_arena_free(&l->ar);
    free(l->views);
    free(l->host);
    memset(l, 0, sizeof(*l));
}

static size_t ny(const InrLoss *l)
{
    return (size_t)l->H * l->W;
}

static size_t nc(const InrLoss *l)
{
    return (size_t)2 * l->Hc * l->Wc;
}

int inr_loss_init(InrLoss *l, NvcNn *nn, const NvcPictureParameters *p, int rgb, int H, int W, int bmax,
                  enum InrLossKind kind)
{
    memset(l, 0, sizeof(*l));
    l->p = *p;
    l->H = H, l->W = W, l->bmax = bmax, l->kind = kind;
    l->sub = p->layout == NVC_PIXEL_LAYOUT_I420;
    l->gray = p->layout == NVC_PIXEL_LAYOUT_I400;
    l->Hc = l->sub ? H / 2 : H;
    l->Wc = l->sub ? W / 2 : W;
    l->wy = l->gray ? 1.0f : rgb ? 1.0f / 3 : 6.0f / 8;
    l->wc = l->gray ? 0.0f : rgb ? 1.0f / 3 : 1.0f / 8;
    LossViews *v = l->views = calloc(2, sizeof(LossViews));
    if (!v)
        return NVC_ERR(ENOMEM);
    declare(&l->ar, &v[0], l);
    int ret = nvc_arena_check(&l->ar);
    if (ret < 0)
        return ret;
    /* constants: pool weights, masks (L2 or L1 form), masked targets, raw targets */
    const size_t cy = (size_t)bmax * ny(l), cc = (size_t)bmax * nc(l);
    l->nconst = 16 + 3 * (cy + cc);
    l->x = nvc_nn_alloc(nn, l->ar.size);
    l->dx = nvc_nn_alloc(nn, l->ar.size);
    l->consts = nvc_nn_alloc(nn, l->nconst);
    l->host = calloc(l->nconst, sizeof(float));
    if (!l->x || !l->dx || !l->consts || !l->host)
        return NVC_ERR(ENOMEM);
    nvc_arena_bind(&l->ar, l->x);
    declare(&l->ar, &v[0], l);
    nvc_arena_bind(&l->ar, l->dx);
    declare(&l->ar, &v[1], l);
    l->pool_w = l->consts;
    l->my = l->consts + 16, l->mc = l->my + cy;
    l->ty = l->mc + cc, l->tc = l->ty + cy;
    l->ry = l->tc + cc, l->rc = l->ry + cy;
    /* host mirror of the constants: pool weights and masks are fixed */
    float *h = l->host;
    for (int i = 0; i < 16; i++)
        h[i] = 0.25f;
    const int l1 = kind == INR_LOSS_L1_MSSSIM;
    int cw, ch;
    nvc_picture_plane_size(p, 0, &cw, &ch);
    float my = l1 ? l->wy / (float)((double)p->w * p->h) : sqrtf(l->wy / (float)((double)p->w * p->h));
    for (int b = 0; b < bmax; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                h[16 + (size_t)b * ny(l) + (size_t)y * W + x] = y < p->h && x < p->w ? my : 0.0f;
    float mc = 0.0f;
    if (!l->gray) {
        nvc_picture_plane_size(p, 1, &cw, &ch);
        mc = l1 ? l->wc / (float)((double)cw * ch) : sqrtf(l->wc / (float)((double)cw * ch));
    }
    float *hm = h + 16 + cy;
    for (int b = 0; b < bmax; b++)
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < l->Hc; y++)
                for (int x = 0; x < l->Wc; x++)
                    hm[((size_t)(b * 2 + c) * l->Hc + y) * l->Wc + x] = !l->gray && y < ch && x < cw ? mc : 0.0f;
    return nvc_nn_upload(nn, l->consts, l->host, 16 + cy + cc);
}

static inline float sample01(const NvcPicture *pic, int plane, int x, int y)
{
    const uint8_t *row = (const uint8_t *)pic->data[plane] + (ptrdiff_t)y * pic->stride[plane];
    const float inv = 1.0f / (float)((1 << pic->p.bpc) - 1);
    return (pic->p.bpc == 8 ? (float)row[x] : (float)((const uint16_t *)row)[x]) * inv;
}

int inr_loss_set_targets(InrLoss *l, NvcNn *nn, const NvcPicture *const *pics, int B)
{
    const size_t cy = (size_t)l->bmax * ny(l), cc = (size_t)l->bmax * nc(l);
    float *my = l->host + 16, *mc = my + cy, *ty = mc + cc, *tc = ty + cy, *ry = tc + cc, *rc = ry + cy;
    for (int b = 0; b < B; b++) {
        const NvcPicture *pic = pics[b];
        for (int y = 0; y < l->H; y++)
            for (int x = 0; x < l->W; x++) {
                size_t i = (size_t)b * ny(l) + (size_t)y * l->W + x;
                ry[i] = sample01(pic, 0, NVC_MIN(x, pic->p.w - 1), NVC_MIN(y, pic->p.h - 1));
                ty[i] = ry[i] * my[i];
            }
        if (l->gray)
            continue;
        int cw, ch;
        nvc_picture_plane_size(&pic->p, 1, &cw, &ch);
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < l->Hc; y++)
                for (int x = 0; x < l->Wc; x++) {
                    size_t i = ((size_t)(b * 2 + c) * l->Hc + y) * l->Wc + x;
                    rc[i] = sample01(pic, 1 + c, NVC_MIN(x, cw - 1), NVC_MIN(y, ch - 1));
                    tc[i] = rc[i] * mc[i];
                }
    }
    int ret = nvc_nn_upload(nn, l->ty, ty, (size_t)B * ny(l));
    if (!ret)
        ret = nvc_nn_upload(nn, l->tc, tc, (size_t)B * nc(l));
    if (!ret && l->kind == INR_LOSS_L1_MSSSIM) {
        ret = nvc_nn_upload(nn, l->ry, ry, (size_t)B * ny(l));
        if (!ret)
            ret = nvc_nn_upload(nn, l->rc, rc, (size_t)B * nc(l));
    }
    return ret;
}

/* SSIM-family value of x against t (B, C, h, w), with its backward: MS-SSIM
 * above 160 samples a side, SSIM from 11, else nothing (returns 0). */
static int ssim_term(NvcNn *nn, float *val, const float *x, const float *t, float *dx, float dval, int B, int C,
                     int h, int w, int backward)
{
    const NvcNnOps *op = nn->ops;
    if (h > 160 && w > 160) {
        if (backward)
            op->msssim_backward(nn, dval, x, t, dx, B, C, h, w);
        else
            op->msssim_forward(nn, val, x, t, B, C, h, w);
        return 1;
    }
    if (h >= 11 && w >= 11) {
        if (backward)
            op->ssim_backward(nn, dval, x, t, dx, B, C, h, w);
        else
            op->ssim_forward(nn, val, x, t, B, C, h, w);
        return 1;
    }
    return 0;
}

float inr_loss_step(InrLoss *l, NvcNn *nn, const float *out, float *dout, int B)
{
    const NvcNnOps *op = nn->ops;
    const LossViews *x = &((LossViews *)l->views)[0], *d = &((LossViews *)l->views)[1];
    const size_t hw = ny(l), nY = (size_t)B * hw, nC = (size_t)B * nc(l);
    const float *cpred = l->sub ? x->ocp : x->oc;
    float *dcpred = l->sub ? d->ocp : d->oc;
    op->tensor_zero(nn, l->dx, l->ar.size);
    /* forward */
    op->split_forward(nn, x->oy, x->oc, out, B, 1, 2, (int)hw);
    if (l->sub)
        op->conv2d_forward(nn, x->ocp, x->oc, l->pool_w, NULL, B, 2, l->H, l->W, 2, 2, 2, 0, 2);
    op->mul_forward(nn, x->oym, x->oy, l->my, nY);
    op->mul_forward(nn, x->ocm, cpred, l->mc, nC);
    const int l1 = l->kind == INR_LOSS_L1_MSSSIM;
    if (l1) {
        op->l1_forward(nn, x->ly, x->oym, l->ty, nY);
        op->l1_forward(nn, x->lc, x->ocm, l->tc, nC);
    } else {
        op->mse_forward(nn, x->ly, x->oym, l->ty, nY);
        op->mse_forward(nn, x->lc, x->ocm, l->tc, nC);
    }
    int has_sy = 0, has_sc = 0;
    if (l1) {
        has_sy = ssim_term(nn, x->sy, x->oy, l->ry, NULL, 0, B, 1, l->H, l->W, 0);
        if (!l->gray)
            has_sc = ssim_term(nn, x->sc, cpred, l->rc, NULL, 0, B, 2, l->Hc, l->Wc, 0);
    }
    float v[4] = { 0, 0, 0, 0 };
    nvc_nn_download(nn, &v[0], x->ly, 1);
    nvc_nn_download(nn, &v[1], x->lc, 1);
    if (has_sy)
        nvc_nn_download(nn, &v[2], x->sy, 1);
    if (has_sc)
        nvc_nn_download(nn, &v[3], x->sc, 1);
    /* sum over the batch of the weighted per-frame terms; the gradient of their mean */
    const float wl = l1 ? 0.7f : 1.0f, ws = 0.3f;
    float sw = (has_sy ? l->wy : 0.0f) + (has_sc ? 2 * l->wc : 0.0f);
    float data = (float)nY * v[0] + (float)nC * v[1];
    float loss = wl * data / (float)B;
    if (sw > 0)
        loss += ws * (sw - (has_sy ? l->wy * v[2] : 0.0f) - (has_sc ? 2 * l->wc * v[3] : 0.0f));
    /* backward */
    if (l1) {
        op->l1_backward(nn, wl * (float)nY / (float)B, x->oym, l->ty, d->oym, nY);
        op->l1_backward(nn, wl * (float)nC / (float)B, x->ocm, l->tc, d->ocm, nC);
    } else {
        op->mse_backward(nn, (float)nY / (float)B, x->oym, l->ty, d->oym, nY);
        op->mse_backward(nn, (float)nC / (float)B, x->ocm, l->tc, d->ocm, nC);
    }
    op->mul_backward(nn, d->oym, x->oy, l->my, d->oy, NULL, nY);
    op->mul_backward(nn, d->ocm, cpred, l->mc, dcpred, NULL, nC);
    if (has_sy)
        ssim_term(nn, NULL, x->oy, l->ry, d->oy, -ws * l->wy, B, 1, l->H, l->W, 1);
    if (has_sc)
        ssim_term(nn, NULL, cpred, l->rc, dcpred, -ws * 2 * l->wc, B, 2, l->Hc, l->Wc, 1);
    if (l->sub)
        op->conv2d_backward(nn, d->ocp, x->oc, l->pool_w, d->oc, NULL, NULL, B, 2, l->H, l->W, 2, 2, 2, 0, 2);
    op->split_backward(nn, d->oy, d->oc, dout, B, 1, 2, (int)hw);
    return loss;
}
