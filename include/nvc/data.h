/*
 * nvc: reference-counted packets of coded data.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_DATA_H
#define NVC_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"
#include "nvc/picture.h"

#ifdef __cplusplus
extern "C" {
#endif

enum NvcDataFlags {
    NVC_DATA_KEY = 1 << 0, /* decodable without earlier packets (given the stream config) */
};

typedef struct NvcData {
    const uint8_t *data;
    size_t sz;
    int64_t pts;        /* presentation time in the stream time base (frame index by default) */
    unsigned flags;     /* NvcDataFlags */
    NvcRef *ref;        /* owner of data; NULL if this packet owns nothing */
} NvcData;

/* Allocate a zeroed packet buffer of sz bytes (sz may be 0). Returns the
 * writable buffer, or NULL on failure (data is then zeroed). */
NVC_API uint8_t *nvc_data_create(NvcData *data, size_t sz);

/* Wrap a caller buffer; free_callback(buf, cookie) runs when the last
 * reference goes. Returns 0 or NVC_ERR(ENOMEM)/NVC_ERR(EINVAL); on failure
 * the caller keeps ownership of buf. */
NVC_API int nvc_data_wrap(NvcData *data, const uint8_t *buf, size_t sz,
                          void (*free_callback)(const uint8_t *buf, void *cookie), void *cookie);

/* New reference to src in dst (dst must not hold a reference). */
NVC_API void nvc_data_ref(NvcData *dst, const NvcData *src);

/* Drop the reference and zero data. */
NVC_API void nvc_data_unref(NvcData *data);

#ifdef __cplusplus
}
#endif

#endif /* NVC_DATA_H */
