/*
 * The learned image model (nvc/image_model.h): parameters, activations,
 * forward and backward passes for training, inference pieces.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/image_model.h"
#include "nvc/image_vq.h"

/* ---- parameters --------------------------------------------------------------------- */

static void conv_param(NvcArena *a, NvcImgConv *c, int co, int ci, int k, const char *name)
{
    c->w = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, 0.0f), NVC_SHAPE(co, ci, k, k), "%s.weight", name);
    c->b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(ci * k * k)), NVC_SHAPE(co), "%s.bias", name);
}

void nvc_img_params(NvcArena *a, NvcImgParams *p, const NvcImgConfig *c)
{
    const int w[4] = { 3, c->c1, c->c2, c->c3 };
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "enc.%d.down", i);
        conv_param(a, &p->enc[i].down, w[i + 1], w[i], 2, name);
        snprintf(name, sizeof(name), "enc.%d.conv", i);
        conv_param(a, &p->enc[i].conv, w[i + 1], w[i + 1], 3, name);
        snprintf(name, sizeof(name), "enc.%d.pw", i);
        conv_param(a, &p->enc[i].pw, w[i + 1], w[i + 1], 1, name);
    }
    conv_param(a, &p->enc_out, c->M, c->c3, 3, "enc.out");
    p->q_enc = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->c1), "q_enc");
    const int dw[4] = { c->M, c->c3, c->c2, c->c1 };
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "dec.%d.up", i);
        conv_param(a, &p->dec[i].up, 4 * dw[i + 1], dw[i], 1, name);
        snprintf(name, sizeof(name), "dec.%d.conv", i);
        conv_param(a, &p->dec[i].conv, dw[i + 1], dw[i + 1], 3, name);
        snprintf(name, sizeof(name), "dec.%d.skip", i);
        conv_param(a, &p->dec[i].skip, 4 * dw[i + 1], dw[i], 1, name);
    }
    p->q_dec = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->c1), "q_dec");
    conv_param(a, &p->dec_out, 12, c->c1, 3, "dec.out");
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        const int E = nvc_img_param_groups(c) * c->M, P = c->P;
        conv_param(a, &p->ha[0], c->Cz, c->M, 3, "ha.0");
        conv_param(a, &p->ha[1], c->Cz, c->Cz, 3, "ha.1");
        conv_param(a, &p->ha[2], c->Cz, c->Cz, 3, "ha.2");
        p->z_scale = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(NVC_IMG_QLEVELS, c->Cz), "z_scale");
        conv_param(a, &p->hs[0], P, c->Cz, 3, "hs.0");
        conv_param(a, &p->hs[1], 4 * P, P, 1, "hs.1");
        conv_param(a, &p->hs[2], P, P, 3, "hs.2");
        conv_param(a, &p->hs[3], 4 * P, P, 1, "hs.3");
        conv_param(a, &p->hs[4], P, P, 1, "hs.4");
        conv_param(a, &p->p0, E, P, 1, "prior.0");
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof(name), "ctx.%d.in", i + 1);
            conv_param(a, &p->ctx[i].in, P, c->M + P, 1, name);
            snprintf(name, sizeof(name), "ctx.%d.dw", i + 1);
            conv_param(a, &p->ctx[i].dw, P, 1, 3, name);
            snprintf(name, sizeof(name), "ctx.%d.mid", i + 1);
            conv_param(a, &p->ctx[i].mid, P, P, 1, name);
            snprintf(name, sizeof(name), "ctx.%d.out", i + 1);
            conv_param(a, &p->ctx[i].out, E, P, 1, name);
        }
    } else {
        const int d = c->M / c->vq_groups;
        p->codebook = nvc_tensor(a, NVC_INIT(NVC_INIT_NORMAL, 1.0f),
                                 NVC_SHAPE(c->vq_levels, c->vq_groups, c->vq_k, d), "vq.codebook");
    }
}

/* Host-side adjustments of the seeded initialization: scalers spanning a
 * range of qualities, scale roots of the prior starting at 1. */
static void init_host_params(const NvcImgConfig *c, const NvcArena *layout, float *host)
{
    NvcImgParams p;
    NvcArena a = *layout;
    a.t = layout->t;
    nvc_arena_bind(&a, host);
    nvc_img_params(&a, &p, c);
    for (int i = 0; i < c->c1; i++) {
        p.q_enc[i] = 0.5f, p.q_enc[c->c1 + i] = 2.0f;
        p.q_dec[i] = 2.0f, p.q_dec[c->c1 + i] = 0.5f;
    }
    for (int j = 0; j < 12; j++)
        p.dec_out.b[j] = 0.5f; /* start from mid-grey pictures */
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        const int G = nvc_img_param_groups(c), E = G * c->M;
        const int first = (G - c->K) * c->M; /* scale roots are the last K groups */
        for (int j = first; j < E; j++) {
            p.p0.b[j] = 1.0f;
            for (int i = 0; i < 3; i++)
                p.ctx[i].out.b[j] = 1.0f;
        }
    }
}

/* ---- activations -------------------------------------------------------------------- */

#define ACT(shape, ...) nvc_tensor(ar, NVC_INIT(NVC_INIT_NONE, 0), shape, __VA_ARGS__)

/* Inference (no backward pass) computes activations and the elementwise ops
 * after them in place: those tensors are one. */
static void rbs_acts(NvcArena *ar, NvcImgRbs *r, int B, int co, int h, int w, int i, int train)
{
    r->down = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.down", i);
    r->c1 = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.c1", i);
    r->c2 = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.c2", i);
    if (train <= 0) {
        r->a1 = r->c1, r->a2 = r->out = r->c2;
        return;
    }
    r->a1 = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.a1", i);
    r->a2 = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.a2", i);
    r->out = ACT(NVC_SHAPE(B, co, h, w), "enc.%d.out", i);
}

static void rbu_acts(NvcArena *ar, NvcImgRbu *r, int B, int co, int h, int w, int i, int train)
{
    /* input resolution h x w, output 2h x 2w */
    r->u = ACT(NVC_SHAPE(B, 4 * co, h, w), "dec.%d.u", i);
    r->ps = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.ps", i);
    r->c = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.c", i);
    r->s = ACT(NVC_SHAPE(B, 4 * co, h, w), "dec.%d.s", i);
    r->sps = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.sps", i);
    if (train <= 0) {
        r->a1 = r->ps, r->a2 = r->out = r->c;
        return;
    }
    r->a1 = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.a1", i);
    r->a2 = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.a2", i);
    r->out = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "dec.%d.out", i);
}

