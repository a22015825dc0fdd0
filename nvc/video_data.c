/*
 * Training clips in memory (nvc/video_data.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/internal.h"
#include "nvc/convert.h"
#include "nvc/io.h"
#include "nvc/train_data.h"
#include "nvc/video_data.h"

void nvc_vid_clip_options_default(NvcVidClipOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->max_frames = 64;
    o->max_short_side = 720;
    o->min_frames = 2;
}

void nvc_vid_clips_free(NvcVidClipSet *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->clip[i].rgb);
        free(s->clip[i].source);
    }
    free(s->clip);
    memset(s, 0, sizeof(*s));
}

static int add_file(NvcVidClipSet *s, const char *path, const NvcVidClipOptions *o)
{
    NvcInputSettings is;
    nvc_input_default_settings(&is);
    is.logger = o->logger;
    NvcInput *in;
    int ret = nvc_input_open(&in, path, &is);
    if (ret < 0)
        return ret;
    NvcVidClip c = { 0 };
    int f = 1, cap = 0;
    for (int k = 0; k < o->max_frames; k++) {
        NvcPicture pic, rgb;
        if ((ret = nvc_input_read(in, &pic)) <= 0)
            break;
        ret = nvc_picture_to_rgb(&rgb, &pic, 8);
        nvc_picture_unref(&pic);
        if (ret < 0)
            break;
        if (!k) {
            f = nvc_train_downscale_factor(rgb.p.w, rgb.p.h, o->max_short_side);
            c.w = rgb.p.w / f, c.h = rgb.p.h / f;
        } else if (rgb.p.w / f != c.w || rgb.p.h / f != c.h) {
            nvc_picture_unref(&rgb);
            break; /* a size change ends the clip */
        }
        if (c.n == cap) {
            cap = cap ? 2 * cap : 8;
            uint8_t *nb = realloc(c.rgb, (size_t)cap * 3 * c.w * c.h);
            if (!nb) {
                nvc_picture_unref(&rgb);
                ret = NVC_ERR(ENOMEM);
                break;
            }
            c.rgb = nb;
        }
        nvc_train_downscale(&rgb, f, c.rgb + (size_t)c.n++ * 3 * c.w * c.h);
        nvc_picture_unref(&rgb);
    }
    nvc_input_close(&in);
    if (ret < 0 || c.n < NVC_MAX(o->min_frames, 1) || NVC_MIN(c.w, c.h) < o->min_side) {
        free(c.rgb);
        return ret < 0 ? ret : 0;
    }
    if (s->n == s->cap) {
        int ncap = s->cap ? 2 * s->cap : 32;
        NvcVidClip *nc = realloc(s->clip, sizeof(*nc) * ncap);
        if (!nc) {
            free(c.rgb);
            return NVC_ERR(ENOMEM);
        }
        s->clip = nc, s->cap = ncap;
    }
    if (!(c.source = strdup(path))) {
        free(c.rgb);
        return NVC_ERR(ENOMEM);
    }
    s->clip[s->n++] = c;
    s->frames += c.n;
    return 0;
}

static int add_dir(NvcVidClipSet *s, const char *path, const NvcVidClipOptions *o)
{
    char **names;
    int n, ret = nvc_train_list_dir(path, ".y4m", &names, &n, &o->logger);
    for (int i = 0; i < n; i++) {
        if (!ret)
            ret = add_file(s, names[i], o);
        free(names[i]);
    }
    free(names);
    return ret;
}

int nvc_vid_clips_add(NvcVidClipSet *s, const char *path, const NvcVidClipOptions *o)
{
    struct stat st;
    if (stat(path, &st))
        return nvc_log_error(&o->logger, NVC_ERR(ENOENT), "%s: not found", path);
    return S_ISDIR(st.st_mode) ? add_dir(s, path, o) : add_file(s, path, o);
}

int nvc_vid_clips_chains(const NvcVidClipSet *s, float *out, int B, int F, int size, uint64_t *rng)
{
    double total = 0;
    for (int i = 0; i < s->n; i++)
        if (s->clip[i].n >= F && s->clip[i].w >= size && s->clip[i].h >= size)
            total += sqrt((double)s->clip[i].w * s->clip[i].h);
    if (total <= 0)
        return NVC_ERR(EINVAL);
    const size_t fs = (size_t)3 * size * size;
    for (int b = 0; b < B; b++) {
        double r = (nvc_train_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0) * total;
        int i = -1;
        for (int j = 0; j < s->n; j++) {
            const NvcVidClip *c = &s->clip[j];
            if (c->n < F || c->w < size || c->h < size)
                continue;
            i = j;
            double wgt = sqrt((double)c->w * c->h);
            if (r < wgt)
                break;
            r -= wgt;
        }
        const NvcVidClip *c = &s->clip[i];
        const int k0 = (int)(nvc_train_rng_next(rng) % (uint64_t)(c->n - F + 1));
        const int x0 = (int)(nvc_train_rng_next(rng) % (uint64_t)(c->w - size + 1));
        const int y0 = (int)(nvc_train_rng_next(rng) % (uint64_t)(c->h - size + 1));
        const int flip = (int)(nvc_train_rng_next(rng) & 1);
        for (int f = 0; f < F; f++)
            nvc_train_crop(c->rgb + (size_t)(k0 + f) * 3 * c->w * c->h, c->w, c->h, out + ((size_t)f * B + b) * fs,
                           size, x0, y0, flip);
    }
    return 0;
}
