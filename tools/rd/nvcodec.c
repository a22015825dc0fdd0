/*
 * nvc-rd: nvc's own codecs through the public API. The coded stream is
 * written to a real container file (Matroska .nvc, or nvc's elementary
 * stream) and the file's size is the rate; the file is then demuxed,
 * decoded and measured against the source like any other codec.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/rd/rd.h"

int rd_nvc_available(const RdCodec *codec)
{
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    info.p = (NvcPictureParameters){ 256, 256, NVC_PIXEL_LAYOUT_I420, 8 };
    nvc_color_description_default(&info.color);
    info.fps_num = 25;
    info.fps_den = 1;
    info.sar_num = info.sar_den = 1;
    info.nb_frames = 8;
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.codec = codec->nvc_id;
    NvcEncoder *enc = NULL;
    const int ret = nvc_encoder_open(&enc, &info, &s);
    nvc_encoder_close(&enc);
    return ret != NVC_ERR(ENOTSUP);
}

static void on_progress(void *cookie, const NvcEncodeProgress *p)
{
    RdJob *job = cookie;
    if (job->lock)
        pthread_mutex_lock(job->lock);
    job->inr = *p;
    snprintf(job->inr_stage, sizeof(job->inr_stage), "%s", p->stage ? p->stage : "");
    job->inr.stage = NULL;
    job->has_inr = 1;
    if (job->lock)
        pthread_mutex_unlock(job->lock);
}

static void encoder_settings(RdJob *job, NvcEncoderSettings *s, ToolCapture *cap, volatile int *cancel)
{
    const RdOptions *o = job->opt;
    nvc_encoder_default_settings(s);
    s->codec = job->codec->nvc_id;
    s->n_threads = o->threads;
    s->device = o->device;
    s->seed = o->seed;
    if (!strcmp(job->knob, "size"))
        s->size = job->value;
    else
        s->q = atoi(job->value);
    s->epochs = o->epochs;
    s->qbits = o->qbits;
    s->qat_epochs = o->qat_epochs;
    s->adaptive_intra = o->adaptive_intra;
    s->progress = on_progress;
    s->progress_cookie = job;
    s->cancel = cancel;
    s->logger = tool_capture_logger(cap);
}

/* The encoder and the muxer it feeds, opened once the first packet (and
 * with it the stream configuration) exists. */
typedef struct Coder {
    NvcEncoder *enc;
    NvcMuxer *mux;
    const char *path;
    enum NvcContainerFormat format;
    int64_t packets, keys;
    double seconds;       /* inside encoder calls */
    char *msg;            /* the library's last error line */
    ToolCapture cap;          /* logger cookie filling msg */
} Coder;

static int write_ready_packets(Coder *c, char *err, size_t errsz)
{
    for (;;) {
        NvcData pkt;
        const double t0 = rd_now();
        int ret = nvc_encoder_get_packet(c->enc, &pkt);
        c->seconds += rd_now() - t0;
        if (ret == NVC_ERR(EAGAIN))
            return 0;
        if (ret < 0) {
            snprintf(err, errsz, "encoding: %s", c->msg[0] ? c->msg : nvc_error_string(ret));
            return ret;
        }
        if (!c->mux) {
            NvcStreamConfig cfg;
            NvcMuxSettings ms;
            nvc_mux_default_settings(&ms);
            ms.format = c->format;
            ms.bitexact = 1;
            ms.logger = tool_capture_logger(&c->cap);
            ret = nvc_encoder_get_config(c->enc, &cfg);
            if (ret >= 0) {
                ret = nvc_mux_open(&c->mux, c->path, &cfg, &ms);
                nvc_stream_config_clear(&cfg);
            }
        }
        if (ret >= 0)
            ret = nvc_mux_write_packet(c->mux, &pkt);
        c->packets++;
        c->keys += !!(pkt.flags & NVC_DATA_KEY);
        nvc_data_unref(&pkt);
        if (ret < 0) {
            snprintf(err, errsz, "%s: %s", c->path, c->msg[0] ? c->msg : nvc_error_string(ret));
            return ret;
        }
    }
}

