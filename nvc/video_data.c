/*
 * Training clips in memory (nvc/video_data.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "codec/internal.h"
#include "nvc/convert.h"
#include "nvc/io.h"
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

/* Frame k of clip c from an RGB picture, box-downscaled by f. */
static void put_frame(NvcVidClip *c, int k, const NvcPicture *rgb, int f)
{
    const int w = c->w, h = c->h;
    for (int p = 0; p < 3; p++) {
        const uint8_t *src = rgb->data[p];
        uint8_t *dst = c->rgb + ((size_t)k * 3 + p) * w * h;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned sum = 0;
                for (int j = 0; j < f; j++)
                    for (int i = 0; i < f; i++)
                        sum += src[(ptrdiff_t)(y * f + j) * rgb->stride[p] + x * f + i];
                dst[(size_t)y * w + x] = (uint8_t)((sum + f * f / 2) / (f * f));
            }
    }
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
            const int shorter = NVC_MIN(rgb.p.w, rgb.p.h);
            if (o->max_short_side > 0 && shorter > o->max_short_side)
                f = (shorter + o->max_short_side - 1) / o->max_short_side;
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
        put_frame(&c, c.n++, &rgb, f);
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_ext(const char *s, const char *ext)
{
    size_t n = strlen(s), m = strlen(ext);
    return n > m && !strcasecmp(s + n - m, ext);
}

static int add_dir(NvcVidClipSet *s, const char *path, const NvcVidClipOptions *o)
{
    DIR *d = opendir(path);
    if (!d)
        return nvc_log_error(&o->logger, NVC_ERR(ENOENT), "%s: cannot open the folder", path);
    char **names = NULL;
    int n = 0, cap = 0, ret = 0;
    struct dirent *e;
    while ((e = readdir(d)) && !ret) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name, ".y4m"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, sizeof(*names) * cap);
            if (!nn) {
                ret = NVC_ERR(ENOMEM);
                break;
            }
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len)))
            ret = NVC_ERR(ENOMEM);
        else
            snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
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

static uint64_t next_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
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
        double r = (next_rng(rng) >> 11) * (1.0 / 9007199254740992.0) * total;
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
        const int k0 = (int)(next_rng(rng) % (uint64_t)(c->n - F + 1));
        const int x0 = (int)(next_rng(rng) % (uint64_t)(c->w - size + 1));
        const int y0 = (int)(next_rng(rng) % (uint64_t)(c->h - size + 1));
        const int flip = (int)(next_rng(rng) & 1);
        for (int f = 0; f < F; f++)
            for (int p = 0; p < 3; p++)
                for (int y = 0; y < size; y++) {
                    const uint8_t *row = c->rgb + (((size_t)(k0 + f) * 3 + p) * c->h + y0 + y) * c->w + x0;
                    float *o = out + ((size_t)f * B + b) * fs + ((size_t)p * size + y) * size;
                    for (int x = 0; x < size; x++)
                        o[x] = row[flip ? size - 1 - x : x] * (1.0f / 255.0f);
                }
    }
    return 0;
}
