/*
 * nvdec: decode an .nvc stream to pictures (Y4M, raw .yuv, PNG, or any
 * container and encoder FFmpeg writes), optionally through a libavfilter
 * graph.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc/nvc.h"
#include "tools/common.h"
#include "tools/md5.h"

typedef struct Options {
    const char *in, *out;
    int64_t start, frames;
    int64_t max_pixels;         /* --max-pixels: streams with larger pictures are refused */
    int md5;                    /* --md5: print the digest of the output frames */
    const char *verify;         /* --verify: the digest they must have */
    const char *vf;             /* libavfilter graph */
    NvcDecoderSettings dec;
    NvcOutputSettings out_s;
    const char **lav;           /* key, value pairs for the FFmpeg output, NULL-terminated */
    int n_lav;
    char *lambda;               /* -q:v as a global_quality value */
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] INPUT -o OUTPUT\n"
            "       %s [OPTIONS] INPUT --md5 | --verify MD5\n"
            "Decode INPUT (.nvc or .nvces; \"-\" = stdin) into OUTPUT: .y4m, raw .yuv, .png\n"
            "(one picture) or a numbered sequence such as frame%%04d.png; \"-\" = Y4M on stdout;\n"
            "any other name is written by FFmpeg (out.mp4, out.mkv ...: container from the name,\n"
            "the container's default encoder unless -c:v says).\n"
            "\n"
            "  -o, --output FILE    where the pictures go (required unless --md5 or --verify)\n"
            "      --md5            print the MD5 of the output frames: the md5sum of the raw\n"
            "                       .yuv file nvdec would write (planes in order, no padding,\n"
            "                       16-bit little-endian samples above 8 bits; after -vf)\n"
            "      --verify MD5     check the output frames against MD5 (exit status 1 and a\n"
            "                       one-line message when they differ)\n"
            "      --start N        first frame to output (seeks to the key frame before it)\n"
            "  -n, --frames N       output at most N frames (also -frames:v N)\n"
            "  -vf, --vf GRAPH      filter the pictures with a libavfilter graph, as ffmpeg -vf\n"
            "  -f FORMAT            output format: y4m, yuv, png or a libavformat muxer name\n"
            "                       (matroska, mp4, nut ...; needed for FFmpeg output to \"-\")\n"
            "  -c:v CODEC           encoder for FFmpeg output (libx264, libx265, ffv1 ...)\n"
            "  -KEY VALUE           any other ffmpeg-style option goes to the encoder or the\n"
            "                       muxer: -crf 18 -preset slow -pix_fmt yuv420p10le -g 12\n"
            "                       -movflags +faststart -metadata title=X ...\n"
            "      --png-depth N    8 or 16 bits per PNG sample (default: from the stream)\n"
            "      --max-pixels N   refuse streams whose pictures have more than N luma samples\n"
            "                       (N or WxH; default 8192x8192)\n"
            "      --max-memory N   bytes the decoder may allocate for models and state (K, M, G\n"
            "                       suffixes; default 4G)\n"
            "  -t, --threads N      CPU threads (default: all)\n"
            "  -d, --device DEV     cpu (default) or cuda\n"
            "  -v, --verbose        more messages\n"
            "  -h, --help           this help\n"
            "  -V, --version        version\n",
            tool_name, tool_name);
}

/* "N" or "WxH": a number of luma samples. */
static int64_t parse_pixels(const char *s)
{
    if (strchr(s, 'x') || strchr(s, 'X')) {
        int w, h;
        tool_parse_size(s, &w, &h);
        return (int64_t)w * h;
    }
    return tool_parse_int(s, "--max-pixels", 1, (long long)NVC_MAX_DIMENSION * NVC_MAX_DIMENSION);
}

/* Bytes with an optional K, M or G (powers of 1024). */
static int64_t parse_bytes(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    int shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    }
    if (errno || end == s || *end || v < 1 || v > (INT64_MAX >> shift))
        tool_die("%s: '%s' is not a size in bytes (e.g. 512M, 4G)", what, s);
    return (int64_t)v << shift;
}

