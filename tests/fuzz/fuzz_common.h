/*
 * Helpers shared by the fuzz targets: checks that abort (so libFuzzer and
 * the replay driver report them), memory files for readers that open a
 * path, and the demux (and decode) loop every stream target runs.
 *
 * A codec's fuzz target is one call: fuzz_stream(data, size, FUZZ_DECODE)
 * in tests/fuzz/fuzz_<codec>.c, with its valid streams as seed corpus (see
 * tests/fuzz/README.md).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_FUZZ_COMMON_H
#define NVC_TESTS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec/container.h"
#include "codec/crc.h"
#include "nvc/nvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Pictures a fuzzed stream or file may claim: bounds the work per input
 * (larger claims must be refused with NVC_ERR(ERANGE) before allocating). */
#define FUZZ_MAX_PIXELS (1 << 18)
/* What a fuzzed decoder may allocate. */
#define FUZZ_MAX_MEMORY (256LL << 20)

/* Errors a reader may return for hostile bytes (never EINVAL: that would
 * mean we called it wrong). ENODATA: a predicted frame without its reference
 * (the dcvc decoder: a stream starting at a P frame, a missing packet). */
static inline int fuzz_expected_error(int ret)
{
    return ret == NVC_ERR_CORRUPT || ret == NVC_ERR(ENOTSUP) || ret == NVC_ERR(ERANGE) ||
           ret == NVC_ERR(ENOMEM) || ret == NVC_ERR(ENOSYS) || ret == NVC_ERR(ENODATA);
}

/* A memory file holding data, named by a path such as /proc/self/fd/7 for
 * readers that open files by name. Returns the descriptor (close it) or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_sz)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return -1;
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, path_sz, "/proc/self/fd/%d", fd);
    return fd;
}

/* CRCs stop mutations at the first check. Each target also runs on a copy
 * whose CRCs are made right, so that the fields behind them get fuzzed. */

