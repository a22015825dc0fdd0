/*
 * NeRV++ (Ghorbel and Hamidouche, 2024): the network.
 *
 *   t (B) -> positional encoding [sin, cos](base^l pi t), l < L -> (B, 2L)
 *   -> gated MLP: fc1 2L -> 2D, split (x, z), fc2(x * GELU(z)) D -> C0 gh gw
 *   -> view (B, C0, gh, gw)
 *   -> per stride s_i, block C_i -> C_{i+1}:
 *        proj   1x1 conv C_i -> C (C = C_{i+1}); r = proj
 *        gated  fc1 1x1 C -> 2 h (h = int(8/3 C)), split (g: h, i: h - C, c: C),
 *               c = depthwise 5x5 (c), fc2 1x1 (GELU(g) * [i, c]) h -> C, + proj
 *        up     3x3 conv C -> C s^2, PixelShuffle(s), SiLU
 *        ffn    depthwise 3x3, 1x1, GELU, 1x1, + up
 *        skip   + bilinear upsampling of r by s (align_corners=False)
 *   -> 1x1 conv C_n -> 3, tanh * 0.5 + 0.5.
 * Initialisation as the reference: Xavier uniform for convolutions,
 * truncated normal (std 0.02) for the linear layers (the MLP and the 1x1
 * convolutions of the gated block, Linear layers there), zero biases.
 * (The reference's MLP uses the tanh approximation of GELU; this one the
 * erf form, as everywhere else in nvc.)
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include "inr/inr.h"

typedef struct NpParams {
    float *fc1_w, *fc1_b;        /* (2D, 2L), (2D) */
    float *fc2_w, *fc2_b;        /* (C0 gh gw, D), (C0 gh gw) */
    struct {
        float *proj_w, *proj_b;  /* (C, Cin, 1, 1), (C) */
        float *g1_w, *g1_b;      /* (2h, C, 1, 1), (2h) */
        float *gdw_w, *gdw_b;    /* (C, 1, 5, 5), (C) */
        float *g2_w, *g2_b;      /* (C, h, 1, 1), (C) */
        float *up_w, *up_b;      /* (C s^2, C, 3, 3), (C s^2) */
        float *fdw_w, *fdw_b;    /* (C, 1, 3, 3), (C) */
        float *f1_w, *f1_b;      /* (C, C, 1, 1), (C) */
        float *f2_w, *f2_b;      /* (C, C, 1, 1), (C) */
    } blk[INR_MAX_STRIDES];
    float *head_w, *head_b;      /* (3, C_n, 1, 1), (3) */
} NpParams;

typedef struct NpActs {
    float *out;                  /* (B, 3, H, W) */
    float *pe;                   /* (B, 2L) */
    float *fc1, *mx, *mz, *gz, *mh;  /* (B, 2D), (B, D) x 4 */
    float *stem;                 /* (B, C0, gh, gw) */
    struct {
        /* at the block's input resolution h x w */
        float *proj, *g1, *gg, *grest, *gi, *gc, *gdw, *gcat, *gact, *gmul, *g2, *gout, *up;
        /* at the output resolution */
        float *act, *fdw, *f1, *f1a, *f2, *fout, *skip, *out; /* act: SiLU(PixelShuffle(up)) */
    } blk[INR_MAX_STRIDES];
    float *head, *th;            /* (B, 3, H, W) */
} NpActs;

typedef struct NpViews {
    NpParams p[2];
    NpActs x[2];
} NpViews;

static int cells(const InrArch *a)
{
    return a->grid_h * a->grid_w;
}

