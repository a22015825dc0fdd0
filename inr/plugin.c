/*
 * The HNeRV and NeRV++ codecs behind nvc/codec.h. The encoder keeps every
 * picture, trains during the drain call and then releases the stream
 * configuration (the model) and one key packet per frame; the decoder
 * rebuilds the network from the configuration and decodes any packet on
 * its own.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_internal.h"
#include "codec/internal.h"
#include "inr/inr.h"

/* Defaults (see doc/man/nvenc.1 for the measurements behind them). */
#define DEFAULT_EPOCHS 100
#define DEFAULT_QBITS 8
#define EMB_BITS 6
/* --size presets: bits per pixel aimed at, smallest stem width. */
static const double preset_bpp[5] = { 0.01, 0.02, 0.05, 0.1, 0.2 };
static const int preset_min_c0[5] = { 2, 3, 4, 5, 6 };

typedef struct InrEnc {
    enum InrKind kind;
    NvcNn *nn;
    NvcPicture *pics;
    int n, cap;
    int preset;             /* --size preset, or -1 with count */
    double count;
    int drained;
    NvcData *pkts;
    int npkts, next;
} InrEnc;

typedef struct InrDec {
    enum InrKind kind;
    NvcNn *nn;
    InrStream s;
    InrNet net;
    float *in;              /* backend: one frame's input */
    float *h_in, *h_out;
    int32_t *q;
} InrDec;

static enum InrKind kind_of(enum NvcCodecId id)
{
    return id == NVC_CODEC_NERVPP ? INR_NERVPP : INR_HNERV;
}

static int create_nn(NvcNn **nn, enum NvcDevice dev, int threads, const NvcLogger *lg)
{
    int ret = nvc_nn_create(nn, dev == NVC_DEVICE_CUDA ? NVC_NN_CUDA : NVC_NN_CPU, threads, lg);
    if (ret == NVC_ERR(ENOSYS))
        ret = NVC_ERR(ENODEV);
    return ret;
}

/* ---- encoder ---------------------------------------------------------------------------- */

static void enc_close(NvcEncoder *enc)
{
    InrEnc *e = enc->priv;
    for (int i = 0; i < e->n; i++)
        nvc_picture_unref(&e->pics[i]);
    free(e->pics);
    for (int i = 0; i < e->npkts; i++)
        nvc_data_unref(&e->pkts[i]);
    free(e->pkts);
    nvc_nn_free(&e->nn);
}

static int enc_init(NvcEncoder *enc)
{
    InrEnc *e = enc->priv;
    const NvcEncoderSettings *s = &enc->s;
    const NvcPictureParameters *p = &enc->info.p;
    const NvcLogger *lg = &s->logger;
    e->kind = kind_of(enc->impl->id);
    if (p->w < 1 || p->h < 1 || p->w > NVC_MAX_DIMENSION || p->h > NVC_MAX_DIMENSION || p->bpc < 8 || p->bpc > 16 ||
        p->layout < NVC_PIXEL_LAYOUT_I400 || p->layout > NVC_PIXEL_LAYOUT_I444)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "inr: unsupported picture format");
    if (inr_parse_size(s->size ? s->size : "m", &e->preset, &e->count) < 0)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "inr: bad size '%s' (xs, s, m, l, xl or a count like 300k)",
                             s->size);
    if (s->bpp < 0 || s->bpp > 64 || s->epochs < 0 || s->qat_epochs < -1 ||
        (s->qbits && (s->qbits < 6 || s->qbits > 8)) || !(s->prune >= 0 && s->prune <= 0.9) ||
        (s->loss != NVC_INR_LOSS_L2 && s->loss != NVC_INR_LOSS_L1_MSSSIM) || !(s->lr >= 0 && s->lr < 1))
        return nvc_log_error(lg, NVC_ERR(EINVAL),
                             "inr: bad settings (bpp, epochs, qbits 6..8, prune 0..0.9, loss, lr 0..1)");
    if (s->strides) {
        InrArch a = { .kind = e->kind };
        if (inr_parse_strides(&a, s->strides, p->w, p->h) < 0)
            return nvc_log_error(lg, NVC_ERR(EINVAL), "inr: bad strides '%s' (1 to 6 values of 2..5, e.g. 5,4,4,2,2)",
                                 s->strides);
        if (p->layout == NVC_PIXEL_LAYOUT_I420 && (inr_arch_scale(&a) & 1))
            return nvc_log_error(lg, NVC_ERR(EINVAL), "inr: 4:2:0 needs an even product of strides");
    }
    return create_nn(&e->nn, s->device, s->n_threads, lg);
}

