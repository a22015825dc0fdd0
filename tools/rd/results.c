/*
 * nvc-rd results files: CSV and JSON lines written a point at a time,
 * loaded back (and repaired) for resuming and for the reports.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/rd/results.h"

enum ColType { COL_STR, COL_I64, COL_INT, COL_F };

typedef struct Column {
    const char *name;
    enum ColType type;
    size_t off, size;
    const char *fmt;    /* COL_F */
} Column;

#define STR(s, f, n) { n, COL_STR, offsetof(s, f), sizeof(((s *)0)->f), NULL }
#define I64(s, f, n) { n, COL_I64, offsetof(s, f), 0, NULL }
#define INT(s, f, n) { n, COL_INT, offsetof(s, f), 0, NULL }
#define FLT(s, f, n, fmt) { n, COL_F, offsetof(s, f), 0, fmt }

/* rd.csv columns, in order. */
static const Column point_cols[] = {
    STR(RdPoint, clip, "clip"),
    STR(RdPoint, codec, "codec"),
    STR(RdPoint, gop, "gop"),
    STR(RdPoint, knob, "knob"),
    STR(RdPoint, value, "value"),
    I64(RdPoint, frames, "frames"),
    INT(RdPoint, w, "width"),
    INT(RdPoint, h, "height"),
    STR(RdPoint, container, "container"),
    I64(RdPoint, bytes, "bytes"),
    I64(RdPoint, removed_bytes, "removed_bytes"),
    FLT(RdPoint, bpp, "bpp", "%.7g"),
    FLT(RdPoint, target_bpp, "target_bpp", "%.5g"),
    FLT(RdPoint, psnr_y, "psnr_y", "%.4f"),
    FLT(RdPoint, psnr_u, "psnr_u", "%.4f"),
    FLT(RdPoint, psnr_v, "psnr_v", "%.4f"),
    FLT(RdPoint, psnr_yuv, "psnr_yuv", "%.4f"),
    FLT(RdPoint, psnr_rgb, "psnr_rgb", "%.4f"),
    FLT(RdPoint, psnr_y_pooled, "psnr_y_pooled", "%.4f"),
    FLT(RdPoint, psnr_yuv_pooled, "psnr_yuv_pooled", "%.4f"),
    FLT(RdPoint, msssim_y, "msssim_y", "%.6f"),
    FLT(RdPoint, msssim_yuv, "msssim_yuv", "%.6f"),
    FLT(RdPoint, msssim_rgb, "msssim_rgb", "%.6f"),
    FLT(RdPoint, enc_s, "enc_s", "%.3f"),
    FLT(RdPoint, dec_s, "dec_s", "%.3f"),
    INT(RdPoint, threads, "threads"),
    INT(RdPoint, key_frames, "key_frames"),
    STR(RdPoint, frame_types, "frame_types"),
    STR(RdPoint, setting, "setting"),
};

static const Column probe_cols[] = {
    STR(RdProbe, clip, "clip"),
    STR(RdProbe, codec, "codec"),
    I64(RdProbe, frames, "frames"),
    STR(RdProbe, setting, "setting"),
    I64(RdProbe, bytes, "bytes"),
    FLT(RdProbe, bpp, "bpp", "%.7g"),
    FLT(RdProbe, enc_s, "enc_s", "%.3f"),
};

#define NCOLS(t) ((int)(sizeof(t) / sizeof((t)[0])))

/* ---- writing ------------------------------------------------------------ */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void format_value(const Column *c, const void *rec, char *buf, size_t size)
{
    const char *p = (const char *)rec + c->off;
    switch (c->type) {
    case COL_STR: snprintf(buf, size, "%s", p); break;
    case COL_I64: snprintf(buf, size, "%lld", (long long)*(const int64_t *)p); break;
    case COL_INT: snprintf(buf, size, "%d", *(const int *)p); break;
    case COL_F: {
        const double v = *(const double *)p;
        if (isnan(v))
            snprintf(buf, size, "nan");
        else if (isinf(v))
            snprintf(buf, size, v > 0 ? "inf" : "-inf");
        else
            snprintf(buf, size, c->fmt, v);
        break;
    }
    }
}

