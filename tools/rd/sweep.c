/*
 * nvc-rd: running the sweep. Tasks are rate points (or automatic searches
 * over a classic codec's CRF/QP); --jobs workers take them in order. Each
 * finished point is appended to the results at once, under a lock, so the
 * files stay consistent and an interrupted run loses only the points in
 * flight.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/rd/report.h"
#include "tools/rd/sweep.h"

/* Bits halve about every 6 CRF/QP steps of x264 and x265: the slope used
 * until two probes of a search have measured the real one. */
#define PRIOR_SLOPE (0.69314718055994531 / 6)
#define MAX_PROBES 48
#define SEARCH_TOL 1.15   /* a probe within 15% of its target ends that target's search */
#define SEARCH_ITER 4     /* probes per target at most */

/* ---- jobs and keys ---------------------------------------------------------- */

static void job_init(RdSweep *sw, RdTask *t, RdJob *job, const char *value, double target)
{
    memset(job, 0, sizeof(*job));
    job->clip = &sw->clips[t->clip];
    job->codec = t->codec;
    job->gop = t->gop;
    snprintf(job->knob, sizeof(job->knob), "%s", t->knob);
    snprintf(job->value, sizeof(job->value), "%s", value);
    job->target_bpp = target;
    job->opt = &sw->opt;
    job->cancel = (volatile int *)&tool_interrupted;
    job->lock = &sw->lock;
}

/* (Re)initialise the task's live job, which the progress display reads. */
static void set_job(RdSweep *sw, RdTask *t, const char *value, double target)
{
    pthread_mutex_lock(&sw->lock);
    job_init(sw, t, &t->job, value, target);
    pthread_mutex_unlock(&sw->lock);
}

static void point_key(RdSweep *sw, RdTask *t, const char *value, char *key, size_t size)
{
    RdJob job;
    RdPoint pt;
    job_init(sw, t, &job, value, NAN);
    rd_point_init(&pt, &job);
    rd_point_key(&pt, key, size);
}

/* ---- automatic rate search ---------------------------------------------------- */

typedef struct Probe {
    int q;
    double bpp;
    int64_t bytes, removed;
    double enc_s;
    char container[16];
    RdStream *stream;      /* NULL: known from probes.csv, or dropped */
} Probe;

typedef struct Search {
    double target[RD_MAX_POINTS];
    int n;
    Probe p[MAX_PROBES];
    int np;
} Search;

/* The knob value expected to give `target` bpp: ln(bpp) taken as linear in
 * the knob, between the two probes that bracket the target, else
 * extrapolated from the nearer end with the measured (or prior) slope. */
static int estimate_q(const RdCodec *c, const Search *s, double target)
{
    const double lt = log(target);
    int idx[MAX_PROBES], n = s->np;
    for (int i = 0; i < n; i++) { /* by increasing q */
        int k = i;
        while (k > 0 && s->p[idx[k - 1]].q > s->p[i].q) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = i;
    }
    double q = c->guess_q + (log(c->guess_bpp) - lt) / PRIOR_SLOPE;
    if (n == 1)
        q = s->p[0].q + (log(s->p[0].bpp) - lt) / PRIOR_SLOPE;
    for (int i = 0; n >= 2 && i < n - 1; i++) {
        const Probe *a = &s->p[idx[i]], *b = &s->p[idx[i + 1]];
        const double la = log(a->bpp), lb = log(b->bpp);
        if (la != lb && lt <= fmax(la, lb) && lt >= fmin(la, lb)) {
            q = a->q + (b->q - a->q) * (la - lt) / (la - lb);
            goto done;
        }
    }
    if (n >= 2) {
        const int low = lt > log(s->p[idx[0]].bpp); /* more bits than any probe: lower q */
        const Probe *e = &s->p[idx[low ? 0 : n - 1]], *f = &s->p[idx[low ? 1 : n - 2]];
        double slope = e->q != f->q ? (log(f->bpp) - log(e->bpp)) / (e->q - f->q) : PRIOR_SLOPE;
        slope = fmin(fmax(slope, 0.03), 0.35);
        q = e->q + (log(e->bpp) - lt) / slope;
    }
done:;
    const long r = lround(q);
    return (int)(r < c->qmin ? c->qmin : r > c->qmax ? c->qmax : r);
}

