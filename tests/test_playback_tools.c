/*
 * nvenc and nvdec end to end with the FFmpeg paths: a real clip is encoded
 * once with a tiny, fast setting of the first nvc codec this build has,
 * then decoded through every output (Y4M file and stdout, PNG sequence,
 * lossless Matroska, MP4, -vf graphs, --start/--frames) and each result is
 * compared with the Y4M decode; the frei0r plugin loaded by ffmpeg gives
 * the decoder's pictures as RGBA; ffprobe sees the metadata; nvenc reads an
 * MP4 and keeps its rate and aspect ratio. Skipped (77) while no nvc codec
 * is built in; ffmpeg/ffprobe checks are skipped when those are missing.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "nvc/nvc.h"
#include "tests/common.h"

static const char *build_dir;
static char *dir;              /* temporary files */
static char stream[4300];      /* the encoded clip */
static char ref[4300];         /* its Y4M decode */
static const char *codec_args; /* nvenc options of the codec under test */
static int have_ffmpeg, have_frei0r;

#define FRAMES 4

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st == -1 ? -1 : WEXITSTATUS(st);
}

/* One line of a command's output (trimmed), or "" */
static const char *output_of(const char *cmd)
{
    static char line[4096];
    line[0] = 0;
    FILE *p = popen(cmd, "r");
    if (p) {
        size_t n = fread(line, 1, sizeof(line) - 1, p);
        line[n] = 0;
        pclose(p);
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = 0;
    return line;
}

static const char *tmp(const char *name)
{
    static char buf[4][4300];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

/* Frames of `path` (first..first+n-1 of the reference, converted to RGB
 * when `rgb`) are exactly the reference's. */
static void assert_frames(const char *path, int first, int n, int rgb)
{
    NvcInput *a, *b;
    ck_assert_msg(nvc_input_open(&a, ref, NULL) == 0, "%s", ref);
    ck_assert_msg(nvc_input_open(&b, path, NULL) == 0, "cannot read %s", path);
    ck_assert_int_eq(nvc_input_skip(a, first), 0);
    int count = 0;
    NvcPicture pa, pb;
    while (nvc_input_read(b, &pb) > 0) {
        ck_assert_int_eq(nvc_input_read(a, &pa), 1);
        if (rgb) {
            NvcPicture c;
            ck_assert_int_eq(nvc_picture_to_rgb(&c, &pa, 8), 0);
            nvc_picture_unref(&pa);
            pa = c;
        }
        ck_assert_msg(test_same_picture(&pa, &pb), "%s: frame %d differs from the Y4M decode", path, count);
        nvc_picture_unref(&pa);
        nvc_picture_unref(&pb);
        count++;
    }
    ck_assert_int_eq(count, n);
    nvc_input_close(&a);
    nvc_input_close(&b);
}

/* Once for all tests: encode the sample clip, decode it to the Y4M
 * reference. */
static void setup(void)
{
    build_dir = getenv("NVC_BUILDDIR");
    if (!build_dir)
        build_dir = ".";
    dir = test_tmpdir();
    const char *src = getenv("NVC_SRCDIR");
    snprintf(stream, sizeof(stream), "%s/clip.nvc", dir);
    snprintf(ref, sizeof(ref), "%s/ref.y4m", dir);
    ck_assert_int_eq(run("'%s/tools/nvenc' --quiet %s -n %d --title 'two people' "
                         "'%s/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m' '%s' 2>/dev/null",
                         build_dir, codec_args, FRAMES, src ? src : ".", stream), 0);
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -o '%s'", build_dir, stream, ref), 0);
}

static void teardown(void)
{
    test_rmdir(dir);
}

START_TEST(test_outputs)
{
    assert_frames(ref, 0, FRAMES, 0);
    /* stdout: the same bytes as the file */
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -o - | cmp -s - '%s'", build_dir, stream, ref), 0);
    /* PNG sequence: the reference in RGB */
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -o '%s'", build_dir, stream, tmp("f%03d.png")), 0);
    assert_frames(tmp("f%03d.png"), 0, FRAMES, 1);
    /* lossless Matroska, and --start/--frames */
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -o '%s' -c:v ffv1", build_dir, stream,
                         tmp("lossless.mkv")), 0);
    assert_frames(tmp("lossless.mkv"), 0, FRAMES, 0);
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' --start 1 --frames 2 -o '%s' -c:v ffv1", build_dir,
                         stream, tmp("part.nut")), 0);
    assert_frames(tmp("part.nut"), 1, 2, 0);
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' --start 2 -o '%s'", build_dir, stream,
                         tmp("part.y4m")), 0);
    assert_frames(tmp("part.y4m"), 2, FRAMES - 2, 0);
}
END_TEST

