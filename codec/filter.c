/*
 * libavfilter graphs on nvc pictures (nvc/filter.h): buffer source ->
 * the user's graph -> buffer sink restricted to the formats nvc holds.
 * Pictures cross both ends without copies (codec/lav.c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>

#include "codec/internal.h"
#include "codec/lav.h"
#include "nvc/filter.h"

struct NvcFilterGraph {
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    NvcVideoInfo in, out;
    NvcFilterSettings s;
    AVRational out_tb;     /* time base of the sink's frames */
    AVRational out_frame;  /* one output frame */
    AVFrame *frame;
    int64_t count;         /* pictures returned (pts when a filter drops them) */
    int ended;
};

static const enum AVPixelFormat sink_formats[] = {
    AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV420P12,
    AV_PIX_FMT_YUV420P16, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUV444P10,
    AV_PIX_FMT_YUV444P12, AV_PIX_FMT_YUV444P16, AV_PIX_FMT_GBRP, AV_PIX_FMT_GBRP10,
    AV_PIX_FMT_GBRP12, AV_PIX_FMT_GBRP16, AV_PIX_FMT_GRAY8, AV_PIX_FMT_GRAY10,
    AV_PIX_FMT_GRAY12, AV_PIX_FMT_GRAY16, AV_PIX_FMT_NONE,
};

void nvc_filter_default_settings(NvcFilterSettings *s)
{
    memset(s, 0, sizeof(*s));
}

static int is_rgb(const NvcPictureParameters *p, const NvcColorDescription *c)
{
    return p->layout == NVC_PIXEL_LAYOUT_I444 && c->matrix == NVC_MC_IDENTITY;
}

static int create_ends(NvcFilterGraph *g)
{
    const NvcVideoInfo *in = &g->in;
    const enum AVPixelFormat fmt = nvc_lav_pix_fmt(&in->p, is_rgb(&in->p, &in->color));
    if (fmt == AV_PIX_FMT_NONE)
        return nvc_log_error(&g->s.logger, NVC_ERR(EINVAL), "filter input: unsupported picture format");
    char args[256];
    snprintf(args, sizeof(args),
             "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d:frame_rate=%d/%d",
             in->p.w, in->p.h, (int)fmt, in->fps_den, in->fps_num, in->sar_num, in->sar_den,
             in->fps_num, in->fps_den);
    int ret = avfilter_graph_create_filter(&g->src, avfilter_get_by_name("buffer"), "in", args,
                                           NULL, g->graph);
    if (ret < 0)
        return NVC_ERR(ENOMEM);
    g->sink = avfilter_graph_alloc_filter(g->graph, avfilter_get_by_name("buffersink"), "out");
    if (!g->sink)
        return NVC_ERR(ENOMEM);
    ret = av_opt_set_int_list(g->sink, "pix_fmts", sink_formats, AV_PIX_FMT_NONE,
                              AV_OPT_SEARCH_CHILDREN);
    if (ret >= 0)
        ret = avfilter_init_str(g->sink, NULL);
    return ret < 0 ? NVC_ERR(ENOMEM) : 0;
}

/* Parse desc between the two ends (the unlabelled input and output of the
 * graph, as `ffmpeg -vf`) and configure it. */
static int build(NvcFilterGraph *g, const char *desc)
{
    AVFilterInOut *outputs = avfilter_inout_alloc(), *inputs = avfilter_inout_alloc();
    int ret = AVERROR(ENOMEM);
    if (outputs && inputs && (outputs->name = av_strdup("in")) && (inputs->name = av_strdup("out"))) {
        outputs->filter_ctx = g->src;
        inputs->filter_ctx = g->sink;
        ret = avfilter_graph_parse_ptr(g->graph, *desc ? desc : "null", &inputs, &outputs, NULL);
    }
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    char err[128];
    if (ret < 0)
        return nvc_log_error(&g->s.logger, ret == AVERROR(ENOMEM) ? NVC_ERR(ENOMEM) : NVC_ERR(EINVAL),
                             "invalid filter graph '%s': %s", desc, nvc_lav_err_text(ret, err, sizeof(err)));
    if ((ret = avfilter_graph_config(g->graph, NULL)) < 0)
        return nvc_log_error(&g->s.logger, ret == AVERROR(ENOMEM) ? NVC_ERR(ENOMEM) : NVC_ERR(EINVAL),
                             "cannot configure filter graph '%s': %s", desc,
                             nvc_lav_err_text(ret, err, sizeof(err)));
    return 0;
}

