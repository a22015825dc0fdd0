/*
 * PNG pictures and numbered PNG sequences through libpng: 8/16-bit gray,
 * gray+alpha, RGB, RGBA and palette in (alpha is dropped, with a warning),
 * 8/16-bit gray or RGB out. RGB pictures are I444 with NVC_MC_IDENTITY.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/internal.h"
#include "codec/io_internal.h"
#include "config.h"
#include "nvc/convert.h"

#ifdef NVC_HAVE_PNG
#include <png.h>

typedef struct PngErr {
    const NvcLogger *logger;
    const char *path;
} PngErr;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    PngErr *e = png_get_error_ptr(png);
    nvc_log(e->logger, NVC_LOG_ERROR, "%s: bad PNG: %s", e->path, msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    PngErr *e = png_get_error_ptr(png);
    nvc_log(e->logger, NVC_LOG_DEBUG, "%s: PNG: %s", e->path, msg);
}

/* Decode one PNG file into pic (or, with pic NULL, only its properties into
 * p). `expect`, when given, must match the file's properties. */
static int png_load(const char *path, const NvcInputSettings *s, NvcPictureParameters *p,
                    NvcPicture *pic, int *had_alpha)
{
    FILE *f;
    int ret = nvc_file_open_read(&f, path, &s->logger);
    if (ret < 0)
        return ret;
    uint8_t sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        return nvc_log_error(&s->logger, NVC_ERR_CORRUPT, "%s: not a PNG file", path);
    }
    PngErr err = { &s->logger, path };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_error_cb,
                                             png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile row = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        return NVC_ERR(ENOMEM);
    }
    if (setjmp(png_jmpbuf(png))) {
        free(row);
        free(rows);
        if (pic)
            nvc_picture_unref(pic);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return NVC_ERR_CORRUPT;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, NVC_MAX_DIMENSION, NVC_MAX_DIMENSION);
    png_read_info(png, info);
    const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    const int ct = png_get_color_type(png, info);
    const int depth = png_get_bit_depth(png, info);
    if ((int64_t)w * h > s->max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return nvc_log_error(&s->logger, NVC_ERR(ERANGE),
                             "%s: %ux%u exceeds the limit of %lld pixels", path, (unsigned)w,
                             (unsigned)h, (long long)s->max_pixels);
    }
    *had_alpha = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    png_set_expand(png);       /* palette -> RGB, gray < 8 bit -> 8 bit */
    png_set_strip_alpha(png);
    if (depth == 16)
        png_set_swap(png);     /* to little-endian; rows are converted below */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int gray = !(png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR);
    const NvcPictureParameters got = {
        .w = (int)w, .h = (int)h, .bpc = depth == 16 ? 16 : 8,
        .layout = gray ? NVC_PIXEL_LAYOUT_I400 : NVC_PIXEL_LAYOUT_I444,
    };
    if (!pic) {
        *p = got;
    } else if (memcmp(&got, p, sizeof(got))) {
        nvc_log(&s->logger, NVC_LOG_ERROR,
                "%s: %ux%u %s %d-bit differs from the first picture of the sequence", path,
                (unsigned)w, (unsigned)h, gray ? "gray" : "RGB", got.bpc);
        png_longjmp(png, 1);
    } else {
        const int np = gray ? 1 : 3, bytes = got.bpc / 8;
        if ((ret = nvc_picture_alloc(pic, &got, s->max_pixels)) < 0) {
            png_destroy_read_struct(&png, &info, NULL);
            fclose(f);
            return ret;
        }
        pic->color.matrix = gray ? NVC_MC_UNSPECIFIED : NVC_MC_IDENTITY;
        pic->color.range = NVC_RANGE_FULL;
        pic->color.transfer = NVC_TRC_SRGB;
        pic->color.primaries = NVC_PRI_BT709;
        /* Read the whole image (interlaced PNGs need every row per pass). */
        size_t rowbytes = png_get_rowbytes(png, info), total;
        if (nvc_mul_size(rowbytes, h, &total) || !(row = malloc(total)))
            png_error(png, "out of memory");
        if (!(rows = malloc(h * sizeof(*rows))))
            png_error(png, "out of memory");
        for (png_uint_32 y = 0; y < h; y++)
            rows[y] = row + y * rowbytes;
        png_read_image(png, rows);
        free(rows);
        rows = NULL;
        for (png_uint_32 y = 0; y < h; y++) {
            const uint8_t *src = row + y * rowbytes;
            for (int c = 0; c < np; c++) {
                uint8_t *dst = (uint8_t *)pic->data[c] + y * pic->stride[c];
                if (bytes == 1)
                    for (png_uint_32 x = 0; x < w; x++)
                        dst[x] = src[x * np + c];
                else
                    for (png_uint_32 x = 0; x < w; x++)
                        ((uint16_t *)dst)[x] = (uint16_t)(src[2 * (x * np + c)] |
                                                          src[2 * (x * np + c) + 1] << 8);
            }
        }
        free(row);
        row = NULL;
        png_read_end(png, NULL);
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
}

