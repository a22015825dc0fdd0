/*
 * Vector-quantisation codebooks (multivariate mixture prior): k-means
 * fitting, nearest-codeword quantisation, index coding, serialisation.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/codebook.h"
#include "entropy/coder.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float dist2(const float *a, const float *b, uint32_t dim)
{
    float s = 0;
    for (uint32_t e = 0; e < dim; e++) {
        float t = a[e] - b[e];
        s += t * t;
    }
    return s;
}

/* Index of the nearest of k centroids (ties: lower index). */
static uint32_t nearest(const float *v, const float *c, uint32_t k, uint32_t dim, float *best_d)
{
    uint32_t best = 0;
    float bd = FLT_MAX;
    for (uint32_t j = 0; j < k; j++) {
        float d = dist2(v, c + (size_t)j * dim, dim);
        if (d < bd) {
            bd = d;
            best = j;
        }
    }
    if (best_d)
        *best_d = bd;
    return best;
}

/* ---- k-means ------------------------------------------------------------------- */

typedef struct Km {
    const float *x;
    size_t stride, ns;
    const size_t *sel; /* training vector i is x[sel[i] * stride] (NULL: i) */
    uint32_t dim, k;
    float *c;          /* [k][dim] */
    float *d2;         /* [ns] distance to the assigned / nearest centroid */
    uint32_t *assign;  /* [ns] */
} Km;

static const float *km_vec(const Km *m, size_t i)
{
    return m->x + (m->sel ? m->sel[i] : i) * m->stride;
}

/* k-means++: each next centroid drawn with probability proportional to the
 * squared distance to the nearest centroid so far. */
static void km_seed(Km *m, uint64_t seed)
{
    uint64_t s = seed;
    size_t first = splitmix64(&s) % m->ns;
    memcpy(m->c, km_vec(m, first), m->dim * sizeof(float));
    ptrdiff_t ns = (ptrdiff_t)m->ns;
#pragma omp parallel for schedule(static) if (ns >= 4096)
    for (ptrdiff_t i = 0; i < ns; i++)
        m->d2[i] = dist2(km_vec(m, (size_t)i), m->c, m->dim);
    for (uint32_t j = 1; j < m->k; j++) {
        double total = 0;
        for (size_t i = 0; i < m->ns; i++)
            total += m->d2[i];
        size_t pick = 0;
        double r = (double)(splitmix64(&s) >> 11) * 0x1p-53 * total;
        if (total > 0) {
            double acc = 0;
            for (pick = 0; pick < m->ns - 1; pick++) {
                acc += m->d2[pick];
                if (acc > r)
                    break;
            }
        } else {
            pick = splitmix64(&s) % m->ns;
        }
        float *cj = m->c + (size_t)j * m->dim;
        memcpy(cj, km_vec(m, pick), m->dim * sizeof(float));
#pragma omp parallel for schedule(static) if (ns >= 4096)
        for (ptrdiff_t i = 0; i < ns; i++) {
            float d = dist2(km_vec(m, (size_t)i), cj, m->dim);
            if (d < m->d2[i])
                m->d2[i] = d;
        }
    }
}

static size_t km_assign(Km *m)
{
    size_t changed = 0;
    ptrdiff_t ns = (ptrdiff_t)m->ns;
#pragma omp parallel for schedule(static) reduction(+ : changed) if (ns >= 1024)
    for (ptrdiff_t i = 0; i < ns; i++) {
        uint32_t a = nearest(km_vec(m, (size_t)i), m->c, m->k, m->dim, &m->d2[i]);
        changed += a != m->assign[i];
        m->assign[i] = a;
    }
    return changed;
}

static void km_update(Km *m, double *sum, uint64_t *cnt)
{
    memset(sum, 0, (size_t)m->k * m->dim * sizeof(*sum));
    memset(cnt, 0, m->k * sizeof(*cnt));
    for (size_t i = 0; i < m->ns; i++) {
        const float *v = km_vec(m, i);
        double *s = sum + (size_t)m->assign[i] * m->dim;
        for (uint32_t e = 0; e < m->dim; e++)
            s[e] += v[e];
        cnt[m->assign[i]]++;
    }
    for (uint32_t j = 0; j < m->k; j++) {
        float *c = m->c + (size_t)j * m->dim;
        if (cnt[j]) {
            for (uint32_t e = 0; e < m->dim; e++)
                c[e] = (float)(sum[(size_t)j * m->dim + e] / (double)cnt[j]);
            continue;
        }
        /* empty: move to the worst-fitted vector (lowest index on ties) */
        size_t worst = 0;
        for (size_t i = 1; i < m->ns; i++)
            if (m->d2[i] > m->d2[worst])
                worst = i;
        memcpy(c, km_vec(m, worst), m->dim * sizeof(float));
        m->d2[worst] = 0;
    }
}

