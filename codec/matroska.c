/*
 * Matroska through libavformat (doc/FORMAT.md, "Matroska mapping"): one
 * video track V_MS/VFW/FOURCC with FourCC NVC1, the configuration record
 * after the BITMAPINFOHEADER, one block per frame. All I/O goes through our
 * own FILE streams (custom AVIOContext): no libavformat protocol ever sees
 * a path, so names with ':' are plain files and stdin/stdout work alike.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/log.h>

#include "config.h"
#include "codec/container.h"
#include "codec/internal.h"

#define IO_BUFFER_SIZE (64 * 1024)
#define NVC_FOURCC MKTAG('N', 'V', 'C', '1')

#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define AVIO_WRITE_CONST const
#else
#define AVIO_WRITE_CONST
#endif

/* Text for an AVERROR, in a caller buffer. */
static const char *av_text(int err, char *buf, size_t sz)
{
    if (av_strerror(err, buf, sz) < 0)
        snprintf(buf, sz, "error %d", err);
    return buf;
}

/* libavformat failed while reading: an I/O error if our reader had one,
 * else the file's bytes were at fault (FFmpeg reports truncation and
 * malformed elements in several ways, EIO among them). */
static int read_error(const NvcDemuxer *d, int err)
{
    if (d->in.error)
        return NVC_ERR(EIO);
    return err == AVERROR(ENOMEM) ? NVC_ERR(ENOMEM) : NVC_ERR_CORRUPT;
}

/* Writing: an AVERROR(errno) is our NVC_ERR(errno); FFmpeg's own codes
 * (FFERRTAG) become NVC_ERR(EIO). */
static int from_averror(int err)
{
    return err < 0 && err > -4096 ? err : NVC_ERR(EIO);
}

static AVIOContext *create_avio(void *opaque, int write, int seekable,
                                int (*read)(void *, uint8_t *, int),
                                int (*wr)(void *, AVIO_WRITE_CONST uint8_t *, int),
                                int64_t (*seek)(void *, int64_t, int))
{
    uint8_t *buf = av_malloc(IO_BUFFER_SIZE);
    if (!buf)
        return NULL;
    AVIOContext *pb = avio_alloc_context(buf, IO_BUFFER_SIZE, write, opaque, read, wr,
                                         seekable ? seek : NULL);
    if (!pb) {
        av_free(buf);
        return NULL;
    }
    pb->seekable = seekable ? AVIO_SEEKABLE_NORMAL : 0;
    return pb;
}

