/*
 * Entropy model of one latent of the video codec (nvc/video_prior.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/video_prior.h"

/* ---- parameters --------------------------------------------------------------------- */

static void conv_param(NvcArena *a, NvcImgConv *c, int co, int ci, int k, const char *pfx, const char *name)
{
    c->w = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, 0.0f), NVC_SHAPE(co, ci, k, k), "%s.%s.weight", pfx, name);
    c->b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(ci * k * k)), NVC_SHAPE(co), "%s.%s.bias", pfx,
                      name);
}

void nvc_vid_prior_params(NvcArena *a, NvcVidPriorParams *p, const char *pfx, int M, int Cz, int P)
{
    char name[32];
    conv_param(a, &p->ha[0], Cz, M, 3, pfx, "ha.0");
    conv_param(a, &p->ha[1], Cz, Cz, 3, pfx, "ha.1");
    conv_param(a, &p->ha[2], Cz, Cz, 3, pfx, "ha.2");
    p->z_scale = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(NVC_IMG_QLEVELS, Cz), "%s.z_scale", pfx);
    conv_param(a, &p->hs[0], P, Cz, 3, pfx, "hs.0");
    conv_param(a, &p->hs[1], 4 * P, P, 1, pfx, "hs.1");
    conv_param(a, &p->hs[2], P, P, 3, pfx, "hs.2");
    conv_param(a, &p->hs[3], 4 * P, P, 1, pfx, "hs.3");
    conv_param(a, &p->hs[4], P, P, 1, pfx, "hs.4");
    conv_param(a, &p->fuse, P, P + M, 1, pfx, "fuse");
    conv_param(a, &p->p0, 2 * M, P, 1, pfx, "prior.0");
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "ctx.%d.in", i + 1);
        conv_param(a, &p->ctx[i].in, P, M + P, 1, pfx, name);
        snprintf(name, sizeof(name), "ctx.%d.dw", i + 1);
        conv_param(a, &p->ctx[i].dw, P, 1, 3, pfx, name);
        snprintf(name, sizeof(name), "ctx.%d.mid", i + 1);
        conv_param(a, &p->ctx[i].mid, P, P, 1, pfx, name);
        snprintf(name, sizeof(name), "ctx.%d.out", i + 1);
        conv_param(a, &p->ctx[i].out, 2 * M, P, 1, pfx, name);
    }
}

void nvc_vid_prior_init_host(NvcVidPriorParams *p, int M)
{
    /* the scale roots are the second half of the 2M outputs */
    for (int j = M; j < 2 * M; j++) {
        p->p0.b[j] = 1.0f;
        for (int i = 0; i < 3; i++)
            p->ctx[i].out.b[j] = 1.0f;
    }
}

/* ---- activations -------------------------------------------------------------------- */

#define ACT(shape, ...) nvc_tensor(ar, NVC_INIT(NVC_INIT_NONE, 0), shape, __VA_ARGS__)

