/*
 * Agreement with PyTorch (as llm.c's test_gpt2.c): the network of
 * tests/nn_torch_ref.py, built from nn ops with the weights PyTorch used,
 * must reproduce its output, each loss term and every gradient stored in
 * tests/data/nn_torch_ref.bin. Regenerate that file with
 *     /usr/bin/python3 tests/nn_torch_ref.py tests/data/nn_torch_ref.bin
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "codec/bytes.h"
#include "codec/internal.h"
#include "nn/nn.h"

/* ---- the reference file --------------------------------------------------------------- */

typedef struct Rec {
    char name[64];
    NvcShape shape;
    size_t n;
    float *v;
} Rec;

static Rec recs[64];
static int nrec;

static int load_ref(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static uint8_t buf[1 << 20];
    size_t sz = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    NvcByteReader br;
    nvc_br_init(&br, buf, sz);
    const uint8_t *magic = nvc_br_bytes(&br, 8);
    ck_assert_msg(magic && !memcmp(magic, "NVCTORCH", 8), "bad magic");
    ck_assert_uint_eq(nvc_br_u32(&br), 1); /* version */
    unsigned ml = nvc_br_u16(&br);
    const uint8_t *meta = nvc_br_bytes(&br, ml);
    ck_assert_ptr_nonnull(meta);
    fprintf(stderr, "reference: %.*s\n", (int)ml, (const char *)meta);
    uint32_t count = nvc_br_u32(&br);
    ck_assert(count <= NVC_ARRAY_SIZE(recs));
    for (uint32_t i = 0; i < count; i++) {
        Rec *r = &recs[nrec++];
        unsigned len = nvc_br_u16(&br);
        const uint8_t *p = nvc_br_bytes(&br, len);
        ck_assert(p && len < sizeof(r->name));
        memcpy(r->name, p, len);
        r->shape.ndim = nvc_br_u8(&br);
        ck_assert(r->shape.ndim <= NVC_MAX_DIMS);
        r->n = 1;
        for (int d = 0; d < r->shape.ndim; d++)
            r->n *= r->shape.d[d] = (int)nvc_br_u32(&br);
        r->v = malloc(r->n * sizeof(float));
        ck_assert(r->v && !br.error);
        for (size_t j = 0; j < r->n; j++) {
            uint32_t u = nvc_br_u32(&br);
            memcpy(&r->v[j], &u, 4);
        }
    }
    ck_assert(!br.error && nvc_br_left(&br) == 0);
    return 1;
}

static const Rec *ref(const char *fmt, const char *name)
{
    char full[96];
    snprintf(full, sizeof(full), fmt, name);
    for (int i = 0; i < nrec; i++)
        if (!strcmp(recs[i].name, full))
            return &recs[i];
    ck_abort_msg("no record %s in the reference file", full);
    return NULL;
}

/* ---- the network ---------------------------------------------------------------------------- */

typedef struct Params {
    float *stem_w, *stem_b; /* (24, 16, 1, 1), (24) */
    float *up1_w, *up1_b;   /* (32, 24, 3, 3), (32) */
    float *up2_w, *up2_b;   /* (24, 8, 5, 5), (24) */
    float *dw_w, *dw_b;     /* (6, 1, 5, 5), (6) */
    float *ln_w, *ln_b;     /* (6), (6) */
    float *film_scale, *film_shift; /* (6), (6) */
    float *head_w, *head_b; /* (3, 6, 3, 3), (3) */
    float *down_w, *down_b; /* (4, 6, 3, 3), (4) */
    float *rate_scale;      /* (4) */
    float *emb;             /* (1, 16, 4, 4): the input, here with a gradient */
} Params;