static void np_params(NvcArena *ar, void *views, int which, const InrArch *a)
{
    NpParams *p = &((NpViews *)views)->p[which];
    const NvcInit tn = NVC_INIT(NVC_INIT_TRUNC_NORMAL, 0.02f), xav = NVC_INIT(NVC_INIT_XAVIER_UNIFORM, 1.0f),
                  zero = NVC_INIT_ZEROED;
    const int L2 = 2 * a->pe_levels, D = a->stem_hidden, c0 = a->width[0];
    p->fc1_w = nvc_tensor(ar, tn, NVC_SHAPE(2 * D, L2), "stem.fc1.weight");
    p->fc1_b = nvc_tensor(ar, zero, NVC_SHAPE(2 * D), "stem.fc1.bias");
    p->fc2_w = nvc_tensor(ar, tn, NVC_SHAPE(c0 * cells(a), D), "stem.fc2.weight");
    p->fc2_b = nvc_tensor(ar, zero, NVC_SHAPE(c0 * cells(a)), "stem.fc2.bias");
    for (int i = 0; i < a->nstrides; i++) {
        int ci = a->width[i], c = a->width[i + 1], h = inr_nervpp_hidden(c), s = a->stride[i];
        p->blk[i].proj_w = nvc_tensor(ar, xav, NVC_SHAPE(c, ci, 1, 1), "blocks.%d.proj.weight", i);
        p->blk[i].proj_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.proj.bias", i);
        p->blk[i].g1_w = nvc_tensor(ar, tn, NVC_SHAPE(2 * h, c, 1, 1), "blocks.%d.gcnn.fc1.weight", i);
        p->blk[i].g1_b = nvc_tensor(ar, zero, NVC_SHAPE(2 * h), "blocks.%d.gcnn.fc1.bias", i);
        p->blk[i].gdw_w = nvc_tensor(ar, xav, NVC_SHAPE(c, 1, 5, 5), "blocks.%d.gcnn.conv.weight", i);
        p->blk[i].gdw_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.gcnn.conv.bias", i);
        p->blk[i].g2_w = nvc_tensor(ar, tn, NVC_SHAPE(c, h, 1, 1), "blocks.%d.gcnn.fc2.weight", i);
        p->blk[i].g2_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.gcnn.fc2.bias", i);
        p->blk[i].up_w = nvc_tensor(ar, xav, NVC_SHAPE(c * s * s, c, 3, 3), "blocks.%d.up.weight", i);
        p->blk[i].up_b = nvc_tensor(ar, zero, NVC_SHAPE(c * s * s), "blocks.%d.up.bias", i);
        p->blk[i].fdw_w = nvc_tensor(ar, xav, NVC_SHAPE(c, 1, 3, 3), "blocks.%d.ffn.dw.weight", i);
        p->blk[i].fdw_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.ffn.dw.bias", i);
        p->blk[i].f1_w = nvc_tensor(ar, xav, NVC_SHAPE(c, c, 1, 1), "blocks.%d.ffn.fc1.weight", i);
        p->blk[i].f1_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.ffn.fc1.bias", i);
        p->blk[i].f2_w = nvc_tensor(ar, xav, NVC_SHAPE(c, c, 1, 1), "blocks.%d.ffn.fc2.weight", i);
        p->blk[i].f2_b = nvc_tensor(ar, zero, NVC_SHAPE(c), "blocks.%d.ffn.fc2.bias", i);
    }
    int cn = a->width[a->nstrides];
    p->head_w = nvc_tensor(ar, xav, NVC_SHAPE(3, cn, 1, 1), "head.weight");
    p->head_b = nvc_tensor(ar, zero, NVC_SHAPE(3), "head.bias");
}

static void np_acts(NvcArena *ar, void *views, int which, const InrArch *a, int B)
{
    NpActs *x = &((NpViews *)views)->x[which - INR_VIEW_X];
    const NvcInit none = NVC_INIT(NVC_INIT_NONE, 0);
    const int D = a->stem_hidden;
    int h = a->grid_h, w = a->grid_w;
    x->pe = nvc_tensor(ar, none, NVC_SHAPE(B, 2 * a->pe_levels), "pe");
    x->fc1 = nvc_tensor(ar, none, NVC_SHAPE(B, 2 * D), "stem.fc1");
    x->mx = nvc_tensor(ar, none, NVC_SHAPE(B, D), "stem.x");
    x->mz = nvc_tensor(ar, none, NVC_SHAPE(B, D), "stem.z");
    x->gz = nvc_tensor(ar, none, NVC_SHAPE(B, D), "stem.gelu");
    x->mh = nvc_tensor(ar, none, NVC_SHAPE(B, D), "stem.gated");
    x->stem = nvc_tensor(ar, none, NVC_SHAPE(B, a->width[0], h, w), "stem");
    for (int i = 0; i < a->nstrides; i++) {
        int c = a->width[i + 1], hd = inr_nervpp_hidden(c), s = a->stride[i];
#define T(field, ch, name) x->blk[i].field = nvc_tensor(ar, none, NVC_SHAPE(B, ch, h, w), "blocks.%d." name, i)
        T(proj, c, "proj");
        T(g1, 2 * hd, "g1");
        T(gg, hd, "g");
        T(grest, hd, "rest");
        T(gi, hd - c, "i");
        T(gc, c, "c");
        T(gdw, c, "dw");
        T(gcat, hd, "cat");
        T(gact, hd, "gelu");
        T(gmul, hd, "gated");
        T(g2, c, "g2");
        T(gout, c, "gout");
        T(up, c * s * s, "up");
        h *= s, w *= s;
        T(act, c, "silu");
        T(fdw, c, "ffn.dw");
        T(f1, c, "ffn.fc1");
        T(f1a, c, "ffn.gelu");
        T(f2, c, "ffn.fc2");
        T(fout, c, "ffn.out");
        T(skip, c, "skip");
        T(out, c, "out");
#undef T
    }
    x->head = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "head");
    x->th = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "head.tanh");
    x->out = nvc_tensor(ar, none, NVC_SHAPE(B, 3, h, w), "out");
}

