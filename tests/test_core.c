/*
 * Core types: pictures, packets, byte readers/writers, version, errors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include "codec/bytes.h"
#include "codec/internal.h"
#include "nvc/nvc.h"

START_TEST(test_version)
{
    ck_assert_str_eq(nvc_version(), PACKAGE_VERSION);
    ck_assert_uint_eq(nvc_version_api() >> 16, NVC_API_VERSION_MAJOR);
    ck_assert_str_eq(nvc_error_string(NVC_ERR_CORRUPT), "corrupt or truncated data");
    ck_assert_str_ne(nvc_error_string(NVC_ERR_CORRUPT), nvc_error_string(NVC_ERR(EINVAL)));
    ck_assert_int_lt(NVC_ERR(EINVAL), 0);
}
END_TEST

START_TEST(test_picture_alloc_420_odd)
{
    NvcPicture pic;
    NvcPictureParameters p = { .w = 33, .h = 17, .layout = NVC_PIXEL_LAYOUT_I420, .bpc = 10 };
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 0), 0);
    int w, h;
    nvc_picture_plane_size(&pic.p, 1, &w, &h);
    ck_assert_int_eq(w, 17);
    ck_assert_int_eq(h, 9);
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(pic.data[i]);
        ck_assert_int_eq(((uintptr_t)pic.data[i]) % 64, 0);
        ck_assert_int_eq(pic.stride[i] % 64, 0);
        nvc_picture_plane_size(&pic.p, i, &w, &h);
        ck_assert_int_ge(pic.stride[i], w * 2);
        /* every sample is writable and starts at zero */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint16_t *row = (uint16_t *)((uint8_t *)pic.data[i] + y * pic.stride[i]);
                ck_assert_int_eq(row[x], 0);
                row[x] = 1023;
            }
    }
    ck_assert_int_eq(pic.color.matrix, NVC_MC_UNSPECIFIED);
    nvc_picture_unref(&pic);
    ck_assert_ptr_null(pic.data[0]);
}
END_TEST

START_TEST(test_picture_bad_params)
{
    NvcPicture pic;
    NvcPictureParameters p = { .w = 0, .h = 16, .layout = NVC_PIXEL_LAYOUT_I420, .bpc = 8 };
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 0), NVC_ERR(EINVAL));
    p.w = 16;
    p.bpc = 9;
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 0), NVC_ERR(EINVAL));
    p.bpc = 8;
    p.layout = 7;
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 0), NVC_ERR(EINVAL));
    /* the pixel limit refuses before allocating */
    p = (NvcPictureParameters){ .w = 20000, .h = 20000, .layout = NVC_PIXEL_LAYOUT_I444, .bpc = 16 };
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 0), NVC_ERR(ERANGE));
    p = (NvcPictureParameters){ .w = 100, .h = 100, .layout = NVC_PIXEL_LAYOUT_I400, .bpc = 8 };
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 9999), NVC_ERR(ERANGE));
    ck_assert_int_eq(nvc_picture_alloc(&pic, &p, 10000), 0);
    ck_assert_ptr_null(pic.data[1]);
    nvc_picture_unref(&pic);
}
END_TEST

START_TEST(test_picture_refcount_copy)
{
    NvcPicture a, b, c, d;
    NvcPictureParameters p = { .w = 8, .h = 4, .layout = NVC_PIXEL_LAYOUT_I444, .bpc = 8 };
    ck_assert_int_eq(nvc_picture_alloc(&a, &p, 0), 0);
    ((uint8_t *)a.data[2])[3] = 77;
    a.pts = 42;
    nvc_picture_ref(&b, &a);
    ck_assert_ptr_eq(a.data[2], b.data[2]);
    ck_assert_int_eq(atomic_load(&a.ref->count), 2);
    nvc_picture_unref(&a);
    ck_assert_int_eq(((uint8_t *)b.data[2])[3], 77); /* still alive through b */
    nvc_picture_move_ref(&c, &b);
    ck_assert_ptr_null(b.ref);
    ck_assert_int_eq(nvc_picture_alloc(&d, &p, 0), 0);
    ck_assert_int_eq(nvc_picture_copy(&d, &c), 0);
    ck_assert_int_eq(((uint8_t *)d.data[2])[3], 77);
    ck_assert_int_eq(d.pts, 42);
    nvc_picture_unref(&c);
    NvcPictureParameters q = p;
    q.w = 9;
    NvcPicture e;
    ck_assert_int_eq(nvc_picture_alloc(&e, &q, 0), 0);
    ck_assert_int_eq(nvc_picture_copy(&e, &d), NVC_ERR(EINVAL));
    nvc_picture_unref(&d);
    nvc_picture_unref(&e);
}
END_TEST

