/*
 * The learned image codec: integer primitives against naive references,
 * the model file, round trips through the public API (RGB and YCbCr 4:2:0,
 * sizes that are not multiples of 64), the same bytes and pixels for 1 and
 * 2 threads, and damaged streams rejected cleanly.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "codec/crc.h"
#include "nvc/image_codec.h"
#include "nvc/image_int.h"
#include "nvc/nvc.h"

static uint64_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* ---- integer primitives ---------------------------------------------------------------- */

START_TEST(test_softmax)
{
    for (int it = 0; it < 2000; it++) {
        int K = 1 + (int)(rnd() % NVC_INT_KMAX);
        int32_t l[NVC_INT_KMAX];
        uint32_t w[NVC_INT_KMAX], sum = 0;
        for (int k = 0; k < K; k++)
            l[k] = (int32_t)(rnd() % (1u << 18)) - (1 << 17);
        if (it % 7 == 0)
            l[0] = 1 << 24, l[K - 1] = -(1 << 24); /* extremes */
        nvc_img_int_softmax(l, K, w);
        for (int k = 0; k < K; k++)
            sum += w[k];
        ck_assert_uint_eq(sum, 65536);
        /* close to the real softmax */
        double mx = -INFINITY, s = 0;
        for (int k = 0; k < K; k++)
            mx = fmax(mx, l[k] / 4096.0);
        for (int k = 0; k < K; k++)
            s += exp(l[k] / 4096.0 - mx);
        for (int k = 0; k < K; k++)
            ck_assert_double_le(fabs(w[k] / 65536.0 - exp(l[k] / 4096.0 - mx) / s), 1e-4);
    }
    int32_t eq[3] = { 5, 5, 5 };
    uint32_t w[3];
    nvc_img_int_softmax(eq, 3, w);
    ck_assert_uint_eq(w[0], 21846); /* the leftover unit goes to the lowest index */
    ck_assert_uint_eq(w[1], 21845);
    ck_assert_uint_eq(w[2], 21845);
}
END_TEST

START_TEST(test_scale_rule)
{
    ck_assert_uint_eq(nvc_img_int_scale(0), 7209);
    ck_assert_uint_eq(nvc_img_int_scale(4096), 7209 + 65536);    /* t = 1 -> 1.11 */
    ck_assert_uint_eq(nvc_img_int_scale(-4096), 7209 + 65536);
    ck_assert_uint_eq(nvc_img_int_scale(1 << 24), 0xffffffffu); /* saturates */
}
END_TEST

/* Naive int64 reference of one layer. */
static int32_t ref_out(const NvcIntConv *c, const int32_t *in, int h, int w, int o, int y, int x)
{
    int64_t acc = c->b[o];
    const int r = c->k / 2, cig = c->dw ? 1 : c->ci;
    for (int i = 0; i < cig; i++)
        for (int ky = 0; ky < c->k; ky++)
            for (int kx = 0; kx < c->k; kx++) {
                int yy = y + ky - r, xx = x + kx - r;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                    continue;
                acc += (int64_t)c->w[(((size_t)o * cig + i) * c->k + ky) * c->k + kx] *
                       in[((size_t)(c->dw ? o : i) * h + yy) * w + xx];
            }
    /* floor((acc * mul + 2^(s-1)) / 2^s) as a real division */
    long double v = (long double)acc * c->mul[o];
    int64_t r2 = c->shift[o] ? (int64_t)floorl((v + ldexpl(1, c->shift[o] - 1)) / ldexpl(1, c->shift[o]))
                             : (int64_t)v;
    if (c->relu)
        return (int32_t)(r2 < 0 ? 0 : r2 > 4095 ? 4095 : r2);
    return (int32_t)(r2 < -(1 << 24) ? -(1 << 24) : r2 > (1 << 24) ? (1 << 24) : r2);
}

