/*
 * INR codecs: decoding and training speed against this machine's SGEMM.
 *
 *   bench/bench_inr [--threads N] [--reps N] STREAM.nvc
 *       decodes every frame of a HNeRV / NeRV++ stream through the public
 *       API (best of --reps passes) and prints frames/s and the fraction of
 *       the SGEMM peak the decoder reaches: 2 * MACs/frame * fps / GFLOPS;
 *   bench/bench_inr [--threads N] [--codec hnerv|nervpp] [--size WxH] [--params N]
 *       the same for a network of N parameters at W x H (random weights),
 *       plus training steps (batch 2: forward, loss, backward, Adam) in
 *       frames/s.
 * The baseline, measured in the same run: SGEMM 2048^3 on the same threads
 * (OpenBLAS's own threading when built with it). For a HNeRV stream, also
 * the same decoder in PyTorch (bench/inr_torch.py: 100 forwards, batch 1, on
 * the same threads) and nvc's speed relative to it (NVC_PYTHON picks the
 * interpreter; skipped without torch).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef NVC_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "bench/torch.h"
#include "codec/internal.h"
#include "inr/inr.h"
#include "inr/loss.h"
#include "nn/cpu.h"
#include "nvc/nvc.h"

#ifndef NVC_SRCDIR
#define NVC_SRCDIR "."
#endif

static void quiet(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    (void)cookie, (void)level, (void)fmt, (void)ap;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double sgemm_gflops(NvcNn *nn)
{
    const int n = 2048, reps = 5;
    float *A = nvc_malloc_aligned((size_t)n * n * 4), *B = nvc_malloc_aligned((size_t)n * n * 4),
          *C = nvc_malloc_aligned((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++)
        A[i] = B[i] = (float)(i % 7) * 0.1f;
    double best = 1e30;
#ifdef NVC_HAVE_OPENBLAS
    openblas_set_num_threads(nn->threads);
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
        if (r)
            best = NVC_MIN(best, now() - t0);
    }
    openblas_set_num_threads(1);
#else
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        nvc_sgemm_parallel(nn, 0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
        if (r)
            best = NVC_MIN(best, now() - t0);
    }
#endif
    nvc_free_aligned(A), nvc_free_aligned(B), nvc_free_aligned(C);
    return 2.0 * n * n * n / best / 1e9;
}

static void report(const char *what, double macs, double fps, double peak)
{
    double gf = 2.0 * macs * fps / 1e9;
    printf("%-28s %8.2f frames/s  %7.2f GMAC/frame  %6.1f GFLOPS  %.3f of the SGEMM peak\n", what, fps, macs / 1e9,
           gf, gf / peak);
}

/* ms per forward of the PyTorch twin of a HNeRV decoder, or NAN without PyTorch. */
static double torch_hnerv_ms(const InrArch *a, int threads, char *version, size_t vsz)
{
    char args[512];
    int o = snprintf(args, sizeof(args), "inr_torch.py %d %d %d %d ", threads, a->emb_ch, a->grid_h, a->grid_w);
    for (int k = 0; k <= a->nstrides; k++)
        o += snprintf(args + o, sizeof(args) - o, "%s%d", k ? "," : "", a->width[k]);
    for (int k = 0; k < a->nstrides; k++)
        o += snprintf(args + o, sizeof(args) - o, "%c%d", k ? ',' : ' ', a->stride[k]);
    snprintf(args + o, sizeof(args) - o, " 100 3");
    return bench_torch_ms(threads, args, "ms_per_forward", version, vsz);
}

