/*
 * Conditional video codec speed: encode and decode time per P frame through
 * the public API (an I frame, then P frames of a clip), frames/s, the float
 * transforms' effective GFLOPS and their ratio to the SGEMM GFLOPS of the nn
 * engine measured in the same run on the same threads.
 *
 *   bench/bench_video [--threads N] [--q Q] [--frames N] [CLIP.y4m]
 *
 * The model is NVC_VIDEO_MODEL when set; otherwise a model of the default
 * configuration with its initial weights is exported to a temporary file
 * first (the same multiply-accumulates as a trained one: speed does not
 * depend on the weights, only the entropy coding time a little).
 * Default clip: foreman_cif_352x288_30fps_27f.y4m of the shared media.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/cpu.h"
#include "nn/nn.h"
#include "nvc/nvc.h"
#include "nvc/video_codec.h"
#include "nvc/video_file.h"

#define MAXF 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_video: %s: %s\n", what, nvc_error_string(err));
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

/* A default-configuration model with its initial weights, calibrated on the clip. */
static void temp_model(const char *clip, int threads, char *path, size_t n)
{
    NvcNn *nn;
    int ret = nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL);
    if (ret < 0)
        die("nn", ret);
    NvcVidConfig c;
    nvc_vid_config_default(&c);
    NvcVidModel m;
    NvcLrSchedule none = { 0 };
    if ((ret = nvc_vid_create(&m, nn, &c, 1, 2, 128, 128, 0, none, 1)) < 0)
        die("model", ret);
    NvcVidClipSet set = { 0 };
    NvcVidClipOptions o;
    nvc_vid_clip_options_default(&o);
    o.max_frames = 3;
    if ((ret = nvc_vid_clips_add(&set, clip, &o)) < 0 || !set.n)
        die(clip, ret < 0 ? ret : NVC_ERR(EINVAL));
    snprintf(path, n, "/tmp/bench_video_%d.nvcm", (int)getpid());
    NvcVidExportStats es;
    if ((ret = nvc_vid_export(&m, nn, &set, 1, "bench-initial-weights", 0, path, &es, NULL)) < 0)
        die("export", ret);
    nvc_vid_clips_free(&set);
    nvc_vid_free(&m, nn);
    nvc_nn_free(&nn);
    setenv("NVC_VIDEO_MODEL", path, 1);
}

int main(int argc, char **argv)
{
    int threads = 2, q = 32, frames = 5, c;
    static const struct option opts[] = { { "threads", required_argument, NULL, 't' },
                                          { "q", required_argument, NULL, 'q' },
                                          { "frames", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
    while ((c = getopt_long(argc, argv, "t:q:f:", opts, NULL)) != -1) {
        if (c == 't')
            threads = atoi(optarg);
        else if (c == 'q')
            q = atoi(optarg);
        else if (c == 'f')
            frames = atoi(optarg);
        else
            return 1;
    }
    frames = frames < 2 ? 2 : frames > MAXF ? MAXF : frames;
    char def[4096], tmp[256] = "";
    const char *dir = getenv("NVC_TEST_DATA");
    snprintf(def, sizeof(def), "%s/video/foreman_cif_352x288_30fps_27f.y4m", dir ? dir : "../shared/data");
    const char *path = optind < argc ? argv[optind] : def;
    NvcInput *in;
    int ret = nvc_input_open(&in, path, NULL);
    if (ret < 0)
        die(path, ret);
    NvcVideoInfo info = *nvc_input_info(in);
    NvcPicture pic[MAXF];
    int n = 0;
    while (n < frames && nvc_input_read(in, &pic[n]) == 1)
        n++;
    nvc_input_close(&in);
    if (n < 2)
        die("the clip needs 2 frames", NVC_ERR(EINVAL));

    const double gf = sgemm_gflops(threads);
    printf("sgemm 1024^3 (nn engine), %d threads: %.1f GFLOPS (baseline)\n", threads, gf);
    const char *env = getenv("NVC_VIDEO_MODEL");
    if (!env || !*env)
        temp_model(path, threads, tmp, sizeof(tmp));
    NvcVidModelFile f;
    if ((ret = nvc_video_model_load(&f, NULL)) < 0)
        die("model", ret);
    double enc_mac, dec_mac;
    nvc_vid_macs(&f.cfg, &enc_mac, &dec_mac);
    printf("model %s: %.1fk MAC/pixel to encode a P frame, %.1fk to decode%s\n", f.name, enc_mac / 1e3,
           dec_mac / 1e3, *tmp ? " (initial weights: speed only)" : "");
    nvc_vid_file_free(&f);
    const double px = (double)((info.p.w + 63) / 64 * 64) * ((info.p.h + 63) / 64 * 64);

    NvcEncoderSettings es;
    nvc_encoder_default_settings(&es);
    es.codec = NVC_CODEC_DCVC, es.q = q, es.n_threads = threads;
    NvcEncoder *enc;
    if ((ret = nvc_encoder_open(&enc, &info, &es)) < 0)
        die("encoder", ret);
    NvcData pkt[MAXF];
    double te = 0, bytes = 0;
    for (int i = 0; i < n; i++) {
        double t = now_s();
        if ((ret = nvc_encoder_send_picture(enc, &pic[i])) < 0 || (ret = nvc_encoder_get_packet(enc, &pkt[i])) < 0)
            die("encode", ret);
        if (i)
            te += now_s() - t, bytes += pkt[i].sz;
    }
    te /= n - 1;
    printf("encode %dx%d q %d: %.0f ms per P frame (%.2f frames/s, mean of %d), %.4f bpp, "
           "%.1f GFLOPS effective, %.2f of sgemm\n", info.p.w, info.p.h, q, te * 1e3, 1 / te, n - 1,
           bytes * 8 / ((n - 1.0) * info.p.w * info.p.h), 2 * enc_mac * px / te / 1e9, 2 * enc_mac * px / te / 1e9 / gf);
    NvcStreamConfig cfg;
    nvc_encoder_get_config(enc, &cfg);
    NvcDecoderSettings ds;
    nvc_decoder_default_settings(&ds);
    ds.n_threads = threads;
    NvcDecoder *dec;
    if ((ret = nvc_decoder_open(&dec, &cfg, &ds)) < 0)
        die("decoder", ret);
    double td = 0;
    for (int i = 0; i < n; i++) {
        NvcPicture out;
        double t = now_s();
        if ((ret = nvc_decoder_send_packet(dec, &pkt[i])) < 0 || (ret = nvc_decoder_get_picture(dec, &out)) < 0)
            die("decode", ret);
        if (i)
            td += now_s() - t;
        nvc_picture_unref(&out);
    }
    td /= n - 1;
    printf("decode %dx%d q %d: %.0f ms per P frame (%.2f frames/s, mean of %d), %.1f GFLOPS effective, "
           "%.2f of sgemm\n", info.p.w, info.p.h, q, td * 1e3, 1 / td, n - 1, 2 * dec_mac * px / td / 1e9,
           2 * dec_mac * px / td / 1e9 / gf);
    nvc_decoder_close(&dec);
    nvc_stream_config_clear(&cfg);
    for (int i = 0; i < n; i++) {
        nvc_data_unref(&pkt[i]);
        nvc_picture_unref(&pic[i]);
    }
    nvc_encoder_close(&enc);
    if (*tmp)
        remove(tmp);
    return 0;
}
