/*
 * Engine context, backend memory and tensor arenas.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/nn.h"
#include "nn/rng.h"
#ifdef NVC_HAVE_CUDA
#include "nn/cuda/cuda.h"
#endif

int nvc_nn_create(NvcNn **pnn, enum NvcNnBackend backend, int threads, const NvcLogger *logger)
{
    *pnn = NULL;
#ifndef NVC_HAVE_CUDA
    if (backend == NVC_NN_CUDA)
        return nvc_log_error(logger, NVC_ERR(ENOSYS), "nn: this build has no CUDA backend");
#endif
    if (backend != NVC_NN_CPU && backend != NVC_NN_CUDA)
        return NVC_ERR(EINVAL);
    NvcNn *nn = calloc(1, sizeof(*nn));
    if (!nn)
        return NVC_ERR(ENOMEM);
    if (logger)
        nn->logger = *logger;
#ifdef _OPENMP
    nn->threads = threads > 0 ? threads : omp_get_max_threads();
#else
    nn->threads = 1;
#endif
    nn->backend = backend;
    nn->ops = &nvc_nn_cpu_ops;
    nvc_sgemm_init();
#ifdef NVC_HAVE_CUDA
    if (backend == NVC_NN_CUDA) {
        int ret = nvc_cuda_init(nn);
        if (ret < 0) {
            free(nn);
            return ret;
        }
        nn->ops = &nvc_nn_cuda_ops;
    }
#endif
    *pnn = nn;
    return 0;
}

void nvc_nn_free(NvcNn **pnn)
{
    NvcNn *nn = *pnn;
    if (!nn)
        return;
#ifdef NVC_HAVE_CUDA
    if (nn->cuda)
        nvc_cuda_uninit(nn);
#endif
    nvc_free_aligned(nn->scratch);
    free(nn);
    *pnn = NULL;
}

int nvc_nn_fail(NvcNn *nn, int err, const char *fmt, ...)
{
    if (nn->err)
        return err;
    nn->err = err;
    if (nn->logger.callback) {
        va_list ap;
        va_start(ap, fmt);
        nn->logger.callback(nn->logger.cookie, NVC_LOG_ERROR, fmt, ap);
        va_end(ap);
    }
    return err;
}

int nvc_nn_error(NvcNn *nn)
{
#ifdef NVC_HAVE_CUDA
    if (nn->cuda)
        nvc_cuda_sync(nn);
#endif
    int err = nn->err;
    nn->err = 0;
    return err;
}

float *nvc_nn_alloc(NvcNn *nn, size_t n)
{
    size_t bytes;
    if (!n || nvc_mul_size(n, sizeof(float), &bytes))
        return NULL;
#ifdef NVC_HAVE_CUDA
    if (nn->backend == NVC_NN_CUDA)
        return nvc_cuda_alloc(nn, n);
#endif
    float *p = nvc_malloc_aligned(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void nvc_nn_release(NvcNn *nn, float *p)
{
#ifdef NVC_HAVE_CUDA
    if (nn->backend == NVC_NN_CUDA) {
        nvc_cuda_release(nn, p);
        return;
    }
#endif
    nvc_free_aligned(p);
}

int nvc_nn_upload(NvcNn *nn, float *dst, const float *src, size_t n)
{
#ifdef NVC_HAVE_CUDA
    if (nn->backend == NVC_NN_CUDA)
        return nvc_cuda_copy(nn, dst, src, n, 1);
#endif
    if (n)
        memcpy(dst, src, n * sizeof(float));
    return 0;
}

int nvc_nn_download(NvcNn *nn, float *dst, const float *src, size_t n)
{
#ifdef NVC_HAVE_CUDA
    if (nn->backend == NVC_NN_CUDA)
        return nvc_cuda_copy(nn, dst, src, n, 0);
#endif
    if (n)
        memcpy(dst, src, n * sizeof(float));
    return 0;
}

float *nvc_nn_scratch(NvcNn *nn, size_t n)
{
    if (n <= nn->scratch_size)
        return nn->scratch;
    size_t bytes;
    size_t grow = n + n / 4;
    nvc_free_aligned(nn->scratch);
    nn->scratch_size = 0;
    nn->scratch = nvc_mul_size(grow, sizeof(float), &bytes) ? NULL : nvc_malloc_aligned(bytes);
    if (!nn->scratch) {
        nvc_nn_fail(nn, NVC_ERR(ENOMEM), "nn: out of memory for %zu floats of scratch", n);
        return NULL;
    }
    nn->scratch_size = grow;
    return nn->scratch;
}

double *nvc_nn_partials(NvcNn *nn, size_t nb)
{
    return (double *)nvc_nn_scratch(nn, 2 * nb + 2);
}

const NvcNnOps nvc_nn_cpu_ops = {
    .name = "cpu",
#define NVC_OP(op, args) .op = nvc_##op,
#include "nn/ops_list.h"
#undef NVC_OP
};

/* ---- arenas -------------------------------------------------------------------- */

