/*
 * The video P-frame model (nvc/video_model.h) on a tiny configuration:
 * - the classic flow recovers a known sub-pixel translation of a real frame;
 * - the backward pass against central finite differences of the training
 *   loss where the loss is smooth in a parameter: decoder-side tensors under
 *   the distortion over a two-frame chain (the second frame's gradient flows
 *   back into the first through the decoded feature), prior tensors under
 *   the rate (lambda ~ 0);
 * - training on chains of a real clip lowers the loss, and gives the same
 *   bits on 1 and 2 threads.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"
#include "tests/grad_check.h"

#include <math.h>

#include "codec/crc.h"
#include "entropy/coder.h"
#include "nvc/image_latent.h"

#include "nvc/video_data.h"
#include "nvc/video_file.h"
#include "nvc/video_flow.h"
#include "nvc/video_int.h"
#include "nvc/video_intra.h"
#include "nvc/video_model.h"

#define S 64

static int tiny_blend = 0; /* the architecture of tiny(): loop tests run every kind */

static void tiny(NvcVidConfig *c, float lambda)
{
    nvc_vid_config_default(c);
    c->blend = tiny_blend;
    c->g1 = 4, c->g2 = 6, c->g4 = 8, c->g8 = 8, c->M = 8, c->Cz = 4, c->P = 8;
    c->cm = 4, c->Mm = 4, c->Czm = 4, c->Pm = 8;
    if (lambda > 0)
        c->lambda_min = c->lambda_max = lambda;
}

/* B chains of F frames (F, B, 3, S, S) from a real clip. */
static void load_chains(float *out, int B, int F, uint64_t seed)
{
    NvcVidClipSet set = { 0 };
    NvcVidClipOptions o;
    nvc_vid_clip_options_default(&o);
    o.max_frames = 8;
    o.min_side = S;
    ck_assert_int_eq(nvc_vid_clips_add(&set, test_data_path("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), &o), 0);
    ck_assert_int_eq(set.n, 1);
    ck_assert_int_eq(set.clip[0].n, 8);
    uint64_t rng = seed;
    ck_assert_int_eq(nvc_vid_clips_chains(&set, out, B, F, S, &rng), 0);
    ck_assert_int_eq(nvc_vid_clips_chains(&set, out, B, 9, S, &rng), NVC_ERR(EINVAL));
    nvc_vid_clips_free(&set);
}

START_TEST(test_flow)
{
    float *f = malloc(sizeof(float) * 3 * S * S * 2);
    load_chains(f, 1, 2, 7);
    float *g = malloc(sizeof(float) * S * S * 4), *fl = g + 2 * S * S;
    nvc_vid_gray(f, S, S, g);
    /* cur(x, y) = ref(x + 1.5, y - 0.75): the flow is (1.5, -0.75) */
    for (int i = 0; i < S * S; i++)
        fl[i] = 1.5f, fl[S * S + i] = -0.75f;
    nvc_vid_flow_warp(g, fl, S, S, g + S * S);
    float *est = malloc(sizeof(float) * 2 * S * S);
    ck_assert_int_eq(nvc_vid_flow(g + S * S, g, S, S, est), 0);
    double ex = 0, ey = 0;
    int n = 0;
    for (int y = 8; y < S - 8; y++)
        for (int x = 8; x < S - 8; x++, n++) {
            ex += est[y * S + x], ey += est[S * S + y * S + x];
        }
    ex /= n, ey /= n;
    ck_assert_msg(fabs(ex - 1.5) < 0.2 && fabs(ey + 0.75) < 0.2, "mean flow (%g, %g)", ex, ey);
    /* real motion: warping by the estimate predicts better than no motion */
    float *g2 = malloc(sizeof(float) * 3 * S * S);
    nvc_vid_gray(f + 3 * S * S, S, S, g2);
    ck_assert_int_eq(nvc_vid_flow(g2, g, S, S, est), 0);
    nvc_vid_flow_warp(g, est, S, S, g2 + S * S);
    double e0 = 0, e1 = 0;
    for (int i = 0; i < S * S; i++) {
        e0 += (g[i] - g2[i]) * (g[i] - g2[i]);
        e1 += (g2[S * S + i] - g2[i]) * (g2[S * S + i] - g2[i]);
    }
    ck_assert_msg(e1 < e0, "warped error %g, unwarped %g", e1, e0);
    free(f), free(g), free(est), free(g2);
}
END_TEST

static NvcVidModel *make(NvcNn *nn, const NvcVidConfig *c, int T, const int *q)
{
    static NvcVidModel m;
    NvcLrSchedule sch = { 1e-3f, 0, 0, 0 };
    ck_assert_int_eq(nvc_vid_create(&m, nn, c, 2, T, S, S, 1, sch, 3), 0);
    m.me_on_source = 1; /* a flow that does not move with the parameters */
    float *x = malloc(sizeof(float) * (T + 1) * 2 * 3 * S * S);
    load_chains(x, 2, T + 1, 11);
    ck_assert_int_eq(nvc_vid_set_chain(&m, nn, x, x + 2 * 3 * S * S), 0);
    free(x);
    ck_assert_int_eq(nvc_vid_set_quality(&m, nn, q), 0);
    return &m;
}

/* A one-thread engine and a tiny model (tiny(lambda)) on chains of T P frames
 * at qualities q0, q1; close_tiny frees both. */
static NvcVidModel *open_tiny(NvcNn **nn, NvcVidConfig *c, float lambda, int T, int q0, int q1)
{
    ck_assert_int_eq(nvc_nn_create(nn, NVC_NN_CPU, 1, NULL), 0);
    tiny(c, lambda);
    const int q[2] = { q0, q1 };
    return make(*nn, c, T, q);
}

static void close_tiny(NvcVidModel *m, NvcNn *nn)
{
    nvc_vid_free(m, nn);
    nvc_nn_free(&nn);
}

static double loss(NvcVidModel *m, NvcNn *nn)
{
    NvcVidStats st;
    ck_assert_int_eq(nvc_vid_forward_backward(m, nn, 5, &st), 0);
    return st.loss;
}

typedef struct LossCtx {
    NvcVidModel *m;
    NvcNn *nn;
} LossCtx;

static double loss_of(void *ctx)
{
    LossCtx *c = ctx;
    return loss(c->m, c->nn);
}

/* d loss / d tensor[name] at its three largest gradients; the loss is a
 * float sum: about 1e-7 of it is noise. */
static void check_tensor(NvcVidModel *m, NvcNn *nn, const char *name, float rel)
{
    LossCtx c = { m, nn };
    const TestGradModel gm = { nn, &m->params, m->pbuf, m->gbuf, loss_of, &c };
    test_grad_check(&gm, name, rel, 4e-7);
}

/* Loop: _i = blend (the previous picture warped by the decoded flow under a
 * learned mask, 1 added, 2 gated; the mask and the motion decoder's gradient
 * through that warp). */
START_TEST(test_gradients_distortion)
{
    NvcNn *nn;
    NvcVidConfig c;
    tiny_blend = _i;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 12, 50);
    tiny_blend = 0;
    ck_assert_int_eq(m->cfg.blend, _i);
    if (_i) {
        check_tensor(m, nn, "dec.mask.weight", 1e-2f);
        check_tensor(m, nn, "dec.mask.bias", 1e-2f);
        check_tensor(m, nn, "mv.dec.out.weight", 3e-2f);
    }
    check_tensor(m, nn, "dec.out.weight", 1e-2f);
    check_tensor(m, nn, "dec.feat.weight", 1e-2f);
    check_tensor(m, nn, "dec.f2.weight", 1e-2f);
    check_tensor(m, nn, "dec.2.conv.weight", 1e-2f);
    check_tensor(m, nn, "q_dec", 1e-2f);
    check_tensor(m, nn, "cx.1.weight", 1e-2f);
    check_tensor(m, nn, "fx.0.weight", 1e-2f);   /* frame 2 reads frame 1's decoded feature */
    check_tensor(m, nn, "adapt.weight", 1e-2f);
    close_tiny(m, nn);
}
END_TEST

/* Training with the codec's refresh: frame 2 of 3 rebuilds its feature from
 * frame 1's x_hat (nvc_vid_set_refresh(2)); the loss changes, and the
 * gradients through the refresh (adapt, frame 1's decoder) check. */
START_TEST(test_gradients_refresh)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 3, 12, 50);
    const double l0 = loss(m, nn);
    ck_assert_int_eq(nvc_vid_set_refresh(m, 2), 0);
    ck_assert(m->refresh[0] && !m->refresh[1] && m->refresh[2]);
    ck_assert_ptr_eq(m->f[2].F, m->f[2].fref);
    ck_assert_ptr_eq(m->f[1].F, m->f[0].feat);
    const double l1 = loss(m, nn);
    ck_assert_msg(l1 != l0, "refresh left the loss at %g", l0);
    check_tensor(m, nn, "adapt.weight", 1e-2f);
    check_tensor(m, nn, "dec.out.weight", 1e-2f);
    check_tensor(m, nn, "fx.0.weight", 1e-2f);
    ck_assert_int_eq(nvc_vid_set_refresh(m, 0), 0);
    ck_assert(m->refresh[0] && !m->refresh[1] && !m->refresh[2]);
    ck_assert_ptr_eq(m->f[2].F, m->f[1].feat);
    ck_assert_int_eq(nvc_vid_set_refresh(m, -1), NVC_ERR(EINVAL));
    close_tiny(m, nn);
}
END_TEST

