/*
 * Frame I/O front: format detection, raw planes, raw .yuv, output sinks.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/internal.h"
#include "codec/io_internal.h"
#include "config.h"
#include "nvc/convert.h"

void nvc_input_default_settings(NvcInputSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->format = NVC_FILE_AUTO;
    s->layout = NVC_PIXEL_LAYOUT_I420;
}

void nvc_output_default_settings(NvcOutputSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->format = NVC_FILE_AUTO;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static enum NvcFileFormat format_from_name(const char *path)
{
    if (!strcmp(path, "-") || has_suffix(path, ".y4m"))
        return NVC_FILE_Y4M;
    if (has_suffix(path, ".png"))
        return NVC_FILE_PNG;
    if (has_suffix(path, ".yuv") || has_suffix(path, ".raw"))
        return NVC_FILE_YUV;
    return NVC_FILE_AUTO;
}

/* ---- numbered-file patterns ---------------------------------------------- */

int nvc_io_pattern_valid(const char *p)
{
    int conversions = 0;
    for (; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        const char *q = p + 1;
        if (*q == '0')
            q++;
        if (isdigit((unsigned char)*q))
            q++;
        if (*q != 'd')
            return 0;
        conversions++;
        p = q;
    }
    return conversions == 1;
}

int nvc_io_pattern_format(char *buf, size_t sz, const char *p, int64_t n)
{
    size_t o = 0;
    char num[32];
    for (; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        if (*p == '%' && p[1] == '%') {
            p++;
        } else if (*p == '%') {
            int zero = 0, width = 0;
            p++;
            if (*p == '0') {
                zero = 1;
                p++;
            }
            if (isdigit((unsigned char)*p))
                width = *p++ - '0';
            snprintf(num, sizeof(num), zero ? "%0*lld" : "%*lld", width, (long long)n);
            piece = num;
            len = strlen(num);
        }
        if (o + len >= sz)
            return -1;
        memcpy(buf + o, piece, len);
        o += len;
    }
    buf[o] = 0;
    return 0;
}

/* ---- raw planes ------------------------------------------------------------ */

size_t nvc_io_frame_bytes(const NvcPictureParameters *p)
{
    size_t total = 0, bytes = p->bpc > 8 ? 2 : 1;
    for (int i = 0; i < nvc_picture_planes(p->layout); i++) {
        int w, h;
        size_t n;
        nvc_picture_plane_size(p, i, &w, &h);
        if (nvc_mul_size((size_t)w * bytes, (size_t)h, &n) || total > SIZE_MAX - n)
            return 0;
        total += n;
    }
    return total;
}

/* Little-endian file samples to native uint16, clipping to the bit depth. */
static int convert_row16(uint16_t *dst, const uint8_t *src, int w, int maxv)
{
    int clipped = 0;
    for (int x = 0; x < w; x++) {
        int v = src[2 * x] | src[2 * x + 1] << 8;
        if (v > maxv) {
            v = maxv;
            clipped = 1;
        }
        dst[x] = (uint16_t)v;
    }
    return clipped;
}

