/*
 * Training = encoding. Adam over frame batches with HNeRV's schedule (warm-up
 * from 0.1 lr, then cosine to 0, per step), then optional pruning and
 * quantisation-aware fine-tuning (QAT): the decoder's weights and HNeRV's
 * embeddings (now parameters: the encoder's last outputs) are quantised
 * as the stream will hold them in every forward pass and updated through
 * the rounding (straight-through). The final quantisation is the same
 * arithmetic. Every op runs through nn->ops (CPU or CUDA); host code is
 * single-threaded and deterministic, so a seed and a thread count give the
 * same stream.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/internal.h"
#include "inr/inr.h"
#include "inr/loss.h"
#include "nn/optim.h"
#include "nn/rng.h"

typedef struct Trainer {
    NvcNn *nn;
    const InrTrainConfig *cfg;
    const InrClip *clip;
    InrArch a;
    int H, W, bmax, N;
    size_t S;                 /* floats of one frame's network input */
    InrNet net;
    InrEncoder enc;
    int has_enc;
    InrLoss loss;
    NvcAdam opt, eopt;
    float *img;               /* backend (bmax, 3, H, W): encoder input */
    float *in, *din;          /* backend (bmax, S): quantised embeddings or times, their gradient */
    float *qp;                /* backend: fake-quantised decoder parameters */
    float *emb, *em, *ev;     /* backend (N, S): embeddings in QAT, Adam moments */
    float *h_img, *h_out, *h_p, *h_emb, *h_in; /* host scratch */
    uint8_t *prune_mask;      /* host, params.size: 1 = kept */
    int *perm;
    /* statistics of the running epoch */
    double mse[3], loss_sum;
    int frames_seen, batches;
    double t_start, t_epoch;
    int epochs_done, epochs_total;
} Trainer;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cancelled(const Trainer *t)
{
    return t->cfg->cancel && *t->cfg->cancel;
}

/* HNeRV's cosine_0.1_1_0.1 (NeRV++: warm-up 0.2): f = progress in [0, 1). */
static float lr_at(const InrTrainConfig *c, float lr, double f)
{
    if (f < c->warmup)
        return lr * (float)(0.1 + 0.9 * f / c->warmup);
    return lr * (float)(0.5 * (1.0 + cos(M_PI * (f - c->warmup) / (1.0 - c->warmup))));
}

static void shuffle(Trainer *t, int epoch)
{
    const uint64_t key = t->cfg->seed * 0x9E3779B97F4A7C15ull + 0x1234567u;
    for (int i = 0; i < t->N; i++)
        t->perm[i] = i;
    for (int i = t->N - 1; i > 0; i--) {
        uint32_t r = nvc_philox_u32(key, (uint64_t)epoch * t->N + (uint64_t)i);
        int j = (int)((uint64_t)r * (uint64_t)(i + 1) >> 32);
        int tmp = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = tmp;
    }
}

/* ---- statistics ---------------------------------------------------------------------------- */

/* Per-plane squared error of the network's output (host copy) against the
 * picture, as the decoder would emit it (clipped, chroma pooled). */
static void frame_mse(const Trainer *t, const float *out, const NvcPicture *pic, double *mse)
{
    const int planes = nvc_picture_planes(pic->p.layout), sub = pic->p.layout == NVC_PIXEL_LAYOUT_I420;
    const float inv = 1.0f / (float)((1 << pic->p.bpc) - 1);
    for (int c = 0; c < planes; c++) {
        const float *s = out + (size_t)c * t->H * t->W;
        int pw, ph;
        nvc_picture_plane_size(&pic->p, c, &pw, &ph);
        double sum = 0;
        for (int y = 0; y < ph; y++) {
            const uint8_t *row = (const uint8_t *)pic->data[c] + (ptrdiff_t)y * pic->stride[c];
            for (int x = 0; x < pw; x++) {
                float v;
                if (c && sub) {
                    const float *r0 = s + (size_t)(2 * y) * t->W + 2 * x, *r1 = r0 + t->W;
                    v = ((r0[0] + r0[1]) + (r1[0] + r1[1])) * 0.25f;
                } else {
                    v = s[(size_t)y * t->W + x];
                }
                float ref = (pic->p.bpc == 8 ? row[x] : ((const uint16_t *)row)[x]) * inv;
                float e = NVC_CLIP(v, 0.0f, 1.0f) - ref;
                sum += (double)e * e;
            }
        }
        mse[c] += sum / ((double)pw * ph);
    }
}

