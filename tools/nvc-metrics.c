/*
 * nvc-metrics: quality metrics between a reference and a test video or
 * picture (Y4M, raw .yuv, PNG): PSNR, SSIM, MS-SSIM, PSNR-RGB per frame and
 * for the sequence.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc/convert.h"
#include "nvc/io.h"
#include "nvc/metrics.h"
#include "tools/common.h"

typedef struct Options {
    const char *ref_path, *test_path;
    unsigned metrics;          /* NVC_METRIC_* */
    int csv, summary_only, shortest;
    int64_t max_frames;        /* -1: all */
    int64_t skip;
    int w, h, bpc;             /* raw input settings (0: unset) */
    int layout;                /* -1: unset */
    int matrix;                /* -1: from the input */
    int range;                 /* -1: from the input */
} Options;

/* A logger that prints like tool_logger and remembers that an error was
 * reported, so the tool adds its own line only when the library gave none. */
static int errors_logged;

static void count_logger(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    NvcLogger inner = tool_logger();
    if (level == NVC_LOG_ERROR)
        errors_logged++;
    inner.callback(inner.cookie, level, fmt, ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [options] REF TEST\n"
            "Compare TEST against REF frame by frame: PSNR, SSIM, MS-SSIM, PSNR-RGB.\n"
            "Inputs: .y4m, raw .yuv (size from --size or a name like\n"
            "Name_1920x1080_50fps_420_8bit_YUV.yuv), .png or a %%d PNG sequence; '-' is a Y4M\n"
            "stream on standard input (for one of the two).\n"
            "\n"
            "Options:\n"
            "  -m, --metrics LIST  comma-separated: psnr, ssim, msssim, rgb, all\n"
            "                      (default psnr,ssim; msssim and rgb cost more)\n"
            "  -n, --frames N      compare at most N frames\n"
            "      --skip N        skip the first N frames of both inputs\n"
            "      --shortest      inputs of different lengths: compare the common frames\n"
            "                      with a warning (default: an error, exit status 1)\n"
            "  -c, --csv           CSV: a header, one row per frame, rows 'mean' and 'pooled'\n"
            "  -s, --summary       print only the summary\n"
            "      --size WxH      size of raw .yuv inputs\n"
            "      --bitdepth N    bits per sample of raw .yuv inputs (8, 10, 12, 16)\n"
            "      --layout L      raw .yuv chroma: 420, 444 or 400 (default 420)\n"
            "      --matrix M      YCbCr->RGB for rgb: bt601, bt709, bt2020\n"
            "                      (default: from the input; unknown: bt709 above 576 lines)\n"
            "      --range R       YCbCr range for rgb: tv (limited) or pc (full)\n"
            "  -v, --verbose       more messages\n"
            "  -h, --help          this help\n"
            "      --version       version\n"
            "\n"
            "The summary gives the mean of the per-frame values (as NVC papers report) and,\n"
            "for PSNR, the PSNR of the mean MSE (as FFmpeg's psnr filter reports).\n"
            "PSNR-YUV is (6 Y + U + V) / 8 of the per-plane PSNRs. Identical planes give 'inf'.\n"
            "Exit status: 0 on success, 1 on bad input or options.\n",
            tool_name);
}

static unsigned parse_metrics(const char *s)
{
    unsigned m = 0;
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        tool_die("out of memory");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "psnr"))
            m |= NVC_METRIC_PSNR;
        else if (!strcmp(t, "ssim"))
            m |= NVC_METRIC_SSIM;
        else if (!strcmp(t, "msssim") || !strcmp(t, "ms-ssim"))
            m |= NVC_METRIC_MSSSIM;
        else if (!strcmp(t, "rgb"))
            m |= NVC_METRIC_RGB;
        else if (!strcmp(t, "all"))
            m |= NVC_METRIC_ALL;
        else
            tool_die("--metrics: unknown metric '%s' (expected psnr, ssim, msssim, rgb, all)", t);
    }
    free(copy);
    if (!m)
        tool_die("--metrics: empty list");
    return m;
}

