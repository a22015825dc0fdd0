/*
 * nvc-rd: x264, x265 and SVT-AV1 in-process through libavcodec.
 *
 * Encode: the clip's pictures -> encoder -> filter_units bitstream filter
 * (x264's encoder-information SEI and any other SEI removed; AV1 metadata
 * and padding OBUs removed) -> packets kept in memory. The rate is the sum
 * of the filtered packets: the Annex B (H.264/HEVC) or low-overhead OBU
 * (AV1, temporal delimiters included) stream exactly as it is decoded.
 * Decode: FFmpeg's h264 and hevc decoders, libdav1d for AV1, once for the
 * time and once more for the measurement against the source.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>

#include "codec/lav_map.h"
#include "tools/rd/rd.h"

typedef struct LavcCodec {
    const char *name, *encoder, *decoder;
    const char *ext, *container;
    const char *remove;  /* filter_units remove_types */
} LavcCodec;

static const LavcCodec lavc_codecs[] = {
    { "x264", "libx264", "h264", "264", "annexb", "6" },          /* SEI */
    { "x265", "libx265", "hevc", "265", "annexb", "39|40" },      /* prefix/suffix SEI */
    { "svtav1", "libsvtav1", "libdav1d", "obu", "obu", "5|15" },  /* metadata, padding */
};

struct RdStream {
    const LavcCodec *lc;
    AVPacket **pkt;
    int n, cap;
    int64_t bytes;
};

static const LavcCodec *find_lavc(const RdCodec *codec)
{
    for (size_t i = 0; i < sizeof(lavc_codecs) / sizeof(lavc_codecs[0]); i++)
        if (!strcmp(lavc_codecs[i].name, codec->name))
            return &lavc_codecs[i];
    return NULL;
}

int rd_lavc_init(int verbose)
{
    av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_ERROR);
    /* SVT-AV1 prints its banner and settings on stderr unless told not to. */
    setenv("SVT_LOG", verbose ? "2" : "1", 0);
    return 0;
}

const char *rd_lavc_version(void)
{
    static char buf[64];
    const unsigned v = avcodec_version();
    snprintf(buf, sizeof(buf), "libavcodec %u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    return buf;
}

const char *rd_lavc_extension(const RdCodec *codec)
{
    const LavcCodec *lc = find_lavc(codec);
    return lc ? lc->ext : "bin";
}

int rd_lavc_available(const RdCodec *codec, char *why, size_t whysz)
{
    const LavcCodec *lc = find_lavc(codec);
    if (!lc) {
        snprintf(why, whysz, "not a libavcodec codec");
        return 0;
    }
    if (!avcodec_find_encoder_by_name(lc->encoder)) {
        snprintf(why, whysz, "this libavcodec has no %s encoder", lc->encoder);
        return 0;
    }
    if (!avcodec_find_decoder_by_name(lc->decoder)) {
        snprintf(why, whysz, "this libavcodec has no %s decoder", lc->decoder);
        return 0;
    }
    if (!av_bsf_get_by_name("filter_units")) {
        snprintf(why, whysz, "this libavcodec has no filter_units bitstream filter");
        return 0;
    }
    return 1;
}

static void av_error(char *err, size_t errsz, const char *what, int ret)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(ret, msg, sizeof(msg));
    snprintf(err, errsz, "%s: %s", what, msg);
}

static int supports(const AVCodec *codec, enum AVPixelFormat fmt)
{
    if (!codec->pix_fmts)
        return 1;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == fmt)
            return 1;
    return 0;
}

/* Options of the job's encoder; the same configuration rd_job_setting
 * describes (thread counts are not part of that description). */