static void gmm_acts(NvcArena *ar, NvcImgActs *a, const NvcImgModel *m)
{
    const NvcImgConfig *c = &m->cfg;
    const int B = m->B, h4 = m->H / 16, w4 = m->W / 16, h5 = h4 / 2, w5 = w4 / 2, h6 = h5 / 2, w6 = w5 / 2;
    const int P = c->P, M = c->M, E = m->E, K = c->K;
    a->ha_c[0] = ACT(NVC_SHAPE(B, c->Cz, h4, w4), "ha.c0");
    a->ha_a[0] = ACT(NVC_SHAPE(B, c->Cz, h4, w4), "ha.a0");
    a->ha_c[1] = ACT(NVC_SHAPE(B, c->Cz, h5, w5), "ha.c1");
    a->ha_a[1] = ACT(NVC_SHAPE(B, c->Cz, h5, w5), "ha.a1");
    a->ha_c[2] = ACT(NVC_SHAPE(B, c->Cz, h6, w6), "z");
    if (m->train < 0)
        return; /* inference: the transforms only */
    a->z_noisy = ACT(NVC_SHAPE(B, c->Cz, h6, w6), "z.noisy");
    a->z_hat = ACT(NVC_SHAPE(B, c->Cz, h6, w6), "z.hat");
    a->z_sc = ACT(NVC_SHAPE(B, c->Cz, h6, w6), "z.scale");
    a->ones_z = ACT(NVC_SHAPE(B, c->Cz, h6, w6), "z.ones");
    a->zq = ACT(NVC_SHAPE(B, c->Cz), "z.q");
    a->hs_c[0] = ACT(NVC_SHAPE(B, P, h6, w6), "hs.c0");
    a->hs_r[0] = ACT(NVC_SHAPE(B, P, h6, w6), "hs.r0");
    a->hs_c[1] = ACT(NVC_SHAPE(B, 4 * P, h6, w6), "hs.c1");
    a->hs_ps[0] = ACT(NVC_SHAPE(B, P, h5, w5), "hs.ps0");
    a->hs_r[1] = ACT(NVC_SHAPE(B, P, h5, w5), "hs.r1");
    a->hs_c[2] = ACT(NVC_SHAPE(B, P, h5, w5), "hs.c2");
    a->hs_r[2] = ACT(NVC_SHAPE(B, P, h5, w5), "hs.r2");
    a->hs_c[3] = ACT(NVC_SHAPE(B, 4 * P, h5, w5), "hs.c3");
    a->hs_ps[1] = ACT(NVC_SHAPE(B, P, h4, w4), "hs.ps1");
    a->hs_r[3] = ACT(NVC_SHAPE(B, P, h4, w4), "hs.r3");
    a->hs_c[4] = ACT(NVC_SHAPE(B, P, h4, w4), "hs.c4");
    a->hs_r[4] = ACT(NVC_SHAPE(B, P, h4, w4), "hs.r4");
    for (int i = 0; i < 4; i++) {
        a->prm[i] = ACT(NVC_SHAPE(B, E, h4, w4), "prm.%d", i);
        a->ctr[i] = ACT(NVC_SHAPE(B, M, h4, w4), "ctr.%d", i);
        a->rest[i] = ACT(NVC_SHAPE(B, E - M, h4, w4), "rest.%d", i);
        a->negc[i] = ACT(NVC_SHAPE(B, M, h4, w4), "negc.%d", i);
        a->diff[i] = ACT(NVC_SHAPE(B, M, h4, w4), "diff.%d", i);
        a->rnd[i] = ACT(NVC_SHAPE(B, M, h4, w4), "rnd.%d", i);
        a->yh[i] = ACT(NVC_SHAPE(B, M, h4, w4), "yh.%d", i);
        a->yhm[i] = ACT(NVC_SHAPE(B, M, h4, w4), "yhm.%d", i);
        a->pm[i] = ACT(NVC_SHAPE(B, E, h4, w4), "pm.%d", i);
        if (i)
            a->sofar[i] = ACT(NVC_SHAPE(B, M, h4, w4), "sofar.%d", i);
    }
    for (int i = 0; i < 3; i++) {
        a->ctx[i].in = ACT(NVC_SHAPE(B, M + P, h4, w4), "ctx.%d.in", i + 1);
        a->ctx[i].c1 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.c1", i + 1);
        a->ctx[i].r1 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.r1", i + 1);
        a->ctx[i].c2 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.c2", i + 1);
        a->ctx[i].r2 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.r2", i + 1);
        a->ctx[i].c3 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.c3", i + 1);
        a->ctx[i].r3 = ACT(NVC_SHAPE(B, P, h4, w4), "ctx.%d.r3", i + 1);
    }
    a->pcomb = ACT(NVC_SHAPE(B, E, h4, w4), "pcomb");
    a->cctr = ACT(NVC_SHAPE(B, M, h4, w4), "cctr");
    a->crest = ACT(NVC_SHAPE(B, E - M, h4, w4), "crest");
    a->cneg = ACT(NVC_SHAPE(B, M, h4, w4), "cneg");
    a->cdiff = ACT(NVC_SHAPE(B, M, h4, w4), "cdiff");
    a->snoisy = ACT(NVC_SHAPE(B, M, h4, w4), "snoisy");
    if (K > 1) {
        a->lg = ACT(NVC_SHAPE(B, K * M, h4, w4), "logits");
        a->rest2 = ACT(NVC_SHAPE(B, 2 * K * M, h4, w4), "rest2");
        a->dl = ACT(NVC_SHAPE(B, K * M, h4, w4), "deltas");
        a->troot = ACT(NVC_SHAPE(B, K * M, h4, w4), "troot");
    }
    a->tsq = ACT(NVC_SHAPE(B, K * M, h4, w4), "tsq");
    a->scale = ACT(NVC_SHAPE(B, K * M, h4, w4), "scale");
}

static void img_acts(NvcArena *ar, NvcImgActs *a, const NvcImgModel *m)
{
    const NvcImgConfig *c = &m->cfg;
    const int B = m->B, H = m->H, W = m->W;
    const int w[4] = { 3, c->c1, c->c2, c->c3 };
    a->x = ACT(NVC_SHAPE(B, 3, H, W), "x");
    for (int i = 0; i < 3; i++)
        rbs_acts(ar, &a->enc[i], B, w[i + 1], H >> (i + 1), W >> (i + 1), i, m->train);
    a->e1q = m->train > 0 ? ACT(NVC_SHAPE(B, c->c1, H / 2, W / 2), "enc.q") : a->enc[0].out;
    a->y = ACT(NVC_SHAPE(B, c->M, H / 16, W / 16), "y");
    a->qe = ACT(NVC_SHAPE(B, c->c1), "q_enc");
    a->qd = ACT(NVC_SHAPE(B, c->c1), "q_dec");
    a->yhat = ACT(NVC_SHAPE(B, c->M, H / 16, W / 16), "yhat");
    const int dw[4] = { c->M, c->c3, c->c2, c->c1 };
    for (int i = 0; i < 3; i++)
        rbu_acts(ar, &a->dec[i], B, dw[i + 1], H >> (4 - i), W >> (4 - i), i, m->train);
    a->d3q = m->train > 0 ? ACT(NVC_SHAPE(B, c->c1, H / 2, W / 2), "dec.q") : a->dec[2].out;
    a->dec_out = ACT(NVC_SHAPE(B, 12, H / 2, W / 2), "dec.out");
    a->xhat = ACT(NVC_SHAPE(B, 3, H, W), "xhat");
    if (c->prior == NVC_IMG_PRIOR_GMM)
        gmm_acts(ar, a, m);
    a->bits = ACT(NVC_SHAPE(8 + 64), "bits");
}

/* K = 1: the scale roots are the rest of the combined parameters. */
static void alias_acts(NvcImgActs *a, const NvcImgConfig *c)
{
    if (c->prior == NVC_IMG_PRIOR_GMM && c->K == 1)
        a->troot = a->crest;
}

/* ---- creation ----------------------------------------------------------------------- */

