/*
 * The P-frame model of the conditional video codec (nvc/video_model.h):
 * parameters, activations of a chain, forward and backward passes.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/video_flow.h"
#include "nvc/video_model.h"

/* ---- configuration ------------------------------------------------------------------ */

void nvc_vid_config_default(NvcVidConfig *c)
{
    memset(c, 0, sizeof(*c));
    c->g1 = 24, c->g2 = 48, c->g4 = 64, c->g8 = 64;
    c->M = 96, c->Cz = 48, c->P = 96;
    c->cm = 32, c->Mm = 32, c->Czm = 32, c->Pm = 64;
    c->lambda_min = 0.0015f;
    c->lambda_max = 0.12f;
    c->blend = 0; /* the shipped architecture; blend: an experiment (VIDEO.md 5) */
}

int nvc_vid_config_check(const NvcVidConfig *c, const NvcLogger *logger)
{
    const int w[] = { c->g1, c->g2, c->g4, c->g8, c->Cz, c->P, c->cm, c->Czm, c->Pm };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (w[i] < 2 || w[i] > 1024)
            return nvc_log_error(logger, NVC_ERR(EINVAL), "video model: widths must be in 2..1024");
    if (c->M < 4 || c->M > 1024 || c->M % 4 || c->Mm < 4 || c->Mm > 1024 || c->Mm % 4)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "video model: latent channels must be multiples of 4");
    if (c->blend < 0 || c->blend > 2)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "video model: blend must be 0, 1 or 2");
    if (!(c->lambda_min > 0 && c->lambda_max >= c->lambda_min))
        return nvc_log_error(logger, NVC_ERR(EINVAL), "video model: bad lambda range");
    return 0;
}

float nvc_vid_lambda(const NvcVidConfig *c, int q)
{
    return (float)(c->lambda_min * pow((double)c->lambda_max / c->lambda_min, q / 63.0));
}

/* ---- parameters --------------------------------------------------------------------- */

static void conv_param(NvcArena *a, NvcImgConv *c, int co, int ci, int k, const char *fmt, int i)
{
    char name[48];
    snprintf(name, sizeof(name), fmt, i);
    c->w = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, 0.0f), NVC_SHAPE(co, ci, k, k), "%s.weight", name);
    c->b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, (float)(ci * k * k)), NVC_SHAPE(co), "%s.bias", name);
}

static void rbu_param(NvcArena *a, NvcVidRbuParams *r, int ci, int co, const char *pfx, int i)
{
    char fmt[48];
    snprintf(fmt, sizeof(fmt), "%s.%%d.up", pfx);
    conv_param(a, &r->up, 4 * co, ci, 1, fmt, i);
    snprintf(fmt, sizeof(fmt), "%s.%%d.conv", pfx);
    conv_param(a, &r->conv, co, co, 3, fmt, i);
    snprintf(fmt, sizeof(fmt), "%s.%%d.skip", pfx);
    conv_param(a, &r->skip, 4 * co, ci, 1, fmt, i);
}

void nvc_vid_params(NvcArena *a, NvcVidParams *p, const NvcVidConfig *c)
{
    const int mw[5] = { 2, c->cm, c->cm, c->cm, c->Mm };
    for (int i = 0; i < 4; i++)
        conv_param(a, &p->me[i], mw[i + 1], mw[i], 3, "mv.enc.%d", i);
    p->q_mv_enc = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->cm), "q_mv_enc");
    p->q_mv_dec = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->cm), "q_mv_dec");
    nvc_vid_prior_params(a, &p->mvp, "mv", c->Mm, c->Czm, c->Pm);
    rbu_param(a, &p->md[0], c->Mm, c->cm, "mv.dec", 0);
    rbu_param(a, &p->md[1], c->cm, c->cm, "mv.dec", 1);
    rbu_param(a, &p->md[2], c->cm, c->cm, "mv.dec", 2);
    conv_param(a, &p->md_out, 8, c->cm, 3, "mv.dec.out", 0);
    conv_param(a, &p->adapt, c->g1, 3, 3, "adapt", 0);
    conv_param(a, &p->fx[0], c->g1, c->g1, 3, "fx.%d", 0);
    conv_param(a, &p->fx[1], c->g2, c->g1, 3, "fx.%d", 1);
    conv_param(a, &p->fx[2], c->g4, c->g2, 3, "fx.%d", 2);
    conv_param(a, &p->cx[0], c->g1, c->g1, 3, "cx.%d", 0);
    conv_param(a, &p->cx[1], c->g2, c->g2, 3, "cx.%d", 1);
    conv_param(a, &p->cx[2], c->g4, c->g4, 3, "cx.%d", 2);
    conv_param(a, &p->ce[0], c->g2, 3 + c->g1, 3, "enc.%d", 0);
    conv_param(a, &p->ce[1], c->g4, 2 * c->g2, 3, "enc.%d", 1);
    conv_param(a, &p->ce[2], c->g8, 2 * c->g4, 3, "enc.%d", 2);
    conv_param(a, &p->ce[3], c->M, c->g8, 3, "enc.%d", 3);
    p->q_enc = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->g2), "q_enc");
    p->q_dec = nvc_tensor(a, NVC_INIT(NVC_INIT_ONE, 0), NVC_SHAPE(2, c->g2), "q_dec");
    nvc_vid_prior_params(a, &p->yp, "y", c->M, c->Cz, c->P);
    rbu_param(a, &p->cd[0], c->M, c->g8, "dec", 0);
    rbu_param(a, &p->cd[1], c->g8, c->g4, "dec", 1);
    rbu_param(a, &p->cd[2], c->g4, c->g2, "dec", 2);
    conv_param(a, &p->cd_f4, c->g4, 2 * c->g4, 3, "dec.f4", 0);
    conv_param(a, &p->cd_f2, c->g2, 2 * c->g2, 3, "dec.f2", 0);
    conv_param(a, &p->cd_ps, 4 * c->g1, c->g2, 1, "dec.ps", 0);
    conv_param(a, &p->cd_feat, c->g1, 2 * c->g1, 3, "dec.feat", 0);
    conv_param(a, &p->cd_out, 3, c->g1, 3, "dec.out", 0);
    if (c->blend)
        conv_param(a, &p->cd_mask, 3, c->g1, 3, "dec.mask", 0);
}

/* Host-side adjustments of the seeded initialisation: scalers spanning a
 * range of qualities, scale roots at 1, a zero flow and mid-grey pictures
 * to start from. */
static void init_host_params(const NvcVidConfig *c, const NvcArena *layout, float *host)
{
    NvcVidParams p;
    NvcArena a = *layout;
    nvc_arena_bind(&a, host);
    nvc_vid_params(&a, &p, c);
    for (int i = 0; i < c->cm; i++) {
        p.q_mv_enc[i] = 0.5f, p.q_mv_enc[c->cm + i] = 2.0f;
        p.q_mv_dec[i] = 2.0f, p.q_mv_dec[c->cm + i] = 0.5f;
    }
    for (int i = 0; i < c->g2; i++) {
        p.q_enc[i] = 0.5f, p.q_enc[c->g2 + i] = 2.0f;
        p.q_dec[i] = 2.0f, p.q_dec[c->g2 + i] = 0.5f;
    }
    nvc_vid_prior_init_host(&p.mvp, c->Mm);
    nvc_vid_prior_init_host(&p.yp, c->M);
    for (int j = 0; j < 8; j++)
        p.md_out.b[j] = 0.0f;
    /* blend: start from 0.88 of the motion-compensated reference plus a
     * residual around zero (gated: plus 0.12 of a mid-grey picture);
     * otherwise from mid-grey pictures */
    for (int j = 0; j < 3; j++)
        p.cd_out.b[j] = c->blend == 1 ? 0.0f : 0.5f;
    for (int j = 0; j < 3 && c->blend; j++)
        p.cd_mask.b[j] = 2.0f;
}

/* ---- a change of units of the residual latent ---------------------------------------- */

/* Input channels [c0, c1) of a conv weight (co, ci, kk), backend memory. */
static void scale_inputs(NvcNn *nn, float *w, int co, int ci, int kk, int c0, int c1, float a)
{
    for (int o = 0; o < co; o++)
        nn->ops->tensor_scale(nn, w + ((size_t)o * ci + c0) * kk, a, (size_t)(c1 - c0) * kk);
}

/* Output channels [r0, r1) of a conv (weight (co, ci, kk) and bias). */
static void scale_outputs(NvcNn *nn, const NvcImgConv *c, int ci, int kk, int r0, int r1, float a)
{
    nn->ops->tensor_scale(nn, c->w + (size_t)r0 * ci * kk, a, (size_t)(r1 - r0) * ci * kk);
    nn->ops->tensor_scale(nn, c->b + r0, a, (size_t)(r1 - r0));
}

/* A latent of L channels made by conv `enc` (ci inputs, 3x3), read by the
 * decoder block `dec` (co outputs per phase), and its entropy model pp
 * (hyper-latent Cz, prior width P): x k at the encoder, / k at every reader,
 * the conditionals' centres x k and scale roots x sqrt(k). */
