/*
 * Picture output through libavcodec + libavformat (NVC_FILE_FFMPEG):
 * pictures -> (libswscale when the encoder wants another pixel format) ->
 * encoder -> muxer -> the output's temporary file, renamed on commit.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "codec/internal.h"
#include "codec/io_internal.h"
#include "codec/lav.h"

#define IO_BUFFER_SIZE (64 * 1024)

#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define AVIO_WRITE_CONST const
#else
#define AVIO_WRITE_CONST
#endif

typedef struct LavOut {
    AVFormatContext *fc;
    AVIOContext *pb;
    AVCodecContext *enc;
    AVStream *st;
    AVPacket *pkt;
    NvcLavScaler scaler;
    enum AVPixelFormat src_fmt;
    int64_t first_pts, last_pts;
    int header_written;
} LavOut;

int nvc_lavf_output_known(const char *path)
{
    return av_guess_format(NULL, path, NULL) != NULL;
}

static int write_cb(void *opaque, AVIO_WRITE_CONST uint8_t *buf, int size)
{
    FILE *f = opaque;
    return fwrite(buf, 1, (size_t)size, f) == (size_t)size ? size : AVERROR(EIO);
}

static int64_t seek_cb(void *opaque, int64_t offset, int whence)
{
    FILE *f = opaque;
    if (whence & AVSEEK_SIZE)
        return AVERROR(ENOSYS);
    if (fseeko(f, (off_t)offset, whence & ~AVSEEK_FORCE))
        return AVERROR(errno);
    off_t pos = ftello(f);
    return pos < 0 ? AVERROR(errno) : pos;
}

/* An encoder by encoder name ("libx264") or codec name ("h264"), as
 * ffmpeg's -c:v; NULL name: what the container and file name suggest. */
static const AVCodec *find_encoder(const char *name, const AVOutputFormat *of, const char *path)
{
    if (!name)
        return avcodec_find_encoder(av_guess_codec(of, NULL, path, NULL, AVMEDIA_TYPE_VIDEO));
    const AVCodec *c = avcodec_find_encoder_by_name(name);
    const AVCodecDescriptor *d;
    if (!c && (d = avcodec_descriptor_get_by_name(name)))
        c = avcodec_find_encoder(d->id);
    return c && c->type == AVMEDIA_TYPE_VIDEO ? c : NULL;
}

static int takes(const AVCodec *c, enum AVPixelFormat fmt)
{
    if (!c->pix_fmts)
        return 1;
    for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == fmt)
            return 1;
    return 0;
}

/* The encoder's pixel format: the pictures' own, else the user's, else the
 * least lossy one libavcodec finds. */
static int pick_format(NvcOutput *out, LavOut *lo, const AVCodec *c, const char *user,
                       enum AVPixelFormat *fmt)
{
    const NvcLogger *lg = &out->s.logger;
    if (user) {
        *fmt = av_get_pix_fmt(user);
        if (*fmt == AV_PIX_FMT_NONE)
            return nvc_log_error(lg, NVC_ERR(EINVAL), "unknown pixel format '%s'", user);
        if (!takes(c, *fmt))
            return nvc_log_error(lg, NVC_ERR(EINVAL), "%s does not take pixel format %s", c->name, user);
        return 0;
    }
    /* JPEG is full range: as ffmpeg, convert limited-range pictures for it
     * (its encoder refuses limited-range yuv420p by default). */
    const enum AVPixelFormat full = lo->src_fmt == AV_PIX_FMT_YUV420P ? AV_PIX_FMT_YUVJ420P
                                    : lo->src_fmt == AV_PIX_FMT_YUV444P ? AV_PIX_FMT_YUVJ444P
                                                                        : AV_PIX_FMT_NONE;
    if (c->id == AV_CODEC_ID_MJPEG && out->info.color.range != NVC_RANGE_FULL &&
        full != AV_PIX_FMT_NONE && takes(c, full)) {
        *fmt = full;
        return 0;
    }
    if (takes(c, lo->src_fmt)) {
        *fmt = lo->src_fmt;
        return 0;
    }
    int loss = 0;
    *fmt = avcodec_find_best_pix_fmt_of_list(c->pix_fmts, lo->src_fmt, 0, &loss);
    if (*fmt == AV_PIX_FMT_NONE)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "%s takes no pixel format nvc can convert to", c->name);
    const char *what = loss & FF_LOSS_DEPTH ? " (lower bit depth)"
                       : loss & FF_LOSS_RESOLUTION ? " (lower chroma resolution)"
                       : loss & (FF_LOSS_COLORQUANT | FF_LOSS_CHROMA) ? " (fewer colours)" : "";
    nvc_log(lg, *what ? NVC_LOG_WARNING : NVC_LOG_INFO, "%s: %s cannot take %s; encoding %s%s",
            out->path, c->name, av_get_pix_fmt_name(lo->src_fmt), av_get_pix_fmt_name(*fmt), what);
    return 0;
}