static double epoch_psnr(const Trainer *t)
{
    const int planes = nvc_picture_planes(t->clip->p.layout);
    double m[3];
    for (int c = 0; c < 3; c++)
        m[c] = NVC_MAX(t->mse[c] / NVC_MAX(t->frames_seen, 1), 1e-12);
    if (planes == 1)
        return -10 * log10(m[0]);
    if (t->clip->rgb)
        return -10 * log10((m[0] + m[1] + m[2]) / 3);
    return (6 * -10 * log10(m[0]) - 10 * log10(m[1]) - 10 * log10(m[2])) / 8;
}

static void epoch_begin(Trainer *t)
{
    memset(t->mse, 0, sizeof(t->mse));
    t->loss_sum = 0;
    t->frames_seen = t->batches = 0;
    t->t_epoch = now_s();
}

static void epoch_end(Trainer *t, const char *stage, int epoch, int epochs)
{
    t->epochs_done++;
    if (!t->cfg->progress)
        return;
    double now = now_s(), spent = now - t->t_start;
    NvcEncodeProgress p = {
        .stage = stage, .step = epoch + 1, .steps = epochs,
        .loss = t->loss_sum / NVC_MAX(t->batches, 1), .psnr = epoch_psnr(t),
        .frames_per_s = t->frames_seen / NVC_MAX(now - t->t_epoch, 1e-9),
        .eta_s = spent / t->epochs_done * (t->epochs_total - t->epochs_done),
    };
    t->cfg->progress(t->cfg->progress_cookie, &p);
}

/* ---- one batch ----------------------------------------------------------------------------- */

static int load_batch(Trainer *t, const int *frames, int B, int with_img)
{
    const NvcPicture *pics[64] = { 0 };
    for (int b = 0; b < B; b++)
        pics[b] = &t->clip->pic[frames[b]];
    int ret = inr_loss_set_targets(&t->loss, t->nn, pics, B);
    if (!ret && with_img) {
        for (int b = 0; b < B; b++)
            inr_picture_to_planes(pics[b], t->h_img + (size_t)b * 3 * t->H * t->W, t->H, t->W);
        ret = nvc_nn_upload(t->nn, t->img, t->h_img, (size_t)B * 3 * t->H * t->W);
    }
    if (!ret && t->a.kind == INR_NERVPP) {
        for (int b = 0; b < B; b++)
            t->h_in[b] = (float)frames[b] / (float)t->N;
        ret = nvc_nn_upload(t->nn, t->in, t->h_in, (size_t)B);
    }
    return ret;
}

static void adam(NvcNn *nn, NvcAdam *o, float *p, const float *g, float *m, float *v, size_t n, float lr, int step)
{
    nn->ops->adam_update(nn, p, g, m, v, n, lr, o->beta1, o->beta2, o->eps, 0.0f, 1, step);
}

static int account(Trainer *t, const int *frames, int B, float loss)
{
    int ret = nvc_nn_download(t->nn, t->h_out, t->net.out, (size_t)B * 3 * t->H * t->W);
    for (int b = 0; b < B && !ret; b++)
        frame_mse(t, t->h_out + (size_t)b * 3 * t->H * t->W, &t->clip->pic[frames[b]], t->mse);
    t->loss_sum += loss;
    t->batches++;
    t->frames_seen += B;
    return ret;
}

