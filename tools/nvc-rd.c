/*
 * nvc-rd: rate-distortion sweeps of nvc's codecs and of x264, x265 and
 * SVT-AV1 (in-process through libavcodec) on the same frames, with
 * BD-rates, tables and plots. See doc/man/nvc-rd.1.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/rd/bd.h"
#include "tools/rd/rd.h"
#include "tools/rd/report.h"
#include "tools/rd/results.h"
#include "tools/rd/sweep.h"

/* The cancel pointer handed to the runners and to nvc encoders is
 * tool_interrupted itself. */
_Static_assert(_Generic((sig_atomic_t)0, int: 1, default: 0), "sig_atomic_t is not int");

#define MAX_CLIPS 4096
#define MAX_QLISTS 16

typedef struct QList {
    const char *codec;   /* NULL: every classic codec */
    char *values;
} QList;

typedef struct Options {
    const char *out_dir;
    const char *codecs;
    int gop_ra, gop_ld;
    QList q[MAX_QLISTS];
    int nq;
    int points;                 /* automatic search */
    double bpp_lo, bpp_hi;
    int64_t frames;
    const char *uvg;
    int w, h, fps_num, fps_den; /* raw inputs */
    int jobs, threads;
    const char *anchor;
    const char *metrics[RD_MAX_METRICS];
    int nmetrics;
    int max_points;
    int report_only, list_codecs, no_plots, no_png, quiet;
    const char *bd_anchor, *bd_test;
    RdOptions ro;
    char **inputs;
    int ninputs;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [options] CLIP...\n"
            "Rate-distortion sweep of nvc codecs and x264 / x265 / SVT-AV1 on the same frames:\n"
            "exact stream sizes, PSNR / MS-SSIM of the decoded pictures, BD-rates, tables, plots.\n"
            "CLIP: .y4m, raw .yuv named like Name_1920x1080_50fps_420_8bit_YUV.yuv or\n"
            "BasketballPass_416x240_50.yuv, .png (an image: PSNR-RGB), or a folder of those.\n"
            "\n"
            "Inputs:\n"
            "      --uvg DIR          the 7 UVG sequences (Beauty, Bosphorus, HoneyBee, Jockey,\n"
            "                         ReadySteadyGo, ShakeNDry, YachtRide) found by name in DIR\n"
            "  -n, --frames N         code the first N frames of each clip (default all)\n"
            "      --size WxH         size of raw .yuv clips whose name has none\n"
            "      --fps RATE         frame rate of raw .yuv clips (default: name, else 25)\n"
            "      --image-chroma C   images: 420 (default) or 444 YCbCr for the classic codecs\n"
            "Codecs and rate points:\n"
            "  -c, --codecs LIST      codecs (default: every one in this build; --list-codecs)\n"
            "      --gop G            classic codecs: ra (default), ld or ra,ld\n"
            "      --q [CODEC=]LIST   rate points, e.g. x265=22,27,32,37, hnerv=s,m,l,\n"
            "                         image=8,24,40; without CODEC= for every classic codec\n"
            "      --qp               classic codecs: constant QP instead of CRF\n"
            "      --points N         automatic search: points per classic curve (default 4)\n"
            "      --bpp-range LO,HI  automatic search: bpp targets, log-spaced (default 0.02,0.3)\n"
            "      --epochs N, --qat-epochs N, --qbits N, --seed N, --device cpu|cuda\n"
            "                         nvc codecs: training and device settings\n"
            "      --adaptive-intra B dcvc: 1 (default) I frames where cheaper than P frames; 0 never\n"
            "      --container C      nvc codecs: matroska (default) or elementary\n"
            "Running:\n"
            "  -o, --output DIR       results directory (default nvc-rd-results); a rerun\n"
            "                         with the same DIR skips the points already measured\n"
            "  -j, --jobs N           points coded in parallel (default 1)\n"
            "  -t, --threads N        threads per point (default: cores / jobs)\n"
            "      --max-points N     measure at most N new points, then stop (rerun to go on)\n"
            "      --keep-streams     keep the coded streams in DIR/streams\n"
            "Reports:\n"
            "  -a, --anchor CURVE     BD-rate anchor (default x265)\n"
            "  -m, --metric LIST      quality for BD and plots (default psnr_yuv; psnr_rgb when\n"
            "                         every clip is an image): %s\n"
            "      --no-plots, --no-png\n"
            "      --report           only rebuild the reports from DIR/rd.csv\n"
            "      --bd A B           BD-rate of point list B against A (\"rate:quality,...\")\n"
            "      --list-codecs      codecs and whether this build has them\n"
            "  -q, --quiet            no progress; -v, --verbose: more messages\n"
            "  -h, --help, --version\n",
            tool_name, rd_metric_names());
}

