/*
 * Running a PyTorch twin of a benchmark (bench/NAME_torch.py) on the same
 * threads: the first of $NVC_PYTHON, python3, /usr/bin/python3 that imports
 * torch runs `bench/SCRIPT_AND_ARGS` with OMP_NUM_THREADS set; the script
 * prints "KEY <ms>" and "torch <version> ...". Needs NVC_SRCDIR (the source
 * tree) defined at compile time.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_BENCH_TORCH_H
#define NVC_BENCH_TORCH_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The milliseconds the script reports after "key ", or NAN without PyTorch;
 * version: its "torch ..." line (empty without). */
static inline double bench_torch_ms(int threads, const char *script_and_args, const char *key, char *version,
                                    size_t vsz)
{
    const char *cands[] = { getenv("NVC_PYTHON"), "python3", "/usr/bin/python3" };
    char cmd[1024], line[256];
    const size_t kl = strlen(key);
    double ms = NAN;
    version[0] = 0;
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && isnan(ms); i++) {
        if (!cands[i])
            continue;
        snprintf(cmd, sizeof(cmd), "%s -c 'import torch' 2>/dev/null", cands[i]);
        if (system(cmd) != 0)
            continue;
        snprintf(cmd, sizeof(cmd), "OMP_NUM_THREADS=%d %s %s/bench/%s", threads, cands[i], NVC_SRCDIR,
                 script_and_args);
        FILE *p = popen(cmd, "r");
        if (!p)
            continue;
        while (fgets(line, sizeof(line), p)) {
            if (!strncmp(line, key, kl) && line[kl] == ' ')
                ms = atof(line + kl + 1);
            else if (!strncmp(line, "torch ", 6))
                snprintf(version, vsz, "%.*s", (int)strcspn(line, "\n"), line);
        }
        pclose(p);
    }
    return ms;
}

#endif
