/*
 * FFmpeg interchange on real media: input of any file FFmpeg decodes,
 * output through libavcodec + libavformat (lossless round trips, 10-bit,
 * colour description, temporary files), libavfilter graphs.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <sys/stat.h>

#include "nvc/nvc.h"
#include "tests/common.h"

/* Messages of the library, to check what a failure says. */
static char last_error[1024];
static int warnings;

static void capture(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (level == NVC_LOG_ERROR)
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
    if (level == NVC_LOG_WARNING)
        warnings++;
}

static const NvcLogger logger = { NULL, capture };

static const char *media(const char *rel)
{
    static char buf[4096];
    const char *p = test_data_path(rel);
    ck_assert_msg(p != NULL, "test media %s missing (NVC_TEST_DATA)", rel);
    snprintf(buf, sizeof(buf), "%s", p);
    return buf;
}

static NvcInput *open_in(const char *path)
{
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.logger = logger;
    NvcInput *in;
    int ret = nvc_input_open(&in, path, &s);
    ck_assert_msg(ret == 0, "%s: %s (%s)", path, nvc_error_string(ret), last_error);
    return in;
}

/* Write n pictures of `src` to `dst` with the given settings. */
static int transcode(const char *src, const char *dst, NvcOutputSettings *os, int n,
                     const NvcColorDescription *color)
{
    NvcInput *in = open_in(src);
    NvcVideoInfo info = *nvc_input_info(in);
    if (color)
        info.color = *color;
    os->logger = logger;
    NvcOutput *out;
    int ret = nvc_output_open(&out, dst, &info, os);
    for (int i = 0; !ret && i < n; i++) {
        NvcPicture pic;
        if ((ret = nvc_input_read(in, &pic)) <= 0)
            break;
        if (color)
            pic.color = *color;
        ret = nvc_output_write(out, &pic);
        nvc_picture_unref(&pic);
    }
    if (out) {
        int cret = nvc_output_close(&out, ret == 0);
        ret = ret ? ret : cret;
    }
    nvc_input_close(&in);
    return ret;
}

/* Every picture of a and b (at most n) identical, and both have n. */
static void assert_same_files(const char *a, const char *b, int n)
{
    NvcInput *ia = open_in(a), *ib = open_in(b);
    int count = 0;
    for (;;) {
        NvcPicture pa, pb;
        int ra = nvc_input_read(ia, &pa), rb = nvc_input_read(ib, &pb);
        ck_assert_int_ge(ra, 0);
        ck_assert_int_ge(rb, 0);
        if (ra == 0 || rb == 0 || count == n) {
            if (ra > 0)
                nvc_picture_unref(&pa);
            if (rb > 0)
                nvc_picture_unref(&pb);
            break;
        }
        ck_assert_msg(test_same_picture(&pa, &pb), "frame %d differs between %s and %s", count, a, b);
        count++;
        nvc_picture_unref(&pa);
        nvc_picture_unref(&pb);
    }
    ck_assert_int_eq(count, n);
    nvc_input_close(&ia);
    nvc_input_close(&ib);
}

START_TEST(test_input_mp4)
{
    /* H.264 in MP4, 176x144, 30000/1001 fps, SAR 128:117, 120 frames. */
    const char *path = media("video/bitstreams/carphone_pristine.mp4");
    NvcInput *in = open_in(path);
    const NvcVideoInfo *info = nvc_input_info(in);
    ck_assert_int_eq(info->p.w, 176);
    ck_assert_int_eq(info->p.h, 144);
    ck_assert_int_eq(info->p.layout, NVC_PIXEL_LAYOUT_I420);
    ck_assert_int_eq(info->p.bpc, 8);
    ck_assert_int_eq(info->fps_num, 30000);
    ck_assert_int_eq(info->fps_den, 1001);
    ck_assert_int_eq(info->sar_num, 128);
    ck_assert_int_eq(info->sar_den, 117);
    ck_assert_int_eq(info->nb_frames, -1); /* the container's count is not a promise */
    int64_t n = 0;
    NvcPicture pic;
    while (nvc_input_read(in, &pic) > 0) {
        ck_assert_int_eq(pic.pts, n);
        n++;
        nvc_picture_unref(&pic);
    }
    ck_assert_int_eq(n, 120);
    nvc_input_close(&in);
}
END_TEST

