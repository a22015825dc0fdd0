/*
 * Neural-network engine (internal): context, backends, tensor arenas.
 *
 * A model declares its tensors once, in one function that takes an arena:
 *
 *   static void tiny_tensors(NvcArena *a, TinyParams *p, int C)
 *   {
 *       p->conv_w = nvc_tensor(a, NVC_INIT_KAIMING_UNIFORM, NVC_SHAPE(C, 3, 3, 3), "conv.weight");
 *       p->conv_b = nvc_tensor(a, NVC_INIT_ZERO, NVC_SHAPE(C), "conv.bias");
 *   }
 *
 * The first call on an empty arena records the table of tensors (name,
 * shape, offset); every later call after nvc_arena_bind(a, base) points the
 * struct's fields into that buffer, checking the same layout. So parameters,
 * gradients and Adam moments share one layout: one call per buffer, and the
 * optimizer is one loop over flat buffers. The parameter buffer is also what
 * is quantized and entropy coded. Activations use a second arena the same way.
 *
 * Ops (nn/ops_list.h) are called through the backend's table, nn->ops, so one
 * model definition runs on the CPU and on CUDA:
 *   nn->ops->conv2d_forward(nn, out, inp, w, b, B, Cin, H, W, Cout, 3, 1, 1, 1);
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_NN_H
#define NVC_NN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "nvc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NvcNn NvcNn;

/* The op table of a backend (one member per op of nn/ops_list.h). */
typedef struct NvcNnOps {
    const char *name; /* "cpu", "cuda" */
#define NVC_OP(name, args) void(*name) args;
#include "nn/ops_list.h"
#undef NVC_OP
} NvcNnOps;

/* CPU ops: nvc_conv2d_forward, ... */
#define NVC_OP(name, args) void nvc_##name args;
#include "nn/ops_list.h"
#undef NVC_OP

extern const NvcNnOps nvc_nn_cpu_ops;

enum NvcNnBackend {
    NVC_NN_CPU = 0,
    NVC_NN_CUDA = 1,
};

/* Activations of the fused ops (pixel_shuffle_act_*). */
enum NvcNnAct {
    NVC_ACT_GELU = 0,
    NVC_ACT_SILU = 1,
};

/* Floors of the rate terms (CompressAI's LowerBound and likelihood bound). */
#define NVC_RATE_SCALE_MIN 0.11f
#define NVC_RATE_P_MIN 1e-9

/* Engine context. Not thread-safe: one context per thread of work; every op
 * on it may use all of its threads internally. */
struct NvcNn {
    const NvcNnOps *ops;
    enum NvcNnBackend backend;
    int threads;           /* CPU threads every op uses (OpenMP) */
    int err;               /* first error of an op (sticky), 0 when none */
    NvcLogger logger;
    float *scratch;        /* CPU scratch (grown on demand) */
    size_t scratch_size;   /* in floats */
    struct NvcCuda *cuda;  /* CUDA state (stream, cuBLAS, device scratch) */
};

/* New context. threads <= 0: OpenMP's default. NVC_ERR(ENOSYS) for CUDA in a
 * build without it, NVC_ERR(ENODEV) without a device. */
int nvc_nn_create(NvcNn **pnn, enum NvcNnBackend backend, int threads, const NvcLogger *logger);
void nvc_nn_free(NvcNn **pnn);

/* First error an op ran into since the last call (then cleared); on CUDA
 * also waits for the queued work. */
int nvc_nn_error(NvcNn *nn);