/* ---- option parsing --------------------------------------------------------------- */

static void parse_metrics(Options *o, const char *s)
{
    char *copy = strdup(s), *save = NULL;
    o->nmetrics = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!rd_metric_known(t))
            tool_die("--metric: unknown metric '%s' (known: %s)", t, rd_metric_names());
        if (o->nmetrics == RD_MAX_METRICS)
            tool_die("--metric: at most %d metrics", RD_MAX_METRICS);
        o->metrics[o->nmetrics++] = strdup(t);
    }
    free(copy);
    if (!o->nmetrics)
        tool_die("--metric: empty list");
}

static void parse_gop(Options *o, const char *s)
{
    o->gop_ra = o->gop_ld = 0;
    if (!strcmp(s, "ra"))
        o->gop_ra = 1;
    else if (!strcmp(s, "ld"))
        o->gop_ld = 1;
    else if (!strcmp(s, "ra,ld") || !strcmp(s, "ld,ra"))
        o->gop_ra = o->gop_ld = 1;
    else
        tool_die("--gop: expected ra, ld or ra,ld (got '%s')", s);
}

static void parse_qlist(Options *o, const char *s)
{
    if (o->nq == MAX_QLISTS)
        tool_die("--q: at most %d lists", MAX_QLISTS);
    QList *q = &o->q[o->nq++];
    const char *eq = strchr(s, '=');
    if (eq) {
        q->codec = strndup(s, eq - s);
        if (!rd_codec_find(q->codec))
            tool_die("--q %s: unknown codec '%s'", s, q->codec);
        s = eq + 1;
    }
    if (!*s)
        tool_die("--q: empty list");
    q->values = strdup(s);
}

static void parse_range(Options *o, const char *s)
{
    char *end;
    o->bpp_lo = strtod(s, &end);
    if (end == s || *end != ',')
        tool_die("--bpp-range: expected LO,HI (e.g. 0.02,0.3)");
    const char *t = end + 1;
    o->bpp_hi = strtod(t, &end);
    if (end == t || *end || !(o->bpp_lo > 0) || !(o->bpp_hi > o->bpp_lo) || o->bpp_hi > 64)
        tool_die("--bpp-range: expected 0 < LO < HI (e.g. 0.02,0.3)");
}

enum { OPT_UVG = 256, OPT_SIZE, OPT_FPS, OPT_IMAGE_CHROMA, OPT_GOP, OPT_Q, OPT_QP, OPT_POINTS,
       OPT_BPP_RANGE, OPT_EPOCHS, OPT_QAT, OPT_QBITS, OPT_SEED, OPT_AINTRA, OPT_DEVICE, OPT_CONTAINER,
       OPT_MAX_POINTS, OPT_KEEP, OPT_NO_PLOTS, OPT_NO_PNG, OPT_REPORT, OPT_BD, OPT_LIST,
       OPT_VERSION };

