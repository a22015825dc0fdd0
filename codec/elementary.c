/*
 * nvc's elementary stream (doc/FORMAT.md, "Elementary stream"): signature,
 * configuration record, packets with a CRC each, end marker.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bytes.h"
#include "codec/container.h"
#include "codec/crc.h"
#include "codec/internal.h"

#define PACKET_HEADER_SIZE 16   /* size 4, flags 4, pts 8 */
#define END_MARKER_SIZE 0xFFFFFFFFu

typedef struct EsDemux {
    NvcPacketIndexEntry *index;  /* packets met so far, in file order */
    size_t n, cap;
    int64_t data_start;          /* offset of the first packet */
    int64_t scan_end;            /* offset after the last indexed packet */
    int scan_done;               /* the end marker (or damage) was met while indexing */
} EsDemux;

typedef struct PacketHeader {
    uint32_t size;
    uint32_t flags;
    int64_t pts;
} PacketHeader;

static void put_header(uint8_t out[PACKET_HEADER_SIZE], const PacketHeader *h)
{
    NvcByteWriter bw = { .buf = out, .cap = PACKET_HEADER_SIZE };
    nvc_bw_u32(&bw, h->size);
    nvc_bw_u32(&bw, h->flags);
    nvc_bw_u64(&bw, (uint64_t)h->pts);
}

static void get_header(const uint8_t in[PACKET_HEADER_SIZE], PacketHeader *h)
{
    NvcByteReader br;
    nvc_br_init(&br, in, PACKET_HEADER_SIZE);
    h->size = nvc_br_u32(&br);
    h->flags = nvc_br_u32(&br);
    h->pts = (int64_t)nvc_br_u64(&br);
}

/* ---- writing ---- */

int nvc_es_mux_open(NvcMuxer *m)
{
    nvc_mux_write_bytes(m, NVC_ES_SIGNATURE, NVC_ES_SIGNATURE_SIZE);
    return nvc_mux_write_bytes(m, m->record.data, m->record.sz);
}

static int write_packet(NvcMuxer *m, const PacketHeader *h, const uint8_t *payload, size_t sz)
{
    uint8_t hdr[PACKET_HEADER_SIZE], crc_bytes[4];
    put_header(hdr, h);
    uint32_t crc = nvc_crc32(nvc_crc32(0, hdr, sizeof(hdr)), payload, sz);
    NvcByteWriter bw = { .buf = crc_bytes, .cap = 4 };
    nvc_bw_u32(&bw, crc);
    nvc_mux_write_bytes(m, hdr, sizeof(hdr));
    nvc_mux_write_bytes(m, payload, sz);
    return nvc_mux_write_bytes(m, crc_bytes, 4);
}

int nvc_es_mux_write(NvcMuxer *m, const NvcData *pkt)
{
    PacketHeader h = { .size = (uint32_t)pkt->sz, .flags = pkt->flags & NVC_DATA_KEY, .pts = pkt->pts };
    return write_packet(m, &h, pkt->data, pkt->sz);
}

int nvc_es_mux_finish(NvcMuxer *m)
{
    PacketHeader h = { .size = END_MARKER_SIZE, .flags = 0, .pts = m->count };
    return write_packet(m, &h, NULL, 0);
}

/* ---- reading ---- */

int nvc_es_demux_open(NvcDemuxer *d)
{
    const NvcLogger *lg = &d->s.logger;
    EsDemux *es = calloc(1, sizeof(*es));
    if (!es)
        return NVC_ERR(ENOMEM);
    d->priv = es;
    uint8_t sig[NVC_ES_SIGNATURE_SIZE], head[8];
    nvc_reader_read(&d->in, sig, sizeof(sig)); /* checked by the probe */
    size_t got = nvc_reader_read(&d->in, head, sizeof(head));
    if (d->in.error)
        return nvc_log_error(lg, NVC_ERR(EIO), "read error in the stream header");
    int64_t total = nvc_stream_config_peek_size(head, got, lg);
    if (total < 0)
        return (int)total;
    NvcData rest;
    int ret = nvc_reader_read_data(&d->in, (size_t)total - sizeof(head), &rest);
    if (ret == NVC_ERR_CORRUPT)
        return nvc_log_error(lg, ret, "truncated configuration record");
    if (ret < 0)
        return ret;
    uint8_t *rec = malloc((size_t)total);
    if (!rec) {
        nvc_data_unref(&rest);
        return NVC_ERR(ENOMEM);
    }
    memcpy(rec, head, sizeof(head));
    memcpy(rec + sizeof(head), rest.data, rest.sz);
    nvc_data_unref(&rest);
    ret = nvc_stream_config_parse(&d->cfg, rec, (size_t)total, d->s.max_pixels, lg);
    free(rec);
    es->data_start = es->scan_end = d->in.pos;
    return ret;
}

