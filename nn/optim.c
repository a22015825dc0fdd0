/*
 * Adam / AdamW (the CPU op and the driver over an arena), learning-rate
 * schedule, gradient clipping.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/clones.h"
#include "nn/optim.h"

/* One chunk of Adam: vectorized (no libm call: sqrt without errno), the bits
 * of the scalar loop (IEEE square root and division, no contraction). */
NVC_VEC_CLONES static void
adam_chunk(float *param, const float *grad, float *m, float *v, size_t n, float beta1, float beta2, float eps,
           float wd, int decoupled, float step, float rbc2, float keep)
{
    if (decoupled) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float g = grad[i], p = param[i] * keep;
            float mi = beta1 * m[i] + (1.0f - beta1) * g;
            float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            param[i] = p - step * mi / (sqrtf(vi) * rbc2 + eps);
        }
    } else {
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float p = param[i], g = grad[i] + wd * p;
            float mi = beta1 * m[i] + (1.0f - beta1) * g;
            float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            param[i] = p - step * mi / (sqrtf(vi) * rbc2 + eps);
        }
    }
}

void nvc_adam_update(NvcNn *nn, float *param, const float *grad, float *m, float *v, size_t n, float lr, float beta1,
                     float beta2, float eps, float wd, int decoupled, int t)
{
    /* torch.optim.Adam / AdamW (single-tensor path) */
    const double bc1 = 1.0 - pow(beta1, t), bc2 = 1.0 - pow(beta2, t);
    const float step = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2)), keep = 1.0f - lr * wd;
    const size_t nc = (n + NVC_BLOCK - 1) / NVC_BLOCK;
#pragma omp parallel for num_threads(nn->threads) if (n >= 32768) schedule(static)
    for (size_t c = 0; c < nc; c++) {
        size_t i = c * NVC_BLOCK;
        adam_chunk(param + i, grad + i, m + i, v + i, NVC_MIN(NVC_BLOCK, n - i), beta1, beta2, eps, wd, decoupled,
                   step, rbc2, keep);
    }
}

float nvc_lr_at(const NvcLrSchedule *s, int t)
{
    if (t < s->warmup)
        return s->lr * (float)(t + 1) / (float)s->warmup;
    if (s->total <= s->warmup)
        return s->lr;
    double f = (double)(t - s->warmup) / (double)(s->total - s->warmup);
    f = NVC_MIN(f, 1.0);
    return (float)(s->lr_min + (s->lr - s->lr_min) * 0.5 * (1.0 + cos(M_PI * f)));
}

float nvc_clip_grad_norm(NvcNn *nn, float *grad, size_t n, float max_norm, float *scalar)
{
    float sq = 0.0f;
    nn->ops->tensor_sumsq(nn, scalar, grad, n);
    if (nvc_nn_download(nn, &sq, scalar, 1) < 0)
        return NAN;
    float norm = sqrtf(sq);
    if (max_norm > 0.0f && norm > max_norm)
        nn->ops->tensor_scale(nn, grad, max_norm / (norm + 1e-6f), n); /* torch.nn.utils.clip_grad_norm_ */
    return norm;
}

int nvc_adam_init(NvcAdam *opt, NvcNn *nn, const NvcArena *layout, NvcLrSchedule sched)
{
    memset(opt, 0, sizeof(*opt));
    opt->sched = sched;
    opt->beta1 = 0.9f;
    opt->beta2 = 0.999f;
    opt->eps = 1e-8f;
    opt->decoupled = 1;
    opt->n = layout->size;
    opt->m = nvc_nn_alloc(nn, opt->n);
    opt->v = nvc_nn_alloc(nn, opt->n);
    opt->scalar = nvc_nn_alloc(nn, 1);
    if (!opt->m || !opt->v || !opt->scalar) {
        nvc_adam_free(opt, nn);
        return NVC_ERR(ENOMEM);
    }
    return 0;
}

void nvc_adam_free(NvcAdam *opt, NvcNn *nn)
{
    nvc_nn_release(nn, opt->m);
    nvc_nn_release(nn, opt->v);
    nvc_nn_release(nn, opt->scalar);
    opt->m = opt->v = opt->scalar = NULL;
}

int nvc_adam_step(NvcAdam *opt, NvcNn *nn, const NvcArena *layout, float *params, float *grad)
{
    float lr = nvc_lr_at(&opt->sched, opt->step);
    int t = ++opt->step;
    opt->last_lr = lr;
    if (opt->clip > 0.0f)
        opt->last_norm = nvc_clip_grad_norm(nn, grad, opt->n, opt->clip, opt->scalar);
    int all = 1;
    for (int i = 0; i < layout->n; i++)
        all &= layout->t[i].decay;
    if (opt->weight_decay == 0.0f || all) {
        /* the whole flat buffer in one loop (padding stays zero) */
        nn->ops->adam_update(nn, params, grad, opt->m, opt->v, opt->n, lr, opt->beta1, opt->beta2, opt->eps,
                             opt->weight_decay, opt->decoupled, t);
        return nvc_nn_error(nn);
    }
    for (int i = 0; i < layout->n; i++) {
        const NvcTensorInfo *ti = &layout->t[i];
        nn->ops->adam_update(nn, params + ti->offset, grad + ti->offset, opt->m + ti->offset, opt->v + ti->offset,
                             ti->numel, lr, opt->beta1, opt->beta2, opt->eps, ti->decay ? opt->weight_decay : 0.0f,
                             opt->decoupled, t);
    }
    return nvc_nn_error(nn);
}
