/*
 * nvc-rd reports: BD-rate tables (bd.csv, summary.md) and RD plots from the
 * points of rd.csv.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_REPORT_H
#define NVC_TOOLS_RD_REPORT_H

#include "tools/rd/rd.h"

#define RD_MAX_METRICS 8

typedef struct RdReportOptions {
    const char *dir;          /* output directory (plots/ below it) */
    const char *anchor;       /* anchor curve; NULL: x265, else x265-ld, else the first */
    const char *metrics[RD_MAX_METRICS]; /* quality metrics for BD and plots */
    int nmetrics;             /* 0: psnr_yuv, or psnr_rgb when every clip is an image */
    const char *command;      /* command line shown in the summary */
    int plots;                /* write plots */
    int png;                  /* PNG next to each SVG */
} RdReportOptions;

/* 1 when name is a metric the reports know. */
int rd_metric_known(const char *name);
/* Comma-separated list of the known metrics. */
const char *rd_metric_names(void);

/* Curve name of a point: the codec, with "-ld" for a classic codec's
 * low-delay GOP. */
void rd_curve_name(const RdPoint *pt, char *buf, size_t size);

/* Write summary.md, bd.csv and the plots. Prints the BD-rate table of the
 * first metric to out (may be NULL). Returns 0 or a negative error. */
int rd_report_write(const RdPoint *pts, int n, const RdReportOptions *o, FILE *out, char *err,
                    size_t errsz);

#endif /* NVC_TOOLS_RD_REPORT_H */
