/*
 * Integer prior networks (nvc/image_int.h). Integer arithmetic only: no
 * floating point and no libm anywhere in this file.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nvc/common.h"
#include "nvc/image_int.h"
#include "nn/clones.h"

/* floor((v + 2^(s-1)) / 2^s) for |v| < 2^62, without shifting negatives */
static inline int64_t shr_round(int64_t v, int s)
{
    if (s == 0)
        return v;
    v += (int64_t)1 << (s - 1);
    return v >= 0 ? v >> s : -((-v + ((int64_t)1 << s) - 1) >> s);
}

static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline int32_t requant(const NvcIntConv *c, int o, int64_t acc)
{
    int64_t r = shr_round(acc * c->mul[o], c->shift[o]);
    return (int32_t)(c->relu ? clamp64(r, 0, NVC_INT_ACT_MAX) : clamp64(r, -NVC_INT_OUT_MAX, NVC_INT_OUT_MAX));
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* One output channel: tot (n) = b + sum of the taps, each tap summed in acc.
 * Integer arithmetic is exact whatever the order, so the vectorised loops
 * give the same values on every instruction set (nvc_int_conv_check bounds
 * every partial sum of a tap within int32). */
NVC_VEC_CLONES static void conv_channel(const NvcIntConv *c, int o, const int32_t *in, int h, int w,
                                        int32_t *restrict acc, int64_t *restrict tot)
{
    const int k = c->k, r = k / 2, cig = c->dw ? 1 : c->ci;
    const size_t n = (size_t)h * w;
    const int64_t b = c->b[o];
#pragma omp simd
    for (size_t p = 0; p < n; p++)
        tot[p] = b;
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            const int dy = ky - r, dx = kx - r;
            const int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h;
            const int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
            memset(acc, 0, n * sizeof(*acc));
            for (int i = 0; i < cig; i++) {
                const int32_t wv = c->w[(((size_t)o * cig + i) * k + ky) * k + kx];
                if (!wv)
                    continue;
                const int32_t *src = in + (size_t)(c->dw ? o : i) * n;
                for (int y = y0; y < y1; y++) {
                    const int32_t *restrict s = src + (size_t)(y + dy) * w + dx;
                    int32_t *restrict a = acc + (size_t)y * w;
#pragma omp simd
                    for (int x = x0; x < x1; x++)
                        a[x] += wv * s[x];
                }
            }
#pragma omp simd
            for (size_t p = 0; p < n; p++)
                tot[p] += acc[p];
        }
}

/* ---- dense convs: tiles of 16 positions x IOB output channels -------------------- */

enum { IOB = 4, IVL = 16 };
typedef int32_t ivec __attribute__((vector_size(IVL * sizeof(int32_t))));

/* tot (IOB, IVL) = bias + the per-tap int32 sums over the input channels of
 * one tile: xp the zero-padded planes (stride plane, row stride Wp) at the
 * tile's first position, wp the packed weights of the block [tap][ci][IOB].
 * The same integer values as conv_channel, by construction of the sums. */
NVC_VEC_CLONES static void conv_tile(const int32_t *xp, size_t plane, int Wp, int ci, int k, const int32_t *wp,
                                     const int64_t *bias, int64_t *tot)
{
    for (int j = 0; j < IOB; j++)
        for (int l = 0; l < IVL; l++)
            tot[j * IVL + l] = bias[j];
    for (int t = 0; t < k * k; t++) {
        const int32_t *s = xp + (size_t)(t / k) * Wp + t % k, *wt = wp + (size_t)t * ci * IOB;
        ivec a[IOB];
        for (int j = 0; j < IOB; j++)
            a[j] = (ivec){ 0 };
        for (int i = 0; i < ci; i++, s += plane, wt += IOB) {
            ivec v;
            memcpy(&v, s, sizeof(v));
            for (int j = 0; j < IOB; j++)
                a[j] += wt[j] * v;
        }
        for (int j = 0; j < IOB; j++)
            for (int l = 0; l < IVL; l++)
                tot[j * IVL + l] += a[j][l];
    }
}

