/*
 * Frame I/O: Y4M, raw .yuv, PNG (single and numbered), colour conversion,
 * hostile headers, atomic outputs.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <dirent.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "codec/internal.h"
#include "nvc/convert.h"
#include "nvc/io.h"
#include "nvc/nvc.h"

#define SAMPLE "/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m"

static char *sample_path(void)
{
    static char buf[4096];
    const char *src = getenv("NVC_SRCDIR");
    snprintf(buf, sizeof(buf), "%s%s", src ? src : ".", SAMPLE);
    return buf;
}

static int last_level = -1;
static char last_msg[1024];
static void capture_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (level == NVC_LOG_ERROR || last_level < 0) {
        last_level = level;
        vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    }
}

static NvcInputSettings in_settings(void)
{
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.logger.callback = capture_log;
    last_level = -1;
    last_msg[0] = 0;
    return s;
}

static void write_file(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*n + 1);
    ck_assert_uint_eq(fread(buf, 1, *n, f), *n);
    fclose(f);
    return buf;
}

static int pictures_equal(const NvcPicture *a, const NvcPicture *b)
{
    if (memcmp(&a->p, &b->p, sizeof(a->p)))
        return 0;
    for (int i = 0; i < nvc_picture_planes(a->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&a->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            if (memcmp((uint8_t *)a->data[i] + y * a->stride[i],
                       (uint8_t *)b->data[i] + y * b->stride[i], (size_t)w * (a->p.bpc > 8 ? 2 : 1)))
                return 0;
    }
    return 1;
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(test_y4m_read_sample)
{
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, sample_path(), &s), 0);
    const NvcVideoInfo *info = nvc_input_info(in);
    ck_assert_int_eq(info->p.w, 320);
    ck_assert_int_eq(info->p.h, 192);
    ck_assert_int_eq(info->p.layout, NVC_PIXEL_LAYOUT_I420);
    ck_assert_int_eq(info->p.bpc, 8);
    ck_assert_int_eq(info->fps_num, 12);
    ck_assert_int_eq(info->fps_den, 1);
    ck_assert_int_eq(info->nb_frames, 9);
    ck_assert_int_eq(info->color.chroma_location, NVC_CHROMA_CENTER);
    /* Compare every frame with the file's bytes. */
    size_t n;
    uint8_t *raw = read_file(sample_path(), &n);
    const uint8_t *p = (uint8_t *)strchr((char *)raw, '\n') + 1;
    NvcPicture pic;
    int frames = 0;
    while (nvc_input_read(in, &pic) == 1) {
        ck_assert_int_eq(pic.pts, frames);
        ck_assert_mem_eq(p, "FRAME\n", 6);
        p += 6;
        for (int i = 0; i < 3; i++) {
            int w, h;
            nvc_picture_plane_size(&pic.p, i, &w, &h);
            for (int y = 0; y < h; y++, p += w)
                ck_assert_mem_eq((uint8_t *)pic.data[i] + y * pic.stride[i], p, (size_t)w);
        }
        nvc_picture_unref(&pic);
        frames++;
    }
    ck_assert_int_eq(frames, 9);
    ck_assert_ptr_eq(p, raw + n);
    ck_assert_int_eq(nvc_input_read(in, &pic), 0); /* stays at the end */
    nvc_input_close(&in);
    ck_assert_ptr_null(in);
    free(raw);
}
END_TEST

/* Read path, write it to out_path with the same info; returns frames. */
static int copy_video(const char *path, const char *out_path, NvcInputSettings *s,
                      NvcOutputSettings *os)
{
    NvcInput *in;
    NvcOutput *out;
    ck_assert_int_eq(nvc_input_open(&in, path, s), 0);
    ck_assert_int_eq(nvc_output_open(&out, out_path, nvc_input_info(in), os), 0);
    NvcPicture pic;
    int n = 0, ret;
    while ((ret = nvc_input_read(in, &pic)) == 1) {
        ck_assert_int_eq(nvc_output_write(out, &pic), 0);
        nvc_picture_unref(&pic);
        n++;
    }
    ck_assert_int_eq(ret, 0);
    ck_assert_int_eq(nvc_output_close(&out, 1), 0);
    nvc_input_close(&in);
    return n;
}

START_TEST(test_y4m_roundtrip_exact)
{
    char *dir = test_tmpdir(), out[4200];
    snprintf(out, sizeof(out), "%s/copy.y4m", dir);
    NvcInputSettings s = in_settings();
    ck_assert_int_eq(copy_video(sample_path(), out, &s, NULL), 9);
    size_t na, nb;
    uint8_t *a = read_file(sample_path(), &na), *b = read_file(out, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na); /* same header words as FFmpeg writes */
    free(a);
    free(b);
    ck_assert_int_eq(count_dir_entries(dir), 1); /* no temporary left */
    test_rmdir(dir);
}
END_TEST

