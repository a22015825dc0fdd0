/*
 * HNeRV (Chen et al., CVPR 2023): the decoder and the ConvNeXt encoder.
 *
 * Decoder (what the stream carries):
 *   embedding (B, E, gh, gw) -> 1x1 conv E -> C0, GELU
 *   -> per stride s_i: conv k_i = min(1 + 2 i, 5), C_i -> C_{i+1} s_i^2,
 *      PixelShuffle(s_i), GELU
 *   -> 3x3 conv C_n -> 3, tanh * 0.5 + 0.5.
 * Encoder (training only): ConvNeXt with one block per stage, dims 64 and
 * E for the last stage, strides = the decoder's: stage 0 is a patchify conv
 * (k = s = s_0) and LayerNorm, stage i > 0 a LayerNorm and a k = s = s_i
 * conv; each block: depthwise 7x7, LayerNorm, 1x1 d -> 4d, GELU, 1x1 4d -> d,
 * layer scale (1e-6 at start), residual.
 * Initialisation as the reference code: PyTorch's defaults in the decoder,
 * truncated normal (std 0.02) and zero biases in the encoder.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include "inr/inr.h"

/* ---- decoder ------------------------------------------------------------------------ */

typedef struct HnParams {
    float *stem_w, *stem_b;      /* (C0, E, 1, 1), (C0) */
    struct {
        float *w, *b;            /* (C_{i+1} s^2, C_i, k, k), (C_{i+1} s^2) */
    } blk[INR_MAX_STRIDES];
    float *head_w, *head_b;      /* (3, C_n, 3, 3), (3) */
} HnParams;

typedef struct HnActs {
    float *out;                  /* (B, 3, H, W) */
    float *stem, *stem_act;      /* (B, C0, gh, gw) */
    struct {
        float *conv, *act;       /* (B, C s^2, h, w), (B, C, h s, w s): GELU(PixelShuffle(conv)) */
    } blk[INR_MAX_STRIDES];
    float *head, *th;            /* (B, 3, H, W) */
} HnActs;

typedef struct HnViews {
    HnParams p[2]; /* INR_VIEW_P, INR_VIEW_G */
    HnActs x[2];   /* INR_VIEW_X, INR_VIEW_DX */
} HnViews;

static void hn_params(NvcArena *ar, void *views, int which, const InrArch *a)
{
    HnParams *p = &((HnViews *)views)->p[which];
    const NvcInit torch = NVC_INIT(NVC_INIT_TORCH_DEFAULT, 0.0f);
    p->stem_w = nvc_tensor(ar, torch, NVC_SHAPE(a->width[0], a->emb_ch, 1, 1), "stem.weight");
    p->stem_b = nvc_tensor(ar, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)a->emb_ch), NVC_SHAPE(a->width[0]),
                           "stem.bias");
    for (int i = 0; i < a->nstrides; i++) {
        int s = a->stride[i], co = a->width[i + 1] * s * s, ci = a->width[i], k = inr_hnerv_kernel(i);
        p->blk[i].w = nvc_tensor(ar, torch, NVC_SHAPE(co, ci, k, k), "blocks.%d.weight", i);
        p->blk[i].b = nvc_tensor(ar, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(ci * k * k)), NVC_SHAPE(co),
                                 "blocks.%d.bias", i);
    }
    int cn = a->width[a->nstrides];
    p->head_w = nvc_tensor(ar, torch, NVC_SHAPE(3, cn, 3, 3), "head.weight");
    p->head_b = nvc_tensor(ar, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(cn * 9)), NVC_SHAPE(3), "head.bias");
}

static void hn_acts(NvcArena *ar, void *views, int which, const InrArch *a, int B)
{
    HnActs *x = &((HnViews *)views)->x[which - INR_VIEW_X];
    const NvcInit none = NVC_INIT(NVC_INIT_NONE, 0);
    int h = a->grid_h, w = a->grid_w, c0 = a->width[0];
    x->stem = nvc_tensor(ar, none, NVC_SHAPE(B, c0, h, w), "stem");
    x->stem_act = nvc_tensor(ar, none, NVC_SHAPE(B, c0, h, w), "stem.act");
    for (int i = 0; i < a->nstrides; i++) {
        int s = a->stride[i], co = a->width[i + 1];
        x->blk[i].conv = nvc_tensor(ar, none, NVC_SHAPE(B, co * s * s, h, w), "blocks.%d.conv", i);
        h *= s, w *= s;
        x->blk[i].act = nvc_tensor(ar, none, NVC_SHAPE(B, co, h, w), "blocks.%d.act", i);
    }
    x->head = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "head");
    x->th = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "head.tanh");
    x->out = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "out");
}

