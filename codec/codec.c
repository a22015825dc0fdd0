/*
 * Encoder/decoder front: settings, the send/receive state machine, and
 * dispatch to the codecs of this build.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/codec_internal.h"
#include "codec/internal.h"
#include "nvc/image_codec.h"
#include "nvc/video_codec.h"

extern const NvcCodecImpl nvc_hnerv_codec, nvc_nervpp_codec; /* inr/plugin.c */

const NvcCodecImpl *const nvc_codec_list[] = {
    &nvc_codec_image,
    &nvc_codec_dcvc,
    &nvc_hnerv_codec,
    &nvc_nervpp_codec,
    NULL,
};

static const NvcCodecImpl *find_codec(enum NvcCodecId id)
{
    for (int i = 0; nvc_codec_list[i]; i++)
        if (nvc_codec_list[i]->id == id)
            return nvc_codec_list[i];
    return NULL;
}

/* A copy of cfg whose payload is a new packet with its own bytes. */
static int config_copy(NvcStreamConfig *dst, const NvcStreamConfig *src)
{
    *dst = *src;
    memset(&dst->payload, 0, sizeof(dst->payload));
    uint8_t *buf = nvc_data_create(&dst->payload, src->payload.sz);
    if (!buf)
        return NVC_ERR(ENOMEM);
    if (src->payload.sz)
        memcpy(buf, src->payload.data, src->payload.sz);
    return 0;
}

void nvc_decoder_default_settings(NvcDecoderSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->device = NVC_DEVICE_CPU;
}

int nvc_decoder_open(NvcDecoder **pdec, const NvcStreamConfig *cfg, const NvcDecoderSettings *s)
{
    *pdec = NULL;
    NvcDecoderSettings defaults;
    if (!s) {
        nvc_decoder_default_settings(&defaults);
        s = &defaults;
    }
    if (!cfg)
        return NVC_ERR(EINVAL);
    const NvcCodecImpl *impl = find_codec(cfg->codec);
    if (!impl || !impl->dec_init)
        return nvc_log_error(&s->logger, NVC_ERR(ENOTSUP), "no %s decoder in this build",
                             nvc_codec_name(cfg->codec));
    NvcDecoder *dec = calloc(1, sizeof(*dec));
    if (!dec)
        return NVC_ERR(ENOMEM);
    dec->impl = impl;
    dec->s = *s;
    if (dec->s.max_pixels <= 0)
        dec->s.max_pixels = NVC_DEFAULT_MAX_PIXELS;
    if (dec->s.max_memory <= 0)
        dec->s.max_memory = 4LL << 30;
    int ret = config_copy(&dec->cfg, cfg);
    if (!ret && impl->dec_priv_size && !(dec->priv = calloc(1, impl->dec_priv_size)))
        ret = NVC_ERR(ENOMEM);
    if (!ret)
        ret = impl->dec_init(dec);
    if (ret < 0) {
        if (impl->dec_close && dec->priv)
            impl->dec_close(dec);
        dec->impl = NULL;
        nvc_decoder_close(&dec);
        return ret;
    }
    *pdec = dec;
    return 0;
}

int nvc_decoder_send_packet(NvcDecoder *dec, const NvcData *pkt)
{
    if (!pkt) {
        dec->draining = 1;
        return 0;
    }
    if (dec->has_pending)
        return NVC_ERR(EAGAIN);
    if (dec->draining)
        return NVC_ERR(EINVAL);
    nvc_data_ref(&dec->pending, pkt);
    dec->has_pending = 1;
    return 0;
}

int nvc_decoder_get_picture(NvcDecoder *dec, NvcPicture *pic)
{
    memset(pic, 0, sizeof(*pic));
    if (!dec->has_pending)
        return NVC_ERR(EAGAIN);
    int ret = dec->impl->dec_decode(dec, &dec->pending, pic);
    if (ret == 0)
        pic->pts = dec->pending.pts;
    nvc_data_unref(&dec->pending);
    dec->has_pending = 0;
    return ret;
}