/* Names as PyTorch's named_parameters(). */
static void params(NvcArena *a, Params *p)
{
    NvcInit z = NVC_INIT_ZEROED;
    p->stem_w = nvc_tensor(a, z, NVC_SHAPE(24, 16, 1, 1), "stem.weight");
    p->stem_b = nvc_tensor(a, z, NVC_SHAPE(24), "stem.bias");
    p->up1_w = nvc_tensor(a, z, NVC_SHAPE(32, 24, 3, 3), "up1.weight");
    p->up1_b = nvc_tensor(a, z, NVC_SHAPE(32), "up1.bias");
    p->up2_w = nvc_tensor(a, z, NVC_SHAPE(24, 8, 5, 5), "up2.weight");
    p->up2_b = nvc_tensor(a, z, NVC_SHAPE(24), "up2.bias");
    p->dw_w = nvc_tensor(a, z, NVC_SHAPE(6, 1, 5, 5), "dw.weight");
    p->dw_b = nvc_tensor(a, z, NVC_SHAPE(6), "dw.bias");
    p->ln_w = nvc_tensor(a, z, NVC_SHAPE(6), "ln_w");
    p->ln_b = nvc_tensor(a, z, NVC_SHAPE(6), "ln_b");
    p->film_scale = nvc_tensor(a, z, NVC_SHAPE(6), "film_scale");
    p->film_shift = nvc_tensor(a, z, NVC_SHAPE(6), "film_shift");
    p->head_w = nvc_tensor(a, z, NVC_SHAPE(3, 6, 3, 3), "head.weight");
    p->head_b = nvc_tensor(a, z, NVC_SHAPE(3), "head.bias");
    p->down_w = nvc_tensor(a, z, NVC_SHAPE(4, 6, 3, 3), "down.weight");
    p->down_b = nvc_tensor(a, z, NVC_SHAPE(4), "down.bias");
    p->rate_scale = nvc_tensor(a, z, NVC_SHAPE(4), "rate_scale");
    p->emb = nvc_tensor(a, z, NVC_SHAPE(1, 16, 4, 4), "input.emb");
}

typedef struct Acts {
    float *h0c, *h0, *u1c, *u1p, *h1, *u2c, *u2p, *h2; /* stem, up1, up2 */
    float *d, *mean, *rstd, *n, *sl, *f, *up;          /* depthwise, LayerNorm, SiLU, FiLM, upsampling */
    float *hc, *th, *out;                              /* head */
    float *yc, *yl, *y4, *yq, *ones, *sc;              /* latent and its scales */
    float *mse, *l1, *ssim, *bits;
} Acts;

static void acts(NvcArena *a, Acts *x)
{
    NvcInit z = NVC_INIT_ZEROED;
    x->h0c = nvc_tensor(a, z, NVC_SHAPE(1, 24, 4, 4), "h0c");
    x->h0 = nvc_tensor(a, z, NVC_SHAPE(1, 24, 4, 4), "h0");
    x->u1c = nvc_tensor(a, z, NVC_SHAPE(1, 32, 4, 4), "u1c");
    x->u1p = nvc_tensor(a, z, NVC_SHAPE(1, 8, 8, 8), "u1p");
    x->h1 = nvc_tensor(a, z, NVC_SHAPE(1, 8, 8, 8), "h1");
    x->u2c = nvc_tensor(a, z, NVC_SHAPE(1, 24, 8, 8), "u2c");
    x->u2p = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "u2p");
    x->h2 = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "h2");
    x->d = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "d");
    x->mean = nvc_tensor(a, z, NVC_SHAPE(1, 256), "mean");
    x->rstd = nvc_tensor(a, z, NVC_SHAPE(1, 256), "rstd");
    x->n = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "n");
    x->sl = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "sl");
    x->f = nvc_tensor(a, z, NVC_SHAPE(1, 6, 16, 16), "f");
    x->up = nvc_tensor(a, z, NVC_SHAPE(1, 6, 32, 32), "up");
    x->hc = nvc_tensor(a, z, NVC_SHAPE(1, 3, 32, 32), "hc");
    x->th = nvc_tensor(a, z, NVC_SHAPE(1, 3, 32, 32), "th");
    x->out = nvc_tensor(a, z, NVC_SHAPE(1, 3, 32, 32), "out");
    x->yc = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "yc");
    x->yl = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "yl");
    x->y4 = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "y4");
    x->yq = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "yq");
    x->ones = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "ones");
    x->sc = nvc_tensor(a, z, NVC_SHAPE(1, 4, 8, 8), "sc");
    x->mse = nvc_tensor(a, z, NVC_SHAPE(1), "mse");
    x->l1 = nvc_tensor(a, z, NVC_SHAPE(1), "l1");
    x->ssim = nvc_tensor(a, z, NVC_SHAPE(1), "ssim");
    x->bits = nvc_tensor(a, z, NVC_SHAPE(1), "bits");
}