static void encoder_options(const RdJob *job, AVCodecContext *c, AVDictionary **d)
{
    const int ld = job->gop == RD_GOP_LD, k = rd_job_keyint(job), t = job->opt->threads;
    const char *name = job->codec->name;
    char params[256];
    av_dict_set(d, job->knob, job->value, 0);
    if (!strcmp(name, "x264")) {
        /* cpu-independent: x264 0.164's AVX-512 code makes its output depend
         * on memory other encoders of this process left behind (the same
         * point measured 37174, 37241 and 37432 bytes); with it every point
         * has the bits of x264's C code on any CPU, at no measurable cost. */
        av_dict_set(d, "preset", "medium", 0);
        snprintf(params, sizeof(params), "keyint=%d:scenecut=0:cpu-independent=1%s", k,
                 ld ? ":bframes=0" : "");
        av_dict_set(d, "x264-params", params, 0);
        c->thread_count = t;
    } else if (!strcmp(name, "x265")) {
        av_dict_set(d, "preset", "medium", 0);
        snprintf(params, sizeof(params),
                 "keyint=%d:min-keyint=%d:scenecut=0:info=0:log-level=%s:pools=%d%s", k, k,
                 job->opt->verbose ? "warning" : "error", t, ld ? ":bframes=0" : "");
        av_dict_set(d, "x265-params", params, 0);
    } else {
        av_dict_set(d, "preset", "8", 0);
        c->gop_size = k; /* intra period gop_size - 1: one key frame */
        snprintf(params, sizeof(params), "scd=0:lp=%d%s", t, ld ? ":pred-struct=1" : "");
        av_dict_set(d, "svtav1-params", params, 0);
    }
}

static int open_encoder(RdJob *job, const LavcCodec *lc, const NvcVideoInfo *info,
                        AVCodecContext **pc, char *err, size_t errsz)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(lc->encoder);
    const enum AVPixelFormat fmt = nvc_lav_pix_fmt(&info->p, 0);
    if (!codec || fmt == AV_PIX_FMT_NONE || !supports(codec, fmt)) {
        snprintf(err, errsz, "%s cannot code %d-bit %s pictures", lc->encoder, info->p.bpc,
                 info->p.layout == NVC_PIXEL_LAYOUT_I420   ? "4:2:0"
                 : info->p.layout == NVC_PIXEL_LAYOUT_I444 ? "4:4:4"
                                                           : "gray");
        return NVC_ERR(ENOTSUP);
    }
    AVCodecContext *c = *pc = avcodec_alloc_context3(codec);
    if (!c)
        return NVC_ERR(ENOMEM);
    c->width = info->p.w;
    c->height = info->p.h;
    c->pix_fmt = fmt;
    c->time_base = (AVRational){ info->fps_den, info->fps_num };
    c->framerate = (AVRational){ info->fps_num, info->fps_den };
    c->sample_aspect_ratio = (AVRational){ info->sar_num, info->sar_den };
    /* nvc's colour code points are H.273's, as FFmpeg's. */
    c->colorspace = (enum AVColorSpace)info->color.matrix;
    c->color_primaries = (enum AVColorPrimaries)info->color.primaries;
    c->color_trc = (enum AVColorTransferCharacteristic)info->color.transfer;
    c->color_range = info->color.range == NVC_RANGE_FULL ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    c->chroma_sample_location = (enum AVChromaLocation)info->color.chroma_location;
    AVDictionary *d = NULL;
    encoder_options(job, c, &d);
    int ret = avcodec_open2(c, codec, &d);
    if (ret < 0) {
        av_error(err, errsz, lc->encoder, ret);
    } else if (av_dict_count(d)) {
        snprintf(err, errsz, "%s: option '%s' not recognised", lc->encoder,
                 av_dict_get(d, "", NULL, AV_DICT_IGNORE_SUFFIX)->key);
        ret = NVC_ERR(EINVAL);
    }
    av_dict_free(&d);
    return ret < 0 ? NVC_ERR(EINVAL) : 0;
}

static int open_filter(const LavcCodec *lc, const AVCodecContext *c, AVBSFContext **pb, char *err,
                       size_t errsz)
{
    const AVBitStreamFilter *f = av_bsf_get_by_name("filter_units");
    int ret = f ? av_bsf_alloc(f, pb) : AVERROR_BSF_NOT_FOUND;
    if (ret >= 0)
        ret = avcodec_parameters_from_context((*pb)->par_in, c);
    if (ret >= 0) {
        (*pb)->time_base_in = c->time_base;
        ret = av_opt_set((*pb)->priv_data, "remove_types", lc->remove, 0);
    }
    if (ret >= 0)
        ret = av_bsf_init(*pb);
    if (ret < 0)
        av_error(err, errsz, "filter_units", ret);
    return ret < 0 ? NVC_ERR(EINVAL) : 0;
}

