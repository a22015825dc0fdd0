/*
 * mkstream: write a synthetic nvc stream (valid at the container level; the
 * packet bytes are not decodable by any codec) and optionally damage it.
 * Makes the seed corpora of the fuzz targets and the streams of
 * conformance/invalid/ (see conformance/invalid/make.sh).
 *
 *   mkstream [options] OUTPUT
 *
 * Record fields are patched after writing (--set), with the record CRC
 * recomputed, so that a field rule is tested rather than the CRC;
 * --xor-record, --xor, --truncate and --append damage the final bytes.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "codec/container.h"
#include "codec/crc.h"
#include "codec/internal.h"
#include "nvc/nvc.h"

#define MAX_EDITS 32

typedef struct Edit {
    long long off;
    int size;          /* --set: 1, 2, 4 or 8 bytes; --xor: 1 */
    uint64_t value;
} Edit;

typedef struct Options {
    const char *out;
    enum NvcContainerFormat format;
    NvcStreamConfig cfg;
    int packets;
    size_t payload, packet_size;
    int64_t *pts;
    unsigned *keys;
    Edit set[MAX_EDITS], xor[MAX_EDITS], rxor[MAX_EDITS];
    int nset, nxor, nrxor;
    long long truncate, append;
} Options;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mkstream: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fputs("Usage: mkstream [options] OUTPUT\n"
          "  -f, --format es|mkv     container (default: es for *.nvces, else mkv)\n"
          "  -c, --codec ID          codec id (default 1)\n"
          "  -s, --size WxH          picture size (default 64x48)\n"
          "  -l, --layout N          0 = 4:0:0, 1 = 4:2:0 (default), 2 = 4:4:4\n"
          "  -b, --bpc N             bits per sample (default 8)\n"
          "  -r, --rate N/D          frame rate (default 25/1)\n"
          "  -n, --packets N         packets (default 3)\n"
          "  -p, --payload N         global payload bytes (default 16)\n"
          "      --packet-size N     bytes per packet (default 24)\n"
          "      --frame-count N     the record's frame count (default: the packets)\n"
          "      --pts A,B,...       pts of each packet (default 0, 1, 2 ...; any order)\n"
          "      --keys A,B,...      key flag of each packet (default: only the first)\n"
          "      --set OFF:SIZE:V    write V as a SIZE-byte big-endian field at offset OFF of\n"
          "                          the configuration record, then fix the record CRC\n"
          "      --xor-record OFF:MASK  xor the byte at offset OFF of the record with MASK\n"
          "                          (negative OFF: from its end; after --set: the CRC then\n"
          "                          mismatches)\n"
          "      --xor OFF:MASK      xor the byte at file offset OFF with MASK (negative OFF:\n"
          "                          from the end)\n"
          "      --truncate N        keep only the first N bytes\n"
          "      --append N          append N bytes (0x5A)\n", stderr);
    exit(1);
}

static long long parse_ll(const char *s, const char *what)
{
    char *end;
    long long v = strtoll(s, &end, 0);
    if (end == s || *end)
        die("%s: '%s' is not a number", what, s);
    return v;
}

/* "A,B,C" into n values (exactly n wanted). */
static void parse_list(const char *s, int n, int64_t *out)
{
    char *copy = strdup(s), *save = NULL;
    int i = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), i++) {
        if (i >= n)
            die("list '%s' has more than %d values", s, n);
        out[i] = parse_ll(t, "list");
    }
    if (i != n)
        die("list '%s' needs %d values", s, n);
    free(copy);
}

static void parse_edit(const char *s, Edit *e, int with_size)
{
    char *copy = strdup(s), *save = NULL;
    char *a = strtok_r(copy, ":", &save), *b = strtok_r(NULL, ":", &save);
    char *c = with_size ? strtok_r(NULL, ":", &save) : b;
    if (!a || !b || !c)
        die("bad edit '%s'", s);
    e->off = parse_ll(a, "offset");
    e->size = with_size ? (int)parse_ll(b, "size") : 1;
    char *end;
    e->value = strtoull(c, &end, 0); /* unsigned: 0x8000000000000000 and above */
    if (end == c || *end)
        die("%s: '%s' is not a number", "value", c);
    if (e->size != 1 && e->size != 2 && e->size != 4 && e->size != 8)
        die("field size must be 1, 2, 4 or 8");
    free(copy);
}

