/*
 * The conditional video codec (NVC_CODEC_DCVC) through the public API, with
 * a tiny video model exported here (NVC_VIDEO_MODEL): I then P frames round
 * trip; the decoded pictures are identical on 1 and 2 threads and to what the
 * encoder predicted from; packets carry the key flag on I frames only; a
 * stream starting at a P packet, a missing P packet and a damaged one give
 * errors (never a crash) and decoding resumes at the next I frame.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "nvc/codec.h"
#include "nvc/io.h"
#include "nvc/video_codec.h"
#include "nvc/video_file.h"

#define NF 6

static char *g_dir;

/* A tiny model file: random weights, larger analysis outputs so that the
 * latents are not all zero. A checked fixture: it runs in each test's own
 * process (OpenMP and OpenBLAS do not survive Check's fork when the parent
 * has used them). */
static void make_model(void)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 1, NULL), 0);
    NvcVidConfig c;
    nvc_vid_config_default(&c);
    c.g1 = 4, c.g2 = 6, c.g4 = 8, c.g8 = 8, c.M = 8, c.Cz = 4, c.P = 8, c.cm = 4, c.Mm = 4, c.Czm = 4, c.Pm = 8;
    NvcVidModel m;
    NvcLrSchedule none = { 0 };
    ck_assert_int_eq(nvc_vid_create(&m, nn, &c, 1, 2, 64, 64, 0, none, 5), 0);
    const char *big[4] = { "enc.3.weight", "enc.3.bias", "mv.enc.3.weight", "mv.enc.3.bias" };
    for (int k = 0; k < 4; k++) {
        const NvcTensorInfo *ti = &m.params.t[nvc_arena_find(&m.params, big[k])];
        for (size_t i = 0; i < ti->numel; i++)
            m.pbuf[ti->offset + i] *= 40.0f;
    }
    NvcVidClipSet set = { 0 };
    NvcVidClipOptions o;
    nvc_vid_clip_options_default(&o);
    o.max_frames = 4;
    ck_assert_int_eq(nvc_vid_clips_add(&set, test_data_path("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), &o), 0);
    g_dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof(path), "%s/tiny.nvcm", g_dir);
    NvcVidExportStats es;
    ck_assert_int_eq(nvc_vid_export(&m, nn, &set, 1, "tiny", 0, path, &es, NULL), 0);
    setenv("NVC_VIDEO_MODEL", path, 1);
    nvc_vid_clips_free(&set);
    nvc_vid_free(&m, nn);
    nvc_nn_free(&nn);
}

static void drop_model(void)
{
    test_rmdir(g_dir);
    g_dir = NULL;
}

static int read_frames(NvcPicture *pics, NvcVideoInfo *info)
{
    NvcInputSettings is;
    nvc_input_default_settings(&is);
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, test_data_path("video/cisco_vt_2people_320x192_12fps_9f_raw.y4m"), &is), 0);
    *info = *nvc_input_info(in);
    int n = 0;
    while (n < NF && nvc_input_read(in, &pics[n]) > 0)
        n++;
    nvc_input_close(&in);
    return n;
}

static const char *g_q_offsets; /* encode(): NvcEncoderSettings.q_offsets */
static int g_adaptive;          /* and .adaptive_intra (0 here unless a test sets it) */

static int encode(const NvcPicture *pics, int n, const NvcVideoInfo *info, int intra_period, int refresh,
                  NvcData *pkts, NvcStreamConfig *cfg)
{
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.codec = NVC_CODEC_DCVC;
    s.q = 40;
    s.n_threads = 1;
    s.intra_period = intra_period;
    s.refresh = refresh;
    s.q_offsets = g_q_offsets;
    s.adaptive_intra = g_adaptive;
    NvcEncoder *enc;
    ck_assert_int_eq(nvc_encoder_open(&enc, info, &s), 0);
    int np = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(nvc_encoder_send_picture(enc, &pics[i]), 0);
        ck_assert_int_eq(nvc_encoder_get_packet(enc, &pkts[np++]), 0);
    }
    ck_assert_int_eq(nvc_encoder_send_picture(enc, NULL), 0);
    NvcData extra;
    ck_assert_int_eq(nvc_encoder_get_packet(enc, &extra), NVC_ERR(EAGAIN));
    ck_assert_int_eq(nvc_encoder_get_config(enc, cfg), 0);
    ck_assert_int_eq(cfg->codec, NVC_CODEC_DCVC);
    nvc_encoder_close(&enc);
    return np;
}

