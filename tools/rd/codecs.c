/*
 * nvc-rd: the codecs it knows, and point identity.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools/rd/rd.h"

/* guess_q/guess_bpp only place the first probe of an automatic search (every
 * later probe follows measured sizes); cost only feeds the ETA until the
 * first point of a codec has been timed. */
const RdCodec rd_codecs[] = {
    { "x264", RD_KIND_LAVC, 0, "crf", 1, 51, 28, 0.05, NULL, 1 },
    { "x265", RD_KIND_LAVC, 0, "crf", 1, 51, 30, 0.05, NULL, 4 },
    { "svtav1", RD_KIND_LAVC, 0, "crf", 1, 63, 40, 0.05, NULL, 2 },
    { "hnerv", RD_KIND_NVC, NVC_CODEC_HNERV, "size", 0, 0, 0, 0, "xs,s,m,l,xl", 2000 },
    { "nervpp", RD_KIND_NVC, NVC_CODEC_NERVPP, "size", 0, 0, 0, 0, "xs,s,m,l,xl", 2000 },
    { "image", RD_KIND_NVC, NVC_CODEC_IMAGE, "q", 0, 63, 0, 0, "0,16,32,48,63", 200 },
    { "dcvc", RD_KIND_NVC, NVC_CODEC_DCVC, "q", 0, 63, 0, 0, "0,16,32,48,63", 200 },
    { NULL },
};

const RdCodec *rd_codec_find(const char *name)
{
    for (const RdCodec *c = rd_codecs; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

void rd_point_init(RdPoint *pt, const RdJob *job)
{
    memset(pt, 0, sizeof(*pt));
    snprintf(pt->clip, sizeof(pt->clip), "%s", job->clip->label);
    snprintf(pt->codec, sizeof(pt->codec), "%s", job->codec->name);
    if (job->codec->kind == RD_KIND_LAVC)
        snprintf(pt->gop, sizeof(pt->gop), "%s", job->gop == RD_GOP_LD ? "ld" : "ra");
    else
        snprintf(pt->gop, sizeof(pt->gop), "%s",
                 job->codec->nvc_id == NVC_CODEC_DCVC    ? "ld"
                 : job->codec->nvc_id == NVC_CODEC_IMAGE ? "intra"
                                                         : "inr");
    snprintf(pt->knob, sizeof(pt->knob), "%s", job->knob);
    snprintf(pt->value, sizeof(pt->value), "%s", job->value);
    pt->frames = job->clip->frames;
    pt->w = job->clip->info.p.w;
    pt->h = job->clip->info.p.h;
    pt->target_bpp = job->target_bpp;
    pt->psnr_y = pt->psnr_u = pt->psnr_v = pt->psnr_yuv = pt->psnr_rgb = NAN;
    pt->psnr_y_pooled = pt->psnr_yuv_pooled = NAN;
    pt->msssim_y = pt->msssim_yuv = pt->msssim_rgb = NAN;
    pt->enc_s = pt->dec_s = NAN;
    pt->threads = job->opt->threads;
    pt->key_frames = -1;
    snprintf(pt->frame_types, sizeof(pt->frame_types), "-");
    rd_job_setting(job, pt->setting, sizeof(pt->setting));
}

void rd_point_key(const RdPoint *pt, char *key, size_t size)
{
    snprintf(key, size, "%s|%s|%lld|%s", pt->clip, pt->codec, (long long)pt->frames, pt->setting);
}

/* Keyframe interval for "one intra frame": SVT-AV1 through FFmpeg 5.1 needs
 * a GOP of 2 at least (gop_size - 1 is its intra period). */
int rd_job_keyint(const RdJob *job)
{
    const int64_t n = job->clip->frames;
    if (!strcmp(job->codec->name, "svtav1") && n < 2)
        return 2;
    return (int)n;
}

void rd_job_setting(const RdJob *job, char *buf, size_t size)
{
    const char *name = job->codec->name;
    const int ld = job->gop == RD_GOP_LD, k = rd_job_keyint(job);
    char img[16] = "";
    if (job->clip->image)
        snprintf(img, sizeof(img), ":yuv=%s", job->opt->image_chroma444 ? "444" : "420");
    if (!strcmp(name, "x264")) {
        snprintf(buf, size, "preset=medium:%s=%s:keyint=%d:scenecut=0:cpu-independent=1%s%s",
                 job->knob, job->value, k, ld ? ":bframes=0" : "", img);
    } else if (!strcmp(name, "x265")) {
        snprintf(buf, size, "preset=medium:%s=%s:keyint=%d:min-keyint=%d:scenecut=0:info=0%s%s",
                 job->knob, job->value, k, k, ld ? ":bframes=0" : "", img);
    } else if (!strcmp(name, "svtav1")) {
        snprintf(buf, size, "preset=8:%s=%s:keyint=%d:scd=0%s%s", job->knob, job->value, k,
                 ld ? ":pred-struct=1" : "", img);
    } else {
        const RdOptions *o = job->opt;
        char ep[32] = "default", qat[32] = "default";
        if (o->epochs > 0)
            snprintf(ep, sizeof(ep), "%d", o->epochs);
        if (o->qat_epochs >= 0)
            snprintf(qat, sizeof(qat), "%d", o->qat_epochs);
        snprintf(buf, size, "%s=%s:epochs=%s:qbits=%d:qat-epochs=%s:seed=%llu:device=%s:%s",
                 job->knob, job->value, ep, o->qbits > 0 ? o->qbits : 8, qat,
                 (unsigned long long)o->seed, o->device == NVC_DEVICE_CUDA ? "cuda" : "cpu",
                 nvc_container_name(o->container));
        if (!o->adaptive_intra && !strcmp(name, "dcvc")) /* the default leaves the settings as they were */
            strncat(buf, ":adaptive-intra=0", size - strlen(buf) - 1);
    }
}

#ifndef NVC_HAVE_FFMPEG
/* A build without FFmpeg has no classic codecs: rd_lavc_available says so,
 * so nvc-rd never asks for the others. */
int rd_lavc_init(int verbose)
{
    return 0;
}

int rd_lavc_available(const RdCodec *codec, char *why, size_t whysz)
{
    snprintf(why, whysz, "this build has no FFmpeg (configured with --disable-ffmpeg)");
    return 0;
}

int rd_lavc_encode(RdJob *job, RdPoint *pt, RdStream **out, char *err, size_t errsz)
{
    *out = NULL;
    snprintf(err, errsz, "this build has no FFmpeg");
    return NVC_ERR(ENOSYS);
}

int rd_lavc_decode(RdJob *job, const RdStream *s, RdPoint *pt, char *err, size_t errsz)
{
    snprintf(err, errsz, "this build has no FFmpeg");
    return NVC_ERR(ENOSYS);
}

int rd_lavc_write(const RdStream *s, const char *path, char *err, size_t errsz)
{
    snprintf(err, errsz, "this build has no FFmpeg");
    return NVC_ERR(ENOSYS);
}

const char *rd_lavc_extension(const RdCodec *codec)
{
    return "bin";
}

void rd_lavc_free(RdStream **s)
{
    *s = NULL;
}

const char *rd_lavc_version(void)
{
    return "no libavcodec";
}
#endif