static int parse_choice(const char *s, const char *what, const char *const *names, const int *values,
                        int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return values[i];
    tool_die("%s: unknown value '%s'", what, s);
}

enum { OPT_SKIP = 256, OPT_SHORTEST, OPT_SIZE, OPT_BITDEPTH, OPT_LAYOUT, OPT_MATRIX, OPT_RANGE,
       OPT_VERSION };

static void parse_options(Options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "metrics", required_argument, NULL, 'm' },
        { "frames", required_argument, NULL, 'n' },
        { "skip", required_argument, NULL, OPT_SKIP },
        { "shortest", no_argument, NULL, OPT_SHORTEST },
        { "csv", no_argument, NULL, 'c' },
        { "summary", no_argument, NULL, 's' },
        { "size", required_argument, NULL, OPT_SIZE },
        { "bitdepth", required_argument, NULL, OPT_BITDEPTH },
        { "layout", required_argument, NULL, OPT_LAYOUT },
        { "matrix", required_argument, NULL, OPT_MATRIX },
        { "range", required_argument, NULL, OPT_RANGE },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    static const char *const layouts[] = { "420", "444", "400" };
    static const int layout_values[] = { NVC_PIXEL_LAYOUT_I420, NVC_PIXEL_LAYOUT_I444,
                                         NVC_PIXEL_LAYOUT_I400 };
    static const char *const matrices[] = { "bt601", "bt709", "bt2020" };
    static const int matrix_values[] = { NVC_MC_BT601, NVC_MC_BT709, NVC_MC_BT2020_NCL };
    static const char *const ranges[] = { "tv", "pc", "limited", "full" };
    static const int range_values[] = { NVC_RANGE_LIMITED, NVC_RANGE_FULL, NVC_RANGE_LIMITED,
                                        NVC_RANGE_FULL };
    *o = (Options){ .metrics = NVC_METRIC_PSNR | NVC_METRIC_SSIM, .max_frames = -1, .layout = -1,
                    .matrix = -1, .range = -1 };
    opterr = 0; /* one message line of our own instead of getopt's */
    int c;
    while ((c = getopt_long(argc, argv, ":m:n:csvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->metrics = parse_metrics(optarg); break;
        case 'n': o->max_frames = tool_parse_int(optarg, "--frames", 1, INT64_MAX); break;
        case OPT_SKIP: o->skip = tool_parse_int(optarg, "--skip", 0, INT64_MAX); break;
        case OPT_SHORTEST: o->shortest = 1; break;
        case 'c': o->csv = 1; break;
        case 's': o->summary_only = 1; break;
        case OPT_SIZE: tool_parse_size(optarg, &o->w, &o->h); break;
        case OPT_BITDEPTH:
            o->bpc = (int)tool_parse_int(optarg, "--bitdepth", 8, 16);
            if (o->bpc != 8 && o->bpc != 10 && o->bpc != 12 && o->bpc != 16)
                tool_die("--bitdepth: %d is not 8, 10, 12 or 16", o->bpc);
            break;
        case OPT_LAYOUT: o->layout = parse_choice(optarg, "--layout", layouts, layout_values, 3); break;
        case OPT_MATRIX: o->matrix = parse_choice(optarg, "--matrix", matrices, matrix_values, 3); break;
        case OPT_RANGE: o->range = parse_choice(optarg, "--range", ranges, range_values, 4); break;
        case 'v': tool_verbosity = NVC_LOG_DEBUG; break;
        case 'h': usage(stdout); exit(0);
        case OPT_VERSION: tool_print_version(); exit(0);
        case ':':
            if (optopt)
                tool_die("option -%c needs an argument (try '%s --help')", optopt, tool_name);
            tool_die("option '%s' needs an argument (try '%s --help')", argv[optind - 1], tool_name);
        default:
            if (optopt)
                tool_die("unrecognized option -%c (try '%s --help')", optopt, tool_name);
            tool_die("unrecognized option '%s' (try '%s --help')", argv[optind - 1], tool_name);
        }
    }
    if (argc - optind != 2) {
        tool_error("expected two inputs, REF and TEST (got %d); try '%s --help'", argc - optind,
                   tool_name);
        exit(1);
    }
    o->ref_path = argv[optind];
    o->test_path = argv[optind + 1];
    if (!strcmp(o->ref_path, "-") && !strcmp(o->test_path, "-"))
        tool_die("only one input can be standard input");
}

