/*
 * MD5 (tools/md5.c): the RFC 1321 test suite, incremental updates, and the
 * picture digest nvdec --md5 prints against md5sum of the raw .yuv file the
 * library writes for the same pictures.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include "nvc/nvc.h"
#include "tools/md5.h"

static void md5_of(const void *data, size_t n, char hex[33])
{
    ToolMd5 m;
    uint8_t d[16];
    tool_md5_init(&m);
    tool_md5_update(&m, data, n);
    tool_md5_final(&m, d);
    tool_md5_hex(d, hex);
}

START_TEST(test_rfc1321_vectors)
{
    /* RFC 1321, appendix A.5 */
    static const char *const vectors[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    char hex[33];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        md5_of(vectors[i][0], strlen(vectors[i][0]), hex);
        ck_assert_str_eq(hex, vectors[i][1]);
    }
}
END_TEST

START_TEST(test_million_a)
{
    /* a million 'a' fed in pieces of every size from 1 to 999 */
    char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    ToolMd5 m;
    uint8_t d[16];
    char hex[33];
    tool_md5_init(&m);
    size_t done = 0;
    for (size_t step = 1; done < 1000000; step = step % 999 + 1) {
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        tool_md5_update(&m, chunk, n);
        done += n;
    }
    tool_md5_final(&m, d);
    tool_md5_hex(d, hex);
    ck_assert_str_eq(hex, "7707d6ae4e027c70eea2a935c2296f21");
}
END_TEST

START_TEST(test_split_anywhere)
{
    /* lengths around the 56- and 64-byte padding boundaries, split at every point */
    uint8_t data[200];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 50; n <= 140; n++) {
        char whole[33], parts[33];
        md5_of(data, n, whole);
        for (size_t cut = 0; cut <= n; cut += 7) {
            ToolMd5 m;
            uint8_t d[16];
            tool_md5_init(&m);
            tool_md5_update(&m, data, cut);
            tool_md5_update(&m, data + cut, n - cut);
            tool_md5_final(&m, d);
            tool_md5_hex(d, parts);
            ck_assert_str_eq(parts, whole);
        }
    }
}
END_TEST

/* md5sum of a file, through the system's md5sum. */
static int md5sum_file(const char *path, char hex[33])
{
    char cmd[4400];
    snprintf(cmd, sizeof(cmd), "md5sum '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fscanf(p, "%32s", hex) == 1;
    return pclose(p) == 0 && ok ? 0 : -1;
}

START_TEST(test_picture_digest_is_raw_file_md5)
{
    static const NvcPictureParameters params[] = {
        { .w = 33, .h = 17, .layout = NVC_PIXEL_LAYOUT_I420, .bpc = 10 },
        { .w = 16, .h = 9, .layout = NVC_PIXEL_LAYOUT_I444, .bpc = 8 },
        { .w = 7, .h = 3, .layout = NVC_PIXEL_LAYOUT_I400, .bpc = 16 },
        { .w = 5, .h = 5, .layout = NVC_PIXEL_LAYOUT_I420, .bpc = 8 },
    };
    char *dir = test_tmpdir();
    for (size_t t = 0; t < sizeof(params) / sizeof(params[0]); t++) {
        const NvcPictureParameters *p = &params[t];
        NvcVideoInfo info = { .p = *p, .fps_num = 25, .fps_den = 1, .sar_num = 1, .sar_den = 1 };
        nvc_color_description_default(&info.color);
        char path[4200];
        snprintf(path, sizeof(path), "%s/out%zu.yuv", dir, t);
        NvcOutput *out;
        ck_assert_int_eq(nvc_output_open(&out, path, &info, NULL), 0);
        ToolMd5 m;
        tool_md5_init(&m);
        for (int f = 0; f < 3; f++) {
            NvcPicture pic;
            ck_assert_int_eq(nvc_picture_alloc(&pic, p, 0), 0);
            const int maxv = (1 << p->bpc) - 1;
            for (int i = 0; i < nvc_picture_planes(p->layout); i++) {
                int w, h;
                nvc_picture_plane_size(p, i, &w, &h);
                for (int y = 0; y < h; y++) {
                    uint8_t *row = (uint8_t *)pic.data[i] + y * pic.stride[i];
                    for (int x = 0; x < w; x++) {
                        int v = (x * 131 + y * 71 + i * 977 + f * 313) & maxv;
                        if (p->bpc > 8)
                            ((uint16_t *)row)[x] = (uint16_t)v;
                        else
                            row[x] = (uint8_t)v;
                    }
                    /* bytes past the row (stride padding) must not count */
                    size_t bytes = (size_t)w << (p->bpc > 8);
                    memset(row + bytes, 0xA5, (size_t)pic.stride[i] - bytes);
                }
            }
            ck_assert_int_eq(nvc_output_write(out, &pic), 0);
            ck_assert_int_eq(tool_md5_update_picture(&m, &pic), 0);
            nvc_picture_unref(&pic);
        }
        ck_assert_int_eq(nvc_output_close(&out, 1), 0);
        uint8_t d[16];
        char got[33], want[33];
        tool_md5_final(&m, d);
        tool_md5_hex(d, got);
        ck_assert_int_eq(md5sum_file(path, want), 0);
        ck_assert_str_eq(got, want);
    }
    test_rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("md5");
    TCase *tc = tcase_create("md5");
    tcase_add_test(tc, test_rfc1321_vectors);
    tcase_add_test(tc, test_million_a);
    tcase_add_test(tc, test_split_anywhere);
    tcase_add_test(tc, test_picture_digest_is_raw_file_md5);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