static void parse_options(int argc, char **argv, Options *o)
{
    enum { O_PSIZE = 256, O_COUNT, O_PTS, O_KEYS, O_SET, O_XOR, O_RXOR, O_TRUNC, O_APPEND };
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' }, { "codec", required_argument, NULL, 'c' },
        { "size", required_argument, NULL, 's' }, { "layout", required_argument, NULL, 'l' },
        { "bpc", required_argument, NULL, 'b' }, { "rate", required_argument, NULL, 'r' },
        { "packets", required_argument, NULL, 'n' }, { "payload", required_argument, NULL, 'p' },
        { "packet-size", required_argument, NULL, O_PSIZE },
        { "frame-count", required_argument, NULL, O_COUNT }, { "pts", required_argument, NULL, O_PTS },
        { "keys", required_argument, NULL, O_KEYS }, { "set", required_argument, NULL, O_SET },
        { "xor", required_argument, NULL, O_XOR }, { "xor-record", required_argument, NULL, O_RXOR },
        { "truncate", required_argument, NULL, O_TRUNC }, { "append", required_argument, NULL, O_APPEND },
        { NULL, 0, NULL, 0 },
    };
    const char *pts = NULL, *keys = NULL;
    int format_set = 0, count_set = 0, c;
    nvc_stream_config_default(&o->cfg);
    o->cfg.p.w = 64;
    o->cfg.p.h = 48;
    o->packets = 3;
    o->payload = 16;
    o->packet_size = 24;
    o->truncate = -1;
    while ((c = getopt_long(argc, argv, "f:c:s:l:b:r:n:p:", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format_set = 1;
            if (!strcmp(optarg, "es"))
                o->format = NVC_CONTAINER_ELEMENTARY;
            else if (!strcmp(optarg, "mkv"))
                o->format = NVC_CONTAINER_MATROSKA;
            else
                die("--format: es or mkv");
            break;
        case 'c': o->cfg.codec = (enum NvcCodecId)parse_ll(optarg, "--codec"); break;
        case 's':
            if (sscanf(optarg, "%dx%d", &o->cfg.p.w, &o->cfg.p.h) != 2)
                die("--size: WxH");
            break;
        case 'l': o->cfg.p.layout = (enum NvcPixelLayout)parse_ll(optarg, "--layout"); break;
        case 'b': o->cfg.p.bpc = (int)parse_ll(optarg, "--bpc"); break;
        case 'r':
            if (sscanf(optarg, "%d/%d", &o->cfg.fps_num, &o->cfg.fps_den) != 2)
                die("--rate: N/D");
            break;
        case 'n': o->packets = (int)parse_ll(optarg, "--packets"); break;
        case 'p': o->payload = (size_t)parse_ll(optarg, "--payload"); break;
        case O_PSIZE: o->packet_size = (size_t)parse_ll(optarg, "--packet-size"); break;
        case O_COUNT:
            count_set = 1;
            o->cfg.frame_count = parse_ll(optarg, "--frame-count");
            break;
        case O_PTS: pts = optarg; break;
        case O_KEYS: keys = optarg; break;
        case O_SET:
            if (o->nset == MAX_EDITS)
                die("too many --set");
            parse_edit(optarg, &o->set[o->nset++], 1);
            break;
        case O_XOR:
            if (o->nxor == MAX_EDITS)
                die("too many --xor");
            parse_edit(optarg, &o->xor[o->nxor++], 0);
            break;
        case O_RXOR:
            if (o->nrxor == MAX_EDITS)
                die("too many --xor-record");
            parse_edit(optarg, &o->rxor[o->nrxor++], 0);
            break;
        case O_TRUNC: o->truncate = parse_ll(optarg, "--truncate"); break;
        case O_APPEND: o->append = parse_ll(optarg, "--append"); break;
        default: usage();
        }
    }
    if (argc - optind != 1 || o->packets < 1 || o->packets > 100000 || !o->packet_size)
        usage();
    o->out = argv[optind];
    size_t n = strlen(o->out);
    if (!format_set)
        o->format = n > 6 && !strcmp(o->out + n - 6, ".nvces") ? NVC_CONTAINER_ELEMENTARY
                                                                : NVC_CONTAINER_MATROSKA;
    if (!count_set)
        o->cfg.frame_count = o->packets;
    o->pts = calloc((size_t)o->packets, sizeof(*o->pts));
    int64_t *k = calloc((size_t)o->packets, sizeof(*k));
    o->keys = calloc((size_t)o->packets, sizeof(*o->keys));
    if (!o->pts || !k || !o->keys)
        die("out of memory");
    for (int i = 0; i < o->packets; i++) {
        o->pts[i] = i;
        k[i] = i == 0;
    }
    if (pts)
        parse_list(pts, o->packets, o->pts);
    if (keys)
        parse_list(keys, o->packets, k);
    for (int i = 0; i < o->packets; i++)
        o->keys[i] = k[i] ? NVC_DATA_KEY : 0;
    free(k);
}

/* Packets go straight to the container writers, so that out-of-order pts
 * reach the file (the muxer front refuses them). */