START_TEST(test_int_conv)
{
    static const int shapes[][5] = { /* ci, co, k, dw, relu */
        { 5, 7, 3, 0, 1 }, { 9, 4, 1, 0, 0 }, { 6, 6, 3, 1, 1 }, { 300, 3, 3, 0, 0 },
    };
    /* widths of one partial tile of 16 positions and of three (the dense convs' tiles) */
    for (size_t t = 0; t < 2 * sizeof(shapes) / sizeof(shapes[0]); t++) {
        const int *s = shapes[t / 2], h = 7, w = t % 2 ? 37 : 9;
        NvcIntConv c;
        ck_assert_int_eq(nvc_int_conv_alloc(&c, s[0], s[1], s[2], s[3], s[4]), 0);
        const int cig = s[3] ? 1 : s[0];
        const int wlim = (int)fmin(32767, floor(2147483647.0 / (4095.0 * cig)));
        for (size_t i = 0; i < (size_t)s[1] * cig * s[2] * s[2]; i++)
            c.w[i] = (int16_t)((int)(rnd() % (2u * wlim + 1)) - wlim);
        for (int o = 0; o < s[1]; o++) {
            c.b[o] = (int32_t)(rnd() % 2000001) - 1000000;
            c.mul[o] = (int32_t)(rnd() % (1u << 27));
            c.shift[o] = (uint8_t)(rnd() % 40);
        }
        ck_assert_int_eq(nvc_int_conv_check(&c), 0);
        int32_t *in = malloc(sizeof(int32_t) * s[0] * h * w), *out = malloc(sizeof(int32_t) * s[1] * h * w);
        for (int i = 0; i < s[0] * h * w; i++) /* the worst inputs: +-4095 */
            in[i] = i % 3 ? 4095 : -4095 + (int)(rnd() % 8191);
        for (int threads = 1; threads <= 3; threads += 2) {
            nvc_int_conv(&c, in, h, w, out, threads);
            for (int o = 0; o < s[1]; o++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        ck_assert_int_eq(out[((size_t)o * h + y) * w + x], ref_out(&c, in, h, w, o, y, x));
        }
        /* a tap whose sum could leave int32 is refused */
        c.w[0] = (int16_t)(c.w[0] >= 0 ? 32767 : -32767);
        if (cig > 1)
            for (int i = 0; i < cig; i++)
                c.w[(size_t)i * s[2] * s[2]] = 32767;
        if ((double)cig * 32767 * 4095 > 2147483647.0)
            ck_assert_int_eq(nvc_int_conv_check(&c), NVC_ERR_CORRUPT);
        free(in);
        free(out);
        nvc_int_conv_free(&c);
    }
}
END_TEST

START_TEST(test_pixel_shuffle)
{
    int32_t in[4 * 2 * 3], out[4 * 2 * 3];
    for (int i = 0; i < 24; i++)
        in[i] = i;
    nvc_int_pixel_shuffle(in, 1, 2, 3, out);
    /* out[0, 2y+i, 2x+j] = in[2i+j, y, x] */
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    ck_assert_int_eq(out[(2 * y + i) * 6 + 2 * x + j], in[(2 * i + j) * 6 + y * 3 + x]);
}
END_TEST

/* ---- model file --------------------------------------------------------------------- */

START_TEST(test_model_file)
{
    size_t sz;
    const uint8_t *data = nvc_image_model_builtin(&sz);
    ck_assert_ptr_nonnull(data);
    NvcImgModelFile f;
    ck_assert_int_eq(nvc_img_file_parse(&f, data, sz, NULL), 0);
    ck_assert_uint_eq(f.crc, nvc_crc32(0, data, sz - 4));
    ck_assert_int_ge(f.cfg.M, 4);
    /* written back: the same bytes */
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_img_file_write(&f, &bw), 0);
    ck_assert_uint_eq(bw.sz, sz);
    ck_assert_int_eq(memcmp(bw.buf, data, sz), 0);
    nvc_bw_free(&bw);
    nvc_img_file_free(&f);
    uint8_t *copy = malloc(sz);
    for (int i = 0; i < 20; i++) {
        memcpy(copy, data, sz);
        copy[rnd() % sz] ^= (uint8_t)(1 + rnd() % 255);
        ck_assert_int_eq(nvc_img_file_parse(&f, copy, sz, NULL), NVC_ERR_CORRUPT);
        ck_assert_int_eq(nvc_img_file_parse(&f, data, rnd() % sz, NULL), NVC_ERR_CORRUPT);
    }
    free(copy);
}
END_TEST