static int shape_ok(NvcShape s, size_t *numel)
{
    size_t n = 1;
    if (s.ndim < 1 || s.ndim > NVC_MAX_DIMS)
        return 0;
    for (int i = 0; i < s.ndim; i++)
        if (s.d[i] <= 0 || nvc_mul_size(n, (size_t)s.d[i], &n))
            return 0;
    *numel = n;
    return 1;
}

static int shape_eq(NvcShape a, NvcShape b)
{
    if (a.ndim != b.ndim)
        return 0;
    for (int i = 0; i < a.ndim; i++)
        if (a.d[i] != b.d[i])
            return 0;
    return 1;
}

static float *arena_append(NvcArena *a, NvcInit init, NvcShape shape, size_t numel, const char *name)
{
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        NvcTensorInfo *t = realloc(a->t, (size_t)cap * sizeof(*t));
        if (!t) {
            a->err = NVC_ERR(ENOMEM);
            return NULL;
        }
        a->t = t;
        a->cap = cap;
    }
    NvcTensorInfo *ti = &a->t[a->n++];
    memset(ti, 0, sizeof(*ti));
    snprintf(ti->name, sizeof(ti->name), "%s", name);
    ti->shape = shape;
    ti->numel = numel;
    ti->offset = a->top;
    ti->init = init;
    ti->decay = shape.ndim >= 2;
    a->top += NVC_ALIGN(numel, NVC_TENSOR_ALIGN);
    if (a->top > a->size)
        a->size = a->top;
    a->pos++;
    return NULL;
}

float *nvc_tensor(NvcArena *a, NvcInit init, NvcShape shape, const char *fmt, ...)
{
    char name[NVC_TENSOR_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    size_t numel;
    if (a->err)
        return NULL;
    if (len < 0 || len >= (int)sizeof(name)) { /* truncated names could collide */
        a->err = NVC_ERR(ENAMETOOLONG);
        return NULL;
    }
    if (!shape_ok(shape, &numel)) {
        a->err = NVC_ERR(EINVAL);
        return NULL;
    }
    if (!a->frozen)
        return arena_append(a, init, shape, numel, name);
    if (a->pos >= a->n || !shape_eq(a->t[a->pos].shape, shape) || strcmp(a->t[a->pos].name, name)) {
        a->err = NVC_ERR(EINVAL); /* the declaration function is not deterministic */
        return NULL;
    }
    const NvcTensorInfo *ti = &a->t[a->pos++];
    return a->base ? a->base + ti->offset : NULL;
}

void nvc_arena_bind(NvcArena *a, float *base)
{
    if (a->pos != a->n)
        a->err = NVC_ERR(EINVAL); /* the last pass declared fewer tensors */
    a->frozen = 1;
    a->base = base;
    a->pos = 0;
}

size_t nvc_arena_mark(const NvcArena *a)
{
    return a->top;
}

void nvc_arena_rewind(NvcArena *a, size_t mark)
{
    if (!a->frozen && mark <= a->top)
        a->top = mark;
}

int nvc_arena_check(const NvcArena *a)
{
    if (a->err)
        return a->err;
    return a->pos == a->n ? 0 : NVC_ERR(EINVAL);
}

void nvc_arena_free(NvcArena *a)
{
    free(a->t);
    memset(a, 0, sizeof(*a));
}

int nvc_arena_find(const NvcArena *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->t[i].name, name))
            return i;
    return -1;
}

