/*
 * Architecture choice: strides from the frame size, widths from a parameter
 * budget, and the --size / --strides syntax.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "inr/inr.h"

static void set_grid(InrArch *a, int w, int h)
{
    int s = inr_arch_scale(a);
    a->grid_h = (h + s - 1) / s;
    a->grid_w = (w + s - 1) / s;
}

typedef struct Best {
    double score;
    int n, s[INR_MAX_STRIDES];
} Best;

/* Padding (relative area) weighs 3 points per 100%; the grid's distance to
 * the wanted cell count 1 point per factor e; 0.05 per stride away from 5. */
static void consider(Best *b, const int *s, int n, int w, int h, double cells, int even)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= s[i];
    if (even && (p & 1))
        return;
    int64_t gh = (h + p - 1) / p, gw = (w + p - 1) / p;
    if (gh > INR_MAX_GRID || gw > INR_MAX_GRID)
        return;
    double pad = (double)(gh * p) * (double)(gw * p) / ((double)w * h) - 1.0;
    double score = 3.0 * pad + fabs(log((double)(gh * gw) / cells)) + 0.05 * abs(n - 5);
    if (score < b->score) {
        b->score = score;
        b->n = n;
        memcpy(b->s, s, sizeof(int) * n);
    }
}

static void search(Best *b, int *s, int n, int w, int h, double cells, int even)
{
    if (n >= 3)
        consider(b, s, n, w, h, cells, even);
    if (n == INR_MAX_STRIDES)
        return;
    for (int v = n ? s[n - 1] : 5; v >= 2; v--) {
        s[n] = v;
        search(b, s, n + 1, w, h, cells, even);
    }
}

void inr_choose_strides(InrArch *a, int w, int h, double cells, int even)
{
    Best b = { .score = INFINITY };
    int s[INR_MAX_STRIDES];
    search(&b, s, 0, w, h, cells, even);
    if (b.n == 0) { /* even with 6 strides of 5 the grid is too large: not reachable under 32768 */
        b.n = INR_MAX_STRIDES;
        for (int i = 0; i < b.n; i++)
            b.s[i] = i ? 5 : 4;
    }
    a->nstrides = b.n;
    memcpy(a->stride, b.s, sizeof(int) * b.n);
    set_grid(a, w, h);
}

int inr_parse_strides(InrArch *a, const char *str, int w, int h)
{
    int n = 0;
    const char *p = str;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 2 || v > 5 || n == INR_MAX_STRIDES)
            return NVC_ERR(EINVAL);
        a->stride[n++] = (int)v;
        p = end;
        if (*p == ',' || *p == '_' || *p == ' ')
            p++;
        else if (*p)
            return NVC_ERR(EINVAL);
    }
    if (n < INR_MIN_STRIDES)
        return NVC_ERR(EINVAL);
    a->nstrides = n;
    set_grid(a, w, h);
    return a->grid_h <= INR_MAX_GRID && a->grid_w <= INR_MAX_GRID ? 0 : NVC_ERR(EINVAL);
}

/* Widths from the stem width c0: HNeRV shrinks by 1.2 per block down to a
 * floor of 12 (or c0 when smaller); NeRV++ keeps one width c0 (its
 * reference configurations sit at their floor width) and an MLP of 2 c0
 * (at least 16). */
static void set_widths(InrArch *a, int c0)
{
    a->width[0] = c0;
    if (a->kind == INR_HNERV) {
        int floor = NVC_MIN(12, c0);
        for (int i = 0; i < a->nstrides; i++)
            a->width[i + 1] = NVC_MAX((int)rint(a->width[i] / 1.2), floor); /* Python round() */
    } else {
        for (int i = 0; i < a->nstrides; i++)
            a->width[i + 1] = c0;
        a->stem_hidden = NVC_MIN(NVC_MAX(2 * c0, 16), INR_MAX_WIDTH);
    }
}

void inr_size_arch(InrArch *a, double budget, int min_c0)
{
    int lo = NVC_MAX(min_c0, 1), hi = 1024;
    set_widths(a, lo);
    if ((double)inr_arch_params(a) >= budget)
        return;
    while (hi - lo > 1) { /* largest c0 within the budget */
        int mid = (lo + hi) / 2;
        set_widths(a, mid);
        if ((double)inr_arch_params(a) <= budget)
            lo = mid;
        else
            hi = mid;
    }
    set_widths(a, lo);
}

int inr_parse_size(const char *s, int *preset, double *count)
{
    static const char *const names[] = { "xs", "s", "m", "l", "xl" };
    *preset = -1;
    *count = 0;
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *preset = i;
            return 0;
        }
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return NVC_ERR(EINVAL);
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1e6, end++;
    if (*end || !(v >= 1 && v <= 1e9))
        return NVC_ERR(EINVAL);
    *count = v;
    return 0;
}