/* Decode a stream through the public API: best of reps passes. */
static int bench_stream(const char *path, int threads, int reps, double peak)
{
    NvcDemuxer *d;
    int ret = nvc_demux_open(&d, path, NULL);
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", path, nvc_error_string(ret));
        return 1;
    }
    const NvcStreamConfig *cfg = nvc_demux_get_config(d);
    InrStream s;
    enum InrKind kind = cfg->codec == NVC_CODEC_NERVPP ? INR_NERVPP : INR_HNERV;
    if (inr_stream_parse_config(&s, kind, cfg->payload.data, cfg->payload.sz, cfg->p.w, cfg->p.h,
                                NVC_DEFAULT_MAX_PIXELS, 4LL << 30, NULL) < 0) {
        fprintf(stderr, "%s: not an INR stream\n", path);
        nvc_demux_close(&d);
        return 1;
    }
    int H, W;
    inr_arch_out_size(&s.a, &H, &W);
    const double macs = inr_arch_macs(&s.a);
    NvcData *pk = NULL;
    int n = 0;
    for (;;) {
        NvcData p;
        if ((ret = nvc_demux_read_packet(d, &p)) <= 0)
            break;
        pk = realloc(pk, (size_t)(n + 1) * sizeof(*pk));
        pk[n++] = p;
    }
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    NvcDecoder *dec;
    double best = 1e30;
    if ((ret = nvc_decoder_open(&dec, cfg, &ds)) >= 0) {
        for (int r = 0; r < reps && ret >= 0; r++) {
            double t0 = now();
            for (int i = 0; i < n && ret >= 0; i++) {
                NvcPicture pic;
                if ((ret = nvc_decoder_send_packet(dec, &pk[i])) >= 0 &&
                    (ret = nvc_decoder_get_picture(dec, &pic)) >= 0)
                    nvc_picture_unref(&pic);
            }
            best = NVC_MIN(best, now() - t0);
        }
        nvc_decoder_close(&dec);
    }
    if (ret >= 0) {
        char what[64];
        snprintf(what, sizeof(what), "decode %s %dx%d (%d fr)", nvc_codec_name(cfg->codec), cfg->p.w, cfg->p.h, n);
        report(what, macs, n / best, peak);
        printf("  network: %zu parameters, %.0f MAC/pixel of the padded %dx%d frame\n", inr_arch_params(&s.a),
               inr_arch_macs(&s.a) / ((double)H * W), W, H);
        if (kind == INR_HNERV) {
            char version[128];
            double ms = torch_hnerv_ms(&s.a, threads, version, sizeof(version));
            if (isnan(ms))
                printf("  PyTorch: not available (python3 with torch; set NVC_PYTHON)\n");
            else
                printf("  PyTorch decoder forward (%s): %.2f frames/s; nvc/PyTorch %.2fx\n", version, 1e3 / ms,
                       n / best / (1e3 / ms));
        }
    } else {
        fprintf(stderr, "decoding failed: %s\n", nvc_error_string(ret));
    }
    for (int i = 0; i < n; i++)
        nvc_data_unref(&pk[i]);
    free(pk);
    inr_stream_free(&s);
    nvc_demux_close(&d);
    return ret < 0;
}