static int scale_units(NvcNn *nn, const NvcImgConv *enc, int ci, const NvcVidRbuParams *dec, int co,
                       const NvcVidPriorParams *pp, int L, int Cz, int P, float k)
{
    const float r = sqrtf(k);
    if (!(k > 0))
        return NVC_ERR(EINVAL);
    /* the encoder's output */
    scale_outputs(nn, enc, ci, 9, 0, L, k);
    /* its readers: the decoder, the hyper-analysis, the temporal prior's
     * previous latent, the spatial context steps' latent so far */
    scale_inputs(nn, dec->up.w, 4 * co, L, 1, 0, L, 1 / k);
    scale_inputs(nn, dec->skip.w, 4 * co, L, 1, 0, L, 1 / k);
    scale_inputs(nn, pp->ha[0].w, Cz, L, 9, 0, L, 1 / k);
    scale_inputs(nn, pp->fuse.w, P, P + L, 1, P, P + L, 1 / k);
    /* the conditionals: centres x k, scale roots x sqrt(k) */
    scale_outputs(nn, &pp->p0, P, 1, 0, L, k);
    scale_outputs(nn, &pp->p0, P, 1, L, 2 * L, r);
    for (int i = 0; i < 3; i++) {
        scale_inputs(nn, pp->ctx[i].in.w, P, L + P, 1, 0, L, 1 / k);
        scale_outputs(nn, &pp->ctx[i].out, P, 1, 0, L, k);
        scale_outputs(nn, &pp->ctx[i].out, P, 1, L, 2 * L, r);
    }
    return nvc_nn_error(nn);
}

int nvc_vid_scale_latent(NvcVidModel *m, NvcNn *nn, float k)
{
    const NvcVidConfig *c = &m->cfg;
    return scale_units(nn, &m->p.ce[3], c->g8, &m->p.cd[0], c->g8, &m->p.yp, c->M, c->Cz, c->P, k);
}

int nvc_vid_scale_mv_latent(NvcVidModel *m, NvcNn *nn, float k)
{
    const NvcVidConfig *c = &m->cfg;
    return scale_units(nn, &m->p.me[3], c->cm, &m->p.md[0], c->cm, &m->p.mvp, c->Mm, c->Czm, c->Pm, k);
}

/* ---- activations -------------------------------------------------------------------- */

#define ACT(shape, ...) nvc_tensor(ar, NVC_INIT(NVC_INIT_NONE, 0), shape, __VA_ARGS__)

/* Inference layouts (train < 0) reuse memory: tensors declared inside a
 * scope share it with the next scope's (nvc_arena_rewind), and activations
 * computed in place alias their input. Only the nvc_vid_infer_* stages run on
 * such a layout; what a stage leaves for a later one or for the codec is
 * declared outside every scope. */
static size_t scope_open(NvcArena *ar, const NvcVidModel *m)
{
    (void)m;
    return nvc_arena_mark(ar);
}

static void scope_close(NvcArena *ar, const NvcVidModel *m, size_t mark)
{
    if (m->train < 0)
        nvc_arena_rewind(ar, mark);
}

/* out is declared first: it outlives the block's own tensors. In place
 * (inference): a1 = ps, a2 = c; s reuses u and sps reuses ps, both dead by
 * then (rbu_fwd's order). */
static void rbu_acts(NvcArena *ar, NvcImgRbu *r, const NvcVidModel *m, int co, int h, int w, const char *pfx)
{
    const int B = m->B;
    r->out = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.out", pfx);
    const size_t mark = scope_open(ar, m);
    r->u = ACT(NVC_SHAPE(B, 4 * co, h, w), "%s.u", pfx);
    r->ps = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.ps", pfx);
    r->c = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.c", pfx);
    if (m->train < 0) {
        r->a1 = r->sps = r->ps, r->a2 = r->c, r->s = r->u;
    } else {
        r->a1 = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.a1", pfx);
        r->a2 = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.a2", pfx);
        r->s = ACT(NVC_SHAPE(B, 4 * co, h, w), "%s.s", pfx);
        r->sps = ACT(NVC_SHAPE(B, co, 2 * h, 2 * w), "%s.sps", pfx);
    }
    scope_close(ar, m, mark);
}

/* conv + LeakyReLU pair: one tensor in inference (computed in place) */
static void act_pair(NvcArena *ar, const NvcVidModel *m, float **c, float **a, NvcShape shape, const char *pfx)
{
    *c = ACT(shape, "%s.c", pfx);
    *a = m->train < 0 ? *c : ACT(shape, "%s.a", pfx);
}

#define SH(ch, s) NVC_SHAPE(m->B, (ch), m->H / (s), m->W / (s))

/* Declared first: what lives across the stages of a frame (inputs, motion,
 * contexts, reconstruction, the latents the codec reads, the priors). */
static void frame_outputs(NvcArena *ar, NvcVidFrame *f, const NvcVidModel *m, int t)
{
    const NvcVidConfig *c = &m->cfg;
    char pfx[48];
    f->x = ACT(SH(3, 1), "f%d.x", t);
    f->flow = ACT(SH(2, 1), "f%d.flow", t);
    f->fref = ACT(SH(c->g1, 1), "f%d.fref", t);
    f->me_c[3] = ACT(SH(c->Mm, 16), "f%d.me.c3", t);
    snprintf(pfx, sizeof(pfx), "f%d.mv", t);
    nvc_vid_prior_acts(ar, &f->mvp, pfx, &m->mvL);
    f->vhat = ACT(SH(2, 1), "f%d.vhat", t);
    f->v2 = ACT(SH(2, 2), "f%d.v2", t);
    f->v4 = ACT(SH(2, 4), "f%d.v4", t);
    const int gw[3] = { c->g1, c->g2, c->g4 };
    for (int k = 0; k < 3; k++)
        f->ctx[k] = ACT(SH(gw[k], 1 << k), "f%d.ctx%d", t, k);
    f->e_c[3] = ACT(SH(c->M, 16), "f%d.e.c3", t);
    snprintf(pfx, sizeof(pfx), "f%d.y", t);
    nvc_vid_prior_acts(ar, &f->yp, pfx, &m->yL);
    /* inference: the reference feature is dead once the contexts are made,
     * so the decoded feature takes its place (nvc_vid_infer_next copies nothing) */
    f->feat = m->train < 0 ? f->fref : ACT(SH(c->g1, 1), "f%d.feat", t);
    f->xhat = ACT(SH(3, 1), "f%d.xhat", t);
    f->mse = ACT(NVC_SHAPE(m->B), "f%d.mse", t);
}

/* motion analysis, then motion synthesis (motion_fwd) */
static void motion_acts(NvcArena *ar, NvcVidFrame *f, const NvcVidModel *m, int t)
{
    const NvcVidConfig *c = &m->cfg;
    char pfx[48];
    size_t mark = scope_open(ar, m);
    for (int i = 0; i < 3; i++) {
        snprintf(pfx, sizeof(pfx), "f%d.me.%d", t, i);
        act_pair(ar, m, &f->me_c[i], &f->me_a[i], SH(c->cm, 2 << i), pfx);
    }
    f->me_q = ACT(SH(c->cm, 4), "f%d.me.q", t);
    scope_close(ar, m, mark);
    mark = scope_open(ar, m);
    for (int i = 0; i < 3; i++) {
        snprintf(pfx, sizeof(pfx), "f%d.md.%d", t, i);
        rbu_acts(ar, &f->md[i], m, c->cm, m->H / (16 >> i), m->W / (16 >> i), pfx);
    }
    f->md_q = ACT(SH(c->cm, 2), "f%d.md.q", t);
    f->md_out = ACT(SH(8, 2), "f%d.md.out", t);
    scope_close(ar, m, mark);
}

/* temporal contexts (contexts_fwd): f1, f2, f4 live through the warps; f1a
 * and f2a die before them; each scale's warp is dead after its context. In
 * inference cc[k] is ctx[k] (the residual add runs in place). */
static void context_acts(NvcArena *ar, NvcVidFrame *f, const NvcVidModel *m, int t)
{
    const NvcVidConfig *c = &m->cfg;
    const size_t outer = scope_open(ar, m);
    f->f1 = ACT(SH(c->g1, 1), "f%d.f1", t);
    f->f2 = ACT(SH(c->g2, 2), "f%d.f2", t);
    f->f4 = ACT(SH(c->g4, 4), "f%d.f4", t);
    size_t mark = scope_open(ar, m);
    f->f1a = ACT(SH(c->g1, 1), "f%d.f1a", t);
    f->f2a = ACT(SH(c->g2, 2), "f%d.f2a", t);
    scope_close(ar, m, mark);
    const int gw[3] = { c->g1, c->g2, c->g4 };
    for (int k = 0; k < 3; k++) {
        mark = scope_open(ar, m);
        f->w[k] = ACT(SH(gw[k], 1 << k), "f%d.w%d", t, k);
        f->wa[k] = ACT(SH(gw[k], 1 << k), "f%d.wa%d", t, k);
        f->cc[k] = m->train < 0 ? f->ctx[k] : ACT(SH(gw[k], 1 << k), "f%d.cc%d", t, k);
        scope_close(ar, m, mark);
    }
    scope_close(ar, m, outer);
}

