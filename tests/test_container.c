/*
 * Stream configuration record, elementary stream and Matroska container:
 * byte-exact round trips, seeking, FFmpeg/MKVToolNix interoperability, and
 * hostile input (truncations, bit flips, absurd fields).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "codec/container.h"
#include "codec/internal.h"
#include "codec/crc.h"
#include "nvc/nvc.h"

#if NVC_HAVE_FFMPEG
#include <libavutil/log.h>
#endif

/* ---- helpers ------------------------------------------------------------ */

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Messages of the library, kept for assertions (last error) and counted. */
static char last_error[512];
static int n_errors, n_warnings;
static void capture_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    if (level == NVC_LOG_ERROR) {
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
        n_errors++;
    } else if (level == NVC_LOG_WARNING) {
        n_warnings++;
    }
}
static const NvcLogger test_logger = { NULL, capture_log };

typedef struct Synth {
    NvcStreamConfig cfg;
    NvcData *pkts;
    int n;
} Synth;

/* n packets: sizes from 1 byte to a few hundred KiB (one of 3 MiB when
 * big != 0, to cross the readers' 1 MiB growth step), runs of zero bytes,
 * key packets at 0, every 5th and at random. */
static void synth_make(Synth *s, int n, unsigned seed, int fps_num, int fps_den, int big)
{
    rng_state = seed * 2654435761u + 1;
    nvc_stream_config_default(&s->cfg);
    s->cfg.codec = NVC_CODEC_DCVC;
    s->cfg.p = (NvcPictureParameters){ .w = 416, .h = 240, .layout = NVC_PIXEL_LAYOUT_I420, .bpc = 10 };
    s->cfg.color.matrix = NVC_MC_BT709;
    s->cfg.color.primaries = NVC_PRI_BT709;
    s->cfg.color.transfer = NVC_TRC_BT709;
    s->cfg.color.range = NVC_RANGE_FULL;
    s->cfg.color.chroma_location = NVC_CHROMA_LEFT;
    s->cfg.fps_num = fps_num;
    s->cfg.fps_den = fps_den;
    s->cfg.sar_num = 4;
    s->cfg.sar_den = 3;
    s->cfg.frame_count = n;
    uint8_t *pl = nvc_data_create(&s->cfg.payload, 1001 + seed % 2); /* odd and even */
    ck_assert_ptr_nonnull(pl);
    for (size_t i = 0; i < s->cfg.payload.sz; i++)
        pl[i] = (uint8_t)rnd();
    s->n = n;
    s->pkts = calloc((size_t)n, sizeof(*s->pkts));
    for (int i = 0; i < n; i++) {
        size_t sz = i % 7 == 1 ? 1 : i % 11 == 3 ? 200000 + rnd() % 100000 : 1 + rnd() % 5000;
        if (big && i == n / 2)
            sz = 3u << 20;
        uint8_t *p = nvc_data_create(&s->pkts[i], sz);
        ck_assert_ptr_nonnull(p);
        if (i % 3 != 2) /* every third packet stays all zeros */
            for (size_t k = 0; k < sz; k++)
                p[k] = (uint8_t)rnd();
        s->pkts[i].pts = i;
        s->pkts[i].flags = (i % 5 == 0 || rnd() % 4 == 0) ? NVC_DATA_KEY : 0;
    }
}

static void synth_free(Synth *s)
{
    for (int i = 0; i < s->n; i++)
        nvc_data_unref(&s->pkts[i]);
    free(s->pkts);
    nvc_stream_config_clear(&s->cfg);
}

static int mux_synth(const char *path, const Synth *s, enum NvcContainerFormat format, int bitexact)
{
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.format = format;
    ms.bitexact = bitexact;
    ms.title = "synthetic";
    ms.logger = test_logger;
    NvcMuxer *m;
    int ret = nvc_mux_open(&m, path, &s->cfg, &ms);
    if (ret < 0)
        return ret;
    for (int i = 0; i < s->n && ret >= 0; i++)
        ret = nvc_mux_write_packet(m, &s->pkts[i]);
    int ret2 = nvc_mux_close(&m, ret >= 0);
    return ret < 0 ? ret : ret2;
}

static void assert_config_eq(const NvcStreamConfig *a, const NvcStreamConfig *b)
{
    ck_assert_uint_eq(a->version, NVC_STREAM_VERSION);
    ck_assert_int_eq(a->codec, b->codec);
    ck_assert_int_eq(a->p.w, b->p.w);
    ck_assert_int_eq(a->p.h, b->p.h);
    ck_assert_int_eq(a->p.layout, b->p.layout);
    ck_assert_int_eq(a->p.bpc, b->p.bpc);
    ck_assert_mem_eq(&a->color, &b->color, sizeof(a->color));
    ck_assert_int_eq(a->fps_num, b->fps_num);
    ck_assert_int_eq(a->fps_den, b->fps_den);
    ck_assert_int_eq(a->sar_num, b->sar_num);
    ck_assert_int_eq(a->sar_den, b->sar_den);
    ck_assert_int_eq(a->frame_count, b->frame_count);
    ck_assert_uint_eq(a->payload.sz, b->payload.sz);
    ck_assert_int_eq(memcmp(a->payload.data, b->payload.data, a->payload.sz), 0);
}

static void assert_packet_eq(const NvcData *got, const NvcData *want)
{
    ck_assert_int_eq(got->pts, want->pts);
    ck_assert_uint_eq(got->flags, want->flags);
    ck_assert_uint_eq(got->sz, want->sz);
    ck_assert_int_eq(memcmp(got->data, want->data, want->sz), 0);
}

static NvcDemuxer *open_demux(const char *path)
{
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = test_logger;
    NvcDemuxer *d;
    int ret = nvc_demux_open(&d, path, &ds);
    ck_assert_msg(ret == 0, "open %s: %s (%s)", path, nvc_error_string(ret), last_error);
    return d;
}

/* Every packet and the configuration come back byte for byte. */
static void check_demux_all(NvcDemuxer *d, const Synth *s)
{
    assert_config_eq(nvc_demux_get_config(d), &s->cfg);
    NvcData pkt;
    for (int i = 0; i < s->n; i++) {
        int ret = nvc_demux_read_packet(d, &pkt);
        ck_assert_msg(ret == 1, "packet %d: %d (%s)", i, ret, last_error);
        assert_packet_eq(&pkt, &s->pkts[i]);
        nvc_data_unref(&pkt);
    }
    ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 0);
    ck_assert_ptr_null(pkt.data);
    ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 0);
}

static void check_file(const char *path, const Synth *s, enum NvcContainerFormat format)
{
    NvcDemuxer *d = open_demux(path);
    ck_assert_int_eq(nvc_demux_get_format(d), format);
    check_demux_all(d, s);
    nvc_demux_close(&d);
    ck_assert_ptr_null(d);
}

/* Seek to every frame (forwards, then backwards): the next packet is the
 * last key packet at or before it. */
