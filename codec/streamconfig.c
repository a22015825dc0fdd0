/*
 * The stream configuration record (doc/FORMAT.md, "Configuration record").
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <inttypes.h>
#include <string.h>

#include "codec/bytes.h"
#include "codec/container.h"
#include "codec/crc.h"
#include "codec/internal.h"

/* Fixed part: magic 4, size 4, version 2, codec 2, w 4, h 4, 8 one-byte
 * fields, fps 8, sar 8, frame count 8, payload size 4; then payload,
 * padding, CRC 4. */
#define RECORD_FIXED_SIZE 56
#define RECORD_MIN_SIZE (RECORD_FIXED_SIZE + 4)

const char *nvc_codec_name(enum NvcCodecId codec)
{
    switch (codec) {
    case NVC_CODEC_HNERV: return "hnerv";
    case NVC_CODEC_NERVPP: return "nervpp";
    case NVC_CODEC_IMAGE: return "image";
    case NVC_CODEC_DCVC: return "dcvc";
    }
    return "unknown";
}

void nvc_stream_config_default(NvcStreamConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = NVC_STREAM_VERSION;
    cfg->codec = NVC_CODEC_HNERV;
    cfg->p.layout = NVC_PIXEL_LAYOUT_I420;
    cfg->p.bpc = 8;
    nvc_color_description_default(&cfg->color);
    cfg->fps_num = 25;
    cfg->fps_den = 1;
    cfg->sar_num = 1;
    cfg->sar_den = 1;
}

void nvc_stream_config_clear(NvcStreamConfig *cfg)
{
    if (cfg)
        nvc_data_unref(&cfg->payload);
}

/* What is wrong with cfg's fields, or NULL when they are all valid. The
 * same rules serve the writer (bad call) and the reader (corrupt data). */
static const char *config_problem(const NvcStreamConfig *cfg)
{
    if (cfg->codec < NVC_CODEC_HNERV || cfg->codec > NVC_CODEC_DCVC)
        return "unknown codec id";
    if (cfg->p.w < 1 || cfg->p.h < 1 || cfg->p.w > NVC_MAX_DIMENSION || cfg->p.h > NVC_MAX_DIMENSION)
        return "picture size outside 1..32768";
    if ((unsigned)cfg->p.layout > NVC_PIXEL_LAYOUT_I444)
        return "unknown pixel layout";
    if (cfg->p.bpc != 8 && cfg->p.bpc != 10 && cfg->p.bpc != 12 && cfg->p.bpc != 16)
        return "bits per component not 8, 10, 12 or 16";
    if ((unsigned)cfg->color.matrix > 255 || (unsigned)cfg->color.primaries > 255 ||
        (unsigned)cfg->color.transfer > 255)
        return "colour code point above 255";
    if ((unsigned)cfg->color.range > NVC_RANGE_FULL)
        return "unknown colour range";
    if ((unsigned)cfg->color.chroma_location > NVC_CHROMA_TOPLEFT)
        return "unknown chroma location";
    if (cfg->fps_num < 1 || cfg->fps_den < 1)
        return "frame rate not positive";
    if (cfg->sar_num < 1 || cfg->sar_den < 1)
        return "sample aspect ratio not positive";
    if (cfg->frame_count < 0)
        return "negative frame count";
    return NULL;
}

int nvc_stream_config_check(const NvcStreamConfig *cfg, const NvcLogger *logger)
{
    const char *problem = config_problem(cfg);
    if (problem)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "stream configuration: %s", problem);
    if (cfg->payload.sz && !cfg->payload.data)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "stream configuration: payload without data");
    if (cfg->payload.sz > NVC_MAX_PACKET_SIZE - RECORD_MIN_SIZE - 1)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "stream configuration: payload of %zu bytes "
                             "is above the %u-byte limit", cfg->payload.sz, NVC_MAX_PACKET_SIZE);
    return 0;
}

size_t nvc_stream_config_record_size(size_t payload_sz)
{
    return RECORD_MIN_SIZE + payload_sz + (payload_sz & 1);
}

