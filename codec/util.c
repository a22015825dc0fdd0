/*
 * Logging, aligned memory and reference counting.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdlib.h>

#include "codec/internal.h"

void nvc_log(const NvcLogger *logger, enum NvcLogLevel level, const char *fmt, ...)
{
    if (!logger || !logger->callback)
        return;
    va_list ap;
    va_start(ap, fmt);
    logger->callback(logger->cookie, level, fmt, ap);
    va_end(ap);
}

int nvc_log_error(const NvcLogger *logger, int err, const char *fmt, ...)
{
    if (logger && logger->callback) {
        va_list ap;
        va_start(ap, fmt);
        logger->callback(logger->cookie, NVC_LOG_ERROR, fmt, ap);
        va_end(ap);
    }
    return err;
}

void *nvc_malloc_aligned(size_t sz)
{
    if (!sz || sz > SIZE_MAX - 64)
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, NVC_ALIGN(sz, 64)))
        return NULL;
    return p;
}

void nvc_free_aligned(void *p)
{
    free(p);
}

NvcRef *nvc_ref_create(void *base, void (*free_callback)(void *base, void *cookie), void *cookie)
{
    NvcRef *ref = malloc(sizeof(*ref));
    if (!ref)
        return NULL;
    atomic_init(&ref->count, 1);
    ref->base = base;
    ref->free_callback = free_callback;
    ref->cookie = cookie;
    return ref;
}

void nvc_ref_inc(NvcRef *ref)
{
    atomic_fetch_add_explicit(&ref->count, 1, memory_order_relaxed);
}

void nvc_ref_dec(NvcRef **pref)
{
    NvcRef *ref = *pref;
    *pref = NULL;
    if (!ref)
        return;
    if (atomic_fetch_sub_explicit(&ref->count, 1, memory_order_acq_rel) == 1) {
        if (ref->free_callback)
            ref->free_callback(ref->base, ref->cookie);
        free(ref);
    }
}
