/*
 * The learned image codec (NVC_CODEC_IMAGE): doc/FORMAT.md, "Learned image
 * codec". Every picture is one key packet. Pictures are coded as 8-bit RGB
 * (YCbCr 4:2:0 input is converted with nvc_picture_convert and converted
 * back after decoding), padded to a multiple of 64 by repeating the edges.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/internal.h"
#include "entropy/codebook.h"
#include "nvc/convert.h"
#include "nvc/image_codec.h"
#include "nvc/image_latent.h"

#define PAYLOAD_VERSION 1

typedef struct ImgState {
    NvcImagePacketSlot out; /* encoder; first (nvc_image_enc_get) */
    NvcImgModelFile f;
    NvcCondTables ct;
    int have_ct;
    NvcCodebook cb;
    int cb_q;            /* VQ: quality whose PMFs cb holds, -1: none */
    NvcNn *nn;
    NvcImgModel m;
    int have_m, hp, wp;  /* float transforms at the padded size */
    int64_t max_memory;
    NvcLogger lg;
} ImgState;

int nvc_image_load_model_file(const char *path, const char *var, void *f,
                              int (*parse)(void *f, const uint8_t *buf, size_t sz, const NvcLogger *lg),
                              const NvcLogger *lg)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return nvc_log_error(lg, NVC_ERR(ENOENT), "%s: cannot open %s", var, path);
    uint8_t *buf = NULL;
    size_t sz = 0, cap = 0, n;
    do {
        if (sz == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            uint8_t *nb = cap <= (256u << 20) ? realloc(buf, cap) : NULL;
            if (!nb) {
                free(buf);
                fclose(fp);
                return NVC_ERR(ENOMEM);
            }
            buf = nb;
        }
        n = fread(buf + sz, 1, cap - sz, fp);
        sz += n;
    } while (n);
    fclose(fp);
    int ret = parse(f, buf, sz, lg);
    free(buf);
    return ret;
}

static int parse_model(void *f, const uint8_t *buf, size_t sz, const NvcLogger *lg)
{
    return nvc_img_file_parse(f, buf, sz, lg);
}

int nvc_image_model_load(NvcImgModelFile *f, const NvcLogger *lg)
{
    const char *path = getenv("NVC_IMAGE_MODEL");
    if (path && *path)
        return nvc_image_load_model_file(path, "NVC_IMAGE_MODEL", f, parse_model, lg);
    size_t sz;
    const uint8_t *data = nvc_image_model_builtin(&sz);
    if (!data)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "this build has no image model (set NVC_IMAGE_MODEL)");
    return nvc_img_file_parse(f, data, sz, lg);
}

static void state_close(ImgState *s)
{
    if (s->have_m)
        nvc_img_free(&s->m, s->nn);
    nvc_nn_free(&s->nn);
    if (s->have_ct)
        nvc_cond_tables_free(&s->ct);
    nvc_codebook_free(&s->cb);
    nvc_img_file_free(&s->f);
    nvc_data_unref(&s->out.pkt);
    memset(s, 0, sizeof(*s));
}

static int state_open(ImgState *s, int threads, enum NvcDevice device, int64_t max_memory, const NvcLogger *lg)
{
    s->lg = *lg;
    s->cb_q = -1;
    s->max_memory = max_memory;
    int ret = nvc_image_model_load(&s->f, lg);
    if (ret < 0)
        return ret;
    s->f.ii.threads = threads;
    if (s->f.cfg.prior == NVC_IMG_PRIOR_GMM) {
        if ((ret = nvc_img_latent_tables(&s->f.ii, &s->ct)) < 0)
            return ret;
        s->have_ct = 1;
    } else {
        const NvcImgConfig *c = &s->f.cfg;
        ret = nvc_codebook_init(&s->cb, (uint32_t)(c->M / c->vq_groups), (uint32_t)c->vq_groups,
                                (uint32_t)c->vq_levels, (uint32_t)c->vq_k);
        int t = -1;
        for (int i = 0; i < s->f.nt && t < 0; i++)
            if (!strcmp(s->f.t[i].name, "vq.codebook"))
                t = i;
        if (!ret && (t < 0 || s->f.t[t].numel != (size_t)c->vq_levels * c->vq_groups * c->vq_k * (c->M / c->vq_groups)))
            ret = NVC_ERR_CORRUPT;
        if (ret < 0)
            return ret;
        memcpy(s->cb.words, s->f.t[t].data, s->f.t[t].numel * sizeof(float));
    }
    ret = nvc_nn_create(&s->nn, device == NVC_DEVICE_CUDA ? NVC_NN_CUDA : NVC_NN_CPU, threads, lg);
    return ret;
}

