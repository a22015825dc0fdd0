/*
 * YUV4MPEG2 (Y4M) reader and writer.
 * Header: "YUV4MPEG2" then space-separated tags W H F I A C X..., '\n'; each
 * frame: "FRAME" [tags] '\n' then planar samples (16-bit little-endian above
 * 8 bits). Tags as written by mjpegtools and FFmpeg.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/internal.h"
#include "codec/io_internal.h"

#define Y4M_MAX_LINE 4096

typedef struct ChromaTag {
    const char *tag;
    enum NvcPixelLayout layout;
    int bpc;
    enum NvcChromaLocation loc;
} ChromaTag;

static const ChromaTag chroma_tags[] = {
    { "420jpeg", NVC_PIXEL_LAYOUT_I420, 8, NVC_CHROMA_CENTER },
    { "420mpeg2", NVC_PIXEL_LAYOUT_I420, 8, NVC_CHROMA_LEFT },
    { "420paldv", NVC_PIXEL_LAYOUT_I420, 8, NVC_CHROMA_TOPLEFT },
    { "420", NVC_PIXEL_LAYOUT_I420, 8, NVC_CHROMA_CENTER },
    { "420p10", NVC_PIXEL_LAYOUT_I420, 10, NVC_CHROMA_UNSPECIFIED },
    { "420p12", NVC_PIXEL_LAYOUT_I420, 12, NVC_CHROMA_UNSPECIFIED },
    { "420p16", NVC_PIXEL_LAYOUT_I420, 16, NVC_CHROMA_UNSPECIFIED },
    { "444", NVC_PIXEL_LAYOUT_I444, 8, NVC_CHROMA_UNSPECIFIED },
    { "444p10", NVC_PIXEL_LAYOUT_I444, 10, NVC_CHROMA_UNSPECIFIED },
    { "444p12", NVC_PIXEL_LAYOUT_I444, 12, NVC_CHROMA_UNSPECIFIED },
    { "444p16", NVC_PIXEL_LAYOUT_I444, 16, NVC_CHROMA_UNSPECIFIED },
    { "mono", NVC_PIXEL_LAYOUT_I400, 8, NVC_CHROMA_UNSPECIFIED },
    { "mono10", NVC_PIXEL_LAYOUT_I400, 10, NVC_CHROMA_UNSPECIFIED },
    { "mono12", NVC_PIXEL_LAYOUT_I400, 12, NVC_CHROMA_UNSPECIFIED },
    { "mono16", NVC_PIXEL_LAYOUT_I400, 16, NVC_CHROMA_UNSPECIFIED },
};

/* Read one '\n'-terminated line (without it) of at most Y4M_MAX_LINE bytes.
 * Returns its length, -1 at end of file before any byte, -2 when too long
 * or cut by the end of file. */
static int read_line(FILE *f, char *buf)
{
    int n = 0, c;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (n >= Y4M_MAX_LINE - 1)
            return -2;
        buf[n++] = (char)c;
    }
    buf[n] = 0;
    if (c == EOF)
        return n == 0 ? -1 : -2;
    return n;
}

static int parse_ratio(const char *s, int *num, int *den)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || *end != ':')
        return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (errno || end == t || *end || a < 0 || b < 0 || a > INT32_MAX || b > INT32_MAX)
        return -1;
    *num = (int)a;
    *den = (int)b;
    return 0;
}

static int parse_dimension(const char *s, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < 1)
        return -1;
    *v = x > NVC_MAX_DIMENSION ? NVC_MAX_DIMENSION + 1 : (int)x;
    return 0;
}

static int bad_header(NvcInput *in, const char *what, const char *tok)
{
    return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT, "%s: bad Y4M header: %s '%s'", in->path,
                         what, tok);
}

static int parse_tag(NvcInput *in, char *tok, const ChromaTag **chroma)
{
    NvcVideoInfo *info = &in->info;
    const NvcLogger *lg = &in->s.logger;
    switch (tok[0]) {
    case 'W':
        return parse_dimension(tok + 1, &info->p.w) ? bad_header(in, "width", tok) : 0;
    case 'H':
        return parse_dimension(tok + 1, &info->p.h) ? bad_header(in, "height", tok) : 0;
    case 'F':
        if (parse_ratio(tok + 1, &info->fps_num, &info->fps_den) || !info->fps_num ||
            !info->fps_den)
            return bad_header(in, "frame rate", tok);
        return 0;
    case 'A':
        if (parse_ratio(tok + 1, &info->sar_num, &info->sar_den))
            return bad_header(in, "aspect ratio", tok);
        if (!info->sar_num || !info->sar_den) /* A0:0 = unknown */
            info->sar_num = info->sar_den = 1;
        return 0;
    case 'I':
        if (!strcmp(tok, "Ip") || !strcmp(tok, "I?"))
            return 0;
        if (!strcmp(tok, "It") || !strcmp(tok, "Ib") || !strcmp(tok, "Im"))
            return nvc_log_error(lg, NVC_ERR(ENOTSUP),
                                 "%s: interlaced Y4M (%s) is not supported; deinterlace first "
                                 "(e.g. ffmpeg -vf bwdif)", in->path, tok);
        return bad_header(in, "interlacing", tok);
    case 'C':
        for (size_t i = 0; i < NVC_ARRAY_SIZE(chroma_tags); i++)
            if (!strcmp(tok + 1, chroma_tags[i].tag)) {
                *chroma = &chroma_tags[i];
                return 0;
            }
        return nvc_log_error(lg, NVC_ERR(ENOTSUP),
                             "%s: unsupported Y4M colour space C%s (supported: 4:2:0, 4:4:4 and "
                             "mono, 8 to 16 bits)", in->path, tok + 1);
    case 'X':
        if (!strcmp(tok, "XCOLORRANGE=FULL"))
            info->color.range = NVC_RANGE_FULL;
        else if (!strcmp(tok, "XCOLORRANGE=LIMITED"))
            info->color.range = NVC_RANGE_LIMITED;
        return 0; /* other extensions are comments */
    default:
        return bad_header(in, "unknown tag", tok);
    }
}

