/*
 * Output files that appear only when complete: data goes to a temporary file
 * next to the destination, renamed into place on commit, removed on abort.
 * "-" writes to stdout directly.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_FILE_H
#define NVC_CODEC_FILE_H

#include <stdio.h>

#include "nvc/common.h"

typedef struct NvcAtomicFile {
    FILE *f;
    char *path;     /* final name (NULL for stdout) */
    char *tmp_path; /* temporary name while writing */
} NvcAtomicFile;

/* Create path's temporary twin and open it for writing. Returns 0 or a
 * negative errno (logged). */
int nvc_atomic_open(NvcAtomicFile *af, const char *path, const NvcLogger *logger);

/* Close; with commit, check for write errors, then rename into place (an
 * error removes the temporary). Without commit, remove it. Returns 0 or a
 * negative errno (logged). Safe to call on a zeroed or closed struct. */
int nvc_atomic_close(NvcAtomicFile *af, int commit, const NvcLogger *logger);

/* Open a file for reading: "-" is stdin. Logs "<path>: <reason>" on failure. */
int nvc_file_open_read(FILE **f, const char *path, const NvcLogger *logger);

#endif /* NVC_CODEC_FILE_H */