void nvc_vid_prior_acts(NvcArena *ar, NvcVidPriorActs *a, const char *pfx, const NvcVidPrior *L)
{
    const int B = L->B, h4 = L->h, w4 = L->w, h5 = h4 / 2, w5 = w4 / 2, h6 = h5 / 2, w6 = w5 / 2;
    const int P = L->P, M = L->M, E = 2 * M, Cz = L->Cz;
    a->ha_c[0] = ACT(NVC_SHAPE(B, Cz, h4, w4), "%s.ha.c0", pfx);
    a->ha_a[0] = ACT(NVC_SHAPE(B, Cz, h4, w4), "%s.ha.a0", pfx);
    a->ha_c[1] = ACT(NVC_SHAPE(B, Cz, h5, w5), "%s.ha.c1", pfx);
    a->ha_a[1] = ACT(NVC_SHAPE(B, Cz, h5, w5), "%s.ha.a1", pfx);
    a->ha_c[2] = ACT(NVC_SHAPE(B, Cz, h6, w6), "%s.z", pfx);
    if (L->infer) {
        a->zq = ACT(NVC_SHAPE(B, Cz), "%s.z.q", pfx);
        a->yhat = ACT(NVC_SHAPE(B, M, h4, w4), "%s.yhat", pfx);
        a->bits = ACT(NVC_SHAPE(2), "%s.bits", pfx);
        return;
    }
    a->z_noisy = ACT(NVC_SHAPE(B, Cz, h6, w6), "%s.z.noisy", pfx);
    a->z_hat = ACT(NVC_SHAPE(B, Cz, h6, w6), "%s.z.hat", pfx);
    a->z_sc = ACT(NVC_SHAPE(B, Cz, h6, w6), "%s.z.scale", pfx);
    a->zq = ACT(NVC_SHAPE(B, Cz), "%s.z.q", pfx);
    a->hs_c[0] = ACT(NVC_SHAPE(B, P, h6, w6), "%s.hs.c0", pfx);
    a->hs_r[0] = ACT(NVC_SHAPE(B, P, h6, w6), "%s.hs.r0", pfx);
    a->hs_c[1] = ACT(NVC_SHAPE(B, 4 * P, h6, w6), "%s.hs.c1", pfx);
    a->hs_ps[0] = ACT(NVC_SHAPE(B, P, h5, w5), "%s.hs.ps0", pfx);
    a->hs_r[1] = ACT(NVC_SHAPE(B, P, h5, w5), "%s.hs.r1", pfx);
    a->hs_c[2] = ACT(NVC_SHAPE(B, P, h5, w5), "%s.hs.c2", pfx);
    a->hs_r[2] = ACT(NVC_SHAPE(B, P, h5, w5), "%s.hs.r2", pfx);
    a->hs_c[3] = ACT(NVC_SHAPE(B, 4 * P, h5, w5), "%s.hs.c3", pfx);
    a->hs_ps[1] = ACT(NVC_SHAPE(B, P, h4, w4), "%s.hs.ps1", pfx);
    a->hs_r[3] = ACT(NVC_SHAPE(B, P, h4, w4), "%s.hs.r3", pfx);
    a->hs_c[4] = ACT(NVC_SHAPE(B, P, h4, w4), "%s.hs.c4", pfx);
    a->hs_r[4] = ACT(NVC_SHAPE(B, P, h4, w4), "%s.hs.r4", pfx);
    a->fin = ACT(NVC_SHAPE(B, P + M, h4, w4), "%s.fin", pfx);
    a->fc = ACT(NVC_SHAPE(B, P, h4, w4), "%s.fc", pfx);
    a->feat = ACT(NVC_SHAPE(B, P, h4, w4), "%s.feat", pfx);
    for (int i = 0; i < 4; i++) {
        a->prm[i] = ACT(NVC_SHAPE(B, E, h4, w4), "%s.prm.%d", pfx, i);
        a->ctr[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.ctr.%d", pfx, i);
        a->rest[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.rest.%d", pfx, i);
        a->negc[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.negc.%d", pfx, i);
        a->diff[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.diff.%d", pfx, i);
        a->rnd[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.rnd.%d", pfx, i);
        a->yh[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.yh.%d", pfx, i);
        a->yhm[i] = ACT(NVC_SHAPE(B, M, h4, w4), "%s.yhm.%d", pfx, i);
        a->pm[i] = ACT(NVC_SHAPE(B, E, h4, w4), "%s.pm.%d", pfx, i);
        a->sofar[i] = i ? ACT(NVC_SHAPE(B, M, h4, w4), "%s.sofar.%d", pfx, i) : NULL;
    }
    for (int i = 0; i < 3; i++) {
        NvcImgCtx *x = &a->ctx[i];
        x->in = ACT(NVC_SHAPE(B, M + P, h4, w4), "%s.ctx.%d.in", pfx, i + 1);
        x->c1 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.c1", pfx, i + 1);
        x->r1 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.r1", pfx, i + 1);
        x->c2 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.c2", pfx, i + 1);
        x->r2 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.r2", pfx, i + 1);
        x->c3 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.c3", pfx, i + 1);
        x->r3 = ACT(NVC_SHAPE(B, P, h4, w4), "%s.ctx.%d.r3", pfx, i + 1);
    }
    a->pcomb = ACT(NVC_SHAPE(B, E, h4, w4), "%s.pcomb", pfx);
    a->cctr = ACT(NVC_SHAPE(B, M, h4, w4), "%s.cctr", pfx);
    a->troot = ACT(NVC_SHAPE(B, M, h4, w4), "%s.troot", pfx);
    a->cneg = ACT(NVC_SHAPE(B, M, h4, w4), "%s.cneg", pfx);
    a->cdiff = ACT(NVC_SHAPE(B, M, h4, w4), "%s.cdiff", pfx);
    a->snoisy = ACT(NVC_SHAPE(B, M, h4, w4), "%s.snoisy", pfx);
    a->tsq = ACT(NVC_SHAPE(B, M, h4, w4), "%s.tsq", pfx);
    a->scale = ACT(NVC_SHAPE(B, M, h4, w4), "%s.scale", pfx);
    a->yhat = ACT(NVC_SHAPE(B, M, h4, w4), "%s.yhat", pfx);
    a->bits = ACT(NVC_SHAPE(2), "%s.bits", pfx);
}

/* ---- creation ----------------------------------------------------------------------- */

int nvc_vid_prior_create(NvcVidPrior *L, NvcNn *nn, int B, int M, int Cz, int P, int h, int w, int infer)
{
    memset(L, 0, sizeof(*L));
    if (M % 4 || h % 4 || w % 4 || h < 4 || w < 4)
        return NVC_ERR(EINVAL);
    L->B = B, L->M = M, L->Cz = Cz, L->P = P, L->h = h, L->w = w, L->infer = infer;
    if (infer)
        return 0;
    const size_t n = (size_t)h * w, ne = (size_t)B * 2 * M * n, nz = (size_t)B * Cz * (h / 4) * (w / 4);
    float *host = malloc(sizeof(float) * (ne > nz ? ne : nz));
    if (!host)
        return NVC_ERR(ENOMEM);
    int ret = 0;
    for (int s = 0; s < 4 && !ret; s++) {
        L->mask[s] = nvc_nn_alloc(nn, (size_t)B * M * n);
        L->maske[s] = nvc_nn_alloc(nn, ne);
        if (!L->mask[s] || !L->maske[s]) {
            ret = NVC_ERR(ENOMEM);
            break;
        }
        for (int b = 0; b < B; b++)
            for (int e = 0; e < 2 * M; e++)
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < w; xx++)
                        host[((size_t)b * 2 * M + e) * n + (size_t)yy * w + xx] =
                            nvc_img_step_of(M, e % M, yy, xx) == s ? 1.0f : 0.0f;
        ret = nvc_nn_upload(nn, L->maske[s], host, ne);
        for (int b = 0; b < B && !ret; b++)
            ret = nvc_nn_upload(nn, L->mask[s] + (size_t)b * M * n, host + (size_t)b * 2 * M * n, (size_t)M * n);
    }
    if (!ret) {
        L->ones_z = nvc_nn_alloc(nn, nz);
        for (size_t i = 0; i < nz; i++)
            host[i] = 1.0f;
        ret = L->ones_z ? nvc_nn_upload(nn, L->ones_z, host, nz) : NVC_ERR(ENOMEM);
    }
    free(host);
    if (ret < 0)
        nvc_vid_prior_free(L, nn);
    return ret;
}

void nvc_vid_prior_free(NvcVidPrior *L, NvcNn *nn)
{
    for (int s = 0; s < 4; s++) {
        nvc_nn_release(nn, L->mask[s]);
        nvc_nn_release(nn, L->maske[s]);
    }
    nvc_nn_release(nn, L->ones_z);
    memset(L, 0, sizeof(*L));
}

void nvc_vid_prior_set_quality(const NvcVidPrior *L, NvcNn *nn, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                               const int *q)
{
    for (int b = 0; b < L->B; b++)
        nn->ops->tensor_copy(nn, a->zq + (size_t)b * L->Cz, p->z_scale + (size_t)q[b] * L->Cz, (size_t)L->Cz);
}

/* ---- helpers ------------------------------------------------------------------------ */

static void conv_fwd(NvcNn *nn, float *out, const float *in, const NvcImgConv *c, int B, int ci, int H, int W,
                     int co, int k, int stride, int groups)
{
    nn->ops->conv2d_forward(nn, out, in, c->w, c->b, B, ci, H, W, co, k, stride, k / 2, groups);
}

static void conv_bwd(NvcNn *nn, const float *dout, const float *in, const NvcImgConv *p, float *din,
                     const NvcImgConv *g, int B, int ci, int H, int W, int co, int k, int stride, int groups)
{
    nn->ops->conv2d_backward(nn, dout, in, p->w, din, g->w, g->b, B, ci, H, W, co, k, stride, k / 2, groups);
}

/* ---- hyperprior --------------------------------------------------------------------- */

static void hyper_fwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                      const float *y)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, h = L->h, w = L->w, Cz = L->Cz, P = L->P, h6 = h / 4, w6 = w / 4;
    const size_t n4 = (size_t)B * Cz * h * w, n6 = (size_t)B * P * h6 * w6;
    conv_fwd(nn, a->ha_c[0], y, &p->ha[0], B, L->M, h, w, Cz, 3, 1, 1);
    op->leaky_relu_forward(nn, a->ha_a[0], a->ha_c[0], 0.01f, n4);
    conv_fwd(nn, a->ha_c[1], a->ha_a[0], &p->ha[1], B, Cz, h, w, Cz, 3, 2, 1);
    op->leaky_relu_forward(nn, a->ha_a[1], a->ha_c[1], 0.01f, n4 / 4);
    conv_fwd(nn, a->ha_c[2], a->ha_a[1], &p->ha[2], B, Cz, h / 2, w / 2, Cz, 3, 2, 1);
    (void)n6;
}

void nvc_vid_prior_hyper_analysis(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                                  const float *y)
{
    hyper_fwd(nn, L, p, a, y);
}

static void hyper_bwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorParams *g,
                      const NvcVidPriorActs *a, const NvcVidPriorActs *d, const float *y, float *dy)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, h = L->h, w = L->w, Cz = L->Cz;
    const size_t n4 = (size_t)B * Cz * h * w;
    conv_bwd(nn, d->ha_c[2], a->ha_a[1], &p->ha[2], d->ha_a[1], &g->ha[2], B, Cz, h / 2, w / 2, Cz, 3, 2, 1);
    op->leaky_relu_backward(nn, d->ha_a[1], a->ha_c[1], d->ha_c[1], 0.01f, n4 / 4);
    conv_bwd(nn, d->ha_c[1], a->ha_a[0], &p->ha[1], d->ha_a[0], &g->ha[1], B, Cz, h, w, Cz, 3, 2, 1);
    op->leaky_relu_backward(nn, d->ha_a[0], a->ha_c[0], d->ha_c[0], 0.01f, n4);
    conv_bwd(nn, d->ha_c[0], y, &p->ha[0], dy, &g->ha[0], B, L->M, h, w, Cz, 3, 1, 1);
}

static void hsyn_fwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, P = L->P, h6 = L->h / 4, w6 = L->w / 4;
    const size_t n6 = (size_t)B * P * h6 * w6;
    conv_fwd(nn, a->hs_c[0], a->z_hat, &p->hs[0], B, L->Cz, h6, w6, P, 3, 1, 1);
    op->leaky_relu_forward(nn, a->hs_r[0], a->hs_c[0], 0.0f, n6);
    conv_fwd(nn, a->hs_c[1], a->hs_r[0], &p->hs[1], B, P, h6, w6, 4 * P, 1, 1, 1);
    op->pixel_shuffle_forward(nn, a->hs_ps[0], a->hs_c[1], B, P, h6, w6, 2);
    op->leaky_relu_forward(nn, a->hs_r[1], a->hs_ps[0], 0.0f, 4 * n6);
    conv_fwd(nn, a->hs_c[2], a->hs_r[1], &p->hs[2], B, P, 2 * h6, 2 * w6, P, 3, 1, 1);
    op->leaky_relu_forward(nn, a->hs_r[2], a->hs_c[2], 0.0f, 4 * n6);
    conv_fwd(nn, a->hs_c[3], a->hs_r[2], &p->hs[3], B, P, 2 * h6, 2 * w6, 4 * P, 1, 1, 1);
    op->pixel_shuffle_forward(nn, a->hs_ps[1], a->hs_c[3], B, P, 2 * h6, 2 * w6, 2);
    op->leaky_relu_forward(nn, a->hs_r[3], a->hs_ps[1], 0.0f, 16 * n6);
    conv_fwd(nn, a->hs_c[4], a->hs_r[3], &p->hs[4], B, P, 4 * h6, 4 * w6, P, 1, 1, 1);
    op->leaky_relu_forward(nn, a->hs_r[4], a->hs_c[4], 0.0f, 16 * n6);
}