START_TEST(test_mp4_and_filters)
{
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -o '%s' -crf 20 -preset ultrafast", build_dir,
                         stream, tmp("out.mp4")), 0);
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, tmp("out.mp4"), NULL), 0);
    ck_assert_int_eq(nvc_input_info(in)->fps_num, 12);
    nvc_input_close(&in);
    /* a graph: size and frame count */
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -vf 'scale=160:96,split[a][b];[a][b]hstack' -o '%s'",
                         build_dir, stream, tmp("stack.y4m")), 0);
    ck_assert_int_eq(nvc_input_open(&in, tmp("stack.y4m"), NULL), 0);
    ck_assert_int_eq(nvc_input_info(in)->p.w, 320);
    ck_assert_int_eq(nvc_input_info(in)->p.h, 96);
    nvc_input_close(&in);
    /* a bad graph: FFmpeg's reason and a non-zero exit, no output */
    ck_assert_int_ne(run("'%s/tools/nvdec' '%s' -vf no_such_filter -o '%s' 2>'%s'", build_dir,
                         stream, tmp("bad.y4m"), tmp("err")), 0);
    ck_assert_int_ne(access(tmp("bad.y4m"), F_OK), 0);
    char cmd[4400];
    snprintf(cmd, sizeof(cmd), "cat '%s'", tmp("err"));
    ck_assert_msg(strstr(output_of(cmd), "No such filter: 'no_such_filter'") != NULL, "stderr: %s",
                  output_of(cmd));
    if (!have_ffmpeg)
        return;
    /* ffmpeg decodes the MP4; ffprobe sees the scaled size */
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -count_frames -select_streams v -show_entries "
             "stream=codec_name,nb_read_frames -of csv=p=0 '%s'", tmp("out.mp4"));
    ck_assert_str_eq(output_of(cmd), "h264," "4");
    ck_assert_int_eq(run("'%s/tools/nvdec' '%s' -vf scale=160:-2 -o '%s'", build_dir, stream,
                         tmp("small.mkv")), 0);
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries stream=width,height -of csv=p=0 '%s'",
             tmp("small.mkv"));
    ck_assert_str_eq(output_of(cmd), "160,96");
    /* the pipe into ffmpeg */
    snprintf(cmd, sizeof(cmd), "'%s/tools/nvdec' '%s' -o - | ffmpeg -v error -i - -f framecrc - | "
             "grep -c '^0,'", build_dir, stream);
    ck_assert_str_eq(output_of(cmd), "4");
}
END_TEST

START_TEST(test_ffprobe_metadata)
{
    if (!have_ffmpeg)
        return;
    char cmd[4400], want[256];
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries stream_tags=title,encoder,description "
             "-of default=nw=1 '%s'", stream);
    const char *out = output_of(cmd);
    ck_assert_msg(strstr(out, "TAG:title=two people") != NULL, "%s", out);
    snprintf(want, sizeof(want), "TAG:ENCODER=nvc %s", nvc_version());
    ck_assert_msg(strstr(out, want) != NULL, "%s", out);
    ck_assert_msg(strstr(out, "TAG:DESCRIPTION=nvc ") != NULL, "%s", out);
}
END_TEST

START_TEST(test_frei0r)
{
    if (!have_frei0r)
        return;
    /* 6 frames at the stream's 12 fps: 0..3, then 3 held */
    ck_assert_int_eq(run("FREI0R_PATH='%s/tools/frei0r/.libs' ffmpeg -v error -nostdin -f lavfi -i "
                         "'frei0r_src=size=320x192:framerate=12:filter_name=nvc:filter_params=%s' "
                         "-frames:v 6 -f rawvideo -pix_fmt rgba -y '%s'", build_dir, stream,
                         tmp("frei0r.rgba")), 0);
    FILE *f = fopen(tmp("frei0r.rgba"), "rb");
    ck_assert_ptr_nonnull(f);
    const size_t sz = 320 * 192 * 4;
    uint8_t *got = malloc(sz);
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, ref, NULL), 0);
    NvcPicture pic = { 0 }, rgb;
    for (int i = 0; i < 6; i++) {
        if (i < FRAMES) {
            nvc_picture_unref(&pic);
            ck_assert_int_eq(nvc_input_read(in, &pic), 1);
        }
        ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &pic, 8), 0);
        ck_assert_int_eq(fread(got, 1, sz, f), sz);
        for (int y = 0; y < 192; y++)
            for (int x = 0; x < 320; x++)
                for (int c = 0; c < 4; c++) {
                    const int want = c < 3 ? ((const uint8_t *)rgb.data[c])[y * rgb.stride[c] + x] : 255;
                    ck_assert_msg(got[(y * 320 + x) * 4 + c] == want, "frame %d (%d,%d)", i, x, y);
                }
        nvc_picture_unref(&rgb);
    }
    nvc_picture_unref(&pic);
    nvc_input_close(&in);
    free(got);
    fclose(f);
}
END_TEST

