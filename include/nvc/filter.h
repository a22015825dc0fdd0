/*
 * nvc: libavfilter graphs on nvc pictures (scale, crop, fps, drawtext,
 * split + hstack, ...): the graph of `nvdec -vf`. Needs a build with
 * FFmpeg; without it every call returns NVC_ERR(ENOSYS).
 *
 * Use: nvc_filter_open() with the graph and the input's properties, then
 * alternate nvc_filter_send_picture() and nvc_filter_get_picture() until
 * the latter returns NVC_ERR(EAGAIN); at the end send NULL and fetch until
 * NVC_ERR(EAGAIN) again (filters such as fps or reverse release pictures
 * only then).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_FILTER_H
#define NVC_FILTER_H

#include "nvc/common.h"
#include "nvc/io.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NvcFilterGraph NvcFilterGraph;

typedef struct NvcFilterSettings {
    int n_threads;      /* libavfilter threads; default 0 = libavfilter's choice */
    NvcLogger logger;   /* default: silent. libavfilter's own explanation of a bad
                           graph ("No such filter: 'x'") goes through av_log, see
                           nvc_ffmpeg_route_log in nvc/container.h */
} NvcFilterSettings;

NVC_API void nvc_filter_default_settings(NvcFilterSettings *s);

/* Build the graph `desc` (libavfilter syntax; one video input and one video
 * output, e.g. "scale=640:-2,fps=10" or "split[a][b];[a][b]hstack") for
 * pictures described by `in`. Pictures leave the graph in a format nvc
 * holds (gray, 4:2:0, 4:4:4 YCbCr or planar RGB at 8, 10, 12 or 16 bits);
 * libavfilter converts to the nearest one when a filter produces another.
 * Returns 0 with *g set, NVC_ERR(EINVAL) for a graph libavfilter rejects
 * (reason logged), NVC_ERR(ENOSYS) in a build without FFmpeg, NVC_ERR(ENOMEM);
 * *g is NULL on failure. */
NVC_API int nvc_filter_open(NvcFilterGraph **g, const char *desc, const NvcVideoInfo *in,
                            const NvcFilterSettings *s);

/* Properties of the pictures the graph returns: size, layout, depth,
 * frame rate and sample aspect ratio from the configured graph; the colour
 * description is the input's until the first picture is fetched, then that
 * picture's. nb_frames is -1. Valid until nvc_filter_close. */
NVC_API const NvcVideoInfo *nvc_filter_output_info(const NvcFilterGraph *g);

/* Give one picture (NULL: end of input). pic->pts is in input frame units
 * (the frame index). The graph takes its own reference. Returns 0 or a
 * negative error (logged). */
NVC_API int nvc_filter_send_picture(NvcFilterGraph *g, const NvcPicture *pic);

/* Fetch the next filtered picture (a new reference). Its pts is in output
 * frame units: the output frame rate's frame index, counted from the
 * graph's first output time. Returns 0 with a picture, NVC_ERR(EAGAIN)
 * when more input is needed (or, after the end, when none are left), or a
 * negative error. */
NVC_API int nvc_filter_get_picture(NvcFilterGraph *g, NvcPicture *pic);

NVC_API void nvc_filter_close(NvcFilterGraph **g);

#ifdef __cplusplus
}
#endif

#endif /* NVC_FILTER_H */
