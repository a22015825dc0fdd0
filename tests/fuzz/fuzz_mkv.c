/*
 * Fuzz target: the Matroska demuxer (libavformat under nvc's checks) on
 * whole files, read from memory: record, packets, reading on after damage,
 * seeking; each input once as it is, once with its record's CRC made right
 * (fuzz_twice). Inputs without the EBML signature are skipped (fuzz_es covers
 * the elementary stream). libavformat is not instrumented: coverage guides
 * through nvc's code only, but memory errors and hangs anywhere count.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_common.h"

static void drop_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
}

static void run(const uint8_t *data, size_t size)
{
    fuzz_stream(data, size, 0, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) { /* FFmpeg's messages would flood the fuzzer's output */
        NvcLogger drop = { NULL, drop_log };
        nvc_ffmpeg_route_log(&drop);
        quiet = 1;
    }
    if (size < 4 || memcmp(data, NVC_EBML_MAGIC, 4))
        return 0;
    fuzz_twice(data, size, fuzz_fix_first_record_crc, run);
    return 0;
}
