/*
 * rANS coder: 64-bit state, 32-bit renormalisation, 16-bit probabilities,
 * 4 interleaved lanes per sub-stream, several independent sub-streams per
 * payload. Byte layout: doc/FORMAT.md, "Entropy payloads".
 *
 * Two ways to code: the bulk coders (entropy/coder.h, gmm.h, codebook.h,
 * adaptive.h) code whole arrays; NvcRansWriter / NvcRansDecoder below code
 * one symbol at a time (buffered reverse encoding), for priors whose
 * parameters depend on symbols decoded before. Both use the inline
 * primitives of this file, so they produce identical bytes.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_RANS_H
#define NVC_ENTROPY_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/bytes.h"
#include "entropy/cdf.h"

#define NVC_RANS_PREC 16
#define NVC_RANS_TOTAL (1u << NVC_RANS_PREC)
#define NVC_RANS_LANES 4
/* The state lives in [L, 2^63); a lane starts and ends at L. */
#define NVC_RANS_L (1ull << 31)
#define NVC_RANS_STATE_MAX (1ull << 63)
/* Bytes of one flushed lane state. */
#define NVC_RANS_STATE_BYTES 8
/* Largest sub-stream count of one payload. */
#define NVC_RANS_MAX_SUBSTREAMS 65535
/* Escape header: 1 side bit + 6 bits of magnitude length. */
#define NVC_RANS_ESC_HEADER_BITS 7
/* Largest magnitude length an escape may carry (any int32 minus any int32 offset). */
#define NVC_RANS_ESC_MAX_NBITS 34

/* ---- byte order of the word stream: little-endian ---------------------- */
static inline uint32_t nvc_rans_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void nvc_rans_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- encoder side -------------------------------------------------------- */

/* Output written backwards (rANS encodes in reverse): bytes live in
 * [ptr, buf + cap). Grows on demand. */
typedef struct NvcRansBackBuf {
    uint8_t *buf, *ptr;
    size_t cap;
    int error; /* allocation failed */
} NvcRansBackBuf;

int nvc_rans_backbuf_init(NvcRansBackBuf *bb, size_t cap);
/* Make room for at least n more bytes; 0 or NVC_ERR(ENOMEM). */
int nvc_rans_backbuf_grow(NvcRansBackBuf *bb, size_t n);
void nvc_rans_backbuf_free(NvcRansBackBuf *bb);

static inline size_t nvc_rans_backbuf_room(const NvcRansBackBuf *bb)
{
    return (size_t)(bb->ptr - bb->buf);
}

/* Encode the interval [start, start + freq) of the 2^16 total on state *x.
 * The caller guarantees 4 bytes of room. */
static inline void nvc_rans_enc_put(uint64_t *x, uint8_t **ptr, uint32_t start, uint32_t freq)
{
    uint64_t v = *x;
    if (v >= ((NVC_RANS_L >> NVC_RANS_PREC) << 32) * freq) {
        *ptr -= 4;
        nvc_rans_wr32(*ptr, (uint32_t)v);
        v >>= 32;
    }
    *x = ((v / freq) << NVC_RANS_PREC) + v % freq + start;
}

/* Encode nbits (1..16) raw bits as a uniform symbol. */
static inline void nvc_rans_enc_bits(uint64_t *x, uint8_t **ptr, uint32_t bits, int nbits)
{
    nvc_rans_enc_put(x, ptr, bits << (NVC_RANS_PREC - nbits), 1u << (NVC_RANS_PREC - nbits));
}

/* Escape payload of table index idx (< 0 or >= nval), pushed in reverse:
 * the decoder reads the escape symbol, then side|nbits (7 bits), then the
 * magnitude's bits below its leading one, high chunk first, 16 per chunk.
 * Needs 16 bytes of room. The caller then pushes the escape symbol. */