static void check_seeking(const char *path, const Synth *s)
{
    NvcDemuxer *d = open_demux(path);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < s->n + 2; k++) {
            int f = pass ? s->n + 1 - k : k;
            int want = 0;
            for (int i = 0; i < s->n && i <= f; i++)
                if (s->pkts[i].flags & NVC_DATA_KEY)
                    want = i;
            ck_assert_int_eq(nvc_demux_seek(d, f), 0);
            NvcData pkt;
            ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 1);
            ck_assert_msg(pkt.pts == want, "seek %d: pts %lld, want %d", f, (long long)pkt.pts, want);
            assert_packet_eq(&pkt, &s->pkts[want]);
            nvc_data_unref(&pkt);
            /* and reading on from there gives the following packets */
            if (want + 1 < s->n) {
                ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 1);
                assert_packet_eq(&pkt, &s->pkts[want + 1]);
                nvc_data_unref(&pkt);
            }
        }
    }
    ck_assert_int_eq(nvc_demux_seek(d, -1), NVC_ERR(EINVAL));
    nvc_demux_close(&d);
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static uint8_t *slurp(const char *path, size_t *sz)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *sz = (size_t)n;
    return buf;
}

#if NVC_HAVE_FFMPEG
static int have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    if (system(cmd) == 0)
        return 1;
    fprintf(stderr, "%s not found: its checks are skipped\n", name);
    return 0;
}
#endif

/* Output of a shell command (at most sz - 1 bytes), and its exit status. */
static int run_capture(const char *cmd, char *out, size_t sz)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sz - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- configuration record ------------------------------------------------ */

START_TEST(test_crc32)
{
    ck_assert_uint_eq(nvc_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(nvc_crc32(0, NULL, 0), 0);
    /* chunked = whole */
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7);
    ck_assert_uint_eq(nvc_crc32(nvc_crc32(0, buf, 333), buf + 333, 667), nvc_crc32(0, buf, 1000));
}
END_TEST

static void make_record(NvcData *rec, size_t payload_sz)
{
    NvcStreamConfig cfg;
    nvc_stream_config_default(&cfg);
    cfg.codec = NVC_CODEC_IMAGE;
    cfg.p = (NvcPictureParameters){ .w = 1920, .h = 1080, .layout = NVC_PIXEL_LAYOUT_I444, .bpc = 8 };
    cfg.fps_num = 30000;
    cfg.fps_den = 1001;
    cfg.frame_count = 600;
    uint8_t *p = nvc_data_create(&cfg.payload, payload_sz);
    for (size_t i = 0; i < payload_sz; i++)
        p[i] = (uint8_t)(i * 31 + 7);
    ck_assert_int_eq(nvc_stream_config_serialize(&cfg, rec, NULL), 0);
    nvc_stream_config_clear(&cfg);
}

START_TEST(test_record_roundtrip)
{
    for (size_t psz = 0; psz < 6; psz++) {
        Synth s;
        synth_make(&s, 0, (unsigned)psz, 12, 1, 0);
        nvc_data_unref(&s.cfg.payload);
        uint8_t *p = nvc_data_create(&s.cfg.payload, psz);
        for (size_t i = 0; i < psz; i++)
            p[i] = (uint8_t)(0xA0 + i);
        NvcData rec;
        ck_assert_int_eq(nvc_stream_config_serialize(&s.cfg, &rec, &test_logger), 0);
        ck_assert_uint_eq(rec.sz % 2, 0);
        ck_assert_uint_eq(rec.sz, 60 + psz + (psz & 1));
        ck_assert_int_eq(memcmp(rec.data, "nvcC", 4), 0);
        NvcStreamConfig got;
        ck_assert_int_eq(nvc_stream_config_parse(&got, rec.data, rec.sz, 0, &test_logger), 0);
        assert_config_eq(&got, &s.cfg);
        ck_assert_ptr_nonnull(got.payload.data);
        nvc_stream_config_clear(&got);
        nvc_stream_config_clear(&got); /* harmless twice */
        nvc_data_unref(&rec);
        synth_free(&s);
    }
}
END_TEST

START_TEST(test_record_layout)
{
    /* the byte layout of doc/FORMAT.md, field by field */
    NvcData rec;
    make_record(&rec, 3);
    const uint8_t *b = rec.data;
    ck_assert_uint_eq(rec.sz, 64);
    static const uint8_t head[56] = {
        'n', 'v', 'c', 'C', 0, 0, 0, 64, 0, 1, 0, 3,   /* magic, size, version, codec */
        0, 0, 0x07, 0x80, 0, 0, 0x04, 0x38,           /* 1920, 1080 */
        2, 8, 2, 2, 2, 0, 0, 0,                        /* I444, 8 bit, colour defaults, reserved */
        0, 0, 0x75, 0x30, 0, 0, 0x03, 0xE9,           /* 30000/1001 */
        0, 0, 0, 1, 0, 0, 0, 1,                        /* 1:1 */
        0, 0, 0, 0, 0, 0, 0x02, 0x58,                  /* 600 frames */
        0, 0, 0, 3,                                    /* payload size */
    };
    ck_assert_mem_eq(b, head, sizeof(head));
    ck_assert_int_eq(b[56], 7);
    ck_assert_int_eq(b[59], 0); /* padding */
    uint32_t crc = nvc_crc32(0, b, 60);
    ck_assert_uint_eq((uint32_t)b[60] << 24 | b[61] << 16 | b[62] << 8 | b[63], crc);
    nvc_data_unref(&rec);
}
END_TEST

/* Rewrite the CRC after editing a record in place. */
static void fix_crc(uint8_t *b, size_t sz)
{
    uint32_t crc = nvc_crc32(0, b, sz - 4);
    b[sz - 4] = (uint8_t)(crc >> 24);
    b[sz - 3] = (uint8_t)(crc >> 16);
    b[sz - 2] = (uint8_t)(crc >> 8);
    b[sz - 1] = (uint8_t)crc;
}

/* Parse rec with the n-byte big-endian field at off replaced by value and
 * a valid CRC: only the field checks can refuse it. */
static int parse_field(const NvcData *rec, size_t off, int n, uint64_t value, int64_t max_pixels)
{
    uint8_t *b = malloc(rec->sz);
    memcpy(b, rec->data, rec->sz);
    for (int i = 0; i < n; i++)
        b[off + (size_t)i] = (uint8_t)(value >> 8 * (n - 1 - i));
    fix_crc(b, rec->sz);
    NvcStreamConfig cfg;
    int ret = nvc_stream_config_parse(&cfg, b, rec->sz, max_pixels, &test_logger);
    if (ret == 0)
        nvc_stream_config_clear(&cfg);
    else
        ck_assert_ptr_null(cfg.payload.data);
    free(b);
    return ret;
}

