/*
 * nvc: encoders and decoders, dav1d-style send/receive.
 *
 * Decoding: nvc_decoder_open() with the stream configuration (from
 * nvc_demux_get_config), then alternate nvc_decoder_send_packet() and
 * nvc_decoder_get_picture() until the packets end; then drain by calling
 * nvc_decoder_send_packet(dec, NULL) and nvc_decoder_get_picture() until it
 * returns NVC_ERR(EAGAIN).
 *
 * Encoding: nvc_encoder_open() with the source's properties, send every
 * picture, then NULL to drain, fetching packets as they come. Encoders of
 * implicit neural representations (HNeRV, NeRV++) learn the whole clip
 * before they emit anything: they take every picture, train during the
 * drain and then release all packets. The stream configuration (container
 * header, holding the model for INR codecs) is ready once the first packet
 * is out: nvc_encoder_get_config().
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_H
#define NVC_CODEC_H

#include <stdint.h>

#include "nvc/common.h"
#include "nvc/container.h"
#include "nvc/data.h"
#include "nvc/io.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

enum NvcDevice {
    NVC_DEVICE_CPU = 0,
    NVC_DEVICE_CUDA = 1, /* NVC_ERR(ENODEV) at open when no GPU or no CUDA build */
};

/* ---- decoding --------------------------------------------------------- */

typedef struct NvcDecoder NvcDecoder;

typedef struct NvcDecoderSettings {
    int n_threads;         /* CPU threads; default 0 = all available */
    enum NvcDevice device; /* default NVC_DEVICE_CPU */
    int64_t max_pixels;    /* refuse larger pictures; default 0 = NVC_DEFAULT_MAX_PIXELS */
    int64_t max_memory;    /* bytes the decoder may allocate for models and state;
                              default 0 = 4 GiB */
    NvcLogger logger;      /* default: silent */
    /* Default NULL. When set, called with every entropy-decoded value, in
     * bitstream order: the configuration's during nvc_decoder_open, each
     * packet's while it decodes. These integers are exact on every machine
     * (conformance: nvdec --verify-symbols); doc/FORMAT.md says what each
     * codec hands over. */
    void (*symbols)(void *opaque, const int32_t *v, size_t n);
    void *symbols_opaque;
} NvcDecoderSettings;

NVC_API void nvc_decoder_default_settings(NvcDecoderSettings *s);

/* Create a decoder for a stream. The configuration (and its payload) is
 * copied. Returns 0 with *dec set, or NVC_ERR_CORRUPT (bad codec payload),
 * NVC_ERR(ENOTSUP) (codec unknown to this build), NVC_ERR(ERANGE) (limits),
 * NVC_ERR(ENODEV), NVC_ERR(ENOMEM); *dec is NULL on failure. */
NVC_API int nvc_decoder_open(NvcDecoder **dec, const NvcStreamConfig *cfg,
                             const NvcDecoderSettings *s);

/* Give the decoder one packet (NULL: no more packets, drain). The decoder
 * takes its own reference; the caller keeps pkt. Returns 0,
 * NVC_ERR(EAGAIN) when a picture must be fetched first (the packet was not
 * taken: send it again), NVC_ERR_CORRUPT for a damaged packet (the decoder
 * stays usable: later key packets decode), or another negative error. */
NVC_API int nvc_decoder_send_packet(NvcDecoder *dec, const NvcData *pkt);

/* Fetch the next decoded picture (a new reference; pts as in its packet).
 * Returns 0 with a picture, NVC_ERR(EAGAIN) when more packets are needed
 * (or, after draining, when there are no more pictures), or an error. */
NVC_API int nvc_decoder_get_picture(NvcDecoder *dec, NvcPicture *pic);

/* Forget pending packets and inter-frame state, e.g. after a seek; the next
 * packet should be a key packet. */
NVC_API void nvc_decoder_flush(NvcDecoder *dec);

NVC_API void nvc_decoder_close(NvcDecoder **dec);

/* ---- encoding --------------------------------------------------------- */

typedef struct NvcEncoder NvcEncoder;

/* Progress of a long encode (INR training), reported through a callback. */
typedef struct NvcEncodeProgress {
    const char *stage;       /* "train", "qat", "code", ... */
    int64_t step, steps;     /* e.g. epoch and epochs of this stage */
    double loss;             /* training loss of the last step */
    double psnr;             /* PSNR (dB) of the current model on the training frames */
    double frames_per_s;     /* training throughput */
    double eta_s;            /* seconds left in the whole encode (estimate) */
} NvcEncodeProgress;