static int find_probe(const Search *s, int q)
{
    for (int i = 0; i < s->np; i++)
        if (s->p[i].q == q)
            return i;
    return -1;
}

/* Measure the size at q: from probes.csv when known, else by encoding (the
 * stream is kept for the measurement). dry: never encode (returns 1 when
 * the size is not known yet). */
static int probe(RdSweep *sw, RdTask *t, Search *s, int q, int dry, char *err, size_t errsz)
{
    char value[32], key[RD_SETTING_MAX + 3 * RD_NAME_MAX];
    snprintf(value, sizeof(value), "%d", q);
    point_key(sw, t, value, key, sizeof(key));
    if (s->np == MAX_PROBES)
        return 1;
    Probe *p = &s->p[s->np];
    memset(p, 0, sizeof(*p));
    p->q = q;
    pthread_mutex_lock(&sw->lock);
    const RdProbe *known = rd_results_find_probe(&sw->results, key);
    if (known) {
        p->bpp = known->bpp;
        p->bytes = known->bytes;
        p->enc_s = known->enc_s;
    }
    pthread_mutex_unlock(&sw->lock);
    if (known) {
        s->np++;
        return 0;
    }
    if (dry)
        return 1;
    RdPoint pt;
    set_job(sw, t, value, NAN);
    rd_point_init(&pt, &t->job);
    int ret = rd_lavc_encode(&t->job, &pt, &p->stream, err, errsz);
    if (ret < 0)
        return ret;
    p->bpp = pt.bpp;
    p->bytes = pt.bytes;
    p->removed = pt.removed_bytes;
    p->enc_s = pt.enc_s;
    snprintf(p->container, sizeof(p->container), "%s", pt.container);
    s->np++;
    RdProbe rec;
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.clip, sizeof(rec.clip), "%s", pt.clip);
    snprintf(rec.codec, sizeof(rec.codec), "%s", pt.codec);
    rec.frames = pt.frames;
    snprintf(rec.setting, sizeof(rec.setting), "%s", pt.setting);
    rec.bytes = pt.bytes;
    rec.bpp = pt.bpp;
    rec.enc_s = pt.enc_s;
    pthread_mutex_lock(&sw->lock);
    ret = rd_results_add_probe(&sw->results, &rec);
    pthread_mutex_unlock(&sw->lock);
    if (ret < 0)
        snprintf(err, errsz, "%.400s: write error", sw->results.probe_path);
    return ret;
}

/* Keep the streams of the probes nearest to some target; drop the rest. */
static void drop_far_streams(Search *s)
{
    int keep[MAX_PROBES] = { 0 };
    for (int k = 0; k < s->n; k++) {
        int best = -1;
        for (int i = 0; i < s->np; i++)
            if (best < 0 || fabs(log(s->p[i].bpp / s->target[k])) <
                                fabs(log(s->p[best].bpp / s->target[k])))
                best = i;
        if (best >= 0)
            keep[best] = 1;
    }
    for (int i = 0; i < s->np; i++)
        if (!keep[i])
            rd_lavc_free(&s->p[i].stream);
}

/* Probe until every target has a knob value near it. Returns 0, 1 (dry and
 * a size is unknown) or a negative error. */
static int search(RdSweep *sw, RdTask *t, Search *s, int dry, char *err, size_t errsz)
{
    const int n = s->n;
    int order[RD_MAX_POINTS], no = 0;
    order[no++] = n / 2; /* the middle first: the prior is best there */
    if (n > 1)
        order[no++] = n - 1;
    if (n > 2)
        order[no++] = 0;
    for (int i = 1; i < n - 1; i++)
        if (i != n / 2)
            order[no++] = i;
    for (int o = 0; o < no; o++) {
        const double target = s->target[order[o]];
        for (int it = 0; it < SEARCH_ITER; it++) {
            const int q = estimate_q(t->codec, s, target);
            if (find_probe(s, q) >= 0)
                break;
            const int ret = probe(sw, t, s, q, dry, err, errsz);
            if (ret)
                return ret;
            if (!dry)
                drop_far_streams(s);
            if (fabs(log(s->p[s->np - 1].bpp / target)) < log(SEARCH_TOL))
                break;
            if (rd_cancelled(&t->job))
                return NVC_ERR(EINTR);
        }
    }
    return 0;
}

