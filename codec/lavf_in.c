/*
 * Picture input through libavformat + libavcodec (NVC_FILE_FFMPEG): the
 * best video stream of any file FFmpeg decodes, as nvc pictures.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "codec/internal.h"
#include "codec/io_internal.h"
#include "codec/lav.h"

typedef struct LavIn {
    AVFormatContext *fc;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    NvcLavScaler scaler;
    int stream;
    enum AVPixelFormat target;  /* the nvc format frames become */
    int pending;                /* frame holds a decoded, unread picture */
    int demux_eof, warned_size, warned_damage;
} LavIn;

/* The decoder for a stream: FFmpeg's first, except AV1, whose built-in
 * decoder needs a hardware accelerator in FFmpeg 5.1: libdav1d. */
static const AVCodec *find_decoder(enum AVCodecID id)
{
    const AVCodec *c = NULL;
    if (id == AV_CODEC_ID_AV1)
        c = avcodec_find_decoder_by_name("libdav1d");
    return c ? c : avcodec_find_decoder(id);
}

/* Read and decode until a frame is in lv->frame (1), the end (0), or an
 * error. Damaged packets are skipped with one warning, as ffmpeg does. */
static int decode_next(NvcInput *in, LavIn *lv)
{
    char err[128];
    for (;;) {
        int ret = avcodec_receive_frame(lv->dec, lv->frame);
        if (ret >= 0)
            return 1;
        if (ret == AVERROR_EOF)
            return 0;
        if (ret != AVERROR(EAGAIN))
            return nvc_log_error(&in->s.logger, nvc_lav_error(ret), "%s: cannot decode: %s",
                                 in->path, nvc_lav_err_text(ret, err, sizeof(err)));
        if (lv->demux_eof)
            return 0;
        ret = av_read_frame(lv->fc, lv->pkt);
        if (ret == AVERROR_EOF) {
            lv->demux_eof = 1;
            avcodec_send_packet(lv->dec, NULL);
            continue;
        }
        if (ret < 0)
            return nvc_log_error(&in->s.logger, ret == AVERROR(EIO) ? NVC_ERR(EIO) : NVC_ERR_CORRUPT,
                                 "%s: cannot read: %s", in->path, nvc_lav_err_text(ret, err, sizeof(err)));
        if (lv->pkt->stream_index == lv->stream)
            ret = avcodec_send_packet(lv->dec, lv->pkt);
        av_packet_unref(lv->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN) && !lv->warned_damage++)
            nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: damaged data skipped (%s)", in->path,
                    nvc_lav_err_text(ret, err, sizeof(err)));
    }
}

static int open_decoder(NvcInput *in, LavIn *lv)
{
    const NvcLogger *lg = &in->s.logger;
    int ret = av_find_best_stream(lv->fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ret < 0)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "%s: no video stream", in->path);
    lv->stream = ret;
    for (unsigned i = 0; i < lv->fc->nb_streams; i++)
        if ((int)i != lv->stream)
            lv->fc->streams[i]->discard = AVDISCARD_ALL;
    AVStream *st = lv->fc->streams[lv->stream];
    if (st->codecpar->codec_tag == MKTAG('N', 'V', 'C', '1'))
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "%s: an nvc stream; decode it with nvdec first",
                             in->path);
    const AVCodec *codec = find_decoder(st->codecpar->codec_id);
    if (!codec)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "%s: this FFmpeg has no %s decoder", in->path,
                             avcodec_get_name(st->codecpar->codec_id));
    if (!(lv->dec = avcodec_alloc_context3(codec)))
        return NVC_ERR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(lv->dec, st->codecpar)) < 0)
        return NVC_ERR(ENOMEM);
    lv->dec->pkt_timebase = st->time_base;
    lv->dec->thread_count = 0; /* as ffmpeg: one per core (libavcodec's default is 1) */
    char err[128];
    if ((ret = avcodec_open2(lv->dec, codec, NULL)) < 0)
        return nvc_log_error(lg, nvc_lav_error(ret), "%s: cannot open the %s decoder: %s", in->path,
                             codec->name, nvc_lav_err_text(ret, err, sizeof(err)));
    return 0;
}

/* Containers with a clock in ms or ns (Matroska) return 59.94 fps as
 * 19020001/317330 and the like: take the integer or NTSC (N*1000/1001)
 * rate such a value stands for. */
static void snap_rate(int *num, int *den)
{
    const double r = (double)*num / *den;
    const double n = floor(r + 0.5), ntsc = floor(r * 1.001 + 0.5);
    if (n >= 1 && fabs(r - n) < 1e-4 * n) {
        *num = (int)n;
        *den = 1;
    } else if (ntsc >= 1 && ntsc <= 2000000 && fabs(r - ntsc / 1.001) < 1e-4 * r) {
        *num = (int)ntsc * 1000;
        *den = 1001;
    }
}

/* Stream properties from the first decoded frame (format, colour) and the
 * container (rate, aspect ratio, frame count). */