static void forward(NvcNn *nn, const Params *p, Acts *a, const float *target)
{
    const NvcNnOps *op = nn->ops;
    op->conv2d_forward(nn, a->h0c, p->emb, p->stem_w, p->stem_b, 1, 16, 4, 4, 24, 1, 1, 0, 1);
    op->gelu_forward(nn, a->h0, a->h0c, 24 * 16);
    op->conv2d_forward(nn, a->u1c, a->h0, p->up1_w, p->up1_b, 1, 24, 4, 4, 32, 3, 1, 1, 1);
    op->pixel_shuffle_forward(nn, a->u1p, a->u1c, 1, 8, 4, 4, 2);
    op->gelu_forward(nn, a->h1, a->u1p, 8 * 64);
    op->conv2d_forward(nn, a->u2c, a->h1, p->up2_w, p->up2_b, 1, 8, 8, 8, 24, 5, 1, 2, 1);
    op->pixel_shuffle_forward(nn, a->u2p, a->u2c, 1, 6, 8, 8, 2);
    op->gelu_forward(nn, a->h2, a->u2p, 6 * 256);
    op->conv2d_forward(nn, a->d, a->h2, p->dw_w, p->dw_b, 1, 6, 16, 16, 6, 5, 1, 2, 6);
    op->layernorm_forward(nn, a->n, a->mean, a->rstd, a->d, p->ln_w, p->ln_b, 1, 6, 256, 1e-6f);
    op->silu_forward(nn, a->sl, a->n, 6 * 256);
    op->chanmul_forward(nn, a->f, a->sl, p->film_scale, p->film_shift, 1, 6, 256, 0);
    op->upsample_bilinear_forward(nn, a->up, a->f, 1, 6, 16, 16, 2);
    op->conv2d_forward(nn, a->hc, a->up, p->head_w, p->head_b, 1, 6, 32, 32, 3, 3, 1, 1, 1);
    op->tanh_forward(nn, a->th, a->hc, 3 * 1024);
    op->affine_forward(nn, a->out, a->th, 0.5f, 0.5f, 3 * 1024);
    op->conv2d_forward(nn, a->yc, a->h2, p->down_w, p->down_b, 1, 6, 16, 16, 4, 3, 2, 1, 1);
    op->leaky_relu_forward(nn, a->yl, a->yc, 0.1f, 4 * 64);
    op->affine_forward(nn, a->y4, a->yl, 20.0f, 0.0f, 4 * 64);
    op->round_forward(nn, a->yq, a->y4, 4 * 64);
    for (int i = 0; i < 4 * 64; i++)
        a->ones[i] = 1.0f;
    op->chanmul_forward(nn, a->sc, a->ones, p->rate_scale, NULL, 1, 4, 64, 0); /* broadcast the scales */
    op->rate_gaussian_forward(nn, a->bits, a->yq, NULL, a->sc, 4 * 64);
    op->mse_forward(nn, a->mse, a->out, target, 3 * 1024);
    op->l1_forward(nn, a->l1, a->out, target, 3 * 1024);
    op->ssim_forward(nn, a->ssim, a->out, target, 1, 3, 32, 32);
}