int nvc_y4m_open(NvcInput *in)
{
    char line[Y4M_MAX_LINE];
    int n = read_line(in->f, line);
    if (n == -1)
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT, "%s: empty file", in->path);
    if (n < 0 || strncmp(line, "YUV4MPEG2", 9) || (line[9] != ' ' && line[9] != 0))
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT,
                             "%s: not a Y4M file (no YUV4MPEG2 header line)", in->path);
    NvcVideoInfo *info = &in->info;
    const ChromaTag *chroma = &chroma_tags[0]; /* the Y4M default is 420jpeg */
    info->fps_num = info->fps_den = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line + 9, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int ret = parse_tag(in, tok, &chroma);
        if (ret < 0)
            return ret;
    }
    if (info->p.w <= 0 || info->p.h <= 0)
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT,
                             "%s: bad Y4M header: width or height missing", in->path);
    if (info->p.w > NVC_MAX_DIMENSION || info->p.h > NVC_MAX_DIMENSION)
        return nvc_log_error(&in->s.logger, NVC_ERR(ERANGE),
                             "%s: dimensions beyond %d are not supported", in->path,
                             NVC_MAX_DIMENSION);
    if (!info->fps_num) {
        nvc_log(&in->s.logger, NVC_LOG_WARNING, "%s: no frame rate in the Y4M header, using 25",
                in->path);
        info->fps_num = 25;
        info->fps_den = 1;
    }
    info->p.layout = chroma->layout;
    info->p.bpc = chroma->bpc;
    info->color.chroma_location = chroma->loc;

    /* Count frames of a regular file from its size (frame headers are
     * "FRAME\n" in practice; exact counting is not promised). */
    struct stat st;
    const size_t fb = nvc_io_frame_bytes(&info->p);
    long pos = in->f == stdin ? -1 : ftell(in->f);
    if (fb && pos >= 0 && !fstat(fileno(in->f), &st) && S_ISREG(st.st_mode))
        info->nb_frames = (int64_t)(((uint64_t)st.st_size - (uint64_t)pos) / (fb + 6));
    return 0;
}

int nvc_y4m_read(NvcInput *in, NvcPicture *pic)
{
    char line[Y4M_MAX_LINE];
    int n = read_line(in->f, line);
    if (n == -1) {
        if (ferror(in->f))
            return nvc_log_error(&in->s.logger, NVC_ERR(EIO), "%s: read error: %s", in->path,
                                 strerror(errno));
        return 0;
    }
    if (n < 5 || strncmp(line, "FRAME", 5) || (line[5] != ' ' && line[5] != 0))
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT,
                             "%s: frame %lld: expected a FRAME header", in->path,
                             (long long)in->index);
    int ret = nvc_io_read_planes(in, pic);
    if (ret == 0) /* header without samples */
        return nvc_log_error(&in->s.logger, NVC_ERR_CORRUPT, "%s: frame %lld is truncated",
                             in->path, (long long)in->index);
    return ret;
}

static const char *chroma_tag_for(const NvcVideoInfo *info)
{
    const NvcPictureParameters *p = &info->p;
    for (size_t i = 0; i < NVC_ARRAY_SIZE(chroma_tags); i++) {
        const ChromaTag *t = &chroma_tags[i];
        if (t->layout != p->layout || t->bpc != p->bpc)
            continue;
        /* 8-bit 4:2:0: the tag carries the chroma siting */
        if (p->layout == NVC_PIXEL_LAYOUT_I420 && p->bpc == 8 &&
            t->loc != (info->color.chroma_location == NVC_CHROMA_UNSPECIFIED
                           ? NVC_CHROMA_CENTER
                           : info->color.chroma_location))
            continue;
        return t->tag;
    }
    return NULL;
}

int nvc_y4m_write_header(FILE *f, const NvcVideoInfo *info)
{
    const char *tag = chroma_tag_for(info);
    if (!tag || info->fps_num <= 0 || info->fps_den <= 0)
        return NVC_ERR(EINVAL);
    int sn = info->sar_num > 0 ? info->sar_num : 1, sd = info->sar_den > 0 ? info->sar_den : 1;
    if (fprintf(f, "YUV4MPEG2 W%d H%d F%d:%d Ip A%d:%d C%s%s\n", info->p.w, info->p.h,
                info->fps_num, info->fps_den, sn, sd, tag,
                info->color.range == NVC_RANGE_FULL ? " XCOLORRANGE=FULL" : "") < 0)
        return NVC_ERR(EIO);
    return 0;
}

int nvc_y4m_write(FILE *f, const NvcPicture *pic)
{
    if (fputs("FRAME\n", f) < 0)
        return NVC_ERR(EIO);
    return nvc_io_write_planes(f, pic);
}
