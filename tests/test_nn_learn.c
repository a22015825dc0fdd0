/*
 * Learning test: the small HNeRV-shaped decoder (tests/nn_model.h) fitted to
 * a 64x64 crop of a real frame (foreman, CIF, from the shared test media, or
 * the committed cisco sample) reaches a stated PSNR, and training gives the
 * same bits for 1 and 2 threads.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "tests/nn_model.h"

#define CROP 64
#define STEPS 500
/* Reached here (OpenBLAS, 2 threads): 35.4 dB on the foreman crop, 38.4 dB
 * on the cisco crop; the bound leaves room for other BLAS builds and
 * compilers (their float rounding takes another path). */
#define MIN_PSNR 33.0

typedef struct Y4m {
    int w, h;
    uint8_t *frame; /* I420 */
} Y4m;

/* First frame of an 8-bit 4:2:0 Y4M file (the frame I/O of codec/ is not
 * needed for this). */
static int y4m_read(const char *path, Y4m *y)
{
    FILE *f = fopen(path, "rb");
    char line[512];
    int ok = 0;
    if (!f)
        return 0;
    if (fgets(line, sizeof(line), f) && !strncmp(line, "YUV4MPEG2 ", 10)) {
        char *p = strstr(line, " W"), *q = strstr(line, " H"), *c = strstr(line, " C");
        y->w = p ? atoi(p + 2) : 0;
        y->h = q ? atoi(q + 2) : 0;
        ok = y->w > 0 && y->h > 0 && y->w % 2 == 0 && y->h % 2 == 0 && (!c || !strncmp(c + 2, "420", 3));
    }
    size_t sz = (size_t)y->w * y->h * 3 / 2;
    y->frame = ok ? malloc(sz) : NULL;
    ok = ok && y->frame && fgets(line, sizeof(line), f) && !strncmp(line, "FRAME", 5) && fread(y->frame, 1, sz, f) == sz;
    fclose(f);
    return ok;
}

/* target (1, 3, CROP, CROP) in [0, 1]: BT.601 limited range to RGB */
static void crop_rgb(const Y4m *y, int x0, int y0, float *t)
{
    const uint8_t *Y = y->frame, *U = Y + (size_t)y->w * y->h, *V = U + (size_t)y->w * y->h / 4;
    for (int r = 0; r < CROP; r++)
        for (int c = 0; c < CROP; c++) {
            int yy = r + y0, xx = c + x0;
            float l = 1.164f * (Y[(size_t)yy * y->w + xx] - 16);
            float u = U[(size_t)(yy / 2) * (y->w / 2) + xx / 2] - 128.0f, v = V[(size_t)(yy / 2) * (y->w / 2) + xx / 2] - 128.0f;
            float rgb[3] = { l + 1.596f * v, l - 0.392f * u - 0.813f * v, l + 2.017f * u };
            for (int k = 0; k < 3; k++)
                t[(size_t)k * CROP * CROP + r * CROP + c] = fminf(fmaxf(rgb[k], 0.0f), 255.0f) / 255.0f;
        }
}

static const HnConfig cfg = {
    .B = 1, .eh = 4, .ew = 4, .c0 = 32, .nblk = 4, .stride = { 2, 2, 2, 2 }, .reduce = 1.2f, .floor = 12,
};

static float fit(const float *target, int threads, int steps, float *params_out, size_t *np)
{
    NvcNn *nn = NULL;
    HnModel m;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL), 0);
    NvcLrSchedule sched = { .lr = 5e-3f, .lr_min = 0, .warmup = steps / 10, .total = steps };
    ck_assert_int_eq(hn_create(&m, nn, &cfg, sched, 2024), 0);
    ck_assert_int_eq(m.H, CROP);
    float loss = 0;
    for (int s = 0; s < steps; s++) {
        loss = hn_train_step(&m, nn, target);
        ck_assert_msg(isfinite(loss), "step %d: loss %g", s, loss);
    }
    /* the loss of the final parameters */
    hn_forward(&m, nn);
    nn->ops->mse_forward(nn, m.a.loss, m.a.out, target, 3 * CROP * CROP);
    loss = m.a.loss[0];
    if (params_out)
        memcpy(params_out, m.pbuf, m.params.size * sizeof(float));
    if (np)
        *np = m.params.size;
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    hn_free(&m, nn);
    nvc_nn_free(&nn);
    return loss;
}

static int load_target(float *t)
{
    Y4m y = { 0 };
    const char *p = test_data_path("video/foreman_cif_352x288_30fps_27f.y4m");
    if (p && y4m_read(p, &y) && y.w >= 80 && y.h >= 64) {
        crop_rgb(&y, 16, 0, t);
        free(y.frame);
        fprintf(stderr, "target: foreman (352x288) at (16, 0)\n");
        return 1;
    }
    free(y.frame);
    y.frame = NULL;
    char path[4096];
    const char *src = getenv("NVC_SRCDIR");
    snprintf(path, sizeof(path), "%s/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m", src ? src : ".");
    if (y4m_read(path, &y)) {
        crop_rgb(&y, 200, 64, t);
        free(y.frame);
        fprintf(stderr, "target: cisco_vt_2people (320x192) at (200, 64)\n");
        return 1;
    }
    free(y.frame);
    return 0;
}

static float target[3 * CROP * CROP];

START_TEST(test_fit)
{
    float mse = fit(target, 2, STEPS, NULL, NULL);
    double psnr = 10 * log10(1.0 / mse);
    fprintf(stderr, "fit: %d steps, MSE %.6g, PSNR %.2f dB (bound %.1f)\n", STEPS, mse, psnr, MIN_PSNR);
    ck_assert_msg(psnr >= MIN_PSNR, "PSNR %.2f dB below %.1f dB", psnr, MIN_PSNR);
}
END_TEST

/* The same training on 1 and 2 threads: identical parameters. */
START_TEST(test_deterministic)
{
    static float p1[1 << 20], p2[1 << 20];
    size_t n1, n2;
    float l1 = fit(target, 1, 40, p1, &n1), l2 = fit(target, 2, 40, p2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(n1 <= sizeof(p1) / sizeof(p1[0]));
    ck_assert_float_eq(l1, l2);
    ck_assert(!memcmp(p1, p2, n1 * sizeof(float)));
}
END_TEST

int main(void)
{
    if (!load_target(target)) {
        fprintf(stderr, "no test media: skipped\n");
        return TEST_SKIP;
    }
    Suite *s = suite_create("nn_learn");
    TCase *tc = tcase_create("learn");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_fit);
    tcase_add_test(tc, test_deterministic);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
