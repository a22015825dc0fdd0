/*
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/file.h"
#include "codec/internal.h"

int nvc_atomic_open(NvcAtomicFile *af, const char *path, const NvcLogger *logger)
{
    memset(af, 0, sizeof(*af));
    if (!strcmp(path, "-")) {
        af->f = stdout;
        return 0;
    }
    size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        nvc_atomic_close(af, 0, logger);
        return NVC_ERR(ENOMEM);
    }
    /* Hidden-ish twin in the same directory, so rename() stays atomic. */
    snprintf(af->tmp_path, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int err = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        nvc_atomic_close(af, 0, logger);
        return nvc_log_error(logger, NVC_ERR(err), "%s: cannot create: %s", path, strerror(err));
    }
    /* mkstemp creates 0600; give the usual umask-based permissions. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int err = errno;
        close(fd);
        nvc_atomic_close(af, 0, logger);
        return nvc_log_error(logger, NVC_ERR(err), "%s: %s", path, strerror(err));
    }
    return 0;
}

int nvc_atomic_close(NvcAtomicFile *af, int commit, const NvcLogger *logger)
{
    int ret = 0;
    if (af->f == stdout) {
        if (fflush(stdout) || ferror(stdout))
            ret = nvc_log_error(logger, NVC_ERR(EIO), "write error on standard output");
        af->f = NULL;
        return ret;
    }
    if (af->f) {
        int bad = ferror(af->f);
        if (fclose(af->f) || bad) {
            if (commit)
                ret = nvc_log_error(logger, NVC_ERR(EIO), "%s: write error (disk full?)", af->path);
            commit = 0;
        }
        af->f = NULL;
    }
    if (af->tmp_path) {
        if (commit && rename(af->tmp_path, af->path)) {
            int err = errno;
            ret = nvc_log_error(logger, NVC_ERR(err), "%s: cannot rename into place: %s", af->path,
                                strerror(err));
            commit = 0;
        }
        if (!commit)
            unlink(af->tmp_path);
    }
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof(*af));
    return ret;
}

int nvc_file_open_read(FILE **f, const char *path, const NvcLogger *logger)
{
    if (!strcmp(path, "-")) {
        *f = stdin;
        return 0;
    }
    *f = fopen(path, "rb");
    if (!*f) {
        int err = errno;
        return nvc_log_error(logger, NVC_ERR(err), "%s: %s", path, strerror(err));
    }
    struct stat st;
    if (!fstat(fileno(*f), &st) && S_ISDIR(st.st_mode)) {
        fclose(*f);
        *f = NULL;
        return nvc_log_error(logger, NVC_ERR(EISDIR), "%s: is a directory", path);
    }
    return 0;
}