/* registered only where the shared media has the clip (main) */
#define TEN_BIT_CLIP "video/sparks_480x270_10bit_60fps_5f_raw.y4m"

START_TEST(test_y4m_10bit)
{
    const char *path = test_data_path(TEN_BIT_CLIP);
    ck_assert_ptr_nonnull(path);
    char src[4096];
    snprintf(src, sizeof(src), "%s", path);
    char *dir = test_tmpdir(), out[4200];
    snprintf(out, sizeof(out), "%s/ten.y4m", dir);
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, src, &s), 0);
    ck_assert_int_eq(nvc_input_info(in)->p.bpc, 10);
    ck_assert_int_eq(nvc_input_info(in)->fps_num, 60000);
    ck_assert_int_eq(nvc_input_info(in)->fps_den, 1001);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), 1);
    int maxv = 0;
    for (int y = 0; y < 270; y++)
        for (int x = 0; x < 480; x++)
            maxv = NVC_MAX(maxv, ((uint16_t *)((uint8_t *)pic.data[0] + y * pic.stride[0]))[x]);
    ck_assert_int_gt(maxv, 255); /* really 10-bit content */
    ck_assert_int_le(maxv, 1023);
    nvc_picture_unref(&pic);
    nvc_input_close(&in);
    ck_assert_int_eq(copy_video(src, out, &s, NULL), 5);
    /* sample bytes identical after the header lines */
    size_t na, nb;
    uint8_t *a = read_file(src, &na), *b = read_file(out, &nb);
    uint8_t *pa = (uint8_t *)strchr((char *)a, '\n'), *pb = (uint8_t *)strchr((char *)b, '\n');
    ck_assert_uint_eq(na - (size_t)(pa - a), nb - (size_t)(pb - b));
    ck_assert_mem_eq(pa, pb, na - (size_t)(pa - a));
    ck_assert_ptr_nonnull(strstr((char *)b, "C420p10"));
    free(a);
    free(b);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_yuv_names)
{
    NvcVideoInfo info;
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(nvc_yuv_name_parse("/x/Beauty_1920x1080_120fps_420_8bit_YUV.yuv", &info), 0);
    ck_assert_int_eq(info.p.w, 1920);
    ck_assert_int_eq(info.p.h, 1080);
    ck_assert_int_eq(info.fps_num, 120);
    ck_assert_int_eq(info.p.bpc, 8);
    ck_assert_int_eq(info.p.layout, NVC_PIXEL_LAYOUT_I420);
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(nvc_yuv_name_parse("BasketballPass_416x240_50.yuv", &info), 0);
    ck_assert_int_eq(info.p.w, 416);
    ck_assert_int_eq(info.fps_num, 50);
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(nvc_yuv_name_parse("Jockey_3840x2160_120fps_420_10bit_YUV.yuv", &info), 0);
    ck_assert_int_eq(info.p.w, 3840);
    ck_assert_int_eq(info.p.bpc, 10);
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(nvc_yuv_name_parse("clip_352x288_yuv444p10le.yuv", &info), 0);
    ck_assert_int_eq(info.p.layout, NVC_PIXEL_LAYOUT_I444);
    ck_assert_int_eq(info.p.bpc, 10);
    ck_assert_int_eq(info.fps_num, 0);
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(nvc_yuv_name_parse("video2023.yuv", &info), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_yuv_name_parse("a_0x100.yuv", &info), NVC_ERR(EINVAL));
}
END_TEST

