/*
 * Integer entropy model of a video latent and its coding (nvc/video_int.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/cdf.h"
#include "entropy/coder.h"
#include "nvc/image_export.h"
#include "nvc/image_latent.h"
#include "nvc/video_int.h"

#define SYM_MAX (1 << 20) /* symbols the encoder chooses are clamped to +-this */

/* ---- calibration and quantisation ------------------------------------------------------ */

int nvc_vid_calib_update(NvcNn *nn, const NvcVidPrior *L, const NvcVidPriorActs *a, NvcVidCalib *cal)
{
    const size_t n4 = (size_t)L->B * L->P * L->h * L->w;
    int ret = nvc_img_export_calib(nn, a->hs_r, a->ctx, n4, &cal->s);
    return ret < 0 ? ret : nvc_img_export_tensor_max(nn, a->feat, n4, &cal->feat);
}

int nvc_vid_int_build(NvcVidInt *vi, const NvcVidPriorParams *p, int M, int Cz, int P, const NvcVidCalib *cal)
{
    memset(vi, 0, sizeof(*vi));
    NvcImgInt *ii = &vi->ii;
    NvcImgConv ctx[3][4];
    for (int s = 0; s < 3; s++)
        ctx[s][0] = p->ctx[s].in, ctx[s][1] = p->ctx[s].dw, ctx[s][2] = p->ctx[s].mid, ctx[s][3] = p->ctx[s].out;
    const double sf = nvc_img_export_act_scale(cal->feat);
    double *s_in = malloc(sizeof(double) * (M + P));
    int ret = s_in ? nvc_img_export_int_init(ii, M, Cz, P, 1, 2, p->z_scale) : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_img_export_int_hs(ii, p->hs, &cal->s);
    for (int j = 0; j < P + M && !ret; j++)
        s_in[j] = j < P ? nvc_img_export_act_scale(cal->s.hs[4]) : 1.0 / 16; /* h, then the previous latent in Q4 */
    if (!ret)
        ret = nvc_img_export_quant_layer(&vi->fuse, p->fuse.w, p->fuse.b, P + M, P, 1, 0, 1, s_in, sf);
    if (!ret)
        ret = nvc_img_export_int_steps(ii, &p->p0, ctx, &cal->s, sf);
    free(s_in);
    if (ret < 0)
        nvc_vid_int_free(vi);
    return ret;
}

void nvc_vid_int_free(NvcVidInt *vi)
{
    nvc_img_int_free(&vi->ii);
    nvc_int_conv_free(&vi->fuse);
    memset(vi, 0, sizeof(*vi));
}

/* ---- coding ---------------------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Q8 -> the Q4 network input: floor((v + 8) / 16), clamped. */
static int32_t q8_to_in(int64_t v)
{
    v = clamp64(v, -((int64_t)1 << 40), (int64_t)1 << 40);
    int64_t r = (v + 8) >= 0 ? (v + 8) / 16 : -((-(v + 8) + 15) / 16);
    return (int32_t)clamp64(r, -NVC_INT_IN_MAX, NVC_INT_IN_MAX);
}

static int32_t round_sym(double v)
{
    double r = floor(v + 0.5);
    return (int32_t)(r < -SYM_MAX ? -SYM_MAX : r > SYM_MAX ? SYM_MAX : r);
}

/* feat (P, h4, w4) from z_hat and the previous latent. */
static int feature(const NvcVidInt *vi, const int32_t *zs, const int64_t *ref_q8, int h4, int w4, int32_t *feat)
{
    const NvcImgInt *ii = &vi->ii;
    const size_t n = (size_t)h4 * w4;
    int32_t *in = malloc((size_t)(ii->P + ii->M) * n * sizeof(*in));
    if (!in)
        return NVC_ERR(ENOMEM);
    int ret = nvc_img_int_hyper(ii, zs, h4 / 4, w4 / 4, in);
    for (size_t i = 0; i < (size_t)ii->M * n && !ret; i++)
        in[(size_t)ii->P * n + i] = ref_q8 ? q8_to_in(ref_q8[i]) : 0;
    if (!ret)
        nvc_int_conv(&vi->fuse, in, h4, w4, feat, ii->threads);
    free(in);
    return ret;
}