START_TEST(test_gradients_rate)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 1e-9f, 1, 3, 40);
    check_tensor(m, nn, "y.z_scale", 1e-2f);
    check_tensor(m, nn, "mv.z_scale", 1e-2f);
    check_tensor(m, nn, "y.ctx.3.out.weight", 1e-3f);
    check_tensor(m, nn, "mv.ctx.3.out.bias", 1e-3f);
    check_tensor(m, nn, "y.ctx.3.mid.weight", 1e-3f);
    close_tiny(m, nn);
}
END_TEST

/* --y-noise: the residual latent reaches the decoder as y + u (u uniform in
 * [-0.5, 0.5), not an integer offset from the prior's centres), so the loss
 * is smooth in the contextual encoder's weights and their gradient (through
 * the decoder, the spatial prior and the rate) checks against finite
 * differences; training with it still lowers the loss. */
START_TEST(test_y_noise)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 12, 50);
    m->y_noise = 1;
    loss(m, nn);
    const size_t n = (size_t)2 * c.M * (S / 16) * (S / 16);
    const float *y = m->f[0].e_c[3], *yh = m->f[0].yp.yhat;
    double sum = 0, sq = 0;
    int fractional = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = yh[i] - y[i];
        ck_assert_msg(fabs(e) <= 0.5 + 1e-4, "y_hat - y = %g", e);
        sum += e, sq += e * e;
        fractional += fabs(e) > 1e-3;
    }
    ck_assert_msg(fabs(sum / n) < 0.05 && sq / n > 0.06 && sq / n < 0.11, "noise mean %g, power %g (1/12)",
                  sum / n, sq / n);
    ck_assert_int_gt(fractional, (int)(0.9 * n));
    check_tensor(m, nn, "enc.3.weight", 1e-2f);
    check_tensor(m, nn, "enc.1.weight", 1e-2f);
    check_tensor(m, nn, "q_enc", 1e-2f);
    check_tensor(m, nn, "dec.0.up.weight", 1e-2f);
    NvcVidStats st;
    double first = 0;
    for (int s = 0; s < 20; s++) {
        ck_assert_int_eq(nvc_vid_train_step(m, nn, (uint64_t)s, &st), 0);
        if (!s)
            first = st.loss;
    }
    ck_assert_msg(st.loss < 0.9 * first, "loss %g -> %g", first, st.loss);
    close_tiny(m, nn);
}
END_TEST

