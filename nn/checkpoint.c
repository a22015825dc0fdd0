/*
 * Versioned checkpoints (format in nn/checkpoint.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/crc.h"
#include "codec/file.h"
#include "codec/internal.h"
#include "nn/checkpoint.h"

static const uint8_t magic[8] = { 'N', 'V', 'C', 'C', 'K', 'P', 'T', 0 };

static void write_floats(NvcByteWriter *bw, const NvcArena *a, const float *base)
{
    for (int i = 0; i < a->n; i++) {
        const float *x = base + a->t[i].offset;
        for (size_t j = 0; j < a->t[i].numel; j++) {
            uint32_t u;
            memcpy(&u, &x[j], 4);
            nvc_bw_u32(bw, u);
        }
    }
}

int nvc_checkpoint_write(NvcByteWriter *bw, const NvcArena *layout, const float *params, const float *m,
                         const float *v, uint64_t step)
{
    const int adam = m && v;
    nvc_bw_bytes(bw, magic, sizeof(magic));
    nvc_bw_u32(bw, NVC_CHECKPOINT_VERSION);
    nvc_bw_u32(bw, adam);
    nvc_bw_u64(bw, step);
    nvc_bw_u32(bw, (uint32_t)layout->n);
    for (int i = 0; i < layout->n; i++) {
        const NvcTensorInfo *t = &layout->t[i];
        size_t len = strlen(t->name);
        nvc_bw_u16(bw, (unsigned)len);
        nvc_bw_bytes(bw, t->name, len);
        nvc_bw_u8(bw, (unsigned)t->shape.ndim);
        for (int d = 0; d < t->shape.ndim; d++)
            nvc_bw_u32(bw, (uint32_t)t->shape.d[d]);
    }
    write_floats(bw, layout, params);
    if (adam) {
        write_floats(bw, layout, m);
        write_floats(bw, layout, v);
    }
    nvc_bw_u32(bw, bw->error ? 0 : nvc_crc32(0, bw->buf, bw->sz));
    return bw->error ? NVC_ERR(ENOMEM) : 0;
}

static void fmt_shape(char *buf, size_t sz, const NvcShape *s)
{
    size_t o = 0;
    buf[0] = 0;
    for (int d = 0; d < s->ndim && o < sz; d++)
        o += (size_t)snprintf(buf + o, sz - o, d ? "x%d" : "%d", s->d[d]);
}

/* Check the tensor table against the model's; the reader is left at the data. */
static int read_table(NvcByteReader *br, const NvcArena *a, const NvcLogger *lg)
{
    uint32_t n = nvc_br_u32(br);
    if (br->error)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: truncated header");
    if (n != (uint32_t)a->n)
        return nvc_log_error(lg, NVC_ERR(EINVAL), "checkpoint: %u tensors, the model has %d", n, a->n);
    for (int i = 0; i < a->n; i++) {
        const NvcTensorInfo *t = &a->t[i];
        char name[NVC_TENSOR_NAME_MAX], want[64], got[64];
        unsigned len = nvc_br_u16(br);
        const uint8_t *p = nvc_br_bytes(br, len);
        NvcShape s = { nvc_br_u8(br), { 0 } };
        if (br->error || len >= sizeof(name) || s.ndim < 1 || s.ndim > NVC_MAX_DIMS)
            return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: bad entry for tensor %d", i);
        memcpy(name, p, len);
        name[len] = 0;
        for (int d = 0; d < s.ndim; d++) {
            uint32_t v = nvc_br_u32(br);
            s.d[d] = (int)NVC_MIN(v, (uint32_t)INT32_MAX);
        }
        if (br->error)
            return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: truncated table");
        int same = s.ndim == t->shape.ndim && !strcmp(name, t->name);
        for (int d = 0; same && d < s.ndim; d++)
            same = s.d[d] == t->shape.d[d];
        if (!same) {
            fmt_shape(want, sizeof(want), &t->shape);
            fmt_shape(got, sizeof(got), &s);
            return nvc_log_error(lg, NVC_ERR(EINVAL), "checkpoint: tensor %d is '%s' (%s), the model expects '%s' (%s)",
                                 i, name, got, t->name, want);
        }
    }
    return 0;
}

static void read_floats(NvcByteReader *br, const NvcArena *a, float *base)
{
    for (int i = 0; i < a->n; i++) {
        float *x = base ? base + a->t[i].offset : NULL;
        for (size_t j = 0; j < a->t[i].numel; j++) {
            uint32_t u = nvc_br_u32(br);
            if (x)
                memcpy(&x[j], &u, 4);
        }
    }
}