int nvc_kmeans_fit(const float *x, size_t n, size_t stride, uint32_t dim, uint32_t k, const NvcKmeansOptions *opt,
                   float *centroids, uint64_t *counts)
{
    NvcKmeansOptions o = { .seed = 1, .iterations = 30 };
    if (opt)
        o = *opt;
    if (!n || !dim || !k || stride < dim)
        return NVC_ERR(EINVAL);
    Km m = { .x = x, .stride = stride, .ns = n, .dim = dim, .k = k, .c = centroids };
    size_t *sel = NULL;
    if (o.max_samples && n > o.max_samples) {
        m.ns = o.max_samples;
        sel = malloc(m.ns * sizeof(*sel));
        if (!sel)
            return NVC_ERR(ENOMEM);
        for (size_t i = 0; i < m.ns; i++)
            sel[i] = (size_t)((double)i * (double)n / (double)m.ns);
        m.sel = sel;
    }
    m.d2 = malloc(m.ns * sizeof(*m.d2));
    m.assign = malloc(m.ns * sizeof(*m.assign));
    double *sum = malloc((size_t)k * dim * sizeof(*sum));
    uint64_t *cnt = malloc(k * sizeof(*cnt));
    int ret = 0;
    if (!m.d2 || !m.assign || !sum || !cnt) {
        ret = NVC_ERR(ENOMEM);
        goto end;
    }
    memset(m.assign, 0xff, m.ns * sizeof(*m.assign));
    km_seed(&m, o.seed);
    for (uint32_t it = 0; it <= o.iterations; it++) {
        size_t changed = km_assign(&m);
        if (!changed || it == o.iterations)
            break;
        km_update(&m, sum, cnt);
    }
    if (counts) {
        memset(counts, 0, k * sizeof(*counts));
        for (size_t i = 0; i < m.ns; i++)
            counts[m.assign[i]]++;
    }
end:
    free(sel);
    free(m.d2);
    free(m.assign);
    free(sum);
    free(cnt);
    return ret;
}

/* ---- codebooks ------------------------------------------------------------------ */

static size_t nbooks(const NvcCodebook *cb)
{
    return (size_t)cb->levels * cb->groups;
}

static float *book(const NvcCodebook *cb, uint32_t l, uint32_t g)
{
    return cb->words + ((size_t)l * cb->groups + g) * cb->k * cb->dim;
}

static int build_pmf(NvcCodebook *cb)
{
    nvc_cdf_set_free(&cb->pmf);
    for (size_t b = 0; b < nbooks(cb); b++) {
        int ret = nvc_cdf_set_add(&cb->pmf, cb->freq + b * cb->k, cb->k, 0, 0);
        if (ret < 0)
            return ret;
    }
    return 0;
}

void nvc_codebook_free(NvcCodebook *cb)
{
    free(cb->words);
    free(cb->freq);
    nvc_cdf_set_free(&cb->pmf);
    memset(cb, 0, sizeof(*cb));
}

int nvc_codebook_init(NvcCodebook *cb, uint32_t dim, uint32_t groups, uint32_t levels, uint32_t k)
{
    memset(cb, 0, sizeof(*cb));
    if (dim < 1 || dim > NVC_CODEBOOK_MAX_DIM || groups < 1 || groups > NVC_CODEBOOK_MAX_GROUPS || levels < 1 ||
        levels > NVC_CODEBOOK_MAX_LEVELS || k < 2 || k > NVC_CODEBOOK_MAX_K)
        return NVC_ERR(EINVAL);
    cb->dim = dim;
    cb->groups = groups;
    cb->levels = levels;
    cb->k = k;
    size_t nw, nf;
    if (nvc_mul_size(nbooks(cb) * k, dim, &nw) || nvc_mul_size(nbooks(cb), k, &nf))
        return NVC_ERR(ERANGE);
    cb->words = calloc(nw, sizeof(*cb->words));
    cb->freq = malloc(nf * sizeof(*cb->freq));
    if (!cb->words || !cb->freq) {
        nvc_codebook_free(cb);
        return NVC_ERR(ENOMEM);
    }
    for (size_t i = 0; i < nf; i++)
        cb->freq[i] = NVC_CDF_TOTAL / k + (i % k < NVC_CDF_TOTAL % k);
    int ret = build_pmf(cb);
    if (ret)
        nvc_codebook_free(cb);
    return ret;
}

int nvc_codebook_set_pmf(NvcCodebook *cb, const uint64_t *counts)
{
    for (size_t b = 0; b < nbooks(cb); b++) {
        int ret = nvc_cdf_quantize(counts + b * cb->k, cb->k, cb->freq + b * cb->k);
        if (ret)
            return ret;
    }
    return build_pmf(cb);
}

