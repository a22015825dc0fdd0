/*
 * nvc: common definitions of the public API (errors, logging, version).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_COMMON_H
#define NVC_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NVC_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define NVC_API __attribute__((visibility("default")))
#else
#define NVC_API
#endif

/* Errors are negative errno values: NVC_ERR(EINVAL) for a bad call,
 * NVC_ERR(ENOMEM), NVC_ERR(EIO) for system I/O, NVC_ERR(ENOSYS) for a
 * feature this build lacks, NVC_ERR(ERANGE) for a limit exceeded (pixels,
 * memory), and NVC_ERR_CORRUPT for malformed or truncated input data. */
#if EPERM > 0
#define NVC_ERR(e) (-(e))
#else
#define NVC_ERR(e) (e)
#endif
#define NVC_ERR_CORRUPT NVC_ERR(EBADMSG)

/* Version of the API these headers describe. */
#define NVC_API_VERSION_MAJOR 0
#define NVC_API_VERSION_MINOR 1
#define NVC_API_VERSION_PATCH 0

/* Library version string, e.g. "0.1.0". */
NVC_API const char *nvc_version(void);

/* (major << 16) | (minor << 8) | patch of the library actually loaded. */
NVC_API unsigned nvc_version_api(void);

/* Human-readable text for an nvc error code (never NULL). */
NVC_API const char *nvc_error_string(int err);

enum NvcLogLevel {
    NVC_LOG_ERROR = 0,
    NVC_LOG_WARNING = 1,
    NVC_LOG_INFO = 2,
    NVC_LOG_DEBUG = 3,
};

/* Where the library sends messages: it never prints on its own. Each
 * message is one line without a trailing newline. A NULL callback drops
 * every message. */
typedef struct NvcLogger {
    void *cookie;
    void (*callback)(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap);
} NvcLogger;

/* Owner of a reference-counted buffer (opaque). */
typedef struct NvcRef NvcRef;

/* Refuse pictures above this many luma samples unless a caller's settings
 * raise the limit (8192 x 8192). */
#define NVC_DEFAULT_MAX_PIXELS (8192LL * 8192)
/* Largest width or height any nvc component accepts. */
#define NVC_MAX_DIMENSION 32768

#ifdef __cplusplus
}
#endif

#endif /* NVC_COMMON_H */