int nvc_image_load_tensors(NvcNn *nn, const NvcImgTensor *t, int nt, const NvcArena *layout, float *pbuf)
{
    float *host = malloc(layout->size * sizeof(float));
    int ret = host ? nvc_nn_download(nn, host, pbuf, layout->size) : NVC_ERR(ENOMEM);
    for (int i = 0; i < nt && !ret; i++) {
        int j = nvc_arena_find(layout, t[i].name);
        if (j < 0 || layout->t[j].numel != t[i].numel || layout->t[j].shape.ndim != t[i].shape.ndim ||
            memcmp(layout->t[j].shape.d, t[i].shape.d, sizeof(int) * t[i].shape.ndim))
            ret = NVC_ERR_CORRUPT;
        else
            memcpy(host + layout->t[j].offset, t[i].data, t[i].numel * sizeof(float));
    }
    if (!ret)
        ret = nvc_nn_upload(nn, pbuf, host, layout->size);
    free(host);
    return ret;
}

/* The float transforms for pictures padded to hp x wp. */
static int state_model(ImgState *s, int hp, int wp)
{
    if (s->have_m && s->hp == hp && s->wp == wp)
        return 0;
    if (s->have_m)
        nvc_img_free(&s->m, s->nn);
    s->have_m = 0;
    const size_t need = nvc_img_memory(&s->f.cfg, 1, hp, wp, -1);
    if (s->max_memory > 0 && need > (uint64_t)s->max_memory)
        return nvc_log_error(&s->lg, NVC_ERR(ERANGE), "image codec: %dx%d needs %zu MiB, above the memory limit",
                             wp, hp, need >> 20);
    NvcLrSchedule none = { 0 };
    int ret = nvc_img_create(&s->m, s->nn, &s->f.cfg, 1, hp, wp, -1, none, 1);
    if (ret < 0)
        return ret;
    if ((ret = nvc_image_load_tensors(s->nn, s->f.t, s->f.nt, &s->m.params, s->m.pbuf)) < 0) {
        nvc_img_free(&s->m, s->nn);
        return ret;
    }
    s->have_m = 1, s->hp = hp, s->wp = wp;
    return 0;
}

static int set_quality_rows(ImgState *s, int q)
{
    const int c1 = s->f.cfg.c1;
    int ret = nvc_nn_upload(s->nn, s->m.a.qe, s->f.q_enc + (size_t)q * c1, (size_t)c1);
    return ret ? ret : nvc_nn_upload(s->nn, s->m.a.qd, s->f.q_dec + (size_t)q * c1, (size_t)c1);
}

static int set_vq_quality(ImgState *s, int q)
{
    if (s->cb_q == q)
        return 0;
    const NvcImgConfig *c = &s->f.cfg;
    const size_t nf = (size_t)c->vq_levels * c->vq_groups * c->vq_k;
    uint64_t *counts = malloc(nf * sizeof(*counts));
    if (!counts)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < nf; i++)
        counts[i] = s->f.vq_freq[(size_t)q * nf + i];
    int ret = nvc_codebook_set_pmf(&s->cb, counts);
    free(counts);
    s->cb_q = ret ? -1 : q;
    return ret;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static void latent_dims(int hp, int wp, NvcImgLatentDims *d)
{
    d->h4 = hp / 16, d->w4 = wp / 16, d->h6 = hp / 64, d->w6 = wp / 64;
}

static int align64(int v)
{
    return (v + NVC_IMG_ALIGN - 1) / NVC_IMG_ALIGN * NVC_IMG_ALIGN;
}

/* ---- stream configuration payload --------------------------------------------- */