static int is_rgb_fmt(enum AVPixelFormat fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    return d && (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL));
}

/* Colour description for the encoder: the pictures' own, adjusted when the
 * encoder's format changes colour family (RGB <-> YCbCr as nvc_lav_scale). */
static void set_color(AVCodecContext *enc, const NvcVideoInfo *info, int src_rgb)
{
    const NvcColorDescription *c = &info->color;
    enc->color_primaries = (enum AVColorPrimaries)c->primaries;
    enc->color_trc = (enum AVColorTransferCharacteristic)c->transfer;
    if (is_rgb_fmt(enc->pix_fmt)) {
        enc->colorspace = AVCOL_SPC_RGB;
        enc->color_range = AVCOL_RANGE_JPEG;
        return;
    }
    if (src_rgb) /* the matrix nvc_lav_scale converts with */
        enc->colorspace = info->p.h > 576 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    else
        enc->colorspace = (enum AVColorSpace)c->matrix;
    enc->color_range = (!src_rgb && c->range == NVC_RANGE_FULL) || enc->pix_fmt == AV_PIX_FMT_YUVJ420P ||
                       enc->pix_fmt == AV_PIX_FMT_YUVJ444P || enc->pix_fmt == AV_PIX_FMT_YUVJ422P
                       ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    enc->chroma_sample_location = (enum AVChromaLocation)c->chroma_location;
}