/* Bytes left in a regular file, or -1 when unknown (pipes). */
static int64_t bytes_left(FILE *f)
{
    struct stat st;
    off_t pos = ftello(f);
    if (pos < 0 || fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
        return -1;
    return st.st_size > pos ? (int64_t)(st.st_size - pos) : 0;
}

int nvc_io_read_planes(NvcInput *in, NvcPicture *pic)
{
    const NvcPictureParameters *p = &in->info.p;
    /* A file too short for the frame is told before allocating the picture
     * (a 30-byte Y4M header may claim 8192x8192 at 16 bits). */
    const int64_t left = bytes_left(in->f);
    if (left >= 0 && (uint64_t)left < nvc_io_frame_bytes(p)) {
        if (!left)
            return 0;
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT, "%s: frame %lld is truncated",
                             in->path, (long long)in->index);
    }
    int ret = nvc_picture_alloc(pic, p, in->s.max_pixels);
    if (ret < 0)
        return nvc_log_error(&in->s.logger, ret, "%s: cannot allocate a %dx%d picture", in->path,
                             p->w, p->h);
    const int wide = p->bpc > 8, maxv = (1 << p->bpc) - 1;
    uint8_t *row = NULL;
    int clipped = 0;
    for (int i = 0; i < nvc_picture_planes(p->layout); i++) {
        int w, h;
        nvc_picture_plane_size(p, i, &w, &h);
        const size_t rb = (size_t)w << wide;
        if (wide && !row && !(row = malloc(rb)))
            goto nomem;
        for (int y = 0; y < h; y++) {
            uint8_t *dst = (uint8_t *)pic->data[i] + y * pic->stride[i];
            size_t got = fread(wide ? row : dst, 1, rb, in->f);
            if (got != rb) {
                int at_start = i == 0 && y == 0 && got == 0;
                free(row);
                nvc_picture_unref(pic);
                if (ferror(in->f))
                    return nvc_log_error(&in->s.logger, NVC_ERR(EIO), "%s: read error: %s",
                                         in->path, strerror(errno));
                if (at_start)
                    return 0;
                return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT,
                                     "%s: frame %lld is truncated", in->path,
                                     (long long)in->index);
            }
            if (wide)
                clipped |= convert_row16((uint16_t *)dst, row, w, maxv);
        }
    }
    free(row);
    if (clipped && !in->warned_range) {
        in->warned_range = 1;
        nvc_log(&in->s.logger, NVC_LOG_WARNING,
                "%s: samples above %d (%d-bit) were clipped, first in frame %lld", in->path, maxv,
                p->bpc, (long long)in->index);
    }
    pic->color = in->info.color;
    pic->pts = in->index++;
    return 1;
nomem:
    nvc_picture_unref(pic);
    return NVC_ERR(ENOMEM);
}

int nvc_io_write_planes(FILE *f, const NvcPicture *pic)
{
    const NvcPictureParameters *p = &pic->p;
    const int wide = p->bpc > 8;
    uint8_t *row = NULL;
    int ret = 0;
    for (int i = 0; i < nvc_picture_planes(p->layout) && !ret; i++) {
        int w, h;
        nvc_picture_plane_size(p, i, &w, &h);
        const size_t rb = (size_t)w << wide;
        if (wide && !row && !(row = malloc(rb)))
            return NVC_ERR(ENOMEM);
        for (int y = 0; y < h && !ret; y++) {
            const uint8_t *src = (const uint8_t *)pic->data[i] + y * pic->stride[i];
            if (wide) {
                const uint16_t *s16 = (const uint16_t *)src;
                for (int x = 0; x < w; x++) {
                    row[2 * x] = (uint8_t)s16[x];
                    row[2 * x + 1] = (uint8_t)(s16[x] >> 8);
                }
                src = row;
            }
            if (fwrite(src, 1, rb, f) != rb)
                ret = NVC_ERR(EIO);
        }
    }
    free(row);
    return ret;
}

/* ---- raw .yuv ----------------------------------------------------------- */

/* Find "<W>x<H>" with both numbers delimited by non-digits. */
static int name_size(const char *s, int *w, int *h)
{
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        long a = strtol(p, &end, 10);
        if (*end != 'x' || !isdigit((unsigned char)end[1]))
            continue;
        long b = strtol(end + 1, &end, 10);
        if (a >= 1 && b >= 1 && a <= NVC_MAX_DIMENSION && b <= NVC_MAX_DIMENSION) {
            *w = (int)a;
            *h = (int)b;
            return (int)(end - s);
        }
    }
    return -1;
}