/* ---- codec through the public API ----------------------------------------------------- */

/* The first frame of the committed sample clip, cropped to w x h. */
static void sample_picture(NvcPicture *pic, int w, int h, int rgb)
{
    const char *src = getenv("NVC_SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m", src ? src : ".");
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, NULL), 0);
    NvcPicture full;
    ck_assert_int_eq(nvc_input_read(in, &full), 1);
    nvc_input_close(&in);
    NvcPicture conv;
    if (rgb)
        ck_assert_int_eq(nvc_picture_to_rgb(&conv, &full, 8), 0);
    else
        nvc_picture_ref(&conv, &full);
    NvcPictureParameters p = conv.p;
    p.w = w, p.h = h;
    ck_assert_int_eq(nvc_picture_alloc(pic, &p, 0), 0);
    pic->color = conv.color;
    for (int c = 0; c < 3; c++) {
        int pw, ph;
        nvc_picture_plane_size(&p, c, &pw, &ph);
        for (int y = 0; y < ph; y++)
            memcpy((uint8_t *)pic->data[c] + y * pic->stride[c], (uint8_t *)conv.data[c] + y * conv.stride[c],
                   (size_t)pw);
    }
    nvc_picture_unref(&conv);
    nvc_picture_unref(&full);
}

static void encode(const NvcPicture *pic, int q, int threads, NvcStreamConfig *cfg, NvcData *pkt)
{
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    info.p = pic->p;
    info.color = pic->color;
    info.fps_num = 25, info.fps_den = 1, info.sar_num = info.sar_den = 1, info.nb_frames = 1;
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.codec = NVC_CODEC_IMAGE;
    s.q = q;
    s.n_threads = threads;
    NvcEncoder *enc;
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), 0);
    ck_assert_int_eq(nvc_encoder_send_picture(enc, pic), 0);
    ck_assert_int_eq(nvc_encoder_get_packet(enc, pkt), 0);
    ck_assert(pkt->flags & NVC_DATA_KEY);
    ck_assert_int_eq(nvc_encoder_get_config(enc, cfg), 0);
    ck_assert_int_eq(nvc_encoder_send_picture(enc, NULL), 0);
    NvcData none;
    ck_assert_int_eq(nvc_encoder_get_packet(enc, &none), NVC_ERR(EAGAIN));
    nvc_encoder_close(&enc);
}

static int decode(const NvcStreamConfig *cfg, const NvcData *pkt, int threads, NvcPicture *out)
{
    NvcDecoderSettings s;
    nvc_decoder_default_settings(&s);
    s.n_threads = threads;
    NvcDecoder *dec;
    int ret = nvc_decoder_open(&dec, cfg, &s);
    if (ret < 0)
        return ret;
    ck_assert_int_eq(nvc_decoder_send_packet(dec, pkt), 0);
    ret = nvc_decoder_get_picture(dec, out);
    nvc_decoder_close(&dec);
    return ret;
}

typedef struct Symbols {
    int32_t *v;
    size_t n, cap;
} Symbols;

static void collect(void *opaque, const int32_t *v, size_t n)
{
    Symbols *sy = opaque;
    if (sy->n + n > sy->cap) {
        sy->cap = 2 * (sy->n + n);
        sy->v = realloc(sy->v, sy->cap * sizeof(*sy->v));
        ck_assert_ptr_nonnull(sy->v);
    }
    memcpy(sy->v + sy->n, v, n * sizeof(*v));
    sy->n += n;
}

/* Decode with the symbols hook: what the conformance md5 covers. */
static void decode_symbols(const NvcStreamConfig *cfg, const NvcData *pkt, int threads, Symbols *sy)
{
    NvcDecoderSettings s;
    nvc_decoder_default_settings(&s);
    s.n_threads = threads;
    s.symbols = collect;
    s.symbols_opaque = sy;
    NvcDecoder *dec;
    ck_assert_int_eq(nvc_decoder_open(&dec, cfg, &s), 0);
    ck_assert_int_eq(nvc_decoder_send_packet(dec, pkt), 0);
    NvcPicture out;
    ck_assert_int_eq(nvc_decoder_get_picture(dec, &out), 0);
    nvc_picture_unref(&out);
    nvc_decoder_close(&dec);
}