/* The shared walk of encoder (y, z given) and decoder (br). */
static int walk(const NvcVidInt *vi, const NvcCondTables *ct, int q, const float *y, const float *z,
                const int64_t *ref_q8, int h4, int w4, NvcByteWriter *bw, NvcByteReader *br, double *bits_z,
                double *bits_y, int64_t *yq8)
{
    const NvcImgInt *ii = &vi->ii;
    if (q < 0 || q >= NVC_INT_QLEVELS || h4 % 4 || w4 % 4 || h4 <= 0 || w4 <= 0)
        return NVC_ERR(EINVAL);
    const size_t n6 = (size_t)(h4 / 4) * (w4 / 4), nz = (size_t)ii->Cz * n6, n = (size_t)h4 * w4;
    int32_t *zs = malloc(nz * sizeof(*zs)), *feat = malloc((size_t)ii->P * n * sizeof(*feat));
    int32_t *v = malloc(((size_t)ii->M * n + 1) * sizeof(*v));
    uint16_t *sidx = malloc(nz * sizeof(*sidx));
    int ret = zs && feat && v && sidx ? 0 : NVC_ERR(ENOMEM);
    if (!ret && z)
        for (size_t i = 0; i < nz; i++)
            zs[i] = round_sym(z[i]);
    for (size_t i = 0; i < nz && !ret; i++)
        sidx[i] = ii->zsidx[(size_t)q * ii->Cz + i / n6];
    if (!ret && bits_z)
        *bits_z = nvc_cond_cost_bits(ct, zs, sidx, NULL, nz);
    if (!ret && bw)
        ret = nvc_cond_encode(ct, zs, sidx, NULL, nz, 0, bw);
    else if (!ret && br)
        ret = nvc_cond_decode(ct, br, zs, sidx, NULL, nz);
    if (!ret)
        ret = feature(vi, zs, ref_q8, h4, w4, feat);
    memset(yq8, 0, (size_t)ii->M * n * sizeof(*yq8));
    if (bits_y)
        *bits_y = 0;
    for (int s = 0; s < 4 && !ret; s++) {
        NvcImgStepParams sp;
        if ((ret = nvc_img_int_step(ii, s, feat, yq8, h4, w4, &sp)) < 0)
            break;
        if (y)
            for (size_t j = 0; j < sp.n; j++)
                v[j] = round_sym(y[sp.pos[j]] - sp.ctr_q8[j] / 256.0);
        if (bits_y)
            *bits_y += nvc_cond_cost_bits(ct, v, sp.sidx, NULL, sp.n);
        if (bw)
            ret = nvc_cond_encode(ct, v, sp.sidx, NULL, sp.n, 0, bw);
        else if (br)
            ret = nvc_cond_decode(ct, br, v, sp.sidx, NULL, sp.n);
        for (size_t j = 0; j < sp.n && !ret; j++)
            yq8[sp.pos[j]] = (int64_t)v[j] * 256 + sp.ctr_q8[j];
        nvc_img_step_params_free(&sp);
    }
    free(zs);
    free(feat);
    free(v);
    free(sidx);
    return ret;
}

int nvc_vid_latent_encode(const NvcVidInt *vi, const NvcCondTables *ct, int q, const float *y, const float *z,
                          const int64_t *ref_q8, int h4, int w4, NvcByteWriter *bw, double *bits_z,
                          double *bits_y, int64_t *yq8)
{
    double bz = 0, by = 0;
    int64_t *tmp = yq8 ? NULL : malloc((size_t)vi->ii.M * h4 * w4 * sizeof(*tmp));
    if (!yq8 && !tmp)
        return NVC_ERR(ENOMEM);
    int ret = walk(vi, ct, q, y, z, ref_q8, h4, w4, bw, NULL, &bz, &by, yq8 ? yq8 : tmp);
    free(tmp);
    if (bits_z)
        *bits_z = bz;
    if (bits_y)
        *bits_y = by;
    return ret;
}

int nvc_vid_latent_decode(const NvcVidInt *vi, const NvcCondTables *ct, int q, NvcByteReader *br,
                          const int64_t *ref_q8, int h4, int w4, int64_t *yq8)
{
    return walk(vi, ct, q, NULL, NULL, ref_q8, h4, w4, NULL, br, NULL, NULL, yq8);
}
