/*
 * nvc-info: print what an .nvc file (Matroska or elementary stream) holds.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvc/nvc.h"
#include "tools/common.h"

typedef struct PacketInfo {
    int64_t pts;
    size_t size;
    int key;
} PacketInfo;

typedef struct Info {
    const char *path;
    enum NvcContainerFormat format;
    NvcStreamConfig cfg;       /* payload not kept */
    PacketInfo *pkts;
    int64_t n, keys;
    uint64_t bytes;
    int64_t file_size;         /* -1 when unknown (stdin) */
} Info;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s [OPTIONS] FILE\n"
            "Print what an nvc file (.nvc Matroska or elementary stream) holds: the stream\n"
            "configuration, then one line per packet. FILE \"-\" reads stdin.\n"
            "\n"
            "  -j, --json      JSON output\n"
            "  -s, --summary   no per-packet lines\n"
            "  -v, --verbose   more messages (repeat for FFmpeg's details)\n"
            "  -h, --help      this help\n"
            "  -V, --version   version\n",
            tool_name);
}

/* The first error the library reports becomes the one line we print. */
static char first_error[512];
static void info_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (level == NVC_LOG_ERROR) {
        if (!first_error[0])
            vsnprintf(first_error, sizeof(first_error), fmt, ap);
        return;
    }
    NvcLogger lg = tool_logger();
    va_list copy;
    va_copy(copy, ap);
    lg.callback(lg.cookie, level, fmt, copy);
    va_end(copy);
}

static void die_with(const char *path, int err)
{
    const char *msg = first_error[0] ? first_error : nvc_error_string(err);
    size_t n = strlen(path);
    if (!strncmp(msg, path, n) && msg[n] == ':') /* already names the file */
        tool_die("%s", msg);
    tool_die("%s: %s", path, msg);
}

static void read_all(Info *info, NvcDemuxer *d)
{
    size_t cap = 0;
    NvcData pkt;
    int ret;
    while ((ret = nvc_demux_read_packet(d, &pkt)) == 1) {
        if ((size_t)info->n == cap) {
            cap = cap ? cap * 2 : 1024;
            info->pkts = realloc(info->pkts, cap * sizeof(*info->pkts));
            if (!info->pkts)
                tool_die("out of memory");
        }
        PacketInfo *p = &info->pkts[info->n++];
        p->pts = pkt.pts;
        p->size = pkt.sz;
        p->key = !!(pkt.flags & NVC_DATA_KEY);
        info->keys += p->key;
        info->bytes += pkt.sz;
        nvc_data_unref(&pkt);
        if (tool_interrupted)
            tool_die("interrupted");
    }
    if (ret < 0)
        die_with(info->path, ret);
}

static const char *layout_name(enum NvcPixelLayout l)
{
    return l == NVC_PIXEL_LAYOUT_I400 ? "4:0:0" : l == NVC_PIXEL_LAYOUT_I420 ? "4:2:0" : "4:4:4";
}

/* FFmpeg's name for the picture format (planes in FFmpeg's order aside). */
static void pix_fmt_name(const NvcStreamConfig *c, char *buf, size_t sz)
{
    const char *base = c->p.layout == NVC_PIXEL_LAYOUT_I400 ? "gray"
                       : c->p.layout == NVC_PIXEL_LAYOUT_I420 ? "yuv420p"
                       : c->color.matrix == NVC_MC_IDENTITY ? "gbrp" : "yuv444p";
    if (c->p.bpc == 8)
        snprintf(buf, sz, "%s", base);
    else
        snprintf(buf, sz, "%s%d", base, c->p.bpc);
}

static const char *matrix_name(int v)
{
    switch (v) {
    case NVC_MC_IDENTITY: return "identity (RGB)";
    case NVC_MC_BT709: return "bt709";
    case NVC_MC_UNSPECIFIED: return "unspecified";
    case NVC_MC_BT470BG: return "bt470bg";
    case NVC_MC_BT601: return "bt601";
    case NVC_MC_BT2020_NCL: return "bt2020nc";
    }
    return NULL;
}

