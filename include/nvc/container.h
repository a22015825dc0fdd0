/*
 * nvc: the stream configuration record and the .nvc container (Matroska
 * through libavformat, or nvc's own elementary stream). doc/FORMAT.md is
 * the byte-level specification of everything written here.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CONTAINER_H
#define NVC_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"
#include "nvc/data.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the stream format (configuration record, elementary stream
 * layout and codec payloads) this library writes. Readers refuse newer
 * versions with NVC_ERR(ENOTSUP). */
#define NVC_STREAM_VERSION 1

/* Largest packet (or configuration record) the readers accept: 1 GiB. */
#define NVC_MAX_PACKET_SIZE (1u << 30)

enum NvcCodecId {
    NVC_CODEC_HNERV = 1,  /* HNeRV implicit neural representation (per-video model) */
    NVC_CODEC_NERVPP = 2, /* NeRV++ implicit neural representation */
    NVC_CODEC_IMAGE = 3,  /* learned intra (image) codec */
    NVC_CODEC_DCVC = 4,   /* conditional-coding video codec (DCVC family) */
};

/* Short lowercase name of a codec ("hnerv", ...); "unknown" otherwise. */
NVC_API const char *nvc_codec_name(enum NvcCodecId codec);

/* What a stream holds: the codec configuration record. Serialised into the
 * Matroska CodecPrivate (after the BITMAPINFOHEADER) or the elementary
 * stream header. */
typedef struct NvcStreamConfig {
    unsigned version;          /* stream format version; default NVC_STREAM_VERSION
                                  (writers always write NVC_STREAM_VERSION) */
    enum NvcCodecId codec;     /* default NVC_CODEC_HNERV */
    NvcPictureParameters p;    /* decoded picture format; default 0x0 (must be set), I420, 8 bit */
    NvcColorDescription color; /* default: nvc_color_description_default() */
    int fps_num, fps_den;      /* frame rate, both >= 1; default 25/1 */
    int sar_num, sar_den;      /* sample aspect ratio, both >= 1; default 1:1 */
    int64_t frame_count;       /* frames in the stream, 0 = unknown; default 0 */
    NvcData payload;           /* codec-global bytes (model header, weights ...);
                                  default empty. Only data and sz are used. */
} NvcStreamConfig;

/* Fill cfg with the defaults documented above (payload empty, no reference). */
NVC_API void nvc_stream_config_default(NvcStreamConfig *cfg);

/* Drop cfg's payload reference (if any) and zero the payload. */
NVC_API void nvc_stream_config_clear(NvcStreamConfig *cfg);

/* Serialise cfg into out (a new packet holding the record; its size is
 * even). Returns 0, NVC_ERR(EINVAL) for an invalid configuration (reason
 * logged), NVC_ERR(ENOMEM). logger may be NULL. */
NVC_API int nvc_stream_config_serialize(const NvcStreamConfig *cfg, NvcData *out,
                                        const NvcLogger *logger);

/* Parse a record occupying exactly sz bytes of buf. On success cfg holds a
 * new reference to a copy of the payload (release with
 * nvc_stream_config_clear). On failure cfg is zeroed and the return value is
 * NVC_ERR_CORRUPT (malformed, truncated, bad CRC), NVC_ERR(ENOTSUP) (newer
 * stream version), NVC_ERR(ERANGE) (more than max_pixels luma samples; 0
 * means NVC_DEFAULT_MAX_PIXELS) or NVC_ERR(ENOMEM); the reason is logged.
 * Every byte of buf is treated as hostile. */
NVC_API int nvc_stream_config_parse(NvcStreamConfig *cfg, const uint8_t *buf, size_t sz,
                                    int64_t max_pixels, const NvcLogger *logger);

enum NvcContainerFormat {
    NVC_CONTAINER_MATROSKA = 0,   /* .nvc: Matroska, V_MS/VFW/FOURCC "NVC1" (needs FFmpeg) */
    NVC_CONTAINER_ELEMENTARY = 1, /* nvc's own elementary stream (doc/FORMAT.md) */
};

/* "matroska" or "elementary". */
NVC_API const char *nvc_container_name(enum NvcContainerFormat format);

/* ---- writing ---------------------------------------------------------- */

typedef struct NvcMuxer NvcMuxer;

typedef struct NvcMuxSettings {
    enum NvcContainerFormat format; /* default NVC_CONTAINER_MATROSKA */
    const char *title;  /* Matroska track name; default NULL (none). Copied at open. */
    int bitexact;       /* 1: the same packets give the same file bytes with any
                           nvc and FFmpeg version (no dates, random UIDs or
                           version strings); default 0 */
    NvcLogger logger;   /* default: silent */
} NvcMuxSettings;

NVC_API void nvc_mux_default_settings(NvcMuxSettings *s);