int nvc_checkpoint_read(const uint8_t *buf, size_t sz, const NvcArena *layout, float *params, float *m, float *v,
                        uint64_t *step, const NvcLogger *lg)
{
    NvcByteReader br;
    if (sz < sizeof(magic) + 4 || memcmp(buf, magic, sizeof(magic)))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: not an nvc checkpoint (bad magic)");
    uint32_t crc = (uint32_t)buf[sz - 4] << 24 | (uint32_t)buf[sz - 3] << 16 | (uint32_t)buf[sz - 2] << 8 | buf[sz - 1];
    if (crc != nvc_crc32(0, buf, sz - 4))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: checksum mismatch (damaged or truncated file)");
    nvc_br_init(&br, buf + sizeof(magic), sz - sizeof(magic) - 4);
    uint32_t version = nvc_br_u32(&br), flags = nvc_br_u32(&br);
    uint64_t st = nvc_br_u64(&br);
    if (br.error)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: truncated header");
    if (version != NVC_CHECKPOINT_VERSION)
        return nvc_log_error(lg, version > NVC_CHECKPOINT_VERSION ? NVC_ERR(ENOTSUP) : NVC_ERR_CORRUPT,
                             "checkpoint: version %u, this build reads version %d", version, NVC_CHECKPOINT_VERSION);
    if (flags > 1)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: unknown flags 0x%x", flags);
    int ret = read_table(&br, layout, lg);
    if (ret < 0)
        return ret;
    size_t need = nvc_arena_numel(layout) * 4 * (flags & 1 ? 3 : 1);
    if (nvc_br_left(&br) != need)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "checkpoint: %zu bytes of data, the table needs %zu",
                             nvc_br_left(&br), need);
    read_floats(&br, layout, params);
    if (flags & 1) {
        read_floats(&br, layout, m);
        read_floats(&br, layout, v);
    } else {
        if (m)
            memset(m, 0, layout->size * sizeof(float));
        if (v)
            memset(v, 0, layout->size * sizeof(float));
    }
    if (step)
        *step = st;
    return br.error ? NVC_ERR_CORRUPT : 0;
}

int nvc_checkpoint_save(const char *path, const NvcArena *layout, const float *params, const float *m,
                        const float *v, uint64_t step, const NvcLogger *lg)
{
    NvcByteWriter bw = { 0 };
    NvcAtomicFile af = { 0 };
    int ret = nvc_checkpoint_write(&bw, layout, params, m, v, step);
    if (ret >= 0)
        ret = nvc_atomic_open(&af, path, lg);
    if (ret >= 0) {
        int ok = fwrite(bw.buf, 1, bw.sz, af.f) == bw.sz;
        ret = nvc_atomic_close(&af, ok, lg);
        if (!ok && ret >= 0)
            ret = nvc_log_error(lg, NVC_ERR(EIO), "checkpoint: cannot write %s", path);
    }
    nvc_bw_free(&bw);
    return ret;
}

int nvc_checkpoint_load(const char *path, const NvcArena *layout, float *params, float *m, float *v,
                        uint64_t *step, const NvcLogger *lg)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nvc_log_error(lg, NVC_ERR(errno), "checkpoint: cannot open %s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t sz = 0, cap = 0;
    int ret = 0;
    for (;;) {
        if (sz == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *nb = cap > ((size_t)1 << 40) ? NULL : realloc(buf, cap);
            if (!nb) {
                ret = NVC_ERR(ENOMEM);
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + sz, 1, cap - sz, f);
        sz += r;
        if (r == 0) {
            if (ferror(f))
                ret = nvc_log_error(lg, NVC_ERR(EIO), "checkpoint: cannot read %s", path);
            break;
        }
    }
    fclose(f);
    if (!ret)
        ret = nvc_checkpoint_read(buf, sz, layout, params, m, v, step, lg);
    free(buf);
    return ret;
}

int nvc_checkpoint_save_model(const char *path, NvcNn *nn, const NvcArena *layout, const float *p,
                              const NvcAdam *opt, uint64_t step, const NvcLogger *lg)
{
    const size_t n = layout->size;
    const int adam = opt->m != NULL;
    float *h = malloc((adam ? 3 : 1) * n * sizeof(float));
    if (!h)
        return NVC_ERR(ENOMEM);
    int ret = nvc_nn_download(nn, h, p, n);
    if (!ret && adam)
        ret = nvc_nn_download(nn, h + n, opt->m, n);
    if (!ret && adam)
        ret = nvc_nn_download(nn, h + 2 * n, opt->v, n);
    if (!ret)
        ret = nvc_checkpoint_save(path, layout, h, adam ? h + n : NULL, adam ? h + 2 * n : NULL, step, lg);
    free(h);
    return ret;
}

int nvc_checkpoint_load_model(const char *path, NvcNn *nn, const NvcArena *layout, float *p, NvcAdam *opt,
                              uint64_t *step, const NvcLogger *lg)
{
    const size_t n = layout->size;
    const int adam = opt->m != NULL;
    float *h = calloc((adam ? 3 : 1) * n, sizeof(float));
    if (!h)
        return NVC_ERR(ENOMEM);
    int ret = nvc_checkpoint_load(path, layout, h, adam ? h + n : NULL, adam ? h + 2 * n : NULL, step, lg);
    if (!ret)
        ret = nvc_nn_upload(nn, p, h, n);
    if (!ret && adam) {
        ret = nvc_nn_upload(nn, opt->m, h + n, n);
        if (!ret)
            ret = nvc_nn_upload(nn, opt->v, h + 2 * n, n);
        opt->step = (int)*step;
    }
    free(h);
    return ret;
}
