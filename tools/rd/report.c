/*
 * nvc-rd reports: curves per clip, Bjontegaard deltas against the anchor,
 * summary.md, bd.csv and the RD plots (per clip and averaged).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/rd/bd.h"
#include "tools/rd/plot.h"
#include "tools/rd/report.h"
#include "tools/rd/results.h"

typedef struct Metric {
    const char *name, *label;
    size_t off;
    int db;            /* MS-SSIM: shown and fitted as -10 log10(1 - x) */
} Metric;

static const Metric metrics[] = {
    { "psnr_yuv", "PSNR-YUV 6:1:1", offsetof(RdPoint, psnr_yuv), 0 },
    { "psnr_y", "PSNR-Y", offsetof(RdPoint, psnr_y), 0 },
    { "psnr_u", "PSNR-U", offsetof(RdPoint, psnr_u), 0 },
    { "psnr_v", "PSNR-V", offsetof(RdPoint, psnr_v), 0 },
    { "psnr_rgb", "PSNR-RGB", offsetof(RdPoint, psnr_rgb), 0 },
    { "psnr_y_pooled", "PSNR-Y of the mean MSE", offsetof(RdPoint, psnr_y_pooled), 0 },
    { "psnr_yuv_pooled", "PSNR-YUV of the mean MSEs", offsetof(RdPoint, psnr_yuv_pooled), 0 },
    { "msssim_y", "MS-SSIM-Y", offsetof(RdPoint, msssim_y), 1 },
    { "msssim_yuv", "MS-SSIM-YUV", offsetof(RdPoint, msssim_yuv), 1 },
    { "msssim_rgb", "MS-SSIM-RGB", offsetof(RdPoint, msssim_rgb), 1 },
};
#define NMETRICS ((int)(sizeof(metrics) / sizeof(metrics[0])))

static const Metric *find_metric(const char *name)
{
    for (int i = 0; i < NMETRICS; i++)
        if (!strcmp(metrics[i].name, name))
            return &metrics[i];
    return NULL;
}

int rd_metric_known(const char *name)
{
    return find_metric(name) != NULL;
}

const char *rd_metric_names(void)
{
    static char buf[256];
    size_t n = 0;
    for (int i = 0; i < NMETRICS && n < sizeof(buf); i++)
        n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", metrics[i].name);
    return buf;
}

static double metric_value(const Metric *m, const RdPoint *pt)
{
    const double v = *(const double *)((const char *)pt + m->off);
    if (!m->db)
        return v;
    return v >= 1 ? INFINITY : -10 * log10(1 - v);
}

static void axis_label(const Metric *m, char *buf, size_t size)
{
    snprintf(buf, size, m->db ? "%s, -10 log10(1 - x) (dB)" : "%s (dB)", m->label);
}

void rd_curve_name(const RdPoint *pt, char *buf, size_t size)
{
    const RdCodec *c = rd_codec_find(pt->codec);
    const int classic = !c || c->kind == RD_KIND_LAVC;
    snprintf(buf, size, "%s%s", pt->codec, classic && !strcmp(pt->gop, "ld") ? "-ld" : "");
}

/* ---- grouping --------------------------------------------------------------- */

typedef struct Clip {
    char label[RD_NAME_MAX], shown[RD_NAME_MAX + 24];
    int64_t frames;
    int w, h, image;
} Clip;

typedef struct Curve {
    int clip;
    char name[RD_NAME_MAX];
    int n;
    int idx[RD_MAX_POINTS];   /* points, by increasing bpp */
} Curve;

typedef struct Set {
    const RdPoint *pts;
    Clip *clips;
    int nclips;
    Curve *curves;
    int ncurves;
    char (*names)[RD_NAME_MAX]; /* distinct curve names, first-seen order */
    int nnames;
} Set;

static int find_clip(const Set *s, const RdPoint *pt)
{
    for (int i = 0; i < s->nclips; i++)
        if (!strcmp(s->clips[i].label, pt->clip) && s->clips[i].frames == pt->frames)
            return i;
    return -1;
}

static Curve *find_curve(Set *s, int clip, const char *name)
{
    for (int i = 0; i < s->ncurves; i++)
        if (s->curves[i].clip == clip && !strcmp(s->curves[i].name, name))
            return &s->curves[i];
    return NULL;
}

