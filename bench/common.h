/*
 * Scaffolding of the codec benchmarks (bench_image, bench_video): the clock,
 * errors, the options, the default media and the same-run SGEMM baseline
 * (the ceiling of the float transforms).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_BENCH_COMMON_H
#define NVC_BENCH_COMMON_H

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/cpu.h"
#include "nn/nn.h"
#include "nvc/nvc.h"

/* The program's name in error messages; set by bench_parse. */
static const char *bench_name = "bench";

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void bench_die(const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", bench_name, what, nvc_error_string(err));
    exit(1);
}

/* --threads N, --q Q and one more integer option (--runs, --frames: name
 * and short letter); returns the positional argument, or def_media (a path
 * under the shared media, NVC_TEST_DATA) when there is none. */
static inline const char *bench_parse(int argc, char **argv, const char *name, int *threads, int *q, const char *opt,
                                      int *value, const char *def_media)
{
    static char def[4096];
    const struct option opts[] = { { "threads", required_argument, NULL, 't' }, { "q", required_argument, NULL, 'q' },
                                   { opt, required_argument, NULL, opt[0] }, { NULL, 0, NULL, 0 } };
    const char shorts[] = { 't', ':', 'q', ':', opt[0], ':', 0 };
    bench_name = name;
    int c;
    while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (c == 't')
            *threads = atoi(optarg);
        else if (c == 'q')
            *q = atoi(optarg);
        else if (c == opt[0])
            *value = atoi(optarg);
        else
            exit(1);
    }
    const char *dir = getenv("NVC_TEST_DATA");
    snprintf(def, sizeof(def), "%s/%s", dir ? dir : "../shared/data", def_media);
    return optind < argc ? argv[optind] : def;
}

/* GFLOPS of a 1024^3 SGEMM on the nn engine's CPU backend (best of 3 after
 * a first call), printed as the baseline. */
static inline double bench_sgemm_gflops(int threads)
{
    NvcNn *nn;
    if (nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL) < 0)
        bench_die("nn", NVC_ERR(ENOMEM));
    const int n = 1024;
    float *a = calloc((size_t)n * n, 4), *b = calloc((size_t)n * n, 4), *c = calloc((size_t)n * n, 4);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t = bench_now_s();
        nvc_sgemm_parallel(nn, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = bench_now_s() - t;
        if (r && t < best)
            best = t;
    }
    free(a);
    free(b);
    free(c);
    nvc_nn_free(&nn);
    const double gf = 2.0 * n * n * n / best / 1e9;
    printf("sgemm 1024^3 (nn engine), %d threads: %.1f GFLOPS (baseline)\n", threads, gf);
    return gf;
}

/* Open path and read its first picture (and its stream information). */
static inline void bench_open_input(const char *path, NvcInput **in, NvcVideoInfo *info)
{
    int ret = nvc_input_open(in, path, NULL);
    if (ret < 0)
        bench_die(path, ret);
    *info = *nvc_input_info(*in);
}

/* A decoder of the encoder's stream on `threads` threads. */
static inline NvcDecoder *bench_decoder(NvcEncoder *enc, int threads, NvcStreamConfig *cfg)
{
    NvcDecoderSettings ds;
    NvcDecoder *dec;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    int ret = nvc_encoder_get_config(enc, cfg);
    if (ret < 0 || (ret = nvc_decoder_open(&dec, cfg, &ds)) < 0)
        bench_die("decoder", ret);
    return dec;
}

/* An encoder of codec at quality q on `threads` threads. */
static inline NvcEncoder *bench_encoder(const NvcVideoInfo *info, enum NvcCodecId codec, int q, int threads)
{
    NvcEncoderSettings es;
    nvc_encoder_default_settings(&es);
    es.codec = codec, es.q = q, es.n_threads = threads;
    NvcEncoder *enc;
    int ret = nvc_encoder_open(&enc, info, &es);
    if (ret < 0)
        bench_die("encoder", ret);
    return enc;
}

#endif /* NVC_BENCH_COMMON_H */