static const struct option longopts[] = {
    { "uvg", required_argument, NULL, OPT_UVG },
    { "frames", required_argument, NULL, 'n' },
    { "size", required_argument, NULL, OPT_SIZE },
    { "fps", required_argument, NULL, OPT_FPS },
    { "image-chroma", required_argument, NULL, OPT_IMAGE_CHROMA },
    { "codecs", required_argument, NULL, 'c' },
    { "gop", required_argument, NULL, OPT_GOP },
    { "q", required_argument, NULL, OPT_Q },
    { "qp", no_argument, NULL, OPT_QP },
    { "points", required_argument, NULL, OPT_POINTS },
    { "bpp-range", required_argument, NULL, OPT_BPP_RANGE },
    { "epochs", required_argument, NULL, OPT_EPOCHS },
    { "qat-epochs", required_argument, NULL, OPT_QAT },
    { "qbits", required_argument, NULL, OPT_QBITS },
    { "seed", required_argument, NULL, OPT_SEED }, { "adaptive-intra", required_argument, NULL, OPT_AINTRA },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "container", required_argument, NULL, OPT_CONTAINER },
    { "output", required_argument, NULL, 'o' },
    { "jobs", required_argument, NULL, 'j' },
    { "threads", required_argument, NULL, 't' },
    { "max-points", required_argument, NULL, OPT_MAX_POINTS },
    { "keep-streams", no_argument, NULL, OPT_KEEP },
    { "anchor", required_argument, NULL, 'a' },
    { "metric", required_argument, NULL, 'm' },
    { "no-plots", no_argument, NULL, OPT_NO_PLOTS },
    { "no-png", no_argument, NULL, OPT_NO_PNG },
    { "report", no_argument, NULL, OPT_REPORT },
    { "bd", required_argument, NULL, OPT_BD },
    { "list-codecs", no_argument, NULL, OPT_LIST },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static void parse_long(Options *o, int c)
{
    switch (c) {
    case OPT_UVG: o->uvg = optarg; break;
    case OPT_SIZE: tool_parse_size(optarg, &o->w, &o->h); break;
    case OPT_FPS: tool_parse_rate(optarg, &o->fps_num, &o->fps_den); break;
    case OPT_IMAGE_CHROMA:
        if (strcmp(optarg, "420") && strcmp(optarg, "444"))
            tool_die("--image-chroma: expected 420 or 444");
        o->ro.image_chroma444 = !strcmp(optarg, "444");
        break;
    case OPT_GOP: parse_gop(o, optarg); break;
    case OPT_Q: parse_qlist(o, optarg); break;
    case OPT_QP: o->ro.rc_qp = 1; break;
    case OPT_POINTS: o->points = (int)tool_parse_int(optarg, "--points", 1, 16); break;
    case OPT_BPP_RANGE: parse_range(o, optarg); break;
    case OPT_EPOCHS: o->ro.epochs = (int)tool_parse_int(optarg, "--epochs", 1, 1000000); break;
    case OPT_QAT: o->ro.qat_epochs = (int)tool_parse_int(optarg, "--qat-epochs", 0, 1000000); break;
    case OPT_QBITS: o->ro.qbits = (int)tool_parse_int(optarg, "--qbits", 6, 8); break;
    case OPT_SEED: o->ro.seed = (uint64_t)tool_parse_int(optarg, "--seed", 0, INT64_MAX); break;
    case OPT_AINTRA: o->ro.adaptive_intra = (int)tool_parse_int(optarg, "--adaptive-intra", 0, 1); break;
    case OPT_DEVICE:
        if (strcmp(optarg, "cpu") && strcmp(optarg, "cuda"))
            tool_die("--device: expected cpu or cuda");
        o->ro.device = strcmp(optarg, "cuda") ? NVC_DEVICE_CPU : NVC_DEVICE_CUDA;
        break;
    case OPT_CONTAINER:
        if (!strcmp(optarg, "matroska") || !strcmp(optarg, "mkv")) {
#ifndef NVC_HAVE_FFMPEG
            tool_die("--container matroska: this build has no FFmpeg (use elementary)");
#endif
            o->ro.container = NVC_CONTAINER_MATROSKA;
        } else if (!strcmp(optarg, "elementary"))
            o->ro.container = NVC_CONTAINER_ELEMENTARY;
        else
            tool_die("--container: expected matroska or elementary");
        break;
    case OPT_MAX_POINTS:
        o->max_points = (int)tool_parse_int(optarg, "--max-points", 1, 1000000);
        break;
    case OPT_KEEP: o->ro.keep_streams = 1; break;
    case OPT_NO_PLOTS: o->no_plots = 1; break;
    case OPT_NO_PNG: o->no_png = 1; break;
    case OPT_REPORT: o->report_only = 1; break;
    case OPT_BD: o->bd_anchor = optarg; break; /* the test list is the operand */
    case OPT_LIST: o->list_codecs = 1; break;
    case OPT_VERSION: tool_print_version(); exit(0);
    }
}