/* total = mse + 0.5 l1 + 0.2 (1 - ssim) + 1e-3 bits */
static void backward(NvcNn *nn, const Params *p, const Acts *a, Params *g, Acts *d, const float *target)
{
    const NvcNnOps *op = nn->ops;
    op->mse_backward(nn, 1.0f, a->out, target, d->out, 3 * 1024);
    op->l1_backward(nn, 0.5f, a->out, target, d->out, 3 * 1024);
    op->ssim_backward(nn, -0.2f, a->out, target, d->out, 1, 3, 32, 32);
    op->rate_gaussian_backward(nn, 1e-3f, a->yq, NULL, a->sc, d->yq, NULL, d->sc, 4 * 64);
    op->chanmul_backward(nn, d->sc, a->ones, p->rate_scale, NULL, g->rate_scale, NULL, 1, 4, 64, 0);
    op->round_backward(nn, d->yq, d->y4, 4 * 64);
    op->affine_backward(nn, d->y4, d->yl, 20.0f, 4 * 64);
    op->leaky_relu_backward(nn, d->yl, a->yc, d->yc, 0.1f, 4 * 64);
    op->conv2d_backward(nn, d->yc, a->h2, p->down_w, d->h2, g->down_w, g->down_b, 1, 6, 16, 16, 4, 3, 2, 1, 1);
    op->affine_backward(nn, d->out, d->th, 0.5f, 3 * 1024);
    op->tanh_backward(nn, d->th, a->th, d->hc, 3 * 1024);
    op->conv2d_backward(nn, d->hc, a->up, p->head_w, d->up, g->head_w, g->head_b, 1, 6, 32, 32, 3, 3, 1, 1, 1);
    op->upsample_bilinear_backward(nn, d->up, d->f, 1, 6, 16, 16, 2);
    op->chanmul_backward(nn, d->f, a->sl, p->film_scale, d->sl, g->film_scale, g->film_shift, 1, 6, 256, 0);
    op->silu_backward(nn, d->sl, a->n, d->n, 6 * 256);
    op->layernorm_backward(nn, d->n, a->d, p->ln_w, a->mean, a->rstd, d->d, g->ln_w, g->ln_b, 1, 6, 256);
    op->conv2d_backward(nn, d->d, a->h2, p->dw_w, d->h2, g->dw_w, g->dw_b, 1, 6, 16, 16, 6, 5, 1, 2, 6);
    op->gelu_backward(nn, d->h2, a->u2p, d->u2p, 6 * 256);
    op->pixel_shuffle_backward(nn, d->u2p, d->u2c, 1, 6, 8, 8, 2);
    op->conv2d_backward(nn, d->u2c, a->h1, p->up2_w, d->h1, g->up2_w, g->up2_b, 1, 8, 8, 8, 24, 5, 1, 2, 1);
    op->gelu_backward(nn, d->h1, a->u1p, d->u1p, 8 * 64);
    op->pixel_shuffle_backward(nn, d->u1p, d->u1c, 1, 8, 4, 4, 2);
    op->conv2d_backward(nn, d->u1c, a->h0, p->up1_w, d->h0, g->up1_w, g->up1_b, 1, 24, 4, 4, 32, 3, 1, 1, 1);
    op->gelu_backward(nn, d->h0, a->h0c, d->h0c, 24 * 16);
    op->conv2d_backward(nn, d->h0c, p->emb, p->stem_w, g->emb, g->stem_w, g->stem_b, 1, 16, 4, 4, 24, 1, 1, 0, 1);
}

/* relative L2 error of x against the reference values */
static double rel_err(const float *x, const Rec *r)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < r->n; i++) {
        double e = (double)x[i] - r->v[i];
        num += e * e;
        den += (double)r->v[i] * r->v[i];
    }
    return sqrt(num / (den > 0 ? den : 1e-30));
}

