/*
 * CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, initial value and final
 * xor 0xFFFFFFFF), the CRC of zlib, PNG and Matroska's CRC-32 element.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_CODEC_CRC_H
#define NVC_CODEC_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; nvc_crc32(0, "123456789", 9) is
 * 0xCBF43926. Chunks may be fed in any split. */
uint32_t nvc_crc32(uint32_t crc, const void *buf, size_t n);

#endif /* NVC_CODEC_CRC_H */
