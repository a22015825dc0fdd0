/*
 * Model file of the learned image codec (nvc/image_file.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/crc.h"
#include "codec/internal.h"
#include "nvc/image_file.h"

uint32_t nvc_img_file_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float nvc_img_file_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void nvc_img_file_write_floats(NvcByteWriter *bw, const float *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        nvc_bw_u32(bw, nvc_img_file_f32_bits(v[j]));
}

int nvc_img_file_keeps(const NvcImgConfig *c, const char *name)
{
    static const char *const drop[] = { "hs.", "prior.", "ctx.", "z_scale", "vq.logits", "q_enc", "q_dec" };
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (!strncmp(name, drop[i], strlen(drop[i])))
            return 0;
    return 1;
}

void nvc_img_file_free_tensors(NvcImgTensor **t, int *nt)
{
    for (int i = 0; i < *nt; i++)
        free((*t)[i].data);
    free(*t);
    *t = NULL;
    *nt = 0;
}

void nvc_img_file_free(NvcImgModelFile *f)
{
    nvc_img_file_free_tensors(&f->t, &f->nt);
    free(f->q_enc);
    free(f->q_dec);
    nvc_img_int_free(&f->ii);
    free(f->vq_freq);
    memset(f, 0, sizeof(*f));
}

static void write_config(const NvcImgConfig *c, NvcByteWriter *bw)
{
    nvc_bw_u8(bw, (unsigned)c->prior);
    const int v[10] = { c->c1, c->c2, c->c3, c->M, c->Cz, c->P, c->K, c->vq_groups, c->vq_k, c->vq_levels };
    for (int i = 0; i < 10; i++)
        nvc_bw_u16(bw, (unsigned)v[i]);
    nvc_bw_u32(bw, nvc_img_file_f32_bits(c->lambda_min));
    nvc_bw_u32(bw, nvc_img_file_f32_bits(c->lambda_max));
}

static int read_config(NvcImgConfig *c, NvcByteReader *br, const NvcLogger *lg)
{
    memset(c, 0, sizeof(*c));
    c->prior = (enum NvcImgPrior)nvc_br_u8(br);
    int *v[10] = { &c->c1, &c->c2, &c->c3, &c->M, &c->Cz, &c->P, &c->K, &c->vq_groups, &c->vq_k, &c->vq_levels };
    for (int i = 0; i < 10; i++)
        *v[i] = nvc_br_u16(br);
    c->lambda_min = nvc_img_file_bits_f32(nvc_br_u32(br));
    c->lambda_max = nvc_img_file_bits_f32(nvc_br_u32(br));
    if (br->error || nvc_img_config_check(c, lg) < 0)
        return NVC_ERR_CORRUPT;
    return 0;
}

void nvc_img_file_write_head(NvcByteWriter *bw, const char *magic, unsigned version, const char *name, uint64_t step)
{
    const size_t nl = strlen(name);
    nvc_bw_bytes(bw, magic, 8);
    nvc_bw_u16(bw, version);
    nvc_bw_u8(bw, (unsigned)nl);
    nvc_bw_bytes(bw, name, nl);
    nvc_bw_u64(bw, step);
}

void nvc_img_file_write_tensors(NvcByteWriter *bw, const NvcImgTensor *t, int nt)
{
    nvc_bw_u32(bw, (uint32_t)nt);
    for (int i = 0; i < nt; i++) {
        size_t l = strlen(t[i].name);
        nvc_bw_u8(bw, (unsigned)l);
        nvc_bw_bytes(bw, t[i].name, l);
        nvc_bw_u8(bw, (unsigned)t[i].shape.ndim);
        for (int d = 0; d < t[i].shape.ndim; d++)
            nvc_bw_u32(bw, (uint32_t)t[i].shape.d[d]);
        nvc_img_file_write_floats(bw, t[i].data, t[i].numel);
    }
}

int nvc_img_file_seal(NvcByteWriter *bw, size_t start, uint32_t *crc)
{
    if (bw->error)
        return NVC_ERR(ENOMEM);
    *crc = nvc_crc32(0, bw->buf + start, bw->sz - start);
    nvc_bw_u32(bw, *crc);
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

int nvc_img_file_write(NvcImgModelFile *f, NvcByteWriter *bw)
{
    const NvcImgConfig *c = &f->cfg;
    const size_t start = bw->sz;
    nvc_img_file_write_head(bw, NVC_IMG_FILE_MAGIC, NVC_IMG_FILE_VERSION, f->name, f->step);
    write_config(c, bw);
    nvc_img_file_write_tensors(bw, f->t, f->nt);
    nvc_img_file_write_floats(bw, f->q_enc, (size_t)NVC_IMG_QLEVELS * c->c1);
    nvc_img_file_write_floats(bw, f->q_dec, (size_t)NVC_IMG_QLEVELS * c->c1);
    int ret = 0;
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        ret = nvc_img_int_write(&f->ii, bw);
    } else {
        const size_t nf = (size_t)NVC_IMG_QLEVELS * c->vq_levels * c->vq_groups * c->vq_k;
        for (size_t j = 0; j < nf; j++)
            nvc_bw_u16(bw, (unsigned)(f->vq_freq[j] - 1));
    }
    return ret < 0 ? ret : nvc_img_file_seal(bw, start, &f->crc);
}

int nvc_img_file_read_tensors(NvcByteReader *br, NvcImgTensor **tp, int *ntp)
{
    uint32_t nt = nvc_br_u32(br);
    if (br->error || nt > 4096)
        return NVC_ERR_CORRUPT;
    *tp = calloc(nt ? nt : 1, sizeof(**tp));
    if (!*tp)
        return NVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < nt; i++) {
        NvcImgTensor *t = &(*tp)[i];
        *ntp = (int)i + 1;
        size_t l = nvc_br_u8(br);
        const uint8_t *name = nvc_br_bytes(br, l);
        t->shape.ndim = nvc_br_u8(br);
        if (!name || l >= sizeof(t->name) || t->shape.ndim < 1 || t->shape.ndim > NVC_MAX_DIMS)
            return NVC_ERR_CORRUPT;
        memcpy(t->name, name, l);
        t->numel = 1;
        for (int d = 0; d < t->shape.ndim; d++) {
            uint32_t v = nvc_br_u32(br);
            if (v < 1 || v > (1u << 24))
                return NVC_ERR_CORRUPT;
            t->shape.d[d] = (int)v;
            t->numel *= v;
        }
        if (br->error || t->numel > nvc_br_left(br) / 4)
            return NVC_ERR_CORRUPT;
        if (!(t->data = malloc(t->numel * sizeof(float))))
            return NVC_ERR(ENOMEM);
        for (size_t j = 0; j < t->numel; j++)
            t->data[j] = nvc_img_file_bits_f32(nvc_br_u32(br));
    }
    return 0;
}

static int read_vq(NvcImgModelFile *f, NvcByteReader *br)
{
    const NvcImgConfig *c = &f->cfg;
    const size_t nbook = (size_t)NVC_IMG_QLEVELS * c->vq_levels * c->vq_groups, k = (size_t)c->vq_k;
    if (nvc_br_left(br) < nbook * k * 2)
        return NVC_ERR_CORRUPT;
    if (!(f->vq_freq = malloc(nbook * k * sizeof(*f->vq_freq))))
        return NVC_ERR(ENOMEM);
    for (size_t b = 0; b < nbook; b++) {
        uint32_t sum = 0;
        for (size_t j = 0; j < k; j++) {
            uint32_t v = nvc_br_u16(br) + 1u;
            if (v > 65535)
                return NVC_ERR_CORRUPT;
            f->vq_freq[b * k + j] = (uint16_t)v;
            sum += v;
        }
        if (sum != 65536)
            return NVC_ERR_CORRUPT;
    }
    return 0;
}

int nvc_img_file_read_head_v(NvcByteReader *br, const char *magic, unsigned version, const char *what, char *name,
                             uint64_t *step, unsigned *file_version, const NvcLogger *lg)
{
    const uint8_t *m = nvc_br_bytes(br, 8);
    if (!m || memcmp(m, magic, 8))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "%s: not a model file", what);
    unsigned v = nvc_br_u16(br);
    if (v > version)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "%s: file version %u is newer than this library's %u", what, v,
                             version);
    size_t nl = nvc_br_u8(br);
    const uint8_t *n = nvc_br_bytes(br, nl);
    if (!v || !n || nl > NVC_IMG_NAME_MAX)
        return NVC_ERR_CORRUPT;
    memcpy(name, n, nl);
    *step = nvc_br_u64(br);
    if (file_version)
        *file_version = v;
    return 0;
}

int nvc_img_file_read_head(NvcByteReader *br, const char *magic, unsigned version, const char *what, char *name,
                           uint64_t *step, const NvcLogger *lg)
{
    return nvc_img_file_read_head_v(br, magic, version, what, name, step, NULL, lg);
}

static int parse_body(void *fp, NvcByteReader *br, const NvcLogger *lg)
{
    NvcImgModelFile *f = fp;
    int ret = nvc_img_file_read_head(br, NVC_IMG_FILE_MAGIC, NVC_IMG_FILE_VERSION, "image model", f->name, &f->step,
                                     lg);
    if (!ret)
        ret = read_config(&f->cfg, br, lg);
    if (!ret)
        ret = nvc_img_file_read_tensors(br, &f->t, &f->nt);
    const size_t nq = (size_t)NVC_IMG_QLEVELS * f->cfg.c1;
    if (!ret && nvc_br_left(br) < nq * 8)
        ret = NVC_ERR_CORRUPT;
    if (!ret && (!(f->q_enc = malloc(nq * sizeof(float))) || !(f->q_dec = malloc(nq * sizeof(float)))))
        ret = NVC_ERR(ENOMEM);
    for (size_t j = 0; j < nq && !ret; j++)
        f->q_enc[j] = nvc_img_file_bits_f32(nvc_br_u32(br));
    for (size_t j = 0; j < nq && !ret; j++)
        f->q_dec[j] = nvc_img_file_bits_f32(nvc_br_u32(br));
    if (!ret && f->cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = nvc_img_int_read(&f->ii, f->cfg.M, f->cfg.Cz, f->cfg.P, f->cfg.K, br);
    else if (!ret)
        ret = read_vq(f, br);
    if (!ret && (br->error || nvc_br_left(br)))
        ret = NVC_ERR_CORRUPT;
    return ret;
}

int nvc_img_file_parse_sealed(const uint8_t *buf, size_t sz, const char *what, void *f,
                              int (*parse)(void *f, NvcByteReader *br, const NvcLogger *lg), void (*free_file)(void *f),
                              uint32_t *crc, const NvcLogger *lg)
{
    if (sz < 16)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "%s: truncated file", what);
    uint32_t c = (uint32_t)buf[sz - 4] << 24 | (uint32_t)buf[sz - 3] << 16 | (uint32_t)buf[sz - 2] << 8 | buf[sz - 1];
    if (nvc_crc32(0, buf, sz - 4) != c)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "%s: checksum mismatch (damaged file)", what);
    NvcByteReader br;
    nvc_br_init(&br, buf, sz - 4);
    int ret = parse(f, &br, lg);
    if (ret < 0) {
        free_file(f);
        if (ret == NVC_ERR_CORRUPT)
            nvc_log(lg, NVC_LOG_ERROR, "%s: malformed file", what);
    } else {
        *crc = c;
    }
    return ret;
}

static void free_file(void *f)
{
    nvc_img_file_free(f);
}

int nvc_img_file_parse(NvcImgModelFile *f, const uint8_t *buf, size_t sz, const NvcLogger *lg)
{
    memset(f, 0, sizeof(*f));
    return nvc_img_file_parse_sealed(buf, sz, "image model", f, parse_body, free_file, &f->crc, lg);
}

/* ---- writing a model file out ---------------------------------------------------------- */