START_TEST(test_input_skip)
{
    /* --start: skipping 7 pictures gives what reading 8 gives last. */
    const char *path = media("video/bitstreams/vp90-2-2pass-akiyo.webm");
    NvcInput *a = open_in(path), *b = open_in(path);
    NvcPicture pa, pb;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(nvc_input_read(a, &pa), 1);
        if (i < 7)
            nvc_picture_unref(&pa);
    }
    ck_assert_int_eq(nvc_input_skip(b, 7), 0);
    ck_assert_int_eq(nvc_input_read(b, &pb), 1);
    ck_assert_int_eq(pb.pts, 7);
    ck_assert(test_same_picture(&pa, &pb));
    nvc_picture_unref(&pa);
    nvc_picture_unref(&pb);
    nvc_input_close(&a);
    nvc_input_close(&b);
}
END_TEST

START_TEST(test_input_refused)
{
    char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof(path), "%s/not-video.mp4", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a video file, whatever its name says\n", f);
    fclose(f);
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.logger = logger;
    NvcInput *in;
    last_error[0] = 0;
    ck_assert_int_eq(nvc_input_open(&in, path, &s), NVC_ERR_CORRUPT);
    ck_assert_ptr_null(in);
    ck_assert_ptr_nonnull(strstr(last_error, "not-video.mp4"));
    snprintf(path, sizeof(path), "%s/missing.mkv", dir);
    ck_assert_int_eq(nvc_input_open(&in, path, &s), NVC_ERR(ENOENT));
    test_rmdir(dir);
}
END_TEST

/* ffv1 is lossless: Y4M -> .mkv -> read back gives the same samples, at 8
 * and 10 bits; rate and aspect ratio survive. */
static void lossless_round_trip(const char *clip, int n, int bpc)
{
    char *dir = test_tmpdir();
    char dst[4200];
    snprintf(dst, sizeof(dst), "%s/lossless.mkv", dir);
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.codec = "ffv1";
    ck_assert_int_eq(transcode(clip, dst, &os, n, NULL), 0);
    NvcInput *a = open_in(clip), *b = open_in(dst);
    const NvcVideoInfo *ia = nvc_input_info(a), *ib = nvc_input_info(b);
    ck_assert_int_eq(ib->p.bpc, bpc);
    ck_assert_int_eq(ib->fps_num * (int64_t)ia->fps_den, ia->fps_num * (int64_t)ib->fps_den);
    nvc_input_close(&a);
    nvc_input_close(&b);
    assert_same_files(clip, dst, n);
    test_rmdir(dir);
}

