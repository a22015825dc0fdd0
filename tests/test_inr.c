/*
 * INR codecs (HNeRV, NeRV++): gradients of the whole networks against
 * finite differences, encode -> decode round trips through the public API
 * on tiny clips (4:2:0 8-bit, odd sizes, 10-bit, RGB, gray, one frame),
 * random access, determinism (same bytes twice and for 1 and 2 threads),
 * hostile configuration payloads and packets, limits, cancellation, and
 * the choice of strides.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "codec/internal.h"
#include "inr/inr.h"
#include "nvc/nvc.h"

/* ---- gradients ---------------------------------------------------------------------------- */

static uint32_t rng_state = 12345;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f * 2.0f - 1.0f;
}

/* L = sum(out * R) in double. */
static double functional(const float *out, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)out[i] * r[i];
    return s;
}

static void check_close(double num, double ana, const char *what, int idx)
{
    double tol = 2e-2 * fmax(fabs(num), fabs(ana)) + 3e-4;
    ck_assert_msg(fabs(num - ana) <= tol, "%s[%d]: numerical %g, analytical %g", what, idx, num, ana);
}

static void grad_check_net(const InrArch *a)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 2, NULL), 0);
    InrNet net;
    ck_assert_int_eq(inr_net_create(&net, nn, a, 1, 1, 7), 0);
    const size_t S = inr_net_input_size(a), n = (size_t)3 * net.out_h * net.out_w;
    float *in = nvc_nn_alloc(nn, S), *din = nvc_nn_alloc(nn, S), *r = malloc(n * sizeof(float));
    for (size_t i = 0; i < S; i++)
        in[i] = a->kind == INR_NERVPP ? 0.3f : frand();
    for (size_t i = 0; i < n; i++)
        r[i] = frand();
    nn->ops->tensor_zero(nn, net.g, net.params.size);
    nn->ops->tensor_zero(nn, net.dx, net.acts.size);
    inr_net_forward(&net, nn, net.p, in, 1);
    memcpy(net.dout, r, n * sizeof(float));
    inr_net_backward(&net, nn, net.p, in, din, 1);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    /* a few weights of every tensor, and the input */
    for (int t = 0; t < net.params.n; t++) {
        const NvcTensorInfo *ti = &net.params.t[t];
        for (int k = 0; k < 3; k++) {
            size_t i = ti->offset + (size_t)(k * 7919) % ti->numel;
            float keep = net.p[i], h = 1e-2f * fmaxf(fabsf(keep), 1.0f);
            double d[2];
            for (int j = 0; j < 2; j++, h *= 0.5f) {
                net.p[i] = keep + h;
                inr_net_forward(&net, nn, net.p, in, 1);
                double lp = functional(net.out, r, n);
                net.p[i] = keep - h;
                inr_net_forward(&net, nn, net.p, in, 1);
                d[j] = (lp - functional(net.out, r, n)) / (2.0 * h);
            }
            net.p[i] = keep;
            check_close((4 * d[1] - d[0]) / 3, net.g[i], ti->name, (int)(i - ti->offset));
        }
    }
    for (size_t i = 0; i < S && a->kind == INR_HNERV; i += S / 5 + 1) {
        float keep = in[i], h = 1e-2f;
        in[i] = keep + h;
        inr_net_forward(&net, nn, net.p, in, 1);
        double lp = functional(net.out, r, n);
        in[i] = keep - h;
        inr_net_forward(&net, nn, net.p, in, 1);
        double lm = functional(net.out, r, n);
        in[i] = keep;
        check_close((lp - lm) / (2.0 * h), din[i], "embedding", (int)i);
    }
    free(r);
    nvc_nn_release(nn, in);
    nvc_nn_release(nn, din);
    inr_net_free(&net, nn);
    nvc_nn_free(&nn);
}

START_TEST(test_grad_hnerv)
{
    InrArch a = { .kind = INR_HNERV, .nstrides = 3, .stride = { 3, 2, 2 }, .grid_h = 1, .grid_w = 2,
                  .width = { 5, 4, 3, 3 }, .emb_ch = 16 };
    ck_assert_int_eq(inr_arch_check(&a), 0);
    grad_check_net(&a);
}
END_TEST

START_TEST(test_grad_nervpp)
{
    InrArch a = { .kind = INR_NERVPP, .nstrides = 2, .stride = { 3, 2 }, .grid_h = 2, .grid_w = 1,
                  .width = { 3, 4, 3 }, .stem_hidden = 5, .pe_levels = 4, .pe_base = 1.25f };
    ck_assert_int_eq(inr_arch_check(&a), 0);
    grad_check_net(&a);
}
END_TEST