START_TEST(test_record_hostile)
{
    NvcData rec;
    make_record(&rec, 5);
    NvcStreamConfig cfg;
    /* every truncation, and trailing bytes */
    for (size_t n = 0; n < rec.sz; n++)
        ck_assert_int_eq(nvc_stream_config_parse(&cfg, rec.data, n, 0, NULL), NVC_ERR_CORRUPT);
    uint8_t *longer = calloc(1, rec.sz + 2);
    memcpy(longer, rec.data, rec.sz);
    ck_assert_int_eq(nvc_stream_config_parse(&cfg, longer, rec.sz + 2, 0, NULL), NVC_ERR_CORRUPT);
    free(longer);
    /* every single bit flip is caught (CRC-32 detects all of them) */
    uint8_t *b = malloc(rec.sz);
    for (size_t bit = 0; bit < rec.sz * 8; bit++) {
        memcpy(b, rec.data, rec.sz);
        b[bit / 8] ^= (uint8_t)(1 << bit % 8);
        int ret = nvc_stream_config_parse(&cfg, b, rec.sz, 0, NULL);
        ck_assert_msg(ret == NVC_ERR_CORRUPT, "flip of bit %zu: %d", bit, ret);
    }
    free(b);
    /* well-formed CRC, bad fields (offsets of doc/FORMAT.md) */
    last_error[0] = 0;
    ck_assert_int_eq(parse_field(&rec, 0, 1, 'X', 0), NVC_ERR_CORRUPT);          /* magic */
    ck_assert_int_eq(parse_field(&rec, 8, 2, 2, 0), NVC_ERR(ENOTSUP));          /* newer version */
    ck_assert_ptr_nonnull(strstr(last_error, "newer"));
    ck_assert_int_eq(parse_field(&rec, 8, 2, 0xFFFF, 0), NVC_ERR(ENOTSUP));
    ck_assert_int_eq(parse_field(&rec, 8, 2, 0, 0), NVC_ERR_CORRUPT);           /* version 0 */
    ck_assert_int_eq(parse_field(&rec, 10, 2, 0, 0), NVC_ERR_CORRUPT);          /* codec 0 */
    ck_assert_int_eq(parse_field(&rec, 10, 2, 5, 0), NVC_ERR_CORRUPT);          /* codec 5 */
    ck_assert_int_eq(parse_field(&rec, 10, 2, 4, 0), 0);                        /* codec 4 */
    ck_assert_int_eq(parse_field(&rec, 12, 4, 0, 0), NVC_ERR_CORRUPT);          /* width 0 */
    ck_assert_int_eq(parse_field(&rec, 12, 4, 32769, 0), NVC_ERR_CORRUPT);      /* width */
    ck_assert_int_eq(parse_field(&rec, 12, 4, 0x80000780, 0), NVC_ERR_CORRUPT); /* width < 0 */
    ck_assert_int_eq(parse_field(&rec, 16, 4, 0, 0), NVC_ERR_CORRUPT);          /* height 0 */
    ck_assert_int_eq(parse_field(&rec, 16, 4, 1, 0), 0);                        /* height 1 */
    ck_assert_int_eq(parse_field(&rec, 16, 4, 0xFFFFFFFF, 0), NVC_ERR_CORRUPT);
    ck_assert_int_eq(parse_field(&rec, 20, 1, 3, 0), NVC_ERR_CORRUPT);          /* layout */
    ck_assert_int_eq(parse_field(&rec, 21, 1, 9, 0), NVC_ERR_CORRUPT);          /* bpc */
    ck_assert_int_eq(parse_field(&rec, 21, 1, 16, 0), 0);
    ck_assert_int_eq(parse_field(&rec, 22, 1, 200, 0), 0);                      /* any H.273 code */
    ck_assert_int_eq(parse_field(&rec, 25, 1, 2, 0), NVC_ERR_CORRUPT);          /* range */
    ck_assert_int_eq(parse_field(&rec, 26, 1, 4, 0), NVC_ERR_CORRUPT);          /* chroma location */
    ck_assert_int_eq(parse_field(&rec, 27, 1, 1, 0), NVC_ERR_CORRUPT);          /* reserved */
    ck_assert_int_eq(parse_field(&rec, 28, 4, 0x80000000, 0), NVC_ERR_CORRUPT); /* fps_num */
    ck_assert_int_eq(parse_field(&rec, 28, 4, 0, 0), NVC_ERR_CORRUPT);
    ck_assert_int_eq(parse_field(&rec, 32, 4, 0, 0), NVC_ERR_CORRUPT);          /* fps_den */
    ck_assert_int_eq(parse_field(&rec, 32, 4, 0x7FFFFFFF, 0), 0);
    ck_assert_int_eq(parse_field(&rec, 36, 4, 0, 0), NVC_ERR_CORRUPT);          /* sar */
    ck_assert_int_eq(parse_field(&rec, 40, 4, 0, 0), NVC_ERR_CORRUPT);
    ck_assert_int_eq(parse_field(&rec, 44, 8, UINT64_MAX, 0), NVC_ERR_CORRUPT); /* frames < 0 */
    ck_assert_int_eq(parse_field(&rec, 44, 8, 0, 0), 0);                        /* unknown */
    ck_assert_int_eq(parse_field(&rec, 52, 4, 4, 0), NVC_ERR_CORRUPT);          /* payload size */
    ck_assert_int_eq(parse_field(&rec, 52, 4, 7, 0), NVC_ERR_CORRUPT);
    ck_assert_int_eq(parse_field(&rec, 52, 4, 6, 0), 0); /* the zero pad is then payload */
    ck_assert_int_eq(parse_field(&rec, 52, 4, 0xFFFFFFFF, 0), NVC_ERR_CORRUPT);
    ck_assert_int_eq(parse_field(&rec, 61, 1, 1, 0), NVC_ERR_CORRUPT);          /* padding */
    ck_assert_int_eq(parse_field(&rec, 4, 4, 64, 0), NVC_ERR_CORRUPT);          /* record size */
    ck_assert_int_eq(parse_field(&rec, 4, 4, 67, 0), NVC_ERR_CORRUPT);          /* odd */
    ck_assert_int_eq(parse_field(&rec, 4, 4, 0xFFFFFFFF, 0), NVC_ERR_CORRUPT);
    /* the pixel limit */
    ck_assert_int_eq(parse_field(&rec, 22, 1, 2, 1920 * 1080 - 1), NVC_ERR(ERANGE));
    ck_assert_int_eq(parse_field(&rec, 22, 1, 2, 1920 * 1080), 0);
    ck_assert_int_eq(parse_field(&rec, 12, 8, (uint64_t)32768 << 32 | 32768, 0), NVC_ERR(ERANGE));
    nvc_data_unref(&rec);
}
END_TEST