/* A network of about `params` parameters at w x h: decode and training speed. */
static int bench_synthetic(NvcNn *nn, enum InrKind kind, int w, int h, double params, double peak)
{
    InrArch a = { .kind = kind, .emb_ch = INR_EMB_CH, .pe_levels = INR_PE_LEVELS, .pe_base = INR_PE_BASE };
    double px = (double)w * h;
    inr_choose_strides(&a, w, h, kind == INR_HNERV ? NVC_CLIP(px / 20000, 2, 8) : NVC_CLIP(px / 6400, 1, 144), 1);
    inr_size_arch(&a, params, 2);
    int H, W;
    inr_arch_out_size(&a, &H, &W);
    const double macs = inr_arch_macs(&a);
    printf("%s %dx%d (padded %dx%d): %zu parameters, %.0f MAC/pixel, strides", kind == INR_HNERV ? "hnerv" : "nervpp",
           w, h, W, H, inr_arch_params(&a), macs / ((double)H * W));
    for (int i = 0; i < a.nstrides; i++)
        printf("%s%d", i ? "," : " ", a.stride[i]);
    printf(", widths %d..%d\n", a.width[0], a.width[a.nstrides]);
    InrNet net;
    int ret = inr_net_create(&net, nn, &a, 2, 1, 1);
    if (ret < 0)
        return 1;
    float *in = nvc_nn_alloc(nn, 2 * inr_net_input_size(&a));
    const int reps = 5;
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        inr_net_forward(&net, nn, net.p, in, 1);
        nvc_nn_error(nn);
        if (r)
            best = NVC_MIN(best, now() - t0);
    }
    report("decode (forward, batch 1)", macs, 1 / best, peak);
    /* training: the network's share (forward + backward + Adam), batch 2;
     * HNeRV adds its encoder (forward + backward) */
    InrEncoder enc;
    int has_enc = kind == INR_HNERV && inr_encoder_create(&enc, nn, &a, 2, 1) == 0;
    float *img = has_enc ? nvc_nn_alloc(nn, (size_t)2 * 3 * H * W) : NULL;
    float *m = nvc_nn_alloc(nn, net.params.size), *v = nvc_nn_alloc(nn, net.params.size);
    best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        const float *x = in;
        nn->ops->tensor_zero(nn, net.g, net.params.size);
        nn->ops->tensor_zero(nn, net.dx, net.acts.size);
        if (has_enc) {
            nn->ops->tensor_zero(nn, enc.g, enc.params.size);
            nn->ops->tensor_zero(nn, enc.dx, enc.acts.size);
            inr_encoder_forward(&enc, nn, img, 2);
            x = enc.emb;
        }
        inr_net_forward(&net, nn, net.p, x, 2);
        inr_net_backward(&net, nn, net.p, x, has_enc ? enc.demb : NULL, 2);
        if (has_enc)
            inr_encoder_backward(&enc, nn, img, 2);
        nn->ops->adam_update(nn, net.p, net.g, m, v, net.params.size, 1e-6f, 0.9f, 0.999f, 1e-8f, 0, 1, r + 1);
        nvc_nn_error(nn);
        if (r)
            best = NVC_MIN(best, now() - t0);
    }
    report("train step (batch 2)", 3 * macs, 2 / best, peak);
    printf("  (training GMAC counts the decoder only, 3x its forward; %s)\n",
           has_enc ? "the encoder's work is extra" : "no encoder");
    if (has_enc)
        inr_encoder_free(&enc, nn);
    nvc_nn_release(nn, img);
    nvc_nn_release(nn, m);
    nvc_nn_release(nn, v);
    nvc_nn_release(nn, in);
    inr_net_free(&net, nn);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 0, reps = 3, w = 352, h = 288;
    double params = 100000;
    enum InrKind kind = INR_HNERV;
    const char *stream = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--codec") && i + 1 < argc)
            kind = !strcmp(argv[++i], "nervpp") ? INR_NERVPP : INR_HNERV;
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            sscanf(argv[++i], "%dx%d", &w, &h);
        else if (!strcmp(argv[i], "--params") && i + 1 < argc)
            params = atof(argv[++i]);
        else if (argv[i][0] != '-')
            stream = argv[i];
        else {
            fprintf(stderr, "usage: %s [--threads N] [--reps N] STREAM.nvc\n"
                            "       %s [--threads N] [--codec hnerv|nervpp] [--size WxH] [--params N]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    reps = NVC_MAX(reps, 1);
    nvc_ffmpeg_route_log(&(NvcLogger){ NULL, quiet }); /* FFmpeg's note on the NVC1 track */
    NvcNn *nn;
    if (nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL) < 0)
        return 1;
    double peak = sgemm_gflops(nn);
    printf("sgemm 2048^3 on %d threads: %.1f GFLOPS (baseline)\n", nn->threads, peak);
    int ret = stream ? bench_stream(stream, nn->threads, reps, peak)
                     : bench_synthetic(nn, kind, w, h, params, peak);
    nvc_nn_free(&nn);
    return ret;
}
