/*
 * INR video codecs (HNeRV, NeRV++): the networks, their training (= the
 * encoder), quantisation and the stream payloads (doc/FORMAT.md, "Codec
 * payloads"). Internal to libnvc.
 *
 * A network maps a per-frame input to a picture of 3 channels in [0, 1]
 * at the padded size (grid * product of the strides):
 *   HNeRV:  embedding (B, E, gh, gw) -> decoder -> (B, 3, H, W); the
 *           embedding comes from a ConvNeXt encoder during training (never
 *           transmitted) and is quantised into each frame's packet;
 *   NeRV++: frame time t = index / frames (B) -> positional encoding ->
 *           gated MLP -> (B, C0, gh, gw) -> blocks -> (B, 3, H, W).
 * One definition per model serves training and decoding, on the CPU and on
 * CUDA (every op goes through nn->ops).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_INR_INR_H
#define NVC_INR_INR_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "nvc/codec.h"

#define INR_MIN_STRIDES 1
#define INR_MAX_STRIDES 6
#define INR_MAX_WIDTH 4096
#define INR_MAX_GRID 1024
#define INR_EMB_CH 16        /* HNeRV embedding channels (enc_dim 64_16) */
#define INR_ENC_DIM 64       /* HNeRV ConvNeXt width */
#define INR_PE_LEVELS 40     /* NeRV++ positional encoding: 1.25_40 */
#define INR_PE_BASE 1.25f
#define INR_MAX_TENSORS 128

enum InrKind {
    INR_HNERV = 1,
    INR_NERVPP = 2,
};

/* Everything the decoder needs to rebuild a network (the architecture part
 * of the configuration payload). */
typedef struct InrArch {
    enum InrKind kind;
    int nstrides;
    int stride[INR_MAX_STRIDES];
    int grid_h, grid_w;                /* embedding (HNeRV) / stem grid (NeRV++) */
    int width[INR_MAX_STRIDES + 1];    /* C0 (stem output) .. C_n (last block output) */
    int emb_ch;                        /* HNeRV: embedding channels */
    int enc_dim;                       /* HNeRV: ConvNeXt width (training only, not in the stream) */
    int stem_hidden;                   /* NeRV++: gated-MLP hidden width */
    int pe_levels;                     /* NeRV++ */
    float pe_base;                     /* NeRV++ */
} InrArch;

/* Product of the strides. */
int inr_arch_scale(const InrArch *a);
/* Padded output size: grid * product of strides. */
void inr_arch_out_size(const InrArch *a, int *h, int *w);
/* HNeRV decoder kernel of block i: min(1 + 2 i, 5). */
static inline int inr_hnerv_kernel(int i)
{
    return 1 + 2 * i < 5 ? 1 + 2 * i : 5;
}
/* NeRV++ gated-CNN hidden width of a block of width c: int(8/3 c). */
static inline int inr_nervpp_hidden(int c)
{
    return (int)(8.0 * c / 3.0);
}
/* Checks the ranges of a (any source of it); 0 or NVC_ERR(EINVAL). */
int inr_arch_check(const InrArch *a);
/* Multiply-accumulates of one decoder forward pass per frame. */
double inr_arch_macs(const InrArch *a);

/* ---- networks -------------------------------------------------------------------- */

/* A decoder network for batches of up to bmax frames. Its parameter arena
 * (the decoder's weights, in the order they are coded) lives in p; with
 * train set, gradients g, activations x and their gradients dx. */
typedef struct InrNet {
    InrArch a;
    int bmax, train;
    int out_h, out_w;
    NvcArena params, acts;
    float *p, *g, *x, *dx;  /* backend memory */
    float *out, *dout;      /* (bmax, 3, out_h, out_w) inside x / dx */
    void *views;            /* the model's named pointers into g, x, dx */
} InrNet;

/* Declares and allocates; parameters initialised from seed. */
int inr_net_create(InrNet *n, NvcNn *nn, const InrArch *a, int bmax, int train, uint64_t seed);
void inr_net_free(InrNet *n, NvcNn *nn);
/* Parameter arena layout only (no allocation): for sizes and memory checks.
 * Fills *params (caller frees with nvc_arena_free) and *acts_floats
 * (activations of one frame, inference). */
int inr_net_layout(const InrArch *a, NvcArena *params, size_t *acts_floats);
/* out = net(in) for B <= bmax frames, with the parameters at `params` (a
 * buffer laid out as n->params: n->p or a quantised copy). in: HNeRV
 * embeddings (B, E, gh, gw), NeRV++ times (B). */
