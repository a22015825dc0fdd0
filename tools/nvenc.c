/*
 * nvenc: encode pictures (Y4M, raw .yuv, PNG) into an .nvc stream.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nvc/nvc.h"
#include "tools/common.h"

typedef struct Options {
    const char *in, *out;
    const char *title;          /* Matroska title; NULL: the input's file name */
    NvcEncoderSettings enc;
    NvcInputSettings in_s;
    enum NvcContainerFormat container;
    int64_t start, frames;
    int quiet;
    int bitexact;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] INPUT OUTPUT\n"
            "Encode INPUT (.y4m, raw .yuv, .png or a %%04d.png sequence, or anything FFmpeg\n"
            "decodes: .mp4, .mkv, .webm, .264 ...; \"-\" = Y4M on stdin) into OUTPUT (.nvc\n"
            "Matroska, or .nvces elementary stream; \"-\" = stdout). The source's frame rate,\n"
            "aspect ratio and colour description are kept.\n"
            "\n"
            "Codec:\n"
            "  -c, --codec NAME     hnerv (default), nervpp, image, dcvc\n"
            "  -s, --size SIZE      INR model size: xs, s, m (default), l, xl, or a parameter\n"
            "                       count such as 300k or 1.5M\n"
            "  -b, --bpp BPP        INR: pick the model size for about this many bits per pixel\n"
            "  -e, --epochs N       INR training epochs (codec default when absent)\n"
            "      --qbits N        INR weight quantisation bits, 6 to 8 (default 8)\n"
            "      --qat-epochs N   INR quantisation-aware fine-tuning epochs\n"
            "      --strides LIST   INR decoder strides, e.g. 5,4,4,2,2 (default: from the size)\n"
            "      --loss L         INR training loss: l2 (default) or l1-msssim\n"
            "      --prune F        INR: prune this fraction of the weights before fine-tuning\n"
            "      --lr LR          INR peak learning rate (codec default when absent)\n"
            "  -q, --q N            learned codecs: quality index 0..63 (default 32)\n"
            "      --refresh N      conditional codec: temporal feature refresh period (3; 0: never)\n"
            "      --intra-period N conditional codec: intra period, -1 = first frame only\n"
            "      --q-offsets LIST conditional codec: quality offsets of the P frames in turn, e.g. -3,0,-3,4\n"
            "                       (P frame k at q + LIST[(k - 1) mod n]; default none)\n"
            "      --adaptive-intra B conditional codec: 1 (default) codes a frame as an I frame when that\n"
            "                       costs less than a P frame (distortion + lambda rate); 0: only --intra-period\n"
            "      --seed N         random seed (default 1)\n"
            "  -t, --threads N      CPU threads (default: all)\n"
            "  -d, --device DEV     cpu (default) or cuda\n"
            "Input:\n"
            "      --start N        skip the first N pictures\n"
            "  -n, --frames N       encode at most N pictures\n"
            "      --res WxH        raw .yuv size (when the name does not say)\n"
            "      --fps RATE       frame rate of raw/PNG input (e.g. 30000/1001); replaces the\n"
            "                       rate of other inputs\n"
            "      --bitdepth N     raw .yuv bit depth (8, 10, 12, 16)\n"
            "Output:\n"
            "      --container C    mkv (default for .nvc) or elementary (default for .nvces)\n"
            "      --bitexact       Matroska without random UIDs and version strings, so the\n"
            "                       same encode gives the same file bytes (the elementary\n"
            "                       stream always does)\n"
            "      --title TEXT     Matroska title (default: the input's file name; \"\" = none)\n"
            "      --quiet          no progress line\n"
            "  -v, --verbose        more messages\n"
            "  -h, --help           this help\n"
            "  -V, --version        version\n",
            tool_name);
}

