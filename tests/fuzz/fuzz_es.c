/*
 * Fuzz target: the elementary-stream demuxer on whole streams read from
 * memory. The format is canonical (every byte is fixed or covered by a
 * CRC), so a stream that reads cleanly must be exactly what the muxer
 * writes for its configuration and packets. Each input runs once as it is,
 * once with every CRC made right (fuzz_twice), so that mutations reach the
 * fields behind the CRCs.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_common.h"

/* Write cfg and the packets as an elementary stream into memory. */
static void remux(const NvcStreamConfig *cfg, const FuzzPackets *k, char **buf, size_t *sz)
{
    FILE *f = open_memstream(buf, sz);
    FUZZ_CHECK(f);
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.format = NVC_CONTAINER_ELEMENTARY;
    NvcMuxer *m;
    FUZZ_CHECK(nvc_mux_open_file(&m, f, cfg, &ms) == 0);
    for (int i = 0; i < k->n; i++)
        FUZZ_CHECK(nvc_mux_write_packet(m, &k->pkt[i]) == 0);
    FUZZ_CHECK(nvc_mux_close(&m, 1) == 0);
    fclose(f);
}

static void run(const uint8_t *data, size_t size)
{
    FuzzPackets k = { .n = 0 };
    NvcStreamConfig cfg = { 0 };
    fuzz_stream(data, size, 0, &k, &cfg);
    if (k.clean && k.n < 64) {
        char *buf = NULL;
        size_t sz = 0;
        remux(&cfg, &k, &buf, &sz);
        FUZZ_CHECK(sz == size && !memcmp(buf, data, size));
        free(buf);
    }
    fuzz_packets_free(&k);
    nvc_stream_config_clear(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < NVC_ES_SIGNATURE_SIZE || memcmp(data, NVC_ES_SIGNATURE, NVC_ES_SIGNATURE_SIZE))
        return 0;
    fuzz_twice(data, size, fuzz_fix_es_crcs, run);
    return 0;
}