static void hsyn_bwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorParams *g,
                     const NvcVidPriorActs *a, const NvcVidPriorActs *d)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, P = L->P, h6 = L->h / 4, w6 = L->w / 4;
    const size_t n6 = (size_t)B * P * h6 * w6;
    op->leaky_relu_backward(nn, d->hs_r[4], a->hs_c[4], d->hs_c[4], 0.0f, 16 * n6);
    conv_bwd(nn, d->hs_c[4], a->hs_r[3], &p->hs[4], d->hs_r[3], &g->hs[4], B, P, 4 * h6, 4 * w6, P, 1, 1, 1);
    op->leaky_relu_backward(nn, d->hs_r[3], a->hs_ps[1], d->hs_ps[1], 0.0f, 16 * n6);
    op->pixel_shuffle_backward(nn, d->hs_ps[1], d->hs_c[3], B, P, 2 * h6, 2 * w6, 2);
    conv_bwd(nn, d->hs_c[3], a->hs_r[2], &p->hs[3], d->hs_r[2], &g->hs[3], B, P, 2 * h6, 2 * w6, 4 * P, 1, 1, 1);
    op->leaky_relu_backward(nn, d->hs_r[2], a->hs_c[2], d->hs_c[2], 0.0f, 4 * n6);
    conv_bwd(nn, d->hs_c[2], a->hs_r[1], &p->hs[2], d->hs_r[1], &g->hs[2], B, P, 2 * h6, 2 * w6, P, 3, 1, 1);
    op->leaky_relu_backward(nn, d->hs_r[1], a->hs_ps[0], d->hs_ps[0], 0.0f, 4 * n6);
    op->pixel_shuffle_backward(nn, d->hs_ps[0], d->hs_c[1], B, P, h6, w6, 2);
    conv_bwd(nn, d->hs_c[1], a->hs_r[0], &p->hs[1], d->hs_r[0], &g->hs[1], B, P, h6, w6, 4 * P, 1, 1, 1);
    op->leaky_relu_backward(nn, d->hs_r[0], a->hs_c[0], d->hs_c[0], 0.0f, n6);
    conv_bwd(nn, d->hs_c[0], a->z_hat, &p->hs[0], d->z_hat, &g->hs[0], B, L->Cz, h6, w6, P, 3, 1, 1);
}

