/*
 * Coarse-to-fine Lucas-Kanade flow (nvc/video_flow.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/video_flow.h"

#define FLOW_MAX_LEVELS 6
#define FLOW_MIN_SIDE 16
#define FLOW_ITERS 3
#define FLOW_RADIUS 3        /* 7x7 windows */
#define FLOW_ALPHA 1e-4      /* Tikhonov term per window pixel (intensity^2 units) */
#define FLOW_STEP_MAX 2.0    /* largest update of one iteration, pixels */

void nvc_vid_gray(const float *rgb, int w, int h, float *gray)
{
    const size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++)
        gray[i] = 0.25f * (rgb[i] + 2.0f * rgb[n + i] + rgb[2 * n + i]);
}

static float sample(const float *img, int w, int h, float x, float y)
{
    x = x < 0 ? 0 : x > w - 1 ? (float)(w - 1) : x;
    y = y < 0 ? 0 : y > h - 1 ? (float)(h - 1) : y;
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    const float *r0 = img + (size_t)y0 * w, *r1 = img + (size_t)y1 * w;
    return (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x1]) + fy * ((1 - fx) * r1[x0] + fx * r1[x1]);
}

void nvc_vid_flow_warp(const float *ref, const float *flow, int w, int h, float *out)
{
    const size_t n = (size_t)w * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            out[i] = sample(ref, w, h, x + flow[i], y + flow[n + i]);
        }
}

/* 2x2 average (the last odd row / column is dropped). */
static void half(const float *in, int w, int h, float *out)
{
    const int w2 = w / 2, h2 = h / 2;
    for (int y = 0; y < h2; y++)
        for (int x = 0; x < w2; x++) {
            const float *r = in + (size_t)2 * y * w + 2 * x;
            out[(size_t)y * w2 + x] = 0.25f * (r[0] + r[1] + r[w] + r[w + 1]);
        }
}

/* Box sums over (2r+1)^2 windows with replicated borders (tmp: w * h). */
static void box(const float *in, int w, int h, int r, float *out, float *tmp)
{
    /* each sum from 0 over the taps in order (clamped at the edges); the
     * rows' interiors and the vertical pass run over x in vectors */
    for (int y = 0; y < h; y++) {
        const float *row = in + (size_t)y * w;
        float *t = tmp + (size_t)y * w;
        const int x0 = r < w ? r : w, x1 = w - r > x0 ? w - r : x0;
        for (int x = 0; x < w; x++) {
            if (x == x0)
                x = x1;
            if (x >= w)
                break;
            float s = 0;
            for (int k = -r; k <= r; k++) {
                int xx = x + k < 0 ? 0 : x + k >= w ? w - 1 : x + k;
                s += row[xx];
            }
            t[x] = s;
        }
#pragma omp simd
        for (int x = x0; x < x1; x++)
            t[x] = 0;
        for (int k = -r; k <= r; k++)
#pragma omp simd
            for (int x = x0; x < x1; x++)
                t[x] += row[x + k];
    }
    for (int y = 0; y < h; y++) {
        float *o = out + (size_t)y * w;
#pragma omp simd
        for (int x = 0; x < w; x++)
            o[x] = 0;
        for (int k = -r; k <= r; k++) {
            const int yy = y + k < 0 ? 0 : y + k >= h ? h - 1 : y + k;
            const float *t = tmp + (size_t)yy * w;
#pragma omp simd
            for (int x = 0; x < w; x++)
                o[x] += t[x];
        }
    }
}

/* Work areas of one level: warped image, 5 products, 5 sums, box temp. */
typedef struct Work {
    float *warp, *p[5], *s[5], *tmp;
} Work;