/* nvc_vid_scale_latent is a change of units: after it the encoder's latent
 * is k times larger, the hyper-latent is unchanged and the first spatial
 * step's centres are k times larger (frame 0, whose temporal prior reads
 * zeros; later frames read a latent rounded at another scale). */
static void expect_scaled(const float *after, const float *before, size_t n, float k, const char *what)
{
    double err = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, fabs(after[i] - k * before[i]));
        ref = fmax(ref, fabs(k * before[i]));
    }
    ck_assert_msg(ref > 1e-3 && err <= 1e-5 * ref, "%s: max error %g of %g", what, err, ref);
}

/* Loop: _i 0 the residual latent (nvc_vid_scale_latent), 1 the motion latent
 * (nvc_vid_scale_mv_latent): the latent x 8, its hyper-latent and the rest
 * of the analysis unchanged, the conditionals' centres x 8. */
START_TEST(test_scale_latent)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 7, 44);
    const int h = S / 16, hz = S / 64, M = _i ? c.Mm : c.M, Cz = _i ? c.Czm : c.Cz;
    const size_t ny = (size_t)2 * M * h * h, nz = (size_t)2 * Cz * hz * hz;
    float *y = malloc(sizeof(float) * ny), *z = malloc(sizeof(float) * nz), *ctr = malloc(sizeof(float) * 2 * ny);
    NvcVidFrame *f = &m->f[0];
    float *lat = _i ? f->me_c[3] : f->e_c[3];
    NvcVidPriorActs *pa = _i ? &f->mvp : &f->yp;
    int (*scale)(NvcVidModel *, NvcNn *, float) = _i ? nvc_vid_scale_mv_latent : nvc_vid_scale_latent;
    loss(m, nn);
    memcpy(y, lat, sizeof(float) * ny);
    memcpy(z, pa->ha_c[2], sizeof(float) * nz);
    memcpy(ctr, pa->prm[0], sizeof(float) * 2 * ny);
    ck_assert_int_lt(scale(m, nn, 0.0f), 0);
    ck_assert_int_eq(scale(m, nn, 8.0f), 0);
    loss(m, nn);
    expect_scaled(lat, y, ny, 8.0f, "latent");
    expect_scaled(pa->ha_c[2], z, nz, 1.0f, "hyper-latent");
    for (int b = 0; b < 2; b++)  /* (B, 2M, h, w): centres, then scale roots */
        expect_scaled(pa->prm[0] + (size_t)b * 2 * M * h * h, ctr + (size_t)b * 2 * M * h * h,
                      (size_t)M * h * h, 8.0f, "centres");
    free(y);
    free(z);
    free(ctr);
    close_tiny(m, nn);
}
END_TEST

/* A forward pass depends on its inputs only: nothing of the previous batch
 * (e.g. the four-part "decoded so far" tensors) may leak into it. */
START_TEST(test_forward_is_pure)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 30, 31);
    const double l0 = loss(m, nn);
    float *x = malloc(sizeof(float) * 3 * 2 * 3 * S * S);
    float *y = malloc(sizeof(float) * 3 * 2 * 3 * S * S);
    load_chains(x, 2, 3, 11); /* the chain make() set */
    load_chains(y, 2, 3, 99);
    ck_assert_int_eq(nvc_vid_set_chain(m, nn, y, y + 2 * 3 * S * S), 0);
    ck_assert(loss(m, nn) != l0);
    ck_assert_int_eq(nvc_vid_set_chain(m, nn, x, x + 2 * 3 * S * S), 0);
    ck_assert_float_eq(loss(m, nn), l0);
    free(x);
    free(y);
    close_tiny(m, nn);
}
END_TEST

static void learn(float *out_loss, int threads)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL), 0);
    NvcVidConfig c;
    tiny(&c, 0);
    const int q[2] = { 20, 60 };
    NvcVidModel *m = make(nn, &c, 2, q);
    m->me_on_source = 0;
    NvcVidStats st;
    double first = 0, last = 0;
    for (int s = 0; s < 30; s++) {
        ck_assert_int_eq(nvc_vid_train_step(m, nn, (uint64_t)s, &st), 0);
        if (!s)
            first = st.loss;
        last = st.loss;
    }
    if (getenv("NVC_TEST_VERBOSE"))
        fprintf(stderr, "loss %g -> %g (psnr %.2f dB, %.3f bpp)\n", first, last, st.psnr, st.bpp);
    ck_assert_msg(last < 0.85 * first, "loss %g -> %g", first, last);
    *out_loss = (float)last;
    nvc_vid_free(m, nn);
    nvc_nn_free(&nn);
}

START_TEST(test_learn)
{
    float l1, l2;
    learn(&l1, 1);
    learn(&l2, 2);
    ck_assert_float_eq(l1, l2);
}
END_TEST

/* Intra frames of the training chains: the image model at the chain's q
 * (the shipped model, trained on a CPU only), 8-bit output, quality rising
 * with q. */