/* contextual encoder, then contextual decoder (coder_fwd) */
static void coder_acts(NvcArena *ar, NvcVidFrame *f, const NvcVidModel *m, int t)
{
    const NvcVidConfig *c = &m->cfg;
    char pfx[48];
    size_t mark = scope_open(ar, m);
    f->ein[0] = ACT(SH(3 + c->g1, 1), "f%d.ein0", t);
    f->ein[1] = ACT(SH(2 * c->g2, 2), "f%d.ein1", t);
    f->ein[2] = ACT(SH(2 * c->g4, 4), "f%d.ein2", t);
    const int ew[3] = { c->g2, c->g4, c->g8 };
    for (int i = 0; i < 3; i++) {
        snprintf(pfx, sizeof(pfx), "f%d.e.%d", t, i);
        act_pair(ar, m, &f->e_c[i], &f->e_a[i], SH(ew[i], 2 << i), pfx);
    }
    f->e1q = ACT(SH(c->g2, 2), "f%d.e1q", t);
    scope_close(ar, m, mark);
    /* in the order coder_fwd computes them: a block's scope must not cover
     * anything an earlier-declared, later-computed tensor needs */
    mark = scope_open(ar, m);
    const int dw[3] = { c->g8, c->g4, c->g2 };
    for (int i = 0; i < 2; i++) {
        snprintf(pfx, sizeof(pfx), "f%d.cd.%d", t, i);
        rbu_acts(ar, &f->cd[i], m, dw[i], m->H / (16 >> i), m->W / (16 >> i), pfx);
    }
    f->d4in = ACT(SH(2 * c->g4, 4), "f%d.d4in", t);
    snprintf(pfx, sizeof(pfx), "f%d.d4", t);
    act_pair(ar, m, &f->d4c, &f->d4a, SH(c->g4, 4), pfx);
    snprintf(pfx, sizeof(pfx), "f%d.cd.%d", t, 2);
    rbu_acts(ar, &f->cd[2], m, dw[2], m->H / 4, m->W / 4, pfx);
    f->d2q = ACT(SH(c->g2, 2), "f%d.d2q", t);
    f->d2in = ACT(SH(2 * c->g2, 2), "f%d.d2in", t);
    snprintf(pfx, sizeof(pfx), "f%d.d2", t);
    act_pair(ar, m, &f->d2c, &f->d2a, SH(c->g2, 2), pfx);
    f->dps_c = ACT(SH(4 * c->g1, 2), "f%d.dps.c", t);
    f->dps = ACT(SH(c->g1, 1), "f%d.dps", t);
    f->dfin = ACT(SH(2 * c->g1, 1), "f%d.dfin", t);
    f->dfc = m->train < 0 ? f->feat : ACT(SH(c->g1, 1), "f%d.dfc", t);
    if (c->blend) {
        f->xo = ACT(SH(3, 1), "f%d.xo", t);
        f->pred = ACT(SH(3, 1), "f%d.pred", t);
        f->mkc = ACT(SH(3, 1), "f%d.mkc", t);
        f->mk = ACT(SH(3, 1), "f%d.mk", t);
        f->mp = ACT(SH(3, 1), "f%d.mp", t);
        f->pd = c->blend == 2 ? ACT(SH(3, 1), "f%d.pd", t) : NULL;
    } else {
        f->xo = f->xhat;
    }
    scope_close(ar, m, mark);
}

#undef SH

static void frame_acts(NvcArena *ar, NvcVidFrame *f, const NvcVidModel *m, int t)
{
    frame_outputs(ar, f, m, t);
    motion_acts(ar, f, m, t);
    context_acts(ar, f, m, t);
    coder_acts(ar, f, m, t);
}

static void vid_acts(NvcArena *ar, NvcVidShared *s, NvcVidFrame *f, const NvcVidModel *m)
{
    const NvcVidConfig *c = &m->cfg;
    const int B = m->B, H = m->H, W = m->W;
    s->x0 = ACT(NVC_SHAPE(B, 3, H, W), "x0");
    s->qme = ACT(NVC_SHAPE(B, c->cm), "q_mv_enc");
    s->qmd = ACT(NVC_SHAPE(B, c->cm), "q_mv_dec");
    s->qe = ACT(NVC_SHAPE(B, c->g2), "q_enc");
    s->qd = ACT(NVC_SHAPE(B, c->g2), "q_dec");
    s->zm = ACT(NVC_SHAPE(B, c->Mm, H / 16, W / 16), "zeros.mv");
    s->zy = ACT(NVC_SHAPE(B, c->M, H / 16, W / 16), "zeros.y");
    for (int t = 0; t < m->T; t++)
        frame_acts(ar, &f[t], m, t);
}

/* References of each frame: the previous frame's outputs, or after a
 * refresh the adapted picture and zero latents. grad: the gradient set
 * (nothing flows into the zeros nor into x0). */
static void link_frames(NvcVidModel *m, NvcVidShared *s, NvcVidFrame *f, int grad)
{
    for (int t = 0; t < m->T; t++) {
        f[t].xref = t ? f[t - 1].xhat : grad ? NULL : s->x0;
        if (m->refresh[t] || t == 0) {
            f[t].F = f[t].fref;
            f[t].mref = grad ? NULL : s->zm;
            f[t].yref = grad ? NULL : s->zy;
        } else {
            f[t].F = f[t - 1].feat;
            f[t].mref = f[t - 1].mvp.yhat;
            f[t].yref = f[t - 1].yp.yhat;
        }
    }
}

/* ---- creation ----------------------------------------------------------------------- */

static int bind_all(NvcVidModel *m)
{
    nvc_arena_bind(&m->params, m->pbuf);
    nvc_vid_params(&m->params, &m->p, &m->cfg);
    nvc_arena_bind(&m->acts, m->abuf);
    vid_acts(&m->acts, &m->s, m->f, m);
    link_frames(m, &m->s, m->f, 0);
    if (m->train > 0) {
        nvc_arena_bind(&m->params, m->gbuf);
        nvc_vid_params(&m->params, &m->g, &m->cfg);
        nvc_arena_bind(&m->acts, m->dbuf);
        vid_acts(&m->acts, &m->ds, m->df, m);
        link_frames(m, &m->ds, m->df, 1);
    }
    int ret = nvc_arena_check(&m->params);
    return ret ? ret : nvc_arena_check(&m->acts);
}

static int layout(NvcVidModel *m, NvcNn *nn)
{
    const NvcVidConfig *c = &m->cfg;
    const int infer = m->train < 0;
    int ret = nvc_vid_prior_create(&m->mvL, nn, m->B, c->Mm, c->Czm, c->Pm, m->H / 16, m->W / 16, infer);
    if (!ret)
        ret = nvc_vid_prior_create(&m->yL, nn, m->B, c->M, c->Cz, c->P, m->H / 16, m->W / 16, infer);
    if (ret < 0)
        return ret;
    nvc_vid_params(&m->params, &m->p, c);
    vid_acts(&m->acts, &m->s, m->f, m);
    if ((ret = nvc_arena_check(&m->params)) < 0)
        return ret;
    return nvc_arena_check(&m->acts);
}

int nvc_vid_create(NvcVidModel *m, NvcNn *nn, const NvcVidConfig *cfg, int B, int T, int H, int W, int train,
                   NvcLrSchedule sched, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    int ret = nvc_vid_config_check(cfg, &nn->logger);
    if (ret < 0)
        return ret;
    if (B < 1 || B > 64 || T < 1 || T > NVC_VID_TMAX || H < NVC_VID_ALIGN || W < NVC_VID_ALIGN ||
        H % NVC_VID_ALIGN || W % NVC_VID_ALIGN || (train < 0 && (B != 1 || T != 1)))
        return NVC_ERR(EINVAL);
    m->cfg = *cfg;
    m->B = B, m->T = T, m->H = H, m->W = W, m->train = train, m->seed = seed;
    m->mv_rate_weight = m->y_rate_weight = 1.0f;
    m->refresh[0] = 1;
    if ((ret = layout(m, nn)) < 0) {
        nvc_vid_free(m, nn);
        return ret;
    }
    float *host = calloc(m->params.size, sizeof(float));
    const size_t nx = (size_t)B * 3 * H * W;
    m->host_frames = malloc(sizeof(float) * nx * T);
    m->host_x0 = malloc(sizeof(float) * nx);
    m->pbuf = nvc_nn_alloc(nn, m->params.size);
    m->abuf = nvc_nn_alloc(nn, m->acts.size);
    m->pool_w = nvc_nn_alloc(nn, 8);
    if (train > 0) {
        m->gbuf = nvc_nn_alloc(nn, m->params.size);
        m->dbuf = nvc_nn_alloc(nn, m->acts.size);
    }
    if (!host || !m->host_frames || !m->host_x0 || !m->pbuf || !m->abuf || !m->pool_w ||
        (train > 0 && (!m->gbuf || !m->dbuf))) {
        free(host);
        nvc_vid_free(m, nn);
        return NVC_ERR(ENOMEM);
    }
    nvc_arena_init_params(&m->params, host, seed);
    init_host_params(cfg, &m->params, host);
    ret = nvc_nn_upload(nn, m->pbuf, host, m->params.size);
    free(host);
    const float pool[8] = { 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f };
    if (!ret)
        ret = nvc_nn_upload(nn, m->pool_w, pool, 8);
    if (!ret)
        ret = bind_all(m);
    if (!ret && train > 0)
        ret = nvc_adam_init(&m->opt, nn, &m->params, sched);
    if (!ret)
        ret = nvc_nn_error(nn);
    if (ret < 0)
        nvc_vid_free(m, nn);
    return ret;
}

void nvc_vid_free(NvcVidModel *m, NvcNn *nn)
{
    if (m->opt.m)
        nvc_adam_free(&m->opt, nn);
    nvc_vid_prior_free(&m->mvL, nn);
    nvc_vid_prior_free(&m->yL, nn);
    nvc_nn_release(nn, m->pbuf);
    nvc_nn_release(nn, m->gbuf);
    nvc_nn_release(nn, m->abuf);
    nvc_nn_release(nn, m->dbuf);
    nvc_nn_release(nn, m->pool_w);
    nvc_arena_free(&m->params);
    nvc_arena_free(&m->acts);
    free(m->host_frames);
    free(m->host_x0);
    memset(m, 0, sizeof(*m));
}

