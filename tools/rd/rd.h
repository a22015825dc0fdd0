/*
 * nvc-rd internals: clips, rate points, the coded-stream runners (classic
 * codecs through libavcodec, nvc codecs through the nvc API), measurement,
 * results files and reports.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_RD_H
#define NVC_TOOLS_RD_RD_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include "nvc/codec.h"
#include "nvc/io.h"
#include "nvc/metrics.h"

#define RD_MAX_POINTS 64   /* rate points per curve */
#define RD_NAME_MAX 128    /* clip labels, codec names */
#define RD_SETTING_MAX 512 /* encoder setting strings */

/* ---- clips ------------------------------------------------------------ */

typedef struct RdClip {
    char *path;
    char label[RD_NAME_MAX];  /* name in tables and file names */
    NvcInputSettings in;      /* how to open it (raw .yuv size, fps) */
    NvcVideoInfo info;        /* as opened */
    int64_t frames;           /* frames coded: min(file, --frames) */
    int image;                /* an RGB picture (PNG): encoders get YCbCr, PSNR-RGB is primary */
    /* What the classic encoders get for an image: YCbCr at this layout
     * (BT.601 full range, the JPEG convention). Video: the source itself. */
    NvcPictureParameters yuv_p;
    NvcColorDescription yuv_color;
} RdClip;

/* ---- codecs ----------------------------------------------------------- */

enum RdCodecKind {
    RD_KIND_LAVC = 0, /* x264, x265, SVT-AV1 through libavcodec */
    RD_KIND_NVC = 1,  /* nvc codecs through nvc/codec.h */
};

enum RdGop {
    RD_GOP_RA = 0,    /* one intra frame, the encoder's default B-frame / hierarchy */
    RD_GOP_LD = 1,    /* one intra frame, no reordering (IPPP) */
};

typedef struct RdCodec {
    const char *name;        /* "x264", "hnerv" */
    enum RdCodecKind kind;
    enum NvcCodecId nvc_id;  /* RD_KIND_NVC */
    const char *knob;        /* default rate knob: "crf", "size", "q" */
    int qmin, qmax;          /* integer knob range (crf/qp/q) */
    double guess_q, guess_bpp; /* automatic search: where to place the first probe */
    const char *default_values; /* nvc codecs: the values swept by default */
    double cost;             /* rough relative encode cost per pixel (ETA before measurements) */
} RdCodec;

/* The table of known codecs (NULL-name terminated). */
extern const RdCodec rd_codecs[];
const RdCodec *rd_codec_find(const char *name);

/* ---- options shared by the runners ------------------------------------- */

typedef struct RdOptions {
    int threads;             /* per point (encoder and decoder) */
    const char *stream_dir;  /* where coded files go (kept with keep_streams) */
    int keep_streams;
    int rc_qp;               /* classic codecs: QP instead of CRF */
    int image_chroma444;     /* images: 4:4:4 YCbCr for the classic codecs instead of 4:2:0 */
    enum NvcContainerFormat container; /* for nvc codecs */
    enum NvcDevice device;
    int epochs, qat_epochs, qbits; /* INR training (0 / -1: codec defaults) */
    uint64_t seed;
    int adaptive_intra;      /* dcvc: NvcEncoderSettings.adaptive_intra (default 1) */
    int verbose;
} RdOptions;

/* ---- one rate point ---------------------------------------------------- */

/* A point to code and measure. */
typedef struct RdJob {
    const RdClip *clip;
    const RdCodec *codec;
    enum RdGop gop;
    char knob[16];           /* "crf", "qp", "size", "q" */
    char value[32];          /* "32", "m", "1.5M" */
    double target_bpp;       /* automatic search target, NaN otherwise */
    const RdOptions *opt;
    volatile int *cancel;    /* non-zero: stop soon with NVC_ERR(EINTR) */
    /* Progress, read by the display thread. */
    _Atomic int64_t frames_done; /* pictures given to the encoder */
    _Atomic int stage;       /* RD_STAGE_* */
    pthread_mutex_t *lock;   /* guards inr */
    NvcEncodeProgress inr;   /* last INR training report (has_inr) */
    char inr_stage[16];
    int has_inr;
} RdJob;

enum RdStage {
    RD_STAGE_ENCODE = 0,
    RD_STAGE_DECODE = 1,
    RD_STAGE_MEASURE = 2,
};

static inline int rd_cancelled(const RdJob *job)
{
    return job->cancel && *job->cancel;
}