static void block_forward(NvcNn *nn, const NpParams *p, const NpActs *x, int i, const float *in, int B, int ci,
                          int c, int s, int h, int w)
{
    const NvcNnOps *op = nn->ops;
    const int hd = inr_nervpp_hidden(c), hw = h * w, HW = hw * s * s;
    const size_t n = (size_t)B * c * hw, N = (size_t)B * c * HW;
    op->conv2d_forward(nn, x->blk[i].proj, in, p->blk[i].proj_w, p->blk[i].proj_b, B, ci, h, w, c, 1, 1, 0, 1);
    /* gated CNN block */
    op->conv2d_forward(nn, x->blk[i].g1, x->blk[i].proj, p->blk[i].g1_w, p->blk[i].g1_b, B, c, h, w, 2 * hd, 1, 1, 0,
                       1);
    op->split_forward(nn, x->blk[i].gg, x->blk[i].grest, x->blk[i].g1, B, hd, hd, hw);
    op->split_forward(nn, x->blk[i].gi, x->blk[i].gc, x->blk[i].grest, B, hd - c, c, hw);
    op->conv2d_forward(nn, x->blk[i].gdw, x->blk[i].gc, p->blk[i].gdw_w, p->blk[i].gdw_b, B, c, h, w, c, 5, 1, 2, c);
    op->concat_forward(nn, x->blk[i].gcat, x->blk[i].gi, x->blk[i].gdw, B, hd - c, c, hw);
    op->gelu_forward(nn, x->blk[i].gact, x->blk[i].gg, (size_t)B * hd * hw);
    op->mul_forward(nn, x->blk[i].gmul, x->blk[i].gact, x->blk[i].gcat, (size_t)B * hd * hw);
    op->conv2d_forward(nn, x->blk[i].g2, x->blk[i].gmul, p->blk[i].g2_w, p->blk[i].g2_b, B, hd, h, w, c, 1, 1, 0, 1);
    op->add_forward(nn, x->blk[i].gout, x->blk[i].g2, x->blk[i].proj, n);
    /* upsampling block */
    op->conv2d_forward(nn, x->blk[i].up, x->blk[i].gout, p->blk[i].up_w, p->blk[i].up_b, B, c, h, w, c * s * s, 3, 1,
                       1, 1);
    op->pixel_shuffle_act_forward(nn, x->blk[i].act, x->blk[i].up, B, c, h, w, s, NVC_ACT_SILU);
    /* residual FFN */
    int H = h * s, W = w * s;
    op->conv2d_forward(nn, x->blk[i].fdw, x->blk[i].act, p->blk[i].fdw_w, p->blk[i].fdw_b, B, c, H, W, c, 3, 1, 1, c);
    op->conv2d_forward(nn, x->blk[i].f1, x->blk[i].fdw, p->blk[i].f1_w, p->blk[i].f1_b, B, c, H, W, c, 1, 1, 0, 1);
    op->gelu_forward(nn, x->blk[i].f1a, x->blk[i].f1, N);
    op->conv2d_forward(nn, x->blk[i].f2, x->blk[i].f1a, p->blk[i].f2_w, p->blk[i].f2_b, B, c, H, W, c, 1, 1, 0, 1);
    op->add_forward(nn, x->blk[i].fout, x->blk[i].f2, x->blk[i].act, N);
    /* bilinear skip of the projection */
    op->upsample_bilinear_forward(nn, x->blk[i].skip, x->blk[i].proj, B, c, h, w, s);
    op->add_forward(nn, x->blk[i].out, x->blk[i].fout, x->blk[i].skip, N);
}

