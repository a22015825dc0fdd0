/*
 * INR networks: architecture rules, allocation of a model's arenas on a
 * backend, and the forward / backward entry points shared by both models.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "inr/inr.h"

static const InrModelImpl *impl_of(const InrArch *a)
{
    return a->kind == INR_NERVPP ? &inr_nervpp_impl : &inr_hnerv_impl;
}

int inr_arch_scale(const InrArch *a)
{
    int s = 1;
    for (int i = 0; i < a->nstrides; i++)
        s *= a->stride[i];
    return s;
}

void inr_arch_out_size(const InrArch *a, int *h, int *w)
{
    int s = inr_arch_scale(a);
    *h = a->grid_h * s;
    *w = a->grid_w * s;
}

int inr_arch_check(const InrArch *a)
{
    if (a->kind != INR_HNERV && a->kind != INR_NERVPP)
        return NVC_ERR(EINVAL);
    if (a->nstrides < INR_MIN_STRIDES || a->nstrides > INR_MAX_STRIDES)
        return NVC_ERR(EINVAL);
    for (int i = 0; i < a->nstrides; i++)
        if (a->stride[i] < 2 || a->stride[i] > 5)
            return NVC_ERR(EINVAL);
    if (a->grid_h < 1 || a->grid_w < 1 || a->grid_h > INR_MAX_GRID || a->grid_w > INR_MAX_GRID)
        return NVC_ERR(EINVAL);
    for (int i = 0; i <= a->nstrides; i++)
        if (a->width[i] < 1 || a->width[i] > INR_MAX_WIDTH)
            return NVC_ERR(EINVAL);
    if (a->kind == INR_HNERV && (a->emb_ch < 1 || a->emb_ch > INR_EMB_CH))
        return NVC_ERR(EINVAL);
    if (a->kind == INR_NERVPP &&
        (a->stem_hidden < 1 || a->stem_hidden > INR_MAX_WIDTH || a->pe_levels < 1 || a->pe_levels > 64 ||
         !(a->pe_base >= 1.0f && a->pe_base <= 4.0f) ||
         (int64_t)a->width[0] * a->grid_h * a->grid_w > (1 << 24)))
        return NVC_ERR(EINVAL);
    /* the padded frame stays below NVC_MAX_DIMENSION per side */
    int64_t s = 1;
    for (int i = 0; i < a->nstrides; i++)
        s *= a->stride[i];
    if (s * a->grid_h > NVC_MAX_DIMENSION + s || s * a->grid_w > NVC_MAX_DIMENSION + s)
        return NVC_ERR(EINVAL);
    return 0;
}

double inr_arch_macs(const InrArch *a)
{
    double h = a->grid_h, w = a->grid_w, macs = 0;
    if (a->kind == INR_HNERV) {
        macs = h * w * a->emb_ch * a->width[0];
        for (int i = 0; i < a->nstrides; i++) {
            int s = a->stride[i], k = inr_hnerv_kernel(i);
            macs += h * w * a->width[i] * a->width[i + 1] * s * s * k * k;
            h *= s, w *= s;
        }
        return macs + h * w * a->width[a->nstrides] * 3 * 9;
    }
    const double D = a->stem_hidden;
    macs = 2 * a->pe_levels * 2 * D + D * a->width[0] * h * w;
    for (int i = 0; i < a->nstrides; i++) {
        double s = a->stride[i], ci = a->width[i], c = a->width[i + 1], hd = inr_nervpp_hidden(a->width[i + 1]);
        macs += h * w * (ci * c + c * 2 * hd + 25 * c + hd * c + 9 * c * c * s * s);
        h *= s, w *= s;
        macs += h * w * (9 * c + 2 * c * c);
    }
    return macs + h * w * a->width[a->nstrides] * 3;
}

size_t inr_net_input_size(const InrArch *a)
{
    return a->kind == INR_HNERV ? (size_t)a->emb_ch * a->grid_h * a->grid_w : 1;
}