int nvc_stream_config_serialize(const NvcStreamConfig *cfg, NvcData *out, const NvcLogger *logger)
{
    memset(out, 0, sizeof(*out));
    int ret = nvc_stream_config_check(cfg, logger);
    if (ret < 0)
        return ret;
    size_t total = nvc_stream_config_record_size(cfg->payload.sz);
    NvcByteWriter bw = { 0 };
    if (nvc_bw_reserve(&bw, total))
        return NVC_ERR(ENOMEM);
    nvc_bw_bytes(&bw, NVC_RECORD_MAGIC, 4);
    nvc_bw_u32(&bw, (uint32_t)total);
    nvc_bw_u16(&bw, NVC_STREAM_VERSION);
    nvc_bw_u16(&bw, cfg->codec);
    nvc_bw_u32(&bw, (uint32_t)cfg->p.w);
    nvc_bw_u32(&bw, (uint32_t)cfg->p.h);
    nvc_bw_u8(&bw, cfg->p.layout);
    nvc_bw_u8(&bw, (unsigned)cfg->p.bpc);
    nvc_bw_u8(&bw, cfg->color.matrix);
    nvc_bw_u8(&bw, cfg->color.primaries);
    nvc_bw_u8(&bw, cfg->color.transfer);
    nvc_bw_u8(&bw, cfg->color.range);
    nvc_bw_u8(&bw, cfg->color.chroma_location);
    nvc_bw_u8(&bw, 0); /* reserved */
    nvc_bw_u32(&bw, (uint32_t)cfg->fps_num);
    nvc_bw_u32(&bw, (uint32_t)cfg->fps_den);
    nvc_bw_u32(&bw, (uint32_t)cfg->sar_num);
    nvc_bw_u32(&bw, (uint32_t)cfg->sar_den);
    nvc_bw_u64(&bw, (uint64_t)cfg->frame_count);
    nvc_bw_u32(&bw, (uint32_t)cfg->payload.sz);
    nvc_bw_bytes(&bw, cfg->payload.data, cfg->payload.sz);
    if (cfg->payload.sz & 1)
        nvc_bw_u8(&bw, 0); /* Matroska pads odd CodecPrivate sizes: keep the record even */
    nvc_bw_u32(&bw, nvc_crc32(0, bw.buf, bw.sz));
    if (bw.error || bw.sz != total) {
        nvc_bw_free(&bw);
        return NVC_ERR(ENOMEM);
    }
    uint8_t *buf = nvc_data_create(out, total);
    if (!buf) {
        nvc_bw_free(&bw);
        return NVC_ERR(ENOMEM);
    }
    memcpy(buf, bw.buf, total);
    nvc_bw_free(&bw);
    return 0;
}

/* The first 10 bytes: magic, size, version. Returns the record size or a
 * negative error (corrupt, or a size that cannot be a record). */
int64_t nvc_stream_config_peek_size(const uint8_t *buf, size_t sz, const NvcLogger *logger)
{
    NvcByteReader br;
    nvc_br_init(&br, buf, sz);
    const uint8_t *magic = nvc_br_bytes(&br, 4);
    uint32_t total = nvc_br_u32(&br);
    if (!magic)
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record truncated (%zu bytes)", sz);
    if (memcmp(magic, NVC_RECORD_MAGIC, 4))
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record: bad signature");
    if (br.error || total < RECORD_MIN_SIZE || (total & 1) || total > NVC_MAX_PACKET_SIZE)
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record: invalid size %" PRIu32,
                             total);
    return total;
}

/* Fields after the version; br is positioned at the codec id. Returns the
 * reserved byte. */