/* ---- four-part prior ---------------------------------------------------------------- */

static void ctx_fwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a, int i)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgCtx *x = &a->ctx[i - 1];
    const int B = L->B, P = L->P, M = L->M, h = L->h, w = L->w;
    const size_t n = (size_t)B * P * h * w;
    op->concat_forward(nn, x->in, a->sofar[i], a->feat, B, M, P, h * w);
    conv_fwd(nn, x->c1, x->in, &p->ctx[i - 1].in, B, M + P, h, w, P, 1, 1, 1);
    op->leaky_relu_forward(nn, x->r1, x->c1, 0.0f, n);
    conv_fwd(nn, x->c2, x->r1, &p->ctx[i - 1].dw, B, P, h, w, P, 3, 1, P);
    op->leaky_relu_forward(nn, x->r2, x->c2, 0.0f, n);
    conv_fwd(nn, x->c3, x->r2, &p->ctx[i - 1].mid, B, P, h, w, P, 1, 1, 1);
    op->leaky_relu_forward(nn, x->r3, x->c3, 0.0f, n);
    conv_fwd(nn, a->prm[i], x->r3, &p->ctx[i - 1].out, B, P, h, w, 2 * M, 1, 1, 1);
}

static void ctx_bwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorParams *g,
                    const NvcVidPriorActs *a, const NvcVidPriorActs *d, int i)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgCtx *x = &a->ctx[i - 1], *dx = &d->ctx[i - 1];
    const int B = L->B, P = L->P, M = L->M, h = L->h, w = L->w;
    const size_t n = (size_t)B * P * h * w;
    conv_bwd(nn, d->prm[i], x->r3, &p->ctx[i - 1].out, dx->r3, &g->ctx[i - 1].out, B, P, h, w, 2 * M, 1, 1, 1);
    op->leaky_relu_backward(nn, dx->r3, x->c3, dx->c3, 0.0f, n);
    conv_bwd(nn, dx->c3, x->r2, &p->ctx[i - 1].mid, dx->r2, &g->ctx[i - 1].mid, B, P, h, w, P, 1, 1, 1);
    op->leaky_relu_backward(nn, dx->r2, x->c2, dx->c2, 0.0f, n);
    conv_bwd(nn, dx->c2, x->r1, &p->ctx[i - 1].dw, dx->r1, &g->ctx[i - 1].dw, B, P, h, w, P, 3, 1, P);
    op->leaky_relu_backward(nn, dx->r1, x->c1, dx->c1, 0.0f, n);
    conv_bwd(nn, dx->c1, x->in, &p->ctx[i - 1].in, dx->in, &g->ctx[i - 1].in, B, M + P, h, w, P, 1, 1, 1);
    op->concat_backward(nn, dx->in, d->sofar[i], d->feat, B, M, P, h * w);
}