void inr_net_forward(InrNet *n, NvcNn *nn, const float *params, const float *in, int B);
/* From n->dout: accumulates into n->g and, when din is not NULL, din. */
void inr_net_backward(InrNet *n, NvcNn *nn, const float *params, const float *in, float *din, int B);
/* Floats of one frame's input (E gh gw, or 1). */
size_t inr_net_input_size(const InrArch *a);

/* The HNeRV ConvNeXt encoder: img (B, 3, H, W) -> embedding (B, E, gh, gw). */
typedef struct InrEncoder {
    InrArch a;
    int bmax;
    NvcArena params, acts;
    float *p, *g, *x, *dx;
    float *emb, *demb;     /* (bmax, E, gh, gw) inside x / dx */
    void *views;
} InrEncoder;

int inr_encoder_create(InrEncoder *e, NvcNn *nn, const InrArch *a, int bmax, uint64_t seed);
void inr_encoder_free(InrEncoder *e, NvcNn *nn);
void inr_encoder_forward(InrEncoder *e, NvcNn *nn, const float *img, int B);
/* From e->demb: accumulates into e->g. */
void inr_encoder_backward(InrEncoder *e, NvcNn *nn, const float *img, int B);

/* Model-specific parts (hnerv.c, nervpp.c). */
typedef struct InrModelImpl {
    size_t view_size; /* bytes of the views struct */
    void (*declare_params)(NvcArena *ar, void *views, int which, const InrArch *a);
    void (*declare_acts)(NvcArena *ar, void *views, int which, const InrArch *a, int B);
    void (*forward)(const InrArch *a, NvcNn *nn, const void *views, const float *in, int B);
    void (*backward)(const InrArch *a, NvcNn *nn, const void *views, const float *in, float *din, int B);
    float *(*out_of)(void *views, int which); /* the output activation of view set `which` */
} InrModelImpl;

/* View sets of a model: parameters in use, gradients, activations, their gradients. */
enum { INR_VIEW_P = 0, INR_VIEW_G = 1, INR_VIEW_X = 2, INR_VIEW_DX = 3 };

extern const InrModelImpl inr_hnerv_impl;
extern const InrModelImpl inr_nervpp_impl;

/* ConvNeXt encoder internals (hnerv.c). */
size_t inr_convnext_view_size(void);
void inr_convnext_params(NvcArena *ar, void *views, int which, const InrArch *a);
void inr_convnext_acts(NvcArena *ar, void *views, int which, const InrArch *a, int B);
void inr_convnext_forward(const InrArch *a, NvcNn *nn, const void *views, const float *img, int B);
void inr_convnext_backward(const InrArch *a, NvcNn *nn, const void *views, const float *img, int B);
float *inr_convnext_emb(void *views, int which, const InrArch *a);

/* ---- architecture choice (size.c) ----------------------------------------------------- */

/* Strides from {2, 3, 4, 5}, non-increasing, for a frame of w x h: small
 * padding, a grid of about `cells` cells; even product when even is set.
 * Fills a->nstrides, a->stride, a->grid_*. */
void inr_choose_strides(InrArch *a, int w, int h, double cells, int even);
/* "5,4,4,2,2" -> a->stride; grid from the frame size. 0 or NVC_ERR(EINVAL). */
int inr_parse_strides(InrArch *a, const char *s, int w, int h);
/* Parameters of the decoder (the coded weights). */
size_t inr_arch_params(const InrArch *a);
/* Widths for a parameter budget of the decoder (min_c0: smallest C0). */
void inr_size_arch(InrArch *a, double budget, int min_c0);
/* Parse a --size value: preset index (0..4) or a count. Returns 0 or EINVAL. */
int inr_parse_size(const char *s, int *preset, double *count);

/* ---- quantisation (quant.c) ------------------------------------------------------------ */

/* Symmetric per-tensor weight quantisation: q = round(w / step), |q| <= 2^(bits-1) - 1,
 * step = max |w| / (2^(bits-1) - 1); reconstruction step * q. */
float inr_weight_step(const float *w, size_t n, int bits);
void inr_quantize(const float *w, size_t n, float step, int bits, int32_t *q);
void inr_dequantize(const int32_t *q, size_t n, float step, float *w);

/* Embedding quantisation, per channel: q = round((e - min) / step) in 0 .. 2^bits - 1. */
typedef struct InrEmbQuant {
    int bits;
    int ch;
    uint16_t min_h[INR_EMB_CH], step_h[INR_EMB_CH]; /* IEEE half bits */
    float min[INR_EMB_CH], step[INR_EMB_CH];       /* their values */
} InrEmbQuant;