/* 32 hex digits, stored lowercase. */
static const char *parse_md5(const char *s)
{
    static char hex[33];
    size_t n = strlen(s);
    if (n != 32)
        tool_die("--verify: '%s' is not an MD5 (32 hex digits)", s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            tool_die("--verify: '%s' is not an MD5 (32 hex digits)", s);
        hex[i] = c;
    }
    hex[32] = 0;
    return hex;
}

static void add_lav(Options *o, const char *key, const char *value)
{
    const char **p = realloc(o->lav, (size_t)(o->n_lav + 3) * sizeof(*p));
    if (!p)
        tool_die("out of memory");
    o->lav = p;
    o->lav[o->n_lav++] = key;
    o->lav[o->n_lav++] = value;
    o->lav[o->n_lav] = NULL;
}

/* "-crf" style: one dash and a name of two letters or more, except the
 * short options' clusters nvdec itself takes (-vv, -n5, -t2). */
static int is_ffmpeg_style(const char *a)
{
    if (a[0] != '-' || a[1] == '-' || !a[1] || !a[2])
        return 0;
    if (strspn(a + 1, "v") == strlen(a + 1))
        return 0;
    if ((a[1] == 'n' || a[1] == 't') && strspn(a + 2, "0123456789") == strlen(a + 2))
        return 0;
    return 1;
}

/* Name without a video stream specifier ("b:v" -> "b"); dies for other
 * streams (nvdec writes one video stream). */
static char *strip_specifier(const char *name)
{
    char *n = strdup(name), *colon = n ? strchr(n, ':') : NULL;
    if (!n)
        tool_die("out of memory");
    if (colon) {
        if (colon[1] != 'v' || (colon[2] && colon[2] != ':'))
            tool_die("-%s: nvdec writes one video stream (use :v or no stream specifier)", name);
        *colon = 0;
    }
    return n;
}

/* Take the ffmpeg-style options out of argv (the rest goes to getopt). */
static int take_ffmpeg_options(int argc, char **argv, Options *o)
{
    static const char *const ignored[] = { "an", "sn", "dn", "hide_banner", "nostdin", "nostats" };
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            while (i < argc)
                argv[kept++] = argv[i++];
            break;
        }
        if (!is_ffmpeg_style(a)) {
            argv[kept++] = argv[i];
            continue;
        }
        const char *name = a + 1;
        int skip = 0;
        for (size_t k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
            skip |= !strcmp(name, ignored[k]);
        if (skip)
            continue;
        if (i + 1 >= argc)
            tool_die("%s needs a value", a);
        const char *value = argv[++i];
        if (!strcmp(name, "vf") || !strcmp(name, "filter:v") || !strcmp(name, "filter"))
            o->vf = value;
        else if (!strcmp(name, "c:v") || !strcmp(name, "codec:v") || !strcmp(name, "vcodec") ||
                 !strcmp(name, "c") || !strcmp(name, "codec"))
            o->out_s.codec = value;
        else if (!strcmp(name, "frames:v") || !strcmp(name, "vframes") || !strcmp(name, "frames"))
            o->frames = tool_parse_int(value, a, 0, INT64_MAX);
        else if (!strcmp(name, "q:v") || !strcmp(name, "qscale:v") || !strcmp(name, "q") ||
                 !strcmp(name, "qscale")) { /* as ffmpeg: a fixed quantiser, in lambda units */
            free(o->lambda);
            if (!(o->lambda = malloc(32)))
                tool_die("out of memory");
            snprintf(o->lambda, 32, "%lld", tool_parse_int(value, a, 0, 1 << 20) * 118); /* FF_QP2LAMBDA */
            add_lav(o, strip_specifier("flags"), "+qscale");
            add_lav(o, strip_specifier("global_quality"), o->lambda);
        } else if (!strcmp(name, "ss") || !strcmp(name, "to"))
            tool_die("%s: nvdec counts frames: use --start N and --frames N", a);
        else
            add_lav(o, strip_specifier(name), value);
    }
    argv[kept] = NULL;
    return kept;
}