static int name_index(const Set *s, const char *name)
{
    for (int i = 0; i < s->nnames; i++)
        if (!strcmp(s->names[i], name))
            return i;
    return -1;
}

/* Order of a curve name: the codec table's order, each codec's random-access
 * curve before its low-delay one; unknown codecs last. */
static int name_rank(const char *name)
{
    const size_t n = strlen(name);
    const int ld = n > 3 && !strcmp(name + n - 3, "-ld");
    for (int i = 0; rd_codecs[i].name; i++)
        if (strlen(rd_codecs[i].name) == n - 3 * ld && !strncmp(rd_codecs[i].name, name, n - 3 * ld))
            return 2 * i + ld;
    return 1000 + ld;
}

static void sort_names(Set *s)
{
    for (int i = 1; i < s->nnames; i++) {
        char t[RD_NAME_MAX];
        memcpy(t, s->names[i], RD_NAME_MAX);
        int k = i;
        while (k > 0 && name_rank(s->names[k - 1]) > name_rank(t)) {
            memcpy(s->names[k], s->names[k - 1], RD_NAME_MAX);
            k--;
        }
        memcpy(s->names[k], t, RD_NAME_MAX);
    }
}

static int group(Set *s, const RdPoint *pts, int n)
{
    memset(s, 0, sizeof(*s));
    s->pts = pts;
    s->clips = calloc(n + 1, sizeof(*s->clips));
    s->curves = calloc(n + 1, sizeof(*s->curves));
    s->names = calloc(n + 1, sizeof(*s->names));
    if (!s->clips || !s->curves || !s->names)
        return NVC_ERR(ENOMEM);
    for (int i = 0; i < n; i++) {
        const RdPoint *pt = &pts[i];
        int c = find_clip(s, pt);
        if (c < 0) {
            c = s->nclips++;
            Clip *cl = &s->clips[c];
            snprintf(cl->label, sizeof(cl->label), "%s", pt->clip);
            cl->frames = pt->frames;
            cl->w = pt->w;
            cl->h = pt->h;
        }
        s->clips[c].image |= !isnan(pt->msssim_rgb);
        char name[RD_NAME_MAX];
        rd_curve_name(pt, name, sizeof(name));
        if (name_index(s, name) < 0)
            snprintf(s->names[s->nnames++], RD_NAME_MAX, "%s", name);
        Curve *cv = find_curve(s, c, name);
        if (!cv) {
            cv = &s->curves[s->ncurves++];
            cv->clip = c;
            snprintf(cv->name, sizeof(cv->name), "%s", name);
        }
        if (cv->n == RD_MAX_POINTS)
            continue;
        int k = cv->n++;
        while (k > 0 && pts[cv->idx[k - 1]].bpp > pt->bpp) {
            cv->idx[k] = cv->idx[k - 1];
            k--;
        }
        cv->idx[k] = i;
    }
    sort_names(s);
    /* A label seen with several frame counts is shown with its count. */
    for (int i = 0; i < s->nclips; i++) {
        int dup = 0;
        for (int j = 0; j < s->nclips; j++)
            dup |= j != i && !strcmp(s->clips[j].label, s->clips[i].label);
        if (dup)
            snprintf(s->clips[i].shown, sizeof(s->clips[i].shown), "%s@%lldf", s->clips[i].label,
                     (long long)s->clips[i].frames);
        else
            snprintf(s->clips[i].shown, sizeof(s->clips[i].shown), "%s", s->clips[i].label);
    }
    return 0;
}

static void set_free(Set *s)
{
    free(s->clips);
    free(s->curves);
    free(s->names);
}

/* ---- Bjontegaard deltas -------------------------------------------------------- */

typedef struct Bd {
    int ok;                 /* both curves exist */
    double rate[2], qual[2]; /* cubic, pchip; NaN where not computable */
    int err[2];
    int na, nt;             /* points used */
    double lo, hi;          /* overlapping quality interval */
} Bd;

/* Rate and quality of a curve's points with a finite quality. */
static int curve_points(const Set *s, const Curve *cv, const Metric *m, double *r, double *q)
{
    int n = 0;
    for (int k = 0; k < cv->n; k++) {
        const RdPoint *pt = &s->pts[cv->idx[k]];
        const double v = metric_value(m, pt);
        if (isfinite(v) && pt->bpp > 0) {
            r[n] = pt->bpp;
            q[n++] = v;
        }
    }
    return n;
}