static void parse_options(Options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->out_dir = "nvc-rd-results";
    o->gop_ra = 1;
    o->points = 4;
    o->bpp_lo = 0.02;
    o->bpp_hi = 0.3;
    o->jobs = 1;
    o->ro.qat_epochs = -1;
    o->ro.seed = 1;
    o->ro.adaptive_intra = 1;
#ifdef NVC_HAVE_FFMPEG
    o->ro.container = NVC_CONTAINER_MATROSKA;
#else
    o->ro.container = NVC_CONTAINER_ELEMENTARY; /* Matroska needs libavformat */
#endif
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":n:c:o:j:t:a:m:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->frames = tool_parse_int(optarg, "--frames", 1, INT64_MAX); break;
        case 'c': o->codecs = optarg; break;
        case 'o': o->out_dir = optarg; break;
        case 'j': o->jobs = (int)tool_parse_int(optarg, "--jobs", 1, 64); break;
        case 't': o->threads = (int)tool_parse_int(optarg, "--threads", 1, 256); break;
        case 'a': o->anchor = optarg; break;
        case 'm': parse_metrics(o, optarg); break;
        case 'q': o->quiet = 1; break;
        case 'v': tool_verbosity = NVC_LOG_DEBUG, o->ro.verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case ':':
            tool_die("option '%s' needs an argument (try '%s --help')", argv[optind - 1],
                     tool_name);
        case '?':
            if (optopt)
                tool_die("unrecognized option -%c (try '%s --help')", optopt, tool_name);
            tool_die("unrecognized option '%s' (try '%s --help')", argv[optind - 1], tool_name);
        default: parse_long(o, c);
        }
    }
    o->inputs = argv + optind;
    o->ninputs = argc - optind;
    if (o->bd_anchor) {
        if (o->ninputs != 1)
            tool_die("--bd needs two point lists: --bd ANCHOR TEST");
        o->bd_test = o->inputs[0];
    }
}

/* ---- BD between two point lists (--bd) ------------------------------------------------ */

static int parse_points(const char *s, double *r, double *q)
{
    int n = 0;
    while (*s) {
        char *end;
        if (n == RD_BD_MAX_POINTS)
            tool_die("--bd: at most %d points per curve", RD_BD_MAX_POINTS);
        r[n] = strtod(s, &end);
        if (end == s || *end != ':')
            tool_die("--bd: expected rate:quality,rate:quality,... (at '%s')", s);
        s = end + 1;
        q[n] = strtod(s, &end);
        if (end == s || (*end && *end != ','))
            tool_die("--bd: expected rate:quality,rate:quality,... (at '%s')", s);
        s = *end ? end + 1 : end;
        n++;
    }
    return n;
}

static int run_bd(const Options *o)
{
    double ra[RD_BD_MAX_POINTS], qa[RD_BD_MAX_POINTS], rt[RD_BD_MAX_POINTS], qt[RD_BD_MAX_POINTS];
    const int na = parse_points(o->bd_anchor, ra, qa), nt = parse_points(o->bd_test, rt, qt);
    static const char *const names[] = { "cubic", "pchip" };
    for (int m = 0; m < 2; m++) {
        double rate, qual;
        const int e = rd_bd_rate(ra, qa, na, rt, qt, nt, (enum RdBdMethod)m, &rate);
        const int e2 = rd_bd_quality(ra, qa, na, rt, qt, nt, (enum RdBdMethod)m, &qual);
        if (e < 0)
            printf("%s: n/a (%s)\n", names[m], rd_bd_error_string(e));
        else
            printf("%s: BD-rate %+.6f %%, BD-quality %+.6f%s\n", names[m], 100 * rate,
                   e2 < 0 ? NAN : qual, e2 < 0 ? " (n/a)" : "");
    }
    return 0;
}

/* ---- clips -------------------------------------------------------------------------- */

static int has_ext(const char *name, const char *ext)
{
    const size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

typedef struct Capture {
    char msg[256];
} Capture;

static void capture_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (level == NVC_LOG_ERROR)
        vsnprintf(((Capture *)cookie)->msg, sizeof(((Capture *)cookie)->msg), fmt, ap);
}

static void label_of(const char *path, char *label, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(label, size, "%s", base);
    char *dot = strrchr(label, '.');
    if (dot && dot != label)
        *dot = 0;
}

