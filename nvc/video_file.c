/*
 * Model file of the video P-frame model and its export (nvc/video_file.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/crc.h"
#include "codec/internal.h"
#include "entropy/coder.h"
#include "nvc/image_codec.h"
#include "nvc/image_latent.h"
#include "nvc/video_file.h"

int nvc_vid_file_keeps(const char *name)
{
    static const char *const drop[] = { "hs.", "fuse.", "prior.", "ctx.", "z_scale" };
    if (!strncmp(name, "q_", 2))
        return 0;
    const char *rest = !strncmp(name, "mv.", 3) ? name + 3 : !strncmp(name, "y.", 2) ? name + 2 : NULL;
    for (size_t i = 0; rest && i < sizeof(drop) / sizeof(drop[0]); i++)
        if (!strncmp(rest, drop[i], strlen(drop[i])))
            return 0;
    return 1;
}

void nvc_vid_file_free(NvcVidModelFile *f)
{
    nvc_img_file_free_tensors(&f->t, &f->nt);
    free(f->q_mv_enc);
    free(f->q_mv_dec);
    free(f->q_enc);
    free(f->q_dec);
    nvc_vid_int_free(&f->mv);
    nvc_vid_int_free(&f->y);
    memset(f, 0, sizeof(*f));
}

/* ---- writing ----------------------------------------------------------------------------- */

#define NCFG 11

static void cfg_fields(NvcVidConfig *c, int **v)
{
    int *f[NCFG] = { &c->g1, &c->g2, &c->g4, &c->g8, &c->M, &c->Cz, &c->P, &c->cm, &c->Mm, &c->Czm, &c->Pm };
    memcpy(v, f, sizeof(f));
}

static int write_int(const NvcVidInt *vi, NvcByteWriter *bw)
{
    int ret = nvc_img_int_write(&vi->ii, bw);
    return ret < 0 ? ret : nvc_int_conv_write(&vi->fuse, bw);
}

int nvc_vid_file_write(NvcVidModelFile *f, NvcByteWriter *bw)
{
    NvcVidConfig *c = &f->cfg;
    const size_t start = bw->sz;
    /* a model without blend keeps version 1 (the same bytes as before version 2) */
    nvc_img_file_write_head(bw, NVC_VID_FILE_MAGIC, c->blend ? 2 : 1, f->name, f->step);
    int *v[NCFG];
    cfg_fields(c, v);
    for (int i = 0; i < NCFG; i++)
        nvc_bw_u16(bw, (unsigned)*v[i]);
    if (c->blend)
        nvc_bw_u16(bw, c->blend == 2 ? 2u : 1u);
    nvc_bw_u32(bw, nvc_img_file_f32_bits(c->lambda_min));
    nvc_bw_u32(bw, nvc_img_file_f32_bits(c->lambda_max));
    nvc_img_file_write_tensors(bw, f->t, f->nt);
    nvc_img_file_write_floats(bw, f->q_mv_enc, (size_t)NVC_VID_QLEVELS * c->cm);
    nvc_img_file_write_floats(bw, f->q_mv_dec, (size_t)NVC_VID_QLEVELS * c->cm);
    nvc_img_file_write_floats(bw, f->q_enc, (size_t)NVC_VID_QLEVELS * c->g2);
    nvc_img_file_write_floats(bw, f->q_dec, (size_t)NVC_VID_QLEVELS * c->g2);
    int ret = write_int(&f->mv, bw);
    if (!ret)
        ret = write_int(&f->y, bw);
    return ret < 0 ? ret : nvc_img_file_seal(bw, start, &f->crc);
}

/* ---- parsing ----------------------------------------------------------------------------- */

static int read_floats(NvcByteReader *br, float **out, size_t n)
{
    if (nvc_br_left(br) < n * 4)
        return NVC_ERR_CORRUPT;
    if (!(*out = malloc(n * sizeof(float))))
        return NVC_ERR(ENOMEM);
    for (size_t j = 0; j < n; j++) {
        (*out)[j] = nvc_img_file_bits_f32(nvc_br_u32(br));
        if (!((*out)[j] > 0 && (*out)[j] < 1e6f)) /* scalers are positive */
            return NVC_ERR_CORRUPT;
    }
    return 0;
}