static int write_config(NvcEncoder *enc, const ImgState *s)
{
    NvcByteWriter bw = { 0 };
    const size_t nl = strlen(s->f.name);
    nvc_bw_u8(&bw, PAYLOAD_VERSION);
    nvc_bw_u8(&bw, (unsigned)s->f.cfg.prior);
    nvc_bw_u32(&bw, s->f.crc);
    nvc_bw_u8(&bw, (unsigned)nl);
    nvc_bw_bytes(&bw, s->f.name, nl);
    NvcStreamConfig cfg;
    nvc_stream_config_default(&cfg);
    cfg.codec = NVC_CODEC_IMAGE;
    cfg.p = enc->info.p;
    cfg.color = enc->info.color;
    cfg.fps_num = enc->info.fps_num > 0 ? enc->info.fps_num : 25;
    cfg.fps_den = enc->info.fps_den > 0 ? enc->info.fps_den : 1;
    cfg.sar_num = enc->info.sar_num > 0 ? enc->info.sar_num : 1;
    cfg.sar_den = enc->info.sar_den > 0 ? enc->info.sar_den : 1;
    cfg.frame_count = 0; /* unknown: the configuration precedes the first packet, and the caller may stop early */
    int ret = nvc_image_set_config(enc, &cfg, &bw);
    nvc_bw_free(&bw);
    return ret;
}

int nvc_image_set_config(NvcEncoder *enc, NvcStreamConfig *cfg, const NvcByteWriter *bw)
{
    int ret = bw->error ? NVC_ERR(ENOMEM) : 0;
    uint8_t *p = ret ? NULL : nvc_data_create(&cfg->payload, bw->sz);
    if (!ret && !p)
        ret = NVC_ERR(ENOMEM);
    if (!ret) {
        memcpy(p, bw->buf, bw->sz);
        ret = nvc_encoder_set_config(enc, cfg);
    }
    nvc_stream_config_clear(cfg);
    return ret;
}

int nvc_image_format_ok(const NvcPictureParameters *p, const NvcColorDescription *color)
{
    return p->bpc == 8 && (p->layout == NVC_PIXEL_LAYOUT_I420 ||
                           (p->layout == NVC_PIXEL_LAYOUT_I444 && color->matrix == NVC_MC_IDENTITY));
}

static int check_config(const NvcStreamConfig *cfg, const ImgState *s, const NvcLogger *lg)
{
    NvcByteReader br;
    nvc_br_init(&br, cfg->payload.data, cfg->payload.sz);
    unsigned version = nvc_br_u8(&br), prior = nvc_br_u8(&br);
    uint32_t crc = nvc_br_u32(&br);
    size_t nl = nvc_br_u8(&br);
    const uint8_t *name = nvc_br_bytes(&br, nl);
    if (br.error || nvc_br_left(&br) || !version)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image codec: malformed stream configuration");
    if (version > PAYLOAD_VERSION)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "image codec: payload version %u is newer than %d", version,
                             PAYLOAD_VERSION);
    if (crc != s->f.crc || prior != (unsigned)s->f.cfg.prior)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP),
                             "image codec: the stream needs model '%.*s' (crc %08x, prior %u); this library has '%s' "
                             "(crc %08x, prior %u)", (int)nl, (const char *)name, crc, prior, s->f.name, s->f.crc,
                             (unsigned)s->f.cfg.prior);
    if (!nvc_image_format_ok(&cfg->p, &cfg->color))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image codec: pictures must be 8-bit RGB or YCbCr 4:2:0");
    return 0;
}

/* ---- encoder ------------------------------------------------------------------------ */

static int enc_init(NvcEncoder *enc)
{
    ImgState *s = enc->priv;
    if (!nvc_image_format_ok(&enc->info.p, &enc->info.color))
        return nvc_log_error(&enc->s.logger, NVC_ERR(ENOTSUP),
                             "image codec: takes 8-bit RGB or YCbCr 4:2:0 pictures");
    if (enc->s.q < 0 || enc->s.q > 63)
        return nvc_log_error(&enc->s.logger, NVC_ERR(EINVAL), "image codec: --q %d is not in 0..63", enc->s.q);
    int ret = state_open(s, enc->s.n_threads, enc->s.device, 0, &enc->s.logger);
    if (!ret)
        ret = write_config(enc, s);
    return ret;
}

int nvc_image_input_picture(const NvcPicture *pic, int hp, int wp, float *x)
{
    NvcPicture rgb = { 0 };
    int ret = 0;
    if (pic->p.layout == NVC_PIXEL_LAYOUT_I444 && pic->color.matrix == NVC_MC_IDENTITY)
        nvc_picture_ref(&rgb, pic);
    else
        ret = nvc_picture_to_rgb(&rgb, pic, 8);
    if (ret < 0)
        return ret;
    const int w = rgb.p.w, h = rgb.p.h;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < hp; y++) {
            const uint8_t *row = (const uint8_t *)rgb.data[c] + (ptrdiff_t)NVC_MIN(y, h - 1) * rgb.stride[c];
            float *o = x + ((size_t)c * hp + y) * wp;
            for (int xx = 0; xx < wp; xx++)
                o[xx] = row[NVC_MIN(xx, w - 1)] * (1.0f / 255.0f);
        }
    nvc_picture_unref(&rgb);
    return 0;
}

