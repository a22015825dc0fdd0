/*
 * The CUDA build pipeline: a real kernel runs and agrees with the CPU.
 * Skipped (exit 77) on machines without a GPU.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include "nn/cuda/cuda.h"

START_TEST(test_axpy)
{
    enum { N = 100003 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    ck_assert(x && y);
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 97) * 0.25f;
        y[i] = (float)(i % 13);
    }
    ck_assert_int_eq(nvc_cuda_axpy_host(2.0f, x, y, N), 0);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq(y[i], (float)(i % 13) + 2.0f * ((float)(i % 97) * 0.25f));
    free(x);
    free(y);
}
END_TEST

int main(void)
{
    if (nvc_cuda_device_count() <= 0) {
        fprintf(stderr, "no CUDA device: skipped\n");
        return TEST_SKIP;
    }
    char name[256];
    nvc_cuda_device_name(name, sizeof(name));
    fprintf(stderr, "CUDA device: %s\n", name);
    Suite *s = suite_create("cuda");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, test_axpy);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