static const char *primaries_name(int v)
{
    switch (v) {
    case NVC_PRI_BT709: return "bt709";
    case NVC_PRI_UNSPECIFIED: return "unspecified";
    case NVC_PRI_BT470BG: return "bt470bg";
    case NVC_PRI_BT601: return "bt601";
    case NVC_PRI_BT2020: return "bt2020";
    }
    return NULL;
}

static const char *transfer_name(int v)
{
    switch (v) {
    case NVC_TRC_BT709: return "bt709";
    case NVC_TRC_UNSPECIFIED: return "unspecified";
    case NVC_TRC_BT601: return "bt601";
    case NVC_TRC_SRGB: return "srgb";
    case NVC_TRC_BT2020_10: return "bt2020-10";
    }
    return NULL;
}

static const char *chroma_name(int v)
{
    static const char *const names[] = { "unspecified", "left", "center", "topleft" };
    return v >= 0 && v < 4 ? names[v] : "unknown";
}

/* "bt709", or "code 16" for an H.273 value without a name here. */
static const char *code_text(const char *name, int v, char *buf, size_t sz)
{
    if (name)
        return name;
    snprintf(buf, sz, "code %d", v);
    return buf;
}

/* bits per pixel of the whole file, or a negative value when unknown */
static double file_bpp(const Info *info)
{
    if (info->file_size < 0 || !info->n)
        return -1;
    return (double)info->file_size * 8 / ((double)info->n * info->cfg.p.w * info->cfg.p.h);
}