int nvc_img_file_take_tensors(NvcImgTensor **tp, int *nt, const NvcArena *a, const float *host,
                              int (*keep)(const void *ctx, const char *name), const void *ctx)
{
    *tp = calloc(a->n, sizeof(**tp));
    if (!*tp)
        return NVC_ERR(ENOMEM);
    for (int i = 0; i < a->n; i++) {
        if (!keep(ctx, a->t[i].name))
            continue;
        NvcImgTensor *t = &(*tp)[(*nt)++];
        snprintf(t->name, sizeof(t->name), "%s", a->t[i].name);
        t->shape = a->t[i].shape;
        t->numel = a->t[i].numel;
        if (!(t->data = malloc(t->numel * sizeof(float))))
            return NVC_ERR(ENOMEM);
        memcpy(t->data, host + a->t[i].offset, t->numel * sizeof(float));
    }
    return 0;
}

int nvc_img_file_quality_table(float **table, const float *lim, int C)
{
    if (!(*table = malloc(sizeof(float) * NVC_IMG_QLEVELS * C)))
        return NVC_ERR(ENOMEM);
    for (int q = 0; q < NVC_IMG_QLEVELS; q++) {
        const double t = q / (double)(NVC_IMG_QLEVELS - 1);
        for (int i = 0; i < C; i++) {
            double l0 = fmax(fabs(lim[i]), 1e-6), l1 = fmax(fabs(lim[C + i]), 1e-6);
            (*table)[q * C + i] = (float)(pow(l0, 1 - t) * pow(l1, t));
        }
    }
    return 0;
}

static int save(const char *path, const NvcByteWriter *bw)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return NVC_ERR(EIO);
    int ok = fwrite(bw->buf, 1, bw->sz, fp) == bw->sz;
    ok &= fclose(fp) == 0;
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        return NVC_ERR(EIO);
    }
    return 0;
}

int nvc_img_file_export(int ret, const char *path, const char *what, void *f,
                        int (*write)(void *f, NvcByteWriter *bw), size_t *bytes, const NvcLogger *lg)
{
    NvcByteWriter bw = { 0 };
    if (!ret)
        ret = write(f, &bw);
    if (!ret)
        ret = save(path, &bw);
    if (!ret)
        *bytes = bw.sz;
    else
        nvc_log(lg, NVC_LOG_ERROR, "%s export: %s", what,
                ret == NVC_ERR(ERANGE) ? "a prior layer does not fit the integer ranges" : "failed");
    nvc_bw_free(&bw);
    return ret;
}