static void write_header(FILE *f, const Column *cols, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "," : "", cols[i].name);
    fputc('\n', f);
}

static void write_row(FILE *f, const Column *cols, int n, const void *rec)
{
    char buf[RD_SETTING_MAX + 32];
    for (int i = 0; i < n; i++) {
        format_value(&cols[i], rec, buf, sizeof(buf));
        if (i)
            fputc(',', f);
        csv_field(f, buf);
    }
    fputc('\n', f);
}

void rd_results_csv_header(FILE *f)
{
    write_header(f, point_cols, NCOLS(point_cols));
}

void rd_results_csv_row(FILE *f, const RdPoint *pt)
{
    write_row(f, point_cols, NCOLS(point_cols), pt);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        const unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void rd_results_json_row(FILE *f, const RdPoint *pt)
{
    char buf[RD_SETTING_MAX + 32];
    fputc('{', f);
    for (int i = 0; i < NCOLS(point_cols); i++) {
        const Column *c = &point_cols[i];
        fprintf(f, "%s\"%s\":", i ? "," : "", c->name);
        if (c->type == COL_STR) {
            json_string(f, (const char *)pt + c->off);
            continue;
        }
        const double v = c->type == COL_F ? *(const double *)((const char *)pt + c->off) : 0;
        if (c->type == COL_F && isnan(v))
            fputs("null", f);
        else if (c->type == COL_F && isinf(v))
            fputs(v > 0 ? "1e999" : "-1e999", f); /* JSON has no infinity: overflows to it */
        else {
            format_value(c, pt, buf, sizeof(buf));
            fputs(buf, f);
        }
    }
    fputs("}\n", f);
}

int rd_write_atomic(const char *path, int (*write)(FILE *f, void *cookie), void *cookie,
                    char *err, size_t errsz)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
        return NVC_ERR(EIO);
    }
    int ret = write(f, cookie);
    if (ferror(f))
        ret = NVC_ERR(EIO);
    if (fclose(f) != 0)
        ret = NVC_ERR(EIO);
    if (ret >= 0 && rename(tmp, path) < 0)
        ret = NVC_ERR(EIO);
    if (ret < 0) {
        if (!err[0])
            snprintf(err, errsz, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    return ret;
}

/* ---- reading -------------------------------------------------------------- */

/* Split one CSV line (RFC 4180 quoting) into at most max fields written
 * into buf; returns the field count or -1 on a malformed line. */
static int split_csv(const char *line, char *buf, size_t size, char **fields, int max)
{
    int n = 0;
    size_t o = 0;
    const char *s = line;
    for (;;) {
        if (n == max || o >= size)
            return -1;
        fields[n++] = buf + o;
        if (*s == '"') {
            for (s++;; s++) {
                if (!*s)
                    return -1;
                if (*s == '"' && s[1] == '"')
                    s++;
                else if (*s == '"')
                    break;
                if (o + 1 >= size)
                    return -1;
                buf[o++] = *s;
            }
            s++;
        } else {
            while (*s && *s != ',') {
                if (o + 1 >= size)
                    return -1;
                buf[o++] = *s++;
            }
        }
        buf[o++] = 0;
        if (!*s)
            return n;
        if (*s != ',')
            return -1;
        s++;
    }
}

static int parse_value(const Column *c, const char *s, void *rec)
{
    char *p = (char *)rec + c->off, *end;
    errno = 0;
    switch (c->type) {
    case COL_STR:
        if (strlen(s) >= c->size)
            return -1;
        strcpy(p, s);
        return 0;
    case COL_I64: *(int64_t *)p = strtoll(s, &end, 10); break;
    case COL_INT: *(int *)p = (int)strtol(s, &end, 10); break;
    case COL_F: *(double *)p = strtod(s, &end); break;
    }
    return errno || end == s || *end ? -1 : 0;
}

/* Read a CSV file of records; lines that are cut short or malformed are
 * dropped (counted in *dropped). Returns the number of records, 0 for a
 * missing file, or a negative error (another header). */
static int load_csv(const char *path, const Column *cols, int ncols, size_t recsize, void **recs,
                    int *count, int *cap, int *dropped, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(err, errsz, "%s: %s", path, strerror(errno)),
                                      NVC_ERR(EIO));
    char *line = NULL, buf[8192], *fields[64];
    size_t lsz = 0;
    ssize_t len;
    int lineno = 0, ret = 0;
    while ((len = getline(&line, &lsz, f)) >= 0) {
        lineno++;
        const int complete = len > 0 && line[len - 1] == '\n';
        if (complete)
            line[--len] = 0;
        const int nf = split_csv(line, buf, sizeof(buf), fields, 64);
        if (lineno == 1) {
            int same = nf == ncols && complete;
            for (int i = 0; same && i < ncols; i++)
                same = !strcmp(fields[i], cols[i].name);
            if (!same) {
                snprintf(err, errsz, "%s: not an nvc-rd file of this version (other columns): "
                         "use another output directory", path);
                ret = NVC_ERR(EINVAL);
                break;
            }
            continue;
        }
        if (*count == *cap) {
            const int nc = *cap ? 2 * *cap : 64;
            void *p = realloc(*recs, nc * recsize);
            if (!p) {
                ret = NVC_ERR(ENOMEM);
                break;
            }
            *recs = p;
            *cap = nc;
        }
        char *rec = (char *)*recs + *count * recsize;
        memset(rec, 0, recsize);
        int ok = complete && nf == ncols;
        for (int i = 0; ok && i < ncols; i++)
            ok = parse_value(&cols[i], fields[i], rec) == 0;
        if (ok)
            (*count)++;
        else
            (*dropped)++;
    }
    free(line);
    fclose(f);
    return ret < 0 ? ret : 1;
}