START_TEST(test_grad_encoder)
{
    InrArch a = { .kind = INR_HNERV, .nstrides = 3, .stride = { 3, 2, 2 }, .grid_h = 1, .grid_w = 2,
                  .width = { 5, 4, 3, 3 }, .emb_ch = 16 };
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 2, NULL), 0);
    InrEncoder e;
    ck_assert_int_eq(inr_encoder_create(&e, nn, &a, 1, 3), 0);
    int H, W;
    inr_arch_out_size(&a, &H, &W);
    const size_t ni = (size_t)3 * H * W, S = inr_net_input_size(&a);
    float *img = malloc(ni * sizeof(float)), *r = malloc(S * sizeof(float));
    for (size_t i = 0; i < ni; i++)
        img[i] = 0.5f + 0.4f * frand();
    for (size_t i = 0; i < S; i++)
        r[i] = frand();
    /* larger layer scales than the 1e-6 start, so that every block matters */
    for (int t = 0; t < e.params.n; t++)
        if (strstr(e.params.t[t].name, "gamma"))
            for (size_t k = 0; k < e.params.t[t].numel; k++)
                e.p[e.params.t[t].offset + k] = 0.5f;
    nn->ops->tensor_zero(nn, e.g, e.params.size);
    nn->ops->tensor_zero(nn, e.dx, e.acts.size);
    inr_encoder_forward(&e, nn, img, 1);
    memcpy(e.demb, r, S * sizeof(float));
    inr_encoder_backward(&e, nn, img, 1);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    for (int t = 0; t < e.params.n; t++) {
        const NvcTensorInfo *ti = &e.params.t[t];
        for (int k = 0; k < 2; k++) {
            size_t i = ti->offset + (size_t)(k * 104729) % ti->numel;
            float keep = e.p[i], h = 1e-2f * fmaxf(fabsf(keep), 1.0f);
            double d[2]; /* Richardson: (4 D(h/2) - D(h)) / 3 */
            for (int j = 0; j < 2; j++, h *= 0.5f) {
                e.p[i] = keep + h;
                inr_encoder_forward(&e, nn, img, 1);
                double lp = functional(e.emb, r, S);
                e.p[i] = keep - h;
                inr_encoder_forward(&e, nn, img, 1);
                d[j] = (lp - functional(e.emb, r, S)) / (2.0 * h);
            }
            e.p[i] = keep;
            check_close((4 * d[1] - d[0]) / 3, e.g[i], ti->name, (int)(i - ti->offset));
        }
    }
    free(img);
    free(r);
    inr_encoder_free(&e, nn);
    nvc_nn_free(&nn);
}
END_TEST

/* ---- clips and coding through the public API ------------------------------------------------ */

typedef struct Coded {
    NvcStreamConfig cfg;
    NvcData pkt[16];
    int n;
} Coded;

static void coded_free(Coded *c)
{
    nvc_stream_config_clear(&c->cfg);
    for (int i = 0; i < c->n; i++)
        nvc_data_unref(&c->pkt[i]);
    memset(c, 0, sizeof(*c));
}

/* Smooth moving content in every plane. */
static void make_clip(NvcPicture *pics, int n, const NvcPictureParameters *p, int rgb)
{
    for (int f = 0; f < n; f++) {
        ck_assert_int_eq(nvc_picture_alloc(&pics[f], p, 0), 0);
        if (rgb)
            pics[f].color.matrix = NVC_MC_IDENTITY;
        pics[f].pts = f;
        const int peak = (1 << p->bpc) - 1;
        for (int c = 0; c < nvc_picture_planes(p->layout); c++) {
            int w, h;
            nvc_picture_plane_size(p, c, &w, &h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double v = 0.5 + 0.35 * sin(0.3 * x / (c && p->layout == NVC_PIXEL_LAYOUT_I420 ? 0.5 : 1) + 0.4 * f + c) *
                                         cos(0.2 * y + 0.1 * c);
                    int s = (int)lrint(v * peak);
                    uint8_t *row = (uint8_t *)pics[f].data[c] + (ptrdiff_t)y * pics[f].stride[c];
                    if (p->bpc == 8)
                        row[x] = (uint8_t)s;
                    else
                        ((uint16_t *)row)[x] = (uint16_t)s;
                }
        }
    }
}