static int make_masks(NvcImgModel *m, NvcNn *nn)
{
    const int B = m->B, M = m->cfg.M, E = m->E, h = m->H / 16, w = m->W / 16;
    const size_t n = (size_t)h * w, ne = (size_t)B * E * n;
    float *host = malloc(ne * sizeof(float));
    if (!host)
        return NVC_ERR(ENOMEM);
    int ret = 0;
    for (int s = 0; s < 4 && !ret; s++) {
        m->mask[s] = nvc_nn_alloc(nn, (size_t)B * M * n);
        m->maske[s] = nvc_nn_alloc(nn, ne);
        if (!m->mask[s] || !m->maske[s]) {
            ret = NVC_ERR(ENOMEM);
            break;
        }
        for (int b = 0; b < B; b++)
            for (int e = 0; e < E; e++)
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < w; xx++)
                        host[((size_t)b * E + e) * n + (size_t)yy * w + xx] =
                            nvc_img_step_of(M, e % M, yy, xx) == s ? 1.0f : 0.0f;
        ret = nvc_nn_upload(nn, m->maske[s], host, ne);
        /* the first M channels of each sample's E have the latent's pattern */
        for (int b = 0; b < B && !ret; b++)
            ret = nvc_nn_upload(nn, m->mask[s] + (size_t)b * M * n, host + (size_t)b * E * n, (size_t)M * n);
    }
    free(host);
    return ret;
}

static int bind_all(NvcImgModel *m)
{
    nvc_arena_bind(&m->params, m->pbuf);
    nvc_img_params(&m->params, &m->p, &m->cfg);
    nvc_arena_bind(&m->acts, m->abuf);
    img_acts(&m->acts, &m->a, m);
    alias_acts(&m->a, &m->cfg);
    if (m->train > 0) {
        nvc_arena_bind(&m->params, m->gbuf);
        nvc_img_params(&m->params, &m->g, &m->cfg);
        nvc_arena_bind(&m->acts, m->dbuf);
        img_acts(&m->acts, &m->d, m);
        alias_acts(&m->d, &m->cfg);
    }
    int ret = nvc_arena_check(&m->params);
    return ret ? ret : nvc_arena_check(&m->acts);
}

int nvc_img_create(NvcImgModel *m, NvcNn *nn, const NvcImgConfig *cfg, int B, int H, int W, int train,
                   NvcLrSchedule sched, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    int ret = nvc_img_config_check(cfg, &nn->logger);
    if (ret < 0)
        return ret;
    if (B < 1 || B > 64 || H < NVC_IMG_ALIGN || W < NVC_IMG_ALIGN || H % NVC_IMG_ALIGN || W % NVC_IMG_ALIGN)
        return NVC_ERR(EINVAL);
    m->cfg = *cfg;
    m->B = B, m->H = H, m->W = W, m->train = train, m->seed = seed;
    m->E = cfg->prior == NVC_IMG_PRIOR_GMM ? nvc_img_param_groups(cfg) * cfg->M : 0;
    nvc_img_params(&m->params, &m->p, cfg);
    img_acts(&m->acts, &m->a, m);
    if ((ret = nvc_arena_check(&m->params)) < 0 || (ret = nvc_arena_check(&m->acts)) < 0)
        return ret;
    float *host = calloc(m->params.size, sizeof(float));
    m->pbuf = nvc_nn_alloc(nn, m->params.size);
    m->abuf = nvc_nn_alloc(nn, m->acts.size);
    if (train > 0) {
        m->gbuf = nvc_nn_alloc(nn, m->params.size);
        m->dbuf = nvc_nn_alloc(nn, m->acts.size);
    }
    if (!host || !m->pbuf || !m->abuf || (train > 0 && (!m->gbuf || !m->dbuf))) {
        free(host);
        nvc_img_free(m, nn);
        return NVC_ERR(ENOMEM);
    }
    nvc_arena_init_params(&m->params, host, seed);
    init_host_params(cfg, &m->params, host);
    ret = nvc_nn_upload(nn, m->pbuf, host, m->params.size);
    free(host);
    if (!ret)
        ret = bind_all(m);
    if (!ret && cfg->prior == NVC_IMG_PRIOR_GMM && train >= 0) {
        ret = make_masks(m, nn);
        if (!ret) {
            /* the broadcast source of the z scales */
            size_t nz = (size_t)B * cfg->Cz * (H / 64) * (W / 64);
            nn->ops->affine_forward(nn, m->a.ones_z, m->a.ones_z, 0.0f, 1.0f, nz);
        }
    }
    if (!ret && cfg->prior == NVC_IMG_PRIOR_VQ)
        ret = nvc_img_vq_create(m);
    if (!ret && train > 0)
        ret = nvc_adam_init(&m->opt, nn, &m->params, sched);
    if (!ret)
        ret = nvc_nn_error(nn);
    if (ret < 0)
        nvc_img_free(m, nn);
    return ret;
}

void nvc_img_free(NvcImgModel *m, NvcNn *nn)
{
    if (m->opt.m)
        nvc_adam_free(&m->opt, nn);
    for (int s = 0; s < 4; s++) {
        nvc_nn_release(nn, m->mask[s]);
        nvc_nn_release(nn, m->maske[s]);
    }
    nvc_img_vq_free(m);
    nvc_nn_release(nn, m->pbuf);
    nvc_nn_release(nn, m->gbuf);
    nvc_nn_release(nn, m->abuf);
    nvc_nn_release(nn, m->dbuf);
    nvc_arena_free(&m->params);
    nvc_arena_free(&m->acts);
    memset(m, 0, sizeof(*m));
}

/* ---- quality scalers ---------------------------------------------------------------- */

static double qfrac(int q)
{
    return q / (double)(NVC_IMG_QLEVELS - 1);
}

int nvc_img_set_quality(NvcImgModel *m, NvcNn *nn, const int *q)
{
    const int c1 = m->cfg.c1, B = m->B;
    float *lim = malloc(sizeof(float) * 4 * c1), *rows = malloc(sizeof(float) * 2 * B * c1);
    int ret = lim && rows ? 0 : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_nn_download(nn, lim, m->p.q_enc, 2 * (size_t)c1);
    if (!ret)
        ret = nvc_nn_download(nn, lim + 2 * c1, m->p.q_dec, 2 * (size_t)c1);
    for (int b = 0; b < B && !ret; b++) {
        m->q[b] = q[b];
        const double t = qfrac(q[b]);
        for (int i = 0; i < c1; i++) {
            /* geometric interpolation between the q = 0 and q = 63 vectors */
            double e0 = fmax(fabs(lim[i]), 1e-6), e1 = fmax(fabs(lim[c1 + i]), 1e-6);
            double d0 = fmax(fabs(lim[2 * c1 + i]), 1e-6), d1 = fmax(fabs(lim[3 * c1 + i]), 1e-6);
            rows[b * c1 + i] = (float)(pow(e0, 1 - t) * pow(e1, t));
            rows[(B + b) * c1 + i] = (float)(pow(d0, 1 - t) * pow(d1, t));
        }
    }
    if (!ret)
        ret = nvc_nn_upload(nn, m->a.qe, rows, (size_t)B * c1);
    if (!ret)
        ret = nvc_nn_upload(nn, m->a.qd, rows + (size_t)B * c1, (size_t)B * c1);
    if (!ret && m->cfg.prior == NVC_IMG_PRIOR_GMM)
        for (int b = 0; b < B; b++)
            nn->ops->tensor_copy(nn, m->a.zq + (size_t)b * m->cfg.Cz, m->p.z_scale + (size_t)q[b] * m->cfg.Cz,
                                 (size_t)m->cfg.Cz);
    free(lim);
    free(rows);
    return ret;
}