/* y_hat of the elements of step i: round(y - c) + c with that step's centres
 * (soft: y + u, the noise drawn apart from the rate's). */
static void quantize_step(NvcNn *nn, const NvcVidPrior *L, NvcVidPriorActs *a, const float *y, int i, int soft,
                          uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, M = L->M, hw = L->h * L->w;
    const size_t n = (size_t)B * M * hw;
    op->split_forward(nn, a->ctr[i], a->rest[i], a->prm[i], B, M, M, hw);
    op->affine_forward(nn, a->negc[i], a->ctr[i], -1.0f, 0.0f, n);
    op->add_forward(nn, a->diff[i], y, a->negc[i], n);
    if (soft)
        op->noise_forward(nn, a->rnd[i], a->diff[i], seed, (uint64_t)(2 + i) << 40, n);
    else
        op->round_forward(nn, a->rnd[i], a->diff[i], n);
    op->add_forward(nn, a->yh[i], a->rnd[i], a->ctr[i], n);
    op->mul_forward(nn, a->yhm[i], a->yh[i], L->mask[i], n);
}

/* The latent decoded before step i (1..3): what its context network reads. */
static void sofar_step(NvcNn *nn, const NvcVidPrior *L, NvcVidPriorActs *a, int i)
{
    const size_t n = (size_t)L->B * L->M * L->h * L->w;
    if (i == 1)
        nn->ops->tensor_copy(nn, a->sofar[1], a->yhm[0], n);
    else
        nn->ops->add_forward(nn, a->sofar[i], a->sofar[i - 1], a->yhm[i - 1], n);
}