/* For each target (increasing), the nearest probe not chosen yet. */
static int choose(const Search *s, int *chosen)
{
    int used[MAX_PROBES] = { 0 }, m = 0;
    for (int k = 0; k < s->n; k++) {
        int best = -1;
        for (int i = 0; i < s->np; i++)
            if (!used[i] && (best < 0 || fabs(log(s->p[i].bpp / s->target[k])) <
                                             fabs(log(s->p[best].bpp / s->target[k]))))
                best = i;
        if (best < 0)
            break;
        used[best] = 1;
        chosen[m++] = best;
    }
    return m;
}

static void search_init(RdSweep *sw, RdTask *t, Search *s)
{
    memset(s, 0, sizeof(*s));
    s->n = t->auto_points;
    for (int k = 0; k < s->n; k++)
        s->target[k] = s->n > 1 ? sw->bpp_lo * pow(sw->bpp_hi / sw->bpp_lo, (double)k / (s->n - 1))
                                : sw->bpp_lo;
}

static void search_free(Search *s)
{
    for (int i = 0; i < s->np; i++)
        rd_lavc_free(&s->p[i].stream);
}

/* ---- planning ------------------------------------------------------------------- */

void rd_sweep_plan(RdSweep *sw)
{
    char key[RD_SETTING_MAX + 3 * RD_NAME_MAX];
    sw->points_total = 0;
    for (int i = 0; i < sw->ntasks; i++) {
        RdTask *t = &sw->tasks[i];
        const RdClip *c = &sw->clips[t->clip];
        const double px = (double)c->frames * c->info.p.w * c->info.p.h;
        if (!t->auto_points) {
            point_key(sw, t, t->value, key, sizeof(key));
            t->points_left = rd_results_find(&sw->results, key) < 0;
            t->weight = px;
        } else {
            /* Replay the search from probes.csv: done when every chosen
             * point is in the results. */
            Search s;
            char err[256];
            search_init(sw, t, &s);
            job_init(sw, t, &t->job, "", NAN);
            if (search(sw, t, &s, 1, err, sizeof(err)) == 0) {
                int chosen[RD_MAX_POINTS];
                const int m = choose(&s, chosen);
                t->points_left = 0;
                for (int k = 0; k < m; k++) {
                    char value[32];
                    snprintf(value, sizeof(value), "%d", s.p[chosen[k]].q);
                    point_key(sw, t, value, key, sizeof(key));
                    t->points_left += rd_results_find(&sw->results, key) < 0;
                }
            } else {
                t->points_left = t->auto_points;
            }
            t->weight = px * (t->points_left ? t->points_left * 2.5 : 0);
        }
        t->state = t->points_left ? RD_TASK_PENDING : RD_TASK_DONE;
        sw->points_total += t->points_left;
    }
}

/* ---- progress --------------------------------------------------------------------- */

static void fmt_duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "--");
    else if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

/* Seconds left (lock held): pending work at the measured speed of each
 * codec (or the mean speed, scaled by the codecs' relative cost); a running
 * nvc encoder's own estimate while it trains. */
static double eta(const RdSweep *sw)
{
    double cs[64] = { 0 }, cp[64] = { 0 }, s = 0, w = 0;
    const double now = rd_now();
    for (int i = 0; rd_codecs[i].name && i < 64; i++) {
        cs[i] = sw->codec_s[i];
        cp[i] = sw->codec_px[i];
    }
    /* A training INR point projects its own total time. */
    for (int i = 0; i < sw->ntasks; i++) {
        const RdTask *t = &sw->tasks[i];
        const int ci = (int)(t->codec - rd_codecs);
        if (t->state == RD_TASK_RUNNING && t->job.has_inr && !(cp[ci] > 0) && t->weight > 0 &&
            isfinite(t->job.inr.eta_s)) {
            const RdClip *c = &sw->clips[t->clip];
            cs[ci] += now - t->started + t->job.inr.eta_s;
            cp[ci] += (double)c->frames * c->info.p.w * c->info.p.h;
        }
    }
    for (int i = 0; rd_codecs[i].name && i < 64; i++) {
        s += cs[i];
        w += cp[i] * rd_codecs[i].cost;
    }
    if (!(w > 0))
        return NAN;
    double left = 0;
    int active = 0;
    for (int i = 0; i < sw->ntasks; i++) {
        const RdTask *t = &sw->tasks[i];
        if (t->state != RD_TASK_PENDING && t->state != RD_TASK_RUNNING)
            continue;
        const int ci = (int)(t->codec - rd_codecs);
        const double rate = cp[ci] > 0 ? cs[ci] / cp[ci] : s / w * t->codec->cost;
        double est = t->weight * rate;
        if (t->state == RD_TASK_RUNNING && t->job.has_inr && isfinite(t->job.inr.eta_s))
            est = t->job.inr.eta_s; /* the encoder's own estimate of its training */
        else if (t->state == RD_TASK_RUNNING)
            est = fmax(est - (now - t->started), 0);
        left += est;
        active++;
    }
    const int par = active < sw->jobs ? active : sw->jobs;
    return par > 0 ? left / par : 0;
}

