/*
 * How a codec plugs into the encoder/decoder front (codec/codec.c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_CODEC_INTERNAL_H
#define NVC_CODEC_CODEC_INTERNAL_H

#include "nvc/codec.h"

struct NvcDecoder {
    const struct NvcCodecImpl *impl;
    NvcStreamConfig cfg;     /* own copy, payload referenced */
    NvcDecoderSettings s;
    NvcData pending;         /* packet sent but not decoded yet */
    int has_pending, draining;
    void *priv;              /* codec state (impl->dec_priv_size bytes, zeroed) */
};

struct NvcEncoder {
    const struct NvcCodecImpl *impl;
    NvcVideoInfo info;
    NvcEncoderSettings s;
    NvcStreamConfig cfg;     /* set by the codec before its first packet */
    int has_cfg;
    void *priv;
};

typedef struct NvcCodecImpl {
    enum NvcCodecId id;
    size_t dec_priv_size, enc_priv_size;
    /* Decoding: one packet gives one picture. decode returns 0 with *out set
     * or a negative error. */
    int (*dec_init)(NvcDecoder *dec);
    int (*dec_decode)(NvcDecoder *dec, const NvcData *pkt, NvcPicture *out);
    void (*dec_flush)(NvcDecoder *dec);
    void (*dec_close)(NvcDecoder *dec);
    /* Encoding: the front's send/get semantics, codec-specific buffering. */
    int (*enc_init)(NvcEncoder *enc);
    int (*enc_send)(NvcEncoder *enc, const NvcPicture *pic);
    int (*enc_get)(NvcEncoder *enc, NvcData *pkt);
    void (*enc_close)(NvcEncoder *enc);
} NvcCodecImpl;

/* Decoders hand their entropy-decoded values to the caller's hook with this. */
static inline void nvc_decoder_emit_symbols(const NvcDecoder *dec, const int32_t *v, size_t n)
{
    if (dec->s.symbols && n)
        dec->s.symbols(dec->s.symbols_opaque, v, n);
}

/* Codecs compiled into this build (NULL-terminated). */
extern const NvcCodecImpl *const nvc_codec_list[];

/* Encoders call this once, before their first packet. Takes a copy. */
int nvc_encoder_set_config(NvcEncoder *enc, const NvcStreamConfig *cfg);

#endif /* NVC_CODEC_CODEC_INTERNAL_H */