int inr_net_layout(const InrArch *a, NvcArena *params, size_t *acts_floats)
{
    const InrModelImpl *m = impl_of(a);
    void *views = calloc(1, m->view_size);
    NvcArena acts = { 0 };
    memset(params, 0, sizeof(*params));
    if (!views)
        return NVC_ERR(ENOMEM);
    m->declare_params(params, views, INR_VIEW_P, a);
    m->declare_acts(&acts, views, INR_VIEW_X, a, 1);
    int ret = nvc_arena_check(params);
    if (!ret)
        ret = nvc_arena_check(&acts);
    if (acts_floats)
        *acts_floats = acts.size;
    nvc_arena_free(&acts);
    free(views);
    if (ret < 0)
        nvc_arena_free(params);
    return ret;
}

size_t inr_arch_params(const InrArch *a)
{
    NvcArena ar;
    if (inr_net_layout(a, &ar, NULL) < 0)
        return 0;
    size_t n = nvc_arena_numel(&ar);
    nvc_arena_free(&ar);
    return n;
}

void inr_net_free(InrNet *n, NvcNn *nn)
{
    nvc_nn_release(nn, n->p);
    nvc_nn_release(nn, n->g);
    nvc_nn_release(nn, n->x);
    nvc_nn_release(nn, n->dx);
    nvc_arena_free(&n->params);
    nvc_arena_free(&n->acts);
    free(n->views);
    memset(n, 0, sizeof(*n));
}

/* Initial parameters from the seed, uploaded. */
static int init_params(NvcNn *nn, const NvcArena *ar, float *dst, uint64_t seed)
{
    float *host = calloc(ar->size ? ar->size : 1, sizeof(float));
    if (!host)
        return NVC_ERR(ENOMEM);
    nvc_arena_init_params(ar, host, seed);
    int ret = nvc_nn_upload(nn, dst, host, ar->size);
    free(host);
    return ret;
}

int inr_net_create(InrNet *n, NvcNn *nn, const InrArch *a, int bmax, int train, uint64_t seed)
{
    const InrModelImpl *m = impl_of(a);
    memset(n, 0, sizeof(*n));
    n->a = *a;
    n->bmax = bmax;
    n->train = train;
    inr_arch_out_size(a, &n->out_h, &n->out_w);
    if (!(n->views = calloc(1, m->view_size)))
        return NVC_ERR(ENOMEM);
    m->declare_params(&n->params, n->views, INR_VIEW_P, a);
    m->declare_acts(&n->acts, n->views, INR_VIEW_X, a, bmax);
    int ret = nvc_arena_check(&n->params);
    if (!ret)
        ret = nvc_arena_check(&n->acts);
    if (ret < 0)
        goto fail;
    n->p = nvc_nn_alloc(nn, n->params.size);
    n->x = nvc_nn_alloc(nn, n->acts.size);
    if (train) {
        n->g = nvc_nn_alloc(nn, n->params.size);
        n->dx = nvc_nn_alloc(nn, n->acts.size);
    }
    ret = NVC_ERR(ENOMEM);
    if (!n->p || !n->x || (train && (!n->g || !n->dx)))
        goto fail;
    if ((ret = init_params(nn, &n->params, n->p, seed)) < 0)
        goto fail;
    nvc_arena_bind(&n->params, n->p);
    m->declare_params(&n->params, n->views, INR_VIEW_P, a);
    nvc_arena_bind(&n->acts, n->x);
    m->declare_acts(&n->acts, n->views, INR_VIEW_X, a, bmax);
    n->out = m->out_of(n->views, INR_VIEW_X);
    if (train) {
        nvc_arena_bind(&n->params, n->g);
        m->declare_params(&n->params, n->views, INR_VIEW_G, a);
        nvc_arena_bind(&n->acts, n->dx);
        m->declare_acts(&n->acts, n->views, INR_VIEW_DX, a, bmax);
        n->dout = m->out_of(n->views, INR_VIEW_DX);
    }
    if ((ret = nvc_arena_check(&n->params)) < 0 || (ret = nvc_arena_check(&n->acts)) < 0)
        goto fail;
    return 0;
fail:
    inr_net_free(n, nn);
    return ret;
}