START_TEST(test_intra)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 1, NULL), 0);
    NvcVidIntra vi;
    ck_assert_int_eq(nvc_vid_intra_open(&vi, nn, 2, S, S, NULL), 0);
    const size_t n = (size_t)2 * 3 * S * S;
    float *x = malloc(sizeof(float) * n * 2), *xh = malloc(sizeof(float) * n);
    load_chains(x, 2, 2, 5);
    const int q[2] = { 5, 60 }, bad[2] = { 5, 64 };
    ck_assert_int_eq(nvc_vid_intra_code(&vi, nn, x, q, xh), 0);
    double psnr[2];
    for (int b = 0; b < 2; b++) {
        double se = 0;
        for (size_t i = 0; i < n / 2; i++) {
            float v = xh[b * n / 2 + i];
            ck_assert(v >= 0 && v <= 1 && fabsf(v * 255 - roundf(v * 255)) < 1e-3f);
            se += (v - x[b * n / 2 + i]) * (v - x[b * n / 2 + i]);
        }
        psnr[b] = 10 * log10(1.0 / (se / (n / 2)));
    }
    ck_assert_msg(psnr[0] > 17 && psnr[1] > psnr[0] + 1, "PSNR %g at q 5, %g at q 60", psnr[0], psnr[1]);
    ck_assert_int_eq(nvc_vid_intra_code(&vi, nn, x, bad, xh), NVC_ERR(EINVAL));
    free(x);
    free(xh);
    nvc_vid_intra_close(&vi, nn);
    nvc_nn_free(&nn);
}
END_TEST

/* The integer entropy model of the residual latent, calibrated on the float
 * model: the decoder reads back exactly the encoder's latent (also with the
 * previous frame's latent as reference), the same bytes for 1 and 2
 * threads, an ideal rate close to the float model's, damaged payloads
 * rejected or decoded without a crash. */
START_TEST(test_int_prior)
{
    NvcNn *nn;
    NvcVidConfig c;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 12, 50);
    NvcVidStats st;
    ck_assert_int_eq(nvc_vid_eval(m, nn, &st), 0);
    NvcVidCalib cal;
    memset(&cal, 0, sizeof(cal));
    for (int t = 0; t < 2; t++)
        ck_assert_int_eq(nvc_vid_calib_update(nn, &m->yL, &m->f[t].yp, &cal), 0);
    NvcVidParams hp;
    NvcArena a = m->params;
    nvc_arena_bind(&a, m->pbuf); /* CPU backend: host memory */
    nvc_vid_params(&a, &hp, &c);
    NvcVidInt vi;
    ck_assert_int_eq(nvc_vid_int_build(&vi, &hp.yp, c.M, c.Cz, c.P, &cal), 0);
    NvcCondTables ct;
    ck_assert_int_eq(nvc_img_latent_tables(&vi.ii, &ct), 0);
    const int h4 = S / 16, w4 = S / 16;
    const size_t ny = (size_t)c.M * h4 * w4, nz = (size_t)c.Cz * (h4 / 4) * (w4 / 4);
    int64_t *ref = calloc(2 * ny, sizeof(int64_t)), *y8 = malloc(ny * sizeof(int64_t));
    int64_t *d8 = malloc(ny * sizeof(int64_t));
    double ibits = 0, fbits = 0;
    for (int t = 0; t < 2; t++) {
        float fb[2];
        ck_assert_int_eq(nvc_nn_download(nn, fb, m->f[t].yp.bits, 2), 0);
        fbits += fb[0] + fb[1];
        for (int b = 0; b < 2; b++) {
            const float *y = m->f[t].e_c[3] + b * ny, *z = m->f[t].yp.ha_c[2] + b * nz;
            const int64_t *r = t ? ref + b * ny : NULL;
            NvcByteWriter bw1 = { 0 }, bw2 = { 0 };
            double bz, by;
            vi.ii.threads = 1;
            ck_assert_int_eq(nvc_vid_latent_encode(&vi, &ct, m->q[b], y, z, r, h4, w4, &bw1, &bz, &by, y8), 0);
            ibits += bz + by;
            vi.ii.threads = 2;
            ck_assert_int_eq(nvc_vid_latent_encode(&vi, &ct, m->q[b], y, z, r, h4, w4, &bw2, NULL, NULL, NULL), 0);
            ck_assert_uint_eq(bw1.sz, bw2.sz);
            ck_assert(!memcmp(bw1.buf, bw2.buf, bw1.sz));
            NvcByteReader br;
            nvc_br_init(&br, bw1.buf, bw1.sz);
            ck_assert_int_eq(nvc_vid_latent_decode(&vi, &ct, m->q[b], &br, r, h4, w4, d8), 0);
            ck_assert(!memcmp(y8, d8, ny * sizeof(int64_t)));
            /* the decoded latent is what the float model would quantise: y within 1/2 of it */
            for (size_t i = 0; i < ny; i++)
                ck_assert(fabs(d8[i] / 256.0 - y[i]) <= 0.5 + 1e-3);
            nvc_br_init(&br, bw1.buf, bw1.sz / 2); /* truncated: an error or some latent, no crash */
            (void)nvc_vid_latent_decode(&vi, &ct, m->q[b], &br, r, h4, w4, d8);
            memcpy(ref + b * ny, y8, ny * sizeof(int64_t));
            nvc_bw_free(&bw1);
            nvc_bw_free(&bw2);
        }
    }
    if (getenv("NVC_TEST_VERBOSE"))
        fprintf(stderr, "y bits: float prior %.1f, integer prior %.1f\n", fbits, ibits);
    ck_assert_msg(fabs(ibits / fbits - 1) < 0.1, "bits: float %g, integer %g", fbits, ibits);
    free(ref);
    free(y8);
    free(d8);
    nvc_cond_tables_free(&ct);
    nvc_vid_int_free(&vi);
    close_tiny(m, nn);
}
END_TEST

/* A P-frame coding loop through the inference API and the integer priors:
 * an encoder (1 thread) and a decoder (2 threads) with the same weights
 * reconstruct bit-identical frames and features over a chain of 3 P frames
 * (the first refreshing), so the reference chain cannot drift. */
static double mse_of(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s / n;
}

typedef struct Side {
    NvcNn *nn;
    NvcVidModel m;
    int64_t *mref, *yref;
} Side;