static void free_avio(AVIOContext **pb)
{
    if (*pb)
        av_freep(&(*pb)->buffer);
    avio_context_free(pb);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct MkvMux {
    AVFormatContext *fc;
    AVIOContext *pb;
    AVRational frame_tb;   /* one frame: fps_den / fps_num seconds */
    AVPacket *pkt;
    int header_written;
} MkvMux;

static int write_cb(void *opaque, AVIO_WRITE_CONST uint8_t *buf, int size)
{
    NvcMuxer *m = opaque;
    return nvc_mux_write_bytes(m, buf, (size_t)size) < 0 ? AVERROR(EIO) : size;
}

static int64_t mux_seek_cb(void *opaque, int64_t offset, int whence)
{
    NvcMuxer *m = opaque;
    if (whence & AVSEEK_SIZE)
        return AVERROR(ENOSYS);
    whence &= ~AVSEEK_FORCE;
    if (whence == SEEK_SET)
        offset += m->base;
    if (fflush(m->f) || fseeko(m->f, (off_t)offset, whence))
        return AVERROR(errno);
    off_t pos = ftello(m->f);
    return pos < 0 ? AVERROR(errno) : pos - m->base;
}

static void set_color(AVCodecParameters *par, const NvcColorDescription *c)
{
    /* nvc's matrix, primaries, transfer and chroma location are H.273 code
     * points, as are FFmpeg's enums; only the range numbering differs. */
    par->color_space = (enum AVColorSpace)c->matrix;
    par->color_primaries = (enum AVColorPrimaries)c->primaries;
    par->color_trc = (enum AVColorTransferCharacteristic)c->transfer;
    par->color_range = c->range == NVC_RANGE_FULL ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    par->chroma_location = (enum AVChromaLocation)c->chroma_location;
}

static const char *codec_description(enum NvcCodecId codec)
{
    switch (codec) {
    case NVC_CODEC_HNERV: return "HNeRV implicit neural representation";
    case NVC_CODEC_NERVPP: return "NeRV++ implicit neural representation";
    case NVC_CODEC_IMAGE: return "learned image codec";
    case NVC_CODEC_DCVC: return "conditional-coding neural video codec";
    }
    return "unknown codec";
}

static int setup_stream(NvcMuxer *m, MkvMux *mk)
{
    const NvcStreamConfig *cfg = &m->cfg;
    AVStream *st = avformat_new_stream(mk->fc, NULL);
    if (!st)
        return NVC_ERR(ENOMEM);
    AVCodecParameters *par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_NONE;
    par->codec_tag = NVC_FOURCC;
    par->width = cfg->p.w;
    par->height = cfg->p.h;
    par->sample_aspect_ratio = st->sample_aspect_ratio = (AVRational){ cfg->sar_num, cfg->sar_den };
    set_color(par, &cfg->color);
    par->extradata = av_mallocz(m->record.sz + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return NVC_ERR(ENOMEM);
    memcpy(par->extradata, m->record.data, m->record.sz);
    par->extradata_size = (int)m->record.sz;
    mk->frame_tb = (AVRational){ cfg->fps_den, cfg->fps_num };
    st->time_base = mk->frame_tb;
    st->avg_frame_rate = st->r_frame_rate = (AVRational){ cfg->fps_num, cfg->fps_den };
    st->disposition = AV_DISPOSITION_DEFAULT;
    char encoder[64], description[160];
    if (m->s.bitexact) /* the same bytes from every nvc version */
        snprintf(encoder, sizeof(encoder), "nvc");
    else
        snprintf(encoder, sizeof(encoder), "nvc %s", nvc_version());
    /* What the track holds, for ffprobe users (it reports codec "none"). */
    snprintf(description, sizeof(description), "nvc %s video (%s), stream format %u; decode with "
             "nvdec", nvc_codec_name(cfg->codec), codec_description(cfg->codec), NVC_STREAM_VERSION);
    if ((m->title && (av_dict_set(&st->metadata, "title", m->title, 0) < 0 ||
                      av_dict_set(&mk->fc->metadata, "title", m->title, 0) < 0)) ||
        av_dict_set(&st->metadata, "ENCODER", encoder, 0) < 0 ||
        av_dict_set(&st->metadata, "DESCRIPTION", description, 0) < 0 ||
        av_dict_set(&mk->fc->metadata, "encoding_tool", encoder, 0) < 0) /* WritingApp */
        return NVC_ERR(ENOMEM);
    return 0;
}

int nvc_mkv_mux_open(NvcMuxer *m)
{
    const NvcLogger *lg = &m->s.logger;
    MkvMux *mk = calloc(1, sizeof(*mk));
    if (!mk)
        return NVC_ERR(ENOMEM);
    m->priv = mk;
    const AVOutputFormat *of = av_guess_format("matroska", NULL, NULL);
    if (!of)
        return nvc_log_error(lg, NVC_ERR(ENOSYS), "this FFmpeg has no Matroska muxer");
    int ret = avformat_alloc_output_context2(&mk->fc, of, NULL, NULL);
    if (ret < 0 || !(mk->pkt = av_packet_alloc()))
        return NVC_ERR(ENOMEM);
    if (!(mk->pb = create_avio(m, 1, m->seekable, NULL, write_cb, mux_seek_cb)))
        return NVC_ERR(ENOMEM);
    mk->fc->pb = mk->pb;
    mk->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (m->s.bitexact)
        mk->fc->flags |= AVFMT_FLAG_BITEXACT;
    if ((ret = setup_stream(m, mk)) < 0)
        return ret;
    /* FFmpeg 5.1 logs one warning here ("codec none is not supported by
     * this format"): there is no codec id for NVC1, and the track is
     * written exactly as intended. See nvc_ffmpeg_route_log. */
    nvc_log(lg, NVC_LOG_DEBUG, "writing Matroska (%s output)", m->seekable ? "seekable" : "streamed");
    if ((ret = avformat_write_header(mk->fc, NULL)) < 0) {
        char err[128];
        return nvc_log_error(lg, m->error ? m->error : from_averror(ret), "cannot write the Matroska "
                             "header: %s", av_text(ret, err, sizeof(err)));
    }
    mk->header_written = 1;
    return 0;
}

int nvc_mkv_mux_write(NvcMuxer *m, const NvcData *pkt)
{
    MkvMux *mk = m->priv;
    AVStream *st = mk->fc->streams[0];
    AVPacket *p = mk->pkt;
    int ret = av_new_packet(p, (int)pkt->sz);
    if (ret < 0)
        return NVC_ERR(ENOMEM);
    if (pkt->sz)
        memcpy(p->data, pkt->data, pkt->sz);
    int64_t t0 = av_rescale_q(pkt->pts, mk->frame_tb, st->time_base);
    int64_t t1 = av_rescale_q(pkt->pts + 1, mk->frame_tb, st->time_base);
    p->pts = p->dts = t0;
    p->duration = t1 - t0;
    p->flags = (pkt->flags & NVC_DATA_KEY) ? AV_PKT_FLAG_KEY : 0;
    p->stream_index = 0;
    ret = av_write_frame(mk->fc, p);
    av_packet_unref(p);
    if (ret < 0) {
        char err[128];
        return nvc_log_error(&m->s.logger, m->error ? m->error : from_averror(ret),
                             "cannot write packet %" PRId64 ": %s", pkt->pts, av_text(ret, err, sizeof(err)));
    }
    return m->error;
}

int nvc_mkv_mux_finish(NvcMuxer *m)
{
    MkvMux *mk = m->priv;
    int ret = av_write_trailer(mk->fc);
    avio_flush(mk->pb);
    if (ret < 0 || mk->pb->error) {
        char err[128];
        ret = ret < 0 ? ret : mk->pb->error;
        return nvc_log_error(&m->s.logger, m->error ? m->error : from_averror(ret),
                             "cannot finish the Matroska file: %s", av_text(ret, err, sizeof(err)));
    }
    return m->error;
}

void nvc_mkv_mux_free(NvcMuxer *m)
{
    MkvMux *mk = m->priv;
    if (!mk)
        return;
    if (mk->pb && !m->error)
        avio_flush(mk->pb); /* an aborted file still gets what was buffered (stdout) */
    avformat_free_context(mk->fc);
    free_avio(&mk->pb);
    av_packet_free(&mk->pkt);
    free(mk);
    m->priv = NULL;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct MkvDemux {
    AVFormatContext *fc;
    AVIOContext *pb;
    AVPacket *pkt;
    int stream;
    AVRational frame_tb;
} MkvDemux;

static int read_cb(void *opaque, uint8_t *buf, int size)
{
    NvcDemuxer *d = opaque;
    size_t n = nvc_reader_read(&d->in, buf, (size_t)size);
    if (!n)
        return d->in.error ? AVERROR(EIO) : AVERROR_EOF;
    return (int)n;
}

static int64_t demux_seek_cb(void *opaque, int64_t offset, int whence)
{
    NvcDemuxer *d = opaque;
    if (whence & AVSEEK_SIZE)
        return nvc_reader_size(&d->in);
    whence &= ~AVSEEK_FORCE;
    int64_t pos = offset;
    if (whence == SEEK_CUR)
        pos += d->in.pos;
    else if (whence == SEEK_END) {
        int64_t size = nvc_reader_size(&d->in);
        if (size < 0)
            return AVERROR(ENOSYS);
        pos += size;
    } else if (whence != SEEK_SET) {
        return AVERROR(EINVAL);
    }
    return nvc_reader_seek(&d->in, pos) < 0 ? AVERROR(EIO) : pos;
}

static int find_track(NvcDemuxer *d, MkvDemux *mk)
{
    mk->stream = -1;
    for (unsigned i = 0; i < mk->fc->nb_streams; i++) {
        AVStream *st = mk->fc->streams[i];
        if (mk->stream < 0 && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            st->codecpar->codec_tag == NVC_FOURCC)
            mk->stream = (int)i;
        else
            st->discard = AVDISCARD_ALL;
    }
    if (mk->stream < 0)
        return nvc_log_error(&d->s.logger, NVC_ERR(ENOTSUP), "a Matroska file without an nvc "
                             "(NVC1) video track");
    AVCodecParameters *par = mk->fc->streams[mk->stream]->codecpar;
    if (!par->extradata || par->extradata_size <= 0)
        return nvc_log_error(&d->s.logger, NVC_ERR_CORRUPT, "the NVC1 track has no configuration record");
    int ret = nvc_stream_config_parse(&d->cfg, par->extradata, (size_t)par->extradata_size,
                                      d->s.max_pixels, &d->s.logger);
    if (ret < 0)
        return ret;
    if (par->width != d->cfg.p.w || par->height != d->cfg.p.h)
        nvc_log(&d->s.logger, NVC_LOG_WARNING, "Matroska track says %dx%d, the stream %dx%d (using "
                "the stream's)", par->width, par->height, d->cfg.p.w, d->cfg.p.h);
    mk->frame_tb = (AVRational){ d->cfg.fps_den, d->cfg.fps_num };
    return 0;
}

int nvc_mkv_demux_open(NvcDemuxer *d)
{
    const NvcLogger *lg = &d->s.logger;
    MkvDemux *mk = calloc(1, sizeof(*mk));
    if (!mk)
        return NVC_ERR(ENOMEM);
    d->priv = mk;
    const AVInputFormat *fmt = av_find_input_format("matroska");
    if (!fmt)
        return nvc_log_error(lg, NVC_ERR(ENOSYS), "this FFmpeg has no Matroska demuxer");
    if (!(mk->pkt = av_packet_alloc()) || !(mk->fc = avformat_alloc_context()) ||
        !(mk->pb = create_avio(d, 0, d->in.seekable, read_cb, NULL, demux_seek_cb)))
        return NVC_ERR(ENOMEM);
    mk->fc->pb = mk->pb;
    mk->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* FFmpeg 5.1 logs "Unknown/unsupported AVCodecID V_MS/VFW/FOURCC." at
     * AV_LOG_INFO here: NVC1 has no AVCodecID (see nvc_ffmpeg_route_log).
     * Memory: its EBML reader allocates a binary element (CodecPrivate, a
     * block) at the size the file claims, up to 256 MiB, before reading it;
     * on a short file the read fails and the buffer is freed at once, so the
     * cost is transient and mostly untouched address space
     * (conformance/invalid/mkv-codec-private-256mib.nvc). Everything nvc
     * allocates itself is bounded by the bytes actually read. */
    int ret = avformat_open_input(&mk->fc, NULL, fmt, NULL); /* frees fc on failure */
    if (ret < 0) {
        char err[128];
        if (d->in.error)
            return nvc_log_error(lg, NVC_ERR(EIO), "read error: %s", strerror(d->in.error));
        return nvc_log_error(lg, read_error(d, ret), "%s Matroska header (FFmpeg: %s)",
                             d->in.eof ? "truncated or invalid" : "invalid", av_text(ret, err, sizeof(err)));
    }
    return find_track(d, mk);
}

static void free_avpacket(const uint8_t *buf, void *cookie)
{
    AVPacket *p = cookie;
    av_packet_free(&p);
}

/* Hand the packet's buffer over to an NvcData without copying. */
static int wrap_packet(MkvDemux *mk, NvcData *out)
{
    if (!mk->pkt->size) {
        av_packet_unref(mk->pkt);
        return nvc_data_create(out, 0) ? 0 : NVC_ERR(ENOMEM);
    }
    AVPacket *own = av_packet_alloc();
    if (!own)
        return NVC_ERR(ENOMEM);
    av_packet_move_ref(own, mk->pkt);
    int ret = nvc_data_wrap(out, own->data, (size_t)own->size, free_avpacket, own);
    if (ret < 0)
        av_packet_free(&own);
    return ret;
}

int nvc_mkv_demux_read(NvcDemuxer *d, NvcData *out)
{
    const NvcLogger *lg = &d->s.logger;
    MkvDemux *mk = d->priv;
    for (;;) {
        int ret = av_read_frame(mk->fc, mk->pkt);
        if (ret == AVERROR_EOF)
            return d->in.error ? nvc_log_error(lg, NVC_ERR(EIO), "read error: %s",
                                               strerror(d->in.error)) : 0;
        if (ret < 0) {
            char err[128];
            if (d->in.error)
                return nvc_log_error(lg, NVC_ERR(EIO), "read error: %s", strerror(d->in.error));
            return nvc_log_error(lg, read_error(d, ret), "%s Matroska data (FFmpeg: %s)",
                                 d->in.eof ? "truncated or damaged" : "damaged",
                                 av_text(ret, err, sizeof(err)));
        }
        if (mk->pkt->stream_index != mk->stream) {
            av_packet_unref(mk->pkt);
            continue;
        }
        AVStream *st = mk->fc->streams[mk->stream];
        int64_t ts = mk->pkt->pts != AV_NOPTS_VALUE ? mk->pkt->pts : mk->pkt->dts;
        int flags = mk->pkt->flags;
        if (ts == AV_NOPTS_VALUE || (flags & AV_PKT_FLAG_CORRUPT)) {
            av_packet_unref(mk->pkt);
            return nvc_log_error(lg, NVC_ERR_CORRUPT, "damaged packet (no timestamp or corrupt)");
        }
        if ((ret = wrap_packet(mk, out)) < 0)
            return ret;
        out->pts = av_rescale_q(ts, st->time_base, mk->frame_tb);
        out->flags = (flags & AV_PKT_FLAG_KEY) ? NVC_DATA_KEY : 0;
        return 1;
    }
}

int nvc_mkv_demux_seek(NvcDemuxer *d, int64_t frame)
{
    MkvDemux *mk = d->priv;
    AVStream *st = mk->fc->streams[mk->stream];
    int64_t ts = av_rescale_q(frame, mk->frame_tb, st->time_base);
    int ret = av_seek_frame(mk->fc, mk->stream, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) {
        char err[128];
        return nvc_log_error(&d->s.logger, read_error(d, ret), "cannot seek to frame %" PRId64 ": %s", frame, av_text(ret, err, sizeof(err)));
    }
    return 0;
}

void nvc_mkv_demux_close(NvcDemuxer *d)
{
    MkvDemux *mk = d->priv;
    if (!mk)
        return;
    avformat_close_input(&mk->fc);
    free_avio(&mk->pb);
    av_packet_free(&mk->pkt);
    free(mk);
    d->priv = NULL;
}

/* ---- av_log routing ----------------------------------------------------- */

static NvcLogger routed_logger;

static void route_cb(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > av_log_get_level() || !routed_logger.callback)
        return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (!n)
        return;
    enum NvcLogLevel l = level <= AV_LOG_WARNING ? NVC_LOG_INFO : NVC_LOG_DEBUG;
    /* FFmpeg 5.1 says these for every NVC1 track it writes or reads: nvc
     * has no AVCodecID (see nvc_mkv_mux_open and nvc_mkv_demux_open). */
    if (strstr(line, "codec none is not supported by this format") ||
        strstr(line, "Unknown/unsupported AVCodecID V_MS/VFW/FOURCC"))
        l = NVC_LOG_DEBUG;
    nvc_log(&routed_logger, l, "ffmpeg: %s", line);
}

int nvc_ffmpeg_route_log(const NvcLogger *logger)
{
    if (!logger || !logger->callback) {
        av_log_set_callback(av_log_default_callback);
        memset(&routed_logger, 0, sizeof(routed_logger));
        return 0;
    }
    routed_logger = *logger;
    av_log_set_callback(route_cb);
    return 0;
}