static inline void nvc_rans_enc_escape_bits(uint64_t *x, uint8_t **ptr, int64_t idx, uint32_t nval)
{
    int side = idx < 0;
    uint64_t u = side ? (uint64_t)(-1 - idx) : (uint64_t)(idx - (int64_t)nval);
    int nb = 0;
    while (nb < 64 && (u >> nb))
        nb++;
    /* chunks in decode order: rem = nb - 1 low bits, high chunk first */
    int rem = nb > 0 ? nb - 1 : 0;
    int sizes[3], n = 0;
    for (int r = rem; r > 0; r -= sizes[n++])
        sizes[n] = r > 16 ? 16 : r;
    int shift = 0;
    for (int c = n - 1; c >= 0; c--) {
        nvc_rans_enc_bits(x, ptr, (uint32_t)(u >> shift) & ((1u << sizes[c]) - 1), sizes[c]);
        shift += sizes[c];
    }
    nvc_rans_enc_bits(x, ptr, (uint32_t)side << 6 | (uint32_t)nb, NVC_RANS_ESC_HEADER_BITS);
}

/* ---- decoder side -------------------------------------------------------- */

/* One sub-stream being decoded. */
typedef struct NvcRansDecoder {
    uint64_t x[NVC_RANS_LANES];
    const uint8_t *p, *end;
    uint64_t left;   /* logical symbols still to decode */
    uint32_t lane;   /* lane of the next logical symbol */
    uint32_t nlanes; /* lanes in use: min(4, symbols) */
    int error;       /* a read ran past the end or a symbol was invalid */
} NvcRansDecoder;

static inline uint32_t nvc_rans_dec_slot(uint64_t x)
{
    return (uint32_t)x & (NVC_RANS_TOTAL - 1);
}

/* Advance past [start, start + freq) (slot inside it) and renormalise;
 * a read past the end sets *err and parks the state at L. */
static inline void nvc_rans_dec_adv(uint64_t *x, const uint8_t **p, const uint8_t *end, uint32_t start,
                                    uint32_t freq, int *err)
{
    uint64_t v = freq * (*x >> NVC_RANS_PREC) + (*x & (NVC_RANS_TOTAL - 1)) - start;
    if (v < NVC_RANS_L) {
        if (end - *p >= 4) {
            v = v << 32 | nvc_rans_rd32(*p);
            *p += 4;
        } else {
            *err = 1;
            v = NVC_RANS_L;
        }
    }
    *x = v;
}

static inline uint32_t nvc_rans_dec_bits_x(uint64_t *x, const uint8_t **p, const uint8_t *end, int nbits,
                                           int *err)
{
    uint32_t bits = nvc_rans_dec_slot(*x) >> (NVC_RANS_PREC - nbits);
    nvc_rans_dec_adv(x, p, end, bits << (NVC_RANS_PREC - nbits), 1u << (NVC_RANS_PREC - nbits), err);
    return bits;
}

/* After the escape symbol: the table index it stands for (< 0 or >= nval). */
static inline int64_t nvc_rans_dec_escape_bits(uint64_t *x, const uint8_t **p, const uint8_t *end,
                                               uint32_t nval, int *err)
{
    uint32_t h = nvc_rans_dec_bits_x(x, p, end, NVC_RANS_ESC_HEADER_BITS, err);
    int side = h >> 6, nb = h & 63;
    if (nb > NVC_RANS_ESC_MAX_NBITS) {
        *err = 1;
        return 0;
    }
    uint64_t u = nb ? 1 : 0;
    for (int rem = nb > 0 ? nb - 1 : 0; rem > 0;) {
        int c = rem > 16 ? 16 : rem;
        u = u << c | nvc_rans_dec_bits_x(x, p, end, c, err);
        rem -= c;
    }
    return side ? -1 - (int64_t)u : (int64_t)nval + (int64_t)u;
}

/* ---- payload framing ------------------------------------------------------ */

/* Sub-stream count an encoder uses for n symbols: `req` when nonzero
 * (capped to n and NVC_RANS_MAX_SUBSTREAMS), else one per 2^17 symbols
 * (at most 256). 0 when n is 0. */
uint32_t nvc_rans_substream_count(uint64_t n, uint32_t req);

/* Most symbols one payload may carry (keeps j * n below 2^64). */
#define NVC_RANS_MAX_SYMBOLS (1ull << 40)

/* First symbol of sub-stream j of nsub over n symbols: floor(j * n / nsub). */
static inline uint64_t nvc_rans_substream_start(uint64_t n, uint32_t nsub, uint32_t j)
{
    return n * j / nsub;
}

typedef struct NvcRansPayload {
    uint32_t nsub;
    const uint8_t **data; /* [nsub] start of each sub-stream */
    uint32_t *size;       /* [nsub] bytes */
} NvcRansPayload;