static void rate_y(NvcNn *nn, const NvcVidPrior *L, NvcVidPriorActs *a, const float *y, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, M = L->M, hw = L->h * L->w;
    const size_t n = (size_t)B * M * hw, ne = 2 * n;
    for (int i = 0; i < 4; i++)
        op->mul_forward(nn, a->pm[i], a->prm[i], L->maske[i], ne);
    op->add_forward(nn, a->pcomb, a->pm[0], a->pm[1], ne);
    op->add_forward(nn, a->pcomb, a->pcomb, a->pm[2], ne);
    op->add_forward(nn, a->pcomb, a->pcomb, a->pm[3], ne);
    op->split_forward(nn, a->cctr, a->troot, a->pcomb, B, M, M, hw);
    op->affine_forward(nn, a->cneg, a->cctr, -1.0f, 0.0f, n);
    op->add_forward(nn, a->cdiff, y, a->cneg, n);
    if (train)
        op->noise_forward(nn, a->snoisy, a->cdiff, seed, 0, n);
    else
        op->round_forward(nn, a->snoisy, a->cdiff, n);
    op->mul_forward(nn, a->tsq, a->troot, a->troot, n);
    op->affine_forward(nn, a->scale, a->tsq, 1.0f, 0.11f, n);
    op->rate_gaussian_forward(nn, a->bits, a->snoisy, NULL, a->scale, n);
}

