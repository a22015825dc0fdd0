/*
 * The frei0r source plugin: its frames (time -> frame, RGBA, padding,
 * scaling, hold and loop, errors) and, when ffmpeg with frei0r_src is
 * installed, the plugin loaded by ffmpeg itself. Expected frames come from
 * the nvc reader and nvc_picture_to_rgb, independently of the plugin.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <sys/stat.h>

#include "nvc/nvc.h"
#include "tests/common.h"
#include "tools/frei0r/source.h"

static char clip[4096];

static void set_clip(const char *rel)
{
    const char *p = test_data_path(rel);
    ck_assert_msg(p != NULL, "test media %s missing", rel);
    snprintf(clip, sizeof(clip), "%s", p);
}

/* Frame `index` of path (holding the last one past the end) as RGBA in a
 * w x h frame, padded with opaque black, computed from the nvc reader. */
static uint8_t *expected_rgba(const char *path, int64_t index, int w, int h)
{
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, NULL), 0);
    NvcPicture pic, last = { 0 };
    for (int64_t i = 0; i <= index && nvc_input_read(in, &pic) > 0; i++) {
        nvc_picture_unref(&last);
        nvc_picture_move_ref(&last, &pic);
    }
    nvc_input_close(&in);
    NvcPicture rgb;
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &last, 8), 0);
    nvc_picture_unref(&last);
    uint8_t *out = malloc((size_t)w * h * 4);
    ck_assert_ptr_nonnull(out);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *d = out + ((size_t)y * w + x) * 4;
            const int in_pic = x < rgb.p.w && y < rgb.p.h;
            for (int c = 0; c < 3; c++)
                d[c] = in_pic ? ((const uint8_t *)rgb.data[c])[y * rgb.stride[c] + x] : 0;
            d[3] = 255;
        }
    }
    nvc_picture_unref(&rgb);
    return out;
}

START_TEST(test_frame_at)
{
    /* FFmpeg gives av_rescale_q(n, 1/R, 1/1000): times rounded to ms. */
    ck_assert_int_eq(fsrc_frame_at(25, 1, 0), 0);
    ck_assert_int_eq(fsrc_frame_at(25, 1, 39), 0);
    ck_assert_int_eq(fsrc_frame_at(25, 1, 40), 1);
    ck_assert_int_eq(fsrc_frame_at(25, 1, -5), 0);
    for (int64_t n = 0; n < 100000; n += 7) {
        /* the host's rate equals the stream's: frame n at n's time */
        const double ms = floor(n * 1001000.0 / 30000 + 0.5);
        ck_assert_int_eq(fsrc_frame_at(30000, 1001, ms), n);
        const double ms60 = floor(n * 1001000.0 / 60000 + 0.5);
        ck_assert_int_eq(fsrc_frame_at(60000, 1001, ms60), n);
        /* host twice as fast: each stream frame twice */
        ck_assert_int_eq(fsrc_frame_at(30000, 1001, ms60), n / 2);
    }
}
END_TEST

static void assert_frame(FsrcSource *s, double ms, int64_t index, int w, int h)
{
    uint8_t *got = malloc((size_t)w * h * 4), *want = expected_rgba(clip, index, w, h);
    ck_assert_int_eq(fsrc_render(s, ms, got), 0);
    ck_assert_msg(!memcmp(got, want, (size_t)w * h * 4), "frame at %.0f ms is not frame %lld",
                  ms, (long long)index);
    free(got);
    free(want);
}

START_TEST(test_render_hold_and_seek)
{
    set_clip("video/foreman_qcif_176x144_30fps_10f_raw.y4m"); /* 10 frames, 30 fps */
    FsrcSource *s = fsrc_create(176, 144);
    ck_assert_int_eq(fsrc_open(s, clip), 0);
    ck_assert_int_eq(fsrc_info(s)->p.w, 176);
    for (int n = 0; n < 13; n++) /* frames 10, 11, 12 hold the last one */
        assert_frame(s, floor(n * 1000.0 / 30 + 0.5), n < 10 ? n : 9, 176, 144);
    assert_frame(s, 100, 3, 176, 144); /* back in time */
    assert_frame(s, 1e9, 9, 176, 144);
    fsrc_free(&s);
}
END_TEST

START_TEST(test_render_loop)
{
    set_clip("video/foreman_qcif_176x144_30fps_10f_raw.y4m");
    FsrcSource *s = fsrc_create(176, 144);
    fsrc_set_loop(s, 1);
    ck_assert_int_eq(fsrc_open(s, clip), 0);
    for (int n = 0; n < 25; n += 4)
        assert_frame(s, floor(n * 1000.0 / 30 + 0.5), n % 10, 176, 144);
    fsrc_free(&s);
}
END_TEST

/* 852 wide: FFmpeg 5.1 needs 864; the picture sits at the left, the 12
 * extra columns are opaque black. */
START_TEST(test_render_padded)
{
    set_clip("video/railway_852x480_30fps_6f.y4m");
    FsrcSource *s = fsrc_create(864, 480);
    ck_assert_int_eq(fsrc_open(s, clip), 0);
    assert_frame(s, 34, 1, 864, 480);
    fsrc_free(&s);
}
END_TEST