START_TEST(test_record_invalid_config)
{
    NvcStreamConfig cfg;
    NvcData out;
    nvc_stream_config_default(&cfg);
    ck_assert_int_eq(nvc_stream_config_serialize(&cfg, &out, &test_logger), NVC_ERR(EINVAL)); /* 0x0 */
    ck_assert_ptr_null(out.data);
    cfg.p.w = 64;
    cfg.p.h = 64;
    ck_assert_int_eq(nvc_stream_config_serialize(&cfg, &out, NULL), 0);
    nvc_data_unref(&out);
    NvcStreamConfig bad = cfg;
    bad.p.bpc = 9;
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    bad = cfg;
    bad.codec = 0;
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    bad = cfg;
    bad.fps_den = 0;
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    bad = cfg;
    bad.p.w = NVC_MAX_DIMENSION + 1;
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    bad = cfg;
    bad.frame_count = -1;
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    bad = cfg;
    bad.payload.sz = 10; /* no data */
    ck_assert_int_eq(nvc_stream_config_serialize(&bad, &out, NULL), NVC_ERR(EINVAL));
    ck_assert_str_eq(nvc_codec_name(NVC_CODEC_HNERV), "hnerv");
    ck_assert_str_eq(nvc_codec_name(NVC_CODEC_DCVC), "dcvc");
    ck_assert_str_eq(nvc_codec_name(0), "unknown");
}
END_TEST

/* ---- round trips ---------------------------------------------------------- */

static const struct {
    int num, den;
} rates[] = { { 30000, 1001 }, { 12, 1 }, { 120, 1 }, { 24000, 1001 } };

static void roundtrip(enum NvcContainerFormat format, const char *name, int n)
{
    char *dir = test_tmpdir();
    char *path = path_in(dir, name);
    for (size_t r = 0; r < NVC_ARRAY_SIZE(rates); r++) {
        Synth s;
        synth_make(&s, n, (unsigned)r + 1, rates[r].num, rates[r].den, r == 0);
        int ret = mux_synth(path, &s, format, 0);
        ck_assert_msg(ret == 0, "mux: %s (%s)", nvc_error_string(ret), last_error);
        check_file(path, &s, format);
        check_seeking(path, &s);
        synth_free(&s);
    }
    free(path);
    test_rmdir(dir);
}

START_TEST(test_roundtrip_elementary)
{
    roundtrip(NVC_CONTAINER_ELEMENTARY, "a.nvces", 40);
}
END_TEST

START_TEST(test_elementary_stdio)
{
    /* "-" writes to stdout and reads stdin: a child writes through a pipe,
     * we read the pipe (not seekable), then read the same bytes as stdin */
    Synth s;
    synth_make(&s, 12, 7, 25, 1, 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (!pid) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        _exit(mux_synth("-", &s, NVC_CONTAINER_ELEMENTARY, 0) ? 1 : 0);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "rb");
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open_file(&d, in, 1, &ds), 0);
    check_demux_all(d, &s);
    ck_assert_int_eq(nvc_demux_seek(d, 0), NVC_ERR(ESPIPE));
    nvc_demux_close(&d);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    char *dir = test_tmpdir();
    char *path = path_in(dir, "in.nvces");
    ck_assert_int_eq(mux_synth(path, &s, NVC_CONTAINER_ELEMENTARY, 0), 0);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, 0), 0);
    close(fd);
    d = open_demux("-");
    check_demux_all(d, &s);
    ck_assert_int_eq(nvc_demux_seek(d, 11), 0); /* a redirected file is seekable */
    nvc_demux_close(&d);
    free(path);
    test_rmdir(dir);
    synth_free(&s);
}
END_TEST

/* A stream that serves `ok` bytes, then fails every read with EIO. */
typedef struct FailingInput {
    const uint8_t *buf;
    size_t ok, pos;
    int reads_after_error;
} FailingInput;

static ssize_t failing_read(void *cookie, char *out, size_t n)
{
    FailingInput *fi = cookie;
    if (fi->pos >= fi->ok) {
        fi->reads_after_error++;
        errno = EIO;
        return -1;
    }
    n = NVC_MIN(n, fi->ok - fi->pos);
    memcpy(out, fi->buf + fi->pos, n);
    fi->pos += n;
    return (ssize_t)n;
}

/* After a read error the demuxer reports it once, then the end: reading on
 * never waits on the input again (Ctrl-C on a stalled pipe is such an
 * error) and never loops on the error. */
START_TEST(test_read_error_ends_stream)
{
    char *dir = test_tmpdir();
    Synth s;
    synth_make(&s, 4, 3, 25, 1, 0);
    for (int c = 0; c < 2; c++) {
        const enum NvcContainerFormat fmt = c ? NVC_CONTAINER_MATROSKA : NVC_CONTAINER_ELEMENTARY;
#if !NVC_HAVE_FFMPEG
        if (fmt == NVC_CONTAINER_MATROSKA)
            continue;
#endif
        char *path = path_in(dir, c ? "e.nvc" : "e.nvces");
        ck_assert_int_eq(mux_synth(path, &s, fmt, 1), 0);
        size_t sz;
        uint8_t *file = slurp(path, &sz);
        FailingInput fi = { .buf = file, .ok = sz * 2 / 3 };
        FILE *f = fopencookie(&fi, "rb", (cookie_io_functions_t){ .read = failing_read });
        ck_assert_ptr_nonnull(f);
        setvbuf(f, NULL, _IONBF, 0);
        NvcDemuxSettings ds;
        nvc_demux_default_settings(&ds);
        ds.logger = test_logger;
        NvcDemuxer *d;
        ck_assert_int_eq(nvc_demux_open_file(&d, f, 1, &ds), 0);
        NvcData pkt;
        int ret, n = 0, errors = 0;
        while ((ret = nvc_demux_read_packet(d, &pkt)) != 0 && n + errors < 100) {
            if (ret == 1) {
                assert_packet_eq(&pkt, &s.pkts[n++]);
                nvc_data_unref(&pkt);
            } else {
                ck_assert_int_eq(ret, NVC_ERR(EIO));
                errors++;
            }
        }
        ck_assert_int_eq(ret, 0);
        ck_assert_int_eq(errors, 1);
        ck_assert_int_lt(n, s.n);
        ck_assert_int_le(fi.reads_after_error, 1);
        ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 0);
        nvc_demux_close(&d);
        free(file);
        free(path);
    }
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_elementary_hostile)
{
    Synth s;
    synth_make(&s, 4, 3, 25, 1, 0);
    for (int i = 0; i < s.n; i++) { /* small packets keep the flip loop short */
        nvc_data_unref(&s.pkts[i]);
        uint8_t *p = nvc_data_create(&s.pkts[i], (size_t)(3 + i));
        memset(p, i, (size_t)(3 + i));
        s.pkts[i].pts = i;
        s.pkts[i].flags = i == 0 || i == 2 ? NVC_DATA_KEY : 0;
    }
    nvc_data_unref(&s.cfg.payload);
    nvc_data_create(&s.cfg.payload, 9);
    char *dir = test_tmpdir();
    char *path = path_in(dir, "h.nvces");
    ck_assert_int_eq(mux_synth(path, &s, NVC_CONTAINER_ELEMENTARY, 0), 0);
    size_t sz;
    uint8_t *file = slurp(path, &sz);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    uint8_t *buf = malloc(sz + 16);
    /* len == sz: the intact file; everything shorter must fail somewhere */
    for (int mode = 0; mode < 3; mode++) {
        size_t cases = mode == 0 ? sz + 1 : mode == 1 ? sz * 8 : 1;
        for (size_t c = 0; c < cases; c++) {
            size_t len = mode == 0 ? c : sz;
            memcpy(buf, file, sz);
            if (mode == 1)
                buf[c / 8] ^= (uint8_t)(1 << c % 8);
            if (mode == 2) { /* trailing garbage */
                memset(buf + sz, 0x55, 16);
                len = sz + 16;
            }
            FILE *f = len ? fmemopen(buf, len, "rb") : fopen("/dev/null", "rb");
            NvcDemuxer *d;
            int ret = nvc_demux_open_file(&d, f, 1, &ds), n = 0;
            NvcData pkt;
            while (ret == 0 && (ret = nvc_demux_read_packet(d, &pkt)) == 1) {
                assert_packet_eq(&pkt, &s.pkts[n++]); /* never a wrong packet */
                nvc_data_unref(&pkt);
                ret = 0;
            }
            int intact = mode == 0 && len == sz;
            ck_assert_msg(intact ? ret == 0 : ret < 0, "mode %d case %zu: %d", mode, c, ret);
            if (ret < 0)
                ck_assert_int_ne(ret, NVC_ERR(ENOMEM));
            /* reading on after an error reaches the end: no endless loop */
            int tries = 0;
            while (d && tries < 100 && (ret = nvc_demux_read_packet(d, &pkt)) != 0) {
                nvc_data_unref(&pkt);
                tries++;
            }
            ck_assert_int_lt(tries, 100);
            nvc_demux_close(&d);
        }
    }
    free(buf);
    free(file);
    free(path);
    test_rmdir(dir);
    synth_free(&s);
}
END_TEST

