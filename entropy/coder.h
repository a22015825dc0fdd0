/*
 * Bulk coding of int32 arrays with static CDF tables: per-symbol tables
 * (generic), per-channel tables (factorized prior) and conditional
 * Gaussian / Laplace tables (scale index + mean per symbol).
 *
 * Every encoder appends one payload (doc/FORMAT.md, "Entropy payloads") to
 * bw; nsub is the sub-stream count (0: automatic, see
 * nvc_rans_substream_count). Decoders read one payload from br and need the
 * same n and the same table choices; they return 0, NVC_ERR_CORRUPT for a
 * truncated or corrupt payload (never reading outside br), NVC_ERR(EINVAL)
 * for bad arguments (e.g. a table index out of range) or NVC_ERR(ENOMEM).
 * Any int32 value round-trips (values outside a table take its escape).
 * Sub-streams are coded in parallel with OpenMP; the bytes do not depend on
 * the thread count.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_CODER_H
#define NVC_ENTROPY_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/cdf.h"
#include "entropy/dist.h"

/* Symbol i uses table tab[i] (tab NULL: table 0) and codes
 * val[i] - offset[i] (offset NULL: 0). */
int nvc_table_encode(const NvcCdfSet *set, const int32_t *val, const uint16_t *tab, const int32_t *offset,
                     size_t n, uint32_t nsub, NvcByteWriter *bw);
int nvc_table_decode(const NvcCdfSet *set, NvcByteReader *br, int32_t *val, const uint16_t *tab,
                     const int32_t *offset, size_t n);

/* Factorized prior over a channel-major tensor: symbol i uses table
 * first + i / run (run = elements per channel). */
int nvc_factorized_encode(const NvcCdfSet *set, uint32_t first, const int32_t *val, size_t n, size_t run,
                          uint32_t nsub, NvcByteWriter *bw);
int nvc_factorized_decode(const NvcCdfSet *set, uint32_t first, NvcByteReader *br, int32_t *val, size_t n,
                          size_t run);

/* Conditional prior: symbol i has scale index sidx[i] (< ct->scales.n) and
 * mean mean_q8[i] (Q8; NULL: 0), see nvc_cond_table. */
int nvc_cond_encode(const NvcCondTables *ct, const int32_t *val, const uint16_t *sidx, const int32_t *mean_q8,
                    size_t n, uint32_t nsub, NvcByteWriter *bw);
int nvc_cond_decode(const NvcCondTables *ct, NvcByteReader *br, int32_t *val, const uint16_t *sidx,
                    const int32_t *mean_q8, size_t n);

/* Ideal code length in bits (sum of -log2 of each symbol's 16-bit
 * probability, escape bits included) of what nvc_cond_encode would code;
 * for rate estimates in tests and encoders. */
double nvc_cond_cost_bits(const NvcCondTables *ct, const int32_t *val, const uint16_t *sidx,
                          const int32_t *mean_q8, size_t n);

#endif /* NVC_ENTROPY_CODER_H */