static void open_clip(RdSweep *sw, const Options *o, const char *path, const char *label)
{
    if (!strcmp(path, "-"))
        tool_die("clips must be files (each point reads its clip again), not standard input");
    if (sw->nclips == MAX_CLIPS)
        tool_die("more than %d clips", MAX_CLIPS);
    if (!(sw->nclips & (sw->nclips - 1))) { /* grow at powers of two */
        RdClip *p = realloc(sw->clips, (sw->nclips ? 2 * sw->nclips : 1) * sizeof(*p));
        if (!p)
            tool_die("out of memory");
        sw->clips = p;
    }
    RdClip *c = &sw->clips[sw->nclips];
    memset(c, 0, sizeof(*c));
    c->path = strdup(path);
    nvc_input_default_settings(&c->in);
    if (has_ext(path, ".yuv")) {
        c->in.w = o->w;
        c->in.h = o->h;
        c->in.fps_num = o->fps_num;
        c->in.fps_den = o->fps_den;
    }
    Capture cap = { "" };
    c->in.logger = (NvcLogger){ &cap, capture_log };
    NvcInput *in = NULL;
    int ret = nvc_input_open(&in, path, &c->in);
    if (ret < 0 && cap.msg[0] && !strncmp(cap.msg, path, strlen(path)))
        tool_die("%s", cap.msg); /* the message names the file already */
    if (ret < 0)
        tool_die("%s: %s", path, cap.msg[0] ? cap.msg : nvc_error_string(ret));
    c->in.logger = (NvcLogger){ 0 };
    c->info = *nvc_input_info(in);
    nvc_input_close(&in);
    if (c->info.nb_frames <= 0)
        tool_die("%s: the number of frames is unknown", path);
    c->frames = o->frames && o->frames < c->info.nb_frames ? o->frames : c->info.nb_frames;
    c->image = c->info.p.layout == NVC_PIXEL_LAYOUT_I444 && c->info.color.matrix == NVC_MC_IDENTITY;
    if (c->image) {
        c->yuv_p = (NvcPictureParameters){ c->info.p.w, c->info.p.h,
                                           o->ro.image_chroma444 ? NVC_PIXEL_LAYOUT_I444
                                                                 : NVC_PIXEL_LAYOUT_I420,
                                           c->info.p.bpc > 8 ? 10 : 8 };
        nvc_color_description_default(&c->yuv_color);
        c->yuv_color.matrix = NVC_MC_BT601;
        c->yuv_color.range = NVC_RANGE_FULL;
        c->yuv_color.primaries = c->info.color.primaries;
        c->yuv_color.transfer = c->info.color.transfer;
        c->yuv_color.chroma_location = NVC_CHROMA_CENTER;
    }
    if (label)
        snprintf(c->label, sizeof(c->label), "%s", label);
    else
        label_of(path, c->label, sizeof(c->label));
    /* Labels name rows and files: make them unique. */
    char base[RD_NAME_MAX - 16];
    snprintf(base, sizeof(base), "%.100s", c->label);
    for (int k = 2;; k++) {
        int dup = 0;
        for (int i = 0; i < sw->nclips && !dup; i++)
            dup = !strcmp(sw->clips[i].label, c->label);
        if (!dup)
            break;
        snprintf(c->label, sizeof(c->label), "%s-%d", base, k);
    }
    sw->nclips++;
}

static int clip_file(const struct dirent *e)
{
    return e->d_name[0] != '.' &&
           (has_ext(e->d_name, ".y4m") || has_ext(e->d_name, ".yuv") || has_ext(e->d_name, ".png"));
}

static void add_input(RdSweep *sw, const Options *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 && strcmp(path, "-"))
        tool_die("%s: %s", path, strerror(errno));
    if (strcmp(path, "-") && S_ISDIR(st.st_mode)) {
        struct dirent **list;
        const int n = scandir(path, &list, clip_file, alphasort);
        if (n < 0)
            tool_die("%s: %s", path, strerror(errno));
        if (n == 0)
            tool_die("%s: no .y4m, .yuv or .png file in this folder", path);
        for (int i = 0; i < n; i++) {
            char full[4200];
            snprintf(full, sizeof(full), "%s/%s", path, list[i]->d_name);
            open_clip(sw, o, full, NULL);
            free(list[i]);
        }
        free(list);
        return;
    }
    open_clip(sw, o, path, NULL);
}

/* How well a file name suits a UVG sequence: 1080p 8-bit preferred. */
static int uvg_score(const char *name)
{
    return (strstr(name, "1920x1080") ? 4 : 0) + (strstr(name, "10bit") ? -2 : 1);
}