/* A crafted elementary stream header claiming a 1 GiB packet in a tiny file:
 * refused without allocating the claimed size. */
START_TEST(test_elementary_absurd_sizes)
{
    NvcData rec;
    make_record(&rec, 0);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    uint8_t buf[256];
    memcpy(buf, NVC_ES_SIGNATURE, 8);
    memcpy(buf + 8, rec.data, rec.sz);
    size_t off = 8 + rec.sz;
    static const uint8_t hdr[16] = { 0x40, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(buf + off, hdr, 16);
    memset(buf + off + 16, 0xAB, 40);
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open_file(&d, fmemopen(buf, off + 56, "rb"), 1, &ds), 0);
    NvcData pkt;
    ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), NVC_ERR_CORRUPT); /* 1 GiB claimed, 40 B there */
    nvc_demux_close(&d);
    buf[off] = 0x41; /* above the 1 GiB limit */
    ck_assert_int_eq(nvc_demux_open_file(&d, fmemopen(buf, off + 56, "rb"), 1, &ds), 0);
    ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), NVC_ERR_CORRUPT);
    nvc_demux_close(&d);
    /* a 1 GiB record size in the header */
    buf[8 + 4] = 0x40;
    buf[8 + 5] = buf[8 + 6] = buf[8 + 7] = 0;
    ck_assert_int_eq(nvc_demux_open_file(&d, fmemopen(buf, off + 56, "rb"), 1, &ds), NVC_ERR_CORRUPT);
    ck_assert_ptr_null(d);
    nvc_data_unref(&rec);
}
END_TEST

START_TEST(test_open_errors)
{
    char *dir = test_tmpdir();
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = test_logger;
    NvcDemuxer *d = (NvcDemuxer *)1;
    char *missing = path_in(dir, "missing.nvc");
    ck_assert_int_eq(nvc_demux_open(&d, missing, &ds), NVC_ERR(ENOENT));
    ck_assert_ptr_null(d);
    ck_assert_int_eq(nvc_demux_open(&d, dir, &ds), NVC_ERR(EISDIR));
    char *empty = path_in(dir, "empty.nvc");
    fclose(fopen(empty, "wb"));
    ck_assert_int_eq(nvc_demux_open(&d, empty, &ds), NVC_ERR_CORRUPT);
    ck_assert_str_eq(last_error, "empty file");
    FILE *f = fopen(empty, "wb");
    fputs("P6\n1 1\n255\nabc", f);
    fclose(f);
    ck_assert_int_eq(nvc_demux_open(&d, empty, &ds), NVC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(last_error, "not an nvc file"));
    free(missing);
    free(empty);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_mux_errors)
{
    char *dir = test_tmpdir();
    char *path = path_in(dir, "out.nvc");
    Synth s;
    synth_make(&s, 3, 1, 25, 1, 0);
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.format = NVC_CONTAINER_ELEMENTARY;
    ms.logger = test_logger;
    NvcMuxer *m;
    /* packets: first must be key, pts increasing, never empty */
    ck_assert_int_eq(nvc_mux_open(&m, path, &s.cfg, &ms), 0);
    NvcData p = s.pkts[1];
    p.flags = 0;
    p.pts = 0;
    ck_assert_int_eq(nvc_mux_write_packet(m, &p), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[0]), 0);
    ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[0]), NVC_ERR(EINVAL)); /* same pts */
    p = s.pkts[1];
    p.sz = 0;
    ck_assert_int_eq(nvc_mux_write_packet(m, &p), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[2]), 0); /* gaps in pts are allowed */
    /* abort: nothing left behind, not even the temporary file */
    ck_assert_int_eq(nvc_mux_close(&m, 0), 0);
    ck_assert_ptr_null(m);
    char out[4096];
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
    run_capture(cmd, out, sizeof(out));
    ck_assert_str_eq(out, "");
    /* commit replaces an existing file only at the end */
    FILE *f = fopen(path, "wb");
    fputs("old", f);
    fclose(f);
    ck_assert_int_eq(nvc_mux_open(&m, path, &s.cfg, &ms), 0);
    size_t sz;
    uint8_t *old = slurp(path, &sz);
    ck_assert_uint_eq(sz, 3);
    free(old);
    for (int i = 0; i < s.n; i++)
        ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[i]), 0);
    ck_assert_int_eq(nvc_mux_close(&m, 1), 0);
    check_file(path, &s, NVC_CONTAINER_ELEMENTARY);
    run_capture(cmd, out, sizeof(out));
    ck_assert_str_eq(out, "out.nvc\n");
    /* bad targets and settings */
    ck_assert_int_eq(nvc_mux_open(&m, dir, &s.cfg, &ms), NVC_ERR(EISDIR));
    char *nodir = path_in(dir, "no/such/dir.nvc");
    ck_assert_int_eq(nvc_mux_open(&m, nodir, &s.cfg, &ms), NVC_ERR(ENOENT));
    ck_assert_ptr_null(m);
    free(nodir);
    ms.format = 7;
    ck_assert_int_eq(nvc_mux_open(&m, path, &s.cfg, &ms), NVC_ERR(EINVAL));
    ms.format = NVC_CONTAINER_MATROSKA;