static int freed_count;
static void count_free(const uint8_t *buf, void *cookie)
{
    freed_count++;
    ck_assert_ptr_eq(cookie, &freed_count);
}

START_TEST(test_data)
{
    NvcData d, e;
    uint8_t *buf = nvc_data_create(&d, 0);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(d.sz, 0);
    nvc_data_unref(&d);
    buf = nvc_data_create(&d, 1000);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(buf[999], 0);
    buf[999] = 5;
    nvc_data_ref(&e, &d);
    nvc_data_unref(&d);
    ck_assert_int_eq(e.data[999], 5);
    nvc_data_unref(&e);
    ck_assert_ptr_null(e.data);

    static const uint8_t fixed[3] = { 1, 2, 3 };
    freed_count = 0;
    ck_assert_int_eq(nvc_data_wrap(&d, fixed, 3, count_free, &freed_count), 0);
    nvc_data_ref(&e, &d);
    nvc_data_unref(&d);
    ck_assert_int_eq(freed_count, 0);
    nvc_data_unref(&e);
    ck_assert_int_eq(freed_count, 1);
    ck_assert_int_eq(nvc_data_wrap(&d, NULL, 3, NULL, NULL), NVC_ERR(EINVAL));
}
END_TEST

START_TEST(test_byte_reader_bounds)
{
    const uint8_t buf[7] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
    NvcByteReader br;
    nvc_br_init(&br, buf, sizeof(buf));
    ck_assert_uint_eq(nvc_br_u32(&br), 0x12345678u);
    ck_assert_uint_eq(nvc_br_u16(&br), 0x9abcu);
    ck_assert_int_eq(br.error, 0);
    ck_assert_uint_eq(nvc_br_u16(&br), 0); /* one byte left: refused whole */
    ck_assert_int_eq(br.error, 1);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    ck_assert_uint_eq(nvc_br_u8(&br), 0);
    ck_assert_ptr_null(nvc_br_bytes(&br, 0)); /* sticky error */
    nvc_br_init(&br, buf, 0);
    ck_assert_ptr_null(nvc_br_bytes(&br, SIZE_MAX));
    ck_assert_int_eq(br.error, 1);
}
END_TEST

START_TEST(test_byte_writer_roundtrip)
{
    NvcByteWriter bw = { 0 };
    for (int i = 0; i < 1000; i++) {
        nvc_bw_u8(&bw, (unsigned)i);
        nvc_bw_u16(&bw, (unsigned)i * 7);
        nvc_bw_u32(&bw, (uint32_t)i * 100003u);
        nvc_bw_u64(&bw, (uint64_t)i << 40 | 5);
    }
    ck_assert_int_eq(bw.error, 0);
    ck_assert_uint_eq(bw.sz, 1000 * 15);
    NvcByteReader br;
    nvc_br_init(&br, bw.buf, bw.sz);
    for (int i = 0; i < 1000; i++) {
        ck_assert_uint_eq(nvc_br_u8(&br), (uint8_t)i);
        ck_assert_uint_eq(nvc_br_u16(&br), (uint16_t)(i * 7));
        ck_assert_uint_eq(nvc_br_u32(&br), (uint32_t)i * 100003u);
        ck_assert_uint_eq(nvc_br_u64(&br), (uint64_t)i << 40 | 5);
    }
    ck_assert_int_eq(br.error, 0);
    ck_assert_uint_eq(nvc_br_left(&br), 0);
    nvc_bw_free(&bw);
}
END_TEST

static int log_calls;
static void test_log_cb(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    char buf[128];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    ck_assert_str_eq(buf, "bad 7");
    ck_assert_int_eq(level, NVC_LOG_ERROR);
    log_calls++;
}

START_TEST(test_logger)
{
    NvcLogger lg = { .cookie = NULL, .callback = test_log_cb };
    log_calls = 0;
    ck_assert_int_eq(nvc_log_error(&lg, NVC_ERR(EIO), "bad %d", 7), NVC_ERR(EIO));
    ck_assert_int_eq(log_calls, 1);
    nvc_log(NULL, NVC_LOG_ERROR, "dropped %d", 1); /* must not crash */
    ck_assert_int_eq(log_calls, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_picture_alloc_420_odd);
    tcase_add_test(tc, test_picture_bad_params);
    tcase_add_test(tc, test_picture_refcount_copy);
    tcase_add_test(tc, test_data);
    tcase_add_test(tc, test_byte_reader_bounds);
    tcase_add_test(tc, test_byte_writer_roundtrip);
    tcase_add_test(tc, test_logger);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