START_TEST(test_yuv_raw_roundtrip)
{
    char *dir = test_tmpdir(), raw[4200], back[4200];
    snprintf(raw, sizeof(raw), "%s/Cisco_320x192_12fps_420_8bit_YUV.yuv", dir);
    snprintf(back, sizeof(back), "%s/back.y4m", dir);
    NvcInputSettings s = in_settings();
    ck_assert_int_eq(copy_video(sample_path(), raw, &s, NULL), 9);
    struct stat st;
    ck_assert_int_eq(stat(raw, &st), 0);
    ck_assert_int_eq(st.st_size, 9 * 320 * 192 * 3 / 2);
    /* the name gives size and rate */
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, raw, &s), 0);
    ck_assert_int_eq(nvc_input_info(in)->nb_frames, 9);
    ck_assert_int_eq(nvc_input_info(in)->fps_num, 12);
    ck_assert_int_eq(nvc_input_skip(in, 7), 0);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), 1);
    ck_assert_int_eq(pic.pts, 7);
    nvc_picture_unref(&pic);
    ck_assert_int_eq(nvc_input_skip(in, 100), 0);
    ck_assert_int_eq(nvc_input_read(in, &pic), 0);
    nvc_input_close(&in);
    ck_assert_int_eq(copy_video(raw, back, &s, NULL), 9);
    size_t na, nb;
    uint8_t *a = read_file(sample_path(), &na), *b = read_file(back, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na);
    free(a);
    free(b);
    /* a name without a size needs --size; a partial trailing frame warns */
    char noname[4200];
    snprintf(noname, sizeof(noname), "%s/clip.yuv", dir);
    write_file(noname, "abc", 3);
    s = in_settings();
    ck_assert_int_eq(nvc_input_open(&in, noname, &s), NVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(last_msg, "size"));
    s.w = 2;
    s.h = 2;
    ck_assert_int_eq(nvc_input_open(&in, noname, &s), NVC_ERR_CORRUPT); /* < 1 frame */
    s.w = 1;
    s.h = 1;
    s.layout = NVC_PIXEL_LAYOUT_I400;
    ck_assert_int_eq(nvc_input_open(&in, noname, &s), 0);
    ck_assert_int_eq(nvc_input_info(in)->nb_frames, 3);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

/* Y4M files that must be refused with the given error. */
static void expect_y4m_error(const char *dir, const char *content, size_t n, int err,
                             const char *msg_part)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/bad.y4m", dir);
    write_file(path, content, n);
    NvcInputSettings s = in_settings();
    NvcInput *in = (NvcInput *)1;
    ck_assert_int_eq(nvc_input_open(&in, path, &s), err);
    ck_assert_ptr_null(in);
    ck_assert_int_eq(last_level, NVC_LOG_ERROR);
    ck_assert_msg(strstr(last_msg, msg_part), "message '%s' lacks '%s'", last_msg, msg_part);
    ck_assert_ptr_null(strchr(last_msg, '\n'));
}

START_TEST(test_y4m_hostile_headers)
{
    char *dir = test_tmpdir();
#define BAD(s, err, part) expect_y4m_error(dir, s, sizeof(s) - 1, err, part)
    BAD("", NVC_ERR_CORRUPT, "empty");
    BAD("YUV4MPEG", NVC_ERR_CORRUPT, "not a Y4M");
    BAD("RIFF1234 W2 H2\n", NVC_ERR_CORRUPT, "not a Y4M");
    BAD("YUV4MPEG2 W16 H16 F30:1", NVC_ERR_CORRUPT, "not a Y4M"); /* no newline */
    BAD("YUV4MPEG2 H16 F30:1\n", NVC_ERR_CORRUPT, "width");
    BAD("YUV4MPEG2 W0 H16\n", NVC_ERR_CORRUPT, "width");
    BAD("YUV4MPEG2 W-5 H16\n", NVC_ERR_CORRUPT, "width");
    BAD("YUV4MPEG2 W16x H16\n", NVC_ERR_CORRUPT, "width");
    BAD("YUV4MPEG2 W16 H16 F30:0\n", NVC_ERR_CORRUPT, "frame rate");
    BAD("YUV4MPEG2 W16 H16 Fabc\n", NVC_ERR_CORRUPT, "frame rate");
    BAD("YUV4MPEG2 W16 H16 C422\n", NVC_ERR(ENOTSUP), "C422");
    BAD("YUV4MPEG2 W16 H16 C444alpha\n", NVC_ERR(ENOTSUP), "C444alpha");
    BAD("YUV4MPEG2 W16 H16 It\n", NVC_ERR(ENOTSUP), "interlaced");
    BAD("YUV4MPEG2 W16 H16 Q7\n", NVC_ERR_CORRUPT, "unknown tag");
    BAD("YUV4MPEG2 W99999999999 H16\n", NVC_ERR(ERANGE), "dimensions");
    BAD("YUV4MPEG2 W32768 H32768\n", NVC_ERR(ERANGE), "exceeds"); /* refused before allocating */
    /* an over-long header line */
    char *big = malloc(10000);
    memcpy(big, "YUV4MPEG2 W16 H16 X", 19);
    memset(big + 19, 'a', 9980);
    big[9999] = '\n';
    expect_y4m_error(dir, big, 10000, NVC_ERR_CORRUPT, "not a Y4M");
    free(big);
#undef BAD
    test_rmdir(dir);
}
END_TEST

