/*
 * Builds without FFmpeg: the FFmpeg-backed inputs, outputs and filter
 * graphs report NVC_ERR(ENOSYS).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <string.h>

#include "codec/internal.h"
#include "codec/io_internal.h"
#include "nvc/filter.h"

int nvc_lavf_input_open(NvcInput *in)
{
    return nvc_log_error(&in->s.logger, NVC_ERR(ENOTSUP), "%s: unknown input format (expected "
                         ".y4m, .yuv or .png; this build has no FFmpeg for other formats)", in->path);
}

int nvc_lavf_input_read(NvcInput *in, NvcPicture *pic)
{
    return NVC_ERR(ENOSYS);
}

int nvc_lavf_input_skip(NvcInput *in, int64_t n)
{
    return NVC_ERR(ENOSYS);
}

void nvc_lavf_input_close(NvcInput *in)
{
}

int nvc_lavf_output_known(const char *path)
{
    return 0;
}

int nvc_lavf_output_open(NvcOutput *out)
{
    return nvc_log_error(&out->s.logger, NVC_ERR(ENOSYS), "%s: this build has no FFmpeg", out->path);
}

int nvc_lavf_output_write(NvcOutput *out, const NvcPicture *pic)
{
    return NVC_ERR(ENOSYS);
}

int nvc_lavf_output_close(NvcOutput *out, int commit)
{
    return 0;
}

void nvc_filter_default_settings(NvcFilterSettings *s)
{
    memset(s, 0, sizeof(*s));
}

int nvc_filter_open(NvcFilterGraph **g, const char *desc, const NvcVideoInfo *in,
                    const NvcFilterSettings *s)
{
    *g = NULL;
    return nvc_log_error(s ? &s->logger : NULL, NVC_ERR(ENOSYS), "filter graphs need a build with FFmpeg");
}

const NvcVideoInfo *nvc_filter_output_info(const NvcFilterGraph *g)
{
    return NULL;
}

int nvc_filter_send_picture(NvcFilterGraph *g, const NvcPicture *pic)
{
    return NVC_ERR(ENOSYS);
}

int nvc_filter_get_picture(NvcFilterGraph *g, NvcPicture *pic)
{
    memset(pic, 0, sizeof(*pic));
    return NVC_ERR(ENOSYS);
}

void nvc_filter_close(NvcFilterGraph **g)
{
    *g = NULL;
}