int nvc_png_open(NvcInput *in)
{
    const char *path = in->path;
    char name[4096];
    if (strchr(path, '%')) {
        if (!nvc_io_pattern_valid(path))
            return nvc_log_error(&in->s.logger, NVC_ERR(EINVAL),
                                 "%s: a numbered input needs exactly one %%d, %%Nd or %%0Nd", path);
        if (!(in->pattern = strdup(path)))
            return NVC_ERR(ENOMEM);
        /* First number in 0..5 that exists, like FFmpeg's image2 demuxer. */
        in->first = -1;
        for (int i = 0; i <= 5 && in->first < 0; i++)
            if (!nvc_io_pattern_format(name, sizeof(name), path, i) && !access(name, F_OK))
                in->first = i;
        if (in->first < 0)
            return nvc_log_error(&in->s.logger, NVC_ERR(ENOENT),
                                 "%s: no file of the sequence numbered 0 to 5 exists", path);
        int64_t n = 0;
        while (!nvc_io_pattern_format(name, sizeof(name), path, in->first + n) &&
               !access(name, F_OK))
            n++;
        in->info.nb_frames = n;
        nvc_io_pattern_format(name, sizeof(name), path, in->first);
    } else {
        snprintf(name, sizeof(name), "%s", path);
        in->info.nb_frames = 1;
    }
    int alpha = 0;
    int ret = png_load(name, &in->s, &in->info.p, NULL, &alpha);
    if (ret < 0)
        return ret;
    in->info.fps_num = in->s.fps_num > 0 ? in->s.fps_num : 25;
    in->info.fps_den = in->s.fps_num > 0 && in->s.fps_den > 0 ? in->s.fps_den : 1;
    in->info.color.matrix =
        in->info.p.layout == NVC_PIXEL_LAYOUT_I400 ? NVC_MC_UNSPECIFIED : NVC_MC_IDENTITY;
    in->info.color.range = NVC_RANGE_FULL;
    in->info.color.transfer = NVC_TRC_SRGB;
    in->info.color.primaries = NVC_PRI_BT709;
    if (alpha)
        nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: the alpha channel is ignored", name);
    return 0;
}

int nvc_png_read(NvcInput *in, NvcPicture *pic)
{
    char name[4096];
    if (in->index >= in->info.nb_frames)
        return 0;
    if (in->pattern)
        nvc_io_pattern_format(name, sizeof(name), in->pattern, in->first + in->index);
    else
        snprintf(name, sizeof(name), "%s", in->path);
    int alpha;
    int ret = png_load(name, &in->s, &in->info.p, pic, &alpha);
    if (ret < 0)
        return ret;
    pic->pts = in->index++;
    return 1;
}

static int png_save(FILE *f, const char *path, const NvcPicture *rgb, const NvcLogger *logger)
{
    PngErr err = { logger, path };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_error_cb,
                                              png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile row = NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return NVC_ERR(ENOMEM);
    }
    if (setjmp(png_jmpbuf(png))) {
        free(row);
        png_destroy_write_struct(&png, &info);
        return NVC_ERR(EIO);
    }
    const int np = nvc_picture_planes(rgb->p.layout), bytes = rgb->p.bpc > 8 ? 2 : 1;
    const int w = rgb->p.w, h = rgb->p.h;
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8 * bytes,
                 np == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info(png, info);
    if (!(row = malloc((size_t)w * np * bytes)))
        png_error(png, "out of memory");
    for (int y = 0; y < h; y++) {
        for (int c = 0; c < np; c++) {
            const uint8_t *src = (const uint8_t *)rgb->data[c] + y * rgb->stride[c];
            if (bytes == 1) {
                for (int x = 0; x < w; x++)
                    row[x * np + c] = src[x];
            } else {
                for (int x = 0; x < w; x++) { /* PNG is big-endian */
                    uint16_t v = ((const uint16_t *)src)[x];
                    row[2 * (x * np + c)] = (uint8_t)(v >> 8);
                    row[2 * (x * np + c) + 1] = (uint8_t)v;
                }
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    free(row);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int nvc_png_write(const char *path, const NvcPicture *pic, int png_bpc, const NvcLogger *logger)
{
    if (!png_bpc)
        png_bpc = pic->p.bpc > 8 ? 16 : 8;
    NvcPicture rgb = { 0 };
    const NvcPicture *src = pic;
    const int gray = pic->p.layout == NVC_PIXEL_LAYOUT_I400;
    int ret;
    if (gray || pic->color.matrix != NVC_MC_IDENTITY || pic->p.bpc != png_bpc ||
        pic->color.range != NVC_RANGE_FULL) {
        NvcPictureParameters dp = pic->p;
        NvcColorDescription dc = pic->color;
        dp.bpc = png_bpc;
        dc.range = NVC_RANGE_FULL;
        if (!gray) {
            dp.layout = NVC_PIXEL_LAYOUT_I444;
            dc.matrix = NVC_MC_IDENTITY;
        }
        if ((ret = nvc_picture_convert(&rgb, &dp, &dc, pic)) < 0)
            return nvc_log_error(logger, ret, "%s: cannot convert the picture to RGB", path);
        src = &rgb;
    }
    NvcAtomicFile af;
    if ((ret = nvc_atomic_open(&af, path, logger)) == 0) {
        ret = png_save(af.f, path, src, logger);
        int r2 = nvc_atomic_close(&af, ret == 0, logger);
        if (!ret)
            ret = r2;
    }
    nvc_picture_unref(&rgb);
    return ret;
}

#else /* !NVC_HAVE_PNG */

int nvc_png_open(NvcInput *in)
{
    return nvc_log_error(&in->s.logger, NVC_ERR(ENOSYS), "%s: PNG support is not built in",
                         in->path);
}

int nvc_png_read(NvcInput *in, NvcPicture *pic)
{
    return NVC_ERR(ENOSYS);
}

int nvc_png_write(const char *path, const NvcPicture *pic, int png_bpc, const NvcLogger *logger)
{
    return NVC_ERR(ENOSYS);
}

#endif