static void add_uvg(RdSweep *sw, const Options *o, const char *dir)
{
    static const char *const names[] = { "Beauty", "Bosphorus", "HoneyBee", "Jockey",
                                         "ReadySteadyGo", "ShakeNDry", "YachtRide" };
    struct dirent **list;
    const int n = scandir(dir, &list, clip_file, alphasort);
    if (n < 0)
        tool_die("--uvg %s: %s", dir, strerror(errno));
    int found = 0;
    for (int k = 0; k < 7; k++) {
        const size_t len = strlen(names[k]);
        int best = -1;
        for (int i = 0; i < n; i++) {
            const char *f = list[i]->d_name;
            if (strncasecmp(f, names[k], len) || (f[len] != '_' && f[len] != '.') ||
                has_ext(f, ".png"))
                continue;
            if (best < 0 || uvg_score(f) > uvg_score(list[best]->d_name))
                best = i;
        }
        if (best < 0) {
            tool_error("warning: --uvg %s: no file for %s", dir, names[k]);
            continue;
        }
        char full[4200];
        snprintf(full, sizeof(full), "%s/%s", dir, list[best]->d_name);
        open_clip(sw, o, full, names[k]);
        found++;
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    if (!found)
        tool_die("--uvg %s: none of the 7 UVG sequences found (names like "
                 "Beauty_1920x1080_120fps_420_8bit_YUV.yuv)", dir);
}

/* ---- codecs and tasks ------------------------------------------------------------------ */

static int available(const RdCodec *c, char *why, size_t size)
{
    if (c->kind == RD_KIND_NVC) {
        snprintf(why, size, "not in this build (nvc_encoder_open: %s)",
                 nvc_error_string(NVC_ERR(ENOTSUP)));
        return rd_nvc_available(c);
    }
    return rd_lavc_available(c, why, size);
}

static int list_codecs(void)
{
    for (const RdCodec *c = rd_codecs; c->name; c++) {
        char why[256] = "";
        const int ok = available(c, why, sizeof(why));
        printf("%-7s %-4s %-5s %s\n", c->name, c->kind == RD_KIND_NVC ? "nvc" : "lavc",
               c->knob, ok ? "yes" : why);
    }
    return 0;
}

static int select_codecs(const Options *o, const RdCodec **sel)
{
    int n = 0;
    char why[256];
    if (!o->codecs) {
        for (const RdCodec *c = rd_codecs; c->name; c++)
            if (available(c, why, sizeof(why)))
                sel[n++] = c;
        if (!n)
            tool_die("no codec in this build (see --list-codecs)");
        return n;
    }
    char *copy = strdup(o->codecs), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const RdCodec *c = rd_codec_find(t);
        if (!c)
            tool_die("--codecs: unknown codec '%s' (see --list-codecs)", t);
        if (!available(c, why, sizeof(why)))
            tool_die("--codecs: %s: %s", t, why);
        for (int i = 0; i < n; i++)
            if (sel[i] == c)
                tool_die("--codecs: %s given twice", t);
        sel[n++] = c;
    }
    free(copy);
    if (!n)
        tool_die("--codecs: empty list");
    return n;
}

/* Check one rate point value of codec c. */
static void check_value(const RdCodec *c, const char *knob, const char *v)
{
    char *end;
    if (!strcmp(knob, "size")) {
        for (const char *s = v; *s; s++)
            if (!isalnum((unsigned char)*s) && *s != '.')
                tool_die("--q %s: '%s' is not a model size (xs, s, m, l, xl or e.g. 1.5M)",
                         c->name, v);
        return;
    }
    const double x = strtod(v, &end);
    const int svt = !strcmp(c->name, "svtav1");
    const double lo = svt ? 1 : 0; /* FFmpeg 5.1: SVT-AV1 crf/qp 0 means unset */
    const double hi = c->kind == RD_KIND_NVC || svt ? 63 : !strcmp(knob, "crf") ? 51 : 69;
    if (end == v || *end || !(x >= lo && x <= hi) ||
        (c->kind == RD_KIND_NVC && x != floor(x)))
        tool_die("--q %s: '%s' is not a %s value in %g..%g", c->name, v, knob, lo, hi);
}

static const char *values_for(const Options *o, const RdCodec *c)
{
    const char *v = NULL;
    for (int i = 0; i < o->nq; i++)
        if ((o->q[i].codec && !strcmp(o->q[i].codec, c->name)) ||
            (!o->q[i].codec && c->kind == RD_KIND_LAVC))
            v = o->q[i].values;
    return v;
}