static NvcDecoder *open_dec(const NvcStreamConfig *cfg, int threads)
{
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    NvcDecoder *dec;
    ck_assert_int_eq(nvc_decoder_open(&dec, cfg, &ds), 0);
    return dec;
}

static int decode_one(NvcDecoder *dec, const NvcData *pkt, NvcPicture *pic)
{
    ck_assert_int_eq(nvc_decoder_send_packet(dec, pkt), 0);
    return nvc_decoder_get_picture(dec, pic);
}

static double psnr_y(const NvcPicture *a, const NvcPicture *b)
{
    double se = 0;
    for (int y = 0; y < a->p.h; y++)
        for (int x = 0; x < a->p.w; x++) {
            double d = ((const uint8_t *)a->data[0])[y * a->stride[0] + x] -
                       (double)((const uint8_t *)b->data[0])[y * b->stride[0] + x];
            se += d * d;
        }
    return 10 * log10(255.0 * 255.0 / fmax(se / ((double)a->p.w * a->p.h), 1e-10));
}

/* Decodes the n packets on 1 and on 2 threads: every frame decodes, 320
 * wide, I420, the same on both, Y PSNR above min_psnr against src. */
static void decode_all(const NvcStreamConfig *cfg, const NvcData *pkts, const NvcPicture *src, int n,
                       double min_psnr)
{
    NvcDecoder *d1 = open_dec(cfg, 1), *d2 = open_dec(cfg, 2);
    for (int i = 0; i < n; i++) {
        NvcPicture a, b;
        ck_assert_int_eq(decode_one(d1, &pkts[i], &a), 0);
        ck_assert_int_eq(decode_one(d2, &pkts[i], &b), 0);
        ck_assert_int_eq(a.p.w, 320);
        ck_assert_int_eq(a.p.layout, NVC_PIXEL_LAYOUT_I420);
        ck_assert_msg(test_same_picture(&a, &b), "frame %d differs between 1 and 2 threads", i);
        const double ps = psnr_y(&a, &src[i]);
        if (getenv("NVC_TEST_VERBOSE"))
            fprintf(stderr, "frame %d: %zu bytes, Y PSNR %.2f dB\n", i, pkts[i].sz, ps);
        ck_assert_msg(ps > min_psnr, "frame %d: %.2f dB", i, ps);
        nvc_picture_unref(&a);
        nvc_picture_unref(&b);
    }
    nvc_decoder_close(&d1);
    nvc_decoder_close(&d2);
}

/* Releases what encode() and read_frames() gave. */
static void release(NvcData *pkts, NvcPicture *src, int n, NvcStreamConfig *cfg)
{
    for (int i = 0; i < n; i++) {
        nvc_data_unref(&pkts[i]);
        nvc_picture_unref(&src[i]);
    }
    nvc_stream_config_clear(cfg);
}

START_TEST(test_round_trip)
{
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    ck_assert_int_eq(n, NF);
    NvcData pkts[NF];
    NvcStreamConfig cfg;
    ck_assert_int_eq(encode(src, n, &info, -1, 2, pkts, &cfg), n);
    ck_assert(pkts[0].flags & NVC_DATA_KEY);
    for (int i = 1; i < n; i++)
        ck_assert(!(pkts[i].flags & NVC_DATA_KEY));
    decode_all(&cfg, pkts, src, n, 8);
    release(pkts, src, n, &cfg);
}
END_TEST

/* --q-offsets: the P frames' packets carry q + offset in turn (clamped),
 * the I frame q; the stream decodes; bad lists are refused. */
