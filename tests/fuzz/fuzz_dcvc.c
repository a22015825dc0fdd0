/*
 * Fuzz target: the conditional video codec's decoder (nvc/video_codec.c) on
 * whole elementary streams: its configuration payload (version, video model
 * CRC, name, refresh and intra periods, the nested image configuration) and
 * its packets (I frames through the image codec; P frames: header, index,
 * refresh flag, the motion and residual latents through the integer priors,
 * then the float synthesis and the reference chain). Each input runs as it
 * is and once with every container CRC made right, so that mutations reach
 * the payloads. The decoder needs a video model: the conformance model
 * (conformance/dcvc/model-tiny.nvcm, which the seeds name), or
 * NVC_VIDEO_MODEL when set. Seeds: the streams of conformance/dcvc/.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_common.h"

#ifndef FUZZ_SRCDIR
#error "FUZZ_SRCDIR (the source tree, for the conformance model) must be defined"
#endif

static void run(const uint8_t *data, size_t size)
{
    fuzz_stream(data, size, FUZZ_DECODE, NULL, NULL); /* demux and decode every packet */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int model_set;
    if (!model_set) {
        model_set = 1;
        if (!getenv("NVC_VIDEO_MODEL"))
            setenv("NVC_VIDEO_MODEL", FUZZ_SRCDIR "/conformance/dcvc/model-tiny.nvcm", 1);
    }
    if (size < NVC_ES_SIGNATURE_SIZE || memcmp(data, NVC_ES_SIGNATURE, NVC_ES_SIGNATURE_SIZE))
        return 0;
    fuzz_twice(data, size, fuzz_fix_es_crcs, run);
    return 0;
}