/* Set the sticky error (first one wins) and log it; returns err. */
int nvc_nn_fail(NvcNn *nn, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Backend memory: n floats, zeroed; NULL on failure (or n = 0). */
float *nvc_nn_alloc(NvcNn *nn, size_t n);
void nvc_nn_release(NvcNn *nn, float *p);
/* Host <-> backend copies of n floats (plain memcpy on the CPU). */
int nvc_nn_upload(NvcNn *nn, float *dst, const float *src, size_t n);
int nvc_nn_download(NvcNn *nn, float *dst, const float *src, size_t n);

/* CPU scratch of at least n floats, valid until the next call; NULL (and the
 * sticky error set) on allocation failure. */
float *nvc_nn_scratch(NvcNn *nn, size_t n);

/* ---- tensors and arenas ------------------------------------------------------ */
#define NVC_MAX_DIMS 4
#define NVC_TENSOR_NAME_MAX 64
/* Every tensor starts at a multiple of this many floats (64 bytes). */
#define NVC_TENSOR_ALIGN 16

typedef struct NvcShape {
    int ndim;
    int d[NVC_MAX_DIMS];
} NvcShape;

#define NVC_NARG_(a, b, c, d, n, ...) n
#define NVC_NARG(...) NVC_NARG_(__VA_ARGS__, 4, 3, 2, 1, 0)
/* NVC_SHAPE(C, 3, 3, 3): a shape of 1 to 4 dimensions. */
#define NVC_SHAPE(...) ((NvcShape){ NVC_NARG(__VA_ARGS__), { __VA_ARGS__ } })

enum NvcInitKind {
    NVC_INIT_NONE = 0,        /* activations: left as allocated (zero) */
    NVC_INIT_ZERO,
    NVC_INIT_ONE,
    NVC_INIT_CONST,           /* a */
    NVC_INIT_UNIFORM,         /* U(-a, a) */
    NVC_INIT_NORMAL,          /* N(0, a^2) */
    NVC_INIT_TRUNC_NORMAL,    /* N(0, a^2) truncated to [-2a, 2a] */
    NVC_INIT_KAIMING_UNIFORM, /* U(-b, b), b = gain * sqrt(3 / fan_in), gain a (sqrt 2 for ReLU) */
    NVC_INIT_KAIMING_NORMAL,  /* N(0, (gain / sqrt(fan_in))^2) */
    NVC_INIT_XAVIER_UNIFORM,  /* U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) */
    NVC_INIT_XAVIER_NORMAL,   /* N(0, gain^2 * 2 / (fan_in + fan_out)) */
    NVC_INIT_TORCH_DEFAULT,   /* PyTorch's Conv/Linear default: U(-1/sqrt(a), 1/sqrt(a)), a = fan_in
                                 (a = 0: the tensor's own fan_in) */
};

typedef struct NvcInit {
    enum NvcInitKind kind;
    float a;
} NvcInit;

#define NVC_INIT(kind, a) ((NvcInit){ (kind), (a) })
#define NVC_INIT_ZEROED ((NvcInit){ NVC_INIT_ZERO, 0.0f })

/* One tensor of an arena: what a checkpoint, a quantizer or an entropy coder
 * needs to know about it. fan_in = d[1] * d[2] * d[3] (PyTorch's rule),
 * fan_out = d[0] * d[2] * d[3]. */
typedef struct NvcTensorInfo {
    char name[NVC_TENSOR_NAME_MAX];
    NvcShape shape;
    size_t offset; /* in floats from the arena base, a multiple of NVC_TENSOR_ALIGN */
    size_t numel;
    NvcInit init;
    int decay; /* weight decay applies (default: tensors of 2 or more dimensions) */
} NvcTensorInfo;

typedef struct NvcArena {
    NvcTensorInfo *t;
    int n, cap;
    size_t size;   /* floats, alignment padding included (the peak of top) */
    size_t top;    /* layout pass: where the next tensor goes (nvc_arena_rewind) */
    float *base;   /* buffer the next declaration pass points into; NULL: layout pass */
    int pos;       /* tensors seen in the current pass */
    int frozen;    /* layout recorded: later passes must match it */
    int err;       /* first error (bad shape, mismatch, out of memory) */
} NvcArena;

/* Declare (or, once bound, point to) the next tensor. Returns base + offset,
 * NULL in the layout pass or on error (then a->err is set). */
float *nvc_tensor(NvcArena *a, NvcInit init, NvcShape shape, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Starts a pass over the recorded layout that points tensors into base
 * (base must hold a->size floats). Freezes the layout. */
void nvc_arena_bind(NvcArena *a, float *base);
/* Scopes of an activation arena (inference layouts): tensors declared after
 * nvc_arena_rewind(a, nvc_arena_mark(a) taken earlier) reuse the memory of
 * those declared between the two calls, which must be dead by then. Only the
 * layout pass moves anything; later passes follow the recorded offsets. A
 * parameter arena never rewinds (checkpoints assume disjoint tensors). */
size_t nvc_arena_mark(const NvcArena *a);
void nvc_arena_rewind(NvcArena *a, size_t mark);
/* 0 when every pass so far declared the recorded layout completely. */
int nvc_arena_check(const NvcArena *a);
void nvc_arena_free(NvcArena *a);
/* Index of the tensor with this name, or -1. */
int nvc_arena_find(const NvcArena *a, const char *name);
/* Number of parameters (without the alignment padding). */
size_t nvc_arena_numel(const NvcArena *a);

/* Initialize every tensor of a host buffer laid out by a according to its
 * init, from a counter-based generator keyed by (seed, tensor name): a
 * tensor's values do not depend on the other tensors of the model. */
void nvc_arena_init_params(const NvcArena *a, float *host_base, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif /* NVC_NN_NN_H */