/* What the configured sink says about its pictures. */
static int describe_output(NvcFilterGraph *g)
{
    NvcVideoInfo *o = &g->out;
    *o = g->in;
    o->nb_frames = -1;
    o->p.w = av_buffersink_get_w(g->sink);
    o->p.h = av_buffersink_get_h(g->sink);
    int rgb, full;
    if (nvc_lav_params_of((enum AVPixelFormat)av_buffersink_get_format(g->sink), &o->p, &rgb, &full) < 0)
        return nvc_log_error(&g->s.logger, NVC_ERR(EINVAL), "filter graph output has no nvc format");
    if (rgb) {
        o->color.matrix = NVC_MC_IDENTITY;
        o->color.range = NVC_RANGE_FULL;
    } else if (o->color.matrix == NVC_MC_IDENTITY) {
        o->color.matrix = NVC_MC_UNSPECIFIED;
        o->color.range = NVC_RANGE_LIMITED;
    }
    if (full)
        o->color.range = NVC_RANGE_FULL;
    AVRational fr = av_buffersink_get_frame_rate(g->sink);
    if (fr.num > 0 && fr.den > 0) {
        o->fps_num = fr.num;
        o->fps_den = fr.den;
    }
    AVRational sar = av_buffersink_get_sample_aspect_ratio(g->sink);
    if (sar.num > 0 && sar.den > 0) {
        o->sar_num = sar.num;
        o->sar_den = sar.den;
    }
    g->out_tb = av_buffersink_get_time_base(g->sink);
    g->out_frame = (AVRational){ o->fps_den, o->fps_num };
    return 0;
}

int nvc_filter_open(NvcFilterGraph **pg, const char *desc, const NvcVideoInfo *in,
                    const NvcFilterSettings *s)
{
    *pg = NULL;
    NvcFilterSettings defaults;
    if (!s) {
        nvc_filter_default_settings(&defaults);
        s = &defaults;
    }
    if (!desc || !in || in->fps_num < 1 || in->fps_den < 1)
        return NVC_ERR(EINVAL);
    NvcFilterGraph *g = calloc(1, sizeof(*g));
    if (!g)
        return NVC_ERR(ENOMEM);
    g->s = *s;
    g->in = *in;
    if (g->in.sar_num < 1 || g->in.sar_den < 1)
        g->in.sar_num = g->in.sar_den = 1;
    int ret = NVC_ERR(ENOMEM);
    if ((g->graph = avfilter_graph_alloc()) && (g->frame = av_frame_alloc())) {
        g->graph->nb_threads = s->n_threads;
        ret = create_ends(g);
    }
    if (!ret)
        ret = build(g, desc);
    if (!ret)
        ret = describe_output(g);
    if (ret < 0) {
        nvc_filter_close(&g);
        return ret;
    }
    *pg = g;
    return 0;
}

const NvcVideoInfo *nvc_filter_output_info(const NvcFilterGraph *g)
{
    return &g->out;
}

int nvc_filter_send_picture(NvcFilterGraph *g, const NvcPicture *pic)
{
    char err[128];
    int ret;
    if (g->ended)
        return NVC_ERR(EINVAL);
    if (!pic) {
        g->ended = 1;
        ret = av_buffersrc_add_frame(g->src, NULL);
    } else {
        if (memcmp(&pic->p, &g->in.p, sizeof(pic->p)) ||
            is_rgb(&pic->p, &pic->color) != is_rgb(&g->in.p, &g->in.color))
            return nvc_log_error(&g->s.logger, NVC_ERR(EINVAL), "filter input: picture %dx%d/%d-bit "
                                 "does not match the graph's %dx%d/%d-bit", pic->p.w, pic->p.h,
                                 pic->p.bpc, g->in.p.w, g->in.p.h, g->in.p.bpc);
        AVFrame *f;
        if ((ret = nvc_lav_frame_from_picture(&f, pic)) < 0)
            return ret;
        ret = av_buffersrc_add_frame(g->src, f);
        av_frame_free(&f);
    }
    if (ret < 0)
        return nvc_log_error(&g->s.logger, nvc_lav_error(ret), "filtering failed: %s",
                             nvc_lav_err_text(ret, err, sizeof(err)));
    return 0;
}

int nvc_filter_get_picture(NvcFilterGraph *g, NvcPicture *pic)
{
    memset(pic, 0, sizeof(*pic));
    int ret = av_buffersink_get_frame(g->sink, g->frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return NVC_ERR(EAGAIN);
    char err[128];
    if (ret < 0)
        return nvc_log_error(&g->s.logger, nvc_lav_error(ret), "filtering failed: %s",
                             nvc_lav_err_text(ret, err, sizeof(err)));
    const int64_t ts = g->frame->pts;
    ret = nvc_lav_picture_from_frame(pic, g->frame);
    av_frame_unref(g->frame);
    if (ret < 0)
        return nvc_log_error(&g->s.logger, ret, "filter graph output: unsupported picture");
    pic->pts = ts == AV_NOPTS_VALUE ? g->count : av_rescale_q(ts, g->out_tb, g->out_frame);
    if (!g->count++) {
        g->out.color = pic->color;
        g->out.p = pic->p;
    }
    return 0;
}

void nvc_filter_close(NvcFilterGraph **pg)
{
    NvcFilterGraph *g = *pg;
    if (!g)
        return;
    avfilter_graph_free(&g->graph);
    av_frame_free(&g->frame);
    free(g);
    *pg = NULL;
}