static void expect_read_error(const char *dir, const char *content, size_t n, int frames_ok)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/frames.y4m", dir);
    write_file(path, content, n);
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, &s), 0);
    NvcPicture pic;
    for (int i = 0; i < frames_ok; i++) {
        ck_assert_int_eq(nvc_input_read(in, &pic), 1);
        nvc_picture_unref(&pic);
    }
    ck_assert_int_eq(nvc_input_read(in, &pic), NVC_ERR_CORRUPT);
    ck_assert_ptr_null(pic.data[0]);
    ck_assert_int_eq(last_level, NVC_LOG_ERROR);
    nvc_input_close(&in);
}

/* A tiny file claiming a 384 MiB frame: refused as truncated before the
 * picture is allocated. The address space is capped below the frame size,
 * so an allocation would fail with ENOMEM instead (not under ASan, which
 * reserves terabytes of address space; Check runs each test in a child). */
START_TEST(test_y4m_huge_frame_claim)
{
#if !defined(__SANITIZE_ADDRESS__)
    char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof(path), "%s/claim.y4m", dir);
    static const char claim[] = "YUV4MPEG2 W8192 H8192 F25:1 C444p16\nFRAME\nabc";
    write_file(path, claim, sizeof(claim) - 1);
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, &s), 0);
    long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm && fscanf(statm, "%ld", &pages) == 1) {
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (128u << 20);
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    }
    if (statm)
        fclose(statm);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), NVC_ERR_CORRUPT);
    ck_assert_msg(strstr(last_msg, "truncated"), "message '%s'", last_msg);
    nvc_input_close(&in);
    test_rmdir(dir);
#endif
}
END_TEST

START_TEST(test_y4m_truncated_frames)
{
    char *dir = test_tmpdir();
    /* 2x2 4:2:0 frame = 6 bytes */
    static const char good[] = "YUV4MPEG2 W2 H2 F25:1\nFRAME\nabcdefFRAME\nabcdef";
    expect_read_error(dir, good, sizeof(good) - 1 - 1, 1);         /* last byte missing */
    expect_read_error(dir, good, sizeof(good) - 1 - 6, 1);         /* header, no samples */
    static const char junk[] = "YUV4MPEG2 W2 H2 F25:1\nFRAME\nabcdefGARBAGE\nabcdef";
    expect_read_error(dir, junk, sizeof(junk) - 1, 1);
    static const char nonl[] = "YUV4MPEG2 W2 H2 F25:1\nFRAME";
    expect_read_error(dir, nonl, sizeof(nonl) - 1, 0);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_missing_and_unknown_files)
{
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, "/nonexistent/x.y4m", &s), NVC_ERR(ENOENT));
    ck_assert_ptr_nonnull(strstr(last_msg, "/nonexistent/x.y4m"));
#ifdef NVC_HAVE_FFMPEG /* other names are FFmpeg's to read */
    ck_assert_int_eq(nvc_input_open(&in, "/tmp", &s), NVC_ERR(EISDIR));
    ck_assert_int_eq(nvc_input_open(&in, "clip.mov", &s), NVC_ERR(ENOENT));
#else
    ck_assert_int_eq(nvc_input_open(&in, "/tmp", &s), NVC_ERR(ENOTSUP));
    ck_assert_int_eq(nvc_input_open(&in, "clip.mov", &s), NVC_ERR(ENOTSUP));
#endif
    s.format = NVC_FILE_Y4M;
    ck_assert_int_eq(nvc_input_open(&in, "/tmp", &s), NVC_ERR(EISDIR));
    s = in_settings();
    ck_assert_int_eq(nvc_input_open(&in, "/nonexistent/a.png", &s), NVC_ERR(ENOENT));
}
END_TEST