size_t nvc_arena_numel(const NvcArena *a)
{
    size_t n = 0;
    for (int i = 0; i < a->n; i++)
        n += a->t[i].numel;
    return n;
}

/* ---- initialization ------------------------------------------------------------------ */

static double unit_open(uint64_t key, uint64_t i)
{
    /* (0, 1]: safe for log() */
    return ((double)(nvc_philox_u32(key, i) >> 8) + 1.0) * (1.0 / 16777216.0);
}

static double normal_at(uint64_t key, uint64_t i)
{
    /* Box-Muller on words 2i, 2i+1 */
    double u1 = unit_open(key, 2 * i), u2 = unit_open(key, 2 * i + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Inverse of the standard normal CDF (Acklam's rational approximation,
 * refined by one Halley step; |error| < 1e-13). */
static double norm_ppf(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00 };
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = 0.5 * erfc(-x / M_SQRT2) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

static void fans(const NvcShape *s, double *fan_in, double *fan_out)
{
    double rf = 1;
    for (int i = 2; i < s->ndim; i++)
        rf *= s->d[i];
    *fan_in = s->ndim >= 2 ? s->d[1] * rf : s->d[0];
    *fan_out = s->d[0] * rf;
}

static void init_tensor(const NvcTensorInfo *t, float *x, uint64_t key)
{
    double fi, fo, a = t->init.a, bound = 0, std = 0;
    int kind = t->init.kind, uniform = 0;
    fans(&t->shape, &fi, &fo);
    switch (kind) {
    case NVC_INIT_NONE: return;
    case NVC_INIT_ZERO: memset(x, 0, t->numel * sizeof(float)); return;
    case NVC_INIT_ONE: a = 1; /* fall through */
    case NVC_INIT_CONST:
        for (size_t i = 0; i < t->numel; i++)
            x[i] = (float)a;
        return;
    case NVC_INIT_UNIFORM: bound = a, uniform = 1; break;
    case NVC_INIT_NORMAL: std = a; break;
    case NVC_INIT_KAIMING_UNIFORM: bound = a * sqrt(3.0 / fi), uniform = 1; break;
    case NVC_INIT_KAIMING_NORMAL: std = a / sqrt(fi); break;
    case NVC_INIT_XAVIER_UNIFORM: bound = a * sqrt(6.0 / (fi + fo)), uniform = 1; break;
    case NVC_INIT_XAVIER_NORMAL: std = a * sqrt(2.0 / (fi + fo)); break;
    case NVC_INIT_TORCH_DEFAULT: bound = 1.0 / sqrt(a > 0 ? a : fi), uniform = 1; break;
    case NVC_INIT_TRUNC_NORMAL: {
        /* inverse CDF on [Phi(-2), Phi(2)] */
        double lo = 0.5 * erfc(2.0 / M_SQRT2), hi = 1.0 - lo;
        for (size_t i = 0; i < t->numel; i++) {
            double u = lo + (hi - lo) * ((double)(nvc_philox_u32(key, i) >> 8) + 0.5) / 16777216.0;
            x[i] = (float)(a * norm_ppf(u));
        }
        return;
    }
    default: return;
    }
    for (size_t i = 0; i < t->numel; i++) {
        if (uniform)
            x[i] = (float)(bound * (2.0 * nvc_u32_to_unit(nvc_philox_u32(key, i)) - 1.0));
        else
            x[i] = (float)(std * normal_at(key, i));
    }
}

void nvc_arena_init_params(const NvcArena *a, float *host_base, uint64_t seed)
{
    for (int i = 0; i < a->n; i++) {
        /* one stream per tensor, keyed by the seed and the tensor's name (FNV-1a) */
        uint64_t h = 0xcbf29ce484222325u;
        for (const char *c = a->t[i].name; *c; c++)
            h = (h ^ (uint8_t)*c) * 0x100000001b3u;
        NvcPhilox k = nvc_philox4x32(seed, h);
        uint64_t key = (uint64_t)k.v[0] | (uint64_t)k.v[1] << 32;
        init_tensor(&a->t[i], host_base + a->t[i].offset, key);
    }
}
