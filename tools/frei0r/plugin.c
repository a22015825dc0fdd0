/*
 * nvc.so: a frei0r source plugin that plays an nvc stream, so that
 *   ffplay -f lavfi "frei0r_src=size=WxH:framerate=R:filter_name=nvc:filter_params=/path/clip.nvc"
 * (and the same input in ffmpeg) shows a .nvc without a pipe.
 *
 * Parameters (filter_params, separated by '|'):
 *   0 file  (string) the stream: .nvc, .nvces, or any picture file nvc reads
 *   1 loop  (bool, y/n, default n) after the last frame start again instead
 *           of holding it
 * FFmpeg 5.1's frei0r_src: RGBA only; the rows it allocates are padded to a
 * multiple of 16 pixels while the plugin writes rows of exactly the width,
 * so a width that is not a multiple of 16 shears the picture: ask for the
 * width rounded up (the picture is then padded on the right) and crop
 * (",crop=W:H:0:0"); the size and rate are the user's (the stream's rate
 * picks the frames: frame = time * stream rate); times arrive in
 * milliseconds; the source never ends (use -frames:v N or -t).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frei0r.h>

#include "tools/frei0r/source.h"

#define F0R_EXPORT __attribute__((visibility("default")))

typedef struct Instance {
    FsrcSource *src;
    int w, h;
    char *file;
    double loop;
    int reported;      /* the last error was printed */
    int warned_width;
} Instance;

F0R_EXPORT int f0r_init(void)
{
    return 1;
}

F0R_EXPORT void f0r_deinit(void)
{
}

F0R_EXPORT void f0r_get_plugin_info(f0r_plugin_info_t *info)
{
    info->name = "nvc";
    info->author = "nvc";
    info->plugin_type = F0R_PLUGIN_TYPE_SOURCE;
    info->color_model = F0R_COLOR_MODEL_RGBA8888;
    info->frei0r_version = FREI0R_MAJOR_VERSION;
    info->major_version = NVC_API_VERSION_MAJOR;
    info->minor_version = NVC_API_VERSION_MINOR;
    info->num_params = 2;
    info->explanation = "Plays an nvc stream (.nvc) or any picture file nvc reads";
}

F0R_EXPORT void f0r_get_param_info(f0r_param_info_t *info, int index)
{
    if (index == 0) {
        info->name = "file";
        info->type = F0R_PARAM_STRING;
        info->explanation = "the stream to play (.nvc, .nvces, .y4m ...)";
    } else if (index == 1) {
        info->name = "loop";
        info->type = F0R_PARAM_BOOL;
        info->explanation = "after the last frame start again (default: hold the last frame)";
    }
}

F0R_EXPORT f0r_instance_t f0r_construct(unsigned int width, unsigned int height)
{
    Instance *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->w = (int)width;
    in->h = (int)height;
    if (!(in->src = fsrc_create(in->w, in->h))) {
        free(in);
        return NULL;
    }
    return in;
}

F0R_EXPORT void f0r_destruct(f0r_instance_t instance)
{
    Instance *in = instance;
    fsrc_free(&in->src);
    free(in->file);
    free(in);
}

/* A plugin has no other channel to its user than stderr. */
static void report(Instance *in)
{
    if (!in->reported++)
        fprintf(stderr, "nvc frei0r: %s\n", fsrc_error(in->src));
}

static void check_width(Instance *in)
{
    const NvcVideoInfo *info = fsrc_info(in->src);
    if (in->warned_width++ || !info)
        return;
    if (in->w % 16)
        fprintf(stderr, "nvc frei0r: warning: width %d is not a multiple of 16; FFmpeg 5.1's "
                "frei0r_src shears such frames: use size=%dx%d and add ,crop=%d:%d:0:0\n", in->w,
                (in->w + 15) / 16 * 16, in->h, in->w, in->h);
    else if (in->w != info->p.w && in->w - info->p.w < 16 && in->h == info->p.h)
        fprintf(stderr, "nvc frei0r: %s is %dx%d, padded to %dx%d: add ,crop=%d:%d:0:0\n",
                in->file, info->p.w, info->p.h, in->w, in->h, info->p.w, info->p.h);
}

F0R_EXPORT void f0r_set_param_value(f0r_instance_t instance, f0r_param_t param, int index)
{
    Instance *in = instance;
    if (index == 0) {
        const char *path = *(f0r_param_string *)param;
        if (!path || (in->file && !strcmp(in->file, path)))
            return;
        free(in->file);
        in->file = strdup(path);
        in->reported = in->warned_width = 0;
        if (in->file && fsrc_open(in->src, in->file) < 0)
            report(in);
        else
            check_width(in);
    } else if (index == 1) {
        in->loop = *(f0r_param_bool *)param;
        fsrc_set_loop(in->src, in->loop >= 0.5);
    }
}

F0R_EXPORT void f0r_get_param_value(f0r_instance_t instance, f0r_param_t param, int index)
{
    Instance *in = instance;
    if (index == 0)
        *(f0r_param_string *)param = in->file ? in->file : "";
    else if (index == 1)
        *(f0r_param_bool *)param = in->loop;
}

F0R_EXPORT void f0r_update(f0r_instance_t instance, double time, const uint32_t *inframe,
                           uint32_t *outframe)
{
    Instance *in = instance;
    if (fsrc_render(in->src, time, (uint8_t *)outframe) < 0)
        report(in);
}