/* A raw input that has neither --size nor a size in its name. */
static int needs_size(const char *path, const Options *o)
{
    const size_t n = strlen(path);
    if (o->w || n < 4 || strcmp(path + n - 4, ".yuv"))
        return 0;
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    return nvc_yuv_name_parse(path, &info) < 0;
}

static NvcInput *open_input(const char *path, const Options *o, const NvcVideoInfo *other)
{
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.logger = (NvcLogger){ .callback = count_logger };
    s.w = o->w;
    s.h = o->h;
    s.bpc = o->bpc;
    if (o->layout >= 0)
        s.layout = o->layout;
    if (other) { /* raw input without a size: take the other input's format */
        s.w = other->p.w;
        s.h = other->p.h;
        if (!o->bpc)
            s.bpc = other->p.bpc;
        if (o->layout < 0)
            s.layout = other->p.layout;
    }
    NvcInput *in;
    const int before = errors_logged;
    const int ret = nvc_input_open(&in, path, &s);
    if (ret < 0) {
        if (errors_logged == before || tool_interrupted)
            tool_die("%s: %s", path, nvc_error_string(ret)); /* "interrupted" after Ctrl-C */
        exit(1);
    }
    return in;
}

static const char *layout_name(int layout)
{
    return layout == NVC_PIXEL_LAYOUT_I400 ? "4:0:0" : layout == NVC_PIXEL_LAYOUT_I420 ? "4:2:0"
                                                                                        : "4:4:4";
}

static void describe(char *buf, size_t sz, const NvcVideoInfo *i)
{
    snprintf(buf, sz, "%dx%d %s %d-bit%s", i->p.w, i->p.h, layout_name(i->p.layout), i->p.bpc,
             i->p.layout == NVC_PIXEL_LAYOUT_I444 && i->color.matrix == NVC_MC_IDENTITY ? " RGB"
                                                                                        : "");
}

/* ---- output ------------------------------------------------------------- */

/* The columns printed, in order, for the chosen metrics and plane count. */
typedef struct Column {
    const char *name;
    size_t offset;   /* of a double in NvcFrameMetrics */
    int kind;        /* 0: PSNR (dB), 1: SSIM-like, 2: MSE */
    int pooled_psnr; /* 1: differs between mean and pooled rows */
} Column;

#define FIELD(f) offsetof(NvcFrameMetrics, f)