static void hn_forward(const InrArch *a, NvcNn *nn, const void *views, const float *emb, int B)
{
    const NvcNnOps *op = nn->ops;
    const HnParams *p = &((const HnViews *)views)->p[INR_VIEW_P];
    const HnActs *x = &((const HnViews *)views)->x[0];
    int h = a->grid_h, w = a->grid_w, cin = a->width[0];
    op->conv2d_forward(nn, x->stem, emb, p->stem_w, p->stem_b, B, a->emb_ch, h, w, cin, 1, 1, 0, 1);
    op->gelu_forward(nn, x->stem_act, x->stem, (size_t)B * cin * h * w);
    const float *in = x->stem_act;
    for (int i = 0; i < a->nstrides; i++) {
        int s = a->stride[i], co = a->width[i + 1], k = inr_hnerv_kernel(i);
        op->conv2d_forward(nn, x->blk[i].conv, in, p->blk[i].w, p->blk[i].b, B, cin, h, w, co * s * s, k, 1, k / 2,
                           1);
        op->pixel_shuffle_act_forward(nn, x->blk[i].act, x->blk[i].conv, B, co, h, w, s, NVC_ACT_GELU);
        h *= s, w *= s, cin = co;
        in = x->blk[i].act;
    }
    size_t n = (size_t)B * 3 * h * w;
    op->conv2d_forward(nn, x->head, in, p->head_w, p->head_b, B, cin, h, w, 3, 3, 1, 1, 1);
    op->tanh_forward(nn, x->th, x->head, n);
    op->affine_forward(nn, x->out, x->th, 0.5f, 0.5f, n);
}

static void hn_backward(const InrArch *a, NvcNn *nn, const void *views, const float *emb, float *demb, int B)
{
    const NvcNnOps *op = nn->ops;
    const HnViews *v = views;
    const HnParams *p = &v->p[INR_VIEW_P], *g = &v->p[INR_VIEW_G];
    const HnActs *x = &v->x[0], *d = &v->x[1];
    const int nb = a->nstrides;
    int h, w, cn = a->width[nb];
    inr_arch_out_size(a, &h, &w);
    size_t n = (size_t)B * 3 * h * w;
    op->affine_backward(nn, d->out, d->th, 0.5f, n);
    op->tanh_backward(nn, d->th, x->th, d->head, n);
    op->conv2d_backward(nn, d->head, x->blk[nb - 1].act, p->head_w, d->blk[nb - 1].act, g->head_w, g->head_b, B, cn,
                        h, w, 3, 3, 1, 1, 1);
    for (int i = nb - 1; i >= 0; i--) {
        int s = a->stride[i], co = a->width[i + 1], ci = a->width[i], k = inr_hnerv_kernel(i);
        h /= s, w /= s;
        op->pixel_shuffle_act_backward(nn, d->blk[i].act, x->blk[i].conv, d->blk[i].conv, B, co, h, w, s,
                                       NVC_ACT_GELU);
        const float *in = i ? x->blk[i - 1].act : x->stem_act;
        float *din = i ? d->blk[i - 1].act : d->stem_act;
        op->conv2d_backward(nn, d->blk[i].conv, in, p->blk[i].w, din, g->blk[i].w, g->blk[i].b, B, ci, h, w,
                            co * s * s, k, 1, k / 2, 1);
    }
    op->gelu_backward(nn, d->stem_act, x->stem, d->stem, (size_t)B * a->width[0] * h * w);
    op->conv2d_backward(nn, d->stem, emb, p->stem_w, demb, g->stem_w, g->stem_b, B, a->emb_ch, h, w, a->width[0], 1,
                        1, 0, 1);
}

static float *hn_out(void *views, int which)
{
    return ((HnViews *)views)->x[which - INR_VIEW_X].out;
}