static int open_encoder(NvcOutput *out, LavOut *lo, const AVCodec *c, const char *pix_fmt,
                        AVDictionary **opts)
{
    const NvcVideoInfo *info = &out->info;
    enum AVPixelFormat fmt;
    int ret = pick_format(out, lo, c, pix_fmt, &fmt);
    if (ret < 0)
        return ret;
    AVCodecContext *enc = lo->enc = avcodec_alloc_context3(c);
    if (!enc)
        return NVC_ERR(ENOMEM);
    enc->width = info->p.w;
    enc->height = info->p.h;
    enc->pix_fmt = fmt;
    enc->time_base = (AVRational){ info->fps_den, info->fps_num };
    enc->framerate = (AVRational){ info->fps_num, info->fps_den };
    enc->sample_aspect_ratio = (AVRational){ info->sar_num, info->sar_den };
    enc->thread_count = 0; /* as ffmpeg: automatic, unless a "threads" option says */
    set_color(enc, info, is_rgb_fmt(lo->src_fmt));
    if (lo->fc->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char err[128];
    if ((ret = avcodec_open2(enc, c, opts)) < 0)
        return nvc_log_error(&out->s.logger, nvc_lav_error(ret) == NVC_ERR(ENOMEM) ? NVC_ERR(ENOMEM)
                             : NVC_ERR(EINVAL), "%s: cannot open the %s encoder: %s", out->path,
                             c->name, nvc_lav_err_text(ret, err, sizeof(err)));
    if (!(lo->st = avformat_new_stream(lo->fc, NULL)) ||
        avcodec_parameters_from_context(lo->st->codecpar, enc) < 0)
        return NVC_ERR(ENOMEM);
    lo->st->time_base = enc->time_base;
    lo->st->avg_frame_rate = enc->framerate;
    lo->st->sample_aspect_ratio = enc->sample_aspect_ratio;
    return 0;
}

/* Split the key/value options: pix_fmt and metadata here, the rest for the
 * encoder and the muxer. */
static int parse_options(NvcOutput *out, LavOut *lo, const char **pix_fmt, AVDictionary **opts)
{
    const char *const *o = out->s.options;
    for (; o && o[0]; o += 2) {
        if (!o[1])
            return nvc_log_error(&out->s.logger, NVC_ERR(EINVAL), "option '%s' has no value", o[0]);
        if (!strcmp(o[0], "pix_fmt")) {
            *pix_fmt = o[1];
        } else if (!strcmp(o[0], "metadata")) {
            const char *eq = strchr(o[1], '=');
            char *key = eq ? av_strndup(o[1], (size_t)(eq - o[1])) : NULL;
            int ret = key ? av_dict_set(&lo->fc->metadata, key, eq + 1, 0) : -1;
            av_free(key);
            if (ret < 0)
                return nvc_log_error(&out->s.logger, NVC_ERR(EINVAL), "metadata '%s': expected "
                                     "KEY=VALUE", o[1]);
        } else if (av_dict_set(opts, o[0], o[1], 0) < 0) {
            return NVC_ERR(ENOMEM);
        }
    }
    return 0;
}

static int open_io(NvcOutput *out, LavOut *lo)
{
    if (lo->fc->oformat->flags & AVFMT_NOFILE) /* image2 and the like write their own files */
        return strcmp(out->path, "-") ? 0 : nvc_log_error(&out->s.logger, NVC_ERR(EINVAL),
                                                          "the %s muxer cannot write to a pipe",
                                                          lo->fc->oformat->name);
    int ret = nvc_atomic_open(&out->af, out->path, &out->s.logger);
    if (ret < 0)
        return ret;
    const int seekable = out->af.f != stdout;
    uint8_t *buf = av_malloc(IO_BUFFER_SIZE);
    if (buf && !(lo->pb = avio_alloc_context(buf, IO_BUFFER_SIZE, 1, out->af.f, NULL, write_cb,
                                             seekable ? seek_cb : NULL)))
        av_free(buf);
    if (!lo->pb)
        return NVC_ERR(ENOMEM);
    lo->pb->seekable = seekable ? AVIO_SEEKABLE_NORMAL : 0;
    lo->fc->pb = lo->pb;
    lo->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    return 0;
}

int nvc_lavf_output_open(NvcOutput *out)
{
    const NvcLogger *lg = &out->s.logger;
    const NvcOutputSettings *s = &out->s;
    LavOut *lo = calloc(1, sizeof(*lo));
    if (!lo)
        return NVC_ERR(ENOMEM);
    out->lav = lo;
    const int rgb = out->info.p.layout == NVC_PIXEL_LAYOUT_I444 && out->info.color.matrix == NVC_MC_IDENTITY;
    if ((lo->src_fmt = nvc_lav_pix_fmt(&out->info.p, rgb)) == AV_PIX_FMT_NONE)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "%s: unsupported picture format", out->path);
    const AVOutputFormat *of = s->container ? av_guess_format(s->container, NULL, NULL)
                                            : av_guess_format(NULL, out->path, NULL);
    if (!of)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), s->container ? "no libavformat muxer named '%s'"
                             : "%s: no libavformat muxer for this name", s->container ? s->container
                             : out->path);
    if (avformat_alloc_output_context2(&lo->fc, of, NULL, out->path) < 0 || !(lo->pkt = av_packet_alloc()))
        return NVC_ERR(ENOMEM);
    const AVCodec *c = find_encoder(s->codec, of, out->path);
    if (!c)
        return nvc_log_error(lg, NVC_ERR(EINVAL), s->codec ? "no video encoder named '%s'"
                             : "the %s container has no default video encoder here",
                             s->codec ? s->codec : of->name);
    if (avformat_query_codec(of, c->id, FF_COMPLIANCE_NORMAL) == 0)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "the %s container cannot hold %s video", of->name,
                             avcodec_get_name(c->id));
    AVDictionary *opts = NULL;
    const char *pix_fmt = NULL;
    int ret = parse_options(out, lo, &pix_fmt, &opts);
    if (!ret)
        ret = open_encoder(out, lo, c, pix_fmt, &opts);
    if (!ret)
        ret = open_io(out, lo);
    char err[128];
    if (!ret && (ret = avformat_write_header(lo->fc, &opts)) < 0)
        ret = nvc_log_error(lg, nvc_lav_error(ret) == NVC_ERR(EIO) ? NVC_ERR(EIO) : NVC_ERR(EINVAL),
                            "%s: cannot start the %s file: %s", out->path, of->name,
                            nvc_lav_err_text(ret, err, sizeof(err)));
    else if (!ret)
        lo->header_written = 1;
    const AVDictionaryEntry *e = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
    if (!ret && e)
        ret = nvc_log_error(lg, NVC_ERR(EINVAL), "option '%s' is not an option of %s or of the %s "
                            "muxer", e->key, c->name, of->name);
    av_dict_free(&opts);
    nvc_log(lg, NVC_LOG_DEBUG, "%s: %s in %s", out->path, c->name, of->name);
    return ret;
}

