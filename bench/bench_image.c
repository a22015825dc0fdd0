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

#include "bench/common.h"
#include "nvc/image_codec.h"

int main(int argc, char **argv)
{
    int threads = 2, q = 40, runs = 3;
    const char *path = bench_parse(argc, argv, "bench_image", &threads, &q, "runs", &runs, "image/kodak/kodim01.png");
    NvcInput *in;
    NvcVideoInfo info;
    bench_open_input(path, &in, &info);
    NvcPicture pic;
    if (nvc_input_read(in, &pic) != 1)
        bench_die(path, NVC_ERR_CORRUPT);
    nvc_input_close(&in);

    const double gf = bench_sgemm_gflops(threads);
    int ret;
    NvcImgModelFile f;
    if ((ret = nvc_image_model_load(&f, NULL)) < 0)
        bench_die("model", ret);
    double enc_mac, dec_mac, prior_mac;
    nvc_img_macs(&f.cfg, &enc_mac, &dec_mac, &prior_mac);
    const double px = (double)((info.p.w + 63) / 64 * 64) * ((info.p.h + 63) / 64 * 64);
    printf("model %s: %.1fk MAC/pixel analysis, %.1fk synthesis, %.2fk integer prior\n", f.name, enc_mac / 1e3,
           dec_mac / 1e3, prior_mac / 1e3);
    nvc_img_file_free(&f);

    NvcEncoder *enc = bench_encoder(&info, NVC_CODEC_IMAGE, q, threads);
    double first = 0, best = 1e30;
    NvcData pkt = { 0 };
    for (int r = 0; r <= runs; r++) {
        nvc_data_unref(&pkt);
        double t = bench_now_s();
        if ((ret = nvc_encoder_send_picture(enc, &pic)) < 0 || (ret = nvc_encoder_get_packet(enc, &pkt)) < 0)
            bench_die("encode", ret);
        t = bench_now_s() - t;
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
    NvcDecoder *dec = bench_decoder(enc, threads, &cfg);
    best = 1e30;
    for (int r = 0; r <= runs; r++) {
        NvcPicture out;
        double t = bench_now_s();
        if ((ret = nvc_decoder_send_packet(dec, &pkt)) < 0 || (ret = nvc_decoder_get_picture(dec, &out)) < 0)
            bench_die("decode", ret);
        t = bench_now_s() - t;
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
