/*
 * Bjontegaard delta rate and delta quality between two RD curves
 * (G. Bjontegaard, "Calculation of average PSNR differences between
 * RD-curves", VCEG-M33, 2001).
 *
 * log(rate) is interpolated as a function of quality (BD-rate), or quality
 * as a function of log(rate) (BD-quality), for the anchor and the test
 * curve, and the difference is averaged over the interval where the two
 * curves overlap. Two interpolants:
 * - RD_BD_CUBIC: a cubic polynomial; through the points for 4 points (the
 *   VCEG-M33 method), the least-squares cubic for more.
 * - RD_BD_PCHIP: the piecewise cubic Hermite interpolant with
 *   shape-preserving slopes (Fritsch-Carlson with Brodlie's weights and the
 *   three-point end formula, as MATLAB's pchip, scipy's PchipInterpolator
 *   and the JCT-VC/JVET common-test-conditions spreadsheet).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_RD_BD_H
#define NVC_TOOLS_RD_BD_H

enum RdBdMethod {
    RD_BD_CUBIC = 0,
    RD_BD_PCHIP = 1,
};

/* Why a delta could not be computed. */
enum RdBdError {
    RD_BD_OK = 0,
    RD_BD_TOO_FEW = -1,     /* cubic needs 4 points per curve, pchip 2 */
    RD_BD_DUPLICATE = -2,   /* two points of one curve share an abscissa */
    RD_BD_NO_OVERLAP = -3,  /* the curves' ranges do not overlap */
    RD_BD_BAD_VALUE = -4,   /* a rate <= 0, or a NaN / infinite value */
    RD_BD_SINGULAR = -5,    /* least-squares system without a solution */
};

/* Upper bound on points per curve. */
#define RD_BD_MAX_POINTS 64

/* Mean of (yt(x) - ya(x)) over the overlap [lo, hi] of the x ranges of the
 * anchor (xa, ya; na points) and the test (xt, yt; nt points), each curve
 * interpolated as y(x) with method m. Points need not be sorted. Returns
 * RD_BD_OK with *avg (and lo/hi when not NULL) set, or an RdBdError. */
int rd_bd_avg_diff(const double *xa, const double *ya, int na, const double *xt,
                   const double *yt, int nt, enum RdBdMethod m, double *avg, double *lo,
                   double *hi);

/* BD-rate of the test against the anchor as a fraction: -0.1 means the test
 * needs 10% fewer bits than the anchor for the same quality. rate_* > 0
 * (bits, bytes or bpp: only ratios matter), q_* the quality (dB). */
int rd_bd_rate(const double *rate_a, const double *q_a, int na, const double *rate_t,
               const double *q_t, int nt, enum RdBdMethod m, double *bd);

/* BD-quality (BD-PSNR for PSNR curves, in dB) of the test against the
 * anchor over the overlapping log-rate interval; positive = better. */
int rd_bd_quality(const double *rate_a, const double *q_a, int na, const double *rate_t,
                  const double *q_t, int nt, enum RdBdMethod m, double *bd);

/* Least-squares cubic through n >= 4 points: y ~ c[0] + c[1] u + c[2] u^2
 * + c[3] u^3 with u = (x - *x0) / *s (centred and scaled for conditioning).
 * Returns RD_BD_OK or an RdBdError. */
int rd_bd_polyfit3(const double *x, const double *y, int n, double c[4], double *x0, double *s);

/* Slopes of the shape-preserving piecewise cubic Hermite interpolant through
 * n >= 2 points with strictly increasing x. */
void rd_bd_pchip_slopes(const double *x, const double *y, int n, double *d);

/* Integral over [a, b] (inside [x[0], x[n-1]]) of that interpolant. */
double rd_bd_pchip_integral(const double *x, const double *y, int n, double a, double b);

/* Short English text for an RdBdError. */
const char *rd_bd_error_string(int err);

#endif /* NVC_TOOLS_RD_BD_H */