size_t nvc_vid_memory(const NvcVidConfig *cfg, int B, int T, int H, int W, int train)
{
    NvcVidModel m;
    memset(&m, 0, sizeof(m));
    m.cfg = *cfg;
    m.B = B, m.T = T, m.H = H, m.W = W, m.train = train;
    const int infer = train < 0;
    m.mvL = (NvcVidPrior){ .B = B, .M = cfg->Mm, .Cz = cfg->Czm, .P = cfg->Pm, .h = H / 16, .w = W / 16, .infer = infer };
    m.yL = (NvcVidPrior){ .B = B, .M = cfg->M, .Cz = cfg->Cz, .P = cfg->P, .h = H / 16, .w = W / 16, .infer = infer };
    nvc_vid_params(&m.params, &m.p, cfg);
    vid_acts(&m.acts, &m.s, m.f, &m);
    size_t floats = m.params.size * (train > 0 ? 4 : 1) + m.acts.size * (train > 0 ? 2 : 1);
    if (!infer)
        floats += (size_t)12 * B * (cfg->M + cfg->Mm) * (H / 16) * (W / 16); /* masks */
    nvc_arena_free(&m.params);
    nvc_arena_free(&m.acts);
    return floats * sizeof(float);
}

/* ---- quality scalers ---------------------------------------------------------------- */

/* rows (B, C) = geometric interpolation of lim (2, C) at q[b] / 63 */
static int scaler_rows(NvcNn *nn, const float *lim_dev, int C, int B, const int *q, float *rows_dev)
{
    float *lim = malloc(sizeof(float) * 2 * C), *rows = malloc(sizeof(float) * B * C);
    int ret = lim && rows ? nvc_nn_download(nn, lim, lim_dev, 2 * (size_t)C) : NVC_ERR(ENOMEM);
    for (int b = 0; b < B && !ret; b++) {
        const double t = q[b] / 63.0;
        for (int i = 0; i < C; i++) {
            double l0 = fmax(fabs(lim[i]), 1e-6), l1 = fmax(fabs(lim[C + i]), 1e-6);
            rows[b * C + i] = (float)(pow(l0, 1 - t) * pow(l1, t));
        }
    }
    if (!ret)
        ret = nvc_nn_upload(nn, rows_dev, rows, (size_t)B * C);
    free(lim);
    free(rows);
    return ret;
}

/* d rows (B, C) -> gradient of lim (2, C) (overwritten: its only use) */
static int scaler_backward(NvcNn *nn, const float *drows_dev, const float *lim_dev, float *glim_dev, int C, int B,
                           const int *q)
{
    float *dq = malloc(sizeof(float) * B * C), *lim = malloc(sizeof(float) * 2 * C);
    float *g = calloc(2 * (size_t)C, sizeof(float));
    int ret = dq && lim && g ? nvc_nn_download(nn, dq, drows_dev, (size_t)B * C) : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_nn_download(nn, lim, lim_dev, 2 * (size_t)C);
    for (int b = 0; b < B && !ret; b++) {
        const double t = q[b] / 63.0;
        for (int i = 0; i < C; i++) {
            double l0 = fmax(fabs(lim[i]), 1e-6), l1 = fmax(fabs(lim[C + i]), 1e-6);
            double s = pow(l0, 1 - t) * pow(l1, t), d = dq[b * C + i] * s;
            g[i] += (float)(d * (1 - t) / l0 * (lim[i] < 0 ? -1 : 1));
            g[C + i] += (float)(d * t / l1 * (lim[C + i] < 0 ? -1 : 1));
        }
    }
    if (!ret)
        ret = nvc_nn_upload(nn, glim_dev, g, 2 * (size_t)C);
    free(dq);
    free(lim);
    free(g);
    return ret;
}

int nvc_vid_set_quality(NvcVidModel *m, NvcNn *nn, const int *q)
{
    const NvcVidConfig *c = &m->cfg;
    for (int b = 0; b < m->B; b++) {
        if (q[b] < 0 || q[b] >= NVC_VID_QLEVELS)
            return NVC_ERR(EINVAL);
        m->q[b] = q[b];
    }
    int ret = scaler_rows(nn, m->p.q_mv_enc, c->cm, m->B, q, m->s.qme);
    if (!ret)
        ret = scaler_rows(nn, m->p.q_mv_dec, c->cm, m->B, q, m->s.qmd);
    if (!ret)
        ret = scaler_rows(nn, m->p.q_enc, c->g2, m->B, q, m->s.qe);
    if (!ret)
        ret = scaler_rows(nn, m->p.q_dec, c->g2, m->B, q, m->s.qd);
    for (int t = 0; t < m->T && !ret; t++) {
        nvc_vid_prior_set_quality(&m->mvL, nn, &m->p.mvp, &m->f[t].mvp, q);
        nvc_vid_prior_set_quality(&m->yL, nn, &m->p.yp, &m->f[t].yp, q);
    }
    return ret ? ret : nvc_nn_error(nn);
}

int nvc_vid_set_refresh(NvcVidModel *m, int period)
{
    if (period < 0 || m->train < 0)
        return NVC_ERR(EINVAL);
    for (int t = 0; t < m->T; t++)
        m->refresh[t] = t == 0 || (period > 0 && t % period == 0);
    link_frames(m, &m->s, m->f, 0);
    if (m->train > 0)
        link_frames(m, &m->ds, m->df, 1);
    return 0;
}

int nvc_vid_set_chain(NvcVidModel *m, NvcNn *nn, const float *x0, const float *frames)
{
    const size_t nx = (size_t)m->B * 3 * m->H * m->W;
    memcpy(m->host_x0, x0, sizeof(float) * nx);
    memcpy(m->host_frames, frames, sizeof(float) * nx * m->T);
    int ret = nvc_nn_upload(nn, m->s.x0, x0, nx);
    for (int t = 0; t < m->T && !ret; t++)
        ret = nvc_nn_upload(nn, m->f[t].x, frames + nx * t, nx);
    return ret;
}

/* ---- blocks ------------------------------------------------------------------------- */

static void conv_fwd(NvcNn *nn, float *out, const float *in, const NvcImgConv *c, int B, int ci, int H, int W,
                     int co, int k, int stride)
{
    nn->ops->conv2d_forward(nn, out, in, c->w, c->b, B, ci, H, W, co, k, stride, k / 2, 1);
}

static void conv_bwd(NvcNn *nn, const float *dout, const float *in, const NvcImgConv *p, float *din,
                     const NvcImgConv *g, int B, int ci, int H, int W, int co, int k, int stride)
{
    nn->ops->conv2d_backward(nn, dout, in, p->w, din, g->w, g->b, B, ci, H, W, co, k, stride, k / 2, 1);
}

/* ResidualBlockUpsample (the image codec's): x (B, ci, h, w) -> out (B, co, 2h, 2w) */
static void rbu_fwd(NvcNn *nn, NvcImgRbu *a, const float *x, const NvcVidRbuParams *P, int B, int ci, int co, int h,
                    int w)
{
    const NvcNnOps *op = nn->ops;
    const size_t n = (size_t)B * co * 4 * h * w;
    conv_fwd(nn, a->u, x, &P->up, B, ci, h, w, 4 * co, 1, 1);
    op->pixel_shuffle_forward(nn, a->ps, a->u, B, co, h, w, 2);
    op->leaky_relu_forward(nn, a->a1, a->ps, 0.01f, n);
    conv_fwd(nn, a->c, a->a1, &P->conv, B, co, 2 * h, 2 * w, co, 3, 1);
    op->leaky_relu_forward(nn, a->a2, a->c, 0.1f, n);
    conv_fwd(nn, a->s, x, &P->skip, B, ci, h, w, 4 * co, 1, 1);
    op->pixel_shuffle_forward(nn, a->sps, a->s, B, co, h, w, 2);
    op->add_forward(nn, a->out, a->a2, a->sps, n);
}

static void rbu_bwd(NvcNn *nn, const NvcImgRbu *a, const NvcImgRbu *d, const float *x, float *dx,
                    const NvcVidRbuParams *P, const NvcVidRbuParams *G, int B, int ci, int co, int h, int w)
{
    const NvcNnOps *op = nn->ops;
    const size_t n = (size_t)B * co * 4 * h * w;
    op->add_backward(nn, d->out, d->a2, d->sps, n);
    op->pixel_shuffle_backward(nn, d->sps, d->s, B, co, h, w, 2);
    conv_bwd(nn, d->s, x, &P->skip, dx, &G->skip, B, ci, h, w, 4 * co, 1, 1);
    op->leaky_relu_backward(nn, d->a2, a->c, d->c, 0.1f, n);
    conv_bwd(nn, d->c, a->a1, &P->conv, d->a1, &G->conv, B, co, 2 * h, 2 * w, co, 3, 1);
    op->leaky_relu_backward(nn, d->a1, a->ps, d->ps, 0.01f, n);
    op->pixel_shuffle_backward(nn, d->ps, d->u, B, co, h, w, 2);
    conv_bwd(nn, d->u, x, &P->up, dx, &G->up, B, ci, h, w, 4 * co, 1, 1);
}

/* out = lrelu(conv(in)) */
static void conv_act(NvcNn *nn, float *c_out, float *a_out, const float *in, const NvcImgConv *p, int B, int ci,
                     int H, int W, int co, int k, int stride)
{
    conv_fwd(nn, c_out, in, p, B, ci, H, W, co, k, stride);
    nn->ops->leaky_relu_forward(nn, a_out, c_out, 0.01f, (size_t)B * co * (H / stride) * (W / stride));
}

static void conv_act_bwd(NvcNn *nn, const float *da, const float *c, float *dc, const float *in, float *din,
                         const NvcImgConv *p, const NvcImgConv *g, int B, int ci, int H, int W, int co, int k,
                         int stride)
{
    nn->ops->leaky_relu_backward(nn, da, c, dc, 0.01f, (size_t)B * co * (H / stride) * (W / stride));
    conv_bwd(nn, dc, in, p, din, g, B, ci, H, W, co, k, stride);
}