void nvc_codebook_count(const NvcCodebook *cb, const uint16_t *idx, size_t n, uint64_t *counts)
{
    memset(counts, 0, nbooks(cb) * cb->k * sizeof(*counts));
    for (size_t b = 0; b < nbooks(cb); b++)
        for (size_t p = 0; p < n; p++)
            if (idx[b * n + p] < cb->k)
                counts[b * cb->k + idx[b * n + p]]++;
}

/* Quantise level l on the residual x - recon (recon updated in place). */
static void quantize_level(const NvcCodebook *cb, uint32_t l, const float *x, size_t n, uint16_t *idx, float *recon)
{
    size_t C = (size_t)cb->groups * cb->dim;
    ptrdiff_t np = (ptrdiff_t)n;
#pragma omp parallel for schedule(static) if (np * cb->k >= (1 << 16))
    for (ptrdiff_t p = 0; p < np; p++) {
        float r[NVC_CODEBOOK_MAX_DIM];
        for (uint32_t g = 0; g < cb->groups; g++) {
            const float *xv = x + (size_t)p * C + (size_t)g * cb->dim;
            float *rv = recon + (size_t)p * C + (size_t)g * cb->dim;
            for (uint32_t e = 0; e < cb->dim; e++)
                r[e] = xv[e] - rv[e];
            const float *words = book(cb, l, g);
            uint32_t j = nearest(r, words, cb->k, cb->dim, NULL);
            idx[((size_t)l * cb->groups + g) * n + (size_t)p] = (uint16_t)j;
            for (uint32_t e = 0; e < cb->dim; e++)
                rv[e] += words[(size_t)j * cb->dim + e];
        }
    }
}

int nvc_codebook_fit(NvcCodebook *cb, const float *x, size_t n, const NvcKmeansOptions *opt)
{
    NvcKmeansOptions o = { .seed = 1, .iterations = 30 };
    if (opt)
        o = *opt;
    size_t C = (size_t)cb->groups * cb->dim, nr, ni;
    if (!n || nvc_mul_size(n, C, &nr) || nvc_mul_size(n, nbooks(cb), &ni))
        return NVC_ERR(EINVAL);
    float *recon = calloc(nr, sizeof(*recon)), *res = malloc(nr * sizeof(*res));
    uint16_t *idx = malloc(ni * sizeof(*idx));
    uint64_t *counts = malloc(nbooks(cb) * cb->k * sizeof(*counts));
    int ret = 0;
    if (!recon || !res || !idx || !counts) {
        ret = NVC_ERR(ENOMEM);
        goto end;
    }
    for (uint32_t l = 0; l < cb->levels && !ret; l++) {
        for (size_t i = 0; i < nr; i++)
            res[i] = x[i] - recon[i];
        for (uint32_t g = 0; g < cb->groups && !ret; g++) {
            NvcKmeansOptions og = o;
            og.seed = o.seed + 0x632be59bd9b4e019ull * (l * cb->groups + g + 1);
            ret = nvc_kmeans_fit(res + (size_t)g * cb->dim, n, C, cb->dim, cb->k, &og, book(cb, l, g), NULL);
        }
        if (!ret)
            quantize_level(cb, l, x, n, idx, recon);
    }
    if (!ret) {
        nvc_codebook_count(cb, idx, n, counts);
        ret = nvc_codebook_set_pmf(cb, counts);
    }
end:
    free(recon);
    free(res);
    free(idx);
    free(counts);
    return ret;
}

int nvc_codebook_quantize(const NvcCodebook *cb, const float *x, size_t n, uint16_t *idx, float *recon)
{
    size_t C = (size_t)cb->groups * cb->dim, nr;
    if (nvc_mul_size(n, C, &nr))
        return NVC_ERR(ERANGE);
    float *r = recon ? recon : malloc(nr * sizeof(*r) + 1);
    if (!r)
        return NVC_ERR(ENOMEM);
    memset(r, 0, nr * sizeof(*r));
    for (uint32_t l = 0; l < cb->levels; l++)
        quantize_level(cb, l, x, n, idx, r);
    if (!recon)
        free(r);
    return 0;
}

void nvc_codebook_reconstruct(const NvcCodebook *cb, const uint16_t *idx, size_t n, float *out)
{
    size_t C = (size_t)cb->groups * cb->dim;
    memset(out, 0, n * C * sizeof(*out));
    for (uint32_t l = 0; l < cb->levels; l++)
        for (uint32_t g = 0; g < cb->groups; g++) {
            const float *words = book(cb, l, g);
            const uint16_t *ix = idx + ((size_t)l * cb->groups + g) * n;
            for (size_t p = 0; p < n; p++) {
                const float *w = words + (size_t)(ix[p] < cb->k ? ix[p] : 0) * cb->dim;
                float *o = out + p * C + (size_t)g * cb->dim;
                for (uint32_t e = 0; e < cb->dim; e++)
                    o[e] += w[e];
            }
        }
}

