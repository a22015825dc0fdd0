/*
 * The shipped model file of the learned image codec, built into the
 * library (models/image-v2.nvcm, assembled with .incbin on ELF targets).
 * Elsewhere, or without it, nvc_image_model_builtin returns NULL and the
 * codec needs NVC_IMAGE_MODEL (a path) in the environment.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "nvc/image_codec.h"

#if defined(__ELF__) && defined(NVC_IMAGE_MODEL_FILE) && (defined(__GNUC__) || defined(__clang__))
__asm__(".section .rodata\n"
        ".balign 64\n"
        ".globl nvc_image_model_blob\n"
        ".hidden nvc_image_model_blob\n"
        ".type nvc_image_model_blob, @object\n"
        "nvc_image_model_blob:\n"
        ".incbin \"" NVC_IMAGE_MODEL_FILE "\"\n"
        ".globl nvc_image_model_blob_end\n"
        ".hidden nvc_image_model_blob_end\n"
        "nvc_image_model_blob_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const uint8_t nvc_image_model_blob[], nvc_image_model_blob_end[];

const uint8_t *nvc_image_model_builtin(size_t *sz)
{
    *sz = (size_t)(nvc_image_model_blob_end - nvc_image_model_blob);
    return *sz ? nvc_image_model_blob : NULL;
}
#else
const uint8_t *nvc_image_model_builtin(size_t *sz)
{
    *sz = 0;
    return NULL;
}
#endif
