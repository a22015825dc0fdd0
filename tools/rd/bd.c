/*
 * Bjontegaard deltas (VCEG-M33): cubic and PCHIP interpolation of one RD
 * curve against another, integrated in closed form.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rd/bd.h"

const char *rd_bd_error_string(int err)
{
    switch (err) {
    case RD_BD_OK: return "ok";
    case RD_BD_TOO_FEW: return "too few points (cubic needs 4 per curve, pchip 2)";
    case RD_BD_DUPLICATE: return "two points with the same abscissa";
    case RD_BD_NO_OVERLAP: return "the curves do not overlap";
    case RD_BD_BAD_VALUE: return "a non-positive rate or a non-finite value";
    case RD_BD_SINGULAR: return "singular least-squares system";
    }
    return "unknown error";
}

/* Solve the 4x4 system a x = b by Gaussian elimination with partial pivoting. */
static int solve4(double a[4][4], double b[4], double x[4])
{
    for (int c = 0; c < 4; c++) {
        int p = c;
        for (int r = c + 1; r < 4; r++)
            if (fabs(a[r][c]) > fabs(a[p][c]))
                p = r;
        if (!(fabs(a[p][c]) > 1e-300))
            return RD_BD_SINGULAR;
        if (p != c) {
            for (int k = 0; k < 4; k++) {
                double t = a[c][k];
                a[c][k] = a[p][k];
                a[p][k] = t;
            }
            double t = b[c];
            b[c] = b[p];
            b[p] = t;
        }
        for (int r = c + 1; r < 4; r++) {
            const double f = a[r][c] / a[c][c];
            for (int k = c; k < 4; k++)
                a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int c = 3; c >= 0; c--) {
        double s = b[c];
        for (int k = c + 1; k < 4; k++)
            s -= a[c][k] * x[k];
        x[c] = s / a[c][c];
    }
    return RD_BD_OK;
}

int rd_bd_polyfit3(const double *x, const double *y, int n, double c[4], double *x0, double *s)
{
    if (n < 4)
        return RD_BD_TOO_FEW;
    double mean = 0, mn = x[0], mx = x[0];
    for (int i = 0; i < n; i++) {
        mean += x[i];
        mn = fmin(mn, x[i]);
        mx = fmax(mx, x[i]);
    }
    mean /= n;
    const double scale = mx > mn ? (mx - mn) / 2 : 1;
    /* Normal equations in u in [-1, 1]: well conditioned for a cubic. */
    double ata[4][4] = { { 0 } }, aty[4] = { 0 };
    for (int i = 0; i < n; i++) {
        const double u = (x[i] - mean) / scale;
        double pw[7];
        pw[0] = 1;
        for (int k = 1; k < 7; k++)
            pw[k] = pw[k - 1] * u;
        for (int r = 0; r < 4; r++) {
            for (int k = 0; k < 4; k++)
                ata[r][k] += pw[r + k];
            aty[r] += pw[r] * y[i];
        }
    }
    *x0 = mean;
    *s = scale;
    return solve4(ata, aty, c);
}

/* Integral over [a, b] of the fitted cubic. */
static double poly3_integral(const double c[4], double x0, double s, double a, double b)
{
    const double ua = (a - x0) / s, ub = (b - x0) / s;
    double pa = 0, pb = 0;
    for (int k = 3; k >= 0; k--) {
        pa = (pa + c[k] / (k + 1)) * ua;
        pb = (pb + c[k] / (k + 1)) * ub;
    }
    return s * (pb - pa);
}

static int sign(double v)
{
    return (v > 0) - (v < 0);
}

/* End slope: the three-point formula, limited to keep the shape (monotone
 * data stay monotone). */
static double pchip_end(double h0, double h1, double m0, double m1)
{
    const double d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sign(d) != sign(m0))
        return 0;
    if (sign(m0) != sign(m1) && fabs(d) > fabs(3 * m0))
        return 3 * m0;
    return d;
}