/* What a running task is doing, e.g. "x265 crf=32 foreman enc 12/27". */
static void task_status(const RdSweep *sw, const RdTask *t, char *buf, size_t size)
{
    const RdJob *j = &t->job;
    const int stage = atomic_load(&j->stage);
    char what[96];
    if (stage == RD_STAGE_ENCODE && j->has_inr)
        snprintf(what, sizeof(what), "%s %lld/%lld, eta %.0fs", j->inr_stage,
                 (long long)j->inr.step, (long long)j->inr.steps, j->inr.eta_s);
    else if (stage == RD_STAGE_ENCODE)
        snprintf(what, sizeof(what), "enc %lld/%lld", (long long)atomic_load(&j->frames_done),
                 (long long)sw->clips[t->clip].frames);
    else
        snprintf(what, sizeof(what), stage == RD_STAGE_DECODE ? "dec" : "measure");
    snprintf(buf, size, "%s%s %s=%s %.40s %s", t->codec->name,
             t->codec->kind == RD_KIND_LAVC && t->gop == RD_GOP_LD ? "-ld" : "", j->knob, j->value,
             sw->clips[t->clip].label, what);
}

static void progress_line(RdSweep *sw, char *buf, size_t size)
{
    char el[32], et[32];
    fmt_duration(rd_now() - sw->t0, el, sizeof(el));
    fmt_duration(eta(sw), et, sizeof(et));
    size_t n = snprintf(buf, size, "[%d/%d] %s elapsed, ETA %s", sw->points_done + sw->points_failed,
                        sw->points_total, el, et);
    for (int i = 0; i < sw->ntasks && n < size; i++) {
        if (sw->tasks[i].state != RD_TASK_RUNNING)
            continue;
        char st[256];
        task_status(sw, &sw->tasks[i], st, sizeof(st));
        n += snprintf(buf + n, size - n, " | %s", st);
    }
    if (n >= size && size > 4)
        strcpy(buf + size - 4, "...");
}

static _Atomic int ticker_stop;

static void *ticker(void *arg)
{
    RdSweep *sw = arg;
    char line[512];
    while (!ticker_stop) {
        struct winsize ws;
        size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 8 ? ws.ws_col : 80;
        if (width > sizeof(line))
            width = sizeof(line);
        pthread_mutex_lock(&sw->lock);
        progress_line(sw, line, width); /* one row: \r redraws it */
        fprintf(stderr, "\r\033[K%s", line);
        pthread_mutex_unlock(&sw->lock);
        for (int i = 0; i < 5 && !ticker_stop; i++)
            usleep(100000);
    }
    return NULL;
}

/* ---- running points ------------------------------------------------------------- */

/* Whether the --max-points budget has room for another point (lock held). */
static int budget_left(const RdSweep *sw)
{
    return !sw->stop && !tool_interrupted &&
           (!sw->max_points || sw->points_done + sw->points_failed + sw->next < sw->max_points);
}

/* Take one point from the --max-points budget (lock held): 0 when spent. */
static int reserve(RdSweep *sw)
{
    if (sw->stop || tool_interrupted)
        return 0;
    if (sw->max_points && sw->points_done + sw->points_failed + sw->next >= sw->max_points) {
        sw->stop = 1;
        return 0;
    }
    sw->next++;
    return 1;
}