/* Parse a payload header at br and consume the whole payload. nsym_total
 * is the symbol count the caller expects; nsub must be consistent with it
 * (0 iff nsym_total is 0, at most nsym_total). NVC_ERR_CORRUPT on a bad or
 * truncated header, NVC_ERR(ENOMEM). */
int nvc_rans_payload_open(NvcRansPayload *pl, NvcByteReader *br, uint64_t nsym_total);
void nvc_rans_payload_close(NvcRansPayload *pl);

/* Start decoding a sub-stream of nsym logical symbols. */
int nvc_rans_dec_init(NvcRansDecoder *d, const uint8_t *buf, size_t size, uint64_t nsym);
/* 0 when every symbol was decoded, all bytes consumed and every lane is back
 * at L; NVC_ERR_CORRUPT otherwise. */
int nvc_rans_dec_finish(const NvcRansDecoder *d);

/* Write the sub-stream produced by backward encoding into lanes x[] (the
 * first nlanes are flushed) followed by the words in bb. */
int nvc_rans_flush(NvcRansBackBuf *bb, const uint64_t *x, uint32_t nlanes);

/* Assemble a payload: header then the sub-streams. NVC_ERR(ERANGE) when a
 * sub-stream exceeds 4 GiB, NVC_ERR(ENOMEM). */
int nvc_rans_payload_write(NvcByteWriter *bw, uint32_t nsub, NvcRansBackBuf *subs);

/* The first nonzero of err[0 .. n-1] (sub-streams coded in parallel report
 * the error of the lowest one, whatever the thread timing). */
static inline int nvc_rans_first_error(const int *err, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        if (err[j])
            return err[j];
    return 0;
}

/* ---- symbol-at-a-time coding ------------------------------------------- */

/* Records symbols in decode order; nvc_rans_writer_finish encodes them in
 * reverse. A logical symbol (a table symbol with its escape, an interval,
 * or up to 32 raw bits) takes one lane. */
typedef struct NvcRansWriter {
    uint64_t *ops;   /* start | (freq - 1) << 16 | lane << 32 */
    size_t nops, cap;
    uint64_t *sub_ops;  /* ops of each finished sub-stream */
    uint64_t *sub_syms; /* logical symbols of each finished sub-stream */
    uint32_t nsub, cap_sub;
    uint64_t syms;      /* logical symbols in the open sub-stream */
    size_t ops0;        /* first op of the open sub-stream */
    int error;
} NvcRansWriter;

void nvc_rans_writer_init(NvcRansWriter *w);
void nvc_rans_writer_free(NvcRansWriter *w);
/* Code value with table tab of set (escape when outside the table; the
 * escape reaches table offset - 2^34 .. offset + nval + 2^34 - 1). */
int nvc_rans_writer_put(NvcRansWriter *w, const NvcCdfSet *set, uint32_t tab, int64_t value);
/* Code an explicit interval [start, start + freq) of 2^16, freq >= 1. */
int nvc_rans_writer_put_interval(NvcRansWriter *w, uint32_t start, uint32_t freq);
/* Code nbits (0..32) raw bits. */
int nvc_rans_writer_put_bits(NvcRansWriter *w, uint32_t bits, int nbits);
/* Close the current sub-stream (the next symbols go to a new one). */
int nvc_rans_writer_split(NvcRansWriter *w);
/* Encode everything and append the payload to bw (closes the open
 * sub-stream when it has symbols). The writer may be reused afterwards. */
int nvc_rans_writer_finish(NvcRansWriter *w, NvcByteWriter *bw);

/* Decoder counterparts (on a decoder from nvc_rans_dec_init). Each returns
 * 0 or NVC_ERR_CORRUPT; errors are sticky. nvc_rans_dec_get's value covers
 * the writer's range (not limited to int32). */
int nvc_rans_dec_get(NvcRansDecoder *d, const NvcCdfSet *set, uint32_t tab, int64_t *value);
/* Interval coding in two steps: read the slot, find the interval, consume it. */
uint32_t nvc_rans_dec_peek(const NvcRansDecoder *d);
int nvc_rans_dec_consume(NvcRansDecoder *d, uint32_t start, uint32_t freq);
int nvc_rans_dec_get_bits(NvcRansDecoder *d, int nbits, uint32_t *bits);

#endif /* NVC_ENTROPY_RANS_H */
