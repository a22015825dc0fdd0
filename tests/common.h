/*
 * Shared helpers for the Check suites.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_COMMON_H
#define NVC_TESTS_COMMON_H

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvc/picture.h"

/* 1 when two pictures have the same parameters and the same samples in
 * every plane (rows compared up to the plane width: strides may differ). */
static inline int test_same_picture(const NvcPicture *a, const NvcPicture *b)
{
    if (memcmp(&a->p, &b->p, sizeof(a->p)))
        return 0;
    const int bytes = a->p.bpc > 8 ? 2 : 1;
    for (int i = 0; i < nvc_picture_planes(a->p.layout); i++) {
        int w, h;
        nvc_picture_plane_size(&a->p, i, &w, &h);
        for (int y = 0; y < h; y++)
            if (memcmp((const uint8_t *)a->data[i] + y * a->stride[i],
                       (const uint8_t *)b->data[i] + y * b->stride[i], (size_t)w * bytes))
                return 0;
    }
    return 1;
}

/* Path of a file in the shared test media (NVC_TEST_DATA), or NULL when the
 * media are absent. Static buffer: copy the result before the next call. */
static inline const char *test_data_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("NVC_TEST_DATA");
    if (!dir)
        dir = "../shared/data";
    snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* Exit status that makes automake count a test program as skipped. */
#define TEST_SKIP 77

/* 1 when every file of the NULL-terminated list is in the shared test media;
 * otherwise 0, after a line on stderr naming the first one missing and `what`
 * (the test or program that needs it). A checkout without ../shared/data then
 * skips the tests that read it instead of failing them. */
static inline int test_media(const char *what, const char *const *rel)
{
    for (; *rel; rel++)
        if (!test_data_path(*rel)) {
            fprintf(stderr, "SKIP %s: test media %s missing (../shared/data or NVC_TEST_DATA)\n",
                    what, *rel);
            return 0;
        }
    return 1;
}

/* A fresh temporary directory for a test's files (removed by the caller). */
static inline char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/nvc-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline void test_rmdir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    free(dir);
}

/* Run a suite; returns the process exit status for `make check`. */
static inline int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* NVC_TESTS_COMMON_H */