static enum NvcCodecId parse_codec(const char *s)
{
    static const struct { const char *name; enum NvcCodecId id; } codecs[] = {
        { "hnerv", NVC_CODEC_HNERV }, { "nervpp", NVC_CODEC_NERVPP },
        { "image", NVC_CODEC_IMAGE }, { "dcvc", NVC_CODEC_DCVC },
    };
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (!strcmp(s, codecs[i].name))
            return codecs[i].id;
    tool_die("unknown codec '%s' (hnerv, nervpp, image, dcvc)", s);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_QBITS = 256, O_QAT, O_REFRESH, O_INTRA, O_SEED, O_START, O_RES, O_FPS, O_BITDEPTH,
           O_CONTAINER, O_QUIET, O_BITEXACT, O_STRIDES, O_LOSS, O_PRUNE, O_LR, O_TITLE, O_QOFF, O_AINTRA };
    static const struct option longopts[] = {
        { "codec", required_argument, NULL, 'c' }, { "size", required_argument, NULL, 's' },
        { "bpp", required_argument, NULL, 'b' }, { "epochs", required_argument, NULL, 'e' },
        { "qbits", required_argument, NULL, O_QBITS }, { "qat-epochs", required_argument, NULL, O_QAT },
        { "strides", required_argument, NULL, O_STRIDES }, { "loss", required_argument, NULL, O_LOSS },
        { "prune", required_argument, NULL, O_PRUNE }, { "lr", required_argument, NULL, O_LR },
        { "q", required_argument, NULL, 'q' }, { "refresh", required_argument, NULL, O_REFRESH },
        { "intra-period", required_argument, NULL, O_INTRA }, { "q-offsets", required_argument, NULL, O_QOFF },
        { "adaptive-intra", required_argument, NULL, O_AINTRA },
        { "seed", required_argument, NULL, O_SEED },
        { "threads", required_argument, NULL, 't' }, { "device", required_argument, NULL, 'd' },
        { "start", required_argument, NULL, O_START }, { "frames", required_argument, NULL, 'n' },
        { "res", required_argument, NULL, O_RES }, { "fps", required_argument, NULL, O_FPS },
        { "bitdepth", required_argument, NULL, O_BITDEPTH },
        { "container", required_argument, NULL, O_CONTAINER }, { "quiet", no_argument, NULL, O_QUIET },
        { "bitexact", no_argument, NULL, O_BITEXACT },
        { "title", required_argument, NULL, O_TITLE },
        { "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    int container_set = 0, c;
    nvc_encoder_default_settings(&o->enc);
    nvc_input_default_settings(&o->in_s);
    o->frames = -1;
    while ((c = getopt_long(argc, argv, "c:s:b:e:q:t:d:n:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->enc.codec = parse_codec(optarg); break;
        case 's': o->enc.size = optarg; break;
        case 'b': {
            char *end;
            o->enc.bpp = strtod(optarg, &end);
            if (*end || !(o->enc.bpp > 0 && o->enc.bpp < 64))
                tool_die("--bpp: '%s' is not a positive number below 64", optarg);
            break;
        }
        case 'e': o->enc.epochs = (int)tool_parse_int(optarg, "--epochs", 1, 1000000); break;
        case O_QBITS: o->enc.qbits = (int)tool_parse_int(optarg, "--qbits", 6, 8); break;
        case O_QAT: o->enc.qat_epochs = (int)tool_parse_int(optarg, "--qat-epochs", 0, 1000000); break;
        case O_STRIDES: o->enc.strides = optarg; break;
        case O_LOSS:
            if (!strcmp(optarg, "l2"))
                o->enc.loss = NVC_INR_LOSS_L2;
            else if (!strcmp(optarg, "l1-msssim"))
                o->enc.loss = NVC_INR_LOSS_L1_MSSSIM;
            else
                tool_die("--loss: '%s' is not l2 or l1-msssim", optarg);
            break;
        case O_LR: {
            char *end;
            o->enc.lr = strtod(optarg, &end);
            if (*end || !(o->enc.lr > 0 && o->enc.lr < 1))
                tool_die("--lr: '%s' is not a learning rate between 0 and 1", optarg);
            break;
        }
        case O_PRUNE: {
            char *end;
            o->enc.prune = strtod(optarg, &end);
            if (*end || !(o->enc.prune >= 0 && o->enc.prune <= 0.9))
                tool_die("--prune: '%s' is not a fraction from 0 to 0.9", optarg);
            break;
        }
        case 'q': o->enc.q = (int)tool_parse_int(optarg, "--q", 0, 63); break;
        case O_REFRESH: o->enc.refresh = (int)tool_parse_int(optarg, "--refresh", 0, 65535); break;
        case O_QOFF: o->enc.q_offsets = optarg; break;
        case O_AINTRA: o->enc.adaptive_intra = (int)tool_parse_int(optarg, "--adaptive-intra", 0, 1); break;
        case O_INTRA: o->enc.intra_period = (int)tool_parse_int(optarg, "--intra-period", -1, 1 << 20); break;
        case O_SEED: o->enc.seed = (uint64_t)tool_parse_int(optarg, "--seed", 0, INT64_MAX); break;
        case 't': o->enc.n_threads = (int)tool_parse_int(optarg, "--threads", 1, 1024); break;
        case 'd':
            if (!strcmp(optarg, "cpu"))
                o->enc.device = NVC_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda"))
                o->enc.device = NVC_DEVICE_CUDA;
            else
                tool_die("--device: '%s' is not cpu or cuda", optarg);
            break;
        case O_START: o->start = tool_parse_int(optarg, "--start", 0, INT64_MAX); break;
        case 'n': o->frames = tool_parse_int(optarg, "--frames", 1, INT64_MAX); break;
        case O_RES: tool_parse_size(optarg, &o->in_s.w, &o->in_s.h); break;
        case O_FPS: tool_parse_rate(optarg, &o->in_s.fps_num, &o->in_s.fps_den); break;
        case O_BITDEPTH: o->in_s.bpc = (int)tool_parse_int(optarg, "--bitdepth", 8, 16); break;
        case O_CONTAINER:
            container_set = 1;
            if (!strcmp(optarg, "mkv") || !strcmp(optarg, "matroska"))
                o->container = NVC_CONTAINER_MATROSKA;
            else if (!strcmp(optarg, "elementary") || !strcmp(optarg, "es"))
                o->container = NVC_CONTAINER_ELEMENTARY;
            else
                tool_die("--container: '%s' is not mkv or elementary", optarg);
            break;
        case O_QUIET: o->quiet = 1; break;
        case O_BITEXACT: o->bitexact = 1; break;
        case O_TITLE: o->title = optarg; break;
        case 'v': tool_verbosity++; break;
        case 'h': usage(stdout); exit(0);
        case 'V': tool_print_version(); exit(0);
        default: usage(stderr); exit(1);
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        exit(1);
    }
    o->in = argv[optind];
    o->out = argv[optind + 1];
    if (!o->title && strcmp(o->in, "-")) {
        const char *slash = strrchr(o->in, '/');
        o->title = slash ? slash + 1 : o->in;
    }
    if (!container_set)
        o->container = has_suffix(o->out, ".nvces") ? NVC_CONTAINER_ELEMENTARY
                                                    : NVC_CONTAINER_MATROSKA;
}


/* On a terminal, one line rewritten in place; in a log (not a terminal), a
 * line at each tenth of a stage and at its end. */
static void show_progress(void *cookie, const NvcEncodeProgress *p)
{
    const Options *o = cookie;
    static int tty = -1;
    static int64_t last_tenth = -1;
    static char last_stage[16];
    if (o->quiet)
        return;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (!tty) {
        const int64_t tenth = p->steps > 0 ? p->step * 10 / p->steps : p->step;
        if (tenth == last_tenth && !strcmp(last_stage, p->stage) && p->step != p->steps)
            return;
        last_tenth = tenth;
        snprintf(last_stage, sizeof(last_stage), "%s", p->stage);
    }
    fprintf(stderr, "%s%s %-5s %5" PRId64 "/%-5" PRId64 " loss %.5f  PSNR %6.2f dB  %7.1f fps  ETA %5.0f s%s",
            tty ? "\r" : "", tool_name, p->stage, p->step, p->steps, p->loss, p->psnr, p->frames_per_s,
            p->eta_s, tty ? " " : "\n");
    tool_progress_pending = tty;
    fflush(stderr);
}

/* Write every packet the encoder has ready, opening the muxer on the first. */
static int drain_packets(NvcEncoder *enc, NvcMuxer **mux, const Options *o, int64_t *packets,
                         uint64_t *bytes)
{
    NvcLogger lg = tool_logger();
    for (;;) {
        NvcData pkt;
        int ret = nvc_encoder_get_packet(enc, &pkt);
        if (ret == NVC_ERR(EAGAIN))
            return 0;
        if (ret < 0)
            return ret;
        if (!*mux) {
            NvcStreamConfig cfg;
            NvcMuxSettings ms;
            nvc_mux_default_settings(&ms);
            ms.format = o->container;
            ms.bitexact = o->bitexact;
            ms.logger = lg;
            ms.title = o->title && *o->title ? o->title : NULL;
            if ((ret = nvc_encoder_get_config(enc, &cfg)) == 0) {
                ret = nvc_mux_open(mux, o->out, &cfg, &ms);
                *bytes += cfg.payload.sz;
                nvc_stream_config_clear(&cfg);
            }
        }
        if (ret == 0)
            ret = nvc_mux_write_packet(*mux, &pkt);
        *bytes += pkt.sz;
        nvc_data_unref(&pkt);
        if (ret < 0)
            return ret;
        (*packets)++;
    }
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    Options o = { 0 };
    parse_options(argc, argv, &o);
    NvcLogger lg = tool_logger();
    nvc_ffmpeg_route_log(&lg);
    o.in_s.logger = lg;
    o.enc.logger = lg;
    o.enc.progress = show_progress;
    o.enc.progress_cookie = &o;
    o.enc.cancel = (volatile int *)&tool_interrupted;

    NvcInput *in;
    int ret = nvc_input_open(&in, o.in, &o.in_s);
    if (ret < 0)
        tool_fail(ret, "%s", o.in);
    NvcVideoInfo info = *nvc_input_info(in); /* used after the input is closed */
    /* The frames this run encodes, which the encoder may announce in the
     * stream: fewer than the input's with --start and --frames. */
    if (info.nb_frames >= 0)
        info.nb_frames = info.nb_frames > o.start ? info.nb_frames - o.start : 0;
    if (o.frames >= 0 && info.nb_frames > o.frames)
        info.nb_frames = o.frames;
    if (o.start && (ret = nvc_input_skip(in, o.start)) < 0)
        tool_fail(ret, "%s", o.in);
    NvcEncoder *enc;
    if ((ret = nvc_encoder_open(&enc, &info, &o.enc)) < 0)
        tool_fail(ret, "cannot start the %s encoder", nvc_codec_name(o.enc.codec));

    const double t0 = tool_now_s();
    NvcMuxer *mux = NULL;
    int64_t n = 0, packets = 0;
    uint64_t bytes = 0;
    while (!ret && !tool_interrupted && (o.frames < 0 || n < o.frames)) {
        NvcPicture pic;
        ret = nvc_input_read(in, &pic);
        if (ret <= 0)
            break;
        pic.pts = n++;
        while ((ret = nvc_encoder_send_picture(enc, &pic)) == NVC_ERR(EAGAIN))
            if ((ret = drain_packets(enc, &mux, &o, &packets, &bytes)) < 0)
                break;
        nvc_picture_unref(&pic);
        if (!ret)
            ret = drain_packets(enc, &mux, &o, &packets, &bytes);
    }
    if (!ret && n == 0) {
        tool_error("%s: no pictures to encode", o.in);
        ret = NVC_ERR(EINVAL);
    }
    if (!ret && !tool_interrupted) {
        while ((ret = nvc_encoder_send_picture(enc, NULL)) == NVC_ERR(EAGAIN))
            if ((ret = drain_packets(enc, &mux, &o, &packets, &bytes)) < 0)
                break;
        if (!ret)
            ret = drain_packets(enc, &mux, &o, &packets, &bytes);
    }
    tool_end_progress();
    if (tool_interrupted && ret >= 0)
        ret = NVC_ERR(EINTR);
    if (!ret && !mux) {
        tool_error("the encoder produced no packets");
        ret = NVC_ERR(EIO);
    }
    int close_ret = nvc_mux_close(&mux, ret == 0);
    if (!ret)
        ret = close_ret;
    nvc_encoder_close(&enc);
    nvc_input_close(&in);
    if (ret < 0)
        return tool_exit_status(ret, o.out);
    const double secs = tool_now_s() - t0;
    const double pixels = (double)n * info.p.w * info.p.h;
    struct stat st;
    double file_bytes = strcmp(o.out, "-") && !stat(o.out, &st) ? (double)st.st_size : (double)bytes;
    fprintf(stderr, "%s: %" PRId64 " frames %dx%d -> %s: %.0f bytes, %.5f bpp, %.1f s\n", tool_name,
            n, info.p.w, info.p.h, o.out, file_bytes, file_bytes * 8 / pixels, secs);
    return 0;
}
