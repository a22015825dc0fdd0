/*
 * Export of a trained image model (nvc/image_export.h): the float prior
 * networks become integer networks. Activation scales come from the
 * largest post-ReLU values seen on calibration crops (12-bit activations,
 * clamped at 4095); weights are quantised per output channel to the most
 * bits that keep every tap's sum inside int32 (nvc_int_conv_check);
 * requantisation multipliers have 27 bits.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/cdf.h"
#include "nvc/image_export.h"
#include "nvc/image_file.h"
#include "nvc/image_latent.h"
#include "nvc/image_vq.h"

/* One float conv (w (co, ci/g, k, k), b (co)) as an integer layer whose
 * inputs are x_int = x / s_in[channel] and outputs y_int = y / s_out. */
static int quant_layer(NvcIntConv *c, const float *w, const float *b, int ci, int co, int k, int dw, int relu,
                       const double *s_in, double s_out)
{
    int ret = nvc_int_conv_alloc(c, ci, co, k, dw, relu);
    if (ret < 0)
        return ret;
    const int cig = dw ? 1 : ci, k2 = k * k;
    const double wlim = fmin(32767.0, floor((double)INT32_MAX / (NVC_INT_ACT_MAX * (double)cig)));
    for (int o = 0; o < co; o++) {
        double amax = 0;
        for (int i = 0; i < cig; i++)
            for (int t = 0; t < k2; t++)
                amax = fmax(amax, fabs(w[((size_t)o * cig + i) * k2 + t] * s_in[dw ? o : i]));
        const double sw = amax > 0 ? amax / wlim : 1.0;
        for (int i = 0; i < cig; i++)
            for (int t = 0; t < k2; t++) {
                size_t j = ((size_t)o * cig + i) * k2 + t;
                double v = nearbyint(w[j] * s_in[dw ? o : i] / sw);
                c->w[j] = (int16_t)fmax(-wlim, fmin(wlim, v));
            }
        c->b[o] = (int32_t)fmax(-2147483647.0, fmin(2147483647.0, nearbyint(b[o] / sw)));
        int e;
        double mant = frexp(sw / s_out, &e); /* sw / s_out = mant 2^e, mant in [0.5, 1) */
        int64_t mul = (int64_t)nearbyint(ldexp(mant, 27));
        if (mul >= NVC_INT_MUL_MAX)
            mul >>= 1, e++;
        int shift = 27 - e;
        if (shift > NVC_INT_SHIFT_MAX) {
            mul = (int64_t)nearbyint(ldexp(sw / s_out, NVC_INT_SHIFT_MAX));
            shift = NVC_INT_SHIFT_MAX;
        }
        if (shift < 0)
            return NVC_ERR(ERANGE);
        c->mul[o] = (int32_t)mul;
        c->shift[o] = (uint8_t)shift;
    }
    return nvc_int_conv_check(c) < 0 ? NVC_ERR(ERANGE) : 0;
}

int nvc_img_export_tensor_max(NvcNn *nn, const float *dev, size_t n, double *mx)
{
    float *h = malloc(n * sizeof(float));
    if (!h)
        return NVC_ERR(ENOMEM);
    int ret = nvc_nn_download(nn, h, dev, n);
    for (size_t i = 0; i < n && !ret; i++)
        if (h[i] > *mx)
            *mx = h[i];
    free(h);
    return ret;
}

int nvc_img_export_calib(NvcNn *nn, float *const *hs_r, const NvcImgCtx *ctx, size_t n4, NvcIntCalib *cal)
{
    const size_t sz[5] = { n4 / 16, n4 / 4, n4 / 4, n4, n4 };
    int ret = 0;
    for (int i = 0; i < 5 && !ret; i++)
        ret = nvc_img_export_tensor_max(nn, hs_r[i], sz[i], &cal->hs[i]);
    for (int i = 0; i < 3 && !ret; i++) {
        ret = nvc_img_export_tensor_max(nn, ctx[i].r1, n4, &cal->ctx[i][0]);
        if (!ret)
            ret = nvc_img_export_tensor_max(nn, ctx[i].r2, n4, &cal->ctx[i][1]);
        if (!ret)
            ret = nvc_img_export_tensor_max(nn, ctx[i].r3, n4, &cal->ctx[i][2]);
    }
    return ret;
}

double nvc_img_export_act_scale(double mx)
{
    return (mx > 1e-6 ? mx : 1e-6) / NVC_INT_ACT_MAX;
}