static int describe(NvcInput *in, LavIn *lv)
{
    NvcVideoInfo *info = &in->info;
    const AVFrame *f = lv->frame;
    AVStream *st = lv->fc->streams[lv->stream];
    const char *why;
    lv->target = nvc_lav_nearest_fmt((enum AVPixelFormat)f->format, &why);
    NvcPictureParameters p = { f->width, f->height, NVC_PIXEL_LAYOUT_I420, 8 };
    int rgb, full;
    if (lv->target == AV_PIX_FMT_NONE || nvc_lav_params_of(lv->target, &p, &rgb, &full) < 0)
        return nvc_log_error(&in->s.logger, NVC_ERR(ENOTSUP), "%s: unsupported pixel format %s",
                             in->path, av_get_pix_fmt_name((enum AVPixelFormat)f->format));
    if (why)
        nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: %s read as %s: %s is lost", in->path,
                av_get_pix_fmt_name((enum AVPixelFormat)f->format), av_get_pix_fmt_name(lv->target), why);
    info->p = p;
    nvc_lav_color_from_frame(&info->color, f, rgb, full);
    AVRational fr = av_guess_frame_rate(lv->fc, st, NULL);
    if (in->s.fps_num > 0 && in->s.fps_den > 0) {
        info->fps_num = in->s.fps_num;
        info->fps_den = in->s.fps_den;
    } else if (fr.num > 0 && fr.den > 0) {
        av_reduce(&info->fps_num, &info->fps_den, fr.num, fr.den, INT32_MAX);
        snap_rate(&info->fps_num, &info->fps_den);
    } else {
        nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: no frame rate; using 25 fps", in->path);
        info->fps_num = 25;
        info->fps_den = 1;
    }
    AVRational sar = av_guess_sample_aspect_ratio(lv->fc, st, lv->frame);
    if (sar.num > 0 && sar.den > 0)
        av_reduce(&info->sar_num, &info->sar_den, sar.num, sar.den, INT32_MAX);
    /* Containers' frame counts are not what decodes (MP4 edit lists,
     * damaged data): an encoder must not announce them in a stream. */
    info->nb_frames = -1;
    return 0;
}

int nvc_lavf_input_open(NvcInput *in)
{
    const NvcLogger *lg = &in->s.logger;
    LavIn *lv = calloc(1, sizeof(*lv));
    if (!lv)
        return NVC_ERR(ENOMEM);
    in->lav = lv;
    if (!(lv->pkt = av_packet_alloc()) || !(lv->frame = av_frame_alloc()))
        return NVC_ERR(ENOMEM);
    /* file: keeps names with ':' plain files (and no network protocol is
     * ever reached from a path). */
    size_t n = strlen(in->path) + 8;
    char *url = malloc(n);
    if (!url)
        return NVC_ERR(ENOMEM);
    if (!strcmp(in->path, "-"))
        snprintf(url, n, "pipe:0");
    else
        snprintf(url, n, "file:%s", in->path);
    char err[128];
    int ret = avformat_open_input(&lv->fc, url, NULL, NULL);
    free(url);
    if (ret < 0) {
        int e = ret == AVERROR(ENOENT) || ret == AVERROR(EACCES) || ret == AVERROR(EISDIR) ? ret
                : ret == AVERROR(ENOMEM) ? NVC_ERR(ENOMEM) : NVC_ERR_CORRUPT;
        return nvc_log_error(lg, e, "%s: %s", in->path,
                             e == NVC_ERR_CORRUPT ? "not a picture or video file FFmpeg can read"
                                                  : nvc_lav_err_text(ret, err, sizeof(err)));
    }
    if ((ret = avformat_find_stream_info(lv->fc, NULL)) < 0)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "%s: cannot find the streams: %s", in->path,
                             nvc_lav_err_text(ret, err, sizeof(err)));
    if ((ret = open_decoder(in, lv)) < 0)
        return ret;
    if ((ret = decode_next(in, lv)) <= 0)
        return ret < 0 ? ret : nvc_log_error(lg, NVC_ERR_CORRUPT, "%s: no picture decodes", in->path);
    lv->pending = 1;
    return describe(in, lv);
}

int nvc_lavf_input_read(NvcInput *in, NvcPicture *pic)
{
    LavIn *lv = in->lav;
    int ret = lv->pending ? 1 : decode_next(in, lv);
    lv->pending = 0;
    if (ret <= 0)
        return ret;
    AVFrame *f = lv->frame, *conv = NULL;
    const NvcPictureParameters *p = &in->info.p;
    if (f->width != p->w || f->height != p->h) {
        if (!lv->warned_size++)
            nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: frame %lld is %dx%d; scaled to %dx%d",
                    in->path, (long long)in->index, f->width, f->height, p->w, p->h);
    }
    if (f->format != lv->target || f->width != p->w || f->height != p->h) {
        ret = nvc_lav_scale(&lv->scaler, f, lv->target, p->w, p->h, &conv);
        if (ret < 0) {
            av_frame_unref(f);
            return nvc_log_error(&in->s.logger, ret, "%s: cannot convert frame %lld", in->path,
                                 (long long)in->index);
        }
        f = conv;
    }
    ret = nvc_lav_picture_from_frame(pic, f);
    av_frame_free(&conv);
    av_frame_unref(lv->frame);
    if (ret < 0)
        return ret;
    pic->pts = in->index++;
    return 1;
}

int nvc_lavf_input_skip(NvcInput *in, int64_t n)
{
    LavIn *lv = in->lav;
    for (int64_t i = 0; i < n; i++) {
        int ret = lv->pending ? 1 : decode_next(in, lv);
        lv->pending = 0;
        av_frame_unref(lv->frame);
        if (ret <= 0)
            return ret;
        in->index++;
    }
    return 0;
}

void nvc_lavf_input_close(NvcInput *in)
{
    LavIn *lv = in->lav;
    if (!lv)
        return;
    avcodec_free_context(&lv->dec);
    avformat_close_input(&lv->fc);
    av_packet_free(&lv->pkt);
    av_frame_free(&lv->frame);
    nvc_lav_scaler_free(&lv->scaler);
    free(lv);
    in->lav = NULL;
}
