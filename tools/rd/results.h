/*
 * nvc-rd results files: rd.csv (the authority: a point is done when its
 * row is complete), rd.jsonl (the same points as JSON objects) and
 * probes.csv (the sizes found by automatic rate searches). Rows are
 * appended and flushed one point at a time, so an interrupted sweep
 * resumes where it stopped.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_RESULTS_H
#define NVC_TOOLS_RD_RESULTS_H

#include <stdio.h>

#include "tools/rd/rd.h"

/* One encode of an automatic search: its size only. */
typedef struct RdProbe {
    char clip[RD_NAME_MAX];
    char codec[RD_NAME_MAX];
    int64_t frames;
    char setting[RD_SETTING_MAX];
    int64_t bytes;
    double bpp;
    double enc_s;
} RdProbe;

typedef struct RdResults {
    char csv_path[4200], json_path[4200], probe_path[4200];
    FILE *csv, *json, *probes;   /* open for appending (NULL: read-only) */
    RdPoint *pts;
    int n, cap;
    RdProbe *probe;
    int nprobe, probe_cap;
    int dropped;                 /* incomplete lines removed on loading */
} RdResults;

/* Load dir's results (repairing lines cut by a crash: rd.csv and probes.csv
 * are rewritten without them, rd.jsonl is rewritten from rd.csv) and, with
 * append, open the files for new points. Returns 0 or a negative error
 * with a message in err (e.g. an rd.csv with another column layout). */
int rd_results_open(RdResults *r, const char *dir, int append, char *err, size_t errsz);

/* Index of the point with this key (rd_point_key), or -1. */
int rd_results_find(const RdResults *r, const char *key);

/* Append a point: a JSON line, then the CSV row, each flushed. */
int rd_results_add(RdResults *r, const RdPoint *pt);

/* The probe with this key (clip|codec|frames|setting), or NULL. */
const RdProbe *rd_results_find_probe(const RdResults *r, const char *key);
int rd_results_add_probe(RdResults *r, const RdProbe *p);

void rd_results_close(RdResults *r);

/* Write one point as CSV / JSON (no newline handling beyond the row's own). */
void rd_results_csv_header(FILE *f);
void rd_results_csv_row(FILE *f, const RdPoint *pt);
void rd_results_json_row(FILE *f, const RdPoint *pt);

/* Replace path atomically with the text `write` produces. */
int rd_write_atomic(const char *path, int (*write)(FILE *f, void *cookie), void *cookie,
                    char *err, size_t errsz);

#endif /* NVC_TOOLS_RD_RESULTS_H */