START_TEST(test_output_abort_and_commit)
{
    char *dir = test_tmpdir(), path[4200];
    snprintf(path, sizeof(path), "%s/out.y4m", dir);
    NvcInput *in;
    NvcInputSettings s = in_settings();
    ck_assert_int_eq(nvc_input_open(&in, sample_path(), &s), 0);
    NvcPicture pic;
    ck_assert_int_eq(nvc_input_read(in, &pic), 1);
    NvcOutput *out;
    ck_assert_int_eq(nvc_output_open(&out, path, nvc_input_info(in), NULL), 0);
    ck_assert_int_eq(nvc_output_write(out, &pic), 0);
    ck_assert_int_eq(access(path, F_OK), -1); /* not visible while being written */
    ck_assert_int_eq(count_dir_entries(dir), 1);
    ck_assert_int_eq(nvc_output_close(&out, 0), 0);
    ck_assert_int_eq(count_dir_entries(dir), 0);
    ck_assert_int_eq(nvc_output_open(&out, path, nvc_input_info(in), NULL), 0);
    ck_assert_int_eq(nvc_output_write(out, &pic), 0);
    /* a picture of another size is refused */
    NvcPicture other;
    NvcPictureParameters op = pic.p;
    op.w = 16;
    ck_assert_int_eq(nvc_picture_alloc(&other, &op, 0), 0);
    ck_assert_int_eq(nvc_output_write(out, &other), NVC_ERR(EINVAL));
    nvc_picture_unref(&other);
    ck_assert_int_eq(nvc_output_close(&out, 1), 0);
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(count_dir_entries(dir), 1);
    /* unwritable place */
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.logger.callback = capture_log;
    ck_assert_int_lt(nvc_output_open(&out, "/nonexistent/dir/x.y4m", nvc_input_info(in), &os), 0);
    ck_assert_ptr_null(out);
    nvc_picture_unref(&pic);
    nvc_input_close(&in);
    test_rmdir(dir);
}
END_TEST

static void read_one(const char *path, NvcPicture *pic)
{
    NvcInputSettings s = in_settings();
    NvcInput *in;
    ck_assert_int_eq(nvc_input_open(&in, path, &s), 0);
    ck_assert_int_eq(nvc_input_read(in, pic), 1);
    nvc_input_close(&in);
}

#ifdef NVC_HAVE_PNG
#include <png.h>

START_TEST(test_png_roundtrip)
{
    char *dir = test_tmpdir(), p8[4200], p16[4200], pg[4200];
    snprintf(p8, sizeof(p8), "%s/a.png", dir);
    snprintf(p16, sizeof(p16), "%s/b.png", dir);
    snprintf(pg, sizeof(pg), "%s/g.png", dir);
    NvcPicture yuv, rgb, back;
    read_one(sample_path(), &yuv);
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &yuv, 8), 0);
    NvcVideoInfo info = { .p = rgb.p, .color = rgb.color, .fps_num = 1, .fps_den = 1 };
    NvcOutput *out;
    ck_assert_int_eq(nvc_output_open(&out, p8, &info, NULL), 0);
    ck_assert_int_eq(nvc_output_write(out, &rgb), 0);
    ck_assert_int_eq(nvc_output_write(out, &rgb), NVC_ERR(EINVAL)); /* one picture per file */
    ck_assert_int_eq(nvc_output_close(&out, 1), 0);
    read_one(p8, &back);
    ck_assert_int_eq(back.p.layout, NVC_PIXEL_LAYOUT_I444);
    ck_assert_int_eq(back.color.matrix, NVC_MC_IDENTITY);
    ck_assert(pictures_equal(&rgb, &back));
    nvc_picture_unref(&back);
    /* 16-bit PNG of the same RGB: values scale by 257 exactly */
    NvcOutputSettings os;
    nvc_output_default_settings(&os);
    os.png_bpc = 16;
    ck_assert_int_eq(nvc_output_open(&out, p16, &info, &os), 0);
    ck_assert_int_eq(nvc_output_write(out, &rgb), 0);
    ck_assert_int_eq(nvc_output_close(&out, 1), 0);
    read_one(p16, &back);
    ck_assert_int_eq(back.p.bpc, 16);
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < 320; x += 7) {
            int v8 = ((uint8_t *)rgb.data[c] + 100 * rgb.stride[c])[x];
            int v16 = ((uint16_t *)((uint8_t *)back.data[c] + 100 * back.stride[c]))[x];
            ck_assert_int_eq(v16, v8 * 257);
        }
    nvc_picture_unref(&back);
    /* a YCbCr picture written to PNG is converted to RGB */
    info.p = yuv.p;
    info.color = yuv.color;
    ck_assert_int_eq(nvc_output_open(&out, pg, &info, NULL), 0);
    ck_assert_int_eq(nvc_output_write(out, &yuv), 0);
    ck_assert_int_eq(nvc_output_close(&out, 1), 0);
    read_one(pg, &back);
    ck_assert(pictures_equal(&rgb, &back));
    nvc_picture_unref(&back);
    nvc_picture_unref(&rgb);
    nvc_picture_unref(&yuv);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_png_sequence)
{
    char *dir = test_tmpdir(), pat[4200], y4m[4200];
    snprintf(pat, sizeof(pat), "%s/f%%03d.png", dir);
    snprintf(y4m, sizeof(y4m), "%s/seq.y4m", dir);
    NvcInputSettings s = in_settings();
    ck_assert_int_eq(copy_video(sample_path(), pat, &s, NULL), 9);
    char first[4300];
    snprintf(first, sizeof(first), "%s/f001.png", dir);
    ck_assert_int_eq(access(first, F_OK), 0);
    ck_assert_int_eq(count_dir_entries(dir), 9);
    NvcInput *in;
    s.fps_num = 12;
    s.fps_den = 1;
    ck_assert_int_eq(nvc_input_open(&in, pat, &s), 0);
    ck_assert_int_eq(nvc_input_info(in)->nb_frames, 9);
    ck_assert_int_eq(nvc_input_info(in)->fps_num, 12);
    NvcPicture a, b;
    ck_assert_int_eq(nvc_input_skip(in, 8), 0);
    ck_assert_int_eq(nvc_input_read(in, &a), 1);
    ck_assert_int_eq(nvc_input_read(in, &b), 0);
    nvc_input_close(&in);
    /* frame 8 of the sample converted to RGB equals the 9th PNG */
    NvcInput *src;
    ck_assert_int_eq(nvc_input_open(&src, sample_path(), &s), 0);
    ck_assert_int_eq(nvc_input_skip(src, 8), 0);
    ck_assert_int_eq(nvc_input_read(src, &b), 1);
    NvcPicture rgb;
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &b, 8), 0);
    ck_assert(pictures_equal(&rgb, &a));
    nvc_picture_unref(&a);
    nvc_picture_unref(&b);
    nvc_picture_unref(&rgb);
    nvc_input_close(&src);
    /* bad patterns */
    snprintf(pat, sizeof(pat), "%s/f%%s.png", dir);
    ck_assert_int_eq(nvc_input_open(&in, pat, &s), NVC_ERR(EINVAL));
    snprintf(pat, sizeof(pat), "%s/f%%d%%d.png", dir);
    ck_assert_int_eq(nvc_input_open(&in, pat, &s), NVC_ERR(EINVAL));
    snprintf(pat, sizeof(pat), "%s/none%%d.png", dir);
    ck_assert_int_eq(nvc_input_open(&in, pat, &s), NVC_ERR(ENOENT));
    test_rmdir(dir);
}
END_TEST

