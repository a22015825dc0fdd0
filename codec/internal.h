/*
 * Internal helpers shared by every part of libnvc (not installed).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_INTERNAL_H
#define NVC_CODEC_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"

#define NVC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NVC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NVC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NVC_CLIP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))
#define NVC_ALIGN(x, a) (((x) + (a) - 1) & ~((size_t)(a) - 1))

#if defined(__GNUC__)
#define NVC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NVC_PRINTF(fmt, args)
#endif

/* Send one message to a logger (NULL logger or callback: dropped). */
void nvc_log(const NvcLogger *logger, enum NvcLogLevel level, const char *fmt, ...) NVC_PRINTF(3, 4);

/* Log an error and return err, for `return nvc_log_error(lg, NVC_ERR(EINVAL), "...")`. */
int nvc_log_error(const NvcLogger *logger, int err, const char *fmt, ...) NVC_PRINTF(3, 4);

/* 64-byte aligned allocation (freed with nvc_free_aligned); NULL on failure
 * or when sz is 0 or too large. */
void *nvc_malloc_aligned(size_t sz);
void nvc_free_aligned(void *p);

/* Size arithmetic that refuses overflow: returns 0 on success, -1 on overflow. */
static inline int nvc_mul_size(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b)
        return -1;
    *out = a * b;
    return 0;
}

/* Reference-counted owner of a buffer (pictures, packets, models). */
struct NvcRef {
    atomic_int count;
    void *base;                                        /* what free_callback releases */
    void (*free_callback)(void *base, void *cookie);
    void *cookie;
};

/* New reference count of 1 owning `base`; NULL on allocation failure. */
NvcRef *nvc_ref_create(void *base, void (*free_callback)(void *base, void *cookie), void *cookie);
void nvc_ref_inc(NvcRef *ref);
/* Decrement; frees base and the ref with the last one. Sets *ref to NULL. */
void nvc_ref_dec(NvcRef **ref);

#endif /* NVC_CODEC_INTERNAL_H */
