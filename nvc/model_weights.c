/*
 * The shipped model files, built into the library: the learned image codec's
 * (models/image-v2.nvcm) and the conditional video codec's
 * (models/video-v3.nvcm), assembled with .incbin on ELF targets. Elsewhere,
 * or without them, nvc_image_model_builtin / nvc_video_model_builtin return
 * NULL and the codecs need NVC_IMAGE_MODEL / NVC_VIDEO_MODEL (a path) in the
 * environment.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "nvc/image_codec.h"
#include "nvc/video_codec.h"

#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define NVC_BLOB(name, file)                                                                                           \
    __asm__(".section .rodata\n"                                                                                       \
            ".balign 64\n"                                                                                             \
            ".globl " #name "\n"                                                                                       \
            ".hidden " #name "\n"                                                                                      \
            ".type " #name ", @object\n" #name ":\n"                                                                   \
            ".incbin \"" file "\"\n"                                                                                   \
            ".globl " #name "_end\n"                                                                                   \
            ".hidden " #name "_end\n" #name "_end:\n"                                                                  \
            ".byte 0\n"                                                                                                \
            ".previous\n");                                                                                            \
    extern const uint8_t name[], name##_end[];
#define NVC_BLOB_GET(name, sz) (*(sz) = (size_t)(name##_end - name), *(sz) ? name : NULL)
#endif

/* IMAGE_BLOB / VIDEO_BLOB: the blob and its size in *sz, or NULL and 0. */
#if defined(NVC_BLOB) && defined(NVC_IMAGE_MODEL_FILE)
NVC_BLOB(nvc_image_model_blob, NVC_IMAGE_MODEL_FILE)
#define IMAGE_BLOB(sz) NVC_BLOB_GET(nvc_image_model_blob, sz)
#else
#define IMAGE_BLOB(sz) (*(sz) = 0, (const uint8_t *)NULL)
#endif
#if defined(NVC_BLOB) && defined(NVC_VIDEO_MODEL_FILE)
NVC_BLOB(nvc_video_model_blob, NVC_VIDEO_MODEL_FILE)
#define VIDEO_BLOB(sz) NVC_BLOB_GET(nvc_video_model_blob, sz)
#else
#define VIDEO_BLOB(sz) (*(sz) = 0, (const uint8_t *)NULL)
#endif

const uint8_t *nvc_image_model_builtin(size_t *sz)
{
    return IMAGE_BLOB(sz);
}

const uint8_t *nvc_video_model_builtin(size_t *sz)
{
    return VIDEO_BLOB(sz);
}