#if NVC_HAVE_FFMPEG
    NvcStreamConfig fast = s.cfg;
    fast.fps_num = 1001;
    ck_assert_int_eq(nvc_mux_open(&m, path, &fast, &ms), NVC_ERR(ENOTSUP));
#else
    ck_assert_int_eq(nvc_mux_open(&m, path, &s.cfg, &ms), NVC_ERR(ENOSYS));
    ck_assert_ptr_nonnull(strstr(last_error, "--disable-ffmpeg"));
#endif
    /* a full disk: the error comes back from write or close */
    for (int fmt = 0; fmt < 2; fmt++) {
        FILE *full = fopen("/dev/full", "wb");
        if (!full)
            break;
        ms.format = fmt;
#if !NVC_HAVE_FFMPEG
        if (fmt == NVC_CONTAINER_MATROSKA)
            continue;
#endif
        int ret = nvc_mux_open_file(&m, full, &s.cfg, &ms);
        for (int i = 0; i < s.n && ret == 0; i++)
            ret = nvc_mux_write_packet(m, &s.pkts[i]);
        if (m)
            ret = ret ? (nvc_mux_close(&m, 0), ret) : nvc_mux_close(&m, 1);
        ck_assert_msg(ret == NVC_ERR(ENOSPC), "format %d: %s", fmt, nvc_error_string(ret));
        fclose(full);
    }
    synth_free(&s);
    free(path);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_elementary_deterministic)
{
    char *dir = test_tmpdir();
    char *a = path_in(dir, "a.nvces"), *b = path_in(dir, "b.nvces");
    Synth s;
    synth_make(&s, 10, 5, 25, 1, 0);
    ck_assert_int_eq(mux_synth(a, &s, NVC_CONTAINER_ELEMENTARY, 0), 0);
    ck_assert_int_eq(mux_synth(b, &s, NVC_CONTAINER_ELEMENTARY, 0), 0);
    size_t na, nb;
    uint8_t *da = slurp(a, &na), *db = slurp(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(da, db, na), 0);
    /* size: signature + record + packets with 20 bytes of framing + end marker */
    size_t want = 8 + nvc_stream_config_record_size(s.cfg.payload.sz) + 20;
    for (int i = 0; i < s.n; i++)
        want += 20 + s.pkts[i].sz;
    ck_assert_uint_eq(na, want);
    free(da);
    free(db);
    free(a);
    free(b);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

#if NVC_HAVE_FFMPEG

START_TEST(test_roundtrip_matroska)
{
    roundtrip(NVC_CONTAINER_MATROSKA, "a.nvc", 40);
}
END_TEST

START_TEST(test_matroska_deterministic)
{
    char *dir = test_tmpdir();
    char *a = path_in(dir, "a.nvc"), *b = path_in(dir, "b.nvc");
    Synth s;
    synth_make(&s, 10, 5, 25, 1, 0);
    ck_assert_int_eq(mux_synth(a, &s, NVC_CONTAINER_MATROSKA, 1), 0);
    ck_assert_int_eq(mux_synth(b, &s, NVC_CONTAINER_MATROSKA, 1), 0);
    size_t na, nb;
    uint8_t *da = slurp(a, &na), *db = slurp(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(da, db, na), 0);
    free(da);
    free(db);
    check_file(a, &s, NVC_CONTAINER_MATROSKA);
    free(a);
    free(b);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

/* Written to a pipe (no cues, no duration), then read from a pipe and from
 * the file; seeking in the file still works (by scanning). */
START_TEST(test_matroska_streamed)
{
    char *dir = test_tmpdir();
    char *path = path_in(dir, "piped.nvc");
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "cat > '%s'", path);
    Synth s;
    synth_make(&s, 30, 9, 30000, 1001, 0);
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.logger = test_logger;
    FILE *p = popen(cmd, "w");
    NvcMuxer *m;
    ck_assert_int_eq(nvc_mux_open_file(&m, p, &s.cfg, &ms), 0);
    for (int i = 0; i < s.n; i++)
        ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[i]), 0);
    ck_assert_int_eq(nvc_mux_close(&m, 1), 0);
    ck_assert_int_eq(pclose(p), 0);

    snprintf(cmd, sizeof(cmd), "cat '%s'", path);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open_file(&d, popen(cmd, "r"), 0, &ds), 0);
    check_demux_all(d, &s);
    ck_assert_int_eq(nvc_demux_seek(d, 3), NVC_ERR(ESPIPE));
    FILE *pf = d->in.f;
    nvc_demux_close(&d);
    pclose(pf);

    check_file(path, &s, NVC_CONTAINER_MATROSKA);
    check_seeking(path, &s);
    free(path);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_matroska_stdout)
{
    Synth s;
    synth_make(&s, 8, 2, 12, 1, 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (!pid) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        _exit(mux_synth("-", &s, NVC_CONTAINER_MATROSKA, 0) ? 1 : 0);
    }
    close(fds[1]);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open_file(&d, fdopen(fds[0], "rb"), 1, &ds), 0);
    ck_assert_int_eq(nvc_demux_get_format(d), NVC_CONTAINER_MATROSKA);
    check_demux_all(d, &s);
    nvc_demux_close(&d);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    synth_free(&s);
}
END_TEST

/* A file that already holds bytes (stdout redirected after other output):
 * the container starts there, libavformat's seeks stay relative to it, and
 * the reader opened at that offset sees the stream. */
START_TEST(test_matroska_offset)
{
    char *dir = test_tmpdir();
    char *path = path_in(dir, "offset.nvc");
    Synth s;
    synth_make(&s, 20, 6, 25, 1, 0);
    for (int fmt = 0; fmt < 2; fmt++) {
        FILE *f = fopen(path, "w+b");
        fputs("HEADER", f);
        NvcMuxSettings ms;
        nvc_mux_default_settings(&ms);
        ms.format = fmt;
        NvcMuxer *m;
        ck_assert_int_eq(nvc_mux_open_file(&m, f, &s.cfg, &ms), 0);
        ck_assert_int_eq(m->seekable, 1);
        ck_assert_int_eq(m->base, 6);
        for (int i = 0; i < s.n; i++)
            ck_assert_int_eq(nvc_mux_write_packet(m, &s.pkts[i]), 0);
        ck_assert_int_eq(nvc_mux_close(&m, 1), 0);
        rewind(f);
        char head[7] = { 0 };
        ck_assert_uint_eq(fread(head, 1, 6, f), 6);
        ck_assert_str_eq(head, "HEADER");
        NvcDemuxSettings ds;
        nvc_demux_default_settings(&ds);
        NvcDemuxer *d;
        ck_assert_int_eq(nvc_demux_open_file(&d, f, 1, &ds), 0);
        check_demux_all(d, &s);
        ck_assert_int_eq(nvc_demux_seek(d, 12), 0);
        NvcData pkt;
        ck_assert_int_eq(nvc_demux_read_packet(d, &pkt), 1);
        ck_assert_int_le(pkt.pts, 12);
        ck_assert_uint_ne(pkt.flags & NVC_DATA_KEY, 0);
        nvc_data_unref(&pkt);
        nvc_demux_close(&d);
    }
    synth_free(&s);
    free(path);
    test_rmdir(dir);
}
END_TEST