/* train 0: the full layout (nvc_vid_eval works); -1: the codec's inference
 * layout, where activations share memory */
static void side_open(Side *sd, const NvcVidConfig *c, int threads, const float *x0, int q, int train)
{
    NvcLrSchedule none = { 0 };
    ck_assert_int_eq(nvc_nn_create(&sd->nn, NVC_NN_CPU, threads, NULL), 0);
    ck_assert_int_eq(nvc_vid_create(&sd->m, sd->nn, c, 1, 1, S, S, train, none, 3), 0);
    ck_assert_int_eq(nvc_vid_set_chain(&sd->m, sd->nn, x0, x0), 0);
    ck_assert_int_eq(nvc_vid_set_quality(&sd->m, sd->nn, &q), 0);
    sd->mref = calloc((size_t)c->Mm * (S / 16) * (S / 16), sizeof(int64_t));
    sd->yref = calloc((size_t)c->M * (S / 16) * (S / 16), sizeof(int64_t));
}

static void side_close(Side *sd)
{
    nvc_vid_free(&sd->m, sd->nn);
    nvc_nn_free(&sd->nn);
    free(sd->mref);
    free(sd->yref);
}

/* Loop: _i = blend. */
START_TEST(test_p_frame_loop)
{
    NvcVidConfig c;
    tiny(&c, 0);
    c.blend = _i;
    const int q = 40, h4 = S / 16, w4 = S / 16;
    const size_t nx = (size_t)3 * S * S, n = (size_t)S * S;
    float *x = malloc(sizeof(float) * 4 * nx);
    load_chains(x, 1, 4, 21);
    /* e: encoder (full layout, 1 thread); i: the same encoder on the inference
     * layout (2 threads); d: decoder (inference layout, 2 threads) */
    Side e, i, d;
    side_open(&e, &c, 1, x, q, 0);
    side_open(&i, &c, 2, x, q, -1);
    side_open(&d, &c, 2, x, q, -1);
    /* an untrained model's latents round to zero: larger analysis outputs
     * give symbols of every size (the weights only need to match) */
    const char *big_layers[4] = { "enc.3.weight", "enc.3.bias", "mv.enc.3.weight", "mv.enc.3.bias" };
    for (int k = 0; k < 4; k++) {
        const NvcTensorInfo *ti = &e.m.params.t[nvc_arena_find(&e.m.params, big_layers[k])];
        for (size_t j = 0; j < ti->numel; j++) {
            e.m.pbuf[ti->offset + j] *= 40.0f;
            i.m.pbuf[ti->offset + j] *= 40.0f;
            d.m.pbuf[ti->offset + j] *= 40.0f;
        }
    }
    ck_assert_int_eq(nvc_vid_eval(&i.m, i.nn, &(NvcVidStats){ 0 }), NVC_ERR(EINVAL));
    /* integer priors calibrated on one float pass */
    NvcVidStats st;
    ck_assert_int_eq(nvc_vid_eval(&e.m, e.nn, &st), 0);
    NvcVidCalib cm, cy;
    memset(&cm, 0, sizeof(cm));
    memset(&cy, 0, sizeof(cy));
    ck_assert_int_eq(nvc_vid_calib_update(e.nn, &e.m.mvL, &e.m.f[0].mvp, &cm), 0);
    ck_assert_int_eq(nvc_vid_calib_update(e.nn, &e.m.yL, &e.m.f[0].yp, &cy), 0);
    ck_assert_int_eq(nvc_vid_set_chain(&e.m, e.nn, x, x), 0); /* the eval moved nothing, but be plain */
    NvcVidParams hp;
    NvcArena a = e.m.params;
    nvc_arena_bind(&a, e.m.pbuf);
    nvc_vid_params(&a, &hp, &c);
    NvcVidInt mvi, yi;
    ck_assert_int_eq(nvc_vid_int_build(&mvi, &hp.mvp, c.Mm, c.Czm, c.Pm, &cm), 0);
    ck_assert_int_eq(nvc_vid_int_build(&yi, &hp.yp, c.M, c.Cz, c.P, &cy), 0);
    NvcCondTables ct;
    ck_assert_int_eq(nvc_img_latent_tables(&yi.ii, &ct), 0);
    const size_t nm = (size_t)c.Mm * h4 * w4, ny = (size_t)c.M * h4 * w4;
    const size_t nmz = nm / c.Mm * c.Czm / 16, nyz = ny / c.M * c.Cz / 16;
    float *fl = malloc(sizeof(float) * 4 * n), *hy = malloc(sizeof(float) * (ny + nyz + nm + nmz));
    float *xe = malloc(sizeof(float) * nx), *xd = malloc(sizeof(float) * nx);
    int64_t *q8 = malloc(sizeof(int64_t) * (nm + ny)), *r8 = malloc(sizeof(int64_t) * (nm + ny));
    int64_t big = 0;
    for (int t = 1; t <= 3; t++) {
        const int refresh = t == 1;
        /* encoder */
        NvcByteWriter bw = { 0 };
        nvc_vid_gray(x + t * nx, S, S, fl + 2 * n);
        nvc_vid_gray(e.m.host_x0, S, S, fl + 3 * n);
        ck_assert_int_eq(nvc_vid_flow(fl + 2 * n, fl + 3 * n, S, S, fl), 0);
        ck_assert_int_eq(nvc_nn_upload(e.nn, e.m.f[0].x, x + t * nx, nx), 0);
        ck_assert_int_eq(nvc_vid_infer_motion_analysis(&e.m, e.nn, fl), 0);
        memcpy(hy, e.m.f[0].me_c[3], nm * sizeof(float));
        memcpy(hy + nm, e.m.f[0].mvp.ha_c[2], nmz * sizeof(float));
        ck_assert_int_eq(nvc_vid_latent_encode(&mvi, &ct, q, hy, hy + nm, refresh ? NULL : e.mref, h4, w4, &bw,
                                               NULL, NULL, q8), 0);
        memcpy(e.mref, q8, nm * sizeof(int64_t));
        ck_assert_int_eq(nvc_nn_upload(i.nn, i.m.f[0].x, x + t * nx, nx), 0);
        ck_assert_int_eq(nvc_vid_infer_motion_analysis(&i.m, i.nn, fl), 0);
        ck_assert(!memcmp(i.m.f[0].me_c[3], e.m.f[0].me_c[3], nm * sizeof(float)));
        ck_assert(!memcmp(i.m.f[0].mvp.ha_c[2], e.m.f[0].mvp.ha_c[2], nmz * sizeof(float)));
        ck_assert_int_eq(nvc_vid_infer_motion_synthesis(&e.m, e.nn, q8), 0);
        ck_assert_int_eq(nvc_vid_infer_motion_synthesis(&i.m, i.nn, q8), 0);
        nvc_vid_infer_contexts(&e.m, e.nn, refresh);
        nvc_vid_infer_contexts(&i.m, i.nn, refresh);
        nvc_vid_infer_residual_analysis(&e.m, e.nn);
        nvc_vid_infer_residual_analysis(&i.m, i.nn);
        memcpy(hy, e.m.f[0].e_c[3], ny * sizeof(float));
        memcpy(hy + ny, e.m.f[0].yp.ha_c[2], nyz * sizeof(float));
        ck_assert(!memcmp(i.m.f[0].e_c[3], hy, ny * sizeof(float)));
        ck_assert(!memcmp(i.m.f[0].yp.ha_c[2], hy + ny, nyz * sizeof(float)));
        ck_assert_int_eq(nvc_vid_latent_encode(&yi, &ct, q, hy, hy + ny, refresh ? NULL : e.yref, h4, w4, &bw, NULL,
                                               NULL, q8 + nm), 0);
        memcpy(e.yref, q8 + nm, ny * sizeof(int64_t));
        ck_assert_int_eq(nvc_vid_infer_residual_synthesis(&e.m, e.nn, q8 + nm), 0);
        memcpy(xe, e.m.f[0].xhat, nx * sizeof(float));
        ck_assert_int_eq(nvc_vid_infer_next(&e.m, e.nn), 0);
        ck_assert_int_eq(nvc_vid_infer_residual_synthesis(&i.m, i.nn, q8 + nm), 0);
        ck_assert_msg(!memcmp(i.m.f[0].xhat, xe, nx * sizeof(float)), "frame %d: layouts differ", t);
        ck_assert_int_eq(nvc_vid_infer_next(&i.m, i.nn), 0);
        /* decoder */
        NvcByteReader br;
        nvc_br_init(&br, bw.buf, bw.sz);
        ck_assert_int_eq(nvc_vid_latent_decode(&mvi, &ct, q, &br, refresh ? NULL : d.mref, h4, w4, r8), 0);
        memcpy(d.mref, r8, nm * sizeof(int64_t));
        ck_assert_int_eq(nvc_vid_infer_motion_synthesis(&d.m, d.nn, r8), 0);
        nvc_vid_infer_contexts(&d.m, d.nn, refresh);
        ck_assert_int_eq(nvc_vid_latent_decode(&yi, &ct, q, &br, refresh ? NULL : d.yref, h4, w4, r8 + nm), 0);
        ck_assert_uint_eq(nvc_br_left(&br), 0);
        memcpy(d.yref, r8 + nm, ny * sizeof(int64_t));
        ck_assert(!memcmp(q8, r8, (nm + ny) * sizeof(int64_t)));
        for (size_t j = 0; j < nm + ny; j++)
            big = q8[j] > big ? q8[j] : -q8[j] > big ? -q8[j] : big;
        ck_assert_int_eq(nvc_vid_infer_residual_synthesis(&d.m, d.nn, r8 + nm), 0);
        memcpy(xd, d.m.f[0].xhat, nx * sizeof(float));
        ck_assert_int_eq(nvc_vid_infer_next(&d.m, d.nn), 0);
        ck_assert_msg(!memcmp(xe, xd, nx * sizeof(float)), "frame %d: reconstructions differ", t);
        ck_assert(!memcmp(e.m.f[0].fref, d.m.f[0].fref, (size_t)c.g1 * n * sizeof(float)));
        if (getenv("NVC_TEST_VERBOSE"))
            fprintf(stderr, "P frame %d: %zu bytes, first decoded latents %lld %lld, psnr %.2f\n", t, bw.sz,
                    (long long)q8[0], (long long)q8[nm], 10 * log10(1.0 / mse_of(xe, x + t * nx, nx)));
        nvc_bw_free(&bw);
    }
    ck_assert_msg(big >= 512, "all latents near zero (largest |Q8| %lld)", (long long)big);
    free(fl);
    free(hy);
    free(xe);
    free(xd);
    free(q8);
    free(r8);
    free(x);
    nvc_cond_tables_free(&ct);
    nvc_vid_int_free(&mvi);
    nvc_vid_int_free(&yi);
    side_close(&e);
    side_close(&i);
    side_close(&d);
}
END_TEST

