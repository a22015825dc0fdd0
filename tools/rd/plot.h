/*
 * nvc-rd: RD plots as SVG (text) and PNG (a small supersampled rasteriser
 * and libpng), drawn from one layout so both show the same figure.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_PLOT_H
#define NVC_TOOLS_RD_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "tools/rd/rd.h"

#define RD_PLOT_MAX_SERIES 16

typedef struct RdSeries {
    char name[RD_NAME_MAX];
    int n;
    double x[RD_MAX_POINTS], y[RD_MAX_POINTS]; /* drawn in the given order */
    int dashed;
    int style;       /* colour and marker index */
} RdSeries;

typedef struct RdPlot {
    char title[256], subtitle[256];
    char xlabel[64], ylabel[64];
    int n;
    RdSeries s[RD_PLOT_MAX_SERIES];
} RdPlot;

/* Write the plot to path (atomically). Return 0 or a negative error with a
 * message in err. rd_plot_png returns NVC_ERR(ENOSYS) without libpng. */
int rd_plot_svg(const RdPlot *p, const char *path, char *err, size_t errsz);
int rd_plot_png(const RdPlot *p, const char *path, char *err, size_t errsz);

/* "Nice" axis ticks covering [lo, hi]: first tick, step and count. */
void rd_plot_ticks(double lo, double hi, int target, double *first, double *step, int *count);

extern const uint8_t rd_font5x9[95][9];

#endif /* NVC_TOOLS_RD_PLOT_H */