static int index_append(EsDemux *es, int64_t offset, const PacketHeader *h)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 256;
        NvcPacketIndexEntry *idx = realloc(es->index, cap * sizeof(*idx));
        if (!idx)
            return NVC_ERR(ENOMEM);
        es->index = idx;
        es->cap = cap;
    }
    es->index[es->n++] = (NvcPacketIndexEntry){ h->pts, offset, (int)(h->flags & NVC_DATA_KEY) };
    es->scan_end = offset + PACKET_HEADER_SIZE + h->size + 4;
    return 0;
}

static int read_end_marker(NvcDemuxer *d, const uint8_t *hdr, const PacketHeader *h)
{
    const NvcLogger *lg = &d->s.logger;
    uint8_t tail[5];
    size_t got = nvc_reader_read(&d->in, tail, sizeof(tail));
    NvcByteReader br;
    nvc_br_init(&br, tail, got);
    if (got < 4 || nvc_br_u32(&br) != nvc_crc32(0, hdr, PACKET_HEADER_SIZE) || h->flags)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "damaged end marker");
    if (got > 4)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "data after the end marker");
    if (d->packets_read >= 0 && h->pts != d->packets_read)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "end marker counts %" PRId64 " packets, %"
                             PRId64 " were read", h->pts, d->packets_read);
    ((EsDemux *)d->priv)->scan_done = 1;
    return 0;
}

int nvc_es_demux_read(NvcDemuxer *d, NvcData *pkt)
{
    const NvcLogger *lg = &d->s.logger;
    EsDemux *es = d->priv;
    int64_t offset = d->in.pos;
    uint8_t hdr[PACKET_HEADER_SIZE], crc_bytes[4];
    size_t got = nvc_reader_read(&d->in, hdr, sizeof(hdr));
    if (d->in.error)
        return nvc_log_error(lg, NVC_ERR(EIO), "read error at byte %" PRId64, offset);
    if (got < sizeof(hdr))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, got ? "truncated packet header at byte %" PRId64
                             : "truncated: the stream ends without its end marker (byte %" PRId64 ")",
                             offset);
    PacketHeader h;
    get_header(hdr, &h);
    if (h.size == END_MARKER_SIZE)
        return read_end_marker(d, hdr, &h);
    if (!h.size || h.size > NVC_MAX_PACKET_SIZE || (h.flags & ~(uint32_t)NVC_DATA_KEY))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "invalid packet header at byte %" PRId64, offset);
    int ret = nvc_reader_read_data(&d->in, h.size, pkt);
    if (ret == NVC_ERR_CORRUPT)
        return nvc_log_error(lg, ret, "truncated packet at byte %" PRId64, offset);
    if (ret < 0)
        return ret;
    got = nvc_reader_read(&d->in, crc_bytes, 4);
    NvcByteReader br;
    nvc_br_init(&br, crc_bytes, got);
    uint32_t crc = nvc_br_u32(&br);
    if (got < 4 || crc != nvc_crc32(nvc_crc32(0, hdr, sizeof(hdr)), pkt->data, pkt->sz)) {
        nvc_data_unref(pkt);
        return nvc_log_error(lg, NVC_ERR_CORRUPT, got < 4 ? "truncated packet at byte %" PRId64
                             : "packet at byte %" PRId64 ": CRC mismatch", offset);
    }
    pkt->pts = h.pts;
    pkt->flags = h.flags;
    if (offset == es->scan_end && !es->scan_done && (ret = index_append(es, offset, &h)) < 0) {
        nvc_data_unref(pkt);
        return ret;
    }
    return 1;
}

/* Index packets (headers only) until one lies beyond `frame` or the end. */
static int scan_to(NvcDemuxer *d, int64_t frame)
{
    EsDemux *es = d->priv;
    while (!es->scan_done && (!es->n || es->index[es->n - 1].pts <= frame)) {
        uint8_t hdr[PACKET_HEADER_SIZE];
        PacketHeader h;
        int ret = nvc_reader_seek(&d->in, es->scan_end);
        if (ret < 0)
            return ret;
        if (nvc_reader_read(&d->in, hdr, sizeof(hdr)) < sizeof(hdr)) {
            es->scan_done = 1; /* damage is reported when the packets are read */
            break;
        }
        get_header(hdr, &h);
        if (!h.size || h.size > NVC_MAX_PACKET_SIZE || (es->n && h.pts <= es->index[es->n - 1].pts)) {
            es->scan_done = 1;
            break;
        }
        if ((ret = index_append(es, es->scan_end, &h)) < 0)
            return ret;
    }
    return 0;
}

int nvc_es_demux_seek(NvcDemuxer *d, int64_t frame)
{
    EsDemux *es = d->priv;
    int ret = scan_to(d, frame);
    if (ret < 0)
        return ret;
    int64_t offset = es->data_start;
    for (size_t i = es->n; i-- > 0;) {
        if (es->index[i].key && es->index[i].pts <= frame) {
            offset = es->index[i].offset;
            break;
        }
    }
    return nvc_reader_seek(&d->in, offset);
}

void nvc_es_demux_close(NvcDemuxer *d)
{
    EsDemux *es = d->priv;
    if (es)
        free(es->index);
    free(es);
    d->priv = NULL;
}