static int make_columns(Column *col, unsigned metrics, int planes, int rgb_in, int rgb_ok, int csv)
{
    int n = 0;
    const int three = planes == 3;
    /* plane names: Y, U, V or, for RGB inputs, R, G, B (no 6:1:1 columns) */
    static const char *const names[2][4][3] = {
        { { "psnr_y", "psnr_u", "psnr_v" }, { "ssim_y", "ssim_u", "ssim_v" },
          { "msssim_y", "msssim_u", "msssim_v" }, { "mse_y", "mse_u", "mse_v" } },
        { { "psnr_r", "psnr_g", "psnr_b" }, { "ssim_r", "ssim_g", "ssim_b" },
          { "msssim_r", "msssim_g", "msssim_b" }, { "mse_r", "mse_g", "mse_b" } },
    };
    const char *const (*nm)[3] = names[rgb_in];
#define ADD(name, f, k, p) col[n++] = (Column){ name, FIELD(f), k, p }
    if (metrics & NVC_METRIC_PSNR) {
        for (int i = 0; i < (three ? 3 : 1); i++)
            ADD(nm[0][i], psnr[i], 0, 1);
        if (three && !rgb_in)
            ADD("psnr_yuv", psnr_yuv, 0, 1);
        if (three && !rgb_in)
            ADD("psnr_avg", psnr_avg, 0, 1);
        if (rgb_in)
            ADD("psnr_rgb", psnr_rgb, 0, 1);
    }
    if (metrics & NVC_METRIC_SSIM) {
        for (int i = 0; i < (three ? 3 : 1); i++)
            ADD(nm[1][i], ssim[i], 1, 0);
        if (three)
            ADD("ssim_all", ssim_all, 1, 0);
    }
    if (metrics & NVC_METRIC_MSSSIM) {
        for (int i = 0; i < (three ? 3 : 1); i++)
            ADD(nm[2][i], msssim[i], 1, 0);
        if (three)
            ADD(rgb_in ? "msssim_rgb" : "msssim_yuv", msssim_yuv, 1, 0);
        if (rgb_in)
            col[n - 1].offset = FIELD(msssim_rgb);
    }
    if ((metrics & NVC_METRIC_RGB) && rgb_ok && !rgb_in) {
        ADD("psnr_rgb", psnr_rgb, 0, 1);
        if (metrics & NVC_METRIC_MSSSIM)
            ADD("msssim_rgb", msssim_rgb, 1, 0);
    }
    if (csv && (metrics & NVC_METRIC_PSNR)) {
        for (int i = 0; i < (three ? 3 : 1); i++)
            ADD(nm[3][i], mse[i], 2, 0);
    }
    if (csv && (((metrics & NVC_METRIC_RGB) && rgb_ok) || (rgb_in && (metrics & NVC_METRIC_PSNR))))
        ADD("mse_rgb", mse_rgb, 2, 0);
#undef ADD
    return n;
}

static double column_value(const NvcFrameMetrics *m, const Column *c)
{
    return *(const double *)(const void *)((const char *)m + c->offset);
}

static void print_value(double v, int kind, int csv)
{
    static const char *const fmt[2][3] = { { " %9.4f", " %9.6f", " %9.4f" },
                                           { ",%.6f", ",%.8f", ",%.6f" } };
    printf(fmt[csv][kind], v);
}

static void print_header(const Column *col, int n, int csv)
{
    printf(csv ? "frame" : "frame ");
    for (int i = 0; i < n; i++)
        printf(csv ? ",%s" : " %9s", col[i].name);
    printf("\n");
}

static void print_row(const char *label, int64_t frame, const NvcFrameMetrics *m, const Column *col,
                      int n, int csv)
{
    if (label)
        printf(csv ? "%s" : "%-6s", label);
    else
        printf(csv ? "%lld" : "%6lld", (long long)frame);
    for (int i = 0; i < n; i++)
        print_value(column_value(m, &col[i]), col[i].kind, csv);
    printf("\n");
}

/* Human summary: the mean row, then the pooled-MSE PSNR row. */
static void print_summary_lines(const NvcSequenceMetrics *seq, const Column *col, int n)
{
    printf("mean  ");
    for (int i = 0; i < n; i++)
        print_value(column_value(&seq->mean, &col[i]), col[i].kind, 0);
    printf("   (mean of the per-frame values, %lld frame%s)\n", (long long)seq->frames,
           seq->frames == 1 ? "" : "s");
    int pooled = 0;
    for (int i = 0; i < n; i++)
        pooled |= col[i].pooled_psnr;
    if (!pooled)
        return;
    printf("pooled");
    for (int i = 0; i < n; i++) {
        if (col[i].pooled_psnr)
            print_value(column_value(&seq->pooled, &col[i]), col[i].kind, 0);
        else
            printf(" %9s", "-");
    }
    printf("   (PSNR of the mean MSE, as FFmpeg's summary)\n");
}

/* ---- main loop ---------------------------------------------------------- */

typedef struct Session {
    const Options *o;
    NvcInput *ref, *test;
    NvcVideoInfo info;
    int rgb_ok;  /* colour inputs: RGB metrics possible */
    int rgb_in;  /* the inputs are RGB (PNG): planes are R, G, B */
} Session;

/* Read one frame of each input: 1 (both), 0 (both ended), 2 (ref ended
 * first), 3 (test ended first); exits on read errors. */