static double psnr(const NvcPicture *a, const NvcPicture *b)
{
    double se = 0, n = 0;
    for (int c = 0; c < 3; c++) {
        int pw, ph;
        nvc_picture_plane_size(&a->p, c, &pw, &ph);
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                double d = (double)((uint8_t *)a->data[c])[y * a->stride[c] + x] -
                           ((uint8_t *)b->data[c])[y * b->stride[c] + x];
                se += d * d, n++;
            }
    }
    return 10 * log10(255.0 * 255.0 * n / fmax(se, 1e-9));
}

static void roundtrip(int rgb)
{
    NvcPicture pic;
    sample_picture(&pic, 150, 100, rgb); /* padded to 192 x 128 inside */
    size_t prev = 0;
    double prev_psnr = 0;
    for (int q = 0; q <= 63; q += 21) {
        NvcStreamConfig cfg;
        NvcData pkt;
        encode(&pic, q, 0, &cfg, &pkt);
        ck_assert_int_eq(cfg.codec, NVC_CODEC_IMAGE);
        NvcPicture out;
        ck_assert_int_eq(decode(&cfg, &pkt, 0, &out), 0);
        ck_assert_int_eq(out.p.w, 150);
        ck_assert_int_eq(out.p.h, 100);
        ck_assert_int_eq(out.p.layout, pic.p.layout);
        double db = psnr(&pic, &out);
        /* more quality costs more bits and gives a closer picture */
        ck_assert_uint_gt(pkt.sz, prev);
        ck_assert_double_gt(db, prev_psnr);
        ck_assert_double_gt(db, 15.0); /* a picture, not noise */
        prev = pkt.sz, prev_psnr = db;
        nvc_picture_unref(&out);
        nvc_data_unref(&pkt);
        nvc_stream_config_clear(&cfg);
    }
    nvc_picture_unref(&pic);
}

START_TEST(test_roundtrip_rgb)
{
    roundtrip(1);
}
END_TEST

START_TEST(test_roundtrip_i420)
{
    roundtrip(0);
}
END_TEST

START_TEST(test_threads)
{
    NvcPicture pic;
    sample_picture(&pic, 200, 130, 1);
    NvcStreamConfig c1, c2;
    NvcData p1, p2;
    encode(&pic, 37, 1, &c1, &p1);
    encode(&pic, 37, 2, &c2, &p2);
    ck_assert_uint_eq(p1.sz, p2.sz);
    ck_assert_int_eq(memcmp(p1.data, p2.data, p1.sz), 0);
    NvcPicture o1, o2;
    ck_assert_int_eq(decode(&c1, &p1, 1, &o1), 0);
    ck_assert_int_eq(decode(&c1, &p1, 2, &o2), 0);
    ck_assert(test_same_picture(&o1, &o2));
    /* the same symbols at 1 and 2 threads: z_hat (Cz, 3, 4), then the
     * latent (M, 12, 16) of the 256x192 padded picture */
    Symbols s1 = { 0 }, s2 = { 0 };
    decode_symbols(&c1, &p1, 1, &s1);
    decode_symbols(&c1, &p1, 2, &s2);
    NvcImgModelFile f;
    ck_assert_int_eq(nvc_image_model_load(&f, NULL), 0);
    ck_assert_uint_eq(s1.n, (size_t)f.cfg.Cz * 3 * 4 + (size_t)f.cfg.M * 12 * 16);
    nvc_img_file_free(&f);
    ck_assert_uint_eq(s1.n, s2.n);
    ck_assert_int_eq(memcmp(s1.v, s2.v, s1.n * sizeof(*s1.v)), 0);
    int nonzero = 0;
    for (size_t i = 0; i < s1.n; i++)
        nonzero += s1.v[i] != 0;
    ck_assert_int_gt(nonzero, 0);
    free(s1.v);
    free(s2.v);
    nvc_picture_unref(&o1);
    nvc_picture_unref(&o2);
    nvc_data_unref(&p1);
    nvc_data_unref(&p2);
    nvc_stream_config_clear(&c1);
    nvc_stream_config_clear(&c2);
    nvc_picture_unref(&pic);
}
END_TEST