static void make_mkv(const char *dir, Synth *s, char **path, int n, int num, int den)
{
    *path = path_in(dir, "a.nvc");
    synth_make(s, n, 4, num, den, 0);
    ck_assert_int_eq(mux_synth(*path, s, NVC_CONTAINER_MATROSKA, 0), 0);
}

START_TEST(test_matroska_ffprobe)
{
    if (!have_program("ffprobe"))
        return;
    char *dir = test_tmpdir(), *path;
    Synth s;
    make_mkv(dir, &s, &path, 25, 30000, 1001);
    char cmd[4400], out[8192];
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -count_packets -show_entries "
             "stream=codec_tag_string,codec_type,width,height,r_frame_rate,avg_frame_rate,"
             "nb_read_packets,extradata_size:stream_tags=encoder,title -of default=nw=1 '%s'", path);
    ck_assert_int_eq(run_capture(cmd, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "codec_tag_string=NVC1\n"), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "codec_type=video\n"));
    ck_assert_ptr_nonnull(strstr(out, "width=416\nheight=240\n"));
    ck_assert_ptr_nonnull(strstr(out, "r_frame_rate=30000/1001\n"));
    ck_assert_ptr_nonnull(strstr(out, "avg_frame_rate=30000/1001\n"));
    ck_assert_ptr_nonnull(strstr(out, "nb_read_packets=25\n"));
    char want[64];
    snprintf(want, sizeof(want), "TAG:ENCODER=nvc %s\n", nvc_version());
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "TAG:title=synthetic\n"));
    /* packet timestamps and key flags as ffprobe sees them */
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries packet=pts_time,flags,size "
             "-of csv=p=0 '%s'", path);
    ck_assert_int_eq(run_capture(cmd, out, sizeof(out)), 0);
    char *line = out;
    for (int i = 0; i < s.n; i++) {
        double t;
        unsigned sz;
        char flags[8];
        ck_assert_int_eq(sscanf(line, "%lf,%u,%7s", &t, &sz, flags), 3);
        ck_assert_double_eq_tol(t, i * 1001.0 / 30000, 0.0006);
        ck_assert_uint_eq(sz, s.pkts[i].sz);
        ck_assert_int_eq(flags[0] == 'K', !!(s.pkts[i].flags & NVC_DATA_KEY));
        line = strchr(line, '\n') + 1;
    }
    free(path);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_matroska_ffmpeg_copy)
{
    if (!have_program("ffmpeg"))
        return;
    char *dir = test_tmpdir(), *path;
    Synth s;
    make_mkv(dir, &s, &path, 30, 12, 1);
    char *copy = path_in(dir, "b.nvc");
    char cmd[8400], out[4096];
    snprintf(cmd, sizeof(cmd), "ffmpeg -nostdin -v error -i '%s' -c copy -f matroska '%s' 2>&1",
             path, copy);
    ck_assert_msg(run_capture(cmd, out, sizeof(out)) == 0, "%s", out);
    check_file(copy, &s, NVC_CONTAINER_MATROSKA);
    check_seeking(copy, &s);
    free(copy);
    free(path);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_matroska_mkvinfo)
{
    if (!have_program("mkvinfo"))
        return;
    char *dir = test_tmpdir(), *path;
    Synth s;
    make_mkv(dir, &s, &path, 5, 25, 1);
    char cmd[4400];
    static char out[1 << 16];
    snprintf(cmd, sizeof(cmd), "mkvinfo '%s' 2>&1", path);
    ck_assert_msg(run_capture(cmd, out, sizeof(out)) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "Codec ID: V_MS/VFW/FOURCC"));
    ck_assert_ptr_nonnull(strstr(out, "\"NVC1\""));
    ck_assert_ptr_nonnull(strstr(out, "Pixel width: 416"));
    /* CodecPrivate = BITMAPINFOHEADER (40) + the record, even */
    char want[64];
    snprintf(want, sizeof(want), "Codec's private data: size %zu",
             40 + nvc_stream_config_record_size(s.cfg.payload.sz));
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_ptr_null(strstr(out, "rror"));
    free(path);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_matroska_hostile)
{
    char *dir = test_tmpdir(), *path;
    Synth s;
    synth_make(&s, 6, 11, 25, 1, 0);
    for (int i = 0; i < s.n; i++) {
        nvc_data_unref(&s.pkts[i]);
        uint8_t *p = nvc_data_create(&s.pkts[i], (size_t)(5 + 3 * i));
        memset(p, 0x10 + i, (size_t)(5 + 3 * i));
        s.pkts[i].pts = i;
        s.pkts[i].flags = i % 3 == 0 ? NVC_DATA_KEY : 0;
    }
    path = path_in(dir, "h.nvc");
    ck_assert_int_eq(mux_synth(path, &s, NVC_CONTAINER_MATROSKA, 1), 0);
    size_t sz;
    uint8_t *file = slurp(path, &sz);
    uint8_t *buf = malloc(sz);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    int full_reads = 0;
    rng_state = 12345;
    /* truncations at every length, then random multi-bit damage: errors or
     * correct packets, never a crash or a wrong packet passed as good
     * (where Matroska has no checksum over the payload, bytes of a damaged
     * block can differ: only sizes, order and the count are checked then) */
    for (size_t c = 0; c < sz + 3000; c++) {
        size_t len = c < sz ? c : sz;
        memcpy(buf, file, sz);
        int damaged = c >= sz;
        if (damaged)
            for (int k = 0; k < 1 + (int)(rnd() % 4); k++)
                buf[rnd() % sz] ^= (uint8_t)(1 << rnd() % 8);
        FILE *f = len ? fmemopen(buf, len, "rb") : fopen("/dev/null", "rb");
        NvcDemuxer *d;
        int ret = nvc_demux_open_file(&d, f, 1, &ds), n = 0;
        NvcData pkt;
        while (ret == 0 && (ret = nvc_demux_read_packet(d, &pkt)) == 1) {
            if (!damaged)
                assert_packet_eq(&pkt, &s.pkts[n]);
            n++;
            nvc_data_unref(&pkt);
            ret = 0;
        }
        if (ret == 0) { /* success means every announced frame was there */
            ck_assert_int_eq(n, s.n);
            full_reads += !damaged;
        }
        int tries = 0; /* reading on after an error reaches the end */
        while (d && tries < 1000 && nvc_demux_read_packet(d, &pkt) != 0) {
            nvc_data_unref(&pkt);
            tries++;
        }
        ck_assert_int_lt(tries, 1000);
        if (d) {
            nvc_demux_seek(d, 4); /* seeking in damaged files must be safe too */
            if (nvc_demux_read_packet(d, &pkt) == 1)
                nvc_data_unref(&pkt);
        }
        nvc_demux_close(&d);
    }
    ck_assert_int_ge(full_reads, 1); /* at least the intact file */
    free(buf);
    free(file);
    free(path);
    synth_free(&s);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_matroska_foreign)
{
    if (!have_program("ffmpeg"))
        return;
    char *dir = test_tmpdir();
    char *path = path_in(dir, "ffv1.mkv");
    char cmd[4400], out[4096];
    snprintf(cmd, sizeof(cmd), "ffmpeg -nostdin -v error -f lavfi -i testsrc=size=64x64:rate=5 "
             "-frames:v 2 -c:v ffv1 '%s' 2>&1", path);
    ck_assert_msg(run_capture(cmd, out, sizeof(out)) == 0, "%s", out);
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = test_logger;
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open(&d, path, &ds), NVC_ERR(ENOTSUP));
    ck_assert_ptr_nonnull(strstr(last_error, "NVC1"));
    free(path);
    test_rmdir(dir);
}
END_TEST