void nvc_decoder_flush(NvcDecoder *dec)
{
    nvc_data_unref(&dec->pending);
    dec->has_pending = 0;
    dec->draining = 0;
    if (dec->impl->dec_flush)
        dec->impl->dec_flush(dec);
}

void nvc_decoder_close(NvcDecoder **pdec)
{
    NvcDecoder *dec = *pdec;
    if (!dec)
        return;
    if (dec->impl && dec->impl->dec_close)
        dec->impl->dec_close(dec);
    nvc_data_unref(&dec->pending);
    nvc_stream_config_clear(&dec->cfg);
    free(dec->priv);
    free(dec);
    *pdec = NULL;
}

void nvc_encoder_default_settings(NvcEncoderSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->codec = NVC_CODEC_HNERV;
    s->device = NVC_DEVICE_CPU;
    s->seed = 1;
    s->qat_epochs = -1;
    s->q = 32;
    s->refresh = 3; /* over 96 frames better than 8, 32 or none with the shipped model (doc/results/video-dcvc.md) */
    s->intra_period = -1;
    s->adaptive_intra = 1;
}

int nvc_encoder_open(NvcEncoder **penc, const NvcVideoInfo *info, const NvcEncoderSettings *s)
{
    *penc = NULL;
    NvcEncoderSettings defaults;
    if (!s) {
        nvc_encoder_default_settings(&defaults);
        s = &defaults;
    }
    if (!info)
        return NVC_ERR(EINVAL);
    const NvcCodecImpl *impl = find_codec(s->codec);
    if (!impl || !impl->enc_init)
        return nvc_log_error(&s->logger, NVC_ERR(ENOTSUP), "no %s encoder in this build",
                             nvc_codec_name(s->codec));
    NvcEncoder *enc = calloc(1, sizeof(*enc));
    if (!enc)
        return NVC_ERR(ENOMEM);
    enc->impl = impl;
    enc->info = *info;
    enc->s = *s;
    int ret = 0;
    if (impl->enc_priv_size && !(enc->priv = calloc(1, impl->enc_priv_size)))
        ret = NVC_ERR(ENOMEM);
    if (!ret)
        ret = impl->enc_init(enc);
    if (ret < 0) {
        if (impl->enc_close && enc->priv)
            impl->enc_close(enc);
        enc->impl = NULL;
        nvc_encoder_close(&enc);
        return ret;
    }
    *penc = enc;
    return 0;
}

int nvc_encoder_send_picture(NvcEncoder *enc, const NvcPicture *pic)
{
    if (pic && memcmp(&pic->p, &enc->info.p, sizeof(pic->p)))
        return nvc_log_error(&enc->s.logger, NVC_ERR(EINVAL),
                             "picture %dx%d differs from the stream's %dx%d format", pic->p.w,
                             pic->p.h, enc->info.p.w, enc->info.p.h);
    return enc->impl->enc_send(enc, pic);
}

int nvc_encoder_get_packet(NvcEncoder *enc, NvcData *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    return enc->impl->enc_get(enc, pkt);
}

int nvc_encoder_set_config(NvcEncoder *enc, const NvcStreamConfig *cfg)
{
    nvc_stream_config_clear(&enc->cfg);
    int ret = config_copy(&enc->cfg, cfg);
    enc->has_cfg = ret == 0;
    return ret;
}

int nvc_encoder_get_config(NvcEncoder *enc, NvcStreamConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    if (!enc->has_cfg)
        return NVC_ERR(EAGAIN);
    *cfg = enc->cfg;
    nvc_data_ref(&cfg->payload, &enc->cfg.payload);
    return 0;
}

void nvc_encoder_close(NvcEncoder **penc)
{
    NvcEncoder *enc = *penc;
    if (!enc)
        return;
    if (enc->impl && enc->impl->enc_close)
        enc->impl->enc_close(enc);
    nvc_stream_config_clear(&enc->cfg);
    free(enc->priv);
    free(enc);
    *penc = NULL;
}