static void conv_dense(const NvcIntConv *c, const int32_t *in, int h, int w, int32_t *out, int nt, int32_t *xpad,
                       int32_t *wpk)
{
    const int k = c->k, r = k / 2, ci = c->ci, kk = k * k, nb = (c->co + IOB - 1) / IOB;
    const int w16 = (w + IVL - 1) / IVL * IVL, Wp = w16 + 2 * r;
    const size_t plane = (size_t)(h + 2 * r) * Wp;
    for (int i = 0; i < ci; i++) {
        int32_t *dst = xpad + (size_t)i * plane;
        memset(dst, 0, plane * sizeof(*dst));
        for (int y = 0; y < h; y++)
            memcpy(dst + (size_t)(y + r) * Wp + r, in + ((size_t)i * h + y) * w, (size_t)w * sizeof(*dst));
    }
    /* wpk[block][tap][i][j] = w[o = block IOB + j][i][tap], 0 past co */
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < kk; t++)
            for (int i = 0; i < ci; i++)
                for (int j = 0; j < IOB; j++) {
                    const int o = b * IOB + j;
                    wpk[(((size_t)b * kk + t) * ci + i) * IOB + j] = o < c->co ? c->w[((size_t)o * ci + i) * kk + t] : 0;
                }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int u = 0; u < nb * h; u++) {
        const int b = u / h, y = u % h, o0 = b * IOB, no = c->co - o0 < IOB ? c->co - o0 : IOB;
        int64_t bias[IOB], tot[IOB * IVL];
        for (int j = 0; j < IOB; j++)
            bias[j] = j < no ? c->b[o0 + j] : 0;
        for (int x0 = 0; x0 < w; x0 += IVL) {
            conv_tile(xpad + (size_t)y * Wp + x0, plane, Wp, ci, k, wpk + (size_t)b * kk * ci * IOB, bias, tot);
            for (int j = 0; j < no; j++)
                for (int l = 0; l < IVL && x0 + l < w; l++)
                    out[((size_t)(o0 + j) * h + y) * w + x0 + l] = requant(c, o0 + j, tot[j * IVL + l]);
        }
    }
}

void nvc_int_conv(const NvcIntConv *c, const int32_t *in, int h, int w, int32_t *out, int threads)
{
    const size_t n = (size_t)h * w;
    const int nt = threads > 0 ? threads : max_threads();
    if (!c->dw) {
        const int r = c->k / 2, Wp = (w + IVL - 1) / IVL * IVL + 2 * r;
        int32_t *xpad = malloc((size_t)c->ci * (h + 2 * r) * Wp * sizeof(*xpad));
        int32_t *wpk = malloc((size_t)(c->co + IOB - 1) / IOB * IOB * c->ci * c->k * c->k * sizeof(*wpk));
        if (xpad && wpk) {
            conv_dense(c, in, h, w, out, nt, xpad, wpk);
            free(xpad);
            free(wpk);
            return;
        }
        free(xpad);
        free(wpk);
    }
    int32_t *acc = malloc((size_t)nt * n * sizeof(*acc));
    int64_t *tot = malloc((size_t)nt * n * sizeof(*tot));
    if (!acc || !tot) {
        /* one channel at a time with what a single thread needs */
        free(acc);
        free(tot);
        acc = malloc(n * sizeof(*acc));
        tot = malloc(n * sizeof(*tot));
        for (int o = 0; o < c->co && acc && tot; o++) {
            conv_channel(c, o, in, h, w, acc, tot);
            for (size_t p = 0; p < n; p++)
                out[(size_t)o * n + p] = requant(c, o, tot[p]);
        }
        if (!acc || !tot)
            memset(out, 0, (size_t)c->co * n * sizeof(*out));
        free(acc);
        free(tot);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int o = 0; o < c->co; o++) {
        const int t = thread_id();
        conv_channel(c, o, in, h, w, acc + (size_t)t * n, tot + (size_t)t * n);
        for (size_t p = 0; p < n; p++)
            out[(size_t)o * n + p] = requant(c, o, tot[(size_t)t * n + p]);
    }
    free(acc);
    free(tot);
}

void nvc_int_pixel_shuffle(const int32_t *in, int C, int h, int w, int32_t *out)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                const int32_t *src = in + (size_t)(c * 4 + i * 2 + j) * h * w;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        out[((size_t)c * 2 * h + 2 * y + i) * 2 * w + 2 * x + j] = src[(size_t)y * w + x];
            }
}