/* Write a PNG of any libpng colour type for reader tests. */
static void make_png(const char *path, int w, int h, int color_type, int depth)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 10, 20, 30 } };
        png_set_PLTE(png, info, pal, 4);
    }
    png_write_info(png, info);
    int channels = png_get_channels(png, info);
    size_t rb = png_get_rowbytes(png, info);
    uint8_t *row = calloc(1, rb);
    for (int y = 0; y < h; y++) {
        for (size_t i = 0; i < rb; i++)
            row[i] = (uint8_t)(color_type == PNG_COLOR_TYPE_PALETTE ? (y + i) % 4 : y * 16 + i);
        png_write_row(png, row);
    }
    (void)channels;
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

START_TEST(test_png_kinds_and_hostile)
{
    char *dir = test_tmpdir(), path[4200];
    snprintf(path, sizeof(path), "%s/k.png", dir);
    NvcPicture pic;
    make_png(path, 5, 3, PNG_COLOR_TYPE_RGBA, 8);
    read_one(path, &pic);
    ck_assert_int_eq(pic.p.layout, NVC_PIXEL_LAYOUT_I444);
    ck_assert_int_eq(((uint8_t *)pic.data[1] + pic.stride[1])[1], 16 + 5); /* G of (1,1) */
    nvc_picture_unref(&pic);
    make_png(path, 5, 3, PNG_COLOR_TYPE_GRAY, 16);
    read_one(path, &pic);
    ck_assert_int_eq(pic.p.layout, NVC_PIXEL_LAYOUT_I400);
    ck_assert_int_eq(pic.p.bpc, 16);
    ck_assert_int_eq(((uint16_t *)((uint8_t *)pic.data[0] + pic.stride[0]))[2], (16 + 4) << 8 | (16 + 5));
    nvc_picture_unref(&pic);
    make_png(path, 5, 3, PNG_COLOR_TYPE_PALETTE, 8);
    read_one(path, &pic);
    ck_assert_int_eq(pic.p.layout, NVC_PIXEL_LAYOUT_I444);
    ck_assert_int_eq(((uint8_t *)pic.data[0])[1], 255); /* index 1 = red */
    nvc_picture_unref(&pic);
    make_png(path, 3, 2, PNG_COLOR_TYPE_GRAY, 2);
    read_one(path, &pic);
    ck_assert_int_eq(pic.p.bpc, 8);
    nvc_picture_unref(&pic);
    /* truncated at many offsets: never a crash, always an error */
    make_png(path, 40, 30, PNG_COLOR_TYPE_RGB, 8);
    size_t n;
    uint8_t *buf = read_file(path, &n);
    NvcInputSettings s = in_settings();
    for (size_t cut = 0; cut < n; cut += 3) {
        write_file(path, buf, cut);
        NvcInput *in;
        int ret = nvc_input_open(&in, path, &s);
        if (ret == 0) {
            ret = nvc_input_read(in, &pic);
            nvc_input_close(&in);
            ck_assert_int_lt(ret, 0);
        }
        ck_assert_int_lt(ret, 0);
    }
    /* huge dimensions in the header are refused before allocating */
    buf[16] = 0x00, buf[17] = 0x00, buf[18] = 0x7f, buf[19] = 0xff; /* width 32767 */
    buf[20] = 0x00, buf[21] = 0x00, buf[22] = 0x7f, buf[23] = 0xff;
    write_file(path, buf, n);
    NvcInput *in;
    int ret = nvc_input_open(&in, path, &s);
    ck_assert_int_lt(ret, 0); /* CRC mismatch or limit: either way refused */
    free(buf);
    test_rmdir(dir);
}
END_TEST

