/*
 * Determinism driver of the image codec's integer prior path
 * (tests/image_determinism.sh builds it with several compilers, flag sets
 * and thread counts): with the shipped model's integer networks it codes
 * fixed latents at three qualities, decodes them, checks that the decoder
 * reproduces the encoder's latent, and prints an FNV-1a hash of the model's
 * derived tables, every payload byte, the hyper-synthesis output and every
 * decoded value. The latents are exact binary fractions, so the encoder's
 * float symbol choice is exact under any flags too.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc/image_file.h"
#include "nvc/image_latent.h"

static uint64_t h = 0xcbf29ce484222325ull;

static void hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
}

static uint64_t s = 7;
static uint32_t rnd(void)
{
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(s >> 33);
}

#define CHECK(x)                                                                                                       \
    do {                                                                                                               \
        if (!(x)) {                                                                                                    \
            fprintf(stderr, "image_det: line %d: %s\n", __LINE__, #x);                                                 \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)

static uint8_t *read_all(const char *path, size_t *sz)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    CHECK(!fseek(f, 0, SEEK_END));
    long n = ftell(f);
    CHECK(n > 0 && !fseek(f, 0, SEEK_SET));
    uint8_t *buf = malloc((size_t)n);
    CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *sz = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    size_t sz;
    uint8_t *buf = read_all(argv[1], &sz);
    NvcImgModelFile f;
    CHECK(nvc_img_file_parse(&f, buf, sz, NULL) == 0);
    CHECK(f.cfg.prior == NVC_IMG_PRIOR_GMM);
    const NvcImgInt *ii = &f.ii;
    hash(ii->st.scale_q16, ii->st.n * sizeof(uint32_t));
    hash(ii->zsidx, (size_t)NVC_INT_QLEVELS * ii->Cz * sizeof(uint16_t));
    NvcCondTables ct;
    CHECK(nvc_img_latent_tables(ii, &ct) == 0);
    const NvcImgLatentDims d = { 16, 24, 4, 6 }; /* a 256 x 384 picture */
    const size_t ny = (size_t)ii->M * d.h4 * d.w4, nz = (size_t)ii->Cz * d.h6 * d.w6;
    float *y = malloc(ny * sizeof(float)), *z = malloc(nz * sizeof(float));
    int64_t *e8 = malloc(ny * sizeof(int64_t)), *d8 = malloc(ny * sizeof(int64_t));
    int32_t *hh = malloc((size_t)ii->P * d.h4 * d.w4 * sizeof(int32_t)), *zi = malloc(nz * sizeof(int32_t));
    CHECK(y && z && e8 && d8 && hh && zi);
    static const int qs[3] = { 0, 31, 63 };
    for (int t = 0; t < 3; t++) {
        const int spread = 64 * (1 + t * 3); /* larger latents at higher qualities */
        for (size_t i = 0; i < ny; i++)
            y[i] = (float)((int)(rnd() % (2u * spread + 1)) - spread) / 64.0f;
        for (size_t i = 0; i < nz; i++) {
            zi[i] = (int32_t)(rnd() % 9) - 4;
            z[i] = (float)zi[i] + (float)((int)(rnd() % 63) - 31) / 64.0f;
        }
        NvcByteWriter bw = { 0 };
        double bz, by;
        CHECK(nvc_img_latent_encode(ii, &ct, qs[t], y, z, &d, &bw, &bz, &by, e8) == 0);
        hash(bw.buf, bw.sz);
        NvcByteReader br;
        nvc_br_init(&br, bw.buf, bw.sz);
        CHECK(nvc_img_latent_decode(ii, &ct, qs[t], &br, &d, d8, NULL) == 0);
        CHECK(nvc_br_left(&br) == 0);
        CHECK(!memcmp(e8, d8, ny * sizeof(int64_t)));
        hash(d8, ny * sizeof(int64_t));
        CHECK(nvc_img_int_hyper(ii, zi, d.h6, d.w6, hh) == 0);
        hash(hh, (size_t)ii->P * d.h4 * d.w4 * sizeof(int32_t));
        printf("q %d: %zu bytes (%.0f bits ideal)\n", qs[t], bw.sz, bz + by);
        nvc_bw_free(&bw);
    }
    printf("integer %016llx\n", (unsigned long long)h);
    nvc_cond_tables_free(&ct);
    nvc_img_file_free(&f);
    free(buf);
    free(y);
    free(z);
    free(e8);
    free(d8);
    free(hh);
    free(zi);
    return 0;
}
