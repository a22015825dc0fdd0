/*
 * Plain driver for the fuzz targets: feeds every file of the given files or
 * directories to LLVMFuzzerTestOneInput once. Without arguments it replays
 * $NVC_SRCDIR/tests/fuzz/corpus/<FUZZ_NAME> (how `make check` runs it).
 * Built with clang -fsanitize=fuzzer the targets use libFuzzer's own main
 * instead (tests/fuzz/run.sh).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME (the corpus folder) must be defined"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, sz = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + sz, 1, cap - sz, f)) > 0;) {
        sz += got;
        if (sz == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory on %s\n", path);
        return -1;
    }
    /* an exact-size copy, so reads past the end are caught by sanitizers */
    uint8_t *exact = malloc(sz ? sz : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, sz);
    free(buf);
    LLVMFuzzerTestOneInput(exact, sz);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs replayed, or -1. */
static long replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path) ? -1 : 1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!names[n])
            break;
        sprintf(names[n++], "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str); /* a stable order */
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        long r = replay_path(names[i]);
        count = r < 0 || count < 0 ? -1 : count + r;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        const char *src = getenv("NVC_SRCDIR");
        char path[4096];
        snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s", src ? src : ".", FUZZ_NAME);
        total = replay_path(path);
    }
    for (int i = 1; i < argc && total >= 0; i++) {
        long r = replay_path(argv[i]);
        total = r < 0 ? -1 : total + r;
    }
    if (total < 0)
        return 1;
    printf("replay %s: %ld inputs, no failure\n", FUZZ_NAME, total);
    return total > 0 ? 0 : 1;
}