static uint8_t *read_all(const char *path, size_t *sz)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *sz = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*sz);
    ck_assert_uint_eq(fread(b, 1, *sz, fp), *sz);
    fclose(fp);
    return b;
}

/* Export: the model file parses back to the same bytes, keeps the float
 * transforms and drops the float priors, and damaged or truncated files are
 * rejected. */
/* A tensor of the prior networks (integers in the model file). */
static int prior_net(const char *name)
{
    return strstr(name, ".hs.") || strstr(name, ".fuse.") || strstr(name, ".prior.") || strstr(name, ".ctx.");
}

/* A new training model (other seed) started from the file of m: the same
 * transforms and scaler limits, z scales within Q16, the prior networks
 * from the file's integer layers (no weight still the new seed's; with m's
 * architecture, each latent's rate within 2.5% and the PSNR within 0.05 dB of m's on the
 * same chains); nvc_vid_grads_priors_only leaves only their gradients. A
 * blend model from a file without blend starts with its mask closed (gated:
 * nearly); a model without blend or with the other kind cannot take a blend
 * file. */
static void check_init_from_file(NvcVidModel *m, NvcNn *nn, const NvcVidModelFile *f)
{
    for (int blend = f->cfg.blend; blend < 3; blend = f->cfg.blend ? 3 : blend + 1) {
        NvcVidConfig c = m->cfg;
        c.blend = blend;
        NvcVidModel n, seed;
        NvcLrSchedule sch = { 1e-3f, 0, 0, 0 };
        ck_assert_int_eq(nvc_vid_create(&n, nn, &c, 2, 1, S, S, 1, sch, 99), 0);
        ck_assert_int_eq(nvc_vid_create(&seed, nn, &c, 2, 1, S, S, 0, sch, 99), 0); /* n before the file */
        ck_assert_int_eq(nvc_vid_init_from_file(&n, nn, f), 0);
        int same = 0, prior_same = 0, priors = 0;
        for (int i = 0; i < m->params.n; i++) {
            const NvcTensorInfo *t = &m->params.t[i];
            const int j = nvc_arena_find(&n.params, t->name);
            ck_assert_int_ge(j, 0);
            const int eq = !memcmp(m->pbuf + t->offset, n.pbuf + n.params.t[j].offset, t->numel * sizeof(float));
            const int prior = prior_net(t->name);
            if (strstr(t->name, "z_scale")) {
                for (size_t k = 0; k < t->numel; k++)
                    ck_assert_float_eq_tol(n.pbuf[n.params.t[j].offset + k],
                                           fmaxf(m->pbuf[t->offset + k], 0.11f), 1e-4f);
            } else if (prior) {
                const size_t o = seed.params.t[nvc_arena_find(&seed.params, t->name)].offset;
                priors++;
                prior_same += strstr(t->name, ".weight") &&
                              !memcmp(seed.pbuf + o, n.pbuf + n.params.t[j].offset, t->numel * sizeof(float));
            } else {
                ck_assert_msg(eq, "%s differs", t->name);
                same++;
            }
        }
        ck_assert_int_gt(same, 40);
        ck_assert_int_gt(priors, 20);
        ck_assert_int_eq(prior_same, 0); /* from the file, not the new seed's (constant biases may agree) */
        nvc_vid_free(&seed, nn);
        if (blend && !f->cfg.blend) {
            ck_assert_float_eq(n.p.cd_mask.b[0], blend == 2 ? NVC_VID_GATE_INIT : -8.0f);
            ck_assert_float_eq(n.p.cd_mask.w[5], 0.0f);
        }
        float *x = malloc(sizeof(float) * 2 * 2 * 3 * S * S);
        load_chains(x, 2, 2, 5);
        const int q[2] = { 10, 50 };
        NvcVidStats st;
        ck_assert_int_eq(nvc_vid_set_chain(&n, nn, x, x + 2 * 3 * S * S), 0);
        ck_assert_int_eq(nvc_vid_set_quality(&n, nn, q), 0);
        if (blend == m->cfg.blend) { /* m's float priors on n's chains against the file's, dequantised */
            NvcVidModel o;
            NvcVidStats so;
            ck_assert_int_eq(nvc_vid_create(&o, nn, &c, 2, 1, S, S, 0, sch, 99), 0);
            ck_assert_uint_eq(o.params.size, m->params.size);
            memcpy(o.pbuf, m->pbuf, sizeof(float) * m->params.size);
            ck_assert_int_eq(nvc_vid_set_chain(&o, nn, x, x + 2 * 3 * S * S), 0);
            ck_assert_int_eq(nvc_vid_set_quality(&o, nn, q), 0);
            ck_assert_int_eq(nvc_vid_eval(&o, nn, &so), 0);
            ck_assert_int_eq(nvc_vid_eval(&n, nn, &st), 0);
            if (getenv("NVC_TEST_VERBOSE"))
                fprintf(stderr, "init from file: %.4f bpp (motion %.4f) %.3f dB, the model's %.4f (%.4f) %.3f dB\n",
                        st.bpp, st.bpp_mv, st.psnr, so.bpp, so.bpp_mv, so.psnr);
            ck_assert_msg(fabs(st.bpp_mv / so.bpp_mv - 1) < 0.025, "motion bpp %g, the model's %g", st.bpp_mv,
                          so.bpp_mv);
            ck_assert_msg(fabs((st.bpp - st.bpp_mv) / (so.bpp - so.bpp_mv) - 1) < 0.025, "bpp %g, the model's %g",
                          st.bpp, so.bpp);
            ck_assert_msg(fabs(st.psnr - so.psnr) < 0.05, "PSNR %g, the model's %g", st.psnr, so.psnr);
            nvc_vid_free(&o, nn);
        }
        ck_assert_int_eq(nvc_vid_forward_backward(&n, nn, 1, &st), 0);
        nvc_vid_grads_priors_only(&n, nn);
        double gp = 0, go = 0;
        for (int i = 0; i < n.params.n; i++) {
            const NvcTensorInfo *t = &n.params.t[i];
            const int prior = prior_net(t->name);
            for (size_t k = 0; k < t->numel; k++)
                *(prior ? &gp : &go) += fabs(n.gbuf[t->offset + k]);
        }
        ck_assert(gp > 0);
        ck_assert(go == 0);
        free(x);
        nvc_vid_free(&n, nn);
    }
    for (int blend = 0; blend < 3 && f->cfg.blend; blend++) {
        if (blend == f->cfg.blend)
            continue;
        NvcVidConfig c = m->cfg;
        c.blend = blend;
        NvcVidModel n;
        NvcLrSchedule sch = { 1e-3f, 0, 0, 0 };
        ck_assert_int_eq(nvc_vid_create(&n, nn, &c, 2, 1, S, S, 1, sch, 99), 0);
        ck_assert_int_eq(nvc_vid_init_from_file(&n, nn, f), NVC_ERR(EINVAL));
        nvc_vid_free(&n, nn);
    }
}