static int encode_vq(ImgState *s, int q, const float *y, int n, NvcByteWriter *bw)
{
    const int M = s->f.cfg.M;
    const size_t nidx = (size_t)s->cb.levels * s->cb.groups * n;
    float *xt = malloc((size_t)M * n * sizeof(float));
    uint16_t *idx = malloc(nidx * sizeof(*idx));
    int ret = xt && idx ? set_vq_quality(s, q) : NVC_ERR(ENOMEM);
    if (!ret) {
        for (int c = 0; c < M; c++)
            for (int p = 0; p < n; p++)
                xt[(size_t)p * M + c] = y[(size_t)c * n + p];
        ret = nvc_codebook_quantize(&s->cb, xt, (size_t)n, idx, NULL);
    }
    if (!ret)
        ret = nvc_codebook_encode(&s->cb, idx, (size_t)n, 0, bw);
    free(xt);
    free(idx);
    return ret;
}

static int encode_picture(NvcEncoder *enc, const NvcPicture *pic, NvcByteWriter *bw)
{
    ImgState *s = enc->priv;
    const int hp = align64(pic->p.h), wp = align64(pic->p.w);
    const double t0 = now_ms();
    int ret = state_model(s, hp, wp);
    if (ret < 0)
        return ret;
    NvcImgModel *m = &s->m;
    NvcImgLatentDims d;
    latent_dims(hp, wp, &d);
    const size_t nx = (size_t)3 * hp * wp, ny = (size_t)s->f.cfg.M * d.h4 * d.w4;
    const size_t nz = (size_t)s->f.cfg.Cz * d.h6 * d.w6;
    float *x = malloc(nx * sizeof(float)), *y = malloc(ny * sizeof(float)), *z = malloc((nz + 1) * sizeof(float));
    ret = x && y && z ? 0 : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_image_input_picture(pic, hp, wp, x);
    if (!ret)
        ret = nvc_nn_upload(s->nn, m->a.x, x, nx);
    if (!ret)
        ret = set_quality_rows(s, enc->s.q);
    if (!ret) {
        nvc_img_analysis(m, s->nn);
        if (s->f.cfg.prior == NVC_IMG_PRIOR_GMM)
            nvc_img_hyper_analysis(m, s->nn);
        ret = nvc_nn_error(s->nn);
    }
    if (!ret)
        ret = nvc_nn_download(s->nn, y, m->a.y, ny);
    if (!ret && s->f.cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = nvc_nn_download(s->nn, z, m->a.ha_c[2], nz);
    const double t1 = now_ms();
    nvc_bw_u8(bw, (unsigned)enc->s.q);
    nvc_bw_u8(bw, 0);
    if (!ret && s->f.cfg.prior == NVC_IMG_PRIOR_GMM)
        ret = nvc_img_latent_encode(&s->f.ii, &s->ct, enc->s.q, y, z, &d, bw, NULL, NULL, NULL);
    else if (!ret)
        ret = encode_vq(s, enc->s.q, y, d.h4 * d.w4, bw);
    nvc_log(&s->lg, NVC_LOG_INFO, "image codec: %dx%d q %d: analysis %.0f ms, prior and entropy coding %.0f ms",
            pic->p.w, pic->p.h, enc->s.q, t1 - t0, now_ms() - t1);
    if (!ret && bw->error)
        ret = NVC_ERR(ENOMEM);
    free(x);
    free(y);
    free(z);
    return ret;
}

static int enc_send(NvcEncoder *enc, const NvcPicture *pic)
{
    ImgState *s = enc->priv;
    if (!pic)
        return 0;
    if (s->out.has_pkt)
        return NVC_ERR(EAGAIN);
    NvcByteWriter bw = { 0 };
    int ret = encode_picture(enc, pic, &bw);
    if (!ret)
        ret = nvc_image_packet_put(&s->out, &bw, pic->pts, NVC_DATA_KEY);
    nvc_bw_free(&bw);
    return ret;
}

int nvc_image_packet_put(NvcImagePacketSlot *slot, const NvcByteWriter *bw, int64_t pts, unsigned flags)
{
    uint8_t *p = nvc_data_create(&slot->pkt, bw->sz);
    if (!p)
        return NVC_ERR(ENOMEM);
    memcpy(p, bw->buf, bw->sz);
    slot->pkt.pts = pts;
    slot->pkt.flags = flags;
    slot->has_pkt = 1;
    return 0;
}

int nvc_image_enc_get(NvcEncoder *enc, NvcData *pkt)
{
    NvcImagePacketSlot *slot = enc->priv;
    if (!slot->has_pkt)
        return NVC_ERR(EAGAIN);
    *pkt = slot->pkt;
    memset(&slot->pkt, 0, sizeof(slot->pkt));
    slot->has_pkt = 0;
    return 0;
}

static void enc_close(NvcEncoder *enc)
{
    state_close(enc->priv);
}

/* ---- decoder ------------------------------------------------------------------------ */

static int dec_init(NvcDecoder *dec)
{
    ImgState *s = dec->priv;
    int ret = state_open(s, dec->s.n_threads, dec->s.device, dec->s.max_memory, &dec->s.logger);
    return ret ? ret : check_config(&dec->cfg, s, &dec->s.logger);
}

/* The decoded latent (Q8, channel-major) in bitstream order: the four-part
 * steps 0..3, each in channel, then raster order (doc/FORMAT.md). */
static void latent_in_step_order(int M, const NvcImgLatentDims *d, const int64_t *yq8, int32_t *out)
{
    size_t k = 0;
    for (int st = 0; st < 4; st++)
        for (int c = 0; c < M; c++)
            for (int y = 0; y < d->h4; y++)
                for (int x = 0; x < d->w4; x++)
                    if (nvc_img_int_step_of(M, c, y, x) == st) {
                        const int64_t v = yq8[((size_t)c * d->h4 + y) * d->w4 + x];
                        out[k++] = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
                    }
}

/* idx receives the codeword indices [levels][groups][positions]. */
static int decode_vq(ImgState *s, int q, NvcByteReader *br, int n, uint16_t *idx, float *yhat)
{
    const int M = s->f.cfg.M;
    float *xt = malloc((size_t)M * n * sizeof(float));
    int ret = xt ? set_vq_quality(s, q) : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_codebook_decode(&s->cb, br, idx, (size_t)n);
    if (!ret) {
        nvc_codebook_reconstruct(&s->cb, idx, (size_t)n, xt);
        for (int c = 0; c < M; c++)
            for (int p = 0; p < n; p++)
                yhat[(size_t)c * n + p] = xt[(size_t)p * M + c];
    }
    free(xt);
    return ret;
}

/* x_hat (3, hp, wp) -> an 8-bit picture of the stream's format. */
int nvc_image_output_picture(const NvcDecoder *dec, const float *xh, int hp, int wp, NvcPicture *out)
{
    const NvcPictureParameters *sp = &dec->cfg.p;
    NvcPictureParameters rp = { sp->w, sp->h, NVC_PIXEL_LAYOUT_I444, 8 };
    NvcPicture rgb;
    int ret = nvc_picture_alloc(&rgb, &rp, 0);
    if (ret < 0)
        return ret;
    rgb.color = dec->cfg.color;
    rgb.color.matrix = NVC_MC_IDENTITY;
    rgb.color.range = NVC_RANGE_FULL;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < sp->h; y++) {
            uint8_t *row = (uint8_t *)rgb.data[c] + (ptrdiff_t)y * rgb.stride[c];
            const float *src = xh + ((size_t)c * hp + y) * wp;
            for (int x = 0; x < sp->w; x++) {
                float v = src[x] * 255.0f + 0.5f;
                row[x] = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
            }
        }
    if (sp->layout == NVC_PIXEL_LAYOUT_I444) {
        *out = rgb;
        return 0;
    }
    ret = nvc_picture_convert(out, sp, &dec->cfg.color, &rgb);
    nvc_picture_unref(&rgb);
    return ret;
}

