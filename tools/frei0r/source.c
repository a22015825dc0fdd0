/*
 * Frames of the nvc frei0r source plugin (see source.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/frei0r/source.h"

struct FsrcSource {
    int w, h;               /* frames the host wants */
    int loop;
    char *path;
    NvcDemuxer *dmx;        /* an nvc stream ... */
    NvcDecoder *dec;
    NvcInput *in;           /* ... or a picture file */
    NvcVideoInfo info;
    int64_t count;          /* frames in the stream; -1 until known */
    int64_t next;           /* index the sequential reader returns next */
    int64_t shown;          /* index held in rgba; -1: none */
    uint8_t *rgba;          /* the last rendered frame */
    NvcFilterGraph *scale;  /* when the host's size is not the stream's */
    char error[512];
};

static void logger_cb(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    FsrcSource *s = cookie;
    if (level == NVC_LOG_ERROR && !s->error[0])
        vsnprintf(s->error, sizeof(s->error), fmt, ap);
}

static NvcLogger source_logger(FsrcSource *s)
{
    return (NvcLogger){ .cookie = s, .callback = logger_cb };
}

static int fail(FsrcSource *s, int err, const char *fmt, ...)
{
    if (!s->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->error, sizeof(s->error), fmt, ap);
        va_end(ap);
    }
    return err;
}

FsrcSource *fsrc_create(int w, int h)
{
    if (w < 1 || h < 1 || w > NVC_MAX_DIMENSION || h > NVC_MAX_DIMENSION)
        return NULL;
    FsrcSource *s = calloc(1, sizeof(*s));
    if (!s || !(s->rgba = malloc((size_t)w * h * 4))) {
        free(s);
        return NULL;
    }
    s->w = w;
    s->h = h;
    s->count = -1;
    s->shown = -1;
    return s;
}

static void close_stream(FsrcSource *s)
{
    nvc_decoder_close(&s->dec);
    nvc_demux_close(&s->dmx);
    nvc_input_close(&s->in);
    nvc_filter_close(&s->scale);
    free(s->path);
    s->path = NULL;
    s->count = -1;
    s->next = 0;
    s->shown = -1;
}

void fsrc_free(FsrcSource **ps)
{
    FsrcSource *s = *ps;
    if (!s)
        return;
    close_stream(s);
    free(s->rgba);
    free(s);
    *ps = NULL;
}

void fsrc_set_loop(FsrcSource *s, int loop)
{
    s->loop = !!loop;
}

const NvcVideoInfo *fsrc_info(const FsrcSource *s)
{
    return s->path ? &s->info : NULL;
}