/* Per-channel ranges of frames embeddings (frames, ch, hw). */
void inr_emb_quant_fit(InrEmbQuant *eq, const float *emb, int frames, int ch, int hw, int bits);
void inr_emb_quantize(const InrEmbQuant *eq, const float *emb, int hw, int32_t *q);
void inr_emb_dequantize(const InrEmbQuant *eq, const int32_t *q, int hw, float *emb);

uint16_t inr_half_from_float(float f);
float inr_half_to_float(uint16_t h);

/* ---- stream payloads (stream.c) -------------------------------------------------------- */

/* The decoder's model: architecture, quantised weights, side info. */
typedef struct InrStream {
    InrArch a;
    uint32_t t_den;            /* NeRV++: t = index / t_den */
    int wbits;                 /* weight bits */
    int ntensors;
    float step[INR_MAX_TENSORS];
    int32_t *q;                /* every coded weight, arena order (numel each, no padding) */
    size_t nq;
    InrEmbQuant eq;            /* HNeRV */
    struct NvcCdfSet *emb_tab; /* HNeRV: the table of embedding symbols */
    int emb_tab_P;             /* its frequencies: emb_tab_nval values from emb_tab_offset, */
    int32_t emb_tab_offset;    /* emb_tab_P bits each (sum 2^emb_tab_P) */
    uint32_t emb_tab_nval;
    uint32_t emb_tab_f[256];
} InrStream;

void inr_stream_free(InrStream *s);
/* Serialise the configuration payload. */
int inr_stream_write_config(const InrStream *s, uint8_t **buf, size_t *sz, const NvcLogger *lg);
/* Parse a configuration payload (hostile input): NVC_ERR_CORRUPT,
 * NVC_ERR(ERANGE) beyond the limits (pixels of the padded frame, memory),
 * NVC_ERR(ENOMEM). w, h: the picture size of the configuration record. */
int inr_stream_parse_config(InrStream *s, enum InrKind kind, const uint8_t *buf, size_t sz, int w, int h,
                            int64_t max_pixels, int64_t max_memory, const NvcLogger *lg);
/* Build the embedding table from the symbols of every frame (encoder). */
int inr_stream_fit_emb_table(InrStream *s, const int32_t *q, size_t n);
/* HNeRV packet: the embedding symbols of one frame. */
int inr_stream_write_emb(const InrStream *s, const int32_t *q, uint8_t **buf, size_t *sz);
int inr_stream_read_emb(const InrStream *s, const uint8_t *buf, size_t sz, int32_t *q);
/* Fill the weights (arena order, padding zeroed) of a params buffer of the layout. */
int inr_stream_weights(const InrStream *s, const NvcArena *layout, float *host);

/* ---- training (train.c) ----------------------------------------------------------------- */

enum InrLossKind {
    INR_LOSS_L2 = 0,
    INR_LOSS_L1_MSSSIM = 1, /* 0.7 L1 + 0.3 (1 - MS-SSIM) (HiNeRV) */
};

/* The clip, as the encoder keeps it. */
typedef struct InrClip {
    NvcPictureParameters p;
    int rgb;                   /* planes are R, G, B (equal weights), else Y, Cb, Cr (6:1:1) */
    int frames;
    const NvcPicture *pic;     /* [frames] */
} InrClip;

typedef struct InrTrainConfig {
    int epochs, qat_epochs;
    int batch;
    float lr;
    float warmup;              /* fraction of the epochs */
    float beta1;
    enum InrLossKind loss;
    int wbits, ebits;
    uint64_t seed;
    double prune;              /* fraction of decoder weights set to zero before QAT */
    void (*progress)(void *cookie, const NvcEncodeProgress *p);
    void *progress_cookie;
    volatile int *cancel;
    NvcLogger logger;
} InrTrainConfig;

/* Train a network on the clip and quantise it: fills s (architecture copied
 * from a, weights, embedding tables) and, for HNeRV, emb_q (frames x E gh gw
 * symbols, allocated). NVC_ERR(EINTR) when cancelled. */
int inr_train(NvcNn *nn, const InrArch *a, const InrClip *clip, const InrTrainConfig *cfg, InrStream *s,
              int32_t **emb_q);

/* Convert frame `pic` into the network's planes (3, H, W) padded by edge
 * replication, chroma upsampled (nearest), samples / (2^bpc - 1). */
void inr_picture_to_planes(const NvcPicture *pic, float *dst, int H, int W);
/* Net output (3, H, W) -> picture (already allocated with the source's
 * parameters): crop, 2x2 mean of the chroma for 4:2:0, round and clip. */
void inr_planes_to_picture(const float *src, int H, int W, NvcPicture *pic);

#endif /* NVC_INR_INR_H */