static int read_int(NvcVidInt *vi, int M, int Cz, int P, NvcByteReader *br)
{
    int ret = nvc_img_int_read(&vi->ii, M, Cz, P, 1, br);
    if (!ret)
        ret = nvc_int_conv_read(&vi->fuse, br);
    const NvcIntConv *c = &vi->fuse;
    if (!ret && (c->ci != P + M || c->co != P || c->k != 1 || c->dw || !c->relu || nvc_int_conv_check(c) < 0))
        ret = NVC_ERR_CORRUPT;
    return ret;
}

static int parse_body(void *fp, NvcByteReader *br, const NvcLogger *lg)
{
    NvcVidModelFile *f = fp;
    unsigned version = 0;
    int ret = nvc_img_file_read_head_v(br, NVC_VID_FILE_MAGIC, NVC_VID_FILE_VERSION, "video model", f->name,
                                       &f->step, &version, lg);
    if (ret < 0)
        return ret;
    NvcVidConfig *c = &f->cfg;
    int *v[NCFG];
    cfg_fields(c, v);
    for (int i = 0; i < NCFG; i++)
        *v[i] = nvc_br_u16(br);
    c->blend = 0;
    if (version >= 2) {
        const unsigned flags = nvc_br_u16(br);
        if (flags > 2) /* unknown bits, or both kinds of blend */
            return NVC_ERR_CORRUPT;
        c->blend = (int)flags;
    }
    c->lambda_min = nvc_img_file_bits_f32(nvc_br_u32(br));
    c->lambda_max = nvc_img_file_bits_f32(nvc_br_u32(br));
    if (br->error || nvc_vid_config_check(c, lg) < 0)
        return NVC_ERR_CORRUPT;
    ret = nvc_img_file_read_tensors(br, &f->t, &f->nt);
    if (!ret)
        ret = read_floats(br, &f->q_mv_enc, (size_t)NVC_VID_QLEVELS * c->cm);
    if (!ret)
        ret = read_floats(br, &f->q_mv_dec, (size_t)NVC_VID_QLEVELS * c->cm);
    if (!ret)
        ret = read_floats(br, &f->q_enc, (size_t)NVC_VID_QLEVELS * c->g2);
    if (!ret)
        ret = read_floats(br, &f->q_dec, (size_t)NVC_VID_QLEVELS * c->g2);
    if (!ret)
        ret = read_int(&f->mv, c->Mm, c->Czm, c->Pm, br);
    if (!ret)
        ret = read_int(&f->y, c->M, c->Cz, c->P, br);
    if (!ret && (br->error || nvc_br_left(br)))
        ret = NVC_ERR_CORRUPT;
    return ret;
}

_Static_assert(NVC_VID_NAME_MAX == NVC_IMG_NAME_MAX, "the name field is read by nvc_img_file_read_head");

static void free_file(void *f)
{
    nvc_vid_file_free(f);
}

int nvc_vid_file_parse(NvcVidModelFile *f, const uint8_t *buf, size_t sz, const NvcLogger *lg)
{
    memset(f, 0, sizeof(*f));
    return nvc_img_file_parse_sealed(buf, sz, "video model", f, parse_body, free_file, &f->crc, lg);
}

static int parse_file(void *f, const uint8_t *buf, size_t sz, const NvcLogger *lg)
{
    return nvc_vid_file_parse(f, buf, sz, lg);
}

int nvc_vid_file_load(NvcVidModelFile *f, const char *path, const char *what, const NvcLogger *lg)
{
    return nvc_image_load_model_file(path, what, f, parse_file, lg);
}

/* ---- export ------------------------------------------------------------------------------ */

static int keeps(const void *ctx, const char *name)
{
    (void)ctx;
    return nvc_vid_file_keeps(name);
}

/* Float tensors the codec needs and the per-quality scaler tables. */
static int fill_file(NvcVidModelFile *f, const NvcVidModel *m, const float *host)
{
    const NvcVidConfig *c = &m->cfg;
    const NvcArena *a = &m->params;
    int ret = nvc_img_file_take_tensors(&f->t, &f->nt, a, host, keeps, NULL);
    const char *names[4] = { "q_mv_enc", "q_mv_dec", "q_enc", "q_dec" };
    float **dst[4] = { &f->q_mv_enc, &f->q_mv_dec, &f->q_enc, &f->q_dec };
    const int C[4] = { c->cm, c->cm, c->g2, c->g2 };
    for (int k = 0; k < 4 && !ret; k++)
        ret = nvc_img_file_quality_table(dst[k], host + a->t[nvc_arena_find(a, names[k])].offset, C[k]);
    return ret;
}