/* d scaler rows (B, c1) -> gradients of the two learned vectors (the sign of
 * a stored vector is ignored, as in nvc_img_set_quality). */
static int scaler_backward(NvcImgModel *m, NvcNn *nn, const float *dq_dev, const float *lim_dev, float *glim_dev)
{
    const int c1 = m->cfg.c1, B = m->B;
    float *dq = malloc(sizeof(float) * B * c1), *lim = malloc(sizeof(float) * 2 * c1);
    float *g = calloc(2 * (size_t)c1, sizeof(float));
    int ret = dq && lim && g ? 0 : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_nn_download(nn, dq, dq_dev, (size_t)B * c1);
    if (!ret)
        ret = nvc_nn_download(nn, lim, lim_dev, 2 * (size_t)c1);
    for (int b = 0; b < B && !ret; b++) {
        const double t = qfrac(m->q[b]);
        for (int i = 0; i < c1; i++) {
            double l0 = fmax(fabs(lim[i]), 1e-6), l1 = fmax(fabs(lim[c1 + i]), 1e-6);
            double s = pow(l0, 1 - t) * pow(l1, t), d = dq[b * c1 + i] * s;
            g[i] += (float)(d * (1 - t) / l0 * (lim[i] < 0 ? -1 : 1));
            g[c1 + i] += (float)(d * t / l1 * (lim[c1 + i] < 0 ? -1 : 1));
        }
    }
    if (!ret)
        ret = nvc_nn_upload(nn, glim_dev, g, 2 * (size_t)c1);
    free(dq);
    free(lim);
    free(g);
    return ret;
}

/* ---- blocks ----------------------------------------------------------------------------- */

static void conv_fwd(NvcNn *nn, float *out, const float *in, const NvcImgConv *c, int B, int ci, int H, int W,
                     int co, int k, int stride, int pad, int groups)
{
    nn->ops->conv2d_forward(nn, out, in, c->w, c->b, B, ci, H, W, co, k, stride, pad, groups);
}

static void conv_bwd(NvcNn *nn, const float *dout, const float *in, const NvcImgConv *p, float *din,
                     const NvcImgConv *g, int B, int ci, int H, int W, int co, int k, int stride, int pad,
                     int groups)
{
    nn->ops->conv2d_backward(nn, dout, in, p->w, din, g->w, g->b, B, ci, H, W, co, k, stride, pad, groups);
}

/* x (B, ci, H, W) -> out (B, co, H/2, W/2) */
static void rbs_fwd(NvcNn *nn, NvcImgRbs *a, const float *x, const NvcImgParams *P, int i, int B, int ci, int co,
                    int H, int W)
{
    const NvcNnOps *op = nn->ops;
    const int h = H / 2, w = W / 2;
    const size_t n = (size_t)B * co * h * w;
    conv_fwd(nn, a->down, x, &P->enc[i].down, B, ci, H, W, co, 2, 2, 0, 1);
    conv_fwd(nn, a->c1, a->down, &P->enc[i].conv, B, co, h, w, co, 3, 1, 1, 1);
    op->leaky_relu_forward(nn, a->a1, a->c1, 0.01f, n);
    conv_fwd(nn, a->c2, a->a1, &P->enc[i].pw, B, co, h, w, co, 1, 1, 0, 1);
    op->leaky_relu_forward(nn, a->a2, a->c2, 0.01f, n);
    op->add_forward(nn, a->out, a->a2, a->down, n);
}

static void rbs_bwd(NvcNn *nn, const NvcImgRbs *a, const NvcImgRbs *d, const float *x, float *dx,
                    const NvcImgParams *P, const NvcImgParams *G, int i, int B, int ci, int co, int H, int W)
{
    const NvcNnOps *op = nn->ops;
    const int h = H / 2, w = W / 2;
    const size_t n = (size_t)B * co * h * w;
    op->add_backward(nn, d->out, d->a2, d->down, n);
    op->leaky_relu_backward(nn, d->a2, a->c2, d->c2, 0.01f, n);
    conv_bwd(nn, d->c2, a->a1, &P->enc[i].pw, d->a1, &G->enc[i].pw, B, co, h, w, co, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, d->a1, a->c1, d->c1, 0.01f, n);
    conv_bwd(nn, d->c1, a->down, &P->enc[i].conv, d->down, &G->enc[i].conv, B, co, h, w, co, 3, 1, 1, 1);
    conv_bwd(nn, d->down, x, &P->enc[i].down, dx, &G->enc[i].down, B, ci, H, W, co, 2, 2, 0, 1);
}

/* x (B, ci, h, w) -> out (B, co, 2h, 2w) */
static void rbu_fwd(NvcNn *nn, NvcImgRbu *a, const float *x, const NvcImgParams *P, int i, int B, int ci, int co,
                    int h, int w)
{
    const NvcNnOps *op = nn->ops;
    const size_t n = (size_t)B * co * 4 * h * w;
    conv_fwd(nn, a->u, x, &P->dec[i].up, B, ci, h, w, 4 * co, 1, 1, 0, 1);
    op->pixel_shuffle_forward(nn, a->ps, a->u, B, co, h, w, 2);
    op->leaky_relu_forward(nn, a->a1, a->ps, 0.01f, n);
    conv_fwd(nn, a->c, a->a1, &P->dec[i].conv, B, co, 2 * h, 2 * w, co, 3, 1, 1, 1);
    op->leaky_relu_forward(nn, a->a2, a->c, 0.1f, n);
    conv_fwd(nn, a->s, x, &P->dec[i].skip, B, ci, h, w, 4 * co, 1, 1, 0, 1);
    op->pixel_shuffle_forward(nn, a->sps, a->s, B, co, h, w, 2);
    op->add_forward(nn, a->out, a->a2, a->sps, n);
}

static void rbu_bwd(NvcNn *nn, const NvcImgRbu *a, const NvcImgRbu *d, const float *x, float *dx,
                    const NvcImgParams *P, const NvcImgParams *G, int i, int B, int ci, int co, int h, int w)
{
    const NvcNnOps *op = nn->ops;
    const size_t n = (size_t)B * co * 4 * h * w;
    op->add_backward(nn, d->out, d->a2, d->sps, n);
    op->pixel_shuffle_backward(nn, d->sps, d->s, B, co, h, w, 2);
    conv_bwd(nn, d->s, x, &P->dec[i].skip, dx, &G->dec[i].skip, B, ci, h, w, 4 * co, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, d->a2, a->c, d->c, 0.1f, n);
    conv_bwd(nn, d->c, a->a1, &P->dec[i].conv, d->a1, &G->dec[i].conv, B, co, 2 * h, 2 * w, co, 3, 1, 1, 1);
    op->leaky_relu_backward(nn, d->a1, a->ps, d->ps, 0.01f, n);
    op->pixel_shuffle_backward(nn, d->ps, d->u, B, co, h, w, 2);
    conv_bwd(nn, d->u, x, &P->dec[i].up, dx, &G->dec[i].up, B, ci, h, w, 4 * co, 1, 1, 0, 1);
}

/* ---- transforms --------------------------------------------------------------------- */