START_TEST(test_output_lossless_8bit)
{
    lossless_round_trip(media("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), 10, 8);
}
END_TEST

START_TEST(test_output_lossless_10bit)
{
    lossless_round_trip(media("video/sparks_480x270_10bit_60fps_5f_raw.y4m"), 5, 10);
}
END_TEST

/* The default encoder of .mp4 (libx264) keeps 10 bits, frame count, rate
 * and the colour description; the stream decodes in FFmpeg. */
START_TEST(test_output_mp4_10bit_color)
{
    char *dir = test_tmpdir();
    char dst[4200];
    snprintf(dst, sizeof(dst), "%s/out.mp4", dir);
    const NvcColorDescription bt709 = { NVC_MC_BT709, NVC_PRI_BT709, NVC_TRC_BT709,
                                        NVC_RANGE_LIMITED, NVC_CHROMA_LEFT };
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    const char *opts[] = { "crf", "30", "preset", "ultrafast", NULL };
    os.options = opts;
    ck_assert_int_eq(transcode(media("video/sparks_480x270_10bit_60fps_5f_raw.y4m"), dst, &os, 5,
                               &bt709), 0);
    NvcInput *in = open_in(dst);
    const NvcVideoInfo *info = nvc_input_info(in);
    ck_assert_int_eq(info->p.bpc, 10);
    ck_assert_int_eq(info->p.w, 480);
    ck_assert_int_eq(info->p.h, 270);
    ck_assert_int_eq(info->fps_num, 60000);
    ck_assert_int_eq(info->fps_den, 1001);
    ck_assert_int_eq(info->color.matrix, NVC_MC_BT709);
    ck_assert_int_eq(info->color.primaries, NVC_PRI_BT709);
    ck_assert_int_eq(info->color.transfer, NVC_TRC_BT709);
    ck_assert_int_eq(info->color.range, NVC_RANGE_LIMITED);
    ck_assert_int_eq(info->color.chroma_location, NVC_CHROMA_LEFT);
    NvcPicture pic;
    int n = 0;
    while (nvc_input_read(in, &pic) > 0) {
        n++;
        nvc_picture_unref(&pic);
    }
    ck_assert_int_eq(n, 5);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

/* An encoder without 10-bit formats gets 8 bits, with a warning. */
START_TEST(test_output_depth_lost_warned)
{
    char *dir = test_tmpdir();
    char dst[4200];
    snprintf(dst, sizeof(dst), "%s/out.avi", dir); /* mpeg4: yuv420p only */
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    warnings = 0;
    ck_assert_int_eq(transcode(media("video/sparks_480x270_10bit_60fps_5f_raw.y4m"), dst, &os, 2,
                               NULL), 0);
    ck_assert_int_ge(warnings, 1);
    NvcInput *in = open_in(dst);
    ck_assert_int_eq(nvc_input_info(in)->p.bpc, 8);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

/* RGB pictures (PNG) through a GBR-capable lossless encoder and back. */
START_TEST(test_output_rgb)
{
    char *dir = test_tmpdir();
    char dst[4200];
    snprintf(dst, sizeof(dst), "%s/rgb.nut", dir);
    const char *png = media("image/kodak/kodim23.png");
    char src[4200];
    snprintf(src, sizeof(src), "%s", png);
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.codec = "ffv1";
    ck_assert_int_eq(transcode(src, dst, &os, 1, NULL), 0);
    NvcInput *in = open_in(dst);
    ck_assert_int_eq(nvc_input_info(in)->color.matrix, NVC_MC_IDENTITY);
    ck_assert_int_eq(nvc_input_info(in)->p.layout, NVC_PIXEL_LAYOUT_I444);
    nvc_input_close(&in);
    assert_same_files(src, dst, 1);
    test_rmdir(dir);
}
END_TEST

/* pix_fmt picks the encoded format: 4:2:2 written, read back as 4:2:0
 * with a warning naming what is lost. */
START_TEST(test_output_pix_fmt_and_422_input)
{
    char *dir = test_tmpdir();
    char dst[4200];
    snprintf(dst, sizeof(dst), "%s/422.mkv", dir);
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.codec = "ffv1";
    const char *opts[] = { "pix_fmt", "yuv422p", "metadata", "title=four-two-two", NULL };
    os.options = opts;
    ck_assert_int_eq(transcode(media("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), dst, &os, 3,
                               NULL), 0);
    warnings = 0;
    NvcInput *in = open_in(dst);
    ck_assert_int_eq(warnings, 1);
    ck_assert_int_eq(nvc_input_info(in)->p.layout, NVC_PIXEL_LAYOUT_I420);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), 1);
    ck_assert_int_eq(pic.p.layout, NVC_PIXEL_LAYOUT_I420);
    nvc_picture_unref(&pic);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

/* image2 patterns: the muxer writes its own numbered files; JPEG gets
 * full-range pictures (as ffmpeg converts them); the pattern reads back. */
START_TEST(test_output_jpeg_sequence)
{
    char *dir = test_tmpdir();
    char dst[4200], one[4200];
    snprintf(dst, sizeof(dst), "%s/f%%03d.jpg", dir);
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    ck_assert_int_eq(transcode(media("video/foreman_qcif_176x144_30fps_10f_raw.y4m"), dst, &os, 3,
                               NULL), 0);
    snprintf(one, sizeof(one), "%s/f003.jpg", dir);
    ck_assert_int_eq(access(one, R_OK), 0);
    NvcInput *in = open_in(dst);
    ck_assert_int_eq(nvc_input_info(in)->color.range, NVC_RANGE_FULL);
    int n = 0;
    NvcPicture pic;
    while (nvc_input_read(in, &pic) > 0) {
        n++;
        nvc_picture_unref(&pic);
    }
    ck_assert_int_eq(n, 3);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

static int dir_entries(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* Refused settings fail the open and leave nothing; an aborted output
 * leaves nothing either. */
START_TEST(test_output_refusals)
{
    char *dir = test_tmpdir();
    char dst[4200];
    NvcInput *in = open_in(media("video/foreman_qcif_176x144_30fps_10f_raw.y4m"));
    const NvcVideoInfo *info = nvc_input_info(in);
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.logger = logger;
    NvcOutput *out;
    snprintf(dst, sizeof(dst), "%s/x.mp4", dir);
    const char *bad_key[] = { "no_such_option", "1", NULL };
    os.options = bad_key;
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(last_error, "no_such_option"));
    const char *bad_value[] = { "crf", "abc", NULL };
    os.options = bad_value;
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(EINVAL));
    os.options = NULL;
    os.codec = "no-such-encoder";
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(EINVAL));
    os.codec = "ffv1"; /* MP4 cannot hold FFV1 */
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(EINVAL));
    os.codec = NULL;
    snprintf(dst, sizeof(dst), "%s/x.unknown-extension", dir);
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(ENOTSUP));
    os.container = "no-such-muxer";
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(ENOTSUP));
    os.container = NULL;
    snprintf(dst, sizeof(dst), "%s/x.y4m", dir); /* encoder options for a Y4M file */
    const char *crf[] = { "crf", "18", NULL };
    os.options = crf;
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), NVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(last_error, "'crf'"));
    os.options = NULL;
    ck_assert_int_eq(dir_entries(dir), 0);
    /* aborted after a picture: the temporary file goes too */
    snprintf(dst, sizeof(dst), "%s/aborted.mkv", dir);
    ck_assert_int_eq(nvc_output_open(&out, dst, info, &os), 0);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), 1);
    ck_assert_int_eq(nvc_output_write(out, &pic), 0);
    nvc_picture_unref(&pic);
    ck_assert_int_eq(dir_entries(dir), 1); /* the temporary file */
    nvc_output_close(&out, 0);
    ck_assert_int_eq(dir_entries(dir), 0);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

