/*
 * Muxer front: temporary file and commit, packet checks, dispatch to the
 * elementary stream or Matroska.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "codec/container.h"
#include "codec/internal.h"

void nvc_mux_default_settings(NvcMuxSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->format = NVC_CONTAINER_MATROSKA;
}

int nvc_mux_write_bytes(NvcMuxer *m, const void *buf, size_t n)
{
    if (!m->error && n && fwrite(buf, 1, n, m->f) != n) {
        m->error = NVC_ERR(errno ? errno : EIO);
        nvc_log(&m->s.logger, NVC_LOG_ERROR, "write error: %s", strerror(-m->error));
    }
    return m->error;
}

static void free_muxer(NvcMuxer *m)
{
    nvc_data_unref(&m->record);
    free(m->title);
    free(m);
}

static int check_settings(const NvcMuxSettings *s, const NvcStreamConfig *cfg)
{
    if ((unsigned)s->format > NVC_CONTAINER_ELEMENTARY)
        return nvc_log_error(&s->logger, NVC_ERR(EINVAL), "unknown container format %d", s->format);
#if !NVC_HAVE_FFMPEG
    if (s->format == NVC_CONTAINER_MATROSKA)
        return nvc_log_error(&s->logger, NVC_ERR(ENOSYS), "Matroska output needs FFmpeg, and this "
                             "nvc build has none (configured with --disable-ffmpeg): write the "
                             "elementary stream instead");
#endif
    /* Matroska's clock ticks in milliseconds: frame indices survive the
     * rounding only while a frame lasts at least 1 ms. */
    if (s->format == NVC_CONTAINER_MATROSKA && cfg->fps_den > 0 &&
        (int64_t)cfg->fps_num > (int64_t)cfg->fps_den * 1000)
        return nvc_log_error(&s->logger, NVC_ERR(ENOTSUP), "frame rate %d/%d: Matroska timestamps "
                             "in milliseconds hold at most 1000 fps", cfg->fps_num, cfg->fps_den);
    return 0;
}

/* Set up everything but the file. */
static int muxer_create(NvcMuxer **pm, const NvcStreamConfig *cfg, const NvcMuxSettings *s)
{
    *pm = NULL;
    int ret = nvc_stream_config_check(cfg, &s->logger);
    if (ret < 0 || (ret = check_settings(s, cfg)) < 0)
        return ret;
    NvcMuxer *m = calloc(1, sizeof(*m));
    if (!m)
        return NVC_ERR(ENOMEM);
    m->s = *s;
    m->last_pts = -1;
    if (s->title && !(m->title = strdup(s->title))) {
        free_muxer(m);
        return NVC_ERR(ENOMEM);
    }
    m->s.title = m->title;
    if ((ret = nvc_stream_config_serialize(cfg, &m->record, &s->logger)) < 0) {
        free_muxer(m);
        return ret;
    }
    m->cfg = *cfg;
    m->cfg.version = NVC_STREAM_VERSION;
    memset(&m->cfg.payload, 0, sizeof(m->cfg.payload));
    *pm = m;
    return 0;
}

/* Write the container header once the file is there. */
static int muxer_start(NvcMuxer *m)
{
    /* Seek only where it lands where we think: not in pipes, not in a file
     * opened for appending (stdout with >>); start wherever the file is. */
    off_t pos = ftello(m->f);
    int fd = fileno(m->f), fl = fd >= 0 ? fcntl(fd, F_GETFL) : 0;
    m->seekable = pos >= 0 && !(fl > 0 && (fl & O_APPEND)) && fseeko(m->f, pos, SEEK_SET) == 0;
    m->base = m->seekable ? pos : 0;
    if (m->s.format == NVC_CONTAINER_ELEMENTARY)
        return nvc_es_mux_open(m);
#if NVC_HAVE_FFMPEG
    return nvc_mkv_mux_open(m);
#else
    return NVC_ERR(ENOSYS);
#endif
}