static int stream_append(RdStream *s, AVPacket *pkt)
{
    if (s->n == s->cap) {
        const int cap = s->cap ? 2 * s->cap : 64;
        AVPacket **p = realloc(s->pkt, cap * sizeof(*p));
        if (!p)
            return NVC_ERR(ENOMEM);
        s->pkt = p;
        s->cap = cap;
    }
    AVPacket *copy = av_packet_alloc();
    if (!copy)
        return NVC_ERR(ENOMEM);
    av_packet_move_ref(copy, pkt);
    s->bytes += copy->size;
    s->pkt[s->n++] = copy;
    return 0;
}

/* Move everything the encoder has ready through the filter into s. */
static int drain_encoder(AVCodecContext *c, AVBSFContext *bsf, AVPacket *pkt, RdStream *s,
                         int64_t *raw_bytes, int flush, char *err, size_t errsz)
{
    int ret;
    while ((ret = avcodec_receive_packet(c, pkt)) >= 0) {
        *raw_bytes += pkt->size;
        if ((ret = av_bsf_send_packet(bsf, pkt)) < 0)
            break;
        while ((ret = av_bsf_receive_packet(bsf, pkt)) >= 0)
            if ((ret = stream_append(s, pkt)) < 0)
                return ret;
        if (ret != AVERROR(EAGAIN))
            break;
    }
    if (ret == AVERROR_EOF && flush) {
        ret = av_bsf_send_packet(bsf, NULL);
        while (ret >= 0 && (ret = av_bsf_receive_packet(bsf, pkt)) >= 0)
            if ((ret = stream_append(s, pkt)) < 0)
                return ret;
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    if (ret < 0)
        av_error(err, errsz, "encoding", ret);
    return ret < 0 ? NVC_ERR(EIO) : 0;
}

static int fill_frame(AVFrame *f, const NvcPicture *pic)
{
    int ret = av_frame_make_writable(f);
    if (ret < 0)
        return ret;
    const int bytes = pic->p.bpc > 8 ? 2 : 1;
    for (int i = 0; i < nvc_picture_planes(pic->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&pic->p, i, &w, &h);
        av_image_copy_plane(f->data[i], f->linesize[i], pic->data[i], (int)pic->stride[i],
                            w * bytes, h);
    }
    return 0;
}

/* Feed the clip to the open encoder; the filtered stream goes to s. */
static int encode_loop(RdJob *job, AVCodecContext *c, AVBSFContext *bsf, RdStream *s,
                       int64_t *raw_bytes, double *seconds, char *err, size_t errsz)
{
    RdSource src;
    int ret = rd_source_open(&src, job->clip, RD_SOURCE_YUV, err, errsz);
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    if (ret >= 0 && (!f || !pkt))
        ret = NVC_ERR(ENOMEM);
    if (ret >= 0) {
        f->format = c->pix_fmt;
        f->width = c->width;
        f->height = c->height;
        if (av_frame_get_buffer(f, 0) < 0)
            ret = NVC_ERR(ENOMEM);
        for (int i = 0; ret >= 0 && i < AV_NUM_DATA_POINTERS && f->buf[i]; i++)
            memset(f->buf[i]->data, 0, f->buf[i]->size);
    }
    double reading = 0;
    const double t0 = rd_now();
    while (ret >= 0) {
        NvcPicture pic;
        const double r0 = rd_now();
        ret = rd_source_read(&src, &pic, err, errsz);
        const int end = ret == 0;
        if (ret > 0) {
            ret = fill_frame(f, &pic) < 0 ? NVC_ERR(ENOMEM) : 0;
            f->pts = pic.pts;
            nvc_picture_unref(&pic);
        }
        reading += rd_now() - r0;
        if (ret < 0 || rd_cancelled(job))
            break;
        const int sret = avcodec_send_frame(c, end ? NULL : f);
        if (sret < 0) {
            av_error(err, errsz, "encoding", sret);
            ret = NVC_ERR(EIO);
            break;
        }
        ret = drain_encoder(c, bsf, pkt, s, raw_bytes, end, err, errsz);
        if (end || ret < 0)
            break;
        atomic_fetch_add(&job->frames_done, 1);
    }
    *seconds = rd_now() - t0 - reading;
    if (ret >= 0 && rd_cancelled(job)) {
        snprintf(err, errsz, "interrupted");
        ret = NVC_ERR(EINTR);
    }
    av_packet_free(&pkt);
    av_frame_free(&f);
    rd_source_close(&src);
    return ret;
}

int rd_lavc_encode(RdJob *job, RdPoint *pt, RdStream **out, char *err, size_t errsz)
{
    *out = NULL;
    const LavcCodec *lc = find_lavc(job->codec);
    if (!lc) {
        snprintf(err, errsz, "%s is not a libavcodec codec", job->codec->name);
        return NVC_ERR(EINVAL);
    }
    NvcVideoInfo info;
    rd_source_info(job->clip, RD_SOURCE_YUV, &info);
    AVCodecContext *c = NULL;
    AVBSFContext *bsf = NULL;
    RdStream *s = calloc(1, sizeof(*s));
    int ret = s ? 0 : NVC_ERR(ENOMEM);
    if (ret >= 0)
        ret = open_encoder(job, lc, &info, &c, err, errsz);
    if (ret >= 0)
        ret = open_filter(lc, c, &bsf, err, errsz);
    int64_t raw = 0;
    double seconds = 0;
    atomic_store(&job->stage, RD_STAGE_ENCODE);
    atomic_store(&job->frames_done, 0);
    if (ret >= 0)
        ret = encode_loop(job, c, bsf, s, &raw, &seconds, err, errsz);
    if (ret >= 0 && !s->bytes) {
        snprintf(err, errsz, "%s produced no bytes", lc->encoder);
        ret = NVC_ERR(EIO);
    }
    av_bsf_free(&bsf);
    avcodec_free_context(&c);
    if (ret < 0) {
        rd_lavc_free(&s);
        return ret;
    }
    s->lc = lc;
    pt->bytes = s->bytes;
    pt->removed_bytes = raw - s->bytes;
    pt->bpp = (double)s->bytes * 8 / ((double)pt->frames * pt->w * pt->h);
    pt->enc_s = seconds;
    snprintf(pt->container, sizeof(pt->container), "%s", lc->container);
    *out = s;
    return 0;
}

static int open_decoder(const RdJob *job, const LavcCodec *lc, AVCodecContext **pc, char *err,
                        size_t errsz)
{
    const AVCodec *codec = avcodec_find_decoder_by_name(lc->decoder);
    AVCodecContext *c = *pc = codec ? avcodec_alloc_context3(codec) : NULL;
    if (!c) {
        snprintf(err, errsz, "no %s decoder", lc->decoder);
        return NVC_ERR(ENOTSUP);
    }
    c->thread_count = job->opt->threads;
    int ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) {
        av_error(err, errsz, lc->decoder, ret);
        return NVC_ERR(EINVAL);
    }
    return 0;
}

