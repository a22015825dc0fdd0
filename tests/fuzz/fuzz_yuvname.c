/*
 * Fuzz target: the raw-video file name parser (UVG and JVET CTC names):
 * whatever the name, the fields it sets are valid.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size + 1);
    FUZZ_CHECK(name);
    memcpy(name, data, size);
    name[size] = 0;
    NvcVideoInfo info = { .p = { .w = -7, .h = -7, .layout = 99, .bpc = -7 },
                          .fps_num = -7, .fps_den = -7 };
    int ret = nvc_yuv_name_parse(name, &info);
    if (ret == 0)
        FUZZ_CHECK(info.p.w >= 1 && info.p.h >= 1 && info.p.w <= NVC_MAX_DIMENSION &&
                   info.p.h <= NVC_MAX_DIMENSION);
    else
        FUZZ_CHECK(ret == NVC_ERR(EINVAL) && info.p.w == -7 && info.p.h == -7);
    FUZZ_CHECK(info.p.layout == 99 || info.p.layout == NVC_PIXEL_LAYOUT_I420 ||
               info.p.layout == NVC_PIXEL_LAYOUT_I444);
    FUZZ_CHECK(info.p.bpc == -7 || info.p.bpc == 8 || info.p.bpc == 10 || info.p.bpc == 12 ||
               info.p.bpc == 16);
    FUZZ_CHECK((info.fps_num == -7 && info.fps_den == -7) ||
               (info.fps_num >= 1 && info.fps_num <= 1000 && info.fps_den == 1));
    free(name);
    return 0;
}