const char *fsrc_error(const FsrcSource *s)
{
    return s->error;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static int open_nvc(FsrcSource *s)
{
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = source_logger(s);
    int ret = nvc_demux_open(&s->dmx, s->path, &ds);
    if (ret < 0)
        return fail(s, ret, "%s: %s", s->path, nvc_error_string(ret));
    const NvcStreamConfig *cfg = nvc_demux_get_config(s->dmx);
    NvcDecoderSettings dset;
    nvc_decoder_default_settings(&dset);
    dset.logger = source_logger(s);
    if ((ret = nvc_decoder_open(&s->dec, cfg, &dset)) < 0)
        return fail(s, ret, "%s: cannot decode: %s", s->path, nvc_error_string(ret));
    s->info = (NvcVideoInfo){ .p = cfg->p, .color = cfg->color, .fps_num = cfg->fps_num,
                              .fps_den = cfg->fps_den, .sar_num = cfg->sar_num,
                              .sar_den = cfg->sar_den, .nb_frames = cfg->frame_count };
    if (cfg->frame_count > 0)
        s->count = cfg->frame_count;
    return 0;
}

static int open_input(FsrcSource *s)
{
    NvcInputSettings is;
    nvc_input_default_settings(&is);
    is.logger = source_logger(s);
    int ret = nvc_input_open(&s->in, s->path, &is);
    if (ret < 0)
        return fail(s, ret, "%s: %s", s->path, nvc_error_string(ret));
    s->info = *nvc_input_info(s->in);
    if (s->info.nb_frames > 0)
        s->count = s->info.nb_frames;
    return 0;
}

/* Unscaled when the host's frame is the picture plus less than 16 columns. */
static int needs_scale(const FsrcSource *s)
{
    return s->h != s->info.p.h || s->w < s->info.p.w || s->w >= s->info.p.w + 16;
}

int fsrc_open(FsrcSource *s, const char *path)
{
    close_stream(s);
    s->error[0] = 0;
    if (!(s->path = strdup(path)))
        return fail(s, NVC_ERR(ENOMEM), "out of memory");
    /* An nvc stream (any name; Matroska ones need the NVC1 track), else
     * a picture file. */
    const int pictures = has_suffix(path, ".y4m") || has_suffix(path, ".yuv") ||
                         has_suffix(path, ".png") || !strcmp(path, "-");
    int ret = pictures ? NVC_ERR_CORRUPT : open_nvc(s);
    if (!s->dmx && (ret == NVC_ERR_CORRUPT || ret == NVC_ERR(ENOTSUP))) {
        nvc_demux_close(&s->dmx);
        s->error[0] = 0;
        ret = open_input(s);
    }
    if (!ret && needs_scale(s)) {
        NvcFilterSettings fs;
        nvc_filter_default_settings(&fs);
        fs.logger = source_logger(s);
        char graph[64];
        snprintf(graph, sizeof(graph), "scale=%d:%d:flags=bicubic", s->w, s->h);
        if ((ret = nvc_filter_open(&s->scale, graph, &s->info, &fs)) < 0)
            fail(s, ret, "%s: cannot scale %dx%d to %dx%d: %s", path, s->info.p.w, s->info.p.h,
                 s->w, s->h, nvc_error_string(ret));
    }
    if (ret < 0) {
        char keep[sizeof(s->error)];
        memcpy(keep, s->error, sizeof(keep));
        close_stream(s);
        memcpy(s->error, keep, sizeof(keep));
    }
    return ret;
}

int64_t fsrc_frame_at(int fps_num, int fps_den, double time_ms)
{
    if (!(time_ms > 0) || fps_num < 1 || fps_den < 1)
        return 0;
    /* The host rounded the exact time to a millisecond: add half of one so
     * that a frame starting at 33.37 ms, given as 33, is still that frame. */
    const double frames = (time_ms + 0.5) * fps_num / (1000.0 * fps_den);
    return frames >= (double)INT64_MAX ? INT64_MAX : (int64_t)floor(frames);
}

static int reopen_input(FsrcSource *s)
{
    nvc_input_close(&s->in);
    NvcInputSettings is;
    nvc_input_default_settings(&is);
    is.logger = source_logger(s);
    int ret = nvc_input_open(&s->in, s->path, &is);
    if (ret < 0)
        return fail(s, ret, "%s: %s", s->path, nvc_error_string(ret));
    s->next = 0;
    return 0;
}

/* Picture file: read forward (reopening to go back) to `*frame`, or to the
 * last picture when the file ends before it (*frame is then that one). */
static int fetch_input(FsrcSource *s, int64_t *frame, NvcPicture *pic)
{
    int ret;
    if (*frame < s->next && (ret = reopen_input(s)) < 0)
        return ret;
    NvcPicture last = { 0 };
    for (;;) {
        ret = nvc_input_read(s->in, pic);
        if (ret > 0 && pic->pts < *frame) {
            s->next = pic->pts + 1;
            nvc_picture_unref(&last);
            nvc_picture_move_ref(&last, pic);
            continue;
        }
        if (ret > 0) {
            s->next = pic->pts + 1;
            *frame = pic->pts;
            ret = 0;
        } else if (ret == 0) { /* the end: now the length is known */
            s->count = s->next;
            if (!last.ref)
                ret = s->count > 0 ? reopen_input(s) : NVC_ERR_CORRUPT;
            if (!last.ref && ret == 0) {
                *frame = s->count - 1;
                return fetch_input(s, frame, pic);
            }
            *frame = last.pts;
            nvc_picture_move_ref(pic, &last);
        }
        nvc_picture_unref(&last);
        return ret < 0 ? fail(s, ret, "%s: frame %" PRId64 ": %s", s->path, s->next,
                              nvc_error_string(ret)) : 0;
    }
}

typedef struct Packets {
    NvcData *pkt;
    int n, cap;
} Packets;

static void packets_clear(Packets *q)
{
    for (int i = 0; i < q->n; i++)
        nvc_data_unref(&q->pkt[i]);
    q->n = 0;
}

static int packets_push(Packets *q, NvcData *pkt)
{
    if (q->n == q->cap) {
        int cap = q->cap ? 2 * q->cap : 8;
        NvcData *p = realloc(q->pkt, cap * sizeof(*p));
        if (!p)
            return NVC_ERR(ENOMEM);
        q->pkt = p;
        q->cap = cap;
    }
    q->pkt[q->n++] = *pkt;
    memset(pkt, 0, sizeof(*pkt));
    return 0;
}

/* Decode the queued packets in order; pic: the last one's picture. */
static int decode_queue(FsrcSource *s, Packets *q, int flush, NvcPicture *pic)
{
    if (flush)
        nvc_decoder_flush(s->dec);
    int ret = 0;
    for (int i = 0; i < q->n && ret >= 0; i++) {
        nvc_picture_unref(pic);
        if ((ret = nvc_decoder_send_packet(s->dec, &q->pkt[i])) == 0)
            ret = nvc_decoder_get_picture(s->dec, pic);
    }
    return ret;
}

/* nvc stream: packets are read without decoding until `*frame` (keeping
 * those since the last key packet), then only what it depends on is
 * decoded: one packet for INR streams, the group from its key packet for
 * predicted ones. Going back seeks to the key packet before the frame. */
static int fetch_nvc(FsrcSource *s, int64_t *frame, NvcPicture *pic)
{
    int ret = 0, flush = 0;
    if (*frame < s->next) {
        if ((ret = nvc_demux_seek(s->dmx, *frame)) < 0)
            return fail(s, ret, "%s: cannot seek: %s", s->path, nvc_error_string(ret));
        flush = 1;
    }
    Packets q = { 0 };
    NvcData pkt;
    memset(pic, 0, sizeof(*pic));
    while ((ret = nvc_demux_read_packet(s->dmx, &pkt)) > 0) {
        s->next = pkt.pts + 1;
        if (pkt.flags & NVC_DATA_KEY) { /* what came before is not needed */
            packets_clear(&q);
            flush = 1;
        }
        const int found = pkt.pts >= *frame;
        const int pushed = packets_push(&q, &pkt);
        if (pushed < 0) {
            nvc_data_unref(&pkt);
            ret = pushed;
        }
        if (pushed < 0 || found)
            break;
    }
    if (ret == 0) /* the end: now the length is known */
        s->count = s->next;
    if (ret >= 0 && q.n) {
        *frame = q.pkt[q.n - 1].pts;
        ret = decode_queue(s, &q, flush, pic);
    } else if (ret == 0 && s->count > 0) { /* at the end already: the last frame again */
        *frame = s->count - 1;
        s->next = INT64_MAX;
        ret = fetch_nvc(s, frame, pic);
    } else if (ret == 0) {
        ret = NVC_ERR_CORRUPT;
    }
    packets_clear(&q);
    free(q.pkt);
    if (ret < 0) {
        nvc_picture_unref(pic);
        return fail(s, ret, "%s: frame %" PRId64 ": %s", s->path, *frame, nvc_error_string(ret));
    }
    return 0;
}

static int fetch(FsrcSource *s, int64_t *frame, NvcPicture *pic)
{
    return s->dmx ? fetch_nvc(s, frame, pic) : fetch_input(s, frame, pic);
}

void fsrc_pack_rgba(const NvcPicture *rgb, uint8_t *out, int out_w, int out_h)
{
    const int w = rgb->p.w < out_w ? rgb->p.w : out_w, h = rgb->p.h < out_h ? rgb->p.h : out_h;
    for (int y = 0; y < out_h; y++) {
        uint8_t *d = out + (size_t)y * out_w * 4;
        int x = 0;
        if (y < h) {
            const uint8_t *r = (const uint8_t *)rgb->data[0] + y * rgb->stride[0];
            const uint8_t *g = (const uint8_t *)rgb->data[1] + y * rgb->stride[1];
            const uint8_t *b = (const uint8_t *)rgb->data[2] + y * rgb->stride[2];
            for (; x < w; x++, d += 4) {
                d[0] = r[x];
                d[1] = g[x];
                d[2] = b[x];
                d[3] = 255;
            }
        }
        for (; x < out_w; x++, d += 4) {
            d[0] = d[1] = d[2] = 0;
            d[3] = 255;
        }
    }
}

/* Picture -> (scaled) -> RGB -> s->rgba. */
static int convert(FsrcSource *s, NvcPicture *pic)
{
    NvcPicture scaled = { 0 }, rgb;
    int ret = 0;
    if (s->scale) {
        if ((ret = nvc_filter_send_picture(s->scale, pic)) == 0)
            ret = nvc_filter_get_picture(s->scale, &scaled);
        if (ret < 0)
            return fail(s, ret, "%s: scaling failed: %s", s->path, nvc_error_string(ret));
        pic = &scaled;
    }
    ret = nvc_picture_to_rgb(&rgb, pic, 8);
    nvc_picture_unref(&scaled);
    if (ret < 0)
        return fail(s, ret, "%s: RGB conversion failed: %s", s->path, nvc_error_string(ret));
    fsrc_pack_rgba(&rgb, s->rgba, s->w, s->h);
    nvc_picture_unref(&rgb);
    return 0;
}

int fsrc_render(FsrcSource *s, double time_ms, uint8_t *out)
{
    int ret = s->path ? 0 : fail(s, NVC_ERR(EINVAL), "no file given (filter_params=/path/clip.nvc)");
    const int64_t want = fsrc_frame_at(s->info.fps_num, s->info.fps_den, time_ms);
    int64_t frame = want;
    if (!ret && s->count > 0)
        frame = s->loop ? want % s->count : (want < s->count ? want : s->count - 1);
    if (!ret && frame != s->shown) {
        NvcPicture pic;
        ret = fetch(s, &frame, &pic);
        if (!ret && s->loop && s->count > 0 && want >= s->count && frame != want % s->count) {
            /* the end was found on the way: play from the start again */
            nvc_picture_unref(&pic);
            frame = want % s->count;
            ret = frame == s->shown ? 1 : fetch(s, &frame, &pic);
        }
        if (ret == 0) {
            ret = convert(s, &pic);
            nvc_picture_unref(&pic);
            s->shown = ret < 0 ? -1 : frame;
        }
        ret = ret > 0 ? 0 : ret;
    }
    if (ret < 0) {
        NvcPicture none = { 0 };
        fsrc_pack_rgba(&none, out, s->w, s->h);
        return ret;
    }
    memcpy(out, s->rgba, (size_t)s->w * s->h * 4);
    return 0;
}