static void print_text(const Info *info, int summary)
{
    const NvcStreamConfig *c = &info->cfg;
    char pf[32], b1[16], b2[16], b3[16];
    pix_fmt_name(c, pf, sizeof(pf));
    printf("file:           %s\n", info->path);
    printf("container:      %s\n", nvc_container_name(info->format));
    printf("stream version: %u\n", c->version);
    printf("codec:          %s\n", nvc_codec_name(c->codec));
    printf("size:           %dx%d\n", c->p.w, c->p.h);
    printf("pixel format:   %s (%s, %d bit)\n", pf, layout_name(c->p.layout), c->p.bpc);
    printf("colour:         matrix %s, primaries %s, transfer %s, range %s, chroma %s\n",
           code_text(matrix_name(c->color.matrix), c->color.matrix, b1, sizeof(b1)),
           code_text(primaries_name(c->color.primaries), c->color.primaries, b2, sizeof(b2)),
           code_text(transfer_name(c->color.transfer), c->color.transfer, b3, sizeof(b3)),
           c->color.range == NVC_RANGE_FULL ? "full" : "limited", chroma_name(c->color.chroma_location));
    printf("frame rate:     %d/%d (%.3f fps)\n", c->fps_num, c->fps_den, (double)c->fps_num / c->fps_den);
    printf("sample aspect:  %d:%d\n", c->sar_num, c->sar_den);
    if (c->frame_count)
        printf("frames:         %" PRId64 "\n", c->frame_count);
    else
        printf("frames:         unknown\n");
    printf("global payload: %zu bytes\n", c->payload.sz);
    printf("packets:        %" PRId64 " (%" PRId64 " key), %" PRIu64 " bytes\n", info->n, info->keys,
           info->bytes);
    if (info->file_size >= 0)
        printf("file size:      %" PRId64 " bytes\n", info->file_size);
    double bpp = file_bpp(info);
    if (bpp >= 0)
        printf("bpp:            %.6f (file size * 8 / (packets * width * height))\n", bpp);
    if (summary)
        return;
    printf("\n%8s %10s %10s %s\n", "index", "pts", "size", "key");
    for (int64_t i = 0; i < info->n; i++)
        printf("%8" PRId64 " %10" PRId64 " %10zu %s\n", i, info->pkts[i].pts, info->pkts[i].size,
               info->pkts[i].key ? "K" : "-");
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_json(const Info *info, int summary)
{
    const NvcStreamConfig *c = &info->cfg;
    char pf[32];
    pix_fmt_name(c, pf, sizeof(pf));
    printf("{\n  \"file\": ");
    json_string(info->path);
    printf(",\n  \"container\": \"%s\",\n", nvc_container_name(info->format));
    printf("  \"stream_version\": %u,\n  \"codec\": \"%s\",\n", c->version, nvc_codec_name(c->codec));
    printf("  \"width\": %d,\n  \"height\": %d,\n", c->p.w, c->p.h);
    printf("  \"chroma_format\": \"%s\",\n  \"bit_depth\": %d,\n  \"pixel_format\": \"%s\",\n",
           layout_name(c->p.layout), c->p.bpc, pf);
    printf("  \"color\": {\"matrix\": %d, \"primaries\": %d, \"transfer\": %d, \"range\": \"%s\", "
           "\"chroma_location\": \"%s\"},\n", c->color.matrix, c->color.primaries, c->color.transfer,
           c->color.range == NVC_RANGE_FULL ? "full" : "limited", chroma_name(c->color.chroma_location));
    printf("  \"frame_rate\": {\"num\": %d, \"den\": %d},\n", c->fps_num, c->fps_den);
    printf("  \"sample_aspect_ratio\": {\"num\": %d, \"den\": %d},\n", c->sar_num, c->sar_den);
    printf("  \"frame_count\": %" PRId64 ",\n", c->frame_count);
    printf("  \"payload_size\": %zu,\n", c->payload.sz);
    printf("  \"packet_count\": %" PRId64 ",\n  \"key_packet_count\": %" PRId64 ",\n", info->n, info->keys);
    printf("  \"packet_bytes\": %" PRIu64 ",\n", info->bytes);
    if (info->file_size >= 0)
        printf("  \"file_size\": %" PRId64 ",\n", info->file_size);
    else
        printf("  \"file_size\": null,\n");
    double bpp = file_bpp(info);
    if (bpp >= 0)
        printf("  \"bpp\": %.9g", bpp);
    else
        printf("  \"bpp\": null");
    if (!summary) {
        printf(",\n  \"packets\": [");
        for (int64_t i = 0; i < info->n; i++)
            printf("%s\n    {\"index\": %" PRId64 ", \"pts\": %" PRId64 ", \"size\": %zu, \"key\": %s}",
                   i ? "," : "", i, info->pkts[i].pts, info->pkts[i].size, info->pkts[i].key ? "true" : "false");
        printf("\n  ]");
    }
    printf("\n}\n");
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },     { "summary", no_argument, NULL, 's' },
        { "verbose", no_argument, NULL, 'v' },  { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },  { NULL, 0, NULL, 0 },
    };
    int json = 0, summary = 0, verbose = 0, c;
    opterr = 0; /* our own one-line messages */
    while ((c = getopt_long(argc, argv, "jsvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': summary = 1; break;
        case 'v': verbose++; break;
        case 'h': usage(stdout); return 0;
        case 'V': tool_print_version(); return 0;
        default: tool_die("unrecognized option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        tool_die("%s (see --help)", optind == argc ? "no input file" : "one input file only");
    tool_verbosity = verbose >= 2 ? NVC_LOG_DEBUG : verbose ? NVC_LOG_INFO : NVC_LOG_WARNING;
    NvcLogger lg = { NULL, info_log };
    nvc_ffmpeg_route_log(&lg); /* FFmpeg's details only with -v (ENOSYS without FFmpeg: fine) */

    Info info = { .path = argv[optind], .file_size = -1 };
    struct stat st;
    if (strcmp(info.path, "-") && !stat(info.path, &st) && S_ISREG(st.st_mode))
        info.file_size = st.st_size;
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = lg;
    NvcDemuxer *d;
    int ret = nvc_demux_open(&d, info.path, &ds);
    if (ret < 0)
        die_with(info.path, ret);
    info.format = nvc_demux_get_format(d);
    info.cfg = *nvc_demux_get_config(d);
    read_all(&info, d);
    if (json)
        print_json(&info, summary);
    else
        print_text(&info, summary);
    nvc_demux_close(&d);
    free(info.pkts);
    if (fflush(stdout) || ferror(stdout))
        tool_die("cannot write the output");
    return 0;
}