static int enc_store(InrEnc *e, const NvcPicture *pic)
{
    if (e->n == INT32_MAX / 2)
        return NVC_ERR(ERANGE);
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 64;
        NvcPicture *p = realloc(e->pics, (size_t)cap * sizeof(*p));
        if (!p)
            return NVC_ERR(ENOMEM);
        e->pics = p;
        e->cap = cap;
    }
    nvc_picture_ref(&e->pics[e->n++], pic);
    return 0;
}

/* The network for this clip: strides from the frame size (or the user's),
 * widths from the parameter budget. */
static void choose_arch(const NvcEncoder *enc, const InrEnc *e, InrArch *a)
{
    const NvcPictureParameters *p = &enc->info.p;
    const NvcEncoderSettings *s = &enc->s;
    const double px = (double)p->w * p->h, pixels = px * e->n;
    memset(a, 0, sizeof(*a));
    a->kind = e->kind;
    a->emb_ch = INR_EMB_CH;
    a->pe_levels = INR_PE_LEVELS;
    a->pe_base = INR_PE_BASE;
    if (!s->strides || inr_parse_strides(a, s->strides, p->w, p->h) < 0) {
        /* HNeRV pays its embedding per frame: a few cells (2x4 at 1080p in the
         * paper); NeRV++'s MLP grid is a model parameter: finer (9x16 at 720p) */
        double cells = e->kind == INR_HNERV ? NVC_CLIP(px / 20000, 2, 8) : NVC_CLIP(px / 6400, 1, 144);
        inr_choose_strides(a, p->w, p->h, cells, p->layout == NVC_PIXEL_LAYOUT_I420);
    }
    const int qbits = s->qbits ? s->qbits : DEFAULT_QBITS;
    const double emb_values = e->kind == INR_HNERV ? (double)e->n * a->emb_ch * a->grid_h * a->grid_w : 0;
    double budget;
    int min_c0 = 2;
    if (e->preset < 0) { /* a count of parameters: the network plus HNeRV's embeddings */
        budget = e->count - emb_values;
    } else {
        /* bits per coded value (measured): about qbits - 0.5 for weights (trained
         * weights stay nearly uniform over their range), EMB_BITS for embeddings */
        double bits = (s->bpp > 0 ? s->bpp : preset_bpp[e->preset]) * pixels;
        budget = (bits - emb_values * EMB_BITS) / (qbits - 0.5);
        if (s->bpp <= 0)
            min_c0 = preset_min_c0[e->preset];
    }
    inr_size_arch(a, budget, min_c0);
    /* the encoder is not transmitted: HNeRV's 64 channels, narrower for small
     * decoders (3 C0 rounded up to 8, at least 16), where it would cost more
     * than the decoder itself */
    a->enc_dim = NVC_CLIP((3 * a->width[0] + 7) / 8 * 8, 16, INR_ENC_DIM);
}