static void block_backward(NvcNn *nn, const NpParams *p, const NpParams *g, const NpActs *x, const NpActs *d, int i,
                           const float *in, float *din, int B, int ci, int c, int s, int h, int w)
{
    const NvcNnOps *op = nn->ops;
    const int hd = inr_nervpp_hidden(c), hw = h * w, H = h * s, W = w * s;
    const size_t n = (size_t)B * c * hw, N = (size_t)B * c * H * W, nh = (size_t)B * hd * hw;
    op->add_backward(nn, d->blk[i].out, d->blk[i].fout, d->blk[i].skip, N);
    op->upsample_bilinear_backward(nn, d->blk[i].skip, d->blk[i].proj, B, c, h, w, s);
    op->add_backward(nn, d->blk[i].fout, d->blk[i].f2, d->blk[i].act, N);
    op->conv2d_backward(nn, d->blk[i].f2, x->blk[i].f1a, p->blk[i].f2_w, d->blk[i].f1a, g->blk[i].f2_w,
                        g->blk[i].f2_b, B, c, H, W, c, 1, 1, 0, 1);
    op->gelu_backward(nn, d->blk[i].f1a, x->blk[i].f1, d->blk[i].f1, N);
    op->conv2d_backward(nn, d->blk[i].f1, x->blk[i].fdw, p->blk[i].f1_w, d->blk[i].fdw, g->blk[i].f1_w,
                        g->blk[i].f1_b, B, c, H, W, c, 1, 1, 0, 1);
    op->conv2d_backward(nn, d->blk[i].fdw, x->blk[i].act, p->blk[i].fdw_w, d->blk[i].act, g->blk[i].fdw_w,
                        g->blk[i].fdw_b, B, c, H, W, c, 3, 1, 1, c);
    op->pixel_shuffle_act_backward(nn, d->blk[i].act, x->blk[i].up, d->blk[i].up, B, c, h, w, s, NVC_ACT_SILU);
    op->conv2d_backward(nn, d->blk[i].up, x->blk[i].gout, p->blk[i].up_w, d->blk[i].gout, g->blk[i].up_w,
                        g->blk[i].up_b, B, c, h, w, c * s * s, 3, 1, 1, 1);
    op->add_backward(nn, d->blk[i].gout, d->blk[i].g2, d->blk[i].proj, n);
    op->conv2d_backward(nn, d->blk[i].g2, x->blk[i].gmul, p->blk[i].g2_w, d->blk[i].gmul, g->blk[i].g2_w,
                        g->blk[i].g2_b, B, hd, h, w, c, 1, 1, 0, 1);
    op->mul_backward(nn, d->blk[i].gmul, x->blk[i].gact, x->blk[i].gcat, d->blk[i].gact, d->blk[i].gcat, nh);
    op->gelu_backward(nn, d->blk[i].gact, x->blk[i].gg, d->blk[i].gg, nh);
    op->concat_backward(nn, d->blk[i].gcat, d->blk[i].gi, d->blk[i].gdw, B, hd - c, c, hw);
    op->conv2d_backward(nn, d->blk[i].gdw, x->blk[i].gc, p->blk[i].gdw_w, d->blk[i].gc, g->blk[i].gdw_w,
                        g->blk[i].gdw_b, B, c, h, w, c, 5, 1, 2, c);
    op->split_backward(nn, d->blk[i].gi, d->blk[i].gc, d->blk[i].grest, B, hd - c, c, hw);
    op->split_backward(nn, d->blk[i].gg, d->blk[i].grest, d->blk[i].g1, B, hd, hd, hw);
    op->conv2d_backward(nn, d->blk[i].g1, x->blk[i].proj, p->blk[i].g1_w, d->blk[i].proj, g->blk[i].g1_w,
                        g->blk[i].g1_b, B, c, h, w, 2 * hd, 1, 1, 0, 1);
    op->conv2d_backward(nn, d->blk[i].proj, in, p->blk[i].proj_w, din, g->blk[i].proj_w, g->blk[i].proj_b, B, ci, h,
                        w, c, 1, 1, 0, 1);
}