#endif /* NVC_HAVE_PNG */

static NvcPicture solid(enum NvcPixelLayout layout, int bpc, int v0, int v1, int v2,
                        enum NvcMatrixCoefficients mc, enum NvcColorRange range)
{
    NvcPicture p;
    NvcPictureParameters pp = { 6, 4, layout, bpc };
    ck_assert_int_eq(nvc_picture_alloc(&p, &pp, 0), 0);
    p.color.matrix = mc;
    p.color.range = range;
    const int v[3] = { v0, v1, v2 };
    for (int i = 0; i < nvc_picture_planes(layout); i++) {
        int w, h;
        nvc_picture_plane_size(&pp, i, &w, &h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t *row = (uint8_t *)p.data[i] + y * p.stride[i];
                if (bpc > 8)
                    ((uint16_t *)row)[x] = (uint16_t)v[i];
                else
                    row[x] = (uint8_t)v[i];
            }
    }
    return p;
}

static int sample_at(const NvcPicture *p, int plane)
{
    return p->p.bpc > 8 ? ((uint16_t *)p->data[plane])[0] : ((uint8_t *)p->data[plane])[0];
}

static void check_rgb_to_yuv(int r, int g, int b, enum NvcMatrixCoefficients mc, int bpc,
                             int y, int cb, int cr)
{
    NvcPicture rgb = solid(NVC_PIXEL_LAYOUT_I444, 8, r, g, b, NVC_MC_IDENTITY, NVC_RANGE_FULL);
    NvcPicture yuv;
    NvcPictureParameters dp = { 6, 4, NVC_PIXEL_LAYOUT_I420, bpc };
    NvcColorDescription dc;
    nvc_color_description_default(&dc);
    dc.matrix = mc;
    ck_assert_int_eq(nvc_picture_convert(&yuv, &dp, &dc, &rgb), 0);
    ck_assert_int_eq(sample_at(&yuv, 0), y);
    ck_assert_int_eq(sample_at(&yuv, 1), cb);
    ck_assert_int_eq(sample_at(&yuv, 2), cr);
    /* and back: within one step of 8-bit */
    NvcPicture back;
    ck_assert_int_eq(nvc_picture_to_rgb(&back, &yuv, 8), 0);
    ck_assert_int_le(abs(sample_at(&back, 0) - r), 1);
    ck_assert_int_le(abs(sample_at(&back, 1) - g), 1);
    ck_assert_int_le(abs(sample_at(&back, 2) - b), 1);
    nvc_picture_unref(&back);
    nvc_picture_unref(&yuv);
    nvc_picture_unref(&rgb);
}

START_TEST(test_convert_known_values)
{
    /* Reference values from ITU-R BT.601 / BT.709 limited-range tables. */
    check_rgb_to_yuv(255, 255, 255, NVC_MC_BT601, 8, 235, 128, 128);
    check_rgb_to_yuv(0, 0, 0, NVC_MC_BT601, 8, 16, 128, 128);
    check_rgb_to_yuv(255, 0, 0, NVC_MC_BT601, 8, 81, 90, 240);
    check_rgb_to_yuv(0, 255, 0, NVC_MC_BT601, 8, 145, 54, 34);
    check_rgb_to_yuv(0, 0, 255, NVC_MC_BT601, 8, 41, 240, 110);
    check_rgb_to_yuv(255, 0, 0, NVC_MC_BT709, 8, 63, 102, 240);
    check_rgb_to_yuv(0, 255, 0, NVC_MC_BT709, 8, 173, 42, 26);
    check_rgb_to_yuv(255, 255, 255, NVC_MC_BT709, 10, 940, 512, 512);
    check_rgb_to_yuv(0, 0, 0, NVC_MC_BT2020_NCL, 10, 64, 512, 512);
}
END_TEST