static void report_point(RdSweep *sw, const RdTask *t, const RdPoint *pt, int ret, const char *err)
{
    char head[600], et[32], curve[RD_NAME_MAX + 8];
    rd_curve_name(pt, curve, sizeof(curve));
    snprintf(head, sizeof(head), "[%d/%d] %s %s %s=%s", sw->points_done + sw->points_failed,
             sw->points_total, pt->clip, curve, pt->knob, pt->value);
    if (sw->tty && !sw->quiet)
        fprintf(stderr, "\r\033[K");
    if (ret < 0) {
        tool_error("%s failed: %s", head, err);
        return;
    }
    if (sw->quiet)
        return;
    fmt_duration(eta(sw), et, sizeof(et));
    const int rgb = sw->clips[t->clip].image;
    tool_error("%s: %lld B, %.5f bpp, %s %.3f dB, MS-SSIM-Y %.5f, enc %.2f s, dec %.3f s; ETA %s",
               head, (long long)pt->bytes, pt->bpp, rgb ? "PSNR-RGB" : "PSNR-YUV",
               rgb ? pt->psnr_rgb : pt->psnr_yuv, pt->msssim_y, pt->enc_s, pt->dec_s, et);
}

/* Record a finished point (its file rows, counters, speed, message). */
static void finish_point(RdSweep *sw, RdTask *t, const RdPoint *pt, int ret, const char *err,
                         double *mark)
{
    pthread_mutex_lock(&sw->lock);
    sw->next--;
    char msg[300];
    snprintf(msg, sizeof(msg), "%s", err);
    if (ret >= 0 && rd_results_add(&sw->results, pt) < 0) {
        snprintf(msg, sizeof(msg), "%s: write error", sw->results.csv_path);
        ret = NVC_ERR(EIO);
    }
    if (ret == NVC_ERR(EINTR)) {
        pthread_mutex_unlock(&sw->lock);
        return;
    }
    if (ret < 0)
        sw->points_failed++;
    else
        sw->points_done++;
    t->points_left--;
    const double now = rd_now();
    const int ci = (int)(t->codec - rd_codecs);
    const RdClip *c = &sw->clips[t->clip];
    sw->codec_s[ci] += now - *mark;
    sw->codec_px[ci] += (double)c->frames * c->info.p.w * c->info.p.h * (t->auto_points ? 2.5 : 1);
    t->weight = fmax(t->weight - (double)c->frames * c->info.p.w * c->info.p.h *
                                     (t->auto_points ? 2.5 : 1), 0);
    t->started = now;
    *mark = now;
    report_point(sw, t, pt, ret, msg);
    pthread_mutex_unlock(&sw->lock);
}

static void stream_path(RdSweep *sw, const RdPoint *pt, char *path, size_t size)
{
    snprintf(path, size, "%s/%s-%s-%s-%s%s.%s", sw->opt.stream_dir, pt->clip, pt->codec, pt->gop,
             pt->knob, pt->value, rd_lavc_extension(rd_codec_find(pt->codec)));
}

/* Decode and measure a classic codec's stream (and keep it on request). */
static int measure_lavc(RdSweep *sw, RdJob *job, RdPoint *pt, RdStream *s, char *err,
                        size_t errsz)
{
    int ret = 0;
    if (sw->opt.keep_streams) {
        char path[4400];
        stream_path(sw, pt, path, sizeof(path));
        ret = rd_mkdir_p(sw->opt.stream_dir);
        if (ret >= 0)
            ret = rd_lavc_write(s, path, err, errsz);
        else
            snprintf(err, errsz, "%s: cannot create", sw->opt.stream_dir);
    }
    if (ret >= 0)
        ret = rd_lavc_decode(job, s, pt, err, errsz);
    return ret;
}

static void run_fixed(RdSweep *sw, RdTask *t)
{
    char err[512] = "";
    RdPoint pt;
    double mark = rd_now();
    set_job(sw, t, t->value, NAN);
    rd_point_init(&pt, &t->job);
    int ret;
    if (t->codec->kind == RD_KIND_NVC) {
        ret = rd_nvc_run(&t->job, &pt, t->job.cancel, err, sizeof(err));
    } else {
        RdStream *s = NULL;
        ret = rd_lavc_encode(&t->job, &pt, &s, err, sizeof(err));
        if (ret >= 0)
            ret = measure_lavc(sw, &t->job, &pt, s, err, sizeof(err));
        rd_lavc_free(&s);
    }
    finish_point(sw, t, &pt, ret, err, &mark);
}