static void set_format(Options *o, const char *f)
{
    if (!strcmp(f, "y4m") || !strcmp(f, "yuv4mpegpipe"))
        o->out_s.format = NVC_FILE_Y4M;
    else if (!strcmp(f, "yuv") || !strcmp(f, "rawvideo"))
        o->out_s.format = NVC_FILE_YUV;
    else if (!strcmp(f, "png"))
        o->out_s.format = NVC_FILE_PNG;
    else
        o->out_s.container = f;
}

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_START = 256, O_PNG_DEPTH, O_VF, O_MD5, O_VERIFY, O_MAX_PIXELS, O_MAX_MEMORY };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "start", required_argument, NULL, O_START },
        { "frames", required_argument, NULL, 'n' }, { "png-depth", required_argument, NULL, O_PNG_DEPTH },
        { "vf", required_argument, NULL, O_VF }, { "filter", required_argument, NULL, O_VF },
        { "format", required_argument, NULL, 'f' },
        { "threads", required_argument, NULL, 't' }, { "device", required_argument, NULL, 'd' },
        { "md5", no_argument, NULL, O_MD5 }, { "verify", required_argument, NULL, O_VERIFY },
        { "max-pixels", required_argument, NULL, O_MAX_PIXELS },
        { "max-memory", required_argument, NULL, O_MAX_MEMORY },
        { "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    int c;
    nvc_decoder_default_settings(&o->dec);
    nvc_output_default_settings(&o->out_s);
    o->frames = -1;
    argc = take_ffmpeg_options(argc, argv, o);
    while ((c = getopt_long(argc, argv, "o:n:f:t:d:vhVy", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case O_START: o->start = tool_parse_int(optarg, "--start", 0, INT64_MAX); break;
        case 'n': o->frames = tool_parse_int(optarg, "--frames", 0, INT64_MAX); break;
        case O_VF: o->vf = optarg; break;
        case 'f': set_format(o, optarg); break;
        case O_PNG_DEPTH: {
            long long d = tool_parse_int(optarg, "--png-depth", 8, 16);
            if (d != 8 && d != 16)
                tool_die("--png-depth: 8 or 16");
            o->out_s.png_bpc = (int)d;
            break;
        }
        case O_MAX_PIXELS: o->max_pixels = o->dec.max_pixels = parse_pixels(optarg); break;
        case O_MAX_MEMORY: o->dec.max_memory = parse_bytes(optarg, "--max-memory"); break;
        case O_MD5: o->md5 = 1; break;
        case O_VERIFY: o->verify = parse_md5(optarg); break;
        case 't': o->dec.n_threads = (int)tool_parse_int(optarg, "--threads", 1, 1024); break;
        case 'd':
            if (!strcmp(optarg, "cpu"))
                o->dec.device = NVC_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda"))
                o->dec.device = NVC_DEVICE_CUDA;
            else
                tool_die("--device: '%s' is not cpu or cuda", optarg);
            break;
        case 'y': break; /* ffmpeg's "overwrite": nvdec always replaces OUTPUT */
        case 'v': tool_verbosity++; break;
        case 'h': usage(stdout); exit(0);
        case 'V': tool_print_version(); exit(0);
        default: usage(stderr); exit(1);
        }
    }
    if (argc - optind != 1 || (!o->out && !o->md5 && !o->verify)) {
        usage(stderr);
        exit(1);
    }
    if (o->md5 && o->out && !strcmp(o->out, "-"))
        tool_die("--md5 prints on stdout: it cannot go with -o - (use --verify, or a file)");
    o->in = argv[optind];
    o->out_s.options = o->lav;
}

/* Where decoded (and filtered) pictures go: the output file, which opens
 * with the first picture (whose format and colour it then describes), and/or
 * the digest. */
typedef struct Sink {
    const Options *o;
    NvcVideoInfo info;       /* stream (or filter output) properties */
    NvcOutput *out;          /* NULL until the first picture, or without -o */
    ToolMd5 md5;
    int64_t written;
} Sink;

static int sink_open(Sink *k, const NvcPicture *first)
{
    if (first) {
        k->info.p = first->p;
        k->info.color = first->color;
    }
    tool_ffmpeg_details(1); /* an encoder or muxer refusing options says why */
    int ret = nvc_output_open(&k->out, k->o->out, &k->info, &k->o->out_s);
    tool_ffmpeg_details(0);
    return ret;
}

static int full(const Sink *k)
{
    return k->o->frames >= 0 && k->written >= k->o->frames;
}

static int sink_write(Sink *k, const NvcPicture *pic)
{
    const Options *o = k->o;
    if (full(k))
        return 0;
    int ret = 0;
    if (o->out && !k->out)
        ret = sink_open(k, pic);
    if (!ret && k->out)
        ret = nvc_output_write(k->out, pic);
    if (!ret && (o->md5 || o->verify))
        ret = tool_md5_update_picture(&k->md5, pic);
    if (!ret)
        k->written++;
    return ret;
}

/* One decoded picture (NULL: the end) through the graph, if any. */
static int emit(Sink *k, NvcFilterGraph *g, const NvcPicture *pic)
{
    if (!g)
        return pic ? sink_write(k, pic) : 0;
    int ret = nvc_filter_send_picture(g, pic);
    NvcPicture out;
    while (ret == 0 && (ret = nvc_filter_get_picture(g, &out)) == 0) {
        ret = sink_write(k, &out);
        nvc_picture_unref(&out);
    }
    return ret == NVC_ERR(EAGAIN) ? 0 : ret;
}

/* Fetch every picture the decoder has ready and pass on those in the
 * wanted range. Returns how many were fetched, or an error. */
static int receive_pictures(NvcDecoder *dec, Sink *k, NvcFilterGraph *g)
{
    for (int n = 0;; n++) {
        NvcPicture pic;
        int ret = nvc_decoder_get_picture(dec, &pic);
        if (ret == NVC_ERR(EAGAIN))
            return n;
        if (ret < 0)
            return ret;
        ret = pic.pts >= k->o->start ? emit(k, g, &pic) : 0;
        nvc_picture_unref(&pic);
        if (ret < 0)
            return ret;
    }
}

/* Give the decoder one packet (NULL: drain) and take what it returns. */
static int decode_packet(NvcDecoder *dec, const NvcData *pkt, Sink *k, NvcFilterGraph *g)
{
    int ret;
    while ((ret = nvc_decoder_send_packet(dec, pkt)) == NVC_ERR(EAGAIN)) {
        if ((ret = receive_pictures(dec, k, g)) < 0)
            return ret;
        if (!ret) /* EAGAIN both ways: the decoder broke its contract */
            return NVC_ERR(EIO);
    }
    if (ret < 0)
        return ret;
    ret = receive_pictures(dec, k, g);
    return ret < 0 ? ret : 0;
}

static int decode_all(NvcDemuxer *dmx, NvcDecoder *dec, Sink *k, NvcFilterGraph *g)
{
    int ret = 0;
    while (!tool_interrupted && !full(k)) {
        NvcData pkt;
        if ((ret = nvc_demux_read_packet(dmx, &pkt)) <= 0)
            break;
        ret = decode_packet(dec, &pkt, k, g);
        nvc_data_unref(&pkt);
        if (ret < 0)
            break;
    }
    if (ret >= 0 && !tool_interrupted && !full(k) && (ret = decode_packet(dec, NULL, k, g)) >= 0)
        ret = emit(k, g, NULL); /* drain the decoder, then the graph */
    if (tool_interrupted && ret >= 0)
        ret = NVC_ERR(EINTR);
    if (ret >= 0 && k->o->out && !k->out) /* no picture: an empty output all the same */
        ret = sink_open(k, NULL);
    return ret < 0 ? ret : 0;
}

/* Print or check the digest after a complete decode. Returns 0 or 1. */
static int finish_md5(Sink *k)
{
    const Options *o = k->o;
    uint8_t d[16];
    char hex[33];
    tool_md5_final(&k->md5, d);
    tool_md5_hex(d, hex);
    if (o->md5)
        printf("%s\n", hex);
    if (o->verify && strcmp(hex, o->verify)) {
        tool_error("%s: md5 mismatch: the %" PRId64 " decoded frames give %s, expected %s", o->in,
                   k->written, hex, o->verify);
        return 1;
    }
    if (o->verify && tool_verbosity >= NVC_LOG_INFO)
        fprintf(stderr, "%s: %s: md5 verified (%" PRId64 " frames)\n", tool_name, o->in, k->written);
    if (fflush(stdout) || ferror(stdout)) {
        tool_error("write error on standard output");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    Options o = { 0 };
    parse_options(argc, argv, &o);
    NvcLogger lg = tool_logger(), in_lg = tool_logger_for(o.in);
    nvc_ffmpeg_route_log(&lg);
    o.dec.logger = in_lg;
    o.out_s.logger = lg;

    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.max_pixels = o.max_pixels;
    ds.logger = in_lg;
    NvcDemuxer *dmx;
    int ret = nvc_demux_open(&dmx, o.in, &ds);
    if (ret < 0)
        tool_fail(ret, "%s", o.in);
    const NvcStreamConfig *cfg = nvc_demux_get_config(dmx);
    NvcDecoder *dec;
    if ((ret = nvc_decoder_open(&dec, cfg, &o.dec)) < 0)
        tool_fail(ret, "%s: cannot start the %s decoder", o.in, nvc_codec_name(cfg->codec));
    Sink k = {
        .o = &o,
        .info = { .p = cfg->p, .color = cfg->color, .fps_num = cfg->fps_num, .fps_den = cfg->fps_den,
                  .sar_num = cfg->sar_num, .sar_den = cfg->sar_den, .nb_frames = cfg->frame_count },
    };
    tool_md5_init(&k.md5);
    NvcFilterGraph *g = NULL;
    if (o.vf) {
        NvcFilterSettings fs;
        nvc_filter_default_settings(&fs);
        fs.logger = lg;
        tool_ffmpeg_details(1);
        if ((ret = nvc_filter_open(&g, o.vf, &k.info, &fs)) < 0)
            tool_fail(ret, "-vf '%s'", o.vf);
        tool_ffmpeg_details(0);
        k.info = *nvc_filter_output_info(g);
    }
    if (o.start && (ret = nvc_demux_seek(dmx, o.start)) < 0 && ret != NVC_ERR(ESPIPE))
        tool_fail(ret, "%s: cannot seek to frame %" PRId64, o.in, o.start);
    ret = decode_all(dmx, dec, &k, g);
    int close_ret = nvc_output_close(&k.out, ret == 0);
    if (!ret)
        ret = close_ret;
    nvc_filter_close(&g);
    nvc_decoder_close(&dec);
    nvc_demux_close(&dmx);
    for (int i = 0; i < o.n_lav; i += 2)
        free((char *)o.lav[i]); /* keys from strip_specifier */
    free(o.lav);
    free(o.lambda);
    if (ret == NVC_ERR(EINTR) || tool_interrupted) {
        if (o.out)
            tool_error("interrupted: %s not written", o.out);
        else
            tool_error("interrupted");
        return 130;
    }
    if (ret < 0 && o.out)
        tool_fail(ret, "%s not written", o.out);
    if (ret < 0)
        tool_fail(ret, "%s: decoding failed", o.in);
    if ((o.md5 || o.verify) && finish_md5(&k))
        return 1;
    if (o.out && tool_verbosity >= NVC_LOG_INFO)
        fprintf(stderr, "%s: %" PRId64 " frames written to %s\n", tool_name, k.written, o.out);
    return 0;
}
