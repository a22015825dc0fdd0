/*
 * Fuzz target: the PNG reader (libpng under nvc's limits and conversions:
 * gray, RGB, alpha, palette, 16 bit, interlaced). libpng is not
 * instrumented: coverage guides through nvc's code only.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_picture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pictures(data, size, NVC_FILE_PNG);
    return 0;
}