/* ---- the results set ------------------------------------------------------ */

typedef struct Rewrite {
    const RdResults *r;
    int which;  /* 0 csv, 1 json, 2 probes */
} Rewrite;

static int rewrite(FILE *f, void *cookie)
{
    const Rewrite *w = cookie;
    const RdResults *r = w->r;
    if (w->which == 2) {
        write_header(f, probe_cols, NCOLS(probe_cols));
        for (int i = 0; i < r->nprobe; i++)
            write_row(f, probe_cols, NCOLS(probe_cols), &r->probe[i]);
        return 0;
    }
    if (w->which == 0)
        rd_results_csv_header(f);
    for (int i = 0; i < r->n; i++) {
        if (w->which == 0)
            rd_results_csv_row(f, &r->pts[i]);
        else
            rd_results_json_row(f, &r->pts[i]);
    }
    return 0;
}

static FILE *open_append(const char *path, int (*header)(FILE *), char *err, size_t errsz)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (ftell(f) == 0 && header) {
        header(f);
        fflush(f);
    }
    return f;
}

static int point_header(FILE *f)
{
    rd_results_csv_header(f);
    return 0;
}

static int probe_header(FILE *f)
{
    write_header(f, probe_cols, NCOLS(probe_cols));
    return 0;
}

int rd_results_open(RdResults *r, const char *dir, int append, char *err, size_t errsz)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->csv_path, sizeof(r->csv_path), "%s/rd.csv", dir);
    snprintf(r->json_path, sizeof(r->json_path), "%s/rd.jsonl", dir);
    snprintf(r->probe_path, sizeof(r->probe_path), "%s/probes.csv", dir);
    int pdrop = 0;
    int ret = load_csv(r->csv_path, point_cols, NCOLS(point_cols), sizeof(RdPoint),
                       (void **)&r->pts, &r->n, &r->cap, &r->dropped, err, errsz);
    const int have_csv = ret > 0;
    if (ret >= 0)
        ret = load_csv(r->probe_path, probe_cols, NCOLS(probe_cols), sizeof(RdProbe),
                       (void **)&r->probe, &r->nprobe, &r->probe_cap, &pdrop, err, errsz);
    if (ret < 0 || !append)
        return ret < 0 ? ret : 0;
    /* Repair what a crash may have cut; rd.jsonl always follows rd.csv. */
    if (r->dropped)
        ret = rd_write_atomic(r->csv_path, rewrite, &(Rewrite){ r, 0 }, err, errsz);
    if (ret >= 0 && pdrop)
        ret = rd_write_atomic(r->probe_path, rewrite, &(Rewrite){ r, 2 }, err, errsz);
    if (ret >= 0 && (have_csv || access(r->json_path, F_OK) == 0))
        ret = rd_write_atomic(r->json_path, rewrite, &(Rewrite){ r, 1 }, err, errsz);
    r->dropped += pdrop;
    if (ret < 0)
        return ret;
    r->csv = open_append(r->csv_path, point_header, err, errsz);
    r->json = r->csv ? open_append(r->json_path, NULL, err, errsz) : NULL;
    r->probes = r->json ? open_append(r->probe_path, probe_header, err, errsz) : NULL;
    return r->probes ? 0 : NVC_ERR(EIO);
}