static Bd compute_bd(const Set *s, const Curve *a, const Curve *t, const Metric *m)
{
    Bd b = { 0 };
    double ra[RD_MAX_POINTS], qa[RD_MAX_POINTS], rt[RD_MAX_POINTS], qt[RD_MAX_POINTS];
    b.rate[0] = b.rate[1] = b.qual[0] = b.qual[1] = b.lo = b.hi = NAN;
    if (!a || !t)
        return b;
    b.ok = 1;
    b.na = curve_points(s, a, m, ra, qa);
    b.nt = curve_points(s, t, m, rt, qt);
    if (b.na && b.nt) {
        double amin = qa[0], amax = qa[0], tmin = qt[0], tmax = qt[0];
        for (int i = 1; i < b.na; i++)
            amin = fmin(amin, qa[i]), amax = fmax(amax, qa[i]);
        for (int i = 1; i < b.nt; i++)
            tmin = fmin(tmin, qt[i]), tmax = fmax(tmax, qt[i]);
        b.lo = fmax(amin, tmin);
        b.hi = fmin(amax, tmax);
    }
    for (int k = 0; k < 2; k++) {
        const enum RdBdMethod meth = k ? RD_BD_PCHIP : RD_BD_CUBIC;
        b.err[k] = rd_bd_rate(ra, qa, b.na, rt, qt, b.nt, meth, &b.rate[k]);
        if (rd_bd_quality(ra, qa, b.na, rt, qt, b.nt, meth, &b.qual[k]) < 0)
            b.qual[k] = NAN;
    }
    return b;
}

static const char *default_anchor(const Set *s)
{
    static const char *const prefs[] = { "x265", "x265-ld" };
    for (int i = 0; i < 2; i++)
        if (name_index(s, prefs[i]) >= 0)
            return prefs[i];
    return s->nnames ? s->names[0] : "x265";
}

/* ---- files ------------------------------------------------------------------------ */

static void fmt_num(char *buf, size_t size, const char *fmt, double v)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else
        snprintf(buf, size, fmt, v);
}

typedef struct Ctx {
    const Set *s;
    const RdReportOptions *o;
    const char *anchor;
    const Metric *m[RD_MAX_METRICS];
    int nm;
} Ctx;

static int write_bd_csv(FILE *f, void *cookie)
{
    const Ctx *c = cookie;
    const Set *s = c->s;
    fprintf(f, "clip,frames,anchor,test,metric,bd_rate_cubic_pct,bd_rate_pchip_pct,"
               "bd_quality_cubic,bd_quality_pchip,anchor_points,test_points,overlap_lo,"
               "overlap_hi,clips\n");
    char v[8][32];
    for (int mi = 0; mi < c->nm; mi++) {
        const Metric *m = c->m[mi];
        for (int t = 0; t < s->nnames; t++) {
            if (!strcmp(s->names[t], c->anchor))
                continue;
            double sum[4] = { 0 };
            int cnt[4] = { 0 };
            for (int ci = 0; ci < s->nclips; ci++) {
                const Bd b = compute_bd(s, find_curve((Set *)s, ci, c->anchor),
                                        find_curve((Set *)s, ci, s->names[t]), m);
                if (!b.ok)
                    continue;
                const double vals[4] = { 100 * b.rate[0], 100 * b.rate[1], b.qual[0], b.qual[1] };
                for (int k = 0; k < 4; k++) {
                    fmt_num(v[k], sizeof(v[k]), k < 2 ? "%.4f" : "%.5f", vals[k]);
                    if (!isnan(vals[k]))
                        sum[k] += vals[k], cnt[k]++;
                }
                fmt_num(v[4], sizeof(v[4]), "%.4f", b.lo);
                fmt_num(v[5], sizeof(v[5]), "%.4f", b.hi);
                fprintf(f, "%s,%lld,%s,%s,%s,%s,%s,%s,%s,%d,%d,%s,%s,1\n", s->clips[ci].shown,
                        (long long)s->clips[ci].frames, c->anchor, s->names[t], m->name, v[0],
                        v[1], v[2], v[3], b.na, b.nt, v[4], v[5]);
            }
            for (int k = 0; k < 4; k++)
                fmt_num(v[k], sizeof(v[k]), k < 2 ? "%.4f" : "%.5f",
                        cnt[k] ? sum[k] / cnt[k] : NAN);
            fprintf(f, "average,,%s,%s,%s,%s,%s,%s,%s,,,,,%d\n", c->anchor, s->names[t], m->name,
                    v[0], v[1], v[2], v[3], cnt[0] > cnt[1] ? cnt[0] : cnt[1]);
        }
    }
    return 0;
}