/* ---- layers: storage and checks -------------------------------------------------- */

int nvc_int_conv_alloc(NvcIntConv *c, int ci, int co, int k, int dw, int relu)
{
    memset(c, 0, sizeof(*c));
    c->ci = ci, c->co = co, c->k = k, c->dw = dw, c->relu = relu;
    const size_t nw = (size_t)co * (dw ? 1 : ci) * k * k;
    c->w = calloc(nw, sizeof(*c->w));
    c->b = calloc(co, sizeof(*c->b));
    c->mul = calloc(co, sizeof(*c->mul));
    c->shift = calloc(co, sizeof(*c->shift));
    if (!c->w || !c->b || !c->mul || !c->shift) {
        nvc_int_conv_free(c);
        return NVC_ERR(ENOMEM);
    }
    return 0;
}

void nvc_int_conv_free(NvcIntConv *c)
{
    free(c->w);
    free(c->b);
    free(c->mul);
    free(c->shift);
    memset(c, 0, sizeof(*c));
}

int nvc_int_conv_check(const NvcIntConv *c)
{
    if (c->ci < 1 || c->co < 1 || c->ci > 4096 || c->co > 16384 || (c->k != 1 && c->k != 3) ||
        (c->dw && c->ci != c->co))
        return NVC_ERR_CORRUPT;
    const int k2 = c->k * c->k, cig = c->dw ? 1 : c->ci;
    for (int o = 0; o < c->co; o++) {
        if (c->mul[o] < 0 || c->mul[o] >= NVC_INT_MUL_MAX || c->shift[o] > NVC_INT_SHIFT_MAX)
            return NVC_ERR_CORRUPT;
        for (int t = 0; t < k2; t++) {
            int64_t s = 0;
            for (int i = 0; i < cig; i++) {
                int32_t v = c->w[((size_t)o * cig + i) * k2 + t];
                s += v < 0 ? -(int64_t)v : v;
            }
            /* inputs are within [-4095, 4095]: each tap's sum stays in int32 */
            if (s * NVC_INT_ACT_MAX > INT32_MAX)
                return NVC_ERR_CORRUPT;
        }
    }
    return 0;
}

int nvc_int_conv_read(NvcIntConv *c, NvcByteReader *br)
{
    int ci = nvc_br_u16(br), co = nvc_br_u16(br), k = nvc_br_u8(br), dw = nvc_br_u8(br), relu = nvc_br_u8(br);
    if (br->error || ci < 1 || co < 1 || (k != 1 && k != 3) || dw > 1 || relu > 1 || (dw && ci != co))
        return NVC_ERR_CORRUPT;
    const size_t nw = (size_t)co * (dw ? 1 : ci) * k * k;
    if (nvc_br_left(br) < nw * 2 + (size_t)co * 9)
        return NVC_ERR_CORRUPT;
    int ret = nvc_int_conv_alloc(c, ci, co, k, dw, relu);
    if (ret < 0)
        return ret;
    for (size_t i = 0; i < nw; i++)
        c->w[i] = (int16_t)nvc_br_u16(br);
    for (int o = 0; o < co; o++)
        c->b[o] = (int32_t)nvc_br_u32(br);
    for (int o = 0; o < co; o++)
        c->mul[o] = (int32_t)nvc_br_u32(br);
    for (int o = 0; o < co; o++)
        c->shift[o] = nvc_br_u8(br);
    if (br->error || nvc_int_conv_check(c) < 0) {
        nvc_int_conv_free(c);
        return NVC_ERR_CORRUPT;
    }
    return 0;
}