static int emit_packets(NvcEncoder *enc, InrEnc *e, const InrStream *st, const int32_t *emb_q)
{
    if (!(e->pkts = calloc((size_t)e->n, sizeof(*e->pkts))))
        return NVC_ERR(ENOMEM);
    const size_t S = inr_net_input_size(&st->a);
    for (int i = 0; i < e->n; i++) {
        uint8_t *buf = NULL, tmp[8];
        size_t sz = 0;
        if (e->kind == INR_HNERV) {
            int ret = inr_stream_write_emb(st, emb_q + (size_t)i * S, &buf, &sz);
            if (ret < 0)
                return ret;
        } else { /* the frame index, ULEB128 */
            uint32_t v = (uint32_t)i;
            do {
                tmp[sz++] = (uint8_t)((v & 127) | (v > 127 ? 128 : 0));
                v >>= 7;
            } while (v);
        }
        uint8_t *dst = nvc_data_create(&e->pkts[i], sz);
        if (!dst) {
            free(buf);
            return NVC_ERR(ENOMEM);
        }
        memcpy(dst, buf ? buf : tmp, sz);
        free(buf);
        e->pkts[i].pts = e->pics[i].pts;
        e->pkts[i].flags = NVC_DATA_KEY;
        e->npkts = i + 1;
    }
    return 0;
}

static int set_config(NvcEncoder *enc, InrEnc *e, const InrStream *st)
{
    uint8_t *buf;
    size_t sz;
    int ret = inr_stream_write_config(st, &buf, &sz, &enc->s.logger);
    if (ret < 0)
        return ret;
    NvcStreamConfig cfg;
    nvc_stream_config_default(&cfg);
    cfg.codec = enc->impl->id;
    cfg.p = enc->info.p;
    cfg.color = enc->info.color;
    cfg.fps_num = enc->info.fps_num > 0 ? enc->info.fps_num : 25;
    cfg.fps_den = enc->info.fps_den > 0 ? enc->info.fps_den : 1;
    cfg.sar_num = enc->info.sar_num > 0 ? enc->info.sar_num : 1;
    cfg.sar_den = enc->info.sar_den > 0 ? enc->info.sar_den : 1;
    cfg.frame_count = e->n;
    cfg.payload.data = buf;
    cfg.payload.sz = sz;
    ret = nvc_encoder_set_config(enc, &cfg);
    free(buf);
    return ret;
}

static int encode_clip(NvcEncoder *enc, InrEnc *e)
{
    const NvcEncoderSettings *s = &enc->s;
    const NvcLogger *lg = &s->logger;
    if (!e->n)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "inr: no pictures to encode");
    InrArch a;
    choose_arch(enc, e, &a);
    int H, W;
    inr_arch_out_size(&a, &H, &W);
    const int hn = e->kind == INR_HNERV;
    InrTrainConfig tc = {
        .epochs = s->epochs > 0 ? s->epochs : DEFAULT_EPOCHS,
        .batch = 2,
        /* HNeRV's 1e-3 (NeRV++'s reference: 5e-4) suits wide networks; narrow
         * ones learn faster with more (foreman CIF, 60 epochs, C0 = 5-6: 3e-3
         * beats 1e-3 by 1.4 dB (HNeRV) and 1.6 dB (NeRV++)), but not much more:
         * HNeRV at C0 = 5 lost 1.9 dB at 3.6e-3 (unstable) */
        .lr = 1e-3f * (float)NVC_CLIP(sqrt(32.0 / a.width[0]), 1.0, 2.5),
        .warmup = hn ? 0.1f : 0.2f,
        .beta1 = hn ? 0.9f : 0.5f,
        .loss = s->loss == NVC_INR_LOSS_L1_MSSSIM ? INR_LOSS_L1_MSSSIM : INR_LOSS_L2,
        .wbits = s->qbits ? s->qbits : DEFAULT_QBITS,
        .ebits = EMB_BITS,
        .seed = s->seed,
        .prune = s->prune,
        .progress = s->progress,
        .progress_cookie = s->progress_cookie,
        .cancel = s->cancel,
        .logger = *lg,
    };
    tc.qat_epochs = s->qat_epochs >= 0 ? s->qat_epochs : tc.epochs / 10;
    if (s->lr > 0)
        tc.lr = (float)s->lr;
    char str[64];
    size_t len = 0;
    for (int i = 0; i < a.nstrides; i++)
        len += (size_t)snprintf(str + len, sizeof(str) - len, "%s%d", i ? "," : "", a.stride[i]);
    nvc_log(lg, NVC_LOG_INFO,
            "%s: %d frames %dx%d (padded %dx%d), strides %s, grid %dx%d, widths %d..%d, %zu parameters, "
            "%.0f MAC/pixel, %d + %d epochs", nvc_codec_name(enc->impl->id), e->n, enc->info.p.w, enc->info.p.h,
            W, H, str, a.grid_w, a.grid_h, a.width[0], a.width[a.nstrides], inr_arch_params(&a),
            inr_arch_macs(&a) / ((double)H * W), tc.epochs, tc.qat_epochs);
    const int rgb = enc->info.p.layout == NVC_PIXEL_LAYOUT_I444 && enc->info.color.matrix == NVC_MC_IDENTITY;
    InrClip clip = { .p = enc->info.p, .rgb = rgb, .frames = e->n, .pic = e->pics };
    InrStream st;
    int32_t *emb_q = NULL;
    int ret = inr_train(e->nn, &a, &clip, &tc, &st, &emb_q);
    if (ret == NVC_ERR(EINTR))
        return ret;
    if (ret < 0)
        return nvc_log_error(lg, ret, "inr: training failed: %s", nvc_error_string(ret));
    ret = set_config(enc, e, &st);
    if (!ret)
        ret = emit_packets(enc, e, &st, emb_q);
    inr_stream_free(&st);
    free(emb_q);
    return ret;
}

