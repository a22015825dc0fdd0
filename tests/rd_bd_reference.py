#!/usr/bin/env python3
"""Expected values for tests/test_rd_bd.c, computed independently of nvc-rd's C code.

Exact rational arithmetic (fractions.Fraction) on the double inputs: the least-squares cubic is
solved exactly from its normal equations (Cramer's rule on the Gram matrix in x itself, not the
scaled variable the C code uses) and integrated exactly; the PCHIP integral is cross-checked by
a composite Simpson rule on the Hermite interpolant. Standard library only:

    python3 tests/rd_bd_reference.py

prints one line per case: name, BD-rate (%) or BD-quality, and the value to 12 digits.
"""
import math
from fractions import Fraction as F


def det(m):
    """Determinant by Laplace expansion (exact on Fractions; matrices are 4x4)."""
    if len(m) == 1:
        return m[0][0]
    return sum((-1) ** j * m[0][j] * det([row[:j] + row[j + 1:] for row in m[1:]])
               for j in range(len(m)))


def lsq_cubic(xs, ys):
    """Exact least-squares cubic coefficients c0..c3 of y = sum c_k x^k (Cramer's rule)."""
    xs = [F(x) for x in xs]
    ys = [F(y) for y in ys]
    g = [[sum(x ** (i + j) for x in xs) for j in range(4)] for i in range(4)]
    r = [sum(y * x ** i for x, y in zip(xs, ys)) for i in range(4)]
    d = det(g)
    out = []
    for k in range(4):
        mk = [row[:k] + [r[i]] + row[k + 1:] for i, row in enumerate(g)]
        out.append(det(mk) / d)
    return out


def poly_int(c, a, b):
    return sum(c[k] * (F(b) ** (k + 1) - F(a) ** (k + 1)) / (k + 1) for k in range(4))


def pchip_slopes(x, y):
    """Fritsch-Carlson slopes with Brodlie weights, three-point shape-preserving ends
    (Moler, Numerical Computing with MATLAB, sec. 3.4), exact."""
    n = len(x)
    h = [x[i + 1] - x[i] for i in range(n - 1)]
    m = [(y[i + 1] - y[i]) / h[i] for i in range(n - 1)]
    if n == 2:
        return [m[0], m[0]]
    d = [F(0)] * n
    for k in range(1, n - 1):
        if m[k - 1] * m[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k])

    def sgn(v):
        return (v > 0) - (v < 0)

    def end(h0, h1, m0, m1):
        e = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        if sgn(e) != sgn(m0):
            return F(0)
        if sgn(m0) != sgn(m1) and abs(e) > abs(3 * m0):
            return 3 * m0
        return e
    d[0] = end(h[0], h[1], m[0], m[1])
    d[-1] = end(h[-1], h[-2], m[-1], m[-2])
    return d


def hermite(x, y, d, t):
    for i in range(len(x) - 1):
        if x[i] <= t <= x[i + 1]:
            h = x[i + 1] - x[i]
            s = (t - x[i]) / h
            return (y[i] * (2 * s ** 3 - 3 * s ** 2 + 1) + h * d[i] * (s ** 3 - 2 * s ** 2 + s)
                    + y[i + 1] * (-2 * s ** 3 + 3 * s ** 2) + h * d[i + 1] * (s ** 3 - s ** 2))
    raise ValueError("outside")


def pchip_int(x, y, a, b, n=2000):
    """Composite Simpson on the exact Hermite interpolant; n intervals per segment piece.
    Simpson is exact on cubics, so integrating piecewise between knots is exact too."""
    d = pchip_slopes(x, y)
    knots = sorted(set([a, b] + [k for k in x if a < k < b]))
    total = F(0)
    for lo, hi in zip(knots[:-1], knots[1:]):
        mid = (lo + hi) / 2
        total += (hi - lo) / 6 * (hermite(x, y, d, lo) + 4 * hermite(x, y, d, mid)
                                  + hermite(x, y, d, hi))
    return total


def avg_diff(xa, ya, xt, yt, method):
    pa, pt = sorted(zip(xa, ya)), sorted(zip(xt, yt))
    xa, ya = [F(p[0]) for p in pa], [F(p[1]) for p in pa]
    xt, yt = [F(p[0]) for p in pt], [F(p[1]) for p in pt]
    lo, hi = max(xa[0], xt[0]), min(xa[-1], xt[-1])
    if method == "cubic":
        ia, it = poly_int(lsq_cubic(xa, ya), lo, hi), poly_int(lsq_cubic(xt, yt), lo, hi)
    else:
        ia, it = pchip_int(xa, ya, lo, hi), pchip_int(xt, yt, lo, hi)
    return (it - ia) / (hi - lo)


def bd_rate(ra, qa, rt, qt, method):
    return 100 * math.expm1(float(avg_diff(qa, [math.log(r) for r in ra],
                                           qt, [math.log(r) for r in rt], method)))


def bd_quality(ra, qa, rt, qt, method):
    return float(avg_diff([math.log(r) for r in ra], qa, [math.log(r) for r in rt], qt, method))


CASES = {
    # VCEG-M33's example (as reproduced by the ETRO/VUB reference implementation).
    "vceg": ([90.33, 181.03, 332.99, 547.79], [27.95, 31.17, 34.44, 38.11],
             [127.1719, 186.14, 307.2924, 481.5588], [29.9286, 32.4165, 34.7013, 37.4561]),
    # ETRO 9-point (barb512) curves: least-squares cubic.
    "etro9": ([2.99899, 1.99884, 1.49673, 0.99707, 0.745941, 0.596436, 0.495148, 0.29425,
               0.244049],
              [48.6681, 43.8357, 41.3982, 38.0124, 35.5122, 33.8673, 32.6658, 29.4505, 28.484],
              [2.997253, 1.968292, 1.472565, 0.994965, 0.748871, 0.58902, 0.499176, 0.296753,
               0.249634],
              [48.5637, 43.7318, 41.2727, 38.0001, 35.6375, 33.9057, 32.8318, 29.6851, 28.8244]),
    # FAU-LMS bjontegaard package README (x265 presets).
    "fau": ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851],
            [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987]),
    # A 5-point pair with non-monotone local slopes (exercises the PCHIP limiter).
    "wiggle": ([0.05, 0.1, 0.2, 0.4, 0.8], [30.0, 33.5, 34.0, 37.5, 39.0],
               [0.04, 0.09, 0.21, 0.35, 0.9], [30.5, 33.0, 35.2, 36.9, 39.6]),
}


def main():
    for name, (ra, qa, rt, qt) in CASES.items():
        for method in ("cubic", "pchip"):
            if method == "cubic" and len(ra) < 4:
                continue
            print("%-7s %-5s BD-rate    %.12f %%" % (name, method, bd_rate(ra, qa, rt, qt, method)))
            print("%-7s %-5s BD-quality %.12f" % (name, method, bd_quality(ra, qa, rt, qt, method)))


if __name__ == "__main__":
    main()