int nvc_int_conv_write(const NvcIntConv *c, NvcByteWriter *bw)
{
    nvc_bw_u16(bw, (unsigned)c->ci);
    nvc_bw_u16(bw, (unsigned)c->co);
    nvc_bw_u8(bw, (unsigned)c->k);
    nvc_bw_u8(bw, (unsigned)c->dw);
    nvc_bw_u8(bw, (unsigned)c->relu);
    const size_t nw = (size_t)c->co * (c->dw ? 1 : c->ci) * c->k * c->k;
    for (size_t i = 0; i < nw; i++)
        nvc_bw_u16(bw, (uint16_t)c->w[i]);
    for (int o = 0; o < c->co; o++)
        nvc_bw_u32(bw, (uint32_t)c->b[o]);
    for (int o = 0; o < c->co; o++)
        nvc_bw_u32(bw, (uint32_t)c->mul[o]);
    for (int o = 0; o < c->co; o++)
        nvc_bw_u8(bw, c->shift[o]);
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

/* ---- the prior's layers ----------------------------------------------------------- */

static NvcIntConv *layer(NvcImgInt *ii, int i)
{
    /* file order: hs.0-4, prior.0, ctx.1-3 (in, dw, mid, out) */
    return i < 5 ? &ii->hs[i] : i == 5 ? &ii->p0 : &ii->ctx[(i - 6) / 4][(i - 6) % 4];
}

#define NVC_IMG_INT_LAYERS 18

void nvc_img_int_free(NvcImgInt *ii)
{
    for (int i = 0; i < NVC_IMG_INT_LAYERS; i++)
        nvc_int_conv_free(layer(ii, i));
    free(ii->zscale_q16);
    free(ii->zsidx);
    memset(ii, 0, sizeof(*ii));
}

/* Expected shape of layer i: ci, co, k, dw, relu. */
static void layer_shape(const NvcImgInt *ii, int i, int s[5])
{
    const int P = ii->P;
    static const int ks[5] = { 3, 1, 3, 1, 1 };
    if (i < 5) {
        s[0] = i == 0 ? ii->Cz : P, s[1] = (i == 1 || i == 3) ? 4 * P : P, s[2] = ks[i], s[3] = 0, s[4] = 1;
    } else if (i == 5) {
        s[0] = P, s[1] = ii->E, s[2] = 1, s[3] = 0, s[4] = 0;
    } else {
        const int j = (i - 6) % 4;
        s[0] = j == 0 ? ii->M + P : P, s[1] = j == 3 ? ii->E : P, s[2] = j == 1 ? 3 : 1, s[3] = j == 1;
        s[4] = j != 3;
    }
}

int nvc_img_int_read(NvcImgInt *ii, int M, int Cz, int P, int K, NvcByteReader *br)
{
    memset(ii, 0, sizeof(*ii));
    if (M < 4 || M % 4 || K < 1 || K > NVC_INT_KMAX || Cz < 1 || P < 1)
        return NVC_ERR_CORRUPT;
    ii->M = M, ii->Cz = Cz, ii->P = P, ii->K = K;
    ii->G = K == 1 ? 2 : 1 + 3 * K;
    ii->E = ii->G * M;
    uint32_t n = nvc_br_u16(br);
    ii->st_lmin = (int32_t)nvc_br_u32(br);
    ii->st_lmax = (int32_t)nvc_br_u32(br);
    if (br->error || nvc_scale_table_init(&ii->st, n, ii->st_lmin, ii->st_lmax) < 0)
        return NVC_ERR_CORRUPT;
    const size_t nz = (size_t)NVC_INT_QLEVELS * Cz;
    ii->zscale_q16 = malloc(nz * sizeof(*ii->zscale_q16));
    ii->zsidx = malloc(nz * sizeof(*ii->zsidx));
    if (!ii->zscale_q16 || !ii->zsidx) {
        nvc_img_int_free(ii);
        return NVC_ERR(ENOMEM);
    }
    for (size_t i = 0; i < nz; i++) {
        ii->zscale_q16[i] = nvc_br_u32(br);
        if (!ii->zscale_q16[i])
            br->error = 1;
        ii->zsidx[i] = (uint16_t)nvc_scale_table_index(&ii->st, ii->zscale_q16[i]);
    }
    int ret = br->error ? NVC_ERR_CORRUPT : 0;
    for (int i = 0; i < NVC_IMG_INT_LAYERS && !ret; i++) {
        int s[5];
        layer_shape(ii, i, s);
        NvcIntConv *c = layer(ii, i);
        ret = nvc_int_conv_read(c, br);
        if (!ret && (c->ci != s[0] || c->co != s[1] || c->k != s[2] || c->dw != s[3] || c->relu != s[4]))
            ret = NVC_ERR_CORRUPT;
    }
    if (ret < 0)
        nvc_img_int_free(ii);
    return ret;
}

int nvc_img_int_write(const NvcImgInt *ii, NvcByteWriter *bw)
{
    nvc_bw_u16(bw, ii->st.n);
    nvc_bw_u32(bw, (uint32_t)ii->st_lmin);
    nvc_bw_u32(bw, (uint32_t)ii->st_lmax);
    for (size_t i = 0; i < (size_t)NVC_INT_QLEVELS * ii->Cz; i++)
        nvc_bw_u32(bw, ii->zscale_q16[i]);
    int ret = 0;
    for (int i = 0; i < NVC_IMG_INT_LAYERS && !ret; i++)
        ret = nvc_int_conv_write(layer((NvcImgInt *)ii, i), bw);
    return ret ? ret : bw->error ? NVC_ERR(ENOMEM) : 0;
}

/* ---- inference --------------------------------------------------------------------- */

int nvc_img_int_hyper(const NvcImgInt *ii, const int32_t *zhat, int h6, int w6, int32_t *h)
{
    const int P = ii->P;
    const size_t n6 = (size_t)h6 * w6, nz = (size_t)ii->Cz * n6;
    int32_t *zc = malloc(nz * sizeof(*zc));
    int32_t *t0 = malloc((size_t)P * n6 * sizeof(*t0));
    int32_t *t1 = malloc((size_t)4 * P * n6 * sizeof(*t1));
    int32_t *t2 = malloc((size_t)4 * P * n6 * sizeof(*t2));
    int32_t *t3 = malloc((size_t)4 * P * n6 * sizeof(*t3));
    int32_t *t4 = malloc((size_t)16 * P * n6 * sizeof(*t4));
    int32_t *t5 = malloc((size_t)16 * P * n6 * sizeof(*t5));
    int ret = zc && t0 && t1 && t2 && t3 && t4 && t5 ? 0 : NVC_ERR(ENOMEM);
    if (!ret) {
        for (size_t i = 0; i < nz; i++)
            zc[i] = (int32_t)clamp64(zhat[i], -NVC_INT_IN_MAX, NVC_INT_IN_MAX);
        nvc_int_conv(&ii->hs[0], zc, h6, w6, t0, ii->threads);
        nvc_int_conv(&ii->hs[1], t0, h6, w6, t1, ii->threads);
        nvc_int_pixel_shuffle(t1, P, h6, w6, t2);
        nvc_int_conv(&ii->hs[2], t2, 2 * h6, 2 * w6, t3, ii->threads);
        nvc_int_conv(&ii->hs[3], t3, 2 * h6, 2 * w6, t4, ii->threads);
        nvc_int_pixel_shuffle(t4, P, 2 * h6, 2 * w6, t5);
        nvc_int_conv(&ii->hs[4], t5, 4 * h6, 4 * w6, h, ii->threads);
    }
    free(zc);
    free(t0);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    free(t5);
    return ret;
}

void nvc_img_step_params_free(NvcImgStepParams *sp)
{
    free(sp->pos);
    free(sp->ctr_q8);
    free(sp->sidx);
    free(sp->wq16);
    free(sp->mean_q8);
    memset(sp, 0, sizeof(*sp));
}

uint32_t nvc_img_int_scale(int32_t t_q12)
{
    int64_t s = NVC_INT_SCALE_MIN_Q16 + (((int64_t)t_q12 * t_q12) >> 8);
    return s > 0xffffffffll ? 0xffffffffu : (uint32_t)s;
}

void nvc_img_int_softmax(const int32_t *l, int K, uint32_t *w)
{
    int32_t mx = l[0];
    for (int k = 1; k < K; k++)
        mx = l[k] > mx ? l[k] : mx;
    uint64_t e[NVC_INT_KMAX], rem[NVC_INT_KMAX], sum = 0;
    for (int k = 0; k < K; k++) {
        int64_t d = (int64_t)mx - l[k]; /* Q12, >= 0 */
        if (d > (32 << NVC_INT_OUT_FRAC))
            d = 32 << NVC_INT_OUT_FRAC;
        /* e^-d = 2^-(d log2 e): Q24 argument, Q31 result */
        uint64_t u = ((uint64_t)d << (24 - NVC_INT_OUT_FRAC)) * NVC_LOG2E_Q30 >> 30;
        e[k] = u >= (32u << 24) ? 0 : nvc_dist_exp2_neg((uint32_t)u);
        sum += e[k];
    }
    uint32_t total = 0;
    for (int k = 0; k < K; k++) {
        w[k] = (uint32_t)((e[k] << 16) / sum);
        rem[k] = (e[k] << 16) % sum;
        total += w[k];
    }
    /* the remaining units to the largest remainders, lower index first on ties */
    while (total < 65536) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (rem[k] > rem[best])
                best = k;
        w[best]++;
        rem[best] = 0;
        total++;
    }
}