static int read_pair(Session *s, NvcPicture *a, NvcPicture *b)
{
    int before = errors_logged;
    int ra = nvc_input_read(s->ref, a);
    if (ra < 0) {
        if (errors_logged == before || tool_interrupted)
            tool_die("%s: %s", s->o->ref_path, nvc_error_string(ra));
        exit(1);
    }
    before = errors_logged;
    int rb = nvc_input_read(s->test, b);
    if (rb < 0) {
        if (errors_logged == before || tool_interrupted)
            tool_die("%s: %s", s->o->test_path, nvc_error_string(rb));
        nvc_picture_unref(a);
        exit(1);
    }
    if (ra && rb)
        return 1;
    nvc_picture_unref(a);
    nvc_picture_unref(b);
    return !ra && !rb ? 0 : !ra ? 2 : 3;
}

static void apply_color(NvcPicture *p, const Options *o)
{
    if (o->matrix >= 0 && p->color.matrix != NVC_MC_IDENTITY)
        p->color.matrix = o->matrix;
    if (o->range >= 0 && p->color.matrix != NVC_MC_IDENTITY)
        p->color.range = o->range;
}

/* RGB metrics of a pair (converting YCbCr at the inputs' bit depth). */
static void rgb_metrics(NvcFrameMetrics *m, NvcPicture *a, NvcPicture *b, const Options *o)
{
    NvcPicture ra = { 0 }, rb = { 0 };
    const NvcPicture *pa = a, *pb = b;
    int ret = 0;
    if (!(a->p.layout == NVC_PIXEL_LAYOUT_I444 && a->color.matrix == NVC_MC_IDENTITY)) {
        apply_color(a, o);
        apply_color(b, o);
        if ((ret = nvc_picture_to_rgb(&ra, a, a->p.bpc)) < 0 ||
            (ret = nvc_picture_to_rgb(&rb, b, b->p.bpc)) < 0)
            tool_die("cannot convert to RGB: %s", nvc_error_string(ret));
        pa = &ra;
        pb = &rb;
    }
    ret = nvc_metrics_compute_rgb(m, pa, pb, o->metrics & NVC_METRIC_MSSSIM);
    nvc_picture_unref(&ra);
    nvc_picture_unref(&rb);
    if (ret < 0)
        tool_die("RGB metrics failed: %s", nvc_error_string(ret));
}