static void cell_pct(char *buf, size_t size, double cubic, double pchip)
{
    if (isnan(cubic) && isnan(pchip))
        snprintf(buf, size, "n/a");
    else if (isnan(cubic))
        snprintf(buf, size, "n/a (%+.2f%%)", 100 * pchip);
    else
        snprintf(buf, size, "%+.2f%% (%+.2f%%)", 100 * cubic, 100 * pchip);
}

static void cell_db(char *buf, size_t size, double cubic, double pchip)
{
    if (isnan(cubic) && isnan(pchip))
        snprintf(buf, size, "n/a");
    else if (isnan(cubic))
        snprintf(buf, size, "n/a (%+.3f)", pchip);
    else
        snprintf(buf, size, "%+.3f (%+.3f)", cubic, pchip);
}

/* One BD table (rates, or qualities) of a metric in Markdown; also on out. */
static void bd_table(FILE *f, const Ctx *c, const Metric *m, int quality, FILE *out)
{
    const Set *s = c->s;
    fprintf(f, "| clip |");
    for (int t = 0; t < s->nnames; t++)
        if (strcmp(s->names[t], c->anchor))
            fprintf(f, " %s |", s->names[t]);
    fprintf(f, "\n|:--|");
    for (int t = 0; t < s->nnames; t++)
        if (strcmp(s->names[t], c->anchor))
            fprintf(f, "--:|");
    fputc('\n', f);
    if (out) {
        fprintf(out, "%-24s", "BD-rate cubic (pchip)");
        for (int t = 0; t < s->nnames; t++)
            if (strcmp(s->names[t], c->anchor))
                fprintf(out, " %22s", s->names[t]);
        fputc('\n', out);
    }
    double sum[RD_PLOT_MAX_SERIES * 4][2] = { { 0 } };
    int cnt[RD_PLOT_MAX_SERIES * 4][2] = { { 0 } };
    char cell[64];
    for (int ci = 0; ci <= s->nclips; ci++) {
        const int avg = ci == s->nclips;
        if (avg && s->nclips < 2)
            break;
        fprintf(f, avg ? "| **mean** |" : "| %s |", avg ? "" : s->clips[ci].shown);
        if (out)
            fprintf(out, "%-24.24s", avg ? "mean" : s->clips[ci].shown);
        for (int t = 0; t < s->nnames; t++) {
            if (!strcmp(s->names[t], c->anchor))
                continue;
            double v[2];
            if (avg) {
                for (int k = 0; k < 2; k++)
                    v[k] = t < RD_PLOT_MAX_SERIES * 4 && cnt[t][k] ? sum[t][k] / cnt[t][k] : NAN;
            } else {
                const Bd b = compute_bd(s, find_curve((Set *)s, ci, c->anchor),
                                        find_curve((Set *)s, ci, s->names[t]), m);
                for (int k = 0; k < 2; k++) {
                    v[k] = quality ? b.qual[k] : b.rate[k];
                    if (!isnan(v[k]) && t < RD_PLOT_MAX_SERIES * 4)
                        sum[t][k] += v[k], cnt[t][k]++;
                }
            }
            (quality ? cell_db : cell_pct)(cell, sizeof(cell), v[0], v[1]);
            fprintf(f, " %s |", cell);
            if (out)
                fprintf(out, " %22s", cell);
        }
        fputc('\n', f);
        if (out)
            fputc('\n', out);
    }
    fputc('\n', f);
}

static void safe_name(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; *in && i + 1 < size; in++)
        out[i++] = (*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                           (*in >= '0' && *in <= '9') || *in == '.' || *in == '-' || *in == '_'
                       ? *in
                       : '_';
    out[i] = 0;
}

static const char *fmt_d(char *buf, size_t size, const char *fmt, double v)
{
    fmt_num(buf, size, fmt, v);
    return buf;
}