/* Parity pattern (py, px) of channel m's elements coded at step s. */
static void step_pattern(int M, int m, int s, int *py, int *px)
{
    for (int p = 0; p < 4; p++)
        if (nvc_img_int_step_of(M, m, p >> 1, p & 1) == s) {
            *py = p >> 1, *px = p & 1;
            return;
        }
}

/* a (np) = the 1x1 tap of output e over the features f (ci, np), without the
 * bias: one tap, so every partial sum is within int32 (nvc_int_conv_check). */
NVC_VEC_CLONES static void sparse_dot(const NvcIntConv *c, int e, const int32_t *f, size_t np, int32_t *restrict a)
{
    memset(a, 0, np * sizeof(*a));
    for (int i = 0; i < c->ci; i++) {
        const int32_t wv = c->w[(size_t)e * c->ci + i];
        const int32_t *restrict fi = f + (size_t)i * np;
        if (wv)
#pragma omp simd
            for (size_t j = 0; j < np; j++)
                a[j] += wv * fi[j];
    }
}

/* Output layer restricted to the elements of step s: prm (E, n). The
 * features are first split by 2x2 phase (sub[phase] (ci, np)) so that the
 * channels of one phase are contiguous. */
static int out_layer_sparse(const NvcImgInt *ii, const NvcIntConv *c, const int32_t *feat, int hh, int ww, int s,
                            int32_t *prm)
{
    const size_t n = (size_t)hh * ww;
    const int nt = ii->threads > 0 ? ii->threads : max_threads();
    int32_t *sub = malloc(n * c->ci * sizeof(*sub));
    int32_t *acc = malloc((size_t)nt * (n / 4 + 1) * sizeof(*acc));
    if (!sub || !acc) {
        free(sub);
        free(acc);
        return NVC_ERR(ENOMEM);
    }
    size_t off[5] = { 0 }, np[4];
    for (int ph = 0; ph < 4; ph++) {
        np[ph] = (size_t)((hh - (ph >> 1) + 1) / 2) * ((ww - (ph & 1) + 1) / 2);
        off[ph + 1] = off[ph] + np[ph] * c->ci;
    }
    for (int ph = 0; ph < 4; ph++)
        for (int i = 0; i < c->ci; i++) {
            int32_t *d = sub + off[ph] + (size_t)i * np[ph];
            for (int y = ph >> 1; y < hh; y += 2)
                for (int x = ph & 1; x < ww; x += 2)
                    *d++ = feat[(size_t)i * n + (size_t)y * ww + x];
        }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int e = 0; e < c->co; e++) {
        int py = 0, px = 0;
        step_pattern(ii->M, e % ii->M, s, &py, &px);
        const int ph = py * 2 + px;
        int32_t *a = acc + (size_t)thread_id() * (n / 4 + 1);
        sparse_dot(c, e, sub + off[ph], np[ph], a);
        size_t j = 0;
        for (int y = py; y < hh; y += 2)
            for (int x = px; x < ww; x += 2)
                prm[(size_t)e * n + (size_t)y * ww + x] = requant(c, e, (int64_t)c->b[e] + a[j++]);
    }
    free(sub);
    free(acc);
    return 0;
}

