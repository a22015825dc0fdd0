/*
 * Reference-counted packets.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/data.h"

static void free_buffer(void *base, void *cookie)
{
    free(base);
}

uint8_t *nvc_data_create(NvcData *data, size_t sz)
{
    memset(data, 0, sizeof(*data));
    /* One spare byte so that a zero-sized packet still has a valid pointer. */
    if (sz > SIZE_MAX - 1)
        return NULL;
    uint8_t *buf = calloc(1, sz + 1);
    if (!buf)
        return NULL;
    data->ref = nvc_ref_create(buf, free_buffer, NULL);
    if (!data->ref) {
        free(buf);
        return NULL;
    }
    data->data = buf;
    data->sz = sz;
    return buf;
}

typedef struct WrapCookie {
    void (*free_callback)(const uint8_t *buf, void *cookie);
    void *cookie;
} WrapCookie;

static void free_wrapped(void *base, void *cookie)
{
    WrapCookie *w = cookie;
    if (w->free_callback)
        w->free_callback(base, w->cookie);
    free(w);
}

int nvc_data_wrap(NvcData *data, const uint8_t *buf, size_t sz,
                  void (*free_callback)(const uint8_t *buf, void *cookie), void *cookie)
{
    memset(data, 0, sizeof(*data));
    if (!buf && sz)
        return NVC_ERR(EINVAL);
    WrapCookie *w = malloc(sizeof(*w));
    if (!w)
        return NVC_ERR(ENOMEM);
    w->free_callback = free_callback;
    w->cookie = cookie;
    data->ref = nvc_ref_create((void *)buf, free_wrapped, w);
    if (!data->ref) {
        free(w);
        return NVC_ERR(ENOMEM);
    }
    data->data = buf;
    data->sz = sz;
    return 0;
}

void nvc_data_ref(NvcData *dst, const NvcData *src)
{
    *dst = *src;
    if (src->ref)
        nvc_ref_inc(src->ref);
}

void nvc_data_unref(NvcData *data)
{
    if (!data)
        return;
    nvc_ref_dec(&data->ref);
    memset(data, 0, sizeof(*data));
}