/* Everything measured for one point: a CSV row. */
typedef struct RdPoint {
    char clip[RD_NAME_MAX];
    char codec[RD_NAME_MAX];
    char gop[8];
    char knob[16];
    char value[32];
    int64_t frames;
    int w, h;
    char container[16];      /* annexb, obu, matroska, elementary */
    int64_t bytes;           /* the coded stream or file: the rate */
    int64_t removed_bytes;   /* SEI / metadata units removed before counting (classic codecs) */
    double bpp;              /* bytes * 8 / (frames * w * h) */
    double target_bpp;
    double psnr_y, psnr_u, psnr_v, psnr_yuv, psnr_rgb; /* means of per-frame values */
    double psnr_y_pooled, psnr_yuv_pooled;             /* PSNR of the mean MSE */
    double msssim_y, msssim_yuv, msssim_rgb;
    double enc_s, dec_s;     /* wall seconds inside the encoder / decoder calls */
    int threads;
    int key_frames;
    char frame_types[32];    /* "I1P2B6"; "-" when unknown */
    char setting[RD_SETTING_MAX]; /* full encoder configuration (without thread counts) */
} RdPoint;

void rd_point_init(RdPoint *pt, const RdJob *job);

/* Identity of a point in results files: clip, codec, frames and setting. */
void rd_point_key(const RdPoint *pt, char *key, size_t size);

/* The encoder configuration of a job (without thread counts): the setting
 * column, part of the point's identity. */
void rd_job_setting(const RdJob *job, char *buf, size_t size);

/* Keyframe interval the classic codecs get (the clip's frame count). */
int rd_job_keyint(const RdJob *job);

/* ---- sources and measurement (measure.c) ------------------------------- */

enum RdSourceKind {
    RD_SOURCE_YUV = 0,    /* what classic encoders get (images converted to YCbCr) */
    RD_SOURCE_NATIVE = 1, /* the file as read (RGB for PNG) */
};

typedef struct RdSource {
    NvcInput *in;
    const RdClip *clip;
    enum RdSourceKind kind;
    int64_t read;
} RdSource;

int rd_source_open(RdSource *src, const RdClip *clip, enum RdSourceKind kind, char *err,
                   size_t errsz);
/* The next picture (new reference): 1, 0 after clip->frames, or < 0. */
int rd_source_read(RdSource *src, NvcPicture *pic, char *err, size_t errsz);
void rd_source_close(RdSource *src);

/* Video info of what a source kind delivers. */
void rd_source_info(const RdClip *clip, enum RdSourceKind kind, NvcVideoInfo *info);

typedef struct RdMeasure {
    RdSource ref;            /* the clip re-read in step with the decoder */
    NvcMetricsAccum acc;
    int64_t frames;
} RdMeasure;

int rd_measure_open(RdMeasure *m, const RdClip *clip, char *err, size_t errsz);
/* Compare the next decoded picture with the next source picture. */
int rd_measure_frame(RdMeasure *m, const NvcPicture *decoded, char *err, size_t errsz);
/* Check the frame count and store the sequence figures in pt. */
int rd_measure_finish(RdMeasure *m, RdPoint *pt, char *err, size_t errsz);
void rd_measure_close(RdMeasure *m);

/* Monotonic seconds. */
double rd_now(void);

/* Create directory path and its parents. Returns 0 or -errno. */
int rd_mkdir_p(const char *path);

/* ---- classic codecs (lavc.c, FFmpeg builds) ----------------------------- */

typedef struct RdStream RdStream;

int rd_lavc_init(int verbose);
/* 1 when the codec's encoder and decoder are in this libavcodec. */
int rd_lavc_available(const RdCodec *codec, char *why, size_t whysz);
/* Encode the job's clip: the coded stream in *out, bytes / removed_bytes /
 * enc_s / threads / setting / container in pt. */
int rd_lavc_encode(RdJob *job, RdPoint *pt, RdStream **out, char *err, size_t errsz);
/* Decode *s, measure against the source: quality, dec_s, frame types. */
int rd_lavc_decode(RdJob *job, const RdStream *s, RdPoint *pt, char *err, size_t errsz);
/* Write the stream as it was counted (with keep_streams). */
int rd_lavc_write(const RdStream *s, const char *path, char *err, size_t errsz);
const char *rd_lavc_extension(const RdCodec *codec);
void rd_lavc_free(RdStream **s);
/* Library versions for the report ("libavcodec 59.37.100"). */
const char *rd_lavc_version(void);

/* ---- nvc codecs (nvcodec.c) --------------------------------------------- */

/* 1 when nvc_encoder_open accepts the codec (0: NVC_ERR(ENOTSUP), not in
 * this build). */
int rd_nvc_available(const RdCodec *codec);
/* Encode -> container file -> its size -> demux -> decode -> metrics. */
int rd_nvc_run(RdJob *job, RdPoint *pt, volatile int *cancel, char *err, size_t errsz);

#endif /* NVC_TOOLS_RD_RD_H */