int nvc_yuv_name_parse(const char *path, NvcVideoInfo *info)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    int w, h, after = name_size(name, &w, &h);
    if (after < 0)
        return NVC_ERR(EINVAL);
    info->p.w = w;
    info->p.h = h;
    /* Fields after the size, separated by '_' (UVG: _120fps_420_8bit_YUV;
     * JVET CTC: _50 = frame rate). */
    const char *p = name + after;
    int field = 0;
    while (*p) {
        while (*p == '_' || *p == '-' || *p == '.')
            p++;
        const char *tok = p;
        while (*p && *p != '_' && *p != '-' && *p != '.')
            p++;
        size_t n = (size_t)(p - tok);
        char t[32];
        if (!n || n >= sizeof(t))
            continue;
        memcpy(t, tok, n);
        t[n] = 0;
        char *end;
        long v = strtol(t, &end, 10);
        if (end != t && !strcasecmp(end, "fps") && v > 0 && v <= 1000) {
            info->fps_num = (int)v;
            info->fps_den = 1;
        } else if (end != t && !*end && field == 0 && v > 0 && v <= 1000 && v != 420 && v != 444) {
            info->fps_num = (int)v; /* CTC style: Name_WxH_FPS */
            info->fps_den = 1;
        } else if (!strcmp(t, "420") || !strcasecmp(t, "yuv420p")) {
            info->p.layout = NVC_PIXEL_LAYOUT_I420;
        } else if (!strcmp(t, "444") || !strcasecmp(t, "yuv444p")) {
            info->p.layout = NVC_PIXEL_LAYOUT_I444;
        } else if (end != t && (!strcasecmp(end, "bit") || !strcasecmp(end, "b") ||
                                !strcasecmp(end, "le")) && (v == 8 || v == 10 || v == 12 || v == 16)) {
            info->p.bpc = (int)v;
        } else if (!strncasecmp(t, "yuv420p", 7) || !strncasecmp(t, "yuv444p", 7)) {
            info->p.layout = t[3] == '4' && t[4] == '4' ? NVC_PIXEL_LAYOUT_I444 : NVC_PIXEL_LAYOUT_I420;
            long b = strtol(t + 7, NULL, 10); /* yuv420p10le */
            if (b == 10 || b == 12 || b == 16)
                info->p.bpc = (int)b;
        }
        field++;
    }
    return 0;
}

int nvc_yuv_open(NvcInput *in)
{
    const NvcInputSettings *s = &in->s;
    NvcVideoInfo *info = &in->info;
    info->p.layout = s->layout;
    info->p.bpc = 8;
    info->fps_num = 25;
    info->fps_den = 1;
    nvc_yuv_name_parse(in->path, info);
    if (s->w > 0 && s->h > 0) {
        info->p.w = s->w;
        info->p.h = s->h;
    }
    if (s->bpc)
        info->p.bpc = s->bpc;
    if (s->fps_num > 0 && s->fps_den > 0) {
        info->fps_num = s->fps_num;
        info->fps_den = s->fps_den;
    }
    if (info->p.w <= 0 || info->p.h <= 0)
        return nvc_log_error(&s->logger, NVC_ERR(EINVAL),
                             "%s: raw YUV needs a size (--size WxH, or a name like "
                             "Name_1920x1080_50fps_420_8bit_YUV.yuv)", in->path);
    if (info->p.bpc != 8 && info->p.bpc != 10 && info->p.bpc != 12 && info->p.bpc != 16)
        return nvc_log_error(&s->logger, NVC_ERR(EINVAL), "%s: unsupported bit depth %d",
                             in->path, info->p.bpc);
    const size_t fb = nvc_io_frame_bytes(&info->p);
    struct stat st;
    info->nb_frames = -1;
    if (fb && in->f != stdin && !fstat(fileno(in->f), &st) && S_ISREG(st.st_mode)) {
        info->nb_frames = (int64_t)((uint64_t)st.st_size / fb);
        if ((uint64_t)st.st_size % fb)
            nvc_log(&s->logger, NVC_LOG_WARNING,
                    "%s: size %lld is not a multiple of the %zu-byte %dx%d frame; the last "
                    "%llu bytes are ignored", in->path, (long long)st.st_size, fb, info->p.w,
                    info->p.h, (unsigned long long)((uint64_t)st.st_size % fb));
        if (info->nb_frames == 0)
            return nvc_log_error(&s->logger, NVC_ERR_CORRUPT,
                                 "%s: smaller than one %dx%d frame (%zu bytes)", in->path,
                                 info->p.w, info->p.h, fb);
    }
    return 0;
}

/* ---- input front ------------------------------------------------------- */