/* Create a container at path ("-" = stdout) holding one stream described
 * by cfg (its payload is copied). A named file is written under a
 * temporary name in the same directory and renamed to path by a committing
 * nvc_mux_close. To stdout, Matroska is written in its non-seekable form
 * (no cue index, no duration: readers seek by scanning).
 * Returns 0 with *m set, or NVC_ERR(EINVAL) (bad cfg or settings),
 * NVC_ERR(ENOTSUP) (frame rate above 1000 fps for Matroska, whose clock is in
 * milliseconds), NVC_ERR(ENOSYS) (Matroska in a build without FFmpeg), an
 * I/O error; *m is NULL on failure. */
NVC_API int nvc_mux_open(NvcMuxer **m, const char *path, const NvcStreamConfig *cfg,
                         const NvcMuxSettings *s);

/* Append one packet (one frame). pkt->pts is the frame index (>= 0, strictly
 * increasing); NVC_DATA_KEY marks packets decodable without earlier ones
 * (the first packet must be one). Packets are never empty (1 byte at least:
 * libavformat drops empty Matroska blocks, and libavcodec reads an empty
 * packet as end of stream). The bytes are copied; the caller keeps
 * pkt. Returns 0, NVC_ERR(EINVAL) for a bad packet, or an I/O error (the
 * muxer is then unusable except for closing). */
NVC_API int nvc_mux_write_packet(NvcMuxer *m, const NvcData *pkt);

/* Finish and free the muxer; *m becomes NULL. With commit != 0 the file is
 * completed, flushed and renamed into place; the return value reports any
 * error so far (then nothing is left at path). With commit == 0 the
 * temporary file is removed (stdout simply stops: the stream is left
 * without its end marker, which readers report as truncated). */
NVC_API int nvc_mux_close(NvcMuxer **m, int commit);

/* ---- reading ---------------------------------------------------------- */

typedef struct NvcDemuxer NvcDemuxer;

typedef struct NvcDemuxSettings {
    int64_t max_pixels;   /* refuse streams with more luma samples per picture;
                             default 0 = NVC_DEFAULT_MAX_PIXELS */
    NvcLogger logger;     /* default: silent */
} NvcDemuxSettings;

NVC_API void nvc_demux_default_settings(NvcDemuxSettings *s);

/* Open path ("-" = stdin) and read its header; the format is recognised from
 * the first bytes (EBML signature or the elementary stream signature).
 * Returns 0 with *d set, or NVC_ERR(ENOENT)/NVC_ERR(EIO) (file),
 * NVC_ERR_CORRUPT (not an nvc file, malformed or truncated header),
 * NVC_ERR(ENOTSUP) (newer stream version, Matroska without an NVC1 track),
 * NVC_ERR(ERANGE) (beyond max_pixels), NVC_ERR(ENOSYS) (Matroska in a build
 * without FFmpeg); *d is NULL on failure. */
NVC_API int nvc_demux_open(NvcDemuxer **d, const char *path, const NvcDemuxSettings *s);

/* The stream configuration (valid until nvc_demux_close). */
NVC_API const NvcStreamConfig *nvc_demux_get_config(const NvcDemuxer *d);

NVC_API enum NvcContainerFormat nvc_demux_get_format(const NvcDemuxer *d);

/* Read the next packet into pkt (a new reference: release it with
 * nvc_data_unref): payload bytes exactly as written, pts in frame units,
 * NVC_DATA_KEY. Returns 1 with a packet, 0 at the end of the stream, or a
 * negative error (NVC_ERR_CORRUPT for damaged or truncated data, including a
 * stream that ends before the frame count its configuration announces);
 * pkt is zeroed unless 1 is returned. After an error the caller may read on
 * (the reader continues after the damage where it can) or seek. */
NVC_API int nvc_demux_read_packet(NvcDemuxer *d, NvcData *pkt);

/* Position the reader so that the next packet is the key packet with the
 * largest pts <= frame (the first packet if there is none). To fetch frame
 * F: seek to F, then read until pts == F. Returns 0, NVC_ERR(EINVAL) for
 * frame < 0, NVC_ERR(ESPIPE) on a non-seekable input (stdin), or a read
 * error. */
NVC_API int nvc_demux_seek(NvcDemuxer *d, int64_t frame);

NVC_API void nvc_demux_close(NvcDemuxer **d);

/* ---- FFmpeg messages -------------------------------------------------- */

/* libavformat reports details through av_log, whose callback is global to
 * the process and belongs to the application: nvc never changes it on its
 * own (by default FFmpeg prints to stderr). An application without FFmpeg
 * headers may call this to send FFmpeg's messages to logger instead: FFmpeg
 * errors and warnings arrive as NVC_LOG_INFO (nvc reports every failure
 * itself at NVC_LOG_ERROR; these are the details behind it), everything more
 * verbose as NVC_LOG_DEBUG, and the one warning FFmpeg 5.1 always emits when
 * muxing an NVC1 track ("codec none is not supported by this format") as
 * NVC_LOG_DEBUG. A NULL logger restores FFmpeg's default callback. Not
 * thread-safe against itself: call it once at start-up. Returns 0, or
 * NVC_ERR(ENOSYS) in a build without FFmpeg. */
NVC_API int nvc_ffmpeg_route_log(const NvcLogger *logger);

#ifdef __cplusplus
}
#endif

#endif /* NVC_CONTAINER_H */