/* Training loss of the INR codecs. */
enum NvcInrLoss {
    NVC_INR_LOSS_L2 = 0,        /* mean squared error, planes weighted 6:1:1 (YCbCr) or equally (RGB) */
    NVC_INR_LOSS_L1_MSSSIM = 1, /* 0.7 L1 + 0.3 (1 - MS-SSIM), same weights (HiNeRV) */
};

typedef struct NvcEncoderSettings {
    enum NvcCodecId codec;  /* default NVC_CODEC_HNERV */
    int n_threads;          /* default 0 = all available */
    enum NvcDevice device;  /* default NVC_DEVICE_CPU */
    uint64_t seed;          /* default 1; the same seed, input, settings and thread
                               count give the same bytes on the CPU */
    /* Implicit neural representations (HNeRV, NeRV++). */
    const char *size;       /* model size preset or parameter count: "xs", "s", "m",
                               "l", "xl" or e.g. "1.5M", "300k"; default NULL = "m" */
    double bpp;             /* target bits per pixel (picks the size); default 0 = off */
    int epochs;             /* training epochs; default 0 = codec default */
    int qbits;              /* weight quantisation bits (6..8); default 0 = 8 */
    int qat_epochs;         /* quantisation-aware fine-tuning epochs; default -1 = codec default */
    const char *strides;    /* decoder strides, e.g. "5,4,4,2,2" (1 to 6 values, each 2..5);
                               default NULL = chosen from the picture size */
    enum NvcInrLoss loss;   /* training loss; default NVC_INR_LOSS_L2 */
    double prune;           /* fraction of the decoder's weights set to zero (magnitude
                               pruning, 0 .. 0.9) before the fine-tuning; default 0 */
    double lr;              /* peak learning rate; default 0 = codec default */
    /* Learned image and conditional video codecs. */
    int q;                  /* quality index 0..63; default 32 */
    int refresh;            /* temporal feature refresh period; default 3, 0: never */
    int intra_period;       /* -1 = one intra frame; default -1 */
    const char *q_offsets;  /* conditional video codec: quality offsets of the P frames in turn, e.g.
                               "-3,0,-3,4" (P frame k codes at q + offset[(k - 1) mod n], clamped to
                               0..63; 1 to 16 values); default NULL = every frame at q */
    int adaptive_intra;     /* conditional video codec: code a frame as an I frame instead of a P frame
                               when that costs less (lambda(q) MSE + rate, the training loss); default 1 */
    /* Callbacks. */
    void (*progress)(void *cookie, const NvcEncodeProgress *p); /* default NULL */
    void *progress_cookie;
    volatile int *cancel;   /* when set and *cancel != 0, a long encode stops
                               soon with NVC_ERR(EINTR); default NULL */
    NvcLogger logger;       /* default: silent */
} NvcEncoderSettings;

NVC_API void nvc_encoder_default_settings(NvcEncoderSettings *s);

/* Create an encoder for pictures described by info. Returns 0 with *enc
 * set, NVC_ERR(EINVAL) (bad settings, logged), NVC_ERR(ENOTSUP) (codec not
 * in this build or format not supported by the codec), NVC_ERR(ENODEV). */
NVC_API int nvc_encoder_open(NvcEncoder **enc, const NvcVideoInfo *info,
                             const NvcEncoderSettings *s);

/* Give one picture (parameters as info's; NULL: end of input, drain). The
 * encoder takes its own reference. Returns 0, NVC_ERR(EAGAIN) when packets
 * must be fetched first, or an error. For INR codecs the drain call trains
 * the model and may run for a long time (progress callback, cancel flag). */
NVC_API int nvc_encoder_send_picture(NvcEncoder *enc, const NvcPicture *pic);

/* Fetch the next packet (a new reference). Returns 0 with a packet,
 * NVC_ERR(EAGAIN) when more input is needed (or, after draining, when the
 * stream is complete), or an error. */
NVC_API int nvc_encoder_get_packet(NvcEncoder *enc, NvcData *pkt);

/* The stream configuration, valid once the first packet has been fetched:
 * a new payload reference in cfg (release with nvc_stream_config_clear).
 * Returns 0 or NVC_ERR(EAGAIN) before that point. */
NVC_API int nvc_encoder_get_config(NvcEncoder *enc, NvcStreamConfig *cfg);

NVC_API void nvc_encoder_close(NvcEncoder **enc);

#ifdef __cplusplus
}
#endif

#endif /* NVC_CODEC_H */