static void write_stream(const Options *o)
{
    NvcStreamConfig cfg = o->cfg;
    uint8_t *pl = nvc_data_create(&cfg.payload, o->payload);
    if (!pl && o->payload)
        die("out of memory");
    for (size_t i = 0; i < o->payload; i++)
        pl[i] = (uint8_t)(i * 7 + 1);
    NvcMuxSettings ms;
    nvc_mux_default_settings(&ms);
    ms.format = o->format;
    ms.bitexact = 1;
    NvcMuxer *m;
    int ret = nvc_mux_open(&m, o->out, &cfg, &ms);
    if (ret < 0)
        die("%s: cannot open: %s", o->out, nvc_error_string(ret));
    for (int i = 0; i < o->packets && ret >= 0; i++) {
        NvcData pkt;
        uint8_t *p = nvc_data_create(&pkt, o->packet_size);
        if (!p)
            die("out of memory");
        for (size_t k = 0; k < o->packet_size; k++)
            p[k] = (uint8_t)(i * 31 + k * 3);
        pkt.pts = o->pts[i];
        pkt.flags = o->keys[i];
#if NVC_HAVE_FFMPEG
        ret = o->format == NVC_CONTAINER_ELEMENTARY ? nvc_es_mux_write(m, &pkt) : nvc_mkv_mux_write(m, &pkt);
#else
        ret = nvc_es_mux_write(m, &pkt);
#endif
        m->count++;
        nvc_data_unref(&pkt);
    }
    if (ret < 0 || (ret = nvc_mux_close(&m, 1)) < 0)
        die("%s: cannot write: %s", o->out, nvc_error_string(ret));
    nvc_data_unref(&cfg.payload);
}

static uint8_t *slurp(const char *path, size_t *sz)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END))
        die("%s: cannot read", path);
    long n = ftell(f);
    uint8_t *buf = malloc((size_t)n + 1);
    rewind(f);
    if (n < 0 || !buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("%s: cannot read", path);
    fclose(f);
    *sz = (size_t)n;
    return buf;
}

/* The record: after the signature of an elementary stream, inside the
 * CodecPrivate of a Matroska file (the first "nvcC" with a plausible size). */
static size_t find_record(const uint8_t *buf, size_t sz, size_t *rec_sz)
{
    for (size_t i = 0; i + 8 <= sz; i++) {
        if (memcmp(buf + i, NVC_RECORD_MAGIC, 4))
            continue;
        size_t n = (size_t)buf[i + 4] << 24 | buf[i + 5] << 16 | buf[i + 6] << 8 | buf[i + 7];
        if (n >= 60 && n <= sz - i) {
            *rec_sz = n;
            return i;
        }
    }
    die("no configuration record found");
}

static void damage(const Options *o)
{
    size_t sz;
    uint8_t *buf = slurp(o->out, &sz);
    if (o->nset || o->nrxor) {
        size_t rec_sz, r = find_record(buf, sz, &rec_sz);
        for (int i = 0; i < o->nset; i++) {
            const Edit *e = &o->set[i];
            if (e->off < 0 || (size_t)e->off + (size_t)e->size > rec_sz - 4)
                die("--set offset %lld outside the record", e->off);
            for (int b = 0; b < e->size; b++)
                buf[r + (size_t)e->off + b] = (uint8_t)(e->value >> (8 * (e->size - 1 - b)));
        }
        uint32_t crc = nvc_crc32(0, buf + r, rec_sz - 4);
        for (int b = 0; b < 4 && o->nset; b++)
            buf[r + rec_sz - 4 + b] = (uint8_t)(crc >> (24 - 8 * b));
        for (int i = 0; i < o->nrxor; i++) {
            long long off = o->rxor[i].off < 0 ? (long long)rec_sz + o->rxor[i].off : o->rxor[i].off;
            if (off < 0 || (size_t)off >= rec_sz)
                die("--xor-record offset %lld outside the record", o->rxor[i].off);
            buf[r + (size_t)off] ^= (uint8_t)o->rxor[i].value;
        }
    }
    for (int i = 0; i < o->nxor; i++) {
        long long off = o->xor[i].off < 0 ? (long long)sz + o->xor[i].off : o->xor[i].off;
        if (off < 0 || (size_t)off >= sz)
            die("--xor offset %lld outside the %zu-byte file", o->xor[i].off, sz);
        buf[off] ^= (uint8_t)o->xor[i].value;
    }
    if (o->truncate >= 0 && (size_t)o->truncate < sz)
        sz = (size_t)o->truncate;
    FILE *f = fopen(o->out, "wb");
    if (!f || fwrite(buf, 1, sz, f) != sz)
        die("%s: cannot write", o->out);
    for (long long i = 0; i < o->append; i++)
        fputc(0x5A, f);
    if (fclose(f))
        die("%s: cannot write", o->out);
    free(buf);
}

static void drop_log(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
}

int main(int argc, char **argv)
{
    Options o = { 0 };
    NvcLogger quiet = { NULL, drop_log };
    nvc_ffmpeg_route_log(&quiet); /* FFmpeg's usual NVC1 warning */
    parse_options(argc, argv, &o);
    write_stream(&o);
    if (o.nset || o.nxor || o.nrxor || o.truncate >= 0 || o.append > 0)
        damage(&o);
    free(o.pts);
    free(o.keys);
    return 0;
}