START_TEST(test_q_offsets)
{
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    NvcData pkts[NF];
    NvcStreamConfig cfg;
    g_q_offsets = "-5,0,30";
    ck_assert_int_eq(encode(src, n, &info, -1, 3, pkts, &cfg), n);
    g_q_offsets = NULL;
    static const int want[NF] = { 40, 35, 40, 63, 35, 40 };
    for (int i = 0; i < n; i++) {
        ck_assert_uint_ge(pkts[i].sz, 2);
        ck_assert_int_eq(pkts[i].data[1], want[i]);
    }
    ck_assert_msg(pkts[3].sz > pkts[4].sz, "P frame at q 63: %zu bytes, at q 35: %zu", pkts[3].sz, pkts[4].sz);
    decode_all(&cfg, pkts, src, n, 8);
    static const char *bad[] = { "", "1,", ",1", "1,,2", "64", "-64", "x", "1 2",
                                 "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0" };
    for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
        NvcEncoderSettings s;
        nvc_encoder_default_settings(&s);
        s.codec = NVC_CODEC_DCVC;
        s.q_offsets = bad[k];
        NvcEncoder *enc;
        ck_assert_msg(nvc_encoder_open(&enc, &info, &s) == NVC_ERR(EINVAL), "q_offsets '%s' accepted", bad[k]);
    }
    release(pkts, src, n, &cfg);
}
END_TEST

/* --adaptive-intra: a scene cut (frames 3.. inverted) is coded as an I frame
 * (a key packet at q, the P index restarting after it), and the stream
 * decodes the same on 1 and 2 threads. */
START_TEST(test_adaptive_intra)
{
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    for (int i = 3; i < n; i++)
        for (int y = 0; y < src[i].p.h; y++) {
            uint8_t *row = (uint8_t *)src[i].data[0] + (size_t)y * src[i].stride[0];
            for (int x = 0; x < src[i].p.w; x++)
                row[x] = (uint8_t)(255 - row[x]);
        }
    NvcData pkts[NF];
    NvcStreamConfig cfg;
    g_adaptive = 1;
    ck_assert_int_eq(encode(src, n, &info, -1, 3, pkts, &cfg), n);
    g_adaptive = 0;
    ck_assert(pkts[0].flags & NVC_DATA_KEY);
    ck_assert_msg(pkts[3].flags & NVC_DATA_KEY, "the scene cut was coded as a P frame (%zu bytes)", pkts[3].sz);
    ck_assert_int_eq(pkts[3].data[0], 0);
    ck_assert_int_eq(pkts[3].data[1], 40);
    for (int i = 0, last = 0; i < n; i++) {
        if (pkts[i].flags & NVC_DATA_KEY) {
            last = i;
        } else { /* a P packet: type 1, index since the last I frame */
            ck_assert_int_eq(pkts[i].data[0], 1);
            ck_assert_int_eq(pkts[i].data[3] << 8 | pkts[i].data[4], i - last);
        }
    }
    decode_all(&cfg, pkts, src, n, 20);
    release(pkts, src, n, &cfg);
}
END_TEST

START_TEST(test_damage)
{
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    NvcData pkts[NF];
    NvcStreamConfig cfg;
    ck_assert_int_eq(encode(src, n, &info, 3, 32, pkts, &cfg), n); /* I P P I P P */
    ck_assert(pkts[3].flags & NVC_DATA_KEY);
    NvcDecoder *dec = open_dec(&cfg, 1);
    NvcPicture pic;
    /* a stream starting at a P packet */
    ck_assert_int_eq(decode_one(dec, &pkts[1], &pic), NVC_ERR(ENODATA));
    ck_assert_int_eq(decode_one(dec, &pkts[0], &pic), 0);
    nvc_picture_unref(&pic);
    /* packet 1 missing: packet 2 is refused, and so is everything up to the next I frame */
    ck_assert_int_eq(decode_one(dec, &pkts[2], &pic), NVC_ERR(ENODATA));
    ck_assert_int_eq(decode_one(dec, &pkts[3], &pic), 0);
    nvc_picture_unref(&pic);
    /* a truncated P packet: an error, then nothing until an I frame */
    NvcData cut = pkts[4];
    cut.sz = pkts[4].sz / 2;
    ck_assert_int_lt(decode_one(dec, &cut, &pic), 0);
    ck_assert_int_eq(decode_one(dec, &pkts[5], &pic), NVC_ERR(ENODATA));
    /* damaged bytes: an error or a picture, never a crash */
    ck_assert_int_eq(decode_one(dec, &pkts[3], &pic), 0);
    nvc_picture_unref(&pic);
    uint8_t *bad = malloc(pkts[4].sz);
    memcpy(bad, pkts[4].data, pkts[4].sz);
    for (size_t i = 5; i < pkts[4].sz; i += 7)
        bad[i] ^= 0x5a;
    NvcData dmg = pkts[4];
    dmg.data = bad;
    dmg.ref = NULL;
    if (decode_one(dec, &dmg, &pic) == 0)
        nvc_picture_unref(&pic);
    /* a bad header */
    bad[0] = 7;
    ck_assert_int_eq(decode_one(dec, &dmg, &pic), NVC_ERR_CORRUPT);
    free(bad);
    nvc_decoder_close(&dec);
    for (int i = 0; i < n; i++) {
        nvc_data_unref(&pkts[i]);
        nvc_picture_unref(&src[i]);
    }
    nvc_stream_config_clear(&cfg);
}
END_TEST