/* What FFmpeg says through av_log while nvc muxes, demuxes and seeks:
 * exactly the two messages FFmpeg 5.1 emits for a track without an
 * AVCodecID, nothing else; and routed, they arrive at debug level. */
static char av_lines[8][256];
static int n_av_lines;
static void av_capture(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_INFO)
        return;
    if (n_av_lines < 8)
        vsnprintf(av_lines[n_av_lines], sizeof(av_lines[0]), fmt, vl);
    n_av_lines++;
}

static int routed_info, routed_debug;
static void routed_capture(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    routed_info += level <= NVC_LOG_INFO;
    routed_debug += level == NVC_LOG_DEBUG;
}

static void mux_demux_seek(const char *dir)
{
    char *path = path_in(dir, "log.nvc");
    Synth s;
    synth_make(&s, 10, 3, 25, 1, 0);
    ck_assert_int_eq(mux_synth(path, &s, NVC_CONTAINER_MATROSKA, 0), 0);
    check_file(path, &s, NVC_CONTAINER_MATROSKA);
    check_seeking(path, &s);
    synth_free(&s);
    free(path);
}

START_TEST(test_matroska_av_log)
{
    char *dir = test_tmpdir();
    av_log_set_callback(av_capture);
    n_av_lines = 0;
    mux_demux_seek(dir);
    for (int i = 0; i < n_av_lines && i < 8; i++)
        fprintf(stderr, "av_log: %s", av_lines[i]);
    ck_assert_int_ge(n_av_lines, 1);
    int expected = 0;
    for (int i = 0; i < n_av_lines; i++)
        expected += strstr(av_lines[i], "codec none is not supported by this format") ||
                    strstr(av_lines[i], "Unknown/unsupported AVCodecID V_MS/VFW/FOURCC");
    ck_assert_int_eq(expected, n_av_lines);
    /* the library never installs a callback on its own: ours is still there */
    n_av_lines = 0;
    av_log(NULL, AV_LOG_ERROR, "probe\n");
    ck_assert_int_eq(n_av_lines, 1);

    NvcLogger lg = { NULL, routed_capture };
    ck_assert_int_eq(nvc_ffmpeg_route_log(&lg), 0);
    routed_info = routed_debug = 0;
    mux_demux_seek(dir);
    ck_assert_int_eq(routed_info, 0);
    ck_assert_int_ge(routed_debug, 1);
    av_log(NULL, AV_LOG_ERROR, "a real error\n");
    ck_assert_int_eq(routed_info, 1);
    ck_assert_int_eq(nvc_ffmpeg_route_log(NULL), 0);
    test_rmdir(dir);
}
END_TEST

#else

START_TEST(test_no_ffmpeg)
{
    /* a Matroska file is recognised and refused with a clear message */
    static const uint8_t ebml[16] = { 0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 1 };
    NvcDemuxSettings ds;
    nvc_demux_default_settings(&ds);
    ds.logger = test_logger;
    NvcDemuxer *d;
    ck_assert_int_eq(nvc_demux_open_file(&d, fmemopen((void *)ebml, sizeof(ebml), "rb"), 1, &ds),
                     NVC_ERR(ENOSYS));
    ck_assert_ptr_nonnull(strstr(last_error, "FFmpeg"));
    ck_assert_int_eq(nvc_ffmpeg_route_log(&test_logger), NVC_ERR(ENOSYS));
}
END_TEST

#endif

#if NVC_HAVE_FFMPEG
static void drop_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
}
#endif

int main(void)
{
#if NVC_HAVE_FFMPEG
    /* damaged files make FFmpeg talk a lot: keep the test log readable */
    NvcLogger quiet = { NULL, drop_log };
    nvc_ffmpeg_route_log(&quiet);
#endif
    Suite *s = suite_create("container");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_record_roundtrip);
    tcase_add_test(tc, test_record_layout);
    tcase_add_test(tc, test_record_hostile);
    tcase_add_test(tc, test_record_invalid_config);
    suite_add_tcase(s, tc);

    tc = tcase_create("elementary");
    tcase_add_test(tc, test_roundtrip_elementary);
    tcase_add_test(tc, test_elementary_stdio);
    tcase_add_test(tc, test_elementary_hostile);
    tcase_add_test(tc, test_elementary_absurd_sizes);
    tcase_add_test(tc, test_elementary_deterministic);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_mux_errors);
    tcase_add_test(tc, test_read_error_ends_stream);
    suite_add_tcase(s, tc);

    tc = tcase_create("matroska");
#if NVC_HAVE_FFMPEG
    tcase_add_test(tc, test_roundtrip_matroska);
    tcase_add_test(tc, test_matroska_deterministic);
    tcase_add_test(tc, test_matroska_streamed);
    tcase_add_test(tc, test_matroska_stdout);
    tcase_add_test(tc, test_matroska_offset);
    tcase_add_test(tc, test_matroska_ffprobe);
    tcase_add_test(tc, test_matroska_ffmpeg_copy);
    tcase_add_test(tc, test_matroska_mkvinfo);
    tcase_add_test(tc, test_matroska_hostile);
    tcase_add_test(tc, test_matroska_foreign);
    tcase_add_test(tc, test_matroska_av_log);
#else
    tcase_add_test(tc, test_no_ffmpeg);
#endif
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
