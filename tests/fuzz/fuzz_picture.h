/*
 * The picture-reader half of the Y4M and PNG fuzz targets: open a memory
 * file through nvc_input_open (as the tools do), read every picture, check
 * what comes out against what the header promised; then skip and read.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_FUZZ_PICTURE_H
#define NVC_TESTS_FUZZ_PICTURE_H

#include "tests/fuzz/fuzz_common.h"

static inline void fuzz_pictures(const uint8_t *data, size_t size, enum NvcFileFormat format)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof(path));
    if (fd < 0)
        return;
    NvcInputSettings s;
    nvc_input_default_settings(&s);
    s.format = format;
    s.max_pixels = FUZZ_MAX_PIXELS;
    for (int pass = 0; pass < 2; pass++) {
        NvcInput *in;
        int ret = nvc_input_open(&in, path, &s);
        if (ret < 0) {
            FUZZ_CHECK(!in && fuzz_expected_error(ret));
            break;
        }
        const NvcVideoInfo *info = nvc_input_info(in);
        FUZZ_CHECK(info->p.w >= 1 && info->p.h >= 1 &&
                   (int64_t)info->p.w * info->p.h <= FUZZ_MAX_PIXELS);
        FUZZ_CHECK(info->fps_num > 0 && info->fps_den > 0 && info->sar_num > 0 && info->sar_den > 0);
        if (pass == 1 && size) {
            ret = nvc_input_skip(in, data[size - 1] % 4);
            FUZZ_CHECK(ret >= 0 || fuzz_expected_error(ret));
        }
        for (size_t reads = 0; ret >= 0; reads++) {
            FUZZ_CHECK(reads <= size); /* every picture consumes input */
            NvcPicture pic;
            ret = nvc_input_read(in, &pic);
            if (ret <= 0) {
                FUZZ_CHECK(ret == 0 || fuzz_expected_error(ret));
                FUZZ_CHECK(!pic.ref);
                break;
            }
            FUZZ_CHECK(!memcmp(&pic.p, &info->p, sizeof(pic.p)));
            const int maxv = (1 << pic.p.bpc) - 1;
            if (pic.p.bpc > 8) /* samples within the bit depth */
                for (int y = 0; y < pic.p.h; y++)
                    for (int x = 0; x < pic.p.w; x++)
                        FUZZ_CHECK(((const uint16_t *)((const uint8_t *)pic.data[0] +
                                                       y * pic.stride[0]))[x] <= maxv);
            nvc_picture_unref(&pic);
        }
        nvc_input_close(&in);
    }
    close(fd);
}

#endif /* NVC_TESTS_FUZZ_PICTURE_H */