static int run(Session *s)
{
    const Options *o = s->o;
    Column col[32];
    const int ncol = make_columns(col, o->metrics, nvc_picture_planes(s->info.p.layout), s->rgb_in,
                                  s->rgb_ok, o->csv);
    if (o->csv || !o->summary_only)
        print_header(col, ncol, o->csv);
    NvcMetricsAccum acc;
    nvc_metrics_accum_init(&acc);
    int64_t frame = o->skip, status = 0;
    while (o->max_frames < 0 || acc.frames < o->max_frames) {
        if (tool_interrupted) { /* no summary of a partial comparison */
            tool_error("interrupted after %lld frames", (long long)acc.frames);
            return 130;
        }
        NvcPicture a, b;
        const int r = read_pair(s, &a, &b);
        if (r == 0)
            break;
        if (r > 1) {
            const char *shorter = r == 2 ? o->ref_path : o->test_path;
            const char *longer = r == 2 ? o->test_path : o->ref_path;
            if (o->shortest) {
                fprintf(stderr, "%s: warning: %s ends after %lld frames, %s has more; compared %lld\n",
                        tool_name, shorter, (long long)frame, longer, (long long)acc.frames);
            } else {
                tool_error("%s ends after %lld frames but %s has more (use --frames N or "
                           "--shortest to compare the common frames)",
                           shorter, (long long)frame, longer);
                status = 1;
            }
            break;
        }
        NvcFrameMetrics m;
        int ret = nvc_metrics_compute(&m, &a, &b, o->metrics);
        if (ret < 0)
            tool_die("frame %lld: metrics failed: %s", (long long)frame, nvc_error_string(ret));
        if (s->rgb_in) { /* already RGB: pool the planes' MSEs, average MS-SSIM */
            if ((o->metrics & NVC_METRIC_PSNR) && nvc_metrics_compute_rgb(&m, &a, &b, 0) < 0)
                tool_die("frame %lld: RGB metrics failed", (long long)frame);
            m.msssim_rgb = (m.msssim[0] + m.msssim[1] + m.msssim[2]) / 3.0;
        } else if ((o->metrics & NVC_METRIC_RGB) && s->rgb_ok) {
            rgb_metrics(&m, &a, &b, o);
        }
        nvc_picture_unref(&a);
        nvc_picture_unref(&b);
        if ((ret = nvc_metrics_accum_add(&acc, &m)) < 0)
            tool_die("frame %lld: %s", (long long)frame, nvc_error_string(ret));
        if (o->csv || !o->summary_only)
            print_row(NULL, frame, &m, col, ncol, o->csv);
        frame++;
    }
    NvcSequenceMetrics seq;
    if (nvc_metrics_accum_result(&acc, &seq) < 0) {
        tool_error("no frame to compare%s", o->skip ? " after --skip" : "");
        return 1;
    }
    if (o->csv) {
        print_row("mean", 0, &seq.mean, col, ncol, 1);
        print_row("pooled", 0, &seq.pooled, col, ncol, 1);
    } else {
        print_summary_lines(&seq, col, ncol);
    }
    if (fflush(stdout) || ferror(stdout)) {
        tool_error("write error on standard output");
        return 1;
    }
    return (int)status;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    Options o;
    parse_options(&o, argc, argv);

    Session s = { .o = &o };
    /* a raw input without a size takes the other input's format */
    if (needs_size(o.ref_path, &o) && !needs_size(o.test_path, &o)) {
        s.test = open_input(o.test_path, &o, NULL);
        s.ref = open_input(o.ref_path, &o, nvc_input_info(s.test));
    } else {
        s.ref = open_input(o.ref_path, &o, NULL);
        s.test = open_input(o.test_path, &o, needs_size(o.test_path, &o) ? nvc_input_info(s.ref) : NULL);
    }
    const NvcVideoInfo *ri = nvc_input_info(s.ref), *ti = nvc_input_info(s.test);
    char rd[96], td[96];
    describe(rd, sizeof(rd), ri);
    describe(td, sizeof(td), ti);
    if (ri->p.w != ti->p.w || ri->p.h != ti->p.h || ri->p.layout != ti->p.layout ||
        ri->p.bpc != ti->p.bpc || strcmp(rd, td))
        tool_die("inputs differ: %s is %s, %s is %s", o.ref_path, rd, o.test_path, td);
    if (ri->color.range != ti->color.range)
        fprintf(stderr, "%s: warning: the inputs declare different colour ranges\n", tool_name);
    s.info = *ri;
    s.rgb_ok = s.info.p.layout != NVC_PIXEL_LAYOUT_I400;
    s.rgb_in = s.info.p.layout == NVC_PIXEL_LAYOUT_I444 && s.info.color.matrix == NVC_MC_IDENTITY;
    if (s.rgb_in && (o.metrics & NVC_METRIC_RGB)) /* PSNR-RGB of RGB inputs is PSNR over R, G, B */
        o.metrics |= NVC_METRIC_PSNR;
    if ((o.metrics & NVC_METRIC_RGB) && !s.rgb_ok)
        tool_die("rgb: the inputs are grayscale (4:0:0), there is no RGB to compare");
    if (o.skip) {
        int ret;
        if ((ret = nvc_input_skip(s.ref, o.skip)) < 0 || (ret = nvc_input_skip(s.test, o.skip)) < 0)
            tool_die("--skip: %s", nvc_error_string(ret));
    }
    if (!o.csv)
        printf("# %s vs %s: %s\n", o.ref_path, o.test_path, rd);
    const int status = run(&s);
    nvc_input_close(&s.ref);
    nvc_input_close(&s.test);
    return status;
}