static void points_table(FILE *f, const Set *s, int ci)
{
    fprintf(f, "| codec | %s | bytes | bpp | PSNR-Y | PSNR-U | PSNR-V | PSNR-YUV | PSNR-RGB | "
               "MS-SSIM-Y | enc s | dec s | threads | frames |\n",
            "rate knob");
    fprintf(f, "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:--|\n");
    char b[10][32];
    for (int t = 0; t < s->nnames; t++) {
        const Curve *cv = find_curve((Set *)s, ci, s->names[t]);
        for (int k = 0; cv && k < cv->n; k++) {
            const RdPoint *p = &s->pts[cv->idx[k]];
            fprintf(f, "| %s | %s=%s | %lld | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
                    cv->name, p->knob, p->value, (long long)p->bytes,
                    fmt_d(b[0], 32, "%.5f", p->bpp), fmt_d(b[1], 32, "%.3f", p->psnr_y),
                    fmt_d(b[2], 32, "%.3f", p->psnr_u), fmt_d(b[3], 32, "%.3f", p->psnr_v),
                    fmt_d(b[4], 32, "%.3f", p->psnr_yuv), fmt_d(b[5], 32, "%.3f", p->psnr_rgb),
                    fmt_d(b[6], 32, "%.5f", p->msssim_y), fmt_d(b[7], 32, "%.2f", p->enc_s),
                    fmt_d(b[8], 32, "%.3f", p->dec_s), p->threads, p->frame_types);
        }
    }
    fputc('\n', f);
}

static void settings_table(FILE *f, const Set *s)
{
    fprintf(f, "| curve | container | setting (first point) |\n|:--|:--|:--|\n");
    for (int t = 0; t < s->nnames; t++) {
        for (int i = 0; i < s->ncurves; i++) {
            if (strcmp(s->curves[i].name, s->names[t]))
                continue;
            const RdPoint *p = &s->pts[s->curves[i].idx[0]];
            fprintf(f, "| %s | %s | `%s` |\n", s->names[t], p->container, p->setting);
            break;
        }
    }
    fputc('\n', f);
}

typedef struct Summary {
    const Ctx *c;
    FILE *out;
} Summary;

static int write_summary(FILE *f, void *cookie)
{
    const Summary *sm = cookie;
    const Ctx *c = sm->c;
    const Set *s = c->s;
    char date[64];
    const time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
    int npts = 0;
    for (int i = 0; i < s->ncurves; i++)
        npts += s->curves[i].n;
    fprintf(f, "# RD results\n\n");
    fprintf(f, "nvc-rd (nvc %s, %s), %s: %d points, %d clip(s), anchor **%s**.\n\n",
            nvc_version(), rd_lavc_version(), date, npts, s->nclips, c->anchor);
    if (c->o->command)
        fprintf(f, "Command: `%s`\n\n", c->o->command);
    fprintf(f,
            "- Rate: bits per pixel = bytes x 8 / (frames x width x height) of the stream that "
            "is decoded: classic codecs the Annex B (H.264/HEVC) or OBU (AV1) elementary stream "
            "with SEI / metadata units removed (`removed_bytes` in rd.csv), nvc codecs the size "
            "of the container file.\n"
            "- Quality: mean over frames of the per-frame values, measured by nvc's metrics on "
            "the decoded pictures against the source; PSNR-YUV = (6 Y + U + V) / 8; MS-SSIM in "
            "dB as -10 log10(1 - MS-SSIM).\n"
            "- BD: cubic fit of log-rate over quality (VCEG-M33; least squares above 4 points) "
            "and, in parentheses, the piecewise cubic Hermite (PCHIP) interpolation, over the "
            "quality range both curves cover. Negative BD-rate = fewer bits than %s. The mean "
            "row averages the clips where a value exists. n/a: too few points (cubic needs 4) "
            "or no overlap.\n\n",
            c->anchor);
    for (int mi = 0; mi < c->nm; mi++) {
        fprintf(f, "## BD-rate vs %s, %s\n\n", c->anchor, c->m[mi]->label);
        if (sm->out && mi == 0)
            fprintf(sm->out, "BD-rate vs %s, %s:\n", c->anchor, c->m[mi]->label);
        bd_table(f, c, c->m[mi], 0, mi == 0 ? sm->out : NULL);
        fprintf(f, "## BD-%s vs %s (dB)\n\n", c->m[mi]->label, c->anchor);
        bd_table(f, c, c->m[mi], 1, NULL);
    }
    char safe[RD_NAME_MAX * 2];
    if (c->o->plots && s->nclips > 1) {
        fprintf(f, "## Average RD curves\n\n");
        for (int mi = 0; mi < c->nm; mi++)
            fprintf(f, "![average %s](plots/average_%s.svg)\n\n", c->m[mi]->name,
                    c->m[mi]->name);
    }
    fprintf(f, "## Clips\n\n");
    for (int ci = 0; ci < s->nclips; ci++) {
        fprintf(f, "### %s: %dx%d, %lld frame%s%s\n\n", s->clips[ci].shown, s->clips[ci].w,
                s->clips[ci].h, (long long)s->clips[ci].frames, s->clips[ci].frames > 1 ? "s" : "",
                s->clips[ci].image ? " (RGB image)" : "");
        safe_name(s->clips[ci].shown, safe, sizeof(safe));
        if (c->o->plots)
            fprintf(f, "![%s](plots/%s_%s.svg)\n\n", s->clips[ci].shown, safe, c->m[0]->name);
        points_table(f, s, ci);
    }
    fprintf(f, "## Settings\n\n");
    settings_table(f, s);
    return 0;
}

