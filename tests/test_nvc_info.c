/*
 * nvc-info: output for Matroska and elementary streams (text and JSON),
 * stdin, and one-line errors with exit status 1 for bad files.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "nvc/nvc.h"

static char *dir;
static char tool[4096];

/* Run a shell command; stdout and stderr land in the buffers. */
static int run(const char *cmd, char *out, size_t out_sz, char *err, size_t err_sz)
{
    char full[16800], o[4200], e[4200];
    snprintf(o, sizeof(o), "%s/stdout", dir);
    snprintf(e, sizeof(e), "%s/stderr", dir);
    snprintf(full, sizeof(full), "%s >'%s' 2>'%s'", cmd, o, e);
    int st = system(full);
    const char *names[2] = { o, e };
    char *bufs[2] = { out, err };
    size_t szs[2] = { out_sz, err_sz };
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(names[i], "rb");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(bufs[i], 1, szs[i] - 1, f);
        bufs[i][n] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const int sizes[7] = { 17, 1, 300, 4096, 2, 77, 1000 };

static char *make_file(const char *name, enum NvcContainerFormat format)
{
    NvcStreamConfig cfg;
    nvc_stream_config_default(&cfg);
    cfg.codec = NVC_CODEC_IMAGE;
    cfg.p = (NvcPictureParameters){ .w = 64, .h = 48, .layout = NVC_PIXEL_LAYOUT_I444, .bpc = 10 };
    cfg.color.matrix = NVC_MC_BT709;
    cfg.color.range = NVC_RANGE_FULL;
    cfg.fps_num = 12;
    cfg.frame_count = 7;
    uint8_t *pl = nvc_data_create(&cfg.payload, 33);
    memset(pl, 0x5A, 33);
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.format = format;
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    NvcMuxer *m;
    ck_assert_int_eq(nvc_mux_open(&m, path, &cfg, &ms), 0);
    for (int i = 0; i < 7; i++) {
        NvcData pkt;
        uint8_t *p = nvc_data_create(&pkt, (size_t)sizes[i]);
        memset(p, i, (size_t)sizes[i]);
        pkt.pts = i;
        pkt.flags = i % 3 == 0 ? NVC_DATA_KEY : 0;
        ck_assert_int_eq(nvc_mux_write_packet(m, &pkt), 0);
        nvc_data_unref(&pkt);
    }
    ck_assert_int_eq(nvc_mux_close(&m, 1), 0);
    nvc_stream_config_clear(&cfg);
    return path;
}

static void check_text(const char *path, const char *container)
{
    char cmd[8192], out[16384], err[4096];
    snprintf(cmd, sizeof(cmd), "'%s' '%s'", tool, path);
    ck_assert_msg(run(cmd, out, sizeof(out), err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(err, "");
    char want[256];
    snprintf(want, sizeof(want), "container:      %s\n", container);
    ck_assert_msg(strstr(out, want), "%s", out);
    static const char *const lines[] = {
        "stream version: 1\n",
        "codec:          image\n",
        "size:           64x48\n",
        "pixel format:   yuv444p10 (4:4:4, 10 bit)\n",
        "colour:         matrix bt709, primaries unspecified, transfer unspecified, range full, "
        "chroma unspecified\n",
        "frame rate:     12/1 (12.000 fps)\n",
        "frames:         7\n",
        "global payload: 33 bytes\n",
        "packets:        7 (3 key), 5493 bytes\n",
        "       0          0         17 K\n",
        "       1          1          1 -\n",
        "       3          3       4096 K\n",
        "       6          6       1000 K\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ck_assert_msg(strstr(out, lines[i]), "missing '%s' in\n%s", lines[i], out);
    /* bpp from the real file size */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(want, sizeof(want), "bpp:            %.6f ", (double)st.st_size * 8 / (7.0 * 64 * 48));
    ck_assert_msg(strstr(out, want), "%s", out);

    snprintf(cmd, sizeof(cmd), "'%s' --summary '%s'", tool, path);
    ck_assert_int_eq(run(cmd, out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(out, "packets:        7 (3 key)"));
    ck_assert_ptr_null(strstr(out, "index"));
}

static void check_json(const char *path)
{
    if (system("command -v python3 >/dev/null 2>&1")) {
        fprintf(stderr, "python3 not found: JSON output not validated\n");
        return;
    }
    char cmd[8192], out[4096], err[4096];
    snprintf(cmd, sizeof(cmd),
             "'%s' --json '%s' | python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "assert d[\"codec\"]==\"image\" and d[\"width\"]==64 and d[\"bit_depth\"]==10; "
             "assert d[\"frame_rate\"]=={\"num\":12,\"den\":1} and d[\"frame_count\"]==7; "
             "assert d[\"payload_size\"]==33 and d[\"packet_count\"]==7 and d[\"key_packet_count\"]==3; "
             "assert [p[\"size\"] for p in d[\"packets\"]]==[17,1,300,4096,2,77,1000]; "
             "assert [p[\"key\"] for p in d[\"packets\"]]==[True,False,False,True,False,False,True]; "
             "assert [p[\"pts\"] for p in d[\"packets\"]]==list(range(7)); "
             "assert d[\"bpp\"]>0 and d[\"file_size\"]>5493; print(\"ok\")'",
             tool, path);
    ck_assert_msg(run(cmd, out, sizeof(out), err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(out, "ok\n");
}

/* Exit status 1, nothing on stdout, exactly one line on stderr. */
static void check_fails(const char *args, const char *what)
{
    char cmd[8192], out[4096], err[4096];
    snprintf(cmd, sizeof(cmd), "'%s' %s", tool, args);
    ck_assert_msg(run(cmd, out, sizeof(out), err, sizeof(err)) == 1, "%s: not refused", args);
    ck_assert_str_eq(out, "");
    ck_assert_msg(!strncmp(err, "nvc-info: ", 10), "%s", err);
    char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == 0, "not one line: %s", err);
    ck_assert_msg(strstr(err, what), "'%s' lacks '%s'", err, what);
}

static void truncate_copy(const char *src, const char *dst, long len)
{
    char cmd[8400];
    snprintf(cmd, sizeof(cmd), "head -c %ld '%s' > '%s'", len, src, dst);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_elementary)
{
    char *path = make_file("a.nvces", NVC_CONTAINER_ELEMENTARY);
    check_text(path, "elementary");
    check_json(path);
    char cmd[8192], out[16384], err[4096];
    snprintf(cmd, sizeof(cmd), "cat '%s' | '%s' -", path, tool);
    ck_assert_int_eq(run(cmd, out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(out, "packets:        7 (3 key), 5493 bytes\n"));
    ck_assert_ptr_null(strstr(out, "bpp")); /* no file size on a pipe */
    free(path);
}
END_TEST

#if NVC_HAVE_FFMPEG
START_TEST(test_matroska)
{
    char *path = make_file("a.nvc", NVC_CONTAINER_MATROSKA);
    check_text(path, "matroska");
    check_json(path);
    free(path);
}
END_TEST
#endif

START_TEST(test_errors)
{
    char args[8400];
    snprintf(args, sizeof(args), "'%s/missing.nvc'", dir);
    check_fails(args, "No such file");
    snprintf(args, sizeof(args), "'%s'", dir);
    check_fails(args, "is a directory");
    char empty[4200];
    snprintf(empty, sizeof(empty), "%s/empty", dir);
    FILE *f = fopen(empty, "wb");
    fclose(f);
    snprintf(args, sizeof(args), "'%s'", empty);
    check_fails(args, "empty file");
    snprintf(args, sizeof(args), "< '%s' -", empty);
    check_fails(args, "empty file");
    f = fopen(empty, "wb");
    fputs("hello, this is text", f);
    fclose(f);
    snprintf(args, sizeof(args), "'%s'", empty);
    check_fails(args, "not an nvc file");

    char *es = make_file("b.nvces", NVC_CONTAINER_ELEMENTARY), cut[4200];
    snprintf(cut, sizeof(cut), "%s/cut", dir);
    truncate_copy(es, cut, 40);
    snprintf(args, sizeof(args), "'%s'", cut);
    check_fails(args, "truncated");
    truncate_copy(es, cut, 200);
    check_fails(args, "truncated");
#if NVC_HAVE_FFMPEG
    char *mkv = make_file("b.nvc", NVC_CONTAINER_MATROSKA);
    truncate_copy(mkv, cut, 100);
    check_fails(args, "Matroska");
    truncate_copy(mkv, cut, 1500);
    check_fails(args, "truncated");
    free(mkv);
#endif
    free(es);

    check_fails("", "no input file");
    check_fails("--bogus x", "unrecognized option");
    check_fails("a b", "one input file");
}
END_TEST

START_TEST(test_help_version)
{
    char cmd[8192], out[4096], err[4096];
    snprintf(cmd, sizeof(cmd), "'%s' --help", tool);
    ck_assert_int_eq(run(cmd, out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(out, "Usage: nvc-info"));
    ck_assert_ptr_nonnull(strstr(out, "--json"));
    snprintf(cmd, sizeof(cmd), "'%s' --version", tool);
    ck_assert_int_eq(run(cmd, out, sizeof(out), err, sizeof(err)), 0);
    char want[64];
    snprintf(want, sizeof(want), "nvc-info (nvc) %s\n", nvc_version());
    ck_assert_str_eq(out, want);
}
END_TEST

static void drop_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
}

int main(void)
{
    NvcLogger quiet = { NULL, drop_log };
    nvc_ffmpeg_route_log(&quiet); /* FFmpeg's notes about our own test files */
    const char *build = getenv("NVC_BUILDDIR");
    snprintf(tool, sizeof(tool), "%s/tools/nvc-info", build ? build : ".");
    if (access(tool, X_OK)) {
        fprintf(stderr, "%s not built: skipped\n", tool);
        return TEST_SKIP;
    }
    char tmpl[] = "/tmp/nvc-test-XXXXXX"; /* test_tmpdir asserts: only inside a test */
    if (!mkdtemp(tmpl))
        return 99;
    dir = strdup(tmpl);
    Suite *s = suite_create("nvc-info");
    TCase *tc = tcase_create("nvc-info");
    tcase_add_test(tc, test_elementary);
#if NVC_HAVE_FFMPEG
    tcase_add_test(tc, test_matroska);
#endif
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_help_version);
    suite_add_tcase(s, tc);
    int ret = test_run_suite(s);
    test_rmdir(dir);
    return ret;
}