/* Refine flow (2, h, w) of one level in place. */
static void refine(const float *cur, const float *ref, int w, int h, float *flow, Work *k)
{
    const size_t n = (size_t)w * h;
    const double alpha = FLOW_ALPHA * (2 * FLOW_RADIUS + 1) * (2 * FLOW_RADIUS + 1);
    for (int it = 0; it < FLOW_ITERS; it++) {
        nvc_vid_flow_warp(ref, flow, w, h, k->warp);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                const float *r = k->warp + (size_t)y * w;
                int xm = x > 0 ? x - 1 : x, xp = x + 1 < w ? x + 1 : x;
                int ym = y > 0 ? y - 1 : y, yp = y + 1 < h ? y + 1 : y;
                float ix = (r[xp] - r[xm]) / (float)(xp - xm > 0 ? xp - xm : 1);
                float iy = (k->warp[(size_t)yp * w + x] - k->warp[(size_t)ym * w + x]) /
                           (float)(yp - ym > 0 ? yp - ym : 1);
                float it_ = k->warp[i] - cur[i];
                k->p[0][i] = ix * ix, k->p[1][i] = ix * iy, k->p[2][i] = iy * iy;
                k->p[3][i] = ix * it_, k->p[4][i] = iy * it_;
            }
        for (int j = 0; j < 5; j++)
            box(k->p[j], w, h, FLOW_RADIUS, k->s[j], k->tmp);
        for (size_t i = 0; i < n; i++) {
            double a = k->s[0][i] + alpha, b = k->s[1][i], c = k->s[2][i] + alpha;
            double det = a * c - b * b;
            double du = -(c * k->s[3][i] - b * k->s[4][i]) / det;
            double dv = -(a * k->s[4][i] - b * k->s[3][i]) / det;
            du = du > FLOW_STEP_MAX ? FLOW_STEP_MAX : du < -FLOW_STEP_MAX ? -FLOW_STEP_MAX : du;
            dv = dv > FLOW_STEP_MAX ? FLOW_STEP_MAX : dv < -FLOW_STEP_MAX ? -FLOW_STEP_MAX : dv;
            flow[i] += (float)du;
            flow[n + i] += (float)dv;
        }
    }
    /* a light 3x3 smoothing keeps the field coherent (and cheap to code) */
    for (int c = 0; c < 2; c++) {
        box(flow + c * n, w, h, 1, k->tmp + 0, k->s[0]);
        for (size_t i = 0; i < n; i++)
            flow[c * n + i] = k->tmp[i] / 9.0f;
    }
}

int nvc_vid_flow(const float *cur, const float *ref, int w, int h, float *flow)
{
    if (w < 2 || h < 2)
        return NVC_ERR(EINVAL);
    int lw[FLOW_MAX_LEVELS], lh[FLOW_MAX_LEVELS], L = 1;
    lw[0] = w, lh[0] = h;
    while (L < FLOW_MAX_LEVELS && lw[L - 1] / 2 >= FLOW_MIN_SIDE && lh[L - 1] / 2 >= FLOW_MIN_SIDE) {
        lw[L] = lw[L - 1] / 2, lh[L] = lh[L - 1] / 2;
        L++;
    }
    const size_t n = (size_t)w * h;
    /* pyramids (level 0 points to the inputs), two flows, work areas */
    float *buf = malloc(sizeof(float) * n * (2 + 2 + 2 + 12));
    if (!buf)
        return NVC_ERR(ENOMEM);
    const float *pc[FLOW_MAX_LEVELS], *pr[FLOW_MAX_LEVELS];
    float *pyr = buf, *f0 = buf + 2 * n, *f1 = buf + 4 * n;
    Work k;
    k.warp = buf + 6 * n;
    for (int j = 0; j < 5; j++)
        k.p[j] = buf + (7 + j) * n, k.s[j] = NULL;
    k.tmp = buf + 12 * n;
    /* the sums reuse the space after tmp: 5 more planes */
    float *sums = malloc(sizeof(float) * n * 5);
    if (!sums) {
        free(buf);
        return NVC_ERR(ENOMEM);
    }
    for (int j = 0; j < 5; j++)
        k.s[j] = sums + j * n;
    pc[0] = cur, pr[0] = ref;
    float *dst = pyr; /* levels 1.. packed: at most n/3 each side */
    for (int l = 1; l < L; l++) {
        const size_t m = (size_t)lw[l] * lh[l];
        half(pc[l - 1], lw[l - 1], lh[l - 1], dst);
        pc[l] = dst, dst += m;
        half(pr[l - 1], lw[l - 1], lh[l - 1], dst);
        pr[l] = dst, dst += m;
    }
    float *cf = f0, *nf = f1;
    memset(cf, 0, sizeof(float) * 2 * (size_t)lw[L - 1] * lh[L - 1]);
    for (int l = L - 1; l >= 0; l--) {
        refine(pc[l], pr[l], lw[l], lh[l], cf, &k);
        if (l == 0)
            break;
        /* to the next finer level: bilinear upsampling, flow doubled */
        const int cw = lw[l], ch = lh[l], fw = lw[l - 1], fh = lh[l - 1];
        const size_t cm = (size_t)cw * ch, fm = (size_t)fw * fh;
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < fh; y++)
                for (int x = 0; x < fw; x++)
                    nf[c * fm + (size_t)y * fw + x] =
                        2.0f * sample(cf + c * cm, cw, ch, (x + 0.5f) * cw / fw - 0.5f, (y + 0.5f) * ch / fh - 0.5f);
        float *t = cf;
        cf = nf, nf = t;
    }
    memcpy(flow, cf, sizeof(float) * 2 * n);
    free(sums);
    free(buf);
    return 0;
}