int nvc_input_open(NvcInput **pin, const char *path, const NvcInputSettings *s)
{
    *pin = NULL;
    NvcInputSettings defaults;
    if (!s) {
        nvc_input_default_settings(&defaults);
        s = &defaults;
    }
    if (!path)
        return NVC_ERR(EINVAL);
    NvcInput *in = calloc(1, sizeof(*in));
    if (!in || !(in->path = strdup(path))) {
        free(in);
        return NVC_ERR(ENOMEM);
    }
    in->s = *s;
    if (in->s.max_pixels <= 0)
        in->s.max_pixels = NVC_DEFAULT_MAX_PIXELS;
    in->format = s->format != NVC_FILE_AUTO ? s->format : format_from_name(path);
    in->info.sar_num = in->info.sar_den = 1;
    in->info.nb_frames = -1;
    nvc_color_description_default(&in->info.color);

    int ret;
    if (in->format == NVC_FILE_AUTO)
        in->format = NVC_FILE_FFMPEG;
    if (in->format == NVC_FILE_FFMPEG) {
        ret = nvc_lavf_input_open(in);
    } else if (in->format == NVC_FILE_PNG) {
        ret = nvc_png_open(in);
    } else if ((ret = nvc_file_open_read(&in->f, path, &s->logger)) == 0) {
        ret = in->format == NVC_FILE_Y4M ? nvc_y4m_open(in) : nvc_yuv_open(in);
    }
    if (ret == 0 && (int64_t)in->info.p.w * in->info.p.h > in->s.max_pixels)
        ret = nvc_log_error(&s->logger, NVC_ERR(ERANGE),
                            "%s: %dx%d exceeds the limit of %lld pixels", path, in->info.p.w,
                            in->info.p.h, (long long)in->s.max_pixels);
    if (ret < 0) {
        nvc_input_close(&in);
        return ret;
    }
    *pin = in;
    return 0;
}

const NvcVideoInfo *nvc_input_info(const NvcInput *in)
{
    return &in->info;
}

int nvc_input_read(NvcInput *in, NvcPicture *pic)
{
    memset(pic, 0, sizeof(*pic));
    switch (in->format) {
    case NVC_FILE_Y4M: return nvc_y4m_read(in, pic);
    case NVC_FILE_PNG: return nvc_png_read(in, pic);
    case NVC_FILE_FFMPEG: return nvc_lavf_input_read(in, pic);
    default: return nvc_io_read_planes(in, pic);
    }
}