START_TEST(test_no_model)
{
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    const char *keep = getenv("NVC_VIDEO_MODEL");
    char *saved = strdup(keep);
    NvcEncoderSettings s;
    nvc_encoder_default_settings(&s);
    s.codec = NVC_CODEC_DCVC;
    NvcEncoder *enc;
    /* a model file that is not there: an error, not the built-in model */
    char path[4200];
    snprintf(path, sizeof(path), "%s/missing.nvcm", g_dir);
    setenv("NVC_VIDEO_MODEL", path, 1);
    ck_assert_int_eq(nvc_encoder_open(&enc, &info, &s), NVC_ERR(ENOENT));
    /* none named: the built-in model, or ENOTSUP in a build without one */
    unsetenv("NVC_VIDEO_MODEL");
    size_t sz;
    const int builtin = nvc_video_model_builtin(&sz) != NULL;
    const int ret = nvc_encoder_open(&enc, &info, &s);
    ck_assert_int_eq(ret, builtin ? 0 : NVC_ERR(ENOTSUP));
    if (!ret)
        nvc_encoder_close(&enc);
    setenv("NVC_VIDEO_MODEL", saved, 1);
    free(saved);
    for (int i = 0; i < n; i++)
        nvc_picture_unref(&src[i]);
}
END_TEST

/* A stream of the built-in model decodes although NVC_VIDEO_MODEL names
 * another model (the decoder takes the built-in one by its CRC), and to the
 * same pictures as without NVC_VIDEO_MODEL. */
START_TEST(test_builtin_model)
{
    size_t sz;
    if (!nvc_video_model_builtin(&sz))
        return; /* a build without it: test_no_model checks the error */
    NvcPicture src[NF];
    NvcVideoInfo info;
    const int n = read_frames(src, &info);
    char *saved = strdup(getenv("NVC_VIDEO_MODEL"));
    unsetenv("NVC_VIDEO_MODEL");
    NvcData pkts[3];
    NvcStreamConfig cfg;
    ck_assert_int_eq(encode(src, 3, &info, -1, 32, pkts, &cfg), 3);
    NvcPicture ref[3];
    NvcDecoder *dec = open_dec(&cfg, 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(decode_one(dec, &pkts[i], &ref[i]), 0);
    nvc_decoder_close(&dec);
    setenv("NVC_VIDEO_MODEL", saved, 1);
    dec = open_dec(&cfg, 2);
    for (int i = 0; i < 3; i++) {
        NvcPicture pic;
        ck_assert_int_eq(decode_one(dec, &pkts[i], &pic), 0);
        ck_assert(test_same_picture(&pic, &ref[i]));
        nvc_picture_unref(&pic);
        nvc_picture_unref(&ref[i]);
        nvc_data_unref(&pkts[i]);
    }
    nvc_decoder_close(&dec);
    nvc_stream_config_clear(&cfg);
    free(saved);
    for (int i = 0; i < n; i++)
        nvc_picture_unref(&src[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("video_codec");
    TCase *tc = tcase_create("video_codec");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, make_model, drop_model);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_q_offsets);
    tcase_add_test(tc, test_adaptive_intra);
    tcase_add_test(tc, test_damage);
    tcase_add_test(tc, test_no_model);
    tcase_add_test(tc, test_builtin_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    static const char *const media[] = { "video/foreman_qcif_176x144_30fps_10f_raw.y4m",
                                         "video/cisco_vt_2people_320x192_12fps_9f_raw.y4m", NULL };
    if (!test_media("test_video_codec", media))
        return TEST_SKIP;
    return test_run_suite(suite());
}