static double plane_mse(const NvcPicture *a, const NvcPicture *b, int i, int *maxd)
{
    int w, h;
    double err = 0;
    nvc_picture_plane_size(&a->p, i, &w, &h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int va = ((uint8_t *)a->data[i] + y * a->stride[i])[x];
            int vb = ((uint8_t *)b->data[i] + y * b->stride[i])[x];
            err += (va - vb) * (va - vb);
            *maxd = NVC_MAX(*maxd, abs(va - vb));
        }
    return err / ((double)w * h);
}

START_TEST(test_convert_roundtrip_sample)
{
    NvcPicture yuv, rgb, mid, back;
    read_one(sample_path(), &yuv);
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &yuv, 8), 0);
    /* RGB -> YCbCr 4:4:4 at 16 bits -> RGB is lossless (YCbCr of RGB stays in gamut) */
    NvcPictureParameters p444 = { 320, 192, NVC_PIXEL_LAYOUT_I444, 16 };
    NvcColorDescription dc;
    nvc_color_description_default(&dc);
    dc.matrix = NVC_MC_BT709;
    ck_assert_int_eq(nvc_picture_convert(&mid, &p444, &dc, &rgb), 0);
    ck_assert_int_eq(nvc_picture_to_rgb(&back, &mid, 8), 0);
    ck_assert(pictures_equal(&rgb, &back));
    nvc_picture_unref(&back);
    nvc_picture_unref(&mid);
    /* RGB -> 8-bit 4:2:0 -> RGB: only chroma subsampling and 8-bit rounding lose */
    ck_assert_int_eq(nvc_picture_convert(&mid, &yuv.p, &yuv.color, &rgb), 0);
    ck_assert_int_eq(nvc_picture_to_rgb(&back, &mid, 8), 0);
    int maxd = 0;
    double mse = 0;
    for (int i = 0; i < 3; i++)
        mse += plane_mse(&rgb, &back, i, &maxd) / 3;
    fprintf(stderr, "RGB -> 4:2:0 -> RGB: MSE %.3f (%.2f dB)\n", mse, 10 * log10(255.0 * 255 / mse));
    ck_assert(mse < 6.5); /* > 40 dB */
    /* deterministic: converting twice gives identical pictures */
    NvcPicture rgb2;
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb2, &yuv, 8), 0);
    ck_assert(pictures_equal(&rgb, &rgb2));
    nvc_picture_unref(&rgb2);
    nvc_picture_unref(&back);
    nvc_picture_unref(&mid);
    nvc_picture_unref(&rgb);
    nvc_picture_unref(&yuv);
    /* gray to colour is refused */
    NvcPicture g = solid(NVC_PIXEL_LAYOUT_I400, 8, 9, 0, 0, NVC_MC_UNSPECIFIED, NVC_RANGE_FULL);
    ck_assert_int_eq(nvc_picture_to_rgb(&rgb, &g, 8), NVC_ERR(EINVAL));
    nvc_picture_unref(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, test_y4m_read_sample);
    tcase_add_test(tc, test_y4m_roundtrip_exact);
    static const char *const ten_bit[] = { TEN_BIT_CLIP, NULL };
    if (test_media("test_io's 10-bit Y4M test", ten_bit))
        tcase_add_test(tc, test_y4m_10bit);
    tcase_add_test(tc, test_yuv_names);
    tcase_add_test(tc, test_yuv_raw_roundtrip);
    tcase_add_test(tc, test_y4m_hostile_headers);
    tcase_add_test(tc, test_y4m_truncated_frames);
    tcase_add_test(tc, test_y4m_huge_frame_claim);
    tcase_add_test(tc, test_missing_and_unknown_files);
    tcase_add_test(tc, test_output_abort_and_commit);
#ifdef NVC_HAVE_PNG
    tcase_add_test(tc, test_png_roundtrip);
    tcase_add_test(tc, test_png_sequence);
    tcase_add_test(tc, test_png_kinds_and_hostile);
#endif
    tcase_add_test(tc, test_convert_known_values);
    tcase_add_test(tc, test_convert_roundtrip_sample);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