static NvcVideoInfo info_of(const NvcPictureParameters *p, int rgb)
{
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    info.p = *p;
    nvc_color_description_default(&info.color);
    if (rgb)
        info.color.matrix = NVC_MC_IDENTITY;
    info.fps_num = 25, info.fps_den = 1, info.sar_num = info.sar_den = 1;
    info.nb_frames = -1;
    return info;
}

static void print_errors(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    (void)cookie;
    if (level == NVC_LOG_ERROR) {
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
}

static NvcEncoderSettings enc_settings(enum NvcCodecId codec, int threads)
{
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.logger.callback = print_errors;
    s.codec = codec;
    s.n_threads = threads;
    s.epochs = 3;
    s.qat_epochs = 1;
    s.size = "xs";
    return s;
}

static int encode(const NvcPicture *pics, int n, const NvcVideoInfo *info, const NvcEncoderSettings *s, Coded *c)
{
    memset(c, 0, sizeof(*c));
    NvcEncoder *enc;
    int ret = nvc_encoder_open(&enc, info, s);
    if (ret < 0)
        return ret;
    for (int i = 0; i < n && !ret; i++)
        ret = nvc_encoder_send_picture(enc, &pics[i]);
    if (!ret)
        ret = nvc_encoder_send_picture(enc, NULL);
    while (!ret && (ret = nvc_encoder_get_packet(enc, &c->pkt[c->n])) == 0)
        ck_assert_int_lt(++c->n, 16);
    if (ret == NVC_ERR(EAGAIN))
        ret = nvc_encoder_get_config(enc, &c->cfg);
    nvc_encoder_close(&enc);
    return ret;
}

static int decode_one(NvcDecoder *dec, const NvcData *pkt, NvcPicture *pic)
{
    int ret = nvc_decoder_send_packet(dec, pkt);
    return ret < 0 ? ret : nvc_decoder_get_picture(dec, pic);
}

static int open_dec(const NvcStreamConfig *cfg, int threads, NvcDecoder **dec)
{
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    return nvc_decoder_open(dec, cfg, &ds);
}

/* Encode, decode every frame, check format, quality above floor_db, random
 * access (a fresh decoder on frame k alone) and thread independence. */
static void roundtrip(enum NvcCodecId codec, NvcPictureParameters p, int rgb, int frames, double floor_db)
{
    NvcPicture src[8], dec[8];
    make_clip(src, frames, &p, rgb);
    NvcVideoInfo info = info_of(&p, rgb);
    NvcEncoderSettings s = enc_settings(codec, 2);
    Coded c;
    ck_assert_int_eq(encode(src, frames, &info, &s, &c), 0);
    ck_assert_int_eq(c.n, frames);
    ck_assert_int_eq(c.cfg.codec, codec);
    ck_assert_int_eq((int)c.cfg.frame_count, frames);
    ck_assert(!memcmp(&c.cfg.p, &p, sizeof(p)));
    NvcDecoder *d;
    ck_assert_int_eq(open_dec(&c.cfg, 2, &d), 0);
    for (int i = 0; i < frames; i++) {
        ck_assert(c.pkt[i].flags & NVC_DATA_KEY);
        ck_assert_int_eq(c.pkt[i].pts, i);
        ck_assert_int_ge((int)c.pkt[i].sz, 1);
        ck_assert_int_eq(decode_one(d, &c.pkt[i], &dec[i]), 0);
        ck_assert(!memcmp(&dec[i].p, &p, sizeof(p)));
        ck_assert_int_eq(dec[i].pts, i);
        NvcFrameMetrics m;
        ck_assert_int_eq(nvc_metrics_compute(&m, &src[i], &dec[i], NVC_METRIC_PSNR), 0);
        ck_assert_msg(m.psnr[0] > floor_db, "frame %d: PSNR %.2f dB", i, m.psnr[0]);
    }
    nvc_decoder_close(&d);
    /* random access, one thread: frame k from its own packet */
    for (int k = frames - 1; k >= 0; k -= 2) {
        NvcPicture one;
        ck_assert_int_eq(open_dec(&c.cfg, 1, &d), 0);
        ck_assert_int_eq(decode_one(d, &c.pkt[k], &one), 0);
        ck_assert_msg(test_same_picture(&one, &dec[k]), "frame %d alone differs", k);
        nvc_picture_unref(&one);
        nvc_decoder_close(&d);
    }
    for (int i = 0; i < frames; i++) {
        nvc_picture_unref(&src[i]);
        nvc_picture_unref(&dec[i]);
    }
    coded_free(&c);
}

static const NvcPictureParameters P420 = { 48, 32, NVC_PIXEL_LAYOUT_I420, 8 };

START_TEST(test_roundtrip_hnerv)
{
    roundtrip(NVC_CODEC_HNERV, P420, 0, 3, 8.0);
}
END_TEST

START_TEST(test_roundtrip_nervpp)
{
    roundtrip(NVC_CODEC_NERVPP, P420, 0, 3, 8.0);
}
END_TEST

START_TEST(test_odd_size)
{
    NvcPictureParameters p = { 33, 17, NVC_PIXEL_LAYOUT_I420, 8 };
    roundtrip(_i ? NVC_CODEC_NERVPP : NVC_CODEC_HNERV, p, 0, 2, 6.0);
}
END_TEST

START_TEST(test_10bit)
{
    NvcPictureParameters p = { 40, 24, NVC_PIXEL_LAYOUT_I420, 10 };
    roundtrip(_i ? NVC_CODEC_NERVPP : NVC_CODEC_HNERV, p, 0, 2, 6.0);
}
END_TEST

START_TEST(test_rgb_gray_one_frame)
{
    NvcPictureParameters rgb = { 32, 24, NVC_PIXEL_LAYOUT_I444, 8 }, gray = { 30, 20, NVC_PIXEL_LAYOUT_I400, 8 };
    roundtrip(NVC_CODEC_HNERV, rgb, 1, 1, 6.0);
    roundtrip(NVC_CODEC_NERVPP, gray, 0, 1, 6.0);
}
END_TEST

/* The same bytes twice, and for 1 and 2 threads. */
START_TEST(test_determinism)
{
    const enum NvcCodecId codec = _i ? NVC_CODEC_NERVPP : NVC_CODEC_HNERV;
    NvcPicture src[3];
    make_clip(src, 3, &P420, 0);
    NvcVideoInfo info = info_of(&P420, 0);
    Coded c[3];
    for (int r = 0; r < 3; r++) {
        NvcEncoderSettings s = enc_settings(codec, r == 2 ? 1 : 2);
        ck_assert_int_eq(encode(src, 3, &info, &s, &c[r]), 0);
    }
    for (int r = 1; r < 3; r++) {
        ck_assert_uint_eq(c[r].cfg.payload.sz, c[0].cfg.payload.sz);
        ck_assert(!memcmp(c[r].cfg.payload.data, c[0].cfg.payload.data, c[0].cfg.payload.sz));
        ck_assert_int_eq(c[r].n, c[0].n);
        for (int i = 0; i < c[0].n; i++) {
            ck_assert_uint_eq(c[r].pkt[i].sz, c[0].pkt[i].sz);
            ck_assert(!memcmp(c[r].pkt[i].data, c[0].pkt[i].data, c[0].pkt[i].sz));
        }
    }
    /* a different seed gives a different model */
    NvcEncoderSettings s = enc_settings(codec, 2);
    s.seed = 99;
    Coded other;
    ck_assert_int_eq(encode(src, 3, &info, &s, &other), 0);
    ck_assert(other.cfg.payload.sz != c[0].cfg.payload.sz ||
              memcmp(other.cfg.payload.data, c[0].cfg.payload.data, c[0].cfg.payload.sz));
    coded_free(&other);
    for (int r = 0; r < 3; r++)
        coded_free(&c[r]);
    for (int i = 0; i < 3; i++)
        nvc_picture_unref(&src[i]);
}
END_TEST

/* Every truncation of the payload is refused cleanly; flipped bytes and
 * damaged packets never crash and give a picture or an error. */
START_TEST(test_hostile)
{
    const enum NvcCodecId codec = _i ? NVC_CODEC_NERVPP : NVC_CODEC_HNERV;
    NvcPicture src[2];
    make_clip(src, 2, &P420, 0);
    NvcVideoInfo info = info_of(&P420, 0);
    NvcEncoderSettings s = enc_settings(codec, 2);
    s.epochs = 1;
    s.qat_epochs = 0;
    Coded c;
    ck_assert_int_eq(encode(src, 2, &info, &s, &c), 0);
    NvcStreamConfig cfg = c.cfg;
    const size_t sz = c.cfg.payload.sz;
    uint8_t *buf = malloc(sz + 1);
    NvcDecoder *d;
    for (size_t cut = 0; cut < sz; cut++) {
        memcpy(buf, c.cfg.payload.data, cut);
        cfg.payload.data = buf;
        cfg.payload.sz = cut;
        int ret = open_dec(&cfg, 1, &d);
        ck_assert_msg(ret == NVC_ERR_CORRUPT, "payload cut at %zu of %zu: %d", cut, sz, ret);
        ck_assert_ptr_null(d);
    }
    /* one trailing byte */
    memcpy(buf, c.cfg.payload.data, sz);
    buf[sz] = 0;
    cfg.payload.sz = sz + 1;
    ck_assert_int_eq(open_dec(&cfg, 1, &d), NVC_ERR_CORRUPT);
    /* flipped bits */
    cfg.payload.sz = sz;
    for (size_t i = 0; i < sz; i += 1 + sz / 97) {
        memcpy(buf, c.cfg.payload.data, sz);
        buf[i] ^= (uint8_t)(1 << (i % 8));
        if (open_dec(&cfg, 1, &d) == 0) {
            NvcPicture pic;
            int ret = decode_one(d, &c.pkt[0], &pic);
            if (!ret)
                nvc_picture_unref(&pic);
            nvc_decoder_close(&d);
        }
    }
    /* damaged packets: an error, and the decoder goes on */
    ck_assert_int_eq(open_dec(&c.cfg, 1, &d), 0);
    const NvcData *pk = &c.pkt[1];
    for (size_t cut = 0; cut < pk->sz; cut++) {
        NvcData t = *pk;
        t.sz = cut;
        t.ref = NULL;
        NvcPicture pic;
        ck_assert_int_eq(decode_one(d, &t, &pic), NVC_ERR_CORRUPT);
    }
    uint8_t junk[64];
    for (int r = 0; r < 200; r++) {
        size_t n = 1 + (size_t)(frand() * 0.5f + 0.5f) * 63;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)(frand() * 128 + 128);
        NvcData t = { .data = junk, .sz = n };
        NvcPicture pic;
        int ret = decode_one(d, &t, &pic);
        ck_assert(ret == 0 || ret == NVC_ERR_CORRUPT);
        if (!ret)
            nvc_picture_unref(&pic);
    }
    NvcPicture pic;
    ck_assert_int_eq(decode_one(d, &c.pkt[0], &pic), 0);
    nvc_picture_unref(&pic);
    nvc_decoder_close(&d);
    /* limits: memory and pixels */
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.max_memory = 1 << 20;
    ck_assert_int_eq(nvc_decoder_open(&d, &c.cfg, &ds), NVC_ERR(ERANGE));
    free(buf);
    coded_free(&c);
    for (int i = 0; i < 2; i++)
        nvc_picture_unref(&src[i]);
}
END_TEST

