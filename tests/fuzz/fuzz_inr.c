/*
 * Fuzz target: the INR decoders (HNeRV, NeRV++) on hostile configuration
 * payloads and packets. Input layout (big-endian):
 *   u8  flags        bit 0: NeRV++ (else HNeRV); bits 1-2: layout (0 gray, 1 4:2:0,
 *                    2 4:4:4); bit 3: 10 bits per sample
 *   u16 width, u16 height (1 .. 256 after clamping)
 *   u32 payload size, payload
 *   packets: u16 size, bytes (until the input ends)
 * The decoder runs with small limits (64 MiB, 256x256 pixels) so that each
 * input stays fast; every packet must decode or fail with NVC_ERR_CORRUPT.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bytes.h"
#include "nvc/nvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NvcByteReader br;
    nvc_br_init(&br, data, size);
    unsigned flags = nvc_br_u8(&br);
    int w = nvc_br_u16(&br), h = nvc_br_u16(&br);
    uint32_t psz = nvc_br_u32(&br);
    if (br.error || psz > nvc_br_left(&br))
        return 0;
    NvcStreamConfig cfg;
    nvc_stream_config_default(&cfg);
    cfg.codec = flags & 1 ? NVC_CODEC_NERVPP : NVC_CODEC_HNERV;
    cfg.p.w = 1 + w % 256;
    cfg.p.h = 1 + h % 256;
    cfg.p.layout = (enum NvcPixelLayout)((flags >> 1) % 3);
    cfg.p.bpc = flags & 8 ? 10 : 8;
    cfg.payload.data = nvc_br_bytes(&br, psz);
    cfg.payload.sz = psz;
    NvcDecoderSettings s;
    nvc_decoder_default_settings(&s);
    s.n_threads = 1;
    s.max_pixels = 256 * 256;
    s.max_memory = 64 << 20; /* the decoder counts 32 MiB of conv scratch for 64 threads */
    NvcDecoder *dec;
    if (nvc_decoder_open(&dec, &cfg, &s) < 0)
        return 0;
    for (int n = 0; n < 8 && nvc_br_left(&br) >= 2; n++) {
        size_t len = nvc_br_u16(&br);
        len = len < nvc_br_left(&br) ? len : nvc_br_left(&br);
        NvcData pkt = { .data = nvc_br_bytes(&br, len), .sz = len, .pts = n };
        NvcPicture pic;
        int ret = nvc_decoder_send_packet(dec, &pkt);
        if (ret >= 0)
            ret = nvc_decoder_get_picture(dec, &pic);
        if (ret >= 0)
            nvc_picture_unref(&pic);
        else if (ret != NVC_ERR_CORRUPT)
            abort();
    }
    nvc_decoder_close(&dec);
    return 0;
}