/* ---- filter graphs ------------------------------------------------------ */

typedef struct Filtered {
    NvcVideoInfo info;        /* the graph's output info */
    NvcPicture pic[64];
    int n;
} Filtered;

static int run_graph(const char *clip, const char *graph, int frames, Filtered *out)
{
    NvcInput *in = open_in(clip);
    NvcFilterSettings fs;
    nvc_filter_default_settings(&fs);
    fs.logger = logger;
    NvcFilterGraph *g;
    int ret = nvc_filter_open(&g, graph, nvc_input_info(in), &fs);
    memset(out, 0, sizeof(*out));
    if (ret < 0) {
        nvc_input_close(&in);
        return ret;
    }
    out->info = *nvc_filter_output_info(g);
    for (int i = 0; i <= frames && !ret; i++) {
        NvcPicture pic;
        if (i < frames && nvc_input_read(in, &pic) > 0) {
            ret = nvc_filter_send_picture(g, &pic);
            nvc_picture_unref(&pic);
        } else {
            ret = nvc_filter_send_picture(g, NULL);
            i = frames;
        }
        while (!ret && (ret = nvc_filter_get_picture(g, &out->pic[out->n])) == 0)
            ck_assert_int_lt(++out->n, 64);
        ret = ret == NVC_ERR(EAGAIN) ? 0 : ret;
    }
    nvc_filter_close(&g);
    nvc_input_close(&in);
    return ret;
}

static void filtered_free(Filtered *f)
{
    for (int i = 0; i < f->n; i++)
        nvc_picture_unref(&f->pic[i]);
}

START_TEST(test_filter_scale_fps)
{
    Filtered f;
    ck_assert_int_eq(run_graph(media("video/foreman_cif_352x288_30fps_27f.y4m"), "scale=176:-2,fps=10",
                               27, &f), 0);
    ck_assert_int_eq(f.info.p.w, 176);
    ck_assert_int_eq(f.info.p.h, 144);
    ck_assert_int_eq(f.info.fps_num, 10);
    ck_assert_int_eq(f.info.fps_den, 1);
    ck_assert_int_eq(f.n, 9); /* 27 frames at 30 fps = 0.9 s */
    for (int i = 0; i < f.n; i++) {
        ck_assert_int_eq(f.pic[i].p.w, 176);
        ck_assert_int_eq(f.pic[i].pts, i);
    }
    filtered_free(&f);
}
END_TEST