/* Everything the encoder has ready goes to the muxer. */
static int drain(NvcOutput *out, LavOut *lo)
{
    char err[128];
    int ret;
    while ((ret = avcodec_receive_packet(lo->enc, lo->pkt)) >= 0) {
        av_packet_rescale_ts(lo->pkt, lo->enc->time_base, lo->st->time_base);
        lo->pkt->stream_index = lo->st->index;
        if ((ret = av_interleaved_write_frame(lo->fc, lo->pkt)) < 0)
            return nvc_log_error(&out->s.logger, nvc_lav_error(ret), "%s: write error: %s", out->path,
                                 nvc_lav_err_text(ret, err, sizeof(err)));
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    return nvc_log_error(&out->s.logger, nvc_lav_error(ret), "%s: encoding failed: %s", out->path,
                         nvc_lav_err_text(ret, err, sizeof(err)));
}

int nvc_lavf_output_write(NvcOutput *out, const NvcPicture *pic)
{
    LavOut *lo = out->lav;
    AVFrame *f, *conv;
    int ret = nvc_lav_frame_from_picture(&f, pic);
    if (ret < 0)
        return ret;
    if (f->format != lo->enc->pix_fmt) {
        ret = nvc_lav_scale(&lo->scaler, f, lo->enc->pix_fmt, f->width, f->height, &conv);
        av_frame_free(&f);
        if (ret < 0)
            return nvc_log_error(&out->s.logger, ret, "%s: cannot convert to %s", out->path,
                                 av_get_pix_fmt_name(lo->enc->pix_fmt));
        f = conv;
    }
    /* Frame units from the first picture, strictly increasing. */
    int64_t ts = out->count ? pic->pts - lo->first_pts : 0;
    if (!out->count)
        lo->first_pts = pic->pts;
    else if (ts <= lo->last_pts)
        ts = lo->last_pts + 1;
    lo->last_pts = ts;
    f->pts = ts;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    f->colorspace = lo->enc->colorspace;
    f->color_range = lo->enc->color_range;
    f->color_primaries = lo->enc->color_primaries;
    f->color_trc = lo->enc->color_trc;
    f->chroma_location = lo->enc->chroma_sample_location;
    ret = avcodec_send_frame(lo->enc, f);
    av_frame_free(&f);
    char err[128];
    if (ret < 0)
        return nvc_log_error(&out->s.logger, nvc_lav_error(ret), "%s: encoding failed: %s", out->path,
                             nvc_lav_err_text(ret, err, sizeof(err)));
    return drain(out, lo);
}

int nvc_lavf_output_close(NvcOutput *out, int commit)
{
    LavOut *lo = out->lav;
    if (!lo)
        return 0;
    int ret = 0;
    if (commit && lo->header_written) {
        char err[128];
        ret = avcodec_send_frame(lo->enc, NULL);
        ret = ret < 0 ? nvc_lav_error(ret) : drain(out, lo);
        int t = av_write_trailer(lo->fc);
        if (!ret && t < 0)
            ret = nvc_log_error(&out->s.logger, nvc_lav_error(t), "%s: cannot finish the file: %s",
                                out->path, nvc_lav_err_text(t, err, sizeof(err)));
        if (lo->pb) {
            avio_flush(lo->pb);
            if (!ret && lo->pb->error)
                ret = nvc_log_error(&out->s.logger, NVC_ERR(EIO), "%s: write error", out->path);
        }
    }
    avcodec_free_context(&lo->enc);
    if (lo->pb)
        av_freep(&lo->pb->buffer);
    avio_context_free(&lo->pb);
    if (lo->fc)
        lo->fc->pb = NULL;
    avformat_free_context(lo->fc);
    av_packet_free(&lo->pkt);
    nvc_lav_scaler_free(&lo->scaler);
    free(lo);
    out->lav = NULL;
    return ret;
}