/* A copy of pkt's bytes (n of them) as a packet. */
static void make_packet(NvcData *dst, const uint8_t *src, size_t n)
{
    uint8_t *p = nvc_data_create(dst, n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, src, n);
    dst->sz = n ? n : 1;
    dst->flags = NVC_DATA_KEY;
}

START_TEST(test_corrupt)
{
    NvcPicture pic;
    sample_picture(&pic, 128, 96, 1);
    NvcStreamConfig cfg;
    NvcData pkt;
    encode(&pic, 30, 0, &cfg, &pkt);
    NvcPicture out;
    /* truncated packets */
    for (size_t n = 0; n < pkt.sz; n += 1 + pkt.sz / 23) {
        NvcData bad;
        make_packet(&bad, pkt.data, n);
        ck_assert_int_eq(decode(&cfg, &bad, 1, &out), NVC_ERR_CORRUPT);
        nvc_data_unref(&bad);
    }
    /* trailing garbage, bad quality byte, reserved byte */
    uint8_t *buf = malloc(pkt.sz + 1);
    memcpy(buf, pkt.data, pkt.sz);
    buf[pkt.sz] = 0;
    NvcData bad;
    make_packet(&bad, buf, pkt.sz + 1);
    ck_assert_int_eq(decode(&cfg, &bad, 1, &out), NVC_ERR_CORRUPT);
    nvc_data_unref(&bad);
    buf[0] = 64;
    make_packet(&bad, buf, pkt.sz);
    ck_assert_int_eq(decode(&cfg, &bad, 1, &out), NVC_ERR_CORRUPT);
    nvc_data_unref(&bad);
    buf[0] = ((const uint8_t *)pkt.data)[0], buf[1] = 1;
    make_packet(&bad, buf, pkt.sz);
    ck_assert_int_eq(decode(&cfg, &bad, 1, &out), NVC_ERR_CORRUPT);
    nvc_data_unref(&bad);
    /* random damage: an error or a picture, never anything else */
    for (int i = 0; i < 60; i++) {
        memcpy(buf, pkt.data, pkt.sz);
        for (int j = 0; j < 1 + i % 3; j++)
            buf[2 + rnd() % (pkt.sz - 2)] ^= (uint8_t)(1u << (rnd() % 8));
        make_packet(&bad, buf, pkt.sz);
        int ret = decode(&cfg, &bad, 1, &out);
        ck_assert(ret == 0 || ret == NVC_ERR_CORRUPT);
        if (!ret)
            nvc_picture_unref(&out);
        nvc_data_unref(&bad);
    }
    free(buf);
    /* a stream made with another model is refused at open */
    NvcStreamConfig other = cfg;
    uint8_t *pl = malloc(cfg.payload.sz);
    memcpy(pl, cfg.payload.data, cfg.payload.sz);
    pl[3] ^= 1; /* model crc */
    other.payload.data = pl;
    NvcDecoder *dec;
    ck_assert_int_eq(nvc_decoder_open(&dec, &other, NULL), NVC_ERR(ENOTSUP));
    other.payload.sz = 3;
    ck_assert_int_eq(nvc_decoder_open(&dec, &other, NULL), NVC_ERR_CORRUPT);
    free(pl);
    nvc_data_unref(&pkt);
    nvc_stream_config_clear(&cfg);
    nvc_picture_unref(&pic);
}
END_TEST

START_TEST(test_formats_refused)
{
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    info.p = (NvcPictureParameters){ 64, 64, NVC_PIXEL_LAYOUT_I420, 10 };
    nvc_color_description_default(&info.color);
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.codec = NVC_CODEC_IMAGE;
    NvcEncoder *enc;
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(ENOTSUP));
    info.p.bpc = 8;
    s.q = 64;
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(EINVAL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_softmax);
    tcase_add_test(tc, test_scale_rule);
    tcase_add_test(tc, test_int_conv);
    tcase_add_test(tc, test_pixel_shuffle);
    tcase_add_test(tc, test_model_file);
    tcase_add_test(tc, test_roundtrip_rgb);
    tcase_add_test(tc, test_roundtrip_i420);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_formats_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