static void run_auto(RdSweep *sw, RdTask *t)
{
    char err[512] = "";
    double mark = rd_now();
    Search s;
    search_init(sw, t, &s);
    set_job(sw, t, "", NAN);
    int ret = search(sw, t, &s, 0, err, sizeof(err));
    int chosen[RD_MAX_POINTS], m = ret >= 0 ? choose(&s, chosen) : 0;
    for (int k = 0; k < m; k++) {
        Probe *p = &s.p[chosen[k]];
        char value[32], key[RD_SETTING_MAX + 3 * RD_NAME_MAX];
        snprintf(value, sizeof(value), "%d", p->q);
        point_key(sw, t, value, key, sizeof(key));
        pthread_mutex_lock(&sw->lock);
        const int done = rd_results_find(&sw->results, key) >= 0;
        const int go = !done && reserve(sw);
        pthread_mutex_unlock(&sw->lock);
        if (!go)
            continue;
        RdPoint pt;
        set_job(sw, t, value, s.target[k]);
        rd_point_init(&pt, &t->job);
        ret = 0;
        if (!p->stream) { /* dropped, or known from probes.csv: encode (again) */
            ret = rd_lavc_encode(&t->job, &pt, &p->stream, err, sizeof(err));
        } else {
            pt.bytes = p->bytes;
            pt.removed_bytes = p->removed;
            pt.bpp = p->bpp;
            pt.enc_s = p->enc_s;
            snprintf(pt.container, sizeof(pt.container), "%s", p->container);
        }
        if (ret >= 0)
            ret = measure_lavc(sw, &t->job, &pt, p->stream, err, sizeof(err));
        finish_point(sw, t, &pt, ret, err, &mark);
        rd_lavc_free(&p->stream);
    }
    if (ret < 0 && m == 0) { /* the search itself failed */
        RdPoint pt;
        set_job(sw, t, "auto", NAN);
        rd_point_init(&pt, &t->job);
        pthread_mutex_lock(&sw->lock);
        const int go = ret != NVC_ERR(EINTR) && reserve(sw);
        pthread_mutex_unlock(&sw->lock);
        if (go)
            finish_point(sw, t, &pt, ret, err, &mark);
    }
    search_free(&s);
}

static void *worker(void *arg)
{
    RdSweep *sw = arg;
    for (;;) {
        pthread_mutex_lock(&sw->lock);
        RdTask *t = NULL;
        for (int i = 0; i < sw->ntasks && !t; i++)
            if (sw->tasks[i].state == RD_TASK_PENDING)
                t = &sw->tasks[i];
        if (t && !t->auto_points && !reserve(sw))
            t = NULL;
        if (t && t->auto_points && !budget_left(sw)) {
            sw->stop |= !tool_interrupted && sw->max_points;
            t = NULL;
        }
        if (t) {
            t->state = RD_TASK_RUNNING;
            t->started = rd_now();
        }
        pthread_mutex_unlock(&sw->lock);
        if (!t)
            return NULL;
        if (t->auto_points)
            run_auto(sw, t);
        else
            run_fixed(sw, t);
        pthread_mutex_lock(&sw->lock);
        t->state = t->points_left > 0 ? RD_TASK_FAILED : RD_TASK_DONE;
        pthread_mutex_unlock(&sw->lock);
    }
}

int rd_sweep_run(RdSweep *sw)
{
    sw->t0 = rd_now();
    sw->tty = isatty(2);
    pthread_t th[64], tick;
    const int n = sw->jobs < 64 ? sw->jobs : 64;
    int started = 0, ticking = 0;
    if (sw->tty && !sw->quiet) {
        ticker_stop = 0;
        ticking = pthread_create(&tick, NULL, ticker, sw) == 0;
    }
    for (int i = 0; i < n; i++)
        started += pthread_create(&th[started], NULL, worker, sw) == 0;
    if (!started)
        worker(sw);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (ticking) {
        ticker_stop = 1;
        pthread_join(tick, NULL);
        fprintf(stderr, "\r\033[K");
    }
    return sw->points_failed;
}