/* ---- one P frame ------------------------------------------------------------------------ */

static uint64_t frame_seed(const NvcVidModel *m, uint64_t step, int t, int which)
{
    return (m->seed * 0x9e3779b97f4a7c15ull + step) * 0xbf58476d1ce4e5b9ull + (uint64_t)(2 * t + which + 1);
}

static void motion_fwd(NvcVidModel *m, NvcNn *nn, NvcVidFrame *f, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p;
    const int B = m->B, H = m->H, W = m->W;
    conv_act(nn, f->me_c[0], f->me_a[0], f->flow, &p->me[0], B, 2, H, W, c->cm, 3, 2);
    conv_act(nn, f->me_c[1], f->me_a[1], f->me_a[0], &p->me[1], B, c->cm, H / 2, W / 2, c->cm, 3, 2);
    op->chanmul_forward(nn, f->me_q, f->me_a[1], m->s.qme, NULL, B, c->cm, H / 4 * (W / 4), 1);
    conv_act(nn, f->me_c[2], f->me_a[2], f->me_q, &p->me[2], B, c->cm, H / 4, W / 4, c->cm, 3, 2);
    conv_fwd(nn, f->me_c[3], f->me_a[2], &p->me[3], B, c->cm, H / 8, W / 8, c->Mm, 3, 2);
    nvc_vid_prior_forward(nn, &m->mvL, &p->mvp, &f->mvp, f->me_c[3], f->mref, train, seed);
    rbu_fwd(nn, &f->md[0], f->mvp.yhat, &p->md[0], B, c->Mm, c->cm, H / 16, W / 16);
    rbu_fwd(nn, &f->md[1], f->md[0].out, &p->md[1], B, c->cm, c->cm, H / 8, W / 8);
    rbu_fwd(nn, &f->md[2], f->md[1].out, &p->md[2], B, c->cm, c->cm, H / 4, W / 4);
    op->chanmul_forward(nn, f->md_q, f->md[2].out, m->s.qmd, NULL, B, c->cm, H / 2 * (W / 2), 1);
    conv_fwd(nn, f->md_out, f->md_q, &p->md_out, B, c->cm, H / 2, W / 2, 8, 3, 1);
    op->pixel_shuffle_forward(nn, f->vhat, f->md_out, B, 2, H / 2, W / 2, 2);
    /* the flow at 1/2 and 1/4: 2x2 averages, halved */
    op->conv2d_forward(nn, f->v2, f->vhat, m->pool_w, NULL, B, 2, H, W, 2, 2, 2, 0, 2);
    op->conv2d_forward(nn, f->v4, f->v2, m->pool_w, NULL, B, 2, H / 2, W / 2, 2, 2, 2, 0, 2);
}

static void motion_bwd(NvcVidModel *m, NvcNn *nn, const NvcVidFrame *f, const NvcVidFrame *d, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p, *g = &m->g;
    const int B = m->B, H = m->H, W = m->W;
    op->conv2d_backward(nn, d->v4, f->v2, m->pool_w, d->v2, NULL, NULL, B, 2, H / 2, W / 2, 2, 2, 2, 0, 2);
    op->conv2d_backward(nn, d->v2, f->vhat, m->pool_w, d->vhat, NULL, NULL, B, 2, H, W, 2, 2, 2, 0, 2);
    op->pixel_shuffle_backward(nn, d->vhat, d->md_out, B, 2, H / 2, W / 2, 2);
    conv_bwd(nn, d->md_out, f->md_q, &p->md_out, d->md_q, &g->md_out, B, c->cm, H / 2, W / 2, 8, 3, 1);
    op->chanmul_backward(nn, d->md_q, f->md[2].out, m->s.qmd, d->md[2].out, m->ds.qmd, NULL, B, c->cm,
                         H / 2 * (W / 2), 1);
    rbu_bwd(nn, &f->md[2], &d->md[2], f->md[1].out, d->md[1].out, &p->md[2], &g->md[2], B, c->cm, c->cm, H / 4,
            W / 4);
    rbu_bwd(nn, &f->md[1], &d->md[1], f->md[0].out, d->md[0].out, &p->md[1], &g->md[1], B, c->cm, c->cm, H / 8,
            W / 8);
    rbu_bwd(nn, &f->md[0], &d->md[0], f->mvp.yhat, d->mvp.yhat, &p->md[0], &g->md[0], B, c->Mm, c->cm, H / 16,
            W / 16);
    nvc_vid_prior_backward(nn, &m->mvL, &p->mvp, &m->g.mvp, &f->mvp, &d->mvp, f->me_c[3], d->me_c[3], f->mref,
                           d->mref, m->q, dbits);
    conv_bwd(nn, d->me_c[3], f->me_a[2], &p->me[3], d->me_a[2], &g->me[3], B, c->cm, H / 8, W / 8, c->Mm, 3, 2);
    conv_act_bwd(nn, d->me_a[2], f->me_c[2], d->me_c[2], f->me_q, d->me_q, &p->me[2], &g->me[2], B, c->cm, H / 4,
                 W / 4, c->cm, 3, 2);
    op->chanmul_backward(nn, d->me_q, f->me_a[1], m->s.qme, d->me_a[1], m->ds.qme, NULL, B, c->cm,
                         H / 4 * (W / 4), 1);
    conv_act_bwd(nn, d->me_a[1], f->me_c[1], d->me_c[1], f->me_a[0], d->me_a[0], &p->me[1], &g->me[1], B, c->cm,
                 H / 2, W / 2, c->cm, 3, 2);
    conv_act_bwd(nn, d->me_a[0], f->me_c[0], d->me_c[0], f->flow, NULL, &p->me[0], &g->me[0], B, 2, H, W, c->cm, 3,
                 2);
}

static void contexts_fwd(NvcVidModel *m, NvcNn *nn, NvcVidFrame *f, int refresh)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p;
    const int B = m->B, H = m->H, W = m->W;
    if (refresh)
        conv_fwd(nn, f->fref, f->xref, &p->adapt, B, 3, H, W, c->g1, 3, 1);
    conv_act(nn, f->f1, f->f1a, f->F, &p->fx[0], B, c->g1, H, W, c->g1, 3, 1);
    conv_act(nn, f->f2, f->f2a, f->f1a, &p->fx[1], B, c->g1, H, W, c->g2, 3, 2);
    conv_fwd(nn, f->f4, f->f2a, &p->fx[2], B, c->g2, H / 2, W / 2, c->g4, 3, 2);
    const float *fk[3] = { f->f1, f->f2, f->f4 }, *vk[3] = { f->vhat, f->v2, f->v4 };
    const int gw[3] = { c->g1, c->g2, c->g4 };
    for (int k = 0; k < 3; k++) {
        const int h = H >> k, w = W >> k;
        op->warp_forward(nn, f->w[k], fk[k], vk[k], B, gw[k], h, w);
        op->leaky_relu_forward(nn, f->wa[k], f->w[k], 0.01f, (size_t)B * gw[k] * h * w);
        conv_fwd(nn, f->cc[k], f->wa[k], &p->cx[k], B, gw[k], h, w, gw[k], 3, 1);
        op->add_forward(nn, f->ctx[k], f->cc[k], f->w[k], (size_t)B * gw[k] * h * w);
    }
}

static void contexts_bwd(NvcVidModel *m, NvcNn *nn, const NvcVidFrame *f, const NvcVidFrame *d, int refresh)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p, *g = &m->g;
    const int B = m->B, H = m->H, W = m->W;
    const float *fk[3] = { f->f1, f->f2, f->f4 }, *vk[3] = { f->vhat, f->v2, f->v4 };
    float *dfk[3] = { d->f1, d->f2, d->f4 }, *dvk[3] = { d->vhat, d->v2, d->v4 };
    const int gw[3] = { c->g1, c->g2, c->g4 };
    for (int k = 2; k >= 0; k--) {
        const int h = H >> k, w = W >> k;
        const size_t n = (size_t)B * gw[k] * h * w;
        op->add_backward(nn, d->ctx[k], d->cc[k], d->w[k], n);
        conv_bwd(nn, d->cc[k], f->wa[k], &p->cx[k], d->wa[k], &g->cx[k], B, gw[k], h, w, gw[k], 3, 1);
        op->leaky_relu_backward(nn, d->wa[k], f->w[k], d->w[k], 0.01f, n);
        op->warp_backward(nn, d->w[k], fk[k], vk[k], dfk[k], dvk[k], B, gw[k], h, w);
    }
    conv_bwd(nn, d->f4, f->f2a, &p->fx[2], d->f2a, &g->fx[2], B, c->g2, H / 2, W / 2, c->g4, 3, 2);
    conv_act_bwd(nn, d->f2a, f->f2, d->f2, f->f1a, d->f1a, &p->fx[1], &g->fx[1], B, c->g1, H, W, c->g2, 3, 2);
    conv_act_bwd(nn, d->f1a, f->f1, d->f1, f->F, d->F, &p->fx[0], &g->fx[0], B, c->g1, H, W, c->g1, 3, 1);
    if (refresh)
        conv_bwd(nn, d->fref, f->xref, &p->adapt, d->xref, &g->adapt, B, 3, H, W, c->g1, 3, 1);
}

/* The picture from the decoded feature: r = cd_out(feat), pred = warp(xref, v_hat),
 * m = sigmoid(cd_mask(feat)); x_hat = r, or with blend 1 r + m pred, with
 * blend 2 (gated) r + m (pred - r). */