static void np_forward(const InrArch *a, NvcNn *nn, const void *views, const float *t, int B)
{
    const NvcNnOps *op = nn->ops;
    const NpParams *p = &((const NpViews *)views)->p[INR_VIEW_P];
    const NpActs *x = &((const NpViews *)views)->x[0];
    const int D = a->stem_hidden, L2 = 2 * a->pe_levels;
    op->posenc_forward(nn, x->pe, t, B, a->pe_levels, a->pe_base);
    op->linear_forward(nn, x->fc1, x->pe, p->fc1_w, p->fc1_b, B, L2, 2 * D);
    op->split_forward(nn, x->mx, x->mz, x->fc1, B, D, D, 1);
    op->gelu_forward(nn, x->gz, x->mz, (size_t)B * D);
    op->mul_forward(nn, x->mh, x->mx, x->gz, (size_t)B * D);
    op->linear_forward(nn, x->stem, x->mh, p->fc2_w, p->fc2_b, B, D, a->width[0] * cells(a));
    int h = a->grid_h, w = a->grid_w;
    const float *in = x->stem;
    for (int i = 0; i < a->nstrides; i++) {
        block_forward(nn, p, x, i, in, B, a->width[i], a->width[i + 1], a->stride[i], h, w);
        h *= a->stride[i], w *= a->stride[i];
        in = x->blk[i].out;
    }
    size_t n = (size_t)B * 3 * h * w;
    op->conv2d_forward(nn, x->head, in, p->head_w, p->head_b, B, a->width[a->nstrides], h, w, 3, 1, 1, 0, 1);
    op->tanh_forward(nn, x->th, x->head, n);
    op->affine_forward(nn, x->out, x->th, 0.5f, 0.5f, n);
}

static void np_backward(const InrArch *a, NvcNn *nn, const void *views, const float *t, float *dt, int B)
{
    const NvcNnOps *op = nn->ops;
    const NpViews *v = views;
    const NpParams *p = &v->p[INR_VIEW_P], *g = &v->p[INR_VIEW_G];
    const NpActs *x = &v->x[0], *d = &v->x[1];
    const int D = a->stem_hidden, L2 = 2 * a->pe_levels, nb = a->nstrides;
    int hs[INR_MAX_STRIDES + 1], ws[INR_MAX_STRIDES + 1];
    hs[0] = a->grid_h, ws[0] = a->grid_w;
    for (int i = 0; i < nb; i++)
        hs[i + 1] = hs[i] * a->stride[i], ws[i + 1] = ws[i] * a->stride[i];
    size_t n = (size_t)B * 3 * hs[nb] * ws[nb];
    op->affine_backward(nn, d->out, d->th, 0.5f, n);
    op->tanh_backward(nn, d->th, x->th, d->head, n);
    op->conv2d_backward(nn, d->head, x->blk[nb - 1].out, p->head_w, d->blk[nb - 1].out, g->head_w, g->head_b, B,
                        a->width[nb], hs[nb], ws[nb], 3, 1, 1, 0, 1);
    for (int i = nb - 1; i >= 0; i--) {
        const float *in = i ? x->blk[i - 1].out : x->stem;
        float *din = i ? d->blk[i - 1].out : d->stem;
        block_backward(nn, p, g, x, d, i, in, din, B, a->width[i], a->width[i + 1], a->stride[i], hs[i], ws[i]);
    }
    op->linear_backward(nn, d->stem, x->mh, p->fc2_w, d->mh, g->fc2_w, g->fc2_b, B, D, a->width[0] * cells(a));
    op->mul_backward(nn, d->mh, x->mx, x->gz, d->mx, d->gz, (size_t)B * D);
    op->gelu_backward(nn, d->gz, x->mz, d->mz, (size_t)B * D);
    op->split_backward(nn, d->mx, d->mz, d->fc1, B, D, D, 1);
    op->linear_backward(nn, d->fc1, x->pe, p->fc1_w, d->pe, g->fc1_w, g->fc1_b, B, L2, 2 * D);
    if (dt)
        op->posenc_backward(nn, d->pe, t, dt, B, a->pe_levels, a->pe_base);
}

static float *np_out(void *views, int which)
{
    return ((NpViews *)views)->x[which - INR_VIEW_X].out;
}

const InrModelImpl inr_nervpp_impl = {
    .view_size = sizeof(NpViews),
    .declare_params = np_params,
    .declare_acts = np_acts,
    .forward = np_forward,
    .backward = np_backward,
    .out_of = np_out,
};
