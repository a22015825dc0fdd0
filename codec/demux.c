/*
 * Demuxer front: opening, format detection, packet checks common to both
 * containers, and the byte reader they share.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "codec/container.h"
#include "codec/internal.h"

size_t nvc_reader_read(NvcFileReader *r, void *buf, size_t n)
{
    size_t got = 0;
    if (r->error) /* sticky: after a failed read (EINTR: Ctrl-C) nothing waits on the input again */
        return 0;
    if (r->probe_pos < r->probe_len) {
        got = NVC_MIN(n, r->probe_len - r->probe_pos);
        memcpy(buf, r->probe + r->probe_pos, got);
        r->probe_pos += got;
    }
    if (got < n) {
        size_t k = fread((uint8_t *)buf + got, 1, n - got, r->f);
        if (k < n - got && ferror(r->f)) {
            r->error = errno ? errno : EIO;
            clearerr(r->f);
        } else if (k < n - got) {
            r->eof = 1;
        }
        got += k;
    }
    r->pos += (int64_t)got;
    return got;
}

int nvc_reader_seek(NvcFileReader *r, int64_t pos)
{
    if (!r->seekable)
        return NVC_ERR(ESPIPE);
    if (pos < 0 || fseeko(r->f, (off_t)(r->base + pos), SEEK_SET))
        return NVC_ERR(pos < 0 ? EINVAL : errno);
    r->probe_pos = r->probe_len; /* the probe bytes are only replayed at the start */
    r->pos = pos;
    r->eof = 0;
    r->error = 0; /* a seek is the caller's retry */
    return 0;
}

int64_t nvc_reader_size(NvcFileReader *r)
{
    struct stat st;
    int fd = fileno(r->f);
    if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode))
        return st.st_size - r->base;
    if (!r->seekable)
        return NVC_ERR(ESPIPE);
    /* not a plain file descriptor (fmemopen): ask the stream */
    off_t cur = ftello(r->f);
    if (cur < 0 || fseeko(r->f, 0, SEEK_END))
        return NVC_ERR(EIO);
    off_t end = ftello(r->f);
    if (fseeko(r->f, cur, SEEK_SET) || end < 0)
        return NVC_ERR(EIO);
    return end - r->base;
}

static void free_buffer(const uint8_t *buf, void *cookie)
{
    free((void *)buf);
}

int nvc_reader_read_data(NvcFileReader *r, size_t n, NvcData *out)
{
    memset(out, 0, sizeof(*out));
    if (n > NVC_MAX_PACKET_SIZE)
        return NVC_ERR_CORRUPT;
    size_t cap = NVC_MIN(n, (size_t)1 << 20), have = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        have += nvc_reader_read(r, buf + have, cap - have);
        if (have < cap || cap == n)
            break;
        size_t ncap = NVC_MIN(n, cap * 2); /* grow only once the data is really there */
        uint8_t *nbuf = realloc(buf, ncap + 1);
        if (!nbuf) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nbuf;
        cap = ncap;
    }
    if (!buf)
        return NVC_ERR(ENOMEM);
    if (have < n) {
        free(buf);
        return r->error ? NVC_ERR(EIO) : NVC_ERR_CORRUPT;
    }
    int ret = nvc_data_wrap(out, buf, n, free_buffer, NULL);
    if (ret < 0)
        free(buf);
    return ret;
}

void nvc_demux_default_settings(NvcDemuxSettings *s)
{
    memset(s, 0, sizeof(*s));
}

const NvcStreamConfig *nvc_demux_get_config(const NvcDemuxer *d)
{
    return &d->cfg;
}

enum NvcContainerFormat nvc_demux_get_format(const NvcDemuxer *d)
{
    return d->format;
}

const char *nvc_container_name(enum NvcContainerFormat format)
{
    return format == NVC_CONTAINER_ELEMENTARY ? "elementary" : "matroska";
}

static int probe_format(NvcDemuxer *d)
{
    const NvcLogger *lg = &d->s.logger;
    NvcFileReader *r = &d->in;
    r->probe_len = fread(r->probe, 1, NVC_PROBE_SIZE, r->f);
    if (r->probe_len < NVC_PROBE_SIZE && ferror(r->f))
        return nvc_log_error(lg, NVC_ERR(EIO), "read error: %s", strerror(errno));
    if (!r->probe_len)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "empty file");
    if (r->probe_len >= 4 && !memcmp(r->probe, NVC_EBML_MAGIC, 4)) {
        d->format = NVC_CONTAINER_MATROSKA;
    } else if (r->probe_len == NVC_ES_SIGNATURE_SIZE &&
               !memcmp(r->probe, NVC_ES_SIGNATURE, NVC_ES_SIGNATURE_SIZE)) {
        d->format = NVC_CONTAINER_ELEMENTARY;
    } else {
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "not an nvc file (unknown signature)");
    }
    return 0;
}

