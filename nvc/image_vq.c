/*
 * Training side of the multi-codebook VQ prior (nvc/image_vq.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/image_vq.h"

#define VQ_TAU 1.0f             /* temperature of the rate relaxation */
#define VQ_REASSIGN_EVERY 100   /* steps between dead-codeword checks */
#define VQ_USAGE_DECAY 0.99     /* per step */
#define VQ_DEAD_USAGE 1e-3      /* expected assignments per step below which a codeword is dead */
#define VQ_POOL 3               /* qualities pooled on each side for the PMF */
#define VQ_COUNT_DECAY 0.98     /* per batch of a quality */

typedef struct NvcImgVq {
    int L, G, k, d, M, n, B;
    float *y, *yhat, *dyhat, *dy;   /* (B, M, n) */
    float *cb, *gcb;                /* (L, G, k, d) */
    double *cnt;                    /* (64, L, G, k) decayed codeword counts per quality */
    double *lp;                     /* (64, L, G, k) log2 PMF of the pooled counts */
    float *res;                     /* (B, L, G, n, d) residual entering each level */
    uint16_t *idx;                  /* (B, L, G, n) */
    double *usage;                  /* (L, G, k) decayed assignment counts */
    uint64_t steps;
    uint64_t rng;
} NvcImgVq;

int nvc_img_vq_create(NvcImgModel *m)
{
    const NvcImgConfig *c = &m->cfg;
    NvcImgVq *v = calloc(1, sizeof(*v));
    if (!v)
        return NVC_ERR(ENOMEM);
    m->vq = v;
    v->L = c->vq_levels, v->G = c->vq_groups, v->k = c->vq_k, v->d = c->M / c->vq_groups, v->M = c->M;
    v->n = m->H / 16 * (m->W / 16), v->B = m->B;
    const size_t ny = (size_t)v->B * v->M * v->n, ncb = (size_t)v->L * v->G * v->k * v->d;
    const size_t nc = (size_t)NVC_IMG_QLEVELS * v->L * v->G * v->k;
    v->y = malloc(ny * sizeof(float));
    v->yhat = malloc(ny * sizeof(float));
    v->dyhat = malloc(ny * sizeof(float));
    v->dy = malloc(ny * sizeof(float));
    v->cb = malloc(ncb * sizeof(float));
    v->gcb = malloc(ncb * sizeof(float));
    v->cnt = malloc(nc * sizeof(double));
    v->lp = malloc(nc * sizeof(double));
    v->res = malloc((size_t)v->L * ny * sizeof(float));
    v->idx = malloc((size_t)v->B * v->L * v->G * v->n * sizeof(uint16_t));
    v->usage = calloc((size_t)v->L * v->G * v->k, sizeof(double));
    v->rng = m->seed ^ 0x5851f42d4c957f2dull;
    if (!v->y || !v->yhat || !v->dyhat || !v->dy || !v->cb || !v->gcb || !v->cnt || !v->lp || !v->res || !v->idx ||
        !v->usage)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < (size_t)v->L * v->G * v->k; i++)
        v->usage[i] = 1.0;
    for (size_t i = 0; i < nc; i++)
        v->cnt[i] = 1.0;
    return 0;
}

void nvc_img_vq_free(NvcImgModel *m)
{
    NvcImgVq *v = m->vq;
    if (!v)
        return;
    free(v->y);
    free(v->yhat);
    free(v->dyhat);
    free(v->dy);
    free(v->cb);
    free(v->gcb);
    free(v->cnt);
    free(v->lp);
    free(v->res);
    free(v->idx);
    free(v->usage);
    free(v);
    m->vq = NULL;
}