int rd_results_find(const RdResults *r, const char *key)
{
    char k[RD_SETTING_MAX + 3 * RD_NAME_MAX];
    for (int i = 0; i < r->n; i++) {
        rd_point_key(&r->pts[i], k, sizeof(k));
        if (!strcmp(k, key))
            return i;
    }
    return -1;
}

int rd_results_add(RdResults *r, const RdPoint *pt)
{
    if (r->n == r->cap) {
        const int nc = r->cap ? 2 * r->cap : 64;
        RdPoint *p = realloc(r->pts, nc * sizeof(*p));
        if (!p)
            return NVC_ERR(ENOMEM);
        r->pts = p;
        r->cap = nc;
    }
    r->pts[r->n++] = *pt;
    /* JSON first: a crash between the two leaves a JSON line without its
     * CSV row, which the next run drops and measures again. */
    rd_results_json_row(r->json, pt);
    int ret = fflush(r->json);
    rd_results_csv_row(r->csv, pt);
    ret |= fflush(r->csv);
    return ret || ferror(r->csv) || ferror(r->json) ? NVC_ERR(EIO) : 0;
}

static void probe_key(const RdProbe *p, char *key, size_t size)
{
    snprintf(key, size, "%s|%s|%lld|%s", p->clip, p->codec, (long long)p->frames, p->setting);
}

const RdProbe *rd_results_find_probe(const RdResults *r, const char *key)
{
    char k[RD_SETTING_MAX + 3 * RD_NAME_MAX];
    for (int i = r->nprobe - 1; i >= 0; i--) {
        probe_key(&r->probe[i], k, sizeof(k));
        if (!strcmp(k, key))
            return &r->probe[i];
    }
    return NULL;
}

int rd_results_add_probe(RdResults *r, const RdProbe *p)
{
    if (r->nprobe == r->probe_cap) {
        const int nc = r->probe_cap ? 2 * r->probe_cap : 64;
        RdProbe *q = realloc(r->probe, nc * sizeof(*q));
        if (!q)
            return NVC_ERR(ENOMEM);
        r->probe = q;
        r->probe_cap = nc;
    }
    r->probe[r->nprobe++] = *p;
    write_row(r->probes, probe_cols, NCOLS(probe_cols), p);
    return fflush(r->probes) || ferror(r->probes) ? NVC_ERR(EIO) : 0;
}

void rd_results_close(RdResults *r)
{
    if (r->csv)
        fclose(r->csv);
    if (r->json)
        fclose(r->json);
    if (r->probes)
        fclose(r->probes);
    free(r->pts);
    free(r->probe);
    memset(r, 0, sizeof(*r));
}
