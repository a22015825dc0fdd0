/*
 * MD5 (RFC 1321) for nvdec --md5 / --verify and the conformance runner.
 * Not for security: a checksum of decoded pictures.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TOOLS_MD5_H
#define NVC_TOOLS_MD5_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/picture.h"

typedef struct ToolMd5 {
    uint32_t h[4];      /* A, B, C, D */
    uint64_t len;       /* bytes hashed so far */
    uint8_t buf[64];    /* pending bytes of the current block */
} ToolMd5;

void tool_md5_init(ToolMd5 *m);
void tool_md5_update(ToolMd5 *m, const void *data, size_t n);
/* Finish: digest[16]; m must be initialised again before reuse. */
void tool_md5_final(ToolMd5 *m, uint8_t digest[16]);

/* 32 lowercase hex digits and a NUL. */
void tool_md5_hex(const uint8_t digest[16], char hex[33]);

/* Hash a picture exactly as a raw planar .yuv file holds it (what
 * nvc_output writes for a .yuv name, so `md5sum` of that file gives the same
 * digest): planes in order (Y, U, V, or R, G, B for RGB pictures), rows of w
 * samples without padding, 1 byte per sample up to 8 bits, else 2 bytes
 * little-endian. Returns 0 or NVC_ERR(ENOMEM). */
int tool_md5_update_picture(ToolMd5 *m, const NvcPicture *pic);

#endif /* NVC_TOOLS_MD5_H */