/* What the decode loop does with each frame. */
typedef struct DecodeSink {
    RdMeasure *m;           /* NULL: timing pass, frames dropped */
    RdPoint *pt;
    int counts[8];          /* per AVPictureType */
    int64_t frames;
} DecodeSink;

static int sink_frame(DecodeSink *k, const AVFrame *f, const RdJob *job, char *err, size_t errsz)
{
    k->frames++;
    if (!k->m)
        return 0;
    k->counts[(unsigned)f->pict_type < 8 ? f->pict_type : 0]++;
    k->pt->key_frames += !!f->key_frame;
    NvcPicture pic;
    memset(&pic, 0, sizeof(pic));
    pic.p.w = f->width;
    pic.p.h = f->height;
    int rgb, full;
    if (nvc_lav_params_of((enum AVPixelFormat)f->format, &pic.p, &rgb, &full) < 0 || rgb) {
        snprintf(err, errsz, "%s returned an unexpected pixel format", job->codec->name);
        return NVC_ERR(EINVAL);
    }
    for (int i = 0; i < 3; i++) {
        pic.data[i] = f->data[i];
        pic.stride[i] = f->linesize[i];
    }
    nvc_color_description_default(&pic.color);
    pic.pts = k->frames - 1;
    return rd_measure_frame(k->m, &pic, err, errsz);
}