START_TEST(test_torch)
{
    char path[4096];
    const char *src = getenv("NVC_SRCDIR");
    snprintf(path, sizeof(path), "%s/tests/data/nn_torch_ref.bin", src ? src : ".");
    ck_assert_msg(load_ref(path), "%s missing", path);
    NvcNn *nn = NULL;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 2, NULL), 0);
    NvcArena pa = { 0 }, aa = { 0 };
    Params p, g;
    Acts a, d;
    params(&pa, &p);
    acts(&aa, &a);
    float *pbuf = nvc_nn_alloc(nn, pa.size), *gbuf = nvc_nn_alloc(nn, pa.size);
    float *abuf = nvc_nn_alloc(nn, aa.size), *dbuf = nvc_nn_alloc(nn, aa.size);
    ck_assert(pbuf && gbuf && abuf && dbuf);
    nvc_arena_bind(&pa, pbuf);
    params(&pa, &p);
    nvc_arena_bind(&pa, gbuf);
    params(&pa, &g);
    nvc_arena_bind(&aa, abuf);
    acts(&aa, &a);
    nvc_arena_bind(&aa, dbuf);
    acts(&aa, &d);
    ck_assert_int_eq(nvc_arena_check(&pa), 0);
    ck_assert_int_eq(nvc_arena_check(&aa), 0);

    /* weights by name, shapes checked against the file */
    for (int i = 0; i < pa.n; i++) {
        const NvcTensorInfo *t = &pa.t[i];
        const Rec *r = ref(strncmp(t->name, "input.", 6) ? "param.%s" : "%s", t->name);
        ck_assert_msg(r->n == t->numel && r->shape.ndim == t->shape.ndim, "%s: shape differs", t->name);
        memcpy(pbuf + t->offset, r->v, r->n * sizeof(float));
    }
    const float *target = ref("%s", "input.target")->v;

    forward(nn, &p, &a, target);
    backward(nn, &p, &a, &g, &d, target);
    ck_assert_int_eq(nvc_nn_error(nn), 0);

    double e = rel_err(a.out, ref("%s", "out.image"));
    fprintf(stderr, "%-20s relative error %.3g\n", "out.image", e);
    ck_assert_msg(e < 1e-5, "output differs from PyTorch: %g", e);
    ck_assert_msg(rel_err(a.yq, ref("%s", "out.latent")) == 0, "rounded latent differs");
    const char *terms[] = { "mse", "l1", "ssim", "bits" };
    float *vals[] = { a.mse, a.l1, a.ssim, a.bits };
    double total = a.mse[0] + 0.5 * a.l1[0] + 0.2 * (1 - a.ssim[0]) + 1e-3 * a.bits[0];
    for (int i = 0; i < 4; i++) {
        double r = ref("loss.%s", terms[i])->v[0];
        fprintf(stderr, "loss.%-15s nvc %.7g torch %.7g\n", terms[i], vals[i][0], r);
        /* float rounding of SSIM's variances differs by a few 1e-6 (both from the double value) */
        ck_assert_msg(fabs(vals[i][0] - r) <= 1e-5 * fmax(fabs(r), 1.0), "loss %s: %g vs %g", terms[i], vals[i][0], r);
    }
    ck_assert_double_eq_tol(total, ref("%s", "loss.total")->v[0], 1e-5);
    for (int i = 0; i < pa.n; i++) {
        const NvcTensorInfo *t = &pa.t[i];
        e = rel_err(gbuf + t->offset, ref("grad.%s", t->name));
        fprintf(stderr, "grad.%-15s relative error %.3g\n", t->name, e);
        ck_assert_msg(e < 1e-4, "gradient of %s differs from PyTorch: relative %g", t->name, e);
    }
    nvc_nn_release(nn, pbuf), nvc_nn_release(nn, gbuf), nvc_nn_release(nn, abuf), nvc_nn_release(nn, dbuf);
    nvc_arena_free(&pa), nvc_arena_free(&aa);
    nvc_nn_free(&nn);
    for (int i = 0; i < nrec; i++)
        free(recs[i].v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_torch");
    TCase *tc = tcase_create("torch");
    tcase_add_test(tc, test_torch);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