int nvc_img_export_int_init(NvcImgInt *ii, int M, int Cz, int P, int K, int G, const float *z_scale)
{
    memset(ii, 0, sizeof(*ii));
    ii->M = M, ii->Cz = Cz, ii->P = P, ii->K = K, ii->G = G, ii->E = G * M;
    ii->st_lmin = NVC_SCALE_LOG2_MIN_DEFAULT, ii->st_lmax = NVC_SCALE_LOG2_MAX_DEFAULT;
    int ret = nvc_scale_table_init(&ii->st, NVC_SCALE_TABLE_MAX, ii->st_lmin, ii->st_lmax);
    const size_t nz = (size_t)NVC_INT_QLEVELS * Cz;
    ii->zscale_q16 = malloc(nz * sizeof(*ii->zscale_q16));
    ii->zsidx = malloc(nz * sizeof(*ii->zsidx));
    if (!ii->zscale_q16 || !ii->zsidx)
        ret = NVC_ERR(ENOMEM);
    for (size_t i = 0; i < nz && !ret; i++) {
        /* the rate op floors scales at 0.11 */
        ii->zscale_q16[i] = nvc_dist_scale_from_float(fmaxf(z_scale[i], 0.11f));
        ii->zsidx[i] = (uint16_t)nvc_scale_table_index(&ii->st, ii->zscale_q16[i]);
    }
    return ret;
}

int nvc_img_export_int_hs(NvcImgInt *ii, const NvcImgConv *hs, const NvcIntCalib *cal)
{
    const int P = ii->P, Cz = ii->Cz;
    double *s_in = malloc(sizeof(double) * (P > Cz ? P : Cz));
    int ret = s_in ? 0 : NVC_ERR(ENOMEM);
    static const int ks[5] = { 3, 1, 3, 1, 1 };
    for (int i = 0; i < 5 && !ret; i++) {
        const int ci = i ? P : Cz, co = (i == 1 || i == 3) ? 4 * P : P;
        for (int j = 0; j < ci; j++)
            s_in[j] = i ? nvc_img_export_act_scale(cal->hs[i - 1]) : 1.0;
        ret = quant_layer(&ii->hs[i], hs[i].w, hs[i].b, ci, co, ks[i], 0, 1, s_in,
                          nvc_img_export_act_scale(cal->hs[i]));
    }
    free(s_in);
    return ret;
}

int nvc_img_export_int_steps(NvcImgInt *ii, const NvcImgConv *p0, const NvcImgConv (*ctx)[4], const NvcIntCalib *cal,
                             double s_feat)
{
    const int M = ii->M, P = ii->P;
    const double s_out = ldexp(1.0, -NVC_INT_OUT_FRAC);
    double *s_in = malloc(sizeof(double) * (M + P));
    int ret = s_in ? 0 : NVC_ERR(ENOMEM);
    for (int j = 0; j < P && !ret; j++)
        s_in[j] = s_feat;
    if (!ret)
        ret = quant_layer(&ii->p0, p0->w, p0->b, P, ii->E, 1, 0, 0, s_in, s_out);
    /* each context network: in (1x1, ReLU), dw (3x3 depthwise, ReLU), mid
     * (1x1, ReLU), out (1x1, the E distribution parameters) */
    static const int ks[4] = { 1, 3, 1, 1 }, dws[4] = { 0, 1, 0, 0 };
    for (int s = 0; s < 3 && !ret; s++) {
        double sc[4];
        for (int l = 0; l < 3; l++)
            sc[l] = nvc_img_export_act_scale(cal->ctx[s][l]);
        sc[3] = s_out;
        for (int l = 0; l < 4 && !ret; l++) {
            for (int j = 0; j < (l ? P : M + P); j++)
                s_in[j] = l ? sc[l - 1] : j < M ? 1.0 / 16 : s_feat; /* first y_hat so far in Q4, then the feature */
            ret = quant_layer(&ii->ctx[s][l], ctx[s][l].w, ctx[s][l].b, l ? P : M + P, l == 3 ? ii->E : P, ks[l],
                              dws[l], l < 3, s_in, sc[l]);
        }
    }
    free(s_in);
    return ret;
}

static int build_int(const NvcImgModel *m, const float *host, const NvcIntCalib *cal, NvcImgInt *ii)
{
    const NvcImgConfig *c = &m->cfg;
    NvcImgParams p;
    NvcArena a = m->params;
    nvc_arena_bind(&a, (float *)host);
    nvc_img_params(&a, &p, c);
    NvcImgConv ctx[3][4];
    for (int s = 0; s < 3; s++)
        ctx[s][0] = p.ctx[s].in, ctx[s][1] = p.ctx[s].dw, ctx[s][2] = p.ctx[s].mid, ctx[s][3] = p.ctx[s].out;
    int ret = nvc_img_export_int_init(ii, c->M, c->Cz, c->P, c->K, nvc_img_param_groups(c), p.z_scale);
    if (!ret)
        ret = nvc_img_export_int_hs(ii, p.hs, cal);
    if (!ret)
        ret = nvc_img_export_int_steps(ii, &p.p0, ctx, cal, nvc_img_export_act_scale(cal->hs[4]));
    return ret;
}