const InrModelImpl inr_hnerv_impl = {
    .view_size = sizeof(HnViews),
    .declare_params = hn_params,
    .declare_acts = hn_acts,
    .forward = hn_forward,
    .backward = hn_backward,
    .out_of = hn_out,
};

/* ---- ConvNeXt encoder ------------------------------------------------------------------ */

#define CN_EPS 1e-6f

typedef struct CnParams {
    struct {
        float *ds_w, *ds_b;       /* (d_i, d_{i-1} or 3, s, s), (d_i) */
        float *ln_w, *ln_b;       /* stage 0: after the conv (d_0); else before it (d_{i-1}) */
        float *dw_w, *dw_b;       /* (d, 1, 7, 7), (d) */
        float *bln_w, *bln_b;     /* (d) */
        float *pw1_w, *pw1_b;     /* (4d, d, 1, 1), (4d) */
        float *pw2_w, *pw2_b;     /* (d, 4d, 1, 1), (d) */
        float *gamma;             /* (d) */
    } st[INR_MAX_STRIDES];
} CnParams;

typedef struct CnActs {
    struct {
        float *ln, *ln_mean, *ln_rstd; /* stage 0: LN of ds; else LN of the stage input */
        float *ds;                     /* (B, d, h, w) */
        float *dw, *bln, *bln_mean, *bln_rstd, *pw1, *act, *pw2, *scaled, *out;
    } st[INR_MAX_STRIDES];
} CnActs;

typedef struct CnViews {
    CnParams p[2];
    CnActs x[2];
} CnViews;

static int cn_dim(const InrArch *a, int i)
{
    return i == a->nstrides - 1 ? a->emb_ch : a->enc_dim > 0 ? a->enc_dim : INR_ENC_DIM;
}

size_t inr_convnext_view_size(void)
{
    return sizeof(CnViews);
}

void inr_convnext_params(NvcArena *ar, void *views, int which, const InrArch *a)
{
    CnParams *p = &((CnViews *)views)->p[which];
    const NvcInit tn = NVC_INIT(NVC_INIT_TRUNC_NORMAL, 0.02f), one = NVC_INIT(NVC_INIT_ONE, 0);
    for (int i = 0; i < a->nstrides; i++) {
        int d = cn_dim(a, i), din = i ? cn_dim(a, i - 1) : 3, s = a->stride[i];
        p->st[i].ln_w = nvc_tensor(ar, one, NVC_SHAPE(i ? din : d), "enc.%d.ln.weight", i);
        p->st[i].ln_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(i ? din : d), "enc.%d.ln.bias", i);
        p->st[i].ds_w = nvc_tensor(ar, tn, NVC_SHAPE(d, din, s, s), "enc.%d.down.weight", i);
        p->st[i].ds_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(d), "enc.%d.down.bias", i);
        p->st[i].dw_w = nvc_tensor(ar, tn, NVC_SHAPE(d, 1, 7, 7), "enc.%d.dwconv.weight", i);
        p->st[i].dw_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(d), "enc.%d.dwconv.bias", i);
        p->st[i].bln_w = nvc_tensor(ar, one, NVC_SHAPE(d), "enc.%d.norm.weight", i);
        p->st[i].bln_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(d), "enc.%d.norm.bias", i);
        p->st[i].pw1_w = nvc_tensor(ar, tn, NVC_SHAPE(4 * d, d, 1, 1), "enc.%d.pwconv1.weight", i);
        p->st[i].pw1_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(4 * d), "enc.%d.pwconv1.bias", i);
        p->st[i].pw2_w = nvc_tensor(ar, tn, NVC_SHAPE(d, 4 * d, 1, 1), "enc.%d.pwconv2.weight", i);
        p->st[i].pw2_b = nvc_tensor(ar, NVC_INIT_ZEROED, NVC_SHAPE(d), "enc.%d.pwconv2.bias", i);
        p->st[i].gamma = nvc_tensor(ar, NVC_INIT(NVC_INIT_CONST, 1e-6f), NVC_SHAPE(d), "enc.%d.gamma", i);
    }
}