static void bind_params(InrNet *n, const float *params)
{
    nvc_arena_bind(&n->params, (float *)params);
    impl_of(&n->a)->declare_params(&n->params, n->views, INR_VIEW_P, &n->a);
}

void inr_net_forward(InrNet *n, NvcNn *nn, const float *params, const float *in, int B)
{
    if (B < 1 || B > n->bmax) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "inr: batch %d out of 1..%d", B, n->bmax);
        return;
    }
    bind_params(n, params);
    impl_of(&n->a)->forward(&n->a, nn, n->views, in, B);
}

void inr_net_backward(InrNet *n, NvcNn *nn, const float *params, const float *in, float *din, int B)
{
    if (!n->train || B < 1 || B > n->bmax) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "inr: no gradients for batch %d", B);
        return;
    }
    bind_params(n, params);
    impl_of(&n->a)->backward(&n->a, nn, n->views, in, din, B);
}

/* ---- encoder ------------------------------------------------------------------------ */

void inr_encoder_free(InrEncoder *e, NvcNn *nn)
{
    nvc_nn_release(nn, e->p);
    nvc_nn_release(nn, e->g);
    nvc_nn_release(nn, e->x);
    nvc_nn_release(nn, e->dx);
    nvc_arena_free(&e->params);
    nvc_arena_free(&e->acts);
    free(e->views);
    memset(e, 0, sizeof(*e));
}

int inr_encoder_create(InrEncoder *e, NvcNn *nn, const InrArch *a, int bmax, uint64_t seed)
{
    memset(e, 0, sizeof(*e));
    e->a = *a;
    e->bmax = bmax;
    if (!(e->views = calloc(1, inr_convnext_view_size())))
        return NVC_ERR(ENOMEM);
    inr_convnext_params(&e->params, e->views, INR_VIEW_P, a);
    inr_convnext_acts(&e->acts, e->views, INR_VIEW_X, a, bmax);
    int ret = nvc_arena_check(&e->params);
    if (!ret)
        ret = nvc_arena_check(&e->acts);
    if (ret < 0)
        goto fail;
    e->p = nvc_nn_alloc(nn, e->params.size);
    e->g = nvc_nn_alloc(nn, e->params.size);
    e->x = nvc_nn_alloc(nn, e->acts.size);
    e->dx = nvc_nn_alloc(nn, e->acts.size);
    ret = NVC_ERR(ENOMEM);
    if (!e->p || !e->g || !e->x || !e->dx)
        goto fail;
    if ((ret = init_params(nn, &e->params, e->p, seed)) < 0)
        goto fail;
    nvc_arena_bind(&e->params, e->p);
    inr_convnext_params(&e->params, e->views, INR_VIEW_P, a);
    nvc_arena_bind(&e->params, e->g);
    inr_convnext_params(&e->params, e->views, INR_VIEW_G, a);
    nvc_arena_bind(&e->acts, e->x);
    inr_convnext_acts(&e->acts, e->views, INR_VIEW_X, a, bmax);
    nvc_arena_bind(&e->acts, e->dx);
    inr_convnext_acts(&e->acts, e->views, INR_VIEW_DX, a, bmax);
    e->emb = inr_convnext_emb(e->views, INR_VIEW_X, a);
    e->demb = inr_convnext_emb(e->views, INR_VIEW_DX, a);
    if ((ret = nvc_arena_check(&e->params)) < 0 || (ret = nvc_arena_check(&e->acts)) < 0)
        goto fail;
    return 0;
fail:
    inr_encoder_free(e, nn);
    return ret;
}

void inr_encoder_forward(InrEncoder *e, NvcNn *nn, const float *img, int B)
{
    inr_convnext_forward(&e->a, nn, e->views, img, B);
}

void inr_encoder_backward(InrEncoder *e, NvcNn *nn, const float *img, int B)
{
    inr_convnext_backward(&e->a, nn, e->views, img, B);
}