static void output_fwd(const NvcVidModel *m, NvcNn *nn, NvcVidFrame *f, const float *xref, int B)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p;
    const int H = m->H, W = m->W;
    const size_t n = (size_t)B * 3 * H * W;
    conv_fwd(nn, f->xo, f->feat, &p->cd_out, B, c->g1, H, W, 3, 3, 1);
    if (!c->blend)
        return;
    op->warp_forward(nn, f->pred, xref, f->vhat, B, 3, H, W);
    conv_fwd(nn, f->mkc, f->feat, &p->cd_mask, B, c->g1, H, W, 3, 3, 1);
    op->sigmoid_forward(nn, f->mk, f->mkc, n);
    if (c->blend == 2) { /* gated: pd = pred - r */
        op->affine_forward(nn, f->pd, f->xo, -1.0f, 0.0f, n);
        op->add_forward(nn, f->pd, f->pd, f->pred, n);
    }
    op->mul_forward(nn, f->mp, f->mk, c->blend == 2 ? f->pd : f->pred, n);
    op->add_forward(nn, f->xhat, f->xo, f->mp, n);
}

static void output_bwd(const NvcVidModel *m, NvcNn *nn, const NvcVidFrame *f, const NvcVidFrame *d)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p, *g = &m->g;
    const int B = m->B, H = m->H, W = m->W;
    const size_t n = (size_t)B * 3 * H * W;
    if (c->blend) {
        op->add_backward(nn, d->xhat, d->xo, d->mp, n);
        if (c->blend == 2) {
            op->mul_backward(nn, d->mp, f->mk, f->pd, d->mk, d->pd, n);
            op->add_backward(nn, d->pd, d->pred, NULL, n);
            op->affine_backward(nn, d->pd, d->xo, -1.0f, n);
        } else {
            op->mul_backward(nn, d->mp, f->mk, f->pred, d->mk, d->pred, n);
        }
        op->sigmoid_backward(nn, d->mk, f->mk, d->mkc, n);
        conv_bwd(nn, d->mkc, f->feat, &p->cd_mask, d->feat, &g->cd_mask, B, c->g1, H, W, 3, 3, 1);
        op->warp_backward(nn, d->pred, f->xref, f->vhat, d->xref, d->vhat, B, 3, H, W);
    }
    conv_bwd(nn, d->xo, f->feat, &p->cd_out, d->feat, &g->cd_out, B, c->g1, H, W, 3, 3, 1);
}

static void coder_fwd(NvcVidModel *m, NvcNn *nn, NvcVidFrame *f, int train, uint64_t seed)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p;
    const int B = m->B, H = m->H, W = m->W;
    /* contextual encoder */
    op->concat_forward(nn, f->ein[0], f->x, f->ctx[0], B, 3, c->g1, H * W);
    conv_act(nn, f->e_c[0], f->e_a[0], f->ein[0], &p->ce[0], B, 3 + c->g1, H, W, c->g2, 3, 2);
    op->chanmul_forward(nn, f->e1q, f->e_a[0], m->s.qe, NULL, B, c->g2, H / 2 * (W / 2), 1);
    op->concat_forward(nn, f->ein[1], f->e1q, f->ctx[1], B, c->g2, c->g2, H / 2 * (W / 2));
    conv_act(nn, f->e_c[1], f->e_a[1], f->ein[1], &p->ce[1], B, 2 * c->g2, H / 2, W / 2, c->g4, 3, 2);
    op->concat_forward(nn, f->ein[2], f->e_a[1], f->ctx[2], B, c->g4, c->g4, H / 4 * (W / 4));
    conv_act(nn, f->e_c[2], f->e_a[2], f->ein[2], &p->ce[2], B, 2 * c->g4, H / 4, W / 4, c->g8, 3, 2);
    conv_fwd(nn, f->e_c[3], f->e_a[2], &p->ce[3], B, c->g8, H / 8, W / 8, c->M, 3, 2);
    nvc_vid_prior_forward(nn, &m->yL, &p->yp, &f->yp, f->e_c[3], f->yref, train && m->y_noise ? 2 : train, seed);
    /* contextual decoder */
    rbu_fwd(nn, &f->cd[0], f->yp.yhat, &p->cd[0], B, c->M, c->g8, H / 16, W / 16);
    rbu_fwd(nn, &f->cd[1], f->cd[0].out, &p->cd[1], B, c->g8, c->g4, H / 8, W / 8);
    op->concat_forward(nn, f->d4in, f->cd[1].out, f->ctx[2], B, c->g4, c->g4, H / 4 * (W / 4));
    conv_act(nn, f->d4c, f->d4a, f->d4in, &p->cd_f4, B, 2 * c->g4, H / 4, W / 4, c->g4, 3, 1);
    rbu_fwd(nn, &f->cd[2], f->d4a, &p->cd[2], B, c->g4, c->g2, H / 4, W / 4);
    op->chanmul_forward(nn, f->d2q, f->cd[2].out, m->s.qd, NULL, B, c->g2, H / 2 * (W / 2), 1);
    op->concat_forward(nn, f->d2in, f->d2q, f->ctx[1], B, c->g2, c->g2, H / 2 * (W / 2));
    conv_act(nn, f->d2c, f->d2a, f->d2in, &p->cd_f2, B, 2 * c->g2, H / 2, W / 2, c->g2, 3, 1);
    conv_fwd(nn, f->dps_c, f->d2a, &p->cd_ps, B, c->g2, H / 2, W / 2, 4 * c->g1, 1, 1);
    op->pixel_shuffle_forward(nn, f->dps, f->dps_c, B, c->g1, H / 2, W / 2, 2);
    op->concat_forward(nn, f->dfin, f->dps, f->ctx[0], B, c->g1, c->g1, H * W);
    conv_act(nn, f->dfc, f->feat, f->dfin, &p->cd_feat, B, 2 * c->g1, H, W, c->g1, 3, 1);
    output_fwd(m, nn, f, f->xref, B);
}

static void coder_bwd(NvcVidModel *m, NvcNn *nn, const NvcVidFrame *f, const NvcVidFrame *d, float dbits)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    const NvcVidParams *p = &m->p, *g = &m->g;
    const int B = m->B, H = m->H, W = m->W;
    output_bwd(m, nn, f, d);
    conv_act_bwd(nn, d->feat, f->dfc, d->dfc, f->dfin, d->dfin, &p->cd_feat, &g->cd_feat, B, 2 * c->g1, H, W, c->g1,
                 3, 1);
    op->concat_backward(nn, d->dfin, d->dps, d->ctx[0], B, c->g1, c->g1, H * W);
    op->pixel_shuffle_backward(nn, d->dps, d->dps_c, B, c->g1, H / 2, W / 2, 2);
    conv_bwd(nn, d->dps_c, f->d2a, &p->cd_ps, d->d2a, &g->cd_ps, B, c->g2, H / 2, W / 2, 4 * c->g1, 1, 1);
    conv_act_bwd(nn, d->d2a, f->d2c, d->d2c, f->d2in, d->d2in, &p->cd_f2, &g->cd_f2, B, 2 * c->g2, H / 2, W / 2,
                 c->g2, 3, 1);
    op->concat_backward(nn, d->d2in, d->d2q, d->ctx[1], B, c->g2, c->g2, H / 2 * (W / 2));
    op->chanmul_backward(nn, d->d2q, f->cd[2].out, m->s.qd, d->cd[2].out, m->ds.qd, NULL, B, c->g2,
                         H / 2 * (W / 2), 1);
    rbu_bwd(nn, &f->cd[2], &d->cd[2], f->d4a, d->d4a, &p->cd[2], &g->cd[2], B, c->g4, c->g2, H / 4, W / 4);
    conv_act_bwd(nn, d->d4a, f->d4c, d->d4c, f->d4in, d->d4in, &p->cd_f4, &g->cd_f4, B, 2 * c->g4, H / 4, W / 4,
                 c->g4, 3, 1);
    op->concat_backward(nn, d->d4in, d->cd[1].out, d->ctx[2], B, c->g4, c->g4, H / 4 * (W / 4));
    rbu_bwd(nn, &f->cd[1], &d->cd[1], f->cd[0].out, d->cd[0].out, &p->cd[1], &g->cd[1], B, c->g8, c->g4, H / 8,
            W / 8);
    rbu_bwd(nn, &f->cd[0], &d->cd[0], f->yp.yhat, d->yp.yhat, &p->cd[0], &g->cd[0], B, c->M, c->g8, H / 16,
            W / 16);
    nvc_vid_prior_backward(nn, &m->yL, &p->yp, &m->g.yp, &f->yp, &d->yp, f->e_c[3], d->e_c[3], f->yref, d->yref,
                           m->q, dbits);
    conv_bwd(nn, d->e_c[3], f->e_a[2], &p->ce[3], d->e_a[2], &g->ce[3], B, c->g8, H / 8, W / 8, c->M, 3, 2);
    conv_act_bwd(nn, d->e_a[2], f->e_c[2], d->e_c[2], f->ein[2], d->ein[2], &p->ce[2], &g->ce[2], B, 2 * c->g4,
                 H / 4, W / 4, c->g8, 3, 2);
    op->concat_backward(nn, d->ein[2], d->e_a[1], d->ctx[2], B, c->g4, c->g4, H / 4 * (W / 4));
    conv_act_bwd(nn, d->e_a[1], f->e_c[1], d->e_c[1], f->ein[1], d->ein[1], &p->ce[1], &g->ce[1], B, 2 * c->g2,
                 H / 2, W / 2, c->g4, 3, 2);
    op->concat_backward(nn, d->ein[1], d->e1q, d->ctx[1], B, c->g2, c->g2, H / 2 * (W / 2));
    op->chanmul_backward(nn, d->e1q, f->e_a[0], m->s.qe, d->e_a[0], m->ds.qe, NULL, B, c->g2, H / 2 * (W / 2), 1);
    conv_act_bwd(nn, d->e_a[0], f->e_c[0], d->e_c[0], f->ein[0], d->ein[0], &p->ce[0], &g->ce[0], B, 3 + c->g1, H,
                 W, c->g2, 3, 2);
    op->concat_backward(nn, d->ein[0], NULL, d->ctx[0], B, 3, c->g1, H * W);
}