static int enc_send(NvcEncoder *enc, const NvcPicture *pic)
{
    InrEnc *e = enc->priv;
    if (e->drained)
        return NVC_ERR(EINVAL);
    if (pic)
        return enc_store(e, pic);
    e->drained = 1;
    int ret = encode_clip(enc, e);
    for (int i = 0; i < e->n; i++) /* the pictures are not needed any more */
        nvc_picture_unref(&e->pics[i]);
    return ret;
}

static int enc_get(NvcEncoder *enc, NvcData *pkt)
{
    InrEnc *e = enc->priv;
    if (e->next >= e->npkts)
        return NVC_ERR(EAGAIN);
    *pkt = e->pkts[e->next]; /* move the reference */
    memset(&e->pkts[e->next++], 0, sizeof(*pkt));
    return 0;
}

/* ---- decoder ---------------------------------------------------------------------------- */

static void dec_close(NvcDecoder *dec)
{
    InrDec *d = dec->priv;
    if (d->nn) {
        inr_net_free(&d->net, d->nn);
        nvc_nn_release(d->nn, d->in);
    }
    inr_stream_free(&d->s);
    free(d->h_in);
    free(d->h_out);
    free(d->q);
    nvc_nn_free(&d->nn);
}

static int dec_init(NvcDecoder *dec)
{
    InrDec *d = dec->priv;
    const NvcLogger *lg = &dec->s.logger;
    d->kind = kind_of(dec->impl->id);
    const NvcPictureParameters *p = &dec->cfg.p;
    int ret = inr_stream_parse_config(&d->s, d->kind, dec->cfg.payload.data, dec->cfg.payload.sz, p->w, p->h,
                                      dec->s.max_pixels, dec->s.max_memory, lg);
    if (ret < 0)
        return ret;
    if (p->layout == NVC_PIXEL_LAYOUT_I420 && (inr_arch_scale(&d->s.a) & 1))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "inr: 4:2:0 stream with an odd stride product");
    if ((ret = create_nn(&d->nn, dec->s.device, dec->s.n_threads, lg)) < 0)
        return ret;
    if ((ret = inr_net_create(&d->net, d->nn, &d->s.a, 1, 0, 0)) < 0)
        return ret;
    const size_t S = inr_net_input_size(&d->s.a);
    float *host = malloc(d->net.params.size * sizeof(float));
    d->in = nvc_nn_alloc(d->nn, S);
    d->h_in = malloc(S * sizeof(float));
    d->q = malloc(S * sizeof(int32_t));
    d->h_out = malloc((size_t)3 * d->net.out_h * d->net.out_w * sizeof(float));
    if (!host || !d->in || !d->h_in || !d->q || !d->h_out) {
        free(host);
        return NVC_ERR(ENOMEM);
    }
    ret = inr_stream_weights(&d->s, &d->net.params, host);
    if (!ret)
        ret = nvc_nn_upload(d->nn, d->net.p, host, d->net.params.size);
    free(host);
    free(d->s.q); /* the weights are in the network now */
    d->s.q = NULL;
    return ret;
}