static unsigned read_fields(NvcByteReader *br, NvcStreamConfig *cfg, uint32_t *payload_sz)
{
    cfg->codec = nvc_br_u16(br);
    uint32_t w = nvc_br_u32(br), h = nvc_br_u32(br);
    cfg->p.w = w > NVC_MAX_DIMENSION ? -1 : (int)w;
    cfg->p.h = h > NVC_MAX_DIMENSION ? -1 : (int)h;
    cfg->p.layout = nvc_br_u8(br);
    cfg->p.bpc = nvc_br_u8(br);
    cfg->color.matrix = nvc_br_u8(br);
    cfg->color.primaries = nvc_br_u8(br);
    cfg->color.transfer = nvc_br_u8(br);
    cfg->color.range = nvc_br_u8(br);
    cfg->color.chroma_location = nvc_br_u8(br);
    const unsigned reserved = nvc_br_u8(br);
    uint32_t v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = nvc_br_u32(br);
        if (v[i] > INT32_MAX)
            v[i] = 0; /* refused by config_problem */
    }
    cfg->fps_num = (int)v[0];
    cfg->fps_den = (int)v[1];
    cfg->sar_num = (int)v[2];
    cfg->sar_den = (int)v[3];
    uint64_t n = nvc_br_u64(br);
    cfg->frame_count = n > INT64_MAX ? -1 : (int64_t)n;
    *payload_sz = nvc_br_u32(br);
    return reserved;
}

int nvc_stream_config_parse(NvcStreamConfig *cfg, const uint8_t *buf, size_t sz, int64_t max_pixels,
                            const NvcLogger *logger)
{
    memset(cfg, 0, sizeof(*cfg));
    int64_t total = nvc_stream_config_peek_size(buf, sz, logger);
    if (total < 0)
        return (int)total;
    if ((uint64_t)total != sz)
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record: size field says %" PRId64
                             " bytes, %zu present", total, sz);
    NvcByteReader br;
    nvc_br_init(&br, buf + sz - 4, 4);
    uint32_t crc = nvc_br_u32(&br);
    if (crc != nvc_crc32(0, buf, sz - 4))
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record: CRC mismatch");

    nvc_br_init(&br, buf + 8, sz - 8 - 4);
    cfg->version = nvc_br_u16(&br);
    if (cfg->version > NVC_STREAM_VERSION) {
        unsigned v = cfg->version;
        memset(cfg, 0, sizeof(*cfg));
        return nvc_log_error(logger, NVC_ERR(ENOTSUP), "stream version %u is newer than this "
                             "library's %u: update nvc", v, NVC_STREAM_VERSION);
    }
    uint32_t payload_sz = 0;
    const unsigned reserved = read_fields(&br, cfg, &payload_sz);
    const char *problem = cfg->version < 1 ? "version 0" : reserved ? "non-zero reserved byte"
                                                                    : config_problem(cfg);
    if (!problem && nvc_stream_config_record_size(payload_sz) != sz)
        problem = "payload size does not match the record size";
    const uint8_t *payload = problem ? NULL : nvc_br_bytes(&br, payload_sz);
    if (!problem && (payload_sz & 1) && nvc_br_u8(&br))
        problem = "non-zero padding";
    if (!problem && (br.error || nvc_br_left(&br)))
        problem = "inconsistent length";
    if (problem) {
        memset(cfg, 0, sizeof(*cfg));
        return nvc_log_error(logger, NVC_ERR_CORRUPT, "configuration record: %s", problem);
    }
    if (!max_pixels)
        max_pixels = NVC_DEFAULT_MAX_PIXELS;
    if ((int64_t)cfg->p.w * cfg->p.h > max_pixels) {
        int w = cfg->p.w, h = cfg->p.h;
        memset(cfg, 0, sizeof(*cfg));
        return nvc_log_error(logger, NVC_ERR(ERANGE), "pictures of %dx%d are above the limit of "
                             "%" PRId64 " pixels", w, h, max_pixels);
    }
    uint8_t *copy = nvc_data_create(&cfg->payload, payload_sz);
    if (!copy) {
        memset(cfg, 0, sizeof(*cfg));
        return NVC_ERR(ENOMEM);
    }
    if (payload_sz)
        memcpy(copy, payload, payload_sz);
    return 0;
}