void nvc_img_analysis(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, H = m->H, W = m->W;
    rbs_fwd(nn, &a->enc[0], a->x, &m->p, 0, B, 3, c->c1, H, W);
    nn->ops->chanmul_forward(nn, a->e1q, a->enc[0].out, a->qe, NULL, B, c->c1, H / 2 * (W / 2), 1);
    rbs_fwd(nn, &a->enc[1], a->e1q, &m->p, 1, B, c->c1, c->c2, H / 2, W / 2);
    rbs_fwd(nn, &a->enc[2], a->enc[1].out, &m->p, 2, B, c->c2, c->c3, H / 4, W / 4);
    conv_fwd(nn, a->y, a->enc[2].out, &m->p.enc_out, B, c->c3, H / 8, W / 8, c->M, 3, 2, 1, 1);
}

static void analysis_bwd(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const int B = m->B, H = m->H, W = m->W;
    conv_bwd(nn, d->y, a->enc[2].out, &m->p.enc_out, d->enc[2].out, &m->g.enc_out, B, c->c3, H / 8, W / 8, c->M,
             3, 2, 1, 1);
    rbs_bwd(nn, &a->enc[2], &d->enc[2], a->enc[1].out, d->enc[1].out, &m->p, &m->g, 2, B, c->c2, c->c3, H / 4,
            W / 4);
    rbs_bwd(nn, &a->enc[1], &d->enc[1], a->e1q, d->e1q, &m->p, &m->g, 1, B, c->c1, c->c2, H / 2, W / 2);
    nn->ops->chanmul_backward(nn, d->e1q, a->enc[0].out, a->qe, d->enc[0].out, d->qe, NULL, B, c->c1,
                              H / 2 * (W / 2), 1);
    rbs_bwd(nn, &a->enc[0], &d->enc[0], a->x, NULL, &m->p, &m->g, 0, B, 3, c->c1, H, W);
}

void nvc_img_synthesis(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, H = m->H, W = m->W;
    rbu_fwd(nn, &a->dec[0], a->yhat, &m->p, 0, B, c->M, c->c3, H / 16, W / 16);
    rbu_fwd(nn, &a->dec[1], a->dec[0].out, &m->p, 1, B, c->c3, c->c2, H / 8, W / 8);
    rbu_fwd(nn, &a->dec[2], a->dec[1].out, &m->p, 2, B, c->c2, c->c1, H / 4, W / 4);
    nn->ops->chanmul_forward(nn, a->d3q, a->dec[2].out, a->qd, NULL, B, c->c1, H / 2 * (W / 2), 1);
    conv_fwd(nn, a->dec_out, a->d3q, &m->p.dec_out, B, c->c1, H / 2, W / 2, 12, 3, 1, 1, 1);
    nn->ops->pixel_shuffle_forward(nn, a->xhat, a->dec_out, B, 3, H / 2, W / 2, 2);
}

static void synthesis_bwd(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const int B = m->B, H = m->H, W = m->W;
    nn->ops->pixel_shuffle_backward(nn, d->xhat, d->dec_out, B, 3, H / 2, W / 2, 2);
    conv_bwd(nn, d->dec_out, a->d3q, &m->p.dec_out, d->d3q, &m->g.dec_out, B, c->c1, H / 2, W / 2, 12, 3, 1, 1, 1);
    nn->ops->chanmul_backward(nn, d->d3q, a->dec[2].out, a->qd, d->dec[2].out, d->qd, NULL, B, c->c1,
                              H / 2 * (W / 2), 1);
    rbu_bwd(nn, &a->dec[2], &d->dec[2], a->dec[1].out, d->dec[1].out, &m->p, &m->g, 2, B, c->c2, c->c1, H / 4,
            W / 4);
    rbu_bwd(nn, &a->dec[1], &d->dec[1], a->dec[0].out, d->dec[0].out, &m->p, &m->g, 1, B, c->c3, c->c2, H / 8,
            W / 8);
    rbu_bwd(nn, &a->dec[0], &d->dec[0], a->yhat, d->yhat, &m->p, &m->g, 0, B, c->M, c->c3, H / 16, W / 16);
}

/* ---- hyperprior ------------------------------------------------------------------------- */

void nvc_img_hyper_analysis(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, h4 = m->H / 16, w4 = m->W / 16;
    conv_fwd(nn, a->ha_c[0], a->y, &m->p.ha[0], B, c->M, h4, w4, c->Cz, 3, 1, 1, 1);
    nn->ops->leaky_relu_forward(nn, a->ha_a[0], a->ha_c[0], 0.01f, (size_t)B * c->Cz * h4 * w4);
    conv_fwd(nn, a->ha_c[1], a->ha_a[0], &m->p.ha[1], B, c->Cz, h4, w4, c->Cz, 3, 2, 1, 1);
    nn->ops->leaky_relu_forward(nn, a->ha_a[1], a->ha_c[1], 0.01f, (size_t)B * c->Cz * h4 * w4 / 4);
    conv_fwd(nn, a->ha_c[2], a->ha_a[1], &m->p.ha[2], B, c->Cz, h4 / 2, w4 / 2, c->Cz, 3, 2, 1, 1);
}

static void hyper_analysis_bwd(NvcImgModel *m, NvcNn *nn)
{
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const int B = m->B, h4 = m->H / 16, w4 = m->W / 16;
    conv_bwd(nn, d->ha_c[2], a->ha_a[1], &m->p.ha[2], d->ha_a[1], &m->g.ha[2], B, c->Cz, h4 / 2, w4 / 2, c->Cz, 3,
             2, 1, 1);
    nn->ops->leaky_relu_backward(nn, d->ha_a[1], a->ha_c[1], d->ha_c[1], 0.01f, (size_t)B * c->Cz * h4 * w4 / 4);
    conv_bwd(nn, d->ha_c[1], a->ha_a[0], &m->p.ha[1], d->ha_a[0], &m->g.ha[1], B, c->Cz, h4, w4, c->Cz, 3, 2, 1, 1);
    nn->ops->leaky_relu_backward(nn, d->ha_a[0], a->ha_c[0], d->ha_c[0], 0.01f, (size_t)B * c->Cz * h4 * w4);
    conv_bwd(nn, d->ha_c[0], a->y, &m->p.ha[0], d->y, &m->g.ha[0], B, c->M, h4, w4, c->Cz, 3, 1, 1, 1);
}

static void hyper_synthesis(NvcImgModel *m, NvcNn *nn)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, P = c->P, h6 = m->H / 64, w6 = m->W / 64;
    const size_t n6 = (size_t)B * P * h6 * w6;
    conv_fwd(nn, a->hs_c[0], a->z_hat, &m->p.hs[0], B, c->Cz, h6, w6, P, 3, 1, 1, 1);
    op->leaky_relu_forward(nn, a->hs_r[0], a->hs_c[0], 0.0f, n6);
    conv_fwd(nn, a->hs_c[1], a->hs_r[0], &m->p.hs[1], B, P, h6, w6, 4 * P, 1, 1, 0, 1);
    op->pixel_shuffle_forward(nn, a->hs_ps[0], a->hs_c[1], B, P, h6, w6, 2);
    op->leaky_relu_forward(nn, a->hs_r[1], a->hs_ps[0], 0.0f, 4 * n6);
    conv_fwd(nn, a->hs_c[2], a->hs_r[1], &m->p.hs[2], B, P, 2 * h6, 2 * w6, P, 3, 1, 1, 1);
    op->leaky_relu_forward(nn, a->hs_r[2], a->hs_c[2], 0.0f, 4 * n6);
    conv_fwd(nn, a->hs_c[3], a->hs_r[2], &m->p.hs[3], B, P, 2 * h6, 2 * w6, 4 * P, 1, 1, 0, 1);
    op->pixel_shuffle_forward(nn, a->hs_ps[1], a->hs_c[3], B, P, 2 * h6, 2 * w6, 2);
    op->leaky_relu_forward(nn, a->hs_r[3], a->hs_ps[1], 0.0f, 16 * n6);
    conv_fwd(nn, a->hs_c[4], a->hs_r[3], &m->p.hs[4], B, P, 4 * h6, 4 * w6, P, 1, 1, 0, 1);
    op->leaky_relu_forward(nn, a->hs_r[4], a->hs_c[4], 0.0f, 16 * n6);
}

