/*
 * Fuzz target: the Y4M reader (header tags, FRAME lines, truncated and
 * oversized frames, 8 to 16 bits).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_picture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pictures(data, size, NVC_FILE_Y4M);
    return 0;
}