/* Loop: _i = blend (0, 1, 2 gated); a model without it keeps file version 1. */
START_TEST(test_export)
{
    NvcNn *nn;
    NvcVidConfig c;
    tiny_blend = _i;
    NvcVidModel *m = open_tiny(&nn, &c, 0, 2, 0, 63);
    tiny_blend = 0;
    NvcVidClipSet set = { 0 };
    NvcVidClipOptions o;
    nvc_vid_clip_options_default(&o);
    o.max_frames = 8;
    ck_assert_int_eq(nvc_vid_clips_add(&set, test_data_path("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), &o), 0);
    char *dir = test_tmpdir(), path[4200];
    snprintf(path, sizeof(path), "%s/v.nvcm", dir);
    NvcVidExportStats es;
    ck_assert_int_eq(nvc_vid_export(m, nn, &set, 2, "tiny", 7, path, &es, NULL), 0);
    if (getenv("NVC_TEST_VERBOSE"))
        fprintf(stderr, "export: %zu bytes, %.4f bpp float, %.4f bpp integer\n", es.bytes, es.bpp_float, es.bpp_int);
    ck_assert_msg(fabs(es.bpp_int / es.bpp_float - 1) < 0.1, "bpp %g float, %g integer", es.bpp_float, es.bpp_int);
    size_t sz;
    uint8_t *buf = read_all(path, &sz);
    ck_assert_uint_eq(sz, es.bytes);
    NvcVidModelFile f;
    ck_assert_int_eq(nvc_vid_file_parse(&f, buf, sz, NULL), 0);
    ck_assert_uint_eq(f.crc, es.crc);
    ck_assert_str_eq(f.name, "tiny");
    ck_assert_uint_eq(f.step, 7);
    ck_assert_int_eq(f.cfg.M, c.M);
    ck_assert_int_eq(f.cfg.blend, _i);
    ck_assert_int_eq(buf[8] << 8 | buf[9], _i ? 2 : 1);
    int has_dec = 0, has_mask = 0;
    for (int i = 0; i < f.nt; i++) {
        ck_assert(strncmp(f.t[i].name, "y.ctx", 5) && strncmp(f.t[i].name, "mv.hs", 5));
        has_dec |= !strcmp(f.t[i].name, "dec.out.weight") || !strcmp(f.t[i].name, "y.ha.0.weight");
        has_mask |= !strcmp(f.t[i].name, "dec.mask.weight");
    }
    ck_assert(has_dec);
    ck_assert_int_eq(has_mask, _i != 0);
    check_init_from_file(m, nn, &f);
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_vid_file_write(&f, &bw), 0);
    ck_assert_uint_eq(bw.sz, sz);
    ck_assert(!memcmp(bw.buf, buf, sz));
    nvc_bw_free(&bw);
    nvc_vid_file_free(&f);
    ck_assert_int_eq(nvc_vid_file_parse(&f, buf, sz - 9, NULL), NVC_ERR_CORRUPT);
    if (_i) { /* both kinds, or an unknown flag, under a valid CRC: refused */
        const size_t flags = 8 + 2 + 1 + 4 + 8 + 11 * 2;
        ck_assert_int_eq(buf[flags] << 8 | buf[flags + 1], _i);
        const int v[3] = { 3, 4, _i }; /* the last, resealed the same way, parses */
        for (int k = 0; k < 3; k++) {
            buf[flags + 1] = (uint8_t)v[k];
            const uint32_t crc = nvc_crc32(0, buf, sz - 4);
            for (int b = 0; b < 4; b++)
                buf[sz - 4 + b] = (uint8_t)(crc >> (24 - 8 * b));
            ck_assert_int_eq(nvc_vid_file_parse(&f, buf, sz, NULL), k < 2 ? NVC_ERR_CORRUPT : 0);
        }
        ck_assert_int_eq(f.cfg.blend, _i);
        nvc_vid_file_free(&f);
    }
    buf[sz / 2] ^= 0x10;
    ck_assert_int_eq(nvc_vid_file_parse(&f, buf, sz, NULL), NVC_ERR_CORRUPT);
    free(buf);
    test_rmdir(dir);
    nvc_vid_clips_free(&set);
    close_tiny(m, nn);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("video_model");
    TCase *tc = tcase_create("video_model");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_flow);
    tcase_add_loop_test(tc, test_gradients_distortion, 0, 3);
    tcase_add_test(tc, test_gradients_refresh);
    tcase_add_test(tc, test_gradients_rate);
    tcase_add_test(tc, test_y_noise);
    tcase_add_loop_test(tc, test_scale_latent, 0, 2);
    tcase_add_test(tc, test_forward_is_pure);
    tcase_add_test(tc, test_intra);
    tcase_add_test(tc, test_int_prior);
    tcase_add_loop_test(tc, test_export, 0, 3);
    tcase_add_loop_test(tc, test_p_frame_loop, 0, 3);
    tcase_add_test(tc, test_learn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    static const char *const media[] = { "video/foreman_qcif_176x144_30fps_10f_raw.y4m", NULL };
    if (!test_media("test_video_model", media))
        return TEST_SKIP;
    return test_run_suite(suite());
}