static void add_task(RdSweep *sw, int clip, const RdCodec *c, enum RdGop gop, const char *knob,
                     const char *value, int auto_points)
{
    RdTask *t = &sw->tasks[sw->ntasks++];
    memset(t, 0, sizeof(*t));
    t->clip = clip;
    t->codec = c;
    t->gop = gop;
    snprintf(t->knob, sizeof(t->knob), "%s", knob);
    snprintf(t->value, sizeof(t->value), "%s", value ? value : "");
    t->auto_points = auto_points;
}

static void build_tasks(RdSweep *sw, const Options *o, const RdCodec **sel, int nsel)
{
    for (int i = 0; i < o->nq; i++) {
        int used = !o->q[i].codec;
        for (int k = 0; k < nsel && !used; k++)
            used = !strcmp(sel[k]->name, o->q[i].codec);
        if (!used)
            tool_die("--q %s=...: %s is not among the codecs swept", o->q[i].codec,
                     o->q[i].codec);
    }
    int cap = 0;
    for (int k = 0; k < nsel; k++) {
        const char *v = values_for(o, sel[k]) ? values_for(o, sel[k]) : sel[k]->default_values;
        int nv = 1;
        for (const char *s = v; s && *s; s++)
            nv += *s == ',';
        cap += sw->nclips * 2 * (v ? nv : 1);
    }
    sw->tasks = calloc(cap + 1, sizeof(*sw->tasks));
    for (int ci = 0; ci < sw->nclips; ci++) {
        for (int k = 0; k < nsel; k++) {
            const RdCodec *c = sel[k];
            const char *knob = c->kind == RD_KIND_LAVC ? (o->ro.rc_qp ? "qp" : "crf") : c->knob;
            const char *list = values_for(o, c) ? values_for(o, c) : c->default_values;
            for (int g = 0; g < 2; g++) {
                if (c->kind == RD_KIND_LAVC ? !(g ? o->gop_ld : o->gop_ra) : g)
                    continue;
                if (!list) {
                    add_task(sw, ci, c, (enum RdGop)g, knob, NULL, o->points);
                    continue;
                }
                char *copy = strdup(list), *save = NULL;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                    check_value(c, knob, t);
                    add_task(sw, ci, c, (enum RdGop)g, knob, t, 0);
                }
                free(copy);
            }
        }
    }
}

/* ---- main ----------------------------------------------------------------------------- */

static char *command_line(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    for (int i = 0; i < argc; i++) {
        const int quote = strpbrk(argv[i], " \t\"'`|") != NULL;
        p += sprintf(p, "%s%s%s%s", i ? " " : "", quote ? "'" : "", i ? argv[i] : tool_name,
                     quote ? "'" : "");
    }
    return s;
}

static void lock_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/.nvc-rd.lock", dir);
    const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        tool_die("%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        tool_die("%s: another nvc-rd is writing this directory", dir);
    /* held until exit */
}

static int write_reports(const Options *o, const RdResults *r, const char *cmd)
{
    if (!r->n) {
        tool_error("no measured point: no report");
        return 0;
    }
    RdReportOptions ro = { .dir = o->out_dir, .anchor = o->anchor, .command = cmd,
                           .plots = !o->no_plots, .png = !o->no_png };
#ifndef NVC_HAVE_PNG
    ro.png = 0;
#endif
    for (int i = 0; i < o->nmetrics; i++)
        ro.metrics[ro.nmetrics++] = o->metrics[i];
    char err[512] = "";
    const int ret = rd_report_write(r->pts, r->n, &ro, o->quiet ? NULL : stdout, err, sizeof(err));
    if (ret < 0)
        tool_die("reports: %s", err[0] ? err : nvc_error_string(ret));
    if (!o->quiet)
        printf("Reports: %s/summary.md, %s/bd.csv%s\n", o->out_dir, o->out_dir,
               ro.plots ? ", plots/" : "");
    return 0;
}

static void options_free(Options *o)
{
    for (int i = 0; i < o->nq; i++) {
        free((char *)o->q[i].codec);
        free(o->q[i].values);
    }
    for (int i = 0; i < o->nmetrics; i++)
        free((char *)o->metrics[i]);
}