/* Fetch every frame the decoder has ready; *t accumulates decoder time. */
static int receive_all(const RdJob *job, AVCodecContext *c, AVFrame *f, DecodeSink *k, double *t,
                       char *err, size_t errsz)
{
    for (;;) {
        const double t0 = rd_now();
        int r = avcodec_receive_frame(c, f);
        *t += rd_now() - t0;
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0) {
            av_error(err, errsz, job->codec->name, r);
            return NVC_ERR_CORRUPT;
        }
        r = sink_frame(k, f, job, err, errsz);
        av_frame_unref(f);
        if (r < 0)
            return r;
    }
}

/* One pass over the stream; *seconds: time inside the decoder calls. */
static int decode_pass(const RdJob *job, const RdStream *s, DecodeSink *k, double *seconds,
                       char *err, size_t errsz)
{
    AVCodecContext *c = NULL;
    AVFrame *f = av_frame_alloc();
    int ret = f ? open_decoder(job, s->lc, &c, err, errsz) : NVC_ERR(ENOMEM);
    double t = 0;
    for (int i = 0; ret >= 0 && i <= s->n; i++) {
        if (rd_cancelled(job)) {
            snprintf(err, errsz, "interrupted");
            ret = NVC_ERR(EINTR);
            break;
        }
        int r;
        for (;;) {
            const double t0 = rd_now();
            r = avcodec_send_packet(c, i < s->n ? s->pkt[i] : NULL);
            t += rd_now() - t0;
            if (r != AVERROR(EAGAIN))
                break;
            if ((ret = receive_all(job, c, f, k, &t, err, errsz)) < 0)
                break;
        }
        if (ret < 0)
            break;
        if (r < 0 && r != AVERROR_EOF) {
            av_error(err, errsz, job->codec->name, r);
            ret = NVC_ERR_CORRUPT;
            break;
        }
        ret = receive_all(job, c, f, k, &t, err, errsz);
    }
    *seconds = t;
    av_frame_free(&f);
    avcodec_free_context(&c);
    return ret;
}

static void frame_types(const DecodeSink *k, char *buf, size_t size)
{
    static const char letters[8] = "?IPBSisb"; /* AVPictureType order */
    size_t n = 0;
    buf[0] = 0;
    for (int t = 1; t < 8; t++)
        if (k->counts[t] && n < size)
            n += snprintf(buf + n, size - n, "%c%d", letters[t], k->counts[t]);
    if (k->counts[0] && n < size)
        snprintf(buf + n, size - n, "?%d", k->counts[0]);
}

int rd_lavc_decode(RdJob *job, const RdStream *s, RdPoint *pt, char *err, size_t errsz)
{
    /* Timing pass first: with frame threads the decoder works while the
     * caller measures, so a measuring pass would hide part of its time. */
    DecodeSink timing = { 0 };
    atomic_store(&job->stage, RD_STAGE_DECODE);
    int ret = decode_pass(job, s, &timing, &pt->dec_s, err, errsz);
    if (ret < 0)
        return ret;
    RdMeasure m;
    atomic_store(&job->stage, RD_STAGE_MEASURE);
    ret = rd_measure_open(&m, job->clip, err, errsz);
    if (ret < 0)
        return ret;
    DecodeSink k = { .m = &m, .pt = pt };
    double unused;
    pt->key_frames = 0;
    ret = decode_pass(job, s, &k, &unused, err, errsz);
    if (ret >= 0)
        ret = rd_measure_finish(&m, pt, err, errsz);
    rd_measure_close(&m);
    if (ret >= 0)
        frame_types(&k, pt->frame_types, sizeof(pt->frame_types));
    return ret;
}

int rd_lavc_write(const RdStream *s, const char *path, char *err, size_t errsz)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
        return NVC_ERR(EIO);
    }
    int ok = 1;
    for (int i = 0; i < s->n; i++)
        ok &= fwrite(s->pkt[i]->data, 1, s->pkt[i]->size, f) == (size_t)s->pkt[i]->size;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return NVC_ERR(EIO);
    }
    return 0;
}

void rd_lavc_free(RdStream **ps)
{
    RdStream *s = *ps;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        av_packet_free(&s->pkt[i]);
    free(s->pkt);
    free(s);
    *ps = NULL;
}