static float dist2(const float *a, const float *b, int d)
{
    float s = 0.0f;
    for (int j = 0; j < d; j++) {
        float t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static int nearest(const float *r, const float *words, int k, int d)
{
    int best = 0;
    float bd = INFINITY;
    for (int i = 0; i < k; i++) {
        float s = dist2(r, words + (size_t)i * d, d);
        if (s < bd)
            bd = s, best = i;
    }
    return best;
}

void nvc_img_vq_quantize(const NvcImgConfig *c, const float *cb, const float *y, int n, uint16_t *idx,
                         float *yhat)
{
    const int L = c->vq_levels, G = c->vq_groups, k = c->vq_k, d = c->M / G;
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        float r[64];
        for (int p = 0; p < n; p++) {
            for (int j = 0; j < d; j++)
                r[j] = y[(size_t)(g * d + j) * n + p];
            for (int l = 0; l < L; l++) {
                const float *words = cb + ((size_t)l * G + g) * k * d;
                int i = nearest(r, words, k, d);
                idx[((size_t)l * G + g) * n + p] = (uint16_t)i;
                for (int j = 0; j < d; j++)
                    r[j] -= words[(size_t)i * d + j];
            }
            if (yhat)
                for (int j = 0; j < d; j++)
                    yhat[(size_t)(g * d + j) * n + p] = y[(size_t)(g * d + j) * n + p] - r[j];
        }
    }
}

/* log2 PMFs of every quality from the counts of the qualities within
 * VQ_POOL of it (each quality sees few batches). */
static void update_pmfs(NvcImgVq *v)
{
    const size_t nb = (size_t)v->L * v->G, k = (size_t)v->k;
    for (int q = 0; q < NVC_IMG_QLEVELS; q++)
        for (size_t b = 0; b < nb; b++) {
            double *lp = v->lp + ((size_t)q * nb + b) * k, tot = 0;
            for (size_t i = 0; i < k; i++) {
                double c = 0;
                for (int r = q - VQ_POOL; r <= q + VQ_POOL; r++)
                    if (r >= 0 && r < NVC_IMG_QLEVELS)
                        c += v->cnt[((size_t)r * nb + b) * k + i];
                lp[i] = c;
                tot += c;
            }
            for (size_t i = 0; i < k; i++)
                lp[i] = log2(lp[i] / tot);
        }
}

int nvc_img_vq_forward(NvcImgModel *m, NvcNn *nn, int train, uint64_t seed)
{
    NvcImgVq *v = m->vq;
    const int L = v->L, G = v->G, k = v->k, d = v->d, n = v->n, M = v->M;
    const size_t ny = (size_t)v->B * M * n, ncb = (size_t)L * G * k * d;
    int ret = nvc_nn_download(nn, v->y, m->a.y, ny);
    if (!ret)
        ret = nvc_nn_download(nn, v->cb, m->p.codebook, ncb);
    if (ret < 0)
        return ret;
    if (train)
        update_pmfs(v);
    double bits = 0.0;
    for (int b = 0; b < v->B; b++) {
        const float *y = v->y + (size_t)b * M * n;
        uint16_t *idx = v->idx + (size_t)b * L * G * n;
        /* residuals entering each level (for the backward pass) */
        for (int l = 0; l < L; l++)
            for (int g = 0; g < G; g++)
                for (int p = 0; p < n; p++) {
                    float *r = v->res + ((((size_t)b * L + l) * G + g) * n + p) * d;
                    for (int j = 0; j < d; j++) {
                        float x = y[(size_t)(g * d + j) * n + p];
                        for (int i = 0; i < l; i++)
                            x -= v->cb[(((size_t)i * G + g) * k + idx[((size_t)i * G + g) * n + p]) * d + j];
                        r[j] = x;
                    }
                    idx[((size_t)l * G + g) * n + p] =
                        (uint16_t)nearest(r, v->cb + ((size_t)l * G + g) * k * d, k, d);
                }
        nvc_img_vq_quantize(&m->cfg, v->cb, y, n, idx, v->yhat + (size_t)b * M * n);
        if (train)
            for (size_t i = 0; i < (size_t)L * G * k; i++)
                v->cnt[(size_t)m->q[b] * L * G * k + i] *= VQ_COUNT_DECAY;
        for (int l = 0; l < L; l++)
            for (int g = 0; g < G; g++) {
                const double *lp = v->lp + (((size_t)m->q[b] * L + l) * G + g) * k;
                for (int p = 0; p < n; p++) {
                    int i = idx[((size_t)l * G + g) * n + p];
                    bits -= lp[i];
                    if (train) {
                        v->usage[((size_t)l * G + g) * k + i] += 1.0;
                        v->cnt[(((size_t)m->q[b] * L + l) * G + g) * k + i] += 1.0;
                    }
                }
            }
    }
    if (train) {
        for (size_t i = 0; i < (size_t)L * G * k; i++)
            v->usage[i] *= VQ_USAGE_DECAY;
        v->steps++;
    }
    (void)seed;
    float bf[2] = { (float)bits, 0.0f };
    ret = nvc_nn_upload(nn, m->a.bits, bf, 2);
    return ret ? ret : nvc_nn_upload(nn, m->a.yhat, v->yhat, ny);
}

/* Rate relaxation gradient of one residual r (d) at level l, group g:
 * adds d R_soft / d r * w into dr. */
static void soft_rate_grad(const float *r, const float *words, const double *lp, int k, int d, float w,
                           float *dr)
{
    double p[4096], mx = -INFINITY, s = 0.0, rs = 0.0;
    for (int i = 0; i < k; i++) {
        p[i] = -dist2(r, words + (size_t)i * d, d) / VQ_TAU;
        mx = fmax(mx, p[i]);
    }
    for (int i = 0; i < k; i++)
        s += p[i] = exp(p[i] - mx);
    for (int i = 0; i < k; i++) {
        p[i] /= s;
        rs += p[i] * -lp[i];
    }
    for (int i = 0; i < k; i++) {
        /* dR/d dist_i = -(1/tau) p_i (c_i - R);  d dist_i / d r = 2 (r - C_i) */
        double gd = -p[i] * (-lp[i] - rs) / VQ_TAU * w;
        if (fabs(gd) < 1e-12)
            continue;
        const float *c = words + (size_t)i * d;
        for (int j = 0; j < d; j++)
            dr[j] += (float)(gd * 2.0 * (r[j] - c[j]));
    }
}

static void reassign_dead(NvcImgModel *m)
{
    NvcImgVq *v = m->vq;
    const int L = v->L, G = v->G, k = v->k, d = v->d, n = v->n;
    for (int l = 0; l < L; l++)
        for (int g = 0; g < G; g++)
            for (int i = 0; i < k; i++) {
                double *u = &v->usage[((size_t)l * G + g) * k + i];
                if (*u >= VQ_DEAD_USAGE * (1.0 / (1.0 - VQ_USAGE_DECAY)))
                    continue;
                /* a random residual of this batch, slightly perturbed */
                v->rng = v->rng * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t pick = (v->rng >> 33) % ((uint64_t)v->B * n);
                int b = (int)(pick / n), p = (int)(pick % n);
                const float *r = v->res + ((((size_t)b * L + l) * G + g) * n + p) * d;
                float *c = v->cb + (((size_t)l * G + g) * k + i) * d;
                for (int j = 0; j < d; j++) {
                    v->rng = v->rng * 6364136223846793005ull + 1442695040888963407ull;
                    c[j] = r[j] + 0.01f * ((float)((v->rng >> 40) & 0xffff) / 65536.0f - 0.5f);
                }
                *u = 1.0;
            }
}

int nvc_img_vq_backward(NvcImgModel *m, NvcNn *nn, float dbits)
{
    NvcImgVq *v = m->vq;
    const int L = v->L, G = v->G, k = v->k, d = v->d, n = v->n, M = v->M;
    const size_t ny = (size_t)v->B * M * n, ncb = (size_t)L * G * k * d;
    int ret = nvc_nn_download(nn, v->dyhat, m->d.yhat, ny);
    if (ret < 0)
        return ret;
    memcpy(v->dy, v->dyhat, ny * sizeof(float)); /* straight through */
    memset(v->gcb, 0, ncb * sizeof(float));
    for (int b = 0; b < v->B; b++) {
        const uint16_t *idx = v->idx + (size_t)b * L * G * n;
        const float *dyh = v->dyhat + (size_t)b * M * n;
        float *dy = v->dy + (size_t)b * M * n;
        for (int l = 0; l < L; l++)
            for (int g = 0; g < G; g++) {
                const double *lp = v->lp + (((size_t)m->q[b] * L + l) * G + g) * k;
                const float *words = v->cb + ((size_t)l * G + g) * k * d;
                for (int p = 0; p < n; p++) {
                    const int i = idx[((size_t)l * G + g) * n + p];
                    /* codeword <- decoder gradient */
                    for (int j = 0; j < d; j++)
                        v->gcb[(((size_t)l * G + g) * k + i) * d + j] += dyh[(size_t)(g * d + j) * n + p];
                    /* encoder <- relaxed rate */
                    float dr[64] = { 0 };
                    const float *r = v->res + ((((size_t)b * L + l) * G + g) * n + p) * d;
                    soft_rate_grad(r, words, lp, k, d, dbits, dr);
                    for (int j = 0; j < d; j++)
                        dy[(size_t)(g * d + j) * n + p] += dr[j];
                }
            }
    }
    if (v->steps % VQ_REASSIGN_EVERY == 0) {
        reassign_dead(m);
        if ((ret = nvc_nn_upload(nn, m->p.codebook, v->cb, ncb)) < 0)
            return ret;
    }
    /* d.y may already hold other gradients: add */
    float *tmp = malloc(ny * sizeof(float));
    if (!tmp)
        return NVC_ERR(ENOMEM);
    ret = nvc_nn_download(nn, tmp, m->d.y, ny);
    for (size_t i = 0; i < ny && !ret; i++)
        tmp[i] += v->dy[i];
    if (!ret)
        ret = nvc_nn_upload(nn, m->d.y, tmp, ny);
    free(tmp);
    return ret ? ret : nvc_nn_upload(nn, m->g.codebook, v->gcb, ncb);
}