/* Main training step: encoder (HNeRV) + decoder, float weights. */
static int train_batch(Trainer *t, const int *frames, int B, float lr)
{
    NvcNn *nn = t->nn;
    const NvcNnOps *op = nn->ops;
    int ret = load_batch(t, frames, B, t->has_enc);
    if (ret < 0)
        return ret;
    op->tensor_zero(nn, t->net.g, t->net.params.size);
    op->tensor_zero(nn, t->net.dx, t->net.acts.size);
    const float *in = t->in;
    if (t->has_enc) {
        op->tensor_zero(nn, t->enc.g, t->enc.params.size);
        op->tensor_zero(nn, t->enc.dx, t->enc.acts.size);
        inr_encoder_forward(&t->enc, nn, t->img, B);
        in = t->enc.emb;
    }
    inr_net_forward(&t->net, nn, t->net.p, in, B);
    float loss = inr_loss_step(&t->loss, nn, t->net.out, t->net.dout, B);
    inr_net_backward(&t->net, nn, t->net.p, in, t->has_enc ? t->enc.demb : NULL, B);
    if (t->has_enc) {
        inr_encoder_backward(&t->enc, nn, t->img, B);
        adam(nn, &t->eopt, t->enc.p, t->enc.g, t->eopt.m, t->eopt.v, t->eopt.n, lr, ++t->eopt.step);
    }
    adam(nn, &t->opt, t->net.p, t->net.g, t->opt.m, t->opt.v, t->opt.n, lr, ++t->opt.step);
    if ((ret = nvc_nn_error(nn)) < 0)
        return ret;
    if (!isfinite(loss))
        return nvc_log_error(&t->cfg->logger, NVC_ERR(ERANGE), "inr: training diverged (loss %g)", loss);
    return account(t, frames, B, loss);
}

/* ---- quantisation ---------------------------------------------------------------------------- */

/* The quantised weights of a host parameter buffer, in place (step per tensor). */
static void fake_quant_weights(const NvcArena *ar, float *host, int bits, float *steps)
{
    for (int i = 0; i < ar->n; i++) {
        float *w = host + ar->t[i].offset;
        size_t n = ar->t[i].numel;
        float step = inr_weight_step(w, n, bits);
        const float inv = 1.0f / step, lim = (float)((1 << (bits - 1)) - 1);
        for (size_t k = 0; k < n; k++)
            w[k] = step * NVC_CLIP(rintf(w[k] * inv), -lim, lim);
        if (steps)
            steps[i] = step;
    }
}

