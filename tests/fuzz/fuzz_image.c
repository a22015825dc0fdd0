/*
 * Fuzz target: the learned image codec's decoder (nvc/image_codec.c) on
 * whole elementary streams: its configuration payload (version, prior,
 * model CRC, name) and its packets (quality byte, the entropy payloads of
 * the hyper-latent and the four prior steps, decoded through the integer
 * prior networks, then the synthesis). Each input runs as it is and once
 * with every container CRC made right, so that mutations reach the
 * payloads. Seeds: the conformance streams of conformance/image/, which
 * name the built-in model (models/image-v2.nvcm) by its CRC.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/fuzz/fuzz_common.h"

static void run(const uint8_t *data, size_t size)
{
    fuzz_stream(data, size, FUZZ_DECODE, NULL, NULL); /* demux and decode every packet */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < NVC_ES_SIGNATURE_SIZE || memcmp(data, NVC_ES_SIGNATURE, NVC_ES_SIGNATURE_SIZE))
        return 0;
    fuzz_twice(data, size, fuzz_fix_es_crcs, run);
    return 0;
}