static int32_t q12_to_q8(int32_t v)
{
    return (int32_t)shr_round(v, NVC_INT_OUT_FRAC - 8);
}

static int fill_step(const NvcImgInt *ii, int s, const int32_t *prm, int hh, int ww, NvcImgStepParams *sp)
{
    const int M = ii->M, K = ii->K;
    const size_t n = (size_t)hh * ww;
    size_t cnt = 0;
    for (int m = 0; m < M; m++)
        for (int y = 0; y < hh; y++)
            for (int x = 0; x < ww; x++)
                cnt += nvc_img_int_step_of(M, m, y, x) == s;
    memset(sp, 0, sizeof(*sp));
    sp->n = cnt;
    sp->pos = malloc((cnt + 1) * sizeof(*sp->pos));
    sp->ctr_q8 = malloc((cnt + 1) * sizeof(*sp->ctr_q8));
    sp->sidx = malloc((cnt + 1) * K * sizeof(*sp->sidx));
    if (K > 1) {
        sp->wq16 = malloc((cnt + 1) * K * sizeof(*sp->wq16));
        sp->mean_q8 = malloc((cnt + 1) * K * sizeof(*sp->mean_q8));
    }
    if (!sp->pos || !sp->ctr_q8 || !sp->sidx || (K > 1 && (!sp->wq16 || !sp->mean_q8))) {
        nvc_img_step_params_free(sp);
        return NVC_ERR(ENOMEM);
    }
    size_t j = 0;
    for (int m = 0; m < M; m++)
        for (int y = 0; y < hh; y++)
            for (int x = 0; x < ww; x++) {
                if (nvc_img_int_step_of(M, m, y, x) != s)
                    continue;
                const size_t p = (size_t)y * ww + x;
#define PRM(g, c) prm[((size_t)(g) * M + (c)) * n + p]
                sp->pos[j] = (uint32_t)((size_t)m * n + p);
                sp->ctr_q8[j] = q12_to_q8(PRM(0, m));
                if (K == 1) {
                    sp->sidx[j] = (uint16_t)nvc_scale_table_index(&ii->st, nvc_img_int_scale(PRM(1, m)));
                } else {
                    int32_t lg[NVC_INT_KMAX];
                    for (int k = 0; k < K; k++) {
                        lg[k] = PRM(1 + k, m);
                        sp->mean_q8[j * K + k] = q12_to_q8(PRM(1 + K + k, m));
                        sp->sidx[j * K + k] =
                            (uint16_t)nvc_scale_table_index(&ii->st, nvc_img_int_scale(PRM(1 + 2 * K + k, m)));
                    }
                    nvc_img_int_softmax(lg, K, sp->wq16 + j * K);
                }
#undef PRM
                j++;
            }
    return 0;
}