/* Ideal bits of one batch's latents (every frame, every chain) under the
 * integer priors, the previous frame's decoded latents as references. */
static int int_bits(NvcVidModelFile *f, NvcVidModel *m, NvcNn *nn, double *bits)
{
    const NvcVidConfig *c = &m->cfg;
    const int h4 = m->H / 16, w4 = m->W / 16, B = m->B;
    const size_t n4 = (size_t)h4 * w4, n6 = n4 / 16;
    const size_t nmy = (size_t)c->Mm * n4, nmz = (size_t)c->Czm * n6, ny = (size_t)c->M * n4, nz = (size_t)c->Cz * n6;
    float *hy = malloc(sizeof(float) * B * (nmy + nmz + ny + nz));
    int64_t *ref = malloc(sizeof(int64_t) * B * (nmy + ny)), *dec = malloc(sizeof(int64_t) * (nmy + ny));
    NvcCondTables ct;
    int ret = hy && ref && dec ? nvc_img_latent_tables(&f->y.ii, &ct) : NVC_ERR(ENOMEM);
    int have_ct = !ret;
    for (int t = 0; t < m->T && !ret; t++) {
        const NvcVidFrame *fr = &m->f[t];
        float *my = hy, *mz = my + B * nmy, *yy = mz + B * nmz, *yz = yy + B * ny;
        if ((ret = nvc_nn_download(nn, my, fr->me_c[3], B * nmy)) < 0 ||
            (ret = nvc_nn_download(nn, mz, fr->mvp.ha_c[2], B * nmz)) < 0 ||
            (ret = nvc_nn_download(nn, yy, fr->e_c[3], B * ny)) < 0 ||
            (ret = nvc_nn_download(nn, yz, fr->yp.ha_c[2], B * nz)) < 0)
            break;
        const int refresh = t == 0 || m->refresh[t];
        for (int b = 0; b < B && !ret; b++) {
            double bz, by, cz, cy;
            int64_t *rm = ref + (size_t)b * (nmy + ny), *ry = rm + nmy;
            ret = nvc_vid_latent_encode(&f->mv, &ct, m->q[b], my + b * nmy, mz + b * nmz, refresh ? NULL : rm, h4, w4,
                                        NULL, &bz, &by, dec);
            if (!ret)
                ret = nvc_vid_latent_encode(&f->y, &ct, m->q[b], yy + b * ny, yz + b * nz, refresh ? NULL : ry, h4,
                                            w4, NULL, &cz, &cy, dec + nmy);
            *bits += bz + by + cz + cy;
            memcpy(rm, dec, sizeof(int64_t) * (nmy + ny));
        }
    }
    if (have_ct)
        nvc_cond_tables_free(&ct);
    free(hy);
    free(ref);
    free(dec);
    return ret;
}

/* The calibration batches: fixed chains, qualities spread over 0..63. */
static int calib_pass(NvcVidModel *m, NvcNn *nn, const NvcVidClipSet *set, int k, float *x, NvcVidStats *st)
{
    const size_t nx = (size_t)m->B * 3 * m->H * m->W;
    uint64_t rng = 0x5eed0000ull + (uint64_t)k;
    int q[64];
    for (int b = 0; b < m->B; b++)
        q[b] = (int)(((int64_t)(k * m->B + b) * 37) % NVC_VID_QLEVELS);
    int ret = nvc_vid_clips_chains(set, x, m->B, m->T + 1, m->H, &rng);
    if (!ret)
        ret = nvc_vid_set_chain(m, nn, x, x + nx);
    if (!ret)
        ret = nvc_vid_set_quality(m, nn, q);
    return ret < 0 ? ret : nvc_vid_eval(m, nn, st);
}

static int write_file(void *f, NvcByteWriter *bw)
{
    return nvc_vid_file_write(f, bw);
}

