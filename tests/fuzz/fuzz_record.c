/*
 * Fuzz target: the stream configuration record parser. A record that
 * parses must serialise back to exactly its bytes (the record is
 * canonical), whatever the pixel limit says. Each input runs as it is and
 * with its trailing CRC made right.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_common.h"

static void fix_crc(uint8_t *buf, size_t size)
{
    if (size >= 4)
        fuzz_put_crc(buf + size - 4, buf, size - 4);
}

static void run(const uint8_t *data, size_t size)
{
    NvcStreamConfig cfg;
    int ret = nvc_stream_config_parse(&cfg, data, size, FUZZ_MAX_PIXELS, NULL);
    if (ret < 0) {
        FUZZ_CHECK(ret == NVC_ERR_CORRUPT || ret == NVC_ERR(ENOTSUP) || ret == NVC_ERR(ERANGE));
        FUZZ_CHECK(!cfg.payload.data && !cfg.payload.sz && !cfg.payload.ref);
        if (ret == NVC_ERR(ERANGE)) { /* a valid record above the limit: fine without one */
            ret = nvc_stream_config_parse(&cfg, data, size, INT64_MAX, NULL);
            FUZZ_CHECK(ret == 0);
        } else {
            return;
        }
    }
    FUZZ_CHECK(nvc_stream_config_peek_size(data, size, NULL) == (int64_t)size);
    FUZZ_CHECK(cfg.payload.sz < size);
    NvcData out;
    FUZZ_CHECK(nvc_stream_config_serialize(&cfg, &out, NULL) == 0);
    FUZZ_CHECK(out.sz == size && !memcmp(out.data, data, size));
    nvc_data_unref(&out);
    nvc_stream_config_clear(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_twice(data, size, fix_crc, run);
    return 0;
}
