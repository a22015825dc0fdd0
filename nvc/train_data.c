/*
 * Training pictures in memory (nvc/train_data.h).
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
#include "nvc/train_data.h"

void nvc_train_load_default(NvcTrainLoadOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->frames_per_video = 6;
    o->max_short_side = 1080;
    o->min_side = 64;
}

void nvc_train_set_free(NvcTrainSet *set)
{
    for (int i = 0; i < set->n; i++) {
        free(set->img[i].rgb);
        free(set->img[i].source);
    }
    free(set->img);
    memset(set, 0, sizeof(*set));
}

int nvc_train_has_ext(const char *s, const char *ext)
{
    size_t n = strlen(s), m = strlen(ext);
    return n > m && !strcasecmp(s + n - m, ext);
}

int nvc_train_downscale_factor(int w, int h, int max_short_side)
{
    const int shorter = NVC_MIN(w, h);
    return max_short_side > 0 && shorter > max_short_side ? (shorter + max_short_side - 1) / max_short_side : 1;
}

void nvc_train_downscale(const NvcPicture *rgb, int f, uint8_t *dst)
{
    const int w = rgb->p.w / f, h = rgb->p.h / f;
    for (int c = 0; c < 3; c++) {
        const uint8_t *src = rgb->data[c];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned s = 0;
                for (int j = 0; j < f; j++)
                    for (int i = 0; i < f; i++)
                        s += src[(ptrdiff_t)(y * f + j) * rgb->stride[c] + x * f + i];
                dst[((size_t)c * h + y) * w + x] = (uint8_t)((s + f * f / 2) / (f * f));
            }
    }
}

static int add_picture(NvcTrainSet *set, const NvcPicture *pic, const char *source, const NvcTrainLoadOptions *o)
{
    NvcPicture rgb;
    int ret = nvc_picture_to_rgb(&rgb, pic, 8);
    if (ret < 0)
        return ret;
    const int f = nvc_train_downscale_factor(rgb.p.w, rgb.p.h, o->max_short_side);
    if (NVC_MIN(rgb.p.w, rgb.p.h) / f < o->min_side) {
        nvc_picture_unref(&rgb);
        return 0;
    }
    if (set->n == set->cap) {
        int cap = set->cap ? 2 * set->cap : 64;
        NvcTrainImage *img = realloc(set->img, sizeof(*img) * cap);
        if (!img) {
            nvc_picture_unref(&rgb);
            return NVC_ERR(ENOMEM);
        }
        set->img = img, set->cap = cap;
    }
    NvcTrainImage *t = &set->img[set->n];
    memset(t, 0, sizeof(*t));
    t->w = rgb.p.w / f, t->h = rgb.p.h / f;
    if ((t->rgb = malloc((size_t)3 * t->w * t->h)))
        nvc_train_downscale(&rgb, f, t->rgb);
    t->source = strdup(source);
    nvc_picture_unref(&rgb);
    if (!t->rgb || !t->source) {
        free(t->rgb);
        free(t->source);
        return NVC_ERR(ENOMEM);
    }
    /* sqrt(area): large photographs weigh more than small video frames, but
     * not in proportion to their size */
    t->weight = sqrt((double)t->w * t->h);
    set->total_weight += t->weight;
    set->pixels += (int64_t)t->w * t->h;
    set->n++;
    return 0;
}