static void rate_y_bwd(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorActs *a, const NvcVidPriorActs *d,
                       float *dy, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, M = L->M, hw = L->h * L->w;
    const size_t n = (size_t)B * M * hw, ne = 2 * n;
    op->rate_gaussian_backward(nn, dbits, a->snoisy, NULL, a->scale, d->snoisy, NULL, d->scale, n);
    op->affine_backward(nn, d->scale, d->tsq, 1.0f, n);
    op->mul_backward(nn, d->tsq, a->troot, a->troot, d->troot, d->troot, n);
    op->noise_backward(nn, d->snoisy, d->cdiff, n);
    op->add_backward(nn, d->cdiff, dy, d->cneg, n);
    op->affine_backward(nn, d->cneg, d->cctr, -1.0f, n);
    op->split_backward(nn, d->cctr, d->troot, d->pcomb, B, M, M, hw);
    for (int i = 0; i < 4; i++)
        op->mul_backward(nn, d->pcomb, a->prm[i], L->maske[i], d->prm[i], NULL, ne);
}

/* ---- the module ----------------------------------------------------------------------- */

void nvc_vid_prior_forward(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorActs *a,
                           const float *y, const float *ref, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, M = L->M, P = L->P, h = L->h, w = L->w, h6 = h / 4, w6 = w / 4;
    const size_t nz = (size_t)B * L->Cz * h6 * w6, n = (size_t)B * M * h * w;
    hyper_fwd(nn, L, p, a, y);
    if (train)
        op->noise_forward(nn, a->z_noisy, a->ha_c[2], seed, 1ull << 40, nz);
    else
        op->round_forward(nn, a->z_noisy, a->ha_c[2], nz);
    op->round_forward(nn, a->z_hat, a->ha_c[2], nz);
    op->chanmul_forward(nn, a->z_sc, L->ones_z, a->zq, NULL, B, L->Cz, h6 * w6, 1);
    op->rate_gaussian_forward(nn, a->bits + 1, a->z_noisy, NULL, a->z_sc, nz);
    hsyn_fwd(nn, L, p, a);
    op->concat_forward(nn, a->fin, a->hs_r[4], ref, B, P, M, h * w);
    conv_fwd(nn, a->fc, a->fin, &p->fuse, B, P + M, h, w, P, 1, 1, 1);
    op->leaky_relu_forward(nn, a->feat, a->fc, 0.0f, (size_t)B * P * h * w);
    conv_fwd(nn, a->prm[0], a->feat, &p->p0, B, P, h, w, 2 * M, 1, 1, 1);
    quantize_step(nn, L, a, y, 0, train == 2, seed);
    for (int i = 1; i < 4; i++) {
        sofar_step(nn, L, a, i);
        ctx_fwd(nn, L, p, a, i);
        quantize_step(nn, L, a, y, i, train == 2, seed);
    }
    op->add_forward(nn, a->yhat, a->sofar[3], a->yhm[3], n);
    rate_y(nn, L, a, y, train, seed);
}