void inr_convnext_acts(NvcArena *ar, void *views, int which, const InrArch *a, int B)
{
    CnActs *x = &((CnViews *)views)->x[which - INR_VIEW_X];
    const NvcInit none = NVC_INIT(NVC_INIT_NONE, 0);
    int h, w;
    inr_arch_out_size(a, &h, &w);
    for (int i = 0; i < a->nstrides; i++) {
        int d = cn_dim(a, i), din = i ? cn_dim(a, i - 1) : 3, s = a->stride[i];
        if (i) {
            x->st[i].ln = nvc_tensor(ar, none, NVC_SHAPE(B, din, h, w), "enc.%d.ln", i);
            x->st[i].ln_mean = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.ln.mean", i);
            x->st[i].ln_rstd = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.ln.rstd", i);
        }
        h /= s, w /= s;
        x->st[i].ds = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.down", i);
        if (!i) {
            x->st[i].ln = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.ln", i);
            x->st[i].ln_mean = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.ln.mean", i);
            x->st[i].ln_rstd = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.ln.rstd", i);
        }
        x->st[i].dw = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.dw", i);
        x->st[i].bln = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.norm", i);
        x->st[i].bln_mean = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.norm.mean", i);
        x->st[i].bln_rstd = nvc_tensor(ar, none, NVC_SHAPE(B, h * w), "enc.%d.norm.rstd", i);
        x->st[i].pw1 = nvc_tensor(ar, none, NVC_SHAPE(B, 4 * d, h, w), "enc.%d.pw1", i);
        x->st[i].act = nvc_tensor(ar, none, NVC_SHAPE(B, 4 * d, h, w), "enc.%d.act", i);
        x->st[i].pw2 = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.pw2", i);
        x->st[i].scaled = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.scaled", i);
        x->st[i].out = nvc_tensor(ar, none, NVC_SHAPE(B, d, h, w), "enc.%d.out", i);
    }
}

void inr_convnext_forward(const InrArch *a, NvcNn *nn, const void *views, const float *img, int B)
{
    const NvcNnOps *op = nn->ops;
    const CnParams *p = &((const CnViews *)views)->p[INR_VIEW_P];
    const CnActs *x = &((const CnViews *)views)->x[0];
    int h, w;
    inr_arch_out_size(a, &h, &w);
    const float *in = img;
    for (int i = 0; i < a->nstrides; i++) {
        int d = cn_dim(a, i), din = i ? cn_dim(a, i - 1) : 3, s = a->stride[i];
        if (i) {
            op->layernorm_forward(nn, x->st[i].ln, x->st[i].ln_mean, x->st[i].ln_rstd, in, p->st[i].ln_w,
                                  p->st[i].ln_b, B, din, h * w, CN_EPS);
            in = x->st[i].ln;
        }
        op->conv2d_forward(nn, x->st[i].ds, in, p->st[i].ds_w, p->st[i].ds_b, B, din, h, w, d, s, s, 0, 1);
        h /= s, w /= s;
        const int hw = h * w;
        const float *bin = x->st[i].ds;
        if (!i) {
            op->layernorm_forward(nn, x->st[i].ln, x->st[i].ln_mean, x->st[i].ln_rstd, bin, p->st[i].ln_w,
                                  p->st[i].ln_b, B, d, hw, CN_EPS);
            bin = x->st[i].ln;
        }
        op->conv2d_forward(nn, x->st[i].dw, bin, p->st[i].dw_w, p->st[i].dw_b, B, d, h, w, d, 7, 1, 3, d);
        op->layernorm_forward(nn, x->st[i].bln, x->st[i].bln_mean, x->st[i].bln_rstd, x->st[i].dw, p->st[i].bln_w,
                              p->st[i].bln_b, B, d, hw, CN_EPS);
        op->conv2d_forward(nn, x->st[i].pw1, x->st[i].bln, p->st[i].pw1_w, p->st[i].pw1_b, B, d, h, w, 4 * d, 1, 1,
                           0, 1);
        op->gelu_forward(nn, x->st[i].act, x->st[i].pw1, (size_t)B * 4 * d * hw);
        op->conv2d_forward(nn, x->st[i].pw2, x->st[i].act, p->st[i].pw2_w, p->st[i].pw2_b, B, 4 * d, h, w, d, 1, 1,
                           0, 1);
        op->chanmul_forward(nn, x->st[i].scaled, x->st[i].pw2, p->st[i].gamma, NULL, B, d, hw, 0);
        op->add_forward(nn, x->st[i].out, bin, x->st[i].scaled, (size_t)B * d * hw);
        in = x->st[i].out;
    }
}