static volatile int cancel_flag;
static void cancel_on_progress(void *cookie, const NvcEncodeProgress *p)
{
    (void)cookie;
    ck_assert_int_ge(p->step, 1);
    ck_assert(isfinite(p->loss) && p->psnr > 0);
    cancel_flag = 1;
}

START_TEST(test_cancel_and_settings)
{
    NvcPicture src[2];
    make_clip(src, 2, &P420, 0);
    NvcVideoInfo info = info_of(&P420, 0);
    NvcEncoderSettings s = enc_settings(NVC_CODEC_HNERV, 2);
    s.epochs = 1000;
    s.progress = cancel_on_progress;
    s.cancel = &cancel_flag;
    cancel_flag = 0;
    Coded c;
    ck_assert_int_eq(encode(src, 2, &info, &s, &c), NVC_ERR(EINTR));
    coded_free(&c);
    /* bad settings are refused at open */
    const char *bad_sizes[] = { "xxl", "0", "-5", "1.5Q", "" };
    for (size_t i = 0; i < NVC_ARRAY_SIZE(bad_sizes); i++) {
        NvcEncoder *enc;
        s = enc_settings(NVC_CODEC_NERVPP, 1);
        s.size = bad_sizes[i];
        ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(EINVAL));
    }
    const char *bad_strides[] = { "6,2", "1,2", "2,,2", "2,2,2,2,2,2,2", "3,3,3", "x" };
    for (size_t i = 0; i < NVC_ARRAY_SIZE(bad_strides); i++) {
        NvcEncoder *enc;
        s = enc_settings(NVC_CODEC_HNERV, 1);
        s.strides = bad_strides[i]; /* "3,3,3": odd product for 4:2:0 */
        ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(EINVAL));
    }
    s = enc_settings(NVC_CODEC_HNERV, 1);
    s.qbits = 5;
    NvcEncoder *enc;
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(EINVAL));
    /* no pictures */
    s = enc_settings(NVC_CODEC_HNERV, 1);
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), 0);
    ck_assert_int_eq(nvc_encoder_send_picture(enc, NULL), NVC_ERR(EINVAL));
    nvc_encoder_close(&enc);
    /* user strides are used */
    s.strides = "4,2,2";
    s.epochs = 1;
    ck_assert_int_eq(encode(src, 2, &info, &s, &c), 0);
    ck_assert_int_eq(c.cfg.payload.data[1], 3);
    ck_assert_int_eq(c.cfg.payload.data[2], 4);
    coded_free(&c);
    for (int i = 0; i < 2; i++)
        nvc_picture_unref(&src[i]);
}
END_TEST