static int add_file(NvcTrainSet *set, const char *path, const NvcTrainLoadOptions *o)
{
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.logger = o->logger;
    NvcInput *in;
    int ret = nvc_input_open(&in, path, &s);
    if (ret < 0)
        return ret;
    const NvcVideoInfo *info = nvc_input_info(in);
    const int64_t total = info->nb_frames > 0 ? info->nb_frames : 1;
    const int take = (int)NVC_MIN(total, (int64_t)NVC_MAX(o->frames_per_video, 1));
    int64_t next = 0;
    for (int k = 0; k < take && ret >= 0; k++) {
        int64_t want = total * k / take;
        if (want > next && (ret = nvc_input_skip(in, want - next)) < 0)
            break;
        NvcPicture pic;
        ret = nvc_input_read(in, &pic);
        if (ret <= 0)
            break;
        next = want + 1;
        char src[4096];
        if (total > 1)
            snprintf(src, sizeof(src), "%s#%lld", path, (long long)want);
        else
            snprintf(src, sizeof(src), "%s", path);
        ret = add_picture(set, &pic, src, o);
        nvc_picture_unref(&pic);
    }
    nvc_input_close(&in);
    return ret < 0 ? ret : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nvc_train_list_dir(const char *path, const char *ext, char ***namesp, int *np, const NvcLogger *lg)
{
    *namesp = NULL, *np = 0;
    DIR *d = opendir(path);
    if (!d)
        return nvc_log_error(lg, NVC_ERR(ENOENT), "%s: cannot open the folder", path);
    char **names = NULL;
    int n = 0, cap = 0, ret = 0;
    struct dirent *e;
    while ((e = readdir(d)) && !ret) {
        if (e->d_name[0] == '.' || (ext && !nvc_train_has_ext(e->d_name, ext)))
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
        qsort(names, n, sizeof(*names), cmp_str); /* the same order on every file system */
    *namesp = names, *np = n;
    return ret;
}

static int add_dir(NvcTrainSet *set, const char *path, const NvcTrainLoadOptions *o)
{
    char **names;
    int n, ret = nvc_train_list_dir(path, NULL, &names, &n, &o->logger);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (!ret && !stat(names[i], &st) &&
            (S_ISDIR(st.st_mode) || nvc_train_has_ext(names[i], ".png") || nvc_train_has_ext(names[i], ".y4m")))
            ret = nvc_train_set_add(set, names[i], o);
        free(names[i]);
    }
    free(names);
    return ret;
}

int nvc_train_set_add(NvcTrainSet *set, const char *path, const NvcTrainLoadOptions *o)
{
    if (!o->allow_kodak && strcasestr(path, "kodak"))
        return nvc_log_error(&o->logger, NVC_ERR(EINVAL), "%s: Kodak is the test set, not training data", path);
    struct stat st;
    if (stat(path, &st))
        return nvc_log_error(&o->logger, NVC_ERR(ENOENT), "%s: not found", path);
    if (S_ISDIR(st.st_mode))
        return add_dir(set, path, o);
    return add_file(set, path, o);
}

uint64_t nvc_train_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void nvc_train_crop(const uint8_t *rgb, int w, int h, float *out, int size, int x0, int y0, int flip)
{
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < size; y++) {
            const uint8_t *row = rgb + ((size_t)c * h + y0 + y) * w + x0;
            float *o = out + ((size_t)c * size + y) * size;
            for (int x = 0; x < size; x++)
                o[x] = row[flip ? size - 1 - x : x] * (1.0f / 255.0f);
        }
}

void nvc_train_set_crops(const NvcTrainSet *set, float *out, int B, int size, uint64_t *rng)
{
    for (int b = 0; b < B; b++) {
        double r = (nvc_train_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0) * set->total_weight;
        int i = 0;
        while (i < set->n - 1 && r >= set->img[i].weight)
            r -= set->img[i++].weight;
        const NvcTrainImage *t = &set->img[i];
        int cw = NVC_MIN(size, t->w), ch = NVC_MIN(size, t->h);
        int x0 = (int)(nvc_train_rng_next(rng) % (uint64_t)(t->w - cw + 1));
        int y0 = (int)(nvc_train_rng_next(rng) % (uint64_t)(t->h - ch + 1));
        int flip = (int)(nvc_train_rng_next(rng) & 1);
        nvc_train_crop(t->rgb, t->w, t->h, out + (size_t)b * 3 * size * size, size, x0, y0, flip);
    }
}

void nvc_train_set_fixed_crops(const NvcTrainSet *set, float *out, int B, int size, int first)
{
    for (int b = 0; b < B; b++) {
        int k = first + b;
        const NvcTrainImage *t = &set->img[(int)(((int64_t)k * 7919) % set->n)];
        int x0 = (int)(((int64_t)k * 104729) % (t->w - size + 1));
        int y0 = (int)(((int64_t)k * 1299709) % (t->h - size + 1));
        nvc_train_crop(t->rgb, t->w, t->h, out + (size_t)b * 3 * size * size, size, x0, y0, 0);
    }
}