void rd_bd_pchip_slopes(const double *x, const double *y, int n, double *d)
{
    double h[RD_BD_MAX_POINTS], m[RD_BD_MAX_POINTS];
    for (int i = 0; i < n - 1; i++) {
        h[i] = x[i + 1] - x[i];
        m[i] = (y[i + 1] - y[i]) / h[i];
    }
    if (n == 2) {
        d[0] = d[1] = m[0];
        return;
    }
    for (int k = 1; k < n - 1; k++) {
        if (m[k - 1] * m[k] <= 0) {
            d[k] = 0; /* local extremum: flat */
        } else {
            /* Weighted harmonic mean of the neighbouring secants (Brodlie). */
            const double w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
            d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
        }
    }
    d[0] = pchip_end(h[0], h[1], m[0], m[1]);
    d[n - 1] = pchip_end(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
}

double rd_bd_pchip_integral(const double *x, const double *y, int n, double a, double b)
{
    double d[RD_BD_MAX_POINTS];
    rd_bd_pchip_slopes(x, y, n, d);
    double total = 0;
    for (int i = 0; i < n - 1; i++) {
        const double lo = fmax(a, x[i]), hi = fmin(b, x[i + 1]);
        if (hi <= lo)
            continue;
        /* On [x_i, x_i+1], with t = x - x_i:
         * y = y_i + d_i t + c2 t^2 + c3 t^3 (cubic Hermite). */
        const double h = x[i + 1] - x[i], m = (y[i + 1] - y[i]) / h;
        const double c2 = (3 * m - 2 * d[i] - d[i + 1]) / h;
        const double c3 = (d[i] - 2 * m + d[i + 1]) / (h * h);
        const double t1 = hi - x[i], t0 = lo - x[i];
        const double p1 = t1 * (y[i] + t1 * (d[i] / 2 + t1 * (c2 / 3 + t1 * c3 / 4)));
        const double p0 = t0 * (y[i] + t0 * (d[i] / 2 + t0 * (c2 / 3 + t0 * c3 / 4)));
        total += p1 - p0;
    }
    return total;
}

typedef struct Pt {
    double x, y;
} Pt;

static int cmp_pt(const void *a, const void *b)
{
    const Pt *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* Sort a curve by x into xs/ys; check values and duplicates. */
static int prepare(const double *x, const double *y, int n, int min_n, double *xs, double *ys)
{
    if (n < min_n)
        return RD_BD_TOO_FEW;
    if (n > RD_BD_MAX_POINTS)
        return RD_BD_BAD_VALUE;
    Pt p[RD_BD_MAX_POINTS];
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return RD_BD_BAD_VALUE;
        p[i] = (Pt){ x[i], y[i] };
    }
    qsort(p, n, sizeof(*p), cmp_pt);
    for (int i = 0; i < n; i++) {
        if (i && p[i].x == p[i - 1].x)
            return RD_BD_DUPLICATE;
        xs[i] = p[i].x;
        ys[i] = p[i].y;
    }
    return RD_BD_OK;
}

/* Integral of one curve's interpolant over [lo, hi]. */
static int curve_integral(const double *x, const double *y, int n, enum RdBdMethod m, double lo,
                          double hi, double *out)
{
    if (m == RD_BD_PCHIP) {
        *out = rd_bd_pchip_integral(x, y, n, lo, hi);
        return RD_BD_OK;
    }
    double c[4], x0, s;
    int ret = rd_bd_polyfit3(x, y, n, c, &x0, &s);
    if (ret < 0)
        return ret;
    *out = poly3_integral(c, x0, s, lo, hi);
    return RD_BD_OK;
}

int rd_bd_avg_diff(const double *xa, const double *ya, int na, const double *xt,
                   const double *yt, int nt, enum RdBdMethod m, double *avg, double *lo,
                   double *hi)
{
    double sxa[RD_BD_MAX_POINTS], sya[RD_BD_MAX_POINTS], sxt[RD_BD_MAX_POINTS],
        syt[RD_BD_MAX_POINTS];
    const int min_n = m == RD_BD_CUBIC ? 4 : 2;
    *avg = NAN;
    int ret = prepare(xa, ya, na, min_n, sxa, sya);
    if (ret >= 0)
        ret = prepare(xt, yt, nt, min_n, sxt, syt);
    if (ret < 0)
        return ret;
    const double l = fmax(sxa[0], sxt[0]), h = fmin(sxa[na - 1], sxt[nt - 1]);
    if (lo)
        *lo = l;
    if (hi)
        *hi = h;
    if (!(h > l))
        return RD_BD_NO_OVERLAP;
    double ia, it;
    ret = curve_integral(sxa, sya, na, m, l, h, &ia);
    if (ret >= 0)
        ret = curve_integral(sxt, syt, nt, m, l, h, &it);
    if (ret < 0)
        return ret;
    *avg = (it - ia) / (h - l);
    return RD_BD_OK;
}

static int log_rates(const double *r, int n, double *out)
{
    if (n > RD_BD_MAX_POINTS)
        return RD_BD_BAD_VALUE;
    for (int i = 0; i < n; i++) {
        if (!(r[i] > 0) || !isfinite(r[i]))
            return RD_BD_BAD_VALUE;
        out[i] = log(r[i]);
    }
    return RD_BD_OK;
}

int rd_bd_rate(const double *rate_a, const double *q_a, int na, const double *rate_t,
               const double *q_t, int nt, enum RdBdMethod m, double *bd)
{
    double la[RD_BD_MAX_POINTS], lt[RD_BD_MAX_POINTS], avg;
    *bd = NAN;
    int ret = log_rates(rate_a, na, la);
    if (ret >= 0)
        ret = log_rates(rate_t, nt, lt);
    if (ret >= 0)
        ret = rd_bd_avg_diff(q_a, la, na, q_t, lt, nt, m, &avg, NULL, NULL);
    if (ret < 0)
        return ret;
    *bd = expm1(avg);
    return RD_BD_OK;
}

int rd_bd_quality(const double *rate_a, const double *q_a, int na, const double *rate_t,
                  const double *q_t, int nt, enum RdBdMethod m, double *bd)
{
    double la[RD_BD_MAX_POINTS], lt[RD_BD_MAX_POINTS];
    *bd = NAN;
    int ret = log_rates(rate_a, na, la);
    if (ret >= 0)
        ret = log_rates(rate_t, nt, lt);
    if (ret >= 0)
        ret = rd_bd_avg_diff(la, q_a, na, lt, q_t, nt, m, bd, NULL, NULL);
    return ret;
}