static int dec_decode(NvcDecoder *dec, const NvcData *pkt, NvcPicture *out)
{
    ImgState *s = dec->priv;
    const NvcLogger *lg = &dec->s.logger;
    const int hp = align64(dec->cfg.p.h), wp = align64(dec->cfg.p.w);
    NvcByteReader br;
    nvc_br_init(&br, pkt->data, pkt->sz);
    const int q = nvc_br_u8(&br), reserved = nvc_br_u8(&br);
    if (br.error || q > 63 || reserved)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "image codec: bad packet header");
    const double t0 = now_ms();
    int ret = state_model(s, hp, wp);
    if (ret < 0)
        return ret;
    NvcImgLatentDims d;
    latent_dims(hp, wp, &d);
    const size_t ny = (size_t)s->f.cfg.M * d.h4 * d.w4, nx = (size_t)3 * hp * wp;
    const double t1 = now_ms();
    int64_t *yq8 = malloc(ny * sizeof(*yq8));
    float *yh = malloc(ny * sizeof(float)), *xh = malloc(nx * sizeof(float));
    ret = yq8 && yh && xh ? 0 : NVC_ERR(ENOMEM);
    /* symbols for dec->s.symbols (doc/FORMAT.md): prior 0 the z_hat symbols,
     * then the latent values in Q8; prior 1 the codeword indices */
    const int gmm = s->f.cfg.prior == NVC_IMG_PRIOR_GMM;
    const size_t nz = gmm ? (size_t)s->f.cfg.Cz * d.h6 * d.w6 : (size_t)s->cb.levels * s->cb.groups * d.h4 * d.w4;
    int32_t *zs = NULL, *ys = NULL;
    uint16_t *idx = gmm ? NULL : malloc(nz * sizeof(*idx));
    if (!ret && !gmm && !idx)
        ret = NVC_ERR(ENOMEM);
    if (!ret && dec->s.symbols && (!(zs = malloc(nz * sizeof(*zs))) || (gmm && !(ys = malloc(ny * sizeof(*ys))))))
        ret = NVC_ERR(ENOMEM);
    if (!ret && gmm) {
        ret = nvc_img_latent_decode(&s->f.ii, &s->ct, q, &br, &d, yq8, zs);
        for (size_t i = 0; i < ny && !ret; i++) {
            int64_t v = yq8[i] < -(1 << 28) ? -(1 << 28) : yq8[i] > (1 << 28) ? (1 << 28) : yq8[i];
            yh[i] = (float)v * (1.0f / 256.0f);
        }
        if (ys && !ret)
            latent_in_step_order(s->f.cfg.M, &d, yq8, ys);
    } else if (!ret) {
        ret = decode_vq(s, q, &br, d.h4 * d.w4, idx, yh);
        for (size_t i = 0; i < nz && zs && !ret; i++)
            zs[i] = idx[i];
    }
    if (!ret && nvc_br_left(&br))
        ret = NVC_ERR_CORRUPT; /* bytes after the last payload */
    if (!ret && zs) {
        nvc_decoder_emit_symbols(dec, zs, nz);
        if (ys)
            nvc_decoder_emit_symbols(dec, ys, ny);
    }
    free(zs);
    free(ys);
    free(idx);
    if (ret == NVC_ERR_CORRUPT)
        nvc_log(lg, NVC_LOG_ERROR, "image codec: corrupt packet");
    const double t2 = now_ms();
    if (!ret)
        ret = nvc_nn_upload(s->nn, s->m.a.yhat, yh, ny);
    if (!ret)
        ret = set_quality_rows(s, q);
    if (!ret) {
        nvc_img_synthesis(&s->m, s->nn);
        ret = nvc_nn_error(s->nn);
    }
    if (!ret)
        ret = nvc_nn_download(s->nn, xh, s->m.a.xhat, nx);
    if (!ret)
        ret = nvc_image_output_picture(dec, xh, hp, wp, out);
    nvc_log(lg, NVC_LOG_INFO, "image codec: %dx%d q %d: setup %.0f ms, prior and entropy decoding %.0f ms, "
            "synthesis %.0f ms", dec->cfg.p.w, dec->cfg.p.h, q, t1 - t0, t2 - t1, now_ms() - t2);
    free(yq8);
    free(yh);
    free(xh);
    return ret;
}

static void dec_close(NvcDecoder *dec)
{
    state_close(dec->priv);
}

const NvcCodecImpl nvc_codec_image = {
    .id = NVC_CODEC_IMAGE,
    .dec_priv_size = sizeof(ImgState),
    .enc_priv_size = sizeof(ImgState),
    .dec_init = dec_init,
    .dec_decode = dec_decode,
    .dec_close = dec_close,
    .enc_init = enc_init,
    .enc_send = enc_send,
    .enc_get = nvc_image_enc_get,
    .enc_close = enc_close,
};