/* ---- plots -------------------------------------------------------------------- */

/* Length of a curve name without its "-ld" suffix. */
static size_t base_len(const char *name)
{
    const size_t n = strlen(name);
    return n > 3 && !strcmp(name + n - 3, "-ld") ? n - 3 : n;
}

/* One colour and marker per codec (its index among the distinct codecs of
 * the curve names); a codec's low-delay curve is dashed. */
static void series_style(const Set *s, RdSeries *se)
{
    const size_t n = base_len(se->name);
    se->dashed = n != strlen(se->name);
    se->style = 0;
    for (int t = 0; t < s->nnames; t++) {
        const size_t m = base_len(s->names[t]);
        if (m == n && !strncmp(s->names[t], se->name, n))
            return;
        int seen = 0; /* this codec already counted by an earlier name */
        for (int u = 0; u < t && !seen; u++)
            seen = base_len(s->names[u]) == m && !strncmp(s->names[u], s->names[t], m);
        se->style += !seen;
    }
}

static void plot_clip(const Ctx *c, int ci, const Metric *m, RdPlot *p)
{
    const Set *s = c->s;
    memset(p, 0, sizeof(*p));
    snprintf(p->title, sizeof(p->title), "%s", s->clips[ci].shown);
    snprintf(p->subtitle, sizeof(p->subtitle), "%dx%d, %lld frame%s", s->clips[ci].w,
             s->clips[ci].h, (long long)s->clips[ci].frames, s->clips[ci].frames > 1 ? "s" : "");
    snprintf(p->xlabel, sizeof(p->xlabel), "bits per pixel");
    axis_label(m, p->ylabel, sizeof(p->ylabel));
    for (int t = 0; t < s->nnames && p->n < RD_PLOT_MAX_SERIES; t++) {
        const Curve *cv = find_curve((Set *)s, ci, s->names[t]);
        if (!cv)
            continue;
        RdSeries *se = &p->s[p->n++];
        snprintf(se->name, sizeof(se->name), "%s", cv->name);
        series_style(s, se);
        for (int k = 0; k < cv->n; k++) {
            se->x[se->n] = s->pts[cv->idx[k]].bpp;
            se->y[se->n++] = metric_value(m, &s->pts[cv->idx[k]]);
        }
    }
}

/* The average curve of a codec: the i-th point (by rate) of every clip's
 * curve, mean bpp and mean quality; only for codecs whose curves have the
 * same number of points on every clip. */
static void plot_average(const Ctx *c, const Metric *m, RdPlot *p)
{
    const Set *s = c->s;
    memset(p, 0, sizeof(*p));
    snprintf(p->title, sizeof(p->title), "Average over %d clips", s->nclips);
    snprintf(p->subtitle, sizeof(p->subtitle),
             "mean bpp and mean quality of the i-th point of each clip's curve");
    snprintf(p->xlabel, sizeof(p->xlabel), "bits per pixel");
    axis_label(m, p->ylabel, sizeof(p->ylabel));
    for (int t = 0; t < s->nnames && p->n < RD_PLOT_MAX_SERIES; t++) {
        int n = -1, ok = 1;
        for (int ci = 0; ci < s->nclips && ok; ci++) {
            const Curve *cv = find_curve((Set *)s, ci, s->names[t]);
            ok = cv && (n < 0 || cv->n == n);
            n = cv ? cv->n : 0;
        }
        if (!ok || n <= 0)
            continue;
        RdSeries *se = &p->s[p->n++];
        snprintf(se->name, sizeof(se->name), "%s", s->names[t]);
        series_style(s, se);
        se->n = n;
        for (int k = 0; k < n; k++) {
            double x = 0, y = 0;
            for (int ci = 0; ci < s->nclips; ci++) {
                const RdPoint *pt = &s->pts[find_curve((Set *)s, ci, s->names[t])->idx[k]];
                x += pt->bpp;
                y += metric_value(m, pt);
            }
            se->x[k] = x / s->nclips;
            se->y[k] = y / s->nclips;
        }
    }
}