/* ---- motion estimation ------------------------------------------------------------------ */

/* f[t].flow = flow(x_t, reference) for every chain of the batch. */
static int estimate_motion(NvcVidModel *m, NvcNn *nn, int t)
{
    const int B = m->B, H = m->H, W = m->W;
    const size_t n = (size_t)H * W, nx = (size_t)B * 3 * n;
    float *ref = malloc(sizeof(float) * nx), *g = malloc(sizeof(float) * 2 * n), *fl = malloc(sizeof(float) * 2 * n);
    int ret = ref && g && fl ? 0 : NVC_ERR(ENOMEM);
    if (!ret) {
        if (m->me_on_source)
            memcpy(ref, t ? m->host_frames + nx * (t - 1) : m->host_x0, sizeof(float) * nx);
        else
            ret = nvc_nn_download(nn, ref, m->f[t].xref, nx);
    }
    for (int b = 0; b < B && !ret; b++) {
        nvc_vid_gray(m->host_frames + nx * t + (size_t)b * 3 * n, W, H, g);
        nvc_vid_gray(ref + (size_t)b * 3 * n, W, H, g + n);
        if ((ret = nvc_vid_flow(g, g + n, W, H, fl)) < 0)
            break;
        ret = nvc_nn_upload(nn, m->f[t].flow + (size_t)b * 2 * n, fl, 2 * n);
    }
    free(ref);
    free(g);
    free(fl);
    return ret;
}

/* ---- the chain ---------------------------------------------------------------------------- */

static int forward_all(NvcVidModel *m, NvcNn *nn, int train, uint64_t step)
{
    const size_t n3 = (size_t)3 * m->H * m->W;
    for (int t = 0; t < m->T; t++) {
        NvcVidFrame *f = &m->f[t];
        int ret = estimate_motion(m, nn, t);
        if (ret < 0)
            return ret;
        motion_fwd(m, nn, f, train, frame_seed(m, step, t, 0));
        contexts_fwd(m, nn, f, m->refresh[t] || t == 0);
        coder_fwd(m, nn, f, train, frame_seed(m, step, t, 1));
        for (int b = 0; b < m->B; b++)
            nn->ops->mse_forward(nn, f->mse + b, f->xhat + b * n3, f->x + b * n3, n3);
        if ((ret = nvc_nn_error(nn)) < 0)
            return ret;
    }
    return 0;
}

static int collect_stats(NvcVidModel *m, NvcNn *nn, NvcVidStats *st)
{
    memset(st, 0, sizeof(*st));
    const double px = (double)m->B * m->H * m->W;
    for (int t = 0; t < m->T; t++) {
        float mv[2], y[2], mse[64];
        int ret = nvc_nn_download(nn, mv, m->f[t].mvp.bits, 2);
        if (!ret)
            ret = nvc_nn_download(nn, y, m->f[t].yp.bits, 2);
        if (!ret)
            ret = nvc_nn_download(nn, mse, m->f[t].mse, (size_t)m->B);
        if (ret < 0)
            return ret;
        const double bpp = (mv[0] + mv[1] + y[0] + y[1]) / px;
        st->bpp_t[t] = bpp;
        st->bpp += bpp / m->T;
        st->bpp_mv += (mv[0] + mv[1]) / px / m->T;
        st->bpp_z += (mv[1] + y[1]) / px / m->T;
        double loss = bpp, ps = 0;
        for (int b = 0; b < m->B; b++) {
            loss += nvc_vid_lambda(&m->cfg, m->q[b]) * 65025.0 * mse[b] / m->B;
            st->mse += mse[b] / ((double)m->B * m->T);
            ps += 10 * log10(1.0 / fmax(mse[b], 1e-10)) / m->B;
        }
        st->psnr_t[t] = ps;
        st->psnr += ps / m->T;
        st->loss += loss / m->T;
    }
    return 0;
}

int nvc_vid_forward_backward(NvcVidModel *m, NvcNn *nn, uint64_t step, NvcVidStats *st)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    if (m->train <= 0)
        return NVC_ERR(EINVAL);
    /* the scaler rows follow the current parameters */
    int ret = nvc_vid_set_quality(m, nn, m->q);
    if (ret < 0)
        return ret;
    op->tensor_zero(nn, m->gbuf, m->params.size);
    op->tensor_zero(nn, m->dbuf, m->acts.size);
    ret = forward_all(m, nn, 1, step);
    if (ret < 0)
        return ret;
    const size_t n3 = (size_t)3 * m->H * m->W;
    const float dbits = (float)(1.0 / ((double)m->T * m->B * m->H * m->W));
    for (int t = 0; t < m->T; t++)
        for (int b = 0; b < m->B; b++) {
            float dl = (float)(nvc_vid_lambda(c, m->q[b]) * 65025.0 / ((double)m->B * m->T));
            op->mse_backward(nn, dl, m->f[t].xhat + b * n3, m->f[t].x + b * n3, m->df[t].xhat + b * n3, n3);
        }
    for (int t = m->T - 1; t >= 0; t--) {
        coder_bwd(m, nn, &m->f[t], &m->df[t], dbits * m->y_rate_weight);
        contexts_bwd(m, nn, &m->f[t], &m->df[t], m->refresh[t] || t == 0);
        motion_bwd(m, nn, &m->f[t], &m->df[t], dbits * m->mv_rate_weight);
    }
    if ((ret = scaler_backward(nn, m->ds.qme, m->p.q_mv_enc, m->g.q_mv_enc, c->cm, m->B, m->q)) < 0 ||
        (ret = scaler_backward(nn, m->ds.qmd, m->p.q_mv_dec, m->g.q_mv_dec, c->cm, m->B, m->q)) < 0 ||
        (ret = scaler_backward(nn, m->ds.qe, m->p.q_enc, m->g.q_enc, c->g2, m->B, m->q)) < 0 ||
        (ret = scaler_backward(nn, m->ds.qd, m->p.q_dec, m->g.q_dec, c->g2, m->B, m->q)) < 0)
        return ret;
    if ((ret = nvc_nn_error(nn)) < 0)
        return ret;
    return collect_stats(m, nn, st);
}

/* The prior networks' tensors: hyper-synthesis, fusion, step-0 layer and context steps. */
static int prior_net(const char *name)
{
    static const char *const pfx[] = { "mv.hs.", "mv.fuse.", "mv.prior.", "mv.ctx.",
                                       "y.hs.",  "y.fuse.",  "y.prior.",  "y.ctx." };
    for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
        if (!strncmp(name, pfx[i], strlen(pfx[i])))
            return 1;
    return 0;
}

void nvc_vid_grads_priors_only(NvcVidModel *m, NvcNn *nn)
{
    for (int i = 0; i < m->params.n; i++)
        if (!prior_net(m->params.t[i].name))
            nn->ops->tensor_zero(nn, m->gbuf + m->params.t[i].offset, m->params.t[i].numel);
}

int nvc_vid_train_step(NvcVidModel *m, NvcNn *nn, uint64_t step, NvcVidStats *st)
{
    int ret = nvc_vid_forward_backward(m, nn, step, st);
    return ret < 0 ? ret : nvc_adam_step(&m->opt, nn, &m->params, m->pbuf, m->gbuf);
}

int nvc_vid_eval(NvcVidModel *m, NvcNn *nn, NvcVidStats *st)
{
    if (m->train < 0) /* the inference layout only serves the nvc_vid_infer_* stages */
        return NVC_ERR(EINVAL);
    int ret = nvc_vid_set_quality(m, nn, m->q);
    if (!ret)
        ret = forward_all(m, nn, 0, 0);
    return ret < 0 ? ret : collect_stats(m, nn, st);
}

void nvc_vid_macs(const NvcVidConfig *c, double *enc, double *dec)
{
    /* per pixel; 3x3 convs unless noted; area = 1 / (stride product)^2 of the output */
    const double g1 = c->g1, g2 = c->g2, g4 = c->g4, g8 = c->g8, M = c->M, cm = c->cm, Mm = c->Mm;
    double rbu = 0;
    /* RBU ci -> co at input area a: two 1x1 to 4co, one 3x3 co->co at 4a */
    const double rb[3][3] = { { Mm, cm, 1 / 256.0 }, { cm, cm, 1 / 64.0 }, { cm, cm, 1 / 16.0 } };
    for (int i = 0; i < 3; i++)
        rbu += rb[i][2] * (8 * rb[i][1] * rb[i][0] + 36 * rb[i][1] * rb[i][1]);
    double mvdec = rbu + cm * 8 * 9 / 4.0;
    double mvenc = 2 * cm * 9 / 4.0 + cm * cm * 9 / 16.0 + cm * cm * 9 / 64.0 + cm * Mm * 9 / 256.0;
    double ctx = g1 * g1 * 9 + g1 * g2 * 9 / 4 + g2 * g4 * 9 / 16 + g1 * g1 * 9 + g2 * g2 * 9 / 4 + g4 * g4 * 9 / 16;
    double cenc = (3 + g1) * g2 * 9 / 4 + 2 * g2 * g4 * 9 / 16 + 2 * g4 * g8 * 9 / 64 + g8 * M * 9 / 256;
    const double cb[3][3] = { { M, g8, 1 / 256.0 }, { g8, g4, 1 / 64.0 }, { g4, g2, 1 / 16.0 } };
    double cdec = 0;
    for (int i = 0; i < 3; i++)
        cdec += cb[i][2] * (8 * cb[i][1] * cb[i][0] + 36 * cb[i][1] * cb[i][1]);
    cdec += 2 * g4 * g4 * 9 / 16 + 2 * g2 * g2 * 9 / 4 + g2 * 4 * g1 / 4 + 2 * g1 * g1 * 9 + g1 * 3 * 9;
    if (c->blend)
        cdec += g1 * 3 * 9;
    double prior = (nvc_vid_prior_macs(c->Mm, c->Czm, c->Pm) + nvc_vid_prior_macs(c->M, c->Cz, c->P)) / 256.0;
    *dec = mvdec + ctx + cdec + prior;
    *enc = *dec + mvenc + cenc;
}