/* split + hstack: both halves are the input, unchanged (crop lossless). */
START_TEST(test_filter_split_hstack)
{
    const char *clip = media("video/foreman_qcif_176x144_30fps_10f_raw.y4m");
    Filtered f;
    ck_assert_int_eq(run_graph(clip, "split[a][b];[a][b]hstack", 3, &f), 0);
    ck_assert_int_eq(f.info.p.w, 352);
    ck_assert_int_eq(f.info.p.h, 144);
    ck_assert_int_eq(f.n, 3);
    NvcInput *in = open_in(clip);
    for (int i = 0; i < f.n; i++) {
        NvcPicture src, half = f.pic[i];
        ck_assert_int_eq(nvc_input_read(in, &src), 1);
        half.p.w = 176;
        ck_assert(test_same_picture(&src, &half));
        for (int p = 0; p < 3; p++) /* the right half */
            half.data[p] = (uint8_t *)f.pic[i].data[p] + (p ? 88 : 176);
        ck_assert(test_same_picture(&src, &half));
        nvc_picture_unref(&src);
    }
    nvc_input_close(&in);
    filtered_free(&f);
}
END_TEST

START_TEST(test_filter_formats)
{
    const char *clip = media("video/sparks_480x270_10bit_60fps_5f_raw.y4m");
    Filtered f;
    /* 10 bits in, 10 bits out through a size change */
    ck_assert_int_eq(run_graph(clip, "crop=240:136:16:8", 2, &f), 0);
    ck_assert_int_eq(f.info.p.bpc, 10);
    ck_assert_int_eq(f.info.p.w, 240);
    ck_assert_int_eq(f.n, 2);
    filtered_free(&f);
    /* formats nvc lacks come back as the nearest one it has */
    ck_assert_int_eq(run_graph(clip, "format=gray", 1, &f), 0);
    ck_assert_int_eq(f.info.p.layout, NVC_PIXEL_LAYOUT_I400);
    filtered_free(&f);
    ck_assert_int_eq(run_graph(clip, "format=rgb24", 1, &f), 0);
    ck_assert_int_eq(f.info.p.layout, NVC_PIXEL_LAYOUT_I444);
    ck_assert_int_eq(f.info.color.matrix, NVC_MC_IDENTITY);
    ck_assert_int_eq(f.pic[0].color.matrix, NVC_MC_IDENTITY);
    filtered_free(&f);
}
END_TEST

START_TEST(test_filter_bad_graph)
{
    const char *clip = media("video/foreman_qcif_176x144_30fps_10f_raw.y4m");
    Filtered f;
    last_error[0] = 0;
    ck_assert_int_eq(run_graph(clip, "no_such_filter", 1, &f), NVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(last_error, "no_such_filter"));
    ck_assert_int_eq(run_graph(clip, "scale=w=oops", 1, &f), NVC_ERR(EINVAL));
    ck_assert_int_eq(run_graph(clip, "split[a][b]", 1, &f), NVC_ERR(EINVAL)); /* two outputs */
}
END_TEST

int main(void)
{
    static const char *const media[] = {
        "video/bitstreams/carphone_pristine.mp4", "video/bitstreams/vp90-2-2pass-akiyo.webm",
        "video/foreman_qcif_176x144_30fps_10f_raw.y4m", "video/foreman_cif_352x288_30fps_27f.y4m",
        "video/sparks_480x270_10bit_60fps_5f_raw.y4m", "image/kodak/kodim23.png", NULL
    };
    if (!test_media("test_playback", media))
        return TEST_SKIP;
    /* FFmpeg's own explanations stay out of the test log. */
    nvc_ffmpeg_route_log(&logger);
    Suite *s = suite_create("playback");
    TCase *tc = tcase_create("ffmpeg");
    tcase_add_test(tc, test_input_mp4);
    tcase_add_test(tc, test_input_skip);
    tcase_add_test(tc, test_input_refused);
    tcase_add_test(tc, test_output_lossless_8bit);
    tcase_add_test(tc, test_output_lossless_10bit);
    tcase_add_test(tc, test_output_mp4_10bit_color);
    tcase_add_test(tc, test_output_depth_lost_warned);
    tcase_add_test(tc, test_output_rgb);
    tcase_add_test(tc, test_output_pix_fmt_and_422_input);
    tcase_add_test(tc, test_output_refusals);
    tcase_add_test(tc, test_output_jpeg_sequence);
    tcase_add_test(tc, test_filter_scale_fps);
    tcase_add_test(tc, test_filter_split_hstack);
    tcase_add_test(tc, test_filter_formats);
    tcase_add_test(tc, test_filter_bad_graph);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
