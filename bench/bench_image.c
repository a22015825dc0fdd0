/*
 * Learned image codec speed: encode and decode time of one picture through
 * the public API (best of N after a first call that also builds the model
 * for the size), the float transforms' effective GFLOPS, and their ratio to
 * the SGEMM GFLOPS of the nn engine measured in the same run on the same
 * threads (the ceiling of the transforms).
 *
 *   bench/bench_image [--threads N] [--q Q] [--runs N] [PICTURE.png]
 *
 * Default picture: kodim01.png of the shared media (768x512).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/cpu.h"
#include "nn/nn.h"
#include "nvc/image_codec.h"
#include "nvc/nvc.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_image: %s: %s\n", what, nvc_error_string(err));
    exit(1);
}

static double sgemm_gflops(int threads)
{
    NvcNn *nn;
    if (nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL) < 0)
        die("nn", NVC_ERR(ENOMEM));
    const int n = 1024;
    float *a = calloc((size_t)n * n, 4), *b = calloc((size_t)n * n, 4), *c = calloc((size_t)n * n, 4);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t = now_s();
        nvc_sgemm_parallel(nn, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = now_s() - t;
        if (r && t < best)
            best = t;
    }
    free(a);
    free(b);
    free(c);
    nvc_nn_free(&nn);
    return 2.0 * n * n * n / best / 1e9;
}

int main(int argc, char **argv)
{
    int threads = 2, q = 40, runs = 3, c;
    static const struct option opts[] = { { "threads", required_argument, NULL, 't' },
                                          { "q", required_argument, NULL, 'q' },
                                          { "runs", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
    while ((c = getopt_long(argc, argv, "t:q:r:", opts, NULL)) != -1) {
        if (c == 't')
            threads = atoi(optarg);
        else if (c == 'q')
            q = atoi(optarg);
        else if (c == 'r')
            runs = atoi(optarg);
        else
            return 1;
    }
    char def[4096];
    const char *dir = getenv("NVC_TEST_DATA");
    snprintf(def, sizeof(def), "%s/image/kodak/kodim01.png", dir ? dir : "../shared/data");
    const char *path = optind < argc ? argv[optind] : def;
    NvcInput *in;
    int ret = nvc_input_open(&in, path, NULL);
    if (ret < 0)
        die(path, ret);
    NvcVideoInfo info = *nvc_input_info(in);
    NvcPicture pic;
    if (nvc_input_read(in, &pic) != 1)
        die(path, NVC_ERR_CORRUPT);
    nvc_input_close(&in);

    const double gf = sgemm_gflops(threads);
    printf("sgemm 1024^3 (nn engine), %d threads: %.1f GFLOPS (baseline)\n", threads, gf);

    NvcImgModelFile f;
    if ((ret = nvc_image_model_load(&f, NULL)) < 0)
        die("model", ret);
    double enc_mac, dec_mac, prior_mac;
    nvc_img_macs(&f.cfg, &enc_mac, &dec_mac, &prior_mac);
    const double px = (double)((info.p.w + 63) / 64 * 64) * ((info.p.h + 63) / 64 * 64);
    printf("model %s: %.1fk MAC/pixel analysis, %.1fk synthesis, %.2fk integer prior\n", f.name, enc_mac / 1e3,
           dec_mac / 1e3, prior_mac / 1e3);
    nvc_img_file_free(&f);

    NvcEncoderSettings es;
    nvc_encoder_default_settings(&es);
    es.codec = NVC_CODEC_IMAGE, es.q = q, es.n_threads = threads;
    NvcEncoder *enc;
    if ((ret = nvc_encoder_open(&enc, &info, &es)) < 0)
        die("encoder", ret);
    double first = 0, best = 1e30;
    NvcData pkt = { 0 };
    for (int r = 0; r <= runs; r++) {
        nvc_data_unref(&pkt);
        double t = now_s();
        if ((ret = nvc_encoder_send_picture(enc, &pic)) < 0 || (ret = nvc_encoder_get_packet(enc, &pkt)) < 0)
            die("encode", ret);
        t = now_s() - t;
        if (!r)
            first = t;
        else if (t < best)
            best = t;
    }
    printf("encode %dx%d q %d: %.0f ms (best of %d; first call with setup %.0f ms), %.3f bpp, "
           "analysis %.1f GFLOPS effective, %.2f of sgemm\n", info.p.w, info.p.h, q, best * 1e3, runs, first * 1e3,
           pkt.sz * 8.0 / ((double)info.p.w * info.p.h), 2 * enc_mac * px / best / 1e9,
           2 * enc_mac * px / best / 1e9 / gf);
    NvcStreamConfig cfg;
    nvc_encoder_get_config(enc, &cfg);
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    NvcDecoder *dec;
    if ((ret = nvc_decoder_open(&dec, &cfg, &ds)) < 0)
        die("decoder", ret);
    best = 1e30;
    for (int r = 0; r <= runs; r++) {
        NvcPicture out;
        double t = now_s();
        if ((ret = nvc_decoder_send_packet(dec, &pkt)) < 0 || (ret = nvc_decoder_get_picture(dec, &out)) < 0)
            die("decode", ret);
        t = now_s() - t;
        nvc_picture_unref(&out);
        if (!r)
            first = t;
        else if (t < best)
            best = t;
    }
    printf("decode %dx%d q %d: %.0f ms (best of %d; first call with setup %.0f ms), "
           "synthesis %.1f GFLOPS effective (whole decode), %.2f of sgemm\n", info.p.w, info.p.h, q, best * 1e3, runs,
           first * 1e3, 2 * dec_mac * px / best / 1e9, 2 * dec_mac * px / best / 1e9 / gf);
    nvc_decoder_close(&dec);
    nvc_stream_config_clear(&cfg);
    nvc_data_unref(&pkt);
    nvc_encoder_close(&enc);
    nvc_picture_unref(&pic);
    return 0;
}