int nvc_demux_open_file(NvcDemuxer **pd, FILE *f, int own, const NvcDemuxSettings *s)
{
    *pd = NULL;
    NvcDemuxer *d = calloc(1, sizeof(*d));
    if (!d) {
        if (own)
            fclose(f);
        return NVC_ERR(ENOMEM);
    }
    d->s = *s;
    d->in.f = f;
    d->in.own = own;
    off_t base = ftello(f);
    d->in.seekable = base >= 0 && fseeko(f, base, SEEK_SET) == 0;
    d->in.base = d->in.seekable ? base : 0;
    d->last_pts = -1;
    int ret = probe_format(d);
    if (ret >= 0) {
        if (d->format == NVC_CONTAINER_ELEMENTARY) {
            ret = nvc_es_demux_open(d);
        } else {
#if NVC_HAVE_FFMPEG
            ret = nvc_mkv_demux_open(d);
#else
            ret = nvc_log_error(&s->logger, NVC_ERR(ENOSYS), "this is a Matroska .nvc file, but "
                                "this nvc build has no FFmpeg (configured with --disable-ffmpeg)");
#endif
        }
    }
    if (ret < 0) {
        nvc_demux_close(&d);
        return ret;
    }
    *pd = d;
    return 0;
}

int nvc_demux_open(NvcDemuxer **pd, const char *path, const NvcDemuxSettings *s)
{
    *pd = NULL;
    NvcDemuxSettings defaults;
    if (!s) {
        nvc_demux_default_settings(&defaults);
        s = &defaults;
    }
    if (!path || s->max_pixels < 0)
        return nvc_log_error(&s->logger, NVC_ERR(EINVAL), "nvc_demux_open: bad arguments");
    if (!strcmp(path, "-"))
        return nvc_demux_open_file(pd, stdin, 0, s);
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode))
        return nvc_log_error(&s->logger, NVC_ERR(EISDIR), "%s: is a directory", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        return nvc_log_error(&s->logger, NVC_ERR(err), "%s: %s", path, strerror(err));
    }
    return nvc_demux_open_file(pd, f, 1, s);
}

/* Rules every packet obeys whatever the container: the first is a key
 * packet, pts >= 0 and strictly increasing, no more packets than the
 * configuration announces. */
static int check_packet(NvcDemuxer *d, const NvcData *pkt)
{
    const NvcLogger *lg = &d->s.logger;
    if (!d->packets_read && !(pkt->flags & NVC_DATA_KEY))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "the first packet is not a key packet");
    if (pkt->pts < 0 || pkt->pts <= d->last_pts)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "packet pts %" PRId64 " after %" PRId64
                             " (timestamps must increase)", pkt->pts, d->last_pts);
    if (d->packets_read >= 0 && d->cfg.frame_count && d->packets_read >= d->cfg.frame_count)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "more packets than the %" PRId64 " frames the "
                             "stream announces", d->cfg.frame_count);
    return 0;
}

int nvc_demux_read_packet(NvcDemuxer *d, NvcData *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    if (d->eof)
        return 0;
    int ret;
    if (d->format == NVC_CONTAINER_ELEMENTARY)
        ret = nvc_es_demux_read(d, pkt);
    else
#if NVC_HAVE_FFMPEG
        ret = nvc_mkv_demux_read(d, pkt);
#else
        ret = NVC_ERR(ENOSYS);
#endif
    if (ret == 0) {
        d->eof = 1;
        if (d->packets_read >= 0 && d->cfg.frame_count && d->packets_read != d->cfg.frame_count)
            return nvc_log_error(&d->s.logger, NVC_ERR_CORRUPT, "truncated: the stream ends after "
                                 "%" PRId64 " of %" PRId64 " frames", d->packets_read,
                                 d->cfg.frame_count);
        return 0;
    }
    if (ret > 0 && (ret = check_packet(d, pkt)) == 0) {
        d->last_pts = pkt->pts;
        if (d->packets_read >= 0)
            d->packets_read++;
        return 1;
    }
    nvc_data_unref(pkt);
    if (d->in.eof || d->in.error)
        d->eof = 1; /* damage at the end, or a read error: later reads report the end */
    return ret;
}

int nvc_demux_seek(NvcDemuxer *d, int64_t frame)
{
    if (frame < 0)
        return nvc_log_error(&d->s.logger, NVC_ERR(EINVAL), "seek to a negative frame");
    if (!d->in.seekable)
        return nvc_log_error(&d->s.logger, NVC_ERR(ESPIPE), "cannot seek in a pipe");
    int ret;
    if (d->format == NVC_CONTAINER_ELEMENTARY)
        ret = nvc_es_demux_seek(d, frame);
    else
#if NVC_HAVE_FFMPEG
        ret = nvc_mkv_demux_seek(d, frame);
#else
        ret = NVC_ERR(ENOSYS);
#endif
    if (ret < 0)
        return ret;
    d->eof = 0;
    d->last_pts = -1;
    d->packets_read = -1;
    return 0;
}

void nvc_demux_close(NvcDemuxer **pd)
{
    NvcDemuxer *d = pd ? *pd : NULL;
    if (!d)
        return;
    if (d->format == NVC_CONTAINER_ELEMENTARY)
        nvc_es_demux_close(d);
#if NVC_HAVE_FFMPEG
    else
        nvc_mkv_demux_close(d);
#endif
    nvc_stream_config_clear(&d->cfg);
    if (d->in.own && d->in.f)
        fclose(d->in.f);
    free(d);
    *pd = NULL;
}
