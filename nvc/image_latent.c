/*
 * Latent coding with the integer prior (nvc/image_latent.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/coder.h"
#include "entropy/gmm.h"
#include "nvc/common.h"
#include "nvc/image_latent.h"

#define SYM_MAX (1 << 20) /* symbols the encoder chooses are clamped to +-this */

int nvc_img_latent_tables(const NvcImgInt *ii, NvcCondTables *ct)
{
    return nvc_cond_tables_init(ct, NVC_DENSITY_GAUSSIAN, &ii->st, 0);
}

/* Nearest integer of v (halves up), clamped: the encoder's choice only. */
static int32_t round_sym(double v)
{
    double r = floor(v + 0.5);
    return (int32_t)(r < -SYM_MAX ? -SYM_MAX : r > SYM_MAX ? SYM_MAX : r);
}

static int code_z(const NvcImgInt *ii, const NvcCondTables *ct, int q, const int32_t *zs, const NvcImgLatentDims *d,
                  NvcByteWriter *bw, NvcByteReader *br, int32_t *zout, double *bits)
{
    const size_t n6 = (size_t)d->h6 * d->w6, n = (size_t)ii->Cz * n6;
    uint16_t *sidx = malloc(n * sizeof(*sidx));
    if (!sidx)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < n; i++)
        sidx[i] = ii->zsidx[(size_t)q * ii->Cz + i / n6];
    int ret = 0;
    if (bits)
        *bits = nvc_cond_cost_bits(ct, zs, sidx, NULL, n);
    if (bw)
        ret = nvc_cond_encode(ct, zs, sidx, NULL, n, 0, bw);
    else if (br)
        ret = nvc_cond_decode(ct, br, zout, sidx, NULL, n);
    free(sidx);
    return ret;
}

static int code_step(const NvcImgInt *ii, const NvcCondTables *ct, const NvcImgStepParams *sp, const int32_t *v,
                     NvcByteWriter *bw, NvcByteReader *br, int32_t *out, double *bits)
{
    if (ii->K == 1) {
        if (bits)
            *bits += nvc_cond_cost_bits(ct, v, sp->sidx, NULL, sp->n);
        if (bw)
            return nvc_cond_encode(ct, v, sp->sidx, NULL, sp->n, 0, bw);
        return br ? nvc_cond_decode(ct, br, out, sp->sidx, NULL, sp->n) : 0;
    }
    NvcGmmParams g = { (uint32_t)ii->K, NVC_DENSITY_GAUSSIAN, &ii->st, sp->wq16, sp->mean_q8, sp->sidx };
    if (bits)
        *bits += nvc_gmm_cost_bits(&g, v, sp->n);
    if (bw)
        return nvc_gmm_encode(&g, v, sp->n, 0, bw);
    return br ? nvc_gmm_decode(&g, br, out, sp->n) : 0;
}

/* The shared walk: z, hyper-synthesis, then the four steps. Encoding
 * (y, z given) picks the symbols; decoding reads them from br. */
static int walk(const NvcImgInt *ii, const NvcCondTables *ct, int q, const float *y, const float *z,
                const NvcImgLatentDims *d, NvcByteWriter *bw, NvcByteReader *br, double *bits_z, double *bits_y,
                int64_t *yq8, int32_t *z_out)
{
    if (q < 0 || q >= NVC_INT_QLEVELS)
        return NVC_ERR(EINVAL);
    const size_t n6 = (size_t)d->h6 * d->w6, nz = (size_t)ii->Cz * n6, n = (size_t)d->h4 * d->w4;
    int32_t *zs = malloc(nz * sizeof(*zs)), *h = malloc((size_t)ii->P * n * sizeof(*h));
    int32_t *v = malloc(((size_t)ii->M * n + 1) * sizeof(*v));
    int ret = zs && h && v ? 0 : NVC_ERR(ENOMEM);
    if (!ret && z)
        for (size_t i = 0; i < nz; i++)
            zs[i] = round_sym(z[i]);
    if (!ret)
        ret = code_z(ii, ct, q, zs, d, bw, br, zs, bits_z);
    if (!ret && z_out)
        memcpy(z_out, zs, nz * sizeof(*zs));
    if (!ret)
        ret = nvc_img_int_hyper(ii, zs, d->h6, d->w6, h);
    memset(yq8, 0, (size_t)ii->M * n * sizeof(*yq8));
    if (bits_y)
        *bits_y = 0;
    for (int s = 0; s < 4 && !ret; s++) {
        NvcImgStepParams sp;
        if ((ret = nvc_img_int_step(ii, s, h, yq8, d->h4, d->w4, &sp)) < 0)
            break;
        if (y)
            for (size_t j = 0; j < sp.n; j++)
                v[j] = round_sym(y[sp.pos[j]] - sp.ctr_q8[j] / 256.0);
        ret = code_step(ii, ct, &sp, v, bw, br, v, bits_y);
        for (size_t j = 0; j < sp.n && !ret; j++)
            yq8[sp.pos[j]] = (int64_t)v[j] * 256 + sp.ctr_q8[j];
        nvc_img_step_params_free(&sp);
    }
    free(zs);
    free(h);
    free(v);
    return ret;
}

int nvc_img_latent_encode(const NvcImgInt *ii, const NvcCondTables *ct, int q, const float *y, const float *z,
                          const NvcImgLatentDims *d, NvcByteWriter *bw, double *bits_z, double *bits_y,
                          int64_t *yq8)
{
    double bz = 0, by = 0;
    int64_t *tmp = yq8 ? NULL : malloc((size_t)ii->M * d->h4 * d->w4 * sizeof(*tmp));
    if (!yq8 && !tmp)
        return NVC_ERR(ENOMEM);
    int ret = walk(ii, ct, q, y, z, d, bw, NULL, &bz, &by, yq8 ? yq8 : tmp, NULL);
    free(tmp);
    if (bits_z)
        *bits_z = bz;
    if (bits_y)
        *bits_y = by;
    return ret;
}

int nvc_img_latent_decode(const NvcImgInt *ii, const NvcCondTables *ct, int q, NvcByteReader *br,
                          const NvcImgLatentDims *d, int64_t *yq8, int32_t *z_out)
{
    return walk(ii, ct, q, NULL, NULL, d, NULL, br, NULL, NULL, yq8, z_out);
}