static int read_index(const NvcData *pkt, uint32_t *idx)
{
    uint64_t v = 0;
    size_t i = 0;
    for (;; i++) {
        if (i >= pkt->sz || i >= 5)
            return NVC_ERR_CORRUPT;
        v |= (uint64_t)(pkt->data[i] & 127) << (7 * i);
        if (!(pkt->data[i] & 128))
            break;
    }
    /* canonical: every byte used, no zero continuation byte at the end */
    if (i + 1 != pkt->sz || (i && !pkt->data[i]) || v > UINT32_MAX)
        return NVC_ERR_CORRUPT;
    *idx = (uint32_t)v;
    return 0;
}

static int dec_decode(NvcDecoder *dec, const NvcData *pkt, NvcPicture *out)
{
    InrDec *d = dec->priv;
    const InrArch *a = &d->s.a;
    const size_t S = inr_net_input_size(a);
    int ret;
    if (d->kind == INR_HNERV) {
        if ((ret = inr_stream_read_emb(&d->s, pkt->data, pkt->sz, d->q)) < 0)
            return ret;
        inr_emb_dequantize(&d->s.eq, d->q, a->grid_h * a->grid_w, d->h_in);
    } else {
        uint32_t idx;
        if ((ret = read_index(pkt, &idx)) < 0 || idx >= d->s.t_den)
            return nvc_log_error(&dec->s.logger, NVC_ERR_CORRUPT, "inr: bad packet");
        d->h_in[0] = (float)idx / (float)d->s.t_den;
    }
    if ((ret = nvc_nn_upload(d->nn, d->in, d->h_in, S)) < 0)
        return ret;
    inr_net_forward(&d->net, d->nn, d->net.p, d->in, 1);
    ret = nvc_nn_download(d->nn, d->h_out, d->net.out, (size_t)3 * d->net.out_h * d->net.out_w);
    if (!ret)
        ret = nvc_nn_error(d->nn);
    if (!ret)
        ret = nvc_picture_alloc(out, &dec->cfg.p, dec->s.max_pixels);
    if (ret < 0)
        return ret;
    out->color = dec->cfg.color;
    inr_planes_to_picture(d->h_out, d->net.out_h, d->net.out_w, out);
    return 0;
}

const NvcCodecImpl nvc_hnerv_codec = {
    .id = NVC_CODEC_HNERV,
    .dec_priv_size = sizeof(InrDec),
    .enc_priv_size = sizeof(InrEnc),
    .dec_init = dec_init,
    .dec_decode = dec_decode,
    .dec_close = dec_close,
    .enc_init = enc_init,
    .enc_send = enc_send,
    .enc_get = enc_get,
    .enc_close = enc_close,
};

const NvcCodecImpl nvc_nervpp_codec = {
    .id = NVC_CODEC_NERVPP,
    .dec_priv_size = sizeof(InrDec),
    .enc_priv_size = sizeof(InrEnc),
    .dec_init = dec_init,
    .dec_decode = dec_decode,
    .dec_close = dec_close,
    .enc_init = enc_init,
    .enc_send = enc_send,
    .enc_get = enc_get,
    .enc_close = enc_close,
};
