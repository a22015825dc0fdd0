/*
 * Fuzz target: the PNG reader (libpng under nvc's limits and conversions:
 * gray, RGB, alpha, palette, 16 bit, interlaced). libpng is not
 * instrumented: coverage guides through nvc's code only. Each input runs
 * as it is and with every chunk CRC made right (fuzz_twice), so that
 * mutated headers and image data get past libpng's CRC checks.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_picture.h"

/* After the 8-byte signature: chunks of length (4), type (4), data, CRC of
 * type and data (4). */
static void fix_png_crcs(uint8_t *buf, size_t size)
{
    for (size_t p = 8; p + 12 <= size;) {
        size_t n = fuzz_get_u32(buf + p);
        if (n > size - p - 12)
            return;
        fuzz_put_crc(buf + p + 8 + n, buf + p + 4, n + 4);
        p += n + 12;
    }
}

static void run(const uint8_t *data, size_t size)
{
    fuzz_pictures(data, size, NVC_FILE_PNG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_twice(data, size, fix_png_crcs, run);
    return 0;
}