/* Send one picture (NULL: drain), fetching packets whenever the encoder
 * asks for it. */
static int send_picture(Coder *c, const NvcPicture *pic, char *err, size_t errsz)
{
    for (;;) {
        const double t0 = rd_now();
        int ret = nvc_encoder_send_picture(c->enc, pic);
        c->seconds += rd_now() - t0;
        if (ret == NVC_ERR(EAGAIN)) {
            if ((ret = write_ready_packets(c, err, errsz)) < 0)
                return ret;
            continue;
        }
        if (ret < 0) {
            snprintf(err, errsz, "encoding: %s",
                     ret == NVC_ERR(EINTR) ? "interrupted"
                     : c->msg[0]           ? c->msg
                                           : nvc_error_string(ret));
            return ret;
        }
        return write_ready_packets(c, err, errsz);
    }
}

static int open_encoder(RdJob *job, Coder *c, RdSource *src, volatile int *cancel, char *err,
                        size_t errsz)
{
    NvcEncoderSettings s;
    encoder_settings(job, &s, &c->cap, cancel);
    /* The file as read first (RGB for an image); a codec that only takes
     * YCbCr gets what the classic codecs get. */
    enum RdSourceKind kinds[2] = { RD_SOURCE_NATIVE, RD_SOURCE_YUV };
    int ret = NVC_ERR(ENOTSUP);
    for (int i = 0; i < (job->clip->image ? 2 : 1) && ret == NVC_ERR(ENOTSUP); i++) {
        NvcVideoInfo info;
        rd_source_info(job->clip, kinds[i], &info);
        ret = nvc_encoder_open(&c->enc, &info, &s);
        if (ret >= 0)
            ret = rd_source_open(src, job->clip, kinds[i], err, errsz);
        else
            snprintf(err, errsz, "%s: %s", job->codec->name,
                     c->msg[0] ? c->msg : nvc_error_string(ret));
    }
    return ret;
}

static int encode_to_file(RdJob *job, Coder *c, volatile int *cancel, char *err, size_t errsz)
{
    RdSource src;
    memset(&src, 0, sizeof(src));
    atomic_store(&job->stage, RD_STAGE_ENCODE);
    atomic_store(&job->frames_done, 0);
    int ret = open_encoder(job, c, &src, cancel, err, errsz);
    while (ret >= 0) {
        NvcPicture pic;
        ret = rd_source_read(&src, &pic, err, errsz);
        if (ret <= 0)
            break;
        ret = send_picture(c, &pic, err, errsz);
        nvc_picture_unref(&pic);
        atomic_fetch_add(&job->frames_done, 1);
        if (ret >= 0 && rd_cancelled(job)) {
            snprintf(err, errsz, "interrupted");
            ret = NVC_ERR(EINTR);
        }
    }
    if (ret >= 0)
        ret = send_picture(c, NULL, err, errsz);
    if (ret >= 0 && c->packets != job->clip->frames) {
        snprintf(err, errsz, "the encoder gave %lld packets for %lld pictures",
                 (long long)c->packets, (long long)job->clip->frames);
        ret = NVC_ERR(EIO);
    }
    rd_source_close(&src);
    nvc_encoder_close(&c->enc);
    if (c->mux) {
        const int r = nvc_mux_close(&c->mux, ret >= 0);
        if (ret >= 0 && r < 0) {
            snprintf(err, errsz, "%s: %s", c->path, nvc_error_string(r));
            ret = r;
        }
    }
    return ret;
}

/* Send one packet (NULL: drain) and measure every picture that comes out. */
static int decode_packet(NvcDecoder *dec, const NvcData *pkt, RdMeasure *m, double *t,
                         char *msg, char *err, size_t errsz)
{
    for (;;) {
        double t0 = rd_now();
        int ret = nvc_decoder_send_packet(dec, pkt);
        *t += rd_now() - t0;
        const int again = ret == NVC_ERR(EAGAIN);
        if (ret < 0 && !again) {
            snprintf(err, errsz, "decoding: %s", msg[0] ? msg : nvc_error_string(ret));
            return ret;
        }
        for (;;) {
            NvcPicture pic;
            t0 = rd_now();
            int r = nvc_decoder_get_picture(dec, &pic);
            *t += rd_now() - t0;
            if (r == NVC_ERR(EAGAIN))
                break;
            if (r < 0) {
                snprintf(err, errsz, "decoding: %s", msg[0] ? msg : nvc_error_string(r));
                return r;
            }
            r = rd_measure_frame(m, &pic, err, errsz);
            nvc_picture_unref(&pic);
            if (r < 0)
                return r;
        }
        if (!again)
            return 0;
    }
}