static int keeps(const void *cfg, const char *name)
{
    return nvc_img_file_keeps(cfg, name);
}

/* Float tensors the codec needs and the per-quality scaler tables. */
static int fill_file(NvcImgModelFile *f, const NvcImgModel *m, const float *host)
{
    const NvcArena *a = &m->params;
    int ret = nvc_img_file_take_tensors(&f->t, &f->nt, a, host, keeps, &m->cfg);
    if (!ret)
        ret = nvc_img_file_quality_table(&f->q_enc, host + a->t[nvc_arena_find(a, "q_enc")].offset, m->cfg.c1);
    if (!ret)
        ret = nvc_img_file_quality_table(&f->q_dec, host + a->t[nvc_arena_find(a, "q_dec")].offset, m->cfg.c1);
    return ret;
}

/* VQ: the PMF of every codebook at every quality from the codewords the
 * encoder picks on the calibration crops at that quality (counts + 1/2). */
static int fill_vq(NvcImgModelFile *f, NvcImgModel *m, NvcNn *nn, const NvcTrainSet *set, int batches,
                   const float *host, NvcImgExportStats *st)
{
    const NvcImgConfig *c = &m->cfg;
    const int k = c->vq_k, B = m->B, S = m->H, n = (S / 16) * (S / 16);
    const size_t nb = (size_t)c->vq_levels * c->vq_groups, ny = (size_t)c->M * n, nx = (size_t)B * 3 * S * S;
    const float *cb = host + m->params.t[nvc_arena_find(&m->params, "vq.codebook")].offset;
    uint64_t *cnt = malloc(sizeof(uint64_t) * nb * k);
    uint32_t *fr = malloc(sizeof(uint32_t) * k);
    uint16_t *idx = malloc(sizeof(uint16_t) * nb * n);
    float *x = malloc(nx * sizeof(float)), *y = malloc((size_t)B * ny * sizeof(float));
    f->vq_freq = malloc(sizeof(uint16_t) * NVC_IMG_QLEVELS * nb * k);
    int ret = cnt && fr && idx && x && y && f->vq_freq ? 0 : NVC_ERR(ENOMEM);
    double bits = 0;
    for (int q = 0; q < NVC_IMG_QLEVELS && !ret; q++) {
        for (size_t i = 0; i < nb * k; i++)
            cnt[i] = 1; /* +1/2 in units of 1/2 */
        int qs[64];
        for (int b = 0; b < B; b++)
            qs[b] = q;
        for (int t = 0; t < batches && !ret; t++) {
            nvc_train_set_fixed_crops(set, x, B, S, t * B);
            if ((ret = nvc_nn_upload(nn, m->a.x, x, nx)) < 0 || (ret = nvc_img_set_quality(m, nn, qs)) < 0)
                break;
            nvc_img_analysis(m, nn);
            if ((ret = nvc_nn_download(nn, y, m->a.y, (size_t)B * ny)) < 0)
                break;
            for (int b = 0; b < B; b++) {
                nvc_img_vq_quantize(c, cb, y + (size_t)b * ny, n, idx, NULL);
                for (size_t j = 0; j < nb; j++)
                    for (int p = 0; p < n; p++)
                        cnt[j * k + idx[j * n + p]] += 2;
            }
        }
        for (size_t j = 0; j < nb && !ret; j++) {
            ret = nvc_cdf_quantize(cnt + j * k, (uint32_t)k, fr);
            for (int i = 0; i < k && !ret; i++) {
                f->vq_freq[((size_t)q * nb + j) * k + i] = (uint16_t)fr[i];
                bits += (double)(cnt[j * k + i] - 1) / 2 * (16 - log2(fr[i]));
            }
        }
    }
    st->bpp_int = st->bpp_float = bits / ((double)NVC_IMG_QLEVELS * batches * B * S * S);
    free(cnt);
    free(fr);
    free(idx);
    free(x);
    free(y);
    return ret;
}

