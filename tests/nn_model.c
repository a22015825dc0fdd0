/*
 * The small HNeRV-shaped decoder of tests/nn_model.h.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/nn_model.h"

static void hn_params(NvcArena *a, HnParams *p, const HnModel *m)
{
    const HnConfig *c = &m->cfg;
    const NvcInit torch = NVC_INIT(NVC_INIT_TORCH_DEFAULT, 0.0f);
    p->emb = nvc_tensor(a, NVC_INIT(NVC_INIT_UNIFORM, 1.0f), NVC_SHAPE(c->B, HN_EMB, c->eh, c->ew), "embedding");
    p->stem_w = nvc_tensor(a, torch, NVC_SHAPE(c->c0, HN_EMB, 1, 1), "stem.weight");
    p->stem_b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, HN_EMB), NVC_SHAPE(c->c0), "stem.bias");
    for (int i = 0; i < c->nblk; i++) {
        int co = m->width[i + 1] * c->stride[i] * c->stride[i], ci = m->width[i], k = m->ks[i];
        p->blk[i].w = nvc_tensor(a, torch, NVC_SHAPE(co, ci, k, k), "blocks.%d.conv.weight", i);
        p->blk[i].b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(ci * k * k)), NVC_SHAPE(co),
                                 "blocks.%d.conv.bias", i);
    }
    int cn = m->width[c->nblk];
    p->head_w = nvc_tensor(a, torch, NVC_SHAPE(3, cn, 3, 3), "head.weight");
    p->head_b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(cn * 9)), NVC_SHAPE(3), "head.bias");
}

static void hn_acts(NvcArena *a, HnActs *x, const HnModel *m)
{
    const HnConfig *c = &m->cfg;
    const NvcInit none = NVC_INIT(NVC_INIT_NONE, 0);
    int h = c->eh, w = c->ew;
    x->stem = nvc_tensor(a, none, NVC_SHAPE(c->B, c->c0, h, w), "stem");
    x->stem_act = nvc_tensor(a, none, NVC_SHAPE(c->B, c->c0, h, w), "stem.act");
    for (int i = 0; i < c->nblk; i++) {
        int s = c->stride[i], co = m->width[i + 1];
        x->blk[i].conv = nvc_tensor(a, none, NVC_SHAPE(c->B, co * s * s, h, w), "blocks.%d.conv", i);
        h *= s, w *= s;
        x->blk[i].act = nvc_tensor(a, none, NVC_SHAPE(c->B, co, h, w), "blocks.%d.act", i);
    }
    x->head = nvc_tensor(a, none, NVC_SHAPE(c->B, 3, h, w), "head");
    x->th = nvc_tensor(a, none, NVC_SHAPE(c->B, 3, h, w), "head.tanh");
    x->out = nvc_tensor(a, none, NVC_SHAPE(c->B, 3, h, w), "out");
    x->loss = nvc_tensor(a, none, NVC_SHAPE(1), "loss");
}

int hn_create(HnModel *m, NvcNn *nn, const HnConfig *cfg, NvcLrSchedule sched, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    if (cfg->nblk < 1 || cfg->nblk > HN_MAX_BLOCKS)
        return NVC_ERR(EINVAL);
    m->width[0] = cfg->c0;
    m->H = cfg->eh, m->W = cfg->ew;
    for (int i = 0; i < cfg->nblk; i++) {
        int w = (int)lround(m->width[i] / cfg->reduce);
        m->width[i + 1] = w > cfg->floor ? w : cfg->floor;
        m->ks[i] = cfg->kernel[i] ? cfg->kernel[i] : (1 + 2 * i < 5 ? 1 + 2 * i : 5);
        m->H *= cfg->stride[i], m->W *= cfg->stride[i];
    }
    hn_params(&m->params, &m->p, m);
    hn_acts(&m->acts, &m->a, m);
    int ret = nvc_arena_check(&m->params) ? nvc_arena_check(&m->params) : nvc_arena_check(&m->acts);
    if (ret < 0)
        return ret;
    float *host = calloc(m->params.size, sizeof(float));
    m->pbuf = nvc_nn_alloc(nn, m->params.size);
    m->gbuf = nvc_nn_alloc(nn, m->params.size);
    m->abuf = nvc_nn_alloc(nn, m->acts.size);
    m->dbuf = nvc_nn_alloc(nn, m->acts.size);
    if (!host || !m->pbuf || !m->gbuf || !m->abuf || !m->dbuf) {
        free(host);
        hn_free(m, nn);
        return NVC_ERR(ENOMEM);
    }
    nvc_arena_init_params(&m->params, host, seed);
    ret = nvc_nn_upload(nn, m->pbuf, host, m->params.size);
    free(host);
    nvc_arena_bind(&m->params, m->pbuf);
    hn_params(&m->params, &m->p, m);
    nvc_arena_bind(&m->params, m->gbuf);
    hn_params(&m->params, &m->g, m);
    nvc_arena_bind(&m->acts, m->abuf);
    hn_acts(&m->acts, &m->a, m);
    nvc_arena_bind(&m->acts, m->dbuf);
    hn_acts(&m->acts, &m->d, m);
    if (!ret)
        ret = nvc_arena_check(&m->params) ? nvc_arena_check(&m->params) : nvc_arena_check(&m->acts);
    if (!ret)
        ret = nvc_adam_init(&m->opt, nn, &m->params, sched);
    if (ret < 0)
        hn_free(m, nn);
    return ret;
}

void hn_free(HnModel *m, NvcNn *nn)
{
    if (m->opt.m)
        nvc_adam_free(&m->opt, nn);
    nvc_nn_release(nn, m->pbuf);
    nvc_nn_release(nn, m->gbuf);
    nvc_nn_release(nn, m->abuf);
    nvc_nn_release(nn, m->dbuf);
    nvc_arena_free(&m->params);
    nvc_arena_free(&m->acts);
    m->pbuf = m->gbuf = m->abuf = m->dbuf = NULL;
}

void hn_forward(HnModel *m, NvcNn *nn)
{
    const NvcNnOps *op = nn->ops;
    const HnConfig *c = &m->cfg;
    const HnParams *p = &m->p;
    HnActs *a = &m->a;
    int B = c->B, h = c->eh, w = c->ew, cin = c->c0;
    size_t n = (size_t)B * c->c0 * h * w;
    op->conv2d_forward(nn, a->stem, p->emb, p->stem_w, p->stem_b, B, HN_EMB, h, w, c->c0, 1, 1, 0, 1);
    op->gelu_forward(nn, a->stem_act, a->stem, n);
    const float *x = a->stem_act;
    for (int i = 0; i < c->nblk; i++) {
        int s = c->stride[i], co = m->width[i + 1], k = m->ks[i];
        op->conv2d_forward(nn, a->blk[i].conv, x, p->blk[i].w, p->blk[i].b, B, cin, h, w, co * s * s, k, 1, k / 2, 1);
        op->pixel_shuffle_act_forward(nn, a->blk[i].act, a->blk[i].conv, B, co, h, w, s, NVC_ACT_GELU);
        h *= s, w *= s, cin = co;
        x = a->blk[i].act;
    }
    n = (size_t)B * 3 * h * w;
    op->conv2d_forward(nn, a->head, x, p->head_w, p->head_b, B, cin, h, w, 3, 3, 1, 1, 1);
    op->tanh_forward(nn, a->th, a->head, n);
    op->affine_forward(nn, a->out, a->th, 0.5f, 0.5f, n);
}

static void hn_backward(HnModel *m, NvcNn *nn)
{
    const NvcNnOps *op = nn->ops;
    const HnConfig *c = &m->cfg;
    const HnParams *p = &m->p, *g = &m->g;
    const HnActs *a = &m->a, *d = &m->d;
    const int B = c->B, nb = c->nblk;
    int h = m->H, w = m->W, cn = m->width[nb];
    size_t n = (size_t)B * 3 * h * w;
    op->affine_backward(nn, d->out, d->th, 0.5f, n);
    op->tanh_backward(nn, d->th, a->th, d->head, n);
    op->conv2d_backward(nn, d->head, a->blk[nb - 1].act, p->head_w, d->blk[nb - 1].act, g->head_w, g->head_b, B, cn,
                        h, w, 3, 3, 1, 1, 1);
    for (int i = nb - 1; i >= 0; i--) {
        int s = c->stride[i], co = m->width[i + 1], ci = m->width[i], k = m->ks[i];
        h /= s, w /= s;
        op->pixel_shuffle_act_backward(nn, d->blk[i].act, a->blk[i].conv, d->blk[i].conv, B, co, h, w, s,
                                       NVC_ACT_GELU);
        const float *x = i ? a->blk[i - 1].act : a->stem_act;
        float *dx = i ? d->blk[i - 1].act : d->stem_act;
        op->conv2d_backward(nn, d->blk[i].conv, x, p->blk[i].w, dx, g->blk[i].w, g->blk[i].b, B, ci, h, w,
                            co * s * s, k, 1, k / 2, 1);
    }
    op->gelu_backward(nn, d->stem_act, a->stem, d->stem, (size_t)B * c->c0 * h * w);
    op->conv2d_backward(nn, d->stem, p->emb, p->stem_w, g->emb, g->stem_w, g->stem_b, B, HN_EMB, h, w, c->c0, 1, 1, 0,
                        1);
}

float hn_train_step(HnModel *m, NvcNn *nn, const float *target)
{
    const NvcNnOps *op = nn->ops;
    size_t n = (size_t)m->cfg.B * 3 * m->H * m->W;
    float loss = NAN;
    op->tensor_zero(nn, m->gbuf, m->params.size);
    op->tensor_zero(nn, m->dbuf, m->acts.size);
    hn_forward(m, nn);
    op->mse_forward(nn, m->a.loss, m->a.out, target, n);
    op->mse_backward(nn, 1.0f, m->a.out, target, m->d.out, n);
    hn_backward(m, nn);
    if (nvc_adam_step(&m->opt, nn, &m->params, m->pbuf, m->gbuf) < 0)
        return NAN;
    nvc_nn_download(nn, &loss, m->a.loss, 1);
    return loss;
}

double hn_macs(const HnModel *m)
{
    const HnConfig *c = &m->cfg;
    double h = c->eh, w = c->ew, macs = h * w * HN_EMB * c->c0;
    for (int i = 0; i < c->nblk; i++) {
        int s = c->stride[i];
        macs += h * w * m->width[i] * m->width[i + 1] * s * s * m->ks[i] * m->ks[i];
        h *= s, w *= s;
    }
    return macs + h * w * m->width[c->nblk] * 3 * 9;
}