static int decode_file(RdJob *job, const char *path, RdPoint *pt, char *err, size_t errsz)
{
    char msg[256] = "";
    ToolCapture cap = { msg, sizeof(msg) };
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = tool_capture_logger(&cap);
    NvcDemuxer *dmx = NULL;
    NvcDecoder *dec = NULL;
    RdMeasure m;
    memset(&m, 0, sizeof(m));
    atomic_store(&job->stage, RD_STAGE_DECODE);
    int ret = nvc_demux_open(&dmx, path, &ds);
    if (ret < 0) {
        snprintf(err, errsz, "%s: %s", path, msg[0] ? msg : nvc_error_string(ret));
        return ret;
    }
    NvcDecoderSettings s;
    nvc_decoder_default_settings(&s);
    s.n_threads = job->opt->threads;
    s.device = job->opt->device;
    s.logger = ds.logger;
    ret = nvc_decoder_open(&dec, nvc_demux_get_config(dmx), &s);
    if (ret < 0)
        snprintf(err, errsz, "decoder: %s", msg[0] ? msg : nvc_error_string(ret));
    else
        ret = rd_measure_open(&m, job->clip, err, errsz);
    double t = 0;
    while (ret >= 0) {
        NvcData pkt;
        ret = nvc_demux_read_packet(dmx, &pkt);
        if (ret < 0)
            snprintf(err, errsz, "%s: %s", path, msg[0] ? msg : nvc_error_string(ret));
        if (ret <= 0)
            break;
        ret = decode_packet(dec, &pkt, &m, &t, msg, err, errsz);
        nvc_data_unref(&pkt);
        if (ret >= 0 && rd_cancelled(job)) {
            snprintf(err, errsz, "interrupted");
            ret = NVC_ERR(EINTR);
        }
    }
    if (ret >= 0)
        ret = decode_packet(dec, NULL, &m, &t, msg, err, errsz);
    if (ret >= 0)
        ret = rd_measure_finish(&m, pt, err, errsz);
    pt->dec_s = t;
    rd_measure_close(&m);
    nvc_decoder_close(&dec);
    nvc_demux_close(&dmx);
    return ret;
}

int rd_nvc_run(RdJob *job, RdPoint *pt, volatile int *cancel, char *err, size_t errsz)
{
    const RdOptions *o = job->opt;
    char path[4200], msg[256] = "";
    snprintf(path, sizeof(path), "%s/%s-%s-%s%s.nvc", o->stream_dir, pt->clip, pt->codec,
             pt->knob, pt->value);
    int ret = rd_mkdir_p(o->stream_dir);
    if (ret < 0) {
        snprintf(err, errsz, "%s: %s", o->stream_dir, strerror(-ret));
        return NVC_ERR(EIO);
    }
    Coder c = { .path = path, .format = o->container, .msg = msg, .cap = { msg, sizeof(msg) } };
    ret = encode_to_file(job, &c, cancel, err, errsz);
    struct stat st;
    if (ret >= 0 && stat(path, &st) < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        ret = NVC_ERR(EIO);
    }
    if (ret >= 0) {
        pt->bytes = st.st_size;
        pt->removed_bytes = 0;
        pt->bpp = (double)pt->bytes * 8 / ((double)pt->frames * pt->w * pt->h);
        pt->enc_s = c.seconds;
        pt->key_frames = (int)c.keys;
        snprintf(pt->container, sizeof(pt->container), "%s", nvc_container_name(o->container));
        ret = decode_file(job, path, pt, err, errsz);
    }
    if (!o->keep_streams || ret < 0)
        unlink(path);
    return ret;
}