int nvc_vid_export(NvcVidModel *m, NvcNn *nn, const NvcVidClipSet *set, int batches, const char *name,
                   uint64_t step, const char *path, NvcVidExportStats *st, const NvcLogger *logger)
{
    memset(st, 0, sizeof(*st));
    NvcVidModelFile f = { .cfg = m->cfg, .step = step };
    snprintf(f.name, sizeof(f.name), "%s", name);
    const size_t nx = (size_t)m->B * 3 * m->H * m->W;
    float *host = malloc(m->params.size * sizeof(float)), *x = malloc(nx * (m->T + 1) * sizeof(float));
    int ret = host && x ? nvc_nn_download(nn, host, m->pbuf, m->params.size) : NVC_ERR(ENOMEM);
    NvcVidCalib cm, cy;
    memset(&cm, 0, sizeof(cm));
    memset(&cy, 0, sizeof(cy));
    double fbits = 0, ibits = 0;
    for (int k = 0; k < batches && !ret; k++) {
        NvcVidStats s;
        ret = calib_pass(m, nn, set, k, x, &s);
        for (int t = 0; t < m->T && !ret; t++) {
            ret = nvc_vid_calib_update(nn, &m->mvL, &m->f[t].mvp, &cm);
            if (!ret)
                ret = nvc_vid_calib_update(nn, &m->yL, &m->f[t].yp, &cy);
        }
        fbits += s.bpp * m->T * m->B * m->H * m->W;
    }
    if (!ret) {
        NvcVidParams p;
        NvcArena a = m->params;
        nvc_arena_bind(&a, host);
        nvc_vid_params(&a, &p, &m->cfg);
        ret = nvc_vid_int_build(&f.mv, &p.mvp, m->cfg.Mm, m->cfg.Czm, m->cfg.Pm, &cm);
        if (!ret)
            ret = nvc_vid_int_build(&f.y, &p.yp, m->cfg.M, m->cfg.Cz, m->cfg.P, &cy);
    }
    /* the rate of the same batches under the integer priors */
    for (int k = 0; k < batches && !ret; k++) {
        NvcVidStats s;
        ret = calib_pass(m, nn, set, k, x, &s);
        if (!ret)
            ret = int_bits(&f, m, nn, &ibits);
    }
    if (!ret)
        ret = fill_file(&f, m, host);
    ret = nvc_img_file_export(ret, path, "video model", &f, write_file, &st->bytes, logger);
    const double px = (double)batches * m->T * m->B * m->H * m->W;
    if (!ret)
        st->crc = f.crc, st->bpp_float = fbits / px, st->bpp_int = ibits / px;
    nvc_vid_file_free(&f);
    free(host);
    free(x);
    return ret;
}

/* ---- a training model from a model file ---------------------------------------------- */

/* Rows 0 and 63 of a per-quality table (64, C) are the limits (2, C) the
 * tables were interpolated from (geometrically: the rows between follow). */
static void limits_from_table(float *lim, const float *table, int C)
{
    memcpy(lim, table, sizeof(float) * C);
    memcpy(lim + C, table + (size_t)(NVC_VID_QLEVELS - 1) * C, sizeof(float) * C);
}

static void zscale_from_int(float *z_scale, const NvcImgInt *ii)
{
    for (size_t i = 0; i < (size_t)NVC_VID_QLEVELS * ii->Cz; i++)
        z_scale[i] = (float)(ii->zscale_q16[i] / 65536.0);
}

/* A float layer computing what the integer layer c computes, without its
 * rounding and clamps: the integer layer maps inputs x_int = u_in x to
 * outputs (b + sum w x_int) mul / 2^shift = u_out y, so w u_in mul / (2^shift
 * u_out) and b mul / (2^shift u_out) are its float weights and bias. Units:
 * input channels [i0, i1) u0 (a Q4 latent 16, z_hat 1), the others and every
 * output 4096 (ReLU activations in [0, 1] for 0..4095, the Q12 outputs
 * themselves). */
static int dequant_layer(const NvcImgConv *dst, const NvcIntConv *c, int ci, int co, int k, int i0, int i1,
                         double u0)
{
    if (c->ci != ci || c->co != co || c->k != k)
        return NVC_ERR(EINVAL);
    const int cig = c->dw ? 1 : ci, k2 = k * k;
    const double u = 4096.0;
    for (int o = 0; o < co; o++) {
        const double mo = ldexp((double)c->mul[o], -(int)c->shift[o]);
        for (int i = 0; i < cig; i++) {
            const double ui = !c->dw && i >= i0 && i < i1 ? u0 : u;
            for (int t = 0; t < k2; t++) {
                const size_t j = ((size_t)o * cig + i) * k2 + t;
                dst->w[j] = (float)(c->w[j] * mo * ui / u);
            }
        }
        dst->b[o] = (float)(c->b[o] * mo / u);
    }
    return 0;
}