static void sweep_free(RdSweep *sw)
{
    for (int i = 0; i < sw->nclips; i++)
        free(sw->clips[i].path);
    free(sw->clips);
    free(sw->tasks);
    rd_results_close(&sw->results);
    pthread_mutex_destroy(&sw->lock);
}

static int report_only(const Options *o, const char *cmd)
{
    RdResults r;
    char err[512] = "";
    if (rd_results_open(&r, o->out_dir, 0, err, sizeof(err)) < 0)
        tool_die("%s", err);
    if (!r.n)
        tool_die("%s/rd.csv: no points", o->out_dir);
    write_reports(o, &r, cmd);
    rd_results_close(&r);
    return 0;
}

static void setup(RdSweep *sw, Options *o)
{
    for (int i = 0; i < o->ninputs; i++)
        add_input(sw, o, o->inputs[i]);
    if (o->uvg)
        add_uvg(sw, o, o->uvg);
    if (!sw->nclips)
        tool_die("no clip given (try '%s --help')", tool_name);
    const RdCodec *sel[32];
    const int nsel = select_codecs(o, sel);
    build_tasks(sw, o, sel, nsel);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    sw->opt = o->ro;
    sw->opt.threads = o->threads ? o->threads : (int)(cores / o->jobs > 1 ? cores / o->jobs : 1);
    static char streams[4200];
    snprintf(streams, sizeof(streams), "%s/streams", o->out_dir);
    sw->opt.stream_dir = streams;
    sw->jobs = o->jobs;
    sw->bpp_lo = o->bpp_lo;
    sw->bpp_hi = o->bpp_hi;
    sw->max_points = o->max_points;
    sw->quiet = o->quiet;
    pthread_mutex_init(&sw->lock, NULL);
}

static int sweep(RdSweep *sw, Options *o, const char *cmd)
{
    setup(sw, o);
    int ret = rd_mkdir_p(o->out_dir);
    if (ret < 0)
        tool_die("%s: %s", o->out_dir, strerror(-ret));
    lock_dir(o->out_dir);
    char err[512] = "";
    if (rd_results_open(&sw->results, o->out_dir, 1, err, sizeof(err)) < 0)
        tool_die("%s", err);
    if (sw->results.dropped)
        tool_error("warning: %d incomplete line%s removed from the results (an interrupted run)",
                   sw->results.dropped, sw->results.dropped > 1 ? "s" : "");
    rd_sweep_plan(sw);
    if (!o->quiet)
        tool_error("%d point%s to measure on %d clip%s (%d already in %s/rd.csv); %d job%s x %d "
                   "thread%s",
                   sw->points_total, sw->points_total == 1 ? "" : "s", sw->nclips,
                   sw->nclips == 1 ? "" : "s", sw->results.n, o->out_dir, o->jobs,
                   o->jobs == 1 ? "" : "s", sw->opt.threads, sw->opt.threads == 1 ? "" : "s");
    const int failed = sw->points_total ? rd_sweep_run(sw) : 0;
    if (tool_interrupted) {
        tool_error("interrupted: %d new point%s saved in %s/rd.csv; run the same command again to "
                   "resume",
                   sw->points_done, sw->points_done == 1 ? "" : "s", o->out_dir);
        return 130;
    }
    if (sw->stop) {
        int left = 0;
        for (int i = 0; i < sw->ntasks; i++)
            left += sw->tasks[i].points_left > 0 ? sw->tasks[i].points_left : 0;
        const int n = sw->points_done + sw->points_failed;
        tool_error("stopped after %d new point%s (--max-points); %d left: run the same command "
                   "again to continue",
                   n, n == 1 ? "" : "s", left);
    }
    write_reports(o, &sw->results, cmd);
    if (failed)
        tool_error("%d point%s failed", failed, failed == 1 ? "" : "s");
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    Options o;
    parse_options(&o, argc, argv);
    rd_lavc_init(o.ro.verbose);
    char *cmd = command_line(argc, argv);
    int ret;
    if (o.bd_anchor) {
        ret = run_bd(&o);
    } else if (o.list_codecs) {
        ret = list_codecs();
    } else if (o.report_only) {
        ret = report_only(&o, cmd);
    } else {
        RdSweep sw;
        memset(&sw, 0, sizeof(sw));
        ret = sweep(&sw, &o, cmd);
        sweep_free(&sw);
    }
    free(cmd);
    options_free(&o);
    return ret;
}