int nvc_img_int_step(const NvcImgInt *ii, int s, const int32_t *h, const int64_t *yq8, int hh, int ww,
                     NvcImgStepParams *sp)
{
    const int M = ii->M, P = ii->P;
    const size_t n = (size_t)hh * ww;
    int32_t *prm = malloc((size_t)ii->E * n * sizeof(*prm));
    int32_t *in = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL;
    int ret = prm ? 0 : NVC_ERR(ENOMEM);
    const int32_t *feat = h;
    const NvcIntConv *out = &ii->p0;
    if (!ret && s > 0) {
        const NvcIntConv *L = ii->ctx[s - 1];
        in = malloc((size_t)(M + P) * n * sizeof(*in));
        r1 = malloc((size_t)P * n * sizeof(*r1));
        r2 = malloc((size_t)P * n * sizeof(*r2));
        r3 = malloc((size_t)P * n * sizeof(*r3));
        if (!in || !r1 || !r2 || !r3) {
            ret = NVC_ERR(ENOMEM);
        } else {
            /* y_hat so far in Q4, clamped */
            for (size_t i = 0; i < (size_t)M * n; i++) {
                int64_t q = clamp64(yq8[i], -((int64_t)1 << 40), (int64_t)1 << 40);
                in[i] = (int32_t)clamp64(shr_round(q, 4), -NVC_INT_IN_MAX, NVC_INT_IN_MAX);
            }
            memcpy(in + (size_t)M * n, h, (size_t)P * n * sizeof(*in));
            nvc_int_conv(&L[0], in, hh, ww, r1, ii->threads);
            nvc_int_conv(&L[1], r1, hh, ww, r2, ii->threads);
            nvc_int_conv(&L[2], r2, hh, ww, r3, ii->threads);
            feat = r3;
            out = &L[3];
        }
    }
    if (!ret)
        ret = out_layer_sparse(ii, out, feat, hh, ww, s, prm);
    if (!ret)
        ret = fill_step(ii, s, prm, hh, ww, sp);
    free(prm);
    free(in);
    free(r1);
    free(r2);
    free(r3);
    return ret;
}