START_TEST(test_render_scaled)
{
    set_clip("video/foreman_qcif_176x144_30fps_10f_raw.y4m");
    FsrcSource *s = fsrc_create(96, 80);
    ck_assert_int_eq(fsrc_open(s, clip), 0);
    uint8_t *got = malloc(96 * 80 * 4), *full = expected_rgba(clip, 0, 176, 144);
    ck_assert_int_eq(fsrc_render(s, 0, got), 0);
    /* a scaled picture: its mean is the source's, within a few levels */
    double mg = 0, mf = 0;
    for (int i = 0; i < 96 * 80; i++)
        mg += got[4 * i + 1];
    for (int i = 0; i < 176 * 144; i++)
        mf += full[4 * i + 1];
    mg /= 96 * 80;
    mf /= 176 * 144;
    ck_assert_msg(fabs(mg - mf) < 3, "mean green %.1f vs %.1f", mg, mf);
    ck_assert_int_eq(got[4 * (96 * 80 - 1) + 3], 255);
    free(got);
    free(full);
    fsrc_free(&s);
}
END_TEST

START_TEST(test_render_errors)
{
    FsrcSource *s = fsrc_create(32, 16);
    uint8_t frame[32 * 16 * 4];
    memset(frame, 7, sizeof(frame));
    ck_assert_int_lt(fsrc_render(s, 0, frame), 0); /* no file yet */
    ck_assert_ptr_nonnull(strstr(fsrc_error(s), "filter_params"));
    ck_assert_int_eq(frame[0], 0);
    ck_assert_int_eq(frame[3], 255);
    ck_assert_int_lt(fsrc_open(s, "/nonexistent/clip.nvc"), 0);
    ck_assert_ptr_nonnull(strstr(fsrc_error(s), "/nonexistent/clip.nvc"));
    ck_assert_int_lt(fsrc_render(s, 40, frame), 0);
    fsrc_free(&s);
    ck_assert_ptr_null(fsrc_create(0, 16));
}
END_TEST

/* ffmpeg loads the plugin from FREI0R_PATH and gets the expected frames. */
static int ffmpeg_has_frei0r(void)
{
#ifdef __SANITIZE_ADDRESS__
    return 0; /* an instrumented plugin cannot load into an uninstrumented ffmpeg */
#endif
    return system("ffmpeg -hide_banner -h filter=frei0r_src >/dev/null 2>&1") == 0;
}

static void ffmpeg_frames(const char *file, int w, int h, const char *rate, int n, const char *extra,
                          const char *out)
{
    const char *build = getenv("NVC_BUILDDIR");
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "FREI0R_PATH='%s/tools/frei0r/.libs' ffmpeg -v error -nostdin -f lavfi -i "
             "'frei0r_src=size=%dx%d:framerate=%s:filter_name=nvc:filter_params=%s%s' "
             "-frames:v %d -f rawvideo -pix_fmt rgba -y '%s'",
             build ? build : ".", w, h, rate, file, extra, n, out);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void assert_file_frames(const char *path, const char *source, int w, int h, int n,
                               const int64_t *index)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    const size_t sz = (size_t)w * h * 4;
    uint8_t *got = malloc(sz);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(fread(got, 1, sz, f), sz);
        uint8_t *want = expected_rgba(source, index[i], w, h);
        ck_assert_msg(!memcmp(got, want, sz), "ffmpeg frame %d is not frame %lld", i,
                      (long long)index[i]);
        free(want);
    }
    ck_assert_int_eq(fread(got, 1, 1, f), 0);
    free(got);
    fclose(f);
}

START_TEST(test_ffmpeg_frei0r_src)
{
    if (!ffmpeg_has_frei0r()) {
        fprintf(stderr, "skipped: no ffmpeg with frei0r_src (or a sanitizer build)\n");
        return;
    }
    set_clip("video/foreman_qcif_176x144_30fps_10f_raw.y4m");
    char *dir = test_tmpdir(), out[4200];
    snprintf(out, sizeof(out), "%s/frames.rgba", dir);
    /* 12 frames of a 10-frame clip at its own rate: 0..9, then 9 held */
    ffmpeg_frames(clip, 176, 144, "30", 12, "", out);
    const int64_t held[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9 };
    assert_file_frames(out, clip, 176, 144, 12, held);
    /* looping (|y), and 852 wide padded to 864 then cropped back */
    ffmpeg_frames(clip, 176, 144, "30", 12, "|y", out);
    const int64_t looped[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1 };
    assert_file_frames(out, clip, 176, 144, 12, looped);
    set_clip("video/railway_852x480_30fps_6f.y4m");
    ffmpeg_frames(clip, 864, 480, "15", 2, ",crop=852:480:0:0", out);
    const int64_t half_rate[2] = { 0, 2 };
    assert_file_frames(out, clip, 852, 480, 2, half_rate);
    test_rmdir(dir);
}
END_TEST

int main(void)
{
    static const char *const media[] = { "video/foreman_qcif_176x144_30fps_10f_raw.y4m",
                                         "video/railway_852x480_30fps_6f.y4m", NULL };
    if (!test_media("test_frei0r", media))
        return TEST_SKIP;
    Suite *s = suite_create("frei0r");
    TCase *tc = tcase_create("source");
    tcase_add_test(tc, test_frame_at);
    tcase_add_test(tc, test_render_hold_and_seek);
    tcase_add_test(tc, test_render_loop);
    tcase_add_test(tc, test_render_padded);
    tcase_add_test(tc, test_render_errors);
#ifdef NVC_HAVE_FFMPEG /* scaling is libswscale's */
    tcase_add_test(tc, test_render_scaled);
    tcase_add_test(tc, test_ffmpeg_frei0r_src);
#endif
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