static void hyper_synthesis_bwd(NvcImgModel *m, NvcNn *nn)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const NvcImgParams *p = &m->p, *g = &m->g;
    const int B = m->B, P = c->P, h6 = m->H / 64, w6 = m->W / 64;
    const size_t n6 = (size_t)B * P * h6 * w6;
    op->leaky_relu_backward(nn, d->hs_r[4], a->hs_c[4], d->hs_c[4], 0.0f, 16 * n6);
    conv_bwd(nn, d->hs_c[4], a->hs_r[3], &p->hs[4], d->hs_r[3], &g->hs[4], B, P, 4 * h6, 4 * w6, P, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, d->hs_r[3], a->hs_ps[1], d->hs_ps[1], 0.0f, 16 * n6);
    op->pixel_shuffle_backward(nn, d->hs_ps[1], d->hs_c[3], B, P, 2 * h6, 2 * w6, 2);
    conv_bwd(nn, d->hs_c[3], a->hs_r[2], &p->hs[3], d->hs_r[2], &g->hs[3], B, P, 2 * h6, 2 * w6, 4 * P, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, d->hs_r[2], a->hs_c[2], d->hs_c[2], 0.0f, 4 * n6);
    conv_bwd(nn, d->hs_c[2], a->hs_r[1], &p->hs[2], d->hs_r[1], &g->hs[2], B, P, 2 * h6, 2 * w6, P, 3, 1, 1, 1);
    op->leaky_relu_backward(nn, d->hs_r[1], a->hs_ps[0], d->hs_ps[0], 0.0f, 4 * n6);
    op->pixel_shuffle_backward(nn, d->hs_ps[0], d->hs_c[1], B, P, h6, w6, 2);
    conv_bwd(nn, d->hs_c[1], a->hs_r[0], &p->hs[1], d->hs_r[0], &g->hs[1], B, P, h6, w6, 4 * P, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, d->hs_r[0], a->hs_c[0], d->hs_c[0], 0.0f, n6);
    conv_bwd(nn, d->hs_c[0], a->z_hat, &p->hs[0], d->z_hat, &g->hs[0], B, c->Cz, h6, w6, P, 3, 1, 1, 1);
}

/* ---- four-part prior ---------------------------------------------------------------- */

static void ctx_fwd(NvcImgModel *m, NvcNn *nn, int i)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    NvcImgCtx *x = &a->ctx[i - 1];
    const int B = m->B, P = c->P, M = c->M, h = m->H / 16, w = m->W / 16;
    const size_t n = (size_t)B * P * h * w;
    op->concat_forward(nn, x->in, a->sofar[i], a->hs_r[4], B, M, P, h * w);
    conv_fwd(nn, x->c1, x->in, &m->p.ctx[i - 1].in, B, M + P, h, w, P, 1, 1, 0, 1);
    op->leaky_relu_forward(nn, x->r1, x->c1, 0.0f, n);
    conv_fwd(nn, x->c2, x->r1, &m->p.ctx[i - 1].dw, B, P, h, w, P, 3, 1, 1, P);
    op->leaky_relu_forward(nn, x->r2, x->c2, 0.0f, n);
    conv_fwd(nn, x->c3, x->r2, &m->p.ctx[i - 1].mid, B, P, h, w, P, 1, 1, 0, 1);
    op->leaky_relu_forward(nn, x->r3, x->c3, 0.0f, n);
    conv_fwd(nn, a->prm[i], x->r3, &m->p.ctx[i - 1].out, B, P, h, w, m->E, 1, 1, 0, 1);
}

static void ctx_bwd(NvcImgModel *m, NvcNn *nn, int i)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const NvcImgCtx *x = &a->ctx[i - 1], *dx = &d->ctx[i - 1];
    const NvcImgParams *p = &m->p, *g = &m->g;
    const int B = m->B, P = c->P, M = c->M, h = m->H / 16, w = m->W / 16;
    const size_t n = (size_t)B * P * h * w;
    conv_bwd(nn, d->prm[i], x->r3, &p->ctx[i - 1].out, dx->r3, &g->ctx[i - 1].out, B, P, h, w, m->E, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, dx->r3, x->c3, dx->c3, 0.0f, n);
    conv_bwd(nn, dx->c3, x->r2, &p->ctx[i - 1].mid, dx->r2, &g->ctx[i - 1].mid, B, P, h, w, P, 1, 1, 0, 1);
    op->leaky_relu_backward(nn, dx->r2, x->c2, dx->c2, 0.0f, n);
    conv_bwd(nn, dx->c2, x->r1, &p->ctx[i - 1].dw, dx->r1, &g->ctx[i - 1].dw, B, P, h, w, P, 3, 1, 1, P);
    op->leaky_relu_backward(nn, dx->r1, x->c1, dx->c1, 0.0f, n);
    conv_bwd(nn, dx->c1, x->in, &p->ctx[i - 1].in, dx->in, &g->ctx[i - 1].in, B, M + P, h, w, P, 1, 1, 0, 1);
    op->concat_backward(nn, dx->in, d->sofar[i], d->hs_r[4], B, M, P, h * w);
}

/* Quantise the elements of step i with the centres of that step:
 * y_hat = round(y - c) + c (c constant for the gradient: with the
 * straight-through rounding d y_hat / d c is 0 anyway). */
static void quantize_step(NvcImgModel *m, NvcNn *nn, int i)
{
    const NvcNnOps *op = nn->ops;
    NvcImgActs *a = &m->a;
    const int B = m->B, M = m->cfg.M, hw = m->H / 16 * (m->W / 16);
    const size_t n = (size_t)B * M * hw;
    op->split_forward(nn, a->ctr[i], a->rest[i], a->prm[i], B, M, m->E - M, hw);
    op->affine_forward(nn, a->negc[i], a->ctr[i], -1.0f, 0.0f, n);
    op->add_forward(nn, a->diff[i], a->y, a->negc[i], n);
    op->round_forward(nn, a->rnd[i], a->diff[i], n);
    op->add_forward(nn, a->yh[i], a->rnd[i], a->ctr[i], n);
    op->mul_forward(nn, a->yhm[i], a->yh[i], m->mask[i], n);
}

/* The latent decoded before step i (1..3): what step i's context network
 * reads, so it must exist before ctx_fwd(i), as in the codec. */