static int write_plot(const Ctx *c, const RdPlot *p, const char *stem, char *err, size_t errsz)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/plots/%s.svg", c->o->dir, stem);
    int ret = rd_plot_svg(p, path, err, errsz);
    if (ret >= 0 && c->o->png) {
        snprintf(path, sizeof(path), "%s/plots/%s.png", c->o->dir, stem);
        ret = rd_plot_png(p, path, err, errsz);
    }
    return ret;
}

static int write_plots(const Ctx *c, char *err, size_t errsz)
{
    const Set *s = c->s;
    char dir[4300], safe[RD_NAME_MAX * 2], stem[RD_NAME_MAX * 3];
    snprintf(dir, sizeof(dir), "%s/plots", c->o->dir);
    int ret = rd_mkdir_p(dir);
    if (ret < 0) {
        snprintf(err, errsz, "%s: %s", dir, strerror(-ret));
        return NVC_ERR(EIO);
    }
    RdPlot *p = malloc(sizeof(*p));
    if (!p)
        return NVC_ERR(ENOMEM);
    for (int mi = 0; ret >= 0 && mi < c->nm; mi++) {
        for (int ci = 0; ret >= 0 && ci < s->nclips; ci++) {
            plot_clip(c, ci, c->m[mi], p);
            safe_name(s->clips[ci].shown, safe, sizeof(safe));
            snprintf(stem, sizeof(stem), "%s_%s", safe, c->m[mi]->name);
            ret = write_plot(c, p, stem, err, errsz);
        }
        if (ret >= 0 && s->nclips > 1) {
            plot_average(c, c->m[mi], p);
            snprintf(stem, sizeof(stem), "average_%s", c->m[mi]->name);
            ret = write_plot(c, p, stem, err, errsz);
        }
    }
    free(p);
    return ret;
}

int rd_report_write(const RdPoint *pts, int n, const RdReportOptions *o, FILE *out, char *err,
                    size_t errsz)
{
    Set s;
    int ret = group(&s, pts, n);
    Ctx c = { .s = &s, .o = o };
    if (ret >= 0) {
        int images = s.nclips > 0;
        for (int i = 0; i < s.nclips; i++)
            images &= s.clips[i].image;
        c.anchor = o->anchor ? o->anchor : default_anchor(&s);
        if (o->nmetrics == 0) {
            c.m[c.nm++] = find_metric(images ? "psnr_rgb" : "psnr_yuv");
        }
        for (int i = 0; i < o->nmetrics && c.nm < RD_MAX_METRICS; i++) {
            const Metric *m = find_metric(o->metrics[i]);
            if (!m) {
                snprintf(err, errsz, "unknown metric '%s'", o->metrics[i]);
                ret = NVC_ERR(EINVAL);
                break;
            }
            c.m[c.nm++] = m;
        }
    }
    if (ret >= 0 && o->anchor && name_index(&s, o->anchor) < 0)
        fprintf(stderr, "nvc-rd: warning: anchor '%s' has no points: BD tables are empty\n",
                o->anchor);
    char path[4300];
    if (ret >= 0) {
        snprintf(path, sizeof(path), "%s/bd.csv", o->dir);
        ret = rd_write_atomic(path, write_bd_csv, &c, err, errsz);
    }
    if (ret >= 0) {
        snprintf(path, sizeof(path), "%s/summary.md", o->dir);
        ret = rd_write_atomic(path, write_summary, &(Summary){ &c, out }, err, errsz);
    }
    if (ret >= 0 && o->plots)
        ret = write_plots(&c, err, errsz);
    set_free(&s);
    return ret;
}
