/*
 * Versioned checkpoints of an arena's tensors (and optionally Adam state).
 *
 * Layout (big-endian):
 *   "NVCCKPT\0", u32 version (1), u32 flags (bit 0: Adam moments follow),
 *   u64 step, u32 tensor count, then per tensor: u16 name length, name,
 *   u8 ndim, u32 dims[ndim]; then every tensor's floats (IEEE bits as u32),
 *   then, with bit 0, the first then the second moments in the same order;
 *   u32 CRC-32 (zlib's, codec/crc.h) of all the bytes before it.
 * Loading refuses a file whose checksum, magic, version, tensor names or
 * shapes do not match the model, with a message saying which.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CHECKPOINT_H
#define NVC_NN_CHECKPOINT_H

#include <stdint.h>

#include "codec/bytes.h"
#include "nn/nn.h"
#include "nn/optim.h"

#define NVC_CHECKPOINT_VERSION 1

/* Serialize host buffers laid out by `layout`; m and v may be NULL (both or
 * neither). */
int nvc_checkpoint_write(NvcByteWriter *bw, const NvcArena *layout, const float *params, const float *m,
                         const float *v, uint64_t step);

/* Parse buf into host buffers laid out by `layout`. m and v may be NULL:
 * moments in the file are then skipped; when the file has none, m and v are
 * zeroed. NVC_ERR_CORRUPT for damaged data, NVC_ERR(EINVAL) for a checkpoint
 * of another model, NVC_ERR(ENOTSUP) for a newer version. */
int nvc_checkpoint_read(const uint8_t *buf, size_t sz, const NvcArena *layout, float *params, float *m, float *v,
                        uint64_t *step, const NvcLogger *logger);

/* The same through a file; saving writes a temporary file and renames it. */
int nvc_checkpoint_save(const char *path, const NvcArena *layout, const float *params, const float *m,
                        const float *v, uint64_t step, const NvcLogger *logger);
int nvc_checkpoint_load(const char *path, const NvcArena *layout, float *params, float *m, float *v,
                        uint64_t *step, const NvcLogger *logger);

/* A model as training holds it: parameters `p` (backend memory, laid out by
 * `layout`) and the Adam moments of `opt` when opt->m is set (else only the
 * parameters are saved, or loaded and the file's moments skipped). Loading
 * with moments also sets opt->step to the file's step. */
int nvc_checkpoint_save_model(const char *path, NvcNn *nn, const NvcArena *layout, const float *p,
                              const NvcAdam *opt, uint64_t step, const NvcLogger *logger);
int nvc_checkpoint_load_model(const char *path, NvcNn *nn, const NvcArena *layout, float *p, NvcAdam *opt,
                              uint64_t *step, const NvcLogger *logger);

#endif /* NVC_NN_CHECKPOINT_H */
