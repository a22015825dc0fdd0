/*
 * nvdec: decode an .nvc stream to pictures (Y4M, raw .yuv, PNG).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc/nvc.h"
#include "tools/common.h"

typedef struct Options {
    const char *in, *out;
    int64_t start, frames;
    NvcDecoderSettings dec;
    NvcOutputSettings out_s;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] INPUT -o OUTPUT\n"
            "Decode INPUT (.nvc or .nvces; \"-\" = stdin) into OUTPUT: .y4m, raw .yuv, .png\n"
            "(one picture) or a numbered sequence such as frame%%04d.png; \"-\" = Y4M on stdout.\n"
            "\n"
            "  -o, --output FILE    where the pictures go (required)\n"
            "      --start N        first frame to output (seeks to the key frame before it)\n"
            "  -n, --frames N       output at most N frames\n"
            "      --png-depth N    8 or 16 bits per PNG sample (default: from the stream)\n"
            "  -t, --threads N      CPU threads (default: all)\n"
            "  -d, --device DEV     cpu (default) or cuda\n"
            "  -v, --verbose        more messages\n"
            "  -h, --help           this help\n"
            "  -V, --version        version\n",
            tool_name);
}

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_START = 256, O_PNG_DEPTH };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "start", required_argument, NULL, O_START },
        { "frames", required_argument, NULL, 'n' }, { "png-depth", required_argument, NULL, O_PNG_DEPTH },
        { "threads", required_argument, NULL, 't' }, { "device", required_argument, NULL, 'd' },
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
    if (argc - optind != 1 || !o->out) {
        usage(stderr);
        exit(1);
    }
    o->in = argv[optind];
}

/* Decode one packet and write its picture when it is in the wanted range.
 * Returns 1 when a picture was written, 0 when skipped, or an error. */
static int decode_one(NvcDecoder *dec, const NvcData *pkt, NvcOutput *out, const Options *o)
{
    int ret = nvc_decoder_send_packet(dec, pkt);
    if (ret < 0)
        return ret;
    NvcPicture pic;
    if ((ret = nvc_decoder_get_picture(dec, &pic)) == NVC_ERR(EAGAIN))
        return 0;
    if (ret < 0)
        return ret;
    int wrote = 0;
    if (pic.pts >= o->start) {
        ret = nvc_output_write(out, &pic);
        wrote = ret == 0;
    }
    nvc_picture_unref(&pic);
    return ret < 0 ? ret : wrote;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    Options o = { 0 };
    parse_options(argc, argv, &o);
    NvcLogger lg = tool_logger();
    nvc_ffmpeg_route_log(&lg);
    o.dec.logger = lg;
    o.out_s.logger = lg;

    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = lg;
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
    NvcOutput *out;
    if ((ret = nvc_output_open(&out, o.out, &info, &o.out_s)) < 0)
        tool_fail(ret, "%s", o.out);
    if (o.start && (ret = nvc_demux_seek(dmx, o.start)) < 0 && ret != NVC_ERR(ESPIPE))
        tool_fail(ret, "%s: cannot seek to frame %" PRId64, o.in, o.start);
    ret = 0;
    int64_t written = 0;
    while (!tool_interrupted && (o.frames < 0 || written < o.frames)) {
        NvcData pkt;
        ret = nvc_demux_read_packet(dmx, &pkt);
        if (ret <= 0)
            break;
        ret = decode_one(dec, &pkt, out, &o);
        nvc_data_unref(&pkt);
        if (ret < 0)
            break;
        written += ret;
        ret = 0;
    }
    if (tool_interrupted && ret >= 0)
        ret = NVC_ERR(EINTR);
    int close_ret = nvc_output_close(&out, ret == 0);
    if (!ret)
        ret = close_ret;
    nvc_decoder_close(&dec);
    nvc_demux_close(&dmx);
    if (ret < 0)
        return tool_exit_status(ret, o.out);
    if (tool_verbosity >= NVC_LOG_INFO)
        fprintf(stderr, "%s: %" PRId64 " frames written to %s\n", tool_name, written, o.out);
    return 0;
}