int nvc_input_skip(NvcInput *in, int64_t n)
{
    if (n < 0)
        return NVC_ERR(EINVAL);
    if (in->format == NVC_FILE_FFMPEG)
        return nvc_lavf_input_skip(in, n);
    if (in->format == NVC_FILE_PNG) { /* numbered files: just move on */
        in->index += n;
        return 0;
    }
    if (in->format == NVC_FILE_YUV && in->f != stdin) {
        const size_t fb = nvc_io_frame_bytes(&in->info.p);
        if (in->info.nb_frames >= 0 && n > in->info.nb_frames - in->index)
            n = NVC_MAX(in->info.nb_frames - in->index, 0);
        if (fseeko(in->f, (off_t)fb * n, SEEK_CUR) == 0) {
            in->index += n;
            return 0;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        NvcPicture pic;
        int ret = nvc_input_read(in, &pic);
        nvc_picture_unref(&pic);
        if (ret <= 0)
            return ret;
    }
    return 0;
}

void nvc_input_close(NvcInput **pin)
{
    NvcInput *in = *pin;
    if (!in)
        return;
    nvc_lavf_input_close(in);
    if (in->f && in->f != stdin)
        fclose(in->f);
    free(in->pattern);
    free(in->path);
    free(in);
    *pin = NULL;
}

/* ---- output ------------------------------------------------------------ */

int nvc_output_open(NvcOutput **pout, const char *path, const NvcVideoInfo *info,
                    const NvcOutputSettings *s)
{
    *pout = NULL;
    NvcOutputSettings defaults;
    if (!s) {
        nvc_output_default_settings(&defaults);
        s = &defaults;
    }
    if (!path || !info)
        return NVC_ERR(EINVAL);
    NvcOutput *out = calloc(1, sizeof(*out));
    if (!out || !(out->path = strdup(path))) {
        free(out);
        return NVC_ERR(ENOMEM);
    }
    out->s = *s;
    out->info = *info;
    out->format = s->format != NVC_FILE_AUTO ? s->format
                  : s->container ? NVC_FILE_FFMPEG : format_from_name(path);
    if (out->format == NVC_FILE_AUTO && nvc_lavf_output_known(path))
        out->format = NVC_FILE_FFMPEG;
    /* Settings strings belong to the caller: only the open may use them. */
    out->s.container = out->s.codec = NULL;
    out->s.options = NULL;
    int ret = 0;
    if (out->format != NVC_FILE_FFMPEG && (s->codec || (s->options && s->options[0]))) {
        const char *what = s->codec ? s->codec : s->options[0];
        ret = nvc_log_error(&s->logger, NVC_ERR(EINVAL), "%s: '%s' is an encoder option, for "
                            "outputs FFmpeg writes (.mp4, .mkv ...)", path, what);
    } else if (out->format == NVC_FILE_AUTO) {
        ret = nvc_log_error(&s->logger, NVC_ERR(ENOTSUP),
                            "%s: unknown output format (expected .y4m, .yuv, .png%s)", path,
#ifdef NVC_HAVE_FFMPEG
                            " or a name libavformat knows, such as .mp4 or .mkv"
#else
                            "; this build has no FFmpeg for other formats"
#endif
                            );
    } else if (out->format == NVC_FILE_FFMPEG) {
        out->s = *s;
        ret = nvc_lavf_output_open(out);
        out->s.container = out->s.codec = NULL;
        out->s.options = NULL;
    } else if (out->format == NVC_FILE_PNG) {
#ifdef NVC_HAVE_PNG
        if (s->png_bpc && s->png_bpc != 8 && s->png_bpc != 16)
            ret = nvc_log_error(&s->logger, NVC_ERR(EINVAL), "PNG depth must be 8 or 16 bits");
        else if (strchr(path, '%') && !nvc_io_pattern_valid(path))
            ret = nvc_log_error(&s->logger, NVC_ERR(EINVAL),
                                "%s: a numbered output needs exactly one %%d, %%Nd or %%0Nd", path);
        else if (strchr(path, '%') && !(out->pattern = strdup(path)))
            ret = NVC_ERR(ENOMEM);
#else
        ret = nvc_log_error(&s->logger, NVC_ERR(ENOSYS), "PNG support is not built in");
#endif
    } else if ((ret = nvc_atomic_open(&out->af, path, &s->logger)) == 0 &&
               out->format == NVC_FILE_Y4M) {
        ret = nvc_y4m_write_header(out->af.f, info);
        if (ret < 0)
            nvc_log_error(&s->logger, ret, "%s: cannot write the Y4M header", path);
    }
    if (ret < 0) {
        nvc_output_close(&out, 0);
        return ret;
    }
    *pout = out;
    return 0;
}

int nvc_output_write(NvcOutput *out, const NvcPicture *pic)
{
    if (memcmp(&pic->p, &out->info.p, sizeof(pic->p)))
        return nvc_log_error(&out->s.logger, NVC_ERR(EINVAL),
                             "%s: picture %dx%d/%d-bit does not match the output's %dx%d/%d-bit",
                             out->path, pic->p.w, pic->p.h, pic->p.bpc, out->info.p.w,
                             out->info.p.h, out->info.p.bpc);
    int ret;
    if (out->format == NVC_FILE_PNG) {
        char name[4096];
        const char *dst = out->path;
        if (out->pattern) {
            if (nvc_io_pattern_format(name, sizeof(name), out->pattern, out->count + 1))
                return NVC_ERR(ENAMETOOLONG);
            dst = name;
        } else if (out->count) {
            return nvc_log_error(&out->s.logger, NVC_ERR(EINVAL),
                                 "%s: a single PNG holds one picture; use a name with %%04d "
                                 "for a sequence", out->path);
        }
        ret = nvc_png_write(dst, pic, out->s.png_bpc, &out->s.logger);
    } else if (out->format == NVC_FILE_FFMPEG) {
        ret = nvc_lavf_output_write(out, pic);
    } else {
        ret = out->format == NVC_FILE_Y4M ? nvc_y4m_write(out->af.f, pic)
                                          : nvc_io_write_planes(out->af.f, pic);
        if (ret < 0)
            ret = nvc_log_error(&out->s.logger, ret, "%s: write error: %s", out->path,
                                strerror(errno));
    }
    if (ret >= 0)
        out->count++;
    return ret;
}

int nvc_output_close(NvcOutput **pout, int commit)
{
    NvcOutput *out = *pout;
    if (!out)
        return 0;
    int ret = nvc_lavf_output_close(out, commit);
    int ret2 = nvc_atomic_close(&out->af, commit && !ret, &out->s.logger);
    if (!ret)
        ret = ret2;
    free(out->pattern);
    free(out->path);
    free(out);
    *pout = NULL;
    return ret;
}