/* The prior networks of one latent from the file's integer layers. */
static int dequant_prior(NvcVidPriorParams *p, const NvcVidInt *vi, int M, int Cz, int P)
{
    const NvcImgInt *ii = &vi->ii;
    const int hs_ci[5] = { Cz, P, P, P, P }, hs_co[5] = { P, 4 * P, P, 4 * P, P }, hs_k[5] = { 3, 1, 3, 1, 1 };
    int ret = 0;
    for (int i = 0; i < 5 && !ret; i++)
        ret = dequant_layer(&p->hs[i], &ii->hs[i], hs_ci[i], hs_co[i], hs_k[i], 0, i ? 0 : Cz, 1.0); /* z_hat */
    if (!ret) /* [h, the previous latent in Q4] */
        ret = dequant_layer(&p->fuse, &vi->fuse, P + M, P, 1, P, P + M, 16.0);
    if (!ret)
        ret = dequant_layer(&p->p0, &ii->p0, P, 2 * M, 1, 0, 0, 1.0);
    for (int s = 0; s < 3 && !ret; s++) {
        const NvcIntConv *L = ii->ctx[s];
        if ((ret = dequant_layer(&p->ctx[s].in, &L[0], M + P, P, 1, 0, M, 16.0)) < 0 || /* [y_hat so far Q4, feat] */
            (ret = dequant_layer(&p->ctx[s].dw, &L[1], P, P, 3, 0, 0, 1.0)) < 0 ||
            (ret = dequant_layer(&p->ctx[s].mid, &L[2], P, P, 1, 0, 0, 1.0)) < 0)
            break;
        ret = dequant_layer(&p->ctx[s].out, &L[3], P, 2 * M, 1, 0, 0, 1.0);
    }
    return ret;
}

int nvc_vid_init_from_file(NvcVidModel *m, NvcNn *nn, const NvcVidModelFile *f)
{
    const NvcVidConfig *a = &m->cfg, *b = &f->cfg;
    NvcVidConfig ca = *a, cb = *b;
    int *va[NCFG], *vb[NCFG];
    cfg_fields(&ca, va);
    cfg_fields(&cb, vb);
    for (int i = 0; i < NCFG; i++)
        if (*va[i] != *vb[i])
            return NVC_ERR(EINVAL);
    if (b->blend && a->blend != b->blend)
        return NVC_ERR(EINVAL);
    int ret = nvc_image_load_tensors(nn, f->t, f->nt, &m->params, m->pbuf);
    float *host = ret ? NULL : malloc(m->params.size * sizeof(float));
    if (!ret && !host)
        ret = NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_nn_download(nn, host, m->pbuf, m->params.size);
    if (!ret) {
        NvcVidParams p;
        NvcArena ar = m->params;
        nvc_arena_bind(&ar, host);
        nvc_vid_params(&ar, &p, a);
        limits_from_table(p.q_mv_enc, f->q_mv_enc, a->cm);
        limits_from_table(p.q_mv_dec, f->q_mv_dec, a->cm);
        limits_from_table(p.q_enc, f->q_enc, a->g2);
        limits_from_table(p.q_dec, f->q_dec, a->g2);
        zscale_from_int(p.mvp.z_scale, &f->mv.ii);
        zscale_from_int(p.yp.z_scale, &f->y.ii);
        ret = dequant_prior(&p.mvp, &f->mv, a->Mm, a->Czm, a->Pm);
        if (!ret)
            ret = dequant_prior(&p.yp, &f->y, a->M, a->Cz, a->P);
        if (a->blend && !b->blend) { /* a mask that starts (nearly) closed: the file's pictures, nearly */
            memset(p.cd_mask.w, 0, sizeof(float) * 3 * a->g1 * 9);
            for (int j = 0; j < 3; j++)
                p.cd_mask.b[j] = a->blend == 2 ? NVC_VID_GATE_INIT : -8.0f;
        }
        if (!ret)
            ret = nvc_nn_upload(nn, m->pbuf, host, m->params.size);
    }
    free(host);
    return ret;
}
