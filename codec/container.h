/*
 * Container internals shared by the muxer/demuxer fronts (mux.c, demux.c),
 * the elementary stream (elementary.c) and Matroska (matroska.c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_CONTAINER_H
#define NVC_CODEC_CONTAINER_H

#include <stdint.h>
#include <stdio.h>

#include "codec/file.h"
#include "nvc/container.h"

#define NVC_RECORD_MAGIC "nvcC"
/* Elementary stream signature: a non-ASCII first byte, then "NVC", then
 * CR LF, ^Z, LF to catch text-mode transfers (as PNG does). */
#define NVC_ES_SIGNATURE "\x8BNVC\r\n\x1A\n"
#define NVC_ES_SIGNATURE_SIZE 8
#define NVC_EBML_MAGIC "\x1A\x45\xDF\xA3"
#define NVC_PROBE_SIZE 8

/* ---- configuration record (streamconfig.c) ---- */

/* Validate cfg for writing: 0 or NVC_ERR(EINVAL) with the reason logged. */
int nvc_stream_config_check(const NvcStreamConfig *cfg, const NvcLogger *logger);

/* Bytes of a record holding payload_sz bytes of payload (always even). */
size_t nvc_stream_config_record_size(size_t payload_sz);

/* From at least the first 8 bytes of a record: its total size, or
 * NVC_ERR_CORRUPT (bad magic, impossible size). */
int64_t nvc_stream_config_peek_size(const uint8_t *buf, size_t sz, const NvcLogger *logger);

/* ---- byte input with replay of the probed signature ---- */

typedef struct NvcFileReader {
    FILE *f;
    int own;                           /* fclose at the end (not stdin) */
    int seekable;
    uint8_t probe[NVC_PROBE_SIZE];     /* first bytes, handed out again after probing */
    size_t probe_len, probe_pos;
    int64_t base;                      /* file offset where the stream starts */
    int64_t pos;                       /* logical position in the stream */
    int error;                         /* errno of the last failed read, 0 at a clean EOF */
    int eof;                           /* a read met the end of the file */
} NvcFileReader;

/* Read up to n bytes; fewer only at the end of the file or on an error
 * (then r->error is set, and later reads return 0 at once until a seek). */
size_t nvc_reader_read(NvcFileReader *r, void *buf, size_t n);

/* Seek to an absolute position (seekable inputs only): 0 or NVC_ERR(errno). */
int nvc_reader_seek(NvcFileReader *r, int64_t pos);

/* File size, or a negative error when unknown. */
int64_t nvc_reader_size(NvcFileReader *r);

/* Read exactly n bytes (n <= NVC_MAX_PACKET_SIZE) into a new packet,
 * growing the buffer as data arrives so that a hostile size cannot make us
 * allocate much more than the file holds. Returns 0, NVC_ERR_CORRUPT on a
 * short read at the end of the file, NVC_ERR(EIO), NVC_ERR(ENOMEM). */
int nvc_reader_read_data(NvcFileReader *r, size_t n, NvcData *out);

/* ---- demuxer ---- */

typedef struct NvcPacketIndexEntry {
    int64_t pts;
    int64_t offset;   /* file offset of the packet header (elementary stream) */
    int key;
} NvcPacketIndexEntry;

struct NvcDemuxer {
    NvcDemuxSettings s;
    enum NvcContainerFormat format;
    NvcStreamConfig cfg;
    NvcFileReader in;
    int64_t packets_read;   /* since open; -1 once a seek made counting meaningless */
    int64_t last_pts;       /* of the previous packet, -1 after open or seek */
    int eof;
    void *priv;             /* the format's state */
};

int nvc_es_demux_open(NvcDemuxer *d);
int nvc_es_demux_read(NvcDemuxer *d, NvcData *pkt);  /* 1, 0 at the end, < 0 */
int nvc_es_demux_seek(NvcDemuxer *d, int64_t frame);
void nvc_es_demux_close(NvcDemuxer *d);

int nvc_mkv_demux_open(NvcDemuxer *d);
int nvc_mkv_demux_read(NvcDemuxer *d, NvcData *pkt);
int nvc_mkv_demux_seek(NvcDemuxer *d, int64_t frame);
void nvc_mkv_demux_close(NvcDemuxer *d);

/* Open a demuxer on an already opened FILE (tests, fuzzing: fmemopen);
 * own != 0 hands f over (closed by nvc_demux_close, or here on failure). */
int nvc_demux_open_file(NvcDemuxer **d, FILE *f, int own, const NvcDemuxSettings *s);

/* ---- muxer ---- */

struct NvcMuxer {
    NvcMuxSettings s;
    char *title;            /* copy of s.title */
    NvcStreamConfig cfg;    /* copy without the payload */
    NvcData record;         /* the serialised configuration record */
    FILE *f;                /* af.f for a named file, else the caller's */
    NvcAtomicFile af;       /* temporary twin of a named output, renamed on commit */
    int seekable;           /* a plain file, not opened for appending */
    int64_t base;           /* file offset where our output starts */
    int error;              /* sticky: first error, reported by close */
    int64_t count;          /* packets written */
    int64_t last_pts;
    void *priv;
};

/* fwrite everything or record NVC_ERR(errno) in m->error; returns m->error. */
int nvc_mux_write_bytes(NvcMuxer *m, const void *buf, size_t n);

/* Open a muxer writing to an already opened FILE (tests: pipes, /dev/full);
 * seekability is detected. f is never closed by the muxer. */
int nvc_mux_open_file(NvcMuxer **m, FILE *f, const NvcStreamConfig *cfg, const NvcMuxSettings *s);

int nvc_es_mux_open(NvcMuxer *m);
int nvc_es_mux_write(NvcMuxer *m, const NvcData *pkt);
int nvc_es_mux_finish(NvcMuxer *m);   /* end marker */

int nvc_mkv_mux_open(NvcMuxer *m);
int nvc_mkv_mux_write(NvcMuxer *m, const NvcData *pkt);
int nvc_mkv_mux_finish(NvcMuxer *m);  /* trailer (commit) */
void nvc_mkv_mux_free(NvcMuxer *m);

#endif /* NVC_CODEC_CONTAINER_H */