static void sofar_step(NvcImgModel *m, NvcNn *nn, int i)
{
    NvcImgActs *a = &m->a;
    const size_t n = (size_t)m->B * m->cfg.M * (m->H / 16) * (m->W / 16);
    if (i == 1)
        nn->ops->tensor_copy(nn, a->sofar[1], a->yhm[0], n);
    else
        nn->ops->add_forward(nn, a->sofar[i], a->sofar[i - 1], a->yhm[i - 1], n);
}

/* Rate of y under the combined parameters of the four steps; noise (train)
 * or rounding (eval) relaxes s = y - c. */
static void rate_y(NvcImgModel *m, NvcNn *nn, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, M = c->M, K = c->K, E = m->E, hw = m->H / 16 * (m->W / 16);
    const size_t n = (size_t)B * M * hw, ne = (size_t)B * E * hw, nk = (size_t)K * n;
    for (int i = 0; i < 4; i++)
        op->mul_forward(nn, a->pm[i], a->prm[i], m->maske[i], ne);
    op->add_forward(nn, a->pcomb, a->pm[0], a->pm[1], ne);
    op->add_forward(nn, a->pcomb, a->pcomb, a->pm[2], ne);
    op->add_forward(nn, a->pcomb, a->pcomb, a->pm[3], ne);
    op->split_forward(nn, a->cctr, a->crest, a->pcomb, B, M, E - M, hw);
    op->affine_forward(nn, a->cneg, a->cctr, -1.0f, 0.0f, n);
    op->add_forward(nn, a->cdiff, a->y, a->cneg, n);
    if (train)
        op->noise_forward(nn, a->snoisy, a->cdiff, seed, 0, n);
    else
        op->round_forward(nn, a->snoisy, a->cdiff, n);
    if (K > 1) {
        op->split_forward(nn, a->lg, a->rest2, a->crest, B, K * M, 2 * K * M, hw);
        op->split_forward(nn, a->dl, a->troot, a->rest2, B, K * M, K * M, hw);
    }
    op->mul_forward(nn, a->tsq, a->troot, a->troot, nk);
    op->affine_forward(nn, a->scale, a->tsq, 1.0f, 0.11f, nk);
    if (K > 1)
        op->rate_gmm_forward(nn, a->bits, a->snoisy, a->lg, a->dl, a->scale, B, K, M * hw);
    else
        op->rate_gaussian_forward(nn, a->bits, a->snoisy, NULL, a->scale, n);
}

static void rate_y_bwd(NvcImgModel *m, NvcNn *nn, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const int B = m->B, M = c->M, K = c->K, E = m->E, hw = m->H / 16 * (m->W / 16);
    const size_t n = (size_t)B * M * hw, ne = (size_t)B * E * hw, nk = (size_t)K * n;
    if (K > 1)
        op->rate_gmm_backward(nn, dbits, a->snoisy, a->lg, a->dl, a->scale, d->snoisy, d->lg, d->dl, d->scale, B, K,
                              M * hw);
    else
        op->rate_gaussian_backward(nn, dbits, a->snoisy, NULL, a->scale, d->snoisy, NULL, d->scale, n);
    op->affine_backward(nn, d->scale, d->tsq, 1.0f, nk);
    op->mul_backward(nn, d->tsq, a->troot, a->troot, d->troot, d->troot, nk);
    if (K > 1) {
        op->split_backward(nn, d->dl, d->troot, d->rest2, B, K * M, K * M, hw);
        op->split_backward(nn, d->lg, d->rest2, d->crest, B, K * M, 2 * K * M, hw);
    }
    op->noise_backward(nn, d->snoisy, d->cdiff, n);
    op->add_backward(nn, d->cdiff, d->y, d->cneg, n);
    op->affine_backward(nn, d->cneg, d->cctr, -1.0f, n);
    op->split_backward(nn, d->cctr, d->crest, d->pcomb, B, M, E - M, hw);
    for (int i = 0; i < 4; i++)
        op->mul_backward(nn, d->pcomb, a->prm[i], m->maske[i], d->prm[i], NULL, ne);
}

static void gmm_forward(NvcImgModel *m, NvcNn *nn, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    NvcImgActs *a = &m->a;
    const int B = m->B, h6 = m->H / 64, w6 = m->W / 64, h4 = m->H / 16, w4 = m->W / 16;
    const size_t nz = (size_t)B * c->Cz * h6 * w6, n = (size_t)B * c->M * h4 * w4;
    nvc_img_hyper_analysis(m, nn);
    if (train)
        op->noise_forward(nn, a->z_noisy, a->ha_c[2], seed, 1ull << 40, nz);
    else
        op->round_forward(nn, a->z_noisy, a->ha_c[2], nz);
    op->round_forward(nn, a->z_hat, a->ha_c[2], nz);
    op->chanmul_forward(nn, a->z_sc, a->ones_z, a->zq, NULL, B, c->Cz, h6 * w6, 1);
    op->rate_gaussian_forward(nn, a->bits + 1, a->z_noisy, NULL, a->z_sc, nz);
    hyper_synthesis(m, nn);
    conv_fwd(nn, a->prm[0], a->hs_r[4], &m->p.p0, B, c->P, h4, w4, m->E, 1, 1, 0, 1);
    quantize_step(m, nn, 0);
    for (int i = 1; i < 4; i++) {
        sofar_step(m, nn, i);
        ctx_fwd(m, nn, i);
        quantize_step(m, nn, i);
    }
    op->add_forward(nn, a->yhat, a->sofar[3], a->yhm[3], n);
    rate_y(m, nn, train, seed);
}

static int gmm_backward(NvcImgModel *m, NvcNn *nn, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const NvcImgConfig *c = &m->cfg;
    const NvcImgActs *a = &m->a, *d = &m->d;
    const int B = m->B, h6 = m->H / 64, w6 = m->W / 64, h4 = m->H / 16, w4 = m->W / 16;
    const size_t nz = (size_t)B * c->Cz * h6 * w6, n = (size_t)B * c->M * h4 * w4;
    rate_y_bwd(m, nn, dbits);
    /* y_hat = sofar[3] + yhm[3]; yhm[i] = y_hat_i * mask_i, straight through to y */
    op->add_backward(nn, d->yhat, d->sofar[3], d->yhm[3], n);
    op->mul_backward(nn, d->yhm[3], a->yh[3], m->mask[3], d->y, NULL, n);
    for (int i = 3; i >= 1; i--) {
        ctx_bwd(m, nn, i);
        if (i > 1)
            op->add_backward(nn, d->sofar[i], d->sofar[i - 1], d->yhm[i - 1], n);
        else
            op->add_backward(nn, d->sofar[1], d->yhm[0], NULL, n);
        op->mul_backward(nn, d->yhm[i - 1], a->yh[i - 1], m->mask[i - 1], d->y, NULL, n);
    }
    conv_bwd(nn, d->prm[0], a->hs_r[4], &m->p.p0, d->hs_r[4], &m->g.p0, B, c->P, h4, w4, m->E, 1, 1, 0, 1);
    hyper_synthesis_bwd(m, nn);
    op->round_backward(nn, d->z_hat, d->ha_c[2], nz);
    op->rate_gaussian_backward(nn, dbits, a->z_noisy, NULL, a->z_sc, d->z_noisy, NULL, d->z_sc, nz);
    op->noise_backward(nn, d->z_noisy, d->ha_c[2], nz);
    op->chanmul_backward(nn, d->z_sc, a->ones_z, a->zq, NULL, d->zq, NULL, B, c->Cz, h6 * w6, 1);
    for (int b = 0; b < B; b++) {
        float *row = m->g.z_scale + (size_t)m->q[b] * c->Cz;
        op->add_forward(nn, row, row, d->zq + (size_t)b * c->Cz, (size_t)c->Cz);
    }
    hyper_analysis_bwd(m, nn);
    return 0;
}