START_TEST(test_strides_and_sizes)
{
    static const struct { int w, h; } sizes[] = { { 1920, 1080 }, { 1280, 720 }, { 352, 288 }, { 176, 144 },
                                                  { 320, 192 }, { 33, 17 }, { 1, 1 }, { 4000, 3 } };
    for (size_t i = 0; i < NVC_ARRAY_SIZE(sizes); i++)
        for (int kind = INR_HNERV; kind <= INR_NERVPP; kind++) {
            InrArch a = { .kind = (enum InrKind)kind, .emb_ch = 16, .pe_levels = 40, .pe_base = 1.25f };
            inr_choose_strides(&a, sizes[i].w, sizes[i].h, kind == INR_HNERV ? 4 : 16, 1);
            int H, W;
            inr_arch_out_size(&a, &H, &W);
            ck_assert_int_ge(H, sizes[i].h);
            ck_assert_int_ge(W, sizes[i].w);
            ck_assert_int_eq(inr_arch_scale(&a) % 2, 0);
            for (int k = 1; k < a.nstrides; k++)
                ck_assert_int_le(a.stride[k], a.stride[k - 1]);
            for (int k = 0; k <= a.nstrides; k++)
                a.width[k] = 4;
            a.stem_hidden = 8;
            ck_assert_int_eq(inr_arch_check(&a), 0);
        }
    /* 352x288: little padding */
    InrArch a = { .kind = INR_HNERV };
    inr_choose_strides(&a, 352, 288, 5, 1);
    int H, W;
    inr_arch_out_size(&a, &H, &W);
    ck_assert_int_le(H * W, 352 * 288 * 5 / 4);
    /* sizes grow with the budget */
    a.emb_ch = 16;
    size_t last = 0;
    for (double b = 2000; b < 2e6; b *= 3) {
        inr_size_arch(&a, b, 2);
        size_t n = inr_arch_params(&a);
        ck_assert_uint_ge(n, last);
        last = n;
    }
    int preset;
    double count;
    ck_assert_int_eq(inr_parse_size("1.5M", &preset, &count), 0);
    ck_assert(preset == -1 && count == 1.5e6);
    ck_assert_int_eq(inr_parse_size("xl", &preset, &count), 0);
    ck_assert_int_eq(preset, 4);
    /* half floats */
    const float v[] = { 0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f };
    for (size_t i = 0; i < NVC_ARRAY_SIZE(v); i++) {
        float r = inr_half_to_float(inr_half_from_float(v[i]));
        ck_assert_msg(fabsf(r - v[i]) <= fabsf(v[i]) * 1e-3f, "%g -> %g", v[i], r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inr");
    TCase *tc = tcase_create("inr");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_grad_hnerv);
    tcase_add_test(tc, test_grad_nervpp);
    tcase_add_test(tc, test_grad_encoder);
    tcase_add_test(tc, test_strides_and_sizes);
    tcase_add_test(tc, test_roundtrip_hnerv);
    tcase_add_test(tc, test_roundtrip_nervpp);
    tcase_add_loop_test(tc, test_odd_size, 0, 2);
    tcase_add_loop_test(tc, test_10bit, 0, 2);
    tcase_add_test(tc, test_rgb_gray_one_frame);
    tcase_add_loop_test(tc, test_determinism, 0, 2);
    tcase_add_loop_test(tc, test_hostile, 0, 2);
    tcase_add_test(tc, test_cancel_and_settings);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