static inline uint32_t fuzz_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fuzz_put_crc(uint8_t *at, const uint8_t *from, size_t n)
{
    uint32_t crc = nvc_crc32(0, from, n);
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* Fix the CRC of a record at buf[0..] if its size field fits; returns the
 * record's size, or 0. */
static inline size_t fuzz_fix_record_crc(uint8_t *buf, size_t size)
{
    if (size < 12 || memcmp(buf, NVC_RECORD_MAGIC, 4))
        return 0;
    size_t n = fuzz_get_u32(buf + 4);
    if (n < 12 || n > size)
        return 0;
    fuzz_put_crc(buf + n - 4, buf, n - 4);
    return n;
}

/* The first record in buf (Matroska: inside CodecPrivate). */
static inline void fuzz_fix_first_record_crc(uint8_t *buf, size_t size)
{
    for (size_t i = 0; i + 12 <= size; i++)
        if (!memcmp(buf + i, NVC_RECORD_MAGIC, 4) && fuzz_fix_record_crc(buf + i, size - i))
            return;
}

/* An elementary stream: the record and every packet that fits. */
static inline void fuzz_fix_es_crcs(uint8_t *buf, size_t size)
{
    if (size < NVC_ES_SIGNATURE_SIZE)
        return;
    size_t p = NVC_ES_SIGNATURE_SIZE, n = fuzz_fix_record_crc(buf + p, size - p);
    if (!n)
        return;
    for (p += n; p + 20 <= size;) {
        uint32_t sz = fuzz_get_u32(buf + p);
        size_t body = sz == 0xFFFFFFFFu ? 16 : 16 + (size_t)sz;
        if (body > size - p - 4)
            return;
        fuzz_put_crc(buf + p + body, buf + p, body);
        p += body + 4;
    }
}

/* Run f on data, then on a copy that fix() changed (when it changed). */
static inline void fuzz_twice(const uint8_t *data, size_t size, void (*fix)(uint8_t *, size_t),
                              void (*f)(const uint8_t *, size_t))
{
    f(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy);
    memcpy(copy, data, size);
    fix(copy, size);
    if (memcmp(copy, data, size))
        f(copy, size);
    free(copy);
}

enum { FUZZ_DECODE = 1 };

static inline void fuzz_decode_packet(NvcDecoder *dec, const NvcData *pkt, const NvcStreamConfig *cfg)
{
    int ret = nvc_decoder_send_packet(dec, pkt);
    if (ret < 0) {
        FUZZ_CHECK(ret != NVC_ERR(EINVAL));
        return;
    }
    NvcPicture pic;
    while ((ret = nvc_decoder_get_picture(dec, &pic)) == 0) {
        FUZZ_CHECK(!memcmp(&pic.p, &cfg->p, sizeof(pic.p)));
        nvc_picture_unref(&pic);
    }
    FUZZ_CHECK(ret == NVC_ERR(EAGAIN) || fuzz_expected_error(ret));
}

/* Packets a clean read returned, for the targets that check more. */
typedef struct FuzzPackets {
    NvcData pkt[64];
    int n;
    int clean;      /* the stream read to its end without an error */
} FuzzPackets;

/* Demux data (any nvc container) and, with FUZZ_DECODE, decode every
 * packet when this build has a decoder for the stream's codec. Reading on
 * after errors must reach the end; seeking in damaged files must be safe.
 * Keeps up to 64 packets in keep (may be NULL) when the read was clean. */
static inline void fuzz_stream(const uint8_t *data, size_t size, unsigned flags, FuzzPackets *keep,
                               NvcStreamConfig *cfg_out)
{
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    if (!f)
        return;
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.max_pixels = FUZZ_MAX_PIXELS;
    NvcDemuxer *d;
    int ret = nvc_demux_open_file(&d, f, 1, &ds);
    if (ret < 0) {
        FUZZ_CHECK(!d && fuzz_expected_error(ret));
        return;
    }
    const NvcStreamConfig *cfg = nvc_demux_get_config(d);
    FUZZ_CHECK(cfg->p.w >= 1 && cfg->p.h >= 1 && (int64_t)cfg->p.w * cfg->p.h <= FUZZ_MAX_PIXELS);
    FUZZ_CHECK(cfg->payload.sz < size); /* bytes come from the input, not from a claim */
    NvcDecoder *dec = NULL;
    if (flags & FUZZ_DECODE) {
        NvcDecoderSettings s;
        nvc_decoder_default_settings(&s);
        s.n_threads = 1;
        s.max_pixels = FUZZ_MAX_PIXELS;
        s.max_memory = FUZZ_MAX_MEMORY;
        ret = nvc_decoder_open(&dec, cfg, &s);
        FUZZ_CHECK(ret == 0 || fuzz_expected_error(ret));
    }
    int64_t last = -1, good = 0;
    size_t reads = 0;
    int errors = 0;
    if (keep)
        keep->n = 0;
    for (;;) {
        NvcData pkt;
        ret = nvc_demux_read_packet(d, &pkt);
        /* each packet or error consumes input: reading on must end */
        FUZZ_CHECK(++reads <= size + 2);
        if (ret == 0)
            break;
        if (ret < 0) {
            FUZZ_CHECK(fuzz_expected_error(ret) || ret == NVC_ERR(EIO));
            FUZZ_CHECK(!pkt.data && !pkt.sz && !pkt.ref);
            errors++;
            continue;
        }
        FUZZ_CHECK(ret == 1 && pkt.sz >= 1 && pkt.sz <= size && pkt.pts > last);
        FUZZ_CHECK(!cfg->frame_count || good < cfg->frame_count);
        last = pkt.pts;
        good++;
        if (dec)
            fuzz_decode_packet(dec, &pkt, cfg);
        if (keep && keep->n < 64)
            keep->pkt[keep->n++] = pkt;
        else
            nvc_data_unref(&pkt);
    }
    if (keep)
        keep->clean = !errors && keep->n == good;
    if (cfg_out) {
        *cfg_out = *cfg;
        nvc_data_ref(&cfg_out->payload, &cfg->payload);
    }
    /* seek somewhere the input chooses, read a little */
    if (nvc_demux_seek(d, data[size - 1] % 8) == 0) {
        if (dec)
            nvc_decoder_flush(dec);
        for (int i = 0; i < 3; i++) {
            NvcData pkt;
            ret = nvc_demux_read_packet(d, &pkt);
            if (ret == 0)
                break;
            if (ret == 1 && dec)
                fuzz_decode_packet(dec, &pkt, cfg);
            nvc_data_unref(&pkt);
        }
    }
    nvc_decoder_close(&dec);
    nvc_demux_close(&d);
}

static inline void fuzz_packets_free(FuzzPackets *k)
{
    for (int i = 0; i < k->n; i++)
        nvc_data_unref(&k->pkt[i]);
    k->n = 0;
}

#endif /* NVC_TESTS_FUZZ_COMMON_H */
