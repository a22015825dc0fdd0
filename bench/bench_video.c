/*
 * Conditional video codec speed: encode and decode time per P frame through
 * the public API (an I frame, then P frames of a clip), frames/s, the float
 * transforms' effective GFLOPS and their ratio to the SGEMM GFLOPS of the nn
 * engine measured in the same run on the same threads.
 *
 *   bench/bench_video [--threads N] [--q Q] [--frames N] [CLIP.y4m]
 *
 * The model is NVC_VIDEO_MODEL when set, else the built-in one; in a build
 * without one, a model of the default configuration with its initial weights
 * is exported to a temporary file first (the same multiply-accumulates as a
 * trained one: speed does not depend on the weights, only the entropy coding
 * time a little).
 * Default clip: foreman_cif_352x288_30fps_27f.y4m of the shared media.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <unistd.h>

#include "bench/common.h"
#include "nvc/video_codec.h"
#include "nvc/video_file.h"

#define MAXF 64

/* A default-configuration model with its initial weights, calibrated on the clip. */
static void temp_model(const char *clip, int threads, char *path, size_t n)
{
    NvcNn *nn;
    int ret = nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL);
    if (ret < 0)
        bench_die("nn", ret);
    NvcVidConfig c;
    nvc_vid_config_default(&c);
    NvcVidModel m;
    NvcLrSchedule none = { 0 };
    if ((ret = nvc_vid_create(&m, nn, &c, 1, 2, 128, 128, 0, none, 1)) < 0)
        bench_die("model", ret);
    NvcVidClipSet set = { 0 };
    NvcVidClipOptions o;
    nvc_vid_clip_options_default(&o);
    o.max_frames = 3;
    if ((ret = nvc_vid_clips_add(&set, clip, &o)) < 0 || !set.n)
        bench_die(clip, ret < 0 ? ret : NVC_ERR(EINVAL));
    snprintf(path, n, "/tmp/bench_video_%d.nvcm", (int)getpid());
    NvcVidExportStats es;
    if ((ret = nvc_vid_export(&m, nn, &set, 1, "bench-initial-weights", 0, path, &es, NULL)) < 0)
        bench_die("export", ret);
    nvc_vid_clips_free(&set);
    nvc_vid_free(&m, nn);
    nvc_nn_free(&nn);
    setenv("NVC_VIDEO_MODEL", path, 1);
}

int main(int argc, char **argv)
{
    int threads = 2, q = 32, frames = 5, ret;
    const char *path = bench_parse(argc, argv, "bench_video", &threads, &q, "frames", &frames,
                                   "video/foreman_cif_352x288_30fps_27f.y4m");
    frames = frames < 2 ? 2 : frames > MAXF ? MAXF : frames;
    char tmp[256] = "";
    NvcInput *in;
    NvcVideoInfo info;
    bench_open_input(path, &in, &info);
    NvcPicture pic[MAXF];
    int n = 0;
    while (n < frames && nvc_input_read(in, &pic[n]) == 1)
        n++;
    nvc_input_close(&in);
    if (n < 2)
        bench_die("the clip needs 2 frames", NVC_ERR(EINVAL));

    const double gf = bench_sgemm_gflops(threads);
    const char *env = getenv("NVC_VIDEO_MODEL");
    size_t bsz;
    if ((!env || !*env) && !nvc_video_model_builtin(&bsz))
        temp_model(path, threads, tmp, sizeof(tmp));
    NvcVidModelFile f;
    if ((ret = nvc_video_model_load(&f, NULL)) < 0)
        bench_die("model", ret);
    double enc_mac, dec_mac;
    nvc_vid_macs(&f.cfg, &enc_mac, &dec_mac);
    printf("model %s: %.1fk MAC/pixel to encode a P frame, %.1fk to decode%s\n", f.name, enc_mac / 1e3,
           dec_mac / 1e3, *tmp ? " (initial weights: speed only)" : "");
    nvc_vid_file_free(&f);
    const double px = (double)((info.p.w + 63) / 64 * 64) * ((info.p.h + 63) / 64 * 64);

    NvcEncoder *enc = bench_encoder(&info, NVC_CODEC_DCVC, q, threads);
    NvcData pkt[MAXF];
    double te = 0, bytes = 0;
    for (int i = 0; i < n; i++) {
        double t = bench_now_s();
        if ((ret = nvc_encoder_send_picture(enc, &pic[i])) < 0 || (ret = nvc_encoder_get_packet(enc, &pkt[i])) < 0)
            bench_die("encode", ret);
        if (i)
            te += bench_now_s() - t, bytes += pkt[i].sz;
    }
    te /= n - 1;
    printf("encode %dx%d q %d: %.0f ms per P frame (%.2f frames/s, mean of %d), %.4f bpp, "
           "%.1f GFLOPS effective, %.2f of sgemm\n", info.p.w, info.p.h, q, te * 1e3, 1 / te, n - 1,
           bytes * 8 / ((n - 1.0) * info.p.w * info.p.h), 2 * enc_mac * px / te / 1e9, 2 * enc_mac * px / te / 1e9 / gf);
    NvcStreamConfig cfg;
    NvcDecoder *dec = bench_decoder(enc, threads, &cfg);
    double td = 0;
    for (int i = 0; i < n; i++) {
        NvcPicture out;
        double t = bench_now_s();
        if ((ret = nvc_decoder_send_packet(dec, &pkt[i])) < 0 || (ret = nvc_decoder_get_picture(dec, &out)) < 0)
            bench_die("decode", ret);
        if (i)
            td += bench_now_s() - t;
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