/* ---- index coding ----------------------------------------------------------------- */

int nvc_codebook_encode(const NvcCodebook *cb, const uint16_t *idx, size_t n, uint32_t nsub, NvcByteWriter *bw)
{
    size_t total;
    if (nvc_mul_size(n, nbooks(cb), &total))
        return NVC_ERR(ERANGE);
    int32_t *v = malloc(total * sizeof(*v) + 1);
    if (!v)
        return NVC_ERR(ENOMEM);
    for (size_t i = 0; i < total; i++)
        v[i] = idx[i];
    int ret = n ? nvc_factorized_encode(&cb->pmf, 0, v, total, n, nsub, bw)
                : nvc_factorized_encode(&cb->pmf, 0, v, 0, 1, nsub, bw);
    free(v);
    return ret;
}

int nvc_codebook_decode(const NvcCodebook *cb, NvcByteReader *br, uint16_t *idx, size_t n)
{
    size_t total;
    if (nvc_mul_size(n, nbooks(cb), &total))
        return NVC_ERR(ERANGE);
    int32_t *v = malloc(total * sizeof(*v) + 1);
    if (!v)
        return NVC_ERR(ENOMEM);
    int ret = nvc_factorized_decode(&cb->pmf, 0, br, v, total, n ? n : 1);
    if (!ret)
        for (size_t i = 0; i < total; i++)
            idx[i] = (uint16_t)v[i]; /* tables without escape: 0 <= v < k */
    free(v);
    return ret;
}

/* ---- serialisation ------------------------------------------------------------------- */

int nvc_codebook_write(const NvcCodebook *cb, NvcByteWriter *bw)
{
    nvc_bw_u16(bw, cb->dim);
    nvc_bw_u16(bw, cb->groups);
    nvc_bw_u8(bw, cb->levels);
    nvc_bw_u32(bw, cb->k);
    size_t nw = nbooks(cb) * cb->k * cb->dim;
    for (size_t i = 0; i < nw; i++) {
        uint32_t u;
        memcpy(&u, &cb->words[i], 4);
        nvc_bw_u32(bw, u);
    }
    for (size_t b = 0; b < nbooks(cb); b++)
        for (uint32_t j = 0; j + 1 < cb->k; j++)
            nvc_bw_u16(bw, cb->freq[b * cb->k + j] - 1);
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

int nvc_codebook_read(NvcCodebook *cb, NvcByteReader *br)
{
    memset(cb, 0, sizeof(*cb));
    uint32_t dim = nvc_br_u16(br), groups = nvc_br_u16(br), levels = nvc_br_u8(br), k = nvc_br_u32(br);
    if (br->error || dim < 1 || dim > NVC_CODEBOOK_MAX_DIM || groups < 1 || groups > NVC_CODEBOOK_MAX_GROUPS ||
        levels < 1 || levels > NVC_CODEBOOK_MAX_LEVELS || k < 2 || k > NVC_CODEBOOK_MAX_K)
        return NVC_ERR_CORRUPT;
    /* everything must be present before anything is allocated */
    size_t nb = (size_t)levels * groups, nw, bytes, fbytes;
    if (nvc_mul_size(nb * k, dim, &nw) || nvc_mul_size(nw, 4, &bytes) || nvc_mul_size(nb * (k - 1), 2, &fbytes) ||
        bytes > nvc_br_left(br) || fbytes > nvc_br_left(br) - bytes)
        return NVC_ERR_CORRUPT;
    int ret = nvc_codebook_init(cb, dim, groups, levels, k);
    if (ret)
        return ret;
    for (size_t i = 0; i < nw; i++) {
        uint32_t u = nvc_br_u32(br);
        if ((u >> 23 & 0xff) == 0xff) { /* inf / NaN */
            nvc_codebook_free(cb);
            return NVC_ERR_CORRUPT;
        }
        memcpy(&cb->words[i], &u, 4);
    }
    for (size_t b = 0; b < nb; b++) {
        uint64_t sum = 0;
        uint32_t *f = cb->freq + b * k;
        for (uint32_t j = 0; j + 1 < k; j++)
            sum += f[j] = nvc_br_u16(br) + 1u;
        if (sum >= NVC_CDF_TOTAL) {
            nvc_codebook_free(cb);
            return NVC_ERR_CORRUPT;
        }
        f[k - 1] = NVC_CDF_TOTAL - (uint32_t)sum;
    }
    ret = br->error ? NVC_ERR_CORRUPT : build_pmf(cb);
    if (ret)
        nvc_codebook_free(cb);
    return ret;
}