void inr_convnext_backward(const InrArch *a, NvcNn *nn, const void *views, const float *img, int B)
{
    const NvcNnOps *op = nn->ops;
    const CnViews *v = views;
    const CnParams *p = &v->p[INR_VIEW_P], *g = &v->p[INR_VIEW_G];
    const CnActs *x = &v->x[0], *dx = &v->x[1];
    int hs[INR_MAX_STRIDES + 1], ws[INR_MAX_STRIDES + 1];
    inr_arch_out_size(a, &hs[0], &ws[0]);
    for (int i = 0; i < a->nstrides; i++)
        hs[i + 1] = hs[i] / a->stride[i], ws[i + 1] = ws[i] / a->stride[i];
    for (int i = a->nstrides - 1; i >= 0; i--) {
        int d = cn_dim(a, i), din = i ? cn_dim(a, i - 1) : 3, s = a->stride[i];
        int h = hs[i + 1], w = ws[i + 1], hw = h * w;
        const float *bin = i ? x->st[i].ds : x->st[i].ln;
        float *dbin = i ? dx->st[i].ds : dx->st[i].ln;
        size_t n = (size_t)B * d * hw;
        op->add_backward(nn, dx->st[i].out, dbin, dx->st[i].scaled, n);
        op->chanmul_backward(nn, dx->st[i].scaled, x->st[i].pw2, p->st[i].gamma, dx->st[i].pw2, g->st[i].gamma, NULL,
                             B, d, hw, 0);
        op->conv2d_backward(nn, dx->st[i].pw2, x->st[i].act, p->st[i].pw2_w, dx->st[i].act, g->st[i].pw2_w,
                            g->st[i].pw2_b, B, 4 * d, h, w, d, 1, 1, 0, 1);
        op->gelu_backward(nn, dx->st[i].act, x->st[i].pw1, dx->st[i].pw1, 4 * n);
        op->conv2d_backward(nn, dx->st[i].pw1, x->st[i].bln, p->st[i].pw1_w, dx->st[i].bln, g->st[i].pw1_w,
                            g->st[i].pw1_b, B, d, h, w, 4 * d, 1, 1, 0, 1);
        op->layernorm_backward(nn, dx->st[i].bln, x->st[i].dw, p->st[i].bln_w, x->st[i].bln_mean,
                               x->st[i].bln_rstd, dx->st[i].dw, g->st[i].bln_w, g->st[i].bln_b, B, d, hw);
        op->conv2d_backward(nn, dx->st[i].dw, bin, p->st[i].dw_w, dbin, g->st[i].dw_w, g->st[i].dw_b, B, d, h, w, d,
                            7, 1, 3, d);
        if (!i)
            op->layernorm_backward(nn, dx->st[i].ln, x->st[i].ds, p->st[i].ln_w, x->st[i].ln_mean,
                                   x->st[i].ln_rstd, dx->st[i].ds, g->st[i].ln_w, g->st[i].ln_b, B, d, hw);
        /* the stage input: the image (no gradient) or the previous stage's LayerNorm */
        const float *in = i ? x->st[i].ln : img;
        float *dstage = i ? dx->st[i].ln : NULL;
        op->conv2d_backward(nn, dx->st[i].ds, in, p->st[i].ds_w, dstage, g->st[i].ds_w, g->st[i].ds_b, B, din,
                            hs[i], ws[i], d, s, s, 0, 1);
        if (i)
            op->layernorm_backward(nn, dx->st[i].ln, x->st[i - 1].out, p->st[i].ln_w, x->st[i].ln_mean,
                                   x->st[i].ln_rstd, dx->st[i - 1].out, g->st[i].ln_w, g->st[i].ln_b, B, din,
                                   hs[i] * ws[i]);
    }
}

float *inr_convnext_emb(void *views, int which, const InrArch *a)
{
    return ((CnViews *)views)->x[which - INR_VIEW_X].st[a->nstrides - 1].out;
}