int nvc_mux_open(NvcMuxer **pm, const char *path, const NvcStreamConfig *cfg, const NvcMuxSettings *s)
{
    NvcMuxSettings defaults;
    if (!s) {
        nvc_mux_default_settings(&defaults);
        s = &defaults;
    }
    *pm = NULL;
    if (!path || !cfg)
        return nvc_log_error(&s->logger, NVC_ERR(EINVAL), "nvc_mux_open: bad arguments");
    if (!strcmp(path, "-"))
        return nvc_mux_open_file(pm, stdout, cfg, s);
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode))
        return nvc_log_error(&s->logger, NVC_ERR(EISDIR), "%s: is a directory", path);
    NvcMuxer *m;
    int ret = muxer_create(&m, cfg, s);
    if (ret < 0)
        return ret;
    if ((ret = nvc_atomic_open(&m->af, path, &s->logger)) == 0)
        m->f = m->af.f;
    if (ret < 0 || (ret = muxer_start(m)) < 0) {
        nvc_mux_close(&m, 0);
        return ret;
    }
    *pm = m;
    return 0;
}

int nvc_mux_open_file(NvcMuxer **pm, FILE *f, const NvcStreamConfig *cfg, const NvcMuxSettings *s)
{
    NvcMuxer *m;
    int ret = muxer_create(&m, cfg, s);
    if (ret < 0)
        return ret;
    m->f = f;
    if ((ret = muxer_start(m)) < 0) {
        nvc_mux_close(&m, 0);
        return ret;
    }
    *pm = m;
    return 0;
}

int nvc_mux_write_packet(NvcMuxer *m, const NvcData *pkt)
{
    const NvcLogger *lg = &m->s.logger;
    if (m->error)
        return m->error;
    if (!pkt || (pkt->sz && !pkt->data))
        return nvc_log_error(lg, NVC_ERR(EINVAL), "nvc_mux_write_packet: no packet data");
    if (pkt->pts < 0 || pkt->pts <= m->last_pts)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "packet pts %" PRId64 " after %" PRId64
                             ": timestamps must be >= 0 and increase", pkt->pts, m->last_pts);
    if (!m->count && !(pkt->flags & NVC_DATA_KEY))
        return nvc_log_error(lg, NVC_ERR(EINVAL), "the first packet must be a key packet");
    if (!pkt->sz)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "empty packet: every frame's packet holds at least "
                             "one byte (FFmpeg drops empty packets and reads them as end of stream)");
    if (pkt->sz > NVC_MAX_PACKET_SIZE)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "packet of %zu bytes is above the %u-byte limit",
                             pkt->sz, NVC_MAX_PACKET_SIZE);
    int ret;
    if (m->s.format == NVC_CONTAINER_ELEMENTARY)
        ret = nvc_es_mux_write(m, pkt);
    else
#if NVC_HAVE_FFMPEG
        ret = nvc_mkv_mux_write(m, pkt);
#else
        ret = NVC_ERR(ENOSYS);
#endif
    if (ret < 0) {
        if (!m->error)
            m->error = ret;
        return ret;
    }
    m->count++;
    m->last_pts = pkt->pts;
    return 0;
}

/* Trailer, flush, close; returns the first error. */
static int finish(NvcMuxer *m)
{
    if (!m->error) {
        int ret = m->s.format == NVC_CONTAINER_ELEMENTARY ? nvc_es_mux_finish(m)
#if NVC_HAVE_FFMPEG
                                                          : nvc_mkv_mux_finish(m);
#else
                                                          : NVC_ERR(ENOSYS);
#endif
        if (ret < 0 && !m->error)
            m->error = ret;
    }
    if (!m->error && fflush(m->f)) {
        m->error = NVC_ERR(errno ? errno : EIO);
        nvc_log(&m->s.logger, NVC_LOG_ERROR, "write error: %s", strerror(-m->error));
    }
    return m->error;
}

int nvc_mux_close(NvcMuxer **pm, int commit)
{
    NvcMuxer *m = pm ? *pm : NULL;
    if (!m)
        return 0;
    *pm = NULL;
    int ret = 0;
    if (commit && m->f)
        ret = finish(m);
#if NVC_HAVE_FFMPEG
    if (m->s.format == NVC_CONTAINER_MATROSKA)
        nvc_mkv_mux_free(m);
#endif
    if (m->af.f) {
        int r = nvc_atomic_close(&m->af, commit && !ret, &m->s.logger);
        if (commit && !ret)
            ret = r;
    } else if (m->f && !commit) {
        fflush(m->f);
    }
    if (commit && ret < 0)
        nvc_log(&m->s.logger, NVC_LOG_ERROR, "output not written: %s", nvc_error_string(ret));
    free_muxer(m);
    return ret;
}

#if !NVC_HAVE_FFMPEG
int nvc_ffmpeg_route_log(const NvcLogger *logger)
{
    return NVC_ERR(ENOSYS);
}
#endif
