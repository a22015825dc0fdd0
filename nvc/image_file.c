/*
 * Model file of the learned image codec (nvc/image_file.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/crc.h"
#include "codec/internal.h"
#include "nvc/image_file.h"

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int nvc_img_file_keeps(const NvcImgConfig *c, const char *name)
{
    static const char *const drop[] = { "hs.", "prior.", "ctx.", "z_scale", "vq.logits", "q_enc", "q_dec" };
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (!strncmp(name, drop[i], strlen(drop[i])))
            return 0;
    return 1;
}

void nvc_img_file_free(NvcImgModelFile *f)
{
    for (int i = 0; i < f->nt; i++)
        free(f->t[i].data);
    free(f->t);
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
    nvc_bw_u32(bw, f32_bits(c->lambda_min));
    nvc_bw_u32(bw, f32_bits(c->lambda_max));
}

static int read_config(NvcImgConfig *c, NvcByteReader *br, const NvcLogger *lg)
{
    memset(c, 0, sizeof(*c));
    c->prior = (enum NvcImgPrior)nvc_br_u8(br);
    int *v[10] = { &c->c1, &c->c2, &c->c3, &c->M, &c->Cz, &c->P, &c->K, &c->vq_groups, &c->vq_k, &c->vq_levels };
    for (int i = 0; i < 10; i++)
        *v[i] = nvc_br_u16(br);
    c->lambda_min = bits_f32(nvc_br_u32(br));
    c->lambda_max = bits_f32(nvc_br_u32(br));
    if (br->error || nvc_img_config_check(c, lg) < 0)
        return NVC_ERR_CORRUPT;
    return 0;
}

int nvc_img_file_write(NvcImgModelFile *f, NvcByteWriter *bw)
{
    const NvcImgConfig *c = &f->cfg;
    const size_t start = bw->sz;
    nvc_bw_bytes(bw, NVC_IMG_FILE_MAGIC, 8);
    nvc_bw_u16(bw, NVC_IMG_FILE_VERSION);
    size_t nl = strlen(f->name);
    nvc_bw_u8(bw, (unsigned)nl);
    nvc_bw_bytes(bw, f->name, nl);
    nvc_bw_u64(bw, f->step);
    write_config(c, bw);
    nvc_bw_u32(bw, (uint32_t)f->nt);
    for (int i = 0; i < f->nt; i++) {
        const NvcImgTensor *t = &f->t[i];
        size_t l = strlen(t->name);
        nvc_bw_u8(bw, (unsigned)l);
        nvc_bw_bytes(bw, t->name, l);
        nvc_bw_u8(bw, (unsigned)t->shape.ndim);
        for (int d = 0; d < t->shape.ndim; d++)
            nvc_bw_u32(bw, (uint32_t)t->shape.d[d]);
        for (size_t j = 0; j < t->numel; j++)
            nvc_bw_u32(bw, f32_bits(t->data[j]));
    }
    for (size_t j = 0; j < (size_t)NVC_IMG_QLEVELS * c->c1; j++)
        nvc_bw_u32(bw, f32_bits(f->q_enc[j]));
    for (size_t j = 0; j < (size_t)NVC_IMG_QLEVELS * c->c1; j++)
        nvc_bw_u32(bw, f32_bits(f->q_dec[j]));
    int ret = 0;
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        ret = nvc_img_int_write(&f->ii, bw);
    } else {
        const size_t nf = (size_t)NVC_IMG_QLEVELS * c->vq_levels * c->vq_groups * c->vq_k;
        for (size_t j = 0; j < nf; j++)
            nvc_bw_u16(bw, (unsigned)(f->vq_freq[j] - 1));
    }
    if (ret < 0 || bw->error)
        return ret < 0 ? ret : NVC_ERR(ENOMEM);
    f->crc = nvc_crc32(0, bw->buf + start, bw->sz - start);
    nvc_bw_u32(bw, f->crc);
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

static int read_tensors(NvcImgModelFile *f, NvcByteReader *br)
{
    uint32_t nt = nvc_br_u32(br);
    if (br->error || nt > 4096)
        return NVC_ERR_CORRUPT;
    f->t = calloc(nt ? nt : 1, sizeof(*f->t));
    if (!f->t)
        return NVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < nt; i++) {
        NvcImgTensor *t = &f->t[i];
        f->nt = (int)i + 1;
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
            t->data[j] = bits_f32(nvc_br_u32(br));
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

static int parse_body(NvcImgModelFile *f, NvcByteReader *br, const NvcLogger *lg)
{
    const uint8_t *magic = nvc_br_bytes(br, 8);
    if (!magic || memcmp(magic, NVC_IMG_FILE_MAGIC, 8))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image model: not a model file");
    unsigned version = nvc_br_u16(br);
    if (version > NVC_IMG_FILE_VERSION)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "image model: file version %u is newer than this library's %d",
                             version, NVC_IMG_FILE_VERSION);
    size_t nl = nvc_br_u8(br);
    const uint8_t *name = nvc_br_bytes(br, nl);
    if (!version || !name || nl > NVC_IMG_NAME_MAX)
        return NVC_ERR_CORRUPT;
    memcpy(f->name, name, nl);
    f->step = nvc_br_u64(br);
    int ret = read_config(&f->cfg, br, lg);
    if (!ret)
        ret = read_tensors(f, br);
    const size_t nq = (size_t)NVC_IMG_QLEVELS * f->cfg.c1;
    if (!ret && nvc_br_left(br) < nq * 8)
        ret = NVC_ERR_CORRUPT;
    if (!ret && (!(f->q_enc = malloc(nq * sizeof(float))) || !(f->q_dec = malloc(nq * sizeof(float)))))
        ret = NVC_ERR(ENOMEM);
    for (size_t j = 0; j < nq && !ret; j++)
        f->q_enc[j] = bits_f32(nvc_br_u32(br));
    for (size_t j = 0; j < nq && !ret; j++)
        f->q_dec[j] = bits_f32(nvc_br_u32(br));
    if (!ret && f->cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = nvc_img_int_read(&f->ii, f->cfg.M, f->cfg.Cz, f->cfg.P, f->cfg.K, br);
    else if (!ret)
        ret = read_vq(f, br);
    if (!ret && (br->error || nvc_br_left(br)))
        ret = NVC_ERR_CORRUPT;
    return ret;
}

int nvc_img_file_parse(NvcImgModelFile *f, const uint8_t *buf, size_t sz, const NvcLogger *lg)
{
    memset(f, 0, sizeof(*f));
    if (sz < 16)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image model: truncated file");
    uint32_t crc = (uint32_t)buf[sz - 4] << 24 | (uint32_t)buf[sz - 3] << 16 | (uint32_t)buf[sz - 2] << 8 |
                   buf[sz - 1];
    if (nvc_crc32(0, buf, sz - 4) != crc)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image model: checksum mismatch (damaged file)");
    f->crc = crc;
    NvcByteReader br;
    nvc_br_init(&br, buf, sz - 4);
    int ret = parse_body(f, &br, lg);
    if (ret < 0) {
        nvc_img_file_free(f);
        if (ret == NVC_ERR_CORRUPT)
            nvc_log(lg, NVC_LOG_ERROR, "image model: malformed file");
    } else {
        f->crc = crc;
    }
    return ret;
}