/* ---- training step ------------------------------------------------------------------ */

static int forward_all(NvcImgModel *m, NvcNn *nn, int train, uint64_t step)
{
    const uint64_t seed = m->seed * 0x9e3779b97f4a7c15ull + step;
    nvc_img_analysis(m, nn);
    int ret = 0;
    if (m->cfg.prior == NVC_IMG_PRIOR_GMM)
        gmm_forward(m, nn, train, seed);
    else
        ret = nvc_img_vq_forward(m, nn, train, seed);
    if (ret < 0)
        return ret;
    nvc_img_synthesis(m, nn);
    const size_t n3 = (size_t)3 * m->H * m->W;
    for (int b = 0; b < m->B; b++)
        nn->ops->mse_forward(nn, m->a.bits + 8 + b, m->a.xhat + b * n3, m->a.x + b * n3, n3);
    return nvc_nn_error(nn);
}

static int collect_stats(NvcImgModel *m, NvcNn *nn, NvcImgStats *st)
{
    float bits[8 + 64];
    int ret = nvc_nn_download(nn, bits, m->a.bits, 8 + (size_t)m->B);
    if (ret < 0)
        return ret;
    const double px = (double)m->B * m->H * m->W;
    memset(st, 0, sizeof(*st));
    st->bpp = (bits[0] + bits[1]) / px;
    st->bpp_z = bits[1] / px;
    double loss = st->bpp;
    for (int b = 0; b < m->B; b++) {
        double mse = bits[8 + b], lambda = nvc_img_lambda(&m->cfg, m->q[b]);
        int quart = m->q[b] / 16;
        double psnr = 10 * log10(1.0 / fmax(mse, 1e-10));
        st->mse += mse / m->B;
        st->psnr += psnr / m->B;
        st->psnr_q[quart] += psnr;
        st->n_q[quart]++;
        loss += lambda * 65025.0 * mse / m->B;
    }
    for (int i = 0; i < 4; i++)
        if (st->n_q[i])
            st->psnr_q[i] /= st->n_q[i];
    st->loss = loss;
    return 0;
}

int nvc_img_forward_backward(NvcImgModel *m, NvcNn *nn, uint64_t step, NvcImgStats *st)
{
    const NvcNnOps *op = nn->ops;
    if (m->train <= 0)
        return NVC_ERR(EINVAL);
    op->tensor_zero(nn, m->gbuf, m->params.size);
    op->tensor_zero(nn, m->dbuf, m->acts.size);
    int ret = forward_all(m, nn, 1, step);
    if (ret < 0)
        return ret;
    const size_t n3 = (size_t)3 * m->H * m->W;
    const float dbits = (float)(1.0 / ((double)m->B * m->H * m->W));
    for (int b = 0; b < m->B; b++) {
        float dl = (float)(nvc_img_lambda(&m->cfg, m->q[b]) * 65025.0 / m->B);
        op->mse_backward(nn, dl, m->a.xhat + b * n3, m->a.x + b * n3, m->d.xhat + b * n3, n3);
    }
    synthesis_bwd(m, nn);
    if (m->cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = gmm_backward(m, nn, dbits);
    else
        ret = nvc_img_vq_backward(m, nn, dbits);
    if (ret < 0)
        return ret;
    analysis_bwd(m, nn);
    if ((ret = scaler_backward(m, nn, m->d.qe, m->p.q_enc, m->g.q_enc)) < 0 ||
        (ret = scaler_backward(m, nn, m->d.qd, m->p.q_dec, m->g.q_dec)) < 0)
        return ret;
    if ((ret = nvc_nn_error(nn)) < 0)
        return ret;
    return collect_stats(m, nn, st);
}

int nvc_img_train_step(NvcImgModel *m, NvcNn *nn, uint64_t step, NvcImgStats *st)
{
    int ret = nvc_img_forward_backward(m, nn, step, st);
    return ret < 0 ? ret : nvc_adam_step(&m->opt, nn, &m->params, m->pbuf, m->gbuf);
}

int nvc_img_eval(NvcImgModel *m, NvcNn *nn, NvcImgStats *st)
{
    if (m->train < 0)
        return NVC_ERR(EINVAL);
    int ret = forward_all(m, nn, 0, 0);
    return ret < 0 ? ret : collect_stats(m, nn, st);
}

void nvc_img_macs(const NvcImgConfig *c, double *enc, double *dec, double *prior)
{
    /* per input pixel */
    const double w[4] = { 3, c->c1, c->c2, c->c3 };
    double e = 0, d = 0, pr = 0;
    for (int i = 0; i < 3; i++) {
        double area = 1.0 / (4 << (2 * i)); /* 1/4, 1/16, 1/64 */
        e += area * (w[i + 1] * w[i] * 4 + w[i + 1] * w[i + 1] * 9 + w[i + 1] * w[i + 1]);
    }
    e += c->M * c->c3 * 9 / 256.0;
    const double dw[4] = { c->M, c->c3, c->c2, c->c1 };
    for (int i = 0; i < 3; i++) {
        double area_in = 1.0 / (256 >> (2 * i)); /* 1/256, 1/64, 1/16 */
        d += area_in * 2 * (4 * dw[i + 1] * dw[i]) + area_in * 4 * dw[i + 1] * dw[i + 1] * 9;
    }
    d += 12 * c->c1 * 9 / 4.0;
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        const double E = nvc_img_param_groups(c) * c->M, P = c->P, a4 = 1 / 256.0;
        e += a4 * c->Cz * c->M * 9 + a4 / 4 * c->Cz * c->Cz * 9 + a4 / 16 * c->Cz * c->Cz * 9;
        pr += a4 / 16 * (P * c->Cz * 9 + 4 * P * P) + a4 / 4 * (P * P * 9 + 4 * P * P) + a4 * P * P;
        pr += a4 * P * E / 4;                                  /* step 0: this step's quarter */
        pr += 3 * a4 * ((c->M + P) * P + 9 * P + P * P + P * E / 4);
    } else {
        e += (double)c->vq_levels * c->M * c->vq_k / 256.0; /* nearest-codeword search */
    }
    *enc = e;
    *dec = d;
    *prior = pr;
}

size_t nvc_img_memory(const NvcImgConfig *cfg, int B, int H, int W, int train)
{
    NvcImgModel m;
    memset(&m, 0, sizeof(m));
    m.cfg = *cfg;
    m.B = B, m.H = H, m.W = W, m.train = train;
    m.E = cfg->prior == NVC_IMG_PRIOR_GMM ? nvc_img_param_groups(cfg) * cfg->M : 0;
    nvc_img_params(&m.params, &m.p, cfg);
    img_acts(&m.acts, &m.a, &m);
    size_t floats = m.params.size * (train > 0 ? 4 : 1) + m.acts.size * (train > 0 ? 2 : 1);
    if (cfg->prior == NVC_IMG_PRIOR_GMM && train >= 0)
        floats += (size_t)8 * B * m.E * (H / 16) * (W / 16); /* masks */
    nvc_arena_free(&m.params);
    nvc_arena_free(&m.acts);
    return floats * sizeof(float);
}