static void apply_prune_mask(const Trainer *t, float *host)
{
    if (!t->prune_mask)
        return;
    for (size_t i = 0; i < t->net.params.size; i++)
        if (!t->prune_mask[i])
            host[i] = 0.0f;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Zero the smallest fraction `prune` of every weight tensor of 2 or more
 * dimensions (magnitude pruning), and keep them zero from now on. */
static int prune(Trainer *t)
{
    const NvcArena *ar = &t->net.params;
    if (!(t->prune_mask = malloc(ar->size)))
        return NVC_ERR(ENOMEM);
    memset(t->prune_mask, 1, ar->size);
    int ret = nvc_nn_download(t->nn, t->h_p, t->net.p, ar->size);
    for (int i = 0; i < ar->n && !ret; i++) {
        const NvcTensorInfo *ti = &ar->t[i];
        size_t n = ti->numel, k = (size_t)(t->cfg->prune * (double)n);
        if (ti->shape.ndim < 2 || !k)
            continue;
        float *mag = malloc(n * sizeof(float));
        if (!mag)
            return NVC_ERR(ENOMEM);
        for (size_t j = 0; j < n; j++)
            mag[j] = fabsf(t->h_p[ti->offset + j]);
        qsort(mag, n, sizeof(float), cmp_float);
        float thr = mag[k - 1];
        free(mag);
        size_t zeroed = 0;
        for (size_t j = 0; j < n && zeroed < k; j++)
            if (fabsf(t->h_p[ti->offset + j]) <= thr) {
                t->prune_mask[ti->offset + j] = 0;
                zeroed++;
            }
    }
    apply_prune_mask(t, t->h_p);
    return ret ? ret : nvc_nn_upload(t->nn, t->net.p, t->h_p, ar->size);
}

/* Embeddings of every frame by the encoder (HNeRV): t->h_emb (N, S). */
static int encode_all(Trainer *t)
{
    for (int f0 = 0; f0 < t->N; f0 += t->bmax) {
        int B = NVC_MIN(t->bmax, t->N - f0);
        for (int b = 0; b < B; b++)
            inr_picture_to_planes(&t->clip->pic[f0 + b], t->h_img + (size_t)b * 3 * t->H * t->W, t->H, t->W);
        int ret = nvc_nn_upload(t->nn, t->img, t->h_img, (size_t)B * 3 * t->H * t->W);
        if (ret < 0)
            return ret;
        inr_encoder_forward(&t->enc, t->nn, t->img, B);
        ret = nvc_nn_download(t->nn, t->h_emb + (size_t)f0 * t->S, t->enc.emb, (size_t)B * t->S);
        if (!ret)
            ret = nvc_nn_error(t->nn);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* QAT step: quantised weights and embeddings forward, float masters updated. */
static int qat_batch(Trainer *t, const int *frames, int B, float lr)
{
    NvcNn *nn = t->nn;
    const NvcNnOps *op = nn->ops;
    const size_t S = t->S, np = t->net.params.size;
    int ret = load_batch(t, frames, B, 0);
    if (!ret)
        ret = nvc_nn_download(nn, t->h_p, t->net.p, np);
    if (ret < 0)
        return ret;
    fake_quant_weights(&t->net.params, t->h_p, t->cfg->wbits, NULL);
    if ((ret = nvc_nn_upload(nn, t->qp, t->h_p, np)) < 0)
        return ret;
    if (t->a.kind == INR_HNERV) {
        InrEmbQuant eq;
        int32_t *q = malloc(S * sizeof(*q));
        if (!q)
            return NVC_ERR(ENOMEM);
        ret = nvc_nn_download(nn, t->h_emb, t->emb, (size_t)t->N * S);
        inr_emb_quant_fit(&eq, t->h_emb, t->N, t->a.emb_ch, t->a.grid_h * t->a.grid_w, t->cfg->ebits);
        for (int b = 0; b < B; b++) {
            inr_emb_quantize(&eq, t->h_emb + (size_t)frames[b] * S, t->a.grid_h * t->a.grid_w, q);
            inr_emb_dequantize(&eq, q, t->a.grid_h * t->a.grid_w, t->h_in + (size_t)b * S);
        }
        free(q);
        if (!ret)
            ret = nvc_nn_upload(nn, t->in, t->h_in, (size_t)B * S);
        if (ret < 0)
            return ret;
        op->tensor_zero(nn, t->din, (size_t)B * S);
    }
    op->tensor_zero(nn, t->net.g, np);
    op->tensor_zero(nn, t->net.dx, t->net.acts.size);
    inr_net_forward(&t->net, nn, t->qp, t->in, B);
    float loss = inr_loss_step(&t->loss, nn, t->net.out, t->net.dout, B);
    const int hn = t->a.kind == INR_HNERV;
    inr_net_backward(&t->net, nn, t->qp, t->in, hn ? t->din : NULL, B);
    int step = ++t->opt.step;
    adam(nn, &t->opt, t->net.p, t->net.g, t->opt.m, t->opt.v, t->opt.n, lr, step);
    for (int b = 0; hn && b < B; b++) {
        size_t o = (size_t)frames[b] * S;
        adam(nn, &t->opt, t->emb + o, t->din + (size_t)b * S, t->em + o, t->ev + o, S, lr, step);
    }
    if (t->prune_mask) {
        if ((ret = nvc_nn_download(nn, t->h_p, t->net.p, np)) < 0)
            return ret;
        apply_prune_mask(t, t->h_p);
        if ((ret = nvc_nn_upload(nn, t->net.p, t->h_p, np)) < 0)
            return ret;
    }
    if ((ret = nvc_nn_error(nn)) < 0)
        return ret;
    if (!isfinite(loss))
        return nvc_log_error(&t->cfg->logger, NVC_ERR(ERANGE), "inr: fine-tuning diverged (loss %g)", loss);
    return account(t, frames, B, loss);
}

/* ---- epochs ---------------------------------------------------------------------------------- */

static int run_epochs(Trainer *t, int qat)
{
    const InrTrainConfig *c = t->cfg;
    const int epochs = qat ? c->qat_epochs : c->epochs;
    const int steps = (t->N + t->bmax - 1) / t->bmax;
    for (int e = 0; e < epochs; e++) {
        shuffle(t, qat ? c->epochs + e : e);
        epoch_begin(t);
        for (int s = 0; s < steps; s++) {
            if (cancelled(t))
                return NVC_ERR(EINTR);
            int f0 = s * t->bmax, B = NVC_MIN(t->bmax, t->N - f0);
            double f = ((double)e + (double)s / steps) / epochs;
            int ret;
            if (qat) { /* cosine from a tenth of the peak, no warm-up */
                float lr = 0.1f * c->lr * (float)(0.5 * (1.0 + cos(M_PI * f)));
                ret = qat_batch(t, t->perm + f0, B, lr);
            } else {
                ret = train_batch(t, t->perm + f0, B, lr_at(c, c->lr, f));
            }
            if (ret < 0)
                return ret;
        }
        epoch_end(t, qat ? "qat" : "train", e, epochs);
    }
    return 0;
}

/* ---- set-up and results ------------------------------------------------------------------------- */

static void trainer_free(Trainer *t)
{
    NvcNn *nn = t->nn;
    inr_net_free(&t->net, nn);
    if (t->has_enc)
        inr_encoder_free(&t->enc, nn);
    inr_loss_free(&t->loss, nn);
    if (t->opt.m)
        nvc_adam_free(&t->opt, nn);
    if (t->eopt.m)
        nvc_adam_free(&t->eopt, nn);
    nvc_nn_release(nn, t->img);
    nvc_nn_release(nn, t->in);
    nvc_nn_release(nn, t->din);
    nvc_nn_release(nn, t->qp);
    nvc_nn_release(nn, t->emb);
    nvc_nn_release(nn, t->em);
    nvc_nn_release(nn, t->ev);
    free(t->h_img);
    free(t->h_out);
    free(t->h_p);
    free(t->h_emb);
    free(t->h_in);
    free(t->prune_mask);
    free(t->perm);
}

static int trainer_init(Trainer *t, NvcNn *nn, const InrArch *a, const InrClip *clip, const InrTrainConfig *cfg)
{
    memset(t, 0, sizeof(*t));
    t->nn = nn, t->cfg = cfg, t->clip = clip, t->a = *a;
    t->N = clip->frames;
    t->bmax = NVC_CLIP(cfg->batch, 1, NVC_MIN(t->N, 64));
    t->S = inr_net_input_size(a);
    t->has_enc = a->kind == INR_HNERV;
    inr_arch_out_size(a, &t->H, &t->W);
    const size_t img = (size_t)t->bmax * 3 * t->H * t->W;
    int ret = inr_net_create(&t->net, nn, a, t->bmax, 1, cfg->seed);
    if (!ret && t->has_enc)
        ret = inr_encoder_create(&t->enc, nn, a, t->bmax, cfg->seed ^ 0x5eed);
    if (!ret)
        ret = inr_loss_init(&t->loss, nn, &clip->p, clip->rgb, t->H, t->W, t->bmax, cfg->loss);
    if (!ret) {
        NvcLrSchedule none = { 0 };
        ret = nvc_adam_init(&t->opt, nn, &t->net.params, none);
        if (!ret && t->has_enc)
            ret = nvc_adam_init(&t->eopt, nn, &t->enc.params, none);
        t->opt.beta1 = t->eopt.beta1 = cfg->beta1;
    }
    if (ret < 0)
        return ret;
    t->in = nvc_nn_alloc(nn, (size_t)t->bmax * t->S);
    t->din = nvc_nn_alloc(nn, (size_t)t->bmax * t->S);
    t->qp = nvc_nn_alloc(nn, t->net.params.size);
    t->img = t->has_enc ? nvc_nn_alloc(nn, img) : NULL;
    t->h_img = t->has_enc ? malloc(img * sizeof(float)) : NULL;
    t->h_out = malloc(img * sizeof(float));
    t->h_p = malloc(t->net.params.size * sizeof(float));
    t->h_emb = malloc((size_t)t->N * t->S * sizeof(float));
    t->h_in = malloc((size_t)t->bmax * t->S * sizeof(float));
    t->perm = malloc((size_t)t->N * sizeof(int));
    if (!t->in || !t->din || !t->qp || (t->has_enc && (!t->img || !t->h_img)) || !t->h_out || !t->h_p ||
        !t->h_emb || !t->h_in || !t->perm)
        return NVC_ERR(ENOMEM);
    return 0;
}

/* Embeddings become parameters for QAT (the encoder is done). */
static int start_embedding_params(Trainer *t)
{
    int ret = encode_all(t);
    if (ret < 0)
        return ret;
    inr_encoder_free(&t->enc, t->nn);
    t->has_enc = 0;
    const size_t n = (size_t)t->N * t->S;
    t->emb = nvc_nn_alloc(t->nn, n);
    t->em = nvc_nn_alloc(t->nn, n);
    t->ev = nvc_nn_alloc(t->nn, n);
    if (!t->emb || !t->em || !t->ev)
        return NVC_ERR(ENOMEM);
    return nvc_nn_upload(t->nn, t->emb, t->h_emb, n);
}

/* The stream's weights and embedding symbols from the final parameters. */
static int quantize_all(Trainer *t, InrStream *s, int32_t **emb_q)
{
    const NvcArena *ar = &t->net.params;
    int ret = nvc_nn_download(t->nn, t->h_p, t->net.p, ar->size);
    if (ret < 0)
        return ret;
    s->a = t->a;
    s->t_den = (uint32_t)t->N;
    s->wbits = t->cfg->wbits;
    s->ntensors = ar->n;
    s->nq = nvc_arena_numel(ar);
    if (ar->n > INR_MAX_TENSORS || !(s->q = malloc((s->nq ? s->nq : 1) * sizeof(int32_t))))
        return NVC_ERR(ENOMEM);
    size_t pos = 0;
    for (int i = 0; i < ar->n; i++) {
        const float *w = t->h_p + ar->t[i].offset;
        s->step[i] = inr_weight_step(w, ar->t[i].numel, s->wbits);
        inr_quantize(w, ar->t[i].numel, s->step[i], s->wbits, s->q + pos);
        pos += ar->t[i].numel;
    }
    if (t->a.kind != INR_HNERV)
        return 0;
    const int hw = t->a.grid_h * t->a.grid_w;
    if (t->emb)
        ret = nvc_nn_download(t->nn, t->h_emb, t->emb, (size_t)t->N * t->S);
    else
        ret = encode_all(t);
    if (ret < 0)
        return ret;
    inr_emb_quant_fit(&s->eq, t->h_emb, t->N, t->a.emb_ch, hw, t->cfg->ebits);
    int32_t *q = malloc((size_t)t->N * t->S * sizeof(*q));
    if (!q)
        return NVC_ERR(ENOMEM);
    for (int f = 0; f < t->N; f++)
        inr_emb_quantize(&s->eq, t->h_emb + (size_t)f * t->S, hw, q + (size_t)f * t->S);
    ret = inr_stream_fit_emb_table(s, q, (size_t)t->N * t->S);
    if (ret < 0) {
        free(q);
        return ret;
    }
    *emb_q = q;
    return 0;
}

int inr_train(NvcNn *nn, const InrArch *a, const InrClip *clip, const InrTrainConfig *cfg, InrStream *s,
              int32_t **emb_q)
{
    Trainer t;
    memset(s, 0, sizeof(*s));
    *emb_q = NULL;
    int ret = trainer_init(&t, nn, a, clip, cfg);
    t.t_start = now_s();
    t.epochs_total = cfg->epochs + cfg->qat_epochs;
    if (!ret)
        ret = run_epochs(&t, 0);
    if (!ret && cfg->prune > 0)
        ret = prune(&t);
    if (!ret && cfg->qat_epochs > 0) {
        if (t.has_enc)
            ret = start_embedding_params(&t);
        if (!ret)
            ret = run_epochs(&t, 1);
    }
    if (!ret && cancelled(&t))
        ret = NVC_ERR(EINTR);
    if (!ret)
        ret = quantize_all(&t, s, emb_q);
    trainer_free(&t);
    if (ret < 0) {
        inr_stream_free(s);
        free(*emb_q);
        *emb_q = NULL;
    }
    return ret;
}