/* ---- inference ---------------------------------------------------------------------------- */

static int upload_q8(NvcNn *nn, float *dst, const int64_t *q8, size_t n)
{
    float *h = malloc(n * sizeof(float));
    if (!h)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((double)q8[i] / 256.0);
    int ret = nvc_nn_upload(nn, dst, h, n);
    free(h);
    return ret;
}

int nvc_vid_infer_motion_analysis(NvcVidModel *m, NvcNn *nn, const float *flow)
{
    const NvcVidConfig *c = &m->cfg;
    NvcVidFrame *f = &m->f[0];
    const int H = m->H, W = m->W;
    int ret = nvc_nn_upload(nn, f->flow, flow, (size_t)2 * H * W);
    if (ret < 0)
        return ret;
    conv_act(nn, f->me_c[0], f->me_a[0], f->flow, &m->p.me[0], 1, 2, H, W, c->cm, 3, 2);
    conv_act(nn, f->me_c[1], f->me_a[1], f->me_a[0], &m->p.me[1], 1, c->cm, H / 2, W / 2, c->cm, 3, 2);
    nn->ops->chanmul_forward(nn, f->me_q, f->me_a[1], m->s.qme, NULL, 1, c->cm, H / 4 * (W / 4), 1);
    conv_act(nn, f->me_c[2], f->me_a[2], f->me_q, &m->p.me[2], 1, c->cm, H / 4, W / 4, c->cm, 3, 2);
    conv_fwd(nn, f->me_c[3], f->me_a[2], &m->p.me[3], 1, c->cm, H / 8, W / 8, c->Mm, 3, 2);
    nvc_vid_prior_hyper_analysis(nn, &m->mvL, &m->p.mvp, &f->mvp, f->me_c[3]);
    return nvc_nn_error(nn);
}

int nvc_vid_infer_motion_synthesis(NvcVidModel *m, NvcNn *nn, const int64_t *mq8)
{
    const NvcVidConfig *c = &m->cfg;
    NvcVidFrame *f = &m->f[0];
    const int H = m->H, W = m->W;
    int ret = upload_q8(nn, f->mvp.yhat, mq8, (size_t)c->Mm * (H / 16) * (W / 16));
    if (ret < 0)
        return ret;
    rbu_fwd(nn, &f->md[0], f->mvp.yhat, &m->p.md[0], 1, c->Mm, c->cm, H / 16, W / 16);
    rbu_fwd(nn, &f->md[1], f->md[0].out, &m->p.md[1], 1, c->cm, c->cm, H / 8, W / 8);
    rbu_fwd(nn, &f->md[2], f->md[1].out, &m->p.md[2], 1, c->cm, c->cm, H / 4, W / 4);
    nn->ops->chanmul_forward(nn, f->md_q, f->md[2].out, m->s.qmd, NULL, 1, c->cm, H / 2 * (W / 2), 1);
    conv_fwd(nn, f->md_out, f->md_q, &m->p.md_out, 1, c->cm, H / 2, W / 2, 8, 3, 1);
    nn->ops->pixel_shuffle_forward(nn, f->vhat, f->md_out, 1, 2, H / 2, W / 2, 2);
    nn->ops->conv2d_forward(nn, f->v2, f->vhat, m->pool_w, NULL, 1, 2, H, W, 2, 2, 2, 0, 2);
    nn->ops->conv2d_forward(nn, f->v4, f->v2, m->pool_w, NULL, 1, 2, H / 2, W / 2, 2, 2, 2, 0, 2);
    return nvc_nn_error(nn);
}

void nvc_vid_infer_contexts(NvcVidModel *m, NvcNn *nn, int refresh)
{
    contexts_fwd(m, nn, &m->f[0], refresh);
}

void nvc_vid_infer_residual_analysis(NvcVidModel *m, NvcNn *nn)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    NvcVidFrame *f = &m->f[0];
    const int H = m->H, W = m->W;
    op->concat_forward(nn, f->ein[0], f->x, f->ctx[0], 1, 3, c->g1, H * W);
    conv_act(nn, f->e_c[0], f->e_a[0], f->ein[0], &m->p.ce[0], 1, 3 + c->g1, H, W, c->g2, 3, 2);
    op->chanmul_forward(nn, f->e1q, f->e_a[0], m->s.qe, NULL, 1, c->g2, H / 2 * (W / 2), 1);
    op->concat_forward(nn, f->ein[1], f->e1q, f->ctx[1], 1, c->g2, c->g2, H / 2 * (W / 2));
    conv_act(nn, f->e_c[1], f->e_a[1], f->ein[1], &m->p.ce[1], 1, 2 * c->g2, H / 2, W / 2, c->g4, 3, 2);
    op->concat_forward(nn, f->ein[2], f->e_a[1], f->ctx[2], 1, c->g4, c->g4, H / 4 * (W / 4));
    conv_act(nn, f->e_c[2], f->e_a[2], f->ein[2], &m->p.ce[2], 1, 2 * c->g4, H / 4, W / 4, c->g8, 3, 2);
    conv_fwd(nn, f->e_c[3], f->e_a[2], &m->p.ce[3], 1, c->g8, H / 8, W / 8, c->M, 3, 2);
    nvc_vid_prior_hyper_analysis(nn, &m->yL, &m->p.yp, &f->yp, f->e_c[3]);
}

int nvc_vid_infer_residual_synthesis(NvcVidModel *m, NvcNn *nn, const int64_t *yq8)
{
    const NvcNnOps *op = nn->ops;
    const NvcVidConfig *c = &m->cfg;
    NvcVidFrame *f = &m->f[0];
    const NvcVidParams *p = &m->p;
    const int H = m->H, W = m->W;
    int ret = upload_q8(nn, f->yp.yhat, yq8, (size_t)c->M * (H / 16) * (W / 16));
    if (ret < 0)
        return ret;
    rbu_fwd(nn, &f->cd[0], f->yp.yhat, &p->cd[0], 1, c->M, c->g8, H / 16, W / 16);
    rbu_fwd(nn, &f->cd[1], f->cd[0].out, &p->cd[1], 1, c->g8, c->g4, H / 8, W / 8);
    op->concat_forward(nn, f->d4in, f->cd[1].out, f->ctx[2], 1, c->g4, c->g4, H / 4 * (W / 4));
    conv_act(nn, f->d4c, f->d4a, f->d4in, &p->cd_f4, 1, 2 * c->g4, H / 4, W / 4, c->g4, 3, 1);
    rbu_fwd(nn, &f->cd[2], f->d4a, &p->cd[2], 1, c->g4, c->g2, H / 4, W / 4);
    op->chanmul_forward(nn, f->d2q, f->cd[2].out, m->s.qd, NULL, 1, c->g2, H / 2 * (W / 2), 1);
    op->concat_forward(nn, f->d2in, f->d2q, f->ctx[1], 1, c->g2, c->g2, H / 2 * (W / 2));
    conv_act(nn, f->d2c, f->d2a, f->d2in, &p->cd_f2, 1, 2 * c->g2, H / 2, W / 2, c->g2, 3, 1);
    conv_fwd(nn, f->dps_c, f->d2a, &p->cd_ps, 1, c->g2, H / 2, W / 2, 4 * c->g1, 1, 1);
    op->pixel_shuffle_forward(nn, f->dps, f->dps_c, 1, c->g1, H / 2, W / 2, 2);
    op->concat_forward(nn, f->dfin, f->dps, f->ctx[0], 1, c->g1, c->g1, H * W);
    conv_act(nn, f->dfc, f->feat, f->dfin, &p->cd_feat, 1, 2 * c->g1, H, W, c->g1, 3, 1);
    output_fwd(m, nn, f, m->s.x0, 1);
    return nvc_nn_error(nn);
}

int nvc_vid_infer_next(NvcVidModel *m, NvcNn *nn)
{
    const size_t nx = (size_t)3 * m->H * m->W, nf = (size_t)m->cfg.g1 * m->H * m->W;
    float *h = malloc(nx * sizeof(float));
    int ret = h ? nvc_nn_download(nn, h, m->f[0].xhat, nx) : NVC_ERR(ENOMEM);
    for (size_t i = 0; i < nx && !ret; i++)
        h[i] = h[i] < 0 ? 0 : h[i] > 1 ? 1 : h[i];
    if (!ret)
        ret = nvc_nn_upload(nn, m->s.x0, h, nx);
    if (!ret)
        memcpy(m->host_x0, h, nx * sizeof(float));
    free(h);
    if (!ret && m->f[0].fref != m->f[0].feat)
        nn->ops->tensor_copy(nn, m->f[0].fref, m->f[0].feat, nf);
    return ret ? ret : nvc_nn_error(nn);
}