/* nvenc on an MP4 (H.264, 30000/1001 fps, SAR 128:117): --start and
 * --frames, rate and aspect ratio kept. */
START_TEST(test_nvenc_mp4)
{
    const char *mp4 = test_data_path("video/bitstreams/carphone_pristine.mp4");
    ck_assert_ptr_nonnull(mp4);
    char src[4200];
    snprintf(src, sizeof(src), "%s", mp4);
    ck_assert_int_eq(run("'%s/tools/nvenc' --quiet %s --start 5 --frames 3 '%s' '%s' 2>/dev/null",
                         build_dir, codec_args, src, tmp("mp4.nvc")), 0);
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open(&d, tmp("mp4.nvc"), NULL), 0);
    const NvcStreamConfig *cfg = nvc_demux_get_config(d);
    ck_assert_int_eq(cfg->p.w, 176);
    ck_assert_int_eq(cfg->fps_num, 30000);
    ck_assert_int_eq(cfg->fps_den, 1001);
    ck_assert_int_eq(cfg->sar_num, 128);
    ck_assert_int_eq(cfg->sar_den, 117);
    int n = 0;
    NvcData pkt;
    while (nvc_demux_read_packet(d, &pkt) > 0) {
        n++;
        nvc_data_unref(&pkt);
    }
    ck_assert_int_eq(n, 3);
    nvc_demux_close(&d);
}
END_TEST

static void drop(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
}

int main(void)
{
    nvc_ffmpeg_route_log(&(NvcLogger){ NULL, drop }); /* FFmpeg's notes on NVC1 tracks */
    /* The codec under test: the first this build can encode, tiny settings. */
    static const struct { enum NvcCodecId id; const char *args; } codecs[] = {
        { NVC_CODEC_HNERV, "-c hnerv -s xs --epochs 2" },
        { NVC_CODEC_NERVPP, "-c nervpp -s xs --epochs 2" },
        { NVC_CODEC_DCVC, "-c dcvc -q 8" },
        { NVC_CODEC_IMAGE, "-c image -q 8" }, /* every frame an intra picture */
    };
    const NvcVideoInfo info = { .p = { 320, 192, NVC_PIXEL_LAYOUT_I420, 8 }, .fps_num = 12,
                                .fps_den = 1, .sar_num = 1, .sar_den = 1 };
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]) && !codec_args; i++) {
        NvcEncoderSettings s;
        nvc_encoder_default_settings(&s);
        s.codec = codecs[i].id;
        NvcEncoder *enc;
        if (nvc_encoder_open(&enc, &info, &s) == 0) {
            codec_args = codecs[i].args;
            nvc_encoder_close(&enc);
        }
    }
    if (!codec_args) {
        printf("SKIP: no nvc codec in this build\n");
        return TEST_SKIP;
    }
    have_ffmpeg = system("ffmpeg -version >/dev/null 2>&1") == 0 &&
                  system("ffprobe -version >/dev/null 2>&1") == 0;
    have_frei0r = have_ffmpeg && system("ffmpeg -hide_banner -h filter=frei0r_src >/dev/null 2>&1") == 0;
    const char *b = getenv("NVC_BUILDDIR");
    char so[4200];
    snprintf(so, sizeof(so), "%s/tools/frei0r/.libs/nvc.so", b ? b : ".");
    have_frei0r &= access(so, R_OK) == 0;
#ifdef __SANITIZE_ADDRESS__
    have_frei0r = 0; /* an instrumented plugin cannot load into an uninstrumented ffmpeg */
#endif
    Suite *s = suite_create("playback tools");
    TCase *tc = tcase_create("nvdec");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_outputs);
    tcase_add_test(tc, test_mp4_and_filters);
    tcase_add_test(tc, test_ffprobe_metadata);
    tcase_add_test(tc, test_frei0r);
    static const char *const mp4[] = { "video/bitstreams/carphone_pristine.mp4", NULL };
    if (test_media("test_nvenc_mp4", mp4))
        tcase_add_test(tc, test_nvenc_mp4);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