void nvc_vid_prior_backward(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorParams *p, NvcVidPriorParams *g,
                            const NvcVidPriorActs *a, const NvcVidPriorActs *d, const float *y, float *dy,
                            const float *ref, float *dref, const int *q, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const int B = L->B, M = L->M, P = L->P, h = L->h, w = L->w, h6 = h / 4, w6 = w / 4;
    const size_t nz = (size_t)B * L->Cz * h6 * w6, n = (size_t)B * M * h * w;
    (void)ref;
    rate_y_bwd(nn, L, a, d, dy, dbits);
    /* y_hat = sofar[3] + yhm[3]; yhm[i] = y_hat_i * mask_i, straight through to y */
    op->add_backward(nn, d->yhat, d->sofar[3], d->yhm[3], n);
    op->mul_backward(nn, d->yhm[3], a->yh[3], L->mask[3], dy, NULL, n);
    for (int i = 3; i >= 1; i--) {
        ctx_bwd(nn, L, p, g, a, d, i);
        if (i > 1)
            op->add_backward(nn, d->sofar[i], d->sofar[i - 1], d->yhm[i - 1], n);
        else
            op->add_backward(nn, d->sofar[1], d->yhm[0], NULL, n);
        op->mul_backward(nn, d->yhm[i - 1], a->yh[i - 1], L->mask[i - 1], dy, NULL, n);
    }
    conv_bwd(nn, d->prm[0], a->feat, &p->p0, d->feat, &g->p0, B, P, h, w, 2 * M, 1, 1, 1);
    op->leaky_relu_backward(nn, d->feat, a->fc, d->fc, 0.0f, (size_t)B * P * h * w);
    conv_bwd(nn, d->fc, a->fin, &p->fuse, d->fin, &g->fuse, B, P + M, h, w, P, 1, 1, 1);
    op->concat_backward(nn, d->fin, d->hs_r[4], dref, B, P, M, h * w);
    hsyn_bwd(nn, L, p, g, a, d);
    op->round_backward(nn, d->z_hat, d->ha_c[2], nz);
    op->rate_gaussian_backward(nn, dbits, a->z_noisy, NULL, a->z_sc, d->z_noisy, NULL, d->z_sc, nz);
    op->noise_backward(nn, d->z_noisy, d->ha_c[2], nz);
    op->chanmul_backward(nn, d->z_sc, L->ones_z, a->zq, NULL, d->zq, NULL, B, L->Cz, h6 * w6, 1);
    for (int b = 0; b < B; b++) {
        float *row = g->z_scale + (size_t)q[b] * L->Cz;
        op->add_forward(nn, row, row, d->zq + (size_t)b * L->Cz, (size_t)L->Cz);
    }
    hyper_bwd(nn, L, p, g, a, d, y, dy);
}

double nvc_vid_prior_macs(int M, int Cz, int P)
{
    /* per latent element position (1/16 of the picture) */
    double m = Cz * M * 9 + Cz * Cz * 9 / 4.0 + Cz * Cz * 9 / 16.0;   /* analysis */
    m += (P * Cz * 9 + 4.0 * P * P) / 16 + (P * P * 9 + 4.0 * P * P) / 4 + P * P; /* HS */
    m += (double)(P + M) * P + P * 2.0 * M / 4;                      /* fuse, step 0 */
    m += 3 * ((M + P) * (double)P + 9 * P + P * P + P * 2.0 * M / 4);
    return m;
}