/* Ideal bits of the calibration latents under the integer prior. */
static int int_bits(const NvcImgInt *ii, const float *y, const float *z, const int *q, int nimg,
                    const NvcImgLatentDims *d, double *bits)
{
    NvcCondTables ct;
    int ret = nvc_img_latent_tables(ii, &ct);
    const size_t ny = (size_t)ii->M * d->h4 * d->w4, nz = (size_t)ii->Cz * d->h6 * d->w6;
    *bits = 0;
    for (int i = 0; i < nimg && !ret; i++) {
        double bz, by;
        ret = nvc_img_latent_encode(ii, &ct, q[i], y + i * ny, z + i * nz, d, NULL, &bz, &by, NULL);
        *bits += bz + by;
    }
    nvc_cond_tables_free(&ct);
    return ret;
}

static int calibrate_gmm(NvcImgModel *m, NvcNn *nn, const NvcTrainSet *set, int batches, const float *host,
                         NvcImgModelFile *f, NvcImgExportStats *st)
{
    const int B = m->B, S = m->H;
    const NvcImgLatentDims d = { S / 16, S / 16, S / 64, S / 64 };
    const size_t ny = (size_t)m->cfg.M * d.h4 * d.w4, nz = (size_t)m->cfg.Cz * d.h6 * d.w6;
    const size_t nx = (size_t)B * 3 * S * S;
    float *x = malloc(nx * sizeof(float)), *y = malloc((size_t)batches * B * ny * sizeof(float));
    float *z = malloc((size_t)batches * B * nz * sizeof(float));
    int *qs = malloc(sizeof(int) * batches * B);
    NvcIntCalib cal;
    memset(&cal, 0, sizeof(cal));
    int ret = x && y && z && qs ? 0 : NVC_ERR(ENOMEM);
    double fbits = 0;
    for (int k = 0; k < batches && !ret; k++) {
        int *q = qs + k * B;
        for (int b = 0; b < B; b++)
            q[b] = (int)(((int64_t)(k * B + b) * 37) % NVC_IMG_QLEVELS);
        nvc_train_set_fixed_crops(set, x, B, S, k * B);
        NvcImgStats s;
        if ((ret = nvc_nn_upload(nn, m->a.x, x, nx)) < 0 || (ret = nvc_img_set_quality(m, nn, q)) < 0 ||
            (ret = nvc_img_eval(m, nn, &s)) < 0 ||
            (ret = nvc_img_export_calib(nn, m->a.hs_r, m->a.ctx, (size_t)B * m->cfg.P * (m->H / 16) * (m->W / 16),
                                         &cal)) < 0)
            break;
        fbits += s.bpp * B * S * S;
        ret = nvc_nn_download(nn, y + (size_t)k * B * ny, m->a.y, B * ny);
        if (!ret)
            ret = nvc_nn_download(nn, z + (size_t)k * B * nz, m->a.ha_c[2], B * nz);
    }
    if (!ret)
        ret = build_int(m, host, &cal, &f->ii);
    double ibits = 0;
    if (!ret)
        ret = int_bits(&f->ii, y, z, qs, batches * B, &d, &ibits);
    st->bpp_float = fbits / ((double)batches * B * S * S);
    st->bpp_int = ibits / ((double)batches * B * S * S);
    free(x);
    free(y);
    free(z);
    free(qs);
    return ret;
}

static int write_file(void *f, NvcByteWriter *bw)
{
    return nvc_img_file_write(f, bw);
}

int nvc_img_export(NvcImgModel *m, NvcNn *nn, const NvcTrainSet *set, int batches, const char *name,
                   uint64_t step, const char *path, NvcImgExportStats *st, const NvcLogger *logger)
{
    memset(st, 0, sizeof(*st));
    NvcImgModelFile f = { .cfg = m->cfg, .step = step };
    snprintf(f.name, sizeof(f.name), "%s", name);
    float *host = malloc(m->params.size * sizeof(float));
    int ret = host ? nvc_nn_download(nn, host, m->pbuf, m->params.size) : NVC_ERR(ENOMEM);
    if (!ret)
        ret = fill_file(&f, m, host);
    if (!ret && m->cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = calibrate_gmm(m, nn, set, batches, host, &f, st);
    else if (!ret)
        ret = fill_vq(&f, m, nn, set, batches / 4 > 0 ? batches / 4 : 1, host, st);
    ret = nvc_img_file_export(ret, path, "image model", &f, write_file, &st->bytes, logger);
    st->crc = ret ? 0 : f.crc;
    nvc_img_file_free(&f);
    free(host);
    return ret;
}

int nvc_img_export_quant_layer(NvcIntConv *c, const float *w, const float *b, int ci, int co, int k, int dw, int relu,
                               const double *s_in, double s_out)
{
    return quant_layer(c, w, b, ci, co, k, dw, relu, s_in, s_out);
}
