/*
 * nvdec: decode an .nvc stream to pictures (Y4M, raw .yuv, PNG).
 * SPDX-License-Identifier: BSD-2-Clause
 */
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
    int64_t max_pixels;        /* --max-pixels: streams with larger pictures are refused */
    int md5;                   /* --md5: print the digest of the decoded frames */
    const char *verify;        /* --verify: the digest they must have */
    NvcDecoderSettings dec;
    NvcOutputSettings out_s;
} Options;

/* Where decoded pictures go: the output file and/or the digest. */
typedef struct Sink {
    const Options *o;
    NvcOutput *out;            /* NULL when only a digest is wanted */
    ToolMd5 md5;
    int64_t written;
} Sink;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] INPUT -o OUTPUT\n"
            "       %s [OPTIONS] INPUT --md5 | --verify MD5\n"
            "Decode INPUT (.nvc or .nvces; \"-\" = stdin) into OUTPUT: .y4m, raw .yuv, .png\n"
            "(one picture) or a numbered sequence such as frame%%04d.png; \"-\" = Y4M on stdout.\n"
            "\n"
            "  -o, --output FILE    where the pictures go (required unless --md5 or --verify)\n"
            "      --md5            print the MD5 of the decoded frames: the md5sum of the raw\n"
            "                       .yuv file nvdec would write (planes in order, no padding,\n"
            "                       16-bit little-endian samples above 8 bits)\n"
            "      --verify MD5     check the decoded frames against MD5 (exit status 1 and a\n"
            "                       one-line message when they differ)\n"
            "      --start N        first frame to output (seeks to the key frame before it)\n"
            "  -n, --frames N       output at most N frames\n"
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

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_START = 256, O_PNG_DEPTH, O_MD5, O_VERIFY, O_MAX_PIXELS, O_MAX_MEMORY };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "start", required_argument, NULL, O_START },
        { "frames", required_argument, NULL, 'n' }, { "png-depth", required_argument, NULL, O_PNG_DEPTH },
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
    while ((c = getopt_long(argc, argv, "o:n:t:d:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case O_START: o->start = tool_parse_int(optarg, "--start", 0, INT64_MAX); break;
        case 'n': o->frames = tool_parse_int(optarg, "--frames", 0, INT64_MAX); break;
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
}

/* Write a picture in the wanted range to the output and the digest.
 * Returns 1 when taken, 0 when outside the range, or an error. */
static int sink_picture(Sink *k, const NvcPicture *pic)
{
    const Options *o = k->o;
    if (pic->pts < o->start || (o->frames >= 0 && k->written >= o->frames))
        return 0;
    int ret = k->out ? nvc_output_write(k->out, pic) : 0;
    if (!ret && (o->md5 || o->verify))
        ret = tool_md5_update_picture(&k->md5, pic);
    if (ret < 0)
        return ret;
    k->written++;
    return 1;
}

/* Fetch every picture the decoder has ready. Returns how many, or an error. */
static int receive_pictures(NvcDecoder *dec, Sink *k)
{
    for (int n = 0;; n++) {
        NvcPicture pic;
        int ret = nvc_decoder_get_picture(dec, &pic);
        if (ret == NVC_ERR(EAGAIN))
            return n;
        if (ret < 0)
            return ret;
        ret = sink_picture(k, &pic);
        nvc_picture_unref(&pic);
        if (ret < 0)
            return ret;
    }
}

/* Give the decoder one packet (NULL: drain) and take what it returns. */
static int decode_packet(NvcDecoder *dec, const NvcData *pkt, Sink *k)
{
    int ret;
    while ((ret = nvc_decoder_send_packet(dec, pkt)) == NVC_ERR(EAGAIN)) {
        if ((ret = receive_pictures(dec, k)) < 0)
            return ret;
        if (!ret) /* EAGAIN both ways: the decoder broke its contract */
            return NVC_ERR(EIO);
    }
    if (ret < 0)
        return ret;
    ret = receive_pictures(dec, k);
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
    NvcVideoInfo info = {
        .p = cfg->p, .color = cfg->color, .fps_num = cfg->fps_num, .fps_den = cfg->fps_den,
        .sar_num = cfg->sar_num, .sar_den = cfg->sar_den, .nb_frames = cfg->frame_count,
    };
    Sink sink = { .o = &o };
    tool_md5_init(&sink.md5);
    if (o.out && (ret = nvc_output_open(&sink.out, o.out, &info, &o.out_s)) < 0)
        tool_fail(ret, "%s", o.out);
    if (o.start && (ret = nvc_demux_seek(dmx, o.start)) < 0 && ret != NVC_ERR(ESPIPE))
        tool_fail(ret, "%s: cannot seek to frame %" PRId64, o.in, o.start);
    ret = 0;
    while (!tool_interrupted && (o.frames < 0 || sink.written < o.frames)) {
        NvcData pkt;
        ret = nvc_demux_read_packet(dmx, &pkt);
        if (ret <= 0)
            break;
        ret = decode_packet(dec, &pkt, &sink);
        nvc_data_unref(&pkt);
        if (ret < 0)
            break;
    }
    if (!ret && !tool_interrupted)
        ret = decode_packet(dec, NULL, &sink); /* drain */
    if (tool_interrupted && ret >= 0)
        ret = NVC_ERR(EINTR);
    int close_ret = nvc_output_close(&sink.out, ret == 0);
    if (!ret)
        ret = close_ret;
    nvc_decoder_close(&dec);
    nvc_demux_close(&dmx);
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
    if ((o.md5 || o.verify) && finish_md5(&sink))
        return 1;
    if (o.out && tool_verbosity >= NVC_LOG_INFO)
        fprintf(stderr, "%s: %" PRId64 " frames written to %s\n", tool_name, sink.written, o.out);
    return 0;
}
